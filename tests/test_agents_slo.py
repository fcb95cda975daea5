"""The optimization agent under an SLO: the simulator's SLO figures, cost minimised subject to a
bound on them (outcome constraints), and cost versus SLO as a two-objective Pareto front.

Runs are a simulated week at seed 0 (the preset defaults: cost 250.955, 111 SLO minutes, p95
latency 174 ms) or a day where only plumbing is checked; budgets are fixed-seed and small.
"""

from __future__ import annotations

import pickle

import pytest

import hptune
from hptune import OptimizationAgentHyperparameterTuner, presets
from hptune._errors import InvalidArgumentError
from hptune.agents import ParetoResult, _SLORecording
from hptune.objectives import autoscaling

DEFAULTS = presets.defaults("optimization_agent")
WEEK = autoscaling(hours=168, seed=0)
DAY = autoscaling(hours=24, seed=0)


def test_simulation_reports_p95_latency_and_the_cost_is_unchanged() -> None:
    result = WEEK.simulate(DEFAULTS)
    assert result.cost == pytest.approx(250.955)
    assert result.slo_minutes == 111
    assert 50.0 <= result.p95_latency_ms <= 250.0  # under the SLO: 111 of 10,080 minutes over
    assert WEEK.cost_and_slo(DEFAULTS) == (result.cost, 111.0)
    assert WEEK.cost_and_slo(DEFAULTS, "p95_latency_ms") == (result.cost, result.p95_latency_ms)
    with pytest.raises(InvalidArgumentError, match=r"metric='p99'.*slo_minutes, p95_latency_ms"):
        WEEK.cost_and_slo(DEFAULTS, "p99")


def test_record_slo_stores_the_figures_in_user_attrs_and_returns_the_same_cost() -> None:
    assert not DAY.accepts_trial
    recording = autoscaling(hours=24, seed=0, record_slo=True)
    assert recording.accepts_trial
    space = OptimizationAgentHyperparameterTuner().search_space()
    study = hptune.create_study(space, "random", maximize=False, seed=0)
    study.enqueue(DEFAULTS)
    study.optimize(recording, n_trials=3)
    for t in study.trials:
        result = DAY.simulate(t.params)
        assert t.value == DAY(t.params) == result.cost
        assert t.user_attrs["slo_minutes"] == result.slo_minutes
        assert t.user_attrs["p95_latency_ms"] == result.p95_latency_ms
        assert t.user_attrs["replica_hours"] == result.replica_hours
    assert recording(DEFAULTS) == DAY(DEFAULTS)  # a params dict still works
    with pytest.raises(InvalidArgumentError, match="record_slo"):
        autoscaling(record_slo=1)  # type: ignore[arg-type]


def test_slo_result_is_feasible_and_cheaper_than_the_feasible_defaults() -> None:
    defaults = WEEK.simulate(DEFAULTS)
    result = OptimizationAgentHyperparameterTuner().tune_optimization_agent(
        WEEK, "tpe", n_trials=40, seed=0, slo={"slo_minutes": defaults.slo_minutes}
    )
    assert result.trials[0].params == DEFAULTS  # the defaults run first
    assert result.metadata["slo"] == {"slo_minutes": 111.0}
    assert result.metadata["feasible"]
    best = WEEK.simulate(result.best_params)
    assert best.slo_minutes <= defaults.slo_minutes
    assert result.best_score == best.cost < defaults.cost
    chosen = next(t for t in result.trials if t.number == result.best_config.trial_number)
    assert chosen.feasible
    assert chosen.constraints == [best.slo_minutes - 111.0]


def test_a_binding_slo_changes_the_answer() -> None:
    """At 90 SLO minutes a week neither the defaults (111) nor the cheapest config an
    unconstrained run of the same budget finds is feasible; the constrained run pays for it."""
    tuner = OptimizationAgentHyperparameterTuner()
    plain = tuner.tune_optimization_agent(WEEK, "tpe", n_trials=60, seed=0)
    assert WEEK.simulate(plain.best_params).slo_minutes > 90
    result = tuner.tune_optimization_agent(
        WEEK, "tpe", n_trials=60, seed=0, slo={"slo_minutes": 90}
    )
    assert result.metadata["feasible"]
    assert WEEK.simulate(result.best_params).slo_minutes <= 90
    assert result.best_score > plain.best_score


def test_p95_latency_bound() -> None:
    result = OptimizationAgentHyperparameterTuner().tune_optimization_agent(
        DAY, "bayesian", n_trials=20, seed=0, slo={"p95_latency_ms": 150.0}
    )
    assert result.metadata["feasible"]
    assert DAY.simulate(result.best_params).p95_latency_ms <= 150.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slo": {"latency": 1.0}}, r"slo key='latency'.*allowed: slo_minutes, p95_latency_ms"),
        ({"slo": {}}, r"slo must be a non-empty mapping.*slo_minutes"),
        ({"slo": 30}, r"slo must be a non-empty mapping"),
        ({"slo": {"slo_minutes": float("nan")}}, r"slo\['slo_minutes'\] must be a finite"),
        ({"slo": {"slo_minutes": 30}, "maximize": True}, r"maximize must be False"),
        (
            {"slo": {"slo_minutes": 30}, "constraints_func": lambda r: [0.0]},
            r"slo or constraints_func, not both",
        ),
    ],
)
def test_slo_errors_name_the_argument(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        OptimizationAgentHyperparameterTuner().tune_optimization_agent(DAY, n_trials=2, **kwargs)  # type: ignore[arg-type]


def test_slo_needs_the_simulator() -> None:
    with pytest.raises(InvalidArgumentError, match=r"slo needs an objective with simulate"):
        OptimizationAgentHyperparameterTuner().tune_optimization_agent(
            lambda p: 1.0, n_trials=2, slo={"slo_minutes": 30}
        )


def _dominates(a: list[float], b: list[float]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and a != b


def test_cost_vs_slo_front_is_non_dominated_with_positive_hypervolume() -> None:
    result = OptimizationAgentHyperparameterTuner().tune_cost_vs_slo(
        WEEK, "slo_minutes", "tpe", n_trials=40, seed=0
    )
    assert isinstance(result, ParetoResult)
    assert result.study is not None
    assert result.study.trials[0].params == DEFAULTS
    everything = [list(t.values) for t in result.study.trials if t.values]
    points = result.points()
    assert len(points) >= 2
    assert [p[0] for p in points] == sorted(p[0] for p in points)  # cheapest first
    for p in points:
        assert not any(_dominates(q, list(p)) for q in everything)
    for t in result.front:
        assert t.values == [WEEK.simulate(t.params).cost, t.user_attrs["slo_minutes"]]
    assert result.hypervolume > 0
    assert result.hypervolume == pytest.approx(
        hptune.hypervolume([list(p) for p in points], list(result.reference))
    )
    cheapest = result.cheapest_within(points[-1][1])
    assert cheapest is not None
    assert cheapest.values == list(points[-1])
    assert result.cheapest_within(-1.0) is None


def test_cost_vs_p95_and_a_given_reference() -> None:
    result = OptimizationAgentHyperparameterTuner().tune_cost_vs_slo(
        DAY, "p95_latency_ms", "random", n_trials=10, seed=0, reference=(100.0, 5000.0)
    )
    assert result.reference == (100.0, 5000.0)
    assert result.hypervolume > 0
    with pytest.raises(InvalidArgumentError, match=r"metric='p99'"):
        OptimizationAgentHyperparameterTuner().tune_cost_vs_slo(DAY, "p99", n_trials=2)
    with pytest.raises(InvalidArgumentError, match=r"tune_cost_vs_slo needs an objective"):
        OptimizationAgentHyperparameterTuner().tune_cost_vs_slo(lambda p: 1.0, n_trials=2)
    with pytest.raises(InvalidArgumentError, match=r"reference must be"):
        OptimizationAgentHyperparameterTuner().tune_cost_vs_slo(
            DAY,
            n_trials=2,
            reference=(1.0, 2.0, 3.0),  # type: ignore[arg-type]
        )


def test_slo_objective_pickles_for_worker_processes() -> None:
    wrapped = pickle.loads(pickle.dumps(_SLORecording(DAY, "slo_minutes")))
    assert wrapped.metric == "slo_minutes"
    assert wrapped.simulator.hours == 24.0
