"""The in-memory fast loop is pinned to the general serial loop (issue 15).

``Study._run_fast`` uses column methods of :class:`InMemoryStorage` that the ``Storage``
interface does not have; it runs only on an in-memory storage, and there it must give exactly
the trials the general loop gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hptune
from hptune import HyperparameterSpace, TrialPruned
from hptune.study import Study

SPACE = [
    HyperparameterSpace("x", "float", 0.0, 1.0),
    HyperparameterSpace("k", "int", 1, 4),
    HyperparameterSpace("c", "categorical", choices=["a", "b", "c"]),
]


def awkward(params: dict[str, Any]) -> Any:
    """Every kind of outcome: floats, numpy numbers, non-numbers, errors, pruning, infinity."""
    x, k = params["x"], params["k"]
    if x < 0.1:
        raise ValueError("too small")
    if x > 0.9:
        raise TrialPruned
    if k == 4 and params["c"] == "c":
        return "not a number"
    if k == 3 and x > 0.8:
        return float("inf")
    if params["c"] == "b":
        return np.float64(x * k)
    return x * k


def _records(study: Study) -> list[tuple[Any, ...]]:
    return [
        (t.number, t.state, t.value, t.params, t.error, t.intermediate_values) for t in study.trials
    ]


def _run(method: str, *, general: bool, **options: Any) -> Study:
    study = hptune.create_study(SPACE, method, seed=7)
    study.enqueue({"x": 0.5, "k": 2, "c": "a"})
    # Any callback forces the general loop; this one does nothing.
    callbacks = [lambda _study, _record: None] if general else []
    study.optimize(awkward, n_trials=60, callbacks=callbacks, show_progress=False, **options)
    return study


@pytest.mark.parametrize("method", ["random", "sobol", "grid"])
@pytest.mark.parametrize("stopping", [{}, {"early_stopping_rounds": 15}, {"target_score": 3.5}])
def test_fast_loop_gives_the_trials_of_the_general_loop(
    method: str, stopping: dict[str, Any]
) -> None:
    fast = _run(method, general=False, **stopping)
    general = _run(method, general=True, **stopping)
    assert _records(fast) == _records(general)
    assert fast.best_trial.number == general.best_trial.number


def test_fast_loop_runs_only_on_an_in_memory_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = Study._run_fast

    def spy(self: Study, *args: Any) -> None:
        calls.append(type(self.storage).__name__)
        original(self, *args)

    monkeypatch.setattr(Study, "_run_fast", spy)
    hptune.create_study(SPACE, seed=0).optimize(awkward, n_trials=5, show_progress=False)
    stored = hptune.create_study(SPACE, seed=0, storage=f"sqlite:///{tmp_path / 's.db'}")
    stored.optimize(awkward, n_trials=5, show_progress=False)
    assert calls == ["InMemoryStorage"]
    assert len(stored.trials) == 5
