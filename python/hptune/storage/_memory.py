"""In-memory storage: the default, fast, lost with the process."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from hptune._errors import StorageError
from hptune.storage._base import Storage, StudyMeta
from hptune.trial import TrialRecord, TrialState

__all__ = ["InMemoryStorage"]


class _StudyData:
    __slots__ = ("meta", "queue", "running", "trials")

    def __init__(self, meta: StudyMeta) -> None:
        self.meta = meta
        self.trials: list[TrialRecord] = []
        self.running: dict[int, dict[int, float]] = {}
        self.queue: deque[dict[str, Any]] = deque()


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
            number = len(data.trials)
            data.trials.append(
                TrialRecord(number, params or {}, TrialState.RUNNING, datetime_start=datetime_start)
            )
            data.running[number] = {}
            return number

    def set_trial_params(self, study: str, number: int, params: dict[str, Any]) -> None:
        with self._lock:
            data = self._get(study)
            if number not in data.running:
                raise StorageError(f"trial {number} of study {study!r} is not running")
            data.trials[number] = replace(data.trials[number], params=params)

    def report(self, study: str, number: int, step: int, value: float) -> None:
        with self._lock:
            data = self._get(study)
            values = data.running.get(number)
            if values is None:
                raise StorageError(f"trial {number} of study {study!r} is not running")
            values[step] = value

    def finish_trial(self, study: str, record: TrialRecord) -> None:
        with self._lock:
            data = self._get(study)
            values = data.running.pop(record.number, None)
            if values is None:
                raise StorageError(f"trial {record.number} of study {study!r} is not running")
            if values and not record.intermediate_values:
                record = replace(record, intermediate_values=dict(values))
            data.trials[record.number] = record

    def trials(
        self, study: str, states: Collection[TrialState] | None = None
    ) -> list[TrialRecord]:
        with self._lock:
            data = self._get(study)
            out = []
            for t in data.trials:
                if t.state is TrialState.RUNNING:
                    t = replace(t, intermediate_values=dict(data.running.get(t.number, {})))
                if states is None or t.state in states:
                    out.append(t)
            return out

    def intermediate_values(self, study: str, step: int) -> list[tuple[int, float]]:
        with self._lock:
            data = self._get(study)
            out = [
                (t.number, t.intermediate_values[step])
                for t in data.trials
                if t.state is not TrialState.RUNNING and step in t.intermediate_values
            ]
            out.extend((n, v[step]) for n, v in data.running.items() if step in v)
            return out

    def enqueue(self, study: str, params: dict[str, Any]) -> None:
        with self._lock:
            self._get(study).queue.append(dict(params))

    def pop_enqueued(self, study: str) -> dict[str, Any] | None:
        with self._lock:
            queue = self._get(study).queue
            return queue.popleft() if queue else None
