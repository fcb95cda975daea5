"""Grid search over a lazy grid that is never materialised."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from hptune import _core
from hptune._errors import InvalidArgumentError
from hptune._history import History
from hptune.samplers._base import Sampler
from hptune.space import SearchSpace
from hptune.trial import TrialRecord

__all__ = ["GridSampler"]


class GridSampler(Sampler):
    """Visit every point of a grid once, in order or shuffled.

    Float parameters get ``resolution`` points (both bounds, log-spaced on log scale); int and
    stepped parameters take every value when they have at most ``resolution`` of them, else
    ``resolution`` evenly spaced values including both bounds; categoricals take every choice.
    Points already in the study (resumed or enqueued) are not visited again.
    """

    name: ClassVar[str] = "grid"

    def __init__(
        self, *, resolution: int = 5, shuffle: bool = False, seed: int | None = None
    ) -> None:
        super().__init__(seed=seed)
        if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
            raise InvalidArgumentError(
                f"resolution must be an int >= 2 (points per float dimension), got {resolution!r}"
            )
        self.resolution = resolution
        self.shuffle = bool(shuffle)
        self._grid: _core.Grid | None = None
        self._position = 0
        self._seen: set[int] = set()

    def bind(self, space: SearchSpace, seed: int, existing: Sequence[TrialRecord] = ()) -> None:
        super().bind(space, seed, existing)
        self._grid = _core.Grid(space.core, self.resolution, self.seed if self.shuffle else None)
        self._position = 0
        self._seen = set()
        for record in existing:
            self.mark_seen(record.params)

    @property
    def grid(self) -> _core.Grid:
        """The underlying lazy grid."""
        if self._grid is None:
            raise RuntimeError("GridSampler is not bound to a study yet")
        return self._grid

    def mark_seen(self, params: dict[str, Any]) -> None:
        """Do not visit the grid point of ``params`` (if it is on the grid)."""
        try:
            row = self.space.params_to_row(params)
        except InvalidArgumentError:
            return
        index = self.grid.index_of_point(row)
        # A point already passed in visiting order needs no skipping.
        if index is not None and self.grid.rank_of_index(index) >= self._position:
            self._seen.add(index)

    def total(self) -> int:
        return self.grid.size

    def remaining(self) -> int:
        # Seen points are all at positions not visited yet (they are dropped when passed).
        return self.grid.size - self._position - len(self._seen)

    def suggest(self, history: History | None, numbers: Sequence[int]) -> list[dict[str, Any]]:
        grid = self.grid
        size = grid.size
        rows: list[list[float]] = []
        while len(rows) < len(numbers) and self._position < size:
            n = min(len(numbers) - len(rows) + len(self._seen), size - self._position)
            for row in grid.points(self._position, n).tolist():
                self._position += 1
                if self._seen:
                    index = grid.index_of_point(row)
                    if index in self._seen:
                        self._seen.discard(index)
                        continue
                rows.append(row)
                if len(rows) == len(numbers):
                    break
        if not rows:
            return []
        return self.space.rows_to_params(np.array(rows, dtype=np.float64))

    def options(self) -> dict[str, Any]:
        return {"resolution": self.resolution, "shuffle": self.shuffle}
