"""Optuna-style study verbs: trials_dataframe, add_trial, partial enqueue, stop."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

import hptune
from hptune import HyperparameterSpace, InvalidArgumentError, LessThan, Trial, TrialState
from hptune._define_by_run import DISTRIBUTIONS_KEY

SPACE = [
    HyperparameterSpace("x", "float", 0.0, 1.0),
    HyperparameterSpace("k", "int", 1, 4),
    HyperparameterSpace("c", "categorical", choices=["a", "b"]),
]


def objective(trial: Trial) -> float:
    p = trial.params
    if p["c"] == "b":
        trial.set_user_attr("extra", trial.suggest_float("extra", 0.0, 2.0))
    return p["x"] + p["k"]


# ----------------------------------------------------------------------------- trials_dataframe
def test_trials_dataframe_has_one_row_per_trial() -> None:
    study = hptune.create_study(SPACE, "tpe", maximize=False, seed=0)
    study.optimize(objective, n_trials=12)
    study.tell(study.ask(), state="failed", error="boom")
    df = study.trials_dataframe()
    assert list(df.columns[:4]) == ["number", "value", "state", "duration"]
    assert {"params_x", "params_k", "params_c", "params_extra", "user_attrs_extra"} <= set(
        df.columns
    )
    assert not any(DISTRIBUTIONS_KEY in c for c in df.columns)
    assert len(df) == 13
    assert df["number"].tolist() == list(range(13))
    assert df["state"].tolist() == ["complete"] * 12 + ["failed"]
    assert math.isnan(df["value"].iloc[-1])
    assert df["error"].iloc[-1] == "boom"
    for row in df.itertuples():
        if row.params_c == "a":
            assert math.isnan(row.params_extra)
        elif row.state == "complete":
            assert row.params_extra == row.user_attrs_extra
    assert df["value"].min() == study.best_value


def test_trials_dataframe_of_an_empty_study() -> None:
    df = hptune.create_study(SPACE, seed=0).trials_dataframe()
    assert len(df) == 0
    assert "params_x" in df.columns


def test_trials_dataframe_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    study = hptune.create_study(SPACE, seed=0)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"hptune\[pandas\]"):
        study.trials_dataframe()


# ----------------------------------------------------------------------------- add_trial
@pytest.mark.parametrize("method", ["random", "tpe", "bayesian", "grid"])
def test_added_trials_count_like_evaluated_ones(method: str) -> None:
    study = hptune.create_study(SPACE, method, maximize=False, seed=1)
    record = study.add_trial(
        {"x": 0.0, "k": 1, "c": "a"}, -5.0, intermediate_values={0: 1.0}, user_attrs={"u": 1}
    )
    assert record.state is TrialState.COMPLETE
    assert study.best_trial.number == record.number
    assert study.best_value == -5.0
    assert study.trials[0].intermediate_values == {0: 1.0}
    assert study.trials[0].user_attrs == {"u": 1}
    if study.history is not None:
        assert len(study.history) == 1
    study.add_trial({"x": 0.5, "k": 2, "c": "b"}, state="failed")
    study.optimize(lambda p: p["x"], n_trials=5)
    assert len(study.trials) == 7
    assert study.trials[1].state is TrialState.FAILED
    if method == "grid":  # the added point is not visited again
        points = [(t.params["x"], t.params["k"], t.params["c"]) for t in study.trials]
        assert len(set(points)) == len(points)


def test_add_trial_with_dynamic_params(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'add.db'}"
    study = hptune.create_study(method="tpe", maximize=False, seed=0, storage=url, study_name="a")
    depth = HyperparameterSpace("depth", "int", 1, 8)
    study.add_trial({"depth": 3}, 1.5, distributions={"depth": depth})
    study.add_trial({"depth": 4}, 2.5)  # the distribution is known now
    study.optimize(lambda t: float(t.suggest_int("depth", 1, 8)), n_trials=3)
    again = hptune.load_study(study_name="a", storage=url)
    assert again._dbr.distributions["depth"] == depth
    assert again.trials[0].user_attrs[DISTRIBUTIONS_KEY]["depth"]["max_value"] == 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"params": {"x": 0.5, "k": 1}, "value": 1.0}, r"params are missing \['c'\]"),
        ({"params": {"x": 2.0, "k": 1, "c": "a"}, "value": 1.0}, "parameter 'x': 2.0"),
        (
            {"params": {"x": 0.5, "k": 1, "c": "a", "new": 1}, "value": 1.0},
            "parameter 'new' is neither in the static search space",
        ),
        ({"params": {"x": 0.5, "k": 1, "c": "a"}}, "must be a finite number"),
        ({"params": {"x": 0.5, "k": 1, "c": "a"}, "value": math.inf}, "must be a finite"),
        ({"params": {"x": 0.5, "k": 1, "c": "a"}, "value": "1"}, "must be a finite number"),
        (
            {"params": {"x": 0.5, "k": 1, "c": "a"}, "value": 1.0, "state": "failed"},
            "a failed trial has no value",
        ),
        (
            {"params": {"x": 0.5, "k": 1, "c": "a"}, "value": 1.0, "state": "running"},
            "add_trial records a finished trial",
        ),
        (
            {"params": {"x": 0.5, "k": 1, "c": "a"}, "value": 1.0, "state": "done"},
            "unknown trial state 'done'",
        ),
        (
            {"params": {"x": 0.5, "k": 1, "c": "a"}, "value": 1.0, "intermediate_values": {-1: 0}},
            "steps must be non-negative ints",
        ),
        (
            {
                "params": {"x": 0.5, "k": 1, "c": "a"},
                "value": 1.0,
                "user_attrs": {DISTRIBUTIONS_KEY: 1},
            },
            "are reserved",
        ),
    ],
)
def test_add_trial_checks_its_input(kwargs: dict[str, Any], message: str) -> None:
    study = hptune.create_study(SPACE, seed=0)
    with pytest.raises(InvalidArgumentError, match=message):
        study.add_trial(**kwargs)
    assert study.trials == []


# ----------------------------------------------------------------------------- enqueue
@pytest.mark.parametrize("method", ["random", "sobol", "grid", "tpe", "bayesian"])
def test_partial_enqueue_draws_the_missing_params(method: str) -> None:
    def run() -> list[dict[str, Any]]:
        study = hptune.create_study(SPACE, method, seed=3)
        study.enqueue({"c": "b"})
        study.enqueue({"x": 0.25, "k": 2})
        study.optimize(lambda p: p["x"], n_trials=4)
        return [t.params for t in study.trials]

    params = run()
    assert params == run()  # deterministic
    assert params[0]["c"] == "b"
    assert (params[1]["x"], params[1]["k"]) == (0.25, 2)
    for p in params:
        assert all(q.contains(p[q.name]) for q in SPACE)
        assert set(p) == {"x", "k", "c"}


def test_partial_enqueue_does_not_use_up_a_grid_point() -> None:
    space = [HyperparameterSpace("k", "int", 1, 3), HyperparameterSpace("x", "float", 0.0, 1.0)]
    study = hptune.create_study(space, "grid", resolution=3)
    study.enqueue({"k": 2})
    study.optimize(lambda p: float(p["k"]), n_trials=None)
    # x of the queued trial is drawn at random (not a grid value): all 9 grid points follow.
    assert len(study.trials) == 10
    assert study.trials[0].params["x"] not in (0.0, 0.5, 1.0)


def test_partial_enqueue_respects_constraints() -> None:
    space = [
        HyperparameterSpace("low", "float", 0.0, 1.0),
        HyperparameterSpace("high", "float", 0.1, 1.0),
    ]
    search = hptune.SearchSpace(space, [LessThan("low", "high")])
    study = hptune.create_study(search, seed=0)
    for _ in range(10):
        study.enqueue({"high": 0.2})
    study.optimize(lambda p: p["low"], n_trials=10)
    assert all(t.params["low"] < 0.2 for t in study.trials)
    # A given lower value stays as given: where the drawn upper one is below it, the ask fails
    # (and says why) instead of changing the given value.
    errors: list[str] = []
    for _ in range(10):
        study.enqueue({"low": 0.6})
        try:
            trial = study.ask()
        except InvalidArgumentError as exc:
            errors.append(str(exc))
        else:
            assert trial.params["low"] == 0.6 < trial.params["high"]
            study.tell(trial, 0.0)
    assert 0 < len(errors) < 10
    assert all("violate the constraint 'low' < 'high'" in e for e in errors)


def test_enqueue_checks_the_given_values() -> None:
    study = hptune.create_study(SPACE, seed=0)
    with pytest.raises(InvalidArgumentError, match="parameter 'k': 9"):
        study.enqueue({"k": 9})
    with pytest.raises(InvalidArgumentError, match="params must be a dict"):
        study.enqueue([("k", 1)])  # type: ignore[arg-type]


def test_enqueued_dynamic_values_are_suggested() -> None:
    study = hptune.create_study(seed=0)
    study.enqueue({"lr": 0.01, "layers": 3})
    study.enqueue({"lr": 5.0})
    seen: list[tuple[float, int]] = []

    def objective(trial: Trial) -> float:
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        layers = trial.suggest_int("layers", 1, 4)
        seen.append((lr, layers))
        return lr * layers

    study.optimize(objective, n_trials=3)
    assert seen[0] == (0.01, 3)
    assert study.trials[1].state is TrialState.FAILED
    assert "enqueued value 5.0 is not in the suggested distribution" in str(study.trials[1].error)
    assert len(seen) == 2


# ----------------------------------------------------------------------------- stop
def test_stop_from_a_callback() -> None:
    study = hptune.create_study(SPACE, seed=0)

    def callback(study: hptune.Study, record: hptune.TrialRecord) -> None:
        if record.number == 4:
            study.stop()

    study.optimize(lambda p: p["x"], n_trials=100, callbacks=[callback])
    assert len(study.trials) == 5
    study.optimize(lambda p: p["x"], n_trials=3)  # a new optimize starts afresh
    assert len(study.trials) == 8


def test_stop_from_the_objective() -> None:
    study = hptune.create_study(SPACE, "tpe", seed=0)

    def stopping(trial: Trial) -> float:
        if trial.number == 2:
            study.stop()
        return trial.params["x"]

    study.optimize(stopping, n_trials=50)
    assert len(study.trials) == 3
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    # The fast serial loop (a params objective, in-memory storage, no callbacks) stops too.
    fast = hptune.create_study(SPACE, seed=0)
    fast.optimize(lambda p: fast.stop() or p["x"], n_trials=50)
    assert len(fast.trials) == 1


def test_stop_with_threads_finishes_the_running_trials() -> None:
    study = hptune.create_study(SPACE, seed=0)

    def callback(study: hptune.Study, record: hptune.TrialRecord) -> None:
        study.stop()

    study.optimize(lambda p: p["x"], n_trials=50, n_jobs=2, executor="thread", callbacks=[callback])
    assert 1 <= len(study.trials) <= 2
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
