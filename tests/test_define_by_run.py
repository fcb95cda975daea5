"""Define-by-run: ``trial.suggest_*`` inside the objective, with and without a static space."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hptune
from hptune import HyperparameterSpace, InvalidArgumentError, Trial, TrialState
from hptune._define_by_run import DISTRIBUTIONS_KEY
from strategies import spaces

METHODS = ["random", "sobol", "grid", "tpe", "bayesian"]


def suggest(trial: Trial, p: HyperparameterSpace) -> Any:
    """Suggest ``p`` through the define-by-run API."""
    if p.param_type == "categorical":
        assert p.choices is not None
        return trial.suggest_categorical(p.name, list(p.choices))
    assert p.min_value is not None
    assert p.max_value is not None
    if p.param_type == "int":
        return trial.suggest_int(
            p.name, int(p.min_value), int(p.max_value), step=int(p.step or 1), log=p.log_scale
        )
    return trial.suggest_float(
        p.name, float(p.min_value), float(p.max_value), step=p.step, log=p.log_scale
    )


def conditional(trial: Trial) -> float:
    """Two branches; the optimum (0 at x_a = 3, y_a = -2) is in branch "a", branch "b" stays
    at 5 or above."""
    model = trial.suggest_categorical("model", ["a", "b"])
    if model == "a":
        x = trial.suggest_float("x_a", -5.0, 5.0)
        y = trial.suggest_float("y_a", -5.0, 5.0)
        return (x - 3.0) ** 2 + (y + 2.0) ** 2
    z = trial.suggest_float("z_b", 0.0, 10.0)
    return 5.0 + (z - 5.0) ** 2 / 10.0


def run(method: str, seed: int, n_trials: int, objective: Any = conditional, **kw: Any) -> Any:
    study = hptune.create_study(method=method, maximize=False, seed=seed, **kw)
    study.optimize(objective, n_trials=n_trials)
    return study


def test_model_methods_beat_random_search_on_a_conditional_space() -> None:
    seeds = range(9)
    medians = {
        method: statistics.median(run(method, seed, 60).best_value for seed in seeds)
        for method in ("random", "tpe", "bayesian")
    }
    # The optimum is 0, so the best value is the regret.
    assert medians["tpe"] < medians["random"] / 3, medians
    assert medians["bayesian"] < medians["random"] / 3, medians


@pytest.mark.parametrize("method", METHODS)
def test_conditional_space_with_every_method(method: str) -> None:
    study = run(method, 0, 25)
    assert study.space.names == ()
    for t in study.trials:
        assert t.state is TrialState.COMPLETE
        expected = {"model", "x_a", "y_a"} if t.params["model"] == "a" else {"model", "z_b"}
        assert set(t.params) == expected
        assert set(t.user_attrs[DISTRIBUTIONS_KEY]) == expected


@pytest.mark.parametrize("method", METHODS)
def test_the_same_seed_gives_the_same_trials(method: str) -> None:
    first = [t.params for t in run(method, 3, 20).trials]
    again = [t.params for t in run(method, 3, 20).trials]
    other = [t.params for t in run(method, 4, 20).trials]
    assert first == again
    assert first != other


@settings(max_examples=25)
@given(space=spaces(max_dims=4), method=st.sampled_from(METHODS), seed=st.integers(0, 2**32))
def test_suggestions_respect_their_distributions(
    space: list[HyperparameterSpace], method: str, seed: int
) -> None:
    def objective(trial: Trial) -> float:
        total = 0.0
        for p in space:
            v = suggest(trial, p)
            assert p.contains(v), (p, v)
            if p.param_type == "int":
                assert type(v) is int
            elif p.param_type == "float":
                assert type(v) is float
            else:
                assert any(type(v) is type(c) and v == c for c in p.choices or ())
            total += hash(repr(v)) % 7
        return total

    study = run(method, seed, 12, objective, n_startup_trials=4) if method == "tpe" else None
    if study is None:
        study = run(method, seed, 12, objective)
    assert all(t.state is TrialState.COMPLETE for t in study.trials), study.trials[-1].error


def test_static_names_keep_their_static_values() -> None:
    space = [HyperparameterSpace("lr", "float", 1e-4, 1e-1, log_scale=True)]
    seen: list[tuple[float, float, int]] = []

    def objective(trial: Trial) -> float:
        lr = trial.suggest_float("lr", 1e-5, 1.0, log=True)  # wider than the static range: fits
        width = trial.suggest_int("width", 8, 64, step=8)
        seen.append((trial.params["lr"], lr, width))
        return lr * width

    static_only = hptune.create_study(space, "tpe", seed=5)
    static_only.optimize(lambda p: p["lr"], n_trials=12)
    study = hptune.create_study(space, "tpe", seed=5)
    study.optimize(objective, n_trials=12)
    assert all(a == b for a, b, _ in seen)
    assert all(w % 8 == 0 and 8 <= w <= 64 for _, _, w in seen)
    # The static space is sampled exactly as without define-by-run params.
    assert [t.params["lr"] for t in study.trials][:10] == [
        t.params["lr"] for t in static_only.trials
    ][:10]
    assert set(study.trials[0].user_attrs[DISTRIBUTIONS_KEY]) == {"width"}


def test_a_static_name_with_an_incompatible_distribution_fails_the_trial() -> None:
    space = [HyperparameterSpace("lr", "float", 0.5, 1.0)]
    study = hptune.create_study(space, seed=0)
    trial = study.ask()
    with pytest.raises(InvalidArgumentError, match="'lr' is in the static search space"):
        trial.suggest_int("lr", 0, 10)
    with pytest.raises(InvalidArgumentError, match="'lr' is in the static search space"):
        trial.suggest_float("lr", 0.0, 0.1)


def test_suggesting_a_name_twice_gives_the_same_value() -> None:
    study = hptune.create_study(seed=1)
    trial = study.ask()
    a = trial.suggest_float("x", 0.0, 1.0)
    assert trial.suggest_float("x", 0.0, 1.0) == a
    assert trial.suggest_float("x", -1.0, 2.0) == a  # a wider range still holds the value
    with pytest.raises(InvalidArgumentError, match="'x' was already suggested"):
        trial.suggest_categorical("x", ["u", "v"])
    c = trial.suggest_categorical("c", ["u", "v"])
    assert trial.suggest_categorical("c", ["u", "v"]) == c


def test_single_valued_ranges_are_returned_as_is() -> None:
    study = hptune.create_study(seed=0)
    trial = study.ask()
    assert trial.suggest_int("n", 3, 3) == 3
    assert trial.suggest_float("f", 0.25, 0.25) == 0.25
    study.tell(trial, 1.0)
    assert study.trials[0].params == {"n": 3, "f": 0.25}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.suggest_float("x", 1.0, 0.0), "parameter 'x': min_value"),
        (lambda t: t.suggest_float("x", 0.0, 1.0, log=True), "parameter 'x': log_scale needs"),
        (lambda t: t.suggest_float("x", 0.1, 1.0, step=0.1, log=True), "parameter 'x': step"),
        (lambda t: t.suggest_int("n", 0, 10, step=3), "parameter 'n': step 3 does not divide"),
        (lambda t: t.suggest_int("n", 0.5, 10), "parameter 'n': low of suggest_int must be"),
        (lambda t: t.suggest_int("n", 1, 100, step=2, log=True), "parameter 'n': step"),
        (lambda t: t.suggest_categorical("c", []), "parameter 'c': choices must not be empty"),
        (lambda t: t.suggest_categorical("c", ["a", "a"]), "parameter 'c': duplicate choice"),
    ],
)
def test_bad_suggestions_name_the_parameter(call: Any, message: str) -> None:
    trial = hptune.create_study(seed=0).ask()
    with pytest.raises(InvalidArgumentError, match=message):
        call(trial)


def test_a_changed_distribution_is_drawn_independently() -> None:
    def objective(trial: Trial) -> float:
        high = 1.0 if trial.number < 15 else 100.0  # the range grows during the study
        return trial.suggest_float("x", 0.0, high)

    study = run("tpe", 0, 30, objective)
    late = [t.params["x"] for t in study.trials[15:]]
    assert max(late) > 1.0
    assert study._dbr.distributions["x"].max_value == 1.0  # the first-seen distribution


@pytest.mark.parametrize("method", ["tpe", "bayesian"])
def test_resume_from_sqlite_keeps_dynamic_params_and_distributions(
    tmp_path: Path, method: str
) -> None:
    url = f"sqlite:///{tmp_path / 'dbr.db'}"
    study = hptune.create_study(method=method, maximize=False, seed=2, storage=url, study_name="s")
    study.optimize(conditional, n_trials=15)
    again = hptune.load_study(study_name="s", storage=url)
    assert again.space.names == ()
    assert [t.params for t in again.trials] == [t.params for t in study.trials]
    assert set(again._dbr.distributions) == {"model", "x_a", "y_a", "z_b"}
    assert again._dbr.group_of("x_a") == ("x_a", "y_a")
    again.optimize(conditional, n_trials=15)
    assert len(again.trials) == 30
    assert again.best_value <= study.best_value
    continued = hptune.create_study(
        method=method, maximize=False, seed=2, storage=url, study_name="s", load_if_exists=True
    )
    assert len(continued.trials) == 30


def test_resumed_tpe_study_continues_like_an_uninterrupted_one(tmp_path: Path) -> None:
    straight = run("tpe", 7, 30)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    first = hptune.create_study(method="tpe", maximize=False, seed=7, storage=url, study_name="r")
    first.optimize(conditional, n_trials=18)
    second = hptune.load_study(study_name="r", storage=url)
    second.optimize(conditional, n_trials=12)
    assert [t.params for t in second.trials] == [t.params for t in straight.trials]


def test_empty_space_is_allowed_and_threads_work() -> None:
    for empty in (None, {}, []):
        study = hptune.create_study(empty, "tpe", maximize=False, seed=0)
        study.optimize(conditional, n_trials=8, n_jobs=2, executor="thread")
        assert len(study.trials) == 8
        assert all(t.state is TrialState.COMPLETE for t in study.trials)


def test_without_a_static_space_the_objective_gets_the_trial() -> None:
    study = hptune.create_study(seed=0)
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    assert [set(t.params) for t in study.trials] == [{"x"}] * 3
    assert all(t.state is TrialState.COMPLETE for t in study.trials)


def test_worker_processes_explain_that_define_by_run_needs_the_study() -> None:
    from hptune._worker import TrialTask, WorkerTrial

    task = TrialTask(lambda t: 0.0, 0, {}, True, "s", True)
    trial = WorkerTrial(task)
    with pytest.raises(InvalidArgumentError, match="executor='thread'"):
        trial.suggest_float("x", 0.0, 1.0)
