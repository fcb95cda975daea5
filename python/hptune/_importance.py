"""Parameter importance of a study, computed by PED-ANOVA in the Rust core.

The core sees the completed trials' unit-cube rows ``x`` (``n x d``) and losses ``y`` (``n``,
minimised: the sign flips when the study maximises); see ``rust/hptune-core/src/importance.rs``
for the method.
"""

from __future__ import annotations

import math

import numpy as np

from hptune import _core
from hptune._errors import InvalidArgumentError
from hptune._study_data import StudyData, StudyLike

__all__ = ["MIN_TRIALS", "importance"]

MIN_TRIALS = 4
"""Fewer completed trials than this say nothing about which parameter matters."""


def importance(study: StudyLike | StudyData, quantile: float = 0.1) -> dict[str, float]:
    """Which parameters matter: each parameter's share (summing to 1), largest first.

    PED-ANOVA (Watanabe et al., 2023): a parameter matters as much as the distribution of its
    values among the best ``quantile`` of completed trials differs from its distribution over
    all completed trials. Only completed trials count; the study's direction is respected.

    >>> import hptune
    >>> space = [hptune.HyperparameterSpace(n, "float", -1.0, 1.0) for n in ("x", "y", "z")]
    >>> study = hptune.create_study(space, maximize=False, seed=0)
    >>> study.optimize(lambda p: 10 * p["x"] ** 2 + p["y"] ** 2, n_trials=1000)
    >>> hptune.importance(study)  # doctest: +SKIP
    {'x': 0.85..., 'y': 0.1..., 'z': 0.00...}
    """
    if (
        isinstance(quantile, bool)
        or not isinstance(quantile, (int, float))
        or not math.isfinite(quantile)
        or not 0.0 < quantile <= 1.0
    ):
        raise InvalidArgumentError(f"quantile must be a number in (0, 1], got {quantile!r}")
    data = StudyData.from_study(study)
    rows = data.complete & np.isfinite(data.params).all(axis=1)
    k = int(np.count_nonzero(rows))
    if k < MIN_TRIALS:
        raise InvalidArgumentError(
            f"importance needs at least {MIN_TRIALS} completed trials; study {data.name!r} has {k}"
        )
    core = data.space.core
    unit = core.encode(np.ascontiguousarray(data.params[rows]))
    loss = np.ascontiguousarray(data.loss[rows])
    shares = _core.importance(core, unit, loss, float(quantile))
    # Sorted by share; ties keep the order of the space (sorted() is stable).
    ranked = sorted(zip(data.space.names, shares, strict=True), key=lambda t: -t[1])
    return dict(ranked)
