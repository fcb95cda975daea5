"""Shared storages for tests: SQLite files, and PostgreSQL when HPTUNE_TEST_POSTGRES is set.

``HPTUNE_TEST_POSTGRES`` is a libpq URL of a database the tests may create schemas in (e.g.
``postgresql://postgres@127.0.0.1:5433/hptune_test``; ``.ci/run`` starts such a server). Each
test gets a fresh schema, named in the URL's ``search_path``, so tests (and the worker
processes they start) never see each other's studies.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hptune.storage import PostgresStorage, SQLiteStorage, Storage

POSTGRES_DSN = os.environ.get("HPTUNE_TEST_POSTGRES")

#: Parameters for tests that run on every shared storage.
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(not POSTGRES_DSN, reason="HPTUNE_TEST_POSTGRES is not set"),
    ),
]


@contextmanager
def postgres_url() -> Iterator[str]:
    """A URL of the test database whose tables live in a new schema, dropped afterwards."""
    import psycopg

    assert POSTGRES_DSN is not None
    schema = f"hptune_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in POSTGRES_DSN else "?"
    try:
        yield f"{POSTGRES_DSN}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def shared_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty shared storage of kind ``backend`` ("sqlite" or "postgres")."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        with postgres_url() as url:
            yield url


def open_storage(url: str, **options: Any) -> Storage:
    """The storage class of ``url`` opened with ``options`` (heartbeat settings, say)."""
    if url.startswith("sqlite"):
        return SQLiteStorage(url, **options)
    return PostgresStorage(url, **options)


def run_sql(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Run ``sql`` (``?`` placeholders; ``{trials}`` names the trials table) on the storage's
    database directly, behind hptune's back; the rows it returns."""
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            return list(conn.execute(sql.format(trials="trials"), args).fetchall())
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        cur = pg.execute(sql.format(trials="hptune_trials").replace("?", "%s"), args)
        return list(cur.fetchall()) if cur.description else []
