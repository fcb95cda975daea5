"""Stable-Baselines3 adapter: train SB3's PPO or DQN with a configuration, score it honestly.

:func:`sb3_objective` trains with SB3 (``pip install "hptune[sb3]"``, imported only when the
objective is called). It takes SB3's own constructor parameters, as the ``ppo_sb3`` and
``dqn_sb3`` presets name them, plus the preset conveniences ``one_minus_gamma``,
``one_minus_gae_lambda``, ``net_arch`` (a size name) and ``activation_fn`` (``"tanh"`` /
``"relu"``); any other SB3 constructor parameter passes through, and an unknown name is refused
with the list of valid ones. RL returns are noisy, so a trial can train several seeds
(``n_seeds``) in lock-step: every ``eval_freq`` timesteps each seed's policy is evaluated, the
mean over seeds is reported (so pruners compare like with like, with a budget in timesteps;
a trial is never pruned before it has trained, i.e. while a DQN is within its
``learning_starts``), and the trial's value is the final mean; its standard error and per-seed
returns are kept in the trial's ``user_attrs``.

The legacy ``ppo`` preset maps onto SB3 by renaming (``clip_epsilon`` is ``clip_range``, ...).
The legacy ``dqn`` preset describes tabular Q-learning's per-episode multiplicative epsilon
decay, which SB3's DQN does not have; :func:`sb3_params` still converts it as below for those
who ask, but the objective refuses it and points to ``dqn_sb3`` (over half of the legacy region
maps onto ``exploration_fraction = 1``).

**From epsilon_decay to exploration_fraction** (:func:`sb3_params` only). The preset describes
exploration as in tabular Q-learning: epsilon starts at ``epsilon`` and is multiplied by
``epsilon_decay`` after every episode. SB3's DQN instead decays it linearly from
``exploration_initial_eps`` to ``exploration_final_eps`` over the first ``exploration_fraction`` of
the training timesteps. The adapter keeps the moment exploration bottoms out: the multiplicative
schedule reaches the final epsilon after ``k = ln(final / epsilon) / ln(epsilon_decay)`` episodes,
that is ``k * episode_steps`` timesteps, so ``exploration_fraction = k * episode_steps /
total_timesteps``, clipped to [1 / total_timesteps, 1]. Without a training length it assumes
:data:`DEFAULT_TRAINING_EPISODES` episodes, i.e. ``fraction = k / 1000``.
"""

from __future__ import annotations

import importlib
import inspect
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

from hptune._errors import InvalidArgumentError, TrialPruned
from hptune.objectives._checks import as_int, as_number, as_seed, check_param_names
from hptune.objectives._protocol import ReportingTrial
from hptune.rng import derive_seed

__all__ = [
    "DEFAULT_TRAINING_EPISODES",
    "SB3Objective",
    "sb3_kwargs",
    "sb3_objective",
    "sb3_params",
]

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


# Network sizes of the presets' ``net_arch`` (rl-baselines3-zoo's names and sizes).
PPO_NET_ARCH: dict[str, dict[str, list[int]]] = {
    "tiny": {"pi": [64], "vf": [64]},
    "small": {"pi": [64, 64], "vf": [64, 64]},
    "medium": {"pi": [256, 256], "vf": [256, 256]},
}
DQN_NET_ARCH: dict[str, list[int]] = {
    "small": [64, 64],
    "medium": [256, 256],
    "big": [400, 300],
}
ACTIVATIONS = ("tanh", "relu", "elu", "leaky_relu")
# Preset names that are not SB3 constructor parameters, and what they become.
_CONVENIENCE = ("one_minus_gamma", "one_minus_gae_lambda", "net_arch", "activation_fn")
# Set by the objective itself.
_RESERVED = ("policy", "env", "seed", "verbose", "_init_setup_model")


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f'the SB3 objective needs {module.split(".")[0]}: pip install "hptune[sb3]"'
        ) from exc


def constructor_parameters(model_class: Any) -> list[str]:
    """The names an SB3 algorithm's constructor takes, less those the objective sets."""
    names = inspect.signature(model_class.__init__).parameters
    return sorted(n for n in names if n not in ("self", *_RESERVED) and not n.startswith("_"))


def sb3_kwargs(
    algorithm: str, params: Mapping[str, Any], valid: Sequence[str] | None = None
) -> dict[str, Any]:
    """SB3 constructor arguments for ``params`` (SB3 names plus the preset conveniences).

    ``valid`` is the list of SB3 constructor parameters (from :func:`constructor_parameters`);
    names outside it and the conveniences are refused with that list. ``net_arch`` and
    ``activation_fn`` go into ``policy_kwargs`` (the activation by name, resolved to a torch
    module when the model is built). Legacy ``ppo`` names are renamed; legacy ``dqn`` names
    are refused.

    >>> sb3_kwargs("ppo", {"one_minus_gamma": 0.01, "net_arch": "tiny", "n_steps": 256})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'gamma': 0.99, 'n_steps': 256, 'policy_kwargs': {'net_arch': {'pi': [64], 'vf': [64]}}}
    """
    kind = _algorithm(algorithm)
    if not isinstance(params, Mapping):
        raise InvalidArgumentError(f"params must be a mapping, got {type(params).__name__}")
    legacy_dqn = sorted(set(params) & {"epsilon", "epsilon_decay", "target_update_frequency"})
    if kind == "dqn" and legacy_dqn:
        raise InvalidArgumentError(
            f"{legacy_dqn} belong to the tabular 'dqn' preset (per-episode epsilon decay), "
            "which SB3's DQN does not have; tune the 'dqn_sb3' preset (SB3's own parameters: "
            "exploration_fraction, exploration_final_eps, target_update_interval, ...)"
        )
    if kind == "ppo" and set(_PPO_KEYS) <= set(params):
        renamed = {sb3: params[ours] for ours, sb3 in _PPO_KEYS.items()}
        params = {**{k: v for k, v in params.items() if k not in _PPO_KEYS}, **renamed}
    out: dict[str, Any] = {}
    policy_kwargs: dict[str, Any] = dict(params.get("policy_kwargs") or {})
    for name, value in params.items():
        if name == "one_minus_gamma":
            out["gamma"] = 1.0 - as_number(name, value)
        elif name == "one_minus_gae_lambda":
            if kind != "ppo":
                raise InvalidArgumentError("one_minus_gae_lambda applies to PPO only")
            out["gae_lambda"] = 1.0 - as_number(name, value)
        elif name == "net_arch":
            sizes: Mapping[str, Any] = PPO_NET_ARCH if kind == "ppo" else DQN_NET_ARCH
            if isinstance(value, str):
                if value not in sizes:
                    raise InvalidArgumentError(
                        f"net_arch {value!r} is not one of {sorted(sizes)} for {kind}"
                    )
                policy_kwargs["net_arch"] = sizes[value]
            else:
                policy_kwargs["net_arch"] = value
        elif name == "activation_fn":
            if value not in ACTIVATIONS:
                raise InvalidArgumentError(
                    f"activation_fn {value!r} is not one of {list(ACTIVATIONS)}"
                )
            policy_kwargs["activation_fn"] = value
        elif name == "policy_kwargs":
            continue
        elif name in _RESERVED:
            raise InvalidArgumentError(f"{name!r} is set by the objective; drop it from params")
        elif valid is not None and name not in valid:
            raise InvalidArgumentError(
                f"unknown {kind} parameter {name!r}; valid: {', '.join([*valid, *_CONVENIENCE])}"
            )
        else:
            out[name] = value
    if policy_kwargs:
        out["policy_kwargs"] = policy_kwargs
    for key in ("gamma", "gae_lambda"):
        if key in out:
            _check(key, as_number(key, out[key]), 0.0, 1.0)
    return out


def _resolve_activation(kwargs: dict[str, Any], nn: Any) -> dict[str, Any]:
    pk = kwargs.get("policy_kwargs")
    if pk and isinstance(pk.get("activation_fn"), str):
        names = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU}
        kwargs = {**kwargs, "policy_kwargs": {**pk, "activation_fn": names[pk["activation_fn"]]}}
    return kwargs


def _stderr(values: Sequence[float]) -> float:
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)


class SB3Objective:
    """Train SB3's PPO or DQN with a configuration on ``n_seeds`` seeds; score the mean return.

    With a live trial, every ``eval_freq`` timesteps (per seed) all seeds' policies are
    evaluated on ``n_eval_episodes`` episodes and the mean over seeds is reported at that
    timestep; training stops with :class:`~hptune.TrialPruned` when the trial says so. The
    trial's ``user_attrs`` get ``returns`` (per seed) and ``stderr``. Larger is better.
    ``timesteps_used`` counts the environment steps this object has trained, for budgets.

    Every trial trains on the same seeds (``seed``) unless ``seed_per_trial=True``: then a
    trial's seeds derive from ``seed`` and its number (rl-baselines3-zoo leaves trials
    unseeded), so a search meets the seed-to-seed spread of returns instead of ranking configs
    by their luck on one seed. Calls with an explicit ``seed`` or with plain params are
    unaffected.
    """

    accepts_trial = True
    direction = "maximize"
    # Returns differ from seed to seed: tuners re-evaluate before they choose (see agents).
    noisy = True

    def __init__(
        self,
        algorithm: str,
        env_id: str,
        total_timesteps: int,
        n_eval_episodes: int = 10,
        seed: int = 0,
        eval_freq: int | None = None,
        *,
        n_seeds: int = 1,
        n_envs: int = 1,
        policy: str = "MlpPolicy",
        model_kwargs: Mapping[str, Any] | None = None,
        device: str = "cpu",
        torch_threads: int | None = 1,
        episode_steps: float | None = None,
        seed_per_trial: bool = False,
    ) -> None:
        self.algorithm = _algorithm(algorithm)
        self.total_timesteps = as_int("total_timesteps", total_timesteps)
        self.n_eval_episodes = as_int("n_eval_episodes", n_eval_episodes)
        self.eval_freq = (
            as_int("eval_freq", eval_freq)
            if eval_freq is not None
            else max(1, self.total_timesteps // 10)
        )
        self.seed = as_seed(seed)
        self.n_seeds = as_int("n_seeds", n_seeds)
        self.n_envs = as_int("n_envs", n_envs)
        if not isinstance(seed_per_trial, bool):
            raise InvalidArgumentError(
                f"seed_per_trial must be True or False, got {seed_per_trial!r}"
            )
        self.seed_per_trial = seed_per_trial
        if not isinstance(env_id, str) or not env_id:
            raise InvalidArgumentError(f"env_id must be a Gymnasium id, got {env_id!r}")
        if torch_threads is not None:
            torch_threads = as_int("torch_threads", torch_threads)
        if episode_steps is not None:
            # Kept for the old signature; it only mattered for the legacy DQN conversion.
            as_number("episode_steps", episode_steps)
        self.env_id = env_id
        self.policy = policy
        self.device = device
        self.torch_threads = torch_threads
        self.model_kwargs = dict(model_kwargs or {})
        clash = sorted(set(self.model_kwargs) & set(_RESERVED))
        if clash:
            raise InvalidArgumentError(f"model_kwargs {clash} are set by the objective")
        self.timesteps_used = 0

    @property
    def preset(self) -> str:
        """The preset that describes this objective's parameters."""
        return f"{self.algorithm}_sb3"

    def __repr__(self) -> str:
        return (
            f"SB3Objective({self.algorithm!r}, {self.env_id!r}, "
            f"total_timesteps={self.total_timesteps}, n_seeds={self.n_seeds}, seed={self.seed})"
        )

    def seeds(self, seed: int) -> list[int]:
        """The training seeds of a call with base seed ``seed``."""
        # SB3 and NumPy take 32-bit seeds; validation and racing derive 64-bit ones.
        if self.n_seeds == 1:
            return [seed % 2**31]
        return [derive_seed(seed, "sb3-seed", k) % 2**31 for k in range(self.n_seeds)]

    def _base_seed(self, trial: ReportingTrial | None, seed: int | None) -> int:
        if seed is not None:
            return as_seed(seed)
        number = getattr(trial, "number", None)
        if self.seed_per_trial and isinstance(number, int):
            return derive_seed(self.seed, "sb3-trial", number)
        return self.seed

    def kwargs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The SB3 constructor arguments of ``params`` (and ``model_kwargs``), checked."""
        sb3 = _import("stable_baselines3")
        model_class = sb3.PPO if self.algorithm == "ppo" else sb3.DQN
        valid = constructor_parameters(model_class)
        fixed = sb3_kwargs(self.algorithm, self.model_kwargs, valid)
        tuned = sb3_kwargs(self.algorithm, params, valid)
        clash = sorted(set(fixed) & set(tuned) - {"policy_kwargs"})
        if clash:
            raise InvalidArgumentError(f"{clash} are both tuned and fixed in model_kwargs")
        merged = {**fixed, **tuned}
        if "policy_kwargs" in fixed and "policy_kwargs" in tuned:
            merged["policy_kwargs"] = {**fixed["policy_kwargs"], **tuned["policy_kwargs"]}
        merged.setdefault("device", self.device)
        if self.algorithm == "ppo":
            n_steps = int(merged.get("n_steps", 2048))
            batch = int(merged.get("batch_size", 64))
            if batch > n_steps * self.n_envs:
                raise InvalidArgumentError(
                    f"batch_size={batch} exceeds n_steps * n_envs = {n_steps * self.n_envs}"
                )
        return merged

    def __call__(
        self, params_or_trial: Mapping[str, Any] | ReportingTrial, seed: int | None = None
    ) -> float:
        """Train with the configuration (or the trial's) and return the mean final return."""
        trial: ReportingTrial | None = None
        if hasattr(params_or_trial, "params") and hasattr(params_or_trial, "report"):
            trial = cast(ReportingTrial, params_or_trial)
            params: Mapping[str, Any] = trial.params
        else:
            params = params_or_trial
        kwargs = self.kwargs(params)
        sb3 = _import("stable_baselines3")
        torch = _import("torch")
        callbacks = _import("stable_baselines3.common.callbacks")
        evaluation = _import("stable_baselines3.common.evaluation")
        env_util = _import("stable_baselines3.common.env_util")
        monitor = _import("stable_baselines3.common.monitor")
        sb3_logger = _import("stable_baselines3.common.logger")
        gym = _import("gymnasium")
        kwargs = _resolve_activation(kwargs, torch.nn)
        if self.torch_threads is not None:
            torch.set_num_threads(self.torch_threads)
        model_class = sb3.PPO if self.algorithm == "ppo" else sb3.DQN
        run_seeds = self.seeds(self._base_seed(trial, seed))
        runs: list[tuple[Any, Any]] = []
        with warnings.catch_warnings():
            # A batch_size that does not divide the rollout leaves one short mini-batch per
            # epoch: expected across a tuned range, and SB3 would warn on every trial.
            warnings.filterwarnings("ignore", message=".*mini-batch size", category=UserWarning)
            try:
                for s in run_seeds:
                    env = env_util.make_vec_env(self.env_id, n_envs=self.n_envs, seed=s)
                    eval_env = monitor.Monitor(gym.make(self.env_id))
                    # Seeding the evaluation env once fixes its whole episode stream for this run.
                    eval_env.reset(seed=s + 1)
                    model = model_class(self.policy, env, seed=s, verbose=0, **kwargs)
                    # A logger with no outputs: SB3's default makes a SB3-<date> directory in
                    # the temp folder at every learn() call (thousands over a study).
                    model.set_logger(sb3_logger.Logger(folder=None, output_formats=[]))
                    runs.append((model, eval_env))
                return self._train(
                    runs, run_seeds, trial, callbacks.BaseCallback, evaluation.evaluate_policy
                )
            finally:
                for model, eval_env in runs:
                    eval_env.close()
                    if model.env is not None:
                        model.env.close()

    def _train(
        self,
        runs: list[tuple[Any, Any]],
        seeds: list[int],
        trial: ReportingTrial | None,
        base_callback: Any,
        evaluate_policy: Any,
    ) -> float:
        budget = self.total_timesteps
        keep_schedule = _schedule_callback(base_callback, budget)
        # Training stops at every checkpoint, with a trial or without, so that a config trains
        # the same way (and scores the same on the same seed) in a search and in a re-run.
        checkpoints = list(range(self.eval_freq, budget, self.eval_freq))
        returns: list[float] = []
        for target in [*checkpoints, budget]:
            for model, _ in runs:
                chunk = target - int(model.num_timesteps)
                if chunk > 0:
                    before = int(model.num_timesteps)
                    model.learn(chunk, callback=keep_schedule, reset_num_timesteps=before == 0)
                    self.timesteps_used += int(model.num_timesteps) - before
            if trial is None and target < budget:
                continue
            returns = [
                float(
                    evaluate_policy(
                        model,
                        eval_env,
                        n_eval_episodes=self.n_eval_episodes,
                        deterministic=True,
                    )[0]
                )
                for model, eval_env in runs
            ]
            mean = sum(returns) / len(returns)
            for (_, eval_env), s in zip(runs, seeds, strict=True):
                # Every evaluation starts from the same episodes: checkpoints differ by the
                # policy only, not by the luck of the draw.
                eval_env.reset(seed=s + 1)
            if trial is not None:
                trial.report(mean, target)
                # A DQN still short of learning_starts has not taken a gradient step: its
                # return is its untrained network's, which says nothing about the config, so
                # no pruner judges it there (ASHA judges it at its next rung, if any).
                if target < budget and _trained(runs) and trial.should_prune():
                    raise TrialPruned(f"pruned at timestep {target}")
        if trial is not None and hasattr(trial, "set_user_attr"):
            trial.set_user_attr("returns", returns)
            trial.set_user_attr("stderr", _stderr(returns))
        return sum(returns) / len(returns)


def _trained(runs: list[tuple[Any, Any]]) -> bool:
    """Whether every run has trained (an off-policy model past its ``learning_starts``; an
    on-policy one trains after each rollout, so at every checkpoint)."""
    return all(
        int(model.num_timesteps) > int(getattr(model, "learning_starts", 0)) for model, _ in runs
    )


def _schedule_callback(base: Any, budget: int) -> Any:
    """An SB3 callback that keeps schedules on the whole budget when training is chunked.

    SB3 measures progress (learning-rate schedules, DQN's exploration) against the end of the
    current ``learn`` call; training in chunks would restart them at every chunk.
    """

    def _on_training_start(self: Any) -> None:
        self.model._total_timesteps = budget

    def _on_step(self: Any) -> bool:
        return True

    cls = type(
        "HptuneScheduleCallback",
        (base,),
        {"_on_training_start": _on_training_start, "_on_step": _on_step},
    )
    return cls()


def sb3_objective(
    algorithm: str,
    env_id: str,
    total_timesteps: int,
    n_eval_episodes: int = 10,
    seed: int = 0,
    eval_freq: int | None = None,
    *,
    n_seeds: int = 1,
    n_envs: int = 1,
    policy: str = "MlpPolicy",
    model_kwargs: Mapping[str, Any] | None = None,
    device: str = "cpu",
    torch_threads: int | None = 1,
    episode_steps: float | None = None,
    seed_per_trial: bool = False,
) -> SB3Objective:
    """An objective training SB3's PPO or DQN on ``env_id`` (see :class:`SB3Objective`).

    ``eval_freq`` (default: a tenth of the run) is in timesteps per seed; ``model_kwargs`` are
    fixed SB3 constructor arguments (``buffer_size``, ``policy_kwargs``, ...). Tune it over the
    ``ppo_sb3`` / ``dqn_sb3`` presets (``RLHyperparameterTuner`` picks them for this objective).

    >>> objective = sb3_objective("ppo", "CartPole-v1", 20_000, n_seeds=3)
    >>> objective.preset
    'ppo_sb3'
    """
    return SB3Objective(
        algorithm,
        env_id,
        total_timesteps,
        n_eval_episodes,
        seed,
        eval_freq,
        n_seeds=n_seeds,
        n_envs=n_envs,
        policy=policy,
        model_kwargs=model_kwargs,
        device=device,
        torch_threads=torch_threads,
        episode_steps=episode_steps,
        seed_per_trial=seed_per_trial,
    )
