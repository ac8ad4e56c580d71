"""The contour of a surface as a character raster: pure data, drawn by `quizforge.ui.viz`.

Each terminal cell holds a 2×4 braille block, so a cols×rows plot samples f on a
(2·cols)×(4·rows) grid. Level lines sit at quantiles of the sampled values (equal areas
between lines): that spaces the lines sensibly on a bowl, a banana valley and a saddle
alike, with no per-surface tuning. A dot is lit where the level changes to its right or below.
"""

from __future__ import annotations

from dataclasses import dataclass

from quizforge.viz.surfaces import Box, Surface, grid_values

LEVELS = 10
# braille dot bits by (row within the cell 0-3, column 0-1)
_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


@dataclass(frozen=True)
class Viewport:
    box: Box
    cols: int
    rows: int

    def cell(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, col) of the cell holding (x, y), or None outside the plot."""
        xmin, xmax, ymin, ymax = self.box
        c = int((x - xmin) / (xmax - xmin) * self.cols)
        r = int((ymax - y) / (ymax - ymin) * self.rows)
        if 0 <= c < self.cols and 0 <= r < self.rows and x >= xmin and y <= ymax:
            return r, c
        return None

    def fcell(self, x: float, y: float) -> tuple[float, float]:
        """Fractional (row, col) coordinates, possibly outside the plot."""
        xmin, xmax, ymin, ymax = self.box
        return (ymax - y) / (ymax - ymin) * self.rows, (x - xmin) / (xmax - xmin) * self.cols


@dataclass(frozen=True)
class Raster:
    view: Viewport
    chars: tuple[str, ...]  # one string of `cols` characters per row (braille or space)
    shade: tuple[tuple[float, ...], ...]  # per cell: its level 0 (lowest) … 1 (highest)


def view_box(surface: Surface, points=()) -> Box:
    """The surface's box, grown to hold the start point(s) with a margin."""
    xmin, xmax, ymin, ymax = surface.box
    for x, y in points:
        if x < xmin or x > xmax:
            pad = 0.1 * (xmax - xmin)
            xmin, xmax = min(xmin, x - pad), max(xmax, x + pad)
        if y < ymin or y > ymax:
            pad = 0.1 * (ymax - ymin)
            ymin, ymax = min(ymin, y - pad), max(ymax, y + pad)
    return xmin, xmax, ymin, ymax


def contour(surface: Surface, view: Viewport, levels: int = LEVELS) -> Raster:
    import numpy as np

    xmin, xmax, ymin, ymax = view.box
    w, h = 2 * view.cols, 4 * view.rows
    xs = xmin + (np.arange(w) + 0.5) / w * (xmax - xmin)
    ys = ymax - (np.arange(h) + 0.5) / h * (ymax - ymin)
    gx, gy = np.meshgrid(xs, ys)
    z = grid_values(surface, gx, gy)
    finite = np.isfinite(z)
    if finite.sum() < 2:
        lvl = np.zeros(z.shape, dtype=int)
    else:
        cuts = np.unique(np.quantile(z[finite], np.linspace(0, 1, levels + 1)[1:-1]))
        lvl = np.searchsorted(cuts, np.where(finite, z, np.inf))
        lvl[~finite] = -1
    edge = np.zeros(z.shape, dtype=bool)
    edge[:, :-1] |= lvl[:, :-1] != lvl[:, 1:]
    edge[:-1, :] |= lvl[:-1, :] != lvl[1:, :]
    edge &= lvl >= 0
    bits = np.array(_BITS)  # (4, 2)
    blocks = edge.reshape(view.rows, 4, view.cols, 2)
    codes = (blocks * bits[None, :, None, :]).sum(axis=(1, 3))
    chars = tuple(
        "".join(chr(0x2800 + int(c)) if c else " " for c in row) for row in codes
    )
    top = max(int(lvl.max()), 1)
    cell_lvl = np.clip(lvl, 0, None).reshape(view.rows, 4, view.cols, 2).mean(axis=(1, 3))
    shade = tuple(tuple(float(v) for v in row) for row in (cell_lvl / top))
    return Raster(view, chars, shade)
