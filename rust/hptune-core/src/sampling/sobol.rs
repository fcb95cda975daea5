//! Scrambled Sobol' sequences.
//!
//! Notation: point index `i` (a trial number), dimension `j`, 32 binary digits per coordinate.
//! Coordinate `j` of point `i` is the XOR of the direction numbers `v[j][b]` over the set bits
//! `b` of `i`; the result, read as a binary fraction, lies in `[0, 1)`.
//!
//! Direction numbers: dimension 0 is van der Corput's; dimension `j >= 1` uses the `j`-th
//! primitive polynomial over GF(2) (found by search, in order of degree) with odd initial values
//! drawn from a fixed stream. Every such choice yields a (t, s)-sequence, so each coordinate of the
//! first `2^m` points puts exactly one point in every interval `[k / 2^m, (k + 1) / 2^m)`.
//! (Joe and Kuo's tables optimise the 2-d projections further; the scrambling below evens most of
//! that out for the short designs we use, and keeps the crate free of a 21,201-line table.)
//!
//! Scrambling (seeded): a random lower-triangular linear matrix scramble of the digits followed by
//! a random digital shift, per dimension. Both keep the net property above.

use crate::error::{Result, invalid};
use crate::rng::{Rng, splitmix64};

const BITS: usize = 32;
/// Largest supported dimension: the number of primitive polynomials of degree <= 13, plus one.
pub const MAX_DIM: usize = 1111;

/// A seeded, scrambled Sobol' sequence of a fixed dimension with random access by index.
#[derive(Debug, Clone)]
pub struct Sobol {
    /// `directions[j * BITS + b]`: scrambled direction number of bit `b` in dimension `j`.
    directions: Vec<u32>,
    shifts: Vec<u32>,
    d: usize,
}

impl Sobol {
    /// A `d`-dimensional sequence; `seed` of `None` gives the unscrambled sequence.
    pub fn new(d: usize, seed: Option<u64>) -> Result<Self> {
        if d == 0 || d > MAX_DIM {
            return invalid(format!("Sobol dimension must be in 1..={MAX_DIM}, got {d}"));
        }
        let polys = primitive_polynomials(d.saturating_sub(1));
        let mut init = 0x5EED_5EED_u64;
        let mut directions = vec![0u32; d * BITS];
        let mut shifts = vec![0u32; d];
        for j in 0..d {
            let m = if j == 0 {
                vec![1u64; BITS]
            } else {
                let (degree, poly) = polys[j - 1];
                direction_integers(degree, poly, &mut init)
            };
            let v = &mut directions[j * BITS..(j + 1) * BITS];
            for b in 0..BITS {
                v[b] = (m[b] << (BITS - 1 - b)) as u32;
            }
            if let Some(seed) = seed {
                let mut rng = Rng::derive(seed, 0x50B0, j as u64);
                scramble(v, &mut rng);
                shifts[j] = rng.next_u64() as u32;
            }
        }
        Ok(Self {
            directions,
            shifts,
            d,
        })
    }

    /// Dimension of the points.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.d
    }

    /// Write point `index` into `out` (length `d`); coordinates lie strictly inside `(0, 1)`.
    pub fn point(&self, index: u64, out: &mut [f64]) {
        // Indices past 2^32 wrap; a design of that many points is far outside our use.
        let i = index as u32;
        for (j, o) in out.iter_mut().enumerate().take(self.d) {
            let v = &self.directions[j * BITS..(j + 1) * BITS];
            let mut x = self.shifts[j];
            let mut bits = i;
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                x ^= v[b];
                bits &= bits - 1;
            }
            *o = (f64::from(x) + 0.5) / 4_294_967_296.0;
        }
    }

    /// Points `first .. first + n` as an `n x d` row-major matrix.
    #[must_use]
    pub fn points(&self, first: u64, n: usize) -> Vec<f64> {
        let mut out = vec![0.0; n * self.d];
        for (i, row) in out.chunks_exact_mut(self.d).enumerate() {
            self.point(first + i as u64, row);
        }
        out
    }
}

/// Left-multiply each direction number by a random unit lower-triangular matrix over GF(2),
/// where "lower" is in digit order (the most significant bit is the first digit).
fn scramble(v: &mut [u32], rng: &mut Rng) {
    let mut rows = [0u32; BITS];
    for (k, row) in rows.iter_mut().enumerate() {
        // Output digit k depends on input digits 0..=k; digit k sits at bit 31 - k.
        let own = 1u32 << (BITS - 1 - k);
        let above = if k == 0 { 0 } else { !((own << 1) - 1) };
        *row = own | (rng.next_u64() as u32 & above);
    }
    for x in v.iter_mut() {
        let mut y = 0u32;
        for (k, row) in rows.iter().enumerate() {
            if (row & *x).count_ones() % 2 == 1 {
                y |= 1 << (BITS - 1 - k);
            }
        }
        *x = y;
    }
}

/// The `m_b` integers of one dimension from its primitive polynomial.
///
/// `poly` holds the polynomial's coefficients with bit `degree` the leading term and bit 0 the
/// constant term. The first `degree` values are odd and below `2^(b + 1)`; the rest follow the
/// Bratley-Fox recurrence.
fn direction_integers(degree: usize, poly: u64, state: &mut u64) -> Vec<u64> {
    let mut m = vec![0u64; BITS];
    for b in 0..degree.min(BITS) {
        let r = splitmix64(state);
        m[b] = (r % (1u64 << (b + 1))) | 1;
    }
    for b in degree..BITS {
        let mut value = m[b - degree] ^ (m[b - degree] << degree);
        for k in 1..degree {
            if (poly >> (degree - k)) & 1 == 1 {
                value ^= m[b - k] << k;
            }
        }
        m[b] = value;
    }
    m
}

/// The first `count` primitive polynomials over GF(2), by increasing degree, as (degree, bits).
fn primitive_polynomials(count: usize) -> Vec<(usize, u64)> {
    let mut found = Vec::with_capacity(count);
    let mut degree = 1;
    while found.len() < count {
        let lead = 1u64 << degree;
        for tail in 0..lead {
            if found.len() == count {
                break;
            }
            let p = lead | tail;
            if p & 1 == 1 && is_primitive(p, degree) {
                found.push((degree, p));
            }
        }
        degree += 1;
    }
    found
}

fn mul_mod(a: u64, b: u64, p: u64, degree: usize) -> u64 {
    let mut result = 0u64;
    let mut a = a;
    let mut b = b;
    while b != 0 {
        if b & 1 == 1 {
            result ^= a;
        }
        b >>= 1;
        a <<= 1;
        if (a >> degree) & 1 == 1 {
            a ^= p;
        }
    }
    result
}

fn pow_mod(exp: u64, p: u64, degree: usize) -> u64 {
    let mut result = 1u64;
    let mut base = if degree == 1 { 2 ^ p } else { 2 };
    let mut e = exp;
    while e > 0 {
        if e & 1 == 1 {
            result = mul_mod(result, base, p, degree);
        }
        base = mul_mod(base, base, p, degree);
        e >>= 1;
    }
    result
}

/// `p` of the given degree is primitive when `x` has multiplicative order `2^degree - 1`.
fn is_primitive(p: u64, degree: usize) -> bool {
    let order = (1u64 << degree) - 1;
    if pow_mod(order, p, degree) != 1 {
        return false;
    }
    let mut n = order;
    let mut q = 2;
    while q * q <= n {
        if n % q == 0 {
            if pow_mod(order / q, p, degree) == 1 {
                return false;
            }
            while n % q == 0 {
                n /= q;
            }
        }
        q += 1;
    }
    !(n > 1 && pow_mod(order / n, p, degree) == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_primitive_polynomials() {
        // Number of primitive polynomials of degree n over GF(2) is phi(2^n - 1) / n.
        let polys = primitive_polynomials(MAX_DIM - 1);
        let mut per_degree = [0usize; 14];
        for (deg, _) in polys {
            per_degree[deg] += 1;
        }
        assert_eq!(
            &per_degree[1..],
            &[1, 1, 2, 2, 6, 6, 18, 16, 48, 60, 176, 144, 630]
        );
    }

    #[test]
    fn every_dimension_is_stratified() {
        // The first 2^m points put exactly one point in each of 2^m equal cells, in every
        // dimension, scrambled or not.
        for seed in [None, Some(1), Some(77)] {
            let s = Sobol::new(40, seed).unwrap();
            let pts = s.points(0, 512);
            for j in 0..40 {
                let mut cells = vec![0u32; 512];
                for row in pts.chunks_exact(40) {
                    assert!(row[j] > 0.0 && row[j] < 1.0);
                    cells[(row[j] * 512.0) as usize] += 1;
                }
                assert!(cells.iter().all(|&c| c == 1), "dim {j}, seed {seed:?}");
            }
        }
    }

    #[test]
    fn first_dims_of_unscrambled_sequence() {
        let s = Sobol::new(2, None).unwrap();
        let p = s.points(0, 4);
        let half = 0.5 / 4_294_967_296.0;
        let expect = [0.0, 0.0, 0.5, 0.5, 0.25, 0.75, 0.75, 0.25];
        for (a, b) in p.iter().zip(expect) {
            assert!((a - b - half).abs() < 1e-12, "{p:?}");
        }
    }
}
