//! Placement policies: the one value that decides in `pack`, in the simulator and on live offers.
//!
//! A [`Policy`] is a built-in [`Kind`] (or a weighted sum of scoring kinds), per-dimension
//! [`Weights`] and a seed. Online, [`Policy::choose`] picks a machine for one task given the
//! cluster state; offline, [`crate::pack`] orders a batch the way the policy prescribes and places
//! each task with the same `choose`, so both modes share one decision path.

mod gpu;
pub mod kind;
mod sample;
mod satyr;
mod score;
mod size;

use std::fmt;
use std::sync::Arc;

pub use kind::{Family, Fit, Kind, Size};
pub use sample::Sample;

use crate::cluster::{Cluster, MachineId};
use crate::frag::TargetWorkload;
use crate::gpu::{DeviceAlloc, Request, default_devices};
use crate::index::Span;
use crate::resources::ResourceTable;
use crate::search::{argmax, first_fit};
use crate::{Error, Schema, Weights};

pub(crate) use satyr::item_weights as satyr_item_weights;

/// satyr's `weight(list, coefficients)`: each element's list-relative weight, in list order.
///
/// Each dimension of each row is divided by that dimension's sum over the list and multiplied by
/// its coefficient (a dimension summing to 0 contributes 0); the products are summed per row.
pub fn satyr_weight(list: &ResourceTable, coefficients: &Weights) -> Vec<f64> {
    satyr::item_weights(list, coefficients.values())
}
pub(crate) use size::{decreasing_order, decreasing_sizes};

/// The three dimensions satyr knows; everything else is invisible to its weights.
pub const SATYR_DIMENSIONS: [&str; 3] = ["cpus", "mem", "disk"];

/// What a policy is made of.
#[derive(Clone, Debug, PartialEq)]
enum Rule {
    One(Kind),
    /// Scoring kinds and their multipliers; the machine with the highest weighted sum wins.
    Sum(Vec<(Kind, f64)>),
}

/// A placement policy with its weights and seed.
#[derive(Clone, Debug)]
pub struct Policy {
    rule: Rule,
    weights: Weights,
    seed: u64,
    /// Score only some of the machines where a task fits (an explicit trade of quality for speed).
    sample: Option<Sample>,
    schema: Schema,
    /// FGD's target workload (the task classes fragmentation is measured against).
    target: Option<Arc<TargetWorkload>>,
    /// FGD's memo of fragmentation changes: shared by clones, never changes a decision.
    memo: Arc<gpu::Memo>,
}

impl PartialEq for Policy {
    fn eq(&self, other: &Policy) -> bool {
        self.rule == other.rule
            && self.weights == other.weights
            && self.seed == other.seed
            && self.sample == other.sample
            && self.schema == other.schema
            && self.target == other.target
    }
}

impl Policy {
    /// Parses a policy spec for machines and tasks of `schema`, with the policy's default weights.
    ///
    /// A spec is a policy name (`best-fit`, see [`Kind::all`]) or a weighted sum of scoring
    /// policies, `kube-least-allocated*1+kube-balanced-allocation*2`, where a missing `*w` means 1,
    /// optionally followed by `@sample=N`, `@sample=P%` or `@sample=kube` (see [`Sample`]).
    pub fn parse(spec: &str, schema: &Schema) -> Result<Policy, Error> {
        let spec = spec.trim();
        if let Some((rule, option)) = spec.split_once('@') {
            let value = option.trim().strip_prefix("sample=").ok_or_else(|| {
                Error::Policy(format!(
                    "unknown option `@{}` in `{spec}`; the option is `@sample=N`, `@sample=P%` or \
                     `@sample=kube`",
                    option.trim()
                ))
            })?;
            return Policy::parse(rule, schema)?.with_sample(Some(Sample::parse(value)?));
        }
        if !spec.contains('+') && !spec.contains('*') {
            return Policy::from_kind(parse_kind(spec)?, schema);
        }
        let mut parts = Vec::new();
        for term in spec.split('+').map(str::trim) {
            let (name, multiplier) = match term.split_once('*') {
                Some((name, m)) => {
                    let m: f64 = m
                        .trim()
                        .parse()
                        .map_err(|_| Error::Policy(format!("`{}` in `{spec}` is not a number", m.trim())))?;
                    (name.trim(), m)
                }
                None => (term, 1.0),
            };
            let kind = parse_kind(name)?;
            if !kind.is_scoring() {
                return Err(Error::Policy(format!(
                    "`{kind}` has no score, so it cannot be part of a sum; scoring policies are {}",
                    scoring_names()
                )));
            }
            if !(multiplier.is_finite() && multiplier > 0.0) {
                return Err(Error::Policy(format!(
                    "the multiplier of `{kind}` must be a positive number, not {multiplier}"
                )));
            }
            parts.push((kind, multiplier));
        }
        // The terms' default weights where they agree (so `k*1` weighs as `k` does); kube's and
        // Fenzo's cpus and mem where one of them meets a uniformly weighted score.
        let by_kube = parts
            .iter()
            .any(|(k, _)| default_weights(*k, schema).ok() != Some(Weights::uniform(schema.len())));
        let weights = if by_kube {
            default_weights(Kind::KubeLeastAllocated, schema)?
        } else {
            Weights::uniform(schema.len())
        };
        Ok(Policy {
            rule: Rule::Sum(parts),
            weights,
            seed: 0,
            sample: None,
            schema: schema.clone(),
            target: None,
            memo: Arc::default(),
        })
    }

    /// The built-in policy `kind` for `schema`, with its default weights.
    pub fn from_kind(kind: Kind, schema: &Schema) -> Result<Policy, Error> {
        Ok(Policy {
            rule: Rule::One(kind),
            weights: default_weights(kind, schema)?,
            seed: 0,
            sample: None,
            schema: schema.clone(),
            target: None,
            memo: Arc::default(),
        })
    }

    /// The same policy with other weights, checked against what the policy accepts.
    pub fn with_weights(mut self, weights: Weights) -> Result<Policy, Error> {
        if weights.len() != self.schema.len() {
            return Err(Error::Weight(format!(
                "{} weights for {} dimensions ({})",
                weights.len(),
                self.schema.len(),
                self.schema.names()
            )));
        }
        if self.kind() == Some(Kind::SatyrFf) {
            return Err(Error::Weight(
                "satyr-ff takes no weights (satyr's ff has no coefficients)".into(),
            ));
        }
        if self.kind().is_some_and(Kind::is_satyr) {
            let outside = self
                .schema
                .dims()
                .iter()
                .zip(weights.values())
                .find(|(d, w)| **w != 0.0 && !SATYR_DIMENSIONS.contains(&d.name()));
            if let Some((dim, _)) = outside {
                return Err(Error::Weight(format!(
                    "satyr policies weigh only cpus, mem and disk, not `{}`",
                    dim.name()
                )));
            }
        }
        self.weights = weights;
        Ok(self)
    }

    /// True for policies that measure fragmentation against a target workload (FGD), which
    /// [`Policy::with_target`] must then provide (without one, every node's fragmentation is 0).
    pub fn needs_target(&self) -> bool {
        matches!(self.rule, Rule::One(Kind::Fgd | Kind::FgdDot | Kind::FgdSim))
    }

    /// The same policy measuring fragmentation against `target`.
    pub fn with_target(mut self, target: TargetWorkload) -> Policy {
        self.target = Some(Arc::new(target));
        self.memo = Arc::default();
        self
    }

    /// The target workload, if one was given.
    pub fn target(&self) -> Option<&TargetWorkload> {
        self.target.as_deref()
    }

    /// The same policy with another seed (used by `random` and by random parts of a sum).
    pub fn with_seed(mut self, seed: u64) -> Policy {
        self.seed = seed;
        self
    }

    /// The same policy scoring only a sample of the machines where a task fits (`None`: all
    /// of them). Only policies that score machines can sample: scoring policies and their sums,
    /// and best and worst fit with their decreasing variants.
    pub fn with_sample(mut self, sample: Option<Sample>) -> Result<Policy, Error> {
        if sample.is_some() && !self.scores_machines() {
            return Err(Error::Policy(format!(
                "`{}` does not score machines, so it cannot sample them; scoring policies are {}",
                self.name(),
                scoring_names()
            )));
        }
        self.sample = sample;
        Ok(self)
    }

    /// True when the policy's decision is the highest score over the machines (a scoring kind,
    /// best or worst fit and their decreasing variants, or a sum).
    fn scores_machines(&self) -> bool {
        match self.rule {
            Rule::One(kind) => {
                kind.is_scoring() || matches!(kind, Kind::Decreasing(Fit::Best | Fit::Worst, _))
            }
            Rule::Sum(_) => true,
        }
    }

    /// The policy's sampling option, if it has one.
    pub fn sample(&self) -> Option<Sample> {
        self.sample
    }

    /// The canonical spec: the kind's name, or `a*2+b*1` for a sum, then `@sample=...` if the
    /// policy samples.
    pub fn name(&self) -> String {
        let rule = match &self.rule {
            Rule::One(kind) => kind.name(),
            Rule::Sum(parts) => {
                let terms: Vec<String> = parts.iter().map(|(k, m)| format!("{k}*{m}")).collect();
                terms.join("+")
            }
        };
        match self.sample {
            Some(sample) => format!("{rule}@sample={sample}"),
            None => rule,
        }
    }

    /// The built-in kind, or `None` for a weighted sum.
    pub fn kind(&self) -> Option<Kind> {
        match self.rule {
            Rule::One(kind) => Some(kind),
            Rule::Sum(_) => None,
        }
    }

    /// The policy's weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The policy's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The schema the policy was built for.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Makes the cluster keep whatever index this policy can decide faster with. Decisions are
    /// the same with or without it; only their cost changes (far less than a scan, at O(log n)
    /// more per allocation or release):
    /// - worst fit, and best fit in one dimension, (and their decreasing variants) get an ordered
    ///   index of the machines by their key for this policy's weights;
    /// - best fit in several dimensions gets a k-d tree keyed the same way;
    /// - dot product and l2-norm get a k-d tree to prune with;
    /// - kube's least/most-allocated and Fenzo's cpu-mem fitness get a k-d tree that also keeps
    ///   capacity ranges, as they score against each machine's own capacity;
    /// - a weighted sum gets a k-d tree (with capacity ranges if a part needs them), pruning with
    ///   the sum of the parts' bounds.
    ///
    /// Other policies need nothing: first fit and next fit use the cluster's own segment tree.
    ///
    /// A sampled policy keeps none: it finds its sample by stepping through the machines (see
    /// [`Sample`]), and scans when the sample holds the whole cluster.
    pub fn prepare(&self, c: &mut Cluster) {
        if c.dims() != self.schema.len() || self.sample.is_some() {
            return;
        }
        // The k-d tree is cut only by the dimensions the score reads.
        let scored: Vec<bool> = self.weights.values().iter().map(|&w| w != 0.0).collect();
        match self.rule {
            Rule::One(Kind::Fit(Fit::Best) | Kind::Decreasing(Fit::Best, _)) if c.dims() > 1 => {
                c.index_space(Some(self.weights.normalised()), false, &scored);
            }
            Rule::One(Kind::Fit(fit) | Kind::Decreasing(fit, _)) if matches!(fit, Fit::Best | Fit::Worst) => {
                c.index_residual(self.weights.normalised(), fit == Fit::Worst);
            }
            Rule::One(Kind::DotProduct | Kind::L2Norm) => c.index_space(None, false, &scored),
            Rule::One(Kind::KubeLeastAllocated | Kind::KubeMostAllocated | Kind::FenzoCpuMem) => {
                c.index_space(None, true, &scored);
            }
            Rule::Sum(ref parts) => {
                let capacity = parts.iter().any(|&(k, _)| score::needs_capacity(k));
                c.index_space(None, capacity, &scored);
            }
            _ => {}
        }
    }

    /// Chooses a machine for one task given the cluster state; `None` when the policy places it
    /// nowhere. Never allocates memory for schemas of up to 8 dimensions.
    pub fn choose(&self, c: &Cluster, demand: &[u64]) -> Option<MachineId> {
        if matches!(self.rule, Rule::One(kind) if kind.family() == Family::Gpu) {
            // Device-level policies need the GPU demand: the usual split of the GPU amount.
            let gpu = c.gpu_dim().map_or(Some(crate::gpu::GpuDemand::None), |g| {
                crate::gpu::GpuDemand::from_milli(demand[g])
            })?;
            let request = Request {
                demand,
                gpu,
                models: crate::gpu::ModelSet::ANY,
            };
            return self.place(c, &request, |_| true).map(|p| p.machine);
        }
        self.choose_by(c, demand, |_| true, |m| c.fits(m, demand))
    }

    /// Places one request: the machine this policy chooses among those where the request fits
    /// (demand, GPU devices, GPU models) and `eligible` agrees (anti-affinity and other constraints
    /// the caller tracks), and the GPU devices it takes there.
    pub fn place(
        &self,
        c: &Cluster,
        request: &Request<'_>,
        eligible: impl Fn(MachineId) -> bool,
    ) -> Option<Placement> {
        let listed = |m: MachineId| c.is_available(m) && request.models.allows(c.model(m)) && eligible(m);
        let fit = |m: MachineId| c.fits_request(m, request) && eligible(m);
        if let Rule::One(kind) = self.rule {
            if kind.family() == Family::Gpu {
                if !c.may_fit(request.demand) {
                    return None;
                }
                return gpu::place(self, kind, c, request, |m| c.is_available(m) && fit(m));
            }
        }
        let machine = self.choose_by(c, request.demand, listed, fit)?;
        let devices = default_devices(c.devices(machine), request.gpu)?;
        Some(Placement { machine, devices })
    }

    /// The decision itself. `fit(m)`: the task can go on `m` (implies that its aggregate demand
    /// fits); `listed(m)`: `m` is among the machines offered at all (only satyr's max-rest, which
    /// weighs machines whether or not the task fits, needs this).
    fn choose_by(
        &self,
        c: &Cluster,
        demand: &[u64],
        listed: impl Fn(MachineId) -> bool,
        fit: impl Fn(MachineId) -> bool,
    ) -> Option<MachineId> {
        debug_assert_eq!(c.dims(), self.schema.len());
        // Some dimension exceeds every machine's free amount: nothing can fit, in O(d) (every rule
        // would come to the same conclusion, satyr's max-rest included).
        if !c.may_fit(demand) {
            return None;
        }
        let w = &self.weights;
        if let Some(sample) = self.sample {
            // A sample as large as the cluster holds every machine that fits: the exact decision.
            let n = sample.machines(c.available_count());
            if n < c.available_count() {
                return sample::choose(c, demand, n, self.seed, fit, |m| self.rule_score(c, m, demand));
            }
        }
        match &self.rule {
            Rule::One(kind) => match *kind {
                Kind::SatyrFf
                | Kind::SatyrFfd
                | Kind::Fit(Fit::First)
                | Kind::Decreasing(Fit::First, _)
                | Kind::Drf => first_fit(c, demand, 0, c.len(), &fit),
                Kind::Fit(Fit::Next) | Kind::Decreasing(Fit::Next, _) => {
                    let start = c.cursor().index().min(c.len());
                    first_fit(c, demand, start, c.len(), &fit)
                        .or_else(|| first_fit(c, demand, 0, start, &fit))
                }
                Kind::SatyrMr => satyr::max_rest(c, w.values(), listed, fit),
                Kind::SatyrBf | Kind::SatyrBfd => satyr::best_fit(c, demand, w.values(), fit),
                k => score::best_machine(k, c, demand, w, self.seed, fit),
            },
            Rule::Sum(parts) => {
                let sum = |m| self.rule_score(c, m, demand);
                // The same sum of the parts' bounds is a bound (multipliers are positive, and
                // `fl` products and sums are monotone).
                let bound = |s: Span<'_>| {
                    parts
                        .iter()
                        .map(|&(k, mult)| mult * score::bound(k, c, s, demand, w))
                        .sum()
                };
                let by_capacity = parts.iter().any(|&(k, _)| score::needs_capacity(k));
                c.best_in_space(demand, by_capacity, &fit, sum, bound)
                    .unwrap_or_else(|| argmax(c, fit, sum))
            }
        }
    }

    /// The policy's 0–100 score (or weighted sum of scores) for placing `demand` on `m`; `None`
    /// when the policy does not score machines or the task does not fit there.
    pub fn score(&self, c: &Cluster, m: MachineId, demand: &[u64]) -> Option<f64> {
        if !c.fits(m, demand) {
            return None;
        }
        self.scores_machines().then(|| self.rule_score(c, m, demand))
    }

    /// The score of a scoring rule (a scoring kind or a sum) for `demand` on `m`.
    pub(crate) fn rule_score(&self, c: &Cluster, m: MachineId, demand: &[u64]) -> f64 {
        let w = &self.weights;
        match &self.rule {
            Rule::One(kind) => score::score(*kind, c, m, demand, w, self.seed),
            Rule::Sum(parts) => parts
                .iter()
                .map(|&(k, mult)| mult * score::score(k, c, m, demand, w, self.seed))
                .sum(),
        }
    }

    /// How offline packing takes a batch of `items` with this policy: an order fixed before any
    /// placement, a bin-centric fill, or DRF's progressive filling.
    ///
    /// A weighted sum of bin-centric kinds (`dot-product*1`, `dot-product*2+l2-norm*1`) packs
    /// bin-centrically as its parts do: one score, one algorithm, however the spec spells it.
    pub(crate) fn batch_order(&self, items: &ResourceTable, c: &Cluster) -> BatchOrder {
        let input = || BatchOrder::Fixed((0..items.len() as u32).collect());
        if self.is_bin_centric() {
            return BatchOrder::BinCentric;
        }
        match &self.rule {
            Rule::Sum(_) => input(),
            Rule::One(kind) => match *kind {
                Kind::SatyrFfd | Kind::SatyrBfd => BatchOrder::Fixed(decreasing_order(&satyr_item_weights(
                    items,
                    self.weights.values(),
                ))),
                Kind::Decreasing(_, size) => {
                    BatchOrder::Fixed(decreasing_sizes(size, items, c.inv_reference(), &self.weights))
                }
                Kind::Drf => BatchOrder::Progressive,
                _ => input(),
            },
        }
    }

    /// True when offline packing fills machines one at a time, each with its best remaining
    /// item by this policy's score: dot product, l2-norm, and sums of them only.
    pub fn is_bin_centric(&self) -> bool {
        match &self.rule {
            Rule::One(kind) => kind.is_bin_centric(),
            Rule::Sum(parts) => parts.iter().all(|(k, _)| k.is_bin_centric()),
        }
    }

    /// Ok when offline packing ([`crate::pack`], the offer model, the live adapter) can honour
    /// every option of this policy. A bin-centric policy chooses items for a machine, not
    /// machines for an item, so it has no machines to sample: `@sample=` is an error there.
    pub fn check_batch(&self) -> Result<(), Error> {
        if self.sample.is_some() && self.is_bin_centric() {
            return Err(Error::Policy(format!(
                "`{}` packs a batch bin-centrically (each machine in turn takes its best remaining \
                 task), so it has no machines to sample: `@sample=` applies to one task at a time \
                 (the global and arrive-only models)",
                self.name()
            )));
        }
        Ok(())
    }
}

/// How offline packing takes a batch ([`Policy::batch_order`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BatchOrder {
    /// Item by item in this order of item indices, each placed with [`Policy::place`].
    Fixed(Vec<u32>),
    /// Machine by machine in id order, each taking its best remaining item by the policy's score.
    BinCentric,
    /// DRF: the group with the lowest dominant share takes its next item.
    Progressive,
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Where a policy put a request: the machine and the GPU devices it takes there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Placement {
    /// The machine.
    pub machine: MachineId,
    /// The GPU devices on it.
    pub devices: DeviceAlloc,
}

/// Default weights: satyr's scheduler default, kube's and Fenzo's cpu and memory, else uniform.
fn default_weights(kind: Kind, schema: &Schema) -> Result<Weights, Error> {
    let cpu_mem = ["cpus", "mem"];
    match kind {
        k if k.is_satyr() => Weights::on(schema, &cpu_mem)
            .or_else(|| Weights::on(schema, &SATYR_DIMENSIONS))
            .ok_or_else(|| {
                Error::Policy(format!(
                    "{k} weighs cpus, mem and disk, and the dimensions here are {}",
                    schema.names()
                ))
            }),
        Kind::KubeLeastAllocated
        | Kind::KubeMostAllocated
        | Kind::KubeBalancedAllocation
        | Kind::FenzoCpuMem => {
            Ok(Weights::on(schema, &cpu_mem).unwrap_or_else(|| Weights::uniform(schema.len())))
        }
        _ => Ok(Weights::uniform(schema.len())),
    }
}

/// The built-in kind named `name`, or an error with a "did you mean" hint.
pub fn parse_kind(name: &str) -> Result<Kind, Error> {
    Kind::from_name(name).ok_or_else(|| {
        let suggestion = Kind::all()
            .into_iter()
            .map(|k| (edit_distance(name, &k.name()), k))
            .min_by_key(|&(d, _)| d)
            .filter(|&(d, _)| d <= 3)
            .map(|(_, k)| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        Error::Policy(format!(
            "unknown policy `{name}`{suggestion}; `packsim policies` lists them all"
        ))
    })
}

fn scoring_names() -> String {
    let names: Vec<String> = Kind::all()
        .into_iter()
        .filter(|k| k.is_scoring())
        .map(Kind::name)
        .collect();
    names.join(", ")
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::uniform(&["cpus", "mem", "disk"], 3).unwrap()
    }

    #[test]
    fn parses_names_and_sums() {
        let s = schema();
        assert_eq!(
            Policy::parse("best-fit", &s).unwrap().kind(),
            Some(Kind::Fit(Fit::Best))
        );
        let sum = Policy::parse("kube-least-allocated + kube-balanced-allocation*2", &s).unwrap();
        assert_eq!(sum.kind(), None);
        assert_eq!(sum.name(), "kube-least-allocated*1+kube-balanced-allocation*2");
        assert_eq!(Policy::parse(&sum.name(), &s).unwrap(), sum);
    }

    #[test]
    fn rejects_bad_specs_with_a_hint() {
        let s = schema();
        let err = Policy::parse("bestfit", &s).unwrap_err().to_string();
        assert!(err.contains("did you mean `best-fit`"), "{err}");
        assert!(Policy::parse("first-fit+best-fit", &s).is_err());
        assert!(Policy::parse("best-fit*-1", &s).is_err());
        assert!(Policy::parse("best-fit*x", &s).is_err());
        let one_dim = Schema::uniform(&["size"], 0).unwrap();
        assert!(Policy::parse("satyr-bfd", &one_dim).is_err());
    }

    #[test]
    fn default_and_explicit_weights() {
        let s = schema();
        let bfd = Policy::parse("satyr-bfd", &s).unwrap();
        assert_eq!(bfd.weights().values(), &[1.0, 1.0, 0.0]);
        assert_eq!(
            Policy::parse("best-fit", &s).unwrap().weights().values(),
            &[1.0; 3]
        );
        let ff = Policy::parse("satyr-ff", &s).unwrap();
        assert!(ff.with_weights(Weights::uniform(3)).is_err());
        let gpus = Schema::uniform(&["cpus", "mem", "gpus"], 3).unwrap();
        let bf = Policy::parse("satyr-bf", &gpus).unwrap();
        assert!(bf.with_weights(Weights::parse(&gpus, "gpus=1").unwrap()).is_err());
        let bf = Policy::parse("best-fit", &s).unwrap();
        assert!(bf.with_weights(Weights::uniform(2)).is_err());
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("bestfit", "best-fit"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
