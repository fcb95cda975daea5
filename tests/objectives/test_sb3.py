"""The Stable-Baselines3 adapter: the preset mapping, the reporting loop, and (if SB3 is there)
a real run."""

from __future__ import annotations

import inspect
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from _fakes import FakeTrial

from hptune import HyperparameterSpace, presets
from hptune._errors import InvalidArgumentError, TrialPruned
from hptune.objectives import sb3_objective, sb3_params
from hptune.objectives._sb3 import DEFAULT_TRAINING_EPISODES, exploration_fraction, sb3_kwargs

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
    with pytest.raises(InvalidArgumentError, match="n_seeds"):
        sb3_objective("ppo", "CartPole-v1", 10, n_seeds=0)
    with pytest.raises(InvalidArgumentError, match="n_envs"):
        sb3_objective("ppo", "CartPole-v1", 10, n_envs=0)
    with pytest.raises(InvalidArgumentError, match="seed"):
        sb3_objective("ppo", "CartPole-v1", 10, model_kwargs={"seed": 3})
    objective = sb3_objective("ppo", "CartPole-v1", total_timesteps=1000)
    assert objective.eval_freq == 100
    assert objective.accepts_trial
    assert objective.noisy
    assert objective.preset == "ppo_sb3"
    assert objective.direction == "maximize"
    monkeypatch.setitem(sys.modules, "stable_baselines3", None)
    with pytest.raises(ImportError, match=r'pip install "hptune\[sb3\]"'):
        objective(presets.defaults("ppo_sb3"))


def test_sb3_kwargs_maps_the_preset_conveniences() -> None:
    got = sb3_kwargs(
        "ppo",
        {
            "one_minus_gamma": 0.02,
            "one_minus_gae_lambda": 0.1,
            "net_arch": "medium",
            "activation_fn": "relu",
            "n_steps": 512,
        },
    )
    assert got["gamma"] == pytest.approx(0.98)
    assert got["gae_lambda"] == pytest.approx(0.9)
    assert got["n_steps"] == 512
    assert got["policy_kwargs"] == {
        "net_arch": {"pi": [256, 256], "vf": [256, 256]},
        "activation_fn": "relu",
    }
    assert sb3_kwargs("dqn", {"net_arch": "big"})["policy_kwargs"] == {"net_arch": [400, 300]}
    # The legacy PPO preset is a renaming.
    assert sb3_kwargs("ppo", PPO)["clip_range"] == PPO["clip_epsilon"]


@pytest.mark.parametrize(
    ("algorithm", "params", "message"),
    [
        ("dqn", DQN, "dqn_sb3"),
        ("ppo", {"net_arch": "huge"}, "net_arch 'huge'"),
        ("ppo", {"activation_fn": "sigmoid"}, "activation_fn"),
        ("dqn", {"one_minus_gae_lambda": 0.1}, "PPO only"),
        ("ppo", {"one_minus_gamma": 1.5}, "gamma"),
        ("ppo", {"env": "x"}, "set by the objective"),
    ],
)
def test_sb3_kwargs_refuses_bad_input(algorithm: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        sb3_kwargs(algorithm, params, ["n_steps"])


def test_sb3_kwargs_refuses_unknown_names_with_the_valid_list() -> None:
    with pytest.raises(InvalidArgumentError, match=r"unknown ppo parameter 'n_stepz'.*n_steps"):
        sb3_kwargs("ppo", {"n_stepz": 8}, ["batch_size", "n_steps"])


# --- with Stable-Baselines3 installed (it is in the test extra; CI sets HPTUNE_REQUIRE_SB3=1
# so that a broken install fails instead of skipping).


def _sb3() -> Any:
    if os.environ.get("HPTUNE_REQUIRE_SB3"):
        import stable_baselines3

        return stable_baselines3
    return pytest.importorskip("stable_baselines3")


@pytest.mark.parametrize("algorithm", ["ppo", "dqn"])
def test_sb3_presets_default_to_sb3s_own_defaults(algorithm: str) -> None:
    sb3 = _sb3()
    model_class = sb3.PPO if algorithm == "ppo" else sb3.DQN
    signature = inspect.signature(model_class.__init__).parameters
    kwargs = sb3_kwargs(algorithm, presets.defaults(f"{algorithm}_sb3"))
    policy_kwargs = kwargs.pop("policy_kwargs")
    for name, value in kwargs.items():
        default = signature[name].default
        if name == "ent_coef":
            assert value == pytest.approx(default, abs=1e-8)  # SB3's 0 at the log floor
        else:
            assert value == pytest.approx(default), name
    # SB3's MlpPolicy default: two layers of 64 (tanh for PPO).
    expected = {"pi": [64, 64], "vf": [64, 64]} if algorithm == "ppo" else [64, 64]
    assert policy_kwargs["net_arch"] == expected


def test_objective_accepts_any_sb3_parameter_and_names_the_valid_ones() -> None:
    _sb3()
    objective = sb3_objective("ppo", "CartPole-v1", 64, model_kwargs={"n_epochs": 1})
    assert objective.kwargs({"n_steps": 32, "batch_size": 16, "normalize_advantage": False}) == {
        "n_steps": 32,
        "batch_size": 16,
        "normalize_advantage": False,
        "n_epochs": 1,
        "device": "cpu",
    }
    with pytest.raises(InvalidArgumentError, match=r"unknown ppo parameter 'bogus'.*n_steps"):
        objective.kwargs({"bogus": 1})
    with pytest.raises(InvalidArgumentError, match="both tuned and fixed"):
        objective.kwargs({"n_epochs": 2})
    with pytest.raises(InvalidArgumentError, match="exceeds n_steps"):
        objective.kwargs({"n_steps": 32, "batch_size": 64})


def test_real_sb3_run_reports_the_mean_over_seeds_and_prunes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _sb3()
    # SB3's default logger makes a directory in the temp folder per learn(); ours makes none.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    objective = sb3_objective(
        "ppo",
        "CartPole-v1",
        total_timesteps=256,
        n_eval_episodes=2,
        eval_freq=128,
        n_seeds=2,
        model_kwargs={"n_steps": 64, "batch_size": 32, "n_epochs": 1},
    )
    trial = FakeTrial({})
    trial.user_attrs = {}
    trial.set_user_attr = trial.user_attrs.__setitem__  # type: ignore[attr-defined]
    value = objective(trial)
    assert [step for _, step in trial.reports] == [128, 256]
    returns = trial.user_attrs["returns"]
    assert len(returns) == 2
    assert value == pytest.approx(sum(returns) / 2)
    assert trial.user_attrs["stderr"] == pytest.approx(abs(returns[0] - returns[1]) / 2)
    assert objective.timesteps_used == 2 * 256
    # The same seed gives the same value; pruning stops at the first report.
    assert objective({}, seed=0) == value
    pruned = FakeTrial({}, prune_after=1)
    with pytest.raises(TrialPruned):
        objective(pruned)
    assert [step for _, step in pruned.reports] == [128]
    assert list(tmp_path.glob("SB3-*")) == []


def test_a_dqn_is_not_pruned_before_its_learning_starts() -> None:
    _sb3()
    objective = sb3_objective(
        "dqn",
        "CartPole-v1",
        total_timesteps=400,
        n_eval_episodes=1,
        eval_freq=100,
        model_kwargs={"buffer_size": 1_000, "batch_size": 16},
    )
    # A pruner that wants every trial stopped at its first chance: a DQN whose learning starts
    # at step 250 has its untrained network at 100 and 200, so it is first judged at 300.
    late = FakeTrial({"learning_starts": 250}, prune_after=1)
    with pytest.raises(TrialPruned, match="timestep 300"):
        objective(late)
    assert [step for _, step in late.reports] == [100, 200, 300]
    early = FakeTrial({"learning_starts": 50}, prune_after=1)
    with pytest.raises(TrialPruned, match="timestep 100"):
        objective(early)
    # Learning that starts after the last checkpoint: the trial runs to its end.
    never = FakeTrial({"learning_starts": 399}, prune_after=1)
    never.set_user_attr = lambda key, value: None  # type: ignore[attr-defined]
    assert math.isfinite(objective(never))
    assert [step for _, step in never.reports] == [100, 200, 300, 400]


def test_seed_per_trial_gives_each_trial_its_own_seeds() -> None:
    with pytest.raises(InvalidArgumentError, match="seed_per_trial"):
        sb3_objective("ppo", "CartPole-v1", 10, seed_per_trial=1)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {
        "total_timesteps": 128,
        "n_eval_episodes": 2,
        "eval_freq": 128,
        "seed": 5,
        "model_kwargs": {"n_steps": 64, "batch_size": 32, "n_epochs": 1},
    }
    fixed = sb3_objective("ppo", "CartPole-v1", **kwargs)
    varied = sb3_objective("ppo", "CartPole-v1", seed_per_trial=True, **kwargs)
    trials = [FakeTrial({}) for _ in range(3)]
    for number, trial in enumerate(trials):
        trial.number = number  # type: ignore[attr-defined]
    assert {fixed._base_seed(t, None) for t in trials} == {5}
    seeds = [varied._base_seed(t, None) for t in trials]
    assert len(set(seeds)) == 3
    assert seeds == [varied._base_seed(t, None) for t in trials]  # the same study, the same seeds
    # An explicit seed (validation, racing) and a call without a trial are unaffected.
    assert varied._base_seed(trials[1], 7) == 7
    assert varied._base_seed(None, None) == 5
    _sb3()
    # The trial really trains on its seed: the same value as a call with that seed.
    assert varied(trials[2]) == fixed({}, seed=seeds[2])


def test_tuning_real_ppo_end_to_end_intensifies_against_the_defaults() -> None:
    _sb3()
    from hptune import RLHyperparameterTuner
    from hptune.pruners import SuccessiveHalvingPruner

    objective = sb3_objective(
        "ppo",
        "CartPole-v1",
        total_timesteps=256,
        n_eval_episodes=2,
        eval_freq=128,
    )
    space = [
        HyperparameterSpace("n_steps", "int", 32, 128, log_scale=True, default=64),
        HyperparameterSpace("batch_size", "int", 16, 64, log_scale=True, default=32),
    ]
    result = RLHyperparameterTuner("cartpole").tune_rl_model(
        "ppo",
        objective,
        method="tpe",
        n_trials=3,
        seed=0,
        search_space=space,
        pruner=SuccessiveHalvingPruner(min_resource=128),
        selection_seeds=2,  # intensification (the default for a noisy objective)
        show_progress=False,
    )
    # The preset's defaults were the first trial, and every trial kept batch_size <= n_steps.
    assert result.trials[0].params["n_steps"] == 64
    assert all(t.params["batch_size"] <= t.params["n_steps"] for t in result.trials)
    report = result.metadata["selection"]
    assert "baseline" in [e.label for e in report.entries]
    assert report.robust is not None
    assert result.best_params == report.robust.params
    assert result.best_score == pytest.approx(report.robust.mean)
