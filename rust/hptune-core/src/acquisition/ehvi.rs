//! Expected hypervolume improvement (EHVI) for several objectives, one independent GP each.
//!
//! Notation: `m` objectives to minimise (standardised units), a front `P` of non-dominated
//! observations and a reference point `r`. The region a new outcome `y` can add to the
//! dominated hypervolume is `A = {z <= r : no p in P has p <= z}`. It is split into disjoint
//! boxes `[l_k, u_k]` (lower corners may be `-inf`), so that
//! `HVI(y) = sum_k prod_j (u_kj - max(y_j, l_kj))^+`. For independent `y_j ~ N(mu_j, s_j^2)`
//! the expectation of each box factorises, and per coordinate
//! `E[(u - max(y, l))^+] = E[(u - y)^+] - E[(l - y)^+] = s (h(b) - h(a))` with
//! `a = (l - mu) / s`, `b = (u - mu) / s` and `h(z) = phi(z) + z Phi(z)` (`h(a) = 0` when
//! `l = -inf`, where the factor is plain EI against `u`). `LogEHVI` is the log of the sum,
//! taken in log space (`ln h` from [`special::log_h`], `ln(1 - e^x)` for the difference, a
//! log-sum-exp over boxes), so it stays finite and ordered far from the front, as `LogEI` does
//! for one objective (Ament et al., 2023).
//!
//! Boxes: on the grid of the front's coordinates, a cell lies outside `A` exactly when some
//! `p <= ` its lower corner. Along the last axis the cells inside `A` form a prefix, so each
//! cell of the first `m - 1` axes gives one box reaching from `-inf` up to
//! `min(r_m, min{p_m : p_j <= l_j for all j < m})`: `prod_{j<m} (k_j + 1)` boxes for `k_j`
//! distinct coordinates (`|P| + 1` for two objectives). Past [`MAX_BOXES`] the front is thinned
//! to evenly spaced points along its first objective, which makes the acquisition an
//! approximation for large fronts of four or more objectives only.

use super::special::{self, LN_SQRT_2PI, log1mexp};

/// Boxes kept at most; for two objectives this allows fronts of 4,095 points.
pub const MAX_BOXES: usize = 4096;

/// The non-dominated region below a reference point, as disjoint boxes.
#[derive(Debug, Clone, PartialEq)]
pub struct Boxes {
    m: usize,
    /// `n_boxes x m` lower corners (`-inf` allowed).
    lower: Vec<f64>,
    /// `n_boxes x m` upper corners (finite).
    upper: Vec<f64>,
}

/// Rows of `points` (`n x m`) that no other row dominates (`<=` everywhere, `<` somewhere);
/// of equal rows the first is kept.
#[must_use]
pub fn non_dominated(points: &[f64], m: usize) -> Vec<usize> {
    let n = points.len().checked_div(m).unwrap_or(0);
    let row = |i: usize| &points[i * m..(i + 1) * m];
    (0..n)
        .filter(|&i| {
            !(0..n).any(|k| {
                let (p, q) = (row(k), row(i));
                let weakly = p.iter().zip(q).all(|(a, b)| a <= b);
                let equal = p == q;
                weakly && (!equal || k < i)
            })
        })
        .collect()
}

impl Boxes {
    /// Decompose the region `front` (`n x m`, any rows: dominated ones and rows not strictly
    /// below `reference` are ignored) leaves improvable below `reference`.
    ///
    /// # Panics
    /// If `reference` does not have `m >= 1` entries.
    #[must_use]
    pub fn new(front: &[f64], m: usize, reference: &[f64]) -> Self {
        assert!(
            m >= 1 && reference.len() == m,
            "reference needs m >= 1 values"
        );
        let below: Vec<f64> = front
            .chunks_exact(m)
            .filter(|p| p.iter().zip(reference).all(|(a, r)| a < r))
            .flatten()
            .copied()
            .collect();
        let keep = non_dominated(&below, m);
        let mut pts: Vec<&[f64]> = keep.iter().map(|&i| &below[i * m..(i + 1) * m]).collect();
        pts.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let pts = thin(pts, m);
        // Grid lines of the first m - 1 axes: -inf, the distinct coordinates, the reference.
        let grids: Vec<Vec<f64>> = (0..m - 1)
            .map(|j| {
                let mut g: Vec<f64> = pts.iter().map(|p| p[j]).collect();
                g.sort_by(f64::total_cmp);
                g.dedup();
                let mut line = Vec::with_capacity(g.len() + 2);
                line.push(f64::NEG_INFINITY);
                line.extend(g);
                line.push(reference[j]);
                line
            })
            .collect();
        let mut boxes = Self {
            m,
            lower: Vec::new(),
            upper: Vec::new(),
        };
        let mut index = vec![0usize; m - 1];
        loop {
            let lower: Vec<f64> = (0..m - 1).map(|j| grids[j][index[j]]).collect();
            let top = pts
                .iter()
                .filter(|p| p[..m - 1].iter().zip(&lower).all(|(a, l)| a <= l))
                .map(|p| p[m - 1])
                .fold(reference[m - 1], f64::min);
            boxes.lower.extend_from_slice(&lower);
            boxes.lower.push(f64::NEG_INFINITY);
            boxes
                .upper
                .extend((0..m - 1).map(|j| grids[j][index[j] + 1]));
            boxes.upper.push(top);
            // Next cell, mixed radix over the first m - 1 axes.
            let mut j = 0;
            while j < m - 1 {
                index[j] += 1;
                if index[j] + 1 < grids[j].len() {
                    break;
                }
                index[j] = 0;
                j += 1;
            }
            if j == m - 1 {
                break;
            }
        }
        boxes
    }

    /// Number of boxes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.upper.len() / self.m
    }

    /// Whether there is no box (never, for a valid reference point).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.upper.is_empty()
    }

    /// Hypervolume a point `y` would add.
    #[must_use]
    pub fn improvement(&self, y: &[f64]) -> f64 {
        self.lower
            .chunks_exact(self.m)
            .zip(self.upper.chunks_exact(self.m))
            .map(|(l, u)| {
                (0..self.m)
                    .map(|j| (u[j] - y[j].max(l[j])).max(0.0))
                    .product::<f64>()
            })
            .sum()
    }

    /// `ln EHVI` for independent outcomes with means `mean` and variances `var`.
    #[must_use]
    pub fn log_ehvi(&self, mean: &[f64], var: &[f64]) -> f64 {
        let sigma: Vec<f64> = var.iter().map(|v| v.sqrt()).collect();
        let terms = self
            .lower
            .chunks_exact(self.m)
            .zip(self.upper.chunks_exact(self.m));
        log_sum_exp(terms.map(|(l, u)| {
            (0..self.m)
                .map(|j| log_factor(l[j], u[j], mean[j], sigma[j]))
                .sum::<f64>()
        }))
    }

    /// [`Boxes::log_ehvi`] and its derivatives with respect to each mean and variance.
    pub fn log_ehvi_with_grad(
        &self,
        mean: &[f64],
        var: &[f64],
        d_mean: &mut [f64],
        d_var: &mut [f64],
    ) -> f64 {
        let m = self.m;
        let sigma: Vec<f64> = var.iter().map(|v| v.sqrt()).collect();
        let n = self.len();
        let mut logs = Vec::with_capacity(n);
        // Per box and coordinate: d ln(factor) / d mu and / d sigma.
        let mut partials = Vec::with_capacity(2 * n * m);
        for (l, u) in self.lower.chunks_exact(m).zip(self.upper.chunks_exact(m)) {
            let mut total = 0.0;
            for j in 0..m {
                let (v, dm, ds) = log_factor_with_grad(l[j], u[j], mean[j], sigma[j]);
                total += v;
                partials.push(dm);
                partials.push(ds);
            }
            logs.push(total);
        }
        let value = log_sum_exp(logs.iter().copied());
        d_mean.fill(0.0);
        d_var.fill(0.0);
        if !value.is_finite() {
            return value;
        }
        for (k, lk) in logs.iter().enumerate() {
            let w = (lk - value).exp();
            if w == 0.0 {
                continue;
            }
            for j in 0..m {
                d_mean[j] += w * partials[2 * (k * m + j)];
                d_var[j] += w * partials[2 * (k * m + j) + 1];
            }
        }
        for (dv, s) in d_var.iter_mut().zip(&sigma) {
            *dv /= 2.0 * s;
        }
        value
    }
}

/// Evenly spaced points of a front sorted by its first objective, few enough that the grid
/// has at most [`MAX_BOXES`] cells.
fn thin(pts: Vec<&[f64]>, m: usize) -> Vec<&[f64]> {
    if m < 2 {
        return pts;
    }
    let cells = |k: usize| (k + 1).checked_pow(u32::try_from(m - 1).unwrap_or(u32::MAX));
    if cells(pts.len()).is_some_and(|c| c <= MAX_BOXES) {
        return pts;
    }
    let mut keep = 0;
    while cells(keep + 1).is_some_and(|c| c <= MAX_BOXES) {
        keep += 1;
    }
    if keep == 0 {
        return Vec::new();
    }
    let n = pts.len();
    (0..keep)
        .map(|i| pts[i * (n - 1) / (keep - 1).max(1)])
        .collect()
}

fn log_sum_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let top = values.clone().fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return top;
    }
    top + values.map(|v| (v - top).exp()).sum::<f64>().ln()
}

/// `ln E[(u - max(y, l))^+]` for `y ~ N(mu, sigma^2)`.
fn log_factor(l: f64, u: f64, mu: f64, sigma: f64) -> f64 {
    let lb = special::log_h((u - mu) / sigma);
    if l == f64::NEG_INFINITY {
        return sigma.ln() + lb;
    }
    let la = special::log_h((l - mu) / sigma);
    sigma.ln() + lb + log1mexp(la - lb)
}

/// [`log_factor`] with its derivatives with respect to `mu` and `sigma`.
fn log_factor_with_grad(l: f64, u: f64, mu: f64, sigma: f64) -> (f64, f64, f64) {
    let b = (u - mu) / sigma;
    let lb = special::log_h(b);
    // Phi(b) / h(b) and phi(b) / h(b).
    let cdf_b = special::d_log_h(b);
    let pdf_b = (-0.5 * b * b - LN_SQRT_2PI - lb).exp();
    if l == f64::NEG_INFINITY {
        return (sigma.ln() + lb, -cdf_b / sigma, pdf_b / sigma);
    }
    // With H = h(b) - h(a): d ln / d mu = -(Phi(b) - Phi(a)) / (sigma H) and
    // d ln / d sigma = (phi(b) - phi(a)) / (sigma H); every ratio is taken relative to h(b).
    let a = (l - mu) / sigma;
    let la = special::log_h(a);
    let one_minus_h = -(la - lb).exp_m1();
    let value = sigma.ln() + lb + log1mexp(la - lb);
    let one_minus_cdf = -(special::log_norm_cdf(a) - special::log_norm_cdf(b)).exp_m1();
    let pdf_a = (-0.5 * a * a - LN_SQRT_2PI - lb).exp();
    let d_mu = -cdf_b * one_minus_cdf / one_minus_h / sigma;
    let d_sigma = (pdf_b - pdf_a) / one_minus_h / sigma;
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    (value, finite(d_mu), finite(d_sigma))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn hypervolume_2d(front: &[[f64; 2]], r: [f64; 2]) -> f64 {
        let mut pts: Vec<[f64; 2]> = front
            .iter()
            .copied()
            .filter(|p| p[0] < r[0] && p[1] < r[1])
            .collect();
        pts.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let mut hv = 0.0;
        let mut ceiling = r[1];
        for p in pts {
            if p[1] < ceiling {
                hv += (r[0] - p[0]) * (ceiling - p[1]);
                ceiling = p[1];
            }
        }
        hv
    }

    #[test]
    fn two_objective_boxes_give_the_hypervolume_improvement() {
        let mut rng = Rng::new(3);
        let r = [1.2, 1.1];
        for _ in 0..50 {
            let front: Vec<[f64; 2]> = (0..8).map(|_| [rng.uniform(), rng.uniform()]).collect();
            let flat: Vec<f64> = front.iter().flatten().copied().collect();
            let boxes = Boxes::new(&flat, 2, &r);
            assert!(boxes.len() <= front.len() + 1);
            let base = hypervolume_2d(&front, r);
            for _ in 0..20 {
                let y = [1.4 * rng.uniform() - 0.2, 1.4 * rng.uniform() - 0.2];
                let mut with = front.clone();
                with.push(y);
                let expected = hypervolume_2d(&with, r) - base;
                let got = boxes.improvement(&y);
                assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
            }
        }
    }

    #[test]
    fn three_objective_boxes_match_monte_carlo_volume() {
        // The improvement of y equals the volume of points of [y, r] not dominated by the
        // front; checked by counting on a fine grid.
        let front = [0.2, 0.6, 0.5, 0.5, 0.2, 0.7, 0.7, 0.7, 0.1];
        let r = [1.0, 1.0, 1.0];
        let boxes = Boxes::new(&front, 3, &r);
        let y = [0.3, 0.3, 0.3];
        let steps = 140;
        let h = 0.7 / f64::from(steps);
        let mut count = 0u32;
        for i in 0..steps {
            for j in 0..steps {
                for k in 0..steps {
                    let z = [
                        0.3 + (f64::from(i) + 0.5) * h,
                        0.3 + (f64::from(j) + 0.5) * h,
                        0.3 + (f64::from(k) + 0.5) * h,
                    ];
                    let dominated = front
                        .chunks_exact(3)
                        .any(|p| p.iter().zip(&z).all(|(a, b)| a <= b));
                    if !dominated {
                        count += 1;
                    }
                }
            }
        }
        let grid = f64::from(count) * h * h * h;
        let exact = boxes.improvement(&y);
        assert!((exact - grid).abs() < 2e-3, "{exact} vs {grid}");
    }

    #[test]
    fn log_ehvi_matches_a_sampled_expectation() {
        let front = [0.1, 0.8, 0.4, 0.4, 0.9, 0.05];
        let boxes = Boxes::new(&front, 2, &[1.1, 1.0]);
        let mean = [0.35_f64, 0.5];
        let var = [0.04_f64, 0.09];
        let mut rng = Rng::new(11);
        let n = 400_000;
        let mut total = 0.0;
        for _ in 0..n {
            let y = [
                mean[0] + var[0].sqrt() * rng.normal(),
                mean[1] + var[1].sqrt() * rng.normal(),
            ];
            total += boxes.improvement(&y);
        }
        let sampled = total / f64::from(n);
        let exact = boxes.log_ehvi(&mean, &var).exp();
        assert!(
            (exact - sampled).abs() < 0.01 * sampled,
            "{exact} vs {sampled}"
        );
    }

    #[test]
    fn one_objective_is_log_ei() {
        let boxes = Boxes::new(&[0.3, 0.7], 1, &[2.0]);
        for (mu, var) in [(0.5, 0.04), (-1.0, 1.0), (9.0, 0.01)] {
            let ehvi = boxes.log_ehvi(&[mu], &[var]);
            let ei = super::super::score(super::super::Acquisition::LogEi, mu, var, 0.3);
            assert!((ehvi - ei).abs() < 1e-10, "{ehvi} vs {ei}");
        }
    }

    #[test]
    fn gradients_match_finite_differences_and_stay_finite_far_away() {
        let front = [0.1, 0.8, 0.4, 0.4, 0.9, 0.05, 0.3, 0.2, 0.5];
        for m in [2usize, 3] {
            let pts: Vec<f64> = front
                .chunks_exact(3)
                .flat_map(|p| p[..m].to_vec())
                .collect();
            let r = vec![1.2; m];
            let boxes = Boxes::new(&pts, m, &r);
            for shift in [0.0, 3.0, 40.0] {
                let mean: Vec<f64> = (0..m).map(|j| 0.3 + 0.1 * j as f64 + shift).collect();
                let var: Vec<f64> = (0..m).map(|j| 0.05 + 0.02 * j as f64).collect();
                let mut dm = vec![0.0; m];
                let mut dv = vec![0.0; m];
                let v = boxes.log_ehvi_with_grad(&mean, &var, &mut dm, &mut dv);
                assert!(v.is_finite(), "m={m} shift={shift}: {v}");
                assert!((v - boxes.log_ehvi(&mean, &var)).abs() < 1e-12);
                for j in 0..m {
                    let h = 1e-6;
                    let mut mp = mean.clone();
                    let mut mm = mean.clone();
                    mp[j] += h;
                    mm[j] -= h;
                    let fd = (boxes.log_ehvi(&mp, &var) - boxes.log_ehvi(&mm, &var)) / (2.0 * h);
                    assert!(
                        (fd - dm[j]).abs() < 1e-5 * (1.0 + fd.abs()),
                        "mu {fd} vs {}",
                        dm[j]
                    );
                    let mut vp = var.clone();
                    let mut vm = var.clone();
                    vp[j] += h;
                    vm[j] -= h;
                    let fd = (boxes.log_ehvi(&mean, &vp) - boxes.log_ehvi(&mean, &vm)) / (2.0 * h);
                    assert!(
                        (fd - dv[j]).abs() < 1e-4 * (1.0 + fd.abs()),
                        "var {fd} vs {}",
                        dv[j]
                    );
                }
            }
        }
    }

    #[test]
    fn large_fronts_are_thinned_to_the_box_budget() {
        let mut rng = Rng::new(5);
        let n = 200;
        let mut pts = Vec::new();
        for _ in 0..n {
            // Points on the simplex x + y + z = 1 are mutually non-dominated.
            let (a, b) = (rng.uniform(), rng.uniform());
            let (a, b) = if a + b > 1.0 {
                (1.0 - a, 1.0 - b)
            } else {
                (a, b)
            };
            pts.extend_from_slice(&[a, b, 1.0 - a - b]);
        }
        let boxes = Boxes::new(&pts, 3, &[1.1, 1.1, 1.1]);
        assert!(
            boxes.len() <= MAX_BOXES && boxes.len() > 1000,
            "{}",
            boxes.len()
        );
        // No box of the thinned front reaches into the region a kept point dominates... and
        // the improvement of a point beyond the reference is zero.
        assert_eq!(boxes.improvement(&[1.2, 0.0, 0.0]), 0.0);
    }

    #[test]
    fn non_dominated_keeps_one_of_equal_rows() {
        let pts = [1.0, 2.0, 1.0, 2.0, 2.0, 1.0, 2.0, 2.0];
        assert_eq!(non_dominated(&pts, 2), vec![0, 2]);
    }
}
