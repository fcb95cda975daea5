"""Helpers shared by the benchmarks: timing, table printing, index lists, the sign test."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from hptune import HyperparameterSpace as H

# The mixed space of the overhead benchmarks: 2 log floats, 2 floats, 2 ints, 1 categorical.
MIXED7 = [
    H("lr", "float", 1e-5, 1e-1, log_scale=True),
    H("wd", "float", 1e-6, 1e-2, log_scale=True),
    H("momentum", "float", 0.0, 0.99),
    H("dropout", "float", 0.0, 0.5),
    H("layers", "int", 1, 8),
    H("units", "int", 16, 512),
    H("optimizer", "categorical", choices=["adam", "sgd", "rmsprop"]),
]


#: hptune's GP variants (output warpings, trust region on or off), run on request as
#: ``hptune-bayesian-<variant>``.
GP_VARIANTS = {
    "bayesian-nowarp": {"output_warping": "none"},
    "bayesian-logwarp": {"output_warping": "log"},
    "bayesian-autowarp": {"output_warping": "auto"},
    "bayesian-tr": {"trust_region": True},
    "bayesian-notr": {"trust_region": False},
}


def hptune_method(method: str) -> tuple[str, dict[str, Any]]:
    """``"hptune-tpe"`` -> ``("tpe", {})``; a GP variant -> ``("bayesian", its options)``."""
    name = method.removeprefix("hptune-")
    if name in GP_VARIANTS:
        return "bayesian", GP_VARIANTS[name]
    return name, {}


def trivial(params: dict[str, Any]) -> float:
    """An objective that costs nothing, so that only the library's own work is timed."""
    return 0.0


def optuna_objective(trial: Any) -> float:
    """MIXED7 suggested through an Optuna trial, with the same trivial value."""
    trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    trial.suggest_float("wd", 1e-6, 1e-2, log=True)
    trial.suggest_float("momentum", 0.0, 0.99)
    trial.suggest_float("dropout", 0.0, 0.5)
    trial.suggest_int("layers", 1, 8)
    trial.suggest_int("units", 16, 512)
    trial.suggest_categorical("optimizer", ["adam", "sgd", "rmsprop"])
    return 0.0


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best wall-clock seconds of ``repeat`` runs of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    cells = [[str(c) for c in header]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _fmt(c: object) -> str:
    if isinstance(c, float):
        return f"{c:.3g}"
    return str(c)


def indices(text: str) -> list[int]:
    """``"1-5,7"`` -> ``[1, 2, 3, 4, 5, 7]``."""
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test of wins against losses (ties dropped)."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)
