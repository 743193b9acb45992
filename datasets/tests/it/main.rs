//! Integration tests of the datasets crate.

mod alloc;
mod batch;
mod fixtures;
mod graphs;
mod memory;
mod real;
mod synthetic;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;
