"""The adjustment pipeline: tune -> validate -> apply -> watch -> keep or roll back.

Every step writes its audit entry; the decision that closes an adjustment and the outcome that
closes a watch are typed (:class:`Decision`, :class:`WatchOutcome`), their values being the
audit events.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

from hptune._errors import InvalidArgumentError, TrialPruned
from hptune.adjust._audit import AuditLog
from hptune.adjust._clock import Clock
from hptune.adjust._collector import DataCollectorProtocol
from hptune.adjust._decisions import (
    AdjustmentResult,
    AdjustmentValidation,
    AgentState,
    Decision,
    Trigger,
    Watch,
    WatchOutcome,
)
from hptune.adjust._monitor import Monitor, success_stats
from hptune.adjust._policy import Policies, SpaceOverrides
from hptune.adjust._retrainer import ModelRetrainerProtocol
from hptune.adjust._stats import proportion_worse_p
from hptune.agents import RL_ALGORITHMS, OptimizationAgentHyperparameterTuner, RLHyperparameterTuner
from hptune.space import SearchSpace
from hptune.study import Study
from hptune.trial import TrialRecord
from hptune.tuners import MethodTuner, TuningResult

__all__ = ["Aborted", "AdjustmentPipeline"]

logger = logging.getLogger("hptune.adjust")


class Aborted(Exception):
    """Raised inside a tuning run when the service is stopping; never escapes the service."""


class AdjustmentPipeline:
    """Runs one adjustment for an agent, and closes its post-apply watch later."""

    def __init__(
        self,
        data_collector: DataCollectorProtocol,
        model_retrainer: ModelRetrainerProtocol,
        audit: AuditLog,
        clock: Clock,
        policies: Policies,
        monitor: Monitor,
    ) -> None:
        self.data_collector = data_collector
        self.model_retrainer = model_retrainer
        self.audit = audit
        self.clock = clock
        self.policies = policies
        self.monitor = monitor

    def save(self, agent: str, state: AgentState) -> None:
        """Persist an agent's state in the audit log's database."""
        self.audit.save_state(agent, state.as_stored())

    # ----------------------------------------------------------------- watch: keep or roll back
    def check_watch(self, agent: str, algorithm: str, state: AgentState, now: float) -> None:
        """Close the open watch when its records are in (or it timed out): keep or roll back."""
        watch = state.watch
        assert watch is not None
        rollback = self.policies.rollback
        trigger = self.policies.trigger
        wanted = rollback.records(trigger)
        records = self.data_collector.recent(agent, wanted, after_id=int(watch.after_id))
        rate, ok, n = success_stats(records)
        adj = int(watch.adjustment_id)
        figures: dict[str, Any] = {
            "success_rate_before": watch.before_rate,
            "records_before": watch.before_n,
            "success_rate_after": rate,
            "records_after": n,
        }
        if n < wanted:
            timeout = rollback.timeout(trigger)
            if timeout is not None and now - float(watch.applied_at) >= timeout:
                details = {**figures, "reason": "too few records after applying"}
                self.audit.write(agent, WatchOutcome.KEPT.value, details, now, adj)
                state.watch = None
            return
        latest = records[-1].id
        before_rate, before_n = watch.before_rate, int(watch.before_n)
        worse = False
        p = 1.0
        if before_rate is not None and rate is not None:
            p = proportion_worse_p(ok, n, round(before_rate * before_n), before_n)
            worse = (
                rate < before_rate - rollback.rollback_margin and p < rollback.rollback_significance
            )
        figures["p_value"] = p
        state.watch = None
        state.consumed_id = max(state.consumed_id, latest)
        if not worse:
            self.audit.write(agent, WatchOutcome.KEPT.value, figures, now, adj)
            return
        previous = dict(watch.previous)
        try:
            self.model_retrainer.apply(agent, algorithm, previous)
        except Exception as exc:
            logger.exception("agent %r: rollback failed", agent)
            self.audit.write(
                agent,
                WatchOutcome.ROLLBACK_FAILED.value,
                {**figures, "error": repr(exc), "hyperparameters": previous},
                now,
                adj,
            )
            return
        logger.warning("agent %r: success rate fell after applying; rolled back", agent)
        self.audit.write(
            agent,
            WatchOutcome.ROLLBACK.value,
            {**figures, "hyperparameters": previous, "rolled_back": watch.applied},
            now,
            adj,
        )
        self.monitor.reset_detector(agent, state, latest)

    # ----------------------------------------------------------------- one adjustment
    def run(
        self,
        agent: str,
        algorithm: str,
        state: AgentState,
        trigger: Trigger,
        abort: threading.Event,
        *,
        method: str,
        n_trials: int,
        options: dict[str, Any],
    ) -> AdjustmentResult:
        """Tune, validate, apply on a validated improvement and open a watch; the result."""
        clock = self.clock
        evidence = trigger.evidence
        adj = self.audit.new_adjustment(agent, clock.time())
        self.audit.write(
            agent,
            "trigger",
            {
                "trigger": trigger.kind.value,
                "evidence": evidence,
                "algorithm": algorithm,
                "method": method,
                "n_trials": n_trials,
            },
            clock.time(),
            adj,
        )
        result = AdjustmentResult(
            adj, agent, algorithm, trigger.kind, evidence, Decision.FAILED, {}
        )
        repeats = int(
            options.pop("validation_repeats", self.policies.validation.validation_repeats)
        )
        latest = int(evidence.get("latest_record_id", 0))
        try:
            previous = dict(self.model_retrainer.current_hyperparameters(agent))
            result.previous_hyperparameters = previous
            tuning = self.tune(agent, algorithm, previous, abort, method, n_trials, adj, options)
            result.tuning_result = tuning
            self.audit.write(agent, "tuning", tuning_summary(tuning), clock.time(), adj)
            candidate = {**previous, **tuning.best_params}
            result.candidate = candidate
            if candidate == previous:
                return self.decide(
                    result, state, latest, Decision.REJECTED, "the best found is current"
                )
            validation = self.validate(agent, algorithm, candidate, previous, repeats, abort)
            result.validation = validation
            self.audit.write(agent, "validation", validation.as_dict(), clock.time(), adj)
            if not validation.better:
                return self.decide(
                    result, state, latest, Decision.REJECTED, "no validated improvement"
                )
            if abort.is_set():
                raise Aborted
            before = self.data_collector.recent(agent, self.policies.trigger.window)
            self.model_retrainer.apply(agent, algorithm, candidate)
        except Aborted:
            # Nothing was applied and no decision was made: the evidence stays unconsumed, so
            # the trigger can fire again once the service runs.
            result.decision, result.reason = Decision.ABORTED, "the service stopped"
            self.audit.write(
                agent, Decision.ABORTED.value, {"reason": result.reason}, clock.time(), adj
            )
            logger.info("agent %r: adjustment %d aborted by stop()", agent, adj)
            return result
        except Exception as exc:
            logger.exception(
                "agent %r: adjustment %d failed; hyperparameters unchanged", agent, adj
            )
            result.error = f"{type(exc).__name__}: {exc}"
            return self.decide(result, state, latest, Decision.FAILED, result.error)
        except (SystemExit, KeyboardInterrupt) as exc:
            # Raised by the user's train function (sys.exit() in a training script, say). The
            # adjustment fails with an audit entry either way; SystemExit must not end the
            # service thread, so it stops here, while a KeyboardInterrupt goes on to the caller.
            logger.error(
                "agent %r: adjustment %d failed: the training raised %s; hyperparameters unchanged",
                agent,
                adj,
                type(exc).__name__,
                exc_info=True,
            )
            result.error = f"{type(exc).__name__}: {exc}"
            decided = self.decide(result, state, latest, Decision.FAILED, result.error)
            if isinstance(exc, KeyboardInterrupt):
                raise
            return decided
        rate, _ok, n = success_stats(before)
        after_id = self.monitor.latest_id(agent)
        state.watch = Watch(
            adjustment_id=adj,
            previous=previous,
            applied=candidate,
            applied_at=clock.time(),
            after_id=after_id,
            before_rate=rate,
            before_n=n,
        )
        self.monitor.reset_detector(agent, state, after_id)
        return self.decide(result, state, latest, Decision.APPLIED, "validated improvement")

    def decide(
        self,
        result: AdjustmentResult,
        state: AgentState,
        latest: int,
        decision: Decision,
        reason: str,
    ) -> AdjustmentResult:
        """Record the decision that closes an adjustment and consume its evidence."""
        now = self.clock.time()
        result.decision, result.reason = decision, reason
        details: dict[str, Any] = {"reason": reason}
        if decision is Decision.APPLIED:
            details["hyperparameters"] = result.candidate
            details["previous"] = result.previous_hyperparameters
        elif result.candidate is not None:
            details["candidate"] = result.candidate
        if result.error is not None:
            details["error"] = result.error
        self.audit.write(result.agent_name, decision.value, details, now, result.adjustment_id)
        state.consumed_id = max(state.consumed_id, latest)
        state.pending_alarm = None
        state.last_adjustment = now
        state.period_start = now
        self.save(result.agent_name, state)
        return result

    # ----------------------------------------------------------------- tune
    def overrides(
        self, agent: str, algorithm: str, given: SpaceOverrides | None
    ) -> SpaceOverrides | None:
        """The space overrides of this run: given ones, else the agent's, else the algorithm's."""
        if given is not None:
            return given
        spaces = self.policies.tuning.search_spaces or {}
        return spaces.get(agent, spaces.get(algorithm))

    @staticmethod
    def space(agent: str, algorithm: str, overrides: SpaceOverrides | None) -> SearchSpace:
        """The space tuned: the algorithm's preset with overrides, or the overrides alone."""
        if algorithm in RL_ALGORITHMS:
            return RLHyperparameterTuner(agent).search_space(algorithm, overrides)
        if algorithm == OptimizationAgentHyperparameterTuner.PRESET:
            return OptimizationAgentHyperparameterTuner(agent).search_space(overrides)
        if overrides is None:
            raise InvalidArgumentError(
                f"algorithm {algorithm!r} has no preset; give its space in search_spaces="
                f"{{{agent!r}: ...}} or manual_tune(..., search_space=...)"
            )
        return SearchSpace(overrides)

    def warm_start(
        self, agent: str, space: SearchSpace, previous: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Trial 0 is the current hyperparameters, trial 1 the previous run's best."""
        configs: list[dict[str, Any]] = []
        candidates = [previous]
        rolled_back = {
            e.adjustment_id for e in self.audit.entries(agent, event=WatchOutcome.ROLLBACK.value)
        }
        for entry in reversed(self.audit.entries(agent, event="tuning")):
            # A best that was deployed and then rolled back did worse in production: do not
            # offer it again.
            if entry.adjustment_id not in rolled_back:
                candidates.append(dict(entry.details.get("best_params") or {}))
                break
        for cfg in candidates:
            sub = {n: cfg[n] for n in space.names if n in cfg}
            if len(sub) != len(space.names) or sub in configs:
                continue
            try:
                space.params_to_row(sub)
            except InvalidArgumentError:
                continue  # outside the tuned ranges; still the validation baseline
            configs.append(sub)
        return configs

    def tune(
        self,
        agent: str,
        algorithm: str,
        previous: dict[str, Any],
        abort: threading.Event,
        method: str,
        n_trials: int,
        adjustment_id: int,
        options: dict[str, Any],
    ) -> TuningResult:
        """One tuning run of ``n_trials`` trials, stopped between trials by ``abort``."""
        policy = self.policies.tuning
        overrides = self.overrides(agent, algorithm, options.pop("search_space", None))
        space = self.space(agent, algorithm, overrides)
        retrainer = self.model_retrainer

        def objective(params: dict[str, Any]) -> float:
            if abort.is_set():
                raise TrialPruned("the adjustment service is stopping")
            return retrainer.evaluate(agent, algorithm, {**previous, **params})

        def stop_between_trials(_study: Study, _record: TrialRecord) -> None:
            if abort.is_set():
                raise Aborted

        kwargs: dict[str, Any] = {**(policy.tuner_options or {}), **options}
        kwargs["callbacks"] = [*kwargs.get("callbacks", ()), stop_between_trials]
        kwargs.setdefault("initial_configs", self.warm_start(agent, space, previous))
        kwargs.setdefault("method_options", policy.method_options or None)
        if policy.seed is not None:
            # A stored study continues with the seed it was created with (another would be
            # ignored with a warning); its later trials differ from earlier ones by number.
            stored = policy.storage is not None
            seed = policy.seed if stored else (policy.seed + adjustment_id) % 2**63
            kwargs.setdefault("seed", seed)
        if policy.storage is not None:
            kwargs.setdefault("storage", policy.storage)
            kwargs.setdefault("study_name", f"hptune-adjust:{agent}:{algorithm}")
            kwargs.setdefault("load_if_exists", True)
        if algorithm in RL_ALGORITHMS:
            return RLHyperparameterTuner(agent).tune_rl_model(
                algorithm,
                objective,
                method,
                n_trials,
                policy.maximize,
                search_space=overrides,
                **kwargs,
            )
        if algorithm == OptimizationAgentHyperparameterTuner.PRESET:
            return OptimizationAgentHyperparameterTuner(agent).tune_optimization_agent(
                objective, method, n_trials, policy.maximize, search_space=overrides, **kwargs
            )
        method_options = kwargs.pop("method_options", None)
        tuning = MethodTuner(
            space,
            objective,
            policy.maximize,
            n_trials,
            method=method,
            method_options=method_options,
            **kwargs,
        ).tune()
        tuning.metadata.update(agent_name=agent, algorithm=algorithm, method=method)
        return tuning

    # ----------------------------------------------------------------- validate
    def validate(
        self,
        agent: str,
        algorithm: str,
        candidate: dict[str, Any],
        current: dict[str, Any],
        repeats: int,
        abort: threading.Event,
    ) -> AdjustmentValidation:
        """Fresh, interleaved evaluations of both sides and the guard's test of the difference."""
        policy = self.policies.validation
        scores: dict[str, list[float]] = {"candidate": [], "current": []}
        failures: list[str] = []
        sides = (
            [("candidate", candidate), ("current", current)]
            if current
            else [("candidate", candidate)]
        )
        for _ in range(repeats):
            # Interleaved, so a drift during validation hits both sides alike.
            for side, hp in sides:
                if abort.is_set():
                    raise Aborted
                try:
                    value = float(self.model_retrainer.evaluate(agent, algorithm, dict(hp)))
                    if not math.isfinite(value):
                        raise ValueError(f"score {value!r} is not finite")
                except Exception as exc:
                    failures.append(f"{side}: {type(exc).__name__}: {exc}")
                    logger.warning("agent %r: validation of the %s failed: %s", agent, side, exc)
                    continue
                scores[side].append(value)
        cand, cur = scores["candidate"], scores["current"]
        if not current and len(cand) >= 2:
            # Nothing is deployed yet (no current hyperparameters): there is no baseline to
            # beat, and a candidate that trains reliably is an improvement on nothing.
            mean = math.fsum(cand) / len(cand)
            return AdjustmentValidation(
                cand, [], mean, math.nan, math.nan, math.nan, failures, len(failures) == 0
            )
        if len(cand) < 2 or len(cur) < 2:
            nan = math.nan
            return AdjustmentValidation(cand, cur, nan, nan, nan, 1.0, failures, False)
        improvement, p_value, better = policy.judge(cand, cur, self.policies.tuning.maximize)
        return AdjustmentValidation(
            cand,
            cur,
            math.fsum(cand) / len(cand),
            math.fsum(cur) / len(cur),
            improvement,
            p_value,
            failures,
            better,
        )


def tuning_summary(tuning: TuningResult) -> dict[str, Any]:
    """What the audit log's ``tuning`` entry records about a tuning run."""
    first = int(tuning.metadata.get("first_new_trial", 0))
    new = [t for t in tuning.trials if t.number >= first]
    return {
        "method": tuning.method,
        "best_score": tuning.best_score,
        "best_params": tuning.best_params,
        "trials": len(new),
        "failed_trials": sum(1 for t in new if t.state.value == "failed"),
        "study_trials": len(tuning.trials),
        "interrupted": tuning.interrupted,
    }
