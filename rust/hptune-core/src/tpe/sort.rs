//! Stable sorting of indices by `f64` keys (LSD radix on the keys' bit patterns).
//!
//! Every suggestion sorts the history once by `y` and, with neighbour bandwidths, every group
//! once per dimension; a comparison sort there was a quarter of the cost at n = 1000. The keys
//! are mapped to `u64`s that order like `f64::total_cmp`, then sorted byte by byte; bytes that
//! all keys share (the sign and most exponent bits, for unit-cube coordinates) are skipped.

/// A `u64` that orders like `f64::total_cmp` on `x`.
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

/// Indices `0..keys.len()` ordered by `keys` (total order), ties by index.
pub(crate) fn argsort(keys: &[f64]) -> Vec<usize> {
    let n = keys.len();
    let mut pairs: Vec<(u64, usize)> = keys.iter().map(|&k| ordered_bits(k)).zip(0..).collect();
    if n < 64 {
        // Small inputs: the passes' fixed cost would dominate.
        pairs.sort_unstable();
        return pairs.into_iter().map(|(_, i)| i).collect();
    }
    // All eight byte histograms in one pass over the keys.
    let mut counts = [[0usize; 256]; 8];
    for &(k, _) in &pairs {
        for (b, c) in counts.iter_mut().enumerate() {
            c[((k >> (8 * b)) & 0xFF) as usize] += 1;
        }
    }
    let mut scratch = pairs.clone();
    for (b, c) in counts.iter_mut().enumerate() {
        if c.contains(&n) {
            continue;
        }
        let mut start = 0;
        for slot in c.iter_mut() {
            let here = *slot;
            *slot = start;
            start += here;
        }
        let shift = 8 * b;
        for &p in &pairs {
            let digit = ((p.0 >> shift) & 0xFF) as usize;
            scratch[c[digit]] = p;
            c[digit] += 1;
        }
        std::mem::swap(&mut pairs, &mut scratch);
    }
    pairs.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn matches_a_comparison_sort() {
        let mut rng = Rng::new(5);
        for n in [0, 1, 5, 63, 64, 200, 3000] {
            let keys: Vec<f64> = (0..n)
                .map(|i| match i % 5 {
                    0 => rng.uniform(),
                    1 => -1e12 * rng.uniform(),
                    2 => (i % 3) as f64,
                    3 => -0.0,
                    _ => 1e300 * rng.normal(),
                })
                .collect();
            let mut want: Vec<usize> = (0..n).collect();
            want.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]).then(a.cmp(&b)));
            assert_eq!(argsort(&keys), want, "n = {n}");
        }
    }
}
