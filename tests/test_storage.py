"""Storages: the contract all implement, persistence, bad inputs, crash and resume.

Tests of shared storages run on SQLite, and on PostgreSQL when ``HPTUNE_TEST_POSTGRES`` names a
test database (see ``_storages.py``).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import hptune
from _storages import BACKENDS, open_storage, run_sql, shared_url
from hptune import InMemoryStorage, Storage, StorageError, TrialRecord, TrialState
from hptune.storage import PostgresStorage, StudyMeta, get_storage
from hptune.storage._sqlite import SCHEMA_VERSION, SQLiteStorage

SPACE = {"x": hptune.HyperparameterSpace("x", "float", 0.0, 1.0)}
HERE = Path(__file__).parent


def sqlite_url(path: Path) -> str:
    # Absolute paths take four slashes: sqlite:// + / + /abs/path.
    return f"sqlite:///{path}"


def meta(name: str = "s") -> StudyMeta:
    return StudyMeta(name=name, maximize=True, space=[{"name": "x"}], method="random", seed=7)


@pytest.fixture(params=["memory", *BACKENDS])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "memory":
        store: Storage = InMemoryStorage()
        store.create_study(meta())
        yield store
        return
    with shared_url(request.param, tmp_path) as url:
        store = open_storage(url)
        store.create_study(meta())
        yield store
        store.close()


# --------------------------------------------------------------------- the contract
def test_trial_lifecycle(storage: Storage) -> None:
    a = storage.create_trial("s", 1.0)
    b = storage.create_trial("s", 2.0, {"x": 0.5})
    assert (a, b) == (0, 1)
    storage.set_trial_params("s", a, {"x": 0.25})
    storage.report("s", a, 0, 1.5)
    storage.report("s", a, 3, 2.5)
    running = storage.trials("s", [TrialState.RUNNING])
    assert [t.number for t in running] == [0, 1]
    assert running[0].intermediate_values == {0: 1.5, 3: 2.5}
    assert sorted(storage.intermediate_values("s", 3)) == [(0, 2.5)]
    storage.finish_trial(
        "s",
        TrialRecord(0, {"x": 0.25}, TrialState.COMPLETE, 3.0, {}, 1.0, 4.0, 3.0, None, {"k": 1}),
    )
    storage.finish_trial(
        "s", TrialRecord(1, {"x": 0.5}, TrialState.FAILED, None, {}, 2.0, 4.0, 2.0, "boom", {})
    )
    done = storage.trials("s")
    assert [t.state for t in done] == [TrialState.COMPLETE, TrialState.FAILED]
    # Reported values survive a record that carries none.
    assert done[0].intermediate_values == {0: 1.5, 3: 2.5}
    assert done[0].value == 3.0
    assert done[0].user_attrs == {"k": 1}
    assert done[1].error == "boom"
    assert [t.number for t in storage.trials("s", [TrialState.FAILED])] == [1]
    assert storage.n_trials("s") == 2
    assert storage.get_trial("s", 0).params == {"x": 0.25}
    assert storage.trial_states("s") == {0: TrialState.COMPLETE, 1: TrialState.FAILED}


def test_finished_trial_refuses_changes(storage: Storage) -> None:
    n = storage.create_trial("s", 0.0, {"x": 0.1})
    storage.finish_trial("s", TrialRecord(n, {"x": 0.1}, TrialState.PRUNED))
    with pytest.raises(StorageError, match="not running"):
        storage.report("s", n, 1, 1.0)
    with pytest.raises(StorageError, match="not running"):
        storage.set_trial_params("s", n, {"x": 0.2})
    with pytest.raises(StorageError, match="not running"):
        storage.finish_trial("s", TrialRecord(n, {"x": 0.1}, TrialState.COMPLETE, 1.0))


def test_a_look_and_a_new_trial_in_one_call(storage: Storage) -> None:
    first = storage.create_trial("s", 1.0, {"x": 0.5})
    changed, number = storage.changes_and_create_trial("s", 0, 2.0)
    assert number == first + 1
    assert storage.get_trial("s", number).state is TrialState.RUNNING
    if changed is None:  # a storage only this process reaches
        assert storage.changes("s", 0) is None
        return
    mark, records = changed
    assert [r.number for r in records] == [first]  # the look does not hold the new trial
    later, records = storage.changes("s", mark)
    assert later > mark
    assert [(r.number, r.params) for r in records] == [(number, {})]


def test_a_trial_made_with_a_predicted_number(storage: Storage) -> None:
    storage.create_trial("s", 1.0)
    changed, predicted = storage.changes_and_next_number("s", 0)
    if predicted is None:  # this storage does not predict numbers
        return
    assert changed is not None
    assert predicted == 1
    # Another worker takes the number first: the prediction fails and tells the next one.
    assert storage.create_trial("s", 2.0) == 1
    created, upcoming = storage.create_numbered_trial("s", 1, 3.0, {"x": 0.5})
    assert not created
    assert upcoming in (1, 2)  # the statement's snapshot may predate the other's commit
    assert storage.create_numbered_trial("s", 2, 3.0, {"x": 0.5}) == (True, 2)
    trial = storage.get_trial("s", 2)
    assert (trial.state, trial.params) == (TrialState.RUNNING, {"x": 0.5})
    assert storage.n_trials("s") == 3
    _, records = storage.changes("s", changed[0])
    assert [(r.number, r.params) for r in records] == [(1, {}), (2, {"x": 0.5})]


def test_asks_stop_predicting_numbers_for_a_while_after_a_miss(
    shared_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = hptune.create_study(SPACE, seed=3, storage=shared_url, study_name="p")
    storage = study.storage
    if storage.changes_and_next_number("p", 0)[1] is None:
        pytest.skip("this storage does not predict trial numbers")
    calls: list[str] = []
    real_numbered, real_create = storage.create_numbered_trial, storage.changes_and_create_trial

    def numbered(*args: object) -> tuple[bool, int]:
        calls.append("predicted")
        if len(calls) in (1, 3):  # another worker took the number first
            return False, 0
        return real_numbered(*args)  # type: ignore[arg-type]

    def create(*args: object) -> object:
        calls.append("usual")
        return real_create(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(storage, "create_numbered_trial", numbered)
    monkeypatch.setattr(storage, "changes_and_create_trial", create)
    trials = [study.ask() for _ in range(7)]
    # A miss, one usual ask, a miss, two usual asks, then predictions again.
    assert calls == ["predicted", "usual", "predicted", "usual", "usual", "predicted", "predicted"]
    alone = hptune.create_study(SPACE, seed=3)
    assert [t.number for t in trials] == list(range(7))
    assert [t.params for t in trials] == [alone.ask().params for _ in range(7)]
    for t in trials:  # none left running for the heartbeat thread after the test
        study.tell(t, 0.0)


def test_queue_is_fifo_and_hands_out_once(storage: Storage) -> None:
    storage.enqueue("s", {"x": 0.1})
    storage.enqueue("s", {"x": 0.2})
    assert storage.pop_enqueued("s") == {"x": 0.1}
    assert storage.pop_enqueued("s") == {"x": 0.2}
    assert storage.pop_enqueued("s") is None


def test_studies_create_load_delete(storage: Storage) -> None:
    with pytest.raises(StorageError, match="already exists"):
        storage.create_study(meta())
    assert storage.create_study(meta(), load_if_exists=True).seed == 7
    storage.create_study(meta("t"))
    assert sorted(storage.study_names()) == ["s", "t"]
    storage.delete_study("t")
    with pytest.raises(StorageError, match=r"no study named 't'.*existing: \['s'\]"):
        storage.load_study("t")


# --------------------------------------------------------------------- SQLite specifics
def test_stored_study_is_durable_across_instances(shared_url: str) -> None:
    url = shared_url
    study = hptune.create_study(SPACE, maximize=False, seed=3, storage=url, study_name="a")
    study.enqueue({"x": 0.5})
    study.optimize(lambda p: (p["x"] - 0.3) ** 2, n_trials=8, show_progress=False)
    again = hptune.load_study(study_name="a", storage=url)
    assert again.maximize is False
    assert again.seed == 3
    assert [t.params for t in again.trials] == [t.params for t in study.trials]
    assert again.trials[0].params == {"x": 0.5}
    assert again.best_value == study.best_value
    assert again.best_trial.number == study.best_trial.number


def test_params_enqueued_by_another_worker_go_to_the_next_ask(shared_url: str) -> None:
    # The look before an ask also tells whether the queue is empty (PostgreSQL skips the pop
    # then): an entry enqueued by another worker after a look is still taken by the next ask.
    one = hptune.create_study(SPACE, seed=0, storage=shared_url, study_name="q")
    two = hptune.load_study(study_name="q", storage=shared_url)
    two.enqueue({"x": 0.25})
    assert one.ask().params == {"x": 0.25}
    one.sync()
    two.enqueue({"x": 0.75})
    assert one.ask().params == {"x": 0.75}
    one.storage.enqueue("q", {"x": 0.5})
    assert one.storage.pop_enqueued("q") == {"x": 0.5}
    assert one.ask().params != {"x": 0.5}


def test_resume_continues_the_same_random_stream(shared_url: str) -> None:
    # A study stopped after 6 trials and resumed for 6 more makes the same 12 trials as one run.
    url = shared_url
    first = hptune.create_study(SPACE, seed=11, storage=url, study_name="r")
    first.optimize(lambda p: p["x"], n_trials=6, show_progress=False)
    resumed = hptune.load_study(study_name="r", storage=url)
    resumed.optimize(lambda p: p["x"], n_trials=6, show_progress=False)
    whole = hptune.create_study(SPACE, seed=11)
    whole.optimize(lambda p: p["x"], n_trials=12, show_progress=False)
    assert [t.params for t in resumed.trials] == [t.params for t in whole.trials]
    assert [t.number for t in resumed.trials] == list(range(12))


def test_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = SQLiteStorage("sqlite:///rel.db")
    assert (tmp_path / "rel.db").exists()
    relative.close()
    absolute = get_storage(sqlite_url(tmp_path / "abs.db"))
    assert isinstance(absolute, SQLiteStorage)
    assert absolute.url is not None
    assert (tmp_path / "abs.db").exists()


def test_pickled_storage_reopens_the_database(shared_url: str) -> None:
    import pickle

    store = open_storage(shared_url, heartbeat_interval=2.0)
    store.create_study(meta())
    copy = pickle.loads(pickle.dumps(store))
    assert copy.study_names() == ["s"]
    assert copy.heartbeat_interval == 2.0


# --------------------------------------------------------------------- bad input
def test_unknown_scheme() -> None:
    with pytest.raises(hptune.InvalidArgumentError, match=r"unknown storage URL scheme.*'mysql'"):
        hptune.create_study(SPACE, storage="mysql://localhost/db")


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite:/x.db"])
def test_sqlite_url_without_a_file(url: str) -> None:
    with pytest.raises(hptune.InvalidArgumentError, match=r"(?i)sqlite"):
        get_storage(url)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        SQLiteStorage(sqlite_url(tmp_path / "nope" / "s.db"))


def test_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="is a directory"):
        SQLiteStorage(sqlite_url(tmp_path))


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 50)
    with pytest.raises(StorageError, match="not an SQLite database"):
        SQLiteStorage(sqlite_url(path))


def test_sqlite_database_of_something_else(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StorageError, match=r"not an hptune study database.*invoices"):
        SQLiteStorage(sqlite_url(path))


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    SQLiteStorage(sqlite_url(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE hptune_schema SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(StorageError, match="schema version"):
        SQLiteStorage(sqlite_url(path))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    SQLiteStorage(sqlite_url(path)).close()
    path.chmod(0)
    try:
        with pytest.raises(StorageError, match=r"cannot open|unable"):
            SQLiteStorage(sqlite_url(path))
    finally:
        path.chmod(0o600)


def test_missing_study(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "s.db")
    hptune.create_study(SPACE, storage=url, study_name="present")
    with pytest.raises(StorageError, match=r"no study named 'absent'.*existing: \['present'\]"):
        hptune.load_study(study_name="absent", storage=url)


def test_existing_study_without_load_if_exists(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "s.db")
    hptune.create_study(SPACE, storage=url, study_name="a")
    with pytest.raises(StorageError, match="load_if_exists=True"):
        hptune.create_study(SPACE, storage=url, study_name="a")
    assert hptune.create_study(SPACE, storage=url, study_name="a", load_if_exists=True)


def test_bad_heartbeat_settings(shared_url: str) -> None:
    with pytest.raises(hptune.InvalidArgumentError, match="twice"):
        open_storage(shared_url, heartbeat_interval=1.0, stale_grace=1.5)
    with pytest.raises(hptune.InvalidArgumentError, match="positive"):
        open_storage(shared_url, heartbeat_interval=0)


def test_postgres_url_errors() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(hptune.InvalidArgumentError, match="postgresql://"):
        PostgresStorage("mysql://localhost/db")
    # Nothing listens on port 1; the message names the server but not the password.
    with pytest.raises(StorageError, match=r"cannot connect to 'postgresql://me:\*\*\*@") as err:
        hptune.create_study(SPACE, storage="postgresql://me:secret@127.0.0.1:1/db")
    assert "secret" not in str(err.value)


# --------------------------------------------------------------------- liveness
def test_fail_stale_trials_marks_only_old_heartbeats(shared_url: str) -> None:
    store = open_storage(shared_url)
    store.create_study(meta())
    old, fresh = store.create_trial("s", 0.0), store.create_trial("s", 0.0)
    # Owned by a process on another host: only its heartbeat's age can tell.
    elsewhere = "UPDATE {trials} SET heartbeat = 0, host = 'elsewhere' WHERE number = ?"
    run_sql(shared_url, elsewhere, old)
    assert store.fail_stale_trials("s", 60.0) == [old]
    states = store.trial_states("s")
    assert states == {old: TrialState.FAILED, fresh: TrialState.RUNNING}
    error = store.get_trial("s", old).error
    assert error is not None
    assert "heartbeat" in error


def test_stale_heartbeat_of_a_live_process_on_this_host_is_kept(shared_url: str) -> None:
    # An objective holding the GIL starves the heartbeat thread; its process is alive, so its
    # trial must not be failed. A dead process's trial (same host) is failed.
    store = open_storage(shared_url)
    store.create_study(meta())
    mine, dead = store.create_trial("s", 0.0), store.create_trial("s", 0.0)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    run_sql(shared_url, "UPDATE {trials} SET heartbeat = 0")
    run_sql(shared_url, "UPDATE {trials} SET pid = ? WHERE number = ?", gone.pid, dead)
    assert store.fail_stale_trials("s", 60.0) == [dead]
    assert store.trial_states("s") == {mine: TrialState.RUNNING, dead: TrialState.FAILED}


def test_version_1_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    store = SQLiteStorage(sqlite_url(path))
    study = hptune.create_study(SPACE, seed=2, storage=store, study_name="old")
    study.optimize(lambda p: p["x"], n_trials=3, show_progress=False)
    store.close()
    with sqlite3.connect(path) as conn:
        # Back to the version-1 layout: no change counter, no owner or constraint columns.
        conn.execute("DROP INDEX trials_seq")
        for column in ("seq", "host", "pid", "pid_start", "constraints"):
            conn.execute(f"ALTER TABLE trials DROP COLUMN {column}")
        conn.execute("UPDATE hptune_schema SET version = 1")
    again = hptune.load_study(study_name="old", storage=sqlite_url(path))
    assert len(again.trials) == 3
    assert again.best_value == max(t.params["x"] for t in again.trials)
    again.optimize(lambda p: p["x"], n_trials=2, show_progress=False)
    mark, changed = again.storage.changes("old", 0)  # type: ignore[misc]
    assert [t.number for t in changed] == list(range(5))
    assert again.storage.changes("old", mark) == (mark, [])
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM hptune_schema").fetchone() == (SCHEMA_VERSION,)


def test_sqlite_helpers_roll_back_and_migrate(tmp_path: Path) -> None:
    from hptune._sqlite_util import ForeignDatabaseError, connect, ensure_schema, transaction

    conn = connect(str(tmp_path / "h.db"), 1.0, pragmas=("foreign_keys=ON",))
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    schema = "CREATE TABLE v (version INTEGER NOT NULL); CREATE TABLE t (x INTEGER)"
    assert ensure_schema(conn, "v", 1, schema) == 1
    assert ensure_schema(conn, "v", 2, schema, {1: "UPDATE v SET version = 2"}) == 2

    def insert_then_fail() -> None:
        with transaction(conn):
            conn.execute("INSERT INTO t VALUES (1)")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        insert_then_fail()
    with transaction(conn):
        conn.execute("INSERT INTO t VALUES (2)")
    assert conn.execute("SELECT x FROM t").fetchall() == [(2,)]
    assert not conn.in_transaction
    conn.close()
    other = connect(None)
    other.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(ForeignDatabaseError) as info:
        ensure_schema(other, "v", 1, schema)
    assert info.value.tables == ("invoices",)
    assert not other.in_transaction


def test_heartbeat_keeps_a_long_trial_alive(shared_url: str) -> None:
    store = open_storage(shared_url, heartbeat_interval=0.05)
    study = hptune.create_study(SPACE, storage=store, study_name="h")
    trial = study.ask()
    first = _heartbeat_of(shared_url, trial.number)
    deadline = time.monotonic() + 10
    # Waits for the background thread, however slow the machine: no timing assertion.
    while _heartbeat_of(shared_url, trial.number) == first:
        assert time.monotonic() < deadline, "no heartbeat within 10 s"
        time.sleep(0.02)
    assert study.tell(trial, 1.0).state is TrialState.COMPLETE


def _heartbeat_of(url: str, number: int) -> float:
    return float(run_sql(url, "SELECT heartbeat FROM {trials} WHERE number = ?", number)[0][0])


CRASHING_STUDY = textwrap.dedent(
    """
    import sys, time
    import hptune

    url, hang_at = sys.argv[1], int(sys.argv[2])
    sys.path.insert(0, sys.argv[3])
    from _storages import open_storage

    storage = open_storage(url, heartbeat_interval=0.05, stale_grace=0.25)
    space = {"x": hptune.HyperparameterSpace("x", "float", 0.0, 1.0)}
    study = hptune.create_study(
        space, maximize=False, seed=5, storage=storage, study_name="crash", load_if_exists=True
    )

    def objective(trial):
        if trial.number == hang_at:
            print("hanging", flush=True)
            time.sleep(600)
        return (trial.params["x"] - 0.3) ** 2

    study.optimize(objective, n_trials=100, show_progress=False)
    """
)


def test_crash_and_resume(shared_url: str) -> None:
    url = shared_url
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_STUDY, url, "5", str(HERE)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "hanging"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The killed worker's last heartbeat must age past the grace: the one unavoidable sleep.
    time.sleep(0.35)
    storage = open_storage(url, heartbeat_interval=0.05, stale_grace=0.25)
    study = hptune.load_study(study_name="crash", storage=storage)
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 5 + [TrialState.FAILED]
    assert trials[5].error is not None
    assert "heartbeat" in trials[5].error
    assert study.best_value == min(t.value for t in trials[:5] if t.value is not None)
    study.optimize(lambda p: (p["x"] - 0.3) ** 2, n_trials=5, show_progress=False)
    after = study.trials
    assert len(after) == 11
    assert [t.state for t in after[6:]] == [TrialState.COMPLETE] * 5
    # The completed trials are exactly those an uninterrupted run makes.
    reference = hptune.create_study(SPACE, maximize=False, seed=5)
    reference.optimize(lambda p: (p["x"] - 0.3) ** 2, n_trials=11, show_progress=False)
    assert [t.params for t in after] == [t.params for t in reference.trials]


TWO_WORKERS = textwrap.dedent(
    """
    import os, pathlib, sys, time
    import hptune

    url, rendezvous = sys.argv[1], pathlib.Path(sys.argv[2])
    space = {"x": hptune.HyperparameterSpace("x", "float", 0.0, 1.0)}
    study = hptune.create_study(space, seed=9, storage=url, study_name="shared",
                                load_if_exists=True)
    # Start together, so the two workers really contend for trial numbers.
    (rendezvous / f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while len(list(rendezvous.glob("ready-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    study.optimize(lambda p: p["x"], n_trials=200, show_progress=False)
    """
)


def test_two_processes_share_one_study(shared_url: str, tmp_path: Path) -> None:
    url = shared_url
    hptune.create_study(SPACE, seed=9, storage=url, study_name="shared")
    procs = [
        subprocess.Popen([sys.executable, "-c", TWO_WORKERS, url, str(tmp_path)]) for _ in range(2)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    trials = hptune.load_study(study_name="shared", storage=url).trials
    assert [t.number for t in trials] == list(range(400))
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert all(t.value == t.params["x"] for t in trials)
    # Random params depend on the trial number alone, however the workers raced for numbers
    # (on PostgreSQL they are drawn for a predicted number before the trial is stored).
    alone = hptune.create_study(SPACE, seed=9)
    assert [t.params for t in trials] == [alone.ask().params for _ in range(400)]


GIL_HOLDER = textwrap.dedent(
    """
    import sys, time
    import hptune
    sys.path.insert(0, sys.argv[2])
    from _storages import open_storage

    # A long switch interval: a busy objective keeps the GIL, so the heartbeat thread starves.
    sys.setswitchinterval(30.0)
    storage = open_storage(sys.argv[1], heartbeat_interval=0.05, stale_grace=0.2)
    space = {"x": hptune.HyperparameterSpace("x", "float", 0.0, 1.0)}
    study = hptune.create_study(space, seed=1, storage=storage, study_name="gil")

    def objective(params):
        print("busy", flush=True)
        end = time.perf_counter() + 1.0
        while time.perf_counter() < end:
            pass
        return params["x"]

    study.optimize(objective, n_trials=2, show_progress=False)
    """
)


def test_a_worker_holding_the_gil_is_not_declared_dead(shared_url: str) -> None:
    url = shared_url
    proc = subprocess.Popen(
        [sys.executable, "-c", GIL_HOLDER, url, str(HERE)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "busy"
    # Another worker on this host looks for stale trials while the first holds the GIL.
    store = open_storage(url, heartbeat_interval=0.05, stale_grace=0.2)
    failed: list[int] = []
    while proc.poll() is None:
        failed += store.fail_stale_trials("gil", 0.2)
        time.sleep(0.05)
    assert proc.wait() == 0
    assert failed == []
    assert [t.state for t in store.trials("gil")] == [TrialState.COMPLETE] * 2


def test_a_trial_failed_by_another_worker_is_lost_not_the_run(
    shared_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = shared_url
    study = hptune.create_study(SPACE, seed=4, storage=url, study_name="lost")
    other = open_storage(url)

    def objective(trial: hptune.Trial) -> float:
        if trial.number == 1:
            # Another worker takes this trial for a dead one (say, its owner is elsewhere).
            run_sql(url, "UPDATE {trials} SET heartbeat = 0, host = 'elsewhere' WHERE number = 1")
            assert other.fail_stale_trials("lost", 60.0) == [1]
        return float(trial.params["x"])

    with caplog.at_level("WARNING", logger="hptune"):
        study.optimize(objective, n_trials=4, show_progress=False)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAILED, *[TrialState.COMPLETE] * 2]
    assert "trial 1 of study 'lost' was marked failed by another worker" in caplog.text
    # The lost trial is an observation like any failed one, not a running trial.
    assert study.n_trials == 4
    assert not study._running
