"""The preset search ranges, as data, in one versioned place.

Bump :data:`PRESETS_VERSION` whenever a range, a scale or a default changes, so that stored
studies can tell which ranges they were tuned over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["PRESETS", "PRESETS_VERSION", "ParamType", "PresetParam"]

PRESETS_VERSION = 1

ParamType = Literal["float", "int"]


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
    default: float | int = 0.0

    def __post_init__(self) -> None:
        # Presets are data we ship, so a bad entry is a bug here; fail at import, not in a study.
        if self.param_type not in ("float", "int"):
            raise ValueError(f"{self.name}: param_type must be 'float' or 'int'")
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

    def as_dict(self) -> dict[str, str | float | bool]:
        """The range as a plain dict (no default), the shape ``HyperparameterSpace`` takes."""
        return {
            "name": self.name,
            "param_type": self.param_type,
            "min_value": self.min_value,
            "max_value": self.max_value,
            "log_scale": self.log_scale,
        }


def _float(name: str, low: float, high: float, default: float, *, log: bool = False) -> PresetParam:
    return PresetParam(name, "float", low, high, log_scale=log, default=default)


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
}
