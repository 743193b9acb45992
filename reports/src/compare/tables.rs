//! The comparison's CSV files: `results.csv` (tidy: one row per run and metric), `summary.csv`,
//! `ranking.csv`, `timings.csv` and each group's wide time series.

use super::aggregate::GroupSummary;
use crate::run::RunResult;
use crate::tidy::csv;

/// `results.csv`: one row per run and metric, with the run's whole configuration.
pub fn results_csv(results: &[RunResult]) -> Vec<u8> {
    let header = [
        "run", "workload", "cluster", "policy", "model", "seed", "scale", "target", "metric", "value",
    ];
    let rows = results.iter().flat_map(|r| {
        let s = &r.spec;
        let id = s.id();
        r.metrics.iter().map(move |(name, value)| {
            vec![
                id.clone(),
                s.workload.clone(),
                s.cluster.clone(),
                s.policy.clone(),
                s.model.to_string(),
                s.seed.to_string(),
                s.scale.to_string(),
                s.target.to_string(),
                name.clone(),
                value.to_string(),
            ]
        })
    });
    csv(&header, rows)
}

/// `summary.csv`: per setting, policy and metric, the mean over seeds and its 95% interval.
pub(crate) fn summary_csv(groups: &[GroupSummary]) -> Vec<u8> {
    let header = [
        "workload", "cluster", "scale", "model", "policy", "metric", "n", "mean", "ci_low", "ci_high",
    ];
    let rows = groups.iter().flat_map(|g| {
        g.metrics.iter().flat_map(move |(policy, metrics)| {
            metrics.iter().map(move |(name, e)| {
                vec![
                    g.group.workload.clone(),
                    g.group.cluster.clone(),
                    g.group.scale.clone(),
                    g.group.model.to_string(),
                    policy.clone(),
                    name.clone(),
                    e.n.to_string(),
                    e.mean.to_string(),
                    e.low().to_string(),
                    e.high().to_string(),
                ]
            })
        })
    });
    csv(&header, rows)
}

/// `ranking.csv`: each setting's ranking.
pub(crate) fn ranking_csv(groups: &[GroupSummary]) -> Vec<u8> {
    let header = [
        "workload",
        "cluster",
        "scale",
        "model",
        "rank",
        "policy",
        "metric",
        "lower_is_better",
        "mean",
        "ci_low",
        "ci_high",
        "tied_with",
    ];
    let rows = groups.iter().flat_map(|g| {
        g.ranking.iter().map(move |r| {
            vec![
                g.group.workload.clone(),
                g.group.cluster.clone(),
                g.group.scale.clone(),
                g.group.model.to_string(),
                r.rank.to_string(),
                r.policy.clone(),
                g.metric.0.clone(),
                g.metric.1.to_string(),
                r.estimate.mean.to_string(),
                r.estimate.low().to_string(),
                r.estimate.high().to_string(),
                r.tied_with.join(" "),
            ]
        })
    });
    csv(&header, rows)
}

/// `timings.csv`: each run's wall time (not deterministic, so kept apart from the results).
pub(crate) fn timings_csv(results: &[RunResult]) -> Vec<u8> {
    let rows = results.iter().map(|r| {
        vec![
            r.spec.id(),
            r.spec.policy.clone(),
            r.spec.model.to_string(),
            r.spec.seed.to_string(),
            format!("{:.3}", r.wall_ms),
        ]
    });
    csv(&["run", "policy", "model", "seed", "wall_ms"], rows)
}

/// A group's series in one wide CSV: each run's rows (its stored `runs/<id>.csv`, header
/// `columns`) with the run's id, policy, seed and the machines lower bound in front.
pub(crate) fn wide_series(columns: &[String], runs: &[(&RunResult, &str)]) -> Vec<u8> {
    let mut header = vec!["run", "policy", "seed", "machines_lower_bound"];
    header.extend(columns.iter().map(String::as_str));
    let rows = runs.iter().flat_map(|(r, text)| {
        let id = r.spec.id();
        text.lines().skip(1).enumerate().map(move |(k, line)| {
            let lb = r.machines_lb.get(k).map_or(String::new(), u32::to_string);
            let mut row = vec![id.clone(), r.spec.policy.clone(), r.spec.seed.to_string(), lb];
            // The stored series holds numbers only: its cells need no quoting.
            row.extend(line.split(',').map(str::to_string));
            row
        })
    });
    csv(&header, rows)
}
