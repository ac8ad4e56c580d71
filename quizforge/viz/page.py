"""`quizforge viz --html FILE`: one self-contained page (inline JS and canvas; no network).

The page carries the surfaces and the update rules in JavaScript, a line-by-line port of
`quizforge.optim` for two parameters, so a click can set a new start point; tests load it in
a headless browser and check that it agrees with the Python paths. A query string such as
`?x=4&y=4&opt=sgd,adam&lr=0.1&steps=3` opens the page at that step (for scripts and tests);
the readout rows carry full-precision values in data-* attributes.
"""

from __future__ import annotations

import json
from importlib import resources

from quizforge.optim import RULES
from quizforge.viz.surfaces import FD_STEP, SURFACES, Surface, tree_to_json
from quizforge.viz.trajectory import DIVERGED, Settings, Trajectory

COLOURS = {"sgd": "#d62728", "momentum": "#2ca02c", "nesterov": "#17becf",
           "adagrad": "#e377c2", "rmsprop": "#bcbd22", "adam": "#1f77b4", "adamw": "#ff7f0e"}


def _surface_data(s: Surface) -> dict:
    return {"name": s.name, "formula": s.formula, "box": list(s.box), "start": list(s.start),
            "lr": s.lr, "steps": s.steps, "minima": [list(m) for m in s.minima],
            "tree": tree_to_json(s.tree) if s.tree is not None else None}


def page_data(surface: Surface, settings: Settings, paths: list[Trajectory]) -> dict:
    surfaces = {name: _surface_data(s) for name, s in SURFACES.items()}
    surfaces[surface.name] = _surface_data(surface)
    return {
        "surface": surface.name, "surfaces": surfaces, "rules": list(RULES),
        "colours": COLOURS, "settings": settings.to_dict(), "fdStep": FD_STEP,
        "diverged": DIVERGED,
        # the Python paths for the opening settings: the page draws these until changed
        "paths": [p.to_dict() for p in paths],
    }


def build_page(surface: Surface, settings: Settings, paths: list[Trajectory]) -> str:
    template = resources.files("quizforge.viz").joinpath("page.html").read_text("utf-8")
    data = json.dumps(page_data(surface, settings, paths), ensure_ascii=False)
    data = data.replace("</", "<\\/")  # nothing in the data may close the <script>
    return template.replace("/*QUIZFORGE_DATA*/null", data)
