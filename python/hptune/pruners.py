"""Trial-level pruners: stop hopeless trials early from their intermediate values.

A pruner is asked by :meth:`Trial.should_prune` after the trial has reported a value at a step
(the trial's last, i.e. largest, step). It reads what other trials reported from the study's
storage, so workers in threads, processes or on a cluster sharing one storage prune against
each other. Directions: when the study maximises, larger intermediate values are better.

>>> import hptune
>>> from hptune.pruners import MedianPruner
>>> space = {"x": hptune.HyperparameterSpace("x", "float", 0.0, 1.0)}
>>> study = hptune.create_study(space, maximize=True, seed=0, pruner=MedianPruner())
>>> def objective(trial):
...     for step in range(5):
...         trial.report(trial.params["x"] * step, step)
...         if trial.should_prune():
...             raise hptune.TrialPruned()
...     return trial.params["x"]
>>> study.optimize(objective, n_trials=20, show_progress=False)
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from hptune._checks import check_real
from hptune._errors import InvalidArgumentError
from hptune.storage import Storage
from hptune.trial import TrialState

__all__ = [
    "HyperbandPruner",
    "MedianPruner",
    "NopPruner",
    "PercentilePruner",
    "SuccessiveHalvingPruner",
]


class StudyView(Protocol):
    """What a pruner reads of a study (a :class:`~hptune.Study`, or a worker's view of one)."""

    @property
    def storage(self) -> Storage: ...
    @property
    def name(self) -> str: ...
    @property
    def maximize(self) -> bool: ...


class TrialView(Protocol):
    """What a pruner reads of a running trial."""

    @property
    def number(self) -> int: ...
    @property
    def intermediate_values(self) -> dict[int, float]: ...


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidArgumentError(f"{name} must be an int >= {low}, got {value!r}")
    return value


class NopPruner:
    """Never prunes (the same as no pruner; handy to switch pruning off by configuration)."""

    def prune(self, study: StudyView, trial: TrialView) -> bool:
        return False

    def __repr__(self) -> str:
        return "NopPruner()"


class PercentilePruner:
    """Prune a trial whose best value so far is outside the best ``percentile`` % at its step.

    Others are the COMPLETE trials that reported at the same step. Nothing is pruned before
    ``n_startup_trials`` trials completed, at steps below ``n_warmup_steps``, or when fewer than
    ``n_min_trials`` completed trials reported at the step; after warm-up, only the first report
    in each window of ``interval_steps`` steps is judged. ``percentile`` is the share kept, as in
    Optuna: with ``percentile=25`` a trial survives only if its best value is in the best
    quarter of the others' values at its step.
    """

    def __init__(
        self,
        percentile: float,
        *,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        n_min_trials: int = 1,
    ) -> None:
        self.percentile = check_real("percentile", percentile, low=0.0, high=100.0)
        self.n_startup_trials = _check_int("n_startup_trials", n_startup_trials, 0)
        self.n_warmup_steps = _check_int("n_warmup_steps", n_warmup_steps, 0)
        self.interval_steps = _check_int("interval_steps", interval_steps, 1)
        self.n_min_trials = _check_int("n_min_trials", n_min_trials, 1)

    def _judged_step(self, steps: dict[int, float]) -> int | None:
        step = max(steps)
        warm = self.n_warmup_steps
        if step < warm:
            return None
        # Judge only the first report in each interval window [warm + k*i, warm + (k+1)*i).
        window_start = (step - warm) // self.interval_steps * self.interval_steps + warm
        previous = max((s for s in steps if s != step), default=-1)
        return step if previous < window_start else None

    def prune(self, study: StudyView, trial: TrialView) -> bool:
        values = trial.intermediate_values
        if not values:
            return False
        step = self._judged_step(values)
        if step is None:
            return False
        storage, name = study.storage, study.name
        states = storage.trial_states(name)
        complete = {n for n, s in states.items() if s is TrialState.COMPLETE}
        if len(complete) < max(self.n_startup_trials, 1):
            return False
        others = [
            v
            for n, v in storage.intermediate_values(name, step)
            if n in complete and n != trial.number
        ]
        if len(others) < self.n_min_trials:
            return False
        mine = [v for v in values.values() if not math.isnan(v)]
        if not mine:
            return True
        # As in Optuna, ``percentile`` is the share kept: 25 keeps trials in the best quarter.
        if study.maximize:
            threshold = float(np.percentile(others, 100.0 - self.percentile))
            return max(mine) < threshold
        threshold = float(np.percentile(others, self.percentile))
        return min(mine) > threshold

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(percentile={self.percentile:g}, n_startup_trials="
            f"{self.n_startup_trials}, n_warmup_steps={self.n_warmup_steps}, interval_steps="
            f"{self.interval_steps})"
        )


class MedianPruner(PercentilePruner):
    """Prune a trial whose best value so far is worse than the median of others at its step.

    The same rules as :class:`PercentilePruner` with ``percentile=50``.
    """

    def __init__(
        self,
        *,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        n_min_trials: int = 1,
    ) -> None:
        super().__init__(
            50.0,
            n_startup_trials=n_startup_trials,
            n_warmup_steps=n_warmup_steps,
            interval_steps=interval_steps,
            n_min_trials=n_min_trials,
        )


class SuccessiveHalvingPruner:
    """Asynchronous successive halving (ASHA): at each rung keep the top ``1/reduction_factor``.

    Rung ``k`` sits at step ``min_resource * reduction_factor ** (min_early_stopping_rate + k)``.
    When a trial's reports first reach a rung's step, it competes with every trial (of any
    state) that reported at exactly that step; it goes on if its value there is among the best
    ``len(competitors) // reduction_factor`` (at least the single best), else it is pruned. No
    trial waits for others: an early trial with few competitors is promoted, as in ASHA.

    Report at the rung steps themselves (every step, or every multiple of ``min_resource``):
    competitors are read at exactly those steps.
    """

    def __init__(
        self,
        *,
        min_resource: int = 1,
        reduction_factor: int = 3,
        min_early_stopping_rate: int = 0,
    ) -> None:
        self.min_resource = _check_int("min_resource", min_resource, 1)
        self.reduction_factor = _check_int("reduction_factor", reduction_factor, 2)
        self.min_early_stopping_rate = _check_int(
            "min_early_stopping_rate", min_early_stopping_rate, 0
        )

    def rung_step(self, rung: int) -> int:
        """The step of rung ``rung`` (0-based)."""
        eta = self.reduction_factor
        return int(self.min_resource * eta ** (self.min_early_stopping_rate + rung))

    def _members(self, study: StudyView, number: int) -> set[int] | None:
        # Hyperband narrows the competition to one bracket; plain ASHA competes with all.
        return None

    def prune(self, study: StudyView, trial: TrialView) -> bool:
        values = trial.intermediate_values
        if not values:
            return False
        step = max(values)
        previous = max((s for s in values if s != step), default=-1)
        members = self._members(study, trial.number)
        rung = 0
        while True:
            rung_at = self.rung_step(rung)
            if rung_at > step:
                return False
            if rung_at > previous:
                # This report is the first at or past the rung: judge the trial there once.
                mine = values.get(rung_at, values[step])
                if math.isnan(mine):
                    return True
                if not self._promotable(study, trial.number, rung_at, mine, members):
                    return True
            rung += 1

    def _promotable(
        self, study: StudyView, number: int, step: int, mine: float, members: set[int] | None
    ) -> bool:
        competing = [
            v
            for n, v in study.storage.intermediate_values(study.name, step)
            if n != number and (members is None or n in members) and not math.isnan(v)
        ]
        competing.append(mine)
        keep = max(len(competing) // self.reduction_factor, 1)
        competing.sort(reverse=study.maximize)
        cutoff = competing[keep - 1]
        return mine >= cutoff if study.maximize else mine <= cutoff

    def __repr__(self) -> str:
        return (
            f"SuccessiveHalvingPruner(min_resource={self.min_resource}, reduction_factor="
            f"{self.reduction_factor}, min_early_stopping_rate={self.min_early_stopping_rate})"
        )


class _Bracket(SuccessiveHalvingPruner):
    def __init__(self, owner: HyperbandPruner, index: int) -> None:
        super().__init__(
            min_resource=owner.min_resource,
            reduction_factor=owner.reduction_factor,
            min_early_stopping_rate=index,
        )
        self.owner = owner
        self.index = index

    def _members(self, study: StudyView, number: int) -> set[int] | None:
        states = study.storage.trial_states(study.name)
        owner = self.owner
        return {n for n in states if owner.bracket_of(n) == self.index}


class HyperbandPruner:
    """Hyperband: several successive-halving brackets with different early-stopping rates.

    With ``s_max = floor(log_eta(max_resource / min_resource))`` there are ``s_max + 1``
    brackets; bracket ``b`` is ASHA with ``min_early_stopping_rate = b`` (it first judges
    trials at step ``min_resource * eta**b``), and trials compete only within their bracket.
    Trial numbers are dealt to brackets deterministically in proportion to Hyperband's budgets
    ``ceil((s_max + 1) / (b + 1)) * eta ** (s_max - b)``, cycling through one budget round.
    """

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: int = 81,
        reduction_factor: int = 3,
    ) -> None:
        self.min_resource = _check_int("min_resource", min_resource, 1)
        self.max_resource = _check_int("max_resource", max_resource, min_resource)
        self.reduction_factor = _check_int("reduction_factor", reduction_factor, 2)
        eta = self.reduction_factor
        s_max = 0
        while self.min_resource * eta ** (s_max + 1) <= self.max_resource:
            s_max += 1
        self.n_brackets = s_max + 1
        self.budgets = [
            math.ceil(self.n_brackets / (b + 1)) * eta ** (s_max - b)
            for b in range(self.n_brackets)
        ]
        self._round = sum(self.budgets)
        self.brackets = [_Bracket(self, b) for b in range(self.n_brackets)]

    def bracket_of(self, number: int) -> int:
        """The bracket of trial ``number``."""
        position = number % self._round
        for b, budget in enumerate(self.budgets):
            if position < budget:
                return b
            position -= budget
        raise AssertionError("unreachable: position is below the round's total")

    def prune(self, study: StudyView, trial: TrialView) -> bool:
        return self.brackets[self.bracket_of(trial.number)].prune(study, trial)

    def __repr__(self) -> str:
        return (
            f"HyperbandPruner(min_resource={self.min_resource}, max_resource={self.max_resource}, "
            f"reduction_factor={self.reduction_factor})"
        )
