"""Importance, figures and the HTML report at scale, in one run.

    python benches/bench_report.py [--trials 100000] [--importance-trials 10000]

Prints seconds for: the core's PED-ANOVA call and ``hptune.importance`` (which also reads the
trials) at ``--importance-trials``; reading a study into columns, every figure, and the whole
report at ``--trials``; and the report's size. Studies are in memory (random search, a trivial
objective), so storage reads are not part of the figures except where named.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import hptune
from _common import MIXED7, table, timed
from hptune import HyperparameterSpace as H
from hptune import _core, plot

SPACE = [
    *MIXED7,
    H("x7", "float", 0.0, 1.0),
    H("x8", "float", 0.0, 1.0),
    H("x9", "float", 0.0, 1.0),
]


def loss(p: dict[str, Any]) -> float:
    return (math.log10(p["lr"]) + 3.0) ** 2 + 0.1 * (p["layers"] - 4) ** 2 + 0.5 * p["dropout"]


def study_of(n: int) -> hptune.Study:
    study = hptune.create_study(SPACE, "random", maximize=False, seed=0)
    study.optimize(loss, n_trials=n, show_progress=False)
    return study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--importance-trials", type=int, default=10_000)
    args = parser.parse_args()

    rows: list[list[object]] = []
    small = study_of(args.importance_trials)
    data = plot.read(small)
    mask = data.complete
    unit = small.space.core.encode(np.ascontiguousarray(data.params[mask]))
    y = np.ascontiguousarray(data.loss[mask])
    n_i = f"{args.importance_trials:,}"
    rows.append(
        [
            f"core PED-ANOVA, {n_i} x {len(SPACE)}",
            timed(lambda: _core.importance(small.space.core, unit, y, 0.1), 5),
        ]
    )
    rows.append(
        [f"hptune.importance (reads trials), {n_i}", timed(lambda: hptune.importance(small), 3)]
    )

    big = study_of(args.trials)
    n_b = f"{args.trials:,}"
    rows.append([f"read columns, {n_b} trials", timed(lambda: plot.read(big), 3)])
    cols = plot.read(big)
    builders = {
        "optimization_history": plot.optimization_history,
        "parallel_coordinates": plot.parallel_coordinates,
        "param_importances": plot.param_importances,
        "intermediate_values": plot.intermediate_values,
        "slices (all)": plot.slices,
        "trials_table": plot.trials_table,
    }
    for name, fn in builders.items():
        rows.append([f"{name}, {n_b}", timed(lambda fn=fn: fn(cols), 3)])
    rows.append([f"whole report incl. read, {n_b}", timed(lambda: plot.report(big), 3)])
    size = len(plot.report(big).encode())
    print(table(["what", "seconds"], rows))
    print(f"\nreport size at {n_b} trials x {len(SPACE)} params: {size / 1024:,.0f} KiB")


if __name__ == "__main__":
    main()
