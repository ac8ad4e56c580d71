"""`attention`: scaled dot-product attention by hand, the forward pass and the backward pass.

    S = Q·Kᵀ/√d_k      P = softmax(S), each row over the keys      O = P·V

on T = 2 or 3 tokens with d_k = 4 (so √d_k = 2: no √2 on a whiteboard) and d_v = 2. The
upstream gradient G = ∂L/∂O is given (small integers), and the questions are the tensors an
interviewer asks for, each a matrix typed row by row: O, ∂L/∂V = Pᵀ·G, ∂L/∂P = G·Vᵀ,
∂L/∂S through the softmax row Jacobian (dSᵢⱼ = Pᵢⱼ(dPᵢⱼ − Σₖ Pᵢₖ·dPᵢₖ)), and ∂L/∂Q = dS·K/√d_k
or ∂L/∂K = dSᵀ·Q/√d_k.

Whiteboard softmax: one of Q and K is 2·ln b times a matrix of small integers, b = 2 or 3, so
S = ln b · (integer matrix), e^S is a power of b, and every row of P is a fraction with
denominator 2 to 6 ([2/3, 1/3], [1/4, 1/4, 1/2] …). It is the one whose gradient is asked
(∂L/∂Q = dS·K/√d_k holds no Q), so no answer has a logarithm in it.

Difficulty 2 adds a causal mask (masked scores are −∞: zero probability and zero gradient);
difficulty 3 has two query heads sharing one K and V (multi-query attention, PyTorch's
`enable_gqa`), so ∂L/∂K and ∂L/∂V add both heads' contributions.

JSON: `inputs` are named as scaled_dot_product_attention's arguments (`query`, `key`,
`value`) plus `grad_output` (G, what `out.backward(G)` is given); `sdpa` holds `is_causal`,
`scale` and `enable_gqa`. A question's `wrt` is `output` (the forward value O), `value`,
`query`, `key` (their .grad), `attn_weight` (∂L/∂P) or `scores` (∂L/∂S).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from quizforge.drill.basic import SCREEN_WIDTH, Asked, BasicProblem, fits_screen
from quizforge.drill.families._tensor import (
    WAYS,
    answer_template,
    distinct_lines,
    dot_text,
    ints,
    keep_mistakes,
    labelled,
    side_by_side,
)
from quizforge.drill.family import Family
from quizforge.drill.model import Lines, Mistake, Question, Target, fmt_exact, shape_text
from quizforge.drill.rounding import band

DK, DV = 4, 2  # d_k = 4 so that √d_k = 2; d_v = 2 keeps O and ∂L/∂V small
SQRT_DK = 2
ROW_SUMS = {1: {1}, 2: {2, 3, 4, 5}, 3: {3, 4, 5, 6}}  # Σₖ b^(E−min) per row: P's denominators
LN = {2: "0.693", 3: "1.10"}
MAX_DENOMINATOR = 100  # of every entry of every answer
MIXES = 8  # random up/down rounding mixes per way of working (rounding.band's default is 24)

# every kind named somewhere, with what it is for (the tests hold the problems to these)
KINDS = ("no-scale", "wrong-axis", "p-transposed", "mask-ignored", "masked-gradient",
         "p-not-transposed", "one-head", "transposed", "wrong-order", "no-jacobian",
         "missing-row-term", "diagonal-only", "scale-too-early", "no-scale-backward",
         "k-vs-kt", "skipped-softmax")


@dataclass(frozen=True)
class _Setup:
    difficulty: int
    T: int
    heads: int  # query heads; at difficulty 3 two heads share K and V
    causal: bool
    base: int  # e^S is a power of base
    asked: str  # "Q" or "K": whose gradient is asked (it carries the 2·ln b)
    Qi: tuple  # per head: T×4 integers (Q = Qi, or 2·ln b·Qi when Q carries the log)
    Ki: Any  # T×4 integers
    V: Any  # T×2
    G: tuple  # per head: T×2, ∂L/∂O

    @property
    def carrier(self) -> str:
        return self.asked  # its own entries never appear in its gradient

    @property
    def factor(self) -> float:
        return 2 * math.log(self.base)

    @property
    def Q(self) -> tuple:
        return tuple(q * self.factor for q in self.Qi) if self.carrier == "Q" else self.Qi

    @property
    def K(self) -> Any:
        return self.Ki * self.factor if self.carrier == "K" else self.Ki

    @property
    def E(self) -> tuple:
        """S = ln b · E per head (E = Qi·Kiᵀ, integers)."""
        return tuple(q @ self.Ki.T for q in self.Qi)

    def allowed(self, i: int, j: int) -> bool:
        return not self.causal or j <= i


# -- exact values, for any softmax a slip may use ---------------------------------------------------
def _softmax_pow(s: _Setup, E: Any, mult: int = 1, axis: int = 1, causal: bool | None = None):
    """softmax of ln b · mult·E over `axis` (1: each row over the keys), masked entries 0."""
    import numpy as np

    causal = s.causal if causal is None else causal
    T = s.T
    w = [[s.base ** (mult * E[i, j]) if (not causal or j <= i) else 0.0 for j in range(T)]
         for i in range(T)]
    if axis == 1:
        out = [[w[i][j] / sum(w[i]) for j in range(T)] for i in range(T)]
    else:
        col = [sum(w[i][j] for i in range(T)) for j in range(T)]
        out = [[w[i][j] / col[j] for j in range(T)] for i in range(T)]
    return np.array(out, dtype=float)


def _pack(s: _Setup, per_head: list) -> Any:
    import numpy as np

    return per_head[0] if s.heads == 1 else np.stack(per_head)


def _dS(P: Any, dP: Any, axis: int = 1) -> Any:
    """P ⊙ (dP − Σ P⊙dP): the sum along each row (axis 1, right) or each column (axis 0)."""
    T = P.shape[0]
    PdP = P * dP
    if axis == 1:
        c = PdP.sum(axis=1).reshape(T, 1)
    else:
        c = PdP.sum(axis=0).reshape(1, T)
    return P * (dP - c)


@dataclass(frozen=True)
class _World:
    """Every tensor of the forward and backward pass, for one choice of P (and of the axis the
    softmax Jacobian sums over): the right one, or the one a slip leads to."""

    P: tuple
    O: Any
    dV: Any
    dP: tuple
    dS: tuple
    dQ: Any
    dK: Any


def _world(s: _Setup, P: tuple, jac_axis: int = 1) -> _World:
    dP = tuple(g @ s.V.T for g in s.G)
    dS = tuple(_dS(p, d, jac_axis) for p, d in zip(P, dP, strict=True))
    dV = P[0].T @ s.G[0]
    dK = dS[0].T @ s.Q[0] / SQRT_DK
    for h in range(1, s.heads):
        dV = dV + P[h].T @ s.G[h]
        dK = dK + dS[h].T @ s.Q[h] / SQRT_DK
    return _World(P, _pack(s, [p @ s.V for p in P]), dV, dP, dS,
                  _pack(s, [d @ s.K / SQRT_DK for d in dS]), dK)


def _right(s: _Setup) -> _World:
    return _world(s, tuple(_softmax_pow(s, e) for e in s.E))


# -- numbers ------------------------------------------------------------------------------------
def _draw(rng: random.Random, difficulty: int) -> _Setup | None:
    """Q and K's integers first (most draws fail the softmax test, cheaply), then V and G."""
    import numpy as np

    T = 2 if difficulty != 2 else 3
    heads = 2 if difficulty == 3 else 1
    causal = difficulty == 2
    asked = "K" if difficulty == 3 else rng.choice("QK")
    base = rng.choice((2, 2, 3))
    Qi = [[[rng.choice((-1, 0, 1)) for _ in range(DK)] for _ in range(T)] for _ in range(heads)]
    Ki = [[rng.choice((-1, 0, 1)) for _ in range(DK)] for _ in range(T)]
    if not _friendly_softmax(Qi, Ki, base, causal):
        return None
    V = ints(rng, (T, DV), -2, 2)
    G = tuple(ints(rng, (T, DV), -2, 2) for _ in range(heads))
    return _Setup(difficulty, T, heads, causal, base, asked,
                  tuple(np.array(q, dtype=float) for q in Qi), np.array(Ki, dtype=float), V, G)


def _friendly_softmax(Qi: list, Ki: list, base: int, causal: bool) -> bool:
    """Every row of P = softmax(ln b·Qi·Kiᵀ) has a small denominator, and some row is not
    uniform."""
    uneven = False
    for q in Qi:
        for i, qrow in enumerate(q):
            row = [sum(a * b for a, b in zip(qrow, krow)) for j, krow in enumerate(Ki)
                   if not causal or j <= i]
            lo = min(row)
            if sum(base ** (e - lo) for e in row) not in ROW_SUMS[len(row)]:
                return False
            uneven = uneven or max(row) > lo
    return uneven


def _friendly(s: _Setup, w: _World) -> bool:
    """Numbers worth asking about, checked before any band is worked out."""
    import numpy as np

    # zeros in Q and K are welcome (shorter dot products), but no row is all zeros, no two
    # rows are equal, and no column of K is all zeros (its ∂L/∂Q column would be 0)
    for m in (*s.Qi, s.Ki):
        rows = m.tolist()
        if any(not any(r) for r in rows) or len({tuple(r) for r in rows}) < len(rows):
            return False
    if not distinct_lines(s.V):
        return False
    if s.heads > 1 and np.array_equal(s.Qi[0], s.Qi[1]):
        return False
    if any(np.count_nonzero(g) < g.size - 1 for g in (*s.G, s.V)):
        return False
    # no asked tensor is mostly zero, beyond the zeros the mask puts there on purpose
    for value, free in _answers(s, w):
        zeros = sum(1 for idx, f in free if f and value[idx] == 0)
        if zeros > sum(1 for _, f in free if f) // 4:
            return False
    # every row of ∂L/∂S that can move does: dP differs along each row
    for dS in w.dS:
        for i in range(s.T):
            if sum(s.allowed(i, j) for j in range(s.T)) > 1 and \
                    all(dS[i, j] == 0 for j in range(s.T)):
                return False
    # with two heads, each head adds something to ∂L/∂V and ∂L/∂K (the lesson is the sum)
    for h in range(1 if s.heads == 1 else s.heads):
        if not any((w.P[h].T @ s.G[h]).ravel()) or not any((w.dS[h].T @ s.Q[h]).ravel()):
            return False
    values = [float(x) for value, _ in _answers(s, w) for x in value.ravel()]
    return max(abs(x) for x in values) <= 20 and all(_short(x) for x in values)


def _short(x: float) -> bool:
    """A fraction with a denominator of at most 100 (so its decimal is short, or it is a
    fraction worth writing as one): 13/16, −0.16, 5/18."""
    f = Fraction(x).limit_denominator(MAX_DENOMINATOR)
    return abs(float(f) - x) < 1e-9


def _answers(s: _Setup, w: _World) -> list[tuple[Any, list[tuple[tuple, bool]]]]:
    """(value, [(index, free)]) of each asked tensor; `free` is False where the mask forces 0
    (masked scores, and the first query's row when it can only attend to itself)."""
    out = []
    for wrt in _questions(s):
        value = _value(w, wrt)
        free = []
        for idx in _indexes(value.shape):
            i = idx[-2] if len(idx) >= 2 else 0
            forced = s.causal and (
                (wrt in ("scores",) and (not s.allowed(i, idx[-1]) or i == 0))
                or (wrt == "query" and i == 0))
            free.append((idx, not forced))
        out.append((value, free))
    return out


def _indexes(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = [()]
    for n in shape:
        out = [(*o, k) for o in out for k in range(n)]
    return out


def _questions(s: _Setup) -> tuple[str, ...]:
    qk = "query" if s.asked == "Q" else "key"
    if s.difficulty == 1:
        return ("output", "value", "attn_weight", "scores", qk)
    if s.difficulty == 2:
        return ("output", "value", "scores", qk)
    return ("output", "value", "scores", "key")


def _value(w: _World, wrt: str) -> Any:
    import numpy as np

    return {"output": lambda: w.O, "value": lambda: w.dV,
            "attn_weight": lambda: w.dP[0] if len(w.dP) == 1 else np.stack(w.dP),
            "scores": lambda: w.dS[0] if len(w.dS) == 1 else np.stack(w.dS),
            "query": lambda: w.dQ, "key": lambda: w.dK}[wrt]()


# -- hand computations (replayed by `band` with every written number rounded) -----------------------
# Plain lists of floats here, not arrays: `band` replays these some thirty times per question.
def _rsum(r, terms: list, way) -> Any:
    """t0 + t1 + … as a person adds them (each running total written down, or one total)."""
    total = terms[0]
    for term in terms[1:]:
        total = r(total + term) if way.running else total + term
    return r(total)


def _rmm(r, A: list, B: list, way) -> list:
    """A·B with each product written down (rounded), then the sums."""
    cols = list(zip(*B))
    return [[_rsum(r, [r(a * b) for a, b in zip(row, col)], way) for col in cols]
            for row in A]


def _radd(r, mats: list, way) -> list:
    """The heads' matrices added entry by entry."""
    return [[_rsum(r, [m[i][j] for m in mats], way) for j in range(len(mats[0][0]))]
            for i in range(len(mats[0]))]


def _r_dS(r, P: list, dP: list, way, expanded: bool) -> list:
    """dS row by row as a person does it: c = Σₖ Pᵢₖ·dPᵢₖ, then Pᵢⱼ·(dPᵢⱼ − c) (or, expanded,
    Pᵢⱼ·dPᵢⱼ − Pᵢⱼ·c)."""
    out = []
    for prow, drow in zip(P, dP):
        pr = [r(p) for p in prow]
        prods = [r(p * d) for p, d in zip(pr, drow)]
        c = _rsum(r, prods, way)
        if expanded:
            out.append([r(pd - r(p * c)) for p, pd in zip(pr, prods)])
        else:
            out.append([r(p * r(d - c)) for p, d in zip(pr, drow)])
    return out


def _plain(s: _Setup, w: _World) -> dict[str, Any]:
    """The numbers a hand computation reads, as nested lists (made once per problem)."""
    return {"V": s.V.tolist(), "K": s.K.tolist(), "G": [g.tolist() for g in s.G],
            "Q": [q.tolist() for q in s.Q], "P": [p.tolist() for p in w.P],
            "dP": [d.tolist() for d in w.dP]}


def _hand(s: _Setup, x: dict, wrt: str, r, way, expanded: bool) -> Any:
    """Question `wrt` worked by hand from the plain numbers `x`, every written number r(…)."""
    import numpy as np

    def out(per_head: list) -> Any:
        return np.array(per_head[0] if s.heads == 1 else per_head, dtype=float)

    P = [[[r(v) for v in row] for row in p] for p in x["P"]]
    if wrt == "output":
        return out([_rmm(r, p, x["V"], way) for p in P])
    if wrt == "value":
        heads = [_rmm(r, [list(c) for c in zip(*p)], g, way) for p, g in zip(P, x["G"])]
        return np.array(_radd(r, heads, way) if len(heads) > 1 else heads[0], dtype=float)
    if wrt == "attn_weight":
        return out(x["dP"])
    dS = [_r_dS(r, p, d, way, expanded) for p, d in zip(x["P"], x["dP"])]
    if wrt == "scores":
        return out(dS)
    half = way.factor_first  # halve dS first, or the product at the end

    def halve(m: list) -> list:
        return [[r(v / SQRT_DK) for v in row] for row in m]

    if wrt == "query":
        K = x["K"]
        return out([_rmm(r, halve(d), K, way) if half else halve(_rmm(r, d, K, way))
                    for d in dS])
    terms = []
    for d, q in zip(dS, x["Q"]):
        dT = [list(c) for c in zip(*d)]
        terms.append(_rmm(r, halve(dT), q, way) if half else halve(_rmm(r, dT, q, way)))
    return np.array(_radd(r, terms, way) if len(terms) > 1 else terms[0], dtype=float)


# -- the mistakes ---------------------------------------------------------------------------------
def _slips(s: _Setup, w: _World) -> dict[str, Any]:
    """The whole forward and backward pass as each slip works it."""
    return {
        "noscale": _world(s, tuple(_softmax_pow(s, e, mult=2) for e in s.E)),
        "colsoft": _world(s, tuple(_softmax_pow(s, e, axis=0) for e in s.E)),
        "coljac": _world(s, w.P, jac_axis=0),
        "unmasked": _world(s, tuple(_softmax_pow(s, e, causal=False) for e in s.E))
        if s.causal else None,
        "one": [_world(replace_heads(s, (h,)), (w.P[h],)) for h in range(s.heads)]
        if s.heads > 1 else None,
    }


def _candidates(s: _Setup, w: _World, slips: dict, wrt: str) -> list[Mistake]:
    """Every slip for question `wrt`, as the value it leads to (in order of likelihood: where
    two slips give the same numbers, the first is named)."""
    noscale, colsoft, coljac = slips["noscale"], slips["colsoft"], slips["coljac"]
    unmasked, one = slips["unmasked"], slips["one"]
    out: list[Mistake] = []
    if wrt == "output":
        out += [
            Mistake("no-scale", f"You left out the 1/√d_k: S = Q·Kᵀ/{SQRT_DK}, so e^S is a "
                    f"power of {s.base}, not of {s.base ** 2}, and P is softer than yours.",
                    noscale.O),
            Mistake("wrong-axis", "You normalized each column of e^S (over the queries); "
                    "softmax runs along each row, over the keys a query attends to, so every "
                    "row of P sums to 1.", colsoft.O),
            Mistake("p-transposed", "That is Pᵀ·V: row i of O mixes the values with query "
                    "i's weights, the row i of P.", _pack(s, [p.T @ s.V for p in w.P])),
        ]
        if unmasked:
            out.append(Mistake("mask-ignored", "You let tokens attend to later tokens: with "
                               "the causal mask, S[i,j] = −∞ for j > i, so P[i,j] = 0 and row "
                               "i only mixes V's first i + 1 rows.", unmasked.O))
        return out
    if wrt == "value":
        out.append(Mistake("p-not-transposed", "That is P·G; ∂L/∂V = Pᵀ·G. V's row j "
                           "reaches every output row i with weight P[i,j], so its gradient "
                           "sums P[i,j]·G[i] over the queries i: column j of P.",
                           sum((p @ g for p, g in zip(w.P[1:], s.G[1:], strict=True)),
                               w.P[0] @ s.G[0])))
        if unmasked:
            out.append(Mistake("masked-gradient", "Gradient flowed through masked entries: "
                               "a masked P[i,j] is 0, so V's later rows get nothing from "
                               "earlier queries.", unmasked.dV))
        if one:
            out += [Mistake("one-head", "Both heads read the same V, so its gradient adds "
                            "the two heads' Pᵀ·G.", o.dV) for o in one]
        out += [
            Mistake("no-scale", f"You left out the 1/√d_k in S = Q·Kᵀ/{SQRT_DK}, so your P "
                    "is wrong.", noscale.dV),
            Mistake("wrong-axis", "Your P normalizes each column; softmax runs along each "
                    "row (over the keys), so every row of P sums to 1.", colsoft.dV),
        ]
        return out
    if wrt == "attn_weight":
        dP = w.dP[0]
        return [
            Mistake("transposed", "That is (G·Vᵀ)ᵀ = V·Gᵀ; ∂L/∂P[i,j] pairs query i's G "
                    "row with value j's row: G·Vᵀ.", dP.T),
            Mistake("wrong-order", "Vᵀ·G pairs the value features with each other; "
                    "∂L/∂P = G·Vᵀ (T×T, like P).", s.V.T @ s.G[0]),
            Mistake("skipped-softmax", "∂L/∂P does not involve P: O = P·V is linear in P, "
                    "so ∂L/∂P = G·Vᵀ.", w.P[0] * dP),
        ]
    if wrt == "scores":
        dP = w.dP
        out += [
            Mistake("wrong-axis", "You summed P⊙dP down each column; the softmax Jacobian "
                    "works along each row: dS[i,j] = P[i,j]·(dP[i,j] − Σₖ P[i,k]·dP[i,k]).",
                    _pack(s, list(coljac.dS))),
            Mistake("no-jacobian", "That is ∂L/∂P = G·Vᵀ; S reaches L through the softmax, "
                    "so multiply by its Jacobian: dS[i,j] = P[i,j]·(dP[i,j] − Σₖ "
                    "P[i,k]·dP[i,k]).", _pack(s, list(dP))),
            Mistake("missing-row-term", "You kept only P⊙dP; every score in a row moves "
                    "every probability of that row, which subtracts Σₖ P[i,k]·dP[i,k] "
                    "inside the bracket.", _pack(s, [p * d for p, d in zip(w.P, dP,
                                                                          strict=True)])),
            Mistake("diagonal-only", "P⊙(1 − P)⊙dP is the Jacobian's diagonal only; the "
                    "off-diagonal −P[i,j]·P[i,k] terms count too.",
                    _pack(s, [p * (1 - p) * d for p, d in zip(w.P, dP, strict=True)])),
            Mistake("scale-too-early", f"∂L/∂S is taken at the scaled scores S = Q·Kᵀ/"
                    f"{SQRT_DK}; the 1/√d_k belongs to ∂L/∂Q and ∂L/∂K, not here.",
                    _pack(s, [d / SQRT_DK for d in w.dS])),
        ]
        if unmasked:
            out.append(Mistake("masked-gradient", "Gradient flowed through masked entries: a "
                               "masked P[i,j] is 0, so dS[i,j] = 0 there, and the first "
                               "query (it sees only itself) gets a zero row.",
                               _pack(s, list(unmasked.dS))))
        out += [
            Mistake("no-scale", f"You left out the 1/√d_k in S = Q·Kᵀ/{SQRT_DK}, so your P "
                    "is wrong.", _pack(s, list(noscale.dS))),
            Mistake("wrong-axis", "Your P normalizes each column; softmax runs along each "
                    "row (over the keys), so every row of P sums to 1.",
                    _pack(s, list(colsoft.dS))),
        ]
        return out
    if wrt == "query":
        K = s.K
        out += [
            Mistake("no-scale-backward", f"You left out the 1/√d_k: S = Q·Kᵀ/{SQRT_DK}, so "
                    f"∂L/∂Q = dS·K/{SQRT_DK}.", w.dQ * SQRT_DK),
            Mistake("k-vs-kt", "That is dSᵀ·K/√d_k. Queries index the rows of S = Q·Kᵀ, "
                    "so ∂L/∂Q = dS·K/√d_k (dSᵀ goes with ∂L/∂K).",
                    _pack(s, [d.T @ K / SQRT_DK for d in w.dS])),
            Mistake("skipped-softmax", "You used ∂L/∂P for ∂L/∂S; go through the softmax "
                    "first: dS = P⊙(dP − Σₖ P⊙dP), then ∂L/∂Q = dS·K/√d_k.",
                    _pack(s, [d @ K / SQRT_DK for d in w.dP])),
            Mistake("wrong-axis", "Your dS sums P⊙dP down each column; the softmax Jacobian "
                    "works along each row.", coljac.dQ),
        ]
        if unmasked:
            out.append(Mistake("masked-gradient", "Gradient flowed through masked entries: "
                               "masked scores get dS = 0, so the first query, which sees "
                               "only itself, gets no gradient at all.", unmasked.dQ))
        out += [
            Mistake("no-scale", f"You left out the 1/√d_k twice: in S (so P is wrong) and "
                    f"in ∂L/∂Q = dS·K/{SQRT_DK}.", noscale.dQ * SQRT_DK),
            Mistake("no-scale", f"You left out the 1/√d_k in S = Q·Kᵀ/{SQRT_DK}, so P and "
                    "dS are wrong.", noscale.dQ),
        ]
        return out
    assert wrt == "key"
    out += [
        Mistake("no-scale-backward", f"You left out the 1/√d_k: S = Q·Kᵀ/{SQRT_DK}, so "
                f"∂L/∂K = dSᵀ·Q/{SQRT_DK}.", w.dK * SQRT_DK),
        Mistake("k-vs-kt", "That is dS·Q/√d_k. K enters S = Q·Kᵀ transposed (keys index the "
                "columns of S), so ∂L/∂K = dSᵀ·Q/√d_k.",
                sum((d @ q / SQRT_DK for d, q in zip(w.dS[1:], s.Q[1:], strict=True)),
                    w.dS[0] @ s.Q[0] / SQRT_DK)),
        Mistake("skipped-softmax", "You used ∂L/∂P for ∂L/∂S; go through the softmax first: "
                "dS = P⊙(dP − Σₖ P⊙dP), then ∂L/∂K = dSᵀ·Q/√d_k.",
                sum((d.T @ q / SQRT_DK for d, q in zip(w.dP[1:], s.Q[1:], strict=True)),
                    w.dP[0].T @ s.Q[0] / SQRT_DK)),
        Mistake("wrong-axis", "Your dS sums P⊙dP down each column; the softmax Jacobian works "
                "along each row.", coljac.dK),
    ]
    if unmasked:
        out.append(Mistake("masked-gradient", "Gradient flowed through masked entries: "
                           "masked scores get dS = 0, so a key gets gradient only from the "
                           "queries at or after its position.", unmasked.dK))
    if one:
        out += [Mistake("one-head", "Both heads read the same K, so its gradient adds the "
                        "two heads' dSᵀ·Q/√d_k.", o.dK) for o in one]
    out += [
        Mistake("no-scale", f"You left out the 1/√d_k twice: in S (so P is wrong) and in "
                f"∂L/∂K = dSᵀ·Q/{SQRT_DK}.", noscale.dK * SQRT_DK),
        Mistake("no-scale", f"You left out the 1/√d_k in S = Q·Kᵀ/{SQRT_DK}, so P and dS "
                "are wrong.", noscale.dK),
    ]
    return out


def replace_heads(s: _Setup, heads: tuple[int, ...]) -> _Setup:
    """The same setup with only some query heads (a slip that forgets the others)."""
    from dataclasses import replace

    return replace(s, heads=len(heads), Qi=tuple(s.Qi[h] for h in heads),
                   G=tuple(s.G[h] for h in heads))


NEEDS = {"output": {"no-scale", "wrong-axis"}, "value": {"p-not-transposed"},
         "attn_weight": {"transposed"}, "scores": {"wrong-axis", "no-jacobian"},
         "query": {"no-scale-backward", "k-vs-kt"}, "key": {"no-scale-backward", "k-vs-kt"}}


def _needs(s: _Setup, wrt: str) -> set[str]:
    need = set(NEEDS[wrt])
    if s.causal:
        need.add("mask-ignored" if wrt == "output" else "masked-gradient")
    if s.heads > 1 and wrt in ("value", "key"):
        need.add("one-head")
    return need


# -- what is shown ------------------------------------------------------------------------------
def _carrier_label(s: _Setup, name: str) -> str:
    return f"{name}/(2 ln {s.base})" if s.carrier == name else name


def _head_items(s: _Setup, name: str, mats: tuple) -> list[tuple[str, Any]]:
    label = _carrier_label(s, name)
    if len(mats) == 1:
        return [(label, mats[0])]
    return [(f"{label}[{h}]", m) for h, m in enumerate(mats)]


def _body(s: _Setup) -> tuple[Lines, ...]:
    T = s.T
    head = "one head" if s.heads == 1 else "two query heads sharing K and V"
    lines = [f"Scaled dot-product attention, {head}, T = {T} tokens,",
             f"d_k = {DK} (so √d_k = {SQRT_DK}) and d_v = {DV}:",
             "  S = Q·Kᵀ/√d_k    P = softmax(S), each row over the keys    O = P·V"]
    if s.heads == 1:
        lines.append(f"  Q, K: {shape_text((T, DK))}   V: {shape_text((T, DV))}   S, P: "
                     f"{shape_text((T, T))}   O: {shape_text((T, DV))}")
    else:
        lines += [f"  each head h: O[h] = softmax(Q[h]·Kᵀ/√d_k)·V   (multi-query attention)",
                  f"  Q: {shape_text((2, T, DK))}   K: {shape_text((T, DK))}   V: "
                  f"{shape_text((T, DV))}   S, P: {shape_text((2, T, T))}   O: "
                  f"{shape_text((2, T, DV))}"]
    if s.causal:
        lines += ["Causal mask: query i attends to keys j ≤ i only:",
                  "  S[i,j] = −∞ for j > i, so P[i,j] = 0."]
    g = "G = ∂L/∂O" + (f" ({shape_text((T, DV))})" if s.heads == 1 else
                       f" ({shape_text((2, T, DV))}, one {T}×{DV} per head)")
    lines.append(f"The upstream gradient {g} is given.")
    b = s.base
    lines += [f"{s.carrier} is 2 ln {b} times the integers shown: S = Q·Kᵀ/2 = ln {b}·E, where",
              f"E is the product of the integer matrices, so e^S = {b}^E (ln {b} ≈ {LN[b]})."]
    items = (_head_items(s, "Q", s.Qi) + [(_carrier_label(s, "K"), s.Ki), ("V", s.V)]
             + _head_items(s, "G", s.G))
    return (Lines("", tuple(lines)), Lines("Values", tuple(side_by_side(items))))


def _p_lines(s: _Setup, w: _World, full: bool = False) -> list[str]:
    """The forward pass to P, as worked on the board (after the first question, P alone)."""
    out = []
    for h, E in enumerate(s.E):
        tag = f"[{h}]" if s.heads > 1 else ""
        if not full:
            out += labelled(f"P{tag} = softmax(ln {s.base}·E{tag})", w.P[h])
            continue
        if h == 0:
            out.append(f"E = Q·Kᵀ/(2 ln {s.base}): the product of the integer matrices")
        out += side_by_side([(f"E{tag}", E)])
        out.append(f"S{tag} = Q{tag}·Kᵀ/2 = ln {s.base}·E{tag}, so e^S{tag} ∝ {s.base}^E{tag} "
                   "along each row" + (" (masked: 0):" if s.causal else ":"))
        for i in range(s.T):
            keep = [j for j in range(s.T) if s.allowed(i, j)]
            lo = min(E[i, j] for j in keep)
            wts = [s.base ** int(E[i, j] - lo) if j in keep else 0 for j in range(s.T)]
            total = sum(wts)
            shown = ", ".join(fmt_exact(x) for x in wts)
            ps = ", ".join(fmt_exact(x / total) for x in wts)
            out.append(f"  row {i}: [{shown}] / {total} = [{ps}]")
        out += labelled(f"P{tag}", w.P[h])
    return out


def _tensor_words(s: _Setup, shape: tuple[int, ...], like: str | None, axes: str) -> str:
    if len(shape) == 3:
        return f"a {shape_text(shape)} tensor ({axes})"
    text = f"a {shape_text(shape)} matrix"
    return text + (f", the shape of {like}" if like else "")


def _template(shape: tuple[int, ...]) -> str:
    if len(shape) < 3:
        return answer_template(shape)
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    heads = ["[" + ", ".join("[" + ", ".join(next(letters) for _ in range(shape[2])) + "]"
                             for _ in range(shape[1])) + "]" for _ in range(shape[0])]
    return "[" + ", ".join(heads) + "]"


def _ask(s: _Setup, what: str, shape: tuple[int, ...], like: str | None, axes: str) -> str:
    return (f"Give {what}, {_tensor_words(s, shape, like, axes)}, as {_template(shape)} "
            "(fractions like -1/3 are fine).")


def _final(label: str, value: Any, heads: int) -> list[str]:
    from quizforge.drill.model import tensor_text

    if heads == 1 or len(value.shape) < 3:
        return labelled(label, value)
    out = []
    for h in range(value.shape[0]):
        out += labelled(f"{label}[{h}]", value[h])
    typed = f"{label} = {tensor_text(value)}"
    return out + ([typed] if len(typed) <= SCREEN_WIDTH else [])


# -- the questions --------------------------------------------------------------------------------
LABELS = {"output": "O", "value": "∂L/∂V", "attn_weight": "∂L/∂P", "scores": "∂L/∂S",
          "query": "∂L/∂Q", "key": "∂L/∂K"}


def _asked(s: _Setup, w: _World, slips: dict, plain: dict, wrt: str) -> Asked:
    value = _value(w, wrt)
    # two ways of working it (running totals, dS's bracket kept or multiplied out, the 1/2
    # early or late), each replayed with every number rounded
    lo, hi = band(*(lambda r, way=way, ex=ex: _hand(s, plain, wrt, r, way, ex)
                    for way, ex in zip(WAYS, (False, True), strict=True)), mixes=MIXES)
    mistakes = keep_mistakes(value, lo, hi, _candidates(s, w, slips, wrt))
    label = LABELS[wrt]
    shape = tuple(value.shape)
    T, H = s.T, s.heads
    tag = "[h]" if H > 1 else ""
    causal = (" (with the mask)" if s.causal else "")
    if wrt == "output":
        ask = _ask(s, "O = P·V" + (" for both heads" if H > 1 else ""), shape, None,
                   "head, query, feature")
        skills = ("attention-forward",)
        shapes = (f"P{tag} is {T}×{T} and V is {T}×{DV}, so O{tag} = P{tag}·V is {T}×{DV}: "
                  "one row per query.",)
        formula = ("S = Q·Kᵀ/√d_k,  P = softmax(S) along each row" + causal + ",  O = P·V",
                   "(row i of O mixes the rows of V with query i's weights)")
        numbers = _p_lines(s, w, full=True)
        for h in range(H):
            t = f"[{h}]" if H > 1 else ""
            last = T - 1
            numbers += ["", f"O{t}[{last},0]: {dot_text(w.P[h][last], s.V[:, 0])} = "
                        f"{fmt_exact(w.P[h][last] @ s.V[:, 0])}"]
        hints = ("Work out S = Q·Kᵀ/√d_k with the integers first: e^S is a power of "
                 f"{s.base}, so each row of P is a short fraction.",
                 f"P's rows sum to 1; then O = P·V ({T}×{T} times {T}×{DV}).")
    elif wrt == "value":
        ask = _ask(s, "∂L/∂V", shape, "V", "")
        skills = ("attention-value-grad",) + (("multi-query",) if H > 1 else ())
        shapes = (f"Pᵀ is {T}×{T} and G{tag} is {T}×{DV}, so Pᵀ·G is {T}×{DV}, the shape of "
                  "V.",)
        formula = ("∂L/∂V = Pᵀ·G" + ("  summed over the heads: Σₕ P[h]ᵀ·G[h]" if H > 1
                                      else ""),
                   "(V's row j reaches output row i with weight P[i,j])")
        numbers = _p_lines(s, w)
        for h in range(H):
            t = f"[{h}]" if H > 1 else ""
            numbers += [""] + side_by_side([(f"P{t}ᵀ", w.P[h].T), (f"P{t}ᵀ·G{t}",
                                                                    w.P[h].T @ s.G[h])])
        numbers += ["", f"[0,0]: " + " + ".join(dot_text(w.P[h][:, 0], s.G[h][:, 0])
                                               for h in range(H))
                    + f" = {fmt_exact(value[0, 0])}"]
        hints = ("O = P·V, so ∂L/∂V = Pᵀ·G" + (", added over both heads." if H > 1 else "."),
                 f"First P from S = Q·Kᵀ/{SQRT_DK} (e^S is a power of {s.base}); then "
                 "transpose it.")
    elif wrt == "attn_weight":
        ask = _ask(s, "∂L/∂P", shape, "P", "")
        skills = ("attention-weight-grad",)
        shapes = (f"G is {T}×{DV} and Vᵀ is {DV}×{T}, so G·Vᵀ is {T}×{T}, the shape of P.",)
        formula = ("∂L/∂P = G·Vᵀ   (entry [i,j] = query i's G row · value row j)",)
        numbers = side_by_side([("G", s.G[0]), ("Vᵀ", s.V.T)])
        numbers += ["", f"[0,1]: {dot_text(s.G[0][0], s.V[1])} = {fmt_exact(value[0, 1])}"]
        hints = ("O = P·V is linear in P: ∂L/∂P = G·Vᵀ (no softmax involved yet).",
                 f"G is {T}×{DV}, Vᵀ is {DV}×{T}: the answer is {T}×{T}.")
    elif wrt == "scores":
        ask = _ask(s, "∂L/∂S" + (" for both heads" if H > 1 else ""), shape,
                   "S" if H == 1 else None, "head, query, key")
        skills = ("softmax-backward",) + (("causal-mask",) if s.causal else ())
        shapes = (f"dP = G·Vᵀ is {T}×{T}, and so is dS: one entry per score.",)
        formula = ("dP = G·Vᵀ,  cᵢ = Σₖ P[i,k]·dP[i,k]   (one number per row)",
                   "dS[i,j] = P[i,j]·(dP[i,j] − cᵢ)   (the softmax Jacobian, row by row)")
        numbers = _p_lines(s, w)
        for h in range(H):
            t = f"[{h}]" if H > 1 else ""
            c = (w.P[h] * w.dP[h]).sum(axis=1)
            numbers += [""] + side_by_side([(f"dP{t} = G{t}·Vᵀ", w.dP[h])])
            numbers.append(f"c{t} = [" + ", ".join(fmt_exact(x) for x in c) + "]   "
                           f"(c₀ = {dot_text(w.P[h][0], w.dP[h][0])})")
        hints = ("First dP = G·Vᵀ; then, row by row, dS[i,j] = P[i,j]·(dP[i,j] − Σₖ "
                 "P[i,k]·dP[i,k]).",
                 "The row sum uses query i's own probabilities" +
                 (" (masked entries have P = 0, so dS = 0 there)." if s.causal else "."))
    else:
        is_q = wrt == "query"
        ask = _ask(s, label, shape, "Q" if is_q else "K", "")
        skills = ("attention-qk-grad",) + (("causal-mask",) if s.causal else ()) + \
            (("multi-query",) if H > 1 else ())
        if is_q:
            shapes = (f"dS is {T}×{T} and K is {T}×{DK}, so dS·K is {T}×{DK}, the shape "
                      "of Q.",)
            formula = (f"∂L/∂Q = dS·K/√d_k = dS·K/{SQRT_DK}   (row i: query i's score "
                       "gradients times the keys)",)
        else:
            shapes = (f"dSᵀ is {T}×{T} and Q{tag} is {T}×{DK}, so dSᵀ·Q is {T}×{DK}, the "
                      "shape of K.",)
            formula = (f"∂L/∂K = dSᵀ·Q/√d_k = dSᵀ·Q/{SQRT_DK}" +
                       ("  summed over the heads" if H > 1 else "") +
                       "   (K enters S transposed)",)
        formula += ("with dP = G·Vᵀ and dS[i,j] = P[i,j]·(dP[i,j] − Σₖ P[i,k]·dP[i,k])",)
        numbers = _p_lines(s, w)
        for h in range(H):
            t = f"[{h}]" if H > 1 else ""
            numbers += [""] + side_by_side([(f"dP{t}", w.dP[h]), (f"dS{t}", w.dS[h])])
            if is_q:
                numbers += side_by_side([(f"dS{t}·K", w.dS[h] @ s.K)])
            else:
                numbers += side_by_side([(f"dS{t}ᵀ·Q{t}", w.dS[h].T @ s.Q[h])])
        numbers.append(f"then divide by √d_k = {SQRT_DK}" +
                       (" and add the heads:" if H > 1 and not is_q else ":"))
        hints = (("∂L/∂Q = dS·K/√d_k" if is_q else "∂L/∂K = dSᵀ·Q/√d_k") +
                 ", with dS from the softmax Jacobian: dS[i,j] = P[i,j]·(dP[i,j] − Σₖ "
                 "P[i,k]·dP[i,k]).",
                 f"dP = G·Vᵀ; {'K' if is_q else 'Q'} enters as shown (no ln in it), and "
                 f"the 1/√d_k = 1/{SQRT_DK} comes last.")
    numbers = list(numbers) + [""] + _final(label, value, H)
    sol = (Lines("Shapes", shapes), Lines("Formula", formula), Lines("Numbers",
                                                                      tuple(numbers)))
    q = Question(wrt, "number", ask, skills, shape)
    return Asked(q, Target(wrt, label, value, lo, hi, mistakes), sol, hints)


# -- the loss as one scalar expression ------------------------------------------------------------
def _loss_text(s: _Setup) -> str:
    """L = Σ G⊙O with O written out: per head and query row, Σₖ e^{Sᵢₖ}·(G[i]·V[k]) / Σₖ e^{Sᵢₖ}."""
    from quizforge.drill.families._tensor import num_text

    terms = []
    for h in range(s.heads):
        qname = (lambda i, d, h=h: f"query_{h}_{i}_{d}") if s.heads > 1 else \
            (lambda i, d: f"query_{i}_{d}")
        for i in range(s.T):
            keep = [k for k in range(s.T) if s.allowed(i, k)]
            score = {k: "exp((" + " + ".join(f"{qname(i, d)}*key_{k}_{d}" for d in range(DK))
                     + f")/{SQRT_DK})" for k in keep}
            num_terms = []
            for k in keep:
                coef = [f"{num_text(s.G[h][i, j])}*value_{k}_{j}" for j in range(DV)
                        if s.G[h][i, j] != 0]
                if coef:
                    num_terms.append(f"{score[k]}*(" + " + ".join(coef) + ")")
            if num_terms:
                terms.append("(" + " + ".join(num_terms) + ")/(" +
                             " + ".join(score[k] for k in keep) + ")")
    return " + ".join(terms) or "0"


# -- the family ---------------------------------------------------------------------------------
def _ints(a: Any) -> Any:
    def walk(v):
        return [walk(x) for x in v] if isinstance(v, list) else int(v)

    return walk(a.tolist())


def generate(seed: int, difficulty: int, form: str) -> BasicProblem:
    rng = random.Random(f"attention/{seed}/{difficulty}")  # str seeds hash the same everywhere
    for _ in range(20000):
        s = _draw(rng, difficulty)
        if s is None:
            continue
        w = _right(s)
        if not _friendly(s, w):
            continue
        slips = _slips(s, w)
        plain = _plain(s, w)
        asked = tuple(_asked(s, w, slips, plain, wrt) for wrt in _questions(s))
        if not all(_needs(s, a.question.wrt) <= {m.kind for m in a.target.mistakes}
                   for a in asked):
            continue  # the lesson's mistake must be there to be named
        body = _body(s)
        if not fits_screen(body, asked):
            continue
        given: dict[str, Any] = {"query": _pack(s, list(s.Q)), "key": s.K, "value": s.V,
                                 "grad_output": _pack(s, list(s.G))}
        extra = (("sdpa", {"is_causal": s.causal, "scale": 1 / SQRT_DK,
                           "enable_gqa": s.heads > 1}),
                 ("integers", {"carrier": "query" if s.carrier == "Q" else "key",
                               "factor": f"2 ln {s.base}",
                               "query": _ints(_pack(s, list(s.Qi))),
                               "key": _ints(s.Ki)}))
        return BasicProblem("attention", seed, difficulty, form, body, given, _loss_text(s),
                            asked, extra)
    raise RuntimeError(f"attention: no problem for seed {seed} at difficulty {difficulty}")


FAMILY = Family(
    name="attention",
    summary="Scaled dot-product attention by hand: O = softmax(QKᵀ/√d)·V, then ∂L/∂V, "
            "∂L/∂P, ∂L/∂S, ∂L/∂Q, ∂L/∂K",
    levels={1: "one head, 2 tokens: O, ∂L/∂V = Pᵀ·G, ∂L/∂P = G·Vᵀ, ∂L/∂S (softmax "
               "Jacobian), ∂L/∂Q or ∂L/∂K",
            2: "a causal mask on 3 tokens: O, ∂L/∂V, ∂L/∂S, ∂L/∂Q or ∂L/∂K (masked entries "
               "pass no gradient)",
            3: "two query heads sharing K and V (multi-query): O, ∂L/∂V and ∂L/∂K summed "
               "over heads, ∂L/∂S"},
    generate=generate,
    forms=("number",),
    order=55,
    example="[[1, -1/2], [0, 2/9]]",
    questions=5,
)
