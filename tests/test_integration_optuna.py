"""hptune's samplers inside Optuna, driven through Optuna's own study API."""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

import pytest

optuna = pytest.importorskip("optuna")

import hptune  # noqa: E402 - after the skip, so a missing Optuna skips instead of erroring
from hptune.integrations import optuna as hpo  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)

SAMPLERS = [hpo.GPSampler, hpo.TPESampler]


def mixed(trial: Any) -> float:
    """Every distribution kind Optuna has: log and stepped floats and ints, a categorical."""
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    x = trial.suggest_float("x", -3.0, 3.0)
    q = trial.suggest_float("q", 0.0, 1.0, step=0.25)
    k = trial.suggest_int("k", 1, 9)
    big = trial.suggest_int("big", 1, 4096, log=True)
    s = trial.suggest_int("s", 0, 100, step=10)
    opt = trial.suggest_categorical("opt", ["adam", "sgd", None, 3])
    assert 1e-5 <= lr <= 1e-1
    assert q in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert isinstance(k, int)
    assert 1 <= k <= 9
    assert isinstance(big, int)
    assert 1 <= big <= 4096
    assert s % 10 == 0
    assert opt in ("adam", "sgd", None, 3)
    return (x - 1.0) ** 2 + (k - 3) ** 2 + (0.0 if opt == "sgd" else 1.0) + abs(math.log10(lr) + 3)


def branin(trial: Any) -> float:
    x = trial.suggest_float("x", -5.0, 10.0)
    y = trial.suggest_float("y", 0.0, 15.0)
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi
    return (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10 * a


BRANIN_MIN = 0.397887


def params_of(study: Any) -> list[dict[str, Any]]:
    return [t.params for t in study.trials]


@pytest.mark.parametrize("cls", SAMPLERS)
def test_mixed_space_values_are_valid_and_deterministic(cls: Any) -> None:
    runs = []
    for _ in range(2):
        study = optuna.create_study(sampler=cls(seed=3))
        study.optimize(mixed, n_trials=25)
        assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
        runs.append(params_of(study))
    assert runs[0] == runs[1]
    other = optuna.create_study(sampler=cls(seed=4))
    other.optimize(mixed, n_trials=25)
    assert params_of(other) != runs[0]


@pytest.mark.parametrize("cls", SAMPLERS)
def test_model_samples_the_relative_space(cls: Any) -> None:
    # After the startup trials every parameter comes from the model, so none is logged as
    # falling back to the independent sampler.
    sampler = cls(seed=0, n_startup_trials=3)
    calls: list[str] = []
    inner = sampler._independent.sample_independent

    def spy(study: Any, trial: Any, name: str, dist: Any) -> Any:
        calls.append(name)
        return inner(study, trial, name, dist)

    sampler._independent.sample_independent = spy
    study = optuna.create_study(sampler=sampler)
    study.optimize(mixed, n_trials=12)
    assert len(calls) == 7  # the first trial only: no relative space exists before it


@pytest.mark.parametrize("cls", SAMPLERS)
def test_maximize_finds_the_top(cls: Any) -> None:
    study = optuna.create_study(direction="maximize", sampler=cls(seed=0))
    study.optimize(lambda t: -((t.suggest_float("x", -5.0, 5.0) - 2.0) ** 2), n_trials=30)
    assert study.best_value > -0.05
    assert abs(study.best_params["x"] - 2.0) < 0.25


def test_gp_beats_random_on_branin() -> None:
    gp, rnd = [], []
    for seed in range(3):
        for cls, out in ((hpo.GPSampler, gp), (optuna.samplers.RandomSampler, rnd)):
            study = optuna.create_study(sampler=cls(seed=seed))
            study.optimize(branin, n_trials=30)
            out.append(study.best_value - BRANIN_MIN)
    assert max(gp) < 0.05
    assert sum(gp) < sum(rnd) / 5


def test_tpe_beats_random_on_a_bowl() -> None:
    def bowl(t: Any) -> float:
        return sum((t.suggest_float(f"x{i}", -5.0, 5.0) - 1.0) ** 2 for i in range(4))

    tpe, rnd = 0.0, 0.0
    for seed in range(3):
        for cls in (hpo.TPESampler, optuna.samplers.RandomSampler):
            study = optuna.create_study(sampler=cls(seed=seed))
            study.optimize(bowl, n_trials=80)
            if cls is hpo.TPESampler:
                tpe += study.best_value
            else:
                rnd += study.best_value
    assert tpe < rnd / 2


@pytest.mark.parametrize("cls", SAMPLERS)
def test_failed_and_pruned_trials_are_avoided_not_learned(cls: Any) -> None:
    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_categorical("c", ["a", "b"])
        if trial.number % 5 == 3:
            raise RuntimeError("boom")
        if trial.number % 5 == 4:
            trial.report(x, 0)
            raise optuna.TrialPruned()
        return (x - 0.3) ** 2

    study = optuna.create_study(sampler=cls(seed=1, n_startup_trials=4))
    study.optimize(objective, n_trials=30, catch=(RuntimeError,))
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.FAIL) == 6
    assert states.count(optuna.trial.TrialState.PRUNED) == 6
    sampler = study.sampler
    ((_, observed),) = sampler._observed.values()
    assert len(observed.history) == 18  # only COMPLETE trials are observations
    # The sampler last looked when trial 29 started, so trial 29 (pruned) is not in it yet.
    assert len(observed.history.failed) == 11
    xs = [t.params["x"] for t in study.trials]
    assert len(set(xs)) == len(xs)
    assert study.best_value < 0.01


@pytest.mark.parametrize("cls", SAMPLERS)
def test_rdb_storage_resume_and_shared_study(cls: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="s", storage=url, sampler=cls(seed=0))
    study.optimize(branin, n_trials=12)
    # A second process would open the same study with a fresh sampler and carry on.
    again = optuna.load_study(study_name="s", storage=url, sampler=cls(seed=0))
    again.optimize(branin, n_trials=8)
    trials = again.trials
    assert len(trials) == 20
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    ((_, observed),) = again.sampler._observed.values()
    assert len(observed.history) == 19  # every earlier trial was read back from the database


@pytest.mark.parametrize("cls", SAMPLERS)
def test_running_trials_are_pending(cls: Any) -> None:
    # ask/tell with several open trials, as parallel workers would leave them.
    study = optuna.create_study(sampler=cls(seed=0, n_startup_trials=3))
    study.optimize(branin, n_trials=8)
    open_trials = [study.ask() for _ in range(4)]
    points = [
        (t.suggest_float("x", -5.0, 10.0), t.suggest_float("y", 0.0, 15.0)) for t in open_trials
    ]
    assert len(set(points)) == 4
    ((_, observed),) = study.sampler._observed.values()
    assert len(observed.history.pending) == 3  # the others, while the fourth was sampled
    for t, (x, y) in zip(open_trials, points, strict=True):
        study.tell(t, (x - 1) ** 2 + y)
    study.optimize(branin, n_trials=2)
    assert len(observed.history.pending) == 0
    assert len(observed.history) == 13


def test_n_jobs_threads_share_the_sampler() -> None:
    study = optuna.create_study(sampler=hpo.GPSampler(seed=0, n_startup_trials=4))
    study.optimize(branin, n_trials=16, n_jobs=2)
    assert len(study.trials) == 16
    points = [(t.params["x"], t.params["y"]) for t in study.trials]
    assert len(set(points)) == 16


def test_dynamic_space_falls_back_to_the_independent_sampler() -> None:
    def objective(trial: Any) -> float:
        kind = trial.suggest_categorical("kind", ["a", "b"])
        if kind == "a":
            return trial.suggest_float("a", 0.0, 1.0)
        return trial.suggest_int("b", 0, 10) / 10 + 0.5

    study = optuna.create_study(sampler=hpo.TPESampler(seed=0, warn_independent_sampling=False))
    study.optimize(objective, n_trials=25)
    assert len(study.trials) == 25
    assert study.best_value < 0.5


@pytest.mark.parametrize("cls", SAMPLERS)
def test_multi_objective_is_refused(cls: Any) -> None:
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=cls(seed=0))
    with pytest.raises(ValueError, match="single-objective"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)
    # Refused at the first hook, before any parameter is drawn; no trial is left RUNNING.
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL]
    assert study.trials[0].params == {}


@pytest.mark.parametrize("cls", SAMPLERS)
def test_zero_startup_trials_as_optuna_allows(cls: Any) -> None:
    study = optuna.create_study(sampler=cls(seed=0, n_startup_trials=0))
    study.optimize(lambda t: (t.suggest_float("x", -1, 1) - 0.3) ** 2, n_trials=6)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 6


@pytest.mark.parametrize("cls", SAMPLERS)
def test_an_unseeded_samplers_seed_can_be_given_back(cls: Any) -> None:
    drawn = cls().seed
    assert 0 <= drawn < 2**32
    for sampler in (cls(seed=drawn), optuna.samplers.RandomSampler(seed=drawn)):
        optuna.create_study(sampler=sampler).optimize(lambda t: t.suggest_float("x", 0, 1), 2)


@pytest.mark.parametrize("cls", SAMPLERS)
def test_pickled_sampler_continues_the_same_way(cls: Any) -> None:
    sampler = cls(seed=5, n_startup_trials=3)
    study = optuna.create_study(sampler=sampler)
    study.optimize(branin, n_trials=6)
    copy = pickle.loads(pickle.dumps(sampler))
    other = optuna.create_study(sampler=copy)
    for t in study.trials:
        other.add_trial(t)
    study.optimize(branin, n_trials=3)
    other.optimize(branin, n_trials=3)
    assert params_of(study) == params_of(other)


def test_a_sampler_reused_for_another_study_starts_over() -> None:
    sampler = hpo.TPESampler(seed=0, n_startup_trials=3)
    first = optuna.create_study(sampler=sampler)
    first.optimize(branin, n_trials=8)
    second = optuna.create_study(sampler=sampler)
    second.optimize(branin, n_trials=5)
    observed = sampler._observed[(second.study_name, next(iter(sampler._observed))[1])][1]
    assert len(observed.history) == 4  # the second study's own trials, not the first's


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(hptune.InvalidArgumentError, match="acquisition"):
        hpo.GPSampler(acquisition="nope")
    with pytest.raises(hptune.InvalidArgumentError, match="GPSampler"):
        hpo.GPSampler(no_such_option=1)
    with pytest.raises(hptune.InvalidArgumentError, match="gamma"):
        hpo.TPESampler(gamma=2.0)


def test_search_space_conversion() -> None:
    d = optuna.distributions
    space = hpo.search_space_from_optuna(
        {
            "a": d.FloatDistribution(1e-3, 1.0, log=True),
            "b": d.FloatDistribution(0.0, 1.0, step=0.1),
            "c": d.IntDistribution(2, 64, log=True),
            "e": d.IntDistribution(0, 10, step=2),
            "f": d.CategoricalDistribution([True, False]),
        }
    )
    assert [p.param_type for p in space] == ["float", "float", "int", "int", "categorical"]
    assert space["a"].log_scale
    assert space["b"].step == pytest.approx(0.1)
    assert space["c"].log_scale
    assert space["e"].step == 2
    assert space["f"].choices == (True, False)
