"""Parallel trials: threads, worker processes and executors, with failures, timeouts, pruning."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import _study_helpers as helpers
import hptune
from hptune import TrialState
from hptune._process_pool import ProcessPool
from hptune.pruners import MedianPruner

SPACE = helpers.SPACE


def states(study: hptune.Study) -> dict[TrialState, int]:
    out: dict[TrialState, int] = {}
    for t in study.trials:
        out[t.state] = out.get(t.state, 0) + 1
    return out


def check_failures(study: hptune.Study, n: int) -> None:
    trials = study.trials
    assert [t.number for t in trials] == list(range(n))
    for t in trials:
        if t.params["x"] < 0.3:
            assert t.state is TrialState.FAILED
            assert t.error is not None
            assert "ValueError: x=" in t.error
        else:
            assert t.state is TrialState.COMPLETE
            assert t.value == t.params["x"]


# --------------------------------------------------------------------- threads
def test_threads_with_failing_trials() -> None:
    study = hptune.create_study(SPACE, seed=1)
    study.optimize(helpers.fails_below, n_trials=16, n_jobs=2, executor="thread")
    check_failures(study, 16)
    assert TrialState.FAILED in states(study)


def test_threads_really_overlap() -> None:
    # Two trials must be in the objective at once for the barrier to open.
    barrier = threading.Barrier(2, timeout=30)

    def objective(params: dict[str, Any]) -> float:
        barrier.wait()
        return float(params["x"])

    study = hptune.create_study(SPACE, seed=1)
    study.optimize(objective, n_trials=6, n_jobs=2, executor="thread")
    assert states(study) == {TrialState.COMPLETE: 6}


def test_concurrent_trials_get_different_params() -> None:
    study = hptune.create_study(SPACE, seed=2)
    batch = study.ask(4)
    assert len({t.params["x"] for t in batch}) == 4
    assert [t.number for t in batch] == [0, 1, 2, 3]


def test_thread_trial_timeout_marks_failed_and_ignores_the_late_result() -> None:
    release = threading.Event()

    def objective(trial: hptune.Trial) -> float:
        if trial.number == 1:
            release.wait(30)
        return float(trial.params["x"])

    study = hptune.create_study(SPACE, seed=1)
    try:
        study.optimize(objective, n_trials=4, n_jobs=2, executor="thread", trial_timeout=1.0)
    finally:
        release.set()
    trials = study.trials
    assert trials[1].state is TrialState.FAILED
    assert trials[1].error is not None
    assert "trial timeout" in trials[1].error
    assert "late result is ignored" in trials[1].error
    assert [t.state for t in trials if t.number != 1] == [TrialState.COMPLETE] * 3


def test_thread_pruning_with_memory_storage() -> None:
    study = hptune.create_study(SPACE, seed=3, pruner=MedianPruner(n_startup_trials=2))
    study.optimize(helpers.reporting, n_trials=20, n_jobs=2, executor="thread")
    assert states(study).get(TrialState.PRUNED, 0) > 0


def test_thread_pool_executor_is_in_process() -> None:
    study = hptune.create_study(SPACE, seed=3, pruner=MedianPruner(n_startup_trials=2))
    with ThreadPoolExecutor(2) as pool:
        study.optimize(helpers.reporting, n_trials=12, executor=pool)
    assert len(study.trials) == 12
    assert states(study).get(TrialState.PRUNED, 0) > 0


def test_keyboard_interrupt_stops_cleanly() -> None:
    started = threading.Event()

    def objective(trial: hptune.Trial) -> float:
        if trial.number == 3:
            started.wait(30)
            raise KeyboardInterrupt
        if trial.number == 4:
            started.set()
            threading.Event().wait(1.0)  # still running when the interrupt lands
        return float(trial.params["x"])

    study = hptune.create_study(SPACE, seed=1)
    study.optimize(objective, n_trials=50, n_jobs=2, executor="thread")
    assert study.interrupted
    trials = study.trials
    assert all(t.state is not TrialState.RUNNING for t in trials)
    interrupted = [t for t in trials if t.state is TrialState.FAILED]
    assert {t.number for t in interrupted} >= {3}
    assert all("KeyboardInterrupt" in (t.error or "") for t in interrupted)
    assert len(trials) < 50


def test_uncaught_exception_propagates_and_leaves_nothing_running() -> None:
    study = hptune.create_study(SPACE, seed=1)
    with pytest.raises(ValueError, match="too small"):
        study.optimize(helpers.fails_below, n_trials=30, n_jobs=2, executor="thread", catch=())
    assert all(t.state is not TrialState.RUNNING for t in study.trials)


def test_early_stopping_in_parallel() -> None:
    study = hptune.create_study(SPACE, seed=1)
    study.optimize(
        lambda p: 1.0, n_trials=100, n_jobs=2, executor="thread", early_stopping_rounds=4
    )
    # The first trial sets the best; four more without improvement stop it (plus one in flight).
    assert 5 <= len(study.trials) <= 6


def test_callbacks_see_every_trial() -> None:
    seen: list[int] = []
    study = hptune.create_study(SPACE, seed=1)
    study.optimize(
        helpers.fails_below,
        n_trials=10,
        n_jobs=2,
        executor="thread",
        callbacks=[lambda s, r: seen.append(r.number)],
    )
    assert sorted(seen) == list(range(10))


# --------------------------------------------------------------------- processes
def test_processes_with_failing_trials() -> None:
    study = hptune.create_study(SPACE, seed=1)
    study.optimize(helpers.fails_below, n_trials=12, n_jobs=2, executor="process")
    check_failures(study, 12)


def test_process_worker_crash_fails_only_its_trial() -> None:
    study = hptune.create_study(SPACE, seed=1)
    study.optimize(helpers.dies_above, n_trials=10, n_jobs=2, executor="process")
    for t in study.trials:
        if t.params["x"] > 0.7:
            assert t.state is TrialState.FAILED
            assert "WorkerDiedError" in (t.error or "")
        else:
            assert t.state is TrialState.COMPLETE
    assert any(t.state is TrialState.FAILED for t in study.trials)


def test_process_trial_timeout_kills_the_worker() -> None:
    study = hptune.create_study(SPACE, seed=1)
    study.optimize(
        helpers.hangs_above, n_trials=10, n_jobs=2, executor="process", trial_timeout=4.0
    )
    timed_out = [t for t in study.trials if t.params["x"] > 0.7]
    assert timed_out
    for t in timed_out:
        assert t.state is TrialState.FAILED
        assert "trial timeout" in (t.error or "")
        assert "stopped" in (t.error or "")
    assert all(t.state is TrialState.COMPLETE for t in study.trials if t.params["x"] <= 0.7)


def test_process_pruning_through_a_shared_storage(shared_url: str) -> None:
    url = shared_url
    study = hptune.create_study(SPACE, seed=3, storage=url, pruner=MedianPruner(n_startup_trials=2))
    study.optimize(helpers.reporting, n_trials=16, n_jobs=2, executor="process")
    pruned = [t for t in study.trials if t.state is TrialState.PRUNED]
    assert pruned
    for t in pruned:
        assert t.intermediate_values


def test_process_reports_come_back_with_memory_storage() -> None:
    # Without a shared storage a process worker cannot prune, but its reports are kept.
    study = hptune.create_study(SPACE, seed=3)
    study.optimize(helpers.reporting, n_trials=4, n_jobs=2, executor="process")
    for t in study.trials:
        assert t.state is TrialState.COMPLETE
        assert t.intermediate_values == {s: t.params["x"] * s for s in range(6)}


def test_process_pool_as_an_executor() -> None:
    study = hptune.create_study(SPACE, seed=1)
    with ProcessPool(2) as pool:
        study.optimize(helpers.hangs_above, n_trials=10, executor=pool, trial_timeout=4.0)
    assert len(study.trials) == 10
    assert any(t.state is TrialState.FAILED for t in study.trials)
    assert all((t.state is TrialState.FAILED) == (t.params["x"] > 0.7) for t in study.trials)


def test_auto_picks_processes_for_importable_objectives(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="hptune"):
        hptune.create_study(SPACE, seed=1).optimize(helpers.square, n_trials=2, n_jobs=2)
        hptune.create_study(SPACE, seed=1).optimize(lambda p: p["x"], n_trials=2, n_jobs=2)
    text = caplog.text
    assert "in worker processes" in text
    assert "in threads" in text


# --------------------------------------------------------------------- arguments
def test_bad_arguments() -> None:
    study = hptune.create_study(SPACE, seed=1)
    with pytest.raises(hptune.InvalidArgumentError, match="n_jobs"):
        study.optimize(helpers.square, n_trials=2, n_jobs=0)
    with pytest.raises(hptune.InvalidArgumentError, match="executor"):
        study.optimize(helpers.square, n_trials=2, n_jobs=2, executor="gpu")
    with pytest.raises(hptune.InvalidArgumentError, match="picklable"):
        study.optimize(lambda p: threading.Lock(), n_trials=2, n_jobs=2, executor="process")
    with pytest.raises(hptune.InvalidArgumentError, match="trial_timeout"):
        study.optimize(helpers.square, n_trials=2, trial_timeout=0)
    assert study.trials == []


INTERRUPTED_STUDY = """
import sys
sys.path.insert(0, sys.argv[2])
import hptune, _study_helpers as h
study = hptune.create_study(h.SPACE, seed=1, storage=sys.argv[1], study_name="int")
study.optimize(h.announces_then_hangs, n_trials=100, n_jobs=2, executor="process")
print("interrupted", study.interrupted, flush=True)
"""


def test_ctrl_c_stops_process_workers_and_fails_their_trials(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'int.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_STUDY, url, str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "started"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "interrupted True" in out
    trials = hptune.load_study(study_name="int", storage=url).trials
    assert 1 <= len(trials) <= 2
    for t in trials:
        assert t.state is TrialState.FAILED
        assert "KeyboardInterrupt" in (t.error or "")


def test_threads_share_a_stored_study(shared_url: str) -> None:
    # Each worker thread reports through its own connection.
    url = shared_url
    study = hptune.create_study(SPACE, seed=3, storage=url, pruner=MedianPruner(n_startup_trials=2))
    study.optimize(helpers.reporting, n_trials=16, n_jobs=2, executor="thread")
    trials = hptune.load_study(study_name=study.name, storage=url).trials
    assert len(trials) == 16
    assert any(t.state is TrialState.PRUNED for t in trials)
    assert all(t.intermediate_values for t in trials)


def test_worker_that_cannot_reach_the_storage_still_runs(tmp_path: Path) -> None:
    from hptune._worker import TrialTask, run_task

    # The file exists but holds no such study: as on a Ray node with its own /tmp.
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    hptune.SQLiteStorage(url).close()
    task = TrialTask(
        helpers.reporting, 0, {"x": 0.5}, True, "missing", True, url, MedianPruner(), (Exception,)
    )
    outcome = run_task(task)
    assert outcome.state is TrialState.COMPLETE
    assert outcome.intermediate_values == {s: 0.5 * s for s in range(6)}


def test_parent_prunes_remote_trials_that_never_check(
    shared_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hptune._scheduler as parallel

    monkeypatch.setattr(parallel, "_PRUNE_GRACE", 0.1)
    url = shared_url
    study = hptune.create_study(
        SPACE, maximize=False, seed=1, storage=url, pruner=MedianPruner(n_startup_trials=1)
    )
    # The two enqueued trials complete; the others with x >= 0.5 hang after reporting values
    # worse than the completed trials' median, so only the parent's pruning can end them.
    study.enqueue({"x": 0.1})
    study.enqueue({"x": 0.2})
    study.optimize(
        helpers.reports_never_checks, n_trials=6, n_jobs=2, executor="process", trial_timeout=30
    )
    for t in study.trials:
        if t.params["x"] >= 0.5:
            assert t.state is TrialState.PRUNED, t
            assert t.intermediate_values
        else:
            assert t.state is TrialState.COMPLETE
    assert any(t.state is TrialState.PRUNED for t in study.trials)


def _gone(pid: int, timeout: float = 30.0) -> bool:
    """Whether process ``pid`` ends (or is a zombie nobody reaped) within ``timeout`` s."""
    from hptune.storage._owner import owner, owner_alive

    host = owner()[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if owner_alive(host, pid, None) is False:
            return True
        time.sleep(0.05)
    return False


ORPHANED_WORKERS = """
import sys
sys.path.insert(0, sys.argv[1])
import _study_helpers as h
import hptune

study = hptune.create_study(h.SPACE, seed=0)
study.optimize(h.announces_pid_then_hangs, n_trials=4, n_jobs=2, executor="process")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_process_workers_die_with_a_killed_parent() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHANED_WORKERS, str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        workers = [int(parent.stdout.readline().split()[1]) for _ in range(2)]
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    assert all(_gone(pid) for pid in workers)


WATCHED_CHILD = """
import os, subprocess, sys, time
code = (
    "import os, time; from hptune._process_pool import watch_parent; "
    "watch_parent(os.getppid(), interval=0.05); print(os.getpid(), flush=True); time.sleep(120)"
)
subprocess.Popen([sys.executable, "-c", code])
time.sleep(120)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_the_portable_parent_watch_ends_an_orphan() -> None:
    # Only the fallback thread, without prctl: the child ends once its parent is killed.
    parent = subprocess.Popen(
        [sys.executable, "-c", WATCHED_CHILD], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    assert _gone(child)
