"""The contract every sampler must pass: valid values, determinism, distinct batches."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hptune
from hptune import AtMost, HyperparameterSpace, Sampler, SearchSpace
from hptune.samplers import METHODS, make_sampler
from strategies import spaces

MIXED = [
    HyperparameterSpace("lr", "float", 1e-5, 1e-1, log_scale=True),
    HyperparameterSpace("x", "float", -3.0, 3.0),
    HyperparameterSpace("q", "float", 0.0, 1.0, step=0.25),
    HyperparameterSpace("k", "int", 1, 9),
    HyperparameterSpace("big", "int", 1, 4096, log_scale=True),
    HyperparameterSpace("s", "int", 0, 100, step=10),
    HyperparameterSpace("opt", "categorical", choices=["adam", "sgd", "rmsprop"]),
]

ALL_METHODS = sorted(METHODS)


def objective(p: dict[str, object]) -> float:
    x = float(p["x"])  # type: ignore[arg-type]
    k = float(p["k"])  # type: ignore[arg-type]
    return (x - 1.0) ** 2 + (k - 3.0) ** 2 + (0.0 if p["opt"] == "sgd" else 1.0)


def run(method: str, seed: int, n: int, space: list[HyperparameterSpace] = MIXED) -> hptune.Study:
    study = hptune.create_study(space, method, maximize=False, seed=seed)
    study.optimize(objective, n_trials=n)
    return study


@pytest.mark.parametrize("method", ALL_METHODS)
def test_values_are_valid(method: str) -> None:
    study = run(method, 1, 40)
    assert len(study.trials) == 40
    for t in study.trials:
        for p in MIXED:
            assert p.contains(t.params[p.name]), (p.name, t.params[p.name])
        assert isinstance(t.params["k"], int)
        assert isinstance(t.params["lr"], float)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_same_seed_same_trials(method: str) -> None:
    a = [t.params for t in run(method, 7, 25).trials]
    b = [t.params for t in run(method, 7, 25).trials]
    assert a == b


@pytest.mark.parametrize("method", [m for m in ALL_METHODS if m != "grid"])
def test_different_seeds_differ(method: str) -> None:
    a = [t.params for t in run(method, 1, 10).trials]
    b = [t.params for t in run(method, 2, 10).trials]
    assert a != b


@pytest.mark.parametrize("method", ALL_METHODS)
def test_batch_ask_gives_distinct_points(method: str) -> None:
    study = hptune.create_study(MIXED, method, maximize=False, seed=3)
    trials = study.ask(8)
    keys = {tuple(sorted(t.params.items())) for t in trials}
    assert len(keys) == 8
    for t in trials:
        study.tell(t, objective(t.params))
    assert len(study.trials) == 8


@pytest.mark.parametrize("method", ALL_METHODS)
def test_make_sampler_returns_a_sampler(method: str) -> None:
    assert isinstance(make_sampler(method), Sampler)


def test_unknown_method_lists_the_valid_ones() -> None:
    with pytest.raises(hptune.InvalidArgumentError, match=r"allowed: .*'random'"):
        make_sampler("annealing")


@settings(max_examples=25)
@given(spaces(max_dims=4), st.sampled_from(ALL_METHODS), st.integers(0, 2**32))
def test_every_method_respects_any_space(
    params: list[HyperparameterSpace], method: str, seed: int
) -> None:
    study = hptune.create_study(params, method, seed=seed)
    f: Callable[[dict[str, object]], float] = lambda p: float(len(str(p)))  # noqa: E731
    study.optimize(f, n_trials=12)
    for t in study.trials:
        for p in params:
            assert p.contains(t.params[p.name])


RATIO = [
    HyperparameterSpace("n_steps", "int", 16, 4096, log_scale=True),
    HyperparameterSpace("batch_size", "int", 8, 1024, log_scale=True),
    HyperparameterSpace("width", "float", 0.5, 8.0),
    HyperparameterSpace("share", "float", 0.1, 10.0, log_scale=True),
]
RATIO_CONSTRAINTS = [AtMost("batch_size", "n_steps", 2.0), AtMost("share", "width")]


@pytest.mark.parametrize("method", ALL_METHODS)
def test_every_sampler_keeps_at_most_constraints(method: str) -> None:
    space = SearchSpace(RATIO, RATIO_CONSTRAINTS)
    study = hptune.create_study(space, method, seed=5)
    study.optimize(lambda p: -abs(p["batch_size"] - 300) - abs(p["share"] - 2.0), n_trials=30)
    study.ask(4)  # batches too
    assert len(study.trials) == 34
    for t in study.trials:
        assert t.params["batch_size"] <= 2 * t.params["n_steps"]
        assert t.params["share"] <= t.params["width"]
        assert isinstance(t.params["batch_size"], int)
        for p in RATIO:
            assert p.contains(t.params[p.name]), (p.name, t.params[p.name])
