"""hptune's Optuna plug-in inside Optuna, against Optuna's own samplers.

    python benches/bench_optuna_plugin.py [--seeds 3] [--problems branin,hartmann6,mixed5]
        [--trials N] [--samplers hptune-gp,hptune-tpe,optuna-gp,optuna-tpe,optuna-random]

Every sampler runs in a plain ``optuna.create_study(sampler=...)`` with the same objective, so
the figures include Optuna's own per-trial overhead for all of them. Printed per problem and
sampler: seconds per trial (wall time of ``study.optimize`` over the trials; the objectives are
cheap, so this is the sampler's cost) and the final regret (best value minus the known optimum),
median and worst over seeds. Optuna's GPSampler needs torch: run this in an environment that
has it, not in the package's test environment.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Optuna's GPSampler runs torch and numpy thread pools that fight over few cores; one thread
# each is what its docs recommend and keeps the comparison about algorithms. Set before imports.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).parent))
from _common import table
from hptune import HyperparameterSpace as H
from problems import PROBLEMS, Problem


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    return optuna


def _suggest(trial: Any, p: H) -> Any:
    if p.param_type == "categorical":
        return trial.suggest_categorical(p.name, list(p.choices or ()))
    if p.param_type == "int":
        return trial.suggest_int(
            p.name, int(p.min_value or 0), int(p.max_value or 0), log=p.log_scale,
            step=int(p.step or 1),
        )  # fmt: skip
    return trial.suggest_float(
        p.name, float(p.min_value or 0.0), float(p.max_value or 0.0), log=p.log_scale, step=p.step
    )


def objective_for(problem: Problem) -> Callable[[Any], float]:
    def objective(trial: Any) -> float:
        return problem.f({p.name: _suggest(trial, p) for p in problem.space})

    return objective


def samplers() -> dict[str, Callable[[int], Any]]:
    optuna = _optuna()
    import hptune.integrations.optuna as hpo

    return {
        "hptune-gp": lambda s: hpo.GPSampler(seed=s),
        "hptune-tpe": lambda s: hpo.TPESampler(seed=s),
        "optuna-gp": lambda s: optuna.samplers.GPSampler(seed=s),
        "optuna-tpe": lambda s: optuna.samplers.TPESampler(seed=s, multivariate=True),
        "optuna-random": lambda s: optuna.samplers.RandomSampler(seed=s),
    }


def run(
    problem: Problem, make: Callable[[int], Any], seed: int, n_trials: int
) -> tuple[float, float]:
    """Seconds per trial and final regret of one study."""
    optuna = _optuna()
    study = optuna.create_study(sampler=make(seed))
    start = time.perf_counter()
    study.optimize(objective_for(problem), n_trials=n_trials)
    elapsed = time.perf_counter() - start
    return elapsed / n_trials, study.best_value - problem.optimum


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--problems", default="branin,hartmann6,mixed5")
    parser.add_argument("--trials", type=int, default=0, help="override each problem's budget")
    parser.add_argument("--samplers", default=",".join(samplers()))
    args = parser.parse_args()
    by_name = {p.name: p for p in PROBLEMS}
    makers = samplers()
    rows: list[list[object]] = []
    for pname in args.problems.split(","):
        problem = by_name[pname]
        n_trials = args.trials or problem.budget
        for sname in args.samplers.split(","):
            secs, regrets = [], []
            for seed in range(args.seeds):
                s, r = run(problem, makers[sname], seed, n_trials)
                secs.append(s)
                regrets.append(r)
            rows.append(
                [
                    pname,
                    n_trials,
                    sname,
                    statistics.mean(secs),
                    statistics.median(regrets),
                    max(regrets),
                ]
            )
            print(f"  {pname} {sname}: {statistics.mean(secs):.4f} s/trial", file=sys.stderr)
    header = ["problem", "trials", "sampler", "s/trial", "median regret", "worst regret"]
    print(f"{args.seeds} seeds each; regret = best value - known optimum")
    print(table(header, rows))


if __name__ == "__main__":
    main()
