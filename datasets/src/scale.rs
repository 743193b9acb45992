//! Machine scale: what a normalised 1.0 means in absolute units.
//!
//! Google (2011, 2019) normalises CPU and memory to the largest machine of the trace; Alibaba 2017
//! normalises memory and disk the same way, and Alibaba 2018 memory to 0–100. The traces do not say
//! what the largest machine had, so packsim converts with an explicit scale the user can set
//! (`--machine-scale cpus=32,mem=131072`), with a documented default per format. Within one trace
//! every ratio is preserved; only comparisons across traces depend on the choice.

use std::fmt;

/// Absolute amounts of the largest machine: normalised 1.0 becomes these.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MachineScale {
    /// Cores of a normalised 1.0 CPU.
    pub cpus: f64,
    /// MiB of a normalised 1.0 memory.
    pub mem: f64,
    /// MiB of a normalised 1.0 disk.
    pub disk: f64,
}

impl MachineScale {
    /// Google 2011 and 2019 default: the largest machine has 32 cores, 128 GiB memory, 1 TiB disk.
    pub const GOOGLE: MachineScale = MachineScale {
        cpus: 32.0,
        mem: 131_072.0,
        disk: 1_048_576.0,
    };
    /// Alibaba 2017 default: the largest machine has 128 GiB memory and 1 TiB disk (CPU is given in
    /// cores by the trace, so `cpus` is unused).
    pub const ALIBABA_2017: MachineScale = MachineScale {
        cpus: 64.0,
        mem: 131_072.0,
        disk: 1_048_576.0,
    };
    /// Alibaba 2018 default: memory 100 (the largest machine) is 384 GiB; CPU is in cores.
    pub const ALIBABA_2018: MachineScale = MachineScale {
        cpus: 96.0,
        mem: 393_216.0,
        disk: 1_048_576.0,
    };
    /// Azure packing 2020 default: one machine of the chosen generation has 48 cores and 384 GiB.
    pub const AZURE: MachineScale = MachineScale {
        cpus: 48.0,
        mem: 393_216.0,
        disk: 1_048_576.0,
    };

    /// Parses `cpus=32,mem=131072,disk=1048576` over `defaults`: names not given keep the default.
    pub fn parse(text: &str, defaults: MachineScale) -> Result<MachineScale, String> {
        let mut scale = defaults;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not of the form name=number"))?;
            let value: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v > 0.0)
                .ok_or_else(|| format!("`{}` (for {name}) is not a positive number", value.trim()))?;
            match name.trim() {
                "cpus" => scale.cpus = value,
                "mem" => scale.mem = value,
                "disk" => scale.disk = value,
                other => return Err(format!("`{other}` is not a scale (use cpus, mem, disk)")),
            }
        }
        Ok(scale)
    }

    /// A normalised CPU amount in milli-cores.
    pub fn cpus_milli(&self, normalised: f64) -> u64 {
        to_units(normalised * self.cpus * 1000.0)
    }

    /// A normalised memory amount in MiB.
    pub fn mem_mib(&self, normalised: f64) -> u64 {
        to_units(normalised * self.mem)
    }

    /// A normalised disk amount in MiB.
    pub fn disk_mib(&self, normalised: f64) -> u64 {
        to_units(normalised * self.disk)
    }
}

/// Rounds a non-negative amount to the nearest unit (negative or NaN become 0).
fn to_units(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x.round() as u64
    } else {
        0
    }
}

impl fmt::Display for MachineScale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cpus={},mem={},disk={}", self.cpus, self.mem, self.disk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_over_defaults() {
        let s = MachineScale::parse("mem=1024", MachineScale::GOOGLE).unwrap();
        assert_eq!(s.mem, 1024.0);
        assert_eq!(s.cpus, 32.0);
        assert!(MachineScale::parse("gpus=1", MachineScale::GOOGLE).is_err());
        assert!(MachineScale::parse("mem=-1", MachineScale::GOOGLE).is_err());
        assert!(MachineScale::parse("mem", MachineScale::GOOGLE).is_err());
    }

    #[test]
    fn converts_normalised_amounts() {
        let s = MachineScale::GOOGLE;
        assert_eq!(s.cpus_milli(0.5), 16_000);
        assert_eq!(s.mem_mib(0.25), 32_768);
        assert_eq!(s.mem_mib(-0.1), 0);
    }
}
