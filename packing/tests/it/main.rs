//! Integration tests of the packing crate: satyr's fixtures, reference equality and invariants.

mod indexes;
mod properties;
mod reference;
mod sample;
mod satyr;
mod spelling;
