"""The GP's output warpings: ``"log"`` and ``"auto"`` (the better of none and log by the GP's
likelihood of the raw values)."""

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
    # Over the whole space, where the warping matters most: inside the default trust region
    # the unwarped GP also reaches 0.26-0.54 on these seeds, and the warpings 0.39-0.56.
    study = hptune.create_study(
        SPACE, "bayesian", maximize=False, seed=seed, output_warping=warping, trust_region=False
    )
    study.optimize(rosenbrock, n_trials=50, show_progress=False)
    return math.log10(float(study.best_value))


def test_log_warping_helps_on_a_badly_scaled_objective() -> None:
    # Rosenbrock's values span five orders of magnitude over the box. Measured at these seeds:
    # log10 regret 0.24-0.72 with the warping, 1.41-1.66 without.
    warped = [_log_regret("log", s) for s in range(3)]
    plain = [_log_regret("none", s) for s in range(3)]
    assert max(warped) < min(plain), (warped, plain)


def test_auto_warping_helps_on_a_badly_scaled_objective() -> None:
    # The GP's likelihood mostly picks the log warping here. Measured at these seeds: log10
    # regret -0.23-0.72 (0.24-0.72 with "log"), 1.41-1.66 without any warping.
    auto = [_log_regret("auto", s) for s in range(3)]
    plain = [_log_regret("none", s) for s in range(3)]
    assert max(auto) < min(plain), (auto, plain)


def _bound(warping: str, d: int = 1) -> BayesianSampler:
    sampler = BayesianSampler(output_warping=warping)
    space = [HyperparameterSpace(f"x{i}", "float", 0.0, 1.0) for i in range(d)]
    sampler.bind(hptune.SearchSpace(space), 0)
    return sampler


def test_the_warping_is_monotone_and_keeps_the_best_at_zero() -> None:
    sampler = _bound("log")
    x = np.linspace(0.0, 1.0, 5)[:, None]
    y = np.array([3.0, 1.0, 1e6, 7.5, 2.0])
    w = sampler._warp(x, y, 0)
    assert w[1] == 0.0
    assert list(np.argsort(w)) == list(np.argsort(y))
    assert w.max() < 20.0
    constant = np.full(5, 2.5)
    np.testing.assert_array_equal(sampler._warp(x, constant, 0), constant)
    np.testing.assert_array_equal(_bound("none")._warp(x, y, 0), y)


def test_auto_chooses_the_model_that_explains_the_values() -> None:
    sampler = _bound("auto")
    x = np.linspace(0.0, 1.0, 16)[:, None]
    t = x[:, 0]
    # Values over six orders of magnitude: the log warping.
    steep = np.exp(14.0 * t) + np.sin(9.0 * t)
    np.testing.assert_array_equal(sampler._warp(x, steep, 1), _bound("log")._warp(x, steep, 1))
    # A sine: the warping would fold its troughs into kinks, so the values stay as they are.
    wave = np.sin(6.0 * t)
    np.testing.assert_array_equal(sampler._warp(x, wave, 1), wave)
    # Both fits are kept as warm starts.
    assert set(sampler._evidence_states) == {"none", "log"}


def test_the_option_is_checked_and_stored() -> None:
    with pytest.raises(
        InvalidArgumentError, match="unknown output_warping 'sqrt'; allowed: none, log, auto"
    ):
        BayesianSampler(output_warping="sqrt")
    study = hptune.create_study(SPACE, "bayesian", seed=0, output_warping="log")
    assert study.sampler.options()["output_warping"] == "log"  # type: ignore[attr-defined]
