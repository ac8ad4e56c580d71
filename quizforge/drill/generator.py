"""The backprop generator: a random small computational graph and values, from a seed.

`build(seed, difficulty, form)` is pure: the same seed gives the same problem on every machine,
because all randomness comes from one `random.Random(seed)` and every choice is made over
ordered sequences (never sets or dicts keyed by hash).

A candidate graph is thrown away unless its values make a fair whiteboard problem: no ReLU at or
below its kink, no log of a small or negative number, no exploding exp, no saturated σ/tanh, no
tiny or zero gradients, no local gradient of ±1 where dropping it would go unnoticed, and, for
every question, no fan-out path whose omission leaves the answer (nearly) unchanged.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

from quizforge.drill.graph import Graph, Node
from quizforge.drill.ops import OPS, UNIT_LOCAL
from quizforge.drill.problem import FORMS, Problem, Question, skills_for

LEAF_POOL = ("x", "w", "b", "y", "a", "c", "u", "v")  # single letters: "wx" reads as w·x
MAX_PATHS = 8  # more paths than this is not a whiteboard problem
QUESTIONS = 3  # 0: the main one (fan-out from difficulty 2), 1: another leaf, 2: an inner node
_HALVES = tuple(k / 2 for k in range(-6, 7) if k)  # ±0.5 … ±3
_TENTHS = tuple(k / 10 for k in range(-30, 31) if k)  # ±0.1 … ±3.0


@dataclass(frozen=True)
class Level:
    leaves: tuple[int, int]  # how many leaf variables (inclusive range)
    ops: tuple[int, int]  # operations before the unused values are merged and the loss added
    weights: tuple[tuple[str, float], ...]  # which operations appear, and how often
    max_transcendental: int  # exp/log/σ/tanh per graph
    min_fan_out: int  # leaves or nodes read by two or more nodes
    p_fan_out: float  # chance a binary op reads something already used
    p_halves: float  # chance a leaf value is a multiple of 0.5 (else one decimal)
    nodes: tuple[int, int]  # total nodes including L (inclusive range)
    p_square_loss: float  # chance the loss squares the last node (a squared error)


LEVELS: dict[int, Level] = {
    1: Level((3, 4), (2, 3), (("mul", 3.0), ("add", 2.0), ("sub", 2.0), ("square", 1.5),
                              ("relu", 0.7)), 0, 0, 0.12, 1.0, (3, 5), 0.85),
    2: Level((3, 4), (3, 5), (("mul", 3.0), ("add", 2.0), ("sub", 1.5), ("div", 1.0),
                              ("square", 1.2), ("cube", 0.4), ("exp", 0.6), ("log", 0.6),
                              ("sigmoid", 1.0), ("relu", 0.8)), 1, 1, 0.4, 0.7, (4, 7), 0.6),
    3: Level((3, 5), (5, 7), (("mul", 3.0), ("add", 2.0), ("sub", 1.5), ("div", 1.0),
                              ("square", 1.0), ("cube", 0.4), ("exp", 0.7), ("log", 0.7),
                              ("sigmoid", 1.0), ("tanh", 1.0), ("relu", 0.8)), 3, 2, 0.45, 0.3,
                              (6, 10), 0.5),
}


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    total = sum(w for _, w in weighted)
    r = rng.random() * total
    for name, w in weighted:
        r -= w
        if r < 0:
            return name
    return weighted[-1][0]


def _structure(rng: random.Random, level: Level) -> Graph:
    n_leaves = rng.randint(*level.leaves)
    chosen = rng.sample(LEAF_POOL, n_leaves)
    leaves = tuple(sorted(chosen, key=LEAF_POOL.index))
    items: list[str] = list(leaves)
    uses = {name: 0 for name in items}
    nodes: list[Node] = []
    transcendental = 0

    def add(op: str, inputs: tuple[str, ...]) -> str:
        name = f"z{len(nodes) + 1}"
        nodes.append(Node(name, op, inputs))
        for a in inputs:
            uses[a] += 1
        items.append(name)
        uses[name] = 0
        return name

    for _ in range(rng.randint(*level.ops)):
        weighted = [
            (op, w)
            for op, w in level.weights
            if not (OPS[op].transcendental and transcendental >= level.max_transcendental)
        ]
        op = _pick(rng, weighted)
        transcendental += OPS[op].transcendental
        unused_nodes = [n for n in items if n.startswith("z") and uses[n] == 0]
        unused = [n for n in items if uses[n] == 0]
        # The first input is usually the newest unused node, so the graph grows deep, not wide.
        if unused_nodes and rng.random() < 0.8:
            first = unused_nodes[-1] if rng.random() < 0.75 else rng.choice(unused_nodes)
        elif unused:
            first = rng.choice(unused)
        else:
            first = rng.choice(items)
        if OPS[op].arity == 1:
            add(op, (first,))
            continue
        others = [n for n in items if n != first]
        used = [n for n in others if uses[n] > 0]
        fresh = [n for n in others if uses[n] == 0]
        if used and (rng.random() < level.p_fan_out or not fresh):
            second = rng.choice(used)
        else:
            fresh_leaves = [n for n in fresh if n in leaves]
            second = rng.choice(fresh_leaves if fresh_leaves and rng.random() < 0.7 else fresh)
        pair = (first, second) if rng.random() < 0.5 else (second, first)
        add(op, pair)

    # Everything must reach the loss, or its gradient would be zero: merge what is left.
    unused = [n for n in items if uses[n] == 0]
    while len(unused) > 1:
        a = unused.pop()
        b = unused.pop(rng.randrange(len(unused)))
        op = _pick(rng, [("add", 2.0), ("mul", 2.0), ("sub", 1.0)])
        unused.append(add(op, (b, a) if rng.random() < 0.5 else (a, b)))
    if nodes[-1].op not in ("square", "cube") and rng.random() < level.p_square_loss:
        add("square", (nodes[-1].name,))
    last = nodes[-1]
    nodes[-1] = Node("L", last.op, last.inputs)
    return Graph(leaves, tuple(nodes))


def _leaf_values(rng: random.Random, graph: Graph, level: Level) -> tuple[tuple[str, float], ...]:
    return tuple(
        (leaf, rng.choice(_HALVES) if rng.random() < level.p_halves else rng.choice(_TENTHS))
        for leaf in graph.leaves
    )


def fair_values(graph: Graph, values: dict[str, float]) -> bool:
    """True if the values make every gradient of this graph a fair, checkable question."""
    try:
        fwd = graph.forward(values)
    except (ArithmeticError, ValueError):
        return False
    for n in graph.nodes:
        ins = [fwd[a] for a in n.inputs]
        out = fwd[n.name]
        if not math.isfinite(out) or not 0.05 <= abs(out) <= 50:
            return False
        if n.op == "div" and abs(ins[1]) < 0.5:
            return False
        if n.op == "log" and ins[0] < 0.2:
            return False
        if n.op == "exp" and ins[0] > 3:
            return False
        if n.op in ("sigmoid", "tanh") and abs(ins[0]) > 2.5:
            return False
        if n.op == "relu" and ins[0] < 0.2:  # active, away from the kink
            return False
    for (node, _), g in graph.local_grads(fwd).items():
        if not 0.05 <= abs(g) <= 30:
            return False
        if graph.node(node).op not in UNIT_LOCAL and abs(abs(g) - 1) < 0.05:
            return False
    grad = graph.backward(fwd)
    return all(0.01 <= abs(g) <= 200 for g in grad.values())


def paths_distinguishable(graph: Graph, target: str, fwd: dict[str, float]) -> bool:
    """Every path counts: leaving out any strict subset of paths changes the answer visibly."""
    paths = graph.paths(target)
    if len(paths) > MAX_PATHS:
        return False
    if len(paths) < 2:
        return True
    lg = graph.local_grads(fwd)
    contrib = [math.prod(lg[e] for e in p) for p in paths]
    total = sum(contrib)
    if any(abs(c) < 0.01 for c in contrib):
        return False
    for r in range(1, len(paths)):
        for subset in itertools.combinations(contrib, r):
            if abs(sum(subset) - total) < max(0.05 * abs(total), 0.005):
                return False
    return True


def _questions(
    rng: random.Random, graph: Graph, difficulty: int, form: str, grad: dict[str, float]
) -> tuple[Question, ...]:
    # A gradient of ±1 (only sums on the way to L) would hide a dropped factor: not asked.
    inner = [n.name for n in graph.nodes[:-1] if abs(abs(grad[n.name]) - 1) > 0.05]
    leaves = [t for t in graph.leaves if abs(abs(grad[t]) - 1) > 0.05]
    targets = leaves + inner
    if not targets:
        return ()
    multi = [t for t in targets if len(graph.paths(t)) >= 2]
    pool = multi if difficulty >= 2 and multi else targets
    # At least two local gradients to multiply, so the chain rule is exercised.
    pool = [t for t in pool if max(map(len, graph.paths(t))) >= 2] or pool
    leaf_pool = [t for t in pool if t in leaves]
    first = rng.choice(leaf_pool if leaf_pool and rng.random() < 0.75 else pool)
    chosen = [first]
    other_leaves = [t for t in leaves if t != first]
    if other_leaves:
        chosen.append(rng.choice(other_leaves))
    other_inner = [t for t in inner if t not in chosen]
    # A node whose gradient repeats an earlier answer (z = u + v passes it through) asks nothing new.
    fresh = [t for t in other_inner if all(abs(grad[t] - grad[c]) > 1e-9 for c in chosen)]
    other_inner = fresh or other_inner
    if other_inner:
        chosen.append(rng.choice(other_inner))
    if len(chosen) < QUESTIONS:
        return ()
    return tuple(Question(t, form, skills_for(graph, t)) for t in chosen)


def _fallback(seed: int, difficulty: int, form: str) -> Problem:
    """The textbook example, if no random graph passed (never seen in testing; kept for safety)."""
    graph = Graph(
        ("x", "w", "b", "y"),
        (Node("z1", "mul", ("w", "x")), Node("z2", "add", ("z1", "b")),
         Node("z3", "sub", ("z2", "y")), Node("L", "square", ("z3",))),
    )
    qs = tuple(Question(t, form, skills_for(graph, t)) for t in ("w", "b", "z2"))
    return Problem("backprop", seed, difficulty, form, graph,
                   (("x", 2.0), ("w", 0.5), ("b", 0.1), ("y", 1.0)), qs)


def build(seed: int, difficulty: int, form: str = "number") -> Problem:
    """A fresh backprop problem; the same (seed, difficulty, form) always gives the same one."""
    level = LEVELS[difficulty]
    assert form in FORMS
    rng = random.Random(seed)
    for _ in range(400):
        graph = _structure(rng, level)
        if len(graph.fan_out()) < level.min_fan_out or not (
            level.nodes[0] <= len(graph.nodes) <= level.nodes[1]
        ):
            continue
        for _ in range(25):
            values = _leaf_values(rng, graph, level)
            vmap = dict(values)
            if not fair_values(graph, vmap):
                continue
            fwd = graph.forward(vmap)
            questions = _questions(rng, graph, difficulty, form, graph.backward(fwd))
            if not questions:
                continue
            # Every leaf and node, since the step-by-step form asks for each one on the way.
            if all(paths_distinguishable(graph, t, fwd) for t in graph.names[:-1]):
                return Problem("backprop", seed, difficulty, form, graph, values, questions)
    return _fallback(seed, difficulty, form)
