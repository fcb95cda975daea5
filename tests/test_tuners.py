"""The tuner API: results, failures, direction, determinism, interruption, ask/tell."""

from __future__ import annotations

import math
from typing import Any

import pytest

import hptune
from hptune import (
    AllTrialsFailedError,
    GridSearchTuner,
    HyperparameterSpace,
    HyperparameterTuner,
    RandomSearchTuner,
    SobolSearchTuner,
    TrialState,
)

SPACE = {
    "learning_rate": HyperparameterSpace(
        name="learning_rate", param_type="float", min_value=0.001, max_value=0.1, log_scale=True
    ),
    "discount_factor": HyperparameterSpace(
        name="discount_factor", param_type="float", min_value=0.8, max_value=0.99
    ),
}


def score(params: dict[str, Any]) -> float:
    return (
        -((math.log10(params["learning_rate"]) + 2) ** 2) - (params["discount_factor"] - 0.9) ** 2
    )


def test_readme_example() -> None:
    tuner = RandomSearchTuner(
        search_space=SPACE, objective_function=score, maximize=True, n_trials=100, seed=0
    )
    result = tuner.tune()
    assert isinstance(tuner, HyperparameterTuner)
    assert result.best_score == max(t.value for t in result.trials if t.value is not None)
    assert result.best_config.score == result.best_score
    assert result.best_config.params == result.best_params
    assert len(result.trials) == 100
    assert result.history is result.trials
    assert result.best_score > -0.05
    for i, t in enumerate(result.trials):
        assert t.number == i
        assert t.state is TrialState.COMPLETE
        assert t.duration is not None
        assert t.duration >= 0
        assert t.error is None


def test_minimize() -> None:
    result = RandomSearchTuner(
        SPACE, lambda p: -score(p), maximize=False, n_trials=60, seed=1
    ).tune()
    assert result.best_score == min(t.value for t in result.trials if t.value is not None)
    assert result.best_score < 0.1


def test_same_seed_same_trials() -> None:
    for cls in (RandomSearchTuner, SobolSearchTuner):
        a = cls(SPACE, score, n_trials=20, seed=5).tune()
        b = cls(SPACE, score, n_trials=20, seed=5).tune()
        assert [t.params for t in a.trials] == [t.params for t in b.trials]
        c = cls(SPACE, score, n_trials=20, seed=6).tune()
        assert [t.params for t in a.trials] != [t.params for t in c.trials]


class Boom(RuntimeError):
    pass


def test_failures_fail_only_their_trial() -> None:
    calls = {"n": 0}

    def objective(p: dict[str, Any]) -> Any:
        calls["n"] += 1
        n = calls["n"]
        if n % 5 == 1:
            raise Boom(f"bad luck {n}")
        if n % 5 == 2:
            return math.nan
        if n % 5 == 3:
            return math.inf
        if n % 5 == 4:
            return "a string"
        return score(p)

    result = RandomSearchTuner(SPACE, objective, n_trials=25, seed=2).tune()
    assert len(result.trials) == 25
    failed = result.failed_trials
    assert len(failed) == 20
    errors = [t.error or "" for t in failed]
    assert any("Boom: bad luck 1" in e for e in errors)
    assert any("nan" in e for e in errors)
    assert any("inf" in e for e in errors)
    assert any("not a number" in e for e in errors)
    assert len(result.completed_trials) == 5
    assert all(t.state is TrialState.FAILED and t.value is None for t in failed)


def test_all_failed_raises_with_first_failure() -> None:
    def objective(p: dict[str, Any]) -> float:
        raise ValueError("no GPU")

    with pytest.raises(AllTrialsFailedError, match="no GPU") as info:
        RandomSearchTuner(SPACE, objective, n_trials=4, seed=0).tune()
    first = info.value.first_failure
    assert first is not None
    assert first.number == 0
    assert "ValueError: no GPU" in first.error
    assert isinstance(info.value, hptune.HptuneError)


def test_ctrl_c_returns_what_was_done() -> None:
    calls = {"n": 0}

    def objective(p: dict[str, Any]) -> float:
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return score(p)

    result = RandomSearchTuner(SPACE, objective, n_trials=50, seed=0).tune()
    assert result.interrupted
    assert len(result.completed_trials) == 5
    assert result.trials[5].state is TrialState.FAILED
    assert "KeyboardInterrupt" in (result.trials[5].error or "")


def test_ctrl_c_before_anything_completed_propagates() -> None:
    def objective(p: dict[str, Any]) -> float:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        RandomSearchTuner(SPACE, objective, n_trials=5).tune()


def test_bad_tuner_arguments() -> None:
    with pytest.raises(hptune.InvalidArgumentError, match="objective_function"):
        RandomSearchTuner(SPACE, 3, n_trials=5)  # type: ignore[arg-type]
    with pytest.raises(hptune.InvalidArgumentError, match="n_trials"):
        RandomSearchTuner(SPACE, score, n_trials=-1).tune()
    with pytest.raises(hptune.InvalidArgumentError, match="seed"):
        RandomSearchTuner(SPACE, score, n_trials=1, seed=-5).tune()
    with pytest.raises(hptune.InvalidArgumentError, match="n_trials is None"):
        RandomSearchTuner(SPACE, score, n_trials=None).tune()


@pytest.mark.parametrize(
    "tuner",
    [
        RandomSearchTuner,
        SobolSearchTuner,
        GridSearchTuner,
        hptune.BayesianOptimizationTuner,
        hptune.TPETuner,
    ],
)
def test_fixed_method_tuners_refuse_method(tuner: type[HyperparameterTuner]) -> None:
    with pytest.raises(
        hptune.InvalidArgumentError, match=r"always runs method .* takes no method="
    ):
        tuner(SPACE, score, n_trials=2, method="tpe")  # type: ignore[call-arg]
    # MethodTuner picks its method by name.
    assert hptune.MethodTuner(SPACE, score, n_trials=2, seed=0, method="sobol").tune().method == (
        "sobol"
    )


def test_grid_tuner_whole_grid_by_default() -> None:
    result = GridSearchTuner(SPACE, score, resolution=4).tune()
    assert len(result.trials) == 16
    assert result.method == "grid"


def test_ask_tell_and_enqueue() -> None:
    study = hptune.create_study(SPACE, "random", seed=0)
    study.enqueue({"learning_rate": 0.01, "discount_factor": 0.9})
    t = study.ask()
    assert t.params == {"learning_rate": 0.01, "discount_factor": 0.9}
    study.tell(t, score(t.params))
    t2 = study.ask()
    study.tell(t2, state="pruned")
    t3 = study.ask()
    study.tell(t3, "oops")
    with pytest.raises(hptune.InvalidArgumentError, match="not running"):
        study.tell(t3, 1.0)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED]
    assert study.best_params == {"learning_rate": 0.01, "discount_factor": 0.9}
    assert study.best_value == pytest.approx(0.0)
    with pytest.raises(hptune.InvalidArgumentError, match="not an allowed value"):
        study.enqueue({"learning_rate": 5.0, "discount_factor": 0.9})
    with pytest.raises(hptune.InvalidArgumentError, match="unknown trial state"):
        study.tell(study.ask(), state="exploded")


def test_objective_can_take_a_trial() -> None:
    def objective(trial: hptune.Trial) -> float:
        for step in range(3):
            trial.report(step * 0.1, step)
        return score(trial.params)

    study = hptune.create_study(SPACE, "sobol", seed=1)
    study.optimize(objective, n_trials=4)
    assert all(t.intermediate_values == {0: 0.0, 1: 0.1, 2: 0.2} for t in study.trials)


def test_callbacks_and_early_stopping() -> None:
    seen: list[int] = []
    study = hptune.create_study(SPACE, "random", seed=0)
    study.optimize(
        lambda p: 1.0,
        n_trials=100,
        callbacks=[lambda s, r: seen.append(r.number)],
        early_stopping_rounds=5,
    )
    # The first trial sets the best; five more without improvement stop the study.
    assert seen == [0, 1, 2, 3, 4, 5]


def test_target_score_stops() -> None:
    study = hptune.create_study(SPACE, "random", seed=0)
    # study.trials includes the running trial, so trial k scores k + 1.
    study.optimize(lambda p: float(len(study.trials)), n_trials=100, target_score=3.0)
    assert [t.value for t in study.trials] == [1.0, 2.0, 3.0]
