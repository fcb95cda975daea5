"""Liveness of running trials on shared storages: heartbeats out, stale trials failed.

One daemon thread per study (not per trial) marks the study's running trials alive every
``storage.heartbeat_interval`` seconds and fails other workers' trials whose heartbeat is older
than ``storage.stale_grace``. It lives only while the study has running trials, so an idle study
costs nothing; objectives need not call anything for it. A process killed with SIGKILL stops
heartbeating, and the next study opened on the storage (or any study still running on it) marks
its RUNNING trials failed.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from hptune.storage import Storage

__all__ = ["Heartbeat", "fail_stale", "start_liveness"]

logger = logging.getLogger("hptune")


def fail_stale(storage: Storage, study: str) -> list[int]:
    """Mark the stale RUNNING trials of ``study`` failed and log them."""
    grace = storage.stale_grace
    if grace is None:
        return []
    failed = storage.fail_stale_trials(study, grace)
    if failed:
        logger.warning(
            "study %r: trials %s had no heartbeat for %g s (worker died); marked failed",
            study,
            failed,
            grace,
        )
    return failed


class Heartbeat:
    """Heartbeats for the trials in ``running`` (a study's live-trial dict, read only)."""

    __slots__ = ("_lock", "_running", "_thread", "interval", "storage", "study")

    def __init__(
        self, storage: Storage, study: str, running: dict[int, Any], interval: float
    ) -> None:
        self.storage = storage
        self.study = study
        self.interval = interval
        self._running = running
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure(self) -> None:
        """Make sure the thread runs (call after a trial starts)."""
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                thread = threading.Thread(
                    target=self._loop, name=f"hptune-heartbeat-{self.study}", daemon=True
                )
                self._thread = thread
                thread.start()

    def _loop(self) -> None:
        stop = threading.Event()
        while True:
            stop.wait(self.interval)
            with self._lock:
                # tuple() of a dict is atomic under the GIL; the study mutates it meanwhile.
                numbers = tuple(self._running)
                if not numbers:
                    self._thread = None
                    return
            try:
                for number in numbers:
                    self.storage.heartbeat(self.study, number)
                fail_stale(self.storage, self.study)
            except Exception as exc:  # a transient lock timeout must not kill liveness
                logger.warning("study %r: heartbeat failed: %s", self.study, exc)


def start_liveness(storage: Storage, study: str, running: dict[int, Any]) -> Heartbeat | None:
    """On opening a study: fail stale trials; a heartbeat when the storage needs one."""
    interval = storage.heartbeat_interval
    if interval is None:
        return None
    fail_stale(storage, study)
    return Heartbeat(storage, study, running, interval)
