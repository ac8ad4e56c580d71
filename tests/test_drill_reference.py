"""Every generated answer against two references that share no code with the generator:

1. centred finite differences of the loss, from a plain-Python `math` evaluation of the forward
   graph written here (CS231n-style relative error, h = 1e-5, float64);
2. `sympy.diff` of the problem's `loss` expression (the generator never calls diff: it
   accumulates local derivatives node by node).

Both read only the problem's JSON (`to_dict()`), as an outside consumer would.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp

from quizforge.drill import generate

H = 1e-5
SEEDS = range(40)  # × 3 difficulties × 3 questions (and every step of the backward pass)
SYMPY_SEEDS = range(25)  # sympy.diff is slower


def _op(op: str, a: list[float]) -> float:
    if op == "add":
        return a[0] + a[1]
    if op == "sub":
        return a[0] - a[1]
    if op == "mul":
        return a[0] * a[1]
    if op == "div":
        return a[0] / a[1]
    if op == "square":
        return a[0] ** 2
    if op == "cube":
        return a[0] ** 3
    if op == "exp":
        return math.exp(a[0])
    if op == "log":
        return math.log(a[0])
    if op == "sigmoid":
        return 1.0 / (1.0 + math.exp(-a[0]))
    if op == "tanh":
        return math.tanh(a[0])
    if op == "relu":
        return a[0] if a[0] > 0 else 0.0
    if op == "max":
        return max(a[0], a[1])
    if op == "halfsq":
        return a[0] ** 2 / 2
    if op == "bce":  # binary cross-entropy of a probability a[0] against a label a[1]
        return -(a[1] * math.log(a[0]) + (1 - a[1]) * math.log(1 - a[0]))
    if op == "hinge":  # max(0, 1 − y·s), s = a[0], y = a[1]
        return max(0.0, 1 - a[1] * a[0])
    if op == "abs":
        return abs(a[0])
    raise AssertionError(op)


def loss(d: dict, values: dict[str, float], bump: tuple[str, float] | None = None) -> float:
    v = dict(values)
    if bump and bump[0] in v:
        v[bump[0]] += bump[1]
    for n in d["nodes"]:
        v[n["name"]] = _op(n["op"], [v[i] for i in n["inputs"]])
        if bump and bump[0] == n["name"]:
            v[n["name"]] += bump[1]
    return v[d["nodes"][-1]["name"]]


def finite_difference(d: dict, wrt: str) -> float:
    values = {k: float(x) for k, x in d["values"].items()}
    return (loss(d, values, (wrt, H)) - loss(d, values, (wrt, -H))) / (2 * H)


def rel_error(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


FUNCS = {"relu": lambda t: sp.Max(0, t), "sigmoid": lambda t: 1 / (1 + sp.exp(-t)),
         "step": sp.Heaviside, "max": sp.Max, "min": sp.Min, "abs": sp.Abs}  # the answer notation


def _defs(d: dict) -> dict[str, sp.Expr]:
    """Every leaf and node as a SymPy expression in the leaves, from the JSON node list."""
    defs: dict[str, sp.Expr] = {k: sp.Symbol(k) for k in d["values"]}
    for n in d["nodes"]:
        local = {i: sp.Symbol(i) for i in n["inputs"]}
        e = sp.sympify(n["expr"], locals={**local, **FUNCS})
        defs[n["name"]] = e.xreplace({local[i]: defs[i] for i in n["inputs"]})
    return defs


def _sympy_gradient(d: dict, wrt: str) -> sp.Expr:
    """dL/d(wrt) by sympy.diff; for a node, L is rebuilt with that node as a free symbol."""
    leaves = {k: sp.Symbol(k) for k in d["values"]}
    if wrt in leaves:
        return sp.diff(sp.sympify(d["loss_scalar"], locals={**leaves, **FUNCS}), leaves[wrt])
    t = sp.Symbol("T_node")
    defs: dict[str, sp.Expr] = dict(leaves)
    cut: dict[str, sp.Expr] = dict(leaves)
    for n in d["nodes"]:
        local = {i: sp.Symbol(i) for i in n["inputs"]}
        e = sp.sympify(n["expr"], locals={**local, **FUNCS})
        defs[n["name"]] = e.xreplace({local[i]: defs[i] for i in n["inputs"]})
        cut[n["name"]] = t if n["name"] == wrt else e.xreplace({local[i]: cut[i] for i in n["inputs"]})
    grad = sp.diff(cut[d["nodes"][-1]["name"]], t)
    return grad.xreplace({t: defs[wrt]})


def _at(expr: sp.Expr, values: dict[str, float]) -> float:
    names = sorted(values)
    helpers = {"Heaviside": lambda a, *_: 1.0 if a > 0 else 0.0 if a < 0 else 0.5, "Max": max,
               "sign": lambda a: math.copysign(1.0, a) if a else 0.0}
    f = sp.lambdify([sp.Symbol(k) for k in names], expr, modules=[helpers, "math"])
    return float(f(*(values[k] for k in names)))


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_values_match_finite_differences(difficulty):
    for seed in SEEDS:
        d = generate("backprop", seed, difficulty, "steps").to_dict()
        for q in d["questions"]:
            fd = finite_difference(d, q["wrt"])
            assert rel_error(q["value"], fd) < 1e-5, (seed, q["wrt"], q["value"], fd)
            for step in q["steps"]:
                fd = finite_difference(d, step["wrt"])
                assert rel_error(step["value"], fd) < 1e-5, (seed, step["wrt"])


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_expected_expressions_match_sympy_diff(difficulty):
    for seed in SYMPY_SEEDS:
        d = generate("backprop", seed, difficulty, "expression").to_dict()
        values = {k: float(x) for k, x in d["values"].items()}
        # a second point a little away, to compare the expressions as functions
        nearby = {k: v * 1.01 + 0.001 for k, v in values.items()}
        defs = _defs(d)
        names = {k: sp.Symbol(k) for k in defs}
        for q in d["questions"]:
            reference = _sympy_gradient(d, q["wrt"])
            # the expected answer may use node names when the leaf form is long
            expected = sp.sympify(q["expected"], locals={**names, **FUNCS}).xreplace(
                {names[k]: v for k, v in defs.items() if k not in values})
            assert expected.free_symbols <= {names[k] for k in values}
            assert rel_error(_at(reference, values), q["value"]) < 1e-9, (seed, q["wrt"])
            assert rel_error(_at(expected, values), q["value"]) < 1e-9, (seed, q["wrt"])
            assert rel_error(_at(expected, nearby), _at(reference, nearby)) < 1e-9, (seed, q)


def test_loss_expression_matches_the_forward_graph():
    for difficulty in (1, 2, 3):
        for seed in range(20):
            d = generate("backprop", seed, difficulty).to_dict()
            values = {k: float(x) for k, x in d["values"].items()}
            leaves = {k: sp.Symbol(k) for k in values}
            assert rel_error(_at(sp.sympify(d["loss"], locals={**leaves, **FUNCS}), values),
                             loss(d, values)) < 1e-12
