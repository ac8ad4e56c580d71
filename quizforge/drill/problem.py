"""A generated problem: the graph, the leaf values, and the questions asked about it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from quizforge.drill.errors import DrillError
from quizforge.drill.graph import Graph, Node
from quizforge.drill.ops import OPS

FORMS = ("number", "expression", "steps")
SIG_FIGS = 3  # how precisely a number answer must match
# Skills in the order they are listed; a later store schedules each one with FSRS.
SKILLS = ("chain-rule", "fan-out", "product", "quotient", "power", "exp", "log", "sigmoid",
          "tanh", "relu")


def fmt_num(v: float, sig: int = 4) -> str:
    """A number as people write it: 2, 0.5, -0.0454, 1.235e-05 (at most `sig` significant figures)."""
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    if abs(v) >= 1e6 or abs(v) < 1e-4:
        return f"{v:.{sig - 1}e}"
    decimals = max(0, sig - 1 - math.floor(math.log10(abs(v))))
    s = f"{v:.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


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


@dataclass(frozen=True)
class Question:
    wrt: str  # the leaf or node whose gradient dL/d(wrt) is asked
    form: str  # "number" | "expression" | "steps"
    skills: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"wrt": self.wrt, "form": self.form, "skills": list(self.skills)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Question:
        return cls(str(d["wrt"]), str(d["form"]), tuple(d.get("skills", ())))


@dataclass(frozen=True)
class Problem:
    """One generated problem. Pure data: build it with `quizforge.drill.generate`.

    `values` holds the leaf values as (name, value) pairs, in leaf order.
    """

    generator: str
    seed: int
    difficulty: int
    form: str
    graph: Graph
    values: tuple[tuple[str, float], ...]
    questions: tuple[Question, ...]

    # -- numbers (plain floats; no SymPy) ---------------------------------------------------
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
        """Every skill the graph exercises (each question also lists its own)."""
        found: set[str] = set()
        for q in self.questions:
            found.update(q.skills)
        return tuple(s for s in SKILLS if s in found)

    def question(self, index: int = 0) -> Question:
        if not 0 <= index < len(self.questions):
            raise DrillError(
                f"question {index} does not exist (this problem has questions 0–{len(self.questions) - 1})"
            )
        return self.questions[index]

    def expected_value(self, index: int = 0) -> float:
        return self.gradients[self.question(index).wrt]

    def steps(self, index: int = 0) -> list[str]:
        """The nodes whose gradient the step-by-step form asks for, in backward order."""
        return self.graph.between(self.question(index).wrt)

    # -- SymPy (imported on first use) ------------------------------------------------------
    def expected_expression(self, index: int = 0) -> str:
        """dL/d(wrt) as a SymPy-parseable expression in the leaf variables."""
        from quizforge.drill.symbolic import expected_in_leaves, to_str

        return to_str(expected_in_leaves(self.graph, self.question(index).wrt))

    def loss_expression(self) -> str:
        from quizforge.drill.symbolic import leaf_exprs, to_str

        return to_str(leaf_exprs(self.graph)[self.graph.loss])

    # -- text ------------------------------------------------------------------------------
    def values_text(self) -> str:
        return ", ".join(f"{k} = {fmt_num(v)}" for k, v in self.values)

    def ask(self, index: int = 0) -> str:
        """The question itself, one sentence."""
        q = self.question(index)
        grad = f"∂L/∂{q.wrt}"
        if q.form == "expression":
            nodes = [n.name for n in self.graph.nodes[:-1]]
            names = ", ".join(self.graph.leaves)
            extra = f" (node names {nodes[0]}…{nodes[-1]} are allowed too)" if nodes else ""
            return f"Give {grad} as an expression in {names}{extra}."
        if q.form == "steps":
            order = ", ".join(f"∂L/∂{n}" for n in self.steps(index))
            return (f"Backward pass: give {order} in turn, at these values "
                    f"({SIG_FIGS} significant figures).")
        return f"Compute {grad} at these values ({SIG_FIGS} significant figures)."

    def prompt(self, index: int = 0) -> str:
        lines = [f"Forward pass, with {self.values_text()}:"]
        lines += [f"  {n.name} = {n.equation()}" for n in self.graph.nodes]
        ops = {n.op for n in self.graph.nodes}
        notes = []
        if "log" in ops:
            notes.append("log is the natural logarithm")
        if "sigmoid" in ops:
            notes.append("σ(t) = 1/(1 + e^−t)")
        if notes:
            lines.append("(" + "; ".join(notes) + ")")
        lines.append(self.ask(index))
        return "\n".join(lines)

    # -- data ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; `loss` and each `expected` are SymPy-parseable, in leaf variables only."""
        questions = []
        for i, q in enumerate(self.questions):
            d = q.to_dict()
            d["prompt"] = self.ask(i)
            d["expected"] = self.expected_expression(i)
            d["value"] = self.expected_value(i)
            if q.form == "steps":
                d["steps"] = [{"wrt": n, "value": self.gradients[n]} for n in self.steps(i)]
            questions.append(d)
        return {
            "generator": self.generator,
            "seed": self.seed,
            "difficulty": self.difficulty,
            "form": self.form,
            "skills": list(self.skills),
            "prompt": self.prompt(0),
            "leaves": list(self.graph.leaves),
            "nodes": [
                {"name": n.name, "op": n.op, "inputs": list(n.inputs), "expr": n.sym(),
                 "equation": n.equation()}
                for n in self.graph.nodes
            ],
            "loss": self.loss_expression(),
            "values": {k: int(v) if float(v).is_integer() else v for k, v in self.values},
            "questions": questions,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        values = tuple((str(k), float(v)) for k, v in d["values"].items())
        leaves = tuple(d.get("leaves") or (k for k, _ in values))
        nodes = tuple(Node(n["name"], n["op"], tuple(n["inputs"])) for n in d["nodes"])
        return cls(
            generator=d["generator"],
            seed=int(d["seed"]),
            difficulty=int(d["difficulty"]),
            form=d["form"],
            graph=Graph(leaves, nodes),
            values=values,
            questions=tuple(Question.from_dict(q) for q in d["questions"]),
        )
