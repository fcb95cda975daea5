"""A study's trials as columns, read once, for importance and plots.

Shapes: ``n`` trials (every state, in number order), ``d`` parameters. ``params`` is ``n x d`` in
the core's value encoding (floats and ints as they are, categoricals as the index of the
choice), NaN where a trial has no valid value for a parameter (a trial still waiting for its
params, or one stored under another space). ``values`` is NaN unless the trial completed, in the
user's direction (no sign flip). A study of ``m`` objectives also has ``objectives`` (``n x m``,
same convention; ``values`` is its first column). ``feasible`` marks trials whose outcome
constraints all hold (every trial of a study without constraints).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from hptune._multi_objective import non_dominated
from hptune.space import HyperparameterSpace, SearchSpace
from hptune.trial import TrialRecord, TrialState

__all__ = ["STATE_CODES", "StudyData", "StudyLike"]

STATE_CODES: dict[TrialState, int] = {
    TrialState.RUNNING: 0,
    TrialState.COMPLETE: 1,
    TrialState.FAILED: 2,
    TrialState.PRUNED: 3,
}


class StudyLike(Protocol):
    """What importance and plots read from a study (:class:`hptune.Study` has all of it)."""

    @property
    def name(self) -> str: ...
    @property
    def maximize(self) -> bool: ...
    @property
    def space(self) -> SearchSpace: ...
    @property
    def trials(self) -> list[TrialRecord]: ...


def _column(p: HyperparameterSpace, raw: list[Any]) -> NDArray[np.float64]:
    out = np.full(len(raw), np.nan)
    if p.choices is not None:
        # Choices compare by type first, as the space does, so 1 and True stay apart.
        index: dict[tuple[type, Any], int] = {}
        for i, c in enumerate(p.choices):
            # An unhashable choice is left to the scan below.
            with contextlib.suppress(TypeError):
                index.setdefault((type(c), c), i)
        choices = list(p.choices)
        for k, v in enumerate(raw):
            if v is None:
                continue
            try:
                out[k] = index[(type(v), v)]
            except (KeyError, TypeError):
                for i, c in enumerate(choices):
                    if c == v:
                        out[k] = i
                        break
        return out
    for k, v in enumerate(raw):
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            f = float(v)
            if math.isfinite(f):
                out[k] = f
    return out


@dataclass(frozen=True, eq=False)
class StudyData:
    """A study's trials as numpy columns (see the module notes for shapes)."""

    name: str
    maximize: bool
    space: SearchSpace
    records: list[TrialRecord]
    numbers: NDArray[np.int64]
    states: NDArray[np.int8]
    values: NDArray[np.float64]
    params: NDArray[np.float64]
    #: One direction per objective ("minimize" / "maximize").
    directions: tuple[str, ...]
    objectives: NDArray[np.float64]
    feasible: NDArray[np.bool_]
    #: Whether any trial has outcome constraint values.
    constrained: bool

    @classmethod
    def from_study(cls, study: StudyLike | StudyData) -> StudyData:
        """Read every trial of ``study`` once (a StudyData is returned as it is)."""
        if isinstance(study, StudyData):
            return study
        directions = getattr(study, "directions", None)
        return cls.from_records(study.name, study.maximize, study.space, study.trials, directions)

    @classmethod
    def from_records(
        cls,
        name: str,
        maximize: bool,
        space: SearchSpace,
        records: list[TrialRecord],
        directions: list[str] | tuple[str, ...] | None = None,
    ) -> StudyData:
        """Columns of the given trials (``directions``: one per objective, when several)."""
        n = len(records)
        numbers = np.fromiter((r.number for r in records), dtype=np.int64, count=n)
        states = np.fromiter((STATE_CODES[r.state] for r in records), dtype=np.int8, count=n)
        complete = TrialState.COMPLETE
        values = np.fromiter(
            (r.value if r.state is complete and r.value is not None else math.nan for r in records),
            dtype=np.float64,
            count=n,
        )
        params = np.empty((n, len(space)), dtype=np.float64)
        for j, p in enumerate(space.params):
            name_j = p.name
            params[:, j] = _column(p, [r.params.get(name_j) for r in records])
        dirs = tuple(directions) if directions else ("maximize" if maximize else "minimize",)
        m = len(dirs)
        objectives = np.full((n, m), math.nan)
        if m == 1:
            objectives[:, 0] = values
        else:
            for i, r in enumerate(records):
                vs = r.values
                if vs is not None and len(vs) == m:
                    objectives[i] = vs
        feasible = np.fromiter((r.feasible for r in records), dtype=bool, count=n)
        constrained = any(r.constraints is not None for r in records)
        return cls(
            name,
            bool(maximize),
            space,
            records,
            numbers,
            states,
            values,
            params,
            dirs,
            objectives,
            feasible,
            constrained,
        )

    @property
    def n(self) -> int:
        """Number of trials, in every state."""
        return len(self.records)

    @property
    def complete(self) -> NDArray[np.bool_]:
        """Mask of completed trials with a finite value."""
        mask: NDArray[np.bool_] = (self.states == STATE_CODES[TrialState.COMPLETE]) & np.isfinite(
            self.values
        )
        return mask

    def count(self, state: TrialState) -> int:
        """Number of trials in ``state``."""
        return int(np.count_nonzero(self.states == STATE_CODES[state]))

    @property
    def loss(self) -> NDArray[np.float64]:
        """Values in the canonical direction (minimised): the sign flips when maximising."""
        return -self.values if self.maximize else self.values

    def best_index(self) -> int | None:
        """Row of the best completed trial (the first one on ties), or None; a feasible one
        whenever there is one. Multi-objective studies: by the first objective."""
        mask = self.complete
        if not mask.any():
            return None
        if (mask & self.feasible).any():
            mask = mask & self.feasible
        loss = np.where(mask, self.loss, np.inf)
        return int(np.argmin(loss))

    @property
    def n_objectives(self) -> int:
        """Number of objectives."""
        return len(self.directions)

    @property
    def objective_loss(self) -> NDArray[np.float64]:
        """``objectives`` in the canonical direction (every column minimised)."""
        signs = np.array([-1.0 if d == "maximize" else 1.0 for d in self.directions])
        out: NDArray[np.float64] = self.objectives * signs
        return out

    def front_mask(self) -> NDArray[np.bool_]:
        """Trials on the Pareto front: complete, with every objective, dominated by no other
        such trial; among the feasible ones when there are any."""
        ok = self.complete & np.all(np.isfinite(self.objectives), axis=1)
        if (ok & self.feasible).any():
            ok = ok & self.feasible
        rows = np.flatnonzero(ok)
        mask = np.zeros(self.n, dtype=bool)
        mask[rows[non_dominated(self.objective_loss[rows])]] = True
        return mask
