//! hptune-core: the numerics of hptune, with no Python in sight.
//!
//! Everything works on a normalised unit-cube encoding of a search space ([`space`]); samplers
//! return unit points or decoded values as flat row-major `Vec<f64>` buffers.

pub mod acquisition;
pub mod bo;
pub mod error;
pub mod fastmath;
pub mod gp;
pub mod grid;
pub mod importance;
pub mod linalg;
pub mod optim;
pub mod rng;
pub mod sampling;
pub mod space;
pub mod tpe;
pub mod trust_region;

pub use error::{Error, Result};
