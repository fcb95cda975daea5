"""Study-level stopping rules: no improvement for a number of rounds, a target score, a time
budget; and the callbacks and logging around each trial."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import pytest

import hptune
from hptune import TrialState

SPACE = {"x": hptune.HyperparameterSpace("x", "float", 0.0, 1.0)}


def sequence(values: Iterable[float | None]) -> Callable[[dict[str, Any]], float]:
    """An objective returning ``values`` in turn (None: the trial fails)."""
    it = iter(values)

    def objective(params: dict[str, Any]) -> float:
        v = next(it)
        if v is None:
            raise RuntimeError("planned failure")
        return v

    return objective


def run(values: list[float | None], maximize: bool = True, **options: Any) -> hptune.Study:
    study = hptune.create_study(SPACE, maximize=maximize, seed=0)
    study.optimize(sequence(values + [0.0] * 100), n_trials=len(values) + 100, **options)
    return study


def test_early_stopping_rounds() -> None:
    # Improvements at trials 0-2, then 3 trials without one: stops after trial 5.
    study = run([1.0, 2.0, 3.0, 3.0, 2.0, 1.0, 9.0], early_stopping_rounds=3)
    assert len(study.trials) == 6
    assert study.best_value == 3.0


def test_early_stopping_rounds_minimize() -> None:
    study = run([5.0, 4.0, 4.5, 4.0, 6.0, -1.0], maximize=False, early_stopping_rounds=3)
    assert len(study.trials) == 5


def test_improvement_resets_the_count() -> None:
    study = run([1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 5.0], early_stopping_rounds=3)
    assert len(study.trials) == 7


def test_min_delta() -> None:
    # Each step improves by 0.4 < min_delta 0.5, so none counts: stops after 1 + 3 trials.
    values: list[float | None] = [1.0, 1.4, 1.8, 2.2, 2.6, 3.0]
    assert len(run(values, early_stopping_rounds=3, min_delta=0.5).trials) == 4
    # Without min_delta every one is an improvement and the run goes on.
    assert len(run(values, early_stopping_rounds=3).trials) == 9


def test_failed_trials_count_as_rounds_without_improvement() -> None:
    study = run([1.0, None, None, 5.0], early_stopping_rounds=2)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] + [TrialState.FAILED] * 2


def test_target_score_maximize() -> None:
    study = run([1.0, 5.0, 10.0, 20.0], target_score=9.0)
    assert len(study.trials) == 3
    assert study.best_value == 10.0


def test_target_score_minimize() -> None:
    study = run([3.0, 0.5, 0.1, -5.0], maximize=False, target_score=0.1)
    assert len(study.trials) == 3


def test_target_already_reached_on_resume() -> None:
    study = run([10.0], target_score=5.0)
    study.optimize(lambda p: 0.0, n_trials=10, target_score=5.0)
    assert len(study.trials) == 1


def test_time_budget() -> None:
    def slow(params: dict[str, Any]) -> float:
        import time

        time.sleep(0.01)
        return float(params["x"])

    study = hptune.create_study(SPACE, seed=0)
    study.optimize(slow, timeout=0.1)
    # No wall-clock assertion: only that the budget, not a trial count, ended the run.
    assert 1 <= len(study.trials) < 10_000
    assert all(t.state is TrialState.COMPLETE for t in study.trials)


def test_nothing_would_stop() -> None:
    study = hptune.create_study(SPACE, seed=0)
    with pytest.raises(hptune.InvalidArgumentError, match="nothing else would stop"):
        study.optimize(lambda p: 0.0)
    study.optimize(lambda p: 1.0, early_stopping_rounds=2)
    assert len(study.trials) == 3


@pytest.mark.parametrize("rounds", [0, -1, 1.5])
def test_bad_rounds(rounds: Any) -> None:
    with pytest.raises(hptune.InvalidArgumentError, match="early_stopping_rounds"):
        hptune.create_study(SPACE).optimize(lambda p: 0.0, n_trials=1, early_stopping_rounds=rounds)


def test_callbacks_and_logging(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[int, TrialState]] = []
    with caplog.at_level(logging.WARNING, logger="hptune"):
        run(
            [1.0, None, 2.0],
            callbacks=[lambda study, record: seen.append((record.number, record.state))],
            early_stopping_rounds=100,
            n_jobs=1,
        )
    assert seen[:3] == [
        (0, TrialState.COMPLETE),
        (1, TrialState.FAILED),
        (2, TrialState.COMPLETE),
    ]
    assert "trial 1 failed: RuntimeError: planned failure" in caplog.text


def test_progress_bar_is_optional() -> None:
    pytest.importorskip("tqdm")
    study = hptune.create_study(SPACE, seed=0)
    study.optimize(lambda p: p["x"], n_trials=5, show_progress=True)
    assert len(study.trials) == 5
