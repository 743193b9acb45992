//! A cluster's GPU devices: each machine's devices and their free milli-GPU, requests that need
//! whole devices or a share of one, and the per-machine count of GPU demands (GPU clustering's
//! affinity). The machine's GPU dimension always equals the sum of its devices' free amounts.

use super::*;

impl Cluster {
    /// Gives an idle machine `count` fresh devices.
    pub(super) fn resize_devices(&mut self, m: MachineId, count: usize) {
        let (start, end) = (
            self.dev_start[m.index()] as usize,
            self.dev_start[m.index() + 1] as usize,
        );
        let old = end - start;
        self.dev_free
            .splice(start..end, std::iter::repeat_n(GPU_MILLI as u16, count));
        let shift = count as i64 - old as i64;
        for s in &mut self.dev_start[m.index() + 1..] {
            *s = (i64::from(*s) + shift) as u32;
        }
    }

    /// The dimension holding GPU milli, if the cluster has one.
    pub fn gpu_dim(&self) -> Option<usize> {
        self.gpu_dim
    }

    /// Free milli-GPU of each of the machine's GPU devices (empty without GPUs).
    #[inline]
    pub fn devices(&self, m: MachineId) -> &[u16] {
        &self.dev_free[self.dev_start[m.index()] as usize..self.dev_start[m.index() + 1] as usize]
    }

    /// The machine's GPU model id (0 when it has none or the model is unknown).
    #[inline]
    pub fn model(&self, m: MachineId) -> u16 {
        self.model[m.index()]
    }

    /// True when the request fits: its demand, its GPU devices and its GPU models.
    #[inline]
    pub fn fits_request(&self, m: MachineId, request: &Request<'_>) -> bool {
        if !self.fits(m, request.demand) {
            return false;
        }
        if request.gpu == GpuDemand::None && request.models.is_any() {
            return true;
        }
        request.models.allows(self.model(m)) && devices_fit(self.devices(m), request.gpu)
    }

    /// Allocates a request on the machine using exactly the devices `devices`; `None`, and no
    /// change, if the request does not fit or the devices do not match it.
    pub fn allocate_request(
        &mut self,
        m: MachineId,
        request: &Request<'_>,
        devices: DeviceAlloc,
    ) -> Option<()> {
        if m.index() >= self.len() || request.demand.len() != self.dims || !self.fits_request(m, request) {
            return None;
        }
        if !self.devices_match(m, request.gpu, devices) {
            return None;
        }
        let start = self.dev_start[m.index()] as usize;
        match devices {
            DeviceAlloc::None => {}
            DeviceAlloc::Share { device, milli } => self.dev_free[start + usize::from(device)] -= milli,
            DeviceAlloc::Whole(mask) => {
                for i in (0..64).filter(|i| mask & (1 << i) != 0) {
                    self.dev_free[start + i] = 0;
                }
            }
        }
        if request.gpu != GpuDemand::None {
            let tasks = &mut self.gpu_tasks[m.index()];
            match tasks.iter_mut().find(|(g, _)| *g == request.gpu) {
                Some((_, n)) => *n += 1,
                None => tasks.push((request.gpu, 1)),
            }
        }
        let i = m.index() * self.dims;
        for (d, &x) in request.demand.iter().enumerate() {
            self.free[i + d] -= x;
            self.total_free[d] -= u128::from(x);
        }
        self.index
            .set(m.index(), &self.free[i..i + self.dims], self.available[m.index()]);
        self.touch_order(m);
        self.generation += 1;
        self.cursor = m.index();
        Some(())
    }

    /// True when `devices` is a valid choice for `gpu` on the machine, and agrees with the amount
    /// the demand puts in the GPU dimension.
    pub(super) fn devices_match(&self, m: MachineId, gpu: GpuDemand, devices: DeviceAlloc) -> bool {
        let free = self.devices(m);
        match (gpu, devices) {
            (GpuDemand::None, DeviceAlloc::None) => true,
            (GpuDemand::Share(x), DeviceAlloc::Share { device, milli }) => {
                u32::from(milli) == x && free.get(usize::from(device)).is_some_and(|&f| u32::from(f) >= x)
            }
            (GpuDemand::Whole(n), DeviceAlloc::Whole(mask)) => {
                mask.count_ones() == n
                    && (0..64)
                        .filter(|i| mask & (1 << i) != 0)
                        .all(|i| free.get(i).is_some_and(|&f| u32::from(f) == GPU_MILLI))
            }
            _ => false,
        }
    }

    /// Gives back an allocation made with [`Cluster::allocate_request`]; `None`, and no change, if
    /// it is more than is allocated on the machine or its devices.
    pub fn release_request(&mut self, m: MachineId, demand: &[u64], devices: DeviceAlloc) -> Option<()> {
        if m.index() >= self.len() || demand.len() != self.dims {
            return None;
        }
        let i = m.index() * self.dims;
        let within = (0..self.dims).all(|d| demand[d] <= self.capacity[i + d] - self.free[i + d]);
        let start = self.dev_start[m.index()] as usize;
        let dev = self.devices(m);
        let gpu_amount = self.gpu_dim.map_or(0, |g| demand[g]);
        let devices_ok = match devices {
            DeviceAlloc::None => gpu_amount == 0,
            DeviceAlloc::Share { device, milli } => {
                u64::from(milli) == gpu_amount
                    && dev
                        .get(usize::from(device))
                        .is_some_and(|&f| u32::from(f) + u32::from(milli) <= GPU_MILLI)
            }
            DeviceAlloc::Whole(mask) => {
                u64::from(mask.count_ones()) * u64::from(GPU_MILLI) == gpu_amount
                    && (0..64)
                        .filter(|i| mask & (1 << i) != 0)
                        .all(|i| dev.get(i) == Some(&0))
            }
        };
        if !within || !devices_ok {
            return None;
        }
        match devices {
            DeviceAlloc::None => {}
            DeviceAlloc::Share { device, milli } => self.dev_free[start + usize::from(device)] += milli,
            DeviceAlloc::Whole(mask) => {
                for k in (0..64).filter(|k| mask & (1 << k) != 0) {
                    self.dev_free[start + k] = GPU_MILLI as u16;
                }
            }
        }
        let gpu = match devices {
            DeviceAlloc::None => GpuDemand::None,
            DeviceAlloc::Share { milli, .. } => GpuDemand::Share(u32::from(milli)),
            DeviceAlloc::Whole(mask) => GpuDemand::Whole(mask.count_ones()),
        };
        let tasks = &mut self.gpu_tasks[m.index()];
        if let Some(k) = tasks.iter().position(|(g, _)| *g == gpu) {
            tasks[k].1 -= 1;
            if tasks[k].1 == 0 {
                tasks.swap_remove(k);
            }
        }
        for (d, &x) in demand.iter().enumerate() {
            self.free[i + d] += x;
            self.total_free[d] += u128::from(x);
        }
        self.index
            .set(m.index(), &self.free[i..i + self.dims], self.available[m.index()]);
        self.touch_order(m);
        self.generation += 1;
        Some(())
    }

    /// The GPU demands of the tasks allocated on `m` through [`Cluster::allocate_request`], with
    /// their counts (tasks without GPUs are not listed).
    pub fn gpu_tasks(&self, m: MachineId) -> &[(GpuDemand, u32)] {
        &self.gpu_tasks[m.index()]
    }
}
