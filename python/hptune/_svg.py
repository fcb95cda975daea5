"""Hand-written SVG for :mod:`hptune.plot`: scales, ticks, axes, dots, lines, bars.

Coordinates are pixels with the origin at the top left. Every coordinate is written with one
decimal, so a figure's size grows with what is drawn and not with float noise. Data marks carry
a class starting with ``hp-`` (``hp-dots``, ``hp-line``, ``hp-bar``, ...; ``hp-message`` for the
note of a figure with nothing to draw), which the report's script counts. Many dots of one
colour go into one ``<path>`` of zero-length segments with round caps (a dot costs ~12 bytes
instead of ~40 for a ``<circle>``), which keeps figures of a few thousand points small.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BLUE",
    "GRAY",
    "ORANGE",
    "PALETTE",
    "RED",
    "Canvas",
    "Scale",
    "esc",
    "fmt",
]

BLUE = "#1f77b4"
ORANGE = "#e8710a"
RED = "#d62728"
GRAY = "#888888"
INK = "#333333"
GRID = "#e6e6e6"
# Eight steps of a dark-to-light sequential ramp (viridis); index 0 marks the best / newest.
PALETTE = (
    "#440154",
    "#46327e",
    "#365c8d",
    "#277f8e",
    "#1fa187",
    "#4ac16d",
    "#a0da39",
    "#d8e219",
)
CHAR_WIDTH = 6.2  # average advance of an 11 px sans-serif glyph, for truncating labels


def esc(text: object) -> str:
    """Text escaped for SVG / HTML content and attributes."""
    return html.escape(str(text), quote=True)


def fmt(v: float, digits: int = 4) -> str:
    """A number in few characters: ``0.0123``, ``1.23e+06``, ``42``."""
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if float(v).is_integer() and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.{digits}g}"


def truncate(text: str, width_px: float) -> str:
    """``text`` cut with an ellipsis to fit about ``width_px`` pixels."""
    n = max(1, int(width_px / CHAR_WIDTH))
    return text if len(text) <= n else text[: max(1, n - 1)] + "\u2026"


def _nice_step(span: float, n: int) -> float:
    raw = span / max(1, n)
    if not (raw > 0 and math.isfinite(raw)):
        # A degenerate span (subnormal or zero after padding) still needs a usable step.
        return 1.0
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * mag >= raw * (1 - 1e-9):
            return m * mag
    return 10.0 * mag


def _linear_ticks(lo: float, hi: float, n: int) -> list[tuple[float, str]]:
    step = _nice_step(hi - lo, n)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    out = []
    for k in range(first, last + 1):
        v = k * step
        if abs(v) < step * 1e-9:
            v = 0.0
        big = abs(v) >= 1e6 or (v != 0 and abs(v) < 1e-4)
        label = f"{v:.3g}" if big else f"{v:.{decimals}f}" if decimals else fmt(round(v, 9))
        out.append((v, label))
    return out


class Scale:
    """Maps data values to pixels: linear, log10 or categorical (one cell per category).

    ``lo`` / ``hi`` are data bounds (for a categorical scale, ``0`` and ``n - 1``); ``pad`` widens
    a numeric domain by that fraction on each side so points do not sit on the frame.
    """

    def __init__(
        self,
        lo: float,
        hi: float,
        p0: float,
        p1: float,
        *,
        log: bool = False,
        categories: Sequence[str] | None = None,
        pad: float = 0.04,
    ) -> None:
        self.p0, self.p1 = float(p0), float(p1)
        self.categories = list(categories) if categories is not None else None
        self.log = bool(log) and self.categories is None and lo > 0 and hi > 0
        if self.categories is not None:
            self.lo, self.hi = -0.5, len(self.categories) - 0.5
            return
        t_lo, t_hi = (math.log10(lo), math.log10(hi)) if self.log else (float(lo), float(hi))
        if not (math.isfinite(t_lo) and math.isfinite(t_hi)):
            t_lo, t_hi = 0.0, 1.0
        if t_hi <= t_lo:
            half = abs(t_lo) * 0.05
            if not half > 1e-300:  # zero, or so small that padding would underflow
                half = 0.5
            t_lo, t_hi = t_lo - half, t_hi + half
        span = t_hi - t_lo
        self.lo, self.hi = t_lo - pad * span, t_hi + pad * span

    def _t(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.log10(np.maximum(v, 1e-300))
        return v

    def __call__(self, v: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """Pixel positions of the values ``v`` (category indices on a categorical scale)."""
        t = self._t(np.asarray(v, dtype=np.float64))
        return self.p0 + (t - self.lo) / (self.hi - self.lo) * (self.p1 - self.p0)

    def ticks(self, n: int = 5) -> list[tuple[float, str]]:
        """``(pixel, label)`` of about ``n`` ticks."""
        if self.categories is not None:
            every = max(1, math.ceil(len(self.categories) / 12))
            return [
                (float(self(float(i))), c) for i, c in enumerate(self.categories) if i % every == 0
            ]
        if self.log:
            a, b = math.ceil(self.lo - 1e-9), math.floor(self.hi + 1e-9)
            if b - a >= 1:
                every = max(1, math.ceil((b - a + 1) / (n + 1)))
                return [(float(self(10.0**k)), f"1e{k}") for k in range(a, b + 1, every)]
            vals = _linear_ticks(10.0**self.lo, 10.0**self.hi, n)
            return [(float(self(v)), label) for v, label in vals if v > 0]
        return [(float(self(v)), label) for v, label in _linear_ticks(self.lo, self.hi, n)]


def _coords(xs: NDArray[np.float64], ys: NDArray[np.float64]) -> list[str]:
    return [f"{x:.1f} {y:.1f}" for x, y in zip(xs.tolist(), ys.tolist(), strict=True)]


class Canvas:
    """An SVG document built element by element; :meth:`svg` closes it."""

    def __init__(self, width: float, height: float, title: str) -> None:
        self.width, self.height = width, height
        self.parts: list[str] = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="hp-svg" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
            f'aria-label="{esc(title)}" font-family="system-ui, -apple-system, Segoe UI, '
            f'Helvetica, Arial, sans-serif" font-size="11" fill="{INK}">',
            f"<title>{esc(title)}</title>",
            f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
            f'<text x="12" y="20" font-size="14" font-weight="600">{esc(title)}</text>',
        ]

    def text(
        self,
        x: float,
        y: float,
        s: str,
        *,
        anchor: str = "middle",
        size: float | None = None,
        fill: str | None = None,
        rotate: float | None = None,
        halo: bool = False,
        cls: str | None = None,
    ) -> None:
        """A label; ``halo`` draws a white outline under it, to stay readable over lines."""
        attrs = f'x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"'
        if cls:
            attrs += f' class="{cls}"'
        if size is not None:
            attrs += f' font-size="{size:g}"'
        if fill is not None:
            attrs += f' fill="{fill}"'
        if halo:
            attrs += ' stroke="#ffffff" stroke-width="3" paint-order="stroke"'
        if rotate is not None:
            attrs += f' transform="rotate({rotate:g} {x:.1f} {y:.1f})"'
        self.parts.append(f"<text {attrs}>{esc(s)}</text>")

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        stroke: str = INK,
        width: float = 1.0,
    ) -> None:
        self.parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{stroke}" stroke-width="{width:g}"/>'
        )

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        fill: str,
        *,
        stroke: str | None = None,
        cls: str | None = None,
    ) -> None:
        extra = f' stroke="{stroke}"' if stroke else ""
        if cls:
            extra += f' class="{cls}"'
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.0):.1f}" '
            f'height="{max(h, 0.0):.1f}" fill="{fill}"{extra}/>'
        )

    def polyline(
        self,
        xs: NDArray[np.float64],
        ys: NDArray[np.float64],
        stroke: str,
        *,
        width: float = 1.5,
        opacity: float = 1.0,
        cls: str = "hp-line",
    ) -> None:
        if len(xs) == 0:
            return
        self.parts.append(
            f'<polyline class="{cls}" points="{" ".join(_coords(xs, ys))}" fill="none" '
            f'stroke="{stroke}" stroke-width="{width:g}" stroke-opacity="{opacity:g}" '
            'stroke-linejoin="round"/>'
        )

    def paths(
        self,
        lines: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]],
        stroke: str,
        *,
        width: float = 1.0,
        opacity: float = 1.0,
        cls: str = "hp-lines",
    ) -> None:
        """Many polylines of one style as the subpaths of a single ``<path>``."""
        d = []
        for xs, ys in lines:
            if len(xs) == 0:
                continue
            c = _coords(xs, ys)
            d.append("M" + c[0] + ("L" + "L".join(c[1:]) if len(c) > 1 else "h0"))
        if d:
            self.parts.append(
                f'<path class="{cls}" d="{"".join(d)}" fill="none" stroke="{stroke}" '
                f'stroke-width="{width:g}" stroke-opacity="{opacity:g}" '
                'stroke-linejoin="round"/>'
            )

    def dots(
        self,
        xs: NDArray[np.float64],
        ys: NDArray[np.float64],
        color: str,
        *,
        size: float = 5.0,
        opacity: float = 0.7,
        cls: str = "hp-dots",
    ) -> None:
        """Dots of diameter ``size`` (one ``<path>`` whatever their number)."""
        if len(xs) == 0:
            return
        d = "".join("M" + c + "h0" for c in _coords(xs, ys))
        self.parts.append(
            f'<path class="{cls}" d="{d}" stroke="{color}" stroke-width="{size:g}" '
            f'stroke-opacity="{opacity:g}" stroke-linecap="round" fill="none"/>'
        )

    def message(self, text: str) -> None:
        """A centred note, for a figure with nothing to draw."""
        self.rect(12, 34, self.width - 24, self.height - 46, "#fafafa", stroke=GRID)
        self.text(self.width / 2, self.height / 2 + 6, text, fill=GRAY, size=13, cls="hp-message")

    def axes(
        self,
        xs: Scale,
        ys: Scale,
        box: tuple[float, float, float, float],
        xlabel: str,
        ylabel: str,
    ) -> None:
        """Frame, grid lines, ticks and labels of a plot area ``(left, top, right, bottom)``."""
        left, top, right, bottom = box
        for px, label in ys.ticks():
            if top - 0.5 <= px <= bottom + 0.5:
                self.line(left, px, right, px, GRID)
                self.text(left - 6, px + 4, label, anchor="end")
        for px, label in xs.ticks():
            if left - 0.5 <= px <= right + 0.5:
                self.line(px, top, px, bottom, GRID)
                self.text(px, bottom + 15, truncate(label, 80))
        self.parts.append(
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{right - left:.1f}" '
            f'height="{bottom - top:.1f}" fill="none" stroke="#999999"/>'
        )
        self.text((left + right) / 2, bottom + 34, xlabel)
        self.text(16, (top + bottom) / 2, ylabel, rotate=-90)

    def legend(self, items: Sequence[tuple[str, str]], x: float, y: float) -> None:
        """``(colour, label)`` entries in a row, right-aligned so the row ends at ``x``."""
        widths = [18 + len(label) * CHAR_WIDTH + 14 for _, label in items]
        cx = x - sum(widths)
        for (color, label), w in zip(items, widths, strict=True):
            self.rect(cx, y - 8, 12, 8, color)
            self.text(cx + 16, y, label, anchor="start")
            cx += w

    def svg(self) -> str:
        """The finished document."""
        return "".join(self.parts) + "</svg>"
