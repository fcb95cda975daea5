"""The Ray executor: a study on a local Ray (2 CPUs) with failures, pruning and a timeout."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import _study_helpers as helpers
import hptune
from hptune import TrialState
from hptune.pruners import MedianPruner

ray = pytest.importorskip("ray")

from hptune.integrations.ray import RayExecutor  # noqa: E402 - only once Ray is importable


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    # Ray workers do not inherit sys.path: the test helpers' folder goes in their PYTHONPATH.
    here = str(Path(__file__).parent)
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    yield ray
    ray.shutdown()


def test_failures_and_pruning_on_ray(local_ray: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ray.db'}"
    study = hptune.create_study(
        helpers.SPACE, seed=3, storage=url, pruner=MedianPruner(n_startup_trials=2)
    )
    executor = RayExecutor()
    assert executor.max_workers == 2
    study.optimize(helpers.reporting, n_trials=12, executor=executor)
    trials = study.trials
    assert len(trials) == 12
    assert any(t.state is TrialState.PRUNED for t in trials)
    assert all(t.intermediate_values for t in trials)

    failing = hptune.create_study(helpers.SPACE, seed=1)
    failing.optimize(helpers.fails_below, n_trials=10, executor=executor)
    for t in failing.trials:
        assert (t.state is TrialState.FAILED) == (t.params["x"] < 0.3)
        if t.state is TrialState.FAILED:
            assert "too small" in (t.error or "")
    executor.shutdown()


def test_timeout_cancels_the_ray_task(local_ray: Any) -> None:
    study = hptune.create_study(helpers.SPACE, seed=1)
    with RayExecutor(max_workers=2) as executor:
        study.optimize(helpers.hangs_above, n_trials=10, executor=executor, trial_timeout=2.0)
    hung = [t for t in study.trials if t.params["x"] > 0.7]
    assert hung
    for t in hung:
        assert t.state is TrialState.FAILED
        assert "trial timeout" in (t.error or "")


def test_pruned_ray_tasks_are_cancelled(
    local_ray: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hptune._parallel as parallel

    monkeypatch.setattr(parallel, "_PRUNE_GRACE", 0.1)
    url = f"sqlite:///{tmp_path / 'cancel.db'}"
    study = hptune.create_study(
        helpers.SPACE, maximize=False, seed=1, storage=url, pruner=MedianPruner(n_startup_trials=1)
    )
    study.enqueue({"x": 0.1})
    study.enqueue({"x": 0.2})
    # Trials with x >= 0.5 hang after reporting and never ask should_prune(): only the parent's
    # verdict and ray.cancel end them (the 30 s timeout would fail them instead).
    with RayExecutor(max_workers=2) as executor:
        study.optimize(
            helpers.reports_never_checks, n_trials=6, executor=executor, trial_timeout=30
        )
    for t in study.trials:
        expected = TrialState.PRUNED if t.params["x"] >= 0.5 else TrialState.COMPLETE
        assert t.state is expected
