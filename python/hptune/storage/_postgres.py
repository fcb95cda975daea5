"""PostgreSQL storage: studies shared by workers on several machines (``"postgresql://..."``).

Needs psycopg 3 (``pip install "hptune[postgres]"``). Same semantics as the SQLite storage:

Durability: every call commits before it returns (autocommit; changes of several statements
run in one transaction).

Concurrency: each thread of each process gets its own connection. A study's row holds two
counters, the next trial number and the change mark. Every change a study must see (a trial
created, given params, finished, failed as stale) increments the mark in the same transaction,
so the study's row is locked until that transaction commits: changes of one study commit one
at a time, in mark order, trial numbers are unique, and :meth:`PostgresStorage.changes` reads
those after a mark through the ``(study_id, seq)`` index. Heartbeats and reports do not lock
the study. A report locks its trial's row (``FOR SHARE``), so a trial finished by another worker
gains no values afterwards; finishing re-checks ``state = 'running'`` on the latest row version,
so a trial is finished once. Each of these changes is one statement: one round trip, one
commit. A study's look before an ask, whether the queue holds params and the ask's first trial
are one statement too (:meth:`PostgresStorage.changes_and_create_trial`); for random and Sobol'
search, whose params depend on the trial number alone, the look (read only) also gives the
next number, and the trial is stored with params drawn for it, if that number is still free
(:meth:`PostgresStorage.create_numbered_trial`). So a random-search trial costs three round
trips and two commits that wait for a WAL flush (its start, its end); a model-based one four
round trips and three commits (its number, its params, its end).

Tables are prefixed ``hptune_`` (a database may hold other applications' tables, Optuna's
``studies`` and ``trials`` say). They are created on first use under an advisory lock.
Schema version 2 added ``constraints`` (outcome constraint values, JSON); a version-1 database
is migrated under the same lock when opened.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from hptune._errors import InvalidArgumentError, StorageError
from hptune.storage._base import Storage, StudyMeta
from hptune.storage._owner import owner, owner_alive
from hptune.storage._sqlite import _dumps, _loads
from hptune.trial import TrialRecord, TrialState

__all__ = ["SCHEMA_VERSION", "PostgresStorage"]

#: Bumped on any change of the tables below; a newer database is refused, never misread.
SCHEMA_VERSION = 2

# Any constant: serialises schema creation between processes opening a fresh database.
_SCHEMA_LOCK = 0x68707475

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hptune_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS hptune_studies (
    study_id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    maximize BOOLEAN NOT NULL,
    space TEXT NOT NULL,
    method TEXT NOT NULL,
    sampler_options TEXT NOT NULL,
    seed TEXT NOT NULL,
    user_attrs TEXT NOT NULL,
    next_number BIGINT NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS hptune_trials (
    study_id BIGINT NOT NULL REFERENCES hptune_studies(study_id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    state TEXT NOT NULL,
    value DOUBLE PRECISION,
    params TEXT NOT NULL,
    datetime_start DOUBLE PRECISION,
    datetime_complete DOUBLE PRECISION,
    duration DOUBLE PRECISION,
    error TEXT,
    user_attrs TEXT NOT NULL,
    heartbeat DOUBLE PRECISION,
    seq BIGINT NOT NULL,
    host TEXT,
    pid BIGINT,
    pid_start BIGINT,
    constraints TEXT,
    PRIMARY KEY (study_id, number)
);
CREATE INDEX IF NOT EXISTS hptune_trials_state ON hptune_trials (study_id, state);
CREATE INDEX IF NOT EXISTS hptune_trials_seq ON hptune_trials (study_id, seq);
CREATE TABLE IF NOT EXISTS hptune_intermediate (
    study_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    step BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (study_id, number, step),
    FOREIGN KEY (study_id, number) REFERENCES hptune_trials(study_id, number) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS hptune_intermediate_step ON hptune_intermediate (study_id, step);
CREATE TABLE IF NOT EXISTS hptune_queue (
    id BIGSERIAL PRIMARY KEY,
    study_id BIGINT NOT NULL REFERENCES hptune_studies(study_id) ON DELETE CASCADE,
    params TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hptune_queue_study ON hptune_queue (study_id, id)
"""

# From version 1 to 2: outcome constraint values of complete trials (JSON list, or NULL).
_MIGRATE_1_TO_2 = (
    "ALTER TABLE hptune_trials ADD COLUMN IF NOT EXISTS constraints TEXT",
    "UPDATE hptune_schema SET version = 2",
)

_TRIAL_COLUMNS = (
    "number, state, value, params, datetime_start, datetime_complete, duration, error, "
    "user_attrs, constraints"
)

# Increments a study's change mark and returns it; locks the study's row until commit.
_BUMP = "UPDATE hptune_studies SET seq = seq + 1 WHERE study_id = %s RETURNING seq"


def _create_sql(numbered: bool) -> str:
    """Creates a RUNNING trial with the study's next number (CTE ``n``: its number); only if
    that number is the one given, when ``numbered``."""
    return (
        "s AS (UPDATE hptune_studies SET next_number = next_number + 1, seq = seq + 1 "
        "WHERE study_id = %s " + ("AND next_number = %s " if numbered else "") + "RETURNING "
        "next_number - 1 AS number, seq), "
        "n AS (INSERT INTO hptune_trials (study_id, number, state, params, datetime_start, "
        "user_attrs, heartbeat, seq, host, pid, pid_start) "
        "SELECT %s, s.number, 'running', %s, %s, '{}', %s, s.seq, %s, %s, %s FROM s "
        "RETURNING number)"
    )


_CREATE = _create_sql(numbered=False)
_CREATE_NUMBERED = (
    f"WITH {_create_sql(numbered=True)} SELECT (SELECT number FROM n), "
    "(SELECT next_number FROM hptune_studies WHERE study_id = %s)"
)


def _look_sql(new: str) -> str:
    """A look at the changes after a mark: ``new`` (a new trial's number, or NULL), whether the
    queue holds params, then the changed trials' columns and marks; always one row, its trial
    columns NULL when nothing changed."""
    return (
        "q AS (SELECT EXISTS (SELECT 1 FROM hptune_queue WHERE study_id = %s) AS queued) "
        f"SELECT {new}, q.queued, t.* FROM q LEFT JOIN LATERAL (SELECT {_TRIAL_COLUMNS}, seq "
        "FROM hptune_trials WHERE study_id = %s AND seq > %s) AS t ON true ORDER BY t.seq"
    )


_LOOK = "WITH " + _look_sql("NULL::bigint")
_LOOK_AND_NEXT = "WITH " + _look_sql("(SELECT next_number FROM hptune_studies WHERE study_id = %s)")
_CREATE_AND_LOOK = f"WITH {_CREATE}, " + _look_sql("(SELECT number FROM n)")

# Reads of trials and their reports see one snapshot.
_SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"

_SCHEMES = ("postgresql://", "postgres://")


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    return re.sub(r"^([a-z]+://[^:/@]*):[^@/]*@", r"\1:***@", url)


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise InvalidArgumentError(
            'a PostgreSQL storage needs psycopg 3: pip install "hptune[postgres]"'
        ) from None
    return psycopg


class PostgresStorage(Storage):
    """Studies in a PostgreSQL database: ``PostgresStorage("postgresql://user@host/db")``.

    The URL is a libpq connection URI (``postgresql://user:password@host:port/dbname?...``).
    ``heartbeat_interval`` and ``stale_grace`` work as for :class:`SQLiteStorage`: a RUNNING
    trial without a heartbeat for ``stale_grace`` seconds whose owning process is not alive on
    this host (or runs on another host) is marked failed.

    >>> storage = PostgresStorage("postgresql://hptune@db.example/studies")  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 60.0,
        heartbeat_interval: float = 10.0,
        stale_grace: float | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(_SCHEMES):
            raise InvalidArgumentError(
                f"PostgreSQL URL must look like 'postgresql://user@host:port/dbname', got {url!r}"
            )
        if not heartbeat_interval > 0:
            raise InvalidArgumentError(
                f"heartbeat_interval must be positive seconds, got {heartbeat_interval!r}"
            )
        grace = 6.0 * heartbeat_interval if stale_grace is None else float(stale_grace)
        if not grace >= 2.0 * heartbeat_interval:
            raise InvalidArgumentError(
                f"stale_grace ({grace!r} s) must be at least twice heartbeat_interval "
                f"({heartbeat_interval!r} s)"
            )
        self._psycopg = _psycopg()
        self.url = url
        self._where = redacted(url)
        self.timeout = float(timeout)
        self.heartbeat_interval = float(heartbeat_interval)
        self.stale_grace = grace
        self._local = threading.local()
        self._ids: dict[str, int] = {}
        self._init_schema()

    # ----------------------------------------------------------------- connections
    def __getstate__(self) -> dict[str, Any]:
        # Workers in other processes connect anew; connections never cross.
        return {
            "url": self.url,
            "timeout": self.timeout,
            "heartbeat_interval": self.heartbeat_interval,
            "stale_grace": self.stale_grace,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["url"],
            timeout=state["timeout"],
            heartbeat_interval=state["heartbeat_interval"],
            stale_grace=state["stale_grace"],
        )

    def _conn(self) -> Any:
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid() and not conn.closed:
            return conn
        try:
            conn = self._psycopg.connect(
                self.url, autocommit=True, connect_timeout=max(1, int(self.timeout))
            )
        except self._psycopg.Error as exc:
            raise StorageError(f"cannot connect to {self._where!r}: {str(exc).strip()}") from None
        local.conn = conn
        local.pid = os.getpid()
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A connection inside one transaction (committed on exit, rolled back on error)."""
        conn = self._conn()
        try:
            with conn.transaction():
                yield conn
        except self._psycopg.OperationalError as exc:
            self._drop()
            raise StorageError(f"PostgreSQL error on {self._where!r}: {exc}") from None

    def _execute(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        """Run one statement in autocommit (its own transaction); the cursor."""
        try:
            return self._conn().execute(sql, args)
        except self._psycopg.OperationalError as exc:
            self._drop()
            raise StorageError(f"PostgreSQL error on {self._where!r}: {exc}") from None

    def _drop(self) -> None:
        # A broken connection is replaced on the next call.
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with contextlib.suppress(self._psycopg.Error):
                conn.close()

    def _init_schema(self) -> None:
        with self._transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            exists = conn.execute("SELECT to_regclass('hptune_schema') IS NOT NULL").fetchone()[0]
            if not exists:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO hptune_schema VALUES (%s)", (SCHEMA_VERSION,))
                version = SCHEMA_VERSION
            else:
                row = conn.execute("SELECT version FROM hptune_schema").fetchone()
                version = int(row[0]) if row else -1
                if version == 1:
                    for statement in _MIGRATE_1_TO_2:
                        conn.execute(statement)
                    version = 2
        if version != SCHEMA_VERSION:
            raise StorageError(
                f"{self._where!r} has hptune schema version {version}; this hptune reads "
                f"version {SCHEMA_VERSION}"
            )

    def close(self) -> None:
        self._drop()

    # ----------------------------------------------------------------- studies
    def _study_id(self, name: str) -> int:
        sid = self._ids.get(name)
        if sid is not None:
            return sid
        row = self._execute("SELECT study_id FROM hptune_studies WHERE name = %s", (name,))
        found = row.fetchone()
        if found is None:
            raise StorageError(
                f"no study named {name!r} in {self._where!r}; existing: {self.study_names()}"
            )
        self._ids[name] = int(found[0])
        return int(found[0])

    def create_study(self, meta: StudyMeta, load_if_exists: bool = False) -> StudyMeta:
        row = self._execute(
            "INSERT INTO hptune_studies (name, maximize, space, method, sampler_options, seed, "
            "user_attrs) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO NOTHING "
            "RETURNING study_id",
            (
                meta.name,
                bool(meta.maximize),
                _dumps(meta.space),
                meta.method,
                _dumps(meta.sampler_options),
                str(meta.seed),
                _dumps(meta.user_attrs),
            ),
        ).fetchone()
        if row is None:
            if load_if_exists:
                return self.load_study(meta.name)
            raise StorageError(
                f"a study named {meta.name!r} already exists in {self._where!r}; pass "
                "load_if_exists=True to continue it"
            )
        return meta

    def load_study(self, name: str) -> StudyMeta:
        row = self._execute(
            "SELECT name, maximize, space, method, sampler_options, seed, user_attrs "
            "FROM hptune_studies WHERE name = %s",
            (name,),
        ).fetchone()
        if row is None:
            raise StorageError(
                f"no study named {name!r} in {self._where!r}; existing: {self.study_names()}"
            )
        return StudyMeta(
            name=row[0],
            maximize=bool(row[1]),
            space=_loads(row[2]),
            method=row[3],
            sampler_options=_loads(row[4]),
            seed=int(row[5]),
            user_attrs=_loads(row[6]),
        )

    def study_names(self) -> list[str]:
        rows = self._execute("SELECT name FROM hptune_studies ORDER BY study_id").fetchall()
        return [r[0] for r in rows]

    def delete_study(self, name: str) -> None:
        sid = self._study_id(name)
        self._execute("DELETE FROM hptune_studies WHERE study_id = %s", (sid,))
        self._ids.pop(name, None)

    # ----------------------------------------------------------------- trials
    def create_trial(
        self, study: str, datetime_start: float, params: dict[str, Any] | None = None
    ) -> int:
        sid = self._study_id(study)
        host, pid, pid_start = owner()
        # One statement, so one round trip and its own transaction; the study's row stays
        # locked until it commits, so numbers and marks are unique and commit in order.
        row = self._execute(
            f"WITH {_CREATE} SELECT number FROM n",
            (sid, sid, _dumps(params or {}), datetime_start, time.time(), host, pid, pid_start),
        ).fetchone()
        if row is None:
            raise StorageError(f"study {study!r} was deleted")
        return int(row[0])

    def _not_running(self, study: str, number: int) -> StorageError:
        row = self._execute(
            "SELECT state, error FROM hptune_trials WHERE study_id = %s AND number = %s",
            (self._study_id(study), number),
        ).fetchone()
        if row is None:
            return StorageError(f"trial {number} of study {study!r} does not exist")
        why = f" ({row[1]})" if row[1] else ""
        return StorageError(f"trial {number} of study {study!r} is {row[0]}, not running{why}")

    def set_trial_params(self, study: str, number: int, params: dict[str, Any]) -> None:
        sid = self._study_id(study)
        # The study's row is locked first, as in every change (no lock-order deadlock); a
        # trial that is not running leaves a gap in the marks, which is harmless.
        row = self._execute(
            f"WITH s AS ({_BUMP}) UPDATE hptune_trials t SET params = %s, seq = s.seq FROM s "
            "WHERE t.study_id = %s AND t.number = %s AND t.state = 'running' RETURNING t.number",
            (sid, _dumps(params), sid, number),
        ).fetchone()
        if row is None:
            raise self._not_running(study, number)

    def report(self, study: str, number: int, step: int, value: float) -> None:
        sid = self._study_id(study)
        # One statement. FOR SHARE: a concurrent finish waits for this report, or this report
        # sees the trial finished; either way no value lands after the end.
        row = self._execute(
            "INSERT INTO hptune_intermediate (study_id, number, step, value) "
            "SELECT study_id, number, %s, %s FROM hptune_trials WHERE study_id = %s "
            "AND number = %s AND state = 'running' FOR SHARE "
            "ON CONFLICT (study_id, number, step) DO UPDATE SET value = EXCLUDED.value "
            "RETURNING number",
            (step, value, sid, number),
        ).fetchone()
        if row is None:
            raise self._not_running(study, number)

    def finish_trial(self, study: str, record: TrialRecord) -> None:
        if record.state is TrialState.RUNNING:
            raise InvalidArgumentError("finish_trial needs a finished state, got 'running'")
        value = record.value
        if value is not None and not math.isfinite(value):
            raise InvalidArgumentError(f"trial value must be finite, got {value!r}")
        sid = self._study_id(study)
        steps = list(record.intermediate_values)
        # One statement: the state change and, when the record carries reports (e.g. from a
        # worker process that could not reach the storage), their merge with those stored.
        row = self._execute(
            f"WITH s AS ({_BUMP}), t AS (UPDATE hptune_trials t SET state = %s, value = %s, "
            "params = %s, datetime_start = %s, datetime_complete = %s, duration = %s, "
            "error = %s, user_attrs = %s, constraints = %s, seq = s.seq FROM s "
            "WHERE t.study_id = %s AND t.number = %s AND t.state = 'running' "
            "RETURNING t.number), "
            "i AS (INSERT INTO hptune_intermediate (study_id, number, step, value) "
            "SELECT %s, t.number, v.step, v.value FROM t, "
            "unnest(%s::bigint[], %s::double precision[]) AS v(step, value) "
            "ON CONFLICT (study_id, number, step) DO UPDATE SET value = EXCLUDED.value) "
            "SELECT number FROM t",
            (
                sid,
                record.state.value,
                value,
                _dumps(record.params),
                record.datetime_start,
                record.datetime_complete,
                record.duration,
                record.error,
                _dumps(record.user_attrs),
                None if record.constraints is None else json.dumps(record.constraints),
                sid,
                record.number,
                sid,
                steps,
                [record.intermediate_values[k] for k in steps],
            ),
        ).fetchone()
        if row is None:
            raise self._not_running(study, record.number)

    def _records(self, rows: list[Any], values: list[Any]) -> list[TrialRecord]:
        by_number: dict[int, dict[int, float]] = {}
        for number, step, v in values:
            by_number.setdefault(int(number), {})[int(step)] = float(v)
        return [_record(r, dict(sorted(by_number.get(int(r[0]), {}).items()))) for r in rows]

    def trials(self, study: str, states: Collection[TrialState] | None = None) -> list[TrialRecord]:
        sid = self._study_id(study)
        with self._transaction() as conn:
            conn.execute(_SNAPSHOT)
            if states is None:
                rows = conn.execute(
                    f"SELECT {_TRIAL_COLUMNS} FROM hptune_trials WHERE study_id = %s "
                    "ORDER BY number",
                    (sid,),
                ).fetchall()
                values = conn.execute(
                    "SELECT number, step, value FROM hptune_intermediate WHERE study_id = %s",
                    (sid,),
                ).fetchall()
            else:
                names = sorted({TrialState.parse(s).value for s in states})
                if not names:
                    return []
                rows = conn.execute(
                    f"SELECT {_TRIAL_COLUMNS} FROM hptune_trials WHERE study_id = %s "
                    "AND state = ANY(%s) ORDER BY number",
                    (sid, names),
                ).fetchall()
                values = conn.execute(
                    "SELECT i.number, i.step, i.value FROM hptune_intermediate i "
                    "JOIN hptune_trials t ON t.study_id = i.study_id AND t.number = i.number "
                    "WHERE i.study_id = %s AND t.state = ANY(%s)",
                    (sid, names),
                ).fetchall()
        return self._records(rows, values)

    def changes(self, study: str, since: int) -> tuple[int, list[TrialRecord]]:
        sid = self._study_id(study)
        rows = self._execute(_LOOK, (sid, sid, since)).fetchall()
        return self._look(sid, since, [r[1:] for r in rows])

    def changes_and_create_trial(
        self, study: str, since: int, datetime_start: float
    ) -> tuple[tuple[int, list[TrialRecord]], int]:
        sid = self._study_id(study)
        host, pid, pid_start = owner()
        # One statement, one commit. Its look reads the snapshot taken when it started: a
        # change committed while the study's row was awaited is not in it, but has a mark
        # above every mark in it, so the next look brings it in; the new trial is not in it.
        rows = self._execute(
            _CREATE_AND_LOOK,
            (sid, sid, "{}", datetime_start, time.time(), host, pid, pid_start, sid, sid, since),
        ).fetchall()
        number = rows[0][0]
        if number is None:
            raise StorageError(f"study {study!r} was deleted")
        return self._look(sid, since, [r[1:] for r in rows]), int(number)

    def changes_and_next_number(
        self, study: str, since: int
    ) -> tuple[tuple[int, list[TrialRecord]], int]:
        sid = self._study_id(study)
        # Read only: no commit to wait for. The next number is read in the look's snapshot.
        rows = self._execute(_LOOK_AND_NEXT, (sid, sid, sid, since)).fetchall()
        return self._look(sid, since, [r[1:] for r in rows]), int(rows[0][0])

    def create_numbered_trial(
        self, study: str, number: int, datetime_start: float, params: dict[str, Any]
    ) -> tuple[bool, int]:
        sid = self._study_id(study)
        host, pid, pid_start = owner()
        # One statement and commit, as create_trial(): numbers stay unique, since the study's
        # row is updated only while its next number is still ``number``.
        stored = _dumps(params)
        args = (sid, number, sid, stored, datetime_start, time.time(), host, pid, pid_start, sid)
        created, upcoming = self._execute(_CREATE_NUMBERED, args).fetchone()
        if created is not None:
            return True, int(created)
        if upcoming is None:
            raise StorageError(f"study {study!r} was deleted")
        return False, int(upcoming)

    def _look(self, sid: int, since: int, rows: list[Any]) -> tuple[int, list[TrialRecord]]:
        # A study looks before every ask and then takes queued params: the look tells whether
        # the queue is empty, so that the ask's pop_enqueued() needs no round trip then.
        self._local.queue_empty = None if rows[0][0] else (sid, os.getpid())
        if rows[0][1] is None:
            return since, []
        return int(rows[-1][-1]), [_record(r[1:], {}) for r in rows]

    def n_trials(self, study: str) -> int:
        row = self._execute(
            "SELECT COUNT(*) FROM hptune_trials WHERE study_id = %s", (self._study_id(study),)
        ).fetchone()
        return int(row[0])

    def get_trial(self, study: str, number: int) -> TrialRecord:
        sid = self._study_id(study)
        with self._transaction() as conn:
            conn.execute(_SNAPSHOT)
            row = conn.execute(
                f"SELECT {_TRIAL_COLUMNS} FROM hptune_trials WHERE study_id = %s AND number = %s",
                (sid, number),
            ).fetchone()
            if row is None:
                raise StorageError(f"study {study!r} has no trial {number}")
            values = conn.execute(
                "SELECT step, value FROM hptune_intermediate WHERE study_id = %s "
                "AND number = %s ORDER BY step",
                (sid, number),
            ).fetchall()
        return _record(row, {int(s): float(v) for s, v in values})

    def trial_states(self, study: str) -> dict[int, TrialState]:
        rows = self._execute(
            "SELECT number, state FROM hptune_trials WHERE study_id = %s",
            (self._study_id(study),),
        ).fetchall()
        return {int(n): TrialState(s) for n, s in rows}

    def intermediate_values(self, study: str, step: int) -> list[tuple[int, float]]:
        rows = self._execute(
            "SELECT number, value FROM hptune_intermediate WHERE study_id = %s AND step = %s "
            "ORDER BY number",
            (self._study_id(study), step),
        ).fetchall()
        return [(int(n), float(v)) for n, v in rows]

    # ----------------------------------------------------------------- queue
    def enqueue(self, study: str, params: dict[str, Any]) -> None:
        self._local.queue_empty = None
        self._execute(
            "INSERT INTO hptune_queue (study_id, params) VALUES (%s, %s)",
            (self._study_id(study), _dumps(params)),
        )

    def pop_enqueued(self, study: str) -> dict[str, Any] | None:
        sid = self._study_id(study)
        # The last look of this thread (changes()) found the queue empty: this pop answers as
        # if it had run then, in the same snapshot. That holds for this one call only.
        empty, self._local.queue_empty = getattr(self._local, "queue_empty", None), None
        if empty == (sid, os.getpid()):
            return None
        # One statement; SKIP LOCKED lets concurrent workers take different entries.
        row = self._execute(
            "DELETE FROM hptune_queue WHERE id = (SELECT id FROM hptune_queue "
            "WHERE study_id = %s ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING params",
            (sid,),
        ).fetchone()
        if row is None:
            return None
        params: dict[str, Any] = _loads(row[0])
        return params

    # ----------------------------------------------------------------- liveness
    def heartbeat(self, study: str, number: int) -> None:
        self._execute(
            "UPDATE hptune_trials SET heartbeat = %s WHERE study_id = %s AND number = %s "
            "AND state = 'running'",
            (time.time(), self._study_id(study), number),
        )

    def fail_stale_trials(self, study: str, grace_seconds: float) -> list[int]:
        sid = self._study_id(study)
        now = time.time()
        candidates = self._execute(
            "SELECT number, host, pid, pid_start FROM hptune_trials WHERE study_id = %s "
            "AND state = 'running' AND heartbeat < %s",
            (sid, now - grace_seconds),
        ).fetchall()
        # A live owner on this host is busy (its heartbeat thread starved), not dead.
        numbers = sorted(int(r[0]) for r in candidates if owner_alive(r[1], r[2], r[3]) is not True)
        if not numbers:
            return []
        error = (
            f"stale: no heartbeat for more than {grace_seconds:g} s and its worker process is "
            "gone (died or was killed) or on another host; marked failed"
        )
        failed = []
        with self._transaction() as conn:
            for number in numbers:
                (seq,) = conn.execute(_BUMP, (sid,)).fetchone()
                # Re-checked on the latest row: a heartbeat or a finish in between wins.
                cur = conn.execute(
                    "UPDATE hptune_trials SET state = 'failed', error = %s, "
                    "datetime_complete = %s, duration = %s - datetime_start, seq = %s "
                    "WHERE study_id = %s AND number = %s AND state = 'running' "
                    "AND heartbeat < %s",
                    (error, now, now, seq, sid, number, now - grace_seconds),
                )
                if cur.rowcount == 1:
                    failed.append(number)
        return failed


def _record(r: Any, values: dict[int, float]) -> TrialRecord:
    return TrialRecord(
        int(r[0]),
        _loads(r[3]),
        TrialState(r[1]),
        r[2],
        values,
        r[4],
        r[5],
        r[6],
        r[7],
        _loads(r[8]),
        None if r[9] is None else [float(v) for v in json.loads(r[9])],
    )
