"""The `backprop` family: scalar graphs built from the blocks of real networks.

Each problem is one of a small set of templates an interviewer draws on a whiteboard — the
classic circuits, a neuron with a real loss, a weight shared by two samples, a two-unit
network, a residual connection, a tied weight — with fresh values from the seed:

- difficulty 1: (x ± y)·z, a max gate, one neuron with a squared error, a ReLU neuron that
  is sometimes off (so its gradient is zero on purpose);
- difficulty 2: a sigmoid neuron with cross-entropy, a tanh neuron with two inputs, one weight
  shared by two samples, a hinge loss, a ReLU with an L1 loss;
- difficulty 3: two hidden units (one sometimes dead), a residual connection, a tied weight,
  a two-layer net with a sigmoid output and cross-entropy.

A whiteboard, not a calculator: leaves are small integers (halves from difficulty 2) and
every σ or tanh sits at a friendly argument (0, ±ln 2, ±ln 3, ±ln 4: σ(ln 3) = 3/4,
tanh(ln 2) = 3/5), stated in the problem. The questions of a problem have different
answers; every question's exact value is a fraction with a small denominator.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from quizforge.drill.family import Family
from quizforge.drill.graph import Graph, Node
from quizforge.drill.model import Question, fmt_exact

LN2, LN3, LN4 = math.log(2), math.log(3), math.log(4)
# (argument, its text, the value) — what a person knows by heart or can work out in a line.
FRIENDLY = {
    "sigmoid": ((0.0, "0", 0.5), (LN3, "ln 3", 0.75), (-LN3, "−ln 3", 0.25),
                (LN4, "ln 4", 0.8), (-LN4, "−ln 4", 0.2), (LN2, "ln 2", 2 / 3),
                (-LN2, "−ln 2", 1 / 3)),
    "tanh": ((LN2, "ln 2", 0.6), (-LN2, "−ln 2", -0.6), (LN3, "ln 3", 0.8),
             (-LN3, "−ln 3", -0.8), (0.0, "0", 0.0)),
}
FUNCTION_TEXT = {"sigmoid": "σ", "tanh": "tanh"}
MAX_PATHS = 8


@dataclass(frozen=True)
class Template:
    name: str
    difficulty: int
    title: str
    leaves: tuple[str, ...]
    nodes: tuple[tuple[str, str, tuple[str, ...]], ...]  # (name, op, inputs); the last is L
    pick: Callable[[random.Random], dict[str, float]]  # leaf values (a friendly bias is set later)
    asks: tuple[str, ...]  # the questions to ask, in order (repeats of a value are skipped)
    friendly: tuple[str, str] | None = None  # (σ/tanh node, the bias leaf that makes it friendly)
    dead: tuple[str, ...] = ()  # asks used instead when a ReLU is off on purpose

    def graph(self) -> Graph:
        return Graph(self.leaves, tuple(Node(n, op, ins) for n, op, ins in self.nodes))


def _int(rng: random.Random, lo: int, hi: int, zero: bool = False) -> float:
    return float(rng.choice([k for k in range(lo, hi + 1) if zero or k]))


def _half(rng: random.Random, lo: int, hi: int, zero: bool = False) -> float:
    """An integer, or (one time in three) a half-integer, in [lo, hi]."""
    if rng.random() < 1 / 3:
        return rng.choice([k + 0.5 for k in range(lo, hi)])
    return _int(rng, lo, hi, zero)


def _loss(rng: random.Random, d: str) -> tuple[str, str, tuple[str, ...]]:
    return ("L", rng.choice(("square", "halfsq")), (d,))


def _templates(rng: random.Random) -> list[Template]:
    """All templates, with the random choices of their shape (sub or add, ½ or not) made."""
    sq = rng.choice(("square", "halfsq"))
    gate = rng.choice(("add", "sub"))
    return [
        # -- difficulty 1 ------------------------------------------------------------------
        Template("add-mul", 1, f"A circuit: {'an add' if gate == 'add' else 'a subtract'} "
                 "gate, then a multiply gate.",
                 ("x", "y", "z"), (("q", gate, ("x", "y")), ("L", "mul", ("q", "z"))),
                 lambda r: {"x": _int(r, -4, 4), "y": _int(r, -4, 4), "z": _int(r, -4, 4)},
                 ("x", "z", "y")),
        Template("max-gate", 1, "A circuit with a multiply gate and a max gate.",
                 ("x", "y", "z", "w", "c"),
                 (("p", "mul", ("x", "y")), ("m", "max", ("z", "w")), ("s", "add", ("p", "m")),
                  ("L", "mul", ("c", "s"))),
                 lambda r: {"x": _int(r, -3, 3), "y": _int(r, -3, 3), "z": _int(r, -3, 3, True),
                            "w": _int(r, -3, 3, True), "c": r.choice((2.0, 3.0, -2.0))},
                 rng.choice((("x", "z", "c"), ("y", "w", "c"), ("x", "w", "s")))),
        Template("neuron-mse", 1, "One linear neuron, o = w·x + b, with a squared error.",
                 ("x", "w", "b", "y"),
                 (("z", "mul", ("w", "x")), ("o", "add", ("z", "b")), ("d", "sub", ("o", "y")),
                  ("L", sq, ("d",))),
                 lambda r: {"x": _int(r, -3, 3), "w": _int(r, -3, 3), "b": _int(r, -2, 2, True),
                            "y": _int(r, -3, 3, True)},
                 ("w", "b", "x")),
        Template("relu-neuron", 1, "A ReLU neuron with a squared error (is the ReLU on?).",
                 ("x", "w", "b", "y"),
                 (("z", "mul", ("w", "x")), ("a", "add", ("z", "b")), ("h", "relu", ("a",)),
                  ("d", "sub", ("h", "y")), ("L", sq, ("d",))),
                 lambda r: {"x": _int(r, -3, 3), "w": _int(r, -3, 3), "b": _int(r, -2, 2, True),
                            "y": _int(r, -3, 3)},
                 ("w", "x", "b"), dead=("w", "h")),
        # -- difficulty 2 ------------------------------------------------------------------
        Template("sigmoid-bce", 2, "Logistic regression on one input: a sigmoid neuron with "
                 "binary cross-entropy.",
                 ("x", "w", "b", "y"),
                 (("u", "mul", ("w", "x")), ("z", "add", ("u", "b")), ("p", "sigmoid", ("z",)),
                  ("L", "bce", ("p", "y"))),
                 lambda r: {"x": _half(r, -3, 3), "w": _half(r, -2, 2), "b": 0.0,
                            "y": float(r.randint(0, 1))},
                 ("w", "p", "z"), friendly=("p", "b")),
        Template("tanh-neuron", 2, "A tanh neuron with two inputs and a squared error.",
                 ("x1", "x2", "w1", "w2", "b", "y"),
                 (("u1", "mul", ("w1", "x1")), ("u2", "mul", ("w2", "x2")),
                  ("s", "add", ("u1", "u2")), ("z", "add", ("s", "b")), ("a", "tanh", ("z",)),
                  ("d", "sub", ("a", "y")), ("L", sq, ("d",))),
                 lambda r: {"x1": _half(r, -2, 2), "x2": _half(r, -2, 2), "w1": _half(r, -2, 2),
                            "w2": _half(r, -2, 2), "b": 0.0, "y": _int(r, -1, 1, True)},
                 ("w1", "x2", "z"), friendly=("a", "b")),
        Template("shared-weight", 2, "One neuron, o = w·x + b, on a batch of two samples: the "
                 "weight and bias are shared.",
                 ("x1", "x2", "w", "b", "y1", "y2"),
                 (("u1", "mul", ("w", "x1")), ("o1", "add", ("u1", "b")),
                  ("d1", "sub", ("o1", "y1")), ("s1", "halfsq", ("d1",)),
                  ("u2", "mul", ("w", "x2")), ("o2", "add", ("u2", "b")),
                  ("d2", "sub", ("o2", "y2")), ("s2", "halfsq", ("d2",)),
                  ("L", "add", ("s1", "s2"))),
                 lambda r: {"x1": _half(r, -3, 3), "x2": _half(r, -3, 3), "w": _half(r, -2, 2),
                            "b": _int(r, -2, 2, True), "y1": _int(r, -3, 3, True),
                            "y2": _int(r, -3, 3, True)},
                 ("w", "b", "o1")),
        Template("hinge", 2, "A linear classifier, s = w1·x1 + w2·x2 + b, with the hinge loss "
                 "(labels ±1).",
                 ("x1", "x2", "w1", "w2", "b", "y"),
                 (("u1", "mul", ("w1", "x1")), ("u2", "mul", ("w2", "x2")),
                  ("t", "add", ("u1", "u2")), ("s", "add", ("t", "b")),
                  ("L", "hinge", ("s", "y"))),
                 lambda r: {"x1": _half(r, -3, 3), "x2": _half(r, -3, 3), "w1": _half(r, -2, 2),
                            "w2": _half(r, -2, 2), "b": _half(r, -1, 1, True),
                            "y": r.choice((1.0, -1.0))},
                 ("w1", "x2", "s")),
        Template("relu-l1", 2, "A ReLU neuron with an L1 (absolute) error.",
                 ("x", "w", "b", "y"),
                 (("z", "mul", ("w", "x")), ("a", "add", ("z", "b")), ("h", "relu", ("a",)),
                  ("d", "sub", ("h", "y")), ("L", "abs", ("d",))),
                 lambda r: {"x": _half(r, -3, 3), "w": _half(r, -3, 3), "b": _half(r, -2, 2),
                            "y": _half(r, -3, 3, True)},
                 ("w", "x", "h"), dead=("w", "h")),
        # -- difficulty 3 ------------------------------------------------------------------
        Template("two-units", 3, "A network with two ReLU hidden units and one output, "
                 "o = v1·h1 + v2·h2, with ½ squared error.",
                 ("x", "w1", "b1", "w2", "b2", "v1", "v2", "y"),
                 (("z1", "mul", ("w1", "x")), ("a1", "add", ("z1", "b1")), ("h1", "relu", ("a1",)),
                  ("z2", "mul", ("w2", "x")), ("a2", "add", ("z2", "b2")), ("h2", "relu", ("a2",)),
                  ("o1", "mul", ("v1", "h1")), ("o2", "mul", ("v2", "h2")),
                  ("o", "add", ("o1", "o2")), ("d", "sub", ("o", "y")), ("L", "halfsq", ("d",))),
                 lambda r: {"x": _half(r, -2, 2), "w1": _half(r, -2, 2), "b1": _int(r, -2, 2, True),
                            "w2": _half(r, -2, 2), "b2": _int(r, -2, 2, True),
                            "v1": _int(r, -2, 2), "v2": _int(r, -2, 2), "y": _int(r, -3, 3)},
                 ("x", "w1", "h2")),
        Template("residual", 3, "A residual block: h = ReLU(w·x + b), r = x + h, o = u·r, with a "
                 "squared error.",
                 ("x", "w", "b", "u", "y"),
                 (("z", "mul", ("w", "x")), ("a", "add", ("z", "b")), ("h", "relu", ("a",)),
                  ("r", "add", ("x", "h")), ("o", "mul", ("u", "r")), ("d", "sub", ("o", "y")),
                  _loss(rng, "d")),
                 lambda r: {"x": _half(r, -2, 2), "w": _half(r, -2, 2), "b": _int(r, -2, 2, True),
                            "u": _half(r, -2, 2), "y": _int(r, -3, 3)},
                 ("x", "w", "r")),
        Template("tied-weight", 3, "A tied weight: the same w is used in both layers, "
                 "h = ReLU(w·x + b), o = w·h.",
                 ("x", "w", "b", "y"),
                 (("z", "mul", ("w", "x")), ("a", "add", ("z", "b")), ("h", "relu", ("a",)),
                  ("o", "mul", ("w", "h")), ("d", "sub", ("o", "y")), _loss(rng, "d")),
                 lambda r: {"x": _half(r, -2, 2), "w": _half(r, -2, 2), "b": _int(r, -2, 2, True),
                            "y": _int(r, -3, 3)},
                 ("w", "b", "h")),
        Template("two-layer-bce", 3, "Two layers: a ReLU hidden unit, then a sigmoid output with "
                 "binary cross-entropy.",
                 ("x", "w1", "b1", "w2", "b2", "y"),
                 (("z1", "mul", ("w1", "x")), ("a", "add", ("z1", "b1")), ("h", "relu", ("a",)),
                  ("u", "mul", ("w2", "h")), ("z", "add", ("u", "b2")), ("p", "sigmoid", ("z",)),
                  ("L", "bce", ("p", "y"))),
                 lambda r: {"x": _half(r, -2, 2), "w1": _half(r, -2, 2), "b1": _int(r, -2, 2, True),
                            "w2": _half(r, -2, 2), "b2": 0.0, "y": float(r.randint(0, 1))},
                 ("w1", "h", "z"), friendly=("p", "b2")),
    ]


# -- fairness -----------------------------------------------------------------------------------
def _small_fraction(v: float) -> bool:
    """A fraction with a small denominator (-4/3), or a short terminating decimal (-0.384,
    from tanh(ln 2) = 3/5): what a person gets on paper without a calculator."""
    f = Fraction(v).limit_denominator(1000)
    if abs(float(f) - v) >= 1e-9 * max(1.0, abs(v)):
        return False
    if f.denominator <= 64:
        return True
    return 10_000 % f.denominator == 0  # at most 4 decimal places


def _kinks_clear(graph: Graph, fwd: dict[str, float]) -> bool:
    """No value sits on or next to a kink (ReLU at 0, a tie in max, the hinge's margin)."""
    for n in graph.nodes:
        ins = [fwd[a] for a in n.inputs]
        if n.op in ("relu", "abs") and abs(ins[0]) < 0.5:
            return False
        if n.op == "max" and abs(ins[0] - ins[1]) < 1:
            return False
        if n.op == "hinge" and abs(1 - ins[0] * ins[1]) < 0.5:
            return False
    return True


def _paths_distinguishable(graph: Graph, target: str, fwd: dict[str, float]) -> bool:
    """Leaving out any live fan-out path visibly changes the answer (a path through a ReLU
    that is off contributes 0 on purpose and is allowed)."""
    paths = graph.paths(target)
    if len(paths) > MAX_PATHS:
        return False
    lg = graph.local_grads(fwd)
    contrib = [math.prod(lg[e] for e in p) for p in paths]
    live = [c for c in contrib if c != 0]
    if len(live) < 2:
        return True
    total = sum(live)
    for r in range(1, len(live)):
        for subset in itertools.combinations(live, r):
            if abs(sum(subset) - total) < max(0.1 * abs(total), 0.05):
                return False
    return True


def _friendly(template: Template, graph: Graph, values: dict[str, float], rng: random.Random):
    """Set the bias so the σ/tanh node sits at a friendly argument; (shown, given) texts."""
    node_name, bias = template.friendly
    node = graph.node(node_name)
    values[bias] = 0.0
    pre = graph.forward(values)[node.inputs[0]]  # the argument without the bias
    if Fraction(pre).limit_denominator(64).denominator > 4:
        return None  # "b = ln 3 − 2.125" is no whiteboard number
    arg, arg_text, out = rng.choice(FRIENDLY[node.op])
    values[bias] = arg - pre
    if pre == 0:
        bias_text = arg_text
    elif arg_text == "0":
        bias_text = fmt_exact(-pre)
    else:
        bias_text = f"{arg_text} {'−' if pre > 0 else '+'} {fmt_exact(abs(pre))}"
    fn = FUNCTION_TEXT[node.op]
    given = (f"so {node.inputs[0]} = {arg_text} and {node_name} = {fn}({arg_text}) = "
             f"{fmt_exact(out)}")
    return ((bias, bias_text),), ((node_name, given),)


def _deliberate_zero(graph: Graph, fwd: dict[str, float], target: str) -> bool:
    """Every path from `target` to L goes through a ReLU that is off: a zero worth asking."""
    off = {n.name for n in graph.nodes if n.op == "relu" and fwd[n.inputs[0]] < 0}
    return bool(off) and all(any(e[0] in off for e in p) for p in graph.paths(target))


def _outer_first(graph: Graph, chosen: list[str]) -> list[str]:
    """The questions reordered so that a node on another question's way to L is asked first:
    a worked solution's backward table then never shows a later question's answer."""
    order = list(chosen)
    for _ in range(len(order) ** 2):
        moved = False
        for i, t in enumerate(order):
            on_way = graph.between(t)[:-1]
            j = next((j for j in range(i + 1, len(order)) if order[j] in on_way), None)
            if j is not None:
                order.insert(i, order.pop(j))
                moved = True
                break
        if not moved:
            break
    return order


def _try(template: Template, rng: random.Random, form: str):
    from quizforge.drill.problem import GraphProblem, skills_for

    graph = template.graph()
    values = template.pick(rng)
    shown: tuple = ()
    given: tuple = ()
    if template.friendly:
        texts = _friendly(template, graph, values, rng)
        if texts is None:
            return None
        shown, given = texts
    try:
        fwd = graph.forward(values)
    except (ArithmeticError, ValueError):
        return None
    if not _kinks_clear(graph, fwd) or any(abs(v) > 40 for v in fwd.values()):
        return None
    grad = graph.backward(fwd)
    dead = any(graph.node(n).op == "relu" and fwd[graph.node(n).inputs[0]] < 0
               for n in graph.nodes_by_name)
    asks = template.dead if (dead and template.dead) else template.asks
    chosen: list[str] = []
    for t in asks:
        v = grad[t]
        if abs(v) > 60 or not _small_fraction(v):
            return None
        if all(abs(v - grad[c]) > 1e-9 for c in chosen):
            chosen.append(t)
    if any(grad[t] == 0 and not _deliberate_zero(graph, fwd, t) for t in chosen[:3]):
        return None  # an accidental 0 (x = y in (x − y)·z …) is a free guess
    chosen = _outer_first(graph, chosen)
    if form == "steps":  # a question whose backward pass is the start of another's: dropped
        between = {t: graph.between(t) for t in chosen}
        chosen = [t for t in chosen if not any(
            o != t and between[o][:len(between[t])] == between[t] for o in chosen)]
    if len(chosen) < (1 if form == "steps" else 2) or (grad[chosen[0]] == 0
                                                         and not template.dead):
        return None
    if template.name == "shared-weight" and (values["x1"] == values["x2"]
                                             or values["y1"] == values["y2"]):
        return None  # two identical samples, or two identical targets, teach nothing new
    if not all(_paths_distinguishable(graph, t, fwd) for t in graph.names[:-1]):
        return None
    questions = tuple(Question(t, form, "", skills_for(graph, t)) for t in chosen[:3])
    problem = GraphProblem("backprop", 0, template.difficulty, form, graph,
                           tuple((leaf, values[leaf]) for leaf in graph.leaves), questions,
                           template.title, shown, given)
    return problem


def generate(seed: int, difficulty: int, form: str = "number"):
    """A fresh backprop problem; the same (seed, difficulty, form) always gives the same one."""
    from quizforge.drill.families import _grow

    grown = _grow.draw('backprop', seed, difficulty, form)  # a new kind (issue 18), or None
    if grown is not None:
        return grown
    from dataclasses import replace

    rng = random.Random(seed * 7919 + difficulty)
    # The template first, then values for it: every template comes up equally often.
    name = rng.choice([t.name for t in _templates(rng) if t.difficulty == difficulty])
    for _ in range(5000):
        template = next(t for t in _templates(rng) if t.name == name)
        problem = _try(template, rng, form)
        if problem is None:
            continue
        problem = replace(problem, seed=seed)
        qs = tuple(replace(q, ask=problem.ask(i)) for i, q in enumerate(problem.questions))
        return replace(problem, questions=qs)
    raise AssertionError(f"no backprop problem for seed {seed}")  # never seen: tested


FAMILY = Family(
    name="backprop",
    summary="Gradients by hand through neurons, losses and small networks (scalars).",
    levels={1: "circuits: (x ± y)·z, a max gate, one neuron with a squared error, a ReLU",
            2: "a sigmoid neuron with cross-entropy, tanh, a shared weight, hinge, L1",
            3: "two hidden units, a residual connection, a tied weight, two layers + BCE"},
    generate=generate,
    forms=("number", "expression", "steps"),
    order=10,
    example="2*(w*x+b-y)*x",
)
