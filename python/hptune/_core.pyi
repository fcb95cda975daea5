# Hand-written stub of the Rust extension (rust/hptune-py); checked with mypy.stubtest in CI.
from typing import Any, final

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Grid",
    "Sobol",
    "Space",
    "TpeState",
    "__version__",
    "bo_suggest",
    "bo_suggest_constrained",
    "bo_suggest_multi",
    "gp_log_evidence",
    "importance",
    "tpe_suggest",
]

__version__: str

@final
class Space:
    def __new__(
        cls,
        kinds: NDArray[np.int64],
        low: NDArray[np.float64],
        high: NDArray[np.float64],
        log: list[bool],
        step: NDArray[np.float64],
        n_choices: NDArray[np.uint64],
        names: list[str] | None = None,
        choices: list[list[Any] | None] | None = None,
    ) -> Space: ...
    def __len__(self) -> int: ...
    def encode(self, values: NDArray[np.float64]) -> NDArray[np.float64]: ...
    def decode(self, unit: NDArray[np.float64]) -> NDArray[np.float64]: ...
    def sample_random(self, seed: int, first: int, n: int) -> NDArray[np.float64]: ...
    def values_to_dicts(self, values: NDArray[np.float64]) -> list[dict[str, Any]]: ...
    def decode_dicts(self, unit: NDArray[np.float64]) -> list[dict[str, Any]]: ...
    def sample_random_dicts(self, seed: int, first: int, n: int) -> list[dict[str, Any]]: ...

@final
class Sobol:
    def __new__(cls, d: int, seed: int | None = None) -> Sobol: ...
    def points(self, first: int, n: int) -> NDArray[np.float64]: ...

@final
class Grid:
    def __new__(
        cls, space: Space, resolution: int = 5, shuffle_seed: int | None = None
    ) -> Grid: ...
    @property
    def size(self) -> int: ...
    def levels(self) -> list[list[float]]: ...
    def points(self, first: int, n: int) -> NDArray[np.float64]: ...
    def rank_of_index(self, index: int) -> int: ...
    def index_of_point(self, point: list[float]) -> int | None: ...

def bo_suggest(
    space: Space,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    pending: NDArray[np.float64],
    n: int,
    seed: int,
    acquisition: str = "logei",
    beta: float = 2.0,
    n_candidates: int = 512,
    n_restarts: int = 4,
    fit_max_points: int = 64,
    warm: list[float] | None = None,
    noisy: bool = False,
    trust_region: int | None = None,
) -> tuple[NDArray[np.float64], list[float]]: ...
def gp_log_evidence(
    space: Space,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    log_jacobian: NDArray[np.float64],
    seed: int,
    fit_max_points: int = 64,
    warm: list[float] | None = None,
    noisy: bool = False,
) -> tuple[float, list[float]]: ...
def bo_suggest_constrained(
    space: Space,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    constraints: NDArray[np.float64],
    pending: NDArray[np.float64],
    n: int,
    seed: int,
    acquisition: str = "logei",
    beta: float = 2.0,
    n_candidates: int = 512,
    n_restarts: int = 4,
    fit_max_points: int = 64,
    warm: list[float] | None = None,
    warm_constraints: list[list[float]] | None = None,
    noisy: bool = False,
    trust_region: int | None = None,
) -> tuple[NDArray[np.float64], list[float], list[list[float]]]: ...
def bo_suggest_multi(
    space: Space,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    constraints: NDArray[np.float64],
    pending: NDArray[np.float64],
    n: int,
    seed: int,
    n_candidates: int = 512,
    n_restarts: int = 4,
    fit_max_points: int = 64,
    warm: list[list[float]] | None = None,
    warm_constraints: list[list[float]] | None = None,
    noisy: bool = False,
) -> tuple[NDArray[np.float64], list[list[float]], list[list[float]]]: ...
def tpe_suggest(
    space: Space,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    pending: NDArray[np.float64],
    n: int,
    seed: int,
    n_candidates: int = 24,
    n_startup_trials: int = 10,
    gamma: float = 0.1,
    max_good: int = 25,
    prior_weight: float = 1.0,
    state: TpeState | None = None,
) -> NDArray[np.float64]: ...

@final
class TpeState:
    def __new__(cls) -> TpeState: ...

def importance(
    space: Space, x: NDArray[np.float64], y: NDArray[np.float64], quantile: float = 0.1
) -> list[float]: ...
