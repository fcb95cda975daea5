"""Multi-objective studies: directions, objective vectors, the Pareto front and hypervolume.

A study created with ``directions=[...]`` of two or more entries expects the objective to
return one number per direction. A complete trial keeps the whole vector under the user
attribute ``"hptune:values"`` (its ``value`` is the first objective, so the storages need no
new column); ``TrialRecord.values`` reads it back. Random search, TPE and the GP handle
several objectives: TPE as MOTPE, whose good / bad split comes from :func:`motpe_key`, the GP
by expected hypervolume improvement (LogEHVI, in the Rust core).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hptune._checks import check_flag
from hptune._errors import InvalidArgumentError
from hptune.trial import TrialRecord, TrialState, as_number

if TYPE_CHECKING:
    from hptune.samplers import Sampler
    from hptune.storage import StudyMeta
    from hptune.study import Study

__all__ = [
    "DEFAULT_MAXIMIZE",
    "VALUES_KEY",
    "check_method",
    "coerce_values",
    "directions_of",
    "first_of_values",
    "hypervolume",
    "motpe_key",
    "non_dominated",
    "pareto_front",
    "parse_directions",
    "resolve_directions",
]

#: The user attribute under which a complete multi-objective trial stores its values.
VALUES_KEY = "hptune:values"

_DIRECTIONS = ("minimize", "maximize")
#: Methods that handle several objectives.
MULTI_OBJECTIVE_METHODS = ("random", "tpe", "bayesian")


def parse_directions(directions: Any) -> list[str]:
    """``directions`` as a list of ``"minimize"`` / ``"maximize"`` (any case)."""
    if isinstance(directions, (str, bytes)) or not isinstance(directions, Sequence):
        raise InvalidArgumentError(
            f"directions must be a list of 'minimize' / 'maximize', got {directions!r}"
        )
    out = []
    for d in directions:
        name = d.lower() if isinstance(d, str) else None
        if name not in _DIRECTIONS:
            raise InvalidArgumentError(
                f"directions: unknown direction {d!r}; allowed: 'minimize', 'maximize'"
            )
        out.append(name)
    if not out:
        raise InvalidArgumentError("directions must not be empty")
    return out


class _DefaultMaximize:
    """``create_study``'s default for ``maximize`` (True), told apart from an explicit True so
    that ``maximize=`` and ``directions=`` given together can be refused."""

    def __repr__(self) -> str:
        return "True"


#: The default of ``create_study(maximize=...)``: True unless ``directions`` are given.
DEFAULT_MAXIMIZE: Any = _DefaultMaximize()


def resolve_directions(maximize: Any, directions: Any) -> tuple[bool, list[str]]:
    """``maximize`` for the study's record and one direction per objective, from
    :func:`~hptune.create_study`'s ``maximize`` (default True) or ``directions``."""
    if directions is None:
        flag = True if maximize is DEFAULT_MAXIMIZE else check_flag("maximize", maximize)
        return flag, ["maximize" if flag else "minimize"]
    if maximize is not DEFAULT_MAXIMIZE:
        raise InvalidArgumentError(
            f"give maximize= or directions=, not both (got maximize={maximize!r} and "
            f"directions={directions!r}); for one objective, maximize=True is "
            "directions=['maximize']"
        )
    dirs = parse_directions(directions)
    return dirs[0] == "maximize", dirs


def directions_of(meta: StudyMeta, maximize: bool) -> list[str]:
    """The directions of a stored study (one objective unless it stores several)."""
    stored = meta.user_attrs.get("directions")
    if isinstance(stored, list) and len(stored) > 1:
        return [str(d) for d in stored]
    return ["maximize" if maximize else "minimize"]


def check_method(directions: Sequence[str], sampler: Sampler) -> None:
    """Refuse methods that cannot handle several objectives yet."""
    # A study without a static space wraps its method's sampler (see hptune._define_by_run).
    sampler = getattr(sampler, "inner", sampler)
    if len(directions) > 1 and sampler.name not in MULTI_OBJECTIVE_METHODS:
        raise InvalidArgumentError(
            f"method {sampler.name!r} handles one objective; a study with {len(directions)} "
            f"directions needs method {', '.join(repr(m) for m in MULTI_OBJECTIVE_METHODS)}"
        )


def first_of_values(directions: Sequence[str], user_attrs: dict[str, Any], value: Any) -> float:
    """Check a multi-objective return value, keep it in ``user_attrs`` and return its first
    value (the trial's ``value``)."""
    values = coerce_values(value, len(directions))
    user_attrs[VALUES_KEY] = values
    return values[0]


def coerce_values(value: Any, n: int) -> list[float]:
    """The objective's return value as ``n`` finite floats, or InvalidArgumentError why not."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise InvalidArgumentError(
            f"objective returned {type(value).__name__} {value!r}; a study with {n} "
            f"directions needs a sequence of {n} numbers"
        )
    items = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
    if len(items) != n:
        raise InvalidArgumentError(
            f"objective returned {len(items)} values; the study has {n} directions"
        )
    out = []
    for x in items:
        v = as_number(x)
        if v is None or not math.isfinite(v):
            raise InvalidArgumentError(
                f"objective returned {value!r}; every value must be a finite number"
            )
        out.append(v)
    return out


def pareto_front(study: Study) -> list[TrialRecord]:
    """The complete trials that no other complete trial dominates, in number order; in a
    constrained study, among the feasible trials when there are any."""
    records = [r for r in study.trials if r.state is TrialState.COMPLETE]
    if any(r.feasible for r in records):
        records = [r for r in records if r.feasible]
    vectors = [r.values for r in records]
    keep = [i for i, v in enumerate(vectors) if v is not None and len(v) == len(study.directions)]
    if not keep:
        return []
    signs = np.array([-1.0 if d == "maximize" else 1.0 for d in study.directions])
    losses = np.array([vectors[i] for i in keep], dtype=np.float64) * signs
    mask = non_dominated(losses)
    return [records[keep[i]] for i in np.flatnonzero(mask)]


def non_dominated(losses: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Rows of ``n x m`` ``losses`` that no other row dominates (no worse everywhere, better
    somewhere); every objective minimised. ``O(n log n)`` for two objectives."""
    if losses.ndim == 2 and losses.shape[1] == 2:
        return _non_dominated_2d(losses)
    n = len(losses)
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        no_worse = np.all(losses <= losses[i], axis=1)
        better = np.any(losses < losses[i], axis=1)
        if np.any(no_worse & better):
            mask[i] = False
    return mask


def _non_dominated_2d(losses: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Two objectives by one sort: in (first, second) order a row is dominated exactly when an
    earlier row that is not identical to it has a second objective no larger."""
    n = len(losses)
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((losses[:, 1], losses[:, 0]))
    a, b = losses[order, 0], losses[order, 1]
    new_group = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    before = np.minimum.accumulate(np.r_[np.inf, b])  # before[k] = min(b[:k])
    mask = np.empty(n, dtype=bool)
    mask[order] = before[group_start] > b
    return mask


def hypervolume(points: ArrayLike, reference: ArrayLike) -> float:
    """The volume that ``points`` dominate up to ``reference``, all objectives minimised.

    ``points`` is ``n x d`` with ``d`` 2 or 3 (1 works too); ``reference`` has ``d`` entries.
    Points that are not below the reference in every objective add nothing. To measure a
    front with maximised objectives, negate those columns and the reference's entries.

    >>> hypervolume([[1.0, 2.0], [2.0, 1.0]], [3.0, 3.0])
    3.0
    """
    pts = np.asarray(points, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    if ref.ndim != 1 or not 1 <= ref.size <= 3:
        raise InvalidArgumentError(
            f"reference must be a point of 1, 2 or 3 objectives, got shape {ref.shape}"
        )
    d = ref.size
    if pts.size == 0:
        return 0.0
    if pts.ndim != 2 or pts.shape[1] != d:
        raise InvalidArgumentError(
            f"points must be an n x {d} array (one column per objective of the reference), "
            f"got shape {pts.shape}"
        )
    if not (np.all(np.isfinite(pts)) and np.all(np.isfinite(ref))):
        raise InvalidArgumentError("points and reference must be finite")
    pts = pts[np.all(pts < ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    if d == 1:
        return float(ref[0] - pts[:, 0].min())
    if d == 2:
        return _hv2(pts, ref)
    order = np.argsort(pts[:, 2], kind="stable")
    pts = pts[order]
    z_next = np.append(pts[1:, 2], ref[2])
    total = 0.0
    for i in range(len(pts)):
        depth = z_next[i] - pts[i, 2]
        if depth > 0.0:
            total += depth * _hv2(pts[: i + 1, :2], ref[:2])
    return float(total)


def _hv2(pts: NDArray[np.float64], ref: NDArray[np.float64]) -> float:
    """Two-objective hypervolume: sweep by the first objective, keeping the lowest second."""
    order = np.lexsort((pts[:, 1], pts[:, 0]))
    x, y = pts[order, 0], pts[order, 1]
    lowest_before = np.minimum.accumulate(np.concatenate(([ref[1]], y[:-1])))
    gain = np.clip(lowest_before - y, 0.0, None)
    return float(np.sum((ref[0] - x) * gain))


def motpe_key(losses: NDArray[np.float64], n_good: int) -> NDArray[np.float64]:
    """Values to rank ``n x m`` minimised ``losses`` by for MOTPE's good / bad split.

    Nondominated sorting peels fronts until ``n_good`` rows are covered: rows of front ``k``
    get keys in ``[k, k + 1)``, so every front before the one that crosses the ``n_good``
    boundary is good as a whole. Inside that boundary front the rows are ordered by their
    exclusive hypervolume contribution, largest first (the reference point lies a tenth of the
    front's spread beyond its worst value in each objective; a greedy choice in the spirit of
    hypervolume subset selection), so the good group keeps the front's extremes and its best
    spread. Rows past the boundary front all get the same key (the split does not order them).
    Fronts of more than 3 objectives break ties by the sum of normalised losses instead.
    """
    n = len(losses)
    key = np.full(n, np.inf)
    if n == 0:
        return key
    remaining = np.arange(n)
    covered = 0
    rank = 0
    while remaining.size and covered < max(n_good, 1):
        front = remaining[non_dominated(losses[remaining])]
        if covered + front.size > n_good:
            order = _by_contribution(losses[front])
            key[front[order]] = rank + np.arange(front.size) / (front.size + 1.0)
        else:
            key[front] = rank
        covered += front.size
        remaining = np.setdiff1d(remaining, front, assume_unique=True)
        rank += 1
    key[remaining] = rank
    return key


def _by_contribution(front: NDArray[np.float64]) -> NDArray[np.intp]:
    """Indices of the rows of one front, largest exclusive hypervolume contribution first."""
    k, m = front.shape
    lo, hi = front.min(axis=0), front.max(axis=0)
    spread = np.where(hi > lo, hi - lo, 1.0)
    if m > 3:
        return np.argsort(((front - lo) / spread).sum(axis=1), kind="stable")
    ref = hi + 0.1 * spread
    total = hypervolume(front, ref)
    contribution = np.empty(k)
    for i in range(k):
        contribution[i] = total - hypervolume(np.delete(front, i, axis=0), ref)
    return np.argsort(-contribution, kind="stable")
