"""The GP's optional log output warping (``output_warping="log"``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import hptune
from hptune import HyperparameterSpace, InvalidArgumentError
from hptune.samplers import BayesianSampler

SPACE = [HyperparameterSpace(f"x{i}", "float", -5.0, 5.0) for i in range(4)]


def rosenbrock(params: dict[str, Any]) -> float:
    x = np.array([params[f"x{i}"] for i in range(4)])
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def _log_regret(warping: str, seed: int) -> float:
    study = hptune.create_study(
        SPACE, "bayesian", maximize=False, seed=seed, output_warping=warping
    )
    study.optimize(rosenbrock, n_trials=50, show_progress=False)
    return math.log10(float(study.best_value))


def test_log_warping_helps_on_a_badly_scaled_objective() -> None:
    # Rosenbrock's values span five orders of magnitude over the box. Measured at these seeds:
    # log10 regret 0.24-0.72 with the warping, 1.41-1.66 without.
    warped = [_log_regret("log", s) for s in range(3)]
    plain = [_log_regret("none", s) for s in range(3)]
    assert max(warped) < min(plain), (warped, plain)


def test_the_warping_is_monotone_and_keeps_the_best_at_zero() -> None:
    sampler = BayesianSampler(output_warping="log")
    y = np.array([3.0, 1.0, 1e6, 7.5, 2.0])
    w = sampler._warp(y)
    assert w[1] == 0.0
    assert list(np.argsort(w)) == list(np.argsort(y))
    assert w.max() < 20.0
    constant = np.full(4, 2.5)
    np.testing.assert_array_equal(sampler._warp(constant), constant)
    np.testing.assert_array_equal(BayesianSampler()._warp(y), y)


def test_the_option_is_checked_and_stored() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown output_warping 'sqrt'; allowed"):
        BayesianSampler(output_warping="sqrt")
    study = hptune.create_study(SPACE, "bayesian", seed=0, output_warping="log")
    assert study.sampler.options()["output_warping"] == "log"  # type: ignore[attr-defined]
