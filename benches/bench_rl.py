"""Tuning real RL training: SB3's PPO and DQN, every chosen config re-trained on fresh seeds.

Not a test: it trains hundreds of agents. One (env, algorithm) pair per invocation is a few tens
of minutes on one core; run pairs side by side on separate cores and merge the JSON files:

    python benches/bench_rl.py --env CartPole-v1 --algo ppo --out bench-results/rl-cp-ppo.json
    python benches/bench_rl.py --table bench-results/rl-*.json

Methods, all at the same training budget per trial (``--timesteps`` per seed) and the same
total training budget for the tuning (``--budget`` full trials' worth of timesteps: a method
starts trials until it has trained ``budget * timesteps`` environment steps, so pruned trials
leave room for more trials):

- ``sb3-defaults``: SB3's defaults, no tuning.
- ``rl-zoo3``: rl-baselines3-zoo's published hyperparameters for the env, where they exist and
  need nothing the objective lacks (VecNormalize), at this benchmark's budget.
- ``optuna-tpe``: rl-zoo3's own set-up: its ``sample_*_params`` search space, Optuna's
  multivariate TPE (5 start-up trials) and MedianPruner (5 start-up trials, warm-up a third of
  the evaluations); the best trial's config is chosen, as rl-zoo3 does.
- ``random``: hptune random search over the ``*_sb3`` preset, best observation chosen.
- ``hptune-bayesian`` / ``hptune-tpe``: ``RLHyperparameterTuner`` over the ``*_sb3`` preset with
  SB3's defaults as the first trial, ASHA pruning on the timestep budget from half the run
  (``--first-rung``; ``--pruner hyperband``: Hyperband over the same range), and the final
  config chosen by intensification during the search (``tune_rl_model``'s default for a noisy
  objective; its re-evaluations come out of the search's budget). ``--selection race``: by a
  race on fresh seeds after the search instead (the race's ``RACE_COST`` trainings count
  towards the budget: the search gets ``budget - RACE_COST`` trials' worth); the runs before
  stop 28 in benches/README.md used the race and ``--first-rung 0.25``.

Every chosen config is then trained on ``--test-seeds`` fresh seeds (10001, 10002, ...), which
no method saw, and its final mean return reported with the standard error; timesteps spent and
wall time per method are reported too.
``--seed-per-trial``: the searches' trials each train on their own seed instead of
``--seed`` for all (``sb3_objective(..., seed_per_trial=True)``).

``--rungs N`` measures instead whether early evaluations rank configs as the final one does
(what ASHA assumes when it prunes at a rung): SB3's defaults and ``N`` random configs of the
preset each train on 3 seeds with an evaluation every quarter of the run, and per evaluation
step it prints Spearman's rank correlation with the same run's final return and with the mean
final return of the config's other seeds:

    python benches/bench_rl.py --env Acrobot-v1 --algo dqn --rungs 30 --out rungs.json

``--retest FILE METHOD N [N ...]`` trains trials ``N`` of ``METHOD``'s search in a result file
on the test seeds, as its chosen config was (the file's env, algorithm and run length): did
the selection drop a config that was better on fresh seeds?

    python benches/bench_rl.py --retest rl-cp-dqn.json hptune-bayesian 6 11
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import hptune
from hptune import RLHyperparameterTuner, presets
from hptune._stats import doubled_mid_ranks
from hptune.objectives import sb3_objective
from hptune.pruners import HyperbandPruner, SuccessiveHalvingPruner

TEST_SEED_BASE = 10_001
RACE = {"selection_top_k": 2, "selection_seeds": 4}  # 3 candidates x 2 seeds + 2 x 2 = 10 runs
RACE_COST = 10


def zoo_params(env_id: str, algo: str) -> dict[str, Any] | None:
    """rl-zoo3's published hyperparameters as SB3 arguments, or None where unusable here."""
    import yaml  # ships with rl_zoo3's dependencies
    from rl_zoo3 import linear_schedule

    path = Path(__import__("rl_zoo3").__file__).parent / "hyperparams" / f"{algo}.yml"
    table = yaml.safe_load(path.read_text())
    entry = dict(table.get(env_id) or {})
    if not entry or entry.pop("normalize", False):
        return None
    for key in ("n_timesteps", "policy"):
        entry.pop(key, None)
    for key in ("learning_rate", "clip_range"):
        value = entry.get(key)
        if isinstance(value, str) and value.startswith("lin_"):
            entry[key] = linear_schedule(float(value[4:]))
    if isinstance(entry.get("policy_kwargs"), str):
        entry["policy_kwargs"] = eval(entry["policy_kwargs"], {"dict": dict})  # zoo's format
    return entry


def make_objective(args: argparse.Namespace, n_envs: int = 1) -> Any:
    return sb3_objective(
        args.algo,
        args.env,
        args.timesteps,
        n_eval_episodes=args.eval_episodes,
        seed=args.seed,
        eval_freq=args.timesteps // 4,
        n_envs=n_envs,
        seed_per_trial=args.seed_per_trial,
    )


MAX_TRIALS = 200  # a cap that the timestep budget always reaches first


def make_pruner(args: argparse.Namespace) -> Any:
    """hptune's pruner: ASHA from ``--first-rung`` of the run (half by default), or
    Hyperband over the same range (its brackets hedge against early rungs that say nothing
    yet); ``--reduction-factor`` for both."""
    first = int(args.timesteps * args.first_rung)
    if args.pruner == "hyperband":
        return HyperbandPruner(
            min_resource=first, max_resource=args.timesteps, reduction_factor=args.reduction_factor
        )
    return SuccessiveHalvingPruner(min_resource=first, reduction_factor=args.reduction_factor)


def _trial_row(trial: Any, state: str) -> list[Any]:
    """A trial (hptune's or Optuna's; ``state`` as a word) as the JSON keeps it: number, state,
    value, last reported timestep, its reports by timestep and its parameters (a search's path
    can be read back from the file)."""
    reports = {str(step): v for step, v in sorted(trial.intermediate_values.items())}
    last = max(trial.intermediate_values, default=None)
    params = {
        k: v if isinstance(v, (int, float, str)) else repr(v) for k, v in trial.params.items()
    }
    return [trial.number, state, trial.value, last, reports, params]


def run_hptune(
    args: argparse.Namespace, method: str
) -> tuple[dict[str, Any], int, int, dict[str, Any]]:
    objective = make_objective(args)
    prune = method != "random"
    # The race runs after the search, so its cost is set aside; intensification spends inside
    # the search's budget (its re-evaluations count in timesteps_used).
    race_cost = RACE_COST if prune and args.selection == "race" else 0
    search_budget = (args.budget - race_cost) * args.timesteps
    result = RLHyperparameterTuner("bench").tune_rl_model(
        args.algo,
        objective,
        method=method,
        n_trials=MAX_TRIALS,
        max_timesteps=search_budget,
        seed=args.seed,
        pruner=make_pruner(args) if prune else None,
        method_options=(args.method_options or None) if prune else None,
        selection=args.selection if prune else "best",
        show_progress=False,
        **(RACE if prune else {}),
    )
    kwargs = objective.kwargs(result.best_params)
    trials = [_trial_row(t, t.state.value) for t in result.trials]
    race = result.metadata.get("selection")
    details = {
        "trials": trials,
        "race": None if race is None else [race.table(), *race.notes],
    }
    return kwargs, objective.timesteps_used, len(result.trials), details


class _OptunaTrial:
    """Bridges an Optuna trial to the objective's reporting interface."""

    def __init__(self, trial: Any, params: dict[str, Any]) -> None:
        self._trial = trial
        self.params = params

    def report(self, value: float, step: int) -> None:
        self._trial.report(value, step)

    def should_prune(self) -> bool:
        return bool(self._trial.should_prune())


def zoo_sample(algo: str, trial: Any) -> dict[str, Any]:
    """rl-zoo3's ``sample_*_params`` for ``algo`` on an Optuna trial (or an
    ``optuna.trial.FixedTrial`` of a finished trial's params, to turn them back into the
    algorithm's arguments), set up as this bench runs it: 2 actions, 1 environment, no HER."""
    from rl_zoo3.hyperparams_opt import HYPERPARAMS_SAMPLER

    extra = {"using_her_replay_buffer": False, "her_kwargs": {}}
    return HYPERPARAMS_SAMPLER[algo](trial, 2, 1, extra)


def run_optuna(
    args: argparse.Namespace,
) -> tuple[dict[str, Any], int, int, dict[str, Any]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    objective = make_objective(args)
    n_evaluations = 4
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(n_startup_trials=5, seed=args.seed, multivariate=True),
        pruner=optuna.pruners.MedianPruner(
            n_startup_trials=5, n_warmup_steps=n_evaluations // 3 * (args.timesteps // 4)
        ),
    )

    def optuna_objective(trial: Any) -> float:
        params = zoo_sample(args.algo, trial)
        try:
            return objective(_OptunaTrial(trial, params))
        except hptune.TrialPruned as exc:
            raise optuna.TrialPruned() from exc

    def stop_at_budget(study: Any, _trial: Any) -> None:
        if objective.timesteps_used >= args.budget * args.timesteps:
            study.stop()

    study.optimize(
        optuna_objective, n_trials=MAX_TRIALS, catch=(Exception,), callbacks=[stop_at_budget]
    )
    best = study.best_trial
    # Re-sample the best trial's parameters into SB3 arguments.
    kwargs = objective.kwargs(zoo_sample(args.algo, optuna.trial.FixedTrial(best.params)))
    trials = [_trial_row(t, t.state.name.lower()) for t in study.trials]
    return kwargs, objective.timesteps_used, len(study.trials), {"trials": trials}


def rank_correlation(a: list[float], b: list[float]) -> float | None:
    """Spearman's rank correlation (ties take their mid-rank); None if either side is
    constant."""
    ra, rb = (doubled_mid_ranks(v) for v in (a, b))
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    scale = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return None if scale == 0.0 else cov / scale


class _Recorder:
    """A trial that records every report and never prunes."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.number = 0
        self.values: dict[int, float] = {}

    def report(self, value: float, step: int) -> None:
        self.values[int(step)] = float(value)

    def should_prune(self) -> bool:
        return False


def rung_correlations(args: argparse.Namespace, n_configs: int, n_seeds: int = 3) -> None:
    """Traces of SB3's defaults and ``n_configs`` random preset configs on ``n_seeds`` seeds,
    then the rank correlation of each evaluation step with the final returns."""
    space = RLHyperparameterTuner().search_space(args.algo, preset=f"{args.algo}_sb3")
    configs = [presets.defaults(f"{args.algo}_sb3"), *space.sample_random(args.seed, 0, n_configs)]
    objective = make_objective(args)
    rows: list[dict[str, Any]] = []
    for k, params in enumerate(configs):
        traces = []
        for s in range(n_seeds):
            recorder = _Recorder(params)
            try:
                objective(recorder, seed=1000 * (s + 1))
            except Exception as exc:  # a config that crashes is left out of the correlations
                print(f"  config {k} seed {s} failed: {exc}", file=sys.stderr)
            traces.append(recorder.values)
        rows.append({"params": {n: repr(v) for n, v in params.items()}, "traces": traces})
        print(f"config {k}: " + " | ".join(str(t) for t in traces), flush=True)
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(rows, indent=1))
    steps = sorted({step for r in rows for t in r["traces"] for step in t})
    final = steps[-1]
    runs = [(r, i) for r in rows for i, t in enumerate(r["traces"]) if set(t) == set(steps)]
    own = [r["traces"][i][final] for r, i in runs]
    others = [
        sum(t[final] for j, t in enumerate(r["traces"]) if j != i and final in t)
        / max(1, sum(1 for j, t in enumerate(r["traces"]) if j != i and final in t))
        for r, i in runs
    ]
    print(f"{len(runs)} complete runs of {len(configs)} configs x {n_seeds} seeds")
    print("step | rho with the run's final return | rho with the other seeds' final mean")
    for step in steps:
        early = [r["traces"][i][step] for r, i in runs]
        cells = [rank_correlation(early, own), rank_correlation(early, others)]
        print(f"{step:>6} | " + " | ".join("n/a" if c is None else f"{c:.2f}" for c in cells))


def test_config(args: argparse.Namespace, kwargs: dict[str, Any], n_envs: int) -> list[float]:
    objective = make_objective(args, n_envs)
    scores = []
    for k in range(args.test_seeds):
        try:
            scores.append(objective(kwargs, seed=TEST_SEED_BASE + k))
        except Exception as exc:  # a config that crashes scores nothing, but is reported
            print(f"  test seed {k} failed: {exc}", file=sys.stderr)
    return scores


def retest(args: argparse.Namespace, path: str, method: str, numbers: list[int]) -> None:
    """Train the given trials of ``method``'s search in ``path`` on the test seeds."""
    result = json.loads(Path(path).read_text())
    row = result["methods"].get(method)
    if not row or "trials" not in row:
        tuned = [m for m, r in result["methods"].items() if "trials" in r]
        raise SystemExit(f"{path} has no trials of {method!r}; methods with trials: {tuned}")
    trials = {t[0]: t for t in row["trials"]}
    missing = sorted(set(numbers) - set(trials))
    if missing:
        raise SystemExit(f"{path}: {method} has no trials {missing} (0-{max(trials)})")
    for key in ("env", "algo", "timesteps", "test_seeds"):
        setattr(args, key, result[key])
    objective = make_objective(args)
    print(f"{method} in {path}: trial, search's value, test-seed returns, mean")
    for n in numbers:
        params = trials[n][5]
        if method == "optuna-tpe":
            import optuna

            kwargs = objective.kwargs(zoo_sample(args.algo, optuna.trial.FixedTrial(params)))
        else:
            kwargs = objective.kwargs(params)
        scores = test_config(args, kwargs, 1)
        mean = sum(scores) / len(scores) if scores else math.nan
        shown = ", ".join(f"{s:.1f}" for s in scores)
        print(f"trial {n}: {trials[n][2]}, [{shown}], {mean:.1f}", flush=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    result = {
        "env": args.env,
        "algo": args.algo,
        "timesteps": args.timesteps,
        "budget": args.budget,
        "test_seeds": args.test_seeds,
        "selection": args.selection,
        "method_options": args.method_options,
        "methods": rows,
    }
    for method in args.methods.split(","):
        start = time.perf_counter()
        n_envs = 1
        spent = n_tried = 0
        details: dict[str, Any] = {}
        if method == "sb3-defaults":
            kwargs: dict[str, Any] | None = make_objective(args).kwargs(
                presets.defaults(f"{args.algo}_sb3")
            )
        elif method == "rl-zoo3":
            kwargs = zoo_params(args.env, args.algo)
            if kwargs is not None:
                n_envs = int(kwargs.pop("n_envs", 1))
        elif method == "optuna-tpe":
            kwargs, spent, n_tried, details = run_optuna(args)
        elif method in ("random", "hptune-bayesian", "hptune-tpe"):
            kwargs, spent, n_tried, details = run_hptune(args, method.removeprefix("hptune-"))
        else:
            raise SystemExit(f"unknown method {method!r}")
        tuned = time.perf_counter() - start
        if kwargs is None:
            rows[method] = {"available": False}
            print(f"{method:>16}: not available for {args.env}", flush=True)
            save(args, result)
            continue
        scores = test_config(args, kwargs, n_envs)
        mean = sum(scores) / len(scores) if scores else math.nan
        sd = (
            math.sqrt(sum((s - mean) ** 2 for s in scores) / (len(scores) - 1))
            if len(scores) > 1
            else 0.0
        )
        rows[method] = {
            "available": True,
            "scores": scores,
            "mean": mean,
            "stderr": sd / math.sqrt(max(1, len(scores))),
            "tuning_timesteps": spent,
            "tuning_trials": n_tried,
            "tuning_seconds": tuned,
            "config": {k: repr(v) for k, v in kwargs.items()},
            # Per trial: number, state, value, last reported timestep, reports, params;
            # hptune's race (or intensification) table.
            **details,
        }
        print(
            f"{method:>16}: fresh-seed return {mean:8.1f} +- {rows[method]['stderr']:6.1f}  "
            f"tuning {spent:>9,} steps {n_tried:3d} trials {tuned:7.0f} s",
            flush=True,
        )
        save(args, result)
    return result


def save(args: argparse.Namespace, result: dict[str, Any]) -> None:
    """Write the results so far: a long run that is stopped keeps what it measured."""
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1))


def table(paths: list[str]) -> None:
    results = [json.loads(Path(p).read_text()) for p in sorted(paths)]
    methods: list[str] = []
    for r in results:
        methods += [m for m in r["methods"] if m not in methods]
    print("| env | algo | " + " | ".join(methods) + " |")
    print("|---|---|" + "---|" * len(methods))
    for r in results:
        cells = []
        for m in methods:
            row = r["methods"].get(m)
            if not row or not row.get("available"):
                cells.append("n/a")
            else:
                cells.append(f"{row['mean']:.1f} +- {row['stderr']:.1f}")
        print(f"| {r['env']} | {r['algo']} | " + " | ".join(cells) + " |")
    print()
    print("| env | algo | method | tuning timesteps | trials | tuning wall s |")
    print("|---|---|---|---|---|---|")
    for r in results:
        for m, row in r["methods"].items():
            if row.get("available") and row.get("tuning_timesteps"):
                print(
                    f"| {r['env']} | {r['algo']} | {m} | {row['tuning_timesteps']:,} | "
                    f"{row.get('tuning_trials', '?')} | {row['tuning_seconds']:.0f} |"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--algo", default="ppo", choices=["ppo", "dqn"])
    parser.add_argument("--timesteps", type=int, default=15_000, help="per trial and seed")
    parser.add_argument("--budget", type=int, default=20, help="trial-equivalents per method")
    parser.add_argument("--eval-episodes", type=int, default=5)
    parser.add_argument("--test-seeds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--pruner", default="asha", choices=["asha", "hyperband"], help="hptune's (asha)"
    )
    parser.add_argument(
        "--first-rung",
        type=float,
        default=0.5,
        help="the pruner's first rung as a share of the run (0.5; evaluations every quarter)",
    )
    parser.add_argument("--reduction-factor", type=int, default=3, help="the pruner's eta (3)")
    parser.add_argument(
        "--selection",
        default="intensify",
        choices=["race", "intensify"],
        help="hptune's choice of the final config: intensification during the search "
        "(intensify) or a race after it (set aside from the budget)",
    )
    parser.add_argument(
        "--seed-per-trial",
        action="store_true",
        help="every search's trials train on their own seeds (rl-zoo3 leaves them unseeded)",
    )
    parser.add_argument(
        "--method-options",
        type=json.loads,
        default={},
        metavar="JSON",
        help="extra options of hptune's bayesian or tpe sampler (not random search's), "
        "e.g. '{\"learn_from_pruned\": true}'",
    )
    parser.add_argument(
        "--methods",
        default="sb3-defaults,rl-zoo3,hptune-bayesian,hptune-tpe,optuna-tpe,random",
    )
    parser.add_argument(
        "--rungs",
        type=int,
        metavar="N",
        help="measure how early evaluations rank N random configs (see above) and stop",
    )
    parser.add_argument(
        "--retest",
        nargs="+",
        metavar="ARG",
        help="FILE METHOD N [N ...]: train trials N of METHOD's search in a result FILE on the "
        "test seeds, and stop",
    )
    parser.add_argument("--out", help="write the results here (JSON)")
    parser.add_argument("--table", nargs="*", help="print a table from result files")
    args = parser.parse_args()
    if not isinstance(args.method_options, dict):
        parser.error(f"--method-options must be a JSON object, got {args.method_options!r}")
    if args.table is not None:
        table([p for pattern in args.table for p in glob.glob(pattern)])
        return
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.retest is not None:
        if len(args.retest) < 3 or not all(n.isdigit() for n in args.retest[2:]):
            parser.error(f"--retest wants FILE METHOD N [N ...], got {args.retest}")
        path, method, *numbers = args.retest
        retest(args, path, method, [int(n) for n in numbers])
        return
    if args.rungs is not None:
        rung_correlations(args, args.rungs)
        return
    run(args)


if __name__ == "__main__":
    main()
