//! Sampling: an option that makes a scoring policy score only some of the machines where a task
//! fits, trading the quality of each decision for its speed on large clusters.
//!
//! It is the one way a decision here differs from scoring every machine, so it is never on unless
//! a policy spec asks for it (`best-fit@sample=2`, `kube-balanced-allocation@sample=kube`).
//! `packsim compare` measures what it costs in quality: a sampled and an exact policy side by side.
//! The indexes, by contrast, never change a decision.
//!
//! Which machines: the first `n` found where the task fits, going up through the machine ids
//! from a pseudo-random start and wrapping around; found by stepping from machine to machine,
//! and in one dimension by jumping through the first-fit tree past runs of machines that do not
//! fit. The start is a hash of the seed and the cluster's
//! generation, so a decision stays a function of the state and the seed, and consecutive
//! decisions look at different machines. kube-scheduler instead starts where its previous search
//! stopped. Both spread the searches over the cluster. Among the scored machines the policy's
//! own rule decides: the highest score, the lowest id among near ties.
//!
//! A sample shapes every online decision: in the simulator, on Mesos offers and in `pack` for
//! policies that place item by item. Dot product and l2-norm fill bins one at a time in `pack`
//! (they choose items, not machines), and there it changes nothing.

use std::fmt;

use crate::Error;
use crate::cluster::{Cluster, MachineId};
use crate::hash::splitmix64;
use crate::rule::Record;

/// How many of the machines where a task fits a sampled policy scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sample {
    /// A fixed number of machines where the task fits (`@sample=2`: Nomad's bin packing scores
    /// two eligible nodes).
    Machines(u32),
    /// kube-scheduler's `percentageOfNodesToScore` set to this percentage, 1–100
    /// (`@sample=10%`): that share of the available machines, but at least 100, and all of them
    /// in clusters of fewer than 100.
    Percent(u8),
    /// kube-scheduler's default (`@sample=kube`, `percentageOfNodesToScore: 0`): the percentage
    /// `50 − machines/125`, at least 5, then as [`Sample::Percent`].
    Kube,
}

/// kube-scheduler looks for at least this many feasible nodes.
const KUBE_MIN_NODES: usize = 100;
/// kube-scheduler's adaptive percentage never goes below this.
const KUBE_MIN_PERCENT: usize = 5;

impl Sample {
    /// Parses the value of `@sample=`: a count `N`, a percentage `P%`, or `kube`.
    pub fn parse(value: &str) -> Result<Sample, Error> {
        let value = value.trim();
        let bad = |why: &str| Error::Policy(format!("`@sample={value}`: {why}"));
        if value == "kube" {
            return Ok(Sample::Kube);
        }
        if let Some(percent) = value.strip_suffix('%') {
            let p: u8 = percent
                .trim()
                .parse()
                .map_err(|_| bad("a percentage is a whole number from 1 to 100"))?;
            if !(1..=100).contains(&p) {
                return Err(bad("a percentage is a whole number from 1 to 100"));
            }
            return Ok(Sample::Percent(p));
        }
        match value.parse::<u32>() {
            Ok(0) => Err(bad("a policy must score at least one machine")),
            Ok(n) => Ok(Sample::Machines(n)),
            Err(_) => Err(bad(
                "expected a number of machines (`2`), a percentage (`10%`) or `kube`",
            )),
        }
    }

    /// How many machines where a task fits a decision scores, in a cluster with `available`
    /// available machines.
    pub fn machines(self, available: usize) -> usize {
        match self {
            Sample::Machines(n) => n as usize,
            Sample::Percent(p) => kube_nodes(available, usize::from(p)),
            Sample::Kube => {
                let percent = 50usize.saturating_sub(available / 125).max(KUBE_MIN_PERCENT);
                kube_nodes(available, percent)
            }
        }
    }
}

/// kube-scheduler's number of feasible nodes to find among `all` nodes at `percent`.
fn kube_nodes(all: usize, percent: usize) -> usize {
    if all < KUBE_MIN_NODES || percent >= 100 {
        return all;
    }
    (all * percent / 100).max(KUBE_MIN_NODES)
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sample::Machines(n) => write!(f, "{n}"),
            Sample::Percent(p) => write!(f, "{p}%"),
            Sample::Kube => f.write_str("kube"),
        }
    }
}

/// The scoring rule over the first `n` machines passing `fit`, from the sample's start upwards
/// and wrapping around ([`Record`]: the highest `score`, the lowest id among near ties).
pub(crate) fn choose(
    c: &Cluster,
    demand: &[u64],
    n: usize,
    seed: u64,
    fit: impl Fn(MachineId) -> bool,
    score: impl Fn(MachineId) -> f64,
) -> Option<MachineId> {
    let len = c.len();
    if len == 0 || n == 0 {
        return None;
    }
    let start = (splitmix64(splitmix64(seed) ^ c.generation()) % len as u64) as usize;
    let mut record = Record::new();
    let mut scored = 0;
    // Machine by machine (a step costs a few ns, and all steps together at most a scan); in one
    // dimension, after a run of misses, a jump through the first-fit tree to the next machine
    // that fits, which there costs O(log m). In several dimensions the tree's per-dimension
    // maxima can pass where no machine fits, and the search behind a jump backtracks: on the
    // openb trace (4 dimensions) jumps took most of the time. Either way the machines that fit
    // come in id order.
    let jump_after = if c.dims() == 1 { JUMP_AFTER } else { u32::MAX };
    for (from, to) in [(start, len), (0, start)] {
        let (mut m, mut misses) = (from, 0);
        while scored < n && m < to {
            let id = MachineId(m as u32);
            if c.fits(id, demand) {
                if fit(id) {
                    record.offer(id.0, score(id));
                    scored += 1;
                }
                misses = 0;
                m += 1;
            } else if misses < jump_after {
                misses += 1;
                m += 1;
            } else {
                let Some(next) = c.first_fit_in(demand, m, to) else {
                    break;
                };
                misses = 0;
                m = next.index();
            }
        }
    }
    record.winner().map(MachineId)
}

/// Misses in a row after which a one-dimensional sample stops stepping and jumps through the
/// first-fit tree.
const JUMP_AFTER: u32 = 8;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResourceTable;

    #[test]
    fn parses_counts_percentages_and_kube() {
        assert_eq!(Sample::parse("2").unwrap(), Sample::Machines(2));
        assert_eq!(Sample::parse("10%").unwrap(), Sample::Percent(10));
        assert_eq!(Sample::parse("kube").unwrap(), Sample::Kube);
        for bad in ["0", "0%", "101%", "-1", "x", "2.5", ""] {
            let err = Sample::parse(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("`@sample={bad}`")), "{bad}: {err}");
        }
        for sample in [Sample::Machines(7), Sample::Percent(30), Sample::Kube] {
            assert_eq!(Sample::parse(&sample.to_string()).unwrap(), sample);
        }
    }

    // kube-scheduler's documented numbers: 50% at 100 nodes, 10% at 5,000, never below 5%,
    // never fewer than 100 nodes, every node in clusters of fewer than 100.
    #[test]
    fn follows_kube_schedulers_node_counts() {
        assert_eq!(Sample::Kube.machines(99), 99);
        assert_eq!(Sample::Kube.machines(100), 100);
        assert_eq!(Sample::Kube.machines(1_000), 420);
        assert_eq!(Sample::Kube.machines(5_000), 500);
        assert_eq!(Sample::Kube.machines(6_000), 300);
        assert_eq!(Sample::Kube.machines(100_000), 5_000);
        assert_eq!(Sample::Percent(30).machines(500), 150);
        assert_eq!(Sample::Percent(1).machines(1_000), 100);
        assert_eq!(Sample::Percent(100).machines(1_000), 1_000);
        assert_eq!(Sample::Machines(2).machines(1_000), 2);
    }

    #[test]
    fn scores_the_first_machines_that_fit_from_the_start_and_wraps() {
        // Ten machines; the ones with room for 5 are 1, 3, 4, 7 and 9.
        let caps = ResourceTable::from_rows(1, [[2], [9], [1], [6], [5], [4], [3], [8], [0], [7]]);
        let c = Cluster::from_capacities(&caps);
        let start = (splitmix64(splitmix64(0) ^ c.generation()) % 10) as usize;
        let fitting = [1usize, 3, 4, 7, 9];
        let fit = |m: MachineId| c.fits(m, &[5]);
        // With one machine scored, the decision is the first fitting machine from the start.
        let first = fitting
            .iter()
            .copied()
            .find(|&m| m >= start)
            .unwrap_or(fitting[0]);
        let one = choose(&c, &[5], 1, 0, fit, |m| c.free(m)[0] as f64);
        assert_eq!(one, Some(MachineId(first as u32)));
        // With all of them, the best overall (most free: machine 1), as without sampling.
        let all = choose(&c, &[5], 5, 0, fit, |m| c.free(m)[0] as f64);
        assert_eq!(all, Some(MachineId(1)));
        assert_eq!(choose(&c, &[10], 5, 0, fit, |_| 0.0), None);
    }
}
