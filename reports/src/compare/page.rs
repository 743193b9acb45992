//! The comparison as a document: the header, the cross-workload table of the arrive-only
//! replays, and one section per setting (ranking, metrics, plots).

use std::path::Path;

use sim::ModelKind;

use super::aggregate::{GroupSummary, arrived_dim};
use super::series::{Series, curves_by_policy, hours};
use super::{Provenance, fmt, tables};
use crate::Error;
use crate::doc::{Document, Table};
use crate::experiment::Experiment;
use crate::plot::{self, Bar, Line};
use crate::run::{RunResult, write_atomic};

/// What every section needs: the output folder, the document, and each policy's colour.
struct Writer<'a> {
    dir: &'a Path,
    doc: Document,
    experiment: &'a Experiment,
}

impl Writer<'_> {
    /// A policy's colour index: its place in the experiment, the same in every plot.
    fn colour(&self, policy: &str) -> usize {
        self.experiment
            .policies
            .iter()
            .position(|q| q == policy)
            .unwrap_or(0)
    }

    /// Writes the figure's file and puts it in the document.
    fn figure(&mut self, file: &str, svg: &str) -> Result<(), Error> {
        write_atomic(&self.dir.join(file), svg.as_bytes())?;
        self.doc.figure(file, svg);
        Ok(())
    }
}

/// The whole report of `results`, grouped as `groups`; writes the plots and the series files.
pub(super) fn document(
    dir: &Path,
    experiment: &Experiment,
    results: &[RunResult],
    groups: &[GroupSummary],
    provenance: &Provenance,
) -> Result<Document, Error> {
    let mut w = Writer {
        dir,
        doc: Document::new("packsim policy comparison"),
        experiment,
    };
    header(&mut w.doc, experiment, results.len(), provenance);
    across_workloads(&mut w, groups)?;
    for g in groups {
        group_section(&mut w, g)?;
    }
    w.doc.paragraph(
        "Files: `results.csv` (one row per run and metric), `summary.csv` (mean and 95% interval), \
         `ranking.csv`, `series/`, `plots/`, `runs/` (each run's own result; a rerun skips them).",
    );
    Ok(w.doc)
}

fn header(doc: &mut Document, experiment: &Experiment, runs: usize, provenance: &Provenance) {
    doc.meta(&format!(
        "Made by `{}` with packsim {}. {} runs: {} policies × {} workloads × {} models × seeds {:?} × \
         cluster scales {:?}; arrive-only target {}.",
        provenance.command,
        provenance.version,
        runs,
        experiment.policies.len(),
        experiment.workloads.len(),
        experiment.models.len(),
        experiment.seeds,
        experiment.scales,
        experiment.target,
    ));
    doc.meta(
        "Every figure is a mean over seeds with its 95% confidence interval: Student's t (`mean ± \
         half-width`), except where that would reach below zero for a metric that cannot be negative \
         (waits, counts, shares), which gets a percentile bootstrap of the mean (2,000 resamples, \
         `mean [low – high]`). Policies are \
         compared in pairs on the same seeds: a policy's rank is 1 + the number of policies that do \
         better and can be told apart from it at 95%; `=` marks a shared rank.",
    );
    if experiment.models.contains(&ModelKind::ArriveOnly) {
        doc.meta(&format!(
            "Arrive-only replays follow the FGD paper (Weng et al., ATC'23): tasks are sampled with \
             replacement from the workload until their demand reaches {} × the cluster's capacity (in \
             GPUs when the cluster has GPUs, else CPUs), shuffled with the seed, placed one by one and \
             never removed; a task that fits nowhere fails. Curves are plotted against arrived demand \
             as % of capacity: each seed's curve is interpolated on a common grid (every 0.5%, where \
             every seed has data), averaged, and drawn with its 95% interval as a band. GPU fragmentation is the paper's: idle GPU that the workload's typical \
             task shapes (those covering 95% of its tasks) cannot use.",
            experiment.target
        ));
    }
}

/// Across workloads (the FGD study's last figure): the share of the arrived dimension left
/// unallocated at the end of each arrive-only replay, per workload and policy.
fn across_workloads(w: &mut Writer<'_>, groups: &[GroupSummary]) -> Result<(), Error> {
    let arrive: Vec<&GroupSummary> = groups
        .iter()
        .filter(|g| g.group.model == ModelKind::ArriveOnly)
        .collect();
    if arrive.len() < 2 {
        return Ok(());
    }
    let dim = arrived_dim(&arrive[0].runs[0].dimensions);
    let metric = format!("utilisation_{dim}");
    let policies: Vec<&String> = arrive[0].metrics.iter().map(|(p, _)| p).collect();
    w.doc.section(&format!(
        "Unallocated {dim} at the end of the arrive-only replays, % of capacity (lower is better)"
    ));
    let mut header = vec!["workload"];
    header.extend(policies.iter().map(|p| p.as_str()));
    let mut table = Table::new(&header);
    let mut lines: Vec<(Line, usize)> = policies
        .iter()
        .map(|p| (line((*p).clone(), Vec::new()), w.colour(p)))
        .collect();
    for (k, g) in arrive.iter().enumerate() {
        let name = Path::new(&g.group.workload)
            .file_stem()
            .map_or(g.group.workload.clone(), |s| s.to_string_lossy().into_owned());
        let mut row = vec![name];
        for (i, p) in policies.iter().enumerate() {
            let e = g
                .metrics
                .iter()
                .find(|(q, _)| q == *p)
                .and_then(|(_, m)| m.iter().find(|(n, _)| *n == metric));
            row.push(e.map_or(String::new(), |(_, e)| {
                lines[i].0.points.push(((k + 1) as f64, 100.0 * (1.0 - e.mean)));
                // Unallocated = 1 − allocated: the same interval, mirrored.
                if e.is_symmetric() {
                    format!("{} ± {}", fmt(100.0 * (1.0 - e.mean)), fmt(100.0 * e.half_width))
                } else {
                    let (lo, hi) = (100.0 * (1.0 - e.high()), 100.0 * (1.0 - e.low()));
                    format!("{} [{} – {}]", fmt(100.0 * (1.0 - e.mean)), fmt(lo), fmt(hi))
                }
            }));
        }
        table.row(&row);
    }
    w.doc.table(table);
    let svg = plot::lines(
        &format!("Unallocated {dim} at the end, per workload (rows of the table, in order)"),
        "workload (row of the table)",
        &format!("unallocated {dim}, % of capacity"),
        &lines,
    );
    w.figure("plots/unallocated-by-workload.svg", &svg)
}

fn line(name: String, points: Vec<(f64, f64)>) -> Line {
    Line {
        name,
        points,
        dashed: false,
        band: Vec::new(),
        muted: false,
    }
}

/// A dashed reference line (a bound, the diagonal), drawn under the measured series.
fn reference(name: String, points: Vec<(f64, f64)>) -> Line {
    Line {
        dashed: true,
        ..line(name, points)
    }
}

/// With more than [`CROWDED`] measured lines, the setting's top [`HIGHLIGHTED`] policies by rank
/// keep their colours and the others are drawn thin and grey (still listed in the legend), so
/// that a dozen overlapping lines do not hide the ones that matter. Returns the caption's note.
fn highlight(lines: &mut [(Line, usize)], g: &GroupSummary) -> &'static str {
    let top: Vec<&str> = g
        .ranking
        .iter()
        .take(HIGHLIGHTED)
        .map(|r| r.policy.as_str())
        .collect();
    if mute_all_but(lines, &top) {
        "; top 3 by rank in colour"
    } else {
        ""
    }
}

/// Mutes the measured lines not named in `top` when there are more than [`CROWDED`]; true when
/// it did.
fn mute_all_but(lines: &mut [(Line, usize)], top: &[&str]) -> bool {
    if lines.iter().filter(|(l, _)| !l.dashed).count() <= CROWDED {
        return false;
    }
    for (l, _) in lines.iter_mut().filter(|(l, _)| !l.dashed) {
        l.muted = !top.contains(&l.name.as_str());
    }
    true
}

/// More measured lines than this in one chart, and only the top ones keep their colours.
const CROWDED: usize = 6;
/// How many keep them.
const HIGHLIGHTED: usize = 3;

/// One setting: its series file, ranking, metrics table and plots.
fn group_section(w: &mut Writer<'_>, g: &GroupSummary) -> Result<(), Error> {
    let slug = g.group.slug();
    w.doc.section(&g.group.title());
    let mut series: Vec<(usize, Series)> = Vec::new();
    let mut texts = Vec::new();
    for r in &g.runs {
        let (s, text) = Series::read(w.dir, &r.spec.id())?;
        series.push((w.colour(&r.spec.policy), s));
        texts.push(text);
    }
    let series_file = format!("series/{slug}.csv");
    let runs: Vec<(&RunResult, &str)> = g.runs.iter().zip(texts.iter().map(String::as_str)).collect();
    write_atomic(
        &w.dir.join(&series_file),
        &tables::wide_series(&series[0].1.header, &runs),
    )?;
    ranking(w, g, &slug)?;
    metrics_table(w, g);
    if g.group.model == ModelKind::ArriveOnly {
        arrive_plots(w, g, &series, &slug)?;
    } else {
        timed_plots(w, g, &series, &slug)?;
    }
    w.doc
        .paragraph(&format!("Time series of every run: `{series_file}`."));
    Ok(())
}

fn ranking(w: &mut Writer<'_>, g: &GroupSummary, slug: &str) -> Result<(), Error> {
    let (metric, lower) = &g.metric;
    let better = if *lower {
        "lower is better"
    } else {
        "higher is better"
    };
    w.doc.paragraph(&format!(
        "Ranking by `{metric}` ({better}). A rank is 1 + the policies that do better and can be told \
         apart (paired by seed, 95%); `=` marks a shared rank."
    ));
    let mut table = Table::new(&[
        "rank",
        "policy",
        metric.as_str(),
        "95% interval",
        "cannot be told apart from",
    ]);
    for r in &g.ranking {
        let shared = g.ranking.iter().any(|o| o.rank == r.rank && o.policy != r.policy);
        table.row(&[
            if shared {
                format!("={}", r.rank)
            } else {
                r.rank.to_string()
            },
            r.policy.clone(),
            fmt(r.estimate.mean),
            format!("{} – {}", fmt(r.estimate.low()), fmt(r.estimate.high())),
            r.tied_with.join(", "),
        ]);
    }
    w.doc.table(table);
    for note in super::aggregate::rank_notes(&g.ranking, *lower) {
        w.doc.paragraph(&note);
    }
    let bars: Vec<(Bar, usize)> = g
        .ranking
        .iter()
        .map(|r| (bar(&r.policy, r.estimate), w.colour(&r.policy)))
        .collect();
    let svg = plot::bars(&format!("Ranking: {metric} ({better})"), metric, &bars);
    w.figure(&format!("plots/ranking-{slug}.svg"), &svg)
}

fn bar(name: &str, e: crate::stats::Estimate) -> Bar {
    Bar {
        name: name.to_string(),
        mean: e.mean,
        low: e.low(),
        high: e.high(),
    }
}

fn metrics_table(w: &mut Writer<'_>, g: &GroupSummary) {
    let mut names: Vec<String> = [
        "placed_fraction",
        "slowdown_mean",
        "slowdown_p95",
        "jct_mean_s",
        "jct_p95_s",
        "jct_p99_s",
        "wait_mean_s",
        "wait_p95_s",
        "wait_p99_s",
        "makespan_s",
        "machines_used_mean",
        "machines_used_over_lower_bound",
        "gpu_frag_ratio",
    ]
    .iter()
    .map(|n| (*n).to_string())
    .collect();
    names.extend(g.runs[0].dimensions.iter().map(|d| format!("utilisation_{d}")));
    names.extend(g.runs[0].dimensions.iter().map(|d| format!("stranded_{d}")));
    names.retain(|n| g.metrics.iter().any(|(_, m)| m.iter().any(|(k, _)| k == n)));
    let mut header = vec!["policy"];
    header.extend(names.iter().map(String::as_str));
    let mut table = Table::new(&header);
    for (policy, metrics) in &g.metrics {
        let mut row = vec![policy.clone()];
        for n in &names {
            row.push(
                metrics
                    .iter()
                    .find(|(k, _)| k == n)
                    .map_or(String::new(), |(_, e)| e.text(fmt)),
            );
        }
        table.row(&row);
    }
    w.doc.table(table);
}

/// Allocation and fragmentation against arrived demand, averaged over seeds.
fn arrive_plots(
    w: &mut Writer<'_>,
    g: &GroupSummary,
    series: &[(usize, Series)],
    slug: &str,
) -> Result<(), Error> {
    let dim = arrived_dim(&g.runs[0].dimensions);
    let mut lines = curves_by_policy(
        &g.runs,
        series,
        "arrived_pct",
        &format!("utilisation_{dim}"),
        100.0,
    );
    let max_x = lines
        .iter()
        .flat_map(|(l, _)| l.points.iter().map(|p| p.0))
        .fold(0.0, f64::max);
    let diagonal = vec![
        (0.0, 0.0),
        (100.0f64.min(max_x), 100.0f64.min(max_x)),
        (max_x, 100.0),
    ];
    lines.push((reference("arrived demand".into(), diagonal), 0));
    let note = highlight(&mut lines, g);
    let svg = plot::lines(
        &format!("{dim} allocation vs arrived {dim} demand (mean over seeds, 95% band{note})"),
        &format!("arrived {dim} demand, % of capacity"),
        &format!("{dim} allocated, % of capacity"),
        &lines,
    );
    w.figure(&format!("plots/allocation-{slug}.svg"), &svg)?;
    let has_frag = series.iter().any(|(_, s)| {
        s.col("gpu_frag_ratio")
            .is_some_and(|c| s.rows.iter().any(|r| r[c].is_finite()))
    });
    let (y, label) = if has_frag {
        ("gpu_frag_ratio", "fragmented GPU, % of idle GPU (FGD measure)")
    } else if dim == "gpus" {
        ("stranded_gpus", "stranded GPU (no queued shape fits)")
    } else {
        ("stranded_cpus", "stranded CPU (free, but no task shape fits)")
    };
    let scale = if y == "gpu_frag_ratio" { 100.0 } else { 1.0 };
    let mut lines = curves_by_policy(&g.runs, series, "arrived_pct", y, scale);
    let note = highlight(&mut lines, g);
    let svg = plot::lines(
        &format!("Fragmentation vs arrived demand (mean over seeds, 95% band{note})"),
        &format!("arrived {dim} demand, % of capacity"),
        label,
        &lines,
    );
    w.figure(&format!("plots/fragmentation-{slug}.svg"), &svg)
}

/// Utilisation, waits, machines in use and fragmentation over time (the first seed's runs).
fn timed_plots(
    w: &mut Writer<'_>,
    g: &GroupSummary,
    series: &[(usize, Series)],
    slug: &str,
) -> Result<(), Error> {
    let first_seed = w.experiment.seeds[0];
    let first: Vec<(usize, &Series, &RunResult)> = series
        .iter()
        .zip(&g.runs)
        .filter(|(_, r)| r.spec.seed == first_seed)
        .map(|((c, s), r)| (*c, s, r))
        .collect();
    let over_time = |y: &dyn Fn(&Series) -> Vec<(f64, f64)>| -> Vec<(Line, usize)> {
        first
            .iter()
            .map(|(c, s, r)| (line(r.spec.policy.clone(), y(s)), *c))
            .collect()
    };
    for d in &g.runs[0].dimensions {
        let mut lines = over_time(&|s| hours(s.points("time_s", &format!("utilisation_{d}"), 100.0)));
        let note = highlight(&mut lines, g);
        let svg = plot::lines(
            &format!("{d} utilisation over time (seed {first_seed}{note})"),
            "time (h)",
            &format!("{d} allocated, % of capacity"),
            &lines,
        );
        w.figure(&format!("plots/utilisation-{slug}-{d}.svg"), &svg)?;
    }
    wait_cdf(w, g, slug)?;
    let mut lines = over_time(&|s| hours(s.points("time_s", "machines_used", 1.0)));
    if let Some((_, s, r)) = first.first() {
        let lb: Vec<(f64, f64)> = s
            .points("time_s", "machines_used", 1.0)
            .iter()
            .zip(&r.machines_lb)
            .map(|(&(t, _), &lb)| (t / 3600.0, f64::from(lb)))
            .collect();
        lines.push((
            reference(format!("lower bound ({}'s allocation)", r.spec.policy), lb),
            0,
        ));
    }
    let note = highlight(&mut lines, g);
    let svg = plot::lines(
        &format!("Machines in use vs lower bound (seed {first_seed}{note})"),
        "time (h)",
        "machines",
        &lines,
    );
    w.figure(&format!("plots/machines-{slug}.svg"), &svg)?;
    let bars: Vec<(Bar, usize)> = g
        .metrics
        .iter()
        .filter_map(|(p, m)| {
            m.iter()
                .find(|(k, _)| k == "machines_used_over_lower_bound")
                .map(|(_, e)| (bar(p, *e), w.colour(p)))
        })
        .collect();
    let svg = plot::bars_from(
        "Machines in use / fewest that could hold the allocation (1 = tight)",
        "ratio",
        &bars,
        1.0,
    );
    w.figure(&format!("plots/machines-ratio-{slug}.svg"), &svg)?;
    let dims = &g.runs[0].dimensions;
    let d0 = dims.iter().find(|d| *d == "gpus").unwrap_or(&dims[0]).clone();
    let lines = over_time(&|s| {
        let cap = s.points("time_s", &format!("capacity_{d0}"), 1.0);
        let stranded = s.points("time_s", &format!("stranded_{d0}"), 1.0);
        stranded
            .iter()
            .zip(&cap)
            .map(|(&(t, v), &(_, c))| (t / 3600.0, if c > 0.0 { 100.0 * v / c } else { 0.0 }))
            .collect()
    });
    let mut lines = lines;
    let note = highlight(&mut lines, g);
    let svg = plot::lines(
        &format!("Fragmentation: stranded {d0} over time (seed {first_seed}{note})"),
        "time (h)",
        &format!("stranded {d0}, % of capacity"),
        &lines,
    );
    w.figure(&format!("plots/fragmentation-{slug}.svg"), &svg)
}

/// Wait-time CDF: each percentile averaged over seeds.
fn wait_cdf(w: &mut Writer<'_>, g: &GroupSummary, slug: &str) -> Result<(), Error> {
    let mut lines: Vec<(Line, usize)> = Vec::new();
    for (policy, _) in &g.metrics {
        let cdfs: Vec<&Vec<f64>> = g
            .runs
            .iter()
            .filter(|r| &r.spec.policy == policy)
            .filter_map(|r| r.wait_cdf.as_ref())
            .collect();
        if cdfs.is_empty() {
            continue;
        }
        let points = (0..=100)
            .map(|k| {
                (
                    cdfs.iter().map(|c| c[k]).sum::<f64>() / cdfs.len() as f64,
                    k as f64 / 100.0,
                )
            })
            .collect();
        lines.push((line(policy.clone(), points), w.colour(policy)));
    }
    let note = highlight(&mut lines, g);
    let svg = plot::lines(
        &format!("Wait time CDF (percentiles averaged over seeds{note})"),
        "wait from arrival to placement (s)",
        "fraction of tasks",
        &lines,
    );
    w.figure(&format!("plots/wait-cdf-{slug}.svg"), &svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crowded_charts_keep_the_top_policies_in_colour() {
        let mut lines: Vec<(Line, usize)> = (0..8).map(|i| (line(format!("p{i}"), Vec::new()), i)).collect();
        lines.push((reference("bound".into(), Vec::new()), 0));
        assert!(mute_all_but(&mut lines, &["p3", "p0", "p5"]));
        let muted: Vec<&str> = lines
            .iter()
            .filter(|(l, _)| l.muted)
            .map(|(l, _)| l.name.as_str())
            .collect();
        assert_eq!(
            muted,
            ["p1", "p2", "p4", "p6", "p7"],
            "a reference line is never muted"
        );
        // Six lines are not crowded: all keep their colours.
        let mut few: Vec<(Line, usize)> = (0..6).map(|i| (line(format!("p{i}"), Vec::new()), i)).collect();
        assert!(!mute_all_but(&mut few, &["p0"]));
        assert!(few.iter().all(|(l, _)| !l.muted));
    }
}
