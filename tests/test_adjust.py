"""The adjustment service on a simulated agent whose success depends on its hyperparameters
and whose environment drifts: triggers, validation, rollback, stop(), failures, restarts."""

from __future__ import annotations

import math
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hptune import InMemoryStorage, presets
from hptune.adjust import (
    AutomaticHyperparameterAdjustment,
    DataCollector,
    ManualClock,
    ModelRetrainer,
    Record,
)
from hptune.samplers import METHODS

AGENT = "self-healing"
HOUR = 3600.0


class SimulatedAgent:
    """A PPO-tuned agent: success probability peaks where ``gamma`` (and, weakly,
    ``learning_rate``) matches the environment's optimum, which :meth:`drift` moves.

    ``train`` is the registered training function: a noisy score of the success probability.
    ``run`` plays episodes with the deployed hyperparameters and records them.
    """

    def __init__(
        self,
        collector: DataCollector,
        retrainer: ModelRetrainer,
        seed: int = 0,
        *,
        noise: float = 0.02,
    ) -> None:
        self.collector = collector
        self.retrainer = retrainer
        self.rng = random.Random(seed)
        self.optimum_gamma = 0.99
        self.noise = noise
        self.trained: list[dict[str, Any]] = []
        self.deployed_penalty: dict[float, float] = {}  # gamma -> extra loss in production only
        retrainer.register(AGENT, self.train, "ppo")

    def quality(self, hp: dict[str, Any], *, production: bool = False) -> float:
        d_gamma = (hp["gamma"] - self.optimum_gamma) / 0.03
        d_lr = (math.log10(hp["learning_rate"]) - math.log10(3e-4)) / 1.5
        q = 0.95 * math.exp(-0.5 * (d_gamma**2 + d_lr**2))
        if production:
            q -= sum(p for g, p in self.deployed_penalty.items() if abs(hp["gamma"] - g) < 1e-12)
        return min(1.0, max(0.0, q))

    def train(self, hp: dict[str, Any], data: list[Record]) -> float:
        self.trained.append(dict(hp))
        return self.quality(hp) + self.rng.gauss(0.0, self.noise)

    def drift(self, gamma: float) -> None:
        self.optimum_gamma = gamma

    def run(self, n: int, *, reward_noise: float = 0.05) -> None:
        hp = self.retrainer.current_hyperparameters(AGENT)
        q = self.quality(hp, production=True)
        for _ in range(n):
            ok = self.rng.random() < q
            self.collector.record(AGENT, ok, reward=q + self.rng.gauss(0.0, reward_noise))


def make(
    *,
    seed: int = 0,
    audit_log: Path | None = None,
    **options: Any,
) -> tuple[AutomaticHyperparameterAdjustment, SimulatedAgent, ManualClock]:
    clock = ManualClock(start=1_000_000.0)
    collector = DataCollector(clock=clock)
    retrainer = ModelRetrainer(collector)
    sim = SimulatedAgent(collector, retrainer, seed=seed)
    settings: dict[str, Any] = {
        "clock": clock,
        "method": "sobol",
        "n_trials": 24,
        "validation_repeats": 4,
        "window": 100,
        "min_records": 30,
        "cooldown": HOUR,
        "seed": seed,
        "audit_log": audit_log,
        "adjustment_interval": 86400,
    }
    settings.update(options)
    service = AutomaticHyperparameterAdjustment(collector, retrainer, **settings)
    return service, sim, clock


def events(service: AutomaticHyperparameterAdjustment) -> list[str]:
    return [e.event for e in service.history(AGENT)]


# ---------------------------------------------------------------------------- triggers


def test_no_trigger_while_the_agent_is_healthy() -> None:
    service, sim, clock = make()
    for _ in range(12):
        sim.run(100)
        clock.advance(HOUR)
        assert service.check_now() == []
    assert events(service) == []


def test_success_rate_trigger_fires_on_low_rate_with_enough_records_only() -> None:
    service, sim, _clock = make(detector=None)
    sim.drift(0.93)  # deployed gamma=0.99 now gives ~13 % success
    sim.run(20)  # below min_records=30
    assert service.check_now() == []
    sim.run(20)
    [result] = service.check_now()
    assert result.trigger == "success_rate"
    assert result.evidence["records"] == 40
    assert result.evidence["success_rate"] < 0.8
    assert result.decision == "applied"
    assert abs(sim.retrainer.current_hyperparameters(AGENT)["gamma"] - 0.93) < 0.03


def test_no_trigger_twice_on_the_same_evidence() -> None:
    # A tuner that cannot beat the current config: the trigger fires, the candidate is
    # rejected, and the same low-rate records must not fire again, even after the cooldown.
    service, sim, clock = make(detector=None, n_trials=2)
    sim.drift(0.93)
    sim.retrainer.register(AGENT, lambda hp, data: 0.5, "ppo")  # every config scores alike
    sim.run(50)
    [first] = service.check_now()
    assert first.decision == "rejected"
    clock.advance(10 * HOUR)
    assert service.check_now() == []  # no new records: no new evidence
    sim.run(50)
    [second] = service.check_now()
    assert second.trigger == "success_rate"
    assert second.evidence["first_record_id"] > first.evidence["latest_record_id"]


def test_cooldown_prevents_a_tuning_storm() -> None:
    service, sim, clock = make(detector=None, n_trials=2, cooldown=2 * HOUR)
    sim.retrainer.register(AGENT, lambda hp, data: 0.5, "ppo")
    sim.drift(0.93)
    sim.run(50)
    assert len(service.check_now()) == 1
    clock.advance(HOUR)
    sim.run(50)
    assert service.check_now() == []  # within the cooldown
    clock.advance(HOUR)
    assert len(service.check_now()) == 1  # the records from the cooldown are fresh evidence


def test_degradation_detector_fires_on_a_reward_drop_not_on_noise() -> None:
    # The success-rate trigger is off and the drop keeps the rate above 0.8: only the change
    # detector on the reward stream can notice.
    service, sim, clock = make(success_threshold=None)
    for _ in range(6):
        sim.run(200)
        clock.advance(HOUR)
        assert service.check_now() == []
    sim.drift(0.975)  # quality 0.95 -> ~0.84
    sim.run(300)
    [result] = service.check_now()
    assert result.trigger == "degradation"
    assert result.evidence["detector"] == "page_hinkley"
    assert result.evidence["running_mean"] < result.evidence["baseline_mean"]


def test_cusum_detector_by_name() -> None:
    service, sim, _clock = make(success_threshold=None, detector="cusum")
    sim.run(1500)
    assert service.check_now() == []
    sim.drift(0.975)
    sim.run(300)
    [result] = service.check_now()
    assert result.trigger == "degradation"
    assert result.evidence["detector"] == "cusum"


def test_periodic_trigger_once_per_interval() -> None:
    service, _sim, clock = make(detector=None, success_threshold=None)
    service.check_now()  # the service first sees the agent: the period starts now
    clock.advance(86400 - 60)
    assert service.check_now() == []
    clock.advance(60)
    [result] = service.check_now()
    assert result.trigger == "periodic"
    assert result.evidence["elapsed"] == 86400
    assert result.decision == "rejected"  # nothing drifted: the current config is as good
    clock.advance(HOUR)
    assert service.check_now() == []


def test_triggers_can_be_switched_off() -> None:
    service, sim, clock = make(detector=None, success_threshold=None, adjustment_interval=None)
    sim.drift(0.9)
    sim.run(500)
    clock.advance(10 * 86400)
    assert service.check_now() == []


# ---------------------------------------------------------------------------- validation


def test_apply_only_on_a_validated_improvement() -> None:
    service, sim, _clock = make()
    result = service.manual_tune(AGENT, "ppo", method="sobol", n_trials=24)
    # Nothing drifted: the defaults (gamma=0.99, lr=3e-4) are the optimum.
    assert result.decision == "rejected"
    assert result.validation is None or not result.validation.better
    assert sim.retrainer.current_hyperparameters(AGENT) == presets.defaults("ppo")
    sim.drift(0.94)
    result = service.manual_tune(AGENT, "ppo", method="sobol", n_trials=24)
    assert result.decision == "applied"
    v = result.validation
    assert v is not None
    assert v.better
    assert v.p_value < 0.05
    assert v.improvement > 0.1
    assert len(v.candidate_scores) == len(v.current_scores) == 4
    assert sim.retrainer.current_hyperparameters(AGENT) == result.candidate
    assert events(service)[-4:] == ["trigger", "tuning", "validation", "applied"]


def test_noisy_tie_is_not_applied() -> None:
    # Every config scores the same up to noise: whatever tuning "finds" is luck, and the
    # fresh evaluations must say so.
    service, sim, _clock = make(validation_repeats=6)
    sim.retrainer.register(AGENT, lambda hp, data: 0.7 + sim.rng.gauss(0.0, 0.05), "ppo")
    decisions = [service.manual_tune(AGENT, "ppo", n_trials=8).decision for _ in range(5)]
    assert decisions.count("applied") <= 1


def test_warm_start_from_current_and_previous_study() -> None:
    storage = InMemoryStorage()
    service, sim, _clock = make(storage=storage)
    sim.drift(0.94)
    first = service.manual_tune(AGENT, "ppo", n_trials=10)
    assert first.tuning_result is not None
    # Trial 0 of the study is the deployed configuration.
    assert first.tuning_result.trials[0].params == presets.defaults("ppo")
    assert first.decision == "applied"
    second = service.manual_tune(AGENT, "ppo", n_trials=10)
    assert second.tuning_result is not None
    trials = second.tuning_result.trials
    assert len(trials) == 20  # the same study, continued
    # The new run starts from the configuration deployed by the first (its best).
    assert trials[10].params == first.candidate == second.previous_hyperparameters


def test_warm_start_queues_the_previous_best_when_it_was_not_applied() -> None:
    service, sim, _clock = make(validation_repeats=4)
    calls: list[int] = []

    def unavailable_during_validation(hp: dict[str, Any], data: list[Record]) -> float:
        calls.append(1)
        if 8 < len(calls) <= 16:  # the first run's 4 + 4 validation evaluations
            raise RuntimeError("validation cluster is down")
        return -abs(hp["gamma"] - 0.93)

    sim.retrainer.register(AGENT, unavailable_during_validation, "ppo")
    first = service.manual_tune(AGENT, "ppo", n_trials=8)
    assert first.decision == "rejected"
    assert first.validation is not None
    assert len(first.validation.failures) == 8
    assert first.best_params != presets.defaults("ppo")
    second = service.manual_tune(AGENT, "ppo", n_trials=8)
    assert second.tuning_result is not None
    queued = [t.params for t in second.tuning_result.trials[:2]]
    assert queued == [presets.defaults("ppo"), first.best_params]


# ---------------------------------------------------------------------------- rollback


def test_rollback_when_the_applied_config_does_worse_in_production() -> None:
    service, sim, _clock = make(detector=None)
    sim.drift(0.94)
    sim.run(100)
    [result] = service.check_now()
    assert result.decision == "applied"
    applied = result.candidate
    assert applied is not None
    # Production disagrees with training: the new gamma loses 0.5 of success when deployed.
    sim.deployed_penalty[applied["gamma"]] = 0.9
    sim.run(10)
    assert service.check_now() == []  # still watching: too few records after applying
    assert "rollback" not in events(service)
    sim.run(40)
    service.check_now()
    assert events(service)[-1] == "rollback"
    assert sim.retrainer.current_hyperparameters(AGENT) == result.previous_hyperparameters
    rollback = service.history(AGENT)[-1]
    assert rollback.adjustment_id == result.adjustment_id
    assert rollback.details["success_rate_after"] < rollback.details["success_rate_before"]
    # The next adjustment does not warm-start from the config that was rolled back.
    again = service.manual_tune(AGENT, "ppo", n_trials=4)
    assert again.tuning_result is not None
    assert applied not in [t.params for t in again.tuning_result.trials[-4:]]


def test_kept_when_the_applied_config_does_better() -> None:
    service, sim, _clock = make(detector=None)
    sim.drift(0.94)
    sim.run(100)
    [result] = service.check_now()
    assert result.decision == "applied"
    sim.run(50)
    service.check_now()
    kept = service.history(AGENT)[-1]
    assert kept.event == "kept"
    assert kept.details["success_rate_after"] > kept.details["success_rate_before"]
    assert sim.retrainer.current_hyperparameters(AGENT) == result.candidate


# ---------------------------------------------------------------------------- failures


def test_failing_trials_fail_alone() -> None:
    service, sim, _clock = make()
    sim.drift(0.94)

    def flaky(hp: dict[str, Any], data: list[Record]) -> float:
        if hp["learning_rate"] > 1e-3:
            raise RuntimeError("diverged")
        return sim.train(hp, data)

    sim.retrainer.register(AGENT, flaky, "ppo")
    result = service.manual_tune(AGENT, "ppo", n_trials=24)
    assert result.tuning_result is not None
    assert result.tuning_result.failed_trials
    assert "diverged" in (result.tuning_result.failed_trials[0].error or "")
    assert result.decision == "applied"
    assert service.history(AGENT)[1].details["failed_trials"] > 0


def test_an_adjustment_that_fails_keeps_the_current_hyperparameters(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service, sim, _clock = make(detector=None)

    def broken(hp: dict[str, Any], data: list[Record]) -> float:
        raise RuntimeError("training cluster is down")

    sim.retrainer.register(AGENT, broken, "ppo")
    sim.drift(0.94)
    sim.run(50)
    with caplog.at_level("ERROR", logger="hptune.adjust"):
        [result] = service.check_now()
    assert result.decision == "failed"
    assert "AllTrialsFailedError" in (result.error or "")
    assert "training cluster is down" in (result.error or "")
    assert sim.retrainer.current_hyperparameters(AGENT) == presets.defaults("ppo")
    assert events(service)[-1] == "failed"
    assert any("failed" in r.getMessage() for r in caplog.records)


def test_apply_failure_keeps_the_current_hyperparameters() -> None:
    service, sim, _clock = make(detector=None)
    sim.drift(0.94)

    class Boom(RuntimeError):
        pass

    def apply_fails(agent: str, algorithm: str, hp: dict[str, Any]) -> float:
        raise Boom("deploy rejected")

    sim.retrainer.apply = apply_fails  # type: ignore[method-assign]
    result = service.manual_tune(AGENT, "ppo", n_trials=16)
    assert result.decision == "failed"
    assert "deploy rejected" in (result.error or "")
    assert sim.retrainer.current_hyperparameters(AGENT) == presets.defaults("ppo")


def test_the_service_thread_survives_failures() -> None:
    service, sim, clock = make(detector=None, check_interval=600)

    def broken(hp: dict[str, Any], data: list[Record]) -> float:
        raise RuntimeError("boom")

    sim.retrainer.register(AGENT, broken, "ppo")
    sim.drift(0.94)
    sim.run(50)
    service.start()
    try:
        clock.wait_for_sleepers(1)
        clock.advance(600)
        assert events(service)[-1] == "failed"
        sim.retrainer.register(AGENT, sim.train, "ppo")
        clock.advance(HOUR)
        sim.run(50)
        clock.advance(600)
        assert events(service)[-1] == "applied"
        assert service.running
    finally:
        service.stop()


# ---------------------------------------------------------------------------- stop()


def test_stop_during_tuning_aborts_and_applies_nothing() -> None:
    service, sim, clock = make(detector=None, check_interval=60, n_trials=50)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow(hp: dict[str, Any], data: list[Record]) -> float:
        calls.append(1)
        if len(calls) == 3:
            started.set()
            release.wait(5)
        return sim.train(hp, data)

    sim.retrainer.register(AGENT, slow, "ppo")
    sim.drift(0.94)
    sim.run(50)
    service.start()
    clock.wait_for_sleepers(1)
    waker = threading.Thread(target=clock.advance, args=(60,), kwargs={"settle_timeout": 10})
    waker.start()
    assert started.wait(5)
    stopper = threading.Thread(target=service.stop)
    stopper.start()
    while not service._stop.is_set():
        time.sleep(0.001)
    release.set()
    stopper.join(5)
    waker.join(5)
    assert not stopper.is_alive()
    assert not service.running
    assert len(calls) == 3  # the trial in flight finished; no other started
    assert events(service) == ["trigger", "aborted"]
    assert sim.retrainer.current_hyperparameters(AGENT) == presets.defaults("ppo")
    service.stop()  # idempotent


def test_stop_aborts_a_manual_tune_running_in_another_thread() -> None:
    service, sim, _clock = make(n_trials=50)
    started, release = threading.Event(), threading.Event()

    def slow(hp: dict[str, Any], data: list[Record]) -> float:
        started.set()
        release.wait(5)
        return sim.train(hp, data)

    sim.retrainer.register(AGENT, slow, "ppo")
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(service.manual_tune(AGENT, "ppo")))
    worker.start()
    assert started.wait(5)
    service.stop()
    release.set()
    worker.join(5)
    assert results[0].decision == "aborted"
    assert len(sim.trained) <= 1


def test_start_stop_idempotent_and_context_manager() -> None:
    service, _sim, _clock = make()
    service.stop()
    service.start()
    thread = service._thread
    service.start()
    assert service._thread is thread
    service.stop()
    service.stop()
    assert not service.running
    with service as same:
        assert same.running
    assert not service.running


# ---------------------------------------------------------------------------- restarts


def test_audit_log_and_evidence_survive_a_restart(tmp_path: Path) -> None:
    audit = tmp_path / "audit.db"
    records = tmp_path / "records.db"
    clock = ManualClock(start=1_000_000.0)

    def build() -> tuple[AutomaticHyperparameterAdjustment, SimulatedAgent]:
        collector = DataCollector(records, clock=clock)
        retrainer = ModelRetrainer(collector)
        sim = SimulatedAgent(collector, retrainer)
        service = AutomaticHyperparameterAdjustment(
            collector,
            retrainer,
            clock=clock,
            method="sobol",
            n_trials=2,
            audit_log=audit,
            detector=None,
            cooldown=0,
        )
        return service, sim

    service, sim = build()
    sim.retrainer.register(AGENT, lambda hp, data: 0.5, "ppo")  # nothing better to find
    sim.drift(0.93)
    sim.run(50)
    [result] = service.check_now()
    assert result.decision == "rejected"
    before = [(e.id, e.event, e.details) for e in service.history(AGENT)]
    service.audit.close()
    sim.collector.close()  # type: ignore[attr-defined]

    again, sim2 = build()
    assert [(e.id, e.event, e.details) for e in again.history(AGENT)] == before
    assert again.check_now() == []  # the same low-rate records are not evidence again
    sim2.drift(0.93)
    sim2.run(50)
    [fresh] = again.check_now()
    assert fresh.trigger == "success_rate"


# ---------------------------------------------------------------------------- a simulated day


def test_a_simulated_day_in_the_background_thread() -> None:
    service, sim, clock = make(check_interval=600)
    with service:
        clock.wait_for_sleepers(1)
        for minute in range(0, 24 * 60, 10):
            if minute == 6 * 60:
                sim.drift(0.93)
            sim.run(20)
            clock.advance(600)
    log = events(service)
    assert log[0] == "trigger"
    first = service.history(AGENT)[0]
    assert first.details["trigger"] in ("success_rate", "degradation")
    assert first.timestamp >= 1_000_000.0 + 6 * HOUR
    assert "applied" in log
    assert "kept" in log
    assert "rollback" not in log
    assert sim.collector.success_rate(AGENT, window=100) > 0.8
    assert abs(sim.retrainer.current_hyperparameters(AGENT)["gamma"] - 0.93) < 0.03


# ---------------------------------------------------------------------------- users' code


def _users_example(method: str) -> Any:
    from hptune import AutomaticHyperparameterAdjustment, DataCollector, ModelRetrainer

    data_collector = DataCollector()
    model_retrainer = ModelRetrainer(data_collector)
    model_retrainer.register(
        "self-healing", lambda hp, data: -((hp["gamma"] - 0.95) ** 2) - hp["clip_epsilon"], "ppo"
    )
    auto_adjust = AutomaticHyperparameterAdjustment(
        data_collector=data_collector,
        model_retrainer=model_retrainer,
        adjustment_interval=86400,
    )
    auto_adjust.start()
    result = auto_adjust.manual_tune(
        agent_name="self-healing", algorithm="ppo", method=method, n_trials=100
    )
    auto_adjust.stop()
    return result, model_retrainer


@pytest.mark.skipif("bayesian" not in METHODS, reason="the bayesian method is not wired yet")
def test_users_example_as_written() -> None:
    result, _retrainer = _users_example("bayesian")
    assert result.decision == "applied"
    assert result.tuning_result.n_trials == 100


def test_users_example_with_an_available_method() -> None:
    result, retrainer = _users_example("sobol")
    assert result.decision == "applied"
    assert result.best_config is not None
    assert retrainer.current_hyperparameters("self-healing")["clip_epsilon"] < 0.2


# ---------------------------------------------------------------------------- other agents


def test_a_custom_algorithm_with_nothing_deployed_yet() -> None:
    from hptune import HyperparameterSpace

    collector = DataCollector()
    retrainer = ModelRetrainer(collector)
    retrainer.register("router", lambda hp, data: -((hp["x"] - 0.3) ** 2), "custom")
    service = AutomaticHyperparameterAdjustment(
        collector,
        retrainer,
        method="sobol",
        n_trials=16,
        search_spaces={"custom": [HyperparameterSpace("x", "float", 0.0, 1.0)]},
    )
    result = service.manual_tune("router", "custom")
    assert result.decision == "applied"
    assert result.validation is not None
    assert result.validation.current_scores == []
    assert abs(retrainer.current_hyperparameters("router")["x"] - 0.3) < 0.1


def test_optimization_agent_preset_minimising_cost() -> None:
    collector = DataCollector()
    retrainer = ModelRetrainer(collector)
    retrainer.register(
        "optimizer", lambda hp, data: abs(hp["cpu_weight"] - 1.5) + 1.0, "optimization_agent"
    )
    service = AutomaticHyperparameterAdjustment(
        collector, retrainer, method="sobol", n_trials=16, maximize=False
    )
    result = service.manual_tune("optimizer", "optimization_agent")
    assert result.decision == "applied"
    current = retrainer.current_hyperparameters("optimizer")
    assert abs(current["cpu_weight"] - 1.5) < abs(
        presets.defaults("optimization_agent")["cpu_weight"] - 1.5
    )
    assert current["scale_down_cpu_threshold"] < current["scale_up_cpu_threshold"]


def test_stop_called_from_a_training_function_does_not_deadlock() -> None:
    service, sim, clock = make(detector=None, check_interval=60, n_trials=20)

    def stops(hp: dict[str, Any], data: list[Record]) -> float:
        service.stop()
        return sim.train(hp, data)

    sim.retrainer.register(AGENT, stops, "ppo")
    sim.drift(0.94)
    sim.run(50)
    service.start()
    clock.wait_for_sleepers(1)
    clock.advance(60)
    assert events(service) == ["trigger", "aborted"]
    service.stop()
    assert not service.running


def test_rejects_collaborators_without_the_protocol() -> None:
    from hptune import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="DataCollectorProtocol"):
        AutomaticHyperparameterAdjustment(object(), ModelRetrainer())  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="unknown detector"):
        AutomaticHyperparameterAdjustment(DataCollector(), ModelRetrainer(), detector="nope")
    with pytest.raises(InvalidArgumentError, match="unknown method"):
        AutomaticHyperparameterAdjustment(DataCollector(), ModelRetrainer()).manual_tune(
            AGENT, "ppo", method="annealing"
        )


def test_manual_tune_raises_on_argument_errors_and_fails_on_runtime_ones() -> None:
    from hptune import InvalidArgumentError

    service, sim, _clock = make()
    with pytest.raises(InvalidArgumentError, match="no preset"):
        service.manual_tune(AGENT, "my_algorithm")
    with pytest.raises(InvalidArgumentError, match="validation_repeats"):
        service.manual_tune(AGENT, "ppo", validation_repeats=1)

    def no_current(agent_name: str) -> dict[str, Any]:
        raise KeyError(agent_name)

    sim.retrainer.current_hyperparameters = no_current  # type: ignore[method-assign]
    result = service.manual_tune(AGENT, "ppo", n_trials=4)
    assert result.decision == "failed"
    assert "KeyError" in (result.error or "")


def test_the_agents_study_continues_in_sqlite_storage_across_restarts(tmp_path: Path) -> None:
    pytest.importorskip("hptune.storage._sqlite")
    from hptune import load_study

    url = f"sqlite:///{tmp_path / 'studies.db'}"
    audit = tmp_path / "audit.db"
    service, sim, _clock = make(storage=url, audit_log=audit)
    sim.drift(0.94)
    first = service.manual_tune(AGENT, "ppo", n_trials=10)
    assert first.tuning_result is not None
    assert first.tuning_result.n_trials == 10
    service.audit.close()

    again, sim2, _clock2 = make(storage=url, audit_log=audit)
    sim2.drift(0.94)
    second = again.manual_tune(AGENT, "ppo", n_trials=10)
    assert second.tuning_result is not None
    assert second.tuning_result.n_trials == 20  # the stored study, continued
    assert [e.event for e in again.history(AGENT)][:2] == ["trigger", "tuning"]  # from before
    study = load_study(study_name=f"hptune-adjust:{AGENT}:ppo", storage=url)
    assert all(t.state.value == "complete" for t in study.trials)


# ---------------------------------------------------------------------------- edge cases


def test_watch_ends_without_enough_records_and_keeps_the_new_config() -> None:
    service, sim, clock = make(detector=None, post_apply_timeout=2 * HOUR)
    sim.drift(0.94)
    sim.run(100)
    [result] = service.check_now()
    assert result.decision == "applied"
    sim.run(5)
    clock.advance(HOUR)
    service.check_now()
    assert events(service)[-1] == "applied"  # still watching
    clock.advance(HOUR)
    service.check_now()
    last = service.history(AGENT)[-1]
    assert last.event == "kept"
    assert last.details["reason"] == "too few records after applying"
    assert last.details["records_after"] == 5


def test_a_failed_rollback_is_logged() -> None:
    service, sim, _clock = make(detector=None)
    sim.drift(0.94)
    sim.run(100)
    [result] = service.check_now()
    assert result.candidate is not None
    sim.deployed_penalty[result.candidate["gamma"]] = 0.9
    sim.run(50)

    def apply_fails(agent: str, algorithm: str, hp: dict[str, Any]) -> float:
        raise RuntimeError("deploy rejected")

    sim.retrainer.apply = apply_fails  # type: ignore[method-assign]
    service.check_now()
    last = service.history(AGENT)[-1]
    assert last.event == "rollback_failed"
    assert "deploy rejected" in last.details["error"]


def test_a_replaced_collector_is_reread_from_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    audit = tmp_path / "audit.db"
    service, sim, _clock = make(detector=None, n_trials=2, audit_log=audit, cooldown=0)
    sim.retrainer.register(AGENT, lambda hp, data: 0.5, "ppo")
    sim.drift(0.93)
    sim.run(200)
    assert len(service.check_now()) == 1
    service.audit.close()
    # A restart with a new in-memory collector: its ids start at 1 again, below the cursor.
    again, sim2, _clock2 = make(detector=None, n_trials=2, audit_log=audit, cooldown=0)
    sim2.retrainer.register(AGENT, lambda hp, data: 0.5, "ppo")
    sim2.drift(0.93)
    sim2.run(50)
    with caplog.at_level("WARNING", logger="hptune.adjust"):
        [result] = again.check_now()
    assert result.trigger == "success_rate"
    assert any("restarted below" in r.getMessage() for r in caplog.records)


def test_agents_given_by_name_or_mapping_and_a_detector_factory() -> None:
    from hptune import InvalidArgumentError
    from hptune.adjust import Cusum

    service, sim, _clock = make(agents=[AGENT, "ghost"], detector=lambda: Cusum(h=20.0))
    assert service.monitored_agents() == {AGENT: "ppo", "ghost": None}
    sim.run(50)
    assert service.check_now() == []  # the agent without an algorithm is skipped
    mapped, _sim, _clock2 = make(agents={"other": "DQN"})
    assert mapped.monitored_agents() == {"other": "dqn"}
    with pytest.raises(InvalidArgumentError, match="detector"):
        make(detector="cusum", detector_options={"nope": 1})
    with pytest.raises(InvalidArgumentError, match="detector_options"):
        make(detector=lambda: Cusum(), detector_options={"h": 1.0})


# ---------------------------------------------------------------------------- issue 15, item 10


def test_system_exit_from_train_fails_the_adjustment_and_the_thread_lives_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service, sim, clock = make(detector=None, check_interval=600)

    def exits(hp: dict[str, Any], data: list[Record]) -> float:
        raise SystemExit("training script called sys.exit")

    sim.retrainer.register(AGENT, exits, "ppo")
    sim.drift(0.94)
    sim.run(50)
    service.start()
    try:
        with caplog.at_level("ERROR", logger="hptune.adjust"):
            clock.wait_for_sleepers(1)
            clock.advance(600)
        entry = service.history(AGENT)[-1]
        assert entry.event == "failed"
        assert "SystemExit: training script called sys.exit" in entry.details["error"]
        assert any(
            r.levelname == "ERROR" and "SystemExit" in r.getMessage() for r in caplog.records
        )
        assert service.running
        sim.retrainer.register(AGENT, sim.train, "ppo")
        clock.advance(HOUR)
        sim.run(50)
        clock.advance(600)
        assert events(service)[-1] == "applied"
    finally:
        service.stop()


def test_keyboard_interrupt_from_train_is_audited_then_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service, sim, _clock = make(detector=None)

    def interrupted(hp: dict[str, Any], data: list[Record]) -> float:
        raise KeyboardInterrupt

    sim.retrainer.register(AGENT, interrupted, "ppo")
    with caplog.at_level("ERROR", logger="hptune.adjust"), pytest.raises(KeyboardInterrupt):
        service.manual_tune(AGENT, "ppo", n_trials=4)
    assert events(service)[-1] == "failed"
    assert service.history(AGENT)[-1].details["error"].startswith("KeyboardInterrupt")
    assert any("KeyboardInterrupt" in r.getMessage() for r in caplog.records)
    assert sim.retrainer.current_hyperparameters(AGENT) == presets.defaults("ppo")
