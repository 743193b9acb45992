//! live's integration tests: the sans-IO core driven by scripted events (everywhere), and the
//! adapter against a real Mesos 1.11.0 master (where `PACKSIM_MESOS_MASTER` names one).

mod core;
mod differential;
mod emulated;
mod real_mesos;
