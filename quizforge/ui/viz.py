"""`quizforge viz` screens: the contour with optimizer paths, the iter/loss/x/y table, and the
live loop (space pause, → one step, r restart, q quit).

A frame is a function from data to a renderable (`render_frame`). Every mark has its own glyph,
so the picture reads the same under NO_COLOR: braille dots are contour lines, each optimizer
has a marker (●, ■, ▲, ◆ …) at its iterates and a small twin (•, ▪, ▴, ⋄ …) along its steps,
the current point is the marker in reverse video, ○ is the start and ✕ a minimum.
"""

from __future__ import annotations

import math
import os
import select
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from quizforge.viz.contour import Raster, Viewport, contour, view_box
from quizforge.viz.surfaces import Surface
from quizforge.viz.trajectory import Settings, Trajectory

# optimizer -> (iterate glyph, step glyph, colour)
MARKS = {
    "sgd": ("●", "•", "bright_red"),
    "momentum": ("■", "▪", "bright_green"),
    "nesterov": ("▼", "▾", "bright_cyan"),
    "adagrad": ("★", "⋆", "bright_magenta"),
    "rmsprop": ("▲", "▴", "bright_yellow"),
    "adam": ("◆", "⋄", "bright_blue"),
    "adamw": ("✚", "+", "dark_orange"),
}
START, MINIMUM = "○", "✕"
CONTOUR_COLOURS = ("#4060a0", "#4a7fa8", "#4f9a9a", "#6fa06a", "#a09a50", "#a87a48", "#a85a50")
KEYS_HINT = "space pause · → step · r restart · q quit"
Y_LABEL_WIDTH = 7  # "-10.00 " left of the plot


@dataclass
class Scene:
    """What a frame shows: the paths (computed once) and how far they have run."""

    surface: Surface
    settings: Settings
    paths: list[Trajectory]

    @property
    def steps(self) -> int:
        return self.settings.steps


def plot_size(width: int, height: int | None, n_paths: int) -> tuple[int, int]:
    """(cols, rows) of the contour for a console of width×height (height None: not a
    terminal, so pick a shape that suits the width)."""
    cols = max(10, width - Y_LABEL_WIDTH)
    if height is None:
        rows = max(10, min(24, cols // 3))
    else:
        rows = max(6, height - (n_paths + 7))  # title, x axis, legend, table header, keys
    return cols, rows


class FrameCache:
    """The contour raster for the current console size (recomputed only when it changes)."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.box = view_box(scene.surface, [scene.settings.start])
        self._raster: Raster | None = None

    def raster(self, cols: int, rows: int) -> Raster:
        r = self._raster
        if r is None or (r.view.cols, r.view.rows) != (cols, rows):
            self._raster = r = contour(self.scene.surface, Viewport(self.box, cols, rows))
        return r


def _segment_cells(view: Viewport, a, b) -> list[tuple[int, int]]:
    """Cells along the straight step a → b that are inside the plot (ends excluded)."""
    r0, c0 = view.fcell(a.x, a.y)
    r1, c1 = view.fcell(b.x, b.y)
    n = int(min(max(abs(r1 - r0), abs(c1 - c0)) * 2, 4 * (view.cols + view.rows))) + 1
    cells = []
    for i in range(1, n):
        t = i / n
        r, c = math.floor(r0 + (r1 - r0) * t), math.floor(c0 + (c1 - c0) * t)
        if 0 <= r < view.rows and 0 <= c < view.cols and (not cells or cells[-1] != (r, c)):
            cells.append((r, c))
    return cells


def _contour_style(shade: float, color: bool) -> str:
    if not color:
        return "dim"
    return CONTOUR_COLOURS[min(len(CONTOUR_COLOURS) - 1, int(shade * len(CONTOUR_COLOURS)))]


def render_plot(scene: Scene, raster: Raster, k: int, color: bool = True) -> Text:
    """The contour with every path after k steps, and the axis labels, as one Text."""
    view = raster.view
    grid = [[(ch, _contour_style(raster.shade[r][c], color) if ch != " " else "")
             for c, ch in enumerate(row)] for r, row in enumerate(raster.chars)]

    def put(cell, ch, style):
        if cell is not None:
            grid[cell[0]][cell[1]] = (ch, style)

    for mx, my in scene.surface.minima:
        put(view.cell(mx, my), MINIMUM, "bold")
    for path in scene.paths:
        mark, small, colour = MARKS[path.optimizer]
        pts = path.points[: k + 1]
        for a, b in pairwise(pts):
            for cell in _segment_cells(view, a, b):
                put(cell, small, colour)
        for p in pts[1:]:
            put(view.cell(p.x, p.y), mark, colour)
    put(view.cell(*scene.settings.start), START, "bold")
    for path in scene.paths:
        mark, _, colour = MARKS[path.optimizer]
        p = path.at(k)
        if p.iter > 0:
            put(view.cell(p.x, p.y), mark, f"bold reverse {colour}")

    xmin, xmax, ymin, ymax = view.box
    text = Text(no_wrap=True, overflow="crop")
    for r, row in enumerate(grid):
        label = ""
        if r == 0:
            label = _num(ymax)
        elif r == view.rows - 1:
            label = _num(ymin)
        elif r == view.rows // 2:
            label = "y " + _num((ymax + ymin) / 2) if abs(ymax + ymin) > 1e-12 else "y 0"
        text.append(f"{label:>{Y_LABEL_WIDTH - 1}} ", style="dim")
        run, run_style = [], None
        for ch, style in row:
            if style != run_style and run:
                text.append("".join(run), style=run_style or None)
                run = []
            run.append(ch)
            run_style = style
        if run:
            text.append("".join(run), style=run_style or None)
        text.append("\n")
    left, mid, right = _num(xmin), "x " + _num((xmin + xmax) / 2), _num(xmax)
    gap = view.cols - len(left) - len(mid) - len(right)
    axis = left + " " * (gap // 2) + mid + " " * (gap - gap // 2) + right
    text.append(" " * Y_LABEL_WIDTH + axis[: view.cols], style="dim")
    return text


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) < 1e4 else f"{v:.1e}"


def fmt(v: float) -> str:
    """The notes' readout format: 4 decimals (scientific beyond a million)."""
    return f"{v:.4f}" if abs(v) < 1e6 else f"{v:.4e}"


def render_table(scene: Scene, k: int) -> Table:
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold",
                  pad_edge=False)
    table.add_column("optimizer", no_wrap=True)
    for name in ("iter", "loss", "x", "y"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for path in scene.paths:
        mark, _, colour = MARKS[path.optimizer]
        p = path.at(k)
        note = ""
        if path.diverged and k >= len(path.points):
            note = f"diverged after iter {p.iter}"
        elif scene.paths and raster_off(scene, p):
            note = "off the plot"
        table.add_row(Text(f"{mark} {path.optimizer}", style=colour), str(p.iter), fmt(p.loss),
                      fmt(p.x), fmt(p.y), Text(note, style="dim"))
    return table


def raster_off(scene: Scene, p) -> bool:
    xmin, xmax, ymin, ymax = view_box(scene.surface, [scene.settings.start])
    return not (xmin <= p.x <= xmax and ymin <= p.y <= ymax)


def _title(scene: Scene, k: int) -> Text:
    s = scene.settings
    parts = [f"f(x, y) = {scene.surface.formula}", f"lr {s.lr:g}",
             f"start ({s.start[0]:g}, {s.start[1]:g})", f"step {k}/{s.steps}"]
    return Text(" · ".join(parts), style="bold", no_wrap=True, overflow="ellipsis")


def _legend(scene: Scene) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    for path in scene.paths:
        mark, small, colour = MARKS[path.optimizer]
        text.append(f"{mark}{small} {path.optimizer}", style=colour)
        text.append("  ")
    text.append(f"{START} start  ", style="bold")
    if scene.surface.minima:
        text.append(f"{MINIMUM} minimum  ", style="bold")
    text.append("⡇ contour", style="dim")
    return text


def render_frame(scene: Scene, cache: FrameCache, k: int, width: int, height: int | None,
                 color: bool = True, status: str | None = None) -> RenderableType:
    cols, rows = plot_size(width, height, len(scene.paths))
    parts: list[RenderableType] = [
        _title(scene, k),
        render_plot(scene, cache.raster(cols, rows), k, color),
        _legend(scene),
        render_table(scene, k),
    ]
    if status is not None:
        parts.append(Text(f"{status} · {KEYS_HINT}", style="dim", no_wrap=True,
                          overflow="ellipsis"))
    return Group(*parts)


def final_frame(scene: Scene, console: Console) -> RenderableType:
    """The last frame, for --no-animate and pipes."""
    cache = FrameCache(scene)
    return render_frame(scene, cache, scene.steps, console.width, None,
                        color=not console.no_color)


# -- the live loop ---------------------------------------------------------------------------
class _Keys:
    """Single keys from a terminal without blocking the animation: cbreak mode, select()."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.old = None

    def __enter__(self):
        import termios
        import tty

        self.old = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc) -> None:
        import termios

        termios.tcsetattr(self.fd, termios.TCSADRAIN, self.old)

    def poll(self, timeout: float) -> str | None:
        if not select.select([self.fd], [], [], max(0.0, timeout))[0]:
            return None
        data = os.read(self.fd, 1)
        if data == b"\x1b":
            while select.select([self.fd], [], [], 0.03)[0]:
                data += os.read(self.fd, 8)
                if len(data) >= 3:
                    break
            return {b"\x1b[C": "right", b"\x1bOC": "right"}.get(data[:3], "escape")
        if data in (b"", b"\x04"):
            return "q"
        return {b" ": "space", b"\r": "enter", b"\n": "enter"}.get(
            data, data.decode("utf-8", "replace").lower())


def run_live(scene: Scene, console: Console, seconds_per_run: float = 6.0) -> int:
    """Animate the paths until q; returns the step shown last."""
    from rich.live import Live

    cache = FrameCache(scene)
    tick = min(0.25, max(0.03, seconds_per_run / max(1, scene.steps)))
    k, playing = 0, True

    def frame() -> RenderableType:
        status = "running" if playing else ("done" if k >= scene.steps else "paused")
        w, h = console.size
        return render_frame(scene, cache, k, w, h, color=not console.no_color, status=status)

    next_at = time.monotonic() + tick
    size = console.size
    with _Keys(sys.stdin.fileno()) as keys, Live(frame(), console=console, auto_refresh=False,
                                                  transient=False) as live:
        while True:
            try:
                key = keys.poll(next_at - time.monotonic() if playing else 0.5)
            except KeyboardInterrupt:
                key = "q"
            if key == "q":
                break
            changed = key is not None
            if key == "space":
                playing = not playing and k < scene.steps
            elif key in ("right", "n", "l"):
                playing = False
                k = min(scene.steps, k + 1)
            elif key == "r":
                k, playing = 0, True
                next_at = time.monotonic() + tick  # show step 0 first
            if playing and time.monotonic() >= next_at:
                k += 1
                changed = True
                if k >= scene.steps:
                    k, playing = scene.steps, False
                next_at = time.monotonic() + tick
            elif key == "space" and playing:
                next_at = time.monotonic() + tick
            if console.size != size:  # resized: redraw at the new size
                size, changed = console.size, True
            if changed:
                live.update(frame(), refresh=True)
    return k


def scene_for(surface: Surface, settings: Settings, paths: Sequence[Trajectory]) -> Scene:
    return Scene(surface, settings, list(paths))
