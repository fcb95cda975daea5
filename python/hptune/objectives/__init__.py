"""Real objectives shipped with hptune, to tune and to benchmark tuners on.

- :func:`q_learning`: tabular Q-learning on Gymnasium toy-text environments (``hptune[rl]``);
  larger is better.
- :func:`autoscaling`: the operating cost of the ``optimization_agent`` preset's autoscaler on a
  simulated workload; lower is better.
- :func:`sb3_objective` and :func:`sb3_params`: the ``ppo`` and ``dqn`` presets on
  Stable-Baselines3 (``hptune[sb3]``); larger is better.

Each objective object carries ``direction`` ("maximize" or "minimize") and ``accepts_trial``
(whether it wants the live trial, to report intermediate values and be pruned), and takes a
``seed`` keyword that overrides its own seed, for re-evaluation on fresh seeds.
"""

from __future__ import annotations

from hptune.objectives._autoscaling import AutoscalingObjective, SimulationResult, autoscaling
from hptune.objectives._protocol import ReportingTrial
from hptune.objectives._q_learning import QLearningObjective, q_learning
from hptune.objectives._sb3 import SB3Objective, sb3_objective, sb3_params

__all__ = [
    "AutoscalingObjective",
    "QLearningObjective",
    "ReportingTrial",
    "SB3Objective",
    "SimulationResult",
    "autoscaling",
    "q_learning",
    "sb3_objective",
    "sb3_params",
]
