"""Bayesian optimisation and TPE: suggestion cost and sample efficiency, hptune vs Optuna.

    python benches/bench_bo.py timing [--sizes 50,100,200,500,1000] [--gp-max 500]
    python benches/bench_bo.py regret [--seeds 10] [--problems branin,hartmann6,...]

``timing``: seconds for one suggestion after n observations of Hartmann-6.
``regret``: median [25%, 75%] final regret over seeds for each method and problem.
Optuna's GPSampler needs torch: install it in the benchmark environment only.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import hptune
from _common import table
from hptune import HyperparameterSpace as H
from problems import PROBLEMS, Problem, hartmann6


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    return optuna


def _distributions(space: list[H]) -> dict[str, Any]:
    optuna = _optuna()
    out: dict[str, Any] = {}
    for p in space:
        if p.param_type == "categorical":
            out[p.name] = optuna.distributions.CategoricalDistribution(list(p.choices or ()))
        elif p.param_type == "int":
            out[p.name] = optuna.distributions.IntDistribution(
                int(p.min_value or 0), int(p.max_value or 0), log=p.log_scale, step=int(p.step or 1)
            )
        else:
            out[p.name] = optuna.distributions.FloatDistribution(
                float(p.min_value or 0.0),
                float(p.max_value or 0.0),
                log=p.log_scale,
                step=p.step,
            )
    return out


def _optuna_objective(problem: Problem) -> Any:
    dists = _distributions(problem.space)

    def objective(trial: Any) -> float:
        params = {name: trial._suggest(name, d) for name, d in dists.items()}
        return problem.f(params)

    return objective


def optuna_sampler(name: str, seed: int) -> Any:
    optuna = _optuna()
    if name == "optuna-tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if name == "optuna-gp":
        return optuna.samplers.GPSampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def run_hptune(method: str, problem: Problem, seed: int) -> float:
    study = hptune.create_study(problem.space, method, maximize=False, seed=seed)
    study.optimize(problem.f, n_trials=problem.budget, show_progress=False)
    return study.best_value - problem.optimum


def run_optuna(name: str, problem: Problem, seed: int) -> float:
    optuna = _optuna()
    study = optuna.create_study(sampler=optuna_sampler(name, seed))
    study.optimize(_optuna_objective(problem), n_trials=problem.budget)
    return float(study.best_value) - problem.optimum


METHODS = ["random", "hptune-tpe", "hptune-bayesian", "optuna-tpe", "optuna-gp"]


def regret(args: argparse.Namespace) -> None:
    wanted = set(args.problems.split(",")) if args.problems else None
    methods = args.methods.split(",")
    rows = []
    for problem in PROBLEMS:
        if wanted and problem.name not in wanted:
            continue
        row: list[Any] = [f"{problem.name} ({problem.budget})"]
        for m in methods:
            start = time.perf_counter()
            values = []
            for seed in range(args.seeds):
                if m == "random":
                    values.append(run_hptune("random", problem, seed))
                elif m.startswith("hptune-"):
                    values.append(run_hptune(m.removeprefix("hptune-"), problem, seed))
                else:
                    values.append(run_optuna(m, problem, seed))
            q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
            secs = time.perf_counter() - start
            row.append(f"{med:.3g} [{q1:.2g}, {q3:.2g}]")
            print(f"  {problem.name} {m}: median {med:.3g} ({secs:.1f} s)", file=sys.stderr)
        rows.append(row)
    print(f"median [25%, 75%] final regret over {args.seeds} seeds")
    print(table(["problem (trials)", *methods], rows))


def _history(n: int, seed: int) -> list[dict[str, float]]:
    space = hptune.SearchSpace([H(f"x{i}", "float", 0.0, 1.0) for i in range(6)])
    return space.sample_random(seed, 0, n)


def time_hptune(method: str, n: int, repeats: int) -> float:
    space = [H(f"x{i}", "float", 0.0, 1.0) for i in range(6)]
    study = hptune.create_study(space, method, maximize=False, seed=0)
    for params in _history(n, 1):
        study.enqueue(params)
        trial = study.ask()
        study.tell(trial, hartmann6(trial.params))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        trial = study.ask()
        best = min(best, time.perf_counter() - start)
        study.tell(trial, hartmann6(trial.params))
    return best


def time_optuna(name: str, n: int, repeats: int) -> float:
    optuna = _optuna()
    problem = next(p for p in PROBLEMS if p.name == "hartmann6")
    dists = _distributions(problem.space)
    study = optuna.create_study(sampler=optuna_sampler(name, 0))
    study.add_trials(
        [
            optuna.trial.create_trial(params=p, distributions=dists, value=hartmann6(p))
            for p in _history(n, 1)
        ]
    )
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        trial = study.ask()
        params = {name: trial._suggest(name, d) for name, d in dists.items()}
        best = min(best, time.perf_counter() - start)
        study.tell(trial, hartmann6(params))
    return best


def timing(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for n in sizes:
        hb = time_hptune("bayesian", n, args.repeats)
        ht = time_hptune("tpe", n, args.repeats)
        og = time_optuna("optuna-gp", n, 2) if n <= args.gp_max else float("nan")
        ot = time_optuna("optuna-tpe", n, args.repeats)
        rows.append([n, hb * 1e3, og * 1e3, og / hb, ht * 1e3, ot * 1e3, ot / ht])
        print(f"  n={n} done", file=sys.stderr)
    print("milliseconds per suggestion after n observations (Hartmann-6, best of repeats)")
    print(
        table(
            ["n", "hptune GP", "Optuna GP", "GP ratio", "hptune TPE", "Optuna TPE", "TPE ratio"],
            rows,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("timing")
    t.add_argument("--sizes", default="50,100,200,500,1000")
    t.add_argument("--gp-max", type=int, default=500, help="largest n for Optuna's GPSampler")
    t.add_argument("--repeats", type=int, default=5)
    r = sub.add_parser("regret")
    r.add_argument("--seeds", type=int, default=10)
    r.add_argument("--problems", default="")
    r.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    timing(args) if args.command == "timing" else regret(args)


if __name__ == "__main__":
    main()
