//! Sample efficiency of TPE on standard test functions, against random search.
//!
//! Run with `cargo run --release -p hptune-core --example tpe_benchmarks [n_seeds]` (50 seeds by
//! default, a few seconds). Each run
//! starts with TPE's own random startup trials (10 by default), then asks one point at a time.
//! Printed: the median over seeds of the final simple regret (best value found minus the known
//! minimum); Rosenbrock is scored on `ln(1 + f)`.

use hptune_core::rng::mix;
use hptune_core::space::{Dim, Space};
use hptune_core::tpe::{Bandwidth, TpeOptions, suggest};

mod common;
use common::{Problem, median, problems};

/// Final regret of one run; `options == None` means random search.
fn run(problem: &Problem, seed: u64, options: Option<&TpeOptions>) -> hptune_core::Result<f64> {
    let dims = problem
        .bounds
        .iter()
        .map(|&(lo, hi)| Dim::float(lo, hi, false))
        .collect::<hptune_core::Result<Vec<_>>>()?;
    let space = Space::new(dims)?;
    let d = space.len();
    let random = TpeOptions {
        n_startup_trials: usize::MAX,
        ..TpeOptions::default()
    };
    let options = options.unwrap_or(&random);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut values = vec![0.0; d];
    for t in 0..problem.budget {
        let u = suggest(&space, &x, &y, &[], 1, mix(seed, t as u64), options)?;
        space.decode_row(&u, &mut values);
        y.push((problem.f)(&values));
        x.extend_from_slice(&u);
    }
    let best = y.iter().copied().fold(f64::INFINITY, f64::min);
    Ok(best - problem.minimum)
}

fn main() -> hptune_core::Result<()> {
    let n_seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let default = TpeOptions::default();
    let scott = TpeOptions {
        bandwidth: Bandwidth::Scott,
        ..TpeOptions::default()
    };
    let variants: [(&str, Option<&TpeOptions>); 3] = [
        ("tpe", Some(&default)),
        ("tpe scott", Some(&scott)),
        ("random", None),
    ];
    println!("median final regret over {n_seeds} seeds");
    print!("{:<28}", "problem");
    for (name, _) in &variants {
        print!("{name:>12}");
    }
    println!();
    for problem in problems() {
        print!("{:<28}", problem.name);
        for (_, options) in &variants {
            let mut regrets = (0..n_seeds)
                .map(|s| run(&problem, 1000 + s, *options))
                .collect::<hptune_core::Result<Vec<_>>>()?;
            print!("{:>12.4}", median(&mut regrets));
        }
        println!();
    }
    Ok(())
}
