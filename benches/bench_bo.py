"""Bayesian optimisation and TPE: suggestion cost and sample efficiency, hptune vs Optuna.

    python benches/bench_bo.py timing [--sizes 50,100,200,500,1000] [--gp-max 500]
    python benches/bench_bo.py regret [--seeds 10] [--problems branin,hartmann6,...]
    python benches/bench_bo.py pruned [--seeds 8] [--crossing 0.5]
    python benches/bench_bo.py noisy [--seeds 20] [--first-seed 0] [--trials 20,40] [--methods ...]
    python benches/bench_bo.py pipeline [--seeds 40] [--methods ...]

``timing``: seconds for one suggestion after n observations of Hartmann-6.
``regret``: median [25%, 75%] final regret over seeds for each method and problem.
``pruned``: the same problems as learning curves under ASHA pruning, for the GP with and
without ``learn_from_pruned`` (and TPE and random search beside them).
``noisy``: RL-like noisy objectives in 11 dimensions (see :func:`noisy_problem`) for the GP with
``noisy=True`` with and without its noise-dominated rule, TPE and random search (and, with
``--methods``, the noisy GP with EI or UCB instead of LogEI); ``--first-seed`` starts the seeds
elsewhere, to check a finding on seeds it was not made on.
``pipeline``: the same noisy problems as learning curves, tuned the way
``RLHyperparameterTuner.tune_rl_model`` tunes SB3 agents (see :func:`run_pipeline`), for the GP,
TPE and random search.
Optuna's GPSampler needs torch: install it in the benchmark environment only.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import hptune
from _common import hptune_method, table
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
    method, options = hptune_method(method)
    study = hptune.create_study(problem.space, method, maximize=False, seed=seed, **options)
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


CURVE_STEPS = 9  # reports per trial; ASHA's rungs at steps 1 and 3 (reduction factor 3)


def _curve_scale(problem: Problem) -> float:
    """The spread of the problem's values over 64 random configs: the curves' amplitude."""
    configs = hptune.SearchSpace(problem.space).sample_random(999, 0, 64)
    return statistics.pstdev(problem.f(c) for c in configs)


def _slowness(problem: Problem, params: dict[str, Any], crossing: float) -> float:
    """A smooth, config-dependent factor in ``1 +- crossing``: how slowly a config's curve
    comes down. The larger ``crossing``, the less an early rank says about the final one."""
    total = 0.0
    for i, p in enumerate(problem.space):
        v = params[p.name]
        u = (p.choices or []).index(v) / 3.0 if p.param_type == "categorical" else float(v)
        total += math.sin(3.0 * (i + 1) * u)
    return 1.0 + crossing * math.tanh(total)


def run_pruned(method: str, problem: Problem, seed: int, crossing: float) -> tuple[float, int]:
    """Final regret of the best completed trial and the trials run, under ASHA, with a budget
    of ``problem.budget`` full curves' worth of steps."""
    from hptune.pruners import SuccessiveHalvingPruner
    from hptune.samplers import BayesianSampler

    scale = _curve_scale(problem)
    sampler: Any = method
    if method.startswith("bayesian"):
        sampler = BayesianSampler(seed=seed, learn_from_pruned=method == "bayesian-learn")
    study = hptune.create_study(
        problem.space,
        sampler,
        maximize=False,
        seed=seed,
        pruner=SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    )
    used = 0
    best = math.inf

    def objective(trial: Any) -> float:
        nonlocal used, best
        final = problem.f(trial.params)
        slow = _slowness(problem, trial.params, crossing)
        for step in range(1, CURVE_STEPS + 1):
            used += 1
            trial.report(final + scale * (CURVE_STEPS / step - 1) / CURVE_STEPS * slow, step)
            if step in (1, 3) and trial.should_prune():
                raise hptune.TrialPruned()
        best = min(best, final)
        return final

    def stop_at_budget(study: Any, _record: Any) -> None:
        if used >= problem.budget * CURVE_STEPS:
            study.stop()

    study.optimize(objective, n_trials=100_000, show_progress=False, callbacks=[stop_at_budget])
    return best - problem.optimum, len(study.trials)


PRUNED_METHODS = ["bayesian-avoid", "bayesian-learn", "tpe", "random"]


def pruned(args: argparse.Namespace) -> None:
    wanted = set(args.problems.split(",")) if args.problems else None
    rows = []
    for problem in PROBLEMS:
        if wanted and problem.name not in wanted:
            continue
        runs = {
            m: [run_pruned(m, problem, s, args.crossing) for s in range(args.seeds)]
            for m in PRUNED_METHODS
        }
        row: list[Any] = [f"{problem.name} ({problem.budget})"]
        for m in PRUNED_METHODS:
            regrets = [r for r, _ in runs[m]]
            row.append(
                f"{statistics.median(regrets):.3g} ({statistics.median(n for _, n in runs[m]):.0f})"
            )
        learn = [r for r, _ in runs["bayesian-learn"]]
        avoid = [r for r, _ in runs["bayesian-avoid"]]
        wins = sum(a < b for a, b in zip(learn, avoid, strict=True))
        losses = sum(a > b for a, b in zip(learn, avoid, strict=True))
        row.append(f"{wins}/{len(learn) - wins - losses}/{losses}")
        rows.append(row)
        print(f"  {problem.name} done", file=sys.stderr)
    print(
        f"median final regret (median trials) under ASHA, {args.seeds} seeds, "
        f"crossing {args.crossing}; learn vs avoid: wins/ties/losses per seed"
    )
    print(table(["problem (curves)", *PRUNED_METHODS, "learn vs avoid"], rows))


NOISY_METHODS = ["bayesian", "bayesian-norule", "tpe", "random"]
# The noisy GP with another acquisition (``--methods``; LogEI is the default).
NOISY_ACQUISITIONS = {"bayesian-ei": "ei", "bayesian-ucb": "ucb"}
NOISY_DIM = 11  # as many parameters as the dqn_sb3 preset


def noisy_problem(kind: str, seed: int) -> Any:
    """An RL-like objective to maximise over the unit cube, as ``(expected, draw)``: a bowl
    around a centre drawn inside ``[0.3, 0.7]^11``, -100 at the centre, about -240 at a random
    point and -490 at a corner. ``"gauss"``: the bowl plus Gaussian noise of sd 60. ``"coin"``:
    a run learns with probability ``0.5 + 0.5 exp(-3 r2)`` and then scores the bowl plus noise
    of sd 20, or else the time limit's -500, as DQN runs at a small budget do."""
    rng = random.Random(1000 + seed)
    centre = [rng.uniform(0.3, 0.7) for _ in range(NOISY_DIM)]

    def shape(x: list[float]) -> tuple[float, float]:
        """The bowl's value at ``x`` and the probability that a run learns there."""
        r2 = sum(((v - c) / 0.45) ** 2 for v, c in zip(x, centre, strict=True)) / NOISY_DIM
        return -100.0 - 300.0 * r2, 0.5 + 0.5 * math.exp(-3.0 * r2)

    def expected(x: list[float]) -> float:
        bowl, p = shape(x)
        return bowl if kind == "gauss" else p * bowl + (1.0 - p) * -500.0

    def draw(x: list[float], noise: random.Random) -> float:
        bowl, p = shape(x)
        if kind == "gauss":
            return bowl + noise.gauss(0.0, 60.0)
        return bowl + noise.gauss(0.0, 20.0) if noise.random() < p else -500.0

    return expected, draw


def run_noisy(method: str, kind: str, seed: int, n: int) -> tuple[float, float]:
    """The expected value of the config with the best observation after ``n`` trials, and the
    share of suggested coordinates (after 5 start-up trials) on a bound of the box."""
    from hptune.samplers import bayesian

    expected, draw = noisy_problem(kind, seed)
    noise = random.Random(seed)
    space = [H(f"x{i}", "float", 0.0, 1.0) for i in range(NOISY_DIM)]
    options: dict[str, Any] = {}
    if method != "random":
        options["n_startup_trials"] = 5
    if method.startswith("bayesian"):
        options["noisy"] = True
    if method in NOISY_ACQUISITIONS:
        options["acquisition"] = NOISY_ACQUISITIONS[method]
    # "bayesian-norule": the GP as it was before the rule (the module constant at 0).
    saved = bayesian.NOISE_DOMINATED
    bayesian.NOISE_DOMINATED = 0.0 if method == "bayesian-norule" else saved
    try:
        study = hptune.create_study(
            space, method.split("-")[0], maximize=True, seed=seed, **options
        )
        on_bound = 0
        for _ in range(n):
            trial = study.ask()
            x = [trial.params[f"x{i}"] for i in range(NOISY_DIM)]
            if trial.number >= 5:
                on_bound += sum(v in (0.0, 1.0) for v in x)
            study.tell(trial, draw(x, noise))
    finally:
        bayesian.NOISE_DOMINATED = saved
    best = study.best_params
    return expected([best[f"x{i}"] for i in range(NOISY_DIM)]), on_bound / ((n - 5) * NOISY_DIM)


def _methods(text: str, allowed: list[str]) -> list[str]:
    """``--methods`` (comma-separated) checked against ``allowed``."""
    methods = text.split(",")
    unknown = set(methods) - set(allowed)
    if unknown:
        raise SystemExit(f"unknown methods {sorted(unknown)}; allowed: {', '.join(allowed)}")
    return methods


def noisy(args: argparse.Namespace) -> None:
    methods = _methods(args.methods, [*NOISY_METHODS, *NOISY_ACQUISITIONS])
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    rows = []
    for kind in ("coin", "gauss"):
        for n in (int(t) for t in args.trials.split(",")):
            row: list[Any] = [kind, n]
            for m in methods:
                runs = [run_noisy(m, kind, s, n) for s in seeds]
                row.append(
                    f"{statistics.mean(v for v, _ in runs):.1f} "
                    f"({100 * statistics.mean(b for _, b in runs):.0f}%)"
                )
            rows.append(row)
    print(
        f"mean expected return of the best-observed config over seeds {seeds.start}-"
        f"{seeds.stop - 1} "
        "(share of coordinates on a bound after the 5 start-up trials)"
    )
    print(table(["problem", "trials", *methods], rows))


PIPELINE_METHODS = ["bayesian", "tpe", "random"]
PIPELINE_STEPS = 4  # evaluations per run, as bench_rl's every quarter
MAX_PIPELINE_TRIALS = 500  # a cap that the step budget reaches first


def run_pipeline(method: str, kind: str, seed: int, budget: int = 20) -> tuple[float, float]:
    """``tune_rl_model``'s pipeline on :func:`noisy_problem`: the defaults (a random point of
    the box) as the first trial, ASHA from half the run, intensification, ``budget`` runs'
    worth of steps, and every search trial on the same seed (a run is a fixed draw of its
    config and seed, its curve rising from -500 to its final value at a config-and-seed
    dependent pace). Returns the expected value of the chosen config and the share of the
    GP's (or TPE's) suggested coordinates on a bound of the box."""
    import hashlib

    from hptune import RLHyperparameterTuner
    from hptune.intensify import INTENSIFY_ATTR
    from hptune.pruners import SuccessiveHalvingPruner

    expected, draw = noisy_problem(kind, seed)
    names = [f"x{i}" for i in range(NOISY_DIM)]
    rng = random.Random(2000 + seed)
    defaults = [rng.random() for _ in names]
    space = hptune.SearchSpace(
        [H(n, "float", 0.0, 1.0, default=v) for n, v in zip(names, defaults, strict=True)]
    )

    class Objective:
        accepts_trial = True
        noisy = True
        total_timesteps = PIPELINE_STEPS

        def __init__(self) -> None:
            self.timesteps_used = 0

        def __call__(self, run: Any, seed: int | None = None) -> float:
            trial = run if hasattr(run, "report") else None
            x = [float((trial.params if trial else run)[n]) for n in names]
            key = repr(([round(v, 9) for v in x], seed))
            noise = random.Random(hashlib.sha256(key.encode()).digest())
            final = draw(x, noise)
            pace = 1.5 + 2.5 * noise.random()
            for step in range(1, PIPELINE_STEPS + 1):
                self.timesteps_used += 1
                value = -500.0 + (final + 500.0) * min(1.0, step / pace)
                if trial is not None and step < PIPELINE_STEPS:
                    trial.report(value + noise.gauss(0.0, 15.0), step)
                    if trial.should_prune():
                        raise hptune.TrialPruned()
            return final

    class Tuner(RLHyperparameterTuner):
        def search_space(self, *args: Any, **kwargs: Any) -> hptune.SearchSpace:
            return space

    result = Tuner("synthetic").tune_rl_model(
        "dqn",
        Objective(),
        method=method,
        n_trials=MAX_PIPELINE_TRIALS,
        max_timesteps=budget * PIPELINE_STEPS,
        seed=seed,
        pruner=None
        if method == "random"
        else SuccessiveHalvingPruner(min_resource=2, reduction_factor=3),
        selection="best" if method == "random" else "intensify",
        show_progress=False,
    )
    chosen = [float(result.best_params[n]) for n in names]
    searched = [
        [float(t.params[n]) for n in names]
        for t in result.trials
        if t.number > 0 and INTENSIFY_ATTR not in t.user_attrs
    ]
    on_bound = sum(v in (0.0, 1.0) for x in searched for v in x)
    return expected(chosen), on_bound / max(1, len(searched) * NOISY_DIM)


def pipeline(args: argparse.Namespace) -> None:
    methods = _methods(args.methods, PIPELINE_METHODS)
    rows = []
    for kind in ("coin", "gauss"):
        row: list[Any] = [kind]
        for m in methods:
            runs = [run_pipeline(m, kind, s) for s in range(args.seeds)]
            values = [v for v, _ in runs]
            row.append(
                f"{statistics.mean(values):.1f} +- "
                f"{statistics.stdev(values) / math.sqrt(len(values)):.1f} "
                f"({100 * statistics.mean(b for _, b in runs):.0f}%)"
            )
        rows.append(row)
    print(
        f"mean expected return of the chosen config over {args.seeds} seeds, with its standard "
        "error (share of searched coordinates on a bound)"
    )
    print(table(["problem", *methods], rows))


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
    p = sub.add_parser("pruned")
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--problems", default="")
    p.add_argument("--crossing", type=float, default=0.5, help="how much curves cross (0-1)")
    q = sub.add_parser("noisy")
    q.add_argument("--seeds", type=int, default=20)
    q.add_argument("--first-seed", type=int, default=0)
    q.add_argument("--trials", default="20,40", help="trial budgets, comma-separated")
    q.add_argument("--methods", default=",".join(NOISY_METHODS))
    w = sub.add_parser("pipeline")
    w.add_argument("--seeds", type=int, default=40)
    w.add_argument("--methods", default=",".join(PIPELINE_METHODS))
    args = parser.parse_args()
    commands = {
        "timing": timing,
        "regret": regret,
        "pruned": pruned,
        "noisy": noisy,
        "pipeline": pipeline,
    }
    commands[args.command](args)


if __name__ == "__main__":
    main()
