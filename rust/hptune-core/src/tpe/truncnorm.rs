//! The standard normal's tails and the normal truncated to `[0, 1]`.
//!
//! Notation: `z` is a standardised coordinate `(u - mu) / sigma`; `Q(z) = P(Z > z)` is the upper
//! tail, `erfcx(t) = exp(t^2) erfc(t)` the scaled complementary error function, so that
//! `Q(z) = erfcx(z / sqrt 2) exp(-z^2 / 2) / 2` for `z >= 0`. Everything that can underflow is
//! kept in log space: the Parzen estimators only ever need `ln` of masses and densities.
//!
//! `erfcx` is the one of [`crate::acquisition::special`] (full double precision). The TPE calls
//! it for every component and dimension of every suggestion, so it goes through
//! [`erfcx_fast`]: on `[0, 8]` a cubic Hermite interpolant of a table of `erfcx` computed once,
//! beyond 8 `erfcx` itself.

use std::sync::OnceLock;

/// `ln(2 pi) / 2`.
pub(crate) use crate::acquisition::special::LN_SQRT_2PI as HALF_LN_TAU;
use crate::acquisition::special::erfcx;
pub use crate::fastmath::exp_nonpositive;
use crate::rng::Rng;

const FRAC_2_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;
const TABLE_END: f64 = 8.0;
const TABLE_STEPS: usize = 1024;
const TABLE_H: f64 = TABLE_END / TABLE_STEPS as f64;
/// Below this (in `z` units) a cell's mass is its midpoint density times its width, since the
/// difference of two nearly equal tails would lose the digits that matter.
const NARROW: f64 = 1e-3;
/// Smallest log-mass we report: keeps every log-density finite so log-sum-exp never sees NaN.
pub(crate) const LOG_FLOOR: f64 = -700.0;

#[inline]
/// Hermite-interpolate a table of (value, derivative) pairs on a grid of step `h` from 0.
fn hermite(tab: &[f64], h: f64, t: f64) -> f64 {
    let steps = tab.len() / 2 - 1;
    let s = t / h;
    let i = (s as usize).min(steps - 1);
    let r = s - i as f64;
    let (f0, d0, f1, d1) = (tab[2 * i], tab[2 * i + 1], tab[2 * i + 2], tab[2 * i + 3]);
    let r2 = r * r;
    let r3 = r2 * r;
    (2.0 * r3 - 3.0 * r2 + 1.0) * f0
        + (r3 - 2.0 * r2 + r) * h * d0
        + (3.0 * r2 - 2.0 * r3) * f1
        + (r3 - r2) * h * d1
}

/// `Q` itself on `[0, Q_TABLE_END]` (absolute error about 5e-11): the truncation mass of every
/// kernel needs two of these per dimension, and skipping their `exp` halves the fitting cost.
fn q_table() -> &'static [f64] {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let steps = (Q_TABLE_END / TABLE_H) as usize;
        let mut v = Vec::with_capacity(2 * (steps + 1));
        for i in 0..=steps {
            let z = i as f64 * TABLE_H;
            v.push(upper_tail(z));
            v.push(-(-0.5 * z * z - HALF_LN_TAU).exp());
        }
        v
    })
}

pub(crate) const Q_TABLE_END: f64 = 8.5;

#[inline]
/// `Q(z)` for `z >= 0`, dropping tails below `Q(8.5) ~ 1e-17` (absolute error about 5e-11).
fn upper_tail_abs(z: f64) -> f64 {
    if z < Q_TABLE_END {
        hermite(q_table(), TABLE_H, z)
    } else {
        0.0
    }
}

/// The mass that `N(mu, sigma^2)` puts on `[0, 1]`, for a loop over many kernels: the tail
/// table is fetched once, and `inv_sigma` is given so that no division is needed. For `mu` in
/// `[0, 1]` and `sigma <= 1` (every TPE kernel) the mass is at least 0.34, so the table's
/// absolute error is also a relative one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnitMass {
    tab: &'static [f64],
}

impl UnitMass {
    pub(crate) fn new() -> Self {
        Self { tab: q_table() }
    }

    /// The mass of `N(mu, sigma^2)` on `[0, 1]` for `mu` in `[0, 1]` and `sigma = 1 / inv_sigma`
    /// at most 1 (the exponent of [`log_unit_mass`] up to the rounding of `1 / sigma`).
    #[inline]
    pub(crate) fn of(self, mu: f64, inv_sigma: f64) -> f64 {
        let (a, b) = (mu * inv_sigma, (1.0 - mu) * inv_sigma);
        // Kernels well inside the cube lose nothing: the common case at many observations.
        if a >= Q_TABLE_END && b >= Q_TABLE_END {
            return 1.0;
        }
        let q = |z: f64| {
            if z < Q_TABLE_END {
                hermite(self.tab, TABLE_H, z)
            } else {
                0.0
            }
        };
        1.0 - q(a) - q(b)
    }
}

fn table() -> &'static [f64] {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    TABLE.get_or_init(|| {
        // Pairs (value, derivative); erfcx'(t) = 2 t erfcx(t) - 2/sqrt(pi).
        let mut v = Vec::with_capacity(2 * (TABLE_STEPS + 1));
        for i in 0..=TABLE_STEPS {
            let t = i as f64 * TABLE_H;
            let f = erfcx(t);
            v.push(f);
            v.push(2.0 * t * f - FRAC_2_SQRT_PI);
        }
        v
    })
}

/// `exp(t^2) erfc(t)` for `t >= 0`, cheaply: the table's interpolant on `[0, 8]` (relative error
/// below about 2e-10), [`erfcx`] beyond.
#[must_use]
pub fn erfcx_fast(t: f64) -> f64 {
    debug_assert!(t >= 0.0 || t.is_nan());
    if t < TABLE_END {
        hermite(table(), TABLE_H, t)
    } else {
        erfcx(t)
    }
}

/// `ln Q(z)`, the log upper tail of the standard normal.
#[must_use]
pub fn log_upper_tail(z: f64) -> f64 {
    if z >= 0.0 {
        let t = z * std::f64::consts::FRAC_1_SQRT_2;
        (0.5 * erfcx_fast(t)).ln() - 0.5 * z * z
    } else {
        (-upper_tail(-z)).ln_1p()
    }
}

/// `Q(z)` for any `z`.
#[must_use]
pub fn upper_tail(z: f64) -> f64 {
    if z >= 0.0 {
        let t = z * std::f64::consts::FRAC_1_SQRT_2;
        0.5 * erfcx_fast(t) * (-0.5 * z * z).exp()
    } else {
        1.0 - upper_tail(-z)
    }
}

/// `ln P(a < Z < b)` for the standard normal, accurate in both tails and for narrow intervals;
/// floored at [`LOG_FLOOR`].
#[must_use]
pub fn log_mass(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() || a >= b {
        return LOG_FLOOR;
    }
    if b <= 0.0 {
        return log_mass(-b, -a);
    }
    let w = b - a;
    let m = 0.5 * (a + b);
    let out = if w < NARROW && w * m.abs() < 1e-2 {
        // int phi over [m - w/2, m + w/2] = w phi(m) (1 + w^2 (m^2 - 1) / 24 + O(w^4 m^4)).
        w.ln() - HALF_LN_TAU - 0.5 * m * m + (w * w * (m * m - 1.0) / 24.0).ln_1p()
    } else if a >= 0.0 {
        if a > 37.5 {
            // ln Q(37.5) < -707: below the floor whatever b is.
            return LOG_FLOOR;
        }
        // Q(a) - Q(b) = Q(a) (1 - r), r = erfcx(b') / erfcx(a') exp(-delta), with t' = t / sqrt 2
        // and delta = (b^2 - a^2) / 2; one logarithm in the common case.
        let (ea, eb) = (
            erfcx_fast(a * std::f64::consts::FRAC_1_SQRT_2),
            erfcx_fast(b * std::f64::consts::FRAC_1_SQRT_2),
        );
        let delta = 0.5 * (b - a) * (b + a);
        let one_minus_r = if delta > 0.1 {
            1.0 - eb / ea * (-delta).exp()
        } else {
            // r is close to 1: take 1 - r from its logarithm to keep the digits.
            -((eb / ea).ln() - delta).exp_m1()
        };
        (0.5 * ea * one_minus_r).ln() - 0.5 * a * a
    } else {
        // Beyond 8.5 a tail is below 1e-17 of a mass that is at least 1e-4 here: skip it, which
        // is the common case for the truncation mass of a kernel well inside the cube.
        let tail = |z: f64| if z < 8.5 { upper_tail(z) } else { 0.0 };
        (-(tail(-a) + tail(b))).ln_1p()
    };
    if out.is_nan() {
        LOG_FLOOR
    } else {
        out.max(LOG_FLOOR)
    }
}

/// [`log_mass`], faster where the tail table is accurate enough: its absolute error (about
/// 5e-11) is trusted when the mass exceeds 1e-3, and only smaller masses take the log-space route.
#[must_use]
pub fn log_mass_fast(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() || a >= b {
        return LOG_FLOOR;
    }
    let mass = if b <= 0.0 {
        upper_tail_abs(-b) - upper_tail_abs(-a)
    } else if a >= 0.0 {
        upper_tail_abs(a) - upper_tail_abs(b)
    } else {
        1.0 - upper_tail_abs(-a) - upper_tail_abs(b)
    };
    if mass > 1e-3 {
        mass.ln()
    } else {
        log_mass(a, b)
    }
}

/// `ln` of the mass that a normal `N(mu, sigma^2)` puts on `[0, 1]`.
///
/// For `mu` in `[0, 1]` and `sigma <= 1` (every kernel of the TPE) the mass is at least 0.34, so
/// the absolute error of the tail table is also a relative one; other inputs take the general
/// route.
#[must_use]
pub fn log_unit_mass(mu: f64, sigma: f64) -> f64 {
    if !((0.0..=1.0).contains(&mu) && sigma > 0.0 && sigma <= 1.0) {
        return log_mass(-mu / sigma, (1.0 - mu) / sigma);
    }
    let t = upper_tail_abs(mu / sigma) + upper_tail_abs((1.0 - mu) / sigma);
    if t < 1e-4 {
        // ln(1 - t) by its series: exact to 1e-17 here and spares a logarithm.
        -t * (1.0 + t * (0.5 + t * (1.0 / 3.0)))
    } else {
        (1.0 - t).ln()
    }
}

/// One draw of `N(mu, sigma^2)` truncated to `[0, 1]`, by rejection.
///
/// Every caller has `mu` in `[0, 1]` and `sigma <= 1`, so each proposal is accepted with
/// probability above 0.34 and 200 failures in a row (chance below 1e-35) mean a broken input: we
/// then return the clamped centre rather than loop.
pub fn sample_unit(rng: &mut Rng, mu: f64, sigma: f64) -> f64 {
    for _ in 0..200 {
        let x = mu + sigma * rng.normal();
        if (0.0..=1.0).contains(&x) {
            return x;
        }
    }
    mu.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn erfc_matches_reference_values() {
        // erfc values from a libm (double precision).
        let cases = [
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_13),
            (2.0, 0.004_677_734_981_047_265),
            (3.0, 2.209_049_699_858_543_8e-5),
            (5.0, 1.537_459_794_428_035_1e-12),
            (8.0, 1.122_429_717_298_292_8e-29),
            (10.0, 2.088_487_583_762_545e-45),
        ];
        for (t, want) in cases {
            let got = erfcx_fast(t) * (-t * t).exp();
            assert!(rel(got, want) < 2e-10, "erfc({t}) = {got}, want {want}");
            let exact = erfcx(t) * (-t * t).exp();
            if t < TABLE_END {
                assert!(rel(exact, want) < 1e-13, "exact erfc({t}) = {exact}");
            }
        }
    }

    #[test]
    fn table_interpolation_is_tight() {
        let mut worst: f64 = 0.0;
        for i in 0..4000 {
            let t = f64::from(i) * 0.002_017;
            worst = worst.max(rel(erfcx_fast(t), erfcx(t)));
        }
        assert!(worst < 2e-10, "worst relative error {worst}");
    }

    #[test]
    fn fast_paths_agree_with_the_general_ones() {
        for i in 0..=200 {
            let mu = f64::from(i) / 200.0;
            for sigma in [1.0, 0.3, 0.1, 0.03, 0.01, 1e-3] {
                let fast = log_unit_mass(mu, sigma);
                let slow = log_mass(-mu / sigma, (1.0 - mu) / sigma);
                assert!(
                    (fast - slow).abs() < 1e-9,
                    "mu {mu} sigma {sigma}: {fast} vs {slow}"
                );
            }
        }
        let mut worst: f64 = 0.0;
        for i in 0..=9000 {
            let z = f64::from(i) * 0.001;
            worst = worst.max((upper_tail_abs(z) - upper_tail(z)).abs());
        }
        assert!(worst < 1e-10, "tail table absolute error {worst}");
        for &(a, b) in &[
            (0.0, 0.1),
            (-0.3, 2.0),
            (-5.0, -1.0),
            (1.0, 1.2),
            (2.0, 3.0),
            (3.5, 3.6),
        ] {
            let (fast, slow) = (log_mass_fast(a, b), log_mass(a, b));
            assert!((fast - slow).abs() < 2e-7, "[{a}, {b}]: {fast} vs {slow}");
        }
    }

    #[test]
    fn log_mass_is_consistent() {
        // Whole line, halves, symmetric, deep tails and narrow cells.
        assert!(log_mass(-40.0, 40.0).abs() < 1e-12);
        assert!((log_mass(0.0, 40.0) - 0.5f64.ln()).abs() < 1e-12);
        assert!((log_mass(-3.0, -1.0) - log_mass(1.0, 3.0)).abs() < 1e-14);
        let direct = (upper_tail(1.0) - upper_tail(3.0)).ln();
        assert!((log_mass(1.0, 3.0) - direct).abs() < 1e-9);
        // Q(30) ~ 4.906713927148764e-198.
        assert!((log_mass(30.0, 60.0) - 4.906_713_927_148_764e-198f64.ln()).abs() < 1e-8);
        // A narrow cell matches the difference of tails where that difference is still accurate.
        let (a, b) = (0.7, 0.7 + 5e-4);
        let wide = (upper_tail(a) - upper_tail(b)).ln();
        assert!((log_mass(a, b) - wide).abs() < 1e-5);
        // Additivity across the narrow/wide switch.
        let parts = log_mass(0.2, 0.2005).exp() + log_mass(0.2005, 1.5).exp();
        assert!(rel(parts, log_mass(0.2, 1.5).exp()) < 1e-8);
        assert_eq!(log_mass(1.0, 1.0), LOG_FLOOR);
        assert_eq!(log_mass(f64::NAN, 1.0), LOG_FLOOR);
        assert_eq!(log_mass(100.0, 200.0), LOG_FLOOR);
    }

    #[test]
    fn truncated_samples_stay_inside_with_the_right_mean() {
        let mut rng = Rng::new(2024);
        for &(mu, sigma) in &[(0.5, 1.0), (0.0, 0.1), (0.95, 0.3), (0.3, 0.02)] {
            let n = 100_000;
            let (mut s1, mut s2) = (0.0, 0.0);
            for _ in 0..n {
                let x = sample_unit(&mut rng, mu, sigma);
                assert!((0.0..=1.0).contains(&x));
                s1 += x;
                s2 += x * x;
            }
            let mean = s1 / f64::from(n);
            let sd = (s2 / f64::from(n) - mean * mean).sqrt();
            // E[X] = mu + sigma (phi(alpha) - phi(beta)) / Z on [alpha, beta] = [-mu, 1-mu]/sigma.
            let (alpha, beta) = (-mu / sigma, (1.0 - mu) / sigma);
            let phi = |z: f64| (-0.5 * z * z - HALF_LN_TAU).exp();
            let z = log_mass(alpha, beta).exp();
            let want = mu + sigma * (phi(alpha) - phi(beta)) / z;
            // Five standard errors of the sample mean.
            let tol = 5.0 * sd / f64::from(n).sqrt();
            assert!(
                (mean - want).abs() < tol,
                "mu {mu} sigma {sigma}: mean {mean}, want {want} +- {tol}"
            );
        }
    }
}
