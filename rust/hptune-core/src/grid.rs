//! A lazy mixed-radix grid over a search space.
//!
//! Notation: dimension `j` has `K_j` levels; the grid has `N = prod_j K_j` points. Index
//! `i in 0..N` is written in mixed radix with the first dimension most significant (the order of
//! `itertools.product`): `i = ((l_0 * K_1 + l_1) * K_2 + l_2) ...`. Nothing of size `N` is ever
//! stored: memory is the sum of the `K_j`.
//!
//! Shuffled order uses a keyed Feistel permutation of `0..2^k >= N` with cycle walking, so the
//! `r`-th point of the shuffled order is found in `O(d)` time as well.

use crate::error::{Error, Result, invalid};
use crate::rng::mix;
use crate::space::{Kind, Space};

/// A grid: the levels of every dimension, and an optional shuffle key.
#[derive(Debug, Clone)]
pub struct Grid {
    levels: Vec<Vec<f64>>,
    total: u64,
    shuffle: Option<Feistel>,
}

impl Grid {
    /// Grid over `space` with `resolution` points on each continuous float dimension (both bounds
    /// included, log-spaced on log scale). Discrete dimensions with at most `resolution` values
    /// take every value (categoricals always do); larger ones take `resolution` evenly spaced
    /// values including both bounds. `shuffle_seed` permutes the visiting order.
    pub fn new(space: &Space, resolution: usize, shuffle_seed: Option<u64>) -> Result<Self> {
        if resolution < 2 {
            return invalid(format!(
                "grid resolution must be at least 2 (both bounds), got {resolution}"
            ));
        }
        let levels: Vec<Vec<f64>> = space
            .dims()
            .iter()
            .map(|dim| dim_levels(dim, resolution))
            .collect();
        let mut total: u64 = 1;
        for l in &levels {
            total = total.checked_mul(l.len() as u64).ok_or_else(|| {
                Error::OutOfRange("the grid has more than 2^64 points".to_string())
            })?;
        }
        let shuffle = shuffle_seed.map(|s| Feistel::new(total, s));
        Ok(Self {
            levels,
            total,
            shuffle,
        })
    }

    /// Number of grid points.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Always false: every dimension has at least one level.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Levels of each dimension.
    #[must_use]
    pub fn levels(&self) -> &[Vec<f64>] {
        &self.levels
    }

    /// The `rank`-th point in visiting order (shuffled if requested) written into `out`.
    pub fn point(&self, rank: u64, out: &mut [f64]) -> Result<()> {
        let index = self.index_of_rank(rank)?;
        self.point_at_index(index, out);
        Ok(())
    }

    /// Grid index visited at position `rank`.
    pub fn index_of_rank(&self, rank: u64) -> Result<u64> {
        if rank >= self.total {
            return Err(Error::OutOfRange(format!(
                "grid position {rank} is past the end of a grid of {} points",
                self.total
            )));
        }
        Ok(match &self.shuffle {
            Some(f) => f.permute(rank),
            None => rank,
        })
    }

    /// Position in visiting order at which grid index `index` is visited.
    pub fn rank_of_index(&self, index: u64) -> Result<u64> {
        if index >= self.total {
            return Err(Error::OutOfRange(format!(
                "grid index {index} is past the end of a grid of {} points",
                self.total
            )));
        }
        Ok(match &self.shuffle {
            Some(f) => f.inverse(index),
            None => index,
        })
    }

    /// The point with mixed-radix index `index` (`index < len()`).
    pub fn point_at_index(&self, index: u64, out: &mut [f64]) {
        let mut rest = index;
        for (j, lv) in self.levels.iter().enumerate().rev() {
            let k = lv.len() as u64;
            out[j] = lv[(rest % k) as usize];
            rest /= k;
        }
    }

    /// Mixed-radix index of a point whose coordinates are grid levels, if it is on the grid.
    #[must_use]
    pub fn index_of_point(&self, point: &[f64]) -> Option<u64> {
        let mut index = 0u64;
        for (lv, &x) in self.levels.iter().zip(point) {
            let pos = lv
                .iter()
                .position(|&v| v == x || (v - x).abs() <= 1e-12 * v.abs().max(1.0))?;
            index = index * lv.len() as u64 + pos as u64;
        }
        Some(index)
    }

    /// Points at positions `first .. first + n` of the visiting order (`n x d`, row-major).
    pub fn points(&self, first: u64, n: usize) -> Result<Vec<f64>> {
        let d = self.levels.len();
        let mut out = vec![0.0; n * d];
        for (i, row) in out.chunks_exact_mut(d).enumerate() {
            self.point(first + i as u64, row)?;
        }
        Ok(out)
    }
}

fn dim_levels(dim: &crate::space::Dim, resolution: usize) -> Vec<f64> {
    let (low, high) = (dim.low(), dim.high());
    match dim.cardinality() {
        Some(k) if dim.kind() == Kind::Categorical || k <= resolution as u64 => (0..k)
            .map(|i| dim.decode((i as f64 + 0.5) / k as f64))
            .collect(),
        Some(_) if dim.log() => {
            // Log-spaced integers; rounding can merge neighbours at the low end.
            let mut v: Vec<f64> = spaced(low, high, resolution, true)
                .into_iter()
                .map(f64::round)
                .collect();
            v.dedup();
            v
        }
        Some(k) => {
            let step = dim.step();
            (0..resolution)
                .map(|i| {
                    let level = (i as f64 * (k - 1) as f64 / (resolution - 1) as f64).round();
                    if level == (k - 1) as f64 {
                        high
                    } else {
                        low + level * step
                    }
                })
                .collect()
        }
        None => spaced(low, high, resolution, dim.log()),
    }
}

fn spaced(low: f64, high: f64, n: usize, log: bool) -> Vec<f64> {
    let (a, b) = if log {
        (low.ln(), high.ln())
    } else {
        (low, high)
    };
    (0..n)
        .map(|i| {
            if i == 0 {
                low
            } else if i == n - 1 {
                high
            } else {
                let t = a + (b - a) * i as f64 / (n - 1) as f64;
                if log { t.exp() } else { t }
            }
        })
        .collect()
}

/// A keyed bijection of `0..n` (balanced Feistel network on `2k` bits plus cycle walking).
#[derive(Debug, Clone)]
struct Feistel {
    n: u64,
    half_bits: u32,
    keys: [u64; 4],
}

impl Feistel {
    fn new(n: u64, seed: u64) -> Self {
        let bits = 64 - n.saturating_sub(1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        let keys = [mix(seed, 1), mix(seed, 2), mix(seed, 3), mix(seed, 4)];
        Self { n, half_bits, keys }
    }

    fn round_trip(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let mut left = x >> self.half_bits;
        let mut right = x & mask;
        for key in self.keys {
            let f = mix(key, right) & mask;
            let next = left ^ f;
            left = right;
            right = next;
        }
        (left << self.half_bits) | right
    }

    fn inverse_round_trip(&self, y: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let mut left = y >> self.half_bits;
        let mut right = y & mask;
        for key in self.keys.iter().rev() {
            let prev_right = left;
            let prev_left = right ^ (mix(*key, prev_right) & mask);
            left = prev_left;
            right = prev_right;
        }
        (left << self.half_bits) | right
    }

    fn inverse(&self, index: u64) -> u64 {
        let mut x = index;
        loop {
            x = self.inverse_round_trip(x);
            if x < self.n {
                return x;
            }
        }
    }

    fn permute(&self, rank: u64) -> u64 {
        // The domain is at most 4n, so the expected number of walks is below 4.
        let mut x = rank;
        loop {
            x = self.round_trip(x);
            if x < self.n {
                return x;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::Dim;

    fn space() -> Space {
        Space::new(vec![
            Dim::float(1e-3, 1e-1, true).unwrap(),
            Dim::int(1, 3, false, 1).unwrap(),
            Dim::categorical(2).unwrap(),
            Dim::int(0, 100, false, 1).unwrap(),
        ])
        .unwrap()
    }

    #[test]
    fn levels_follow_the_rules() {
        let g = Grid::new(&space(), 5, None).unwrap();
        let lv = g.levels();
        assert_eq!(lv[0].len(), 5);
        assert!((lv[0][2] - 1e-2).abs() < 1e-15);
        assert_eq!(lv[0][0], 1e-3);
        assert_eq!(lv[0][4], 1e-1);
        assert_eq!(lv[1], vec![1.0, 2.0, 3.0]);
        assert_eq!(lv[2], vec![0.0, 1.0]);
        assert_eq!(lv[3], vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(g.len(), 5 * 3 * 2 * 5);
    }

    #[test]
    fn index_point_round_trip_and_shuffle_is_a_permutation() {
        for seed in [None, Some(9)] {
            let g = Grid::new(&space(), 5, seed).unwrap();
            let mut seen = vec![false; g.len() as usize];
            let mut p = vec![0.0; 4];
            for r in 0..g.len() {
                g.point(r, &mut p).unwrap();
                let i = g.index_of_point(&p).unwrap();
                assert_eq!(i, g.index_of_rank(r).unwrap());
                assert_eq!(g.rank_of_index(i).unwrap(), r);
                assert!(!seen[i as usize]);
                seen[i as usize] = true;
            }
            assert!(seen.iter().all(|&s| s));
            assert!(g.point(g.len(), &mut p).is_err());
        }
    }

    #[test]
    fn huge_grid_is_lazy() {
        let dims = (0..12)
            .map(|_| Dim::float(0.0, 1.0, false).unwrap())
            .collect();
        let g = Grid::new(&Space::new(dims).unwrap(), 10, Some(1)).unwrap();
        assert_eq!(g.len(), 1_000_000_000_000);
        let mut p = vec![0.0; 12];
        g.point(999_999_999_999, &mut p).unwrap();
        assert!(p.iter().all(|x| (0.0..=1.0).contains(x)));
    }
}
