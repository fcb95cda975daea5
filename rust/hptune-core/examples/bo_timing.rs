//! Seconds per `suggest` (fit + acquisition) on Hartmann-6 after `n` observations.
//!
//! Run with `cargo run --release -p hptune-core --example bo_timing [n ...]`. "cold" fits from the
//! default start; "warm" passes the state of a fit on the same data minus one point, as a
//! sampler does in a loop.

use std::time::Instant;

use hptune_core::bo::{BoOptions, suggest};
use hptune_core::sampling::Sobol;
use hptune_core::space::{Dim, Space};

mod common;
use common::{hartmann6, median};

fn main() {
    let d = 6;
    let space = Space::new(vec![Dim::float(0.0, 1.0, false).unwrap(); d]).unwrap();
    let options = BoOptions::default();
    let sobol = Sobol::new(d, Some(1)).unwrap();
    println!("{:>6} {:>12} {:>12}", "n", "cold [ms]", "warm [ms]");
    // Optional arguments: the values of n to time (default 50 100 200 500 1000).
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes = vec![50, 100, 200, 500, 1000];
    }
    for n in sizes {
        let x = sobol.points(0, n);
        let y: Vec<f64> = x.chunks_exact(d).map(hartmann6).collect();
        let reps = if n >= 500 { 3 } else { 7 };
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        for r in 0..reps {
            let t = Instant::now();
            let (_, state) = suggest(
                &space,
                &x[..(n - 1) * d],
                &y[..n - 1],
                &[],
                1,
                r,
                &options,
                None,
            )
            .unwrap();
            cold.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let _ = suggest(&space, &x, &y, &[], 1, r, &options, Some(&state)).unwrap();
            warm.push(t.elapsed().as_secs_f64() * 1e3);
        }
        println!(
            "{n:>6} {:>12.2} {:>12.2}",
            median(&mut cold),
            median(&mut warm)
        );
    }
}
