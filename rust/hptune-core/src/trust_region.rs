//! A trust region for Bayesian optimisation, after `TuRBO` (Eriksson et al., 2019).
//!
//! The acquisition is maximised inside a box around the incumbent instead of over the whole
//! unit cube. The box's side starts at [`TrustRegionOptions::initial`] and is doubled after
//! `success_tolerance` improving trials in a row and halved after `failure_tolerance` trials
//! without improvement; once it is smaller than `min_length` the region restarts: the search
//! leaves the basin it has exhausted and a new region grows around the best trial found after
//! the restart. Each side is stretched by the GP's lengthscale in that dimension relative to
//! their geometric mean, so the box is long where the objective varies slowly.
//!
//! Nothing is stored between calls: the region is replayed from the history in trial order,
//! so a resumed study, or several processes sharing one, compute the same region from the
//! same trials.

/// The schedule of the region's side (lengths are in unit-cube coordinates).
#[derive(Debug, Clone, PartialEq)]
pub struct TrustRegionOptions {
    /// Side after the start and after every restart (`TuRBO`: 0.8).
    pub initial: f64,
    /// Longest side (`TuRBO`: 1.6; clipped to the cube anyway).
    pub max_length: f64,
    /// Below this side the region restarts (`TuRBO`: 2^-7).
    pub min_length: f64,
    /// Improving trials in a row that double the side (`TuRBO`: 3).
    pub success_tolerance: usize,
    /// Trials in a row without improvement that halve the side; 0 means `max(4, d)`, `TuRBO`'s
    /// rule for one suggestion at a time.
    pub failure_tolerance: usize,
    /// Trials before the replay starts (the space-filling start-up design).
    pub n_start: usize,
}

impl Default for TrustRegionOptions {
    fn default() -> Self {
        Self {
            initial: 0.8,
            max_length: 1.6,
            min_length: 0.5f64.powi(7),
            success_tolerance: 3,
            failure_tolerance: 0,
            n_start: 10,
        }
    }
}

/// The region's state after replaying a history.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Side length before the per-dimension stretch.
    pub length: f64,
    /// Index (in `y`) of the trial the region is centred on.
    pub center: usize,
    /// Restarts so far.
    pub restarts: usize,
}

/// Improvement that counts as a success: `TuRBO`'s `1e-3 |best|`. Any finite value improves
/// on an infinite best (an infeasible trial).
fn improves(v: f64, best: f64) -> bool {
    if best.is_infinite() {
        return v < best;
    }
    v < best - 1e-3 * best.abs()
}

/// Replay the values `y` (to minimise, in trial order) of a `d`-dimensional problem. `None`
/// when `y` is empty.
#[must_use]
pub fn replay(y: &[f64], d: usize, options: &TrustRegionOptions) -> Option<Region> {
    if y.is_empty() {
        return None;
    }
    let fail_tol = if options.failure_tolerance == 0 {
        d.max(4)
    } else {
        options.failure_tolerance
    };
    let start = options.n_start.clamp(1, y.len());
    let argmin = |range: std::ops::Range<usize>| {
        range
            .min_by(|&a, &b| y[a].total_cmp(&y[b]).then(a.cmp(&b)))
            .expect("a non-empty range")
    };
    let mut center = argmin(0..start);
    let mut length = options.initial;
    let (mut successes, mut failures, mut restarts) = (0usize, 0usize, 0usize);
    // First trial of the current region; a restarted region is centred on its own trials.
    let mut first = 0;
    for i in start..y.len() {
        if first == i {
            center = i;
            continue;
        }
        if improves(y[i], y[center]) {
            center = i;
            successes += 1;
            failures = 0;
        } else {
            if y[i] < y[center] {
                center = i;
            }
            successes = 0;
            failures += 1;
        }
        if successes == options.success_tolerance {
            length = (2.0 * length).min(options.max_length);
            successes = 0;
        } else if failures == fail_tol {
            length /= 2.0;
            failures = 0;
        }
        if length < options.min_length {
            length = options.initial;
            restarts += 1;
            first = i + 1;
        }
    }
    if first == y.len() {
        // Restarted on the last trial: no trial of the new region yet, so the region is the
        // whole cube (the caller's acquisition explores globally once).
        return Some(Region {
            length: f64::INFINITY,
            center,
            restarts,
        });
    }
    Some(Region {
        length,
        center,
        restarts,
    })
}

/// The box `[lo, hi]` (unit coordinates) of side `length * w_j` around `center`, where `w_j`
/// is lengthscale `j` over the geometric mean of `lengthscales` (those of `stretched` dims
/// only; the other dims span the whole cube).
#[must_use]
pub fn bounds(
    center: &[f64],
    length: f64,
    lengthscales: &[f64],
    stretched: &[bool],
) -> (Vec<f64>, Vec<f64>) {
    let d = center.len();
    let logs: Vec<f64> = (0..d)
        .filter(|&j| stretched[j])
        .map(|j| lengthscales[j].max(1e-12).ln())
        .collect();
    let mean_log = if logs.is_empty() {
        0.0
    } else {
        logs.iter().sum::<f64>() / logs.len() as f64
    };
    let mut lo = vec![0.0; d];
    let mut hi = vec![1.0; d];
    for j in 0..d {
        if !stretched[j] || !length.is_finite() {
            continue;
        }
        let w = (lengthscales[j].max(1e-12).ln() - mean_log).exp();
        let half = 0.5 * length * w;
        lo[j] = (center[j] - half).max(0.0);
        hi[j] = (center[j] + half).min(1.0);
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> TrustRegionOptions {
        TrustRegionOptions {
            n_start: 2,
            ..TrustRegionOptions::default()
        }
    }

    #[test]
    fn successes_grow_and_failures_shrink_the_side() {
        // Three improvements in a row double the side (to the maximum).
        let r = replay(&[5.0, 4.0, 3.0, 2.0, 1.0], 2, &options()).unwrap();
        assert_eq!((r.length, r.center), (1.6, 4));
        // Four failures (d = 2 < 4) halve it; eight halve it twice.
        let y = [1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0];
        let r = replay(&y, 2, &options()).unwrap();
        assert_eq!((r.length, r.center), (0.2, 0));
        // With d = 10 the tolerance is 10 failures: eight do nothing.
        let r = replay(&y, 10, &options()).unwrap();
        assert_eq!(r.length, 0.8);
    }

    #[test]
    fn a_collapsed_region_restarts_around_later_trials() {
        // 0.8 halves below 2^-7 after 7 halvings: 28 failures at d <= 4.
        let mut y = vec![0.0, 1.0];
        y.extend(std::iter::repeat_n(2.0, 28));
        let r = replay(&y, 2, &options()).unwrap();
        assert_eq!((r.length, r.restarts), (f64::INFINITY, 1));
        // The next trials, all worse than the old best, centre the new region.
        y.extend([5.0, 4.0]);
        let r = replay(&y, 2, &options()).unwrap();
        assert_eq!((r.length, r.center, r.restarts), (0.8, 31, 1));
    }

    #[test]
    fn tiny_improvements_are_not_successes() {
        // Better by less than 1e-3 relative: the centre moves, the counters count a failure.
        let y = [1.0, 2.0, 0.9995, 0.999, 0.9985, 0.998];
        let r = replay(&y, 2, &options()).unwrap();
        assert_eq!((r.length, r.center), (0.4, 5));
    }

    #[test]
    fn a_finite_value_after_infeasible_ones_is_a_success() {
        let y = [f64::INFINITY, f64::INFINITY, 3.0, 2.0, 1.0];
        let r = replay(&y, 2, &options()).unwrap();
        assert_eq!((r.length, r.center), (1.6, 4));
    }

    #[test]
    fn bounds_follow_the_lengthscales_and_the_cube() {
        let (lo, hi) = bounds(
            &[0.5, 0.9, 0.3],
            0.4,
            &[0.5, 2.0, 7.0],
            &[true, true, false],
        );
        // Geometric mean 1: sides 0.2 and 0.8, the third dim unbounded.
        assert!((lo[0] - 0.4).abs() < 1e-12 && (hi[0] - 0.6).abs() < 1e-12);
        assert!((lo[1] - 0.5).abs() < 1e-12 && hi[1] == 1.0);
        assert_eq!((lo[2], hi[2]), (0.0, 1.0));
        let (lo, hi) = bounds(&[0.5, 0.5], f64::INFINITY, &[1.0, 1.0], &[true, true]);
        assert_eq!((lo, hi), (vec![0.0, 0.0], vec![1.0, 1.0]));
    }
}
