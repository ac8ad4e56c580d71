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
from functools import lru_cache
from itertools import pairwise

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
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


def keys_hint(status: str, width: int | None = None) -> str:
    """What the keys do now: space plays a paused run; a finished one only restarts. On a
    narrow terminal (with the status in front) → step goes first, then r restart."""
    keys = KEYS_HINT.split(" · ")
    if status == "paused":
        keys[0] = "space play"
    if status == "done":
        keys = keys[2:]
    for drop in ("→ step", "r restart"):
        if width is None or len(f"{status} · " + " · ".join(keys)) <= width:
            break
        keys = [k for k in keys if k != drop]
    return " · ".join(keys)
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
    """What does not change between frames, for the current console size: the contour raster,
    its cells with their styles, and the cells each step of each path crosses."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.box = view_box(scene.surface, [scene.settings.start])
        self._raster: Raster | None = None
        self._color: bool | None = None
        self.base: list[list[tuple[str, str]]] = []
        self.steps: list[list[tuple[tuple[int, int] | None, list[tuple[int, int]]]]] = []

    def raster(self, cols: int, rows: int) -> Raster:
        r = self._raster
        if r is None or (r.view.cols, r.view.rows) != (cols, rows):
            self._raster = r = contour(self.scene.surface, Viewport(self.box, cols, rows))
            self._color = None
            view = r.view
            # per path, per step k ≥ 1: (the cell of iterate k, the cells on the way to it)
            self.steps = [[(view.cell(b.x, b.y), _segment_cells(view, a, b))
                           for a, b in pairwise(path.points)] for path in self.scene.paths]
        return r

    def base_grid(self, raster: Raster, color: bool) -> list[list[tuple[str, str]]]:
        if self._color is not color or not self.base:
            self._color = color
            self.base = [[(ch, _contour_style(raster.shade[r][c], color) if ch != " " else "")
                          for c, ch in enumerate(row)] for r, row in enumerate(raster.chars)]
        return self.base


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


@lru_cache(maxsize=256)
def _style(name: str) -> Style:
    return Style.parse(name) if name else Style.null()


class Plot:
    """Rows of (text, style) runs, rendered straight to segments: a frame is redrawn several
    times a second, and a Text of a few thousand styled cells is too slow to wrap and divide."""

    def __init__(self, rows: list[list[tuple[str, str]]]) -> None:
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for row in self.rows:
            for text, style in row:
                yield Segment(text, _style(style))
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = max((sum(cell_len(t) for t, _ in row) for row in self.rows), default=0)
        return Measurement(width, width)

    @property
    def plain(self) -> str:
        return "\n".join("".join(t for t, _ in row) for row in self.rows)


def render_plot(scene: Scene, cache: FrameCache, raster: Raster, k: int,
                color: bool = True) -> Plot:
    """The contour with every path after k steps, and the axis labels."""
    view = raster.view
    grid = [list(row) for row in cache.base_grid(raster, color)]

    def put(cell, ch, style):
        if cell is not None:
            grid[cell[0]][cell[1]] = (ch, style)

    for mx, my in scene.surface.minima:
        put(view.cell(mx, my), MINIMUM, "bold")
    for path, steps in zip(scene.paths, cache.steps):
        mark, small, colour = MARKS[path.optimizer]
        done = steps[:k]
        for _, cells in done:
            for r, c in cells:
                grid[r][c] = (small, colour)
        for cell, _ in done:
            put(cell, mark, colour)
    put(view.cell(*scene.settings.start), START, "bold")
    for path in scene.paths:
        mark, _, colour = MARKS[path.optimizer]
        p = path.at(k)
        if p.iter > 0:
            put(view.cell(p.x, p.y), mark, f"bold reverse {colour}")

    xmin, xmax, ymin, ymax = view.box
    labels = {0: _num(ymax), view.rows - 1: _num(ymin),
              view.rows // 2: "y " + _num((ymax + ymin) / 2)}
    rows = []
    for r, row in enumerate(grid):
        runs = [(f"{labels.get(r, ''):>{Y_LABEL_WIDTH - 1}} ", "dim")]
        run, run_style = [], None
        for ch, style in row:
            if style != run_style and run:
                runs.append(("".join(run), run_style))
                run = []
            run.append(ch)
            run_style = style
        if run:
            runs.append(("".join(run), run_style))
        rows.append(runs)
    left, mid, right = _num(xmin), "x " + _num((xmin + xmax) / 2), _num(xmax)
    gap = max(0, view.cols - len(left) - len(mid) - len(right))
    axis = left + " " * (gap // 2) + mid + " " * (gap - gap // 2) + right
    rows.append([(" " * Y_LABEL_WIDTH + axis[: view.cols], "dim")])
    return Plot(rows)


def _num(v: float) -> str:
    if abs(v) < 1e-12:
        return "0"
    return f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) < 1e4 else f"{v:.1e}"


def fmt(v: float) -> str:
    """The notes' readout format: 4 decimals (scientific beyond a million)."""
    return f"{v:.4f}" if abs(v) < 1e6 else f"{v:.4e}"


def render_table(scene: Scene, k: int, width: int | None = None) -> Text:
    """optimizer / iter / loss / x / y, one row per optimizer, columns right-aligned (a plain
    Text: a rich Table costs more than the whole plot at animation rates). Narrower than
    `width` allows, iter goes first (the title has the step), then the optimizer's name
    gives way to its mark (the legend names it): y is never cut."""
    head = ("optimizer", "iter", "loss", "x", "y")
    rows = []
    box = view_box(scene.surface, [scene.settings.start])
    for path in scene.paths:
        p = path.at(k)
        note = ""
        if path.diverged and k >= len(path.points):
            note = f"diverged after iter {p.iter}"
        elif not (box[0] <= p.x <= box[1] and box[2] <= p.y <= box[3]):
            note = "off the plot"
        rows.append((path.optimizer, (f"{MARKS[path.optimizer][0]} {path.optimizer}",
                                      str(p.iter), fmt(p.loss), fmt(p.x), fmt(p.y)), note))
    widths = [max(len(head[i]), *(len(r[1][i]) for r in rows)) for i in range(5)]
    keep = [0, 1, 2, 3, 4]
    if width is not None and sum(widths) + 2 * 4 > width:
        keep.remove(1)
        if sum(widths[i] for i in keep) + 2 * 3 > width:  # the mark alone names the path
            rows = [(name, (cells[0][:1], *cells[1:]), note) for name, cells, note in rows]
            head = ("", *head[1:])
            widths[0] = 1
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{head[0]:<{widths[0]}}" + "".join(f"  {head[i]:>{widths[i]}}"
                                                     for i in keep[1:]), style="bold")
    for name, cells, note in rows:
        text.append("\n")
        text.append(f"{cells[0]:<{widths[0]}}", style=MARKS[name][2])
        text.append("".join(f"  {cells[i]:>{widths[i]}}" for i in keep[1:]))
        if note:
            text.append(f"  {note}", style="dim")
    return text


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
        render_plot(scene, cache, cache.raster(cols, rows), k, color),
        _legend(scene),
        render_table(scene, k, width),
    ]
    if status is not None:
        parts.append(Text(f"{status} · {keys_hint(status, width)}", style="dim", no_wrap=True,
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
