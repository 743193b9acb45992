//! The closed set of built-in policies: their stable names, families and documentation.

use std::fmt;

/// Which machine a fit rule takes among those where a task fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fit {
    /// Keep one current machine and only move forward from it.
    Next,
    /// The lowest machine id.
    First,
    /// The smallest weighted normalised residual.
    Best,
    /// The largest weighted normalised residual.
    Worst,
}

impl Fit {
    /// All fit rules, in listing order.
    pub const ALL: [Fit; 4] = [Fit::Next, Fit::First, Fit::Best, Fit::Worst];

    fn name(self) -> &'static str {
        match self {
            Fit::Next => "next-fit",
            Fit::First => "first-fit",
            Fit::Best => "best-fit",
            Fit::Worst => "worst-fit",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Fit::Next => "nfd",
            Fit::First => "ffd",
            Fit::Best => "bfd",
            Fit::Worst => "wfd",
        }
    }
}

/// How a decreasing policy measures a task's size before sorting (Panigrahy et al. 2011).
///
/// Sizes use the normalised demand `s_d = demand_d / ref_d`, `ref_d` being the largest machine
/// capacity in dimension `d`, and the policy's weights `w_d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    /// `Σ w_d s_d`.
    Sum,
    /// `max_d w_d s_d`.
    Max,
    /// `sqrt(Σ w_d s_d²)`.
    L2,
    /// `Π s_d^w_d` over dimensions with a non-zero weight.
    Product,
    /// `Σ w_d a_d s_d`, `a_d` being the mean of `s_d` over the batch.
    AvgSum,
}

impl Size {
    /// All size functions, in listing order.
    pub const ALL: [Size; 5] = [Size::Sum, Size::Max, Size::L2, Size::Product, Size::AvgSum];

    fn suffix(self) -> &'static str {
        match self {
            Size::Sum => "sum",
            Size::Max => "max",
            Size::L2 => "l2",
            Size::Product => "product",
            Size::AvgSum => "avg-sum",
        }
    }

    fn formula(self) -> &'static str {
        match self {
            Size::Sum => "the weighted sum Σ w_d·s_d",
            Size::Max => "the weighted maximum max_d w_d·s_d",
            Size::L2 => "the weighted L2 norm sqrt(Σ w_d·s_d²)",
            Size::Product => "the weighted product Π s_d^w_d",
            Size::AvgSum => {
                "the average-weighted sum Σ w_d·a_d·s_d, a_d being the mean of s_d over the batch"
            }
        }
    }
}

/// The families policies are listed and compared in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Reproductions of satyr/mentor's five weighted heuristics.
    Satyr,
    /// Classic fit rules, in input order.
    Classic,
    /// Classic fit rules after sorting tasks by decreasing size.
    Decreasing,
    /// Score every fitting machine and take the best.
    Scoring,
    /// Orderings for fairness, and random placement as a baseline.
    Baseline,
    /// GPU-sharing policies that look at individual GPU devices (the FGD study's and ours).
    Gpu,
}

impl Family {
    /// Heading used when listing policies.
    pub fn title(self) -> &'static str {
        match self {
            Family::Satyr => "satyr-compatible (exact satyr/mentor semantics)",
            Family::Classic => "classic fit rules (capacity-normalised, any dimensions)",
            Family::Decreasing => "decreasing fit rules (Panigrahy et al. 2011 size functions)",
            Family::Scoring => "scoring policies (highest score wins, ties to the lowest id)",
            Family::Baseline => "fairness and baselines",
            Family::Gpu => "GPU-sharing policies (device-level; Weng et al., ATC'23)",
        }
    }
}

/// One built-in placement policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// satyr's `ff`.
    SatyrFf,
    /// satyr's `ffd`.
    SatyrFfd,
    /// satyr's `mr` (max rest).
    SatyrMr,
    /// satyr's `bf`.
    SatyrBf,
    /// satyr's `bfd`.
    SatyrBfd,
    /// A classic fit rule on tasks in input order.
    Fit(Fit),
    /// A fit rule on tasks sorted by decreasing size.
    Decreasing(Fit, Size),
    /// Dot-product alignment of demand and free capacity (Tetris).
    DotProduct,
    /// Smallest L2 norm of the residual.
    L2Norm,
    /// kube-scheduler's NodeResourcesFit, LeastAllocated strategy.
    KubeLeastAllocated,
    /// kube-scheduler's NodeResourcesFit, MostAllocated strategy.
    KubeMostAllocated,
    /// kube-scheduler's NodeResourcesBalancedAllocation.
    KubeBalancedAllocation,
    /// Fenzo's cpu+memory bin-packing fitness.
    FenzoCpuMem,
    /// Dominant Resource Fairness ordering, first-fit placement.
    Drf,
    /// Seeded uniform random choice among fitting machines.
    Random,
    /// Fragmentation gradient descent (Weng et al., ATC'23).
    Fgd,
    /// GPU packing: shared GPUs first, then free GPUs of used machines, then idle machines.
    GpuPacking,
    /// GPU clustering: machines already running tasks of the same GPU demand first.
    GpuClustering,
    /// FGD with dot-product alignment breaking its ties (ours).
    FgdDot,
    /// FGD exactly as the paper's simulator scores it: integer sigmoid score, random ties.
    FgdSim,
}

impl Kind {
    /// Every built-in policy, in listing order.
    pub fn all() -> Vec<Kind> {
        let mut all = vec![
            Kind::SatyrFf,
            Kind::SatyrFfd,
            Kind::SatyrMr,
            Kind::SatyrBf,
            Kind::SatyrBfd,
        ];
        all.extend(Fit::ALL.map(Kind::Fit));
        for fit in Fit::ALL {
            all.extend(Size::ALL.map(|size| Kind::Decreasing(fit, size)));
        }
        all.extend([
            Kind::DotProduct,
            Kind::L2Norm,
            Kind::KubeLeastAllocated,
            Kind::KubeMostAllocated,
            Kind::KubeBalancedAllocation,
            Kind::FenzoCpuMem,
            Kind::Drf,
            Kind::Random,
            Kind::Fgd,
            Kind::GpuPacking,
            Kind::GpuClustering,
            Kind::FgdDot,
            Kind::FgdSim,
        ]);
        all
    }

    /// The stable kebab-case name used on the command line, in files and in reports.
    pub fn name(self) -> String {
        let fixed = match self {
            Kind::SatyrFf => "satyr-ff",
            Kind::SatyrFfd => "satyr-ffd",
            Kind::SatyrMr => "satyr-mr",
            Kind::SatyrBf => "satyr-bf",
            Kind::SatyrBfd => "satyr-bfd",
            Kind::Fit(fit) => fit.name(),
            Kind::Decreasing(fit, size) => return format!("{}-{}", fit.prefix(), size.suffix()),
            Kind::DotProduct => "dot-product",
            Kind::L2Norm => "l2-norm",
            Kind::KubeLeastAllocated => "kube-least-allocated",
            Kind::KubeMostAllocated => "kube-most-allocated",
            Kind::KubeBalancedAllocation => "kube-balanced-allocation",
            Kind::FenzoCpuMem => "fenzo-cpu-mem",
            Kind::Drf => "drf",
            Kind::Random => "random",
            Kind::Fgd => "fgd",
            Kind::GpuPacking => "gpu-packing",
            Kind::GpuClustering => "gpu-clustering",
            Kind::FgdDot => "fgd-dot",
            Kind::FgdSim => "fgd-sim",
        };
        fixed.to_string()
    }

    /// The policy called `name`, if any.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::all().into_iter().find(|k| k.name() == name)
    }

    /// The family the policy is listed under.
    pub fn family(self) -> Family {
        match self {
            Kind::SatyrFf | Kind::SatyrFfd | Kind::SatyrMr | Kind::SatyrBf | Kind::SatyrBfd => Family::Satyr,
            Kind::Fit(_) => Family::Classic,
            Kind::Decreasing(..) => Family::Decreasing,
            Kind::DotProduct
            | Kind::L2Norm
            | Kind::KubeLeastAllocated
            | Kind::KubeMostAllocated
            | Kind::KubeBalancedAllocation
            | Kind::FenzoCpuMem => Family::Scoring,
            Kind::Drf | Kind::Random => Family::Baseline,
            Kind::Fgd | Kind::GpuPacking | Kind::GpuClustering | Kind::FgdDot | Kind::FgdSim => Family::Gpu,
        }
    }

    /// True for policies that give each fitting machine a 0–100 score; only these combine.
    pub fn is_scoring(self) -> bool {
        matches!(
            self,
            Kind::Fit(Fit::Best | Fit::Worst)
                | Kind::DotProduct
                | Kind::L2Norm
                | Kind::KubeLeastAllocated
                | Kind::KubeMostAllocated
                | Kind::KubeBalancedAllocation
                | Kind::FenzoCpuMem
                | Kind::Random
        )
    }

    /// True for the kinds that pack a batch bin-centrically offline (each machine in turn takes
    /// its best remaining item): dot product and l2-norm, as Panigrahy et al. define them.
    pub fn is_bin_centric(self) -> bool {
        matches!(self, Kind::DotProduct | Kind::L2Norm)
    }

    /// True for satyr's policies, which weigh only cpus, mem and disk.
    pub fn is_satyr(self) -> bool {
        self.family() == Family::Satyr
    }

    /// One line for `packsim policies`.
    pub fn summary(self) -> String {
        let fixed = match self {
            Kind::SatyrFf => "satyr ff: first machine where the task fits, tasks in input order",
            Kind::SatyrFfd => "satyr ffd: stable sort by list-relative weight, then first fit",
            Kind::SatyrMr => "satyr mr: only the machine with the most weighted free room",
            Kind::SatyrBf => "satyr bf: smallest list-relative weighted residual",
            Kind::SatyrBfd => "satyr bfd (satyr's default): weight-sorted, then bf",
            Kind::Fit(Fit::Next) => "keep the current machine, move forward when full",
            Kind::Fit(Fit::First) => "lowest-id machine where the task fits",
            Kind::Fit(Fit::Best) => "smallest normalised weighted residual",
            Kind::Fit(Fit::Worst) => "largest normalised weighted residual (emptiest)",
            Kind::Decreasing(fit, size) => {
                return format!("{} on tasks sorted by {} size", fit.name(), size.suffix());
            }
            Kind::DotProduct => "Tetris alignment: max dot product of demand and free room",
            Kind::L2Norm => "min L2 norm of the residual (bin-centric offline)",
            Kind::KubeLeastAllocated => "kube-scheduler LeastAllocated, 0-100 integer score",
            Kind::KubeMostAllocated => "kube-scheduler MostAllocated, 0-100 integer score",
            Kind::KubeBalancedAllocation => "kube-scheduler BalancedAllocation, 0-100 score",
            Kind::FenzoCpuMem => "Netflix Fenzo cpuMemBinPacker fitness",
            Kind::Drf => "DRF progressive-filling order across groups, first fit",
            Kind::Random => "seeded uniform choice among fitting machines",
            Kind::Fgd => "fragmentation gradient descent: least growth of GPU fragmentation",
            Kind::GpuPacking => "shared GPUs first, then free GPUs on used nodes, then idle nodes",
            Kind::GpuClustering => "nodes already running tasks of the same GPU demand first",
            Kind::FgdDot => "FGD, ties broken by dot-product alignment (ours)",
            Kind::FgdSim => "FGD as the paper's simulator scores it: integer score, random ties",
        };
        fixed.to_string()
    }

    /// One paragraph: the exact rule, its tie-breaking and its reference.
    pub fn doc(self) -> String {
        match self {
            Kind::SatyrFf => "Tasks in input order, each to the first machine (lowest id) where it \
                fits; takes no weights. satyr/mentor `binpack.ff` (shared/design/SATYR-PACKING.md)."
                .into(),
            Kind::SatyrFfd => "satyr's `ffd`: tasks sorted by satyr's list-relative weight, \
                descending and stable (equal weights keep input order), then first fit. The weight \
                of a task is Σ over cpus, mem, disk of coefficient × value / (sum of that dimension \
                over the batch). Default coefficients cpus=1, mem=1."
                .into(),
            Kind::SatyrMr => "satyr's `mr` (max rest): tasks in input order; every machine's free \
                amounts are weighted relative to the sum over all machines, and the machine with \
                the largest weight (lowest id on ties) is the only candidate: if the task does not \
                fit there it is skipped and no other machine is tried."
                .into(),
            Kind::SatyrBf => "satyr's `bf`: tasks in input order; among machines where the task \
                fits, residual = free − demand, residuals weighted relative to their sum over the \
                candidates only; the smallest weight wins, the lowest id on ties."
                .into(),
            Kind::SatyrBfd => "satyr's `bfd`, the default of satyr's scheduler (cpus=1, mem=1): \
                the stable decreasing sort of `ffd`, then `bf` with the same coefficients."
                .into(),
            Kind::Fit(Fit::Next) => "Next fit (Johnson 1973): one current machine, the one \
                allocated to last; when a task does not fit there, move to the next machine by id \
                that fits, wrapping around after the last one. Tasks in input order."
                .into(),
            Kind::Fit(Fit::First) => "First fit (Johnson 1973; Garey, Graham and Ullman 1972): \
                the lowest-id machine where the task fits, found in O(log n) with the cluster's \
                free-capacity tree. Tasks in input order."
                .into(),
            Kind::Fit(Fit::Best) => "Best fit, capacity-normalised for any number of dimensions: \
                the fitting machine with the smallest Σ w_d·(free_d − demand_d)/ref_d, ref_d being \
                the largest machine capacity in dimension d (the normalisation of Panigrahy et al. \
                2011); ties to the lowest id. Tasks in input order."
                .into(),
            Kind::Fit(Fit::Worst) => "Worst fit: the fitting machine with the largest \
                Σ w_d·(free_d − demand_d)/ref_d, i.e. the emptiest after placement, which spreads \
                load; ties to the lowest id. Tasks in input order."
                .into(),
            Kind::Decreasing(fit, size) => format!(
                "{} decreasing: tasks sorted by size, largest first and stable (equal sizes keep \
                input order), then {}. The size is {} with s_d = demand_d/ref_d (Panigrahy, \
                Talwar, Uyeda and Wieder, \"Heuristics for Vector Bin Packing\", MSR 2011).",
                capitalise(fit.name()),
                fit.name(),
                size.formula()
            ),
            Kind::DotProduct => "Dot-product alignment (Tetris, Grandl et al., SIGCOMM 2014; \
                \"DotProduct\" in Panigrahy et al. 2011): score Σ w_d·(demand_d/ref_d)·(free_d/ref_d). \
                Online the fitting machine with the highest score wins. Offline it is bin-centric \
                as in both papers: machines are filled one at a time, by id, each time with the \
                remaining task of highest score (lowest task index on ties) until none fits."
                .into(),
            Kind::L2Norm => "L2-norm greedy (Panigrahy et al. 2011): minimise \
                sqrt(Σ w_d·((free_d − demand_d)/ref_d)²), the distance left to a full machine. \
                Online item-centric (best machine for the task); offline bin-centric like \
                dot-product (best task for the current machine)."
                .into(),
            Kind::KubeLeastAllocated => "kube-scheduler NodeResourcesFit, LeastAllocated (its \
                default strategy): per resource ⌊(capacity − requested)·100/capacity⌋ with requested \
                counting this task, 0 when over capacity; node score ⌊Σ w·score / Σ w⌋. Highest \
                score wins; ties go to the lowest id where kube-scheduler picks at random. Default \
                weights cpus=1, mem=1 (kube's cpu and memory)."
                .into(),
            Kind::KubeMostAllocated => "kube-scheduler NodeResourcesFit, MostAllocated: per \
                resource ⌊min(requested, capacity)·100/capacity⌋ with requested counting this task; \
                node score ⌊Σ w·score / Σ w⌋; highest wins, ties to the lowest id. Default weights \
                cpus=1, mem=1."
                .into(),
            Kind::KubeBalancedAllocation => "kube-scheduler NodeResourcesBalancedAllocation: with \
                f_r = min(1, requested_r/capacity_r) over the weighted resources of non-zero \
                capacity, score ⌊(1 − std)·100⌋, std = |f_1 − f_2|/2 for two resources and the \
                population standard deviation otherwise. Weights only select the resources \
                (default cpus, mem); a task requesting none of them scores 0 everywhere, as \
                kube-scheduler skips it."
                .into(),
            Kind::FenzoCpuMem => "Netflix Fenzo's BinPackingFitnessCalculators.cpuMemBinPacker: \
                fitness (cpu + mem)/2 with fitness_r = (used_r + demand_r)/capacity_r; the highest \
                fitness wins, ties to the lowest id. Fenzo's early stop at a \"good enough\" fitness \
                is not modelled. Weights generalise the mean (default cpus=1, mem=1)."
                .into(),
            Kind::Drf => "Dominant Resource Fairness order (Ghodsi et al., NSDI 2011): offline, \
                progressive filling — always the next task of the group with the lowest weighted \
                dominant share of total capacity (lowest group id on ties) — placed first-fit. \
                Groups come from the items' `group` column; without it every task is its own group \
                and the order is the input order. Online (one task) it is first fit: DRF decides \
                whose task goes next, not where it goes."
                .into(),
            Kind::Random => "Seeded uniform random choice among the machines where the task fits, \
                the baseline every heuristic should beat. The choice hashes the seed, the cluster's \
                generation and the machine id, so it is reproducible and stateless."
                .into(),
            Kind::Fgd => "Fragmentation gradient descent (Weng et al., \"Beware of Fragmentation: \
                Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent\", USENIX \
                ATC'23). The fragmentation of a node is the expected idle GPU (milli) that a task \
                of the target workload could not use there: Σ over the workload's task classes \
                (the most popular shapes covering 95% of tasks) of popularity × the idle GPU the \
                class cannot use (all of it if the class asks no GPU, lacks CPU, excludes the \
                node's GPU model or fits on no device; else the devices with less free than its \
                share). A task goes to the node, and a sharing task to the device, where \
                placing it grows that fragmentation least; ties to the lowest node and device id \
                (the paper's simulator scores sigmoid(Δ/1000)·100 as an integer and lets \
                kube-scheduler break ties at random: packsim compares the exact Δ)."
                .into(),
            Kind::GpuPacking => "GPU packing, the FGD study's baseline: a task asking for GPU \
                prefers (1) a node where it fits on partially used GPUs, scoring 100 − (free share \
                of the GPUs it would use)·10, at least 50; then (2) a used node where it needs \
                fully free GPUs, 50 − their number, at least 33; then (3) an idle node, \
                33 − its GPUs, at least its GPUs. Devices: the fitting ones with least free first. \
                Tasks without GPU score 0 everywhere (lowest id wins)."
                .into(),
            Kind::GpuClustering => "GPU clustering, the FGD study's baseline: a task asking for \
                GPU prefers nodes running only tasks of its own GPU demand (75–100), then nodes \
                running its demand among others (50–75), then nodes without GPU tasks (25–50), \
                then the rest (0–25); within a band 25·(G − idle GPU on the node)/G, G being the \
                largest node's GPU capacity. Tasks without GPU score 0 everywhere."
                .into(),
            Kind::FgdDot => "Ours: FGD's fragmentation growth decides, and among nodes and devices \
                that grow it equally (often: every CPU-only task and every placement that leaves \
                usable GPU usable grows it by exactly 0) the Tetris alignment of the demand with \
                the node's free room, Σ_d w_d·(demand_d/ref_d)·(free_d/ref_d) as `dot-product` \
                weighs it (every dimension by default), decides instead of the lowest id. On openb it allocates more GPU than FGD at 130% \
                arrived demand (packsim compare --preset fgd)."
                .into(),
            Kind::FgdSim => "FGD exactly as the paper's simulator (Kubernetes scheduler simulator, \
                FGDScore plugin) scores it, for checking results against the paper: a node scores \
                ⌊100·sigmoid(Δ/1000)⌋ with Δ the decrease of its fragmentation (milli-GPU), a \
                sharing task takes the device of highest such score (lowest index on ties), and \
                nodes of equal score are chosen between at random, as kube-scheduler does (seeded: \
                a hash of the seed, the cluster's generation and the node id)."
                .into(),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_round_trip() {
        let all = Kind::all();
        assert_eq!(all.len(), 42);
        for (i, kind) in all.iter().enumerate() {
            let name = kind.name();
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name} is not kebab-case"
            );
            assert_eq!(Kind::from_name(&name), Some(*kind));
            assert!(all[..i].iter().all(|k| k.name() != name), "{name} twice");
            assert!(
                !kind.summary().is_empty() && kind.doc().len() > 80,
                "{name} undocumented"
            );
        }
        assert_eq!(
            Kind::from_name("ffd-avg-sum"),
            Some(Kind::Decreasing(Fit::First, Size::AvgSum))
        );
        assert_eq!(Kind::from_name("no-such-policy"), None);
    }
}
