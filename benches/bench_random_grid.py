"""Per-trial overhead of random and grid search, hptune vs Optuna, in one run.

    python benches/bench_random_grid.py [--trials 10000] [--grid-trials 200]

Needs ``pip install ".[bench]"`` (Optuna). Prints microseconds per trial and the ratio.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import hptune
from _common import MIXED7, optuna_objective, table, timed, trivial
from hptune import HyperparameterSpace as H

SPACE = MIXED7


def hptune_random(n: int) -> None:
    hptune.RandomSearchTuner(SPACE, trivial, n_trials=n, seed=0, show_progress=False).tune()


def optuna_random(n: int) -> None:
    import optuna

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(optuna_objective, n_trials=n)


def numpy_one_at_a_time(n: int) -> None:
    rng = np.random.default_rng(0)
    for _ in range(n):
        {
            "lr": float(np.exp(rng.uniform(np.log(1e-5), np.log(1e-1)))),
            "wd": float(np.exp(rng.uniform(np.log(1e-6), np.log(1e-2)))),
            "momentum": float(rng.uniform(0.0, 0.99)),
            "dropout": float(rng.uniform(0.0, 0.5)),
            "layers": int(rng.integers(1, 9)),
            "units": int(rng.integers(16, 513)),
            "optimizer": ["adam", "sgd", "rmsprop"][int(rng.integers(3))],
        }


GRID_SPACE = [
    H("a", "float", 0.0, 1.0),
    H("b", "float", 1e-3, 1.0, log_scale=True),
    H("c", "int", 1, 8),
    H("d", "categorical", choices=["x", "y", "z", "w", "v"]),
]  # 5 * 5 * 8 * 5 = 1000 points


def hptune_grid(n: int | None) -> int:
    r = hptune.GridSearchTuner(GRID_SPACE, trivial, n_trials=n, show_progress=False).tune()
    return len(r.trials)


def optuna_grid(n: int) -> None:
    import optuna

    grid = {
        "a": list(np.linspace(0.0, 1.0, 5)),
        "b": list(np.geomspace(1e-3, 1.0, 5)),
        "c": list(range(1, 9)),
        "d": ["x", "y", "z", "w", "v"],
    }

    def objective(trial: Any) -> float:
        trial.suggest_float("a", 0.0, 1.0)
        trial.suggest_float("b", 1e-3, 1.0, log=True)
        trial.suggest_int("c", 1, 8)
        trial.suggest_categorical("d", grid["d"])
        return 0.0

    study = optuna.create_study(sampler=optuna.samplers.GridSampler(grid, seed=0))
    study.optimize(objective, n_trials=n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--grid-trials", type=int, default=200)
    args = parser.parse_args()
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    n = args.trials
    rows = []
    for label, k in (("first 1,000", 1000), (f"all {n:,}", n)):
        t_h = timed(lambda k=k: hptune_random(k), repeat=3) / k * 1e6
        t_o = timed(lambda k=k: optuna_random(k)) / k * 1e6
        t_np = timed(lambda k=k: numpy_one_at_a_time(k)) / k * 1e6
        rows.append([f"random, {label} trials", t_h, t_o, t_np, f"{t_o / t_h:.0f}x"])
    g = args.grid_trials
    t_hg = timed(lambda: hptune_grid(None), repeat=3) / 1000 * 1e6
    t_og = timed(lambda: optuna_grid(g)) / g * 1e6
    rows.append([f"grid, 1,000 points (Optuna: first {g})", t_hg, t_og, "-", f"{t_og / t_hg:.0f}x"])
    print(
        table(
            ["case", "hptune us/trial", "Optuna us/trial", "numpy 1-at-a-time", "Optuna/hptune"],
            rows,
        )
    )
    space = hptune.SearchSpace(SPACE)
    secs = timed(lambda: space.core.sample_random(0, 0, 100_000), repeat=5)
    print(
        f"\ncore sampling: {100_000 * len(SPACE) / secs / 1e6:.0f} M values/s "
        f"(batch of 100,000 points x {len(SPACE)} dims in {secs * 1e3:.1f} ms)"
    )


if __name__ == "__main__":
    main()
