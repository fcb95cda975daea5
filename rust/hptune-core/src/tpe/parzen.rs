//! A multivariate Parzen estimator on the unit cube: a weighted mixture of product kernels.
//!
//! Notation: `m` observations `x_k` in `[0, 1]^d` with weights `w_k`, plus one prior component
//! (index `m`), so `n_comp = m + 1` and the normalised mixture weights `pi_k` sum to 1.
//! `p(u) = sum_k pi_k prod_j K_kj(u_j)` where for dimension `j`
//! - continuous: `K_kj` is `N(mu_kj, sigma_kj^2)` truncated to `[0, 1]` (a log dimension is
//!   already log-transformed in the unit cube, so this is a truncated log-normal in its values);
//! - discrete numeric (int, stepped float, log int): `K_kj(u)` is the truncated-normal mass of
//!   the cell that holds `u`, so the cell probabilities of one kernel sum to 1;
//! - categorical with `K` choices: `pi_own` on the observed choice, `pi_other` on each other one
//!   (a uniform spread of `prior_weight / n_comp`, as Optuna does), uniform for the prior.
//!
//! The prior component is `N(0.5, 1)` on numeric dimensions. Arrays are stored dimension-major
//! (`[j * stride + k]`, rows padded to a multiple of four) so the inner loop over components is
//! contiguous and vectorises.

// The scoring and fitting bodies must be inlined into their `target_feature(enable = "avx2")`
// wrappers to be compiled for AVX2 there; `#[inline]` is only a hint.
#![allow(clippy::inline_always)]

mod masked;

use super::sort::argsort;
use super::truncnorm::{
    HALF_LN_TAU, LOG_FLOOR, Q_TABLE_END, UnitMass, exp_nonpositive, log_mass_fast, log_unit_mass,
    sample_unit,
};
use super::{Bandwidth, TpeOptions};
use crate::fastmath::{ln_positive, with_avx2};
use crate::rng::Rng;
use crate::space::{Dim, Kind, Space};

/// How one dimension is represented in the unit cube, as far as the kernels care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coord {
    Continuous,
    /// `K` equal cells `[i / K, (i + 1) / K)`.
    Lattice(u64),
    /// Cells bounded by the encodings of `v - 0.5` and `v + 0.5` for each integer `v`.
    LogInt,
    Categorical(u64),
}

impl Coord {
    pub(crate) fn of(dim: &Dim) -> Self {
        match (dim.kind(), dim.cardinality()) {
            (Kind::Categorical, Some(k)) => Self::Categorical(k),
            (Kind::Int, _) if dim.log() => Self::LogInt,
            (_, Some(k)) => Self::Lattice(k),
            // A float on log scale with step 1 decodes continuously, so it is continuous here.
            _ => Self::Continuous,
        }
    }

    /// The cell `[lo, hi]` that holds `u` (discrete numeric coordinates only).
    fn cell(self, dim: &Dim, u: f64) -> (f64, f64) {
        match self {
            Self::Lattice(k) => {
                let kf = k as f64;
                let i = (u * kf).floor().clamp(0.0, kf - 1.0);
                (i / kf, (i + 1.0) / kf)
            }
            Self::LogInt => {
                let v = dim.decode(u);
                (dim.encode(v - 0.5), dim.encode(v + 0.5))
            }
            Self::Continuous | Self::Categorical(_) => (u, u),
        }
    }
}

/// Index of the categorical choice encoded by `u`.
fn choice_of(u: f64, k: u64) -> u64 {
    ((u * k as f64).floor().max(0.0) as u64).min(k - 1)
}

/// Cells narrower than this many kernel widths get their mass from the midpoint density.
const NARROW_CELL: f64 = 0.1;

/// Log-probabilities of one categorical dimension's kernels.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CatKernel {
    k: u64,
    log_own: f64,
    log_other: f64,
    /// `pi_own - pi_other`: the chance, when sampling, of taking the own choice outright.
    own_extra: f64,
}

/// A fitted mixture, ready to be sampled and evaluated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parzen {
    n_comp: usize,
    /// `n_comp` rounded up to a multiple of [`CHUNK`]: the components scored, padding included
    /// (padding scores are computed and dropped).
    n_pad: usize,
    /// Row length of the per-dimension arrays, at least `n_pad` (more when a masked mixture
    /// keeps room to grow, see [`masked`]).
    stride: usize,
    /// Cumulative mixture weights, for picking a component.
    cum_w: Vec<f64>,
    /// `ln pi_k` plus, over continuous dims, `-ln sigma_kj - ln Z_kj - ln(2 pi)/2`.
    log_w: Vec<f64>,
    /// Numeric dims: (dimension index, true when discrete).
    num_dims: Vec<(usize, bool)>,
    /// Continuous dims: (dimension index, offset of its row in `mu` and `inv_sigma`).
    cont_dims: Vec<(usize, usize)>,
    mu: Vec<f64>,
    sigma: Vec<f64>,
    inv_sigma: Vec<f64>,
    /// Per discrete numeric dim (in `num_dims` order), its distinct kernels: cell masses are
    /// computed once per distinct `(mu, sigma)`. Observations share a cell centre often, and
    /// under the Scott rule there are at most `K + 1` distinct kernels on a `K`-level lattice.
    disc_groups: Vec<KernelGroups>,
    cat_dims: Vec<usize>,
    cat_kernels: Vec<CatKernel>,
    /// Observed choice per categorical dim and component, `K` for the prior (rows of `stride`).
    choice: Vec<u32>,
    /// For a masked mixture (see [`masked`]), what it was fitted for.
    masked: Option<masked::Masked>,
}

/// The distinct kernels of one dimension, and which one each component uses.
#[derive(Debug, Clone, PartialEq)]
struct KernelGroups {
    /// `(mu, sigma, ln Z, ln sigma)`.
    params: Vec<(f64, f64, f64, f64)>,
    /// The kernel of each component (padded to `stride`).
    of_comp: Vec<u32>,
}

impl KernelGroups {
    /// Group the kernels `(mu[k], sigma[k])`. `order`, when given, lists every component but
    /// the last (the prior) ascending by mean, as the neighbour rule sorted them: equal kernels
    /// then sit next to each other (in a run of equal means only the outer two differ), so
    /// merging neighbours needs no sort of its own.
    fn new(mu: &[f64], sigma: &[f64], order: Option<&[usize]>, stride: usize) -> Self {
        let n = mu.len();
        let key = |k: usize| (mu[k].to_bits(), sigma[k].to_bits());
        let seq: Vec<usize> = match order {
            Some(o) if o.len() + 1 == n => {
                o.iter().copied().chain(std::iter::once(n - 1)).collect()
            }
            _ => {
                let mut v: Vec<usize> = (0..n).collect();
                v.sort_unstable_by_key(|&k| key(k));
                v
            }
        };
        let mut params = Vec::new();
        // Padding components point at kernel 0; their scores are never read.
        let mut of_comp = vec![0u32; stride];
        let mut last = None;
        for &k in &seq {
            if last != Some(key(k)) {
                let (m, s) = (mu[k], sigma[k]);
                params.push((m, s, log_unit_mass(m, s), s.ln()));
                last = Some(key(k));
            }
            of_comp[k] = (params.len() - 1) as u32;
        }
        Self { params, of_comp }
    }
}

/// Optuna's multivariate bandwidth: `0.2 m^(-1/(d+4))`, a Scott-like rule in the unit cube.
fn scott_sigma(m: usize, d: usize) -> f64 {
    0.2 * (m.max(1) as f64).powf(-1.0 / (d as f64 + 4.0))
}

/// Per-observation bandwidths from the distance to the farther sorted neighbour (Optuna's
/// univariate rule), for one dimension.
#[cfg(test)]
fn neighbour_sigmas(mus: &[f64], consider_endpoints: bool, out: &mut [f64]) {
    neighbour_sigmas_sorted(mus, &argsort(mus), consider_endpoints, out);
}

/// [`neighbour_sigmas`] given `order`, the indices of `mus` ascending by (value, index).
///
/// Ties (common on int and stepped dims, where many trials share a cell) are broken by index,
/// i.e. trial order: in a run of equal values the oldest takes the gap below, the newest the gap
/// above and the ones between get zero (so the bandwidth floor). This is the only place where the
/// fit differs from Optuna's, whose unstable argsort hands the two outer widths to arbitrary
/// members of the run; with a stable sort both give identical `l` and `g` on mixed spaces. The
/// choice is not cosmetic: in the bad group, giving every tied kernel the gap width cut how often
/// the mixed benchmark stays on a wrong categorical from about a third of seeds to a twentieth,
/// but blurred `g` over neighbouring cells so much that the median regret got worse; making
/// them all sharp got stuck more often. Trial order keeps the newest (full-weight) kernel wide.
fn neighbour_sigmas_sorted(
    mus: &[f64],
    order: &[usize],
    consider_endpoints: bool,
    out: &mut [f64],
) {
    let m = mus.len();
    debug_assert_eq!(order.len(), m);
    for (rank, &i) in order.iter().enumerate() {
        let prev = rank.checked_sub(1).map(|r| mus[order[r]]);
        let next = order.get(rank + 1).map(|&k| mus[k]);
        out[i] = neighbour_width(mus[i], prev, next, consider_endpoints, m);
    }
}

/// The neighbour rule for one kernel at `v` with sorted neighbours `prev` and `next` (none at
/// either end) among `m` observations: the farther gap, counting the bounds 0 and 1 as
/// neighbours; without `consider_endpoints` (and `m >= 2`) the outermost kernels take their
/// inner gap only.
fn neighbour_width(
    v: f64,
    prev: Option<f64>,
    next: Option<f64>,
    consider_endpoints: bool,
    m: usize,
) -> f64 {
    match (prev, next) {
        (None, Some(hi)) if !consider_endpoints && m >= 2 => hi - v,
        (Some(lo), None) if !consider_endpoints && m >= 2 => v - lo,
        _ => (v - prev.unwrap_or(0.0)).max(next.unwrap_or(1.0) - v),
    }
}

/// The floor on every bandwidth for a mixture of `n_comp` components.
fn min_sigma_for(options: &TpeOptions, n_comp: usize) -> f64 {
    let mut min_sigma = options.min_bandwidth;
    if options.magic_clip {
        min_sigma = min_sigma.max(1.0 / (1.0 + n_comp as f64).min(100.0));
    }
    min_sigma.min(1.0)
}

/// Numeric dims (index, discrete) and categorical dims of a space.
fn layout(coords: &[Coord]) -> (Vec<(usize, bool)>, Vec<usize>) {
    let mut num_dims = Vec::new();
    let mut cat_dims = Vec::new();
    for (j, c) in coords.iter().enumerate() {
        match c {
            Coord::Continuous => num_dims.push((j, false)),
            Coord::Lattice(_) | Coord::LogInt => num_dims.push((j, true)),
            Coord::Categorical(_) => cat_dims.push(j),
        }
    }
    (num_dims, cat_dims)
}

/// The categorical kernels of a mixture of `n_comp` components over `k` choices.
fn cat_kernel(k: u64, prior_weight: f64, n_comp: usize) -> CatKernel {
    let spread = prior_weight / n_comp as f64;
    let norm = 1.0 + k as f64 * spread;
    let own = (1.0 + spread) / norm;
    let other = spread / norm;
    CatKernel {
        k,
        log_own: own.ln(),
        log_other: other.ln(),
        own_extra: own - other,
    }
}

/// For one component, `prod_j sigma_j Z_j` over its continuous dims (`(mu, sigma, inv_sigma)`
/// each, in order) as a product and the logarithms folded out of it every [`FOLD_DIMS`]: the
/// same operations, in the same order, as the loop of [`fit_impl`] over all components.
fn kernel_mass(unit_mass: UnitMass, dims: impl Iterator<Item = (f64, f64, f64)>) -> (f64, f64) {
    let (mut p, mut f) = (1.0, 0.0);
    for (i, (m, s, inv)) in dims.enumerate() {
        p *= s;
        let inv = inv * std::f64::consts::SQRT_2;
        if m.min(1.0 - m) * inv < Q_TABLE_END {
            p *= unit_mass.of(m, inv);
        }
        if (i + 1) % FOLD_DIMS == 0 {
            f -= p.ln();
            p = 1.0;
        }
    }
    (p, f)
}

/// `ln pi_k` plus the continuous dims' normalisation (see `Parzen::log_w`), from the raw weight
/// `w`, `1 / total weight`, the component's [`kernel_mass`] and `n_cont ln(2 pi) / 2`.
fn log_weight(w: f64, inv_total: f64, (p, f): (f64, f64), norm: f64) -> f64 {
    // w / (total p) is a normal number (w, total and p are; see FOLD_DIMS), so the vectorised
    // logarithm applies.
    ln_positive(w * inv_total / p).max(LOG_FLOOR) + f - norm
}

/// Continuous dims between two foldings of the running product of `sigma Z` into its log:
/// each factor is at least `1e-3 * 0.34`, so 32 of them stay above 1e-111.
const FOLD_DIMS: usize = 32;

impl Parzen {
    /// Fit on `obs` (`m x d` row-major, already snapped to valid cells) with raw weights `weights`.
    ///
    /// `sorted`, when given, holds for every dimension the row indices of `obs` ascending by
    /// (value, index) (only numeric dims are read, and only by the neighbour rule); without it
    /// the rule sorts for itself.
    pub(crate) fn new(
        space: &Space,
        coords: &[Coord],
        obs: &[f64],
        weights: &[f64],
        sorted: Option<&[Vec<usize>]>,
        options: &TpeOptions,
    ) -> Self {
        Self::new_reusing(None, space, coords, obs, weights, sorted, options)
    }

    /// [`Parzen::new`], reusing the largest buffers of an old fit: a fresh allocation of each
    /// per suggestion showed up as page faults (the allocator returns and re-requests the
    /// memory), which cost as much as the arithmetic at a thousand trials.
    pub(crate) fn new_reusing(
        old: Option<Self>,
        space: &Space,
        coords: &[Coord],
        obs: &[f64],
        weights: &[f64],
        sorted: Option<&[Vec<usize>]>,
        options: &TpeOptions,
    ) -> Self {
        let old = old.map(|p| (p.mu, p.sigma, p.inv_sigma, p.log_w, p.cum_w));
        // No fused multiply-add in the body, so the AVX2 and baseline builds give the same bits.
        with_avx2(
            #[inline(always)]
            || fit_impl(old, space, coords, obs, weights, sorted, options),
        )
    }

    /// Draw one point (not yet snapped) into `out` (length `d`).
    pub(crate) fn sample(&self, rng: &mut Rng, out: &mut [f64]) {
        let u = rng.uniform();
        let k = self.cum_w.partition_point(|&c| c <= u).min(self.n_comp - 1);
        for (jn, &(j, _)) in self.num_dims.iter().enumerate() {
            let i = jn * self.stride + k;
            out[j] = sample_unit(rng, self.mu[i], self.sigma[i]);
        }
        for (jc, &j) in self.cat_dims.iter().enumerate() {
            let ck = self.cat_kernels[jc];
            let own = u64::from(self.choice[jc * self.stride + k]);
            let c = if own != ck.k && rng.uniform() < ck.own_extra {
                own
            } else {
                rng.below(ck.k)
            };
            out[j] = (c as f64 + 0.5) / ck.k as f64;
        }
    }

    /// `ln p(u)` for each snapped row of `cands` (`n x d`), written to `out` (length `n`).
    pub(crate) fn log_density(
        &self,
        space: &Space,
        coords: &[Coord],
        cands: &[f64],
        out: &mut [f64],
    ) {
        with_avx2(
            #[inline(always)]
            || log_density_impl(self, space, coords, cands, out),
        );
    }
}

/// The buffers [`Parzen::new_reusing`] takes over from an old fit.
type Buffers = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

#[inline(always)]
fn fit_impl(
    old: Option<Buffers>,
    space: &Space,
    coords: &[Coord],
    obs: &[f64],
    weights: &[f64],
    sorted: Option<&[Vec<usize>]>,
    options: &TpeOptions,
) -> Parzen {
    let (mut mu, mut sigma, mut inv_sigma, mut log_w, mut cum_w) = old.unwrap_or_default();
    let d = space.len();
    let m = weights.len();
    debug_assert_eq!(obs.len(), m * d);
    let n_comp = m + 1;
    let stride = n_comp.next_multiple_of(CHUNK);
    let pw = options.prior_weight;
    let total = weights.iter().sum::<f64>() + pw;
    let inv_total = 1.0 / total;
    cum_w.clear();
    let mut acc = 0.0;
    for w in weights.iter().chain(std::iter::once(&pw)) {
        acc += w * inv_total;
        cum_w.push(acc);
    }

    let min_sigma = min_sigma_for(options, n_comp);
    let (num_dims, cat_dims) = layout(coords);
    let nn = num_dims.len();
    // Padding: a centred, unit-width kernel, harmless wherever it is evaluated.
    mu.clear();
    mu.resize(nn * stride, 0.5);
    sigma.clear();
    sigma.resize(nn * stride, 1.0);
    let scott = scott_sigma(m, d);
    for (jn, &(j, _)) in num_dims.iter().enumerate() {
        let r = jn * stride..(jn + 1) * stride;
        let mus = &mut mu[r.clone()];
        for (k, v) in mus[..m].iter_mut().enumerate() {
            *v = obs[k * d + j];
        }
        let (mus, sig) = (&mu[r.clone()], &mut sigma[r]);
        match options.bandwidth {
            Bandwidth::Scott => sig[..m].fill(scott),
            Bandwidth::Neighbours => {
                let endpoints = options.consider_endpoints;
                let own;
                let order = if let Some(orders) = sorted {
                    &orders[j]
                } else {
                    own = argsort(&mus[..m]);
                    &own
                };
                neighbour_sigmas_sorted(&mus[..m], order, endpoints, &mut sig[..m]);
            }
        }
        sig[m] = 1.0;
        for s in sig.iter_mut() {
            *s = s.clamp(min_sigma, 1.0);
        }
    }
    // Scaled by 1/sqrt 2 so the scoring loop subtracts z^2 without the factor 1/2.
    inv_sigma.clear();
    inv_sigma.extend(sigma.iter().map(|s| std::f64::consts::FRAC_1_SQRT_2 / s));

    // ln pi_k - ln prod_j (sigma_kj Z_kj) over continuous dims: the product is taken in plain
    // arithmetic and folded into one logarithm per component every FOLD_DIMS dims.
    log_w.clear();
    log_w.resize(stride, 0.0);
    let mut prod = vec![1.0; n_comp];
    let mut folded = vec![0.0; n_comp];
    let mut cont_dims = Vec::new();
    let mut disc_groups = Vec::new();
    let unit_mass = UnitMass::new();
    for (jn, &(j, discrete)) in num_dims.iter().enumerate() {
        let r = jn * stride..jn * stride + n_comp;
        let (mu_j, sigma_j) = (&mu[r.clone()], &sigma[r.clone()]);
        if discrete {
            let order = match (options.bandwidth, sorted) {
                (Bandwidth::Neighbours, Some(orders)) => Some(orders[j].as_slice()),
                _ => None,
            };
            disc_groups.push(KernelGroups::new(mu_j, sigma_j, order, stride));
            continue;
        }
        cont_dims.push((j, jn * stride));
        for (p, s) in prod.iter_mut().zip(sigma_j) {
            *p *= s;
        }
        // Kernels well inside the cube keep all their mass: only those near a bound (few, at
        // many observations) need their tails, so the loop above stays branch-free.
        let inv_j = &inv_sigma[r];
        for ((p, &m), &inv) in prod.iter_mut().zip(mu_j).zip(inv_j) {
            let inv = inv * std::f64::consts::SQRT_2;
            if m.min(1.0 - m) * inv < Q_TABLE_END {
                *p *= unit_mass.of(m, inv);
            }
        }
        if cont_dims.len() % FOLD_DIMS == 0 {
            for (f, p) in folded.iter_mut().zip(&mut prod) {
                *f -= p.ln();
                *p = 1.0;
            }
        }
    }
    let norm = cont_dims.len() as f64 * HALF_LN_TAU;
    let obs_terms = log_w[..m]
        .iter_mut()
        .zip(weights)
        .zip(&prod[..m])
        .zip(&folded[..m]);
    for (((lw, &w), &p), &f) in obs_terms {
        *lw = log_weight(w, inv_total, (p, f), norm);
    }
    log_w[m] = log_weight(pw, inv_total, (prod[m], folded[m]), norm);
    log_w[n_comp..].fill(LOG_FLOOR);

    let mut cat_kernels = Vec::with_capacity(cat_dims.len());
    let mut choice = vec![0u32; cat_dims.len() * stride];
    for (jc, &j) in cat_dims.iter().enumerate() {
        let Coord::Categorical(k) = coords[j] else {
            continue;
        };
        cat_kernels.push(cat_kernel(k, pw, n_comp));
        let row = &mut choice[jc * stride..(jc + 1) * stride];
        for kk in 0..m {
            row[kk] = choice_of(obs[kk * d + j], k) as u32;
        }
        row[m] = k as u32;
    }

    Parzen {
        n_comp,
        n_pad: stride,
        stride,
        cum_w,
        log_w,
        num_dims,
        cont_dims,
        mu,
        sigma,
        inv_sigma,
        disc_groups,
        cat_dims,
        cat_kernels,
        choice,
        masked: None,
    }
}

/// `ln` of the mass that the kernel `(m, s, ln Z, ln s)` of a discrete dim puts on the cell
/// `[lo, hi]` (width `w`, `ln w`, midpoint `mid`), normalised by its truncation mass: at most 0.
fn cell_log_kernel(lo: f64, hi: f64, ln_w: f64, kernel: (f64, f64, f64, f64)) -> f64 {
    let (m, s, lz, ln_s) = kernel;
    let (w, mid) = (hi - lo, 0.5 * (lo + hi));
    let wz = w / s;
    let z = (mid - m) / s;
    let v = if wz < NARROW_CELL && wz * z.abs() < 1.0 {
        // Mass = w phi(z) (1 + eps) in z units, with
        // eps = w^2 (z^2 - 1) / 24 + w^4 (z^4 - 6 z^2 + 3) / 1920 + O((w z)^6 / 3e5),
        // so under 4e-6 relative here; ln(1 + eps) by its series (|eps| < 0.05).
        // Saves two tail evaluations per kernel on fine grids (log ints).
        let (w2, z2) = (wz * wz, z * z);
        let eps = w2 * (z2 - 1.0) / 24.0 + w2 * w2 * (z2 * z2 - 6.0 * z2 + 3.0) / 1920.0;
        let ln1p = eps * (1.0 - eps * (0.5 - eps * (1.0 / 3.0 - 0.25 * eps)));
        ln_w - ln_s - HALF_LN_TAU - 0.5 * z2 + ln1p
    } else {
        log_mass_fast((lo - m) / s, (hi - m) / s)
    };
    v.max(LOG_FLOOR) - lz
}

/// Margin below the largest term of a log-sum-exp past which terms are dropped (`e^-40`
/// relative, under 1e-17).
const NEGLIGIBLE: f64 = 40.0;

/// Distinct values of `keys` in order of appearance, and the index of each key among them.
fn distinct<T: PartialEq + Copy>(keys: impl Iterator<Item = T>) -> (Vec<T>, Vec<usize>) {
    let mut seen: Vec<T> = Vec::new();
    let which = keys
        .map(|key| {
            seen.iter().position(|&c| c == key).unwrap_or_else(|| {
                seen.push(key);
                seen.len() - 1
            })
        })
        .collect();
    (seen, which)
}

/// The log-kernels of one discrete or categorical dim at the candidates: for each distinct
/// cell (or choice) among them a row of values per distinct kernel (`width` per row), which
/// row each candidate uses, and the kernel of each component (`of_comp`, padded to `stride`).
struct Table<'a> {
    rows: Vec<f64>,
    width: usize,
    which: Vec<usize>,
    of_comp: &'a [u32],
}

impl Table<'_> {
    fn row(&self, r: usize) -> &[f64] {
        let at = self.which[r] * self.width;
        &self.rows[at..at + self.width]
    }
}

/// A level `T` such that any component whose log-kernel in one dimension lies below `T` adds
/// less than `e^-40` of `p(u)` at every candidate `u`, whatever its other dimensions.
///
/// Every dimension's log-kernel is at most 0 (a truncated kernel's mass on a cell, a
/// categorical probability, `-z^2`), so a component scores at most `ln w_k + T` if one of its
/// terms is below `T`, while the prior component scores exactly `P(u)` at candidate `u`. With
/// `T = min_u P(u) - max_k ln w_k - 40` that component is 40 nats below the prior's term.
fn negligible_level(p: &Parzen, d: usize, cands: &[f64], disc_cells: &[Vec<(f64, f64)>]) -> f64 {
    let prior = p.n_comp - 1;
    let max_lw = max_of(&p.log_w[..p.n_comp]);
    let mut lowest = f64::INFINITY;
    for (r, row) in cands.chunks_exact(d).enumerate() {
        let mut score = p.log_w[prior];
        for &(j, off) in &p.cont_dims {
            let z = (row[j] - p.mu[off + prior]) * p.inv_sigma[off + prior];
            score -= z * z;
        }
        for (groups, cells) in p.disc_groups.iter().zip(disc_cells) {
            let (lo, hi) = cells[r];
            let kernel = groups.params[groups.of_comp[prior] as usize];
            score += cell_log_kernel(lo, hi, (hi - lo).ln(), kernel);
        }
        for ck in &p.cat_kernels {
            score -= (ck.k as f64).ln();
        }
        lowest = lowest.min(score);
    }
    lowest - max_lw - NEGLIGIBLE
}

/// The [`Table`]s of the discrete numeric dims, then of the categorical ones. Candidates
/// cluster and observations share kernels, so one value per (distinct cell, distinct kernel)
/// needs far fewer tail evaluations than one per (candidate, component). Kernels that cannot
/// reach a cell (their term would lie below [`negligible_level`]) get that level instead.
fn kernel_tables<'a>(
    p: &'a Parzen,
    space: &Space,
    coords: &[Coord],
    cands: &[f64],
) -> Vec<Table<'a>> {
    let d = space.len();
    let n = cands.len() / d;
    let disc_dims = p.num_dims.iter().filter(|(_, discrete)| *discrete);
    let disc_cells: Vec<Vec<(f64, f64)>> = disc_dims
        .map(|&(j, _)| {
            let dim = &space.dims()[j];
            (0..n)
                .map(|r| coords[j].cell(dim, cands[r * d + j]))
                .collect()
        })
        .collect();
    let floor = if disc_cells.is_empty() {
        f64::NEG_INFINITY
    } else {
        negligible_level(p, d, cands, &disc_cells)
    };
    let mut tables = Vec::new();
    for (cells, groups) in disc_cells.iter().zip(&p.disc_groups) {
        let (keys, which) = distinct(cells.iter().copied());
        let width = groups.params.len();
        let mut rows = vec![0.0; keys.len() * width];
        for (row, &(lo, hi)) in rows.chunks_exact_mut(width).zip(&keys) {
            let ln_w = (hi - lo).ln();
            for (t, &kernel) in row.iter_mut().zip(&groups.params) {
                let (m, s, lz, _) = kernel;
                // The mass is at most Q(zn) <= phi(zn) for zn >= 1, zn the distance to the
                // cell in kernel widths.
                let zn = (lo - m).max(m - hi) / s;
                *t = if zn >= 1.0 && -0.5 * zn * zn - HALF_LN_TAU - lz < floor {
                    floor
                } else {
                    cell_log_kernel(lo, hi, ln_w, kernel)
                };
            }
        }
        tables.push(Table {
            rows,
            width,
            which,
            of_comp: &groups.of_comp,
        });
    }
    for (jc, (&j, ck)) in p.cat_dims.iter().zip(&p.cat_kernels).enumerate() {
        let (keys, which) = distinct((0..n).map(|r| choice_of(cands[r * d + j], ck.k)));
        // Kernels 0..K are the observed choices, kernel K the prior.
        let width = ck.k as usize + 1;
        let mut rows = vec![ck.log_other; keys.len() * width];
        for (row, &c) in rows.chunks_exact_mut(width).zip(&keys) {
            row[c as usize] = ck.log_own;
            row[width - 1] = -(ck.k as f64).ln();
        }
        tables.push(Table {
            rows,
            width,
            which,
            of_comp: &p.choice[jc * p.stride..(jc + 1) * p.stride],
        });
    }
    tables
}

#[inline(always)]
fn log_density_impl(p: &Parzen, space: &Space, coords: &[Coord], cands: &[f64], out: &mut [f64]) {
    let d = space.len();
    debug_assert_eq!(cands.len(), out.len() * d);
    let tables = kernel_tables(p, space, coords, cands);
    log_density_blocks(p, d, cands, &tables, out);
}

/// The scores of `R` candidates from row `r0` on, for components `k0..k1`, into `s` (rows of
/// `ld`).
#[inline(always)]
fn group_scores<const R: usize>(
    p: &Parzen,
    d: usize,
    cands: &[f64],
    tables: &[Table<'_>],
    r0: usize,
    (k0, k1): (usize, usize),
    s: &mut [f64],
    ld: usize,
) {
    let rows: [&[f64]; R] = std::array::from_fn(|g| &cands[(r0 + g) * d..(r0 + g + 1) * d]);
    let trows: Vec<([&[f64]; R], &[u32])> = tables
        .iter()
        .map(|t| (std::array::from_fn(|g| t.row(r0 + g)), t.of_comp))
        .collect();
    block_scores(p, rows, &trows, (k0, k1), s, ld);
}

/// `ln p(u)` of every candidate from its components' scores, block by block.
#[inline(always)]
fn log_density_blocks(p: &Parzen, d: usize, cands: &[f64], tables: &[Table<'_>], out: &mut [f64]) {
    let nc = p.n_comp;
    let n = out.len();
    // Components go in blocks small enough that a block's means, widths and scores stay in
    // the L1 cache while every candidate passes over them; a running (max, sum) per
    // candidate merges the blocks' log-sum-exps. Candidates go GROUP at a time, so each mean
    // and width loaded serves all of them.
    let mut run_max = vec![f64::NEG_INFINITY; n];
    let mut run_sum = vec![0.0; n];
    let mut s = vec![0.0; GROUP * BLOCK];
    for k0 in (0..p.n_pad).step_by(BLOCK) {
        let k1 = (k0 + BLOCK).min(p.n_pad);
        let real = nc.min(k1) - k0;
        for r0 in (0..n).step_by(GROUP) {
            let rows = r0..(r0 + GROUP).min(n);
            if rows.len() == GROUP {
                group_scores::<GROUP>(p, d, cands, tables, r0, (k0, k1), &mut s, BLOCK);
            } else {
                for r in rows.clone() {
                    let at = (r - r0) * BLOCK;
                    group_scores::<1>(p, d, cands, tables, r, (k0, k1), &mut s[at..], BLOCK);
                }
            }
            for r in rows {
                let at = (r - r0) * BLOCK;
                let (m, sum) = max_and_sum_exp(&s[at..at + real]);
                if m > run_max[r] {
                    run_sum[r] = run_sum[r] * exp_nonpositive(run_max[r] - m) + sum;
                    run_max[r] = m;
                } else {
                    run_sum[r] += sum * exp_nonpositive(m - run_max[r]);
                }
            }
        }
    }
    for ((o, &m), &sum) in out.iter_mut().zip(&run_max).zip(&run_sum) {
        *o = log_of(m, sum);
    }
}

fn log_of(max: f64, sum: f64) -> f64 {
    if max.is_finite() {
        max + sum.ln()
    } else {
        LOG_FLOOR
    }
}

/// For `R` candidates (`rows`, each of length `d`) and components `k0..k1` (multiples of
/// [`CHUNK`]), `ln pi_k` plus the log-kernels of every dim into `s[r * ld + k - k0]`: continuous
/// dims from the means and widths, the others from `tables` (per discrete, then categorical dim,
/// each candidate's row of values per kernel and the kernel of each component).
#[inline(always)]
fn block_scores<const R: usize>(
    p: &Parzen,
    rows: [&[f64]; R],
    tables: &[([&[f64]; R], &[u32])],
    (k0, k1): (usize, usize),
    s: &mut [f64],
    ld: usize,
) {
    for c in (k0..k1).step_by(CHUNK) {
        let lw = chunk(&p.log_w, c);
        let mut acc = [*lw; R];
        for &(j, off) in &p.cont_dims {
            let m = chunk(&p.mu, off + c);
            let is = chunk(&p.inv_sigma, off + c);
            for (a, row) in acc.iter_mut().zip(&rows) {
                let x = row[j];
                for t in 0..CHUNK {
                    let z = (x - m[t]) * is[t];
                    a[t] -= z * z;
                }
            }
        }
        for (trows, of_comp) in tables {
            let kernel = &of_comp[c..c + CHUNK];
            for (a, trow) in acc.iter_mut().zip(trows) {
                for t in 0..CHUNK {
                    a[t] += trow[kernel[t] as usize];
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            let at = r * ld + c - k0;
            s[at..at + CHUNK].copy_from_slice(a);
        }
    }
}

#[inline(always)]
fn chunk(v: &[f64], at: usize) -> &[f64; CHUNK] {
    v[at..at + CHUNK]
        .try_into()
        .expect("a slice of CHUNK elements")
}

/// Components per block of [`Parzen::log_density`]: 3 KiB of each array per block.
const BLOCK: usize = 384;
/// Components scored together (one AVX2 register).
const CHUNK: usize = 4;
/// Candidates scored together.
const GROUP: usize = 4;

/// The largest of `s` (never NaN here), `-inf` when empty.
#[inline(always)]
fn max_of(s: &[f64]) -> f64 {
    // Sixteen running maxima break the dependency chain; the comparison form compiles to one
    // `maxpd`.
    let wide = s.chunks_exact(16);
    let mut mx = [f64::NEG_INFINITY; 16];
    for c in wide.clone() {
        for (m, &v) in mx.iter_mut().zip(c) {
            *m = if v > *m { v } else { *m };
        }
    }
    mx.iter()
        .chain(wide.remainder())
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
}

/// `(max_k s_k, sum_k exp(s_k - max))`.
#[inline(always)]
fn max_and_sum_exp(s: &[f64]) -> (f64, f64) {
    let max = max_of(s);
    if !max.is_finite() {
        return (f64::NEG_INFINITY, 0.0);
    }
    // Terms more than 40 nats below the largest add under 1e-17 relative. With narrow kernels
    // (many observations) nearly all are that far, so the branch is predictable and skips most
    // of the work; four running sums avoid one serial chain of dependent additions.
    let chunks = s.chunks_exact(4);
    let mut acc = [0.0; 4];
    let mut tail = 0.0;
    for &v in chunks.remainder() {
        tail += exp_nonpositive(v - max);
    }
    for c in chunks {
        let t = [c[0] - max, c[1] - max, c[2] - max, c[3] - max];
        if t.iter().any(|&v| v > -40.0) {
            for (a, &v) in acc.iter_mut().zip(&t) {
                *a += if v > -40.0 { exp_nonpositive(v) } else { 0.0 };
            }
        }
    }
    (max, (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail)
}

#[cfg(test)]
impl Parzen {
    /// Everything that defines the mixture, without its memory layout (the row stride), as
    /// bit patterns: two fits are the same mixture exactly when these are equal.
    pub(crate) fn contents(&self) -> Vec<Vec<u64>> {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
        let rows = |v: &[f64], count: usize| -> Vec<Vec<u64>> {
            (0..count)
                .map(|r| bits(&v[r * self.stride..r * self.stride + self.n_pad]))
                .collect()
        };
        let nn = self.num_dims.len();
        let mut out = vec![
            vec![self.n_comp as u64, self.n_pad as u64],
            bits(&self.cum_w),
            bits(&self.log_w[..self.n_pad]),
        ];
        out.extend(rows(&self.mu, nn));
        out.extend(rows(&self.sigma, nn));
        out.extend(rows(&self.inv_sigma, nn));
        for g in &self.disc_groups {
            let params = g.params.iter().flat_map(|&(a, b, c, e)| [a, b, c, e]);
            out.push(params.map(f64::to_bits).collect());
            out.push(
                g.of_comp[..self.n_pad]
                    .iter()
                    .map(|&k| u64::from(k))
                    .collect(),
            );
        }
        for (jc, ck) in self.cat_kernels.iter().enumerate() {
            out.push(vec![ck.k, ck.log_own.to_bits(), ck.log_other.to_bits()]);
            let row = &self.choice[jc * self.stride..jc * self.stride + self.n_pad];
            out.push(row.iter().map(|&c| u64::from(c)).collect());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::Dim;

    fn fit(space: &Space, obs: &[f64], options: &TpeOptions) -> (Parzen, Vec<Coord>) {
        let coords: Vec<Coord> = space.dims().iter().map(Coord::of).collect();
        let m = obs.len() / space.len();
        let w: Vec<f64> = (0..m).map(|i| 1.0 + i as f64).collect();
        (Parzen::new(space, &coords, obs, &w, None, options), coords)
    }

    /// `ln p(u)` summed component by component from the fitted means and widths, with the
    /// general-purpose tail functions: no tables, groups, blocks or skipped terms.
    fn naive_log_density(p: &Parzen, space: &Space, coords: &[Coord], u: &[f64], w: &[f64]) -> f64 {
        use crate::tpe::truncnorm::log_mass;
        let total: f64 = w.iter().sum::<f64>() + 1.0;
        let mut terms = Vec::new();
        for k in 0..p.n_comp {
            let wk = if k + 1 == p.n_comp { 1.0 } else { w[k] };
            let mut t = (wk / total).ln();
            for (jn, &(j, discrete)) in p.num_dims.iter().enumerate() {
                let (m, s) = (p.mu[jn * p.stride + k], p.sigma[jn * p.stride + k]);
                let lz = log_mass(-m / s, (1.0 - m) / s);
                let (lo, hi) = coords[j].cell(&space.dims()[j], u[j]);
                t += if discrete {
                    log_mass((lo - m) / s, (hi - m) / s) - lz
                } else {
                    let z = (u[j] - m) / s;
                    -0.5 * z * z - s.ln() - HALF_LN_TAU - lz
                };
            }
            for (jc, &j) in p.cat_dims.iter().enumerate() {
                let ck = p.cat_kernels[jc];
                let own = u64::from(p.choice[jc * p.stride + k]);
                t += if own == ck.k {
                    -(ck.k as f64).ln()
                } else if own == choice_of(u[j], ck.k) {
                    ck.log_own
                } else {
                    ck.log_other
                };
            }
            terms.push(t);
        }
        let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
    }

    #[test]
    fn blocked_density_matches_component_sum() {
        // Enough components for several blocks, every kind of dimension, and kernels both
        // narrow (many observations) and wide.
        let space = Space::new(vec![
            Dim::float(-5.0, 5.0, false).unwrap(),
            Dim::float(1e-5, 1.0, true).unwrap(),
            Dim::int(1, 64, false, 1).unwrap(),
            Dim::int(1, 4096, true, 1).unwrap(),
            Dim::float_step(0.0, 1.0, 0.05).unwrap(),
            Dim::categorical(4).unwrap(),
        ])
        .unwrap();
        let coords: Vec<Coord> = space.dims().iter().map(Coord::of).collect();
        let d = space.len();
        let mut rng = Rng::new(3);
        for m in [3, 40, 1000] {
            let mut obs: Vec<f64> = (0..m * d).map(|_| rng.uniform()).collect();
            for row in obs.chunks_exact_mut(d) {
                space.snap_row(row);
            }
            let w: Vec<f64> = (0..m).map(|i| 0.5 + (i % 7) as f64 / 7.0).collect();
            let p = Parzen::new(&space, &coords, &obs, &w, None, &TpeOptions::default());
            // Candidates drawn from the mixture itself and uniformly, 27 of them (not a
            // multiple of the candidate group).
            let mut cands = vec![0.0; 27 * d];
            for (r, row) in cands.chunks_exact_mut(d).enumerate() {
                if r % 2 == 0 {
                    p.sample(&mut rng, row);
                } else {
                    for v in row.iter_mut() {
                        *v = rng.uniform();
                    }
                }
                space.snap_row(row);
            }
            let mut fast = vec![0.0; 27];
            p.log_density(&space, &coords, &cands, &mut fast);
            let mut baseline = vec![0.0; 27];
            log_density_impl(&p, &space, &coords, &cands, &mut baseline);
            for (r, row) in cands.chunks_exact(d).enumerate() {
                let want = naive_log_density(&p, &space, &coords, row, &w);
                assert!(
                    (fast[r] - want).abs() < 1e-6 * want.abs().max(1.0),
                    "m = {m}, candidate {r}: {} vs {want}",
                    fast[r]
                );
                // The AVX2 build and the baseline build give the same bits.
                assert_eq!(
                    fast[r].to_bits(),
                    baseline[r].to_bits(),
                    "m = {m}, candidate {r}"
                );
            }
        }
    }

    #[test]
    fn continuous_density_integrates_to_one() {
        let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap()]).unwrap();
        for bandwidth in [Bandwidth::Scott, Bandwidth::Neighbours] {
            let options = TpeOptions {
                bandwidth,
                magic_clip: false,
                min_bandwidth: 0.01,
                ..TpeOptions::default()
            };
            let obs = [0.0, 0.02, 0.3, 0.31, 0.97, 1.0];
            let (p, coords) = fit(&space, &obs, &options);
            // Midpoint rule on a fine grid; kernels are no narrower than 0.01.
            let n = 200_000;
            let grid: Vec<f64> = (0..n)
                .map(|i| (f64::from(i) + 0.5) / f64::from(n))
                .collect();
            let mut out = vec![0.0; grid.len()];
            p.log_density(&space, &coords, &grid, &mut out);
            let integral: f64 = out.iter().map(|l| l.exp()).sum::<f64>() / f64::from(n);
            assert!((integral - 1.0).abs() < 1e-6, "{bandwidth:?}: {integral}");
        }
    }

    #[test]
    fn discrete_cells_sum_to_one() {
        for dim in [
            Dim::int(0, 9, false, 1).unwrap(),
            Dim::int(1, 300, true, 1).unwrap(),
            Dim::int(1, 4096, true, 1).unwrap(),
            Dim::float_step(0.0, 1.0, 0.125).unwrap(),
            Dim::categorical(5).unwrap(),
        ] {
            let space = Space::new(vec![dim.clone()]).unwrap();
            let mut obs = vec![0.05, 0.5, 0.93, 0.5];
            for u in &mut obs {
                space.snap_row(std::slice::from_mut(u));
            }
            let (p, coords) = fit(&space, &obs, &TpeOptions::default());
            let (lo, hi) = (dim.low() as i64, dim.high() as i64);
            let step = if dim.kind() == Kind::Categorical {
                1.0
            } else {
                dim.step()
            };
            let count = ((hi - lo) as f64 / step).round() as u32 + 1;
            let levels: Vec<f64> = (0..count)
                .map(|i| dim.encode(lo as f64 + f64::from(i) * step))
                .collect();
            let mut out = vec![0.0; levels.len()];
            p.log_density(&space, &coords, &levels, &mut out);
            let total: f64 = out.iter().map(|l| l.exp()).sum();
            assert!((total - 1.0).abs() < 1e-7, "{dim:?}: {total}");
        }
    }

    #[test]
    fn neighbour_rule_breaks_ties_by_trial_order() {
        // Three trials share 0.5 (a lattice cell): the oldest takes the gap below, the newest the
        // gap above, the one between none (the floor applies later). Changing this changes how
        // TPE escapes a wrong categorical; see `neighbour_sigmas_sorted`.
        let mut out = [0.0; 5];
        neighbour_sigmas(&[0.5, 0.2, 0.5, 0.5, 0.8], false, &mut out);
        let want = [0.3, 0.3, 0.0, 0.3, 0.3];
        for (a, b) in out.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{out:?}");
        }
    }

    #[test]
    fn neighbour_rule_matches_optuna() {
        let mut out = [0.0; 4];
        neighbour_sigmas(&[0.1, 0.5, 0.2, 0.9], false, &mut out);
        // Sorted 0.1, 0.2, 0.5, 0.9; ends use their inner gap only.
        let want = [0.1, 0.4, 0.3, 0.4];
        for (a, b) in out.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{out:?}");
        }
        // With the endpoints 0 and 1 as neighbours the outer kernels widen to reach them.
        let mut two = [0.0; 2];
        neighbour_sigmas(&[0.3, 0.35], true, &mut two);
        assert!(
            (two[0] - 0.3).abs() < 1e-12 && (two[1] - 0.65).abs() < 1e-12,
            "{two:?}"
        );
        neighbour_sigmas(&[0.3, 0.35], false, &mut two);
        assert!(
            (two[0] - 0.05).abs() < 1e-12 && (two[1] - 0.05).abs() < 1e-12,
            "{two:?}"
        );
    }
}
