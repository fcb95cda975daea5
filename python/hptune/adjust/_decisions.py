"""What the adjustment service decides, as types: triggers, decisions, watches, per-agent state.

The enums are ``str`` enums whose values are the audit log's event names and the strings
``AdjustmentResult.decision`` always held, so ``result.decision == "applied"`` keeps working
and the audit log's format does not change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any

from hptune.trial import HyperparameterConfig
from hptune.tuners import TuningResult

__all__ = [
    "AdjustmentResult",
    "AdjustmentValidation",
    "AgentState",
    "Decision",
    "Trigger",
    "TriggerKind",
    "Watch",
    "WatchOutcome",
]


class _StrEnum(str, Enum):
    """A str enum that prints and formats as its value on every supported Python."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class TriggerKind(_StrEnum):
    """Why an adjustment started."""

    SUCCESS_RATE = "success_rate"
    DEGRADATION = "degradation"
    PERIODIC = "periodic"
    MANUAL = "manual"


class Decision(_StrEnum):
    """How an adjustment ended (also the audit event that closes it)."""

    APPLIED = "applied"
    REJECTED = "rejected"
    FAILED = "failed"
    ABORTED = "aborted"


class WatchOutcome(_StrEnum):
    """How a post-apply watch ended (also its audit event)."""

    KEPT = "kept"
    ROLLBACK = "rollback"
    ROLLBACK_FAILED = "rollback_failed"


@dataclass(frozen=True)
class Trigger:
    """A trigger that fired, with the evidence the audit log records for it."""

    kind: TriggerKind
    evidence: dict[str, Any]


@dataclass
class Watch:
    """An open post-apply watch: what was applied, what it replaced, and the rate before."""

    adjustment_id: int
    previous: dict[str, Any]
    applied: dict[str, Any]
    applied_at: float
    after_id: int
    before_rate: float | None
    before_n: int


@dataclass
class AgentState:
    """What the service remembers per agent (saved in the audit log's database as a dict)."""

    consumed_id: int = 0  # records up to this id were evidence for a decision already
    detector_id: int = 0  # records up to this id were fed to the detector
    last_adjustment: float | None = None
    period_start: float | None = None
    pending_alarm: dict[str, Any] | None = None
    watch: Watch | None = None

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> AgentState:
        """The state saved by :meth:`as_stored` (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in (stored or {}).items() if k in known}
        watch = values.pop("watch", None)
        state = cls(**values)
        if isinstance(watch, dict):
            state.watch = Watch(**{k: watch[k] for k in (f.name for f in fields(Watch))})
        return state

    def as_stored(self) -> dict[str, Any]:
        """The state as a plain dict (the watch as a nested dict)."""
        return asdict(self)


@dataclass(frozen=True)
class AdjustmentValidation:
    """Fresh evaluations of the candidate and of the current hyperparameters, and the test.

    ``improvement`` is ``candidate_mean - current_mean`` in the better direction (positive is
    better even when minimising); ``p_value`` is the one-sided p of "candidate better": Welch's,
    or under the robust guard the larger of Welch's and the rank-sum test's.
    """

    candidate_scores: list[float]
    current_scores: list[float]
    candidate_mean: float
    current_mean: float
    improvement: float
    p_value: float
    failures: list[str]
    better: bool

    def as_dict(self) -> dict[str, Any]:
        """The figures as a plain dict (what the audit log stores)."""
        return asdict(self)


@dataclass
class AdjustmentResult:
    """What one adjustment did: trigger and evidence, tuning result, validation, decision.

    ``trigger`` is a :class:`TriggerKind` and ``decision`` a :class:`Decision`, each equal to
    its string; ``decision`` is ``"applied"``, ``"rejected"``
    (no validated improvement), ``"failed"`` (tuning or applying raised; the current
    hyperparameters stay) or ``"aborted"`` (the service stopped first; nothing was applied).
    """

    adjustment_id: int
    agent_name: str
    algorithm: str
    trigger: TriggerKind
    evidence: dict[str, Any]
    decision: Decision
    previous_hyperparameters: dict[str, Any]
    candidate: dict[str, Any] | None = None
    tuning_result: TuningResult | None = field(default=None, repr=False)
    validation: AdjustmentValidation | None = None
    reason: str = ""
    error: str | None = None

    @property
    def applied(self) -> bool:
        """Whether the candidate was deployed."""
        return self.decision == Decision.APPLIED

    @property
    def best_config(self) -> HyperparameterConfig | None:
        """The tuning run's best config (as a tuner's result has it), if tuning ran."""
        return None if self.tuning_result is None else self.tuning_result.best_config

    @property
    def best_score(self) -> float | None:
        """The tuning run's best score, if tuning ran."""
        return None if self.tuning_result is None else self.tuning_result.best_score

    @property
    def best_params(self) -> dict[str, Any] | None:
        """The tuning run's best params, if tuning ran."""
        return None if self.tuning_result is None else self.tuning_result.best_params
