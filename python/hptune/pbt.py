"""Population-based training (Jaderberg et al., 2017): tune hyperparameters during one run.

A population of members trains side by side, each with its own hyperparameters and its own
state (the model: weights, Q-table, optimiser...). Every ``ready_interval`` steps the members
are ranked by their latest score; each member of the bottom ``quantile_fraction`` *exploits* a
member of the top fraction drawn at random, unless the two score alike (its state is restored
from the donor's checkpoint, its hyperparameters copied), and then *explores*: each
hyperparameter is resampled from the space with probability ``resample_probability``, else
multiplied by one of ``perturbation_factors`` (0.8 or 1.2; categoricals move to a neighbouring
choice), clipped to its range. The member then goes on training with the new values, so the run
follows a hyperparameter *schedule*.

The user supplies callbacks: ``step(member) -> score`` trains ``member.state`` for one interval
with ``member.hyperparameters`` and returns its score; ``checkpoint(member) -> state`` and
``restore(member, state)`` copy a model (by default a deep copy of ``member.state``); ``init(
member) -> state`` builds a fresh model.

>>> from hptune import HyperparameterSpace
>>> from hptune.pbt import PopulationBasedTraining
>>> space = [HyperparameterSpace("lr", "float", 0.01, 1.0, log_scale=True)]
>>> def step(member):  # climbs towards 10 faster with a larger lr
...     member.state = member.state + member.hyperparameters["lr"] * (10 - member.state)
...     return -abs(10 - member.state)
>>> result = PopulationBasedTraining(space, 4, seed=0).run(step, 20, init=lambda m: 0.0)
>>> result.best_score > -0.1, result.best_hyperparameters["lr"] > 0.2
(True, True)
"""

from __future__ import annotations

import copy
import logging
import math
import random
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hptune._checks import check_flag
from hptune._errors import InvalidArgumentError
from hptune.space import HyperparameterSpace, SearchSpace, SearchSpaceLike

__all__ = ["Member", "PBTEvent", "PBTResult", "PopulationBasedTraining"]

logger = logging.getLogger("hptune.pbt")


@dataclass
class Member:
    """One member of the population.

    ``history`` holds ``(step, hyperparameters, score)`` for every interval of this member's
    lineage: on exploiting, a member inherits its donor's history with its state, so the best
    member's history is the hyperparameter schedule that produced it.
    """

    id: int
    hyperparameters: dict[str, Any]
    state: Any = None
    score: float | None = None
    steps: int = 0
    parent: int | None = None
    history: list[tuple[int, dict[str, Any], float]] = field(default_factory=list)


@dataclass(frozen=True)
class PBTEvent:
    """One exploit-and-explore: ``recipient`` took ``donor``'s state and perturbed its values."""

    step: int
    recipient: int
    donor: int
    recipient_score: float
    donor_score: float
    old_hyperparameters: dict[str, Any]
    new_hyperparameters: dict[str, Any]
    explored: dict[str, str]  # name -> "perturbed x0.8" | "perturbed x1.2" | "resampled" | ...


@dataclass
class PBTResult:
    """The population at the end, every exploit event, and the best member."""

    members: list[Member]
    events: list[PBTEvent]
    steps: int
    maximize: bool
    seed: int

    @property
    def best(self) -> Member:
        """The member with the best latest score."""
        scored = [m for m in self.members if m.score is not None]
        if not scored:
            raise InvalidArgumentError("no member has a score")
        sign = 1.0 if self.maximize else -1.0
        return max(scored, key=lambda m: (sign * float(m.score or 0.0), -m.id))

    @property
    def best_score(self) -> float:
        score = self.best.score
        assert score is not None
        return score

    @property
    def best_hyperparameters(self) -> dict[str, Any]:
        """The values the best member trained with last."""
        return dict(self.best.hyperparameters)

    @property
    def schedule(self) -> list[tuple[int, dict[str, Any]]]:
        """The best member's hyperparameters per step, from its lineage."""
        return [(s, dict(hp)) for s, hp, _ in self.best.history]


def _default_checkpoint(member: Member) -> Any:
    return copy.deepcopy(member.state)


def _default_restore(member: Member, state: Any) -> None:
    # A copy again: one checkpoint may be restored into several members.
    member.state = copy.deepcopy(state)


def _finite_score(value: Any, member: Member) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"step() returned {value!r} for member {member.id}, not a number"
        ) from None
    if math.isnan(v):
        raise InvalidArgumentError(f"step() returned NaN for member {member.id}")
    return v


class PopulationBasedTraining:
    """Population-based training over ``space`` (see the module docstring).

    ``initial`` gives starting configurations (the rest of the population is drawn from the
    space with the seed). Ties in ranking go to the lower member id, and all randomness comes
    from ``seed``, so a run with deterministic callbacks is reproducible.
    """

    def __init__(
        self,
        space: SearchSpaceLike,
        population_size: int = 8,
        *,
        ready_interval: int = 1,
        quantile_fraction: float = 0.25,
        resample_probability: float = 0.25,
        perturbation_factors: Sequence[float] = (0.8, 1.2),
        maximize: bool = True,
        seed: int | None = None,
        initial: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        self.space = SearchSpace(space)
        for name, value, low in (
            ("population_size", population_size, 2),
            ("ready_interval", ready_interval, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidArgumentError(f"{name} must be an int >= {low}, got {value!r}")
        if not 0.0 < quantile_fraction <= 0.5:
            raise InvalidArgumentError(
                f"quantile_fraction must be in (0, 0.5], got {quantile_fraction!r}"
            )
        if not 0.0 <= resample_probability <= 1.0:
            raise InvalidArgumentError(
                f"resample_probability must be in [0, 1], got {resample_probability!r}"
            )
        factors = tuple(float(f) for f in perturbation_factors)
        if not factors or any(not (math.isfinite(f) and f > 0) for f in factors):
            raise InvalidArgumentError(
                f"perturbation_factors must be positive numbers, got {perturbation_factors!r}"
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise InvalidArgumentError(f"seed must be a non-negative int or None, got {seed!r}")
        self.population_size = population_size
        self.ready_interval = ready_interval
        self.quantile_fraction = float(quantile_fraction)
        self.resample_probability = float(resample_probability)
        self.perturbation_factors = factors
        self.maximize = check_flag("maximize", maximize)
        # The only entropy: a run without a seed draws one and reports it in the result.
        self.seed = seed if seed is not None else secrets.randbits(63)
        self.initial = [dict(c) for c in initial]
        if len(self.initial) > population_size:
            raise InvalidArgumentError(
                f"{len(self.initial)} initial configurations for a population of {population_size}"
            )
        for cfg in self.initial:
            self.space.params_to_row(cfg)
        self._rng = random.Random(self.seed)
        self._draws = 0

    # ----------------------------------------------------------------- sampling
    def _sample(self) -> dict[str, Any]:
        # Draws come from the space's own seeded stream, one "trial number" per draw.
        params = self.space.sample_random(self.seed, self._draws, 1)[0]
        self._draws += 1
        return params

    def _perturb_one(self, p: HyperparameterSpace, value: Any) -> tuple[Any, str]:
        rng = self._rng
        if rng.random() < self.resample_probability:
            return self._sample()[p.name], "resampled"
        if p.param_type == "categorical":
            assert p.choices is not None
            choices = list(p.choices)
            i = next(k for k, c in enumerate(choices) if c == value)
            j = min(len(choices) - 1, max(0, i + rng.choice((-1, 1))))
            return choices[j], f"moved to choice {j}"
        factor = rng.choice(self.perturbation_factors)
        assert p.min_value is not None
        assert p.max_value is not None
        new = float(value) * factor
        if p.step is not None:
            k = round((new - float(p.min_value)) / float(p.step))
            new = float(p.min_value) + k * float(p.step)
        new = min(float(p.max_value), max(float(p.min_value), new))
        if p.param_type == "int":
            new_int = round(new)
            if new_int == value and factor != 1.0:
                # A small int times 0.8 or 1.2 rounds back to itself; move by one instead.
                new_int = int(value) + (1 if factor > 1.0 else -1)
            new_int = min(int(p.max_value), max(int(p.min_value), new_int))
            return new_int, f"perturbed x{factor:g}"
        return new, f"perturbed x{factor:g}"

    def explore(self, hyperparameters: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Perturbed or resampled values (and what was done to each)."""
        out: dict[str, Any] = {}
        how: dict[str, str] = {}
        for p in self.space.params:
            out[p.name], how[p.name] = self._perturb_one(p, hyperparameters[p.name])
        try:
            self.space.params_to_row(out)
        except InvalidArgumentError:
            # A perturbation broke a constraint between parameters: draw afresh instead.
            out = self._sample()
            how = dict.fromkeys(out, "resampled (constraint)")
        return out, how

    # ----------------------------------------------------------------- the run
    def run(
        self,
        step: Callable[[Member], float],
        n_steps: int,
        *,
        init: Callable[[Member], Any] | None = None,
        checkpoint: Callable[[Member], Any] | None = None,
        restore: Callable[[Member, Any], None] | None = None,
        callback: Callable[[int, list[Member]], None] | None = None,
    ) -> PBTResult:
        """Train the population for ``n_steps`` intervals and return the result.

        A step that raises scores its member as the worst, so it is replaced at the next
        ready point (the error is logged); ``callback(step, members)`` runs after each round.
        """
        if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
            raise InvalidArgumentError(f"n_steps must be a positive int, got {n_steps!r}")
        save = checkpoint if checkpoint is not None else _default_checkpoint
        load = restore if restore is not None else _default_restore
        configs = [dict(c) for c in self.initial]
        while len(configs) < self.population_size:
            configs.append(self._sample())
        members = [Member(i, cfg) for i, cfg in enumerate(configs)]
        if init is not None:
            for m in members:
                m.state = init(m)
        worst = -math.inf if self.maximize else math.inf
        events: list[PBTEvent] = []
        for t in range(n_steps):
            for m in members:
                try:
                    score = _finite_score(step(m), m)
                except Exception:
                    logger.exception("step of member %d failed; it scores as the worst", m.id)
                    score = worst
                m.score = score
                m.steps += 1
                m.history.append((t, dict(m.hyperparameters), score))
            if callback is not None:
                callback(t, members)
            if (t + 1) % self.ready_interval == 0 and t + 1 < n_steps:
                events.extend(self._exploit_and_explore(t, members, save, load))
        return PBTResult(members, events, n_steps, self.maximize, self.seed)

    def _exploit_and_explore(
        self,
        t: int,
        members: list[Member],
        save: Callable[[Member], Any],
        load: Callable[[Member, Any], None],
    ) -> list[PBTEvent]:
        sign = 1.0 if self.maximize else -1.0
        ranked = sorted(members, key=lambda m: (-sign * float(m.score or 0.0), m.id))
        n = max(1, int(len(members) * self.quantile_fraction))
        top, bottom = ranked[:n], ranked[-n:]
        saved: dict[int, Any] = {}
        events = []
        for member in bottom:
            donor = self._rng.choice(top)
            if sign * float(donor.score or 0.0) <= sign * float(member.score or 0.0):
                # A tie (early on, when every member still scores zero, say) is no evidence
                # that the donor is better; copying it would only cost diversity.
                continue
            if donor.id not in saved:
                saved[donor.id] = save(donor)
            load(member, saved[donor.id])
            new, how = self.explore(donor.hyperparameters)
            events.append(
                PBTEvent(
                    t,
                    member.id,
                    donor.id,
                    float(member.score or 0.0),
                    float(donor.score or 0.0),
                    dict(member.hyperparameters),
                    dict(new),
                    how,
                )
            )
            member.hyperparameters = new
            member.score = donor.score
            member.parent = donor.id
            member.history = list(donor.history)
        return events
