"""Grid search over a lazy grid that is never materialised."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from hptune import _core
from hptune._checks import check_flag, check_int
from hptune._errors import InvalidArgumentError
from hptune._history import History
from hptune.samplers._base import Sampler
from hptune.space import SearchSpace
from hptune.trial import TrialRecord

__all__ = ["GridSampler"]

# Grid points are decoded a block at a time; the block never outlives the grid's end.
_BLOCK = 128


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
        self.resolution = check_int("resolution", resolution, 2)
        self.shuffle = check_flag("shuffle", shuffle)
        self._grid: _core.Grid | None = None
        self._position = 0
        self._seen: set[int] = set()
        # Points fetched ahead of use, as (grid index, params), in visiting order.
        self._buffer: deque[tuple[int, dict[str, Any]]] = deque()

    def bind(self, space: SearchSpace, seed: int, existing: Sequence[TrialRecord] = ()) -> None:
        super().bind(space, seed, existing)
        self._grid = _core.Grid(space.core, self.resolution, self.seed if self.shuffle else None)
        self._position = 0
        self._seen = set()
        self._buffer = deque()
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
        if index is None:
            return
        if self.grid.rank_of_index(index) >= self._position:
            self._seen.add(index)
        else:
            # Already fetched ahead but not handed out yet: drop it from the buffer.
            for k, (buffered, _) in enumerate(self._buffer):
                if buffered == index:
                    del self._buffer[k]
                    break

    def total(self) -> int:
        return self.grid.size

    def remaining(self) -> int:
        # Seen points all lie at positions not fetched yet (they are dropped when passed).
        return self.grid.size - self._position - len(self._seen) + len(self._buffer)

    def _fill(self, want: int) -> None:
        """Fetch the next ``want`` unseen points (fewer at the end of the grid) into the buffer."""
        grid = self.grid
        size = grid.size
        indices: list[int] = []
        rows: list[list[float]] = []
        while len(rows) < want and self._position < size:
            n = min(want - len(rows) + len(self._seen), size - self._position)
            for row in grid.points(self._position, n).tolist():
                self._position += 1
                index = grid.index_of_point(row)
                assert index is not None
                if index in self._seen:
                    self._seen.discard(index)
                    continue
                indices.append(index)
                rows.append(row)
                if len(rows) == want:
                    break
        if rows:
            params = self.space.rows_to_params(np.array(rows, dtype=np.float64))
            self._buffer.extend(zip(indices, params, strict=True))

    def sample_one(self, number: int) -> dict[str, Any]:
        """The next grid point (trial numbers do not matter to a grid)."""
        if not self._buffer:
            self._fill(_BLOCK)
        return self._buffer.popleft()[1]

    def suggest(self, history: History | None, numbers: Sequence[int]) -> list[dict[str, Any]]:
        if len(self._buffer) < len(numbers):
            self._fill(max(_BLOCK, len(numbers) - len(self._buffer)))
        count = min(len(numbers), len(self._buffer))
        return [self._buffer.popleft()[1] for _ in range(count)]

    def options(self) -> dict[str, Any]:
        return {"resolution": self.resolution, "shuffle": self.shuffle}
