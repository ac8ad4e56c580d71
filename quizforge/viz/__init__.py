"""The loss-surface visualization: surfaces, optimizer paths, a contour raster, the page.

Pure: no rich, no typer, no I/O. numpy is imported only where a contour is rasterized.
The terminal screens live in `quizforge.ui.viz`, the command in `quizforge.cli.viz`.
"""

from __future__ import annotations

from quizforge.viz.errors import VizError
from quizforge.viz.surfaces import SURFACES, Surface, get_surface, surface_from_formula
from quizforge.viz.trajectory import (
    DEFAULT_OPTIMIZERS,
    Point,
    Settings,
    Trajectory,
    trajectories,
)

__all__ = [
    "DEFAULT_OPTIMIZERS",
    "SURFACES",
    "Point",
    "Settings",
    "Surface",
    "Trajectory",
    "VizError",
    "get_surface",
    "surface_from_formula",
    "trajectories",
]
