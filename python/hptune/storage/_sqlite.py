"""SQLite storage: durable studies in one file, shared by threads and processes on one machine.

Durability: every call commits before it returns. The database runs in WAL mode with
``synchronous=NORMAL``: a committed change survives the process being killed (SIGKILL) at any
point; only a power cut may lose the last few commits (``synchronous=FULL`` would fsync every
commit, for a few times the per-call cost).

Concurrency: each thread of each process gets its own connection (sqlite3 connections must not
be shared across threads). Trial numbers are allocated inside ``BEGIN IMMEDIATE`` so two
processes never get the same number; writers wait up to ``timeout`` seconds for the lock.

Shared observations: every change a study must see (a trial created, given params, finished,
failed as stale) sets the trial's ``seq`` to one more than the study's largest, under the write
lock, so ``seq`` orders changes as they were committed and :meth:`SQLiteStorage.changes` reads
those after a mark through the ``(study_id, seq)`` index. Heartbeats do not count as changes.

Schema history: version 2 added ``seq`` and the owner of each trial (``host``, ``pid``,
``pid_start``); version 3 added ``constraints`` (outcome constraint values, JSON). Older files
are migrated in place when opened (version-1 trials get ``seq = number + 1`` and no owner;
existing trials get no constraint values). Upgrade every worker of a study together.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection
from typing import Any, Concatenate, ParamSpec, TypeVar

from hptune._checks import check_real
from hptune._errors import InvalidArgumentError, StorageError
from hptune._sqlite_util import ForeignDatabaseError, connect, ensure_schema, transaction
from hptune.storage._base import Storage, StudyMeta
from hptune.storage._owner import owner, owner_alive
from hptune.trial import TrialRecord, TrialState

__all__ = ["SCHEMA_VERSION", "SQLiteStorage"]

#: Bumped on any change of the tables below; a newer file is refused, never silently misread.
SCHEMA_VERSION = 3

_SCHEMA = """
CREATE TABLE hptune_schema (version INTEGER NOT NULL);
CREATE TABLE studies (
    study_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    maximize INTEGER NOT NULL,
    space TEXT NOT NULL,
    method TEXT NOT NULL,
    sampler_options TEXT NOT NULL,
    seed TEXT NOT NULL,
    user_attrs TEXT NOT NULL
);
CREATE TABLE trials (
    study_id INTEGER NOT NULL REFERENCES studies(study_id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    value REAL,
    params TEXT NOT NULL,
    datetime_start REAL,
    datetime_complete REAL,
    duration REAL,
    error TEXT,
    user_attrs TEXT NOT NULL,
    heartbeat REAL,
    seq INTEGER NOT NULL DEFAULT 0,
    host TEXT,
    pid INTEGER,
    pid_start INTEGER,
    constraints TEXT,
    PRIMARY KEY (study_id, number)
) WITHOUT ROWID;
CREATE INDEX trials_state ON trials (study_id, state);
CREATE INDEX trials_seq ON trials (study_id, seq);
CREATE TABLE intermediate (
    study_id INTEGER NOT NULL REFERENCES studies(study_id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    step INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (study_id, number, step)
) WITHOUT ROWID;
CREATE INDEX intermediate_step ON intermediate (study_id, step);
CREATE TABLE queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES studies(study_id) ON DELETE CASCADE,
    params TEXT NOT NULL
);
CREATE INDEX queue_study ON queue (study_id, id);
"""

# From version 1 to 2: the change counter and the owner of each trial.
_MIGRATE_1_TO_2 = """
ALTER TABLE trials ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN host TEXT;
ALTER TABLE trials ADD COLUMN pid INTEGER;
ALTER TABLE trials ADD COLUMN pid_start INTEGER;
UPDATE trials SET seq = number + 1;
CREATE INDEX trials_seq ON trials (study_id, seq);
UPDATE hptune_schema SET version = 2;
"""

# From version 2 to 3: outcome constraint values of complete trials (JSON list, or NULL).
_MIGRATE_2_TO_3 = """
ALTER TABLE trials ADD COLUMN constraints TEXT;
UPDATE hptune_schema SET version = 3;
"""

_MIGRATIONS = {1: _MIGRATE_1_TO_2, 2: _MIGRATE_2_TO_3}

_TRIAL_COLUMNS = (
    "number, state, value, params, datetime_start, datetime_complete, duration, error, "
    "user_attrs, constraints"
)

# The next change mark of a study (its parameter: the study id); valid under the write lock.
_NEXT_SEQ = "(SELECT COALESCE(MAX(seq), 0) + 1 FROM trials WHERE study_id = ?)"


def _json_default(obj: Any) -> Any:
    # numpy scalars and arrays reach params through decode and user attrs through objectives.
    item = getattr(obj, "tolist", None)
    if item is not None:
        return item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


# JSON has no tuples; a tuple (a categorical choice such as (1, 2), say) is stored as
# {"__tuple__": [...]} so that it reads back as the tuple it was and still equals its choice.
_TUPLE = "__tuple__"
_CONTAINERS = (tuple, list, dict)


def _tag_tuples(obj: Any) -> Any:
    if isinstance(obj, tuple):
        return {_TUPLE: [_tag_tuples(x) for x in obj]}
    if isinstance(obj, list):
        return [_tag_tuples(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _tag_tuples(v) for k, v in obj.items()}
    return obj


def _untag_tuple(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _TUPLE in obj and isinstance(obj[_TUPLE], list):
        return tuple(obj[_TUPLE])
    return obj


def _dumps(obj: Any) -> str:
    # Params of plain scalars (the common case) skip the walk that tags tuples.
    plain = obj
    if not isinstance(obj, dict) or any(isinstance(v, _CONTAINERS) for v in obj.values()):
        plain = _tag_tuples(obj)
    try:
        return json.dumps(plain, default=_json_default, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"cannot store {obj!r} as JSON: {exc}") from None


def _loads(text: str) -> Any:
    """What :func:`_dumps` wrote, tuples included."""
    if _TUPLE in text:
        return json.loads(text, object_hook=_untag_tuple)
    return json.loads(text)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _sqlite_errors(
    method: Callable[Concatenate[SQLiteStorage, _P], _R],
) -> Callable[Concatenate[SQLiteStorage, _P], _R]:
    """Turn an sqlite3 error (a corrupted file, a lock held too long) into a StorageError that
    names the file."""

    @functools.wraps(method)
    def wrapper(self: SQLiteStorage, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            # A failed ROLLBACK after the real error hides it: report the first one.
            first: BaseException = exc
            while isinstance(first.__context__, sqlite3.Error):
                first = first.__context__
            assert isinstance(first, sqlite3.Error)
            raise self._open_error(first) from None

    return wrapper


def parse_sqlite_url(url: str) -> str:
    """The file path of ``sqlite:///relative.db`` or ``sqlite:////absolute.db``."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise InvalidArgumentError(
            f"SQLite URL must look like 'sqlite:///relative/path.db' or "
            f"'sqlite:////absolute/path.db', got {url!r}"
        )
    path = url[len(prefix) :]
    if not path or path == ":memory:":
        raise InvalidArgumentError(
            f"{url!r} names no file; an SQLite study needs a file path (use storage=None for an "
            "in-memory study)"
        )
    return path


class SQLiteStorage(Storage):
    """Studies in an SQLite file: ``SQLiteStorage("sqlite:///studies.db")``.

    ``heartbeat_interval`` is how often a study marks its running trials alive; a RUNNING trial
    without a heartbeat for ``stale_grace`` seconds (its worker died) is marked failed when a
    study on this file opens, and periodically while one runs.

    >>> storage = SQLiteStorage("sqlite:///studies.db")  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 60.0,
        heartbeat_interval: float = 10.0,
        stale_grace: float | None = None,
    ) -> None:
        path = parse_sqlite_url(url)
        timeout = check_real("timeout", timeout, low=0.0, allowed="of seconds >= 0")
        if not heartbeat_interval > 0:
            raise InvalidArgumentError(
                f"heartbeat_interval must be positive seconds, got {heartbeat_interval!r}"
            )
        grace = 6.0 * heartbeat_interval if stale_grace is None else float(stale_grace)
        # A live worker heartbeats every interval; a grace of at least two intervals keeps a
        # briefly delayed heartbeat from failing a live trial.
        if not grace >= 2.0 * heartbeat_interval:
            raise InvalidArgumentError(
                f"stale_grace ({grace!r} s) must be at least twice heartbeat_interval "
                f"({heartbeat_interval!r} s)"
            )
        self.url = url
        self.path = path
        self.timeout = float(timeout)
        self.heartbeat_interval = float(heartbeat_interval)
        self.stale_grace = grace
        self._local = threading.local()
        self._ids: dict[str, int] = {}
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise StorageError(f"cannot open {url!r}: directory {directory!r} does not exist")
        if os.path.isdir(path):
            raise StorageError(f"cannot open {url!r}: {path!r} is a directory, not a file")
        self._init_schema()

    # ----------------------------------------------------------------- connections
    def __getstate__(self) -> dict[str, Any]:
        # Workers in other processes reopen the same file; connections never cross.
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

    def _conn(self) -> sqlite3.Connection:
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            return conn
        try:
            # isolation_level=None: autocommit, so a single statement is its own durable
            # transaction and multi-statement changes use explicit BEGIN IMMEDIATE.
            conn = connect(
                self.path, self.timeout, pragmas=("synchronous=NORMAL", "foreign_keys=ON")
            )
        except sqlite3.DatabaseError as exc:
            raise self._open_error(exc) from None
        local.conn = conn
        local.pid = os.getpid()
        return conn

    def _open_error(self, exc: sqlite3.Error) -> StorageError:
        text = str(exc)
        if "not a database" in text:
            return StorageError(f"{self.path!r} is not an SQLite database ({text})")
        if "malformed" in text:
            return StorageError(
                f"{self.path!r} is damaged or not an SQLite database ({text}); restore it from a "
                "copy, or start a new file"
            )
        if "unable to open" in text or "readonly" in text or "permission" in text.lower():
            return StorageError(f"cannot open {self.path!r}: {text} (check the path and its mode)")
        return StorageError(f"SQLite error on {self.path!r}: {text}")

    def _init_schema(self) -> None:
        conn = self._conn()
        try:
            version = ensure_schema(
                conn,
                "hptune_schema",
                SCHEMA_VERSION,
                _SCHEMA,
                _MIGRATIONS,
            )
        except ForeignDatabaseError as exc:
            raise StorageError(
                f"{self.path!r} is an SQLite database but not an hptune study database "
                f"(its tables: {', '.join(exc.tables)})"
            ) from None
        except sqlite3.Error as exc:
            raise self._open_error(exc) from None
        if version != SCHEMA_VERSION:
            raise StorageError(
                f"{self.path!r} has hptune schema version {version}; this hptune reads version "
                f"{SCHEMA_VERSION}"
            )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ----------------------------------------------------------------- studies
    def _study_id(self, name: str) -> int:
        sid = self._ids.get(name)
        if sid is not None:
            return sid
        row = (
            self._conn().execute("SELECT study_id FROM studies WHERE name = ?", (name,)).fetchone()
        )
        if row is None:
            raise StorageError(
                f"no study named {name!r} in {self.url!r}; existing: {self.study_names()}"
            )
        self._ids[name] = int(row[0])
        return int(row[0])

    @_sqlite_errors
    def create_study(self, meta: StudyMeta, load_if_exists: bool = False) -> StudyMeta:
        conn = self._conn()
        try:
            conn.execute(
                "INSERT INTO studies (name, maximize, space, method, sampler_options, seed, "
                "user_attrs) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    meta.name,
                    int(meta.maximize),
                    _dumps(meta.space),
                    meta.method,
                    _dumps(meta.sampler_options),
                    str(meta.seed),
                    _dumps(meta.user_attrs),
                ),
            )
        except sqlite3.IntegrityError:
            if load_if_exists:
                return self.load_study(meta.name)
            raise StorageError(
                f"a study named {meta.name!r} already exists in {self.url!r}; pass "
                "load_if_exists=True to continue it"
            ) from None
        return meta

    @_sqlite_errors
    def load_study(self, name: str) -> StudyMeta:
        row = (
            self._conn()
            .execute(
                "SELECT name, maximize, space, method, sampler_options, seed, user_attrs "
                "FROM studies WHERE name = ?",
                (name,),
            )
            .fetchone()
        )
        if row is None:
            raise StorageError(
                f"no study named {name!r} in {self.url!r}; existing: {self.study_names()}"
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

    @_sqlite_errors
    def study_names(self) -> list[str]:
        rows = self._conn().execute("SELECT name FROM studies ORDER BY study_id").fetchall()
        return [r[0] for r in rows]

    @_sqlite_errors
    def delete_study(self, name: str) -> None:
        sid = self._study_id(name)
        self._conn().execute("DELETE FROM studies WHERE study_id = ?", (sid,))
        self._ids.pop(name, None)

    # ----------------------------------------------------------------- trials
    @_sqlite_errors
    def create_trial(
        self, study: str, datetime_start: float, params: dict[str, Any] | None = None
    ) -> int:
        sid = self._study_id(study)
        conn = self._conn()
        text = _dumps(params or {})
        now = time.time()
        host, pid, pid_start = owner()
        # IMMEDIATE takes the write lock before reading MAX, so the number is unique across
        # every process writing to this file.
        with transaction(conn):
            row = conn.execute(
                "SELECT MAX(number) FROM trials WHERE study_id = ?", (sid,)
            ).fetchone()
            number = 0 if row[0] is None else int(row[0]) + 1
            conn.execute(
                "INSERT INTO trials (study_id, number, state, params, datetime_start, "
                "user_attrs, heartbeat, seq, host, pid, pid_start) "
                f"VALUES (?, ?, 'running', ?, ?, '{{}}', ?, {_NEXT_SEQ}, ?, ?, ?)",
                (sid, number, text, datetime_start, now, sid, host, pid, pid_start),
            )
        return number

    def _not_running(self, study: str, number: int) -> StorageError:
        row = (
            self._conn()
            .execute(
                "SELECT state, error FROM trials WHERE study_id = ? AND number = ?",
                (self._study_id(study), number),
            )
            .fetchone()
        )
        if row is None:
            return StorageError(f"trial {number} of study {study!r} does not exist")
        why = f" ({row[1]})" if row[1] else ""
        return StorageError(f"trial {number} of study {study!r} is {row[0]}, not running{why}")

    @_sqlite_errors
    def set_trial_params(self, study: str, number: int, params: dict[str, Any]) -> None:
        sid = self._study_id(study)
        cur = self._conn().execute(
            f"UPDATE trials SET params = ?, seq = {_NEXT_SEQ} "
            "WHERE study_id = ? AND number = ? AND state = 'running'",
            (_dumps(params), sid, sid, number),
        )
        if cur.rowcount != 1:
            raise self._not_running(study, number)

    @_sqlite_errors
    def report(self, study: str, number: int, step: int, value: float) -> None:
        sid = self._study_id(study)
        conn = self._conn()
        # The state check and the insert are one statement, so a trial finished (or marked
        # stale) by another process cannot gain values afterwards.
        cur = conn.execute(
            "INSERT OR REPLACE INTO intermediate (study_id, number, step, value) "
            "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM trials WHERE study_id = ? "
            "AND number = ? AND state = 'running')",
            (sid, number, step, value, sid, number),
        )
        if cur.rowcount != 1:
            raise self._not_running(study, number)

    @_sqlite_errors
    def finish_trial(self, study: str, record: TrialRecord) -> None:
        if record.state is TrialState.RUNNING:
            raise InvalidArgumentError("finish_trial needs a finished state, got 'running'")
        sid = self._study_id(study)
        conn = self._conn()
        value = record.value
        if value is not None and not math.isfinite(value):
            raise InvalidArgumentError(f"trial value must be finite, got {value!r}")
        with transaction(conn):
            cur = conn.execute(
                "UPDATE trials SET state = ?, value = ?, params = ?, datetime_start = ?, "
                "datetime_complete = ?, duration = ?, error = ?, user_attrs = ?, "
                f"constraints = ?, seq = {_NEXT_SEQ} "
                "WHERE study_id = ? AND number = ? AND state = 'running'",
                (
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
                    sid,
                    record.number,
                ),
            )
            if cur.rowcount != 1:
                raise self._not_running(study, record.number)
            if record.intermediate_values:
                # Values reported along the way are already here; this merges those the
                # record carries (e.g. returned by a worker process that could not report).
                conn.executemany(
                    "INSERT OR REPLACE INTO intermediate (study_id, number, step, value) "
                    "VALUES (?, ?, ?, ?)",
                    [(sid, record.number, s, v) for s, v in record.intermediate_values.items()],
                )

    @_sqlite_errors
    def trials(self, study: str, states: Collection[TrialState] | None = None) -> list[TrialRecord]:
        sid = self._study_id(study)
        conn = self._conn()
        if states is None:
            rows = conn.execute(
                f"SELECT {_TRIAL_COLUMNS} FROM trials WHERE study_id = ? ORDER BY number", (sid,)
            ).fetchall()
            values = conn.execute(
                "SELECT number, step, value FROM intermediate WHERE study_id = ?", (sid,)
            ).fetchall()
        else:
            names = sorted({TrialState.parse(s).value for s in states})
            if not names:
                return []
            marks = ",".join("?" * len(names))
            rows = conn.execute(
                f"SELECT {_TRIAL_COLUMNS} FROM trials WHERE study_id = ? AND state IN ({marks}) "
                "ORDER BY number",
                (sid, *names),
            ).fetchall()
            values = conn.execute(
                "SELECT i.number, i.step, i.value FROM intermediate i JOIN trials t "
                "ON t.study_id = i.study_id AND t.number = i.number "
                f"WHERE i.study_id = ? AND t.state IN ({marks})",
                (sid, *names),
            ).fetchall()
        by_number: dict[int, dict[int, float]] = {}
        for number, step, v in values:
            by_number.setdefault(number, {})[step] = v
        return [self._record(r, dict(sorted(by_number.get(r[0], {}).items()))) for r in rows]

    @_sqlite_errors
    def changes(self, study: str, since: int) -> tuple[int, list[TrialRecord]]:
        rows = (
            self._conn()
            .execute(
                f"SELECT {_TRIAL_COLUMNS}, seq FROM trials WHERE study_id = ? AND seq > ? "
                "ORDER BY seq",
                (self._study_id(study), since),
            )
            .fetchall()
        )
        mark = int(rows[-1][10]) if rows else since
        return mark, [self._record(r, {}) for r in rows]

    @_sqlite_errors
    def n_trials(self, study: str) -> int:
        row = (
            self._conn()
            .execute("SELECT COUNT(*) FROM trials WHERE study_id = ?", (self._study_id(study),))
            .fetchone()
        )
        return int(row[0])

    @_sqlite_errors
    def get_trial(self, study: str, number: int) -> TrialRecord:
        sid = self._study_id(study)
        conn = self._conn()
        row = conn.execute(
            f"SELECT {_TRIAL_COLUMNS} FROM trials WHERE study_id = ? AND number = ?", (sid, number)
        ).fetchone()
        if row is None:
            raise StorageError(f"study {study!r} has no trial {number}")
        values = conn.execute(
            "SELECT step, value FROM intermediate WHERE study_id = ? AND number = ? ORDER BY step",
            (sid, number),
        ).fetchall()
        return self._record(row, {int(s): float(v) for s, v in values})

    @staticmethod
    def _record(r: Any, values: dict[int, float]) -> TrialRecord:
        return TrialRecord(
            r[0],
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

    @_sqlite_errors
    def trial_states(self, study: str) -> dict[int, TrialState]:
        rows = (
            self._conn()
            .execute(
                "SELECT number, state FROM trials WHERE study_id = ?", (self._study_id(study),)
            )
            .fetchall()
        )
        return {int(n): TrialState(s) for n, s in rows}

    @_sqlite_errors
    def intermediate_values(self, study: str, step: int) -> list[tuple[int, float]]:
        rows = (
            self._conn()
            .execute(
                "SELECT number, value FROM intermediate WHERE study_id = ? AND step = ? "
                "ORDER BY number",
                (self._study_id(study), step),
            )
            .fetchall()
        )
        return [(int(n), float(v)) for n, v in rows]

    # ----------------------------------------------------------------- queue
    @_sqlite_errors
    def enqueue(self, study: str, params: dict[str, Any]) -> None:
        self._conn().execute(
            "INSERT INTO queue (study_id, params) VALUES (?, ?)",
            (self._study_id(study), _dumps(params)),
        )

    @_sqlite_errors
    def pop_enqueued(self, study: str) -> dict[str, Any] | None:
        sid = self._study_id(study)
        conn = self._conn()
        # Cheap read first: the queue is almost always empty, and this keeps the common path
        # free of a write lock.
        if (
            conn.execute("SELECT 1 FROM queue WHERE study_id = ? LIMIT 1", (sid,)).fetchone()
            is None
        ):
            return None
        with transaction(conn):
            row = conn.execute(
                "SELECT id, params FROM queue WHERE study_id = ? ORDER BY id LIMIT 1", (sid,)
            ).fetchone()
            if row is not None:
                conn.execute("DELETE FROM queue WHERE id = ?", (row[0],))
        if row is None:
            return None
        params: dict[str, Any] = _loads(row[1])
        return params

    # ----------------------------------------------------------------- liveness
    @_sqlite_errors
    def heartbeat(self, study: str, number: int) -> None:
        self._conn().execute(
            "UPDATE trials SET heartbeat = ? WHERE study_id = ? AND number = ? "
            "AND state = 'running'",
            (time.time(), self._study_id(study), number),
        )

    @_sqlite_errors
    def fail_stale_trials(self, study: str, grace_seconds: float) -> list[int]:
        sid = self._study_id(study)
        now = time.time()
        error = (
            f"stale: no heartbeat for more than {grace_seconds:g} s and its worker process is "
            "gone (died or was killed) or on another host; marked failed"
        )
        conn = self._conn()
        # Cheap read first: almost always nothing is stale, and this keeps the heartbeat
        # thread's periodic check free of a write lock.
        if (
            conn.execute(
                "SELECT 1 FROM trials WHERE study_id = ? AND state = 'running' AND heartbeat < ? "
                "LIMIT 1",
                (sid, now - grace_seconds),
            ).fetchone()
            is None
        ):
            return []
        # Select then update inside one write transaction (not UPDATE ... RETURNING, which
        # needs SQLite 3.35 and some Python builds ship older).
        with transaction(conn):
            rows = conn.execute(
                "SELECT number, host, pid, pid_start FROM trials WHERE study_id = ? "
                "AND state = 'running' AND heartbeat < ?",
                (sid, now - grace_seconds),
            ).fetchall()
            # A live owner on this host is busy (its heartbeat thread starved), not dead.
            numbers = sorted(int(r[0]) for r in rows if owner_alive(r[1], r[2], r[3]) is not True)
            conn.executemany(
                "UPDATE trials SET state = 'failed', error = ?, datetime_complete = ?, "
                f"duration = ? - datetime_start, seq = {_NEXT_SEQ} "
                "WHERE study_id = ? AND number = ?",
                [(error, now, now, sid, sid, n) for n in numbers],
            )
        return numbers
