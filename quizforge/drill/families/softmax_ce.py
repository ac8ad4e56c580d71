"""softmax-ce: gradients of softmax cross-entropy, sized for a whiteboard.

The logits are built from logs, z = ln a + c with small whole numbers a, so that e^z is
proportional to a and the probabilities p = a/Σa have small denominators (1/2, 1/3, 1/4, 1/6,
2/5, 1/8 …). The body shows the logits in that form ("ln 2 + 1"); at difficulty 1 it also
states p, above that the candidate finds p (a shared constant cancels, e^(ln a) = a).

The facts drilled: ∂L/∂z = p − y (one-hot or smoothed y = (1 − ε)·onehot + ε/K); with a
temperature, p = softmax(z/T) and ∂L/∂z = (p − y)/T; the softmax Jacobian
∂pᵢ/∂zⱼ = pᵢ(δᵢⱼ − pⱼ); through a linear layer, ∂L/∂W = (p − y)xᵀ, ∂L/∂b = p − y,
∂L/∂x = Wᵀ(p − y). numpy is imported inside the functions: the registry imports this module at
start-up.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from quizforge.drill.basic import Asked, BasicProblem
from quizforge.drill.family import Family
from quizforge.drill.model import (
    Lines,
    Mistake,
    Question,
    Target,
    fmt_exact,
    matrix_lines,
    shape_text,
    tensor_text,
)
from quizforge.drill.rounding import band

NAME = "softmax-ce"

# Unnormalised class weights a (p = a/Σa), before a random permutation.
WEIGHTS = {
    3: ((1, 2, 1), (1, 1, 2), (1, 1, 1), (1, 2, 3), (1, 1, 4), (1, 2, 2), (1, 1, 3),
        (1, 3, 4)),
    4: ((1, 1, 1, 1), (1, 1, 2, 4), (1, 1, 1, 3), (1, 1, 2, 2), (1, 2, 2, 3), (1, 1, 1, 2),
        (1, 1, 3, 3)),
}
EPSILONS = {3: (0.3, 0.15), 4: (0.2, 0.4, 0.1)}  # label smoothing: ε/K is a short decimal
TEMPERATURES = (2.0, 0.5)  # halves the gradient, or doubles it (a sharper softmax)
LN = {2: "0.6931", 3: "1.0986"}  # shown for ∂L/∂T, the one answer that needs numeric logs
SAME_RTOL = 0.005  # two mistakes this close are the same answer to the grader
CLOSE_RTOL = 0.05  # a mistake this close to the answer would hide a merely "close" answer

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(i: int) -> str:
    return str(i).translate(_SUB)


def _num(v: float) -> str:
    return fmt_exact(v)


def _vec(v: Any) -> str:
    return tensor_text(v)


def _pvec(p: Any) -> str:
    """Probabilities as fractions, the way a/Σa comes out: [1/2, 1/4, 1/4]."""
    from fractions import Fraction

    return "[" + ", ".join(str(Fraction(float(q)).limit_denominator(100)) for q in p) + "]"


def _ln_text(a: int, c: int) -> str:
    """ln a + c as written on a whiteboard: 'ln 2 + 1', 'ln 3', '-1', 'ln 2 − 1'."""
    if a == 1:
        return _num(c)
    if c == 0:
        return f"ln {a}"
    return f"ln {a} {'+' if c > 0 else '−'} {abs(c)}"


def _np(v: Any):
    import numpy as np

    return np.asarray(v, dtype=float)


def _weights(rng: random.Random, k: int,
             pick: Callable[[tuple[int, ...]], bool] | None = None) -> tuple[int, ...]:
    a = list(rng.choice([w for w in WEIGHTS[k] if pick is None or pick(w)]))
    rng.shuffle(a)
    return tuple(a)


def _close(u: Any, v: Any, rtol: float) -> bool:
    import numpy as np

    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    return u.shape == v.shape and bool(np.allclose(u, v, rtol=rtol, atol=1e-9))


def _library(value: Any, lo: Any, hi: Any, candidates: list[Mistake]) -> tuple[Mistake, ...]:
    """The named mistakes that can be told apart from the answer and from each other."""
    import numpy as np

    out: list[Mistake] = []
    for m in candidates:
        v = float(m.value) if np.ndim(m.value) == 0 else _np(m.value)
        if np.shape(v) == np.shape(value) and (
                _close(v, value, CLOSE_RTOL) or bool(np.all(v >= lo) and np.all(v <= hi))):
            continue
        if any(_close(v, kept.value, SAME_RTOL) for kept in out):
            continue
        out.append(Mistake(m.kind, m.message, v))
    return tuple(out)


def _target(wrt: str, label: str, compute: Callable, candidates: list[Mistake],
            *other_orders: Callable) -> Target:
    """A target whose band covers `compute` and the other natural orders of the same hand
    computation (p/T − y/T as well as (p − y)/T, a running sum as well as one sum)."""
    from quizforge.drill.rounding import rounder

    value = compute(rounder("exact"))
    lo, hi = band(compute, *other_orders)
    return Target(wrt, label, value, lo, hi, _library(value, lo, hi, candidates))


def _solution(shapes: list[str], formula: list[str], numbers: list[str]) -> tuple:
    return (Lines("Shapes", tuple(shapes)), Lines("Formula", tuple(formula)),
            Lines("Numbers", tuple(numbers)))


def _softmax_loss(logits: list[str]) -> str:
    """−Σ yᵢ·log(softmax(logits)ᵢ), written out over element symbols."""
    den = "(" + " + ".join(f"exp({e})" for e in logits) + ")"
    return "-(" + " + ".join(f"y_{i}*log(exp({e})/{den})" for i, e in enumerate(logits)) + ")"


def _target_vector(rng: random.Random, k: int, cls: int, smoothed: bool):
    """(y, ε, the body line that defines y)."""
    import numpy as np

    onehot = np.eye(k)[cls]
    if not smoothed:
        return onehot, 0.0, f"y = onehot({cls}) = {_vec(onehot)}"
    eps = rng.choice(EPSILONS[k])
    y = (1 - eps) * onehot + eps / k
    return y, eps, f"label smoothing ε = {_num(eps)}:  y = (1 − ε)·onehot({cls}) + ε/K"


def _y_lines(y, eps: float, k: int, cls: int) -> list[str]:
    if eps == 0:
        return [f"y = onehot({cls}) = {_vec(y)}"]
    true_class = f"y{_sub(cls)} = 1 − ε + ε/K = {_num(y[cls])}"
    return [f"ε/K = {_num(eps)}/{k} = {_num(eps / k)};  {true_class}", f"y = {_vec(y)}"]


# -- the mistake library ------------------------------------------------------------------------
def _identity(v: Any) -> Any:
    return v


def _z_mistakes(p, y, scale: Callable = _identity) -> list[Mistake]:
    """Slips in ∂L/∂z = p − y, each as the value it leads to (through `scale`: 1/T, ·xᵀ …)."""
    return [
        Mistake("sign", "The sign is flipped: ∂L/∂z = p − y (probability minus target), "
                "not y − p.", scale(y - p)),
        Mistake("p-only", "That is p alone; subtract the target: ∂L/∂z = p − y.", scale(p)),
        Mistake("gradient-wrt-p", "−y/p is ∂L/∂p; carry it through the softmax Jacobian to "
                "get ∂L/∂z = p − y.", scale(-y / p)),
        Mistake("jacobian-diagonal-only", "You chained ∂L/∂p through the diagonal pᵢ(1 − pᵢ) "
                "only; the off-diagonal −pᵢpⱼ terms count too, and together they give p − y.",
                scale(-y * (1 - p))),
    ]


def _smoothing_mistakes(p, eps: float, k: int, cls: int,
                        scale: Callable = _identity) -> list[Mistake]:
    """Wrong smoothed targets, each as the ∂L/∂z it leads to (through `scale`)."""
    import numpy as np

    if eps == 0:
        return []
    onehot = np.eye(k)[cls]
    no_share = (1 - eps) * onehot + (eps / k) * (1 - onehot)
    spread = (1 - eps) * onehot + (eps / (k - 1)) * (1 - onehot)
    return [
        Mistake("one-hot-instead-of-smoothed", "You used the one-hot target; with label "
                "smoothing y = (1 − ε)·onehot + ε/K, so every class has a target of at least "
                "ε/K.", scale(p - onehot)),
        Mistake("smoothing-true-class", f"The true class also gets its ε/K share: y{_sub(cls)} "
                "= 1 − ε + ε/K, not 1 − ε.", scale(p - no_share)),
        Mistake("smoothing-k-minus-1", "Here ε is spread over all K classes (ε/K each, the "
                "true one included), not over the K − 1 wrong ones.", scale(p - spread)),
    ]


def _row_mistakes(p, i: int, t: float = 1.0) -> list[Mistake]:
    """Slips in row i of the softmax Jacobian, pᵢ(eᵢ − p)/T."""
    import numpy as np

    e = np.eye(len(p))[i]
    row = p[i] * (e - p) / t
    div = "/T" if t != 1 else ""
    out = []
    if t != 1:
        out += [
            Mistake("forgot-temperature", "p depends on z/T, so every entry carries a factor "
                    "1/T: ∂pᵢ/∂zⱼ = pᵢ(δᵢⱼ − pⱼ)/T.", row * t),
            Mistake("temperature-inverted", "Divide by T, do not multiply.", row * t * t),
        ]
    return out + [
        Mistake("jacobian-diagonal-only", "Softmax is not element-wise: every pᵢ depends on "
                f"every zⱼ, so the off-diagonal entries are −pᵢpⱼ{div}, not 0.",
                e * p[i] * (1 - p[i]) / t),
        Mistake("jacobian-diagonal-only", "p ⊙ (1 − p) is only the diagonal of the Jacobian; "
                f"a row is pᵢ(δᵢⱼ − pⱼ){div}, with −pᵢpⱼ{div} off the diagonal.",
                p * (1 - p) / t),
        Mistake("sign", "The signs are flipped: ∂pᵢ/∂zⱼ = pᵢ(δᵢⱼ − pⱼ) is positive on the "
                "diagonal and negative off it.", -row),
        Mistake("missing-delta", f"The diagonal entry is pᵢ(1 − pᵢ){div}: keep the δᵢⱼ term.",
                -p[i] * p / t),
    ]


# -- difficulties 1 and 2: the logits are given ------------------------------------------------
def _direct(rng: random.Random, difficulty: int, form: str, seed: int) -> BasicProblem:
    import numpy as np

    k = rng.choice((3, 4))
    a = _weights(rng, k)
    c = rng.choice((0, 1, 1, -1, 2))
    cls = rng.randrange(k)
    smoothed = difficulty == 2
    y, eps, y_line = _target_vector(rng, k, cls, smoothed)
    p = _np(a) / sum(a)
    z = np.log(_np(a)) + c

    body_lines = [
        "p = softmax(z),  L = −Σᵢ yᵢ ln pᵢ   (ln: natural log)",
        f"K = {k} classes, numbered 0–{k - 1}; the true class is {cls}",
        "z = [" + ", ".join(_ln_text(ai, c) for ai in a) + "]",
        y_line,
    ]
    if difficulty == 1:
        body_lines.append(f"the softmax gives p = {_pvec(p)}   (given; no need to recompute)")
    body = (Lines("Softmax cross-entropy, one sample", tuple(body_lines)),)
    given = {"z": z, "y": y}
    loss = _softmax_loss([f"z_{i}" for i in range(k)])
    shift = f"   (the shared {_num(c)} cancels)" if c else ""
    p_lines = ([f"e^z ∝ {_vec(_np(a))}{shift}", f"p = a/{sum(a)} = {_pvec(p)}"]
               if difficulty > 1 else [f"p = {_pvec(p)} (given)"])

    def p_hand(r):
        return r(p) if difficulty == 1 else r(_np(a) / sum(a))

    def dz(r):
        return r(p_hand(r) - r(y))

    q0 = Asked(
        Question("z", form, f"Give ∂L/∂z ({shape_text((k,))}), as [a, b, …].",
                 ("softmax-ce-grad",) + (("label-smoothing",) if smoothed else ()), (k,)),
        _target("z", "∂L/∂z", dz, _z_mistakes(p, y) + _smoothing_mistakes(p, eps, k, cls)),
        _solution([f"z, p, y and ∂L/∂z are all vectors of {k}"],
                  ["∂L/∂zᵢ = pᵢ − yᵢ   (softmax and cross-entropy together)"]
                  + (["y = (1 − ε)·onehot + ε/K"] if smoothed else []),
                  p_lines + _y_lines(y, eps, k, cls) + [f"∂L/∂z = p − y = {_vec(p - y)}"]),
        ("For softmax followed by cross-entropy, ∂L/∂z = p − y"
         + (", with y = (1 − ε)·onehot + ε/K." if smoothed else "."),
         ("; ".join(p_lines) + f"; y = {_vec(y)}." if difficulty > 1 else
          f"y is 1 at class {cls} and 0 elsewhere: take p and subtract 1 from entry {cls}.")),
    )
    if difficulty == 1:
        q1 = _d_loss_d_p(p, y, cls, form)
        return BasicProblem(NAME, seed, 1, form, body, given, loss, (q0, q1))

    # difficulty 2: a row of the Jacobian, then one entry outside that row
    i = rng.randrange(k)
    row = p[i] * (np.eye(k)[i] - p)

    def p_frac(r):
        return r(_np(a) / sum(a))

    def jac_row(r):
        pr = p_frac(r)
        return r(pr[i] * r(np.eye(k)[i] - pr))

    def jac_row_expanded(r):  # pᵢ − pᵢ² on the diagonal, −pᵢpⱼ off it
        pr = p_frac(r)
        return np.where(np.eye(k)[i] > 0, r(pr[i] - r(pr[i] * pr)), r(-r(pr[i] * pr)))

    q1 = Asked(
        Question(f"dp{i}/dz", form, f"Give row {i} of the Jacobian, ∂p{_sub(i)}/∂z₀ … "
                 f"∂p{_sub(i)}/∂z{_sub(k - 1)} ({shape_text((k,))}), as [a, b, …].",
                 ("softmax-jacobian",), (k,)),
        _target(f"dp{i}/dz", f"∂p{_sub(i)}/∂z", jac_row, _row_mistakes(p, i),
                jac_row_expanded),
        _solution([f"row {i} of the {k}×{k} Jacobian: a vector of {k}"],
                  ["∂pᵢ/∂zⱼ = pᵢ(δᵢⱼ − pⱼ): pᵢ(1 − pᵢ) on the diagonal, −pᵢpⱼ off it"],
                  p_lines + [f"∂p{_sub(i)}/∂z = p{_sub(i)}·(e{_sub(i)} − p) = {_vec(row)}"]),
        ("∂pᵢ/∂zⱼ = pᵢ(δᵢⱼ − pⱼ).",
         "; ".join(p_lines) + f"; the row is p{_sub(i)} times (e{_sub(i)} − p)."),
    )
    q2 = _jacobian_entry(rng, a, i, form, p_frac)
    return BasicProblem(NAME, seed, 2, form, body, given, loss, (q0, q1, q2))


def _d_loss_d_p(p, y, cls: int, form: str) -> Asked:
    """∂L/∂p for a one-hot y: −1/p at the true class, 0 elsewhere."""
    import numpy as np

    k = len(p)

    def dp(r):
        return np.where(y > 0, r(-y / r(p)), 0.0)

    return Asked(
        Question("p", form, "Give ∂L/∂p, the gradient at the probabilities "
                 f"({shape_text((k,))}), as [a, b, …].", ("softmax-ce-grad",), (k,)),
        _target("p", "∂L/∂p", dp, [
            Mistake("gradient-wrt-z", "p − y is ∂L/∂z, the gradient at the logits; at p the "
                    "loss −Σ yᵢ ln pᵢ gives ∂L/∂pᵢ = −yᵢ/pᵢ.", p - y),
            Mistake("sign", "The sign is flipped: d(−ln p)/dp = −1/p.", y / p),
            Mistake("all-classes", "Only the true class appears in the loss: ∂L/∂pᵢ = −yᵢ/pᵢ "
                    "is 0 wherever yᵢ = 0.", -1 / p),
        ]),
        _solution([f"∂L/∂p is a vector of {k}, like p"],
                  ["L = −Σᵢ yᵢ ln pᵢ  ⇒  ∂L/∂pᵢ = −yᵢ/pᵢ"],
                  [f"y = {_vec(y)}, p{_sub(cls)} = {_num(p[cls])}",
                   f"∂L/∂p = {_vec(-y / p)}"]),
        ("Differentiate L = −Σ yᵢ ln pᵢ with respect to each pᵢ (treat p as the input).",
         f"Only class {cls} has yᵢ ≠ 0, so only that entry is non-zero: −1/p{_sub(cls)}."),
    )


def _jacobian_entry(rng: random.Random, a, i: int, form: str, p_frac: Callable) -> Asked:
    """One entry ∂p_u/∂z_v with u ≠ i (the row already asked): diagonal or not, at random."""
    p = _np(a) / sum(a)
    others = [j for j in range(len(a)) if j != i]
    # a diagonal entry teaches most where pᵤ ≠ ½ (there −p² = −p(1 − p): two slips, one
    # value) and pᵤ ≠ pᵢ (else it repeats the row's diagonal); otherwise ask off the diagonal
    fresh = [j for j in others if not math.isclose(p[j], p[i]) and not math.isclose(p[j], 0.5)]
    if rng.random() < 0.5 and fresh:
        u = v = rng.choice(fresh)
        entry = p[u] * (1 - p[u])
        slips = [
            Mistake("missing-delta", "On the diagonal the entry is pᵢ(1 − pᵢ); −pᵢ² forgets "
                    "the δᵢⱼ term.", -p[u] ** 2),
            Mistake("sign", "Diagonal entries are positive: pᵢ(1 − pᵢ).", -entry),
            Mistake("p-only", "Multiply by (1 − pᵢ): ∂pᵢ/∂zᵢ = pᵢ(1 − pᵢ).", p[u]),
        ]
        formula = f"∂p{_sub(u)}/∂z{_sub(u)} = p{_sub(u)}(1 − p{_sub(u)})   (on the diagonal)"
        numbers = f"= {_num(p[u])}·{_num(1 - p[u])} = {_num(entry)}"
    else:
        u, v = rng.sample(others, 2)
        entry = -p[u] * p[v]
        slips = [
            Mistake("jacobian-diagonal-only", "Softmax is not element-wise: an off-diagonal "
                    "entry is −pᵢpⱼ, not 0.", 0.0),
            Mistake("diagonal-formula", "pᵢ(1 − pᵢ) is the diagonal; for i ≠ j the entry is "
                    "−pᵢpⱼ.", p[u] * (1 - p[u])),
            Mistake("sign", "Off-diagonal entries are negative: −pᵢpⱼ (raising zⱼ takes "
                    "probability away from class i).", -entry),
        ]
        formula = f"∂p{_sub(u)}/∂z{_sub(v)} = −p{_sub(u)}p{_sub(v)}   ({u} ≠ {v})"
        numbers = f"= −{_num(p[u])}·{_num(p[v])} = {_num(entry)}"

    def jac_entry(r):
        pr = p_frac(r)
        return r(pr[u] * r(1 - pr[u])) if u == v else r(-pr[u] * pr[v])

    def jac_entry_expanded(r):
        pr = p_frac(r)
        return r(pr[u] - r(pr[u] * pr[u])) if u == v else r(-pr[u] * pr[v])

    label = f"∂p{_sub(u)}/∂z{_sub(v)}"
    return Asked(
        Question(f"dp{u}/dz{v}", form, f"Give the single Jacobian entry {label} (a scalar).",
                 ("softmax-jacobian",), ()),
        _target(f"dp{u}/dz{v}", label, jac_entry, slips, jac_entry_expanded),
        _solution(["one entry of the Jacobian: a scalar"], [formula], [numbers]),
        ("Diagonal entries are pᵢ(1 − pᵢ), off-diagonal entries −pᵢpⱼ.",
         f"p = {_pvec(p)}; " + ("it is a diagonal entry." if u == v else
                                f"{u} ≠ {v}, so it is off the diagonal.")),
    )


# -- difficulty 3: temperature -----------------------------------------------------------------
def _t_text(t: float) -> str:
    return {2.0: "2", 0.5: "1/2"}[t]


def _temperature(rng: random.Random, form: str, seed: int) -> BasicProblem:
    import numpy as np

    k = rng.choice((3, 4))
    while True:  # z = T·ln a (no shared constant: ∂L/∂T then has nothing that cancels)
        a = _weights(rng, k, lambda w: len(set(w)) > 1 and max(w) <= 4)
        t = rng.choice(TEMPERATURES)
        cls = rng.randrange(k)
        smoothed = rng.random() < 0.5
        y, eps, y_line = _target_vector(rng, k, cls, smoothed)
        p = _np(a) / sum(a)
        u = np.log(_np(a))  # z/T
        d_temp = -float(np.dot(p - y, u)) / t
        if abs(d_temp) >= 0.03:
            break
    z = t * u
    g = p - y
    inner = "[" + ", ".join(_ln_text(ai, 0) for ai in a) + "]"
    logs = sorted({q for ai in a for q in (2, 3) if ai % q == 0})
    body = (Lines("Softmax cross-entropy with a temperature, one sample", (
        "p = softmax(z/T),  L = −Σᵢ yᵢ ln pᵢ   (ln: natural log)",
        f"K = {k} classes, numbered 0–{k - 1}; the true class is {cls}",
        f"T = {_t_text(t)},  z = [" + ", ".join(
            "0" if ai == 1 else f"{'2' if t > 1 else '½'}·ln {ai}" for ai in a) + "]",
        y_line,
        ", ".join(f"ln {q} ≈ {LN[q]}" for q in logs) + "   (for ∂L/∂T; or keep the",
        "logs in your answer: -0.25*ln(2) + 0.5*ln(3) is read as a number)",
    )),)
    given = {"z": z, "T": t, "y": y}
    loss = _softmax_loss([f"z_{i}/T" for i in range(k)])
    p_lines = [f"z/T = {inner}, so e^(z/T) ∝ {_vec(_np(a))}", f"p = a/{sum(a)} = {_pvec(p)}"]
    skills = ("softmax-ce-grad", "temperature") + (("label-smoothing",) if smoothed else ())

    def p_frac(r):
        return r(_np(a) / sum(a))

    def dz(r):
        return r(r(p_frac(r) - r(y)) / t)

    def dz_split(r):  # p/T − y/T
        return r(r(p_frac(r) / t) - r(y / t))

    def over_t(v):
        return v / t

    p_plain = _np([ai ** t for ai in a]) / sum(ai ** t for ai in a)  # softmax(z), T left out
    q0 = Asked(
        Question("z", form, f"Give ∂L/∂z ({shape_text((k,))}), as [a, b, …].", skills, (k,)),
        _target("z", "∂L/∂z", dz, [
            Mistake("forgot-temperature", "The logits are divided by T before the softmax, so "
                    "the chain rule brings a factor 1/T: ∂L/∂z = (p − y)/T.", g),
            Mistake("temperature-inverted", "Divide by T, do not multiply: ∂(z/T)/∂z = 1/T.",
                    g * t),
            Mistake("softmax-of-z", "The probabilities are softmax(z/T), not softmax(z): "
                    "divide the logits by T first.", (p_plain - y) / t),
        ] + _z_mistakes(p, y, over_t) + _smoothing_mistakes(p, eps, k, cls, over_t), dz_split),
        _solution([f"z, p, y and ∂L/∂z are vectors of {k}; T is a scalar"],
                  ["∂L/∂(z/T) = p − y, and ∂(z/T)/∂z = 1/T, so ∂L/∂z = (p − y)/T"],
                  p_lines + _y_lines(y, eps, k, cls)
                  + [f"p − y = {_vec(g)}", "∂L/∂z = (p − y)/T = "
                     + ("(p − y)/2" if t > 1 else "2·(p − y)") + f" = {_vec(g / t)}"]),
        ("Let u = z/T: ∂L/∂u = p − y, then the chain rule through u = z/T.",
         "; ".join(p_lines) + f"; y = {_vec(y)}."),
    )

    i = rng.randrange(k)
    row = p[i] * (np.eye(k)[i] - p) / t

    def jac_row(r):
        pr = p_frac(r)
        return r(r(pr[i] * r(np.eye(k)[i] - pr)) / t)

    def jac_row_expanded(r):  # pᵢ − pᵢ² on the diagonal, then every entry divided by T
        pr = p_frac(r)
        return r(np.where(np.eye(k)[i] > 0, r(pr[i] - r(pr[i] * pr)), r(-r(pr[i] * pr))) / t)

    q1 = Asked(
        Question(f"dp{i}/dz", form, f"Give ∂p{_sub(i)}/∂z, row {i} of the Jacobian with T "
                 f"({shape_text((k,))}), as [a, b, …].",
                 ("softmax-jacobian", "temperature"), (k,)),
        _target(f"dp{i}/dz", f"∂p{_sub(i)}/∂z", jac_row, _row_mistakes(p, i, t),
                jac_row_expanded),
        _solution([f"row {i} of the {k}×{k} Jacobian: a vector of {k}"],
                  ["∂pᵢ/∂zⱼ = pᵢ(δᵢⱼ − pⱼ)/T   (the usual Jacobian, times ∂(z/T)/∂z = 1/T)"],
                  p_lines + [f"p{_sub(i)}·(e{_sub(i)} − p) = {_vec(row * t)}",
                             f"÷ T = {_t_text(t)}:  ∂p{_sub(i)}/∂z = {_vec(row)}"]),
        ("∂pᵢ/∂zⱼ = pᵢ(δᵢⱼ − pⱼ)/T.",
         "; ".join(p_lines) + f"; take p{_sub(i)}·(e{_sub(i)} − p), then divide by T."),
    )

    def d_t(r):  # −(1/T)·Σ (pᵢ − yᵢ)·(zᵢ/T), with zᵢ/T = ln aᵢ
        gr = r(p_frac(r) - r(y))
        ur = _np([r(math.log(ai)) for ai in a])
        return r(-r(float(np.sum(r(gr * ur)))) / t)

    def d_t_from_z(r):  # −Σ (pᵢ − yᵢ)zᵢ / T², with the logits as decimals
        gr = r(p_frac(r) - r(y))
        return r(-r(float(np.sum(r(gr * r(z))))) / (t * t))

    q2 = Asked(
        Question("T", form, "Give ∂L/∂T (a scalar; ln(2), ln(3) may stay in it).",
                 ("temperature",), ()),
        _target("T", "∂L/∂T", d_t, [
            Mistake("sign", "The sign is flipped: ∂(zᵢ/T)/∂T = −zᵢ/T² brings a minus.",
                    -d_temp),
            Mistake("forgot-temperature", "One factor 1/T is missing: ∂(zᵢ/T)/∂T = −zᵢ/T², "
                    "and zᵢ/T² = (zᵢ/T)/T.", d_temp * t),
            Mistake("forgot-temperature", "Divide Σ(pᵢ − yᵢ)zᵢ by T², since "
                    "∂(zᵢ/T)/∂T = −zᵢ/T².", d_temp * t * t),
        ], d_t_from_z),
        _solution(["T is a scalar, so ∂L/∂T is a scalar"],
                  ["∂L/∂T = Σᵢ (pᵢ − yᵢ)·∂(zᵢ/T)/∂T = −Σᵢ (pᵢ − yᵢ)zᵢ/T²",
                   "      = −(1/T)·Σᵢ (pᵢ − yᵢ)·(zᵢ/T)"],
                  [p_lines[1], f"p − y = {_vec(g)}",
                   f"z/T = {inner} ≈ {tensor_text(u, exact=False)}",
                   f"Σ (p − y)ᵢ·(z/T)ᵢ ≈ {fmt_exact(float(np.dot(g, u)))}",
                   f"∂L/∂T = −(that)/T ≈ {fmt_exact(d_temp)}"]),
        ("Chain rule through uᵢ = zᵢ/T: ∂uᵢ/∂T = −zᵢ/T², and ∂L/∂uᵢ = pᵢ − yᵢ.",
         f"p − y = {_vec(g)}; z/T = {inner}."),
    )
    return BasicProblem(NAME, seed, 3, form, body, given, loss, (q0, q1, q2))


# -- difficulty 3: a linear layer in front -----------------------------------------------------
def _rows(rng: random.Random, x: tuple[int, ...], targets: list[int]) -> list[tuple[int, ...]]:
    """One integer weight vector in [−3, 3]^d per target, with w·x = target; [] if impossible."""
    import itertools

    pool: dict[int, list[tuple[int, ...]]] = {}
    for w in itertools.product(range(-3, 4), repeat=len(x)):
        if any(w):
            pool.setdefault(sum(wi * xi for wi, xi in zip(w, x, strict=True)), []).append(w)
    rows: list[tuple[int, ...]] = []
    for t in targets:
        choices = [w for w in pool.get(t, []) if w not in rows]
        if not choices:
            return []
        rows.append(rng.choice(choices))
    return rows


def _linear(rng: random.Random, form: str, seed: int) -> BasicProblem:
    """z = W x + b or z = x W + b, with b = ln a + whole numbers and W x chosen so that the
    logits come out as (the same whole number) + ln a: p = a/Σa again."""
    import numpy as np

    k, d = rng.choice(((3, 2), (3, 3), (4, 2)))
    while True:
        a = _weights(rng, k)
        x = tuple(rng.choice((-2, -1, 1, 2, 3)) for _ in range(d))
        offs = [rng.choice((-1, 0, 0, 1)) for _ in range(k)]
        level = rng.randrange(-2, 5)
        rows = _rows(rng, x, [level - o for o in offs])
        if rows:
            break
    col = rng.random() < 0.5  # z = W x + b (W is K×d) or z = x W + b (W is d×K)
    cls = rng.randrange(k)
    smoothed = rng.random() < 0.5
    y, eps, y_line = _target_vector(rng, k, cls, smoothed)
    p = _np(a) / sum(a)
    g = p - y
    per_class = _np(rows)  # row i: the weights of class i
    W = per_class if col else per_class.T
    xv = _np(x)
    b = np.log(_np(a)) + _np(offs)
    dW = np.outer(g, xv) if col else np.outer(xv, g)
    dx = per_class.T @ g
    wx = per_class @ xv
    skills = ("linear-layer", "softmax-ce-grad") + (("label-smoothing",) if smoothed else ())

    if col:
        define = f"z = W x + b   (W is {k}×{d}, x a vector of {d}, b and z vectors of {k})"
        dw_formula = "∂L/∂W = (p − y) xᵀ   (K×d: row i is (pᵢ − yᵢ)·x)"
        dx_formula = "∂L/∂x = Wᵀ (p − y)"
        wx_name = "W x"
    else:
        define = f"z = x W + b   (x a row of {d}, W is {d}×{k}, b and z vectors of {k})"
        dw_formula = "∂L/∂W = xᵀ (p − y)   (d×K: row j is xⱼ·(p − y))"
        dx_formula = "∂L/∂x = W (p − y)"
        wx_name = "x W"
    body_lines = ([define, "p = softmax(z),  L = −Σᵢ yᵢ ln pᵢ   (ln: natural log)",
                   f"K = {k} classes, numbered 0–{k - 1}; the true class is {cls}", y_line,
                   "W ="] + ["  " + line for line in matrix_lines(W)]
                  + [f"x = {_vec(xv)}",
                     "b = [" + ", ".join(_ln_text(ai, o) for ai, o in zip(a, offs, strict=True))
                     + "]"])
    body = (Lines("A linear layer, then softmax cross-entropy (one sample)", tuple(body_lines)),)
    given = {"W": W, "x": xv, "b": b, "y": y}
    if col:
        logits = ["(" + " + ".join(f"W_{i}_{j}*x_{j}" for j in range(d)) + f" + b_{i})"
                  for i in range(k)]
    else:
        logits = ["(" + " + ".join(f"x_{j}*W_{j}_{i}" for j in range(d)) + f" + b_{i})"
                  for i in range(k)]
    loss = _softmax_loss(logits)
    forward = [f"{wx_name} = {_vec(wx)}",
               f"z = {wx_name} + b = ["
               + ", ".join(_ln_text(ai, level) for ai in a) + "]",
               f"e^z ∝ {_vec(_np(a))}, so p = {_pvec(p)}"]

    def g_hand(r):
        return r(r(_np(a) / sum(a)) - r(y))

    def d_w(r):
        gr = g_hand(r)
        return r(np.outer(gr, xv) if col else np.outer(xv, gr))

    def d_x(r):  # a running sum over the classes, rounded as it goes
        gr = g_hand(r)
        acc = np.zeros(d)
        for i in range(k):
            acc = r(acc + r(per_class[i] * gr[i]))
        return acc

    def d_x_one_sum(r):
        gr = g_hand(r)
        return r(np.sum(r(per_class * gr[:, None]), axis=0))

    def through_w(v):  # a wrong ∂L/∂z carried correctly into ∂L/∂W
        return np.outer(v, xv) if col else np.outer(xv, v)

    def through_x(v):  # … and into ∂L/∂x
        return per_class.T @ v

    dw_slips = _z_mistakes(p, y, through_w)[:3] + _smoothing_mistakes(p, eps, k, cls,
                                                                      through_w)[:1]
    dx_slips = _z_mistakes(p, y, through_x)[:2] + _smoothing_mistakes(p, eps, k, cls,
                                                                      through_x)[:1]
    if k == d:  # a square W: the transpose has the right shape, so name it
        dw_slips.insert(0, Mistake("transposed", "Mind the layout: " + (
            "z = W x puts class i in row i of W, so ∂L/∂W = (p − y) xᵀ." if col else
            "z = x W puts class i in column i of W, so ∂L/∂W = xᵀ (p − y)."), dW.T))
        dx_slips.insert(0, Mistake("transposed", "Go back through W the other way round: "
                                   + dx_formula + ".", per_class @ g))
    g_line = f"p − y = {_vec(g)}   (that is ∂L/∂z, and also ∂L/∂b)"
    q0 = Asked(
        Question("W", form, f"Give ∂L/∂W ({shape_text(W.shape)}, the shape of W), as "
                 "[[a, b, …], …].", skills, W.shape),
        _target("W", "∂L/∂W", d_w, dw_slips),
        _solution([f"W is {shape_text(W.shape)}, so ∂L/∂W is {shape_text(W.shape)}",
                   f"x has {d} entries, p − y has {k}"],
                  ["∂L/∂z = p − y", dw_formula],
                  forward + [f"y = {_vec(y)}", g_line, "∂L/∂W ="]
                  + ["  " + line for line in matrix_lines(dW)]),
        ("∂L/∂z = p − y, and z is linear in W: ∂zᵢ/∂W is x placed in class i's "
         + ("row." if col else "column."),
         "; ".join(forward) + f"; y = {_vec(y)}."),
    )
    q1 = Asked(
        Question("x", form, f"Give ∂L/∂x ({shape_text((d,))}), as [a, b, …].",
                 ("linear-layer", "softmax-ce-grad"), (d,)),
        _target("x", "∂L/∂x", d_x, dx_slips, d_x_one_sum),
        _solution([f"x has {d} entries, so ∂L/∂x has {d}"],
                  ["∂L/∂z = p − y", dx_formula + "   (Σ over classes i of (pᵢ − yᵢ)·wᵢ)"],
                  [f"p − y = {_vec(g)}"]
                  + [f"class {i}: weights {_vec(per_class[i])} × {_num(g[i])}"
                     for i in range(k)]
                  + [f"∂L/∂x = {_vec(dx)}"]),
        ("∂L/∂x adds up, over the classes, (pᵢ − yᵢ) times class i's weights: "
         + dx_formula + ".", f"p − y = {_vec(g)}."),
    )
    q2 = Asked(
        Question("b", form, f"Give ∂L/∂b ({shape_text((k,))}), as [a, b, …].",
                 ("linear-layer", "softmax-ce-grad"), (k,)),
        _target("b", "∂L/∂b", g_hand,
                _z_mistakes(p, y)[:3] + _smoothing_mistakes(p, eps, k, cls)),
        _solution([f"b has {k} entries, like z"],
                  ["∂zᵢ/∂bᵢ = 1, so ∂L/∂b = ∂L/∂z = p − y"],
                  [forward[2], f"y = {_vec(y)}", f"∂L/∂b = {_vec(g)}"]),
        ("The bias adds straight into the logits: ∂L/∂b = ∂L/∂z.",
         f"∂L/∂z = p − y with p = {_pvec(p)}."),
    )
    return BasicProblem(NAME, seed, 3, form, body, given, loss, (q0, q1, q2))


def generate(seed: int, difficulty: int, form: str = "number") -> BasicProblem:
    from quizforge.drill.families import _grow

    grown = _grow.draw('softmax-ce', seed, difficulty, form)  # a new kind (issue 18), or None
    if grown is not None:
        return grown
    # A string seed hashes the same on every machine; the difficulty is part of it, so seed 5
    # at d1 and at d2 do not share their logits.
    rng = random.Random(f"{NAME}/{seed}/{difficulty}")
    if difficulty in (1, 2):
        return _direct(rng, difficulty, form, seed)
    if rng.random() < 0.5:
        return _temperature(rng, form, seed)
    return _linear(rng, form, seed)


FAMILY = Family(
    name=NAME,
    summary="Softmax + cross-entropy: ∂L/∂z = p − y, Jacobian, smoothing, temperature, ∂L/∂W",
    levels={1: "∂L/∂z = p − y and ∂L/∂p, one-hot target, p given",
            2: "label smoothing, p from the logits, a row and an entry of the Jacobian",
            3: "temperature: ∂L/∂z, ∂p/∂z, ∂L/∂T; or a linear layer: ∂L/∂W, ∂L/∂x, ∂L/∂b"},
    generate=generate,
    forms=("number",),
    order=20,
    example="[1/4, -1/2, 1/4]",
)
