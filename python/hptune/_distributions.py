"""The distributions of ``trial.suggest_float`` / ``suggest_int`` / ``suggest_categorical``.

A leaf module (it imports the space only), so that :mod:`hptune.trial` and the define-by-run
machinery both import it at module level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hptune._errors import InvalidArgumentError
from hptune.space import HyperparameterSpace

__all__ = ["categorical_distribution", "float_distribution", "int_distribution"]


def float_distribution(
    name: str, low: float, high: float, step: float | None, log: bool
) -> HyperparameterSpace | None:
    """The distribution of ``suggest_float`` (None when ``low == high``: a single value)."""
    if _single(name, low, high):
        return None
    return HyperparameterSpace(name, "float", low, high, log_scale=log, step=step)


def int_distribution(
    name: str, low: int, high: int, step: int, log: bool
) -> HyperparameterSpace | None:
    """The distribution of ``suggest_int`` (None when ``low == high``: a single value)."""
    for arg, v in (("low", low), ("high", high), ("step", step)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise InvalidArgumentError(
                f"parameter {name!r}: {arg} of suggest_int must be an int, got {v!r}"
            )
    if _single(name, low, high):
        return None
    return HyperparameterSpace(
        name, "int", low, high, log_scale=log, step=None if step == 1 else step
    )


def categorical_distribution(name: str, choices: Sequence[Any]) -> HyperparameterSpace | None:
    """The distribution of ``suggest_categorical``."""
    return HyperparameterSpace(name, "categorical", choices=choices)


def _single(name: str, low: Any, high: Any) -> bool:
    """Whether ``[low, high]`` is one value (allowed, as in Optuna: it is returned as is)."""
    try:
        return bool(low == high)
    except Exception as exc:
        raise InvalidArgumentError(
            f"parameter {name!r}: low and high must be numbers, got {low!r} and {high!r}"
        ) from exc
