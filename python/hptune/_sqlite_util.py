"""The SQLite plumbing shared by the study storage, the data collector and the audit log.

:func:`connect` opens an autocommit connection (``isolation_level=None``: a single statement is
its own durable transaction), in WAL mode for a file; :func:`transaction` wraps a multi-statement
change in ``BEGIN IMMEDIATE ... COMMIT`` (``ROLLBACK`` on any exception, which then propagates);
:func:`ensure_schema` creates the tables of an empty database, migrates an older one and returns
the version the database is at.

Errors are ``sqlite3`` errors (and :class:`ForeignDatabaseError`): each caller turns them into
its own messages.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

__all__ = ["ForeignDatabaseError", "connect", "ensure_schema", "run_script", "transaction"]


def connect(
    path: str | None,
    timeout: float = 5.0,
    *,
    pragmas: Sequence[str] = (),
    check_same_thread: bool = True,
) -> sqlite3.Connection:
    """An autocommit connection to the file ``path`` (in memory when None).

    A file runs in WAL mode; ``pragmas`` (such as ``"synchronous=NORMAL"``) follow. Writers wait
    up to ``timeout`` seconds for the lock. The connection is closed again if a pragma fails.
    """
    conn = sqlite3.connect(
        ":memory:" if path is None else path,
        timeout=timeout,
        isolation_level=None,
        check_same_thread=check_same_thread,
    )
    try:
        if path is not None:
            conn.execute("PRAGMA journal_mode=WAL")
        for pragma in pragmas:
            conn.execute(f"PRAGMA {pragma}")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` (the write lock, taken before anything is read) ... ``COMMIT``.

    Any exception in the block (or in the ``COMMIT``) rolls back and propagates; should the
    ``ROLLBACK`` itself fail, its error carries the first one as ``__context__``.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run the ``;``-separated statements of ``script`` one by one, inside the current
    transaction (``executescript`` would commit it first)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


class ForeignDatabaseError(Exception):
    """The database has tables but no version table: it belongs to something else."""

    def __init__(self, tables: Sequence[str]) -> None:
        super().__init__(f"no version table among {', '.join(tables)}")
        self.tables = tuple(tables)


def ensure_schema(
    conn: sqlite3.Connection,
    table: str,
    version: int,
    schema: str,
    migrations: Mapping[int, str] | None = None,
) -> int:
    """Bring the database to ``version`` in one write transaction and return its version.

    An empty database gets ``schema`` (which creates ``table (version INTEGER NOT NULL)``) and a
    row with ``version``. Otherwise ``table`` must exist (else :class:`ForeignDatabaseError`, with
    the tables found, sorted); while ``migrations`` has a script for the version found, that
    script runs (it ends by setting the version one higher). The version reached is returned,
    -1 for an empty version table: the caller refuses any but its own.
    """
    with transaction(conn):
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            run_script(conn, schema)
            conn.execute(f"INSERT INTO {table} VALUES (?)", (version,))
            return version
        if table not in tables:
            raise ForeignDatabaseError(sorted(tables))
        row = conn.execute(f"SELECT version FROM {table}").fetchone()
        found = int(row[0]) if row else -1
        steps = migrations or {}
        while found in steps:
            run_script(conn, steps[found])
            found += 1
        return found
