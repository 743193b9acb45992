//! An agent's resources in the emulated master: scalars in milli-units and port ranges, with the
//! ⊆, + and − that offers, filters and task launches need.

#![allow(deprecated)] // Resource.role: the real master still writes "role":"*" on every resource

use packing::Dim;
use packing::schema::dims;
use proto::v1::{Resource, resource, value};

/// The scalar resources the emulated master knows, in this order.
pub const SCALARS: [&str; 4] = [dims::CPUS, dims::MEM, dims::DISK, dims::GPUS];

/// Scalars (milli-units, in [`SCALARS`] order) and free ports as sorted disjoint inclusive ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Res {
    /// Milli-units per [`SCALARS`] entry.
    pub scalars: [u64; 4],
    /// Inclusive port ranges, sorted and disjoint.
    pub ports: Vec<(u64, u64)>,
}

/// Mesos scalars are kept in thousandths, rounded as the master rounds them: the one conversion,
/// `packing`'s [`Dim::from_mesos_scalar`] and [`Dim::to_mesos_scalar`], on a 3-decimal unit.
fn milli() -> &'static Dim {
    static MILLI: std::sync::OnceLock<Dim> = std::sync::OnceLock::new();
    MILLI.get_or_init(|| Dim::new("milli", Dim::MESOS_DECIMALS).expect("a valid dimension"))
}

/// A Mesos scalar in thousandths; `None` if it is negative or not a number.
pub fn to_milli(v: f64) -> Option<u64> {
    milli().from_mesos_scalar(v).ok()
}

fn normalise(mut r: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    r.retain(|(b, e)| b <= e);
    r.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(r.len());
    for (b, e) in r {
        match out.last_mut() {
            Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => out.push((b, e)),
        }
    }
    out
}

impl Res {
    /// Whether nothing is in it.
    pub fn is_empty(&self) -> bool {
        self.scalars.iter().all(|&x| x == 0) && self.ports.is_empty()
    }

    /// Reads Mesos resources; `Err` names the first one the emulator cannot take.
    pub fn from_mesos(list: &[Resource]) -> Result<Res, String> {
        let mut out = Res::default();
        let mut ports = Vec::new();
        for r in list {
            if r.name == "ports" {
                let ranges = r.ranges.as_ref().ok_or("ports without ranges")?;
                ports.extend(ranges.range.iter().map(|g| (g.begin, g.end)));
                continue;
            }
            let i = SCALARS
                .iter()
                .position(|s| *s == r.name)
                .ok_or_else(|| format!("unknown resource `{}`", r.name))?;
            let v = r
                .scalar
                .as_ref()
                .and_then(|s| to_milli(s.value))
                .ok_or_else(|| format!("`{}` needs a non-negative scalar", r.name))?;
            out.scalars[i] += v;
        }
        out.ports = normalise(ports);
        Ok(out)
    }

    /// As Mesos resources (unreserved, role `*`), with allocation info for MULTI_ROLE frameworks.
    pub fn to_mesos(&self, allocation_role: Option<&str>) -> Vec<Resource> {
        let alloc = allocation_role.map(|r| resource::AllocationInfo {
            role: Some(r.to_string()),
        });
        let mut out = Vec::new();
        if !self.ports.is_empty() {
            out.push(Resource {
                name: "ports".into(),
                r#type: value::Type::Ranges as i32,
                ranges: Some(value::Ranges {
                    range: self
                        .ports
                        .iter()
                        .map(|&(begin, end)| value::Range { begin, end })
                        .collect(),
                }),
                role: Some("*".into()),
                allocation_info: alloc.clone(),
                ..Default::default()
            });
        }
        for (name, &v) in SCALARS.iter().zip(&self.scalars) {
            if v > 0 {
                out.push(Resource {
                    name: (*name).into(),
                    r#type: value::Type::Scalar as i32,
                    scalar: Some(value::Scalar {
                        value: milli().to_mesos_scalar(v),
                    }),
                    role: Some("*".into()),
                    allocation_info: alloc.clone(),
                    ..Default::default()
                });
            }
        }
        out
    }

    /// Whether `self ⊆ other`.
    pub fn within(&self, other: &Res) -> bool {
        packing::refusal::Within::within(self, other)
    }

    /// `self + other`.
    pub fn add(&mut self, other: &Res) {
        for (a, b) in self.scalars.iter_mut().zip(&other.scalars) {
            *a += b;
        }
        let mut p = std::mem::take(&mut self.ports);
        p.extend_from_slice(&other.ports);
        self.ports = normalise(p);
    }

    /// `self − other`, or `None` (and no change) unless `other ⊆ self`.
    pub fn sub(&mut self, other: &Res) -> Option<()> {
        if !other.within(self) {
            return None;
        }
        for (a, b) in self.scalars.iter_mut().zip(&other.scalars) {
            *a -= b;
        }
        let mut out = Vec::new();
        for &(b, e) in &self.ports {
            let mut cur = b;
            for &(tb, te) in other.ports.iter().filter(|&&(tb, te)| te >= b && tb <= e) {
                if tb > cur {
                    out.push((cur, tb - 1));
                }
                cur = cur.max(te.saturating_add(1));
            }
            if cur <= e {
                out.push((cur, e));
            }
        }
        self.ports = normalise(out);
        Some(())
    }
}

impl packing::refusal::Within for Res {
    fn within(&self, other: &Res) -> bool {
        self.scalars.iter().zip(&other.scalars).all(|(a, b)| a <= b)
            && self
                .ports
                .iter()
                .all(|&(b, e)| other.ports.iter().any(|&(ob, oe)| ob <= b && e <= oe))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_subtract_and_merge() {
        let mut a = Res {
            scalars: [4000, 0, 0, 0],
            ports: vec![(31000, 32000)],
        };
        let b = Res {
            scalars: [1500, 0, 0, 0],
            ports: vec![(31000, 31001), (31500, 31500)],
        };
        a.sub(&b).unwrap();
        assert_eq!(a.scalars[0], 2500);
        assert_eq!(a.ports, vec![(31002, 31499), (31501, 32000)]);
        assert!(a.sub(&b).is_none(), "31000 is no longer there");
        a.add(&b);
        assert_eq!(a.ports, vec![(31000, 32000)]);
        assert_eq!(Res::from_mesos(&a.to_mesos(Some("*"))).unwrap(), a);
    }
}
