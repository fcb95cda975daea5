"""The Stable-Baselines3 adapter: the preset mapping, the reporting loop, and (if SB3 is there)
a real run."""

from __future__ import annotations

import math
import sys
import types
from typing import Any

import pytest
from _fakes import FakeTrial

from hptune import presets
from hptune._errors import InvalidArgumentError, TrialPruned
from hptune.objectives import SB3Objective, sb3_objective, sb3_params
from hptune.objectives._sb3 import DEFAULT_TRAINING_EPISODES, exploration_fraction

PPO = presets.defaults("ppo")
DQN = presets.defaults("dqn")


def test_ppo_mapping() -> None:
    params = {
        "learning_rate": 1e-3,
        "gamma": 0.98,
        "gae_lambda": 0.9,
        "clip_epsilon": 0.25,
        "value_coef": 0.7,
        "entropy_coef": 0.02,
    }
    assert sb3_params("ppo", params) == {
        "learning_rate": 1e-3,
        "gamma": 0.98,
        "gae_lambda": 0.9,
        "clip_range": 0.25,
        "vf_coef": 0.7,
        "ent_coef": 0.02,
    }
    assert sb3_params("PPO", PPO)["clip_range"] == PPO["clip_epsilon"]


def test_dqn_mapping_and_exploration_fraction() -> None:
    params = dict(DQN, epsilon=1.0, epsilon_decay=0.99, target_update_frequency=250.0)
    got = sb3_params("dqn", params, total_timesteps=50_000, episode_steps=100)
    episodes = math.log(0.05) / math.log(0.99)  # about 298 episodes to reach 0.05
    assert got == {
        "learning_rate": DQN["learning_rate"],
        "gamma": DQN["gamma"],
        "exploration_initial_eps": 1.0,
        "exploration_final_eps": 0.05,
        "exploration_fraction": pytest.approx(episodes * 100 / 50_000),
        "target_update_interval": 250,
    }
    assert isinstance(got["target_update_interval"], int)
    default_horizon = sb3_params("dqn", params)["exploration_fraction"]
    assert default_horizon == pytest.approx(episodes / DEFAULT_TRAINING_EPISODES)


def test_exploration_fraction_edges() -> None:
    # Faster decay explores for a shorter part of training.
    fractions = [exploration_fraction(1.0, d, 0.05) for d in (0.9, 0.95, 0.99)]
    assert fractions == sorted(fractions)
    assert exploration_fraction(1.0, 0.999, 0.05) == 1.0
    assert exploration_fraction(0.01, 0.9, 0.01, total_timesteps=1000, episode_steps=10) == 1e-3
    assert exploration_fraction(1.0, 1.0, 0.05) == 1.0
    with pytest.raises(InvalidArgumentError, match="both"):
        exploration_fraction(1.0, 0.9, 0.05, total_timesteps=100)


def test_dqn_final_eps_never_above_initial() -> None:
    got = sb3_params("dqn", dict(DQN, epsilon=0.02))
    assert got["exploration_final_eps"] == 0.02
    assert got["exploration_initial_eps"] == 0.02
    assert sb3_params("dqn", DQN, exploration_final_eps=0.1)["exploration_final_eps"] == 0.1


@pytest.mark.parametrize(
    ("algorithm", "params", "message"),
    [
        ("a2c", PPO, "algorithm"),
        ("ppo", {**PPO, "epsilon": 0.1}, "epsilon"),
        ("ppo", {k: v for k, v in PPO.items() if k != "gamma"}, "gamma"),
        ("ppo", {**PPO, "gamma": 1.2}, "gamma"),
        ("ppo", {**PPO, "learning_rate": 0.0}, "learning_rate"),
        ("dqn", {**DQN, "target_update_frequency": 0}, "target_update_frequency"),
        ("dqn", {**DQN, "epsilon_decay": float("nan")}, "epsilon_decay"),
        ("dqn", PPO, "unknown dqn"),
    ],
)
def test_bad_input_is_named(algorithm: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        sb3_params(algorithm, params)


def test_constructor_checks_and_missing_sb3_message(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidArgumentError, match="total_timesteps"):
        sb3_objective("ppo", "CartPole-v1", total_timesteps=0)
    with pytest.raises(InvalidArgumentError, match="algorithm"):
        sb3_objective("sac", "CartPole-v1", total_timesteps=10)
    with pytest.raises(InvalidArgumentError, match="clip_range"):
        sb3_objective("ppo", "CartPole-v1", 10, model_kwargs={"clip_range": 0.1, "n_steps": 8})
    with pytest.raises(InvalidArgumentError, match="exploration_fraction"):
        sb3_objective("dqn", "CartPole-v1", 10, model_kwargs={"exploration_fraction": 0.1})
    objective = sb3_objective("ppo", "CartPole-v1", total_timesteps=1000)
    assert objective.eval_freq == 100
    assert objective.accepts_trial
    assert objective.direction == "maximize"
    monkeypatch.setitem(sys.modules, "stable_baselines3", None)
    with pytest.raises(ImportError, match=r'pip install "hptune\[sb3\]"'):
        objective(PPO)


def _install_fake_sb3(monkeypatch: pytest.MonkeyPatch, made: list[Any]) -> None:
    """Just enough of SB3's surface, to check the adapter's training and reporting loop."""

    class BaseCallback:
        def __init__(self, verbose: int = 0) -> None:
            self.n_calls = 0
            self.num_timesteps = 0

    class Model:
        def __init__(self, policy: str, env: str, **kwargs: Any) -> None:
            self.kwargs = kwargs
            self.num_timesteps = 0
            self.env = None
            made.append(self)

        def learn(self, total_timesteps: int, callback: Any = None) -> None:
            for _ in range(total_timesteps):
                self.num_timesteps += 1
                if callback is not None:
                    callback.n_calls += 1
                    callback.num_timesteps = self.num_timesteps
                    if not callback._on_step():
                        return

    class Monitor:
        def __init__(self, env: Any) -> None:
            self.env = env

        def reset(self, seed: int | None = None) -> None:
            self.seed = seed

        def close(self) -> None:
            pass

    def evaluate_policy(model: Model, env: Any, **kwargs: Any) -> tuple[float, float]:
        return model.num_timesteps / 10.0, 0.0

    modules: dict[str, dict[str, Any]] = {
        "stable_baselines3": {"PPO": Model, "DQN": Model},
        "stable_baselines3.common.callbacks": {"BaseCallback": BaseCallback},
        "stable_baselines3.common.evaluation": {"evaluate_policy": evaluate_policy},
        "stable_baselines3.common.monitor": {"Monitor": Monitor},
    }
    for name, attrs in modules.items():
        module = types.ModuleType(name)
        for key, value in attrs.items():
            setattr(module, key, value)
        monkeypatch.setitem(sys.modules, name, module)


def test_reporting_and_pruning_loop_with_a_fake_sb3(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("gymnasium")
    made: list[Any] = []
    _install_fake_sb3(monkeypatch, made)
    objective = SB3Objective("dqn", "CartPole-v1", total_timesteps=1000, eval_freq=250, seed=4)

    trial = FakeTrial(DQN)
    assert objective(trial) == 100.0
    assert trial.reports == [(25.0, 250), (50.0, 500), (75.0, 750), (100.0, 1000)]
    kwargs = made[-1].kwargs
    assert kwargs["seed"] == 4
    assert kwargs["target_update_interval"] == DQN["target_update_frequency"]
    # CartPole's 500-step limit stands in for the episode length.
    assert kwargs["exploration_fraction"] == exploration_fraction(
        1.0, DQN["epsilon_decay"], 0.05, total_timesteps=1000, episode_steps=500
    )

    pruned = FakeTrial(DQN, prune_after=2)
    with pytest.raises(TrialPruned):
        objective(pruned)
    assert [step for _, step in pruned.reports] == [250, 500]
    assert made[-1].num_timesteps == 500

    assert objective(DQN, seed=9) == 100.0
    assert made[-1].kwargs["seed"] == 9


def test_real_sb3_run_reports_to_the_trial() -> None:
    pytest.importorskip("stable_baselines3")
    objective = sb3_objective(
        "ppo",
        "CartPole-v1",
        total_timesteps=256,
        n_eval_episodes=2,
        eval_freq=128,
        model_kwargs={"n_steps": 64, "batch_size": 32, "n_epochs": 1},
    )
    trial = FakeTrial(PPO)
    value = objective(trial)
    assert value > 0
    assert [step for _, step in trial.reports] == [128, 256]
