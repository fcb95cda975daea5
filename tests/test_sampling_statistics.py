"""Distributional checks with fixed seeds and sound tolerances."""

from __future__ import annotations

import math

import numpy as np

from hptune import HyperparameterSpace, SearchSpace
from hptune._core import Sobol


def _ks_uniform(u: np.ndarray) -> float:
    u = np.sort(u)
    n = len(u)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - u), np.max(u - (i - 1) / n)))


def test_log_scale_samples_are_uniform_in_log_space() -> None:
    s = SearchSpace([HyperparameterSpace("lr", "float", 1e-5, 1e-1, log_scale=True)])
    x = s.core.sample_random(123, 0, 20_000)[:, 0]
    assert np.all((x >= 1e-5) & (x <= 1e-1))
    u = (np.log(x) - math.log(1e-5)) / (math.log(1e-1) - math.log(1e-5))
    # Kolmogorov-Smirnov at alpha = 0.001: critical value 1.95 / sqrt(n).
    assert _ks_uniform(u) < 1.95 / math.sqrt(len(u))
    # And clearly not uniform in linear space: most mass sits in the lowest decades.
    assert np.mean(x < 1e-2) > 0.7


def test_int_values_are_equally_likely() -> None:
    s = SearchSpace([HyperparameterSpace("k", "int", 3, 9)])
    x = s.core.sample_random(5, 0, 70_000)[:, 0].astype(int)
    counts = np.bincount(x - 3, minlength=7)
    expected = len(x) / 7
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    # Chi-square with 6 degrees of freedom: 22.46 is the 0.999 quantile.
    assert chi2 < 22.46, counts


def test_categorical_choices_are_equally_likely() -> None:
    s = SearchSpace([HyperparameterSpace("c", "categorical", choices=["a", "b", "c", "d"])])
    params = s.rows_to_params(s.core.sample_random(9, 0, 40_000))
    counts = np.array([sum(p["c"] == c for p in params) for c in "abcd"])
    chi2 = float(np.sum((counts - 10_000) ** 2 / 10_000))
    assert chi2 < 16.27  # 3 degrees of freedom, 0.999 quantile


def test_sobol_points_are_balanced() -> None:
    for seed in (None, 1, 2):
        pts = Sobol(5, seed).points(0, 256)
        for j in range(5):
            cells = np.floor(pts[:, j] * 256).astype(int)
            assert sorted(cells.tolist()) == list(range(256))
        # Two-dimensional projections of a (t, m, s)-net: every 16 x 16 cell holds one point.
        cells2 = np.floor(pts[:, :2] * 16).astype(int)
        assert len({(a, b) for a, b in cells2.tolist()}) == 256


def test_sobol_beats_random_on_discrepancy_proxy() -> None:
    # Mean squared error of estimating the mean of a smooth function.
    def f(p: np.ndarray) -> np.ndarray:
        return np.prod(1.0 + 0.5 * (p - 0.5), axis=1)

    s = SearchSpace([HyperparameterSpace(f"x{i}", "float", 0.0, 1.0) for i in range(4)])
    err_sobol, err_random = [], []
    for seed in range(20):
        err_sobol.append((f(Sobol(4, seed).points(0, 128)).mean() - 1.0) ** 2)
        err_random.append((f(s.core.sample_random(seed, 0, 128)).mean() - 1.0) ** 2)
    assert np.mean(err_sobol) < 0.2 * np.mean(err_random)
