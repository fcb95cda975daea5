"""Re-evaluating tuned configs on fresh seeds: is the best really best, or just lucky?

The best score seen during a search is optimistic: with noisy objectives the maximum of many
draws is biased upwards. :func:`validate` re-runs the top configs on new seeds (the same seeds
for every config, so differences between configs are not drowned by seed noise), reports mean,
standard deviation and a 95% confidence interval for each, picks the most robust one, and flags
the tuned best when its validation falls clearly short of its tuning score.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hptune._checks import check_real, check_seed
from hptune._errors import InvalidArgumentError
from hptune._objective import coerce_value
from hptune._stats import t_quantile_975
from hptune.rng import derive_seed
from hptune.trial import params_repr
from hptune.tuners import TuningResult

__all__ = [
    "ConfigValidation",
    "ValidationReport",
    "race",
    "t_quantile_975",
    "validate",
]


@dataclass(frozen=True)
class ConfigValidation:
    """Validation figures of one config."""

    params: dict[str, Any]
    tuning_score: float | None
    scores: tuple[float, ...]
    errors: tuple[str, ...] = ()
    label: str = ""

    @property
    def n(self) -> int:
        """Number of successful re-evaluations."""
        return len(self.scores)

    @property
    def mean(self) -> float:
        """Mean validation score (NaN when none succeeded)."""
        return sum(self.scores) / self.n if self.n else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation (0 for one score)."""
        if self.n < 2:
            return 0.0
        m = self.mean
        return math.sqrt(sum((s - m) ** 2 for s in self.scores) / (self.n - 1))

    @property
    def ci95(self) -> tuple[float, float]:
        """95% confidence interval of the mean (Student's t)."""
        if self.n == 0:
            return (math.nan, math.nan)
        if self.n == 1:
            return (-math.inf, math.inf)
        half = t_quantile_975(self.n - 1) * self.std / math.sqrt(self.n)
        return (self.mean - half, self.mean + half)


@dataclass
class ValidationReport:
    """The validation of a tuning result's top configs."""

    entries: list[ConfigValidation]
    maximize: bool
    seeds: tuple[int, ...]
    robust: ConfigValidation | None = None
    optimistic: bool = False
    notes: list[str] = field(default_factory=list)
    n_evaluations: int = 0
    chosen_by: str = "best lower confidence bound"

    @property
    def best(self) -> ConfigValidation:
        """The tuned best (the first entry)."""
        return self.entries[0]

    def table(self) -> str:
        """A plain-text table of the figures."""
        head = f"{'':>8}  {'tuning':>10}  {'mean':>10}  {'std':>9}  {'95% CI':>23}  n  params"
        lines = [head]
        for i, e in enumerate(self.entries):
            lo, hi = e.ci95
            mark = "*" if e is self.robust else " "
            tuning = f"{e.tuning_score:10.4g}" if e.tuning_score is not None else " " * 10
            name = e.label or f"top {i + 1}"
            lines.append(
                f"{name:>7}{mark}  {tuning}  {e.mean:10.4g}  {e.std:9.3g}  "
                f"[{lo:10.4g}, {hi:10.4g}]  {e.n}  {params_repr(e.params)}"
            )
        if self.optimistic:
            lines.append("the tuned best's score was optimistic: its validation is clearly lower")
        lines.extend(self.notes)
        lines.append(f"* chosen ({self.chosen_by})")
        return "\n".join(lines)


def _accepts_seed(objective: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(objective).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "seed" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def evaluate_repeats(
    objective: Callable[..., Any], params: Mapping[str, Any], seeds: Sequence[int]
) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """Scores of ``params`` on each seed (``seed=`` keyword when the objective takes one)."""
    with_seed = _accepts_seed(objective)
    scores: list[float] = []
    errors: list[str] = []
    for s in seeds:
        try:
            raw = objective(dict(params), seed=s) if with_seed else objective(dict(params))
            scores.append(coerce_value(raw))
        except Exception as exc:  # one bad repeat must not lose the others
            errors.append(f"{type(exc).__name__}: {exc}")
    return tuple(scores), tuple(errors)


def _gain(a: ConfigValidation, b: ConfigValidation, sign: float) -> tuple[float, float]:
    """How much better ``a``'s mean is than ``b``'s (``sign`` 1 maximising, -1 minimising) and
    the standard error of that difference: paired per seed when both ran every seed without a
    failure, else from the two spreads; 0 where one seed gives no spread to go by."""
    if not a.errors and not b.errors and a.n == b.n:
        d = [sign * (x - y) for x, y in zip(a.scores, b.scores, strict=True)]
        m = sum(d) / len(d)
        if len(d) < 2:
            return m, 0.0
        var = sum((v - m) ** 2 for v in d) / (len(d) - 1)
        return m, math.sqrt(var / len(d))
    if a.n < 2 or b.n < 2:
        return sign * (a.mean - b.mean), 0.0
    return sign * (a.mean - b.mean), math.sqrt(a.std**2 / a.n + b.std**2 / b.n)


def _check_inputs(
    result: Any, objective: Any, seed: Any, baseline: Mapping[str, Any] | None
) -> None:
    """The checks :func:`validate` and :func:`race` share."""
    if not isinstance(result, TuningResult):
        raise InvalidArgumentError(
            f"result must be the TuningResult of a tuner's tune(), got {type(result).__name__}"
        )
    if not callable(objective):
        raise InvalidArgumentError(
            "objective_function must be callable (params -> score), got "
            f"{type(objective).__name__} {objective!r}"
        )
    check_seed(seed)
    if baseline is not None:
        if not isinstance(baseline, Mapping):
            raise InvalidArgumentError(
                f"baseline must be a dict of params, got {type(baseline).__name__}"
            )
        if result.study is not None:
            try:
                result.study.space.params_to_row(baseline)
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(f"baseline: {exc}") from None


def validate(
    result: TuningResult,
    objective_function: Callable[..., Any],
    top_k: int = 3,
    n_repeats: int = 5,
    seed: int = 0,
    *,
    baseline: Mapping[str, Any] | None = None,
) -> ValidationReport:
    """Re-evaluate the ``top_k`` distinct best configs of ``result`` ``n_repeats`` times each.

    Objectives with a ``seed`` keyword get one fresh seed per repeat (the same seeds for every
    config); others are simply called again. ``baseline`` (e.g. a preset's defaults) is
    evaluated on the same seeds and appended, for the gain over it.
    """
    _check_inputs(result, objective_function, seed, baseline)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise InvalidArgumentError(f"top_k must be a positive int, got {top_k!r}")
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, int) or n_repeats < 1:
        raise InvalidArgumentError(f"n_repeats must be a positive int, got {n_repeats!r}")
    maximize = result.maximize
    seeds = tuple(derive_seed(seed, "validation", i) for i in range(n_repeats))
    entries = []
    for params, tuning, _ in _distinct_top(result, top_k):
        scores, errors = evaluate_repeats(objective_function, params, seeds)
        entries.append(ConfigValidation(params, tuning, scores, errors))
    report = ValidationReport(entries=entries, maximize=maximize, seeds=seeds)
    ok = [e for e in entries if e.n > 0]
    if ok:
        sign = 1.0 if maximize else -1.0
        report.robust = max(ok, key=lambda e: sign * (e.ci95[0] if maximize else e.ci95[1]))
    best = entries[0]
    if best.n >= 2 and best.tuning_score is not None:
        lo, hi = best.ci95
        report.optimistic = best.tuning_score > hi if maximize else best.tuning_score < lo
    if baseline is not None:
        scores, errors = evaluate_repeats(objective_function, baseline, seeds)
        base = ConfigValidation(dict(baseline), None, scores, errors, label="baseline")
        report.entries.append(base)
        if base.n and report.robust is not None:
            change = report.robust.mean - base.mean
            relative = f" ({change / abs(base.mean):+.1%})" if base.mean else ""
            better = change > 0 if maximize else change < 0
            report.notes.append(
                f"robust config vs baseline: {change:+.4g}{relative}, "
                f"{'better' if better else 'not better'} "
                f"({'higher' if maximize else 'lower'} is better)"
            )
    return report


def _distinct_top(result: TuningResult, k: int) -> list[tuple[dict[str, Any], float | None, int]]:
    """The ``k`` best distinct configs of ``result``: (params, tuning value, trial number)."""
    picked: list[tuple[dict[str, Any], float | None, int]] = []
    seen: set[str] = set()
    for t in sorted(
        result.completed_trials,
        key=lambda t: t.value if t.value is not None else 0.0,
        reverse=result.maximize,
    ):
        key = repr(sorted(t.params.items(), key=lambda kv: kv[0]))
        if key not in seen:
            seen.add(key)
            picked.append((dict(t.params), t.value, t.number))
        if len(picked) == k:
            break
    return picked


def race(
    result: TuningResult,
    objective_function: Callable[..., Any],
    top_k: int = 4,
    n_seeds: int = 6,
    seed: int = 0,
    *,
    baseline: Mapping[str, Any] | None = None,
    first_round: int = 2,
    baseline_z: float = 1.0,
) -> ValidationReport:
    """Choose among the ``top_k`` best configs (and ``baseline``) by re-evaluated mean, racing.

    Racing (successive halving over seeds, as in SMAC's intensification): every candidate is
    re-evaluated on ``first_round`` fresh seeds, the worse half is dropped, the survivors get as
    many seeds again (the same seeds for every candidate, so comparisons are paired), and so on
    until one candidate is left or it has ``n_seeds`` seeds. The winner (``report.robust``) has
    the best mean over all its seeds; the best single observation of the search plays no part,
    so a config that was only lucky once is not chosen. A candidate that fails a repeat counts
    that repeat as the worst score seen. ``report.notes`` says who was dropped when;
    ``report.n_evaluations`` counts the objective calls (the race's cost).

    The baseline is never dropped (it runs every seed, as SMAC's incumbent does) and is replaced
    only on evidence: the best finalist must beat its mean by more than ``baseline_z`` standard
    errors of the difference, paired over the seeds (0 takes the best mean as it is). Under
    heavy noise a handful of seeds often crowns a config that is no better than the defaults;
    then the defaults stay.

    >>> report = race(result, objective, top_k=4, n_seeds=6, baseline=presets.defaults("ppo"))
    >>> report.robust.params                                    # doctest: +SKIP
    """
    _check_inputs(result, objective_function, seed, baseline)
    for name, value, low in (
        ("top_k", top_k, 1),
        ("n_seeds", n_seeds, 1),
        ("first_round", first_round, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidArgumentError(f"{name} must be a positive int, got {value!r}")
    check_real("baseline_z", baseline_z, low=0.0)
    maximize = result.maximize
    sign = 1.0 if maximize else -1.0
    seeds = tuple(derive_seed(seed, "race", i) % (2**31) for i in range(n_seeds))
    entries = [
        ConfigValidation(p, v, (), label=f"trial {n}") for p, v, n in _distinct_top(result, top_k)
    ]
    if baseline is not None:
        same = next((i for i, e in enumerate(entries) if e.params == dict(baseline)), None)
        if same is None:
            entries.append(ConfigValidation(dict(baseline), None, (), label="baseline"))
        else:
            e = entries[same]
            entries[same] = ConfigValidation(e.params, e.tuning_score, (), label="baseline")
    if not entries:
        raise InvalidArgumentError("race needs at least one completed trial or a baseline")
    alive = list(range(len(entries)))
    notes: list[str] = []
    done = 0
    calls = 0
    while True:
        upto = min(n_seeds, max(first_round, 2 * done) if done else first_round)
        for i in alive:
            e = entries[i]
            scores, errors = evaluate_repeats(objective_function, e.params, seeds[done:upto])
            calls += upto - done
            entries[i] = ConfigValidation(
                e.params, e.tuning_score, e.scores + scores, e.errors + errors, e.label
            )
        done = upto
        if len(alive) == 1 or done >= n_seeds:
            break
        # Failed repeats count as the worst score any candidate got on this race.
        everything = [x for i in alive for x in entries[i].scores]
        floor = min(everything, key=lambda x: sign * x) if everything else 0.0
        keys = {}
        for i in alive:
            padded = list(entries[i].scores) + [floor] * len(entries[i].errors)
            keys[i] = sign * (sum(padded) / len(padded)) if padded else -math.inf
        # The baseline runs every seed, so that the winner is compared with it at the end.
        ranked = sorted(
            (i for i in alive if entries[i].label != "baseline"),
            key=lambda i: keys[i],
            reverse=True,
        )
        keep = ranked[: max(1, (len(ranked) + 1) // 2)]
        dropped = [entries[i].label for i in ranked[len(keep) :]]
        keep += [i for i in alive if entries[i].label == "baseline"]
        if dropped:
            notes.append(f"after {done} seeds dropped: {', '.join(dropped)}")
        alive = sorted(keep)
    finals = [entries[i] for i in alive if entries[i].n > 0]
    report = ValidationReport(
        entries=entries,
        maximize=maximize,
        seeds=seeds,
        n_evaluations=calls,
        chosen_by="best mean after racing",
    )
    if finals:
        report.robust = max(finals, key=lambda e: sign * e.mean)
        base = next((e for e in finals if e.label == "baseline"), None)
        if base is not None and report.robust is not base and baseline_z > 0:
            gain, se = _gain(report.robust, base, sign)
            if not gain > baseline_z * se:
                notes.append(
                    f"kept the baseline: {report.robust.label}'s gain {gain:.4g} is within "
                    f"{baseline_z:g} standard errors ({se:.4g})"
                )
                report.robust = base
    notes.append(f"{calls} evaluations; chosen: {report.robust.label if report.robust else 'none'}")
    report.notes.extend(notes)
    return report
