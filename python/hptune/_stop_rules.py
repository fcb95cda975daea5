"""When an optimisation loop stops: trial count, time budget, rounds without improvement, target.

A leaf module shared by the serial loops (``study.py``) and the parallel scheduler
(``_scheduler.py``); it sees the study only through :class:`StudyScores`.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from hptune.trial import TrialRecord, TrialState

__all__ = ["StopRules", "StudyScores"]

logger = logging.getLogger("hptune")


class StudyScores(Protocol):
    """What the stopping rules read of a study."""

    maximize: bool
    _best_value: float | None
    _best_feasible: bool
    _stop_requested: bool

    def _better(self, a: float, b: float | None) -> bool: ...


class StopRules:
    """Trial count, time budget, early stopping without improvement, and target score."""

    __slots__ = (
        "_best",
        "_since_improvement",
        "deadline",
        "min_delta",
        "n_done",
        "n_trials",
        "rounds",
        "study",
        "target",
    )

    def __init__(
        self,
        study: StudyScores,
        n_trials: int | None,
        timeout: float | None,
        rounds: int | None,
        min_delta: float,
        target: float | None,
    ) -> None:
        self.study = study
        self.n_trials = n_trials
        self.deadline = time.monotonic() + timeout if timeout is not None else None
        self.rounds = rounds
        self.min_delta = float(min_delta)
        self.target = target
        self.n_done = 0
        self._since_improvement = 0
        self._best: float | None = study._best_value if study._best_feasible else None

    def update(self, record: TrialRecord) -> None:
        """Count a finished trial (an infeasible one counts as no improvement)."""
        self.update_value(record.state, record.value if record.feasible else None)

    def update_value(self, state: TrialState, v: float | None) -> None:
        """Count a finished trial from its state and value."""
        self.n_done += 1
        if state is TrialState.COMPLETE and v is not None:
            if self._best is None:
                improved = True
            elif self.study.maximize:
                improved = v > self._best + self.min_delta
            else:
                improved = v < self._best - self.min_delta
            if improved:
                self._best = v
                self._since_improvement = 0
                return
            if self.study._better(v, self._best):
                self._best = v
        self._since_improvement += 1

    def only_counts(self) -> bool:
        """True when the trial count is the only rule (no time, rounds or target)."""
        return (
            self.n_trials is not None
            and self.deadline is None
            and self.rounds is None
            and self.target is None
        )

    def remaining(self) -> int | None:
        """How many more trials the count allows (None: unbounded)."""
        return None if self.n_trials is None else max(0, self.n_trials - self.n_done)

    def done(self, in_flight: int = 0) -> bool:
        if self.study._stop_requested:
            return True
        if self.n_trials is not None and self.n_done + in_flight >= self.n_trials:
            return True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return True
        if self.rounds is not None and self._since_improvement >= self.rounds:
            logger.info("early stopping: %d trials without improvement", self.rounds)
            return True
        if self.target is not None and self._best is not None:
            reached = (
                self._best >= self.target if self.study.maximize else self._best <= self.target
            )
            if reached:
                return True
        return False
