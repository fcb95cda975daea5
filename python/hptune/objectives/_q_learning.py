"""Tabular Q-learning on Gymnasium's toy-text environments, as a tunable objective.

The environment's transition table ``env.unwrapped.P`` (state -> action -> list of
``(probability, next_state, reward, terminated)``) and its initial-state distribution are read
once per environment configuration and process; training and evaluation then simulate that model
directly in plain Python, which is more than ten times faster than stepping through the
Gymnasium API and, for loops this small, faster than numpy too.

The score of a configuration is the mean over ``n_agents`` independently seeded agents of the
greedy policy's expected return per episode (on FrozenLake: the success rate, in [0, 1]). By
default that expectation is computed exactly by dynamic programming over the episode horizon, so
the only noise left in the score is the agents' training; pass ``eval_episodes`` to estimate it
by simulation instead.
"""

from __future__ import annotations

import importlib
import math
import random
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from hptune._errors import InvalidArgumentError, TrialPruned
from hptune.objectives._checks import as_int, as_number, as_seed, check_param_names
from hptune.objectives._protocol import ReportingTrial

__all__ = ["QLearningObjective", "TabularModel", "load_model", "q_learning"]

PARAM_NAMES = ("learning_rate", "discount_factor", "epsilon", "epsilon_decay")

# CliffWalking registers no time limit, and an untrained agent there could walk forever.
_DEFAULT_MAX_STEPS = 200


@dataclass(frozen=True)
class TabularModel:
    """A finite MDP flattened for fast simulation; index ``i = state * n_actions + action``.

    ``cumulative[i]`` holds the cumulative probabilities of all outcomes but the last (so
    ``bisect_right(cumulative[i], u)`` picks an outcome for ``u`` uniform in [0, 1)) and
    ``outcomes[i]`` the ``(next_state, reward, terminated)`` triples.
    """

    env_id: str
    n_states: int
    n_actions: int
    cumulative: tuple[tuple[float, ...], ...]
    outcomes: tuple[tuple[tuple[int, float, bool], ...], ...]
    probabilities: tuple[tuple[float, ...], ...]
    initial_states: tuple[int, ...]
    initial_cumulative: tuple[float, ...]
    max_steps: int


def _import_gymnasium() -> Any:
    try:
        return importlib.import_module("gymnasium")
    except ImportError as exc:
        raise ImportError(
            'the Q-learning objective needs Gymnasium: pip install "hptune[rl]"'
        ) from exc


def _resolve_env_id(gym: Any, env_id: str) -> str:
    # Gymnasium bumps versions between releases (Taxi-v3 -> v4, CliffWalking-v0 -> v1); asking
    # for either should work on whichever release is installed, so fall back to the newest.
    registry = gym.envs.registration.registry
    if env_id in registry:
        return env_id
    name, sep, _version = env_id.rpartition("-v")
    if sep:
        versions = [
            key
            for key in registry
            if key.rpartition("-v")[0] == name and key.rpartition("-v")[2].isdigit()
        ]
        if versions:
            return str(max(versions, key=lambda key: int(key.rpartition("-v")[2])))
    raise InvalidArgumentError(f"env {env_id!r} is not registered with Gymnasium")


@lru_cache(maxsize=32)
def load_model(
    env_id: str,
    map_name: str | None = None,
    is_slippery: bool | None = None,
    max_steps: int | None = None,
) -> TabularModel:
    """Read the transition table of a toy-text environment once per process and configuration.

    ``map_name`` and ``is_slippery`` are passed to ``gymnasium.make`` only when given (None keeps
    the environment's own default); ``max_steps`` defaults to the registered time limit.
    """
    gym = _import_gymnasium()
    resolved = _resolve_env_id(gym, env_id)
    kwargs: dict[str, Any] = {}
    if map_name is not None:
        kwargs["map_name"] = map_name
    if is_slippery is not None:
        kwargs["is_slippery"] = is_slippery
    try:
        env = gym.make(resolved, **kwargs)
    except TypeError as exc:
        raise InvalidArgumentError(f"env {resolved!r} does not accept {kwargs}: {exc}") from exc
    try:
        inner = env.unwrapped
        table = getattr(inner, "P", None)
        isd = getattr(inner, "initial_state_distrib", None)
        if table is None or isd is None:
            raise InvalidArgumentError(
                f"env {resolved!r} has no transition table P and initial_state_distrib; "
                "only tabular toy-text environments are supported"
            )
        n_states = int(inner.observation_space.n)
        n_actions = int(inner.action_space.n)
        horizon = max_steps if max_steps is not None else env.spec.max_episode_steps
        if horizon is None:
            horizon = _DEFAULT_MAX_STEPS
    finally:
        env.close()

    cumulative: list[tuple[float, ...]] = []
    outcomes: list[tuple[tuple[int, float, bool], ...]] = []
    probabilities: list[tuple[float, ...]] = []
    for state in range(n_states):
        for action in range(n_actions):
            kept = [(float(p), int(s), float(r), bool(d)) for p, s, r, d in table[state][action]]
            kept = [row for row in kept if row[0] > 0.0]
            total = math.fsum(row[0] for row in kept)
            running, cum = 0.0, []
            for row in kept[:-1]:
                running += row[0] / total
                cum.append(running)
            cumulative.append(tuple(cum))
            outcomes.append(tuple((s, r, d) for _, s, r, d in kept))
            probabilities.append(tuple(p / total for p, _, _, _ in kept))

    starts = [(int(s), float(p)) for s, p in enumerate(isd) if p > 0.0]
    total = math.fsum(p for _, p in starts)
    running, start_cum = 0.0, []
    for _, p in starts[:-1]:
        running += p / total
        start_cum.append(running)
    return TabularModel(
        env_id=resolved,
        n_states=n_states,
        n_actions=n_actions,
        cumulative=tuple(cumulative),
        outcomes=tuple(outcomes),
        probabilities=tuple(probabilities),
        initial_states=tuple(s for s, _ in starts),
        initial_cumulative=tuple(start_cum),
        max_steps=int(horizon),
    )


def validate_params(params: Mapping[str, Any]) -> tuple[float, float, float, float]:
    """Check a Q-learning configuration and return it as a tuple in :data:`PARAM_NAMES` order.

    The bounds are those under which the algorithm is well defined (a learning rate in (0, 1],
    probabilities in [0, 1], a decay in (0, 1]), not the narrower search ranges of the preset.
    """
    check_param_names(params, PARAM_NAMES, "Q-learning", kind="a mapping or a trial")
    bounds = {
        "learning_rate": (0.0, 1.0, False),
        "discount_factor": (0.0, 1.0, True),
        "epsilon": (0.0, 1.0, True),
        "epsilon_decay": (0.0, 1.0, False),
    }
    values = []
    for name in PARAM_NAMES:
        raw = params[name]
        value = as_number(name, raw)
        low, high, low_closed = bounds[name]
        if not (value >= low if low_closed else value > low):
            raise InvalidArgumentError(f"{name}={raw!r} is out of range; need {low} < {name}")
        if value > high:
            raise InvalidArgumentError(f"{name}={raw!r} is out of range; need {name} <= {high}")
        values.append(value)
    return values[0], values[1], values[2], values[3]


class _Agent:
    """One epsilon-greedy tabular Q-learner with its own random stream."""

    def __init__(
        self,
        model: TabularModel,
        params: tuple[float, float, float, float],
        rng: random.Random,
        epsilon_floor: float,
    ) -> None:
        self.model = model
        self.learning_rate, self.discount, self.epsilon, self.decay = params
        # A floor above the starting epsilon would raise exploration instead of decaying it.
        self.floor = min(epsilon_floor, self.epsilon)
        self.rng = rng
        self.q = [[0.0] * model.n_actions for _ in range(model.n_states)]

    def train(self, episodes: int) -> None:
        # Hot loop: everything is bound to locals, and branches skip the random draw where a
        # transition or the start state is deterministic.
        model = self.model
        q_table = self.q
        rnd = self.rng.random
        n_actions = model.n_actions
        actions = range(n_actions)
        cumulative, outcomes = model.cumulative, model.outcomes
        starts, start_cum = model.initial_states, model.initial_cumulative
        single_start = starts[0] if len(starts) == 1 else -1
        lr, gamma, decay, floor = self.learning_rate, self.discount, self.decay, self.floor
        epsilon = self.epsilon
        steps = range(model.max_steps)
        for _ in range(episodes):
            state = single_start if single_start >= 0 else starts[bisect_right(start_cum, rnd())]
            for _ in steps:
                row = q_table[state]
                if rnd() < epsilon:
                    action = int(rnd() * n_actions)
                else:
                    best = max(row)
                    if row.count(best) == 1:
                        action = row.index(best)
                    else:
                        ties = [a for a in actions if row[a] == best]
                        action = ties[int(rnd() * len(ties))]
                index = state * n_actions + action
                cum = cumulative[index]
                if cum:
                    next_state, reward, done = outcomes[index][bisect_right(cum, rnd())]
                else:
                    next_state, reward, done = outcomes[index][0]
                if done:
                    row[action] += lr * (reward - row[action])
                    break
                row[action] += lr * (reward + gamma * max(q_table[next_state]) - row[action])
                state = next_state
            epsilon = max(epsilon * decay, floor)
        self.epsilon = epsilon

    def greedy_policy(self, rng: random.Random) -> list[int]:
        """The greedy action per state, ties broken randomly once (untrained states are all 0)."""
        rnd = rng.random
        policy = []
        for row in self.q:
            best = max(row)
            ties = [a for a, value in enumerate(row) if value == best]
            policy.append(ties[0] if len(ties) == 1 else ties[int(rnd() * len(ties))])
        return policy


def expected_return(model: TabularModel, policy: list[int]) -> float:
    """The exact expected undiscounted return of ``policy`` over ``model.max_steps`` steps."""
    n_actions = model.n_actions
    rows = []
    for state, action in enumerate(policy):
        index = state * n_actions + action
        rows.append(tuple(zip(model.probabilities[index], model.outcomes[index], strict=True)))
    value = [0.0] * model.n_states
    for _ in range(model.max_steps):
        new = [sum(p * (r if d else r + value[s]) for p, (s, r, d) in row) for row in rows]
        if new == value:
            break
        value = new
    weights = [
        b - a
        for a, b in zip(
            (0.0, *model.initial_cumulative), (*model.initial_cumulative, 1.0), strict=True
        )
    ]
    return math.fsum(w * value[s] for w, s in zip(weights, model.initial_states, strict=True))


def simulated_return(
    model: TabularModel, policy: list[int], episodes: int, rng: random.Random
) -> float:
    """The mean undiscounted return of ``policy`` over ``episodes`` simulated episodes."""
    rnd = rng.random
    n_actions = model.n_actions
    starts, start_cum = model.initial_states, model.initial_cumulative
    total = 0.0
    for _ in range(episodes):
        state = starts[bisect_right(start_cum, rnd())] if start_cum else starts[0]
        for _ in range(model.max_steps):
            index = state * n_actions + policy[state]
            cum = model.cumulative[index]
            state, reward, done = model.outcomes[index][bisect_right(cum, rnd()) if cum else 0]
            total += reward
            if done:
                break
    return total / episodes


class QLearningObjective:
    """A tunable objective: train tabular Q-learners with the given parameters, score the result.

    Call it with a params mapping, or with a live trial (anything with ``params``, ``report``
    and ``should_prune``): then it reports the mean greedy return every ``report_every``
    episodes and raises :class:`~hptune.TrialPruned` when the trial says so. Larger is better.
    """

    #: Tells the study to pass the live trial rather than its params.
    accepts_trial = True
    direction = "maximize"

    def __init__(
        self,
        env: str = "FrozenLake-v1",
        episodes: int = 3000,
        seed: int = 0,
        n_agents: int = 3,
        eval_episodes: int | None = None,
        map_name: str | None = None,
        is_slippery: bool | None = None,
        max_steps: int | None = None,
        report_every: int | None = None,
        epsilon_floor: float = 0.01,
    ) -> None:
        episodes = as_int("episodes", episodes)
        n_agents = as_int("n_agents", n_agents)
        if eval_episodes is not None:
            eval_episodes = as_int("eval_episodes", eval_episodes)
        if max_steps is not None:
            max_steps = as_int("max_steps", max_steps)
        if report_every is not None:
            report_every = as_int("report_every", report_every)
        seed = as_seed(seed)
        epsilon_floor = as_number("epsilon_floor", epsilon_floor)
        if not 0.0 <= epsilon_floor <= 1.0:
            raise InvalidArgumentError(f"epsilon_floor must be in [0, 1], got {epsilon_floor!r}")
        self.env = env
        self.episodes = episodes
        self.seed = seed
        self.n_agents = n_agents
        self.eval_episodes = eval_episodes
        self.map_name = map_name
        self.is_slippery = is_slippery
        self.max_steps = max_steps
        self.report_every = report_every if report_every is not None else max(1, episodes // 10)
        self.epsilon_floor = epsilon_floor

    def __repr__(self) -> str:
        return (
            f"QLearningObjective(env={self.env!r}, episodes={self.episodes}, seed={self.seed}, "
            f"n_agents={self.n_agents}, eval_episodes={self.eval_episodes}, "
            f"map_name={self.map_name!r}, is_slippery={self.is_slippery})"
        )

    @property
    def model(self) -> TabularModel:
        """The environment's tabular model (read from Gymnasium on first use, then cached)."""
        return load_model(self.env, self.map_name, self.is_slippery, self.max_steps)

    def _score(self, agents: list[_Agent], seed: int, step: int) -> float:
        # Evaluation draws from its own streams so that scoring midway (for a trial) leaves the
        # training streams, and hence the final score, exactly as in an unobserved run.
        total = 0.0
        for k, agent in enumerate(agents):
            rng = random.Random(f"hptune.q_learning.eval:{seed}:{k}:{step}")
            policy = agent.greedy_policy(rng)
            if self.eval_episodes is None:
                total += expected_return(agent.model, policy)
            else:
                total += simulated_return(agent.model, policy, self.eval_episodes, rng)
        return total / len(agents)

    def __call__(
        self, params_or_trial: Mapping[str, Any] | ReportingTrial, seed: int | None = None
    ) -> float:
        """Train ``n_agents`` agents and return their mean greedy return (larger is better).

        ``seed`` overrides the objective's seed, to re-evaluate a configuration on fresh seeds.
        """
        trial: ReportingTrial | None = None
        if hasattr(params_or_trial, "params"):
            trial = cast(ReportingTrial, params_or_trial)
            params: Mapping[str, Any] = trial.params
        else:
            params = params_or_trial
        values = validate_params(params)
        run_seed = self.seed if seed is None else as_seed(seed)
        model = self.model
        # String seeds are hashed with SHA-512 by random.Random: stable across processes and
        # platforms, and distinct streams per (seed, agent) without arithmetic collisions.
        agents = [
            _Agent(
                model,
                values,
                random.Random(f"hptune.q_learning:{run_seed}:{k}"),
                self.epsilon_floor,
            )
            for k in range(self.n_agents)
        ]
        if trial is None:
            for agent in agents:
                agent.train(self.episodes)
            return self._score(agents, run_seed, self.episodes)
        done = 0
        value = 0.0
        while done < self.episodes:
            chunk = min(self.report_every, self.episodes - done)
            for agent in agents:
                agent.train(chunk)
            done += chunk
            value = self._score(agents, run_seed, done)
            trial.report(value, done)
            if done < self.episodes and trial.should_prune():
                raise TrialPruned(f"pruned after {done} episodes at mean return {value:.4g}")
        return value


def q_learning(
    env: str = "FrozenLake-v1",
    episodes: int = 3000,
    seed: int = 0,
    n_agents: int = 3,
    eval_episodes: int | None = None,
    map_name: str | None = None,
    is_slippery: bool | None = None,
    max_steps: int | None = None,
    report_every: int | None = None,
    epsilon_floor: float = 0.01,
) -> QLearningObjective:
    """An objective that scores a Q-learning configuration on a Gymnasium toy-text environment.

    Args:
        env: A tabular environment id: ``FrozenLake-v1``, ``Taxi-v3``/``v4``, ``CliffWalking-v0``
            /``v1`` (the version the installed Gymnasium registers is used).
        episodes: Training episodes per agent.
        seed: Base seed; agent ``k`` gets its own stream derived from ``(seed, k)``.
        n_agents: Independently seeded agents whose scores are averaged.
        eval_episodes: None scores the greedy policy by its exact expected return; an integer
            estimates it from that many simulated episodes instead.
        map_name: FrozenLake map, ``"4x4"`` or ``"8x8"``.
        is_slippery: Passed to the environment when given; None keeps its default (FrozenLake is
            slippery, CliffWalking is not).
        max_steps: Episode step limit; defaults to the registered time limit (200 if none).
        report_every: Episodes between reports to a live trial (default: a tenth of ``episodes``).
        epsilon_floor: Exploration never decays below this (or below the starting epsilon).

    >>> objective = q_learning("FrozenLake-v1", episodes=2000, n_agents=1)
    >>> score = objective({"learning_rate": 0.1, "discount_factor": 0.99,
    ...                    "epsilon": 1.0, "epsilon_decay": 0.999})
    >>> 0.0 <= score <= 1.0
    True
    """
    return QLearningObjective(
        env,
        episodes=episodes,
        seed=seed,
        n_agents=n_agents,
        eval_episodes=eval_episodes,
        map_name=map_name,
        is_slippery=is_slippery,
        max_steps=max_steps,
        report_every=report_every,
        epsilon_floor=epsilon_floor,
    )
