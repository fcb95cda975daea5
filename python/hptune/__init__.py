"""hptune: hyperparameter tuning with a Rust core."""

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
from hptune.space import HyperparameterSpace, LessThan, SearchSpace
from hptune.storage import InMemoryStorage, SQLiteStorage, Storage
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

__all__ = [
    "AllTrialsFailedError",
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
    "importance",
    "load_study",
    "validate",
]
