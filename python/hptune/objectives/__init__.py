"""Real objectives shipped with hptune, to tune and to benchmark tuners on.

- :func:`q_learning`: tabular Q-learning on Gymnasium toy-text environments (``hptune[rl]``);
  larger is better.
- :func:`autoscaling`: the operating cost of the ``optimization_agent`` preset's autoscaler on a
  simulated workload; lower is better.

Each objective object carries ``direction`` ("maximize" or "minimize") and ``accepts_trial``
(whether it wants the live trial, to report intermediate values and be pruned), and takes a
``seed`` keyword that overrides its own seed, for re-evaluation on fresh seeds.
"""

from __future__ import annotations

from hptune.objectives._autoscaling import AutoscalingObjective, SimulationResult, autoscaling
from hptune.objectives._q_learning import QLearningObjective, ReportingTrial, q_learning

__all__ = [
    "AutoscalingObjective",
    "QLearningObjective",
    "ReportingTrial",
    "SimulationResult",
    "autoscaling",
    "q_learning",
]
