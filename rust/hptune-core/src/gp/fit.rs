//! Hyperparameter fitting: maximum a posteriori in log-parameter space.
//!
//! Notation: `theta` as in the module notation of [`crate::gp`]; `K = s_f^2 M + s_n^2 I`
//! (`n x n`), `alpha = K^{-1} y`, `W = alpha alpha^T - K^{-1}`. The objective is the negative
//! log posterior `-ln p(y | theta) - ln p(theta)` with
//! `-ln p(y | theta) = y^T alpha / 2 + ln det K / 2 + n ln(2 pi) / 2` and the exact gradient
//! `-d ln p(y | theta) / d theta_i = -tr(W dK / d theta_i) / 2`.
//! Priors (densities of the log-parameters, up to constants):
//! - lengthscales: `-0.1 (u + 1 / u)` with `u = l0^2 / l_j^2`, a soft well around `l0` that
//!   falls off exponentially on both sides in log space (Optuna's GP prior on inverse squared
//!   lengthscales, with `l0 = 1` in up to 8 dims and growing like `sqrt d` beyond, since typical
//!   distances in the unit cube grow so; Hvarfner et al., 2024).
//! - `s_f^2`: Gamma(2, 1) shape on the value (`ln s_f^2 - s_f^2`), mode 1 for standardised `y`.
//! - `s_n^2`: Gamma(1.1, r) shape on the value (`0.1 ln s_n^2 - r s_n^2`), favouring little
//!   noise without forbidding it: `r = 30` by default, `r = 1` for objectives declared noisy
//!   (RL returns), where a tenth of the variance or more is noise.
//!
//! Pairwise squared differences do not depend on `theta`, so they are computed once per fit and
//! stored dimension-major (`d x P`, `P = n (n - 1) / 2` pairs `(a, b)` with `b < a` in row order):
//! every evaluation is then a few passes over contiguous arrays plus one Cholesky and inverse.

// The objective's body must be inlined into its AVX2 wrapper; `#[inline]` is only a hint.
#![allow(clippy::inline_always)]

use super::kernel::{Hyper, MIN_NOISE, lengthscale_prior_centre, matern52};
use crate::fastmath::with_avx2;
use crate::linalg::{Cholesky, dot};
use crate::optim::{LbfgsOptions, minimize_bounded};

const LN_2PI: f64 = 1.837_877_066_409_345_5;
/// Box for `ln l`: lengthscales from 0.005 to 200 unit-cube widths.
const LOG_LENGTHSCALE_BOUNDS: (f64, f64) = (-5.3, 5.3);
/// Box for `ln s_f^2` in standardised units.
const LOG_SIGNAL_BOUNDS: (f64, f64) = (-4.6, 4.6);
/// Box for `ln s_n^2`: from [`MIN_NOISE`] to the whole variance of `y`.
const LOG_NOISE_MAX: f64 = 0.0;

/// Precomputed data of one fit.
#[derive(Debug, Clone)]
pub struct FitData {
    n: usize,
    d: usize,
    d2: Vec<f64>,
    y: Vec<f64>,
    /// Rate `r` of the noise prior (see the module notes).
    noise_rate: f64,
}

impl FitData {
    /// `x`: `n x d` kernel coordinates, `y`: standardised targets, `cat`: categorical mask.
    #[must_use]
    pub fn new(x: &[f64], y: &[f64], cat: &[bool]) -> Self {
        let d = cat.len();
        let n = y.len();
        let pairs = n * n.saturating_sub(1) / 2;
        let mut d2 = vec![0.0; d * pairs];
        for j in 0..d {
            let out = &mut d2[j * pairs..(j + 1) * pairs];
            let mut p = 0;
            for a in 1..n {
                let xa = x[a * d + j];
                for b in 0..a {
                    let xb = x[b * d + j];
                    out[p] = if cat[j] {
                        f64::from(u8::from(xa != xb))
                    } else {
                        (xa - xb) * (xa - xb)
                    };
                    p += 1;
                }
            }
        }
        Self {
            n,
            d,
            d2,
            y: y.to_vec(),
            noise_rate: DEFAULT_NOISE_RATE,
        }
    }

    /// The same data with noise prior rate `rate`.
    #[must_use]
    pub fn with_noise_rate(mut self, rate: f64) -> Self {
        self.noise_rate = rate;
        self
    }
}

/// Rate of the noise prior for objectives not declared noisy.
pub const DEFAULT_NOISE_RATE: f64 = 30.0;
/// Rate of the noise prior for objectives declared noisy.
pub const NOISY_NOISE_RATE: f64 = 1.0;

/// Buffers reused across evaluations: `n x n` allocations in a loop cost page faults.
#[derive(Debug, Default)]
pub struct FitWork {
    k: Vec<f64>,
    l: Vec<f64>,
    kinv: Vec<f64>,
    scratch: Vec<f64>,
}

/// Negative log posterior at `theta` and its gradient (written into `grad`, length `d + 2`).
pub fn neg_log_posterior(data: &FitData, theta: &[f64], grad: &mut [f64]) -> f64 {
    neg_log_posterior_with(data, &mut FitWork::default(), theta, grad)
}

/// [`neg_log_posterior`] with reusable buffers.
pub fn neg_log_posterior_with(
    data: &FitData,
    work: &mut FitWork,
    theta: &[f64],
    grad: &mut [f64],
) -> f64 {
    // The pair loops vectorise; compiled for AVX2 where the CPU has it (no fused multiply-add,
    // so both builds give the same bits).
    with_avx2(
        #[inline(always)]
        || neg_log_posterior_impl(data, work, theta, grad),
    )
}

#[inline(always)]
fn neg_log_posterior_impl(
    data: &FitData,
    work: &mut FitWork,
    theta: &[f64],
    grad: &mut [f64],
) -> f64 {
    let (n, d) = (data.n, data.d);
    let pairs = n * n.saturating_sub(1) / 2;
    let inv_l2: Vec<f64> = theta[..d].iter().map(|l| (-2.0 * l).exp()).collect();
    let sf = theta[d].exp();
    let sn = theta[d + 1].exp();
    // Scaled squared distance of every pair, then correlation and its s-derivative.
    let mut s = vec![0.0; pairs];
    for j in 0..d {
        let w = inv_l2[j];
        for (sp, dp) in s.iter_mut().zip(&data.d2[j * pairs..(j + 1) * pairs]) {
            *sp += w * dp;
        }
    }
    let mut corr = vec![0.0; pairs];
    let mut dcorr = vec![0.0; pairs];
    for p in 0..pairs {
        let (c, dc) = matern52(s[p]);
        corr[p] = c;
        dcorr[p] = dc;
    }
    let k = &mut work.k;
    k.clear();
    k.resize(n * n, 0.0);
    let mut p = 0;
    for a in 0..n {
        for b in 0..a {
            k[a * n + b] = sf * corr[p];
            p += 1;
        }
        k[a * n + a] = sf + sn;
    }
    let Ok(chol) = Cholesky::factor_with_storage(k, n, std::mem::take(&mut work.l)) else {
        grad.fill(0.0);
        return f64::INFINITY;
    };
    let mut alpha = data.y.clone();
    chol.solve(&mut alpha);
    let nll = 0.5 * dot(&data.y, &alpha) + 0.5 * chol.log_det() + 0.5 * n as f64 * LN_2PI;
    chol.inverse_into(&mut work.kinv, &mut work.scratch);
    let kinv = &work.kinv;
    // W on the pairs (off-diagonal) and on the diagonal.
    let mut w_off = vec![0.0; pairs];
    let mut p = 0;
    for a in 0..n {
        for b in 0..a {
            w_off[p] = alpha[a] * alpha[b] - kinv[a * n + b];
            p += 1;
        }
    }
    let w_diag_sum: f64 = (0..n).map(|a| alpha[a] * alpha[a] - kinv[a * n + a]).sum();
    // Off-diagonal terms appear twice in the trace, which cancels the 1/2.
    let wg: Vec<f64> = w_off.iter().zip(&dcorr).map(|(w, g)| w * g).collect();
    for j in 0..d {
        // dK_ab / d ln l_j = s_f^2 dm/ds * (-2 d2_j / l_j^2)
        let t = dot(&wg, &data.d2[j * pairs..(j + 1) * pairs]);
        grad[j] = 2.0 * sf * inv_l2[j] * t;
    }
    grad[d] = -(sf * dot(&w_off, &corr) + 0.5 * sf * w_diag_sum);
    grad[d + 1] = -0.5 * sn * w_diag_sum;
    // Priors.
    let log_l0 = lengthscale_prior_centre(d).ln();
    let mut neg_prior = 0.0;
    for j in 0..d {
        // With u = l0^2 / l^2: 0.1 (u + 1 / u) = 0.2 cosh(2 (ln l - ln l0)).
        let (a, b) = (
            (2.0 * (theta[j] - log_l0)).exp(),
            (-2.0 * (theta[j] - log_l0)).exp(),
        );
        neg_prior += 0.1 * (a + b);
        grad[j] += 0.2 * (a - b);
    }
    neg_prior += -(theta[d] - sf);
    grad[d] += -(1.0 - sf);
    let rate = data.noise_rate;
    neg_prior += -(0.1 * theta[d + 1] - rate * sn);
    grad[d + 1] += -(0.1 - rate * sn);
    work.l = chol.into_storage();
    nll + neg_prior
}

/// How hard to try.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// L-BFGS iterations from the default start.
    pub max_iter: usize,
    /// L-BFGS iterations from a warm start.
    pub warm_max_iter: usize,
    /// Rate of the noise prior ([`DEFAULT_NOISE_RATE`] or [`NOISY_NOISE_RATE`]).
    pub noise_rate: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            max_iter: 60,
            warm_max_iter: 10,
            noise_rate: DEFAULT_NOISE_RATE,
        }
    }
}

/// Box for `theta`.
#[must_use]
pub fn bounds(d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut lo = vec![LOG_LENGTHSCALE_BOUNDS.0; d];
    let mut hi = vec![LOG_LENGTHSCALE_BOUNDS.1; d];
    lo.push(LOG_SIGNAL_BOUNDS.0);
    hi.push(LOG_SIGNAL_BOUNDS.1);
    lo.push(MIN_NOISE.ln());
    hi.push(LOG_NOISE_MAX);
    (lo, hi)
}

/// Fit hyperparameters to `x` (kernel coordinates, `n x d`) and standardised `y`.
///
/// Runs bounded L-BFGS from the warm start when one is given (short run) and from the default
/// start when there is no warm start or the default start already looks better; keeps the best.
#[must_use]
pub fn fit_hyperparameters(
    x: &[f64],
    y: &[f64],
    cat: &[bool],
    warm: Option<&Hyper>,
    options: &FitOptions,
) -> Hyper {
    let d = cat.len();
    let default = Hyper::default_for(d);
    if y.len() < 2 {
        return warm.cloned().unwrap_or(default);
    }
    let data = FitData::new(x, y, cat).with_noise_rate(options.noise_rate);
    let (lo, hi) = bounds(d);
    let mut grad = vec![0.0; d + 2];
    let mut work = FitWork::default();
    let mut objective = |t: &[f64], g: &mut [f64]| neg_log_posterior_with(&data, &mut work, t, g);
    let default_theta = default.to_theta();
    let mut best: Option<(f64, Vec<f64>)> = None;
    let consider = |f: f64, t: Vec<f64>, best: &mut Option<(f64, Vec<f64>)>| {
        if f.is_finite() && best.as_ref().is_none_or(|(bf, _)| f < *bf) {
            *best = Some((f, t));
        }
    };
    // Decreases below a few thousandths of a nat do not change the posterior in any way that
    // matters; a warm start is already close, so its first step is short.
    let run = |start: &[f64],
               iters: usize,
               initial_step: f64,
               obj: &mut dyn FnMut(&[f64], &mut [f64]) -> f64| {
        let opts = LbfgsOptions {
            max_iter: iters,
            max_eval: 2 * iters + 5,
            memory: 8,
            pg_tol: 1e-4,
            f_tol: 1e-9,
            f_abs_tol: 2e-3,
            initial_step,
        };
        minimize_bounded(obj, start, &lo, &hi, &opts)
    };
    let warm = warm.filter(|h| h.dim() == d && h.is_finite());
    let run_default = if let Some(h) = warm {
        let r = run(&h.to_theta(), options.warm_max_iter, 0.1, &mut objective);
        let f_default = objective(&default_theta, &mut grad);
        let rerun = f_default < r.f;
        consider(r.f, r.x, &mut best);
        rerun
    } else {
        true
    };
    if run_default {
        let r = run(&default_theta, options.max_iter, 1.0, &mut objective);
        consider(r.f, r.x, &mut best);
    }
    match best {
        Some((_, t)) => Hyper::from_theta(&t),
        None => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn data(n: usize, d: usize, cat: &[bool], seed: u64) -> FitData {
        let mut r = Rng::new(seed);
        let mut x = vec![0.0; n * d];
        for i in 0..n {
            for j in 0..d {
                x[i * d + j] = if cat[j] {
                    r.below(3) as f64
                } else {
                    r.uniform()
                };
            }
        }
        let y: Vec<f64> = (0..n)
            .map(|i| (3.0 * x[i * d]).sin() + x[i * d + d - 1] + 0.1 * r.normal())
            .collect();
        FitData::new(&x, &y, cat)
    }

    #[test]
    fn gradient_matches_central_differences() {
        let cat = [false, false, true];
        let data = data(12, 3, &cat, 4);
        let theta = [-0.7, 0.3, 0.1, 0.2, -3.0];
        let mut g = vec![0.0; 5];
        neg_log_posterior(&data, &theta, &mut g);
        let mut scratch = vec![0.0; 5];
        for i in 0..5 {
            let h = 1e-5;
            let mut tp = theta;
            let mut tm = theta;
            tp[i] += h;
            tm[i] -= h;
            let fd = (neg_log_posterior(&data, &tp, &mut scratch)
                - neg_log_posterior(&data, &tm, &mut scratch))
                / (2.0 * h);
            assert!(
                (fd - g[i]).abs() < 1e-5 * (1.0 + fd.abs()),
                "{i}: {} vs {fd}",
                g[i]
            );
        }
    }

    #[test]
    fn fit_recovers_relevant_dimension() {
        // y depends on dim 0 only: its lengthscale must come out much shorter than dim 1's.
        let mut r = Rng::new(1);
        let n = 40;
        let mut x = vec![0.0; n * 2];
        for v in &mut x {
            *v = r.uniform();
        }
        let y: Vec<f64> = (0..n).map(|i| (6.0 * x[i * 2]).sin()).collect();
        let h = fit_hyperparameters(&x, &y, &[false, false], None, &FitOptions::default());
        assert!(h.log_lengthscale[0] + 1.0 < h.log_lengthscale[1], "{h:?}");
        assert!(h.log_noise < -6.0, "{h:?}");
    }
}
