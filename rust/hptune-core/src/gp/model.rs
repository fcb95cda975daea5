//! A GP conditioned on data: posterior mean and variance, batched and with gradients.
//!
//! Notation: training inputs `X` (`n x d`, kernel coordinates), standardised targets `y`,
//! `K = s_f^2 M(X, X) + s_n^2 I = L L^T`, `alpha = K^{-1} y`. For test points `X*` (`m x d`) the
//! cross-covariance is stored transposed, `K*^T` (`n x m`), so one multi-RHS solve gives
//! `V = L^{-1} K*^T`; then `mean = K* alpha` and `var = s_f^2 - colsum(V .* V)` (the latent
//! function's variance: no observation noise). Everything is in standardised units.
//!
//! Points are also kept coordinate-major (`d x n`), so that kernel rows are built by passes over
//! contiguous arrays; those loops and the Matern correlations vectorise, and are compiled for
//! AVX2 where the CPU has it (no fused multiply-add: both builds give the same bits).

// The bodies must be inlined into their `target_feature(enable = "avx2")` wrappers to be
// compiled for AVX2 there; `#[inline]` is only a hint.
#![allow(clippy::inline_always)]

use super::kernel::{Hyper, add_scaled_sq_dist, matern52, matern52_value, transpose};
use crate::error::Result;
use crate::fastmath::with_avx2;
use crate::linalg::{Cholesky, dot};

/// Posterior variances are floored here (standardised units) so `sqrt` and `ln` stay finite.
const MIN_VARIANCE: f64 = 1e-12;

/// A conditioned Gaussian process.
#[derive(Debug, Clone)]
pub struct Gp {
    d: usize,
    x: Vec<f64>,
    /// `x` coordinate-major (`d x n`).
    x_t: Vec<f64>,
    y: Vec<f64>,
    cat: Vec<bool>,
    hyper: Hyper,
    inv_l2: Vec<f64>,
    signal: f64,
    noise: f64,
    chol: Cholesky,
    alpha: Vec<f64>,
}

/// `out[c] = s_f^2 m(s(p, X_c))` for the `m` points of `cols` (coordinate-major, `d x m`).
#[inline(always)]
fn kernel_row(
    p: &[f64],
    cols: &[f64],
    m: usize,
    inv_l2: &[f64],
    cat: &[bool],
    signal: f64,
    out: &mut [f64],
) {
    out.fill(0.0);
    for (j, (&pj, col)) in p.iter().zip(cols.chunks_exact(m.max(1))).enumerate() {
        add_scaled_sq_dist(out, col, pj, inv_l2[j], cat[j]);
    }
    for v in out.iter_mut() {
        *v = signal * matern52_value(*v);
    }
}

/// `K = s_f^2 M(X, X) + s_n^2 I` into `k` (`n x n`, lower triangle and diagonal), from `x`
/// (`n x d`) and its coordinate-major copy `x_t`.
#[inline(always)]
fn kernel_matrix(
    x: &[f64],
    x_t: &[f64],
    inv_l2: &[f64],
    cat: &[bool],
    (signal, noise): (f64, f64),
    k: &mut [f64],
) {
    let d = cat.len();
    let n = x.len() / d.max(1);
    // Row a holds the pairs (a, b < a): the first a entries of each coordinate's row.
    let mut row = vec![0.0; n];
    for a in 0..n {
        let xa = &x[a * d..(a + 1) * d];
        let r = &mut row[..a];
        r.fill(0.0);
        for (j, &v) in xa.iter().enumerate() {
            add_scaled_sq_dist(r, &x_t[j * n..j * n + a], v, inv_l2[j], cat[j]);
        }
        for (kv, &s) in k[a * n..a * n + a].iter_mut().zip(r.iter()) {
            *kv = signal * matern52_value(s);
        }
        k[a * n + a] = signal + noise;
    }
}

impl Gp {
    /// Condition on `x` (`n x d` kernel coordinates) and standardised `y`.
    pub fn new(x: &[f64], y: &[f64], cat: &[bool], hyper: Hyper) -> Result<Self> {
        let d = cat.len();
        let n = y.len();
        let inv_l2 = hyper.inv_sq_lengthscales();
        let signal = hyper.log_signal.exp();
        let noise = hyper.log_noise.exp();
        let x_t = transpose(x, d);
        let mut k = vec![0.0; n * n];
        with_avx2(
            #[inline(always)]
            || kernel_matrix(x, &x_t, &inv_l2, cat, (signal, noise), &mut k),
        );
        let chol = Cholesky::factor(&k, n)?;
        let mut alpha = y.to_vec();
        chol.solve(&mut alpha);
        Ok(Self {
            d,
            x: x.to_vec(),
            x_t,
            y: y.to_vec(),
            cat: cat.to_vec(),
            hyper,
            inv_l2,
            signal,
            noise,
            chol,
            alpha,
        })
    }

    /// Number of conditioning points (fantasies included).
    #[must_use]
    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// The hyperparameters.
    #[must_use]
    pub fn hyper(&self) -> &Hyper {
        &self.hyper
    }

    /// Posterior means at the conditioning points, in `O(n)`: with `K alpha = y` and
    /// `K = K_f + (s_n^2 + jitter) I`, the latent mean is `K_f alpha = y - (s_n^2 + jitter) alpha`.
    #[must_use]
    pub fn fitted_means(&self) -> Vec<f64> {
        let shrink = self.noise + self.chol.jitter();
        self.y
            .iter()
            .zip(&self.alpha)
            .map(|(y, a)| y - shrink * a)
            .collect()
    }

    /// Condition additionally on `(x, y)` keeping the hyperparameters (a rank-one extension of
    /// the factor, `O(n^2)`); used for fantasies of pending points.
    pub fn add_point(&mut self, x: &[f64], y: f64) {
        let n = self.n();
        let d = self.d;
        let mut row = vec![0.0; n];
        kernel_row(
            &x[..d],
            &self.x_t,
            n,
            &self.inv_l2,
            &self.cat,
            self.signal,
            &mut row,
        );
        self.chol.append(&row, self.signal + self.noise);
        self.x.extend_from_slice(&x[..d]);
        self.x_t = transpose(&self.x, d);
        self.y.push(y);
        let mut alpha = self.y.clone();
        self.chol.solve(&mut alpha);
        self.alpha = alpha;
    }

    /// Posterior mean and variance at `m` test points (`xt`: `m x d` kernel coordinates).
    #[must_use]
    pub fn predict(&self, xt: &[f64]) -> (Vec<f64>, Vec<f64>) {
        with_avx2(
            #[inline(always)]
            || self.predict_impl(xt),
        )
    }

    #[inline(always)]
    fn predict_impl(&self, xt: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let d = self.d;
        let n = self.n();
        let m = xt.len() / d;
        let cols = transpose(xt, d);
        let mut kt = vec![0.0; n * m];
        for (i, row) in kt.chunks_exact_mut(m.max(1)).enumerate().take(n) {
            let xi = &self.x[i * d..(i + 1) * d];
            kernel_row(xi, &cols, m, &self.inv_l2, &self.cat, self.signal, row);
        }
        let mut mean = vec![0.0; m];
        for i in 0..n {
            crate::linalg::axpy(self.alpha[i], &kt[i * m..(i + 1) * m], &mut mean);
        }
        self.chol.solve_lower_many(&mut kt, m);
        let mut var = vec![self.signal; m];
        for i in 0..n {
            for (v, t) in var.iter_mut().zip(&kt[i * m..(i + 1) * m]) {
                *v -= t * t;
            }
        }
        for v in &mut var {
            *v = v.max(MIN_VARIANCE);
        }
        (mean, var)
    }

    /// Posterior mean and variance at one point with their gradients with respect to the
    /// point's coordinates (zero on categorical dims, where the kernel is not differentiable).
    pub fn predict_with_grad(
        &self,
        x: &[f64],
        grad_mean: &mut [f64],
        grad_var: &mut [f64],
    ) -> (f64, f64) {
        with_avx2(
            #[inline(always)]
            || self.predict_with_grad_impl(x, grad_mean, grad_var),
        )
    }

    #[inline(always)]
    fn predict_with_grad_impl(
        &self,
        x: &[f64],
        grad_mean: &mut [f64],
        grad_var: &mut [f64],
    ) -> (f64, f64) {
        let d = self.d;
        let n = self.n();
        let mut k = vec![0.0; n];
        for j in 0..d {
            let col = &self.x_t[j * n..(j + 1) * n];
            add_scaled_sq_dist(&mut k, col, x[j], self.inv_l2[j], self.cat[j]);
        }
        let mut dk = vec![0.0; n];
        for (kv, dv) in k.iter_mut().zip(dk.iter_mut()) {
            let (c, dc) = matern52(*kv);
            *kv = self.signal * c;
            *dv = self.signal * dc;
        }
        let mean = dot(&k, &self.alpha);
        let mut v = k;
        self.chol.solve_lower(&mut v);
        let raw_var = self.signal - dot(&v, &v);
        // w = K^{-1} k*
        self.chol.solve_upper(&mut v);
        let w = v;
        // d k_i / d x_j = dk_i * 2 (x_j - X_ij) / l_j^2
        let ca: Vec<f64> = dk.iter().zip(&self.alpha).map(|(g, a)| g * a).collect();
        let cw: Vec<f64> = dk.iter().zip(&w).map(|(g, w)| g * w).collect();
        let mut diff = vec![0.0; n];
        for j in 0..d {
            if self.cat[j] {
                grad_mean[j] = 0.0;
                grad_var[j] = 0.0;
                continue;
            }
            for (t, &xi) in diff.iter_mut().zip(&self.x_t[j * n..(j + 1) * n]) {
                *t = x[j] - xi;
            }
            let scale = 2.0 * self.inv_l2[j];
            grad_mean[j] = scale * dot(&ca, &diff);
            grad_var[j] = -2.0 * scale * dot(&cw, &diff);
        }
        if raw_var < MIN_VARIANCE {
            grad_var.fill(0.0);
        }
        (mean, raw_var.max(MIN_VARIANCE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hyper(l: f64, sf: f64, sn: f64, d: usize) -> Hyper {
        Hyper {
            log_lengthscale: vec![l.ln(); d],
            log_signal: sf.ln(),
            log_noise: sn.ln(),
        }
    }

    #[test]
    fn one_point_closed_form() {
        // One observation y0 at x0: mean = k y0 / (sf + sn), var = sf - k^2 / (sf + sn).
        let (l, sf, sn) = (0.3, 1.7, 0.05);
        let gp = Gp::new(&[0.2], &[1.5], &[false], hyper(l, sf, sn, 1)).unwrap();
        let xt = [0.2, 0.5];
        let (m, v) = gp.predict(&xt);
        for (c, &x) in xt.iter().enumerate() {
            let r = (x - 0.2_f64).abs() / l;
            let q = 5f64.sqrt() * r;
            let k = sf * (1.0 + q + q * q / 3.0) * (-q).exp();
            assert!((m[c] - k * 1.5 / (sf + sn)).abs() < 1e-12);
            assert!((v[c] - (sf - k * k / (sf + sn))).abs() < 1e-12);
        }
    }

    #[test]
    fn two_points_closed_form() {
        // 2 x 2 inverse by hand.
        let (l, sf, sn) = (0.5, 1.0, 0.01);
        let x = [0.0, 1.0];
        let y = [1.0, -1.0];
        let gp = Gp::new(&x, &y, &[false], hyper(l, sf, sn, 1)).unwrap();
        let kf = |a: f64, b: f64| {
            let q = 5f64.sqrt() * (a - b).abs() / l;
            sf * (1.0 + q + q * q / 3.0) * (-q).exp()
        };
        let (a, b, c) = (sf + sn, kf(0.0, 1.0), sf + sn);
        let det = a * c - b * b;
        let inv = [c / det, -b / det, -b / det, a / det];
        let t = 0.3;
        let ks = [kf(t, 0.0), kf(t, 1.0)];
        let mean =
            ks[0] * (inv[0] * y[0] + inv[1] * y[1]) + ks[1] * (inv[2] * y[0] + inv[3] * y[1]);
        let var = sf
            - (ks[0] * (inv[0] * ks[0] + inv[1] * ks[1])
                + ks[1] * (inv[2] * ks[0] + inv[3] * ks[1]));
        let (m, v) = gp.predict(&[t]);
        assert!((m[0] - mean).abs() < 1e-12);
        assert!((v[0] - var).abs() < 1e-12);
        let (mut gm, mut gv) = ([0.0], [0.0]);
        let (m1, v1) = gp.predict_with_grad(&[t], &mut gm, &mut gv);
        assert!((m1 - mean).abs() < 1e-12 && (v1 - var).abs() < 1e-12);
    }

    #[test]
    fn gradients_match_central_differences() {
        let d = 3;
        let cat = [false, true, false];
        let x = [0.1, 0.0, 0.9, 0.5, 1.0, 0.2, 0.8, 2.0, 0.4, 0.3, 0.0, 0.6];
        let y = [0.3, -1.0, 0.8, 0.1];
        let h = Hyper {
            log_lengthscale: vec![-1.0, 0.0, -0.5],
            log_signal: 0.2,
            log_noise: -6.0,
        };
        let gp = Gp::new(&x, &y, &cat, h).unwrap();
        let p = [0.35, 1.0, 0.55];
        let (mut gm, mut gv) = (vec![0.0; d], vec![0.0; d]);
        gp.predict_with_grad(&p, &mut gm, &mut gv);
        let (mut s1, mut s2) = (vec![0.0; d], vec![0.0; d]);
        for j in [0, 2] {
            let e = 1e-6;
            let mut pp = p;
            let mut pm = p;
            pp[j] += e;
            pm[j] -= e;
            let (mp, vp) = gp.predict_with_grad(&pp, &mut s1, &mut s2);
            let (mm, vm) = gp.predict_with_grad(&pm, &mut s1, &mut s2);
            assert!(((mp - mm) / (2.0 * e) - gm[j]).abs() < 1e-6);
            assert!(((vp - vm) / (2.0 * e) - gv[j]).abs() < 1e-6);
        }
        assert_eq!(gm[1], 0.0);
    }

    #[test]
    fn avx2_and_baseline_builds_agree_bit_for_bit() {
        let d = 4;
        let cat = [false, true, false, false];
        let mut rng = crate::rng::Rng::new(11);
        let mut x: Vec<f64> = (0..37 * d).map(|_| rng.uniform()).collect();
        for row in x.chunks_exact_mut(d) {
            row[1] = (row[1] * 3.0).floor();
        }
        let y: Vec<f64> = (0..37).map(|i| (f64::from(i) * 0.7).sin()).collect();
        let h = Hyper {
            log_lengthscale: vec![-1.2, 0.0, -0.4, 0.3],
            log_signal: 0.1,
            log_noise: -8.0,
        };
        let gp = Gp::new(&x, &y, &cat, h).unwrap();
        let xt: Vec<f64> = (0..13 * d).map(|_| rng.uniform()).collect();
        let (m1, v1) = gp.predict(&xt);
        let (m2, v2) = gp.predict_impl(&xt);
        let bits = |v: &[f64]| v.iter().map(|t| t.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&m1), bits(&m2));
        assert_eq!(bits(&v1), bits(&v2));
        let (mut g1, mut g2, mut g3, mut g4) =
            (vec![0.0; d], vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        let a = gp.predict_with_grad(&xt[..d], &mut g1, &mut g2);
        let b = gp.predict_with_grad_impl(&xt[..d], &mut g3, &mut g4);
        assert_eq!(
            (a.0.to_bits(), a.1.to_bits()),
            (b.0.to_bits(), b.1.to_bits())
        );
        assert_eq!((bits(&g1), bits(&g2)), (bits(&g3), bits(&g4)));
    }

    #[test]
    fn fitted_means_match_predict() {
        let x = [0.1, 0.4, 0.8];
        let y = [0.5, -0.2, 1.0];
        let gp = Gp::new(&x, &y, &[false], hyper(0.3, 1.0, 0.1, 1)).unwrap();
        let (m, _) = gp.predict(&x);
        for (a, b) in gp.fitted_means().iter().zip(&m) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn added_point_matches_full_conditioning() {
        let x = [0.1, 0.4, 0.8];
        let y = [0.5, -0.2, 1.0];
        let h = hyper(0.3, 1.0, 1e-3, 1);
        let mut gp = Gp::new(&x[..2], &y[..2], &[false], h.clone()).unwrap();
        gp.add_point(&x[2..], y[2]);
        let full = Gp::new(&x, &y, &[false], h).unwrap();
        let (m1, v1) = gp.predict(&[0.6]);
        let (m2, v2) = full.predict(&[0.6]);
        assert!((m1[0] - m2[0]).abs() < 1e-10 && (v1[0] - v2[0]).abs() < 1e-10);
    }
}
