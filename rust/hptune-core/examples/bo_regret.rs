//! Sample-efficiency sanity check: median final regret over seeds on classic test functions.
//!
//! Run with `cargo run --release -p hptune-core --example bo_regret [n_seeds]`. Each run starts
//! from 10 scrambled Sobol' points and then takes one GP-BO suggestion per evaluation,
//! warm-starting each fit from the previous one.

use std::time::Instant;

use hptune_core::bo::{BoOptions, GpState, suggest};
use hptune_core::sampling::Sobol;
use hptune_core::space::{Dim, Space};

struct Problem {
    name: &'static str,
    bounds: Vec<(f64, f64)>,
    budget: usize,
    optimum: f64,
    f: fn(&[f64]) -> f64,
}

fn branin(x: &[f64]) -> f64 {
    let (a, b, c) = (
        1.0,
        5.1 / (4.0 * std::f64::consts::PI.powi(2)),
        5.0 / std::f64::consts::PI,
    );
    let (r, s, t) = (6.0, 10.0, 1.0 / (8.0 * std::f64::consts::PI));
    a * (x[1] - b * x[0] * x[0] + c * x[0] - r).powi(2) + s * (1.0 - t) * x[0].cos() + s
}

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

fn rosenbrock(x: &[f64]) -> f64 {
    let f: f64 = (0..x.len() - 1)
        .map(|i| 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2))
        .sum();
    f.ln_1p()
}

fn ackley(x: &[f64]) -> f64 {
    let d = x.len() as f64;
    let s1: f64 = x.iter().map(|v| v * v).sum::<f64>() / d;
    let s2: f64 = x
        .iter()
        .map(|v| (std::f64::consts::TAU * v).cos())
        .sum::<f64>()
        / d;
    -20.0 * (-0.2 * s1.sqrt()).exp() - s2.exp() + 20.0 + std::f64::consts::E
}

fn run(p: &Problem, seed: u64, options: &BoOptions) -> f64 {
    let d = p.bounds.len();
    let space = Space::new(
        p.bounds
            .iter()
            .map(|&(l, h)| Dim::float(l, h, false).unwrap())
            .collect(),
    )
    .unwrap();
    let eval = |u: &[f64]| {
        let x: Vec<f64> = u
            .iter()
            .zip(&p.bounds)
            .map(|(v, (l, h))| l + v * (h - l))
            .collect();
        (p.f)(&x)
    };
    let n_init = 10;
    let mut xs = Sobol::new(d, Some(seed)).unwrap().points(0, n_init);
    let mut ys: Vec<f64> = xs.chunks_exact(d).map(eval).collect();
    let mut state: Option<GpState> = None;
    for t in n_init..p.budget {
        let (u, s) = suggest(
            &space,
            &xs,
            &ys,
            &[],
            1,
            seed * 1000 + t as u64,
            options,
            state.as_ref(),
        )
        .unwrap();
        ys.push(eval(&u));
        xs.extend_from_slice(&u);
        state = Some(s);
    }
    ys.iter().copied().fold(f64::INFINITY, f64::min) - p.optimum
}

fn main() {
    let n_seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let problems = [
        Problem {
            name: "Branin",
            bounds: vec![(-5.0, 10.0), (0.0, 15.0)],
            budget: 50,
            optimum: 0.397_887_357_729_738,
            f: branin,
        },
        Problem {
            name: "Hartmann-6",
            bounds: vec![(0.0, 1.0); 6],
            budget: 100,
            optimum: -3.322_368_011_415_515,
            f: hartmann6,
        },
        Problem {
            name: "Rosenbrock-4 log(1+f)",
            bounds: vec![(-5.0, 10.0); 4],
            budget: 100,
            optimum: 0.0,
            f: rosenbrock,
        },
        Problem {
            name: "Ackley-5",
            bounds: vec![(-32.768, 32.768); 5],
            budget: 100,
            optimum: 0.0,
            f: ackley,
        },
    ];
    let options = BoOptions::default();
    // Optional second argument: only run problems whose name contains it.
    let filter = std::env::args().nth(2).unwrap_or_default();
    for p in problems.iter().filter(|p| p.name.contains(filter.as_str())) {
        let t = Instant::now();
        let mut regrets: Vec<f64> = (0..n_seeds).map(|s| run(p, s, &options)).collect();
        regrets.sort_by(f64::total_cmp);
        let med = if regrets.len() % 2 == 1 {
            regrets[regrets.len() / 2]
        } else {
            0.5 * (regrets[regrets.len() / 2 - 1] + regrets[regrets.len() / 2])
        };
        let extra = if p.name.starts_with("Rosenbrock") {
            format!(" (f regret {:.3e})", med.exp_m1())
        } else {
            String::new()
        };
        println!(
            "{:<24} evals {:>3}  median regret {:.3e}{extra}  [min {:.2e}, max {:.2e}]  {:.1} s",
            p.name,
            p.budget,
            med,
            regrets[0],
            regrets[regrets.len() - 1],
            t.elapsed().as_secs_f64()
        );
    }
}
