//! Integration tests of the simulator.

mod graphs;
mod properties;
mod scenarios;
