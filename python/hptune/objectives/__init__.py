"""Real objectives shipped with hptune, to tune and to benchmark tuners on.

- :func:`q_learning`: tabular Q-learning on Gymnasium toy-text environments (``hptune[rl]``).
"""

from __future__ import annotations

from hptune.objectives._q_learning import QLearningObjective, ReportingTrial, q_learning

__all__ = ["QLearningObjective", "ReportingTrial", "q_learning"]
