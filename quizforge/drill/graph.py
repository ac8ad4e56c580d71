"""A computational graph (a DAG) and its numeric forward and backward passes in plain floats.

Leaves are variables with given values (x, w, b, y …); nodes are z1, z2, … in topological
order, and the last node is the scalar loss L. An *edge* is (consumer, input index): node
`consumer` reads `consumer.inputs[index]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from quizforge.drill.ops import OPS

Edge = tuple[str, int]  # (consumer node name, index into its inputs)
Path = tuple[Edge, ...]  # edges from a target up to L


@dataclass(frozen=True)
class Node:
    name: str
    op: str
    inputs: tuple[str, ...]

    def equation(self) -> str:
        """The right-hand side as shown to people: "w·x", "σ(z2)"."""
        return OPS[self.op].show.format(*self.inputs)

    def sym(self) -> str:
        """The right-hand side as a SymPy-parseable string: "w*x", "1/(1 + exp(-z2))"."""
        args = [f"({a})" if "(" in a else a for a in self.inputs]
        return OPS[self.op].sym.format(*args)


@dataclass(frozen=True)
class Graph:
    leaves: tuple[str, ...]
    nodes: tuple[Node, ...]  # topological order; the last one is the loss

    @property
    def loss(self) -> str:
        return self.nodes[-1].name

    @property
    def nodes_by_name(self) -> frozenset[str]:
        return frozenset(n.name for n in self.nodes)

    @property
    def names(self) -> tuple[str, ...]:
        return self.leaves + tuple(n.name for n in self.nodes)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def consumers(self) -> dict[str, list[Edge]]:
        """For every leaf and node, the edges that read it, in graph order."""
        out: dict[str, list[Edge]] = {name: [] for name in self.names}
        for n in self.nodes:
            for i, a in enumerate(n.inputs):
                out[a].append((n.name, i))
        return out

    def fan_out(self) -> list[str]:
        """Leaves and nodes read by two or more nodes."""
        return [k for k, v in self.consumers().items() if len(v) >= 2]

    def forward(self, values: Mapping[str, float]) -> dict[str, float]:
        """Every leaf and node value. Raises ArithmeticError/ValueError outside the domain."""
        val = {leaf: float(values[leaf]) for leaf in self.leaves}
        for n in self.nodes:
            val[n.name] = OPS[n.op].forward(*(val[a] for a in n.inputs))
        return val

    def local_grads(self, fwd: Mapping[str, float]) -> dict[Edge, float]:
        out: dict[Edge, float] = {}
        for n in self.nodes:
            grads = OPS[n.op].local(tuple(fwd[a] for a in n.inputs), fwd[n.name])
            for i, g in enumerate(grads):
                out[(n.name, i)] = g
        return out

    def backward(
        self, fwd: Mapping[str, float], local: Mapping[Edge, float] | None = None
    ) -> dict[str, float]:
        """dL/d(every leaf and node) by reverse accumulation; `local` may override edges."""
        lg = self.local_grads(fwd)
        if local:
            lg.update(local)
        grad = {name: 0.0 for name in self.names}
        grad[self.loss] = 1.0
        for n in reversed(self.nodes):
            for i, a in enumerate(n.inputs):
                grad[a] += grad[n.name] * lg[(n.name, i)]
        return grad

    def paths(self, target: str) -> list[Path]:
        """Every path of edges from `target` up to the loss (several when fan-out is upstream)."""
        cons = self.consumers()
        out: list[Path] = []

        def walk(name: str, acc: Path) -> None:
            if name == self.loss:
                out.append(acc)
                return
            for edge in cons[name]:
                walk(edge[0], acc + (edge,))

        walk(target, ())
        return out

    def path_names(self, target: str, path: Path) -> list[str]:
        return [target, *(edge[0] for edge in path)]

    def between(self, target: str) -> list[str]:
        """Nodes on some path from `target` to L, in backward order (L excluded, target last)."""
        on_path = {e[0] for p in self.paths(target) for e in p}
        return [n.name for n in reversed(self.nodes) if n.name in on_path and n.name != self.loss] + [
            target
        ]

    def depth(self) -> int:
        d = {leaf: 0 for leaf in self.leaves}
        for n in self.nodes:
            d[n.name] = 1 + max(d[a] for a in n.inputs)
        return d[self.loss]

    def signature(self) -> tuple:
        """The structure without values: equal signatures mean the same graph."""
        return (self.leaves, tuple((n.op, n.inputs) for n in self.nodes))


def to_dot(graph: Graph, title: str = "") -> str:
    """Graphviz DOT: leaves as ellipses, operations as boxes labelled with their equation."""
    lines = ["digraph backprop {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    if title:
        lines.append(f'  label="{title}"; labelloc=t;')
    for leaf in graph.leaves:
        lines.append(f'  "{leaf}" [shape=ellipse];')
    for n in graph.nodes:
        shape = "doubleoctagon" if n.name == graph.loss else "box"
        lines.append(f'  "{n.name}" [shape={shape}, label="{n.name} = {n.equation()}"];')
    for n in graph.nodes:
        for a in n.inputs:
            lines.append(f'  "{a}" -> "{n.name}";')
    lines.append("}")
    return "\n".join(lines)
