//! Gaussian-process regression on the unit cube.
//!
//! Notation: `n` observations of dimension `d`; `X` is `n x d` row-major in *kernel coordinates*
//! ([`kernel::to_kernel_coords`]: unit values for ordered dims, the level index for
//! categoricals); `y` is standardised to mean 0 and standard deviation 1 before anything else.
//! Hyperparameters live in log space: `theta = [ln l_1 .. ln l_d, ln s_f^2, ln s_n^2]` (one
//! lengthscale per dimension, signal variance, noise variance).
//! The kernel is `k(x, x') = s_f^2 m(r)` with Matern-5/2 `m` and
//! `r^2 = sum_j delta_j(x, x')^2 / l_j^2`, where `delta_j = x_j - x'_j` for ordered dims and the
//! Hamming indicator `[x_j != x'_j]` for categoricals.

pub mod fit;
pub mod kernel;
pub mod model;

pub use fit::{FitOptions, fit_hyperparameters, neg_log_posterior};
pub use kernel::{Hyper, to_kernel_coords};
pub use model::Gp;
