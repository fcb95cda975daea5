//! Small numerical optimisers.

pub mod lbfgs;

pub use lbfgs::{LbfgsOptions, LbfgsResult, minimize_bounded};
