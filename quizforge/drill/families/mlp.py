"""`mlp`: backprop by hand through two layers with a ReLU between them — the δ recursion.

    Z1 = X·W1 + b1,   H = relu(Z1),   Y = H·W2 + b2,   L = a loss on Y

Going back: G = ∂L/∂Y, dH = G·W2ᵀ, dZ1 = dH ⊙ 1[Z1 > 0], ∂L/∂W1 = Xᵀ·dZ1, ∂L/∂b1 = the column
sums of dZ1, ∂L/∂X = dZ1·W1ᵀ, ∂L/∂W2 = Hᵀ·G. Some pre-activations are always negative (none is
exactly 0), so the ReLU mask changes the answer. Difficulty 1 is one sample with G given;
2 and 3 are a batch of two with a mean squared error.
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
)
from quizforge.drill.family import Family
from quizforge.drill.model import (
    Lines,
    Mistake,
    Question,
    Target,
    fmt_exact,
    shape_text,
    tensor_text,
)

DELTA = ("delta-recursion", "relu-mask")


@dataclass(frozen=True)
class _Setup:
    difficulty: int
    X: Any  # N×D
    W1: Any  # D×K
    b1: Any  # K
    W2: Any  # K×M
    b2: Any  # M
    G: Any  # N×M, ∂L/∂Y (given at d1, worked out from the loss at d2/d3)
    T: Any = None  # N×M targets (d2, d3)
    E: Any = None  # Y − T

    @property
    def N(self) -> int:
        return self.X.shape[0]

    @property
    def D(self) -> int:
        return self.X.shape[1]

    @property
    def K(self) -> int:
        return self.W1.shape[1]

    @property
    def M(self) -> int:
        return self.W2.shape[1]

    @property
    def mse(self) -> bool:
        return self.difficulty >= 2

    @property
    def Z1(self) -> Any:
        return self.X @ self.W1 + self.b1

    @property
    def mask(self) -> Any:
        return (self.Z1 > 0).astype(float)

    @property
    def H(self) -> Any:
        return self.Z1 * self.mask

    @property
    def Y(self) -> Any:
        return self.H @ self.W2 + self.b2

    @property
    def dH(self) -> Any:
        return self.G @ self.W2.T

    @property
    def dZ1(self) -> Any:
        return self.dH * self.mask


# -- numbers ------------------------------------------------------------------------------------
def _draw(rng: random.Random, difficulty: int) -> _Setup | None:
    import numpy as np

    if difficulty == 1:
        N, D, K, M = 1, rng.choice((2, 3)), rng.choice((2, 3)), rng.choice((1, 2))
    elif difficulty == 2:
        N, D, K, M = 2, 2, rng.choice((2, 3)), 1
    else:
        N, D, K, M = 2, rng.choice((2, 3)), rng.choice((2, 3)), 2
    X = ints(rng, (N, D), -2, 2)
    W1 = ints(rng, (D, K), -2, 2)
    b1 = ints(rng, (K,), -1, 1)
    Z1 = X @ W1 + b1
    if np.any(Z1 == 0) or not np.any(Z1 < 0) or not np.all((Z1 > 0).any(axis=1)):
        return None  # the mask must matter, no pre-activation sits on the kink
    if N > 1 and not np.any((Z1 > 0).any(axis=0) & (Z1 < 0).any(axis=0)):
        return None  # some unit is on for one sample and off for the other
    W2 = ints(rng, (K, M), -2, 2)
    b2 = ints(rng, (M,), -1, 1)
    if difficulty == 1:
        return _Setup(difficulty, X, W1, b1, W2, b2, ints(rng, (N, M), -2, 2, nonzero=True))
    E = ints(rng, (N, M), -3, 3, nonzero=True)  # G = 2E/(N·M): integers (d2), halves (d3)
    Y = np.maximum(Z1, 0) @ W2 + b2
    T = Y - E
    if np.abs(T).max() > 9:
        return None
    return _Setup(difficulty, X, W1, b1, W2, b2, 2 * E / (N * M), T, E)


ANSWERS = {"W1": lambda s: s.X.T @ s.dZ1, "b1": lambda s: s.dZ1.sum(axis=0),
           "X": lambda s: s.dZ1 @ s.W1.T, "W2": lambda s: s.H.T @ s.G, "H": lambda s: s.dH}


def _friendly(s: _Setup, wrts: tuple[str, ...]) -> bool:
    """Numbers worth asking about (checked before any band is worked out): few zeros, small
    forward values, three different answers, and the ReLU mask changes dZ1."""
    import numpy as np

    for x in (s.X, s.W1, s.W2):
        if np.count_nonzero(x) < x.size - 1:
            return False
    if not (distinct_lines(s.X) and distinct_lines(s.W1)):
        return False
    if np.abs(s.Z1).max() > 8 or np.abs(s.Y).max() > 12 or same(s.dZ1, s.dH):
        return False
    answers = [ANSWERS[w](s) for w in wrts]
    return all(np.count_nonzero(v) * 3 >= v.size for v in answers) and all_distinct(answers)


def _teaches(s: _Setup, asked: list[Asked]) -> bool:
    """The mistakes that teach the most are there to be named (not lost inside a band)."""
    need = {"sign", "missing-1/N", "mse-factor-2"} if s.mse else set()
    for a in asked:
        kinds = {m.kind for m in a.target.mistakes}
        if "relu-mask" in a.question.skills and "no-relu-mask" not in kinds:
            return False
        if not need <= kinds:
            return False
    return True


# -- the loss as one scalar expression -----------------------------------------------------------
def _loss_text(s: _Setup) -> str:
    def y(n: int, m: int) -> str:
        hidden = [f"relu({affine_text('X', n, 'W1', k, 'b1', s.D)})" for k in range(s.K)]
        return affine_text("", None, "W2", m, "b2", s.K, inputs=hidden)

    return mse_text(y, "T", s.N, s.M) if s.mse else linear_functional_text(s.G, y)


# -- what is shown ------------------------------------------------------------------------------
def _body(s: _Setup) -> tuple[Lines, ...]:
    N, D, K, M = s.N, s.D, s.K, s.M
    who = "one sample (a row)" if N == 1 else f"a batch of N = {N} samples, one per row"
    lines = [f"A two-layer network with a ReLU, on {who}:",
             "  Z1 = X·W1 + b1,   H = relu(Z1),   Y = H·W2 + b2   (b1, b2 added to each row)",
             (f"  X: {shape_text((N, D))}   W1: {shape_text((D, K))}   b1: {K} entries   "
             f"W2: {shape_text((K, M))}   b2: {M}"),
             f"  Z1 and H: {shape_text((N, K))}   Y: {shape_text((N, M))}"]
    if not s.mse:
        lines.append(f"The upstream gradient G = ∂L/∂Y ({shape_text((N, M))}) is given.")
        values = side_by_side([("X", s.X), ("W1", s.W1), ("b1", s.b1), ("W2", s.W2),
                               ("b2", s.b2), ("G", s.G)])
    else:
        lines.append(f"Loss: the mean squared error over all N·M = {N * M} entries of Y,")
        lines.append(f"  L = (1/{N * M})·Σₙ Σₘ (Y[n,m] − T[n,m])²      (targets T: "
                     f"{shape_text((N, M))})")
        values = side_by_side([("X", s.X), ("W1", s.W1), ("b1", s.b1), ("W2", s.W2),
                               ("b2", s.b2), ("T", s.T)])
    return (Lines("", tuple(lines)), Lines("Values", tuple(values)))


def _forward_lines(s: _Setup) -> list[str]:
    out = ["Forward:"] + side_by_side([("Z1", s.Z1), ("H = relu(Z1)", s.H)])
    if s.mse:
        out += side_by_side([("Y", s.Y), ("E = Y − T", s.E)])
        out += [f"∂L/∂Y = 2·(Y − T)/(N·M) = (2/{s.N * s.M})·E:"] + labelled("G", s.G)
    return out


def _backward_lines(s: _Setup, masked: bool = True) -> list[str]:
    out = ["", "Backward: dH = G·W2ᵀ (one row per sample):"]
    out += labelled("dH", s.dH)
    if masked:
        out += ["dZ1 = dH ⊙ 1[Z1 > 0]  (zero where the unit was off):"]
        out += side_by_side([("1[Z1 > 0]", s.mask), ("dZ1", s.dZ1)])
    return out


def _g_compute(s: _Setup, r, way: Way) -> tuple[Any, Any]:
    """(H, G) as a person works them out: the forward pass and the error are small integers
    (nothing to round, so they are not replayed), then (d2, d3) the 2/(N·M) factor."""
    return s.H, (rscale(r, 2, s.N * s.M, s.E, way) if s.mse else s.G)


def _dz1_compute(s: _Setup, r, way: Way) -> Any:
    _, G = _g_compute(s, r, way)
    return rmatmul(r, G, s.W2.T, way) * s.mask


# -- wrong versions of dZ1 that every question through the ReLU shares ---------------------------
def _dz1_variants(s: _Setup) -> list[tuple[str, str, Any]]:
    """(kind, message, dZ1') for the slips people make on the way from G to dZ1."""
    out = [
        ("no-relu-mask", ("You left out the ReLU mask: units with Z1 ≤ 0 were off and pass no "
                         "gradient, so dZ1 = dH ⊙ 1[Z1 > 0] is 0 there."), s.dH),
        ("used-forward-values", ("You multiplied dH by H = relu(Z1); the local gradient of "
                                "the ReLU is its slope 1[Z1 > 0] (1 or 0), not its value."),
         s.dH * s.H),
        ("used-forward-values", ("You used the forward values H where the backward gradient "
                                "dH = G·W2ᵀ belongs."), s.H),
    ]
    if s.mse:
        y_mask = (s.Y > 0).astype(float)
        out.append(("mask-on-wrong-side", ("You masked at the output (where Y ≤ 0), but "
                                          "there is no ReLU after layer 2: the mask "
                                          "1[Z1 > 0] goes on dH, between the layers."),
                    (s.G * y_mask) @ s.W2.T))
    for kind, msg, Gv in mse_g_variants(s.E, s.N, s.M) if s.mse else []:
        out.append((kind, msg, (Gv @ s.W2.T) * s.mask))
    return out


def _skills(*extra: str) -> tuple[str, ...]:
    return DELTA + extra


# -- the questions ------------------------------------------------------------------------------
def _ask_dW1(s: _Setup) -> Asked:
    import numpy as np

    X, dZ1, N, D, K = s.X, s.dZ1, s.N, s.D, s.K
    value = X.T @ dZ1
    lo, hi = band_ways(lambda r, way: rmatmul(r, X.T, _dz1_compute(s, r, way), way))
    candidates = [Mistake(kind, msg, X.T @ v) for kind, msg, v in _dz1_variants(s)]
    candidates += [
        Mistake("transposed", f"That is (Xᵀ·dZ1)ᵀ; ∂L/∂W1 has the shape of W1, {D}×{K}: "
                              f"Xᵀ ({D}×{N}) times dZ1 ({N}×{K}).", value.T),
        Mistake("wrong-order", "You multiplied by X; ∂L/∂W1 = Xᵀ·dZ1 (X transposed on the "
                               "left).", X @ dZ1) if N == D else None,
        Mistake("no-batch-sum", "That is the first sample's share only; ∂L/∂W1 adds "
                                "xₙᵀ·dz1ₙ over both samples.", np.outer(X[0], dZ1[0]))
        if N > 1 else None,
    ]
    lo_hi_mistakes = keep_mistakes(value, lo, hi, candidates)
    q = Question("W1", "number", ask_text("∂L/∂W1", (D, K), "W1"), _skills("matmul-grad"),
                 (D, K))
    numbers = _forward_lines(s) + _backward_lines(s)
    numbers += ["", "∂L/∂W1 = Xᵀ·dZ1:"] + side_by_side([("Xᵀ", X.T)])
    numbers += [f"[0,0]: {dot_text(X[:, 0], dZ1[:, 0])} = {fmt_exact(value[0, 0])}", ""]
    numbers += labelled("∂L/∂W1", value)
    sol = (Lines("Shapes", ((f"G {shape_text((N, s.M))} → dH = G·W2ᵀ {shape_text((N, K))} → "
                            f"dZ1 {shape_text((N, K))} → Xᵀ·dZ1 {shape_text((D, K))}, the "
                            "shape of W1."),)),
           Lines("Formula", ("dH = G·W2ᵀ,   dZ1 = dH ⊙ 1[Z1 > 0],   ∂L/∂W1 = Xᵀ·dZ1",)),
           Lines("Numbers", tuple(numbers)))
    hints = (("The δ recursion: dH = G·W2ᵀ, then dZ1 = dH ⊙ 1[Z1 > 0] (zero where the unit "
             "was off), then ∂L/∂W1 = Xᵀ·dZ1."),
             (f"Z1 = {tensor_text(s.Z1)}: a unit with Z1 ≤ 0 passes no gradient. dH and dZ1 are "
             f"{N}×{K}; ∂L/∂W1 is {D}×{K}."))
    return Asked(q, Target("W1", "∂L/∂W1", value, lo, hi, lo_hi_mistakes), sol, hints)


def _ask_db1(s: _Setup) -> Asked:
    dZ1, N, K = s.dZ1, s.N, s.K
    value = dZ1.sum(axis=0)
    lo, hi = band_ways(lambda r, way: rcolsum(r, _dz1_compute(s, r, way), way))
    candidates = [Mistake(kind, msg, v.sum(axis=0)) for kind, msg, v in _dz1_variants(s)]
    if N > 1:  # with one sample there is no batch to sum over: ∂L/∂b1 is dZ1's one row
        candidates += [
            Mistake("no-batch-sum", f"That is dZ1 itself ({N}×{K}); b1 is shared by every "
                                    "sample, so add the rows of dZ1: one entry per hidden "
                                    "unit.", dZ1),
            Mistake("no-batch-sum", "That is only the first sample's row of dZ1; b1 is added "
                                    "to every row, so sum the rows.", dZ1[0]),
            Mistake("wrong-axis", "You summed each row (over the hidden units); ∂L/∂b1[k] "
                                  "sums column k of dZ1 (over the samples).", dZ1.sum(axis=1)),
        ]
    q = Question("b1", "number", ask_text("∂L/∂b1", (K,), "b1"), _skills("bias-grad"), (K,))
    numbers = _forward_lines(s) + _backward_lines(s)
    if N > 1:
        numbers += ["", "∂L/∂b1 = the column sums of dZ1:"]
        numbers += [f"k = {k}: {' + '.join(num(v) for v in dZ1[:, k])} = "
                    f"{fmt_exact(value[k])}" for k in range(K)]
    else:
        numbers += ["", "One sample: ∂L/∂b1 is the row of dZ1."]
    numbers += [""] + labelled("∂L/∂b1", value)
    rows = f"each of the {N} rows of Z1" if N > 1 else "Z1"
    shapes = f"b1 has {K} entries, added to {rows}, so ∂L/∂b1 has {K} entries."
    sol = (Lines("Shapes", (shapes,)),
           Lines("Formula", ("dH = G·W2ᵀ,   dZ1 = dH ⊙ 1[Z1 > 0],   "
                             + ("∂L/∂b1[k] = Σₙ dZ1[n,k]" if N > 1 else "∂L/∂b1 = dZ1"),)),
           Lines("Numbers", tuple(numbers)))
    hints = ("b1 enters Z1 with local gradient 1, so ∂L/∂b1 is dZ1 = (G·W2ᵀ) ⊙ 1[Z1 > 0]"
             + (", summed over the batch." if N > 1 else " (one sample: nothing to sum)."),
             f"Z1 = {tensor_text(s.Z1)}; dZ1 is {N}×{K}, and the answer has {K} entries.")
    return Asked(q, Target("b1", "∂L/∂b1", value, lo, hi,
                           keep_mistakes(value, lo, hi, candidates)), sol, hints)


def _ask_dX(s: _Setup) -> Asked:
    X, W1, dZ1, N, D, K = s.X, s.W1, s.dZ1, s.N, s.D, s.K
    value = dZ1 @ W1.T
    lo, hi = band_ways(lambda r, way: rmatmul(r, _dz1_compute(s, r, way), W1.T, way))
    candidates = [Mistake(kind, msg, v @ W1.T) for kind, msg, v in _dz1_variants(s)]
    candidates += [
        Mistake("mask-on-wrong-side", "You masked with X > 0 as if the input had gone "
                                      "through a ReLU; the only mask is 1[Z1 > 0], applied "
                                      "to dH before multiplying by W1ᵀ.",
                value * (X > 0)),
        Mistake("transposed", f"That is (dZ1·W1ᵀ)ᵀ; ∂L/∂X has the shape of X, {N}×{D}: "
                              f"dZ1 ({N}×{K}) times W1ᵀ ({K}×{D}).", value.T),
        Mistake("wrong-order", "You multiplied dZ1 by W1 itself; ∂L/∂X = dZ1·W1ᵀ.",
                dZ1 @ W1) if K == D else None,
    ]
    q = Question("X", "number", ask_text("∂L/∂X", (N, D), "X"), _skills("input-grad"), (N, D))
    numbers = _forward_lines(s) + _backward_lines(s)
    numbers += ["", "∂L/∂X = dZ1·W1ᵀ:"] + side_by_side([("W1ᵀ", W1.T)])
    numbers += [f"[0,0]: {dot_text(dZ1[0], W1[0])} = {fmt_exact(value[0, 0])}", ""]
    numbers += labelled("∂L/∂X", value)
    sol = (Lines("Shapes", ((f"dZ1 is {N}×{K} and W1ᵀ is {K}×{D}, so dZ1·W1ᵀ is {N}×{D}, the "
                            "shape of X."),)),
           Lines("Formula", ("dH = G·W2ᵀ,   dZ1 = dH ⊙ 1[Z1 > 0],   ∂L/∂X = dZ1·W1ᵀ",)),
           Lines("Numbers", tuple(numbers)))
    hints = (("Go back through both layers: dH = G·W2ᵀ, dZ1 = dH ⊙ 1[Z1 > 0], then "
             "∂L/∂X = dZ1·W1ᵀ."),
             f"Z1 = {tensor_text(s.Z1)}; dZ1 is {N}×{K}, W1ᵀ is {K}×{D}, so ∂L/∂X is {N}×{D}.")
    return Asked(q, Target("X", "∂L/∂X", value, lo, hi,
                           keep_mistakes(value, lo, hi, candidates)), sol, hints)


def _ask_dW2(s: _Setup) -> Asked:
    import numpy as np

    X, H, G, N, D, K, M = s.X, s.H, s.G, s.N, s.D, s.K, s.M
    value = H.T @ G

    def compute(r, way):
        Hr, Gr = _g_compute(s, r, way)
        return rmatmul(r, Hr.T, Gr, way)

    lo, hi = band_ways(compute)
    candidates = [
        Mistake("used-pre-activation", "You used Z1 where layer 2 sees H = relu(Z1): the "
                                       "negative pre-activations become 0 before W2.",
                s.Z1.T @ G),
        Mistake("transposed", f"That is (Hᵀ·G)ᵀ; ∂L/∂W2 has the shape of W2, {K}×{M}: Hᵀ "
                              f"({K}×{N}) times G ({N}×{M}).", value.T),
        Mistake("wrong-input", "You used X, the input of layer 1; layer 2's input is H, so "
                               "∂L/∂W2 = Hᵀ·G.", X.T @ G) if D == K else None,
        Mistake("no-batch-sum", "That is the first sample's share only; ∂L/∂W2 adds "
                                "hₙᵀ·gₙ over both samples.", np.outer(H[0], G[0]))
        if N > 1 else None,
    ]
    candidates += [Mistake(kind, msg, H.T @ Gv)
                   for kind, msg, Gv in (mse_g_variants(s.E, N, M) if s.mse else [])]
    q = Question("W2", "number", ask_text("∂L/∂W2", (K, M), "W2"), ("matmul-grad",), (K, M))
    numbers = _forward_lines(s) + ["", "∂L/∂W2 = Hᵀ·G:"] + side_by_side([("Hᵀ", H.T)])
    numbers += [f"[0,0]: {dot_text(H[:, 0], G[:, 0])} = {fmt_exact(value[0, 0])}", ""]
    numbers += labelled("∂L/∂W2", value)
    sol = (Lines("Shapes", ((f"Hᵀ is {K}×{N} and G = ∂L/∂Y is {N}×{M}, so Hᵀ·G is {K}×{M}, "
                            "the shape of W2."),)),
           Lines("Formula", (("∂L/∂W2 = Hᵀ·G   (layer 2's input is H = relu(Z1), not X or "
                             "Z1)"),)),
           Lines("Numbers", tuple(numbers)))
    hints = ("Layer 2 is a linear layer with input H: ∂L/∂W2 = Hᵀ·G.",
             (f"First the forward pass: Z1 = {tensor_text(s.Z1)}, so H = {tensor_text(H)}; ∂L/∂W2 is "
             f"{K}×{M}."))
    return Asked(q, Target("W2", "∂L/∂W2", value, lo, hi,
                           keep_mistakes(value, lo, hi, candidates)), sol, hints)


def _ask_dH(s: _Setup) -> Asked:
    G, W2, N, K, M = s.G, s.W2, s.N, s.K, s.M
    value = s.dH
    lo, hi = band_ways(lambda r, way: rmatmul(r, _g_compute(s, r, way)[1], W2.T, way))
    candidates = [
        Mistake("mask-on-wrong-side", "You applied the ReLU mask already: dH is the gradient "
                                      "with respect to H, the ReLU's output; the mask "
                                      "1[Z1 > 0] comes in the next step, from dH to dZ1.",
                value * s.mask),
        Mistake("transposed", f"That is (G·W2ᵀ)ᵀ; dH has the shape of H, {N}×{K}.", value.T),
        Mistake("wrong-order", "You multiplied G by W2 itself; dH = G·W2ᵀ.", G @ W2)
        if M == K else None,
        Mistake("used-forward-values", "You used the forward values H; dH is the gradient "
                                       "G·W2ᵀ that flows back into H.", s.H),
    ]
    candidates += [Mistake(kind, msg, Gv @ W2.T)
                   for kind, msg, Gv in (mse_g_variants(s.E, N, M) if s.mse else [])]
    q = Question("H", "number", ask_text("∂L/∂H", (N, K), "H"), ("delta-recursion",), (N, K))
    numbers = _forward_lines(s) + [""] if s.mse else []
    numbers += side_by_side(([] if s.mse else [("G", G)]) + [("W2ᵀ", W2.T)])
    numbers += [f"[0,0]: {dot_text(G[0], W2[0])} = {fmt_exact(value[0, 0])}", ""]
    numbers += labelled("∂L/∂H", value)
    sol = (Lines("Shapes", ((f"G is {N}×{M} and W2ᵀ is {M}×{K}, so G·W2ᵀ is {N}×{K}, the "
                            "shape of H."),)),
           Lines("Formula", (("∂L/∂H = G·W2ᵀ   (before the ReLU mask: that comes next, "
                             "for dZ1)"),)),
           Lines("Numbers", tuple(numbers)))
    hints = ("H is the input of layer 2, so ∂L/∂H = G·W2ᵀ; the ReLU mask is not part of it.",
             f"G is {N}×{M} and W2ᵀ is {M}×{K}; entry [0,{K - 1}] = G row 0 · W2 row {K - 1}.")
    return Asked(q, Target("H", "∂L/∂H", value, lo, hi,
                           keep_mistakes(value, lo, hi, candidates)), sol, hints)


# ∂L/∂H waits for the batch of 2: for one sample a 1×K answer invites a plain vector
QUESTIONS = {1: (("W1", _ask_dW1), ("b1", _ask_db1), ("W2", _ask_dW2)),
             2: (("W1", _ask_dW1), ("b1", _ask_db1), ("H", _ask_dH)),
             3: (("W1", _ask_dW1), ("b1", _ask_db1), ("X", _ask_dX))}


# -- the family ---------------------------------------------------------------------------------
def generate(seed: int, difficulty: int, form: str) -> BasicProblem:
    from quizforge.drill.families import _grow

    grown = _grow.draw('mlp', seed, difficulty, form)  # a new kind (issue 18), or None
    if grown is not None:
        return grown
    rng = random.Random(f"mlp/{seed}/{difficulty}")  # str seeds hash the same everywhere
    while True:  # friendly numbers come within a few dozen draws
        s = _draw(rng, difficulty)
        if s is None or not _friendly(s, tuple(wrt for wrt, _ in QUESTIONS[difficulty])):
            continue
        asked = [ask(s) for _, ask in QUESTIONS[difficulty]]
        if not _teaches(s, asked):
            continue
        body = _body(s)
        if not fits_screen(body, asked):
            continue
        given: dict[str, Any] = {"X": s.X, "W1": s.W1, "b1": s.b1, "W2": s.W2, "b2": s.b2}
        if s.mse:
            given["T"] = s.T
        return BasicProblem("mlp", seed, difficulty, form, body, given, _loss_text(s),
                            tuple(asked))


FAMILY = Family(
    name="mlp",
    summary="Two layers with a ReLU: the δ recursion back to ∂L/∂W1, ∂L/∂b1, ∂L/∂X",
    levels={1: "one sample, G = ∂L/∂Y given: ∂L/∂W1 and ∂L/∂b1 through the mask, ∂L/∂W2; "
               "or inverted dropout (p = 0.5)",
            2: "a batch of 2, MSE, one output: ∂L/∂W1, ∂L/∂b1, ∂L/∂H (before the mask); "
               "or inverted dropout (p = 0.2)",
            3: "a batch of 2, MSE, two outputs: ∂L/∂W1, ∂L/∂b1, ∂L/∂X"},
    generate=generate,
    forms=("number",),
    order=40,
    example="[[1, 2], [3, 4]]",
)
