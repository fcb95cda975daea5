//! Sample-efficiency sanity check: median final regret over seeds on classic test functions.
//!
//! Run with `cargo run --release -p hptune-core --example bo_regret [n_seeds]`. Each run starts
//! from 10 scrambled Sobol' points and then takes one GP-BO suggestion per evaluation,
//! warm-starting each fit from the previous one.

use std::time::Instant;

use hptune_core::bo::{BoOptions, GpState, suggest};
use hptune_core::sampling::Sobol;
use hptune_core::space::{Dim, Space};

mod common;
use common::{Problem, median};

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
    ys.iter().copied().fold(f64::INFINITY, f64::min) - p.minimum
}

fn main() {
    let n_seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let problems = common::problems();
    let options = BoOptions::default();
    // Optional second argument: only run problems whose name contains it.
    let filter = std::env::args().nth(2).unwrap_or_default();
    for p in problems.iter().filter(|p| p.name.contains(filter.as_str())) {
        let t = Instant::now();
        let mut regrets: Vec<f64> = (0..n_seeds).map(|s| run(p, s, &options)).collect();
        let med = median(&mut regrets);
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
