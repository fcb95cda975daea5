"""What the shipped objectives need of a live trial."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = ["ReportingTrial"]


@runtime_checkable
class ReportingTrial(Protocol):
    """A live trial as objectives see it: its parameters, and intermediate reporting.

    An objective with ``accepts_trial = True`` is called with such an object; it calls
    ``report(value, step)`` as it goes and raises :class:`~hptune.TrialPruned` once
    ``should_prune()`` is true.
    """

    @property
    def params(self) -> Mapping[str, Any]: ...

    def report(self, value: float, step: int) -> None: ...

    def should_prune(self) -> bool: ...
