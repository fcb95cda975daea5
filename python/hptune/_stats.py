"""Student's t and the small tests built on it, in one place and without scipy.

:func:`t_quantile_975` (the confidence intervals of :mod:`hptune.validation`) reads a table up to
30 degrees of freedom and a Cornish-Fisher expansion beyond. :func:`student_t_sf` (the tail the
adjustment service's tests use) comes from the regularised incomplete beta function (continued
fraction, as in Numerical Recipes). On top of it: Welch's t-test and a two-proportion z-test,
both one-sided ("is a better than b?") and returning p-values; and the rank-sum test
(Wilcoxon-Mann-Whitney), which outliers cannot sway.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "WelchResult",
    "proportion_worse_p",
    "rank_sum_greater",
    "student_t_sf",
    "t_quantile_975",
    "welch_greater",
]

# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        return math.inf
    if df <= len(_T975):
        return _T975[df - 1]
    # Cornish-Fisher expansion around the normal quantile; accurate to 1e-3 beyond 30.
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def _betacf(a: float, b: float, x: float) -> float:
    # Modified Lentz evaluation of the incomplete beta continued fraction.
    tiny, eps = 1e-300, 3e-16
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta ``I_x(a, b)``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def student_t_sf(t: float, df: float) -> float:
    """``P(T > t)`` for Student's t with ``df`` degrees of freedom."""
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t > 0 else 1.0 - tail


@dataclass(frozen=True)
class WelchResult:
    """Means, the difference ``mean_a - mean_b``, Welch's t and df, and the one-sided p-value
    of "a is greater than b"."""

    mean_a: float
    mean_b: float
    difference: float
    t: float
    df: float
    p_value: float


def _mean_var(xs: Sequence[float]) -> tuple[float, float]:
    n = len(xs)
    mean = math.fsum(xs) / n
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1) if n > 1 else 0.0
    return mean, var


def welch_greater(a: Sequence[float], b: Sequence[float]) -> WelchResult:
    """One-sided Welch t-test that ``mean(a) > mean(b)``; needs two values on each side.

    With no variance on either side the difference is exact: p is 0 when it is positive, else 1.
    """
    if len(a) < 2 or len(b) < 2:
        raise ValueError("Welch's t-test needs at least two values on each side")
    ma, va = _mean_var(a)
    mb, vb = _mean_var(b)
    sa, sb = va / len(a), vb / len(b)
    se2 = sa + sb
    diff = ma - mb
    if se2 <= 0.0:
        return WelchResult(
            ma, mb, diff, math.copysign(math.inf, diff), math.inf, 0.0 if diff > 0 else 1.0
        )
    t = diff / math.sqrt(se2)
    df = se2**2 / ((sa**2 / (len(a) - 1) if sa else 0.0) + (sb**2 / (len(b) - 1) if sb else 0.0))
    return WelchResult(ma, mb, diff, t, df, student_t_sf(t, df))


_EXACT_RANK_SUM = 40  # values; beyond, the normal approximation


def doubled_mid_ranks(values: Sequence[float]) -> list[int]:
    """Each value's rank from 1, tied values sharing their mid-rank, doubled so that the
    ranks are integers."""
    total = len(values)
    order = sorted(range(total), key=values.__getitem__)
    ranks2 = [0] * total
    i = 0
    while i < total:
        j = i
        while j + 1 < total and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks2[order[k]] = i + j + 2
        i = j + 1
    return ranks2


def rank_sum_greater(a: Sequence[float], b: Sequence[float]) -> float:
    """One-sided p-value of the rank-sum (Wilcoxon-Mann-Whitney) test that ``a`` tends to be
    larger than ``b``.

    Exact up to 40 values in all (the permutation distribution of ``a``'s rank sum, tied values
    sharing their mid-rank), the normal approximation with tie and continuity corrections
    beyond. Only the order of the values counts, so one huge outlier moves p no more than any
    other largest value would.
    """
    n, m = len(a), len(b)
    if n < 1 or m < 1:
        raise ValueError("the rank-sum test needs at least one value on each side")
    total = n + m
    ranks2 = doubled_mid_ranks([float(v) for v in a] + [float(v) for v in b])
    observed = sum(ranks2[:n])
    if total <= _EXACT_RANK_SUM:
        # counts[k][s]: subsets of k values whose doubled ranks sum to s.
        counts: list[dict[int, int]] = [{} for _ in range(n + 1)]
        counts[0][0] = 1
        for seen, r in enumerate(ranks2):
            for k in range(min(n, seen + 1), 0, -1):
                row = counts[k]
                for s, c in counts[k - 1].items():
                    row[s + r] = row.get(s + r, 0) + c
        at_least = sum(c for s, c in counts[n].items() if s >= observed)
        return at_least / math.comb(total, n)
    # A group of tied values is a group sharing one mid-rank.
    ties = sum(t**3 - t for t in Counter(ranks2).values())
    mean2 = n * (total + 1)
    var2 = 4.0 * n * m / 12.0 * ((total + 1) - ties / (total * (total - 1)))
    if var2 <= 0.0:
        return 1.0
    z = (observed - mean2 - 1.0) / math.sqrt(var2)
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def proportion_worse_p(
    successes_after: int, n_after: int, successes_before: int, n_before: int
) -> float:
    """One-sided p-value of "the success rate after is lower than before" (pooled z-test)."""
    if n_after < 1 or n_before < 1:
        return 1.0
    p_after, p_before = successes_after / n_after, successes_before / n_before
    pooled = (successes_after + successes_before) / (n_after + n_before)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_after + 1.0 / n_before))
    if se == 0.0:
        return 0.0 if p_after < p_before else 1.0
    z = (p_before - p_after) / se
    return 0.5 * math.erfc(z / math.sqrt(2.0))
