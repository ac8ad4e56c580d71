"""The backprop generator: reproducible, varied, fair (nothing degenerate), and pinned by goldens."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from quizforge.drill import DrillError, Problem, generate
from quizforge.drill.generator import LEVELS

GOLDEN = {
    (1, 1): (
        ("Forward pass, with x = 0.5, y = 2.5, c = -1, v = 1:\n  z1 = v²\n  z2 = z1 − x\n"
        "  z3 = z2 + y\n  z4 = c + z3\n  L = z4²\n"
        "Compute ∂L/∂z1 at these values (3 significant figures)."),
        [("z1", 4.0), ("v", 8.0), ("z4", 4.0)],
    ),
    (2, 2): (
        ("Forward pass, with b = 3, y = -0.7, a = -2, v = 0.4:\n  z1 = σ(v)\n  z2 = z1 + a\n"
        "  z3 = z2³\n  z4 = b + z3\n  z5 = z4 + z3\n  L = z5·y\n(σ(t) = 1/(1 + e^−t))\n"
        "Compute ∂L/∂v at these values (3 significant figures)."),
        [("v", -1.9815361691), ("a", -8.2474403505), ("z3", -1.4)],
    ),
    (3, 3): (
        ("Forward pass, with w = 0.6, y = 2.1, c = 0.8:\n  z1 = w·y\n  z2 = c − z1\n"
        "  z3 = z2 + w\n  z4 = z3·z1\n  z5 = y + z4\n  z6 = z2 + z5\n  L = z6²\n"
        "Compute ∂L/∂c at these values (3 significant figures)."),
        [("c", 8.210128), ("w", -11.5958976), ("z1", -7.701536)],
    ),
}


@pytest.mark.parametrize(("difficulty", "seed"), sorted(GOLDEN))
def test_golden_problems(difficulty, seed):
    prompt, answers = GOLDEN[(difficulty, seed)]
    p = generate("backprop", seed, difficulty)
    assert p.prompt() == prompt
    assert [(q.wrt, round(p.expected_value(i), 10)) for i, q in enumerate(p.questions)] == answers


def test_same_seed_same_problem_in_another_process():
    """No hash()-dependent ordering: a fresh interpreter with another hash seed agrees."""
    code = (
        "import json; from quizforge.drill import generate; "
        "print(json.dumps([generate('backprop', s, d).to_dict() for d in (1, 2, 3) "
        "for s in (5, 77, 1234)]))"
    )
    runs = []
    for hashseed in ("1", "987"):
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, check=True)
        runs.append(json.loads(res.stdout))
    here = [generate("backprop", s, d).to_dict() for d in (1, 2, 3) for s in (5, 77, 1234)]
    assert runs[0] == runs[1] == json.loads(json.dumps(here))


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_structures_are_varied(difficulty):
    sigs = {generate("backprop", s, difficulty).graph.signature() for s in range(200)}
    assert len(sigs) >= 180


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_difficulty_controls_size_ops_and_fan_out(difficulty):
    level = LEVELS[difficulty]
    allowed = {op for op, _ in level.weights} | {"add", "sub", "mul", "square"}
    for seed in range(60):
        p = generate("backprop", seed, difficulty)
        g = p.graph
        assert level.nodes[0] <= len(g.nodes) <= level.nodes[1]
        assert {n.op for n in g.nodes} <= allowed
        assert len(g.fan_out()) >= level.min_fan_out
        if difficulty >= 2:  # the main question's answer sums several paths
            assert len(g.paths(p.questions[0].wrt)) >= 2
            assert "fan-out" in p.questions[0].skills
        assert len({q.wrt for q in p.questions}) == len(p.questions) == 3
        assert p.questions[1].wrt in g.leaves and p.questions[2].wrt not in g.leaves


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_nothing_degenerate(difficulty):
    for seed in range(60):
        p = generate("backprop", seed, difficulty)
        fwd, grad = p.forward_values, p.gradients
        for n in p.graph.nodes:
            a = [fwd[i] for i in n.inputs]
            if n.op == "relu":
                assert a[0] >= 0.2  # active, away from the kink
            if n.op == "log":
                assert a[0] >= 0.2
            if n.op == "div":
                assert abs(a[1]) >= 0.5
            if n.op == "exp":
                assert a[0] <= 3
            assert abs(fwd[n.name]) <= 50
        assert all(0.01 <= abs(g) <= 200 for g in grad.values())
        for i, q in enumerate(p.questions):
            assert abs(abs(p.expected_value(i)) - 1) > 0.05


def test_whiteboard_values_at_difficulty_1():
    for seed in range(50):
        p = generate("backprop", seed, 1)
        assert all((2 * v).is_integer() and v != 0 for _, v in p.values)  # halves
        assert not any(n.op in ("exp", "log", "sigmoid", "tanh") for n in p.graph.nodes)


def test_round_trip_and_forms():
    for form in ("number", "expression", "steps"):
        p = generate("backprop", 42, 2, form)
        assert Problem.from_dict(p.to_dict()) == p
        assert all(q.form == form for q in p.questions)
    steps = generate("backprop", 42, 2, "steps")
    assert steps.steps(0)[-1] == steps.questions[0].wrt
    assert "in turn" in steps.ask(0)


def test_bad_arguments_are_reported_together():
    with pytest.raises(DrillError) as e:
        generate("nope", 1, 7, "essay")
    msg = str(e.value)
    assert "unknown generator 'nope'" in msg and "difficulty must be 1, 2 or 3 (got 7)" in msg
    assert "form must be one of" in msg
    with pytest.raises(DrillError, match="question 5 does not exist"):
        generate("backprop", 1, 1).question(5)
