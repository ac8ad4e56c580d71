"""`linear`: the backward pass of one linear layer Y = X·W + b on a small batch.

X holds one sample per row (N×D), W is D×M and b (M entries) is added to every row. Given
G = ∂L/∂Y (difficulty 1) or a mean squared error (2, and 3 with weight decay on W), the
questions are the three gradients an interviewer asks for: ∂L/∂W = Xᵀ·G (the shape of W),
∂L/∂b = the column sums of G (b is shared by every sample) and ∂L/∂X = G·Wᵀ.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from quizforge.drill.basic import Asked, BasicProblem, fits_screen
from quizforge.drill.families._tensor import (
    Way,
    affine_text,
    all_distinct,
    ask_text,
    band_ways,
    distinct_lines,
    dot_text,
    ints,
    keep_mistakes,
    labelled,
    linear_functional_text,
    mse_g_variants,
    mse_text,
    num,
    rcolsum,
    rmatmul,
    rscale,
    same,
    side_by_side,
    sum_squares_text,
)
from quizforge.drill.family import Family
from quizforge.drill.model import Lines, Mistake, Question, Target, fmt_exact, shape_text

LAMBDAS = (0.5, 0.25, 0.1)  # weight decay strengths: λ·W stays a short decimal


@dataclass(frozen=True)
class _Setup:
    difficulty: int
    X: Any  # N×D
    W: Any  # D×M
    b: Any  # M
    G: Any  # N×M, ∂L/∂Y (given at d1, worked out from the loss at d2/d3)
    T: Any = None  # N×M targets (d2, d3)
    E: Any = None  # Y − T
    lam: float = 0.0  # weight decay (d3)

    @property
    def N(self) -> int:
        return self.X.shape[0]

    @property
    def D(self) -> int:
        return self.X.shape[1]

    @property
    def M(self) -> int:
        return self.W.shape[1]

    @property
    def Y(self) -> Any:
        return self.X @ self.W + self.b

    @property
    def mse(self) -> bool:
        return self.difficulty >= 2


# -- numbers ------------------------------------------------------------------------------------
def _draw(rng: random.Random, difficulty: int) -> _Setup | None:
    import numpy as np

    if difficulty == 1:
        N, D, M = rng.choice((2, 3)), rng.choice((2, 3)), rng.choice((2, 3))
    else:  # the mean runs over N·M ∈ {4, 6} entries, so G = 2(Y − T)/(N·M) is halves or thirds
        N, M = rng.choice(((2, 2), (2, 3), (3, 2)))
        D = rng.choice((2, 3))
    X = ints(rng, (N, D), -2, 3)
    W = ints(rng, (D, M), -2, 2)
    b = ints(rng, (M,), -2, 2)
    if difficulty == 1:
        G = ints(rng, (N, M), -2, 2)
        return _Setup(difficulty, X, W, b, G)
    if difficulty == 2:  # integer errors: G = 2E/(N·M) is halves or thirds
        E = ints(rng, (N, M), -3, 3, nonzero=True)
    else:  # halves in G, so λ·W adds quarters or tenths and nothing uglier
        E = ints(rng, (N, M), -3, 3, nonzero=True) * (N * M) / 4
    T = X @ W + b - E
    if np.abs(T).max() > 9:
        return None
    lam = rng.choice(LAMBDAS) if difficulty == 3 else 0.0
    return _Setup(difficulty, X, W, b, 2 * E / (N * M), T, E, lam)


def _friendly(s: _Setup) -> bool:
    """Numbers worth asking about (checked before any band is worked out): few zeros, three
    different answers, and a transpose that differs from the answer where the shape allows."""
    import numpy as np

    if np.count_nonzero(s.X) < s.X.size - 1 or np.count_nonzero(s.G) < s.G.size - 1:
        return False
    if not (distinct_lines(s.X) and distinct_lines(s.W)):
        return False
    dW, db, dX = s.X.T @ s.G + s.lam * s.W, s.G.sum(axis=0), s.G @ s.W.T
    answers = [dW, db, dX]
    if any(np.count_nonzero(a) < a.size - (a.size >= 4) for a in answers):
        return False
    return all_distinct(answers) and not same(dW, dW.T) and not same(dX, dX.T)


def _teaches(s: _Setup, asked: tuple[Asked, ...]) -> bool:
    """The mistakes that teach the most are there to be named (not lost inside a band)."""
    need = [{"transposed"}, {"no-batch-sum"}, {"transposed"}]
    if s.mse:
        need = [k | {"sign", "missing-1/N", "mse-factor-2"} for k in need]
    if s.difficulty == 3:
        need[0] |= {"no-weight-decay"}
    return all(n <= {m.kind for m in a.target.mistakes}
               for n, a in zip(need, asked, strict=True))


# -- the loss as one scalar expression -----------------------------------------------------------
def _loss_text(s: _Setup) -> str:
    def y(n: int, m: int) -> str:
        return affine_text("X", n, "W", m, "b", s.D)

    if not s.mse:
        return linear_functional_text(s.G, y)
    text = mse_text(y, "T", s.N, s.M)
    if s.lam:
        text += f" + lam/2*({sum_squares_text('W', (s.D, s.M))})"
    return text


# -- what is shown ------------------------------------------------------------------------------
def _body(s: _Setup) -> tuple[Lines, ...]:
    N, D, M = s.N, s.D, s.M
    lines = [f"A linear layer on a batch of N = {N} samples, one sample per row:",
             "  Y = X·W + b      (b is added to every row of X·W)",
             (f"  X: {shape_text((N, D))}   W: {shape_text((D, M))}   b: {shape_text((M,))}"
             f"   Y: {shape_text((N, M))}")]
    if not s.mse:
        lines.append(f"The upstream gradient G = ∂L/∂Y ({shape_text((N, M))}) is given.")
        values = side_by_side([("X", s.X), ("W", s.W), ("b", s.b), ("G", s.G)])
    else:
        lines.append(f"Loss: the mean squared error over all N·M = {N * M} entries of Y,")
        lines.append(f"  L = (1/{N * M})·Σₙ Σₘ (Y[n,m] − T[n,m])²      (targets T: "
                     f"{shape_text((N, M))})")
        if s.lam:
            lines.append(f"  … plus weight decay on W (not on b): L += (λ/2)·Σ W[d,m]²,"
                         f"  λ = {fmt_exact(s.lam)}")
        values = side_by_side([("X", s.X), ("W", s.W), ("b", s.b), ("T", s.T)])
    return (Lines("", tuple(lines)), Lines("Values", tuple(values)))


def _g_lines(s: _Setup) -> list[str]:
    """The worked step from the loss to G = ∂L/∂Y (d2, d3)."""
    NM = s.N * s.M
    out = ["Forward, then the error E = Y − T:"]
    out += side_by_side([("Y", s.Y), ("E", s.E)])
    out += [f"∂L/∂Y = 2·(Y − T)/(N·M) = (2/{NM})·E:"]
    out += labelled("G", s.G)
    return out


# -- the three questions ------------------------------------------------------------------------
def _g_variants(s: _Setup) -> list[tuple[str, str, Any]]:
    return mse_g_variants(s.E, s.N, s.M) if s.mse else []


def _g_compute(s: _Setup, r, way: Way) -> Any:
    """G as a person works it out (d2, d3): the forward pass and the error are small integers
    or halves (nothing to round, so they are not replayed), then the 2/(N·M) factor."""
    return rscale(r, 2, s.N * s.M, s.E, way) if s.mse else s.G


def _ask_dW(s: _Setup) -> Asked:
    import numpy as np

    X, G, W, N, D, M = s.X, s.G, s.W, s.N, s.D, s.M
    value = X.T @ G + s.lam * W

    def compute(r, way):
        dW = rmatmul(r, X.T, _g_compute(s, r, way), way)
        return r(dW + r(s.lam * W)) if s.lam else dW

    lo, hi = band_ways(compute)
    decay = s.lam * W
    # the slips in G first: where two slips give the same numbers, the likelier is named
    candidates = [Mistake(kind, msg, X.T @ Gv + decay) for kind, msg, Gv in _g_variants(s)]
    candidates += [
        Mistake("transposed", f"That is (Xᵀ·G)ᵀ, shaped like Wᵀ; ∂L/∂W has the shape of W, "
                              f"{D}×{M}: Xᵀ ({D}×{N}) times G ({N}×{M}).", value.T),
        Mistake("wrong-order", "G·Xᵀ multiplies in the wrong order (it pairs samples with "
                               "samples); ∂L/∂W = Xᵀ·G.", G @ X.T) if M == D else None,
        Mistake("no-batch-sum", "That is the first sample's share only (x₀ᵀ·g₀); ∂L/∂W adds "
                                "xₙᵀ·gₙ over every sample in the batch.",
                np.outer(X[0], G[0]) + decay),
        Mistake("extra-1/N", f"You divided by N = {N}: any mean over the batch is already in "
                             "G = ∂L/∂Y, so ∂L/∂W = Xᵀ·G with no extra 1/N.",
                X.T @ G / N + decay),
    ]
    if s.lam:
        candidates += [
            Mistake("no-weight-decay", "You left out the weight decay: (λ/2)·Σ W² adds "
                                       f"λ·W = {fmt_exact(s.lam)}·W to ∂L/∂W.", X.T @ G),
            Mistake("decay-factor", "The derivative of (λ/2)·W² is λ·W (the 2 of the square "
                                    "cancels the ½), not (λ/2)·W.", X.T @ G + decay / 2),
        ]
    mistakes = keep_mistakes(value, lo, hi, candidates)

    skills = ("matmul-grad",) + (("mse-grad",) if s.mse else ()) + \
        (("weight-decay",) if s.lam else ())
    q = Question("W", "number", ask_text("∂L/∂W", (D, M), "W"), skills, (D, M))
    target = Target("W", "∂L/∂W", value, lo, hi, mistakes)

    formula = "∂L/∂W = Xᵀ·G" + (" + λ·W" if s.lam else "")
    sol = [Lines("Shapes", ((f"Xᵀ is {D}×{N} and G = ∂L/∂Y is {N}×{M}, so Xᵀ·G is {D}×{M},"
                            " the shape of W."),)),
           Lines("Formula", (formula + "   (entry [d,m] = Σₙ X[n,d]·G[n,m]:",
                             "   every sample adds its own outer product xₙᵀ·gₙ)"))]
    numbers = _g_lines(s) + [""] if s.mse else []
    numbers += side_by_side([("Xᵀ", X.T)] + ([] if s.mse else [("G", G)]))
    numbers.append("")
    numbers.append(f"[0,0]: {dot_text(X[:, 0], G[:, 0])} = {fmt_exact(X[:, 0] @ G[:, 0])}")
    if s.lam:
        numbers += side_by_side([("Xᵀ·G", X.T @ G), (f"λ·W = {fmt_exact(s.lam)}·W", decay)])
    numbers += [""] + labelled("∂L/∂W", value)
    sol.append(Lines("Numbers", tuple(numbers)))

    first = "∂L/∂W = Xᵀ·G: entry [d,m] sums X[n,d]·G[n,m] over the samples n."
    if s.mse:
        first = (f"First G = ∂L/∂Y = 2(Y − T)/{N * M} (the mean runs over {N * M} entries); "
                 "then ∂L/∂W = Xᵀ·G" + (" + λ·W." if s.lam else "."))
    second = (f"Xᵀ is {D}×{N} and G is {N}×{M}, so ∂L/∂W is {D}×{M}; "
              + (f"G's first row is [{', '.join(fmt_exact(g) for g in G[0])}]."
                 if s.mse else f"entry [0,0] = {dot_text(X[:, 0], G[:, 0])}."))
    return Asked(q, target, tuple(sol), (first, second))


def _ask_db(s: _Setup) -> Asked:
    G, N, M = s.G, s.N, s.M
    value = G.sum(axis=0)
    lo, hi = band_ways(lambda r, way: rcolsum(r, _g_compute(s, r, way), way))
    candidates = [Mistake(kind, msg, Gv.sum(axis=0)) for kind, msg, Gv in _g_variants(s)]
    candidates += [
        Mistake("no-batch-sum", f"That is G itself ({N}×{M}); b is shared by every sample, "
                                f"so ∂L/∂b adds the {N} rows of G: one entry per output.", G),
        Mistake("no-batch-sum", f"That is only the first sample's row of G; b is added to all "
                                f"{N} rows of Y, so sum the rows of G.", G[0]),
        Mistake("wrong-axis", "You summed each row (over the outputs); ∂L/∂b[m] sums column m "
                              "of G (over the samples).", G.sum(axis=1)),
        Mistake("extra-1/N", f"You averaged the rows of G (÷{N}); any mean over the batch is "
                             "already inside G, so just add them.", G.mean(axis=0)),
    ]
    if s.lam:
        candidates.append(Mistake("decayed-bias", "The weight decay (λ/2)·Σ W² does not "
                                                  "involve b, so ∂L/∂b has no λ·b term.",
                                  value + s.lam * s.b))
    mistakes = keep_mistakes(value, lo, hi, candidates)

    skills = ("bias-grad",) + (("mse-grad",) if s.mse else ())
    q = Question("b", "number", ask_text("∂L/∂b", (M,), "b"), skills, (M,))
    target = Target("b", "∂L/∂b", value, lo, hi, mistakes)
    sums = [f"m = {m}: {' + '.join(num(g) for g in G[:, m])} = {fmt_exact(value[m])}"
            for m in range(M)]
    numbers = (_g_lines(s) + [""] if s.mse else []) + sums + [""] + labelled("∂L/∂b", value)
    sol = (Lines("Shapes", ((f"b has {M} entries and is added to each of the {N} rows, "
                            f"so ∂L/∂b has {M} entries."),)),
           Lines("Formula", (("∂L/∂b[m] = Σₙ G[n,m]   (the column sums of G: a sum over "
                             "the batch)"),)),
           Lines("Numbers", tuple(numbers)))
    first = ("b reaches every row of Y with local gradient 1, so ∂L/∂b adds up G = ∂L/∂Y "
             "over the batch.")
    if s.lam:
        first += " The weight decay is on W only."
    second = (f"Sum the {N} rows of G (one column per output): the answer has {M} entries"
              + (f"; G = 2(Y − T)/{N * M}." if s.mse else "."))
    return Asked(q, target, sol, (first, second))


def _ask_dX(s: _Setup) -> Asked:
    G, W, N, D, M = s.G, s.W, s.N, s.D, s.M
    value = G @ W.T
    lo, hi = band_ways(lambda r, way: rmatmul(r, _g_compute(s, r, way), W.T, way))
    candidates = [Mistake(kind, msg, Gv @ W.T) for kind, msg, Gv in _g_variants(s)]
    candidates += [
        Mistake("transposed", f"That is (G·Wᵀ)ᵀ = W·Gᵀ; ∂L/∂X has the shape of X, {N}×{D}: "
                              f"G ({N}×{M}) times Wᵀ ({M}×{D}).", value.T),
        Mistake("no-transpose", "You multiplied G by W itself; ∂L/∂X = G·Wᵀ, row n is gₙ "
                                "times W transposed.", G @ W) if M == D else None,
        Mistake("summed-batch", "∂L/∂X has one row per sample: row n is gₙ·Wᵀ for that "
                                "sample alone, nothing is summed over the batch.",
                G.sum(axis=0) @ W.T),
    ]
    mistakes = keep_mistakes(value, lo, hi, candidates)

    skills = ("input-grad",) + (("mse-grad",) if s.mse else ())
    q = Question("X", "number", ask_text("∂L/∂X", (N, D), "X"), skills, (N, D))
    target = Target("X", "∂L/∂X", value, lo, hi, mistakes)
    numbers = (_g_lines(s) + [""] if s.mse else []) + side_by_side(([] if s.mse else [("G", G)]) + [("Wᵀ", W.T)])
    numbers += ["", f"[0,0]: {dot_text(G[0], W[0])} = {fmt_exact(G[0] @ W[0])}", ""]
    numbers += labelled("∂L/∂X", value)
    sol = (Lines("Shapes", ((f"G is {N}×{M} and Wᵀ is {M}×{D}, so G·Wᵀ is {N}×{D}, the "
                            "shape of X."),)),
           Lines("Formula", (("∂L/∂X = G·Wᵀ   (row n: sample n's gradient gₙ sent back "
                             "through W)"),)),
           Lines("Numbers", tuple(numbers)))
    first = "∂L/∂X = G·Wᵀ: each sample's row of G goes back through the weights."
    if s.lam:
        first += " The weight decay does not involve X."
    second = (f"G is {N}×{M} and Wᵀ is {M}×{D}, so ∂L/∂X is {N}×{D}; "
              f"entry [0,0] = G row 0 · W row 0.")
    return Asked(q, target, sol, (first, second))


# -- the family ---------------------------------------------------------------------------------
def generate(seed: int, difficulty: int, form: str) -> BasicProblem:
    from quizforge.drill.families import _grow

    grown = _grow.draw('linear', seed, difficulty, form)  # a new kind (issue 18), or None
    if grown is not None:
        return grown
    rng = random.Random(f"linear/{seed}/{difficulty}")  # str seeds hash the same everywhere
    while True:  # friendly numbers come within a few draws
        s = _draw(rng, difficulty)
        if s is None or not _friendly(s):
            continue
        asked = (_ask_dW(s), _ask_db(s), _ask_dX(s))
        if not _teaches(s, asked):
            continue
        body = _body(s)
        if not fits_screen(body, asked):
            continue
        given: dict[str, Any] = {"X": s.X, "W": s.W, "b": s.b}
        if s.mse:
            given["T"] = s.T
        if s.lam:
            given["lam"] = float(s.lam)
        return BasicProblem("linear", seed, difficulty, form, body, given, _loss_text(s),
                            asked)


FAMILY = Family(
    name="linear",
    summary="Y = X·W + b on a small batch: ∂L/∂W, ∂L/∂b, ∂L/∂X (the shape is part of "
            "the answer)",
    levels={1: "G = ∂L/∂Y given: ∂L/∂W = Xᵀ·G, ∂L/∂b (sum over the batch), ∂L/∂X = G·Wᵀ; "
               "or an embedding's gradient (repeated ids add up)",
            2: "mean squared error: G = 2(Y − T)/(N·M) first, then ∂L/∂W, ∂L/∂b, ∂L/∂X",
            3: "MSE plus weight decay (λ/2)·‖W‖²: ∂L/∂W gains λ·W; ∂L/∂b, ∂L/∂X"},
    generate=generate,
    forms=("number",),
    order=30,
    example="[[1, 2], [3, 4]]",
)
