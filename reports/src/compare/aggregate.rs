//! Aggregation and ranking: runs grouped by setting (workload, cluster, scale, model), every
//! metric as a mean over seeds with its interval, and each group's policies ranked by its
//! primary metric with paired comparisons.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sim::ModelKind;

use crate::experiment::RunSpec;
use crate::run::RunResult;
use crate::stats::{Estimate, distinguishable};

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
    pub(crate) fn of(spec: &RunSpec) -> Group {
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

    pub(crate) fn slug(&self) -> String {
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
pub(crate) fn arrived_dim(dimensions: &[String]) -> &'static str {
    if dimensions.iter().any(|d| d == "gpus") {
        "gpus"
    } else {
        "cpus"
    }
}

/// The metric a group's ranking is by, and whether lower is better: arrived-demand allocation in
/// an arrive-only replay; in the timed models, mean job slowdown when the workload has jobs (what
/// a user of a DAG workload waits for is the job), else mean task wait.
pub fn primary_metric(group_model: ModelKind, dimensions: &[String], has_jobs: bool) -> (String, bool) {
    if group_model == ModelKind::ArriveOnly {
        let dim = arrived_dim(dimensions);
        (format!("utilisation_{dim}"), false)
    } else if has_jobs {
        ("slowdown_mean".to_string(), true)
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
    /// Policies with a better mean that can be told apart from this one: what its rank counts.
    pub behind: Vec<String>,
}

/// Why ranks and means disagree, when they do: a sentence per policy listed below one with a
/// worse mean (ranks come from paired comparisons on the same seeds, not from means alone).
pub fn rank_notes(ranking: &[Ranked], lower_is_better: bool) -> Vec<String> {
    let better = |a: f64, b: f64| if lower_is_better { a < b } else { a > b };
    ranking
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            // Ranks are 1 + |behind|, so a row listed above with a worse mean has fewer.
            let above: Vec<&str> = ranking[..i]
                .iter()
                .filter(|q| q.rank < r.rank && better(r.estimate.mean, q.estimate.mean))
                .map(|q| q.policy.as_str())
                .collect();
            (!above.is_empty()).then(|| {
                format!(
                    "{} ranks {} below {} despite a better mean: a rank counts the policies with a better \
                     mean that can be told apart on the same seeds (paired, 95%) — for {} they are {}; \
                     fewer are for {}.",
                    r.policy,
                    r.rank,
                    above.join(", "),
                    r.policy,
                    r.behind.join(", "),
                    above.join(", ")
                )
            })
        })
        .collect()
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
            let has_jobs = runs.iter().any(|r| r.metric("slowdown_mean").is_some());
            let metric = primary_metric(g.model, &runs[0].dimensions, has_jobs);
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
        let mut behind = Vec::new();
        for (j, (q, _, other)) in rows.iter().enumerate() {
            if j == i {
                continue;
            }
            let (xs, ys) = paired(seeds, other);
            if !distinguishable(&xs, &ys) {
                tied_with.push(q.clone());
            } else if j < i {
                behind.push(q.clone());
            }
        }
        // Competition ranking where only significant differences count: 1 + the policies that
        // are better and can be told apart from this one.
        out.push(Ranked {
            rank: behind.len() + 1,
            policy: p.clone(),
            estimate: *e,
            tied_with,
            behind,
        });
    }
    // Listed by rank, then by mean (the order above; the sort is stable).
    out.sort_by_key(|r| r.rank);
    out
}

#[cfg(test)]
mod rank_tests {
    use super::*;

    fn ranked(policy: &str, rank: usize, mean: f64, behind: &[&str]) -> Ranked {
        Ranked {
            rank,
            policy: policy.into(),
            estimate: Estimate::of(&[mean, mean]).unwrap(),
            tied_with: Vec::new(),
            behind: behind.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    #[test]
    fn a_rank_below_a_worse_mean_is_explained() {
        // Lower is better: c (4.0) ranks 2 behind a, while b (4.2) ranks 1.
        let ranking = [
            ranked("a", 1, 3.9, &[]),
            ranked("b", 1, 4.2, &[]),
            ranked("c", 2, 4.0, &["a"]),
        ];
        let notes = rank_notes(&ranking, true);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("c ranks 2 below b despite a better mean")
                && notes[0].contains("for c they are a"),
            "{}",
            notes[0]
        );
        // Ranks in mean order need no note.
        assert!(rank_notes(&ranking[..2], true).is_empty());
    }
}
