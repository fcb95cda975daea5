"""Tuners: the one-call API (``Tuner(...).tune()``) over a :class:`~hptune.study.Study`."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hptune._checks import check_callbacks, check_flag, check_pruner
from hptune._constraints import ConstraintsFunc, check_constraints_func
from hptune._errors import AllTrialsFailedError, InvalidArgumentError
from hptune.samplers import GridSampler, Sampler, make_sampler
from hptune.space import SearchSpace, SearchSpaceLike
from hptune.storage import Storage
from hptune.study import Callback, Pruner, Study, create_study
from hptune.trial import HyperparameterConfig, TrialRecord, TrialState

__all__ = [
    "BayesianOptimizationTuner",
    "GridSearchTuner",
    "HyperparameterTuner",
    "MethodTuner",
    "RandomSearchTuner",
    "SobolSearchTuner",
    "TPETuner",
    "TuningResult",
]


@dataclass
class TuningResult:
    """What a tuning run found: the best config, and every trial with its state and error.

    ``trials`` is read from the study's storage on first access (a run of 100,000 trials does
    not build 100,000 records unless they are looked at).
    """

    best_config: HyperparameterConfig
    method: str
    maximize: bool
    interrupted: bool = False
    study: Study | None = field(default=None, repr=False, compare=False)
    metadata: dict[str, Any] = field(default_factory=dict)
    _trials: list[TrialRecord] | None = field(default=None, repr=False, compare=False)

    @property
    def trials(self) -> list[TrialRecord]:
        """Every trial in number order."""
        if self._trials is None:
            self._trials = self.study.trials if self.study is not None else []
        return self._trials

    @property
    def agent_name(self) -> str | None:
        """The agent a preset tuner tuned, if any."""
        value = self.metadata.get("agent_name")
        return None if value is None else str(value)

    @property
    def algorithm(self) -> str | None:
        """The preset (RL algorithm or ``"optimization_agent"``), if any."""
        value = self.metadata.get("algorithm")
        return None if value is None else str(value)

    @property
    def best_score(self) -> float:
        """Score of the best trial."""
        return self.best_config.score

    @property
    def best_params(self) -> dict[str, Any]:
        """Params of the best trial."""
        return self.best_config.params

    @property
    def history(self) -> list[TrialRecord]:
        """Every trial in order (the same list as ``trials``)."""
        return self.trials

    @property
    def failed_trials(self) -> list[TrialRecord]:
        """Trials that failed, each with its ``error`` text."""
        return [t for t in self.trials if t.state is TrialState.FAILED]

    @property
    def completed_trials(self) -> list[TrialRecord]:
        """Trials that returned a valid score."""
        return [t for t in self.trials if t.state is TrialState.COMPLETE]

    @property
    def n_trials(self) -> int:
        """Number of trials run."""
        return len(self.trials)

    def top(self, k: int) -> list[TrialRecord]:
        """The ``k`` best completed trials, best first."""
        done = self.completed_trials
        done.sort(key=lambda t: t.value if t.value is not None else 0.0, reverse=self.maximize)
        return done[:k]


def result_from_study(
    study: Study, method: str, records: list[TrialRecord] | None = None
) -> TuningResult:
    """A :class:`TuningResult` over ``records`` (default: every trial of the study).

    Raises :class:`AllTrialsFailedError` (carrying the first failure) when no trial completed.
    """
    if records is None and study._best_number is not None:
        best_record = study.best_trial
        assert best_record.value is not None
        return TuningResult(
            best_config=HyperparameterConfig(
                dict(best_record.params), best_record.value, best_record.number
            ),
            method=method,
            maximize=study.maximize,
            interrupted=study.interrupted,
            study=study,
        )
    trials = study.trials if records is None else records
    completed = [t for t in trials if t.state is TrialState.COMPLETE and t.value is not None]
    if not completed:
        failed = [t for t in trials if t.state is not TrialState.COMPLETE]
        first = failed[0] if failed else None
        reason = f"; first failure (trial {first.number}): {first.error}" if first else ""
        raise AllTrialsFailedError(
            f"no trial of {len(trials)} completed{reason}", first_failure=first
        )
    if any(t.feasible for t in completed) and not all(t.feasible for t in completed):
        completed = [t for t in completed if t.feasible]
    best = completed[0]
    for t in completed[1:]:
        assert t.value is not None
        assert best.value is not None
        if (t.value > best.value) if study.maximize else (t.value < best.value):
            best = t
    assert best.value is not None
    return TuningResult(
        best_config=HyperparameterConfig(dict(best.params), best.value, best.number),
        method=method,
        maximize=study.maximize,
        interrupted=study.interrupted,
        study=study,
        _trials=trials,
    )


class HyperparameterTuner(ABC):
    """Base of every tuner: a search space, an objective, a direction, a trial budget.

    Subclasses choose the search method (:meth:`make_sampler`). ``tune()`` runs a
    :class:`~hptune.study.Study` and returns a :class:`TuningResult`. A trial whose objective
    raises or returns something other than a finite number fails alone; ``tune()`` raises
    :class:`~hptune.AllTrialsFailedError` only when every trial failed. Ctrl-C stops tuning and
    returns what was done. ``constraints_func`` adds outcome constraints as in
    :func:`~hptune.create_study`.
    """

    method: str = "base"

    def __init__(
        self,
        search_space: SearchSpaceLike,
        objective_function: Callable[..., Any],
        maximize: bool = True,
        n_trials: int | None = 100,
        seed: int | None = None,
        *,
        storage: Storage | str | None = None,
        study_name: str | None = None,
        load_if_exists: bool = False,
        n_jobs: int = 1,
        executor: Any = None,
        pruner: Pruner | None = None,
        callbacks: Iterable[Callback] = (),
        timeout: float | None = None,
        trial_timeout: float | None = None,
        early_stopping_rounds: int | None = None,
        min_delta: float = 0.0,
        target_score: float | None = None,
        show_progress: bool | None = None,
        initial_configs: Iterable[dict[str, Any]] = (),
        constraints_func: ConstraintsFunc | None = None,
    ) -> None:
        if not callable(objective_function):
            raise InvalidArgumentError(
                f"objective_function must be callable, got {type(objective_function).__name__}"
            )
        if n_trials is not None and (
            isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 0
        ):
            raise InvalidArgumentError(f"n_trials must be an int >= 1 or None, got {n_trials!r}")
        check_pruner(pruner)
        self.search_space = SearchSpace(search_space)
        self.objective_function = objective_function
        self.maximize = check_flag("maximize", maximize)
        self.n_trials = n_trials
        self.seed = seed
        self.storage = storage
        self.study_name = study_name
        self.load_if_exists = check_flag("load_if_exists", load_if_exists)
        self.n_jobs = n_jobs
        self.executor = executor
        self.pruner = pruner
        self.callbacks = check_callbacks(callbacks)
        self.timeout = timeout
        self.trial_timeout = trial_timeout
        self.early_stopping_rounds = early_stopping_rounds
        self.min_delta = min_delta
        self.target_score = target_score
        self.show_progress = show_progress
        self.initial_configs = list(initial_configs)
        self.constraints_func = check_constraints_func(constraints_func)
        self.study: Study | None = None

    @abstractmethod
    def make_sampler(self) -> Sampler:
        """The sampler of this tuner's method."""

    def create_study(self) -> Study:
        """The study ``tune()`` runs (created on first use)."""
        if self.study is None:
            self.study = create_study(
                self.search_space,
                self.make_sampler(),
                maximize=self.maximize,
                seed=self.seed,
                storage=self.storage,
                study_name=self.study_name,
                load_if_exists=self.load_if_exists,
                pruner=self.pruner,
                constraints_func=self.constraints_func,
            )
            for params in self.initial_configs:
                self.study.enqueue(params)
        return self.study

    def tune(self) -> TuningResult:
        """Run the trials and return the result (see the class docstring)."""
        study = self.create_study()
        start = study.n_trials
        study.optimize(
            self.objective_function,
            n_trials=self.n_trials,
            timeout=self.timeout,
            n_jobs=self.n_jobs,
            executor=self.executor,
            callbacks=self.callbacks,
            show_progress=self.show_progress,
            early_stopping_rounds=self.early_stopping_rounds,
            min_delta=self.min_delta,
            target_score=self.target_score,
            trial_timeout=self.trial_timeout,
        )
        if study.interrupted and study._best_number is None:
            raise KeyboardInterrupt
        if study.n_trials == start and study._best_number is None:
            # Nothing ran (n_trials=0, say) and nothing completed before: no result to return.
            raise InvalidArgumentError(
                f"no trial ran (n_trials={self.n_trials!r}) and study {study.name!r} has no "
                "completed trial; n_trials must be >= 1"
            )
        # A continued stored study runs its stored method, which may differ from this tuner's.
        result = result_from_study(study, study.method)
        result.metadata["first_new_trial"] = start
        return result


def _method_refused(tuner: HyperparameterTuner, method: object) -> InvalidArgumentError:
    """A tuner whose class fixes the method does not take another one by name."""
    cls = type(tuner)
    return InvalidArgumentError(
        f"{cls.__name__} always runs method {cls.method!r} and takes no method= (got "
        f"{method!r}); use MethodTuner(..., method=...) to pick a method by name"
    )


class RandomSearchTuner(HyperparameterTuner):
    """Random search: independent uniform (log-uniform on log scale) draws.

    >>> from hptune import HyperparameterSpace, RandomSearchTuner
    >>> space = {"x": HyperparameterSpace("x", "float", -2.0, 2.0)}
    >>> result = RandomSearchTuner(space, lambda p: -p["x"] ** 2, n_trials=50, seed=0).tune()
    >>> abs(result.best_config.params["x"]) < 0.2
    True
    """

    method = "random"

    def __init__(
        self,
        search_space: SearchSpaceLike,
        objective_function: Callable[..., Any],
        maximize: bool = True,
        n_trials: int | None = 100,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if "method" in kwargs:
            raise _method_refused(self, kwargs["method"])
        super().__init__(search_space, objective_function, maximize, n_trials, seed, **kwargs)

    def make_sampler(self) -> Sampler:
        return make_sampler(self.method, seed=self.seed)


class SobolSearchTuner(HyperparameterTuner):
    """Quasi-random search with scrambled Sobol' points (better spread than random)."""

    method = "sobol"

    def __init__(
        self,
        search_space: SearchSpaceLike,
        objective_function: Callable[..., Any],
        maximize: bool = True,
        n_trials: int | None = 100,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if "method" in kwargs:
            raise _method_refused(self, kwargs["method"])
        super().__init__(search_space, objective_function, maximize, n_trials, seed, **kwargs)

    def make_sampler(self) -> Sampler:
        return make_sampler(self.method, seed=self.seed)


# Keyword arguments that belong to the tuner (and its study), not to the search method.
_TUNER_KEYWORDS = frozenset(
    name
    for name, p in inspect.signature(HyperparameterTuner.__init__).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY
)


class MethodTuner(HyperparameterTuner):
    """A tuner for any method by name (``"random"``, ``"sobol"``, ``"grid"``, ``"bayesian"``,
    ``"tpe"``). Keyword arguments that are not the tuner's own go to the method
    (``acquisition="ei"`` for ``"bayesian"``, say); ``method_options`` may hold them too.
    Its subclasses of one method (:class:`GridSearchTuner`, :class:`BayesianOptimizationTuner`,
    :class:`TPETuner`) refuse ``method=``.
    """

    def __init__(
        self,
        search_space: SearchSpaceLike,
        objective_function: Callable[..., Any],
        maximize: bool = True,
        n_trials: int | None = 100,
        seed: int | None = None,
        *,
        method: str | None = None,
        method_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if method is not None and type(self).method != HyperparameterTuner.method:
            raise _method_refused(self, method)
        tuner_kwargs = {k: v for k, v in kwargs.items() if k in _TUNER_KEYWORDS}
        options = {k: v for k, v in kwargs.items() if k not in _TUNER_KEYWORDS}
        options.update(method_options or {})
        super().__init__(search_space, objective_function, maximize, n_trials, seed, **tuner_kwargs)
        self.method = str(method if method is not None else type(self).method).lower()
        self.method_options = options
        self._sampler = make_sampler(self.method, seed=seed, **options)

    def make_sampler(self) -> Sampler:
        return self._sampler


class GridSearchTuner(MethodTuner):
    """Grid search; with ``n_trials=None`` (the default) the whole grid is run.

    ``resolution`` is the number of points per float dimension (and the cap for int ones);
    ``shuffle=True`` visits the grid in a seeded random order, useful with a trial budget.
    """

    method = "grid"

    def __init__(
        self,
        search_space: SearchSpaceLike,
        objective_function: Callable[..., Any],
        maximize: bool = True,
        n_trials: int | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(search_space, objective_function, maximize, n_trials, seed, **kwargs)

    @property
    def grid_size(self) -> int:
        """Number of grid points."""
        study = self.create_study()
        if not isinstance(study.sampler, GridSampler):
            raise InvalidArgumentError(
                f"study {study.name!r} is stored with method {study.method!r}, not a grid"
            )
        return study.sampler.grid.size


class BayesianOptimizationTuner(MethodTuner):
    """Bayesian optimisation with a Gaussian process (see :class:`~hptune.BayesianSampler`).

    Method options: ``acquisition`` (``"logei"``, ``"ei"``, ``"pi"``, ``"ucb"``), ``beta`` (for
    UCB), ``n_startup_trials`` Sobol' points before the model (10; ``n_initial`` is its
    deprecated name), ``n_candidates``, ``n_restarts``, ``fit_max_points``.
    """

    method = "bayesian"


class TPETuner(MethodTuner):
    """Multivariate TPE (see :class:`~hptune.TPESampler`).

    Method options: ``n_candidates`` (24), ``n_startup_trials`` (10), ``gamma`` (0.1),
    ``max_good`` (25), ``prior_weight`` (1.0).
    """

    method = "tpe"
