"""Preset search spaces for common agents, as plain data.

>>> from hptune import presets
>>> presets.names()
['q_learning', 'ppo', 'dqn', 'optimization_agent', 'ppo_sb3', 'dqn_sb3']
>>> presets.get("q-learning")["learning_rate"].log_scale
True
>>> presets.defaults("dqn")["target_update_frequency"]
500
"""

from __future__ import annotations

from typing import Any

from hptune._errors import InvalidArgumentError
from hptune.presets._data import (
    PRESETS,
    PRESETS_VERSION,
    SB3_BUDGET_BOUNDS,
    SB3_CONSTRAINTS,
    ParamType,
    PresetParam,
)

__all__ = [
    "PRESETS_VERSION",
    "SB3_BUDGET_BOUNDS",
    "SB3_CONSTRAINTS",
    "ParamType",
    "PresetParam",
    "as_dicts",
    "canonical",
    "defaults",
    "get",
    "names",
]

_ALIASES = {"qlearning": "q_learning", "optimizationagent": "optimization_agent"}


def names() -> list[str]:
    """The canonical preset names, in a stable order."""
    return list(PRESETS)


def canonical(name: str) -> str:
    """The canonical name of preset ``name`` (aliases and ``-`` accepted)."""
    if not isinstance(name, str):
        raise InvalidArgumentError(f"preset name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in PRESETS:
        raise InvalidArgumentError(
            f"unknown preset {name!r}; valid presets are: {', '.join(PRESETS)}"
        )
    return key


def get(name: str) -> dict[str, PresetParam]:
    """The parameters of preset ``name`` (aliases such as ``"q-learning"`` accepted), by name.

    Raises :class:`~hptune.InvalidArgumentError` listing the valid names if ``name`` is unknown.
    """
    return {p.name: p for p in PRESETS[canonical(name)]}


def as_dicts(name: str) -> list[dict[str, Any]]:
    """The ranges of preset ``name`` as plain dicts with keys name, param_type, min_value,
    max_value and log_scale, in the preset's order."""
    return [p.as_dict() for p in PRESETS[canonical(name)]]


def defaults(name: str) -> dict[str, float | int | str]:
    """The default configuration of preset ``name``: the values to start from or ship."""
    return {p.name: p.default for p in PRESETS[canonical(name)]}
