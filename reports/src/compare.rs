//! The comparison report: aggregation over seeds, rankings, tidy CSV, plots, HTML and Markdown.

use sim::ModelKind;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::experiment::{Experiment, RunSpec};
use crate::html::{Page, Table};
use crate::plot::{self, Bar, Line};
use crate::run::{RunResult, write_atomic};
use crate::stats::{Estimate, distinguishable};
use crate::{Error, csv_field};

/// The runs compared with each other: one workload, cluster, model and scale.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Group {
    /// Workload as given.
    pub workload: String,
    /// Cluster as given.
    pub cluster: String,
    /// Scale as text.
    pub scale: String,
    /// Model.
    pub model: ModelKind,
}

impl Group {
    fn of(spec: &RunSpec) -> Group {
        Group {
            workload: spec.workload.clone(),
            cluster: spec.cluster.clone(),
            scale: format!("{}", spec.scale),
            model: spec.model,
        }
    }

    /// A human title.
    pub fn title(&self) -> String {
        let mut t = format!("{} — {} model", self.workload, self.model);
        if !self.cluster.is_empty() {
            let _ = write!(t, ", cluster {}", self.cluster);
        }
        if self.scale != "1" {
            let _ = write!(t, ", cluster scale ×{}", self.scale);
        }
        t
    }

    fn slug(&self) -> String {
        // A trace file is named by its stem: the folder it sits in says nothing about the run.
        let stem = |s: &str| {
            if s.contains('/') {
                std::path::Path::new(s)
                    .file_stem()
                    .map_or(s.to_string(), |f| f.to_string_lossy().into_owned())
            } else {
                s.to_string()
            }
        };
        let raw = format!(
            "{}-{}-{}-{}",
            stem(&self.workload),
            stem(&self.cluster),
            self.scale,
            self.model
        );
        let mut s: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        while s.contains("--") {
            s = s.replace("--", "-");
        }
        s.trim_matches('-').to_string()
    }
}

/// The dimension an arrive-only replay measures demand in (as `sim` chooses it by default).
fn arrived_dim(dimensions: &[String]) -> &'static str {
    if dimensions.iter().any(|d| d == "gpus") {
        "gpus"
    } else {
        "cpus"
    }
}

/// The metric a group's ranking is by, and whether lower is better.
pub fn primary_metric(group_model: ModelKind, dimensions: &[String]) -> (String, bool) {
    if group_model == ModelKind::ArriveOnly {
        let dim = arrived_dim(dimensions);
        (format!("utilisation_{dim}"), false)
    } else {
        ("wait_mean_s".to_string(), true)
    }
}

/// One policy's place in a group's ranking.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    /// Rank: 1 + the policies that do better and can be told apart from this one (so policies
    /// that cannot be told apart from the best all rank 1).
    pub rank: usize,
    /// Policy.
    pub policy: String,
    /// The primary metric over seeds.
    pub estimate: Estimate,
    /// Policies this one cannot be told apart from (paired by seed, 95%).
    pub tied_with: Vec<String>,
}

/// A group's aggregate.
pub struct GroupSummary {
    /// The group.
    pub group: Group,
    /// The ranking metric and direction.
    pub metric: (String, bool),
    /// Best first.
    pub ranking: Vec<Ranked>,
    /// Per policy (in experiment order) and metric name: the estimate over seeds.
    pub metrics: Vec<(String, Vec<(String, Estimate)>)>,
    /// The runs, in experiment order.
    pub runs: Vec<RunResult>,
}

/// Groups the results and ranks each group's policies.
pub fn summarise(results: &[RunResult]) -> Vec<GroupSummary> {
    let mut groups: BTreeMap<Group, Vec<RunResult>> = BTreeMap::new();
    let mut order: Vec<Group> = Vec::new();
    for r in results {
        let g = Group::of(&r.spec);
        if !groups.contains_key(&g) {
            order.push(g.clone());
        }
        groups.entry(g).or_default().push(r.clone());
    }
    order
        .into_iter()
        .map(|g| {
            let runs = groups.remove(&g).expect("grouped");
            let metric = primary_metric(g.model, &runs[0].dimensions);
            let mut policies: Vec<String> = Vec::new();
            for r in &runs {
                if !policies.contains(&r.spec.policy) {
                    policies.push(r.spec.policy.clone());
                }
            }
            // Per policy: seed → run.
            let by_policy: Vec<(String, BTreeMap<u64, &RunResult>)> = policies
                .iter()
                .map(|p| {
                    (
                        p.clone(),
                        runs.iter()
                            .filter(|r| &r.spec.policy == p)
                            .map(|r| (r.spec.seed, r))
                            .collect(),
                    )
                })
                .collect();
            let mut names: Vec<String> = Vec::new();
            for r in &runs {
                for (n, _) in &r.metrics {
                    if !names.contains(n) {
                        names.push(n.clone());
                    }
                }
            }
            let metrics: Vec<(String, Vec<(String, Estimate)>)> = by_policy
                .iter()
                .map(|(p, seeds)| {
                    let est = names
                        .iter()
                        .filter_map(|n| {
                            let values: Vec<f64> = seeds.values().filter_map(|r| r.metric(n)).collect();
                            Estimate::of(&values).map(|e| (n.clone(), e))
                        })
                        .collect();
                    (p.clone(), est)
                })
                .collect();
            let ranking = rank(&by_policy, &metric);
            GroupSummary {
                group: g,
                metric,
                ranking,
                metrics,
                runs,
            }
        })
        .collect()
}

fn rank(
    by_policy: &[(String, BTreeMap<u64, &RunResult>)],
    (metric, lower_better): &(String, bool),
) -> Vec<Ranked> {
    let mut rows: Vec<(String, Estimate, &BTreeMap<u64, &RunResult>)> = by_policy
        .iter()
        .filter_map(|(p, seeds)| {
            let values: Vec<f64> = seeds.values().filter_map(|r| r.metric(metric)).collect();
            Estimate::of(&values).map(|e| (p.clone(), e, seeds))
        })
        .collect();
    // Best first; equal means keep experiment order (a stable sort).
    rows.sort_by(|a, b| {
        let o = a.1.mean.total_cmp(&b.1.mean);
        if *lower_better { o } else { o.reverse() }
    });
    let paired = |a: &BTreeMap<u64, &RunResult>, b: &BTreeMap<u64, &RunResult>| {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for (seed, ra) in a {
            if let (Some(rb), Some(x)) = (b.get(seed), ra.metric(metric)) {
                if let Some(y) = rb.metric(metric) {
                    xs.push(x);
                    ys.push(y);
                }
            }
        }
        (xs, ys)
    };
    let mut out: Vec<Ranked> = Vec::new();
    for (i, (p, e, seeds)) in rows.iter().enumerate() {
        let mut tied_with = Vec::new();
        let mut clearly_better = 0;
        for (j, (q, _, other)) in rows.iter().enumerate() {
            if j == i {
                continue;
            }
            let (xs, ys) = paired(seeds, other);
            if !distinguishable(&xs, &ys) {
                tied_with.push(q.clone());
            } else if j < i {
                clearly_better += 1;
            }
        }
        // Competition ranking where only significant differences count: 1 + the policies that
        // are better and can be told apart from this one.
        out.push(Ranked {
            rank: clearly_better + 1,
            policy: p.clone(),
            estimate: *e,
            tied_with,
        });
    }
    // Listed by rank, then by mean (the order above; the sort is stable).
    out.sort_by_key(|r| r.rank);
    out
}

/// Writes `results.csv`: one row per run and metric, with the run's whole configuration.
pub fn results_csv(results: &[RunResult]) -> String {
    let mut out = String::from("run,workload,cluster,policy,model,seed,scale,target,metric,value\n");
    for r in results {
        let s = &r.spec;
        for (name, value) in &r.metrics {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{}",
                s.id(),
                csv_field(&s.workload),
                csv_field(&s.cluster),
                csv_field(&s.policy),
                s.model,
                s.seed,
                s.scale,
                s.target,
                name,
                value
            );
        }
    }
    out
}

fn summary_csv(groups: &[GroupSummary]) -> String {
    let mut out = String::from("workload,cluster,scale,model,policy,metric,n,mean,ci_low,ci_high\n");
    for g in groups {
        for (policy, metrics) in &g.metrics {
            for (name, e) in metrics {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{}",
                    csv_field(&g.group.workload),
                    csv_field(&g.group.cluster),
                    g.group.scale,
                    g.group.model,
                    csv_field(policy),
                    name,
                    e.n,
                    e.mean,
                    e.low(),
                    e.high()
                );
            }
        }
    }
    out
}

fn ranking_csv(groups: &[GroupSummary]) -> String {
    let mut out = String::from(
        "workload,cluster,scale,model,rank,policy,metric,lower_is_better,mean,ci_low,ci_high,tied_with\n",
    );
    for g in groups {
        for r in &g.ranking {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{}",
                csv_field(&g.group.workload),
                csv_field(&g.group.cluster),
                g.group.scale,
                g.group.model,
                r.rank,
                csv_field(&r.policy),
                g.metric.0,
                g.metric.1,
                r.estimate.mean,
                r.estimate.low(),
                r.estimate.high(),
                csv_field(&r.tied_with.join(" "))
            );
        }
    }
    out
}

/// A run's stored series: header and rows of numbers (empty cells are NaN).
struct Series {
    header: Vec<String>,
    rows: Vec<Vec<f64>>,
}

impl Series {
    fn read(dir: &Path, id: &str) -> Result<(Series, String), Error> {
        let path = dir.join("runs").join(format!("{id}.csv"));
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap_or("")
            .split(',')
            .map(str::to_string)
            .collect();
        let rows = lines
            .map(|l| {
                l.split(',')
                    .map(|v| v.parse::<f64>().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        Ok((Series { header, rows }, text))
    }

    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn points(&self, x: &str, y: &str, scale: f64) -> Vec<(f64, f64)> {
        let (Some(xi), Some(yi)) = (self.col(x), self.col(y)) else {
            return Vec::new();
        };
        self.rows
            .iter()
            .filter(|r| r[xi].is_finite() && r[yi].is_finite())
            .map(|r| (r[xi], r[yi] * scale))
            .collect()
    }
}

/// Means of y over runs at equal x (x rounded to 3 decimals), in x order.
fn mean_curve(curves: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
    let mut acc: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
    for c in curves {
        for &(x, y) in c {
            let e = acc.entry((x * 1000.0).round() as i64).or_insert((0.0, 0));
            e.0 += y;
            e.1 += 1;
        }
    }
    acc.into_iter()
        .map(|(x, (s, n))| (x as f64 / 1000.0, s / n as f64))
        .collect()
}

/// Everything `write` needs to say how the report was made.
pub struct Provenance {
    /// The exact command line.
    pub command: String,
    /// packsim's version.
    pub version: String,
}

/// Writes the whole report into `dir`: CSV, plots, `report.html`, `report.md`. Returns the group
/// summaries (for the printed table).
pub fn write(
    dir: &Path,
    experiment: &Experiment,
    results: &[RunResult],
    provenance: &Provenance,
) -> Result<Vec<GroupSummary>, Error> {
    let groups = summarise(results);
    write_atomic(&dir.join("results.csv"), results_csv(results).as_bytes())?;
    write_atomic(&dir.join("summary.csv"), summary_csv(&groups).as_bytes())?;
    write_atomic(&dir.join("ranking.csv"), ranking_csv(&groups).as_bytes())?;
    let mut timings = String::from("run,policy,model,seed,wall_ms\n");
    for r in results {
        let _ = writeln!(
            timings,
            "{},{},{},{},{:.3}",
            r.spec.id(),
            csv_field(&r.spec.policy),
            r.spec.model,
            r.spec.seed,
            r.wall_ms
        );
    }
    write_atomic(&dir.join("timings.csv"), timings.as_bytes())?;
    let plots_dir = dir.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(|e| Error::io(&plots_dir, e))?;
    let series_dir = dir.join("series");
    std::fs::create_dir_all(&series_dir).map_err(|e| Error::io(&series_dir, e))?;

    let policy_index = |p: &str| experiment.policies.iter().position(|q| q == p).unwrap_or(0);
    let mut page = Page::new("packsim policy comparison", provenance, experiment, results.len());
    let mut md = String::new();
    let _ = writeln!(md, "# packsim policy comparison\n");
    let _ = writeln!(md, "Command: `{}`  ", provenance.command);
    let _ = writeln!(
        md,
        "packsim {}; {} runs; seeds {:?}.\n",
        provenance.version,
        results.len(),
        experiment.seeds
    );
    let _ = writeln!(
        md,
        "Each figure is a mean over seeds with its 95% interval; a policy's rank is 1 + the policies that do better *and* can be told apart from it (paired by seed, 95%), and `=` marks a shared rank.\n"
    );

    // Across workloads (the FGD study's last figure): the share of the arrived dimension left
    // unallocated at the end of each arrive-only replay, per workload and policy.
    let arrive: Vec<&GroupSummary> = groups
        .iter()
        .filter(|g| g.group.model == ModelKind::ArriveOnly)
        .collect();
    if arrive.len() >= 2 {
        let dim = arrived_dim(&arrive[0].runs[0].dimensions);
        let metric = format!("utilisation_{dim}");
        let policies: Vec<&String> = arrive[0].metrics.iter().map(|(p, _)| p).collect();
        let title = format!(
            "Unallocated {dim} at the end of the arrive-only replays, % of capacity (lower is better)"
        );
        page.section(&title);
        let _ = writeln!(md, "## {title}\n");
        let mut header = vec!["workload"];
        header.extend(policies.iter().map(|p| p.as_str()));
        let mut table = Table::new(&header);
        let _ = writeln!(md, "| {} |\n|{}", header.join(" | "), "---|".repeat(header.len()));
        let mut lines_: Vec<(Line, usize)> = policies
            .iter()
            .map(|p| {
                (
                    Line {
                        name: (*p).clone(),
                        points: Vec::new(),
                        dashed: false,
                    },
                    policy_index(p),
                )
            })
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
                    lines_[i].0.points.push(((k + 1) as f64, 100.0 * (1.0 - e.mean)));
                    format!("{} ± {}", fmt(100.0 * (1.0 - e.mean)), fmt(100.0 * e.half_width))
                }));
            }
            let _ = writeln!(md, "| {} |", row.join(" | "));
            table.row(&row);
        }
        let _ = writeln!(md);
        page.table(&table);
        let svg = plot::lines(
            &format!("Unallocated {dim} at the end, per workload (rows of the table, in order)"),
            "workload (row of the table)",
            &format!("unallocated {dim}, % of capacity"),
            &lines_,
        );
        emit(dir, &mut page, &mut md, "plots/unallocated-by-workload.svg", &svg)?;
    }

    for g in &groups {
        let slug = g.group.slug();
        let title = g.group.title();
        page.section(&title);
        let _ = writeln!(md, "## {title}\n");

        // The series of the group's runs, in one wide CSV with the run's configuration in front.
        let mut wide = String::new();
        let mut series: Vec<(usize, Series)> = Vec::new();
        for r in &g.runs {
            let (s, text) = Series::read(dir, &r.spec.id())?;
            if wide.is_empty() {
                let _ = writeln!(
                    wide,
                    "run,policy,seed,machines_lower_bound,{}",
                    s.header.join(",")
                );
            }
            for (k, line) in text.lines().skip(1).enumerate() {
                let lb = r.machines_lb.get(k).map_or(String::new(), u32::to_string);
                let _ = writeln!(
                    wide,
                    "{},{},{},{lb},{line}",
                    r.spec.id(),
                    csv_field(&r.spec.policy),
                    r.spec.seed
                );
            }
            series.push((policy_index(&r.spec.policy), s));
        }
        let series_file = format!("series/{slug}.csv");
        write_atomic(&dir.join(&series_file), wide.as_bytes())?;

        // Ranking.
        let (metric, lower) = &g.metric;
        let better = if *lower {
            "lower is better"
        } else {
            "higher is better"
        };
        let mut table = Table::new(&[
            "rank",
            "policy",
            metric.as_str(),
            "95% interval",
            "cannot be told apart from",
        ]);
        let _ = writeln!(md, "Ranking by `{metric}` ({better}):\n");
        let _ = writeln!(
            md,
            "| rank | policy | {metric} | 95% interval | cannot be told apart from |\n|---|---|---|---|---|"
        );
        for r in &g.ranking {
            let rank = if g.ranking.iter().any(|o| o.rank == r.rank && o.policy != r.policy) {
                format!("={}", r.rank)
            } else {
                r.rank.to_string()
            };
            let row = [
                rank,
                r.policy.clone(),
                fmt(r.estimate.mean),
                format!("{} – {}", fmt(r.estimate.low()), fmt(r.estimate.high())),
                r.tied_with.join(", "),
            ];
            let _ = writeln!(md, "| {} |", row.join(" | "));
            table.row(&row);
        }
        let _ = writeln!(md);
        page.paragraph(&format!("Ranking by <code>{metric}</code> ({better}). A rank is 1 + the policies that do better and can be told apart (paired by seed, 95%); <code>=</code> marks a shared rank."));
        page.table(&table);
        let bars: Vec<(Bar, usize)> = g
            .ranking
            .iter()
            .map(|r| {
                (
                    Bar {
                        name: r.policy.clone(),
                        mean: r.estimate.mean,
                        low: r.estimate.low(),
                        high: r.estimate.high(),
                    },
                    policy_index(&r.policy),
                )
            })
            .collect();
        let rank_svg = plot::bars(&format!("Ranking: {metric} ({better})"), metric, &bars);
        emit(
            dir,
            &mut page,
            &mut md,
            &format!("plots/ranking-{slug}.svg"),
            &rank_svg,
        )?;

        // Metrics table.
        let mut names: Vec<String> = [
            "placed_fraction",
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
        let _ = writeln!(md, "| {} |\n|{}", header.join(" | "), "---|".repeat(header.len()));
        for (policy, metrics) in &g.metrics {
            let mut row = vec![policy.clone()];
            for n in &names {
                row.push(
                    metrics
                        .iter()
                        .find(|(k, _)| k == n)
                        .map_or(String::new(), |(_, e)| {
                            if e.half_width > 0.0 {
                                format!("{} ± {}", fmt(e.mean), fmt(e.half_width))
                            } else {
                                fmt(e.mean)
                            }
                        }),
                );
            }
            let _ = writeln!(md, "| {} |", row.join(" | "));
            table.row(&row);
        }
        let _ = writeln!(md);
        page.table(&table);

        // Plots.
        let first_seed = experiment.seeds[0];
        let first: Vec<(usize, &Series, &RunResult)> = series
            .iter()
            .zip(&g.runs)
            .filter(|(_, r)| r.spec.seed == first_seed)
            .map(|((c, s), r)| (*c, s, r))
            .collect();
        if g.group.model == ModelKind::ArriveOnly {
            let dim = arrived_dim(&g.runs[0].dimensions);
            let mut lines_ = curves_by_policy(
                &g.runs,
                &series,
                "arrived_pct",
                &format!("utilisation_{dim}"),
                100.0,
            );
            let max_x = lines_
                .iter()
                .flat_map(|(l, _)| l.points.iter().map(|p| p.0))
                .fold(0.0, f64::max);
            lines_.push((
                Line {
                    name: "arrived demand".into(),
                    points: vec![
                        (0.0, 0.0),
                        (100.0f64.min(max_x), 100.0f64.min(max_x)),
                        (max_x, 100.0),
                    ],
                    dashed: true,
                },
                0,
            ));
            let svg = plot::lines(
                &format!("{dim} allocation vs arrived {dim} demand (mean over seeds)"),
                &format!("arrived {dim} demand, % of capacity"),
                &format!("{dim} allocated, % of capacity"),
                &lines_,
            );
            emit(
                dir,
                &mut page,
                &mut md,
                &format!("plots/allocation-{slug}.svg"),
                &svg,
            )?;
            let (y, label) = if series.iter().any(|(_, s)| {
                s.col("gpu_frag_ratio")
                    .is_some_and(|c| s.rows.iter().any(|r| r[c].is_finite()))
            }) {
                ("gpu_frag_ratio", "fragmented GPU, % of idle GPU (FGD measure)")
            } else if dim == "gpus" {
                ("stranded_gpus", "stranded GPU (no queued shape fits)")
            } else {
                ("stranded_cpus", "stranded CPU (free, but no task shape fits)")
            };
            let scale = if y == "gpu_frag_ratio" { 100.0 } else { 1.0 };
            let lines_ = curves_by_policy(&g.runs, &series, "arrived_pct", y, scale);
            let svg = plot::lines(
                "Fragmentation vs arrived demand (mean over seeds)",
                &format!("arrived {dim} demand, % of capacity"),
                label,
                &lines_,
            );
            emit(
                dir,
                &mut page,
                &mut md,
                &format!("plots/fragmentation-{slug}.svg"),
                &svg,
            )?;
        } else {
            for d in &g.runs[0].dimensions {
                let lines_: Vec<(Line, usize)> = first
                    .iter()
                    .map(|(c, s, r)| {
                        (
                            Line {
                                name: r.spec.policy.clone(),
                                points: hours(s.points("time_s", &format!("utilisation_{d}"), 100.0)),
                                dashed: false,
                            },
                            *c,
                        )
                    })
                    .collect();
                let svg = plot::lines(
                    &format!("{d} utilisation over time (seed {first_seed})"),
                    "time (h)",
                    &format!("{d} allocated, % of capacity"),
                    &lines_,
                );
                emit(
                    dir,
                    &mut page,
                    &mut md,
                    &format!("plots/utilisation-{slug}-{d}.svg"),
                    &svg,
                )?;
            }
            // Wait-time CDF: each percentile averaged over seeds.
            let mut cdf_lines: Vec<(Line, usize)> = Vec::new();
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
                cdf_lines.push((
                    Line {
                        name: policy.clone(),
                        points,
                        dashed: false,
                    },
                    policy_index(policy),
                ));
            }
            let svg = plot::lines(
                "Wait time CDF (percentiles averaged over seeds)",
                "wait from arrival to placement (s)",
                "fraction of tasks",
                &cdf_lines,
            );
            emit(
                dir,
                &mut page,
                &mut md,
                &format!("plots/wait-cdf-{slug}.svg"),
                &svg,
            )?;
            // Machines used vs the lower bound.
            let mut lines_: Vec<(Line, usize)> = first
                .iter()
                .map(|(c, s, r)| {
                    (
                        Line {
                            name: r.spec.policy.clone(),
                            points: hours(s.points("time_s", "machines_used", 1.0)),
                            dashed: false,
                        },
                        *c,
                    )
                })
                .collect();
            if let Some((_, s, r)) = first.first() {
                let times = s.points("time_s", "machines_used", 1.0);
                let lb: Vec<(f64, f64)> = times
                    .iter()
                    .zip(&r.machines_lb)
                    .map(|(&(t, _), &lb)| (t / 3600.0, f64::from(lb)))
                    .collect();
                lines_.push((
                    Line {
                        name: format!("lower bound ({}'s allocation)", r.spec.policy),
                        points: lb,
                        dashed: true,
                    },
                    0,
                ));
            }
            let svg = plot::lines(
                &format!("Machines in use vs lower bound (seed {first_seed})"),
                "time (h)",
                "machines",
                &lines_,
            );
            emit(
                dir,
                &mut page,
                &mut md,
                &format!("plots/machines-{slug}.svg"),
                &svg,
            )?;
            let bars: Vec<(Bar, usize)> = g
                .metrics
                .iter()
                .filter_map(|(p, m)| {
                    m.iter()
                        .find(|(k, _)| k == "machines_used_over_lower_bound")
                        .map(|(_, e)| {
                            (
                                Bar {
                                    name: p.clone(),
                                    mean: e.mean,
                                    low: e.low(),
                                    high: e.high(),
                                },
                                policy_index(p),
                            )
                        })
                })
                .collect();
            let svg = plot::bars_from(
                "Machines in use / fewest that could hold the allocation (1 = tight)",
                "ratio",
                &bars,
                1.0,
            );
            emit(
                dir,
                &mut page,
                &mut md,
                &format!("plots/machines-ratio-{slug}.svg"),
                &svg,
            )?;
            let d0 = g.runs[0]
                .dimensions
                .iter()
                .find(|d| *d == "gpus")
                .unwrap_or(&g.runs[0].dimensions[0])
                .clone();
            let lines_: Vec<(Line, usize)> = first
                .iter()
                .map(|(c, s, r)| {
                    let cap = s.points("time_s", &format!("capacity_{d0}"), 1.0);
                    let st = s.points("time_s", &format!("stranded_{d0}"), 1.0);
                    let pts = st
                        .iter()
                        .zip(&cap)
                        .map(|(&(t, v), &(_, c))| (t / 3600.0, if c > 0.0 { 100.0 * v / c } else { 0.0 }))
                        .collect();
                    (
                        Line {
                            name: r.spec.policy.clone(),
                            points: pts,
                            dashed: false,
                        },
                        *c,
                    )
                })
                .collect();
            let svg = plot::lines(
                &format!("Fragmentation: stranded {d0} over time (seed {first_seed})"),
                "time (h)",
                &format!("stranded {d0}, % of capacity"),
                &lines_,
            );
            emit(
                dir,
                &mut page,
                &mut md,
                &format!("plots/fragmentation-{slug}.svg"),
                &svg,
            )?;
        }
        page.paragraph(&format!("Time series of every run: <code>{series_file}</code>."));
        let _ = writeln!(md, "Time series of every run: `{series_file}`.\n");
    }
    let _ = writeln!(
        md,
        "Files: `results.csv` (one row per run and metric), `summary.csv` (mean and 95% interval), `ranking.csv`, `series/`, `plots/`, `runs/` (each run's own result; a rerun skips them)."
    );
    write_atomic(&dir.join("report.html"), page.finish().as_bytes())?;
    write_atomic(&dir.join("report.md"), md.as_bytes())?;
    Ok(groups)
}

fn hours(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    points.into_iter().map(|(t, v)| (t / 3600.0, v)).collect()
}

/// Points (x, y) of one line.
type Curve = Vec<(f64, f64)>;

/// Per policy, a line of the mean over its seeds of the curve y(x), with its colour index.
fn curves_by_policy(
    runs: &[RunResult],
    series: &[(usize, Series)],
    x: &str,
    y: &str,
    scale: f64,
) -> Vec<(Line, usize)> {
    let mut out: Vec<(String, usize, Vec<Curve>)> = Vec::new();
    for (r, (c, s)) in runs.iter().zip(series) {
        let pts = s.points(x, y, scale);
        match out.iter_mut().find(|(p, _, _)| p == &r.spec.policy) {
            Some(e) => e.2.push(pts),
            None => out.push((r.spec.policy.clone(), *c, vec![pts])),
        }
    }
    out.into_iter()
        .map(|(name, c, curves)| {
            (
                Line {
                    name,
                    points: mean_curve(&curves),
                    dashed: false,
                },
                c,
            )
        })
        .collect()
}

fn emit(dir: &Path, page: &mut Page, md: &mut String, file: &str, svg: &str) -> Result<(), Error> {
    write_atomic(&dir.join(file), svg.as_bytes())?;
    page.figure(plot::inline(svg));
    let _ = writeln!(md, "![{file}]({file})\n");
    Ok(())
}

/// Numbers for people: 4 significant digits.
pub fn fmt(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.digits$}")
}
