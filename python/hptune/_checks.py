"""Argument checks shared by the public entry points (each raises InvalidArgumentError)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from hptune._errors import InvalidArgumentError

__all__ = [
    "check_callbacks",
    "check_flag",
    "check_int",
    "check_optional_flag",
    "check_pruner",
    "check_real",
    "check_seed",
]

# The Rust core takes counts as 64-bit unsigned ints.
_MAX_COUNT = 2**63 - 1


def check_flag(name: str, value: Any) -> bool:
    """``value`` as a bool when it is one (numpy bools too), else an error naming ``name``.

    Truthiness is not enough: ``maximize="minimize"`` or ``log_scale="False"`` are mistakes.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InvalidArgumentError(
        f"{name} must be True or False, got {type(value).__name__} {value!r}"
    )


def check_optional_flag(name: str, value: Any, none_means: str) -> bool | None:
    """``value`` as a bool, or None; else an error naming ``name`` and what None means."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    raise InvalidArgumentError(
        f"{name} must be True, False or None ({none_means}), got {type(value).__name__} {value!r}"
    )


def check_int(name: str, value: Any, low: int, high: int = _MAX_COUNT) -> int:
    """``value`` as an int in ``[low, high]`` (numpy ints too; never a bool)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidArgumentError(
            f"{name} must be an int >= {low}, got {type(value).__name__} {value!r}"
        )
    if not low <= value <= high:
        raise InvalidArgumentError(f"{name} must be an int in [{low}, {high}], got {value!r}")
    return int(value)


def check_seed(seed: Any) -> int:
    """``seed`` as an int in ``[0, 2**64)`` (the range the core's streams take)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64:
        raise InvalidArgumentError(f"seed must be an int in [0, 2**64), got {seed!r}")
    return seed


def check_real(
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    allowed: str | None = None,
) -> float:
    """``value`` as a finite float in ``[low, high]`` (``(low, high]`` with ``low_open``).

    Strings and booleans are refused; ``allowed`` words the range in the message.
    """
    what = allowed or _range_text(low, high, low_open)
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise InvalidArgumentError(
            f"{name} must be a number {what}, got {type(value).__name__} {value!r}"
        )
    v = float(value)
    if not math.isfinite(v) or v < low or v > high or (low_open and v == low):
        raise InvalidArgumentError(f"{name} must be a finite number {what}, got {value!r}")
    return v


def _range_text(low: float, high: float, low_open: bool) -> str:
    if math.isinf(low) and math.isinf(high):
        return "(any finite value)"
    if math.isinf(high):
        return f"{'>' if low_open else '>='} {low:g}"
    if math.isinf(low):
        return f"<= {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}]"


def check_callbacks(callbacks: Any) -> list[Callable[..., Any]]:
    """``callbacks`` as a list, once it is an iterable of callables (checked before any trial)."""
    if isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
        raise InvalidArgumentError(
            "callbacks must be a list of functions callback(study, trial_record), got "
            f"{type(callbacks).__name__} {callbacks!r}"
        )
    out = list(callbacks)
    for k, cb in enumerate(out):
        if not callable(cb):
            raise InvalidArgumentError(
                f"callbacks[{k}] must be a function callback(study, trial_record), got "
                f"{type(cb).__name__} {cb!r}"
            )
    return out


def check_pruner(pruner: Any) -> None:
    """A pruner is None or has a ``prune(study, trial)`` method (see hptune.pruners)."""
    if pruner is not None and not callable(getattr(pruner, "prune", None)):
        raise InvalidArgumentError(
            "pruner must be None or have a prune(study, trial) method (e.g. "
            f"hptune.pruners.MedianPruner()), got {type(pruner).__name__} {pruner!r}"
        )
