//! Integration tests of the simulator.

mod properties;
mod scenarios;
