//! Dense symmetric positive-definite linear algebra for the Gaussian process.
//!
//! Notation: `A` is an `n x n` symmetric matrix stored row-major in a flat `&[f64]`
//! (`A[i * n + j]`); `L` is its lower Cholesky factor (`A + jitter I = L L^T`), also row-major
//! with zeros above the diagonal. Many right-hand sides `B` are stored `n x m` row-major: row `i`
//! holds component `i` of all `m` vectors, so every inner loop runs over a contiguous row.
//!
//! This is the only file that does linear algebra. Inner loops keep `LANES` independent partial
//! sums so that they vectorise without reassociation (results are the same bit for bit on every
//! x86-64 and aarch64 machine: no fused multiply-add, fixed summation order).

// The kernels must be inlined into the `target_feature(enable = "avx2")` wrappers to be
// compiled for AVX2 there; `#[inline]` is only a hint, so they carry `#[inline(always)]`.
#![allow(clippy::inline_always)]

use crate::error::{Error, Result};

const LANES: usize = 4;

/// `sum a[k] * b[k]` with a fixed, vectorisable summation order.
#[inline(always)]
#[must_use]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

/// Four dot products of `a` with `b0..b3` sharing the loads of `a` (all of length `a.len()`).
#[inline(always)]
fn dot4(a: &[f64], b0: &[f64], b1: &[f64], b2: &[f64], b3: &[f64]) -> [f64; 4] {
    let n = a.len();
    let (b0, b1, b2, b3) = (&b0[..n], &b1[..n], &b2[..n], &b3[..n]);
    let mut acc = [[0.0; LANES]; 4];
    let full = n - n % LANES;
    let mut k = 0;
    while k < full {
        let x = &a[k..k + LANES];
        let y0 = &b0[k..k + LANES];
        let y1 = &b1[k..k + LANES];
        let y2 = &b2[k..k + LANES];
        let y3 = &b3[k..k + LANES];
        for l in 0..LANES {
            acc[0][l] += x[l] * y0[l];
            acc[1][l] += x[l] * y1[l];
            acc[2][l] += x[l] * y2[l];
            acc[3][l] += x[l] * y3[l];
        }
        k += LANES;
    }
    let mut out = [0.0; 4];
    for (r, o) in out.iter_mut().enumerate() {
        let a4 = &acc[r];
        *o = (a4[0] + a4[2]) + (a4[1] + a4[3]);
    }
    for k in full..n {
        out[0] += a[k] * b0[k];
        out[1] += a[k] * b1[k];
        out[2] += a[k] * b2[k];
        out[3] += a[k] * b3[k];
    }
    out
}

/// Dot products of `a0` and `a1` with `b0..b3`: [`dot4`] for two rows at once, with the same
/// summation order per product.
#[inline(always)]
fn dot2x4(
    a0: &[f64],
    a1: &[f64],
    b0: &[f64],
    b1: &[f64],
    b2: &[f64],
    b3: &[f64],
) -> ([f64; 4], [f64; 4]) {
    let n = a0.len();
    let a1 = &a1[..n];
    let (b0, b1, b2, b3) = (&b0[..n], &b1[..n], &b2[..n], &b3[..n]);
    let mut acc0 = [[0.0; LANES]; 4];
    let mut acc1 = [[0.0; LANES]; 4];
    let full = n - n % LANES;
    let mut k = 0;
    while k < full {
        let x0 = &a0[k..k + LANES];
        let x1 = &a1[k..k + LANES];
        let ys = [
            &b0[k..k + LANES],
            &b1[k..k + LANES],
            &b2[k..k + LANES],
            &b3[k..k + LANES],
        ];
        for r in 0..4 {
            for l in 0..LANES {
                acc0[r][l] += x0[l] * ys[r][l];
                acc1[r][l] += x1[l] * ys[r][l];
            }
        }
        k += LANES;
    }
    let mut out0 = [0.0; 4];
    let mut out1 = [0.0; 4];
    for r in 0..4 {
        out0[r] = (acc0[r][0] + acc0[r][2]) + (acc0[r][1] + acc0[r][3]);
        out1[r] = (acc1[r][0] + acc1[r][2]) + (acc1[r][1] + acc1[r][3]);
    }
    let bs = [b0, b1, b2, b3];
    for k in full..n {
        for r in 0..4 {
            out0[r] += a0[k] * bs[r][k];
            out1[r] += a1[k] * bs[r][k];
        }
    }
    (out0, out1)
}

/// `y += alpha * x`.
#[inline(always)]
pub fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// `y += c[0] x0 + c[1] x1 + c[2] x2 + c[3] x3`: one pass over `y` for four updates.
#[inline(always)]
fn axpy4(c: [f64; 4], x0: &[f64], x1: &[f64], x2: &[f64], x3: &[f64], y: &mut [f64]) {
    let n = y.len();
    let (x0, x1, x2, x3) = (&x0[..n], &x1[..n], &x2[..n], &x3[..n]);
    for k in 0..n {
        y[k] += (c[0] * x0[k] + c[1] * x1[k]) + (c[2] * x2[k] + c[3] * x3[k]);
    }
}

/// Columns per block in multi-RHS solves: the rows being swept (`n x block`) stay in L2.
fn column_block(n: usize) -> usize {
    ((32_768 / n.max(1)) & !7).clamp(16, 512)
}

/// Lower Cholesky factor of a symmetric positive-definite matrix, with the jitter that was
/// needed to make the factorisation succeed.
#[derive(Debug, Clone)]
pub struct Cholesky {
    n: usize,
    l: Vec<f64>,
    jitter: f64,
}

impl Cholesky {
    /// Factor `a` (`n x n`, only the lower triangle is read).
    ///
    /// Tries no jitter, then `1e-10 * mean(diag)`, growing tenfold up to `1e-2 * mean(diag)`,
    /// and finally a Gershgorin bound that makes any finite matrix diagonally dominant: duplicate
    /// points or a rank-deficient kernel never make this fail. Only non-finite input does.
    pub fn factor(a: &[f64], n: usize) -> Result<Self> {
        Self::factor_with_storage(a, n, Vec::new())
    }

    /// [`Cholesky::factor`] writing the factor into `storage` (reused to spare large
    /// allocations, and their page faults, in loops; see [`Cholesky::into_storage`]).
    pub fn factor_with_storage(a: &[f64], n: usize, storage: Vec<f64>) -> Result<Self> {
        if a.len() != n * n {
            return Err(Error::InvalidArgument(format!(
                "expected a {n} x {n} matrix, got {} values",
                a.len()
            )));
        }
        if a.iter().any(|v| !v.is_finite()) {
            return Err(Error::Numerical(
                "cannot factor a matrix with non-finite entries".into(),
            ));
        }
        let mean_diag = if n == 0 {
            1.0
        } else {
            let m = (0..n).map(|i| a[i * n + i].abs()).sum::<f64>() / n as f64;
            if m > 0.0 { m } else { 1.0 }
        };
        let mut l = storage;
        l.resize(n * n, 0.0);
        if factor_into(a, n, 0.0, &mut l) {
            return Ok(Self { n, l, jitter: 0.0 });
        }
        let mut jitter = 1e-10 * mean_diag;
        while jitter <= 1.0001e-2 * mean_diag {
            if factor_into(a, n, jitter, &mut l) {
                return Ok(Self { n, l, jitter });
            }
            jitter *= 10.0;
        }
        // Gershgorin: with this much on the diagonal every eigenvalue is at least `mean_diag`.
        let mut bound = 0.0f64;
        for i in 0..n {
            let row: f64 = (0..n)
                .map(|j| a[i.max(j) * n + i.min(j)].abs())
                .sum::<f64>();
            bound = bound.max(row);
        }
        jitter = bound + mean_diag;
        if factor_into(a, n, jitter, &mut l) {
            return Ok(Self { n, l, jitter });
        }
        Err(Error::Numerical(
            "Cholesky factorisation failed even with a dominant diagonal".into(),
        ))
    }

    /// Give back the factor's storage for reuse.
    #[must_use]
    pub fn into_storage(self) -> Vec<f64> {
        self.l
    }

    /// Order of the matrix.
    #[must_use]
    pub fn n(&self) -> usize {
        self.n
    }

    /// Jitter added to the diagonal to make the factorisation succeed.
    #[must_use]
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// The factor, row-major, zeros above the diagonal.
    #[must_use]
    pub fn factor_matrix(&self) -> &[f64] {
        &self.l
    }

    /// `ln det(A + jitter I)`.
    #[must_use]
    pub fn log_det(&self) -> f64 {
        2.0 * (0..self.n)
            .map(|i| self.l[i * self.n + i].ln())
            .sum::<f64>()
    }

    /// Solve `L x = b` in place.
    pub fn solve_lower(&self, b: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { solve_lower_avx2(&self.l, self.n, b) };
            return;
        }
        solve_lower_impl(&self.l, self.n, b);
    }

    /// Solve `L^T x = b` in place.
    pub fn solve_upper(&self, b: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { solve_upper_avx2(&self.l, self.n, b) };
            return;
        }
        solve_upper_impl(&self.l, self.n, b);
    }

    /// Solve `A x = b` in place.
    pub fn solve(&self, b: &mut [f64]) {
        self.solve_lower(b);
        self.solve_upper(b);
    }

    /// Solve `L X = B` in place for `m` right-hand sides stored `n x m` row-major.
    pub fn solve_lower_many(&self, b: &mut [f64], m: usize) {
        debug_assert_eq!(b.len(), self.n * m);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { solve_lower_many_avx2(&self.l, self.n, b, m) };
            return;
        }
        solve_lower_many_impl(&self.l, self.n, b, m);
    }

    /// Solve `L^T X = B` in place for `m` right-hand sides stored `n x m` row-major.
    pub fn solve_upper_many(&self, b: &mut [f64], m: usize) {
        let n = self.n;
        debug_assert_eq!(b.len(), n * m);
        for i in (0..n).rev() {
            let inv = 1.0 / self.l[i * n + i];
            let (before, rest) = b.split_at_mut(i * m);
            let bi = &mut rest[..m];
            for v in bi.iter_mut() {
                *v *= inv;
            }
            for j in 0..i {
                let lij = self.l[i * n + j];
                if lij != 0.0 {
                    axpy(-lij, bi, &mut before[j * m..(j + 1) * m]);
                }
            }
        }
    }

    /// `A^{-1}` as a full symmetric `n x n` row-major matrix.
    #[must_use]
    pub fn inverse(&self) -> Vec<f64> {
        let mut out = Vec::new();
        self.inverse_into(&mut out, &mut Vec::new());
        out
    }

    /// [`Cholesky::inverse`] into `out`, with `scratch` as working storage (both resized).
    pub fn inverse_into(&self, out: &mut Vec<f64>, scratch: &mut Vec<f64>) {
        let n = self.n;
        out.clear();
        out.resize(n * n, 0.0);
        scratch.clear();
        scratch.resize(n * n, 0.0);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { inverse_avx2(&self.l, n, scratch, out) };
            return;
        }
        inverse_impl(&self.l, n, scratch, out);
    }

    /// Extend the factor by one row and column: `a_row` holds the new off-diagonal entries
    /// (length `n`) and `a_diag` the new diagonal entry (jitter is added as for the others).
    pub fn append(&mut self, a_row: &[f64], a_diag: f64) {
        let n = self.n;
        let mut v = a_row[..n].to_vec();
        self.solve_lower(&mut v);
        let rest = a_diag + self.jitter - dot(&v, &v);
        // A duplicate point leaves no new information; keep the factor valid with a tiny pivot.
        let floor = 1e-10 * a_diag.abs().max(1e-300);
        let lnn = if rest > floor {
            rest.sqrt()
        } else {
            floor.sqrt()
        };
        let mut l = vec![0.0; (n + 1) * (n + 1)];
        for i in 0..n {
            l[(i * (n + 1))..=(i * (n + 1) + i)].copy_from_slice(&self.l[(i * n)..=(i * n + i)]);
        }
        l[n * (n + 1)..n * (n + 1) + n].copy_from_slice(&v);
        l[n * (n + 1) + n] = lnn;
        self.l = l;
        self.n = n + 1;
    }
}

// The kernels below are compiled twice: for the baseline target and, selected at run time, for
// AVX2. Both keep the same lanes and summation order and neither fuses multiply-adds, so both
// give the same bits: the speed-up never costs reproducibility across machines.

fn factor_into(a: &[f64], n: usize, jitter: f64, l: &mut [f64]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { factor_into_avx2(a, n, jitter, l) };
    }
    factor_into_impl(a, n, jitter, l)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn factor_into_avx2(a: &[f64], n: usize, jitter: f64, l: &mut [f64]) -> bool {
    factor_into_impl(a, n, jitter, l)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn solve_lower_avx2(l: &[f64], n: usize, b: &mut [f64]) {
    solve_lower_impl(l, n, b);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn solve_upper_avx2(l: &[f64], n: usize, b: &mut [f64]) {
    solve_upper_impl(l, n, b);
}

#[inline(always)]
fn solve_lower_impl(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let row = &l[i * n..i * n + i];
        b[i] = (b[i] - dot(row, &b[..i])) / l[i * n + i];
    }
}

#[inline(always)]
fn solve_upper_impl(l: &[f64], n: usize, b: &mut [f64]) {
    // Column access of L^T is row access of L: eliminate with row axpys from the bottom up.
    for i in (0..n).rev() {
        let xi = b[i] / l[i * n + i];
        b[i] = xi;
        axpy(-xi, &l[i * n..i * n + i], &mut b[..i]);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn solve_lower_many_avx2(l: &[f64], n: usize, b: &mut [f64], m: usize) {
    solve_lower_many_impl(l, n, b, m);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn inverse_avx2(l: &[f64], n: usize, m: &mut [f64], out: &mut [f64]) {
    inverse_impl(l, n, m, out);
}

#[inline(always)]
fn solve_lower_many_impl(l: &[f64], n: usize, b: &mut [f64], m: usize) {
    let block = column_block(n);
    let mut c0 = 0;
    while c0 < m {
        let c1 = (c0 + block).min(m);
        for i in 0..n {
            let (done, rest) = b.split_at_mut(i * m);
            let bi = &mut rest[c0..c1];
            let li = &l[(i * n)..=(i * n + i)];
            let row = |j: usize| &done[j * m + c0..j * m + c1];
            let mut j = 0;
            while j + 4 <= i {
                let c = [-li[j], -li[j + 1], -li[j + 2], -li[j + 3]];
                axpy4(c, row(j), row(j + 1), row(j + 2), row(j + 3), bi);
                j += 4;
            }
            while j < i {
                axpy(-li[j], row(j), bi);
                j += 1;
            }
            let inv = 1.0 / li[i];
            for v in bi.iter_mut() {
                *v *= inv;
            }
        }
        c0 = c1;
    }
}

#[inline(always)]
fn inverse_impl(l: &[f64], n: usize, m: &mut [f64], out: &mut [f64]) {
    // M = L^{-1} is lower triangular; row i of M combines rows j < i, each supported on
    // 0..=j, four at a time over their common support.
    for i in 0..n {
        let (done, rest) = m.split_at_mut(i * n);
        let mi = &mut rest[..n];
        mi[i] = 1.0;
        let li = &l[i * n..i * n + i];
        let mut j = 0;
        while j + 4 <= i {
            let c = [-li[j], -li[j + 1], -li[j + 2], -li[j + 3]];
            let r = |b: usize| &done[((j + b) * n)..=((j + b) * n + j)];
            axpy4(c, r(0), r(1), r(2), r(3), &mut mi[..=j]);
            for b in 1..4 {
                let rb = &done[((j + b) * n)..=((j + b) * n + j + b)];
                for k in j + 1..=j + b {
                    mi[k] += c[b] * rb[k];
                }
            }
            j += 4;
        }
        while j < i {
            axpy(-li[j], &done[(j * n)..=(j * n + j)], &mut mi[..=j]);
            j += 1;
        }
        let inv = 1.0 / l[i * n + i];
        for v in &mut mi[..=i] {
            *v *= inv;
        }
    }
    // A^{-1} = M^T M: row a (lower part 0..=a) is sum over k >= a of M[k][a] M[k][0..=a].
    for a in 0..n {
        let oa = &mut out[(a * n)..=(a * n + a)];
        let r = |k: usize| &m[(k * n)..=(k * n + a)];
        let mut k = a;
        while k + 4 <= n {
            let c = [
                m[k * n + a],
                m[(k + 1) * n + a],
                m[(k + 2) * n + a],
                m[(k + 3) * n + a],
            ];
            axpy4(c, r(k), r(k + 1), r(k + 2), r(k + 3), oa);
            k += 4;
        }
        while k < n {
            axpy(m[k * n + a], r(k), oa);
            k += 1;
        }
    }
    for a in 0..n {
        for b in 0..a {
            out[b * n + a] = out[a * n + b];
        }
    }
}

/// Row-oriented (left-looking) Cholesky: row `i` of `L` needs dot products with the rows above
/// it, computed four at a time so each load of row `i` feeds four products.
#[inline(always)]
fn factor_into_impl(a: &[f64], n: usize, jitter: f64, l: &mut [f64]) -> bool {
    l.fill(0.0);
    let mut i = 0;
    while i < n {
        if i + 1 < n {
            if !factor_row_pair(a, n, jitter, l, i) {
                return false;
            }
            i += 2;
        } else {
            if !factor_row(a, n, jitter, l, i) {
                return false;
            }
            i += 1;
        }
    }
    true
}

/// Finish `l[i][jb]` for `jb` in `j..j + 4` from the partial dot products over `0..j`.
#[inline(always)]
fn finish_block(
    a_row: &[f64],
    li: &mut [f64],
    prev: &[f64],
    n: usize,
    j: usize,
    partial: [f64; 4],
) {
    for b in 0..4 {
        let jb = j + b;
        let rj = &prev[(jb * n)..=(jb * n + jb)];
        let mut s = a_row[jb] - partial[b];
        for k in j..jb {
            s -= li[k] * rj[k];
        }
        li[jb] = s / rj[jb];
    }
}

/// One row of the factor (the last one when `n` is odd).
#[inline(always)]
fn factor_row(a: &[f64], n: usize, jitter: f64, l: &mut [f64], i: usize) -> bool {
    let (prev, cur) = l.split_at_mut(i * n);
    let li = &mut cur[..n];
    let a_row = &a[i * n..(i + 1) * n];
    let mut j = 0;
    while j + 4 <= i {
        let r = |b: usize| &prev[(j + b) * n..];
        let partial = dot4(&li[..j], r(0), r(1), r(2), r(3));
        finish_block(a_row, li, prev, n, j, partial);
        j += 4;
    }
    while j < i {
        let rj = &prev[(j * n)..=(j * n + j)];
        li[j] = (a_row[j] - dot(&li[..j], &rj[..j])) / rj[j];
        j += 1;
    }
    let s = a_row[i] + jitter - dot(&li[..i], &li[..i]);
    if !(s > 0.0 && s.is_finite()) {
        return false;
    }
    li[i] = s.sqrt();
    true
}

/// Rows `i` and `i + 1` together: every row `j < i` above is loaded once for both, which halves
/// the memory traffic that bounds the factorisation once `L` outgrows the cache.
#[inline(always)]
fn factor_row_pair(a: &[f64], n: usize, jitter: f64, l: &mut [f64], i: usize) -> bool {
    let (prev, cur) = l.split_at_mut(i * n);
    let (li, li1) = cur[..2 * n].split_at_mut(n);
    let a0 = &a[i * n..(i + 1) * n];
    let a1 = &a[(i + 1) * n..(i + 2) * n];
    let mut j = 0;
    while j + 4 <= i {
        let r = |b: usize| &prev[(j + b) * n..];
        let (p0, p1) = dot2x4(&li[..j], &li1[..j], r(0), r(1), r(2), r(3));
        finish_block(a0, li, prev, n, j, p0);
        finish_block(a1, li1, prev, n, j, p1);
        j += 4;
    }
    while j < i {
        let rj = &prev[(j * n)..=(j * n + j)];
        li[j] = (a0[j] - dot(&li[..j], &rj[..j])) / rj[j];
        li1[j] = (a1[j] - dot(&li1[..j], &rj[..j])) / rj[j];
        j += 1;
    }
    let s = a0[i] + jitter - dot(&li[..i], &li[..i]);
    if !(s > 0.0 && s.is_finite()) {
        return false;
    }
    li[i] = s.sqrt();
    li1[i] = (a1[i] - dot(&li1[..i], &li[..i])) / li[i];
    let s = a1[i + 1] + jitter - dot(&li1[..=i], &li1[..=i]);
    if !(s > 0.0 && s.is_finite()) {
        return false;
    }
    li1[i + 1] = s.sqrt();
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn spd(n: usize, seed: u64) -> Vec<f64> {
        let mut r = Rng::new(seed);
        let g: Vec<f64> = (0..n * n).map(|_| r.normal()).collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = dot(&g[i * n..(i + 1) * n], &g[j * n..(j + 1) * n]);
            }
            a[i * n + i] += n as f64;
        }
        a
    }

    #[test]
    fn factor_reconstructs() {
        for n in [1, 2, 5, 9, 33] {
            let a = spd(n, n as u64);
            let c = Cholesky::factor(&a, n).unwrap();
            assert_eq!(c.jitter(), 0.0);
            let l = c.factor_matrix();
            for i in 0..n {
                for j in 0..=i {
                    let v = dot(&l[(i * n)..=(i * n + j)], &l[(j * n)..=(j * n + j)]);
                    assert!(
                        (v - a[i * n + j]).abs() < 1e-9 * a[i * n + i],
                        "{n} {i} {j}"
                    );
                }
            }
        }
    }

    #[test]
    fn solves_and_inverse() {
        let n = 13;
        let a = spd(n, 5);
        let c = Cholesky::factor(&a, n).unwrap();
        let x: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
        let mut b: Vec<f64> = (0..n).map(|i| dot(&a[i * n..(i + 1) * n], &x)).collect();
        c.solve(&mut b);
        for i in 0..n {
            assert!((b[i] - x[i]).abs() < 1e-10);
        }
        let m = 3;
        let mut bm = vec![0.0; n * m];
        for i in 0..n {
            for r in 0..m {
                bm[i * m + r] = dot(&a[i * n..(i + 1) * n], &x) * (r + 1) as f64;
            }
        }
        c.solve_lower_many(&mut bm, m);
        c.solve_upper_many(&mut bm, m);
        for i in 0..n {
            for r in 0..m {
                assert!((bm[i * m + r] - x[i] * (r + 1) as f64).abs() < 1e-9);
            }
        }
        let inv = c.inverse();
        for i in 0..n {
            for j in 0..n {
                let v = dot(
                    &a[i * n..(i + 1) * n],
                    &(0..n).map(|k| inv[k * n + j]).collect::<Vec<_>>(),
                );
                assert!((v - f64::from(u8::from(i == j))).abs() < 1e-10);
            }
        }
        let ld: f64 = c.log_det();
        assert!(ld.is_finite());
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx2_kernels_give_the_same_bits() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let n = 37;
        let a = spd(n, 21);
        let (mut l1, mut l2) = (vec![0.0; n * n], vec![0.0; n * n]);
        assert!(factor_into_impl(&a, n, 0.0, &mut l1));
        // SAFETY: AVX2 support checked above.
        assert!(unsafe { factor_into_avx2(&a, n, 0.0, &mut l2) });
        assert_eq!(l1, l2);
        let m = 19;
        let b: Vec<f64> = (0..n * m).map(|i| (i as f64 * 0.37).sin()).collect();
        let (mut b1, mut b2) = (b.clone(), b);
        solve_lower_many_impl(&l1, n, &mut b1, m);
        // SAFETY: as above.
        unsafe { solve_lower_many_avx2(&l1, n, &mut b2, m) };
        assert_eq!(b1, b2);
        let (mut s1, mut o1, mut s2, mut o2) = (
            vec![0.0; n * n],
            vec![0.0; n * n],
            vec![0.0; n * n],
            vec![0.0; n * n],
        );
        inverse_impl(&l1, n, &mut s1, &mut o1);
        // SAFETY: as above.
        unsafe { inverse_avx2(&l1, n, &mut s2, &mut o2) };
        assert_eq!(o1, o2);
    }

    #[test]
    fn degenerate_matrices_factor() {
        // All-ones (rank one), huge scale, and zero matrices must not fail.
        let n = 20;
        let ones = vec![1.0; n * n];
        assert!(Cholesky::factor(&ones, n).unwrap().jitter() > 0.0);
        let big: Vec<f64> = ones.iter().map(|v| v * 1e24).collect();
        assert!(Cholesky::factor(&big, n).is_ok());
        let zero = vec![0.0; n * n];
        assert!(Cholesky::factor(&zero, n).is_ok());
        assert!(Cholesky::factor(&[f64::NAN], 1).is_err());
    }

    #[test]
    fn append_matches_full_factor() {
        let n = 8;
        let a = spd(n, 9);
        let mut sub = vec![0.0; (n - 1) * (n - 1)];
        for i in 0..n - 1 {
            sub[i * (n - 1)..(i + 1) * (n - 1)].copy_from_slice(&a[i * n..i * n + n - 1]);
        }
        let mut c = Cholesky::factor(&sub, n - 1).unwrap();
        c.append(&a[(n - 1) * n..(n - 1) * n + n - 1], a[n * n - 1]);
        let full = Cholesky::factor(&a, n).unwrap();
        for (x, y) in c.factor_matrix().iter().zip(full.factor_matrix()) {
            assert!((x - y).abs() < 1e-10);
        }
    }
}
