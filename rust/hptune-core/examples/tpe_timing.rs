//! Wall-clock cost of one TPE suggestion against the number of completed trials.
//!
//! Run with `cargo run --release -p hptune-core --example tpe_timing`. Histories are random
//! points of a 6-d space (all floats, or floats, ints, a log int, a stepped float and a
//! categorical) with a smooth objective; each size is timed in seven batches of about 0.1 s and
//! the fastest batch is printed. The "with state" column carries one `TpeState` while the
//! history grows by a trial per call (a study's steady state), "4 pending" the same with four
//! trials running; the others fit afresh. The "batch of 8" column is the cost per point of one
//! call that asks for eight.

use std::hint::black_box;
use std::time::Instant;

use hptune_core::rng::{Rng, mix};
use hptune_core::space::{Dim, Space};
use hptune_core::tpe::{Bandwidth, TpeOptions, TpeState, suggest, suggest_with_state};

fn history(space: &Space, n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let d = space.len();
    let mut rng = Rng::new(seed);
    let mut x = vec![0.0; n * d];
    let mut y = Vec::with_capacity(n);
    for row in x.chunks_exact_mut(d) {
        for u in row.iter_mut() {
            *u = rng.uniform();
        }
        space.snap_row(row);
        y.push(row.iter().map(|u| (u - 0.3) * (u - 0.3)).sum());
    }
    (x, y)
}

fn time_per_call(space: &Space, n: usize, n_suggest: usize, options: &TpeOptions) -> f64 {
    let (x, y) = history(space, n, 1);
    let run = |reps: u64| {
        let start = Instant::now();
        for r in 0..reps {
            let u = suggest(space, &x, &y, &[], n_suggest, mix(9, r), options);
            black_box(u.map_or(0, |v| v.len()));
        }
        start.elapsed().as_secs_f64() / reps as f64
    };
    let once = run(3).max(1e-7);
    let reps = ((0.1 / once) as u64).clamp(5, 100_000);
    // The fastest of seven batches: on a shared machine, noise only ever adds time.
    (0..7).map(|_| run(reps)).fold(f64::INFINITY, f64::min)
}

/// Like [`time_per_call`], for the steady state of a study: one [`TpeState`] carried across
/// calls while the history grows by one trial per call, from `n` trials to `n + 100`, with
/// `n_pending` trials running.
fn time_per_call_with_state(
    space: &Space,
    n: usize,
    n_pending: usize,
    options: &TpeOptions,
) -> f64 {
    const GROW: usize = 100;
    let d = space.len();
    let (x, y) = history(space, n + GROW, 1);
    // Running trials elsewhere: points that are not in the history.
    let (pending, _) = history(space, n_pending, 2);
    let run = || {
        let mut state = TpeState::new();
        let _ = suggest_with_state(&mut state, space, &x[..n * d], &y[..n], &[], 1, 0, options);
        let start = Instant::now();
        for r in 0..GROW {
            let m = n + r;
            let u = suggest_with_state(
                &mut state,
                space,
                &x[..m * d],
                &y[..m],
                &pending,
                1,
                mix(9, r as u64),
                options,
            );
            black_box(u.map_or(0, |v| v.len()));
        }
        start.elapsed().as_secs_f64() / GROW as f64
    };
    // The fastest of many growths: on a shared machine, noise only ever adds time.
    (0..15).map(|_| run()).fold(f64::INFINITY, f64::min)
}

fn main() -> hptune_core::Result<()> {
    let continuous = Space::new(vec![
        Dim::float(-5.0, 5.0, false)?,
        Dim::float(1e-5, 1.0, true)?,
        Dim::float(0.0, 1.0, false)?,
        Dim::float(-1.0, 1.0, false)?,
        Dim::float(1.0, 100.0, true)?,
        Dim::float(0.0, 10.0, false)?,
    ])?;
    let mixed = Space::new(vec![
        Dim::float(-5.0, 5.0, false)?,
        Dim::float(1e-5, 1.0, true)?,
        Dim::int(1, 64, false, 1)?,
        Dim::int(1, 4096, true, 1)?,
        Dim::float_step(0.0, 1.0, 0.05)?,
        Dim::categorical(4)?,
    ])?;
    let options = TpeOptions::default();
    // `tpe_timing float|mixed|float-state|mixed-state|float-pending|mixed-pending [n]` times
    // one case (n = 1000 by default), for a profiler.
    if let Some(which) = std::env::args().nth(1) {
        let space = if which.starts_with("mixed") {
            &mixed
        } else {
            &continuous
        };
        let n = std::env::args()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1000);
        let t = if which.ends_with("state") {
            time_per_call_with_state(space, n, 0, &options)
        } else if which.ends_with("pending") {
            time_per_call_with_state(space, n, 4, &options)
        } else {
            time_per_call(space, n, 1, &options)
        };
        println!("{:.1} us", t * 1e6);
        return Ok(());
    }
    let scott = TpeOptions {
        bandwidth: Bandwidth::Scott,
        ..TpeOptions::default()
    };
    println!(
        "microseconds per suggest() call, 6 dims, n_candidates = {}",
        options.n_candidates
    );
    println!(
        "{:>6} {:>10} {:>18} {:>18} {:>10} {:>18} {:>14}",
        "n",
        "float",
        "float, with state",
        "state, 4 pending",
        "mixed",
        "float, batch of 8",
        "float, scott"
    );
    for n in [50, 100, 200, 500, 1000] {
        let a = time_per_call(&continuous, n, 1, &options);
        let b = time_per_call(&mixed, n, 1, &options);
        let c = time_per_call(&continuous, n, 8, &options) / 8.0;
        let e = time_per_call(&continuous, n, 1, &scott);
        let f = time_per_call_with_state(&continuous, n, 0, &options);
        let g = time_per_call_with_state(&continuous, n, 4, &options);
        println!(
            "{n:>6} {:>10.1} {:>18.1} {:>18.1} {:>10.1} {:>18.1} {:>14.1}",
            a * 1e6,
            f * 1e6,
            g * 1e6,
            b * 1e6,
            c * 1e6,
            e * 1e6
        );
    }
    Ok(())
}
