"""Bayesian and TPE samplers on degenerate histories, failures and pending trials."""

from __future__ import annotations

import json
import sqlite3
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hptune
from hptune import HyperparameterSpace

MODEL_METHODS = ["bayesian", "tpe"]
SPACE = [
    HyperparameterSpace("x", "float", 0.0, 1.0),
    HyperparameterSpace("lr", "float", 1e-4, 1e-1, log_scale=True),
    HyperparameterSpace("k", "int", 1, 4),
    HyperparameterSpace("q", "float", 0.0, 1.0, step=0.5),
    HyperparameterSpace("c", "categorical", choices=["a", "b"]),
]


def valid(params: dict[str, Any]) -> bool:
    return all(p.contains(params[p.name]) for p in SPACE)


@pytest.mark.parametrize("method", MODEL_METHODS)
@pytest.mark.parametrize(
    "objective",
    [
        lambda p: 1.0,  # constant
        lambda p: 1e12 + p["x"],  # huge values with a tiny spread
        lambda p: -1e12 * p["x"],  # huge spread
        lambda p: float(p["k"]),  # depends on one discrete parameter only
    ],
    ids=["constant", "huge-offset", "huge-spread", "discrete-only"],
)
def test_degenerate_objectives_never_raise(method: str, objective: Any) -> None:
    study = hptune.create_study(SPACE, method, n_startup_trials=3, seed=0, maximize=False)
    study.optimize(objective, n_trials=15)
    assert all(valid(t.params) for t in study.trials)
    assert all(t.state is hptune.TrialState.COMPLETE for t in study.trials)


@pytest.mark.parametrize("method", MODEL_METHODS)
def test_duplicates_and_a_single_point(method: str) -> None:
    study = hptune.create_study(SPACE, method, seed=1, maximize=True)
    same = {"x": 0.5, "lr": 0.01, "k": 2, "q": 0.5, "c": "a"}
    trial = study.ask()
    study.tell(trial, 1.0)  # one point
    for _ in range(12):  # then the same point, again and again
        study.enqueue(same)
        study.tell(study.ask(), 2.0)
    for trial in study.ask(4):
        assert valid(trial.params)
        study.tell(trial, 0.0)


@pytest.mark.parametrize("method", MODEL_METHODS)
def test_failed_and_running_points_are_avoided(method: str) -> None:
    space = [
        HyperparameterSpace("k", "int", 0, 5),
        HyperparameterSpace("c", "categorical", choices=["a", "b"]),
    ]
    study = hptune.create_study(space, method, seed=2)
    seen = set()
    for _ in range(6):
        trial = study.ask()
        seen.add(tuple(trial.params.values()))
        study.tell(trial, state="failed")
    running = study.ask(4)
    keys = {tuple(t.params.values()) for t in running}
    assert len(keys) == 4
    # Twelve points in all: the running ones differ from each other and from failures.
    assert not keys & seen


@pytest.mark.parametrize("method", MODEL_METHODS)
def test_same_seed_same_suggestions_with_a_model(method: str) -> None:
    def f(p: dict[str, Any]) -> float:
        return (p["x"] - 0.3) ** 2 + p["k"] + (p["c"] == "b")

    runs = []
    for _ in range(2):
        study = hptune.create_study(SPACE, method, seed=5, maximize=False)
        study.optimize(f, n_trials=18)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]


def test_n_startup_trials_is_the_one_name_and_n_initial_still_works(tmp_path: Path) -> None:
    sampler = hptune.BayesianSampler(n_startup_trials=4)
    assert sampler.n_startup_trials == 4
    assert sampler.options()["n_startup_trials"] == 4
    assert "n_initial" not in sampler.options()
    assert hptune.BayesianSampler().n_startup_trials == 10
    with pytest.warns(DeprecationWarning, match="n_initial is deprecated"):
        old = hptune.BayesianSampler(n_initial=3)
    assert old.n_startup_trials == 3
    with pytest.warns(DeprecationWarning, match="n_initial is deprecated"):
        assert old.n_initial == 3
    with pytest.warns(DeprecationWarning, match="n_initial is deprecated"):
        study = hptune.create_study(SPACE, "bayesian", n_initial=2, seed=0)
    assert study.sampler.options()["n_startup_trials"] == 2
    with pytest.raises(hptune.InvalidArgumentError, match="give only n_startup_trials"):
        hptune.BayesianSampler(n_initial=3, n_startup_trials=3)
    with pytest.raises(hptune.InvalidArgumentError, match="n_startup_trials"):
        hptune.BayesianSampler(n_startup_trials=-1)
    # 0 as in Optuna: the first point is Sobol's, the GP takes over from the first observation.
    zero = hptune.create_study(SPACE, "bayesian", n_startup_trials=0, seed=0)
    zero.optimize(lambda p: sum(float(v) for v in p.values() if not isinstance(v, str)), 3)
    assert len(zero.trials) == 3

    # A study stored before the rename (options with n_initial) loads as it was, silently.
    url = f"sqlite:///{tmp_path / 'old.db'}"
    stored = hptune.create_study(SPACE, "bayesian", n_startup_trials=3, seed=1, storage=url)
    stored.optimize(lambda p: p["x"], n_trials=4, show_progress=False)
    with sqlite3.connect(tmp_path / "old.db") as conn:
        (text,) = conn.execute("SELECT sampler_options FROM studies").fetchone()
        options = json.loads(text)
        options["n_initial"] = options.pop("n_startup_trials")
        conn.execute("UPDATE studies SET sampler_options = ?", (json.dumps(options),))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = hptune.load_study(study_name=stored.name, storage=url)
        again = hptune.create_study(
            SPACE,
            "bayesian",
            n_startup_trials=3,
            seed=1,
            storage=url,
            study_name=stored.name,
            load_if_exists=True,
        )
    for study in (loaded, again):
        assert isinstance(study.sampler, hptune.BayesianSampler)
        assert study.sampler.n_startup_trials == 3
        study.optimize(lambda p: p["x"], n_trials=1, show_progress=False)


def test_gp_keeps_filling_the_space_while_every_trial_scores_the_same() -> None:
    """A flat history (agents that all failed to learn) gives the GP nothing to model: it
    continues the Sobol' design rather than sending every trial to a corner of the box."""
    space = [HyperparameterSpace(f"x{i}", "float", 0.0, 1.0) for i in range(8)]
    flat = hptune.create_study(space, "bayesian", n_startup_trials=4, seed=3, maximize=True)
    flat.optimize(lambda p: -500.0, n_trials=16)
    design = hptune.create_study(space, "bayesian", n_startup_trials=100, seed=3, maximize=True)
    design.optimize(lambda p: -500.0, n_trials=16)
    assert [t.params for t in flat.trials] == [t.params for t in design.trials]
    at_bounds = [v in (0.0, 1.0) for t in flat.trials for v in t.params.values()]
    assert sum(at_bounds) <= 2
    # One trial that differs, and the GP takes over from the design.
    flat.enqueue({f"x{i}": 0.5 for i in range(8)})
    flat.optimize(lambda p: -100.0 if all(v == 0.5 for v in p.values()) else -500.0, n_trials=2)
    design.enqueue({f"x{i}": 0.5 for i in range(8)})
    design.optimize(lambda p: -100.0 if all(v == 0.5 for v in p.values()) else -500.0, n_trials=2)
    assert flat.trials[-1].params != design.trials[-1].params


def test_noisy_gp_fills_the_space_while_its_fit_sees_only_noise() -> None:
    """A noisy GP whose fit puts most of the variation in the noise (returns that are a coin
    flip per run) continues the Sobol' design, as a flat history does, instead of chasing the
    variance to the box's corners; under a clear trend with the same noise the GP steers."""
    space = [HyperparameterSpace(f"x{i}", "float", 0.0, 1.0) for i in range(8)]

    def coin_flip(p: dict[str, Any]) -> float:
        # Seeded by the config: the same trials give the same values in every study.
        rng = np.random.default_rng(int(1e6 * sum(p.values())))
        return -100.0 if rng.random() < 0.3 else -500.0

    def trend(p: dict[str, Any]) -> float:
        rng = np.random.default_rng(int(1e6 * sum(p.values())))
        return -100.0 * sum((v - 0.3) ** 2 for v in p.values()) + rng.normal(0.0, 5.0)

    def run(
        objective: Callable[[dict[str, Any]], float], n_startup: int
    ) -> tuple[hptune.Study, list[bool]]:
        """The study, and per trial whether the fit behind it was noise-dominated (False in
        the design)."""
        study = hptune.create_study(
            space, "bayesian", n_startup_trials=n_startup, noisy=True, seed=3, maximize=True
        )
        sampler = study.sampler
        assert isinstance(sampler, hptune.BayesianSampler)
        flags = []
        for _ in range(24):
            trial = study.ask()
            state = sampler._state
            flags.append(
                trial.number >= n_startup and state is not None and sampler._noise_dominated(state)
            )
            study.tell(trial, objective(trial.params))
        return study, flags

    noisy, noise_flags = run(coin_flip, 4)
    design, _ = run(coin_flip, 100)  # the design alone
    assert sum(noise_flags) >= 8, noise_flags  # measured: the last 12 of the 20 after the start-up
    for flag, a, b in zip(noise_flags, noisy.trials, design.trials, strict=True):
        if flag:
            assert a.params == b.params
    filled = [t for t, f in zip(noisy.trials, noise_flags, strict=True) if f]
    at_bounds = [v in (0.0, 1.0) for t in filled for v in t.params.values()]
    assert sum(at_bounds) <= 2
    steered, trend_flags = run(trend, 4)
    trend_design, _ = run(trend, 100)
    assert not any(trend_flags), trend_flags
    assert steered.best_value > trend_design.best_value
    # The rule is for noisy GPs only: without `noisy` the noise prior is tight.
    state = noisy.sampler._state  # type: ignore[attr-defined]
    assert noisy.sampler._noise_dominated(state)  # type: ignore[attr-defined]
    assert not hptune.BayesianSampler(seed=0)._noise_dominated(state)
