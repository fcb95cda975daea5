"""An autoscaling simulator: the real operating cost of the ``optimization_agent`` preset.

The model, at one-minute resolution (all figures are module constants or constructor arguments):

**Workload.** A deterministic request-rate trace per seed (numpy ``default_rng(seed)``): a daily
sinusoid around ``base_rps`` (amplitude 45 %, peak at 14:00), weekends at 70 %, multiplicative
AR(1)-like noise (about 6 %, correlated over ~10 minutes), and bursts arriving as a Poisson
process (one per ``burst_every_hours`` on average) of size 0.5-2x ``base_rps``, each rising over
a few minutes and decaying with a 15-minute time constant. Users keep sessions open: the session
load is an exponential moving average of the request rate (45-minute time constant), so it lags
bursts on the way down.

**Replicas.** Each serves 100 requests/s at 100 % CPU and has 4 GiB of memory, of which 1 GiB is
fixed and the rest holds session state (0.035 GiB per request/s of session load). New replicas
start ``startup_minutes`` after they are requested (and are billed from the request); removed
replicas go at once. There are at least 2 and at most 500.

**Response time.** Per minute, a steady-state queueing approximation from CPU utilisation
``rho = rate / (ready replicas * 100)``: ``latency = 50 ms / (1 - rho)``, capped at 5 s (also when
``rho >= 1``), multiplied by ``1 + 20 * (memory utilisation - 0.9)`` when memory utilisation is
above 90 % (swapping). A minute whose latency exceeds ``latency_slo_ms`` (250 ms) is an SLO minute.

**Agent.** After each minute it observes the rate, the session load and its replica count ``n``
(ready and starting). It only acts when CPU utilisation of ``n`` replicas is above
``scale_up_cpu_threshold`` (then it may pick any ``m >= n``) or below
``scale_down_cpu_threshold`` (any ``m <= n``): the thresholds are its hysteresis band. Within
that direction it picks the ``m`` that minimises its internal score, in replica units::

    cpu_weight * m                                    (CPU spend)
    + memory_weight * L * pressure(m) ** 2            (memory pressure above 75 %)
    + response_time_weight * L * latency(m) / 50 ms   (predicted queue, uncapped)
    + over_provision_penalty * idle(m)                (capacity unused at the current rate)
    + under_provision_penalty * shortfall(m)          (capacity missing at the forecast rate)

where ``L`` is the load in replicas' worth (rate / 100), ``pressure(m)`` is how far the memory
utilisation of ``m`` replicas is into its last quarter (0 below 75 %, 1 at 100 %), the latency
term is the number of requests in the system by Little's law (the agent's latency model goes on
rising linearly past 95 % utilisation instead of capping, so overload keeps pulling), and the
forecast rate is the current rate plus its growth over the last ``startup_minutes`` (what will
have arrived by the time new replicas are up). The score is convex in ``m``, so a walk from ``n``
finds the minimum.

**Cost.** The objective is not that score but what running the service costs: replica-hours
times ``replica_hour_price`` plus ``slo_minute_price`` per SLO minute. Lower is better.

**SLO figures.** Each run also reports its service level (:data:`SLO_METRICS`): ``slo_minutes``
(minutes over ``latency_slo_ms``) and ``p95_latency_ms`` (the 95th percentile of the per-minute
latency, nearest rank). :meth:`AutoscalingObjective.cost_and_slo` returns ``(cost, figure)``
for a two-objective study, and ``record_slo=True`` makes the objective take the live trial and
store every figure in its ``user_attrs``, for a ``constraints_func`` to bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from hptune._errors import InvalidArgumentError
from hptune.objectives._checks import as_int, as_number, as_seed, check_param_names

__all__ = [
    "SLO_METRICS",
    "AutoscalingObjective",
    "SimulationResult",
    "autoscaling",
    "workload_trace",
]

#: The service-level figures a run reports (lower is better for each), by name.
SLO_METRICS = ("slo_minutes", "p95_latency_ms")

PARAM_NAMES = (
    "cpu_weight",
    "memory_weight",
    "response_time_weight",
    "over_provision_penalty",
    "under_provision_penalty",
    "scale_up_cpu_threshold",
    "scale_down_cpu_threshold",
)

REPLICA_RPS = 100.0
REPLICA_MEMORY_GIB = 4.0
FIXED_MEMORY_GIB = 1.0
SESSION_GIB_PER_RPS = 0.035
SESSION_MINUTES = 45.0
SERVICE_TIME_MS = 50.0
MAX_LATENCY_MS = 5000.0
SWAP_THRESHOLD = 0.9
SWAP_SLOWDOWN = 20.0
MEMORY_SOFT_LIMIT = 0.75
MIN_REPLICAS = 2
MAX_REPLICAS = 500
# The agent's latency model is extended linearly beyond this utilisation instead of capped, so
# that its score stays convex and keeps pulling towards more replicas when overloaded.
_RHO_KNEE = 0.95


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of one simulated run: what it cost and where the cost came from."""

    cost: float
    replica_hours: float
    slo_minutes: int
    memory_slo_minutes: int
    peak_replicas: int
    scaling_actions: int
    minutes: int
    p95_latency_ms: float

    def slo_value(self, metric: str) -> float:
        """The SLO figure ``metric`` (one of :data:`SLO_METRICS`) of this run."""
        return float(getattr(self, check_slo_metric(metric)))

    def user_attrs(self) -> dict[str, float]:
        """What ``record_slo=True`` stores with a trial: the cost breakdown and SLO figures."""
        return {
            "replica_hours": self.replica_hours,
            "slo_minutes": float(self.slo_minutes),
            "p95_latency_ms": self.p95_latency_ms,
            "memory_slo_minutes": float(self.memory_slo_minutes),
        }


def check_slo_metric(metric: object, name: str = "metric") -> str:
    """``metric`` when it names an SLO figure, else InvalidArgumentError listing them."""
    if not isinstance(metric, str) or metric not in SLO_METRICS:
        raise InvalidArgumentError(
            f"{name}={metric!r} is not an SLO figure of the autoscaling simulator; allowed: "
            f"{', '.join(SLO_METRICS)}"
        )
    return metric


@lru_cache(maxsize=16)
def _trace(seed: int, minutes: int, base_rps: float, burst_every_hours: float) -> tuple[float, ...]:
    rng = np.random.default_rng(seed)
    t = np.arange(minutes, dtype=np.float64)
    hour_of_day = (t / 60.0) % 24.0
    day = (t // 1440.0) % 7.0
    rate = base_rps * (1.0 + 0.45 * np.sin(2.0 * np.pi * (hour_of_day - 8.0) / 24.0))
    rate *= np.where(day >= 5.0, 0.7, 1.0)
    # Exponentially smoothed white noise: correlated over ~10 minutes, about 6 % in size.
    kernel = 0.9 ** np.arange(60)
    innovations = rng.normal(0.0, 0.06 * math.sqrt(1.0 - 0.81), minutes + 59)
    rate *= np.exp(np.convolve(innovations, kernel, mode="valid"))
    n_bursts = rng.poisson(minutes / 60.0 / burst_every_hours)
    starts = rng.integers(0, minutes, n_bursts)
    sizes = base_rps * rng.uniform(0.5, 2.0, n_bursts)
    rise, decay = 3.0, 15.0
    lag = np.arange(int(8 * decay), dtype=np.float64)
    shape = np.exp(-lag / decay) - np.exp(-lag / rise)
    shape /= shape.max()
    for start, size in zip(starts, sizes, strict=True):
        stop = min(minutes, int(start) + lag.size)
        rate[start:stop] += size * shape[: stop - int(start)]
    return tuple(np.maximum(rate, 1.0).tolist())


def workload_trace(
    seed: int = 0, hours: float = 168.0, base_rps: float = 600.0, burst_every_hours: float = 6.0
) -> np.ndarray:
    """The request rate (requests/s) per minute of the simulator's workload for ``seed``."""
    return np.array(
        _trace(as_seed(seed), round(hours * 60), float(base_rps), float(burst_every_hours))
    )


def validate_params(params: Mapping[str, Any]) -> tuple[float, ...]:
    """Check an ``optimization_agent`` configuration; return it in :data:`PARAM_NAMES` order.

    Weights and penalties must be finite and non-negative, thresholds in (0, 1), and the scale-
    down threshold below the scale-up one. The preset's ranges are search ranges, not limits.
    """
    check_param_names(params, PARAM_NAMES, "optimization_agent")
    values = []
    for name in PARAM_NAMES:
        raw = params[name]
        value = as_number(name, raw)
        if name.endswith("threshold"):
            if not 0.0 < value < 1.0:
                raise InvalidArgumentError(f"{name}={raw!r} is out of range; need 0 < {name} < 1")
        elif value < 0.0:
            raise InvalidArgumentError(f"{name}={raw!r} is out of range; need {name} >= 0")
        values.append(value)
    if values[6] >= values[5]:
        raise InvalidArgumentError(
            f"scale_down_cpu_threshold ({values[6]}) must be below "
            f"scale_up_cpu_threshold ({values[5]})"
        )
    return tuple(values)


def _real_latency_ms(rate: float, ready: int, sessions: float) -> tuple[float, bool]:
    """Latency of a minute and whether memory swapping made it worse."""
    rho = rate / (ready * REPLICA_RPS)
    latency = MAX_LATENCY_MS if rho >= 1.0 else min(MAX_LATENCY_MS, SERVICE_TIME_MS / (1.0 - rho))
    memory = (FIXED_MEMORY_GIB + SESSION_GIB_PER_RPS * sessions / ready) / REPLICA_MEMORY_GIB
    if memory > SWAP_THRESHOLD:
        return min(
            MAX_LATENCY_MS, latency * (1.0 + SWAP_SLOWDOWN * (memory - SWAP_THRESHOLD))
        ), True
    return latency, False


class AutoscalingObjective:
    """The operating cost of an autoscaling agent on a simulated workload (lower is better).

    ``objective(params)`` returns the cost; :meth:`simulate` returns its breakdown.
    """

    accepts_trial = False
    direction = "minimize"

    def __init__(
        self,
        hours: float = 168.0,
        seed: int = 0,
        base_rps: float = 600.0,
        burst_every_hours: float = 6.0,
        startup_minutes: int = 3,
        latency_slo_ms: float = 250.0,
        replica_hour_price: float = 0.10,
        slo_minute_price: float = 0.50,
        record_slo: bool = False,
    ) -> None:
        if not isinstance(record_slo, bool):
            raise InvalidArgumentError(f"record_slo must be True or False, got {record_slo!r}")
        positive = {
            "hours": hours,
            "base_rps": base_rps,
            "burst_every_hours": burst_every_hours,
            "latency_slo_ms": latency_slo_ms,
        }
        for name, value in positive.items():
            if not as_number(name, value) > 0:
                raise InvalidArgumentError(f"{name} must be positive, got {value!r}")
        if round(hours * 60) < 2:
            raise InvalidArgumentError(f"hours={hours!r} is under two minutes")
        seed = as_seed(seed)
        startup_minutes = as_int("startup_minutes", startup_minutes, minimum=0)
        for name, value in (
            ("replica_hour_price", replica_hour_price),
            ("slo_minute_price", slo_minute_price),
        ):
            if not as_number(name, value) >= 0:
                raise InvalidArgumentError(f"{name} must be non-negative, got {value!r}")
        self.hours = float(hours)
        self.seed = seed
        self.base_rps = float(base_rps)
        self.burst_every_hours = float(burst_every_hours)
        self.startup_minutes = startup_minutes
        self.latency_slo_ms = float(latency_slo_ms)
        self.replica_hour_price = float(replica_hour_price)
        self.slo_minute_price = float(slo_minute_price)
        self.record_slo = record_slo
        # With record_slo the study passes the live trial, so the SLO figures reach user_attrs.
        self.accepts_trial = record_slo

    def __repr__(self) -> str:
        return (
            f"AutoscalingObjective(hours={self.hours}, seed={self.seed}, base_rps={self.base_rps})"
        )

    def __call__(self, params: Mapping[str, Any] | Any, seed: int | None = None) -> float:
        """The operating cost of running the agent with ``params``; ``seed`` overrides the trace
        seed (to re-evaluate on fresh workloads).

        Given a live trial instead (``record_slo=True``), its params are run and
        :meth:`SimulationResult.user_attrs` are stored with it.
        """
        trial = None
        if not isinstance(params, Mapping) and hasattr(params, "params"):
            trial, params = params, params.params
        result = self.simulate(params, seed)
        if trial is not None and hasattr(trial, "set_user_attr"):
            for key, value in result.user_attrs().items():
                trial.set_user_attr(key, value)
        return result.cost

    def cost_and_slo(
        self, params: Mapping[str, Any], metric: str = "slo_minutes", seed: int | None = None
    ) -> tuple[float, float]:
        """``(cost, SLO figure)`` of ``params``: the two objectives of a cost-versus-SLO study.

        >>> from hptune import presets
        >>> defaults = presets.defaults("optimization_agent")
        >>> cost, minutes = autoscaling(hours=24).cost_and_slo(defaults)
        >>> cost > 0 and minutes >= 0
        True
        """
        result = self.simulate(params, seed)
        return result.cost, result.slo_value(metric)

    def simulate(self, params: Mapping[str, Any], seed: int | None = None) -> SimulationResult:
        """Run the agent over the workload of ``seed`` (default: the objective's) and account."""
        (
            cpu_w,
            memory_w,
            latency_w,
            over_w,
            under_w,
            up_threshold,
            down_threshold,
        ) = validate_params(params)
        trace = _trace(
            self.seed if seed is None else as_seed(seed),
            round(self.hours * 60),
            self.base_rps,
            self.burst_every_hours,
        )
        delay = self.startup_minutes
        slo = self.latency_slo_ms
        knee_latency = SERVICE_TIME_MS / (1.0 - _RHO_KNEE)
        knee_slope = SERVICE_TIME_MS / (1.0 - _RHO_KNEE) ** 2
        memory_span = 1.0 - MEMORY_SOFT_LIMIT

        def score(m: int, load: float, forecast: float, sessions: float) -> float:
            rho = load / m
            if rho < _RHO_KNEE:
                latency = SERVICE_TIME_MS / (1.0 - rho)
            else:
                latency = knee_latency + knee_slope * (rho - _RHO_KNEE)
            memory = (FIXED_MEMORY_GIB + SESSION_GIB_PER_RPS * sessions / m) / REPLICA_MEMORY_GIB
            pressure = (
                (memory - MEMORY_SOFT_LIMIT) / memory_span if memory > MEMORY_SOFT_LIMIT else 0.0
            )
            return (
                cpu_w * m
                + memory_w * load * pressure * pressure
                + latency_w * load * latency / SERVICE_TIME_MS
                + over_w * (m - load if m > load else 0.0)
                + under_w * (forecast - m if forecast > m else 0.0)
            )

        # Replicas requested at minute t are ready from minute t + 1 + delay; keep a queue of
        # pending start-ups as (ready_minute, count).
        first = trace[0]
        ready = max(MIN_REPLICAS, math.ceil(first / (REPLICA_RPS * 0.7)))
        pending: list[tuple[int, int]] = []
        n_pending = 0
        sessions = first
        session_step = 1.0 / SESSION_MINUTES
        replica_minutes = 0
        slo_minutes = 0
        memory_slo_minutes = 0
        peak = ready
        actions = 0
        latencies: list[float] = []
        for minute, rate in enumerate(trace):
            while pending and pending[0][0] <= minute:
                ready += pending.pop(0)[1]
            n_pending = sum(count for _, count in pending)
            sessions += (rate - sessions) * session_step
            replica_minutes += ready + n_pending
            latency, swapping = _real_latency_ms(rate, ready, sessions)
            latencies.append(latency)
            if latency > slo:
                slo_minutes += 1
                if swapping and _real_latency_ms(rate, ready, 0.0)[0] <= slo:
                    memory_slo_minutes += 1

            n = ready + n_pending
            load = rate / REPLICA_RPS
            utilisation = load / n
            if utilisation > up_threshold:
                step = 1
            elif utilisation < down_threshold:
                step = -1
            else:
                continue
            past = trace[minute - delay] if minute >= delay else trace[0]
            forecast = (rate + max(0.0, rate - past)) / REPLICA_RPS
            best, best_score = n, score(n, load, forecast, sessions)
            while MIN_REPLICAS <= best + step <= MAX_REPLICAS:
                candidate = score(best + step, load, forecast, sessions)
                if candidate >= best_score:
                    break
                best, best_score = best + step, candidate
            if best == n:
                continue
            actions += 1
            if best > n:
                pending.append((minute + 1 + delay, best - n))
            else:
                # Cancel start-ups before stopping running replicas, newest first.
                remove = n - best
                while remove and pending:
                    ready_at, count = pending.pop()
                    if count > remove:
                        pending.append((ready_at, count - remove))
                        remove = 0
                    else:
                        remove -= count
                ready -= remove
            peak = max(peak, best)

        replica_hours = replica_minutes / 60.0
        return SimulationResult(
            cost=replica_hours * self.replica_hour_price + slo_minutes * self.slo_minute_price,
            replica_hours=replica_hours,
            slo_minutes=slo_minutes,
            memory_slo_minutes=memory_slo_minutes,
            peak_replicas=peak,
            scaling_actions=actions,
            minutes=len(trace),
            p95_latency_ms=float(np.percentile(latencies, 95.0, method="inverted_cdf")),
        )


def autoscaling(
    hours: float = 168.0,
    seed: int = 0,
    base_rps: float = 600.0,
    burst_every_hours: float = 6.0,
    startup_minutes: int = 3,
    latency_slo_ms: float = 250.0,
    replica_hour_price: float = 0.10,
    slo_minute_price: float = 0.50,
    record_slo: bool = False,
) -> AutoscalingObjective:
    """An objective giving the operating cost of an ``optimization_agent`` configuration.

    ``record_slo=True`` stores each trial's SLO figures (``slo_minutes``, ``p95_latency_ms``)
    and cost breakdown in its ``user_attrs``; the cost returned is the same.

    >>> from hptune import presets
    >>> objective = autoscaling(hours=24, seed=0)
    >>> objective(presets.defaults("optimization_agent")) > 0
    True
    """
    return AutoscalingObjective(
        hours=hours,
        seed=seed,
        base_rps=base_rps,
        burst_every_hours=burst_every_hours,
        startup_minutes=startup_minutes,
        latency_slo_ms=latency_slo_ms,
        replica_hour_price=replica_hour_price,
        slo_minute_price=slo_minute_price,
        record_slo=record_slo,
    )
