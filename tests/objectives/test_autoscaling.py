"""The autoscaling simulator: deterministic, validated, and each knob pulls the way it should.

Direction tests sum a week over three fixed seeds and compare the ends of each preset range, the
guarantee the model gives; in between, hysteresis makes individual runs path dependent.
"""

from __future__ import annotations

import pickle
from functools import cache
from typing import Any

import numpy as np
import pytest

from hptune import presets
from hptune._errors import InvalidArgumentError
from hptune.objectives import AutoscalingObjective, SimulationResult, autoscaling
from hptune.objectives._autoscaling import workload_trace

DEFAULTS = presets.defaults("optimization_agent")
SPECS = presets.get("optimization_agent")
SEEDS = (0, 1, 2)
OBJECTIVE = autoscaling(hours=168)


@cache
def _totals(name: str, end: str) -> tuple[float, float, int, int]:
    spec = SPECS[name]
    params = dict(DEFAULTS, **{name: spec.min_value if end == "low" else spec.max_value})
    runs = [OBJECTIVE.simulate(params, seed=s) for s in SEEDS]
    return (
        sum(r.cost for r in runs),
        sum(r.replica_hours for r in runs),
        sum(r.slo_minutes for r in runs),
        sum(r.memory_slo_minutes for r in runs),
    )


def _low_high(name: str) -> tuple[tuple[float, float, int, int], tuple[float, float, int, int]]:
    return _totals(name, "low"), _totals(name, "high")


def test_raising_scale_up_threshold_saves_replicas_and_costs_slo() -> None:
    low, high = _low_high("scale_up_cpu_threshold")
    assert high[1] < low[1]
    assert high[2] > low[2]


def test_raising_scale_down_threshold_saves_replicas_and_costs_slo() -> None:
    low, high = _low_high("scale_down_cpu_threshold")
    assert high[1] < low[1]
    assert high[2] > low[2]


@pytest.mark.parametrize("name", ["cpu_weight", "over_provision_penalty"])
def test_raising_capacity_costs_saves_replicas_and_costs_slo(name: str) -> None:
    low, high = _low_high(name)
    assert high[1] < low[1]
    assert high[2] > low[2]


def test_raising_response_time_weight_buys_replicas_for_slo() -> None:
    low, high = _low_high("response_time_weight")
    assert high[1] > low[1]
    assert high[2] < low[2]


def test_raising_memory_weight_avoids_swapping() -> None:
    low, high = _low_high("memory_weight")
    assert high[1] > low[1]
    assert high[3] < low[3]
    assert high[2] < low[2]


def test_raising_under_provision_penalty_reduces_slo_minutes() -> None:
    low, high = _low_high("under_provision_penalty")
    assert high[2] < low[2]
    assert high[1] >= low[1]


def test_every_parameter_changes_the_cost() -> None:
    base = OBJECTIVE(DEFAULTS)
    for name, spec in SPECS.items():
        costs = {OBJECTIVE(dict(DEFAULTS, **{name: v})) for v in (spec.min_value, spec.max_value)}
        assert costs != {base}, name


def test_cost_is_replica_hours_plus_slo_minutes_at_their_prices() -> None:
    objective = autoscaling(hours=24, replica_hour_price=0.2, slo_minute_price=3.0)
    result = objective.simulate(DEFAULTS)
    assert isinstance(result, SimulationResult)
    assert result.minutes == 24 * 60
    assert result.cost == pytest.approx(0.2 * result.replica_hours + 3.0 * result.slo_minutes)
    assert objective(DEFAULTS) == result.cost
    assert 0 <= result.memory_slo_minutes <= result.slo_minutes
    assert result.replica_hours >= 2 * 24


def test_deterministic_per_seed_and_seed_keyword_overrides() -> None:
    a = autoscaling(hours=48, seed=5)
    assert a(DEFAULTS) == autoscaling(hours=48, seed=5)(DEFAULTS)
    assert a(DEFAULTS, seed=9) == autoscaling(hours=48, seed=9)(DEFAULTS)
    assert len({a(DEFAULTS, seed=s) for s in range(4)}) == 4
    assert isinstance(a, AutoscalingObjective)
    assert a.direction == "minimize"
    assert not a.accepts_trial


def test_trace_has_a_daily_cycle_noise_and_bursts() -> None:
    trace = workload_trace(seed=0, hours=168)
    assert trace.shape == (168 * 60,)
    assert np.all(trace > 0)
    np.testing.assert_array_equal(trace, workload_trace(seed=0, hours=168))
    by_hour = trace[: 5 * 1440].reshape(5, 24, 60).mean(axis=(0, 2))
    assert by_hour[12:16].mean() > 1.5 * by_hour[0:4].mean()
    # Bursts put the peak well above the largest daily swing (1.45x the base rate).
    assert trace.max() > 2.0 * 600
    assert np.std(np.diff(trace)) > 0


def test_equal_or_crossed_thresholds_name_both() -> None:
    params = dict(DEFAULTS, scale_up_cpu_threshold=0.5, scale_down_cpu_threshold=0.5)
    with pytest.raises(InvalidArgumentError, match=r"scale_down_cpu_threshold.*scale_up_cpu"):
        OBJECTIVE(params)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cpu_weight": -1.0}, "cpu_weight"),
        ({"memory_weight": float("inf")}, "memory_weight"),
        ({"scale_up_cpu_threshold": 1.2}, "scale_up_cpu_threshold"),
        ({"response_time_weight": "high"}, "response_time_weight"),
        ({"mystery": 1.0}, "mystery"),
    ],
)
def test_bad_params_name_the_parameter(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        OBJECTIVE(dict(DEFAULTS, **change))


def test_missing_param_is_named() -> None:
    params = {k: v for k, v in DEFAULTS.items() if k != "over_provision_penalty"}
    with pytest.raises(InvalidArgumentError, match="over_provision_penalty"):
        OBJECTIVE(params)


def test_bad_constructor_arguments() -> None:
    with pytest.raises(InvalidArgumentError, match="hours"):
        autoscaling(hours=0)
    with pytest.raises(InvalidArgumentError, match="seed"):
        autoscaling(seed=-1)
    with pytest.raises(InvalidArgumentError, match="seed"):
        OBJECTIVE(DEFAULTS, seed=-3)
    with pytest.raises(InvalidArgumentError, match="slo_minute_price"):
        autoscaling(slo_minute_price=-1.0)


def test_numpy_scalars_and_pickling() -> None:
    params = {k: np.float64(v) for k, v in DEFAULTS.items()}
    params["cpu_weight"] = np.float32(1.0)
    objective = autoscaling(hours=24)
    clone = pickle.loads(pickle.dumps(objective))
    assert clone(params, seed=np.int64(3)) == objective(DEFAULTS, seed=3)
