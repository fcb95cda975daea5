"""In-memory storage: the default, fast, lost with the process.

Trials are kept column by column (params, state, value, times; errors, intermediate values and
attributes only where present), so 100,000 trials cost a few tens of megabytes and the serial
loop never builds a record object it does not need. Records are built when read.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Collection
from typing import Any

from hptune._errors import StorageError
from hptune.storage._base import Storage, StudyMeta
from hptune.trial import TrialRecord, TrialState

__all__ = ["InMemoryStorage"]

_RUNNING = TrialState.RUNNING


def _copy(values: list[float] | None) -> list[float] | None:
    return None if values is None else list(values)


class _StudyData:
    __slots__ = (
        "constraints",
        "ends",
        "errors",
        "intermediate",
        "meta",
        "params",
        "queue",
        "starts",
        "states",
        "user_attrs",
        "values",
    )

    def __init__(self, meta: StudyMeta) -> None:
        self.meta = meta
        self.params: list[dict[str, Any]] = []
        self.states: list[TrialState] = []
        self.values: list[float | None] = []
        self.starts: list[float] = []
        self.ends: list[float | None] = []
        self.errors: dict[int, str] = {}
        self.intermediate: dict[int, dict[int, float]] = {}
        self.user_attrs: dict[int, dict[str, Any]] = {}
        self.constraints: dict[int, list[float]] = {}
        self.queue: deque[dict[str, Any]] = deque()

    def record(self, number: int) -> TrialRecord:
        start, end = self.starts[number], self.ends[number]
        return TrialRecord(
            number,
            self.params[number],
            self.states[number],
            self.values[number],
            dict(self.intermediate.get(number, {})),
            start,
            end,
            None if end is None else end - start,
            self.errors.get(number),
            dict(self.user_attrs.get(number, {})),
            _copy(self.constraints.get(number)),
        )


class InMemoryStorage(Storage):
    """Studies kept in this process; thread-safe."""

    def __init__(self) -> None:
        self._studies: dict[str, _StudyData] = {}
        self._lock = threading.Lock()

    def _get(self, name: str) -> _StudyData:
        try:
            return self._studies[name]
        except KeyError:
            raise StorageError(
                f"no study named {name!r} in this storage; existing: {sorted(self._studies)}"
            ) from None

    def _running(self, data: _StudyData, study: str, number: int) -> None:
        if not 0 <= number < len(data.states) or data.states[number] is not _RUNNING:
            raise StorageError(f"trial {number} of study {study!r} is not running")

    def create_study(self, meta: StudyMeta, load_if_exists: bool = False) -> StudyMeta:
        with self._lock:
            if meta.name in self._studies:
                if load_if_exists:
                    return self._studies[meta.name].meta
                raise StorageError(
                    f"a study named {meta.name!r} already exists; pass load_if_exists=True "
                    "to continue it"
                )
            self._studies[meta.name] = _StudyData(meta)
            return meta

    def load_study(self, name: str) -> StudyMeta:
        with self._lock:
            return self._get(name).meta

    def study_names(self) -> list[str]:
        with self._lock:
            return list(self._studies)

    def delete_study(self, name: str) -> None:
        with self._lock:
            self._get(name)
            del self._studies[name]

    def create_trial(
        self, study: str, datetime_start: float, params: dict[str, Any] | None = None
    ) -> int:
        with self._lock:
            data = self._get(study)
            number = len(data.states)
            data.params.append(params if params is not None else {})
            data.states.append(_RUNNING)
            data.values.append(None)
            data.starts.append(datetime_start)
            data.ends.append(None)
            return number

    def create_sampled_trial(
        self, study: str, datetime_start: float, sample: Callable[[int], dict[str, Any]]
    ) -> tuple[int, dict[str, Any]]:
        """Create a RUNNING trial whose params ``sample(number)`` gives, in one step.

        The sampler runs under the storage lock, so keep it cheap (a cache lookup).
        """
        with self._lock:
            data = self._get(study)
            number = len(data.states)
            params = sample(number)
            data.params.append(params)
            data.states.append(_RUNNING)
            data.values.append(None)
            data.starts.append(datetime_start)
            data.ends.append(None)
            return number, params

    def set_trial_params(self, study: str, number: int, params: dict[str, Any]) -> None:
        with self._lock:
            data = self._get(study)
            self._running(data, study, number)
            data.params[number] = params

    def report(self, study: str, number: int, step: int, value: float) -> None:
        with self._lock:
            data = self._get(study)
            self._running(data, study, number)
            data.intermediate.setdefault(number, {})[step] = value

    def finish(
        self,
        study: str,
        number: int,
        state: TrialState,
        value: float | None,
        datetime_complete: float,
        error: str | None = None,
    ) -> None:
        """Record the end of a trial without building a record (the serial loop's path)."""
        with self._lock:
            data = self._studies.get(study)
            if data is None or data.states[number] is not _RUNNING:
                raise StorageError(f"trial {number} of study {study!r} is not running")
            data.states[number] = state
            data.values[number] = value
            data.ends[number] = datetime_complete
            if error is not None:
                data.errors[number] = error

    def finish_trial(self, study: str, record: TrialRecord) -> None:
        with self._lock:
            data = self._get(study)
            n = record.number
            self._running(data, study, n)
            data.params[n] = record.params
            data.states[n] = record.state
            data.values[n] = record.value
            data.ends[n] = record.datetime_complete
            if record.datetime_start is not None:
                data.starts[n] = record.datetime_start
            if record.error is not None:
                data.errors[n] = record.error
            if record.intermediate_values:
                data.intermediate[n] = dict(record.intermediate_values)
            if record.user_attrs:
                data.user_attrs[n] = dict(record.user_attrs)
            if record.constraints is not None:
                data.constraints[n] = list(record.constraints)

    def trials(self, study: str, states: Collection[TrialState] | None = None) -> list[TrialRecord]:
        with self._lock:
            data = self._get(study)
            if states is None:
                return [data.record(i) for i in range(len(data.states))]
            return [data.record(i) for i, s in enumerate(data.states) if s in states]

    def get_trial(self, study: str, number: int) -> TrialRecord:
        with self._lock:
            data = self._get(study)
            if not 0 <= number < len(data.states):
                raise StorageError(f"study {study!r} has no trial {number}")
            return data.record(number)

    def n_trials(self, study: str) -> int:
        with self._lock:
            return len(self._get(study).states)

    def intermediate_values(self, study: str, step: int) -> list[tuple[int, float]]:
        with self._lock:
            data = self._get(study)
            return [(n, v[step]) for n, v in data.intermediate.items() if step in v]

    def enqueue(self, study: str, params: dict[str, Any]) -> None:
        with self._lock:
            self._get(study).queue.append(dict(params))

    def pop_enqueued(self, study: str) -> dict[str, Any] | None:
        with self._lock:
            queue = self._get(study).queue
            return queue.popleft() if queue else None

    def queue_of(self, study: str) -> deque[dict[str, Any]]:
        """The queue of enqueued params (for a cheap emptiness check; take from it with
        :meth:`pop_enqueued`)."""
        with self._lock:
            return self._get(study).queue

    def trial_states(self, study: str) -> dict[int, TrialState]:
        # Pruners call this on every judged report: no records built.
        with self._lock:
            return dict(enumerate(self._get(study).states))
