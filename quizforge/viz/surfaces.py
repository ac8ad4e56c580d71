"""Loss surfaces f(x, y): the notes' quadratic, three classics, and a formula the user types.

A built-in surface carries its analytic gradient. A typed formula is read by the drill's
whitelist parser (never eval'd) and differentiated by central finite differences, which the
page repeats in JavaScript with the same step, so both draw the same paths.

Every `f` and built-in `grad` use only + − × and powers, so they work on floats and, for the
contour, on numpy arrays alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from quizforge.viz.errors import VizError

Box = tuple[float, float, float, float]  # xmin, xmax, ymin, ymax
Func = Callable[[Any, Any], Any]
Grad = Callable[[float, float], tuple[float, float]]

FD_STEP = 1e-5  # relative step of the central differences (also in the page's JS)


@dataclass(frozen=True)
class Surface:
    name: str  # quadratic | rosenbrock | saddle | himmelblau | custom
    formula: str  # as shown: "x² + 3y² + 2xy + 5"
    f: Func
    grad: Grad
    box: Box  # the region drawn
    start: tuple[float, float]  # default start point
    lr: float  # a learning rate that shows something on this surface
    steps: int
    minima: tuple[tuple[float, float], ...] = ()  # marked on the contour
    tree: tuple | None = None  # the parsed formula (custom surfaces), for the page

    def loss(self, x: float, y: float) -> float:
        return float(self.f(x, y))


def _quadratic(x, y):
    return x**2 + 3 * y**2 + 2 * x * y + 5


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _saddle(x, y):
    return x**2 - y**2


def _himmelblau(x, y):
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        Surface("quadratic", "x² + 3y² + 2xy + 5", _quadratic,
                lambda x, y: (2 * x + 2 * y, 6 * y + 2 * x),
                (-5.0, 5.0, -5.0, 5.0), (4.0, 4.0), 0.1, 50, ((0.0, 0.0),)),
        Surface("rosenbrock", "(1 − x)² + 100(y − x²)²", _rosenbrock,
                lambda x, y: (-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)),
                (-2.0, 2.0, -1.0, 3.0), (-1.5, 2.0), 0.001, 200, ((1.0, 1.0),)),
        Surface("saddle", "x² − y²", _saddle,
                lambda x, y: (2 * x, -2 * y),
                (-5.0, 5.0, -5.0, 5.0), (4.0, 0.5), 0.1, 30, ()),
        Surface("himmelblau", "(x² + y − 11)² + (x + y² − 7)²", _himmelblau,
                lambda x, y: (4 * x * (x**2 + y - 11) + 2 * (x + y**2 - 7),
                              2 * (x**2 + y - 11) + 4 * y * (x + y**2 - 7)),
                (-5.0, 5.0, -5.0, 5.0), (4.0, 4.0), 0.01, 60,
                ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                 (3.584428, -1.848126))),
    )
}


def central_gradient(f: Callable[[float, float], float]) -> Grad:
    """∂f/∂x, ∂f/∂y by central differences with a step relative to the coordinate."""

    def grad(x: float, y: float) -> tuple[float, float]:
        hx = FD_STEP * max(1.0, abs(x))
        hy = FD_STEP * max(1.0, abs(y))
        return ((f(x + hx, y) - f(x - hx, y)) / (2 * hx),
                (f(x, y + hy) - f(x, y - hy)) / (2 * hy))

    return grad


def surface_from_formula(text: str) -> Surface:
    """A surface from a typed formula in x and y, e.g. 'x^2 + 10y^2'. Raises VizError."""
    from quizforge.drill.errors import AnswerRejected
    from quizforge.drill.parse import evaluate, parse_answer

    try:
        answer = parse_answer(text, ("x", "y"))
    except AnswerRejected as e:
        raise VizError(f"--f {text!r}: {_formula_reason(e.reason)}") from None
    tree = answer.tree
    if not answer.names() & {"x", "y"}:
        raise VizError(f"--f {text!r}: the formula must use x or y")

    def f(x: float, y: float) -> float:
        try:
            return evaluate(tree, {"x": x, "y": y})
        except (ArithmeticError, ValueError):
            return math.nan

    return Surface("custom", " ".join(text.split()), f, central_gradient(f), (-5.0, 5.0, -5.0, 5.0),
                   (4.0, 4.0), 0.1, 50, (), tree)


FORMULA_HELP = "write a formula in x and y, e.g. x^2 + 10y^2, (1 - x)^2 + 100(y - x^2)^2, exp(x) + y^2"


def _formula_reason(reason: str) -> str:
    """The drill parser's reason, worded for a formula rather than an answer."""
    from quizforge.drill.parse import SYNTAX_HELP

    if SYNTAX_HELP in reason:
        return reason.replace(SYNTAX_HELP, "").rstrip(" .") + "; " + FORMULA_HELP
    if "() is not allowed" in reason:  # the drill's "do it by hand" does not apply here
        return reason.split(":")[0] + " (only functions like exp, log, sqrt, tanh, σ, relu)"
    reason = reason.replace("in an answer", "in a formula").replace("the answer", "the formula")
    return reason


def get_surface(name: str | None = None, formula: str | None = None) -> Surface:
    if formula is not None:
        if name is not None:
            raise VizError("give --surface or --f, not both")
        return surface_from_formula(formula)
    name = name or "quadratic"
    if name not in SURFACES:
        raise VizError(f"--surface: unknown surface {name!r} (available: {', '.join(SURFACES)})")
    return SURFACES[name]


def grid_values(surface: Surface, xs, ys):
    """f on the numpy grid (xs, ys); NaN where f is undefined. numpy is imported here only."""
    import numpy as np

    with np.errstate(all="ignore"):
        if surface.tree is None:
            z = surface.f(xs, ys)
        else:
            z = _np_evaluate(surface.tree, {"x": xs, "y": ys})
        z = np.asarray(z, dtype=float) + np.zeros_like(xs)  # a constant formula still fills
        z[~np.isfinite(z)] = np.nan
    return z


def _np_evaluate(e: tuple, env: dict):
    """`quizforge.drill.parse.evaluate` over numpy arrays (the same tree, elementwise)."""
    import numpy as np

    from quizforge.drill.parse import CONSTANTS, Semantics, interpret

    funcs = {
        "exp": np.exp, "log": np.log, "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
        "tanh": np.tanh, "sqrt": np.sqrt, "relu": lambda a: np.maximum(a, 0.0),
        "max": np.maximum, "min": np.minimum, "abs": np.abs,
        "step": lambda a: np.where(a > 0, 1.0, np.where(a < 0, 0.0, 0.5)),
        "sinh": np.sinh, "cosh": np.cosh, "sech": lambda a: 1 / np.cosh(a), "sign": np.sign,
    }
    return interpret(e, env, Semantics(
        num=float,
        const=CONSTANTS.__getitem__,
        arith={"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide},
        power=lambda a, k: np.power(a, float(k)),
        call=lambda name, args: funcs[name](*args),
    ))


def tree_to_json(e: tuple) -> list:
    """The parsed formula as JSON for the page's evaluator (numbers as floats)."""
    kind = e[0]
    if kind == "num":
        return ["num", float(e[1])]
    if kind in ("var", "const"):
        return [kind, e[1]]
    if kind == "neg":
        return ["neg", tree_to_json(e[1])]
    if kind in ("add", "sub", "mul", "div"):
        return [kind, tree_to_json(e[1]), tree_to_json(e[2])]
    if kind == "pow":
        return ["pow", tree_to_json(e[1]), float(e[2])]
    if kind == "call":
        return ["call", e[1], [tree_to_json(a) for a in e[2]]]
    raise AssertionError(kind)
