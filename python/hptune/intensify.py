"""Intensification during a search (SMAC-style): promising configs earn more seeds as they go.

A search on a noisy objective sees one observation per config, and the best of many noisy draws
is mostly luck. :class:`Intensifier` is a callback that keeps an *incumbent* and, each time a
completed trial looks better than it, re-evaluates that *challenger* on the incumbent's seeds:

1. The challenger's own observation is compared with the incumbent's mean over its fresh seeds
   (its observation on the search's seed while it has none). Not better: nothing more is spent
   on it (on a problem where most trials are duds, most cost nothing).
2. The incumbent gets one more fresh seed (the baseline two), up to ``max_seeds - 1`` fresh
   seeds besides the search's.
3. The challenger runs on the incumbent's fresh seeds, 1, then 2, then 4 at a time; as soon as
   its mean over them is worse than the incumbent's mean over the same seeds, it is rejected
   (a tie races on, as in SMAC: on returns with a floor, such as RL runs that never learn,
   ties are common and say nothing). With every fresh seed of the incumbent and a better mean
   (a tie keeps the incumbent), it becomes the incumbent. The search's own observation only
   admits a challenger: it is why the challenger was picked, so it is biased upwards, and the
   comparisons leave it out. For the same reason the bar a challenger must clear is not a
   crowned incumbent's own search observation, which was lucky enough to get it admitted, but
   its fresh seeds' mean.

Every re-evaluation is recorded in the study (``study.add_trial``, ``user_attrs`` with the seed),
so the sampler models the mean of a config's runs instead of its one lucky draw. The baseline
(e.g. the preset's defaults, when it is the first incumbent) is replaced only on evidence: the
challenger must beat it by more than ``baseline_z`` standard errors of the paired differences
over the fresh seeds, as in :func:`~hptune.validation.race`. A lead within that noise races on
as a tie does: both earn one more fresh seed, up to ``max_seeds - 1``, before it is kept out.

>>> intensifier = Intensifier(objective, seed=0, max_seeds=4, baseline=presets.defaults("dqn"))
>>> study.optimize(objective, n_trials=40, callbacks=[intensifier])       # doctest: +SKIP
>>> intensifier.incumbent.params, intensifier.incumbent.mean               # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hptune._checks import check_real, check_seed
from hptune._errors import InvalidArgumentError
from hptune.rng import derive_seed
from hptune.trial import TrialRecord, TrialState
from hptune.validation import ConfigValidation, ValidationReport, _gain, evaluate_repeats

__all__ = ["INTENSIFY_ATTR", "Intensifier"]

#: The ``user_attrs`` key of the trials an :class:`Intensifier` records: the seed index of the
#: re-evaluation (1, 2, ...; index 0 is the search's own observation).
INTENSIFY_ATTR = "intensify_seed"


def _key(params: Mapping[str, Any]) -> str:
    return repr(sorted(params.items(), key=lambda kv: kv[0]))


class _Runs:
    """One config's scores by seed index (0: the search's observation)."""

    def __init__(self, params: Mapping[str, Any], number: int, score: float) -> None:
        self.params = dict(params)
        self.number = number
        self.scores: dict[int, float] = {0: score}

    def mean(self, indices: list[int]) -> float:
        return sum(self.scores[i] for i in indices) / len(indices)

    def fresh(self) -> list[int]:
        return sorted(self.scores)[1:]

    def entry(self, label: str, indices: list[int] | None = None) -> ConfigValidation:
        """As a validation entry: the search's observation as its tuning score, the fresh seeds'
        scores (all of them unless ``indices``) as its scores."""
        chosen = (self.fresh() or [0]) if indices is None else indices
        return ConfigValidation(
            self.params, self.scores[0], tuple(self.scores[i] for i in chosen), (), label
        )


class Intensifier:
    """A search callback that re-evaluates challengers on more seeds (see the module docstring).

    ``objective_function(params, seed=s)`` must accept a ``seed`` keyword (every objective in
    :mod:`hptune.objectives` does). Seed index ``i >= 1`` is the same seed for every config, so
    comparisons are paired; index 0 is the trial's own run (one seed for all trials unless the
    objective varies it per trial). ``stop_when`` (no arguments) is asked before each
    re-evaluation; once it says True no more are run, so a budget holds to within one
    evaluation, and a challenger caught part-way is decided on the incumbent's fresh seeds it
    has run if they are two or more (else it is not crowned): a search that ends on its best
    challenger so far would otherwise drop it for want of one more seed. A re-evaluation that
    raises counts as the worst score the study has seen and is recorded as a failed trial.

    After the search: :attr:`incumbent` (a :class:`~hptune.validation.ConfigValidation` whose
    ``scores`` are its fresh seeds' and ``mean`` its score; the search's observation, where it
    has no fresh seed yet), :meth:`report` (every config that was re-evaluated, with notes on
    who was dropped when) and :attr:`n_evaluations`.
    """

    def __init__(
        self,
        objective_function: Callable[..., Any],
        *,
        seed: int = 0,
        max_seeds: int = 4,
        baseline: Mapping[str, Any] | None = None,
        baseline_z: float = 1.0,
        stop_when: Callable[[], bool] | None = None,
    ) -> None:
        if not callable(objective_function):
            raise InvalidArgumentError(
                f"objective_function must be callable, got {type(objective_function).__name__}"
            )
        check_seed(seed)
        if isinstance(max_seeds, bool) or not isinstance(max_seeds, int) or max_seeds < 1:
            raise InvalidArgumentError(f"max_seeds must be a positive int, got {max_seeds!r}")
        if baseline is not None and not isinstance(baseline, Mapping):
            raise InvalidArgumentError(
                f"baseline must be a dict of params, got {type(baseline).__name__}"
            )
        if stop_when is not None and not callable(stop_when):
            raise InvalidArgumentError("stop_when must be callable (no arguments -> bool)")
        self.objective_function = objective_function
        self.seed = seed
        self.max_seeds = max_seeds
        self.baseline = None if baseline is None else dict(baseline)
        self.baseline_z = check_real("baseline_z", baseline_z, low=0.0)
        self.stop_when = stop_when
        self.n_evaluations = 0
        self.notes: list[str] = []
        self._incumbent: _Runs | None = None
        self._raced: dict[str, _Runs] = {}
        self._seen: set[str] = set()

    # ------------------------------------------------------------------ results
    @property
    def incumbent(self) -> ConfigValidation | None:
        """The current incumbent with its scores over the seeds it ran (None before any)."""
        inc = self._incumbent
        return None if inc is None else inc.entry(self._label(inc))

    def seed_of(self, index: int) -> int:
        """The seed of re-evaluation index ``index`` (>= 1), the same for every config."""
        return derive_seed(self.seed, "intensify", index) % 2**31

    def report(self, maximize: bool) -> ValidationReport:
        """Every config that was re-evaluated, the incumbent marked as chosen."""
        entries = [r.entry(self._label(r)) for r in self._raced.values()]
        chosen = self.incumbent
        seeds = tuple(self.seed_of(i) for i in range(1, self.max_seeds))
        report = ValidationReport(
            entries=entries,
            maximize=maximize,
            seeds=seeds,
            n_evaluations=self.n_evaluations,
            chosen_by="intensification: best mean over the incumbent's seeds",
            notes=list(self.notes),
        )
        if chosen is not None:
            report.robust = next((e for e in entries if e.params == chosen.params), chosen)
        return report

    def _label(self, runs: _Runs) -> str:
        if self.baseline is not None and runs.params == self.baseline:
            return "baseline"
        return f"trial {runs.number}"

    # ------------------------------------------------------------------ the callback
    def __call__(self, study: Any, record: TrialRecord) -> None:
        if (
            record.state is not TrialState.COMPLETE
            or record.value is None
            or INTENSIFY_ATTR in record.user_attrs
        ):
            return
        key = _key(record.params)
        if key in self._seen:  # a config sampled again: its first observation stands
            return
        self._seen.add(key)
        challenger = _Runs(record.params, record.number, float(record.value))
        inc = self._incumbent
        if inc is None:
            self._incumbent = challenger
            self._raced[key] = challenger
            return
        sign = 1.0 if study.maximize else -1.0
        bar = inc.mean(inc.fresh() or [0])
        if not sign * record.value > sign * bar:
            return
        self._raced[key] = challenger
        # The incumbent earns a fresh seed per challenger (the baseline two at once, so that
        # the guard below has a spread to go by), up to max_seeds - 1 fresh ones.
        want = min(self.max_seeds - 1, len(inc.scores) + (self._label(inc) == "baseline"))
        if not self._spend(study, inc, range(len(inc.scores), want + 1)):
            self._undecided(challenger)
            return
        batch = 1
        spent = False
        while True:
            missing = [i for i in sorted(inc.scores) if i not in challenger.scores][:batch]
            if missing:
                spent = not self._spend(study, challenger, missing)
                shared = challenger.fresh()
                # The budget ran out part-way: two fresh seeds or more decide, as all would.
                if spent and len(shared) < 2:
                    self._undecided(challenger)
                    return
                # Worse is dropped at once; a tie races on (values on a floor or a ceiling tie
                # often: an RL run that never learns scores the time limit, whatever the config).
                if sign * challenger.mean(shared) < sign * inc.mean(shared):
                    self._drop(challenger, inc, shared)
                    return
                batch *= 2
                if not spent:
                    continue
            # Every fresh seed of the incumbent run (or the two or more the budget left).
            shared = challenger.fresh()
            if not shared:  # max_seeds=1: the search's own observations decide
                self.notes.append(f"trial {challenger.number} is the incumbent")
                self._incumbent = challenger
                return
            # A tie over all the seeds keeps the incumbent.
            if not sign * challenger.mean(shared) > sign * inc.mean(shared):
                self._drop(challenger, inc, shared)
                return
            seeds = f"{len(shared)} fresh seeds" + (
                f" of {len(inc.fresh())} (budget spent)" if spent else ""
            )
            if self._label(inc) == "baseline" and self.baseline_z > 0:
                gain, se = _gain(challenger.entry("", shared), inc.entry("", shared), sign)
                if not gain > self.baseline_z * se:
                    # A lead within the noise races on: one more seed for both, up to
                    # max_seeds - 1, as a tie does.
                    if (
                        spent
                        or len(inc.fresh()) >= self.max_seeds - 1
                        or not self._spend(study, inc, [len(inc.scores)])
                    ):
                        self.notes.append(
                            f"trial {challenger.number} kept out after {seeds}: its gain over "
                            f"the baseline {gain:.4g} is within {self.baseline_z:g} standard "
                            f"errors ({se:.4g})"
                        )
                        return
                    batch = 1
                    continue
            self.notes.append(
                f"trial {challenger.number} is the incumbent after {seeds} "
                f"(mean {challenger.mean(shared):.4g} against {inc.mean(shared):.4g})"
            )
            self._incumbent = challenger
            return

    def _undecided(self, challenger: _Runs) -> None:
        self.notes.append(f"trial {challenger.number} left undecided: budget spent")

    def _drop(self, challenger: _Runs, inc: _Runs, shared: list[int]) -> None:
        self.notes.append(
            f"trial {challenger.number} dropped after {len(shared)} fresh seeds "
            f"({challenger.mean(shared):.4g} vs {inc.mean(shared):.4g})"
        )

    def _spend(self, study: Any, runs: _Runs, indices: Iterable[int]) -> bool:
        """Run ``runs`` on each seed index; False once the budget is spent."""
        return all(self._run(study, runs, index) for index in indices)

    def _run(self, study: Any, runs: _Runs, index: int) -> bool:
        """Evaluate ``runs`` on seed ``index`` and record it; False once ``stop_when`` says so."""
        if self.stop_when is not None and self.stop_when():
            return False
        seed = self.seed_of(index)
        scores, errors = evaluate_repeats(self.objective_function, runs.params, (seed,))
        self.n_evaluations += 1
        attrs = {INTENSIFY_ATTR: index, "seed": seed, "of_trial": runs.number}
        if scores:
            runs.scores[index] = scores[0]
            study.add_trial(runs.params, scores[0], user_attrs=attrs)
        else:
            values = [t.value for t in study.trials if t.value is not None]
            worst = min(values) if study.maximize else max(values)
            runs.scores[index] = worst
            study.add_trial(runs.params, state="failed", user_attrs={**attrs, "error": errors[0]})
        return True
