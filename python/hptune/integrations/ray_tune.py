"""hptune's search methods and pruners in Ray Tune.

>>> from ray import tune
>>> from hptune.integrations.ray_tune import HptuneSearch
>>> tuner = tune.Tuner(
...     trainable,
...     param_space={"lr": tune.loguniform(1e-4, 1e-1), "layers": tune.randint(1, 5)},
...     tune_config=tune.TuneConfig(
...         search_alg=HptuneSearch(method="bayesian", seed=0),
...         metric="loss", mode="min", num_samples=30, max_concurrent_trials=2,
...         reuse_actors=True,  # keep trial actors between configs: far less start-up time
...     ),
... )

:class:`HptuneSearch` is a Ray Tune ``Searcher``: Ray asks it for one config per trial and
tells it each trial's end; the observations live in hptune's unit-cube buffers and the next
point comes from the Rust core. While several trials run, their points are passed as pending
points, so concurrent suggestions differ. Failed trials (and trials an
:class:`HptunePruningScheduler` given ``searcher=`` stopped) are avoided, not learned from.

:class:`HptunePruningScheduler` is a Ray Tune scheduler that stops trials by an hptune pruner's
rule (``prune(study, trial) -> bool``), reading the trials' reported metrics.

Not supported: ``PopulationBasedTraining`` and ``PB2`` refuse every search algorithm, and
``HyperBandForBOHB`` works only with ``TuneBOHB``; use them without this searcher. Importing
this module imports Ray; ``import hptune`` alone does not.
"""

from __future__ import annotations

import math
import pickle
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, cast

from hptune._errors import InvalidArgumentError
from hptune._history import History
from hptune.pruners import MedianPruner
from hptune.samplers import BayesianSampler, Sampler, make_sampler, stored_options
from hptune.space import HyperparameterSpace, SearchSpace
from hptune.storage import InMemoryStorage
from hptune.storage._base import StudyMeta
from hptune.trial import TrialRecord, TrialState

try:
    from ray.air.constants import TRAINING_ITERATION
    from ray.tune.result import DEFAULT_METRIC
    from ray.tune.schedulers import FIFOScheduler, TrialScheduler
    from ray.tune.search import Searcher
    from ray.tune.search.sample import (
        Categorical,
        Domain,
        Float,
        Integer,
        LogUniform,
        Quantized,
        Uniform,
    )
    from ray.tune.search.variant_generator import parse_spec_vars
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "hptune.integrations.ray_tune needs Ray Tune: pip install 'hptune[ray-tune]'"
    ) from exc

__all__ = ["METHODS", "HptunePruningScheduler", "HptuneSearch", "search_space_from_ray"]

METHODS = ("bayesian", "tpe", "random", "sobol")

# Nested param_space dicts are flattened with this separator, as Ray's own searchers do.
_SEP = "/"


def flatten_dict(nested: Mapping[str, Any], prevent_delimiter: bool = True) -> dict[str, Any]:
    """``{"a": {"b": 1}}`` to ``{"a/b": 1}`` (Ray's helper is private, so a small copy)."""
    out: dict[str, Any] = {}
    for key, value in nested.items():
        if prevent_delimiter and _SEP in str(key):
            raise InvalidArgumentError(f"config key {key!r} must not contain {_SEP!r}")
        if isinstance(value, Mapping) and value:
            for sub, v in flatten_dict(value, prevent_delimiter).items():
                out[f"{key}{_SEP}{sub}"] = v
        else:
            out[str(key)] = value
    return out


def unflatten_dict(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a/b": 1}`` back to ``{"a": {"b": 1}}``."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(_SEP)
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


# ------------------------------------------------------------------------ search spaces
def search_space_from_ray(param_space: Mapping[str, Any]) -> SearchSpace:
    """An hptune :class:`~hptune.SearchSpace` from a Ray Tune ``param_space``.

    ``tune.uniform``, ``loguniform``, ``quniform``, ``randint``, ``lograndint``, ``qrandint``
    and ``choice`` convert (nested dicts become names joined by ``"/"``); constants are left to
    Ray, which merges them into every config. ``grid_search``, ``sample_from``, ``randn`` and
    quantised log-uniform have no hptune equivalent and raise
    :class:`~hptune.InvalidArgumentError`.
    """
    _, _, grid_vars = parse_spec_vars(dict(param_space))
    if grid_vars:
        raise InvalidArgumentError(
            "HptuneSearch cannot take tune.grid_search; use hptune's grid method or Ray's "
            "BasicVariantGenerator instead"
        )
    flat = flatten_dict(dict(param_space), prevent_delimiter=True)
    _, domain_vars, _ = parse_spec_vars(flat)
    params = [_param_from_domain(_SEP.join(path), domain) for path, domain in domain_vars]
    if not params:
        raise InvalidArgumentError("the Ray Tune param_space has no tune.* domain to search")
    return SearchSpace(params)


def _param_from_domain(name: str, domain: Domain) -> HyperparameterSpace:
    sampler = cast(Any, domain).get_sampler()  # Ray's Domain is untyped
    step: float | None = None
    if isinstance(sampler, Quantized):
        step = sampler.q
        sampler = sampler.sampler
    log = isinstance(sampler, LogUniform)
    if not (log or isinstance(sampler, Uniform)):
        raise InvalidArgumentError(
            f"parameter {name!r}: Ray Tune's {type(sampler).__name__} sampling has no hptune "
            "equivalent (use uniform, log-uniform, quantised uniform or choice)"
        )
    if isinstance(domain, Categorical):
        return HyperparameterSpace(name, "categorical", choices=list(domain.categories))
    if log and step is not None:
        raise InvalidArgumentError(
            f"parameter {name!r}: quantised log-uniform sampling is not supported"
        )
    if isinstance(domain, Float):
        return HyperparameterSpace(
            name, "float", domain.lower, domain.upper, log_scale=log, step=step
        )
    if isinstance(domain, Integer):
        # Ray's randint/lograndint exclude the upper bound; qrandint includes it.
        high = domain.upper if step is not None else domain.upper - 1
        int_step = int(step) if step is not None and step != 1 else None
        return HyperparameterSpace(name, "int", domain.lower, high, log_scale=log, step=int_step)
    raise InvalidArgumentError(
        f"parameter {name!r}: unsupported Ray Tune domain {type(domain).__name__}"
    )


def _as_space(space: Any) -> SearchSpace:
    if isinstance(space, SearchSpace):
        return space
    if isinstance(space, Mapping):
        values = list(space.values())
        if values and all(isinstance(v, HyperparameterSpace) for v in values):
            return SearchSpace(space)
        return search_space_from_ray(space)
    return SearchSpace(space)


def _check_mode(mode: str | None) -> str | None:
    if mode is not None and mode not in ("min", "max"):
        raise InvalidArgumentError(f"mode must be 'min' or 'max', got {mode!r}")
    return mode


def _finite(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


# ------------------------------------------------------------------------ the searcher
class HptuneSearch(Searcher):
    """A Ray Tune searcher running one of hptune's methods.

    Args:
        space: An hptune space (dict of ``HyperparameterSpace``, a list of them, or a
            ``SearchSpace``) or a Ray Tune param_space (``tune.uniform`` ...). When None, the
            ``param_space`` given to ``tune.Tuner`` is converted (:func:`search_space_from_ray`).
        metric, mode: The reported metric and ``"min"`` / ``"max"``; may instead come from
            ``tune.TuneConfig``.
        method: ``"bayesian"`` (GP, default), ``"tpe"``, ``"random"`` or ``"sobol"``.
        seed: Same seed, same trials (for the same sequence of results); drawn once when None.
        points_to_evaluate: Configs to run first (e.g. the current defaults).
        **method_options: Options of the method's hptune sampler (``n_startup_trials``,
            ``acquisition``, ``gamma`` ...).

    Trials are numbered in the order Ray asks for them; a trial's point depends on the seed,
    its number and the results told before it. The searcher pickles (Ray checkpoints it with
    :meth:`save` and resumes with :meth:`restore`): its state is the settings and the
    observations as plain Python values, and the Rust-side objects are rebuilt on demand.
    """

    def __init__(
        self,
        space: Any = None,
        metric: str | None = None,
        mode: str | None = None,
        *,
        method: str = "bayesian",
        seed: int | None = None,
        points_to_evaluate: Iterable[Mapping[str, Any]] | None = None,
        **method_options: Any,
    ) -> None:
        if isinstance(metric, list) or isinstance(mode, list):
            raise InvalidArgumentError("HptuneSearch optimises one metric; got a list")
        super().__init__(metric=metric, mode=_check_mode(mode))
        method = str(method).lower()
        if method not in METHODS:
            raise InvalidArgumentError(
                f"unknown method {method!r}; allowed: {', '.join(repr(m) for m in METHODS)}"
            )
        self._method = method
        self._seed: int = secrets.randbits(63) if seed is None else int(seed)
        self._options = dict(method_options)
        make_sampler(method, self._seed, **self._options)  # validate options now
        self._params: tuple[HyperparameterSpace, ...] | None = None
        self._queued: list[dict[str, Any]] = []
        self._pending_points = [dict(p) for p in points_to_evaluate or ()]
        # The observation history, as plain values (what save/restore and pickling keep):
        self._next_number = 0
        self._live: dict[str, tuple[int, dict[str, Any]]] = {}
        self._finished: list[tuple[int, dict[str, Any], str, float | None]] = []
        self._intermediate: dict[str, dict[int, float]] = {}
        self._pruned_ids: set[str] = set()
        self._done_ids: set[str] = set()
        self._gp_warm: list[float] | None = None
        self._model: tuple[SearchSpace, Sampler, History | None] | None = None
        if space is not None:
            self._set_space(_as_space(space))

    # ---------------------------------------------------------------- settings
    def _set_space(self, space: SearchSpace) -> None:
        self._params = space.params
        self._model = None
        for point in self._pending_points:
            flat = flatten_dict(dict(point), prevent_delimiter=True)
            space.params_to_row(flat)  # a bad warm-start point fails here, not mid-run
            self._queued.append({n: flat[n] for n in space.names})
        self._pending_points = []

    @property
    def search_space(self) -> SearchSpace | None:
        """The hptune space searched (None until the Tuner's param_space has been given)."""
        return None if self._params is None else self._model_parts()[0]

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        if self._params is not None and config:
            # Ray's convention: a searcher built with its own space refuses another one.
            if self._metric is None and metric:
                self._metric = metric
            if self._mode is None and mode:
                self._mode = _check_mode(mode)
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = _check_mode(mode)
        if self._params is None:
            self._set_space(search_space_from_ray(config))
        return True

    def _require_ready(self) -> None:
        if self._params is None:
            raise RuntimeError(
                "HptuneSearch has no search space: pass `space=` or a param_space to tune.Tuner"
            )
        if self._metric is None and self._mode is not None:
            self._metric = DEFAULT_METRIC
        if not self._metric or not self._mode:
            # Ray hands TuneConfig's metric and mode to a searcher only together with a
            # non-empty param_space, so a searcher holding its own space must be given them.
            raise RuntimeError(
                "HptuneSearch needs `metric` and `mode`: pass them to HptuneSearch (those of "
                "tune.TuneConfig reach it only when the space is the Tuner's param_space)"
            )

    # ---------------------------------------------------------------- model (rebuilt lazily)
    def _model_parts(self) -> tuple[SearchSpace, Sampler, History | None]:
        if self._model is None:
            assert self._params is not None
            space = SearchSpace(self._params)
            sampler = make_sampler(self._method, self._seed, **self._options)
            sampler.bind(space, self._seed)
            if isinstance(sampler, BayesianSampler):
                sampler._state = self._gp_warm
            history = History(space) if sampler.uses_history else None
            if history is not None:
                sign = self._sign()
                for number, params, state, value in self._finished:
                    if state == "complete" and value is not None:
                        history.add_complete(number, params, sign * value)
                    else:
                        history.add_failed(number, params)
                for number, params in self._live.values():
                    history.add_pending(number, params)
            self._model = (space, sampler, history)
        return self._model

    def _sign(self) -> float:
        return -1.0 if self._mode == "max" else 1.0

    # ---------------------------------------------------------------- Ray's calls
    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        self._require_ready()
        if trial_id in self._live:
            return unflatten_dict(dict(self._live[trial_id][1]))
        _, sampler, history = self._model_parts()
        number = self._next_number
        if self._queued:
            params = self._queued.pop(0)
        else:
            # These four methods never run out, so there is always one suggestion.
            params = sampler.suggest(history, [number])[0]
            if isinstance(sampler, BayesianSampler):
                self._gp_warm = sampler._state
        self._next_number += 1
        self._live[trial_id] = (number, params)
        if history is not None:
            # Pending: the next suggestions (other concurrent trials) move away from it.
            history.add_pending(number, params)
        return unflatten_dict(dict(params))

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        if trial_id not in self._live or not self._metric:
            return
        value = _finite(result.get(self._metric))
        step = result.get(TRAINING_ITERATION)
        if value is not None and isinstance(step, int):
            self._intermediate.setdefault(trial_id, {})[step] = value

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        entry = self._live.pop(trial_id, None)
        if entry is None:
            return  # unknown, or told twice
        number, params = entry
        value = _finite(result.get(self._metric)) if result and self._metric else None
        if error:
            state = "failed"
        elif trial_id in self._pruned_ids:
            state = "pruned"
        elif value is None:
            # Ended without a usable metric (stopped before reporting, NaN): avoid it.
            state = "failed"
        else:
            state = "complete"
        self._record(number, params, state, value if state == "complete" else None)
        self._done_ids.add(trial_id)

    def _record(self, number: int, params: dict[str, Any], state: str, value: float | None) -> None:
        self._finished.append((number, params, state, value))
        if self._model is not None:
            history = self._model[2]
            if history is None:
                return
            if state == "complete" and value is not None:
                history.add_complete(number, params, self._sign() * value)
            else:
                history.add_failed(number, params)

    def mark_pruned(self, trial_id: str) -> None:
        """Note that a scheduler stopped ``trial_id`` early: its last value is not a result.

        :class:`HptunePruningScheduler` calls this when given ``searcher=``.
        """
        self._pruned_ids.add(trial_id)

    def add_evaluated_point(
        self,
        parameters: dict[str, Any],
        value: float,
        error: bool = False,
        pruned: bool = False,
        intermediate_values: list[float] | None = None,
    ) -> None:
        """Tell the model about a config evaluated elsewhere (a warm start)."""
        self._require_ready()
        space = self._model_parts()[0]
        flat = flatten_dict(dict(parameters), prevent_delimiter=True)
        space.params_to_row(flat)
        params = {n: flat[n] for n in space.names}
        v = _finite(value)
        state = "failed" if error else "pruned" if pruned else "complete"
        if state == "complete" and v is None:
            state = "failed"
        number = self._next_number
        self._next_number += 1
        self._record(number, params, state, v if state == "complete" else None)

    # ---------------------------------------------------------------- results
    @property
    def trials(self) -> list[TrialRecord]:
        """Finished trials as hptune records, in the order they finished."""
        states = {
            "complete": TrialState.COMPLETE,
            "failed": TrialState.FAILED,
            "pruned": TrialState.PRUNED,
        }
        return [TrialRecord(n, p, states[s], v) for n, p, s, v in self._finished]

    # ---------------------------------------------------------------- checkpoints
    def get_state(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_model"] = None
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        # A checkpoint saved before an option was renamed (n_initial) restores silently.
        self._options = stored_options(self._method, self._options)
        self._model = None

    def __getstate__(self) -> dict[str, Any]:
        return self.get_state()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.set_state(state)

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.get_state(), f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            self.set_state(pickle.load(f))


# ------------------------------------------------------------------------ the scheduler
class _Pruner(Protocol):
    def prune(self, study: Any, trial: Any) -> bool: ...


class _StudyView:
    """What an hptune pruner reads of a study: a storage, a study name and the direction."""

    def __init__(self, storage: InMemoryStorage, name: str, maximize: bool) -> None:
        self.storage = storage
        self.name = name
        self.maximize = maximize


class _TrialView:
    __slots__ = ("intermediate_values", "number")

    def __init__(self, number: int) -> None:
        self.number = number
        self.intermediate_values: dict[int, float] = {}


class HptunePruningScheduler(FIFOScheduler):
    """A Ray Tune scheduler that stops trials by an hptune pruner's decisions.

    Each reported result (``metric`` at step ``result[time_attr]``, by default
    ``training_iteration``) is recorded in a small hptune storage of its own, and the pruner's
    ``prune(study, trial)`` decides, exactly as inside an hptune study; a pruned trial is
    stopped (``TrialScheduler.STOP``). Trials run in submission order otherwise (FIFO).

    Args:
        pruner: Any object with ``prune(study, trial) -> bool`` (``hptune.pruners``'s
            ``MedianPruner``, ``SuccessiveHalvingPruner``, ``HyperbandPruner`` ...); default
            ``MedianPruner()``.
        metric, mode: As for the searcher; may come from ``tune.TuneConfig``.
        time_attr: The result key used as the step (an int, increasing per trial).
        searcher: An :class:`HptuneSearch` to tell which trials were pruned, so their last
            value is avoided instead of learned as a final result.
    """

    def __init__(
        self,
        pruner: _Pruner | None = None,
        metric: str | None = None,
        mode: str | None = None,
        *,
        time_attr: str = TRAINING_ITERATION,
        searcher: HptuneSearch | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Ray's __init__ is unannotated
        self._pruner: _Pruner = pruner if pruner is not None else MedianPruner()
        if not callable(getattr(self._pruner, "prune", None)):
            raise InvalidArgumentError("pruner must have a prune(study, trial) method")
        self._metric = metric
        self._mode = _check_mode(mode)
        self._time_attr = time_attr
        self._searcher = searcher
        # Plain-value record of the trials, so the scheduler pickles; the storage the pruner
        # reads is rebuilt from it.
        self._numbers: dict[str, int] = {}
        self._reports: dict[str, dict[int, float]] = {}
        self._ended: dict[str, tuple[TrialState, float | None]] = {}
        self._view: tuple[_StudyView, dict[str, _TrialView]] | None = None
        self.pruned: list[str] = []

    @property
    def pruner(self) -> _Pruner:
        """The pruner whose decisions are applied."""
        return self._pruner

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        if (self._metric and metric) or (self._mode and mode):
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = _check_mode(mode)
        if self._metric is None and self._mode:
            self._metric = DEFAULT_METRIC
        self._view = None
        return True

    def _study(self) -> tuple[_StudyView, dict[str, _TrialView]]:
        if self._view is None:
            storage = InMemoryStorage()
            name = "ray-tune"
            storage.create_study(StudyMeta(name, self._mode == "max", [], "ray-tune"))
            study = _StudyView(storage, name, self._mode == "max")
            trials: dict[str, _TrialView] = {}
            for trial_id, number in sorted(self._numbers.items(), key=lambda kv: kv[1]):
                self._replay(study, trials, trial_id, number)
            self._view = (study, trials)
        return self._view

    def _replay(
        self, study: _StudyView, trials: dict[str, _TrialView], trial_id: str, number: int
    ) -> None:
        storage, name = study.storage, study.name
        created = storage.create_trial(name, time.time(), {})
        assert created == number
        view = _TrialView(number)
        for step, value in sorted(self._reports.get(trial_id, {}).items()):
            storage.report(name, number, step, value)
            view.intermediate_values[step] = value
        trials[trial_id] = view
        ended = self._ended.get(trial_id)
        if ended is not None:
            self._finish(study, view, *ended)

    @staticmethod
    def _finish(
        study: _StudyView, view: _TrialView, state: TrialState, value: float | None
    ) -> None:
        end = time.time()
        record = TrialRecord(
            view.number, {}, state, value, dict(view.intermediate_values), end, end, 0.0
        )
        study.storage.finish_trial(study.name, record)

    def on_trial_add(self, tune_controller: Any, trial: Any) -> None:
        if not self._metric or not self._mode:
            raise ValueError(
                "HptunePruningScheduler needs `metric` and `mode`: pass them to it or to "
                "tune.TuneConfig"
            )
        if trial.trial_id in self._numbers:
            return
        study, trials = self._study()
        number = len(self._numbers)
        self._numbers[trial.trial_id] = number
        self._replay(study, trials, trial.trial_id, number)

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> str:
        trial_id = trial.trial_id
        if trial_id not in self._numbers or trial_id in self._ended:
            return TrialScheduler.CONTINUE
        value = _finite(result.get(self._metric or ""))
        step = result.get(self._time_attr)
        if value is None or isinstance(step, bool) or not isinstance(step, int) or step < 0:
            return TrialScheduler.CONTINUE
        study, trials = self._study()
        view = trials[trial_id]
        self._reports.setdefault(trial_id, {})[step] = value
        study.storage.report(study.name, view.number, step, value)
        view.intermediate_values[step] = value
        if not self._pruner.prune(study, view):
            return TrialScheduler.CONTINUE
        self._end(trial_id, TrialState.PRUNED, None)
        self.pruned.append(trial_id)
        if self._searcher is not None:
            self._searcher.mark_pruned(trial_id)
        return TrialScheduler.STOP

    def _end(self, trial_id: str, state: TrialState, value: float | None) -> None:
        if trial_id not in self._numbers or trial_id in self._ended:
            return
        self._ended[trial_id] = (state, value)
        study, trials = self._study()
        self._finish(study, trials[trial_id], state, value)

    def on_trial_complete(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> None:
        value = _finite((result or {}).get(self._metric or ""))
        state = TrialState.COMPLETE if value is not None else TrialState.FAILED
        self._end(trial.trial_id, state, value)

    def on_trial_error(self, tune_controller: Any, trial: Any) -> None:
        self._end(trial.trial_id, TrialState.FAILED, None)

    def on_trial_remove(self, tune_controller: Any, trial: Any) -> None:
        self._end(trial.trial_id, TrialState.FAILED, None)

    def debug_string(self) -> str:
        return f"Using hptune pruning ({self._pruner!r}): {len(self.pruned)} trials pruned."

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_view"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._view = None

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.__getstate__(), f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            self.__setstate__(pickle.load(f))
