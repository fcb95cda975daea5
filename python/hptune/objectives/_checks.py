"""Argument checks shared by the objectives; every failure is an ``InvalidArgumentError``.

Numbers are accepted as any ``numbers.Real`` / ``numbers.Integral`` (so numpy scalars from a
sampler pass) except ``bool``, which is almost always a mistake here.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

from hptune._errors import InvalidArgumentError

__all__ = ["as_int", "as_number", "as_seed", "check_param_names"]


def check_param_names(
    params: object, names: Sequence[str], what: str, *, kind: str = "a mapping"
) -> None:
    """That ``params`` is a mapping with exactly the keys ``names`` (``what`` names the set in
    errors, ``kind`` what ``params`` may be)."""
    if not isinstance(params, Mapping):
        raise InvalidArgumentError(f"params must be {kind}, got {type(params).__name__}")
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise InvalidArgumentError(f"unknown {what} parameter(s) {unknown}; expected {list(names)}")
    missing = [name for name in names if name not in params]
    if missing:
        raise InvalidArgumentError(f"missing {what} parameter(s) {missing}")


def as_number(name: str, value: object) -> float:
    """``value`` as a finite float, or an error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidArgumentError(f"{name} must be finite, got {value!r}")
    return number


def as_int(name: str, value: object, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum``, or an error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidArgumentError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_seed(value: object) -> int:
    """``value`` as a non-negative int seed."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise InvalidArgumentError(f"seed must be a non-negative integer, got {value!r}")
    return int(value)
