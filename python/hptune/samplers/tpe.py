"""Multivariate tree-structured Parzen estimator, in the Rust core (method ``"tpe"``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from hptune import _core
from hptune._checks import check_int, check_real
from hptune._constraints import feasibility_key
from hptune._history import History
from hptune._multi_objective import motpe_key
from hptune.rng import derive_seed
from hptune.samplers._base import Sampler
from hptune.space import SearchSpace
from hptune.trial import TrialRecord

__all__ = ["TPESampler"]


class TPESampler(Sampler):
    """Multivariate TPE.

    Completed trials are split at the ``gamma`` quantile (``min(ceil(0.1 n), 25)`` good trials);
    each group gets a Parzen mixture over whole configurations (truncated normals in the unit
    encoding, so log-scale parameters are modelled in log space; cell masses for ints and steps;
    a smoothed categorical kernel; a prior component). Candidates are drawn from the good
    mixture and the best ``l(x) / g(x)`` wins. The first ``n_startup_trials`` are random.
    Running and failed trials count as bad points, so parallel suggestions differ. In a study
    with a ``constraints_func`` the split ranks feasible trials (by value) before infeasible
    ones (by total violation), so the good group is feasible whenever enough trials are. In a
    multi-objective study it is MOTPE: the good group is the first nondominated fronts, the
    front that crosses the ``gamma`` boundary cut by hypervolume contribution.

    Options: ``n_candidates`` (24), ``n_startup_trials`` (10), ``gamma`` (0.1), ``max_good``
    (25), ``prior_weight`` (1.0).
    """

    name: ClassVar[str] = "tpe"
    uses_history: ClassVar[bool] = True

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_candidates: int = 24,
        n_startup_trials: int = 10,
        gamma: float = 0.1,
        max_good: int = 25,
        prior_weight: float = 1.0,
    ) -> None:
        super().__init__(seed=seed)
        # The same ranges as the Rust core's TpeOptions::validate, checked here so that a bad
        # option fails at construction, not at the first model-based ask.
        self.n_candidates = check_int("n_candidates", n_candidates, 1)
        self.n_startup_trials = check_int("n_startup_trials", n_startup_trials, 0)
        self.gamma = check_real("gamma", gamma, low=0.0, high=1.0, low_open=True)
        self.max_good = check_int("max_good", max_good, 1)
        self.prior_weight = check_real("prior_weight", prior_weight, low=0.0, low_open=True)
        self._state = _core.TpeState()

    def bind(self, space: SearchSpace, seed: int, existing: Sequence[TrialRecord] = ()) -> None:
        super().bind(space, seed, existing)
        self._state = _core.TpeState()

    def suggest(self, history: History | None, numbers: Sequence[int]) -> list[dict[str, Any]]:
        assert history is not None
        y = history.y
        objectives = history.objectives
        if objectives is not None:
            # MOTPE: the split follows nondominated fronts (see motpe_key).
            y = self._motpe_key(objectives, history.constraints)
        elif history.constraints is not None:
            # Feasible trials first, by value, then infeasible ones by total violation.
            y = feasibility_key(y, history.constraints)
        unit = _core.tpe_suggest(
            self.space.core,
            history.x,
            y,
            history.avoid(),
            len(numbers),
            derive_seed(self.seed, "tpe", numbers[0]),
            self.n_candidates,
            self.n_startup_trials,
            self.gamma,
            self.max_good,
            self.prior_weight,
            self._state,
        )
        return self.space.decode(unit)

    def _motpe_key(
        self, objectives: NDArray[np.float64], constraints: NDArray[np.float64] | None
    ) -> NDArray[np.float64]:
        """Ranking values of a multi-objective history: nondominated fronts of the feasible
        trials (all of them without constraints), then infeasible ones by total violation."""
        n = len(objectives)
        n_good = min(math.ceil(self.gamma * n), self.max_good) if n else 0
        if constraints is None:
            return motpe_key(objectives, max(n_good, 1))
        # Feasible rows first, keyed by their fronts; the rest after them, by violation.
        feasible = np.zeros(n) if n == 0 else feasibility_key(np.zeros(n), constraints)
        ok = feasible == 0.0
        key = np.empty(n)
        front_keys = motpe_key(objectives[ok], max(n_good, 1))
        finite = front_keys[np.isfinite(front_keys)]
        top = float(finite.max()) + 1.0 if finite.size else 0.0
        key[ok] = np.where(np.isfinite(front_keys), front_keys, top)
        key[~ok] = top + 1.0 + feasible[~ok]
        return key

    def options(self) -> dict[str, Any]:
        return {
            "n_candidates": self.n_candidates,
            "n_startup_trials": self.n_startup_trials,
            "gamma": self.gamma,
            "max_good": self.max_good,
            "prior_weight": self.prior_weight,
        }
