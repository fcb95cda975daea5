"""Several processes on one stored study see each other's trials (shared observations)."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

import _storages as storages
import hptune
from _storages import BACKENDS
from hptune import TrialState
from hptune._history import History
from hptune.samplers import Sampler

SPACE = {
    "a": hptune.HyperparameterSpace("a", "float", 0.0, 1.0),
    "b": hptune.HyperparameterSpace("b", "float", 0.0, 1.0),
    "c": hptune.HyperparameterSpace("c", "float", 1e-3, 1.0, log_scale=True),
    "d": hptune.HyperparameterSpace("d", "int", 1, 8),
}


def regret(params: dict[str, Any]) -> float:
    """A cheap multimodal objective with its minimum 0 at a=0.3, b=0.7, c=0.01, d=3."""
    u = [params["a"] - 0.3, params["b"] - 0.7, math.log10(params["c"] / 0.01) / 3]
    bumps = sum(x * x + 0.1 * (1 - math.cos(5 * math.pi * x)) for x in u)
    return bumps + 0.05 * abs(params["d"] - 3)


# Each worker opens the study, waits until all are ready (so they really overlap), then runs
# its share of trials. The objective is this module's, reached through the tests directory.
WORKER = textwrap.dedent(
    """
    import os, pathlib, sys, time
    sys.path.insert(0, sys.argv[5])
    import hptune
    from test_shared_study import SPACE, regret

    url, method, seed, rendezvous = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    n_workers, n_trials = int(sys.argv[6]), int(sys.argv[7])
    study = hptune.create_study(SPACE, method, maximize=False, seed=seed, storage=url,
                                study_name="shared", load_if_exists=True)
    here = pathlib.Path(rendezvous)
    (here / f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while len(list(here.glob("ready-*"))) < n_workers and time.monotonic() < deadline:
        time.sleep(0.005)
    study.optimize(regret, n_trials=n_trials, show_progress=False)
    # Every worker sees every finished trial: the best is the whole study's best.
    print(study.best_value, flush=True)
    """
)


def run_workers(
    url: str, tmp: Path, method: str, seed: int, n_workers: int, n_trials: int
) -> list[float]:
    hptune.create_study(SPACE, method, maximize=False, seed=seed, storage=url, study_name="shared")
    here = str(Path(__file__).parent)
    counts = (str(n_workers), str(n_trials))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, method, str(seed), str(tmp), here, *counts],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(n_workers)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * n_workers
    trials = hptune.load_study(study_name="shared", storage=url).trials
    assert len(trials) == n_workers * n_trials
    assert all(t.state is TrialState.COMPLETE for t in trials)
    configs = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(configs)) == len(configs), "two workers evaluated the same config"
    best = min(t.value for t in trials if t.value is not None)
    # The last worker to finish saw everything; every worker saw at least its own best.
    assert min(float(out) for out in outputs) == best
    return [t.value for t in trials if t.value is not None]


# A level of the regret that marks the global basin for each method: in 20 seeds (measured
# with 100 trials), one process reached it in 15 (bayesian, in its trust region) and 17 (tpe),
# four workers that did not see each other (25 trials each) in 1 and 2, four sharing workers
# in 28 of 36 and 40 of 49. The regret is bimodal (local basins near 0.15 and 0.3 catch any
# method now and then), so the test counts seeds that reach the level rather than comparing
# medians of a few seeds.
GLOBAL_BASIN = {"bayesian": 3e-3, "tpe": 0.06}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("method", ["bayesian", "tpe"])
def test_four_workers_match_one(tmp_path: Path, method: str, backend: str) -> None:
    shared = []
    for seed in range(12):
        work = tmp_path / f"{method}-{seed}"
        work.mkdir()
        with storages.shared_url(backend, work) as url:
            shared.append(min(run_workers(url, work, method, seed, 4, 25)))
    # Workers that share their trials search like one process: most seeds reach the basin,
    # which blind workers reach in about one seed of ten (failing at 5 of 12: p < 0.005).
    reached = sum(v <= GLOBAL_BASIN[method] for v in shared)
    assert reached >= 5, (reached, shared)


def test_best_value_and_pending_points_include_other_workers(shared_url: str) -> None:
    url = shared_url
    one = hptune.create_study(SPACE, "tpe", maximize=False, seed=0, storage=url, study_name="s")
    two = hptune.load_study(study_name="s", storage=url)
    one.optimize(regret, n_trials=5, show_progress=False)
    # The other study sees the five results without reopening.
    assert two.best_value == one.best_value
    assert len(two.trials) == 5
    running = one.ask()
    asked = two.ask()
    assert two.history is not None
    assert running.number in two.history._pending
    assert asked.params != running.params
    two.tell(asked, regret(asked.params))
    one.tell(running, 0.0)
    assert two.best_value == 0.0
    assert two.best_trial.number == running.number
    # One look brings in the other's trial (finished meanwhile); nothing changed after that.
    assert one.sync() == 1
    assert one.sync() == 0
    assert len(one.history or []) == len(two.history or []) == 7


class _Stubborn(Sampler):
    """Suggests one fixed config every time, as a model stuck on a bound might."""

    name: ClassVar[str] = "stubborn"
    uses_history: ClassVar[bool] = True

    def suggest(self, history: History | None, numbers: Sequence[int]) -> list[dict[str, Any]]:
        return [{"a": 0.0, "b": 1.0, "c": 1.0, "d": 8} for _ in numbers]


def test_a_config_another_worker_holds_is_not_evaluated_again(shared_url: str) -> None:
    one = hptune.create_study(
        SPACE, _Stubborn(), maximize=False, seed=3, storage=shared_url, study_name="s"
    )
    two = hptune.create_study(
        SPACE,
        _Stubborn(),
        maximize=False,
        seed=3,
        storage=shared_url,
        study_name="s",
        load_if_exists=True,
    )
    first = one.ask()
    second = two.ask()
    assert first.params == {"a": 0.0, "b": 1.0, "c": 1.0, "d": 8}
    # The other worker's trial holds the config: re-suggested, then a random config.
    assert second.params != first.params
    stored = {t.number: t.params for t in two.trials}
    assert stored[second.number] == second.params
    # A finished trial holds its config too.
    one.tell(first, 1.0)
    two.tell(second, 2.0)
    third = one.ask()
    assert third.params not in (first.params, second.params)


def test_grid_workers_share_the_grid(shared_url: str) -> None:
    space = {"x": hptune.HyperparameterSpace("x", "int", 0, 4)}
    one = hptune.create_study(space, "grid", seed=0, storage=shared_url, study_name="g")
    two = hptune.load_study(study_name="g", storage=shared_url)
    # Both would start at the grid's first point; the second takes the next one.
    a, b = one.ask(), two.ask()
    assert (a.params, b.params) == ({"x": 0}, {"x": 1})
    one.tell(a, 1.0)
    two.tell(b, 2.0)
    one.optimize(lambda p: float(p["x"]), n_trials=2, show_progress=False)
    two.optimize(lambda p: float(p["x"]), n_trials=2, show_progress=False)
    # The grid is shared out: every point once, and the search ends when it is exhausted.
    assert sorted(t.params["x"] for t in two.trials) == [0, 1, 2, 3, 4]
