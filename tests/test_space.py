"""Search-space validation and encode/decode round trips."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hptune
from hptune import HyperparameterSpace, InvalidArgumentError, SearchSpace
from strategies import spaces


def test_users_examples_work() -> None:
    space = {
        "learning_rate": HyperparameterSpace(
            name="learning_rate",
            param_type="float",
            min_value=0.001,
            max_value=0.1,
            log_scale=True,
        ),
        "batch_size": HyperparameterSpace(
            name="batch_size", param_type="int", min_value=16, max_value=128
        ),
        "optimizer": HyperparameterSpace(
            name="optimizer", param_type="categorical", choices=["adam", "sgd", "rmsprop"]
        ),
    }
    s = SearchSpace(space)
    assert s.names == ("learning_rate", "batch_size", "optimizer")
    assert SearchSpace(list(space.values())).names == s.names


BAD: list[tuple[dict[str, Any], str]] = [
    ({"param_type": "double", "min_value": 0, "max_value": 1}, "unknown param_type"),
    ({"param_type": "float", "min_value": 0}, "needs both min_value and max_value"),
    ({"param_type": "float", "max_value": 1}, "needs both min_value and max_value"),
    ({"param_type": "float", "min_value": 1.0, "max_value": 1.0}, "must be less than"),
    ({"param_type": "int", "min_value": 5, "max_value": 2}, "must be less than"),
    ({"param_type": "float", "min_value": 0.0, "max_value": math.inf}, "finite"),
    ({"param_type": "float", "min_value": math.nan, "max_value": 1.0}, "finite"),
    (
        {"param_type": "float", "min_value": 0.0, "max_value": 1.0, "log_scale": True},
        "min_value > 0",
    ),
    ({"param_type": "int", "min_value": -3, "max_value": 10, "log_scale": True}, "min_value > 0"),
    ({"param_type": "int", "min_value": 0.5, "max_value": 10}, "whole numbers"),
    ({"param_type": "float", "min_value": 0.0, "max_value": 1.0, "step": 0.3}, "does not divide"),
    ({"param_type": "int", "min_value": 0, "max_value": 10, "step": 3}, "does not divide"),
    ({"param_type": "float", "min_value": 0.0, "max_value": 1.0, "step": -0.1}, "positive"),
    ({"param_type": "int", "min_value": 0, "max_value": 10, "step": 0.5}, "int step"),
    (
        {"param_type": "float", "min_value": 0.1, "max_value": 1.0, "step": 0.1, "log_scale": True},
        "cannot be combined",
    ),
    ({"param_type": "categorical"}, "needs a list of choices"),
    ({"param_type": "categorical", "choices": []}, "must not be empty"),
    ({"param_type": "categorical", "choices": ["a", "b", "a"]}, "duplicate choice"),
    ({"param_type": "categorical", "choices": "abc"}, "needs a list of choices"),
    (
        {"param_type": "categorical", "choices": ["a"], "min_value": 0, "max_value": 1},
        "not min_value",
    ),
    ({"param_type": "categorical", "choices": ["a"], "log_scale": True}, "float and int"),
    ({"param_type": "float", "min_value": 0, "max_value": 1, "choices": [1]}, "categorical"),
    ({"param_type": "float", "min_value": "0", "max_value": 1}, "must be numbers"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD)
def test_bad_parameter_names_the_parameter(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as info:
        HyperparameterSpace(name="alpha", **kwargs)
    assert "'alpha'" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, hptune.HptuneError)


def test_bad_spaces() -> None:
    p = HyperparameterSpace("x", "float", 0.0, 1.0)
    with pytest.raises(InvalidArgumentError, match="differs from the parameter's name"):
        SearchSpace({"y": p})
    with pytest.raises(InvalidArgumentError, match="empty"):
        SearchSpace({})
    with pytest.raises(InvalidArgumentError, match="empty"):
        SearchSpace([])
    with pytest.raises(InvalidArgumentError, match="duplicate parameter names"):
        SearchSpace([p, p])
    with pytest.raises(InvalidArgumentError, match="must be a HyperparameterSpace"):
        SearchSpace({"x": {"param_type": "float"}})  # type: ignore[dict-item]
    with pytest.raises(InvalidArgumentError, match="dict of name"):
        SearchSpace(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="name"):
        HyperparameterSpace("", "float", 0.0, 1.0)


def test_params_validation_names_parameter() -> None:
    s = SearchSpace(
        [
            HyperparameterSpace("x", "float", 0.0, 1.0),
            HyperparameterSpace("k", "int", 1, 5),
            HyperparameterSpace("c", "categorical", choices=["a", "b"]),
        ]
    )
    with pytest.raises(InvalidArgumentError, match="'x'"):
        s.params_to_row({"x": 2.0, "k": 1, "c": "a"})
    with pytest.raises(InvalidArgumentError, match="'k'"):
        s.params_to_row({"x": 0.5, "k": 1.5, "c": "a"})
    with pytest.raises(InvalidArgumentError, match="'c'"):
        s.params_to_row({"x": 0.5, "k": 1, "c": "z"})
    with pytest.raises(InvalidArgumentError, match="missing"):
        s.params_to_row({"x": 0.5})
    with pytest.raises(InvalidArgumentError, match="unknown"):
        s.params_to_row({"x": 0.5, "k": 1, "c": "a", "q": 1})


def test_core_rejects_bad_arrays() -> None:
    s = SearchSpace([HyperparameterSpace("x", "float", 0.0, 1.0)])
    with pytest.raises(InvalidArgumentError, match="columns"):
        s.core.decode(np.zeros((2, 3)))
    with pytest.raises(InvalidArgumentError, match="finite"):
        s.core.encode(np.array([[np.nan]]))


@given(spaces(), st.integers(0, 2**63), st.integers(0, 10**6))
def test_decode_encode_decode_round_trip(
    params: list[HyperparameterSpace], seed: int, first: int
) -> None:
    s = SearchSpace(params)
    decoded = s.rows_to_params(s.core.sample_random(seed, first, 8))
    unit = s.encode(decoded)
    assert np.all((unit >= 0.0) & (unit <= 1.0))
    again = s.decode(unit)
    for a, b in zip(decoded, again, strict=True):
        for p in params:
            if p.param_type == "float" and not p.is_discrete:
                assert math.isclose(a[p.name], b[p.name], rel_tol=1e-9, abs_tol=1e-9)
            else:
                assert a[p.name] == b[p.name]


@given(spaces(), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40))
def test_any_unit_point_decodes_to_a_valid_value(
    params: list[HyperparameterSpace], us: list[float]
) -> None:
    s = SearchSpace(params)
    d = len(params)
    unit = np.resize(np.array(us), (max(1, len(us) // d), d))
    for row in s.decode(unit):
        for p in params:
            v = row[p.name]
            assert p.contains(v), (p, v)
            if p.param_type == "int":
                assert isinstance(v, int)
            if p.param_type == "float":
                assert isinstance(v, float)


def test_lazy_exports_match_all() -> None:
    import hptune as package

    assert sorted(package._EXPORTS) == sorted(package.__all__)
    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError, match="no attribute"):
        package.no_such_name  # noqa: B018


@given(
    lo=st.integers(1, 50),
    span=st.integers(1, 5000),
    log=st.booleans(),
    factor=st.sampled_from([1.0, 2.0, 8.0]),
    upper=st.integers(60, 3000),
)
def test_at_most_maps_draws_onto_the_feasible_values_and_back(
    lo: int, span: int, log: bool, factor: float, upper: int
) -> None:
    space = SearchSpace(
        [
            HyperparameterSpace("up", "int", 60, 3000),
            HyperparameterSpace("low", "int", lo, lo + span, log_scale=log),
        ],
        [hptune.AtMost("low", "up", factor)],
    )
    top = min(lo + span, math.floor(factor * upper))
    # Every feasible value survives params -> row -> params, and nothing infeasible appears.
    values = range(lo, top + 1) if top - lo < 400 else [lo, lo + 1, (lo + top) // 2, top - 1, top]
    for v in values:
        row = space.params_to_row({"up": upper, "low": v})
        assert space.rows_to_params(np.array([row]))[0] == {"up": upper, "low": v}
    for d in space.sample_random(7, 0, 50):
        assert lo <= d["low"] <= factor * d["up"]


def test_at_most_checks_and_messages() -> None:
    ints = [HyperparameterSpace("n", "int", 4, 64), HyperparameterSpace("b", "int", 8, 128)]
    with pytest.raises(InvalidArgumentError, match="cannot always hold"):
        SearchSpace(ints, [hptune.AtMost("b", "n")])
    with pytest.raises(InvalidArgumentError, match="no parameter named 'c'"):
        SearchSpace(ints, [hptune.AtMost("c", "n")])
    with pytest.raises(InvalidArgumentError, match="factor must be a positive number"):
        hptune.AtMost("b", "n", 0)
    space = SearchSpace(ints, [hptune.AtMost("b", "n", 2)])
    with pytest.raises(InvalidArgumentError, match=r"violate the constraint 'b' <= 2 \* 'n'"):
        space.params_to_row({"n": 4, "b": 9})
    cat = [ints[0], HyperparameterSpace("c", "categorical", choices=[1, 2])]
    with pytest.raises(InvalidArgumentError, match="must be an int or float"):
        SearchSpace(cat, [hptune.AtMost("c", "n")])


def test_at_most_survives_storage(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    space = SearchSpace(
        [HyperparameterSpace("n", "int", 8, 64), HyperparameterSpace("b", "int", 4, 128)],
        [hptune.AtMost("b", "n", 1.0)],
    )
    study = hptune.create_study(space, "tpe", seed=0, storage=url, study_name="s")
    study.optimize(lambda p: float(p["b"]), n_trials=5)
    again = hptune.load_study(study_name="s", storage=url)
    assert again.space.constraints == space.constraints
    again.optimize(lambda p: float(p["b"]), n_trials=5)
    assert all(t.params["b"] <= t.params["n"] for t in again.trials)
