"""A pool of fresh worker processes that can kill the process of one task.

Workers are ``python -c`` interpreters on POSIX (never forked: the Rust core may have started
threads; not multiprocessing's spawn, which re-runs the user's main script), multiprocessing's
spawn elsewhere. They die with their parent, even when it is killed with SIGKILL: on Linux the
kernel sends them SIGKILL (``prctl(PR_SET_PDEATHSIG)``); everywhere a watcher thread ends a
worker whose parent is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import pickle
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from multiprocessing.connection import Connection
from typing import Any

from hptune._errors import HptuneError, InvalidArgumentError

__all__ = ["ProcessPool", "WorkerDiedError", "watch_parent"]


class WorkerDiedError(HptuneError):
    """A worker process ended (crashed, was killed, ran out of memory) in the middle of a trial."""


def _worker_main(conn: Connection) -> None:
    # Ctrl-C reaches the whole process group; the parent decides what it stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            message = pickle.loads(data)
            if message is None:
                return
            fn, args, kwargs = message
            reply: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except BaseException as exc:
            reply = ("err", exc)
        try:
            conn.send(reply)
        except Exception as exc:
            conn.send(("err", RuntimeError(f"the worker's result could not be pickled: {exc!r}")))


# prctl option: the signal this process gets when the thread that started it ends (Linux).
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """End this worker process when process ``parent`` (the one that started it) ends.

    On Linux the kernel kills it with SIGKILL; elsewhere, and as a fallback, a daemon thread
    polls the parent pid (a dead parent's children are adopted by another process).
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
            pass
    # The parent may have died before prctl took effect.
    if os.getppid() != parent:
        os._exit(1)
    watch_parent(parent)


def watch_parent(parent: int, interval: float = 0.5) -> threading.Thread:
    """Start a daemon thread that ends this process once its parent pid is no longer
    ``parent`` (the portable part of :func:`_die_with_parent`)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    thread = threading.Thread(target=watch, name="hptune-parent-watch", daemon=True)
    thread.start()
    return thread


def _watch_spawn_parent() -> None:  # pragma: no cover - exercised on Windows only
    """The fallback for multiprocessing's spawn: wait on the parent's process sentinel."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="hptune-parent-watch", daemon=True).start()


def _spawn_entry(conn: Connection) -> None:  # pragma: no cover - exercised on Windows only
    """Entry point of a worker process started by multiprocessing's spawn (not POSIX)."""
    _watch_spawn_parent()
    _worker_main(conn)


def _child_entry() -> None:
    """Entry point of a worker process started by :class:`ProcessPool` (POSIX)."""
    _die_with_parent(int(sys.argv[2]))
    conn = Connection(int(sys.argv[1]))
    # The parent's import path, so objectives from the user's modules import the same way.
    sys.path[:] = conn.recv()
    _worker_main(conn)


class _WorkerProcess:
    """A fresh interpreter running :func:`_worker_main`, talking over a socket pair.

    On POSIX the worker is ``python -c`` rather than a multiprocessing ``spawn`` child: spawn
    re-runs the user's main script in the child, which breaks every unguarded script (no
    ``if __name__ == "__main__"``). Fork is never used: the Rust core may have started threads.
    Elsewhere it falls back to multiprocessing's spawn.
    """

    def __init__(self) -> None:
        if os.name == "posix":
            parent, child = socket.socketpair()
            code = "from hptune._process_pool import _child_entry; _child_entry()"
            # PR_SET_PDEATHSIG follows the thread that starts the worker: a pool slot's
            # thread, which outlives its workers.
            self._popen: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-c", code, str(child.fileno()), str(os.getpid())],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
            )
            child.close()
            self._process: Any = None
            self.conn = Connection(parent.detach())
            self.conn.send(list(sys.path))
        else:  # pragma: no cover - exercised on Windows only
            ctx = multiprocessing.get_context("spawn")
            parent_conn, child_conn = ctx.Pipe()
            self._popen = None
            self._process = ctx.Process(target=_spawn_entry, args=(child_conn,), daemon=True)
            self._process.start()
            child_conn.close()
            self.conn = parent_conn

    def is_alive(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is None
        return bool(self._process.is_alive())

    def kill(self) -> None:
        if self._popen is not None:
            if self._popen.poll() is None:
                self._popen.kill()
        else:  # pragma: no cover
            self._process.kill()

    def reap(self) -> int | None:
        """Close the pipe and wait for the process; its exit code (negative: a signal)."""
        self.conn.close()
        try:
            if self._popen is not None:
                return self._popen.wait(timeout=5)
            self._process.join(timeout=5)  # pragma: no cover
            return self._process.exitcode  # type: ignore[no-any-return]  # pragma: no cover
        except subprocess.TimeoutExpired:
            self.kill()
            return self._popen.wait() if self._popen is not None else None


class _Slot:
    """One worker process and the parent thread that feeds it, one task at a time."""

    def __init__(self, pool: ProcessPool, index: int) -> None:
        self.pool = pool
        self.worker: _WorkerProcess | None = None
        self.current: Future[Any] | None = None
        self.thread = threading.Thread(
            target=self._serve, name=f"hptune-worker-{index}", daemon=True
        )
        self.thread.start()

    def _ensure(self) -> Connection:
        worker = self.worker
        if worker is not None and worker.is_alive():
            return worker.conn
        self._reap()
        self.worker = worker = _WorkerProcess()
        return worker.conn

    def _reap(self) -> int | None:
        worker, self.worker = self.worker, None
        return None if worker is None else worker.reap()

    def _serve(self) -> None:
        q = self.pool.queue
        while True:
            item = q.get()
            if item is None:
                self._close()
                return
            fut, fn, args, kwargs = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                conn = self._ensure()
                # Pickle before touching the pipe, so a task that does not pickle fails alone.
                data = pickle.dumps((fn, args, kwargs))
                self.current = fut
                conn.send_bytes(data)
                status, payload = conn.recv()
            except (EOFError, OSError):
                code = self._reap()
                fut.set_exception(
                    WorkerDiedError(f"the worker process ended during the trial (exit code {code})")
                )
            except Exception as exc:
                fut.set_exception(exc)
            else:
                if status == "ok":
                    fut.set_result(payload)
                else:
                    fut.set_exception(payload)
            finally:
                self.current = None

    def kill(self) -> None:
        worker = self.worker
        if worker is not None:
            worker.kill()

    def _close(self) -> None:
        worker = self.worker
        if worker is not None and worker.is_alive():
            with contextlib.suppress(OSError):
                worker.conn.send_bytes(pickle.dumps(None))
        self._reap()


class ProcessPool(Executor):
    """A pool of fresh worker processes (never forked) that can stop a single task.

    Unlike ``ProcessPoolExecutor``, killing the worker of one task (a timeout) or a worker dying
    fails that task only: its slot starts a fresh process for the next task. Workers start
    lazily, on their first task, and are reused.

    >>> with ProcessPool(2) as pool:  # doctest: +SKIP
    ...     pool.submit(pow, 2, 10).result()
    1024
    """

    def __init__(self, max_workers: int) -> None:
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise InvalidArgumentError(f"max_workers must be an int >= 1, got {max_workers!r}")
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._max_workers = max_workers
        self._slots = [_Slot(self, i) for i in range(max_workers)]
        self._shut = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._shut:
            raise RuntimeError("cannot submit to a ProcessPool after shutdown")
        fut: Future[Any] = Future()
        self.queue.put((fut, fn, args, kwargs))
        return fut

    def terminate(self, fut: Future[Any]) -> bool:
        """Kill the process running ``fut`` (its slot restarts); cancel it when still queued."""
        if fut.cancel():
            return True
        for slot in self._slots:
            if slot.current is fut:
                slot.kill()
                return True
        return False

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._shut:
            return
        self._shut = True
        if cancel_futures or not wait:
            while True:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        if not wait:
            for slot in self._slots:
                slot.kill()
        for _ in self._slots:
            self.queue.put(None)
        if wait:
            for slot in self._slots:
                slot.thread.join()
