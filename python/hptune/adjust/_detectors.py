"""Change detectors on a reward stream: Page-Hinkley and one-sided CUSUM, both incremental.

Both look for a *drop* in the mean and work in units of the stream's standard deviation,
estimated over the first ``min_samples`` values after a reset (the baseline), so one set of
defaults suits rewards on any scale. Notation: ``x_t`` the t-th value, ``s`` the baseline
standard deviation, ``delta`` the drop (in units of ``s``) tolerated as noise.

- Page-Hinkley: ``m_t = sum_i ((x_i - mean_i) / s + delta)`` with ``mean_i`` the running mean;
  alarm when ``max_{i<=t} m_i - m_t > threshold``. On a stationary stream ``m`` drifts upwards
  by ``delta`` per value, and a drawdown of ``threshold`` has probability about
  ``exp(-2 * delta * threshold)`` per excursion (``exp(-12)`` with the defaults).
- CUSUM: ``g_t = max(0, g_{t-1} + (mu_0 - x_t) / s - k)`` with ``mu_0`` the baseline mean;
  alarm when ``g_t > h``. With ``k = 0.5, h = 8`` the in-control average run length is about
  19,000 values (Siegmund's approximation) and a one-sigma drop is found in about 16.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

from hptune._errors import InvalidArgumentError

__all__ = ["ChangeDetector", "Cusum", "PageHinkley"]


@runtime_checkable
class ChangeDetector(Protocol):
    """An incremental detector: feed values one by one; ``update`` is True on an alarm."""

    def update(self, value: float) -> bool: ...

    def reset(self) -> None: ...

    def state(self) -> dict[str, Any]:
        """Figures for the audit log (statistic, baseline, number of values)."""
        ...


class _Baseline:
    """Welford mean and variance over the first ``min_samples`` values after a reset."""

    def __init__(self, min_samples: int) -> None:
        if isinstance(min_samples, bool) or not isinstance(min_samples, int) or min_samples < 2:
            raise InvalidArgumentError(f"min_samples must be an int >= 2, got {min_samples!r}")
        self.min_samples = min_samples
        self.reset()

    def reset(self) -> None:
        self.n = 0
        self.mean = 0.0
        self._m2 = 0.0
        self.scale = 0.0

    @property
    def ready(self) -> bool:
        return self.n >= self.min_samples

    def add(self, x: float) -> None:
        self.n += 1
        d = x - self.mean
        self.mean += d / self.n
        self._m2 += d * (x - self.mean)
        if self.n == self.min_samples:
            std = math.sqrt(self._m2 / (self.n - 1))
            # A constant baseline has no noise: any drop is a change, so a tiny scale is right.
            self.scale = max(std, 1e-9 * max(1.0, abs(self.mean)))


def _finite(value: float) -> float:
    x = float(value)
    if not math.isfinite(x):
        raise InvalidArgumentError(f"detector values must be finite, got {value!r}")
    return x


class PageHinkley:
    """Page-Hinkley test for a drop in the mean (see the module docstring).

    >>> ph = PageHinkley(min_samples=20)
    >>> any(ph.update(1.0 + 0.1 * ((i * 7) % 5 - 2)) for i in range(500))
    False
    >>> any(ph.update(0.0) for _ in range(50))
    True
    """

    def __init__(self, delta: float = 0.5, threshold: float = 12.0, min_samples: int = 50) -> None:
        if not delta >= 0 or not threshold > 0:
            raise InvalidArgumentError(
                f"delta must be >= 0 and threshold > 0, got {delta!r} and {threshold!r}"
            )
        self.delta = float(delta)
        self.threshold = float(threshold)
        self._base = _Baseline(min_samples)
        self.reset()

    def reset(self) -> None:
        self._base.reset()
        self.n = 0
        self.mean = 0.0
        self.cumulative = 0.0
        self.maximum = 0.0

    @property
    def statistic(self) -> float:
        """The current drawdown ``max m - m``, in baseline standard deviations."""
        return self.maximum - self.cumulative

    def update(self, value: float) -> bool:
        x = _finite(value)
        self.n += 1
        self.mean += (x - self.mean) / self.n
        if not self._base.ready:
            self._base.add(x)
            return False
        self.cumulative += (x - self.mean) / self._base.scale + self.delta
        self.maximum = max(self.maximum, self.cumulative)
        return self.statistic > self.threshold

    def state(self) -> dict[str, Any]:
        return {
            "detector": "page_hinkley",
            "statistic": self.statistic,
            "threshold": self.threshold,
            "delta": self.delta,
            "n": self.n,
            "baseline_mean": self._base.mean,
            "baseline_std": self._base.scale,
            "running_mean": self.mean,
        }


class Cusum:
    """One-sided CUSUM for a drop below the baseline mean (see the module docstring)."""

    def __init__(self, k: float = 0.5, h: float = 8.0, min_samples: int = 50) -> None:
        if not k >= 0 or not h > 0:
            raise InvalidArgumentError(f"k must be >= 0 and h > 0, got {k!r} and {h!r}")
        self.k = float(k)
        self.h = float(h)
        self._base = _Baseline(min_samples)
        self.reset()

    def reset(self) -> None:
        self._base.reset()
        self.n = 0
        self.statistic = 0.0

    def update(self, value: float) -> bool:
        x = _finite(value)
        self.n += 1
        if not self._base.ready:
            self._base.add(x)
            return False
        step = (self._base.mean - x) / self._base.scale - self.k
        self.statistic = max(0.0, self.statistic + step)
        return self.statistic > self.h

    def state(self) -> dict[str, Any]:
        return {
            "detector": "cusum",
            "statistic": self.statistic,
            "threshold": self.h,
            "k": self.k,
            "n": self.n,
            "baseline_mean": self._base.mean,
            "baseline_std": self._base.scale,
        }
