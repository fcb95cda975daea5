"""Which process owns a running trial, and whether that process is still alive.

A shared storage records, with every trial, the host, pid and start time of the process that
created it (the one whose heartbeat thread keeps it alive). A heartbeat can be late for a live
process: an objective that holds the GIL for seconds starves the heartbeat thread. So before a
trial with an old heartbeat is failed, a worker on the same host asks the operating system
whether the owner still runs; only owners on other hosts are judged by heartbeat age alone.
"""

from __future__ import annotations

import os
import socket

__all__ = ["Owner", "owner", "owner_alive"]

#: (host, pid, process start time or None): what identifies a process across pid reuse.
Owner = tuple[str, int, int | None]


def _host() -> str:
    # The hostname plus, on Linux, the pid namespace: two containers that share a hostname
    # (or a host and its containers) must not judge each other's pids.
    name = socket.gethostname()
    try:
        return f"{name}/{os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return name


def _start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), else None (also for a
    zombie: a killed process its parent has not reaped yet is dead)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself contain spaces and ')'.
    fields = text[text.rfind(b")") + 2 :].split()
    if not fields or fields[0] in (b"Z", b"X"):
        return None
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


_HOST = _host()


_OWNER: Owner | None = None


def owner() -> Owner:
    """This process: its host, pid and start time (read once per process)."""
    global _OWNER
    pid = os.getpid()
    if _OWNER is None or _OWNER[1] != pid:
        _OWNER = (_HOST, pid, _start_time(pid))
    return _OWNER


def owner_alive(host: str | None, pid: int | None, start: int | None) -> bool | None:
    """Whether the process that owns a trial runs: True or False on this host, None elsewhere
    (or when the trial has no recorded owner), where only its heartbeat can tell."""
    if host is None or pid is None or host != _HOST:
        return None
    if pid == os.getpid():
        return True
    now_start = _start_time(pid)
    if now_start is not None:
        # A different start time means the pid was reused by another process.
        return start is None or now_start == start
    if os.path.isdir("/proc"):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return None
    return True
