//! Acquisition functions and their optimiser.
//!
//! Notation: the GP posterior at a point has mean `mu` and variance `var = sigma^2`, both in
//! standardised units; `best` is the incumbent (smallest standardised observation) and
//! `z = (best - mu) / sigma`. We *minimise* the objective, so every acquisition is a score to
//! *maximise*:
//! - `LogEI` `ln sigma + ln h(z)` (the default; finite and informative far below the incumbent);
//! - EI `sigma h(z)`; PI `Phi(z)`; LCB as the score `-(mu - sqrt(beta) sigma)`.
//!
//! Gradients with respect to the point come from `d mu` and `d var` by the chain rule, with
//! `d sigma = d var / (2 sigma)` and `dz = -(d mu + z d sigma) / sigma`.
//!
//! Outcome constraints `c_k(x) <= 0` are modelled by one GP each ([`ConstraintModel`], in
//! that constraint's standardised units, where the bound 0 becomes `threshold`). The
//! probability of feasibility is `PoF = prod_k Phi((threshold_k - mu_k) / sigma_k)` and the
//! constrained score is `acq * PoF` for EI and PI, `LogEI + ln PoF` for `LogEI` (the same
//! ranking) and `score + ln PoF` for UCB (whose score may be negative). Before any feasible
//! observation there is no incumbent, and the score is `ln PoF` alone: find the feasible region
//! first.

pub mod ehvi;
pub mod optimize;
pub mod special;

pub use optimize::{AcqContext, AcqOptimOptions, optimize_acquisition};

/// Which acquisition function to maximise.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Acquisition {
    /// Log expected improvement.
    #[default]
    LogEi,
    /// Expected improvement.
    Ei,
    /// Probability of improvement.
    Pi,
    /// Lower confidence bound `mu - sqrt(beta) sigma` (minimised; scored as its negative).
    Ucb {
        /// Exploration weight, `beta >= 0`.
        beta: f64,
    },
}

/// A GP of one outcome constraint, with the bound 0 in its standardised units.
#[derive(Debug, Clone)]
pub struct ConstraintModel {
    /// Posterior of the standardised constraint value.
    pub gp: crate::gp::Gp,
    /// `(0 - mean) / std` of the constraint's observations: feasible is `value <= threshold`.
    pub threshold: f64,
}

/// Several objectives: one GP per objective (standardised units) and the region a new point
/// can add to the front's hypervolume; the score is `LogEHVI` (see [`ehvi`]).
#[derive(Debug, Clone)]
pub struct ObjectiveModels {
    /// One posterior per objective.
    pub gps: Vec<crate::gp::Gp>,
    /// The improvable region below the reference point.
    pub boxes: ehvi::Boxes,
}

/// `ln Phi((threshold - mean) / sigma)`: the log probability that one constraint holds.
#[must_use]
pub fn log_feasibility(mean: f64, var: f64, threshold: f64) -> f64 {
    special::log_norm_cdf((threshold - mean) / var.sqrt())
}

/// [`log_feasibility`] and its gradient, added into `grad`.
pub fn log_feasibility_with_grad(
    mean: f64,
    var: f64,
    threshold: f64,
    grad_mean: &[f64],
    grad_var: &[f64],
    grad: &mut [f64],
) -> f64 {
    let sigma = var.sqrt();
    let z = (threshold - mean) / sigma;
    let r = special::d_log_norm_cdf(z);
    // dz = -(d mu + z d sigma) / sigma with d sigma = d var / (2 sigma).
    let c_mean = -r / sigma;
    let c_var = -r * z / (2.0 * var);
    for ((g, dm), dv) in grad.iter_mut().zip(grad_mean).zip(grad_var) {
        *g += c_mean * dm + c_var * dv;
    }
    special::log_norm_cdf(z)
}

/// The constrained score from the plain acquisition `value` and `ln PoF` (see the module
/// notes); `incumbent` is false before any feasible observation.
#[must_use]
pub fn combine_feasibility(kind: Acquisition, value: f64, log_pof: f64, incumbent: bool) -> f64 {
    if !incumbent {
        return log_pof;
    }
    match kind {
        Acquisition::Ei | Acquisition::Pi => value * log_pof.exp(),
        Acquisition::LogEi | Acquisition::Ucb { .. } => value + log_pof,
    }
}

/// [`combine_feasibility`] with gradients: `grad` holds the acquisition's gradient on entry
/// and the combined one on return; `grad_pof` is the gradient of `ln PoF`.
pub fn combine_feasibility_with_grad(
    kind: Acquisition,
    value: f64,
    log_pof: f64,
    incumbent: bool,
    grad: &mut [f64],
    grad_pof: &[f64],
) -> f64 {
    if !incumbent {
        grad.copy_from_slice(grad_pof);
        return log_pof;
    }
    match kind {
        Acquisition::Ei | Acquisition::Pi => {
            let pof = log_pof.exp();
            for (g, gp) in grad.iter_mut().zip(grad_pof) {
                *g = pof * (*g + value * gp);
            }
            value * pof
        }
        Acquisition::LogEi | Acquisition::Ucb { .. } => {
            for (g, gp) in grad.iter_mut().zip(grad_pof) {
                *g += gp;
            }
            value + log_pof
        }
    }
}

/// Score of the acquisition at a point with posterior `mean` and `var`.
#[must_use]
pub fn score(kind: Acquisition, mean: f64, var: f64, best: f64) -> f64 {
    let sigma = var.sqrt();
    let z = (best - mean) / sigma;
    match kind {
        Acquisition::LogEi => sigma.ln() + special::log_h(z),
        Acquisition::Ei => sigma * special::log_h(z).exp(),
        Acquisition::Pi => special::norm_cdf(z),
        Acquisition::Ucb { beta } => -(mean - beta.sqrt() * sigma),
    }
}

/// Score and its gradient, given the gradients of the mean and variance (`d` entries each).
pub fn score_with_grad(
    kind: Acquisition,
    mean: f64,
    var: f64,
    best: f64,
    grad_mean: &[f64],
    grad_var: &[f64],
    grad: &mut [f64],
) -> f64 {
    let sigma = var.sqrt();
    let z = (best - mean) / sigma;
    // Coefficients of d mu and d var in d score.
    let (value, c_mean, c_var) = match kind {
        Acquisition::LogEi => {
            let lh = special::log_h(z);
            let dlh = special::d_log_h(z);
            // d/dmu = dlh * (-1/sigma); d/dsigma = 1/sigma - dlh z / sigma
            let d_sigma = (1.0 - dlh * z) / sigma;
            (sigma.ln() + lh, -dlh / sigma, d_sigma / (2.0 * sigma))
        }
        Acquisition::Ei => {
            let ei = sigma * special::log_h(z).exp();
            let phi_z = special::norm_cdf(z);
            // dEI/dmu = -Phi(z); dEI/dsigma = phi(z)
            (ei, -phi_z, special::norm_pdf(z) / (2.0 * sigma))
        }
        Acquisition::Pi => {
            let pdf = special::norm_pdf(z);
            (
                special::norm_cdf(z),
                -pdf / sigma,
                -pdf * z / sigma / (2.0 * sigma),
            )
        }
        Acquisition::Ucb { beta } => {
            let b = beta.sqrt();
            (-(mean - b * sigma), -1.0, b / (2.0 * sigma))
        }
    };
    for ((g, dm), dv) in grad.iter_mut().zip(grad_mean).zip(grad_var) {
        *g = c_mean * dm + c_var * dv;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ei_matches_ln_ei() {
        for (mean, var) in [(0.0, 1.0), (1.0, 0.04), (-2.0, 3.0), (2.5, 0.25)] {
            let ei = score(Acquisition::Ei, mean, var, 0.3);
            let lei = score(Acquisition::LogEi, mean, var, 0.3);
            assert!((lei - ei.ln()).abs() < 1e-12, "{mean} {var}");
        }
        // Far below: EI underflows to 0, LogEI stays finite and ordered.
        let a = score(Acquisition::LogEi, 50.0, 1e-4, 0.0);
        let b = score(Acquisition::LogEi, 60.0, 1e-4, 0.0);
        assert!(a.is_finite() && b.is_finite() && a > b);
        assert_eq!(score(Acquisition::Ei, 50.0, 1e-4, 0.0), 0.0);
    }

    #[test]
    fn log_feasibility_gradient_matches_finite_differences() {
        let f = |x: &[f64]| (0.3 + x[0] - 0.5 * x[1], 0.2 + x[0] * x[0] + 0.1 * x[1]);
        let gm = [1.0, -0.5];
        for t in [-8.0, -0.4, 0.0, 1.5] {
            let x = [0.4, 0.7];
            let (m, v) = f(&x);
            let gv = [2.0 * x[0], 0.1];
            let mut g = [0.0; 2];
            log_feasibility_with_grad(m, v, t, &gm, &gv, &mut g);
            for j in 0..2 {
                let h = 1e-6;
                let (mut xp, mut xm) = (x, x);
                xp[j] += h;
                xm[j] -= h;
                let (mp, vp) = f(&xp);
                let (mm, vm) = f(&xm);
                let fd = (log_feasibility(mp, vp, t) - log_feasibility(mm, vm, t)) / (2.0 * h);
                assert!(
                    (fd - g[j]).abs() < 1e-5 * (1.0 + fd.abs()),
                    "{t} {j}: {} vs {fd}",
                    g[j]
                );
            }
        }
        // Deep in the infeasible tail the log stays finite and its slope well defined.
        assert!(log_feasibility(40.0, 1.0, 0.0).is_finite());
        assert!((special::d_log_norm_cdf(-40.0) - 40.0).abs() < 0.1);
    }

    #[test]
    fn score_gradients_match_finite_differences() {
        // Treat mean and var as functions of a 2-d point to exercise the chain rule.
        let f = |x: &[f64]| (0.3 + x[0] - 0.5 * x[1], 0.2 + x[0] * x[0] + 0.1 * x[1]);
        let gm = [1.0, -0.5];
        for kind in [
            Acquisition::LogEi,
            Acquisition::Ei,
            Acquisition::Pi,
            Acquisition::Ucb { beta: 2.0 },
        ] {
            let x = [0.4, 0.7];
            let (m, v) = f(&x);
            let gv = [2.0 * x[0], 0.1];
            let mut g = [0.0; 2];
            score_with_grad(kind, m, v, 0.1, &gm, &gv, &mut g);
            for j in 0..2 {
                let h = 1e-6;
                let mut xp = x;
                let mut xm = x;
                xp[j] += h;
                xm[j] -= h;
                let (mp, vp) = f(&xp);
                let (mm, vm) = f(&xm);
                let fd = (score(kind, mp, vp, 0.1) - score(kind, mm, vm, 0.1)) / (2.0 * h);
                assert!(
                    (fd - g[j]).abs() < 1e-6 * (1.0 + fd.abs()),
                    "{kind:?} {j}: {} vs {fd}",
                    g[j]
                );
            }
        }
    }
}
