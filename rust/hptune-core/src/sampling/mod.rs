//! Space-filling and random designs in the unit cube.

pub mod random;
pub mod sobol;

pub use random::{sample_random, uniform_unit};
pub use sobol::Sobol;
