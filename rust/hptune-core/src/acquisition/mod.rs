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
