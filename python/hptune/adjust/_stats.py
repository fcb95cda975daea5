"""The two tests the service decides with: Welch's t-test and a two-proportion z-test.

They live in :mod:`hptune._stats`, next to the Student-t quantile the validation uses; this
module keeps the names importable where they have always been.
"""

from __future__ import annotations

from hptune._stats import (
    WelchResult,
    proportion_worse_p,
    rank_sum_greater,
    student_t_sf,
    welch_greater,
)

__all__ = [
    "WelchResult",
    "proportion_worse_p",
    "rank_sum_greater",
    "student_t_sf",
    "welch_greater",
]
