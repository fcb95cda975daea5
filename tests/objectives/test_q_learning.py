"""The tabular Q-learning objective: it learns, it is deterministic, it reports and prunes."""

from __future__ import annotations

import importlib
import pickle
from typing import Any

import numpy as np
import pytest
from _fakes import FakeTrial

from hptune._errors import InvalidArgumentError, TrialPruned
from hptune.objectives import QLearningObjective, ReportingTrial, q_learning
from hptune.objectives import _q_learning as qmod

pytest.importorskip("gymnasium")

GOOD = {"learning_rate": 0.1, "discount_factor": 0.99, "epsilon": 1.0, "epsilon_decay": 0.999}
BAD = {"learning_rate": 0.001, "discount_factor": 0.8, "epsilon": 0.01, "epsilon_decay": 0.9}


def test_good_config_clearly_beats_bad_on_slippery_frozenlake() -> None:
    for seed in (0, 1):
        objective = q_learning("FrozenLake-v1", episodes=3000, seed=seed)
        good, bad = objective(GOOD), objective(BAD)
        # The 4x4 slippery lake's best achievable success rate in 100 steps is about 0.74.
        assert 0.6 < good <= 0.75
        assert bad < 0.2


def test_same_seed_same_score_and_seed_keyword_overrides() -> None:
    a = q_learning(episodes=500, seed=3)
    b = q_learning(episodes=500, seed=3)
    assert a(GOOD) == b(GOOD)
    assert a(GOOD, seed=7) == q_learning(episodes=500, seed=7)(GOOD)
    scores = {a(GOOD, seed=s) for s in range(4)}
    assert len(scores) > 1


def test_trial_gets_reports_and_the_same_final_score() -> None:
    objective = q_learning(episodes=1000, report_every=250)
    trial = FakeTrial(GOOD)
    assert isinstance(trial, ReportingTrial)
    assert objective.accepts_trial
    value = objective(trial)
    assert [step for _, step in trial.reports] == [250, 500, 750, 1000]
    assert trial.reports[-1][0] == value
    # Scoring midway must not disturb training: the unobserved run scores the same.
    assert objective(GOOD) == value
    assert all(0.0 <= v <= 1.0 for v, _ in trial.reports)


def test_pruning_raises_trial_pruned() -> None:
    objective = q_learning(episodes=1000, report_every=100)
    trial = FakeTrial(BAD, prune_after=2)
    with pytest.raises(TrialPruned):
        objective(trial)
    assert [step for _, step in trial.reports] == [100, 200]


def test_default_report_interval_is_a_tenth() -> None:
    trial = FakeTrial(GOOD)
    q_learning(episodes=300)(trial)
    assert [step for _, step in trial.reports] == list(range(30, 301, 30))


def test_simulated_evaluation_agrees_with_exact() -> None:
    exact = q_learning(episodes=3000, n_agents=2)(GOOD)
    sampled = q_learning(episodes=3000, n_agents=2, eval_episodes=2000)(GOOD)
    assert sampled == pytest.approx(exact, abs=0.05)


@pytest.mark.parametrize(
    ("kwargs", "episodes", "low", "high"),
    [
        ({"env": "FrozenLake-v1", "map_name": "8x8"}, 300, 0.0, 1.0),
        ({"env": "FrozenLake-v1", "is_slippery": False}, 300, 0.99, 1.0),
        ({"env": "Taxi-v3"}, 300, -200.0, 20.0),
        ({"env": "CliffWalking-v0"}, 300, -200.0, -13.0),
    ],
)
def test_other_toy_text_envs(
    kwargs: dict[str, Any], episodes: int, low: float, high: float
) -> None:
    objective = QLearningObjective(episodes=episodes, n_agents=1, **kwargs)
    score = objective(GOOD)
    assert low <= score <= high


def test_model_is_read_once_per_configuration() -> None:
    a = q_learning("FrozenLake-v1", map_name="4x4").model
    b = q_learning("FrozenLake-v1", map_name="4x4").model
    assert a is b
    assert (a.n_states, a.n_actions, a.max_steps) == (16, 4, 100)
    assert q_learning(max_steps=30).model.max_steps == 30


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({k: v for k, v in GOOD.items() if k != "epsilon"}, "epsilon"),
        ({**GOOD, "alpha": 0.1}, "alpha"),
        ({**GOOD, "learning_rate": 0.0}, "learning_rate"),
        ({**GOOD, "discount_factor": 1.5}, "discount_factor"),
        ({**GOOD, "epsilon": -0.1}, "epsilon"),
        ({**GOOD, "epsilon_decay": float("nan")}, "epsilon_decay"),
        ({**GOOD, "learning_rate": "fast"}, "learning_rate"),
    ],
)
def test_bad_params_name_the_parameter(params: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        q_learning(episodes=10)(params)


def test_bad_constructor_arguments() -> None:
    with pytest.raises(InvalidArgumentError, match="episodes"):
        q_learning(episodes=0)
    with pytest.raises(InvalidArgumentError, match="n_agents"):
        q_learning(n_agents=0)
    with pytest.raises(InvalidArgumentError, match="not registered"):
        qmod.load_model("NoSuchEnv-v9")
    with pytest.raises(InvalidArgumentError, match="does not accept"):
        qmod.load_model("Taxi-v3", is_slippery=True)


def test_missing_gymnasium_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> object:
        raise ImportError(name)

    monkeypatch.setattr(importlib, "import_module", refuse)
    with pytest.raises(ImportError, match=r'pip install "hptune\[rl\]"'):
        qmod.load_model("FrozenLake-v1", max_steps=17)


def test_numpy_scalars_and_pickling() -> None:
    objective = q_learning(episodes=200, n_agents=np.int64(2))
    params = {k: np.float64(v) for k, v in GOOD.items()}
    clone = pickle.loads(pickle.dumps(objective))
    assert clone(params, seed=np.int64(4)) == objective(GOOD, seed=4)
