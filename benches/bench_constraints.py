"""Outcome constraints and MOTPE: hptune next to Optuna at equal budgets (issue 13).

    python benches/bench_constraints.py constrained [--seeds 5] [--trials 40]
    python benches/bench_constraints.py motpe [--seeds 5] [--trials 80]

``constrained``: best feasible value (median [min, max] over seeds; lower is better) and
milliseconds per trial on two constrained problems: a quadratic with a linear constraint
(optimum 0.5) and Gardner et al.'s ``sin(x1) + x2`` with ``sin(x1) sin(x2) <= -0.95``.
``motpe``: hypervolume of the front (reference (1.1, 1.1), best possible 0.877) on 4-dimensional
ZDT1. Optuna's GPSampler is included when torch and scipy import.
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import hptune
from _common import table
from hptune import HyperparameterSpace as H

Params = dict[str, Any]


class Constrained:
    """A problem: space, objective and constraint values (``<= 0`` feasible)."""

    def __init__(
        self,
        name: str,
        space: list[H],
        objective: Callable[[Params], float],
        constraints: Callable[[Params], list[float]],
    ) -> None:
        self.name, self.space = name, space
        self.objective, self.constraints = objective, constraints


QUADRATIC = Constrained(
    "quadratic, x + y <= 1",
    [H("x", "float", -2.0, 2.0), H("y", "float", -2.0, 2.0)],
    lambda p: (p["x"] - 1.0) ** 2 + (p["y"] - 1.0) ** 2,
    lambda p: [p["x"] + p["y"] - 1.0],
)
GARDNER = Constrained(
    "Gardner",
    [H("x", "float", 0.0, 6.0), H("y", "float", 0.0, 6.0)],
    lambda p: math.sin(p["x"]) + p["y"],
    lambda p: [math.sin(p["x"]) * math.sin(p["y"]) + 0.95],
)


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    return optuna


def _suggest_all(trial: Any, space: list[H]) -> Params:
    return {p.name: trial.suggest_float(p.name, p.min_value, p.max_value) for p in space}


def _hptune_constrained(method: str, problem: Constrained, seed: int, n: int) -> float:
    study = hptune.create_study(
        problem.space,
        method,
        maximize=False,
        seed=seed,
        constraints_func=lambda r: problem.constraints(r.params),
    )
    study.optimize(problem.objective, n_trials=n, show_progress=False)
    best = study.best_trial
    return best.value if best.feasible and best.value is not None else math.inf


def _optuna_constrained(kind: str, problem: Constrained, seed: int, n: int) -> float:
    optuna = _optuna()

    def cons(trial: Any) -> list[float]:
        return list(trial.user_attrs["c"])

    if kind == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed, constraints_func=cons)
    else:
        sampler = optuna.samplers.GPSampler(seed=seed, constraints_func=cons)
    study = optuna.create_study(sampler=sampler)

    def objective(trial: Any) -> float:
        params = _suggest_all(trial, problem.space)
        trial.set_user_attr("c", problem.constraints(params))
        return problem.objective(params)

    study.optimize(objective, n_trials=n)
    feasible = [
        t.value
        for t in study.trials
        if t.value is not None and all(c <= 0.0 for c in t.user_attrs["c"])
    ]
    return min(feasible) if feasible else math.inf


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} [{min(values):.3f}, {max(values):.3f}]"


def constrained(seeds: int, trials: int) -> None:
    runners: list[tuple[str, Callable[[Constrained, int, int], float]]] = [
        (f"hptune {m}", lambda p, s, n, m=m: _hptune_constrained(m, p, s, n))
        for m in ("random", "tpe", "bayesian")
    ]
    runners.append(("Optuna TPE", lambda p, s, n: _optuna_constrained("tpe", p, s, n)))
    try:
        import scipy  # noqa: F401
        import torch  # noqa: F401

        runners.append(("Optuna GP", lambda p, s, n: _optuna_constrained("gp", p, s, n)))
    except ImportError:
        print("(torch or scipy not installed: Optuna's GPSampler left out)")
    rows = []
    for problem in (QUADRATIC, GARDNER):
        for name, run in runners:
            start = time.perf_counter()
            values = [run(problem, s, trials) for s in range(seeds)]
            ms = 1000.0 * (time.perf_counter() - start) / (seeds * trials)
            rows.append((problem.name, name, _summary(values), f"{ms:.2f}"))
    print(f"best feasible value after {trials} trials, {seeds} seeds")
    print(table(("problem", "method", "median [min, max]", "ms / trial"), rows))


D = 4


def zdt1(params: Params) -> tuple[float, float]:
    x = [params[f"x{i}"] for i in range(D)]
    f1 = x[0]
    g = 1.0 + 9.0 * sum(x[1:]) / (D - 1)
    return f1, g * (1.0 - math.sqrt(f1 / g))


ZDT_SPACE = [H(f"x{i}", "float", 0.0, 1.0) for i in range(D)]
REFERENCE = [1.1, 1.1]


def _hptune_hv(method: str, seed: int, n: int) -> float:
    study = hptune.create_study(ZDT_SPACE, method, directions=["minimize"] * 2, seed=seed)
    study.optimize(zdt1, n_trials=n, show_progress=False)
    return hptune.hypervolume([t.values for t in study.best_trials], REFERENCE)


def _optuna_hv(kind: str, seed: int, n: int) -> float:
    optuna = _optuna()
    sampler = (
        optuna.samplers.TPESampler(seed=seed)
        if kind == "tpe"
        else optuna.samplers.NSGAIISampler(seed=seed)
    )
    study = optuna.create_study(directions=["minimize"] * 2, sampler=sampler)
    study.optimize(lambda t: zdt1(_suggest_all(t, ZDT_SPACE)), n_trials=n)
    return hptune.hypervolume([t.values for t in study.best_trials], REFERENCE)


def motpe(seeds: int, trials: int) -> None:
    runners: list[tuple[str, Callable[[int, int], float]]] = [
        ("hptune random", lambda s, n: _hptune_hv("random", s, n)),
        ("hptune tpe (MOTPE)", lambda s, n: _hptune_hv("tpe", s, n)),
        ("Optuna TPE (MOTPE)", lambda s, n: _optuna_hv("tpe", s, n)),
        ("Optuna NSGA-II", lambda s, n: _optuna_hv("nsga2", s, n)),
    ]
    rows = []
    for name, run in runners:
        start = time.perf_counter()
        values = [run(s, trials) for s in range(seeds)]
        ms = 1000.0 * (time.perf_counter() - start) / (seeds * trials)
        rows.append((name, _summary(values), f"{ms:.2f}"))
    print(f"ZDT1 (4 dims): hypervolume after {trials} trials, {seeds} seeds (best 0.877)")
    print(table(("method", "median [min, max]", "ms / trial"), rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["constrained", "motpe"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=None)
    args = parser.parse_args()
    if args.what == "constrained":
        constrained(args.seeds, args.trials or 40)
    else:
        motpe(args.seeds, args.trials or 80)


if __name__ == "__main__":
    main()
