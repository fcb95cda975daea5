"""Multi-objective studies (random search, and the GP by LogEHVI), the Pareto front and
hypervolume."""

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
    with pytest.raises(InvalidArgumentError, match="method 'sobol' handles one objective"):
        hptune.create_study(None, "sobol", directions=["minimize", "minimize"])


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
    for method in ("sobol", "grid"):
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
    with pytest.raises(InvalidArgumentError, match="method 'sobol' handles one objective"):
        hptune.load_study(study_name="mo", storage=url, method="sobol")


def test_add_trial_checks_the_vector() -> None:
    study = hptune.create_study(SPACE, directions=["minimize", "maximize"], seed=1)
    with pytest.raises(InvalidArgumentError, match="returned 1 values"):
        study.add_trial({"x": 0.0, "y": 0.0}, [1.0])


# ------------------------------------------------------------------------ the GP (LogEHVI)
def zdt1(params: dict[str, Any]) -> tuple[float, float]:
    """ZDT1 on SPACE: the front is f2 = 1 - sqrt(f1), reached where y = 0."""
    f1 = params["x"]
    g = 1.0 + 9.0 * params["y"]
    return f1, g * (1.0 - np.sqrt(f1 / g))


def _front_hypervolume(method: str, seed: int, n_trials: int) -> float:
    study = hptune.create_study(SPACE, method, directions=["minimize", "minimize"], seed=seed)
    study.optimize(zdt1, n_trials=n_trials, show_progress=False)
    return hptune.hypervolume([t.values for t in study.best_trials], [1.1, 1.1])


def test_gp_front_beats_motpe_and_random_search() -> None:
    seeds = range(3)
    gp = [_front_hypervolume("bayesian", s, 30) for s in seeds]
    tpe = [_front_hypervolume("tpe", s, 30) for s in seeds]
    rnd = [_front_hypervolume("random", s, 30) for s in seeds]
    # The best possible is 0.877; measured at these seeds the GP reaches over 0.8 every time.
    assert min(gp) > 0.75, gp
    assert min(gp) > max(tpe) + 0.1, (gp, tpe)
    assert min(gp) > max(rnd) + 0.1, (gp, rnd)


def test_gp_on_three_objectives_beats_random_search() -> None:
    space = [HyperparameterSpace(f"x{i}", "float", 0.0, 1.0) for i in range(4)]

    def dtlz2(p: dict[str, Any]) -> list[float]:
        # The front is the unit sphere's positive octant, where x2 = x3 = 0.5.
        a, b = p["x0"] * np.pi / 2, p["x1"] * np.pi / 2
        g = (p["x2"] - 0.5) ** 2 + (p["x3"] - 0.5) ** 2
        r = 1.0 + g
        return [r * np.cos(a) * np.cos(b), r * np.cos(a) * np.sin(b), r * np.sin(a)]

    def volume(method: str, seed: int) -> float:
        directions = ["minimize"] * 3
        study = hptune.create_study(space, method, directions=directions, seed=seed)
        study.optimize(dtlz2, n_trials=40, show_progress=False)
        return hptune.hypervolume([t.values for t in study.best_trials], [1.5, 1.5, 1.5])

    gp = [volume("bayesian", s) for s in range(2)]
    rnd = [volume("random", s) for s in range(2)]
    # The best possible is 1.5^3 - pi / 6 = 2.85.
    assert min(gp) > max(rnd) + 0.1, (gp, rnd)


def test_gp_keeps_to_the_feasible_region_and_spreads_a_batch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mo.db'}"
    study = hptune.create_study(
        SPACE,
        "bayesian",
        directions=["minimize", "minimize"],
        seed=4,
        constraints_func=lambda r: [0.5 - r.params["x"]],  # feasible where x >= 0.5
        storage=url,
        study_name="gp",
    )
    study.optimize(zdt1, n_trials=25, show_progress=False)
    late = [t for t in study.trials if t.number >= 10]
    assert sum(t.params["x"] >= 0.5 for t in late) >= 12, [t.params for t in late]
    assert study.best_trials
    assert all(t.params["x"] >= 0.5 for t in study.best_trials)
    again = hptune.load_study(study_name="gp", storage=url, method="bayesian")
    batch = again.ask(3)
    points = {(t.params["x"], t.params["y"]) for t in batch}
    assert len(points) == 3
    for t in batch:
        again.tell(t, zdt1(t.params))
    assert len(again.trials) == 28


def test_gp_with_define_by_run_and_two_objectives() -> None:
    study = hptune.create_study(None, "bayesian", directions=["minimize", "minimize"], seed=0)

    def objective(trial: Any) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        return x, (1.0 - x) + (0.5 if kind == "b" else 0.0)

    study.optimize(objective, n_trials=20, show_progress=False)
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert {t.params["kind"] for t in study.best_trials} == {"a"}


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
