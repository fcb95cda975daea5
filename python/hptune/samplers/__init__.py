"""Search methods. ``make_sampler("random" | "sobol" | "grid" | ..., **options)`` builds one."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hptune._errors import InvalidArgumentError
from hptune.samplers._base import Sampler
from hptune.samplers.bayesian import BayesianSampler
from hptune.samplers.grid import GridSampler
from hptune.samplers.random import RandomSampler, SobolSampler
from hptune.samplers.tpe import TPESampler

__all__ = [
    "METHODS",
    "REGISTRY",
    "BayesianSampler",
    "GridSampler",
    "Method",
    "RandomSampler",
    "Sampler",
    "SobolSampler",
    "TPESampler",
    "make_sampler",
    "method_name",
    "method_options",
]


@dataclass(frozen=True)
class Method:
    """One search method of the registry: its name, its sampler class and the options it takes.

    ``options`` are the sampler's keyword arguments besides ``seed``; ``renamed`` maps an old
    option name still accepted (with a deprecation warning from the sampler) to its new name.
    """

    name: str
    sampler: type[Sampler]
    options: tuple[str, ...]
    renamed: Mapping[str, str] = field(default_factory=dict)


def _method(name: str, sampler: type[Sampler], renamed: Mapping[str, str] | None = None) -> Method:
    renamed = dict(renamed or {})
    params = inspect.signature(sampler.__init__).parameters.values()
    options = tuple(
        p.name
        for p in params
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "seed" and p.name not in renamed
    )
    return Method(name, sampler, options, renamed)


# The one registry of search methods: create_study, the tuners, the services and the CLI look
# names up here.
REGISTRY: dict[str, Method] = {
    m.name: m
    for m in (
        _method("random", RandomSampler),
        _method("sobol", SobolSampler),
        _method("grid", GridSampler),
        _method("bayesian", BayesianSampler, {"n_initial": "n_startup_trials"}),
        _method("tpe", TPESampler),
    )
}

METHODS: dict[str, type[Sampler]] = {name: m.sampler for name, m in REGISTRY.items()}


def method_name(method: object) -> str:
    """The method a name stands for (any case), or an error listing the methods."""
    name = method.lower() if isinstance(method, str) else None
    if name is None or name not in METHODS:
        raise InvalidArgumentError(
            f"unknown method {method!r}; allowed: {', '.join(repr(m) for m in METHODS)}"
        )
    return name


def method_options(method: str) -> tuple[str, ...]:
    """The option names a method takes (besides ``seed``).

    >>> method_options("tpe")
    ('n_candidates', 'n_startup_trials', 'gamma', 'max_good', 'prior_weight')
    """
    return REGISTRY[method_name(method)].options


def stored_options(method: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The stored options of a study under their current names, so that a study stored before
    a rename loads as it was, without a deprecation warning."""
    spec = REGISTRY.get(method)
    renamed = spec.renamed if spec is not None else {}
    return {renamed.get(k, k): v for k, v in options.items()}


def make_sampler(method: str | Sampler, seed: int | None = None, **options: Any) -> Sampler:
    """A sampler for a method name (or the sampler itself, when one is given)."""
    if isinstance(method, Sampler):
        if options:
            raise InvalidArgumentError(
                f"options {sorted(options)} given with a sampler instance; set them on the sampler"
            )
        return method
    spec = REGISTRY[method_name(method)]
    unknown = sorted(k for k in options if k not in spec.options and k not in spec.renamed)
    if unknown:
        allowed = ", ".join(repr(o) for o in spec.options) or "none"
        raise InvalidArgumentError(
            f"method {method!r}: unknown option{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; allowed: {allowed}"
        )
    try:
        return spec.sampler(seed=seed, **options)
    except TypeError as exc:
        raise InvalidArgumentError(f"method {method!r}: {exc}") from None
