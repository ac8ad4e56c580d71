"""The drill engine, for every family at once: registry, tensor answers, honest rounding,
shapes, "close", no false accepts, and the JSON contract checked against finite differences."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from drill_ref import fd_gradient

from quizforge.drill import AnswerRejected, generate, grade
from quizforge.drill.family import families
from quizforge.drill.graph import Graph, Node
from quizforge.drill.model import Mistake, Question, Target
from quizforge.drill.problem import GraphProblem, skills_for
from quizforge.drill.rounding import band, round_sig
from quizforge.drill.tensor import parse_tensor

FAMILIES = list(families())


def test_registry_finds_every_family_in_order():
    assert FAMILIES[:5] == ["backprop", "softmax-ce", "linear", "mlp", "batchnorm"]
    for f in families().values():
        assert f.difficulties == (1, 2, 3) and "number" in f.forms and f.summary


def test_listing_families_imports_neither_numpy_nor_sympy():
    code = ("import sys; from quizforge.drill.family import families; families(); "
            "print('numpy' in sys.modules, 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=os.environ).stdout
    assert out.strip() == "False False"


@pytest.mark.parametrize(("text", "expected"), [
    ("[[1, 2], [3, 4]]", [[1, 2], [3, 4]]),
    ("[1 2; 3 4]", [[1, 2], [3, 4]]),
    ("[[1 2] [3 4]]", [[1, 2], [3, 4]]),
    ("[[1 2]\n [3 4]]", [[1, 2], [3, 4]]),
    ("[1, -1/2, 0.25]", [1, -0.5, 0.25]),
    ("[−1, 2·3, 1/3]", [-1, 6, 1 / 3]),
    ("dW = [[1, 2], [3, 4]]", [[1, 2], [3, 4]]),
    ("array([[1, 2], [3, 4]])", [[1, 2], [3, 4]]),
    ("[1 2 3;]", [[1, 2, 3]]),
])
def test_tensor_notations(text, expected):
    assert parse_tensor(text).shape == np.shape(expected)
    assert np.allclose(parse_tensor(text), expected)


@pytest.mark.parametrize(("text", "reason"), [
    ("[[1, 2], [3]]", "rows of different lengths"),
    ("[[1, 2], [3, 4]", "never closed"),
    ("[1, , 2]", "an empty entry"),
    ("[1, __import__('os')]", "underscore"),
    ("[1, diff(x)]", "by hand"),
    ("[[1, 2] [3 4]; 5]", "not both"),
    ("[" + ", ".join(["1"] * 200) + "]", "more than 144 entries"),
    ("[[[[1]]]]", "levels of brackets"),
])
def test_bad_tensors_say_why(text, reason):
    with pytest.raises(AnswerRejected) as e:
        parse_tensor(text)
    assert reason in e.value.reason


def test_rounding_band_covers_every_3_sig_fig_path():
    # 1/3 · 3 written as 0.333 · 3 = 0.999: inside; 0.99 is not
    lo, hi = band(lambda r: r(r(1 / 3) * 3))
    assert lo <= 0.999 <= hi and not lo <= 0.99 <= hi
    assert round_sig(2 / 3) == 0.667
    arr_lo, arr_hi = band(lambda r: r(np.array([1 / 3, 2.0]) * 3))
    assert arr_lo.shape == (2,) and arr_lo[0] <= 0.999 <= arr_hi[0]


def _tensor_target(value, mistakes=()):
    value = np.array(value, dtype=float)
    lo, hi = band(lambda r: r(value))
    return Target("W", "∂L/∂W", value, lo, hi, tuple(mistakes))


class _OneTarget:
    """A minimal problem with one tensor question (what the engine sees of any family)."""

    family, seed, difficulty, form = "test", 0, 1, "number"

    def __init__(self, target):
        self._t = target
        self.questions = (Question("W", "number", "Give dW.", (), target.shape),)

    def question(self, i=0):
        return self.questions[i]

    def target(self, i=0):
        return self._t

    def expected_text(self, i=0):
        from quizforge.drill.model import tensor_text

        return tensor_text(self._t.value)


def test_shape_is_checked_first_with_its_own_message():
    p = _OneTarget(_tensor_target([[1, 2, 3], [4, 5, 6]]))
    v = grade(p, "[[1, 2], [3, 4]]")
    assert not v.correct and v.mistake == "shape"
    assert v.feedback.startswith("Wrong shape: your ∂L/∂W is 2×2; W is 2×3")
    v = grade(p, "[[1, 4], [2, 5], [3, 6]]")
    assert v.mistake == "transposed" and "3×2" in v.feedback
    v = grade(p, "7")
    assert v.mistake == "shape" and "a scalar" in v.feedback


def test_named_tensor_mistake_with_another_shape():
    g = np.array([[1, 2], [3, 4]], dtype=float)
    p = _OneTarget(_tensor_target(g.sum(axis=0),
                                  [Mistake("no-batch-sum", "Sum over the batch.", g)]))
    v = grade(p, "[[1, 2], [3, 4]]")
    assert v.mistake == "no-batch-sum" and v.feedback == "Sum over the batch."
    assert grade(p, "[4, 6]").correct


def test_close_is_neither_right_nor_wrong():
    p = _OneTarget(_tensor_target([[1 / 3, 2.0]]))
    assert grade(p, "[[0.333, 2]]").correct
    assert grade(p, "[[1/3, 2]]").correct
    v = grade(p, "[[0.34, 2]]")
    assert v.close and not v.correct and not v.graded
    v = grade(p, "[[0.5, 2]]")
    assert not v.close and not v.correct and v.graded


def _neuron(form):
    graph = Graph(("x", "w", "b", "y"), (
        Node("z", "mul", ("w", "x")), Node("o", "add", ("z", "b")),
        Node("d", "sub", ("o", "y")), Node("L", "square", ("d",))))
    qs = (Question("w", form, "", skills_for(graph, "w")),)
    return GraphProblem("backprop", 0, 1, form, graph,
                        (("x", 2.0), ("w", 0.5), ("b", 0.1), ("y", 1.0)), qs)


def test_no_false_accept_for_a_difference_that_vanishes_at_every_point():
    p = _neuron("expression")
    right = "2*(w*x+b-y)*x"
    assert grade(p, right).correct
    # right + a polynomial that is zero at the given values: exact SymPy says non-zero
    assert not grade(p, right + " + (x-2)*(w-0.5)").correct
    assert not grade(p, right + " + (x-2)**2*(b-0.1)").correct


def test_expression_points_are_fresh_for_every_check():
    p = _neuron("expression")
    check = p.expression_check(0)
    a, b = check.points(), check.points()
    assert a[0].values == b[0].values  # the given values come first
    assert a[1].values != b[1].values  # then random points, never derived from the seed


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_matches_finite_differences_of_its_loss_scalar(family):
    # a cross-check of the contract; each family's own tests sweep hundreds of seeds
    for difficulty in (1, 2, 3):
        for seed in range(12):
            d = generate(family, seed, difficulty).to_dict()
            for q in d["questions"]:
                assert q["shape"] == list(np.shape(q["value"]))
                if q["wrt"] not in d["inputs"]:
                    continue  # an intermediate: its family's tests check it another way
                fd = fd_gradient(d, q["wrt"])
                assert np.allclose(q["value"], fd, rtol=1e-5, atol=1e-6), (seed, q["wrt"])


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_accepts_its_own_expected_and_refuses_its_negation(family):
    for difficulty in (1, 2, 3):
        for seed in range(40):
            p = generate(family, seed, difficulty)
            for i in range(len(p.questions)):
                assert grade(p, p.expected_text(i), i).correct, (seed, i)
                value = p.target(i).value
                if np.any(np.abs(value) > 1e-9):
                    neg = np.negative(value)
                    from quizforge.drill.model import tensor_text

                    assert not grade(p, tensor_text(neg, exact=False), i).correct


def test_the_core_never_imports_the_screens():
    """decks, store, scheduling, study, reports and drill stay pure: no rich, typer or ui."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "quizforge"
    for package in ("drill", "decks", "store", "scheduling", "study", "reports"):
        for path in (root / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                for name in names:
                    assert not name.startswith(("rich", "typer", "quizforge.ui",
                                                "quizforge.cli")), (path, name)


def test_a_column_typed_as_a_vector_is_told_the_shape_to_use():
    p = _OneTarget(_tensor_target([[1], [-2]]))
    v = grade(p, "[1, -2]")
    assert not v.correct and v.mistake == "shape"
    assert v.feedback.startswith("Right numbers, wrong shape: your ∂L/∂W is a vector of 2 but "
                                 "W is 2×1; write it with that shape, e.g. [[1], [1]]")
    assert grade(p, "[[1], [-2]]").correct and grade(p, "[1; -2]").correct


def test_same_seed_same_problem_in_another_process():
    """Every family is reproducible across processes and hash seeds (no set or dict order,
    no hash-seeded randomness leaks into a problem)."""
    import json

    names = list(families())
    code = ("import json; from quizforge.drill.family import families, generate; "
            "print(json.dumps([generate(f, s, d).to_dict() for f in families() "
            "for d in (1, 2, 3) for s in range(8)]))")
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout
    here = [generate(f, s, d).to_dict() for f in names for d in (1, 2, 3) for s in range(8)]
    assert json.loads(out) == json.loads(json.dumps(here))


def test_each_family_lives_in_the_module_named_after_it():
    """`get` and the CLI import one family's module by its name ('-' as '_'), so running one
    family does not import the others."""
    import subprocess
    import sys

    from quizforge.drill.family import families, names

    assert sorted(names()) == sorted(families())
    for name, fam in families().items():
        assert fam.generate.__module__ == f"quizforge.drill.families.{name.replace('-', '_')}"
    code = ("import sys\nfrom quizforge.drill import generate\ngenerate('linear', 1)\n"
            "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules\n"
            "             if m.startswith('quizforge.drill.families.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['_grow', '_tensor', 'linear']"  # helpers, no family
