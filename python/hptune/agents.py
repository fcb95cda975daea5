"""Preset tuners for the agents our users run: RL algorithms and the optimization agent.

>>> tuner = RLHyperparameterTuner("self-healing")
>>> result = tuner.tune_rl_model(algorithm="ppo", objective_function=objective,
...                              method="bayesian", n_trials=100, maximize=True)
>>> result.agent_name, result.algorithm, result.method
('self-healing', 'ppo', 'bayesian')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hptune import presets
from hptune._errors import InvalidArgumentError
from hptune.samplers import method_name
from hptune.space import HyperparameterSpace, LessThan, SearchSpace
from hptune.tuners import MethodTuner, TuningResult

__all__ = [
    "RL_ALGORITHMS",
    "OptimizationAgentHyperparameterTuner",
    "RLHyperparameterTuner",
    "preset_space",
]

RL_ALGORITHMS = ("q_learning", "ppo", "dqn")
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
        d = p.as_dict()
        params[p.name] = HyperparameterSpace(
            name=str(d["name"]),
            param_type=d["param_type"],  # type: ignore[arg-type]
            min_value=d["min_value"],  # type: ignore[arg-type]
            max_value=d["max_value"],  # type: ignore[arg-type]
            log_scale=bool(d["log_scale"]),
            default=p.default if with_defaults else None,
        )
    if overrides is not None:
        items = overrides.values() if isinstance(overrides, Mapping) else overrides
        for o in items:
            if not isinstance(o, HyperparameterSpace):
                raise InvalidArgumentError(
                    f"search_space overrides must be HyperparameterSpace, got {type(o).__name__}"
                )
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


def _result_with(result: TuningResult, **attrs: Any) -> TuningResult:
    result.metadata.update(attrs)
    return result


class RLHyperparameterTuner:
    """Tunes an RL agent's hyperparameters from the Q-learning, PPO or DQN preset.

    ``agent_name`` is kept with every result. Extra keyword arguments of
    :meth:`tune_rl_model` reach the tuner (``seed``, ``storage``, ``n_jobs``, ``pruner``, ...).
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
    ) -> SearchSpace:
        """The algorithm's preset space with ``search_space`` overriding or extending it."""
        return SearchSpace(preset_space(self.algorithm_key(algorithm), search_space))

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
        **tuner_kwargs: Any,
    ) -> TuningResult:
        """Tune ``objective_function`` (params -> score) over the algorithm's preset."""
        key = self.algorithm_key(algorithm)
        m = method_name(method)
        tuner = MethodTuner(
            self.search_space(key, search_space),
            objective_function,
            maximize,
            n_trials,
            method=m,
            method_options=method_options,
            **tuner_kwargs,
        )
        result = _result_with(tuner.tune(), agent_name=self.agent_name, algorithm=key, method=m)
        self.results.append(result)
        return result


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
        **tuner_kwargs: Any,
    ) -> TuningResult:
        """Tune ``objective_function`` (params -> cost, minimised by default) over the preset."""
        m = method_name(method)
        space = self.search_space(search_space)
        tuner = MethodTuner(
            space,
            objective_function,
            maximize,
            n_trials,
            method=m,
            method_options=method_options,
            **tuner_kwargs,
        )
        result = _result_with(
            tuner.tune(), agent_name=self.agent_name, algorithm=self.PRESET, method=m
        )
        self.results.append(result)
        return result
