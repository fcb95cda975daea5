//! The bad mixture of a study, kept from one suggestion to the next ("masked").
//!
//! It has one component per completed trial, in trial order, with the good trials at weight
//! zero, then the prior. When the history grows by a trial, a kernel's width changes only if
//! one of its neighbours along some dimension (among the bad trials) changed, that is next to
//! the new trial or to a trial that moved between the good and the bad group. So an update
//! refits those few kernels and recomputes only the weights, which change for every trial (the
//! recency ramp). Compacting the bad trials would copy every array on every call; the zero
//! weights cost the `gamma` good trials' worth of extra components instead.
//!
//! Component for component (bad trials, then the prior) the result is the mixture that
//! [`Parzen::new`] fits on the bad trials with the neighbour rule; the good trials' components
//! have weight zero and canonical kernels (centre, width 1), so a mixture updated over many calls
//! equals one fitted afresh on the same trials, bit for bit.
//!
//! Rows that are bad for one call only (running or failed trials, the points already chosen in
//! a batch) go into a copy ([`Parzen::with_extras`]): their kernels and those of the trials next
//! to them are fitted there, and the study's mixture is left as it is.

use super::{
    CHUNK, Coord, KernelGroups, LOG_FLOOR, Parzen, UnitMass, cat_kernel, choice_of, kernel_mass,
    layout, log_weight, min_sigma_for, neighbour_width,
};
use crate::space::Space;
use crate::tpe::TpeOptions;
use crate::tpe::truncnorm::HALF_LN_TAU;

/// What a masked mixture was fitted for, to recognise when it can be updated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Masked {
    /// Which of the trials covered were bad.
    is_bad: Vec<bool>,
    /// Everything the kernels' widths depend on besides the trials: the dims, the bandwidth
    /// floor, the endpoint rule and whether the outermost kernels take their inner gap.
    key: (Vec<(usize, bool)>, Vec<usize>, u64, bool, bool),
    /// Per component, its [`kernel_mass`].
    mass: Vec<(f64, f64)>,
}

/// The continuous dims of `num_dims` with the offsets of their rows, for rows of `stride`.
fn cont_offsets(num_dims: &[(usize, bool)], stride: usize) -> Vec<(usize, usize)> {
    num_dims
        .iter()
        .enumerate()
        .filter(|(_, (_, discrete))| !discrete)
        .map(|(jn, &(j, _))| (j, jn * stride))
        .collect()
}

/// Kernel width of a canonical (unused) component, and its scaled inverse.
const IDLE_SIGMA: f64 = 1.0;
const IDLE_INV: f64 = std::f64::consts::FRAC_1_SQRT_2 / IDLE_SIGMA;

impl Parzen {
    /// The masked bad mixture for the completed trials `snapped` (`n x d`, snapped), of which
    /// `is_bad` marks the bad ones and `weights` gives their raw weights in trial order;
    /// `dim_order[j]` lists all `n` trials ascending by (coordinate `j`, index) (numeric dims).
    /// `prev`, the mixture of an earlier call, is updated when it was fitted the same way on a
    /// prefix of these trials (the caller guarantees that their rows did not change), and
    /// otherwise its buffers are dropped and everything is fitted afresh.
    pub(crate) fn update_masked(
        prev: Option<Self>,
        space: &Space,
        coords: &[Coord],
        snapped: &[f64],
        dim_order: &[Vec<usize>],
        is_bad: &[bool],
        weights: &[f64],
        options: &TpeOptions,
    ) -> Self {
        let d = space.len();
        let n = is_bad.len();
        let n_bad = weights.len();
        debug_assert_eq!(is_bad.iter().filter(|&&b| b).count(), n_bad);
        let (num_dims, cat_dims) = layout(coords);
        // The floor and the categorical spread count components as a compact fit does.
        let min_sigma = min_sigma_for(options, n_bad + 1);
        let key = (
            num_dims.clone(),
            cat_dims.clone(),
            min_sigma.to_bits(),
            options.consider_endpoints,
            n_bad >= 2,
        );
        let n_comp = n + 1;
        let n_pad = n_comp.next_multiple_of(CHUNK);
        let (nn, ncat) = (num_dims.len(), cat_dims.len());

        let reusable = |p: &Self| {
            p.masked
                .as_ref()
                .is_some_and(|m| m.key == key && m.is_bad.len() <= n)
        };
        let mut p = match prev {
            Some(p) if reusable(&p) => p,
            _ => Self::empty_masked(num_dims.clone(), cat_dims.clone(), key.clone()),
        };
        let mut masked = p.masked.take().unwrap_or_else(|| Masked {
            is_bad: Vec::new(),
            key: key.clone(),
            mass: Vec::new(),
        });
        let n_old = masked.is_bad.len();
        p.grow(n_pad, nn, ncat, n_old);
        let stride = p.stride;
        p.cont_dims = cont_offsets(&num_dims, stride);

        // New trials: their means and choices; kernels stay idle until a trial is bad.
        for (jn, &(j, _)) in num_dims.iter().enumerate() {
            let row = jn * stride;
            for i in n_old..n {
                p.mu[row + i] = snapped[i * d + j];
                p.sigma[row + i] = IDLE_SIGMA;
                p.inv_sigma[row + i] = IDLE_INV;
            }
        }
        for (jc, &j) in cat_dims.iter().enumerate() {
            let Coord::Categorical(k) = coords[j] else {
                continue;
            };
            for i in n_old..n {
                p.choice[jc * stride + i] = choice_of(snapped[i * d + j], k) as u32;
            }
        }
        masked.mass.resize(n, (1.0, 0.0));

        // Trials that joined or left the bad group; trials that left it go idle.
        let changed: Vec<usize> = (0..n)
            .filter(|&i| is_bad[i] != (i < n_old && masked.is_bad[i]))
            .collect();
        for &i in changed.iter().filter(|&&i| !is_bad[i]) {
            for jn in 0..nn {
                p.sigma[jn * stride + i] = IDLE_SIGMA;
                p.inv_sigma[jn * stride + i] = IDLE_INV;
            }
            masked.mass[i] = (1.0, 0.0);
        }
        // Refit the kernels next to them, dimension by dimension.
        let mut refit: Vec<usize> = Vec::new();
        for (jn, &(j, discrete)) in num_dims.iter().enumerate() {
            let order = &dim_order[j];
            let value = |i: usize| snapped[i * d + j];
            let mut set_width =
                |p: &mut Self, i: usize, prev: Option<usize>, next: Option<usize>| {
                    let w = neighbour_width(
                        value(i),
                        prev.map(value),
                        next.map(value),
                        options.consider_endpoints,
                        n_bad,
                    );
                    let s = w.clamp(min_sigma, 1.0);
                    p.sigma[jn * stride + i] = s;
                    p.inv_sigma[jn * stride + i] = std::f64::consts::FRAC_1_SQRT_2 / s;
                    if !discrete && n_old > 0 {
                        refit.push(i);
                    }
                };
            if n_old == 0 {
                // Afresh: one pass over the bad trials in order.
                let bad: Vec<usize> = order.iter().copied().filter(|&i| is_bad[i]).collect();
                for (r, &i) in bad.iter().enumerate() {
                    let prev = r.checked_sub(1).map(|r| bad[r]);
                    set_width(&mut p, i, prev, bad.get(r + 1).copied());
                }
                continue;
            }
            // The position of trial i in the order, and its nearest bad trials on either side.
            let position = |i: usize| {
                order.partition_point(|&k| value(k).total_cmp(&value(i)).then(k.cmp(&i)).is_lt())
            };
            let neighbours = |at: usize| {
                let prev = order[..at].iter().rev().copied().find(|&k| is_bad[k]);
                let next = order[at + 1..].iter().copied().find(|&k| is_bad[k]);
                (prev, next)
            };
            let mut affected: Vec<usize> = Vec::new();
            for &c in &changed {
                let (prev, next) = neighbours(position(c));
                affected.extend(prev);
                affected.extend(next);
                if is_bad[c] {
                    affected.push(c);
                }
            }
            affected.sort_unstable();
            affected.dedup();
            for &a in &affected {
                let (prev, next) = neighbours(position(a));
                set_width(&mut p, a, prev, next);
            }
        }
        if n_old == 0 {
            // Afresh: every bad trial.
            refit.extend((0..n).filter(|&i| is_bad[i]));
        } else {
            refit.sort_unstable();
            refit.dedup();
        }
        let unit_mass = UnitMass::new();
        for &i in &refit {
            masked.mass[i] = p.component_mass(unit_mass, i);
        }

        // The prior, then padding: centred unit-width kernels.
        for jn in 0..nn {
            for k in n..n_pad {
                p.mu[jn * stride + k] = 0.5;
                p.sigma[jn * stride + k] = 1.0;
                p.inv_sigma[jn * stride + k] = std::f64::consts::FRAC_1_SQRT_2;
            }
        }
        for (jc, &j) in cat_dims.iter().enumerate() {
            let Coord::Categorical(k) = coords[j] else {
                continue;
            };
            p.choice[jc * stride + n] = k as u32;
            for c in n + 1..n_pad {
                p.choice[jc * stride + c] = 0;
            }
        }
        p.set_weights(n, |i| is_bad[i], &masked.mass, weights, coords, options);

        p.disc_groups = num_dims
            .iter()
            .enumerate()
            .filter(|(_, (_, discrete))| *discrete)
            .map(|(jn, &(j, _))| {
                let r = jn * stride..jn * stride + n_comp;
                KernelGroups::new(&p.mu[r.clone()], &p.sigma[r], Some(&dim_order[j]), stride)
            })
            .collect();
        p.n_comp = n_comp;
        p.n_pad = n_pad;
        masked.is_bad.clear();
        masked.is_bad.extend_from_slice(is_bad);
        p.masked = Some(masked);
        p
    }

    /// A component's [`kernel_mass`] from its kernels in the continuous dims.
    fn component_mass(&self, unit_mass: UnitMass, i: usize) -> (f64, f64) {
        let dims = self.cont_dims.iter().map(|&(_, off)| {
            (
                self.mu[off + i],
                self.sigma[off + i],
                self.inv_sigma[off + i],
            )
        });
        kernel_mass(unit_mass, dims)
    }

    /// Weights of a masked mixture whose components `0..count` count when `member(i)` (the
    /// others weigh zero) and whose prior sits at `count`: `weights` are the members' raw
    /// weights in component order, `mass` their [`kernel_mass`]es. Also the categorical
    /// kernels, which depend on the number of members.
    fn set_weights(
        &mut self,
        count: usize,
        member: impl Fn(usize) -> bool,
        mass: &[(f64, f64)],
        weights: &[f64],
        coords: &[Coord],
        options: &TpeOptions,
    ) {
        let pw = options.prior_weight;
        let total = weights.iter().sum::<f64>() + pw;
        let inv_total = 1.0 / total;
        let norm = self.cont_dims.len() as f64 * HALF_LN_TAU;
        self.log_w.clear();
        self.log_w.resize(self.stride, LOG_FLOOR);
        self.cum_w.clear();
        let mut acc = 0.0;
        let mut next_weight = weights.iter().copied();
        for i in 0..count {
            if member(i) {
                let w = next_weight.next().unwrap_or(0.0);
                self.log_w[i] = log_weight(w, inv_total, mass[i], norm);
                acc += w * inv_total;
            } else {
                self.log_w[i] = f64::NEG_INFINITY;
            }
            self.cum_w.push(acc);
        }
        debug_assert_eq!(next_weight.next(), None);
        let prior_mass = self.component_mass(UnitMass::new(), count);
        self.log_w[count] = log_weight(pw, inv_total, prior_mass, norm);
        self.cum_w.push(acc + pw * inv_total);
        self.cat_kernels = self
            .cat_dims
            .iter()
            .filter_map(|&j| match coords[j] {
                Coord::Categorical(k) => Some(cat_kernel(k, pw, weights.len() + 1)),
                _ => None,
            })
            .collect();
    }

    fn empty_masked(
        num_dims: Vec<(usize, bool)>,
        cat_dims: Vec<usize>,
        key: (Vec<(usize, bool)>, Vec<usize>, u64, bool, bool),
    ) -> Self {
        Self {
            n_comp: 0,
            n_pad: 0,
            stride: 0,
            cum_w: Vec::new(),
            log_w: Vec::new(),
            num_dims,
            cont_dims: Vec::new(),
            mu: Vec::new(),
            sigma: Vec::new(),
            inv_sigma: Vec::new(),
            disc_groups: Vec::new(),
            cat_dims,
            cat_kernels: Vec::new(),
            choice: Vec::new(),
            masked: Some(Masked {
                is_bad: Vec::new(),
                key,
                mass: Vec::new(),
            }),
        }
    }

    /// Make room for `n_pad` components per row, keeping the first `keep` of each row; rows
    /// grow by half again, so a study re-lays its arrays out only a logarithmic number of times.
    fn grow(&mut self, n_pad: usize, nn: usize, ncat: usize, keep: usize) {
        if self.stride >= n_pad {
            return;
        }
        let stride = (n_pad + n_pad / 2).next_multiple_of(CHUNK);
        let relayout = |old: &[f64], old_stride: usize, fill: f64| {
            let mut out = vec![fill; nn * stride];
            for jn in 0..nn {
                let src = &old[jn * old_stride..jn * old_stride + keep];
                out[jn * stride..jn * stride + keep].copy_from_slice(src);
            }
            out
        };
        let old_stride = self.stride;
        self.mu = relayout(&self.mu, old_stride, 0.5);
        self.sigma = relayout(&self.sigma, old_stride, IDLE_SIGMA);
        self.inv_sigma = relayout(&self.inv_sigma, old_stride, IDLE_INV);
        let mut choice = vec![0u32; ncat * stride];
        for jc in 0..ncat {
            let src = &self.choice[jc * old_stride..jc * old_stride + keep];
            choice[jc * stride..jc * stride + keep].copy_from_slice(src);
        }
        self.choice = choice;
        self.stride = stride;
    }
}

/// A component in the order of one dimension: a trial, or an extra row after the trials.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Member {
    Trial(usize),
    Extra(usize),
}

impl Parzen {
    /// This masked mixture with `extras` (`e x d` snapped rows: pending or failed trials, or the
    /// points already chosen in a batch) as further bad components after the trials, for one
    /// call; `self` is left as it is. Component for component (bad trials, extras, prior) it is
    /// the compact fit on the bad trials followed by the extras: the extras' kernels and those
    /// of the trials next to them along some dimension are fitted, the rest copied. `weights`
    /// are the raw weights in that compact order. `None` when the extras would change the
    /// bandwidth floor or the endpoint rule (few trials): the caller then fits afresh.
    pub(crate) fn with_extras(
        &self,
        scratch: Option<Self>,
        space: &Space,
        coords: &[Coord],
        snapped: &[f64],
        dim_order: &[Vec<usize>],
        extras: &[f64],
        weights: &[f64],
        options: &TpeOptions,
    ) -> Option<Self> {
        let masked = self.masked.as_ref()?;
        let is_bad = &masked.is_bad;
        let d = space.len();
        let n = is_bad.len();
        let e = extras.len() / d;
        let m_total = weights.len();
        let n_bad = m_total.checked_sub(e)?;
        let min_sigma = min_sigma_for(options, m_total + 1);
        if min_sigma.to_bits() != masked.key.2 || (m_total >= 2) != masked.key.4 {
            return None;
        }
        let (num_dims, cat_dims) = (&self.num_dims, &self.cat_dims);
        let (nn, ncat) = (num_dims.len(), cat_dims.len());
        let n_comp = n + e + 1;
        let n_pad = n_comp.next_multiple_of(CHUNK);
        let stride = n_pad;

        // Copy the trials' kernels into a compact layout with room for the extras.
        let mut p = scratch.unwrap_or_else(|| {
            Self::empty_masked(num_dims.clone(), cat_dims.clone(), masked.key.clone())
        });
        let copy = |dst: &mut Vec<f64>, src: &[f64], fill: f64| {
            dst.clear();
            dst.resize(nn * stride, fill);
            for jn in 0..nn {
                let from = &src[jn * self.stride..jn * self.stride + n];
                dst[jn * stride..jn * stride + n].copy_from_slice(from);
            }
        };
        copy(&mut p.mu, &self.mu, 0.5);
        copy(&mut p.sigma, &self.sigma, 1.0);
        copy(
            &mut p.inv_sigma,
            &self.inv_sigma,
            std::f64::consts::FRAC_1_SQRT_2,
        );
        p.choice.clear();
        p.choice.resize(ncat * stride, 0);
        for jc in 0..ncat {
            let from = &self.choice[jc * self.stride..jc * self.stride + n];
            p.choice[jc * stride..jc * stride + n].copy_from_slice(from);
        }
        p.stride = stride;
        p.num_dims.clone_from(num_dims);
        p.cat_dims.clone_from(cat_dims);
        p.cont_dims = cont_offsets(num_dims, stride);
        for (jc, &j) in cat_dims.iter().enumerate() {
            let Coord::Categorical(k) = coords[j] else {
                continue;
            };
            for r in 0..e {
                p.choice[jc * stride + n + r] = choice_of(extras[r * d + j], k) as u32;
            }
            p.choice[jc * stride + n + e] = k as u32;
        }
        let mut mass = masked.mass.clone();
        mass.resize(n + e, (1.0, 0.0));

        // Widths along each dimension, in the order of (value, trials before extras, index).
        let mut refit: Vec<usize> = (n..n + e).collect();
        let mut merged_orders: Vec<Vec<usize>> = Vec::new();
        for (jn, &(j, discrete)) in num_dims.iter().enumerate() {
            let order = &dim_order[j];
            let value = |m: Member| match m {
                Member::Trial(i) => snapped[i * d + j],
                Member::Extra(r) => extras[r * d + j],
            };
            let key = |m: Member| match m {
                Member::Trial(i) => (value(m), 0u8, i),
                Member::Extra(r) => (value(m), 1u8, r),
            };
            let less = |a: Member, b: Member| {
                let (ka, kb) = (key(a), key(b));
                ka.0.total_cmp(&kb.0)
                    .then(ka.1.cmp(&kb.1))
                    .then(ka.2.cmp(&kb.2))
                    .is_lt()
            };
            let mut xs: Vec<usize> = (0..e).collect();
            xs.sort_by(|&a, &b| {
                let (a, b) = (Member::Extra(a), Member::Extra(b));
                if less(a, b) {
                    std::cmp::Ordering::Less
                } else if less(b, a) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            });
            // The nearest bad members before and after `m` in the merged order.
            let neighbours = |m: Member| {
                let at = order.partition_point(|&k| less(Member::Trial(k), m));
                let prev_t = order[..at]
                    .iter()
                    .rev()
                    .copied()
                    .find(|&k| is_bad[k])
                    .map(Member::Trial);
                let next_t = order[at..]
                    .iter()
                    .copied()
                    .find(|&k| is_bad[k] && less(m, Member::Trial(k)))
                    .map(Member::Trial);
                let q = xs.partition_point(|&r| less(Member::Extra(r), m));
                let prev_x = q.checked_sub(1).map(|q| Member::Extra(xs[q]));
                let next_x = xs[q..]
                    .iter()
                    .copied()
                    .map(Member::Extra)
                    .find(|&x| less(m, x));
                let prev = match (prev_t, prev_x) {
                    (Some(t), Some(x)) => Some(if less(t, x) { x } else { t }),
                    (t, x) => t.or(x),
                };
                let next = match (next_t, next_x) {
                    (Some(t), Some(x)) => Some(if less(t, x) { t } else { x }),
                    (t, x) => t.or(x),
                };
                (prev, next)
            };
            let slot = |m: Member| match m {
                Member::Trial(i) => i,
                Member::Extra(r) => n + r,
            };
            let set_width = |p: &mut Self, m: Member| {
                let (prev, next) = neighbours(m);
                let w = neighbour_width(
                    value(m),
                    prev.map(value),
                    next.map(value),
                    options.consider_endpoints,
                    m_total,
                );
                let s = w.clamp(min_sigma, 1.0);
                let c = jn * stride + slot(m);
                p.mu[c] = value(m);
                p.sigma[c] = s;
                p.inv_sigma[c] = std::f64::consts::FRAC_1_SQRT_2 / s;
            };
            for r in 0..e {
                let x = Member::Extra(r);
                set_width(&mut p, x);
                let (prev, next) = neighbours(x);
                for t in [prev, next].into_iter().flatten() {
                    if let Member::Trial(i) = t {
                        set_width(&mut p, t);
                        if !discrete {
                            refit.push(i);
                        }
                    }
                }
            }
            if discrete {
                // The full merged order (every trial, then extras where they fall), for grouping.
                let mut merged = Vec::with_capacity(n + e);
                let mut q = 0;
                for &k in order {
                    while q < e && less(Member::Extra(xs[q]), Member::Trial(k)) {
                        merged.push(n + xs[q]);
                        q += 1;
                    }
                    merged.push(k);
                }
                merged.extend(xs[q..].iter().map(|&r| n + r));
                merged_orders.push(merged);
            }
        }
        refit.sort_unstable();
        refit.dedup();
        let unit_mass = UnitMass::new();
        for &i in &refit {
            mass[i] = p.component_mass(unit_mass, i);
        }
        debug_assert_eq!(is_bad.iter().filter(|&&b| b).count(), n_bad);
        // Weights in the compact order: bad trials by index, then the extras.
        p.set_weights(
            n + e,
            |i| i >= n || is_bad[i],
            &mass,
            weights,
            coords,
            options,
        );

        let disc = num_dims.iter().enumerate().filter(|(_, (_, dd))| *dd);
        p.disc_groups = disc
            .zip(&merged_orders)
            .map(|((jn, _), merged)| {
                let r = jn * stride..jn * stride + n_comp;
                KernelGroups::new(&p.mu[r.clone()], &p.sigma[r], Some(merged), stride)
            })
            .collect();
        p.n_comp = n_comp;
        p.n_pad = n_pad;
        p.masked = None;
        Some(p)
    }
}
