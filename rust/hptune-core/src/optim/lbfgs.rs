//! Bounded L-BFGS: projected gradient steps along an L-BFGS direction on the free variables.
//!
//! Notation: `x` in `R^p` with box `lo <= x <= hi`; `f(x)` and its gradient `g`; memory pairs
//! `s_k = x_{k+1} - x_k`, `y_k = g_{k+1} - g_k`. A variable is *active* when it sits on a bound
//! and its gradient pushes outward; the two-loop recursion acts on the free variables only and
//! the step is projected back onto the box (L-BFGS-B without the generalised Cauchy point,
//! which is plenty for the small, smooth problems here).
//!
//! The objective returns `f` and writes `g`; a non-finite `f` is treated as `+inf`, so the line
//! search simply backs off.

/// Stopping rules.
#[derive(Debug, Clone)]
pub struct LbfgsOptions {
    /// Iteration cap.
    pub max_iter: usize,
    /// Cap on objective evaluations (line-search trials included).
    pub max_eval: usize,
    /// Number of stored `(s, y)` pairs.
    pub memory: usize,
    /// Stop when the largest projected-gradient component is below this.
    pub pg_tol: f64,
    /// Stop when the relative decrease of `f` in one iteration is below this.
    pub f_tol: f64,
    /// Stop when the absolute decrease of `f` in one iteration is below this.
    pub f_abs_tol: f64,
    /// Length (inf-norm) of the first step, taken before there is any curvature information.
    pub initial_step: f64,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        Self {
            max_iter: 200,
            max_eval: 400,
            memory: 8,
            pg_tol: 1e-6,
            f_tol: 1e-10,
            f_abs_tol: 0.0,
            initial_step: 1.0,
        }
    }
}

/// Outcome of a run.
#[derive(Debug, Clone)]
pub struct LbfgsResult {
    /// Best point found (always inside the box).
    pub x: Vec<f64>,
    /// Objective at `x`.
    pub f: f64,
    /// Iterations done.
    pub iterations: usize,
    /// Objective evaluations done.
    pub evaluations: usize,
}

fn project(x: &mut [f64], lo: &[f64], hi: &[f64]) {
    for ((v, &l), &h) in x.iter_mut().zip(lo).zip(hi) {
        *v = v.clamp(l, h);
    }
}

fn is_active(x: f64, g: f64, lo: f64, hi: f64) -> bool {
    (x <= lo && g > 0.0) || (x >= hi && g < 0.0)
}

/// Minimise `f` over the box `[lo, hi]` starting from `x0` (projected onto the box first).
pub fn minimize_bounded<F>(
    mut f: F,
    x0: &[f64],
    lo: &[f64],
    hi: &[f64],
    options: &LbfgsOptions,
) -> LbfgsResult
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let p = x0.len();
    let mut x = x0.to_vec();
    project(&mut x, lo, hi);
    let mut g = vec![0.0; p];
    let mut fx = finite_or_inf(f(&x, &mut g));
    let mut evaluations = 1;
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return LbfgsResult {
            x,
            f: fx,
            iterations: 0,
            evaluations,
        };
    }
    let m = options.memory.max(1);
    let mut s_hist: Vec<Vec<f64>> = Vec::with_capacity(m);
    let mut y_hist: Vec<Vec<f64>> = Vec::with_capacity(m);
    let mut rho_hist: Vec<f64> = Vec::with_capacity(m);
    let mut d = vec![0.0; p];
    let mut x_new = vec![0.0; p];
    let mut g_new = vec![0.0; p];
    let mut alpha_hist = vec![0.0; m];
    let mut iterations = 0;
    while iterations < options.max_iter && evaluations < options.max_eval {
        let free: Vec<bool> = (0..p)
            .map(|i| !is_active(x[i], g[i], lo[i], hi[i]))
            .collect();
        let pg = (0..p)
            .filter(|&i| free[i])
            .map(|i| g[i].abs())
            .fold(0.0, f64::max);
        if pg < options.pg_tol {
            break;
        }
        // Two-loop recursion restricted to the free variables.
        for i in 0..p {
            d[i] = if free[i] { -g[i] } else { 0.0 };
        }
        let k = s_hist.len();
        for j in (0..k).rev() {
            let a = rho_hist[j] * masked_dot(&s_hist[j], &d, &free);
            alpha_hist[j] = a;
            for i in 0..p {
                if free[i] {
                    d[i] -= a * y_hist[j][i];
                }
            }
        }
        if k > 0 {
            let yy = masked_dot(&y_hist[k - 1], &y_hist[k - 1], &free);
            let sy = masked_dot(&s_hist[k - 1], &y_hist[k - 1], &free);
            if yy > 0.0 && sy > 0.0 {
                let gamma = sy / yy;
                for v in &mut d {
                    *v *= gamma;
                }
            }
        }
        for j in 0..k {
            let b = rho_hist[j] * masked_dot(&y_hist[j], &d, &free);
            for i in 0..p {
                if free[i] {
                    d[i] += (alpha_hist[j] - b) * s_hist[j][i];
                }
            }
        }
        let gd: f64 = (0..p).map(|i| g[i] * d[i]).sum();
        if !gd.is_finite() || gd >= 0.0 {
            // Curvature memory went bad: restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho_hist.clear();
            for i in 0..p {
                d[i] = if free[i] { -g[i] } else { 0.0 };
            }
        }
        // The first step has no curvature information: make it unit length in the inf-norm.
        let mut step = if s_hist.is_empty() {
            let dmax = d.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            if dmax > 0.0 {
                (1.0 / dmax).min(1.0)
            } else {
                1.0
            }
        } else {
            1.0
        };
        // Backtracking Armijo search along the projected path.
        let mut accepted = false;
        let mut f_new = f64::INFINITY;
        for _ in 0..30 {
            for i in 0..p {
                x_new[i] = x[i] + step * d[i];
            }
            project(&mut x_new, lo, hi);
            f_new = finite_or_inf(f(&x_new, &mut g_new));
            evaluations += 1;
            let decrease: f64 = (0..p).map(|i| g[i] * (x_new[i] - x[i])).sum();
            if f_new.is_finite()
                && g_new.iter().all(|v| v.is_finite())
                && f_new <= fx + 1e-4 * decrease.min(0.0)
            {
                accepted = true;
                break;
            }
            if evaluations >= options.max_eval {
                break;
            }
            step *= 0.5;
        }
        iterations += 1;
        if !accepted {
            break;
        }
        let mut s = vec![0.0; p];
        let mut y = vec![0.0; p];
        for i in 0..p {
            s[i] = x_new[i] - x[i];
            y[i] = g_new[i] - g[i];
        }
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        let yy: f64 = y.iter().map(|v| v * v).sum();
        if sy > 1e-12 * yy && sy > 0.0 {
            if s_hist.len() == m {
                s_hist.remove(0);
                y_hist.remove(0);
                rho_hist.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
            rho_hist.push(1.0 / sy);
        }
        let rel = (fx - f_new) / fx.abs().max(f_new.abs()).max(1e-300);
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        let moved = fx - f_new;
        fx = f_new;
        if rel < options.f_tol || moved <= options.f_abs_tol {
            break;
        }
    }
    LbfgsResult {
        x,
        f: fx,
        iterations,
        evaluations,
    }
}

fn masked_dot(a: &[f64], b: &[f64], mask: &[bool]) -> f64 {
    a.iter()
        .zip(b)
        .zip(mask)
        .filter(|(_, m)| **m)
        .map(|((x, y), _)| x * y)
        .sum()
}

fn finite_or_inf(v: f64) -> f64 {
    if v.is_finite() { v } else { f64::INFINITY }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(x: &[f64], g: &mut [f64]) -> f64 {
        let mut f = 0.0;
        g.fill(0.0);
        for i in 0..x.len() - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            f += 100.0 * a * a + b * b;
            g[i] += -400.0 * a * x[i] - 2.0 * b;
            g[i + 1] += 200.0 * a;
        }
        f
    }

    #[test]
    fn box_rosenbrock_interior_minimum() {
        let r = minimize_bounded(
            rosenbrock,
            &[-1.2, 1.0],
            &[-2.0, -2.0],
            &[2.0, 2.0],
            &LbfgsOptions::default(),
        );
        assert!(
            (r.x[0] - 1.0).abs() < 1e-4 && (r.x[1] - 1.0).abs() < 1e-4,
            "{r:?}"
        );
    }

    #[test]
    fn box_rosenbrock_constrained_minimum() {
        // With x1 <= 0.5 the minimum is on the bound near (0.5, 0.25) (f = 0.25).
        let r = minimize_bounded(
            rosenbrock,
            &[-1.0, 2.0],
            &[-2.0, -2.0],
            &[0.5, 2.0],
            &LbfgsOptions::default(),
        );
        assert!((r.x[0] - 0.5).abs() < 1e-6, "{r:?}");
        assert!((r.x[1] - 0.25).abs() < 1e-4, "{r:?}");
        assert!((r.f - 0.25).abs() < 1e-6);
    }

    #[test]
    fn quadratic_with_active_bounds() {
        // Unconstrained minimum at (2, -3, 0.5); box [0,1]^3 clips the first two.
        let c = [2.0, -3.0, 0.5];
        let w = [1.0, 10.0, 3.0];
        let f = |x: &[f64], g: &mut [f64]| {
            let mut v = 0.0;
            for i in 0..3 {
                v += w[i] * (x[i] - c[i]).powi(2);
                g[i] = 2.0 * w[i] * (x[i] - c[i]);
            }
            v
        };
        let r = minimize_bounded(
            f,
            &[0.5, 0.5, 0.1],
            &[0.0; 3],
            &[1.0; 3],
            &LbfgsOptions::default(),
        );
        assert!((r.x[0] - 1.0).abs() < 1e-12);
        assert!(r.x[1].abs() < 1e-12);
        assert!((r.x[2] - 0.5).abs() < 1e-6, "{r:?}");
    }

    #[test]
    fn non_finite_objective_backs_off() {
        let f = |x: &[f64], g: &mut [f64]| {
            g[0] = 2.0 * (x[0] - 3.0);
            if x[0] > 3.5 {
                f64::NAN
            } else {
                (x[0] - 3.0).powi(2)
            }
        };
        let r = minimize_bounded(f, &[0.0], &[-10.0], &[10.0], &LbfgsOptions::default());
        assert!((r.x[0] - 3.0).abs() < 1e-5, "{r:?}");
    }
}
