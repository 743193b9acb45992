//! satyr/mentor's own test fixtures (shared/design/SATYR-PACKING.md), reproduced exactly.

use packing::policy::satyr_weight;
use packing::{Cluster, Items, MachineId, Policy, ResourceTable, Schema, Weights, pack};

fn schema() -> Schema {
    Schema::uniform(&["cpus", "mem", "disk"], 3).unwrap()
}

/// Parses `(cpus, mem, disk)` rows given in natural units.
fn table(rows: &[(&str, &str, &str)]) -> ResourceTable {
    let s = schema();
    let mut t = ResourceTable::new(3);
    for (c, m, d) in rows {
        t.push(&[
            s.dim(0).parse(c).unwrap(),
            s.dim(1).parse(m).unwrap(),
            s.dim(2).parse(d).unwrap(),
        ]);
    }
    t
}

fn offers() -> ResourceTable {
    table(&[
        ("1.1", "2048", "0"),
        ("2.0", "512", "0"),
        ("0.8", "1024", "0"),
        ("1.6", "2048", "0"),
    ])
}

fn tasks() -> ResourceTable {
    table(&[
        ("0.1", "128", "0"),
        ("1.0", "256", "0"),
        ("3.0", "4096", "0"),
        ("0.2", "64", "0"),
        ("1.4", "1024", "0"),
        ("0.5", "128", "0"),
        ("0.1", "128", "0"),
    ])
}

/// Packs satyr's fixture and renders it as `skip [..] | O0: .. | O1: ..`, the table's layout.
fn render(policy: &str, weights: Option<&str>) -> String {
    let s = schema();
    let mut p = Policy::parse(policy, &s).unwrap();
    if let Some(w) = weights {
        p = p.with_weights(Weights::parse(&s, w).unwrap()).unwrap();
    }
    let mut cluster = Cluster::from_capacities(&offers());
    let packing = pack(&p, &mut cluster, &Items::new(tasks())).unwrap();
    let names = |items: &[u32]| -> String {
        if items.is_empty() {
            return "–".into();
        }
        let n: Vec<String> = items.iter().map(|i| format!("T{i}")).collect();
        n.join(", ")
    };
    let skip: Vec<String> = packing.unplaced().iter().map(|i| format!("T{i}")).collect();
    let mut out = format!("skip [{}]", skip.join(", "));
    for (m, items) in packing.per_machine(4).iter().enumerate() {
        out += &format!(" | O{m}: {}", names(items));
    }
    out
}

#[test]
fn ff_matches_satyr() {
    assert_eq!(
        render("satyr-ff", None),
        "skip [T2] | O0: T0, T1 | O1: T3, T5, T6 | O2: – | O3: T4"
    );
}

#[test]
fn ffd_matches_satyr() {
    assert_eq!(
        render("satyr-ffd", Some("cpus=1,mem=1")),
        "skip [T2] | O0: T1, T0 | O1: T5, T3, T6 | O2: – | O3: T4"
    );
}

#[test]
fn mr_matches_satyr_and_never_falls_back() {
    assert_eq!(
        render("satyr-mr", Some("cpus=1,mem=1")),
        "skip [T2, T4] | O0: T3, T5 | O1: T6 | O2: – | O3: T0, T1"
    );
}

#[test]
fn bf_matches_satyr() {
    assert_eq!(
        render("satyr-bf", Some("cpus=1,mem=1")),
        "skip [T2] | O0: T1 | O1: – | O2: T0, T3, T5 | O3: T4, T6"
    );
}

#[test]
fn bfd_matches_satyr() {
    assert_eq!(
        render("satyr-bfd", Some("cpus=1,mem=1")),
        "skip [T2] | O0: T1 | O1: – | O2: T5, T3, T0 | O3: T4, T6"
    );
}

#[test]
fn default_weights_are_satyrs_scheduler_default() {
    assert_eq!(
        render("satyr-bfd", None),
        render("satyr-bfd", Some("cpus=1,mem=1"))
    );
}

#[test]
fn weight_over_offers_matches_the_table() {
    let cases: [(&str, f64, [f64; 4]); 3] = [
        ("cpus=1", 1.0, [0.2000, 0.3636, 0.1455, 0.2909]),
        ("cpus=1,mem=1", 2.0, [0.5636, 0.4545, 0.3273, 0.6545]),
        ("cpus=4,mem=1.5", 5.5, [1.3455, 1.5909, 0.8545, 1.7091]),
    ];
    for (coefficients, sum, expected) in cases {
        let w = satyr_weight(&offers(), &Weights::parse(&schema(), coefficients).unwrap());
        assert!(
            (w.iter().sum::<f64>() - sum).abs() < 1e-9,
            "{coefficients}: sum {w:?}"
        );
        for (got, want) in w.iter().zip(expected) {
            assert!((got - want).abs() < 5e-5, "{coefficients}: {w:?} vs {expected:?}");
        }
    }
}

#[test]
fn task_weights_give_the_documented_decreasing_order() {
    let w = satyr_weight(&tasks(), &Weights::parse(&schema(), "cpus=1,mem=1").unwrap());
    let expected = [0.0379, 0.2027, 1.1795, 0.0427, 0.3980, 0.1013, 0.0379];
    for (got, want) in w.iter().zip(expected) {
        assert!((got - want).abs() < 5e-5, "{w:?}");
    }
    let p = Policy::parse("satyr-ffd", &schema()).unwrap();
    let mut cluster = Cluster::from_capacities(&offers());
    let order = pack(&p, &mut cluster, &Items::new(tasks()))
        .unwrap()
        .order()
        .to_vec();
    // T2, T4, T1, T5, T3, T0, T6: T0 and T6 tie and keep their input order.
    assert_eq!(order, vec![2, 4, 1, 5, 3, 0, 6]);
}

#[test]
fn scheduler_level_case_places_on_first_and_declines_second() {
    let offers = table(&[("2", "256", "1024"), ("1", "1024", "2048")]);
    let task = table(&[("0.1", "128", "0")]);
    let cluster = Cluster::from_capacities(&offers);
    let p = Policy::parse("satyr-bfd", &schema()).unwrap();
    assert_eq!(p.choose(&cluster, task.row(0)), Some(MachineId(0)));
    // The weighted residuals the spec quotes: 0.804 for `first`, 1.196 for `second`.
    let residuals = table(&[("1.9", "128", "1024"), ("0.9", "896", "2048")]);
    let w = satyr_weight(&residuals, p.weights());
    assert!(
        (w[0] - 0.804).abs() < 5e-4 && (w[1] - 1.196).abs() < 5e-4,
        "{w:?}"
    );
}

#[test]
fn dimensions_other_than_cpus_mem_disk_do_not_weigh_but_must_fit() {
    // satyr ignores gpus in its weights; packsim still never places a task where it cannot run.
    let s = Schema::uniform(&["cpus", "mem", "disk", "gpus"], 3).unwrap();
    let machines = ResourceTable::from_rows(4, [[4000, 4096, 0, 0], [1000, 1024, 0, 1000]]);
    let gpu_task = ResourceTable::from_rows(4, [[500, 128, 0, 1000]]);
    let cluster = Cluster::from_capacities(&machines);
    for name in ["satyr-ff", "satyr-ffd", "satyr-bf", "satyr-bfd"] {
        let p = Policy::parse(name, &s).unwrap();
        assert_eq!(p.choose(&cluster, gpu_task.row(0)), Some(MachineId(1)), "{name}");
    }
    // mr's only candidate is the roomiest machine by cpus and mem: machine 0, which has no GPU.
    let mr = Policy::parse("satyr-mr", &s).unwrap();
    assert_eq!(mr.choose(&cluster, gpu_task.row(0)), None);
}
