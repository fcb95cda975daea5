"""The validation framework: fresh seeds, confidence intervals, robust choice, optimism."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

import hptune
from hptune import HyperparameterSpace
from hptune.validation import ConfigValidation, t_quantile_975


def noisy(params: dict[str, Any], seed: int | None = None) -> float:
    return -((params["x"] - 0.3) ** 2) + random.Random(seed).gauss(0.0, 0.05)


def test_t_quantiles() -> None:
    assert t_quantile_975(1) == pytest.approx(12.706)
    assert t_quantile_975(30) == pytest.approx(2.042)
    assert t_quantile_975(60) == pytest.approx(2.000, abs=2e-3)
    assert t_quantile_975(10_000) == pytest.approx(1.960, abs=1e-3)


def test_statistics_of_one_config() -> None:
    c = ConfigValidation({"x": 1}, 2.0, (1.0, 2.0, 3.0))
    assert c.mean == 2.0
    assert c.std == 1.0
    lo, hi = c.ci95
    assert lo == pytest.approx(2.0 - 4.303 / math.sqrt(3))
    assert hi == pytest.approx(2.0 + 4.303 / math.sqrt(3))


def test_validate_flags_optimism_and_picks_robust() -> None:
    space = [HyperparameterSpace("x", "float", 0.0, 1.0)]
    # Tuning with an unseeded noisy objective: the best of 80 noisy draws is lucky.
    calls = {"n": 0}

    def tuning_objective(p: dict[str, Any]) -> float:
        calls["n"] += 1
        return noisy(p, seed=10_000 + calls["n"]) + (0.3 if calls["n"] == 40 else 0.0)

    result = hptune.RandomSearchTuner(space, tuning_objective, n_trials=80, seed=0).tune()
    report = hptune.validate(result, noisy, top_k=3, n_repeats=6, seed=1, baseline={"x": 0.95})
    assert [e.n for e in report.entries] == [6, 6, 6, 6]
    assert report.optimistic
    assert report.robust is not None
    assert report.robust in report.entries[:3]
    assert report.entries[-1].label == "baseline"
    assert report.robust.mean > report.entries[-1].mean
    text = report.table()
    assert "optimistic" in text
    assert "baseline" in text
    # The same seeds for every config: calling again reproduces the figures.
    again = hptune.validate(result, noisy, top_k=3, n_repeats=6, seed=1)
    assert [e.scores for e in again.entries] == [e.scores for e in report.entries[:3]]


def test_failing_repeats_are_kept_apart() -> None:
    space = [HyperparameterSpace("x", "float", 0.0, 1.0)]
    result = hptune.RandomSearchTuner(space, lambda p: p["x"], n_trials=10, seed=0).tune()
    state = {"n": 0}

    def flaky(p: dict[str, Any]) -> float:
        state["n"] += 1
        if state["n"] % 2:
            raise RuntimeError("flaky")
        return float(p["x"])

    report = hptune.validate(result, flaky, top_k=2, n_repeats=4)
    assert all(e.n == 2 for e in report.entries)
    assert all(e.errors == ("RuntimeError: flaky",) * 2 for e in report.entries)


def test_bad_arguments() -> None:
    space = [HyperparameterSpace("x", "float", 0.0, 1.0)]
    result = hptune.RandomSearchTuner(space, lambda p: p["x"], n_trials=3, seed=0).tune()
    with pytest.raises(hptune.InvalidArgumentError, match="top_k"):
        hptune.validate(result, noisy, top_k=0)
    with pytest.raises(hptune.InvalidArgumentError, match="n_repeats"):
        hptune.validate(result, noisy, n_repeats=0)
