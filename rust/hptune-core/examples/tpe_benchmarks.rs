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

type Objective = fn(&[f64]) -> f64;

struct Problem {
    name: &'static str,
    bounds: Vec<(f64, f64)>,
    budget: usize,
    f: Objective,
    minimum: f64,
}

fn branin(x: &[f64]) -> f64 {
    use std::f64::consts::PI;
    let (a, b, c) = (1.0, 5.1 / (4.0 * PI * PI), 5.0 / PI);
    let (r, s, t) = (6.0, 10.0, 1.0 / (8.0 * PI));
    a * (x[1] - b * x[0] * x[0] + c * x[0] - r).powi(2) + s * (1.0 - t) * x[0].cos() + s
}

fn hartmann6(x: &[f64]) -> f64 {
    const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
    const A: [[f64; 6]; 4] = [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ];
    const P: [[f64; 6]; 4] = [
        [1312.0, 1696.0, 5569.0, 124.0, 8283.0, 5886.0],
        [2329.0, 4135.0, 8307.0, 3736.0, 1004.0, 9991.0],
        [2348.0, 1451.0, 3522.0, 2883.0, 3047.0, 6650.0],
        [4047.0, 8828.0, 8732.0, 5743.0, 1091.0, 381.0],
    ];
    -(0..4)
        .map(|i| {
            let e: f64 = (0..6)
                .map(|j| A[i][j] * (x[j] - 1e-4 * P[i][j]).powi(2))
                .sum();
            ALPHA[i] * (-e).exp()
        })
        .sum::<f64>()
}

fn log_rosenbrock(x: &[f64]) -> f64 {
    let f: f64 = x
        .windows(2)
        .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
        .sum();
    f.ln_1p()
}

fn ackley(x: &[f64]) -> f64 {
    use std::f64::consts::{E, TAU};
    let n = x.len() as f64;
    let s1 = x.iter().map(|v| v * v).sum::<f64>() / n;
    let s2 = x.iter().map(|v| (TAU * v).cos()).sum::<f64>() / n;
    -20.0 * (-0.2 * s1.sqrt()).exp() - s2.exp() + 20.0 + E
}

fn problems() -> Vec<Problem> {
    vec![
        Problem {
            name: "Branin (2-d, 50)",
            bounds: vec![(-5.0, 10.0), (0.0, 15.0)],
            budget: 50,
            f: branin,
            minimum: 0.397_887_357_729_738,
        },
        Problem {
            name: "Hartmann-6 (100)",
            bounds: vec![(0.0, 1.0); 6],
            budget: 100,
            f: hartmann6,
            minimum: -3.322_368_011_415_515,
        },
        Problem {
            name: "Rosenbrock-4 ln(1+f) (100)",
            bounds: vec![(-5.0, 10.0); 4],
            budget: 100,
            f: log_rosenbrock,
            minimum: 0.0,
        },
        Problem {
            name: "Ackley-5 (100)",
            bounds: vec![(-32.768, 32.768); 5],
            budget: 100,
            f: ackley,
            minimum: 0.0,
        },
    ]
}

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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
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
            let regrets = (0..n_seeds)
                .map(|s| run(&problem, 1000 + s, *options))
                .collect::<hptune_core::Result<Vec<_>>>()?;
            print!("{:>12.4}", median(regrets));
        }
        println!();
    }
    Ok(())
}
