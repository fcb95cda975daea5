"""The sampler interface every search method implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from hptune._history import History
from hptune.space import SearchSpace
from hptune.trial import TrialRecord

__all__ = ["Sampler"]


class Sampler(ABC):
    """Suggests params for trials.

    A study calls :meth:`bind` once with its space, seed and already-stored trials (on resume),
    then :meth:`suggest` with the numbers of the trials to start. Model-based samplers set
    ``uses_history`` and read the study's :class:`~hptune._history.History`; the others get
    ``None``. The same seed and the same history give the same suggestions.
    """

    name: ClassVar[str] = "sampler"
    uses_history: ClassVar[bool] = False
    #: Suggestions depend on the seed and the trial number alone, with no state: a study may
    #: draw a trial's params before the storage confirms that number is its.
    keyed_by_number: ClassVar[bool] = False

    def __init__(self, *, seed: int | None = None) -> None:
        self._requested_seed = seed
        self.seed = 0
        self._space: SearchSpace | None = None

    def bind(self, space: SearchSpace, seed: int, existing: Sequence[TrialRecord] = ()) -> None:
        """Attach to a study's space and seed (a sampler's own seed, when given, wins)."""
        self._space = space
        self.seed = self._requested_seed if self._requested_seed is not None else seed

    @property
    def space(self) -> SearchSpace:
        """The bound search space."""
        if self._space is None:
            raise RuntimeError(f"{type(self).__name__} is not bound to a study yet")
        return self._space

    @abstractmethod
    def suggest(self, history: History | None, numbers: Sequence[int]) -> list[dict[str, Any]]:
        """Params for the trials ``numbers``; fewer than asked only when the method is exhausted."""

    def total(self) -> int | None:
        """How many distinct suggestions the method can make, when finite (a grid's size)."""
        return None

    def remaining(self) -> int | None:
        """How many more suggestions the method can make, when finite."""
        return None

    def options(self) -> dict[str, Any]:
        """The options that recreate this sampler (stored with a study)."""
        return {}
