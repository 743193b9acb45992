//! The placement indexes never change a decision: with them, `choose` returns exactly the machine a
//! plain scan over every machine returns, through any sequence of allocations, releases,
//! availability and capacity changes and added machines.

use packing::{Cluster, Items, MachineId, Policy, ResourceTable, Schema, pack};
use proptest::prelude::*;

/// The policies whose decisions go through an index.
const INDEXED: [&str; 6] = [
    "best-fit",
    "worst-fit",
    "bfd-sum",
    "wfd-l2",
    "dot-product",
    "bfd-max",
];

/// The scan every indexed policy must agree with: each machine where the demand fits, in id
/// order, replacing the best so far only when its score is higher by more than 1e-12 (relative).
fn scan(policy: &Policy, c: &Cluster, demand: &[u64]) -> Option<MachineId> {
    let mut best: Option<(MachineId, f64)> = None;
    for m in c.machine_ids() {
        let Some(s) = policy.score(c, m, demand) else {
            continue;
        };
        if best.is_none_or(|(_, b)| s - b > 1e-12 * s.abs().max(b.abs())) {
            best = Some((m, s));
        }
    }
    best.map(|(m, _)| m)
}

#[derive(Clone, Debug)]
enum Op {
    Allocate(Vec<u64>),
    Release(usize),
    Toggle(usize),
    Grow(usize, u64),
    Add(Vec<u64>),
}

fn op(dims: usize, small: bool) -> impl Strategy<Value = Op> {
    // Small amounts make many exact ties (equal keys from different free vectors too).
    let amount = if small { 0u64..4 } else { 0u64..60 };
    let vector = proptest::collection::vec(amount, dims);
    prop_oneof![
        6 => vector.clone().prop_map(Op::Allocate),
        3 => any::<usize>().prop_map(Op::Release),
        1 => any::<usize>().prop_map(Op::Toggle),
        1 => (any::<usize>(), 0u64..40).prop_map(|(m, x)| Op::Grow(m, x)),
        1 => proptest::collection::vec(1u64..80, dims).prop_map(Op::Add),
    ]
}

fn case() -> impl Strategy<Value = (usize, bool, Vec<Vec<u64>>, Vec<Op>)> {
    (1usize..=3, any::<bool>()).prop_flat_map(|(dims, small)| {
        let caps = proptest::collection::vec(
            proptest::collection::vec(if small { 1u64..8 } else { 1u64..64 }, dims),
            1..24,
        );
        (
            Just(dims),
            Just(small),
            caps,
            proptest::collection::vec(op(dims, small), 1..80),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn indexed_decisions_equal_the_scan((dims, _small, caps, ops) in case()) {
        let names = ["cpus", "mem", "disk"];
        let schema = Schema::uniform(&names[..dims], 0).unwrap();
        for name in INDEXED {
            let policy = Policy::parse(name, &schema).unwrap();
            let mut c = Cluster::from_capacities(&ResourceTable::from_rows(dims, caps.iter().map(Vec::as_slice)));
            policy.prepare(&mut c);
            let mut placed: Vec<(MachineId, Vec<u64>)> = Vec::new();
            for op in &ops {
                match op {
                    Op::Allocate(demand) => {
                        let chosen = policy.choose(&c, demand);
                        prop_assert_eq!(chosen, scan(&policy, &c, demand), "{} on {:?}", name, demand);
                        if let Some(m) = chosen {
                            c.allocate(m, demand).unwrap();
                            placed.push((m, demand.clone()));
                        }
                    }
                    Op::Release(k) if !placed.is_empty() => {
                        let (m, demand) = placed.swap_remove(k % placed.len());
                        c.release(m, &demand).unwrap();
                    }
                    Op::Toggle(k) => {
                        let m = MachineId((k % c.len()) as u32);
                        c.set_available(m, !c.is_available(m));
                    }
                    Op::Grow(k, extra) => {
                        let m = MachineId((k % c.len()) as u32);
                        let bigger: Vec<u64> = c.capacity(m).iter().map(|x| x + extra).collect();
                        c.set_capacity(m, &bigger).unwrap();
                    }
                    Op::Add(capacity) => {
                        c.add_machine(capacity);
                    }
                    Op::Release(_) => {}
                }
            }
        }
    }
}

/// Offline packing with the index gives the packing of a scan, item for item (a larger case than
/// the property test's, with many identical machines: the case where keys tie most).
#[test]
fn offline_packing_with_indexes_equals_the_scan() {
    let schema = Schema::uniform(&["cpus", "mem"], 0).unwrap();
    let mut rng = 9u64;
    let mut next = || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        rng >> 33
    };
    let caps = ResourceTable::from_rows(2, (0..300).map(|i| if i % 3 == 0 { [64, 64] } else { [32, 48] }));
    let items = Items::new(ResourceTable::from_rows(
        2,
        (0..900).map(|_| [1 + next() % 16, 1 + next() % 16]),
    ));
    // Dot product packs bin by bin offline; its online decisions are covered above.
    for name in INDEXED.iter().filter(|&&n| n != "dot-product") {
        let policy = Policy::parse(name, &schema).unwrap();
        let mut indexed = Cluster::from_capacities(&caps);
        let packing = pack(&policy, &mut indexed, &items);
        // The same order, placed by the scan.
        let mut scanned = Cluster::from_capacities(&caps);
        for &i in packing.order() {
            let demand = items.demands().row(i as usize);
            let m = scan(&policy, &scanned, demand);
            assert_eq!(m, packing.assignment()[i as usize], "{name}, item {i}");
            if let Some(m) = m {
                scanned.allocate(m, demand).unwrap();
            }
        }
    }
}
