"""The automatic hyperparameter adjustment service: its constructor, life cycle and passes.

One monitoring pass, per agent: close an open post-apply watch if it has enough records (keep or
roll back); otherwise the monitor feeds the new rewards to the change detector and, outside the
cooldown, checks the triggers in order (success rate, degradation, periodic). A trigger starts
the pipeline: tune (warm-started), validate the best candidate against the current
hyperparameters on fresh evaluations, apply only on a clear improvement, then watch.

Evidence is consumed: each agent's state remembers the last record id judged, so a trigger
never fires twice on the same records, and that state lives in the audit log's database, so it
holds across restarts too.

The settings live in four policies (``_policy.py``), the trigger logic in the monitor
(``_monitor.py``), the steps of an adjustment in the pipeline (``_pipeline.py``) and the typed
decisions in ``_decisions.py``; this module wires them together.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

from hptune._errors import InvalidArgumentError
from hptune.adjust._audit import AuditEntry, AuditLog
from hptune.adjust._clock import Clock, SystemClock
from hptune.adjust._collector import DataCollectorProtocol
from hptune.adjust._decisions import (
    AdjustmentResult,
    AdjustmentValidation,
    AgentState,
    Trigger,
    TriggerKind,
)
from hptune.adjust._detectors import ChangeDetector
from hptune.adjust._monitor import Monitor
from hptune.adjust._pipeline import AdjustmentPipeline
from hptune.adjust._policy import (
    Policies,
    RollbackPolicy,
    SpaceOverrides,
    TriggerPolicy,
    TuningPolicy,
    ValidationPolicy,
    check_count,
)
from hptune.adjust._retrainer import ModelRetrainerProtocol, _canonical_algorithm
from hptune.samplers import method_name
from hptune.storage import Storage

__all__ = ["AdjustmentResult", "AdjustmentValidation", "AutomaticHyperparameterAdjustment"]

logger = logging.getLogger("hptune.adjust")

T = TypeVar("T")


class _PolicyField(Generic[T]):
    """A service attribute that reads (and, by replacing the policy, sets) a policy's field."""

    def __init__(self, policy: str, name: str | None = None) -> None:
        self.policy = policy
        self.name = name or ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.name or name

    def __get__(self, service: Any, owner: type | None = None) -> T:
        if service is None:  # looked up on the class (help(), introspection)
            return cast(T, self)
        return cast(T, getattr(getattr(service._policies, self.policy), self.name))

    def __set__(self, service: Any, value: T) -> None:
        policies = service._policies
        current = getattr(policies, self.policy)
        setattr(policies, self.policy, dataclasses.replace(current, **{self.name: value}))


def _policy(label: str, cls: type[T], given: T | None, keywords: dict[str, Any]) -> T:
    """The policy given whole, or built from the constructor's keywords (checked either way)."""
    if given is None:
        return cls(**keywords)
    if not isinstance(given, cls):
        raise InvalidArgumentError(
            f"{label} must be a {cls.__name__} or None, got {type(given).__name__}"
        )
    defaults = {f.name: f.default for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    changed = sorted(k for k, v in keywords.items() if v is not defaults[k] and v != defaults[k])
    if changed:
        raise InvalidArgumentError(
            f"{', '.join(changed)} given both as keyword and in {label}; give each setting once"
        )
    return given


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
    its mean is better by more than ``min_improvement`` and a one-sided p below ``significance``
    (``validation_test="robust"``, the default: Welch's t-test and the rank-sum test must both
    agree; ``"welch"``: Welch's alone, which lets more equal or heavy-tailed candidates
    through). After applying, the next ``post_apply_records`` records (default
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

    The same settings can be given as policy objects, which check themselves when built:
    ``trigger_policy`` (:class:`TriggerPolicy`), ``tuning_policy`` (:class:`TuningPolicy`),
    ``validation_policy`` (:class:`ValidationPolicy`) and ``rollback_policy``
    (:class:`RollbackPolicy`). A policy replaces all of its keyword arguments, so with one given
    its keywords must stay at their defaults. The attributes of the same names
    (``service.window``, ``service.n_trials``, ...) read and set the policies' fields.

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

    # The policies' fields, readable and settable as before the policies existed.
    adjustment_interval: _PolicyField[float | None] = _PolicyField("trigger")
    check_interval: _PolicyField[float] = _PolicyField("trigger")
    success_threshold: _PolicyField[float | None] = _PolicyField("trigger")
    window: _PolicyField[int] = _PolicyField("trigger")
    min_records: _PolicyField[int] = _PolicyField("trigger")
    cooldown: _PolicyField[float] = _PolicyField("trigger")
    n_trials: _PolicyField[int] = _PolicyField("tuning")
    method: _PolicyField[str] = _PolicyField("tuning")
    method_options: _PolicyField[dict[str, Any]] = _PolicyField("tuning")
    search_spaces: _PolicyField[dict[str, SpaceOverrides]] = _PolicyField("tuning")
    maximize: _PolicyField[bool] = _PolicyField("tuning")
    storage: _PolicyField[Storage | str | None] = _PolicyField("tuning")
    seed: _PolicyField[int | None] = _PolicyField("tuning")
    tuner_options: _PolicyField[dict[str, Any]] = _PolicyField("tuning")
    validation_repeats: _PolicyField[int] = _PolicyField("validation")
    min_improvement: _PolicyField[float] = _PolicyField("validation")
    significance: _PolicyField[float] = _PolicyField("validation")
    validation_test: _PolicyField[str] = _PolicyField("validation")
    rollback_margin: _PolicyField[float] = _PolicyField("rollback")
    rollback_significance: _PolicyField[float] = _PolicyField("rollback")

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
        validation_repeats: int = 8,
        min_improvement: float = 0.0,
        significance: float = 0.025,
        validation_test: str = "robust",
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
        trigger_policy: TriggerPolicy | None = None,
        tuning_policy: TuningPolicy | None = None,
        validation_policy: ValidationPolicy | None = None,
        rollback_policy: RollbackPolicy | None = None,
    ) -> None:
        for proto, obj, label in (
            (DataCollectorProtocol, data_collector, "data_collector"),
            (ModelRetrainerProtocol, model_retrainer, "model_retrainer"),
        ):
            if not isinstance(obj, proto):
                raise InvalidArgumentError(
                    f"{label} must implement {proto.__name__}, got {type(obj).__name__}"
                )
        trigger = _policy(
            "trigger_policy",
            TriggerPolicy,
            trigger_policy,
            {
                "adjustment_interval": adjustment_interval,
                "check_interval": check_interval,
                "success_threshold": success_threshold,
                "window": window,
                "min_records": min_records,
                "cooldown": cooldown,
                "detector": detector,
                "detector_options": detector_options,
            },
        )
        validation = _policy(
            "validation_policy",
            ValidationPolicy,
            validation_policy,
            {
                "validation_repeats": validation_repeats,
                "min_improvement": min_improvement,
                "significance": significance,
                "validation_test": validation_test,
            },
        )
        rollback = _policy(
            "rollback_policy",
            RollbackPolicy,
            rollback_policy,
            {
                "post_apply_records": post_apply_records,
                "post_apply_timeout": post_apply_timeout,
                "rollback_margin": rollback_margin,
                "rollback_significance": rollback_significance,
            },
        )
        tuning = _policy(
            "tuning_policy",
            TuningPolicy,
            tuning_policy,
            {
                "n_trials": n_trials,
                "method": method,
                "method_options": method_options,
                "search_spaces": search_spaces,
                "maximize": maximize,
                "storage": storage,
                "seed": seed,
                "tuner_options": tuner_options,
            },
        )
        self._policies = Policies(trigger, tuning, validation, rollback)
        self._agents: dict[str, str | None] | None
        if agents is None:
            self._agents = None
        elif isinstance(agents, Mapping):
            self._agents = {str(k): _canonical_algorithm(v) for k, v in agents.items()}
        else:
            self._agents = {str(a): None for a in agents}
        audit = audit_log if isinstance(audit_log, AuditLog) else AuditLog(audit_log)
        self._monitor = Monitor(data_collector, self._policies)
        self._pipeline = AdjustmentPipeline(
            data_collector,
            model_retrainer,
            audit,
            clock if clock is not None else SystemClock(),
            self._policies,
            self._monitor,
        )
        self._states: dict[str, AgentState] = {}
        self._warned: set[str] = set()
        self._work_lock = threading.RLock()  # one adjustment or pass at a time
        self._life_lock = threading.Lock()
        self._stop = threading.Event()
        self._manual_aborts: set[threading.Event] = set()
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- settings
    @property
    def trigger_policy(self) -> TriggerPolicy:
        """When adjustments start (settable with another :class:`TriggerPolicy`)."""
        return self._policies.trigger

    @trigger_policy.setter
    def trigger_policy(self, policy: TriggerPolicy) -> None:
        self._policies.trigger = _policy("trigger_policy", TriggerPolicy, policy, {})

    @property
    def tuning_policy(self) -> TuningPolicy:
        """How adjustments tune (settable with another :class:`TuningPolicy`)."""
        return self._policies.tuning

    @tuning_policy.setter
    def tuning_policy(self, policy: TuningPolicy) -> None:
        self._policies.tuning = _policy("tuning_policy", TuningPolicy, policy, {})

    @property
    def validation_policy(self) -> ValidationPolicy:
        """The guard before applying (settable with another :class:`ValidationPolicy`)."""
        return self._policies.validation

    @validation_policy.setter
    def validation_policy(self, policy: ValidationPolicy) -> None:
        self._policies.validation = _policy("validation_policy", ValidationPolicy, policy, {})

    @property
    def rollback_policy(self) -> RollbackPolicy:
        """The watch after applying (settable with another :class:`RollbackPolicy`)."""
        return self._policies.rollback

    @rollback_policy.setter
    def rollback_policy(self, policy: RollbackPolicy) -> None:
        self._policies.rollback = _policy("rollback_policy", RollbackPolicy, policy, {})

    @property
    def post_apply_records(self) -> int:
        """Records after applying that decide the watch (default: ``min_records``)."""
        return self._policies.rollback.records(self._policies.trigger)

    @post_apply_records.setter
    def post_apply_records(self, value: int | None) -> None:
        rollback = self._policies.rollback
        self._policies.rollback = dataclasses.replace(rollback, post_apply_records=value)

    @property
    def post_apply_timeout(self) -> float | None:
        """Seconds a watch waits for its records (default: ``adjustment_interval``)."""
        return self._policies.rollback.timeout(self._policies.trigger)

    @post_apply_timeout.setter
    def post_apply_timeout(self, value: float | None) -> None:
        rollback = self._policies.rollback
        self._policies.rollback = dataclasses.replace(rollback, post_apply_timeout=value)

    @property
    def data_collector(self) -> DataCollectorProtocol:
        """Where the agents' records come from."""
        return self._pipeline.data_collector

    @data_collector.setter
    def data_collector(self, collector: DataCollectorProtocol) -> None:
        self._pipeline.data_collector = self._monitor.data_collector = collector

    @property
    def model_retrainer(self) -> ModelRetrainerProtocol:
        """What trains, evaluates and applies hyperparameters."""
        return self._pipeline.model_retrainer

    @model_retrainer.setter
    def model_retrainer(self, retrainer: ModelRetrainerProtocol) -> None:
        self._pipeline.model_retrainer = retrainer

    @property
    def audit(self) -> AuditLog:
        """The audit log (decisions and per-agent state)."""
        return self._pipeline.audit

    @audit.setter
    def audit(self, audit: AuditLog) -> None:
        self._pipeline.audit = audit

    @property
    def clock(self) -> Clock:
        """The service's clock (a :class:`ManualClock` in tests)."""
        return self._pipeline.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self._pipeline.clock = clock

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
        check_count("n_trials", trials)
        check_count("validation_repeats", kwargs.get("validation_repeats", 2), 2)
        # Argument errors (an algorithm without a preset and no space, say) are the caller's
        # to see, not a "failed" adjustment.
        pipeline = self._pipeline
        pipeline.space(
            agent_name, key, pipeline.overrides(agent_name, key, kwargs.get("search_space"))
        )
        event = threading.Event()
        self._manual_aborts.add(event)
        try:
            with self._work_lock:
                state = self._state(agent_name)
                latest = self._monitor.latest_id(agent_name)
                evidence = {"requested": True, "latest_record_id": latest}
                return pipeline.run(
                    agent_name,
                    key,
                    state,
                    Trigger(TriggerKind.MANUAL, evidence),
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

    def _state(self, agent: str) -> AgentState:
        state = self._states.get(agent)
        if state is None:
            state = AgentState.from_stored(self.audit.load_state(agent))
            if state.period_start is None:
                state.period_start = self.clock.time()
            self._states[agent] = state
            self._pipeline.save(agent, state)
        return state

    def _check_agent(
        self, agent: str, algorithm: str, abort: threading.Event
    ) -> AdjustmentResult | None:
        monitor, pipeline = self._monitor, self._pipeline
        state = self._state(agent)
        now = self.clock.time()
        latest = monitor.latest_id(agent)
        if latest < max(state.consumed_id, state.detector_id):
            # Ids went backwards: the collector was replaced or cleared (say an in-memory one
            # after a restart). The remembered cursors mean nothing for it any more.
            logger.warning("records of %r restarted below the last judged id; rereading", agent)
            state.consumed_id = state.detector_id = 0
            if state.watch is not None:
                state.watch.after_id = 0
        if state.watch is not None:
            pipeline.check_watch(agent, algorithm, state, now)
            pipeline.save(agent, state)
            return None
        monitor.feed(agent, state)
        if monitor.cooling_down(state, now):
            pipeline.save(agent, state)
            return None
        trigger = monitor.trigger(agent, state, now)
        if trigger is None:
            pipeline.save(agent, state)
            return None
        trigger.evidence["latest_record_id"] = latest
        logger.info("agent %r: %s trigger fired", agent, trigger.kind.value)
        return pipeline.run(
            agent,
            algorithm,
            state,
            trigger,
            abort,
            method=self.method,
            n_trials=self.n_trials,
            options={},
        )
