"""The ``hptune tune`` and ``hptune report`` commands: results, help, and user mistakes as one
line with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hptune
from hptune import cli

SPACE = {
    "learning_rate": {"type": "float", "min": 0.001, "max": 0.1, "log": True},
    "layers": {"param_type": "int", "min_value": 1, "max_value": 6},
    "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
}
OBJECTIVE = """
import math

def objective(p):
    return (math.log10(p["learning_rate"]) + 2) ** 2 + (0.5 if p["optimizer"] == "sgd" else 0.0)

def broken(p):
    raise ValueError("always")

not_callable = 3
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """A current directory holding space files and an objective module with a unique name."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    module = f"objective_{request.node.name.replace('[', '_').replace(']', '').replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(OBJECTIVE, encoding="utf-8")
    (tmp_path / "space.json").write_text(json.dumps(SPACE), encoding="utf-8")
    (tmp_path / "space.toml").write_text(
        '[learning_rate]\ntype = "float"\nmin = 0.001\nmax = 0.1\nlog = true\n'
        '[optimizer]\nchoices = ["adam", "sgd"]\n',
        encoding="utf-8",
    )
    return module


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hptune: error: ")
    return lines[0]


def test_tune_json(workdir: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["tune", "space.json", f"{workdir}:objective", "--minimize", "--trials", "60"]
    assert cli.main([*args, "--seed", "3", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "random, 60 trials, minimize" in out
    assert "60 trials: 60 complete" in out
    assert "best: trial" in out
    assert "optimizer='adam'" in out


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TOML space files need tomllib")
def test_tune_toml_maximize(workdir: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["tune", "space.toml", f"{workdir}:objective", "--maximize", "--trials", "10"]
    assert cli.main([*args, "--method", "sobol", "--no-progress"]) == 0
    assert "sobol, 10 trials, maximize" in capsys.readouterr().out


def _tune_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["tune", *args, "--no-progress"]) == 2
    return _error_line(capsys)


def test_tune_user_mistakes(workdir: str, capsys: pytest.CaptureFixture[str]) -> None:
    obj = f"{workdir}:objective"
    assert "no such space file: missing.json" in _tune_error(["missing.json", obj], capsys)
    assert "module:function" in _tune_error(["space.json", "no_colon"], capsys)
    assert "no such module" in _tune_error(["space.json", "no_such_module_xyz:f"], capsys)
    assert "no attribute 'nope'" in _tune_error(["space.json", f"{workdir}:nope"], capsys)
    assert "not a function" in _tune_error(["space.json", f"{workdir}:not_callable"], capsys)
    assert "unknown method 'nope'" in _tune_error(["space.json", obj, "--method", "nope"], capsys)
    assert "--trials" in _tune_error(["space.json", obj, "--trials", "0"], capsys)
    # Failed trials are logged as warnings as they happen; the error itself is one line.
    assert cli.main(["tune", "space.json", f"{workdir}:broken", "--trials", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    assert err[-1].startswith("hptune: error: no trial completed; first error: ValueError: always")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.json", '{"x": ', "not valid JSON"),
        ("bad.json", '{"x": {"type": "float", "min": 2, "max": 1}}', "must be less than"),
        ("bad.json", '{"x": {"typo": 1}}', "unknown field 'typo'"),
        ("bad.json", "[1, 2]", "needs a 'name' field"),
        ("bad.json", "{}", "no parameters"),
        ("bad.txt", "{}", "unknown space file type"),
        ("bad.toml", "x = [", "not valid TOML"),
    ],
)
def test_bad_space_files(
    workdir: str, capsys: pytest.CaptureFixture[str], name: str, text: str, message: str
) -> None:
    if name.endswith(".toml") and sys.version_info < (3, 11):
        message = "Python 3.11"
    Path(name).write_text(text, encoding="utf-8")
    assert message in _tune_error([name, f"{workdir}:objective"], capsys)


def test_yaml_needs_pyyaml(workdir: str, capsys: pytest.CaptureFixture[str]) -> None:
    Path("space.yaml").write_text(json.dumps(SPACE), encoding="utf-8")  # JSON is valid YAML
    try:
        import yaml  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        assert "pip install pyyaml" in _tune_error(["space.yaml", f"{workdir}:objective"], capsys)
    else:
        args = ["tune", "space.yaml", f"{workdir}:objective", "--trials", "5", "--no-progress"]
        assert cli.main(args) == 0


def test_list_form_of_space() -> None:
    from hptune._tune_inputs import space_from_mapping

    space = space_from_mapping([{"name": "a", "low": 0, "high": 1}, {"name": "b", "choices": [1]}])
    assert space.names == ("a", "b")
    assert space["b"].param_type == "categorical"


# ----------------------------------------------------------------------------- report
@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> hptune.InMemoryStorage:
    """An in-memory storage holding study "s", served to the CLI whatever path it is given."""
    storage = hptune.InMemoryStorage()
    space = [hptune.HyperparameterSpace("x", "float", -1.0, 1.0)]
    study = hptune.create_study(space, maximize=False, seed=0, storage=storage, study_name="s")
    study.optimize(lambda p: p["x"] ** 2, n_trials=40)

    def fake_open(path: str) -> Any:
        return storage

    monkeypatch.setattr(cli, "_open_storage", fake_open)
    return storage


def test_report(stored: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert cli.main(["report", "any.db", "--study", "s", "-o", str(out)]) == 0
    assert f"wrote {out}: study s, 40 trials" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert html.count('class="hp-plot"') == 5
    # Self-contained: no link, image or script fetched from anywhere.
    assert "<link" not in html
    assert " src=" not in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")


def test_report_single_study_needs_no_name(stored: Any, tmp_path: Path) -> None:
    assert cli.main(["report", "any.db", "-o", str(tmp_path / "r.html")]) == 0


def test_report_user_mistakes(
    stored: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "any.db", "--study", "nope", "-o", str(tmp_path / "r.html")]) == 2
    assert "no study named 'nope'" in _error_line(capsys)
    bad_dir = tmp_path / "missing-dir" / "r.html"
    assert cli.main(["report", "any.db", "--study", "s", "-o", str(bad_dir)]) == 2
    _error_line(capsys)
    assert cli.main(["report", "any.db", "--quantile", "2", "-o", str(tmp_path / "r.html")]) == 2
    assert "--quantile" in _error_line(capsys)


def test_report_missing_storage_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(tmp_path / "none.db"), "--study", "s"]) == 2
    assert "no such storage file" in _error_line(capsys)


def test_tune_then_report_on_sqlite(
    workdir: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("hptune.storage._sqlite")
    db = str(tmp_path / "t.db")
    args = ["tune", "space.json", f"{workdir}:objective", "--minimize", "--no-progress"]
    assert cli.main([*args, "--trials", "15", "--storage", db, "--study", "t"]) == 0
    # Naming the stored study again continues it.
    assert cli.main([*args, "--trials", "5", "--storage", db, "--study", "t"]) == 0
    capsys.readouterr()
    out = tmp_path / "t.html"
    assert cli.main(["report", db, "--study", "t", "-o", str(out)]) == 0
    assert "20 trials" in capsys.readouterr().out
    assert cli.main(["report", db, "--study", "unknown", "-o", str(out)]) == 2
    _error_line(capsys)


# ----------------------------------------------------------------------------- help
@pytest.mark.parametrize("command", [[], ["tune"], ["report"]])
def test_help(command: list[str]) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "hptune.cli", *command, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: hptune")
    if command:
        assert command[0] in run.stdout


def test_cli_import_is_lazy() -> None:
    # The report, plots and space-file reader load only when their command runs.
    code = (
        "import sys, hptune.cli; "
        "print(sorted(m for m in ('hptune.plot', 'hptune._report', 'hptune._tune_inputs') "
        "if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
