"""Objectives for tests that run trials in worker processes (they must import by name)."""

from __future__ import annotations

import os
import time
from typing import Any

import hptune

SPACE = {"x": hptune.HyperparameterSpace("x", "float", 0.0, 1.0)}


def square(params: dict[str, Any]) -> float:
    return float((params["x"] - 0.3) ** 2)


def fails_below(params: dict[str, Any]) -> float:
    """Fails for x < 0.3, so a run has failures among its completed trials."""
    if params["x"] < 0.3:
        raise ValueError(f"x={params['x']:.3f} is too small")
    return float(params["x"])


def hangs_above(params: dict[str, Any]) -> float:
    """Sleeps far past any test's trial timeout for x > 0.7 (the timeouts leave seconds of
    margin for starting a worker process on a loaded machine)."""
    if params["x"] > 0.7:
        time.sleep(60)
    return float(params["x"])


def dies_above(params: dict[str, Any]) -> float:
    """Kills its own worker process for x > 0.7 (a crash, not an exception)."""
    if params["x"] > 0.7:
        os._exit(3)
    return float(params["x"])


def reporting(trial: Any) -> float:
    """Reports x * step for 6 steps and honours the pruner."""
    x = trial.params["x"]
    for step in range(6):
        trial.report(x * step, step)
        if trial.should_prune():
            raise hptune.TrialPruned()
    return float(x)


def announces_then_hangs(params: dict[str, Any]) -> float:
    """Prints a line (the test waits for it) and sleeps until killed."""
    # One write of one line: two workers sharing the parent's stdout do not interleave.
    os.write(1, b"started\n")
    time.sleep(60)
    return float(params["x"])


def reports_never_checks(trial: Any) -> float:
    """Reports x at 4 steps and never asks should_prune(); trials with x >= 0.5 then hang."""
    x = trial.params["x"]
    for step in range(4):
        trial.report(x, step)
    if x >= 0.5:
        time.sleep(60)
    return float(x)


def announces_pid_then_hangs(params: dict[str, Any]) -> float:
    """Prints ``started <pid>`` of its worker and sleeps until killed."""
    # One write of one line: workers sharing the parent's stdout do not interleave.
    os.write(1, f"started {os.getpid()}\n".encode())
    time.sleep(120)
    return float(params["x"])


def raises_node_died(params: dict[str, Any]) -> float:
    """Raises Ray's NodeDiedError from the objective itself (its node is fine)."""
    import ray.exceptions

    raise ray.exceptions.NodeDiedError("raised by the objective itself")


def records_its_ray_node(trial: Any) -> float:
    """Writes the Ray node id it runs on to ``$HPTUNE_TEST_RAY_MARKS/<trial>-<pid>``; on the
    node named in the ``hang-on`` file there, sleeps until that node is killed."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    marks = os.environ["HPTUNE_TEST_RAY_MARKS"]
    with open(os.path.join(marks, f"{trial.number}-{os.getpid()}"), "w") as f:
        f.write(node)
    hang_on = os.path.join(marks, "hang-on")
    if os.path.exists(hang_on):
        with open(hang_on) as f:
            if f.read() == node:
                time.sleep(120)
    # Long enough that two trials in flight run at once, one on each 1-CPU node.
    time.sleep(1.0)
    return float((trial.params["x"] - 0.3) ** 2)
