//! Independent uniform sampling, one stream per trial.
//!
//! Row `i` of a batch starting at trial `first` is drawn from `Rng::for_trial(seed, first + i)`,
//! so drawing trials one at a time or in batches of any size gives the same values.

use crate::error::Result;
use crate::rng::Rng;
use crate::space::Space;

/// Unit-cube points for trials `first .. first + n` (`n x d`, row-major).
#[must_use]
pub fn uniform_unit(d: usize, seed: u64, first: u64, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * d];
    for (i, row) in out.chunks_exact_mut(d.max(1)).enumerate() {
        let mut rng = Rng::for_trial(seed, first + i as u64);
        for u in row {
            *u = rng.uniform();
        }
    }
    out
}

/// Decoded random values for trials `first .. first + n` (`n x d`, row-major).
pub fn sample_random(space: &Space, seed: u64, first: u64, n: usize) -> Result<Vec<f64>> {
    let d = space.len();
    let mut values = uniform_unit(d, seed, first, n);
    let mut u = vec![0.0; d];
    for row in values.chunks_exact_mut(d) {
        u.copy_from_slice(row);
        space.decode_row(&u, row);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::Dim;

    #[test]
    fn batches_equal_single_draws() {
        let space = Space::new(vec![
            Dim::float(0.0, 1.0, false).unwrap(),
            Dim::int(1, 9, false, 1).unwrap(),
        ])
        .unwrap();
        let batch = sample_random(&space, 5, 10, 4).unwrap();
        for i in 0..4 {
            let one = sample_random(&space, 5, 10 + i as u64, 1).unwrap();
            assert_eq!(&batch[i * 2..i * 2 + 2], one.as_slice());
        }
    }
}
