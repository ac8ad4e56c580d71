"""The softmax-ce family against references that share no code with it.

- Every question about an input (z, T, W, x, b) equals centred finite differences of the
  problem's own `loss_scalar` (tests/drill_ref). Questions about something that is not an
  input — ∂L/∂p and entries of the softmax Jacobian — are checked against finite differences
  of small numpy functions written here.
- A simulated learner works each question from the JSON inputs the way a person would, in
  its own order, rounding every intermediate to 3 significant figures; it must land in the
  honest-rounding band.
- Every named mistake is refused and named by the engine; every `expected` is accepted.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from drill_ref import assert_expected_accepted, assert_rounding_learner_accepted, fd_gradient

from quizforge.drill.check import grade
from quizforge.drill.family import generate
from quizforge.drill.model import blocks_text, tensor_text
from quizforge.drill.rounding import inside, round_sig

NAME = "softmax-ce"
SEEDS = range(200)
LEVELS = (1, 2, 3)
ROW = re.compile(r"dp(\d)/dz$")
ENTRY = re.compile(r"dp(\d)/dz(\d)$")


@functools.cache
def problem(seed: int, difficulty: int):
    """Generated once per test session (a problem is immutable)."""
    return generate(NAME, seed, difficulty, "number")


def problems(seeds=SEEDS):
    for d in LEVELS:
        for s in seeds:
            yield problem(s, d)


# -- an independent softmax, and what a learner does by hand -------------------------------------
def softmax(v):
    e = np.exp(v - np.max(v))
    return e / e.sum()


def logits_for(d):
    """The logits from the loss text's own layout (W_i_j*x_j: z = W x; x_j*W_j_i: z = x W)."""
    inputs = d["inputs"]
    if "W" not in inputs:
        return np.asarray(inputs["z"], dtype=float), float(inputs.get("T", 1.0))
    W, x, b = (np.asarray(inputs[k], dtype=float) for k in ("W", "x", "b"))
    return (W @ x + b if "*x_0" in d["loss_scalar"] else x @ W + b), 1.0


def fd(f, v, h=1e-6):
    v = np.asarray(v, dtype=float)
    out = np.zeros_like(v)
    for i in range(v.size):
        up, dn = v.copy(), v.copy()
        up.flat[i] += h
        dn.flat[i] -= h
        out.flat[i] = (f(up) - f(dn)) / (2 * h)
    return out


def r(x):
    if np.ndim(x) == 0:
        return round_sig(float(x))
    return np.array([round_sig(float(v)) for v in np.ravel(x)]).reshape(np.shape(x))


def hand_probs(z):
    """A whiteboard softmax: subtract the smallest logit, spot e^(ln a) = a, divide by Σa."""
    e = r(np.exp(z - z.min()))
    return r(e / r(e.sum()))


def learner(d, i):
    """Question i of problem dict d, by hand with 3 significant figures everywhere."""
    q = d["questions"][i]
    wrt, inputs = q["wrt"], d["inputs"]
    y = np.asarray(inputs["y"], dtype=float)
    z, t = logits_for(d)
    if "W" in inputs:
        W, x = np.asarray(inputs["W"], dtype=float), np.asarray(inputs["x"], dtype=float)
        g = r(hand_probs(z) - y)  # z = W x + ln a + c, kept symbolic: e^z ∝ a
        column = "*x_0" in d["loss_scalar"]
        if wrt == "b":
            return g
        if wrt == "W":
            return r(np.outer(g, x) if column else np.outer(x, g))
        rows = W if column else W.T  # row k: class k's weights
        acc = np.zeros(rows.shape[1])
        for k in range(rows.shape[0]):  # running sum, rounded as it goes
            acc = r(acc + r(g[k] * rows[k]))
        return acc
    u = z / t  # written symbolically, ln a + c
    p = hand_probs(u) if d["difficulty"] > 1 else r(softmax(u))
    if wrt == "z":
        return r(r(p / t) - r(y / t)) if t != 1 else r(p - y)
    if wrt == "p":
        return np.where(y > 0, r(-y / p), 0.0)
    if wrt == "T":
        zr = r(z)
        return r(-r(np.sum(r(r(p - y) * zr))) / r(t * t))
    m = ROW.match(wrt)
    if m:
        k = int(m.group(1))
        row = np.array([r(p[k] - r(p[k] * p[k])) if j == k else r(-r(p[k] * p[j]))
                        for j in range(len(p))])
        return r(row / t) if t != 1 else row
    m = ENTRY.match(wrt)
    a, b = int(m.group(1)), int(m.group(2))
    return r(p[a] - r(p[a] * p[a])) if a == b else r(-r(p[a] * p[b]))


# -- 1. the answers against independent references ----------------------------------------------
def test_answers_match_finite_differences():
    checked = {"input": 0, "p": 0, "row": 0, "entry": 0}
    for prob in problems():
        d = prob.to_dict()
        z, t = logits_for(d)
        y = np.asarray(d["inputs"]["y"], dtype=float)
        p = softmax(z / t)
        for i, q in enumerate(d["questions"]):
            value = np.asarray(prob.target(i).value, dtype=float)
            wrt = q["wrt"]
            if wrt in d["inputs"]:
                ref = np.asarray(fd_gradient(d, wrt), dtype=float)
                checked["input"] += 1
            elif wrt == "p":
                ref = fd(lambda v, y=y: -float(np.sum(y * np.log(v))), p)
                checked["p"] += 1
            elif ROW.match(wrt):
                k = int(ROW.match(wrt).group(1))
                ref = fd(lambda v, k=k, t=t: softmax(v / t)[k], z)
                checked["row"] += 1
            else:
                a, b = map(int, ENTRY.match(wrt).groups())
                ref = fd(lambda v, a=a, t=t: softmax(v / t)[a], z)[b]
                checked["entry"] += 1
            assert value.shape == ref.shape == tuple(q["shape"]), (prob.seed, wrt)
            np.testing.assert_allclose(value, ref, rtol=1e-5, atol=1e-7,
                                       err_msg=f"seed {prob.seed} d{prob.difficulty} {wrt}")
    assert all(n > 50 for n in checked.values()), checked


def test_loss_scalar_is_the_cross_entropy_of_the_shown_probabilities():
    from drill_ref import element_values, loss_at

    for prob in problems(range(50)):
        d = prob.to_dict()
        z, t = logits_for(d)
        y = np.asarray(d["inputs"]["y"], dtype=float)
        want = -float(np.sum(y * np.log(softmax(z / t))))
        got = loss_at(d, element_values(d["inputs"]))
        assert got == pytest.approx(want, rel=1e-9)


# -- 2. honest rounding ------------------------------------------------------------------------
def test_a_learner_keeping_3_significant_figures_is_accepted():
    assert_rounding_learner_accepted(problems(), lambda p, i: learner(p.to_dict(), i))


# -- 3. the mistake library --------------------------------------------------------------------
def test_every_named_mistake_is_refused_and_named():
    seen: set[str] = set()
    for prob in problems(range(120)):
        for i in range(len(prob.questions)):
            t = prob.target(i)
            for n, m in enumerate(t.mistakes):
                v = grade(prob, tensor_text(m.value), i)
                assert not v.correct, (prob.seed, prob.difficulty, i, m.kind)
                earlier = [e.kind for e in t.mistakes[:n]
                           if np.shape(e.value) == np.shape(m.value)
                           and np.allclose(e.value, m.value, rtol=0.006)]
                assert v.mistake == m.kind or v.mistake in earlier, \
                    (prob.seed, prob.difficulty, i, m.kind, v.mistake, v.feedback)
                seen.add(m.kind)
    assert {"jacobian-diagonal-only", "sign", "forgot-temperature", "p-only", "transposed",
            "one-hot-instead-of-smoothed", "gradient-wrt-p", "smoothing-true-class",
            "smoothing-k-minus-1", "missing-delta", "softmax-of-z",
            "gradient-wrt-z"} <= seen, seen


def test_mistakes_differ_from_the_answer_at_these_numbers():
    for prob in problems(range(100)):
        for i in range(len(prob.questions)):
            t = prob.target(i)
            for m in t.mistakes:
                if np.shape(m.value) == t.shape:
                    assert not inside(m.value, t.lo, t.hi)
                    assert not np.allclose(m.value, t.value, rtol=0.05, atol=1e-9)


def test_a_typical_slip_is_named_with_its_message():
    # d1, true class 1: answering p instead of p − y.
    prob = problem(3, 1)
    p = next(m.value for m in prob.target(0).mistakes if m.kind == "p-only")
    v = grade(prob, tensor_text(p), 0)
    assert not v.correct and v.mistake == "p-only" and "subtract the target" in v.feedback


# -- 4. its own expected is accepted -----------------------------------------------------------
def test_expected_text_is_accepted():
    # 1000 seeds: the first 200 at every difficulty, the rest at one difficulty each
    cases = [(s, d) for s in SEEDS for d in LEVELS]
    cases += [(s, LEVELS[s % 3]) for s in range(len(SEEDS), 1000)]
    assert_expected_accepted(problem(s, d) for s, d in cases)


def test_fractions_and_rounded_decimals_are_accepted():
    prob = problem(0, 1)
    value = prob.target(0).value
    as_fractions = "[" + ", ".join(str(Fraction(float(v)).limit_denominator(100))
                                   for v in value) + "]"
    assert grade(prob, as_fractions, 0).correct
    assert grade(prob, "[" + " ".join(f"{round_sig(float(v)):g}" for v in value) + "]",
                 0).correct


# -- 5. determinism, friendly numbers, distinct questions, layout ------------------------------
def test_same_seed_same_problem():
    for d in LEVELS:
        for s in range(30):
            assert generate(NAME, s, d).to_dict() == problem(s, d).to_dict()


def test_every_difficulty_varies_over_seeds():
    for d in LEVELS:
        prompts = {problem(s, d).prompt(0) for s in range(40)}
        assert len(prompts) > 25


def test_inputs_are_whiteboard_friendly():
    for prob in problems():
        d = prob.to_dict()
        inputs = d["inputs"]
        y = np.asarray(inputs["y"], dtype=float)
        assert y.sum() == pytest.approx(1) and np.all(y >= 0)
        assert np.allclose(y * 1000, np.round(y * 1000))  # 0.1, 0.025, 0.85 …
        z, t = logits_for(d)
        assert t in (1.0, 2.0, 0.5)
        # e^(z/T) is proportional to small whole numbers: p has a small denominator
        a = np.exp(z / t - np.min(z / t))
        assert np.allclose(a, np.round(a), atol=1e-9) and a.max() <= 6
        assert round(a.sum()) in (3, 4, 5, 6, 8, 12)
        for name in ("W", "x"):
            if name in inputs:
                v = np.asarray(inputs[name], dtype=float)
                assert np.all(v == np.round(v)) and np.abs(v).max() <= 3
        # every answer is a short fraction or decimal a person can write down
        for i in range(len(d["questions"])):
            for v in np.ravel(prob.target(i).value):
                if prob.target(i).wrt != "T":
                    assert Fraction(float(v)).limit_denominator(300) == \
                        pytest.approx(float(v), abs=1e-12)


def test_questions_have_different_values_and_teach_different_things():
    for prob in problems():
        qs = prob.questions
        assert 2 <= len(qs) <= 3
        values = [prob.target(i).value for i in range(len(qs))]
        for i in range(len(qs)):
            for j in range(i):
                same = (np.shape(values[i]) == np.shape(values[j])
                        and np.allclose(values[i], values[j]))
                assert not same, (prob.seed, prob.difficulty, i, j)
        assert len({(q.wrt, q.skills) for q in qs}) == len(qs)


def test_text_fits_80_columns_and_states_the_shape():
    for prob in problems(range(100)):
        for line in blocks_text(prob.display()).splitlines():
            assert len(line) <= 76, line  # inside the problem panel
        texts = []
        for i, q in enumerate(prob.questions):
            texts.append(blocks_text(prob.solution(i)))
            assert len(q.ask) <= 76  # inside the problem panel
            assert ("scalar" in q.ask) == (q.shape == ())
            assert len(prob.hints(i)) == 2
        for text in texts:
            for line in text.splitlines():
                assert len(line) <= 80, line


def test_levels_ask_what_they_say():
    for s in range(60):
        one = problem(s, 1)
        assert [q.wrt for q in one.questions] == ["z", "p"]
        assert "the softmax gives p" in one.prompt()
        two = problem(s, 2)
        assert "label-smoothing" in two.questions[0].skills
        assert {"softmax-jacobian"} <= set(two.skills)
        three = problem(s, 3)
        assert {"temperature", "linear-layer"} & set(three.skills)


def test_importing_the_family_does_not_import_numpy():
    code = ("import sys, quizforge.drill.families.softmax_ce; "
            "print('numpy' in sys.modules, 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]
