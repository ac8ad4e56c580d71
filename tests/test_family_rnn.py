"""The rnn drill family, checked against references that share none of its code.

- tests/golden/rnn.json: every answer of 200 seeds per difficulty, computed with PyTorch
  (tests/golden/make_rnn.py: torch.nn.RNN and torch.nn.LSTM set to the problem's weights,
  autograd), and torch's own forward values, which must be the h_t a problem shows;
- finite differences of the problem's `loss_scalar` at its `inputs`;
- a learner who works each answer from the problem's JSON and the values the screen shows,
  with a 3-significant-figure number after every step (written here, not taken from the
  family);
- problems worked by hand (the numbers are in the comments);
- the grading engine on every named mistake and on the problem's own expected answer.
"""

from __future__ import annotations

import math
import re
from collections import Counter

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

from quizforge.drill.check import grade
from quizforge.drill.family import generate
from quizforge.drill.model import blocks_text, fmt_exact, tensor_text
from quizforge.drill.rounding import round_sig

FAMILY = "rnn"
DIFFICULTIES = (1, 2, 3)
GOLDEN = load_golden(FAMILY)
SEEDS = range(200)
SOME = range(0, 200, 4)  # for the slower checks: 50 seeds per difficulty
problem, as_json = cached_family(FAMILY)


# -- 1. PyTorch's answers (golden file) ----------------------------------------------------------
def test_golden_file_covers_200_seeds_per_difficulty():
    assert_golden_covers_200_seeds(GOLDEN)


def test_every_answer_matches_pytorch():
    for g in GOLDEN["problems"]:
        d = as_json(g["seed"], g["difficulty"])
        assert d["setup"] == g["setup"], g["seed"]
        assert {q["wrt"] for q in d["questions"]} == set(g["answers"]), g["seed"]
        for q in d["questions"]:
            assert np.allclose(q["value"], g["answers"][q["wrt"]], rtol=1e-9, atol=1e-12), \
                (g["seed"], g["difficulty"], q["wrt"])


def test_the_shown_forward_values_are_what_torch_computes():
    """The h_t on the screen are exact: torch.nn.RNN, run on the JSON's W, U, b, h0 and x,
    gives them to 1e-12; the LSTM's new cell is f·c_prev + i·g in torch too."""
    for g in GOLDEN["problems"]:
        d = as_json(g["seed"], g["difficulty"])
        if d["setup"] == "rnn":
            assert np.allclose(d["forward"]["h"], g["forward"]["h"], rtol=0, atol=1e-12)
        else:
            assert math.isclose(d["forward"]["c"], g["forward"]["c"], abs_tol=1e-12)


# -- 2. finite differences of the loss ------------------------------------------------------------
def test_answers_match_finite_differences_of_the_loss_scalar():
    for difficulty in DIFFICULTIES:
        for seed in SOME:
            p = problem(seed, difficulty)
            for i, q in enumerate(p.questions):
                if q.wrt not in p.inputs():
                    continue  # ∂h₂/∂h₀ is not a gradient of L (torch checks it)
                fd = fd_float(p, q.wrt)
                assert np.allclose(p.target(i).value, fd, rtol=1e-5, atol=1e-7), \
                    (seed, difficulty, q.wrt)


# -- 3. the numbers on the screen are fair --------------------------------------------------------
def _shown(text: str, name: str) -> list[float]:
    """The numbers after 'name ≈ ' in a problem's text: 0.347 or [0.347, −1.2]."""
    m = re.search(re.escape(name) + r" ≈ (\[[^\]]*\]|[−\-0-9.]+)", text)
    assert m, name
    return [float(t.replace("−", "-")) for t in re.findall(r"[−\-]?[0-9.]+", m.group(1))]


def test_rounded_u_and_b_reproduce_the_shown_h():
    """U and b are shown to 3 decimals; with those, the forward pass gives every h_t to the
    digits shown (the h_t are never more than 2 decimals)."""
    for difficulty in (1, 2):
        for seed in SEEDS:
            d = as_json(seed, difficulty)
            text = d["prompt"]
            U, b = np.array(_shown(text, "U")), np.array(_shown(text, "b"))
            n = U.size
            W = np.array(d["inputs"]["W"], dtype=float).reshape(n, n)
            h = np.array(d["inputs"]["h0"], dtype=float).reshape(n)
            for t, x in enumerate(d["inputs"]["x"]):
                h = np.tanh(W @ h + U * x + b)
                shown = np.array(d["forward"]["h"][t], dtype=float).reshape(n)
                assert np.all(np.abs(h - shown) < 0.005), (seed, difficulty, t, h, shown)
                assert np.all(np.round(shown, 2) == shown)


def test_the_lstm_shows_tanh_of_the_new_cell_to_two_decimals():
    for seed in SEEDS:
        d = as_json(seed, 3)
        c = d["inputs"]["f"] * d["inputs"]["c_prev"] + d["inputs"]["i"] * d["inputs"]["g"]
        assert math.isclose(c, d["forward"]["c"], abs_tol=1e-12)
        assert d["forward"]["tanh_c_shown"] == round(math.tanh(c), 2)
        assert f"≈ {fmt_exact(round(math.tanh(c), 2)).replace('-', '−')}" in d["prompt"] \
            or f"≈ {round(math.tanh(c), 2):.2f}".replace("-", "−") in d["prompt"]


def r(v: float) -> float:
    return float(round_sig(float(v)))


def rnn_learner(d: dict, index: int):
    """BPTT from the JSON and the shown h_t, rounding every number written to 3 figures."""
    inp, wrt = d["inputs"], d["questions"][index]["wrt"]
    n = d["pytorch"]["hidden_size"]
    W = np.array(inp["W"], dtype=float).reshape(n, n)
    h0 = np.array(inp["h0"], dtype=float).reshape(n)
    hs = [np.array(h, dtype=float).reshape(n) for h in d["forward"]["h"]]
    x = inp["x"]
    if d["loss"] == "last-mse":
        ups = [np.zeros(n), hs[1] - np.array(inp["y"], dtype=float).reshape(n)]
    elif d["loss"] == "last-linear":
        ups = [np.zeros(n), np.array(inp["v"], dtype=float).reshape(n)]
    else:
        y = np.array(inp["y"], dtype=float).reshape(2, n)
        ups = [hs[0] - y[0], hs[1] - y[1]]
    R = np.vectorize(r)
    delta2 = R(ups[1] * (1 - hs[1] ** 2))
    g1 = R(ups[0] + R(W.T @ delta2))
    delta1 = R(g1 * (1 - hs[0] ** 2))
    answer = {
        "W": R(R(np.outer(delta1, h0)) + R(np.outer(delta2, hs[0]))),
        "U": R(R(delta1 * x[0]) + R(delta2 * x[1])),
        "b": R(delta1 + delta2),
        "h0": R(W.T @ delta1),
    }
    if wrt == "dh2/dh0":
        w = W[0, 0]
        return r(r(w * (1 - hs[1][0] ** 2)) * r(w * (1 - hs[0][0] ** 2)))
    a = answer[wrt]
    return float(a.ravel()[0]) if n == 1 else a


def lstm_learner(d: dict, index: int) -> float:
    """The LSTM step from the JSON and the shown tanh(c_t), 3 figures at every step."""
    inp, wrt = d["inputs"], d["questions"][index]["wrt"]
    k = d["forward"]["tanh_c_shown"]
    o = inp["o"]
    dh = r(r(o * k) - inp["y"]) if d["loss"] == "last-mse" else inp["dh"]
    dc = r(r(r(dh * o) * r(1 - r(k * k))) + inp.get("dc", 0.0))
    return {"o": r(dh * k), "f": r(dc * inp["c_prev"]), "i": r(dc * inp["g"]),
            "g": r(dc * inp["i"]), "c_prev": r(dc * inp["f"])}[wrt]


def learner(p, index: int):
    d = as_json(p.seed, p.difficulty)
    return (rnn_learner if d["setup"] == "rnn" else lstm_learner)(d, index)


def test_a_learner_working_from_the_screen_with_three_figures_is_accepted():
    def same(answer, t, key):
        assert np.allclose(answer, t.value, rtol=0.02, atol=1e-3), (*key, answer, t.value)

    assert_rounding_learner_accepted(
        (problem(s, d) for d in DIFFICULTIES for s in SEEDS), learner, same, rate=1.0)


# -- 4. problems worked by hand ------------------------------------------------------------------
def test_a_scalar_problem_worked_by_hand():
    """Seed 1, difficulty 1: W = −1, h₀ = 0.5, h₁ = 0.8, h₂ = 0.5, loss at every step with
    y₁ = 0.5, y₂ = 1. δ₂ = (0.5 − 1)·(1 − 0.25) = −0.375; g₁ = (0.8 − 0.5) + (−1)(−0.375)
    = 0.675; δ₁ = 0.675·0.36 = 0.243. ∂L/∂W = 0.243·0.5 + (−0.375)·0.8 = −0.1785;
    ∂L/∂b = 0.243 − 0.375 = −0.132; ∂h₂/∂h₀ = (−1)(0.75)·(−1)(0.36) = 0.27."""
    d = as_json(1, 1)
    assert d["inputs"]["W"] == -1 and d["inputs"]["h0"] == 0.5 and d["forward"]["h"] == [0.8, 0.5]
    assert d["loss"] == "every-mse" and d["inputs"]["y"] == [0.5, 1]
    values = {q["wrt"]: q["value"] for q in d["questions"]}
    assert math.isclose(values["W"], -0.1785) and math.isclose(values["b"], -0.132)
    assert "h0" not in values and math.isclose(values["dh2/dh0"], 0.27)


def test_a_vector_problem_worked_by_hand():
    """Seed 3, difficulty 2: W = [[−1, −0.5], [−1, 1]], h₀ = [−0.5, 0.8], h₁ = [0.8, 0.6],
    h₂ = [−0.4, −0.5], L = vᵀh₂ with v = [−1, 2]. δ₂ = [−1·0.84, 2·0.75] = [−0.84, 1.5];
    g₁ = Wᵀδ₂ = [0.84 − 1.5, 0.42 + 1.5] = [−0.66, 1.92]; δ₁ = [−0.66·0.36, 1.92·0.64]
    = [−0.2376, 1.2288]. ∂L/∂W = δ₁h₀ᵀ + δ₂h₁ᵀ = [[0.1188 − 0.672, −0.19008 − 0.504],
    [−0.6144 + 1.2, 0.98304 + 0.9]]; ∂L/∂b = δ₁ + δ₂ = [−1.0776, 2.7288]."""
    d = as_json(3, 2)
    assert d["inputs"]["W"] == [[-1, -0.5], [-1, 1]] and d["inputs"]["v"] == [-1, 2]
    assert d["inputs"]["h0"] == [-0.5, 0.8] and d["forward"]["h"] == [[0.8, 0.6], [-0.4, -0.5]]
    values = {q["wrt"]: np.array(q["value"]) for q in d["questions"]}
    assert np.allclose(values["W"], [[-0.5532, -0.69408], [0.5856, 1.88304]])
    assert np.allclose(values["b"], [-1.0776, 2.7288])


def test_an_lstm_step_worked_by_hand():
    """Seed 4, difficulty 3, redrawn by hand: every gate gradient is ∂L/∂c_t times the other
    factor of its product, and ∂L/∂c_{t−1} = ∂L/∂c_t·f."""
    for seed in SOME:
        d = as_json(seed, 3)
        inp = d["inputs"]
        c = inp["f"] * inp["c_prev"] + inp["i"] * inp["g"]
        h = inp["o"] * math.tanh(c)
        dh = h - inp["y"] if d["loss"] == "last-mse" else inp["dh"]
        dc = dh * inp["o"] * (1 - math.tanh(c) ** 2) + inp.get("dc", 0.0)
        want = {"o": dh * math.tanh(c), "f": dc * inp["c_prev"], "i": dc * inp["g"],
                "g": dc * inp["i"], "c_prev": dc * inp["f"]}
        for q in d["questions"]:
            assert math.isclose(q["value"], want[q["wrt"]], rel_tol=1e-12), (seed, q["wrt"])


# -- 5. every named mistake is refused and named -------------------------------------------------
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_every_named_mistake_is_refused_and_named(difficulty):
    for seed in SOME:
        p = problem(seed, difficulty)
        for i in range(len(p.questions)):
            for m, _ in named_mistakes(p, i, (seed, difficulty)):
                if not hasattr(m.value, "shape"):  # typed with 3 figures too
                    v = grade(p, f"{m.value:.3g}", i)
                    assert not v.correct, (seed, difficulty, i, m.kind)


NEED = {1: {"last-step-only", "pre-activation-derivative", "no-tanh-derivative",
            "no-recurrent-path", "intermediate-loss-forgotten", "sign", "one-step-only",
            "factors-added", "w-forgotten"},
        2: {"last-step-only", "pre-activation-derivative", "no-recurrent-path",
            "intermediate-loss-forgotten", "no-transpose", "transposed"},
        3: {"pre-activation-derivative", "h-for-tanh", "dropped-cell-path", "dropped-h-path",
            "forget-gate-dropped", "gate-pre-activation", "swapped-i-g", "new-cell-used",
            "tanh-forgotten", "output-gate-dropped", "sign"}}


def test_the_mistakes_an_interviewer_looks_for_are_named():
    for difficulty in DIFFICULTIES:
        seen = {m.kind for s in SEEDS for p in [problem(s, difficulty)]
                for i in range(len(p.questions)) for m in p.target(i).mistakes}
        assert NEED[difficulty] <= seen, NEED[difficulty] - seen


def test_every_problem_names_its_lesson():
    """Summing over time on ∂L/∂W; 1 − h² (not 1 − a²) wherever a tanh is crossed; the
    earlier loss term when the loss is at every step; the cell path of an LSTM."""
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            p, d = problem(seed, difficulty), as_json(seed, difficulty)
            for i, q in enumerate(p.questions):
                kinds = {m.kind for m in p.target(i).mistakes}
                need = set()
                if q.wrt == "W":
                    need = {"last-step-only", "pre-activation-derivative"}
                    if d["loss"] == "every-mse":
                        need.add("intermediate-loss-forgotten")
                if q.wrt in ("h0", "dh2/dh0", "f"):
                    need.add("pre-activation-derivative")
                if q.wrt == "c_prev":
                    need.add("forget-gate-dropped")
                    if d["loss"] == "middle":
                        need.add("dropped-cell-path")
                assert need <= kinds, (seed, difficulty, q.wrt, need - kinds)


# -- 6. own expected answer, determinism, JSON, screens, zeros -----------------------------------
def test_expected_text_is_accepted():
    assert_expected_accepted(problem(s, d) for d in DIFFICULTIES for s in SEEDS)


def test_same_seed_same_problem():
    for difficulty in DIFFICULTIES:
        for seed in range(5):
            assert generate(FAMILY, seed, difficulty).to_dict() == problem(seed, difficulty) \
                .to_dict()


def test_json_carries_the_inputs_and_the_pytorch_mapping():
    for difficulty in DIFFICULTIES:
        for seed in SOME:
            d = as_json(seed, difficulty)
            assert d["family"] == FAMILY and d["loss_scalar"]
            if d["setup"] == "rnn":
                assert {"W", "U", "b", "h0", "x"} <= set(d["inputs"])
                assert d["pytorch"]["module"] == "torch.nn.RNN"
                assert d["pytorch"]["hidden_size"] == (1 if difficulty == 1 else 2)
            else:
                assert {"i", "f", "g", "o", "c_prev"} <= set(d["inputs"])
                assert d["pytorch"]["module"] == "torch.nn.LSTM"
            for q in d["questions"]:
                assert q["shape"] == list(np.shape(q["value"]))


def test_no_answer_is_zero_and_no_two_answers_have_the_same_size():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            p = problem(seed, difficulty)
            values = [np.abs(np.asarray(p.target(i).value, dtype=float))
                      for i in range(len(p.questions))]
            assert all(v.min() >= 0.01 for v in values), (seed, difficulty)
            for i in range(len(values)):
                for j in range(i + 1, len(values)):
                    assert values[i].shape != values[j].shape or not np.allclose(
                        values[i], values[j], rtol=0.006), (seed, difficulty, i, j)
                assert p.question(i).skills and len(p.hints(i)) == 2


def test_every_kind_of_question_and_loss_appears():
    for difficulty in DIFFICULTIES:
        wrts = Counter(q["wrt"] for s in SEEDS for q in as_json(s, difficulty)["questions"])
        losses = Counter(as_json(s, difficulty)["loss"] for s in SEEDS)
        want = {1: {"W", "U", "b", "h0", "dh2/dh0"}, 2: {"W", "U", "b", "h0"},
                3: {"o", "f", "i", "g", "c_prev"}}[difficulty]
        assert set(wrts) == want and min(wrts.values()) >= 25, wrts
        assert min(losses.values()) >= 40, losses


def test_body_and_solution_fit_the_screen_and_end_with_the_answer():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            p = problem(seed, difficulty)
            for i in range(len(p.questions)):
                sol = blocks_text(p.solution(i)).splitlines()
                assert sol[0] == "Formula:" and "Numbers:" in sol
                answer = re.split(r" [=≈] ", sol[-1])[-1].replace("−", "-")
                assert grade(p, answer, i).correct, (seed, difficulty, i, sol[-1])
            assert_fits_screen(p)


def test_no_solution_gives_away_a_later_answer():
    """A question's worked solution never shows the answer of a question asked after it."""
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            p = problem(seed, difficulty)
            for i in range(len(p.questions)):
                shown = blocks_text(p.solution(i)).replace("−", "-")
                for j in range(i + 1, len(p.questions)):
                    for later in (tensor_text(p.target(j).value),
                                  tensor_text(-p.target(j).value)):  # nor up to its sign
                        assert f"= {later}" not in shown, (seed, difficulty, i, j, later)


def test_registered_and_cheap_to_import():
    registered(FAMILY)
    # importing the module costs nothing; generating a problem uses numpy, never SymPy
    numpy_on_import, _, sympy = modules_loaded(FAMILY, 2)
    assert (numpy_on_import, sympy) == (False, False)
