"""The GP's trust region, after TuRBO (``BayesianSampler(trust_region=...)``; on by default
for one objective that is not noisy)."""

from __future__ import annotations

import math
from typing import Any

import pytest

import hptune
from hptune import HyperparameterSpace, InvalidArgumentError
from hptune.samplers import BayesianSampler

SPACE = [HyperparameterSpace(f"x{i}", "float", -5.0, 5.0) for i in range(6)]
MIXED = [
    *SPACE[:3],
    HyperparameterSpace("k", "int", 1, 64, log_scale=True),
    HyperparameterSpace("c", "categorical", choices=["a", "b", "c"]),
]


def sphere(p: dict[str, Any]) -> float:
    return sum((p[f"x{i}"] - 1.0) ** 2 for i in range(6))


def mixed(p: dict[str, Any]) -> float:
    value = sum((p[f"x{i}"] - 1.0) ** 2 for i in range(3)) + math.log2(p["k"] / 8) ** 2
    return value + (0.0 if p["c"] == "b" else 2.0)


LINE = [HyperparameterSpace("x", "float", -5.0, 5.0)]
# The best trial at -4 (unit 0.1), then 16 worse ones. With two start-up trials, four halvings
# of 0.8 (four failures each in one dimension) leave a side of 0.05 of the range around it.
HISTORY = [(-4.0, 0.0), (4.0, 1.0)] + [(-2.0 + 0.4 * i, 0.5 + 0.01 * i) for i in range(16)]


def next_points(**options: Any) -> list[float]:
    sampler = BayesianSampler(seed=0, n_startup_trials=2, **options)
    study = hptune.create_study(LINE, sampler, maximize=False)
    for x, value in HISTORY:
        study.enqueue({"x": x})
        study.tell(study.ask(), value)
    return [float(t.params["x"]) for t in study.ask(3)]


def inside(x: float) -> bool:
    return -4.25 - 1e-9 <= x <= -3.75 + 1e-9


@pytest.mark.parametrize("options", [{}, {"trust_region": True}], ids=["default", "on"])
def test_suggestions_stay_in_the_shrunken_region(options: dict[str, Any]) -> None:
    assert all(inside(x) for x in next_points(**options))


@pytest.mark.parametrize(
    "options", [{"trust_region": False}, {"noisy": True}], ids=["off", "noisy-default"]
)
def test_without_a_region_the_gp_looks_elsewhere_too(options: dict[str, Any]) -> None:
    assert not all(inside(x) for x in next_points(**options))


def test_the_search_converges_on_a_bowl() -> None:
    study = hptune.create_study(SPACE, "bayesian", maximize=False, seed=3)
    study.optimize(sphere, n_trials=60, show_progress=False)
    assert study.best_value < 1e-3, study.best_value


def test_mixed_spaces_give_valid_deterministic_trials() -> None:
    def run() -> list[dict[str, Any]]:
        study = hptune.create_study(MIXED, "bayesian", maximize=False, seed=4, trust_region=True)
        study.optimize(mixed, n_trials=30, show_progress=False)
        return [t.params for t in study.trials]

    first = run()
    assert first == run()
    for params in first:
        assert all(p.contains(params[p.name]) for p in MIXED), params
        assert isinstance(params["k"], int)


def test_bad_flag_and_several_objectives_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="trust_region"):
        BayesianSampler(trust_region="yes")  # type: ignore[arg-type]
    study = hptune.create_study(
        SPACE[:2],
        BayesianSampler(seed=0, n_startup_trials=2, trust_region=True),
        directions=["minimize", "minimize"],
    )
    for _ in range(2):
        trial = study.ask()
        study.tell(trial, [trial.params["x0"], trial.params["x1"]])
    with pytest.raises(InvalidArgumentError, match="trust_region=True needs a single objective"):
        study.ask()
    # By default several objectives simply search the whole space.
    default = hptune.create_study(
        SPACE[:2], BayesianSampler(seed=0, n_startup_trials=2), directions=["minimize"] * 2
    )
    default.optimize(lambda p: [p["x0"], p["x1"]], n_trials=4, show_progress=False)
    assert len(default.trials) == 4
    assert BayesianSampler(trust_region=True).options()["trust_region"] is True
