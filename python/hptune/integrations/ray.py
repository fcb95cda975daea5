"""Run a study's trials as Ray tasks: ``study.optimize(objective, executor=RayExecutor())``.

Needs the optional extra ``hptune[ray]``; Ray is imported when an executor is made, never by
``import hptune``. Each trial is one Ray task. Ray itself never re-runs one (its
``max_retries=0``: a trial that crashed its worker, say by running out of memory, is failed, not
silently re-run); a trial lost because its node died (``ray.exceptions.NodeDiedError``, not the
objective's fault) is submitted again, up to the executor's ``max_retries`` times. Cancelling a
trial's future calls ``ray.cancel(force=True)``, so a trial past its ``trial_timeout``, or one
stopped when the study is interrupted, frees its CPU at once.

``RayExecutor(address="head:6379")`` connects to a cluster started with ``ray start`` when Ray
is not initialised yet (``"auto"``: the cluster running on this machine; ``"ray://head:10001"``:
through Ray Client, which needs ``ray[client]``). A node's death shows once the head's health
checks give up on it (its ``RAY_health_check_*`` settings); only then is the trial submitted
again, and Ray places it on a node still alive.

For pruning across workers, give the study a storage every Ray worker can open (PostgreSQL, or
an SQLite file on this machine or on a file system all nodes share): workers then report to it
and ask the pruner themselves. With an in-memory storage, workers return their reports with the
result. The objective is pickled by reference: its module must import on every worker (install
it, or pass ``runtime_env={"py_modules": [...]}`` or a ``PYTHONPATH`` to ``ray.init``).

>>> import ray  # doctest: +SKIP
>>> ray.init(num_cpus=4)  # doctest: +SKIP
>>> study.optimize(objective, n_trials=100, executor=RayExecutor())  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Executor, Future
from typing import Any

from hptune._errors import InvalidArgumentError

logger = logging.getLogger("hptune")

__all__ = ["RayExecutor"]


def _ray() -> Any:
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise ImportError(
            "RayExecutor needs Ray: pip install 'hptune[ray]' (or pip install 'ray>=2.60')"
        ) from None


def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return fn(*args, **kwargs)


class _RayFuture(Future[Any]):
    """A future for one Ray task; ``cancel()`` cancels the task even while it runs."""

    def __init__(self, ray: Any, ref: Any, call: tuple[Any, ...]) -> None:
        super().__init__()
        self._ray = ray
        self.ref = ref
        # What to submit again when the task's node dies, and how often that happened.
        self.call = call
        self.retries = 0

    def cancel(self) -> bool:
        if self.done():
            return False
        # The task may have finished meanwhile: then there is nothing left to cancel.
        with contextlib.suppress(Exception):
            self._ray.cancel(self.ref, force=True)
        if not super().cancel():
            return False
        # No executor thread will pick this future up: notify waiters now, or wait() would
        # never count it as done.
        self.set_running_or_notify_cancel()
        return True


class RayExecutor(Executor):
    """A ``concurrent.futures.Executor`` that runs each call as a Ray task.

    ``max_workers`` is how many trials a study keeps in flight (default: the cluster's CPUs
    divided by ``num_cpus`` per task). When Ray is not initialised yet, ``ray.init(address=
    address)`` is called (``address=None``: a local Ray, or the cluster ``RAY_ADDRESS`` names;
    ``"auto"``, ``"ray://head:10001"``: that cluster); otherwise the running Ray is used and
    ``address`` must be None. A task lost because its node died is submitted again up to
    ``max_retries`` times (default 3), with a warning. ``remote_options`` go to ``ray.remote``
    (``num_gpus=1``, ``memory=...``, ``runtime_env=...``).
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        address: str | None = None,
        num_cpus: float = 1.0,
        max_retries: int = 3,
        **remote_options: Any,
    ) -> None:
        if address is not None and (not isinstance(address, str) or not address):
            raise InvalidArgumentError(f"address must be a non-empty string, got {address!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidArgumentError(f"max_retries must be an int >= 0, got {max_retries!r}")
        if "max_retries" in remote_options or "retry_exceptions" in remote_options:
            raise InvalidArgumentError(
                "Ray's own task retries stay off (a crashed trial is not silently re-run); "
                "use RayExecutor(max_retries=...) for trials lost with their node"
            )
        ray = _ray()
        if not ray.is_initialized():
            ray.init(address=address)
        elif address is not None:
            raise InvalidArgumentError(
                f"Ray is already initialised; address={address!r} cannot be applied (call "
                "ray.shutdown() first, or leave address=None to use the running Ray)"
            )
        if not num_cpus > 0:
            raise InvalidArgumentError(f"num_cpus must be positive, got {num_cpus!r}")
        if max_workers is None:
            cpus = float(ray.cluster_resources().get("CPU", 1.0))
            max_workers = max(1, int(cpus // num_cpus))
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise InvalidArgumentError(f"max_workers must be an int >= 1, got {max_workers!r}")
        self.max_workers = max_workers
        self.max_retries = max_retries
        options = {"num_cpus": num_cpus, "max_retries": 0, **remote_options}
        self._ray = ray
        self._node_died: type[BaseException] = ray.exceptions.NodeDiedError
        self._task_error: type[BaseException] = ray.exceptions.RayTaskError
        self._remote = ray.remote(**options)(_call)
        self._futures: set[_RayFuture] = set()
        self._shut = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._shut:
            raise RuntimeError("cannot submit to a RayExecutor after shutdown")
        call = (fn, args, kwargs)
        fut = _RayFuture(self._ray, self._remote.remote(*call), call)
        self._futures.add(fut)
        self._watch(fut)
        return fut

    def _watch(self, fut: _RayFuture) -> None:
        fut.ref.future().add_done_callback(lambda inner: self._settle(fut, inner))

    def _lost_with_node(self, exc: BaseException | None) -> bool:
        # A RayTaskError came out of the objective (even one raising NodeDiedError itself).
        return isinstance(exc, self._node_died) and not isinstance(exc, self._task_error)

    def _settle(self, fut: _RayFuture, inner: Future[Any]) -> None:
        if fut.cancelled():
            self._futures.discard(fut)
            return
        # Ray raises a RayTaskError subclass of the task's exception type, so ``except
        # ValueError`` and the study's ``catch`` still see the original type.
        exc = inner.exception()
        if self._lost_with_node(exc) and fut.retries < self.max_retries and not self._shut:
            fut.retries += 1
            logger.warning(
                "a Ray task was lost with its node (%s); running it again (retry %d of %d)",
                exc,
                fut.retries,
                self.max_retries,
            )
            fut.ref = self._remote.remote(*fut.call)
            self._watch(fut)
            return
        self._futures.discard(fut)
        if not fut.set_running_or_notify_cancel():
            return
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(inner.result())

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shut = True
        if cancel_futures:
            for fut in list(self._futures):
                fut.cancel()
        if wait:
            futures.wait(list(self._futures))
