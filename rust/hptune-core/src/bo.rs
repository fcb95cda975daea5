//! Gaussian-process Bayesian optimisation: the entry point used by the bindings.
//!
//! Notation: `n` completed trials `x` (`n x d` unit points, row-major) with values `y` to
//! *minimise*; `m` pending points (running or failed trials) to steer away from. `y` is
//! standardised (`(y - mean) / std`, `std = 1` when `y` is constant) before fitting; the fitted
//! hyperparameters ([`GpState`]) are in log space and in standardised units.
//!
//! One call: fit the GP hyperparameters (on at most `fit_max_points` observations, warm-started
//! from the previous state), condition on all observations, add every pending point as a
//! kriging-believer fantasy (its posterior mean as a pseudo-observation), then repeatedly
//! maximise the acquisition and add the chosen point as a fantasy, so a batch spreads out.
//! The incumbent of EI / PI lies halfway between the smallest posterior mean at an observed
//! point and the smallest observed value (see `suggest`).

pub use crate::acquisition::Acquisition;
use crate::acquisition::ehvi::{Boxes, non_dominated};
use crate::acquisition::optimize::{AcqContext, AcqOptimOptions, contains_point};
use crate::acquisition::optimize_acquisition;
use crate::acquisition::{ConstraintModel, ObjectiveModels};
use crate::error::{Error, Result, invalid};
use crate::gp::fit::{
    DEFAULT_NOISE_RATE, FitData, FitOptions, NOISY_NOISE_RATE, fit_hyperparameters,
    neg_log_posterior,
};
use crate::gp::kernel::categorical_mask;
use crate::gp::{Gp, Hyper, to_kernel_coords};
use crate::rng::Rng;
use crate::sampling::Sobol;
use crate::space::{Kind, Space};
use crate::trust_region::{self, TrustRegionOptions};

/// Tuning knobs of [`suggest`]; the defaults are what the samplers use.
#[derive(Debug, Clone, PartialEq)]
pub struct BoOptions {
    /// Acquisition function (default [`Acquisition::LogEi`]).
    pub acquisition: Acquisition,
    /// Size of the quasi-random candidate sweep (default 512). Each candidate costs `O(n^2)`, so
    /// past `n = 200` (fantasies included) the sweep shrinks like `1 / n^2`, to no fewer than 64.
    pub n_candidates: usize,
    /// Number of multi-start local optimisations (default 4).
    pub n_restarts: usize,
    /// Perturbed copies of each of the 5 best observations added to the sweep (default 20).
    pub n_perturb: usize,
    /// L-BFGS iterations per acquisition restart (default 40).
    pub acq_max_iter: usize,
    /// Hyperparameters are fitted on at most this many observations (default 64), chosen as
    /// the best quarter plus a seeded random subset of the rest; the posterior always uses all.
    pub fit_max_points: usize,
    /// L-BFGS iterations for a fit from the default start (default 60).
    pub fit_max_iter: usize,
    /// L-BFGS iterations for a fit from a warm start (default 10: the previous fit is close, and
    /// refits every step add up).
    pub fit_warm_max_iter: usize,
    /// The objective is noisy (default false): the noise prior allows much more noise, and the
    /// incumbent of EI / PI is the best posterior mean at an observed point (the plug-in rule of
    /// noisy expected improvement), not pulled towards the luckiest observation.
    pub noisy: bool,
    /// Maximise the acquisition inside a trust region around the incumbent (see
    /// [`crate::trust_region`]) instead of over the whole space (default `None`). Single
    /// objectives only; [`suggest_multi`] refuses it.
    pub trust_region: Option<TrustRegionOptions>,
}

impl Default for BoOptions {
    fn default() -> Self {
        Self {
            acquisition: Acquisition::LogEi,
            n_candidates: 512,
            n_restarts: 4,
            n_perturb: 20,
            acq_max_iter: 40,
            fit_max_points: 64,
            fit_max_iter: 60,
            fit_warm_max_iter: 10,
            noisy: false,
            trust_region: None,
        }
    }
}

/// Fitted GP hyperparameters, passed back in to warm-start the next fit.
#[derive(Debug, Clone, PartialEq)]
pub struct GpState {
    /// The hyperparameters (log space, standardised units).
    pub hyper: Hyper,
}

impl GpState {
    /// Flat form for crossing the boundary: `[ln l_1 .. ln l_d, ln s_f^2, ln s_n^2]`.
    #[must_use]
    pub fn to_vec(&self) -> Vec<f64> {
        self.hyper.to_theta()
    }

    /// Inverse of [`GpState::to_vec`] for a `d`-dimensional space.
    pub fn from_vec(d: usize, theta: &[f64]) -> Result<Self> {
        if theta.len() != d + 2 {
            return invalid(format!(
                "a GP state for {d} dimensions has {} values, got {}",
                d + 2,
                theta.len()
            ));
        }
        if theta.iter().any(|v| !v.is_finite()) {
            return invalid("GP state values must be finite");
        }
        Ok(Self {
            hyper: Hyper::from_theta(theta),
        })
    }
}

// Purposes for derived random streams.
const STREAM_SUBSET: u64 = 0x5B5E;
const STREAM_ACQ: u64 = 0xAC9;
const STREAM_FALLBACK: u64 = 0xFA11;
const STREAM_CONSTRAINT: u64 = 0xC0_5714;
const STREAM_OBJECTIVE: u64 = 0x0B_7EC7;
/// Best observations whose neighbourhoods are added to the sweep.
const N_ANCHORS: usize = 5;
/// Candidates times conditioning points squared: 512 candidates up to `n = 200`.
const SWEEP_BUDGET: usize = 512 * 200 * 200;

fn check_points(name: &str, pts: &[f64], d: usize) -> Result<usize> {
    if pts.len() % d != 0 {
        return invalid(format!(
            "{name} must hold rows of {d} values, got {} values",
            pts.len()
        ));
    }
    if let Some(i) = pts
        .iter()
        .position(|v| !v.is_finite() || *v < 0.0 || *v > 1.0)
    {
        return invalid(format!(
            "{name}[{}, {}] = {} is not a unit coordinate in [0, 1]",
            i / d,
            i % d,
            pts[i]
        ));
    }
    Ok(pts.len() / d)
}

fn validate_options(options: &BoOptions) -> Result<()> {
    if let Acquisition::Ucb { beta } = options.acquisition {
        if !beta.is_finite() || beta < 0.0 {
            return invalid(format!("UCB beta must be finite and >= 0, got {beta}"));
        }
    }
    if options.n_candidates == 0 {
        return invalid("n_candidates must be at least 1");
    }
    if options.n_restarts == 0 {
        return invalid("n_restarts must be at least 1");
    }
    if options.fit_max_points < 2 {
        return invalid("fit_max_points must be at least 2");
    }
    if let Some(tr) = &options.trust_region {
        let ok = tr.min_length > 0.0
            && tr.min_length < tr.initial
            && tr.initial <= tr.max_length
            && tr.max_length.is_finite()
            && tr.success_tolerance >= 1;
        if !ok {
            return invalid(format!(
                "trust region lengths must satisfy 0 < min_length < initial <= max_length \
                 (finite) and success_tolerance >= 1, got {tr:?}"
            ));
        }
    }
    Ok(())
}

/// The GP's values shifted so that the worst (largest) is 0: the GP's prior mean is then the
/// worst observation instead of their average, as De Ath et al. (2020, "What do you mean? The
/// role of the mean function in Bayesian optimisation") found best of eight mean functions
/// from 5 dimensions up. Away from the trials the posterior returns to its prior mean; at the
/// average, the unexplored parts of the box look as good as an average trial and log EI, whose
/// variance is largest there, keeps sending trials to them; at the worst value only the
/// neighbourhoods of good trials do. The hyperparameters are fitted before the shift, on
/// centred values: fitted after it, the offset reads as signal and few points explain the
/// noise away. Not for `noisy` fits: on synthetic RL-like objectives it helped them most, but
/// on SB3 DQN tuning it changed 2 picks of 8, both for the worse (benches/README.md).
fn mean_at_worst(mut ys: Vec<f64>) -> Vec<f64> {
    let worst = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if worst.is_finite() {
        for v in &mut ys {
            *v -= worst;
        }
    }
    ys
}

/// Standardise `y`: returns `(ys, mean, std)`.
fn standardise(y: &[f64]) -> (Vec<f64>, f64, f64) {
    let n = y.len() as f64;
    if y.is_empty() {
        return (Vec::new(), 0.0, 1.0);
    }
    // Shift by the first value so that y ~ 1e12 with small spread keeps its digits, and
    // pre-scale by the largest deviation so that squares cannot overflow (|y| up to 1e308).
    let shift = y[0];
    let spread = y.iter().map(|v| (v - shift).abs()).fold(0.0, f64::max);
    if !(spread.is_finite() && spread > 1e-14 * shift.abs()) {
        return (vec![0.0; y.len()], shift, 1.0);
    }
    let mean_rel = y.iter().map(|v| (v - shift) / spread).sum::<f64>() / n;
    let var_rel = y
        .iter()
        .map(|v| ((v - shift) / spread - mean_rel).powi(2))
        .sum::<f64>()
        / n;
    let mean = shift + spread * mean_rel;
    let std = spread * var_rel.sqrt();
    if !(std.is_finite() && std > 0.0) {
        return (vec![0.0; y.len()], mean, 1.0);
    }
    let ys = y
        .iter()
        .map(|v| ((v - shift) / spread - mean_rel) / var_rel.sqrt())
        .collect();
    (ys, mean, std)
}

/// Suggest `n_suggest` distinct unit points to evaluate next.
///
/// - `x`: `n x d` row-major unit points of completed trials; `y`: their `n` values to minimise
///   (flip the sign to maximise).
/// - `pending`: `m x d` unit points of running (or failed) trials; suggestions avoid them.
/// - `warm`: the state returned by the previous call, to warm-start the hyperparameter fit
///   (ignored if it is for another dimension).
///
/// Returns the suggestions (`n_suggest x d`, snapped to valid encodings) and the fitted state.
/// The same inputs and seed always give the same output.
///
/// ```
/// use hptune_core::bo::{BoOptions, suggest};
/// use hptune_core::space::{Dim, Space};
/// let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap()]).unwrap();
/// let x = [0.1, 0.5, 0.9];
/// let y = [1.0, 0.2, 0.8];
/// let (pts, _state) = suggest(&space, &x, &y, &[], 2, 7, &BoOptions::default(), None).unwrap();
/// assert_eq!(pts.len(), 2);
/// ```
pub fn suggest(
    space: &Space,
    x: &[f64],
    y: &[f64],
    pending: &[f64],
    n_suggest: usize,
    seed: u64,
    options: &BoOptions,
    warm: Option<&GpState>,
) -> Result<(Vec<f64>, GpState)> {
    let constraints = Constraints {
        values: &[],
        k: 0,
        warm: &[],
    };
    let (pts, state, _) = suggest_constrained(
        space,
        x,
        y,
        &constraints,
        pending,
        n_suggest,
        seed,
        options,
        warm,
    )?;
    Ok((pts, state))
}

/// Outcome constraints of the completed trials, for [`suggest_constrained`].
#[derive(Debug, Clone, Copy)]
pub struct Constraints<'a> {
    /// `n x k` row-major constraint values, feasible when `<= 0`; NaN where a trial has no
    /// value (it is left out of that constraint's model and never counts as feasible).
    pub values: &'a [f64],
    /// Number of constraints `k`.
    pub k: usize,
    /// The states returned by the previous call, one per constraint, for warm starts (ignored
    /// when their number or dimension differs).
    pub warm: &'a [GpState],
}

impl Constraints<'_> {
    /// The warm states, when there is one per constraint (else none).
    fn usable_warm(&self) -> &[GpState] {
        if self.warm.len() == self.k {
            self.warm
        } else {
            &[]
        }
    }

    /// One state per constraint before any data: the usable warm ones, else the defaults.
    fn default_states(&self, d: usize) -> Vec<GpState> {
        let warm = self.usable_warm().iter().map(|s| s.hyper.clone());
        default_states(warm, self.k, d)
    }
}

/// [`suggest`] under outcome constraints: one GP per constraint, fitted like the objective's,
/// and the acquisition weighted by the probability of feasibility (see
/// [`crate::acquisition`]). The incumbent is the best *feasible* observation; before there is
/// one the suggestion maximises the probability of feasibility. Also returns the fitted state
/// of each constraint's GP (a constraint with fewer than two values has no model and keeps
/// the default state).
///
/// ```
/// use hptune_core::bo::{BoOptions, Constraints, suggest_constrained};
/// use hptune_core::space::{Dim, Space};
/// let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap()]).unwrap();
/// let x = [0.1, 0.5, 0.9];
/// let y = [1.0, 0.2, 0.8];
/// let c = [-0.4, 0.0, 0.4]; // feasible where x <= 0.5
/// let cons = Constraints { values: &c, k: 1, warm: &[] };
/// let o = BoOptions::default();
/// let (pts, _, states) = suggest_constrained(&space, &x, &y, &cons, &[], 1, 7, &o, None).unwrap();
/// assert_eq!((pts.len(), states.len()), (1, 1));
/// ```
pub fn suggest_constrained(
    space: &Space,
    x: &[f64],
    y: &[f64],
    constraints: &Constraints<'_>,
    pending: &[f64],
    n_suggest: usize,
    seed: u64,
    options: &BoOptions,
    warm: Option<&GpState>,
) -> Result<(Vec<f64>, GpState, Vec<GpState>)> {
    let d = space.len();
    let n = check_points("x", x, d)?;
    if y.len() != n {
        return invalid(format!("y has {} values but x has {n} rows", y.len()));
    }
    let points = Points::new(space, x, y, constraints, pending, options)?;
    let warm_hyper = warm.map(|s| &s.hyper).filter(|h| h.dim() == d);
    if n == 0 {
        let state = default_states(warm_hyper.cloned(), 1, d);
        let pts = space_filling(space, &mut points.exclude.clone(), n_suggest, seed, 0);
        let states = constraints.default_states(d);
        return Ok((pts, state.into_iter().next().expect("one state"), states));
    }

    let (ys, _mean, _std) = standardise(y);
    let hyper = fit(&points.kx, &ys, &points.cat, warm_hyper, seed, options);
    let ys = if options.noisy { ys } else { mean_at_worst(ys) };
    let gp = Gp::new(&points.kx, &ys, &points.cat, hyper.clone())
        .map_err(|e| Error::Numerical(format!("GP conditioning failed: {e}")))?;
    let (models, states) = fit_constraints(&points, constraints, seed, options)?;
    let feasible = &points.feasible;
    // Incumbent: halfway between the best posterior mean at an observed point and the best raw
    // value. The raw best alone is, on noisy-looking fits, an optimistic outlier that EI then
    // hardly hopes to beat (Ackley-5 median regret 6.3 vs 4.1 here); the best mean alone makes
    // EI greedy, so on plateaued objectives it settles on a local ridge (tabular Q-learning on
    // FrozenLake: 2 of 5 seeds stuck at 0.3 instead of 0.74). The midpoint keeps both fixed
    // (benches/README.md) and leaves the interpolated Branin and Hartmann-6 unchanged.
    let fitted = gp.fitted_means();
    let feasible_min = |v: &[f64]| {
        v.iter()
            .zip(feasible)
            .filter(|(_, f)| **f)
            .map(|(v, _)| *v)
            .fold(f64::INFINITY, f64::min)
    };
    let best_mean = feasible_min(&fitted);
    let best_raw = feasible_min(&ys);
    // A noisy objective's best observation is mostly luck: only the posterior mean counts.
    let best = if options.noisy {
        best_mean
    } else {
        0.5 * (best_mean + best_raw)
    };

    // Anchors: the best observations, best first.
    let mut by_value: Vec<usize> = (0..n).collect();
    // Feasible observations first: the neighbourhoods worth polishing are feasible ones.
    by_value.sort_by(|&a, &b| {
        feasible[b]
            .cmp(&feasible[a])
            .then(ys[a].total_cmp(&ys[b]))
            .then(a.cmp(&b))
    });
    let anchors = points.rows(by_value.iter().take(N_ANCHORS).copied());
    let region = options.trust_region.as_ref().and_then(|tr| {
        // Infeasible trials never improve on anything.
        let values: Vec<f64> = y
            .iter()
            .zip(feasible)
            .map(|(v, f)| if *f { *v } else { f64::INFINITY })
            .collect();
        let r = trust_region::replay(&values, d, tr)?;
        let lengthscales: Vec<f64> = hyper.log_lengthscale.iter().map(|l| l.exp()).collect();
        let stretched: Vec<bool> = space
            .dims()
            .iter()
            .map(|dim| dim.kind() != Kind::Categorical)
            .collect();
        let center = &x[r.center * d..(r.center + 1) * d];
        Some(trust_region::bounds(
            center,
            r.length,
            &lengthscales,
            &stretched,
        ))
    });
    let mut model = Single {
        space,
        gp,
        constraints: models,
        kind: options.acquisition,
        best,
        incumbent: constraints.k == 0 || feasible.iter().any(|f| *f),
    };
    let out = choose_batch(
        &mut model, &points, &anchors, n_suggest, seed, options, region,
    );
    Ok((out, GpState { hyper }, states))
}

/// [`suggest_constrained`] for `m` objectives to minimise together: `y` holds `n x m`
/// row-major values. One GP per objective (each fitted and standardised on its own), and the
/// acquisition is `LogEHVI` against the front of the feasible observations (see
/// [`crate::acquisition::ehvi`]), weighted by the probability of feasibility under
/// constraints. The reference point is the worst observed value of each objective plus a
/// tenth of its range (at least 0.1 standard deviations). `options.acquisition` is not used.
/// A batch (and every pending point) is spread as in the single-objective case, by fantasies
/// whose predicted outcomes also join the front. `warm` holds one state per objective (ignored
/// when their number or dimension differs); returns the suggestions, one state per objective
/// and one per constraint.
///
/// ```
/// use hptune_core::bo::{BoOptions, Constraints, suggest_multi};
/// use hptune_core::space::{Dim, Space};
/// let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap()]).unwrap();
/// let x = [0.1, 0.5, 0.9];
/// let y = [0.01, 0.81, 0.25, 0.25, 0.81, 0.01]; // x^2 and (1 - x)^2
/// let none = Constraints { values: &[], k: 0, warm: &[] };
/// let o = BoOptions::default();
/// let (pts, states, _) = suggest_multi(&space, &x, &y, 2, &none, &[], 2, 7, &o, &[]).unwrap();
/// assert_eq!((pts.len(), states.len()), (2, 2));
/// ```
#[allow(clippy::too_many_arguments)] // suggest_constrained's, with the number of objectives
pub fn suggest_multi(
    space: &Space,
    x: &[f64],
    y: &[f64],
    m: usize,
    constraints: &Constraints<'_>,
    pending: &[f64],
    n_suggest: usize,
    seed: u64,
    options: &BoOptions,
    warm: &[GpState],
) -> Result<(Vec<f64>, Vec<GpState>, Vec<GpState>)> {
    let d = space.len();
    let n = check_points("x", x, d)?;
    if m == 0 {
        return invalid("the number of objectives must be at least 1");
    }
    if y.len() != n * m {
        return invalid(format!(
            "y must hold {m} values for each of the {n} rows, got {}",
            y.len()
        ));
    }
    if options.trust_region.is_some() {
        return invalid("a trust region needs a single objective");
    }
    let points = Points::new(space, x, y, constraints, pending, options)?;
    let warm = if warm.len() == m { warm } else { &[] };
    let warm_of = |states: &[GpState], j: usize| {
        states
            .get(j)
            .map(|s| &s.hyper)
            .filter(|h| h.dim() == d)
            .cloned()
    };
    if n == 0 {
        let pts = space_filling(space, &mut points.exclude.clone(), n_suggest, seed, 0);
        let states = default_states(warm.iter().map(|s| s.hyper.clone()), m, d);
        return Ok((pts, states, constraints.default_states(d)));
    }

    // Standardised objectives, row-major like y, and one GP each.
    let mut standardised = vec![0.0; n * m];
    let mut gps = Vec::with_capacity(m);
    let mut states = Vec::with_capacity(m);
    for j in 0..m {
        let column: Vec<f64> = (0..n).map(|i| y[i * m + j]).collect();
        let (ys, _, _) = standardise(&column);
        for (i, v) in ys.iter().enumerate() {
            standardised[i * m + j] = *v;
        }
        let stream = crate::rng::mix(seed, STREAM_OBJECTIVE + j as u64);
        let hyper = fit(
            &points.kx,
            &ys,
            &points.cat,
            warm_of(warm, j).as_ref(),
            stream,
            options,
        );
        let gp = Gp::new(&points.kx, &ys, &points.cat, hyper.clone()).map_err(|e| {
            Error::Numerical(format!("GP conditioning of objective {j} failed: {e}"))
        })?;
        gps.push(gp);
        states.push(GpState { hyper });
    }
    let (models, cstates) = fit_constraints(&points, constraints, seed, options)?;
    let reference: Vec<f64> = (0..m)
        .map(|j| {
            let column = (0..n).map(|i| standardised[i * m + j]);
            let hi = column.clone().fold(f64::NEG_INFINITY, f64::max);
            let lo = column.fold(f64::INFINITY, f64::min);
            hi + 0.1 * (hi - lo).max(1.0)
        })
        .collect();
    let feasible_rows: Vec<usize> = (0..n).filter(|&i| points.feasible[i]).collect();
    let front: Vec<f64> = feasible_rows
        .iter()
        .flat_map(|&i| standardised[i * m..(i + 1) * m].iter().copied())
        .collect();
    // Anchors: evenly spaced points of the feasible front along the first objective; before
    // anything is feasible, the rows closest to feasibility.
    let mut on_front: Vec<usize> = non_dominated(&front, m)
        .into_iter()
        .map(|k| feasible_rows[k])
        .collect();
    on_front.sort_by(|&a, &b| standardised[a * m].total_cmp(&standardised[b * m]));
    let anchor_rows: Vec<usize> = if on_front.is_empty() {
        let k = constraints.k;
        let violation = |i: usize| -> f64 {
            constraints.values[i * k..(i + 1) * k]
                .iter()
                .map(|v| {
                    if v.is_nan() {
                        f64::INFINITY
                    } else {
                        v.max(0.0)
                    }
                })
                .sum()
        };
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| violation(a).total_cmp(&violation(b)).then(a.cmp(&b)));
        order.truncate(N_ANCHORS);
        order
    } else {
        let f = on_front.len();
        let take = f.min(N_ANCHORS);
        (0..take)
            .map(|i| on_front[i * (f - 1) / (take - 1).max(1)])
            .collect()
    };
    let anchors = points.rows(anchor_rows.into_iter());
    let boxes = Boxes::new(&front, m, &reference);
    let mut model = Multi {
        space,
        models: ObjectiveModels { gps, boxes },
        constraints: models,
        incumbent: !feasible_rows.is_empty(),
        front,
        reference,
    };
    let out = choose_batch(
        &mut model, &points, &anchors, n_suggest, seed, options, None,
    );
    Ok((out, states, cstates))
}

/// Checked and prepared inputs shared by the suggestion entry points.
struct Points<'a> {
    space: &'a Space,
    /// Kernel coordinates of the observations (`n x d`).
    kx: Vec<f64>,
    /// The observations, snapped.
    observed: Vec<f64>,
    /// Snapped pending points.
    pending: Vec<f64>,
    /// Observations and pending points: never suggested again.
    exclude: Vec<f64>,
    cat: Vec<bool>,
    /// Per observation: every constraint observed and `<= 0` (all true without constraints).
    feasible: Vec<bool>,
}

impl<'a> Points<'a> {
    /// Checks `x` (already counted), `y` (finite), the constraints, `pending` and the options.
    fn new(
        space: &'a Space,
        x: &[f64],
        y: &[f64],
        constraints: &Constraints<'_>,
        pending: &[f64],
        options: &BoOptions,
    ) -> Result<Self> {
        let d = space.len();
        let n = x.len() / d.max(1);
        check_points("pending", pending, d)?;
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return invalid(format!("y[{i}] = {} is not finite", y[i]));
        }
        let k = constraints.k;
        let cvals = constraints.values;
        if cvals.len() != n * k {
            return invalid(format!(
                "constraints must hold {k} values for each of the {n} rows, got {}",
                cvals.len()
            ));
        }
        if let Some(i) = cvals.iter().position(|v| v.is_infinite()) {
            return invalid(format!(
                "constraints[{}, {}] = {} is not finite (NaN marks a missing value)",
                i / k,
                i % k,
                cvals[i]
            ));
        }
        validate_options(options)?;
        let mut kx = vec![0.0; x.len()];
        to_kernel_coords(space, x, &mut kx);
        let mut observed = x.to_vec();
        for row in observed.chunks_exact_mut(d) {
            space.snap_row(row);
        }
        let mut snapped_pending = pending.to_vec();
        for row in snapped_pending.chunks_exact_mut(d) {
            space.snap_row(row);
        }
        let mut exclude = observed.clone();
        exclude.extend_from_slice(&snapped_pending);
        let feasible = (0..n)
            .map(|i| cvals[i * k..(i + 1) * k].iter().all(|v| *v <= 0.0))
            .collect();
        Ok(Self {
            space,
            kx,
            observed,
            pending: snapped_pending,
            exclude,
            cat: categorical_mask(space),
            feasible,
        })
    }

    /// The snapped observations of `rows`, concatenated.
    fn rows(&self, rows: impl Iterator<Item = usize>) -> Vec<f64> {
        let d = self.space.len();
        rows.flat_map(|i| self.observed[i * d..(i + 1) * d].iter().copied())
            .collect()
    }
}

/// `count` states: the warm ones where given and of the right dimension, else the defaults.
fn default_states(warm: impl IntoIterator<Item = Hyper>, count: usize, d: usize) -> Vec<GpState> {
    let mut warm = warm.into_iter();
    (0..count)
        .map(|_| GpState {
            hyper: warm
                .next()
                .filter(|h| h.dim() == d)
                .unwrap_or_else(|| Hyper::default_for(d)),
        })
        .collect()
}

/// What a batch is chosen on: the current posterior(s) as an acquisition context, and
/// conditioning on a pending or chosen point.
trait BatchModel {
    fn context(&self) -> AcqContext<'_>;
    fn add_fantasy(&mut self, u: &[f64]);
    /// Points the posterior is conditioned on (observations and fantasies).
    fn n(&self) -> usize;
}

/// One objective: its GP and the incumbent.
struct Single<'a> {
    space: &'a Space,
    gp: Gp,
    constraints: Vec<ConstraintModel>,
    kind: Acquisition,
    best: f64,
    incumbent: bool,
}

impl BatchModel for Single<'_> {
    fn context(&self) -> AcqContext<'_> {
        AcqContext {
            space: self.space,
            gp: &self.gp,
            objectives: None,
            kind: self.kind,
            best: self.best,
            constraints: &self.constraints,
            incumbent: self.incumbent,
        }
    }

    fn add_fantasy(&mut self, u: &[f64]) {
        let mut kp = vec![0.0; u.len()];
        add_fantasy(&mut self.gp, self.space, u, &mut kp);
        for c in &mut self.constraints {
            add_fantasy(&mut c.gp, self.space, u, &mut kp);
        }
    }

    fn n(&self) -> usize {
        self.gp.n()
    }
}

/// Several objectives: their GPs, the front (with fantasies) and its boxes.
struct Multi<'a> {
    space: &'a Space,
    models: ObjectiveModels,
    constraints: Vec<ConstraintModel>,
    incumbent: bool,
    front: Vec<f64>,
    reference: Vec<f64>,
}

impl BatchModel for Multi<'_> {
    fn context(&self) -> AcqContext<'_> {
        AcqContext {
            space: self.space,
            gp: &self.models.gps[0],
            objectives: Some(&self.models),
            kind: Acquisition::LogEi,
            best: 0.0,
            constraints: &self.constraints,
            incumbent: self.incumbent,
        }
    }

    fn add_fantasy(&mut self, u: &[f64]) {
        let mut kp = vec![0.0; u.len()];
        to_kernel_coords(self.space, u, &mut kp);
        for gp in &mut self.models.gps {
            let (mean, _) = gp.predict(&kp);
            gp.add_point(&kp, mean[0]);
            self.front.push(mean[0]);
        }
        for c in &mut self.constraints {
            add_fantasy(&mut c.gp, self.space, u, &mut kp);
        }
        let m = self.models.gps.len();
        self.models.boxes = Boxes::new(&self.front, m, &self.reference);
    }

    fn n(&self) -> usize {
        self.models.gps[0].n()
    }
}

/// Condition on every pending point, then choose `n_suggest` points one by one, each added as
/// a fantasy before the next, so a batch spreads out.
fn choose_batch(
    model: &mut impl BatchModel,
    points: &Points<'_>,
    anchors: &[f64],
    n_suggest: usize,
    seed: u64,
    options: &BoOptions,
    region: Option<(Vec<f64>, Vec<f64>)>,
) -> Vec<f64> {
    let space = points.space;
    let d = space.len();
    for row in points.pending.chunks_exact(d) {
        model.add_fantasy(row);
    }
    // Each candidate costs O(n^2) in the sweep: past n = 200 the local restarts matter more.
    let total = model.n();
    let n_candidates = options
        .n_candidates
        .min((SWEEP_BUDGET / (total * total).max(1)).max(64));
    let acq_options = AcqOptimOptions {
        n_candidates,
        n_restarts: options.n_restarts,
        n_perturb: options.n_perturb,
        max_iter: options.acq_max_iter,
        region,
    };
    let mut exclude = points.exclude.clone();
    let mut out = Vec::with_capacity(n_suggest * d);
    for s in 0..n_suggest {
        let stream = crate::rng::mix(crate::rng::mix(seed, STREAM_ACQ), s as u64);
        let found = optimize_acquisition(&model.context(), anchors, &exclude, stream, &acq_options);
        let u = if let Some((u, _)) = found {
            u
        } else {
            let p = space_filling(space, &mut exclude.clone(), 1, seed, s as u64 + 1);
            p[..d].to_vec()
        };
        exclude.extend_from_slice(&u);
        out.extend_from_slice(&u);
        if s + 1 < n_suggest {
            model.add_fantasy(&u);
        }
    }
    out
}

/// One GP per constraint on the rows where it has a value (fewer than two: no model), in its
/// standardised units, with the bound 0 carried over as the model's threshold.
fn fit_constraints(
    points: &Points<'_>,
    constraints: &Constraints<'_>,
    seed: u64,
    options: &BoOptions,
) -> Result<(Vec<ConstraintModel>, Vec<GpState>)> {
    let (kx, cat) = (&points.kx, &points.cat);
    let (cvals, k, warm) = (constraints.values, constraints.k, constraints.usable_warm());
    let d = cat.len();
    let n = cvals.len().checked_div(k).unwrap_or(0);
    let mut models = Vec::with_capacity(k);
    let mut states = Vec::with_capacity(k);
    for j in 0..k {
        let rows: Vec<usize> = (0..n).filter(|&i| !cvals[i * k + j].is_nan()).collect();
        let warm_j = warm.get(j).map(|s| &s.hyper).filter(|h| h.dim() == d);
        if rows.len() < 2 {
            states.push(GpState {
                hyper: warm_j.cloned().unwrap_or_else(|| Hyper::default_for(d)),
            });
            continue;
        }
        let cx: Vec<f64> = rows
            .iter()
            .flat_map(|&i| kx[i * d..(i + 1) * d].iter().copied())
            .collect();
        let cy: Vec<f64> = rows.iter().map(|&i| cvals[i * k + j]).collect();
        let (cs, mean, std) = standardise(&cy);
        let stream = crate::rng::mix(seed, STREAM_CONSTRAINT + j as u64);
        let hyper = fit(&cx, &cs, cat, warm_j, stream, options);
        let gp = Gp::new(&cx, &cs, cat, hyper.clone()).map_err(|e| {
            Error::Numerical(format!("GP conditioning of constraint {j} failed: {e}"))
        })?;
        models.push(ConstraintModel {
            gp,
            threshold: -mean / std,
        });
        states.push(GpState { hyper });
    }
    Ok((models, states))
}

fn add_fantasy(gp: &mut Gp, space: &Space, u: &[f64], kp: &mut [f64]) {
    to_kernel_coords(space, u, kp);
    let (m, _) = gp.predict(kp);
    gp.add_point(kp, m[0]);
}

fn fit_options(options: &BoOptions) -> FitOptions {
    FitOptions {
        max_iter: options.fit_max_iter,
        warm_max_iter: options.fit_warm_max_iter,
        noise_rate: if options.noisy {
            NOISY_NOISE_RATE
        } else {
            DEFAULT_NOISE_RATE
        },
    }
}

/// The observations the hyperparameters are fitted on, ascending, or `None` for all of them:
/// past `fit_max_points`, the best quarter (the best observations shape the model where it
/// matters) and a seeded random subset of the rest (which keeps it honest).
fn fit_subset(ys: &[f64], seed: u64, options: &BoOptions) -> Option<Vec<usize>> {
    let n = ys.len();
    if n <= options.fit_max_points {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| ys[a].total_cmp(&ys[b]).then(a.cmp(&b)));
    let n_best = options.fit_max_points / 4;
    let mut rest = order[n_best..].to_vec();
    let mut rng = Rng::derive(seed, STREAM_SUBSET, n as u64);
    rng.shuffle(&mut rest);
    let mut chosen: Vec<usize> = order[..n_best].to_vec();
    chosen.extend_from_slice(&rest[..options.fit_max_points - n_best]);
    chosen.sort_unstable();
    Some(chosen)
}

/// The rows `chosen` of `kx` (`d` columns) and of `ys`.
fn select_rows(kx: &[f64], ys: &[f64], d: usize, chosen: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let mut sx = Vec::with_capacity(chosen.len() * d);
    let mut sy = Vec::with_capacity(chosen.len());
    for &i in chosen {
        sx.extend_from_slice(&kx[i * d..(i + 1) * d]);
        sy.push(ys[i]);
    }
    (sx, sy)
}

fn fit(
    kx: &[f64],
    ys: &[f64],
    cat: &[bool],
    warm: Option<&Hyper>,
    seed: u64,
    options: &BoOptions,
) -> Hyper {
    let fit_options = fit_options(options);
    let Some(chosen) = fit_subset(ys, seed, options) else {
        return fit_hyperparameters(kx, ys, cat, warm, &fit_options);
    };
    let (sx, sy) = select_rows(kx, ys, cat.len(), &chosen);
    // Re-standardise the subset so the fitted signal variance keeps its meaning.
    let (sy, _, _) = standardise(&sy);
    fit_hyperparameters(&sx, &sy, cat, warm, &fit_options)
}

/// How well the GP explains `y` at `x`, for choosing among transforms of the objective.
///
/// Fits the hyperparameters as [`suggest`] does (the same subset of at most
/// `options.fit_max_points` observations, the same seed) and returns, per fitted observation,
/// the log posterior density of its standardised values at the fitted hyperparameters, minus
/// the log of the standardisation's scale, plus `log_jacobian[i]` for each fitted observation
/// `i`; and the fitted state. Pass `g(y_raw)` and `ln g'(y_raw)` for a monotone transform `g`:
/// the results of different transforms are then log densities of the same raw values, and the
/// larger is the better model (a warped GP's likelihood, Snelson et al., 2004). With fewer than
/// two observations the evidence is 0.
///
/// ```
/// use hptune_core::bo::{BoOptions, log_evidence};
/// use hptune_core::space::{Dim, Space};
/// let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap()]).unwrap();
/// let x = [0.1, 0.3, 0.5, 0.7, 0.9];
/// let y = [1.0, 0.4, 0.1, 0.4, 1.0];
/// let (e, _state) = log_evidence(&space, &x, &y, &[0.0; 5], 3, &BoOptions::default(), None).unwrap();
/// assert!(e.is_finite());
/// ```
pub fn log_evidence(
    space: &Space,
    x: &[f64],
    y: &[f64],
    log_jacobian: &[f64],
    seed: u64,
    options: &BoOptions,
    warm: Option<&GpState>,
) -> Result<(f64, GpState)> {
    let d = space.len();
    let n = check_points("x", x, d)?;
    if y.len() != n || log_jacobian.len() != n {
        return invalid(format!(
            "y has {} values and log_jacobian {} but x has {n} rows",
            y.len(),
            log_jacobian.len()
        ));
    }
    if let Some(i) = log_jacobian.iter().position(|v| !v.is_finite()) {
        return invalid(format!(
            "log_jacobian[{i}] = {} is not finite",
            log_jacobian[i]
        ));
    }
    let none = Constraints {
        values: &[],
        k: 0,
        warm: &[],
    };
    let points = Points::new(space, x, y, &none, &[], options)?;
    let warm_hyper = warm.map(|s| &s.hyper).filter(|h| h.dim() == d);
    if n < 2 {
        let state = GpState {
            hyper: warm_hyper.cloned().unwrap_or_else(|| Hyper::default_for(d)),
        };
        return Ok((0.0, state));
    }
    let (ys, _, scale) = standardise(y);
    let chosen = fit_subset(&ys, seed, options).unwrap_or_else(|| (0..n).collect());
    let (sx, sy) = select_rows(&points.kx, &ys, d, &chosen);
    let (sy, _, sub_scale) = standardise(&sy);
    let fit_options = fit_options(options);
    let hyper = fit_hyperparameters(&sx, &sy, &points.cat, warm_hyper, &fit_options);
    let data = FitData::new(&sx, &sy, &points.cat).with_noise_rate(fit_options.noise_rate);
    let mut grad = vec![0.0; d + 2];
    let neg_log_post = neg_log_posterior(&data, &hyper.to_theta(), &mut grad);
    let m = chosen.len() as f64;
    let jacobian: f64 = chosen.iter().map(|&i| log_jacobian[i]).sum();
    let evidence = (-neg_log_post + jacobian) / m - (scale * sub_scale).ln();
    if !evidence.is_finite() {
        return Err(Error::Numerical(format!(
            "the GP's log evidence is not finite ({evidence})"
        )));
    }
    Ok((evidence, GpState { hyper }))
}

/// Distinct snapped points from a scrambled Sobol' sequence (random points as a last resort),
/// avoiding `exclude`; used before there is any data.
fn space_filling(
    space: &Space,
    exclude: &mut Vec<f64>,
    k: usize,
    seed: u64,
    salt: u64,
) -> Vec<f64> {
    let d = space.len();
    let mut out = Vec::with_capacity(k * d);
    let sobol = Sobol::new(d, Some(crate::rng::mix(seed, salt))).ok();
    let mut rng = Rng::derive(seed, STREAM_FALLBACK, salt);
    let mut u = vec![0.0; d];
    let mut index = 0u64;
    let mut tries = 0usize;
    while out.len() < k * d {
        match &sobol {
            Some(s) if tries < 64 * k + 256 => s.point(index, &mut u),
            _ => u.iter_mut().for_each(|v| *v = rng.uniform()),
        }
        index += 1;
        tries += 1;
        space.snap_row(&mut u);
        // A tiny fully discrete space may be exhausted: then accept repeats.
        if !contains_point(exclude, &u) || tries > 128 * k + 1024 {
            exclude.extend_from_slice(&u);
            out.extend_from_slice(&u);
        }
    }
    out
}

/// Posterior mean and variance (in the units of `y`) at `m` unit points `xt`, for a GP
/// conditioned on `(x, y)` with the hyperparameters of `state`.
pub fn predict(
    space: &Space,
    x: &[f64],
    y: &[f64],
    state: &GpState,
    xt: &[f64],
) -> Result<(Vec<f64>, Vec<f64>)> {
    let d = space.len();
    let n = check_points("x", x, d)?;
    check_points("xt", xt, d)?;
    if y.len() != n || n == 0 {
        return invalid(format!(
            "need y with one value per row of x (and at least one row), got {} for {n}",
            y.len()
        ));
    }
    if y.iter().any(|v| !v.is_finite()) || state.hyper.dim() != d || !state.hyper.is_finite() {
        return invalid("y must be finite and the state must match the space");
    }
    let cat = categorical_mask(space);
    let mut kx = vec![0.0; x.len()];
    to_kernel_coords(space, x, &mut kx);
    let (ys, mean, std) = standardise(y);
    let gp = Gp::new(&kx, &ys, &cat, state.hyper.clone())?;
    let mut kt = vec![0.0; xt.len()];
    to_kernel_coords(space, xt, &mut kt);
    let (m, v) = gp.predict(&kt);
    Ok((
        m.iter().map(|v| mean + std * v).collect(),
        v.iter().map(|v| v * std * std).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::Dim;

    #[test]
    fn standardise_constant_and_huge() {
        let (ys, m, s) = standardise(&[3.0; 5]);
        assert_eq!(ys, vec![0.0; 5]);
        assert_eq!((m, s), (3.0, 1.0));
        let (ys, _, _) = standardise(&[1e12, 1e12 + 1.0, 1e12 + 2.0]);
        assert!((ys[2] - 1.224_744_871_391_589).abs() < 1e-9);
    }

    /// `ln(1 + (y - min) / median gap)` and its log derivative, as the Python sampler warps.
    fn log_warp(y: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let lo = y.iter().copied().fold(f64::INFINITY, f64::min);
        let mut gaps: Vec<f64> = y.iter().map(|v| v - lo).collect();
        gaps.sort_by(f64::total_cmp);
        let s = gaps[gaps.len() / 2];
        let w = y.iter().map(|v| ((v - lo) / s).ln_1p()).collect();
        let j = y.iter().map(|v| -(s + v - lo).ln()).collect();
        (w, j)
    }

    #[test]
    fn log_evidence_prefers_the_transform_that_fits() {
        let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap()]).unwrap();
        let x: Vec<f64> = (0..16).map(|i| f64::from(i) / 15.0).collect();
        let o = BoOptions::default();
        let evidence = |y: &[f64]| {
            let (plain, _) = log_evidence(&space, &x, y, &vec![0.0; y.len()], 1, &o, None).unwrap();
            let (w, j) = log_warp(y);
            let (warped, _) = log_evidence(&space, &x, &w, &j, 1, &o, None).unwrap();
            (plain, warped)
        };
        // Values spanning six orders of magnitude: smooth only after the log warping.
        let steep: Vec<f64> = x
            .iter()
            .map(|t| (14.0 * t).exp() + (9.0 * t).sin())
            .collect();
        let (plain, warped) = evidence(&steep);
        assert!(warped > plain + 0.5, "{plain} {warped}");
        // A sine: the warping folds its troughs into kinks.
        let wave: Vec<f64> = x.iter().map(|t| (6.0 * t).sin()).collect();
        let (plain, warped) = evidence(&wave);
        assert!(plain > warped + 0.1, "{plain} {warped}");
        // The same data give the same evidence, and bad Jacobians are refused.
        assert_eq!(evidence(&wave), evidence(&wave));
        assert!(log_evidence(&space, &x, &wave, &[0.0; 3], 1, &o, None).is_err());
        let mut j = vec![0.0; 16];
        j[3] = f64::NAN;
        assert!(log_evidence(&space, &x, &wave, &j, 1, &o, None).is_err());
    }

    #[test]
    fn state_round_trip() {
        let s = GpState {
            hyper: Hyper::default_for(3),
        };
        assert_eq!(GpState::from_vec(3, &s.to_vec()).unwrap(), s);
        assert!(GpState::from_vec(2, &s.to_vec()).is_err());
    }

    #[test]
    fn predict_interpolates_in_original_units() {
        let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap()]).unwrap();
        let x = [0.1, 0.4, 0.7, 0.9];
        let y = [1000.0, 1003.0, 999.0, 1001.0];
        let (_, state) = suggest(&space, &x, &y, &[], 1, 0, &BoOptions::default(), None).unwrap();
        let (m, v) = predict(&space, &x, &y, &state, &x).unwrap();
        for i in 0..4 {
            assert!((m[i] - y[i]).abs() < 0.05, "{m:?}");
            assert!(v[i] >= 0.0 && v[i] < 0.01, "{v:?}");
        }
    }

    #[test]
    fn the_gp_stays_off_the_faces() {
        // A 6-d bowl seen through noise from 6 random points: the fit is close to its prior,
        // so where its prior mean sits decides the suggestion. At the average of the
        // observations the box's faces (largest variance) look as promising as the trials;
        // at the worst observation they do not.
        let d = 6;
        let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap(); d]).unwrap();
        let o = BoOptions::default();
        let mut on_bound = 0;
        for seed in 0..20 {
            let mut rng = Rng::derive(seed, 7, 0);
            let x: Vec<f64> = (0..6 * d).map(|_| rng.uniform()).collect();
            let y: Vec<f64> = x
                .chunks(d)
                .map(|p| p.iter().map(|v| (v - 0.5).powi(2)).sum::<f64>() + 0.5 * rng.normal())
                .collect();
            let (pts, _) = suggest(&space, &x, &y, &[], 1, seed, &o, None).unwrap();
            on_bound += pts
                .iter()
                .filter(|v| **v <= 1e-9 || **v >= 1.0 - 1e-9)
                .count();
        }
        // 3 of 120 with the worst value as the prior mean, 21 with the average.
        assert!(on_bound <= 8, "{on_bound} of 120 coordinates on a bound");
    }

    #[test]
    fn noisy_option_allows_more_noise() {
        // A linear trend plus seeded noise: with the noisy prior the fitted noise is never
        // smaller, and with enough points both see roughly the true noise (standardised
        // variance about 0.3 here, ln = -1.2).
        let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap()]).unwrap();
        for n in [12u32, 20, 40] {
            let mut rng = Rng::derive(3, 0, 0);
            let x: Vec<f64> = (0..n).map(|i| f64::from(i) / f64::from(n - 1)).collect();
            let y: Vec<f64> = x.iter().map(|t| t + 0.2 * rng.normal()).collect();
            let noise_of = |noisy: bool| {
                let o = BoOptions {
                    noisy,
                    ..BoOptions::default()
                };
                let (_, state) = suggest(&space, &x, &y, &[], 1, 0, &o, None).unwrap();
                state.hyper.log_noise
            };
            let (quiet, noisy) = (noise_of(false), noise_of(true));
            assert!(noisy >= quiet - 1e-6, "n={n}: {noisy} vs {quiet}");
            if n == 12 {
                // Few points: the default prior explains the noise away, the noisy one not.
                assert!(noisy > quiet + 1.0, "n={n}: {noisy} vs {quiet}");
            }
            assert!(
                noisy > -2.5,
                "n={n}: the noisy fit should see the noise: {noisy}"
            );
        }
    }

    #[test]
    fn constraints_steer_towards_the_feasible_optimum() {
        // Minimise (x - 0.8)^2 subject to x - 0.4 <= 0: the constrained optimum is x = 0.4.
        let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap()]).unwrap();
        let mut x: Vec<f64> = vec![0.05, 0.3, 0.55, 0.7, 0.95];
        let o = BoOptions::default();
        let mut warm = None;
        let mut warm_c: Vec<GpState> = Vec::new();
        for step in 0..8 {
            let y: Vec<f64> = x.iter().map(|t| (t - 0.8) * (t - 0.8)).collect();
            let c: Vec<f64> = x.iter().map(|t| t - 0.4).collect();
            let cons = Constraints {
                values: &c,
                k: 1,
                warm: &warm_c,
            };
            let (pts, state, states) =
                suggest_constrained(&space, &x, &y, &cons, &[], 1, step, &o, warm.as_ref())
                    .unwrap();
            x.push(pts[0]);
            warm = Some(state);
            warm_c = states;
        }
        let best = x
            .iter()
            .filter(|t| **t <= 0.4)
            .fold(f64::NEG_INFINITY, |a, b| a.max(*b));
        assert!(best > 0.37, "best feasible x {best}, points {x:?}");
        // Without constraints the same loop heads for 0.8.
        let (pts, _) = suggest(
            &space,
            &x,
            &x.iter().map(|t| (t - 0.8) * (t - 0.8)).collect::<Vec<_>>(),
            &[],
            1,
            0,
            &o,
            None,
        )
        .unwrap();
        assert!(pts[0] > 0.6, "{pts:?}");
    }

    #[test]
    fn constraints_without_a_feasible_point_seek_feasibility() {
        let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap()]).unwrap();
        let x = [0.5, 0.7, 0.9];
        let y = [0.0, 1.0, 2.0];
        let c = [0.1, 0.3, 0.5]; // x - 0.4: all infeasible
        let cons = Constraints {
            values: &c,
            k: 1,
            warm: &[],
        };
        let o = BoOptions::default();
        let (pts, _, _) = suggest_constrained(&space, &x, &y, &cons, &[], 1, 3, &o, None).unwrap();
        assert!(pts[0] < 0.45, "{pts:?}");
        let bad = [f64::INFINITY, 0.0, 0.0];
        let cons = Constraints {
            values: &bad,
            k: 1,
            warm: &[],
        };
        assert!(suggest_constrained(&space, &x, &y, &cons, &[], 1, 3, &o, None).is_err());
        let short = Constraints {
            values: &c[..2],
            k: 1,
            warm: &[],
        };
        assert!(suggest_constrained(&space, &x, &y, &short, &[], 1, 3, &o, None).is_err());
    }

    /// ZDT1 in two dims: the front is `x1 = 0`, any `x0`.
    fn zdt1(u: &[f64]) -> [f64; 2] {
        let g = 1.0 + 9.0 * u[1];
        [u[0], g * (1.0 - (u[0] / g).sqrt())]
    }

    #[test]
    fn multi_objective_moves_to_the_front_and_spreads_along_it() {
        let space = Space::new(vec![
            Dim::float(0.0, 1.0, false).unwrap(),
            Dim::float(0.0, 1.0, false).unwrap(),
        ])
        .unwrap();
        let mut x = vec![0.1, 0.9, 0.5, 0.5, 0.9, 0.2, 0.3, 0.7, 0.7, 0.6];
        let o = BoOptions::default();
        let none = Constraints {
            values: &[],
            k: 0,
            warm: &[],
        };
        let mut warm: Vec<GpState> = Vec::new();
        for step in 0..14 {
            let y: Vec<f64> = x.chunks_exact(2).flat_map(zdt1).collect();
            let (pts, states, _) =
                suggest_multi(&space, &x, &y, 2, &none, &[], 1, step, &o, &warm).unwrap();
            assert_eq!(states.len(), 2);
            x.extend_from_slice(&pts);
            warm = states;
        }
        let new: Vec<&[f64]> = x.chunks_exact(2).skip(5).collect();
        let near_front = new.iter().filter(|u| u[1] < 0.1).count();
        assert!(
            near_front >= 9,
            "{near_front} of 14 near the front: {new:?}"
        );
        let near: Vec<f64> = new.iter().filter(|u| u[1] < 0.1).map(|u| u[0]).collect();
        let spread = near.iter().fold(0.0_f64, |a, b| a.max(*b))
            - near.iter().fold(1.0_f64, |a, b| a.min(*b));
        assert!(
            spread > 0.5,
            "front points cover only {spread} of x0: {near:?}"
        );
        // A batch is distinct points, and pending points are not suggested again.
        let y: Vec<f64> = x.chunks_exact(2).flat_map(zdt1).collect();
        let pending = [0.25, 0.0];
        let (pts, _, _) =
            suggest_multi(&space, &x, &y, 2, &none, &pending, 3, 1, &o, &warm).unwrap();
        let rows: Vec<&[f64]> = pts.chunks_exact(2).collect();
        assert_eq!(rows.len(), 3);
        for (i, a) in rows.iter().enumerate() {
            assert!(!contains_point(&pending, a));
            for b in &rows[i + 1..] {
                assert!(a != b, "{rows:?}");
            }
        }
    }

    #[test]
    fn a_trust_region_confines_the_search_around_the_incumbent() {
        let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap()]).unwrap();
        // The best trial at 0.1, then 16 failures spread over the line: four halvings of 0.8
        // (d = 1: four failures each) leave a side of 0.05 around 0.1, whatever the lengthscale
        // (one dimension: no stretch).
        let mut x = vec![0.1, 0.9];
        let mut y = vec![0.0, 1.0];
        for i in 0..16 {
            x.push(0.3 + 0.04 * f64::from(i));
            y.push(0.5 + 0.01 * f64::from(i));
        }
        let tr = TrustRegionOptions {
            n_start: 2,
            ..TrustRegionOptions::default()
        };
        let o = BoOptions {
            trust_region: Some(tr.clone()),
            ..BoOptions::default()
        };
        let (pts, _) = suggest(&space, &x, &y, &[], 3, 5, &o, None).unwrap();
        for u in &pts {
            assert!((0.075 - 1e-12..=0.125 + 1e-12).contains(u), "{pts:?}");
        }
        // The replay says the same; a region needs valid lengths, and a single objective.
        let r = trust_region::replay(&y, 1, &tr).unwrap();
        assert_eq!((r.length, r.center), (0.05, 0));
        let bad = BoOptions {
            trust_region: Some(TrustRegionOptions {
                min_length: 1.0,
                ..tr.clone()
            }),
            ..BoOptions::default()
        };
        assert!(suggest(&space, &x, &y, &[], 1, 5, &bad, None).is_err());
        let none = Constraints {
            values: &[],
            k: 0,
            warm: &[],
        };
        let y2: Vec<f64> = y.iter().flat_map(|v| [*v, -v]).collect();
        assert!(suggest_multi(&space, &x, &y2, 2, &none, &[], 1, 5, &o, &[]).is_err());
    }

    #[test]
    fn multi_objective_respects_constraints_and_checks_its_input() {
        let space = Space::new(vec![
            Dim::float(0.0, 1.0, false).unwrap(),
            Dim::float(0.0, 1.0, false).unwrap(),
        ])
        .unwrap();
        let o = BoOptions::default();
        // Feasible only where x0 >= 0.6: the front there is x1 = 0, x0 in [0.6, 1].
        let mut x = vec![0.1, 0.9, 0.5, 0.5, 0.9, 0.2, 0.3, 0.7, 0.7, 0.6];
        for step in 0..10 {
            let y: Vec<f64> = x.chunks_exact(2).flat_map(zdt1).collect();
            let c: Vec<f64> = x.chunks_exact(2).map(|u| 0.6 - u[0]).collect();
            let cons = Constraints {
                values: &c,
                k: 1,
                warm: &[],
            };
            let (pts, _, cstates) =
                suggest_multi(&space, &x, &y, 2, &cons, &[], 1, step, &o, &[]).unwrap();
            assert_eq!(cstates.len(), 1);
            x.extend_from_slice(&pts);
        }
        let feasible = x.chunks_exact(2).skip(5).filter(|u| u[0] >= 0.55).count();
        assert!(feasible >= 8, "{feasible} of 10 feasible: {x:?}");
        let none = Constraints {
            values: &[],
            k: 0,
            warm: &[],
        };
        assert!(suggest_multi(&space, &[0.5, 0.5], &[1.0], 2, &none, &[], 1, 0, &o, &[]).is_err());
        assert!(suggest_multi(&space, &[0.5, 0.5], &[1.0], 0, &none, &[], 1, 0, &o, &[]).is_err());
        let nan = [1.0, f64::NAN];
        assert!(suggest_multi(&space, &[0.5, 0.5], &nan, 2, &none, &[], 1, 0, &o, &[]).is_err());
        // No data yet: space-filling points and default states.
        let (pts, states, _) =
            suggest_multi(&space, &[], &[], 3, &none, &[], 2, 0, &o, &[]).unwrap();
        assert_eq!((pts.len(), states.len()), (4, 3));
    }

    #[test]
    fn rejects_bad_input() {
        let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap(); 2]).unwrap();
        let o = BoOptions::default();
        assert!(suggest(&space, &[0.1, 0.2, 0.3], &[1.0], &[], 1, 0, &o, None).is_err());
        assert!(suggest(&space, &[0.1, 0.2], &[f64::NAN], &[], 1, 0, &o, None).is_err());
        assert!(suggest(&space, &[0.1, 1.2], &[1.0], &[], 1, 0, &o, None).is_err());
        assert!(suggest(&space, &[0.1, 0.2], &[1.0, 2.0], &[], 1, 0, &o, None).is_err());
        assert!(suggest(&space, &[0.1, 0.2], &[1.0], &[0.5], 1, 0, &o, None).is_err());
        let bad = BoOptions {
            acquisition: Acquisition::Ucb { beta: -1.0 },
            ..BoOptions::default()
        };
        assert!(suggest(&space, &[0.1, 0.2], &[1.0], &[], 1, 0, &bad, None).is_err());
    }
}
