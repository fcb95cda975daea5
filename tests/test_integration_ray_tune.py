"""hptune's Ray Tune searcher and pruning scheduler, on a local Ray with 2 CPUs."""

from __future__ import annotations

import math
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")
tune = pytest.importorskip("ray.tune")
from ray.tune.search import ConcurrencyLimiter  # noqa: E402

import hptune  # noqa: E402 - after the skips, so a missing Ray skips instead of erroring
from hptune import HyperparameterSpace as H  # noqa: E402
from hptune.integrations.ray_tune import (  # noqa: E402
    HptunePruningScheduler,
    HptuneSearch,
    search_space_from_ray,
)

SPACE = [
    H("x", "float", -2.0, 2.0),
    H("lr", "float", 1e-4, 1e-1, log_scale=True),
    H("opt", "categorical", choices=["adam", "sgd"]),
]


def loss_of(config: dict[str, Any]) -> float:
    return (
        (config["x"] - 0.5) ** 2
        + abs(math.log10(config["lr"]) + 2) / 4
        + (0.0 if config["opt"] == "adam" else 0.3)
    )


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    # Trainables defined here are pickled by reference, so workers must import this module.
    path = os.pathsep.join(
        p for p in (str(Path(__file__).parent), os.environ.get("PYTHONPATH")) if p
    )
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    yield
    ray.shutdown()


def trainable(config: dict[str, Any]) -> None:
    if config["x"] > 1.6:
        raise RuntimeError("diverged")  # some configs fail, as real training does
    loss = loss_of(config)
    for i in range(3):
        tune.report({"loss": loss + 1.0 / (i + 1)})


def run_config(tmp_path: Path, name: str) -> Any:
    return tune.RunConfig(
        name=name,
        storage_path=str(tmp_path),
        verbose=0,
        failure_config=tune.FailureConfig(max_failures=0, fail_fast=False),
    )


def test_tuner_with_failures_and_a_concurrency_limit(local_ray: None, tmp_path: Path) -> None:
    search = HptuneSearch(SPACE, "loss", "min", method="bayesian", seed=0, n_startup_trials=4)
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=search,
            metric="loss",
            mode="min",
            num_samples=12,
            max_concurrent_trials=2,
            reuse_actors=True,
        ),
        run_config=run_config(tmp_path, "bo"),
    )
    results = tuner.fit()
    assert len(results) == 12
    failed = [r for r in results if r.error is not None]
    assert all(r.config["x"] > 1.6 for r in failed)
    for r in results:
        assert -2.0 <= r.config["x"] <= 2.0
        assert r.config["opt"] in ("adam", "sgd")
    # Ray saved the searcher in the experiment directory; a new one restores the whole history.
    restored = HptuneSearch(SPACE, method="bayesian", seed=0, n_startup_trials=4)
    restored.restore_from_dir(results.experiment_path)
    states = [t.state for t in restored.trials]
    assert len(states) == 12
    assert states.count(hptune.TrialState.FAILED) == len(failed)
    best = results.get_best_result()
    assert best.metrics["loss"] < 1.0


def test_param_space_from_the_tuner_and_random_method(local_ray: None, tmp_path: Path) -> None:
    tuner = tune.Tuner(
        trainable,
        param_space={
            "x": tune.uniform(-2.0, 1.5),
            "lr": tune.loguniform(1e-4, 1e-1),
            "opt": tune.choice(["adam", "sgd"]),
            "batch": 64,  # a constant: Ray merges it into every config
        },
        tune_config=tune.TuneConfig(
            search_alg=ConcurrencyLimiter(HptuneSearch(method="sobol", seed=1), max_concurrent=2),
            metric="loss",
            mode="min",
            num_samples=4,
            reuse_actors=True,
        ),
        run_config=run_config(tmp_path, "sobol"),
    )
    results = tuner.fit()
    assert len(results) == 4
    assert all(r.error is None and r.config["batch"] == 64 for r in results)


def pruned_trainable(config: dict[str, Any]) -> None:
    loss = loss_of(config)
    for i in range(1, 7):
        tune.report({"loss": loss + 1.0 / i})


def test_pruning_scheduler_stops_bad_trials(local_ray: None, tmp_path: Path) -> None:
    search = HptuneSearch(SPACE, "loss", "min", method="random", seed=2)
    scheduler = HptunePruningScheduler(searcher=search)
    tuner = tune.Tuner(
        pruned_trainable,
        tune_config=tune.TuneConfig(
            search_alg=search,
            scheduler=scheduler,
            metric="loss",
            mode="min",
            num_samples=10,
            max_concurrent_trials=2,
            reuse_actors=True,
        ),
        run_config=run_config(tmp_path, "pruned"),
    )
    results = tuner.fit()
    assert len(results) == 10
    stopped = {r.metrics["trial_id"] for r in results if r.metrics["training_iteration"] < 6}
    assert stopped
    assert stopped <= set(scheduler.pruned)
    restored = HptuneSearch(SPACE, method="random", seed=2)
    restored.restore_from_dir(results.experiment_path)
    assert [t.state for t in restored.trials].count(hptune.TrialState.PRUNED) == len(stopped)


# ---------------------------------------------------------------- without Ray actors
def tell(search: HptuneSearch, trial_id: str, config: dict[str, Any]) -> None:
    search.on_trial_result(trial_id, {"loss": loss_of(config) + 1, "training_iteration": 1})
    search.on_trial_complete(trial_id, {"loss": loss_of(config), "training_iteration": 2})


@pytest.mark.parametrize("method", ["bayesian", "tpe", "random", "sobol"])
def test_concurrent_suggestions_differ_and_pickle_round_trip(method: str, tmp_path: Path) -> None:
    search = HptuneSearch(SPACE, "loss", "min", method=method, seed=0)
    for i in range(12):
        tell(search, f"t{i}", search.suggest(f"t{i}"))  # type: ignore[arg-type]
    live = [search.suggest(f"live{i}") for i in range(3)]
    assert len({tuple(sorted(c.items())) for c in live}) == 3  # type: ignore[union-attr]
    copy = pickle.loads(pickle.dumps(search))
    path = str(tmp_path / "searcher.pkl")
    search.save(path)
    restored = HptuneSearch(SPACE, "loss", "min", method=method, seed=99)
    restored.restore(path)
    nxt = [s.suggest("next") for s in (search, copy, restored)]
    assert nxt[0] == nxt[1] == nxt[2]
    # Live trials were kept: they finish after the restore as if nothing happened.
    for s in (search, copy, restored):
        s.on_trial_complete("live0", {"loss": 0.5})
    assert len(restored.trials) == len(search.trials) == 13


def test_concurrency_limiter_holds_back_suggestions() -> None:
    limiter = ConcurrencyLimiter(HptuneSearch(SPACE, "loss", "min", seed=0), max_concurrent=2)
    a, b = limiter.suggest("a"), limiter.suggest("b")
    assert a is not None
    assert b is not None
    assert a != b
    assert limiter.suggest("c") is None  # two are live: Ray asks again later
    limiter.on_trial_complete("a", {"loss": 1.0})
    assert limiter.suggest("c") is not None


def test_failed_trials_are_avoided_not_learned() -> None:
    search = HptuneSearch(SPACE, "loss", "max", method="tpe", seed=0)
    a = search.suggest("a")
    search.on_trial_complete("a", None, error=True)
    b = search.suggest("b")
    search.on_trial_complete("b", {"loss": float("nan")})  # no usable value
    c = search.suggest("c")
    search.on_trial_complete("c", {"loss": 2.0})
    assert [t.state for t in search.trials] == [
        hptune.TrialState.FAILED,
        hptune.TrialState.FAILED,
        hptune.TrialState.COMPLETE,
    ]
    _, _, history = search._model_parts()
    assert history is not None
    assert len(history) == 1
    assert history.y[0] == -2.0  # maximised metrics are minimised inside
    assert len(history.failed) == 2
    assert a != b != c


def test_points_to_evaluate_and_nested_ray_space() -> None:
    space = {
        "model": {"width": tune.qrandint(16, 128, 16), "act": tune.choice(["relu", "tanh"])},
        "lr": tune.loguniform(1e-4, 1e-1),
    }
    first = {"model": {"width": 64, "act": "tanh"}, "lr": 0.01}
    search = HptuneSearch(space, "acc", "max", seed=0, points_to_evaluate=[first])
    assert search.suggest("t0") == first
    second = search.suggest("t1")
    assert second is not None
    assert set(second) == {"model", "lr"}
    assert second["model"]["width"] % 16 == 0
    with pytest.raises(hptune.InvalidArgumentError):
        HptuneSearch(space, "acc", "max", points_to_evaluate=[{"model": {"width": 7}}])


def test_ray_space_conversion() -> None:
    space = search_space_from_ray(
        {
            "a": tune.uniform(0, 1),
            "b": tune.loguniform(1e-3, 1),
            "c": tune.quniform(0, 1, 0.25),
            "d": tune.randint(0, 10),
            "e": tune.lograndint(1, 100),
            "f": tune.qrandint(0, 20, 5),
            "g": tune.choice([1, "two"]),
            "const": 3,
        }
    )
    assert space.names == ("a", "b", "c", "d", "e", "f", "g")
    assert space["b"].log_scale
    assert space["c"].step == 0.25
    assert (space["d"].min_value, space["d"].max_value) == (0, 9)  # randint excludes the top
    assert space["e"].log_scale
    assert space["e"].max_value == 99
    assert (space["f"].max_value, space["f"].step) == (20, 5)  # qrandint includes it
    assert space["g"].choices == (1, "two")
    for bad in ({"x": tune.grid_search([1, 2])}, {"x": tune.randn()}, {"x": 1}):
        with pytest.raises(hptune.InvalidArgumentError):
            search_space_from_ray(bad)


def test_arguments_are_checked() -> None:
    with pytest.raises(hptune.InvalidArgumentError, match="method"):
        HptuneSearch(SPACE, method="grid-ish")
    with pytest.raises(hptune.InvalidArgumentError, match="mode"):
        HptuneSearch(SPACE, "loss", "down")
    with pytest.raises(hptune.InvalidArgumentError):
        HptuneSearch(SPACE, method="bayesian", acquisition="nope")
    with pytest.raises(RuntimeError, match="metric"):
        HptuneSearch(SPACE).suggest("t")
    with pytest.raises(RuntimeError, match="search space"):
        HptuneSearch(metric="loss", mode="min").suggest("t")


class FakeTrial:
    def __init__(self, trial_id: str) -> None:
        self.trial_id = trial_id


def test_scheduler_applies_the_pruners_rule() -> None:
    scheduler = HptunePruningScheduler(metric="loss", mode="min")
    stop, go = tune.schedulers.TrialScheduler.STOP, tune.schedulers.TrialScheduler.CONTINUE
    for i in range(5):
        t = FakeTrial(f"good{i}")
        scheduler.on_trial_add(None, t)
        for step in (1, 2):
            assert scheduler.on_trial_result(None, t, {"loss": i, "training_iteration": step}) == go
        scheduler.on_trial_complete(None, t, {"loss": i})
    bad = FakeTrial("bad")
    scheduler.on_trial_add(None, bad)
    copy = pickle.loads(pickle.dumps(scheduler))
    assert scheduler.on_trial_result(None, bad, {"loss": 10.0, "training_iteration": 1}) == stop
    assert scheduler.pruned == ["bad"]
    # The pickled copy rebuilt the same record and decides the same way.
    assert copy.on_trial_result(None, bad, {"loss": 10.0, "training_iteration": 1}) == stop
    fine = FakeTrial("fine")
    scheduler.on_trial_add(None, fine)
    assert scheduler.on_trial_result(None, fine, {"loss": 1.0, "training_iteration": 1}) == go


def test_scheduler_takes_any_pruner() -> None:
    class Always:
        def prune(self, study: Any, trial: Any) -> bool:
            assert study.maximize
            assert trial.intermediate_values == {3: 1.0}
            return True

    scheduler = HptunePruningScheduler(Always(), metric="acc", mode="max")
    t = FakeTrial("t")
    scheduler.on_trial_add(None, t)
    stop = tune.schedulers.TrialScheduler.STOP
    assert scheduler.on_trial_result(None, t, {"acc": 1.0, "training_iteration": 3}) == stop
    with pytest.raises(hptune.InvalidArgumentError):
        HptunePruningScheduler(object())  # type: ignore[arg-type]


def test_scheduler_shares_hptune_pruners_decisions() -> None:
    # hptune.pruners arrives with the study branch; until then the scheduler's median rule runs.
    pruners = pytest.importorskip("hptune.pruners")
    scheduler = HptunePruningScheduler(pruners.SuccessiveHalvingPruner(), metric="acc", mode="max")
    stop = tune.schedulers.TrialScheduler.STOP
    for i in range(6):
        t = FakeTrial(f"t{i}")
        scheduler.on_trial_add(None, t)
        decision = scheduler.on_trial_result(None, t, {"acc": float(i), "training_iteration": 1})
        scheduler.on_trial_complete(None, t, {"acc": float(i)})
    worst = FakeTrial("worst")
    scheduler.on_trial_add(None, worst)
    assert scheduler.on_trial_result(None, worst, {"acc": -1.0, "training_iteration": 1}) == stop
    assert decision != stop  # the best trial so far was promoted
