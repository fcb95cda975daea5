"""The HTML report in a real headless Chromium: no JavaScript or console errors, every plot
drawn, and a screenshot that is not blank.

Chromium's own headless mode is driven directly (``--dump-dom``, ``--screenshot``), so nothing
beyond the browser is needed: on Debian, ``apt-get install -y chromium``. The browser is found as
``$HPTUNE_CHROMIUM`` or on PATH; without one these tests are skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

import hptune
from hptune import HyperparameterSpace as P
from hptune import plot


def _find_chromium() -> str | None:
    env = os.environ.get("HPTUNE_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM = _find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found (apt-get install chromium, or set HPTUNE_CHROMIUM)"
)


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # CI containers run as root, where the sandbox cannot start
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={tmp / 'profile'}",  # no shared profile between test runs
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)


def _objective(trial: hptune.Trial) -> float:
    p = trial.params
    if p["opt"] == "sgd" and p["layers"] == 1:
        raise RuntimeError("diverged")
    base = (np.log10(p["lr"]) + 2.5) ** 2 + 0.1 * (p["layers"] - 3) ** 2
    for step in range(10):
        v = float(base + 2.0 / (step + 1))
        trial.report(v, step)
        if step == 2 and v > 2.5:
            raise hptune.TrialPruned()
    return float(base)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    space = [
        P("lr", "float", 1e-4, 1e-1, log_scale=True),
        P("layers", "int", 1, 6),
        P("opt", "categorical", choices=["adam", "sgd", "rmsprop"]),
    ]
    study = hptune.create_study(space, maximize=False, seed=0, study_name="browser")
    study.optimize(_objective, n_trials=120)
    path = tmp_path_factory.mktemp("report") / "report.html"
    plot.report(study, path)
    n_plots = 4 + len(space)  # history, importance, parallel, intermediate, one slice each
    return path, n_plots


def _dom(tmp: Path, page: Path) -> tuple[str, str]:
    run = _chromium(tmp, "--dump-dom", page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout, run.stderr


def test_page_loads_without_errors_and_draws_every_plot(
    report: tuple[Path, int], tmp_path: Path
) -> None:
    page, n_plots = report
    dom, log = _dom(tmp_path, page)
    html_tag = re.search(r"<html[^>]*>", dom)
    assert html_tag is not None
    assert "data-js-error" not in html_tag.group(0), html_tag.group(0)
    # The report logs nothing; any console line is an error or a warning.
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert not console, console
    assert len(re.findall(r'class="hp-plot" data-plot="', dom)) == n_plots
    assert dom.count('data-render-ok="1"') == n_plots
    # Every plot drew data, none fell back to a "nothing to draw" note.
    marks = [int(m) for m in re.findall(r'data-marks="(\d+)"', dom)]
    assert len(marks) == n_plots
    assert min(marks) > 0
    assert 'class="hp-message"' not in dom
    assert f'data-render-done="{n_plots}/{n_plots}"' in dom


def test_errors_would_be_caught(report: tuple[Path, int], tmp_path: Path) -> None:
    # The markers the test above relies on do fire: a broken copy of the page is flagged.
    page, _ = report
    broken = tmp_path / "broken.html"
    html = page.read_text(encoding="utf-8")
    broken.write_text(
        html.replace("</body>", "<script>console.warn('w'); noSuchFunction();</script></body>"),
        encoding="utf-8",
    )
    dom, log = _dom(tmp_path, broken)
    assert 'data-js-error="Uncaught ReferenceError' in dom
    assert any(":CONSOLE" in line for line in log.splitlines())


# ----------------------------------------------------------------------------- screenshot
def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data: bytes) -> np.ndarray:
    """Pixels (height x width x channels, uint8) of an 8-bit, non-interlaced RGB or RGBA PNG,
    decoded with zlib and struct only (plus numpy for the arithmetic)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace != 0 or color not in (2, 6):
                raise ValueError(f"unsupported PNG: depth {depth}, colour {color}, {interlace=}")
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    assert len(raw) == height * (stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for r in range(height):
        start = r * (stride + 1)
        kind = raw[start]
        line = np.frombuffer(raw, np.uint8, stride, start + 1).copy()
        if kind == 1:  # Sub: a running sum per channel, modulo 256
            line = np.cumsum(line.reshape(width, channels), axis=0, dtype=np.uint8).ravel()
        elif kind == 2:  # Up
            line = line + prev
        elif kind in (3, 4):  # Average, Paeth: sequential along the row
            row = line.tolist()
            up = prev.tolist()
            for x in range(stride):
                left = row[x - channels] if x >= channels else 0
                if kind == 3:
                    row[x] = (row[x] + (left + up[x]) // 2) & 0xFF
                else:
                    corner = up[x - channels] if x >= channels else 0
                    row[x] = (row[x] + _paeth(left, up[x], corner)) & 0xFF
            line = np.array(row, dtype=np.uint8)
        else:
            assert kind == 0, f"unknown PNG filter {kind}"
        out[r] = line
        prev = line
    return out.reshape(height, width, channels)


def _is_blank(pixels: np.ndarray) -> bool:
    rgb = pixels[..., :3].reshape(-1, 3).astype(np.int64)
    codes = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    values, counts = np.unique(codes, return_counts=True)
    background_share = counts.max() / codes.size
    grey = rgb.mean(axis=1)
    return bool(len(values) < 32 or background_share > 0.98 or grey.std() < 4.0)


def _screenshot(tmp: Path, page: Path, name: str) -> np.ndarray:
    png = tmp / name
    run = _chromium(tmp, f"--screenshot={png}", "--window-size=1280,1100", page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    return decode_png(png.read_bytes())


def test_screenshot_is_not_blank(report: tuple[Path, int], tmp_path: Path) -> None:
    page, _ = report
    pixels = _screenshot(tmp_path, page, "report.png")
    assert pixels.shape[:2] == (1100, 1280)
    assert not _is_blank(pixels)
    # And the check can tell: an empty page is blank.
    empty = tmp_path / "empty.html"
    empty.write_text("<!doctype html><title>empty</title>", encoding="utf-8")
    assert _is_blank(_screenshot(tmp_path, empty, "empty.png"))


def test_png_decoder_on_every_filter() -> None:
    # A 3 x 2 RGB image whose rows use the five filter types the decoder handles.
    pixels = np.array(
        [[[10, 20, 30], [40, 50, 60], [70, 80, 90]], [[15, 25, 35], [5, 250, 45], [200, 1, 99]]],
        dtype=np.uint8,
    )
    for filters in ((0, 1), (2, 3), (4, 4), (1, 2), (3, 0)):
        raw = b""
        prev = np.zeros(9, dtype=np.int64)
        for r, kind in enumerate(filters):
            row = pixels[r].ravel().astype(np.int64)
            enc = []
            for x in range(9):
                a = int(row[x - 3]) if x >= 3 else 0
                b = int(prev[x])
                c = int(prev[x - 3]) if x >= 3 else 0
                pred = [0, a, b, (a + b) // 2, _paeth(a, b, c)][kind]
                enc.append((int(row[x]) - pred) & 0xFF)
            raw += bytes([kind, *enc])
            prev = row
        ihdr = struct.pack(">IIBBBBB", 3, 2, 8, 2, 0, 0, 0)

        def chunk(kind: bytes, body: bytes) -> bytes:
            crc = zlib.crc32(kind + body)
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

        png = (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b"")
        )
        assert (decode_png(png) == pixels).all(), filters
