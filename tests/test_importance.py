"""hptune.importance: a function whose important parameters are known, direction, bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import hptune
from hptune import HyperparameterSpace as P
from hptune import _core

SPACE = [
    P("strong", "float", -1.0, 1.0),
    P("weak", "float", 1e-3, 1.0, log_scale=True),
    P("noise_int", "int", 1, 8),
    P("noise_cat", "categorical", choices=["a", "b", "c"]),
    P("noise_float", "float", 0.0, 1.0),
]


def _loss(p: dict[str, Any]) -> float:
    return 10.0 * (p["strong"] - 0.2) ** 2 + 0.5 * (np.log10(p["weak"]) + 1.5) ** 2


@pytest.mark.parametrize("maximize", [False, True])
def test_known_function(maximize: bool) -> None:
    study = hptune.create_study(SPACE, "random", maximize=maximize, seed=1)
    sign = -1.0 if maximize else 1.0
    study.optimize(lambda p: sign * _loss(p), n_trials=3000)
    imp = hptune.importance(study)
    assert list(imp) == sorted(imp, key=lambda k: -imp[k])
    assert sum(imp.values()) == pytest.approx(1.0)
    assert list(imp)[:2] == ["strong", "weak"]
    assert imp["strong"] > 0.5
    assert imp["weak"] > 3 * max(imp["noise_int"], imp["noise_cat"], imp["noise_float"])


def test_direction_matters() -> None:
    # Maximising the loss makes the *worst* trials the top set; the ranking must come from
    # the study's own direction, so a maximised study of -loss equals a minimised one of loss.
    a = hptune.create_study(SPACE, "random", maximize=False, seed=2)
    a.optimize(_loss, n_trials=500)
    b = hptune.create_study(SPACE, "random", maximize=True, seed=2)
    b.optimize(lambda p: -_loss(p), n_trials=500)
    assert hptune.importance(a) == pytest.approx(hptune.importance(b))


def test_only_complete_trials_count() -> None:
    study = hptune.create_study(SPACE, "random", maximize=False, seed=3)

    def objective(p: dict[str, Any]) -> float:
        if p["noise_cat"] == "c":
            raise hptune.TrialPruned()
        if p["noise_int"] == 8:
            raise RuntimeError("boom")
        return _loss(p)

    study.optimize(objective, n_trials=600)
    imp = hptune.importance(study)
    assert next(iter(imp)) == "strong"


def test_needs_four_complete_trials() -> None:
    study = hptune.create_study(SPACE, "random", maximize=False, seed=4)
    study.optimize(_loss, n_trials=3)
    with pytest.raises(hptune.InvalidArgumentError, match="at least 4 completed trials"):
        hptune.importance(study)
    study.optimize(_loss, n_trials=1)
    assert len(hptune.importance(study)) == len(SPACE)


@pytest.mark.parametrize("quantile", [0.0, -0.1, 1.5, float("nan"), True, "0.1"])
def test_bad_quantile(quantile: object) -> None:
    study = hptune.create_study(SPACE, "random", maximize=False, seed=5)
    study.optimize(_loss, n_trials=10)
    with pytest.raises(hptune.InvalidArgumentError, match="quantile"):
        hptune.importance(study, quantile=quantile)  # type: ignore[arg-type]


def test_binding_validates_arrays() -> None:
    space = hptune.SearchSpace(SPACE[:2])
    x = np.full((5, 2), 0.5)
    y = np.arange(5.0)
    assert len(_core.importance(space.core, x, y, 0.2)) == 2
    with pytest.raises(ValueError, match="2 columns"):
        _core.importance(space.core, np.full((5, 3), 0.5), y, 0.2)
    with pytest.raises(hptune.InvalidArgumentError, match="rows"):
        _core.importance(space.core, x, np.arange(4.0), 0.2)
    with pytest.raises(hptune.InvalidArgumentError, match="unit cube"):
        _core.importance(space.core, np.full((5, 2), 2.0), y, 0.2)
    with pytest.raises(ValueError, match="finite"):
        _core.importance(space.core, x, np.array([0, 1, np.nan, 3, 4.0]), 0.2)
