//! The comparison report end to end: golden CSV, resuming, a self-contained page, a real browser.

use std::path::{Path, PathBuf};
use std::process::Command;

use reports::compare::Provenance;
use reports::{Experiment, RunOptions};

/// The small fixed grid the golden file holds: 2 policies × 2 models × 2 seeds.
fn small_grid() -> Experiment {
    Experiment {
        workloads: vec!["synthetic:default".into()],
        cluster: None,
        policies: vec!["first-fit".into(), "dot-product".into()],
        models: vec![sim::ModelKind::Global, sim::ModelKind::ArriveOnly],
        seeds: vec![1, 2],
        scales: vec![1.0],
        target: 1.3,
    }
}

fn provenance() -> Provenance {
    Provenance {
        command: "packsim compare (test)".into(),
        version: "test".into(),
    }
}

fn run_all(dir: &Path, experiment: &Experiment, limit: Option<usize>) -> usize {
    let options = RunOptions {
        jobs: 2,
        limit,
        ..RunOptions::default()
    };
    let results = reports::run::run_grid(dir, &experiment.runs(), &options, &|_| {}).unwrap();
    if results.len() == experiment.runs().len() {
        reports::compare::write(dir, experiment, &results, &provenance()).unwrap();
    }
    results.len()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn results_csv_matches_the_golden_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run_all(dir.path(), &small_grid(), None), 8);
    let got = read(&dir.path().join("results.csv"));
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/results.csv");
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::write(&golden, &got).unwrap();
    }
    let want = read(&golden);
    // Line by line, so a difference names the run and metric.
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(
            g,
            w,
            "results.csv line {} differs from tests/golden/results.csv (UPDATE_GOLDEN=1 rewrites it)",
            i + 1
        );
    }
    assert_eq!(got.lines().count(), want.lines().count());
    // Tidy: one row per run and metric, the configuration on every row.
    assert!(got.starts_with("run,workload,cluster,policy,model,seed,scale,target,metric,value\n"));
    assert!(got.contains(",synthetic:default,,dot-product,arrive-only,2,1,1.3,utilisation_cpus,"));
}

#[test]
fn a_resumed_grid_gives_the_same_csv_as_a_full_run_and_reuses_stored_runs() {
    let full = tempfile::tempdir().unwrap();
    run_all(full.path(), &small_grid(), None);
    let resumed = tempfile::tempdir().unwrap();
    assert_eq!(
        run_all(resumed.path(), &small_grid(), Some(3)),
        3,
        "interrupted after 3 runs"
    );
    let stored: Vec<(PathBuf, String)> = std::fs::read_dir(resumed.path().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = read(&p);
            (p, text)
        })
        .collect();
    assert_eq!(stored.len(), 3);
    assert!(!resumed.path().join("results.csv").exists());
    assert_eq!(run_all(resumed.path(), &small_grid(), None), 8);
    for (path, before) in stored {
        // A stored run is not recomputed: its file (with its wall-clock time) is untouched.
        assert_eq!(read(&path), before, "{} was recomputed", path.display());
    }
    for file in ["results.csv", "summary.csv", "ranking.csv"] {
        assert_eq!(
            read(&resumed.path().join(file)),
            read(&full.path().join(file)),
            "{file}"
        );
    }
}

/// Checks that the tags of an HTML document nest (void elements aside; script and style skipped).
fn check_nesting(html: &str) {
    const VOID: [&str; 6] = ["meta", "br", "img", "link", "input", "hr"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with('!') {
            rest = &rest[rest.find('>').unwrap() + 1..];
            continue;
        }
        let end = rest.find('>').expect("unterminated tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ':')
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() || tag.ends_with('/') || VOID.contains(&name.as_str()) {
            continue;
        }
        if closing {
            let open = stack.pop().unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(open, name, "<{open}> closed by </{name}>");
        } else {
            if name == "script" || name == "style" {
                let close = format!("</{name}>");
                rest = &rest[rest.find(&close).expect("closed") + close.len()..];
                continue;
            }
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

#[test]
fn the_report_is_self_contained_and_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    run_all(dir.path(), &small_grid(), None);
    let html = read(&dir.path().join("report.html"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    check_nesting(&html);
    // Nothing is fetched: no external scripts, styles, images or fonts.
    for needle in ["src=", "<link", "@import", "url(", "href=\"http", "href='http"] {
        assert!(!html.contains(needle), "report.html contains `{needle}`");
    }
    // The only URLs are SVG namespace names, which browsers never fetch.
    let without_ns = html
        .replace("http://www.w3.org/2000/svg", "")
        .replace("http://www.w3.org/1999/xlink", "");
    assert!(!without_ns.contains("http://") && !without_ns.contains("https://"));
    // Plots inline: ranking, allocation, fragmentation (arrive-only); ranking, utilisation per
    // dimension, wait CDF, machines, machines ratio, fragmentation (global).
    let svgs = html.matches("<svg").count();
    assert_eq!(svgs, 3 + 1 + 2 + 1 + 2 + 1, "inline plots");
    assert!(html.contains("packsim compare (test)"), "states the command");
    assert!(html.contains("seeds [1, 2]"), "states the seeds");
    let md = read(&dir.path().join("report.md"));
    assert!(md.contains("Made by `packsim compare (test)`") && md.contains("![plots/ranking-"));
    // One document, two renderings: every section and figure of the page is in the Markdown.
    let sections = html.matches("<h2>").count();
    assert!(sections >= 2);
    assert_eq!(md.matches("\n## ").count(), sections, "{md}");
    assert_eq!(md.matches("![plots/").count(), svgs);
    for entry in std::fs::read_dir(dir.path().join("plots")).unwrap() {
        let p = entry.unwrap().path();
        let svg = read(&p);
        check_nesting(&svg[svg.find("<svg").unwrap()..]);
    }
}

/// Chromium, when installed (Debian package `chromium`): `.ci/run` installs it and sets
/// PACKSIM_REQUIRE_CHROMIUM=1 so that this test cannot skip there.
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(name).output() {
            if out.status.success() {
                return Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
            }
        }
    }
    assert!(
        std::env::var("PACKSIM_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
        "PACKSIM_REQUIRE_CHROMIUM=1 but no chromium on PATH"
    );
    eprintln!("skipping the browser test: no chromium on PATH (apt install chromium)");
    None
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    run_all(dir.path(), &small_grid(), None);
    let page = dir.path().join("report.html");
    let url = format!("file://{}", page.display());
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ];
    let dom = Command::new(&chromium)
        .args(flags)
        .arg("--virtual-time-budget=2000")
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        dom.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    // The browser parsed every plot as SVG and the tables as tables.
    assert_eq!(dom.matches("<svg").count(), read(&page).matches("<svg").count());
    assert!(
        dom.matches("<polyline").count() + dom.matches("<path").count() > 10,
        "plots have lines"
    );
    assert!(dom.contains("<table class=\"sortable\">") && dom.contains("dot-product"));
    // Screenshots to look at, as a wide and a narrow screen show the page:
    // target/report-screenshot-1400.png and target/report-screenshot-500.png.
    for width in [1400, 500] {
        let shot =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../target/report-screenshot-{width}.png"));
        let status = Command::new(&chromium)
            .args(flags)
            .arg(format!("--window-size={width},3000"))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(&url)
            .output()
            .expect("chromium runs");
        assert!(status.status.success());
        let png = std::fs::read(&shot).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 20_000,
            "a real screenshot"
        );
        // The PNG's width (IHDR, big-endian at byte 16) is the window's: nothing overflows into
        // a wider canvas.
        let w = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        assert_eq!(w, width);
    }
    // Charts scale with the page: an SVG wider than a narrow screen would need scrolling.
    let html = read(&page);
    assert!(html.contains("figure svg{max-width:100%;height:auto}"));
}

/// A grid over one small openb-format trace in `dir`, first fit, global model, one seed.
fn trace_grid(trace: &Path) -> Experiment {
    Experiment {
        workloads: vec![trace.to_string_lossy().into_owned()],
        cluster: Some("4:cpus=8,mem=16384".into()),
        policies: vec!["first-fit".into()],
        models: vec![sim::ModelKind::Global],
        seeds: vec![1],
        scales: vec![1.0],
        target: 1.3,
    }
}

fn write_pods(path: &Path, cpu_milli: u64) {
    let mut text = String::from(
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n",
    );
    for i in 0..20 {
        text += &format!(
            "p{i},{cpu_milli},1024,0,0,,LS,Running,{},{},{}\n",
            i * 10,
            i * 10 + 50,
            i * 10
        );
    }
    std::fs::write(path, text).unwrap();
}

/// Runs the grid; returns (runs reused from an earlier run, the mean CPU utilisation).
fn run_counting(out: &Path, grid: &Experiment) -> (usize, f64) {
    let reused = std::sync::atomic::AtomicUsize::new(usize::MAX);
    let results = reports::run::run_grid(out, &grid.runs(), &RunOptions::default(), &|p| {
        reused.fetch_min(p.reused, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    let cpu = results[0]
        .metrics
        .iter()
        .find(|(n, _)| n == "utilisation_cpus")
        .unwrap()
        .1;
    (reused.into_inner(), cpu)
}

#[test]
fn an_edited_trace_is_run_again_not_reused() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("pods.csv");
    let out = dir.path().join("out");
    write_pods(&trace, 2000);
    let grid = trace_grid(&trace);
    let (reused, before) = run_counting(&out, &grid);
    assert_eq!(reused, 0);
    // Unchanged inputs: the stored run is reused.
    assert_eq!(run_counting(&out, &grid), (1, before));
    // The same file name with other contents: a new run, with the new numbers.
    write_pods(&trace, 4000);
    let (reused, after) = run_counting(&out, &grid);
    assert_eq!(reused, 0, "the edited trace reused a stored run");
    assert!((after - 2.0 * before).abs() < 1e-9, "{before} → {after}");
}

#[test]
fn a_workload_with_jobs_is_ranked_by_mean_slowdown_and_reports_completion_times() {
    // Two jobs of a diamond each, on 2 machines of 2 cores: first fit and worst fit.
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("jobs.csv");
    let mut text = String::from("id,job,arrival,duration,cpus,mem,after\n");
    for j in 0..2 {
        text += &format!(
            "a,j{j},{},10,2,1,\nb,j{j},{},20,1,1,a\nc,j{j},{},30,1,1,a\nd,j{j},{},5,2,1,b;c\n",
            j * 5,
            j * 5,
            j * 5,
            j * 5
        );
    }
    std::fs::write(&trace, text).unwrap();
    let out = dir.path().join("out");
    let grid = Experiment {
        workloads: vec![trace.to_string_lossy().into_owned()],
        cluster: Some("2:cpus=2,mem=16".into()),
        policies: vec!["first-fit".into(), "worst-fit".into()],
        models: vec![sim::ModelKind::Global],
        seeds: vec![1, 2],
        scales: vec![1.0],
        target: 1.3,
    };
    assert_eq!(run_all(&out, &grid, None), 4);
    let groups = reports::compare::summarise(
        &reports::run::run_grid(&out, &grid.runs(), &RunOptions::default(), &|_| {}).unwrap(),
    );
    assert_eq!(groups[0].metric, ("slowdown_mean".to_string(), true));
    let csv = read(&out.join("results.csv"));
    for metric in [
        "jct_mean_s",
        "jct_p99_s",
        "slowdown_mean",
        "jobs_completed",
        "job_makespan_mean_s",
    ] {
        assert!(
            csv.contains(&format!(",{metric},")),
            "{metric} missing from results.csv"
        );
    }
    let md = read(&out.join("report.md"));
    assert!(
        md.contains("slowdown_mean") && md.contains("jct_mean_s"),
        "the report shows job metrics"
    );
}
