"""What the study loops and the workers share about an objective: how it is called (with the
params dict or the trial), how its return value becomes a score, and how its error is written.

A leaf module: it imports neither the study nor the parallel machinery, so both import it.
"""

from __future__ import annotations

import inspect
import math
import os
import traceback
from collections.abc import Callable
from typing import Any

from hptune._errors import InvalidArgumentError
from hptune.trial import Trial, as_number

__all__ = ["Catch", "Objective", "coerce_value", "error_text", "wants_trial"]

Objective = Callable[..., Any]
Catch = type[BaseException] | tuple[type[BaseException], ...]


def coerce_value(value: Any) -> float:
    """The objective's return value as a finite float, or InvalidArgumentError saying why not."""
    v = as_number(value)
    if v is None:
        raise InvalidArgumentError(
            f"objective returned {type(value).__name__} {value!r}, not a number"
        )
    if not math.isfinite(v):
        raise InvalidArgumentError(f"objective returned {v!r}; values must be finite")
    return v


def wants_trial(objective: Objective) -> bool:
    """Whether ``objective`` takes a :class:`Trial` (else it takes the params dict).

    True when it has a true ``accepts_trial`` attribute, or its first parameter is named
    ``trial`` or annotated as ``Trial``.
    """
    flag = getattr(objective, "accepts_trial", None)
    if flag is not None:
        return bool(flag)
    try:
        params = list(inspect.signature(objective).parameters.values())
    except (TypeError, ValueError):
        return False
    if not params:
        return False
    first = params[0]
    ann = first.annotation
    return first.name == "trial" or ann is Trial or (isinstance(ann, str) and ann.endswith("Trial"))


def error_text(exc: BaseException) -> str:
    """The text a failed trial stores: the exception and where it was raised."""
    # The file's base name only: the text is stored and shown, and an absolute path would give
    # away the layout of the machine the objective ran on.
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"
