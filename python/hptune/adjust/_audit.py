"""The audit log: every decision of the service, in SQLite, so it survives restarts.

Two tables: ``events`` (append-only: trigger, tuning, validation, applied / rejected / failed /
aborted, watch, rollback) and ``agent_state`` (per agent, what the service had already judged:
the last record id consumed as evidence, the last adjustment time, an open post-apply watch).
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hptune._errors import StorageError
from hptune._sqlite_util import connect

__all__ = ["AuditEntry", "AuditLog"]


@dataclass(frozen=True)
class AuditEntry:
    """One decision: what happened (``event``), to which agent, when, and the figures."""

    id: int
    adjustment_id: int | None
    agent_name: str
    timestamp: float
    event: str
    details: dict[str, Any] = field(default_factory=dict)


def _jsonable(value: Any) -> Any:
    # JSON has no infinities or NaN; the audit keeps them readable instead of failing.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


class AuditLog:
    """SQLite audit log, in memory when ``path`` is None."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = None if path is None else str(path)
        self._lock = threading.Lock()
        try:
            # Autocommit, in WAL mode for a file.
            self._db = connect(self.path, check_same_thread=False)  # guarded by self._lock
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    adjustment_id INTEGER,
                    agent TEXT NOT NULL,
                    ts REAL NOT NULL,
                    event TEXT NOT NULL,
                    details TEXT NOT NULL
                );
                CREATE INDEX IF NOT EXISTS events_agent ON events (agent, id);
                CREATE TABLE IF NOT EXISTS adjustments (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    agent TEXT NOT NULL,
                    ts REAL NOT NULL
                );
                CREATE TABLE IF NOT EXISTS agent_state (
                    agent TEXT PRIMARY KEY,
                    state TEXT NOT NULL
                );
                """
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the audit log at {self.path!r}: {exc}") from exc

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def new_adjustment(self, agent_name: str, timestamp: float) -> int:
        """A fresh id grouping the events of one adjustment."""
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO adjustments (agent, ts) VALUES (?, ?)", (agent_name, timestamp)
            )
            assert cur.lastrowid is not None
            return int(cur.lastrowid)

    def write(
        self,
        agent_name: str,
        event: str,
        details: dict[str, Any],
        timestamp: float,
        adjustment_id: int | None = None,
    ) -> AuditEntry:
        """Append one entry and return it."""
        blob = json.dumps(_jsonable(details), sort_keys=True)
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO events (adjustment_id, agent, ts, event, details) "
                "VALUES (?, ?, ?, ?, ?)",
                (adjustment_id, agent_name, timestamp, event, blob),
            )
            assert cur.lastrowid is not None
            rid = int(cur.lastrowid)
        return AuditEntry(rid, adjustment_id, agent_name, timestamp, event, json.loads(blob))

    def entries(
        self, agent_name: str | None = None, *, event: str | None = None
    ) -> list[AuditEntry]:
        """Entries oldest first, of one agent (or all) and one kind of event (or all)."""
        sql = "SELECT id, adjustment_id, agent, ts, event, details FROM events WHERE 1 = 1"
        args: list[Any] = []
        if agent_name is not None:
            sql += " AND agent = ?"
            args.append(agent_name)
        if event is not None:
            sql += " AND event = ?"
            args.append(event)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [
            AuditEntry(int(i), a if a is None else int(a), ag, float(ts), ev, json.loads(d))
            for i, a, ag, ts, ev, d in rows
        ]

    def load_state(self, agent_name: str) -> dict[str, Any] | None:
        """The service's saved state for ``agent_name`` (None when it has none)."""
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM agent_state WHERE agent = ?", (agent_name,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def save_state(self, agent_name: str, state: dict[str, Any]) -> None:
        """Replace the service's saved state for ``agent_name``."""
        blob = json.dumps(_jsonable(state), sort_keys=True)
        with self._lock:
            self._db.execute(
                "INSERT INTO agent_state (agent, state) VALUES (?, ?) "
                "ON CONFLICT(agent) DO UPDATE SET state = excluded.state",
                (agent_name, blob),
            )
