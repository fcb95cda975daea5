"""Tuning Q-learning on FrozenLake 4x4: best score after 30 trials, and that config re-trained.

    python benches/bench_qlearning.py [--seeds 5] [--trials 30] [--repeats 5]

For each method and seed: tune the q_learning preset for ``--trials`` trials (3 agents x 3,000
episodes per trial), then re-evaluate the chosen config on ``--repeats`` fresh seeds. The best
score seen during a search is optimistic; the re-evaluated one is what a user would get.
Optuna's GPSampler needs torch (benchmark environment only).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import hptune
from _common import table
from hptune import objectives
from hptune.agents import preset_space
from hptune.rng import derive_seed

SPACE = preset_space("q_learning", with_defaults=False)


def tune_hptune(
    method: str, objective: Any, trials: int, seed: int
) -> tuple[float, dict[str, Any]]:
    study = hptune.create_study(SPACE, method, maximize=True, seed=seed)
    study.optimize(objective, n_trials=trials, show_progress=False)
    return study.best_value, study.best_params


def tune_optuna(name: str, objective: Any, trials: int, seed: int) -> tuple[float, dict[str, Any]]:
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    sampler = (
        optuna.samplers.GPSampler(seed=seed)
        if name == "optuna-gp"
        else optuna.samplers.TPESampler(seed=seed, multivariate=True)
    )
    study = optuna.create_study(direction="maximize", sampler=sampler)

    def f(trial: Any) -> float:
        params = {
            p.name: trial.suggest_float(
                p.name, float(p.min_value or 0), float(p.max_value or 0), log=p.log_scale
            )
            for p in SPACE
        }
        return float(objective(params))

    study.optimize(f, n_trials=trials)
    return float(study.best_value), dict(study.best_params)


METHODS = ["random", "hptune-tpe", "hptune-bayesian", "optuna-tpe", "optuna-gp"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    rows = []
    for m in args.methods.split(","):
        found, retrained = [], []
        for seed in range(args.seeds):
            objective = objectives.q_learning("FrozenLake-v1", episodes=3000, seed=seed, n_agents=3)
            if m.startswith("optuna-"):
                best, params = tune_optuna(m, objective, args.trials, seed)
            else:
                best, params = tune_hptune(m.removeprefix("hptune-"), objective, args.trials, seed)
            fresh = [
                objective(params, seed=derive_seed(seed, "bench-retrain", r))
                for r in range(args.repeats)
            ]
            found.append(best)
            retrained.append(statistics.fmean(fresh))
            print(
                f"  {m} seed {seed}: best {best:.3f}, re-trained {retrained[-1]:.3f}",
                file=sys.stderr,
            )
        rows.append([m, statistics.median(found), statistics.median(retrained)])
    print(f"FrozenLake 4x4 slippery, {args.trials} trials, median over {args.seeds} seeds")
    print(table(["method", "best score found", "chosen config re-trained"], rows))


if __name__ == "__main__":
    main()
