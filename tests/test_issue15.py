"""Regressions found by an adversarial run (issue 15): each test pins one fixed bug."""

from __future__ import annotations

import csv
import math
import sqlite3
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hptune
from hptune import InvalidArgumentError, StorageError, TrialState, cli
from hptune.pruners import PercentilePruner
from hptune.samplers import BayesianSampler, Sampler

SPACE = {"x": hptune.HyperparameterSpace("x", "float", 0.0, 1.0)}


# ----------------------------------------------------------------------------- 1. foreign trials
def test_tell_refuses_a_trial_of_another_study() -> None:
    a = hptune.create_study(SPACE, seed=0, study_name="a")
    b = hptune.create_study(SPACE, seed=0, study_name="b")
    trial_a = a.ask()
    trial_b = b.ask()
    with pytest.raises(InvalidArgumentError, match="belongs to study 'a'"):
        b.tell(trial_a, 123.0)
    # Nothing changed: both trials still run, and each study finishes its own.
    assert [t.state for t in a.trials] == [TrialState.RUNNING]
    assert [t.state for t in b.trials] == [TrialState.RUNNING]
    assert a.tell(trial_a, 1.0).state is TrialState.COMPLETE
    assert b.tell(trial_b, 2.0).value == 2.0
    with pytest.raises(InvalidArgumentError, match="trial must be"):
        b.tell("0", 1.0)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- 2. real booleans
@pytest.mark.parametrize("flag", ["minimize", "False", None, 0, 1, 1.0])
def test_flags_must_be_booleans(flag: object) -> None:
    with pytest.raises(InvalidArgumentError, match="maximize must be True or False"):
        hptune.create_study(SPACE, maximize=flag, seed=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="maximize must be True or False"):
        hptune.RandomSearchTuner(SPACE, lambda p: p["x"], maximize=flag)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="maximize must be True or False"):
        hptune.MethodTuner(SPACE, lambda p: p["x"], maximize=flag, method="tpe")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="'lr': log_scale must be True or False"):
        hptune.HyperparameterSpace("lr", "float", 0.1, 1.0, log_scale=flag)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="load_if_exists must be True or False"):
        hptune.create_study(SPACE, seed=0, load_if_exists=flag)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="shuffle must be True or False"):
        hptune.GridSearchTuner(SPACE, lambda p: p["x"], shuffle=flag)


@pytest.mark.parametrize("flag", ["yes", "False", 0, 1, 1.0])
def test_optional_flags_take_booleans_or_none(flag: object) -> None:
    study = hptune.create_study(SPACE, seed=0)
    with pytest.raises(InvalidArgumentError, match=r"show_progress must be True, False or None"):
        study.optimize(lambda p: p["x"], n_trials=1, show_progress=flag)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"trust_region must be True, False or None"):
        BayesianSampler(trust_region=flag)  # type: ignore[arg-type]
    assert BayesianSampler(trust_region=np.bool_(False)).trust_region is False
    assert BayesianSampler(trust_region=None).trust_region is None


def test_numpy_booleans_are_booleans() -> None:
    study = hptune.create_study(SPACE, maximize=np.bool_(False), seed=0)
    assert study.maximize is False
    p = hptune.HyperparameterSpace("lr", "float", 0.1, 1.0, log_scale=np.bool_(True))
    assert p.log_scale is True


# ----------------------------------------------------------------------------- 3. non-numbers fail
@pytest.mark.parametrize("bad", ["1.5", b"1.5", True, np.bool_(True), np.array([1.5]), None])
def test_non_numbers_fail_the_trial(bad: object) -> None:
    study = hptune.create_study(SPACE, seed=0)
    study.optimize(lambda p: bad, n_trials=2, show_progress=False)
    assert [t.state for t in study.trials] == [TrialState.FAILED] * 2
    assert "not a number" in (study.trials[0].error or "")
    trial = study.ask()
    record = study.tell(trial, bad)
    assert record.state is TrialState.FAILED
    with pytest.raises(InvalidArgumentError, match="must be a number"):
        study.ask().report(bad, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "good", [2, 1.5, np.float32(1.5), np.int64(3), np.float64(0.5), np.array(2.5)]
)
def test_numbers_complete_the_trial(good: object) -> None:
    study = hptune.create_study(SPACE, seed=0)
    study.optimize(lambda p: good, n_trials=2, show_progress=False)
    assert [t.value for t in study.trials] == [float(good)] * 2  # type: ignore[arg-type]


def test_validate_counts_a_string_score_as_an_error() -> None:
    result = hptune.RandomSearchTuner(SPACE, lambda p: p["x"], n_trials=5, seed=0).tune()
    report = hptune.validate(result, lambda p: "1.5", top_k=1, n_repeats=2)
    assert report.best.n == 0
    assert all("not a number" in e for e in report.best.errors)


# ----------------------------------------------------------------------------- 4. tuple choices
def test_tuple_choices_round_trip_through_sqlite(tmp_path: Path) -> None:
    space = {
        "shape": hptune.HyperparameterSpace(
            "shape", "categorical", choices=[(1, 2), (3, (4, 5))], default=(1, 2)
        )
    }
    url = f"sqlite:///{tmp_path / 'tuples.db'}"
    study = hptune.create_study(space, "tpe", seed=0, storage=url, study_name="t")
    study.optimize(lambda p: float(p["shape"][0]), n_trials=4, show_progress=False)
    study.enqueue({"shape": (3, (4, 5))})
    assert {t.params["shape"] for t in study.trials} <= {(1, 2), (3, (4, 5))}
    again = hptune.create_study(
        space, "tpe", seed=0, storage=url, study_name="t", load_if_exists=True
    )
    again.optimize(lambda p: float(p["shape"][0]), n_trials=2, show_progress=False)
    assert again.trials[4].params == {"shape": (3, (4, 5))}
    loaded = hptune.load_study(study_name="t", storage=url)
    assert loaded.space["shape"].choices == ((1, 2), (3, (4, 5)))
    assert loaded.space["shape"].default == (1, 2)
    assert all(isinstance(t.params["shape"], tuple) for t in loaded.trials)
    assert loaded.best_params == {"shape": (3, (4, 5))}
    assert loaded.history is not None
    assert len(loaded.history) == 6  # the sampler learns from every trial again


# ----------------------------------------------------------------------------- 5. stored method
def test_a_continued_study_keeps_its_stored_method_and_seed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    first = hptune.create_study(SPACE, "tpe", seed=1, storage=url, study_name="s", gamma=0.2)
    first.optimize(lambda p: p["x"], n_trials=3, show_progress=False)
    with pytest.warns(UserWarning, match=r"method 'tpe'.*seed 1.*ignoring the given method "):
        again = hptune.create_study(
            SPACE, "bayesian", seed=2, storage=url, study_name="s", load_if_exists=True
        )
    assert again.method == "tpe"
    assert again.seed == 1
    assert isinstance(again.sampler, hptune.TPESampler)
    assert again.sampler.gamma == 0.2
    again.optimize(lambda p: p["x"], n_trials=1, show_progress=False)
    assert again.sampler.seed == 1
    with pytest.warns(UserWarning, match=r"ignoring the given method options"):
        hptune.create_study(SPACE, "tpe", storage=url, study_name="s", load_if_exists=True)
    with pytest.warns(UserWarning, match=r"ignoring the given seed 5"):
        hptune.create_study(
            SPACE, "tpe", seed=5, storage=url, study_name="s", load_if_exists=True, gamma=0.2
        )
    tuner = hptune.BayesianOptimizationTuner(
        SPACE,
        lambda p: p["x"],
        n_trials=2,
        seed=3,
        storage=url,
        study_name="s",
        load_if_exists=True,
    )
    with pytest.warns(UserWarning, match=r"ignoring the given method 'bayesian', seed 3"):
        result = tuner.tune()
    assert result.method == "tpe"
    assert tuner.study is not None
    assert tuner.study.sampler.seed == 1


def test_a_continued_study_given_nothing_new_does_not_warn(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'quiet.db'}"
    hptune.create_study(SPACE, "tpe", seed=1, storage=url, study_name="s")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study = hptune.create_study(SPACE, storage=url, study_name="s", load_if_exists=True)
        hptune.create_study(SPACE, "tpe", seed=1, storage=url, study_name="s", load_if_exists=True)
    assert study.method == "tpe"


def test_cli_tune_continues_a_stored_study_with_its_method(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "space.json").write_text('{"x": {"type": "float", "min": 1, "max": 2}}')
    (tmp_path / "issue15_objective.py").write_text("def f(p):\n    return p['x']\n")
    args = ["tune", "space.json", "issue15_objective:f", "--trials", "2", "--no-progress"]
    args += ["--storage", "s.db", "--study", "s"]
    assert cli.main([*args, "--method", "tpe"]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cli.main(args) == 0
    assert "tuning issue15_objective:f over 1 parameters: tpe, 2 trials" in capsys.readouterr().out


# ----------------------------------------------------------------------------- 6. damaged files
def _damaged_db(tmp_path: Path) -> Path:
    path = tmp_path / "damaged.db"
    study = hptune.create_study(SPACE, seed=0, storage=f"sqlite:///{path}", study_name="s")
    study.optimize(lambda p: p["x"], n_trials=300, show_progress=False)
    study.storage.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # Keep the schema pages, overwrite the trials: the file opens, reading trials fails.
    data = bytearray(path.read_bytes())
    data[16384:] = b"\xff" * (len(data) - 16384)
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_sqlite_file_raises_storage_error(tmp_path: Path) -> None:
    path = _damaged_db(tmp_path)
    with pytest.raises(StorageError, match=r"damaged\.db.* is damaged .*malformed"):
        hptune.load_study(study_name="s", storage=f"sqlite:///{path}").trials  # noqa: B018


def test_cli_reports_a_damaged_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _damaged_db(tmp_path)
    for command in ("show", "export", "studies"):
        assert cli.main([command, str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        assert err[0].startswith("hptune: error: ")
        assert "damaged.db" in err[0]


# ----------------------------------------------------------------------------- 7. method options
@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("tpe", {"prior_weight": math.inf}, "prior_weight must be a finite number > 0"),
        ("tpe", {"prior_weight": math.nan}, "prior_weight must be a finite number > 0"),
        ("tpe", {"prior_weight": 0.0}, "prior_weight must be a finite number > 0"),
        ("tpe", {"gamma": math.nan}, r"gamma must be a finite number in \(0, 1\]"),
        ("tpe", {"gamma": 0}, r"gamma must be a finite number in \(0, 1\]"),
        ("tpe", {"gamma": True}, "gamma must be a number"),
        ("tpe", {"gamma": "0.1"}, "gamma must be a number"),
        ("tpe", {"n_candidates": 0}, r"n_candidates must be an int in \[1, "),
        ("tpe", {"max_good": 2**64}, r"max_good must be an int in \[1, "),
        ("tpe", {"n_startup_trials": -1}, r"n_startup_trials must be an int in \[0, "),
        ("bayesian", {"beta": math.inf}, "beta must be a finite number >= 0"),
        ("bayesian", {"fit_max_points": 1}, r"fit_max_points must be an int in \[2, "),
        ("bayesian", {"n_restarts": 1.5}, "n_restarts must be an int >= 1"),
        ("bayesian", {"acquisition": 3}, "unknown acquisition 3"),
        ("grid", {"resolution": 1}, r"resolution must be an int in \[2, "),
    ],
)
def test_method_options_are_checked_at_construction(
    method: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        hptune.create_study(SPACE, method, seed=0, **options)


class _BrokenSampler(Sampler):
    name = "broken"

    def suggest(self, history: object, numbers: Sequence[int]) -> list[dict[str, Any]]:
        raise RuntimeError("sampler bug")


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_a_failed_ask_leaves_no_running_trial(storage: str, tmp_path: Path) -> None:
    url = None if storage == "memory" else f"sqlite:///{tmp_path / 'ask.db'}"
    study = hptune.create_study(SPACE, _BrokenSampler(), seed=0, storage=url)
    study.enqueue({"x": 0.5})
    with pytest.raises(RuntimeError, match="sampler bug"):
        study.ask(3)
    with pytest.raises(RuntimeError, match="sampler bug"):
        study.optimize(lambda p: p["x"], n_trials=2, show_progress=False)
    states = [t.state for t in study.trials]
    assert states == [TrialState.FAILED] * 4
    assert all("ask failed: RuntimeError: sampler bug" in (t.error or "") for t in study.trials)


# ----------------------------------------------------------------------------- 8. nonsense input
def _objective(p: dict[str, Any]) -> float:
    return float(p["x"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_delta": math.nan}, "min_delta must be a finite number >= 0"),
        ({"min_delta": "x"}, "min_delta must be a number >= 0, got str 'x'"),
        ({"target_score": math.nan}, "target_score must be a finite number"),
        ({"trial_timeout": "5"}, "trial_timeout must be a number of seconds > 0, got str '5'"),
        ({"timeout": "5"}, "timeout must be a number of seconds > 0, got str '5'"),
        ({"callbacks": 5}, "callbacks must be a list of functions"),
        ({"callbacks": [5]}, r"callbacks\[0\] must be a function"),
    ],
)
def test_optimize_refuses_nonsense(kwargs: dict[str, Any], message: str) -> None:
    study = hptune.create_study(SPACE, seed=0)
    with pytest.raises(InvalidArgumentError, match=message):
        study.optimize(_objective, n_trials=3, show_progress=False, **kwargs)
    assert study.trials == []  # refused before the first trial
    with pytest.raises(InvalidArgumentError, match=message):
        hptune.RandomSearchTuner(SPACE, _objective, n_trials=3, **kwargs).tune()


def test_optimize_needs_a_callable_objective() -> None:
    study = hptune.create_study(SPACE, seed=0)
    with pytest.raises(InvalidArgumentError, match="objective must be callable"):
        study.optimize(5, n_trials=1)  # type: ignore[arg-type]


def test_pruners_must_be_pruners() -> None:
    with pytest.raises(InvalidArgumentError, match="percentile must be a number"):
        PercentilePruner("50")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="percentile must be a finite number"):
        PercentilePruner(math.nan)
    with pytest.raises(InvalidArgumentError, match="pruner must be None or have a prune"):
        hptune.create_study(SPACE, seed=0, pruner=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="pruner must be None or have a prune"):
        hptune.RandomSearchTuner(SPACE, _objective, pruner=5)  # type: ignore[arg-type]


def test_sqlite_timeout_must_not_be_negative(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="timeout must be a finite number of seconds"):
        hptune.SQLiteStorage(f"sqlite:///{tmp_path / 't.db'}", timeout=-1.0)


def test_zero_trials() -> None:
    study = hptune.create_study(SPACE, seed=0)
    study.optimize(_objective, n_trials=0)  # as in Optuna: nothing runs
    assert study.trials == []
    with pytest.raises(InvalidArgumentError, match="n_trials must be >= 1"):
        hptune.RandomSearchTuner(SPACE, _objective, n_trials=0).tune()
    with pytest.raises(InvalidArgumentError, match="n_trials must be an int >= 1 or None"):
        hptune.RandomSearchTuner(SPACE, _objective, n_trials=-1)


def test_load_study_does_not_create_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(StorageError, match="no such file"):
        hptune.load_study(study_name="s", storage=f"sqlite:///{path}")
    assert not path.exists()


def test_validate_refuses_nonsense() -> None:
    result = hptune.RandomSearchTuner(SPACE, _objective, n_trials=5, seed=0).tune()
    with pytest.raises(InvalidArgumentError, match="result must be the TuningResult"):
        hptune.validate(None, _objective)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="objective_function must be callable"):
        hptune.validate(result, 5)  # type: ignore[arg-type]
    for seed in (-1, "a", True, None):
        with pytest.raises(InvalidArgumentError, match="seed must be an int"):
            hptune.validate(result, _objective, seed=seed)  # type: ignore[arg-type]
    # The tuners' name for the objective: validate and race take a tuner's result.
    assert hptune.validate(result, objective_function=_objective, top_k=1, n_repeats=1).robust
    assert hptune.validation.race(result, objective_function=_objective, top_k=1, n_seeds=1).robust
    with pytest.raises(InvalidArgumentError, match=r"baseline: parameter 'x': 2\.0 is not"):
        hptune.validate(result, _objective, baseline={"x": 2.0})
    with pytest.raises(InvalidArgumentError, match=r"baseline: params have unknown names \['y'\]"):
        hptune.validate(result, _objective, baseline={"x": 0.5, "y": 1})
    report = hptune.validate(result, _objective, n_repeats=2, baseline={"x": 0.5})
    assert report.entries[-1].label == "baseline"


@pytest.fixture
def stored_db(tmp_path: Path) -> Path:
    path = tmp_path / "s.db"
    study = hptune.create_study(SPACE, seed=0, storage=f"sqlite:///{path}", study_name="s")
    study.optimize(_objective, n_trials=5, show_progress=False)
    return path


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("hptune: error: ")
    return err[0]


def test_cli_refuses_nonsense(
    stored_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["show", str(stored_db), "--limit", "-3"]) == 2
    assert "--limit must be a non-negative" in _one_error_line(capsys)
    assert cli.main(["show", str(stored_db), "--limit", "0"]) == 0
    assert "(5 earlier trials not shown" in capsys.readouterr().out
    xlsx = tmp_path / "x.xlsx"
    assert cli.main(["export", str(stored_db), "-o", str(xlsx)]) == 2
    assert "must end in .csv or .json" in _one_error_line(capsys)
    assert not xlsx.exists()
    out = tmp_path / "x.json"
    assert cli.main(["export", str(stored_db), "-o", str(out), "--format", "csv"]) == 2
    assert "does not match" in _one_error_line(capsys)
    assert cli.main(["export", str(stored_db), "-o", str(out)]) == 0
    assert out.read_text().startswith("[")
    space = tmp_path / "space.json"
    space.write_bytes(b'{"x": {"type": "float", "min": 0, "max": 1, "note": "caf\xe9"}}')
    assert cli.main(["tune", str(space), "math:sqrt", "--no-progress"]) == 2
    assert "not UTF-8 text" in _one_error_line(capsys)


# ----------------------------------------------------------------------------- 9. SystemExit
def _exits(p: dict[str, Any]) -> float:
    raise SystemExit("objective called sys.exit")


def _exits_with_trial(trial: Any) -> float:
    raise SystemExit(3)


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("objective", [_exits, _exits_with_trial])
def test_system_exit_fails_the_trial_then_propagates(
    storage: str, objective: Any, tmp_path: Path
) -> None:
    url = None if storage == "memory" else f"sqlite:///{tmp_path / 'exit.db'}"
    study = hptune.create_study(SPACE, seed=0, storage=url)
    with pytest.raises(SystemExit):
        study.optimize(objective, n_trials=3, show_progress=False)
    [trial] = study.trials
    assert trial.state is TrialState.FAILED
    assert (trial.error or "").startswith("SystemExit: ")


def test_an_exception_outside_catch_fails_the_trial() -> None:
    study = hptune.create_study(SPACE, seed=0)
    with pytest.raises(ZeroDivisionError):
        study.optimize(lambda p: 1 / 0, n_trials=2, catch=(ValueError,), show_progress=False)
    assert [t.state for t in study.trials] == [TrialState.FAILED]


# ----------------------------------------------------------------------------- 11. security
def _raises_formula(p: dict[str, Any]) -> float:
    if p["op"] == "=SUM(A1:A2)":
        raise ValueError('=HYPERLINK("http://example.invalid")')
    return -1.5


def test_csv_export_neutralises_formulas(tmp_path: Path) -> None:
    space = {
        "op": hptune.HyperparameterSpace(
            "op", "categorical", choices=["=SUM(A1:A2)", "+1+2", "-2", "@x", "plain", "-2.5e3"]
        )
    }
    path = tmp_path / "f.db"
    study = hptune.create_study(space, "grid", seed=0, storage=f"sqlite:///{path}", study_name="s")
    study.optimize(_raises_formula, show_progress=False)
    out = tmp_path / "t.csv"
    assert cli.main(["export", str(path), "-o", str(out)]) == 0
    with out.open(newline="") as f:
        rows = {r["number"]: r for r in csv.DictReader(f)}
    by_op = {r["params_op"]: r for r in rows.values()}
    assert set(by_op) == {"'=SUM(A1:A2)", "'+1+2", "-2", "'@x", "plain", "-2.5e3"}
    assert by_op["'=SUM(A1:A2)"]["error"].startswith("ValueError: =HYPERLINK")
    assert by_op["plain"]["value"] == "-1.5"  # a number stays a number
    bad = hptune.create_study(space, seed=0, storage=f"sqlite:///{path}", study_name="=cmd")
    trial = bad.ask()
    bad.tell(trial, state="failed", error="-cmd|' /C calc'!A0")
    assert cli.main(["export", str(path), "--study", "=cmd", "-o", str(out)]) == 0
    with out.open(newline="") as f:
        [row] = list(csv.DictReader(f))
    assert row["error"] == "'-cmd|' /C calc'!A0"


def test_show_and_studies_escape_control_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.db"
    name = "evil\x1b[2J\x1b]0;pwned\x07\u202e"
    study = hptune.create_study(SPACE, seed=0, storage=f"sqlite:///{path}", study_name=name)
    trial = study.ask()
    study.tell(trial, state="failed", error="boom\x1b[31m\nFAKE LINE\r")
    capsys.readouterr()
    assert cli.main(["studies", str(path)]) == 0
    assert cli.main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\u202e" not in out
    assert "\r" not in out
    assert "evil\\x1b[2J" in out
    assert "error: boom\\x1b[31m\\nFAKE LINE\\r" in out


def _fails_here(p: dict[str, Any]) -> float:
    raise RuntimeError("no")


def test_error_text_keeps_the_base_name_of_the_source_file() -> None:
    study = hptune.create_study(SPACE, seed=0)
    study.optimize(_fails_here, n_trials=1, show_progress=False)
    error = study.trials[0].error or ""
    assert "(at test_issue15.py:" in error
    assert str(Path(__file__).parent) not in error


# ----------------------------------------------------------------------------- 13. --version
def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"hptune {hptune.__version__}"
