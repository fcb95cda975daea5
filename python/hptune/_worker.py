"""The worker side of a trial: what crosses to a remote worker, and how it runs the objective.

A :class:`TrialTask` goes to the worker (everything in it pickles); the objective gets the
params dict or a :class:`WorkerTrial` (``report``, ``should_prune`` against the study's storage
when the worker reaches it); a :class:`TrialOutcome` comes back. In-process workers (threads)
run the live :class:`~hptune.Trial` through the same evaluation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from hptune._errors import HptuneError, InvalidArgumentError, TrialPruned
from hptune._objective import Catch, Objective, coerce_value, error_text
from hptune.storage import Storage, get_storage
from hptune.trial import Trial, TrialState, checked_report

__all__ = ["TrialOutcome", "TrialTask", "WorkerTrial", "run_live", "run_task"]

logger = logging.getLogger("hptune")


@dataclass(frozen=True, slots=True)
class TrialTask:
    """One trial for a remote worker; everything in it must pickle."""

    objective: Objective
    number: int
    params: dict[str, Any]
    pass_trial: bool
    study_name: str
    maximize: bool
    storage_url: str | None = None
    pruner: Any = None
    catch: Catch = (Exception,)


@dataclass(frozen=True, slots=True)
class TrialOutcome:
    """What a worker hands back: a state, the value or the error text, and what was reported."""

    state: TrialState
    value: float | None = None
    error: str | None = None
    intermediate_values: dict[int, float] = field(default_factory=dict)
    user_attrs: dict[str, Any] = field(default_factory=dict)


class _WorkerStudy:
    """The part of a study a pruner reads, rebuilt in a worker process."""

    __slots__ = ("maximize", "name", "storage")

    def __init__(self, storage: Storage, name: str, maximize: bool) -> None:
        self.storage = storage
        self.name = name
        self.maximize = maximize


_STORAGES: dict[str, Storage] = {}


def _open_storage(url: str) -> Storage:
    # One storage (and so one connection per thread) per worker process, not one per trial.
    storage = _STORAGES.get(url)
    if storage is None:
        storage = _STORAGES[url] = get_storage(url)
    return storage


class WorkerTrial:
    """The trial an objective gets in a remote worker: ``number``, ``params``, ``report`` ..."""

    __slots__ = ("_study", "intermediate_values", "number", "params", "pruner", "user_attrs")

    def __init__(self, task: TrialTask) -> None:
        self.number = task.number
        self.params = dict(task.params)
        self.intermediate_values: dict[int, float] = {}
        self.user_attrs: dict[str, Any] = {}
        self.pruner = task.pruner
        self._study: _WorkerStudy | None = None
        if task.storage_url is not None:
            try:
                storage = _open_storage(task.storage_url)
            except HptuneError as exc:
                self._detach(exc)
            else:
                self._study = _WorkerStudy(storage, task.study_name, task.maximize)

    def _detach(self, exc: BaseException) -> None:
        # A worker that cannot reach the storage (another machine, a file it cannot open, or
        # the parent already ended the trial) still runs the trial: its reports go back with
        # the result and the parent records them, or ignores them if the trial is over.
        logger.warning(
            "trial %d: the worker cannot use the study's storage (%s); reports go back with "
            "the result and the trial is not pruned",
            self.number,
            exc,
        )
        self._study = None

    def report(self, value: float, step: int) -> None:
        """Record an intermediate value (in the study's storage, when the worker reaches it)."""
        v = checked_report(value, step)
        self.intermediate_values[step] = v
        if self._study is not None:
            try:
                self._study.storage.report(self._study.name, self.number, step, v)
            except HptuneError as exc:
                self._detach(exc)

    def should_prune(self) -> bool:
        """The study's pruner's verdict; always False without a shared storage."""
        if self.pruner is None or self._study is None or not self.intermediate_values:
            return False
        try:
            return bool(self.pruner.prune(self._study, self))
        except HptuneError as exc:
            self._detach(exc)
            return False

    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a value to the trial (sent back with the result; must pickle)."""
        self.user_attrs[key] = value

    def set_constraint(self, key: str, value: float) -> None:
        """Record an outcome constraint (``<= 0`` is feasible; see ``Trial.set_constraint``)."""
        from hptune._constraints import set_named

        set_named(self.user_attrs, key, value)

    def _define_by_run(self, *args: Any, **kwargs: Any) -> Any:
        raise InvalidArgumentError(
            "trial.suggest_* (define-by-run) needs the study in the same process: run it "
            "serially or with executor='thread'"
        )

    suggest_float = suggest_int = suggest_categorical = _define_by_run

    def __repr__(self) -> str:
        return f"WorkerTrial(number={self.number}, params={self.params!r})"


def _evaluate(
    objective: Objective, arg: Any, catch: Catch, values: dict[int, float], attrs: dict[str, Any]
) -> TrialOutcome:
    try:
        raw = objective(arg)
    except TrialPruned:
        return TrialOutcome(TrialState.PRUNED, None, None, dict(values), dict(attrs))
    except catch as exc:
        return TrialOutcome(TrialState.FAILED, None, error_text(exc), dict(values), dict(attrs))
    try:
        value = coerce_value(raw)
    except InvalidArgumentError as exc:
        return TrialOutcome(TrialState.FAILED, None, str(exc), dict(values), dict(attrs))
    return TrialOutcome(TrialState.COMPLETE, value, None, dict(values), dict(attrs))


def run_task(task: TrialTask) -> TrialOutcome:
    """Run one trial in a worker (the function remote executors call)."""
    if task.pass_trial:
        trial = WorkerTrial(task)
        return _evaluate(
            task.objective, trial, task.catch, trial.intermediate_values, trial.user_attrs
        )
    return _evaluate(task.objective, dict(task.params), task.catch, {}, {})


def run_live(objective: Objective, trial: Trial, pass_trial: bool, catch: Catch) -> TrialOutcome:
    return _evaluate(
        objective,
        trial if pass_trial else trial.params,
        catch,
        trial.intermediate_values,
        trial.user_attrs,
    )
