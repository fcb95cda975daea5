"""Search methods. ``make_sampler("random" | "sobol" | "grid" | ..., **options)`` builds one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hptune._errors import InvalidArgumentError
from hptune.samplers._base import Sampler
from hptune.samplers.bayesian import BayesianSampler
from hptune.samplers.grid import GridSampler
from hptune.samplers.random import RandomSampler, SobolSampler
from hptune.samplers.tpe import TPESampler

__all__ = [
    "METHODS",
    "BayesianSampler",
    "GridSampler",
    "RandomSampler",
    "Sampler",
    "SobolSampler",
    "TPESampler",
    "make_sampler",
    "method_name",
]

METHODS: dict[str, type[Sampler]] = {
    "random": RandomSampler,
    "sobol": SobolSampler,
    "grid": GridSampler,
    "bayesian": BayesianSampler,
    "tpe": TPESampler,
}


def method_name(method: object) -> str:
    """The method a name stands for (any case), or an error listing the methods."""
    name = method.lower() if isinstance(method, str) else None
    if name is None or name not in METHODS:
        raise InvalidArgumentError(
            f"unknown method {method!r}; allowed: {', '.join(repr(m) for m in METHODS)}"
        )
    return name


# Options renamed since studies were first stored: method -> {old name: current name}.
_RENAMED_OPTIONS = {"bayesian": {"n_initial": "n_startup_trials"}}


def stored_options(method: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The stored options of a study under their current names, so that a study stored before
    a rename loads as it was, without a deprecation warning."""
    renamed = _RENAMED_OPTIONS.get(method, {})
    return {renamed.get(k, k): v for k, v in options.items()}


def make_sampler(method: str | Sampler, seed: int | None = None, **options: Any) -> Sampler:
    """A sampler for a method name (or the sampler itself, when one is given)."""
    if isinstance(method, Sampler):
        if options:
            raise InvalidArgumentError(
                f"options {sorted(options)} given with a sampler instance; set them on the sampler"
            )
        return method
    cls = METHODS[method_name(method)]
    try:
        return cls(seed=seed, **options)
    except TypeError as exc:
        raise InvalidArgumentError(f"method {method!r}: {exc}") from None
