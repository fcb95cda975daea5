"""The parallel scheduler: several trials at once in threads, worker processes or any Executor.

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

import logging
import os
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hptune._errors import InvalidArgumentError
from hptune._objective import Catch, Objective, error_text, wants_trial
from hptune._process_pool import ProcessPool, WorkerDiedError
from hptune._stop_rules import StopRules
from hptune._worker import TrialOutcome, TrialTask, run_live, run_task
from hptune.trial import Trial, TrialRecord, TrialState

if TYPE_CHECKING:  # annotations only: study.py imports this module, not the other way round
    from hptune.study import Callback, Study

__all__ = ["run_parallel"]

logger = logging.getLogger("hptune")

# Longest the parent blocks without looking at deadlines and Ctrl-C.
_MAX_WAIT = 1.0
# How long a remote trial the parent judged prunable may go on, to prune itself (cheap: its
# worker stays up) before the parent cancels it (a killed worker has to be replaced).
_PRUNE_GRACE = 2.0


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
    stop: StopRules,
    callbacks: list[Callback],
    progress: Any,
    catch: Catch,
    *,
    n_jobs: int,
    executor: Any,
    trial_timeout: float | None,
) -> None:
    """Run trials ``n_jobs`` at a time until ``stop`` says done (see the module docstring)."""
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
            return backend.submit(run_live, objective, trial, pass_trial, catch_t)
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
            record = study.tell(job.trial, state=TrialState.FAILED, error=error_text(exc))
        else:
            study.tell(job.trial, state=TrialState.FAILED, error=error_text(exc))
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
