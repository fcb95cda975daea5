"""Stable-Baselines3 adapter: the ``ppo`` and ``dqn`` presets as SB3 arguments and objectives.

:func:`sb3_params` is pure Python and needs nothing installed; :func:`sb3_objective` trains with
SB3 (``pip install "hptune[sb3]"``), imported only when the objective is called.

**From epsilon_decay to exploration_fraction.** The preset describes exploration as in tabular
Q-learning: epsilon starts at ``epsilon`` and is multiplied by ``epsilon_decay`` after every
episode. SB3's DQN instead decays it linearly from ``exploration_initial_eps`` to
``exploration_final_eps`` over the first ``exploration_fraction`` of the training timesteps. The
adapter keeps the moment exploration bottoms out: the multiplicative schedule reaches the final
epsilon after ``k = ln(final / epsilon) / ln(epsilon_decay)`` episodes, that is ``k *
episode_steps`` timesteps, so ``exploration_fraction = k * episode_steps / total_timesteps``,
clipped to [1 / total_timesteps, 1]. Without a training length it assumes
:data:`DEFAULT_TRAINING_EPISODES` episodes, i.e. ``fraction = k / 1000``.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping
from typing import Any, Literal, cast

from hptune._errors import InvalidArgumentError, TrialPruned
from hptune.objectives._checks import as_int, as_number, as_seed, check_param_names
from hptune.objectives._protocol import ReportingTrial

__all__ = ["DEFAULT_TRAINING_EPISODES", "SB3Objective", "sb3_objective", "sb3_params"]

Algorithm = Literal["ppo", "dqn"]

DEFAULT_TRAINING_EPISODES = 1000
# SB3's own default for DQN.
DEFAULT_FINAL_EPS = 0.05

_PPO_KEYS = {
    "learning_rate": "learning_rate",
    "gamma": "gamma",
    "gae_lambda": "gae_lambda",
    "clip_epsilon": "clip_range",
    "value_coef": "vf_coef",
    "entropy_coef": "ent_coef",
}
_DQN_KEYS = ("learning_rate", "gamma", "epsilon", "epsilon_decay", "target_update_frequency")
_DQN_SB3_KEYS = (
    "learning_rate",
    "gamma",
    "exploration_initial_eps",
    "exploration_final_eps",
    "exploration_fraction",
    "target_update_interval",
)


def _algorithm(algorithm: str) -> Algorithm:
    key = algorithm.strip().lower() if isinstance(algorithm, str) else algorithm
    if key not in ("ppo", "dqn"):
        raise InvalidArgumentError(f"algorithm must be 'ppo' or 'dqn', got {algorithm!r}")
    return cast(Algorithm, key)


def _numbers(params: Mapping[str, Any], expected: tuple[str, ...], preset: str) -> dict[str, float]:
    check_param_names(params, expected, preset)
    values = {}
    for name in expected:
        values[name] = as_number(name, params[name])
    return values


def _check(name: str, value: float, low: float, high: float, *, low_open: bool = False) -> None:
    if value < low or value > high or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise InvalidArgumentError(f"{name}={value!r} is out of range {bracket}{low}, {high}]")


def exploration_fraction(
    epsilon: float,
    epsilon_decay: float,
    final_eps: float,
    *,
    total_timesteps: int | None = None,
    episode_steps: float | None = None,
) -> float:
    """The SB3 ``exploration_fraction`` matching a per-episode multiplicative epsilon decay."""
    if (total_timesteps is None) != (episode_steps is None):
        raise InvalidArgumentError("give both total_timesteps and episode_steps, or neither")
    if epsilon <= final_eps or epsilon_decay >= 1.0:
        # Nothing to decay, or a decay that never arrives: the end points of the schedule.
        episodes = 0.0 if epsilon <= final_eps else math.inf
    else:
        episodes = math.log(final_eps / epsilon) / math.log(epsilon_decay)
    if total_timesteps is None or episode_steps is None:
        fraction, smallest = episodes / DEFAULT_TRAINING_EPISODES, 1e-6
    else:
        if total_timesteps < 1 or episode_steps <= 0:
            raise InvalidArgumentError("total_timesteps and episode_steps must be positive")
        fraction, smallest = episodes * episode_steps / total_timesteps, 1.0 / total_timesteps
    # SB3's linear schedule divides by the fraction, so it must stay positive.
    return min(1.0, max(smallest, fraction))


def sb3_params(
    algorithm: str,
    params: Mapping[str, Any],
    *,
    total_timesteps: int | None = None,
    episode_steps: float | None = None,
    exploration_final_eps: float = DEFAULT_FINAL_EPS,
) -> dict[str, float | int]:
    """Map a ``ppo`` or ``dqn`` preset configuration onto SB3 constructor arguments.

    ``total_timesteps`` and ``episode_steps`` (a typical episode length) only matter for DQN's
    ``exploration_fraction``; see the module docstring for the derivation.

    >>> sb3_params("ppo", {"learning_rate": 3e-4, "gamma": 0.99, "gae_lambda": 0.95,
    ...                    "clip_epsilon": 0.2, "value_coef": 0.5, "entropy_coef": 0.01})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'learning_rate': 0.0003, 'gamma': 0.99, 'gae_lambda': 0.95, 'clip_range': 0.2,
     'vf_coef': 0.5, 'ent_coef': 0.01}
    """
    kind = _algorithm(algorithm)
    if kind == "ppo":
        values = _numbers(params, tuple(_PPO_KEYS), "ppo")
        _check("learning_rate", values["learning_rate"], 0.0, math.inf, low_open=True)
        for name in ("gamma", "gae_lambda"):
            _check(name, values[name], 0.0, 1.0)
        _check("clip_epsilon", values["clip_epsilon"], 0.0, math.inf, low_open=True)
        for name in ("value_coef", "entropy_coef"):
            _check(name, values[name], 0.0, math.inf)
        return {sb3: values[ours] for ours, sb3 in _PPO_KEYS.items()}

    values = _numbers(params, _DQN_KEYS, "dqn")
    _check("learning_rate", values["learning_rate"], 0.0, math.inf, low_open=True)
    _check("gamma", values["gamma"], 0.0, 1.0)
    _check("epsilon", values["epsilon"], 0.0, 1.0)
    _check("epsilon_decay", values["epsilon_decay"], 0.0, 1.0, low_open=True)
    _check("exploration_final_eps", exploration_final_eps, 0.0, 1.0)
    interval = round(values["target_update_frequency"])
    if interval < 1:
        raise InvalidArgumentError(
            f"target_update_frequency={params['target_update_frequency']!r} must be at least 1"
        )
    epsilon = values["epsilon"]
    # A final epsilon above the initial one would make SB3 raise exploration over time.
    final = min(exploration_final_eps, epsilon)
    return {
        "learning_rate": values["learning_rate"],
        "gamma": values["gamma"],
        "exploration_initial_eps": epsilon,
        "exploration_final_eps": final,
        "exploration_fraction": exploration_fraction(
            epsilon,
            values["epsilon_decay"],
            final,
            total_timesteps=total_timesteps,
            episode_steps=episode_steps,
        ),
        "target_update_interval": interval,
    }


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f'the SB3 objective needs {module.split(".")[0]}: pip install "hptune[sb3]"'
        ) from exc


class SB3Objective:
    """Train an SB3 agent with a preset configuration and score its mean evaluation return.

    With a live trial it evaluates every ``eval_freq`` callback calls (timesteps, with one env),
    reports the mean return at the timestep count, and stops training and raises
    :class:`~hptune.TrialPruned` when the trial says so. Larger is better.
    """

    accepts_trial = True
    direction = "maximize"

    def __init__(
        self,
        algorithm: str,
        env_id: str,
        total_timesteps: int,
        n_eval_episodes: int = 10,
        seed: int = 0,
        eval_freq: int | None = None,
        *,
        policy: str = "MlpPolicy",
        episode_steps: float | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.algorithm = _algorithm(algorithm)
        total_timesteps = as_int("total_timesteps", total_timesteps)
        n_eval_episodes = as_int("n_eval_episodes", n_eval_episodes)
        if eval_freq is not None:
            eval_freq = as_int("eval_freq", eval_freq)
        seed = as_seed(seed)
        if episode_steps is not None and not as_number("episode_steps", episode_steps) > 0:
            raise InvalidArgumentError(f"episode_steps must be positive, got {episode_steps!r}")
        self.env_id = env_id
        self.total_timesteps = total_timesteps
        self.n_eval_episodes = n_eval_episodes
        self.seed = seed
        self.eval_freq = eval_freq if eval_freq is not None else max(1, total_timesteps // 10)
        self.policy = policy
        self.episode_steps = episode_steps
        self.model_kwargs = dict(model_kwargs or {})
        tuned = set(_PPO_KEYS.values()) if self.algorithm == "ppo" else set(_DQN_SB3_KEYS)
        clash = sorted(set(self.model_kwargs) & (tuned | {"seed", "verbose", "policy", "env"}))
        if clash:
            raise InvalidArgumentError(
                f"model_kwargs {clash} are set by the objective; tune them or drop them"
            )

    def __repr__(self) -> str:
        return (
            f"SB3Objective({self.algorithm!r}, {self.env_id!r}, "
            f"total_timesteps={self.total_timesteps}, seed={self.seed})"
        )

    def _episode_steps(self, gym: Any) -> float | None:
        if self.algorithm != "dqn":
            return None
        if self.episode_steps is not None:
            return self.episode_steps
        # The time limit overestimates early episodes; pass episode_steps to do better.
        limit = gym.spec(self.env_id).max_episode_steps
        return float(limit) if limit else None

    def __call__(
        self, params_or_trial: Mapping[str, Any] | ReportingTrial, seed: int | None = None
    ) -> float:
        """Train with the configuration (or the trial's) and return the mean evaluation return."""
        trial: ReportingTrial | None = None
        if hasattr(params_or_trial, "params"):
            trial = cast(ReportingTrial, params_or_trial)
            params: Mapping[str, Any] = trial.params
        else:
            params = params_or_trial
        sb3 = _import("stable_baselines3")
        callbacks = _import("stable_baselines3.common.callbacks")
        evaluation = _import("stable_baselines3.common.evaluation")
        monitor = _import("stable_baselines3.common.monitor")
        gym = _import("gymnasium")
        run_seed = self.seed if seed is None else as_seed(seed)
        steps = self._episode_steps(gym)
        kwargs = sb3_params(
            self.algorithm,
            params,
            total_timesteps=self.total_timesteps if steps is not None else None,
            episode_steps=steps,
        )
        model_class = sb3.PPO if self.algorithm == "ppo" else sb3.DQN
        eval_env = monitor.Monitor(gym.make(self.env_id))
        model: Any = None
        try:
            # Seeding the evaluation env once fixes its whole episode stream for this run.
            eval_env.reset(seed=run_seed + 1)
            model = model_class(
                self.policy,
                self.env_id,
                seed=run_seed,
                verbose=0,
                **kwargs,
                **self.model_kwargs,
            )

            def evaluate() -> float:
                mean, _std = evaluation.evaluate_policy(
                    model, eval_env, n_eval_episodes=self.n_eval_episodes, deterministic=True
                )
                return float(mean)

            if trial is None:
                model.learn(total_timesteps=self.total_timesteps)
                return evaluate()
            reporter = _reporting_callback(callbacks.BaseCallback, trial, evaluate, self.eval_freq)
            model.learn(total_timesteps=self.total_timesteps, callback=reporter)
            if reporter.pruned_at is not None:
                raise TrialPruned(f"pruned at timestep {reporter.pruned_at}")
            value = evaluate()
            if reporter.last_step != model.num_timesteps:
                trial.report(value, int(model.num_timesteps))
            return value
        finally:
            eval_env.close()
            if model is not None and model.env is not None:
                model.env.close()


def _reporting_callback(base: Any, trial: ReportingTrial, evaluate: Any, eval_freq: int) -> Any:
    """An SB3 callback (a subclass of ``base``, SB3's ``BaseCallback``) reporting to ``trial``."""

    def init(self: Any) -> None:
        base.__init__(self, verbose=0)
        self.pruned_at = None
        self.last_step = None

    def _on_step(self: Any) -> bool:
        if self.n_calls % eval_freq:
            return True
        step = int(self.num_timesteps)
        trial.report(evaluate(), step)
        self.last_step = step
        if trial.should_prune():
            self.pruned_at = step
            return False
        return True

    cls = type("HptuneReportingCallback", (base,), {"__init__": init, "_on_step": _on_step})
    return cls()


def sb3_objective(
    algorithm: str,
    env_id: str,
    total_timesteps: int,
    n_eval_episodes: int = 10,
    seed: int = 0,
    eval_freq: int | None = None,
    *,
    policy: str = "MlpPolicy",
    episode_steps: float | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
) -> SB3Objective:
    """An objective training SB3's PPO or DQN on ``env_id`` with a preset configuration.

    ``eval_freq`` (default: a tenth of the run) is in timesteps; ``model_kwargs`` go to the SB3
    constructor unchanged (``n_steps``, ``buffer_size``, ...). For DQN, ``episode_steps`` is the
    typical episode length used to derive ``exploration_fraction`` (default: the env's time
    limit).
    """
    return SB3Objective(
        algorithm,
        env_id,
        total_timesteps,
        n_eval_episodes,
        seed,
        eval_freq,
        policy=policy,
        episode_steps=episode_steps,
        model_kwargs=model_kwargs,
    )
