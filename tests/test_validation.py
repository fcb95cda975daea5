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


def test_one_student_t_serves_validation_and_adjustment() -> None:
    from hptune import _stats
    from hptune.adjust import _stats as adjust_stats
    from hptune.adjust import welch_greater

    # Both the validation and the adjustment service read the one module.
    assert t_quantile_975 is _stats.t_quantile_975
    assert adjust_stats.student_t_sf is _stats.student_t_sf
    assert welch_greater is _stats.welch_greater
    # Known values of the table (two-sided 95%) and, past it, of the expansion.
    for df, q in [(2, 4.303), (5, 2.571), (10, 2.228), (20, 2.086)]:
        assert t_quantile_975(df) == q
    assert t_quantile_975(0) == math.inf
    assert t_quantile_975(40) == pytest.approx(2.021, abs=1e-3)
    assert t_quantile_975(120) == pytest.approx(1.980, abs=1e-3)
    # The quantile and the tail agree: 2.5% beyond the 0.975 quantile.
    for df in (1, 2, 3, 7, 15, 30, 31, 50, 200):
        assert _stats.student_t_sf(t_quantile_975(df), df) == pytest.approx(0.025, abs=1e-4)


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


def test_race_chooses_by_mean_not_by_the_lucky_observation() -> None:
    import random

    from hptune.validation import race

    # "lucky" observed 10 once, but its mean is 0; "steady" and the baseline are truly 1 and 0.5.
    truth = {"lucky": 0.0, "steady": 1.0, "meh": -1.0, "base": 0.5}
    space = [HyperparameterSpace("c", "categorical", choices=list(truth))]
    observed = {"lucky": 10.0, "steady": 1.2, "meh": -0.5, "base": 0.4}
    result = hptune.GridSearchTuner(space, lambda p: observed[p["c"]], seed=0).tune()
    assert result.best_params == {"c": "lucky"}
    calls: list[tuple[str, int]] = []

    def noisy(params: dict[str, Any], seed: int) -> float:
        calls.append((params["c"], seed))
        return truth[params["c"]] + random.Random(seed).gauss(0.0, 0.1)

    report = race(result, noisy, top_k=3, n_seeds=4, seed=0, baseline={"c": "base"})
    assert report.robust is not None
    assert report.robust.params == {"c": "steady"}
    # "base" is both a top trial and the baseline: raced once. 3 x 2 seeds, then 2 x 2 more.
    assert report.n_evaluations == len(calls) == 3 * 2 + 2 * 2
    # The same seeds for every candidate in a round (paired comparisons).
    first_round = {s for c, s in calls[:6]}
    assert len(first_round) == 2
    assert "baseline" in [e.label for e in report.entries]
    assert "dropped" in report.notes[0]
    with pytest.raises(hptune.InvalidArgumentError, match="n_seeds"):
        race(result, noisy, n_seeds=0)


def test_race_keeps_the_baseline_unless_a_config_is_evidently_better() -> None:
    import random

    from hptune.validation import race

    # Every config is truly as good as the baseline; the noise crowns one of them anyway.
    space = [HyperparameterSpace("c", "categorical", choices=["a", "b", "c", "base"])]
    observed = {"a": 3.0, "b": 2.0, "c": 1.0, "base": 0.0}
    result = hptune.GridSearchTuner(space, lambda p: observed[p["c"]], seed=0).tune()

    def flat(params: dict[str, Any], seed: int) -> float:
        return random.Random(f"{params['c']}-{seed}").gauss(0.0, 1.0)

    kept = guessed = 0
    for s in range(40):
        guarded = race(result, flat, top_k=2, n_seeds=4, seed=s, baseline={"c": "base"})
        plain = race(result, flat, top_k=2, n_seeds=4, seed=s, baseline={"c": "base"}, baseline_z=0)
        assert guarded.robust is not None
        assert plain.robust is not None
        kept += guarded.robust.label == "baseline"
        guessed += plain.robust.label == "baseline"
        if guarded.robust.label != plain.robust.label:
            assert guarded.robust.label == "baseline"
            assert any("kept the baseline" in n for n in guarded.notes)
    # Over 200 seeds the baseline stays 72% of the time with the guard, 39% without.
    assert kept >= 24, kept
    assert guessed <= 20, guessed

    # A clearly better config still replaces the baseline, and so does a deterministic one.
    def better(params: dict[str, Any], seed: int) -> float:
        return (params["c"] == "b") + random.Random(seed).gauss(0.0, 0.1)

    report = race(result, better, top_k=4, n_seeds=4, seed=0, baseline={"c": "base"})
    assert report.robust is not None
    assert report.robust.params == {"c": "b"}
    report = race(
        result, lambda p: float(p["c"] == "a"), top_k=4, n_seeds=1, baseline={"c": "base"}
    )
    assert report.robust is not None
    assert report.robust.params == {"c": "a"}
    with pytest.raises(hptune.InvalidArgumentError, match="baseline_z must be a finite number"):
        race(result, flat, baseline_z=-1.0)
