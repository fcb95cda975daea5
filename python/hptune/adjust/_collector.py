"""What the deployed agents did: the :class:`DataCollectorProtocol` and a SQLite implementation.

Records are numbered by the collector in arrival order (``Record.id``, increasing). The service
remembers the last id it has judged per agent, so the same records never trigger twice.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from hptune._errors import InvalidArgumentError, StorageError
from hptune._sqlite_util import connect
from hptune.adjust._clock import Clock, SystemClock

__all__ = ["DataCollector", "DataCollectorProtocol", "Record"]


@dataclass(frozen=True)
class Record:
    """One recorded episode or action of an agent."""

    id: int
    agent_name: str
    timestamp: float
    success: bool
    reward: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class DataCollectorProtocol(Protocol):
    """What :class:`~hptune.adjust.AutomaticHyperparameterAdjustment` reads from a collector.

    ``recent`` must return records oldest first, each with ``id`` (increasing with arrival),
    ``success`` and ``reward`` (None when there is none) like :class:`Record`; the service asks
    only for records after the last id it has judged.
    """

    def record(
        self, agent_name: str, success: bool, reward: float | None = None, **metrics: Any
    ) -> int:
        """Store one outcome; return its id."""
        ...

    def success_rate(
        self,
        agent_name: str,
        window: int | None = None,
        *,
        seconds: float | None = None,
        after_id: int | None = None,
    ) -> float | None:
        """Fraction of successes over the selected records, None when there are none."""
        ...

    def recent(self, agent_name: str, n: int = 100, *, after_id: int | None = None) -> list[Record]:
        """The latest ``n`` records (only those with id > ``after_id``), oldest first."""
        ...


def _check_positive_int(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidArgumentError(f"{name} must be a positive int or None, got {value!r}")


class DataCollector:
    """Records agents' outcomes in SQLite: in memory by default, in a file when given a path.

    Thread-safe (one connection behind a lock). Memory is bounded: each agent keeps at most
    ``max_records_per_agent`` records, the oldest are deleted first.

    Windows: ``window=n`` selects the ``n`` most recent records, ``seconds=s`` those recorded in
    the last ``s`` seconds of the collector's clock, ``after_id=k`` those newer than record
    ``k``; given together, all apply (the latest ``n`` among the recent ones after ``k``).

    >>> dc = DataCollector()
    >>> for ok in (True, True, False, True):
    ...     _ = dc.record("self-healing", ok, reward=1.0 if ok else 0.0, latency_ms=12)
    >>> dc.success_rate("self-healing"), dc.success_rate("self-healing", window=2)
    (0.75, 0.5)
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        max_records_per_agent: int = 100_000,
        clock: Clock | None = None,
    ) -> None:
        _check_positive_int("max_records_per_agent", max_records_per_agent)
        self.path = None if path is None else str(path)
        self.max_records_per_agent = max_records_per_agent
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        try:
            # A file runs in WAL mode. One record per episode: an fsync per commit (FULL)
            # costs ~100 us a record. NORMAL in WAL mode cannot corrupt the file; a power cut
            # may lose the last few records, which a monitor can afford (the audit log keeps
            # FULL).
            self._db = connect(
                self.path,
                pragmas=("journal_mode=OFF",) if self.path is None else ("synchronous=NORMAL",),
                check_same_thread=False,  # guarded by self._lock
            )
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS records (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    agent TEXT NOT NULL,
                    ts REAL NOT NULL,
                    success INTEGER NOT NULL,
                    reward REAL,
                    metrics TEXT
                );
                CREATE INDEX IF NOT EXISTS records_agent_id ON records (agent, id);
                """
            )
            self._counts: dict[str, int] = dict(
                self._db.execute("SELECT agent, COUNT(*) FROM records GROUP BY agent").fetchall()
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the data collector at {self.path!r}: {exc}") from exc

    def close(self) -> None:
        """Close the database (further calls fail)."""
        with self._lock:
            self._db.close()

    # ----------------------------------------------------------------- writing
    def record(
        self, agent_name: str, success: bool, reward: float | None = None, **metrics: Any
    ) -> int:
        """Store one outcome of ``agent_name`` (with any JSON-serialisable metrics); its id."""
        if not isinstance(agent_name, str) or not agent_name:
            raise InvalidArgumentError(f"agent_name must be a non-empty string, got {agent_name!r}")
        r: float | None = None
        if reward is not None:
            r = float(reward)
            if not math.isfinite(r):
                raise InvalidArgumentError(f"reward must be finite, got {reward!r}")
        try:
            blob = json.dumps(metrics) if metrics else None
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"metrics must be JSON-serialisable: {exc}") from None
        now = self.clock.time()
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO records (agent, ts, success, reward, metrics) VALUES (?, ?, ?, ?, ?)",
                (agent_name, now, 1 if success else 0, r, blob),
            )
            rid = cur.lastrowid
            assert rid is not None
            n = self._counts.get(agent_name, 0) + 1
            cap = self.max_records_per_agent
            # Trim in batches of a tenth of the cap so the DELETE runs rarely, not per record.
            if n > cap + max(1, cap // 10):
                self._db.execute(
                    "DELETE FROM records WHERE agent = ? AND id <= ("
                    "SELECT id FROM records WHERE agent = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (agent_name, agent_name, cap),
                )
                n = cap
            self._counts[agent_name] = n
        return int(rid)

    def clear(self, agent_name: str | None = None) -> None:
        """Delete the records of one agent (or of all)."""
        with self._lock:
            if agent_name is None:
                self._db.execute("DELETE FROM records")
                self._counts.clear()
            else:
                self._db.execute("DELETE FROM records WHERE agent = ?", (agent_name,))
                self._counts.pop(agent_name, None)

    # ----------------------------------------------------------------- reading
    def _where(
        self, agent_name: str, seconds: float | None, after_id: int | None
    ) -> tuple[str, list[Any]]:
        sql = "agent = ?"
        args: list[Any] = [agent_name]
        if seconds is not None:
            if not seconds > 0:
                raise InvalidArgumentError(f"seconds must be positive, got {seconds!r}")
            sql += " AND ts >= ?"
            args.append(self.clock.time() - float(seconds))
        if after_id is not None:
            sql += " AND id > ?"
            args.append(int(after_id))
        return sql, args

    def recent(
        self,
        agent_name: str,
        n: int = 100,
        *,
        after_id: int | None = None,
        seconds: float | None = None,
    ) -> list[Record]:
        """The latest ``n`` records of ``agent_name`` (after ``after_id``), oldest first."""
        _check_positive_int("n", n)
        where, args = self._where(agent_name, seconds, after_id)
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, ts, success, reward, metrics FROM records WHERE {where} "
                "ORDER BY id DESC LIMIT ?",
                (*args, n),
            ).fetchall()
        return [
            Record(int(i), agent_name, float(ts), bool(ok), rw, json.loads(m) if m else {})
            for i, ts, ok, rw, m in reversed(rows)
        ]

    def rewards(self, agent_name: str, n: int = 100, *, after_id: int | None = None) -> list[float]:
        """Rewards of the latest ``n`` records that have one, oldest first."""
        return [
            r.reward for r in self.recent(agent_name, n, after_id=after_id) if r.reward is not None
        ]

    def success_rate(
        self,
        agent_name: str,
        window: int | None = None,
        *,
        seconds: float | None = None,
        after_id: int | None = None,
    ) -> float | None:
        """Fraction of successes over the selected records (see the class docstring)."""
        rate, _n = self.success_stats(agent_name, window, seconds=seconds, after_id=after_id)
        return rate

    def success_stats(
        self,
        agent_name: str,
        window: int | None = None,
        *,
        seconds: float | None = None,
        after_id: int | None = None,
    ) -> tuple[float | None, int]:
        """``(success rate, number of records)`` over the selected records."""
        _check_positive_int("window", window)
        where, args = self._where(agent_name, seconds, after_id)
        inner = f"SELECT success FROM records WHERE {where} ORDER BY id DESC"
        if window is not None:
            inner += f" LIMIT {int(window)}"
        with self._lock:
            total, successes = self._db.execute(
                f"SELECT COUNT(*), SUM(success) FROM ({inner})", args
            ).fetchone()
        if not total:
            return None, 0
        return float(successes) / float(total), int(total)

    def count(self, agent_name: str | None = None) -> int:
        """Number of records kept for one agent (or for all)."""
        with self._lock:
            if agent_name is None:
                return sum(self._counts.values())
            return self._counts.get(agent_name, 0)

    def agents(self) -> list[str]:
        """Names of the agents with records, sorted."""
        with self._lock:
            return sorted(a for a, n in self._counts.items() if n)

    def metrics(self, agent_name: str, n: int = 100) -> dict[str, list[Any]]:
        """The latest ``n`` records' metrics, as one list per metric name (oldest first)."""
        out: dict[str, list[Any]] = {}
        for rec in self.recent(agent_name, n):
            for k, v in rec.metrics.items():
                out.setdefault(k, []).append(v)
        return out

    def __repr__(self) -> str:
        where = "memory" if self.path is None else repr(self.path)
        return f"DataCollector({where}, records={self.count()})"
