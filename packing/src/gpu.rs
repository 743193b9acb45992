//! GPU devices: what a task asks of individual GPUs, which models it accepts, and which devices an
//! allocation takes.
//!
//! A machine with GPUs has `count` devices of 1000 milli-GPU each, all of one model. The cluster's
//! GPU dimension holds their sum; the devices say how that sum is split, because a GPU-sharing task
//! (`Share(m)`, `m < 1000`) must fit on one device and a multi-GPU task (`Whole(n)`) needs `n`
//! entirely free devices. Both views always agree: the free amount in the GPU dimension equals the
//! sum of the devices' free milli-GPU.

use std::fmt;

/// Milli-GPU in one device.
pub const GPU_MILLI: u32 = 1000;

/// What a task asks of GPU devices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GpuDemand {
    /// No GPU.
    #[default]
    None,
    /// Part of one device, in milli-GPU (1–999).
    Share(u32),
    /// Whole devices.
    Whole(u32),
}

impl GpuDemand {
    /// The aggregate milli-GPU, as counted in the GPU dimension.
    pub fn milli(self) -> u64 {
        match self {
            GpuDemand::None => 0,
            GpuDemand::Share(m) => u64::from(m),
            GpuDemand::Whole(n) => u64::from(GPU_MILLI) * u64::from(n),
        }
    }

    /// Milli-GPU needed on each device used.
    pub fn per_device(self) -> u32 {
        match self {
            GpuDemand::None => 0,
            GpuDemand::Share(m) => m,
            GpuDemand::Whole(_) => GPU_MILLI,
        }
    }

    /// Number of devices used.
    pub fn devices(self) -> u32 {
        match self {
            GpuDemand::None => 0,
            GpuDemand::Share(_) => 1,
            GpuDemand::Whole(n) => n,
        }
    }

    /// The demand for `milli` milli-GPU split the usual way: below 1000 a share of one device,
    /// otherwise whole devices (`milli` must then be a multiple of 1000).
    pub fn from_milli(milli: u64) -> Option<GpuDemand> {
        match milli {
            0 => Some(GpuDemand::None),
            m if m < u64::from(GPU_MILLI) => Some(GpuDemand::Share(m as u32)),
            m if m % u64::from(GPU_MILLI) == 0 => {
                u32::try_from(m / u64::from(GPU_MILLI)).ok().map(GpuDemand::Whole)
            }
            _ => None,
        }
    }
}

/// A set of GPU model ids (0–63) a task accepts; the empty set means any model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelSet(u64);

impl ModelSet {
    /// Any model.
    pub const ANY: ModelSet = ModelSet(0);

    /// The set of the given model ids; ids of 64 and above are not representable (`None`).
    pub fn of(ids: impl IntoIterator<Item = u16>) -> Option<ModelSet> {
        let mut bits = 0u64;
        for id in ids {
            if id >= 64 {
                return None;
            }
            bits |= 1 << id;
        }
        Some(ModelSet(bits))
    }

    /// True when a machine of model `id` is acceptable.
    #[inline]
    pub fn allows(self, id: u16) -> bool {
        self.0 == 0 || (id < 64 && self.0 & (1 << id) != 0)
    }

    /// True for the unrestricted set.
    pub fn is_any(self) -> bool {
        self.0 == 0
    }
}

/// The devices an allocation took on one machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DeviceAlloc {
    /// No device.
    #[default]
    None,
    /// `milli` of device `device` (index within the machine).
    Share {
        /// Device index within the machine.
        device: u8,
        /// Milli-GPU taken.
        milli: u16,
    },
    /// Whole devices, as a bit set of device indices within the machine.
    Whole(u64),
}

impl fmt::Display for DeviceAlloc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceAlloc::None => f.write_str("-"),
            DeviceAlloc::Share { device, milli } => write!(f, "gpu{device}:{milli}m"),
            DeviceAlloc::Whole(mask) => {
                let ids: Vec<String> = (0..64)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| format!("gpu{i}"))
                    .collect();
                f.write_str(&ids.join("+"))
            }
        }
    }
}

/// What a policy places: the demand vector, its device-level GPU shape and acceptable GPU models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// Demand per dimension (the GPU dimension, if any, holds `gpu.milli()`).
    pub demand: &'a [u64],
    /// Device-level GPU demand.
    pub gpu: GpuDemand,
    /// Acceptable GPU models.
    pub models: ModelSet,
}

impl<'a> Request<'a> {
    /// A request with no GPU and no model restriction.
    pub fn plain(demand: &'a [u64]) -> Request<'a> {
        Request {
            demand,
            gpu: GpuDemand::None,
            models: ModelSet::ANY,
        }
    }
}

/// Chooses devices on one machine's free device list: a share goes to the fullest device that
/// still fits it (best fit, lowest index on ties), whole GPUs to the lowest-index free devices.
pub fn default_devices(free: &[u16], gpu: GpuDemand) -> Option<DeviceAlloc> {
    match gpu {
        GpuDemand::None => Some(DeviceAlloc::None),
        GpuDemand::Share(m) => {
            let mut best: Option<(usize, u16)> = None;
            for (i, &f) in free.iter().enumerate() {
                if u32::from(f) >= m && best.is_none_or(|(_, b)| f < b) {
                    best = Some((i, f));
                }
            }
            best.map(|(i, _)| DeviceAlloc::Share {
                device: i as u8,
                milli: m as u16,
            })
        }
        GpuDemand::Whole(n) => {
            let mut mask = 0u64;
            let mut taken = 0;
            for (i, &f) in free.iter().enumerate().take(64) {
                if taken == n {
                    break;
                }
                if u32::from(f) == GPU_MILLI {
                    mask |= 1 << i;
                    taken += 1;
                }
            }
            (taken == n).then_some(DeviceAlloc::Whole(mask))
        }
    }
}

/// True when `gpu` fits the free device list.
#[inline]
pub fn devices_fit(free: &[u16], gpu: GpuDemand) -> bool {
    match gpu {
        GpuDemand::None => true,
        GpuDemand::Share(m) => free.iter().any(|&f| u32::from(f) >= m),
        GpuDemand::Whole(n) => free.iter().filter(|&&f| u32::from(f) == GPU_MILLI).count() as u32 >= n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_go_to_the_fullest_device_that_fits() {
        assert_eq!(
            default_devices(&[1000, 300, 600], GpuDemand::Share(250)),
            Some(DeviceAlloc::Share {
                device: 1,
                milli: 250
            })
        );
        assert_eq!(
            default_devices(&[1000, 300, 600], GpuDemand::Share(500)),
            Some(DeviceAlloc::Share {
                device: 2,
                milli: 500
            })
        );
        assert_eq!(default_devices(&[400, 300], GpuDemand::Share(500)), None);
    }

    #[test]
    fn whole_gpus_take_the_lowest_free_devices() {
        assert_eq!(
            default_devices(&[1000, 500, 1000, 1000], GpuDemand::Whole(2)),
            Some(DeviceAlloc::Whole(0b101))
        );
        assert_eq!(default_devices(&[1000, 500], GpuDemand::Whole(2)), None);
        assert!(devices_fit(&[1000, 500, 1000], GpuDemand::Whole(2)));
        assert!(!devices_fit(&[999, 1000], GpuDemand::Whole(2)));
    }

    #[test]
    fn model_sets() {
        let s = ModelSet::of([1, 3]).unwrap();
        assert!(s.allows(1) && s.allows(3) && !s.allows(2));
        assert!(ModelSet::ANY.allows(7));
        assert!(ModelSet::of([64]).is_none());
    }

    #[test]
    fn milli_round_trips() {
        for d in [GpuDemand::None, GpuDemand::Share(460), GpuDemand::Whole(8)] {
            assert_eq!(GpuDemand::from_milli(d.milli()), Some(d));
        }
        assert_eq!(GpuDemand::from_milli(1500), None);
        assert_eq!(DeviceAlloc::Whole(0b101).to_string(), "gpu0+gpu2");
    }
}
