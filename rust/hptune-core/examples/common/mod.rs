//! Test functions shared by the example binaries (each example uses a subset).
//!
//! All are minimised; `PROBLEMS` lists them with their boxes, budgets and known minima, as in
//! `benches/problems.py` on the Python side.

// Every example includes this module but uses only some of it.
#![allow(dead_code)]

use std::f64::consts::{E, PI, TAU};

/// A test function with its box, evaluation budget and known minimum.
pub struct Problem {
    pub name: &'static str,
    pub bounds: Vec<(f64, f64)>,
    pub budget: usize,
    pub minimum: f64,
    pub f: fn(&[f64]) -> f64,
}

pub fn branin(x: &[f64]) -> f64 {
    let (a, b, c) = (1.0, 5.1 / (4.0 * PI * PI), 5.0 / PI);
    let (r, s, t) = (6.0, 10.0, 1.0 / (8.0 * PI));
    a * (x[1] - b * x[0] * x[0] + c * x[0] - r).powi(2) + s * (1.0 - t) * x[0].cos() + s
}

pub fn hartmann6(x: &[f64]) -> f64 {
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

/// Rosenbrock scored on `ln(1 + f)`, as the benchmarks report it.
pub fn log_rosenbrock(x: &[f64]) -> f64 {
    let f: f64 = x
        .windows(2)
        .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
        .sum();
    f.ln_1p()
}

pub fn ackley(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let s1 = x.iter().map(|v| v * v).sum::<f64>() / n;
    let s2 = x.iter().map(|v| (TAU * v).cos()).sum::<f64>() / n;
    -20.0 * (-0.2 * s1.sqrt()).exp() - s2.exp() + 20.0 + E
}

/// Branin (50 evaluations), Hartmann-6, Rosenbrock-4 on `ln(1 + f)` and Ackley-5 (100 each).
pub fn problems() -> Vec<Problem> {
    vec![
        Problem {
            name: "Branin (2-d, 50)",
            bounds: vec![(-5.0, 10.0), (0.0, 15.0)],
            budget: 50,
            minimum: 0.397_887_357_729_738,
            f: branin,
        },
        Problem {
            name: "Hartmann-6 (100)",
            bounds: vec![(0.0, 1.0); 6],
            budget: 100,
            minimum: -3.322_368_011_415_515,
            f: hartmann6,
        },
        Problem {
            name: "Rosenbrock-4 ln(1+f) (100)",
            bounds: vec![(-5.0, 10.0); 4],
            budget: 100,
            minimum: 0.0,
            f: log_rosenbrock,
        },
        Problem {
            name: "Ackley-5 (100)",
            bounds: vec![(-32.768, 32.768); 5],
            budget: 100,
            minimum: 0.0,
            f: ackley,
        },
    ]
}

/// Median of the values (the mean of the middle two for an even count).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}
