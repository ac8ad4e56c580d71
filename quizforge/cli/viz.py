"""`quizforge viz`: optimizer paths on a loss surface, animated in the terminal or as a page.
Thin: parse the options, compute the paths once (quizforge.viz), render (quizforge.ui.viz)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from quizforge.cli import app
from quizforge.cli.common import fail, out
from quizforge.optim import RULES

SURFACE_NAMES = ("quadratic", "rosenbrock", "saddle", "himmelblau")


def _pair(text: str, what: str, example: str, problems: list[str]) -> tuple[float, float]:
    try:
        a, b = (float(p) for p in text.replace(" ", "").split(","))
        return a, b
    except ValueError:
        problems.append(f"{what} must be two numbers like {example} (got {text!r})")
        return tuple(float(v) for v in example.split(","))


@app.command(short_help="Watch optimizers descend a loss surface, in the terminal or as a page.")
def viz(
    optimizer: Annotated[
        list[str] | None,
        typer.Option("--optimizer", "-o", metavar="NAME",
                     help=f"Repeatable, or comma-separated: {', '.join(RULES)}. "
                     "Default: sgd, momentum, rmsprop, adam.", show_default=False),
    ] = None,
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate. Default: the "
                                             "surface's (0.1 on the notes' quadratic).",
                                             show_default=False)] = None,
    beta: Annotated[float, typer.Option("--beta", help="μ of momentum and Nesterov "
                                        "(PyTorch form v = μv + g).")] = 0.9,
    betas: Annotated[str, typer.Option("--betas", metavar="B1,B2",
                                       help="Adam's and AdamW's (β₁, β₂).")] = "0.9,0.999",
    alpha: Annotated[float, typer.Option("--alpha", help="RMSprop's smoothing "
                                         "constant.")] = 0.99,
    weight_decay: Annotated[float | None, typer.Option(
        "--weight-decay", help="λ: decoupled for AdamW, L2 added to the gradient for the "
        "others. Default: PyTorch's (0.01 for AdamW, 0 otherwise).", show_default=False)] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="How many steps. Default: the "
                                              "surface's (50 on the quadratic).",
                                              show_default=False)] = None,
    start: Annotated[str | None, typer.Option("--start", metavar="X,Y",
                                              help="Start point. Default: 4,4 (rosenbrock "
                                              "-1.5,2; saddle 4,0.5).",
                                              show_default=False)] = None,
    surface: Annotated[str | None, typer.Option(
        "--surface", metavar="[" + "|".join(SURFACE_NAMES) + "]",
        help="A built-in surface. Default: the notes' x² + 3y² + 2xy + 5.",
        show_default=False)] = None,
    formula: Annotated[str | None, typer.Option(
        "--f", metavar="FORMULA", help="Your own f(x, y), e.g. 'x^2 + 10y^2' (read by the "
        "drills' safe parser, never evaluated as code).", show_default=False)] = None,
    no_animate: Annotated[bool, typer.Option("--no-animate", help="Print the final frame "
                                             "and table (also when stdout is not a "
                                             "terminal).")] = False,
    html: Annotated[Path | None, typer.Option("--html", metavar="FILE", help="Write one "
                                              "self-contained interactive page instead.",
                                              show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the paths as JSON.")] = False,
) -> None:
    """Watch optimizers descend a loss surface: the contour, each optimizer's path and a
    live iter / loss / x / y table. Keys: space pause, → one step, r restart, q quit.

    Examples:

      quizforge viz                                     the notes' surface from (4, 4)
      quizforge viz -o sgd -o adam --lr 0.05 --steps 80
      quizforge viz --surface rosenbrock -o momentum,adam
      quizforge viz --f 'x^2 + 10y^2' --start -4,1
      quizforge viz --html viz.html                     an offline page: click to set the start
    """
    from quizforge.viz import Settings, VizError, get_surface, trajectories
    from quizforge.viz.trajectory import settings_problems

    problems: list[str] = []
    names = [n.strip().lower() for o in (optimizer or []) for n in o.split(",") if n.strip()]
    pair_betas = _pair(betas, "--betas", "0.9,0.999", problems)
    pair_start = _pair(start, "--start", "4,4", problems) if start is not None else None
    try:
        surf = get_surface(surface, formula)
    except VizError as e:
        problems.append(str(e))
        surf = get_surface()  # only to check the other options
    settings = Settings(
        optimizers=tuple(names) if names else Settings().optimizers,
        start=pair_start or surf.start, lr=surf.lr if lr is None else lr,
        steps=surf.steps if steps is None else steps, momentum=beta, betas=pair_betas,
        alpha=alpha, weight_decay=weight_decay)
    problems += settings_problems(settings)
    if problems:
        raise fail("; ".join(problems), 2)
    try:
        paths = trajectories(surf, settings)
    except VizError as e:  # f undefined at the start point
        raise fail(str(e), 2) from None

    if html is not None:
        from quizforge.viz.page import build_page

        html.write_text(build_page(surf, settings, paths), encoding="utf-8")
        out.print(f"Wrote {html} — open it in a browser (works offline).", highlight=False)
        return
    if json_out:
        print(json.dumps({"surface": surf.name, "formula": surf.formula,
                          "settings": settings.to_dict(),
                          "paths": [p.to_dict() for p in paths]}, ensure_ascii=False))
        return
    from quizforge.ui.viz import final_frame, run_live, scene_for

    scene = scene_for(surf, settings, paths)
    if no_animate or not (sys.stdout.isatty() and sys.stdin.isatty()):
        out.print(final_frame(scene, out.console()))
        return
    run_live(scene, out.console())
