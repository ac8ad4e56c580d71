"""The worked solution as data: a forward table and a backward table, as in a textbook.

Forward: each node, its definition, the definition with numbers, and its value.
Backward: for each node from L back to the asked one, one row per downstream node it feeds —
local gradient × upstream gradient = contribution — and their sum where the node fans out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from quizforge.drill.model import fmt_exact as fmt_num
from quizforge.drill.ops import OPS


@dataclass(frozen=True)
class ForwardRow:
    node: str
    equation: str  # "w·x"
    substituted: str  # "0.5·2"
    value: float


@dataclass(frozen=True)
class BackwardPart:
    via: str  # the downstream node the gradient comes back through
    local: str  # "∂z1/∂w = x"
    local_value: float
    upstream: float  # dL/d(via)
    product: float  # local_value × upstream


@dataclass(frozen=True)
class BackwardRow:
    node: str
    parts: tuple[BackwardPart, ...]  # empty for L itself (dL/dL = 1)
    total: float

    @property
    def fan_out(self) -> bool:
        return len(self.parts) > 1


@dataclass(frozen=True)
class Solution:
    wrt: str
    forward: tuple[ForwardRow, ...]
    backward: tuple[BackwardRow, ...]  # L first, the asked node last
    paths: tuple[tuple[str, ...], ...]  # node names along every path from wrt to L
    path_values: tuple[float, ...]  # each path's product of local gradients
    value: float


_CALLS = ("exp", "log", "sigmoid", "tanh", "relu", "max")  # already parenthesised: tanh(-0.9)


def _num(v: float, op: str) -> str:
    s = fmt_num(v)
    return f"({s})" if v < 0 and op not in _CALLS else s


def solve(problem, question: int = 0) -> Solution:
    graph = problem.graph
    wrt = problem.question(question).wrt
    fwd = problem.forward_values
    grad = problem.gradients
    local = graph.local_grads(fwd)
    forward = tuple(
        ForwardRow(n.name, n.equation(), OPS[n.op].show.format(*(_num(fwd[a], n.op) for a in n.inputs)),
                   fwd[n.name])
        for n in graph.nodes
    )
    consumers = graph.consumers()
    rows = [BackwardRow(graph.loss, (), 1.0)]
    for name in graph.between(wrt):
        parts = []
        for consumer, i in consumers[name]:
            node = graph.node(consumer)
            text = OPS[node.op].local_text[i].format(*node.inputs, o=consumer)
            lv = local[(consumer, i)]
            parts.append(BackwardPart(consumer, f"∂{consumer}/∂{name} = {text}", lv,
                                      grad[consumer], lv * grad[consumer]))
        rows.append(BackwardRow(name, tuple(parts), grad[name]))
    paths = graph.paths(wrt)
    return Solution(
        wrt=wrt,
        forward=forward,
        backward=tuple(rows),
        paths=tuple(tuple(graph.path_names(wrt, p)) for p in paths),
        path_values=tuple(math.prod(local[e] for e in p) for p in paths),
        value=grad[wrt],
    )
