"""The report, the figures and ``hptune show`` / ``export`` on multi-objective and constrained
studies: the Pareto front plotted and marked, feasible and infeasible trials told apart."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hptune
from hptune import HyperparameterSpace, cli, plot
from hptune._multi_objective import non_dominated
from hptune._report import render_report
from hptune._study_data import StudyData

SPACE = [HyperparameterSpace("x", "float", 0.0, 1.0), HyperparameterSpace("y", "float", 0.0, 1.0)]


def two(params: dict[str, Any]) -> tuple[float, float]:
    return params["x"], 1.0 - params["y"] - params["x"] ** 2


def below(record: hptune.TrialRecord) -> list[float]:
    return [record.params["y"] - 0.8]


def multi_study(storage: Any = None, constrained: bool = True) -> hptune.Study:
    study = hptune.create_study(
        SPACE,
        directions=["minimize", "maximize"],
        seed=0,
        storage=storage,
        study_name="mo",
        constraints_func=below if constrained else None,
    )
    study.optimize(two, n_trials=60, show_progress=False)
    return study


def single_study(storage: Any = None) -> hptune.Study:
    study = hptune.create_study(
        SPACE,
        "tpe",
        maximize=False,
        seed=0,
        storage=storage,
        study_name="so",
        constraints_func=lambda r: [r.params["x"] + r.params["y"] - 1.0],
    )
    study.optimize(lambda p: (p["x"] - 1) ** 2 + (p["y"] - 1) ** 2, n_trials=30)
    return study


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), max_size=30))
def test_two_objective_front_matches_brute_force(points: list[tuple[int, int]]) -> None:
    losses = np.array(points, dtype=np.float64).reshape(-1, 2)
    want = [not any(np.all(q <= p) and np.any(q < p) for q in losses) for p in losses]
    assert non_dominated(losses).tolist() == want


def test_pareto_figure_marks_the_front_and_infeasible_trials() -> None:
    study = multi_study()
    fig = plot.pareto_front(study)
    front = [t.number for t in study.best_trials]
    assert fig.data["front_numbers"] == front
    assert fig.data["n_front"] == len(front)
    complete = [t for t in study.trials if t.values is not None]
    assert fig.data["n_infeasible"] == sum(not t.feasible for t in complete) > 0
    assert 'class="hp-front"' in fig.svg
    assert 'class="hp-infeasible"' in fig.svg
    assert "objective 2 (maximize)" in fig.svg
    unconstrained = plot.pareto_front(multi_study(constrained=False))
    assert "hp-infeasible" not in unconstrained.svg


def test_pareto_figure_of_a_single_objective_study_says_so() -> None:
    fig = plot.pareto_front(single_study())
    assert fig.data["empty"]
    assert "one objective" in fig.svg


def test_history_of_a_constrained_study_follows_feasible_trials() -> None:
    study = single_study()
    fig = plot.optimization_history(study)
    assert fig.data["best_value"] == study.best_value
    assert fig.data["n_infeasible"] == sum(not t.feasible for t in study.trials) > 0
    assert 'class="hp-infeasible"' in fig.svg
    # The best-so-far line never goes below the best feasible value.
    assert min(v for _, v in fig.data["best_so_far"]) == study.best_value


def test_report_of_multi_objective_and_constrained_studies() -> None:
    html = render_report(multi_study())
    assert 'data-plot="pareto"' in html
    assert "Pareto front" in html
    assert "<th>front</th>" in html
    assert "<th>feasible</th>" in html
    single = render_report(single_study())
    assert 'data-plot="pareto"' not in single
    assert "<th>feasible</th>" in single
    assert "of 30 completed trials" in single


def test_trials_table_lists_the_front_first() -> None:
    study = multi_study()
    table = plot.trials_table(StudyData.from_study(study), best=3)
    columns = table.columns
    assert columns[:6] == ("number", "state", "value", "values", "front", "feasible")
    best_rows = table.sections[0][1]
    front = {str(t.number) for t in study.best_trials}
    assert {r[0] for r in best_rows[: len(front)]} <= front
    assert all(r[4] == "yes" for r in best_rows[: min(3, len(front))])


def test_show_and_export_of_stored_studies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.db"
    url = f"sqlite:///{path}"
    study = multi_study(url)
    single_study(url)
    assert cli.main(["show", str(path), "--study", "mo", "--limit", "60"]) == 0
    out = capsys.readouterr().out
    front = study.best_trials
    assert f"Pareto front: {len(front)} trials:" in out
    for t in front:
        assert f"trial {t.number}: values (" in out
    assert "feasible: " in out
    assert " no " in out
    assert cli.main(["show", str(path), "--study", "so"]) == 0
    out = capsys.readouterr().out
    assert "best: trial" in out
    assert "feasible" in out
    assert cli.main(["report", str(path), "--study", "mo", "-o", str(tmp_path / "r.html")]) == 0
    assert 'data-plot="pareto"' in (tmp_path / "r.html").read_text()
    capsys.readouterr()
    assert cli.main(["export", str(path), "--study", "mo", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 60
    assert rows[0]["values"].startswith("[")
    assert rows[0]["constraints"].startswith("[")
