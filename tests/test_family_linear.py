"""The linear drill family, checked against references that share none of its code: finite
differences of its own `loss_scalar` (plain Python floats for the many-seed sweep, SymPy via
drill_ref for a few), a learner written here who works the textbook formulas in another order
and rounds every number written down to 3 significant figures, and the grading engine on
every named mistake. The problem is read only through its public API (inputs, loss text)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from drill_ref import (
    assert_expected_accepted,
    assert_rounding_learner_accepted,
    fd_float,
    fd_gradient,
    named_mistakes,
)

from quizforge.drill.check import grade, near
from quizforge.drill.family import families, generate
from quizforge.drill.model import blocks_text, tensor_text
from quizforge.drill.rounding import round_sig

FAMILY = "linear"
DIFFICULTIES = (1, 2, 3)
# 1000 seeds, each at one difficulty (333 or 334 per difficulty), shared by every sweep
SEEDS = {d: [s for s in range(1000) if s % 3 == d - 1] for d in DIFFICULTIES}


@cache
def problem(seed: int, difficulty: int):
    return generate(FAMILY, seed, difficulty, "number")


# -- reading a problem from its public data only ----------------------------------------------------
def top_level_terms(loss: str) -> list[str]:
    """'2*(…) - (…) + (1/2)*(…)' -> ['2*(…)', '-(…)', '(1/2)*(…)'] (split outside parentheses)."""
    terms, depth, start, sign, i = [], 0, 0, "", 0
    while i < len(loss):
        if loss[i] in "()":
            depth += 1 if loss[i] == "(" else -1
        elif depth == 0 and loss[i:i + 3] in (" + ", " - "):
            terms.append(sign + loss[start:i])
            sign, start = ("-" if loss[i + 1] == "-" else ""), i + 3
            i += 3
            continue
        i += 1
    return terms + [sign + loss[start:]]


TERM = re.compile(r"^(-?)(?:\(?(\d+(?:/\d+)?)\)?\*)?\((.*)\)$")


def upstream(p, bias: str = "b") -> np.ndarray:
    """G = ∂L/∂Y read off the loss text L = Σ G[n,m]·Y[n,m], G's numbers inline (d1)."""
    x = np.asarray(p.inputs()["X"], dtype=float)
    m_count = np.asarray(p.inputs()[bias], dtype=float).shape[0]
    G = np.zeros((x.shape[0], m_count))
    for term in top_level_terms(p.loss_scalar()):
        sign, coef, body = TERM.match(term).groups()
        n = int(re.search(r"X_(\d+)_", body).group(1))
        m = int(re.search(rf"{bias}_(\d+)$", body).group(1))
        G[n, m] += (-1 if sign else 1) * float(Fraction(coef or "1"))
    return G


def assert_close(a, b, rel=1e-5):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(1.0, float(np.max(np.abs(b))))
    assert np.max(np.abs(a - b)) <= rel * scale, (a, b)


# -- 1. every answer is the gradient of the loss ----------------------------------------------------
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_answers_are_finite_differences_of_the_loss(difficulty):
    for seed in SEEDS[difficulty]:
        p = problem(seed, difficulty)
        assert [q.wrt for q in p.questions] == ["W", "b", "X"]
        for i, q in enumerate(p.questions):
            assert_close(p.target(i).value, fd_float(p, q.wrt))


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_loss_is_read_by_sympy(difficulty):
    """drill_ref parses loss_scalar with SymPy: the same check through a CAS, from JSON."""
    for seed in SEEDS[difficulty][:12]:
        d = json.loads(json.dumps(problem(seed, difficulty).to_dict()))
        for q in d["questions"]:
            assert_close(q["value"], fd_gradient(d, q["wrt"]))
            assert q["shape"] == list(np.shape(q["value"]))


def test_upstream_gradient_in_the_loss_is_the_one_shown():
    """At d1 the loss Σ G·Y carries G's numbers: the body shows the same G."""
    for seed in SEEDS[1][:30]:
        p = problem(seed, 1)
        G = upstream(p)
        assert "G = ∂L/∂Y" in blocks_text(p.display())
        # the gradient of L with respect to b is the column sums of the G read here
        assert_close(G.sum(axis=0), fd_float(p, "b"))


# -- 2. a learner who rounds every step to 3 significant figures is accepted -----------------------
def r(v: float) -> float:
    return float(round_sig(float(v)))


def learner(p, index: int) -> np.ndarray:
    """Y, E and G entry by entry; then the gradients as running sums over the samples (dW as a
    sum of outer products), every written number rounded to 3 significant figures. G is E
    divided by N·M/2 (not multiplied by 2/(N·M) as the generator does)."""
    given = p.inputs()
    X, W, b = (np.asarray(given[k], dtype=float) for k in ("X", "W", "b"))
    N, D = X.shape
    M = W.shape[1]
    if p.difficulty == 1:
        G = upstream(p)
    else:
        T = np.asarray(given["T"], dtype=float)
        G = np.zeros((N, M))
        for n in range(N):
            for m in range(M):
                y = 0.0
                for k in range(D):
                    y = r(y + r(X[n, k] * W[k, m]))
                G[n, m] = r(r(r(y + b[m]) - T[n, m]) / (N * M / 2))
    wrt = p.question(index).wrt
    if wrt == "W":
        dW = np.zeros((D, M))
        for n in range(N):
            for d in range(D):
                for m in range(M):
                    dW[d, m] = r(dW[d, m] + r(X[n, d] * G[n, m]))
        lam = float(given.get("lam", 0.0))
        return np.vectorize(r)(dW + np.vectorize(r)(lam * W)) if lam else dW
    if wrt == "b":
        db = np.zeros(M)
        for n in range(N):
            db = np.vectorize(r)(db + G[n])
        return db
    dX = np.zeros((N, D))
    for n in range(N):
        for d in range(D):
            for m in range(M):
                dX[n, d] = r(dX[n, d] + r(G[n, m] * W[d, m]))
    return dX


def test_a_learner_rounding_to_three_figures_is_accepted():
    def same(answer, t, key):  # the same quantity
        assert np.allclose(answer, t.value, rtol=0.05, atol=0.01), key

    assert_rounding_learner_accepted(
        (problem(s, d) for d in DIFFICULTIES for s in SEEDS[d]), learner, same)


def test_the_learner_types_fractions_or_decimals_and_both_are_right():
    for seed in SEEDS[2][:40]:
        p = problem(seed, 2)
        for i in range(3):
            decimals = tensor_text(learner(p, i), exact=False)
            assert grade(p, decimals, i).correct, (seed, i, decimals)


# -- 3. every named mistake is refused and named ----------------------------------------------------
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_every_named_mistake_is_refused_and_named(difficulty):
    for seed in SEEDS[difficulty][:80]:
        p = problem(seed, difficulty)
        for i in range(len(p.questions)):
            library = p.target(i).mistakes
            for m, v in named_mistakes(p, i, (seed, difficulty)):
                assert v.feedback == next(k.message for k in library if k.kind == v.mistake
                                          and near(m.value, k.value, 0.006))


def test_the_mistake_library_covers_what_an_interviewer_looks_for():
    seen: dict[int, set[str]] = {d: set() for d in DIFFICULTIES}
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty][:60]:
            p = problem(seed, difficulty)
            for i in range(3):
                seen[difficulty] |= {m.kind for m in p.target(i).mistakes}
    assert {"transposed", "no-batch-sum", "wrong-order", "wrong-axis", "extra-1/N",
            "no-transpose"} <= seen[1]
    assert {"sign", "missing-1/N", "mse-factor-2"} <= seen[2]
    assert {"no-weight-decay", "decay-factor", "decayed-bias"} <= seen[3]


def test_every_problem_names_the_main_mistakes():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty]:
            p = problem(seed, difficulty)
            kinds = [{m.kind for m in p.target(i).mistakes} for i in range(3)]
            assert "transposed" in kinds[0] and "transposed" in kinds[2]
            assert "no-batch-sum" in kinds[1]
            if difficulty >= 2:
                assert all({"sign", "missing-1/N", "mse-factor-2"} <= k for k in kinds)
            if difficulty == 3:
                assert "no-weight-decay" in kinds[0]


def test_a_transposed_square_answer_and_an_unsummed_bias_get_their_names():
    found = 0
    for seed in SEEDS[1][:100]:
        p = problem(seed, 1)
        dW = p.target(0).value
        if dW.shape[0] == dW.shape[1]:
            v = grade(p, tensor_text(dW.T), 0)
            assert v.mistake == "transposed" and not v.correct
            found += 1
        G = upstream(p)
        v = grade(p, tensor_text(G), 1)
        assert v.mistake == "no-batch-sum" and "rows of G" in v.feedback
    assert found > 10


# -- 4. the checker accepts its own expected answer -------------------------------------------------
def test_expected_text_is_accepted_over_1000_seeds():
    assert_expected_accepted(problem(seed, seed % 3 + 1) for seed in range(1000))  # SEEDS: every problem the other sweeps use


def test_other_notations_of_the_answer_are_accepted():
    p = problem(3, 2)
    value = p.target(0).value
    rows = "; ".join(" ".join(tensor_text(x) for x in row) for row in value)
    assert grade(p, f"[{rows}]", 0).correct
    assert grade(p, tensor_text(value, exact=False), 0).correct


# -- 5. determinism, friendly numbers, distinct questions, 80 columns --------------------------------
def test_same_seed_same_problem():
    for difficulty in DIFFICULTIES:
        for seed in range(8):
            a = generate(FAMILY, seed, difficulty, "number").to_dict()
            assert a == generate(FAMILY, seed, difficulty, "number").to_dict()
    assert problem(0, 1).to_dict() != problem(1, 1).to_dict()


def test_golden_problem():
    p = problem(0, 1)
    d = p.to_dict()
    assert d["family"] == "linear" and d["difficulty"] == 1
    # pinned: a change of generator shows up here first
    assert [q["expected"] for q in d["questions"]] == [
        "[[0, -1], [-1, -1], [-1, -3]]", "[-1, -3]", "[[3, 2, 0], [2, 2, -1]]"]


def _friendly_number(v: float) -> bool:
    return abs(v) <= 10 and any(abs(v * k - round(v * k)) < 1e-9 for k in (4, 3))


def test_inputs_are_small_and_friendly():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty]:
            p = problem(seed, difficulty)
            given = p.inputs()
            for name, value in given.items():
                if name == "lam":
                    assert value in (0.5, 0.25, 0.1)
                    continue
                assert all(_friendly_number(v) for v in np.ravel(value)), (name, value)
                assert all(2 <= n <= 3 for n in np.shape(value)) or name == "b"
            if difficulty == 1:
                assert all(_friendly_number(v) for v in upstream(p).ravel())


def test_three_different_questions_with_shapes_stated():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty]:
            p = problem(seed, difficulty)
            values = [p.target(i).value for i in range(3)]
            for a in range(3):
                for b in range(a + 1, 3):
                    assert not near(values[a], values[b], 0.006)
            for i, q in enumerate(p.questions):
                assert q.shape == p.target(i).shape == np.shape(p.inputs()[q.wrt])
                assert "×".join(map(str, q.shape)) in q.ask or f"vector of {q.shape[0]}" in q.ask
                assert q.skills and len(p.hints(i)) == 2


def test_body_and_solution_fit_80_columns():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty]:
            p = problem(seed, difficulty)
            lines = blocks_text(p.display()).splitlines()
            for i in range(3):
                lines += blocks_text(p.solution(i)).splitlines()
            assert max(len(line) for line in lines) <= 80


def test_solution_ends_with_the_answer():
    p = problem(7, 3)
    for i in range(3):
        last = blocks_text(p.solution(i)).splitlines()
        label = p.target(i).label
        assert any(line.startswith(f"{label} = ") for line in last[-3:])


def test_registered_and_cheap_to_import():
    fam = families()[FAMILY]
    assert fam.order == 30 and fam.difficulties == (1, 2, 3) and fam.forms == ("number",)
    code = ("import sys, quizforge.drill.families.linear, quizforge.drill.families._tensor; "
            "print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
