//! An experiment grid: policies × workloads × scheduler models × seeds × cluster scales, from the
//! command line or a TOML/JSON file, and the runs it expands to.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sim::ModelKind;

use crate::Error;

/// The built-in default grid: the synthetic default workload, policies from every family, all
/// three scheduler models, five seeds.
pub const DEFAULT_POLICIES: &[&str] = &[
    "first-fit",
    "best-fit",
    "worst-fit",
    "dot-product",
    "l2-norm",
    "kube-least-allocated",
    "kube-most-allocated",
    "kube-balanced-allocation",
    "fenzo-cpu-mem",
    "satyr-bf",
    "satyr-mr",
    "random",
];

/// An experiment: every combination of its lists is one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Workloads: `synthetic:NAME` or trace files (see `packsim replay --workload`).
    #[serde(default = "default_workloads")]
    pub workloads: Vec<String>,
    /// The cluster for every workload (a spec or a machine file); `None`: each workload's own.
    #[serde(default)]
    pub cluster: Option<String>,
    /// Policy names or weighted sums (see `packsim policies`).
    #[serde(default = "default_policies")]
    pub policies: Vec<String>,
    /// Scheduler models: `global`, `offers`, `arrive-only`.
    #[serde(default = "default_models", with = "model_names")]
    pub models: Vec<ModelKind>,
    /// Seeds: each seeds the synthetic workload's generation, the arrive-only sampling and random
    /// policies. Runs with the same seed see the same workload, so policies are compared in pairs.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Cluster scales: the machine list is repeated (or cut) to this multiple of its size.
    #[serde(default = "default_scales")]
    pub scales: Vec<f64>,
    /// Arrive-only: sampled demand as a fraction of capacity.
    #[serde(default = "default_target")]
    pub target: f64,
}

fn default_workloads() -> Vec<String> {
    vec!["synthetic:default".into()]
}
fn default_policies() -> Vec<String> {
    DEFAULT_POLICIES.iter().map(|&p| p.to_string()).collect()
}
fn default_models() -> Vec<ModelKind> {
    ModelKind::ALL.to_vec()
}

/// Models by name in experiment files and stored runs.
mod model_names {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use sim::ModelKind;

    pub(super) fn serialize<S: Serializer>(models: &[ModelKind], s: S) -> Result<S::Ok, S::Error> {
        models.iter().map(|m| m.name()).collect::<Vec<_>>().serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ModelKind>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|m| m.parse().map_err(serde::de::Error::custom))
            .collect()
    }
}

/// One model by name.
mod model_name {
    use serde::{Deserialize, Deserializer, Serializer};
    use sim::ModelKind;

    pub(super) fn serialize<S: Serializer>(model: &ModelKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(model.name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ModelKind, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}
fn default_seeds() -> Vec<u64> {
    vec![1, 2, 3, 4, 5]
}
fn default_scales() -> Vec<f64> {
    vec![1.0]
}
fn default_target() -> f64 {
    1.3
}

impl Default for Experiment {
    fn default() -> Self {
        Experiment {
            workloads: default_workloads(),
            cluster: None,
            policies: default_policies(),
            models: default_models(),
            seeds: default_seeds(),
            scales: default_scales(),
            target: default_target(),
        }
    }
}

/// One cell of the grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Workload as given.
    pub workload: String,
    /// Cluster as given (empty: the workload's own).
    pub cluster: String,
    /// Policy as given.
    pub policy: String,
    /// Scheduler model.
    #[serde(with = "model_name")]
    pub model: ModelKind,
    /// Seed.
    pub seed: u64,
    /// Cluster scale.
    pub scale: f64,
    /// Arrive-only target.
    pub target: f64,
    /// A fingerprint of the inputs the run reads: the contents of its trace and cluster files,
    /// the read options and packsim's version (`run::fingerprint`); part of the id, so an edited
    /// trace or a new version never reuses old runs. Empty until the grid is run.
    #[serde(default)]
    pub inputs: String,
}

impl RunSpec {
    /// A stable identifier: the same configuration always has the same id, so a resumed grid
    /// finds the runs it already has. FNV-1a over the configuration's canonical text.
    pub fn id(&self) -> String {
        let mut text = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.workload, self.cluster, self.policy, self.model, self.seed, self.scale, self.target
        );
        if !self.inputs.is_empty() {
            text.push('\u{1f}');
            text.push_str(&self.inputs);
        }
        let mut h = packing::hash::Fnv1a::new();
        h.write(text.as_bytes());
        format!("{:016x}", h.finish())
    }

    /// The group the run is compared within: same workload, cluster, model and scale.
    pub fn group(&self) -> (String, String, ModelKind, String) {
        (
            self.workload.clone(),
            self.cluster.clone(),
            self.model,
            format!("{}", self.scale),
        )
    }
}

/// The policies of the FGD study (Weng et al., ATC'23) as packsim names them, and ours.
pub const FGD_POLICIES: &[&str] = &[
    "random",
    "dot-product",
    "gpu-clustering",
    "gpu-packing",
    "best-fit",
    "fgd",
    "fgd-dot",
];

impl Experiment {
    /// The FGD study on the openb trace in `openb_dir`: every pod list (default first, then by
    /// name) on the trace's 1,213 GPU nodes, the study's six policies and ours, arrive-only to
    /// 130% of GPU capacity, seeds 42–51 as in the paper.
    pub fn fgd_study(openb_dir: &Path) -> Result<Experiment, Error> {
        let mut pods: Vec<String> = std::fs::read_dir(openb_dir)
            .map_err(|e| Error::io(openb_dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("openb_pod_list_") && n.ends_with(".csv"))
            })
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if pods.is_empty() {
            return Err(Error::Experiment(format!(
                "{}: no openb_pod_list_*.csv files",
                openb_dir.display()
            )));
        }
        pods.sort_by_key(|p| (!p.ends_with("openb_pod_list_default.csv"), p.clone()));
        Ok(Experiment {
            workloads: pods,
            cluster: None,
            policies: FGD_POLICIES.iter().map(|p| (*p).to_string()).collect(),
            models: vec![ModelKind::ArriveOnly],
            seeds: (42..=51).collect(),
            scales: vec![1.0],
            target: 1.3,
        })
    }

    /// Reads an experiment file: TOML, or JSON when the name ends in `.json`.
    pub fn from_file(path: &Path) -> Result<Experiment, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let experiment: Experiment = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            serde_json::from_str(&text).map_err(|e| Error::Experiment(format!("{}: {e}", path.display())))?
        } else {
            toml::from_str(&text).map_err(|e| Error::Experiment(format!("{}: {e}", path.display())))?
        };
        // A file that sets nothing would silently run the built-in grid.
        let empty = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
                .is_ok_and(|m| m.is_empty())
        } else {
            toml::from_str::<toml::Table>(&text).is_ok_and(|t| t.is_empty())
        };
        if empty {
            return Err(Error::Experiment(format!(
                "{}: the experiment sets nothing (workloads, cluster, policies, models, seeds, scales, target); \
                 without it `packsim compare` runs the built-in grid",
                path.display()
            )));
        }
        experiment.validate()?;
        Ok(experiment)
    }

    /// Checks the lists are usable (names themselves are checked when the grid runs).
    pub fn validate(&self) -> Result<(), Error> {
        let empty = |what: &str, n: usize| {
            if n == 0 {
                Err(Error::Experiment(format!("the experiment lists no {what}")))
            } else {
                Ok(())
            }
        };
        empty("workloads", self.workloads.len())?;
        empty("policies", self.policies.len())?;
        empty("models", self.models.len())?;
        empty("seeds", self.seeds.len())?;
        empty("scales", self.scales.len())?;
        fn twice<T: PartialEq + std::fmt::Display>(what: &str, list: &[T]) -> Result<(), Error> {
            for (i, x) in list.iter().enumerate() {
                if list[..i].contains(x) {
                    return Err(Error::Experiment(format!(
                        "{what} `{x}` is listed twice: each combination runs once, so list it once"
                    )));
                }
            }
            Ok(())
        }
        twice("workload", &self.workloads)?;
        twice("policy", &self.policies)?;
        twice("model", &self.models)?;
        twice("seed", &self.seeds)?;
        twice("cluster scale", &self.scales)?;
        for &s in &self.scales {
            if !(s.is_finite() && s > 0.0) {
                return Err(Error::Experiment(format!(
                    "cluster scale {s} must be a positive number"
                )));
            }
        }
        if !(self.target.is_finite() && self.target > 0.0) {
            return Err(Error::Experiment(format!(
                "target {} must be a positive number",
                self.target
            )));
        }
        Ok(())
    }

    /// Every run of the grid, in a fixed order (workload, scale, model, policy, seed).
    pub fn runs(&self) -> Vec<RunSpec> {
        let mut runs = Vec::new();
        for w in &self.workloads {
            for &scale in &self.scales {
                for &m in &self.models {
                    for p in &self.policies {
                        for &seed in &self.seeds {
                            runs.push(RunSpec {
                                workload: w.clone(),
                                cluster: self.cluster.clone().unwrap_or_default(),
                                policy: p.clone(),
                                model: m,
                                seed,
                                scale,
                                target: self.target,
                                inputs: String::new(),
                            });
                        }
                    }
                }
            }
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toml_file_overrides_only_what_it_names() {
        let e: Experiment = toml::from_str("policies = [\"first-fit\"]\nseeds = [7]\n").unwrap();
        assert_eq!(e.policies, ["first-fit"]);
        assert_eq!(e.seeds, [7]);
        assert_eq!(e.models, default_models());
        assert_eq!(e.runs().len(), 3);
    }

    #[test]
    fn unknown_fields_and_models_are_errors() {
        assert!(toml::from_str::<Experiment>("polices = []").is_err());
        let err = toml::from_str::<Experiment>("models = [\"global\", \"mesos\"]").unwrap_err();
        assert!(err.to_string().contains("unknown model `mesos`"), "{err}");
    }

    #[test]
    fn run_ids_are_stable_and_distinct() {
        let runs = Experiment::default().runs();
        let ids: std::collections::BTreeSet<String> = runs.iter().map(RunSpec::id).collect();
        assert_eq!(ids.len(), runs.len());
        assert_eq!(runs[0].id(), runs[0].clone().id());
    }
}
