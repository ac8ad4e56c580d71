"""Problem kinds that grow the existing families (issue 18), kept apart from their modules.

Each kind is one function `make(rng, seed, difficulty, form)` that returns a finished
`BasicProblem` (or None to draw again). A family's `generate` first asks `draw(...)`: with its
own random stream (so a seed that does not draw a new kind keeps its old problem) it picks a
new kind with probability SHARE where that family and level has any, else returns None.

- backprop: leaky ReLU and Huber (level 1), GELU and SiLU (level 2), KL and focal loss (3);
- batchnorm: eval-mode batch norm with running statistics (1), RMSNorm (2);
- mlp: inverted dropout, forward and backward (levels 1 and 2);
- softmax-ce: the log-sum-exp trick (level 2);
- linear: an embedding lookup's gradient, with repeated indices (level 1).

Whiteboard numbers only: any value of Φ, φ, σ, e^x or ln that a person cannot work out in a
line is shown in the problem (to 4 significant figures); the answers are exact, and the
honest-rounding band covers a learner who uses the shown values.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from quizforge.drill.basic import Asked, BasicProblem, fits_screen
from quizforge.drill.model import Lines, Mistake, Question, Target, fmt_exact, fmt_num
from quizforge.drill.rounding import band

SHARE = 0.25  # how often a family's level draws one of its new kinds
SAME_RTOL = 0.005  # as _tensor.SAME_RTOL: two values this close are one answer to the grader


def _ident(t: Any) -> Any:
    return t


def _num(v: float) -> str:
    s = fmt_exact(v)
    return f"({s})" if s.startswith("-") else s


def _vec(v: Any) -> str:
    import numpy as np

    v = np.asarray(v, dtype=float)
    if v.ndim == 2:
        return "[" + ", ".join(_vec(r) for r in v) + "]"
    return "[" + ", ".join(fmt_exact(x) for x in v) + "]"


def _shown(v: float) -> str:
    """A value shown to the learner: 4 significant figures."""
    return fmt_num(v, 4)


def _letters(shape: tuple[int, ...]) -> str:
    from quizforge.drill.families._tensor import answer_template

    return answer_template(shape)


def _is_array(v: Any) -> bool:
    return hasattr(v, "shape") and getattr(v, "shape", ()) != ()


def _close(a: float, b: float) -> bool:  # _tensor.same for two plain numbers
    return abs(a - b) <= SAME_RTOL * abs(b) + 1e-9


def _keep_scalar(value: float, lo: float, hi: float, wrongs) -> tuple[Mistake, ...]:
    """_tensor.keep_mistakes for plain numbers, without numpy (scalar kinds stay light)."""
    kept: list[Mistake] = []
    for k, m, v in wrongs:
        v = float(v)
        if _close(v, value) or lo <= v <= hi or any(_close(v, x.value) for x in kept):
            continue
        kept.append(Mistake(k, m, v))
    return tuple(kept)


def _asked(form: str, wrt: str, label: str, ask: str, compute: Callable[[Any], Any],
           wrongs: Sequence[tuple[str, str, Any] | None], needed: Sequence[str],
           solution: Sequence[str], hints: Sequence[str], skills: tuple[str, ...]):
    """One question: value, band, the mistakes a grader can tell apart (None when a needed
    mistake cannot be told apart on these numbers: draw again). A number question never
    imports numpy."""
    wrongs = [w for w in wrongs if w is not None]
    value = compute(_ident)
    lo, hi = band(compute)
    if _is_array(value):
        import numpy as np

        from quizforge.drill.families._tensor import keep_mistakes

        value = np.asarray(value, dtype=float)
        kept = keep_mistakes(value, lo, hi, [Mistake(k, m, np.asarray(v, dtype=float))
                                             for k, m, v in wrongs])
        shape = tuple(value.shape)
    else:
        value = float(value)
        # as in the graph problems, a flipped sign is always named "sign", checked first
        signs = [w for w in wrongs if w[0] == "sign" and _close(float(w[2]), -value)]
        if not signs:
            signs = [("sign", "The size is right but the sign is flipped: check the sign of "
                      "each factor.", -value)]
        kept = _keep_scalar(value, float(lo), float(hi),
                            [*signs, *(w for w in wrongs if w not in signs)])
        shape = ()
    if any(not any(m.kind == k for m in kept) for k in needed):
        return None
    sol = (Lines("Steps", tuple(solution)),)
    return Asked(Question(wrt, form, ask, skills, shape),
                 Target(wrt, label, value, lo, hi, kept), sol, tuple(hints))


def _problem(family: str, kind: str, seed: int, difficulty: int, form: str,
             body: Sequence[str], given: dict[str, Any], loss: str, asked: Sequence[Any],
             extra: dict[str, Any] | None = None):
    if any(a is None for a in asked):
        return None
    values = [a.target.value for a in asked]
    for i in range(len(values)):
        for j in range(i):
            if _is_array(values[i]) or _is_array(values[j]):
                from quizforge.drill.families._tensor import same

                if same(values[i], values[j]):
                    return None
            elif _close(values[i], values[j]):
                return None  # two questions with one answer: the second teaches nothing
    blocks = (Lines("", tuple(body)),)
    if not fits_screen(blocks, asked):
        return None
    return BasicProblem(family, seed, difficulty, form, blocks, given, loss, tuple(asked),
                        (("kind", kind), *(extra or {}).items()))


def _phi(z: float) -> float:  # the standard normal density φ(z)
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def _Phi(z: float) -> float:  # the standard normal CDF Φ(z)
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def _pre_activation(rng: random.Random, targets: Sequence[int]):
    """x, w, b (small integers) with z = w·x + b landing on one of `targets`."""
    z = rng.choice(targets)
    x = float(rng.choice([-2, -1, 2, 3]))  # not 1: ∂L/∂w would repeat ∂L/∂z
    w = float(rng.choice([-2, -1, 1, 2]))
    b = z - w * x
    if abs(b) > 4:
        return None
    return x, w, b, float(z)


# == backprop ======================================================================================
def _leaky(rng: random.Random, seed: int, difficulty: int, form: str):
    alpha = rng.choice((0.1, 0.2))
    pre = _pre_activation(rng, [-3, -2, -1, 1, 2, 3] if rng.random() < 0.3 else [-3, -2, -1])
    if pre is None:
        return None
    x, w, b, a = pre
    y = float(rng.choice([-2, -1, 1, 2]))
    slope = 1.0 if a > 0 else alpha
    h = a * slope
    d = h - y
    if abs(d) < 0.5:
        return None
    body = [f"A neuron with a leaky ReLU (negative slope α = {alpha}) and ½ squared error:",
            "  a = w·x + b,  h = LeakyReLU(a) = a if a > 0 else α·a,  L = ½(h − y)²",
            f"  x = {fmt_exact(x)}, w = {fmt_exact(w)}, b = {fmt_exact(b)}, "
            f"y = {fmt_exact(y)}"]
    other = alpha if a > 0 else 1.0
    fwd = [f"a = {_num(w)}·{_num(x)} + {_num(b)} = {fmt_exact(a)}",
           f"h = {'a' if a > 0 else f'{alpha}·a'} = {fmt_exact(h)} (a {'>' if a > 0 else '<'} 0)",
           f"∂L/∂h = h − y = {fmt_exact(d)}"]
    q_a = _asked(form, "a", "∂L/∂a", "Give ∂L/∂a (a number).",
                 lambda r: r(r(h - y) * slope),
                 [("leaky-as-relu", "A leaky ReLU is not a ReLU: for a < 0 its slope is α, "
                   "not 0, so the gradient still flows (times α).",
                   0.0 if a < 0 else d * alpha),
                  ("leaky-slope", "Use the slope of the side a is on: 1 for a > 0, α for "
                   "a < 0.", d * other),
                  ("sign", "The error is h − y (prediction minus target); you used y − h.",
                   -d * slope)],
                 ["leaky-as-relu"] if a < 0 else ["leaky-slope"],
                 [*fwd, f"∂h/∂a = {fmt_exact(slope)}",
                  f"∂L/∂a = {fmt_exact(d)}·{fmt_exact(slope)} = {fmt_exact(d * slope)}"],
                 ["Which side of 0 is a on? The slope there is the local gradient."],
                 ("leaky-relu", "chain-rule"))
    q_w = _asked(form, "w", "∂L/∂w", "Give ∂L/∂w (a number).",
                 lambda r: r(r(r(h - y) * slope) * x),
                 [("leaky-as-relu", "For a < 0 a leaky ReLU passes α times the gradient, "
                   "not 0.", 0.0 if a < 0 else d * alpha * x),
                  ("leaky-slope", "Use the slope of the side a is on: 1 for a > 0, α for "
                   "a < 0.", d * other * x),
                  ("missing-chain", "∂a/∂w = x: multiply ∂L/∂a by x.", d * slope)],
                 ["missing-chain"],
                 [*fwd, f"∂L/∂a = {fmt_exact(d)}·{fmt_exact(slope)} = {fmt_exact(d * slope)}",
                  f"∂L/∂w = ∂L/∂a·x = {fmt_exact(d * slope)}·{_num(x)} = "
                  f"{fmt_exact(d * slope * x)}"],
                 ["∂L/∂w = ∂L/∂h · ∂h/∂a · ∂a/∂w."], ("leaky-relu", "chain-rule"))
    loss = f"(1/2)*(Max(w*x + b, {alpha}*(w*x + b)) - y)**2"
    return _problem("backprop", "leaky-relu", seed, difficulty, form, body,
                    {"x": x, "w": w, "b": b, "y": y, "negative_slope": alpha}, loss, [q_a, q_w])


def _huber(rng: random.Random, seed: int, difficulty: int, form: str):
    delta = rng.choice((1.0, 2.0))
    x = float(rng.choice([-2, -1, 1, 2]))
    w = float(rng.choice([-2, -1, 1, 2, 3]))
    b = float(rng.choice([-1, 0, 1]))
    y = float(rng.choice([-3, -2, -1, 0, 1, 2, 3]))
    o = w * x + b
    res = o - y
    if abs(abs(res) - delta) < 0.5 or res == 0 or abs(res) > 8:
        return None
    inside = abs(res) <= delta
    sgn = 1.0 if res > 0 else -1.0
    L = 0.5 * res * res if inside else delta * (abs(res) - 0.5 * delta)
    dL_do = res if inside else delta * sgn
    body = [f"A linear prediction o = w·x + b with the Huber loss (δ = {fmt_exact(delta)}):",
            "  r = o − y,  L = ½r² if |r| ≤ δ, else δ·(|r| − ½δ)",
            f"  x = {fmt_exact(x)}, w = {fmt_exact(w)}, b = {fmt_exact(b)}, "
            f"y = {fmt_exact(y)}"]
    side = (f"|r| = {fmt_exact(abs(res))} ≤ δ: the quadratic side" if inside else
            f"|r| = {fmt_exact(abs(res))} > δ: the linear side")
    fwd = [f"o = {_num(w)}·{_num(x)} + {_num(b)} = {fmt_exact(o)}",
           f"r = o − y = {fmt_exact(res)};  {side}"]
    quad, lin = 0.5 * res * res, delta * (abs(res) - 0.5 * delta)
    q_L = _asked(form, "L", "L", "Give the loss L (a number).",
                 (lambda r: r(0.5 * r(res * res))) if inside else
                 (lambda r: r(delta * r(abs(res) - 0.5 * delta))),
                 [("huber-branch", "Compare |r| with δ first: the other branch of the Huber "
                   "loss applies here.", lin if inside else quad),
                  ("huber-offset", "The linear side is δ·(|r| − ½δ): the −½δ keeps the two "
                   "sides meeting at |r| = δ.", delta * abs(res)),
                  ("smooth-l1", "That is smooth L1 (Huber divided by δ); the Huber loss with "
                   "δ is δ times smooth L1 with β = δ.", L / delta)],
                 ["huber-branch"],
                 [*fwd, "L = ½r² = " + fmt_exact(L) if inside else
                  f"L = δ·(|r| − ½δ) = {fmt_exact(delta)}·({fmt_exact(abs(res))} − "
                  f"{fmt_exact(delta / 2)}) = {fmt_exact(L)}"],
                 ["Is |r| above or below δ?"], ("huber",))
    q_w = _asked(form, "w", "∂L/∂w", "Give ∂L/∂w (a number).",
                 (lambda r: r(res * x)) if inside else (lambda r: r(delta * sgn * x)),
                 [("huber-branch", "Compare |r| with δ first: the gradient is r inside, "
                   "δ·sign(r) outside (it is clipped).",
                   (delta * sgn if inside else res) * x),
                  ("missing-chain", "∂o/∂w = x: multiply ∂L/∂o by x.", dL_do),
                  ("sign", "r = o − y (prediction minus target); the sign flipped.",
                   -dL_do * x)],
                 ["huber-branch"],
                 [*fwd, "∂L/∂o = r" if inside else "∂L/∂o = δ·sign(r) (clipped)",
                  f"∂L/∂o = {fmt_exact(dL_do)}",
                  f"∂L/∂w = ∂L/∂o·x = {fmt_exact(dL_do)}·{_num(x)} = {fmt_exact(dL_do * x)}"],
                 ["Outside δ the Huber gradient is clipped to ±δ."], ("huber", "chain-rule"))
    d = "(w*x + b - y)"
    loss = f"Min(Abs({d}), {delta})*(Abs({d}) - Min(Abs({d}), {delta})/2)"
    return _problem("backprop", "huber", seed, difficulty, form, body,
                    {"x": x, "w": w, "b": b, "y": y, "delta": delta}, loss, [q_L, q_w])


def _smooth_act(name: str):
    """GELU or SiLU on z = w·x + b, with ∂L/∂h = g given."""
    def make(rng: random.Random, seed: int, difficulty: int, form: str):
        pts = [-2, -1, 1, 2] if name == "gelu" else [-2, -1, 1, 2, 3]
        pre = _pre_activation(rng, pts)
        if pre is None:
            return None
        x, w, b, z = pre
        g = float(rng.choice([-2, -1, 1, 2, 3]))
        if name == "gelu":
            P, p = _Phi(z), _phi(z)
            h = z * P
            dh = P + z * p
            f_text = "h = GELU(z) = z·Φ(z) (the exact erf form, PyTorch's default)"
            shown = (f"Given: Φ({fmt_exact(z)}) ≈ {_shown(P)}, "
                     f"φ({fmt_exact(z)}) ≈ {_shown(p)} "
                     "(Φ the normal CDF, φ its density)")
            deriv = "GELU'(z) = Φ(z) + z·φ(z)"
            calc = lambda r: r(r(P) + r(z * r(p)))
            partial = P
            deriv_wrong = ("gelu-partial", "GELU(z) = z·Φ(z) is a product: its derivative is "
                           "Φ(z) + z·φ(z); you kept only Φ(z).")
            extra_wrong = ("gelu-sign", "Φ(−z) = 1 − Φ(z): you used Φ at +z for a negative "
                           "z.", z * (1 - P)) if z < 0 else None
            skills = ("gelu", "chain-rule")
        else:
            s = _sigmoid(z)
            h = z * s
            dh = s * (1 + z * (1 - s))
            f_text = "h = SiLU(z) = z·σ(z) (also called swish)"
            shown = f"Given: σ({fmt_exact(z)}) ≈ {_shown(s)}"
            deriv = "SiLU'(z) = σ(z) + z·σ(z)(1 − σ(z)) = σ(z)(1 + z(1 − σ(z)))"
            calc = lambda r: r(r(s) + r(z * r(r(s) * r(1 - r(s)))))
            partial = s
            deriv_wrong = ("silu-partial", "SiLU(z) = z·σ(z) is a product: its derivative "
                           "is σ(z) + z·σ(z)(1 − σ(z)); you kept only σ(z).")
            extra_wrong = ("sigmoid-derivative", "That is the sigmoid's derivative "
                           "σ(z)(1 − σ(z)), not SiLU's.", g * s * (1 - s))
            skills = ("silu", "chain-rule")
        body = ["One unit with a smooth activation; the loss above it gives ∂L/∂h = g:",
                f"  z = w·x + b,  {f_text}",
                f"  x = {fmt_exact(x)}, w = {fmt_exact(w)}, b = {fmt_exact(b)}, "
                f"g = {fmt_exact(g)}",
                "  " + shown]
        fn = "GELU" if name == "gelu" else "SiLU"
        act = "Φ" if name == "gelu" else "σ"
        fwd = [f"z = {_num(w)}·{_num(x)} + {_num(b)} = {fmt_exact(z)}"]
        q_h = _asked(form, "h", "h", f"Give h = {fn}(z) (a number).",
                     lambda r: r(z * r(partial)),
                     [("no-activation", f"h multiplies z by {act}(z); you gave z itself.", z),
                      ("gate-only", f"h = z·{act}(z), not {act}(z) alone.", partial),
                      extra_wrong if name == "gelu" else None],
                     ["gate-only"],
                     [*fwd, f"h = z·{act}(z) = {_num(z)}·{_shown(partial)} = {_shown(h)}"],
                     [f"{fn}(z) = z·{act}(z)."], skills)
        q_z = _asked(form, "z", "∂L/∂z", "Give ∂L/∂z (a number).",
                     lambda r: r(g * calc(r)),
                     [(*deriv_wrong, g * partial),
                      extra_wrong if name == "silu" else None,
                      ("missing-upstream", "Multiply by the upstream gradient g = ∂L/∂h.",
                       dh)],
                     [deriv_wrong[0]],
                     [*fwd, deriv, f"{fn}'({fmt_exact(z)}) ≈ {_shown(dh)}",
                      f"∂L/∂z = g·{fn}'(z) ≈ {_num(g)}·{_shown(dh)} = {_shown(g * dh)}"],
                     [deriv], skills)
        q_w = _asked(form, "w", "∂L/∂w", "Give ∂L/∂w (a number).",
                     lambda r: r(r(g * calc(r)) * x),
                     [(*deriv_wrong, g * partial * x),
                      ("missing-chain", "∂z/∂w = x: multiply ∂L/∂z by x.", g * dh)],
                     [deriv_wrong[0]],
                     [f"∂L/∂z = g·{fn}'(z) ≈ {_shown(g * dh)}",
                      f"∂L/∂w = ∂L/∂z·x ≈ {_shown(g * dh)}·{_num(x)} = {_shown(g * dh * x)}"],
                     ["∂L/∂w = ∂L/∂z · x."], skills)
        zt = "(w*x + b)"
        f_loss = (f"{zt}*(1 + erf({zt}/sqrt(2)))/2" if name == "gelu"
                  else f"{zt}*sigmoid({zt})")
        return _problem("backprop", name, seed, difficulty, form, body,
                        {"x": x, "w": w, "b": b, "g": g}, f"({fmt_exact(g)})*({f_loss})",
                        [q_h, q_z, q_w])
    return make


KL_DISTRIBUTIONS = {  # every ratio of two entries is 2^i·3^j: its ln is a line from ln 2, ln 3
    2: ((0.5, 0.5), (0.25, 0.75), (0.75, 0.25)),
    3: ((0.5, 0.25, 0.25), (0.25, 0.5, 0.25), (0.75, 0.125, 0.125), (0.125, 0.75, 0.125),
        (0.5, 0.375, 0.125), (0.125, 0.375, 0.5), (0.25, 0.25, 0.5)),
}


def _kl(rng: random.Random, seed: int, difficulty: int, form: str):
    import numpy as np

    n = rng.choice((2, 3, 3))
    P = np.array(rng.choice(KL_DISTRIBUTIONS[n]))
    Q = np.array(rng.choice(KL_DISTRIBUTIONS[n]))
    if np.array_equal(P, Q):
        return None
    kpq = float(np.sum(P * np.log(P / Q)))
    kqp = float(np.sum(Q * np.log(Q / P)))
    if abs(kpq - kqp) < 0.02 * max(kpq, kqp):
        return None
    cpq = float(np.sum(P * np.log2(P / Q)))
    cqp = float(np.sum(Q * np.log2(Q / P)))
    body = ["Two distributions over the same outcomes (natural log, answers in nats):",
            f"  P = {_vec(P)} (the data),  Q = {_vec(Q)} (the model)",
            "  KL(P‖Q) = Σ_i P_i·ln(P_i/Q_i);  given ln 2 ≈ 0.6931, ln 3 ≈ 1.0986",
            "  (in PyTorch: F.kl_div(Q.log(), P, reduction='sum') is KL(P‖Q))"]

    def kl_hand(A, B):
        return lambda r: r(float(np.sum(r(A * r(np.log(A / B))))))

    terms = " + ".join(f"{fmt_exact(p)}·ln({fmt_exact(p / q)})" for p, q in zip(P, Q))
    terms_r = " + ".join(f"{fmt_exact(q)}·ln({fmt_exact(q / p)})" for p, q in zip(P, Q))
    q1 = _asked(form, "kl_pq", "KL(P‖Q)", "Give KL(P‖Q) in nats (a number).",
                kl_hand(P, Q),
                [("kl-order", "That is KL(Q‖P): KL is not symmetric; KL(P‖Q) weights the "
                  "log-ratio ln(P/Q) by P.", kqp),
                 ("kl-bits", "You used log base 2 (bits); the question asks for nats "
                  "(natural log).", cpq),
                 ("kl-unweighted", "Weight each log-ratio by P_i before adding.",
                  float(np.sum(np.log(P / Q)))),
                 ("sign", "KL(P‖Q) = Σ P·ln(P/Q) ≥ 0; you used ln(Q/P).", -kpq)],
                ["kl-order"],
                [f"KL(P‖Q) = {terms}", f"        ≈ {_shown(kpq)}"],
                ["ln(3/2) = ln 3 − ln 2; ln(1/2) = −ln 2."], ("kl-divergence",))
    q2 = _asked(form, "kl_qp", "KL(Q‖P)", "Give KL(Q‖P) in nats (a number).",
                kl_hand(Q, P),
                [("kl-order", "That is KL(P‖Q) again: swap the roles, weight ln(Q/P) by Q.",
                  kpq),
                 ("kl-bits", "You used log base 2 (bits); the question asks for nats.", cqp)],
                ["kl-order"],
                [f"KL(Q‖P) = {terms_r}", f"        ≈ {_shown(kqp)}",
                 f"≠ KL(P‖Q) ≈ {_shown(kpq)}: KL is not symmetric"],
                ["Swap the roles of P and Q."], ("kl-divergence",))
    grad = -P / Q
    q3 = _asked(form, "q", "∂KL(P‖Q)/∂Q",
                f"Give ∂KL(P‖Q)/∂Q (each Q_i as a free input), a vector of {n}, as "
                f"{_letters((n,))}.",
                lambda r: r(-P / Q),
                [("sign", "∂/∂Q_i of −P_i·ln Q_i is −P_i/Q_i: negative.", P / Q),
                 ("kl-order", "You differentiated KL(Q‖P); here Q is the second argument.",
                  np.log(Q / P) + 1),
                 ("log-derivative", "d ln Q/dQ = 1/Q: the gradient is −P_i/Q_i.",
                  -P * np.log(Q))],
                ["sign"],
                ["KL(P‖Q) = Σ P_i ln P_i − Σ P_i ln Q_i",
                 f"∂/∂Q_i = −P_i/Q_i = {_vec(grad)}"],
                ["Only the term −P_i·ln Q_i depends on Q_i."], ("kl-divergence",))
    loss = " + ".join(f"p_{i}*log(p_{i}/q_{i})" for i in range(n))
    return _problem("backprop", "kl", seed, difficulty, form, body, {"p": P, "q": Q},
                    loss, [q1, q2, q3])


FOCAL_Z = ((math.log(3), "ln 3", 0.75), (-math.log(3), "−ln 3", 0.25),
           (math.log(4), "ln 4", 0.8), (-math.log(4), "−ln 4", 0.2),
           (math.log(2), "ln 2", 2 / 3), (-math.log(2), "−ln 2", 1 / 3), (0.0, "0", 0.5),
           (math.log(9), "ln 9", 0.9), (-math.log(9), "−ln 9", 0.1))


def _focal(rng: random.Random, seed: int, difficulty: int, form: str):
    z, ztext, p = rng.choice(FOCAL_Z)
    y = float(rng.randint(0, 1))
    pt = p if y == 1 else 1 - p
    gamma = 2.0
    lnpt = math.log(pt)
    fl = -(1 - pt) ** 2 * lnpt
    dfl_dpt = 2 * (1 - pt) * lnpt - (1 - pt) ** 2 / pt
    dpt_dz = p * (1 - p) * (1 if y == 1 else -1)
    dfl_dz = dfl_dpt * dpt_dz
    body = ["A binary classifier's logit z, p = σ(z), label y; the focal loss (Lin et al.,",
            "2017) with γ = 2 and no α weight:",
            "  p_t = p if y = 1 else 1 − p,   FL = −(1 − p_t)^γ · ln p_t",
            f"  z = {ztext} (so p = σ(z) = {fmt_exact(p)}), y = {fmt_exact(y)}",
            "  given: " + ", ".join(f"ln({fmt_exact(v)}) ≈ {_shown(math.log(v))}"
                                    for v in sorted({p, 1 - p}))]
    w = (1 - pt) ** 2
    q1 = _asked(form, "fl", "FL", "Give the focal loss FL (a number).",
                lambda r: r(-r((1 - pt) ** 2) * r(lnpt)),
                [("focal-as-ce", "That is plain cross-entropy −ln p_t: the focal loss "
                  "multiplies it by (1 − p_t)^γ.", -lnpt),
                 ("focal-gamma", "γ = 2: square (1 − p_t).", -(1 - pt) * lnpt),
                 ("focal-pt", "p_t is the probability of the true class: 1 − p when "
                  "y = 0.", -p ** 2 * math.log(1 - p) if y == 1 else -(1 - p) ** 2 *
                  math.log(p)),
                 ("sign", "ln p_t < 0, so FL = −(1 − p_t)²·ln p_t is positive.", -fl)],
                ["focal-as-ce"],
                [f"p_t = {fmt_exact(pt)},  (1 − p_t)² = {fmt_exact(w)}",
                 f"FL = −{fmt_exact(w)}·({_shown(lnpt)}) ≈ {_shown(fl)}"],
                ["Find p_t first: the probability given to the true class."], ("focal-loss",))
    q2 = _asked(form, "p_t", "∂FL/∂p_t", "Give ∂FL/∂p_t (a number).",
                lambda r: r(r(r(2 * (1 - pt)) * r(lnpt)) - r(r((1 - pt) ** 2) / pt)),
                [("focal-constant-weight", "(1 − p_t)^γ depends on p_t too: the product "
                  "rule adds γ(1 − p_t)^(γ−1)·ln p_t.", -(1 - pt) ** 2 / pt),
                 ("focal-as-ce", "−1/p_t is cross-entropy's derivative; the focal loss's "
                  "has two terms.", -1 / pt),
                 ("sign", "Check the sign of each term: d/dp_t of −(1 − p_t)² is "
                  "+2(1 − p_t).", -dfl_dpt)],
                ["focal-constant-weight"],
                ["∂FL/∂p_t = γ(1 − p_t)^(γ−1)·ln p_t − (1 − p_t)^γ / p_t",
                 f"= 2·{fmt_exact(1 - pt)}·({_shown(lnpt)}) − {fmt_exact(w)}/{fmt_exact(pt)}"
                 f" ≈ {_shown(dfl_dpt)}"],
                ["Product rule on (1 − p_t)² · (−ln p_t)."], ("focal-loss",))
    q3 = _asked(form, "z", "∂FL/∂z", "Give ∂FL/∂z (a number).",
                lambda r: r(r(r(r(2 * (1 - pt)) * r(lnpt)) - r(r((1 - pt) ** 2) / pt))
                            * r(dpt_dz)),
                [("bce-gradient", "p − y is the gradient of plain cross-entropy; the focal "
                  "loss changes it.", p - y),
                 ("missing-chain", "∂p_t/∂z = ±p(1 − p): multiply ∂FL/∂p_t by it.", dfl_dpt),
                 ("sign", "For y = 0, p_t = 1 − p, so ∂p_t/∂z = −p(1 − p).",
                  -dfl_dz) if y == 0 else None,
                 ("focal-constant-weight", "(1 − p_t)^γ depends on z too (product rule).",
                  -(1 - pt) ** 2 / pt * dpt_dz)],
                ["missing-chain"],
                [f"∂FL/∂p_t ≈ {_shown(dfl_dpt)}",
                 f"∂p_t/∂z = {'' if y == 1 else '−'}p(1 − p) = {fmt_exact(dpt_dz)}",
                 f"∂FL/∂z ≈ {_shown(dfl_dpt)}·{_num(dpt_dz)} = {_shown(dfl_dz)}"],
                ["σ'(z) = p(1 − p); for y = 0 p_t = 1 − p flips the sign."], ("focal-loss",))
    pt_text = "sigmoid(z)" if y == 1 else "(1 - sigmoid(z))"
    loss = f"-(1 - {pt_text})**2*log({pt_text})"
    return _problem("backprop", "focal", seed, difficulty, form, body,
                    {"z": z, "y": y, "gamma": gamma}, loss, [q1, q2, q3])


# == batchnorm =====================================================================================
def _bn_eval(rng: random.Random, seed: int, difficulty: int, form: str):
    import numpy as np

    n = rng.choice((3, 4))
    mu = float(rng.choice([-2, -1, 0, 1, 2]))
    var = rng.choice((0.25, 1.0, 4.0, 16.0))
    sd = math.sqrt(var)
    x = np.array([float(rng.randint(-4, 4)) for _ in range(n)])
    gamma = float(rng.choice([0.5, 1, 2, 3]))
    beta = float(rng.choice([-1, 0, 1]))
    g = np.array([float(rng.choice([-2, -1, 1, 2])) for _ in range(n)])
    bmean, bvar = float(x.mean()), float(x.var())
    if bvar == 0 or abs(bmean - mu) < 0.5 or abs(bvar - var) < 0.5:
        return None
    xhat = (x - mu) / sd
    y = gamma * xhat + beta
    xb = (x - bmean) / math.sqrt(bvar)
    body = [f"Batch norm in eval mode, one feature, a batch of {n}; ε = 0. PyTorch's",
            "nn.BatchNorm1d in .eval() uses its running statistics (γ = weight, β = bias):",
            f"  x = {_vec(x)},  running_mean = {fmt_exact(mu)},  "
            f"running_var = {fmt_exact(var)}",
            f"  γ = {fmt_exact(gamma)},  β = {fmt_exact(beta)};  y = γ·(x − μ)/√(var) + β",
            f"  L = Σ g_i·y_i with g = ∂L/∂y = {_vec(g)}"]
    batch = (f"The batch's own mean {fmt_exact(bmean)} and variance {fmt_exact(bvar)} are "
             "training-mode statistics; in eval mode use running_mean and running_var.")
    q_y = _asked(form, "y", "y", f"Give y, a vector of {n}, as {_letters((n,))}.",
                 lambda r: r(r(gamma * r((x - mu) / r(sd))) + beta),
                 [("bn-batch-stats", batch, gamma * xb + beta),
                  ("bn-var-not-std", "Divide by √var (the standard deviation), not by the "
                   "variance.", gamma * (x - mu) / var + beta),
                  ("bn-no-affine", "Apply γ and β after normalizing.", xhat)],
                 ["bn-batch-stats"],
                 [f"√running_var = {fmt_exact(sd)}",
                  f"x̂ = (x − {_num(mu)})/{fmt_exact(sd)} = {_vec(xhat)}",
                  f"y = {fmt_exact(gamma)}·x̂ + {_num(beta)} = {_vec(y)}"],
                 ["Eval mode: the stored running statistics, not the batch's."],
                 ("batchnorm-eval",))
    dx = gamma * g / sd
    # training-mode backward with batch statistics (the slip to name)
    dxhat = gamma * g
    dtrain = (dxhat - dxhat.mean() - xb * (dxhat * xb).mean()) / math.sqrt(bvar)
    q_x = _asked(form, "x", "∂L/∂x", f"Give ∂L/∂x, a vector of {n}, as {_letters((n,))}.",
                 lambda r: r(r(gamma / sd) * g),
                 [("bn-batch-stats", "In eval mode the statistics are constants: no "
                   "mean-subtraction terms in the backward pass, just γ·g/√var.", dtrain),
                  ("bn-var-not-std", "Divide by √var, not by var.", gamma * g / var),
                  ("missing-gamma", "y = γ·x̂ + β: multiply by γ.", g / sd)],
                 ["bn-batch-stats"],
                 ["μ and var are fixed numbers in eval mode, so y is affine in x:",
                  f"∂L/∂x = g·γ/√var = g·{fmt_exact(gamma)}/{fmt_exact(sd)} = {_vec(dx)}"],
                 ["With fixed μ and var, each y_i depends on x_i alone."],
                 ("batchnorm-eval",))
    dgamma = float(np.sum(g * xhat))
    q_g = _asked(form, "weight", "∂L/∂γ", "Give ∂L/∂γ (a number).",
                 lambda r: r(float(np.sum(r(g * r(xhat))))),
                 [("bn-batch-stats", "x̂ uses the running statistics in eval mode.",
                   float(np.sum(g * xb))),
                  ("dgamma-no-xhat", "∂y/∂γ = x̂: weight each g_i by x̂_i.", float(g.sum()))],
                 ["bn-batch-stats"],
                 [f"x̂ = {_vec(xhat)}", f"∂L/∂γ = Σ g_i·x̂_i = {fmt_exact(dgamma)}"],
                 ["∂y_i/∂γ = x̂_i."], ("batchnorm-eval",))
    terms = " + ".join(f"({fmt_exact(g[i])})*(weight*(x_{i} - running_mean)/sqrt(running_var)"
                       " + bias)" for i in range(n))
    given = {"x": x, "weight": gamma, "bias": beta, "running_mean": mu, "running_var": var,
             "g": g}
    return _problem("batchnorm", "bn-eval", seed, difficulty, form, body, given, terms,
                    [q_y, q_x, q_g])


def _rms_vectors(n: int) -> list[tuple[int, ...]]:
    import itertools

    out = []
    for v in itertools.product(range(-5, 6), repeat=n):
        ms = sum(t * t for t in v)
        if ms % n == 0 and math.isqrt(ms // n) ** 2 == ms // n and ms > 0:
            if len(set(abs(t) for t in v)) > 1 or n == 2:
                out.append(v)
    return out


_RMS_CACHE: dict[int, list[tuple[int, ...]]] = {}


def _rmsnorm(rng: random.Random, seed: int, difficulty: int, form: str):
    import numpy as np

    n = rng.choice((2, 3, 4))
    if n not in _RMS_CACHE:
        _RMS_CACHE[n] = _rms_vectors(n)
    x = np.array(rng.choice(_RMS_CACHE[n]), dtype=float)
    rms = math.sqrt(float(np.mean(x * x)))
    gamma = np.array([float(rng.choice([1, 2, 1, -1, 0.5])) for _ in range(n)])
    g = np.array([float(rng.choice([-2, -1, 1, 2])) for _ in range(n)])
    if abs(x.mean()) < 0.25:
        return None  # layer norm and RMSNorm would agree on the centring
    y = gamma * x / rms
    s = float(np.sum(gamma * g * x))
    dx = gamma * g / rms - x * s / (n * rms ** 3)
    if s == 0:
        return None
    from fractions import Fraction

    first = gamma * g / rms
    if any(Fraction(float(v)).limit_denominator(10**6).denominator > 64 for v in dx) or \
            any(abs(v) < 0.25 * abs(f) for v, f in zip(dx, first)):
        return None  # no long fractions, no near-cancellation a rounding learner would miss
    body = [f"RMSNorm over {n} features (nn.RMSNorm, eps = 0):",
            "  rms = √(mean(x²)),  y = γ ⊙ x / rms,  L = Σ g_i·y_i",
            f"  x = {_vec(x)},  γ = {_vec(gamma)},  g = ∂L/∂y = {_vec(g)}"]
    ms = float(np.mean(x * x))
    fwd = [f"mean(x²) = {fmt_exact(float(np.sum(x * x)))}/{n} = {fmt_exact(ms)},  "
           f"rms = {fmt_exact(rms)}"]
    xc = x - x.mean()
    ln = gamma * xc / math.sqrt(float(np.mean(xc * xc))) if np.any(xc) else None
    q_y = _asked(form, "y", "y", f"Give y, a vector of {n}, as {_letters((n,))}.",
                 lambda r: r(gamma * r(x / rms)),
                 [("rms-centred", "RMSNorm does not subtract the mean (that is layer norm); "
                   "it only divides by the root mean square.", ln) if ln is not None
                  else None,
                  ("rms-no-sqrt", "Divide by the root of the mean square, not by mean(x²).",
                   gamma * x / ms),
                  ("rms-sum-not-mean", "rms uses the mean of x², not the sum.",
                   gamma * x / math.sqrt(float(np.sum(x * x))))],
                 ["rms-no-sqrt"],
                 [*fwd, f"y = γ ⊙ x / {fmt_exact(rms)} = {_vec(y)}"],
                 ["Root of the mean of the squares; no mean subtraction."], ("rmsnorm",))
    q_g = _asked(form, "weight", "∂L/∂γ", f"Give ∂L/∂γ, a vector of {n}, as {_letters((n,))}.",
                 lambda r: r(g * r(x / rms)),
                 [("dgamma-no-xhat", "∂y_i/∂γ_i = x_i/rms: multiply g_i by it.", g),
                  ("rms-no-sqrt", "Divide by rms, not by mean(x²).", g * x / ms)],
                 ["dgamma-no-xhat"],
                 [*fwd, f"∂L/∂γ = g ⊙ x / rms = {_vec(g * x / rms)}"],
                 ["y_i = γ_i·(x_i/rms)."], ("rmsnorm",))
    q_x = _asked(form, "x", "∂L/∂x", f"Give ∂L/∂x, a vector of {n}, as {_letters((n,))}.",
                 lambda r: r(r(gamma * g / rms) - r(x * r(s / (n * r(rms ** 3))))),
                 [("rms-constant", "rms depends on every x_j: besides γ_i·g_i/rms there is "
                   "the term −x_i·Σ_j(γ_j g_j x_j)/(n·rms³).", gamma * g / rms),
                  ("sign", "The rms term is subtracted: a larger x makes rms larger.",
                   gamma * g / rms + x * s / (n * rms ** 3))],
                 ["rms-constant"],
                 [*fwd, "∂L/∂x_i = γ_i g_i/rms − x_i·Σ_j γ_j g_j x_j/(n·rms³)",
                  f"Σ_j γ_j g_j x_j = {fmt_exact(s)},  n·rms³ = {fmt_exact(n * rms ** 3)}",
                  f"∂L/∂x = {_vec(gamma * g / rms)} − {fmt_exact(s / (n * rms ** 3))}·x",
                  f"      = {_vec(dx)}"],
                 ["∂rms/∂x_j = x_j/(n·rms)."], ("rmsnorm",))
    msq = " + ".join(f"x_{i}**2" for i in range(n))
    loss = " + ".join(f"({fmt_exact(g[i])})*weight_{i}*x_{i}/sqrt(({msq})/{n})"
                      for i in range(n))
    return _problem("batchnorm", "rmsnorm", seed, difficulty, form, body,
                    {"x": x, "weight": gamma, "g": g}, loss, [q_y, q_g, q_x])


# == mlp ===========================================================================================
def _dropout(rng: random.Random, seed: int, difficulty: int, form: str):
    import numpy as np

    p = 0.5 if difficulty == 1 else 0.2
    n = rng.choice((4, 5))
    h = np.array([float(rng.choice([-3, -2, -1, 1, 2, 3, 4])) for _ in range(n)])
    mask = np.array([float(rng.random() > p) for _ in range(n)])
    if mask.sum() in (0, n):
        return None
    g = np.array([float(rng.choice([-2, -1, 1, 2])) for _ in range(n)])
    k = 1 / (1 - p)
    body = [f"Inverted dropout (nn.Dropout(p = {p})) on a hidden vector h; this forward",
            "pass drew the keep-mask m (1 = kept), and ∂L/∂y = g comes from above:",
            f"  h = {_vec(h)}",
            f"  m = {_vec(mask)},  g = {_vec(g)}"]
    scale = f"1/(1 − p) = {fmt_exact(k)}"
    q1 = _asked(form, "y_train", "y (training)",
                f"Give the training-mode output y, a vector of {n}, as {_letters((n,))}.",
                lambda r: r(mask * h * r(k)),
                [("dropout-no-scale", f"Inverted dropout scales the kept units by {scale} "
                  "at training time, so eval needs no change.", mask * h),
                 ("dropout-times-keep", "Divide by the keep probability 1 − p, do not "
                  "multiply by it.", mask * h * (1 - p)),
                 ("dropout-no-mask", "Zero the dropped units (m = 0).", h * k)],
                ["dropout-no-scale"],
                [f"y = m ⊙ h / (1 − p), {scale}", f"y = {_vec(mask * h * k)}"],
                ["Kept units are scaled up so the expected output equals h."],
                ("dropout",))
    q2 = _asked(form, "h", "∂L/∂h", f"Give ∂L/∂h, a vector of {n}, as {_letters((n,))}.",
                lambda r: r(mask * g * r(k)),
                [("dropout-grad-unmasked", "The gradient goes through the same mask: "
                  "dropped units get 0.", g * k),
                 ("dropout-no-scale", f"The backward pass has the same {scale} factor as "
                  "the forward.", mask * g),
                 ("dropout-times-keep", "Divide by 1 − p, do not multiply.",
                  mask * g * (1 - p))],
                ["dropout-grad-unmasked", "dropout-no-scale"],
                ["y = m ⊙ h / (1 − p) is linear in h:",
                 f"∂L/∂h = m ⊙ g / (1 − p) = {_vec(mask * g * k)}"],
                ["The backward pass of a multiplication by a fixed mask and scale."],
                ("dropout",))
    q3 = _asked(form, "y_eval", "y (eval)",
                f"Give the eval-mode output (model.eval()) for the same h, as "
                f"{_letters((n,))}.",
                lambda r: h.copy(),
                [("dropout-eval-scaled", "Inverted dropout already scaled at training time: "
                  "at eval, dropout is the identity.", h * k),
                 ("dropout-eval-times-keep", "Multiplying by 1 − p at eval is the old, "
                  "non-inverted dropout; nn.Dropout in eval mode returns h.", h * (1 - p)),
                 ("dropout-eval-mask", "No units are dropped at eval time.", mask * h)],
                ["dropout-eval-scaled", "dropout-eval-mask"],
                ["Eval mode: no mask, no scaling (the scaling was done in training):",
                 f"y = h = {_vec(h)}"],
                ["What does inverted dropout do at eval time?"], ("dropout",))
    loss = " + ".join(f"({fmt_exact(g[i])})*{fmt_exact(mask[i] * k)}*h_{i}"
                      for i in range(n) if mask[i]) or "0"
    return _problem("mlp", "dropout", seed, difficulty, form, body,
                    {"h": h, "mask": mask, "p": p, "g": g}, loss, [q1, q2, q3])


# == softmax-ce ====================================================================================
def _lse(rng: random.Random, seed: int, difficulty: int, form: str):
    import numpy as np

    n = rng.choice((3, 4))
    M = float(rng.choice((12, 15, 20, 30)))  # e^12 is past float16's largest value, 65504
    d = [0.0] + [float(-rng.choice((0, 1, 1, 2, 2, 3))) for _ in range(n - 1)]
    rng.shuffle(d)
    d = np.array(d)
    z = M + d
    e = np.exp(d)
    s = float(e.sum())
    lse = M + math.log(s)
    soft = e / s
    exps = sorted({int(-v) for v in d if v < 0})
    shown = ", ".join(f"e^−{k} ≈ {_shown(math.exp(-k))}" for k in exps)
    body = [f"Logits z = {_vec(z)}. In float16 (largest value 65504) e^{fmt_exact(M)}",
            "overflows: compute log Σ_j exp(z_j) by the log-sum-exp trick (logsumexp):",
            "  m = max(z),  log Σ_j exp(z_j) = m + log Σ_j exp(z_j − m)",
            f"  given: {shown + ', ' if shown else ''}ln {_shown(s)} ≈ "
            f"{_shown(math.log(s))}"]
    q1 = _asked(form, "lse", "log Σ exp(z)", "Give log Σ_j exp(z_j) (a number).",
                lambda r: r(M + r(math.log(r(float(np.sum(r(e))))))),
                [("lse-no-max", "You left out the max: log Σ exp(z) = m + log Σ exp(z − m); "
                  "add m back.", math.log(s)),
                 ("lse-max-only", "The max alone is only a lower bound; add "
                  "log Σ exp(z − m).", M),
                 ("lse-minus-max", "Add the max back, do not subtract it.",
                  -M + math.log(s))],
                ["lse-no-max", "lse-max-only"],
                [f"m = {fmt_exact(M)},  z − m = {_vec(d)}",
                 f"Σ exp(z − m) = {' + '.join(_shown(v) for v in e)} = {_shown(s)}",
                 f"log Σ exp(z) = {fmt_exact(M)} + ln {_shown(s)} ≈ {_shown(lse)}"],
                ["Shift by the max, then add it back."], ("log-sum-exp",))
    q2 = _asked(form, "z", "∂(log Σ exp z)/∂z",
                f"Give ∂(log Σ_j exp z_j)/∂z, a vector of {n}, as {_letters((n,))}.",
                lambda r: r(r(e) / r(float(np.sum(r(e))))),
                [("lse-unnormalized", "Divide exp(z − m) by their sum: the gradient of "
                  "log-sum-exp is softmax(z).", e),
                 ("lse-argmax", "The gradient of log-sum-exp is softmax(z), not the one-hot "
                  "of the max (that is the gradient of max).",
                  (np.arange(n) == int(np.argmax(d))).astype(float))],
                ["lse-unnormalized"],
                ["∂/∂z_i log Σ_j exp z_j = exp(z_i)/Σ_j exp(z_j) = softmax(z)_i",
                 f"= exp(z_i − m)/{_shown(s)} = {'[' + ', '.join(_shown(v) for v in soft) + ']'}"],
                ["The max cancels in the ratio."], ("log-sum-exp", "softmax"))
    loss = "log(" + " + ".join(f"exp(z_{i})" for i in range(n)) + ")"
    return _problem("softmax-ce", "lse", seed, difficulty, form, body, {"z": z}, loss, [q1, q2])


# == linear ========================================================================================
def _embedding(rng: random.Random, seed: int, difficulty: int, form: str):
    import numpy as np

    V, D = rng.choice((4, 5)), 2
    N = rng.choice((3, 4, 5))
    idx = [rng.randrange(V) for _ in range(N)]
    counts = [idx.count(v) for v in range(V)]
    if max(counts) < 2 or min(counts) > 0:
        return None
    E = np.array([[float(rng.randint(-3, 3)) for _ in range(D)] for _ in range(V)])
    G = np.array([[float(rng.choice([-2, -1, 1, 2, 3])) for _ in range(D)] for _ in range(N)])
    dE = np.zeros((V, D))
    last, first, mean = np.zeros((V, D)), np.zeros((V, D)), np.zeros((V, D))
    for n_, v in enumerate(idx):
        dE[v] += G[n_]
        last[v] = G[n_]
    for n_ in reversed(range(N)):
        first[idx[n_]] = G[n_]
    for v in range(V):
        if counts[v]:
            mean[v] = dE[v] / counts[v]
    if np.array_equal(dE, last) or np.array_equal(dE, first):
        return None
    body = [f"An embedding table E ({V}×{D}, nn.Embedding({V}, {D}).weight) looks up token",
            f"ids idx = {idx}: Y[n] = E[idx[n]]. Given G = ∂L/∂Y ({N}×{D}):",
            *[line for line in _side(("E", E), ("G", G))]]
    rows = []
    for v in range(V):
        hits = [n_ for n_ in range(N) if idx[n_] == v]
        rows.append(f"  row {v}: " + (" + ".join(f"G[{n_}]" for n_ in hits) +
                                      f" = {_vec(dE[v])}" if hits else "never looked up: 0"))
    q = _asked(form, "weight", "∂L/∂E",
               f"Give ∂L/∂E, a {V}×{D} matrix (the shape of E), as {_letters((V, D))}.",
               lambda r: dE.copy(),
               [("embedding-overwrite", "A token that appears twice gets both rows of G "
                 "added (index_add / scatter-add); you kept only one of them.", last),
                ("embedding-overwrite", "Rows of G for a repeated token add up; you kept "
                 "only the first.", first),
                ("embedding-mean", "Repeated lookups add their gradients; they are not "
                 "averaged.", mean)],
               ["embedding-overwrite"],
               ["Y[n] = E[idx[n]]: each row of G goes back to the row of E it came from,",
                "and rows looked up more than once add up (E's values do not matter):",
                *rows],
               ["∂L/∂E[v] = Σ over the positions n with idx[n] = v of G[n]."],
               ("embedding",))
    loss = " + ".join(f"({fmt_exact(G[n_, j])})*weight_{idx[n_]}_{j}"
                      for n_ in range(N) for j in range(D))
    return _problem("linear", "embedding", seed, difficulty, form, body,
                    {"weight": E, "input": np.array(idx, dtype=float), "G": G}, loss, [q])


def _side(*items):
    from quizforge.drill.families._tensor import side_by_side

    return ["  " + line if line else line for line in side_by_side(items, width=74)]


# == the table =====================================================================================
KINDS: dict[tuple[str, int], tuple[tuple[str, Callable[..., Any]], ...]] = {
    ("backprop", 1): (("leaky-relu", _leaky), ("huber", _huber)),
    ("backprop", 2): (("gelu", _smooth_act("gelu")), ("silu", _smooth_act("silu"))),
    ("backprop", 3): (("kl", _kl), ("focal", _focal)),
    ("batchnorm", 1): (("bn-eval", _bn_eval),),
    ("batchnorm", 2): (("rmsnorm", _rmsnorm),),
    ("mlp", 1): (("dropout", _dropout),),
    ("mlp", 2): (("dropout", _dropout),),
    ("softmax-ce", 2): (("lse", _lse),),
    ("linear", 1): (("embedding", _embedding),),
}
FORMS = ("number",)  # the new kinds ask for numbers; other forms keep the old kinds


def kinds(family: str, difficulty: int) -> tuple[str, ...]:
    return tuple(name for name, _ in KINDS.get((family, difficulty), ()))


def make(family: str, kind: str, seed: int, difficulty: int, form: str = "number"):
    """The problem of one new kind (for tests and `draw`)."""
    fn = dict(KINDS[(family, difficulty)])[kind]
    rng = random.Random(f"grow/{family}/{kind}/{seed}/{difficulty}")
    for _ in range(5000):
        p = fn(rng, seed, difficulty, form)
        if p is not None:
            return p
    raise AssertionError(f"no {family}/{kind} problem for seed {seed}")  # never seen: tested


def draw(family: str, seed: int, difficulty: int, form: str = "number"):
    """A new kind's problem for this seed, or None (the family's old kinds then)."""
    table = KINDS.get((family, difficulty))
    if not table or form not in FORMS:
        return None
    rng = random.Random(f"grow/{family}/{seed}/{difficulty}")
    if rng.random() >= SHARE:
        return None
    return make(family, rng.choice(table)[0], seed, difficulty, form)
