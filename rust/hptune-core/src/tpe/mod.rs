//! Multivariate Tree-structured Parzen Estimator (TPE).
//!
//! Notation: `n` completed trials with unit points `x_i` in `[0, 1]^d` (row-major `n x d`) and
//! values `y_i` to minimise; `m` pending points to avoid. The `n_good = gamma(n)` trials with the
//! smallest `y` fit the "good" density `l`, the rest plus the pending points (a constant liar:
//! running trials count as bad) fit the "bad" density `g` ([`parzen`] describes the mixtures).
//! Candidates are drawn jointly from `l` (pick one component, sample every dimension from it) and
//! the one maximising `ln l(u) - ln g(u)` is suggested, which is the expected-improvement optimum
//! of Bergstra et al. (2011). Log dimensions are already log-transformed in the unit cube.
//!
//! Cost of one suggestion: sorting by `y` and (neighbour bandwidths) by each coordinate,
//! `O(n log n)` per order, or `O(n)` per new trial when a [`TpeState`] carries the orders from the
//! previous call; `O(n d)` to fit `g` afresh, or, with a state and nothing pending, `O(d log n)`
//! per trial that joined or left the bad group plus `O(n)` for the weights; `O(n_candidates n d)`
//! multiply-adds and at most `n_candidates n` `exp` calls to score. Discrete dims cost one tail
//! evaluation per distinct (cell among the candidates, kernel) pair, categorical ones a
//! comparison.

mod parzen;
mod sort;
pub mod truncnorm;

use parzen::{Coord, Parzen};

use crate::error::{Result, invalid};
use crate::rng::Rng;
use crate::space::{Kind, Space};

/// Stream purpose for [`Rng::derive`], so TPE draws never coincide with another sampler's.
const PURPOSE: u64 = 0x7470_655f_7375_6767; // "tpe_sugg"
/// Extra rounds of candidates tried when every candidate repeats a point already taken.
const RETRY_ROUNDS: usize = 8;

/// How many of the `n` completed trials are "good": `min(ceil(fraction * n), max_good)`, and
/// at least one when `n > 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gamma {
    /// Fraction of trials counted as good; in `(0, 1]`.
    pub fraction: f64,
    /// Cap on the good count (Optuna's 25 keeps `l` sharp once there are many trials).
    pub max_good: usize,
}

impl Default for Gamma {
    fn default() -> Self {
        Self {
            fraction: 0.1,
            max_good: 25,
        }
    }
}

impl Gamma {
    /// The good count for `n` completed trials.
    #[must_use]
    pub fn n_good(&self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let g = (self.fraction * n as f64).ceil() as usize;
        g.clamp(1, self.max_good.max(1)).min(n)
    }
}

/// Kernel bandwidth rule for numeric dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bandwidth {
    /// Per kernel and dimension, the distance to the farther neighbouring observation along that
    /// dimension (see [`TpeOptions::consider_endpoints`]): what Optuna 4-5 use for univariate and
    /// multivariate TPE alike. Adapts to local density, so kernels are narrow where good points
    /// cluster. The default: clearly ahead of `Scott` on every benchmark we ran.
    Neighbours,
    /// `0.2 m^(-1/(d+4))` in the unit cube for all `m` kernels of a mixture, a Scott-like rule
    /// that shrinks with the number of observations and the dimension (older Optuna's
    /// multivariate rule). Smoother and a little cheaper to fit.
    Scott,
}

/// Settings of [`suggest`]. The defaults follow Optuna 5's `TPESampler(multivariate=True)`.
#[derive(Debug, Clone, PartialEq)]
pub struct TpeOptions {
    /// Candidates drawn from `l` per suggestion (default 24).
    pub n_candidates: usize,
    /// Below this many completed trials, suggestions are uniform random (default 10).
    pub n_startup_trials: usize,
    /// Good/bad split (default `min(ceil(0.1 n), 25)`).
    pub gamma: Gamma,
    /// Weight of the prior component, in units of one observation (default 1).
    pub prior_weight: f64,
    /// Bandwidth rule (default [`Bandwidth::Neighbours`]).
    pub bandwidth: Bandwidth,
    /// Floor bandwidths at `1 / min(100, 1 + n_kernels)` (Optuna's "magic clip", default true):
    /// with few observations it keeps `l` from collapsing onto them.
    pub magic_clip: bool,
    /// Absolute floor on every bandwidth, in unit-cube units (default 1e-3; binds only when
    /// `magic_clip` is off, since the clip itself never goes below 0.01).
    pub min_bandwidth: f64,
    /// With [`Bandwidth::Neighbours`], count the bounds 0 and 1 as neighbours of the outermost
    /// observations (default false, as in Optuna; true widens edge kernels and measured worse).
    /// No effect with [`Bandwidth::Scott`].
    pub consider_endpoints: bool,
    /// Down-weight old trials linearly once a group has 25 or more (Optuna's `default_weights`:
    /// the newest 25 weigh 1, older ones ramp down to `1/n`). Default true. Only the bad group is
    /// ever that large under the default gamma; as the search narrows, old bad points describe
    /// regions already left and their weight mostly blurs `g`, so recent ones count more.
    pub recency_weights: bool,
}

impl Default for TpeOptions {
    fn default() -> Self {
        Self {
            n_candidates: 24,
            n_startup_trials: 10,
            gamma: Gamma::default(),
            prior_weight: 1.0,
            bandwidth: Bandwidth::Neighbours,
            magic_clip: true,
            min_bandwidth: 1e-3,
            consider_endpoints: false,
            recency_weights: true,
        }
    }
}

impl TpeOptions {
    fn validate(&self) -> Result<()> {
        if self.n_candidates == 0 {
            return invalid("n_candidates must be at least 1");
        }
        if !(self.gamma.fraction > 0.0 && self.gamma.fraction <= 1.0) {
            return invalid(format!(
                "gamma fraction must lie in (0, 1], got {}",
                self.gamma.fraction
            ));
        }
        if self.gamma.max_good == 0 {
            return invalid("gamma max_good must be at least 1");
        }
        if !(self.prior_weight.is_finite() && self.prior_weight > 0.0) {
            return invalid(format!(
                "prior_weight must be positive and finite, got {}",
                self.prior_weight
            ));
        }
        if !(self.min_bandwidth.is_finite()
            && self.min_bandwidth > 0.0
            && self.min_bandwidth <= 1.0)
        {
            return invalid(format!(
                "min_bandwidth must lie in (0, 1], got {}",
                self.min_bandwidth
            ));
        }
        Ok(())
    }
}

/// Optuna's `default_weights` for a group of `n` in trial order (oldest first).
fn recency_weights(n: usize, on: bool, out: &mut Vec<f64>) {
    out.clear();
    if !on || n < 25 {
        out.resize(n, 1.0);
        return;
    }
    let ramp = n - 25;
    // linspace(1/n, 1, ramp) followed by 25 ones.
    for i in 0..ramp {
        let t = if ramp == 1 {
            0.0
        } else {
            i as f64 / (ramp - 1) as f64
        };
        out.push(1.0 / n as f64 + t * (1.0 - 1.0 / n as f64));
    }
    out.resize(n, 1.0);
}

fn check_unit_rows(name: &str, rows: &[f64], d: usize) -> Result<()> {
    if rows.len() % d != 0 {
        return invalid(format!(
            "{name} must hold rows of {d} values (row-major), got {} values",
            rows.len()
        ));
    }
    if let Some(i) = rows.iter().position(|v| !(0.0..=1.0).contains(v)) {
        return invalid(format!(
            "{name} must lie in the unit cube [0, 1]; row {} column {} is {}",
            i / d,
            i % d,
            rows[i]
        ));
    }
    Ok(())
}

/// Snap to valid cells and turn `-0.0` into `0.0`, so that bitwise comparisons and sorts by bit
/// pattern agree with numeric order.
fn canonical_row(space: &Space, row: &mut [f64]) {
    space.snap_row(row);
    for v in row.iter_mut() {
        if *v == 0.0 {
            *v = 0.0;
        }
    }
}

fn same_row(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn is_taken(row: &[f64], taken: &[f64], d: usize) -> bool {
    taken.chunks_exact(d).any(|t| same_row(row, t))
}

/// A uniform random valid point, redrawn up to 64 times while it repeats a taken one (a small
/// finite space may have no untaken point left; then the last draw is returned).
fn random_untaken(space: &Space, rng: &mut Rng, taken: &[f64]) -> Vec<f64> {
    let d = space.len();
    let mut row = vec![0.0; d];
    for _ in 0..64 {
        for u in &mut row {
            *u = rng.uniform();
        }
        space.snap_row(&mut row);
        if !is_taken(&row, taken, d) {
            break;
        }
    }
    row
}

/// Sorted orders of a growing history, kept between calls of [`suggest_with_state`].
///
/// Each suggestion needs the completed trials ordered by `y` and, for the neighbour bandwidths,
/// by every coordinate. When the history only grows (each call's `x` and `y` extend the previous
/// call's), the state inserts the new trials into the orders it has (`O(n)` per trial) instead
/// of sorting from scratch (`O(n log n)` per dimension). It also keeps the bad mixture, whose
/// kernels only change next to trials that joined or left the bad group (see
/// `parzen::masked`). Any other change of the inputs or of the space simply rebuilds it, so a
/// state can never give a different answer than a fresh one.
#[derive(Debug, Clone, Default)]
pub struct TpeState {
    space: Option<Space>,
    /// The raw `x` and `y` of the last call, to recognise an extension of them.
    x: Vec<f64>,
    y: Vec<f64>,
    /// Snapped `x` of those rows.
    snapped: Vec<f64>,
    y_order: Vec<usize>,
    /// Per dimension, row indices ascending by (snapped value, index).
    dim_order: Vec<Vec<usize>>,
    /// Buffers of the last call, reused to spare the allocator (see `Parzen::new_reusing`).
    bad_x: Vec<f64>,
    bad_fit: Option<Parzen>,
    /// The bad mixture over all trials, updated call by call (see `Parzen::update_masked`).
    masked: Option<Parzen>,
    /// Buffers of the last copy of it extended by pending rows (`Parzen::with_extras`).
    extended: Option<Parzen>,
}

impl TpeState {
    /// An empty state.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Bring the orders up to date with a validated history; per-dimension orders only when
    /// `need_dims` (the neighbour rule), and only numeric dimensions have them.
    fn update(&mut self, space: &Space, x: &[f64], y: &[f64], need_dims: bool) {
        let d = space.len();
        let n = y.len();
        let n_old = self.y.len();
        let extends = self.space.as_ref() == Some(space)
            && n >= n_old
            && same_row(&self.y, &y[..n_old])
            && same_row(&self.x, &x[..n_old * d]);
        let kept = if extends { n_old } else { 0 };
        if kept < n_old {
            // The masked mixture holds kernels of rows that changed.
            self.masked = None;
        }
        self.x.truncate(kept * d);
        self.x.extend_from_slice(&x[kept * d..]);
        self.y.truncate(kept);
        self.y.extend_from_slice(&y[kept..]);
        self.snapped.truncate(kept * d);
        self.snapped.extend_from_slice(&x[kept * d..]);
        for row in self.snapped[kept * d..].chunks_exact_mut(d) {
            canonical_row(space, row);
        }
        self.space = Some(space.clone());
        let numeric = |j: usize| space.dims()[j].kind() != Kind::Categorical;
        let have_dims = self.dim_order.len() == d;
        // Inserting costs O(n) per new row, sorting O(n log n): insert only a few.
        if kept == 0 || n - kept > kept / 8 + 1 || (need_dims && !have_dims) {
            self.y_order = sort::argsort(y);
            self.dim_order.clear();
            if need_dims {
                for j in 0..d {
                    let order = if numeric(j) {
                        let col: Vec<f64> = (0..n).map(|i| self.snapped[i * d + j]).collect();
                        sort::argsort(&col)
                    } else {
                        Vec::new()
                    };
                    self.dim_order.push(order);
                }
            }
            return;
        }
        for i in kept..n {
            let v = y[i];
            let pos = self
                .y_order
                .partition_point(|&k| y[k].total_cmp(&v).is_le());
            self.y_order.insert(pos, i);
            if self.dim_order.len() != d {
                continue;
            }
            for (j, order) in self.dim_order.iter_mut().enumerate() {
                if !numeric(j) {
                    continue;
                }
                let v = self.snapped[i * d + j];
                let snapped = &self.snapped;
                let pos = order.partition_point(|&k| snapped[k * d + j].total_cmp(&v).is_le());
                order.insert(pos, i);
            }
        }
    }
}

/// For every dimension, the rows of a group (`members` in trial order, then `extra` rows) in
/// ascending (value, row) order, given the history's orders.
fn group_orders(
    space: &Space,
    state: &TpeState,
    local: &[usize],
    group_x: &[f64],
    n_members: usize,
    d: usize,
) -> Vec<Vec<usize>> {
    let n_rows = group_x.len() / d;
    (0..d)
        .map(|j| {
            if space.dims()[j].kind() == Kind::Categorical {
                // The neighbour rule never reads it.
                return Vec::new();
            }
            let mut order: Vec<usize> = state.dim_order[j]
                .iter()
                .map(|&i| local[i])
                .filter(|&r| r != usize::MAX)
                .collect();
            for r in n_members..n_rows {
                let v = group_x[r * d + j];
                let pos = order.partition_point(|&k| group_x[k * d + j].total_cmp(&v).is_le());
                order.insert(pos, r);
            }
            order
        })
        .collect()
}

/// Suggest `n_suggest` distinct unit points (row-major `n_suggest x d`, snapped to valid cells).
///
/// `x` holds the unit points of COMPLETED trials (`n x d`, row-major), `y` their `n` values to
/// minimise (flip the sign to maximise), `pending` the unit points of trials still running
/// (`m x d`), which are avoided by counting them as bad observations; failed trials that should
/// not be retried can be passed there too. Points in a batch are fitted the same way one after
/// another, so the batch spreads out. Suggestions are distinct from each other and from `pending`
/// whenever the space has room (an exhausted finite space repeats points rather than fail).
///
/// The same inputs and `seed` always give the same output.
///
/// ```
/// use hptune_core::space::{Dim, Space};
/// use hptune_core::tpe::{TpeOptions, suggest};
///
/// let space = Space::new(vec![Dim::float(-5.0, 5.0, false)?, Dim::int(1, 8, false, 1)?])?;
/// let x = [0.1, 0.0625, 0.5, 0.4375, 0.9, 0.9375];
/// let y = [3.0, 1.0, 2.0];
/// let options = TpeOptions { n_startup_trials: 0, ..TpeOptions::default() };
/// let u = suggest(&space, &x, &y, &[], 2, 7, &options)?;
/// assert_eq!(u.len(), 4);
/// # Ok::<(), hptune_core::Error>(())
/// ```
pub fn suggest(
    space: &Space,
    x: &[f64],
    y: &[f64],
    pending: &[f64],
    n_suggest: usize,
    seed: u64,
    options: &TpeOptions,
) -> Result<Vec<f64>> {
    let mut state = TpeState::new();
    suggest_with_state(&mut state, space, x, y, pending, n_suggest, seed, options)
}

/// [`suggest`], reusing sorted orders from earlier calls on a growing history (see
/// [`TpeState`]). The output is exactly that of [`suggest`] on the same inputs.
pub fn suggest_with_state(
    state: &mut TpeState,
    space: &Space,
    x: &[f64],
    y: &[f64],
    pending: &[f64],
    n_suggest: usize,
    seed: u64,
    options: &TpeOptions,
) -> Result<Vec<f64>> {
    options.validate()?;
    let d = space.len();
    let n = y.len();
    if x.len() != n * d {
        return invalid(format!(
            "x must be {n} x {d} (one row per value of y), got {} values",
            x.len()
        ));
    }
    check_unit_rows("x", x, d)?;
    check_unit_rows("pending", pending, d)?;
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return invalid(format!("y must be finite; y[{i}] is {}", y[i]));
    }

    let mut rng = Rng::derive(seed, PURPOSE, 0);
    let mut out = Vec::with_capacity(n_suggest * d);
    // Points to keep away from: pending ones, then each suggestion of this batch.
    let mut taken = pending.to_vec();
    for row in taken.chunks_exact_mut(d) {
        canonical_row(space, row);
    }
    if n < options.n_startup_trials {
        for _ in 0..n_suggest {
            let row = random_untaken(space, &mut rng, &taken);
            out.extend_from_slice(&row);
            taken.extend_from_slice(&row);
        }
        return Ok(out);
    }

    let coords: Vec<Coord> = space.dims().iter().map(Coord::of).collect();
    let neighbours = options.bandwidth == Bandwidth::Neighbours;
    state.update(space, x, y, neighbours);

    let n_good = options.gamma.n_good(n);
    let mut is_good = vec![false; n];
    for &i in &state.y_order[..n_good] {
        is_good[i] = true;
    }
    // Each group in trial order, oldest first, for the recency weights.
    let good: Vec<usize> = (0..n).filter(|&i| is_good[i]).collect();
    let bad: Vec<usize> = (0..n).filter(|&i| !is_good[i]).collect();

    let mut weights = Vec::new();
    let mut good_x = Vec::with_capacity(good.len() * d);
    for &i in &good {
        good_x.extend_from_slice(&state.snapped[i * d..(i + 1) * d]);
    }
    recency_weights(good.len(), options.recency_weights, &mut weights);
    let l = Parzen::new(space, &coords, &good_x, &weights, None, options);

    let n_bad_done = bad.len();
    // With the neighbour rule, the study's bad mixture over the completed trials is updated
    // where the new trials changed it (see `parzen::masked`), and pending rows (and the points
    // already chosen in a batch) are added to a copy of it; otherwise, or when they change the
    // bandwidth floor, the bad group is fitted afresh.
    let base = neighbours.then(|| {
        recency_weights(n_bad_done, options.recency_weights, &mut weights);
        let is_bad: Vec<bool> = is_good.iter().map(|&g| !g).collect();
        Parzen::update_masked(
            state.masked.take(),
            space,
            &coords,
            &state.snapped,
            &state.dim_order,
            &is_bad,
            &weights,
            options,
        )
    });
    // The bad group as its own rows, and the row of each completed trial inside it (usize::MAX
    // when good): built only for a compact fit.
    let mut compact: Option<(Vec<f64>, Vec<usize>)> = None;

    let nc = options.n_candidates;
    let mut cands = vec![0.0; nc * d];
    let mut log_l = vec![0.0; nc];
    let mut log_g = vec![0.0; nc];
    let mut rank: Vec<usize> = Vec::with_capacity(nc);
    for _ in 0..n_suggest {
        let n_extra = taken.len() / d;
        if base.is_none() || n_extra > 0 {
            // The base mixture carries its own weights; a fit with extra rows needs theirs too.
            recency_weights(n_bad_done + n_extra, options.recency_weights, &mut weights);
        }
        // This suggestion's own fit of the bad group, unless the base mixture serves as it is.
        let mut own: Option<(Parzen, bool)> = None;
        if let Some(b) = base.as_ref().filter(|_| n_extra > 0) {
            let scratch = state.extended.take();
            let extended = b.with_extras(
                scratch,
                space,
                &coords,
                &state.snapped,
                &state.dim_order,
                &taken,
                &weights,
                options,
            );
            own = extended.map(|g| (g, true));
        }
        if own.is_none() && (base.is_none() || n_extra > 0) {
            let (bad_x, local) = compact.get_or_insert_with(|| {
                let mut bad_x = std::mem::take(&mut state.bad_x);
                bad_x.clear();
                let mut local = vec![usize::MAX; n];
                for (r, &i) in bad.iter().enumerate() {
                    bad_x.extend_from_slice(&state.snapped[i * d..(i + 1) * d]);
                    local[i] = r;
                }
                (bad_x, local)
            });
            bad_x.truncate(n_bad_done * d);
            bad_x.extend_from_slice(&taken);
            let orders =
                neighbours.then(|| group_orders(space, state, local, bad_x, n_bad_done, d));
            let fit = Parzen::new_reusing(
                state.bad_fit.take(),
                space,
                &coords,
                bad_x,
                &weights,
                orders.as_deref(),
                options,
            );
            own = Some((fit, false));
        }
        let Some(g) = own.as_ref().map(|(g, _)| g).or(base.as_ref()) else {
            unreachable!("the bad group is fitted above when there is no base")
        };

        let mut chosen = None;
        for _ in 0..RETRY_ROUNDS {
            for c in cands.chunks_exact_mut(d) {
                l.sample(&mut rng, c);
                canonical_row(space, c);
            }
            l.log_density(space, &coords, &cands, &mut log_l);
            g.log_density(space, &coords, &cands, &mut log_g);
            rank.clear();
            rank.extend(0..nc);
            let score = |i: usize| log_l[i] - log_g[i];
            rank.sort_by(|&a, &b| score(b).total_cmp(&score(a)).then(a.cmp(&b)));
            if let Some(&best) = rank
                .iter()
                .find(|&&i| !is_taken(&cands[i * d..(i + 1) * d], &taken, d))
            {
                chosen = Some(cands[best * d..(best + 1) * d].to_vec());
                break;
            }
        }
        // Candidates from l keep landing on taken cells: look anywhere instead.
        let pick = chosen.unwrap_or_else(|| random_untaken(space, &mut rng, &taken));
        out.extend_from_slice(&pick);
        taken.extend_from_slice(&pick);
        match own {
            Some((g, true)) => state.extended = Some(g),
            Some((g, false)) => state.bad_fit = Some(g),
            None => {}
        }
    }
    state.masked = base;
    if let Some((bad_x, _)) = compact {
        state.bad_x = bad_x;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spaces() -> Vec<Space> {
        use crate::space::Dim;
        let float = |lo, hi, log| Dim::float(lo, hi, log).unwrap();
        vec![
            Space::new(vec![
                float(-5.0, 5.0, false),
                float(1e-5, 1.0, true),
                float(0.0, 1.0, false),
            ])
            .unwrap(),
            Space::new(vec![
                float(-5.0, 5.0, false),
                Dim::int(1, 64, false, 1).unwrap(),
                Dim::int(1, 4096, true, 1).unwrap(),
                Dim::float_step(0.0, 1.0, 0.05).unwrap(),
                Dim::categorical(4).unwrap(),
            ])
            .unwrap(),
            Space::new(vec![
                Dim::categorical(3).unwrap(),
                Dim::int(0, 5, false, 1).unwrap(),
            ])
            .unwrap(),
        ]
    }

    /// A history whose values keep reshuffling the good group, with ties in values and points.
    fn churning_history(space: &Space, n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let d = space.len();
        let mut rng = Rng::new(seed);
        let mut x = vec![0.0; n * d];
        for (i, row) in x.chunks_exact_mut(d).enumerate() {
            for u in row.iter_mut() {
                *u = if i % 9 == 4 { 0.5 } else { rng.uniform() };
            }
            space.snap_row(row);
        }
        let y = (0..n)
            .map(|i| {
                if i % 11 == 3 {
                    0.25
                } else {
                    rng.uniform() - 1e-3 * i as f64
                }
            })
            .collect();
        (x, y)
    }

    #[test]
    fn updated_bad_mixture_equals_a_fresh_one() {
        let options = TpeOptions {
            n_startup_trials: 2,
            ..TpeOptions::default()
        };
        for space in spaces() {
            let d = space.len();
            let (x, y) = churning_history(&space, 260, 7);
            let mut state = TpeState::new();
            for n in (2..260).chain([260, 260]) {
                let (xs, ys) = (&x[..n * d], &y[..n]);
                let kept =
                    suggest_with_state(&mut state, &space, xs, ys, &[], 1, n as u64, &options);
                let mut fresh_state = TpeState::new();
                let fresh = suggest_with_state(
                    &mut fresh_state,
                    &space,
                    xs,
                    ys,
                    &[],
                    1,
                    n as u64,
                    &options,
                );
                assert_eq!(kept.unwrap(), fresh.unwrap(), "n = {n}");
                let (a, b) = (state.masked.as_ref(), fresh_state.masked.as_ref());
                assert!(a.is_some() && b.is_some(), "n = {n}");
                assert!(
                    a.map(Parzen::contents) == b.map(Parzen::contents),
                    "n = {n}"
                );
            }
        }
    }

    #[test]
    fn masked_mixtures_score_like_compact_fits() {
        // The same model laid out two ways: scores agree to rounding. Once for the study's bad
        // mixture, once for a copy extended by rows for this call only (fresh points, a copy of
        // a trial, a repeated extra, a point at a bound: ties with trials and among extras).
        let options = TpeOptions::default();
        for space in spaces() {
            let d = space.len();
            let coords: Vec<Coord> = space.dims().iter().map(Coord::of).collect();
            let (x, y) = churning_history(&space, 300, 3);
            let mut state = TpeState::new();
            suggest_with_state(&mut state, &space, &x, &y, &[], 1, 1, &options).unwrap();
            let base = state.masked.clone().unwrap();
            let good = state.y_order[..options.gamma.n_good(300)].to_vec();
            let bad: Vec<usize> = (0..300).filter(|i| !good.contains(i)).collect();
            let mut rng = Rng::new(2);
            let mut extras: Vec<f64> = (0..4 * d).map(|_| rng.uniform()).collect();
            extras.extend_from_slice(&x[bad[7] * d..(bad[7] + 1) * d]);
            extras.extend_from_within(..d);
            extras.extend(std::iter::repeat_n(0.0, d));
            for row in extras.chunks_exact_mut(d) {
                canonical_row(&space, row);
            }
            let mut cands: Vec<f64> = (0..40 * d).map(|_| rng.uniform()).collect();
            cands.extend_from_slice(&extras);
            for row in cands.chunks_exact_mut(d) {
                canonical_row(&space, row);
            }
            for extra in [&[][..], &extras[..]] {
                let mut w = Vec::new();
                recency_weights(bad.len() + extra.len() / d, true, &mut w);
                let mut rows: Vec<f64> = bad
                    .iter()
                    .flat_map(|&i| state.snapped[i * d..(i + 1) * d].to_vec())
                    .collect();
                rows.extend_from_slice(extra);
                let compact = Parzen::new(&space, &coords, &rows, &w, None, &options);
                let masked = if extra.is_empty() {
                    base.clone()
                } else {
                    let (snapped, orders) = (&state.snapped, &state.dim_order);
                    base.with_extras(None, &space, &coords, snapped, orders, extra, &w, &options)
                        .unwrap()
                };
                let m = cands.len() / d;
                let (mut a, mut b) = (vec![0.0; m], vec![0.0; m]);
                masked.log_density(&space, &coords, &cands, &mut a);
                compact.log_density(&space, &coords, &cands, &mut b);
                for (r, (u, v)) in a.iter().zip(&b).enumerate() {
                    assert!(
                        (u - v).abs() < 1e-9 * v.abs().max(1.0),
                        "{} extras, candidate {r}: {u} vs {v}",
                        extra.len() / d
                    );
                }
            }
            // Extending a copy leaves the study's mixture as it was.
            assert!(state.masked.as_ref().map(Parzen::contents) == Some(base.contents()));
        }
    }

    #[test]
    fn gamma_matches_optuna() {
        let g = Gamma::default();
        assert_eq!(g.n_good(0), 0);
        assert_eq!(g.n_good(1), 1);
        assert_eq!(g.n_good(10), 1);
        assert_eq!(g.n_good(11), 2);
        assert_eq!(g.n_good(1000), 25);
    }

    #[test]
    fn recency_ramp() {
        let mut w = Vec::new();
        recency_weights(10, true, &mut w);
        assert!(w.iter().all(|&v| v == 1.0));
        recency_weights(100, true, &mut w);
        assert_eq!(w.len(), 100);
        assert!((w[0] - 0.01).abs() < 1e-12);
        assert!((w[74] - 1.0).abs() < 1e-12);
        assert!(w.windows(2).all(|p| p[0] <= p[1]));
        recency_weights(26, true, &mut w);
        assert!((w[0] - 1.0 / 26.0).abs() < 1e-12 && w[1] == 1.0);
    }
}
