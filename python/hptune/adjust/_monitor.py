"""The monitor: reads each agent's new records, feeds the change detector, decides a trigger.

It never tunes or applies anything; the service hands a trigger it returns to the pipeline.
"""

from __future__ import annotations

from hptune.adjust._collector import DataCollectorProtocol, Record
from hptune.adjust._decisions import AgentState, Trigger, TriggerKind
from hptune.adjust._detectors import ChangeDetector
from hptune.adjust._policy import Policies

__all__ = ["Monitor", "success_stats"]

# The most records one pass reads per agent for the detector; a longer backlog (a service that
# was down for a long time) is judged on its latest part only.
FETCH_LIMIT = 10_000


def success_stats(records: list[Record]) -> tuple[float | None, int, int]:
    """Success rate (None without records), successes, records."""
    n = len(records)
    ok = sum(1 for r in records if r.success)
    return (ok / n if n else None), ok, n


class Monitor:
    """Decides, per agent and pass, whether a trigger fires (see :class:`TriggerPolicy`)."""

    def __init__(self, data_collector: DataCollectorProtocol, policies: Policies) -> None:
        self.data_collector = data_collector
        self.policies = policies
        self._detectors: dict[str, ChangeDetector] = {}

    def latest_id(self, agent: str) -> int:
        """The id of the agent's newest record (0 without records)."""
        latest = self.data_collector.recent(agent, 1)
        return latest[-1].id if latest else 0

    def detector(self, agent: str) -> ChangeDetector | None:
        """The agent's change detector (None when the policy has none)."""
        factory = self.policies.trigger.detector_factory
        if factory is None:
            return None
        det = self._detectors.get(agent)
        if det is None:
            det = self._detectors[agent] = factory()
        return det

    def reset_detector(self, agent: str, state: AgentState, latest: int) -> None:
        """Start the detector over from record ``latest`` and drop a latched alarm."""
        det = self._detectors.get(agent)
        if det is not None:
            det.reset()
        state.detector_id = max(state.detector_id, latest)
        state.pending_alarm = None

    def feed(self, agent: str, state: AgentState) -> None:
        """Give the detector the records it has not seen; latch its first alarm."""
        det = self.detector(agent)
        if det is None:
            return
        records = self.data_collector.recent(agent, FETCH_LIMIT, after_id=state.detector_id)
        for rec in records:
            state.detector_id = rec.id
            if rec.reward is None:
                continue
            if det.update(rec.reward) and state.pending_alarm is None:
                # Latched until it can be acted on (a cooldown may be running); the detector
                # starts over so the next alarm is about new evidence.
                state.pending_alarm = {**det.state(), "record_id": rec.id}
                det.reset()

    def cooling_down(self, state: AgentState, now: float) -> bool:
        """Whether the last adjustment is more recent than the cooldown."""
        last = state.last_adjustment
        return last is not None and now - last < self.policies.trigger.cooldown

    def trigger(self, agent: str, state: AgentState, now: float) -> Trigger | None:
        """The first trigger that fires, in order: success rate, degradation, periodic."""
        policy = self.policies.trigger
        if policy.success_threshold is not None:
            recs = self.data_collector.recent(agent, policy.window, after_id=state.consumed_id)
            rate, ok, n = success_stats(recs)
            if rate is not None and n >= policy.min_records and rate < policy.success_threshold:
                evidence = {
                    "success_rate": rate,
                    "successes": ok,
                    "records": n,
                    "threshold": policy.success_threshold,
                    "first_record_id": recs[0].id,
                    "last_record_id": recs[-1].id,
                }
                return Trigger(TriggerKind.SUCCESS_RATE, evidence)
        if state.pending_alarm is not None:
            return Trigger(TriggerKind.DEGRADATION, dict(state.pending_alarm))
        if policy.adjustment_interval is not None and state.period_start is not None:
            elapsed = now - state.period_start
            if elapsed >= policy.adjustment_interval:
                evidence = {"elapsed": elapsed, "interval": policy.adjustment_interval}
                return Trigger(TriggerKind.PERIODIC, evidence)
        return None
