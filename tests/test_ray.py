"""The Ray executor: a study on a local Ray (2 CPUs) with failures, pruning and a timeout."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace
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
    import hptune._scheduler as parallel

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


class _FlakyRemote:
    """Stands in for the executor's remote function: the first ``lose`` calls end as if
    their node died; later calls run the function here."""

    def __init__(self, lose: int) -> None:
        self.lose = lose
        self.calls = 0

    def remote(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self.calls += 1
        inner: Future[Any] = Future()
        if self.calls <= self.lose:
            inner.set_exception(ray.exceptions.NodeDiedError("node 7 died"))
        else:
            inner.set_result(fn(*args, **kwargs))
        return SimpleNamespace(future=lambda: inner)


def test_trials_lost_with_their_node_run_again(
    local_ray: Any, caplog: pytest.LogCaptureFixture
) -> None:
    executor = RayExecutor(max_workers=1, max_retries=2)
    executor._remote = _FlakyRemote(lose=2)
    with caplog.at_level("WARNING", logger="hptune"):
        assert executor.submit(pow, 2, 10).result(timeout=30) == 1024
    assert executor._remote.calls == 3
    assert "lost with its node" in caplog.text
    # Past max_retries the trial fails with the node's error.
    executor._remote = _FlakyRemote(lose=3)
    with pytest.raises(ray.exceptions.NodeDiedError):
        executor.submit(pow, 2, 10).result(timeout=30)
    # In a study: the trial completes, it is not failed.
    executor._remote = _FlakyRemote(lose=1)
    study = hptune.create_study(helpers.SPACE, seed=2)
    study.optimize(helpers.square, n_trials=3, executor=executor)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    executor.shutdown()


def test_an_objective_raising_node_died_is_not_retried(local_ray: Any) -> None:
    study = hptune.create_study(helpers.SPACE, seed=2)
    with RayExecutor(max_workers=1, max_retries=3) as executor:
        study.optimize(helpers.raises_node_died, n_trials=1, executor=executor)
    [trial] = study.trials
    assert trial.state is TrialState.FAILED
    assert "raised by the objective" in (trial.error or "")


def test_address_and_retry_options(local_ray: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(hptune.InvalidArgumentError, match="already initialised"):
        RayExecutor(address="auto")
    with pytest.raises(hptune.InvalidArgumentError, match="max_retries"):
        RayExecutor(max_retries=-1)
    with pytest.raises(hptune.InvalidArgumentError, match="own task retries"):
        RayExecutor(max_retries=1, retry_exceptions=True)
    # Not initialised yet: the address goes to ray.init.
    seen: list[Any] = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: seen.append(kw))
    RayExecutor(address="ray://head.example:10001", max_workers=1)
    assert seen == [{"address": "ray://head.example:10001"}]
