"""A scalar computational-graph problem (the `backprop` family): the graph, the leaf values,
the questions, and everything the engine asks of a problem — targets with honest-rounding
bands, named mistakes, the worked solution, hints and the expression check.

Numbers are plain floats; SymPy is imported only for the expression form and its JSON.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from quizforge.drill.errors import DrillError
from quizforge.drill.graph import Edge, Graph, Node
from quizforge.drill.model import (
    FORMS,
    SIG_FIGS,
    Columns,
    Lines,
    Mistake,
    Question,
    Table,
    Target,
    blocks_text,
    fmt_exact,
    fmt_num,
    to_data,
)
from quizforge.drill.ops import OPS
from quizforge.drill.rounding import Rounder, band

__all__ = ["FORMS", "SIG_FIGS", "SKILLS", "GraphProblem", "fmt_num", "skills_for"]

# Skills in the order they are listed.
SKILLS = ("chain-rule", "fan-out", "product", "max-gate", "squared-error", "cross-entropy",
          "hinge", "l1", "quotient", "power", "exp", "log", "sigmoid", "tanh", "relu")
LEAF_EXPRESSION_LIMIT = 240  # longer leaf-variable forms are given in node names


def skills_for(graph: Graph, target: str) -> tuple[str, ...]:
    """What asking for dL/d(target) exercises: the ops on its paths, and fan-out if several."""
    paths = graph.paths(target)
    found = {"chain-rule"} if any(len(p) >= 2 for p in paths) else set()
    if len(paths) >= 2:
        found.add("fan-out")
    for p in paths:
        for consumer, _ in p:
            skill = OPS[graph.node(consumer).op].skill
            if skill:
                found.add(skill)
    return tuple(s for s in SKILLS if s in found)


def graph_lines(graph: Graph) -> list[str]:
    """The DAG as arrows from each value to the nodes that read it; ◆ marks fan-out."""
    consumers = graph.consumers()
    width = max(len(n) for n in graph.names)
    out = []
    for name in graph.names:
        targets = list(dict.fromkeys(c for c, _ in consumers[name]))
        if not targets:
            out.append(f"{name.ljust(width)}  (loss)")
            continue
        for k, target in enumerate(targets):
            if len(targets) == 1:
                arrow = " ───▶ "
            elif k == 0:
                arrow = " ─┬─▶ "
            elif k == len(targets) - 1:
                arrow = "  └─▶ "
            else:
                arrow = "  ├─▶ "
            label = name.ljust(width) if k == 0 else " " * width
            extra = f"  ◆ fan-out ×{len(targets)}" if k == 0 and len(targets) > 1 else ""
            out.append(f"{label}{arrow}{target}{extra}")
    return out


def fan_out_lines(graph: Graph) -> list[str]:
    """Only the values read by several nodes, drawn as a fork: the part that needs care."""
    lines = graph_lines(graph)
    out: list[str] = []
    keep = False
    for line in lines:
        if "◆" in line:
            keep = True
        elif not line.startswith(" "):
            keep = False
        if keep:
            if "◆" in line:
                count = line.rsplit("×", 1)[1]
                line = line.split("  ◆")[0] + f"  ◆ {line.split()[0]} feeds {count} nodes"
            out.append(line.rstrip())
    return out


# -- values at a point ---------------------------------------------------------------------------
@dataclass
class Point:
    values: dict[str, float]
    fwd: dict[str, float]
    local: dict[Edge, float]
    grad: dict[str, float]


def point_at(graph: Graph, values: dict[str, float]) -> Point:
    fwd = graph.forward(values)
    return Point(values, fwd, graph.local_grads(fwd), graph.backward(fwd))


def hand_gradient(graph: Graph, values: dict[str, float], r: Rounder) -> dict[str, float]:
    """dL/d(everything) as a person computes it, `r` applied to every number written down."""
    val = {leaf: float(values[leaf]) for leaf in graph.leaves}
    for n in graph.nodes:
        val[n.name] = r(OPS[n.op].forward(*(val[a] for a in n.inputs)))
    grad = {name: 0.0 for name in graph.names}
    grad[graph.loss] = 1.0
    for n in reversed(graph.nodes):
        local = OPS[n.op].local(tuple(val[a] for a in n.inputs), val[n.name])
        for a, g in zip(n.inputs, local, strict=True):
            grad[a] = r(grad[a] + r(grad[n.name] * r(g)))
    return grad


def _sides(graph: Graph, fwd: dict[str, float]) -> tuple[bool, ...]:
    """Which side of its kink each piecewise node's input is on."""
    out = []
    for n in graph.nodes:
        ins = [fwd[a] for a in n.inputs]
        if n.op in ("relu", "abs"):
            out.append(ins[0] > 0)
        elif n.op == "max":
            out.append(ins[0] > ins[1])
        elif n.op == "hinge":
            out.append(1 - ins[1] * ins[0] > 0)
    return tuple(out)


def has_kinks(graph: Graph) -> bool:
    return any(n.op in ("relu", "abs", "max", "hinge") for n in graph.nodes)


def same_branches(graph: Graph, base: dict[str, float], fwd: dict[str, float]) -> bool:
    """A point is comparable with the given values when every kink is on the same side."""
    return _sides(graph, fwd) == _sides(graph, base) and well_defined(graph, fwd)


def well_defined(graph: Graph, fwd: dict[str, float]) -> bool:
    """Away from a log's pole, a division by almost zero and a BCE's saturated ends."""
    for n in graph.nodes:
        ins = [fwd[a] for a in n.inputs]
        if n.op == "log" and ins[0] <= 0.01:
            return False
        if n.op == "div" and abs(ins[1]) < 0.1:
            return False
        if n.op == "bce" and not 0.001 < ins[0] < 0.999:
            return False
    return all(math.isfinite(v) and abs(v) < 1e6 for v in fwd.values())


# -- typical mistakes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PointMistake:
    kind: str
    message: str
    at: Callable[[Point], float]


def _local_variants(graph: Graph, edge: Edge) -> list[tuple[str, Callable[[Point], float]]]:
    """Wrong local gradients people use at one edge, as (description, value at a point)."""
    consumer, i = edge
    node = graph.node(consumer)
    a = node.inputs[i]
    eq = f"{consumer} = {node.equation()}"
    d = f"∂{consumer}/∂{a}"

    def inp(k):
        return lambda p: p.fwd[node.inputs[k]]

    def out(p):
        return p.fwd[consumer]

    one = ("dropped", lambda p: 1.0)
    v: list[tuple[str, Callable[[Point], float]]] = []
    op = node.op
    if op == "mul":
        v = [one, (f"for {eq}, {d} is {node.inputs[1 - i]}, not {a}", inp(i))]
    elif op == "div":
        num, den = node.inputs
        if i == 0:
            v = [one, (f"for {eq}, {d} is 1/{den}, not {den}", inp(1))]
        else:
            v = [(f"for {eq}, {d} = −{num}/{den}² (with a minus), not +{num}/{den}²",
                  lambda p: p.fwd[num] / p.fwd[den] ** 2), one]
    elif op == "square":
        v = [(f"for {eq}, {d} = 2·{a}: the factor 2 is missing", inp(0)),
             (f"for {eq}, {d} = 2·{a}, not {a}²", lambda p: p.fwd[a] ** 2), one]
    elif op == "halfsq":
        v = [(f"for {eq}, {d} = {a}: the ½ cancels the 2, so there is no factor 2",
              lambda p: 2 * p.fwd[a]), one]
    elif op == "cube":
        v = [(f"for {eq}, {d} = 3·{a}², not 3·{a}", lambda p: 3 * p.fwd[a]), one]
    elif op == "exp":
        v = [one, (f"for {eq}, {d} = exp({a}), not {a}", inp(0))]
    elif op == "log":
        v = [(f"for {eq}, {d} = 1/{a}, not {a}", inp(0)), one]
    elif op == "sigmoid":
        v = [
            (f"for {eq}, {d} = σ({a})(1 − σ({a})); you used σ({a}) alone", out),
            (f"for {eq}, {d} = σ({a})(1 − σ({a})); you used 1 − σ({a}) alone",
             lambda p: 1 - out(p)),
            (f"for {eq}, {d} = σ({a})(1 − σ({a})) with σ({a}) = {consumer}, not {a}(1 − {a})",
             lambda p: p.fwd[a] * (1 - p.fwd[a])),
            ("dropped σ′", lambda p: 1.0),
        ]
    elif op == "tanh":
        v = [
            (f"for {eq}, {d} = 1 − tanh²({a}); you used 1 − tanh({a})", lambda p: 1 - out(p)),
            (f"for {eq}, {d} = 1 − tanh²({a}); you used tanh²({a})", lambda p: out(p) ** 2),
            (f"for {eq}, {d} = 1 − tanh²({a}) = 1 − {consumer}², not 1 − {a}²",
             lambda p: 1 - p.fwd[a] ** 2),
            one,
        ]
    elif op == "relu":
        v = [((f"{a} = {{}} is negative, so ReLU is off and passes no gradient: ∂{consumer}/∂{a} "
              "= 0, not 1"), lambda p: 1.0)]
    elif op == "max":
        other = node.inputs[1 - i]
        v = [((f"a max gate sends the whole gradient to the larger input only; for {eq}, "
              f"{d} = 1 if {a} > {other}, else 0"), lambda p: 1.0 - p.local[edge])]
    elif op == "hinge":
        s, y = node.inputs
        if i == 0:
            v = [((f"for {eq}, {d} = −{y} while the margin is violated ({y}·{s} < 1) and 0 "
                  "once it is met"), lambda p: 0.0 if p.local[edge] else -p.fwd[y]),
                 (f"for {eq}, {d} = −{y}; the minus sign is missing",
                  lambda p: -p.local[edge])]
    elif op == "bce":
        p_, y = node.inputs
        if i == 0:
            v = [((f"for {eq}, {d} = ({p_} − {y})/({p_}(1 − {p_})); you used {p_} − {y}, which "
                  f"is already the gradient at the logit"), lambda p: p.fwd[p_] - p.fwd[y]),
                 (f"for {eq}, {d} = −{y}/{p_} + (1 − {y})/(1 − {p_}); you kept only −{y}/{p_}",
                  lambda p: -p.fwd[y] / p.fwd[p_])]
    elif op == "abs":
        v = [(f"for {eq}, {d} = sign({a}); the sign was dropped", lambda p: 1.0)]
    elif op == "sub" and i == 1:
        v = [(f"for {eq}, {d} = −1 (subtracting {a} flips its sign), not +1", lambda p: 1.0)]
    out_list = []
    for desc, fn in v:
        if desc.startswith("dropped"):
            text = OPS[op].local_text[i].format(*node.inputs, o=consumer)
            desc = f"you left out the factor {d} = {text} (from {eq})"
        out_list.append((desc, fn))
    return out_list


def point_mistakes(graph: Graph, target: str) -> list[PointMistake]:
    """Typical wrong answers for dL/d(target), most specific first."""
    grad = f"∂L/∂{target}"
    found = [PointMistake(
        "sign", f"Sign error: the size is right but the sign is wrong. Check each subtraction "
        f"and minus sign on the way back to {target}.", lambda p: -p.grad[target])]
    paths = graph.paths(target)
    if len(paths) >= 2:
        idx = range(len(paths))
        subsets = [s for r in range(1, len(paths)) for s in itertools.combinations(idx, r)]
        if len(subsets) > 60:
            subsets = [(i,) for i in idx] + [tuple(j for j in idx if j != i) for i in idx]
        for sub in subsets:
            missing = [paths[i] for i in idx if i not in sub]
            shown = " and ".join(" → ".join(graph.path_names(target, p)) for p in missing[:2])
            plural = "s" if len(missing) > 1 else ""
            msg = (f"Missing fan-out path: your answer leaves out the path{plural} {shown} "
                   f"({target} reaches L by {len(paths)} paths). When a value feeds several "
                   "nodes, the gradients from every path add up.")
            found.append(PointMistake(
                "missing-path", msg,
                lambda p, sub=sub: sum(math.prod(p.local[e] for e in paths[i]) for i in sub)))
    edges: list[Edge] = []
    for path in paths:
        for e in path:
            if e not in edges:
                edges.append(e)
    for first in dict.fromkeys(path[0] for path in paths if path):
        if first[0] == graph.loss:
            continue
        found.append(PointMistake(
            "local-only", f"Only the local gradient: that is ∂{first[0]}/∂{target} alone; "
            f"multiply it by the upstream gradient ∂L/∂{first[0]}.",
            lambda p, e=first: p.local[e]))
    for e in edges:
        for desc, fn in _local_variants(graph, e):
            def at(p, e=e, fn=fn):
                return graph.backward(p.fwd, {e: fn(p)})[target]

            if "{}" in desc:
                desc = desc.replace("{}", "its input")
            found.append(PointMistake(
                "local-gradient", f"Wrong local gradient: {desc}. Everything else on the way "
                "back looks right.", at))
    downstream = {e[0] for e in edges}
    ordered = [n for n in graph.names if n in downstream] + [
        n for n in graph.names if n not in downstream]
    for other in ordered:
        if other in (target, graph.loss):
            continue
        if other in downstream:
            msg = (f"Wrong node: that is ∂L/∂{other}, the gradient at {other}. Keep going back: "
                   f"multiply by the local gradients between {other} and {target}.")
        else:
            msg = f"Wrong node: that is ∂L/∂{other}, not {grad}."
        found.append(PointMistake("wrong-node", msg, lambda p, o=other: p.grad[o]))
    found.append(PointMistake(
        "forward-value", f"Forward value, not a gradient: that is the value of {target} in the "
        f"forward pass; the question asks for {grad}.", lambda p: p.fwd[target]))
    return found


# -- the problem -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class GraphProblem:
    """One scalar-graph problem. `values` holds the leaf values as (name, value) pairs;
    `shown` the text of leaves whose value is not a plain number ("ln 3 − 2"); `given` the
    forward values stated in the problem (transcendental nodes at friendly arguments)."""

    family: str
    seed: int
    difficulty: int
    form: str
    graph: Graph
    values: tuple[tuple[str, float], ...]
    questions: tuple[Question, ...]
    title: str = ""
    shown: tuple[tuple[str, str], ...] = ()
    given: tuple[tuple[str, str], ...] = ()

    @property
    def generator(self) -> str:
        return self.family

    @property
    def value_map(self) -> dict[str, float]:
        return dict(self.values)

    @cached_property
    def forward_values(self) -> dict[str, float]:
        return self.graph.forward(self.value_map)

    @cached_property
    def gradients(self) -> dict[str, float]:
        return self.graph.backward(self.forward_values)

    @property
    def skills(self) -> tuple[str, ...]:
        found = {s for q in self.questions for s in q.skills}
        return tuple(s for s in SKILLS if s in found)

    def question(self, index: int = 0) -> Question:
        if not 0 <= index < len(self.questions):
            raise DrillError(f"question {index} does not exist (this problem has questions "
                             f"0–{len(self.questions) - 1})")
        return self.questions[index]

    def expected_value(self, index: int = 0) -> float:
        return self.gradients[self.question(index).wrt]

    def step_nodes(self, index: int = 0) -> list[str]:
        """The nodes whose gradient the step-by-step form asks for, in backward order."""
        return self.graph.between(self.question(index).wrt)

    # -- text ------------------------------------------------------------------------------------
    def values_text(self) -> str:
        shown = dict(self.shown)
        return ", ".join(f"{k} = {shown.get(k, fmt_exact(v)).replace('-', '−')}"
                         for k, v in self.values)

    def display(self) -> tuple:
        eqs = [f"{n.name} = {n.equation()}" for n in self.graph.nodes]
        ops = {n.op for n in self.graph.nodes}
        notes = []
        if "sigmoid" in ops:
            notes.append("σ(t) = 1/(1 + e^−t)")
        if ops & {"log", "bce"}:
            notes.append("log is the natural log")
        if ops & {"max", "hinge", "relu"} and "hinge" in ops:
            notes.append("labels y are ±1")
        blocks: list[Any] = []
        if self.title:
            blocks.append(Lines("", (self.title,)))
        blocks.append(Lines("", (f"Given {self.values_text()}",)))
        fan = fan_out_lines(self.graph)
        forward = Lines("Forward pass", tuple(eqs + notes))
        blocks.append(Columns((forward, Lines("Fan-out", tuple(fan)))) if fan else forward)
        if self.given:
            blocks.append(Lines("", tuple(f"({text})" for _, text in self.given)))
        return tuple(blocks)

    def ask(self, index: int = 0) -> str:
        q = self.question(index)
        grad = f"∂L/∂{q.wrt}"
        if q.form == "expression":
            nodes = [n.name for n in self.graph.nodes[:-1]]
            named = f"the node name {nodes[0]} is" if len(nodes) == 1 else f"node names {', '.join(nodes)} are"
            extra = f" ({named} allowed too)" if nodes else ""
            return f"Give {grad} as an expression in {', '.join(self.graph.leaves)}{extra}."
        if q.form == "steps":
            order = ", ".join(f"∂L/∂{n}" for n in self.step_nodes(index))
            return (f"Backward pass: give {order} in turn, at these values "
                    f"({SIG_FIGS} significant figures, or fractions).")
        return (f"Compute {grad} at these values ({SIG_FIGS} significant figures, "
                "or a fraction).")

    def prompt(self, index: int = 0) -> str:
        return blocks_text(self.display()) + "\n" + self.ask(index)

    # -- numbers ---------------------------------------------------------------------------------
    def inputs(self) -> dict[str, float]:
        return self.value_map

    def loss_scalar(self) -> str:
        text = {leaf: leaf for leaf in self.graph.leaves}
        for n in self.graph.nodes:
            text[n.name] = OPS[n.op].sym.format(*(f"({text[a]})" if a in self.graph.nodes_by_name
                                                  else text[a] for a in n.inputs))
        return text[self.graph.loss]

    @cached_property
    def _targets(self) -> dict[str, Target]:
        return {}  # wrt -> Target: grading, the solution's title and steps share one

    def _target(self, wrt: str) -> Target:
        if wrt not in self._targets:
            self._targets[wrt] = self._make_target(wrt)
        return self._targets[wrt]

    def _make_target(self, wrt: str) -> Target:
        graph, values = self.graph, self.value_map
        lo, hi = band(lambda r: hand_gradient(graph, values, r)[wrt])
        point = point_at(graph, values)
        mistakes = []
        for m in point_mistakes(graph, wrt):
            try:
                mistakes.append(Mistake(m.kind, m.message, float(m.at(point))))
            except (ArithmeticError, ValueError):
                continue
        # A number answer may be arithmetic on the given values ("2*(w*x + b - y)*x"), not on
        # node names: those would skip the forward pass the number form asks for.
        return Target(wrt, f"∂L/∂{wrt}", self.gradients[wrt], lo, hi, tuple(mistakes),
                      graph.leaves, dict(values))

    def target(self, index: int = 0) -> Target:
        return self._target(self.question(index).wrt)

    def steps(self, index: int = 0) -> tuple[Target, ...]:
        return tuple(self._target(n) for n in self.step_nodes(index))

    def expected_text(self, index: int = 0) -> str:
        q = self.question(index)
        if q.form == "expression":
            return self.expected_expression(index)
        if q.form == "steps":
            return "; ".join(fmt_exact(self.gradients[n]) for n in self.step_nodes(index))
        return fmt_exact(self.expected_value(index))

    # -- SymPy (imported on first use) ------------------------------------------------------------
    def expected_expression(self, index: int = 0) -> str:
        """dL/d(wrt) as a SymPy-parseable expression: in the leaves, or in node names when
        that is much shorter (so it always fits the answer limit)."""
        from quizforge.drill.symbolic import expected_in_leaves, node_gradients, to_str

        wrt = self.question(index).wrt
        leaves = to_str(expected_in_leaves(self.graph, wrt))
        if len(leaves) <= LEAF_EXPRESSION_LIMIT:
            return leaves
        return to_str(node_gradients(self.graph)[wrt])

    def expression_check(self, index: int = 0) -> ExpressionCheck:
        return ExpressionCheck(self, index)

    # -- solution --------------------------------------------------------------------------------
    def solution(self, index: int = 0) -> tuple:
        from quizforge.drill.solution import solve

        sol = solve(self, index)
        fwd = Table("Forward pass", ("node", "definition", "with values", "value"),
                    tuple((r.node, r.equation, r.substituted, fmt_exact(r.value))
                          for r in sol.forward))
        rows: list[tuple[str, ...]] = []
        highlight = []
        for row in sol.backward:
            if not row.parts:
                rows.append((row.node, "", "", "", "", "1"))
                continue
            for k, part in enumerate(row.parts):
                last = k == len(row.parts) - 1
                name = row.node + (" ◆" if row.fan_out else "") if k == 0 else ""
                total = (("Σ " if row.fan_out else "") + fmt_exact(row.total)) if last else ""
                formula = part.local.split(" = ", 1)[1]
                value = fmt_exact(part.local_value)
                local = formula if formula.replace("−", "-") == value else f"{formula} = {value}"
                if last and row.node == sol.wrt:
                    highlight.append(len(rows))
                rows.append((name, part.via, local, fmt_exact(part.upstream),
                             fmt_exact(part.product), total))
        back = Table(f"Backward pass (from L back to {sol.wrt})",
                     ("∂L/∂", "via", "local", "× upstream", "= product", "total"),
                     tuple(rows), tuple(highlight))
        lines = []
        if len(sol.paths) > 1:
            lines.append(f"{sol.wrt} reaches L by {len(sol.paths)} paths (fan-out); their "
                         "contributions add up:")
            for names, v in zip(sol.paths, sol.path_values, strict=True):
                lines.append(f"  {' → '.join(names)}: {fmt_exact(v)}")
        answer = f"∂L/∂{sol.wrt} = {fmt_exact(sol.value)}"
        if "/" in answer.rsplit("=", 1)[1]:
            answer += f" ≈ {fmt_num(sol.value, 3)}"
        lines.append(answer)
        if self.question(index).form == "expression":
            lines.extend(self._expression_lines(index))
        return (fwd, back, Lines("", tuple(lines)))

    def _expression_lines(self, index: int) -> list[str]:
        from quizforge.drill.symbolic import expected_in_leaves, node_gradients, pretty

        wrt = self.question(index).wrt
        by_nodes = pretty(node_gradients(self.graph)[wrt])
        in_leaves = pretty(expected_in_leaves(self.graph, wrt))
        out = [f"As an expression: ∂L/∂{wrt} = {by_nodes}"]
        if in_leaves != by_nodes and len(in_leaves) <= 160:
            out.append(f"  = {in_leaves}")
        return out

    def hints(self, index: int = 0) -> tuple[str, ...]:
        from quizforge.drill.solution import solve

        wrt = self.question(index).wrt
        sol = solve(self, index)
        if len(sol.paths) == 1:
            first = (f"Follow the single path {' → '.join(sol.paths[0])} and multiply the local "
                     "gradients along it.")
        else:
            first = (f"{wrt} reaches L by {len(sol.paths)} paths: "
                     + "; ".join(" → ".join(p) for p in sol.paths)
                     + ". Multiply local gradients along each path, then add the paths.")
        locals_ = [part.local for row in sol.backward[1:] for part in row.parts]
        return first, "The local gradients you need: " + "; ".join(locals_) + "."

    # -- data ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        questions = []
        for i, q in enumerate(self.questions):
            d = q.to_dict()
            d["expected"] = self.expected_text(i)
            d["value"] = to_data(self.expected_value(i))
            if q.form == "steps":
                d["steps"] = [{"wrt": n, "value": self.gradients[n]} for n in self.step_nodes(i)]
            questions.append(d)
        loss = self.loss_scalar()
        return {
            "family": self.family,
            "generator": self.family,
            "seed": self.seed,
            "difficulty": self.difficulty,
            "form": self.form,
            "skills": list(self.skills),
            "title": self.title,
            "prompt": self.prompt(0),
            "leaves": list(self.graph.leaves),
            "nodes": [
                {"name": n.name, "op": n.op, "inputs": list(n.inputs), "expr": n.sym(),
                 "equation": n.equation()}
                for n in self.graph.nodes
            ],
            "loss": loss,
            "loss_scalar": loss,
            "values": {k: to_data(v) for k, v in self.values},
            "inputs": {k: to_data(v) for k, v in self.values},
            "shown": dict(self.shown),
            "given": dict(self.given),
            "questions": questions,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GraphProblem:
        values = tuple((str(k), float(v)) for k, v in d["values"].items())
        leaves = tuple(d.get("leaves") or (k for k, _ in values))
        nodes = tuple(Node(n["name"], n["op"], tuple(n["inputs"])) for n in d["nodes"])
        questions = tuple(
            Question(q["wrt"], q["form"], q.get("prompt", ""), tuple(q.get("skills", ())),
                     tuple(q.get("shape", ())))
            for q in d["questions"])
        return cls(d.get("family", d.get("generator", "backprop")), int(d["seed"]),
                   int(d["difficulty"]), d["form"], Graph(leaves, nodes), values, questions,
                   d.get("title", ""), tuple(d.get("shown", {}).items()),
                   tuple(d.get("given", {}).items()))


class ExpressionCheck:
    """What the engine needs to grade an expression answer for one question."""

    N_POINTS = 5  # near the given values
    N_WIDE = 5  # far from them (a term the graph does not have shows up there)

    def __init__(self, problem: GraphProblem, index: int) -> None:
        self.problem = problem
        self.index = index
        graph = problem.graph
        self.wrt = problem.question(index).wrt
        self.label = f"∂L/∂{self.wrt}"
        self.names = graph.names
        self.leaves = graph.leaves

    def points(self) -> list[Point]:
        """The given values, then random points near them on the same branches, drawn fresh
        from the operating system for every check (never derivable from the seed)."""
        graph = self.problem.graph
        base = self.problem.value_map
        points = [point_at(graph, base)]
        rng = random.SystemRandom()
        for count, spreads in ((self.N_POINTS, (0.2, 0.03)), (self.N_WIDE, (3.0, 1.0))):
            found, tries = 0, 0
            while found < count and tries < 300:
                tries += 1
                spread = spreads[0] if tries < 150 else spreads[1]
                values = {k: v + (abs(v) + 1) * rng.uniform(-spread, spread)
                          for k, v in base.items()}
                try:
                    fwd = graph.forward(values)
                except (ArithmeticError, ValueError):
                    continue
                if same_branches(graph, points[0].fwd, fwd):
                    points.append(point_at(graph, values))
                    found += 1
        return points

    def other_points(self, n: int = 8) -> list[Point]:
        """Random points with some kink on the other side than at the given values (an
        answer must hold there too: ∂ReLU is a step, not 1 or 0), drawn fresh like `points`.
        None when the graph has no kink."""
        graph = self.problem.graph
        if not has_kinks(graph):
            return []
        base = self.problem.value_map
        here = _sides(graph, graph.forward(base))
        rng = random.SystemRandom()
        found: list[Point] = []
        seen: set[tuple[bool, ...]] = set()
        for tries in range(400):
            if len(found) >= n:
                break
            spread = 3.0 if tries < 200 else 1.0
            values = {k: v + (abs(v) + 1) * rng.uniform(-spread, spread) for k, v in base.items()}
            try:
                fwd = graph.forward(values)
            except (ArithmeticError, ValueError):
                continue
            sides = _sides(graph, fwd)
            if sides == here or not well_defined(graph, fwd):
                continue
            if sides in seen and len(seen) < 2 ** len(sides) and tries < 300:
                continue  # cover each combination of sides once before repeating one
            seen.add(sides)
            found.append(point_at(graph, values))
        return found

    def env(self, point: Point) -> dict[str, float]:
        return point.fwd

    def expected_at(self, point: Point) -> float:
        return point.grad[self.wrt]

    def mistakes(self) -> list[tuple[str, str, Callable[[Point], float]]]:
        return [(m.kind, m.message, m.at) for m in point_mistakes(self.problem.graph, self.wrt)]

    def symbolic(self, answer) -> bool | None:
        """True: equal. False: SymPy shows the difference is a non-zero rational function.
        None: unsure (piecewise or transcendental terms; the points decide)."""
        from quizforge.drill.check import SYMBOLIC_BUDGET
        from quizforge.drill.errors import CheckTimeout
        from quizforge.drill.limits import time_limit

        try:
            with time_limit(SYMBOLIC_BUDGET) as enforced:
                if not enforced:
                    return None
                return _symbolic(self.problem.graph, self.wrt, answer)
        except CheckTimeout:
            return None
        except (Exception, RecursionError):  # noqa: BLE001 - the shortcut failing means unsure
            return None


def _symbolic(graph: Graph, wrt: str, answer) -> bool | None:
    import sympy as sp

    from quizforge.drill.parse import to_sympy
    from quizforge.drill.symbolic import expected_in_leaves, leaf_exprs, symbols

    diff = to_sympy(answer.tree, leaf_exprs(graph)) - expected_in_leaves(graph, wrt)
    if diff == 0:
        return True
    expanded = sp.expand(diff)
    if expanded == 0:
        return True
    leaves = [symbols(graph.names)[leaf] for leaf in graph.leaves]
    if expanded.is_rational_function(*leaves):
        return sp.cancel(expanded) == 0
    if sp.cancel(expanded) == 0:
        return True
    return None
