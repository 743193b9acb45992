//! Integration tests of the datasets crate.

mod batch;
