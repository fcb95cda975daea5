"""Define-by-run: parameters an objective suggests while it runs (``trial.suggest_float`` ...).

A study may have a static search space, suggested before the objective starts, a dynamic one
that the objective defines as it goes, or both. A name of the static space keeps its static
value; any other name is *dynamic*. The study remembers each dynamic name's distribution (a
:class:`~hptune.space.HyperparameterSpace`) as first suggested, and every trial stores the
distributions of its dynamic params with its record, so a reopened study knows them again.

How a dynamic value is drawn depends on the study's method:

- ``random``, ``sobol``, ``grid`` (and custom samplers): an independent uniform draw from the
  trial's own stream (seeded by the study seed, the parameter name and the trial number), so the
  same seed gives the same trials.
- ``tpe`` and ``bayesian``: names are grouped by co-occurrence over the completed trials (two
  names share a group when every completed trial has both or neither). When a trial first
  suggests a name, the method's model is fitted on the name's group, over the completed trials
  that have the group, and samples the whole group at once; the other members' values wait in
  the trial until it suggests them. A name suggested with a distribution other than its first
  one is drawn independently.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, ClassVar

from hptune._distributions import (
    categorical_distribution,
    float_distribution,
    int_distribution,
)
from hptune._errors import InvalidArgumentError
from hptune._history import History
from hptune.rng import derive_seed
from hptune.samplers import METHODS, Sampler, make_sampler
from hptune.space import HyperparameterSpace, SearchSpace, SearchSpaceLike
from hptune.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hptune.study import Study
    from hptune.trial import Trial

__all__ = [
    "DISTRIBUTIONS_KEY",
    "DefineByRun",
    "EmptySpace",
    "StaticlessSampler",
    "categorical_distribution",
    "float_distribution",
    "int_distribution",
    "static_space",
]

#: The user attribute under which a trial stores the distributions of its dynamic params.
DISTRIBUTIONS_KEY = "hptune:distributions"


class EmptySpace(SearchSpace):
    """The static space of a pure define-by-run study: no parameter, nothing to encode."""

    __slots__ = ()

    def __init__(self) -> None:  # no super().__init__: the core has no zero-dimensional space
        self.params = ()
        self.names = ()
        self._index = {}
        self.constraints = ()
        self._choices = ()

    @property
    def core(self) -> Any:
        raise InvalidArgumentError(
            "this study has no static search space; its params are all defined by run"
        )

    def __repr__(self) -> str:
        return "SearchSpace([])"


def static_space(search_space: SearchSpaceLike | None) -> SearchSpace:
    """The static space of a new study; None or an empty dict / list gives an
    :class:`EmptySpace` (a pure define-by-run study)."""
    if search_space is None:
        return EmptySpace()
    if isinstance(search_space, (dict, list, tuple)) and not search_space:
        return EmptySpace()
    return SearchSpace(search_space)


class StaticlessSampler(Sampler):
    """Stands in for a study's sampler when the static space is empty: every trial starts with
    no params, and the wrapped method draws the dynamic ones (see :class:`DefineByRun`)."""

    name: ClassVar[str] = "define-by-run"

    def __init__(self, inner: Sampler) -> None:
        super().__init__(seed=None)
        self.inner = inner

    def suggest(self, history: History | None, numbers: Sequence[int]) -> list[dict[str, Any]]:
        return [{} for _ in numbers]

    def options(self) -> dict[str, Any]:
        return self.inner.options()


def _describe(d: HyperparameterSpace) -> str:
    if d.param_type == "categorical":
        return f"categorical with choices {list(d.choices or ())!r}"
    text = f"{d.param_type} in [{d.min_value!r}, {d.max_value!r}]"
    if d.log_scale:
        text += " (log)"
    if d.step is not None:
        text += f" with step {d.step!r}"
    return text


def _to_dict(d: HyperparameterSpace) -> dict[str, Any]:
    out = asdict(d)
    del out["name"], out["default"]
    if out.get("choices") is not None:
        out["choices"] = list(out["choices"])
    return out


def _from_dict(name: str, d: Any) -> HyperparameterSpace | None:
    try:
        return HyperparameterSpace(name=name, **dict(d))
    except (TypeError, ValueError):
        return None


def distributions_of(record: TrialRecord) -> dict[str, HyperparameterSpace]:
    """The distributions of a finished trial's dynamic params, as stored with it."""
    stored = record.user_attrs.get(DISTRIBUTIONS_KEY)
    if not isinstance(stored, dict):
        return {}
    out = {}
    for name, d in stored.items():
        dist = _from_dict(name, d)
        if dist is not None:
            out[name] = dist
    return out


# ----------------------------------------------------------------------------- the study's part
class DefineByRun:
    """The dynamic params of one study: first-seen distributions, observations, groups, and
    the per-group model samplers."""

    def __init__(self, study: Study, sampler: Sampler) -> None:
        self._study = study
        self._method = sampler.name if sampler.name in METHODS else None
        self._model = self._method is not None and sampler.uses_history
        self._options = sampler.options() if self._method is not None else {}
        self.distributions: dict[str, HyperparameterSpace] = {}
        # Dynamic params of finished trials: completed ones with their canonical value.
        # Per complete trial: dynamic params, canonical value, outcome constraints and (with
        # several objectives) every canonical objective.
        self._complete: dict[
            int, tuple[dict[str, Any], float, list[float] | None, list[float] | None]
        ] = {}
        # Per failed or pruned trial: dynamic params and, if pruned, its last report canonical.
        self._failed: dict[int, tuple[dict[str, Any], float | None]] = {}
        self._groups: list[frozenset[str]] = []
        self._samplers: dict[tuple[str, ...], Sampler] = {}
        self._single: dict[HyperparameterSpace, SearchSpace] = {}
        # Objectives in threads suggest while the study records finished trials.
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ observations
    def observe(self, record: TrialRecord) -> None:
        """Take note of a finished trial's dynamic params (and their distributions)."""
        static = self._study.space
        if len(record.params) <= len(static) or record.state is TrialState.RUNNING:
            return
        with self._lock:
            self._observe(record)

    def _observe(self, record: TrialRecord) -> None:
        static = self._study.space
        for name, dist in distributions_of(record).items():
            self.distributions.setdefault(name, dist)
        dynamic = {
            k: v
            for k, v in record.params.items()
            if k not in static and k in self.distributions and self.distributions[k].contains(v)
        }
        if not dynamic:
            return
        if record.state is TrialState.COMPLETE and record.value is not None:
            study = self._study
            objectives = None
            if len(study.directions) > 1 and record.values is not None:
                objectives = [v * s for v, s in zip(record.values, study._signs, strict=True)]
            self._complete[record.number] = (
                dynamic,
                study._sign * record.value,
                record.constraints,
                objectives,
            )
            self._refine(frozenset(dynamic))
        else:
            self._failed[record.number] = (dynamic, self._study._pruned_at(record))

    def _refine(self, names: frozenset[str]) -> None:
        """Split the groups so that each holds names that every completed trial has all of or
        none of."""
        groups: list[frozenset[str]] = []
        for g in self._groups:
            for part in (g & names, g - names):
                if part:
                    groups.append(part)
        rest = names.difference(*self._groups) if self._groups else names
        if rest:
            groups.append(frozenset(rest))
        self._groups = groups

    def group_of(self, name: str) -> tuple[str, ...]:
        """The names that always occur with ``name`` in completed trials (sorted)."""
        for g in self._groups:
            if name in g:
                return tuple(sorted(g))
        return (name,)

    # ------------------------------------------------------------------ suggestions
    def suggest(
        self, trial: Trial, dist: HyperparameterSpace | None, name: str, single: Any
    ) -> Any:
        """The value of ``name`` in ``trial`` (``dist`` None: the single value ``single``)."""
        with self._lock:
            return self._suggest(trial, dist, name, single)

    def _suggest(
        self, trial: Trial, dist: HyperparameterSpace | None, name: str, single: Any
    ) -> Any:
        static = self._study.space
        if name in static:
            return self._static_value(trial, name, dist, single)
        if name in trial.params:
            return self._repeated(trial, name, dist, single)
        if dist is None:
            trial.params[name] = single
            return single
        first = self.distributions.setdefault(name, dist)
        value = trial._fixed.get(name, _MISSING)
        if value is not _MISSING and not dist.contains(value):
            raise InvalidArgumentError(
                f"parameter {name!r}: the enqueued value {value!r} is not in the suggested "
                f"distribution ({_describe(dist)})"
            )
        if value is _MISSING and first == dist:
            value = trial._joint.pop(name, _MISSING)
            if value is _MISSING and self._model:
                value = self._sample_group(trial, name)
        if value is _MISSING:
            value = self._independent(trial.number, dist)
        trial.params[name] = value
        stored = trial.user_attrs.setdefault(DISTRIBUTIONS_KEY, {})
        stored[name] = _to_dict(dist)
        return value

    def _static_value(
        self, trial: Trial, name: str, dist: HyperparameterSpace | None, single: Any
    ) -> Any:
        p = self._study.space[name]
        value = trial.params[name]
        if dist is None:
            ok = p.param_type != "categorical" and value == single
            wanted = f"the single value {single!r}"
        else:
            ok = p.param_type == dist.param_type and dist.contains(value)
            wanted = _describe(dist)
        if not ok:
            raise InvalidArgumentError(
                f"parameter {name!r} is in the static search space as {_describe(p)}; its value "
                f"{value!r} does not fit the suggested {wanted}"
            )
        return value

    def _repeated(
        self, trial: Trial, name: str, dist: HyperparameterSpace | None, single: Any
    ) -> Any:
        value = trial.params[name]
        first = self.distributions.get(name)
        ok = value == single if dist is None else dist.contains(value)
        if dist is not None and first is not None and first.param_type != dist.param_type:
            ok = False
        if not ok:
            wanted = f"the single value {single!r}" if dist is None else _describe(dist)
            raise InvalidArgumentError(
                f"parameter {name!r} was already suggested in trial {trial.number} with value "
                f"{value!r}, which does not fit {wanted}"
            )
        return value

    def _independent(self, number: int, dist: HyperparameterSpace) -> Any:
        try:
            space = self._single.get(dist)
        except TypeError:  # unhashable choices: build the space every time
            space = SearchSpace([dist])
        if space is None:
            space = self._single[dist] = SearchSpace([dist])
        seed = derive_seed(self._study.seed, f"define-by-run:{dist.name}")
        return space.sample_random(seed, number, 1)[0][dist.name]

    def _sample_group(self, trial: Trial, name: str) -> Any:
        """Fit the method on ``name``'s group and draw the group; keep the other values."""
        names = tuple(n for n in self.group_of(name) if n == name or n not in trial.params)
        space = SearchSpace([self.distributions[n] for n in names])
        history = History(space)
        for number, (params, y, cons, objectives) in self._complete.items():
            if all(n in params for n in names):
                history.add_complete(number, {n: params[n] for n in names}, y, cons, objectives)
        for number, (params, pruned_at) in self._failed.items():
            if all(n in params for n in names):
                history.add_failed(number, {n: params[n] for n in names}, pruned_at)
        for number, other in list(self._study._running.items()):
            if number != trial.number and all(
                n in other.params and space[n].contains(other.params[n]) for n in names
            ):
                history.add_pending(number, {n: other.params[n] for n in names})
        sampler = self._sampler(names, space)
        drawn = sampler.suggest(history, [trial.number])[0]
        for n in names:
            if n != name:
                trial._joint[n] = drawn[n]
        return drawn[name]

    def _sampler(self, names: tuple[str, ...], space: SearchSpace) -> Sampler:
        assert self._method is not None
        sampler = self._samplers.get(names)
        seed = derive_seed(self._study.seed, "define-by-run:" + ",".join(names))
        if sampler is None:
            sampler = make_sampler(self._method, seed=seed, **self._options)
            sampler.bind(space, seed)
            self._samplers[names] = sampler
        elif self._method == "tpe":
            # TPE keeps state between suggestions of one study; a group's history is rebuilt
            # for every draw, so start from a fresh state.
            sampler.bind(space, seed)
        return sampler


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
