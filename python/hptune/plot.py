"""Figures of a study, as plain objects that notebooks render: no plotting library needed.

Every builder takes a :class:`~hptune.Study` (or the columns read once with :func:`read`, to draw
several figures from one read of the storage) and returns a :class:`Figure` holding a
self-contained SVG string and the data it summarises.

They stay fast and readable at 100,000 trials because they downsample what is *drawn*, never
the statistics: the best value, the best-so-far line, counts and importances use every trial,
while a scatter draws at most :data:`MAX_POINTS` points (the best trials, the best-so-far change
points and an evenly spaced sample over trial order), parallel coordinates at most
:data:`MAX_LINES` lines and the intermediate-value plot at most :data:`MAX_CURVES` curves. Each
figure's ``note`` says what was drawn out of how many.

>>> import hptune
>>> from hptune import plot
>>> study = hptune.create_study([hptune.HyperparameterSpace("x", "float", -1.0, 1.0)],
...                             maximize=False, seed=0)
>>> study.optimize(lambda p: p["x"] ** 2, n_trials=50)
>>> fig = plot.optimization_history(study)
>>> fig.svg.startswith("<svg")
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hptune._errors import InvalidArgumentError
from hptune._importance import importance as _importance
from hptune._study_data import STATE_CODES, StudyData, StudyLike
from hptune._svg import BLUE, GRAY, ORANGE, PALETTE, RED, Canvas, Scale, esc, fmt, truncate
from hptune.space import HyperparameterSpace
from hptune.trial import TrialState

__all__ = [
    "MAX_CURVES",
    "MAX_LINES",
    "MAX_POINTS",
    "Figure",
    "Table",
    "intermediate_values",
    "optimization_history",
    "parallel_coordinates",
    "param_importances",
    "pareto_front",
    "read",
    "report",
    "slice",
    "slices",
    "trials_table",
]

MAX_POINTS = 2000
"""Most points drawn by one scatter (history, slice)."""
MAX_LINES = 500
"""Most trials drawn by the parallel-coordinates plot."""
MAX_CURVES = 200
"""Most trials drawn by the intermediate-values plot."""
MAX_CURVE_POINTS = 200
"""Most steps drawn of one intermediate-value curve (evenly spaced, the last always kept)."""
BEST_KEPT = 100
"""The best trials are always among those drawn."""

_WIDTH, _HEIGHT = 580.0, 360.0  # two figures side by side in a 1280 px window
_BOX = (70.0, 40.0, 566.0, 312.0)  # left, top, right, bottom of the plot area


@dataclass(frozen=True)
class Figure:
    """A drawn figure: a title, a self-contained SVG document and the data behind it.

    Notebooks render it inline (``_repr_html_`` / ``_repr_svg_``); :meth:`save` writes it to an
    ``.svg`` or ``.html`` file. ``data`` holds the statistics (from every trial) and the drawn
    series (at most a few thousand entries).
    """

    title: str
    svg: str
    data: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""

    def to_html(self) -> str:
        """The figure as an HTML fragment: the SVG and its note."""
        caption = f'<figcaption class="hp-note">{esc(self.note)}</figcaption>' if self.note else ""
        return f'<figure class="hp-figure">{self.svg}{caption}</figure>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | Path) -> None:
        """Write the SVG (``.svg``) or a standalone HTML page (any other suffix)."""
        p = Path(path)
        if p.suffix.lower() == ".svg":
            p.write_text(self.svg, encoding="utf-8")
        else:
            p.write_text(
                f'<!doctype html><meta charset="utf-8"><title>{esc(self.title)}</title>'
                + self.to_html(),
                encoding="utf-8",
            )


@dataclass(frozen=True)
class Table:
    """Rows of trials in sections (e.g. the best and the last), with what was left out."""

    title: str
    columns: tuple[str, ...]
    sections: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]
    note: str = ""

    def to_html(self) -> str:
        """The table as an HTML fragment (one ``<table>`` per section)."""
        head = "".join(f"<th>{esc(c)}</th>" for c in self.columns)
        out = [f'<div class="hp-table"><h3>{esc(self.title)}</h3>']
        if self.note:
            out.append(f'<p class="hp-note">{esc(self.note)}</p>')
        for caption, rows in self.sections:
            body = "".join(
                "<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in rows
            )
            out.append(
                f'<table class="hp-trials"><caption>{esc(caption)}</caption>'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            )
        out.append("</div>")
        return "".join(out)

    def _repr_html_(self) -> str:
        return self.to_html()


def read(study: StudyLike | StudyData) -> StudyData:
    """Read a study's trials once, as columns, to draw several figures from one read."""
    return StudyData.from_study(study)


def report(study: StudyLike | StudyData, path: str | Path | None = None, **options: Any) -> str:
    """Every figure and the trials table as one self-contained HTML page.

    Written to ``path`` when given; returns the HTML. ``options``: ``quantile`` (importance),
    ``best_rows`` and ``last_rows`` (trials table), ``title``.
    """
    from hptune._report import render_report

    text = render_report(study, **options)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


# ----------------------------------------------------------------------------- helpers
def _sample(n: int, cap: int, keep: NDArray[np.intp] | None = None) -> NDArray[np.intp]:
    """Sorted indices into ``range(n)``: all of ``keep`` (up to ``cap``), topped up to ``cap``
    with indices evenly spaced over the others (a systematic sample over trial order)."""
    if n <= cap:
        return np.arange(n)
    kept = np.unique(keep[:cap]) if keep is not None and len(keep) else np.empty(0, np.intp)
    rest = cap - len(kept)
    if rest <= 0:
        return kept
    others = np.setdiff1d(np.arange(n), kept, assume_unique=True)
    even = others[np.linspace(0, others.size - 1, rest).round().astype(np.intp)]
    return np.union1d(kept, even)


def _best(loss: NDArray[np.float64], k: int) -> NDArray[np.intp]:
    """Indices of the ``k`` smallest losses, best first."""
    if len(loss) <= k:
        return np.argsort(loss, kind="stable")
    part = np.argpartition(loss, k)[:k]
    return part[np.argsort(loss[part], kind="stable")]


def _bins(rank: NDArray[np.float64], n_bins: int) -> NDArray[np.intp]:
    """Bin of each value of ``rank`` in ``[0, 1]`` (0 = best / first)."""
    return np.minimum((rank * n_bins).astype(np.intp), n_bins - 1)


def _param_scale(p: HyperparameterSpace, p0: float, p1: float, pad: float = 0.04) -> Scale:
    if p.choices is not None:
        return Scale(0, len(p.choices) - 1, p0, p1, categories=[str(c) for c in p.choices])
    assert p.min_value is not None
    assert p.max_value is not None
    return Scale(float(p.min_value), float(p.max_value), p0, p1, log=p.log_scale, pad=pad)


def _direction(data: StudyData) -> str:
    return "maximize" if data.maximize else "minimize"


def _count_note(drawn: int, total: int, what: str) -> str:
    if drawn >= total:
        return f"all {total:,} {what} drawn"
    return f"{drawn:,} of {total:,} {what} drawn (the best, and an even sample over trial order)"


def _empty(title: str, message: str, **data: Any) -> Figure:
    canvas = Canvas(_WIDTH, 200.0, title)
    canvas.message(message)
    return Figure(title, canvas.svg(), dict(data, empty=True, message=message))


def _value_scale(values: NDArray[np.float64], p0: float, p1: float) -> Scale:
    return Scale(float(values.min()), float(values.max()), p0, p1)


# ----------------------------------------------------------------------------- figures
def optimization_history(study: StudyLike | StudyData) -> Figure:
    """Objective value of each completed trial by trial number, with the best-so-far line.

    The best-so-far line is computed from every completed trial; every point where it changes
    is drawn (up to :data:`MAX_POINTS`).
    """
    data = read(study)
    title = f"Optimization history ({_direction(data)})"
    rows = np.flatnonzero(data.complete)
    if rows.size == 0:
        return _empty(title, "no completed trials yet", n_trials=data.n, n_complete=0)
    numbers = data.numbers[rows].astype(np.float64)
    values = data.values[rows]
    loss = data.loss[rows]
    feasible = data.feasible[rows]
    # With outcome constraints the best-so-far line follows the feasible trials (all of them
    # while none is feasible yet).
    on_line = feasible if data.constrained and feasible.any() else np.ones(rows.size, bool)
    line_rows = np.flatnonzero(on_line)
    line_numbers = numbers[line_rows]
    best_loss = np.minimum.accumulate(loss[line_rows])
    change = np.flatnonzero(np.r_[True, best_loss[1:] < best_loss[:-1]])
    sign = -1.0 if data.maximize else 1.0
    # The step line through the change points (thinned evenly if there are very many: the line
    # stays monotone and still ends at the true best).
    line_idx = change if change.size <= MAX_POINTS else change[_sample(change.size, MAX_POINTS)]
    best_of = line_rows[_best(loss[line_rows], BEST_KEPT)]
    keep = np.concatenate([line_rows[line_idx[: MAX_POINTS // 4]], best_of])
    drawn = _sample(rows.size, MAX_POINTS, keep)

    left, top, right, bottom = _BOX
    xs = Scale(0.0, float(max(data.numbers.max(), 1)), left, right)
    ys = _value_scale(values, bottom, top)
    canvas = Canvas(_WIDTH, _HEIGHT, title)
    ylabel = "objective 1" if data.n_objectives > 1 else "objective value"
    canvas.axes(xs, ys, _BOX, "trial number", ylabel)
    ok = feasible[drawn]
    canvas.dots(xs(numbers[drawn][ok]), ys(values[drawn][ok]), BLUE, size=4.5, opacity=0.55)
    legend = [(BLUE, "feasible" if data.constrained else "objective value")]
    if data.constrained:
        bad = drawn[~ok]
        canvas.dots(
            xs(numbers[bad]), ys(values[bad]), ORANGE, size=4.5, opacity=0.55, cls="hp-infeasible"
        )
        legend.append((ORANGE, "infeasible"))
    step_x = np.repeat(line_numbers[line_idx], 2)[1:]
    step_y = np.repeat(sign * best_loss[line_idx], 2)[:-1]
    step_x = np.r_[step_x, numbers[-1]]
    step_y = np.r_[step_y, sign * best_loss[-1]]
    canvas.polyline(xs(step_x), ys(step_y), RED, width=2.0, cls="hp-best")
    legend.append((RED, "best so far"))
    canvas.legend(legend, right, 32)
    best_row = int(rows[int(line_rows[int(np.argmin(loss[line_rows]))])])
    n_infeasible = int(rows.size - np.count_nonzero(feasible))
    constraint_note = (
        f"; {n_infeasible:,} infeasible (orange), best-so-far line from the feasible ones"
        if data.constrained
        else "; best-so-far line from all"
    )
    note = (
        f"{_count_note(drawn.size, rows.size, 'completed trials')}{constraint_note}; "
        f"{data.n:,} trials in all ({data.count(TrialState.PRUNED):,} pruned, "
        f"{data.count(TrialState.FAILED):,} failed)"
    )
    return Figure(
        title,
        canvas.svg(),
        {
            "n_trials": data.n,
            "n_complete": int(rows.size),
            "n_drawn": int(drawn.size),
            "best_value": float(data.values[best_row]),
            "best_number": int(data.numbers[best_row]),
            "best_so_far": [
                (int(line_numbers[i]), float(sign * best_loss[i])) for i in line_idx.tolist()
            ],
            "drawn_numbers": data.numbers[rows][drawn].tolist(),
            "n_infeasible": n_infeasible,
        },
        note,
    )


def pareto_front(study: StudyLike | StudyData) -> Figure:
    """The first two objectives of every completed trial of a multi-objective study, with the
    Pareto front (red, joined in order of the first objective) over the others.

    The front is computed on every objective and from every trial (the feasible ones, when a
    study with constraints has any); infeasible trials are orange. At most :data:`MAX_POINTS`
    dots are drawn, the whole front always among them.
    """
    data = read(study)
    title = "Pareto front"
    if data.n_objectives < 2:
        return _empty(title, "one objective: no Pareto front", n_objectives=1)
    ok = data.complete & np.all(np.isfinite(data.objectives), axis=1)
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return _empty(title, "no completed trials yet", n_trials=data.n, n_complete=0)
    front = data.front_mask()[rows]
    feasible = data.feasible[rows]
    x, y = data.objectives[rows, 0], data.objectives[rows, 1]
    front_idx = np.flatnonzero(front)
    drawn = _sample(rows.size, MAX_POINTS, front_idx)
    left, top, right, bottom = _BOX
    xs = _value_scale(x, left, right)
    ys = _value_scale(y, bottom, top)
    canvas = Canvas(_WIDTH, _HEIGHT, title)
    d = data.directions
    canvas.axes(xs, ys, _BOX, f"objective 1 ({d[0]})", f"objective 2 ({d[1]})")
    rest = drawn[~front[drawn]]
    good = rest[feasible[rest]]
    canvas.dots(xs(x[good]), ys(y[good]), BLUE, size=4.5, opacity=0.45)
    legend = [(BLUE, "dominated")]
    if data.constrained:
        bad = rest[~feasible[rest]]
        canvas.dots(xs(x[bad]), ys(y[bad]), ORANGE, size=4.5, opacity=0.45, cls="hp-infeasible")
        legend.append((ORANGE, "infeasible"))
    by_x = front_idx[np.lexsort((y[front_idx], x[front_idx]))]
    if data.n_objectives == 2:
        canvas.polyline(xs(x[by_x]), ys(y[by_x]), RED, width=1.5, opacity=0.8, cls="hp-front-line")
    canvas.dots(xs(x[by_x]), ys(y[by_x]), RED, size=6.5, opacity=0.9, cls="hp-front")
    legend.append((RED, "Pareto front"))
    canvas.legend(legend, right, 32)
    n_infeasible = int(rows.size - np.count_nonzero(feasible))
    more = (
        f" ({data.n_objectives} objectives; the first two drawn)" if data.n_objectives > 2 else ""
    )
    if data.constrained:
        more += f"; {n_infeasible:,} infeasible (orange)"
    note = (
        f"{front_idx.size:,} of {rows.size:,} completed trials on the front{more}; "
        f"{_count_note(drawn.size, rows.size, 'completed trials')}"
    )
    return Figure(
        title,
        canvas.svg(),
        {
            "n_objectives": data.n_objectives,
            "n_complete": int(rows.size),
            "n_front": int(front_idx.size),
            "front_numbers": sorted(data.numbers[rows][front_idx].tolist()),
            "n_infeasible": n_infeasible,
            "n_drawn": int(drawn.size),
        },
        note,
    )


def parallel_coordinates(study: StudyLike | StudyData, params: list[str] | None = None) -> Figure:
    """One line per completed trial across an axis per parameter and one for the value.

    Lines are coloured by rank of the objective (dark = best) and the best are drawn on top.
    """
    data = read(study)
    title = "Parallel coordinates"
    names = list(data.space.names) if params is None else list(params)
    cols = [_column_index(data, n) for n in names]
    rows = np.flatnonzero(data.complete & np.isfinite(data.params[:, cols]).all(axis=1))
    if rows.size == 0:
        return _empty(title, "no completed trials yet", n_trials=data.n, n_complete=0)
    loss = data.loss[rows]
    drawn = _sample(rows.size, MAX_LINES, _best(loss, BEST_KEPT))
    n_axes = len(cols) + 1
    width = max(_WIDTH, 40.0 + 110.0 * n_axes)
    top, bottom = 76.0, 324.0
    axis_x = np.linspace(60.0, width - 60.0, n_axes)
    scales = [_param_scale(data.space.params[j], bottom, top, pad=0.0) for j in cols]
    scales.append(_value_scale(data.values[rows], bottom, top))
    canvas = Canvas(width, _HEIGHT, title)
    ys = np.empty((drawn.size, n_axes))
    for a, j in enumerate(cols):
        ys[:, a] = scales[a](data.params[rows[drawn], j])
    ys[:, -1] = scales[-1](data.values[rows[drawn]])
    # Colour by rank among the drawn lines; draw the worst first so the best stay visible.
    order = np.argsort(loss[drawn], kind="stable")
    rank = np.empty(drawn.size)
    rank[order] = np.arange(drawn.size) / max(1, drawn.size)
    bins = _bins(rank, len(PALETTE))
    for b in range(len(PALETTE) - 1, -1, -1):
        lines = [(axis_x, ys[i]) for i in np.flatnonzero(bins == b)]
        canvas.paths(lines, PALETTE[b], width=1.2, opacity=0.55 if b else 0.9, cls="hp-pc")
    labels = [*names, "objective"]
    for a in range(n_axes):
        x = float(axis_x[a])
        canvas.line(x, top, x, bottom, "#555555", 1.2)
        canvas.text(x, top - 14, truncate(labels[a], 104), size=11.5, halo=True)
        ticks = scales[a].ticks(4)
        for px, label in ticks:
            if top - 0.5 <= px <= bottom + 0.5:
                canvas.line(x - 3, px, x + 3, px, "#555555")
                canvas.text(
                    x + 5, px + 3.5, truncate(label, 50), anchor="start", size=9.5, halo=True
                )
    canvas.legend([(PALETTE[0], "best"), (PALETTE[-2], "worst (of drawn)")], width - 12, 32)
    note = f"{_count_note(drawn.size, rows.size, 'completed trials')}; colour: rank of the value"
    return Figure(
        title,
        canvas.svg(),
        {"n_complete": int(rows.size), "n_drawn": int(drawn.size), "params": names},
        note,
    )


def _column_index(data: StudyData, name: str) -> int:
    if name not in data.space:
        raise InvalidArgumentError(
            f"no parameter named {name!r} in study {data.name!r}; "
            f"parameters: {list(data.space.names)}"
        )
    return data.space.names.index(name)


# Shadows the builtin inside this module on purpose: it is Optuna's name for this plot, and
# nothing here uses the builtin.
def slice(study: StudyLike | StudyData, param: str) -> Figure:
    """Objective value against one parameter (log axis for log parameters, jitter for
    categoricals), coloured by trial number (dark = recent)."""
    data = read(study)
    j = _column_index(data, param)
    p = data.space.params[j]
    title = f"Slice: {param}"
    rows = np.flatnonzero(data.complete & np.isfinite(data.params[:, j]))
    if rows.size == 0:
        return _empty(title, "no completed trials yet", n_trials=data.n, n_complete=0)
    loss = data.loss[rows]
    best = _best(loss, BEST_KEPT)
    drawn = _sample(rows.size, MAX_POINTS, best)
    left, top, right, bottom = _BOX
    xs = _param_scale(p, left, right)
    values = data.values[rows]
    ys = _value_scale(values, bottom, top)
    x = data.params[rows[drawn], j]
    if p.choices is not None:
        # A fixed jitter from the trial number, so the same study draws the same picture.
        h = (data.numbers[rows[drawn]] * 2654435761) % 1000 / 1000.0
        x = x + (h - 0.5) * 0.5
    canvas = Canvas(_WIDTH, _HEIGHT, title)
    scale_name = " (log scale)" if p.log_scale else ""
    canvas.axes(xs, ys, _BOX, f"{param}{scale_name}", "objective value")
    age = np.linspace(1.0, 0.0, drawn.size, endpoint=False) if drawn.size > 1 else np.zeros(1)
    bins = _bins(age, len(PALETTE))
    px, py = xs(x), ys(values[drawn])
    for b in range(len(PALETTE) - 1, -1, -1):
        sel = bins == b
        canvas.dots(px[sel], py[sel], PALETTE[b], size=4.5, opacity=0.65)
    b0 = int(best[0])
    bx = data.params[rows[b0 : b0 + 1], j]
    canvas.dots(xs(bx), ys(values[b0 : b0 + 1]), RED, size=9.0, opacity=1.0, cls="hp-best")
    canvas.legend([(PALETTE[0], "recent"), (PALETTE[-1], "early"), (RED, "best")], right, 32)
    return Figure(
        title,
        canvas.svg(),
        {
            "param": param,
            "n_complete": int(rows.size),
            "n_drawn": int(drawn.size),
            "log": bool(p.log_scale),
            "best_param_value": data.records[int(rows[b0])].params.get(param),
        },
        _count_note(drawn.size, rows.size, "completed trials"),
    )


def slices(study: StudyLike | StudyData) -> list[Figure]:
    """One :func:`slice` per parameter, from one read of the study."""
    data = read(study)
    return [slice(data, name) for name in data.space.names]


def param_importances(study: StudyLike | StudyData, quantile: float = 0.1) -> Figure:
    """Horizontal bars of :func:`hptune.importance` (from every completed trial)."""
    data = read(study)
    title = "Parameter importance"
    try:
        shares = _importance(data, quantile)
    except InvalidArgumentError as exc:
        return _empty(title, str(exc), n_complete=int(data.complete.sum()))
    names = list(shares)
    row_h = 22.0
    top = 44.0
    height = top + row_h * len(names) + 34.0
    label_w = min(200.0, 12.0 + max(len(n) for n in names) * 6.4)
    left, right = 16.0 + label_w, _WIDTH - 70.0
    canvas = Canvas(_WIDTH, height, title)
    biggest = max(shares.values()) or 1.0
    for i, name in enumerate(names):
        y = top + i * row_h
        w = (right - left) * shares[name] / biggest
        canvas.text(left - 8, y + 14, truncate(name, label_w - 8), anchor="end")
        canvas.rect(left, y + 3, w, row_h - 6, BLUE if i == 0 else "#6baed6", cls="hp-bar")
        canvas.text(left + w + 6, y + 14, f"{100 * shares[name]:.1f}%", anchor="start")
    n = int(np.count_nonzero(data.complete))
    note = (
        f"PED-ANOVA over all {n:,} completed trials: how differently each parameter is "
        f"distributed in the best {quantile:.0%} than in all trials; shares sum to 100%"
    )
    canvas.text(left, height - 12, "share of the total importance", anchor="start", fill=GRAY)
    return Figure(title, canvas.svg(), {"importances": shares, "n_complete": n}, note)


def intermediate_values(study: StudyLike | StudyData) -> Figure:
    """Learning curves (reported value by step) of completed and pruned trials."""
    data = read(study)
    title = "Intermediate values"
    complete_code = STATE_CODES[TrialState.COMPLETE]
    pruned_code = STATE_CODES[TrialState.PRUNED]
    idx = [
        i
        for i, r in enumerate(data.records)
        if r.intermediate_values and data.states[i] in (complete_code, pruned_code)
    ]
    if not idx:
        return _empty(title, "no completed or pruned trial reported intermediate values")
    rows = np.asarray(idx, dtype=np.intp)
    states = data.states[rows]
    n_pruned = int(np.count_nonzero(states == pruned_code))
    # Statistics over every curve: the ranges of steps and values.
    curves_all = [data.records[i].intermediate_values for i in idx]
    lo_s = float(min(min(iv) for iv in curves_all))
    hi_s = float(max(max(iv) for iv in curves_all))
    lo_v = min(min(iv.values()) for iv in curves_all)
    hi_v = max(max(iv.values()) for iv in curves_all)
    # Keep the best completed curves, then an even sample of all over trial order.
    final = np.where(states == complete_code, data.loss[rows], np.inf)
    best = _best(final, BEST_KEPT // 2)
    best = best[np.isfinite(final[best])]
    drawn = _sample(rows.size, MAX_CURVES, best)
    left, top, right, bottom = _BOX
    xs = Scale(lo_s, hi_s, left, right)
    ys = Scale(lo_v, hi_v, bottom, top)
    canvas = Canvas(_WIDTH, _HEIGHT, title)
    canvas.axes(xs, ys, _BOX, "step", "intermediate value")
    curves: dict[int, list[tuple[NDArray[np.float64], NDArray[np.float64]]]] = {
        complete_code: [],
        pruned_code: [],
    }
    ends: list[tuple[float, float]] = []
    for k in drawn.tolist():
        iv = curves_all[k]
        steps = np.fromiter(sorted(iv), dtype=np.float64, count=len(iv))
        vals = np.fromiter((iv[int(s)] for s in steps), dtype=np.float64, count=len(iv))
        if steps.size > MAX_CURVE_POINTS:
            keep = np.linspace(0, steps.size - 1, MAX_CURVE_POINTS).round().astype(np.intp)
            steps, vals = steps[keep], vals[keep]
        px, py = xs(steps), ys(vals)
        code = int(states[k])
        curves[code].append((px, py))
        if code == pruned_code:
            ends.append((float(px[-1]), float(py[-1])))
    canvas.paths(curves[pruned_code], ORANGE, width=1.0, opacity=0.45, cls="hp-curve")
    canvas.paths(curves[complete_code], BLUE, width=1.2, opacity=0.6, cls="hp-curve")
    if ends:
        e = np.asarray(ends)
        canvas.dots(e[:, 0], e[:, 1], ORANGE, size=4.0, opacity=0.8)
    canvas.legend([(BLUE, "complete"), (ORANGE, "pruned (dot: where it stopped)")], right, 32)
    note = (
        f"{_count_note(drawn.size, rows.size, 'curves')}; {rows.size - n_pruned:,} complete and "
        f"{n_pruned:,} pruned trials reported values"
    )
    return Figure(
        title,
        canvas.svg(),
        {
            "n_curves": int(rows.size),
            "n_pruned": n_pruned,
            "n_drawn": int(drawn.size),
            "steps": (lo_s, hi_s),
        },
        note,
    )


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return fmt(v, 6)
    return str(v)


def trials_table(study: StudyLike | StudyData, best: int = 200, last: int = 200) -> Table:
    """The ``best`` completed trials (best first) and the ``last`` trials (newest first)."""
    for name, k in (("best", best), ("last", last)):
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise InvalidArgumentError(f"{name} must be a non-negative int, got {k!r}")
    data = read(study)
    names = list(data.space.names)
    multi = data.n_objectives > 1
    extra = (("values", "front") if multi else ()) + (("feasible",) if data.constrained else ())
    columns = ("number", "state", "value", *extra, "seconds", *names, "error")
    on_front = data.front_mask() if multi else None

    def row(i: int) -> tuple[str, ...]:
        r = data.records[i]
        err = r.error or ""
        more: list[str] = []
        if on_front is not None:
            vs = r.values if r.state is TrialState.COMPLETE else None
            more.append("" if vs is None else ", ".join(_cell(v) for v in vs))
            more.append("yes" if on_front[i] else "")
        if data.constrained:
            more.append("" if r.constraints is None else ("yes" if r.feasible else "no"))
        return (
            str(r.number),
            r.state.value,
            _cell(r.value),
            *more,
            "" if r.duration is None else f"{r.duration:.3f}",
            *(_cell(r.params.get(n)) for n in names),
            err if len(err) <= 80 else err[:79] + "\u2026",
        )

    rows = np.flatnonzero(data.complete)
    # Best first: the front (multi-objective), feasible trials before infeasible ones.
    rank = data.loss[rows].copy()
    if data.constrained:
        rank = np.where(data.feasible[rows], rank, np.inf)
    if on_front is not None:
        rank = np.where(on_front[rows], -np.inf, rank)
    top = rows[_best(rank, best)] if best and rows.size else rows[:0]
    recent = np.arange(data.n - 1, max(-1, data.n - 1 - last), -1)
    sections = (
        (
            f"best {top.size:,} of {rows.size:,} completed trials",
            tuple(row(int(i)) for i in top),
        ),
        (f"last {recent.size:,} of {data.n:,} trials", tuple(row(int(i)) for i in recent)),
    )
    counts = ", ".join(f"{data.count(s):,} {s.value}" for s in TrialState if data.count(s))
    note = f"{data.n:,} trials: {counts or 'none'}"
    return Table(f"Trials of {data.name}", columns, sections, note)
