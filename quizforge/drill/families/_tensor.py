"""Helpers shared by the tensor families (`linear`, `mlp`): friendly numbers, loss text over
element symbols, matrices laid out side by side, and the hand computations that honest
rounding replays (`band`). Not a family itself (the name starts with "_").

numpy is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from quizforge.drill.basic import SCREEN_WIDTH
from quizforge.drill.model import Mistake, fmt_exact, matrix_lines, shape_text
from quizforge.drill.rounding import band

WIDTH = SCREEN_WIDTH
SAME_RTOL = 0.005  # two values this close are the same answer to the grader


# -- friendly numbers ---------------------------------------------------------------------------
def ints(rng: random.Random, shape: tuple[int, ...], lo: int, hi: int,
         nonzero: bool = False) -> Any:
    """A float array of small integers in [lo, hi] (never 0 when `nonzero`)."""
    import numpy as np

    pool = [v for v in range(lo, hi + 1) if v != 0 or not nonzero]
    count = 1
    for n in shape:
        count *= n
    return np.array([float(rng.choice(pool)) for _ in range(count)]).reshape(shape)


def exact(v: float, max_den: int = 64) -> Fraction:
    return Fraction(float(v)).limit_denominator(max_den)


# -- loss text over element symbols -------------------------------------------------------------
def sym(name: str, *idx: int) -> str:
    """W, 0, 1 -> 'W_0_1'."""
    return name + "".join(f"_{i}" for i in idx)


def num_text(v: float) -> str:
    """An exact number for a loss expression: 2, -1, (1/3), (-2/3)."""
    f = exact(v)
    if f.denominator == 1:
        return str(f.numerator)
    return f"({f.numerator}/{f.denominator})"


def affine_text(x: str, n: int | None, w: str, j: int, b: str, depth: int,
                inputs: Sequence[str] | None = None) -> str:
    """Σ_d x[n,d]·w[d,j] + b[j] as text; `inputs` replaces the x symbols (e.g. relu(...))."""
    terms = []
    for d in range(depth):
        xin = inputs[d] if inputs is not None else (sym(x, n, d) if n is not None else sym(x, d))
        terms.append(f"{xin}*{sym(w, d, j)}")
    return " + ".join(terms) + f" + {sym(b, j)}"


def linear_functional_text(G: Any, entries: Callable[[int, int], str]) -> str:
    """Σ G[n,m]·entry(n,m) with G's numbers inline (zero entries left out)."""
    text = ""
    for n in range(G.shape[0]):
        for m in range(G.shape[1]):
            if G[n, m] != 0:
                c = num_text(abs(G[n, m]))
                sign = ("-" if G[n, m] < 0 else "") if not text else \
                    (" - " if G[n, m] < 0 else " + ")
                coef = "" if c == "1" else f"{c}*"
                text += f"{sign}{coef}({entries(n, m)})"
    return text or "0"


def mse_text(entries: Callable[[int, int], str], target: str, N: int, M: int) -> str:
    """mean over all N·M entries of (entry − T)²."""
    squares = [f"({entries(n, m)} - {sym(target, n, m)})**2"
               for n in range(N) for m in range(M)]
    return "(" + " + ".join(squares) + f")/{N * M}"


def sum_squares_text(name: str, shape: tuple[int, int]) -> str:
    return " + ".join(f"{sym(name, i, j)}**2" for i in range(shape[0]) for j in range(shape[1]))


# -- what is shown ------------------------------------------------------------------------------
def labelled(label: str, value: Any) -> list[str]:
    """'X = ' in front of the first row of a matrix, the other rows indented to match."""
    rows = matrix_lines(value)
    pad = " " * (len(label) + 3)
    return [(f"{label} = " if i == 0 else pad) + row for i, row in enumerate(rows)]


def side_by_side(items: Iterable[tuple[str, Any]], width: int = WIDTH, gap: int = 4) -> list[str]:
    """Labelled matrices next to each other, wrapped onto new groups to stay within `width`."""
    groups: list[list[list[str]]] = [[]]
    used = 0
    for label, value in items:
        block = labelled(label, value)
        w = max(len(r) for r in block)
        if groups[-1] and used + gap + w > width:
            groups.append([])
            used = 0
        used += (gap if groups[-1] else 0) + w
        groups[-1].append(block)
    out: list[str] = []
    for gi, group in enumerate(groups):
        if gi:
            out.append("")
        height = max(len(b) for b in group)
        widths = [max(len(r) for r in b) for b in group]
        for i in range(height):
            cells = [(b[i] if i < len(b) else "").ljust(w) for b, w in zip(group, widths,
                                                                           strict=True)]
            out.append((" " * gap).join(cells).rstrip())
    return out


def answer_template(shape: tuple[int, ...]) -> str:
    """(3, 2) -> '[[a, b], [c, d], [e, f]]'; (3,) -> '[a, b, c]'."""
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    if len(shape) == 1:
        return "[" + ", ".join(next(letters) for _ in range(shape[0])) + "]"
    rows = ["[" + ", ".join(next(letters) for _ in range(shape[1])) + "]"
            for _ in range(shape[0])]
    return "[" + ", ".join(rows) + "]"


def shape_words(shape: tuple[int, ...], like: str | None = None) -> str:
    """'a 3×2 matrix (the shape of W)', 'a vector of 3'."""
    text = shape_text(shape)
    if len(shape) == 2:
        text = f"a {text} matrix"
    return text + (f", the shape of {like}" if like else "")


def ask_text(label: str, shape: tuple[int, ...], like: str | None = None) -> str:
    return (f"Give {label}, {shape_words(shape, like)}, as {answer_template(shape)} "
            "(fractions like -1/3 are fine).")


# -- hand computations (replayed by `band` with rounding) ---------------------------------------
@dataclass(frozen=True)
class Way:
    """One way of working a problem by hand; the band is the union over `WAYS`.

    `running`: each running total of a sum is written down (1.33 + (−1) = 0.33 for 4/3 − 1),
    else the products are added in one go. `factor_first`: a factor like 2/(N·M) is written as
    a decimal first (0.333·(−2) = −0.666), else each entry is worked out whole (−4/6 = −0.667).
    """

    running: bool = True
    factor_first: bool = False


WAYS = (Way(running=True, factor_first=False), Way(running=False, factor_first=True))


def band_ways(compute: Callable[[Callable[[Any], Any], Way], Any]) -> tuple[Any, Any]:
    """The union of the honest-rounding bands of `compute(r, way)` over `WAYS`."""
    return band(*(lambda r, way=way: compute(r, way) for way in WAYS))


def rsum(r: Callable[[Any], Any], terms: Sequence[Any], way: Way) -> Any:
    """t0 + t1 + t2 … as a person adds them (running totals rounded, or one total)."""
    total = terms[0]
    for t in terms[1:]:
        total = r(total + t) if way.running else total + t
    return r(total)


def rmatmul(r: Callable[[Any], Any], A: Any, B: Any, way: Way) -> Any:
    """A·B as a person does it: each product written down (rounded), then the sums."""
    import numpy as np

    products = r(np.einsum("ik,kj->ikj", A, B))
    return rsum(r, [products[:, k, :] for k in range(products.shape[1])], way)


def rcolsum(r: Callable[[Any], Any], A: Any, way: Way) -> Any:
    return rsum(r, list(A), way)


def rscale(r: Callable[[Any], Any], num: float, den: float, E: Any, way: Way) -> Any:
    """(num/den)·E: as a decimal factor first, or each entry num·E/den worked out whole."""
    return r(r(num / den) * E) if way.factor_first else r(num * E / den)


# -- checks on generated numbers ----------------------------------------------------------------
def same(a: Any, b: Any) -> bool:
    """Same shape and equal within the grader's tolerance (so one cannot tell them apart)."""
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    return bool(np.all(np.abs(a - b) <= SAME_RTOL * np.abs(b) + 1e-9))


def all_distinct(values: Sequence[Any]) -> bool:
    return not any(same(values[i], values[j])
                   for i in range(len(values)) for j in range(i + 1, len(values)))


def keep_mistakes(value: Any, lo: Any, hi: Any,
                  candidates: Iterable[Mistake | None]) -> tuple[Mistake, ...]:
    """The candidates a grader can tell from the right answer, first of equal values kept."""
    import numpy as np

    kept: list[Mistake] = []
    for m in candidates:
        if m is None:
            continue
        mv = np.asarray(m.value, dtype=float)
        if same(mv, value):
            continue
        if mv.shape == np.shape(value) and np.all(mv >= lo) and np.all(mv <= hi):
            continue
        if any(same(mv, k.value) for k in kept):
            continue
        kept.append(m)
    return tuple(kept)


def distinct_lines(A: Any) -> bool:
    """No two rows and no two columns of a matrix are equal (a repeat teaches nothing)."""
    rows = {tuple(r) for r in A.tolist()}
    cols = {tuple(c) for c in A.T.tolist()}
    return len(rows) == A.shape[0] and len(cols) == A.shape[1]


def has_kind(mistakes: Iterable[Mistake], kind: str) -> bool:
    return any(m.kind == kind for m in mistakes)


def num(v: float) -> str:
    """A number inside a sentence or a worked line: 2, −1/3, 0.5 (parenthesised if negative)."""
    s = fmt_exact(v)
    return f"({s})" if s.startswith("-") else s


def dot_text(a: Any, b: Any) -> str:
    """'1·2 + (−1)·3': a row times a column, written out."""
    return " + ".join(f"{num(x)}·{num(y)}" for x, y in zip(a, b, strict=True))


def mse_g_variants(E: Any, N: int, M: int) -> list[tuple[str, str, Any]]:
    """Wrong versions of G = ∂L/∂Y = 2E/(N·M) for L = mean over N·M entries of E², E = Y − T:
    (kind, message, G')."""
    NM = N * M
    return [
        ("sign", ("You used T − Y: the error is prediction minus target, Y − T, so every "
                 "sign flips."), -2 * E / NM),
        ("missing-1/N", (f"You left out the mean: L averages over N·M = {NM} entries, so "
                        f"∂L/∂Y = 2(Y − T)/{NM}."), 2 * E),
        ("missing-1/N", (f"You divided by N = {N} only; the mean runs over all N·M = {NM} "
                        f"entries, so ∂L/∂Y = 2(Y − T)/{NM}."), 2 * E / N),
        ("mse-factor-2", ("You left out the 2 from differentiating the square: "
                         f"∂(Y − T)²/∂Y = 2(Y − T), so ∂L/∂Y = 2(Y − T)/{NM}."), E / NM),
    ]
