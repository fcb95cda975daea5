"""Bayesian optimisation with a Gaussian process, in the Rust core (method ``"bayesian"``)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from hptune import _core
from hptune._checks import check_flag, check_int, check_optional_flag, check_real
from hptune._errors import InvalidArgumentError
from hptune._history import History
from hptune.rng import derive_seed
from hptune.samplers._base import Sampler
from hptune.space import SearchSpace
from hptune.trial import TrialRecord

__all__ = ["ACQUISITIONS", "OUTPUT_WARPINGS", "BayesianSampler"]

ACQUISITIONS = ("logei", "ei", "pi", "ucb")
#: Transforms of the observed values before the GP sees them (see ``output_warping``).
OUTPUT_WARPINGS = ("none", "log", "auto")

#: A ``noisy`` GP whose fitted signal variance is below this share of the total variance sees
#: no structure to steer by; the space-filling design continues (see ``_noise_dominated``).
NOISE_DOMINATED = 1.0 / 3.0

# Spare Sobol' points for trial k sit at indices _SPARE_BASE + k * _SPARES onwards, far past
# any trial number of an initial design.
_SPARE_BASE = 1 << 24
_SPARES = 32


class BayesianSampler(Sampler):
    """GP-based Bayesian optimisation.

    A Matern-5/2 GP with one lengthscale per parameter (a Hamming kernel for categoricals),
    fitted by maximum a posteriori on the log marginal likelihood (warm-started from the last
    fit), and an acquisition maximised by a Sobol' sweep, multi-start L-BFGS and a local search
    over discrete parameters. The first ``n_startup_trials`` trials are scrambled Sobol' points.

    Options: ``acquisition`` (``"logei"`` default, ``"ei"``, ``"pi"``, ``"ucb"`` with ``beta``),
    ``n_startup_trials`` (default 10; 0 as in Optuna: the GP from the first completed trial on),
    ``n_candidates`` (512), ``n_restarts`` (4),
    ``fit_max_points`` (hyperparameters are fitted on at most this many points, 64; the posterior
    uses all), ``noisy`` (default False; true for objectives whose repeats differ, such as RL
    returns: the GP's noise prior allows far more noise, the incumbent of EI is the best
    posterior mean, not the luckiest observation, and the GP's prior mean is the average of the
    observations instead of the worst one (the default, which keeps unexplored parts of the box
    from looking as good as an average trial); while the fit puts less than a third of the
    variance in the objective and the rest in the noise, the GP has nothing to steer by and
    the Sobol' design continues instead, see benches/README.md), ``output_warping``
    (``"auto"`` default, ``"none"`` or ``"log"``: with ``"log"`` the GP models
    ``ln(1 + (y - y_best) / median(y - y_best))`` instead of ``y``, a monotone transform fitted
    to each history that compresses the large values of badly scaled objectives; ``"auto"``
    fits both models at every suggestion and uses the one under which the raw values are more
    likely (the warped GP's likelihood with its Jacobian), see benches/README.md for the BBOB
    figures; with several objectives ``"auto"`` models the raw values).
    Batches (``study.ask(n)``, parallel trials) are spread by kriging-believer fantasies, and
    running or failed trials are avoided. In a study with a ``constraints_func`` one more GP per
    constraint predicts it, and the acquisition is weighted by the probability that every
    constraint holds (EI and PI multiplied by it, LogEI and UCB plus its log); before any
    feasible trial the suggestion maximises that probability alone.
    In a study with several ``directions`` each objective gets its own GP and the acquisition
    is LogEHVI, the log of the expected hypervolume improvement over the front of the
    feasible trials (exact, by a box decomposition, in the Rust core; the ``acquisition``
    option applies to one objective only).

    ``n_initial`` is the deprecated name of ``n_startup_trials`` (the name TPE and the Optuna
    plug-ins use): it still works, with a :class:`DeprecationWarning`.

    ``learn_from_pruned`` (default False, as in Optuna's GPSampler: pruned trials are only points
    to avoid): with True a pruned trial is also an observation, valued as no better than the
    worst completed trial (or its own last report, if worse), and counts towards
    ``n_startup_trials``. Under aggressive pruning (ASHA keeps a third) the GP then learns from
    every trial, not a few completed ones; but a trial pruned for a slow start near the optimum
    is recorded as bad there. On learning-curve versions of bench_bo's problems it lowered the
    final regret on Branin, Rosenbrock-4 and Ackley-5 and raised it on Hartmann-6 and the mixed
    problem (benches/README.md), so it is off by default; on SB3 DQN tuning under ASHA it
    changed nothing either (CartPole and Acrobot, benches/README.md).
    Multi-objective studies do not use pruned trials.

    ``trust_region`` (default None: on for one objective that is not ``noisy``, off otherwise;
    True or False forces it): maximise the acquisition only inside a box around the best trial,
    as TuRBO does (Eriksson et al., 2019). Its side starts at 0.8 of the unit cube, doubles
    after 3 improving trials in a row, halves after ``max(4, d)`` trials without improvement,
    is stretched per parameter by the GP's lengthscales, and when it falls below 2^-7 the
    region restarts around the trials that follow. The region is replayed from the history in
    trial order, not kept in the sampler. On BBOB it lowered the final regret against the
    search over the whole space in 57 / 64 / 55 of 120 cases and raised it in 41 / 19 / 19 at 2
    / 5 / 10 dimensions, and lowered the median on all five ``bench_bo.py`` problems
    (benches/README.md). Noisy objectives keep the whole space by default: a run of lucky
    observations would steer the region. ``trust_region=True`` with several objectives is an
    error.
    """

    name: ClassVar[str] = "bayesian"
    uses_history: ClassVar[bool] = True

    def __init__(
        self,
        *,
        seed: int | None = None,
        acquisition: str = "logei",
        beta: float = 2.0,
        n_startup_trials: int | None = None,
        n_candidates: int = 512,
        n_restarts: int = 4,
        fit_max_points: int = 64,
        noisy: bool = False,
        output_warping: str = "auto",
        learn_from_pruned: bool = False,
        trust_region: bool | None = None,
        n_initial: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        if n_initial is not None:
            if n_startup_trials is not None:
                raise InvalidArgumentError(
                    "n_initial is the deprecated name of n_startup_trials; give only "
                    "n_startup_trials"
                )
            warnings.warn(
                "BayesianSampler's n_initial is deprecated; use n_startup_trials",
                DeprecationWarning,
                stacklevel=2,
            )
            n_startup_trials = n_initial
        acq = acquisition.lower().replace("_", "") if isinstance(acquisition, str) else None
        if acq not in ACQUISITIONS:
            raise InvalidArgumentError(
                f"unknown acquisition {acquisition!r}; allowed: {', '.join(ACQUISITIONS)}"
            )
        # The same ranges as the Rust core's validate_options, checked at construction.
        self.acquisition: str = acq
        self.beta = check_real("beta", beta, low=0.0)
        self.n_startup_trials = check_int(
            "n_startup_trials", 10 if n_startup_trials is None else n_startup_trials, 0
        )
        self.n_candidates = check_int("n_candidates", n_candidates, 1)
        self.n_restarts = check_int("n_restarts", n_restarts, 1)
        self.fit_max_points = check_int("fit_max_points", fit_max_points, 2)
        self.noisy = check_flag("noisy", noisy)
        if output_warping not in OUTPUT_WARPINGS:
            raise InvalidArgumentError(
                f"unknown output_warping {output_warping!r}; allowed: {', '.join(OUTPUT_WARPINGS)}"
            )
        self.output_warping: str = output_warping
        self.learn_from_pruned = check_flag("learn_from_pruned", learn_from_pruned)
        self.trust_region = check_optional_flag("trust_region", trust_region, "on unless noisy")
        self._sobol: _core.Sobol | None = None
        self._state: list[float] | None = None
        self._constraint_states: list[list[float]] | None = None
        self._objective_states: list[list[float]] | None = None
        # Warm starts of the fits that choose the output warping, per warping.
        self._evidence_states: dict[str, list[float]] = {}

    def bind(self, space: SearchSpace, seed: int, existing: Sequence[TrialRecord] = ()) -> None:
        super().bind(space, seed, existing)
        self._sobol = _core.Sobol(len(space), derive_seed(self.seed, "bayesian-initial"))
        self._state = None
        self._constraint_states = None
        self._objective_states = None
        self._evidence_states = {}

    def suggest(self, history: History | None, numbers: Sequence[int]) -> list[dict[str, Any]]:
        assert history is not None
        assert self._sobol is not None
        space = self.space
        # The GP needs one observation: with n_startup_trials=0 (as Optuna allows) the first
        # point is still Sobol's, and the GP starts from the first completed trial.
        objectives = history.objectives
        x, y, n_pruned = history.x, history.y, 0
        if self.learn_from_pruned and objectives is None:
            x, y, n_pruned = history.with_pruned()
        if len(history) == 0 or len(y) < self.n_startup_trials:
            return space.decode(self._initial_design(history, numbers))
        constraints = history.constraints
        if objectives is None and _constant(y) and (constraints is None or _constant(constraints)):
            # Every trial scored the same (e.g. RL agents that all failed to learn): the GP has
            # nothing to model, and its acquisition would only chase the variance at the box's
            # corners. The space-filling design goes on until a trial differs.
            return space.decode(self._initial_design(history, numbers))
        avoid = history.avoid_unpruned() if n_pruned else history.avoid()
        seed = derive_seed(self.seed, "bayesian", numbers[0])
        if constraints is not None and n_pruned:
            constraints = np.concatenate(
                [constraints, np.full((n_pruned, constraints.shape[1]), np.nan)], axis=0
            )
        region = self.n_startup_trials if self._use_trust_region(objectives) else None
        if objectives is not None:
            if self.trust_region:
                raise InvalidArgumentError(
                    "trust_region=True needs a single objective; this study has "
                    f"{objectives.shape[1]} (use trust_region=False)"
                )
            n = len(objectives)
            unit, self._objective_states, self._constraint_states = _core.bo_suggest_multi(
                space.core,
                history.x,
                # "auto" leaves several objectives as they are: LogEHVI measures the hypervolume
                # in the modelled units, and a warping per objective would distort it.
                objectives
                if self.output_warping == "auto"
                else np.column_stack([self._warp(history.x, c, seed) for c in objectives.T]),
                np.empty((n, 0)) if constraints is None else constraints,
                history.avoid(),
                len(numbers),
                seed,
                self.n_candidates,
                self.n_restarts,
                self.fit_max_points,
                self._objective_states,
                self._constraint_states,
                self.noisy,
            )
            return space.decode(unit)
        if constraints is not None:
            unit, state, self._constraint_states = _core.bo_suggest_constrained(
                space.core,
                x,
                self._warp(x, y, seed),
                constraints,
                avoid,
                len(numbers),
                seed,
                self.acquisition,
                self.beta,
                self.n_candidates,
                self.n_restarts,
                self.fit_max_points,
                self._state,
                self._constraint_states,
                self.noisy,
                region,
            )
        else:
            unit, state = _core.bo_suggest(
                space.core,
                x,
                self._warp(x, y, seed),
                avoid,
                len(numbers),
                seed,
                self.acquisition,
                self.beta,
                self.n_candidates,
                self.n_restarts,
                self.fit_max_points,
                self._state,
                self.noisy,
                region,
            )
        self._state = state
        if self._noise_dominated(state):
            return space.decode(self._initial_design(history, numbers))
        return space.decode(unit)

    def _noise_dominated(self, state: Sequence[float]) -> bool:
        """Whether a ``noisy`` GP's fit (``state``: log lengthscales, then the log signal and
        log noise variances) puts less than a third of the variation in the objective.

        Such a model has no direction to give: its posterior mean hardly moves from the prior,
        its variance is nearly as large at the trials as away from them, and the acquisition's
        maximum lands where the variance is largest, on the faces and corners of the box. On
        RL-like objectives in 11 dimensions (a run that learns or not by chance) the GP then put
        38-41% of its coordinates on a bound and chose worse configs than random search;
        with the design instead it was level with random search (``python benches/bench_bo.py
        noisy``, benches/README.md). The space-filling design goes on until the fit sees
        structure."""
        if not self.noisy:
            return False
        signal, noise = math.exp(state[-2]), math.exp(state[-1])
        return signal < NOISE_DOMINATED * (signal + noise)

    def _use_trust_region(self, objectives: NDArray[np.float64] | None) -> bool:
        """Whether this suggestion searches inside a trust region (see ``trust_region``)."""
        if self.trust_region is not None:
            return self.trust_region
        return objectives is None and not self.noisy

    def _warp(
        self, x: NDArray[np.float64], y: NDArray[np.float64], seed: int
    ) -> NDArray[np.float64]:
        """The values the GP models (minimised): ``y`` itself, its log warping, or
        (``"auto"``) whichever of the two the GP explains better."""
        if self.output_warping == "none" or len(y) == 0:
            return y
        gap = y - y.min()
        scale = float(np.median(gap))
        if not scale > 0.0:
            return y
        warped: NDArray[np.float64] = np.log1p(gap / scale)
        if self.output_warping == "log":
            return warped
        # The likelihood of the raw values under each model: the warped GP's density of
        # g(y) times g'(y) = 1 / (scale + gap) (a warped GP, Snelson et al., 2004).
        core, states = self.space.core, self._evidence_states
        plain_ev, states["none"] = _core.gp_log_evidence(
            core,
            x,
            y,
            np.zeros(len(y)),
            seed,
            self.fit_max_points,
            states.get("none"),
            self.noisy,
        )
        log_ev, states["log"] = _core.gp_log_evidence(
            core,
            x,
            warped,
            -np.log(scale + gap),
            seed,
            self.fit_max_points,
            states.get("log"),
            self.noisy,
        )
        return warped if log_ev > plain_ev else y

    def _initial_design(self, history: History, numbers: Sequence[int]) -> NDArray[np.float64]:
        """Sobol' point ``k`` for trial ``k``; where that point (after rounding to the space's
        levels) repeats a running, failed or already chosen one, the next of a fixed series of
        spare points that does not, so small discrete spaces are not probed twice."""
        assert self._sobol is not None
        core = self.space.core
        taken = {tuple(row) for row in core.decode(history.avoid()).tolist()}
        taken.update(tuple(row) for row in core.decode(history.x).tolist())
        chosen = []
        for k in numbers:
            first = self._sobol.points(k, 1)
            candidates = [first, self._sobol.points(_SPARE_BASE + k * _SPARES, _SPARES)]
            rows = np.concatenate(candidates, axis=0)
            values = core.decode(rows).tolist()
            pick = next((i for i, v in enumerate(values) if tuple(v) not in taken), 0)
            taken.add(tuple(values[pick]))
            chosen.append(rows[pick])
        return np.array(chosen, dtype=np.float64)

    @property
    def n_initial(self) -> int:
        """Deprecated name of :attr:`n_startup_trials`."""
        warnings.warn(
            "BayesianSampler.n_initial is deprecated; use n_startup_trials",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.n_startup_trials

    def options(self) -> dict[str, Any]:
        return {
            "acquisition": self.acquisition,
            "beta": self.beta,
            "n_startup_trials": self.n_startup_trials,
            "n_candidates": self.n_candidates,
            "n_restarts": self.n_restarts,
            "fit_max_points": self.fit_max_points,
            "noisy": self.noisy,
            "output_warping": self.output_warping,
            "learn_from_pruned": self.learn_from_pruned,
            "trust_region": self.trust_region,
        }


def _constant(values: NDArray[np.float64]) -> bool:
    """Whether every row of ``values`` (a vector or a matrix of columns) is the same."""
    return bool(len(values) and np.all(values == values[0]))
