"""The batchnorm drill family, checked against references that share none of its code:
finite differences of its own `loss_scalar` (SymPy via drill_ref, and plain Python floats
for the many-seed sweep), a learner written here from the textbook formulas who rounds every
step to 3 significant figures, and the grading engine on the named mistakes."""

from __future__ import annotations

import math
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
)

from quizforge.drill.check import grade
from quizforge.drill.family import families, generate
from quizforge.drill.model import blocks_text, tensor_text
from quizforge.drill.rounding import round_sig

DIFFICULTIES = (1, 2, 3)
# 1000 seeds, each at one difficulty (333 or 334 per difficulty), shared by every sweep
SEEDS = {d: [s for s in range(1000) if s % 3 == d - 1] for d in DIFFICULTIES}


@cache
def problem(seed: int, difficulty: int):
    return generate("batchnorm", seed, difficulty, "number")


# -- reading a problem from its public data only --------------------------------------------------
TERM = re.compile(r"\(([-0-9./]+)\)\*\(gamma_(\d+)\*\(x_(\d+)(?:_(\d+))? - ")


def upstream(p) -> np.ndarray:
    """g as an N×F array, read off the loss text L = Σ g·y (g = 0 terms are left out)."""
    x = np.asarray(p.inputs()["x"], dtype=float)
    g = np.zeros(x.reshape(x.shape[0], -1).shape)
    for gv, _feature, i, j in TERM.findall(p.loss_scalar()):
        g[int(i), int(j or 0)] = float(Fraction(gv))
    return g


def params(p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (N×F), γ and β (F) whatever the problem's layout."""
    given = p.inputs()
    x = np.asarray(given["x"], dtype=float)
    gamma = given.get("gamma", given.get("gamma_0"))
    beta = given.get("beta", given.get("beta_0"))
    return (x.reshape(x.shape[0], -1), np.atleast_1d(np.asarray(gamma, dtype=float)),
            np.atleast_1d(np.asarray(beta, dtype=float)))


# -- comparing arrays (the reference: drill_ref.fd_float, plain-float differences of the loss)
def assert_close(a, b, rel=1e-5):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    scale = max(1.0, float(np.max(np.abs(b))))
    assert np.max(np.abs(a - b)) <= rel * scale, (a, b)


# -- 1. every answer is the gradient of the loss ----------------------------------------------------
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_answers_are_finite_differences_of_the_loss(difficulty):
    for seed in SEEDS[difficulty]:
        p = problem(seed, difficulty)
        for i, q in enumerate(p.questions):
            assert q.wrt in p.inputs()
            assert_close(p.target(i).value, fd_float(p, q.wrt))


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_loss_is_read_by_sympy(difficulty):
    """drill_ref parses loss_scalar with SymPy: the same check through a CAS."""
    for seed in SEEDS[difficulty][:25]:
        d = problem(seed, difficulty).to_dict()
        for q in d["questions"]:
            assert_close(q["value"], fd_gradient(d, q["wrt"]))


# -- 2. a learner who rounds every step to 3 significant figures is accepted -----------------------
def _r(v: float) -> float:
    return float(round_sig(float(v)))


def learner(p, index: int, r=_r):
    """The textbook formulas, written as N·(...) / (N·σ) (the form in the original batch norm
    paper's backward), every written number rounded to 3 significant figures."""
    x, gamma, _ = params(p)
    g = upstream(p)
    layer = p.difficulty == 3
    n_rows, n_cols = x.shape
    # normalise: columns for batch norm, rows for layer norm
    groups = ([[(i, j) for j in range(n_cols)] for i in range(n_rows)] if layer
              else [[(i, j) for i in range(n_rows)] for j in range(n_cols)])
    xhat = np.zeros_like(x)
    sigma = np.zeros_like(x)
    for cells in groups:
        n = len(cells)
        mu = r(sum(x[c] for c in cells) / n)
        dev = {c: r(x[c] - mu) for c in cells}
        s = r(math.sqrt(r(sum(r(dev[c] ** 2) for c in cells) / n)))
        for c in cells:
            xhat[c] = r(dev[c] / s)
            sigma[c] = s
    wrt = p.question(index).wrt
    if wrt.startswith("beta"):
        out = [r(sum(g[i, j] for i in range(n_rows))) for j in range(n_cols)]
        return out[0] if n_cols == 1 else np.array(out)
    if wrt.startswith("gamma"):
        out = [r(sum(r(g[i, j] * xhat[i, j]) for i in range(n_rows))) for j in range(n_cols)]
        return out[0] if n_cols == 1 else np.array(out)
    dx = np.zeros_like(x)
    for cells in groups:
        n = len(cells)
        gh = {c: r(gamma[c[1]] * g[c]) for c in cells}  # the gradient reaching x̂
        total = r(sum(gh.values()))
        proj = r(sum(r(gh[c] * xhat[c]) for c in cells))
        for c in cells:
            inner = r(n * gh[c] - total - r(xhat[c] * proj))
            dx[c] = r(inner / r(n * sigma[c]))
    return dx[:, 0] if n_cols == 1 else dx


def test_honest_rounding_is_accepted():
    def same(answer, t, key):
        assert np.shape(answer) == t.shape, key

    assert_rounding_learner_accepted(
        (problem(s, d) for d in DIFFICULTIES for s in SEEDS[d]), learner, same)


def test_learner_without_rounding_is_the_answer():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty][:60]:
            p = problem(seed, difficulty)
            for i in range(len(p.questions)):
                assert_close(learner(p, i, float), p.target(i).value, 1e-9)


# -- 3. the named mistakes are refused and named ------------------------------------------------------
def test_named_mistakes_are_refused_and_named():
    seen: set[str] = set()
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty][:150]:
            p = problem(seed, difficulty)
            for i in range(len(p.questions)):
                mistakes = p.target(i).mistakes
                for k, m in enumerate(mistakes):
                    v = grade(p, tensor_text(m.value), i)
                    assert not v.correct and not v.rejected, (seed, difficulty, i, m.kind)
                    same = {e.kind for e in mistakes[:k]
                            if np.shape(e.value) == np.shape(m.value)
                            and np.allclose(e.value, m.value, rtol=0.006)}
                    assert v.mistake == m.kind or v.mistake in same, (seed, difficulty, i,
                                                                      m.kind, v.mistake)
                    seen.add(m.kind)
    assert {"bn-constant-stats", "forgot-mean-term", "forgot-xhat-term", "dgamma-no-xhat",
            "no-batch-sum", "wrong-axis", "sign", "gamma-outside"} <= seen


def test_classic_slips_are_always_in_the_library():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty]:
            p = problem(seed, difficulty)
            g = upstream(p)
            for i, q in enumerate(p.questions):
                kinds = {m.kind for m in p.target(i).mistakes}
                if q.wrt == "x":
                    assert "bn-constant-stats" in kinds
                    if np.any(g.sum(axis=0) != 0):
                        assert {"forgot-mean-term", "forgot-xhat-term"} <= kinds
                elif q.wrt.startswith("gamma"):
                    assert {"dgamma-no-xhat", "no-batch-sum"} <= kinds
                else:
                    assert "no-batch-sum" in kinds


def test_golden_batch_norm_worked_by_hand():
    """d2 seed 31: x = [-2, -4, -2, -4], γ = 1, g = [1, -2, 2, 3]; μ = -3, σ = 1,
    x̂ = [1, -1, 1, -1]. mean(g) = 1, g·x̂ = [1, 2, 2, -3] so mean(g·x̂) = 1/2;
    dx = g - 1 - x̂/2 = [-0.5, -2.5, 0.5, 2.5]; dγ = 2, dβ = 4.
    Treating μ and σ as constants gives γ·g/σ = g."""
    p = problem(31, 2)
    assert p.inputs()["x"].tolist() == [-2, -4, -2, -4]
    assert p.inputs()["gamma_0"] == 1
    assert upstream(p)[:, 0].tolist() == [1, -2, 2, 3]
    assert grade(p, "[-0.5, -2.5, 0.5, 2.5]", 0).correct
    assert grade(p, "[1, -2, 2, 3]", 0).mistake == "bn-constant-stats"
    assert grade(p, "[0.5, -1.5, 1.5, 3.5]", 0).mistake == "forgot-mean-term"
    assert grade(p, "[0, -3, 1, 2]", 0).mistake == "forgot-xhat-term"
    assert grade(p, "2", 1).correct and grade(p, "4", 2).correct
    assert grade(p, "[1, 2, 2, -3]", 1).mistake == "no-batch-sum"
    assert grade(p, "4", 1).mistake == "dgamma-no-xhat"


def test_golden_layer_norm_worked_by_hand():
    """d3 seed 71: rows [0, 0, -4, -4] and [3, -1, 3, -1] (μ = -2 and 1, σ = 2 both),
    γ = [1, 1, 1, 0.5], g = [[-3, 3, 2, 1], [-1, 3, 0, 3]]. Row 0: ĝ = [-3, 3, 2, 0.5],
    mean(ĝ) = 0.625, mean(ĝ·x̂) = -0.625, so dx = [-3, 3, 0.75, -0.75]/2; row 1 likewise.
    γ applied after the centring instead gives [[-1.5, 1.5, 0.25, -0.125], [-0.25, 0, 0.25, 0]];
    statistics over the batch (per column) give dγ = [2, 0, -2, 2] instead of [-4, 0, -2, -4]."""
    p = problem(71, 3)
    assert p.inputs()["x"].tolist() == [[0, 0, -4, -4], [3, -1, 3, -1]]
    assert p.inputs()["gamma"].tolist() == [1, 1, 1, 0.5]
    assert grade(p, "[[-1.5, 1.5, 0.375, -0.375], [-0.25, 0.375, 0.25, -0.375]]", 0).correct
    wrong = grade(p, "[[-1.5, 1.5, 0.25, -0.125], [-0.25, 0, 0.25, 0]]", 0)
    assert wrong.mistake == "gamma-outside"
    assert grade(p, "[-4, 0, -2, -4]", 1).correct
    assert grade(p, "[2, 0, -2, 2]", 1).mistake == "wrong-axis"
    assert grade(p, "[-4, 6, 2, 4]", 2).correct
    assert grade(p, "[3, 5]", 2).mistake == "wrong-axis"  # summed over each row's features


# -- 4. its own expected text is accepted ---------------------------------------------------------
def test_expected_text_is_accepted():
    assert_expected_accepted(problem(seed, seed % 3 + 1) for seed in range(1000))


# -- 5. determinism, friendly numbers, layout -------------------------------------------------------
def test_same_seed_same_problem():
    for difficulty in DIFFICULTIES:
        for seed in (0, 5, 99):
            a = generate("batchnorm", seed, difficulty).to_dict()
            b = generate("batchnorm", seed, difficulty).to_dict()
            assert a == b
    assert generate("batchnorm", 1, 2).to_dict() != generate("batchnorm", 2, 2).to_dict()


def _friendly(values) -> bool:
    return all(abs(v) <= 10 and (float(v * 4).is_integer() or float(v * 3).is_integer())
               for v in np.ravel(values))


def test_inputs_are_friendly_and_statistics_simple():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty]:
            p = problem(seed, difficulty)
            x, gamma, beta = params(p)
            g = upstream(p)
            assert _friendly(x) and _friendly(gamma) and _friendly(beta) and _friendly(g)
            assert np.all(gamma > 0)
            axis = 1 if difficulty == 3 else 0
            var = ((x - x.mean(axis=axis, keepdims=True)) ** 2).mean(axis=axis)
            assert np.all(np.sqrt(var) == np.round(np.sqrt(var))) and np.all(var > 0)


def test_each_level_asks_what_it_says():
    for seed in SEEDS[1]:
        p = problem(seed, 1)
        x, _, _ = params(p)
        wrts = [q.wrt for q in p.questions]
        assert x.shape[1] == 1
        if "x" in wrts:  # dx at level 1: four samples, mean(g) = 0, no ∂L/∂β asked
            assert x.shape[0] == 4 and upstream(p).sum() == 0 and wrts == ["x", "gamma_0"]
        else:
            assert x.shape[0] == 2 and wrts == ["gamma_0", "beta_0"]
    for seed in SEEDS[2]:
        p = problem(seed, 2)
        x, _, _ = params(p)
        assert len(p.questions) == 3
        if x.shape[1] == 1:
            assert p.question(0).wrt == "x" and upstream(p).sum() != 0
        else:
            assert x.shape == (4, 2) and p.question(2).shape == (4, 2)
    for seed in SEEDS[3]:
        p = problem(seed, 3)
        assert params(p)[0].shape == (2, 4)
        assert [q.wrt for q in p.questions] == ["x", "gamma", "beta"]
        assert "layernorm" in p.question(0).skills
        assert "normalises each sample over its own 4 features" in p.prompt(0)


def test_questions_have_different_values():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty]:
            p = problem(seed, difficulty)
            texts = [tensor_text(p.target(i).value) for i in range(len(p.questions))]
            assert len(set(texts)) == len(texts), (seed, difficulty, texts)
            assert 2 <= len(texts) <= 3


def test_text_fits_80_columns_and_states_the_conventions():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty][:100]:
            p = problem(seed, difficulty)
            body = blocks_text(p.display())
            assert "ε = 0" in body and "biased" in body
            for i in range(len(p.questions)):
                text = body + "\n" + blocks_text(p.solution(i))
                assert max(len(line) for line in text.splitlines()) <= 80, (seed, difficulty)
                assert len(p.hints(i)) == 2


def test_worked_solution_ends_at_the_answer():
    """Each group's last line in the ∂L/∂x solution is that group's slice of the answer."""
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[difficulty][:100]:
            p = problem(seed, difficulty)
            for i, q in enumerate(p.questions):
                text = blocks_text(p.solution(i))
                value = np.asarray(p.target(i).value)
                assert text.rstrip().endswith(p.expected_text(i)) or value.ndim == 2
                if q.wrt != "x":
                    continue
                got = [line.split("→ ")[1] for line in text.splitlines() if "→" in line]
                if value.ndim == 1:
                    want = [value]
                elif difficulty == 2:
                    want = list(value.T)
                else:
                    want = list(value)
                assert got == [tensor_text(w) for w in want], (seed, difficulty)


def test_registered_and_light_to_import():
    fam = families()["batchnorm"]
    assert fam.order == 50 and fam.difficulties == (1, 2, 3) and fam.forms == ("number",)
    code = ("import sys, quizforge.drill.families.batchnorm; "
            "assert 'numpy' not in sys.modules and 'sympy' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_json_inputs_and_skills():
    d = problem(3, 2).to_dict()
    assert d["family"] == "batchnorm" and set(d["inputs"]) >= {"x"}
    skills = {s for diff in DIFFICULTIES for seed in SEEDS[diff][:30]
              for s in problem(seed, diff).skills}
    assert skills == {"bn-dbeta", "bn-dgamma", "bn-dx", "layernorm"}
