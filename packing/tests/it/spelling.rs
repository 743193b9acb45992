//! One name, one algorithm: a policy packs a batch the same way however its spec is spelled, and
//! an option that offline packing cannot honour is an error, never silently dropped.

use packing::hash::SplitMix64;
use packing::{Cluster, Items, Kind, Policy, ResourceTable, Schema, pack};

fn schema() -> Schema {
    Schema::uniform(&["cpus", "mem", "disk"], 0).unwrap()
}

/// A random batch: `machines` machines of mixed sizes and `items` items that overfill them.
fn batch(rng: &mut SplitMix64, machines: usize, items: usize) -> (ResourceTable, ResourceTable) {
    let caps: Vec<Vec<u64>> = (0..machines)
        .map(|_| (0..3).map(|_| 8 + rng.below(56)).collect())
        .collect();
    let demands: Vec<Vec<u64>> = (0..items)
        .map(|_| (0..3).map(|_| 1 + rng.below(16)).collect())
        .collect();
    (
        ResourceTable::from_rows(3, &caps),
        ResourceTable::from_rows(3, &demands),
    )
}

fn packed(spec: &str, caps: &ResourceTable, items: &ResourceTable) -> Vec<Option<usize>> {
    let policy = Policy::parse(spec, &schema()).unwrap().with_seed(3);
    let mut cluster = Cluster::from_capacities(caps);
    let packing = pack(&policy, &mut cluster, &Items::new(items.clone())).unwrap();
    packing
        .assignment()
        .iter()
        .map(|m| m.map(packing::MachineId::index))
        .collect()
}

#[test]
fn a_scoring_policy_packs_alike_alone_and_as_a_one_term_sum() {
    // The review's case: `dot-product` filled machines bin-centrically, `dot-product*1` placed
    // item by item (15 against 39 machines on one batch). Every scoring kind, several batches.
    let mut rng = SplitMix64::new(17);
    for case in 0..40 {
        let (caps, items) = batch(&mut rng, 6 + case % 7, 30 + case % 23);
        for kind in Kind::all().into_iter().filter(|k| k.is_scoring()) {
            let name = kind.name();
            let alone = packed(&name, &caps, &items);
            for spelling in [format!("{name}*1"), format!("{name}*2.5")] {
                assert_eq!(
                    packed(&spelling, &caps, &items),
                    alone,
                    "{spelling} against {name}, case {case}"
                );
            }
        }
    }
}

#[test]
fn a_sum_of_bin_centric_kinds_packs_bin_centrically() {
    let p = |spec: &str| Policy::parse(spec, &schema()).unwrap();
    assert!(p("dot-product").is_bin_centric());
    assert!(p("dot-product*1").is_bin_centric());
    assert!(p("dot-product*2+l2-norm*1").is_bin_centric());
    assert!(!p("dot-product+best-fit").is_bin_centric());
    assert!(!p("best-fit").is_bin_centric());
}

#[test]
fn sampling_a_bin_centric_policy_offline_is_an_error() {
    let mut rng = SplitMix64::new(5);
    let (caps, items) = batch(&mut rng, 8, 40);
    for spec in [
        "dot-product@sample=2",
        "l2-norm*1@sample=50%",
        "dot-product*1+l2-norm*1@sample=kube",
    ] {
        let policy = Policy::parse(spec, &schema()).unwrap();
        let mut cluster = Cluster::from_capacities(&caps);
        let err = pack(&policy, &mut cluster, &Items::new(items.clone())).unwrap_err();
        assert!(err.to_string().contains("bin-centrically"), "{spec}: {err}");
        assert!(policy.check_batch().is_err());
    }
    // Item-centric policies sample offline as online: a sample of 2 changes best fit's packing
    // from the exact one on this batch, so the option was honoured, not dropped.
    let exact = packed("best-fit", &caps, &items);
    let sampled = packed("best-fit@sample=2", &caps, &items);
    assert_ne!(sampled, exact);
}
