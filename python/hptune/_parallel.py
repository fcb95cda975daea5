"""Running several trials at once: threads, spawned worker processes, or any Executor.

The study stays in this (the parent) process: it asks the sampler for a batch of params (so
concurrent trials differ), hands each trial to a worker, and tells the study the outcome. Only
the parent writes final states, so the sampler's history and the best trial stay consistent.

Workers come in two kinds:

* **in-process** (threads, or a ``ThreadPoolExecutor``): the objective gets the live
  :class:`~hptune.Trial`; ``report`` and ``should_prune`` work with any storage. Threads help when
  the objective releases the GIL (numpy, torch, a simulator in C, a subprocess).
* **remote** (``executor="process"``: fresh worker processes, never forked, since the Rust core
  may have started threads; any other ``concurrent.futures.Executor``, e.g. the Ray executor): the
  objective and its params are pickled to the worker, which returns a :class:`TrialOutcome`.
  An objective that takes a trial gets a :class:`WorkerTrial`. When the study's storage has a
  URL (SQLite), the worker opens it: reports are durable as they happen and ``should_prune``
  compares against every other worker. With an in-memory storage a worker cannot reach the
  study, so its reports come back with the result and ``should_prune`` is always False: prune in
  threads, or use SQLite. With a shared storage and a pruner the parent also judges remote
  trials from their stored reports; one judged prunable gets ``_PRUNE_GRACE`` seconds to stop
  itself, then its task is cancelled (a worker process killed, ``ray.cancel`` on Ray) and the
  trial recorded as pruned, with its reports. So an objective that reports but never asks
  ``should_prune`` is still pruned.

Worker processes die with their parent, even when it is killed with SIGKILL: on Linux the
kernel sends them SIGKILL (``prctl(PR_SET_PDEATHSIG)``); everywhere a watcher thread ends a
worker whose parent is gone (a worker holding the GIL delays only that fallback).

``trial_timeout``: a trial running longer is marked failed. A process worker is killed (and
replaced); an executor's future is cancelled (Ray: ``ray.cancel``); a thread cannot be stopped
in Python, so it runs on in the background and its late result is ignored.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
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
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from hptune._errors import HptuneError, InvalidArgumentError, TrialPruned
from hptune.storage import Storage, get_storage
from hptune.trial import Trial, TrialRecord, TrialState, checked_report

if TYPE_CHECKING:
    from hptune.study import Callback, Objective, Study, _StopRules

__all__ = [
    "ProcessPool",
    "TrialOutcome",
    "TrialTask",
    "WorkerDiedError",
    "WorkerTrial",
    "run_parallel",
    "run_task",
]

logger = logging.getLogger("hptune")

Catch = type[BaseException] | tuple[type[BaseException], ...]

# Longest the parent blocks without looking at deadlines and Ctrl-C.
_MAX_WAIT = 1.0
# How long a remote trial the parent judged prunable may go on, to prune itself (cheap: its
# worker stays up) before the parent cancels it (a killed worker has to be replaced).
_PRUNE_GRACE = 2.0


class WorkerDiedError(HptuneError):
    """A worker process ended (crashed, was killed, ran out of memory) in the middle of a trial."""


# --------------------------------------------------------------------- what crosses to workers
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
    from hptune.study import _error_text, coerce_value

    try:
        raw = objective(arg)
    except TrialPruned:
        return TrialOutcome(TrialState.PRUNED, None, None, dict(values), dict(attrs))
    except catch as exc:
        return TrialOutcome(TrialState.FAILED, None, _error_text(exc), dict(values), dict(attrs))
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


def _run_live(objective: Objective, trial: Trial, pass_trial: bool, catch: Catch) -> TrialOutcome:
    return _evaluate(
        objective,
        trial if pass_trial else trial.params,
        catch,
        trial.intermediate_values,
        trial.user_attrs,
    )


# --------------------------------------------------------------------- worker processes
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
            code = "from hptune._parallel import _child_entry; _child_entry()"
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


# --------------------------------------------------------------------- backends
class _Backend:
    """How trials reach workers, and how one is stopped."""

    in_process = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        raise NotImplementedError

    def stop(self, fut: Future[Any]) -> bool:
        return fut.cancel()

    def close(self, abandon: bool) -> None:
        pass


class _Threads(_Backend):
    """A fresh daemon thread per trial, so a trial that overran its timeout holds no slot."""

    in_process = True

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        fut.set_running_or_notify_cancel()

        def run() -> None:
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:
                fut.set_exception(exc)

        threading.Thread(target=run, name="hptune-trial", daemon=True).start()
        return fut

    def stop(self, fut: Future[Any]) -> bool:
        return False


class _Processes(_Backend):
    def __init__(self, k: int) -> None:
        self.pool = ProcessPool(k)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        return self.pool.submit(fn, *args)

    def stop(self, fut: Future[Any]) -> bool:
        return self.pool.terminate(fut)

    def close(self, abandon: bool) -> None:
        self.pool.shutdown(wait=not abandon, cancel_futures=True)


class _UserExecutor(_Backend):
    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.in_process = isinstance(executor, ThreadPoolExecutor)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        return self.executor.submit(fn, *args)

    def stop(self, fut: Future[Any]) -> bool:
        terminate = getattr(self.executor, "terminate", None)
        if terminate is not None:
            return bool(terminate(fut))
        return fut.cancel()


def _pickles_by_reference(objective: Any) -> bool:
    """Whether a spawned process can rebuild ``objective`` (picklable, not from ``__main__``)."""
    try:
        data = pickle.dumps(objective)
    except Exception:
        return False
    # A function of the script or notebook being run pickles as a reference into __main__,
    # which a spawned worker may not be able to import.
    return b"__main__" not in data


def _backend(study: Study, objective: Objective, executor: Any, k: int) -> _Backend:
    if isinstance(executor, Executor):
        return _UserExecutor(executor)
    if executor is None or executor == "auto":
        pruning_needs_threads = study.pruner is not None and study.storage.url is None
        if _pickles_by_reference(objective) and not pruning_needs_threads:
            logger.info("study %r: running %d trials at once in worker processes", study.name, k)
            return _Processes(k)
        logger.info(
            "study %r: running %d trials at once in threads (pass executor='process' for "
            "processes: the objective must pickle and live in an importable module)",
            study.name,
            k,
        )
        return _Threads()
    if executor == "thread":
        return _Threads()
    if executor == "process":
        try:
            pickle.dumps(objective)
        except Exception as exc:
            raise InvalidArgumentError(
                f"executor='process' needs a picklable objective (a module-level function or "
                f"an instance of a module-level class): {exc}"
            ) from None
        return _Processes(k)
    raise InvalidArgumentError(
        f"executor must be None, 'thread', 'process' or a concurrent.futures.Executor, "
        f"got {executor!r}"
    )


# --------------------------------------------------------------------- the loop
@dataclass(slots=True)
class _Job:
    trial: Trial
    deadline: float | None
    seen: tuple[int, int] = (0, 0)
    prune_at: float | None = None


def _tell_outcome(study: Study, trial: Trial, outcome: TrialOutcome) -> TrialRecord:
    trial.intermediate_values.update(outcome.intermediate_values)
    trial.user_attrs.update(outcome.user_attrs)
    if outcome.state is TrialState.COMPLETE:
        return study.tell(trial, outcome.value)
    return study.tell(trial, state=outcome.state, error=outcome.error)


def run_parallel(
    study: Study,
    objective: Objective,
    stop: _StopRules,
    callbacks: list[Callback],
    progress: Any,
    catch: Catch,
    *,
    n_jobs: int,
    executor: Any,
    trial_timeout: float | None,
) -> None:
    """Run trials ``n_jobs`` at a time until ``stop`` says done (see the module docstring)."""
    from hptune.study import _error_text, wants_trial

    k = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
    if isinstance(executor, Executor) and n_jobs == 1:
        # An executor brings its own width; n_jobs=1 is only optimize()'s default.
        width = getattr(executor, "_max_workers", None) or getattr(executor, "max_workers", None)
        k = int(width) if width else 1
    backend = _backend(study, objective, executor, k)
    pass_trial = wants_trial(objective) or not study.space.names
    catch_t: tuple[type[BaseException], ...] = catch if isinstance(catch, tuple) else (catch,)
    url = study.storage.url
    jobs: dict[Future[Any], _Job] = {}
    exhausted = False

    def submit(trial: Trial) -> Future[Any]:
        if backend.in_process:
            return backend.submit(_run_live, objective, trial, pass_trial, catch_t)
        task = TrialTask(
            objective,
            trial.number,
            trial.params,
            pass_trial,
            study.name,
            study.maximize,
            url,
            study.pruner if url is not None else None,
            catch_t,
        )
        return backend.submit(run_task, task)

    def finish(fut: Future[Any], job: _Job) -> None:
        exc = fut.exception()
        if exc is None:
            record = _tell_outcome(study, job.trial, fut.result())
        elif isinstance(exc, (WorkerDiedError, *catch_t)):
            record = study.tell(job.trial, state=TrialState.FAILED, error=_error_text(exc))
        else:
            study.tell(job.trial, state=TrialState.FAILED, error=_error_text(exc))
            raise exc
        if record.state is TrialState.FAILED:
            logger.warning("trial %d failed: %s", record.number, record.error)
        study.after_trial(record, stop, callbacks, progress)

    # Remote workers report to a shared storage; the parent judges their reports too, so an
    # objective that reports but never asks should_prune() is still pruned (its task cancelled,
    # e.g. ray.cancel), and a worker that is busy between reports is stopped.
    parent_prunes = not backend.in_process and url is not None and study.pruner is not None

    def watch_pruning(job: _Job) -> bool:
        """True once a remote trial judged prunable has had its grace to prune itself."""
        if job.prune_at is not None:
            return time.monotonic() >= job.prune_at
        trial = job.trial
        values = study.storage.get_trial(study.name, trial.number).intermediate_values
        # Judge again when the trial reported more, or when other trials finished (the
        # pruner's reference moved); not on every poll.
        seen = (len(values), stop.n_done)
        if not values or seen == job.seen:
            return False
        job.seen = seen
        trial.intermediate_values.update(values)
        if study._should_prune(trial):
            job.prune_at = time.monotonic() + _PRUNE_GRACE
        return False

    abandon = False
    try:
        while True:
            while not exhausted and len(jobs) < k and not stop.done(len(jobs)):
                want = k - len(jobs)
                remaining = stop.remaining()
                if remaining is not None:
                    want = min(want, remaining - len(jobs))
                trials = study._ask(want)
                if not trials:
                    exhausted = True
                    break
                deadline = None if trial_timeout is None else time.monotonic() + trial_timeout
                for trial in trials:
                    jobs[submit(trial)] = _Job(trial, deadline)
            if not jobs:
                break
            deadlines = [
                t for j in jobs.values() for t in (j.deadline, j.prune_at) if t is not None
            ]
            wait_for = _MAX_WAIT
            if deadlines:
                wait_for = min(wait_for, max(0.0, min(deadlines) - time.monotonic()))
            done, _ = wait(list(jobs), timeout=wait_for, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: jobs[f].trial.number):
                finish(fut, jobs.pop(fut))
            if parent_prunes:
                for fut, job in list(jobs.items()):
                    if not fut.done() and watch_pruning(job):
                        del jobs[fut]
                        backend.stop(fut)
                        record = study.tell(job.trial, state=TrialState.PRUNED)
                        logger.info(
                            "trial %d pruned by the study (its task cancelled)", record.number
                        )
                        study.after_trial(record, stop, callbacks, progress)
            now = time.monotonic()
            for fut, job in list(jobs.items()):
                if job.deadline is None or now < job.deadline or fut.done():
                    continue
                del jobs[fut]
                stopped = backend.stop(fut)
                how = (
                    "stopped" if stopped else "it could not be stopped; its late result is ignored"
                )
                record = study.tell(
                    job.trial,
                    state=TrialState.FAILED,
                    error=f"trial timeout: ran longer than {trial_timeout:g} s; {how}",
                )
                logger.warning("trial %d failed: %s", record.number, record.error)
                study.after_trial(record, stop, callbacks, progress)
    except BaseException as exc:
        abandon = True
        interrupted = isinstance(exc, KeyboardInterrupt)
        why = (
            "interrupted by KeyboardInterrupt"
            if interrupted
            else f"the study stopped on {type(exc).__name__}: {exc}"
        )
        for fut, job in jobs.items():
            backend.stop(fut)
            if job.trial.number in study._running:
                study.tell(job.trial, state=TrialState.FAILED, error=why)
        jobs.clear()
        if not interrupted:
            raise
        study.interrupted = True
        logger.warning("study %r interrupted; keeping the finished trials", study.name)
    finally:
        backend.close(abandon)
