"""SymPy views of a graph: node expressions, the loss, and expected gradients.

Imported only when an expression is needed (expression answers, --json, --check), because
importing SymPy takes a noticeable fraction of a second.

The expected gradient comes from reverse accumulation over the graph's local derivatives
(the chain rule, node by node) — not from `sympy.diff` of the loss, so the tests can use
`sympy.diff` as an independent reference.
"""

from __future__ import annotations

import functools
import re
from functools import lru_cache

import sympy as sp

from quizforge.drill.graph import Graph, Node


def sigmoid(a: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-a))


_BUILD = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "square": lambda a: a**2,
    "cube": lambda a: a**3,
    "exp": sp.exp,
    "log": sp.log,
    "sigmoid": sigmoid,
    "tanh": sp.tanh,
    "relu": lambda a: sp.Max(0, a),
    "max": lambda a, b: sp.Max(a, b),
    "halfsq": lambda a: a**2 / 2,
    "bce": lambda p, y: -(y * sp.log(p) + (1 - y) * sp.log(1 - p)),
    "hinge": lambda s, y: sp.Max(0, 1 - y * s),
    "abs": sp.Abs,
}

# d(out)/d(input_i) from the input expressions and the output (a node symbol), so that
# σ' reads σ(1 − σ) with σ the node itself, as a person would write it.
_LOCAL = {
    "add": lambda a, b, o: (sp.Integer(1), sp.Integer(1)),
    "sub": lambda a, b, o: (sp.Integer(1), sp.Integer(-1)),
    "mul": lambda a, b, o: (b, a),
    "div": lambda a, b, o: (1 / b, -a / b**2),
    "square": lambda a, o: (2 * a,),
    "cube": lambda a, o: (3 * a**2,),
    "exp": lambda a, o: (o,),
    "log": lambda a, o: (1 / a,),
    "sigmoid": lambda a, o: (o * (1 - o),),
    "tanh": lambda a, o: (1 - o**2,),
    "relu": lambda a, o: (sp.Heaviside(a),),
    "max": lambda a, b, o: (sp.Heaviside(a - b), sp.Heaviside(b - a)),
    "halfsq": lambda a, o: (a,),
    "bce": lambda p, y, o: ((p - y) / (p * (1 - p)), sp.log(1 - p) - sp.log(p)),
    "hinge": lambda s, y, o: (-y * sp.Heaviside(1 - y * s), -s * sp.Heaviside(1 - y * s)),
    "abs": lambda a, o: (sp.sign(a),),
}


@lru_cache(maxsize=256)
def symbols(names: tuple[str, ...]) -> dict[str, sp.Symbol]:
    return {n: sp.Symbol(n, real=True) for n in names}


def build(node: Node, args: list[sp.Expr]) -> sp.Expr:
    return _BUILD[node.op](*args)


@lru_cache(maxsize=256)
def leaf_exprs(graph: Graph) -> dict[str, sp.Expr]:
    """Every leaf and node as an expression in the leaf variables."""
    sym = symbols(graph.names)
    out: dict[str, sp.Expr] = {leaf: sym[leaf] for leaf in graph.leaves}
    for n in graph.nodes:
        out[n.name] = build(n, [out[a] for a in n.inputs])
    return out


@lru_cache(maxsize=256)
def node_gradients(graph: Graph) -> dict[str, sp.Expr]:
    """dL/d(every name) in terms of leaf *and node* symbols (e.g. 2*z3*x), by reverse accumulation."""
    sym = symbols(graph.names)
    grad: dict[str, sp.Expr] = {n: sp.Integer(0) for n in graph.names}
    grad[graph.loss] = sp.Integer(1)
    for n in reversed(graph.nodes):
        local = _LOCAL[n.op](*(sym[a] for a in n.inputs), sym[n.name])
        for a, g in zip(n.inputs, local, strict=True):
            grad[a] = grad[a] + grad[n.name] * g
    return grad


def expected_in_leaves(graph: Graph, target: str) -> sp.Expr:
    sym = symbols(graph.names)
    defs = leaf_exprs(graph)
    nodes = {sym[n.name]: defs[n.name] for n in graph.nodes}
    return node_gradients(graph)[target].xreplace(nodes)


@functools.cache
def _printer():
    """SymPy's str printer, but in the notation the answer parser documents and the hints
    teach: step(x) for Heaviside(x), relu(x) for Max(0, x), max/min/abs in lower case."""
    from sympy.printing.str import StrPrinter

    class Notation(StrPrinter):
        def _print_Heaviside(self, e):
            return f"step({self._print(e.args[0])})"

        def _pair(self, name, e):
            first, *rest = e.args
            text = self._print(first)
            for arg in rest:  # max(a, b, c) as max(max(a, b), c): the parser's max takes two
                text = f"{name}({text}, {self._print(arg)})"
            return text

        def _print_Max(self, e):
            if len(e.args) == 2 and sp.S.Zero in e.args:
                other = e.args[1] if e.args[0] == 0 else e.args[0]
                return f"relu({self._print(other)})"
            return self._pair("max", e)

        def _print_Min(self, e):
            return self._pair("min", e)

        def _print_Abs(self, e):
            return f"abs({self._print(e.args[0])})"

    return Notation()


def to_str(expr: sp.Expr) -> str:
    """Text the answer parser reads back (step, relu, max, …); sigmoid is already written out
    as 1/(1 + exp(-t))."""
    return _printer().doprint(expr)


def pretty(expr: sp.Expr) -> str:
    """Whiteboard text: 2·x·(b + w·x − y), z4²."""
    text = _printer().doprint(expr).replace("**", "^").replace("*", "·")
    sup = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
    text = re.sub(r"\^(?:\((-[0-9]+)\)|([0-9]+))(?![0-9.])",
                  lambda m: (m.group(1) or m.group(2)).translate(sup), text)
    return text.replace("-", "−")
