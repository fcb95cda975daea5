"""The observation history a model-based sampler sees, as growing numpy buffers.

``x`` holds unit-cube rows of completed trials and ``y`` their values in the canonical
direction (minimise: the study flips the sign when maximising). Failed trials' points and the
points of trials still running are kept apart, so samplers can avoid them without learning from
them. Pruned trials are failed points too, and also keep their last reported value, so a
model-based sampler may learn from them (see :meth:`History.with_pruned`). Buffers double when
full; nothing is rebuilt from trial objects on each suggestion.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from hptune.space import SearchSpace

__all__ = ["History"]


class _Rows:
    __slots__ = ("buf", "n")

    def __init__(self, d: int) -> None:
        self.buf = np.empty((16, d), dtype=np.float64)
        self.n = 0

    def append(self, row: NDArray[np.float64]) -> None:
        if self.n == len(self.buf):
            bigger = np.empty((2 * len(self.buf), self.buf.shape[1]), dtype=np.float64)
            bigger[: self.n] = self.buf[: self.n]
            self.buf = bigger
        self.buf[self.n] = row
        self.n += 1

    @property
    def view(self) -> NDArray[np.float64]:
        return self.buf[: self.n]


class History:
    """Completed, failed and pending points of one study in unit-cube encoding."""

    __slots__ = (
        "_c",
        "_errored",
        "_failed",
        "_objectives",
        "_pending",
        "_pruned",
        "_pruned_last",
        "_x",
        "_y",
        "numbers",
        "space",
    )

    def __init__(self, space: SearchSpace) -> None:
        d = len(space)
        self.space = space
        self._x = _Rows(d)
        self._y = np.empty(16, dtype=np.float64)
        self._failed = _Rows(d)
        # Pruned trials: their rows (also in _failed) and their last reported canonical value
        # (NaN where they reported none).
        self._pruned = _Rows(d)
        self._pruned_last: list[float] = []
        self._errored = _Rows(d)
        self._pending: dict[int, NDArray[np.float64]] = {}
        # Outcome constraints of completed trials (NaN where a trial has none), created with
        # the first trial that has some.
        self._c: _Rows | None = None
        # Multi-objective studies: every objective of completed trials, canonical (minimised).
        self._objectives: _Rows | None = None
        self.numbers: list[int] = []

    def _encode(self, params: dict[str, Any]) -> NDArray[np.float64]:
        if len(params) > len(self.space):
            # Params defined by run (outside the static space) are not this history's business.
            params = {k: v for k, v in params.items() if k in self.space}
        row = np.array([self.space.params_to_row(params)], dtype=np.float64)
        out: NDArray[np.float64] = self.space.core.encode(row)[0]
        return out

    def add_pending(self, number: int, params: dict[str, Any]) -> None:
        """A trial started: its point is pending until it finishes."""
        self._pending[number] = self._encode(params)

    def drop_pending(self, number: int) -> None:
        """A trial that started is gone without a result (its ask failed)."""
        self._pending.pop(number, None)

    def add_complete(
        self,
        number: int,
        params: dict[str, Any],
        y: float,
        constraints: list[float] | None = None,
        objectives: list[float] | None = None,
    ) -> None:
        """A trial completed with canonical (minimised) value ``y`` and, in a constrained
        study, its outcome constraint values (``<= 0`` feasible; all trials have as many); in a
        multi-objective study, ``objectives`` are all its canonical values (``y`` the first)."""
        row = self._pending.pop(number, None)
        self._x.append(self._encode(params) if row is None else row)
        n = self._x.n
        if n > len(self._y):
            self._y = np.resize(self._y, 2 * len(self._y))
        self._y[n - 1] = y
        self.numbers.append(number)
        if constraints is not None and self._c is None:
            self._c = _Rows(len(constraints))
            for _ in range(n - 1):
                self._c.append(np.full(len(constraints), np.nan))
        if self._c is not None:
            width = self._c.buf.shape[1]
            if constraints is None or len(constraints) != width:
                self._c.append(np.full(width, np.nan))
            else:
                self._c.append(np.asarray(constraints, dtype=np.float64))
        if objectives is not None:
            if self._objectives is None:
                self._objectives = _Rows(len(objectives))
            self._objectives.append(np.asarray(objectives, dtype=np.float64))

    def add_failed(
        self, number: int, params: dict[str, Any], pruned_at: float | None = None
    ) -> None:
        """A trial failed or was pruned: remember its point to avoid it. A pruned trial gives
        ``pruned_at``, its last reported value in the canonical direction (NaN if none)."""
        row = self._pending.pop(number, None)
        if row is None:
            row = self._encode(params)
        self._failed.append(row)
        if pruned_at is None:
            self._errored.append(row)
        else:
            self._pruned.append(row)
            self._pruned_last.append(float(pruned_at))

    def with_pruned(self) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
        """Completed and pruned rows with values to model, and how many are pruned.

        A pruned trial stopped before its final value: it was ranked below the trials that went
        on at the step where it stopped, so it is taken to be no better than the worst completed
        trial, or than its own last report where that is worse (a learning curve at an early
        step is, if anything, worse than at its end). Without completed trials or pruned ones
        this is ``(x, y, 0)``.
        """
        x, y = self.x, self.y
        k = self._pruned.n
        if k == 0 or len(y) == 0:
            return x, y, 0
        last = np.asarray(self._pruned_last, dtype=np.float64)
        worst = float(y.max())
        imputed = np.where(np.isfinite(last), np.maximum(last, worst), worst)
        return (
            np.concatenate([x, self._pruned.view], axis=0),
            np.concatenate([y, imputed]),
            k,
        )

    def avoid_unpruned(self) -> NDArray[np.float64]:
        """Pending rows and failed rows that were not pruned (see :meth:`with_pruned`)."""
        if self._pruned.n == 0:
            return self.avoid()
        return np.concatenate([self.pending, self._errored.view], axis=0)

    @property
    def x(self) -> NDArray[np.float64]:
        """Unit rows of completed trials (``n x d``)."""
        return self._x.view

    @property
    def y(self) -> NDArray[np.float64]:
        """Canonical values of completed trials (``n``), to minimise."""
        return self._y[: self._x.n]

    @property
    def constraints(self) -> NDArray[np.float64] | None:
        """Outcome constraint values of completed trials (``n x k``, NaN where a trial has
        none), or None when no trial has any."""
        return None if self._c is None else self._c.view

    @property
    def objectives(self) -> NDArray[np.float64] | None:
        """Canonical (minimised) objectives of completed trials (``n x m``) in a
        multi-objective study, else None."""
        if self._objectives is None or self._objectives.n != self._x.n:
            return None
        return self._objectives.view

    @property
    def failed(self) -> NDArray[np.float64]:
        """Unit rows of failed and pruned trials."""
        return self._failed.view

    @property
    def pending(self) -> NDArray[np.float64]:
        """Unit rows of trials still running."""
        d = len(self.space)
        if not self._pending:
            return np.empty((0, d), dtype=np.float64)
        return np.array(list(self._pending.values()), dtype=np.float64).reshape(-1, d)

    def avoid(self) -> NDArray[np.float64]:
        """Pending and failed rows together: points a sampler should not suggest again."""
        return np.concatenate([self.pending, self.failed], axis=0)

    def __len__(self) -> int:
        return self._x.n
