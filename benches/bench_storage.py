"""Storage overhead: SQLite per-trial cost vs Optuna's SQLite storage, and a 100k in-memory study;
with ``--postgres URL``, PostgreSQL per-trial cost vs Optuna's RDB storage on the same server.

    python benches/bench_storage.py [--sqlite-trials 2000] [--optuna-sqlite-trials 2000]
                                    [--memory-trials 100000] [--optuna-memory-trials 10000]
                                    [--postgres postgresql://user@host:port/db]
                                    [--postgres-trials 500] [--postgres-workers 1,8]
                                    [--postgres-only]

``--postgres`` names a database where the benchmark may create and drop databases (each case
runs in a fresh one). Optuna reaches it through SQLAlchemy with the same psycopg 3 driver
(``postgresql+psycopg://``). Both run with the server's durable commits (each commit waits for
its WAL flush) and with ``synchronous_commit=off`` set for the session in the URL, and with 1
and 8 worker processes sharing one study: the workers connect and load the study, wait for a
common start signal, then run their share of the trials; trials/s is all trials over the time
from the first start to the last finish, and ms/trial per worker is workers / (trials/s).

Needs ``pip install ".[bench]"`` (Optuna). Every case runs in a fresh child process, so its peak
memory (``ru_maxrss``) is its own; memory is the growth of the peak over the child's footprint
after imports. Both libraries use a random sampler, the same 7-parameter space and an objective
that returns 0, so what is timed is the library's own work per trial. Optuna's in-memory run is
smaller and extrapolated linearly to the hptune count (its per-trial memory is constant).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import hptune
from _common import MIXED7, optuna_objective, table, trivial

SPACE = MIXED7


def _peak_bytes() -> int:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def child(
    case: str, n: int, path: str | None, db_url: str | None = None, go: str | None = None
) -> dict[str, float]:
    """Run one case in this (child) process; seconds and peak-memory growth."""
    if case.startswith("optuna"):
        import optuna

        optuna.logging.set_verbosity(logging.WARNING)
    url = f"sqlite:///{path}" if path else db_url
    if url is not None and case.startswith("optuna") and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if case.endswith("-worker"):
        return _worker(case, n, url, go)
    if case == "hptune-create":
        hptune.create_study(SPACE, "random", seed=0, storage=url, study_name="bench")
        return {}
    if case == "optuna-create":
        import optuna

        optuna.create_study(storage=url, study_name="bench")
        return {}
    base = _peak_bytes()
    start = time.perf_counter()
    if case.startswith("hptune"):
        study = hptune.create_study(SPACE, "random", seed=0, storage=url, study_name="bench")
        study.optimize(trivial, n_trials=n, show_progress=False)
        assert len(study.trials) == n
    else:
        import optuna

        o = optuna.create_study(
            storage=url, sampler=optuna.samplers.RandomSampler(seed=0), study_name="bench"
        )
        o.optimize(optuna_objective, n_trials=n)
        assert len(o.trials) == n
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "memory": float(_peak_bytes() - base)}


def run_child(case: str, n: int, sqlite: bool, db_url: str | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, __file__, "--child", case, "--n", str(n)]
        if sqlite:
            args += ["--path", os.path.join(tmp, "bench.db")]
        if db_url is not None:
            args += ["--url", db_url]
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def _with_option(url: str, option: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-c{option.replace('=', '%3D')}"


def run_postgres(case: str, n: int, server: str, option: str | None, workers: int) -> float:
    """Trials/s of ``case`` with ``workers`` processes in a fresh database on the server of
    ``server`` (dropped afterwards)."""
    import psycopg

    base, _, query = server.partition("?")
    name = f"hptune_bench_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
        if option is not None:
            url = _with_option(url, option)
        return run_workers(case, n, workers, url)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")


def _worker(case: str, n: int, url: str | None, go: str | None) -> dict[str, float]:
    """One of several workers on one study: load it, wait for ``go`` to exist, run ``n``."""
    assert url is not None
    assert go is not None
    if case.startswith("hptune"):
        study = hptune.create_study(
            SPACE, "random", seed=0, storage=url, study_name="bench", load_if_exists=True
        )

        def run() -> None:
            study.optimize(trivial, n_trials=n, show_progress=False)
    else:
        import optuna

        # Each worker its own seed: with one seed all would draw the same configs.
        o = optuna.create_study(
            storage=url,
            sampler=optuna.samplers.RandomSampler(seed=os.getpid()),
            study_name="bench",
            load_if_exists=True,
        )

        def run() -> None:
            o.optimize(optuna_objective, n_trials=n)

    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    start = time.time()
    run()
    return {"start": start, "end": time.time()}


def run_workers(case: str, n: int, workers: int, url: str) -> float:
    """``workers`` processes share ``n`` trials of one study at ``url``; trials per second."""
    share = [n // workers + (i < n % workers) for i in range(workers)]
    with tempfile.TemporaryDirectory() as tmp:
        go = os.path.join(tmp, "go")
        # The study exists before the workers race to load it, made by a process of its own
        # (its connection closes with it, so the database can be dropped afterwards).
        creator = "optuna-create" if case.startswith("optuna") else "hptune-create"
        subprocess.run(
            [sys.executable, __file__, "--child", creator, "--n", "0", "--url", url],
            check=True,
            capture_output=True,
        )
        procs = [
            subprocess.Popen(
                [
                    *(sys.executable, __file__, "--child", f"{case}-worker", "--n", str(k)),
                    *("--url", url, "--go", go),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for k in share
        ]
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"
        Path(go).touch()
        results = []
        for p in procs:
            out, _ = p.communicate()
            assert p.returncode == 0, f"a {case} worker failed"
            results.append(json.loads(out.strip().splitlines()[-1]))
    seconds = max(r["end"] for r in results) - min(r["start"] for r in results)
    return n / seconds


def postgres_table(server: str, n: int, workers: list[int]) -> None:
    rows = []
    for label, option in (
        ("durable commits", None),
        ("synchronous_commit=off", "synchronous_commit=off"),
    ):
        for k in workers:
            h = run_postgres("hptune-postgres", n, server, option, k)
            o = run_postgres("optuna-postgres", n, server, option, k)
            rows.append([label, k, h, o, k / h * 1e3, k / o * 1e3, f"{h / o:.1f}x"])
    print(f"\nPostgreSQL, {n:,} random-search trials per case on one study, one server\n")
    print(
        table(
            [
                "server setting",
                "workers",
                "hptune trials/s",
                "Optuna trials/s",
                "hptune ms/trial/worker",
                "Optuna ms/trial/worker",
                "hptune/Optuna",
            ],
            rows,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sqlite-trials", type=int, default=2000)
    parser.add_argument("--optuna-sqlite-trials", type=int, default=2000)
    parser.add_argument("--memory-trials", type=int, default=100_000)
    parser.add_argument("--optuna-memory-trials", type=int, default=10_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL: also compare PostgreSQL storages")
    parser.add_argument("--postgres-trials", type=int, default=500)
    parser.add_argument("--postgres-workers", default="1,8", help="worker counts, e.g. 1,8")
    parser.add_argument("--postgres-only", action="store_true", help="skip SQLite and memory")
    parser.add_argument("--go", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.path, args.url, args.go)))
        return
    workers = [int(k) for k in args.postgres_workers.split(",")]
    if args.postgres_only:
        if not args.postgres:
            parser.error("--postgres-only needs --postgres URL")
        postgres_table(args.postgres, args.postgres_trials, workers)
        return

    n_h, n_o = args.sqlite_trials, args.optuna_sqlite_trials
    h = run_child("hptune-sqlite", n_h, sqlite=True)
    o = run_child("optuna-sqlite", n_o, sqlite=True)
    us_h, us_o = h["seconds"] / n_h * 1e6, o["seconds"] / n_o * 1e6
    print(f"SQLite storage, random sampler, 7 params (hptune {n_h:,} trials, Optuna {n_o:,})\n")
    print(
        table(
            ["storage", "hptune us/trial", "Optuna us/trial", "Optuna/hptune"],
            [["SQLite file", us_h, us_o, f"{us_o / us_h:.0f}x"]],
        )
    )

    m_h, m_o = args.memory_trials, args.optuna_memory_trials
    hm = run_child("hptune-memory", m_h, sqlite=False)
    om = run_child("optuna-memory", m_o, sqlite=False)
    scale = m_h / m_o
    o_sec, o_mem = om["seconds"] * scale, om["memory"] * scale
    print(f"\nIn memory, {m_h:,} random-search trials (Optuna run at {m_o:,}, scaled x{scale:g})\n")
    print(
        table(
            ["library", "seconds", "us/trial", "peak memory growth MB", "bytes/trial"],
            [
                [
                    "hptune",
                    hm["seconds"],
                    hm["seconds"] / m_h * 1e6,
                    hm["memory"] / 1e6,
                    hm["memory"] / m_h,
                ],
                ["Optuna (extrapolated)", o_sec, o_sec / m_h * 1e6, o_mem / 1e6, o_mem / m_h],
                [
                    "Optuna/hptune",
                    f"{o_sec / hm['seconds']:.0f}x",
                    "",
                    f"{o_mem / max(hm['memory'], 1.0):.0f}x",
                    "",
                ],
            ],
        )
    )
    if args.postgres:
        postgres_table(args.postgres, args.postgres_trials, workers)


if __name__ == "__main__":
    main()
