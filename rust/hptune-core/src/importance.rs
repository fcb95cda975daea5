//! Parameter importance by PED-ANOVA (Watanabe, Bansal and Hutter, 2023: "PED-ANOVA: Efficiently
//! Quantifying Hyperparameter Importance in Arbitrary Subspaces").
//!
//! Notation: `n` trials, `d` dimensions; `x` is `n x d`, row-major, in the unit cube of
//! [`crate::space`] (log dimensions already in log space); `y` holds `n` losses (minimised).
//! The top set is every trial with `y <= y_(k)`, the `k = ceil(quantile * n)`-th smallest loss
//! (ties at the cut are all kept, so the result does not depend on the order of equal losses).
//! For dimension `j`, `p_j` is the marginal distribution of `x_j` over the top set and `q_j` over
//! all trials, both on `G_j` cells:
//! - categorical: one cell per choice, by counts (choices are unordered, so nothing is smoothed);
//! - ordered (float, int, stepped float): `G_j = min(levels, GRID)` cells, a Parzen estimate with
//!   Gaussian kernels on the binned counts (Scott's rule bandwidth, in cells);
//!
//! each with a prior of weight [`PRIOR_WEIGHT`] (uniform over the cells) so that a small top set
//! cannot put zero mass anywhere. The importance is the Pearson divergence
//! `D_j = sum_g q_j(g) (p_j(g) / q_j(g) - 1)^2`, the paper's local importance with
//! `gamma' = quantile` and `gamma = 1` (the constant `(gamma' / gamma)^2` cancels below), and the
//! result is `D_j / sum_i D_i`.
//!
//! Why PED-ANOVA rather than fANOVA over a random forest: it is closed-form (binning and one
//! `G x G` smoothing per dimension, `O(n d + d G^2)` plus one selection), so 10,000 trials take
//! well under a millisecond, it needs no random forest (and so no seed, no tree-building code),
//! and it answers the question a tuner asks: what distinguishes the good trials.

use crate::error::{Result, invalid};
use crate::space::{Kind, Space};

/// Cells of the grid that continuous dimensions (and discrete ones with more levels) are binned
/// on; the paper and Optuna use 50.
pub const GRID: usize = 50;

/// Weight, in trials, of the uniform prior added to each distribution.
pub const PRIOR_WEIGHT: f64 = 1.0;

/// Floor of the kernel bandwidth in cells: `0.5 / 1.64` keeps 90% of a kernel's mass within the
/// cell of its centre, so a top set concentrated in one cell stays a peak instead of a spike.
const MIN_BANDWIDTH: f64 = 0.5 / 1.64;

/// Keeps `q` away from zero in the ratio; both distributions carry the prior, so this only
/// guards against underflow.
const TINY: f64 = 1e-12;

/// The share of each dimension in the total importance (length `d`, summing to 1).
///
/// `x` is `n x d` in the unit cube (row-major), `y` the losses, `quantile` in `(0, 1]` the share
/// of trials that forms the top set. When no dimension separates the top set from the rest (every
/// loss equal, say) each share is `1 / d`.
pub fn importance(space: &Space, x: &[f64], y: &[f64], quantile: f64) -> Result<Vec<f64>> {
    let divergences = pearson_divergences(space, x, y, quantile)?;
    let total: f64 = divergences.iter().sum();
    let d = divergences.len();
    if total > 0.0 && total.is_finite() {
        Ok(divergences.iter().map(|v| v / total).collect())
    } else {
        Ok(vec![1.0 / d as f64; d])
    }
}

/// The unnormalised Pearson divergence `D_j` of each dimension (see the module notes).
pub fn pearson_divergences(space: &Space, x: &[f64], y: &[f64], quantile: f64) -> Result<Vec<f64>> {
    let d = space.len();
    let n = y.len();
    if n < 2 {
        return invalid(format!("importance needs at least 2 trials, got {n}"));
    }
    if x.len() != n * d {
        return invalid(format!(
            "x must hold {n} rows of {d} values (one per dimension), got {} values",
            x.len()
        ));
    }
    if !(quantile > 0.0 && quantile <= 1.0) {
        return invalid(format!("quantile must lie in (0, 1], got {quantile}"));
    }
    if y.iter().any(|v| !v.is_finite()) {
        return invalid("y must contain only finite numbers");
    }
    if x.iter().any(|u| !(-1e-9..=1.0 + 1e-9).contains(u)) {
        return invalid("x must lie in the unit cube [0, 1] (encode the values first)");
    }
    let top = top_mask(y, quantile);
    let n_top = top.iter().filter(|&&t| t).count();
    let mut out = vec![0.0; d];
    if n_top == n {
        return Ok(out);
    }
    let mut all_counts = Vec::with_capacity(GRID);
    let mut top_counts = Vec::with_capacity(GRID);
    for (j, dim) in space.dims().iter().enumerate() {
        let categorical = dim.kind() == Kind::Categorical;
        let cells = match dim.cardinality() {
            Some(levels) if categorical => levels as usize,
            Some(levels) => (levels as usize).min(GRID),
            None => GRID,
        };
        all_counts.clear();
        all_counts.resize(cells, 0.0);
        top_counts.clear();
        top_counts.resize(cells, 0.0);
        for (i, row) in x.chunks_exact(d).enumerate() {
            let cell = ((row[j] * cells as f64) as usize).min(cells - 1);
            all_counts[cell] += 1.0;
            if top[i] {
                top_counts[cell] += 1.0;
            }
        }
        let (p, q) = if categorical {
            (counted(&top_counts), counted(&all_counts))
        } else {
            (parzen(&top_counts), parzen(&all_counts))
        };
        out[j] = p
            .iter()
            .zip(&q)
            .map(|(&p, &q)| {
                let q = q.max(TINY);
                let r = p / q - 1.0;
                q * r * r
            })
            .sum();
    }
    Ok(out)
}

/// Which trials are in the top set: `y <= ` the `ceil(quantile * n)`-th smallest loss.
fn top_mask(y: &[f64], quantile: f64) -> Vec<bool> {
    let n = y.len();
    let k = ((quantile * n as f64).ceil() as usize).clamp(1, n);
    let mut sorted = y.to_vec();
    let (_, cut, _) = sorted.select_nth_unstable_by(k - 1, f64::total_cmp);
    let cut = *cut;
    y.iter().map(|&v| v <= cut).collect()
}

/// Counts plus the uniform prior, normalised.
fn counted(counts: &[f64]) -> Vec<f64> {
    let g = counts.len() as f64;
    let m: f64 = counts.iter().sum();
    counts
        .iter()
        .map(|c| (c + PRIOR_WEIGHT / g) / (m + PRIOR_WEIGHT))
        .collect()
}

/// A Parzen estimate over ordered cells from binned counts, plus the uniform prior, normalised.
///
/// Kernels are Gaussians centred on the cells (in cell units) with Scott's-rule bandwidth
/// `1.059 min(sd, IQR / 1.34) m^(-1/5)`, floored at [`MIN_BANDWIDTH`], evaluated at the cell
/// centres and renormalised over the grid (truncation to the range, by the midpoint rule).
fn parzen(counts: &[f64]) -> Vec<f64> {
    let g = counts.len();
    let m: f64 = counts.iter().sum();
    let mut density = vec![0.0; g];
    if m > 0.0 {
        let h = scott_bandwidth(counts, m);
        let inv = -0.5 / (h * h);
        // The kernel depends only on the distance between cells, so tabulate it once.
        let kernel: Vec<f64> = (0..g).map(|k| (inv * (k * k) as f64).exp()).collect();
        for (b, &c) in counts.iter().enumerate() {
            if c == 0.0 {
                continue;
            }
            // Each kernel carries the weight of its trials, normalised over the grid.
            let mass: f64 = (0..g).map(|t| kernel[t.abs_diff(b)]).sum();
            let w = c / mass;
            for (t, dens) in density.iter_mut().enumerate() {
                *dens += w * kernel[t.abs_diff(b)];
            }
        }
    }
    let prior = PRIOR_WEIGHT / g as f64;
    density
        .iter()
        .map(|v| (v + prior) / (m + PRIOR_WEIGHT))
        .collect()
}

/// Scott's rule on binned data, in cells.
fn scott_bandwidth(counts: &[f64], m: f64) -> f64 {
    let mean = counts
        .iter()
        .enumerate()
        .map(|(b, c)| b as f64 * c)
        .sum::<f64>()
        / m;
    let var = counts
        .iter()
        .enumerate()
        .map(|(b, c)| (b as f64 - mean).powi(2) * c)
        .sum::<f64>()
        / (m - 1.0).max(1.0);
    let iqr = quantile_of_counts(counts, 0.75 * m) - quantile_of_counts(counts, 0.25 * m);
    let spread = var.sqrt().min(iqr / 1.34);
    (1.059 * spread * m.powf(-0.2)).max(MIN_BANDWIDTH)
}

/// The first cell at which the cumulative count reaches `target`.
fn quantile_of_counts(counts: &[f64], target: f64) -> f64 {
    let mut acc = 0.0;
    for (b, c) in counts.iter().enumerate() {
        acc += c;
        if acc >= target {
            return b as f64;
        }
    }
    (counts.len() - 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::space::Dim;

    fn unit_space(d: usize) -> Space {
        Space::new(
            (0..d)
                .map(|_| Dim::float(0.0, 1.0, false).unwrap())
                .collect(),
        )
        .unwrap()
    }

    /// `n` uniform points in `[0, 1]^d` and the loss `f` of each.
    fn sample(n: usize, d: usize, seed: u64, f: impl Fn(&[f64]) -> f64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let x: Vec<f64> = (0..n * d).map(|_| rng.uniform()).collect();
        let y = x.chunks_exact(d).map(f).collect();
        (x, y)
    }

    #[test]
    fn known_function_ranks_parameters() {
        // Strong dependence on x0, weak on x1, none on x2..x4.
        let d = 5;
        let space = unit_space(d);
        let (x, y) = sample(4000, d, 7, |r| {
            10.0 * (r[0] - 0.3).powi(2) + 1.0 * (r[1] - 0.7).powi(2)
        });
        let imp = importance(&space, &x, &y, 0.1).unwrap();
        assert!((imp.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(imp[0] > 0.6, "{imp:?}");
        assert!(
            imp[1] > 2.0 * imp[2..].iter().copied().fold(0.0, f64::max),
            "{imp:?}"
        );
        assert!(imp[0] > 3.0 * imp[1], "{imp:?}");
        for v in &imp[2..] {
            assert!(*v < 0.05, "{imp:?}");
        }
    }

    #[test]
    fn categorical_and_int_dimensions() {
        // x0 categorical with 4 choices (choice 2 is best), x1 an int in 1..=10 that does not
        // matter, x2 a log float that matters a little.
        let space = Space::new(vec![
            Dim::categorical(4).unwrap(),
            Dim::int(1, 10, false, 1).unwrap(),
            Dim::float(1e-4, 1e-1, true).unwrap(),
        ])
        .unwrap();
        let mut rng = Rng::new(3);
        let n = 3000;
        let mut x = Vec::with_capacity(3 * n);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let c = rng.below(4);
            let i = rng.below(10);
            let u = rng.uniform();
            x.extend([(c as f64 + 0.5) / 4.0, (i as f64 + 0.5) / 10.0, u]);
            y.push(if c == 2 { 0.0 } else { 1.0 } + 0.3 * (u - 0.5).abs() + 0.01 * rng.uniform());
        }
        let imp = importance(&space, &x, &y, 0.2).unwrap();
        assert!(imp[0] > imp[2] && imp[2] > imp[1], "{imp:?}");
        assert!(imp[1] < 0.05, "{imp:?}");
    }

    #[test]
    fn invariant_to_monotone_transforms_of_the_loss() {
        let space = unit_space(3);
        let (x, y) = sample(1000, 3, 11, |r| r[2]);
        let a = importance(&space, &x, &y, 0.1).unwrap();
        let y2: Vec<f64> = y.iter().map(|v| (5.0 * v).exp()).collect();
        let b = importance(&space, &x, &y2, 0.1).unwrap();
        for (u, v) in a.iter().zip(&b) {
            assert!((u - v).abs() < 1e-12);
        }
        assert!(a[2] > 0.9, "{a:?}");
    }

    #[test]
    fn constant_losses_give_equal_shares() {
        let space = unit_space(4);
        let (x, y) = sample(50, 4, 1, |_| 1.0);
        let imp = importance(&space, &x, &y, 0.1).unwrap();
        assert_eq!(imp, vec![0.25; 4]);
    }

    #[test]
    fn rejects_bad_input() {
        let space = unit_space(2);
        let x = vec![0.5; 6];
        let y = vec![1.0, 2.0, 3.0];
        assert!(importance(&space, &x, &y, 0.1).is_ok());
        assert!(importance(&space, &x[..5], &y, 0.1).is_err());
        assert!(importance(&space, &x[..2], &y[..1], 0.1).is_err());
        assert!(importance(&space, &x, &y, 0.0).is_err());
        assert!(importance(&space, &x, &y, 1.5).is_err());
        assert!(importance(&space, &x, &[1.0, f64::NAN, 2.0], 0.1).is_err());
        assert!(importance(&space, &[0.5, 0.5, 2.0, 0.5, 0.5, 0.5], &y, 0.1).is_err());
    }

    #[test]
    fn ten_thousand_trials_are_fast_enough_to_run_in_a_test() {
        // Not a timing assertion (see benches); this only exercises the size the API promises.
        let space = unit_space(10);
        let (x, y) = sample(10_000, 10, 5, |r| {
            r.iter().enumerate().map(|(j, v)| j as f64 * v).sum()
        });
        let imp = importance(&space, &x, &y, 0.1).unwrap();
        // Importance grows with the coefficient.
        assert!(imp[9] > imp[5] && imp[5] > imp[1], "{imp:?}");
    }
}
