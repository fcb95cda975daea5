"""Test functions for the sample-efficiency benchmarks (all minimised; known optima)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hptune import HyperparameterSpace as H


@dataclass(frozen=True)
class Problem:
    """A benchmark problem: space, objective, optimum and trial budget."""

    name: str
    space: list[H]
    f: Callable[[dict[str, Any]], float]
    optimum: float
    budget: int


def branin(p: dict[str, Any]) -> float:
    x, y = p["x0"], p["x1"]
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi
    return a * (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10


_H6_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
_H6_P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]
_H6_ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(p: dict[str, Any]) -> float:
    x = [p[f"x{i}"] for i in range(6)]
    total = 0.0
    for a, pp, alpha in zip(_H6_A, _H6_P, _H6_ALPHA, strict=True):
        inner = sum(a[j] * (x[j] - pp[j] * 1e-4) ** 2 for j in range(6))
        total += alpha * math.exp(-inner)
    return -total


def rosenbrock4_log(p: dict[str, Any]) -> float:
    x = [p[f"x{i}"] for i in range(4)]
    f = sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))
    return math.log1p(f)


def ackley5(p: dict[str, Any]) -> float:
    x = [p[f"x{i}"] for i in range(5)]
    n = len(x)
    s1 = sum(v * v for v in x) / n
    s2 = sum(math.cos(2 * math.pi * v) for v in x) / n
    return -20 * math.exp(-0.2 * math.sqrt(s1)) - math.exp(s2) + 20 + math.e


def mixed(p: dict[str, Any]) -> float:
    """A 5-parameter mixed problem: log float, float, int, stepped int, categorical."""
    lr = math.log10(p["lr"])
    shift = {"adam": 0.0, "sgd": 0.3, "rmsprop": 0.15}[p["opt"]]
    return (
        (lr + 2.5) ** 2
        + (p["mom"] - 0.9) ** 2 * 4
        + 0.05 * (p["layers"] - 3) ** 2
        + ((p["units"] - 256) / 256) ** 2
        + shift
    )


PROBLEMS = [
    Problem("branin", [H("x0", "float", -5.0, 10.0), H("x1", "float", 0.0, 15.0)], branin,
            0.397887357729738, 50),
    Problem("hartmann6", [H(f"x{i}", "float", 0.0, 1.0) for i in range(6)], hartmann6,
            -3.32236801141551, 100),
    Problem("rosenbrock4", [H(f"x{i}", "float", -5.0, 10.0) for i in range(4)], rosenbrock4_log,
            0.0, 100),
    Problem("ackley5", [H(f"x{i}", "float", -32.768, 32.768) for i in range(5)], ackley5, 0.0, 100),
    Problem(
        "mixed5",
        [
            H("lr", "float", 1e-5, 1e-1, log_scale=True),
            H("mom", "float", 0.0, 0.99),
            H("layers", "int", 1, 8),
            H("units", "int", 32, 512, step=32),
            H("opt", "categorical", choices=["adam", "sgd", "rmsprop"]),
        ],
        mixed,
        0.0,
        100,
    ),
]  # fmt: skip
