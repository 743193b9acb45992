//! Every reader on the real files of the shared folder: counts, totals and spot values from
//! `shared/datasets/README.md`.

use std::path::PathBuf;

use datasets::info::{Summary, summarize};
use datasets::instances::{bpplib_suite, vectorpack_suite};
use datasets::{FormatOptions, ReadOptions, alibaba2017, alibaba2018, dlrm, google2019, nodes, openb};
use sim::workload::{GpuDemand, MachineChange};

fn shared(test: &str) -> Option<PathBuf> {
    datasets::shared::for_tests(env!("CARGO_MANIFEST_DIR"), test).map(|d| d.join("datasets"))
}

fn summary(path: impl AsRef<std::path::Path>) -> Summary {
    let path = path.as_ref();
    let mut s = summarize(path, None, &ReadOptions::default(), &FormatOptions::default()).unwrap();
    assert_eq!(s.len(), 1, "{}", path.display());
    s.remove(0)
}

#[test]
fn openb_nodes_match_the_readme() {
    let Some(d) = shared("openb_nodes_match_the_readme") else {
        return;
    };
    let d = d.join("alibaba_gpu_v2023_openb");
    let all: Vec<_> = openb::nodes(&d.join("openb_node_list_all_node.csv"), &ReadOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.len(), 1523);
    let sum = |i: usize| all.iter().map(|m| m.capacity[i]).sum::<u64>();
    assert_eq!(sum(0), 125_514_000, "milli-cores");
    assert_eq!(sum(1), 612_028_416, "MiB");
    assert_eq!(sum(2), 6_212_000, "milli-GPU");
    assert_eq!(all.iter().filter(|m| m.gpus.is_none()).count(), 310);
    let g2: Vec<_> = all
        .iter()
        .filter(|m| m.gpus.as_ref().is_some_and(|g| g.model == "G2"))
        .collect();
    assert_eq!(g2.len(), 549);
    assert!(
        g2.iter().all(|m| m.capacity == vec![96_000, 393_216, 8_000]),
        "G2 nodes are 96c/384GiB/8 GPUs"
    );
    let first = &all[0];
    assert_eq!(first.name, "openb-node-0000");
    let s = summary(d.join("openb_node_list_gpu_node.csv"));
    let m = s.machines.unwrap();
    assert_eq!((m.machines, m.gpus), (1213, 6212));
    assert_eq!(m.capacity, vec![107_018_000, 503_828_480, 6_212_000]);
    assert_eq!(m.gpu_models["T4"].0, 404);
    assert_eq!(m.gpu_models["P100"].0, 134);
}

#[test]
fn openb_default_pods_match_the_readme() {
    let Some(d) = shared("openb_default_pods_match_the_readme") else {
        return;
    };
    let path = d.join("alibaba_gpu_v2023_openb/openb_pod_list_default.csv");
    let pods: Vec<_> = openb::pods(&path, &ReadOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(pods.len(), 8152);
    let count = |f: &dyn Fn(&GpuDemand) -> bool| pods.iter().filter(|p| f(&p.gpu)).count();
    assert_eq!(count(&|g| *g == GpuDemand::None), 1088);
    assert_eq!(count(&|g| matches!(g, GpuDemand::Share(_))), 3078);
    assert_eq!(
        count(&|g| matches!(g, GpuDemand::Share(_) | GpuDemand::Whole(1))),
        6989
    );
    assert_eq!(count(&|g| *g == GpuDemand::Whole(2)), 16);
    assert_eq!(count(&|g| *g == GpuDemand::Whole(4)), 15);
    assert_eq!(count(&|g| *g == GpuDemand::Whole(8)), 44);
    // Total GPU request 6086.8 GPUs.
    assert_eq!(pods.iter().map(|p| p.demand[2]).sum::<u64>(), 6_086_800);
    let class = |q: &str| pods.iter().filter(|p| p.class.as_deref() == Some(q)).count();
    assert_eq!(
        (class("LS"), class("BE"), class("Burstable"), class("Guaranteed")),
        (4647, 3398, 100, 7)
    );
    assert_eq!(
        pods.iter().map(|p| p.arrival).max(),
        Some(12_901_761 * sim::SECOND)
    );
    assert_eq!(pods.iter().map(|p| p.arrival).min(), Some(0));
    // The first pod: 12 cores, 16 GiB, one whole GPU, created at 0, deleted at 12,537,496 s.
    let p = &pods[0];
    assert_eq!(
        (p.name.as_str(), p.demand.as_slice(), p.gpu),
        ("openb-pod-0000", &[12_000, 16_384, 1000][..], GpuDemand::Whole(1))
    );
    assert_eq!(p.duration, Some(12_537_496 * sim::SECOND));
    // openb-pod-0001 shares 460 milli of one GPU.
    assert_eq!(pods[1].gpu, GpuDemand::Share(460));
}

#[test]
fn every_openb_pod_variant_matches_the_readme_mix() {
    let Some(d) = shared("every_openb_pod_variant_matches_the_readme_mix") else {
        return;
    };
    // (variant, pods, sum of GPU request rounded, sum of CPU request in cores rounded) from the table.
    let table = [
        ("cpu0", 7064, 6087, 66238),
        ("cpu037", 7336, 6087, 70988),
        ("cpu050", 7439, 6087, 72762),
        ("cpu072", 7608, 6087, 75836),
        ("cpu100", 7853, 6087, 80292),
        ("cpu200", 8832, 6087, 97253),
        ("cpu235", 9240, 6087, 104634),
        ("cpu250", 9420, 6087, 107460),
        ("cpu300", 10094, 6087, 119445),
        ("default", 8152, 6087, 85436),
        ("gpushare20", 8152, 6532, 90173),
        ("gpushare40", 8152, 5641, 80383),
        ("gpushare60", 8152, 4908, 72020),
        ("gpushare80", 8152, 4408, 67189),
        ("gpushare100", 8152, 3953, 61762),
        ("gpuspec05", 8152, 6087, 85436),
        ("gpuspec10", 8152, 6087, 85436),
        ("gpuspec20", 8152, 6087, 85436),
        ("gpuspec25", 8152, 6087, 85436),
        ("gpuspec33", 8152, 6087, 85436),
        ("multigpu20", 8324, 7087, 95172),
        ("multigpu30", 8508, 8087, 104870),
        ("multigpu40", 8746, 9443, 118032),
        ("multigpu50", 9061, 11359, 137776),
    ];
    for (variant, pods, gpus, cores) in table {
        let s = summary(d.join(format!("alibaba_gpu_v2023_openb/openb_pod_list_{variant}.csv")));
        let t = s.tasks.unwrap();
        assert_eq!(t.records, pods, "{variant}");
        assert_eq!(
            ((t.demand[2] as f64) / 1000.0).round() as u64,
            gpus,
            "{variant} GPUs"
        );
        assert_eq!(
            ((t.demand[0] as f64) / 1000.0).round() as u64,
            cores,
            "{variant} cores"
        );
        assert!(s.skipped.is_empty() && s.ignored.is_empty(), "{variant}");
    }
    // gpuspec33: about 29.3% of all pods carry a GPU-model constraint.
    let s = summary(d.join("alibaba_gpu_v2023_openb/openb_pod_list_gpuspec33.csv"));
    let constrained = s.tasks.unwrap().with_gpu_models;
    assert_eq!(constrained, 8152 - 5764);
}

#[test]
fn alibaba_2017_machines_and_tasks_match_the_readme() {
    let Some(d) = shared("alibaba_2017_machines_and_tasks_match_the_readme") else {
        return;
    };
    let events: Vec<_> =
        alibaba2017::server_events(&d.join("alibaba_v2017/server_event.csv"), &ReadOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    assert_eq!(events.len(), 1352);
    let adds: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.change {
            MachineChange::Add(m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(adds.len(), 1313);
    assert!(
        adds.iter().all(|m| m.capacity[0] == 64_000),
        "every machine has 64 CPUs"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.change == MachineChange::Remove)
            .count(),
        39
    );
    // Memory normalised ≈ 0.69 for 1300 machines: 0.69 × 128 GiB with the default scale.
    let typical = adds
        .iter()
        .filter(|m| (90_000..91_000).contains(&m.capacity[1]))
        .count();
    assert_eq!(typical, 1300);

    let mut tasks = alibaba2017::batch_tasks(
        &d.join("alibaba_v2017/batch_task.csv.gz"),
        &ReadOptions::default(),
    )
    .unwrap();
    let all: Vec<_> = tasks.by_ref().collect::<Result<_, _>>().unwrap();
    let never_started = tasks.ignored()["task without a resource request (never started)"];
    assert_eq!(
        all.len() as u64 + never_started,
        80_553,
        "every task is read or counted"
    );
    assert_eq!(never_started, 9017);
    let status = |s: &str| all.iter().filter(|t| t.class.as_deref() == Some(s)).count();
    assert_eq!(
        (status("Terminated"), status("Running"), status("Failed")),
        (67_003, 3408, 1125)
    );
    // The first task: created at 6459 s, ended at 6524 s, 15,740 instances of 0.5 cores.
    let t = &all[0];
    assert_eq!(
        (t.name.as_str(), t.arrival, t.instances),
        ("j3-t4", 6459 * sim::SECOND, 15_740)
    );
    assert_eq!((t.demand[0], t.duration), (500, Some(65 * sim::SECOND)));
    assert_eq!(all.iter().map(|t| t.arrival).min(), Some(-1078 * sim::SECOND));
}

#[test]
fn alibaba_2018_machines_match_the_readme() {
    let Some(d) = shared("alibaba_2018_machines_match_the_readme") else {
        return;
    };
    let mut records = alibaba2018::machine_meta(
        &d.join("alibaba_v2018/machine_meta.csv.gz"),
        &ReadOptions::default(),
    )
    .unwrap();
    let events: Vec<_> = records.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(records.rows_read(), 17_592);
    let machines: std::collections::HashSet<&str> = events.iter().map(|e| e.machine.as_str()).collect();
    // 4,034 machine ids in the file; one only ever reports IMPORT_INSTALLING, so 4,033 serve.
    assert_eq!(machines.len(), 4033);
    assert_eq!(records.ignored()["machine not in service yet"], 5);
    assert!(
        events.iter().all(|e| match &e.change {
            MachineChange::Add(m) => m.capacity == vec![96_000, 393_216],
            _ => true,
        }),
        "every machine has 96 cores and memory 100 (= 384 GiB by default)"
    );
}

#[test]
fn pai_dlrm_spot_and_google_files_match_the_readme() {
    let Some(d) = shared("pai_dlrm_spot_and_google_files_match_the_readme") else {
        return;
    };
    let pai: Vec<_> = nodes::pai_machines(
        &d.join("alibaba_gpu_v2020/pai_machine_spec.tar.gz"),
        &ReadOptions::default(),
    )
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap();
    assert_eq!(pai.len(), 1897);
    assert_eq!(pai.iter().map(|m| m.capacity[2]).sum::<u64>(), 6_742_000);
    let model = |t: &str| {
        pai.iter()
            .filter(|m| m.gpus.as_ref().is_some_and(|g| g.model == t))
            .count()
    };
    assert_eq!(
        (
            model("P100"),
            model("T4"),
            model("MISC"),
            model("V100M32"),
            model("V100")
        ),
        (798, 497, 280, 135, 104)
    );
    assert_eq!(pai.iter().filter(|m| m.gpus.is_none()).count(), 83);

    let dl = summary(d.join("alibaba_gpu_v2025_dlrm/disaggregated_DLRM_trace.csv.gz"));
    let t = dl.tasks.unwrap();
    assert_eq!(
        (t.records, t.classes["CN"], t.classes["HN"], t.groups),
        (23_871, 16_485, 7_386, 156)
    );
    let inst: Vec<_> = dlrm::instances(
        &d.join("alibaba_gpu_v2025_dlrm/disaggregated_DLRM_trace.csv.gz"),
        &ReadOptions::default(),
    )
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap();
    // instance_0: 12 vCPU, 1 GPU, 25% of a NIC, 120 GiB, 640 GiB, at most 8 per node.
    assert_eq!(inst[0].demand, vec![12_000, 1000, 250, 122_880, 655_360]);
    assert_eq!(
        (inst[0].max_per_machine, inst[0].gpu),
        (Some(8), GpuDemand::Whole(1))
    );

    let spot = summary(d.join("alibaba_v2026_spot_gpu/node_info_df.csv"))
        .machines
        .unwrap();
    assert_eq!((spot.machines, spot.gpus), (4278, 10_412));
    let nodes_of = |m: &str| spot.gpu_models[m].0;
    assert_eq!(
        (
            nodes_of("A10"),
            nodes_of("GPU-series-1"),
            nodes_of("A100-SXM4-80GB"),
            nodes_of("H800")
        ),
        (2494, 989, 432, 219)
    );

    let mut kaggle = google2019::kaggle_tasks(
        &d.join("google_2019_kaggle_slice/slice.csv"),
        &ReadOptions::default(),
    )
    .unwrap();
    let tasks: Vec<_> = kaggle.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        kaggle.rows_read(),
        99,
        "multi-line quoted arrays are one row each"
    );
    assert_eq!(tasks.len(), 97);
    // {'cpus': 0.020660400390625, 'memory': 0.014434814453125} at the default Google scale.
    assert_eq!(tasks[0].demand, vec![661, 1892]);
}

#[test]
fn bpplib_suite_matches_the_readme() {
    let Some(d) = shared("bpplib_suite_matches_the_readme") else {
        return;
    };
    let suite = bpplib_suite(&d.join("bpplib_1d")).unwrap();
    assert_eq!(suite.instances.len(), 6195);
    assert!(suite.excluded.is_empty());
    let family = |f: &str| suite.instances.iter().filter(|i| i.family == f).count();
    assert_eq!(
        (
            family("Randomly_Generated"),
            family("GI"),
            family("Scholl_1"),
            family("Hard28")
        ),
        (3840, 240, 720, 28)
    );
    assert_eq!(
        suite.instances.iter().filter(|i| i.known.opt.is_some()).count(),
        5871
    );
    // AI and ANI: every total weight is exactly l1 × c, and their optimum is known by construction.
    let by_construction = suite
        .instances
        .iter()
        .filter(|i| i.known.opt.is_none() && i.known.opt_by_construction.is_some())
        .count();
    assert_eq!(by_construction, 324);
    let u = suite
        .instances
        .iter()
        .find(|i| i.name == "Falkenauer_u120_00")
        .unwrap();
    assert_eq!((u.capacity.as_slice(), u.items.len()), (&[150u64][..], 120));
    let gi = suite.instances.iter().find(|i| i.name == "csAA125_1").unwrap();
    assert_eq!(
        (gi.capacity[0], gi.items.len(), gi.known.opt),
        (500_000, 1227, Some(527))
    );
    assert_eq!(gi.items.sums()[0], 260_959_368);
}

#[test]
fn vectorpack_suite_matches_the_readme() {
    let Some(d) = shared("vectorpack_suite_matches_the_readme") else {
        return;
    };
    let suite = vectorpack_suite(&d.join("vectorpack_multidim")).unwrap();
    assert_eq!(suite.instances.len() + suite.excluded.len(), 2940);
    assert_eq!(suite.excluded.len(), 77, "Caprara triplets with negative weights");
    assert!(suite.excluded.iter().all(|(n, _)| n.starts_with("classC_")));
    let with_opt = suite.instances.iter().filter(|i| i.known.opt.is_some()).count() + suite.excluded.len();
    assert_eq!(with_opt, 2166, "every excluded triplet has a known optimum");
    let i = suite
        .instances
        .iter()
        .find(|i| i.name == "class1_20_3_0")
        .unwrap();
    assert_eq!(
        (i.capacity.as_slice(), i.items.len(), i.known.lb, i.known.opt),
        (&[1000u64, 1000, 1000][..], 20, Some(6), Some(6))
    );
    assert!(i.published.iter().any(|(f, b)| f == "best of all" && *b == 6));
    let dims = |d: usize| suite.instances.iter().filter(|i| i.capacity.len() == d).count();
    assert_eq!(dims(3) + dims(5) + dims(10), suite.instances.len());
}

#[test]
fn info_describes_every_shared_folder() {
    let Some(d) = shared("info_describes_every_shared_folder") else {
        return;
    };
    for entry in std::fs::read_dir(&d).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_dir() {
            continue;
        }
        let summaries = summarize(&path, None, &ReadOptions::default(), &FormatOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for s in &summaries {
            let text = s.to_string();
            assert!(text.contains("format") && text.contains("rows"), "{text}");
            assert!(
                s.skipped.is_empty(),
                "{}: real data has no bad rows",
                s.path.display()
            );
        }
    }
}
