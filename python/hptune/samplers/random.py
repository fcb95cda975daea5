"""Random and quasi-random (scrambled Sobol') search."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from hptune import _core
from hptune._history import History
from hptune.samplers._base import Sampler
from hptune.space import SearchSpace
from hptune.trial import TrialRecord

__all__ = ["RandomSampler", "SobolSampler"]

# Trials are drawn from the core in blocks: values depend only on (seed, trial number), so a
# block is exactly what one-at-a-time drawing would give, at a fraction of the call overhead.
_BLOCK = 128


class _BlockSampler(Sampler):
    """Shared caching of per-number suggestions drawn from the core in blocks."""

    keyed_by_number: ClassVar[bool] = True

    def __init__(self, *, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self._cache: dict[int, dict[str, Any]] = {}

    def bind(self, space: SearchSpace, seed: int, existing: Sequence[TrialRecord] = ()) -> None:
        super().bind(space, seed, existing)
        self._cache.clear()

    def _block(self, first: int, n: int) -> list[dict[str, Any]]:
        raise NotImplementedError

    def sample_one(self, number: int) -> dict[str, Any]:
        """Params of trial ``number`` (from the cache, refilled a block at a time)."""
        params = self._cache.pop(number, None)
        if params is None:
            block = self._block(number, _BLOCK)
            self._cache.update(zip(range(number + 1, number + _BLOCK), block[1:], strict=True))
            params = block[0]
        return params

    def suggest(self, history: History | None, numbers: Sequence[int]) -> list[dict[str, Any]]:
        return [self.sample_one(k) for k in numbers]


class RandomSampler(_BlockSampler):
    """Independent uniform sampling (log-uniform on log scale); trial ``k`` uses stream ``k``."""

    name: ClassVar[str] = "random"

    def _block(self, first: int, n: int) -> list[dict[str, Any]]:
        return self.space.sample_random(self.seed, first, n)


class SobolSampler(_BlockSampler):
    """Scrambled Sobol' points: better spread than random for the same number of trials.

    Trial ``k`` takes point ``k`` of a sequence scrambled by the seed; the first ``2^m`` trials
    stratify every parameter into ``2^m`` equal cells.
    """

    name: ClassVar[str] = "sobol"

    def __init__(self, *, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self._sobol: _core.Sobol | None = None

    def bind(self, space: SearchSpace, seed: int, existing: Sequence[TrialRecord] = ()) -> None:
        super().bind(space, seed, existing)
        self._sobol = _core.Sobol(len(space), self.seed)

    def _block(self, first: int, n: int) -> list[dict[str, Any]]:
        assert self._sobol is not None
        return self.space.decode(self._sobol.points(first, n))
