"""The backprop family: interview-shaped, whiteboard-friendly, reproducible and honestly graded.

The simulated learner here shares no code with the family: it reads the problem's JSON,
runs its own forward pass and its own local-derivative table, multiplies along every path
(the order a person uses on a whiteboard), and rounds every number it writes down to 3
significant figures.
"""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import pytest
from drill_ref import assert_expected_accepted

from quizforge.drill import generate, grade
from quizforge.drill.families.backprop import FRIENDLY

FRIENDLY_VALUES = {round(v, 12) for table in FRIENDLY.values() for _, _, v in table}


def r3(x: float) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, 2 - math.floor(math.log10(abs(x))))


def _forward(op, a):
    if op == "add":
        return a[0] + a[1]
    if op == "sub":
        return a[0] - a[1]
    if op == "mul":
        return a[0] * a[1]
    if op == "square":
        return a[0] ** 2
    if op == "halfsq":
        return a[0] ** 2 / 2
    if op == "relu":
        return max(a[0], 0.0)
    if op == "max":
        return max(a)
    if op == "abs":
        return abs(a[0])
    if op == "sigmoid":
        return 1 / (1 + math.exp(-a[0]))
    if op == "tanh":
        return math.tanh(a[0])
    if op == "bce":
        return -(a[1] * math.log(a[0]) + (1 - a[1]) * math.log(1 - a[0]))
    if op == "hinge":
        return max(0.0, 1 - a[1] * a[0])
    raise AssertionError(op)


def _local(op, a, o):
    """d(out)/d(each input), from a textbook table."""
    return {
        "add": lambda: (1, 1), "sub": lambda: (1, -1), "mul": lambda: (a[1], a[0]),
        "square": lambda: (2 * a[0],), "halfsq": lambda: (a[0],),
        "relu": lambda: (1 if a[0] > 0 else 0,), "abs": lambda: (1 if a[0] > 0 else -1,),
        "max": lambda: (1, 0) if a[0] > a[1] else (0, 1),
        "sigmoid": lambda: (o * (1 - o),), "tanh": lambda: (1 - o * o,),
        "bce": lambda: ((a[0] - a[1]) / (a[0] * (1 - a[0])), 0),
        "hinge": lambda: (-a[1], -a[0]) if 1 - a[1] * a[0] > 0 else (0, 0),
    }[op]()


def learner(d: dict, wrt: str) -> float:
    """dL/d(wrt) the way a careful person does it: 3 significant figures everywhere."""
    val = {k: float(v) for k, v in d["values"].items()}
    nodes = d["nodes"]
    for n in nodes:
        v = _forward(n["op"], [val[i] for i in n["inputs"]])
        val[n["name"]] = r3(v)
    locals_ = {(n["name"], i): r3(g) for n in nodes
               for i, g in enumerate(_local(n["op"], [val[x] for x in n["inputs"]], val[n["name"]]))}

    def paths(name):
        if name == nodes[-1]["name"]:
            return [[]]
        out = []
        for n in nodes:
            for i, x in enumerate(n["inputs"]):
                if x == name:
                    out += [[(n["name"], i), *rest] for rest in paths(n["name"])]
        return out

    total = 0.0
    for path in paths(wrt):
        prod = 1.0
        for edge in reversed(path):  # from L back towards wrt
            prod = r3(prod * locals_[edge])
        total = r3(total + prod)
    return total


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_simulated_learner_keeping_3_significant_figures_is_accepted(difficulty):
    right = total = 0
    for seed in range(400):
        p = generate("backprop", seed, difficulty)
        d = p.to_dict()
        for i, q in enumerate(d["questions"]):
            total += 1
            right += grade(p, repr(learner(d, q["wrt"])), i).correct
    assert right / total >= 0.995, (right, total)


def test_every_template_appears_and_the_textbook_neuron_is_there():
    titles = Counter()
    for difficulty in (1, 2, 3):
        for seed in range(300):
            title = generate("backprop", seed, difficulty).title
            titles[(difficulty, title.replace("an add", "a subtract"))] += 1
    per_level = Counter(d for d, _ in titles)
    assert per_level == {1: 4, 2: 5, 3: 4}, titles
    assert all(n >= 30 for n in titles.values()), titles
    # (w·x + b − y)² itself
    found = [s for s in range(200) if generate("backprop", s, 1).loss_scalar()
             == "(((w*x) + b) - y)**2"]
    assert found, "the textbook (wx + b − y)² never appears"


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_whiteboard_numbers(difficulty):
    for seed in range(300):
        p = generate("backprop", seed, difficulty)
        shown = dict(p.shown)
        for leaf, v in p.values:
            if leaf in shown:
                assert "ln" in shown[leaf] or Fraction(v).denominator <= 4
                continue
            assert (2 * v).is_integer() and abs(v) <= 4, (seed, leaf, v)
            if difficulty == 1:
                assert v.is_integer()
        fwd = p.forward_values
        for n in p.graph.nodes:
            if n.op in FRIENDLY:
                assert round(fwd[n.name], 12) in FRIENDLY_VALUES, (seed, n)
                assert n.name in dict(p.given)
        values = [p.expected_value(i) for i in range(len(p.questions))]
        assert 2 <= len(values) <= 3
        assert len({round(v, 9) for v in values}) == len(values), (seed, values)
        for v in values:  # a small fraction, or a decimal of at most 4 places (0.384)
            f = Fraction(v).limit_denominator(1000)
            assert abs(float(f) - v) < 1e-9 and abs(v) <= 60, (seed, v)
            assert f.denominator <= 64 or 10_000 % f.denominator == 0, (seed, v)


def test_a_dead_relu_is_practised():
    dead = 0
    for seed in range(300):
        p = generate("backprop", seed, 1)
        if "ReLU" in p.title and p.expected_value(1) == 0:
            # ∂L/∂h first (it is on w's way to L, so asked before it: no solution shows a
            # later answer), then the weight behind the dead ReLU: 0
            dead += 1
            assert p.questions[0].wrt == "h" and p.questions[1].wrt == "w"
            assert p.expected_value(0) != 0
    assert dead >= 10


@pytest.mark.parametrize("form", ["number", "steps"])
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_own_expected_is_accepted(difficulty, form):
    assert_expected_accepted(generate("backprop", seed, difficulty, form)
                             for seed in range(1000 if form == "number" else 150))


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_own_expected_expression_is_accepted_and_fits_the_input(difficulty):
    from quizforge.drill.parse import MAX_CHARS

    for seed in range(60):
        p = generate("backprop", seed, difficulty, "expression")
        for i in range(len(p.questions)):
            text = p.expected_text(i)
            assert len(text) <= MAX_CHARS
            v = grade(p, text, i)
            assert v.correct, (seed, i, text, v.feedback)


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_named_mistakes_are_refused_and_named(difficulty):
    for seed in range(40):
        p = generate("backprop", seed, difficulty)
        for i in range(len(p.questions)):
            target = p.target(i)
            for m in target.mistakes:
                if abs(m.value - target.value) <= 0.006 * abs(target.value) + 1e-9:
                    continue  # the slip gives the right answer here
                v = grade(p, repr(m.value), i)
                assert not v.correct, (seed, i, m)
                same = [k.kind for k in target.mistakes
                        if abs(k.value - m.value) <= 0.006 * abs(m.value) + 1e-9]
                assert v.mistake in same or v.mistake == "close", (seed, m, v.mistake)


GOLDEN = {
    # the README's example: --seed 7 --check '2*(w*x+b-y)*x'
    (1, 7): ("One linear neuron, o = w·x + b, with a squared error.", [("w", -30.0), ("b", -10.0),
                                                                       ("x", 20.0)]),
}


def test_golden_problem():
    p = generate("backprop", 7, 1)
    assert p.title == GOLDEN[(1, 7)][0]
    assert p.values_text() == "x = 3, w = −2, b = 2, y = 1"
    assert grade(p, "2*(w*x+b-y)*x").correct
    assert [(q.wrt, p.expected_value(i)) for i, q in enumerate(p.questions)] == GOLDEN[(1, 7)][1]
