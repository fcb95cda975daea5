"""The README's Python examples run as written (in order, sharing one namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def ray_results_in(block: str, path: Path) -> str:
    """``block`` with Ray Tune's results written under ``path``: by default Ray Tune writes
    them to ``~/ray_results``, and tests must not write into the user's home."""
    if "tune.RunConfig(" not in block:
        return block
    assert "storage_path" not in block
    return block.replace("tune.RunConfig(", f"tune.RunConfig(storage_path={str(path)!r}, ")


def test_readme_has_examples() -> None:
    assert len(python_blocks()) >= 5


def test_readme_examples_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The examples write files (an SQLite study): keep them out of the repo.
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in python_blocks():
        exec(compile(ray_results_in(block, tmp_path), str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "Best score:" in out


@pytest.mark.parametrize("marker", ["study.ask()", "readme-example.db"])
def test_readme_study_examples_run_on_their_own(
    marker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Readers copy one block at a time: these define their search space themselves.
    monkeypatch.chdir(tmp_path)
    [block] = [b for b in python_blocks() if marker in b]
    exec(compile(block, str(README), "exec"), {"__name__": "readme"})


def test_readme_commands_exist() -> None:
    text = README.read_text()
    assert 'pip install ".[test]" && pytest' in text
    assert 'pip install ".[rl,sb3]" && hptune demo' in text
