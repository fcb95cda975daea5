"""One method registry: names -> sampler classes and their options (issue 15)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

import hptune
from hptune import HyperparameterSpace, InvalidArgumentError, cli
from hptune.samplers import METHODS, REGISTRY, make_sampler, method_name, method_options

SPACE = [HyperparameterSpace("x", "float", 0.0, 1.0)]


def test_the_registry_names_each_sampler_and_its_options() -> None:
    assert list(METHODS) == list(REGISTRY) == ["random", "sobol", "grid", "bayesian", "tpe"]
    for name, spec in REGISTRY.items():
        assert METHODS[name] is spec.sampler
        keywords = set(inspect.signature(spec.sampler.__init__).parameters) - {"self", "seed"}
        assert set(spec.options) | set(spec.renamed) == keywords
        assert make_sampler(name, seed=0).name == name
    assert method_options("TPE") == REGISTRY["tpe"].options
    assert "n_initial" not in method_options("bayesian")


def test_an_unknown_option_is_refused_naming_the_allowed_ones() -> None:
    with pytest.raises(InvalidArgumentError, match="method 'tpe': unknown option 'foo'; allowed"):
        make_sampler("tpe", foo=1)
    with pytest.raises(InvalidArgumentError, match="'resolution', 'shuffle'"):
        hptune.create_study(SPACE, "grid", steps=3)
    with pytest.raises(InvalidArgumentError, match="allowed: none"):
        hptune.MethodTuner(SPACE, lambda p: p["x"], method="random", foo=1)
    with pytest.warns(DeprecationWarning, match="n_startup_trials"):
        make_sampler("bayesian", n_initial=3)
    with pytest.raises(InvalidArgumentError, match="unknown method 'annealing'"):
        method_name("annealing")


@pytest.mark.parametrize(
    "tuner",
    [
        hptune.RandomSearchTuner,
        hptune.SobolSearchTuner,
        hptune.GridSearchTuner,
        hptune.BayesianOptimizationTuner,
        hptune.TPETuner,
    ],
)
def test_each_tuner_builds_its_method_from_the_registry(tuner: Any) -> None:
    sampler = tuner(SPACE, lambda p: p["x"], n_trials=1, seed=0).make_sampler()
    assert type(sampler) is REGISTRY[tuner.method].sampler


def test_demo_refuses_an_unknown_method_before_touching_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("gymnasium")
    db = tmp_path / "demo.db"
    db.write_text("previous studies")
    assert cli.main(["demo", "--storage", str(db), "--method", "annealing"]) == 2
    assert "unknown method 'annealing'" in capsys.readouterr().err
    assert db.read_text() == "previous studies"
