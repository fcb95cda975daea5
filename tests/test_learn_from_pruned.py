"""The GP learning from pruned trials (``BayesianSampler(learn_from_pruned=True)``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import hptune
from hptune import HyperparameterSpace, InvalidArgumentError, TrialPruned
from hptune._history import History
from hptune.samplers import BayesianSampler
from hptune.samplers import bayesian as bayesian_module
from hptune.space import SearchSpace

SPACE = [HyperparameterSpace("x", "float", 0.0, 1.0), HyperparameterSpace("y", "float", 0.0, 1.0)]


def test_history_values_pruned_trials_no_better_than_the_worst_completed() -> None:
    history = History(SearchSpace(SPACE))
    x, y, k = history.with_pruned()
    assert (len(x), len(y), k) == (0, 0, 0)
    history.add_failed(0, {"x": 0.1, "y": 0.1}, pruned_at=2.0)
    # No completed trial yet: nothing to value the pruned one against.
    assert history.with_pruned()[2] == 0
    history.add_complete(1, {"x": 0.2, "y": 0.2}, 1.0)
    history.add_complete(2, {"x": 0.3, "y": 0.3}, 3.0)
    history.add_failed(3, {"x": 0.4, "y": 0.4}, pruned_at=5.0)
    history.add_failed(4, {"x": 0.5, "y": 0.5}, pruned_at=math.nan)
    history.add_failed(5, {"x": 0.6, "y": 0.6})  # an error, not a prune
    x, y, k = history.with_pruned()
    assert k == 3
    np.testing.assert_allclose(x[:, 0], [0.2, 0.3, 0.1, 0.4, 0.5])
    # Better than the worst (2 < 3) is raised to it; worse (5) stays; no report (NaN) is worst.
    np.testing.assert_array_equal(y, [1.0, 3.0, 3.0, 5.0, 3.0])
    # Every failed point is still avoided, but only the error is left to avoid once the
    # pruned ones are observations.
    assert len(history.avoid()) == 4
    np.testing.assert_allclose(history.avoid_unpruned()[:, 0], [0.6])


def test_the_study_records_the_last_report_in_the_canonical_direction() -> None:
    def objective(trial: Any) -> float:
        if trial.number == 0:
            trial.report(4.0, 1)
            trial.report(7.0, 2)
            raise TrialPruned()
        if trial.number == 1:
            raise TrialPruned()
        return 1.0

    study = hptune.create_study(SPACE, "bayesian", maximize=True, seed=0)
    study.optimize(objective, n_trials=3, show_progress=False)
    assert study.history is not None
    assert study.history._pruned_last[0] == -7.0  # maximised: minus the last report
    assert math.isnan(study.history._pruned_last[1])


def _recorded_fits(learn: bool, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float]]:
    """(rows, largest value) of every GP fit of a study where every other trial is pruned."""
    calls: list[tuple[int, float]] = []
    real = bayesian_module._core.bo_suggest

    def spy(space: Any, x: Any, y: Any, avoid: Any, *args: Any) -> Any:
        calls.append((len(x), float(np.max(y))))
        return real(space, x, y, avoid, *args)

    monkeypatch.setattr(bayesian_module._core, "bo_suggest", spy)

    def objective(trial: Any) -> float:
        value = (trial.params["x"] - 0.3) ** 2 + (trial.params["y"] - 0.7) ** 2
        trial.report(value + 10.0, 1)
        if trial.number % 2 == 1:
            raise TrialPruned()
        return value

    sampler = BayesianSampler(
        seed=3, n_startup_trials=4, learn_from_pruned=learn, output_warping="none"
    )
    study = hptune.create_study(SPACE, sampler, maximize=False, seed=3)
    study.optimize(objective, n_trials=10, show_progress=False)
    return calls


def test_pruned_trials_feed_the_gp_and_count_towards_the_startup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    learned = _recorded_fits(True, monkeypatch)
    # Four finished trials (2 completed, 2 pruned) end the start-up: trials 4-9 are the GP's,
    # each fitted on every finished trial, the pruned ones valued at their last report (10+).
    assert [rows for rows, _ in learned] == [4, 5, 6, 7, 8, 9]
    assert all(top >= 10.0 for _, top in learned)
    avoided = _recorded_fits(False, monkeypatch)
    # Without: four completed trials are needed (0, 2, 4, 6), so trials 7-9 are the GP's, and
    # only completed trials are fitted.
    assert [rows for rows, _ in avoided] == [4, 4, 5]
    assert all(top < 10.0 for _, top in avoided)


def test_define_by_run_studies_learn_from_pruned_trials_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows: list[int] = []
    real = bayesian_module._core.bo_suggest

    def spy(space: Any, x: Any, *args: Any) -> Any:
        rows.append(len(x))
        return real(space, x, *args)

    monkeypatch.setattr(bayesian_module._core, "bo_suggest", spy)

    def objective(trial: Any) -> float:
        a = trial.suggest_float("a", 0.0, 1.0)
        b = trial.suggest_int("b", 1, 8)
        trial.report(a + b, 1)
        if trial.number % 3 == 0:
            raise TrialPruned()
        return float(a + b)

    sampler = BayesianSampler(seed=1, n_startup_trials=3, learn_from_pruned=True)
    study = hptune.create_study(None, sampler, maximize=False, seed=1)
    study.optimize(objective, n_trials=12, show_progress=False)
    assert [t.state.value for t in study.trials].count("pruned") == 4
    # The last trial's group is fitted on all eleven finished trials, the 4 pruned included.
    assert rows[-1] == 11


def test_the_option_is_checked_and_stored() -> None:
    with pytest.raises(InvalidArgumentError, match="learn_from_pruned must be True or False"):
        BayesianSampler(learn_from_pruned="yes")  # type: ignore[arg-type]
    assert BayesianSampler().options()["learn_from_pruned"] is False
    study = hptune.create_study(SPACE, "bayesian", seed=0, learn_from_pruned=True)
    assert study.sampler.options()["learn_from_pruned"] is True  # type: ignore[attr-defined]
