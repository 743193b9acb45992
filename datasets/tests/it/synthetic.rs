//! The built-in workloads do what their documentation says.

use datasets::synthetic::{builtin, generate};
use sim::{ArriveOnly, Config, Model};

/// Arrive-only CPU allocation of `policy` on the default workload, seed 1.
fn allocated(policy: &str) -> f64 {
    let w = generate(&builtin("default", 1).unwrap());
    let p = packing::Policy::parse(policy, &w.schema).unwrap().with_seed(1);
    let config = Config {
        model: Model::ArriveOnly(ArriveOnly {
            target: 1.3,
            dimension: None,
        }),
        seed: 1,
        ..Config::default()
    };
    sim::run(&w, &p, &config).unwrap().summary.utilisation[0]
}

/// The default comparison must show what packing policies change: on the former default every
/// policy placed nearly everything (0.94–0.98 of the CPUs at 130% demand). On the heterogeneous,
/// loaded default, aligning a task's shape with a machine's room matters by a wide margin.
#[test]
fn the_default_workload_separates_the_policies() {
    let balanced = allocated("kube-balanced-allocation");
    let first_fit = allocated("first-fit");
    assert!(balanced > 0.95, "{balanced}");
    assert!(
        balanced - first_fit > 0.1,
        "kube-balanced-allocation {balanced}, first-fit {first_fit}"
    );
}
