"""Preset tuners for the agents our users run: RL algorithms and the optimization agent.

>>> tuner = RLHyperparameterTuner("self-healing")
>>> result = tuner.tune_rl_model(algorithm="ppo", objective_function=objective,
...                              method="bayesian", n_trials=100, maximize=True)
>>> result.agent_name, result.algorithm, result.method
('self-healing', 'ppo', 'bayesian')
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hptune import presets
from hptune._errors import InvalidArgumentError
from hptune._multi_objective import hypervolume
from hptune.intensify import Intensifier
from hptune.objectives._autoscaling import SLO_METRICS, check_slo_metric
from hptune.samplers import method_name
from hptune.space import AtMost, HyperparameterSpace, LessThan, SearchSpace
from hptune.study import Study, create_study
from hptune.trial import HyperparameterConfig, TrialRecord
from hptune.tuners import MethodTuner, TuningResult
from hptune.validation import race

__all__ = [
    "RL_ALGORITHMS",
    "RL_STARTUP_TRIALS",
    "SELECTIONS",
    "OptimizationAgentHyperparameterTuner",
    "ParetoResult",
    "RLHyperparameterTuner",
    "preset_space",
]

RL_ALGORITHMS = ("q_learning", "ppo", "dqn")
SELECTIONS = ("auto", "race", "intensify", "best")
# Trials of a noisy RL objective are few and expensive: model-based methods start modelling
# after this many (SB3's defaults among them) unless ``method_options`` says otherwise, as
# rl-baselines3-zoo does; the library-wide default of 10 would spend most small budgets at random.
RL_STARTUP_TRIALS = 5
# Seeds per config by default: intensification's incumbent runs on at most 4 (the search's and
# 3 fresh ones, as measured in benches/bench_rl.py), the race's candidates on 6 fresh ones.
INTENSIFY_SEEDS = 4
RACE_SEEDS = 6
_ALGORITHM_ALIASES = {"q-learning": "q_learning", "qlearning": "q_learning"}


def preset_space(
    preset: str,
    overrides: Mapping[str, HyperparameterSpace] | Iterable[HyperparameterSpace] | None = None,
    *,
    with_defaults: bool = True,
) -> list[HyperparameterSpace]:
    """The preset's parameters as :class:`HyperparameterSpace`, with ``overrides`` applied.

    An override with a preset's name replaces that range; one with a new name extends the
    preset. Each preset parameter carries its default value.
    """
    params: dict[str, HyperparameterSpace] = {}
    for p in presets.get(preset).values():
        params[p.name] = HyperparameterSpace(
            **p.as_dict(), default=p.default if with_defaults else None
        )
    for o in _overrides(overrides):
        base = params.get(o.name)
        if base is not None and base.default is not None and o.default is None:
            keep = base.default if o.contains(base.default) else None
            o = HyperparameterSpace(
                o.name,
                o.param_type,
                o.min_value,
                o.max_value,
                o.choices,
                o.log_scale,
                o.step,
                keep,
            )
        params[o.name] = o
    return list(params.values())


def _overrides(
    overrides: Mapping[str, HyperparameterSpace] | Iterable[HyperparameterSpace] | None,
) -> list[HyperparameterSpace]:
    """The overrides of :func:`preset_space` as a list, each checked to be a parameter."""
    if overrides is None:
        return []
    items = list(overrides.values() if isinstance(overrides, Mapping) else overrides)
    for o in items:
        if not isinstance(o, HyperparameterSpace):
            raise InvalidArgumentError(
                f"search_space overrides must be HyperparameterSpace, got {type(o).__name__}"
            )
    return items


def _capped(param: HyperparameterSpace, high: float) -> HyperparameterSpace:
    """``param`` (numeric) with its upper end lowered to ``high`` where that is below it; the
    new end never falls below the default, and a cap at or below the lower end changes
    nothing."""
    if param.min_value is None or param.max_value is None:
        return param
    floor = float(param.min_value if param.default is None else param.default)
    cap = max(high, floor)
    if param.param_type == "int":
        cap = float(math.floor(cap))
    if cap >= float(param.max_value) or cap <= float(param.min_value):
        return param
    return dataclasses.replace(param, max_value=int(cap) if param.param_type == "int" else cap)


def _timestep_budget(objective: Any, max_timesteps: object) -> Callable[[], bool]:
    """Whether ``objective.timesteps_used`` has reached the budget (the arguments checked)."""
    if isinstance(max_timesteps, bool) or not isinstance(max_timesteps, int) or max_timesteps < 1:
        raise InvalidArgumentError(
            f"max_timesteps must be an int >= 1 or None, got {max_timesteps!r}"
        )
    if not isinstance(getattr(objective, "timesteps_used", None), int):
        raise InvalidArgumentError(
            "max_timesteps needs an objective that counts the environment steps it trained in "
            "an int attribute timesteps_used (hptune.objectives.sb3_objective does); "
            f"{type(objective).__name__} has none"
        )

    def spent() -> bool:
        return int(objective.timesteps_used) >= max_timesteps

    return spent


def _stop_when(spent: Callable[[], bool]) -> Callable[[Any, Any], None]:
    """A callback that stops the study once ``spent()``."""

    def stop(study: Any, record: Any) -> None:
        if spent():
            study.stop()

    return stop


def _result_with(result: TuningResult, **attrs: Any) -> TuningResult:
    result.metadata.update(attrs)
    return result


class RLHyperparameterTuner:
    """Tunes an RL agent's hyperparameters from the Q-learning, PPO or DQN preset.

    ``agent_name`` is kept with every result. Extra keyword arguments of
    :meth:`tune_rl_model` reach the tuner (``seed``, ``storage``, ``n_jobs``, ``pruner``, ...).

    With a Stable-Baselines3 objective (:func:`hptune.objectives.sb3_objective`) the space is
    the SB3-faithful preset (``ppo_sb3`` / ``dqn_sb3``: SB3's own parameters, SB3's defaults,
    ``batch_size <= n_steps * n_envs`` kept by every sampler), SB3's defaults are the first
    trial, the GP treats the objective as noisy, and the final
    config is chosen by a race on fresh seeds (:func:`hptune.validation.race`) among the best
    trials and the defaults, not by the luckiest single observation.
    """

    def __init__(self, agent_name: str = "agent") -> None:
        if not isinstance(agent_name, str) or not agent_name:
            raise InvalidArgumentError(f"agent_name must be a non-empty string, got {agent_name!r}")
        self.agent_name = agent_name
        self.results: list[TuningResult] = []

    @staticmethod
    def algorithm_key(algorithm: str) -> str:
        """The canonical algorithm name, or InvalidArgumentError listing the valid ones."""
        key = _ALGORITHM_ALIASES.get(str(algorithm).lower(), str(algorithm).lower())
        if key not in RL_ALGORITHMS:
            raise InvalidArgumentError(
                f"unknown algorithm {algorithm!r}; allowed: {', '.join(RL_ALGORITHMS)}"
            )
        return key

    def search_space(
        self,
        algorithm: str,
        search_space: Mapping[str, HyperparameterSpace]
        | Iterable[HyperparameterSpace]
        | None = None,
        *,
        preset: str | None = None,
        n_envs: int = 1,
        total_timesteps: int | None = None,
    ) -> SearchSpace:
        """The preset's space (default: the algorithm's) with ``search_space`` overriding or
        extending it, and the preset's constraints (``n_envs`` scales PPO's rollout).

        With ``total_timesteps`` (a trial's training length) the preset's ranges that only
        make sense inside the run are capped (``presets.SB3_BUDGET_BOUNDS``: DQN's
        ``learning_starts`` and ``target_update_interval`` at half the run, never below the
        default, so that every trial trains and syncs its target network); a range given in
        ``search_space`` is kept as given.
        """
        key = self.algorithm_key(algorithm)
        name = presets.canonical(preset) if preset is not None else key
        overrides = _overrides(search_space)
        params = preset_space(name, overrides)
        if total_timesteps is not None:
            if (
                isinstance(total_timesteps, bool)
                or not isinstance(total_timesteps, int)
                or total_timesteps < 1
            ):
                raise InvalidArgumentError(
                    f"total_timesteps must be an int >= 1 or None, got {total_timesteps!r}"
                )
            overridden = {p.name for p in overrides}
            bounds = {
                n: f for n, f in presets.SB3_BUDGET_BOUNDS.get(name, ()) if n not in overridden
            }
            params = [
                _capped(p, bounds[p.name] * total_timesteps) if p.name in bounds else p
                for p in params
            ]
        constraints = []
        names = {p.name for p in params}
        for lower, upper, factor in presets.SB3_CONSTRAINTS.get(name, ()):
            if lower in names and upper in names:
                constraints.append(
                    AtMost(lower, upper, float(n_envs if factor is None else factor))
                )
        return SearchSpace(params, constraints)

    def tune_rl_model(
        self,
        algorithm: str,
        objective_function: Callable[..., Any],
        method: str = "bayesian",
        n_trials: int | None = 100,
        maximize: bool = True,
        *,
        search_space: Mapping[str, HyperparameterSpace]
        | Iterable[HyperparameterSpace]
        | None = None,
        method_options: dict[str, Any] | None = None,
        preset: str | None = None,
        selection: str = "auto",
        selection_top_k: int = 4,
        selection_seeds: int | None = None,
        max_timesteps: int | None = None,
        **tuner_kwargs: Any,
    ) -> TuningResult:
        """Tune ``objective_function`` (params -> score) over the algorithm's preset.

        ``max_timesteps`` is a training budget for the search in environment steps: no new
        trial starts once the objective has trained that many (it counts them in
        ``timesteps_used``, as :func:`~hptune.objectives.sb3_objective` does), so trials that
        a pruner stops early leave room for more trials (``n_trials`` stays a cap). The
        race of ``selection="race"`` comes on top of that budget; intensification's
        re-evaluations count towards it. With a noisy objective,
        ``bayesian`` and ``tpe`` start modelling after ``RL_STARTUP_TRIALS`` trials unless
        ``method_options`` sets ``n_startup_trials``, and ``bayesian`` is ``noisy`` unless
        ``method_options`` says otherwise. (``learn_from_pruned`` is not turned on: on SB3 DQN
        it changed nothing, CartPole 134.9 vs 135.1, Acrobot the defaults both times.)

        ``preset`` defaults to the objective's own (``objective.preset``, e.g. ``ppo_sb3``) or
        else the algorithm's. ``selection``: ``"intensify"`` re-evaluates during the search
        (:class:`~hptune.intensify.Intensifier`): each completed trial that beats the
        incumbent (the preset's defaults first) runs on the incumbent's fresh seeds (up to
        ``selection_seeds - 1``, 3 by default) and replaces it only with a better mean over
        them; the re-evaluations are trials of the study (the sampler models them), come on top
        of ``n_trials`` (a cap on the search's own trials) and count towards
        ``max_timesteps``, and the final incumbent is
        ``best_config`` (its ``score`` is that mean; the search's best observation stays in
        ``metadata["best_observed"]``, the re-evaluations in ``metadata["selection"]``).
        ``"race"`` re-evaluates the ``selection_top_k`` best configs and the preset defaults
        on up to ``selection_seeds`` (6) fresh seeds after the search and returns the best
        mean; ``"best"`` keeps the best observation; ``"auto"`` (the default) intensifies when
        the objective says it is noisy (``objective.noisy``) and keeps the best observation
        otherwise. Intensification is the default for noisy objectives because over 10 SB3
        tuning runs (DQN and PPO, CartPole and Acrobot) it chose a better agent on fresh seeds
        than the race in 7 (benches/README.md), with a pruner's first rung at half the run: on
        DQN at that budget a rung at a quarter mostly ranks luck.
        """
        key = self.algorithm_key(algorithm)
        m = method_name(method)
        if selection not in SELECTIONS:
            raise InvalidArgumentError(
                f"selection must be one of {', '.join(SELECTIONS)}, got {selection!r}"
            )
        noisy = bool(getattr(objective_function, "noisy", False))
        if preset is None:
            preset = getattr(objective_function, "preset", None)
        length = getattr(objective_function, "total_timesteps", None)
        space = self.search_space(
            key,
            search_space,
            preset=preset,
            n_envs=int(getattr(objective_function, "n_envs", 1)),
            total_timesteps=length if isinstance(length, int) and length >= 1 else None,
        )
        options = dict(method_options or {})
        if noisy and m == "bayesian":
            options.setdefault("noisy", True)
        if noisy and m in ("bayesian", "tpe") and "n_initial" not in options:
            options.setdefault("n_startup_trials", RL_STARTUP_TRIALS)
        defaults = space.defaults()
        if noisy and defaults is not None and "initial_configs" not in tuner_kwargs:
            tuner_kwargs["initial_configs"] = [defaults]
        seed = int(tuner_kwargs.get("seed") or 0)
        spent = None
        if max_timesteps is not None:
            spent = _timestep_budget(objective_function, max_timesteps)
        callbacks = list(tuner_kwargs.get("callbacks", ()))
        intensifier = None
        if selection == "intensify" or (selection == "auto" and noisy):
            intensifier = Intensifier(
                objective_function,
                seed=seed,
                max_seeds=INTENSIFY_SEEDS if selection_seeds is None else selection_seeds,
                baseline=defaults,
                stop_when=spent,
            )
            callbacks.append(intensifier)
        if spent is not None:
            callbacks.append(_stop_when(spent))
        tuner_kwargs["callbacks"] = callbacks
        tuner = MethodTuner(
            space,
            objective_function,
            maximize,
            n_trials,
            method=m,
            method_options=options,
            **tuner_kwargs,
        )
        result = _result_with(tuner.tune(), agent_name=self.agent_name, algorithm=key, method=m)
        report = None
        if intensifier is not None:
            report = intensifier.report(maximize)
        elif selection == "race":
            report = race(
                result,
                objective_function,
                top_k=selection_top_k,
                n_seeds=RACE_SEEDS if selection_seeds is None else selection_seeds,
                seed=seed,
                baseline=defaults,
            )
        if report is not None and report.robust is not None:
            chosen = report.robust
            number = next(
                (t.number for t in result.completed_trials if t.params == chosen.params), None
            )
            result.metadata["best_observed"] = result.best_config
            result.metadata["selection"] = report
            result.best_config = HyperparameterConfig(dict(chosen.params), chosen.mean, number)
        self.results.append(result)
        return result


def _slo_bounds(slo: object) -> tuple[tuple[str, float], ...]:
    """``slo`` (``{figure: bound}``) checked: known figures, finite bounds."""
    if not isinstance(slo, Mapping) or not slo:
        raise InvalidArgumentError(
            f"slo must be a non-empty mapping of SLO figure to upper bound, e.g. "
            f"{{'slo_minutes': 60}}; allowed figures: {', '.join(SLO_METRICS)}; got {slo!r}"
        )
    bounds = []
    for metric, bound in slo.items():
        check_slo_metric(metric, "slo key")
        if (
            isinstance(bound, bool)
            or not isinstance(bound, (int, float))
            or not math.isfinite(bound)
        ):
            raise InvalidArgumentError(
                f"slo[{metric!r}] must be a finite number (the figure's upper bound), got {bound!r}"
            )
        bounds.append((str(metric), float(bound)))
    return tuple(bounds)


def _check_simulator(objective: object, argument: str) -> None:
    if not callable(getattr(objective, "simulate", None)):
        raise InvalidArgumentError(
            f"{argument} needs an objective with simulate(params, seed) returning the SLO figures "
            f"({', '.join(SLO_METRICS)}), such as hptune.objectives.autoscaling(); got "
            f"{type(objective).__name__}"
        )


class _SLORecording:
    """The simulator as a trial objective: stores the SLO figures in the trial's user_attrs and
    returns the cost, or ``(cost, figure)`` when ``metric`` is set (a two-objective study).

    A class, not a closure, so that worker processes can unpickle it.
    """

    accepts_trial = True

    def __init__(self, simulator: Any, metric: str | None = None) -> None:
        self.simulator = simulator
        self.metric = metric

    def __call__(self, trial: Any, seed: int | None = None) -> float | tuple[float, float]:
        result = self.simulator.simulate(trial.params, seed)
        for key, value in result.user_attrs().items():
            trial.set_user_attr(key, value)
        if self.metric is None:
            return float(result.cost)
        return float(result.cost), float(result.slo_value(self.metric))


class _SLOConstraints:
    """``constraints_func`` of an SLO: ``figure - bound`` per bounded figure (``<= 0`` holds)."""

    def __init__(self, bounds: tuple[tuple[str, float], ...]) -> None:
        self.bounds = bounds

    def __call__(self, record: TrialRecord) -> list[float]:
        return [float(record.user_attrs[metric]) - bound for metric, bound in self.bounds]


@dataclass
class ParetoResult:
    """The cost-versus-SLO trade-off a two-objective run found.

    ``front`` holds the non-dominated trials, cheapest first (``values`` is ``(cost, figure)``);
    ``hypervolume`` is the area they dominate up to ``reference`` (both minimised).
    """

    front: list[TrialRecord]
    metric: str
    reference: tuple[float, float]
    hypervolume: float
    method: str
    study: Study | None = field(default=None, repr=False, compare=False)
    metadata: dict[str, Any] = field(default_factory=dict)

    def points(self) -> list[tuple[float, float]]:
        """``(cost, figure)`` of each front trial, cheapest first."""
        return [(float(t.values[0]), float(t.values[1])) for t in self.front if t.values]

    def cheapest_within(self, bound: float) -> TrialRecord | None:
        """The cheapest front trial whose SLO figure is at most ``bound`` (None if none is)."""
        for t in self.front:
            if t.values and t.values[1] <= bound:
                return t
        return None


class OptimizationAgentHyperparameterTuner:
    """Tunes the optimization agent's cost weights, penalties and scaling thresholds.

    ``scale_down_cpu_threshold < scale_up_cpu_threshold`` holds for every suggestion, whatever
    ranges are given: the space carries a :class:`~hptune.space.LessThan` constraint that every
    sampler respects (no rejection, no retry).
    """

    PRESET = "optimization_agent"

    def __init__(self, agent_name: str = "optimization-agent") -> None:
        self.agent_name = agent_name
        self.results: list[TuningResult] = []

    def search_space(
        self,
        search_space: Mapping[str, HyperparameterSpace]
        | Iterable[HyperparameterSpace]
        | None = None,
    ) -> SearchSpace:
        """The preset space (with overrides) and its threshold-ordering constraint."""
        params = {p.name: p for p in preset_space(self.PRESET, search_space)}
        down = params.get("scale_down_cpu_threshold")
        up = params.get("scale_up_cpu_threshold")
        constraints: list[LessThan] = []
        if down is not None and up is not None:
            c = LessThan("scale_down_cpu_threshold", "scale_up_cpu_threshold")
            assert down.min_value is not None and down.max_value is not None
            assert up.min_value is not None and up.max_value is not None
            if up.max_value <= down.min_value + c.margin:
                raise InvalidArgumentError(
                    "scale_down_cpu_threshold must stay below scale_up_cpu_threshold, but the "
                    f"ranges [{down.min_value}, {down.max_value}] and "
                    f"[{up.min_value}, {up.max_value}] leave no room"
                )
            if up.min_value <= down.min_value + c.margin:
                # The lowest scale-up thresholds admit no scale-down threshold: drop them.
                new_min = down.min_value + 2 * c.margin
                keep = up.default if up.default is not None and up.default >= new_min else None
                params[up.name] = HyperparameterSpace(
                    up.name,
                    up.param_type,
                    new_min,
                    up.max_value,
                    log_scale=up.log_scale,
                    default=keep,
                )
            constraints.append(c)
        return SearchSpace(list(params.values()), constraints)

    def tune_optimization_agent(
        self,
        objective_function: Callable[..., Any],
        method: str = "bayesian",
        n_trials: int | None = 100,
        maximize: bool = False,
        *,
        search_space: Mapping[str, HyperparameterSpace]
        | Iterable[HyperparameterSpace]
        | None = None,
        method_options: dict[str, Any] | None = None,
        slo: Mapping[str, float] | None = None,
        **tuner_kwargs: Any,
    ) -> TuningResult:
        """Tune ``objective_function`` (params -> cost, minimised by default) over the preset.

        ``slo={figure: bound}`` minimises the cost subject to each SLO figure of the simulator
        (``slo_minutes``, ``p95_latency_ms``; :func:`hptune.objectives.autoscaling`) staying at
        or below its bound: every trial stores its figures in ``user_attrs``, an outcome
        constraint ``figure - bound <= 0`` steers TPE and the GP, the preset defaults run first
        (unless ``initial_configs`` is given), and ``best_config`` is the cheapest feasible
        trial (``metadata["feasible"]`` says whether one was found; if none, the one closest to
        feasible).
        """
        m = method_name(method)
        space = self.search_space(search_space)
        objective: Callable[..., Any] = objective_function
        bounds: tuple[tuple[str, float], ...] = ()
        if slo is not None:
            bounds = _slo_bounds(slo)
            _check_simulator(objective_function, "slo")
            if maximize:
                raise InvalidArgumentError(
                    "slo minimises the cost subject to the SLO; maximize must be False"
                )
            if tuner_kwargs.get("constraints_func") is not None:
                raise InvalidArgumentError(
                    "give slo or constraints_func, not both (slo builds the constraints_func)"
                )
            objective = _SLORecording(objective_function)
            tuner_kwargs["constraints_func"] = _SLOConstraints(bounds)
            defaults = space.defaults()
            if defaults is not None and "initial_configs" not in tuner_kwargs:
                tuner_kwargs["initial_configs"] = [defaults]
        tuner = MethodTuner(
            space,
            objective,
            maximize,
            n_trials,
            method=m,
            method_options=method_options,
            **tuner_kwargs,
        )
        result = _result_with(
            tuner.tune(), agent_name=self.agent_name, algorithm=self.PRESET, method=m
        )
        if bounds:
            best = result.best_config.trial_number
            record = next((t for t in result.trials if t.number == best), None)
            result.metadata["slo"] = dict(bounds)
            result.metadata["feasible"] = bool(record is not None and record.feasible)
        self.results.append(result)
        return result

    def tune_cost_vs_slo(
        self,
        objective_function: Any,
        metric: str = "slo_minutes",
        method: str = "tpe",
        n_trials: int = 100,
        *,
        seed: int | None = None,
        search_space: Mapping[str, HyperparameterSpace]
        | Iterable[HyperparameterSpace]
        | None = None,
        method_options: dict[str, Any] | None = None,
        reference: tuple[float, float] | None = None,
        show_progress: bool | None = None,
        **study_kwargs: Any,
    ) -> ParetoResult:
        """Minimise cost and an SLO figure together; return the Pareto front of the trade-off.

        ``objective_function`` is the simulator (:func:`hptune.objectives.autoscaling`);
        ``metric`` is ``"slo_minutes"`` or ``"p95_latency_ms"``. ``method`` is ``"tpe"``
        (MOTPE) or ``"random"``. The preset defaults run first. ``reference`` bounds the
        hypervolume; by default it is the worst cost and figure among the complete trials,
        each pushed out by a tenth of its range, so every front point counts. Extra keyword
        arguments reach :func:`~hptune.create_study` (``storage``, ``study_name``, ...).
        """
        metric = check_slo_metric(metric)
        _check_simulator(objective_function, "tune_cost_vs_slo")
        if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
            raise InvalidArgumentError(f"n_trials must be an int >= 1, got {n_trials!r}")
        given_reference: tuple[float, ...] = ()
        if reference is not None:
            try:
                given_reference = tuple(float(x) for x in reference)
            except (TypeError, ValueError):
                given_reference = ()
            if len(given_reference) != 2 or not all(map(math.isfinite, given_reference)):
                raise InvalidArgumentError(
                    f"reference must be (cost, {metric}), two finite numbers, got {reference!r}"
                )
        m = method_name(method)
        space = self.search_space(search_space)
        study = create_study(
            space,
            m,
            directions=["minimize", "minimize"],
            seed=seed,
            **dict(method_options or {}),
            **study_kwargs,
        )
        defaults = space.defaults()
        if defaults is not None:
            study.enqueue(defaults)
        study.optimize(
            _SLORecording(objective_function, metric),
            n_trials=n_trials,
            show_progress=show_progress,
        )
        front = sorted(study.best_trials, key=lambda t: tuple(t.values or ()))
        done = [t.values for t in study.trials if t.values]
        if reference is None:
            worst = [max(v[i] for v in done) for i in range(2)]
            best = [min(v[i] for v in done) for i in range(2)]
            # A tenth of the range beyond the worst (and a hair more when the range is 0).
            ref = tuple(
                w + 0.1 * (w - b) + 1e-9 * (1.0 + abs(w)) for w, b in zip(worst, best, strict=True)
            )
        else:
            ref = given_reference
        points = [list(t.values) for t in front if t.values]
        return ParetoResult(
            front=front,
            metric=metric,
            reference=(ref[0], ref[1]),
            hypervolume=hypervolume(points, list(ref)) if points else 0.0,
            method=m,
            study=study,
            metadata={"agent_name": self.agent_name, "algorithm": self.PRESET},
        )
