"""Injectable time: the service reads the time and waits through a clock object.

:class:`SystemClock` is real time. :class:`ManualClock` is simulated time for tests: it moves only
when :meth:`ManualClock.advance` is called, and ``advance`` returns once every thread it woke is
waiting again, so a test can drive the background thread through a simulated day in
milliseconds without sleeping or racing.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

from hptune._errors import InvalidArgumentError

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """What the service needs of time: the current time, and an interruptible wait."""

    def time(self) -> float:
        """Seconds since an arbitrary epoch (the Unix epoch for real time)."""
        ...

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Block until ``event`` is set or ``timeout`` seconds have passed; True if it was set."""
        ...


class SystemClock:
    """Real time: ``time.time()`` and ``Event.wait``."""

    def time(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, timeout: float) -> bool:
        return event.wait(max(0.0, timeout))


# How often a thread waiting on a ManualClock looks at its event: ``Event.set`` cannot notify the
# clock's condition, so a stop() is seen within this much real time.
_POLL_SECONDS = 0.005


class ManualClock:
    """Simulated time that moves only on :meth:`advance` (or :meth:`set`).

    >>> clock = ManualClock(start=1000.0)
    >>> clock.advance(86400)
    >>> clock.time()
    87400.0
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._cond = threading.Condition()
        # Threads that have waited on this clock, and the deadline each is waiting for now
        # (None while it runs). advance() uses this to know when woken threads are done.
        self._deadlines: dict[threading.Thread, float | None] = {}

    def time(self) -> float:
        with self._cond:
            return self._now

    def wait(self, event: threading.Event, timeout: float) -> bool:
        me = threading.current_thread()
        with self._cond:
            deadline = self._now + max(0.0, timeout)
            self._deadlines[me] = deadline
            self._cond.notify_all()
            try:
                while not event.is_set() and self._now < deadline:
                    self._cond.wait(_POLL_SECONDS)
                return event.is_set()
            finally:
                self._deadlines[me] = None
                self._cond.notify_all()

    def advance(self, seconds: float, *, settle_timeout: float = 10.0) -> None:
        """Move time forward and return once every woken thread is waiting again (or ended).

        Raises TimeoutError when a woken thread is still running after ``settle_timeout`` real
        seconds (a test that would otherwise hang).
        """
        if not seconds >= 0:
            raise InvalidArgumentError(f"seconds must be >= 0, got {seconds!r}")
        with self._cond:
            self._now += float(seconds)
            self._cond.notify_all()
            end = time.monotonic() + settle_timeout
            while not self._settled():
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("threads woken by ManualClock.advance did not settle")
                self._cond.wait(min(left, _POLL_SECONDS))

    def set(self, now: float, *, settle_timeout: float = 10.0) -> None:
        """Jump to ``now`` (not before the current time)."""
        self.advance(max(0.0, now - self.time()), settle_timeout=settle_timeout)

    def wait_for_sleepers(self, n: int = 1, *, timeout: float = 10.0) -> None:
        """Block until ``n`` other threads wait on this clock for a future time (for tests: a
        service thread just started has not waited yet, so ``advance`` could not know of it)."""
        me = threading.current_thread()
        with self._cond:
            end = time.monotonic() + timeout
            while (
                sum(
                    1
                    for t, d in self._deadlines.items()
                    if t is not me and t.is_alive() and d is not None and d > self._now
                )
                < n
            ):
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fewer than {n} threads are waiting on the clock")
                self._cond.wait(min(left, _POLL_SECONDS))

    def _settled(self) -> bool:
        for thread, deadline in list(self._deadlines.items()):
            if not thread.is_alive():
                del self._deadlines[thread]
            elif thread is threading.current_thread():
                continue
            elif deadline is None or deadline <= self._now:
                return False
        return True
