"""hptune: hyperparameter tuning with a Rust core.

The public names below load on first use (PEP 562), so ``import hptune`` and the ``hptune``
command start without importing numpy, the extension or the integrations until they are needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hptune._core import __version__
    from hptune._errors import (
        AllTrialsFailedError,
        HptuneError,
        InvalidArgumentError,
        NumericalError,
        OutOfRangeError,
        StorageError,
        TrialPruned,
    )
    from hptune._importance import importance
    from hptune._multi_objective import hypervolume
    from hptune.adjust import AutomaticHyperparameterAdjustment, DataCollector, ModelRetrainer
    from hptune.agents import OptimizationAgentHyperparameterTuner, RLHyperparameterTuner
    from hptune.samplers import (
        BayesianSampler,
        GridSampler,
        RandomSampler,
        Sampler,
        SobolSampler,
        TPESampler,
    )
    from hptune.space import AtMost, HyperparameterSpace, LessThan, SearchSpace
    from hptune.storage import InMemoryStorage, PostgresStorage, SQLiteStorage, Storage
    from hptune.study import Study, create_study, load_study
    from hptune.trial import HyperparameterConfig, Trial, TrialRecord, TrialState
    from hptune.tuners import (
        BayesianOptimizationTuner,
        GridSearchTuner,
        HyperparameterTuner,
        MethodTuner,
        RandomSearchTuner,
        SobolSearchTuner,
        TPETuner,
        TuningResult,
    )
    from hptune.validation import ValidationReport, validate

# Public name -> the module that defines it.
_EXPORTS = {
    "AllTrialsFailedError": "hptune._errors",
    "AtMost": "hptune.space",
    "AutomaticHyperparameterAdjustment": "hptune.adjust",
    "BayesianOptimizationTuner": "hptune.tuners",
    "BayesianSampler": "hptune.samplers",
    "DataCollector": "hptune.adjust",
    "GridSampler": "hptune.samplers",
    "GridSearchTuner": "hptune.tuners",
    "HptuneError": "hptune._errors",
    "HyperparameterConfig": "hptune.trial",
    "HyperparameterSpace": "hptune.space",
    "HyperparameterTuner": "hptune.tuners",
    "InMemoryStorage": "hptune.storage",
    "InvalidArgumentError": "hptune._errors",
    "LessThan": "hptune.space",
    "MethodTuner": "hptune.tuners",
    "ModelRetrainer": "hptune.adjust",
    "NumericalError": "hptune._errors",
    "OptimizationAgentHyperparameterTuner": "hptune.agents",
    "OutOfRangeError": "hptune._errors",
    "PostgresStorage": "hptune.storage",
    "RLHyperparameterTuner": "hptune.agents",
    "RandomSampler": "hptune.samplers",
    "RandomSearchTuner": "hptune.tuners",
    "SQLiteStorage": "hptune.storage",
    "Sampler": "hptune.samplers",
    "SearchSpace": "hptune.space",
    "SobolSampler": "hptune.samplers",
    "SobolSearchTuner": "hptune.tuners",
    "Storage": "hptune.storage",
    "StorageError": "hptune._errors",
    "Study": "hptune.study",
    "TPESampler": "hptune.samplers",
    "TPETuner": "hptune.tuners",
    "Trial": "hptune.trial",
    "TrialPruned": "hptune._errors",
    "TrialRecord": "hptune.trial",
    "TrialState": "hptune.trial",
    "TuningResult": "hptune.tuners",
    "ValidationReport": "hptune.validation",
    "__version__": "hptune._core",
    "create_study": "hptune.study",
    "hypervolume": "hptune._multi_objective",
    "importance": "hptune._importance",
    "load_study": "hptune.study",
    "validate": "hptune.validation",
}

__all__ = [
    "AllTrialsFailedError",
    "AtMost",
    "AutomaticHyperparameterAdjustment",
    "BayesianOptimizationTuner",
    "BayesianSampler",
    "DataCollector",
    "GridSampler",
    "GridSearchTuner",
    "HptuneError",
    "HyperparameterConfig",
    "HyperparameterSpace",
    "HyperparameterTuner",
    "InMemoryStorage",
    "InvalidArgumentError",
    "LessThan",
    "MethodTuner",
    "ModelRetrainer",
    "NumericalError",
    "OptimizationAgentHyperparameterTuner",
    "OutOfRangeError",
    "PostgresStorage",
    "RLHyperparameterTuner",
    "RandomSampler",
    "RandomSearchTuner",
    "SQLiteStorage",
    "Sampler",
    "SearchSpace",
    "SobolSampler",
    "SobolSearchTuner",
    "Storage",
    "StorageError",
    "Study",
    "TPESampler",
    "TPETuner",
    "Trial",
    "TrialPruned",
    "TrialRecord",
    "TrialState",
    "TuningResult",
    "ValidationReport",
    "__version__",
    "create_study",
    "hypervolume",
    "importance",
    "load_study",
    "validate",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hptune' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
