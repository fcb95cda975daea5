"""The demo (the README's main job) runs end to end, real SB3 training included, at a tiny size."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hptune import cli


def test_demo_runs_all_three_parts_and_starts_afresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("gymnasium")
    if not os.environ.get("HPTUNE_REQUIRE_SB3"):
        pytest.importorskip("stable_baselines3")
    db = tmp_path / "demo.db"
    argv = [
        "demo",
        "--storage",
        str(db),
        "--no-progress",
        "--rl-trials",
        "3",
        "--agent-trials",
        "3",
        "--episodes",
        "200",
        "--repeats",
        "2",
        "--sb3-trials",
        "3",
        "--sb3-steps",
        "400",
        "--sb3-repeats",
        "1",
    ]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "3. Stable-Baselines3 DQN on CartPole-v1" in out
    assert "SB3's defaults re-trained on 1 fresh seed " in out
    assert "chosen (best mean after racing)" in out
    assert "for SB3's defaults" in out
    assert "timesteps trained" in out
    assert "Pareto front of" in out
    # A rerun removes the previous studies instead of silently continuing them.
    assert cli.main(argv) == 0
    assert "removed the previous demo studies" in capsys.readouterr().out
