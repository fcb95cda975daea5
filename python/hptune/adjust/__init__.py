"""Automatic hyperparameter adjustment: watch deployed agents, re-tune, apply, validate, roll back.

>>> from hptune.adjust import AutomaticHyperparameterAdjustment, DataCollector, ModelRetrainer
>>> data_collector = DataCollector()
>>> model_retrainer = ModelRetrainer(data_collector)
>>> model_retrainer.register("self-healing", lambda hp, data: -abs(hp["gamma"] - 0.95), "ppo")
>>> auto_adjust = AutomaticHyperparameterAdjustment(
...     data_collector=data_collector, model_retrainer=model_retrainer, adjustment_interval=86400
... )
>>> auto_adjust.start()
>>> result = auto_adjust.manual_tune(agent_name="self-healing", algorithm="ppo",
...                                  method="sobol", n_trials=20)
>>> auto_adjust.stop()
>>> [e.event for e in auto_adjust.history("self-healing")][:2]
['trigger', 'tuning']
"""

from __future__ import annotations

from hptune.adjust._audit import AuditEntry, AuditLog
from hptune.adjust._clock import Clock, ManualClock, SystemClock
from hptune.adjust._collector import DataCollector, DataCollectorProtocol, Record
from hptune.adjust._decisions import Decision, TriggerKind, WatchOutcome
from hptune.adjust._detectors import ChangeDetector, Cusum, PageHinkley
from hptune.adjust._policy import RollbackPolicy, TriggerPolicy, TuningPolicy, ValidationPolicy
from hptune.adjust._retrainer import ModelRetrainer, ModelRetrainerProtocol, TrainFunction
from hptune.adjust._service import (
    AdjustmentResult,
    AdjustmentValidation,
    AutomaticHyperparameterAdjustment,
)
from hptune.adjust._stats import WelchResult, welch_greater

__all__ = [
    "AdjustmentResult",
    "AdjustmentValidation",
    "AuditEntry",
    "AuditLog",
    "AutomaticHyperparameterAdjustment",
    "ChangeDetector",
    "Clock",
    "Cusum",
    "DataCollector",
    "DataCollectorProtocol",
    "Decision",
    "ManualClock",
    "ModelRetrainer",
    "ModelRetrainerProtocol",
    "PageHinkley",
    "Record",
    "RollbackPolicy",
    "SystemClock",
    "TrainFunction",
    "TriggerKind",
    "TriggerPolicy",
    "TuningPolicy",
    "ValidationPolicy",
    "WatchOutcome",
    "WelchResult",
    "welch_greater",
]
