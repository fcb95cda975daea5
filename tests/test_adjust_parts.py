"""The parts of the adjustment service: collector, retrainer, detectors, tests, clock, audit."""

from __future__ import annotations

import itertools
import math
import random
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hptune import InvalidArgumentError, presets
from hptune.adjust import (
    AuditLog,
    Cusum,
    DataCollector,
    DataCollectorProtocol,
    ManualClock,
    ModelRetrainer,
    ModelRetrainerProtocol,
    PageHinkley,
    welch_greater,
)
from hptune.adjust._policy import ValidationPolicy
from hptune.adjust._stats import proportion_worse_p, rank_sum_greater, student_t_sf

# ---------------------------------------------------------------------------- collector


def test_collector_windows_by_count_time_and_id() -> None:
    clock = ManualClock(start=1000.0)
    dc = DataCollector(clock=clock)
    ids = []
    for i in range(10):
        ids.append(dc.record("a", i % 2 == 0, reward=float(i), step=i))
        clock.advance(10)
    dc.record("b", False)
    assert dc.success_rate("a") == 0.5
    assert dc.success_rate("a", window=3) == pytest.approx(1 / 3)  # ids 8, 9, 10 -> i=7,8,9
    # Records at t=1000..1090; now 1100: the last 25 s hold i=8, 9.
    assert dc.success_rate("a", seconds=25) == 0.5
    assert dc.success_rate("a", after_id=ids[7]) == 0.5
    assert dc.success_rate("nobody") is None
    assert dc.success_stats("a", window=4) == (0.5, 4)
    recent = dc.recent("a", 3)
    assert [r.metrics["step"] for r in recent] == [7, 8, 9]  # oldest first
    assert [r.id for r in dc.recent("a", 100, after_id=ids[8])] == [ids[9]]
    assert dc.rewards("a", 2) == [8.0, 9.0]
    assert dc.metrics("a", 2) == {"step": [8, 9]}
    assert dc.count("a") == 10
    assert dc.count() == 11
    assert dc.agents() == ["a", "b"]
    assert isinstance(dc, DataCollectorProtocol)


def test_collector_bounds_memory_dropping_oldest() -> None:
    dc = DataCollector(max_records_per_agent=50)
    for i in range(500):
        dc.record("a", True, reward=float(i))
    assert dc.count("a") <= 55
    kept = dc.recent("a", 1000)
    assert kept[-1].reward == 499.0
    assert [r.reward for r in kept] == sorted(r.reward for r in kept if r.reward is not None)
    assert len(kept) >= 50


def test_collector_is_thread_safe() -> None:
    dc = DataCollector()

    def work(k: int) -> None:
        for i in range(200):
            dc.record(f"agent-{k % 2}", i % 3 != 0, reward=1.0)
            dc.success_rate(f"agent-{k % 2}", window=10)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert dc.count() == 800
    ids = [r.id for r in dc.recent("agent-0", 1000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 400


def test_collector_file_persists(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    dc = DataCollector(path)
    dc.record("a", True, reward=1.0, note="x")
    dc.close()
    again = DataCollector(path)
    assert again.count("a") == 1
    assert again.recent("a")[0].metrics == {"note": "x"}


def test_collector_rejects_bad_input() -> None:
    dc = DataCollector()
    with pytest.raises(InvalidArgumentError):
        dc.record("", True)
    with pytest.raises(InvalidArgumentError):
        dc.record("a", True, reward=math.nan)
    with pytest.raises(InvalidArgumentError):
        dc.record("a", True, blob=object())
    with pytest.raises(InvalidArgumentError):
        dc.success_rate("a", window=0)


# ---------------------------------------------------------------------------- retrainer


def test_retrainer_evaluate_apply_current() -> None:
    seen: list[tuple[dict[str, object], int]] = []
    dc = DataCollector()
    dc.record("sh", True)

    def train(hp: dict[str, object], data: list[object]) -> float:
        seen.append((hp, len(data)))
        return 1.0

    rt = ModelRetrainer(dc)
    rt.register("sh", train, "ppo")
    assert isinstance(rt, ModelRetrainerProtocol)
    assert rt.current_hyperparameters("sh") == presets.defaults("ppo")
    assert rt.agents() == {"sh": "ppo"}
    new = {**presets.defaults("ppo"), "gamma": 0.95}
    assert rt.evaluate("sh", "ppo", new) == 1.0
    assert rt.current_hyperparameters("sh")["gamma"] == 0.99  # evaluate does not deploy
    rt.apply("sh", "ppo", new)
    assert rt.current_hyperparameters("sh")["gamma"] == 0.95
    assert seen[0][1] == 1  # the agent's records are the training data
    with pytest.raises(InvalidArgumentError, match="no training function"):
        rt.evaluate("sh", "dqn", new)


def test_retrainer_apply_failure_keeps_current_and_subclassing_works() -> None:
    class Mine(ModelRetrainer):
        def train_model(self, agent_name, algorithm, hyperparameters, data):  # type: ignore[no-untyped-def]
            if hyperparameters.get("x", 0) > 1:
                raise RuntimeError("diverged")
            return float(hyperparameters.get("x", 0))

    rt = Mine()
    rt.register("a", lambda hp, d: 0.0, "custom", hyperparameters={"x": 1})
    assert rt.evaluate("a", "custom", {"x": 0.5}) == 0.5
    with pytest.raises(RuntimeError):
        rt.apply("a", "custom", {"x": 2})
    assert rt.current_hyperparameters("a") == {"x": 1}


# ---------------------------------------------------------------------------- detectors


@pytest.mark.parametrize("make", [PageHinkley, Cusum])
@pytest.mark.parametrize("seed", range(3))
def test_detectors_quiet_on_stationary_noise(make: type, seed: int) -> None:
    rng = random.Random(seed)
    det = make()
    assert not any(det.update(rng.gauss(5.0, 2.0)) for _ in range(5000))
    bern = make()
    assert not any(bern.update(float(rng.random() < 0.9)) for _ in range(3000))


@pytest.mark.parametrize("make", [PageHinkley, Cusum])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_detectors_fire_soon_after_a_drop_on_any_scale(make: type, scale: float) -> None:
    rng = random.Random(7)
    det = make()
    for _ in range(1200):  # past either burn-in
        assert not det.update(scale * rng.gauss(1.0, 0.2))
    delay = next(i for i in range(1, 500) if det.update(scale * rng.gauss(0.8, 0.2)))
    assert delay <= 100  # a one-sigma drop of the raw values
    assert det.state()["statistic"] > 0


@pytest.mark.parametrize("make", [PageHinkley, Cusum])
def test_detectors_ignore_a_rise_and_reset(make: type) -> None:
    rng = random.Random(3)
    det = make()
    for _ in range(1200):
        det.update(rng.gauss(0.0, 1.0))
    assert not any(det.update(rng.gauss(3.0, 1.0)) for _ in range(500))
    det.reset()
    assert det.state()["n"] == 0


def test_detectors_reject_bad_options() -> None:
    with pytest.raises(InvalidArgumentError):
        PageHinkley(threshold=0)
    with pytest.raises(InvalidArgumentError):
        Cusum(min_samples=1)
    with pytest.raises(InvalidArgumentError):
        PageHinkley().update(math.inf)


# ---------------------------------------------------------------------------- statistics


def test_student_t_tail_matches_tables() -> None:
    assert student_t_sf(2.0, 10) == pytest.approx(0.036694, abs=1e-6)
    assert student_t_sf(-1.0, 5) == pytest.approx(0.818391, abs=1e-6)
    assert student_t_sf(0.0, 3) == pytest.approx(0.5)
    assert student_t_sf(1.96, 1e6) == pytest.approx(0.025, abs=1e-4)


def test_welch_and_proportion_tests() -> None:
    w = welch_greater([1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.5, 0.2])
    assert w.difference == pytest.approx(2.075)
    assert w.p_value < 0.05
    assert welch_greater([1.0, 1.0], [1.0, 1.0]).p_value == 1.0
    assert welch_greater([2.0, 2.0], [1.0, 1.0]).p_value == 0.0
    assert proportion_worse_p(20, 100, 80, 100) < 1e-6
    assert proportion_worse_p(80, 100, 80, 100) == pytest.approx(0.5)


# ---------------------------------------------------------------------------- clock, audit


def test_manual_clock_settles_woken_threads() -> None:
    clock = ManualClock()
    stop = threading.Event()
    ticks: list[float] = []

    def loop() -> None:
        while not clock.wait(stop, 60):
            ticks.append(clock.time())

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    clock.wait_for_sleepers(1)
    for _ in range(1440):  # a simulated day, minute by minute
        clock.advance(60)
    assert len(ticks) == 1440
    assert ticks[-1] == 86400
    stop.set()
    t.join(2)
    assert not t.is_alive()


def test_audit_log_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    log = AuditLog(path)
    adj = log.new_adjustment("a", 1.0)
    log.write("a", "trigger", {"x": math.inf, "ok": [1, 2]}, 1.0, adj)
    log.save_state("a", {"consumed_id": 5})
    log.close()
    again = AuditLog(path)
    [entry] = again.entries("a")
    assert entry.event == "trigger"
    assert entry.details == {"ok": [1, 2], "x": "inf"}
    assert again.load_state("a") == {"consumed_id": 5}


def detector_figures(seeds: int = 60, length: int = 20_000) -> None:
    """The figures in the detectors' module docstring: false alarms on stationary streams and
    the delay to a drop of the success probability from 0.9 to 0.7."""
    for make in (PageHinkley, Cusum):
        gauss = bern = 0
        delays = []
        for seed in range(seeds):
            rng = random.Random(seed)
            det = make()
            gauss += any(det.update(rng.gauss(5.0, 2.0)) for _ in range(length))
            det = make()
            bern += any(det.update(float(rng.random() < 0.9)) for _ in range(length))
            det = make()
            for _ in range(1200):  # past either burn-in
                det.update(float(rng.random() < 0.9))
            delays.append(next(i for i in range(1, 10**6) if det.update(rng.random() < 0.7)))
        delays.sort()
        print(
            f"{make.__name__}: false alarms on {gauss}/{seeds} Gaussian and {bern}/{seeds} "
            f"Bernoulli(0.9) streams of {length}; drop 0.9 -> 0.7 found after a median "
            f"{delays[seeds // 2]} values (at most {delays[-1]})"
        )


if __name__ == "__main__":
    detector_figures()


def _rank_sum_p_by_enumeration(a: list[float], b: list[float]) -> float:
    values = a + b
    ranked = sorted(values)

    def midrank(v: float) -> float:
        first = ranked.index(v)
        return first + (ranked.count(v) + 1) / 2

    observed = sum(midrank(v) for v in a)
    splits = list(itertools.combinations(range(len(values)), len(a)))
    hits = sum(1 for s in splits if sum(midrank(values[i]) for i in s) >= observed - 1e-9)
    return hits / len(splits)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-3, 3), min_size=1, max_size=6),
    st.lists(st.integers(-3, 3), min_size=1, max_size=6),
)
def test_rank_sum_test_is_the_exact_permutation_test(a: list[int], b: list[int]) -> None:
    fa, fb = [float(x) for x in a], [float(x) for x in b]  # small integers: many ties
    assert rank_sum_greater(fa, fb) == pytest.approx(_rank_sum_p_by_enumeration(fa, fb))


def test_rank_sum_test_known_values_and_its_normal_approximation() -> None:
    assert rank_sum_greater([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]) == pytest.approx(1 / 252)
    assert rank_sum_greater([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == 1.0
    assert rank_sum_greater([1.0, 1.0], [1.0, 1.0]) == 1.0
    # An outlier counts as one rank: a huge last value moves p no more than a merely large one.
    assert rank_sum_greater([1, 2, 1e12], [0.5, 1.5, 2.5]) == rank_sum_greater(
        [1, 2, 3], [0.5, 1.5, 2.5]
    )
    # 40 values are exact, 42 use the normal approximation: close to each other.
    rng = random.Random(3)
    a = [rng.gauss(0.4, 1.0) for _ in range(21)]
    b = [rng.gauss(0.0, 1.0) for _ in range(21)]
    exact = rank_sum_greater(a[:20], b[:20])
    approx = rank_sum_greater(a, b)
    assert 0.0 < approx < 1.0
    assert abs(approx - exact) < 0.1


def test_the_robust_guard_refuses_what_an_outlier_alone_makes_better() -> None:
    current = [10.0, 10.2, 9.9, 10.1, 10.0]
    lucky = [9.8, 9.9, 10.0, 9.95, 60.0]  # one outlier, otherwise no better
    welch = ValidationPolicy(validation_test="welch")
    robust = ValidationPolicy()
    assert robust.validation_test == "robust"
    # The means differ a lot; the rank-sum test sees a candidate no better in 4 of 5 runs.
    _, p_welch, _ = welch.judge(lucky, current)
    diff, p_robust, better = robust.judge(lucky, current)
    assert diff > 9.0
    assert p_robust >= p_welch
    assert not better
    clearly = [11.0, 11.2, 10.9, 11.1, 11.3]
    assert robust.judge(clearly, current)[2]
    assert welch.judge(clearly, current)[2]
    # Minimising: lower is better.
    assert robust.judge(current, clearly, maximize=False)[2]
    with pytest.raises(InvalidArgumentError, match="validation_test must be one of 'robust'"):
        ValidationPolicy(validation_test="t")
