"""A stand-in for a live trial, shared by the objective tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class FakeTrial:
    """The part of a live trial the objectives use, recording what it was told."""

    def __init__(self, params: Mapping[str, Any], prune_after: int | None = None) -> None:
        self._params = dict(params)
        self.prune_after = prune_after
        self.reports: list[tuple[float, int]] = []

    @property
    def params(self) -> Mapping[str, Any]:
        return self._params

    def report(self, value: float, step: int) -> None:
        self.reports.append((value, step))

    def should_prune(self) -> bool:
        return self.prune_after is not None and len(self.reports) >= self.prune_after
