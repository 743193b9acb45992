//! Every reader on small hand-written files, including every bad input we could think of.

use std::io::Write;
use std::path::PathBuf;

use datasets::rows::Records;
use datasets::{
    Error, Format, FormatOptions, MachineScale, ReadOptions, alibaba2017, alibaba2018, azure, detect, dlrm,
    google2011, google2019, info, nodes, openb,
};
use sim::workload::{GpuDemand, MachineChange, SECOND};

/// A file with `text` in a fresh directory, plain or gzip-compressed.
fn file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    if name.ends_with(".gz") {
        let mut gz =
            flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
    } else {
        std::fs::write(&path, text).unwrap();
    }
    (dir, path)
}

fn strict() -> ReadOptions {
    ReadOptions::default()
}

fn skipping() -> ReadOptions {
    ReadOptions {
        skip_bad_rows: true,
        scale: None,
    }
}

/// The first error of a stream, without the temporary directory.
fn first_error<T>(r: Result<Records<T>, Error>) -> String {
    let e = match r {
        Err(e) => e,
        Ok(records) => records
            .into_iter()
            .find_map(Result::err)
            .expect("the fixture has a bad row"),
    };
    let text = e.to_string();
    text.rsplit('/').next().unwrap_or(&text).to_string()
}

#[test]
fn openb_bad_pods_are_named_by_line_column_and_value() {
    let header = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n";
    let cases = [
        (
            "p,-1,1,0,0,,LS,Running,0,1,0\n",
            "pods.csv:2: column `cpu_milli`: `-1` is negative",
        ),
        (
            "p,1,x,0,0,,LS,Running,0,1,0\n",
            "pods.csv:2: column `memory_mib`: `x` is not a whole number",
        ),
        (
            "p,1,1,0,500,,LS,Running,0,1,0\n",
            "pods.csv:2: column `gpu_milli`: `500` is not 0 although num_gpu is 0",
        ),
        (
            "p,1,1,2,500,,LS,Running,0,1,0\n",
            "pods.csv:2: column `gpu_milli`: `500` must be 1000 when num_gpu is above 1",
        ),
        (
            "p,1,1,1,1500,,LS,Running,0,1,0\n",
            "pods.csv:2: column `gpu_milli`: `1500` is above 1000 (one whole GPU)",
        ),
        (
            "p,1,1,1,0,,LS,Running,0,1,0\n",
            "pods.csv:2: column `gpu_milli`: `0` is 0 although num_gpu is not",
        ),
        (
            "p,1,1,0,0,,LS,Running,10,5,10\n",
            "pods.csv:2: column `deletion_time`: `5` is before the pod started",
        ),
        (
            "p,1,1,0,0,,LS,Running,abc,5,\n",
            "pods.csv:2: column `creation_time`: `abc` is not a number",
        ),
        ("p,1,1\n", "pods.csv:2: column `num_gpu`: `` is missing"),
    ];
    for (row, want) in cases {
        let (_d, path) = file("pods.csv", &format!("{header}{row}"));
        assert_eq!(first_error(openb::pods(&path, &strict())), want, "{row}");
    }
    let (_d, path) = file("pods.csv", "name,cpu_milli,memory_mib\np,1,1\n");
    assert_eq!(
        first_error(openb::pods(&path, &strict())),
        "pods.csv:1: missing column `num_gpu` in the header (found: name,cpu_milli,memory_mib)"
    );
    let (_d, path) = file("pods.csv", "");
    assert!(first_error(openb::pods(&path, &strict())).contains("empty"));
}

#[test]
fn openb_pods_parse_gpu_shares_specs_and_times() {
    let text = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
        a,1000,2048,1,250,V100M16|V100M32,LS,Running,10,110,20\n\
        b,500,1024,4,1000,,BE,Pending,30,90,\n\
        c,100,64,0,0,,BE,Succeeded,40.5,,40.5\n";
    let (_d, path) = file("pods.csv.gz", text);
    let pods: Vec<_> = openb::pods(&path, &strict())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(pods[0].gpu, GpuDemand::Share(250));
    assert_eq!(pods[0].demand, vec![1000, 2048, 250]);
    assert_eq!(pods[0].gpu_models, vec!["V100M16", "V100M32"]);
    assert_eq!(
        (pods[0].arrival, pods[0].duration),
        (10 * SECOND, Some(90 * SECOND))
    );
    assert_eq!((pods[1].gpu, pods[1].demand[2]), (GpuDemand::Whole(4), 4000));
    // Never scheduled: the duration runs from creation.
    assert_eq!(pods[1].duration, Some(60 * SECOND));
    assert_eq!((pods[2].arrival, pods[2].duration), (40_500_000, None));
    // The multigpu variants have no time columns.
    let (_d, path) = file(
        "multi.csv",
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli\nx,1,1,8,1000\n",
    );
    let pods: Vec<_> = openb::pods(&path, &strict())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        (pods[0].arrival, pods[0].duration, pods[0].gpu),
        (0, None, GpuDemand::Whole(8))
    );
}

#[test]
fn skip_bad_rows_counts_by_reason_and_keeps_the_good_rows() {
    let text = "sn,cpu_milli,memory_mib,gpu,model\n\
        n1,1000,1024,0,\n\
        n2,-5,1024,0,\n\
        n3,1000,lots,0,\n\
        n4,2000,2048,2,T4\n\
        n5,-1,1,0,\n\
        n6,1,1,2,\n";
    let (_d, path) = file("nodes.csv", text);
    let mut records = openb::nodes(&path, &skipping()).unwrap();
    let nodes: Vec<_> = records.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        ["n1", "n4"]
    );
    let skipped = records.skipped();
    assert_eq!(skipped.total(), 4);
    let reasons: Vec<(String, u64, u64)> = skipped
        .reasons()
        .iter()
        .map(|(r, e)| (r.to_string(), e.count, e.first_line))
        .collect();
    assert_eq!(
        reasons,
        [
            ("cpu_milli: is negative".to_string(), 2, 3),
            ("gpu: GPUs without a `model`".to_string(), 1, 7),
            ("memory_mib: is not a whole number".to_string(), 1, 4),
        ]
    );
    // Strict mode stops at the first bad row instead.
    assert_eq!(
        first_error(openb::nodes(&path, &strict())),
        "nodes.csv:3: column `cpu_milli`: `-5` is negative"
    );
}

#[test]
fn alibaba_2017_fixtures() {
    let (_d, path) = file(
        "server_event.csv",
        "0,1,add,,64,0.5,1\n100,1,softerror,agent_check,0,0,0\n5,2,reboot,,1,1,1\n",
    );
    let mut events = alibaba2017::server_events(&path, &strict()).unwrap();
    let e0 = events.next().unwrap().unwrap();
    assert_eq!(
        e0.change,
        MachineChange::Add(sim::MachineSpec {
            name: "1".into(),
            capacity: vec![64_000, 65_536, 1_048_576],
            gpus: None,
        })
    );
    assert_eq!(events.next().unwrap().unwrap().change, MachineChange::Remove);
    let err = events.next().unwrap().unwrap_err().to_string();
    assert!(
        err.ends_with("server_event.csv:3: column `event_type`: `reboot` is not add, softerror or harderror"),
        "{err}"
    );

    // Header line, a task, a never-started task, an end before its start, a Running task.
    let text = "task_create_time, task_end_time, job_id, task_id,number_of_instances, status, cpus, mem\n\
        10,70,1,1,3,Terminated,150,0.25\n\
        10,20,1,2,9,Waiting,,\n\
        30,40,2,3,1,Running,50,0.1\n\
        50,40,2,4,1,Failed,50,0.1\n";
    let (_d, path) = file("batch_task.csv", text);
    let mut scale = strict();
    scale.scale = Some(MachineScale {
        cpus: 64.0,
        mem: 1000.0,
        disk: 1.0,
    });
    let mut tasks = alibaba2017::batch_tasks(&path, &scale).unwrap();
    let t = tasks.next().unwrap().unwrap();
    assert_eq!(
        (t.name.as_str(), t.instances, t.demand.as_slice()),
        ("j1-t1", 3, &[1500, 250, 0][..])
    );
    assert_eq!((t.arrival, t.duration), (10 * SECOND, Some(60 * SECOND)));
    let running = tasks.next().unwrap().unwrap();
    assert_eq!(running.duration, None);
    let err = tasks.next().unwrap().unwrap_err().to_string();
    assert!(
        err.ends_with("batch_task.csv:5: column `task_end_time`: `40` is before task_create_time"),
        "{err}"
    );
    assert_eq!(tasks.ignored()["header line"], 1);
    assert_eq!(
        tasks.ignored()["task without a resource request (never started)"],
        1
    );
}

#[test]
fn alibaba_2018_fixtures_written_from_the_schema() {
    let meta = "m_1,0,1,1,96,100,USING\nm_1,50,1,1,96,100,USING\nm_2,0,1,1,64,50,IMPORT_INSTALLING\n\
        m_2,10,1,1,64,50,USING\nm_1,80,1,1,96,50,USING\nm_2,90,1,1,64,50,OFFLINE\n";
    let (_d, path) = file("machine_meta.csv", meta);
    let mut records = alibaba2018::machine_meta(&path, &strict()).unwrap();
    let events: Vec<_> = records.by_ref().collect::<Result<_, _>>().unwrap();
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e.machine.as_str(),
                match e.change {
                    MachineChange::Add(_) => "add",
                    MachineChange::Update(_) => "update",
                    MachineChange::Remove => "remove",
                },
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("m_1", "add"),
            ("m_2", "add"),
            ("m_1", "update"),
            ("m_2", "remove")
        ]
    );
    assert_eq!(events[2].change, MachineChange::Update(vec![96_000, 196_608]));
    assert_eq!(records.ignored()["repeated machine status"], 1);
    assert_eq!(records.ignored()["machine not in service yet"], 1);

    let tasks = "M1,2,j_1,1,Terminated,100,160,50,0.5\ntask_Nzg3,1,j_1,1,Running,170,0,100,1\nR2_1,1,j_2,1,Terminated,200,150,1,1\n";
    let (_d, path) = file("batch_task.csv", tasks);
    let mut records = alibaba2018::batch_tasks(&path, &strict()).unwrap();
    let t = records.next().unwrap().unwrap();
    assert_eq!(
        (t.name.as_str(), t.instances, t.demand.as_slice()),
        ("j_1/M1", 2, &[500, 1966][..])
    );
    assert_eq!(t.duration, Some(60 * SECOND));
    assert_eq!(
        records.next().unwrap().unwrap().duration,
        None,
        "end 0: still running"
    );
    let err = records.next().unwrap().unwrap_err().to_string();
    assert!(
        err.ends_with("batch_task.csv:3: column `end_time`: `150` is before start_time"),
        "{err}"
    );

    let containers = "c_1,m_1,0,app_1,started,400,400,1.5\nc_1,m_1,100,app_1,allocated,400,400,1.5\nc_2,m_2,5,app_1,started,x,100,1\n";
    let (_d, path) = file("container_meta.csv", containers);
    let mut records = alibaba2018::container_meta(&path, &strict()).unwrap();
    let c = records.next().unwrap().unwrap();
    assert_eq!(
        (c.name.as_str(), c.group.as_deref(), c.demand.as_slice()),
        ("c_1", Some("app_1"), &[4000, 5898][..])
    );
    let err = records.next().unwrap().unwrap_err().to_string();
    assert!(
        err.ends_with("container_meta.csv:3: column `cpu_request`: `x` is not a number"),
        "{err}"
    );
    assert_eq!(records.ignored()["later row of a known container"], 1);
}

#[test]
fn google_2011_machine_events_from_parts_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("machine_events");
    std::fs::create_dir(&parts).unwrap();
    let write = |name: &str, text: &str| {
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(parts.join(name)).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
    };
    write(
        "part-00001-of-00002.csv.gz",
        "700000000,5,2,p,0.25,0.25\n800000000,5,1,p,,\n",
    );
    write("part-00000-of-00002.csv.gz", "0,5,0,p,0.5,0.5\n0,6,0,p,,\n");
    assert_eq!(detect(&parts).unwrap(), Format::Google2011Machines);
    let mut chain = google2011::machine_events(&parts, &strict()).unwrap();
    let events: Vec<_> = chain.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(events.len(), 3, "parts are read in name order");
    assert_eq!(
        events[0].change,
        MachineChange::Add(sim::MachineSpec {
            name: "5".into(),
            capacity: vec![16_000, 65_536, 1_048_576],
            gpus: None,
        })
    );
    assert_eq!(
        (events[1].time, &events[1].change),
        (
            100 * SECOND,
            &MachineChange::Update(vec![8_000, 32_768, 1_048_576])
        )
    );
    assert_eq!(
        (events[2].time, &events[2].change),
        (200 * SECOND, &MachineChange::Remove)
    );
    assert_eq!(chain.ignored()["machine ADD or UPDATE without capacity"], 1);
    let (_d, path) = file("machine_events.csv", "0,5,7,p,0.5,0.5\n");
    let err = google2011::machine_events(&path, &strict())
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with(
            "machine_events.csv:1: column `event_type`: `7` is not 0 (ADD), 1 (REMOVE) or 2 (UPDATE)"
        ),
        "{err}"
    );
}

#[test]
fn google_2011_task_events_become_tasks_in_submit_order() {
    // Job 1 task 0: SUBMIT 600 s, SCHEDULE 610 s, FINISH 700 s.
    // Job 1 task 1: SUBMIT 605 s, SCHEDULE 606 s, EVICT 620 s, resubmitted 630 s, never rescheduled.
    // Job 2 task 0: SUBMIT 601 s with different-machines restriction, still running at the end.
    // Job 3 task 0: SCHEDULE without a SUBMIT (submitted before the trace).
    let us = |s: i64| s * 1_000_000;
    let row = |t: i64, job: u64, idx: u64, kind: u8, req: &str, restrict: u8| {
        format!("{},,{job},{idx},m,{kind},u,1,9,{req},{restrict}\n", us(t))
    };
    let text = [
        row(1200, 1, 0, 0, "0.5,0.25,0.1", 0),
        row(1201, 2, 0, 0, "0.1,0.1,0", 1),
        row(1205, 1, 1, 0, "0.25,0.25,0", 0),
        row(1206, 1, 1, 1, ",,", 0),
        row(1210, 1, 0, 1, ",,", 0),
        row(1212, 2, 0, 1, ",,", 0),
        row(1215, 3, 0, 1, ",,", 0),
        row(1220, 1, 1, 2, ",,", 0),
        row(1230, 1, 1, 0, "0.25,0.25,0", 0),
        row(1300, 1, 0, 4, ",,", 0),
    ]
    .concat();
    let (_d, path) = file("task_events.csv", &text);
    assert_eq!(detect(&path).unwrap(), Format::Google2011Tasks);
    let mut tasks = google2011::Tasks::new(google2011::task_events(&path, &strict()).unwrap());
    let all: Vec<_> = tasks.by_ref().collect::<Result<_, _>>().unwrap();
    let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["1-0#1", "2-0#1", "1-1#1", "1-1#2"]);
    let secs = |t: i64| t * SECOND;
    assert_eq!((all[0].arrival, all[0].duration), (secs(600), Some(secs(90))));
    assert_eq!(all[0].demand, vec![16_000, 32_768, 104_858]);
    assert_eq!(all[0].class.as_deref(), Some("FINISH"));
    assert_eq!(
        (all[1].max_per_machine, all[1].duration, all[1].class.as_deref()),
        (Some(1), None, Some("running at trace end"))
    );
    assert_eq!(
        (all[2].duration, all[2].class.as_deref()),
        (Some(secs(14)), Some("EVICT"))
    );
    assert_eq!(
        (all[3].duration, all[3].class.as_deref()),
        (Some(0), Some("never scheduled"))
    );
    assert_eq!(all[0].priority, 9);
    assert_eq!(
        tasks.ignored()["event of a task submitted before the trace or already ended"],
        1
    );
}

#[test]
fn google_2019_kaggle_rows_with_multiline_fields() {
    let text = ",time,instance_events_type,collection_id,instance_index,priority,resource_request,cpu_usage_distribution,event\n\
        0,600000000,0,7,0,200,\"{'cpus': 0.5, 'memory': 0.25}\",\"[0.1 0.2\n 0.3]\",SUBMIT\n\
        1,700000000,3,7,0,200,\"{'cpus': 0.5, 'memory': 0.25}\",\"[]\",SCHEDULE\n\
        2,800000000,0,8,1,0,\"{'cpus': None, 'memory': None}\",\"[]\",SUBMIT\n\
        3,900000000,0,9,1,0,\"{'cpu': 1}\",\"[]\",SUBMIT\n";
    let (_d, path) = file("kaggle.csv", text);
    let mut records = google2019::kaggle_tasks(&path, &strict()).unwrap();
    let t = records.next().unwrap().unwrap();
    assert_eq!(
        (t.name.as_str(), t.arrival, t.demand.as_slice()),
        ("7-0", 0, &[16_000, 32_768][..])
    );
    let err = records.next().unwrap().unwrap_err().to_string();
    assert!(
        err.ends_with(
            "kaggle.csv:6: column `resource_request`: `{'cpu': 1}` is not a {'cpus': x, 'memory': y} dict"
        ),
        "{err}"
    );
    assert_eq!(records.ignored()["later row of a known instance"], 1);
    assert_eq!(records.ignored()["instance without a resource request"], 1);
}

#[test]
fn dlrm_pai_and_spot_fixtures() {
    let header = "instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,gpu_limit,rdma_request,rdma_limit,memory_request,memory_limit,disk_request,disk_limit,max_instance_per_node,creation_time,scheduled_time,deletion_time\n";
    let (_d, path) = file(
        "dlrm.csv",
        &format!(
            "{header}i0,CN,a,8,8,0,0,1,1,40.5,40,85,85,-1,,,\ni1,HN,a,12,12,1,1,25,25,120,120,640,800,0,10,20,30\n"
        ),
    );
    let mut records = dlrm::instances(&path, &strict()).unwrap();
    let t = records.next().unwrap().unwrap();
    assert_eq!(t.demand, vec![8000, 0, 10, 41_472, 87_040]);
    assert_eq!(
        (t.arrival, t.duration, t.max_per_machine, t.gpu),
        (0, None, None, GpuDemand::None)
    );
    let err = records.next().unwrap().unwrap_err().to_string();
    assert!(
        err.ends_with("dlrm.csv:3: column `max_instance_per_node`: `0` is neither -1 nor positive"),
        "{err}"
    );

    let (_d, path) = file(
        "pai_machine_spec.csv",
        "m1,V100,64,512,8\nm2,CPU,96,512,0\nm3,CPU,96,512,2\n",
    );
    assert_eq!(detect(&path).unwrap(), Format::Pai2020Machines);
    let mut records = nodes::pai_machines(&path, &strict()).unwrap();
    let m = records.next().unwrap().unwrap();
    assert_eq!(
        (m.capacity.as_slice(), m.gpus.unwrap().count),
        (&[64_000, 524_288, 8_000][..], 8)
    );
    assert!(records.next().unwrap().unwrap().gpus.is_none());
    let err = records.next().unwrap().unwrap_err().to_string();
    assert!(
        err.ends_with("pai_machine_spec.csv:3: column `cap_gpu`: `2` is not 0 on a CPU machine"),
        "{err}"
    );

    let (_d, path) = file(
        "node_info_df.csv",
        "gpu_model,gpu_capacity_num,cpu_num,node_name\nA10,1,128,0\nH800,x,192,1\n",
    );
    let mut records = nodes::spot_nodes(&path, &strict()).unwrap();
    assert_eq!(records.next().unwrap().unwrap().capacity, vec![128_000, 1000]);
    let err = records.next().unwrap().unwrap_err().to_string();
    assert!(
        err.ends_with("node_info_df.csv:3: column `gpu_capacity_num`: `x` is not a whole number"),
        "{err}"
    );
}

#[test]
fn azure_sqlite_fixture_streams_vms_in_start_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("packing_trace_zone_a_v1.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "CREATE TABLE vm (vmId INTEGER, tenantId INTEGER, vmTypeId INTEGER, priority INTEGER, starttime REAL, endtime REAL);
         CREATE TABLE vmType (id INTEGER, vmTypeId INTEGER, machineId INTEGER, core REAL, memory REAL, hdd REAL, ssd REAL, nic REAL);
         INSERT INTO vmType VALUES (1, 10, 1, 0.5, 0.25, 0, 0.1, 0.05), (2, 10, 2, 0.25, 0.125, 0, 0.05, 0.02),
                                   (3, 11, 2, 0.125, 0.125, 0, 0, 0.01);
         INSERT INTO vm VALUES (1, 7, 10, 0, 1.5, 2.0), (2, 7, 11, 1, -0.5, NULL), (3, 8, 10, 1, 0.25, 0.75);",
    )
    .unwrap();
    drop(db);
    assert_eq!(detect(&path).unwrap(), Format::AzurePacking);
    // Generation 2 offers both types, so it is the default.
    let vms = azure::vms(&path, None, None).unwrap();
    assert_eq!(vms.machine_generation, 2);
    let tasks: Vec<_> = vms.collect::<Result<_, _>>().unwrap();
    let names: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["2", "3", "1"], "start-time order");
    assert_eq!((tasks[0].arrival, tasks[0].duration), (-43_200 * SECOND, None));
    assert_eq!(tasks[2].duration, Some(43_200 * SECOND));
    // 0.25 of a 48-core, 384 GiB machine; ssd 0.05 and nic 0.02 of a machine.
    assert_eq!(tasks[2].demand, vec![12_000, 49_152, 0, 50, 20]);
    assert_eq!((tasks[2].priority, tasks[2].class.as_deref()), (1, Some("high")));
    // Generation 1 does not offer type 11: that VM is ignored and counted.
    let mut vms = azure::vms(&path, Some(1), None).unwrap();
    assert_eq!(vms.by_ref().count(), 2);
    assert_eq!(vms.ignored()["VM type not offered on the machine generation"], 1);
    let err = azure::vms(&path, Some(9), None).err().unwrap().to_string();
    assert!(
        err.ends_with("no machine generation 9 (the trace has 1, 2)"),
        "{err}"
    );
}

#[test]
fn instance_files_archives_and_folders() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "2\r\n10\r\n4\r\n6\r\n").unwrap();
    std::fs::write(dir.path().join("b.vbp"), "2\n10 10\n1\n5 5 3\n").unwrap();
    std::fs::write(dir.path().join("notes.md"), "not an instance").unwrap();
    let list = datasets::instances::read_instances(dir.path()).unwrap();
    assert_eq!(
        list.iter()
            .map(|i| (i.name.as_str(), i.items.len()))
            .collect::<Vec<_>>(),
        [("a", 2), ("b", 3)]
    );
    // The same files in a tar.gz.
    let archive = dir.path().join("set.tar.gz");
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&archive).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    tar.append_path_with_name(dir.path().join("a.txt"), "set/x/a.txt")
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    let list = datasets::instances::read_instances(&archive).unwrap();
    assert_eq!((list[0].name.as_str(), list[0].family.as_str()), ("a", "x"));
    assert_eq!(detect(&archive).unwrap(), Format::Bpplib);
    let (_d, bad) = file("bad.txt", "2\n10\n4\n");
    let err = datasets::instances::read_instances(&bad).unwrap_err().to_string();
    assert!(
        err.ends_with("bad.txt: n is 2 but the file has 1 weights"),
        "{err}"
    );
}

#[test]
fn info_summarises_a_folder_file_by_file_and_reports_skips() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nodes.csv"),
        "sn,cpu_milli,memory_mib,gpu,model\nn1,1000,1024,2,T4\nn2,x,1,0,\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("README.md"), "# notes").unwrap();
    let options = skipping();
    let summaries = info::summarize(dir.path(), None, &options, &FormatOptions::default()).unwrap();
    assert_eq!(summaries.len(), 1);
    let text = summaries[0].to_string();
    assert!(text.contains("machines    1 (1 added)"), "{text}");
    assert!(text.contains("GPUs        2 (T4 2 on 1)"), "{text}");
    assert!(text.contains("1 skipped:"), "{text}");
    assert!(
        text.contains("cpu_milli: is not a whole number (first on line 3)"),
        "{text}"
    );
    // Strict mode: the same folder is an error naming the file and line.
    let err = info::summarize(dir.path(), None, &strict(), &FormatOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("nodes.csv:3: column `cpu_milli`: `x` is not a whole number"),
        "{err}"
    );
}

#[test]
fn absurd_numbers_are_errors_not_panics() {
    let (_d, path) = file("batch_task.csv", "99999999999999999,1,1,1,1,Terminated,50,0.1\n");
    assert_eq!(
        first_error(alibaba2017::batch_tasks(&path, &strict())),
        "batch_task.csv:1: column `task_create_time`: `99999999999999999` is out of range"
    );
    let (_d, path) = file(
        "node_info_df.csv",
        "gpu_model,gpu_capacity_num,cpu_num,node_name\nA10,1,99999999999999999,0\n",
    );
    assert_eq!(
        first_error(nodes::spot_nodes(&path, &strict())),
        "node_info_df.csv:2: column `cpu_num`: `99999999999999999` is too large"
    );
    let (_d, path) = file("huge.txt", "999999999999999999\n10\n1\n");
    let err = datasets::instances::read_instances(&path)
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("huge.txt: n is 999999999999999999 but the file has 1 weights"),
        "{err}"
    );
    let (_d, path) = file("huge.vbp", "1\n10\n1\n1 999999999999\n");
    let err = datasets::instances::read_instances(&path)
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("huge.vbp:4: demand 999999999999 makes more than 10^8 items"),
        "{err}"
    );
    let (_d, path) = file("machine_events.csv", "-9223372036854775807,5,0,p,0.5,0.5\n");
    assert!(
        google2011::machine_events(&path, &strict())
            .unwrap()
            .next()
            .unwrap()
            .is_ok()
    );
}
