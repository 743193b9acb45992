//! The readers of workloads with task graphs — packsim's own files, SWF, Alibaba 2018's task
//! names, WfCommons — on hand-written files, the generated WfCommons instances, and bad inputs
//! with the exact error each must give.

use std::io::Write;
use std::path::{Path, PathBuf};

use datasets::workload::{ClusterSource, TaskSource, load};
use datasets::{Format, FormatOptions, ReadOptions, detect, open, swf, wfcommons};
use sim::workload::{After, GpuDemand, MachineChange, SECOND, TaskSpec};

fn file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    write(&path, text);
    (dir, path)
}

fn write(path: &Path, text: &str) {
    if path.to_string_lossy().ends_with(".gz") {
        let mut gz =
            flate2::write::GzEncoder::new(std::fs::File::create(path).unwrap(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
    } else {
        std::fs::write(path, text).unwrap();
    }
}

/// A gzip file cut short: the first half of the compressed bytes of `text`.
fn truncated_gzip(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = file(name, text);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    (dir, path)
}

/// Every task of a file, through the one entry point, in its detected format.
fn tasks_of(path: &Path, options: &ReadOptions) -> Result<Vec<TaskSpec>, String> {
    let short = |e: datasets::Error| {
        let text = e.to_string();
        text.rsplit('/').next().unwrap_or(&text).to_string()
    };
    let (_, opened) = open(path, None, options, &FormatOptions::default()).map_err(short)?;
    let datasets::Opened::Tasks(_, stream) = opened else {
        panic!("not tasks")
    };
    stream.collect::<Result<Vec<_>, _>>().map_err(short)
}

fn error_of(path: &Path) -> String {
    tasks_of(path, &ReadOptions::default()).expect_err("the fixture is bad")
}

fn names(tasks: &[TaskSpec]) -> Vec<&str> {
    tasks.iter().map(|t| t.name.as_str()).collect()
}

fn parents(tasks: &[TaskSpec], i: usize) -> Vec<(&str, i64)> {
    tasks[i]
        .after
        .iter()
        .map(|a| (tasks[a.task as usize].name.as_str(), a.delay))
        .collect()
}

const TASKS_CSV: &str = "\
# an ETL job and a lone task
id,job,arrival,duration,cpus,mem,gpus,instances,after,priority,group,max_per_machine
load,etl,0,5,4,2048,,1,clean@2.5,1,,
extract,etl,0,10.25,2,1024,,1,,,,
clean,etl,0,20,1,512,,4,extract,,,
solo,,3.5,,0.5,256,0.5,2,,-2,web,1
";

#[test]
fn packsim_tasks_from_csv_and_json_lines_are_the_same() {
    let (_d, csv) = file("my-tasks.csv", TASKS_CSV);
    assert_eq!(detect(&csv).unwrap(), Format::PacksimTasks);
    let tasks = tasks_of(&csv, &ReadOptions::default()).unwrap();
    // Arrival order, file order on ties: the edges follow the tasks to their new places.
    assert_eq!(names(&tasks), ["load", "extract", "clean", "solo"]);
    assert_eq!(parents(&tasks, 0), [("clean", 2_500_000)]);
    assert_eq!(parents(&tasks, 2), [("extract", 0)]);
    let clean = &tasks[2];
    assert_eq!(
        (clean.instances, clean.duration, clean.demand.clone()),
        (4, Some(20 * SECOND), vec![1000, 512, 0])
    );
    assert_eq!(tasks[1].duration, Some(10_250_000));
    let solo = &tasks[3];
    assert_eq!(
        (solo.arrival, solo.duration, solo.priority),
        (3_500_000, None, -2)
    );
    assert_eq!(
        (solo.demand.clone(), solo.group.as_deref(), solo.max_per_machine),
        (vec![500, 256, 500], Some("web"), Some(1))
    );
    assert_eq!(
        (solo.job.as_deref(), tasks[0].job.as_deref()),
        (None, Some("etl"))
    );

    let jsonl = "\
{\"id\": \"load\", \"job\": \"etl\", \"arrival\": 0, \"duration\": 5, \"cpus\": 4, \"mem\": 2048, \"after\": [\"clean@2.5\"], \"priority\": 1}
{\"id\": \"extract\", \"job\": \"etl\", \"duration\": \"10.25\", \"cpus\": 2, \"mem\": 1024}
# comments and blank lines are allowed

{\"id\": \"clean\", \"job\": \"etl\", \"duration\": 20, \"cpus\": 1, \"mem\": 512, \"instances\": 4, \"after\": \"extract\"}
{\"id\": \"solo\", \"arrival\": 3.5, \"cpus\": 0.5, \"mem\": 256, \"gpus\": 0.5, \"instances\": 2, \"priority\": -2, \"group\": \"web\", \"max_per_machine\": 1}
";
    let (_d, path) = file("my-tasks.jsonl", jsonl);
    assert_eq!(detect(&path).unwrap(), Format::PacksimTasks);
    assert_eq!(tasks_of(&path, &ReadOptions::default()).unwrap(), tasks);
}

#[test]
fn packsim_openb_gpu_columns_become_a_device_request() {
    let (_d, path) = file(
        "t.csv",
        "id,arrival,cpus,mem,gpus,num_gpu,gpu_milli,gpu_spec\na,0,1,1,,1,300,V100|T4\nb,0,1,1,2,2,1000,\n",
    );
    let tasks = tasks_of(&path, &ReadOptions::default()).unwrap();
    assert_eq!((tasks[0].gpu, tasks[0].demand[2]), (GpuDemand::Share(300), 300));
    assert_eq!(tasks[0].gpu_models, ["V100", "T4"]);
    assert_eq!((tasks[1].gpu, tasks[1].demand[2]), (GpuDemand::Whole(2), 2000));
}

#[test]
fn packsim_task_files_refuse_bad_input_naming_file_line_column_and_value() {
    let header = "id,job,arrival,duration,cpus,after\n";
    let cases = [
        (
            "a,j,0,1,1,b\nb,j,0,1,1,c\nc,j,0,1,1,a\n",
            "t.csv:2: task `a` is on a dependency cycle: a waits for b waits for c waits for a",
        ),
        (
            "a,j,0,1,1,\nb,j,0,1,1,x\n",
            "t.csv:3: task `b`: column `after`: `x` is not a task of job `j`",
        ),
        (
            "a,j,0,1,1,\nb,k,0,1,1,a\n",
            "t.csv:3: task `b`: column `after`: `a` is not a task of job `k`",
        ),
        (
            "a,j,0,1,1,a\n",
            "t.csv:2: task `a`: column `after`: `a` waits for itself",
        ),
        (
            "a,j,0,1,1,\nb,j,0,1,1,a;a\n",
            "t.csv:3: task `b`: column `after`: `a` names the same parent twice",
        ),
        ("a,j,0,-4,1,\n", "t.csv:2: column `duration`: `-4` is negative"),
        ("a,j,0,1,x,\n", "t.csv:2: column `cpus`: `x` is not a number"),
        (
            "a,j,zero,1,1,\n",
            "t.csv:2: column `arrival`: `zero` is not a number of seconds",
        ),
        (
            "a,j,0,1,1,\na,j,0,1,1,\n",
            "t.csv:3: duplicate id `a` in job `j` (first on line 2)",
        ),
        (
            "a,j,0,1,1,b@-1\n",
            "t.csv:2: column `after`: `b@-1` has a negative delay",
        ),
        ("a,j,0,1\n", "t.csv:2: expected 6 fields like the header, found 4"),
    ];
    for (rows, want) in cases {
        let (_d, path) = file("t.csv", &format!("{header}{rows}"));
        assert_eq!(error_of(&path), want, "{rows}");
    }
    let (_d, path) = file("t.csv", "job,arrival,cpus\nj,0,1\n");
    assert_eq!(
        error_of(&path),
        "t.csv:1: missing column `id` (found: job,arrival,cpus)"
    );
    let (_d, path) = truncated_gzip("t.csv.gz", &format!("{header}{}", "a,j,0,1,1,\n".repeat(2000)));
    let e = error_of(&path);
    assert!(
        e.starts_with("t.csv.gz: read failed") || e.starts_with("t.csv.gz:"),
        "{e}"
    );
    let (_d, path) = file(
        "t.jsonl",
        "{\"id\": \"a\", \"arrival\": 0, \"cpus\": 1}\n{\"id\": \"b\", \"cpus\": [1]}\n{oops\n",
    );
    assert_eq!(
        error_of(&path),
        "t.jsonl:3: column 2: invalid JSON: key must be a string"
    );
}

#[test]
fn skip_bad_rows_drops_bad_rows_and_unknown_parents_and_counts_them() {
    let (_d, path) = file(
        "t.csv",
        "id,job,arrival,duration,cpus,after\na,j,0,1,1,\nb,j,0,-1,1,a\nc,j,0,1,1,a;zz\n",
    );
    let options = ReadOptions {
        skip_bad_rows: true,
        scale: None,
    };
    let (_, opened) = open(&path, None, &options, &FormatOptions::default()).unwrap();
    let datasets::Opened::Tasks(_, stream) = opened else {
        panic!()
    };
    assert_eq!(stream.skipped().total(), 1);
    assert_eq!(stream.ignored().get("parent not in the trace"), Some(&1));
    let tasks: Vec<TaskSpec> = stream.map(Result::unwrap).collect();
    assert_eq!(names(&tasks), ["a", "c"]);
    assert_eq!(tasks[1].after, [After { task: 0, delay: 0 }]);
}

#[test]
fn packsim_machines_with_events_and_replay_with_nothing_else() {
    let (dir, tasks) = file("my-tasks.csv", TASKS_CSV);
    let machines = dir.path().join("my-machines.csv");
    write(
        &machines,
        "id,time,event,cpus,mem,gpus,gpu_model\na,,,8,8192,1,T4\nb,0,add,4,4096,0,\nb,30,remove,,,,\nc,60,add,4,4096,,\n",
    );
    assert_eq!(detect(&machines).unwrap(), Format::PacksimMachines);
    // In JSON Lines, a later line's `event` makes it a machine file.
    let jsonl = dir.path().join("m.jsonl");
    write(
        &jsonl,
        "{\"id\": \"a\", \"cpus\": 4}\n{\"id\": \"a\", \"time\": 30, \"event\": \"remove\"}\n",
    );
    assert_eq!(detect(&jsonl).unwrap(), Format::PacksimMachines);
    let source = TaskSource::parse(tasks.to_str().unwrap(), 1);
    let cluster = ClusterSource::parse(machines.to_str().unwrap());
    let (w, _) = load(
        &source,
        Some(&cluster),
        &ReadOptions::default(),
        &FormatOptions::default(),
    )
    .unwrap();
    assert_eq!(w.machines.len(), 2);
    assert_eq!(
        w.machines[0].gpus.as_ref().map(|g| (g.count, g.model.as_str())),
        Some((1, "T4"))
    );
    assert_eq!(w.machine_events.len(), 2);
    assert!(matches!(w.machine_events[0].change, MachineChange::Remove));
    // A plain `id,cpus,mem,gpus` file (packsim pack's bins) is a machine list too.
    write(&machines, "id,cpus,mem,gpus\na,8,8192,1\n");
    let (w, _) = load(
        &source,
        Some(&cluster),
        &ReadOptions::default(),
        &FormatOptions::default(),
    )
    .unwrap();
    assert_eq!(w.machines[0].capacity, vec![8000, 8192, 1000]);
    write(&machines, "id,time,event,cpus,mem,gpus\nb,0,explode,4,4096,0\n");
    let e = load(
        &source,
        Some(&cluster),
        &ReadOptions::default(),
        &FormatOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.ends_with("my-machines.csv:2: column `event`: `explode` is not `add`, `remove` or `update`"),
        "{e}"
    );
}

const SWF: &str = "\
; Version: 2.2
; Computer: a hand-written test log
; MaxNodes: 4
; MaxProcs: 16
1 0 5 100 4 -1 -1 4 120 -1 1 7 1 -1 1 -1 -1 -1
2 10 0 50 -1 -1 -1 2 60 -1 1 7 1 -1 1 -1 1 30
3 20 0 -1 2 -1 -1 -1 90 -1 0 8 1 -1 2 -1 -1 -1
4 25 0 -1 -1 -1 -1 -1 -1 -1 5 8 1 -1 2 -1 -1 -1
";

#[test]
fn swf_jobs_their_preceding_jobs_and_the_header_cluster() {
    let (_d, path) = file("log.swf", SWF);
    assert_eq!(detect(&path).unwrap(), Format::Swf);
    let (_, loaded) = swf::tasks(&path, &ReadOptions::default()).unwrap();
    use datasets::Stream;
    assert_eq!(loaded.ignored().get("job without a processor count"), Some(&1));
    let tasks: Vec<TaskSpec> = loaded.map(Result::unwrap).collect();
    assert_eq!(names(&tasks), ["1", "2", "3"]);
    // Job 2 waits for job 1 and 30 s of think time; 2 processors requested → 2 one-core instances.
    assert_eq!(parents(&tasks, 1), [("1", 30 * SECOND)]);
    assert_eq!(
        (tasks[1].instances, tasks[1].duration, tasks[1].demand.clone()),
        (2, Some(50 * SECOND), vec![1000])
    );
    // Job 3 has no run time: its requested time stands in; allocated processors when none requested.
    assert_eq!((tasks[2].instances, tasks[2].duration), (2, Some(90 * SECOND)));
    assert_eq!(tasks[2].group.as_deref(), Some("user 8"));
    let cluster = swf::cluster(&path).unwrap();
    assert_eq!(cluster.len(), 4);
    assert_eq!(cluster[0].capacity, vec![4000]);
    // `packsim replay -w log.swf` needs nothing else.
    let (w, _) = load(
        &TaskSource::parse(path.to_str().unwrap(), 1),
        None,
        &ReadOptions::default(),
        &FormatOptions::default(),
    )
    .unwrap();
    assert_eq!((w.machines.len(), w.tasks.len()), (4, 3));
}

#[test]
fn swf_bad_input_is_named() {
    let head = "; MaxProcs: 8\n";
    let cases = [
        (
            "1 0 0 10 1 -1 -1 1 -1 -1 1 1 1 -1 1 -1 2 0\n2 0 0 10 1 -1 -1 1 -1 -1 1 1 1 -1 1 -1 1 0\n",
            "log.swf:2: task `1` is on a dependency cycle: 1 waits for 2 waits for 1",
        ),
        (
            "1 0 0 10 1 -1 -1 1 -1 -1 1 1 1 -1 1 -1 9 0\n",
            "log.swf:2: task `1`: column `preceding_job`: `9` is not a task",
        ),
        (
            "1 0 0 -10 1 -1 -1 1 -1 -1 1 1 1 -1 1 -1 -1 -1\n",
            "log.swf:2: column `run_time`: `-10` is negative (only -1 means unknown)",
        ),
        (
            "1 0 0 ten 1 -1 -1 1 -1 -1 1 1 1 -1 1 -1 -1 -1\n",
            "log.swf:2: column `run_time`: `ten` is not a number",
        ),
        (
            "1 0 0 10 1\n",
            "log.swf:2: column `average_cpu_time`: is missing (the line has 5 fields, 18 expected)",
        ),
    ];
    for (rows, want) in cases {
        let (_d, path) = file("log.swf", &format!("{head}{rows}"));
        assert_eq!(error_of(&path), want, "{rows}");
    }
    let jobs: String = (1..3000)
        .map(|i| format!("{i} 0 0 10 1 -1 -1 1 -1 -1 1 1 1 -1 1 -1 -1 -1\n"))
        .collect();
    let (_d, path) = truncated_gzip("log.swf.gz", &format!("{head}{jobs}"));
    assert!(
        error_of(&path).starts_with("log.swf.gz: read failed"),
        "{}",
        error_of(&path)
    );
    let (_d, path) = file(
        "log.swf",
        "; Computer: nothing said\n1 0 0 10 1 -1 -1 1 -1 -1 1 1 1 -1 1 -1 -1 -1\n",
    );
    let e = swf::cluster(&path).unwrap_err().to_string();
    assert!(e.ends_with("log.swf: the header gives neither MaxNodes nor MaxProcs: pass --cluster FILE or a spec like 128:cpus=1"), "{e}");
}

/// Alibaba 2018 `batch_task` rows (no header): task_name, instance_num, job_name, task_type,
/// status, start_time, end_time, plan_cpu, plan_mem.
const ALIBABA: &str = "\
M1,2,j_1,1,Terminated,100,110,100,0.5
M2_1,1,j_1,1,Terminated,100,130,50,0.3
R3_1_2,1,j_1,1,Terminated,100,140,100,0.2
R4_3_3,1,j_1,1,Terminated,100,150,100,0.2
M5_9,1,j_1,1,Terminated,100,150,100,0.2
M6_6,1,j_1,1,Terminated,100,150,100,0.2
task_LTg0MTUwNTA5,1,j_1,1,Terminated,100,120,100,0.2
M1,1,j_2,1,Terminated,200,210,100,0.2
J2_1,1,j_2,1,Terminated,200,230,100,0.2
M1_2,1,j_3,1,Terminated,300,310,100,0.2
M2_1,1,j_3,1,Terminated,300,310,100,0.2
";

#[test]
fn alibaba_2018_task_names_decode_into_dags() {
    let (dir, path) = file("batch_task.csv", ALIBABA);
    let cluster = ClusterSource::parse("4:cpus=96,mem=393216");
    let (w, report) = load(
        &TaskSource::parse(path.to_str().unwrap(), 1),
        Some(&cluster),
        &ReadOptions::default(),
        &FormatOptions::default(),
    )
    .unwrap();
    drop(dir);
    let t = &w.tasks;
    let at = |name: &str| t.iter().position(|x| x.name == name).unwrap();
    assert_eq!(parents(t, at("j_1/M2_1")), [("j_1/M1", 0)]);
    assert_eq!(parents(t, at("j_1/R3_1_2")), [("j_1/M1", 0), ("j_1/M2_1", 0)]);
    // Repeated parent kept once; a parent missing from the job and the task itself dropped.
    assert_eq!(parents(t, at("j_1/R4_3_3")), [("j_1/R3_1_2", 0)]);
    assert!(t[at("j_1/M5_9")].after.is_empty() && t[at("j_1/M6_6")].after.is_empty());
    assert!(t[at("j_1/task_LTg0MTUwNTA5")].after.is_empty());
    // Names are per job: j_2's M1 is its own.
    assert_eq!(parents(t, at("j_2/J2_1")), [("j_2/M1", 0)]);
    // j_3 is a cycle (1 after 2, 2 after 1): broken at the first task, its parent dropped.
    assert_eq!(t[at("j_3/M1_2")].after.len() + t[at("j_3/M2_1")].after.len(), 1);
    let ignored = &report.files[0].3;
    assert_eq!(ignored.get("repeated parent"), Some(&1));
    assert_eq!(ignored.get("parent not in the trace"), Some(&1));
    assert_eq!(ignored.get("task waiting for itself"), Some(&1));
    assert_eq!(ignored.get("parent on a dependency cycle"), Some(&1));
    assert_eq!(t[at("j_1/M1")].job.as_deref(), Some("j_1"));
    // `packsim dataset info`: 3 jobs; M2_1, R3_1_2, R4_3_3, J2_1 and one of j_3's tasks wait
    // (1 + 2 + 1 + 1 + 1 = 6 edges); j_1's chain M1 → M2 → R3 → R4 is 4 levels deep; its first
    // level holds M1, M5_9, M6_6 and task_… (4 tasks).
    let (_d, path) = file("batch_task.csv", ALIBABA);
    let info =
        datasets::info::summarize(&path, None, &ReadOptions::default(), &FormatOptions::default()).unwrap();
    let g = info[0].tasks.as_ref().unwrap().graphs.clone().unwrap();
    assert_eq!(
        (g.jobs, g.with_parents, g.edges, g.depth, g.width),
        (3, 5, 6, 4, 4)
    );
    let text = info[0].to_string();
    assert!(
        text.contains("jobs        3; 5 tasks wait for others (6 dependencies)"),
        "{text}"
    );
}

#[test]
fn alibaba_2018_bad_rows_are_named() {
    let cases = [
        (
            "M1,1,j_1,1,Terminated,100,90,100,0.5\n",
            "batch_task.csv:1: column `end_time`: `90` is before start_time",
        ),
        (
            "M1,1,j_1,1,Terminated,100,110,x,0.5\n",
            "batch_task.csv:1: column `plan_cpu`: `x` is not a number",
        ),
        (
            "M1,1,j_1,1,Terminated,100,110,-5,0.5\n",
            "batch_task.csv:1: column `plan_cpu`: `-5` is negative",
        ),
    ];
    for (rows, want) in cases {
        let (_d, path) = file("batch_task.csv", rows);
        assert_eq!(error_of(&path), want);
    }
    let (_d, path) = truncated_gzip("batch_task.csv.gz", &ALIBABA.repeat(500));
    assert!(
        error_of(&path).starts_with("batch_task.csv.gz: read failed"),
        "{}",
        error_of(&path)
    );
}

fn instance(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wfcommons")
        .join(name)
}

#[test]
fn wfcommons_generated_instances_keep_every_task_and_edge() {
    for (name, tasks, edges) in [("blast-43.json", 43, 120), ("epigenomics-57.json", 57, 68)] {
        let path = instance(name);
        assert_eq!(detect(&path).unwrap(), Format::Wfcommons);
        let (_, loaded) = wfcommons::tasks(&path).unwrap();
        let list: Vec<TaskSpec> = loaded.map(Result::unwrap).collect();
        assert_eq!(list.len(), tasks, "{name}");
        assert_eq!(list.iter().map(|t| t.after.len()).sum::<usize>(), edges, "{name}");
        // Against the JSON itself: each task's parents and runtime.
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let spec = doc["workflow"]["specification"]["tasks"].as_array().unwrap();
        let exec = doc["workflow"]["execution"]["tasks"].as_array().unwrap();
        for (s, e) in spec.iter().zip(exec) {
            let t = list.iter().find(|t| t.name == s["id"].as_str().unwrap()).unwrap();
            let mut want: Vec<&str> = s["parents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            let mut got: Vec<&str> = t
                .after
                .iter()
                .map(|a| list[a.task as usize].name.as_str())
                .collect();
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want);
            let runtime = e["runtimeInSeconds"].as_f64().unwrap();
            assert_eq!(t.duration, Some((runtime * 1e6).round() as i64));
            assert_eq!(t.demand[0], 1000 * e["coreCount"].as_u64().unwrap());
            assert!(
                t.job
                    .as_deref()
                    .is_some_and(|j| j.ends_with("-synthetic-instance"))
            );
        }
    }
}

#[test]
fn wfcommons_older_schema_and_the_request_rule() {
    let (_, loaded) = wfcommons::tasks(&instance("old-schema.json")).unwrap();
    let t: Vec<TaskSpec> = loaded.map(Result::unwrap).collect();
    assert_eq!(names(&t), ["split", "work_1", "work_2", "merge"]);
    // split: 2 cores recorded, 1,048,576 KiB = 1024 MiB; work_1: avgCPU 250% → 3 cores, 2000 KiB
    // → 2 MiB rounded up; work_2: nothing recorded → 1 core, 0 MiB.
    assert_eq!(t[0].demand, vec![2000, 1024]);
    assert_eq!(t[1].demand, vec![3000, 2]);
    assert_eq!(t[2].demand, vec![1000, 0]);
    assert_eq!(t[0].duration, Some(10_500_000));
    assert_eq!(parents(&t, 3), [("work_1", 0), ("work_2", 0)]);
}

#[test]
fn wfcommons_bad_instances_are_named() {
    let wf = |jobs: &str| format!("{{\"name\": \"w\", \"workflow\": {{\"jobs\": [{jobs}]}}}}");
    let cases = [
        (
            wf(
                r#"{"name": "a", "runtime": 1, "parents": ["b"]}, {"name": "b", "runtime": 1, "parents": ["a"]}"#,
            ),
            "w.json:1: task `a` is on a dependency cycle: a waits for b waits for a",
        ),
        (
            wf(r#"{"name": "a", "runtime": 1, "parents": ["zz"]}"#),
            "w.json:1: task `a`: column `parents`: `zz` is not a task of job `w`",
        ),
        (
            wf(r#"{"name": "a", "runtime": -1}"#),
            "w.json: task `a` (#1): `runtime` = `-1` is negative",
        ),
        (
            wf(r#"{"name": "a", "runtime": "long"}"#),
            "w.json: task `a` (#1): `runtime` = `\"long\"` is not a number",
        ),
        (
            "{\"name\": \"w\"}".to_string(),
            "w.json: no `workflow` object: not a WfCommons instance",
        ),
        (
            "{\"name\": \"w\", \"workflow\": ".to_string(),
            "w.json:1: column 26: invalid JSON: EOF while parsing a value",
        ),
    ];
    for (text, want) in cases {
        let (_d, path) = file("w.json", &text);
        assert_eq!(error_of(&path), want);
    }
    let big = std::fs::read_to_string(instance("blast-43.json")).unwrap();
    let (_d, path) = truncated_gzip("w.json.gz", &big);
    let e = error_of(&path);
    assert!(e.starts_with("w.json.gz: not readable"), "{e}");
}

#[test]
fn every_source_replays_with_jobs() {
    // The four file sources and synthetic:dags, through load and the simulator.
    let (_d1, own) = file("my-tasks.csv", TASKS_CSV);
    let (_d2, swf_log) = file("log.swf", SWF);
    let (_d3, ali) = file("batch_task.csv", ALIBABA);
    let sources: Vec<(String, Option<&str>)> = vec![
        (own.to_string_lossy().into(), Some("2:cpus=8,mem=8192,gpus=1")),
        (swf_log.to_string_lossy().into(), None),
        (ali.to_string_lossy().into(), Some("4:cpus=96,mem=393216")),
        (
            instance("epigenomics-57.json").to_string_lossy().into(),
            Some("4:cpus=8,mem=1024"),
        ),
        ("synthetic:dags".into(), None),
    ];
    for (source, cluster) in sources {
        let cluster = cluster.map(ClusterSource::parse);
        let (w, _) = load(
            &TaskSource::parse(&source, 1),
            cluster.as_ref(),
            &ReadOptions::default(),
            &FormatOptions::default(),
        )
        .unwrap();
        let policy = packing::Policy::parse("best-fit", &w.schema).unwrap();
        let o = sim::run(&w, &policy, &sim::Config::default()).unwrap();
        let jobs = o
            .summary
            .jobs
            .as_ref()
            .unwrap_or_else(|| panic!("{source}: no jobs"));
        assert!(jobs.completed > 0, "{source}: {jobs:?}");
        assert!(jobs.slowdown.is_some_and(|s| s.mean >= 1.0 - 1e-9), "{source}");
    }
}
