//! Offers into packing and back: a batch of offers becomes the policy's bins, one per (agent,
//! role) as Mesos allocates them; the policy's placements become one ACCEPT per bin whose LAUNCH
//! resources are carved from the offered resources (reservations and allocation info copied,
//! ports assigned from the offered ranges); bins that got nothing are declined.

use std::collections::BTreeMap;

use packing::{Cluster, Items, NoHooks, Policy, ResourceTable, pack_with};
use proto::v1::{AgentId, Filters, Offer, OfferId, Resource, TaskInfo, value};

use crate::tasks::{DIMENSIONS, schema_ref};

/// The offers of one (agent, role): what one ACCEPT may use together.
#[derive(Clone, Debug, PartialEq)]
pub struct Bin {
    /// The agent.
    pub agent: String,
    /// The role the offers are allocated to (`*` for a framework without roles).
    pub role: String,
    /// The offers, in the order they arrived.
    pub offers: Vec<Offer>,
    /// Offered amounts in [`DIMENSIONS`] order, milli-units (ports: milli-ports).
    pub free: Vec<u64>,
}

fn role_of(o: &Offer) -> String {
    o.allocation_info
        .as_ref()
        .and_then(|a| a.role.clone())
        .unwrap_or_else(|| "*".into())
}

/// The amount of one offered resource in the adapter's units, or 0 if it is not packed.
fn amount(r: &Resource) -> (Option<usize>, u64) {
    let Some(d) = DIMENSIONS.iter().position(|n| *n == r.name) else {
        return (None, 0);
    };
    // Revocable resources can vanish; packsim does not place on them.
    if r.revocable.is_some() {
        return (None, 0);
    }
    let v = if r.name == "ports" {
        r.ranges
            .as_ref()
            .map_or(0, |x| {
                x.range
                    .iter()
                    .map(|g| g.end.saturating_sub(g.begin) + 1)
                    .sum::<u64>()
            })
            .saturating_mul(1000)
    } else {
        let s = schema_ref();
        r.scalar
            .as_ref()
            .and_then(|x| s.dim(d).from_mesos_scalar(x.value).ok())
            .unwrap_or(0)
    };
    (Some(d), v)
}

/// Groups offers by (agent, role), in order of first appearance.
pub fn bins(offers: &[Offer]) -> Vec<Bin> {
    let mut out: Vec<Bin> = Vec::new();
    let mut at: BTreeMap<(String, String), usize> = BTreeMap::new();
    for o in offers {
        let key = (o.agent_id.value.clone(), role_of(o));
        let i = *at.entry(key.clone()).or_insert_with(|| {
            out.push(Bin {
                agent: key.0.clone(),
                role: key.1.clone(),
                offers: Vec::new(),
                free: vec![0; DIMENSIONS.len()],
            });
            out.len() - 1
        });
        for r in &o.resources {
            if let (Some(d), v) = amount(r) {
                out[i].free[d] = out[i].free[d].saturating_add(v);
            }
        }
        out[i].offers.push(o.clone());
    }
    out
}

/// Decides where `demands` go among `bins` with `policy`, exactly as `packing::pack_with` does for
/// the simulator: each bin is a machine whose capacity is `capacity(bin)` (at least its offer) and
/// whose free amount is the offer. Returns the bin index of each task, `None` if it waits; an
/// error when the policy cannot place batches ([`Policy::check_batch`]).
pub fn place(
    policy: &Policy,
    bins: &[Bin],
    capacity: impl Fn(&Bin) -> Vec<u64>,
    demands: &[Vec<u64>],
) -> Result<Vec<Option<usize>>, packing::Error> {
    // Checked before the empty case too, so a policy is refused whatever the offers.
    policy.check_batch()?;
    if bins.is_empty() || demands.is_empty() {
        return Ok(vec![None; demands.len()]);
    }
    let dims = DIMENSIONS.len();
    let mut cluster = Cluster::new(dims);
    for b in bins {
        let cap: Vec<u64> = capacity(b).iter().zip(&b.free).map(|(&c, &f)| c.max(f)).collect();
        let m = cluster.add_machine(&cap);
        let used: Vec<u64> = cap.iter().zip(&b.free).map(|(c, f)| c - f).collect();
        if used.iter().any(|&u| u > 0) {
            cluster
                .allocate(m, &used)
                .expect("used ≤ capacity by construction");
        }
    }
    let mut table = ResourceTable::with_capacity(dims, demands.len());
    for d in demands {
        table.push(d);
    }
    let packing = pack_with(policy, &mut cluster, &Items::new(table), &mut NoHooks, false)?;
    Ok(packing
        .assignment()
        .iter()
        .map(|m| m.map(packing::MachineId::index))
        .collect())
}

/// What is left of a bin's offered resources while tasks are carved from it.
#[derive(Clone, Debug)]
pub struct Pool {
    resources: Vec<Resource>,
}

impl Pool {
    /// All resources of the bin's offers.
    pub fn new(bin: &Bin) -> Pool {
        Pool {
            resources: bin
                .offers
                .iter()
                .flat_map(|o| o.resources.iter().cloned())
                .collect(),
        }
    }

    /// Takes `demand` (adapter units) from the pool as Mesos resources, copying each offered
    /// resource's role, reservations and allocation info; `None` if the pool lacks it (then the
    /// pool is unchanged).
    pub fn take(&mut self, demand: &[u64]) -> Option<Vec<Resource>> {
        let before = self.resources.clone();
        let mut out = Vec::new();
        for (d, &need) in demand.iter().enumerate() {
            if need == 0 {
                continue;
            }
            let name = DIMENSIONS[d];
            let mut need = need;
            for r in self
                .resources
                .iter_mut()
                .filter(|r| r.name == name && r.revocable.is_none())
            {
                if need == 0 {
                    break;
                }
                if name == "ports" {
                    let want = need.div_ceil(1000);
                    let (taken, count) = take_ports(r, want);
                    if count > 0 {
                        let mut piece = r.clone();
                        piece.ranges = Some(value::Ranges { range: taken });
                        out.push(piece);
                        need = need.saturating_sub(count * 1000);
                    }
                } else {
                    let (_, have) = amount(r);
                    let take = have.min(need);
                    if take == 0 {
                        continue;
                    }
                    let s = schema_ref();
                    let mut piece = r.clone();
                    piece.scalar = Some(value::Scalar {
                        value: s.dim(d).to_mesos_scalar(take),
                    });
                    out.push(piece);
                    let left = have - take;
                    r.scalar = Some(value::Scalar {
                        value: s.dim(d).to_mesos_scalar(left),
                    });
                    need -= take;
                }
            }
            if need > 0 {
                self.resources = before;
                return None;
            }
        }
        self.resources.retain(|r| {
            let (packed, left) = amount(r);
            packed.is_none() || left > 0
        });
        Some(out)
    }
}

/// Removes up to `want` ports from the front of `r`'s ranges; the taken ranges and their count.
fn take_ports(r: &mut Resource, want: u64) -> (Vec<value::Range>, u64) {
    let Some(ranges) = r.ranges.as_mut() else {
        return (Vec::new(), 0);
    };
    let mut taken = Vec::new();
    let mut count = 0;
    for g in &mut ranges.range {
        if count == want {
            break;
        }
        if g.end < g.begin {
            continue;
        }
        let n = (g.end - g.begin + 1).min(want - count);
        taken.push(value::Range {
            begin: g.begin,
            end: g.begin + n - 1,
        });
        g.begin += n;
        count += n;
    }
    ranges.range.retain(|g| g.begin <= g.end);
    (taken, count)
}

/// One ACCEPT call's payload: all the bin's offers, one LAUNCH of `tasks`, the accept filter.
pub fn accept(bin: &Bin, tasks: Vec<TaskInfo>, refuse_seconds: f64) -> proto::v1::scheduler::call::Accept {
    use proto::v1::offer::{Operation, operation};
    proto::v1::scheduler::call::Accept {
        offer_ids: bin.offers.iter().map(|o| o.id.clone()).collect(),
        operations: vec![Operation {
            r#type: Some(operation::Type::Launch as i32),
            launch: Some(operation::Launch { task_infos: tasks }),
            ..Default::default()
        }],
        filters: Some(Filters {
            refuse_seconds: Some(refuse_seconds),
        }),
    }
}

/// A TaskInfo for one attempt on a bin: the template with its Mesos task id, the agent and the
/// carved resources.
pub fn launch_info(template: &TaskInfo, mesos_id: &str, agent: &str, resources: Vec<Resource>) -> TaskInfo {
    let mut t = template.clone();
    t.task_id.value = mesos_id.to_string();
    t.agent_id = AgentId {
        value: agent.to_string(),
    };
    t.resources = resources;
    t
}

/// The offer ids of bins, for a DECLINE.
pub fn offer_ids<'a>(bins: impl IntoIterator<Item = &'a Bin>) -> Vec<OfferId> {
    bins.into_iter()
        .flat_map(|b| b.offers.iter().map(|o| o.id.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(id: &str, agent: &str, cpus: f64, mem: f64, ports: (u64, u64)) -> Offer {
        proto::build::offer(id, "f", agent, cpus, mem, ports)
    }

    #[test]
    fn offers_of_one_agent_and_role_are_one_bin() {
        let b = bins(&[
            offer("o1", "a", 1.0, 100.0, (1, 10)),
            offer("o2", "b", 2.0, 50.0, (1, 1)),
            offer("o3", "a", 0.5, 1.0, (20, 20)),
        ]);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].agent, "a");
        assert_eq!(b[0].free, vec![1500, 101_000, 0, 0, 11_000]);
        assert_eq!(offer_ids(&b[..1]).len(), 2);
    }

    #[test]
    fn carving_takes_exact_amounts_and_assigns_ports() {
        let b = bins(&[
            offer("o1", "a", 1.0, 100.0, (31000, 31001)),
            offer("o2", "a", 1.0, 100.0, (32000, 32000)),
        ]);
        let mut pool = Pool::new(&b[0]);
        let r = pool.take(&[1500, 10_000, 0, 0, 3000]).unwrap();
        let cpus: f64 = r
            .iter()
            .filter(|r| r.name == "cpus")
            .map(|r| r.scalar.unwrap().value)
            .sum();
        assert_eq!(cpus, 1.5);
        let ports: Vec<(u64, u64)> = r
            .iter()
            .filter(|r| r.name == "ports")
            .flat_map(|r| r.ranges.clone().unwrap().range)
            .map(|g| (g.begin, g.end))
            .collect();
        assert_eq!(ports, vec![(31000, 31001), (32000, 32000)]);
        assert!(r.iter().all(|r| r.allocation_info.is_some()));
        // 0.5 cpus left: a second 1-cpu task does not fit and the pool is unchanged.
        assert!(pool.take(&[1000, 0, 0, 0, 0]).is_none());
        assert!(pool.take(&[500, 190_000, 0, 0, 0]).is_some());
        assert!(pool.take(&[1, 0, 0, 0, 0]).is_none());
    }

    #[test]
    fn placement_is_the_packing_crates_decision() {
        let b = bins(&[
            offer("o1", "a", 4.0, 4096.0, (1, 10)),
            offer("o2", "b", 2.0, 4096.0, (1, 10)),
        ]);
        let s = crate::tasks::schema();
        let demands = vec![vec![1000, 1_000_000, 0, 0, 0], vec![2000, 1_000_000, 0, 0, 0]];
        let ff = place(
            &Policy::parse("first-fit", &s).unwrap(),
            &b,
            |b| b.free.clone(),
            &demands,
        )
        .unwrap();
        assert_eq!(ff, vec![Some(0), Some(0)]);
        let bf = place(
            &Policy::parse("best-fit", &s).unwrap(),
            &b,
            |b| b.free.clone(),
            &demands,
        )
        .unwrap();
        // Best fit puts the 1-cpu task on the smaller offer; the 2-cpu task no longer fits there.
        assert_eq!(bf, vec![Some(1), Some(0)]);
    }
}
