"""Batch norm and layer norm backward in training mode (ε = 0): ∂L/∂γ, ∂L/∂β and ∂L/∂x.

The forward pass normalises a group of numbers (one feature over the batch for batch norm,
one sample over its features for layer norm): μ = mean, σ² = biased variance, x̂ = (x − μ)/σ,
y = γ·x̂ + β. The loss is L = Σ g·y with a given upstream gradient g = ∂L/∂y. The answers:

    ∂L/∂β = Σ g        ∂L/∂γ = Σ g·x̂        (summed over the batch: γ, β are shared)
    ∂L/∂x = (1/σ)·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))   with ĝ = γ·g, means over the group

Inputs are built backwards from friendly normalised patterns (x̂ with mean 0 and variance 1
made of thirds, fifths or ±1), so every σ is an integer and a candidate needs no calculator.
Groups of 2 are only used where ∂L/∂x is not asked: with two numbers x̂ = ±1 whatever x is,
so ∂L/∂x is always zero there.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
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
from quizforge.drill.rounding import Rounder, band

# Deviations from the mean of a group of 4 (integers), with the σ they give (biased variance):
# x̂ = deviation / σ has mean 0 and variance 1. With entries in halves, thirds or quarters,
# ±1 is the only such x̂; thirds and fifths add two more. Weights: the ±1 kind is the easiest
# and the least varied, and more of the others are refused as unfriendly later.
PATTERNS_4 = (
    ((-1, -1, 1, 1), 1),
    ((-2, -2, 2, 2), 2),
    ((-3, -3, 3, 3), 3),
    ((5, -1, -1, -3), 3),  # x̂ = 5/3, -1/3, -1/3, -1
    ((-7, -1, 1, 7), 5),  # x̂ = -1.4, -0.2, 0.2, 1.4
)
PATTERN_WEIGHTS = (2, 2, 1, 2.5, 2.5)
GAMMAS = (0.5, 1.0, 1.5, 2.0, 3.0)
# Denominators a whiteboard tolerates in an answer or a written intermediate.
NICE_DENOMINATORS = frozenset({1, 2, 3, 4, 5, 6, 8, 10, 16, 20, 25, 50, 100})
MAX_ABS = 30
DISTINCT = 0.05  # a mistake must differ from the answer by 5% of its largest entry

BN_TITLE = "Batch norm, training mode (ε = 0)"
LN_TITLE = "Layer norm (ε = 0)"


# -- the hand computation ------------------------------------------------------------------------
def _forward(r: Rounder, x: Any, axis: int) -> tuple[Any, Any, Any, Any]:
    """μ, σ², σ and x̂ with statistics along `axis` (kept as a length-1 axis)."""
    import numpy as np

    n = x.shape[axis]
    mu = r(x.sum(axis=axis, keepdims=True) / n)
    d = r(x - mu)
    var = r(r(d * d).sum(axis=axis, keepdims=True) / n)
    sigma = r(np.sqrt(var))
    return mu, var, sigma, r(d / sigma)


def _dgamma(r: Rounder, x: Any, g: Any, axis: int) -> Any:
    xhat = _forward(r, x, axis)[3]
    return r(r(g * xhat).sum(axis=0))


def _dbeta(r: Rounder, g: Any) -> Any:
    return r(g.sum(axis=0))


def _dx(r: Rounder, x: Any, g: Any, gamma: Any, axis: int) -> Any:
    """Batch norm (axis 0): γ/σ is one number per feature, taken out in front. Layer norm
    (axis 1): γ changes along the normalised axis, so it goes in first, ĝ = γ·g."""
    n = x.shape[axis]
    _, _, sigma, xhat = _forward(r, x, axis)
    if axis == 0:
        m1 = r(g.sum(axis=0, keepdims=True) / n)
        m2 = r(r(g * xhat).sum(axis=0, keepdims=True) / n)
        inner = r(g - m1 - r(xhat * m2))
        return r(r(gamma / sigma) * inner)
    ghat = r(gamma * g)
    m1 = r(ghat.sum(axis=1, keepdims=True) / n)
    m2 = r(r(ghat * xhat).sum(axis=1, keepdims=True) / n)
    inner = r(ghat - m1 - r(xhat * m2))
    return r(inner / sigma)


# -- numbers that suit a whiteboard --------------------------------------------------------------
def _nice(value: Any) -> bool:
    import numpy as np

    for v in np.asarray(value, dtype=float).ravel():
        f = Fraction(float(v)).limit_denominator(1000)
        if abs(float(f) - v) > 1e-9 or f.denominator not in NICE_DENOMINATORS or abs(v) > MAX_ABS:
            return False
    return True


def _snap(value: Any) -> Any:
    """Float noise off an exact answer: 7e-17 is 0, 0.33333333333333326 is 1/3."""
    import numpy as np

    def one(v: float) -> float:
        f = Fraction(float(v)).limit_denominator(1000)
        return float(f) if abs(float(f) - v) < 1e-9 else float(v)

    if np.ndim(value) == 0:
        return one(value)
    return np.vectorize(one, otypes=[float])(value)


def _differs(a: Any, b: Any) -> bool:
    """Different shape, or some entry further than DISTINCT of b's largest entry."""
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return True
    scale = max(float(np.max(np.abs(b))), 1e-9) if b.size else 1e-9
    return bool(np.max(np.abs(a - b)) > DISTINCT * scale)


def _group(rng: random.Random, n: int) -> tuple[list[float], int]:
    """A group of n friendly numbers: (values, σ)."""
    if n == 2:
        s = rng.choice((1, 2, 3, 4))
        dev, sigma = [-s, s], s
    else:
        dev, sigma = rng.choices(PATTERNS_4, PATTERN_WEIGHTS)[0]
        dev = list(dev)
        rng.shuffle(dev)
        if rng.random() < 0.5:
            dev = [-d for d in dev]
    mu = rng.randint(-3, 3)
    return [float(mu + d) for d in dev], sigma


def _g_values(rng: random.Random, n: int, zero_mean: bool = False, halves: bool = False) -> list[float]:
    while True:
        if halves:
            g = [rng.randint(-4, 4) / 2 for _ in range(n)]
        else:
            g = [float(rng.randint(-3, 3)) for _ in range(n)]
        if zero_mean:
            g[-1] = -sum(g[:-1])
            if abs(g[-1]) > 3:
                continue
        if sum(1 for v in g if v != 0) >= 2:
            return g


# -- the problem as data ---------------------------------------------------------------------------
class _Setup:
    """One problem's numbers. x, g are 2-D (N×F); stats run along `axis` (0 batch norm, 1 layer
    norm); gamma, beta have one entry per feature; `scalar` marks the one-feature case."""

    def __init__(self, kind: str, x: Any, g: Any, gamma: Any, beta: Any, axis: int):
        self.kind, self.x, self.g, self.gamma, self.beta, self.axis = kind, x, g, gamma, beta, axis
        self.scalar = x.shape[1] == 1
        # Input names. A bare `gamma` or `beta` would be read by SymPy (and other CAS) as the
        # Gamma and Beta functions, so one feature's scalars are gamma_0 and beta_0, the same
        # symbols feature 0 has when γ and β are vectors.
        self.names = ("gamma_0", "beta_0") if self.scalar else ("gamma", "beta")

    # values in the shapes the learner sees
    def outer(self, v: Any) -> Any:
        import numpy as np

        v = np.asarray(v, dtype=float)
        if not self.scalar:
            return v
        if v.ndim == 2 and v.shape[1] == 1:
            return v[:, 0]
        if v.shape == (1,):
            return float(v[0])
        return v


def _make(rng: random.Random, difficulty: int) -> _Setup:
    import numpy as np

    def gam(k: int) -> Any:
        return np.array([rng.choice(GAMMAS) for _ in range(k)])

    def bet(k: int) -> Any:
        return np.array([float(rng.randint(-2, 2)) for _ in range(k)])

    if difficulty == 1:
        if rng.random() < 0.4:
            n, kind, halves, zero_mean = 2, "pair", True, False
        else:
            n, kind, halves, zero_mean = 4, "zero-mean", False, True
        x = np.array(_group(rng, n)[0]).reshape(n, 1)
        g = np.array(_g_values(rng, n, zero_mean, halves)).reshape(n, 1)
        return _Setup(kind, x, g, gam(1), bet(1), 0)
    if difficulty == 2 and rng.random() < 0.5:
        x = np.array(_group(rng, 4)[0]).reshape(4, 1)
        g = np.array(_g_values(rng, 4)).reshape(4, 1)
        return _Setup("one", x, g, gam(1), bet(1), 0)
    if difficulty == 2:
        x = np.array([_group(rng, 4)[0] for _ in range(2)]).T
        g = np.array(_g_values(rng, 8)).reshape(4, 2)
        return _Setup("two", x, g, gam(2), bet(2), 0)
    x = np.array([_group(rng, 4)[0] for _ in range(2)])
    g = np.array(_g_values(rng, 8)).reshape(2, 4)
    gamma = np.array([rng.choice((0.5, 1.0, 1.0, 2.0)) for _ in range(4)])
    return _Setup("layer", x, g, gamma, bet(4), 1)


# -- mistakes --------------------------------------------------------------------------------------
def _other_axis_xhat(s: _Setup) -> Any | None:
    """x̂ with the statistics taken along the other axis (None if a variance there is 0)."""
    import numpy as np

    other = 1 - s.axis
    d = s.x - s.x.mean(axis=other, keepdims=True)
    var = (d * d).mean(axis=other, keepdims=True)
    if np.any(var == 0):
        return None
    return d / np.sqrt(var)


def _axis_words(s: _Setup) -> tuple[str, str]:
    """(what the statistics run over, what the wrong axis would be)."""
    if s.axis == 0:
        return "over the batch, per feature", "over the features of each sample"
    return "over the features of each sample", "over the batch, per feature"


def _mistakes_dgamma(s: _Setup, value: Any) -> list[Mistake]:
    _, _, _, xhat = _forward(lambda t: t, s.x, s.axis)
    out = [
        Mistake("dgamma-no-xhat", "You added up g alone, which is ∂L/∂β. Each yᵢ depends on γ "
                "through γ·x̂ᵢ, so every gᵢ must be weighted by x̂ᵢ: ∂L/∂γ = Σ gᵢ·x̂ᵢ.",
                s.outer(s.g.sum(axis=0))),
        Mistake("dgamma-raw-x", "You weighted g by the raw x; γ multiplies the normalised x̂ = "
                "(x − μ)/σ, so ∂L/∂γ = Σ gᵢ·x̂ᵢ.", s.outer((s.g * s.x).sum(axis=0))),
        Mistake("no-batch-sum", "These are the per-sample terms gᵢ·x̂ᵢ. γ is shared by every "
                "sample, so its gradient adds them up over the batch.", s.outer(s.g * xhat)),
    ]
    other = _other_axis_xhat(s) if not s.scalar else None
    if other is not None:
        right, wrong = _axis_words(s)
        out.append(Mistake("wrong-axis", f"You normalised {wrong}; here the statistics are "
                           f"taken {right}. Recompute μ, σ and x̂ along that axis.",
                           s.outer((s.g * other).sum(axis=0))))
    out += [
        Mistake("mean-not-sum", "You averaged over the batch; the loss is a sum, so the "
                "gradient of the shared γ is the plain sum Σ gᵢ·x̂ᵢ (no 1/N).",
                value / s.x.shape[0]),
        Mistake("sign", "Right size, wrong sign: ∂L/∂γ = +Σ gᵢ·x̂ᵢ; check the signs of "
                "x̂ (x below the mean gives a negative x̂).", -value),
        Mistake("unbiased-variance", _UNBIASED.format(n=s.x.shape[s.axis]),
                s.outer((s.g * _unbiased_xhat(s)).sum(axis=0))),
    ]
    return out


_UNBIASED = ("You divided the variance by N − 1 = {n} − 1. Batch norm and layer norm "
             "normalise with the biased variance, Σ(x − μ)²/N, also in training.")


def _unbiased_xhat(s: _Setup) -> Any:
    """x̂ with the variance divided by N − 1 (torch.var's default, not batch norm's)."""
    import numpy as np

    n = s.x.shape[s.axis]
    d = s.x - s.x.mean(axis=s.axis, keepdims=True)
    return d / np.sqrt((d * d).sum(axis=s.axis, keepdims=True) / (n - 1))


def _mistakes_dbeta(s: _Setup, value: Any) -> list[Mistake]:
    out = [Mistake("no-batch-sum", "This is g itself, one entry per sample. β is shared by the "
                   "whole batch, so ∂L/∂β adds up g over the batch.", s.outer(s.g))]
    if not s.scalar:
        out.append(Mistake("wrong-axis", "You summed over the features of each sample. β has "
                           "one entry per feature, so sum each feature's g down the batch "
                           "(over the rows).", s.g.sum(axis=1)))
    out += [
        Mistake("mean-not-sum", "You averaged g; the loss is a sum over the batch, so ∂L/∂β is "
                "the plain sum Σ gᵢ (no 1/N).", value / s.x.shape[0]),
        Mistake("sign", "Wrong sign: ∂yᵢ/∂β = +1, so ∂L/∂β = +Σ gᵢ.", -value),
        Mistake("gamma-beta-swapped", "That is ∂L/∂γ = Σ gᵢ·x̂ᵢ. β is only added, y = γ·x̂ + β, "
                "so ∂yᵢ/∂β = 1 and ∂L/∂β = Σ gᵢ.",
                s.outer((s.g * _forward(lambda t: t, s.x, s.axis)[3]).sum(axis=0))),
    ]
    return out


def _mistakes_dx(s: _Setup, value: Any) -> list[Mistake]:
    import numpy as np

    axis = s.axis
    n = s.x.shape[axis]
    _, _, sigma, xhat = _forward(lambda t: t, s.x, axis)
    ghat = s.gamma * s.g

    def parts(gh: Any) -> tuple[Any, Any]:
        return (gh.mean(axis=axis, keepdims=True),
                xhat * (gh * xhat).mean(axis=axis, keepdims=True))

    m1, m2 = parts(ghat)
    if axis == 0:
        group, over = "every x in the batch", "over the batch"
        formula, g_, factor = "(γ/σ)·(g − mean(g) − x̂·mean(g·x̂))", "g", "γ/σ"
    else:
        group, over = "every x of the same sample", "over the sample's features"
        formula = "(1/σ)·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = γ·g"
        g_, factor = "ĝ", "1/σ"
    out = [
        Mistake("bn-constant-stats", f"You treated μ and σ as constants (γ·g/σ). Both depend "
                f"on {group}, which adds two more paths: ∂L/∂x = {formula}.",
                s.outer(ghat / sigma)),
        Mistake("forgot-mean-term", f"You left out −mean({g_}), the path through μ. Subtract "
                f"the mean of {g_} ({over}) as well: ∂L/∂x = {formula}.",
                s.outer((ghat - m2) / sigma)),
        Mistake("forgot-xhat-term", f"You left out −x̂·mean({g_}·x̂), the path through σ. Add "
                f"it: ∂L/∂x = {formula}.", s.outer((ghat - m1) / sigma)),
        Mistake("var-not-std", f"You divided by σ² instead of σ; x̂ = (x − μ)/σ, so the factor "
                f"in front is {factor}.", s.outer((ghat - m1 - m2) / (sigma * sigma))),
    ]
    if np.any(s.gamma != 1):
        out.append(Mistake("no-gamma", "You left out γ: the gradient reaching x̂ is γ·g, not g.",
                           s.outer((s.g - sum(parts(s.g))) / sigma)))
    if axis == 1 and len(set(s.gamma.tolist())) > 1:
        g1, g2 = parts(s.g)
        out.append(Mistake("gamma-outside", "You applied γ after the centring. In layer norm γ "
                           "changes from feature to feature, so form ĝ = γ·g first and take the "
                           "means of ĝ and ĝ·x̂.", s.outer(s.gamma * (s.g - g1 - g2) / sigma)))
    out.append(Mistake("missing-1/N", f"You used sums where the formula has means; divide "
                       f"Σ {g_} and Σ {g_}·x̂ by {n}.",
                       s.outer((ghat - n * m1 - n * m2) / sigma)))
    if not s.scalar and _other_axis_xhat(s) is not None:
        right, wrong = _axis_words(s)
        out.append(Mistake("wrong-axis", f"You normalised {wrong}: with two values x̂ = ±1 "
                           f"whatever x is, so everything cancels to 0. Here the statistics are "
                           f"taken {right}.", s.outer(np.zeros_like(s.x))))
    out.append(Mistake("sign", f"Every entry has the wrong sign: check the signs in {formula}.",
                       -value))
    xu = _unbiased_xhat(s)
    su = sigma * np.sqrt(n / (n - 1))
    gm = ghat.mean(axis=axis, keepdims=True)
    out.append(Mistake("unbiased-variance", _UNBIASED.format(n=n),
                       s.outer((ghat - gm - xu * (ghat * xu).mean(axis=axis, keepdims=True))
                               / su)))
    if np.any(s.beta != s.gamma):
        bhat = s.beta * s.g
        out.append(Mistake("gamma-beta-swapped", "You used β where γ belongs: y = γ·x̂ + β, "
                           "so the gradient reaching x̂ is γ·g; β does not reach x at all.",
                           s.outer((bhat - sum(parts(bhat))) / sigma)))
    return out


def _keep(value: Any, mistakes: list[Mistake]) -> tuple[Mistake, ...]:
    """Drop slips that give the right answer here, and repeats of an earlier slip's value."""
    kept: list[Mistake] = []
    for m in mistakes:
        if _differs(m.value, value) and all(_differs(m.value, k.value) for k in kept):
            kept.append(m)
    return tuple(kept)


# -- text ------------------------------------------------------------------------------------------
def _n(v: Any) -> str:
    return tensor_text(v)


def _side_by_side(items: list[tuple[str, Any]]) -> list[str]:
    """Matrices with labels, next to each other: 'x = ⎡ 1 2 ⎤   g = ⎡ … ⎤'."""
    blocks = []
    for label, value in items:
        rows = matrix_lines(value)
        pad = " " * (len(label) + 3)
        mid = (len(rows) - 1) // 2
        lines = [(f"{label} = " if i == mid else pad) + row for i, row in enumerate(rows)]
        width = max(len(t) for t in lines)
        blocks.append([t.ljust(width) for t in lines])
    height = max(len(b) for b in blocks)
    out = []
    for i in range(height):
        out.append("    ".join(b[i] if i < len(b) else " " * len(b[0]) for b in blocks).rstrip())
    return out


def _body(s: _Setup) -> tuple[Lines, ...]:
    n, f = s.x.shape
    if s.scalar:
        defs = (f"One feature over a batch of N = {n}:",
                "  μ = mean(x),  σ² = mean((x − μ)²)  (biased, as in training),  x̂ = (x − μ)/σ",
                "  yᵢ = γ·x̂ᵢ + β,   L = Σᵢ gᵢ·yᵢ   (g = ∂L/∂y is the upstream gradient)")
        given = (f"x = {_n(s.outer(s.x))}    γ = {_n(s.outer(s.gamma))}    β = "
                 + _n(s.outer(s.beta)), f"g = ∂L/∂y = {_n(s.outer(s.g))}")
        return Lines(BN_TITLE, defs), Lines("Given", given)
    if s.axis == 0:
        title = BN_TITLE
        defs = (f"x is {n}×{f}: {n} samples (rows) × {f} features (columns).",
                "Batch norm keeps one μ, σ per feature: statistics down each column (the batch).",
                "  μ_f = mean over n of x[n,f],  σ_f² = mean over n of (x[n,f] − μ_f)²  (biased)")
    else:
        title = LN_TITLE
        defs = (f"x is {n}×{f}: {n} samples (rows) × {f} features (columns).",
                f"Layer norm normalises each sample over its own {f} features: statistics along",
                "each row (not over the batch).",
                "  μ_n = mean over f of x[n,f],  σ_n² = mean over f of (x[n,f] − μ_n)²  (biased)")
    stat = "_f" if s.axis == 0 else "_n"
    defs += (f"  x̂[n,f] = (x[n,f] − μ{stat})/σ{stat},  y[n,f] = γ_f·x̂[n,f] + β_f  (γ, β per feature)",
             "  L = Σ g[n,f]·y[n,f]   (g = ∂L/∂y is the upstream gradient)")
    given = tuple(_side_by_side([("x", s.x), ("g = ∂L/∂y", s.g)]))
    given += (f"γ = {_n(s.gamma)}    β = {_n(s.beta)}",)
    return Lines(title, defs), Lines("Given", given)


def _groups(s: _Setup) -> list[tuple[str, Any, Any, Any]]:
    """(name, x, g, γ) per normalisation group, 1-D."""
    if s.scalar:
        return [("", s.x[:, 0], s.g[:, 0], s.gamma[0])]
    if s.axis == 0:
        return [(f"feature {j} (column {j})", s.x[:, j], s.g[:, j], s.gamma[j])
                for j in range(s.x.shape[1])]
    return [(f"sample {i} (row {i})", s.x[i], s.g[i], s.gamma) for i in range(s.x.shape[0])]


def _forward_lines(s: _Setup) -> list[str]:
    import numpy as np

    out = []
    for name, x, _, _ in _groups(s):
        mu = float(np.mean(x))
        var = float(np.mean((x - mu) ** 2))
        sigma = math.sqrt(var)
        xhat = (x - mu) / sigma
        head = f"{name}: " if name else ""
        out.append(f"{head}μ = {_n(mu)}, σ² = {_n(var)}, σ = {_n(sigma)}, x̂ = {_n(xhat)}")
    return out


def _shapes(s: _Setup) -> str:
    n, f = s.x.shape
    if s.scalar:
        return f"x, g: {n} entries; γ, β: scalars. ∂L/∂γ, ∂L/∂β: scalars; ∂L/∂x: {n} entries."
    return (f"x, g, ∂L/∂x: {n}×{f}; γ, β, ∂L/∂γ, ∂L/∂β: {f} (one per feature).")


def _solution_dgamma(s: _Setup, value: Any) -> tuple[Lines, ...]:
    import numpy as np

    _, _, _, xhat = _forward(lambda t: t, s.x, s.axis)
    nums = []
    for j in range(s.x.shape[1]):
        terms = " + ".join(f"({_n(a)})·({_n(b)})" for a, b in zip(s.g[:, j], xhat[:, j],
                                                                    strict=True))
        head = "" if s.scalar else f"γ_{j}: "
        nums.append(f"{head}{terms} = {_n(float(np.sum(s.g[:, j] * xhat[:, j])))}")
    return (Lines("Shapes", (_shapes(s),)),
            Lines("Forward", tuple(_forward_lines(s))),
            Lines("Formula", ("∂yᵢ/∂γ = x̂ᵢ, and γ is shared by the batch:",
                              "  ∂L/∂γ = Σ over the batch of g·x̂")),
            Lines("Numbers", tuple(nums)),
            Lines("Answer", (f"∂L/∂γ = {_n(value)}",)))


def _solution_dbeta(s: _Setup, value: Any) -> tuple[Lines, ...]:
    nums = []
    for j in range(s.x.shape[1]):
        head = "" if s.scalar else f"β_{j}: "
        terms = " + ".join(f"({_n(v)})" for v in s.g[:, j])
        nums.append(f"{head}{terms} = {_n(float(s.g[:, j].sum()))}")
    return (Lines("Shapes", (_shapes(s),)),
            Lines("Formula", ("∂yᵢ/∂β = 1, and β is shared by the batch:",
                              "  ∂L/∂β = Σ over the batch of g")),
            Lines("Numbers", tuple(nums)),
            Lines("Answer", (f"∂L/∂β = {_n(value)}",)))


def _solution_dx(s: _Setup, value: Any) -> tuple[Lines, ...]:
    import numpy as np

    if s.axis == 0:
        formula = ("μ and σ depend on every x in the batch, so three paths reach each xᵢ:",
                   "  ∂L/∂x = (γ/σ)·(g − mean(g) − x̂·mean(g·x̂)),  means over the batch")
    else:
        formula = ("μ and σ of a row depend on every x in that row, and γ changes along it:",
                   "  ĝ = γ·g,  ∂L/∂xₙ = (1/σₙ)·(ĝ − mean(ĝ) − x̂ₙ·mean(ĝ·x̂ₙ)),",
                   "  means over the features of row n")
    nums = []
    for name, x, g, gamma in _groups(s):
        mu = float(np.mean(x))
        sigma = math.sqrt(float(np.mean((x - mu) ** 2)))
        xhat = (x - mu) / sigma
        gh = g if s.axis == 0 else gamma * g  # batch norm keeps γ/σ outside
        m1, m2 = float(np.mean(gh)), float(np.mean(gh * xhat))
        inner = gh - m1 - xhat * m2
        head = f"{name}: " if name else ""
        gname = "ĝ" if s.axis == 1 else "g"
        if s.axis == 1:
            nums.append(f"{head}ĝ = {_n(gh)}")
            head = "  "
        nums.append(f"{head}mean({gname}) = {_n(m1)}, mean({gname}·x̂) = {_n(m2)}")
        nums.append(f"  {gname} − mean({gname}) − x̂·mean({gname}·x̂) = {_n(inner)}")
        factor = f"γ/σ = {_n(gamma)}/{_n(sigma)}" if s.axis == 0 else f"1/σ = 1/{_n(sigma)}"
        scale = gamma / sigma if s.axis == 0 else 1 / sigma
        nums.append(f"  × {factor} → {_n(scale * inner)}")
    answer = [f"∂L/∂x = {_n(value)}"] if s.scalar else ["∂L/∂x ="] + matrix_lines(value)
    return (Lines("Shapes", (_shapes(s),)),
            Lines("Forward", tuple(_forward_lines(s))),
            Lines("Formula", formula),
            Lines("Numbers", tuple(nums)),
            Lines("Answer", tuple(answer)))


def _hints(s: _Setup, what: str) -> tuple[str, str]:
    fwd = "; ".join(_forward_lines(s))
    if what == "beta":
        return ("∂yᵢ/∂β = 1 for every sample, and β is shared: add g up over the batch.",
                "∂L/∂β has one entry per feature: sum each feature's g over the batch "
                "(down the column)." if not s.scalar else
                f"∂L/∂β is a scalar: the sum of the {s.x.shape[0]} entries of g.")
    if what == "gamma":
        return ("∂yᵢ/∂γ = x̂ᵢ, and γ is shared by the batch: ∂L/∂γ = Σ gᵢ·x̂ᵢ.",
                f"Forward first: {fwd}.")
    if s.axis == 1:
        first = ("Per row: ĝ = γ·g, then ∂L/∂xₙ = (1/σₙ)·(ĝ − mean(ĝ) − x̂ₙ·mean(ĝ·x̂ₙ)), "
                 "means over the 4 features of that row.")
    else:
        first = ("μ and σ depend on every x, so ∂L/∂x is not just γ·g/σ: "
                 "∂L/∂x = (γ/σ)·(g − mean(g) − x̂·mean(g·x̂)), means over the batch.")
    return first, f"Forward first: {fwd}."


# -- the loss as one scalar expression ---------------------------------------------------------------
def _loss(s: _Setup) -> str:
    n, f = s.x.shape

    def sym(i: int, j: int) -> str:
        return f"x_{i}" if s.scalar else f"x_{i}_{j}"

    terms = []
    for i in range(n):
        for j in range(f):
            gv = float(s.g[i, j])
            if gv == 0:
                continue
            group = ([sym(k, j) for k in range(n)] if s.axis == 0
                     else [sym(i, k) for k in range(f)])
            m = f"({' + '.join(group)})/{len(group)}"
            v = f"({' + '.join(f'({t} - {m})**2' for t in group)})/{len(group)}"
            y = f"gamma_{j}*({sym(i, j)} - {m})/sqrt({v}) + beta_{j}"
            terms.append(f"({fmt_exact(gv)})*({y})")
    return " + ".join(terms)


# -- generate ----------------------------------------------------------------------------------------
def _asked_dgamma(s: _Setup, form: str, draft: bool = False) -> Asked:
    import numpy as np

    compute = lambda r: s.outer(_dgamma(r, s.x, s.g, s.axis))
    value = _snap(compute(lambda t: t))
    lo, hi = (value, value) if draft else band(compute)
    f = s.x.shape[1]
    ask = ("Give ∂L/∂γ (a scalar)." if s.scalar else
           f"Give ∂L/∂γ (a vector of {f}, one per feature), as "
           f"[{', '.join('abcd'[:f])}].")
    mistakes = _keep(value, _mistakes_dgamma(s, np.asarray(value)))
    skills = ("bn-dgamma", "layernorm") if s.axis == 1 else ("bn-dgamma",)
    return Asked(Question(s.names[0], form, ask, skills, np.shape(value)),
                 Target(s.names[0], "∂L/∂γ", value, lo, hi, mistakes),
                 () if draft else _solution_dgamma(s, value), () if draft else _hints(s, "gamma"))


def _asked_dbeta(s: _Setup, form: str, draft: bool = False) -> Asked:
    import numpy as np

    compute = lambda r: s.outer(_dbeta(r, s.g))
    value = _snap(compute(lambda t: t))
    lo, hi = (value, value) if draft else band(compute)
    f = s.x.shape[1]
    ask = ("Give ∂L/∂β (a scalar)." if s.scalar else
           f"Give ∂L/∂β (a vector of {f}, one per feature), as [{', '.join('abcd'[:f])}].")
    mistakes = _keep(value, _mistakes_dbeta(s, np.asarray(value)))
    skills = ("bn-dbeta", "layernorm") if s.axis == 1 else ("bn-dbeta",)
    return Asked(Question(s.names[1], form, ask, skills, np.shape(value)),
                 Target(s.names[1], "∂L/∂β", value, lo, hi, mistakes),
                 () if draft else _solution_dbeta(s, value), () if draft else _hints(s, "beta"))


def _asked_dx(s: _Setup, form: str, draft: bool = False) -> Asked:
    import numpy as np

    compute = lambda r: s.outer(_dx(r, s.x, s.g, s.gamma, s.axis))
    value = _snap(compute(lambda t: t))
    lo, hi = (value, value) if draft else band(compute)
    n, f = s.x.shape
    if s.scalar:
        ask = f"Give ∂L/∂x ({shape_text((n,))}), as [{', '.join('abcd'[:n])}]."
    elif s.axis == 0:
        ask = f"Give ∂L/∂x ({n}×{f}), as [[a, b], [c, d], …], one row per sample."
    else:
        ask = (f"Give ∂L/∂x ({n}×{f}), as [[a, b, c, d], [e, f, g, h]], "
               "one row per sample.")
    mistakes = _keep(value, _mistakes_dx(s, value))
    skills = ("layernorm",) if s.axis == 1 else ("bn-dx",)
    return Asked(Question("x", form, ask, skills, np.shape(value)),
                 Target("x", "∂L/∂x", value, lo, hi, mistakes),
                 () if draft else _solution_dx(s, value), () if draft else _hints(s, "x"))


ORDER = {
    "pair": ("gamma", "beta"),
    "zero-mean": ("x", "gamma"),
    "one": ("x", "gamma", "beta"),
    "two": ("gamma", "beta", "x"),
    "layer": ("x", "gamma", "beta"),
}
BUILD = {"gamma": _asked_dgamma, "beta": _asked_dbeta, "x": _asked_dx}
NEEDED = {  # slips each question must be able to tell apart on the numbers chosen
    "x": ("bn-constant-stats",),
    "gamma": ("dgamma-no-xhat", "no-batch-sum"),
    "beta": ("no-batch-sum",),
}


def _acceptable(s: _Setup, asked: list[Asked]) -> bool:
    import numpy as np

    values = [a.target.value for a in asked]
    for i, a in enumerate(values):
        if any(not _differs(a, b) for b in values[:i]):
            return False
    for what, a in zip(ORDER[s.kind], asked, strict=True):
        kinds = {m.kind for m in a.target.mistakes}
        need = set(NEEDED[what])
        if what == "x" and s.kind != "zero-mean":
            # with mean(g) = 0, forgetting mean(g) changes nothing and forgetting the x̂ term
            # is the same as treating μ, σ as constants: only required where they differ
            need |= {"forgot-mean-term", "forgot-xhat-term"}
        if not need <= kinds or not _nice(a.target.value):
            return False
        if np.all(np.asarray(a.target.value) == 0):
            return False
    # the intermediates a candidate writes down are friendly too
    for _, x, g, gamma in _groups(s):
        mu = float(np.mean(x))
        xhat = (x - mu) / math.sqrt(float(np.mean((x - mu) ** 2)))
        gh = g if s.axis == 0 else gamma * g
        m2 = float(np.mean(gh * xhat))
        if not _nice([np.mean(gh), m2]) or not _nice(xhat * m2) or not _nice(gh - xhat * m2):
            return False
    return True


def generate(seed: int, difficulty: int, form: str = "number") -> BasicProblem:
    from quizforge.drill.families import _grow

    grown = _grow.draw('batchnorm', seed, difficulty, form)  # a new kind (issue 18), or None
    if grown is not None:
        return grown
    rng = random.Random(seed)
    while True:
        s = _make(rng, difficulty)
        # bands and text (the costly part) only for the problem that is kept
        if _acceptable(s, [BUILD[w](s, form, True) for w in ORDER[s.kind]]):
            break
    asked = [BUILD[w](s, form) for w in ORDER[s.kind]]
    gamma, beta = s.names
    given = {"x": s.outer(s.x), gamma: s.outer(s.gamma), beta: s.outer(s.beta)}
    return BasicProblem("batchnorm", seed, difficulty, form, _body(s), given, _loss(s),
                        tuple(asked))


FAMILY = Family(
    name="batchnorm",
    summary="Batch norm and layer norm backward (training mode, ε = 0): ∂L/∂γ, ∂L/∂β, ∂L/∂x",
    levels={1: "one feature, 2 or 4 samples: ∂L/∂γ and ∂L/∂β, or ∂L/∂x with mean(g) = 0",
            2: "∂L/∂x with mean(g) ≠ 0, or two features with per-feature statistics",
            3: "layer norm on 2 samples × 4 features: ∂L/∂x, ∂L/∂γ, ∂L/∂β"},
    generate=generate,
    forms=("number",),
    order=50,
    example="[0.5, -1, 0.25, 0.25]",
)
