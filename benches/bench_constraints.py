"""Outcome constraints and MOTPE: hptune next to Optuna at equal budgets (issue 13).

    python benches/bench_constraints.py constrained [--seeds 5] [--trials 40]
    python benches/bench_constraints.py motpe [--seeds 5] [--trials 80] [--problems zdt1,zdt2,dtlz2]
        [--methods bayesian,optuna-gp]

``constrained``: best feasible value (median [min, max] over seeds; lower is better) and
milliseconds per trial on two constrained problems: a quadratic with a linear constraint
(optimum 0.5) and Gardner et al.'s ``sin(x1) + x2`` with ``sin(x1) sin(x2) <= -0.95``.
``motpe``: hypervolume of the front at equal budgets on ZDT1 and ZDT2 (4 dims, reference
(1.1, 1.1), best 0.877 and 0.543) and DTLZ2 (5 dims, 3 objectives, reference (1.1, 1.1, 1.1),
best 0.807): random search, MOTPE and the GP's LogEHVI in hptune; Optuna's MOTPE, NSGA-II and
(when torch and scipy import) its GPSampler, and milliseconds per trial.
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
        for _, name, run in runners:
            start = time.perf_counter()
            values = [run(problem, s, trials) for s in range(seeds)]
            ms = 1000.0 * (time.perf_counter() - start) / (seeds * trials)
            rows.append((problem.name, name, _summary(values), f"{ms:.2f}"))
    print(f"best feasible value after {trials} trials, {seeds} seeds")
    print(table(("problem", "method", "median [min, max]", "ms / trial"), rows))


class MultiProblem:
    """A multi-objective problem to minimise: space, objectives, reference point and the best
    possible hypervolume."""

    def __init__(
        self,
        name: str,
        dims: int,
        objectives: Callable[[list[float]], list[float]],
        reference: list[float],
        best: float,
    ) -> None:
        self.name = name
        self.space = [H(f"x{i}", "float", 0.0, 1.0) for i in range(dims)]
        self.objectives = objectives
        self.reference = reference
        self.best = best

    def __call__(self, params: Params) -> list[float]:
        return self.objectives([params[f"x{i}"] for i in range(len(self.space))])


def _zdt(x: list[float], convex: bool) -> list[float]:
    g = 1.0 + 9.0 * sum(x[1:]) / (len(x) - 1)
    ratio = x[0] / g
    return [x[0], g * (1.0 - (math.sqrt(ratio) if convex else ratio**2))]


def _dtlz2(x: list[float]) -> list[float]:
    g = sum((v - 0.5) ** 2 for v in x[2:])
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    r = 1.0 + g
    return [r * math.cos(a) * math.cos(b), r * math.cos(a) * math.sin(b), r * math.sin(a)]


MULTI = {
    # ZDT1: convex front f2 = 1 - sqrt(f1); ZDT2: concave front f2 = 1 - f1^2.
    "zdt1": MultiProblem("ZDT1 (4 dims)", 4, lambda x: _zdt(x, True), [1.1, 1.1], 0.877),
    "zdt2": MultiProblem("ZDT2 (4 dims)", 4, lambda x: _zdt(x, False), [1.1, 1.1], 0.543),
    # DTLZ2: three objectives, the front is the unit sphere's positive octant.
    "dtlz2": MultiProblem(
        "DTLZ2 (5 dims, 3 objectives)", 5, _dtlz2, [1.1, 1.1, 1.1], 1.1**3 - math.pi / 6
    ),
}


def _hptune_hv(method: str, problem: MultiProblem, seed: int, n: int) -> float:
    directions = ["minimize"] * len(problem.reference)
    study = hptune.create_study(problem.space, method, directions=directions, seed=seed)
    study.optimize(problem, n_trials=n, show_progress=False)
    return hptune.hypervolume([t.values for t in study.best_trials], problem.reference)


def _optuna_hv(kind: str, problem: MultiProblem, seed: int, n: int) -> float:
    optuna = _optuna()
    samplers = {
        "tpe": lambda: optuna.samplers.TPESampler(seed=seed),
        "nsga2": lambda: optuna.samplers.NSGAIISampler(seed=seed),
        "gp": lambda: optuna.samplers.GPSampler(seed=seed),
    }
    directions = ["minimize"] * len(problem.reference)
    study = optuna.create_study(directions=directions, sampler=samplers[kind]())
    study.optimize(lambda t: problem(_suggest_all(t, problem.space)), n_trials=n)
    return hptune.hypervolume([t.values for t in study.best_trials], problem.reference)


def motpe(seeds: int, trials: int, problems: list[str], methods: list[str] | None) -> None:
    runners: list[tuple[str, str, Callable[[MultiProblem, int, int], float]]] = [
        ("random", "hptune random", lambda p, s, n: _hptune_hv("random", p, s, n)),
        ("tpe", "hptune tpe (MOTPE)", lambda p, s, n: _hptune_hv("tpe", p, s, n)),
        ("bayesian", "hptune bayesian (LogEHVI)", lambda p, s, n: _hptune_hv("bayesian", p, s, n)),
        ("optuna-tpe", "Optuna TPE (MOTPE)", lambda p, s, n: _optuna_hv("tpe", p, s, n)),
        ("optuna-nsga2", "Optuna NSGA-II", lambda p, s, n: _optuna_hv("nsga2", p, s, n)),
    ]
    try:
        import scipy  # noqa: F401
        import torch  # noqa: F401

        runners.append(
            ("optuna-gp", "Optuna GP (LogEHVI)", lambda p, s, n: _optuna_hv("gp", p, s, n))
        )
    except ImportError:
        print("(torch or scipy not installed: Optuna's GPSampler left out)")
    runners = [r for r in runners if methods is None or r[0] in methods]
    for key in problems:
        problem = MULTI[key]
        rows = []
        for _, name, run in runners:
            start = time.perf_counter()
            values = [run(problem, s, trials) for s in range(seeds)]
            ms = 1000.0 * (time.perf_counter() - start) / (seeds * trials)
            rows.append((name, _summary(values), f"{ms:.2f}"))
            print(f"  {problem.name} {name}: {_summary(values)} {ms:.2f} ms", flush=True)
        print(
            f"{problem.name}: hypervolume after {trials} trials, {seeds} seeds "
            f"(reference {problem.reference}, best {problem.best:.3f})"
        )
        print(table(("method", "median [min, max]", "ms / trial"), rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["constrained", "motpe"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument(
        "--problems",
        default="zdt1",
        help=f"motpe: comma-separated problems from {', '.join(MULTI)} (default zdt1)",
    )
    parser.add_argument(
        "--methods",
        default=None,
        help="motpe: comma-separated subset of random, tpe, bayesian, optuna-tpe, optuna-nsga2, "
        "optuna-gp (default all)",
    )
    args = parser.parse_args()
    if args.what == "constrained":
        constrained(args.seeds, args.trials or 40)
    else:
        problems = args.problems.split(",")
        unknown = [p for p in problems if p not in MULTI]
        if unknown:
            parser.error(f"unknown problems {unknown}; allowed: {', '.join(MULTI)}")
        motpe(args.seeds, args.trials or 80, problems, args.methods and args.methods.split(","))


if __name__ == "__main__":
    main()
