"""The preset ranges are data users rely on: pin them exactly."""

from __future__ import annotations

import dataclasses

import pytest

from hptune import presets
from hptune._errors import InvalidArgumentError

EXPECTED = {
    "q_learning": [
        ("learning_rate", "float", 0.001, 0.1, True),
        ("discount_factor", "float", 0.8, 0.99, False),
        ("epsilon", "float", 0.01, 1.0, False),
        ("epsilon_decay", "float", 0.9, 0.999, False),
    ],
    "ppo": [
        ("learning_rate", "float", 1e-5, 1e-2, True),
        ("gamma", "float", 0.9, 0.999, False),
        ("gae_lambda", "float", 0.8, 0.99, False),
        ("clip_epsilon", "float", 0.1, 0.3, False),
        ("value_coef", "float", 0.1, 1.0, False),
        ("entropy_coef", "float", 0.001, 0.1, True),
    ],
    "dqn": [
        ("learning_rate", "float", 1e-5, 1e-2, True),
        ("gamma", "float", 0.9, 0.99, False),
        ("epsilon", "float", 0.01, 1.0, False),
        ("epsilon_decay", "float", 0.9, 0.999, False),
        ("target_update_frequency", "int", 10, 1000, False),
    ],
    "optimization_agent": [
        ("cpu_weight", "float", 0.5, 2.0, False),
        ("memory_weight", "float", 0.5, 2.0, False),
        ("response_time_weight", "float", 0.1, 1.0, False),
        ("over_provision_penalty", "float", 1.0, 3.0, False),
        ("under_provision_penalty", "float", 2.0, 5.0, False),
        ("scale_up_cpu_threshold", "float", 0.6, 0.9, False),
        ("scale_down_cpu_threshold", "float", 0.2, 0.4, False),
    ],
}


def test_version_and_names() -> None:
    assert presets.PRESETS_VERSION == 1
    assert presets.names() == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_ranges_are_exact(name: str) -> None:
    got = [
        (d["name"], d["param_type"], d["min_value"], d["max_value"], d["log_scale"])
        for d in presets.as_dicts(name)
    ]
    assert got == EXPECTED[name]
    assert list(presets.get(name)) == [row[0] for row in EXPECTED[name]]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_defaults_lie_in_range_and_have_the_right_type(name: str) -> None:
    params = presets.get(name)
    defaults = presets.defaults(name)
    assert list(defaults) == list(params)
    for key, value in defaults.items():
        spec = params[key]
        assert spec.min_value <= value <= spec.max_value
        assert isinstance(value, int) == (spec.param_type == "int")


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("q-learning", "q_learning"),
        ("qlearning", "q_learning"),
        ("Q_Learning", "q_learning"),
        ("optimization-agent", "optimization_agent"),
        ("PPO", "ppo"),
    ],
)
def test_aliases(alias: str, canonical: str) -> None:
    assert presets.get(alias) == presets.get(canonical)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(InvalidArgumentError, match=r"q_learning, ppo, dqn, optimization_agent"):
        presets.get("a2c")
    with pytest.raises(ValueError, match="unknown preset"):
        presets.defaults("sarsa")


def test_params_are_frozen_and_checked() -> None:
    param = presets.get("ppo")["gamma"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        param.min_value = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="outside"):
        presets.PresetParam("x", "float", 0.0, 1.0, default=2.0)
    with pytest.raises(ValueError, match="log"):
        presets.PresetParam("x", "float", 0.0, 1.0, log_scale=True, default=0.5)


def test_get_returns_a_fresh_mapping() -> None:
    presets.get("dqn").clear()
    assert len(presets.get("dqn")) == 5
