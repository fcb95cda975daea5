"""The preset ranges are data users rely on: pin them exactly."""

from __future__ import annotations

import dataclasses
from typing import Any

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
    "ppo_sb3": [
        ("learning_rate", "float", 1e-5, 3e-3, True),
        ("n_steps", "int", 16, 4096, True),
        ("batch_size", "int", 8, 1024, True),
        ("n_epochs", "int", 1, 20, False),
        ("one_minus_gamma", "float", 1e-4, 0.1, True),
        ("one_minus_gae_lambda", "float", 1e-4, 0.2, True),
        ("clip_range", "float", 0.05, 0.4, False),
        ("ent_coef", "float", 1e-8, 0.1, True),
        ("vf_coef", "float", 0.1, 1.0, False),
        ("max_grad_norm", "float", 0.3, 5.0, False),
        ("net_arch", "categorical", ("tiny", "small", "medium")),
        ("activation_fn", "categorical", ("tanh", "relu")),
    ],
    "dqn_sb3": [
        ("learning_rate", "float", 1e-5, 3e-3, True),
        ("batch_size", "int", 8, 1024, True),
        ("buffer_size", "int", 1_000, 1_000_000, True),
        ("learning_starts", "int", 1, 20_000, True),
        ("exploration_fraction", "float", 0.01, 0.5, False),
        ("exploration_final_eps", "float", 0.0, 0.2, False),
        ("target_update_interval", "int", 1, 20_000, True),
        ("train_freq", "int", 1, 16, False),
        ("gradient_steps", "int", 1, 8, False),
        ("one_minus_gamma", "float", 1e-4, 0.1, True),
        ("net_arch", "categorical", ("small", "medium", "big")),
    ],
}


def _row(d: dict[str, Any]) -> tuple[Any, ...]:
    if d["param_type"] == "categorical":
        return (d["name"], "categorical", tuple(d["choices"]))
    return (d["name"], d["param_type"], d["min_value"], d["max_value"], d["log_scale"])


def test_version_and_names() -> None:
    assert presets.PRESETS_VERSION == 2
    assert presets.names() == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_ranges_are_exact(name: str) -> None:
    got = [_row(d) for d in presets.as_dicts(name)]
    assert got == EXPECTED[name]
    assert list(presets.get(name)) == [row[0] for row in EXPECTED[name]]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_defaults_lie_in_range_and_have_the_right_type(name: str) -> None:
    params = presets.get(name)
    defaults = presets.defaults(name)
    assert list(defaults) == list(params)
    for key, value in defaults.items():
        spec = params[key]
        if spec.param_type == "categorical":
            assert spec.choices is not None
            assert value in spec.choices
            continue
        assert isinstance(value, (int, float))
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
        ("ppo-sb3", "ppo_sb3"),
        ("DQN_SB3", "dqn_sb3"),
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


def test_sb3_defaults_hold_sb3s_own_values_where_the_issue_pins_them() -> None:
    dqn = presets.defaults("dqn_sb3")
    assert dqn["target_update_interval"] == 10_000  # SB3's default must be inside the range
    assert dqn["buffer_size"] == 1_000_000
    ppo = presets.defaults("ppo_sb3")
    assert (ppo["n_steps"], ppo["batch_size"], ppo["n_epochs"]) == (2048, 64, 10)
    assert presets.get("ppo_sb3")["ent_coef"].min_value == 1e-8
