"""`conv`: 1-D and 2-D convolution by hand, as PyTorch computes it (cross-correlation).

A tiny layer with one output channel and small integers, y = conv(x, w) + b, and a given
upstream gradient G = ∂L/∂y. Every problem asks three questions: ∂L/∂w and ∂L/∂x, and one of

- the output size of a Conv1d/Conv2d with a stated kernel size, stride, padding and dilation
  on a longer input (so that the formula ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1 is needed),
- the forward value y, or
- ∂L/∂b = Σᵢ G[i],

drawn per problem. ∂L/∂w[u] = Σᵢ G[i]·x[i·s + u] is the (padded) input correlated with G;
∂L/∂x sends every G[i]·w back onto the window it came from: the full correlation of G (with
s − 1 zeros between its entries) with the flipped kernel, i.e. the transposed convolution,
with the padding positions cropped off.

d1: 1-D, stride 1, no padding; d2: 2-D (3×3 or 4×4 input, 2×2 kernel) or 1-D with padding 1;
d3: 1-D with stride 2, or two input channels. Every number is an integer, so the answers are
exact. The named mistakes are the ones interviewers look for: the kernel flipped in the
forward pass or not flipped for ∂L/∂x, the stride ignored, the padding not cropped from
∂L/∂x, ∂L/∂b as a mean, and the output size off by one (the + 1 or the floor).

Arrays are built here in plain Python (index tuples) and handed over as
numpy arrays (numpy imported inside the functions).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from quizforge.drill.basic import SCREEN_WIDTH, Asked, BasicProblem, fits_screen
from quizforge.drill.families._tensor import answer_template, keep_mistakes, num, side_by_side
from quizforge.drill.family import Family
from quizforge.drill.model import Lines, Mistake, Question, Target, fmt_exact, shape_text
from quizforge.drill.rounding import band

Index = tuple[int, ...]
Grid = dict[Index, float]  # (channel, *position) -> value, or position -> value for y and G


def conv_out(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
             dilation: int = 1) -> int:
    """PyTorch's output size along one axis: ⌊(L + 2p − d·(k − 1) − 1)/s⌋ + 1."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def _cells(shape: Iterable[int]) -> list[Index]:
    return list(itertools.product(*(range(n) for n in shape)))


# -- the layer ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Layer:
    """A one-output-channel convolution with its numbers: x (C, *S), w (C, *K), b, G (*O)."""

    C: int
    S: Index  # spatial input shape
    K: Index  # spatial kernel shape
    stride: int
    padding: int
    x: Grid
    w: Grid
    b: float
    G: Grid

    @property
    def dims(self) -> int:
        return len(self.S)

    @property
    def O(self) -> Index:  # noqa: E743 - the output shape
        return tuple(conv_out(n, k, self.stride, self.padding) for n, k in zip(self.S, self.K,
                                                                               strict=True))

    def padded(self) -> Index:
        return tuple(n + 2 * self.padding for n in self.S)


def _terms(L: _Layer, w: Grid, o: Index, stride: int, padding: int) -> list[tuple[Index, Index]]:
    """(weight index, input index) pairs that make output o; padded zeros are left out."""
    out = []
    for c in range(L.C):
        for u in _cells(L.K):
            pos = tuple(o[a] * stride + u[a] - padding for a in range(L.dims))
            if all(0 <= pos[a] < L.S[a] for a in range(L.dims)):
                out.append(((c, *u), (c, *pos)))
    return out


def _forward(L: _Layer, w: Grid | None = None, stride: int | None = None,
             padding: int | None = None, bias: bool = True) -> tuple[Grid, Index]:
    """y = conv(x, w) + b, optionally with another kernel, stride or padding (for mistakes)."""
    w = L.w if w is None else w
    s = L.stride if stride is None else stride
    p = L.padding if padding is None else padding
    O = tuple(conv_out(n, k, s, p) for n, k in zip(L.S, L.K, strict=True))
    y = {o: sum(w[wi] * L.x[xi] for wi, xi in _terms(L, w, o, s, p)) + (L.b if bias else 0.0)
         for o in _cells(O)}
    return y, O


def _flip(g: Grid, K: Index) -> Grid:
    """The kernel turned by 180°: every spatial axis reversed (channels kept)."""
    return {(c, *u): g[(c, *(K[a] - 1 - u[a] for a in range(len(K))))] for (c, *u) in g}


def _dw(L: _Layer, stride: int | None = None) -> Grid:
    """∂L/∂w[c,u] = Σ_o G[o]·x_padded[c, o·s + u]."""
    s = L.stride if stride is None else stride
    out: Grid = {}
    for c in range(L.C):
        for u in _cells(L.K):
            total = 0.0
            for o in _cells(L.O):
                pos = tuple(o[a] * s + u[a] - L.padding for a in range(L.dims))
                if all(0 <= pos[a] < L.S[a] for a in range(L.dims)):
                    total += L.G[o] * L.x[(c, *pos)]
            out[(c, *u)] = total
    return out


def _dw_valid_unpadded(L: _Layer) -> tuple[Grid, Index]:
    """The padding forgotten: the unpadded x correlated with G (shape S − O + 1)."""
    K2 = tuple(n - o + 1 for n, o in zip(L.S, L.O, strict=True))
    out = {(c, *u): sum(L.G[o] * L.x[(c, *(o[a] + u[a] for a in range(L.dims)))]
                        for o in _cells(L.O))
           for c in range(L.C) for u in _cells(K2)}
    return out, K2


def _dx_padded(L: _Layer, w: Grid | None = None, stride: int | None = None) -> tuple[Grid, Index]:
    """Every G[o] scattered back as G[o]·w onto its window of the padded input. With another
    stride (a mistake) the result is as long as the windows reach, (O − 1)·s + k."""
    w = L.w if w is None else w
    s = L.stride if stride is None else stride
    shape = L.padded() if stride is None else \
        tuple((o - 1) * s + k for o, k in zip(L.O, L.K, strict=True))
    out: Grid = {(c, *P): 0.0 for c in range(L.C) for P in _cells(shape)}
    for o in _cells(L.O):
        for c in range(L.C):
            for u in _cells(L.K):
                P = tuple(o[a] * s + u[a] for a in range(L.dims))
                out[(c, *P)] += L.G[o] * w[(c, *u)]
    return out, shape


def _crop(g: Grid, C: int, shape: Index, p: int) -> tuple[Grid, Index]:
    inner = tuple(n - 2 * p for n in shape)
    return {(c, *P): g[(c, *(P[a] + p for a in range(len(P))))]
            for c in range(C) for P in _cells(inner)}, inner


def _dx(L: _Layer) -> Grid:
    """∂L/∂x: the scattered gradient of the padded input, its padding cropped off."""
    return _crop(_dx_padded(L)[0], L.C, L.padded(), L.padding)[0]


# -- arrays as the learner sees them ------------------------------------------------------------
def _array(g: Grid, shape: Index) -> Any:
    """A grid as a numpy array in `shape` (the channel axis dropped for one channel)."""
    import numpy as np

    keys = _cells(shape)
    return np.array([float(g[k]) for k in keys], dtype=float).reshape(shape) if shape else \
        float(g[()])


def _chan(L: _Layer, g: Grid, spatial: Index) -> Any:
    """A (channel, *position) grid as the array shown: C×spatial, or spatial alone for C = 1."""
    if L.C == 1:
        return _array({k[1:]: v for k, v in g.items()}, spatial)
    return _array(g, (L.C, *spatial))


def _shape(L: _Layer, spatial: Index) -> Index:
    return spatial if L.C == 1 else (L.C, *spatial)


def _idx(L: _Layer, key: Index) -> str:
    """x[2], x[0,1] (channel first when there are two), y[1,0]."""
    if L.C == 1 and len(key) == L.dims + 1:
        key = key[1:]
    return "[" + ",".join(map(str, key)) + "]"


def _sym(name: str, L: _Layer, key: Index) -> str:
    if L.C == 1:
        key = key[1:]
    return name + "".join(f"_{i}" for i in key)


def _sum_lines(head: str, terms: list[str], tail: str) -> list[str]:
    """'head t0 + t1 + … tail', wrapped under the first term to stay within the screen."""
    pad = " " * len(head)
    lines, cur = [], head + (terms[0] if terms else "0")
    for t in terms[1:]:
        piece = " + " + t
        if len(cur) + len(piece) > SCREEN_WIDTH - 4:
            lines.append(cur)
            cur = pad + "+ " + t
        else:
            cur += piece
    if len(cur) + len(tail) > SCREEN_WIDTH:
        lines.append(cur)
        cur = pad + tail.lstrip()
    else:
        cur += tail
    return lines + [cur]


def _pack(items: list[str], gap: int = 4) -> list[str]:
    """Short items side by side, as many to a line as fit."""
    lines: list[str] = []
    cur = ""
    for it in items:
        if cur and len(cur) + gap + len(it) > SCREEN_WIDTH:
            lines.append(cur)
            cur = it
        else:
            cur = cur + " " * gap + it if cur else it
    return lines + ([cur] if cur else [])


# -- the setup ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Setup:
    difficulty: int
    variant: str  # the JSON `variant`: 1d | 1d-padding | 2d | 1d-stride | 1d-channels
    layer: _Layer
    size_q: tuple[int, int, int, int, int]  # (size, kernel_size, stride, padding, dilation)


def _ints(rng: random.Random, n: int, lo: int, hi: int, nonzero: bool = False) -> list[float]:
    pool = [v for v in range(lo, hi + 1) if v or not nonzero]
    return [float(rng.choice(pool)) for _ in range(n)]


def _grid(keys: list[Index], values: list[float]) -> Grid:
    return dict(zip(keys, values, strict=True))


def _draw(rng: random.Random, difficulty: int) -> _Setup:
    if difficulty == 1:
        variant = "1d"
    elif difficulty == 2:
        variant = rng.choice(("2d", "1d-padding"))
    else:
        # stride-2 numbers are rejected more often (every lesson must show): drawn more often
        variant = rng.choice(("1d-stride", "1d-stride", "1d-channels"))
    C, stride, padding = 1, 1, 0
    if variant == "2d":
        n = rng.choice((3, 4))
        S, K = (n, n), (2, 2)
    elif variant == "1d-channels":
        C = 2
        S, K = (rng.choice((4, 5)),), (2,)
    elif variant == "1d-stride":
        stride = 2
        padding = rng.choice((0, 0, 1))
        S, K = (rng.choice((5, 6)),), (rng.choice((2, 3)),)
    else:
        padding = 1 if variant == "1d-padding" else 0
        S, K = (rng.choice((4, 5, 6)),), (rng.choice((2, 3)),)
    xs = [(c, *P) for c in range(C) for P in _cells(S)]
    ws = [(c, *u) for c in range(C) for u in _cells(K)]
    lo = -2 if variant in ("2d", "1d-channels") else -3
    x = _grid(xs, _ints(rng, len(xs), lo, 3))
    w = _grid(ws, _ints(rng, len(ws), -2, 2, nonzero=True))
    b = float(rng.choice((-2, -1, 1, 2)))
    O = tuple(conv_out(n, k, stride, padding) for n, k in zip(S, K, strict=True))
    G = _grid(_cells(O), _ints(rng, len(_cells(O)), -2, 2))
    layer = _Layer(C, S, K, stride, padding, x, w, b, G)
    return _Setup(difficulty, variant, layer, _draw_size(rng, difficulty, variant))


def _draw_size(rng: random.Random, difficulty: int, variant: str) -> tuple[int, ...]:
    """The warm-up size question: a longer input, so that the formula is needed."""
    while True:
        if difficulty == 1:
            n, k, s, p, d = rng.randint(8, 40), rng.choice((2, 3, 5)), 1, 0, 1
        elif difficulty == 2:
            n, k, s = rng.randint(12, 64), rng.choice((3, 5)), 1
            p, d = rng.choice((1, 2, 2)), rng.choice((1, 2))
        else:
            n, k, s = rng.randint(15, 100), rng.choice((3, 5, 7)), 2
            p, d = rng.choice((0, 1, 2, 3)), rng.choice((1, 1, 2))
        span = n + 2 * p - d * (k - 1) - 1
        if span < 4 or (difficulty == 3 and span % s == 0):
            continue  # at d3 the floor matters: that is the point of the question
        return (n, k, s, p, d)


def _friendly(s: _Setup) -> bool:
    """Numbers worth working: few zeros, a kernel that changes under a flip, and a G that
    neither sums to 0 nor is all one value."""
    L = s.layer
    xs, ws, gs = list(L.x.values()), list(L.w.values()), list(L.G.values())
    if sum(v == 0 for v in xs) > len(xs) // 4 or sum(v == 0 for v in gs) > len(gs) // 4:
        return False
    if _flip(L.w, L.K) == L.w or len(set(ws)) < 2 or len(set(gs)) < 2:
        return False
    if sum(gs) == 0:
        return False  # ∂L/∂b would be 0 (and its mean the same)
    y = _forward(L)[0]
    answers = [list(y.values()), list(_dw(L).values()), list(_dx(L).values())]
    if any(sum(v != 0 for v in a) < (len(a) + 1) // 2 for a in answers):
        return False
    return all(abs(v) <= 20 for a in answers for v in a)


# -- the questions ------------------------------------------------------------------------------
def _size_asked(s: _Setup) -> Asked:
    n, k, st, p, d = s.size_q
    two_d = s.layer.dims == 2
    name = "H_out" if two_d else "L_out"
    size_name = "H" if two_d else "L"
    span = d * (k - 1) + 1
    num_ = n + 2 * p - span
    out = conv_out(n, k, st, p, d)
    candidates: list[Mistake | None] = [
        Mistake("plus-one-forgotten", f"({size_name} + 2p − d(k − 1) − 1)/s counts the steps "
                "the window takes; the positions are one more than the steps: add 1.",
                out - 1),
        Mistake("floor-forgotten", f"{num_}/{st} is not whole: a window that would run past "
                "the padded input is dropped, so round down (the floor), then add 1.",
                num_ / st + 1) if num_ % st else None,
        Mistake("floor-forgotten", f"Round {num_}/{st} down, not up: the last window must fit "
                "inside the padded input.", -(-num_ // st) + 1) if num_ % st else None,
        Mistake("stride-ignored", f"stride={st} moves the window {st} steps at a time: divide "
                f"the {num_} free positions by {st} before adding 1.", num_ + 1)
        if st > 1 else None,
        Mistake("padding-once", f"padding={p} adds {p} zeros at each end: {size_name} + 2p, "
                f"not {size_name} + p.", conv_out(n - p, k, st, p, d)) if p else None,
        Mistake("padding-ignored", f"padding={p} makes the input {2 * p} longer before the "
                "window slides.", conv_out(n, k, st, 0, d)) if p else None,
        Mistake("dilation-ignored", f"dilation={d} spreads the kernel's {k} taps {d} apart: it "
                f"spans d(k − 1) + 1 = {span}, not {k}.", conv_out(n, k, st, p, 1))
        if d > 1 else None,
        Mistake("full-size", f"{size_name} + k − 1 is the size of a full convolution (the "
                "transposed direction); a convolution shrinks the input.", n + k - 1)
        if st == 1 and p == 0 and d == 1 else None,
    ]
    mistakes = _keep_scalar(out, candidates)
    layer = "Conv2d" if two_d else "Conv1d"
    where = f"a {n}×{n} image" if two_d else f"an input of length {n}"
    opts = [f"kernel_size={k}"] + [f"{key}={v}" for key, v, default in
                                    (("stride", st, 1), ("padding", p, 0),
                                     ("dilation", d, 1)) if v != default]
    ask = (f"First, a size: an nn.{layer}(1, 1, {', '.join(opts)}) reads {where}. What is "
           f"the output {'height' if two_d else 'length'} {name}? (a whole number)")
    q = Question(name, "number", ask, ("conv-shape",), ())
    target = Target(name, name, float(out), out - 1e-9, out + 1e-9, mistakes)
    lines = []
    if d > 1:
        lines.append(f"dilated span: d·(k − 1) + 1 = {d}·{k - 1} + 1 = {span}")
    lines.append(f"{n} + 2·{p} − {d}·({k} − 1) − 1 = {num_}")
    lines.append(f"⌊{num_}/{st}⌋ + 1 = {num_ // st} + 1 = {out}")
    sol = (Lines("Formula", (f"{name} = ⌊({size_name} + 2·padding − dilation·(kernel_size − 1) "
                             "− 1)/stride⌋ + 1",
                             "(the windows that fit in the padded input, counted once each)")),
           Lines("Numbers", tuple(lines) + (f"{name} = {out}",)))
    hints = (f"PyTorch's formula: ⌊({size_name} + 2p − d(k − 1) − 1)/s⌋ + 1.",
             f"Here {n} + 2·{p} − {d}·{k - 1} − 1 = {num_}; divide by {st}, round down, add 1.")
    return Asked(q, target, sol, hints)


def _keep_scalar(value: float, candidates: list[Mistake | None]) -> tuple[Mistake, ...]:
    kept: list[Mistake] = []
    for m in candidates:
        if m is None or abs(m.value - value) < 1e-9 or m.value <= 0:
            continue
        if any(abs(m.value - k.value) < 1e-9 for k in kept):
            continue
        kept.append(m)
    return tuple(kept)


def _exact_target(wrt: str, label: str, value: Any, candidates: list[Mistake | None]
                  ) -> Target:
    lo, hi = band(lambda r: r(value))  # integers: nothing to round, the band is the value
    return Target(wrt, label, value, lo, hi, keep_mistakes(value, lo, hi, candidates))


def _term_text(a: float, b: float) -> str:
    return f"{num(a)}·{num(b)}"


def _ask_output(s: _Setup) -> Asked:
    L = s.layer
    y, O = _forward(L)
    value = _array(y, O)
    cands: list[Mistake | None] = [
        Mistake("kernel-flipped", "That flips the kernel (a textbook convolution). PyTorch's "
                "conv computes cross-correlation: y[i] = Σᵤ w[u]·x[i + u], the kernel laid "
                "over x as it is.", _array(_forward(L, w=_flip(L.w, L.K))[0], O)),
        Mistake("bias-forgotten", f"The bias b = {fmt_exact(L.b)} is added to every output.",
                _array(_forward(L, bias=False)[0], O)),
    ]
    if L.stride > 1:
        y1, O1 = _forward(L, stride=1)
        cands.insert(0, Mistake("stride-ignored", f"stride={L.stride}: the window moves "
                                f"{L.stride} places at a time, so output i starts at "
                                f"x[{L.stride}i] and there are only {O[0]} outputs.",
                                _array(y1, O1)))
    if L.padding:
        y0, O0 = _forward(L, padding=0)
        cands.insert(0, Mistake("padding-ignored", f"padding={L.padding}: put a 0 at each end "
                                "of x first; the window then starts on that 0.",
                                _array(y0, O0)))
    if L.C > 1:
        one = _Layer(1, L.S, L.K, L.stride, L.padding,
                     {k: v for k, v in L.x.items() if k[0] == 0},
                     {k: v for k, v in L.w.items() if k[0] == 0}, L.b, L.G)
        cands.append(Mistake("one-channel", "Both input channels count: y[i] adds "
                             "Σ_c Σᵤ w[c,u]·x[c, i + u] over the two channels, then b.",
                             _array(_forward(one)[0], O)))
    target = _exact_target("output", "y", value, cands)
    q = Question("output", "number",
                 f"Forward: give y, {_shape_words(O)}, as {answer_template(O)}.",
                 ("conv-forward",), O)
    lines = []
    for o in _cells(O):
        terms = [_term_text(L.w[wi], L.x[xi]) for wi, xi in _terms(L, L.w, o, L.stride,
                                                                      L.padding)]
        lines += _sum_lines(f"y{_idx(L, o)} = ", terms,
                            f" + {num(L.b)} = {fmt_exact(y[o])}")
    numbers = (["x gets a 0 at each end; a weight that lands on a padded 0 adds nothing."]
               if L.padding else []) + lines
    sol = (Lines("Shapes", (_out_shape_line(L),)),
           Lines("Formula", (_forward_formula(L), "(cross-correlation: the kernel is not "
                             "flipped)")),
           Lines("Numbers", tuple(numbers + [""] + _label("y", value))))
    hints = ("Lay w over the first window of x, multiply entry by entry, add, then add b; "
             "slide and repeat.",
             f"y{_idx(L, tuple(0 for _ in O))} = "
             + " + ".join(_term_text(L.w[wi], L.x[xi]) for wi, xi in
                          _terms(L, L.w, tuple(0 for _ in O), L.stride, L.padding))
             + f" + {num(L.b)}.")
    return Asked(q, target, sol, hints)


def _ask_weight(s: _Setup) -> Asked:
    L = s.layer
    dw = _dw(L)
    value = _chan(L, dw, L.K)
    n_out = len(_cells(L.O))
    cands: list[Mistake | None] = [
        Mistake("weight-grad-flipped", "That is ∂L/∂w reversed: G[i] pairs with the input "
                "that weight u met in window i, x[i·s + u], so ∂L/∂w[u] = Σᵢ G[i]·x[i·s + u] "
                "(correlate x with G, do not convolve).", _chan(L, _flip(dw, L.K), L.K)),
        Mistake("weight-grad-mean", f"The kernel is shared by all {n_out} positions, so their "
                "contributions add up: ∂L/∂w is a sum over positions, not a mean.",
                _chan(L, {k: v / n_out for k, v in dw.items()}, L.K)),
    ]
    if L.stride > 1:
        cands.insert(0, Mistake("stride-ignored", f"stride={L.stride}: window i starts at "
                                f"x[{L.stride}i], so ∂L/∂w[u] = Σᵢ G[i]·x[{L.stride}i + u]; "
                                "you paired G with windows one step apart.",
                                _chan(L, _dw(L, stride=1), L.K)))
    g, K2 = _dw_valid_unpadded(L)
    if L.padding and L.stride == 1 and all(n > 0 for n in K2):
        cands.insert(0, Mistake("padding-ignored", "Correlate G with the padded input (a 0 "
                                "at each end): the first window starts on the padding.",
                                _chan(L, g, K2)))
    target = _exact_target("weight", "∂L/∂w", value, cands)
    shape = _shape(L, L.K)
    q = Question("weight", "number", _ask_grad("∂L/∂w", shape, "w"), ("conv-weight-grad",),
                 shape)
    numbers = []
    for key in _cells((L.C, *L.K)):
        u = key[1:]
        terms = []
        for o in _cells(L.O):
            pos = tuple(o[a] * L.stride + u[a] - L.padding for a in range(L.dims))
            if all(0 <= pos[a] < L.S[a] for a in range(L.dims)):
                terms.append(_term_text(L.G[o], L.x[(key[0], *pos)]))
        numbers += _sum_lines(f"∂L/∂w{_idx(L, key)} = ", terms, f" = {fmt_exact(dw[key])}")
    if L.padding:
        numbers.insert(0, "(a G entry whose window puts weight u on a padded 0 adds nothing)")
    sol = (Lines("Shapes", (f"∂L/∂w has the shape of w: {shape_text(shape)}.",)),
           Lines("Formula", (_weight_formula(L),
                             "(each weight meets one input per window: add over windows)")),
           Lines("Numbers", tuple(numbers + [""] + _label("∂L/∂w", value))))
    first = _weight_formula(L) + ": correlate the input with G."
    first_w = "w" + _idx(L, (0,) * (L.dims + 1))
    second = (f"For {first_w}: multiply G by the inputs each window starts on"
              + (f" (one every {L.stride} places)" if L.stride > 1 else "") + ", and add.")
    return Asked(q, target, sol, (first, second))


def _ask_input(s: _Setup) -> Asked:
    L = s.layer
    dx = _dx(L)
    value = _chan(L, dx, L.S)
    wf = _flip(L.w, L.K)
    nf, _ = _dx_padded(L, w=wf)
    cands: list[Mistake | None] = [
        Mistake("kernel-not-flipped", "That correlates G with the kernel as it is. Sliding G "
                "back over x needs the kernel flipped (a full convolution of G with w): "
                "x[j] collects G[i]·w[j − i·s] from every window i that covers it.",
                _chan(L, _crop(nf, L.C, L.padded(), L.padding)[0], L.S)),
    ]
    if L.stride > 1:
        g1, shape1 = _dx_padded(L, stride=1)
        inner = tuple(n - 2 * L.padding for n in shape1)
        if all(n > 0 for n in inner):
            cands.insert(0, Mistake("stride-ignored", f"stride={L.stride}: window i starts at "
                                    f"x[{L.stride}i], so G[i]·w lands {L.stride} places "
                                    "further on for each i (zeros between the entries of G, "
                                    "then the full convolution).",
                                    _chan(L, _crop(g1, L.C, shape1, L.padding)[0], inner)))
    if L.padding:
        gp, shape_p = _dx_padded(L)
        cands.insert(0, Mistake("padding-not-cropped", f"That is the gradient of the padded "
                                f"input ({shape_text(_shape(L, shape_p))}); the padded zeros "
                                "are not inputs: drop one entry at each end.",
                                _chan(L, gp, shape_p)))
    if L.C > 1:
        cands.append(Mistake("channels-summed", "Each channel has its own kernel row: "
                             "∂L/∂x[c] = G sent back through w[c] alone, one row per channel.",
                             _array({P: sum(dx[(c, *P)] for c in range(L.C))
                                     for P in _cells(L.S)}, L.S)))
    target = _exact_target("input", "∂L/∂x", value, cands)
    shape = _shape(L, L.S)
    q = Question("input", "number", _ask_grad("∂L/∂x", shape, "x"), ("conv-input-grad",),
                 shape)
    numbers = _dx_numbers(L, wf, dx)
    sol = (Lines("Shapes", (f"∂L/∂x has the shape of x: {shape_text(shape)}"
                            + (" (the padding is cropped off)." if L.padding else "."),)),
           Lines("Formula", _input_formula(L)),
           Lines("Numbers", tuple(numbers + [""] + _label("∂L/∂x", value))))
    first = ("Each G[i] goes back to the inputs of window i: x[j] collects G[i]·w[j − i·s] "
             "(a full convolution of G with w, the transposed convolution).")
    second = (f"The flipped kernel is {_kernel_text(L, wf)}"
              + ("; put s − 1 zeros between the entries of G" if L.stride > 1 else "")
              + ("; crop the padded ends" if L.padding else "") + ".")
    return Asked(q, target, sol, (first, second))


def _ask_bias(s: _Setup) -> Asked:
    L = s.layer
    gs = [L.G[o] for o in _cells(L.O)]
    value = float(sum(gs))
    G = _array(L.G, L.O)
    cands: list[Mistake | None] = [
        Mistake("bias-mean", f"b is added to all {len(gs)} outputs, so its gradient adds up "
                "their G: a sum, not a mean.", value / len(gs)),
        Mistake("no-sum", "b is one number shared by every output: ∂L/∂b is the sum of the "
                "entries of G, one number.", G),
    ]
    target = _exact_target("bias", "∂L/∂b", value, cands)
    q = Question("bias", "number", "Give ∂L/∂b (one number: b is a scalar).",
                 ("conv-bias-grad",), ())
    sol = (Lines("Shapes", ("b is one number, added to every output: ∂L/∂b is a scalar.",)),
           Lines("Formula", ("∂L/∂b = Σᵢ G[i]   (local gradient 1 at every output)",)),
           Lines("Numbers", tuple(_sum_lines("∂L/∂b = ", [num(g) for g in gs],
                                             f" = {fmt_exact(value)}"))))
    hints = ("∂y[i]/∂b = 1 for every output i.", "Add up every entry of G.")
    return Asked(q, target, sol, hints)


# -- text ---------------------------------------------------------------------------------------
def _label(name: str, value: Any) -> list[str]:
    from quizforge.drill.families._tensor import labelled

    return labelled(name, value)


def _shape_words(shape: Index) -> str:
    text = shape_text(shape)
    return f"a {text} matrix" if len(shape) == 2 else text


def _ask_grad(label: str, shape: Index, like: str) -> str:
    return f"Give {label}, {_shape_words(shape)} like {like}, as {answer_template(shape)}."


def _kernel_text(L: _Layer, w: Grid) -> str:
    from quizforge.drill.model import tensor_text

    return tensor_text(_chan(L, w, L.K))


def _window(L: _Layer) -> str:
    s = "" if L.stride == 1 else f"{L.stride}"
    if L.dims == 2:
        return "x[i + u, j + v]"
    xi = f"{s}i + u" if L.padding == 0 else f"{s}i + u − {L.padding}"
    return f"x[c, {xi}]" if L.C > 1 else f"x[{xi}]"


def _forward_formula(L: _Layer) -> str:
    if L.dims == 2:
        return "y[i,j] = Σᵤ Σᵥ w[u,v]·x[i + u, j + v] + b"
    if L.C > 1:
        return f"y[i] = Σ_c Σᵤ w[c,u]·{_window(L)} + b"
    return f"y[i] = Σᵤ w[u]·{_window(L)} + b" + ("   (x[−1] and the like are the padded 0s)"
                                                 if L.padding else "")


def _weight_formula(L: _Layer) -> str:
    if L.dims == 2:
        return "∂L/∂w[u,v] = Σᵢ Σⱼ G[i,j]·x[i + u, j + v]"
    if L.C > 1:
        return f"∂L/∂w[c,u] = Σᵢ G[i]·{_window(L)}"
    return f"∂L/∂w[u] = Σᵢ G[i]·{_window(L)}"


def _input_formula(L: _Layer) -> tuple[str, ...]:
    if L.dims == 2:
        return ("∂L/∂x[r,c] = Σᵢ Σⱼ G[i,j]·w[r − i, c − j]   (w is 0 outside its 2×2)",
                "= G padded with one ring of zeros, correlated with w turned by 180°")
    j = f"j − {L.stride}i" if L.stride > 1 else "j − i"
    if L.padding:
        j += f" + {L.padding}"
    ch = "[c, " if L.C > 1 else "["
    zeros = f"{L.K[0] - 1} zero{'s' if L.K[0] > 2 else ''}"
    lines = [f"∂L/∂x{ch}j] = Σᵢ G[i]·w{ch}{j}]   (w is 0 outside 0…{L.K[0] - 1})",
             "= G with " + (f"{L.stride - 1} zero between its entries and "
                            if L.stride > 1 else "") + f"{zeros} added at each end,",
             "  correlated with the flipped kernel"]
    if L.padding:
        lines.append(f"then the {L.padding} padded position at each end is cropped off")
    return tuple(lines)


def _dx_numbers(L: _Layer, wf: Grid, dx: Grid) -> list[str]:
    """The flipped kernel, then every entry of ∂L/∂x as the G·w products that reach it."""
    out = [f"flipped kernel: {_kernel_text(L, wf)};  dx = ∂L/∂x, entry by entry:"]
    items = []
    for key in _cells((L.C, *L.S)):
        P = tuple(key[a + 1] + L.padding for a in range(L.dims))
        terms = []
        for o in _cells(L.O):
            u = tuple(P[a] - o[a] * L.stride for a in range(L.dims))
            if all(0 <= u[a] < L.K[a] for a in range(L.dims)):
                terms.append(f"{num(L.G[o])}·{num(L.w[(key[0], *u)])}")
        body = " + ".join(terms) if terms else "no window covers it"
        items.append(f"dx{_idx(L, key)} = {body} = {fmt_exact(dx[key])}")
    if L.dims == 2:  # one row of x at a time, packed side by side
        cols = L.S[1]
        return out + [line for r in range(0, len(items), cols)
                      for line in _pack(items[r:r + cols])]
    return out + items


def _out_shape_line(L: _Layer) -> str:
    k, n, p, st = L.K[0], L.S[0], L.padding, L.stride
    size = f"⌊({n} + 2·{p} − {k})/{st}⌋ + 1" if (p or st > 1) else f"{n} − {k} + 1"
    what = f"{L.O[0]}×{L.O[1]}" if L.dims == 2 else f"{L.O[0]} entries"
    return f"y (and G) has {size} = {L.O[0]} per axis: {what}." if L.dims == 2 else \
        f"y (and G) has {size} = {what}."


def _body(s: _Setup) -> tuple[Lines, ...]:
    L = s.layer
    fn = "conv2d" if L.dims == 2 else "conv1d"
    opts = "".join(f", {k}={v}" for k, v, d in (("stride", L.stride, 1),
                                               ("padding", L.padding, 0)) if v != d)
    what = "a row per input channel, 1 out" if L.C > 1 else "1 channel in, 1 out"
    lines = [f"y = torch.nn.functional.{fn}(x, w, b{opts})",
             "A cross-correlation, as PyTorch computes it (the kernel is not flipped):",
             f"  {_forward_formula(L)}",
             (f"  x: {shape_text(_shape(L, L.S))}   w: {shape_text(_shape(L, L.K))}   "
              f"b: a scalar   ({what})")]
    if L.padding:
        lines.append(f"  padding={L.padding}: x gets one 0 at each end before the window "
                     "slides.")
    lines.append("The upstream gradient G = ∂L/∂y is given.")
    values = side_by_side([("x", _chan(L, L.x, L.S)), ("w", _chan(L, L.w, L.K)),
                           ("b", L.b), ("G", _array(L.G, L.O))])
    return (Lines("", tuple(lines)), Lines("Values", tuple(values)))


def _loss_text(L: _Layer) -> str:
    """L = Σ_o G[o]·y[o], with y over the element symbols input_…, weight_…, bias."""
    text = ""
    for o in _cells(L.O):
        g = L.G[o]
        if g == 0:
            continue
        inner = " + ".join(f"{_sym('weight', L, wi)}*{_sym('input', L, xi)}"
                           for wi, xi in _terms(L, L.w, o, L.stride, L.padding))
        c = fmt_exact(abs(g))
        sign = ("-" if g < 0 else "") if not text else (" - " if g < 0 else " + ")
        text += f"{sign}{'' if c == '1' else c + '*'}({inner} + bias)"
    return text or "0"


def _teaches(s: _Setup, asked: tuple[Asked, ...]) -> bool:
    """The mistakes each question is there to catch can be named on these numbers."""
    L = s.layer
    size_need = {"plus-one-forgotten"}
    _, _, st, p, d = s.size_q
    if st > 1:
        size_need |= {"floor-forgotten", "stride-ignored"}
    if p > 1 and st == 1:  # with p = 1 (or a stride) it can equal a missing + 1
        size_need.add("padding-once")
    if d > 1:
        size_need.add("dilation-ignored")
    need = {"L_out": size_need, "H_out": size_need,
            "output": {"kernel-flipped", "bias-forgotten"}, "weight": {"weight-grad-flipped"},
            "input": {"kernel-not-flipped"}, "bias": {"bias-mean"}}
    if L.stride > 1:
        for wrt in ("output", "weight", "input"):
            need[wrt] = need[wrt] | {"stride-ignored"}
    if L.padding:
        need["output"] = need["output"] | {"padding-ignored"}
        need["input"] = need["input"] | {"padding-not-cropped"}
    return all(need[a.question.wrt] <= {m.kind for m in a.target.mistakes} for a in asked)


# Three questions a problem, as in every family: ∂L/∂w and ∂L/∂x always (the kernel flip is
# the lesson), and one of the output size, the forward value or ∂L/∂b, drawn per problem.
KINDS: dict[str, tuple[Callable[[_Setup], Asked], ...]] = {
    "size": (_size_asked, _ask_weight, _ask_input),
    "forward": (_ask_output, _ask_weight, _ask_input),
    "bias": (_ask_weight, _ask_input, _ask_bias),
}


def generate(seed: int, difficulty: int, form: str) -> BasicProblem:
    rng = random.Random(f"conv/{seed}/{difficulty}")  # str seeds hash the same everywhere
    kind = ("size", "forward", "bias")[rng.randrange(3)]
    for _ in range(2000):
        s = _draw(rng, difficulty)
        if not _friendly(s):
            continue
        asked = tuple(ask(s) for ask in KINDS[kind])
        if not _teaches(s, asked):
            continue
        body = _body(s)
        if not fits_screen(body, asked):
            continue
        L = s.layer
        given: dict[str, Any] = {"input": _chan(L, L.x, L.S), "weight": _chan(L, L.w, L.K),
                                 "bias": float(L.b), "grad_output": _array(L.G, L.O)}
        extra: tuple[tuple[str, Any], ...] = (
            ("variant", s.variant), ("asks", kind),
            ("conv", {"function": "conv2d" if L.dims == 2 else "conv1d",
                      "in_channels": L.C, "out_channels": 1, "kernel_size": list(L.K),
                      "stride": L.stride, "padding": L.padding, "dilation": 1}))
        if kind == "size":
            n, k, st, p, d = s.size_q
            extra += (("size_question", {"module": "Conv2d" if L.dims == 2 else "Conv1d",
                                         "input_size": n, "kernel_size": k, "stride": st,
                                         "padding": p, "dilation": d}),)
        return BasicProblem("conv", seed, difficulty, form, body, given, _loss_text(L),
                            asked, extra)
    raise RuntimeError(f"conv: no problem for seed {seed} at difficulty {difficulty}")


FAMILY = Family(
    name="conv",
    summary="1-D and 2-D convolution by hand (cross-correlation, as PyTorch): output size, "
            "y, ∂L/∂w, ∂L/∂x, ∂L/∂b",
    levels={1: "1-D, stride 1, no padding: ∂L/∂w, ∂L/∂x (flip), and the size, y or ∂L/∂b",
            2: "2-D (2×2 kernel) or 1-D with padding 1 (crop ∂L/∂x); dilated sizes",
            3: "stride 2 (zeros between G's entries; the floor) or two input channels"},
    generate=generate,
    forms=("number",),
    order=55,
    example="[1, -2, 3]",
)
