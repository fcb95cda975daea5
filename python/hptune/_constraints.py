"""Outcome constraints: ``constraints_func(trial) -> sequence of floats``, ``<= 0`` feasible.

A study given a ``constraints_func`` calls it once per complete trial, with the finished
:class:`~hptune.trial.TrialRecord` (params, value, values, user attributes), and stores what it
returns as ``TrialRecord.constraints``. The best trial is always a feasible one when one exists;
before that, the one closest to feasible (smallest total violation, then best value).

Samplers see the values as an ``n x k`` array next to the history's ``y`` (NaN for a complete
trial without values, e.g. one stored before the study had a ``constraints_func``):

- TPE ranks trials for its good / bad split by :func:`feasibility_key`: feasible trials by
  value, then infeasible ones by total violation (Optuna's constrained TPE does the same), so
  the good group holds feasible trials whenever there are enough of them.
- The GP fits one model per constraint and weights its acquisition by the probability of
  feasibility (in the Rust core, :func:`hptune._core.bo_suggest_constrained`).
- Random, Sobol' and grid search ignore them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hptune._errors import InvalidArgumentError
from hptune.trial import TrialRecord, as_number

__all__ = [
    "CONSTRAINTS_KEY",
    "ConstraintsFunc",
    "check_constraints_func",
    "coerce_constraints",
    "feasibility_key",
    "named_constraints",
    "set_named",
    "violation",
]

#: The user attribute under which ``trial.set_constraint(key, value)`` keeps its values.
CONSTRAINTS_KEY = "hptune:constraints"

ConstraintsFunc = Callable[[TrialRecord], Sequence[float]]


def check_constraints_func(func: Any) -> ConstraintsFunc | None:
    """``func`` when it is None or callable, else InvalidArgumentError."""
    if func is not None and not callable(func):
        raise InvalidArgumentError(
            f"constraints_func must be a callable taking the finished trial and returning a "
            f"sequence of floats (<= 0 is feasible), got {type(func).__name__} {func!r}"
        )
    out: ConstraintsFunc | None = func
    return out


def coerce_constraints(raw: Any, number: int, expected: int | None) -> list[float]:
    """What ``constraints_func`` returned for trial ``number`` as finite floats, or
    InvalidArgumentError saying what is wrong; ``expected`` is the length earlier trials got."""
    if isinstance(raw, (str, bytes)) or not isinstance(raw, (Sequence, np.ndarray)):
        raise InvalidArgumentError(
            f"constraints_func returned {type(raw).__name__} {raw!r} for trial {number}; it must "
            "return a sequence of numbers (<= 0 is feasible)"
        )
    items = list(np.asarray(raw).ravel()) if isinstance(raw, np.ndarray) else list(raw)
    out = []
    for x in items:
        v = as_number(x)
        if v is None or not math.isfinite(v):
            raise InvalidArgumentError(
                f"constraints_func returned {raw!r} for trial {number}; every value must be a "
                "finite number (<= 0 is feasible)"
            )
        out.append(v)
    if not out:
        raise InvalidArgumentError(
            f"constraints_func returned no values for trial {number}; return at least one"
        )
    if expected is not None and len(out) != expected:
        raise InvalidArgumentError(
            f"constraints_func returned {len(out)} values for trial {number}, earlier trials "
            f"{expected}; the number of constraints must not change within a study"
        )
    return out


def set_named(user_attrs: dict[str, Any], key: Any, value: Any) -> None:
    """``trial.set_constraint(key, value)``: check and keep one named constraint value."""
    if not isinstance(key, str) or not key:
        raise InvalidArgumentError(f"set_constraint: key must be a non-empty string, got {key!r}")
    v = as_number(value)
    if v is None or not math.isfinite(v):
        raise InvalidArgumentError(
            f"set_constraint({key!r}, ...): the value must be a finite number (<= 0 is "
            f"feasible), got {value!r}"
        )
    user_attrs.setdefault(CONSTRAINTS_KEY, {})[key] = v


def named_constraints(
    named: Any, number: int, expected: tuple[str, ...] | None
) -> tuple[list[float], tuple[str, ...]]:
    """The values of ``trial.set_constraint`` calls in the order of their names (sorted), and
    the names; InvalidArgumentError when the names differ from those of earlier trials."""
    if not isinstance(named, dict) or not named:
        raise InvalidArgumentError(
            f"trial {number}: the user attribute {CONSTRAINTS_KEY!r} must map constraint names "
            f"to numbers (set it with trial.set_constraint), got {named!r}"
        )
    names = tuple(sorted(str(k) for k in named))
    if expected is not None and names != expected:
        raise InvalidArgumentError(
            f"trial.set_constraint gave the constraints {list(names)} for trial {number}, "
            f"earlier trials {list(expected)}; every complete trial must set the same ones"
        )
    values = coerce_constraints([named[k] for k in names], number, None)
    return values, names


def violation(constraints: Sequence[float] | None) -> float:
    """Total violation: the sum of the positive constraint values (0 when feasible)."""
    if constraints is None:
        return 0.0
    return float(sum(c for c in constraints if c > 0.0))


def feasibility_key(y: NDArray[np.float64], c: NDArray[np.float64]) -> NDArray[np.float64]:
    """Values to rank by for a feasibility-aware good / bad split (smaller is better).

    Feasible rows keep ``y``; infeasible ones come after every feasible one, ordered by total
    violation; rows without constraint values (NaN) come last. ``y`` is ``n``, ``c`` is
    ``n x k``; the result is finite.
    """
    if len(y) == 0:
        return np.array(y, dtype=np.float64)
    missing = np.isnan(c).any(axis=1)
    viol = np.where(missing, 0.0, np.clip(np.nan_to_num(c), 0.0, None).sum(axis=1))
    feasible = ~missing & (viol <= 0.0)
    if feasible.all():
        return np.array(y, dtype=np.float64)
    # Above every y, by the spread of y (so the ranking stays finite and well separated).
    top = float(np.max(y)) + 1.0 + float(np.ptp(y))
    worst = float(viol.max()) if viol.size else 0.0
    key = np.where(feasible, y, top + viol)
    out: NDArray[np.float64] = np.where(missing, top + worst + 1.0, key)
    return out
