"""Argument checks shared by the public entry points (each raises InvalidArgumentError)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hptune._errors import InvalidArgumentError

__all__ = ["check_flag"]


def check_flag(name: str, value: Any) -> bool:
    """``value`` as a bool when it is one (numpy bools too), else an error naming ``name``.

    Truthiness is not enough: ``maximize="minimize"`` or ``log_scale="False"`` are mistakes.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InvalidArgumentError(
        f"{name} must be True or False, got {type(value).__name__} {value!r}"
    )
