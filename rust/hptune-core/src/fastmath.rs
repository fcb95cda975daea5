//! Elementary functions written so that loops over them vectorise.
//!
//! `f64::exp` and `f64::ln` are calls into the system's maths library, which stop the loops that
//! use them from vectorising and whose last bit differs between C libraries. These use only
//! adds, multiplies, one division and bit operations, in a fixed order, so the scalar and the
//! AVX2 builds of a loop give the same bits.

// `with_avx2` must be inlined into its caller for the closure to be compiled there.
#![allow(clippy::inline_always)]

/// `f()` compiled for AVX2 when the CPU has it, else for the baseline. For the work to be
/// compiled inside the AVX2 wrapper, `f` must be an `#[inline(always)]` closure that calls
/// `#[inline(always)]` functions: a closure nested inside it may stay a separate, baseline
/// function (check with `objdump` that `with_avx2::run` holds `ymm` instructions).
#[inline(always)]
pub(crate) fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn run<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { run(f) };
        }
    }
    f()
}

/// `exp(t)` for `t <= 0`, and exactly 0 below -700 (where `exp` is under 1e-304) and at -inf.
///
/// Branch-free so that the loop summing a mixture's terms vectorises; Taylor to degree 12 on
/// `|r| <= ln(2)/2` after taking out a power of two, relative error about 3e-16.
#[inline]
#[must_use]
pub fn exp_nonpositive(t: f64) -> f64 {
    // Round to nearest by the 1.5 * 2^52 trick: `f64::round` is a libm call that would stop the
    // caller's loop from vectorising.
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    // ln 2 split in two (Cody and Waite) so that `k * LN2_HI` is exact and `r` keeps its digits;
    // LN2_HI is ln 2 with its low 32 mantissa bits cleared.
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let t_in = t;
    let t = t.max(-700.0);
    let shifted = t * std::f64::consts::LOG2_E + MAGIC;
    let k = shifted - MAGIC;
    let r = (t - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 479_001_600.0;
    for c in [
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    // 2^k with k in [-1010, 0] is a normal number: build its bits directly. The low mantissa
    // bits of `shifted` already hold k in two's complement, so no float-to-int conversion (which
    // would not vectorise) is needed.
    let scale = f64::from_bits(shifted.to_bits().wrapping_add(1023) << 52);
    // Below -700 (and for -inf) exactly 0, so masked terms add nothing; a select, not a branch.
    if t_in < -700.0 { 0.0 } else { p * scale }
}

/// `ln x` for positive normal `x` (`2^-1022 <= x < inf`); other inputs give unspecified values.
///
/// Branch-free so that loops over many logarithms vectorise: with `x = 2^e m`, `m` in
/// `[sqrt(1/2), sqrt 2)`, `ln m = 2 atanh(s)` with `s = (m - 1) / (m + 1)`, `|s| < 0.1716`, by
/// its series to `s^21`; relative error about 2e-16.
#[inline]
#[must_use]
pub fn ln_positive(x: f64) -> f64 {
    // ln 2 in two parts so that e * LN2_HI is exact (Cody and Waite).
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // The biased exponent read as a float: 2^52 + biased exponent, exactly.
    const EXP_MAGIC: f64 = 4_503_599_627_370_496.0;
    let bits = x.to_bits();
    let e = f64::from_bits((bits >> 52) | 0x4330_0000_0000_0000) - (EXP_MAGIC + 1023.0);
    let m = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    let big = m > std::f64::consts::SQRT_2;
    let (m, e) = if big { (0.5 * m, e + 1.0) } else { (m, e) };
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut p = 1.0 / 21.0;
    for c in [19.0, 17.0, 15.0, 13.0, 11.0, 9.0, 7.0, 5.0, 3.0] {
        p = p * s2 + 1.0 / c;
    }
    let ln_m = 2.0 * s + 2.0 * s * s2 * p;
    e * LN2_HI + (ln_m + e * LN2_LO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn exp_matches_libm() {
        for i in 0..=7000 {
            let t = -f64::from(i) * 0.1;
            assert!(rel(exp_nonpositive(t), t.exp()) < 1e-15, "exp({t})");
        }
        assert!(exp_nonpositive(-1e9) < 1e-300);
        assert_eq!(exp_nonpositive(0.0), 1.0);
    }

    #[test]
    fn ln_positive_matches_libm() {
        let mut rng = Rng::new(5);
        let mut worst: f64 = 0.0;
        for i in 0..200_000 {
            // Log-uniform over the whole normal range, plus the neighbourhood of 1 where
            // ln x is small and cancellation would show.
            let x = if i % 2 == 0 {
                (rng.uniform() * 1400.0 - 700.0).exp()
            } else {
                1.0 + (rng.uniform() - 0.5) * 1e-3
            };
            let want = x.ln();
            let err = (ln_positive(x) - want).abs() / want.abs().max(f64::MIN_POSITIVE);
            worst = worst.max(err);
        }
        assert!(worst < 1e-15, "worst relative error {worst}");
        for x in [
            1.0,
            2.0,
            0.5,
            std::f64::consts::SQRT_2,
            1e-300,
            1e300,
            f64::MIN_POSITIVE,
        ] {
            assert!(
                (ln_positive(x) - x.ln()).abs() <= 4.0 * f64::EPSILON * x.ln().abs().max(1e-300)
            );
        }
        assert_eq!(ln_positive(1.0), 0.0);
    }
}
