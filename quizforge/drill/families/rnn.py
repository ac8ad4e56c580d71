"""`rnn`: backpropagation through time by hand, and one LSTM cell step.

Difficulty 1 and 2: a vanilla RNN, a_t = W·h_{t−1} + U·x_t + b and h_t = tanh(a_t), unrolled
for two steps (torch.nn.RNN with bias_ih = b and bias_hh = 0), with the loss at the last step
(½(h₂ − y)² or v·h₂) or at every step (Σ_t ½(h_t − y_t)²). The questions: ∂L/∂W summed over
time (the point of BPTT), ∂L/∂U or ∂L/∂b, and ∂L/∂h₀ or the factor ∂h₂/∂h₀ = Π W·(1 − h_t²)
that makes the gradient to the first state vanish. Difficulty 1 has a scalar hidden state,
difficulty 2 a hidden state of 2 (W is 2×2; the input x_t stays a scalar, so U and b are
vectors of 2).

Difficulty 3: one LSTM cell step with scalar state, c_t = f·c_{t−1} + i·g and
h_t = o·tanh(c_t), the gate values given, either the last step (L = ½(h_t − y)²) or a middle
one (∂L/∂h_t and the gradient arriving along the cell state given). Three questions, as the
engine asks at most three: ∂L/∂o or ∂L/∂f, ∂L/∂i or ∂L/∂g (gradients of the gate values, not
of their pre-activations), and ∂L/∂c_{t−1} = ∂L/∂c_t·f (the additive path).

Fair numbers. A candidate computes 1 − h_t² from the h_t shown, so the h_t are exact and
friendly (±0.4, ±0.5, ±0.6, ±0.8, ±0.9), and so is everything else the backward pass uses:
W, h₀, the inputs x_t and the targets. The pre-activations are then a_t = atanh(h_t), and U
and b are solved from the two steps so that the network really produces these h_t (two
unknowns per hidden unit, two equations: that is why the RNN is unrolled for two steps; a
third step would need a third unknown, and x_t or h₀ would turn ugly). U and b do not enter
any gradient, so they are shown rounded to 3 decimals, marked ≈, with the a_t (also ≈, for
the 1 − a_t² slip): the displayed values reproduce the h_t to every digit shown. The JSON
carries U and b unrounded, so torch.nn.RNN run on the JSON gives these h_t to 1e-15.

In the LSTM the new cell c_t = f·c_{t−1} + i·g is a short decimal, so tanh(c_t) cannot be
exact too: it is shown to 2 decimals, and a problem is kept only if a candidate who works
from the shown value (keeping 3 significant figures) lands inside the band of the exact
answer, for every question; the worked solution uses the shown value and names the exact
answer when the two differ in the 4th figure.

Problems are redrawn when a cancellation (a difference of two nearly equal products) would
make the honest-rounding band wider than ±2%, when two answers are equal up to sign, or when
a worked solution would show a later question's answer.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from quizforge.drill.basic import Asked, BasicProblem, fits_screen
from quizforge.drill.family import Family
from quizforge.drill.model import (
    Lines,
    Mistake,
    Question,
    Target,
    blocks_text,
    fmt_exact,
    tensor_text,
)
from quizforge.drill.rounding import band, inside


class _Numpy:
    """numpy, imported on first use: importing this module (to list the families) stays cheap."""

    def __getattr__(self, name: str) -> Any:
        import numpy

        return getattr(numpy, name)


np = _Numpy()

H_VALUES = (-0.9, -0.8, -0.6, -0.5, -0.4, 0.4, 0.5, 0.6, 0.8, 0.9)  # 1 − h²: .19 .36 .64 .75 .84
H0_VALUES = (-0.8, -0.5, -0.4, 0.4, 0.5, 0.8)
X_VALUES = (-2.0, -1.0, 1.0, 2.0)
W1_VALUES = (-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0)
W2_VALUES = (-1.0, -0.5, 0.5, 1.0)
Y_VALUES = (-1.0, -0.5, 0.0, 0.5, 1.0)
V_VALUES = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)
LOSSES = ("last-mse", "last-linear", "every-mse")
SAME_RTOL = 0.006  # two values this close are one answer to the grader (3 significant figures)
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

Rounder = Callable[[Any], Any]


def _ident(x: Any) -> Any:
    return x


# -- small helpers -------------------------------------------------------------------------------
def _n(v: float) -> str:
    """A number in a worked line: 0.64, −1/3, (−0.5) when negative."""
    s = fmt_exact(v).replace("-", "−")
    return f"({s})" if s.startswith("−") else s


def _is_array(v: Any) -> bool:
    """An array with at least one axis (a numpy scalar is a number here)."""
    return getattr(v, "shape", ()) != ()


def _t(v: Any) -> str:
    """A scalar or a vector as typed: 0.5 or [0.5, −1]."""
    if _is_array(v):
        flat = v.tolist()
        if isinstance(flat[0], list):
            return "[" + ", ".join(_t(np.array(row)) for row in flat) + "]"
        return "[" + ", ".join(fmt_exact(x).replace("-", "−") for x in flat) + "]"
    return fmt_exact(v).replace("-", "−")


def _approx(v: Any, decimals: int = 3) -> str:
    def one(x: float) -> str:
        s = f"{x:.{decimals}f}"
        return ("−" + s[1:]) if s.startswith("-") else s

    if _is_array(v):
        return "[" + ", ".join(one(x) for x in v.tolist()) + "]"
    return one(float(v))


def _flat(v: Any) -> list[float]:
    return [float(e) for e in v.ravel().tolist()] if _is_array(v) else [float(v)]


def _same(a: Any, b: Any, rtol: float = SAME_RTOL) -> bool:
    if tuple(getattr(a, "shape", ())) != tuple(getattr(b, "shape", ())):
        return False
    return all(abs(x - y) <= rtol * max(abs(x), abs(y)) + 1e-9
               for x, y in zip(_flat(a), _flat(b), strict=True))


def _tight(value: Any, lo: Any, hi: Any) -> bool:
    """No cancellation: rounding to 3 figures moves the answer by 2% at most (a difference
    of two nearly equal products would accept a whole range of answers)."""
    return all(h - lo_ <= 0.04 * abs(v) for v, lo_, h in zip(_flat(value), _flat(lo), _flat(hi),
                                                               strict=True))


def _same_size(a: Any, b: Any) -> bool:
    """Equal up to sign: one answer would give the other away."""
    if len(_flat(a)) != len(_flat(b)):
        return False
    return _same(np.array([abs(e) for e in _flat(a)]), np.array([abs(e) for e in _flat(b)]))


def _keep(value: Any, lo: Any, hi: Any, candidates: list[Mistake | None]) -> tuple:
    """The mistakes a grader can tell from the right answer (first of equal values kept)."""
    kept: list[Mistake] = []
    for m in candidates:
        if m is None:
            continue
        mv = np.asarray(m.value, dtype=float)
        if _same(mv, value):
            continue
        if mv.shape == np.shape(value):
            slack = SAME_RTOL * np.abs(mv)  # typed to 3 figures it could land inside: right
            if inside(mv, lo - slack, hi + slack):
                continue
        if any(_same(mv, k.value, 2 * SAME_RTOL) for k in kept):  # one taken for the other
            continue
        kept.append(m)
    return tuple(kept)


def _scalar(v: Any) -> Any:
    """Difficulty 1 keeps arrays of one entry inside; its answers are plain numbers."""
    if hasattr(v, "shape") and v.shape in ((1,), (1, 1)):
        return float(v.ravel()[0])
    return v


# -- the vanilla RNN -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Rnn:
    n: int  # hidden size: 1 (difficulty 1) or 2
    W: Any  # n×n
    U: Any  # n (x_t is a scalar)
    b: Any  # n
    h0: Any  # n
    x: tuple[float, ...]  # x₁, x₂
    h: tuple[Any, ...]  # h₁, h₂ (n each), exact and friendly
    loss: str  # last-mse | last-linear | every-mse
    y: tuple[Any, ...] = ()  # targets: one (last-mse) or one per step (every-mse)
    v: Any = None  # last-linear
    asks: tuple[str, ...] = ()  # question kinds in order

    @property
    def T(self) -> int:
        return len(self.x)

    @property
    def a(self) -> tuple[Any, ...]:
        return tuple(np.array(row) for row in self.a_list)

    @cached_property
    def exact(self) -> dict:  # _Way -> its answers, worked without rounding
        return {}

    @cached_property
    def a_list(self) -> tuple[list[float], ...]:  # the pre-activations atanh(h_t)
        return tuple([math.atanh(e) for e in ht.tolist()] for ht in self.h)

    def prev(self, t: int) -> Any:  # h_{t−1}, t = 1..T
        return self.h0 if t == 1 else self.h[t - 2]

    def upstream(self, t: int) -> Any:
        """∂ℓ/∂h_t from the loss term at step t alone (zero where there is none)."""
        if self.loss == "every-mse":
            return self.h[t - 1] - self.y[t - 1]
        if t < self.T:
            return np.zeros(self.n)
        return self.h[-1] - self.y[0] if self.loss == "last-mse" else self.v


@dataclass(frozen=True)
class _Way:
    """A way of working the backward pass, right or with one named slip."""

    deriv: str = "h"  # h: 1 − h²; a: 1 − a² of the pre-activation; one: tanh' forgotten
    recurrent: bool = True  # the path from h_t back to h_{t−1} through W
    intermediate: bool = True  # the loss terms of the earlier steps (every-step loss)
    last_only: bool = False  # only the last step's term of the sums over time
    transpose: bool = True  # Wᵀ·δ on the way back (not W·δ)
    sign: float = 1.0


def _backward(s: _Rnn, way: _Way = _Way()) -> dict[str, Any]:
    """Every answer of the problem, worked exactly (this way), as arrays; kept per way, as
    every mistake and every check asks for them again."""
    if way not in s.exact:
        s.exact[way] = {k: (v if v is None or k == "dh2/dh0" else np.array(v))
                        for k, v in _work(s, _ident, way).items()}
    return s.exact[way]


def _work(s: _Rnn, r: Rounder, way: _Way) -> dict[str, Any]:
    """The backward pass as a person works it, r on every number written down, in plain
    floats and lists: the honest-rounding band replays it some thirty times."""
    n, T = s.n, s.T
    W = s.W.tolist()
    WT = [[W[j][i] for j in range(n)] for i in range(n)] if way.transpose else W
    hs = [ht.tolist() for ht in s.h]
    prev = [s.h0.tolist()] + hs[:-1]
    ups = [[way.sign * e for e in s.upstream(t).tolist()] for t in range(1, T + 1)]
    if not way.intermediate:
        ups = [[0.0] * n for _ in range(T - 1)] + ups[-1:]

    def local(t: int) -> list[float]:  # the tanh factor of step t as this way writes it
        if way.deriv == "h":
            return [1 - e * e for e in hs[t - 1]]
        if way.deriv == "a":
            return [r(1 - a * a) for a in s.a_list[t - 1]]
        return [1.0] * n

    def add(terms: list[float]) -> float:
        total = terms[0]
        for term in terms[1:]:
            total = r(total + term)
        return r(total)

    deltas: list[list[float]] = [[]] * (T + 1)
    g = ups[T - 1]
    g0: list[float] = []
    for t in range(T, 0, -1):
        d = local(t)
        deltas[t] = [r(g[i] * d[i]) for i in range(n)]
        back = [add([r(WT[i][j] * deltas[t][j]) for j in range(n)]) for i in range(n)]
        if t > 1:
            e = ups[t - 2]
            g = [r(e[i] + back[i]) for i in range(n)] if way.recurrent else list(e)
        else:
            g0 = back
    steps = [T] if way.last_only else list(range(1, T + 1))
    dW = [[add([r(deltas[t][i] * prev[t - 1][j]) for t in steps]) for j in range(n)]
          for i in range(n)]
    dU = [add([r(deltas[t][i] * s.x[t - 1]) for t in steps]) for i in range(n)]
    db = [add([deltas[t][i] for t in steps]) for i in range(n)]
    out: dict[str, Any] = {"W": dW, "U": dU, "b": db, "h0": g0, "dh2/dh0": None}
    if n == 1:
        jac = 1.0
        for t in range(T, 0, -1):
            factor = r(W[0][0] * local(t)[0])
            jac = factor if t == T else r(jac * factor)
        out["dh2/dh0"] = jac
    return out


def _rnn_mistakes(s: _Rnn, key: str) -> list[Mistake | None]:
    """The named slips of one question, each as the whole backward pass done that way."""
    scalar = s.n == 1
    sq = "h_t²" if scalar else "h_t ⊙ h_t"
    out: list[Mistake | None] = []

    def add(kind: str, way: _Way, message: str) -> None:
        out.append(Mistake(kind, message, _scalar(_backward(s, way=way)[key])))

    if key in ("W", "U", "b"):
        what = {"W": "W", "U": "U", "b": "b"}[key]
        term = {"W": "δ_t·h_{t−1}" if scalar else "δ_t·h_{t−1}ᵀ", "U": "δ_t·x_t",
                "b": "δ_t"}[key]
        add("last-step-only", _Way(last_only=True),
            f"That is only the last step's term (as if nothing came back to h₁). {what} is "
            "shared by every step, so "
            f"∂L/∂{what} sums {term} over t = 1 and t = 2.")
    add("pre-activation-derivative", _Way(deriv="a"),
        f"You used 1 − a_t² of the pre-activation. tanh'(a_t) = 1 − tanh²(a_t) = 1 − {sq}: "
        "use the output h_t shown in the forward pass.")
    add("no-tanh-derivative", _Way(deriv="one"),
        f"The tanh is missing on the way back: multiply by 1 − {sq} at every step.")
    if key != "dh2/dh0":
        add("no-recurrent-path", _Way(recurrent=False),
            "You dropped the path through h₁: the gradient at h₁ also gets "
            + ("W·δ₂" if scalar else "Wᵀ·δ₂") + " from step 2 (h₁ feeds a₂).")
        if s.loss == "every-mse":
            add("intermediate-loss-forgotten", _Way(intermediate=False),
                "The loss is at every step: h₁ also gets h₁ − y₁ from its own loss term, "
                "added to what comes back from step 2.")
        if s.loss == "last-mse" or s.loss == "every-mse":
            add("sign", _Way(sign=-1.0),
                "The sign is flipped: ∂/∂h of ½(h − y)² is h − y (output minus target).")
        if not scalar:
            add("no-transpose", _Way(transpose=False),
                "On the way back the gradient goes through Wᵀ, not W: ∂L/∂h_{t−1} gets "
                "Wᵀ·δ_t.")
    return out


def _rnn_value(s: _Rnn, key: str) -> Any:
    return _scalar(_backward(s)[key])


def _rnn_extra_mistakes(s: _Rnn, key: str, value: Any) -> list[Mistake | None]:
    scalar = s.n == 1
    if key == "W" and not scalar:
        return [Mistake("transposed", "That is (Σ δ_t·h_{t−1}ᵀ)ᵀ: entry [i,j] of ∂L/∂W is "
                        "Σ_t δ_t[i]·h_{t−1}[j] (row: the unit, column: the previous state).",
                        value.T)]
    if key == "dh2/dh0":
        (h1, h2), W = (s.h[0].tolist()[0], s.h[1].tolist()[0]), float(s.W.ravel()[0])
        return [
            Mistake("one-step-only", "That is one step's factor W·(1 − h₂²); the gradient "
                    "to h₀ crosses two steps, so multiply both factors.", W * (1 - h2 * h2)),
            Mistake("factors-added", "The chain rule multiplies the per-step factors; it "
                    "does not add them.", W * (1 - h1 * h1) + W * (1 - h2 * h2)),
            Mistake("w-forgotten", "Each step also multiplies by W (a_t = W·h_{t−1} + …): "
                    "the factor per step is W·(1 − h_t²).", (1 - h1 * h1) * (1 - h2 * h2)),
        ]
    return []


def _rnn_draw(rng: random.Random, difficulty: int) -> _Rnn | None:
    n = 1 if difficulty == 1 else 2
    W = np.array([rng.choice(W1_VALUES if n == 1 else W2_VALUES) for _ in range(n * n)])
    W = W.reshape((n, n))
    h0 = np.array([rng.choice(H0_VALUES) for _ in range(n)])
    x = tuple(rng.sample(X_VALUES, 2))
    h = tuple(np.array([rng.choice(H_VALUES) for _ in range(n)]) for _ in range(2))
    loss = rng.choice(LOSSES)
    y: tuple[Any, ...] = ()
    v = None
    if loss == "last-mse":
        y = (np.array([rng.choice(Y_VALUES) for _ in range(n)]),)
    elif loss == "every-mse":
        y = tuple(np.array([rng.choice(Y_VALUES) for _ in range(n)]) for _ in range(2))
    else:
        v = np.array([rng.choice(V_VALUES) for _ in range(n)])
    # solve U and b, row by row, so that the network really produces h₁, h₂
    a = [np.array([math.atanh(e) for e in ht.tolist()]) for ht in h]
    prevs = [h0, h[0]]
    rhs = [a[t] - W @ prevs[t] for t in range(2)]
    U = (rhs[1] - rhs[0]) / (x[1] - x[0])
    b = rhs[0] - U * x[0]
    if np.abs(U).max() > 3 or np.abs(b).max() > 3:
        return None
    if difficulty == 1:
        # with W = ±1, ∂L/∂h₀ = ±δ₁ would be on the screen after the first question
        last = rng.choice(("h0", "dh2/dh0")) if abs(W[0, 0]) != 1 else "dh2/dh0"
        asks = ("W", rng.choice(("U", "b")), last)
    else:
        asks = ("W", rng.choice(("U", "b")), "h0")
    return _Rnn(n, W, U, b, h0, x, h, loss, y, v, asks)


def _rnn_friendly(s: _Rnn) -> bool:
    if s.n == 2:
        w = s.W.tolist()
        if w[0][1] == w[1][0] or w[0] == w[1] or [w[0][0], w[1][0]] == [w[0][1], w[1][1]]:
            return False  # a symmetric W hides W against Wᵀ; equal rows or columns teach less
        if s.h[0].tolist() == s.h[1].tolist():
            return False
    if any(min(abs(e) for e in _flat(s.upstream(t))) == 0 for t in range(1, s.T + 1)
           if s.loss != "last-linear" and (t == s.T or s.loss == "every-mse")):
        return False
    values = [_rnn_value(s, k) for k in s.asks]
    for v in values:
        if min(abs(e) for e in _flat(v)) < 0.01 or max(abs(e) for e in _flat(v)) > 40:
            return False
    return not any(_same_size(values[i], values[j]) for i in range(3) for j in range(i + 1, 3))


# -- the LSTM cell -------------------------------------------------------------------------------
GATES = (0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 0.8, 0.9)
G_VALUES = (-0.8, -0.6, -0.5, -0.4, 0.4, 0.5, 0.6, 0.8)
C_VALUES = (-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0)
DH_VALUES = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)
DC_VALUES = (-1.0, -0.5, -0.25, 0.25, 0.5, 1.0)


@dataclass(frozen=True)
class _Lstm:
    i: float
    f: float
    g: float
    o: float
    c_prev: float
    kind: str  # last-mse (L = ½(h_t − y)²) | middle (∂L/∂h_t and the cell-path gradient given)
    y: float = 0.0
    dh_given: float = 0.0
    dc: float = 0.0  # the gradient arriving along the cell state from step t+1
    asks: tuple[str, ...] = ()
    decimals: int = 2  # how tanh(c_t) is shown
    cache: dict = field(default_factory=dict, compare=False)  # the bands, once worked out

    @property
    def c(self) -> float:
        return self.f * self.c_prev + self.i * self.g

    @property
    def k(self) -> float:
        return math.tanh(self.c)

    @property
    def k_shown(self) -> float:
        return round(self.k, self.decimals)


@dataclass(frozen=True)
class _LWay:
    deriv: str = "k"  # k: 1 − tanh²(c_t); c: 1 − c_t²; h: 1 − h_t²; one: forgotten
    o_factor: bool = True
    h_path: bool = True
    c_path: bool = True
    sign: float = 1.0


def _lstm_backward(s: _Lstm, r: Rounder = _ident, way: _LWay = _LWay(), k: float | None = None
                   ) -> dict[str, float]:
    """The LSTM step's answers, worked as a person does it; k is tanh(c_t) as used."""
    k = s.k if k is None else k
    h = r(s.o * k)
    dh = way.sign * (r(h - s.y) if s.kind == "last-mse" else s.dh_given)
    local = {"k": r(1 - r(k * k)), "c": r(1 - s.c * s.c), "h": r(1 - r(h * h)),
             "one": 1.0}[way.deriv]
    through_h = r(r(dh * s.o) * local) if way.o_factor else r(dh * local)
    dct = r((through_h if way.h_path else 0.0) + (way.sign * s.dc if way.c_path else 0.0))
    return {"o": r(dh * k), "f": r(dct * s.c_prev), "i": r(dct * s.g), "g": r(dct * s.i),
            "c_prev": r(dct * s.f), "c_t": dct}


def _lstm_mistakes(s: _Lstm, key: str) -> list[Mistake | None]:
    out: list[Mistake | None] = []

    def add(kind: str, way: _LWay, message: str) -> None:
        out.append(Mistake(kind, message, _lstm_backward(s, way=way)[key]))

    if key == "o":
        out += [
            Mistake("tanh-forgotten", "h_t = o·tanh(c_t), so ∂h_t/∂o is tanh(c_t), not c_t.",
                    _lstm_backward(s)["o"] / s.k * s.c),
            Mistake("gate-pre-activation", "That multiplies by σ'(z_o) = o(1 − o): the "
                    "gradient of the gate's pre-activation. The question asks for the gate "
                    "value o.", _lstm_backward(s)["o"] * s.o * (1 - s.o)),
        ]
    else:
        add("pre-activation-derivative", _LWay(deriv="c"),
            "You used 1 − c_t². The derivative of tanh(c_t) is 1 − tanh²(c_t): use the "
            "tanh(c_t) shown.")
        add("h-for-tanh", _LWay(deriv="h"),
            "You used 1 − h_t², but h_t = o·tanh(c_t) is not tanh(c_t): the local "
            "derivative is 1 − tanh²(c_t), then times o.")
        add("no-tanh-derivative", _LWay(deriv="one"),
            "The path from h_t to c_t goes through tanh: multiply by 1 − tanh²(c_t).")
        add("output-gate-dropped", _LWay(o_factor=False),
            "h_t = o·tanh(c_t): the output gate o multiplies the path from h_t to c_t.")
        if s.kind == "middle":
            add("dropped-cell-path", _LWay(c_path=False),
                "You dropped the gradient that arrives along the cell state from step t+1: "
                "∂L/∂c_t adds it to the path through h_t.")
            add("dropped-h-path", _LWay(h_path=False),
                "You kept only the cell-state path: ∂L/∂c_t also gets "
                "∂L/∂h_t·o·(1 − tanh²(c_t)) through h_t.")
        dct = _lstm_backward(s)["c_t"]
        if key == "f":
            out.append(Mistake("new-cell-used", "∂c_t/∂f is the previous cell c_{t−1}, "
                               "not the new cell c_t.", dct * s.c))
            out.append(Mistake("gate-pre-activation", "That multiplies by σ'(z_f) = "
                               "f(1 − f): the pre-activation's gradient, not the gate's.",
                               dct * s.c_prev * s.f * (1 - s.f)))
        if key == "i":
            out.append(Mistake("swapped-i-g", "∂(i·g)/∂i is g, the candidate value, not i.",
                               dct * s.i))
            out.append(Mistake("gate-pre-activation", "That multiplies by σ'(z_i) = "
                               "i(1 − i): the pre-activation's gradient, not the gate's.",
                               dct * s.g * s.i * (1 - s.i)))
        if key == "g":
            out.append(Mistake("swapped-i-g", "∂(i·g)/∂g is i, the input gate, not g.",
                               dct * s.g))
            out.append(Mistake("gate-pre-activation", "That multiplies by tanh'(z_g) = "
                               "1 − g²: the pre-activation's gradient, not g's.",
                               dct * s.i * (1 - s.g * s.g)))
        if key == "c_prev":
            out.append(Mistake("forget-gate-dropped", "c_t = f·c_{t−1} + i·g: the path to "
                               "c_{t−1} is scaled by the forget gate f.", dct))
    if s.kind == "last-mse":
        add("sign", _LWay(sign=-1.0),
            "The sign is flipped: ∂/∂h of ½(h − y)² is h − y (output minus target).")
    return out


def _lstm_draw(rng: random.Random) -> _Lstm | None:
    i, f, o = (rng.choice(GATES) for _ in range(3))
    g, c_prev = rng.choice(G_VALUES), rng.choice(C_VALUES)
    kind = rng.choice(("last-mse", "middle"))
    # three questions (the engine asks at most three): o or f, then i or g, then c_{t−1}
    first, second = rng.choice(("o", "f")), rng.choice(("i", "g"))
    s = _Lstm(i, f, g, o, c_prev, kind, y=rng.choice(Y_VALUES),
              dh_given=rng.choice(DH_VALUES), dc=rng.choice(DC_VALUES),
              asks=(first, second, "c_prev"))
    if kind == "last-mse":
        s = _Lstm(i, f, g, o, c_prev, kind, y=s.y, asks=s.asks)
    else:
        s = _Lstm(i, f, g, o, c_prev, kind, dh_given=s.dh_given, dc=s.dc, asks=s.asks)
    if abs(s.c) < 0.1 or abs(s.c) > 2.5:
        return None
    for decimals in (2,):  # 1 − 0.62² by hand; a third decimal is calculator work
        t = _Lstm(s.i, s.f, s.g, s.o, s.c_prev, s.kind, s.y, s.dh_given, s.dc, s.asks,
                  decimals)
        if _lstm_fair(t):
            return t
    return None


def _lstm_bands(s: _Lstm) -> dict[str, tuple[float, float]]:
    """Every asked answer's honest-rounding band, from one replay (kept on the problem)."""
    if "bands" not in s.cache:
        def compute(r):
            d = _lstm_backward(s, r)  # one hand computation gives every answer
            return np.array([d[k] for k in s.asks])

        lo, hi = band(compute)
        s.cache["bands"] = {k: (lo.tolist()[j], hi.tolist()[j]) for j, k in enumerate(s.asks)}
    return s.cache["bands"]


def _lstm_fair(s: _Lstm) -> bool:
    """A candidate who works from the shown tanh(c_t) lands inside the exact answer's band."""
    exact = _lstm_backward(s)
    for key in s.asks:
        lo, hi = _lstm_bands(s)[key]
        shown = _lstm_backward(s, k=s.k_shown)[key]
        from quizforge.drill.rounding import rounder

        shown_r = _lstm_backward(s, rounder("nearest"), k=s.k_shown)[key]
        if not (lo <= shown <= hi and lo <= shown_r <= hi):
            return False
        if abs(exact[key]) < 0.01 or abs(exact[key]) > 40 or not _tight(exact[key], lo, hi):
            return False
    values = [exact[k] for k in s.asks]
    return not any(_same_size(values[a], values[b]) for a in range(len(values))
                   for b in range(a + 1, len(values)))


# -- what is shown -------------------------------------------------------------------------------
def _rnn_body(s: _Rnn) -> tuple[Lines, ...]:
    scalar = s.n == 1
    lines = [f"A vanilla RNN with a hidden state of {'one number' if scalar else 'size 2'}, "
             "unrolled for 2 steps:",
             "  a_t = W·h_{t−1} + U·x_t + b,    h_t = tanh(a_t)      (t = 1, 2)"]
    if scalar:
        lines.append(f"  W = {_t(s.W[0, 0])}    U ≈ {_approx(s.U[0])}    b ≈ {_approx(s.b[0])}"
                     f"    h₀ = {_t(s.h0[0])}")
    else:
        w = s.W.tolist()
        lines += [f"  W = ⎡ {_t(w[0][0]):>4}  {_t(w[0][1]):>4} ⎤    h₀ = {_t(s.h0)}"
                  "    (x_t is a number,",
                  f"      ⎣ {_t(w[1][0]):>4}  {_t(w[1][1]):>4} ⎦     U and b are vectors of 2)",
                  f"  U ≈ {_approx(s.U)}    b ≈ {_approx(s.b)}"]
    lines.append("  (U and b are rounded to 3 decimals; the h_t below are exact.)")
    fwd = ["t   x_t   a_t (≈)" + " " * (14 if not scalar else 5) + "h_t"]
    for t in (1, 2):
        a = _approx(s.a[t - 1][0]) if scalar else _approx(s.a[t - 1])
        hv = _t(s.h[t - 1][0]) if scalar else _t(s.h[t - 1])
        fwd.append(f"{t}   {_t(s.x[t - 1]):>3}   {a:<{19 if not scalar else 10}}{hv}")
    if s.loss == "last-mse":
        what = (f"L = ½(h₂ − y)²,  y = {_t(_scalar(s.y[0]))}" if scalar else
                f"L = ½‖h₂ − y‖²,  y = {_t(s.y[0])}")
        loss = ["At the last step only: " + what]
    elif s.loss == "last-linear":
        what = (f"L = v·h₂,  v = {_t(_scalar(s.v))}" if scalar else
                f"L = vᵀ·h₂,  v = {_t(s.v)}")
        loss = ["At the last step only: " + what]
    else:
        ys = ", ".join(f"y{str(t).translate(SUB)} = "
                       + (_t(_scalar(s.y[t - 1])) if scalar else _t(s.y[t - 1]))
                       for t in (1, 2))
        loss = [("At every step: L = Σ_t ½(h_t − y_t)²,  " if scalar else
                 "At every step: L = Σ_t ½‖h_t − y_t‖²,  ") + ys]
    return (Lines("", tuple(lines)), Lines("Forward pass (given)", tuple(fwd)),
            Lines("Loss", tuple(loss)))


def _lstm_body(s: _Lstm) -> tuple[Lines, ...]:
    kd = _approx(s.k_shown, s.decimals)
    lines = ["One step of an LSTM cell (scalar state), as in torch.nn.LSTM:",
             "  c_t = f·c_{t−1} + i·g,      h_t = o·tanh(c_t)",
             f"Gate values (given): i = {_t(s.i)}, f = {_t(s.f)}, g = {_t(s.g)}, "
             f"o = {_t(s.o)}",
             f"Previous cell c_{{t−1}} = {_t(s.c_prev)}, so c_t = {_n(s.f)}·{_n(s.c_prev)} + "
             f"{_n(s.i)}·{_n(s.g)} = {_t(s.c)}",
             f"tanh(c_t) = tanh({_t(s.c)}) ≈ {kd} (given; use it as it is)"]
    if s.kind == "last-mse":
        lines += [f"h_t = o·tanh(c_t) ≈ {_t(s.o)}·{_n(s.k_shown)} = {_t(s.o * s.k_shown)}. "
                  "This is the last step, and the loss is",
                  f"  L = ½(h_t − y)²,  y = {_t(s.y)}."]
    else:
        lines += ["A middle step: the backward pass has already brought, from step t+1,",
                  f"  ∂L/∂h_t = {_t(s.dh_given)}   (from the loss at step t and from step t+1),",
                  f"  and {_t(s.dc)} along the cell state (∂L/∂c_{{t+1}}·f_{{t+1}}), to be "
                  "added to ∂L/∂c_t."]
    return (Lines("", tuple(lines)),)


# -- questions -----------------------------------------------------------------------------------
ASK = {"W": "∂L/∂W", "U": "∂L/∂U", "b": "∂L/∂b", "h0": "∂L/∂h₀", "dh2/dh0": "∂h₂/∂h₀",
       "o": "∂L/∂o", "f": "∂L/∂f", "i": "∂L/∂i", "g": "∂L/∂g", "c_prev": "∂L/∂c_{t−1}"}
SKILLS = {"W": ("bptt", "shared-weight-sum"), "U": ("bptt", "shared-weight-sum"),
          "b": ("bptt", "shared-weight-sum"), "h0": ("bptt", "tanh-grad"),
          "dh2/dh0": ("bptt", "vanishing-gradient"), "o": ("lstm-gates",),
          "f": ("lstm-gates", "lstm-cell-path"), "i": ("lstm-gates", "lstm-cell-path"),
          "g": ("lstm-gates", "lstm-cell-path"), "c_prev": ("lstm-cell-path",)}


def _ask_text(key: str, shape: tuple[int, ...]) -> str:
    label = ASK[key]
    if key == "dh2/dh0":
        return ("Give ∂h₂/∂h₀, the factor that carries a gradient at h₂ back to h₀ "
                "(a number).")
    if shape == ():
        return f"Give {label} (a number; 3 significant figures are enough)."
    if len(shape) == 2:
        return f"Give {label}, a 2×2 matrix like W, as [[a, b], [c, d]]."
    return f"Give {label}, a vector of 2, as [a, b]."


def _rnn_deltas_lines(s: _Rnn) -> list[str]:
    """The backward pass written out: upstream, δ_t = g_t ⊙ (1 − h_t²), back through W."""
    scalar = s.n == 1
    out: list[str] = []
    g = s.upstream(2)
    what = {"last-mse": "h₂ − y", "last-linear": "v", "every-mse": "h₂ − y₂"}[s.loss]

    def v(x: Any) -> str:
        return _t(_scalar(x)) if scalar else _t(x)

    out.append(f"g₂ = ∂L/∂h₂ = {what} = {v(g)}")
    d2 = g * (1 - s.h[1] * s.h[1])
    out.append(f"δ₂ = g₂ ⊙ (1 − h₂²) = {v(g)} ⊙ {v(1 - s.h[1] * s.h[1])} = {v(d2)}"
               if not scalar else
               f"δ₂ = g₂·(1 − h₂²) = {_n(_scalar(g))}·{_n(_scalar(1 - s.h[1] * s.h[1]))} "
               f"= {v(d2)}")
    back = s.W.T @ d2
    e1 = s.upstream(1)
    g1 = e1 + back
    if s.loss == "every-mse":
        out.append(f"g₁ = (h₁ − y₁) + W·δ₂ = {v(e1)} + {_n(_scalar(s.W))}·{_n(_scalar(d2))} "
                   f"= {v(g1)}" if scalar else
                   f"g₁ = (h₁ − y₁) + Wᵀ·δ₂ = {v(e1)} + {_t(s.W.T)}·{v(d2)}")
        if not scalar:
            out.append(f"   = {v(e1)} + {v(back)} = {v(g1)}")
    else:
        out.append(f"g₁ = W·δ₂ = {_n(_scalar(s.W))}·{_n(_scalar(d2))} = {v(g1)}   "
                   "(no loss at step 1)" if scalar else
                   f"g₁ = Wᵀ·δ₂ = {_t(s.W.T)}·{v(d2)} = {v(g1)}")
    d1 = g1 * (1 - s.h[0] * s.h[0])
    out.append(f"δ₁ = g₁ ⊙ (1 − h₁²) = {v(g1)} ⊙ {v(1 - s.h[0] * s.h[0])} = {v(d1)}"
               if not scalar else
               f"δ₁ = g₁·(1 − h₁²) = {_n(_scalar(g1))}·{_n(_scalar(1 - s.h[0] * s.h[0]))} "
               f"= {v(d1)}")
    return out


def _rnn_bands(s: _Rnn) -> dict[str, tuple[Any, Any]] | None:
    """The honest-rounding band of every asked answer, from one replay of the backward pass
    (its answers side by side in one flat array); None when a cancellation makes one too
    wide to grade fairly."""
    keys = s.asks

    def compute(r):
        d = _work(s, r, _Way())
        flat: list[float] = []
        for k in keys:
            v = d[k]
            flat += [v] if k == "dh2/dh0" else [e for row in v for e in
                                                (row if isinstance(row, list) else [row])]
        return np.array(flat)

    exact = compute(_ident).tolist()
    for mixes in (0, 24):  # nearest, down and up first: a cancellation shows there already
        lo, hi = band(compute, mixes=mixes)
        lo_list, hi_list = lo.tolist(), hi.tolist()
        if not _tight(np.array(exact), lo, hi):
            return None
    out, start = {}, 0
    for k in keys:
        value = _rnn_value(s, k)
        shape = tuple(getattr(value, "shape", ()))
        size = len(_flat(value))
        part_lo, part_hi = lo_list[start:start + size], hi_list[start:start + size]
        start += size
        if shape == ():
            out[k] = (part_lo[0], part_hi[0])
        else:
            out[k] = (np.array(part_lo).reshape(shape), np.array(part_hi).reshape(shape))
    return out


def _rnn_candidates(s: _Rnn, key: str) -> list[Mistake | None]:
    return _rnn_mistakes(s, key) + _rnn_extra_mistakes(s, key, _rnn_value(s, key))


def _rnn_asked(s: _Rnn, key: str, lo: Any, hi: Any) -> Asked:
    value = _rnn_value(s, key)
    mistakes = _keep(value, lo, hi, _rnn_candidates(s, key))
    shape = tuple(getattr(value, "shape", ()))
    scalar = s.n == 1
    q = Question(key, "number", _ask_text(key, shape), SKILLS[key], shape)
    target = Target(key, ASK[key], value, lo, hi, mistakes)
    deltas = _rnn_deltas_lines(s)
    d1, d2 = _backward_deltas(s)

    def v(x: Any) -> str:
        return _t(_scalar(x)) if scalar else _t(x)

    def term(x: Any) -> str:  # a number inside a sum: negative ones in parentheses
        return _n(_scalar(x)) if scalar else _t(x)

    if key == "W":
        formula = ("∂L/∂W = Σ_t δ_t·h_{t−1},  δ_t = ∂L/∂a_t = ∂L/∂h_t·(1 − h_t²)" if scalar
                   else "∂L/∂W = Σ_t δ_t·h_{t−1}ᵀ,  δ_t = ∂L/∂a_t = ∂L/∂h_t ⊙ (1 − h_t²)")
        why = "W is used at both steps: add each step's term (BPTT)."
        if scalar:
            tail = [f"∂L/∂W = δ₁·h₀ + δ₂·h₁ = {_n(_scalar(d1))}·{_n(_scalar(s.h0))} + "
                    f"{_n(_scalar(d2))}·{_n(_scalar(s.h[0]))} = {v(value)}"]
        else:
            tail = [f"δ₁·h₀ᵀ = {_t(np.outer(d1, s.h0))}",
                    f"δ₂·h₁ᵀ = {_t(np.outer(d2, s.h[0]))}", f"∂L/∂W = {_t(value)}"]
    elif key == "U":
        formula = "∂L/∂U = Σ_t δ_t·x_t"
        why = "U is used at both steps: add each step's term."
        tail = [f"∂L/∂U = δ₁·x₁ + δ₂·x₂ = {term(d1)}·{_n(s.x[0])} + {term(d2)}·{_n(s.x[1])}",
                f"      = {v(value)}"]
    elif key == "b":
        formula = "∂L/∂b = Σ_t δ_t"
        why = "b is added at both steps: add each step's δ."
        tail = [f"∂L/∂b = δ₁ + δ₂ = {v(d1)} + {term(d2)} = {v(value)}"]
    elif key == "h0":
        formula = "∂L/∂h₀ = " + ("W·δ₁" if scalar else "Wᵀ·δ₁")
        why = "h₀ reaches the loss only through a₁ = W·h₀ + …"
        tail = ([f"∂L/∂h₀ = W·δ₁ = {_n(_scalar(s.W))}·{_n(_scalar(d1))} = {v(value)}"]
                if scalar else [f"∂L/∂h₀ = Wᵀ·δ₁ = {_t(s.W.T)}·{_t(d1)} = {v(value)}"])
    else:  # dh2/dh0
        h1, h2 = _scalar(s.h[0]), _scalar(s.h[1])
        Wv = _scalar(s.W)
        formula = "∂h₂/∂h₀ = W·(1 − h₂²) · W·(1 − h₁²)   (one factor per step)"
        why = ("Each step multiplies by W·(1 − h_t²); when that is smaller than 1 in size,",
               "the product shrinks with every step: the gradient to early states vanishes.")
        deltas = []
        tail = [f"W·(1 − h₂²) = {_n(Wv)}·{_n(1 - h2 * h2)} = {_t(Wv * (1 - h2 * h2))}",
                f"W·(1 − h₁²) = {_n(Wv)}·{_n(1 - h1 * h1)} = {_t(Wv * (1 - h1 * h1))}",
                f"∂h₂/∂h₀ = {_t(value)}"]
    sol = (Lines("Formula", (formula, *([why] if isinstance(why, str) else why))),
           Lines("Numbers", tuple(deltas + tail)))
    hints = {
        "W": ("W is shared by both steps: ∂L/∂W adds δ_t·h_{t−1} over t = 1, 2.",
              "Start at the loss: δ₂ = ∂L/∂h₂·(1 − h₂²), then δ₁ from what comes back to h₁."),
        "U": ("U is shared by both steps: ∂L/∂U adds δ_t·x_t over t = 1, 2.",
              "δ_t = ∂L/∂h_t·(1 − h_t²) with h_t from the forward table."),
        "b": ("b is added at both steps: ∂L/∂b = δ₁ + δ₂.",
              "δ_t = ∂L/∂h_t·(1 − h_t²) with h_t from the forward table."),
        "h0": ("h₀ enters only a₁ = W·h₀ + …: ∂L/∂h₀ = " + ("W·δ₁." if scalar else "Wᵀ·δ₁."),
               "δ₁ needs everything that reaches h₁, times 1 − h₁²."),
        "dh2/dh0": ("∂h_t/∂h_{t−1} = (1 − h_t²)·W: one factor per step.",
                    "Multiply the factors of step 2 and step 1."),
    }[key]
    return Asked(q, target, sol, hints)


def _backward_deltas(s: _Rnn) -> tuple[Any, Any]:
    g2 = s.upstream(2)
    d2 = g2 * (1 - s.h[1] * s.h[1])
    g1 = s.upstream(1) + s.W.T @ d2
    return g1 * (1 - s.h[0] * s.h[0]), d2


def _lstm_asked(s: _Lstm, key: str) -> Asked:
    exact = _lstm_backward(s)
    value = exact[key]
    lo, hi = _lstm_bands(s)[key]
    mistakes = _keep(value, lo, hi, _lstm_mistakes(s, key))
    q = Question(key, "number", _ask_text(key, ()), SKILLS[key], ())
    target = Target(key, ASK[key], value, lo, hi, mistakes)
    k = s.k_shown
    shown = _lstm_backward(s, k=k)  # the same work with the tanh(c_t) on the screen
    dh = s.o * k - s.y if s.kind == "last-mse" else s.dh_given
    if s.kind == "last-mse":
        dh_line = [f"∂L/∂h_t = h_t − y ≈ {_t(s.o * k)} − {_n(s.y)} = {_t(dh)}"]
    else:
        dh_line = [f"∂L/∂h_t = {_t(s.dh_given)} (given)"]
    dct_shown = dh * s.o * (1 - k * k) + s.dc
    cell = f" + {_n(s.dc)}" if s.kind == "middle" else ""
    dct_lines = [
        f"1 − tanh²(c_t) ≈ 1 − {_n(k)}² = {_t(1 - k * k)}",
        "∂L/∂c_t = ∂L/∂h_t·o·(1 − tanh²(c_t))"
        + (" + (the cell-state gradient)" if s.kind == "middle" else ""),
        f"        ≈ {_n(dh)}·{_n(s.o)}·{_n(1 - k * k)}{cell} = {_t4(dct_shown)}",
    ]
    if key == "o":
        formula = ("∂L/∂o = ∂L/∂h_t·tanh(c_t)   (h_t = o·tanh(c_t))",)
        numbers = dh_line + [f"∂L/∂o = ∂L/∂h_t·tanh(c_t) ≈ {_n(dh)}·{_n(k)} = "
                             f"{_t4(dh * k)}"]
    else:
        factor = {"f": ("c_{t−1}", s.c_prev), "i": ("g", s.g), "g": ("i", s.i),
                  "c_prev": ("f", s.f)}[key]
        formula = (f"{ASK[key]} = ∂L/∂c_t·{factor[0]}   (c_t = f·c_{{t−1}} + i·g)",
                   "∂L/∂c_t = ∂L/∂h_t·o·(1 − tanh²(c_t))"
                   + (" + the cell-state gradient from t+1" if s.kind == "middle" else ""))
        numbers = dh_line + dct_lines + [
            f"{ASK[key]} = ∂L/∂c_t·{factor[0]} ≈ {_t4(dct_shown)}·{_n(factor[1])} "
            f"= {_t4(shown[key])}"]
        if key == "c_prev":
            formula += ("The cell path is additive: no tanh and no W on it, only f, so with",
                        "f near 1 the gradient crosses many steps.")
    if _t4(value) != _t4(shown[key]):
        numbers.append(f"With tanh(c_t) unrounded: {ASK[key]} = {_t4(value)}")
    sol = (Lines("Formula", formula), Lines("Numbers", tuple(numbers)))
    dct_hint = ("∂L/∂c_t = ∂L/∂h_t·o·(1 − tanh²(c_t))"
                + (" plus the cell-state gradient." if s.kind == "middle" else "."))
    hints = {
        "o": ("h_t = o·tanh(c_t): the output gate multiplies tanh(c_t).",
              "∂L/∂o = ∂L/∂h_t·tanh(c_t)."),
        "f": ("First ∂L/∂c_t, then c_t = f·c_{t−1} + i·g gives ∂c_t/∂f = c_{t−1}.", dct_hint),
        "i": ("First ∂L/∂c_t, then c_t = f·c_{t−1} + i·g gives ∂c_t/∂i = g.", dct_hint),
        "g": ("First ∂L/∂c_t, then c_t = f·c_{t−1} + i·g gives ∂c_t/∂g = i.", dct_hint),
        "c_prev": ("c_t = f·c_{t−1} + i·g: ∂c_t/∂c_{t−1} = f.", "∂L/∂c_{t−1} = ∂L/∂c_t·f."),
    }[key]
    return Asked(q, target, sol, hints)


def _t4(v: float) -> str:
    from quizforge.drill.model import fmt_num

    return fmt_num(v, 4).replace("-", "−")


# -- JSON and the loss as one scalar expression --------------------------------------------------
def _rnn_given(s: _Rnn) -> dict[str, Any]:
    scalar = s.n == 1

    def val(v: Any) -> Any:
        return _scalar(v) if scalar else v

    given: dict[str, Any] = {"W": val(s.W), "U": val(s.U), "b": val(s.b), "h0": val(s.h0),
                             "x": np.array(list(s.x))}
    if s.loss == "last-mse":
        given["y"] = val(s.y[0])
    elif s.loss == "every-mse":
        given["y"] = np.array([e.tolist() for e in s.y]) if not scalar else \
            np.array([_scalar(e) for e in s.y])
    else:
        given["v"] = val(s.v)
    return given


def _rnn_loss_text(s: _Rnn) -> str:
    scalar = s.n == 1

    def W(i: int, j: int) -> str:
        return "W" if scalar else f"W_{i}_{j}"

    def vec(name: str, i: int) -> str:
        return name if scalar else f"{name}_{i}"

    hs: list[list[str]] = [[vec("h0", i) for i in range(s.n)]]
    for t in range(2):
        row = []
        for i in range(s.n):
            rec = " + ".join(f"{W(i, j)}*({hs[-1][j]})" for j in range(s.n))
            row.append(f"tanh({rec} + {vec('U', i)}*x_{t} + {vec('b', i)})")
        hs.append(row)
    terms = []
    if s.loss == "last-mse":
        terms = [f"(1/2)*({hs[2][i]} - {vec('y', i)})**2" for i in range(s.n)]
    elif s.loss == "last-linear":
        terms = [f"{vec('v', i)}*({hs[2][i]})" for i in range(s.n)]
    else:
        for t in (1, 2):
            for i in range(s.n):
                y = f"y_{t - 1}" if scalar else f"y_{t - 1}_{i}"
                terms.append(f"(1/2)*({hs[t][i]} - {y})**2")
    return " + ".join(terms)


def _lstm_given(s: _Lstm) -> dict[str, Any]:
    given: dict[str, Any] = {"i": s.i, "f": s.f, "g": s.g, "o": s.o, "c_prev": s.c_prev}
    if s.kind == "last-mse":
        given["y"] = s.y
    else:
        given["dh"] = s.dh_given
        given["dc"] = s.dc
    return given


def _lstm_loss_text(s: _Lstm) -> str:
    c = "(f*c_prev + i*g)"
    h = f"o*tanh{c}"
    if s.kind == "last-mse":
        return f"(1/2)*({h} - y)**2"
    return f"dh*({h}) + dc*{c}"


def _may_teach(s: _Rnn, needs: dict[str, set]) -> bool:
    """The lesson's mistakes differ from the right answers by more than 3 figures can hide
    (the band is checked afterwards)."""
    for key in s.asks:
        value = _rnn_value(s, key)
        far = {m.kind for m in _rnn_candidates(s, key)
               if m is not None and not _same(m.value, value, 0.02)}
        if not needs.get(key, set()) <= far:
            return False
    return True


def _gives_away(asked: tuple[Asked, ...]) -> bool:
    """A worked solution shows the answer of a question asked after it (∂h₂/∂h₀ can equal
    δ₁ when v = W, ∂L/∂c_{t−1} can equal ∂L/∂f when f = c_{t−1} …)."""
    for i, a in enumerate(asked):
        shown = blocks_text(a.solution).replace("−", "-")
        for b in asked[i + 1:]:
            for value in (b.target.value, -b.target.value):  # up to its sign, too
                text = tensor_text(value)
                if f"= {text}" in shown or f"≈ {text}" in shown or f"= -{text}" in shown:
                    return True
    return False


def _teaches(keys: tuple[str, ...], asked: tuple[Asked, ...], needs: dict[str, set]) -> bool:
    return all(needs.get(k, set()) <= {m.kind for m in a.target.mistakes}
               for k, a in zip(keys, asked, strict=True))


# -- the family ----------------------------------------------------------------------------------
def generate(seed: int, difficulty: int, form: str) -> BasicProblem:
    rng = random.Random(f"rnn/{seed}/{difficulty}")  # str seeds hash the same everywhere
    for _ in range(5000):
        if difficulty < 3:
            s = _rnn_draw(rng, difficulty)
            if s is None or not _rnn_friendly(s):
                continue
            needs = {"W": {"last-step-only", "pre-activation-derivative"},
                     "h0": {"pre-activation-derivative"},
                     "dh2/dh0": {"pre-activation-derivative", "one-step-only"}}
            if s.loss == "every-mse":
                needs["W"] = needs["W"] | {"intermediate-loss-forgotten"}
            if s.n == 2:
                needs["h0"] = needs["h0"] | {"no-transpose"}
            if not _may_teach(s, needs):  # cheap: before any band is worked out
                continue
            bands = _rnn_bands(s)
            if bands is None:
                continue
            asked = tuple(_rnn_asked(s, k, *bands[k]) for k in s.asks)
            if not _teaches(s.asks, asked, needs):
                continue
            body = _rnn_body(s)
            given = _rnn_given(s)
            loss = _rnn_loss_text(s)
            shown = [_scalar(ht) for ht in s.h]
            extra = (("setup", "rnn"), ("loss", s.loss),
                     ("forward", {"h": [e if isinstance(e, float) else e.tolist()
                                        for e in shown]}),
                     ("pytorch", {"module": "torch.nn.RNN", "nonlinearity": "tanh",
                                  "input_size": 1, "hidden_size": s.n,
                                  "weight_hh_l0": "W", "weight_ih_l0": "U (as a column)",
                                  "bias_ih_l0": "b", "bias_hh_l0": 0, "h_0": "h0",
                                  "input": "x (one number per step)"}))
        else:
            s = _lstm_draw(rng)
            if s is None:
                continue
            asked = tuple(_lstm_asked(s, k) for k in s.asks)
            tanh_slips = {"pre-activation-derivative", "h-for-tanh"}
            needs = {"f": tanh_slips, "i": tanh_slips, "g": tanh_slips,
                     "c_prev": {"forget-gate-dropped"}}
            if s.kind == "middle":
                needs["c_prev"] = needs["c_prev"] | {"dropped-cell-path"}
            if not _teaches(s.asks, asked, needs):
                continue
            body = _lstm_body(s)
            given = _lstm_given(s)
            loss = _lstm_loss_text(s)
            extra = (("setup", "lstm"), ("loss", s.kind),
                     ("forward", {"c": s.c, "tanh_c_shown": s.k_shown}),
                     ("pytorch", {"module": "torch.nn.LSTM", "gates": "i, f, g, o "
                                  "(the order of weight_ih_l0's four chunks)",
                                  "c_0": "c_prev", "answers": "gradients of the gate "
                                  "values i, f, g, o, not of their pre-activations"}))
        if not fits_screen(body, asked) or _gives_away(asked):
            continue
        return BasicProblem("rnn", seed, difficulty, form, body, given, loss, asked, extra)
    raise RuntimeError(f"rnn: no problem for seed {seed} at difficulty {difficulty}")


FAMILY = Family(
    name="rnn",
    summary="Backprop through time: a tanh RNN unrolled 2 steps, one LSTM step (gates given)",
    levels={1: "scalar RNN, 2 steps: ∂L/∂W summed over time, ∂L/∂U or ∂L/∂b, ∂L/∂h₀ or "
               "the vanishing factor ∂h₂/∂h₀",
            2: "hidden state of 2 (W is 2×2): ∂L/∂W, ∂L/∂U or ∂L/∂b, ∂L/∂h₀ = Wᵀ·δ₁",
            3: "one LSTM cell step: ∂L/∂o, ∂L/∂f, ∂L/∂i or ∂L/∂g, and the additive "
               "path ∂L/∂c_{t−1} = ∂L/∂c_t·f"},
    generate=generate,
    forms=("number",),
    order=58,  # with the gradient families, after batchnorm (50), before optimizer (60)
    example="[[0.5, -1], [0.25, 2]]",
)
