"""Real ML tuning on scikit-learn's bundled data: hptune's samplers against Optuna's (issue 14).

    python benches/bench_ml.py --out bench-results/ml.json
    python benches/bench_ml.py --seeds 0 --trials 5 --out bench-results/ml-smoke.json
    python benches/bench_ml.py --table bench-results/ml.json

Six tasks, each minimising the mean 3-fold stratified cross-validated log-loss of a
scikit-learn model (HistGradientBoostingClassifier, SVC in a pipeline with StandardScaler,
MLPClassifier with StandardScaler) on breast_cancer, wine or the first 600 rows of digits.
The CV split of a task and the models' own seeds are fixed, so the objective is a deterministic
function of the hyperparameters and every method and seed sees the same one. A fit that raises
or gives a non-finite loss scores ``PENALTY``, and losses above it are clipped to it.

Methods: hptune's ``bayesian``, ``tpe`` and ``random`` samplers and Optuna's GPSampler and
TPESampler, library defaults, the run's seed, ``--trials`` trials (40) for seeds 0-4. Each
suggestion is timed alone (hptune: ``study.ask()``; Optuna: ``study.ask()`` and the
``suggest_*`` calls), the objective and ``tell`` apart. Results are appended to the JSON file
after every run, and runs already in it are skipped, so a stopped run continues with the same
command.

``--table`` prints the median best log-loss per task and method, hptune's GP's wins / ties /
losses against every other method over (task, seed) pairs (a tie is a difference below
``TIE`` = 0.001 in log-loss) with a two-sided sign-test p-value, the gap between the GP's median
and each method's with a 95% paired bootstrap interval over the seeds, and the time per
suggestion.

Everything runs on one core: BLAS / OpenMP threads are set to 1 before numpy is imported, and
torch (Optuna's GPSampler) to one thread.
"""

from __future__ import annotations

import os

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

import argparse
import functools
import json
import logging
import math
import statistics
import sys
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import hptune
from _common import GP_VARIANTS, hptune_method, indices, sign_test, table
from hptune import HyperparameterSpace as H

METHODS = ["hptune-bayesian", "hptune-tpe", "hptune-random", "optuna-gp", "optuna-tpe"]
REFERENCE = "hptune-bayesian"
TIE = 1e-3  # absolute log-loss
# The bootstrap interval of the gap between two methods' medians (``--table``).
BOOTSTRAP_DRAWS = 10_000
BOOTSTRAP_SEED = 0
PENALTY = 10.0  # log-loss of a failed fit; larger losses are clipped to it

HGB_ITER = 100
SVC_CACHE_MB = 200
# 50, not 100: at 100 a random MLP config took 1.0 s on digits600 (3 x 256 units, batch 16 and
# a small learning rate: 11.6 s); at 50, 0.7 s (about 6 s).
MLP_ITER = 50


@dataclass(frozen=True)
class Task:
    """A model family on a data set: search space and how to build the model."""

    name: str
    data: str
    space: list[H]
    build: Callable[[dict[str, Any]], Any]
    cv_seed: int


def _hgb(p: dict[str, Any]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        learning_rate=p["learning_rate"],
        max_leaf_nodes=p["max_leaf_nodes"],
        min_samples_leaf=p["min_samples_leaf"],
        l2_regularization=p["l2_regularization"],
        max_features=p["max_features"],
        max_iter=HGB_ITER,
        early_stopping=False,
        random_state=0,
    )


def _svc(p: dict[str, Any]) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    # SVC(probability=True) is deprecated in scikit-learn 1.9; this is its replacement (Platt
    # scaling on 5-fold out-of-fold decision values, then one SVC refitted on all the data).
    svc = SVC(
        C=p["C"],
        gamma=p["gamma"],
        kernel="rbf",
        class_weight=p["class_weight"],
        cache_size=SVC_CACHE_MB,
        random_state=0,
    )
    return make_pipeline(
        StandardScaler(), CalibratedClassifierCV(svc, method="sigmoid", ensemble=False)
    )


def _mlp(p: dict[str, Any]) -> Any:
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(p["units"],) * p["n_layers"],
            activation=p["activation"],
            alpha=p["alpha"],
            learning_rate_init=p["learning_rate_init"],
            batch_size=p["batch_size"],
            max_iter=MLP_ITER,
            random_state=0,
        ),
    )


HGB_SPACE = [
    H("learning_rate", "float", 1e-3, 1.0, log_scale=True),
    H("max_leaf_nodes", "int", 4, 128, log_scale=True),
    H("min_samples_leaf", "int", 1, 100, log_scale=True),
    H("l2_regularization", "float", 1e-6, 10.0, log_scale=True),
    H("max_features", "float", 0.1, 1.0),
]
SVC_SPACE = [
    H("C", "float", 1e-3, 1e3, log_scale=True),
    H("gamma", "float", 1e-5, 10.0, log_scale=True),
    H("class_weight", "categorical", choices=[None, "balanced"]),
]
MLP_SPACE = [
    H("units", "int", 8, 256, log_scale=True),
    H("n_layers", "int", 1, 3),
    H("alpha", "float", 1e-6, 1e-1, log_scale=True),
    H("learning_rate_init", "float", 1e-4, 1e-1, log_scale=True),
    H("batch_size", "categorical", choices=[16, 32, 64]),
    H("activation", "categorical", choices=["relu", "tanh"]),
]

TASKS = {
    t.name: t
    for t in [
        Task("hgb-breast_cancer", "breast_cancer", HGB_SPACE, _hgb, 101),
        Task("hgb-wine", "wine", HGB_SPACE, _hgb, 102),
        Task("svc-breast_cancer", "breast_cancer", SVC_SPACE, _svc, 103),
        Task("svc-digits600", "digits600", SVC_SPACE, _svc, 104),
        Task("mlp-wine", "wine", MLP_SPACE, _mlp, 105),
        Task("mlp-digits600", "digits600", MLP_SPACE, _mlp, 106),
    ]
}


@functools.cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets

    if name == "digits600":
        x, y = datasets.load_digits(return_X_y=True)
        return x[:600], y[:600]
    loader = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}[name]
    x, y = loader(return_X_y=True)
    return x, y


@functools.cache
def _splits(task: str) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    x, y = _data(TASKS[task].data)
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=TASKS[task].cv_seed)
    return list(folds.split(x, y))


def objective(task: str, params: dict[str, Any]) -> tuple[float, bool]:
    """Mean 3-fold CV log-loss of the task's model with ``params``, clipped to ``PENALTY``;
    and whether the fit failed or was clipped."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import log_loss

    x, y = _data(TASKS[task].data)
    labels = np.unique(y)
    losses = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow in a diverging MLP
            for train, test in _splits(task):
                model = TASKS[task].build(params)
                model.fit(x[train], y[train])
                losses.append(log_loss(y[test], model.predict_proba(x[test]), labels=labels))
        loss = statistics.fmean(losses)
    except Exception as error:  # any failure of a fit scores the penalty, never ends the run
        print(f"  {task} {params}: {type(error).__name__}: {error}", file=sys.stderr)
        return PENALTY, True
    if not math.isfinite(loss) or loss > PENALTY:
        return PENALTY, True
    return loss, False


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    return optuna


def _suggest(trial: Any, space: list[H]) -> dict[str, Any]:
    """The search space through Optuna's ``suggest_*`` calls, the same ranges and scales."""
    params: dict[str, Any] = {}
    for p in space:
        if p.param_type == "categorical":
            params[p.name] = trial.suggest_categorical(p.name, list(p.choices or ()))
        elif p.param_type == "int":
            lo, hi = int(p.min_value or 0), int(p.max_value or 0)
            params[p.name] = trial.suggest_int(p.name, lo, hi, log=p.log_scale)
        else:
            lo_f, hi_f = float(p.min_value or 0.0), float(p.max_value or 0.0)
            params[p.name] = trial.suggest_float(p.name, lo_f, hi_f, log=p.log_scale)
    return params


def run_one(task: str, method: str, seed: int, n_trials: int) -> dict[str, Any]:
    """One tuning run, driven by ask and tell so that the sampler's time is measured alone."""
    space = TASKS[task].space
    values: list[float] = []
    trials: list[dict[str, Any]] = []
    ask_s: list[float] = []
    tell_s: list[float] = []
    objective_s = 0.0
    penalised = 0
    if method.startswith("hptune-"):
        name, options = hptune_method(method)
        study: Any = hptune.create_study(space, name, maximize=False, seed=seed, **options)
    else:
        optuna = _optuna()
        if method == "optuna-gp":
            import torch

            torch.set_num_threads(1)
            sampler = optuna.samplers.GPSampler(seed=seed)
        else:
            sampler = optuna.samplers.TPESampler(seed=seed)
        study = optuna.create_study(sampler=sampler)
    for _ in range(n_trials):
        start = time.perf_counter()
        trial = study.ask()
        params = dict(trial.params) if method.startswith("hptune-") else _suggest(trial, space)
        ask_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        value, bad = objective(task, params)
        objective_s += time.perf_counter() - start
        penalised += bad
        start = time.perf_counter()
        study.tell(trial, value)
        tell_s.append(time.perf_counter() - start)
        values.append(value)
        trials.append(params)
    best = min(range(n_trials), key=values.__getitem__)
    return {
        "task": task,
        "method": method,
        "seed": seed,
        "trials": n_trials,
        "best": values[best],
        "best_params": trials[best],
        "values": values,
        "params": trials,
        "penalised": penalised,
        "ask_ms": statistics.fmean(ask_s) * 1e3,
        "tell_ms": statistics.fmean(tell_s) * 1e3,
        "objective_s_per_trial": objective_s / n_trials,
    }


def _key(r: dict[str, Any]) -> tuple[str, str, int]:
    return (r["task"], r["method"], r["seed"])


def _save(path: Path, records: list[dict[str, Any]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(records, indent=1))
    tmp.replace(path)


def run(args: argparse.Namespace) -> None:
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []
    other = {r["trials"] for r in records} - {args.trials}
    if other:
        sys.exit(
            f"{path} holds runs of {sorted(other)} trials, not {args.trials}: use another --out"
        )
    done = {_key(r) for r in records}
    tasks, methods = args.tasks.split(","), args.methods.split(",")
    unknown = [t for t in tasks if t not in TASKS] + [
        m for m in methods if m not in METHODS and m.removeprefix("hptune-") not in GP_VARIANTS
    ]
    if unknown:
        sys.exit(f"unknown task or method: {', '.join(unknown)}")
    start = time.perf_counter()
    # Seeds outermost: a run stopped early still covers every task and method evenly.
    for seed in indices(args.seeds):
        for task in tasks:
            for method in methods:
                if (task, method, seed) in done:
                    continue
                wall = time.perf_counter()
                record = run_one(task, method, seed, args.trials)
                record["wall_s"] = time.perf_counter() - wall
                records.append(record)
                _save(path, records)
                print(
                    f"seed {seed} {task} {method}: best {record['best']:.4f}, "
                    f"{record['wall_s']:.1f} s (objective {record['objective_s_per_trial']:.2f} "
                    f"s/trial, ask {record['ask_ms']:.1f} ms), total "
                    f"{(time.perf_counter() - start) / 60:.1f} min",
                    file=sys.stderr,
                    flush=True,
                )


def _wtl(pairs: list[tuple[float, float]]) -> tuple[int, int, int]:
    wins = sum(1 for a, b in pairs if a < b - TIE)
    losses = sum(1 for a, b in pairs if a > b + TIE)
    return wins, len(pairs) - wins - losses, losses


def _median_gap(pairs: list[tuple[float, float]], rng: np.random.Generator) -> str:
    """The difference of the two columns' medians over ``pairs`` and its 95% percentile
    interval over bootstrap resamples of the pairs."""
    a, b = np.array(pairs).T
    gap = float(np.median(a) - np.median(b))
    draws = rng.integers(0, len(pairs), size=(BOOTSTRAP_DRAWS, len(pairs)))
    gaps = np.median(a[draws], axis=1) - np.median(b[draws], axis=1)
    lo, hi = np.percentile(gaps, [2.5, 97.5])
    return f"{gap:+.4f} [{lo:+.4f}, {hi:+.4f}]"


def show(args: argparse.Namespace) -> None:
    wanted_tasks, wanted = args.tasks.split(","), args.methods.split(",")
    seeds = set(indices(args.seeds))
    records = [
        r
        for name in args.table
        for r in json.loads(Path(name).read_text())
        if r["task"] in wanted_tasks and r["method"] in wanted and r["seed"] in seeds
    ]
    by_key = {_key(r): r for r in records}
    methods = [m for m in wanted if any(r["method"] == m for r in records)]
    tasks = [t for t in wanted_tasks if any(r["task"] == t for r in records)]
    n_trials = sorted({r["trials"] for r in records})

    def best(t: str, m: str, s: int) -> float:
        return float(by_key[(t, m, s)]["best"])

    def paired(t: str, m: str) -> list[tuple[float, float]]:
        """(the GP's best, method ``m``'s best) on task ``t``, per seed both ran."""
        return [
            (best(t, REFERENCE, s), best(t, m, s))
            for (t2, m2, s) in by_key
            if t2 == t and m2 == m and (t, REFERENCE, s) in by_key
        ]

    # Medians over the seeds that every method ran on the task, so that columns compare alike.
    rows = []
    for t in tasks:
        done = sorted({s for (t2, _, s) in by_key if t2 == t})
        done = [s for s in done if all((t, m, s) in by_key for m in methods)]
        if not done:
            continue
        meds = [statistics.median(best(t, m, s) for s in done) for m in methods]
        low = min(meds)
        cells = [f"**{v:.4f}**" if v == low else f"{v:.4f}" for v in meds]
        rows.append([t, len(done), *cells])
    print(f"\nmedian best log-loss ({'/'.join(map(str, n_trials))} trials), lowest in bold\n")
    print(table(["task", "seeds", *methods], rows))

    others = [m for m in methods if m != REFERENCE]
    if REFERENCE in methods and others:
        rows = []
        totals = {m: [0, 0, 0] for m in others}
        for t in tasks:
            row: list[Any] = [t]
            for m in others:
                pairs = paired(t, m)
                w, ti, lo = _wtl(pairs)
                totals[m] = [a + b for a, b in zip(totals[m], (w, ti, lo), strict=True)]
                row.append(f"{w}/{ti}/{lo}" if pairs else "-")
            rows.append(row)
        rows.append(
            [
                "all",
                *[f"{w}/{ti}/{lo} (p={sign_test(w, lo):.2g})" for w, ti, lo in totals.values()],
            ]
        )
        print(
            f"\n{REFERENCE} vs each method over (task, seed) pairs: wins/ties/losses "
            f"(tie: |difference| < {TIE} log-loss; two-sided sign-test p)\n"
        )
        print(table(["task", *others], rows))

        # Is a gap between medians more than the seeds' luck? Resample the seeds (paired: one
        # draw picks a seed for both methods) and take the medians' difference each time. Each
        # cell has its own stream, so its interval does not depend on the table's other cells.
        rows = []
        for t in tasks:
            row = [t]
            for m in others:
                pairs = paired(t, m)
                rng = np.random.default_rng([BOOTSTRAP_SEED, zlib.crc32(f"{t}/{m}".encode())])
                row.append(_median_gap(pairs, rng) if len(pairs) > 1 else "-")
            rows.append(row)
        print(
            f"\nmedian of {REFERENCE} minus each method's median, with a 95% paired bootstrap "
            f"interval over the seeds ({BOOTSTRAP_DRAWS} draws; below 0: {REFERENCE} lower)\n"
        )
        print(table(["task", *others], rows))

    rows = []
    for key, label in [
        ("ask_ms", "ms per suggestion (ask)"),
        ("tell_ms", "ms per tell"),
        ("objective_s_per_trial", "objective s per trial"),
        ("wall_s", "wall s per run"),
    ]:
        rows.append(
            [
                label,
                *[statistics.fmean(r[key] for r in records if r["method"] == m) for m in methods],
            ]
        )
    rows.append(
        [
            "penalised trials",
            *[sum(r["penalised"] for r in records if r["method"] == m) for m in methods],
        ]
    )
    print("\ntime (mean over runs) and trials scored PENALTY\n")
    print(table(["", *methods], rows))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated task names")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", default="0-4", help="e.g. 0-4 or 0,2")
    parser.add_argument("--trials", type=int, default=40, help="trials per run")
    parser.add_argument("--out", default="ml.json", help="results file (appended to)")
    parser.add_argument(
        "--table", nargs="+", metavar="FILE", help="print the tables of these results files"
    )
    args = parser.parse_args()
    show(args) if args.table else run(args)


if __name__ == "__main__":
    main()
