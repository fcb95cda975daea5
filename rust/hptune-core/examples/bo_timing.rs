//! Seconds per `suggest` (fit + acquisition) on Hartmann-6 after `n` observations.
//!
//! Run with `cargo run --release -p hptune-core --example bo_timing [n ...]`. "cold" fits from the
//! default start; "warm" passes the state of a fit on the same data minus one point, as a
//! sampler does in a loop.

use std::time::Instant;

use hptune_core::bo::{BoOptions, suggest};
use hptune_core::sampling::Sobol;
use hptune_core::space::{Dim, Space};

fn hartmann6(x: &[f64]) -> f64 {
    const A: [[f64; 6]; 4] = [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ];
    const P: [[f64; 6]; 4] = [
        [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
        [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
        [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
        [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
    ];
    const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
    -(0..4)
        .map(|i| {
            let s: f64 = (0..6).map(|j| A[i][j] * (x[j] - P[i][j]).powi(2)).sum();
            ALPHA[i] * (-s).exp()
        })
        .sum::<f64>()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

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
