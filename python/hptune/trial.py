"""Trials: the live :class:`Trial` handed to objectives and the frozen :class:`TrialRecord`."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hptune._distributions import (
    categorical_distribution,
    float_distribution,
    int_distribution,
)
from hptune._errors import InvalidArgumentError

if TYPE_CHECKING:
    from hptune.study import Study

__all__ = ["HyperparameterConfig", "Trial", "TrialRecord", "TrialState"]


def as_number(value: Any) -> float | None:
    """``value`` as a float when it is a number, else None.

    Numbers are ints, floats, numpy numbers, 0-d numeric numpy arrays and other objects that
    convert with ``float()`` (a 0-d tensor, a Decimal). Strings, bytes and booleans are not
    numbers even though ``float()`` takes them: an objective returning ``"1.5"`` or ``True`` is
    a bug to report, not a score.
    """
    if value is None or isinstance(value, (bool, np.bool_, str, bytes, bytearray)):
        return None
    if isinstance(value, np.ndarray) and (value.ndim != 0 or value.dtype.kind not in "iuf"):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def checked_report(value: Any, step: Any) -> float:
    """A reported intermediate value as a finite float, once ``step`` is a non-negative int."""
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise InvalidArgumentError(f"step must be a non-negative int, got {step!r}")
    v = as_number(value)
    if v is None:
        raise InvalidArgumentError(f"reported value must be a number, got {value!r}")
    if not math.isfinite(v):
        raise InvalidArgumentError(f"reported value must be finite, got {value!r}")
    return v


class TrialState(str, enum.Enum):
    """Life cycle of a trial: RUNNING, then COMPLETE, FAILED or PRUNED."""

    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    PRUNED = "pruned"

    @property
    def is_finished(self) -> bool:
        """True for every state but RUNNING."""
        return self is not TrialState.RUNNING

    @classmethod
    def parse(cls, value: TrialState | str) -> TrialState:
        """A state from itself or its name (case-insensitive)."""
        if isinstance(value, TrialState):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            allowed = ", ".join(repr(s.value) for s in cls)
            raise InvalidArgumentError(
                f"unknown trial state {value!r}; allowed: {allowed}"
            ) from None


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """Everything known about one trial, as stored.

    ``value`` (alias ``score``) is in the user's direction (a score when maximising, a cost when
    minimising) and is None unless the trial completed. ``constraints`` holds what the study's
    ``constraints_func`` returned for a complete trial (``<= 0`` is feasible).
    """

    number: int
    params: dict[str, Any]
    state: TrialState
    value: float | None = None
    intermediate_values: dict[int, float] = field(default_factory=dict)
    datetime_start: float | None = None
    datetime_complete: float | None = None
    duration: float | None = None
    error: str | None = None
    user_attrs: dict[str, Any] = field(default_factory=dict)
    #: Outcome constraint values of a complete trial of a study with ``constraints_func``
    #: (feasible when every one is ``<= 0``); None otherwise.
    constraints: list[float] | None = None

    @property
    def feasible(self) -> bool:
        """Whether every outcome constraint holds (``<= 0``); True without constraints."""
        return self.constraints is None or all(c <= 0.0 for c in self.constraints)

    @property
    def score(self) -> float | None:
        """The objective's value (same as ``value``)."""
        return self.value

    @property
    def values(self) -> list[float] | None:
        """The objective values of a complete trial, one per direction of its study (a
        one-item list in a single-objective study); None unless the trial completed."""
        if self.state is not TrialState.COMPLETE or self.value is None:
            return None
        stored = self.user_attrs.get("hptune:values")
        if isinstance(stored, (list, tuple)):
            return [float(v) for v in stored]
        return [self.value]

    @property
    def last_step(self) -> int | None:
        """The largest step reported, if any."""
        return max(self.intermediate_values) if self.intermediate_values else None


@dataclass(frozen=True, slots=True)
class HyperparameterConfig:
    """A configuration and the score it reached."""

    params: dict[str, Any]
    score: float
    trial_number: int | None = None


class Trial:
    """A running trial: its ``number`` and ``params``, plus ``report`` / ``should_prune``.

    >>> def objective(trial):
    ...     for step in range(10):
    ...         trial.report(step * trial.params["lr"], step)
    ...         if trial.should_prune():
    ...             raise hptune.TrialPruned()
    ...     return trial.params["lr"]
    """

    __slots__ = (
        "_fixed",
        "_joint",
        "_study",
        "datetime_start",
        "intermediate_values",
        "number",
        "params",
        "user_attrs",
    )

    def __init__(
        self, study: Study, number: int, params: dict[str, Any], datetime_start: float
    ) -> None:
        self._study = study
        self.number = number
        self.params = params
        self.datetime_start = datetime_start
        self.intermediate_values: dict[int, float] = {}
        self.user_attrs: dict[str, Any] = {}
        # Define-by-run: enqueued values of dynamic params, and values a model drew together
        # with an earlier suggestion of this trial (see hptune._define_by_run).
        self._fixed: dict[str, Any] = {}
        self._joint: dict[str, Any] = {}

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """A float in ``[low, high]`` (log-uniform with ``log=True``, on a grid with ``step``).

        A name of the study's static search space returns its value (which must fit); another
        name is drawn by the study's method. Suggesting a name twice returns the same value.

        >>> def objective(trial):
        ...     lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        ...     return (lr - 0.01) ** 2
        """
        dist = float_distribution(name, low, high, step, log)
        value = self._study._dbr.suggest(self, dist, name, float(low))
        return float(value)

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        """An int in ``[low, high]`` (both included), on multiples of ``step`` from ``low``;
        log-uniform with ``log=True`` (then ``step`` must be 1).

        >>> def objective(trial):
        ...     layers = trial.suggest_int("layers", 1, 8)
        ...     return (layers - 3) ** 2
        """
        dist = int_distribution(name, low, high, step, log)
        return int(self._study._dbr.suggest(self, dist, name, low))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices``.

        >>> def objective(trial):
        ...     kind = trial.suggest_categorical("kind", ["linear", "rbf"])
        ...     return 0.0 if kind == "rbf" else 1.0
        """
        dist = categorical_distribution(name, choices)
        return self._study._dbr.suggest(self, dist, name, None)

    def report(self, value: float, step: int) -> None:
        """Record an intermediate value (e.g. the return after ``step`` episodes)."""
        v = checked_report(value, step)
        self.intermediate_values[step] = v
        self._study._on_report(self, step, v)

    def should_prune(self) -> bool:
        """Whether the study's pruner judges this trial hopeless at its last reported step."""
        return self._study._should_prune(self)

    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON-serialisable value to the trial (kept in storage)."""
        self.user_attrs[key] = value

    def set_constraint(self, key: str, value: float) -> None:
        """Record an outcome constraint of this trial (``<= 0`` is feasible), Optuna 5's way:
        the alternative to the study's ``constraints_func``. A complete trial's values, in the
        order of their names, become ``TrialRecord.constraints``; every complete trial of a
        study must set the same names.

        >>> def objective(trial):
        ...     x = trial.suggest_float("x", -2.0, 2.0)
        ...     trial.set_constraint("budget", x - 1.0)   # feasible when x <= 1
        ...     return (x - 1.5) ** 2
        """
        from hptune._constraints import set_named

        set_named(self.user_attrs, key, value)

    def __repr__(self) -> str:
        return f"Trial(number={self.number}, params={self.params!r})"


def params_repr(params: Mapping[str, Any]) -> str:
    """Short, stable text of a params dict for logs."""
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in params.items()
    )
