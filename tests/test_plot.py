"""hptune.plot: figure builders on a small mixed study, an empty one and a 100,000-trial one."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hptune
from hptune import HyperparameterSpace as P
from hptune import plot
from strategies import spaces

SPACE = [
    P("lr", "float", 1e-4, 1e-1, log_scale=True),
    P("layers", "int", 1, 6),
    P("opt", "categorical", choices=["adam", "sgd", "rmsprop"]),
    P("dropout", "float", 0.0, 0.5, step=0.05),
]


def _loss(p: dict[str, Any]) -> float:
    return float((math.log10(p["lr"]) + 2.5) ** 2 + 0.1 * (p["layers"] - 3) ** 2)


def _objective(trial: hptune.Trial) -> float:
    p = trial.params
    if p["opt"] == "rmsprop" and p["layers"] == 6:
        raise RuntimeError("diverged")
    base = _loss(p)
    for step in range(12):
        v = base + 3.0 / (step + 1)
        trial.report(v, step)
        if step == 3 and v > 3.0:
            raise hptune.TrialPruned()
    return base


@pytest.fixture(scope="module")
def small() -> hptune.Study:
    study = hptune.create_study(SPACE, "random", maximize=False, seed=0, study_name="small")
    study.optimize(_objective, n_trials=150)
    return study


def _figures(study: Any) -> list[plot.Figure]:
    data = plot.read(study)
    return [
        plot.optimization_history(data),
        plot.parallel_coordinates(data),
        plot.param_importances(data),
        plot.intermediate_values(data),
        *plot.slices(data),
    ]


def _check_svg(fig: plot.Figure) -> ET.Element:
    root = ET.fromstring(fig.svg)  # well-formed XML, one self-contained document
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "href" not in fig.svg  # nothing external
    assert fig.svg in fig._repr_html_()
    assert fig._repr_svg_() == fig.svg
    return root


def test_small_study_figures(small: hptune.Study) -> None:
    trials = small.trials
    states = {s: sum(t.state is s for t in trials) for s in hptune.TrialState}
    assert states[hptune.TrialState.PRUNED] > 0
    assert states[hptune.TrialState.FAILED] > 0
    figs = _figures(small)
    assert len(figs) == 4 + len(SPACE)
    for fig in figs:
        root = _check_svg(fig)
        assert not fig.data.get("empty"), fig.title
        # Beyond the white background: dots, lines or bars.
        marks = [e for e in root.iter() if e.tag.endswith(("path", "polyline", "rect"))]
        assert len(marks) > 2, fig.title

    history = figs[0]
    assert history.data["best_value"] == small.best_value
    assert history.data["best_number"] == small.best_trial.number
    best_line = [v for _, v in history.data["best_so_far"]]
    assert best_line == sorted(best_line, reverse=True)
    assert best_line[-1] == small.best_value
    assert history.data["n_complete"] == states[hptune.TrialState.COMPLETE]

    curves = figs[3]
    reported = [t for t in trials if t.intermediate_values and t.state.value != "failed"]
    assert curves.data["n_curves"] == len(reported)
    assert curves.data["n_pruned"] == states[hptune.TrialState.PRUNED]

    importances = figs[2].data["importances"]
    assert list(importances) == list(hptune.importance(small))


def test_log_axis_and_categorical_slice(small: hptune.Study) -> None:
    lr = plot.slice(small, "lr")
    assert lr.data["log"] is True
    assert "1e-3" in lr.svg
    assert "(log scale)" in lr.svg
    opt = plot.slice(small, "opt")
    for choice in ("adam", "sgd", "rmsprop"):
        assert f">{choice}<" in opt.svg
    with pytest.raises(hptune.InvalidArgumentError, match="no parameter named 'nope'"):
        plot.slice(small, "nope")


def test_maximize_best_so_far_rises() -> None:
    study = hptune.create_study(SPACE, "random", maximize=True, seed=1)
    study.optimize(lambda p: -_loss(p), n_trials=80)
    fig = plot.optimization_history(study)
    line = [v for _, v in fig.data["best_so_far"]]
    assert line == sorted(line)
    assert line[-1] == study.best_value
    assert "(maximize)" in fig.title


def test_empty_study_still_draws() -> None:
    study = hptune.create_study(SPACE, "random", maximize=False, seed=2)
    for fig in _figures(study):
        _check_svg(fig)
        assert fig.data.get("empty") is True
    table = plot.trials_table(study)
    assert "0 trials" in table.note
    assert "<svg" in plot.report(study)


def test_trials_table(small: hptune.Study) -> None:
    table = plot.trials_table(small, best=10, last=5)
    (best_caption, best_rows), (last_caption, last_rows) = table.sections
    assert len(best_rows) == 10
    assert len(last_rows) == 5
    values = [float(r[2]) for r in best_rows]
    assert values == sorted(values)
    assert best_rows[0][0] == str(small.best_trial.number)
    assert [int(r[0]) for r in last_rows] == list(range(149, 144, -1))
    assert "of 150 trials" in last_caption
    assert "completed trials" in best_caption
    html = table._repr_html_()
    assert html.count("<tr>") == 10 + 5 + 2
    with pytest.raises(hptune.InvalidArgumentError):
        plot.trials_table(small, best=-1)


def test_save(small: hptune.Study, tmp_path: Path) -> None:
    fig = plot.optimization_history(small)
    fig.save(tmp_path / "h.svg")
    fig.save(tmp_path / "h.html")
    assert (tmp_path / "h.svg").read_text(encoding="utf-8") == fig.svg
    assert fig.svg in (tmp_path / "h.html").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- at scale
N_LARGE = 100_000
SVG_CAP = 300_000  # bytes per figure
REPORT_CAP = 3_000_000


@pytest.fixture(scope="module")
def large() -> hptune.Study:
    space = [*SPACE, *(P(f"x{i}", "float", 0.0, 1.0) for i in range(6))]
    study = hptune.create_study(space, "random", maximize=False, seed=3, study_name="large")
    # The fast serial loop (params dict in, float out) runs at a few microseconds per trial.
    study.optimize(_loss, n_trials=N_LARGE - 1000)
    # A thousand trials report curves, some pruned, through the general path.
    study.optimize(_objective, n_trials=1000)
    return study


def test_large_study_draws_a_sample_but_counts_everything(large: hptune.Study) -> None:
    data = plot.read(large)
    assert data.n == N_LARGE
    n_complete = int(data.complete.sum())
    figs = _figures(data)
    for fig in figs:
        _check_svg(fig)
        assert len(fig.svg.encode()) < SVG_CAP, (fig.title, len(fig.svg))
    history, parallel, importances, curves = figs[:4]
    assert history.data["n_complete"] == n_complete
    assert history.data["best_value"] == large.best_value
    assert history.data["n_drawn"] <= plot.MAX_POINTS
    # The drawn sample keeps the best trial and spans the whole run.
    drawn = history.data["drawn_numbers"]
    assert large.best_trial.number in drawn
    assert min(drawn) < 100
    assert max(drawn) > N_LARGE - 1100
    assert parallel.data["n_drawn"] <= plot.MAX_LINES
    assert importances.data["n_complete"] == n_complete
    assert curves.data["n_drawn"] <= plot.MAX_CURVES
    assert curves.data["n_curves"] >= 900
    for fig in figs[4:]:
        assert fig.data["n_drawn"] <= plot.MAX_POINTS
        assert fig.data["n_complete"] == n_complete
    html = plot.report(data)
    assert len(html.encode()) < REPORT_CAP
    assert f"{N_LARGE:,}" in html


def test_sample_helper() -> None:
    from hptune.plot import _sample

    keep = np.array([5, 999, 5, 42])
    idx = _sample(1000, 100, keep)
    assert len(idx) == 100
    assert {5, 42, 999} <= set(idx.tolist())
    assert list(idx) == sorted(set(idx.tolist()))
    assert list(_sample(10, 100, keep)) == list(range(10))


# ----------------------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(
    space=spaces(max_dims=4),
    values=st.lists(st.floats(-1e12, 1e12, allow_nan=False), max_size=40),
    maximize=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_any_study_draws_well_formed_figures(
    space: list[hptune.HyperparameterSpace], values: list[float], maximize: bool, seed: int
) -> None:
    study = hptune.create_study(space, "random", maximize=maximize, seed=seed)
    for k, v in enumerate(values):
        trial = study.ask()
        if k % 7 == 3:
            trial.report(v, 0)
            study.tell(trial, state="pruned")
        else:
            study.tell(trial, v)
    for fig in _figures(study):
        _check_svg(fig)
    if sum(1 for k in range(len(values)) if k % 7 != 3) >= 4:
        assert sum(hptune.importance(study).values()) == pytest.approx(1.0)
    ET.fromstring(plot.trials_table(study).to_html())


def test_names_and_choices_are_escaped() -> None:
    space = [
        P('a<b&"c', "float", 0.0, 1.0),
        P("cat", "categorical", choices=["<script>alert(1)</script>", "x&y"]),
    ]
    study = hptune.create_study(space, "random", maximize=False, seed=0)
    study.optimize(lambda p: p['a<b&"c'], n_trials=20)
    for fig in _figures(study):
        _check_svg(fig)
        assert "<script>" not in fig.svg
    html = plot.report(study)
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


def test_many_improvements_thin_the_line_but_keep_the_best() -> None:
    # Every trial improves on the last: more change points than a figure draws.
    study = hptune.create_study([P("x", "float", 0.0, 1.0)], maximize=True, seed=0)
    n = plot.MAX_POINTS * 2 + 17
    for k in range(n):
        study.tell(study.ask(), float(k))
    fig = plot.optimization_history(study)
    line = fig.data["best_so_far"]
    assert len(line) <= plot.MAX_POINTS
    assert line[0] == (0, 0.0)
    assert line[-1] == (n - 1, float(n - 1))
    assert [v for _, v in line] == sorted(v for _, v in line)
