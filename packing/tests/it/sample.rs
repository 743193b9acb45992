//! Sampling (`@sample=`) changes decisions only as documented: a sample that holds every machine
//! decides exactly as the policy without one, and a sample of `n` machines picks one that at
//! most `fitting − n` machines beat.

use packing::{Cluster, MachineId, Policy, ResourceTable, Sample, Schema};
use proptest::prelude::*;

use crate::indexes::{Op, apply, case, scan};

/// Every policy that can sample, one of each family of scores.
const SCORING: [&str; 9] = [
    "best-fit",
    "worst-fit",
    "bfd-sum",
    "dot-product",
    "l2-norm",
    "kube-balanced-allocation",
    "fenzo-cpu-mem",
    "random",
    "kube-least-allocated*1+kube-balanced-allocation*1",
];

fn policies(schema: &Schema, sample: Sample) -> Vec<(Policy, Policy)> {
    SCORING
        .iter()
        .map(|name| {
            let exact = Policy::parse(name, schema).unwrap().with_seed(3);
            let sampled = exact.clone().with_sample(Some(sample)).unwrap();
            (exact, sampled)
        })
        .collect()
}

fn cluster(dims: usize, caps: &[Vec<u64>]) -> Cluster {
    Cluster::from_capacities(&ResourceTable::from_rows(dims, caps.iter().map(Vec::as_slice)))
}

fn schema(dims: usize) -> Schema {
    Schema::uniform(&["cpus", "mem", "disk"][..dims], 0).unwrap()
}

/// Machines scoring more than `chosen`'s score beyond float noise, and the machines that fit.
fn beaten_by(policy: &Policy, c: &Cluster, demand: &[u64], chosen: MachineId) -> (usize, usize) {
    let score = policy.score(c, chosen, demand).expect("the chosen machine fits");
    let scores: Vec<f64> = c
        .machine_ids()
        .filter_map(|m| policy.score(c, m, demand))
        .collect();
    let better = scores
        .iter()
        .filter(|&&s| s - score > 1e-12 * s.abs().max(score.abs()))
        .count();
    (better, scores.len())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    #[test]
    fn a_sample_holding_every_machine_decides_as_without_one(
        (dims, _small, caps, ops) in case(1..=3, 1..30, 1..60)
    ) {
        // More machines than the cluster ever has (it grows by at most the history's length).
        let all = Sample::Machines(100);
        for (exact, sampled) in policies(&schema(dims), all) {
            let mut c = cluster(dims, &caps);
            sampled.prepare(&mut c);
            let mut placed = Vec::new();
            for op in &ops {
                if let Op::Allocate(demand) = op {
                    prop_assert_eq!(
                        sampled.choose(&c, demand),
                        scan(&exact, &c, demand),
                        "{} on {:?}", sampled.name(), demand
                    );
                }
                apply(&mut c, op, &mut placed, |c, d| sampled.choose(c, d));
            }
        }
    }

    #[test]
    fn a_sample_of_n_machines_is_beaten_by_at_most_the_rest(
        (dims, _small, caps, ops) in case(1..=3, 2..60, 1..80),
        n in 1u32..6,
    ) {
        for (_, sampled) in policies(&schema(dims), Sample::Machines(n)) {
            let mut c = cluster(dims, &caps);
            let mut placed = Vec::new();
            for op in &ops {
                if let Op::Allocate(demand) = op {
                    let chosen = sampled.choose(&c, demand);
                    // The same state and seed give the same decision.
                    prop_assert_eq!(chosen, sampled.choose(&c, demand));
                    match chosen {
                        Some(m) => {
                            let (better, fitting) = beaten_by(&sampled, &c, demand, m);
                            prop_assert!(
                                better <= fitting.saturating_sub(n as usize),
                                "{}: {} of {} fitting machines beat {}", sampled.name(), better, fitting, m
                            );
                        }
                        None => prop_assert_eq!(c.first_fit(demand), None),
                    }
                }
                apply(&mut c, op, &mut placed, |c, d| sampled.choose(c, d));
            }
        }
    }
}

/// A sample of 2 out of 1,000 machines does not keep finding the best machine: the option changes
/// decisions, so it must be asked for. Without it, the decision is the exact one.
#[test]
fn small_samples_change_decisions_only_when_asked_for() {
    let schema = schema(2);
    let caps: Vec<Vec<u64>> = (0..1_000u64)
        .map(|i| vec![100 + (i * 7919) % 900, 100 + (i * 104_729) % 900])
        .collect();
    let mut c = cluster(2, &caps);
    let exact = Policy::parse("best-fit", &schema).unwrap();
    let sampled = Policy::parse("best-fit@sample=2", &schema).unwrap();
    assert_eq!(sampled.sample(), Some(Sample::Machines(2)));
    let mut differ = 0;
    for k in 0..200u64 {
        let demand = [1 + k % 50, 1 + (k * 13) % 50];
        let best = exact.choose(&c, &demand);
        assert_eq!(best, scan(&exact, &c, &demand));
        let chosen = sampled.choose(&c, &demand).unwrap();
        differ += usize::from(Some(chosen) != best);
        // Allocate somewhere so the state, and the sample's start, changes.
        c.allocate(chosen, &demand).unwrap();
    }
    assert!(
        differ > 150,
        "only {differ} of 200 decisions differ from best fit's"
    );
}

#[test]
fn sampling_is_named_in_the_spec_and_only_for_scoring_policies() {
    let schema = schema(2);
    for spec in [
        "kube-balanced-allocation@sample=kube",
        "random@sample=10%",
        "best-fit@sample=2",
        "kube-least-allocated*1+kube-balanced-allocation*2@sample=100",
    ] {
        let policy = Policy::parse(spec, &schema).unwrap();
        assert_eq!(policy.name(), spec);
        assert_eq!(Policy::parse(&policy.name(), &schema).unwrap(), policy);
    }
    for (spec, complaint) in [
        ("first-fit@sample=2", "does not score machines"),
        ("satyr-bf@sample=2", "does not score machines"),
        ("best-fit@sample=0", "at least one machine"),
        ("best-fit@sample=200%", "from 1 to 100"),
        ("best-fit@samples=2", "unknown option `@samples=2`"),
    ] {
        let err = Policy::parse(spec, &schema).unwrap_err().to_string();
        assert!(err.contains(complaint), "{spec}: {err}");
    }
}
