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
//! (`[j * n_comp + k]`) so the inner loop over components is contiguous and vectorises.

use super::sort::argsort;
use super::truncnorm::{
    HALF_LN_TAU, LOG_FLOOR, exp_nonpositive, log_mass_fast, log_unit_mass, sample_unit, unit_mass,
};
use super::{Bandwidth, TpeOptions};
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

const PRIOR_CHOICE: u64 = u64::MAX;
/// Cells narrower than this many kernel widths get their mass from the midpoint density.
const NARROW_CELL: f64 = 0.1;

/// Log-probabilities of one categorical dimension's kernels.
#[derive(Debug, Clone, Copy)]
struct CatKernel {
    k: u64,
    log_own: f64,
    log_other: f64,
    /// `pi_own - pi_other`: the chance, when sampling, of taking the own choice outright.
    own_extra: f64,
}

/// A fitted mixture, ready to be sampled and evaluated.
#[derive(Debug, Clone)]
pub(crate) struct Parzen {
    n_comp: usize,
    /// Cumulative mixture weights, for picking a component.
    cum_w: Vec<f64>,
    /// `ln pi_k` plus, over continuous dims, `-ln sigma_kj - ln Z_kj - ln(2 pi)/2`.
    log_w: Vec<f64>,
    /// Numeric dims: (dimension index, true when discrete).
    num_dims: Vec<(usize, bool)>,
    mu: Vec<f64>,
    sigma: Vec<f64>,
    inv_sigma: Vec<f64>,
    /// Per discrete numeric dim (in `num_dims` order), its distinct kernels: cell masses are
    /// computed once per distinct `(mu, sigma)`. Observations share a cell centre often, and
    /// under the Scott rule there are at most `K + 1` distinct kernels on a `K`-level lattice.
    disc_groups: Vec<KernelGroups>,
    cat_dims: Vec<usize>,
    cat_kernels: Vec<CatKernel>,
    /// Observed choice per categorical dim and component (`PRIOR_CHOICE` for the prior).
    choice: Vec<u64>,
}

/// The distinct kernels of one dimension, and which one each component uses.
#[derive(Debug, Clone)]
struct KernelGroups {
    /// `(mu, sigma, ln Z, ln sigma)`.
    params: Vec<(f64, f64, f64, f64)>,
    of_comp: Vec<u32>,
}

impl KernelGroups {
    fn new(mu: &[f64], sigma: &[f64], log_z: &[f64]) -> Self {
        let mut order: Vec<usize> = (0..mu.len()).collect();
        let key = |k: usize| (mu[k].to_bits(), sigma[k].to_bits());
        order.sort_unstable_by_key(|&k| key(k));
        let mut params = Vec::new();
        let mut of_comp = vec![0u32; mu.len()];
        let mut last = None;
        for &k in &order {
            if last != Some(key(k)) {
                params.push((mu[k], sigma[k], log_z[k], sigma[k].ln()));
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
    let mut ext = Vec::with_capacity(m + 2);
    ext.push(0.0);
    ext.extend(order.iter().map(|&i| mus[i]));
    ext.push(1.0);
    let mut sorted: Vec<f64> = (1..=m)
        .map(|i| (ext[i] - ext[i - 1]).max(ext[i + 1] - ext[i]))
        .collect();
    if !consider_endpoints && m >= 2 {
        sorted[0] = ext[2] - ext[1];
        sorted[m - 1] = ext[m] - ext[m - 1];
    }
    for (rank, &i) in order.iter().enumerate() {
        out[i] = sorted[rank];
    }
}

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
        let (mut mu, mut sigma, mut inv_sigma, mut log_w, mut cum_w) = old
            .map(|p| (p.mu, p.sigma, p.inv_sigma, p.log_w, p.cum_w))
            .unwrap_or_default();
        let d = space.len();
        let m = weights.len();
        debug_assert_eq!(obs.len(), m * d);
        let n_comp = m + 1;
        let pw = options.prior_weight;
        let total = weights.iter().sum::<f64>() + pw;
        log_w.clear();
        log_w.extend(
            weights
                .iter()
                .chain(std::iter::once(&pw))
                .map(|w| (w / total).ln().max(LOG_FLOOR)),
        );
        cum_w.clear();
        let mut acc = 0.0;
        for w in weights.iter().chain(std::iter::once(&pw)) {
            acc += w / total;
            cum_w.push(acc);
        }

        let mut min_sigma = options.min_bandwidth;
        if options.magic_clip {
            min_sigma = min_sigma.max(1.0 / (1.0 + n_comp as f64).min(100.0));
        }
        let min_sigma = min_sigma.min(1.0);

        let mut num_dims = Vec::new();
        let mut cat_dims = Vec::new();
        for (j, c) in coords.iter().enumerate() {
            match c {
                Coord::Continuous => num_dims.push((j, false)),
                Coord::Lattice(_) | Coord::LogInt => num_dims.push((j, true)),
                Coord::Categorical(_) => cat_dims.push(j),
            }
        }
        let nn = num_dims.len();
        mu.clear();
        mu.resize(nn * n_comp, 0.0);
        sigma.clear();
        sigma.resize(nn * n_comp, 0.0);
        let scott = scott_sigma(m, d);
        let mut col = vec![0.0; m];
        for (jn, &(j, _)) in num_dims.iter().enumerate() {
            let mus = &mut mu[jn * n_comp..(jn + 1) * n_comp];
            let sig = &mut sigma[jn * n_comp..(jn + 1) * n_comp];
            for k in 0..m {
                mus[k] = obs[k * d + j];
            }
            mus[m] = 0.5;
            match options.bandwidth {
                Bandwidth::Scott => sig[..m].fill(scott),
                Bandwidth::Neighbours => {
                    col.copy_from_slice(&mus[..m]);
                    let endpoints = options.consider_endpoints;
                    match sorted {
                        Some(orders) => {
                            neighbour_sigmas_sorted(&col, &orders[j], endpoints, &mut sig[..m]);
                        }
                        None => neighbour_sigmas(&col, endpoints, &mut sig[..m]),
                    }
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
        // Over continuous dims, ln prod_j (sigma_kj Z_kj) as one logarithm per component; the
        // product is folded into the log whenever it nears underflow.
        let mut prod = vec![1.0; n_comp];
        let mut n_continuous = 0.0;
        let mut disc_groups = Vec::new();
        for (jn, &(_, discrete)) in num_dims.iter().enumerate() {
            let r = jn * n_comp..(jn + 1) * n_comp;
            let (mu_j, sigma_j) = (&mu[r.clone()], &sigma[r]);
            if discrete {
                let log_z: Vec<f64> = mu_j
                    .iter()
                    .zip(sigma_j)
                    .map(|(&m, &s)| log_unit_mass(m, s))
                    .collect();
                disc_groups.push(KernelGroups::new(mu_j, sigma_j, &log_z));
                continue;
            }
            n_continuous += 1.0;
            for k in 0..n_comp {
                prod[k] *= sigma_j[k] * unit_mass(mu_j[k], sigma_j[k]);
                if prod[k] < 1e-250 {
                    log_w[k] -= prod[k].ln();
                    prod[k] = 1.0;
                }
            }
        }
        for (lw, p) in log_w.iter_mut().zip(&prod) {
            *lw -= p.ln() + n_continuous * HALF_LN_TAU;
        }

        let mut cat_kernels = Vec::with_capacity(cat_dims.len());
        let mut choice = vec![PRIOR_CHOICE; cat_dims.len() * n_comp];
        for (jc, &j) in cat_dims.iter().enumerate() {
            let Coord::Categorical(k) = coords[j] else {
                continue;
            };
            let spread = pw / n_comp as f64;
            let norm = 1.0 + k as f64 * spread;
            let own = (1.0 + spread) / norm;
            let other = spread / norm;
            cat_kernels.push(CatKernel {
                k,
                log_own: own.ln(),
                log_other: other.ln(),
                own_extra: own - other,
            });
            for kk in 0..m {
                choice[jc * n_comp + kk] = choice_of(obs[kk * d + j], k);
            }
        }

        Self {
            n_comp,
            cum_w,
            log_w,
            num_dims,
            mu,
            sigma,
            inv_sigma,
            disc_groups,
            cat_dims,
            cat_kernels,
            choice,
        }
    }

    /// Draw one point (not yet snapped) into `out` (length `d`).
    pub(crate) fn sample(&self, rng: &mut Rng, out: &mut [f64]) {
        let u = rng.uniform();
        let k = self.cum_w.partition_point(|&c| c <= u).min(self.n_comp - 1);
        for (jn, &(j, _)) in self.num_dims.iter().enumerate() {
            let i = jn * self.n_comp + k;
            out[j] = sample_unit(rng, self.mu[i], self.sigma[i]);
        }
        for (jc, &j) in self.cat_dims.iter().enumerate() {
            let ck = self.cat_kernels[jc];
            let own = self.choice[jc * self.n_comp + k];
            let c = if own != PRIOR_CHOICE && rng.uniform() < ck.own_extra {
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
        let d = space.len();
        let nc = self.n_comp;
        let n = out.len();
        debug_assert_eq!(cands.len(), n * d);

        // Per discrete or categorical dim, one row of log-kernel values per distinct cell among
        // the candidates: candidates cluster, so this needs far fewer tail evaluations than one
        // per (candidate, component).
        let mut disc_tables: Vec<(Vec<f64>, Vec<usize>)> = Vec::new();
        let disc_dims = self.num_dims.iter().filter(|(_, discrete)| *discrete);
        for (&(j, _), groups) in disc_dims.zip(&self.disc_groups) {
            let dim = &space.dims()[j];
            let mut keys: Vec<(f64, f64)> = Vec::new();
            let mut which = Vec::with_capacity(n);
            for r in 0..n {
                let cell = coords[j].cell(dim, cands[r * d + j]);
                let pos = keys.iter().position(|&c| c == cell).unwrap_or_else(|| {
                    keys.push(cell);
                    keys.len() - 1
                });
                which.push(pos);
            }
            let np = groups.params.len();
            let mut table = vec![0.0; keys.len() * np];
            for (q, &(lo, hi)) in keys.iter().enumerate() {
                let (w, mid) = (hi - lo, 0.5 * (lo + hi));
                let ln_w = w.ln();
                let row = &mut table[q * np..(q + 1) * np];
                for (t, &(m, s, lz, ln_s)) in row.iter_mut().zip(&groups.params) {
                    let wz = w / s;
                    let z = (mid - m) / s;
                    let v = if wz < NARROW_CELL && wz * z.abs() < 1.0 {
                        // Mass = w phi(z) (1 + eps) in z units, with
                        // eps = w^2 (z^2 - 1) / 24 + w^4 (z^4 - 6 z^2 + 3) / 1920 + O((w z)^6 / 3e5),
                        // so under 4e-6 relative here; ln(1 + eps) by its series (|eps| < 0.05).
                        // Saves two tail evaluations per kernel on fine grids (log ints).
                        let (w2, z2) = (wz * wz, z * z);
                        let eps =
                            w2 * (z2 - 1.0) / 24.0 + w2 * w2 * (z2 * z2 - 6.0 * z2 + 3.0) / 1920.0;
                        let ln1p = eps * (1.0 - eps * (0.5 - eps * (1.0 / 3.0 - 0.25 * eps)));
                        ln_w - ln_s - HALF_LN_TAU - 0.5 * z2 + ln1p
                    } else {
                        log_mass_fast((lo - m) / s, (hi - m) / s)
                    };
                    *t = v.max(LOG_FLOOR) - lz;
                }
            }
            disc_tables.push((table, which));
        }
        let mut tables: Vec<(Vec<f64>, Vec<usize>)> = Vec::new();
        for (jc, &j) in self.cat_dims.iter().enumerate() {
            let ck = self.cat_kernels[jc];
            let log_uniform = -(ck.k as f64).ln();
            let mut keys: Vec<u64> = Vec::new();
            let mut which = Vec::with_capacity(n);
            for r in 0..n {
                let c = choice_of(cands[r * d + j], ck.k);
                let pos = keys.iter().position(|&x| x == c).unwrap_or_else(|| {
                    keys.push(c);
                    keys.len() - 1
                });
                which.push(pos);
            }
            let mut table = vec![0.0; keys.len() * nc];
            let choices = &self.choice[jc * nc..(jc + 1) * nc];
            for (q, &c) in keys.iter().enumerate() {
                for (t, &own) in table[q * nc..(q + 1) * nc].iter_mut().zip(choices) {
                    *t = if own == PRIOR_CHOICE {
                        log_uniform
                    } else if own == c {
                        ck.log_own
                    } else {
                        ck.log_other
                    };
                }
            }
            tables.push((table, which));
        }

        // Components go in blocks small enough that a block's means, widths and scores stay in
        // the L1 cache while every candidate passes over them; a running (max, sum) per
        // candidate merges the blocks' log-sum-exps.
        let mut run_max = vec![f64::NEG_INFINITY; n];
        let mut run_sum = vec![0.0; n];
        let mut s = vec![0.0; BLOCK.min(nc)];
        for k0 in (0..nc).step_by(BLOCK) {
            let k1 = (k0 + BLOCK).min(nc);
            let s = &mut s[..k1 - k0];
            for r in 0..n {
                let row = &cands[r * d..(r + 1) * d];
                s.copy_from_slice(&self.log_w[k0..k1]);
                for (jn, &(j, discrete)) in self.num_dims.iter().enumerate() {
                    if discrete {
                        continue;
                    }
                    let x = row[j];
                    let mu = &self.mu[jn * nc + k0..jn * nc + k1];
                    let is = &self.inv_sigma[jn * nc + k0..jn * nc + k1];
                    for ((sk, &m), &i) in s.iter_mut().zip(mu).zip(is) {
                        let z = (x - m) * i;
                        *sk -= z * z;
                    }
                }
                for ((table, which), groups) in disc_tables.iter().zip(&self.disc_groups) {
                    let np = groups.params.len();
                    let trow = &table[which[r] * np..(which[r] + 1) * np];
                    for (sk, &p) in s.iter_mut().zip(&groups.of_comp[k0..k1]) {
                        *sk += trow[p as usize];
                    }
                }
                for (table, which) in &tables {
                    let q = which[r] * nc;
                    for (sk, &t) in s.iter_mut().zip(&table[q + k0..q + k1]) {
                        *sk += t;
                    }
                }
                let (m, sum) = max_and_sum_exp(s);
                if m > run_max[r] {
                    run_sum[r] = run_sum[r] * exp_nonpositive(run_max[r] - m) + sum;
                    run_max[r] = m;
                } else {
                    run_sum[r] += sum * exp_nonpositive(m - run_max[r]);
                }
            }
        }
        for ((o, &m), &sum) in out.iter_mut().zip(&run_max).zip(&run_sum) {
            *o = if m.is_finite() {
                m + sum.ln()
            } else {
                LOG_FLOOR
            };
        }
    }
}

/// Components per block of [`Parzen::log_density`]: 3 KiB of each array per block.
const BLOCK: usize = 384;

/// `(max_k s_k, sum_k exp(s_k - max))`.
fn max_and_sum_exp(s: &[f64]) -> (f64, f64) {
    let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return (f64::NEG_INFINITY, 0.0);
    }
    // Terms more than 40 nats below the largest add under 1e-17 relative. With narrow kernels
    // (many observations) nearly all are that far, so the branch is predictable and skips most
    // of the work; four running sums avoid one serial chain of dependent additions.
    let mut acc = [0.0; 4];
    let chunks = s.chunks_exact(4);
    let mut tail = 0.0;
    for &v in chunks.remainder() {
        tail += exp_nonpositive(v - max);
    }
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            let t = v - max;
            if t > -40.0 {
                *a += exp_nonpositive(t);
            }
        }
    }
    (max, (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail)
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
