"""The attention drill family, checked against references that share none of its code.

- tests/golden/attention.json: every answer of 200 seeds per difficulty, computed with PyTorch
  (tests/golden/make_attention.py: torch.nn.functional.scaled_dot_product_attention and
  autograd's .backward(grad_output), from the problem's JSON inputs only);
- finite differences of the problem's own `loss_scalar` (Σ G⊙O written out over the inputs);
- a learner written here with numpy, who works each answer from the JSON inputs and rounds
  every number written down to 3 significant figures;
- a problem worked by hand (below);
- the grading engine on every named mistake and on the problem's own expected answer.
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
from drill_ref import (
    assert_fits_screen,
    assert_expected_accepted,
    assert_golden_covers_200_seeds,
    assert_rounding_learner_accepted,
    cached_family,
    fd_float,
    load_golden,
    modules_loaded,
    named_mistakes,
    registered,
)

from quizforge.drill.check import grade, near
from quizforge.drill.family import generate
from quizforge.drill.model import blocks_text, matrix_lines, tensor_text
from quizforge.drill.rounding import round_sig

FAMILY = "attention"
DIFFICULTIES = (1, 2, 3)
GOLDEN = load_golden(FAMILY)
SEEDS = range(200)
QUESTIONS = {1: [("output", "value", "attn_weight", "scores", qk) for qk in ("query", "key")],
             2: [("output", "value", "scores", qk) for qk in ("query", "key")],
             3: [("output", "value", "scores", "key")]}
problem, as_json = cached_family(FAMILY)


def every():
    return (problem(s, d) for d in DIFFICULTIES for s in SEEDS)


# -- 1. PyTorch's answers (golden file) ----------------------------------------------------------
def test_golden_file_covers_200_seeds_per_difficulty():
    assert_golden_covers_200_seeds(GOLDEN)


def test_every_answer_matches_pytorch():
    for g in GOLDEN["problems"]:
        d = as_json(g["seed"], g["difficulty"])
        assert [q["wrt"] for q in d["questions"]] == list(g["answers"]), g["seed"]
        for q in d["questions"]:
            ref = np.asarray(g["answers"][q["wrt"]])
            assert np.allclose(q["value"], ref, rtol=1e-9, atol=1e-12), (g["seed"], q["wrt"])


# -- 2. a problem worked by hand -----------------------------------------------------------------
def test_a_problem_worked_by_hand():
    """Seed 0, difficulty 1. Q = [[0, 0, 1, −1], [−1, 1, 0, −1]], K = 2 ln 2·[[−1, 1, −1, −1],
    [0, 1, −1, −1]], V = [[−1, −1], [−2, −1]], G = [[2, −2], [−2, −1]].
    E = Q·(K/(2 ln 2))ᵀ = [[0, 0], [3, 2]] and S = Q·Kᵀ/2 = ln 2·E, so e^S rows ∝ [1, 1] and
    [8, 4]: P = [[1/2, 1/2], [2/3, 1/3]].
    O = P·V = [[−3/2, −1], [−2/3 − 2/3, −1]] = [[−1.5, −1], [−4/3, −1]].
    ∂L/∂V = Pᵀ·G = [[1 − 4/3, −1 − 2/3], [1 − 2/3, −1 − 1/3]] = [[−1/3, −5/3], [1/3, −4/3]].
    ∂L/∂P = G·Vᵀ = [[−2 + 2, −4 + 2], [2 + 1, 4 + 1]] = [[0, −2], [3, 5]].
    Row sums c = [½·0 + ½·(−2), ⅔·3 + ⅓·5] = [−1, 11/3]; dS = P⊙(dP − c) =
    [[½·1, ½·(−1)], [⅔·(−2/3), ⅓·(4/3)]] = [[1/2, −1/2], [−4/9, 4/9]].
    ∂L/∂K = dSᵀ·Q/2: row 0 = (½·[0, 0, 1, −1] − 4/9·[−1, 1, 0, −1])/2 = [2/9, −2/9, 1/4, −1/36],
    and row 1 is its negative (the columns of dS sum to… each row of dS sums to 0, and T = 2)."""
    d = as_json(0, 1)
    assert d["integers"] == {"carrier": "key", "factor": "2 ln 2",
                             "query": [[0, 0, 1, -1], [-1, 1, 0, -1]],
                             "key": [[-1, 1, -1, -1], [0, 1, -1, -1]]}
    assert d["inputs"]["value"] == [[-1, -1], [-2, -1]]
    assert d["inputs"]["grad_output"] == [[2, -2], [-2, -1]]
    assert [q["expected"] for q in d["questions"]] == [
        "[[-1.5, -1], [-4/3, -1]]", "[[-1/3, -5/3], [1/3, -4/3]]", "[[0, -2], [3, 5]]",
        "[[0.5, -0.5], [-4/9, 4/9]]", "[[2/9, -2/9, 0.25, -1/36], [-2/9, 2/9, -0.25, 1/36]]"]


# -- 3. the loss text: its finite differences are the input gradients ---------------------------
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_input_gradients_are_finite_differences_of_the_loss(difficulty):
    for seed in SEEDS[:40]:
        p = problem(seed, difficulty)
        for i, q in enumerate(p.questions):
            if q.wrt in p.inputs():
                fd = fd_float(p, q.wrt)
                assert np.allclose(p.target(i).value, fd, rtol=1e-5, atol=1e-6), (seed, q.wrt)


# -- 4. a learner who keeps 3 significant figures ------------------------------------------------
def r(v):
    return np.vectorize(lambda x: float(round_sig(float(x))))(v) if np.ndim(v) else \
        float(round_sig(float(v)))


def rdot(a, b) -> float:
    """a·b left to right, every product and running total written with 3 figures."""
    total = 0.0
    for x, y in zip(a, b, strict=True):
        total = r(total + r(x * y))
    return total


def rmm(A, B) -> np.ndarray:
    return np.array([[rdot(row, col) for col in np.asarray(B).T] for row in np.asarray(A)])


def learner_heads(d: dict) -> dict[str, list]:
    """Per head: P (rounded), dP, dS, from the JSON inputs with numpy."""
    inp, flags = d["inputs"], d["sdpa"]
    Q = np.asarray(inp["query"], dtype=float)
    K = np.asarray(inp["key"], dtype=float)
    V = np.asarray(inp["value"], dtype=float)
    G = np.asarray(inp["grad_output"], dtype=float)
    Qs, Gs = (list(Q), list(G)) if Q.ndim == 3 else ([Q], [G])
    out = {"Q": Qs, "G": Gs, "K": K, "V": V, "P": [], "dP": [], "dS": []}
    for q, g in zip(Qs, Gs, strict=True):
        S = q @ K.T * flags["scale"]
        if flags["is_causal"]:
            S = np.where(np.triu(np.ones_like(S), 1) > 0, -np.inf, S)
        e = np.exp(S - S.max(axis=1, keepdims=True))
        P = r(e / e.sum(axis=1, keepdims=True))
        dP = g @ V.T
        c = np.array([rdot(P[i], dP[i]) for i in range(len(P))])
        out["P"].append(P)
        out["dP"].append(dP)
        out["dS"].append(r(P * r(dP - c[:, None])))
    return out


def learner(p, index: int):
    h = learner_heads(as_json(p.seed, p.difficulty))
    wrt = p.question(index).wrt
    many = len(h["Q"]) > 1

    def pack(mats):
        return np.stack(mats) if many else mats[0]

    def add(mats):
        total = mats[0]
        for m in mats[1:]:
            total = r(total + m)
        return total

    if wrt == "output":
        return pack([rmm(P, h["V"]) for P in h["P"]])
    if wrt == "value":
        return add([rmm(P.T, g) for P, g in zip(h["P"], h["G"], strict=True)])
    if wrt == "attn_weight":
        return pack(h["dP"])
    if wrt == "scores":
        return pack(h["dS"])
    if wrt == "query":
        return pack([r(rmm(dS, h["K"]) / 2) for dS in h["dS"]])
    assert wrt == "key"
    return add([r(rmm(dS.T, q) / 2) for dS, q in zip(h["dS"], h["Q"], strict=True)])


def test_a_learner_rounding_to_three_figures_is_accepted():
    def same(answer, t, key):  # the same quantity, rounding aside
        assert np.allclose(answer, t.value, rtol=0.05, atol=0.02), key

    assert_rounding_learner_accepted(every(), learner, same)


def test_the_learner_types_fractions_or_decimals_and_both_are_right():
    for seed in SEEDS[:40]:
        for difficulty in DIFFICULTIES:
            p = problem(seed, difficulty)
            for i in range(len(p.questions)):
                for text in (tensor_text(learner(p, i), exact=False), p.expected_text(i)):
                    assert grade(p, text, i).correct, (seed, difficulty, i, text)


# -- 5. every named mistake is refused and named -------------------------------------------------
def typed3(value) -> str:
    """A tensor as a person types it with 3 significant figures."""
    def walk(v):
        return "[" + ", ".join(walk(x) for x in v) + "]" if isinstance(v, list) else f"{v:.3g}"
    return walk(np.asarray(value, dtype=float).tolist())


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_every_named_mistake_is_refused_and_named(difficulty):
    for seed in SEEDS[:50]:
        p = problem(seed, difficulty)
        for i in range(len(p.questions)):
            library = p.target(i).mistakes
            for m, _ in named_mistakes(p, i, (seed, difficulty)):
                same_value = {k.kind for k in library if near(m.value, k.value, 0.006)}
                v = grade(p, typed3(m.value), i)
                assert not v.correct and v.mistake in same_value, (seed, i, m.kind, v.mistake)


# the issue's named mistakes, per question, in every problem
NEED = {"output": {"no-scale", "wrong-axis"}, "value": {"p-not-transposed"},
        "attn_weight": {"transposed"}, "scores": {"wrong-axis", "no-jacobian"},
        "query": {"no-scale-backward", "k-vs-kt"}, "key": {"no-scale-backward", "k-vs-kt"}}


def test_every_problem_names_its_lessons():
    for p in every():
        for i, q in enumerate(p.questions):
            need = set(NEED[q.wrt])
            if p.difficulty == 2:
                need.add("mask-ignored" if q.wrt == "output" else "masked-gradient")
            if p.difficulty == 3 and q.wrt in ("value", "key"):
                need.add("one-head")
            kinds = {m.kind for m in p.target(i).mistakes}
            assert need <= kinds, (p.seed, p.difficulty, q.wrt, need - kinds)


def test_the_named_mistakes_read_as_the_issue_lists_them():
    """Forgetting 1/√d, the Jacobian column-wise, gradient through a masked entry, Pᵀ vs P,
    Kᵀ vs K: typed as a candidate would, each gets its own message."""
    p = problem(0, 1)  # the problem worked by hand above
    P = np.array([[1 / 2, 1 / 2], [2 / 3, 1 / 3]])
    G = np.array([[2, -2], [-2, -1]])
    v = grade(p, tensor_text(P @ G), 1)
    assert v.mistake == "p-not-transposed" and "Pᵀ·G" in v.feedback
    dS = np.array([[1 / 2, -1 / 2], [-4 / 9, 4 / 9]])
    Q = np.array([[0, 0, 1, -1], [-1, 1, 0, -1]])
    assert grade(p, tensor_text(dS.T @ Q), 4).mistake == "no-scale-backward"
    v = grade(p, tensor_text(dS @ Q / 2), 4)
    assert v.mistake == "k-vs-kt" and "dSᵀ·Q" in v.feedback
    dP = np.array([[0, -2], [3, 5]])
    col = P * (dP - (P * dP).sum(axis=0, keepdims=True))
    assert grade(p, tensor_text(col), 3).mistake == "wrong-axis"
    causal = next(problem(s, 2) for s in SEEDS)
    i = [q.wrt for q in causal.questions].index("scores")
    leak = next(m for m in causal.target(i).mistakes if m.kind == "masked-gradient")
    assert np.any(np.triu(np.asarray(leak.value), 1) != 0)  # it puts gradient above the diagonal
    assert grade(causal, tensor_text(leak.value), i).mistake == "masked-gradient"


# -- 6. own expected answer, determinism, JSON, screens, zeros -----------------------------------
def test_expected_text_is_accepted():
    assert_expected_accepted(every())


def test_same_seed_same_problem():
    for difficulty in DIFFICULTIES:
        for seed in range(6):
            assert generate(FAMILY, seed, difficulty).to_dict() == as_json(seed, difficulty)


def test_json_carries_the_inputs_by_pytorch_names():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[:60]:
            d = as_json(seed, difficulty)
            assert set(d["inputs"]) == {"query", "key", "value", "grad_output"}
            assert d["sdpa"] == {"is_causal": difficulty == 2, "scale": 0.5,
                                 "enable_gqa": difficulty == 3}
            T = 3 if difficulty == 2 else 2
            heads = (2,) if difficulty == 3 else ()
            shapes = {k: np.shape(v) for k, v in d["inputs"].items()}
            assert shapes == {"query": (*heads, T, 4), "key": (T, 4), "value": (T, 2),
                              "grad_output": (*heads, T, 2)}
            assert tuple(q["wrt"] for q in d["questions"]) in QUESTIONS[difficulty]
            for q in d["questions"]:
                assert q["shape"] == list(np.shape(q["value"]))
            # the carrier is 2 ln b times the integers shown; the other input is the integers
            carrier = d["integers"]["carrier"]
            b = int(d["integers"]["factor"].removeprefix("2 ln "))
            assert np.allclose(d["inputs"][carrier],
                               2 * np.log(b) * np.asarray(d["integers"][carrier]))
            other = "key" if carrier == "query" else "query"
            assert d["inputs"][other] == d["integers"][other]
            assert {"query": "query", "key": "key"}[carrier] in [q["wrt"] for q in
                                                                  d["questions"]]


def test_the_softmax_is_a_whiteboard_fraction():
    """Each row of P (from the JSON inputs, with numpy) is a fraction with denominator ≤ 6."""
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            for P in learner_heads(as_json(seed, difficulty))["P"]:
                for row in P:
                    den = [Fraction(float(x)).limit_denominator(6) for x in row]
                    assert all(abs(float(f) - x) < 2e-3 for f, x in zip(den, row)), row
                    assert max(f.denominator for f in den) <= 6


def test_answers_are_short_fractions():
    for p in every():
        for i in range(len(p.questions)):
            for x in np.ravel(p.target(i).value):
                f = Fraction(float(x)).limit_denominator(100)
                assert abs(float(f) - x) < 1e-9, (p.seed, p.difficulty, i, x)


def test_zero_is_never_a_whole_answer_and_rarely_an_entry():
    for difficulty in DIFFICULTIES:
        zero_answers, entries, zeros = 0, 0, 0
        for seed in SEEDS:
            p = problem(seed, difficulty)
            for i, q in enumerate(p.questions):
                v = np.asarray(p.target(i).value, dtype=float)
                zero_answers += not np.any(v)
                if difficulty == 2 and q.wrt == "scores":
                    v = v[np.tril(np.ones_like(v)) > 0][1:]  # masked entries and row 0: 0
                elif difficulty == 2 and q.wrt == "query":
                    v = v[1:]  # the first query sees only itself: no gradient
                entries += v.size
                zeros += int(np.sum(v == 0))
        assert zero_answers == 0
        assert zeros / entries < 0.1, (difficulty, zeros / entries)


def test_causal_mask_zeros_are_where_the_mask_puts_them():
    for seed in SEEDS[:50]:
        p = problem(seed, 2)
        for i, q in enumerate(p.questions):
            v = np.asarray(p.target(i).value)
            if q.wrt == "scores":
                assert np.all(np.triu(v, 1) == 0) and np.all(v[0] == 0)
            if q.wrt == "query":
                assert np.all(v[0] == 0)


def test_questions_differ_and_have_hints_and_skills():
    for p in every():
        values = [p.target(i).value for i in range(len(p.questions))]
        assert not any(near(a, b, 0.006) for i, a in enumerate(values) for b in values[i + 1:])
        for i, q in enumerate(p.questions):
            assert q.skills and len(p.hints(i)) == 2
            assert q.shape == p.target(i).shape
            shape = "×".join(map(str, q.shape))
            assert shape in q.ask


def test_body_and_solution_fit_the_screen_and_end_with_the_answer():
    for p in every():
        for i in range(len(p.questions)):
            sol = blocks_text(p.solution(i)).splitlines()
            assert sol[0] == "Shapes:" and "Formula:" in sol and "Numbers:" in sol
            label = p.target(i).label
            if len(p.target(i).shape) == 2:
                assert sol[-len(p.target(i).value):][0].startswith(f"{label} = ")
            else:
                assert any(line.startswith(f"{label}[1] = ") for line in sol)
        assert_fits_screen(p)


def test_no_solution_gives_away_a_later_answer():
    """A worked solution never shows, as a matrix, the answer of a question asked after it."""
    for p in every():
        for i in range(len(p.questions)):
            shown = blocks_text(p.solution(i))
            for j in range(i + 1, len(p.questions)):
                later = np.asarray(p.target(j).value)
                for mat in (later if later.ndim == 3 else [later]):
                    rows = [re.escape(row.strip("[]⎡⎤⎢⎥⎣⎦ ")) for row in matrix_lines(mat)]
                    pattern = r"\s*[⎤⎥⎦\]]?[^\n]*\n[^\n]*".join(rows)
                    assert not re.search(pattern, shown), (p.seed, p.difficulty, i, j)


def test_registered_and_cheap_to_import():
    fam = registered(FAMILY)
    assert fam.questions == max(len(p.questions) for p in every()) == 5  # --question 0…4
    # importing the module costs nothing; its problems are numpy arrays, never SymPy
    assert modules_loaded(FAMILY, 3) == (False, True, False)
