"""Sample efficiency on COCO's BBOB suite: hptune's samplers against Optuna's (issue 14).

    python benches/bench_bbob.py --dims 2 --instances 1-5 --out bbob_d2.json
    python benches/bench_bbob.py --dims 5 --instances 1-3 --functions 1-24 --out bbob_d5.json
    python benches/bench_bbob.py --table bbob_d2.json [bbob_d5.json ...]

Without ``--table`` the bench minimises each BBOB function (``cocoex``, from the
``coco-experiment`` package) on its box ``[-5, 5]^d`` with every method, library defaults, the
same seed for every method on a given (function, dimension, instance), a budget of
``20 * d + 50`` trials unless ``--budget`` says otherwise. Each run stores its final log10 regret
(best value found minus the instance's optimum ``f_opt``, floored at 1e-8) and the wall-clock and
CPU seconds per trial. Results are appended to the JSON file after every run, and runs already
in the file are skipped, so a stopped run keeps what it did and continues with the same command.

``--table`` prints, for the methods, functions, dimensions and instances chosen by the same
flags, per function group and over all functions the wins / ties / losses of hptune's GP
(``hptune-bayesian``) against every other method (a tie is a difference within 0.1 in log10
regret) with a two-sided sign-test p-value, the mean log10 regret per method, the median per
function, and the milliseconds per trial (objective included). ``--reference METHOD`` counts
the wins / ties / losses from another method's side instead.
Optuna's GPSampler needs torch and scipy (and greenlet, or it warns and runs slower).

Two outside anchors run only when ``--methods`` names them, each with its library's defaults:
``hebo`` (``pip install HEBO``: ``HEBO(space).suggest(n_suggestions=1)`` / ``observe``) and
``smac`` (``pip install smac``: SMAC3's ``BlackBoxFacade`` through ask / tell, a deterministic
scenario of ``budget`` trials and the run's seed). Both take about a second or more per trial
at d=5, and HEBO 0.3.6 pins ``numpy<1.25``, so they go in a separate environment; neither is a
dependency of hptune.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import hptune
from _common import hptune_method, indices, sign_test, table
from hptune import HyperparameterSpace as H

METHODS = [
    "hptune-bayesian",
    "hptune-tpe",
    "hptune-random",
    "optuna-gp",
    "optuna-tpe",
    "optuna-random",
]
#: Outside anchors, run only when ``--methods`` names them (seconds per trial at d=5).
ANCHORS = ["hebo", "smac"]
REFERENCE = "hptune-bayesian"
TIE = 0.1  # log10 regret
FLOOR = 1e-8
GROUPS = [
    ("separable f1-5", range(1, 6)),
    ("moderate f6-9", range(6, 10)),
    ("ill-conditioned f10-14", range(10, 15)),
    ("multimodal f15-19", range(15, 20)),
    ("weak structure f20-24", range(20, 25)),
]


def _problem(function: int, dim: int, instance: int) -> Any:
    import cocoex

    options = f"dimensions:{dim} function_indices:{function} instance_indices:{instance}"
    return next(iter(cocoex.Suite("bbob", "", options)))


def f_opt(function: int, dim: int, instance: int) -> float:
    """The instance's optimal value: ``f`` at the optimiser that cocoex writes to a file."""
    problem = _problem(function, dim, instance)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            # cocoex 2.8 exposes the optimiser only through this file, not as an attribute.
            problem._best_parameter("print")
            x_opt = np.atleast_1d(np.loadtxt("._bbob_problem_best_parameter.txt"))
        finally:
            os.chdir(cwd)
    value = float(problem(x_opt))
    if not problem.final_target_hit:
        raise RuntimeError(f"{problem.id}: the optimiser cocoex gave does not reach f_opt")
    problem.free()
    return value


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    return optuna


def _run_hebo(
    f: Callable[[list[float]], float],
    bounds: dict[str, tuple[float, float]],
    budget: int,
    seed: int,
) -> float:
    """HEBO's default loop (GP, MACE acquisition, Sobol' start), one suggestion per trial."""
    import random

    import torch
    from hebo.design_space.design_space import DesignSpace
    from hebo.optimizers.hebo import HEBO
    from pymoo.config import Config

    # pymoo 0.6.0 (HEBO's pin) has no compiled modules for recent Pythons and says so each run.
    Config.warnings["not_compiled"] = False
    # HEBO draws from the global generators; its Sobol' start takes the seed itself.
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    names = list(bounds)
    space = DesignSpace().parse(
        [{"name": n, "type": "num", "lb": low, "ub": high} for n, (low, high) in bounds.items()]
    )
    opt = HEBO(space, scramble_seed=seed)
    for _ in range(budget):
        rec = opt.suggest(n_suggestions=1)
        x = [float(v) for v in rec[names].to_numpy()[0]]
        opt.observe(rec, np.array([[f(x)]]))
    return float(opt.y.min())


def _run_smac(
    f: Callable[[list[float]], float],
    bounds: dict[str, tuple[float, float]],
    budget: int,
    seed: int,
) -> float:
    """SMAC3's BlackBoxFacade (its GP) through ask and tell, its output in a temporary folder."""
    from ConfigSpace import ConfigurationSpace, Float
    from smac import BlackBoxFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    space = ConfigurationSpace(seed=seed)
    space.add([Float(n, box) for n, box in bounds.items()])
    best = math.inf
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Scenario(
            space,
            deterministic=True,
            n_trials=budget,
            seed=seed,
            output_directory=Path(tmp) / "smac3_output",
        )
        smac = BlackBoxFacade(scenario, overwrite=True, logging_level=logging.ERROR)
        for _ in range(budget):
            info = smac.ask()
            value = f([float(info.config[n]) for n in bounds])
            smac.tell(info, TrialValue(cost=value))
            best = min(best, value)
    return best


def run_one(method: str, function: int, dim: int, instance: int, budget: int, seed: int) -> float:
    """Best value found by ``method`` in ``budget`` trials."""
    problem = _problem(function, dim, instance)
    lo, hi = problem.lower_bounds, problem.upper_bounds
    # The box [-5, 5]^d as every method declares it: name -> (low, high).
    bounds = {f"x{i}": (float(lo[i]), float(hi[i])) for i in range(dim)}

    def f(x: list[float]) -> float:
        return float(problem(np.asarray(x, dtype=float)))

    if method.startswith("hptune-"):
        space = [H(n, "float", low, high) for n, (low, high) in bounds.items()]
        name, options = hptune_method(method)
        study = hptune.create_study(space, name, maximize=False, seed=seed, **options)
        study.optimize(lambda p: f([p[n] for n in bounds]), n_trials=budget, show_progress=False)
        best = float(study.best_value)
    elif method == "hebo":
        best = _run_hebo(f, bounds, budget, seed)
    elif method == "smac":
        best = _run_smac(f, bounds, budget, seed)
    else:
        optuna = _optuna()
        if method == "optuna-gp":
            sampler = optuna.samplers.GPSampler(seed=seed)
        elif method == "optuna-tpe":
            sampler = optuna.samplers.TPESampler(seed=seed)
        elif method == "optuna-random":
            sampler = optuna.samplers.RandomSampler(seed=seed)
        else:
            raise ValueError(f"unknown method {method!r}")
        study = optuna.create_study(sampler=sampler)

        def objective(trial: Any) -> float:
            return f([trial.suggest_float(n, low, high) for n, (low, high) in bounds.items()])

        study.optimize(objective, n_trials=budget)
        best = float(study.best_value)
    problem.free()
    return best


def _key(r: dict[str, Any]) -> tuple[int, int, int, str]:
    return (r["function"], r["dim"], r["instance"], r["method"])


def _save(path: Path, records: list[dict[str, Any]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(records, indent=1))
    tmp.replace(path)


def run(args: argparse.Namespace) -> None:
    path = Path(args.out)
    records: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []
    done = {_key(r) for r in records}
    methods = (args.methods or ",".join(METHODS)).split(",")
    for dim in indices(args.dims):
        budget = args.budget or 20 * dim + 50
        # Instances outermost: a run stopped early still covers every function evenly.
        for instance in indices(args.instances):
            for function in indices(args.functions):
                todo = [m for m in methods if (function, dim, instance, m) not in done]
                if not todo:
                    continue
                optimum = f_opt(function, dim, instance)
                for method in todo:
                    seed = args.seed + instance
                    wall, cpu = time.perf_counter(), time.process_time()
                    best = run_one(method, function, dim, instance, budget, seed)
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    regret = max(best - optimum, FLOOR)
                    records.append(
                        {
                            "function": function,
                            "dim": dim,
                            "instance": instance,
                            "method": method,
                            "budget": budget,
                            "seed": seed,
                            "f_opt": optimum,
                            "best": best,
                            "log10_regret": math.log10(regret),
                            "seconds_per_trial": wall / budget,
                            "cpu_seconds_per_trial": cpu / budget,
                        }
                    )
                    _save(path, records)
                    print(
                        f"f{function} d{dim} i{instance} {method}: "
                        f"log10 regret {math.log10(regret):.2f} ({wall:.1f} s)",
                        file=sys.stderr,
                    )


def _wtl(pairs: list[tuple[float, float]]) -> tuple[int, int, int]:
    wins = sum(1 for a, b in pairs if a < b - TIE)
    losses = sum(1 for a, b in pairs if a > b + TIE)
    return wins, len(pairs) - wins - losses, losses


def show(args: argparse.Namespace) -> None:
    wanted = (args.methods or ",".join([*METHODS, *ANCHORS])).split(",")
    reference = args.reference
    functions, dims = set(indices(args.functions)), set(indices(args.dims))
    instances = set(indices(args.instances))
    records = [
        r
        for name in args.table
        for r in json.loads(Path(name).read_text())
        if r["function"] in functions and r["dim"] in dims and r["instance"] in instances
    ]
    by_key = {_key(r): r for r in records}
    methods = [m for m in wanted if any(r["method"] == m for r in records)]
    cases = sorted({(r["function"], r["dim"], r["instance"]) for r in records})
    groups = [*GROUPS, ("all f1-24", range(1, 25))]
    for dim in sorted({c[1] for c in cases}):
        dim_cases = [c for c in cases if c[1] == dim]

        def lr(c: tuple[int, int, int], m: str) -> float:
            return float(by_key[(*c, m)]["log10_regret"])

        # Win/tie/loss counts use every case both methods ran; the other tables use only the
        # cases that every method ran, so that every column averages the same runs.
        rows = []
        others = [m for m in methods if m != reference]
        for label, fs in groups:
            row: list[Any] = [label]
            for m in others:
                sel = [
                    c
                    for c in dim_cases
                    if c[0] in fs and (*c, reference) in by_key and (*c, m) in by_key
                ]
                w, t, lo = _wtl([(lr(c, reference), lr(c, m)) for c in sel])
                row.append(f"{w}/{t}/{lo} (p={sign_test(w, lo):.2g})" if sel else "-")
            if any(cell != "-" for cell in row[1:]):
                rows.append(row)
        print(f"\n## d = {dim}\n")
        if reference in methods and others:
            print(f"{reference} vs each method: wins/ties/losses (two-sided sign-test p)\n")
            print(table(["group", *others], rows))

        complete = [c for c in dim_cases if all((*c, m) in by_key for m in methods)]
        if not complete:
            continue
        instances = sorted({c[2] for c in complete})
        functions = sorted({c[0] for c in complete})
        budget = by_key[(*complete[0], methods[0])]["budget"]
        print(
            f"\n{len(complete)} cases every method ran: functions {_span(functions)}, "
            f"instances {_span(instances)}, budget {budget}\n"
        )
        rows = []
        for label, fs in groups:
            sel = [c for c in complete if c[0] in fs]
            if sel:
                rows.append([label, *[statistics.fmean(lr(c, m) for c in sel) for m in methods]])
        print("mean log10 regret\n")
        print(table(["group", *methods], rows))

        rows = []
        for fn in functions:
            sel = [c for c in complete if c[0] == fn]
            meds = [statistics.median(lr(c, m) for c in sel) for m in methods]
            best = min(meds)
            rows.append([f"f{fn}", *[f"**{v:.2f}**" if v == best else f"{v:.2f}" for v in meds]])
        print("\nmedian log10 regret per function\n")
        print(table(["function", *methods], rows))

        rows = []
        for key, label in [("seconds_per_trial", "wall"), ("cpu_seconds_per_trial", "CPU")]:
            rows.append(
                [
                    label,
                    *[
                        statistics.fmean(float(by_key[(*c, m)][key]) for c in complete) * 1e3
                        for m in methods
                    ],
                ]
            )
        print("\nmilliseconds per trial (mean over runs, objective included)\n")
        print(table(["time", *methods], rows))


def _span(values: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3,5"``."""
    parts: list[str] = []
    for v in values:
        if parts and v == int(parts[-1].split("-")[-1]) + 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{v}"
        else:
            parts.append(str(v))
    return ",".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dims", default="2,5,10,20", help="e.g. 2,5")
    parser.add_argument("--functions", default="1-24", help="e.g. 1-5,10")
    parser.add_argument("--instances", default="1-5", help="e.g. 1-3")
    parser.add_argument(
        "--methods",
        help=f"default: {','.join(METHODS)} (--table: also {','.join(ANCHORS)}, where present)",
    )
    parser.add_argument("--budget", type=int, default=0, help="trials per run (0: 20 * d + 50)")
    parser.add_argument("--seed", type=int, default=0, help="instance i runs with seed + i")
    parser.add_argument("--out", default="bbob.json", help="results file (appended to)")
    parser.add_argument(
        "--table", nargs="+", metavar="FILE", help="print the tables of these results files"
    )
    parser.add_argument(
        "--reference",
        default=REFERENCE,
        metavar="METHOD",
        help="--table: the method whose wins/ties/losses against each other method are counted",
    )
    args = parser.parse_args()
    show(args) if args.table else run(args)


if __name__ == "__main__":
    main()
