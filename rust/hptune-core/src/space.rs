//! Encoding of a mixed search space into the unit cube `[0, 1]^d` and back.
//!
//! Notation: `d` dimensions; a point `x` holds one value per dimension (floats as they are, ints
//! as integral floats, categoricals as the index of the choice); its encoding `u` lies in
//! `[0, 1]^d`.
//! - continuous float: `u = (t(x) - t(low)) / (t(high) - t(low))`, `t = ln` on log scale.
//! - a dimension with `K` levels (int, stepped float, categorical): level `i` occupies the cell
//!   `[i / K, (i + 1) / K)` and encodes to its centre `(i + 0.5) / K` (the half-step margin), so a
//!   uniform `u` gives every level the same probability.
//! - log-scale int: `t = ln` over `[low - 0.5, high + 0.5]`, decoded by rounding, so each integer
//!   owns the slice of log space closest to it.

use crate::error::{Result, invalid};

/// What kind of values a dimension takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Real values in `[low, high]`, optionally on a step lattice.
    Float,
    /// Integers in `[low, high]`, optionally on a step lattice.
    Int,
    /// One of `n_choices` unordered choices, identified by index.
    Categorical,
}

impl Kind {
    /// Code used across the boundary: 0 float, 1 int, 2 categorical.
    pub fn from_code(code: i64) -> Result<Self> {
        match code {
            0 => Ok(Self::Float),
            1 => Ok(Self::Int),
            2 => Ok(Self::Categorical),
            other => invalid(format!(
                "unknown dimension kind code {other}; expected 0 (float), 1 (int) or 2 (categorical)"
            )),
        }
    }
}

/// One validated dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Dim {
    kind: Kind,
    low: f64,
    high: f64,
    log: bool,
    /// Lattice step for stepped floats and ints (1 for plain ints), 0 for continuous floats.
    step: f64,
    /// Number of levels for discrete dims on a linear lattice and categoricals; 0 otherwise.
    levels: u64,
    /// Transformed bounds used by continuous and log-int encodings.
    t_low: f64,
    t_high: f64,
}

impl Dim {
    /// A continuous float dimension.
    pub fn float(low: f64, high: f64, log: bool) -> Result<Self> {
        Self::new(Kind::Float, low, high, log, None, 0)
    }

    /// A float dimension on the lattice `low, low + step, ..., high`.
    pub fn float_step(low: f64, high: f64, step: f64) -> Result<Self> {
        Self::new(Kind::Float, low, high, false, Some(step), 0)
    }

    /// An integer dimension.
    pub fn int(low: i64, high: i64, log: bool, step: i64) -> Result<Self> {
        Self::new(
            Kind::Int,
            low as f64,
            high as f64,
            log,
            Some(step as f64),
            0,
        )
    }

    /// A categorical dimension with `n` choices.
    pub fn categorical(n: usize) -> Result<Self> {
        Self::new(Kind::Categorical, 0.0, 0.0, false, None, n as u64)
    }

    /// Validate and build a dimension from its raw description.
    ///
    /// `step` of `None` (or `Some(0)`) means continuous for floats and 1 for ints.
    pub fn new(
        kind: Kind,
        low: f64,
        high: f64,
        log: bool,
        step: Option<f64>,
        n_choices: u64,
    ) -> Result<Self> {
        let mut dim = Self {
            kind,
            low,
            high,
            log,
            step: 0.0,
            levels: 0,
            t_low: 0.0,
            t_high: 1.0,
        };
        if kind == Kind::Categorical {
            if n_choices == 0 {
                return invalid("a categorical dimension needs at least one choice");
            }
            if n_choices >= u64::from(u32::MAX) {
                return invalid(format!(
                    "a categorical dimension has fewer than {} choices, got {n_choices}",
                    u32::MAX
                ));
            }
            dim.low = 0.0;
            dim.high = (n_choices - 1) as f64;
            dim.levels = n_choices;
            dim.step = 1.0;
            return Ok(dim);
        }
        if !low.is_finite() || !high.is_finite() {
            return invalid(format!("bounds must be finite, got [{low}, {high}]"));
        }
        if low >= high {
            return invalid(format!("low ({low}) must be below high ({high})"));
        }
        if log && low <= 0.0 {
            return invalid(format!("log scale needs low > 0, got {low}"));
        }
        let step = step.filter(|s| *s != 0.0);
        if kind == Kind::Int {
            if low.fract() != 0.0 || high.fract() != 0.0 {
                return invalid(format!("int bounds must be integers, got [{low}, {high}]"));
            }
            if low.abs() > 2f64.powi(52) || high.abs() > 2f64.powi(52) {
                return invalid("int bounds must lie within +-2^52");
            }
        }
        let step = match (kind, step) {
            (Kind::Int, None) => Some(1.0),
            (_, s) => s,
        };
        if let Some(s) = step {
            if !s.is_finite() || s <= 0.0 {
                return invalid(format!("step must be a positive finite number, got {s}"));
            }
            if kind == Kind::Int && s.fract() != 0.0 {
                return invalid(format!("an int step must be an integer, got {s}"));
            }
            if log && s != 1.0 {
                return invalid("step cannot be combined with log scale");
            }
            let k = (high - low) / s;
            let kr = k.round();
            if (k - kr).abs() > 1e-9 * kr.max(1.0) {
                return invalid(format!(
                    "step {s} does not divide the range [{low}, {high}]"
                ));
            }
            if kr + 1.0 > 2f64.powi(52) {
                return invalid("too many steps in the range (more than 2^52)");
            }
            dim.step = s;
            if !log {
                dim.levels = kr as u64 + 1;
            }
        }
        if log {
            let (a, b) = if kind == Kind::Int {
                (low - 0.5, high + 0.5)
            } else {
                (low, high)
            };
            dim.t_low = a.ln();
            dim.t_high = b.ln();
        } else {
            dim.t_low = low;
            dim.t_high = high;
        }
        Ok(dim)
    }

    /// The kind of values.
    #[must_use]
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Lower bound (0 for categoricals).
    #[must_use]
    pub fn low(&self) -> f64 {
        self.low
    }

    /// Upper bound (`n - 1` for categoricals).
    #[must_use]
    pub fn high(&self) -> f64 {
        self.high
    }

    /// Whether the dimension is on log scale.
    #[must_use]
    pub fn log(&self) -> bool {
        self.log
    }

    /// Lattice step (0 for continuous floats).
    #[must_use]
    pub fn step(&self) -> f64 {
        self.step
    }

    /// True when the dimension takes finitely many values.
    #[must_use]
    pub fn is_discrete(&self) -> bool {
        self.kind != Kind::Float || self.step > 0.0
    }

    /// Number of distinct values when finite, else `None`.
    #[must_use]
    pub fn cardinality(&self) -> Option<u64> {
        if self.levels > 0 {
            Some(self.levels)
        } else if self.kind == Kind::Int {
            Some((self.high - self.low) as u64 + 1)
        } else {
            None
        }
    }

    /// Map a value to the unit interval.
    #[must_use]
    pub fn encode(&self, x: f64) -> f64 {
        if self.levels > 0 {
            let i = ((x - self.low) / self.step).round();
            let i = i.clamp(0.0, (self.levels - 1) as f64);
            return (i + 0.5) / self.levels as f64;
        }
        let t = if self.log { x.ln() } else { x };
        ((t - self.t_low) / (self.t_high - self.t_low)).clamp(0.0, 1.0)
    }

    /// Map a point of the unit interval to a valid value (inputs outside `[0, 1]` are clamped).
    #[must_use]
    pub fn decode(&self, u: f64) -> f64 {
        let u = if u.is_nan() { 0.5 } else { u.clamp(0.0, 1.0) };
        if self.levels > 0 {
            let k = self.levels as f64;
            let i = (u * k).floor().min(k - 1.0);
            if i == k - 1.0 {
                // Keep the upper bound exact despite rounding in `i * step`.
                return self.high;
            }
            let x = self.low + i * self.step;
            return if self.kind == Kind::Float {
                round_to_step_digits(x, self.step).min(self.high)
            } else {
                x
            };
        }
        let t = self.t_low + u * (self.t_high - self.t_low);
        let x = if self.log { t.exp() } else { t };
        if self.kind == Kind::Int {
            x.round().clamp(self.low, self.high)
        } else {
            x.clamp(self.low, self.high)
        }
    }

    /// Whether `x` is a value this dimension can take.
    #[must_use]
    pub fn contains(&self, x: f64) -> bool {
        if !x.is_finite() || x < self.low || x > self.high {
            return false;
        }
        if self.step > 0.0 {
            let k = (x - self.low) / self.step;
            (k - k.round()).abs() <= 1e-9 * k.abs().max(1.0)
        } else {
            true
        }
    }
}

/// Remove the float noise of `low + i * step` (`0.1 * 3 = 0.30000000000000004`) by rounding to
/// twelve significant digits of the step; where that scale would exceed f64's precision the
/// value is left as it is.
fn round_to_step_digits(x: f64, step: f64) -> f64 {
    let digits = 12 - step.abs().log10().floor() as i32;
    if !(0..=300).contains(&digits) {
        return x;
    }
    let scale = 10f64.powi(digits);
    let scaled = x * scale;
    if scaled.abs() >= 2f64.powi(52) {
        return x;
    }
    scaled.round() / scale
}

/// An ordered list of dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    dims: Vec<Dim>,
}

impl Space {
    /// A space over the given dimensions (at least one).
    pub fn new(dims: Vec<Dim>) -> Result<Self> {
        if dims.is_empty() {
            return invalid("a search space needs at least one dimension");
        }
        Ok(Self { dims })
    }

    /// Build from the flat arrays that cross the Python boundary: one entry per dimension of
    /// kind code, low, high, log flag, step (0 = none) and number of choices.
    pub fn from_arrays(
        kinds: &[i64],
        low: &[f64],
        high: &[f64],
        log: &[bool],
        step: &[f64],
        n_choices: &[u64],
    ) -> Result<Self> {
        let d = kinds.len();
        if [
            low.len(),
            high.len(),
            log.len(),
            step.len(),
            n_choices.len(),
        ]
        .iter()
        .any(|&n| n != d)
        {
            return invalid("space arrays must all have one entry per dimension");
        }
        let mut dims = Vec::with_capacity(d);
        for j in 0..d {
            let kind = Kind::from_code(kinds[j])?;
            let s = if step[j] > 0.0 { Some(step[j]) } else { None };
            let dim = Dim::new(kind, low[j], high[j], log[j], s, n_choices[j])
                .map_err(|e| crate::Error::InvalidArgument(format!("dimension {j}: {e}")))?;
            dims.push(dim);
        }
        Self::new(dims)
    }

    /// The dimensions.
    #[must_use]
    pub fn dims(&self) -> &[Dim] {
        &self.dims
    }

    /// Number of dimensions.
    #[must_use]
    pub fn len(&self) -> usize {
        self.dims.len()
    }

    /// Always false: a space has at least one dimension.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.dims.is_empty()
    }

    /// Encode rows of values (`n x d`, row-major) into unit coordinates.
    pub fn encode(&self, values: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_rows(values, out)?;
        let d = self.len();
        for (row, orow) in values.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
            for ((dim, &x), o) in self.dims.iter().zip(row).zip(orow) {
                *o = dim.encode(x);
            }
        }
        Ok(())
    }

    /// Decode rows of unit coordinates (`n x d`, row-major) into values.
    pub fn decode(&self, unit: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_rows(unit, out)?;
        let d = self.len();
        for (row, orow) in unit.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
            self.decode_row(row, orow);
        }
        Ok(())
    }

    /// Decode one point; `u` and `out` have length `d`.
    pub fn decode_row(&self, u: &[f64], out: &mut [f64]) {
        for ((dim, &ui), o) in self.dims.iter().zip(u).zip(out) {
            *o = dim.decode(ui);
        }
    }

    /// Move a unit point onto the encoding of the value it decodes to (centres discrete cells).
    pub fn snap_row(&self, u: &mut [f64]) {
        for (dim, ui) in self.dims.iter().zip(u.iter_mut()) {
            if dim.is_discrete() {
                *ui = dim.encode(dim.decode(*ui));
            }
        }
    }

    fn check_rows(&self, input: &[f64], out: &[f64]) -> Result<()> {
        let d = self.len();
        if input.len() % d != 0 || out.len() != input.len() {
            return invalid(format!(
                "expected rows of {d} values and an output of the same size, got {} and {}",
                input.len(),
                out.len()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_round_trip() {
        let d = Dim::float(-2.0, 3.0, false).unwrap();
        for &x in &[-2.0, -1.0, 0.3, 3.0] {
            assert!((d.decode(d.encode(x)) - x).abs() < 1e-12);
        }
        let l = Dim::float(1e-3, 1e-1, true).unwrap();
        assert!((l.encode(1e-2) - 0.5).abs() < 1e-12);
        assert!((l.decode(0.5) - 1e-2).abs() < 1e-15);
    }

    #[test]
    fn int_cells_are_equal() {
        let d = Dim::int(1, 4, false, 1).unwrap();
        assert_eq!(d.cardinality(), Some(4));
        assert_eq!(d.encode(1.0), 0.125);
        assert_eq!(d.encode(4.0), 0.875);
        assert_eq!(d.decode(0.0), 1.0);
        assert_eq!(d.decode(0.2499), 1.0);
        assert_eq!(d.decode(0.25), 2.0);
        assert_eq!(d.decode(1.0), 4.0);
    }

    #[test]
    fn log_int_round_trip() {
        let d = Dim::int(1, 1000, true, 1).unwrap();
        for x in [1.0, 2.0, 10.0, 999.0, 1000.0] {
            assert_eq!(d.decode(d.encode(x)), x);
        }
        assert_eq!(d.decode(0.0), 1.0);
        assert_eq!(d.decode(1.0), 1000.0);
    }

    #[test]
    fn stepped_float() {
        let d = Dim::float_step(0.0, 1.0, 0.25).unwrap();
        assert_eq!(d.cardinality(), Some(5));
        assert_eq!(d.decode(0.99), 1.0);
        assert_eq!(d.decode(0.5), 0.5);
        let tenth = Dim::float_step(0.0, 1.0, 0.1).unwrap();
        assert_eq!(tenth.decode(0.35), 0.3);
        assert!(Dim::float_step(0.0, 1.0, 0.3).is_err());
    }

    #[test]
    fn bad_dims() {
        assert!(Dim::float(1.0, 1.0, false).is_err());
        assert!(Dim::float(0.0, 1.0, true).is_err());
        assert!(Dim::float(0.0, f64::INFINITY, false).is_err());
        assert!(Dim::categorical(0).is_err());
        assert!(Dim::new(Kind::Int, 0.5, 3.0, false, None, 0).is_err());
        assert!(Space::new(vec![]).is_err());
    }

    #[test]
    fn categorical_round_trip() {
        let d = Dim::categorical(3).unwrap();
        for i in 0..3 {
            assert_eq!(d.decode(d.encode(f64::from(i))), f64::from(i));
        }
    }
}
