"""The ``hptune`` command: demo, tune, studies, show, export, report.

Start-up stays light: numpy, the extension and the objectives are imported inside the commands
that need them. A user mistake prints one line and exits with status 2; it never shows a
traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]

DEMO_DB = "hptune-demo.db"


class CliError(Exception):
    """A user mistake: printed as one line, exit status 2."""


def _safe(text: object) -> str:
    """``text`` with control characters (ANSI escapes, newlines, bidi overrides) escaped, so that
    a study name or an error stored in a file cannot drive the terminal it is printed on."""
    s = str(text)
    if s.isprintable():
        return s
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in s)


# A plain number as text: left alone by the CSV export even when it starts with + or -.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP's CSV injection advice:
    text starting with =, +, -, @, tab or carriage return gets a leading single quote)."""
    if value is None or isinstance(value, (int, float)):
        return value  # numbers stay numbers, -1.5 included
    text = value if isinstance(value, str) else str(value)
    if not text or text[0] not in "=+-@\t\r" or _NUMBER.fullmatch(text):
        return text
    return "'" + text


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
                f"({', '.join(map(_safe, names)) or 'none'})"
            )
        study = names[0]
    return hptune.load_study(study_name=study, storage=store)


# ----------------------------------------------------------------------------- demo
def cmd_demo(args: argparse.Namespace) -> int:
    """Tune Q-learning on FrozenLake and the optimization agent on the autoscaling simulator."""
    import time

    import hptune
    from hptune import objectives, presets
    from hptune.samplers import method_name

    try:
        import gymnasium  # noqa: F401
    except ImportError:
        raise CliError('the demo needs Gymnasium: pip install "hptune[rl]"') from None
    # Before anything is removed or run: an unknown method fails here, naming the known ones.
    method_name(args.method)
    path = Path(args.storage)
    if not args.resume and path.exists():
        # The demo's own file: a rerun starts afresh unless asked to continue.
        for extra in ("", "-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
        print(f"removed the previous demo studies in {args.storage} (--resume keeps them)")
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
    _demo_cost_vs_slo(agent, cost, args, storage, show)
    _demo_sb3(args, storage, method, show)
    print(f"\ndone in {time.perf_counter() - start:.0f} s; studies written to {args.storage}")
    print(f"look at them with: hptune show {args.storage} --study demo-q-learning")
    return 0


def _demo_sb3(args: argparse.Namespace, storage: str, method: str, show: bool) -> None:
    """Part 3: real DQN training on CartPole, tuned with pruning, then the best trial raced
    against SB3's defaults on fresh seeds (the validation: seeds the search never saw)."""
    import time

    import hptune
    from hptune import objectives
    from hptune.pruners import SuccessiveHalvingPruner
    from hptune.trial import params_repr

    print("\n3. Stable-Baselines3 DQN on CartPole-v1: maximise the mean return")
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        print('   skipped: needs Stable-Baselines3 and torch (pip install "hptune[sb3]")')
        return
    start = time.perf_counter()
    steps = args.sb3_steps
    dqn = objectives.sb3_objective(
        "dqn", "CartPole-v1", steps, n_eval_episodes=5, seed=args.seed, eval_freq=steps // 4
    )
    options = {"n_startup_trials": max(2, args.sb3_trials // 2)} if method == "bayesian" else {}
    result = hptune.RLHyperparameterTuner("cartpole-dqn").tune_rl_model(
        algorithm="dqn",
        objective_function=dqn,
        method=method,
        n_trials=args.sb3_trials,
        seed=args.seed,
        storage=storage,
        study_name="demo-sb3-dqn",
        load_if_exists=True,
        show_progress=show,
        method_options=options,
        pruner=SuccessiveHalvingPruner(min_resource=steps // 4, reduction_factor=2),
        # A race with one candidate, so its means are an unbiased fresh-seed validation of
        # the search's best trial against SB3's defaults (no choice among candidates on them).
        selection="race",
        selection_top_k=1,
        selection_seeds=args.sb3_repeats,
    )
    pruned = sum(1 for t in result.trials if t.state.value == "pruned")
    observed = result.metadata["best_observed"]
    print(
        f"   {result.n_trials} trials of {steps:,} steps ({pruned} pruned by ASHA), "
        f"best single observation {observed.score:.1f}"
    )
    race = result.metadata["selection"]
    print(
        f"   the best trial and SB3's defaults re-trained on {len(race.seeds)} fresh "
        f"seed{'s' if len(race.seeds) != 1 else ''} "
        "(the defaults stay unless beaten by more than a standard error):"
    )
    for line in race.table().splitlines():
        print("   " + line)
    base = next(e for e in race.entries if e.label == "baseline")
    print(
        f"   chosen: {params_repr(result.best_params)}\n"
        f"   fresh-seed mean {result.best_score:.1f} against {base.mean:.1f} for SB3's defaults"
    )
    print(f"   {dqn.timesteps_used:,} timesteps trained in {time.perf_counter() - start:.0f} s")


def _demo_cost_vs_slo(
    agent: Any, cost: Any, args: argparse.Namespace, storage: str, show: bool
) -> None:
    """Part 2b: cost versus SLO minutes as two objectives (MOTPE), the Pareto front printed."""
    print("\n   Cost versus minutes over the latency objective, two objectives (MOTPE):")
    front = agent.tune_cost_vs_slo(
        cost,
        "slo_minutes",
        method="tpe",
        n_trials=args.agent_trials,
        seed=args.seed,
        storage=storage,
        study_name="demo-cost-vs-slo",
        load_if_exists=True,
        show_progress=show,
    )
    print(f"   Pareto front of {len(front.front)} trials (hypervolume {front.hypervolume:.4g}):")
    for value, minutes in front.points():
        print(f"     cost {value:8.2f}   SLO minutes {minutes:5.0f}")


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
        print(
            f"{_safe(name)}\t{_safe(meta.method)}\t{direction}\t{len(trials)} trials "
            f"({done} complete)"
        )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print the best trial and a table of trials."""
    from hptune.trial import params_repr

    if args.limit < 0:
        raise CliError(f"--limit must be a non-negative number of trials, got {args.limit}")
    study = _load(args.storage, args.study)
    trials = study.trials
    multi = len(study.directions) > 1
    constrained = any(t.constraints is not None for t in trials)
    print(f"study {_safe(study.name)}: {_safe(study.method)}, {', '.join(study.directions)}")
    if constrained:
        done = [t for t in trials if t.state.value == "complete"]
        print(f"feasible: {sum(t.feasible for t in done)} of {len(done)} completed trials")
    front: set[int] = set()
    if multi:
        records = study.best_trials
        front = {t.number for t in records}
        print(f"Pareto front: {len(records)} trials" + (":" if records else ""))
        for t in records:
            params = _safe(params_repr(t.params))
            print(f"  trial {t.number}: values {_values_text(t.values)}, {params}")
    else:
        try:
            best = study.best_trial
            print(
                f"best: trial {best.number}, value {best.value:.6g}, "
                f"{_safe(params_repr(best.params))}"
                + ("" if best.feasible else " (infeasible: no trial is feasible yet)")
            )
        except hptune_error() as exc:
            print(f"best: none ({_safe(exc)})")
    shown = trials if args.all else trials[max(0, len(trials) - args.limit) :]
    extra = ("  front" if multi else "") + ("  feasible" if constrained else "")
    width = 12 * len(study.directions)
    head = "values" if multi else "value"
    print(f"{'number':>6}  {'state':<8}  {head:>{width}}{extra}  {'seconds':>8}  params")
    for t in shown:
        if multi:
            value = f"{_values_text(t.values):>{width}}"
        else:
            value = f"{t.value:12.6g}" if t.value is not None else " " * 12
        marks = f"  {'yes' if t.number in front else '':<5}" if multi else ""
        if constrained:
            flag = "" if t.constraints is None else ("yes" if t.feasible else "no")
            marks += f"  {flag:<8}"
        secs = f"{t.duration:8.3f}" if t.duration is not None else " " * 8
        params = _safe(params_repr(t.params))
        print(f"{t.number:>6}  {t.state.value:<8}  {value}{marks}  {secs}  {params}")
        if t.error:
            print(f"{'':>18}error: {_safe(t.error)}")
    if len(shown) < len(trials):
        print(f"({len(trials) - len(shown)} earlier trials not shown; --all shows them)")
    return 0


def _values_text(values: list[float] | None) -> str:
    return "" if values is None else "(" + ", ".join(f"{v:.6g}" for v in values) + ")"


def hptune_error() -> type[Exception]:
    from hptune import HptuneError

    return HptuneError


def cmd_export(args: argparse.Namespace) -> int:
    """Write the trials of a study as CSV or JSON."""
    import csv
    import json
    import os

    fmt = args.format
    if args.output:
        suffix = os.path.splitext(args.output)[1].lower()
        if suffix not in (".csv", ".json"):
            raise CliError(
                f"cannot export to {args.output!r}: the output file must end in .csv or .json"
            )
        if fmt is not None and f".{fmt}" != suffix:
            raise CliError(f"--format {fmt} does not match the output file {args.output!r}")
        fmt = suffix[1:]
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
        if len(study.directions) > 1:
            row["values"] = t.values
        if t.constraints is not None:
            row["constraints"] = t.constraints
        row.update({f"params_{k}": v for k, v in t.params.items()})
        rows.append(row)
    fmt = fmt or "csv"
    out = open(args.output, "w", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        if fmt == "json":
            json.dump(rows, out, indent=1)
            out.write("\n")
        else:
            # Every column any trial has (params of define-by-run trials differ, say).
            fields = list(dict.fromkeys(k for row in rows for k in row)) or [
                "number",
                "state",
                "value",
            ]
            writer = csv.DictWriter(out, fieldnames=fields, restval="")
            writer.writeheader()
            writer.writerows({k: _csv_cell(v) for k, v in row.items()} for row in rows)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


# ----------------------------------------------------------------------------- tune
def cmd_tune(args: argparse.Namespace) -> int:
    """Tune an objective (module:function) over a search space file (JSON, TOML or YAML)."""
    import hptune
    from hptune._tune_inputs import load_objective, load_space_file
    from hptune.trial import TrialState, params_repr

    if args.trials < 1:
        raise CliError(f"--trials must be at least 1, got {args.trials}")
    space = load_space_file(args.space)
    objective = load_objective(args.objective)
    storage = _storage_url(args.storage) if args.storage else None
    study = hptune.create_study(
        space,
        args.method,
        maximize=args.maximize,
        seed=args.seed,
        storage=storage,
        study_name=args.study,
        # Naming a stored study continues it, so an interrupted run can be resumed.
        load_if_exists=storage is not None and args.study is not None,
    )
    direction = "maximize" if study.maximize else "minimize"
    where = f", study {study.name!r} in {args.storage}" if storage else ""
    print(
        f"tuning {args.objective} over {len(space)} parameters: {study.method}, "
        f"{args.trials} trials, {direction}{where}"
    )
    study.optimize(
        objective, n_trials=args.trials, n_jobs=args.n_jobs, show_progress=not args.no_progress
    )
    trials = study.trials
    counts = {s: sum(1 for t in trials if t.state is s) for s in TrialState}
    print(
        f"{len(trials)} trials: {counts[TrialState.COMPLETE]} complete, "
        f"{counts[TrialState.PRUNED]} pruned, {counts[TrialState.FAILED]} failed"
    )
    if counts[TrialState.COMPLETE] == 0:
        first = next((t.error for t in trials if t.error), None)
        raise CliError("no trial completed" + (f"; first error: {first}" if first else ""))
    best = study.best_trial
    print(f"best: trial {best.number}, value {best.value:.6g}")
    print(f"best params: {params_repr(best.params)}")
    if storage:
        print(f"report: hptune report {args.storage} --study {study.name} -o report.html")
    return 0


# ----------------------------------------------------------------------------- report
def _stored_study(storage: str, study: str | None) -> Any:
    """The columns of a stored study, read once (no sampler is built)."""
    from hptune._multi_objective import directions_of
    from hptune._study_data import StudyData
    from hptune.study import _space_from_meta

    store = _open_storage(storage)
    if study is None:
        names = store.study_names()
        if len(names) != 1:
            raise CliError(
                f"{storage} holds {len(names)} studies; choose one with --study "
                f"({', '.join(map(_safe, names)) or 'none'})"
            )
        study = names[0]
    meta = store.load_study(study)
    return StudyData.from_records(
        meta.name,
        meta.maximize,
        _space_from_meta(meta),
        store.trials(study),
        directions_of(meta, meta.maximize),
    )


def cmd_report(args: argparse.Namespace) -> int:
    """Write one self-contained HTML file with the plots and the trials table of a study."""
    import time

    from hptune._report import render_report

    if not 0 < args.quantile <= 1:
        raise CliError(f"--quantile must lie in (0, 1], got {args.quantile}")
    if args.rows < 0:
        raise CliError(f"--rows must be non-negative, got {args.rows}")
    start = time.perf_counter()
    data = _stored_study(args.storage, args.study)
    text = render_report(data, quantile=args.quantile, best_rows=args.rows, last_rows=args.rows)
    with open(args.output, "w", encoding="utf-8") as out:
        out.write(text)
    print(
        f"wrote {args.output}: study {data.name}, {data.n:,} trials, "
        f"{len(text.encode()) / 1024:,.0f} KiB in {time.perf_counter() - start:.1f} s"
    )
    return 0


# ----------------------------------------------------------------------------- parser
class _VersionAction(argparse.Action):
    """``--version``: the extension (which holds the version) is imported only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        from hptune import __version__

        print(f"hptune {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hptune`` command."""
    parser = argparse.ArgumentParser(prog="hptune", description="Hyperparameter tuning.")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help=cmd_demo.__doc__, description=cmd_demo.__doc__)
    demo.add_argument("--storage", default=DEMO_DB, help=f"SQLite file (default {DEMO_DB})")
    demo.add_argument("--method", default="bayesian", help="search method (default bayesian)")
    demo.add_argument("--rl-trials", type=int, default=40, help="Q-learning trials (40)")
    demo.add_argument("--agent-trials", type=int, default=60, help="optimization agent trials (60)")
    demo.add_argument("--episodes", type=int, default=3000, help="episodes per Q-learning run")
    demo.add_argument("--repeats", type=int, default=5, help="validation repeats per config (5)")
    demo.add_argument("--sb3-trials", type=int, default=10, help="DQN trials (10)")
    demo.add_argument("--sb3-steps", type=int, default=10000, help="timesteps per DQN run")
    demo.add_argument("--sb3-repeats", type=int, default=3, help="fresh DQN seeds of the race (3)")
    demo.add_argument("--resume", action="store_true", help="continue the previous demo studies")
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

    tune = sub.add_parser("tune", help=cmd_tune.__doc__, description=cmd_tune.__doc__)
    tune.add_argument("space", help="search space file: .json, .toml (Python 3.11+) or .yaml")
    tune.add_argument("objective", help="module:function, imported from the current directory")
    tune.add_argument(
        "--method", help="search method (default random; a continued study keeps its own)"
    )
    tune.add_argument("--trials", type=int, default=20, help="number of trials (20)")
    tune.add_argument("--storage", help="SQLite file or storage URL (default: in memory)")
    tune.add_argument("--study", help="study name; with --storage, an existing study continues")
    tune.add_argument("--n-jobs", type=int, default=1, help="parallel workers (1; -1: all CPUs)")
    tune.add_argument("--seed", type=int, help="seed of the study (default: random, stored)")
    direction = tune.add_mutually_exclusive_group()
    direction.add_argument(
        "--maximize",
        dest="maximize",
        action="store_true",
        default=True,
        help="maximise the objective (the default)",
    )
    direction.add_argument(
        "--minimize", dest="maximize", action="store_false", help="minimise the objective"
    )
    tune.add_argument("--no-progress", action="store_true", help="no progress bar")
    tune.set_defaults(func=cmd_tune)

    report = sub.add_parser("report", help=cmd_report.__doc__, description=cmd_report.__doc__)
    report.add_argument("storage", help="SQLite file or storage URL")
    report.add_argument("--study", help="study name (needed when the storage has several)")
    report.add_argument("-o", "--output", default="report.html", help="output file (report.html)")
    report.add_argument("--quantile", type=float, default=0.1, help="top share for importance")
    report.add_argument(
        "--rows", type=int, default=200, help="trials table: the best N and the last N (200)"
    )
    report.set_defaults(func=cmd_report)
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
        print(f"hptune: error: {_safe(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hptune: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from hptune import HptuneError

        if isinstance(exc, (HptuneError, ImportError, OSError)):
            print(f"hptune: error: {_safe(exc)}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
