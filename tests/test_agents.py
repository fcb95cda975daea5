"""Preset tuners: ranges, methods, names kept, and the threshold-ordering constraint."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hptune
from hptune import (
    HyperparameterSpace,
    OptimizationAgentHyperparameterTuner,
    RLHyperparameterTuner,
)
from hptune.intensify import INTENSIFY_ATTR
from hptune.samplers import METHODS

PRESET_NAMES = {
    "q_learning": ["learning_rate", "discount_factor", "epsilon", "epsilon_decay"],
    "ppo": ["learning_rate", "gamma", "gae_lambda", "clip_epsilon", "value_coef", "entropy_coef"],
    "dqn": ["learning_rate", "gamma", "epsilon", "epsilon_decay", "target_update_frequency"],
}


def mean_of(params: dict[str, Any]) -> float:
    return sum(float(v) for v in params.values()) / len(params)


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("algorithm", sorted(PRESET_NAMES))
def test_every_method_gives_valid_params_for_every_rl_preset(algorithm: str, method: str) -> None:
    tuner = RLHyperparameterTuner("self-healing")
    result = tuner.tune_rl_model(
        algorithm=algorithm,
        objective_function=mean_of,
        method=method,
        n_trials=12,
        maximize=True,
        seed=0,
        show_progress=False,
    )
    assert result.agent_name == "self-healing"
    assert result.algorithm == algorithm
    assert result.method == method
    space = tuner.search_space(algorithm)
    assert list(space.names) == PRESET_NAMES[algorithm]
    for t in result.trials:
        for p in space:
            assert p.contains(t.params[p.name])
    if algorithm == "dqn":
        assert all(isinstance(t.params["target_update_frequency"], int) for t in result.trials)


def test_unknown_algorithm_and_method_list_the_valid_ones() -> None:
    tuner = RLHyperparameterTuner("a")
    with pytest.raises(hptune.InvalidArgumentError, match="allowed: q_learning, ppo, dqn"):
        tuner.tune_rl_model("a2c", mean_of, n_trials=1)
    with pytest.raises(hptune.InvalidArgumentError, match=r"allowed: .*'random'"):
        tuner.tune_rl_model("ppo", mean_of, method="annealing", n_trials=1)
    with pytest.raises(hptune.InvalidArgumentError, match=r"allowed: .*'grid'"):
        OptimizationAgentHyperparameterTuner().tune_optimization_agent(
            mean_of, method="magic", n_trials=1
        )


def test_overrides_replace_and_extend() -> None:
    tuner = RLHyperparameterTuner("a")
    space = tuner.search_space(
        "q-learning",
        [
            HyperparameterSpace("epsilon", "float", 0.05, 0.5),
            HyperparameterSpace("episodes", "int", 100, 1000),
        ],
    )
    assert space["epsilon"].max_value == 0.5
    assert "episodes" in space
    assert space.names[-1] == "episodes"


def test_optimization_agent_result_and_defaults() -> None:
    tuner = OptimizationAgentHyperparameterTuner()
    result = tuner.tune_optimization_agent(
        objective_function=mean_of, method="sobol", n_trials=16, maximize=False, seed=1
    )
    assert result.algorithm == "optimization_agent"
    assert result.best_score == min(t.value for t in result.trials if t.value is not None)
    defaults = tuner.search_space().defaults()
    assert defaults is not None
    assert defaults["scale_down_cpu_threshold"] < defaults["scale_up_cpu_threshold"]


@settings(max_examples=25)
@given(
    st.floats(0.0, 0.8),
    st.floats(0.01, 0.5),
    st.floats(0.0, 0.8),
    st.floats(0.01, 0.5),
    st.sampled_from(sorted(METHODS)),
    st.integers(0, 1000),
)
def test_scale_down_stays_below_scale_up_for_any_ranges(
    down_lo: float, down_w: float, up_lo: float, up_w: float, method: str, seed: int
) -> None:
    overrides = [
        HyperparameterSpace("scale_down_cpu_threshold", "float", down_lo, down_lo + down_w),
        HyperparameterSpace("scale_up_cpu_threshold", "float", up_lo, up_lo + up_w),
    ]
    tuner = OptimizationAgentHyperparameterTuner()
    if up_lo + up_w <= down_lo + 1e-6:
        with pytest.raises(hptune.InvalidArgumentError, match="leave no room"):
            tuner.search_space(overrides)
        return
    result = tuner.tune_optimization_agent(
        mean_of, method=method, n_trials=10, seed=seed, search_space=overrides
    )
    for t in result.trials:
        assert t.params["scale_down_cpu_threshold"] < t.params["scale_up_cpu_threshold"]
        assert down_lo <= t.params["scale_down_cpu_threshold"] <= down_lo + down_w
        assert up_lo <= t.params["scale_up_cpu_threshold"] <= up_lo + up_w


def test_constraint_round_trips_through_encode_decode() -> None:
    space = OptimizationAgentHyperparameterTuner().search_space(
        [
            HyperparameterSpace("scale_down_cpu_threshold", "float", 0.1, 0.8),
            HyperparameterSpace("scale_up_cpu_threshold", "float", 0.3, 0.9),
        ]
    )
    params = space.sample_random(3, 0, 50)
    again = space.decode(space.encode(params))
    for a, b in zip(params, again, strict=True):
        assert a["scale_down_cpu_threshold"] == pytest.approx(b["scale_down_cpu_threshold"])
    bad = dict(params[0])
    bad["scale_down_cpu_threshold"] = bad["scale_up_cpu_threshold"] + 0.01
    with pytest.raises(hptune.InvalidArgumentError, match="violate the constraint"):
        space.params_to_row(bad)


class CountingObjective:
    """A noisy-flagged objective that counts 'timesteps' like sb3_objective does."""

    noisy = True

    def __init__(self, steps_per_trial: int) -> None:
        self.steps_per_trial = steps_per_trial
        self.timesteps_used = 0
        self.calls = 0

    def __call__(self, params: dict[str, Any], seed: int | None = None) -> float:
        self.calls += 1
        self.timesteps_used += self.steps_per_trial
        return mean_of(params) + (0.0 if seed is None else 1e-3 * (seed % 7))


def test_max_timesteps_ends_the_search_when_the_budget_is_spent() -> None:
    objective = CountingObjective(steps_per_trial=1_000)
    result = RLHyperparameterTuner("budget").tune_rl_model(
        "ppo",
        objective,
        method="random",
        n_trials=100,
        max_timesteps=7_500,
        selection="best",
        seed=1,
        show_progress=False,
    )
    # The eighth trial crosses the budget; no ninth starts.
    assert len(result.trials) == 8
    assert objective.timesteps_used == 8_000


def test_max_timesteps_is_checked_and_needs_a_counting_objective() -> None:
    tuner = RLHyperparameterTuner("budget")
    with pytest.raises(hptune.InvalidArgumentError, match="max_timesteps must be an int >= 1"):
        tuner.tune_rl_model("ppo", CountingObjective(1), n_trials=2, max_timesteps=0)
    with pytest.raises(hptune.InvalidArgumentError, match="timesteps_used"):
        tuner.tune_rl_model("ppo", mean_of, n_trials=2, max_timesteps=100)


@pytest.mark.parametrize("method", ["bayesian", "tpe"])
def test_noisy_objectives_start_modelling_after_the_rl_startup_trials(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hptune.agents as agents

    seen: list[dict[str, Any]] = []

    class Recording(agents.MethodTuner):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            seen.append(self.method_options)

    monkeypatch.setattr(agents, "MethodTuner", Recording)
    tuner = RLHyperparameterTuner("startup")
    for options in (None, {"n_startup_trials": 3}):
        tuner.tune_rl_model(
            "ppo",
            CountingObjective(1),
            method=method,
            n_trials=2,
            selection="best",
            method_options=options,
            seed=0,
            show_progress=False,
        )
    assert [o["n_startup_trials"] for o in seen] == [agents.RL_STARTUP_TRIALS, 3]
    if method == "bayesian":
        assert all(o["noisy"] for o in seen)
    # A deterministic objective keeps the library-wide default.
    tuner.tune_rl_model("ppo", mean_of, method=method, n_trials=2, seed=0, show_progress=False)
    assert "n_startup_trials" not in seen[-1]


def learning_starts(space: hptune.SearchSpace) -> HyperparameterSpace:
    return next(p for p in space.params if p.name == "learning_starts")


def test_dqn_learning_starts_is_capped_at_half_the_run() -> None:
    tuner = RLHyperparameterTuner("cap")
    preset = learning_starts(tuner.search_space("dqn", preset="dqn_sb3"))
    assert preset.max_value == 20_000
    capped = learning_starts(tuner.search_space("dqn", preset="dqn_sb3", total_timesteps=15_000))
    assert (capped.min_value, capped.max_value, capped.log_scale) == (1, 7_500, True)
    assert capped.default == preset.default == 100
    # A target network synced at or past the run's end never syncs: capped too, but never
    # below SB3's default (10,000), which syncs once in 15,000 steps.
    space = tuner.search_space("dqn", preset="dqn_sb3", total_timesteps=15_000)
    target = next(p for p in space.params if p.name == "target_update_interval")
    assert (target.min_value, target.max_value, target.default) == (1, 10_000, 10_000)
    short = tuner.search_space("dqn", preset="dqn_sb3", total_timesteps=4_000)
    assert next(p for p in short.params if p.name == "target_update_interval").max_value == 10_000
    long_run = tuner.search_space("dqn", preset="dqn_sb3", total_timesteps=60_000)
    assert next(p for p in long_run.params if p.name == "target_update_interval").max_value == (
        20_000
    )
    # A long run leaves the preset's range alone; a tiny one never cuts below the default.
    long = tuner.search_space("dqn", preset="dqn_sb3", total_timesteps=100_000)
    assert learning_starts(long).max_value == 20_000
    tiny = tuner.search_space("dqn", preset="dqn_sb3", total_timesteps=50)
    assert learning_starts(tiny).max_value == 100
    # A range the user gives is theirs.
    mine = HyperparameterSpace("learning_starts", "int", 1, 50_000)
    given_space = tuner.search_space("dqn", iter([mine]), preset="dqn_sb3", total_timesteps=15_000)
    assert learning_starts(given_space).max_value == 50_000
    with pytest.raises(hptune.InvalidArgumentError, match="total_timesteps must be an int"):
        tuner.search_space("dqn", preset="dqn_sb3", total_timesteps=0)


def test_tune_rl_model_caps_learning_starts_by_the_objectives_run_length() -> None:
    class ShortDQN(CountingObjective):
        preset = "dqn_sb3"
        total_timesteps = 2_000

        def __init__(self) -> None:
            super().__init__(self.total_timesteps)
            self.seen: list[int] = []

        def __call__(self, params: dict[str, Any], seed: int | None = None) -> float:
            self.seen.append(int(params["learning_starts"]))
            self.timesteps_used += self.steps_per_trial
            return float(params["learning_rate"]) + 1e-3 * ((seed or 0) % 7)

    objective = ShortDQN()
    result = RLHyperparameterTuner("cap").tune_rl_model(
        "dqn", objective, method="random", n_trials=40, seed=2, show_progress=False
    )
    # 40 search trials; the intensifier's re-evaluations (the default for a noisy objective)
    # come on top of n_trials.
    assert sum(INTENSIFY_ATTR not in t.user_attrs for t in result.trials) == 40
    assert max(objective.seen) <= 1_000
    assert max(objective.seen) > 300  # the capped range is still searched up to near its end
