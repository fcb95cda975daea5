"""Pruners against hand-computed cases, and pruned trials inside studies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

import hptune
from _study_helpers import reporting
from hptune import InMemoryStorage, Storage, TrialRecord, TrialState
from hptune.pruners import (
    HyperbandPruner,
    MedianPruner,
    NopPruner,
    PercentilePruner,
    SuccessiveHalvingPruner,
)
from hptune.storage import StudyMeta

SPACE = {"x": hptune.HyperparameterSpace("x", "float", 0.0, 1.0)}


@dataclass
class View:
    """The study a pruner reads: a storage, a name, a direction."""

    storage: Storage
    name: str = "s"
    maximize: bool = True


@dataclass
class Live:
    number: int
    intermediate_values: dict[int, float] = field(default_factory=dict)


def make_view(maximize: bool = True) -> View:
    storage = InMemoryStorage()
    storage.create_study(StudyMeta(name="s", maximize=maximize, space=[], method="random"))
    return View(storage, maximize=maximize)


def add(view: View, values: dict[int, float], state: TrialState = TrialState.COMPLETE) -> int:
    """A trial that reported ``values`` and ended in ``state`` (or is still running)."""
    number = view.storage.create_trial("s", 0.0, {})
    for step, v in values.items():
        view.storage.report("s", number, step, v)
    if state is not TrialState.RUNNING:
        value = 0.0 if state is TrialState.COMPLETE else None
        view.storage.finish_trial("s", TrialRecord(number, {}, state, value))
    return number


def with_completed(maximize: bool, at_step: int = 2) -> View:
    """Five completed trials that reported 1, 2, 3, 4, 5 at ``at_step``."""
    view = make_view(maximize)
    for v in [1.0, 2.0, 3.0, 4.0, 5.0]:
        add(view, {0: 0.0, 1: 0.0, at_step: v})
    return view


# --------------------------------------------------------------------- median / percentile
def test_median_maximize() -> None:
    view = with_completed(maximize=True)
    pruner = MedianPruner(n_startup_trials=5)
    # Best so far 2.5 < median 3: pruned. Best 3.5 (reached at step 1): kept.
    assert pruner.prune(view, Live(99, {0: 0.5, 1: 1.0, 2: 2.5}))
    assert not pruner.prune(view, Live(99, {0: 0.5, 1: 3.5, 2: 0.1}))
    assert not pruner.prune(view, Live(99, {2: 3.0}))  # equal to the median is not worse


def test_median_minimize() -> None:
    view = with_completed(maximize=False)
    pruner = MedianPruner(n_startup_trials=5)
    assert pruner.prune(view, Live(99, {2: 3.5}))
    assert not pruner.prune(view, Live(99, {2: 2.5}))
    assert not pruner.prune(view, Live(99, {1: 0.5, 2: 9.0}))  # best so far is 0.5


def test_median_waits_for_startup_trials() -> None:
    view = with_completed(maximize=True)
    assert not MedianPruner(n_startup_trials=6).prune(view, Live(99, {2: 0.0}))
    assert MedianPruner(n_startup_trials=5).prune(view, Live(99, {2: 0.0}))


def test_median_warmup_steps() -> None:
    view = with_completed(maximize=True)
    assert not MedianPruner(n_startup_trials=0, n_warmup_steps=3).prune(view, Live(99, {2: 0.0}))
    assert MedianPruner(n_startup_trials=0, n_warmup_steps=2).prune(view, Live(99, {2: 0.0}))


def test_median_interval_steps() -> None:
    # interval 2 after warm-up 0: windows [0, 2), [2, 4) ...; only a window's first report counts.
    view = with_completed(maximize=True, at_step=3)
    pruner = MedianPruner(n_startup_trials=0, interval_steps=2)
    assert not pruner.prune(view, Live(99, {0: 0.0, 1: 0.0, 2: 0.0, 3: 0.0}))  # 2 opened it
    assert pruner.prune(view, Live(99, {0: 0.0, 1: 0.0, 3: 0.0}))  # 3 is its window's first


def test_median_ignores_running_and_pruned_trials() -> None:
    view = with_completed(maximize=True)
    add(view, {2: 100.0}, TrialState.RUNNING)
    add(view, {2: 100.0}, TrialState.PRUNED)
    add(view, {2: 100.0}, TrialState.FAILED)
    assert not MedianPruner().prune(view, Live(99, {2: 3.0}))


def test_median_needs_others_at_the_step() -> None:
    view = with_completed(maximize=True, at_step=2)
    assert not MedianPruner().prune(view, Live(99, {4: -100.0}))
    assert not MedianPruner(n_min_trials=6).prune(view, Live(99, {2: -100.0}))


@pytest.mark.parametrize(
    ("maximize", "value", "pruned"),
    [
        # 25 keeps the best quarter. Maximise: the cut is the 75th percentile of 1..5, 4.0.
        (True, 3.5, True),
        (True, 4.5, False),
        # Minimise: the cut is the 25th percentile of 1..5, 2.0.
        (False, 2.5, True),
        (False, 1.5, False),
    ],
)
def test_percentile(maximize: bool, value: float, pruned: bool) -> None:
    view = with_completed(maximize)
    assert PercentilePruner(25.0, n_startup_trials=1).prune(view, Live(99, {2: value})) is pruned


def test_nop_pruner() -> None:
    assert not NopPruner().prune(with_completed(True), Live(99, {2: -1e9}))


# --------------------------------------------------------------------- successive halving
def test_successive_halving_rungs() -> None:
    pruner = SuccessiveHalvingPruner(min_resource=2, reduction_factor=3, min_early_stopping_rate=1)
    assert [pruner.rung_step(r) for r in range(3)] == [6, 18, 54]


def test_successive_halving_keeps_the_top_fraction() -> None:
    view = make_view(maximize=True)
    for v in [10.0, 20.0, 30.0]:
        add(view, {1: v}, TrialState.PRUNED)  # every state competes in ASHA
    pruner = SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    # Competitors at rung step 1: [10, 20, 30, mine]; keep 4 // 2 = 2, so the cut is 20.
    assert pruner.prune(view, Live(99, {0: 0.0, 1: 15.0}))
    assert not pruner.prune(view, Live(99, {0: 0.0, 1: 25.0}))
    assert not pruner.prune(view, Live(99, {0: 0.0, 1: 20.0}))
    assert not pruner.prune(view, Live(99, {0: 0.0}))  # below the first rung


def test_successive_halving_minimize() -> None:
    view = make_view(maximize=False)
    for v in [10.0, 20.0, 30.0]:
        add(view, {1: v})
    pruner = SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    assert not pruner.prune(view, Live(99, {1: 15.0}))
    assert pruner.prune(view, Live(99, {1: 25.0}))


def test_successive_halving_judges_a_rung_once() -> None:
    view = make_view(maximize=True)
    for v in [10.0, 20.0, 30.0]:
        add(view, {1: v})
    pruner = SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    assert pruner.prune(view, Live(99, {1: 15.0}))
    # The same values at step 1, but the last report (step 3) crosses no new rung: rungs 1 and
    # 2 were judged when steps 1 and 2 were reported, so nothing is judged now.
    assert not pruner.prune(view, Live(99, {1: 15.0, 2: 16.0, 3: 17.0}))
    # With no one else at rung 2 (step 2), the trial is promoted even with a poor value.
    assert not pruner.prune(view, Live(99, {0: 0.0, 1: 30.0, 2: -5.0}))


def test_successive_halving_early_trials_are_promoted() -> None:
    # Asynchronous: the first trial at a rung has nobody to lose against.
    view = make_view()
    assert not SuccessiveHalvingPruner().prune(view, Live(0, {1: -1e9}))


def test_successive_halving_judges_skipped_rungs() -> None:
    view = make_view(maximize=True)
    for v in [10.0, 20.0, 30.0]:
        add(view, {2: v})
    pruner = SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    # Reports jump from step 0 to 3, past rungs 1 and 2; rung 2 has competitors and is judged
    # with the trial's value at step 3.
    assert pruner.prune(view, Live(99, {0: 0.0, 3: 15.0}))
    assert not pruner.prune(view, Live(99, {0: 0.0, 3: 25.0}))


# --------------------------------------------------------------------- hyperband
def test_hyperband_brackets() -> None:
    pruner = HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3)
    # s_max = 2: budgets ceil(3/1)*9, ceil(3/2)*3, ceil(3/3)*1 = 27, 6, 1 (a round of 34).
    assert pruner.n_brackets == 3
    assert pruner.budgets == [27, 6, 1]
    assert [pruner.bracket_of(n) for n in (0, 26, 27, 32, 33, 34, 61)] == [0, 0, 1, 1, 2, 0, 1]
    assert [b.rung_step(0) for b in pruner.brackets] == [1, 3, 9]


def test_hyperband_competes_within_a_bracket() -> None:
    view = make_view(maximize=True)
    pruner = HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3)
    for _ in range(27):  # trials 0..26: bracket 0, all strong at step 3
        add(view, {3: 100.0})
    add(view, {3: 1.0})  # trial 27: bracket 1
    # Trial 28 (bracket 1) at its first rung (step 3) meets only trial 27: [1, 2], keep 1.
    assert not pruner.prune(view, Live(28, {3: 2.0}))
    assert pruner.prune(view, Live(28, {3: 0.5}))
    # Bracket 0 judges from step 1; nobody reported there, so a lone trial is promoted.
    assert not pruner.prune(view, Live(34, {1: -1.0}))


@pytest.mark.parametrize(
    "make",
    [
        lambda: PercentilePruner(101.0),
        lambda: MedianPruner(n_startup_trials=-1),
        lambda: MedianPruner(interval_steps=0),
        lambda: SuccessiveHalvingPruner(reduction_factor=1),
        lambda: SuccessiveHalvingPruner(min_resource=0),
        lambda: HyperbandPruner(min_resource=10, max_resource=5),
    ],
)
def test_bad_arguments(make: object) -> None:
    with pytest.raises(hptune.InvalidArgumentError):
        make()  # type: ignore[operator]


# --------------------------------------------------------------------- in a study


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@pytest.mark.parametrize(
    "pruner",
    [MedianPruner(n_startup_trials=3), SuccessiveHalvingPruner(), HyperbandPruner(max_resource=5)],
)
def test_pruned_trials_keep_their_values(backend: str, pruner: object, tmp_path: Path) -> None:
    storage = None if backend == "memory" else f"sqlite:///{tmp_path / 'p.db'}"
    study = hptune.create_study(SPACE, seed=4, storage=storage, pruner=pruner)  # type: ignore[arg-type]
    study.optimize(reporting, n_trials=30, show_progress=False)
    pruned = [t for t in study.trials if t.state is TrialState.PRUNED]
    assert pruned, "some trials must be pruned"
    for t in pruned:
        assert t.intermediate_values
        assert t.error is None
        assert t.value is None
        # Each reported x * step up to the step at which it was pruned.
        assert t.intermediate_values == {
            s: t.params["x"] * s for s in range(len(t.intermediate_values))
        }
    assert study.best_trial.state is TrialState.COMPLETE


# --------------------------------------------------------------------- against Optuna
@pytest.mark.parametrize("maximize", [True, False])
@pytest.mark.parametrize("percentile", [25.0, 50.0, 80.0])
def test_percentile_agrees_with_optuna(maximize: bool, percentile: float) -> None:
    optuna = pytest.importorskip("optuna")
    import numpy as np

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.default_rng(int(percentile) + maximize)
    for _case in range(30):
        n_done, n_steps = int(rng.integers(1, 8)), int(rng.integers(1, 6))
        curves = [
            {s: float(v) for s, v in enumerate(rng.normal(size=n_steps))} for _ in range(n_done)
        ]
        mine = {s: float(v) for s, v in enumerate(rng.normal(size=int(rng.integers(1, 6))))}
        kwargs = {"n_startup_trials": 2, "n_warmup_steps": int(rng.integers(0, 3))}

        view = make_view(maximize)
        for curve in curves:
            add(view, curve)
        ours = PercentilePruner(percentile, **kwargs).prune(view, Live(99, mine))

        study = optuna.create_study(direction="maximize" if maximize else "minimize")
        dist = optuna.distributions.FloatDistribution(0.0, 1.0)
        for curve in curves:
            study.add_trial(
                optuna.trial.create_trial(
                    params={"x": 0.5},
                    distributions={"x": dist},
                    value=0.0,
                    intermediate_values=curve,
                )
            )
        live = study.ask()
        for step, v in mine.items():
            live.report(v, step)
        frozen = study._storage.get_trial(live._trial_id)
        theirs = optuna.pruners.PercentilePruner(percentile, **kwargs).prune(study, frozen)
        assert ours == theirs, (curves, mine, kwargs)


@pytest.mark.parametrize("maximize", [True, False])
@pytest.mark.parametrize(("min_resource", "eta", "rate"), [(1, 3, 0), (1, 2, 1), (2, 2, 0)])
def test_successive_halving_agrees_with_optuna(
    maximize: bool, min_resource: int, eta: int, rate: int
) -> None:
    # Trials run one after another and report every step, the case in which reading rung
    # values at the rung steps equals Optuna's recording them as trial attributes.
    optuna = pytest.importorskip("optuna")
    import numpy as np

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    options = {"min_resource": min_resource, "reduction_factor": eta}
    theirs = optuna.create_study(
        direction="maximize" if maximize else "minimize",
        pruner=optuna.pruners.SuccessiveHalvingPruner(**options, min_early_stopping_rate=rate),
    )
    ours = hptune.create_study(
        SPACE,
        maximize=maximize,
        seed=0,
        pruner=SuccessiveHalvingPruner(**options, min_early_stopping_rate=rate),
    )
    rng = np.random.default_rng(eta * 10 + rate + maximize)
    n_pruned = 0
    for _ in range(40):
        curve = np.cumsum(rng.normal(size=12)).tolist()
        a, b = ours.ask(), theirs.ask()
        for step, v in enumerate(curve):
            a.report(v, step)
            b.report(v, step)
            verdict = a.should_prune()
            assert verdict == b.should_prune(), (step, a.number)
            if verdict:
                ours.tell(a, state="pruned")
                theirs.tell(b, state=optuna.trial.TrialState.PRUNED)
                n_pruned += 1
                break
        else:
            ours.tell(a, curve[-1])
            theirs.tell(b, curve[-1])
    assert n_pruned > 0
