"""The Ray executor on a real 2-node Ray cluster started with ``ray start`` on this machine.

A head node and a worker node, each with 1 CPU, in their own temporary directories and on free
ports; the worker node listens on 127.0.0.2. Trials must run on both nodes, and a trial whose
node is killed mid-trial is run again (``max_retries=1``) or failed (``max_retries=0``) while
the other trials complete. Only the processes of the nodes started here are killed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

import _study_helpers as helpers
import hptune
from hptune import TrialState

ray = pytest.importorskip("ray")

from hptune.integrations.ray import RayExecutor  # noqa: E402 - only once Ray is importable

RAY_CLI = shutil.which("ray", path=os.path.dirname(sys.executable)) or shutil.which("ray")
if RAY_CLI is None:  # pragma: no cover - Ray's wheel installs the command beside python
    pytest.skip("the ray command is not installed", allow_module_level=True)
if not sys.platform.startswith("linux"):  # pragma: no cover
    pytest.skip(
        "finds the nodes' processes in /proc; other loopbacks lack 127.0.0.2",
        allow_module_level=True,
    )

WORKER_IP = "127.0.0.2"


# Ports handed out in this session: the OS may return a closed port again, and two Ray
# components on one port make `ray start` fail (it once gave the head's GCS port as the
# dashboard's).
_TAKEN: set[int] = set()


def _worker_ports(seed: int) -> int:
    """The first of 100 worker ports that overlap no port handed out so far; they are then
    handed out too (Ray refuses a worker range holding one of the node's other ports)."""
    base = 20000 + (os.getpid() * 97 + seed) % 30000
    while any(p in _TAKEN for p in range(base, base + 100)):
        base = 20000 + (base - 20000 + 100) % 30000
    _TAKEN.update(range(base, base + 100))
    return base


def _free_ports(n: int) -> list[int]:
    socks = []
    ports: list[int] = []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind(("", 0))
            socks.append(s)
            port = s.getsockname()[1]
            if port not in _TAKEN:
                ports.append(port)
                _TAKEN.add(port)
        return ports
    finally:
        for s in socks:
            s.close()


def _descendants(roots: set[int]) -> set[int]:
    """``roots`` and every process below them, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                # The command name sits in parentheses and may hold spaces: split after it.
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def _group(pgid: int) -> set[int]:
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    pids.add(int(entry))
            except OSError:
                continue
    return pids


class _Node:
    """One ``ray start`` node. ``ray start`` runs in a new session, so the node's daemons share
    its process group; Ray's worker processes start sessions of their own but stay below the
    node's raylet, so killing the group's process tree kills exactly this node."""

    def __init__(self, args: list[str], env: dict[str, str], temp_dir: Path) -> None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        ports = _free_ports(7)
        base = _worker_ports(ports[0])  # a worker-port range of its own
        cmd = [
            RAY_CLI,
            "start",
            *args,
            "--num-cpus=1",
            f"--temp-dir={temp_dir}",
            "--disable-usage-stats",
            "--object-store-memory=80000000",
            f"--node-manager-port={ports[0]}",
            f"--object-manager-port={ports[1]}",
            f"--dashboard-agent-listen-port={ports[2]}",
            f"--dashboard-agent-grpc-port={ports[3]}",
            f"--runtime-env-agent-port={ports[4]}",
            f"--metrics-export-port={ports[5]}",
            f"--min-worker-port={base}",
            f"--max-worker-port={base + 99}",
        ]
        if "--head" in args:
            cmd += ["--include-dashboard=false", f"--dashboard-port={ports[6]}"]
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.pgid = self.proc.pid
        out, _ = self.proc.communicate(timeout=120)
        if self.proc.returncode != 0:
            self.kill()
            pytest.fail(f"ray start failed:\n{out[-3000:]}")

    def kill(self) -> None:
        for pid in _descendants(_group(self.pgid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, Any]]:
    # A short path: Ray's socket paths below it must stay under 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="hpray"))
    marks = root / "marks"
    marks.mkdir()
    here = str(Path(__file__).parent)
    env = dict(os.environ)
    env["RAY_AUTH_MODE"] = "disabled"  # no token authentication on a local test cluster
    # Trials import the test helpers and this checkout's hptune: the nodes' workers inherit
    # this PYTHONPATH, as real nodes would have the code installed.
    package = str(Path(hptune.__file__).parents[1])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (here, package, os.environ.get("PYTHONPATH")) if p
    )
    env["HPTUNE_TEST_RAY_MARKS"] = str(marks)
    # The head declares a node dead after about 3 s without an answer (sooner than by default).
    env["RAY_health_check_period_ms"] = "1000"
    env["RAY_health_check_timeout_ms"] = "1000"
    env["RAY_health_check_failure_threshold"] = "3"
    port = _free_ports(1)[0]
    saved = os.environ.get("RAY_AUTH_MODE")
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        head = _Node(
            ["--head", "--node-ip-address=127.0.0.1", f"--port={port}"],
            env,
            root / "h",
        )
        stack.callback(head.kill)
        os.environ["RAY_AUTH_MODE"] = "disabled"
        stack.callback(
            lambda: (
                os.environ.pop("RAY_AUTH_MODE")
                if saved is None
                else os.environ.__setitem__("RAY_AUTH_MODE", saved)
            )
        )
        nodes: list[_Node] = []
        stack.callback(lambda: [n.kill() for n in nodes])
        stack.callback(ray.shutdown)

        def add_worker_node() -> None:
            nodes.append(
                _Node(
                    [f"--address=127.0.0.1:{port}", f"--node-ip-address={WORKER_IP}"],
                    env,
                    root / f"w{len(nodes)}",
                )
            )

        add_worker_node()
        yield {
            "address": f"127.0.0.1:{port}",
            "marks": marks,
            "nodes": nodes,
            "add": add_worker_node,
        }


def _alive_worker_node() -> str:
    alive = [n for n in ray.nodes() if n["Alive"] and n["NodeManagerAddress"] == WORKER_IP]
    [node] = alive
    return str(node["NodeID"])


def _wait_for_nodes(n: int) -> None:
    deadline = time.monotonic() + 60
    while sum(1 for node in ray.nodes() if node["Alive"]) < n:
        assert time.monotonic() < deadline, "the worker node did not join"
        time.sleep(0.2)


def _runs(marks: Path) -> dict[int, list[str]]:
    """Trial number -> the nodes its attempts ran on."""
    runs: dict[int, list[str]] = {}
    for path in sorted(marks.glob("[0-9]*-*"), key=lambda p: p.stat().st_mtime):
        runs.setdefault(int(path.name.split("-")[0]), []).append(path.read_text())
    return runs


def _clear(marks: Path) -> None:
    for path in marks.iterdir():
        path.unlink()


def test_trials_run_on_both_nodes(cluster: dict[str, Any]) -> None:
    ray.shutdown()  # a Ray left running by another test module would ignore the address
    executor = RayExecutor(address=cluster["address"], max_workers=2)
    assert ray.is_initialized()
    _wait_for_nodes(2)
    head = ray.get_runtime_context().get_node_id()
    worker = _alive_worker_node()
    _clear(cluster["marks"])
    study = hptune.create_study(helpers.SPACE, seed=4)
    with executor:
        study.optimize(helpers.records_its_ray_node, n_trials=6, executor=executor)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 6
    runs = _runs(cluster["marks"])
    assert sorted(runs) == list(range(6))
    assert {node for nodes in runs.values() for node in nodes} == {head, worker}


@pytest.mark.parametrize("max_retries", [1, 0])
def test_a_trial_whose_node_dies_is_retried_or_failed(
    cluster: dict[str, Any], max_retries: int
) -> None:
    if not ray.is_initialized():
        ray.init(address=cluster["address"])
    if not any(n["Alive"] and n["NodeManagerAddress"] == WORKER_IP for n in ray.nodes()):
        cluster["add"]()  # the previous case killed it
    _wait_for_nodes(2)
    head = ray.get_runtime_context().get_node_id()
    worker = _alive_worker_node()
    marks: Path = cluster["marks"]
    _clear(marks)
    (marks / "hang-on").write_text(worker)
    node = cluster["nodes"][-1]

    def kill_when_a_trial_hangs_there() -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if worker in [n for nodes in _runs(marks).values() for n in nodes]:
                node.kill()
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_when_a_trial_hangs_there, daemon=True)
    killer.start()
    study = hptune.create_study(helpers.SPACE, seed=5)
    with RayExecutor(max_workers=2, max_retries=max_retries) as executor:
        study.optimize(
            helpers.records_its_ray_node, n_trials=5, executor=executor, trial_timeout=100
        )
    killer.join()
    runs = _runs(marks)
    [lost] = [number for number, nodes in runs.items() if worker in nodes]
    assert runs[lost][0] == worker
    states = {t.number: t.state for t in study.trials}
    assert sorted(states) == list(range(5))
    for number, state in states.items():
        if number != lost:
            assert state is TrialState.COMPLETE
            assert runs[number] == [head]
    trial = study.trials[lost]
    if max_retries:
        assert trial.state is TrialState.COMPLETE
        assert runs[lost] == [worker, head]  # run again, on the node still alive
    else:
        assert trial.state is TrialState.FAILED
        assert "NodeDiedError" in (trial.error or "") or "node" in (trial.error or "")
        assert runs[lost] == [worker]
