"""Grid search: every point exactly once, the level rules, laziness, shuffling, resume."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hptune
from hptune import GridSampler, GridSearchTuner, HyperparameterSpace, SearchSpace
from hptune._core import Grid

SPACE = [
    HyperparameterSpace("lr", "float", 1e-3, 1e-1, log_scale=True),
    HyperparameterSpace("k", "int", 1, 3),
    HyperparameterSpace("n", "int", 0, 100),
    HyperparameterSpace("opt", "categorical", choices=["adam", "sgd"]),
]


def test_levels_follow_the_rules() -> None:
    g = Grid(SearchSpace(SPACE).core, 5)
    lr, k, n, opt = g.levels()
    assert lr[0] == pytest.approx(1e-3)
    assert lr[2] == pytest.approx(1e-2)
    assert lr[4] == pytest.approx(1e-1)
    assert k == [1.0, 2.0, 3.0]
    assert n == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert opt == [0.0, 1.0]
    assert g.size == 5 * 3 * 5 * 2


@pytest.mark.parametrize("shuffle", [False, True])
def test_tuner_runs_every_point_exactly_once(shuffle: bool) -> None:
    seen = []

    def objective(p: dict[str, object]) -> float:
        seen.append(tuple(p.values()))
        return float(p["k"])  # type: ignore[arg-type]

    result = GridSearchTuner(SPACE, objective, shuffle=shuffle, seed=4).tune()
    assert len(seen) == 150
    assert len(set(seen)) == 150
    assert result.best_score == 3.0
    lr_levels = sorted({s[0] for s in seen})
    expected = set(itertools.product(lr_levels, [1, 2, 3], [0, 25, 50, 75, 100], ["adam", "sgd"]))
    assert set(seen) == expected


def test_shuffle_changes_order_but_not_set() -> None:
    a = GridSearchTuner(SPACE, lambda p: 0.0, shuffle=False).tune()
    b = GridSearchTuner(SPACE, lambda p: 0.0, shuffle=True, seed=1).tune()
    pa = [tuple(t.params.values()) for t in a.trials]
    pb = [tuple(t.params.values()) for t in b.trials]
    assert pa != pb
    assert sorted(pa, key=str) == sorted(pb, key=str)


def test_resolution_and_budget() -> None:
    tuner = GridSearchTuner(SPACE[:1], lambda p: p["lr"], resolution=7, n_trials=3)
    result = tuner.tune()
    assert len(result.trials) == 3
    assert tuner.grid_size == 7
    with pytest.raises(hptune.InvalidArgumentError, match="resolution"):
        GridSampler(resolution=1)


def test_huge_grid_is_usable() -> None:
    space = [HyperparameterSpace(f"x{i}", "float", 0.0, 1.0) for i in range(12)]
    g = Grid(SearchSpace(space).core, 10, 3)
    assert g.size == 10**12
    last = g.points(10**12 - 1, 1)
    assert last.shape == (1, 12)
    study = hptune.create_study(space, "grid", resolution=10, shuffle=True, seed=0)
    study.optimize(lambda p: p["x0"], n_trials=5)
    assert len(study.trials) == 5
    with pytest.raises(hptune.OutOfRangeError):
        g.points(10**12, 1)


def test_enqueued_points_are_not_repeated() -> None:
    space = SPACE[1:2]
    study = hptune.create_study(space, "grid")
    study.enqueue({"k": 2})
    study.optimize(lambda p: float(p["k"]), n_trials=None)
    assert sorted(t.params["k"] for t in study.trials) == [1, 2, 3]


@settings(max_examples=20)
@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=4),
    st.integers(2, 4),
    st.one_of(st.none(), st.integers(0, 1000)),
)
def test_grid_enumeration_is_a_bijection(sizes: list[int], res: int, seed: int | None) -> None:
    space = [
        HyperparameterSpace(f"c{i}", "categorical", choices=list(range(n)))
        for i, n in enumerate(sizes)
    ]
    g = Grid(SearchSpace(space).core, res, seed)
    total = g.size
    rows = g.points(0, total).tolist()
    assert len({tuple(r) for r in rows}) == total
    for rank, row in enumerate(rows):
        index = g.index_of_point(row)
        assert index is not None
        assert g.rank_of_index(index) == rank
