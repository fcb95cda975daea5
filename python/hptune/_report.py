"""The HTML report of a study: every figure of :mod:`hptune.plot` and the trials table in one
self-contained file (inline SVG, CSS and a few lines of JavaScript; nothing is fetched).

The script marks each plot it finds drawn (a non-empty bounding box and at least one data mark,
see :mod:`hptune._svg`) with ``data-render-ok="1"`` and its number of marks in ``data-marks``,
and the page with ``data-render-done``; an uncaught error sets ``data-js-error`` on ``<html>``.
The browser test reads these markers from the DOM of a headless Chromium.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from hptune import plot
from hptune._study_data import StudyData, StudyLike
from hptune._svg import esc, fmt
from hptune.trial import TrialState

__all__ = ["render_report"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;
margin:0 auto;max-width:1340px;padding:16px 20px;background:#f6f7f9}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px}
.hp-summary{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 16px}
.hp-summary td{padding:2px 12px 2px 0;vertical-align:top}
.hp-grid{display:flex;flex-wrap:wrap;gap:16px}
.hp-plot{background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px;overflow-x:auto;
max-width:100%}
.hp-figure{margin:0;display:table}.hp-figure figcaption{display:table-caption;caption-side:bottom}
.hp-note{color:#666;font-size:12px;margin:4px 6px}
.hp-table{background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px 12px;overflow-x:auto}
table.hp-trials{border-collapse:collapse;font-size:12px;margin:8px 0 16px}
.hp-trials caption{text-align:left;font-weight:600;padding:4px 0}
.hp-trials th,.hp-trials td{border-bottom:1px solid #eee;padding:2px 8px;text-align:right;
white-space:nowrap}
.hp-trials th{background:#f0f2f5;cursor:pointer;position:sticky;top:0}
code{background:#eef;padding:0 3px;border-radius:3px}
"""

# Set first, so an error in any later script is recorded.
_ON_ERROR = """window.onerror=function(m){document.documentElement.setAttribute('data-js-error',
String(m));};"""

_SCRIPT = """
(function(){
  var plots=document.querySelectorAll('.hp-plot'),ok=0;
  plots.forEach(function(el){
    var svg=el.querySelector('svg'); if(!svg)return;
    var box=svg.getBBox(), marks=svg.querySelectorAll('[class^="hp-"]').length;
    el.setAttribute('data-marks',String(marks));
    if(box.width>0&&box.height>0&&marks>0){el.setAttribute('data-render-ok','1');ok++;}
  });
  document.body.setAttribute('data-render-done',ok+'/'+plots.length);
  document.querySelectorAll('table.hp-trials').forEach(function(t){
    t.querySelectorAll('th').forEach(function(th,col){
      th.title='sort'; var asc=true;
      th.addEventListener('click',function(){
        var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
        rows.sort(function(a,b){
          var x=a.cells[col].textContent,y=b.cells[col].textContent,
              nx=parseFloat(x),ny=parseFloat(y);
          var c=(isNaN(nx)||isNaN(ny))?x.localeCompare(y):nx-ny; return asc?c:-c;});
        asc=!asc; rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
})();
"""


def _section(key: str, fig: plot.Figure) -> str:
    return f'<div class="hp-plot" data-plot="{esc(key)}">{fig.to_html()}</div>'


def _summary(data: StudyData) -> str:
    counts = ", ".join(f"{data.count(s):,} {s.value}" for s in TrialState if data.count(s))
    multi = data.n_objectives > 1
    rows: list[tuple[str, str]] = [
        ("directions" if multi else "direction", ", ".join(data.directions)),
        ("trials", f"{data.n:,}" + (f" ({counts})" if counts else "")),
    ]
    if data.constrained:
        done = data.complete
        n_ok = int(np.count_nonzero(done & data.feasible))
        rows.append(("feasible", f"{n_ok:,} of {int(np.count_nonzero(done)):,} completed trials"))
    best = data.best_index()
    if multi:
        front = data.numbers[data.front_mask()].tolist()
        shown = ", ".join(str(n) for n in front[:20]) + (", \u2026" if len(front) > 20 else "")
        rows.append(("Pareto front", f"{len(front):,} trials ({shown})" if front else "none yet"))
    elif best is not None:
        rec = data.records[best]
        assert rec.value is not None
        infeasible = " (infeasible: no trial is feasible yet)" if not rec.feasible else ""
        rows.append(("best value", f"{fmt(rec.value, 8)} (trial {rec.number}){infeasible}"))
        rows.append(
            (
                "best params",
                ", ".join(f"{k} = {_value_text(v)}" for k, v in rec.params.items()),
            )
        )
    space = "; ".join(_describe(p) for p in data.space.params)
    rows.append(("search space", space))
    body = "".join(f"<tr><td><b>{esc(k)}</b></td><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<div class="hp-summary"><table>{body}</table></div>'


def _value_text(v: Any) -> str:
    return fmt(v, 6) if isinstance(v, float) else repr(v)


def _describe(p: Any) -> str:
    if p.choices is not None:
        return f"{p.name}: one of {list(p.choices)!r}"
    text = f"{p.name}: {p.param_type} in [{p.min_value!r}, {p.max_value!r}]"
    if p.log_scale:
        text += " log"
    if p.step is not None:
        text += f" step {p.step!r}"
    return text


def render_report(
    study: StudyLike | StudyData,
    *,
    quantile: float = 0.1,
    best_rows: int = 200,
    last_rows: int = 200,
    title: str | None = None,
) -> str:
    """The report of ``study`` as one HTML document (see the module notes)."""
    data = StudyData.from_study(study)
    heading = title or f"hptune study {data.name}"
    figures: list[tuple[str, plot.Figure]] = [
        *([("pareto", plot.pareto_front(data))] if data.n_objectives > 1 else []),
        ("history", plot.optimization_history(data)),
        ("importance", plot.param_importances(data, quantile)),
        ("parallel", plot.parallel_coordinates(data)),
        ("intermediate", plot.intermediate_values(data)),
    ]
    slices = [(f"slice:{f.data.get('param', '')}", f) for f in plot.slices(data)]
    table = plot.trials_table(data, best=best_rows, last=last_rows)
    generated = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(heading)}</title><script>{_ON_ERROR}</script>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{esc(heading)}</h1>",
        _summary(data),
        '<h2>Overview</h2><div class="hp-grid">',
        *(_section(k, f) for k, f in figures),
        "</div>",
        '<h2>Slices</h2><div class="hp-grid">',
        *(_section(k, f) for k, f in slices),
        "</div>",
        '<h2 id="trials">Trials</h2>',
        table.to_html(),
        f'<p class="hp-note">generated by hptune at {esc(generated)}; click a column header '
        "to sort that table</p>",
        f"<script>{_SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts)
