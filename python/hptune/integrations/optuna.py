"""hptune's samplers inside Optuna: swap one line and keep the Optuna study, storage and dashboard.

>>> import optuna
>>> import hptune.integrations.optuna as hpo
>>> study = optuna.create_study(sampler=hpo.GPSampler(seed=0))
>>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=20)

:class:`GPSampler` runs hptune's Gaussian-process Bayesian optimisation and :class:`TPESampler`
its multivariate TPE, both in the Rust core. Each trial they read the study's trials from
Optuna (so any Optuna storage works, shared by many workers), keep them as hptune unit-cube
buffers that only grow, and ask the core for the next point:

- the parameters that every finished trial suggested with the same distribution (Optuna's
  intersection search space) are sampled jointly by the model; the others, and the first trial,
  fall back to ``independent_sampler`` (Optuna's ``RandomSampler`` with the same seed);
- COMPLETE trials are the observations (the sign flips when the study maximises); FAIL and
  PRUNED trials are points to avoid, not observations; other RUNNING trials are pending points,
  so parallel workers (``n_jobs``, several processes on one RDB storage) get different points;
- a trial's point depends only on the seed, the trial number and the trials before it, so the
  same seed gives the same trials.

Multi-objective studies are refused with a ValueError. Importing this module imports Optuna;
``import hptune`` alone does not.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from hptune._errors import InvalidArgumentError
from hptune._history import History
from hptune.samplers import BayesianSampler, Sampler
from hptune.samplers import TPESampler as _CoreTPESampler
from hptune.space import HyperparameterSpace, SearchSpace

try:
    import optuna
    from optuna.distributions import (
        BaseDistribution,
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )
    from optuna.samplers import BaseSampler
    from optuna.search_space import IntersectionSearchSpace
    from optuna.study import Study, StudyDirection
    from optuna.trial import FrozenTrial, TrialState
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "hptune.integrations.optuna needs Optuna: pip install 'hptune[optuna]'"
    ) from exc

__all__ = ["GPSampler", "TPESampler", "search_space_from_optuna"]

_logger = logging.getLogger("hptune.integrations.optuna")

_FINISHED_BAD = (TrialState.FAIL, TrialState.PRUNED)


def search_space_from_optuna(distributions: dict[str, BaseDistribution]) -> SearchSpace:
    """An hptune :class:`~hptune.SearchSpace` with the same values as Optuna's distributions.

    Float and int distributions keep their ``log`` and ``step``; categoricals keep their choices.
    A distribution with a single value has nothing to tune and is refused
    (:class:`~hptune.InvalidArgumentError`), as are unknown distribution types.
    """
    params: list[HyperparameterSpace] = []
    for name, dist in distributions.items():
        params.append(_param_from_distribution(name, dist))
    return SearchSpace(params)


def _param_from_distribution(name: str, dist: BaseDistribution) -> HyperparameterSpace:
    if isinstance(dist, FloatDistribution):
        # Optuna's float step is None for "continuous"; hptune uses None the same way.
        return HyperparameterSpace(
            name, "float", dist.low, dist.high, log_scale=dist.log, step=dist.step
        )
    if isinstance(dist, IntDistribution):
        step = dist.step if dist.step != 1 else None
        return HyperparameterSpace(name, "int", dist.low, dist.high, log_scale=dist.log, step=step)
    if isinstance(dist, CategoricalDistribution):
        return HyperparameterSpace(name, "categorical", choices=list(dist.choices))
    raise InvalidArgumentError(
        f"parameter {name!r}: unsupported Optuna distribution {type(dist).__name__}"
    )


class _Observed:
    """The trials of one relative search space, as hptune buffers grown one trial at a time.

    ``scan_from`` is the index (in the study's trial list, which is in number order) of the
    first trial not yet finished when last seen: everything before it is already in the
    history, so each call only looks at new and still-running trials.
    """

    __slots__ = ("history", "names", "pending", "scan_from", "sign", "space")

    def __init__(self, space: SearchSpace, sign: float) -> None:
        self.space = space
        self.names = space.names
        self.history = History(space)
        self.sign = sign
        self.scan_from = 0
        self.pending: set[int] = set()

    def _params(self, trial: FrozenTrial) -> dict[str, Any] | None:
        params = trial.params
        try:
            picked = {n: params[n] for n in self.names}
            self.space.params_to_row(picked)
        except (KeyError, InvalidArgumentError):
            # A trial that never sampled all of these parameters (it failed early, or the space
            # changed) or holds an enqueued value outside them says nothing about this space.
            return None
        return picked

    def update(self, trials: Sequence[FrozenTrial], current: int) -> None:
        history = self.history
        first_open: int | None = None
        for i in range(self.scan_from, len(trials)):
            trial = trials[i]
            state = trial.state
            if state == TrialState.COMPLETE:
                params = self._params(trial)
                self.pending.discard(trial.number)
                value = trial.value
                if params is None or value is None:
                    continue
                if math.isfinite(value):
                    history.add_complete(trial.number, params, self.sign * float(value))
                else:
                    # The core needs finite values; an infinite one is a point not to repeat.
                    history.add_failed(trial.number, params)
            elif state in _FINISHED_BAD:
                params = self._params(trial)
                self.pending.discard(trial.number)
                if params is not None:
                    history.add_failed(trial.number, params)
            else:
                # RUNNING or WAITING: look again next time.
                if first_open is None:
                    first_open = i
                if (
                    state == TrialState.RUNNING
                    and trial.number != current
                    and trial.number not in self.pending
                ):
                    params = self._params(trial)
                    if params is not None:
                        history.add_pending(trial.number, params)
                        self.pending.add(trial.number)
        self.scan_from = len(trials) if first_open is None else first_open


class _HptuneSampler(BaseSampler):
    """Shared adapter from Optuna's sampler interface to an hptune model-based sampler."""

    def __init__(
        self,
        *,
        seed: int | None,
        independent_sampler: BaseSampler | None,
        warn_independent_sampling: bool,
    ) -> None:
        # Without a seed, draw one here once (like an hptune study does), so the run is still
        # reproducible from ``sampler.seed``; 32 bits, so that it can be given back to any
        # Optuna sampler (NumPy's legacy seeding takes 0 .. 2**32 - 1).
        self.seed: int = secrets.randbits(32) if seed is None else int(seed)
        self._independent = independent_sampler or optuna.samplers.RandomSampler(
            seed=self.seed % 2**32
        )
        self._warn_independent = bool(warn_independent_sampling)
        self._intersection = IntersectionSearchSpace()
        self._lock = threading.Lock()
        # Keyed by (study name, search space): a sampler reused for another study starts over.
        self._observed: dict[tuple[str, tuple[Any, ...]], tuple[Sampler, _Observed]] = {}
        # GP hyperparameters carried through pickling, keyed by search space.
        self._warm: dict[tuple[Any, ...], list[float] | None] = {}

    def _make_core_sampler(self) -> Sampler:
        raise NotImplementedError

    # Optuna parallelises with threads sharing one sampler and pickles it for processes; the
    # Rust objects and the lock are rebuilt on demand rather than pickled.
    # The observations are re-read from the study; the GP's last fitted hyperparameters (plain
    # floats) travel along, because the next fit starts from them and so they shape the points.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_lock"] = None
        state["_observed"] = {}
        state["_intersection"] = IntersectionSearchSpace()
        state["_warm"] = {
            space_key: core._state
            for (_, space_key), (core, _) in self._observed.items()
            if isinstance(core, BayesianSampler)
        }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def reseed_rng(self) -> None:
        # Our own points depend on (seed, trial number) only, so copies in parallel workers
        # already differ by trial; only the independent sampler holds a mutable generator.
        self._independent.reseed_rng()

    def _refuse_multi_objective(self, study: Study) -> None:
        if len(study.directions) > 1:
            raise ValueError(
                f"hptune's {type(self).__name__} supports single-objective studies only; "
                f"this study has {len(study.directions)} objectives (directions="
                f"{[d.name.lower() for d in study.directions]})"
            )

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        self._refuse_multi_objective(study)
        with self._lock:
            space = self._intersection.calculate(study)
        return {name: dist for name, dist in space.items() if not dist.single()}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        space_key = tuple(search_space.items())
        key = (study.study_name, space_key)
        trials = study.get_trials(deepcopy=False)
        with self._lock:
            entry = self._observed.get(key)
            if entry is None:
                space = search_space_from_optuna(search_space)
                sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
                core = self._make_core_sampler()
                core.bind(space, self.seed)
                if isinstance(core, BayesianSampler):
                    core._state = self._warm.pop(space_key, None)
                entry = (core, _Observed(space, sign))
                # One cache entry per search-space signature; a changed space starts over from
                # the study's trials, which is rare (the intersection only shrinks).
                self._observed = {key: entry}
            core, observed = entry
            observed.update(trials, trial.number)
            params = core.suggest(observed.history, [trial.number])[0]
        return {name: _to_optuna(params[name], search_space[name]) for name in search_space}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        self._refuse_multi_objective(study)
        if self._warn_independent and trial.number > 0 and not param_distribution.single():
            _logger.warning(
                "trial %d: parameter %r is sampled by %s, not by %s, because it is not in "
                "every finished trial with the same distribution",
                trial.number,
                param_name,
                type(self._independent).__name__,
                type(self).__name__,
            )
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        try:
            self._refuse_multi_objective(study)
        except ValueError:
            # Optuna has created the trial before any sampler hook runs and leaves it RUNNING
            # when ask() raises: end it as FAIL, then refuse.
            study.tell(trial.number, state=TrialState.FAIL)
            raise
        self._independent.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._independent.after_trial(study, trial, state, values)


def _to_optuna(value: Any, dist: BaseDistribution) -> Any:
    # The core hands back numpy-free Python values already; ints stay ints, floats are clipped
    # to the bounds Optuna checks (the decode is exact up to rounding).
    if isinstance(dist, IntDistribution):
        return int(value)
    if isinstance(dist, FloatDistribution):
        return float(np.clip(float(value), dist.low, dist.high))
    return value


class GPSampler(_HptuneSampler):
    """hptune's Gaussian-process Bayesian optimisation as an Optuna sampler.

    A drop-in for ``optuna.samplers.GPSampler`` without torch: a Matern-5/2 GP with one
    lengthscale per parameter and log expected improvement, all in hptune's Rust core (see
    :class:`hptune.BayesianSampler`). The first ``n_startup_trials`` are scrambled Sobol'
    points (the very first trial comes from ``independent_sampler``).

    Args:
        seed: Makes the trials reproducible; drawn once when None.
        n_startup_trials: Completed trials before the GP is used (10).
        acquisition: ``"logei"`` (default), ``"ei"``, ``"pi"`` or ``"ucb"`` (with ``beta``).
        independent_sampler: Samples parameters outside the relative search space (Optuna's
            ``RandomSampler(seed=seed)`` by default).
        warn_independent_sampling: Log when a parameter falls back to ``independent_sampler``.
        **options: ``n_candidates``, ``n_restarts``, ``fit_max_points`` of
            :class:`hptune.BayesianSampler`.

    >>> study = optuna.create_study(sampler=GPSampler(seed=0), direction="maximize")
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_startup_trials: int = 10,
        acquisition: str = "logei",
        beta: float = 2.0,
        independent_sampler: BaseSampler | None = None,
        warn_independent_sampling: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(
            seed=seed,
            independent_sampler=independent_sampler,
            warn_independent_sampling=warn_independent_sampling,
        )
        self._options: dict[str, Any] = dict(
            n_startup_trials=n_startup_trials, acquisition=acquisition, beta=beta, **options
        )
        self._make_core_sampler()  # validate the options now, not at the first trial

    def _make_core_sampler(self) -> Sampler:
        try:
            return BayesianSampler(seed=self.seed, **self._options)
        except TypeError as exc:
            raise InvalidArgumentError(f"GPSampler: {exc}") from None


class TPESampler(_HptuneSampler):
    """hptune's multivariate TPE as an Optuna sampler.

    Parzen mixtures over whole configurations (see :class:`hptune.TPESampler`), in the Rust core;
    the first ``n_startup_trials`` completed trials are random.

    Args:
        seed: Makes the trials reproducible; drawn once when None.
        n_startup_trials: Completed trials before the model is used (10).
        independent_sampler: Samples parameters outside the relative search space (Optuna's
            ``RandomSampler(seed=seed)`` by default).
        warn_independent_sampling: Log when a parameter falls back to ``independent_sampler``.
        **options: ``n_candidates``, ``gamma``, ``max_good``, ``prior_weight`` of
            :class:`hptune.TPESampler`.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_startup_trials: int = 10,
        independent_sampler: BaseSampler | None = None,
        warn_independent_sampling: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(
            seed=seed,
            independent_sampler=independent_sampler,
            warn_independent_sampling=warn_independent_sampling,
        )
        self._options = dict(n_startup_trials=n_startup_trials, **options)
        self._make_core_sampler()

    def _make_core_sampler(self) -> Sampler:
        try:
            return _CoreTPESampler(seed=self.seed, **self._options)
        except TypeError as exc:
            raise InvalidArgumentError(f"TPESampler: {exc}") from None
