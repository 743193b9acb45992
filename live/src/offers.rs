//! Offers into packing and back: a batch of offers becomes the policy's bins, one per (agent,
//! role) as Mesos allocates them; the policy's placements become one ACCEPT per bin whose LAUNCH
//! resources are carved from the offered resources (reservations and allocation info copied,
//! ports assigned from the offered ranges); bins that got nothing are declined.
//!
//! A disk that is a persistent volume or has a source is never counted or carved as plain disk:
//! only a task that names it gets it, whole. Resources a task names a role for come only from
//! that role's reservations, and specific ports only from offers holding them.

use std::collections::BTreeMap;

use packing::{Cluster, Items, NoHooks, Policy, ResourceTable, Schema, pack_with};
use proto::v1::{AgentId, Filters, Offer, OfferId, Resource, TaskInfo, value};

use crate::tasks::{Want, reserved_for};

/// The offers of one (agent, role): what one ACCEPT may use together.
#[derive(Clone, Debug, PartialEq)]
pub struct Bin {
    /// The agent.
    pub agent: String,
    /// The role the offers are allocated to (`*` for a framework without roles).
    pub role: String,
    /// The offers, in the order they arrived.
    pub offers: Vec<Offer>,
    /// Offered amounts in the schema's order, milli-units (ports: milli-ports); named disks
    /// (volumes, disk sources) and revocable resources are not counted.
    pub free: Vec<u64>,
}

fn role_of(o: &Offer) -> String {
    o.allocation_info
        .as_ref()
        .and_then(|a| a.role.clone())
        .unwrap_or_else(|| "*".into())
}

/// The dimension of one offered resource in `schema` and its amount in the adapter's units, or
/// `None` if it is not packed (not in the schema, revocable, or a named disk).
fn amount(r: &Resource, schema: &Schema) -> Option<(usize, u64)> {
    let d = schema.index_of(&r.name)?;
    // Revocable resources can vanish; volumes and disk sources go only to tasks naming them.
    if r.revocable.is_some() || r.disk.is_some() {
        return None;
    }
    Some((d, size(r, schema.dim(d))))
}

/// A resource's size in milli-units (ports: milli-ports), whatever it is.
fn size(r: &Resource, dim: &packing::Dim) -> u64 {
    if let Some(x) = &r.ranges {
        x.range
            .iter()
            .map(|g| g.end.saturating_sub(g.begin) + 1)
            .sum::<u64>()
            .saturating_mul(1000)
    } else {
        r.scalar
            .as_ref()
            .and_then(|x| dim.from_mesos_scalar(x.value).ok())
            .unwrap_or(0)
    }
}

/// Groups offers by (agent, role), in order of first appearance, measuring them in `schema`.
pub fn bins(offers: &[Offer], schema: &Schema) -> Vec<Bin> {
    let mut out: Vec<Bin> = Vec::new();
    let mut at: BTreeMap<(String, String), usize> = BTreeMap::new();
    for o in offers {
        let key = (o.agent_id.value.clone(), role_of(o));
        let i = *at.entry(key.clone()).or_insert_with(|| {
            out.push(Bin {
                agent: key.0.clone(),
                role: key.1.clone(),
                offers: Vec::new(),
                free: vec![0; schema.len()],
            });
            out.len() - 1
        });
        for r in &o.resources {
            if let Some((d, v)) = amount(r, schema) {
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
    let dims = bins[0].free.len();
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

/// What a task got from a pool: its LAUNCH resources and the ports among them.
#[derive(Clone, Debug, PartialEq)]
pub struct Carved {
    /// The resources, each a piece of an offered one (role, reservations, disk and allocation
    /// info copied).
    pub resources: Vec<Resource>,
    /// The ports, in the order the task asked for them.
    pub ports: Vec<u64>,
}

/// Whether offered resource `r` can give (part of) `w`.
fn matches(r: &Resource, w: &Want) -> bool {
    r.name == w.name
        && r.revocable.is_none()
        // A named disk only for the task naming it (the volume by id, a source whole), and never
        // as plain disk.
        && match (&w.disk, &r.disk) {
            (None, None) => true,
            (Some(want), Some(have)) => match (&want.persistence, &have.persistence) {
                (Some(a), Some(b)) => a.id == b.id,
                (None, None) => want.source.is_some() && want.source == have.source,
                _ => false,
            },
            _ => false,
        }
        && (w.role.is_none() || reserved_for(r) == w.role)
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

    /// Takes what `wants` ask (in `schema`'s units) from the pool, the exact wants first;
    /// `None` if the pool lacks any of it (then the pool is unchanged).
    pub fn take(&mut self, wants: &[Want], schema: &Schema) -> Option<Carved> {
        let before = self.resources.clone();
        let mut out = Carved {
            resources: Vec::new(),
            ports: Vec::new(),
        };
        let mut order: Vec<&Want> = wants.iter().filter(|w| !w.is_plain()).collect();
        order.extend(wants.iter().filter(|w| w.is_plain()));
        for w in order {
            if !self.take_one(w, schema, &mut out) {
                self.resources = before;
                return None;
            }
        }
        self.resources.retain(|r| {
            schema
                .index_of(&r.name)
                .is_none_or(|d| size(r, schema.dim(d)) > 0)
        });
        Some(out)
    }

    fn take_one(&mut self, w: &Want, schema: &Schema, out: &mut Carved) -> bool {
        if w.amount == 0 {
            return true;
        }
        let Some(d) = schema.index_of(&w.name) else {
            return false;
        };
        let dim = schema.dim(d);
        let candidates = self.resources.iter_mut().filter(|r| matches(r, w));
        if w.disk.is_some() {
            // A volume or a disk source is used whole, as Mesos requires.
            for r in candidates {
                if size(r, dim) > 0 {
                    out.resources.push(r.clone());
                    r.scalar = Some(value::Scalar { value: 0.0 });
                    return true;
                }
            }
            return false;
        }
        if let Some(exact) = &w.ports {
            let mut candidates: Vec<&mut Resource> = candidates.collect();
            for &(begin, end) in exact {
                let Some(r) = candidates.iter_mut().find(|r| holds(r, begin, end)) else {
                    return false;
                };
                cut_ports(r, begin, end);
                let mut piece = (**r).clone();
                piece.ranges = Some(value::Ranges {
                    range: vec![value::Range { begin, end }],
                });
                out.resources.push(piece);
                out.ports.extend(begin..=end);
            }
            return true;
        }
        let mut need = w.amount;
        for r in candidates {
            if need == 0 {
                break;
            }
            if r.ranges.is_some() {
                let (taken, count) = take_ports(r, need.div_ceil(1000));
                if count > 0 {
                    out.ports.extend(taken.iter().flat_map(|g| g.begin..=g.end));
                    let mut piece = r.clone();
                    piece.ranges = Some(value::Ranges { range: taken });
                    out.resources.push(piece);
                    need = need.saturating_sub(count * 1000);
                }
            } else {
                let have = size(r, dim);
                let take = have.min(need);
                if take == 0 {
                    continue;
                }
                let mut piece = r.clone();
                piece.scalar = Some(value::Scalar {
                    value: dim.to_mesos_scalar(take),
                });
                out.resources.push(piece);
                r.scalar = Some(value::Scalar {
                    value: dim.to_mesos_scalar(have - take),
                });
                need -= take;
            }
        }
        need == 0
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

/// Whether `r`'s ranges hold every port of `begin..=end`.
fn holds(r: &Resource, begin: u64, end: u64) -> bool {
    r.ranges
        .as_ref()
        .is_some_and(|x| x.range.iter().any(|g| g.begin <= begin && end <= g.end))
}

/// Removes `begin..=end` (held by one of `r`'s ranges) from `r`.
fn cut_ports(r: &mut Resource, begin: u64, end: u64) {
    let Some(x) = r.ranges.as_mut() else { return };
    let mut out = Vec::with_capacity(x.range.len() + 1);
    for g in &x.range {
        if g.begin <= begin && end <= g.end {
            if g.begin < begin {
                out.push(value::Range {
                    begin: g.begin,
                    end: begin - 1,
                });
            }
            if end < g.end {
                out.push(value::Range {
                    begin: end + 1,
                    end: g.end,
                });
            }
        } else {
            out.push(*g);
        }
    }
    x.range = out;
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
/// carved resources. A command task with ports is told them as Marathon tells its tasks:
/// `PORT0`, `PORT1`, ..., `PORT` (the first) and `PORTS` (all, comma separated).
pub fn launch_info(template: &TaskInfo, mesos_id: &str, agent: &str, carved: Carved) -> TaskInfo {
    use proto::v1::environment::Variable;
    let mut t = template.clone();
    t.task_id.value = mesos_id.to_string();
    t.agent_id = AgentId {
        value: agent.to_string(),
    };
    t.resources = carved.resources;
    if let (Some(cmd), Some(first)) = (t.command.as_mut(), carved.ports.first()) {
        let env = cmd.environment.get_or_insert_with(Default::default);
        let var = |name: String, value: String| Variable {
            name,
            value: Some(value),
            ..Variable::default()
        };
        for (k, p) in carved.ports.iter().enumerate() {
            env.variables.push(var(format!("PORT{k}"), p.to_string()));
        }
        env.variables.push(var("PORT".into(), first.to_string()));
        let all: Vec<String> = carved.ports.iter().map(u64::to_string).collect();
        env.variables.push(var("PORTS".into(), all.join(",")));
    }
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
    use crate::tasks::{TaskSpec, parse_task_list, schema};

    fn offer(id: &str, agent: &str, cpus: f64, mem: f64, ports: (u64, u64)) -> Offer {
        proto::build::offer(id, "f", agent, cpus, mem, ports)
    }

    /// A task asking for `resources` (Mesos JSON).
    fn task(resources: &str) -> TaskSpec {
        let list = format!(
            r#"{{"tasks":[{{"name":"t","task_id":{{"value":"t"}},"command":{{"value":"true"}},"resources":{resources}}}]}}"#
        );
        parse_task_list(&list).unwrap().remove(0)
    }

    fn amounts(r: &[Resource], name: &str) -> f64 {
        r.iter()
            .filter(|r| r.name == name)
            .map(|r| r.scalar.unwrap().value)
            .sum()
    }

    #[test]
    fn offers_of_one_agent_and_role_are_one_bin() {
        let b = bins(
            &[
                offer("o1", "a", 1.0, 100.0, (1, 10)),
                offer("o2", "b", 2.0, 50.0, (1, 1)),
                offer("o3", "a", 0.5, 1.0, (20, 20)),
            ],
            &schema(),
        );
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].agent, "a");
        assert_eq!(b[0].free, vec![1500, 101_000, 0, 0, 11_000]);
        assert_eq!(offer_ids(&b[..1]).len(), 2);
    }

    #[test]
    fn carving_takes_exact_amounts_and_assigns_ports() {
        let s = schema();
        let b = bins(
            &[
                offer("o1", "a", 1.0, 100.0, (31000, 31001)),
                offer("o2", "a", 1.0, 100.0, (32000, 32000)),
            ],
            &s,
        );
        let mut pool = Pool::new(&b[0]);
        let t = task(
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1.5}},{"name":"mem","type":"SCALAR","scalar":{"value":10}},
                {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":0,"end":2}]}}]"#,
        );
        let c = pool.take(&t.wants, &s).unwrap();
        assert_eq!(amounts(&c.resources, "cpus"), 1.5);
        assert_eq!(c.ports, vec![31000, 31001, 32000]);
        assert!(c.resources.iter().all(|r| r.allocation_info.is_some()));
        // 0.5 cpus left: a second 1-cpu task does not fit and the pool is unchanged.
        let one = task(r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]"#);
        assert!(pool.take(&one.wants, &s).is_none());
        let half = task(
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":0.5}},{"name":"mem","type":"SCALAR","scalar":{"value":190}}]"#,
        );
        assert!(pool.take(&half.wants, &s).is_some());
        let tiny = task(r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":0.001}}]"#);
        assert!(pool.take(&tiny.wants, &s).is_none());
    }

    #[test]
    fn specific_ports_are_those_ports_and_are_told_to_the_task() {
        let s = schema();
        let b = bins(&[offer("o1", "a", 4.0, 100.0, (31000, 32000))], &s);
        let mut pool = Pool::new(&b[0]);
        let t = task(
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1}},
                {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31500,"end":31500},{"begin":31777,"end":31778}]}}]"#,
        );
        let c = pool.take(&t.wants, &s).unwrap();
        assert_eq!(c.ports, vec![31500, 31777, 31778]);
        // Taken: a second task asking for 31500 gets nothing.
        assert!(pool.take(&t.wants, &s).is_none());
        let info = launch_info(&t.info, "t", "a", c);
        let env: Vec<(String, String)> = info
            .command
            .unwrap()
            .environment
            .unwrap()
            .variables
            .into_iter()
            .map(|v| (v.name, v.value.unwrap()))
            .collect();
        assert!(env.contains(&("PORT0".into(), "31500".into())));
        assert!(env.contains(&("PORT2".into(), "31778".into())));
        assert!(env.contains(&("PORTS".into(), "31500,31777,31778".into())));
        // Ports the offer does not hold: no.
        let far =
            task(r#"[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":40000,"end":40000}]}}]"#);
        assert!(pool.take(&far.wants, &s).is_none());
    }

    /// An offer with 4 cpus and 2,000 MB of plain disk, and a 500 MB persistent volume `v1` and
    /// 2 cpus reserved for role `test`.
    fn offer_with_volume() -> Offer {
        let mut o = offer("o1", "a", 4.0, 1000.0, (31000, 31010));
        let reserved = |mut r: Resource| {
            r.reservations = vec![proto::v1::resource::ReservationInfo {
                r#type: Some(2),
                role: Some("test".into()),
                ..Default::default()
            }];
            r
        };
        o.resources.push(crate::tasks::scalar("disk", 2000.0));
        o.resources.push(reserved(crate::tasks::scalar("cpus", 2.0)));
        let mut volume = reserved(crate::tasks::scalar("disk", 500.0));
        volume.disk = Some(proto::v1::resource::DiskInfo {
            persistence: Some(proto::v1::resource::disk_info::Persistence {
                id: "v1".into(),
                principal: None,
            }),
            ..Default::default()
        });
        o.resources.push(volume);
        o
    }

    #[test]
    fn a_volume_is_never_carved_as_plain_disk_and_goes_whole_to_the_task_naming_it() {
        let s = schema();
        let b = bins(&[offer_with_volume()], &s);
        assert_eq!(b[0].free[2], 2_000_000, "the volume is not free disk");
        let mut pool = Pool::new(&b[0]);
        // 2,100 MB of plain disk: more than the plain disk, less than plain + volume. No.
        let big = task(r#"[{"name":"disk","type":"SCALAR","scalar":{"value":2100}}]"#);
        assert!(pool.take(&big.wants, &s).is_none());
        let plain = task(r#"[{"name":"disk","type":"SCALAR","scalar":{"value":2000}}]"#);
        let c = pool.take(&plain.wants, &s).unwrap();
        assert!(c.resources.iter().all(|r| r.disk.is_none()));
        // The task naming the volume gets it, whole, with its reservation.
        let named = task(
            r#"[{"name":"disk","type":"SCALAR","scalar":{"value":500},
                 "reservations":[{"type":"DYNAMIC","role":"test"}],
                 "disk":{"persistence":{"id":"v1"},"volume":{"mode":"RW","container_path":"data"}}}]"#,
        );
        assert!(named.is_exact());
        let c = pool.take(&named.wants, &s).unwrap();
        assert_eq!(c.resources.len(), 1);
        assert_eq!(
            c.resources[0]
                .disk
                .as_ref()
                .unwrap()
                .persistence
                .as_ref()
                .unwrap()
                .id,
            "v1"
        );
        assert_eq!(amounts(&c.resources, "disk"), 500.0);
        assert!(pool.take(&named.wants, &s).is_none(), "used once");
    }

    #[test]
    fn a_resource_named_for_a_role_comes_only_from_its_reservation() {
        let s = schema();
        let b = bins(&[offer_with_volume()], &s);
        let mut pool = Pool::new(&b[0]);
        let t = task(r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1.5},"role":"test"}]"#);
        let c = pool.take(&t.wants, &s).unwrap();
        assert_eq!(
            crate::tasks::reserved_for(&c.resources[0]).as_deref(),
            Some("test")
        );
        // 0.5 reserved cpus left: 1 more reserved cpu is not there, although 4 unreserved are.
        let more = task(r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"test"}]"#);
        assert!(pool.take(&more.wants, &s).is_none());
    }

    #[test]
    fn custom_scalar_resources_are_packed_by_name() {
        let s = crate::tasks::schema_with(&["fpgas".into()]).unwrap();
        let mut o = offer("o1", "a", 4.0, 100.0, (1, 2));
        o.resources.push(crate::tasks::scalar("fpgas", 2.0));
        let b = bins(&[o], &s);
        assert_eq!(b[0].free[5], 2000);
        let mut pool = Pool::new(&b[0]);
        let t = task(r#"[{"name":"fpgas","type":"SCALAR","scalar":{"value":1.5}}]"#);
        assert_eq!(amounts(&pool.take(&t.wants, &s).unwrap().resources, "fpgas"), 1.5);
        assert!(pool.take(&t.wants, &s).is_none());
    }

    #[test]
    fn placement_is_the_packing_crates_decision() {
        let s = schema();
        let b = bins(
            &[
                offer("o1", "a", 4.0, 4096.0, (1, 10)),
                offer("o2", "b", 2.0, 4096.0, (1, 10)),
            ],
            &s,
        );
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
