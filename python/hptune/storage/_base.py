"""The storage interface: where studies and the state changes of their trials are recorded."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from hptune.trial import TrialRecord, TrialState

__all__ = ["Storage", "StudyMeta"]


@dataclass(frozen=True)
class StudyMeta:
    """What a study needs to be reopened: direction, space, method and its options, seed."""

    name: str
    maximize: bool
    space: list[dict[str, Any]]
    method: str
    sampler_options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    user_attrs: dict[str, Any] = field(default_factory=dict)


class Storage(ABC):
    """Records studies and trials; every method returns once its change is recorded.

    Trial numbers are unique within a study and given out by the storage, so several workers
    (threads, processes, machines sharing a database) never collide.
    """

    #: A URL that worker processes can open to reach the same studies (None: this process only).
    url: str | None = None
    #: Seconds between heartbeats of running trials (None: the storage needs no heartbeats).
    heartbeat_interval: float | None = None
    #: Seconds without a heartbeat after which a RUNNING trial counts as stale.
    stale_grace: float | None = None

    @abstractmethod
    def create_study(self, meta: StudyMeta, load_if_exists: bool = False) -> StudyMeta:
        """Create a study; with ``load_if_exists`` return the stored one when the name exists."""

    @abstractmethod
    def load_study(self, name: str) -> StudyMeta:
        """The stored study named ``name`` (StorageError when there is none)."""

    @abstractmethod
    def study_names(self) -> list[str]:
        """Names of all stored studies."""

    @abstractmethod
    def delete_study(self, name: str) -> None:
        """Remove a study and its trials."""

    @abstractmethod
    def create_trial(
        self, study: str, datetime_start: float, params: dict[str, Any] | None = None
    ) -> int:
        """Record a RUNNING trial and return its (unique) number.

        Params may follow with :meth:`set_trial_params`, because random streams are keyed by the
        trial number and so the number must exist before the sampler runs.
        """

    @abstractmethod
    def set_trial_params(self, study: str, number: int, params: dict[str, Any]) -> None:
        """Record the params of a RUNNING trial."""

    @abstractmethod
    def report(self, study: str, number: int, step: int, value: float) -> None:
        """Record an intermediate value of a running trial."""

    @abstractmethod
    def finish_trial(self, study: str, record: TrialRecord) -> None:
        """Record the final state of a trial (``record.number`` must exist and be RUNNING)."""

    @abstractmethod
    def trials(self, study: str, states: Collection[TrialState] | None = None) -> list[TrialRecord]:
        """Trials of a study in number order, optionally only those in ``states``."""

    def n_trials(self, study: str) -> int:
        """Number of trials of a study, in every state."""
        return len(self.trials(study))

    def get_trial(self, study: str, number: int) -> TrialRecord:
        """One trial by number (storages override this with a direct lookup)."""
        for record in self.trials(study):
            if record.number == number:
                return record
        from hptune._errors import StorageError

        raise StorageError(f"study {study!r} has no trial {number}")

    def changes(self, study: str, since: int) -> tuple[int, list[TrialRecord]] | None:
        """Trials created, given params or finished after change mark ``since``, and the new mark.

        Storages shared by several processes number every such change of a study's trials with
        a counter that only grows; a study keeps the mark of its last look and asks for what
        changed since, so a look costs in proportion to the changes, not to the study's size.
        ``since=0`` gives every trial. The records carry no intermediate values. Storages that
        only this process reaches return None: a study there sees every change itself.
        """
        return None

    def changes_and_create_trial(
        self, study: str, since: int, datetime_start: float
    ) -> tuple[tuple[int, list[TrialRecord]] | None, int]:
        """:meth:`changes` and then :meth:`create_trial` without params: a study's look before
        an ask and the ask's first trial. Storages across a network do both in one round trip;
        the look does not include the new trial."""
        changed = self.changes(study, since)
        return changed, self.create_trial(study, datetime_start)

    def changes_and_next_number(
        self, study: str, since: int
    ) -> tuple[tuple[int, list[TrialRecord]] | None, int | None]:
        """:meth:`changes` and the number the study's next new trial would get, when the
        storage can tell it cheaply (else None) for :meth:`create_numbered_trial`."""
        return self.changes(study, since), None

    def create_numbered_trial(
        self, study: str, number: int, datetime_start: float, params: dict[str, Any]
    ) -> tuple[bool, int]:
        """Record RUNNING trial ``number`` with ``params`` if ``number`` is the study's next
        number; ``(False, the next number as far as known)`` if another trial took it."""
        raise NotImplementedError(f"{type(self).__name__} does not predict trial numbers")

    def trial_states(self, study: str) -> dict[int, TrialState]:
        """The state of every trial by number (pruners use it; storages may do it cheaper)."""
        return {t.number: t.state for t in self.trials(study)}

    @abstractmethod
    def intermediate_values(self, study: str, step: int) -> list[tuple[int, float]]:
        """``(number, value)`` of every trial that reported at ``step`` (for pruners)."""

    @abstractmethod
    def enqueue(self, study: str, params: dict[str, Any]) -> None:
        """Queue params to be evaluated before the sampler is asked."""

    @abstractmethod
    def pop_enqueued(self, study: str) -> dict[str, Any] | None:
        """Take the oldest queued params, if any (each is handed out once)."""

    def heartbeat(self, study: str, number: int) -> None:  # noqa: B027 - optional hook
        """Note that a running trial's worker is alive (storages shared across processes)."""

    def fail_stale_trials(self, study: str, grace_seconds: float) -> list[int]:
        """Mark RUNNING trials without a heartbeat for ``grace_seconds`` as failed.

        A trial whose owning process runs on this host and is still alive is kept, however old
        its heartbeat (an objective holding the GIL delays heartbeats but is not dead).
        """
        return []

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
