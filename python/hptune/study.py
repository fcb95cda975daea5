"""Studies: ask / tell, the optimisation loop, stopping rules, and the best trial.

A :class:`Study` owns a search space, a sampler, a direction and a storage. Every state change of
a trial goes to the storage first; the study keeps only what makes the next step cheap (the best
trial and, for model-based samplers, the growing :class:`~hptune._history.History`).

On a storage shared by several processes (SQLite, PostgreSQL) the study also brings in, before
every ask and when asked for the best trial, what other workers did since its last look: their
trials created, finished, failed or pruned (see :meth:`Storage.changes`). Their running trials
are pending points for the sampler, their results count for the best trial.
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any, Protocol, overload

from hptune._checks import (
    check_callbacks,
    check_flag,
    check_optional_flag,
    check_pruner,
    check_real,
    check_seed,
)
from hptune._constraints import (
    CONSTRAINTS_KEY,
    ConstraintsFunc,
    check_constraints_func,
    coerce_constraints,
    named_constraints,
    violation,
)
from hptune._define_by_run import DefineByRun, EmptySpace, StaticlessSampler, static_space
from hptune._errors import InvalidArgumentError, StorageError, TrialPruned
from hptune._heartbeat import start_liveness
from hptune._history import History
from hptune._multi_objective import (
    DEFAULT_MAXIMIZE,
    check_method,
    directions_of,
    first_of_values,
    pareto_front,
    resolve_directions,
)
from hptune._objective import Catch, Objective, coerce_value, error_text, wants_trial
from hptune._scheduler import run_parallel
from hptune._stop_rules import StopRules
from hptune._study_verbs import add_trial, check_enqueued, queued_params, trials_dataframe
from hptune.rng import derive_seed
from hptune.samplers import METHODS, Sampler, make_sampler, stored_options
from hptune.space import (
    HyperparameterSpace,
    SearchSpace,
    SearchSpaceLike,
    constraint_from_dict,
)
from hptune.storage import InMemoryStorage, Storage, StudyMeta, get_storage
from hptune.storage._sqlite import parse_sqlite_url
from hptune.trial import Trial, TrialRecord, TrialState

__all__ = ["Callback", "Pruner", "Study", "create_study", "load_study"]

logger = logging.getLogger("hptune")

Callback = Callable[["Study", TrialRecord], Any]


class Pruner(Protocol):
    """Decides whether a running trial should stop (see :mod:`hptune.pruners`)."""

    def prune(self, study: Study, trial: Trial) -> bool:
        """True when the trial, at its last reported step, should be pruned."""
        ...


def _new_seed() -> int:
    # The only entropy in hptune: a study created without a seed draws one here and stores it,
    # so the study is still reproducible (and resumable) from its record.
    return secrets.randbits(63)


def _check_seed(seed: int | None) -> int:
    if seed is None:
        return _new_seed()
    return check_seed(seed)


# How many times a trial of a shared study is given a new suggestion because another worker's
# trial holds the same config (see Study._claim).
_CLAIM_ROUNDS = 3
# After a trial number predicted by an ask was taken by another worker, the next asks do not
# predict: 1, then 2, 4, ... up to this many after misses in a row (see Study._ask_predicted).
_MAX_PREDICTION_BACKOFF = 64


def _config_key(params: Mapping[str, Any]) -> str:
    """A config as text that compares equal exactly when the stored params do."""
    return json.dumps(params, sort_keys=True, default=_plain)


def _plain(obj: Any) -> Any:
    tolist = getattr(obj, "tolist", None)  # numpy scalars and arrays
    if tolist is not None:
        return tolist()
    return repr(obj)


class Study:
    """One optimisation: a space, a sampler, a direction and the trials so far.

    Create one with :func:`create_study` or reopen it with :func:`load_study`.
    """

    def __init__(
        self,
        *,
        space: SearchSpace,
        sampler: Sampler,
        maximize: bool,
        storage: Storage,
        meta: StudyMeta,
        pruner: Pruner | None = None,
        constraints_func: ConstraintsFunc | None = None,
    ) -> None:
        self.space = space
        #: Called with each complete trial's record; returns its outcome constraint values
        #: (``<= 0`` is feasible), stored as ``TrialRecord.constraints``.
        self.constraints_func = check_constraints_func(constraints_func)
        # How many values constraints_func returns (fixed by the first trial that has some),
        # and the names trials give with trial.set_constraint (fixed likewise).
        self._n_constraints: int | None = None
        self._constraint_names: tuple[str, ...] | None = None
        # Define-by-run params (trial.suggest_*); without a static space the method draws only
        # those, and the study's own sampler hands out empty params.
        self._dbr = DefineByRun(self, sampler)
        if not space.names:
            sampler = StaticlessSampler(sampler)
        self.sampler = sampler
        self.maximize = bool(maximize)
        self.storage = storage
        self.name = meta.name
        self.seed = meta.seed
        self.method = meta.method
        self.pruner = pruner
        self.interrupted = False
        self._sign = -1.0 if self.maximize else 1.0
        #: One direction per objective ("minimize" / "maximize").
        self.directions = directions_of(meta, self.maximize)
        self._signs = [-1.0 if d == "maximize" else 1.0 for d in self.directions]
        check_method(self.directions, sampler)
        self._running: dict[int, Trial] = {}
        self._best_number: int | None = None
        self._best_value: float | None = None
        # Whether the best trial is feasible, and its total violation (constrained studies).
        self._best_feasible = True
        self._best_violation = 0.0
        # Before reading the trials: trials of dead workers are failed, not left RUNNING.
        self._heartbeat = start_liveness(storage, self.name, self._running)
        # Shared storages: the change mark of the last look at other workers' trials, and the
        # numbers of this study's own trials that a look has not yet seen finished.
        self._mark: int | None = None
        self._own: set[int] = set()
        # Shared storages: the trials known with each config, and each trial's config,
        # for samplers whose suggestions two workers could both get (see _claim). Random and
        # Sobol' draws depend on the trial number alone, so workers cannot coordinate them.
        self._configs: dict[str, set[int]] = {}
        self._config_of: dict[int, str] = {}
        # Asks that skip predicting their trial number, after predictions missed.
        self._skip_predictions = 0
        self._prediction_backoff = 0
        changed = storage.changes(self.name, 0)
        if changed is None:
            existing = storage.trials(self.name)
        else:
            self._mark, existing = changed
        self._claims = self._mark is not None and (
            sampler.uses_history or hasattr(sampler, "mark_seen")
        )
        if self._claims:
            for record in existing:
                if record.params:
                    self._remember(record.number, record.params)
        self.history: History | None = History(space) if sampler.uses_history else None
        for record in existing:
            if record.state is not TrialState.RUNNING:
                self._observe(record)
            elif self.history is not None and record.params:
                # Another worker's running trial (the sampler's bind() sees it too).
                self.history.add_pending(record.number, record.params)
        sampler.bind(space, self.seed, existing)

    # ----------------------------------------------------------------- ask / tell
    @overload
    def ask(self, n: None = None) -> Trial: ...
    @overload
    def ask(self, n: int) -> list[Trial]: ...
    def ask(self, n: int | None = None) -> Trial | list[Trial]:
        """Start one trial (or ``n`` trials whose params differ, for parallel workers)."""
        if n is None:
            trials = self._ask(1)
            if not trials:
                raise StorageError(f"the {self.method} search of study {self.name!r} is exhausted")
            return trials[0]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidArgumentError(f"n must be a positive int, got {n!r}")
        return self._ask(n)

    def _ask(self, n: int) -> list[Trial]:
        storage, name = self.storage, self.name
        trials: list[Trial] = []
        numbers: list[int] = []
        now = time.time()
        spare: int | None = None

        def create() -> int:
            nonlocal spare
            if spare is not None:
                number, spare = spare, None
                return number
            number = storage.create_trial(name, now)
            numbers.append(number)
            return number

        queued: dict[str, Any] | None = None
        try:
            if self._mark is None:
                pass
            elif (
                n == 1
                and self.sampler.keyed_by_number
                and not self._claims
                and self._skip_predictions == 0
            ):
                got = self._ask_predicted(now, numbers)
                if isinstance(got, Trial):
                    return [got]
                queued = got
            elif self.sampler.remaining() is None:
                self._skip_predictions = max(0, self._skip_predictions - 1)
                # A shared storage's look at other workers' changes and the ask's first trial
                # in one call (one round trip on PostgreSQL). Not for a finite search: after
                # the look it may be exhausted, and the trial would have to fail.
                changed, spare = storage.changes_and_create_trial(name, self._mark, now)
                numbers.append(spare)
                self._own.add(spare)
                self._take(changed)
            else:
                self.sync()
            while len(trials) < n:
                if queued is None:
                    queued = storage.pop_enqueued(name)
                if queued is None:
                    break
                number = create()
                params, fixed = queued_params(self, queued, number)
                storage.set_trial_params(name, number, params)
                queued = None
                trials.append(self._start(number, params, now))
                trials[-1]._fixed.update(fixed)
                mark = getattr(self.sampler, "mark_seen", None)
                if mark is not None:
                    mark(params)
            want = n - len(trials)
            remaining = self.sampler.remaining()
            if remaining is not None:
                want = min(want, remaining)
            if want > 0:
                fresh = [create() for _ in range(want)]
                if self._mark is not None:
                    # Before any look at the storage: these are ours, not another worker's.
                    self._own.update(fresh)
                suggested = self.sampler.suggest(self.history, fresh)
                if self._claims:
                    suggested = self._claim(fresh[: len(suggested)], suggested)
                else:
                    for number, params in zip(fresh, suggested, strict=False):
                        storage.set_trial_params(name, number, params)
                for number, params in zip(fresh, suggested, strict=False):
                    trials.append(self._start(number, params, now))
                # A finite method may suggest fewer than asked: those numbers were never used.
                self._abandon(fresh[len(suggested) :], now, "the search is exhausted")
            if spare is not None:  # not reached: an ask makes at least one trial when it can
                self._abandon([spare], now, "the search is exhausted")
        except BaseException as exc:
            self._abandon(numbers, now, f"ask failed: {error_text(exc)}")
            raise
        return trials

    def _ask_predicted(self, now: float, numbers: list[int]) -> Trial | dict[str, Any] | None:
        """An ask's look, and its trial with params drawn for the number the look predicts,
        stored together: one commit fewer (for samplers whose params depend on the trial
        number alone). Returns the trial; else queued params the ask must use, or None, and
        the ask goes on by the usual path. After a miss (another worker took the number
        first) the next asks do not predict, more of them after every miss in a row, so busy
        workers do not keep missing."""
        storage, name = self.storage, self.name
        assert self._mark is not None
        changed, predicted = storage.changes_and_next_number(name, self._mark)
        self._take(changed)
        if predicted is None:
            return None
        queued = storage.pop_enqueued(name)
        if queued is not None:
            return queued
        [params] = self.sampler.suggest(None, [predicted])
        created, _ = storage.create_numbered_trial(name, predicted, now, params)
        if created:
            self._prediction_backoff = 0
            numbers.append(predicted)
            self._own.add(predicted)
            return self._start(predicted, params, now)
        self._prediction_backoff = min(
            _MAX_PREDICTION_BACKOFF, max(1, 2 * self._prediction_backoff)
        )
        self._skip_predictions = self._prediction_backoff
        return None

    def _abandon(self, numbers: Iterable[int], start: float, why: str) -> None:
        """Fail trials that an ask created but cannot hand out (the sampler raised, say), so
        that none of them stays RUNNING."""
        for number in numbers:
            live = self._running.pop(number, None)
            if self.history is not None:
                self.history.drop_pending(number)
            end = time.time()
            params = live.params if live is not None else {}
            record = TrialRecord(
                number, params, TrialState.FAILED, None, {}, start, end, end - start, why
            )
            try:
                self.storage.finish_trial(self.name, record)
            except Exception as exc:  # the original error matters more than this one
                logger.warning("could not mark trial %d failed: %s", number, exc)

    def _claim(self, numbers: list[int], suggested: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Record suggested params on a shared storage so that no two trials hold one config.

        Two workers asking at the same moment cannot see each other's new trials and may get
        the same suggestion (a model's optimum on a bound, the next grid point). After the
        params are stored the study looks again, and a trial yields to every trial that holds
        its config since before it (seen in an earlier look, committed earlier in this one, or
        finished): it gets a new suggestion, with the other's as a pending point (a model
        sampler's last of ``_CLAIM_ROUNDS`` attempts is a random config). Of two clashing
        trials exactly the later one yields, as the later one's look always sees the earlier
        one's params.
        """
        storage, name, history = self.storage, self.name, self.history
        final = dict(zip(numbers, suggested, strict=False))
        todo = list(final)
        for round_ in range(_CLAIM_ROUNDS + 1):
            for number in todo:
                storage.set_trial_params(name, number, final[number])
            records = self._pull()[0]
            # Commit order of this look: our params were stored at our records' positions.
            position = {r.number: i for i, r in enumerate(records)}
            late = {r.number for r in records if r.state is TrialState.RUNNING and r.params}
            configs = self._configs
            clash = []
            for k in todo:
                mine = position.get(k, -1)
                for other in configs.get(_config_key(final[k]), set()) - {k}:
                    if other not in late or position[other] < mine:
                        clash.append(k)
                        break
            if not clash or round_ == _CLAIM_ROUNDS:
                break
            if history is not None:
                for number, params in final.items():
                    history.add_pending(number, params)
            if round_ < _CLAIM_ROUNDS - 1 or history is None:
                # A grid hands out its next points (a random config would leave the grid).
                again = self.sampler.suggest(history, clash)
            else:
                # The model keeps landing on configs already held (it can return to a corner
                # it has evaluated): the last attempt is a random config.
                seed = derive_seed(self.seed, "claim")
                again = [self.space.sample_random(seed, k, 1)[0] for k in clash]
            todo = clash[: len(again)]
            final.update(zip(todo, again, strict=False))
            if not todo:
                break
        return list(final.values())

    def _remember(self, number: int, params: dict[str, Any]) -> None:
        """Note the config of a trial (shared storages: see :meth:`_claim`)."""
        key = _config_key(params)
        old = self._config_of.get(number)
        if old == key:
            return
        configs = self._configs
        if old is not None:
            holders = configs[old]
            holders.discard(number)
            if not holders:
                del configs[old]
        self._config_of[number] = key
        configs.setdefault(key, set()).add(number)

    def _start(self, number: int, params: dict[str, Any], now: float) -> Trial:
        trial = Trial(self, number, params, now)
        self._running[number] = trial
        if self._mark is not None:
            self._own.add(number)
            if self._claims:
                self._remember(number, params)
        if self._heartbeat is not None:
            self._heartbeat.ensure()
        if self.history is not None:
            self.history.add_pending(number, params)
        return trial

    def tell(
        self,
        trial: Trial | int,
        value: Any = None,
        *,
        state: TrialState | str | None = None,
        error: str | None = None,
    ) -> TrialRecord:
        """Finish a trial: with a value it completes; ``state="failed" | "pruned"`` otherwise.

        A value that is not a finite number fails the trial (the record says why).
        """
        if isinstance(trial, Trial):
            if trial._study is not self:
                raise InvalidArgumentError(
                    f"trial {trial.number} belongs to study {trial._study.name!r}, not to study "
                    f"{self.name!r}; tell it to the study that asked for it"
                )
            number = trial.number
        elif isinstance(trial, int) and not isinstance(trial, bool):
            number = trial
        else:
            raise InvalidArgumentError(
                f"trial must be a Trial of this study or its number, got {type(trial).__name__}"
            )
        live = self._running.get(number)
        if live is None:
            raise InvalidArgumentError(
                f"trial {number} is not running in study {self.name!r} (told twice, or unknown)"
            )
        st = TrialState.parse(state) if state is not None else TrialState.COMPLETE
        if st is TrialState.RUNNING:
            raise InvalidArgumentError("tell() finishes a trial; state cannot be 'running'")
        v: float | None = None
        if st is TrialState.COMPLETE:
            try:
                if len(self.directions) == 1:
                    v = coerce_value(value)
                else:
                    v = first_of_values(self.directions, live.user_attrs, value)
            except InvalidArgumentError as exc:
                st, error = TrialState.FAILED, str(exc)
        end = time.time()
        record = TrialRecord(
            number,
            live.params,
            st,
            v,
            dict(live.intermediate_values),
            live.datetime_start,
            end,
            end - live.datetime_start,
            error,
            dict(live.user_attrs),
        )
        return self._finish(self._constrained(record))

    def _constrained(self, record: TrialRecord) -> TrialRecord:
        """A complete record with its outcome constraint values (from ``constraints_func`` or
        the trial's ``set_constraint`` calls), or failed with the reason when
        ``constraints_func`` raises or the values are not a fixed number of finite numbers."""
        func = self.constraints_func
        named = record.user_attrs.get(CONSTRAINTS_KEY)
        if (func is None and named is None) or record.state is not TrialState.COMPLETE:
            return record
        try:
            if func is not None and named is not None:
                raise InvalidArgumentError(
                    f"trial {record.number} called trial.set_constraint and the study has a "
                    "constraints_func: give constraints one way"
                )
            if func is not None:
                values = coerce_constraints(func(record), record.number, self._n_constraints)
            else:
                values, names = named_constraints(named, record.number, self._constraint_names)
                self._constraint_names = names
        except Exception as exc:
            why = str(exc) if isinstance(exc, InvalidArgumentError) else error_text(exc)
            if not isinstance(exc, InvalidArgumentError):
                why = f"constraints_func raised {why}"
            logger.warning("trial %d failed: %s", record.number, why)
            return replace(record, state=TrialState.FAILED, value=None, error=why)
        return replace(record, constraints=values)

    def _finish(self, record: TrialRecord) -> TrialRecord:
        try:
            self.storage.finish_trial(self.name, record)
        except StorageError:
            stored = self._finished_elsewhere(record.number)
            if stored is None:
                raise
            record = stored
        self._running.pop(record.number, None)
        self._observe(record)
        return record

    def _finished_elsewhere(self, number: int) -> TrialRecord | None:
        """The stored record of a running trial of ours that another worker finished (it took
        our heartbeat for a dead worker's), with a warning; None if it is not that."""
        try:
            stored = self.storage.get_trial(self.name, number)
        except StorageError:
            return None
        if stored.state is TrialState.RUNNING:
            return None
        logger.warning(
            "trial %d of study %r was marked %s by another worker (%s); its result is lost",
            number,
            self.name,
            stored.state.value,
            stored.error,
        )
        return stored

    def sync(self) -> int:
        """Bring in what other workers sharing the storage did since the last look.

        Their finished trials update the best trial and the sampler's observations; their
        running trials become pending points. A look costs in proportion to what changed. The
        study looks by itself before every ask and when asked for its best trial; returns how
        many changed trials of other workers it saw (0 on storages only this process uses).
        """
        return self._pull()[1]

    def _pull(self) -> tuple[list[TrialRecord], int]:
        """The look of :meth:`sync`: every changed record (ours too) in commit order, and how
        many are other workers'."""
        if self._mark is None:
            return [], 0
        return self._take(self.storage.changes(self.name, self._mark))

    def _take(self, changed: tuple[int, list[TrialRecord]] | None) -> tuple[list[TrialRecord], int]:
        """Bring in what the storage's changes() returned (see :meth:`_pull`)."""
        if changed is None:
            return [], 0
        self._mark, records = changed
        own, running = self._own, self._running
        seen = 0
        for record in records:
            number = record.number
            if number in own:
                # Ours: told here already, or still running here (if another worker failed it
                # meanwhile, tell() finds out and warns).
                if record.state is not TrialState.RUNNING and number not in running:
                    own.discard(number)
                continue
            seen += 1
            if record.params and self._claims:
                self._remember(number, record.params)
            if record.state is TrialState.RUNNING:
                self._observe_running(record)
            else:
                self._observe(record)
                mark = getattr(self.sampler, "mark_seen", None)
                if mark is not None and record.params:
                    mark(record.params)
        return records, seen

    def _observe_running(self, record: TrialRecord) -> None:
        """Another worker's running trial: a pending point (once its params are known)."""
        if not record.params:
            return
        if self.history is not None:
            self.history.add_pending(record.number, record.params)
        mark = getattr(self.sampler, "mark_seen", None)
        if mark is not None:
            mark(record.params)

    def _observe(self, record: TrialRecord) -> None:
        state = record.state
        if state is TrialState.COMPLETE and record.value is not None:
            cons = record.constraints
            if cons is not None and self._n_constraints is None:
                self._n_constraints = len(cons)
                named = record.user_attrs.get(CONSTRAINTS_KEY)
                if isinstance(named, dict) and self._constraint_names is None:
                    self._constraint_names = tuple(sorted(str(k) for k in named))
            if self._beats_best(record.value, cons):
                self._best_number, self._best_value = record.number, record.value
                self._best_violation = violation(cons)
                self._best_feasible = self._best_violation <= 0.0
            if self.history is not None:
                objectives = None
                if len(self.directions) > 1 and record.values is not None:
                    objectives = [v * s for v, s in zip(record.values, self._signs, strict=True)]
                self.history.add_complete(
                    record.number, record.params, self._sign * record.value, cons, objectives
                )
        elif state is not TrialState.RUNNING and self.history is not None and record.params:
            self.history.add_failed(record.number, record.params, self._pruned_at(record))
        self._dbr.observe(record)

    def _pruned_at(self, record: TrialRecord) -> float | None:
        """A pruned trial's last reported value, canonical (NaN if it reported none); None for
        any other trial."""
        if record.state is not TrialState.PRUNED:
            return None
        step = record.last_step
        if step is None:
            return math.nan
        return self._sign * record.intermediate_values[step]

    def _beats_best(self, value: float, constraints: list[float] | None) -> bool:
        """Whether a complete trial becomes the best: a feasible one beats every infeasible
        one; among infeasible ones the smaller total violation wins, then the better value."""
        if self._best_number is None:
            return True
        v = violation(constraints)
        if v <= 0.0:
            return not self._best_feasible or self._better(value, self._best_value)
        if self._best_feasible:
            return False
        if v != self._best_violation:
            return v < self._best_violation
        return self._better(value, self._best_value)

    def _better(self, a: float, b: float | None) -> bool:
        if b is None:
            return True
        return a > b if self.maximize else a < b

    def _on_report(self, trial: Trial, step: int, value: float) -> None:
        self.storage.report(self.name, trial.number, step, value)

    def _should_prune(self, trial: Trial) -> bool:
        if self.pruner is None or not trial.intermediate_values:
            return False
        return bool(self.pruner.prune(self, trial))

    def enqueue(self, params: Mapping[str, Any]) -> None:
        """Evaluate ``params`` before asking the sampler (warm start with known configs).

        ``params`` may leave out names of the static space (the study's method draws them) and
        may give names outside it: ``trial.suggest_*`` returns those values when they fit.

        >>> study.enqueue({"learning_rate": 0.01})   # discount_factor drawn by the method
        """
        self.storage.enqueue(self.name, check_enqueued(self, params))

    # ----------------------------------------------------------------- results
    @property
    def trials(self) -> list[TrialRecord]:
        """Every trial, in number order."""
        return self.storage.trials(self.name)

    @property
    def n_trials(self) -> int:
        """Number of trials so far, in every state."""
        return self.storage.n_trials(self.name)

    @property
    def best_trials(self) -> list[TrialRecord]:
        """The Pareto front: complete trials that no other complete trial dominates (better or
        equal in every objective, better in one), in number order. With one objective, the
        trials that share the best value. With a ``constraints_func``, only feasible trials
        count while there are any.

        >>> [t.values for t in study.best_trials]
        """
        return pareto_front(self)

    @property
    def best_trial(self) -> TrialRecord:
        """The best completed trial (InvalidArgumentError when none completed).

        With a ``constraints_func`` the best is feasible whenever a feasible trial exists;
        before that it is the trial closest to feasible (smallest total violation).
        """
        if len(self.directions) > 1:
            raise InvalidArgumentError(
                f"study {self.name!r} has {len(self.directions)} objectives and no single best "
                "trial; use study.best_trials (the Pareto front)"
            )
        if self._mark is not None:
            self.sync()
        if self._best_number is None:
            raise InvalidArgumentError(f"study {self.name!r} has no completed trial yet")
        return self.storage.get_trial(self.name, self._best_number)

    @property
    def best_value(self) -> float:
        """The best value so far."""
        if len(self.directions) > 1:
            raise InvalidArgumentError(
                f"study {self.name!r} has {len(self.directions)} objectives and no single best "
                "value; use study.best_trials (the Pareto front)"
            )
        if self._mark is not None:
            self.sync()
        if self._best_value is None:
            raise InvalidArgumentError(f"study {self.name!r} has no completed trial yet")
        return self._best_value

    @property
    def best_params(self) -> dict[str, Any]:
        """The params of the best trial."""
        return dict(self.best_trial.params)

    # ----------------------------------------------------------------- Optuna-style verbs
    #: Set by :meth:`stop`; :meth:`optimize` clears it when it starts.
    _stop_requested = False

    def stop(self) -> None:
        """End the running :meth:`optimize` once the trials in progress finish.

        Call it from the objective or a callback; no new trial starts afterwards.

        >>> def callback(study, record):
        ...     if record.value is not None and record.value > 0.99:
        ...         study.stop()
        """
        self._stop_requested = True

    def trials_dataframe(self) -> Any:
        """The trials as a pandas DataFrame (needs ``pip install "hptune[pandas]"``).

        Columns: ``number``, ``value``, ``state``, ``duration`` (seconds), ``params_<name>`` for
        every parameter (missing where a trial did not use it), ``user_attrs_<key>``,
        ``constraints`` (a list per complete trial, with a ``constraints_func``) and ``error``.

        >>> study.trials_dataframe()[["number", "value", "params_x"]].head()
        """
        return trials_dataframe(self)

    def add_trial(
        self,
        params: Mapping[str, Any],
        value: Any = None,
        state: TrialState | str = "complete",
        intermediate_values: Mapping[int, float] | None = None,
        user_attrs: Mapping[str, Any] | None = None,
        *,
        distributions: Mapping[str, HyperparameterSpace] | None = None,
    ) -> TrialRecord:
        """Record a trial evaluated elsewhere; the sampler learns from it like from any other.

        ``params`` must give every name of the static space (checked like an ask's params);
        names outside it need a distribution, either suggested by an earlier trial or given in
        ``distributions``. A complete trial needs a finite ``value``; ``state`` may also be
        ``"failed"`` or ``"pruned"`` (without a value).

        >>> study.add_trial({"x": 0.25}, 0.0625, user_attrs={"source": "paper"})
        """
        return add_trial(self, params, value, state, intermediate_values, user_attrs, distributions)

    def __repr__(self) -> str:
        direction = "maximize" if self.maximize else "minimize"
        return f"Study(name={self.name!r}, method={self.method!r}, {direction})"

    # ----------------------------------------------------------------- optimise
    def optimize(
        self,
        objective: Objective,
        n_trials: int | None = None,
        *,
        timeout: float | None = None,
        n_jobs: int = 1,
        executor: Any = None,
        callbacks: Iterable[Callback] = (),
        show_progress: bool | None = None,
        catch: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
        early_stopping_rounds: int | None = None,
        min_delta: float = 0.0,
        target_score: float | None = None,
        trial_timeout: float | None = None,
    ) -> None:
        """Run trials until ``n_trials`` (or the search is exhausted, or a stopping rule fires).

        ``objective`` takes the params dict, or the :class:`Trial` when its first parameter is
        named ``trial``. An exception (other than :class:`TrialPruned`) or a value that is not a
        finite number fails that trial only. Ctrl-C stops the loop; the study keeps what was done
        and ``study.interrupted`` is set.
        """
        if not callable(objective):
            raise InvalidArgumentError(
                f"objective must be callable (a function of the params or the trial), got "
                f"{type(objective).__name__} {objective!r}"
            )
        if n_trials is not None and (
            isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 0
        ):
            raise InvalidArgumentError(
                f"n_trials must be a non-negative int or None, got {n_trials!r}"
            )
        unbounded = n_trials is None and timeout is None and self.sampler.remaining() is None
        if unbounded and early_stopping_rounds is None and target_score is None:
            raise InvalidArgumentError(
                "n_trials is None and nothing else would stop the study: give n_trials, "
                "timeout, early_stopping_rounds or target_score"
            )
        if timeout is not None:
            check_real("timeout", timeout, low=0.0, low_open=True, allowed="of seconds > 0")
        if trial_timeout is not None:
            check_real(
                "trial_timeout", trial_timeout, low=0.0, low_open=True, allowed="of seconds > 0"
            )
        min_delta = check_real("min_delta", min_delta, low=0.0)
        if target_score is not None:
            target_score = check_real("target_score", target_score)
        callbacks = check_callbacks(callbacks)
        if early_stopping_rounds is not None and (
            isinstance(early_stopping_rounds, bool)
            or not isinstance(early_stopping_rounds, int)
            or early_stopping_rounds < 1
        ):
            raise InvalidArgumentError(
                f"early_stopping_rounds must be a positive int, got {early_stopping_rounds!r}"
            )
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
            raise InvalidArgumentError(f"n_jobs must be a positive int or -1, got {n_jobs!r}")
        show_progress = check_optional_flag(
            "show_progress", show_progress, "a bar when stderr is a terminal"
        )
        if len(self.directions) > 1:
            refused = {
                "n_jobs": n_jobs != 1,
                "executor": executor is not None,
                "trial_timeout": trial_timeout is not None,
                "early_stopping_rounds": early_stopping_rounds is not None,
                "target_score": target_score is not None,
            }
            if any(refused.values()):
                raise InvalidArgumentError(
                    f"a study with {len(self.directions)} objectives runs serially and stops on "
                    f"n_trials or timeout only for now; remove "
                    f"{', '.join(k for k, v in refused.items() if v)}"
                )
        stop = StopRules(self, n_trials, timeout, early_stopping_rounds, min_delta, target_score)
        self.interrupted = False
        self._stop_requested = False
        progress = _progress(show_progress, n_trials)
        try:
            if n_jobs == 1 and executor is None and trial_timeout is None:
                self._run_serial(objective, stop, callbacks, progress, catch)
            else:
                run_parallel(
                    self,
                    objective,
                    stop,
                    callbacks,
                    progress,
                    catch,
                    n_jobs=n_jobs,
                    executor=executor,
                    trial_timeout=trial_timeout,
                )
        finally:
            if progress is not None:
                progress.close()

    def _run_serial(
        self,
        objective: Objective,
        stop: StopRules,
        callbacks: list[Callback],
        progress: Any,
        catch: Catch,
    ) -> None:
        # Without a static space the params dict is empty: the objective needs the trial.
        pass_trial = wants_trial(objective) or not self.space.names
        if (
            not pass_trial
            and len(self.directions) == 1
            and self.constraints_func is None
            and not callbacks
            and not self.sampler.uses_history
            # The fast loop uses InMemoryStorage's column methods, which the Storage interface
            # does not have; tests/test_study_loops.py pins it to this general loop.
            and isinstance(self.storage, InMemoryStorage)
        ):
            self._run_fast(objective, stop, progress, catch)
            return
        while not stop.done():
            trials = self._ask(1)
            if not trials:
                break
            trial = trials[0]
            try:
                value = objective(trial if pass_trial else trial.params)
            except TrialPruned:
                record = self.tell(trial, state=TrialState.PRUNED)
            except KeyboardInterrupt:
                self.tell(trial, state=TrialState.FAILED, error="interrupted by KeyboardInterrupt")
                self.interrupted = True
                logger.warning("study %r interrupted; keeping the finished trials", self.name)
                break
            except catch as exc:
                record = self.tell(trial, state=TrialState.FAILED, error=error_text(exc))
                logger.warning("trial %d failed: %s", trial.number, record.error)
            except BaseException as exc:
                # SystemExit, or an exception outside ``catch``: the trial fails (it must not
                # stay RUNNING), then the exception goes on to the caller.
                self.tell(trial, state=TrialState.FAILED, error=error_text(exc))
                raise
            else:
                record = self.tell(trial, value)
                if record.state is TrialState.FAILED:
                    logger.warning("trial %d failed: %s", trial.number, record.error)
            self.after_trial(record, stop, callbacks, progress)

    def _run_fast(
        self,
        objective: Objective,
        stop: StopRules,
        progress: Any,
        catch: Catch,
    ) -> None:
        """The serial loop for in-memory studies whose objective takes a params dict.

        Same behaviour as the general loop, minus the objects nobody reads: no live Trial and no
        record per trial (the storage keeps columns). This is where per-trial overhead is won.
        """
        storage = self.storage
        assert isinstance(storage, InMemoryStorage)
        name = self.name
        sampler = self.sampler
        create, finish = storage.create_trial, storage.finish
        complete, failed, pruned = TrialState.COMPLETE, TrialState.FAILED, TrialState.PRUNED
        maximize = self.maximize
        clock = time.time
        queue = storage.queue_of(name)
        sample = getattr(sampler, "sample_one", None)
        # With only a trial count to honour, count down here instead of consulting every rule.
        countdown = stop.remaining() if stop.only_counts() else None
        while ((countdown > 0) if countdown is not None else not stop.done()) and not (
            self._stop_requested
        ):
            if queue:
                # Queued configs go through the general path (validation, grid bookkeeping).
                trials = self._ask(1)
                trial = trials[0]
                number, params, start = trial.number, trial.params, trial.datetime_start
                self._running.pop(number, None)
            else:
                remaining = sampler.remaining()
                if remaining is not None and remaining <= 0:
                    break
                start = clock()
                if sample is not None:
                    number, params = storage.create_sampled_trial(name, start, sample)
                else:
                    number = create(name, start)
                    try:
                        params = sampler.suggest(None, (number,))[0]
                        storage.set_trial_params(name, number, params)
                    except BaseException as exc:
                        self._abandon((number,), start, f"ask failed: {error_text(exc)}")
                        raise
            error: str | None = None
            value: float | None = None
            try:
                raw = objective(params)
            except TrialPruned:
                state = pruned
            except KeyboardInterrupt:
                finish(name, number, failed, None, clock(), "interrupted by KeyboardInterrupt")
                self.interrupted = True
                logger.warning("study %r interrupted; keeping the finished trials", self.name)
                break
            except catch as exc:
                state, error = failed, error_text(exc)
            except BaseException as exc:
                finish(name, number, failed, None, clock(), error_text(exc))
                raise
            else:
                # Fast check for the common case; coerce_value explains everything else.
                if type(raw) is float and raw - raw == 0.0:
                    state, value = complete, raw
                else:
                    try:
                        state, value = complete, coerce_value(raw)
                    except InvalidArgumentError as exc:
                        state, error = failed, str(exc)
            finish(name, number, state, value, clock(), error)
            if error is not None:
                logger.warning("trial %d failed: %s", number, error)
            if value is not None:
                best = self._best_value
                if best is None or (value > best if maximize else value < best):
                    self._best_number, self._best_value = number, value
            if countdown is not None:
                countdown -= 1
                stop.n_done += 1
            else:
                stop.update_value(state, value)
            if progress is not None:
                progress.update(1)

    def after_trial(
        self, record: TrialRecord, stop: StopRules, callbacks: list[Callback], progress: Any
    ) -> None:
        """Book-keeping after each finished trial: stopping rules, callbacks, progress."""
        stop.update(record)
        for cb in callbacks:
            cb(self, record)
        if progress is not None:
            progress.update(1)
            if self._best_value is not None:
                progress.set_postfix(best=self._best_value, refresh=False)


def _progress(show: bool | None, total: int | None) -> Any:
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return None
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped]
    except ImportError:
        return None
    return tqdm(total=total, unit="trial", leave=False)


def _space_to_dicts(space: SearchSpace) -> list[dict[str, Any]]:
    out = []
    for p in space.params:
        d = asdict(p)
        if d.get("choices") is not None:
            d["choices"] = list(d["choices"])
        out.append(d)
    return out


def _space_from_meta(meta: StudyMeta) -> SearchSpace:
    if not meta.space:
        return EmptySpace()
    constraints = [constraint_from_dict(c) for c in meta.user_attrs.get("constraints", [])]
    return SearchSpace([HyperparameterSpace(**dict(d)) for d in meta.space], constraints)


def _resumed_sampler(
    stored: StudyMeta, given: Sampler, method_given: bool, seed: int | None
) -> Sampler:
    """The sampler of a stored study being continued: its stored method, options and seed win.

    A method, options or seed given to :func:`create_study` that differ from the stored ones
    are ignored with a warning, so the study stays reproducible from its record.
    """
    options = stored_options(stored.method, stored.sampler_options)
    ignored = []
    if method_given:
        if given.name != stored.method:
            ignored.append(f"method {given.name!r}")
        elif given.options() != options:
            ignored.append(f"method options {given.options()!r}")
    requested = getattr(given, "_requested_seed", None)
    if requested is not None:
        seed = requested
    if seed is not None and seed != stored.seed:
        ignored.append(f"seed {seed!r}")
    if ignored:
        warnings.warn(
            f"study {stored.name!r} is stored with method {stored.method!r} (options "
            f"{options!r}) and seed {stored.seed}; it continues with those, "
            f"ignoring the given {', '.join(ignored)}",
            UserWarning,
            stacklevel=3,
        )
    if stored.method in METHODS:
        return make_sampler(stored.method, **options)
    # A custom sampler class is not in the registry: keep the instance given.
    return given


def create_study(
    search_space: SearchSpaceLike | None = None,
    method: str | Sampler | None = None,
    *,
    maximize: bool = DEFAULT_MAXIMIZE,
    directions: Sequence[str] | None = None,
    seed: int | None = None,
    storage: Storage | str | None = None,
    study_name: str | None = None,
    load_if_exists: bool = False,
    pruner: Pruner | None = None,
    constraints_func: ConstraintsFunc | None = None,
    **method_options: Any,
) -> Study:
    """Create a study (or continue a stored one with ``load_if_exists=True``).

    ``method`` is a method name (``"random"`` when None) or a :class:`Sampler`. A stored study
    that is continued keeps its stored method, options and seed; different ones given here are
    ignored with a ``UserWarning``. ``maximize`` defaults to True; ``directions`` (instead of
    ``maximize``) lists ``"minimize"`` / ``"maximize"`` per objective for a multi-objective
    study, whose objective returns one number per direction (random search and TPE, which works
    as MOTPE).
    ``constraints_func(record)`` is called once per complete trial and returns its outcome
    constraint values (a sequence of floats, ``<= 0`` feasible); the best trial is feasible
    whenever one is, and TPE and the GP steer towards the feasible region.

    >>> study = create_study({"x": HyperparameterSpace("x", "float", -1.0, 1.0)}, "random",
    ...                      maximize=False, seed=0)
    >>> study.optimize(lambda p: p["x"] ** 2, n_trials=20)
    """
    maximize, dirs = resolve_directions(maximize, directions)
    check_constraints_func(constraints_func)
    load_if_exists = check_flag("load_if_exists", load_if_exists)
    check_pruner(pruner)
    space = static_space(search_space)
    given_seed = seed
    seed = _check_seed(seed)
    store = get_storage(storage)
    method_given = method is not None or bool(method_options)
    sampler = make_sampler("random" if method is None else method, seed=None, **method_options)
    check_method(dirs, sampler)
    name = study_name if study_name is not None else f"study-{secrets.token_hex(4)}"
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(f"study_name must be a non-empty string, got {study_name!r}")
    meta = StudyMeta(
        name=name,
        maximize=bool(maximize),
        space=_space_to_dicts(space),
        method=sampler.name,
        sampler_options=sampler.options(),
        seed=seed,
        user_attrs=(
            {"constraints": [asdict(c) for c in space.constraints]} if space.constraints else {}
        )
        | ({"directions": dirs} if len(dirs) > 1 else {}),
    )
    stored = store.create_study(meta, load_if_exists=load_if_exists)
    if stored is not meta:
        if stored.user_attrs.get("directions") != meta.user_attrs.get("directions"):
            raise InvalidArgumentError(
                f"study {name!r} is stored with directions "
                f"{directions_of(stored, stored.maximize)}, got {dirs}"
            )
        if stored.maximize != meta.maximize:
            raise InvalidArgumentError(
                f"study {name!r} is stored with maximize={stored.maximize}, "
                f"got maximize={meta.maximize}"
            )
        if stored.space != meta.space:
            raise InvalidArgumentError(
                f"study {name!r} is stored with a different search space; load it with "
                "load_study() or use another study_name"
            )
        sampler = _resumed_sampler(stored, sampler, method_given, given_seed)
    return Study(
        space=space,
        sampler=sampler,
        maximize=stored.maximize,
        storage=store,
        meta=stored,
        pruner=pruner,
        constraints_func=constraints_func,
    )


def load_study(
    *,
    study_name: str,
    storage: Storage | str,
    pruner: Pruner | None = None,
    method: str | Sampler | None = None,
    constraints_func: ConstraintsFunc | None = None,
) -> Study:
    """Reopen a stored study; its space, direction, seed and method come from the storage.

    A ``constraints_func`` is not stored (it is code): give it again to keep evaluating
    constraints; the stored trials keep their values either way.

    A missing SQLite file is an error (StorageError), not a new empty database.
    """
    check_pruner(pruner)
    if isinstance(storage, str) and storage.startswith("sqlite://"):
        path = parse_sqlite_url(storage)
        if not os.path.exists(path):
            raise StorageError(f"cannot load study {study_name!r}: no such file {path!r}")
    store = get_storage(storage)
    meta = store.load_study(study_name)
    space = _space_from_meta(meta)
    if method is None:
        sampler = make_sampler(meta.method, **stored_options(meta.method, meta.sampler_options))
    else:
        sampler = make_sampler(method)
    return Study(
        space=space,
        sampler=sampler,
        maximize=meta.maximize,
        storage=store,
        meta=meta,
        pruner=pruner,
        constraints_func=constraints_func,
    )
