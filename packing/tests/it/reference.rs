//! Naive reference implementations of every policy, for comparison on tiny instances.
//!
//! Written straight from each policy's documented definition, independently of the crate's code:
//! plain vectors, full rescans, and exact rational arithmetic wherever the definition is a ratio,
//! so that a tie here is a true tie and must go to the lowest id in the crate as well.

// Index loops read like the formulas they transcribe.
#![allow(clippy::needless_range_loop)]

use std::cmp::Ordering;

use packing::{Fit, Kind, Size};

/// An exact fraction with a positive denominator.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Q {
    n: i128,
    d: i128,
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 { a.abs().max(1) } else { gcd(b, a % b) }
}

impl Q {
    pub(crate) fn new(n: i128, d: i128) -> Q {
        assert!(d != 0);
        let g = gcd(n, d) * d.signum();
        Q { n: n / g, d: d / g }
    }
    pub(crate) fn int(n: i128) -> Q {
        Q { n, d: 1 }
    }
    pub(crate) fn zero() -> Q {
        Q::int(0)
    }
    pub(crate) fn add(self, o: Q) -> Q {
        Q::new(self.n * o.d + o.n * self.d, self.d * o.d)
    }
    pub(crate) fn mul(self, o: Q) -> Q {
        Q::new(self.n * o.n, self.d * o.d)
    }
    pub(crate) fn div_int(self, k: i128) -> Q {
        Q::new(self.n, self.d * k)
    }
}

impl PartialEq for Q {
    fn eq(&self, o: &Q) -> bool {
        self.n * o.d == o.n * self.d
    }
}
impl PartialOrd for Q {
    fn partial_cmp(&self, o: &Q) -> Option<Ordering> {
        Some((self.n * o.d).cmp(&(o.n * self.d)))
    }
}

/// A tiny instance: machine capacities, item demands, integer weights and optional groups.
#[derive(Clone, Debug)]
pub(crate) struct Instance {
    pub caps: Vec<Vec<u64>>,
    pub items: Vec<Vec<u64>>,
    pub weights: Vec<u64>,
    pub groups: Option<Vec<u32>>,
}

impl Instance {
    fn dims(&self) -> usize {
        self.weights.len()
    }
    fn reference(&self, d: usize) -> u64 {
        self.caps.iter().map(|c| c[d]).max().unwrap_or(0)
    }
    /// `x / ref_d`, or 0 when every machine has zero capacity in `d`.
    fn norm(&self, x: u64, d: usize) -> Q {
        match self.reference(d) {
            0 => Q::zero(),
            r => Q::new(i128::from(x), i128::from(r)),
        }
    }
}

fn fits(x: &[u64], free: &[u64]) -> bool {
    x.iter().zip(free).all(|(a, b)| a <= b)
}

/// Index of the maximum by `key`, first on ties; `None` for no candidates.
fn first_max<T: PartialOrd + Copy>(cands: impl Iterator<Item = (usize, T)>) -> Option<usize> {
    let mut best: Option<(usize, T)> = None;
    for (i, k) in cands {
        if best.is_none_or(|(_, b)| k > b) {
            best = Some((i, k));
        }
    }
    best.map(|(i, _)| i)
}

/// Stable sort of item indices by decreasing key.
fn decreasing(keys: &[Q]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[b].partial_cmp(&keys[a]).unwrap());
    order
}

/// satyr's list-relative weight of `row` given the list's column sums and coefficients.
fn satyr_weight(row: &[u64], sums: &[u64], coefficients: &[u64]) -> Q {
    let mut w = Q::zero();
    for d in 0..row.len() {
        if coefficients[d] != 0 && sums[d] != 0 {
            w = w.add(Q::new(
                i128::from(row[d]) * i128::from(coefficients[d]),
                i128::from(sums[d]),
            ));
        }
    }
    w
}

fn column_sums(rows: &[Vec<u64>], dims: usize) -> Vec<u64> {
    (0..dims).map(|d| rows.iter().map(|r| r[d]).sum()).collect()
}

/// The machine (index) each item goes to under `kind`, by the documented definition.
pub(crate) fn pack(kind: Kind, inst: &Instance) -> Vec<Option<usize>> {
    let mut r = Reference {
        inst,
        free: inst.caps.clone(),
        out: vec![None; inst.items.len()],
        cursor: 0,
    };
    let dims = inst.dims();
    let w = &inst.weights;
    match kind {
        Kind::SatyrFfd | Kind::SatyrBfd => {
            let sums = column_sums(&inst.items, dims);
            let keys: Vec<Q> = inst.items.iter().map(|x| satyr_weight(x, &sums, w)).collect();
            for i in decreasing(&keys) {
                r.place(i, kind);
            }
        }
        Kind::Decreasing(_, size) => {
            let n = inst.items.len() as i128;
            let avg: Vec<Q> = (0..dims)
                .map(|d| {
                    let s = inst
                        .items
                        .iter()
                        .fold(Q::zero(), |a, x| a.add(inst.norm(x[d], d)));
                    if n == 0 { Q::zero() } else { s.div_int(n) }
                })
                .collect();
            let keys: Vec<Q> = inst.items.iter().map(|x| size_key(size, inst, x, &avg)).collect();
            for i in decreasing(&keys) {
                r.place(i, kind);
            }
        }
        Kind::DotProduct | Kind::L2Norm => r.bin_centric(kind),
        Kind::Drf => r.progressive_filling(),
        _ => {
            for i in 0..inst.items.len() {
                r.place(i, kind);
            }
        }
    }
    r.out
}

/// The state of a reference packing: free amounts per machine, where each item went, and
/// next fit's cursor.
struct Reference<'a> {
    inst: &'a Instance,
    free: Vec<Vec<u64>>,
    out: Vec<Option<usize>>,
    cursor: usize,
}

impl Reference<'_> {
    /// Places one item with the rule that places one item given the current free amounts.
    fn place(&mut self, item: usize, rule: Kind) {
        if let Some(m) = choose(self.inst, &self.free, self.cursor, item, rule) {
            for d in 0..self.inst.dims() {
                self.free[m][d] -= self.inst.items[item][d];
            }
            self.cursor = m;
            self.out[item] = Some(m);
        }
    }

    /// Machines in order, each filled with the best remaining item by the kind's score.
    fn bin_centric(&mut self, kind: Kind) {
        let (inst, dims, w) = (self.inst, self.inst.dims(), &self.inst.weights);
        let mut remaining: Vec<usize> = (0..inst.items.len()).collect();
        for m in 0..self.free.len() {
            loop {
                let free = &self.free;
                let best = first_max(remaining.iter().enumerate().filter_map(|(pos, &i)| {
                    let x = &inst.items[i];
                    if !fits(x, &free[m]) {
                        return None;
                    }
                    let mut s = Q::zero();
                    for d in 0..dims {
                        let wd = Q::int(i128::from(w[d]));
                        let term = if kind == Kind::DotProduct {
                            inst.norm(x[d], d).mul(inst.norm(free[m][d], d))
                        } else {
                            let r = inst.norm(free[m][d] - x[d], d);
                            neg(r.mul(r))
                        };
                        s = s.add(wd.mul(term));
                    }
                    Some((pos, s))
                }));
                let Some(pos) = best else { break };
                let i = remaining.remove(pos);
                for d in 0..dims {
                    self.free[m][d] -= inst.items[i][d];
                }
                self.out[i] = Some(m);
            }
        }
    }

    /// DRF: the group with the lowest weighted dominant share takes its next item, first fit.
    fn progressive_filling(&mut self) {
        let (inst, dims, w) = (self.inst, self.inst.dims(), &self.inst.weights);
        let groups: Vec<u32> = inst
            .groups
            .clone()
            .unwrap_or_else(|| (0..inst.items.len() as u32).collect());
        let totals = column_sums(&inst.caps, dims);
        let mut ids: Vec<u32> = groups.clone();
        ids.sort_unstable();
        ids.dedup();
        let mut queue: Vec<Vec<usize>> = ids
            .iter()
            .map(|g| (0..groups.len()).filter(|&i| groups[i] == *g).collect())
            .collect();
        let mut alloc = vec![vec![0u64; dims]; ids.len()];
        loop {
            let share = |g: usize| -> Q {
                let mut best = Q::zero();
                for d in 0..dims {
                    if totals[d] != 0 {
                        let s = Q::new(i128::from(w[d] * alloc[g][d]), i128::from(totals[d]));
                        if s > best {
                            best = s;
                        }
                    }
                }
                best
            };
            let pick = first_max(
                (0..ids.len())
                    .filter(|&g| !queue[g].is_empty())
                    .map(|g| (g, neg(share(g)))),
            );
            let Some(g) = pick else { break };
            let i = queue[g].remove(0);
            self.place(i, Kind::Drf);
            if self.out[i].is_some() {
                for d in 0..dims {
                    alloc[g][d] += inst.items[i][d];
                }
            }
        }
    }
}

/// The machine `rule` chooses for `item` given the free amounts (`cursor`: next fit's start).
fn choose(inst: &Instance, free: &[Vec<u64>], cursor: usize, item: usize, rule: Kind) -> Option<usize> {
    let dims = inst.dims();
    let w = &inst.weights;
    let x = &inst.items[item];
    let n = free.len();
    let fitting: Vec<usize> = (0..n).filter(|&m| fits(x, &free[m])).collect();
    let residual_sum = |m: usize| -> Q {
        let mut s = Q::zero();
        for d in 0..dims {
            s = s.add(inst.norm(free[m][d] - x[d], d).mul(Q::int(i128::from(w[d]))));
        }
        s
    };
    match rule {
        Kind::SatyrFf
        | Kind::SatyrFfd
        | Kind::Fit(Fit::First)
        | Kind::Decreasing(Fit::First, _)
        | Kind::Drf => fitting.first().copied(),
        // Without GPU devices the device-level policies have nothing to tell machines apart:
        // every score is equal and the lowest id wins, which is first fit.
        Kind::Fgd | Kind::GpuPacking | Kind::GpuClustering => fitting.first().copied(),
        // fgd-dot's ties (all of them, without GPUs) go to the best weighted alignment.
        Kind::FgdDot => first_max(fitting.iter().map(|&m| {
            let mut s = Q::zero();
            for d in 0..dims {
                let term = inst.norm(x[d], d).mul(inst.norm(free[m][d], d));
                s = s.add(Q::int(i128::from(w[d])).mul(term));
            }
            (m, s)
        })),
        Kind::Fit(Fit::Next) | Kind::Decreasing(Fit::Next, _) => {
            (0..n).map(|k| (cursor + k) % n).find(|&m| fits(x, &free[m]))
        }
        Kind::Fit(Fit::Best) | Kind::Decreasing(Fit::Best, _) => {
            first_max(fitting.iter().map(|&m| (m, neg(residual_sum(m)))))
        }
        Kind::Fit(Fit::Worst) | Kind::Decreasing(Fit::Worst, _) => {
            first_max(fitting.iter().map(|&m| (m, residual_sum(m))))
        }
        Kind::SatyrMr => {
            let sums = column_sums(free, dims);
            let top = first_max((0..n).map(|m| (m, satyr_weight(&free[m], &sums, w))));
            top.filter(|&m| fits(x, &free[m]))
        }
        Kind::SatyrBf | Kind::SatyrBfd => {
            let residuals: Vec<Vec<u64>> = fitting
                .iter()
                .map(|&m| (0..dims).map(|d| free[m][d] - x[d]).collect())
                .collect();
            let sums = column_sums(&residuals, dims);
            first_max(
                fitting
                    .iter()
                    .zip(&residuals)
                    .map(|(&m, r)| (m, neg(satyr_weight(r, &sums, w)))),
            )
        }
        Kind::KubeLeastAllocated | Kind::KubeMostAllocated => first_max(
            fitting
                .iter()
                .map(|&m| (m, kube_int(rule, &inst.caps[m], &free[m], x, w))),
        ),
        Kind::KubeBalancedAllocation => first_max(
            fitting
                .iter()
                .map(|&m| (m, kube_balanced(&inst.caps[m], &free[m], x, w))),
        ),
        Kind::FenzoCpuMem => first_max(fitting.iter().map(|&m| {
            let mut s = Q::zero();
            for d in 0..dims {
                let c = inst.caps[m][d];
                if c != 0 {
                    let used = c - free[m][d] + x[d];
                    s = s.add(Q::new(i128::from(used) * i128::from(w[d]), i128::from(c)));
                }
            }
            (m, s)
        })),
        other => panic!("no reference rule for {other}"),
    }
}

fn neg(q: Q) -> Q {
    Q::new(-q.n, q.d)
}

fn size_key(size: Size, inst: &Instance, x: &[u64], avg: &[Q]) -> Q {
    let dims = inst.dims();
    let w = |d: usize| Q::int(i128::from(inst.weights[d]));
    let s = |d: usize| inst.norm(x[d], d);
    let weighted = (0..dims).filter(|&d| inst.weights[d] != 0);
    match size {
        Size::Sum => weighted.fold(Q::zero(), |a, d| a.add(w(d).mul(s(d)))),
        Size::Max => weighted.fold(Q::zero(), |a, d| {
            let t = w(d).mul(s(d));
            if t > a { t } else { a }
        }),
        // sqrt is monotone: compare the squared norm.
        Size::L2 => weighted.fold(Q::zero(), |a, d| a.add(w(d).mul(s(d)).mul(s(d)))),
        Size::Product => weighted.fold(Q::int(1), |a, d| (0..inst.weights[d]).fold(a, |p, _| p.mul(s(d)))),
        Size::AvgSum => weighted.fold(Q::zero(), |a, d| a.add(w(d).mul(avg[d]).mul(s(d)))),
    }
}

/// kube-scheduler's LeastAllocated / MostAllocated node score, in integers as kube computes it.
fn kube_int(kind: Kind, cap: &[u64], free: &[u64], x: &[u64], w: &[u64]) -> i128 {
    let (mut node, mut weight_sum) = (0i128, 0i128);
    for d in 0..x.len() {
        if w[d] == 0 {
            continue;
        }
        let (c, req) = (i128::from(cap[d]), i128::from(cap[d] - free[d] + x[d]));
        let score = match kind {
            Kind::KubeLeastAllocated if c == 0 || req > c => 0,
            Kind::KubeLeastAllocated => (c - req) * 100 / c,
            _ if c == 0 => 0,
            _ => req.min(c) * 100 / c,
        };
        node += score * i128::from(w[d]);
        weight_sum += i128::from(w[d]);
    }
    node / weight_sum
}

/// kube-scheduler's BalancedAllocation score, in kube's float arithmetic.
fn kube_balanced(cap: &[u64], free: &[u64], x: &[u64], w: &[u64]) -> i64 {
    let selected: Vec<usize> = (0..x.len()).filter(|&d| w[d] != 0).collect();
    if selected.iter().all(|&d| x[d] == 0) {
        return 0;
    }
    let fractions: Vec<f64> = selected
        .iter()
        .filter(|&&d| cap[d] != 0)
        .map(|&d| ((cap[d] - free[d] + x[d]) as f64 / cap[d] as f64).min(1.0))
        .collect();
    let std = match fractions.len() {
        2 => ((fractions[0] - fractions[1]) / 2.0).abs(),
        n if n > 2 => {
            let mean = fractions.iter().sum::<f64>() / n as f64;
            (fractions.iter().map(|f| (f - mean) * (f - mean)).sum::<f64>() / n as f64).sqrt()
        }
        _ => 0.0,
    };
    ((1.0 - std) * 100.0) as i64
}
