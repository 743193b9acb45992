//! Invariants every policy keeps, checked on random instances.

use proptest::collection::vec;
use proptest::prelude::*;

use packing::{
    Cluster, Fit, Items, Kind, MachineId, Policy, ResourceTable, Schema, Size, Weights, lower_bounds, pack,
    pack_opening,
};

use crate::reference::{self, Instance};

const NAMES: [&str; 5] = ["cpus", "mem", "disk", "gpus", "net"];

fn schema(dims: usize) -> Schema {
    Schema::uniform(&NAMES[..dims], 0).unwrap()
}

fn table(rows: &[Vec<u64>], dims: usize) -> ResourceTable {
    ResourceTable::from_rows(dims, rows)
}

fn policy(kind: Kind, inst: &Instance) -> Policy {
    let dims = inst.weights.len();
    let p = Policy::from_kind(kind, &schema(dims)).unwrap();
    if kind == Kind::SatyrFf {
        return p;
    }
    // satyr weighs only cpus, mem and disk (the first three dimensions here).
    let keep = |d: usize| !kind.is_satyr() || d < 3;
    let values: Vec<f64> = inst
        .weights
        .iter()
        .enumerate()
        .map(|(d, &w)| if keep(d) { w as f64 } else { 0.0 })
        .collect();
    match Weights::new(values) {
        Ok(w) => p.with_weights(w).unwrap(),
        Err(_) => p,
    }
}

fn crate_pack(kind: Kind, inst: &Instance) -> (Vec<Option<usize>>, Cluster, packing::Packing) {
    let dims = inst.weights.len();
    let mut cluster = Cluster::from_capacities(&table(&inst.caps, dims));
    let mut items = Items::new(table(&inst.items, dims));
    if let Some(g) = &inst.groups {
        items = items.with_groups(g.clone()).unwrap();
    }
    let packing = pack(&policy(kind, inst), &mut cluster, &items).unwrap();
    let assignment = packing
        .assignment()
        .iter()
        .map(|m| m.map(MachineId::index))
        .collect();
    (assignment, cluster, packing)
}

/// Capacities are mostly positive; now and then a machine lacks a resource entirely.
fn capacity(max: u64) -> impl Strategy<Value = u64> {
    prop_oneof![9 => 1..=max, 1 => Just(0)]
}

fn instance(
    max_dims: usize,
    max_machines: usize,
    max_items: usize,
    cap: u64,
) -> impl Strategy<Value = Instance> {
    (1..=max_dims, 1..=max_machines, 0..=max_items).prop_flat_map(move |(dims, machines, items)| {
        (
            vec(vec(capacity(cap), dims), machines),
            vec(vec(0..=cap, dims), items),
            vec(0u64..=3, dims).prop_filter("one weight above zero", |w| w.iter().any(|&x| x > 0)),
            prop::option::of(vec(0u32..3, items)),
        )
            .prop_map(|(caps, items, weights, groups)| Instance {
                caps,
                items,
                weights,
                groups,
            })
    })
}

fn deterministic_kinds() -> Vec<Kind> {
    Kind::all()
        .into_iter()
        .filter(|&k| !matches!(k, Kind::Random | Kind::FgdSim))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_policy_equals_its_reference_on_tiny_instances(inst in instance(3, 4, 7, 10)) {
        for kind in deterministic_kinds() {
            let (got, _, _) = crate_pack(kind, &inst);
            let want = reference::pack(kind, &inst);
            prop_assert_eq!(got, want, "{} on {:?}", kind, inst);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn packings_respect_capacity_and_account_for_every_item(inst in instance(5, 30, 60, 1000), seed in any::<u64>()) {
        let dims = inst.weights.len();
        let caps = table(&inst.caps, dims);
        let items = table(&inst.items, dims);
        let bounds = lower_bounds(&caps, &items);
        let mut kinds: Vec<Option<Kind>> = Kind::all().into_iter().map(Some).collect();
        kinds.push(None);
        for kind in kinds {
            let p = match kind {
                Some(k) => policy(k, &inst).with_seed(seed),
                None => Policy::parse("kube-least-allocated+random*0.5+best-fit*2", &schema(dims)).unwrap().with_seed(seed),
            };
            let mut cluster = Cluster::from_capacities(&caps);
            let mut batch = Items::new(items.clone());
            if let Some(g) = &inst.groups {
                batch = batch.with_groups(g.clone()).unwrap();
            }
            let packing = pack(&p, &mut cluster, &batch).unwrap();
            prop_assert!(cluster.check_invariants().is_ok(), "{}: {:?}", p, cluster.check_invariants());
            // Every item is processed exactly once.
            let mut order = packing.order().to_vec();
            order.sort_unstable();
            prop_assert_eq!(order, (0..items.len() as u32).collect::<Vec<_>>(), "{}", p);
            // What the packing says is on each machine is exactly what the cluster has allocated.
            let mut used = vec![vec![0u64; dims]; caps.len()];
            for (i, m) in packing.assignment().iter().enumerate() {
                if let Some(m) = m {
                    for (u, &x) in used[m.index()].iter_mut().zip(items.row(i)) {
                        *u += x;
                    }
                }
            }
            for m in cluster.machine_ids() {
                prop_assert_eq!(&used[m.index()], &cluster.used(m), "{} on {}", p, m);
            }
            // Unplaced items are reported, and only those.
            let unplaced = packing.unplaced();
            prop_assert!(unplaced.iter().all(|&i| packing.assignment()[i as usize].is_none()));
            prop_assert_eq!(unplaced.len(), packing.assignment().iter().filter(|m| m.is_none()).count());
            // If every placeable item was placed, no policy beats the lower bounds.
            let placeable = (0..items.len())
                .filter(|&i| caps.rows().any(|c| packing::fits(items.row(i), c)))
                .count();
            if placeable == items.len() - unplaced.len() {
                prop_assert!(packing.machines_used() as u64 >= bounds.best(), "{}: {} < {:?}", p, packing.machines_used(), bounds);
            }
        }
    }

    #[test]
    fn allocate_then_release_is_the_identity(
        caps in vec(vec(0u64..=100, 3), 1..20),
        ops in vec((0usize..20, vec(0u64..=60, 3)), 0..60),
        release_order in any::<u64>(),
    ) {
        let mut cluster = Cluster::from_capacities(&table(&caps, 3));
        let before: Vec<Vec<u64>> = cluster.machine_ids().map(|m| cluster.free(m).to_vec()).collect();
        let mut done = Vec::new();
        for (m, demand) in ops {
            let m = MachineId((m % caps.len()) as u32);
            let fit = cluster.fits(m, &demand);
            prop_assert_eq!(cluster.allocate(m, &demand).is_some(), fit);
            if fit {
                done.push((m, demand));
            }
            prop_assert!(cluster.check_invariants().is_ok());
        }
        // Release in a scrambled order: the end state does not depend on it.
        let start = (release_order as usize) % done.len().max(1);
        done.rotate_left(start);
        for (m, demand) in done.iter().rev() {
            prop_assert!(cluster.release(*m, demand).is_some());
            prop_assert!(cluster.check_invariants().is_ok());
        }
        let after: Vec<Vec<u64>> = cluster.machine_ids().map(|m| cluster.free(m).to_vec()).collect();
        prop_assert_eq!(before, after);
        // Every machine is idle again: nothing more can be released.
        for m in cluster.machine_ids() {
            prop_assert!(cluster.release(m, &[1, 1, 1]).is_none());
        }
    }

    #[test]
    fn decisions_depend_on_the_state_not_on_how_it_was_reached(
        caps in vec(vec(1u64..=50, 2), 1..12),
        demands in vec(vec(0u64..=20, 2), 0..20),
        task in vec(0u64..=30, 2),
    ) {
        let t = table(&caps, 2);
        let mut a = Cluster::from_capacities(&t);
        let mut b = Cluster::from_capacities(&t);
        let mut placed = Vec::new();
        for d in &demands {
            if let Some(m) = a.first_fit(d) {
                a.allocate(m, d).unwrap();
                placed.push((m, d.clone()));
            }
        }
        // The same allocations, applied in reverse order, give the same free amounts.
        for (m, d) in placed.iter().rev() {
            b.allocate(*m, d).unwrap();
        }
        // History-dependent by design: next-fit (cursor) and random (generation).
        let stateless = Kind::all().into_iter().filter(|k| {
            !matches!(k, Kind::Random | Kind::FgdSim | Kind::Fit(Fit::Next) | Kind::Decreasing(Fit::Next, _))
        });
        for kind in stateless {
            let p = Policy::from_kind(kind, &schema(2)).unwrap();
            prop_assert_eq!(p.choose(&a, &task), p.choose(&b, &task), "{}", kind);
        }
    }

    #[test]
    fn decreasing_sorts_are_stable(pool in vec(vec(0u64..=5, 3), 1..4), picks in vec(0usize..4, 0..30)) {
        // Items drawn from a small pool, so many are identical: identical items keep input order.
        let rows: Vec<Vec<u64>> = picks.iter().map(|&p| pool[p % pool.len()].clone()).collect();
        let caps = table(&[vec![100, 100, 100]], 3);
        let mut kinds = vec![Kind::SatyrFfd, Kind::SatyrBfd];
        for fit in Fit::ALL {
            kinds.extend(Size::ALL.map(|s| Kind::Decreasing(fit, s)));
        }
        for kind in kinds {
            let p = Policy::from_kind(kind, &schema(3)).unwrap();
            let mut cluster = Cluster::from_capacities(&caps);
            let order = pack(&p, &mut cluster, &Items::new(table(&rows, 3))).unwrap().order().to_vec();
            for (x, &i) in order.iter().enumerate() {
                for &j in &order[x + 1..] {
                    if rows[i as usize] == rows[j as usize] {
                        prop_assert!(i < j, "{}: item {} before {} though identical", kind, j, i);
                    }
                }
            }
        }
    }

    #[test]
    fn random_places_only_where_the_task_fits_and_is_reproducible(
        inst in instance(3, 10, 20, 50),
        seed in any::<u64>(),
    ) {
        let dims = inst.weights.len();
        let caps = table(&inst.caps, dims);
        let items = Items::new(table(&inst.items, dims));
        let p = Policy::from_kind(Kind::Random, &schema(dims)).unwrap().with_seed(seed);
        let mut a = Cluster::from_capacities(&caps);
        let mut b = Cluster::from_capacities(&caps);
        let first = pack(&p, &mut a, &items).unwrap();
        prop_assert_eq!(&first, &pack(&p, &mut b, &items).unwrap());
        prop_assert!(a.check_invariants().is_ok());
        // Random never refuses a fitting machine: it places exactly the items first fit places
        // when there is room for everything.
        let roomy = ResourceTable::from_rows(dims, vec![vec![1000; dims]; inst.items.len().max(1)]);
        let all = pack(&p, &mut Cluster::from_capacities(&roomy), &items).unwrap();
        prop_assert!(all.unplaced().is_empty());
    }
}

/// Exact optimum of a tiny one-dimensional instance by exhaustive search.
fn optimum(capacity: u64, sizes: &[u64]) -> u64 {
    fn go(i: usize, sizes: &[u64], loads: &mut Vec<u64>, capacity: u64, best: &mut usize) {
        if loads.len() >= *best {
            return;
        }
        if i == sizes.len() {
            *best = loads.len();
            return;
        }
        for b in 0..loads.len() {
            if loads[b] + sizes[i] <= capacity {
                loads[b] += sizes[i];
                go(i + 1, sizes, loads, capacity, best);
                loads[b] -= sizes[i];
            }
        }
        loads.push(sizes[i]);
        go(i + 1, sizes, loads, capacity, best);
        loads.pop();
    }
    let mut sorted = sizes.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut best = sorted.len();
    go(0, &sorted, &mut Vec::new(), capacity, &mut best);
    best as u64
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn bounds_and_ffd_against_the_exact_optimum(capacity in 1u64..=20, raw in vec(1u64..=20, 1..=9)) {
        let sizes: Vec<u64> = raw.iter().map(|&s| s.min(capacity)).collect();
        let opt = optimum(capacity, &sizes);
        let caps = ResourceTable::from_rows(1, vec![[capacity]; sizes.len()]);
        let items = ResourceTable::from_rows(1, sizes.iter().map(|&s| [s]));
        let b = lower_bounds(&caps, &items);
        prop_assert!(b.l1 <= opt && b.l2.unwrap() <= opt, "{:?} vs OPT {}", b, opt);
        prop_assert!(b.l1 <= b.l2.unwrap(), "L2 {:?} below L1", b);
        for kind in Kind::all() {
            let p = Policy::from_kind(kind, &Schema::uniform(&["cpus"], 0).unwrap()).unwrap();
            let packing = pack(&p, &mut Cluster::from_capacities(&caps), &Items::new(items.clone())).unwrap();
            prop_assert!(packing.unplaced().is_empty() || kind == Kind::SatyrMr, "{} left items", kind);
            if packing.unplaced().is_empty() {
                prop_assert!(packing.machines_used() as u64 >= opt, "{} beat the optimum", kind);
            }
        }
        // First fit decreasing: FFD(I) ≤ 11/9·OPT(I) + 6/9 (Dósa 2007, tight).
        let ffd = Policy::from_kind(Kind::Decreasing(Fit::First, Size::Sum), &Schema::uniform(&["size"], 0).unwrap()).unwrap();
        let used = pack(&ffd, &mut Cluster::from_capacities(&caps), &Items::new(items)).unwrap().machines_used() as u64;
        prop_assert!(9 * used <= 11 * opt + 6, "FFD used {} with OPT {}", used, opt);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Opening bins in order changes nothing for first and best fit (they never prefer an empty
    /// bin to an open one that fits), never beats the optimum, and worst fit then stops spreading.
    #[test]
    fn opening_bins_in_order_is_textbook_any_fit(capacity in 1u64..=20, raw in vec(1u64..=20, 1..=9)) {
        let sizes: Vec<u64> = raw.iter().map(|&s| s.min(capacity)).collect();
        let opt = optimum(capacity, &sizes);
        let caps = ResourceTable::from_rows(1, vec![[capacity]; sizes.len()]);
        let items = Items::new(ResourceTable::from_rows(1, sizes.iter().map(|&s| [s])));
        let schema = Schema::uniform(&["cpus"], 0).unwrap();
        for kind in Kind::all().into_iter().filter(|k| !k.is_satyr() && *k != Kind::Random) {
            let p = Policy::from_kind(kind, &schema).unwrap();
            let opening = pack_opening(&p, &mut Cluster::from_capacities(&caps), &items).unwrap();
            prop_assert!(opening.unplaced().is_empty(), "{} left items", kind);
            prop_assert!(opening.machines_used() as u64 >= opt, "{} beat the optimum", kind);
            let used: Vec<usize> = opening.assignment().iter().flatten().map(|m| m.index()).collect();
            let opened = used.iter().max().map_or(0, |&m| m + 1);
            prop_assert_eq!(opened, opening.machines_used(), "{} skipped a bin", kind);
            if matches!(kind, Kind::Fit(Fit::First | Fit::Best) | Kind::Decreasing(Fit::First | Fit::Best, _)) {
                let plain = pack(&p, &mut Cluster::from_capacities(&caps), &items).unwrap();
                prop_assert_eq!(plain.assignment(), opening.assignment(), "{}", kind);
            }
        }
        let wf = Policy::from_kind(Kind::Fit(Fit::Worst), &schema).unwrap();
        let spread = pack(&wf, &mut Cluster::from_capacities(&caps), &items).unwrap().machines_used();
        let opened = pack_opening(&wf, &mut Cluster::from_capacities(&caps), &items).unwrap().machines_used();
        prop_assert!(opened <= spread);
    }
}

#[test]
fn worst_fit_opens_a_bin_only_when_no_open_bin_fits() {
    let caps = ResourceTable::from_rows(1, [[10], [10], [10]]);
    let items = Items::new(ResourceTable::from_rows(1, [[5], [4], [3]]));
    let wf = Policy::from_kind(Kind::Fit(Fit::Worst), &Schema::uniform(&["cpus"], 0).unwrap()).unwrap();
    // As a scheduler: each item to the emptiest machine.
    assert_eq!(
        pack(&wf, &mut Cluster::from_capacities(&caps), &items)
            .unwrap()
            .machines_used(),
        3
    );
    // As bin packing: 5 and 4 share bin 0 (room 1 left), 3 opens bin 1.
    let p = pack_opening(&wf, &mut Cluster::from_capacities(&caps), &items).unwrap();
    let bins: Vec<usize> = p.assignment().iter().map(|m| m.unwrap().index()).collect();
    assert_eq!(bins, [0, 0, 1]);
}

#[test]
fn random_is_uniform_over_fitting_machines() {
    let caps = ResourceTable::from_rows(1, [[10], [10], [10], [10], [1]]);
    let mut cluster = Cluster::from_capacities(&caps);
    let p = Policy::from_kind(Kind::Random, &schema(1)).unwrap().with_seed(42);
    let mut counts = [0usize; 5];
    for _ in 0..4000 {
        let m = p.choose(&cluster, &[5]).unwrap();
        counts[m.index()] += 1;
        // Allocate and release to move the generation on.
        cluster.allocate(m, &[5]).unwrap();
        cluster.release(m, &[5]).unwrap();
    }
    assert_eq!(counts[4], 0, "machine 4 cannot hold the task");
    for &c in &counts[..4] {
        assert!((850..=1150).contains(&c), "{counts:?} is not uniform");
    }
}

#[test]
fn a_weighted_sum_adds_the_parts_scores() {
    let s = schema(2);
    // Machine 0 half used, machine 1 empty; the task takes a quarter of either.
    let mut c = Cluster::from_capacities(&ResourceTable::from_rows(2, [[100, 100], [100, 100]]));
    c.allocate(MachineId(0), &[50, 50]).unwrap();
    let task = [25, 25];
    let least = Policy::parse("kube-least-allocated", &s).unwrap();
    let most = Policy::parse("kube-most-allocated", &s).unwrap();
    assert_eq!(least.choose(&c, &task), Some(MachineId(1)));
    assert_eq!(most.choose(&c, &task), Some(MachineId(0)));
    // least scores 25 vs 75, most 75 vs 25: most*2 wins (25+150 > 75+50).
    let sum = Policy::parse("kube-least-allocated+kube-most-allocated*2", &s).unwrap();
    assert_eq!(sum.score(&c, MachineId(0), &task), Some(175.0));
    assert_eq!(sum.score(&c, MachineId(1), &task), Some(125.0));
    assert_eq!(sum.choose(&c, &task), Some(MachineId(0)));
    // A single part with a multiplier decides like the part alone.
    let single = Policy::parse("kube-least-allocated*3", &s).unwrap();
    assert_eq!(single.choose(&c, &task), least.choose(&c, &task));
}

#[test]
fn drf_serves_the_group_with_the_lowest_dominant_share() {
    // Group 0 wants cpu-heavy tasks, group 1 memory-heavy ones; both queue three tasks.
    let s = schema(2);
    let caps = ResourceTable::from_rows(2, [[9, 18]]);
    let items = ResourceTable::from_rows(2, [[3, 1], [3, 1], [3, 1], [1, 4], [1, 4], [1, 4]]);
    let batch = Items::new(items).with_groups(vec![0, 0, 0, 1, 1, 1]).unwrap();
    let p = Policy::from_kind(Kind::Drf, &s).unwrap();
    let packing = pack(&p, &mut Cluster::from_capacities(&caps), &batch).unwrap();
    // Group 0's tasks add 1/3 to its dominant (cpu) share, group 1's add 2/9 (memory). Shares:
    // 0|0 → group 0; 1/3|0 → 1; 1/3|2/9 → 1; 1/3|4/9 → 0; 2/3|4/9 → 1; 2/3|2/3 → 0, whose third
    // task no longer fits (cpu 9 of 9 used).
    assert_eq!(packing.order(), [0, 3, 4, 1, 5, 2]);
    assert_eq!(packing.unplaced(), vec![2]);
}

/// A GPU demand: none, a share of one device, or 1, 2 or 4 whole devices.
fn gpu_demand() -> impl Strategy<Value = packing::GpuDemand> {
    prop_oneof![
        Just(packing::GpuDemand::None),
        (1u32..1000).prop_map(packing::GpuDemand::Share),
        prop::sample::select(vec![1u32, 2, 4]).prop_map(packing::GpuDemand::Whole),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn gpu_devices_always_agree_with_the_gpu_dimension(
        gpus in vec(prop::sample::select(vec![0u32, 1, 2, 4, 8]), 1..8),
        ops in vec((gpu_demand(), 0u64..=16, any::<bool>()), 0..80),
        policy in prop::sample::select(vec!["first-fit", "best-fit", "worst-fit", "kube-most-allocated", "random"]),
    ) {
        // Machines of (cpus, gpus); tasks place with the policy and leave at random.
        let schema = packing::Schema::uniform(&["cpus", "gpus"], 3).unwrap();
        let mut c = Cluster::with_gpus(2, 1);
        for (i, &n) in gpus.iter().enumerate() {
            c.add_gpu_machine(&[16, 1000 * u64::from(n)], n, (i % 3) as u16).unwrap();
        }
        let p = Policy::parse(policy, &schema).unwrap();
        let mut running: Vec<(MachineId, Vec<u64>, packing::DeviceAlloc)> = Vec::new();
        for (gpu, cpus, leave) in ops {
            if leave && !running.is_empty() {
                let (m, demand, devices) = running.remove(cpus as usize % running.len());
                prop_assert!(c.release_request(m, &demand, devices).is_some());
            } else {
                let demand = vec![cpus, gpu.milli()];
                let request = packing::Request { demand: &demand, gpu, models: packing::ModelSet::ANY };
                if let Some(place) = p.place(&c, &request, |_| true) {
                    prop_assert!(c.fits_request(place.machine, &request));
                    prop_assert!(c.allocate_request(place.machine, &request, place.devices).is_some());
                    running.push((place.machine, demand, place.devices));
                } else {
                    // Nothing fits: no machine can hold the request at all.
                    prop_assert!(c.machine_ids().all(|m| !c.fits_request(m, &request)));
                }
            }
            prop_assert!(c.check_invariants().is_ok(), "{:?}", c.check_invariants());
        }
        for (m, demand, devices) in running {
            prop_assert!(c.release_request(m, &demand, devices).is_some());
        }
        prop_assert!(c.machine_ids().all(|m| c.is_idle(m) && c.devices(m).iter().all(|&f| f == 1000)));
    }

    #[test]
    fn place_respects_availability_models_and_eligibility(
        inst in instance(3, 10, 1, 20),
        down in vec(any::<bool>(), 10),
        banned in vec(any::<bool>(), 10),
        task in vec(0u64..=10, 3),
    ) {
        let dims = inst.weights.len();
        let mut c = Cluster::from_capacities(&table(&inst.caps, dims));
        for m in c.machine_ids() {
            if down[m.index()] {
                c.set_available(m, false);
            }
        }
        let demand = &task[..dims];
        let request = packing::Request::plain(demand);
        for kind in Kind::all() {
            let p = Policy::from_kind(kind, &schema(dims)).unwrap();
            let chosen = p.place(&c, &request, |m| !banned[m.index()]);
            if let Some(place) = chosen {
                let m = place.machine.index();
                prop_assert!(!down[m] && !banned[m], "{} chose {}", kind, m);
                prop_assert!(packing::fits(demand, c.free(place.machine)));
            } else if kind != Kind::SatyrMr {
                let any = c.machine_ids().any(|m| !down[m.index()] && !banned[m.index()] && packing::fits(demand, c.free(m)));
                prop_assert!(!any, "{} placed nothing though a machine was eligible", kind);
            }
        }
    }
}
