"""How an agent is trained and deployed: the :class:`ModelRetrainerProtocol` and a registry.

``evaluate`` trains a candidate and scores it without deploying (the tuning objective);
``apply`` trains and deploys, after which ``current_hyperparameters`` returns the new values.
Scores are larger-is-better for the service unless it is built with ``maximize=False``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from hptune import presets
from hptune._errors import InvalidArgumentError
from hptune.adjust._collector import DataCollectorProtocol, Record

__all__ = ["ModelRetrainer", "ModelRetrainerProtocol", "TrainFunction"]

#: ``train(hyperparameters, data) -> score``; ``data`` is the agent's recent records.
TrainFunction = Callable[[dict[str, Any], list[Record]], float]


@runtime_checkable
class ModelRetrainerProtocol(Protocol):
    """What :class:`~hptune.adjust.AutomaticHyperparameterAdjustment` needs to retrain an agent."""

    def evaluate(self, agent_name: str, algorithm: str, hyperparameters: dict[str, Any]) -> float:
        """Train a candidate with ``hyperparameters`` and return its score; do not deploy it."""
        ...

    def apply(self, agent_name: str, algorithm: str, hyperparameters: dict[str, Any]) -> Any:
        """Retrain with ``hyperparameters`` and deploy the result."""
        ...

    def current_hyperparameters(self, agent_name: str) -> dict[str, Any]:
        """The hyperparameters the deployed agent runs with."""
        ...


def _canonical_algorithm(algorithm: str | None) -> str | None:
    if algorithm is None:
        return None
    if not isinstance(algorithm, str) or not algorithm:
        raise InvalidArgumentError(f"algorithm must be a non-empty string, got {algorithm!r}")
    key = algorithm.strip().lower().replace("-", "_")
    return {"qlearning": "q_learning", "optimizationagent": "optimization_agent"}.get(key, key)


class ModelRetrainer:
    """Trains agents with registered functions ``train(hyperparameters, data) -> score``.

    Register one function per agent, or per agent and algorithm; ``data`` handed to it is the
    agent's latest ``data_window`` records from the collector. Subclass and override
    :meth:`train_model` (and :meth:`deploy`) to train some other way.

    Until the first :meth:`apply`, an agent's current hyperparameters are the ones given to
    :meth:`register`, else its algorithm preset's defaults.

    >>> from hptune import DataCollector, ModelRetrainer
    >>> retrainer = ModelRetrainer(DataCollector())
    >>> retrainer.register("self-healing", lambda hp, data: -abs(hp["gamma"] - 0.95), "ppo")
    >>> retrainer.current_hyperparameters("self-healing")["gamma"]
    0.99
    """

    def __init__(
        self, data_collector: DataCollectorProtocol | None = None, *, data_window: int = 1000
    ) -> None:
        self.data_collector = data_collector
        self.data_window = data_window
        self._lock = threading.RLock()
        self._train: dict[tuple[str, str | None], TrainFunction] = {}
        self._current: dict[str, dict[str, Any]] = {}
        self._algorithm: dict[str, str] = {}

    def register(
        self,
        agent_name: str,
        train: TrainFunction,
        algorithm: str | None = None,
        *,
        hyperparameters: Mapping[str, Any] | None = None,
    ) -> None:
        """Use ``train`` for ``agent_name`` (for ``algorithm`` only, or any when None).

        ``hyperparameters`` are the ones deployed now (default: the algorithm preset's
        defaults, when the algorithm is a preset).
        """
        if not isinstance(agent_name, str) or not agent_name:
            raise InvalidArgumentError(f"agent_name must be a non-empty string, got {agent_name!r}")
        if not callable(train):
            raise InvalidArgumentError(f"train must be callable, got {type(train).__name__}")
        key = _canonical_algorithm(algorithm)
        with self._lock:
            self._train[(agent_name, key)] = train
            if key is not None:
                self._algorithm.setdefault(agent_name, key)
            if hyperparameters is not None:
                self._current[agent_name] = dict(hyperparameters)
            elif agent_name not in self._current and key in presets.names():
                self._current[agent_name] = dict(presets.defaults(key))

    def agents(self) -> dict[str, str]:
        """Registered agents with a known algorithm (the deployed one, else the first
        registered), as ``name -> algorithm``; the agents the service monitors by default."""
        with self._lock:
            return dict(self._algorithm)

    def algorithm_of(self, agent_name: str) -> str | None:
        """The algorithm ``agent_name`` is deployed with (or registered for), if known."""
        with self._lock:
            return self._algorithm.get(agent_name)

    def data(self, agent_name: str) -> list[Record]:
        """The records a training run sees: the agent's latest ``data_window`` records."""
        if self.data_collector is None:
            return []
        return self.data_collector.recent(agent_name, self.data_window)

    def train_model(
        self,
        agent_name: str,
        algorithm: str,
        hyperparameters: dict[str, Any],
        data: list[Record],
    ) -> float:
        """Train and score one model (override to train without registering functions)."""
        key = _canonical_algorithm(algorithm)
        with self._lock:
            fn = self._train.get((agent_name, key)) or self._train.get((agent_name, None))
        if fn is None:
            raise InvalidArgumentError(
                f"no training function registered for agent {agent_name!r} and algorithm "
                f"{algorithm!r}; call ModelRetrainer.register({agent_name!r}, train, "
                f"{algorithm!r})"
            )
        return float(fn(dict(hyperparameters), data))

    def deploy(
        self, agent_name: str, algorithm: str, hyperparameters: dict[str, Any], score: float
    ) -> None:
        """Put the trained model in service (the default only records the hyperparameters)."""

    def evaluate(self, agent_name: str, algorithm: str, hyperparameters: dict[str, Any]) -> float:
        """Train a candidate and return its score, without deploying it."""
        return self.train_model(agent_name, algorithm, dict(hyperparameters), self.data(agent_name))

    def apply(self, agent_name: str, algorithm: str, hyperparameters: dict[str, Any]) -> float:
        """Retrain with ``hyperparameters`` and deploy; the current ones change only on success."""
        hp = dict(hyperparameters)
        score = self.train_model(agent_name, algorithm, hp, self.data(agent_name))
        self.deploy(agent_name, algorithm, hp, score)
        with self._lock:
            self._current[agent_name] = hp
            key = _canonical_algorithm(algorithm)
            assert key is not None
            self._algorithm[agent_name] = key
        return score

    def current_hyperparameters(self, agent_name: str) -> dict[str, Any]:
        """The deployed hyperparameters of ``agent_name`` (empty when nothing is known)."""
        with self._lock:
            return dict(self._current.get(agent_name, {}))
