"""The conv drill family, checked against references that share none of its code:

- tests/golden/conv.json: every answer of 200 seeds per difficulty, computed with PyTorch
  (tests/golden/make_conv.py: F.conv1d / F.conv2d with autograd, nn.Conv1d / nn.Conv2d on a
  zeros tensor for the sizes), from the problems' JSON only;
- a learner written here with numpy who works from the JSON as im2col does (a matrix of
  windows: y = X·w + b, ∂L/∂w = Xᵀ·G, ∂L/∂x by adding G[i]·w back onto window i);
- finite differences of the problem's own `loss_scalar` for ∂L/∂w, ∂L/∂x, ∂L/∂b;
- hand-worked goldens (the deck's worked 1-D example, PyTorch's size formula);
- the grading engine on every named mistake and on the problem's own expected answer.
"""

from __future__ import annotations

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

from quizforge.drill.check import grade, near
from quizforge.drill.families import conv as C
from quizforge.drill.family import generate
from quizforge.drill.model import blocks_text, tensor_text

FAMILY = "conv"
DIFFICULTIES = (1, 2, 3)
GOLDEN = load_golden(FAMILY)
SEEDS = range(200)
SIZES = ("L_out", "H_out")
problem, as_json = cached_family(FAMILY)


def all_problems():
    return (problem(s, d) for d in DIFFICULTIES for s in SEEDS)


# -- 1. PyTorch's answers (golden file) ----------------------------------------------------------
def test_golden_file_covers_200_seeds_per_difficulty():
    assert_golden_covers_200_seeds(GOLDEN)


def test_every_answer_matches_pytorch():
    for g in GOLDEN["problems"]:
        d = as_json(g["seed"], g["difficulty"])
        assert d["variant"] == g["variant"], g
        asks = {"size": ["L_out", "H_out"], "forward": ["output"], "bias": []}[d["asks"]]
        wrts = [q["wrt"] for q in d["questions"]]
        assert wrts[-3 if d["asks"] == "bias" else -2:] == ["weight", "input"] + \
            (["bias"] if d["asks"] == "bias" else [])
        assert d["asks"] == "bias" or wrts[0] in asks
        assert {q["wrt"] for q in d["questions"]} == set(g["answers"]), g
        for q in d["questions"]:
            ref = np.asarray(g["answers"][q["wrt"]], dtype=float)
            assert list(ref.shape) == q["shape"], (g["seed"], q["wrt"])
            assert np.array_equal(np.asarray(q["value"], dtype=float), ref), (g, q["wrt"])


# -- 2. hand-worked goldens ----------------------------------------------------------------------
def _layer(x, w, b, G, stride=1, padding=0, channels=1):
    x, w, G = (np.asarray(a, dtype=float) for a in (x, w, G))
    S = x.shape[1:] if channels > 1 else x.shape
    K = w.shape[1:] if channels > 1 else w.shape
    xs = x.reshape(channels, *S)
    ws = w.reshape(channels, *K)
    return C._Layer(channels, tuple(S), tuple(K), stride, padding,
                    {(c, *i): float(xs[(c, *i)]) for c in range(channels)
                     for i in np.ndindex(*S)},
                    {(c, *i): float(ws[(c, *i)]) for c in range(channels)
                     for i in np.ndindex(*K)},
                    float(b), {i: float(G[i]) for i in np.ndindex(*G.shape)})


def test_the_decks_worked_example_by_hand():
    """autograd-architectures' conv-backward-numeric: x = (1, 2, 3, 4), w = (1, −1),
    G = (1, 0, 2): ∂L/∂w = (1 + 0 + 6, 2 + 0 + 8) = (7, 10); ∂L/∂x = (1, −1, 2, −2);
    y = (1 − 2, 2 − 3, 3 − 4) + b."""
    L = _layer([1, 2, 3, 4], [1, -1], 5, [1, 0, 2])
    assert [C._dw(L)[(0, u)] for u in range(2)] == [7, 10]
    assert [C._dx(L)[(0, j)] for j in range(4)] == [1, -1, 2, -2]
    assert list(C._forward(L)[0].values()) == [4, 4, 4]


def test_stride_two_leaves_an_input_without_gradient():
    """x of 6, k = 3, s = 2: windows start at 0 and 2 (⌊(6 − 3)/2⌋ + 1 = 2), so x[5] is in
    no window and its gradient is 0; x[2] is in both: G[0]·w[2] + G[1]·w[0]."""
    L = _layer([1, 2, 3, 4, 5, 6], [1, 2, 3], 0, [1, 10], stride=2)
    assert L.O == (2,)
    assert [C._dx(L)[(0, j)] for j in range(6)] == [1, 2, 3 + 10, 20, 30, 0]
    assert [C._dw(L)[(0, u)] for u in range(3)] == [1 + 30, 2 + 40, 3 + 50]


def test_padding_is_cropped_from_the_input_gradient():
    """x = (1, 2), w = (1, 1), padding 1: y = (1, 3, 2); every x[j] is in two windows."""
    L = _layer([1, 2], [1, 1], 0, [1, 2, 3], padding=1)
    assert list(C._forward(L)[0].values()) == [1, 3, 2]
    assert [C._dx(L)[(0, j)] for j in range(2)] == [3, 5]


def test_pytorch_output_size_formula():
    assert C.conv_out(32, 3, 2, 1) == 16  # the deck's conv-output-size card
    assert C.conv_out(224, 7, 2, 3) == 112  # ResNet's first conv
    assert C.conv_out(32, 3, 2, 1, 2) == 15  # ⌊(32 + 2 − 4 − 1)/2⌋ + 1
    assert C.conv_out(24, 5) == 20


def test_a_pinned_problem():
    """Seed 1, difficulty 1, worked by hand: x = (1, 1, 2, −3, −2, −2), w = (1, 2), b = −2,
    G = (−1, −1, 0, 2, −1). ∂L/∂w₀ = −1 − 1 + 0 − 6 + 2 = −6, ∂L/∂w₁ = −1 − 2 + 0 − 4 + 2 =
    −5; ∂L/∂x₁ = G₀w₁ + G₁w₀ = −2 − 1 = −3; ∂L/∂b = −1 − 1 + 0 + 2 − 1 = −1."""
    d = as_json(1, 1)
    assert d["inputs"] == {"input": [1, 1, 2, -3, -2, -2], "weight": [1, 2], "bias": -2,
                           "grad_output": [-1, -1, 0, 2, -1]}
    assert d["asks"] == "bias"
    assert [q["expected"] for q in d["questions"]] == [
        "[-6, -5]", "[-1, -3, -2, 2, 3, -2]", "-1"]


# -- 3. an im2col learner, and finite differences of the loss ------------------------------------
def im2col_answers(d: dict) -> dict:
    """Every answer from the JSON, worked the way im2col lays it out."""
    conv, inp = d["conv"], d["inputs"]
    c, k = conv["in_channels"], tuple(conv["kernel_size"])
    s, p = conv["stride"], conv["padding"]
    x = np.asarray(inp["input"], dtype=float)
    x = x.reshape(c, *x.shape[-len(k):])
    w = np.asarray(inp["weight"], dtype=float).reshape(c, *k)
    G = np.asarray(inp["grad_output"], dtype=float)
    xp = np.pad(x, [(0, 0)] + [(p, p)] * len(k))
    out = G.shape
    starts = list(np.ndindex(*out))

    def window(i):
        return tuple([slice(None)] + [slice(a * s, a * s + kk) for a, kk in zip(i, k)])

    X = np.stack([xp[window(i)].ravel() for i in starts])  # one row per window
    y = (X @ w.ravel() + inp["bias"]).reshape(out)
    dw = (X.T @ G.ravel()).reshape(w.shape)
    dxp = np.zeros_like(xp)
    for i, g in zip(starts, G.ravel()):
        dxp[window(i)] += g * w
    dx = dxp[tuple([slice(None)] + [slice(p, p + n) for n in x.shape[1:]])]
    squeeze = (lambda a: a[0]) if c == 1 else (lambda a: a)
    out = {"output": y, "weight": squeeze(dw), "input": squeeze(dx), "bias": G.sum()}
    q = d.get("size_question")
    if q:
        out["L_out"] = out["H_out"] = (q["input_size"] + 2 * q["padding"]
                                       - q["dilation"] * (q["kernel_size"] - 1) - 1) \
            // q["stride"] + 1
    return out


def test_an_im2col_learner_gets_the_same_answers_and_is_accepted():
    def same(answer, t, key):
        assert np.array_equal(np.asarray(answer, dtype=float),
                              np.asarray(t.value, dtype=float)), (*key, answer, t.value)

    assert_rounding_learner_accepted(
        all_problems(),
        lambda p, i: im2col_answers(as_json(p.seed, p.difficulty))[p.question(i).wrt],
        same, rate=1.0)


def test_gradients_match_finite_differences_of_the_loss_scalar():
    for p in all_problems():
        for i, q in enumerate(p.questions):
            if q.wrt in ("weight", "input", "bias"):
                fd = fd_float(p, q.wrt)
                assert np.allclose(np.asarray(p.target(i).value, dtype=float), fd,
                                   atol=1e-5), (p.seed, p.difficulty, q.wrt)


# -- 4. every named mistake is refused and named -------------------------------------------------
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_every_named_mistake_is_refused_and_named(difficulty):
    for seed in SEEDS:
        p = problem(seed, difficulty)
        for i in range(len(p.questions)):
            for m, _ in named_mistakes(p, i, (seed, difficulty)):
                if np.shape(m.value) == ():  # also as a person types it, 3 figures
                    v = grade(p, f"{m.value:.3g}", i)
                    assert not v.correct and v.mistake is not None, (seed, i, m.kind)


# the mistakes the issue lists, each named somewhere at its difficulty
NEED = {1: {"kernel-flipped", "kernel-not-flipped", "weight-grad-flipped", "bias-mean",
            "plus-one-forgotten", "bias-forgotten"},
        2: {"kernel-flipped", "kernel-not-flipped", "padding-not-cropped", "padding-ignored",
            "padding-once", "dilation-ignored", "bias-mean", "plus-one-forgotten"},
        3: {"stride-ignored", "floor-forgotten", "kernel-not-flipped", "one-channel",
            "channels-summed", "bias-mean", "plus-one-forgotten", "padding-not-cropped"}}


def test_the_mistakes_an_interviewer_looks_for_are_named():
    for difficulty in DIFFICULTIES:
        seen = {m.kind for s in SEEDS for p in [problem(s, difficulty)]
                for i in range(len(p.questions)) for m in p.target(i).mistakes}
        assert NEED[difficulty] <= seen, NEED[difficulty] - seen


def test_every_problem_names_its_lessons():
    for p in all_problems():
        d = as_json(p.seed, p.difficulty)
        kinds = {q.wrt: {m.kind for m in p.target(i).mistakes}
                 for i, q in enumerate(p.questions)}
        assert "weight-grad-flipped" in kinds["weight"]
        assert "kernel-not-flipped" in kinds["input"]
        if "output" in kinds:
            assert {"kernel-flipped", "bias-forgotten"} <= kinds["output"]
        if "bias" in kinds:
            assert "bias-mean" in kinds["bias"]
        if d["conv"]["stride"] > 1:
            assert all("stride-ignored" in k for w, k in kinds.items()
                       if w in ("output", "weight", "input")), p.seed
        if d["conv"]["padding"]:
            assert "padding-not-cropped" in kinds["input"]
            assert "output" not in kinds or "padding-ignored" in kinds["output"]
        size = kinds.get("L_out", kinds.get("H_out"))
        if size is not None:
            assert "plus-one-forgotten" in size
            if d["size_question"]["stride"] > 1:
                assert {"floor-forgotten", "stride-ignored"} <= size
            if d["size_question"]["dilation"] > 1:
                assert "dilation-ignored" in size


def test_the_unflipped_kernel_is_told_apart_on_screen():
    """The lesson typed by a candidate: y from the kernel flipped, and ∂L/∂x from the kernel
    as it is, are refused with their names; numpy's full convolution of G with w is right."""
    for seed in range(60):
        p = problem(seed, 1)
        d = as_json(seed, 1)
        x, w = np.asarray(d["inputs"]["input"], float), np.asarray(d["inputs"]["weight"], float)
        G, b = np.asarray(d["inputs"]["grad_output"], float), d["inputs"]["bias"]
        wrts = [q.wrt for q in p.questions]
        k = len(w)
        if "output" in wrts:
            conv_y = np.array([x[i:i + k] @ w[::-1] for i in range(len(G))]) + b
            assert grade(p, tensor_text(conv_y), wrts.index("output")).mistake == \
                "kernel-flipped"
        i = wrts.index("input")
        unflipped = np.convolve(G, w[::-1])  # G correlated with w, in full
        assert grade(p, tensor_text(unflipped), i).mistake == "kernel-not-flipped"
        assert grade(p, tensor_text(np.convolve(G, w)), i).correct


# -- 5. own expected answer, determinism, JSON, screens, zeros -----------------------------------
def test_expected_text_is_accepted():
    assert_expected_accepted(all_problems())


def test_same_seed_same_problem():
    for difficulty in DIFFICULTIES:
        for seed in range(10):
            assert generate(FAMILY, seed, difficulty).to_dict() == \
                problem(seed, difficulty).to_dict()


def test_every_variant_appears_at_its_difficulty():
    seen = {d: Counter(as_json(s, d)["variant"] for s in SEEDS) for d in DIFFICULTIES}
    assert set(seen[1]) == {"1d"}
    assert set(seen[2]) == {"2d", "1d-padding"}
    assert set(seen[3]) == {"1d-stride", "1d-channels"}
    for d in DIFFICULTIES:
        assert min(seen[d].values()) >= 60, seen[d]
        asks = Counter(as_json(s, d)["asks"] for s in SEEDS)
        assert set(asks) == {"size", "forward", "bias"} and min(asks.values()) >= 50, asks


def test_json_carries_the_inputs_by_pytorch_names():
    for difficulty in DIFFICULTIES:
        for seed in SEEDS[:60]:
            d = as_json(seed, difficulty)
            assert set(d["inputs"]) == {"input", "weight", "bias", "grad_output"}
            assert d["conv"]["function"] == ("conv2d" if d["variant"] == "2d" else "conv1d")
            assert ("size_question" in d) == (d["asks"] == "size")
            if d["asks"] == "size":
                assert set(d["size_question"]) == {"module", "input_size", "kernel_size",
                                                   "stride", "padding", "dilation"}
            for q in d["questions"]:
                if q["wrt"] in ("input", "weight", "bias"):
                    assert q["shape"] == list(np.shape(d["inputs"][q["wrt"]]))
                if q["wrt"] == "output":
                    assert q["shape"] == list(np.shape(d["inputs"]["grad_output"]))
            assert len(d["questions"]) == 3


def test_zero_answers_stay_rare():
    """No question's answer is 0 (or all zeros); zero entries inside tensors are few (a
    stride-2 input in no window gets a deliberate 0)."""
    for difficulty in DIFFICULTIES:
        entries = zeros = 0
        for seed in SEEDS:
            p = problem(seed, difficulty)
            for i in range(len(p.questions)):
                v = np.asarray(p.target(i).value, dtype=float)
                assert np.any(v != 0), (seed, difficulty, i)
                entries += v.size
                zeros += int(np.sum(v == 0))
        assert zeros / entries < 0.12, (difficulty, zeros / entries)


def test_body_and_solution_fit_the_screen_and_end_with_the_answer():
    for p in all_problems():
        for i in range(len(p.questions)):
            sol = blocks_text(p.solution(i)).splitlines()
            assert "Numbers:" in sol and "Formula:" in sol
            assert len(p.hints(i)) == 2 and p.question(i).skills
        assert_fits_screen(p)


def test_no_solution_gives_away_a_later_answer():
    """Question i's worked solution never shows a later question's answer line."""
    for p in all_problems():
        for i in range(len(p.questions)):
            shown = blocks_text(p.solution(i))
            for j in range(i + 1, len(p.questions)):
                t = p.target(j)
                assert f"{t.label} = " not in shown, (p.seed, p.difficulty, i, j)
                if np.shape(t.value):
                    assert C._label(t.label, t.value)[0] not in shown


def test_registered_and_cheap_to_import():
    fam = registered(FAMILY)
    # importing the module costs nothing; generating a problem uses numpy (its arrays), never
    # SymPy
    assert modules_loaded(FAMILY, 3) == (False, True, False)
