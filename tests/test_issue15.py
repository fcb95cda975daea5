"""Regressions found by an adversarial run (issue 15): each test pins one fixed bug."""

from __future__ import annotations

import pytest

import hptune
from hptune import InvalidArgumentError, TrialState

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
