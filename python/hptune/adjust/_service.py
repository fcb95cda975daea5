"""The automatic hyperparameter adjustment service.

One monitoring pass, per agent: close an open post-apply watch if it has enough records (keep or
roll back); otherwise feed the new rewards to the change detector and, outside the cooldown,
check the triggers in order (success rate, degradation, periodic). A trigger starts an
adjustment: tune (warm-started), validate the best candidate against the current
hyperparameters on fresh evaluations, apply only on a clear improvement, then watch.

Evidence is consumed: each agent's state remembers the last record id judged, so a trigger
never fires twice on the same records, and that state lives in the audit log's database, so it
holds across restarts too.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import TracebackType
from typing import Any

from hptune._checks import check_flag
from hptune._errors import InvalidArgumentError, TrialPruned
from hptune.adjust._audit import AuditEntry, AuditLog
from hptune.adjust._clock import Clock, SystemClock
from hptune.adjust._collector import DataCollectorProtocol, Record
from hptune.adjust._detectors import ChangeDetector, Cusum, PageHinkley
from hptune.adjust._retrainer import ModelRetrainerProtocol, _canonical_algorithm
from hptune.adjust._stats import proportion_worse_p, welch_greater
from hptune.agents import RL_ALGORITHMS, OptimizationAgentHyperparameterTuner, RLHyperparameterTuner
from hptune.samplers import method_name
from hptune.space import HyperparameterSpace, SearchSpace
from hptune.storage import Storage
from hptune.study import Study
from hptune.trial import HyperparameterConfig, TrialRecord
from hptune.tuners import MethodTuner, TuningResult

__all__ = ["AdjustmentResult", "AdjustmentValidation", "AutomaticHyperparameterAdjustment"]

logger = logging.getLogger("hptune.adjust")

SpaceOverrides = Mapping[str, HyperparameterSpace] | Iterable[HyperparameterSpace]

# The most records one pass reads per agent for the detector; a longer backlog (a service that
# was down for a long time) is judged on its latest part only.
_FETCH_LIMIT = 10_000

_DETECTORS: dict[str, Callable[..., ChangeDetector]] = {
    "page_hinkley": PageHinkley,
    "cusum": Cusum,
}


class _Aborted(Exception):
    """Raised inside a tuning run when the service is stopping; never escapes the service."""


@dataclass(frozen=True)
class AdjustmentValidation:
    """Fresh evaluations of the candidate and of the current hyperparameters, and the test.

    ``improvement`` is ``candidate_mean - current_mean`` in the better direction (positive is
    better even when minimising); ``p_value`` is Welch's one-sided test of "candidate better".
    """

    candidate_scores: list[float]
    current_scores: list[float]
    candidate_mean: float
    current_mean: float
    improvement: float
    p_value: float
    failures: list[str]
    better: bool

    def as_dict(self) -> dict[str, Any]:
        """The figures as a plain dict (what the audit log stores)."""
        return asdict(self)


@dataclass
class AdjustmentResult:
    """What one adjustment did: trigger and evidence, tuning result, validation, decision.

    ``decision`` is ``"applied"``, ``"rejected"`` (no validated improvement), ``"failed"``
    (tuning or applying raised; the current hyperparameters stay) or ``"aborted"`` (the
    service stopped first; nothing was applied).
    """

    adjustment_id: int
    agent_name: str
    algorithm: str
    trigger: str
    evidence: dict[str, Any]
    decision: str
    previous_hyperparameters: dict[str, Any]
    candidate: dict[str, Any] | None = None
    tuning_result: TuningResult | None = field(default=None, repr=False)
    validation: AdjustmentValidation | None = None
    reason: str = ""
    error: str | None = None

    @property
    def applied(self) -> bool:
        """Whether the candidate was deployed."""
        return self.decision == "applied"

    @property
    def best_config(self) -> HyperparameterConfig | None:
        """The tuning run's best config (as a tuner's result has it), if tuning ran."""
        return None if self.tuning_result is None else self.tuning_result.best_config

    @property
    def best_score(self) -> float | None:
        """The tuning run's best score, if tuning ran."""
        return None if self.tuning_result is None else self.tuning_result.best_score

    @property
    def best_params(self) -> dict[str, Any] | None:
        """The tuning run's best params, if tuning ran."""
        return None if self.tuning_result is None else self.tuning_result.best_params


@dataclass
class _AgentState:
    consumed_id: int = 0  # records up to this id were evidence for a decision already
    detector_id: int = 0  # records up to this id were fed to the detector
    last_adjustment: float | None = None
    period_start: float | None = None
    pending_alarm: dict[str, Any] | None = None
    watch: dict[str, Any] | None = None


def _check_number(name: str, value: float | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise InvalidArgumentError(f"{name} must be a number >= 0, got {value!r}")


def _check_count(name: str, value: int, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidArgumentError(f"{name} must be an int >= {low}, got {value!r}")


def _success_stats(records: list[Record]) -> tuple[float | None, int, int]:
    n = len(records)
    ok = sum(1 for r in records if r.success)
    return (ok / n if n else None), ok, n


class AutomaticHyperparameterAdjustment:
    """Keeps deployed agents' hyperparameters good: monitor, re-tune, validate, apply, roll back.

    Triggers (each can be switched off with None): the success rate over the latest ``window``
    new records is below ``success_threshold`` with at least ``min_records`` of them; the change
    ``detector`` (``"page_hinkley"``, ``"cusum"`` or a factory of
    :class:`~hptune.adjust.ChangeDetector`) alarms on the reward stream; ``adjustment_interval``
    seconds have passed since the last adjustment. After an automatic or manual adjustment no
    trigger fires for ``cooldown`` seconds, and none while a post-apply watch is open.

    An adjustment tunes ``n_trials`` trials with ``method`` over the algorithm's preset (or
    ``search_spaces[agent or algorithm]``), trial 0 being the current hyperparameters and trial 1
    the previous run's best. The best candidate and the current hyperparameters are then each
    evaluated ``validation_repeats`` more times, interleaved; the candidate is applied only when
    its mean is better by more than ``min_improvement`` with Welch's one-sided p below
    ``significance``. After applying, the next ``post_apply_records`` records (default
    ``min_records``) are compared with the ``window`` before: a success rate lower by more than
    ``rollback_margin`` with a one-sided two-proportion p below ``rollback_significance`` rolls
    back to the previous hyperparameters; a watch without enough records after
    ``post_apply_timeout`` seconds (default ``adjustment_interval``) keeps the new ones.
    An adjustment aborted by ``stop()`` leaves its evidence unconsumed, so it can fire again.

    Monitored agents: ``agents`` (``name -> algorithm``, or names whose algorithm the retrainer
    knows through ``algorithm_of``), else every agent of ``model_retrainer.agents()``.

    Scores from ``model_retrainer.evaluate`` are larger-is-better unless ``maximize=False``.
    ``storage`` (a URL such as ``"sqlite:///studies.db"`` or a Storage) keeps one study per agent
    and algorithm, which each adjustment continues (``load_if_exists``); ``audit_log`` (a path)
    keeps decisions and per-agent state across restarts (in memory when None).

    ``stop()`` is prompt: a tuning run stops between trials and validation between evaluations,
    and nothing is applied; it waits for one training call in flight (it cannot interrupt user
    code) and for an ``apply`` already started, so no change is left half-done.

    >>> from hptune import AutomaticHyperparameterAdjustment, DataCollector, ModelRetrainer
    >>> collector = DataCollector()
    >>> retrainer = ModelRetrainer(collector)
    >>> retrainer.register("self-healing", lambda hp, data: -abs(hp["gamma"] - 0.95), "ppo")
    >>> with AutomaticHyperparameterAdjustment(collector, retrainer, method="sobol",
    ...                                        n_trials=16, seed=0) as service:
    ...     result = service.manual_tune("self-healing", "ppo", method="sobol", n_trials=16)
    >>> result.decision in ("applied", "rejected")
    True
    """

    def __init__(
        self,
        data_collector: DataCollectorProtocol,
        model_retrainer: ModelRetrainerProtocol,
        adjustment_interval: float | None = 86400.0,
        *,
        check_interval: float = 60.0,
        success_threshold: float | None = 0.8,
        window: int = 100,
        min_records: int = 30,
        cooldown: float = 3600.0,
        detector: str | Callable[[], ChangeDetector] | None = "page_hinkley",
        detector_options: Mapping[str, Any] | None = None,
        audit_log: str | Path | AuditLog | None = None,
        clock: Clock | None = None,
        n_trials: int = 100,
        method: str = "bayesian",
        method_options: Mapping[str, Any] | None = None,
        validation_repeats: int = 5,
        min_improvement: float = 0.0,
        significance: float = 0.05,
        post_apply_records: int | None = None,
        post_apply_timeout: float | None = None,
        rollback_margin: float = 0.0,
        rollback_significance: float = 0.1,
        agents: Mapping[str, str] | Iterable[str] | None = None,
        search_spaces: Mapping[str, SpaceOverrides] | None = None,
        maximize: bool = True,
        storage: Storage | str | None = None,
        seed: int | None = None,
        tuner_options: Mapping[str, Any] | None = None,
    ) -> None:
        for proto, obj, label in (
            (DataCollectorProtocol, data_collector, "data_collector"),
            (ModelRetrainerProtocol, model_retrainer, "model_retrainer"),
        ):
            if not isinstance(obj, proto):
                raise InvalidArgumentError(
                    f"{label} must implement {proto.__name__}, got {type(obj).__name__}"
                )
        _check_number("adjustment_interval", adjustment_interval, allow_none=True)
        _check_number("cooldown", cooldown)
        _check_number("min_improvement", min_improvement)
        _check_number("rollback_margin", rollback_margin)
        _check_number("post_apply_timeout", post_apply_timeout, allow_none=True)
        if not (isinstance(check_interval, int | float) and check_interval > 0):
            raise InvalidArgumentError(f"check_interval must be positive, got {check_interval!r}")
        if success_threshold is not None and not 0.0 <= success_threshold <= 1.0:
            raise InvalidArgumentError(
                f"success_threshold must be in [0, 1] or None, got {success_threshold!r}"
            )
        for name, p in (
            ("significance", significance),
            ("rollback_significance", rollback_significance),
        ):
            if not 0.0 < p <= 1.0:
                raise InvalidArgumentError(f"{name} must be in (0, 1], got {p!r}")
        _check_count("window", window)
        _check_count("min_records", min_records)
        _check_count("n_trials", n_trials)
        _check_count("validation_repeats", validation_repeats, 2)
        if post_apply_records is not None:
            _check_count("post_apply_records", post_apply_records)
        self.data_collector = data_collector
        self.model_retrainer = model_retrainer
        self.adjustment_interval = adjustment_interval
        self.check_interval = float(check_interval)
        self.success_threshold = success_threshold
        self.window = window
        self.min_records = min_records
        self.cooldown = float(cooldown)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.n_trials = n_trials
        self.method = method
        self.method_options = dict(method_options or {})
        self.validation_repeats = validation_repeats
        self.min_improvement = float(min_improvement)
        self.significance = float(significance)
        self.post_apply_records = post_apply_records if post_apply_records else min_records
        self.post_apply_timeout = (
            post_apply_timeout if post_apply_timeout is not None else adjustment_interval
        )
        self.rollback_margin = float(rollback_margin)
        self.rollback_significance = float(rollback_significance)
        self.search_spaces = dict(search_spaces or {})
        self.maximize = check_flag("maximize", maximize)
        self.storage = storage
        self.seed = seed
        self.tuner_options = dict(tuner_options or {})
        self._agents: dict[str, str | None] | None
        if agents is None:
            self._agents = None
        elif isinstance(agents, Mapping):
            self._agents = {str(k): _canonical_algorithm(v) for k, v in agents.items()}
        else:
            self._agents = {str(a): None for a in agents}
        self._detector_factory = self._make_detector_factory(detector, detector_options)
        self.audit = audit_log if isinstance(audit_log, AuditLog) else AuditLog(audit_log)
        self._states: dict[str, _AgentState] = {}
        self._detectors: dict[str, ChangeDetector] = {}
        self._warned: set[str] = set()
        self._work_lock = threading.RLock()  # one adjustment or pass at a time
        self._life_lock = threading.Lock()
        self._stop = threading.Event()
        self._manual_aborts: set[threading.Event] = set()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _make_detector_factory(
        detector: str | Callable[[], ChangeDetector] | None,
        options: Mapping[str, Any] | None,
    ) -> Callable[[], ChangeDetector] | None:
        if detector is None:
            return None
        opts = dict(options or {})
        if isinstance(detector, str):
            cls = _DETECTORS.get(detector.lower().replace("-", "_"))
            if cls is None:
                raise InvalidArgumentError(
                    f"unknown detector {detector!r}; allowed: {', '.join(map(repr, _DETECTORS))}, "
                    "a factory, or None"
                )
            try:
                cls(**opts)  # fail now on bad options, not in the service thread
            except TypeError as exc:
                raise InvalidArgumentError(f"detector {detector!r}: {exc}") from None
            return lambda: cls(**opts)
        if not callable(detector):
            raise InvalidArgumentError(
                f"detector must be a name, a factory or None, got {detector!r}"
            )
        if opts:
            raise InvalidArgumentError("detector_options apply to a detector given by name")
        return detector

    # ----------------------------------------------------------------- life cycle
    def start(self) -> None:
        """Start monitoring in a daemon thread (a no-op when already running)."""
        with self._life_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="hptune-adjust", daemon=True
            )
            self._thread.start()
            logger.info("adjustment service started (check every %.0f s)", self.check_interval)

    def stop(self, timeout: float | None = None) -> None:
        """Stop monitoring and abort any tuning run (nothing half-applied); a no-op when stopped.

        Waits up to ``timeout`` seconds (None: until the thread ends).
        """
        with self._life_lock:
            thread = self._thread
            self._stop.set()
            for event in list(self._manual_aborts):
                event.set()
            if thread is None:
                return
            if thread is threading.current_thread():
                # Called from a training function on the service thread: the flag is set and
                # the thread ends after the current step; it cannot wait for itself.
                return
            thread.join(timeout)
            if thread.is_alive():
                logger.warning("adjustment thread still finishing a training call after stop()")
            else:
                self._thread = None
                logger.info("adjustment service stopped")

    @property
    def running(self) -> bool:
        """Whether the monitoring thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> AutomaticHyperparameterAdjustment:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if self.clock.wait(stop, self.check_interval):
                break
            try:
                self._pass(stop)
            except Exception:
                # The thread outlives any error: a bad pass is logged and the next one runs.
                logger.exception("monitoring pass failed")

    # ----------------------------------------------------------------- public calls
    def check_now(self) -> list[AdjustmentResult]:
        """Run one monitoring pass now, in this thread; the adjustments it made."""
        event = threading.Event()
        self._manual_aborts.add(event)
        try:
            return self._pass(event)
        finally:
            self._manual_aborts.discard(event)

    def manual_tune(
        self,
        agent_name: str,
        algorithm: str,
        method: str | None = None,
        n_trials: int | None = None,
        **kwargs: Any,
    ) -> AdjustmentResult:
        """Run the adjustment pipeline now (tune, validate, apply if better, watch).

        ``method`` and ``n_trials`` default to the service's. Keyword arguments reach the tuner
        (``seed``, ``timeout``, ``n_jobs``, ``search_space``, ``method_options``, ...);
        ``validation_repeats`` overrides the service's for this run.
        """
        if not isinstance(agent_name, str) or not agent_name:
            raise InvalidArgumentError(f"agent_name must be a non-empty string, got {agent_name!r}")
        key = _canonical_algorithm(algorithm)
        assert key is not None
        m = method_name(method if method is not None else self.method)
        trials = n_trials if n_trials is not None else self.n_trials
        _check_count("n_trials", trials)
        _check_count("validation_repeats", kwargs.get("validation_repeats", 2), 2)
        # Argument errors (an algorithm without a preset and no space, say) are the caller's
        # to see, not a "failed" adjustment.
        self._space(agent_name, key, self._overrides(agent_name, key, kwargs.get("search_space")))
        event = threading.Event()
        self._manual_aborts.add(event)
        try:
            with self._work_lock:
                state = self._state(agent_name)
                latest = self._latest_id(agent_name)
                return self._adjust(
                    agent_name,
                    key,
                    state,
                    "manual",
                    {"requested": True, "latest_record_id": latest},
                    event,
                    method=m,
                    n_trials=trials,
                    options=dict(kwargs),
                )
        finally:
            self._manual_aborts.discard(event)

    def history(self, agent_name: str | None = None) -> list[AuditEntry]:
        """Audit entries of one agent (or all), oldest first.

        Events, grouped by ``adjustment_id``: ``trigger`` (which, and its evidence), ``tuning``
        (best score and params, trials, failed trials), ``validation`` (both sides' fresh
        scores, improvement, p-value), then one of ``applied``, ``rejected``, ``failed`` or
        ``aborted``; after ``applied``, ``kept`` or ``rollback`` (or ``rollback_failed``) with
        the success rates before and after.
        """
        return self.audit.entries(agent_name)

    # ----------------------------------------------------------------- monitoring
    def monitored_agents(self) -> dict[str, str | None]:
        """``name -> algorithm`` of the agents a pass looks at (None: algorithm unknown)."""
        if self._agents is not None:
            out = dict(self._agents)
        else:
            listing = getattr(self.model_retrainer, "agents", None)
            out = dict(listing()) if callable(listing) else {}
        lookup = getattr(self.model_retrainer, "algorithm_of", None)
        for name, algo in out.items():
            if algo is None and callable(lookup):
                out[name] = lookup(name)
        return out

    def _pass(self, abort: threading.Event) -> list[AdjustmentResult]:
        results = []
        for agent, algorithm in self.monitored_agents().items():
            if abort.is_set():
                break
            if algorithm is None:
                if agent not in self._warned:
                    self._warned.add(agent)
                    logger.warning("agent %r has no known algorithm; not monitored", agent)
                continue
            try:
                with self._work_lock:
                    result = self._check_agent(agent, algorithm, abort)
            except Exception:
                logger.exception("monitoring agent %r failed", agent)
                continue
            if result is not None:
                results.append(result)
        return results

    def _state(self, agent: str) -> _AgentState:
        state = self._states.get(agent)
        if state is None:
            stored = self.audit.load_state(agent)
            known = {f.name for f in fields(_AgentState)}
            state = _AgentState(**{k: v for k, v in (stored or {}).items() if k in known})
            if state.period_start is None:
                state.period_start = self.clock.time()
            self._states[agent] = state
            self._save(agent, state)
        return state

    def _save(self, agent: str, state: _AgentState) -> None:
        self.audit.save_state(agent, asdict(state))

    def _latest_id(self, agent: str) -> int:
        latest = self.data_collector.recent(agent, 1)
        return latest[-1].id if latest else 0

    def _detector(self, agent: str) -> ChangeDetector | None:
        if self._detector_factory is None:
            return None
        det = self._detectors.get(agent)
        if det is None:
            det = self._detectors[agent] = self._detector_factory()
        return det

    def _reset_detector(self, agent: str, state: _AgentState, latest: int) -> None:
        det = self._detectors.get(agent)
        if det is not None:
            det.reset()
        state.detector_id = max(state.detector_id, latest)
        state.pending_alarm = None

    def _check_agent(
        self, agent: str, algorithm: str, abort: threading.Event
    ) -> AdjustmentResult | None:
        state = self._state(agent)
        now = self.clock.time()
        latest = self._latest_id(agent)
        if latest < max(state.consumed_id, state.detector_id):
            # Ids went backwards: the collector was replaced or cleared (say an in-memory one
            # after a restart). The remembered cursors mean nothing for it any more.
            logger.warning("records of %r restarted below the last judged id; rereading", agent)
            state.consumed_id = state.detector_id = 0
            if state.watch is not None:
                state.watch["after_id"] = 0
        if state.watch is not None:
            self._check_watch(agent, algorithm, state, now)
            self._save(agent, state)
            return None
        self._feed_detector(agent, state)
        if state.last_adjustment is not None and now - state.last_adjustment < self.cooldown:
            self._save(agent, state)
            return None
        trigger = self._trigger(agent, state, now)
        if trigger is None:
            self._save(agent, state)
            return None
        name, evidence = trigger
        evidence["latest_record_id"] = latest
        logger.info("agent %r: %s trigger fired", agent, name)
        return self._adjust(
            agent,
            algorithm,
            state,
            name,
            evidence,
            abort,
            method=self.method,
            n_trials=self.n_trials,
            options={},
        )

    def _feed_detector(self, agent: str, state: _AgentState) -> None:
        det = self._detector(agent)
        if det is None:
            return
        records = self.data_collector.recent(agent, _FETCH_LIMIT, after_id=state.detector_id)
        for rec in records:
            state.detector_id = rec.id
            if rec.reward is None:
                continue
            if det.update(rec.reward) and state.pending_alarm is None:
                # Latched until it can be acted on (a cooldown may be running); the detector
                # starts over so the next alarm is about new evidence.
                state.pending_alarm = {**det.state(), "record_id": rec.id}
                det.reset()

    def _trigger(
        self, agent: str, state: _AgentState, now: float
    ) -> tuple[str, dict[str, Any]] | None:
        if self.success_threshold is not None:
            recs = self.data_collector.recent(agent, self.window, after_id=state.consumed_id)
            rate, ok, n = _success_stats(recs)
            if rate is not None and n >= self.min_records and rate < self.success_threshold:
                return "success_rate", {
                    "success_rate": rate,
                    "successes": ok,
                    "records": n,
                    "threshold": self.success_threshold,
                    "first_record_id": recs[0].id,
                    "last_record_id": recs[-1].id,
                }
        if state.pending_alarm is not None:
            return "degradation", dict(state.pending_alarm)
        if self.adjustment_interval is not None and state.period_start is not None:
            elapsed = now - state.period_start
            if elapsed >= self.adjustment_interval:
                return "periodic", {"elapsed": elapsed, "interval": self.adjustment_interval}
        return None

    def _check_watch(self, agent: str, algorithm: str, state: _AgentState, now: float) -> None:
        watch = state.watch
        assert watch is not None
        records = self.data_collector.recent(
            agent, self.post_apply_records, after_id=int(watch["after_id"])
        )
        rate, ok, n = _success_stats(records)
        adj = int(watch["adjustment_id"])
        figures = {
            "success_rate_before": watch["before_rate"],
            "records_before": watch["before_n"],
            "success_rate_after": rate,
            "records_after": n,
        }
        if n < self.post_apply_records:
            timeout = self.post_apply_timeout
            if timeout is not None and now - float(watch["applied_at"]) >= timeout:
                self.audit.write(
                    agent, "kept", {**figures, "reason": "too few records after applying"}, now, adj
                )
                state.watch = None
            return
        latest = records[-1].id
        before_rate, before_n = watch["before_rate"], int(watch["before_n"])
        worse = False
        p = 1.0
        if before_rate is not None and rate is not None:
            p = proportion_worse_p(ok, n, round(before_rate * before_n), before_n)
            worse = rate < before_rate - self.rollback_margin and p < self.rollback_significance
        figures["p_value"] = p
        state.watch = None
        state.consumed_id = max(state.consumed_id, latest)
        if not worse:
            self.audit.write(agent, "kept", figures, now, adj)
            return
        previous = dict(watch["previous"])
        try:
            self.model_retrainer.apply(agent, algorithm, previous)
        except Exception as exc:
            logger.exception("agent %r: rollback failed", agent)
            self.audit.write(
                agent,
                "rollback_failed",
                {**figures, "error": repr(exc), "hyperparameters": previous},
                now,
                adj,
            )
            return
        logger.warning("agent %r: success rate fell after applying; rolled back", agent)
        self.audit.write(
            agent,
            "rollback",
            {**figures, "hyperparameters": previous, "rolled_back": watch["applied"]},
            now,
            adj,
        )
        self._reset_detector(agent, state, latest)

    # ----------------------------------------------------------------- the pipeline
    def _adjust(
        self,
        agent: str,
        algorithm: str,
        state: _AgentState,
        trigger: str,
        evidence: dict[str, Any],
        abort: threading.Event,
        *,
        method: str,
        n_trials: int,
        options: dict[str, Any],
    ) -> AdjustmentResult:
        clock = self.clock
        adj = self.audit.new_adjustment(agent, clock.time())
        self.audit.write(
            agent,
            "trigger",
            {
                "trigger": trigger,
                "evidence": evidence,
                "algorithm": algorithm,
                "method": method,
                "n_trials": n_trials,
            },
            clock.time(),
            adj,
        )
        result = AdjustmentResult(adj, agent, algorithm, trigger, evidence, "failed", {})
        repeats = int(options.pop("validation_repeats", self.validation_repeats))
        latest = int(evidence.get("latest_record_id", 0))
        try:
            previous = dict(self.model_retrainer.current_hyperparameters(agent))
            result.previous_hyperparameters = previous
            tuning = self._tune(agent, algorithm, previous, abort, method, n_trials, adj, options)
            result.tuning_result = tuning
            self.audit.write(agent, "tuning", self._tuning_summary(tuning), clock.time(), adj)
            candidate = {**previous, **tuning.best_params}
            result.candidate = candidate
            if candidate == previous:
                return self._decide(result, state, latest, "rejected", "the best found is current")
            validation = self._validate(agent, algorithm, candidate, previous, repeats, abort)
            result.validation = validation
            self.audit.write(agent, "validation", validation.as_dict(), clock.time(), adj)
            if not validation.better:
                return self._decide(result, state, latest, "rejected", "no validated improvement")
            if abort.is_set():
                raise _Aborted
            before = self.data_collector.recent(agent, self.window)
            self.model_retrainer.apply(agent, algorithm, candidate)
        except _Aborted:
            # Nothing was applied and no decision was made: the evidence stays unconsumed, so
            # the trigger can fire again once the service runs.
            result.decision, result.reason = "aborted", "the service stopped"
            self.audit.write(agent, "aborted", {"reason": result.reason}, clock.time(), adj)
            logger.info("agent %r: adjustment %d aborted by stop()", agent, adj)
            return result
        except Exception as exc:
            logger.exception(
                "agent %r: adjustment %d failed; hyperparameters unchanged", agent, adj
            )
            result.error = f"{type(exc).__name__}: {exc}"
            return self._decide(result, state, latest, "failed", result.error)
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
            decided = self._decide(result, state, latest, "failed", result.error)
            if isinstance(exc, KeyboardInterrupt):
                raise
            return decided
        rate, _ok, n = _success_stats(before)
        after_id = self._latest_id(agent)
        state.watch = {
            "adjustment_id": adj,
            "previous": previous,
            "applied": candidate,
            "applied_at": clock.time(),
            "after_id": after_id,
            "before_rate": rate,
            "before_n": n,
        }
        self._reset_detector(agent, state, after_id)
        return self._decide(result, state, latest, "applied", "validated improvement")

    def _decide(
        self, result: AdjustmentResult, state: _AgentState, latest: int, decision: str, reason: str
    ) -> AdjustmentResult:
        now = self.clock.time()
        result.decision, result.reason = decision, reason
        details: dict[str, Any] = {"reason": reason}
        if decision == "applied":
            details["hyperparameters"] = result.candidate
            details["previous"] = result.previous_hyperparameters
        elif result.candidate is not None:
            details["candidate"] = result.candidate
        if result.error is not None:
            details["error"] = result.error
        self.audit.write(result.agent_name, decision, details, now, result.adjustment_id)
        state.consumed_id = max(state.consumed_id, latest)
        state.pending_alarm = None
        state.last_adjustment = now
        state.period_start = now
        self._save(result.agent_name, state)
        return result

    @staticmethod
    def _tuning_summary(tuning: TuningResult) -> dict[str, Any]:
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

    def _overrides(
        self, agent: str, algorithm: str, given: SpaceOverrides | None
    ) -> SpaceOverrides | None:
        if given is not None:
            return given
        return self.search_spaces.get(agent, self.search_spaces.get(algorithm))

    def _space(self, agent: str, algorithm: str, overrides: SpaceOverrides | None) -> SearchSpace:
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

    def _warm_start(
        self, agent: str, space: SearchSpace, previous: dict[str, Any]
    ) -> list[dict[str, Any]]:
        configs: list[dict[str, Any]] = []
        candidates = [previous]
        rolled_back = {e.adjustment_id for e in self.audit.entries(agent, event="rollback")}
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

    def _tune(
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
        overrides = self._overrides(agent, algorithm, options.pop("search_space", None))
        space = self._space(agent, algorithm, overrides)
        retrainer = self.model_retrainer

        def objective(params: dict[str, Any]) -> float:
            if abort.is_set():
                raise TrialPruned("the adjustment service is stopping")
            return retrainer.evaluate(agent, algorithm, {**previous, **params})

        def stop_between_trials(_study: Study, _record: TrialRecord) -> None:
            if abort.is_set():
                raise _Aborted

        kwargs: dict[str, Any] = {**self.tuner_options, **options}
        kwargs["callbacks"] = [*kwargs.get("callbacks", ()), stop_between_trials]
        kwargs.setdefault("initial_configs", self._warm_start(agent, space, previous))
        kwargs.setdefault("method_options", self.method_options or None)
        if self.seed is not None:
            # A stored study continues with the seed it was created with (another would be
            # ignored with a warning); its later trials differ from earlier ones by number.
            stored = self.storage is not None
            kwargs.setdefault("seed", self.seed if stored else (self.seed + adjustment_id) % 2**63)
        if self.storage is not None:
            kwargs.setdefault("storage", self.storage)
            kwargs.setdefault("study_name", f"hptune-adjust:{agent}:{algorithm}")
            kwargs.setdefault("load_if_exists", True)
        if algorithm in RL_ALGORITHMS:
            return RLHyperparameterTuner(agent).tune_rl_model(
                algorithm,
                objective,
                method,
                n_trials,
                self.maximize,
                search_space=overrides,
                **kwargs,
            )
        if algorithm == OptimizationAgentHyperparameterTuner.PRESET:
            return OptimizationAgentHyperparameterTuner(agent).tune_optimization_agent(
                objective, method, n_trials, self.maximize, search_space=overrides, **kwargs
            )
        method_options = kwargs.pop("method_options", None)
        tuning = MethodTuner(
            space,
            objective,
            self.maximize,
            n_trials,
            method=method,
            method_options=method_options,
            **kwargs,
        ).tune()
        tuning.metadata.update(agent_name=agent, algorithm=algorithm, method=method)
        return tuning

    def _validate(
        self,
        agent: str,
        algorithm: str,
        candidate: dict[str, Any],
        current: dict[str, Any],
        repeats: int,
        abort: threading.Event,
    ) -> AdjustmentValidation:
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
                    raise _Aborted
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
        sign = 1.0 if self.maximize else -1.0
        test = welch_greater([sign * v for v in cand], [sign * v for v in cur])
        better = test.difference > self.min_improvement and test.p_value < self.significance
        return AdjustmentValidation(
            cand,
            cur,
            math.fsum(cand) / len(cand),
            math.fsum(cur) / len(cur),
            test.difference,
            test.p_value,
            failures,
            better,
        )
