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
from hptune.samplers import GridSampler, RandomSampler, Sampler, SobolSampler
from hptune.space import HyperparameterSpace, SearchSpace
from hptune.storage import InMemoryStorage, SQLiteStorage, Storage
from hptune.study import Study, create_study, load_study
from hptune.trial import HyperparameterConfig, Trial, TrialRecord, TrialState
from hptune.tuners import (
    GridSearchTuner,
    HyperparameterTuner,
    RandomSearchTuner,
    SobolSearchTuner,
    TuningResult,
)

__all__ = [
    "AllTrialsFailedError",
    "GridSampler",
    "GridSearchTuner",
    "HptuneError",
    "HyperparameterConfig",
    "HyperparameterSpace",
    "HyperparameterTuner",
    "InMemoryStorage",
    "InvalidArgumentError",
    "NumericalError",
    "OutOfRangeError",
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
    "Trial",
    "TrialPruned",
    "TrialRecord",
    "TrialState",
    "TuningResult",
    "__version__",
    "create_study",
    "load_study",
]
