"""Study verbs from Optuna's API: ``trials_dataframe``, ``add_trial``, partial ``enqueue``.

The :class:`~hptune.study.Study` methods of the same names are thin wrappers around these.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hptune._define_by_run import DISTRIBUTIONS_KEY, _describe, _to_dict
from hptune._errors import InvalidArgumentError
from hptune._multi_objective import VALUES_KEY, first_of_values
from hptune.rng import derive_seed
from hptune.space import HyperparameterSpace
from hptune.trial import TrialRecord, TrialState, as_number

if TYPE_CHECKING:
    from hptune.study import Study

__all__ = ["add_trial", "check_enqueued", "queued_params", "trials_dataframe"]


# ----------------------------------------------------------------------------- trials_dataframe
def trials_dataframe(study: Study) -> Any:
    """Every trial as a row of a pandas DataFrame (see :meth:`Study.trials_dataframe`)."""
    try:
        pd = importlib.import_module("pandas")
    except ImportError:
        raise ImportError('trials_dataframe() needs pandas: pip install "hptune[pandas]"') from None
    records = study.trials
    names: dict[str, None] = dict.fromkeys(study.space.names)
    attrs: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r.params))
        attrs.update(dict.fromkeys(k for k in r.user_attrs if not k.startswith("hptune:")))
    columns: dict[str, list[Any]] = {"number": [r.number for r in records]}
    n_objectives = len(study.directions)
    if n_objectives == 1:
        columns["value"] = [r.value for r in records]
    else:
        vectors = [r.values for r in records]
        for i in range(n_objectives):
            columns[f"values_{i}"] = [None if v is None else v[i] for v in vectors]
    columns["state"] = [r.state.value for r in records]
    columns["duration"] = [r.duration for r in records]
    for n in names:
        columns[f"params_{n}"] = [r.params.get(n) for r in records]
    for a in attrs:
        columns[f"user_attrs_{a}"] = [r.user_attrs.get(a) for r in records]
    if any(r.constraints is not None for r in records):
        columns["constraints"] = [r.constraints for r in records]
    columns["error"] = [r.error for r in records]
    frame = pd.DataFrame(columns)
    for column in frame.columns:
        if column == "value" or column.startswith("values_"):
            frame[column] = frame[column].astype("float64")
    return frame


# ----------------------------------------------------------------------------- add_trial
def _check_params(
    study: Study,
    params: Mapping[str, Any],
    distributions: Mapping[str, HyperparameterSpace] | None,
    *,
    partial: bool,
) -> dict[str, HyperparameterSpace]:
    """Check ``params`` against the study's static space and the dynamic distributions; return
    the distributions of the dynamic names (for a finished trial's record)."""
    if not isinstance(params, Mapping):
        raise InvalidArgumentError(f"params must be a dict of name -> value, got {params!r}")
    space = study.space
    static = {k: v for k, v in params.items() if k in space}
    if len(static) == len(space):
        space.params_to_row(static)  # every value and every constraint
    elif not partial:
        missing = [n for n in space.names if n not in params]
        raise InvalidArgumentError(f"params are missing {missing}; expected {list(space.names)}")
    else:
        for k, v in static.items():
            if not space[k].contains(v):
                raise InvalidArgumentError(
                    f"parameter {k!r}: {v!r} is not an allowed value ({_describe(space[k])})"
                )
    if partial:
        return {}  # enqueued dynamic values are checked when the objective suggests them
    given = dict(distributions or {})
    for k, d in given.items():
        if not isinstance(d, HyperparameterSpace) or d.name != k:
            raise InvalidArgumentError(
                f"distributions[{k!r}] must be a HyperparameterSpace named {k!r}, got {d!r}"
            )
    out: dict[str, HyperparameterSpace] = {}
    for k, v in params.items():
        if k in space:
            continue
        dist = given.get(k) or study._dbr.distributions.get(k)
        if dist is None:
            raise InvalidArgumentError(
                f"parameter {k!r} is neither in the static search space "
                f"{list(space.names)} nor suggested by an earlier trial; give its distribution "
                "with distributions={name: HyperparameterSpace(...)}"
            )
        if not dist.contains(v):
            raise InvalidArgumentError(
                f"parameter {k!r}: {v!r} is not an allowed value ({_describe(dist)})"
            )
        out[k] = dist
    return out


def add_trial(
    study: Study,
    params: Mapping[str, Any],
    value: Any,
    state: TrialState | str,
    intermediate_values: Mapping[int, float] | None,
    user_attrs: Mapping[str, Any] | None,
    distributions: Mapping[str, HyperparameterSpace] | None,
) -> TrialRecord:
    """Record a finished trial (see :meth:`Study.add_trial`)."""
    st = TrialState.parse(state)
    if st is TrialState.RUNNING:
        raise InvalidArgumentError(
            "add_trial records a finished trial; state must be 'complete', 'failed' or 'pruned'"
        )
    dists = _check_params(study, params, distributions, partial=False)
    v: float | None = None
    attrs = dict(user_attrs or {})
    reserved = [k for k in attrs if k in (DISTRIBUTIONS_KEY, VALUES_KEY)]
    if reserved:
        raise InvalidArgumentError(f"user_attrs: the keys {reserved} are reserved")
    if st is TrialState.COMPLETE and len(study.directions) > 1:
        v = first_of_values(study.directions, attrs, value)
    elif st is TrialState.COMPLETE:
        v = as_number(value)
        if v is None or not math.isfinite(v):
            raise InvalidArgumentError(
                f"value of a complete trial must be a finite number, got {value!r}"
            )
    elif value is not None:
        raise InvalidArgumentError(f"a {st.value} trial has no value, got value={value!r}")
    steps: dict[int, float] = {}
    for step, x in dict(intermediate_values or {}).items():
        iv = as_number(x)
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise InvalidArgumentError(
                f"intermediate_values: steps must be non-negative ints, got {step!r}"
            )
        if iv is None or not math.isfinite(iv):
            raise InvalidArgumentError(
                f"intermediate_values: the value at step {step} must be a finite number, got {x!r}"
            )
        steps[step] = iv
    if dists:
        attrs[DISTRIBUTIONS_KEY] = {k: _to_dict(d) for k, d in dists.items()}
    stored = dict(params)
    now = time.time()
    number = study.storage.create_trial(study.name, now, stored)
    for k, d in dists.items():
        study._dbr.distributions.setdefault(k, d)
    mark = getattr(study.sampler, "mark_seen", None)
    if mark is not None:
        mark({k: stored[k] for k in study.space.names})
    record = TrialRecord(number, stored, st, v, steps, now, now, 0.0, None, attrs)
    return study._finish(study._constrained(record))


# ----------------------------------------------------------------------------- partial enqueue
def check_enqueued(study: Study, params: Mapping[str, Any]) -> dict[str, Any]:
    """The params to queue: static names checked (all, or those given), other names kept for
    the objective's ``trial.suggest_*`` calls."""
    _check_params(study, params, None, partial=True)
    return dict(params)


def queued_params(
    study: Study, queued: Mapping[str, Any], number: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The static params of queued trial ``number`` (missing ones drawn by the study's method)
    and the values queued for names outside the static space."""
    space = study.space
    fixed = {k: v for k, v in queued.items() if k not in space}
    given = {k: v for k, v in queued.items() if k in space}
    if len(given) == len(space):
        space.params_to_row(given)
        return {n: given[n] for n in space.names}, fixed
    sampler = study.sampler
    if sampler.remaining() is None:
        drawn = sampler.suggest(study.history, [number])[0]
    else:
        # A finite method (a grid) would give up one of its points: draw at random instead.
        drawn = space.sample_random(derive_seed(study.seed, "enqueue"), number, 1)[0]
    if space.constraints:
        # A drawn parameter bounded by a constraint follows the given values it depends on;
        # given values stay as they are (params_to_row below checks the constraints).
        draw = dict(space._unconstrain(drawn))
        draw.update(given)
        drawn = space.constrain([draw])[0]
    drawn.update(given)
    space.params_to_row(drawn)
    return {n: drawn[n] for n in space.names}, fixed
