"""The preset search ranges, as data, in one versioned place.

Bump :data:`PRESETS_VERSION` whenever a range, a scale or a default changes, so that stored
studies can tell which ranges they were tuned over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "PRESETS",
    "PRESETS_VERSION",
    "SB3_BUDGET_BOUNDS",
    "SB3_CONSTRAINTS",
    "ParamType",
    "PresetParam",
]

PRESETS_VERSION = 2

ParamType = Literal["float", "int", "categorical"]


@dataclass(frozen=True)
class PresetParam:
    """One tunable parameter of a preset: its range, scale and the default users start from.

    >>> PresetParam("gamma", "float", 0.9, 0.999, default=0.99).max_value
    0.999
    """

    name: str
    param_type: ParamType
    min_value: float
    max_value: float
    log_scale: bool = False
    default: float | int | str = 0.0
    choices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        # Presets are data we ship, so a bad entry is a bug here; fail at import, not in a study.
        if self.param_type == "categorical":
            if not self.choices or self.default not in self.choices:
                raise ValueError(f"{self.name}: a categorical needs choices including the default")
            return
        if self.param_type not in ("float", "int"):
            raise ValueError(f"{self.name}: param_type must be 'float', 'int' or 'categorical'")
        if isinstance(self.default, str):
            raise ValueError(f"{self.name}: a numeric parameter needs a numeric default")
        if not (math.isfinite(self.min_value) and math.isfinite(self.max_value)):
            raise ValueError(f"{self.name}: bounds must be finite")
        if not self.min_value < self.max_value:
            raise ValueError(f"{self.name}: min_value must be below max_value")
        if self.log_scale and self.min_value <= 0:
            raise ValueError(f"{self.name}: a log-scale range must be positive")
        if self.param_type == "int" and not (
            float(self.min_value).is_integer() and float(self.max_value).is_integer()
        ):
            raise ValueError(f"{self.name}: an int range needs integer bounds")
        if not self.min_value <= self.default <= self.max_value:
            raise ValueError(f"{self.name}: default {self.default} is outside the range")

    def as_dict(self) -> dict[str, Any]:
        """The range as a plain dict (no default), the shape ``HyperparameterSpace`` takes."""
        if self.param_type == "categorical":
            return {
                "name": self.name,
                "param_type": "categorical",
                "choices": list(self.choices or ()),
            }
        return {
            "name": self.name,
            "param_type": self.param_type,
            "min_value": self.min_value,
            "max_value": self.max_value,
            "log_scale": self.log_scale,
        }


def _float(name: str, low: float, high: float, default: float, *, log: bool = False) -> PresetParam:
    return PresetParam(name, "float", low, high, log_scale=log, default=default)


def _int(name: str, low: int, high: int, default: int, *, log: bool = False) -> PresetParam:
    return PresetParam(name, "int", low, high, log_scale=log, default=default)


def _choice(name: str, choices: tuple[str, ...], default: str) -> PresetParam:
    return PresetParam(name, "categorical", 0.0, 1.0, default=default, choices=choices)


PRESETS: dict[str, tuple[PresetParam, ...]] = {
    # Tabular Q-learning; defaults are the textbook starting point (full exploration, slow decay).
    "q_learning": (
        _float("learning_rate", 0.001, 0.1, 0.1, log=True),
        _float("discount_factor", 0.8, 0.99, 0.99),
        _float("epsilon", 0.01, 1.0, 1.0),
        _float("epsilon_decay", 0.9, 0.999, 0.995),
    ),
    # PPO; defaults follow Stable-Baselines3 except ent_coef, whose SB3 default 0 is off-range.
    "ppo": (
        _float("learning_rate", 1e-5, 1e-2, 3e-4, log=True),
        _float("gamma", 0.9, 0.999, 0.99),
        _float("gae_lambda", 0.8, 0.99, 0.95),
        _float("clip_epsilon", 0.1, 0.3, 0.2),
        _float("value_coef", 0.1, 1.0, 0.5),
        _float("entropy_coef", 0.001, 0.1, 0.01, log=True),
    ),
    # DQN; SB3's default target interval (10000 steps) is off-range, 500 suits short runs.
    "dqn": (
        _float("learning_rate", 1e-5, 1e-2, 1e-4, log=True),
        _float("gamma", 0.9, 0.99, 0.99),
        _float("epsilon", 0.01, 1.0, 1.0),
        _float("epsilon_decay", 0.9, 0.999, 0.995),
        PresetParam("target_update_frequency", "int", 10, 1000, default=500),
    ),
    # The autoscaling agent of hptune.objectives.autoscaling: decision weights and thresholds.
    "optimization_agent": (
        _float("cpu_weight", 0.5, 2.0, 1.0),
        _float("memory_weight", 0.5, 2.0, 1.0),
        _float("response_time_weight", 0.1, 1.0, 0.5),
        _float("over_provision_penalty", 1.0, 3.0, 1.5),
        _float("under_provision_penalty", 2.0, 5.0, 3.0),
        _float("scale_up_cpu_threshold", 0.6, 0.9, 0.75),
        _float("scale_down_cpu_threshold", 0.2, 0.4, 0.3),
    ),
    # Stable-Baselines3's PPO in SB3's own parameters, over the region rl-baselines3-zoo tunes
    # (its sample_ppo_params), widened where SB3's defaults fall outside it; every default is
    # SB3's (ent_coef: SB3's 0 sits at the log range's floor, 1e-8). Discount and GAE lambda are
    # tuned as 1 - value on a log scale, where their effect is even; net_arch names the policy
    # and value networks (tiny 64, small 64-64, medium 256-256). batch_size <= n_steps * n_envs
    # (SB3_CONSTRAINTS) is kept by every sampler.
    "ppo_sb3": (
        _float("learning_rate", 1e-5, 3e-3, 3e-4, log=True),
        _int("n_steps", 16, 4096, 2048, log=True),
        _int("batch_size", 8, 1024, 64, log=True),
        _int("n_epochs", 1, 20, 10),
        _float("one_minus_gamma", 1e-4, 0.1, 0.01, log=True),
        _float("one_minus_gae_lambda", 1e-4, 0.2, 0.05, log=True),
        _float("clip_range", 0.05, 0.4, 0.2),
        _float("ent_coef", 1e-8, 0.1, 1e-8, log=True),
        _float("vf_coef", 0.1, 1.0, 0.5),
        _float("max_grad_norm", 0.3, 5.0, 0.5),
        _choice("net_arch", ("tiny", "small", "medium"), "small"),
        _choice("activation_fn", ("tanh", "relu"), "tanh"),
    ),
    # Stable-Baselines3's DQN in SB3's own parameters (rl-baselines3-zoo's sample_dqn_params
    # region, widened to hold SB3's defaults, which are the defaults here: target_update_interval
    # 10000, buffer_size 1e6, learning_starts 100). gradient_steps <= train_freq keeps at most
    # one update per collected step, as the zoo does.
    "dqn_sb3": (
        _float("learning_rate", 1e-5, 3e-3, 1e-4, log=True),
        _int("batch_size", 8, 1024, 32, log=True),
        _int("buffer_size", 1_000, 1_000_000, 1_000_000, log=True),
        _int("learning_starts", 1, 20_000, 100, log=True),
        _float("exploration_fraction", 0.01, 0.5, 0.1),
        _float("exploration_final_eps", 0.0, 0.2, 0.05),
        _int("target_update_interval", 1, 20_000, 10_000, log=True),
        _int("train_freq", 1, 16, 4),
        _int("gradient_steps", 1, 8, 1),
        _float("one_minus_gamma", 1e-4, 0.1, 0.01, log=True),
        _choice("net_arch", ("small", "medium", "big"), "small"),
    ),
}

# Constraints of the SB3 presets, as (lower, upper, factor) of ``lower <= factor * upper``; a
# factor of None stands for the objective's n_envs (the rollout holds n_steps * n_envs steps).
SB3_CONSTRAINTS: dict[str, tuple[tuple[str, str, float | None], ...]] = {
    "ppo_sb3": (("batch_size", "n_steps", None),),
    "dqn_sb3": (("gradient_steps", "train_freq", 1.0),),
}

# Parameters of the SB3 presets whose useful range depends on the run's length, as (name,
# fraction): given the objective's total_timesteps, the tuner caps the range's upper end at
# fraction * total_timesteps (never below the default). A DQN run whose learning_starts reaches
# its length never takes a gradient step and scores its untrained network (on a fixed seed, the
# same luck every time); one whose target_update_interval reaches it never syncs its target
# network and regresses on a random one (on Acrobot-v1 at 15,000 steps such a config scored
# -121.6 on the search's seed, and the GP went back to it four times; -500 on fresh seeds).
SB3_BUDGET_BOUNDS: dict[str, tuple[tuple[str, float], ...]] = {
    "dqn_sb3": (("learning_starts", 0.5), ("target_update_interval", 0.5)),
}
