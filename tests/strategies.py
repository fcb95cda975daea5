"""Hypothesis strategies for search spaces."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from hptune import HyperparameterSpace


@st.composite
def float_params(draw: st.DrawFn, name: str) -> HyperparameterSpace:
    log = draw(st.booleans())
    if log:
        lo_exp = draw(st.floats(-8, 6))
        width = draw(st.floats(0.01, 8))
        lo, hi = 10.0**lo_exp, 10.0 ** (lo_exp + width)
        return HyperparameterSpace(name, "float", lo, hi, log_scale=True)
    lo = draw(st.floats(-1e6, 1e6))
    width = draw(st.floats(1e-3, 1e6))
    stepped = draw(st.booleans())
    if stepped:
        k = draw(st.integers(1, 50))
        step = draw(st.sampled_from([0.5, 0.25, 0.1, 1.0, 2.0]))
        lo = round(lo)
        return HyperparameterSpace(name, "float", float(lo), lo + k * step, step=step)
    hi = lo + width
    if not math.isfinite(hi) or hi <= lo:
        hi = lo + 1.0
    return HyperparameterSpace(name, "float", lo, hi)


@st.composite
def int_params(draw: st.DrawFn, name: str) -> HyperparameterSpace:
    log = draw(st.booleans())
    if log:
        lo = draw(st.integers(1, 1000))
        hi = lo + draw(st.integers(1, 100000))
        return HyperparameterSpace(name, "int", lo, hi, log_scale=True)
    lo = draw(st.integers(-(10**6), 10**6))
    step = draw(st.sampled_from([1, 1, 2, 5]))
    k = draw(st.integers(1, 1000))
    return HyperparameterSpace(name, "int", lo, lo + k * step, step=step)


@st.composite
def cat_params(draw: st.DrawFn, name: str) -> HyperparameterSpace:
    n = draw(st.integers(1, 8))
    kind = draw(st.sampled_from(["str", "int", "mixed"]))
    if kind == "str":
        choices: list[object] = [f"c{i}" for i in range(n)]
    elif kind == "int":
        choices = list(range(n))
    else:
        choices = [f"c{i}" if i % 2 else i * 10 for i in range(n)]
    return HyperparameterSpace(name, "categorical", choices=choices)


@st.composite
def spaces(draw: st.DrawFn, max_dims: int = 6) -> list[HyperparameterSpace]:
    d = draw(st.integers(1, max_dims))
    out = []
    for i in range(d):
        kind = draw(st.sampled_from([float_params, int_params, cat_params]))
        out.append(draw(kind(f"p{i}")))
    return out
