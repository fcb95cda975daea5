"""The ``hptune`` command: demo, tune, studies, show, export.

Start-up stays light: numpy, the extension and the objectives are imported inside the commands
that need them. A user mistake prints one line and exits with status 2; it never shows a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]

DEMO_DB = "hptune-demo.db"


class CliError(Exception):
    """A user mistake: printed as one line, exit status 2."""


def _storage_url(path_or_url: str) -> str:
    return path_or_url if "://" in path_or_url else f"sqlite:///{path_or_url}"


def _open_storage(path_or_url: str) -> Any:
    import os

    from hptune.storage import get_storage

    url = _storage_url(path_or_url)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not os.path.exists(path):
            raise CliError(f"no such storage file: {path}")
    return get_storage(url)


def _load(storage: str, study: str | None) -> Any:
    import hptune

    store = _open_storage(storage)
    names = store.study_names()
    if study is None:
        if len(names) != 1:
            raise CliError(
                f"{storage} holds {len(names)} studies; choose one with --study "
                f"({', '.join(names) or 'none'})"
            )
        study = names[0]
    return hptune.load_study(study_name=study, storage=store)


# ----------------------------------------------------------------------------- demo
def cmd_demo(args: argparse.Namespace) -> int:
    """Tune Q-learning on FrozenLake and the optimization agent on the autoscaling simulator."""
    import time

    import hptune
    from hptune import objectives, presets

    storage = _storage_url(args.storage)
    method = args.method
    show = not args.no_progress
    start = time.perf_counter()
    print(f"hptune {hptune.__version__} demo: method {method!r}, studies in {args.storage}\n")

    print("1. Tabular Q-learning on FrozenLake 4x4 (slippery): maximise the success rate")
    q = objectives.q_learning("FrozenLake-v1", episodes=args.episodes, seed=args.seed, n_agents=3)
    rl = hptune.RLHyperparameterTuner("frozen-lake-agent")
    result = rl.tune_rl_model(
        algorithm="q_learning",
        objective_function=q,
        method=method,
        n_trials=args.rl_trials,
        maximize=True,
        seed=args.seed,
        storage=storage,
        study_name="demo-q-learning",
        load_if_exists=True,
        show_progress=show,
    )
    _report(result, q, presets.defaults("q_learning"), args)

    print("\n2. The optimization agent on the autoscaling simulator: minimise the weekly cost")
    cost = objectives.autoscaling(hours=168, seed=args.seed)
    agent = hptune.OptimizationAgentHyperparameterTuner()
    result = agent.tune_optimization_agent(
        objective_function=cost,
        method=method,
        n_trials=args.agent_trials,
        maximize=False,
        seed=args.seed,
        storage=storage,
        study_name="demo-optimization-agent",
        load_if_exists=True,
        show_progress=show,
    )
    _report(result, cost, presets.defaults("optimization_agent"), args)
    print(f"\ndone in {time.perf_counter() - start:.0f} s; studies written to {args.storage}")
    print(f"look at them with: hptune show {args.storage} --study demo-q-learning")
    return 0


def _report(
    result: Any, objective: Any, defaults: dict[str, Any], args: argparse.Namespace
) -> None:
    import hptune
    from hptune.trial import params_repr

    print(
        f"   {result.n_trials} trials ({len(result.failed_trials)} failed), "
        f"best score {result.best_score:.4g}"
    )
    print(f"   best params: {params_repr(result.best_params)}")
    report = hptune.validate(
        result, objective, top_k=3, n_repeats=args.repeats, seed=args.seed + 1, baseline=defaults
    )
    print("   validation on fresh seeds:")
    for line in report.table().splitlines():
        print("   " + line)


# ----------------------------------------------------------------------------- studies
def cmd_studies(args: argparse.Namespace) -> int:
    """List the studies in a storage."""
    store = _open_storage(args.storage)
    names = store.study_names()
    if not names:
        print("no studies")
    for name in names:
        meta = store.load_study(name)
        trials = store.trials(name)
        done = sum(1 for t in trials if t.state.value == "complete")
        direction = "maximize" if meta.maximize else "minimize"
        print(f"{name}\t{meta.method}\t{direction}\t{len(trials)} trials ({done} complete)")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print the best trial and a table of trials."""
    from hptune.trial import params_repr

    study = _load(args.storage, args.study)
    trials = study.trials
    print(f"study {study.name}: {study.method}, {'maximize' if study.maximize else 'minimize'}")
    try:
        best = study.best_trial
        print(f"best: trial {best.number}, value {best.value:.6g}, {params_repr(best.params)}")
    except hptune_error() as exc:
        print(f"best: none ({exc})")
    shown = trials if args.all else trials[-args.limit :]
    print(f"{'number':>6}  {'state':<8}  {'value':>12}  {'seconds':>8}  params")
    for t in shown:
        value = f"{t.value:12.6g}" if t.value is not None else " " * 12
        secs = f"{t.duration:8.3f}" if t.duration is not None else " " * 8
        print(f"{t.number:>6}  {t.state.value:<8}  {value}  {secs}  {params_repr(t.params)}")
        if t.error:
            print(f"{'':>18}error: {t.error}")
    if len(shown) < len(trials):
        print(f"({len(trials) - len(shown)} earlier trials not shown; --all shows them)")
    return 0


def hptune_error() -> type[Exception]:
    from hptune import HptuneError

    return HptuneError


def cmd_export(args: argparse.Namespace) -> int:
    """Write the trials of a study as CSV or JSON."""
    import csv
    import json

    study = _load(args.storage, args.study)
    rows = []
    for t in study.trials:
        row: dict[str, Any] = {
            "number": t.number,
            "state": t.state.value,
            "value": t.value,
            "duration": t.duration,
            "error": t.error,
        }
        row.update({f"params_{k}": v for k, v in t.params.items()})
        rows.append(row)
    fmt = args.format or ("json" if (args.output or "").endswith(".json") else "csv")
    out = open(args.output, "w", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        if fmt == "json":
            json.dump(rows, out, indent=1)
            out.write("\n")
        else:
            fields = list(rows[0]) if rows else ["number", "state", "value"]
            writer = csv.DictWriter(out, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hptune`` command."""
    parser = argparse.ArgumentParser(prog="hptune", description="Hyperparameter tuning.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help=cmd_demo.__doc__, description=cmd_demo.__doc__)
    demo.add_argument("--storage", default=DEMO_DB, help=f"SQLite file (default {DEMO_DB})")
    demo.add_argument("--method", default="bayesian", help="search method (default bayesian)")
    demo.add_argument("--rl-trials", type=int, default=40, help="Q-learning trials (40)")
    demo.add_argument("--agent-trials", type=int, default=60, help="optimization agent trials (60)")
    demo.add_argument("--episodes", type=int, default=3000, help="episodes per Q-learning run")
    demo.add_argument("--repeats", type=int, default=5, help="validation repeats per config (5)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--no-progress", action="store_true", help="no progress bars")
    demo.set_defaults(func=cmd_demo)

    studies = sub.add_parser("studies", help=cmd_studies.__doc__, description=cmd_studies.__doc__)
    studies.add_argument("storage", help="SQLite file or storage URL")
    studies.set_defaults(func=cmd_studies)

    show = sub.add_parser("show", help=cmd_show.__doc__, description=cmd_show.__doc__)
    show.add_argument("storage", help="SQLite file or storage URL")
    show.add_argument("--study", help="study name (needed when the storage has several)")
    show.add_argument("--limit", type=int, default=20, help="show the last N trials (20)")
    show.add_argument("--all", action="store_true", help="show every trial")
    show.set_defaults(func=cmd_show)

    export = sub.add_parser("export", help=cmd_export.__doc__, description=cmd_export.__doc__)
    export.add_argument("storage", help="SQLite file or storage URL")
    export.add_argument("--study", help="study name (needed when the storage has several)")
    export.add_argument("-o", "--output", help="output file (default: standard output)")
    export.add_argument("--format", choices=["csv", "json"], help="default: from -o, else csv")
    export.set_defaults(func=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"hptune: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hptune: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from hptune import HptuneError

        if isinstance(exc, (HptuneError, ImportError, OSError)):
            print(f"hptune: error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
