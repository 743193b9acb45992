//! live's integration tests: the sans-IO core driven by scripted events (everywhere), and the
//! adapter against a real Mesos 1.11.0 master (where `PACKSIM_MESOS_MASTER` names one).

mod differential;
mod emulated;
mod protocol;
mod real_mesos;

/// The runtime every async test here uses: two workers, as the machine has two cores.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
