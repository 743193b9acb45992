//! The placement indexes never change a decision: with them, `choose` returns exactly the machine a
//! plain scan over every machine returns, through any sequence of allocations, releases,
//! availability and capacity changes and added machines.

use packing::{Cluster, Items, MachineId, Policy, ResourceTable, Schema, pack};
use proptest::prelude::*;

/// The policies whose decisions go through an index.
const INDEXED: [&str; 14] = [
    "best-fit",
    "worst-fit",
    "bfd-sum",
    "wfd-l2",
    "dot-product",
    "bfd-max",
    "l2-norm",
    "kube-least-allocated",
    "kube-most-allocated",
    "fenzo-cpu-mem",
    // Weighted sums prune with the sum of their parts' bounds: kube's usual profile, best and
    // worst fit beside parts whose bound is only their ceiling (so theirs decide), and one of
    // every scoring kind.
    "kube-least-allocated*1+kube-balanced-allocation*1",
    "best-fit+kube-balanced-allocation*0.5",
    "worst-fit*3+random",
    "best-fit*2+worst-fit+dot-product+l2-norm*0.5+kube-least-allocated+kube-most-allocated*3+kube-balanced-allocation+fenzo-cpu-mem+random",
];

/// Every indexed policy for `schema`, with its default weights, and the capacity-relative ones
/// also weighing every dimension (their defaults weigh only cpus and mem, so the bounds' other
/// dimensions are only exercised so).
fn indexed(schema: &Schema) -> Vec<Policy> {
    let mut policies = Vec::new();
    for name in INDEXED {
        let policy = Policy::parse(name, schema).unwrap();
        if (name.contains("kube") || name.contains("fenzo")) && schema.len() > 2 {
            let uniform = packing::Weights::uniform(schema.len());
            policies.push(policy.clone().with_weights(uniform).unwrap());
        }
        policies.push(policy);
    }
    policies
}

/// The scan every indexed policy must agree with, the scoring rule by its definition: the
/// highest score among machines where the demand fits, then the lowest id whose score is within
/// 1e-12 (relative) of it.
pub(crate) fn scan(policy: &Policy, c: &Cluster, demand: &[u64]) -> Option<MachineId> {
    let scores: Vec<(MachineId, f64)> = c
        .machine_ids()
        .filter_map(|m| policy.score(c, m, demand).map(|s| (m, s)))
        .collect();
    let highest = scores.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    let floor = if highest >= 0.0 {
        highest * (1.0 - 1e-12)
    } else {
        highest * (1.0 + 1e-12)
    };
    scores.iter().find(|s| s.1 >= floor).map(|s| s.0)
}

/// One step of a cluster's history.
#[derive(Clone, Debug)]
pub(crate) enum Op {
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

/// A number of dimensions, whether amounts are small (many ties), machine capacities, and a
/// history.
pub(crate) fn case(
    dims: std::ops::RangeInclusive<usize>,
    machines: std::ops::Range<usize>,
    steps: std::ops::Range<usize>,
) -> impl Strategy<Value = (usize, bool, Vec<Vec<u64>>, Vec<Op>)> {
    (dims, any::<bool>()).prop_flat_map(move |(dims, small)| {
        let caps = proptest::collection::vec(
            proptest::collection::vec(if small { 1u64..8 } else { 1u64..64 }, dims),
            machines.clone(),
        );
        (
            Just(dims),
            Just(small),
            caps,
            proptest::collection::vec(op(dims, small), steps.clone()),
        )
    })
}

/// Runs `ops` on a cluster of `caps` under every indexed policy, checking each decision against
/// the scan.
fn decisions_equal_the_scan(dims: usize, caps: &[Vec<u64>], ops: &[Op]) -> Result<(), TestCaseError> {
    let names = ["cpus", "mem", "disk", "gpus"];
    let schema = Schema::uniform(&names[..dims], 0).unwrap();
    for policy in indexed(&schema) {
        let name = policy.name();
        let mut c = Cluster::from_capacities(&ResourceTable::from_rows(dims, caps.iter().map(Vec::as_slice)));
        policy.prepare(&mut c);
        let mut placed: Vec<(MachineId, Vec<u64>)> = Vec::new();
        for op in ops {
            if let Op::Allocate(demand) = op {
                let chosen = policy.choose(&c, demand);
                prop_assert_eq!(chosen, scan(&policy, &c, demand), "{} on {:?}", name, demand);
            }
            apply(&mut c, op, &mut placed, |c, demand| policy.choose(c, demand));
        }
    }
    Ok(())
}

/// Carries out `op` on `c`, allocating where `choose` says; `placed` holds the allocations made.
pub(crate) fn apply(
    c: &mut Cluster,
    op: &Op,
    placed: &mut Vec<(MachineId, Vec<u64>)>,
    choose: impl Fn(&Cluster, &[u64]) -> Option<MachineId>,
) {
    match op {
        Op::Allocate(demand) => {
            if let Some(m) = choose(c, demand) {
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn indexed_decisions_equal_the_scan((dims, _small, caps, ops) in case(1..=3, 1..24, 1..80)) {
        decisions_equal_the_scan(dims, &caps, &ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Clusters large enough for k-d trees several levels deep, whose cells drift and are cut
    /// again as machines fill and empty.
    #[test]
    fn indexed_decisions_equal_the_scan_on_larger_clusters(
        (dims, _small, caps, ops) in case(2..=4, 40..400, 100..400)
    ) {
        decisions_equal_the_scan(dims, &caps, &ops)?;
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
    // Dot product and l2-norm pack bin by bin offline; their online decisions are covered above.
    for policy in indexed(&schema) {
        let name = policy.name();
        if name == "dot-product" || name == "l2-norm" {
            continue;
        }
        let mut indexed = Cluster::from_capacities(&caps);
        let packing = pack(&policy, &mut indexed, &items).unwrap();
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
