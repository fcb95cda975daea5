"""The adjustment service's policy objects, typed decisions and stored state (issue 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hptune import InvalidArgumentError
from hptune.adjust import (
    AutomaticHyperparameterAdjustment,
    DataCollector,
    Decision,
    ManualClock,
    ModelRetrainer,
    RollbackPolicy,
    TriggerKind,
    TriggerPolicy,
    TuningPolicy,
    ValidationPolicy,
    WatchOutcome,
)
from hptune.adjust._decisions import AgentState, Watch
from test_adjust import AGENT, HOUR, SimulatedAgent, make


def _log(service: AutomaticHyperparameterAdjustment) -> list[tuple[Any, ...]]:
    return [(e.adjustment_id, e.timestamp, e.event, e.details) for e in service.history(AGENT)]


def _scenario(service: AutomaticHyperparameterAdjustment, sim: Any) -> None:
    sim.drift(0.94)
    sim.run(100)
    service.check_now()  # applies
    sim.run(50)
    service.check_now()  # closes the watch


def test_policies_given_whole_run_exactly_like_the_keywords() -> None:
    keywords = {
        "detector": None,
        "window": 80,
        "min_records": 25,
        "n_trials": 16,
        "validation_repeats": 3,
        "significance": 0.1,
        "rollback_margin": 0.01,
    }
    by_keyword, sim_a, _ = make(**keywords)
    clock = ManualClock(start=1_000_000.0)
    collector = DataCollector(clock=clock)
    retrainer = ModelRetrainer(collector)
    sim_b = SimulatedAgent(collector, retrainer, seed=0)
    by_policy = AutomaticHyperparameterAdjustment(
        collector,
        retrainer,
        clock=clock,
        trigger_policy=TriggerPolicy(
            adjustment_interval=86400, cooldown=HOUR, detector=None, window=80, min_records=25
        ),
        tuning_policy=TuningPolicy(n_trials=16, method="sobol", seed=0),
        validation_policy=ValidationPolicy(validation_repeats=3, significance=0.1),
        rollback_policy=RollbackPolicy(rollback_margin=0.01),
    )
    _scenario(by_keyword, sim_a)
    _scenario(by_policy, sim_b)
    assert [e[2] for e in _log(by_keyword)] == [
        "trigger",
        "tuning",
        "validation",
        "applied",
        "kept",
    ]
    assert _log(by_keyword) == _log(by_policy)
    assert by_policy.window == 80
    assert by_policy.n_trials == 16
    assert by_policy.post_apply_records == 25  # min_records when not set
    assert by_policy.post_apply_timeout == 86400  # adjustment_interval when not set


def test_a_setting_given_twice_is_refused_naming_it() -> None:
    with pytest.raises(InvalidArgumentError, match="window given both"):
        make(window=50, trigger_policy=TriggerPolicy())
    with pytest.raises(InvalidArgumentError, match="tuning_policy must be a TuningPolicy"):
        make(tuning_policy={"n_trials": 5})


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: TriggerPolicy(window=0), "window must be an int >= 1"),
        (lambda: TriggerPolicy(success_threshold="0.5"), r"success_threshold must be in \[0, 1\]"),
        (lambda: TriggerPolicy(check_interval=0), "check_interval must be a number > 0"),
        (lambda: TriggerPolicy(cooldown=-1.0), "cooldown must be a number >= 0"),
        (lambda: TriggerPolicy(adjustment_interval=float("nan")), "adjustment_interval"),
        (
            lambda: TriggerPolicy(detector="nope"),
            "unknown detector 'nope'; allowed: 'page_hinkley'",
        ),
        (lambda: TuningPolicy(n_trials=0), "n_trials must be an int >= 1"),
        (lambda: TuningPolicy(method="annealing"), "unknown method 'annealing'; allowed:"),
        (lambda: TuningPolicy(maximize="yes"), "maximize"),
        (lambda: ValidationPolicy(significance=0.0), r"significance must be in \(0, 1\]"),
        (lambda: ValidationPolicy(significance="x"), r"significance must be in \(0, 1\]"),
        (lambda: ValidationPolicy(min_improvement=float("nan")), "min_improvement"),
        (lambda: RollbackPolicy(post_apply_records=0), "post_apply_records must be an int >= 1"),
        (lambda: RollbackPolicy(rollback_significance=2), "rollback_significance"),
    ],
)
def test_policies_check_themselves(factory: Any, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        factory()


def test_service_attributes_read_and_set_the_policies() -> None:
    service = AutomaticHyperparameterAdjustment(DataCollector(), ModelRetrainer(), n_trials=7)
    assert service.n_trials == 7
    assert service.tuning_policy.n_trials == 7
    service.n_trials = 9
    assert service.tuning_policy.n_trials == 9
    with pytest.raises(InvalidArgumentError, match="window"):
        service.window = 0
    assert service.window == 100
    service.validation_policy = ValidationPolicy(validation_repeats=8)
    assert service.validation_repeats == 8
    service.post_apply_records = 12
    assert service.post_apply_records == 12


def test_decisions_are_typed_and_equal_to_their_strings() -> None:
    service, sim, _clock = make(detector=None)
    sim.drift(0.94)
    sim.run(100)
    [result] = service.check_now()
    assert result.decision is Decision.APPLIED
    assert result.decision == "applied"
    assert result.trigger is TriggerKind.SUCCESS_RATE
    assert result.trigger == "success_rate"
    assert str(result.decision) == "applied"
    assert f"{result.trigger}" == "success_rate"
    assert WatchOutcome.ROLLBACK == "rollback"


def test_state_with_an_open_watch_survives_a_restart(tmp_path: Path) -> None:
    log = tmp_path / "audit.db"
    service, sim, clock = make(detector=None, audit_log=log)
    sim.drift(0.94)
    sim.run(100)
    [result] = service.check_now()
    assert result.applied
    stored = service.audit.load_state(AGENT)
    assert stored is not None
    assert stored["watch"]["adjustment_id"] == result.adjustment_id
    state = AgentState.from_stored(stored)
    assert isinstance(state.watch, Watch)
    assert state.as_stored() == stored
    service.audit.close()
    again = AutomaticHyperparameterAdjustment(
        service.data_collector,
        service.model_retrainer,
        clock=clock,
        detector=None,
        audit_log=log,
        method="sobol",
    )
    sim.run(50)
    again.check_now()
    assert again.history(AGENT)[-1].event in ("kept", "rollback")


def test_the_policy_attributes_leave_the_class_introspectable() -> None:
    import pydoc

    assert hasattr(AutomaticHyperparameterAdjustment, "window")
    assert "trigger_policy" in pydoc.render_doc(AutomaticHyperparameterAdjustment)
