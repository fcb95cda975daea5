"""The adjustment service's settings, as policy objects that check themselves.

Each policy is a frozen dataclass whose constructor refuses bad values with an
:class:`~hptune.InvalidArgumentError` naming the parameter and what it allows. The service
builds them from its keyword arguments, or takes them whole::

    >>> from hptune.adjust import TriggerPolicy, ValidationPolicy
    >>> TriggerPolicy(success_threshold=0.9, window=50, min_records=20).window
    50
    >>> ValidationPolicy(validation_repeats=1)
    Traceback (most recent call last):
    ...
    hptune._errors.InvalidArgumentError: validation_repeats must be an int >= 2, got 1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hptune._checks import check_flag
from hptune._errors import InvalidArgumentError
from hptune._stats import rank_sum_greater, welch_greater
from hptune.adjust._detectors import ChangeDetector, Cusum, PageHinkley
from hptune.samplers import method_name
from hptune.space import HyperparameterSpace
from hptune.storage import Storage

__all__ = ["RollbackPolicy", "TriggerPolicy", "TuningPolicy", "ValidationPolicy"]

SpaceOverrides = Mapping[str, HyperparameterSpace] | Iterable[HyperparameterSpace]

DETECTORS: dict[str, Callable[..., ChangeDetector]] = {
    "page_hinkley": PageHinkley,
    "cusum": Cusum,
}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_number(name: str, value: object, *, allow_none: bool = False) -> None:
    """``value`` is a number >= 0 (or None when allowed)."""
    if value is None and allow_none:
        return
    if not _is_number(value) or not value >= 0:  # type: ignore[operator]
        allowed = "a number >= 0 or None" if allow_none else "a number >= 0"
        raise InvalidArgumentError(f"{name} must be {allowed}, got {value!r}")


def check_count(name: str, value: object, low: int = 1) -> None:
    """``value`` is an int >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidArgumentError(f"{name} must be an int >= {low}, got {value!r}")


def _check_probability(name: str, value: object) -> None:
    if not _is_number(value) or not 0.0 < value <= 1.0:  # type: ignore[operator]
        raise InvalidArgumentError(f"{name} must be in (0, 1], got {value!r}")


def _detector_factory(
    detector: str | Callable[[], ChangeDetector] | None, options: Mapping[str, Any] | None
) -> Callable[[], ChangeDetector] | None:
    if detector is None:
        return None
    opts = dict(options or {})
    if isinstance(detector, str):
        cls = DETECTORS.get(detector.lower().replace("-", "_"))
        if cls is None:
            raise InvalidArgumentError(
                f"unknown detector {detector!r}; allowed: {', '.join(map(repr, DETECTORS))}, "
                "a factory, or None"
            )
        try:
            cls(**opts)  # fail now on bad options, not in the service thread
        except TypeError as exc:
            raise InvalidArgumentError(f"detector {detector!r}: {exc}") from None
        return lambda: cls(**opts)
    if not callable(detector):
        raise InvalidArgumentError(f"detector must be a name, a factory or None, got {detector!r}")
    if opts:
        raise InvalidArgumentError("detector_options apply to a detector given by name")
    return detector


@dataclass(frozen=True)
class TriggerPolicy:
    """When an adjustment starts (each trigger can be switched off with None).

    The success rate over the latest ``window`` new records is below ``success_threshold``
    with at least ``min_records`` of them; the change ``detector`` (``"page_hinkley"``,
    ``"cusum"`` or a factory of :class:`~hptune.adjust.ChangeDetector`, with
    ``detector_options`` for a named one) alarms on the reward stream; ``adjustment_interval``
    seconds have passed since the last adjustment. No trigger fires for ``cooldown`` seconds
    after an adjustment. The service looks every ``check_interval`` seconds.
    """

    adjustment_interval: float | None = 86400.0
    check_interval: float = 60.0
    success_threshold: float | None = 0.8
    window: int = 100
    min_records: int = 30
    cooldown: float = 3600.0
    detector: str | Callable[[], ChangeDetector] | None = "page_hinkley"
    detector_options: Mapping[str, Any] | None = None
    detector_factory: Callable[[], ChangeDetector] | None = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        check_number("adjustment_interval", self.adjustment_interval, allow_none=True)
        check_number("cooldown", self.cooldown)
        if not _is_number(self.check_interval) or not self.check_interval > 0:
            raise InvalidArgumentError(
                f"check_interval must be a number > 0, got {self.check_interval!r}"
            )
        threshold = self.success_threshold
        if threshold is not None and (not _is_number(threshold) or not 0.0 <= threshold <= 1.0):
            raise InvalidArgumentError(
                f"success_threshold must be in [0, 1] or None, got {threshold!r}"
            )
        check_count("window", self.window)
        check_count("min_records", self.min_records)
        object.__setattr__(self, "check_interval", float(self.check_interval))
        object.__setattr__(self, "cooldown", float(self.cooldown))
        object.__setattr__(
            self, "detector_factory", _detector_factory(self.detector, self.detector_options)
        )


@dataclass(frozen=True)
class TuningPolicy:
    """How an adjustment tunes: ``n_trials`` trials of ``method`` (with ``method_options``).

    ``search_spaces`` maps an agent or algorithm name to its space overrides;
    ``maximize=False`` when the retrainer's scores are smaller-is-better; ``storage`` keeps one
    study per agent and algorithm, continued by each adjustment; ``seed`` seeds the tuning runs;
    ``tuner_options`` reach the tuner.
    """

    n_trials: int = 100
    method: str = "bayesian"
    method_options: Mapping[str, Any] | None = None
    search_spaces: Mapping[str, SpaceOverrides] | None = None
    maximize: bool = True
    storage: Storage | str | None = None
    seed: int | None = None
    tuner_options: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        check_count("n_trials", self.n_trials)
        method_name(self.method)  # an unknown method fails here, naming the known ones
        check_flag("maximize", self.maximize)
        object.__setattr__(self, "method_options", dict(self.method_options or {}))
        object.__setattr__(self, "search_spaces", dict(self.search_spaces or {}))
        object.__setattr__(self, "tuner_options", dict(self.tuner_options or {}))


VALIDATION_TESTS = ("robust", "welch")


@dataclass(frozen=True)
class ValidationPolicy:
    """The guard before applying: the best candidate and the current hyperparameters are each
    evaluated ``validation_repeats`` more times, interleaved, and the candidate is applied only
    when its mean is better by more than ``min_improvement`` and the one-sided test says so at
    ``significance``. ``validation_test="robust"`` (the default) needs both Welch's t-test and
    the rank-sum test to agree, so neither a lucky outlier (heavy-tailed scores) nor a chance
    difference of equals passes as easily as under Welch's test alone (``"welch"``); see
    ``benches/bench_adjust_guard.py`` for the rates."""

    validation_repeats: int = 8
    min_improvement: float = 0.0
    significance: float = 0.025
    validation_test: str = "robust"

    def __post_init__(self) -> None:
        check_count("validation_repeats", self.validation_repeats, 2)
        check_number("min_improvement", self.min_improvement)
        _check_probability("significance", self.significance)
        if self.validation_test not in VALIDATION_TESTS:
            raise InvalidArgumentError(
                f"validation_test must be one of {', '.join(map(repr, VALIDATION_TESTS))}, "
                f"got {self.validation_test!r}"
            )

    def judge(
        self, candidate: Sequence[float], current: Sequence[float], maximize: bool = True
    ) -> tuple[float, float, bool]:
        """``(improvement, p_value, better)`` for two lists of at least two scores each:
        ``improvement`` is the difference of the means in the better direction, ``p_value`` the
        one-sided p of "candidate better" (under the robust test the larger of Welch's and the
        rank-sum test's), ``better`` whether the candidate passes the guard."""
        sign = 1.0 if maximize else -1.0
        ours, theirs = [sign * v for v in candidate], [sign * v for v in current]
        test = welch_greater(ours, theirs)
        p_value = test.p_value
        if self.validation_test == "robust":
            p_value = max(p_value, rank_sum_greater(ours, theirs))
        better = test.difference > self.min_improvement and p_value < self.significance
        return test.difference, p_value, better
        object.__setattr__(self, "min_improvement", float(self.min_improvement))
        object.__setattr__(self, "significance", float(self.significance))


@dataclass(frozen=True)
class RollbackPolicy:
    """The watch after applying: the next ``post_apply_records`` records (None: the trigger
    policy's ``min_records``) are compared with the ``window`` before; a success rate lower by
    more than ``rollback_margin`` with a one-sided two-proportion p below
    ``rollback_significance`` rolls back. A watch without enough records after
    ``post_apply_timeout`` seconds (None: the trigger policy's ``adjustment_interval``) keeps
    the new hyperparameters."""

    post_apply_records: int | None = None
    post_apply_timeout: float | None = None
    rollback_margin: float = 0.0
    rollback_significance: float = 0.1

    def __post_init__(self) -> None:
        check_number("rollback_margin", self.rollback_margin)
        check_number("post_apply_timeout", self.post_apply_timeout, allow_none=True)
        _check_probability("rollback_significance", self.rollback_significance)
        if self.post_apply_records is not None:
            check_count("post_apply_records", self.post_apply_records)
        object.__setattr__(self, "rollback_margin", float(self.rollback_margin))
        object.__setattr__(self, "rollback_significance", float(self.rollback_significance))

    def records(self, trigger: TriggerPolicy) -> int:
        """How many records after applying decide the watch."""
        return self.post_apply_records if self.post_apply_records else trigger.min_records

    def timeout(self, trigger: TriggerPolicy) -> float | None:
        """Seconds after which a watch short of records keeps the new hyperparameters."""
        if self.post_apply_timeout is not None:
            return self.post_apply_timeout
        return trigger.adjustment_interval


@dataclass
class Policies:
    """The four policies one service runs with, shared by its monitor and its pipeline (the
    service's setters swap a policy here, so both see the change)."""

    trigger: TriggerPolicy
    tuning: TuningPolicy
    validation: ValidationPolicy
    rollback: RollbackPolicy
