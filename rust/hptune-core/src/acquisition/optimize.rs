//! Maximising an acquisition over a mixed space.
//!
//! Notation: unit points `u` in `[0, 1]^d`; *relaxed* dims are continuous floats and ordered
//! discrete dims with many levels, optimised by gradient and snapped afterwards; the other
//! discrete dims (categoricals and short ordered ones) are searched level by level.
//!
//! Strategy: score a scrambled Sobol' sweep plus perturbations of the best observed points in
//! one batched posterior call, start bounded L-BFGS from the best few over the relaxed dims,
//! snap, then improve discrete dims by a greedy search over neighbouring levels / other
//! categories. Every returned point is snapped, so it decodes to exactly what it encodes.

use super::{
    Acquisition, ConstraintModel, ObjectiveModels, combine_feasibility,
    combine_feasibility_with_grad, log_feasibility, log_feasibility_with_grad, score,
    score_with_grad,
};
use crate::gp::Gp;
use crate::optim::{LbfgsOptions, minimize_bounded};
use crate::rng::Rng;
use crate::sampling::Sobol;
use crate::space::{Dim, Kind, Space};

/// Ordered discrete dims with more levels than this are optimised as if continuous.
const MAX_ENUMERATED_LEVELS: u64 = 16;
/// Two points closer than this in every coordinate count as the same point.
pub const SAME_POINT_TOL: f64 = 1e-9;

/// A fitted model and what to maximise on it.
#[derive(Debug, Clone, Copy)]
pub struct AcqContext<'a> {
    /// The search space.
    pub space: &'a Space,
    /// The posterior (standardised units); with several objectives, the first objective's.
    pub gp: &'a Gp,
    /// Several objectives: the score is their `LogEHVI` and `kind`, `best` are unused.
    pub objectives: Option<&'a ObjectiveModels>,
    /// The acquisition function.
    pub kind: Acquisition,
    /// Incumbent: the smallest standardised observation (feasible ones only, with
    /// constraints).
    pub best: f64,
    /// Models of outcome constraints; the acquisition is weighted by the probability that
    /// all hold (empty: unconstrained).
    pub constraints: &'a [ConstraintModel],
    /// False when constrained and nothing feasible was observed yet: the score is then the
    /// log probability of feasibility alone.
    pub incumbent: bool,
}

/// Effort of the optimiser.
#[derive(Debug, Clone)]
pub struct AcqOptimOptions {
    /// Size of the quasi-random sweep.
    pub n_candidates: usize,
    /// Number of local optimisations started from the best candidates.
    pub n_restarts: usize,
    /// Perturbed copies of each of the best observed points added to the sweep.
    pub n_perturb: usize,
    /// L-BFGS iterations per restart.
    pub max_iter: usize,
    /// A box `(lo, hi)` of unit coordinates to search in (a trust region); `None`: the cube.
    pub region: Option<(Vec<f64>, Vec<f64>)>,
}

/// Kernel coordinates of a unit point without snapping ordered dims (so gradients exist).
fn kernel_point(space: &Space, u: &[f64], out: &mut [f64]) {
    for (j, dim) in space.dims().iter().enumerate() {
        out[j] = if dim.kind() == Kind::Categorical {
            dim.decode(u[j])
        } else {
            u[j]
        };
    }
}

impl AcqContext<'_> {
    /// Scores of `m` snapped unit points (`m x d`).
    #[must_use]
    pub fn scores(&self, unit: &[f64]) -> Vec<f64> {
        let d = self.space.len();
        let mut kx = vec![0.0; unit.len()];
        for (row, out) in unit.chunks_exact(d).zip(kx.chunks_exact_mut(d)) {
            kernel_point(self.space, row, out);
        }
        let mut out: Vec<f64> = if let Some(models) = self.objectives {
            let preds: Vec<(Vec<f64>, Vec<f64>)> =
                models.gps.iter().map(|gp| gp.predict(&kx)).collect();
            let mut mean = vec![0.0; preds.len()];
            let mut var = vec![0.0; preds.len()];
            (0..unit.len() / d)
                .map(|i| {
                    for (j, (pm, pv)) in preds.iter().enumerate() {
                        mean[j] = pm[i];
                        var[j] = pv[i];
                    }
                    models.boxes.log_ehvi(&mean, &var)
                })
                .collect()
        } else {
            let (mean, var) = self.gp.predict(&kx);
            mean.iter()
                .zip(&var)
                .map(|(&m, &v)| score(self.kind, m, v, self.best))
                .collect()
        };
        if !self.constraints.is_empty() {
            let mut log_pof = vec![0.0; out.len()];
            for c in self.constraints {
                let (cm, cv) = c.gp.predict(&kx);
                for ((lp, m), v) in log_pof.iter_mut().zip(&cm).zip(&cv) {
                    *lp += log_feasibility(*m, *v, c.threshold);
                }
            }
            for (o, lp) in out.iter_mut().zip(&log_pof) {
                *o = combine_feasibility(self.kind, *o, *lp, self.incumbent);
            }
        }
        out.into_iter().map(finite_or_neg_inf).collect()
    }

    /// Score and gradient at one unit point (gradient zero on categorical dims).
    pub fn score_with_grad(&self, u: &[f64], grad: &mut [f64]) -> f64 {
        let d = self.space.len();
        let mut kx = vec![0.0; d];
        kernel_point(self.space, u, &mut kx);
        let mut gm = vec![0.0; d];
        let mut gv = vec![0.0; d];
        let value = if let Some(models) = self.objectives {
            ehvi_with_grad(models, &kx, grad)
        } else {
            let (m, v) = self.gp.predict_with_grad(&kx, &mut gm, &mut gv);
            score_with_grad(self.kind, m, v, self.best, &gm, &gv, grad)
        };
        if self.constraints.is_empty() {
            return value;
        }
        let mut grad_pof = vec![0.0; d];
        let mut log_pof = 0.0;
        for c in self.constraints {
            let (cm, cv) = c.gp.predict_with_grad(&kx, &mut gm, &mut gv);
            log_pof += log_feasibility_with_grad(cm, cv, c.threshold, &gm, &gv, &mut grad_pof);
        }
        combine_feasibility_with_grad(self.kind, value, log_pof, self.incumbent, grad, &grad_pof)
    }
}

/// `LogEHVI` at one point (kernel coordinates) and its gradient, by the chain rule through
/// each objective's posterior mean and variance.
fn ehvi_with_grad(models: &ObjectiveModels, kx: &[f64], grad: &mut [f64]) -> f64 {
    let d = kx.len();
    let m = models.gps.len();
    let mut gm = vec![0.0; m * d];
    let mut gv = vec![0.0; m * d];
    let mut mean = vec![0.0; m];
    let mut var = vec![0.0; m];
    for (j, gp) in models.gps.iter().enumerate() {
        let (mj, vj) =
            gp.predict_with_grad(kx, &mut gm[j * d..(j + 1) * d], &mut gv[j * d..(j + 1) * d]);
        mean[j] = mj;
        var[j] = vj;
    }
    let mut d_mean = vec![0.0; m];
    let mut d_var = vec![0.0; m];
    let value = models
        .boxes
        .log_ehvi_with_grad(&mean, &var, &mut d_mean, &mut d_var);
    grad.fill(0.0);
    for j in 0..m {
        for (k, g) in grad.iter_mut().enumerate() {
            *g += d_mean[j] * gm[j * d + k] + d_var[j] * gv[j * d + k];
        }
    }
    value
}

fn finite_or_neg_inf(v: f64) -> f64 {
    if v.is_nan() { f64::NEG_INFINITY } else { v }
}

/// Whether `u` coincides with one of the rows of `set`.
#[must_use]
pub fn contains_point(set: &[f64], u: &[f64]) -> bool {
    let d = u.len();
    set.chunks_exact(d).any(|row| {
        row.iter()
            .zip(u)
            .all(|(a, b)| (a - b).abs() <= SAME_POINT_TOL)
    })
}

/// Unit encodings of the values a discrete dim may move to from `u`: every other level of a
/// categorical or short ordered dim, the two nearest levels on each side otherwise. Working on
/// values (not cells) keeps this right for log-scaled ints, whose cells are not equal in `u`.
fn neighbour_units(dim: &Dim, u: f64) -> Vec<f64> {
    let Some(k) = dim.cardinality() else {
        return Vec::new();
    };
    let x = dim.decode(u);
    let step = if dim.step() > 0.0 { dim.step() } else { 1.0 };
    let values: Vec<f64> = if dim.kind() == Kind::Categorical || k <= MAX_ENUMERATED_LEVELS {
        (0..k).map(|i| dim.low() + i as f64 * step).collect()
    } else {
        [-2.0, -1.0, 1.0, 2.0]
            .iter()
            .map(|o| x + o * step)
            .filter(|v| *v >= dim.low() && *v <= dim.high())
            .collect()
    };
    values
        .into_iter()
        .filter(|v| (v - x).abs() > 0.25 * step)
        .map(|v| dim.encode(v))
        .collect()
}

/// Best point found (snapped) and its score, avoiding the rows of `exclude`; `None` only if
/// every point tried was excluded.
///
/// `anchors` are unit points worth searching around (the best observations, best first).
#[must_use]
pub fn optimize_acquisition(
    ctx: &AcqContext<'_>,
    anchors: &[f64],
    exclude: &[f64],
    seed: u64,
    options: &AcqOptimOptions,
) -> Option<(Vec<f64>, f64)> {
    let space = ctx.space;
    let d = space.len();
    let dims = space.dims();
    let relaxed: Vec<usize> = (0..d)
        .filter(|&j| {
            let dim = &dims[j];
            !dim.is_discrete()
                || (dim.kind() != Kind::Categorical
                    && dim.cardinality().is_none_or(|k| k > MAX_ENUMERATED_LEVELS))
        })
        .collect();
    let discrete: Vec<usize> = (0..d).filter(|&j| dims[j].is_discrete()).collect();

    let (lo, hi) = options
        .region
        .clone()
        .unwrap_or_else(|| (vec![0.0; d], vec![1.0; d]));

    // 1. Candidates: Sobol sweep (over the region) plus perturbations of the anchors.
    let mut cands = if let Ok(sobol) = Sobol::new(d, Some(seed)) {
        sobol.points(0, options.n_candidates.max(1))
    } else {
        let mut rng = Rng::derive(seed, 0xC0DE, 0);
        (0..options.n_candidates.max(1) * d)
            .map(|_| rng.uniform())
            .collect()
    };
    if options.region.is_some() {
        for row in cands.chunks_exact_mut(d) {
            for (j, v) in row.iter_mut().enumerate() {
                *v = lo[j] + (hi[j] - lo[j]) * *v;
            }
        }
    }
    let mut rng = Rng::derive(seed, 0xAC0, 1);
    for (a, anchor) in anchors.chunks_exact(d).enumerate() {
        for p in 0..options.n_perturb {
            // Mixed scales: fine polishing near the anchor and wider local exploration.
            let scale = [0.01, 0.05, 0.2][(a + p) % 3];
            let mut u = anchor.to_vec();
            for (j, uj) in u.iter_mut().enumerate() {
                if relaxed.contains(&j) {
                    *uj = (*uj + scale * rng.normal()).clamp(lo[j], hi[j]);
                } else if rng.below(d as u64) == 0 {
                    *uj = lo[j] + (hi[j] - lo[j]) * rng.uniform();
                } else {
                    *uj = uj.clamp(lo[j], hi[j]);
                }
            }
            cands.extend_from_slice(&u);
        }
    }
    for row in cands.chunks_exact_mut(d) {
        space.snap_row(row);
    }
    let n_cands = cands.len() / d;
    // Scored in chunks of 4 candidates (the kernels' block size), so the split cannot change
    // a single bit of any score.
    let chunk = n_cands.div_ceil(WORKERS).div_ceil(4) * 4 * d;
    let scores: Vec<f64> = map_parallel(
        &cands.chunks(chunk.max(d)).collect::<Vec<_>>(),
        ctx.gp.n() * ctx.gp.n() * n_cands,
        |c| ctx.scores(c),
    )
    .into_iter()
    .flatten()
    .collect();
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));

    // 2. Local optimisation from the best distinct candidates.
    let mut starts: Vec<f64> = Vec::new();
    for &c in &order {
        if starts.len() >= options.n_restarts * d {
            break;
        }
        let u = &cands[c * d..(c + 1) * d];
        if !contains_point(&starts, u) {
            starts.extend_from_slice(u);
        }
    }
    let lbfgs = LbfgsOptions {
        max_iter: options.max_iter,
        max_eval: 2 * options.max_iter + 5,
        memory: 6,
        // Relative changes below 1e-7 of the score do not move the maximiser anywhere useful.
        pg_tol: 1e-6,
        f_tol: 1e-7,
        f_abs_tol: 0.0,
        initial_step: 0.1,
    };
    let results = map_parallel(
        &starts.chunks_exact(d).collect::<Vec<_>>(),
        ctx.gp.n() * ctx.gp.n() * options.max_iter,
        |start| polish(ctx, start, &relaxed, &discrete, &lbfgs, (&lo, &hi)),
    );

    // 4. Best point not excluded: optimised results first, then the raw sweep.
    let mut results = results;
    results.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (u, v) in &results {
        if !contains_point(exclude, u) {
            return Some((u.clone(), *v));
        }
    }
    for &c in &order {
        let u = &cands[c * d..(c + 1) * d];
        if !contains_point(exclude, u) {
            return Some((u.to_vec(), scores[c]));
        }
    }
    None
}

/// Local optimisation from one start: L-BFGS over the relaxed dims, then a greedy search over
/// the levels of the discrete ones. Returns the point and its score.
fn polish(
    ctx: &AcqContext<'_>,
    start: &[f64],
    relaxed: &[usize],
    discrete: &[usize],
    lbfgs: &LbfgsOptions,
    (box_lo, box_hi): (&[f64], &[f64]),
) -> (Vec<f64>, f64) {
    let space = ctx.space;
    let d = space.len();
    let dims = space.dims();
    let mut grad = vec![0.0; d];
    let mut u = start.to_vec();
    if !relaxed.is_empty() {
        let lo: Vec<f64> = relaxed.iter().map(|&j| box_lo[j]).collect();
        let hi: Vec<f64> = relaxed.iter().map(|&j| box_hi[j]).collect();
        // Snapping may have moved a start a little past the region.
        let z0: Vec<f64> = relaxed
            .iter()
            .zip(lo.iter().zip(&hi))
            .map(|(&j, (&l, &h))| u[j].clamp(l, h))
            .collect();
        let base = u.clone();
        let objective = |z: &[f64], g: &mut [f64]| {
            let mut full = base.clone();
            for (k, &j) in relaxed.iter().enumerate() {
                full[j] = z[k];
            }
            let v = ctx.score_with_grad(&full, &mut grad);
            for (k, &j) in relaxed.iter().enumerate() {
                g[k] = -grad[j];
            }
            -v
        };
        let r = minimize_bounded(objective, &z0, &lo, &hi, lbfgs);
        for (k, &j) in relaxed.iter().enumerate() {
            u[j] = r.x[k];
        }
    }
    space.snap_row(&mut u);
    let mut value = ctx.scores(&u)[0];
    // 3. Greedy search over the levels of the discrete dims.
    for _pass in 0..if discrete.is_empty() { 0 } else { 3 } {
        let mut improved = false;
        for &j in discrete {
            let moves = neighbour_units(&dims[j], u[j]);
            if moves.is_empty() {
                continue;
            }
            let mut batch = Vec::with_capacity(moves.len() * d);
            for &m in &moves {
                let mut v = u.clone();
                v[j] = m;
                space.snap_row(&mut v);
                batch.extend_from_slice(&v);
            }
            let s = ctx.scores(&batch);
            if let Some((bi, &bv)) = s
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            {
                if bv > value + 1e-12 * value.abs().max(1e-300) {
                    u.copy_from_slice(&batch[bi * d..(bi + 1) * d]);
                    value = bv;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    (u, value)
}

/// Threads used for the acquisition sweep and the restarts (the development and CI machines
/// have two cores; more threads would only add start-up cost at these sizes).
const WORKERS: usize = 2;
/// Below this much work (roughly flops) a second thread costs more than it saves.
const PARALLEL_WORK: usize = 2_000_000;

/// `f` over `items`, in order, on up to [`WORKERS`] scoped threads when `work` is large enough.
/// Every item is computed exactly as it would be serially, so results never depend on timing.
fn map_parallel<T: Sync, R: Send>(items: &[T], work: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < 2 || work < PARALLEL_WORK {
        return items.iter().map(&f).collect();
    }
    let per = items.len().div_ceil(WORKERS);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_order_and_values() {
        let items: Vec<u64> = (0..37).collect();
        let f = |x: &u64| (*x as f64).sqrt().sin();
        let serial: Vec<f64> = items.iter().map(f).collect();
        assert_eq!(map_parallel(&items, usize::MAX, f), serial);
        assert_eq!(map_parallel(&items, 0, f), serial);
        assert_eq!(map_parallel(&items[..1], usize::MAX, f), serial[..1]);
    }
    use crate::gp::{Hyper, to_kernel_coords};
    use crate::space::Dim;

    fn setup() -> (Space, Gp) {
        let space = Space::new(vec![
            Dim::float(0.0, 1.0, false).unwrap(),
            Dim::categorical(3).unwrap(),
            Dim::int(0, 100, false, 1).unwrap(),
        ])
        .unwrap();
        let mut rng = Rng::new(5);
        let n = 12;
        let unit: Vec<f64> = (0..n * 3).map(|_| rng.uniform()).collect();
        let mut kx = vec![0.0; unit.len()];
        to_kernel_coords(&space, &unit, &mut kx);
        let y: Vec<f64> = kx
            .chunks_exact(3)
            .map(|r| (4.0 * r[0]).sin() + 0.3 * r[1] - r[2])
            .collect();
        let h = Hyper {
            log_lengthscale: vec![-1.0, 0.0, -0.5],
            log_signal: 0.0,
            log_noise: -8.0,
        };
        let gp = Gp::new(&kx, &y, &[false, true, false], h).unwrap();
        (space, gp)
    }

    #[test]
    fn neighbours_are_levels_by_value() {
        let log_int = Dim::int(1, 1000, true, 1).unwrap();
        let got: Vec<f64> = neighbour_units(&log_int, log_int.encode(10.0))
            .iter()
            .map(|&u| log_int.decode(u))
            .collect();
        assert_eq!(got, vec![8.0, 9.0, 11.0, 12.0]);
        let cat = Dim::categorical(3).unwrap();
        let got: Vec<f64> = neighbour_units(&cat, cat.encode(1.0))
            .iter()
            .map(|&u| cat.decode(u))
            .collect();
        assert_eq!(got, vec![0.0, 2.0]);
        assert!(neighbour_units(&Dim::float(0.0, 1.0, false).unwrap(), 0.5).is_empty());
    }

    #[test]
    fn context_gradient_matches_finite_differences() {
        let (space, gp) = setup();
        for kind in [Acquisition::LogEi, Acquisition::Ucb { beta: 4.0 }] {
            let ctx = AcqContext {
                objectives: None,
                space: &space,
                gp: &gp,
                kind,
                best: -1.0,
                constraints: &[],
                incumbent: true,
            };
            let u = [0.37, 0.5, 0.61];
            let mut g = [0.0; 3];
            ctx.score_with_grad(&u, &mut g);
            for j in [0, 2] {
                let h = 1e-6;
                let (mut up, mut um) = (u, u);
                up[j] += h;
                um[j] -= h;
                let fd = (ctx.scores(&up)[0] - ctx.scores(&um)[0]) / (2.0 * h);
                assert!(
                    (fd - g[j]).abs() < 1e-5 * (1.0 + fd.abs()),
                    "{kind:?} {j}: {} vs {fd}",
                    g[j]
                );
            }
            assert_eq!(g[1], 0.0);
        }
    }

    #[test]
    fn constrained_gradient_matches_finite_differences() {
        let (space, gp) = setup();
        let constraints = [ConstraintModel {
            gp: gp.clone(),
            threshold: -0.3,
        }];
        for (kind, incumbent) in [
            (Acquisition::LogEi, true),
            (Acquisition::Ei, true),
            (Acquisition::LogEi, false),
        ] {
            let ctx = AcqContext {
                objectives: None,
                space: &space,
                gp: &gp,
                kind,
                best: -1.0,
                constraints: &constraints,
                incumbent,
            };
            let u = [0.37, 0.5, 0.61];
            let mut g = [0.0; 3];
            let v = ctx.score_with_grad(&u, &mut g);
            assert!((v - ctx.scores(&u)[0]).abs() < 1e-9 * (1.0 + v.abs()));
            for j in [0, 2] {
                let h = 1e-6;
                let (mut up, mut um) = (u, u);
                up[j] += h;
                um[j] -= h;
                let fd = (ctx.scores(&up)[0] - ctx.scores(&um)[0]) / (2.0 * h);
                assert!(
                    (fd - g[j]).abs() < 1e-5 * (1.0 + fd.abs()),
                    "{kind:?} {incumbent} {j}: {} vs {fd}",
                    g[j]
                );
            }
        }
    }

    #[test]
    fn optimiser_beats_its_sweep_and_snaps() {
        let (space, gp) = setup();
        let ctx = AcqContext {
            objectives: None,
            space: &space,
            gp: &gp,
            kind: Acquisition::LogEi,
            best: -1.0,
            constraints: &[],
            incumbent: true,
        };
        let options = AcqOptimOptions {
            n_candidates: 64,
            n_restarts: 3,
            n_perturb: 0,
            max_iter: 40,
            region: None,
        };
        let (u, v) = optimize_acquisition(&ctx, &[], &[], 9, &options).unwrap();
        let mut snapped = u.clone();
        space.snap_row(&mut snapped);
        assert_eq!(snapped, u);
        let mut sweep = Sobol::new(3, Some(9)).unwrap().points(0, 64);
        for row in sweep.chunks_exact_mut(3) {
            space.snap_row(row);
        }
        let best_sweep = ctx
            .scores(&sweep)
            .into_iter()
            .fold(f64::NEG_INFINITY, f64::max);
        assert!(v >= best_sweep, "{v} < {best_sweep}");
        assert!((ctx.scores(&u)[0] - v).abs() < 1e-12);
    }
}
