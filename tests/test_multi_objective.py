"""Multi-objective studies (random search), the Pareto front and hypervolume."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hptune
from hptune import HyperparameterSpace, InvalidArgumentError, TrialState

SPACE = [HyperparameterSpace("x", "float", 0.0, 1.0), HyperparameterSpace("y", "float", 0.0, 1.0)]


def two(params: dict[str, Any]) -> tuple[float, float]:
    """A front along x + y = 1: minimise x, maximise 1 - y - x ** 2."""
    return params["x"], 1.0 - params["y"] - params["x"] ** 2


def dominates(a: list[float], b: list[float], signs: list[float]) -> bool:
    pa = [s * v for s, v in zip(signs, a, strict=True)]
    pb = [s * v for s, v in zip(signs, b, strict=True)]
    return all(u <= v for u, v in zip(pa, pb, strict=True)) and pa != pb


def test_best_trials_is_the_pareto_front() -> None:
    study = hptune.create_study(SPACE, directions=["minimize", "maximize"], seed=0)
    study.optimize(two, n_trials=60)
    study.tell(study.ask(), state="failed")
    assert study.directions == ["minimize", "maximize"]
    complete = [t for t in study.trials if t.state is TrialState.COMPLETE]
    assert len(complete) == 60
    for t in complete:
        assert t.values == list(two(t.params))
        assert t.value == t.values[0]  # type: ignore[index]
    signs = [1.0, -1.0]
    front = {
        t.number
        for t in complete
        if not any(dominates(o.values, t.values, signs) for o in complete)  # type: ignore[arg-type]
    }
    assert {t.number for t in study.best_trials} == front
    assert 1 < len(front) < 60
    assert [t.number for t in study.best_trials] == sorted(front)


def test_multi_objective_studies_refuse_single_objective_verbs() -> None:
    study = hptune.create_study(SPACE, directions=["minimize", "minimize"], seed=0)
    study.optimize(two, n_trials=3)
    with pytest.raises(InvalidArgumentError, match=r"use study\.best_trials"):
        _ = study.best_trial
    with pytest.raises(InvalidArgumentError, match=r"use study\.best_trials"):
        _ = study.best_value
    with pytest.raises(InvalidArgumentError, match=r"remove n_jobs, executor"):
        study.optimize(two, n_trials=3, n_jobs=2, executor="thread")
    with pytest.raises(InvalidArgumentError, match="remove early_stopping_rounds"):
        study.optimize(two, n_trials=3, early_stopping_rounds=2)


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (1.0, "needs a sequence of 2 numbers"),
        ((1.0, 2.0, 3.0), "returned 3 values; the study has 2 directions"),
        ((1.0, float("nan")), "every value must be a finite number"),
        (("a", 1.0), "every value must be a finite number"),
    ],
)
def test_bad_objective_vectors_fail_the_trial(returned: Any, message: str) -> None:
    study = hptune.create_study(SPACE, directions=["minimize", "minimize"], seed=0)
    study.optimize(lambda p: returned, n_trials=1)
    [trial] = study.trials
    assert trial.state is TrialState.FAILED
    assert message in str(trial.error)


def test_define_by_run_with_two_objectives() -> None:
    study = hptune.create_study(directions=["minimize", "minimize"], seed=0)
    study.optimize(lambda t: (t.suggest_float("a", 0.0, 1.0), t.suggest_int("b", 0, 3)), 10)
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert study.best_trials
    with pytest.raises(InvalidArgumentError, match="method 'bayesian' handles one objective"):
        hptune.create_study(None, "bayesian", directions=["minimize", "minimize"])


def test_a_numpy_vector_and_ask_tell() -> None:
    study = hptune.create_study(SPACE, directions=["maximize", "minimize", "minimize"], seed=0)
    trial = study.ask()
    record = study.tell(trial, np.array([1.0, 2.0, 3.0]))
    assert record.values == [1.0, 2.0, 3.0]
    assert study.best_trials == [record]


def test_directions_are_checked() -> None:
    with pytest.raises(InvalidArgumentError, match="give maximize= or directions=, not both"):
        hptune.create_study(SPACE, maximize=True, directions=["minimize", "maximize"])
    with pytest.raises(InvalidArgumentError, match="unknown direction 'up'"):
        hptune.create_study(SPACE, directions=["minimize", "up"])
    with pytest.raises(InvalidArgumentError, match="directions must be a list"):
        hptune.create_study(SPACE, directions="minimize")
    with pytest.raises(InvalidArgumentError, match="directions must not be empty"):
        hptune.create_study(SPACE, directions=[])
    for method in ("bayesian", "sobol", "grid"):
        with pytest.raises(InvalidArgumentError, match=f"method '{method}' handles one objective"):
            hptune.create_study(SPACE, method, directions=["minimize", "maximize"])


def test_one_direction_is_an_ordinary_study() -> None:
    study = hptune.create_study(SPACE, "tpe", directions=["MINIMIZE"], seed=0)
    assert study.maximize is False
    study.optimize(lambda p: p["x"], n_trials=12)
    assert study.best_value == min(t.value for t in study.trials)  # type: ignore[type-var]
    assert study.best_trials == [study.best_trial]


def test_directions_are_stored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mo.db'}"
    study = hptune.create_study(
        SPACE, directions=["minimize", "maximize"], seed=1, storage=url, study_name="mo"
    )
    study.optimize(two, n_trials=20)
    study.add_trial({"x": 0.0, "y": 0.0}, (0.0, 1.0))  # dominates every other trial
    again = hptune.load_study(study_name="mo", storage=url)
    assert again.directions == ["minimize", "maximize"]
    assert [t.number for t in again.best_trials] == [20]
    df = again.trials_dataframe()
    assert {"values_0", "values_1"} <= set(df.columns)
    assert "value" not in df.columns
    assert not any(c.startswith("user_attrs_hptune") for c in df.columns)
    assert df["values_1"].iloc[20] == 1.0
    with pytest.raises(InvalidArgumentError, match="stored with directions"):
        hptune.create_study(SPACE, seed=1, storage=url, study_name="mo", load_if_exists=True)
    with pytest.raises(InvalidArgumentError, match="method 'bayesian' handles one objective"):
        hptune.load_study(study_name="mo", storage=url, method="bayesian")


def test_add_trial_checks_the_vector() -> None:
    study = hptune.create_study(SPACE, directions=["minimize", "maximize"], seed=1)
    with pytest.raises(InvalidArgumentError, match="returned 1 values"):
        study.add_trial({"x": 0.0, "y": 0.0}, [1.0])


# ----------------------------------------------------------------------------- hypervolume
def test_hypervolume_by_hand() -> None:
    assert hptune.hypervolume([[1.0, 2.0], [2.0, 1.0]], [3.0, 3.0]) == 3.0
    assert hptune.hypervolume([[1.0, 1.0, 1.0]], [2.0, 3.0, 4.0]) == 6.0
    assert (
        hptune.hypervolume([[1.0, 1.0, 1.0], [0.0, 0.0, 3.0]], [2.0, 2.0, 4.0]) == 3.0 + 4.0 - 1.0
    )
    assert hptune.hypervolume([[5.0, 0.0]], [3.0, 3.0]) == 0.0  # beyond the reference
    assert hptune.hypervolume(np.empty((0, 2)), [1.0, 1.0]) == 0.0
    assert hptune.hypervolume([[0.5]], [1.0]) == 0.5


def test_hypervolume_checks_its_input() -> None:
    with pytest.raises(InvalidArgumentError, match="reference must be a point of 1, 2 or 3"):
        hptune.hypervolume([[0.0] * 4], [1.0] * 4)
    with pytest.raises(InvalidArgumentError, match="points must be an n x 2 array"):
        hptune.hypervolume([[0.0, 0.0, 0.0]], [1.0, 1.0])
    with pytest.raises(InvalidArgumentError, match="finite"):
        hptune.hypervolume([[0.0, np.nan]], [1.0, 1.0])


def _counted(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume of integer points by counting the unit cells they dominate."""
    cells = itertools.product(*(range(int(r)) for r in ref))
    return float(sum(any(np.all(points <= np.array(c), axis=1)) for c in cells))


@settings(max_examples=40)
@given(
    d=st.sampled_from([2, 3]),
    points=st.lists(st.lists(st.integers(0, 6), min_size=3, max_size=3), min_size=1, max_size=8),
)
def test_hypervolume_matches_counted_cells(d: int, points: list[list[int]]) -> None:
    pts = np.array(points, dtype=np.float64)[:, :d]
    ref = np.full(d, 6.0)
    assert hptune.hypervolume(pts, ref) == _counted(pts, ref)


def test_hypervolume_matches_optuna() -> None:
    hv = pytest.importorskip("optuna._hypervolume")
    rng = np.random.default_rng(0)
    for d in (2, 3):
        for n in (1, 5, 40):
            pts = rng.random((n, d))
            ref = np.full(d, 1.1)
            expected = hv.compute_hypervolume(pts, ref)
            assert hptune.hypervolume(pts, ref) == pytest.approx(expected, rel=1e-12)
