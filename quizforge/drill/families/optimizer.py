"""`optimizer`: optimizer updates by hand, one to three steps, the way interviewers ask them.

SGD, momentum (PyTorch's b = μb + g, or the EMA form v = βv + (1−β)g when the problem says
so), Nesterov (PyTorch form), Adagrad, RMSprop, Adam with bias correction, AdamW against
Adam + L2, and gradient clipping by global norm and by value. Either the gradients are given
(one per step), or θ is a point on a small quadratic surface (the notes' f(x, y) = x² + 3y² +
2xy + 5 most often) and the learner works out ∇f first. Exact values come from
`quizforge.optim` (the same update rules `quizforge viz` draws); the honest-rounding bands
from a hand computation written here that rounds every number a person writes down.

`loss_scalar`: on a surface it is f over the parameter symbols (theta_0, theta_1). Where only
gradients are given there is no loss; the loss is then the linear functional g₁·θ (the first
step's gradient inline), whose gradient at θ₀ is that g₁ — honest about the one gradient it
can stand for; later steps' gradients are in the JSON (`grads`).

numpy is imported inside the functions: the registry imports this module at start-up.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from quizforge import optim
from quizforge.drill.basic import Asked, BasicProblem, fits_screen
from quizforge.drill.families._tensor import keep_mistakes, num_text, same
from quizforge.drill.family import Family
from quizforge.drill.model import Lines, Mistake, Question, Target, fmt_exact, fmt_num
from quizforge.drill.rounding import band, rounder

NAME = "optimizer"
MIXES = 4  # random up/down mixes in the band (rounding.band's default is 24)
NOTES = (1, 3, 2, 5)  # f = a·x² + b·y² + c·x·y + k: the notes' surface
QUADRATICS = ((1, 2, 2, 0), (2, 1, 2, 0), (1, 1, 1, 0), (2, 3, 2, 1), (1, 2, 0, 3))
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(i: int) -> str:
    return str(i).translate(_SUB)


# -- what is given ------------------------------------------------------------------------------
@dataclass(frozen=True)
class World:
    theta0: tuple[float, ...]
    grads: tuple[tuple[float, ...], ...] | None = None  # one per step, when given
    surface: tuple[float, float, float, float] | None = None  # (a, b, c, k)
    groups: tuple[tuple[str, tuple[int, ...]], ...] | None = None  # parameter tensors (clipping)

    @property
    def n(self) -> int:
        return len(self.theta0)

    def grad(self, k: int, theta: tuple[float, ...]) -> tuple[float, ...]:
        if self.grads is not None:
            return self.grads[k]
        a, b, c, _ = self.surface
        x, y = theta
        return (2 * a * x + c * y, 2 * b * y + c * x)

    def f(self, theta) -> float:
        a, b, c, k = self.surface
        x, y = (float(v) for v in theta)
        return a * x * x + b * y * y + c * x * y + k


@dataclass(frozen=True)
class Spec:
    """One question's computation: `steps` updates of `rule`, then read `quantity`."""

    rule: str
    hp: optim.Hyper
    steps: int
    quantity: str  # params | state:<key> | m_hat | v_hat | grad | grad_at_1 | clipped | loss | l2_grad
    clip: tuple[str, float] | None = None  # ("norm", max_norm) | ("value", clip_value)
    eps_inside: bool = False


# -- exact values (quizforge.optim), and the named slips ------------------------------------------
def _clip(g, clip, groups, variant):
    if clip is None or variant == "no-clip":
        return tuple(g)
    kind, c = clip
    if kind == "value":
        if variant == "norm-instead":
            return _scale_to(g, c)
        return optim.clip_by_value(g, c)
    if variant == "per-parameter-clipping":
        out = list(g)
        for _, idx in groups or tuple((str(i), (i,)) for i in range(len(g))):
            part = optim.clip_by_global_norm(tuple(g[i] for i in idx), c, eps=0.0)
            for i, v in zip(idx, part):
                out[i] = v
        return tuple(out)
    if variant == "clip-always":  # scaled to max_norm although ‖g‖ is below it
        return _scale_to(g, c)
    if variant == "clip-scale":  # multiplied by ‖g‖/max_norm instead of max_norm/‖g‖
        s = optim.global_norm(g) / c
        return tuple(x * s for x in g)
    return optim.clip_by_global_norm(g, c, eps=0.0)


def _scale_to(g, c):
    s = c / optim.global_norm(g)
    return tuple(x * s for x in g)


def _one(rule, theta, g, state, hp, spec, variant):
    """One update, with the slip `variant` where it changes this rule; else quizforge.optim."""
    lr, t = hp.lr, int(state["step"]) + 1
    if rule == "momentum" and variant == "dampening":  # dampening = β: b₁ = g, then the EMA
        mu, prev = hp.momentum, state["momentum_buffer"]
        b = tuple(g) if t == 1 else tuple(mu * bi + (1 - mu) * x for x, bi in zip(g, prev))
        return tuple(p - lr * bi for p, bi in zip(theta, b)), {**state, "step": t,
                                                              "momentum_buffer": b}
    if rule in ("momentum", "nesterov") and variant in ("momentum-order", "momentum-sign"):
        mu = hp.momentum
        prev = state["momentum_buffer"]
        if variant == "momentum-order":  # θ moves with the old buffer, then the buffer updates
            new_theta = tuple(p - lr * b for p, b in zip(theta, prev))
            return new_theta, optim.step(rule, theta, g, state, hp)[1]
        gg = tuple((1 - mu) * x for x in g) if hp.ema else g
        b = gg if (t == 1 and not hp.ema) else tuple(x - mu * bi for x, bi in zip(gg, prev))
        d = b if rule == "momentum" else tuple(x - mu * bi for x, bi in zip(g, b))
        return tuple(p - lr * di for p, di in zip(theta, d)), {**state, "step": t,
                                                               "momentum_buffer": b}
    if rule == "adagrad" and variant == "adagrad-no-sum":
        d = tuple(x / (abs(x) + hp.eps) for x in g)
        return tuple(p - lr * di for p, di in zip(theta, d)), {**state, "step": t}
    if rule in ("adam", "adamw") and variant == "decay-no-lr":
        shrunk = tuple(p - hp.weight_decay * p for p in theta)
        return optim.step("adam", shrunk, g, state, replace(hp, weight_decay=0.0))
    if rule in ("adam", "adamw") and (variant in ("no-bias-correction", "bias-correction-step")
                                      or spec.eps_inside != (variant == "eps-placement")):
        _, new = optim.step(rule, theta, g, state, hp)
        base = theta if rule == "adam" else tuple(p - lr * hp.weight_decay * p for p in theta)
        b1, b2 = hp.betas
        tt = 1 if variant == "bias-correction-step" else t
        c1, c2 = (1.0, 1.0) if variant == "no-bias-correction" else (1 - b1**tt, 1 - b2**tt)
        inside = spec.eps_inside != (variant == "eps-placement")
        d = []
        for m, v in zip(new["exp_avg"], new["exp_avg_sq"]):
            den = math.sqrt(v / c2 + hp.eps) if inside else math.sqrt(v / c2) + hp.eps
            d.append((m / c1) / den)
        return tuple(p - lr * di for p, di in zip(base, d)), new
    return optim.step(rule, theta, g, state, hp)


def value(world: World, spec: Spec, variant: str = ""):
    """The exact answer of `spec` (or of the slip `variant`): a float or a vector."""
    import numpy as np

    hp = spec.hp
    if variant == "eps-ignored":
        hp = replace(hp, eps=0.0)
    if variant == "alpha-swapped":
        hp = replace(hp, alpha=1 - hp.alpha)
    if variant == "momentum-form":
        hp = replace(hp, ema=not hp.ema)
    if variant == "no-weight-decay":
        hp = replace(hp, weight_decay=0.0)
    rule = {"no-momentum": "sgd", "nesterov-as-momentum": "momentum",
            "nesterov-instead": "nesterov"}.get(variant, spec.rule)
    if variant == "l2-vs-decoupled":
        rule = {"adam": "adamw", "adamw": "adam"}[rule]
    if variant == "adagrad-instead":
        rule = "adagrad"
    spec = replace(spec, rule=rule, hp=hp)
    q = spec.quantity
    if q == "grad":
        g = world.grad(0, world.theta0)
        return np.array(_grad_slip(world, world.theta0, variant) if variant else g)
    if q == "l2_grad":
        lam = 0.0 if variant == "l2-vs-decoupled" else hp.weight_decay
        lam = {"l2-factor": lam / 2, "l2-lr": lam * hp.lr, "sign": -lam}.get(variant, lam)
        return np.array([g + lam * p for g, p in zip(world.grad(0, world.theta0), world.theta0)])
    theta, state = tuple(world.theta0), optim.init_state(rule, world.n)
    first_g = clipped = None
    for k in range(spec.steps):
        g = (world.grad(0, world.theta0) if variant == "stale-gradient"
             else world.grad(k, theta))
        if variant in ("cross-term", "power-rule") and world.surface is not None:
            g = _grad_slip(world, theta, variant)
        if k == 1 and q == "grad_at_1":
            return np.array(_grad_slip(world, theta, variant) if variant else g)
        first_g = first_g or g
        gc = _clip(g, spec.clip, world.groups, variant)
        clipped = clipped or gc
        theta, state = _one(rule, theta, gc, state, hp, spec, variant)
    if q == "clipped":
        return -np.array(clipped) if variant == "sign" else np.array(clipped)
    if q == "loss":
        if variant == "loss-at-start":
            return float(world.f(world.theta0))
        out = world.f(2 * np.array(world.theta0) - np.array(theta) if variant == "sign"
                      else theta)
        return float(out - world.surface[3]) if variant == "no-constant" else float(out)
    if q.startswith("state:"):
        key = q.split(":", 1)[1]
        v = np.array(state[key])
        if variant == "lr-in-buffer":
            return v * hp.lr
        if variant == "no-square":
            return np.array([sum(world.grad(k, None)[i] for k in range(spec.steps))
                             for i in range(world.n)])
        if variant == "sqrt":
            return np.sqrt(v)
        return v
    if q in ("m_hat", "v_hat"):
        t = int(state["step"])
        b = hp.betas[0 if q == "m_hat" else 1]
        raw = np.array(state["exp_avg" if q == "m_hat" else "exp_avg_sq"])
        if variant == "no-bias-correction":
            return raw
        if variant == "bias-correction-step":
            return raw / (1 - b)
        if variant == "not-squared":
            return np.sqrt(raw / (1 - b**t))
        if variant == "eps-in-v":
            return raw / (1 - b**t) + hp.eps
        if variant == "sign":
            return -raw / (1 - b**t)
        return raw / (1 - b**t)
    out = np.array(theta)
    if variant == "sign":
        return 2 * np.array(world.theta0) - out
    return out


def _grad_slip(world, theta, variant):
    a, b, c, _ = world.surface
    x, y = theta
    if variant == "cross-term":  # ∂(c·xy) left out
        return (2 * a * x, 2 * b * y)
    if variant == "power-rule":  # d(a·x²)/dx written a·x
        return (a * x + c * y, b * y + c * x)
    if variant == "stale-gradient":
        return world.grad(0, world.theta0)
    return world.grad(0, theta)


# -- the hand computation (honest rounding) -----------------------------------------------------
def hand(world: World, spec: Spec, r):
    """`spec` worked as a person does it, r(...) on every number written down."""
    import numpy as np

    hp, rule, q = spec.hp, spec.rule, spec.quantity
    lr, eps = hp.lr, hp.eps

    def grad_at(k, theta):
        if world.grads is not None:
            return np.array(world.grads[k], dtype=float)
        a, b, c, _ = world.surface
        x, y = theta
        return np.array([r(r(2 * a * x) + r(c * y)), r(r(2 * b * y) + r(c * x))])

    theta = np.array(world.theta0, dtype=float)
    if q == "grad":
        return grad_at(0, theta)
    if q == "l2_grad":
        return r(grad_at(0, theta) + r(hp.weight_decay * theta))
    buf = m = v = s = None
    clipped = None
    for k in range(spec.steps):
        t = k + 1
        g = grad_at(k, theta)
        if q == "grad_at_1" and k == 1:
            return g
        if spec.clip:
            kind, c = spec.clip
            if kind == "value":
                g = np.clip(g, -c, c)
            else:
                norm = r(math.sqrt(float(r(np.sum(r(g * g))))))
                if norm > c:
                    g = r(g * r(c / norm))
        clipped = g if clipped is None else clipped
        if hp.weight_decay and rule != "adamw":
            g = r(g + r(hp.weight_decay * theta))
        if rule == "adamw":
            theta = theta - r(lr * hp.weight_decay * theta)
        if rule == "sgd":
            d = g
        elif rule in ("momentum", "nesterov"):
            mu = hp.momentum
            if hp.ema:
                buf = r(r((1 - mu) * g) + (0 if buf is None else r(mu * buf)))
            else:
                buf = g if buf is None else r(r(mu * buf) + g)
            if rule == "momentum":
                d = buf
            elif hp.ema:
                d = r(r((1 - mu) * g) + r(mu * buf))
            else:
                d = r(g + r(mu * buf))
        elif rule == "adagrad":
            s = r((0 if s is None else s) + r(g * g))
            d = r(g / r(r(np.sqrt(s)) + eps))
        elif rule == "rmsprop":
            a = hp.alpha
            v = r((0 if v is None else r(a * v)) + r((1 - a) * r(g * g)))
            d = r(g / r(r(np.sqrt(v)) + eps))
        else:
            b1, b2 = hp.betas
            m = r((0 if m is None else r(b1 * m)) + r((1 - b1) * g))
            v = r((0 if v is None else r(b2 * v)) + r((1 - b2) * r(g * g)))
            m_hat = r(m / r(1 - b1**t))
            v_hat = r(v / r(1 - b2**t))
            if spec.eps_inside:
                d = r(m_hat / r(np.sqrt(r(v_hat + eps))))
            else:
                d = r(m_hat / r(r(np.sqrt(v_hat)) + eps))
        # θ − Δ with Δ written down; a θ between steps is written down too (and rounded)
        theta = theta - r(lr * d) if k == spec.steps - 1 else r(theta - r(lr * d))
    if q == "clipped":
        return clipped
    if q == "m_hat":
        return r(m / r(1 - hp.betas[0] ** spec.steps))
    if q == "v_hat":
        return r(v / r(1 - hp.betas[1] ** spec.steps))
    if q.startswith("state:"):
        return {"momentum_buffer": buf, "sum": s, "square_avg": v, "exp_avg": m,
                "exp_avg_sq": v}[q.split(":", 1)[1]]
    if q == "loss":
        a, b, c, kk = world.surface
        x, y = theta
        return float(r(r(r(a * r(x * x)) + r(b * r(y * y))) + r(r(c * r(x * y)) + kk)))
    return theta


# -- text ---------------------------------------------------------------------------------------
def vec(v) -> str:
    return "[" + ", ".join(fmt_exact(float(x)) for x in v) + "]"


def num(v: float) -> str:
    return fmt_exact(float(v))


def surface_text(world: World) -> str:
    a, b, c, k = world.surface
    terms = [(a, "x²"), (b, "y²"), (c, "xy")]
    out = ""
    for coef, t in terms:
        if coef == 0:
            continue
        piece = ("" if coef == 1 else fmt_exact(coef)) + t
        out += piece if not out else f" + {piece}"
    return out + (f" + {fmt_exact(k)}" if k else "")


def grad_text(world: World) -> str:
    a, b, c, _ = world.surface

    def term(coef, var):
        return "" if coef == 0 else (var if coef == 1 else f"{fmt_exact(coef)}{var}")

    gx = " + ".join(t for t in (term(2 * a, "x"), term(c, "y")) if t)
    gy = " + ".join(t for t in (term(2 * b, "y"), term(c, "x")) if t)
    return f"∇f = ({gx}, {gy})"


def loss_text(world: World) -> str:
    if world.surface is not None:
        a, b, c, k = world.surface
        parts = [f"{num_text(a)}*theta_0**2", f"{num_text(b)}*theta_1**2"]
        if c:
            parts.append(f"{num_text(c)}*theta_0*theta_1")
        if k:
            parts.append(num_text(k))
        return " + ".join(parts)
    return " + ".join(f"g1_{i}*theta_{i}" for i in range(world.n))


def _names(world: World) -> str:
    if world.surface is not None:
        return "θ = (x, y)"
    if world.groups:
        return "θ = (w₁, w₂, b): a weight vector W = (w₁, w₂) and a bias b"
    return "θ = (" + ", ".join(f"w{_sub(i + 1)}" for i in range(world.n)) + ")"


def _hp_line(rule: str, hp: optim.Hyper, spec: Spec | None = None) -> str:
    if rule == "sgd":
        return f"η = {num(hp.lr)}"
    if rule in ("momentum", "nesterov"):
        return f"η = {num(hp.lr)}, β = {num(hp.momentum)}"
    if rule == "adagrad":
        return f"η = {num(hp.lr)}, ε = 0"
    if rule == "rmsprop":
        return f"η = {num(hp.lr)}, α = {num(hp.alpha)}, ε = 0"
    b1, b2 = hp.betas
    eps = "ε = 0 (negligible)" if hp.eps == 0 else f"ε = {num(hp.eps)}"
    wd = f", λ = {num(hp.weight_decay)}" if hp.weight_decay else ""
    return f"η = {num(hp.lr)}, β₁ = {num(b1)}, β₂ = {num(b2)}, {eps}{wd}"


RULE_LINES = {
    "sgd": ("SGD:       θ ← θ − η·g",),
    "momentum": ("Momentum (PyTorch form): b ← β·b + g (the first step sets b = g),",
                 "           θ ← θ − η·b"),
    "momentum-ema": ("Momentum (EMA form): v ← β·v + (1 − β)·g, starting from v = 0,",
                     "           θ ← θ − η·v"),
    "nesterov": ("Nesterov (PyTorch form): b ← β·b + g (first step b = g),",
                 "           θ ← θ − η·(g + β·b)"),
    "adagrad": ("Adagrad:   sum ← sum + g² (per parameter, from 0),",
                "           θ ← θ − η·g / (√sum + ε)"),
    "rmsprop": ("RMSprop:   v ← α·v + (1 − α)·g² (from 0),",
                "           θ ← θ − η·g / (√v + ε)"),
    "adam": ("Adam:      m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²  (both from 0),",
             "           m̂ = m/(1 − β₁ᵗ),  v̂ = v/(1 − β₂ᵗ)  (t = 1 at the first step),",
             "           θ ← θ − η·m̂ / (√v̂ + ε)"),
    "adam-inside": ("Adam:      m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²  (both from 0),",
                    "           m̂ = m/(1 − β₁ᵗ),  v̂ = v/(1 − β₂ᵗ),",
                    "           θ ← θ − η·m̂ / √(v̂ + ε)   (ε INSIDE the square root)"),
    "adam-l2": ("Adam + L2: g ← g + λ·θ first (PyTorch's Adam weight_decay),",
                "           then the Adam step with that g"),
    "adamw": ("AdamW:     θ ← θ − η·λ·θ first (decoupled decay), then the Adam step",
              "           with the raw g (the moments never see λθ)"),
}


def _rule_key(spec: Spec) -> str:
    if spec.rule == "momentum" and spec.hp.ema:
        return "momentum-ema"
    if spec.rule == "adam" and spec.eps_inside:
        return "adam-inside"
    if spec.rule == "adam" and spec.hp.weight_decay:
        return "adam-l2"
    return spec.rule


LATER = "(a later question)"


def hidden_by(later: list, world: World | None = None) -> frozenset[str]:
    """What a worked solution must not show yet: the values later questions ask for
    ("m_hat@2": m̂ after step 2, "grad@1": ∇f(θ₀), "clipped", "l2_grad", "buf@3:ema" …)."""
    out = set()
    for q in later:
        s = q.spec
        if world is not None:
            v = value(world, s)
            out.add("text:" + (vec(v) if getattr(v, "ndim", 0) else num(v)))
        if s.quantity == "grad":
            out.add("grad@1")
        elif s.quantity == "grad_at_1":
            out.add("grad@2")
        elif s.quantity in ("clipped", "l2_grad"):
            out.add(s.quantity)
        elif s.quantity in ("m_hat", "v_hat"):
            out.add(f"{s.quantity}@{s.steps}")
        elif s.quantity == "state:momentum_buffer":
            out.add(f"buf@{s.steps}:{s.hp.ema}")
        elif s.quantity == "state:sum":
            out.add(f"sum@{s.steps}")
    return frozenset(out)


def trace(world: World, spec: Spec, hide: frozenset[str] = frozenset()) -> list[str]:
    """The exact computation, step by step (quizforge.optim's numbers); for a question about
    the clipped gradient, only as far as the clipping. What `hide` names (the answers of later
    questions) is written as LATER."""
    hp, rule = spec.hp, spec.rule
    out: list[str] = []

    def shown(key: str, text: str) -> str:
        return LATER if key in hide or "text:" + text in hide else text

    theta, state = tuple(world.theta0), optim.init_state(rule, world.n)
    for k in range(spec.steps):
        t = k + 1
        g = world.grad(k, theta)
        line = f"t = {t}: g = {vec(g)}"
        if world.surface is not None:
            line = f"t = {t}: θ = {vec(theta)}, g = ∇f(θ) = {shown(f'grad@{t}', vec(g))}"
        out.append(line)
        if spec.clip:
            kind, c = spec.clip
            gc = _clip(g, spec.clip, world.groups, "")
            if kind == "norm":
                nrm = optim.global_norm(g)
                out.append(f"       ‖g‖ = √({' + '.join(num(x * x) for x in g)}) = "
                           f"{num(nrm)}" + (f" > {num(c)}: g ← g·{num(c)}/{num(nrm)}"
                                            f" = {shown('clipped', vec(gc))}" if nrm > c
                                            else f" ≤ {num(c)}: no clipping"))
            else:
                out.append(f"       clip each entry to [−{num(c)}, {num(c)}]: {vec(gc)}")
            g = gc
            if spec.quantity == "clipped":
                return out
        if hp.weight_decay and rule != "adamw":
            g2 = tuple(x + hp.weight_decay * p for x, p in zip(g, theta))
            out.append(f"       g + λθ = {vec(g)} + {num(hp.weight_decay)}·{vec(theta)}"
                       f" = {shown('l2_grad', vec(g2))}")
        if rule == "adamw":
            shrunk = tuple(p - hp.lr * hp.weight_decay * p for p in theta)
            out.append(f"       decay: θ − ηλθ = {vec(theta)}·(1 − {num(hp.lr)}·"
                       f"{num(hp.weight_decay)}) = {shown('', vec(shrunk))}")
        new_theta, state = _one(rule, theta, g, state, hp, spec, "")
        if rule in ("momentum", "nesterov"):
            name = "v" if hp.ema else "b"
            out.append(f"       {name} = "
                       f"{shown(f'buf@{t}:{hp.ema}', vec(state['momentum_buffer']))}")
        elif rule == "adagrad":
            out.append(f"       sum = {shown(f'sum@{t}', vec(state['sum']))}")
        elif rule == "rmsprop":
            out.append(f"       v = {vec(state['square_avg'])}")
        elif rule in ("adam", "adamw"):
            m_hat, v_hat = optim.bias_corrected(state, hp)
            b1, b2 = hp.betas
            out.append(f"       m = {vec(state['exp_avg'])},  v = {vec(state['exp_avg_sq'])}")
            out.append(f"       m̂ = m/{num(1 - b1**t)} = {shown(f'm_hat@{t}', vec(m_hat))},  "
                       f"v̂ = v/{num(1 - b2**t)} = {shown(f'v_hat@{t}', vec(v_hat))}")
        out.append(f"       θ = {shown('', vec(new_theta))}")
        theta = new_theta
    return out


# -- questions ----------------------------------------------------------------------------------
@dataclass
class Q:
    spec: Spec
    wrt: str
    label: str
    what: str  # "θ after 2 steps"
    skills: tuple[str, ...]
    slips: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, message, variant)
    formula: tuple[str, ...] = ()
    need: tuple[str, ...] = ()  # slips this question is about: the problem is redrawn without
    unfair: list[str] = field(default_factory=list)  # slips the grader cannot tell apart


def _ask(label: str, what: str, n: int | None) -> str:
    if n is None:
        return f"Give {what}, {label}, as a number (fractions are fine)."
    letters = ", ".join("abc"[:n])
    return f"Give {what}, {label}, as [{letters}] (a vector of {n}; fractions are fine)."


def _build(world: World, q: Q, later: list | tuple = ()) -> Asked:
    """One question worked out. θ after steps is graded as the update θ − θ₀ (the target's
    offset), with the band of the update: a 0.5% margin on θ could swallow the whole step.
    `q.unfair` lists the slips that differ from the answer but that the grader cannot tell
    apart from it (the generator draws again when there are any); `later` are the questions
    after this one, whose answers its worked solution must not show."""
    import numpy as np

    exact = value(world, q.spec)
    if isinstance(exact, np.ndarray):
        exact = exact.astype(float)
    offset = np.array(world.theta0, dtype=float) if q.spec.quantity == "params" else None
    if offset is None:
        lo, hi = band(lambda r: hand(world, q.spec, r), mixes=MIXES)
    else:
        lo, hi = band(lambda r: hand(world, q.spec, _snapped(r)) - offset, mixes=MIXES)
        # θ itself may be typed to 3 significant figures, too (to nearest)
        lo, hi = lo + offset, hi + offset
        near3 = rounder("nearest")
        ends = [near3(b + k * (1e-9 * np.abs(b) + 1e-12)) for b in (lo, hi) for k in (-1, 0, 1)]
        lo = np.minimum(lo, np.minimum.reduce(ends) - 1e-9)
        hi = np.maximum(hi, np.maximum.reduce(ends) + 1e-9)

    def moved(v):
        return v - offset if offset is not None and np.shape(v) == np.shape(offset) else v

    cands = []
    for kind, msg, variant in q.slips:
        try:
            cands.append(Mistake(kind, msg, value(world, q.spec, variant)))
        except (ZeroDivisionError, ValueError):
            continue
    def apart(mv):  # typed to 3 figures of θ, not of the change, the slip stays outside
        return _apart(moved(mv), moved(lo), moved(hi), 0.006 * np.abs(mv))

    mistakes = tuple(m for m in keep_mistakes(exact, lo, hi, cands) if apart(m.value))
    q.unfair = [m.kind for m in cands if not same(m.value, exact) and not apart(m.value)]
    if offset is not None and not _apart(np.zeros_like(offset), moved(lo), moved(hi)):
        q.unfair.append("no-update")  # θ₀ itself, typed to 3 figures, would be accepted
    shape = tuple(np.shape(exact))
    question = Question(q.wrt, "number", _ask(q.label, q.what, shape[0] if shape else None),
                        q.skills, shape)
    target = Target(q.wrt, q.label, exact, lo, hi, mistakes, offset=offset)
    sol = [Lines("Convention", q.formula or RULE_LINES[_rule_key(q.spec)])]
    numbers: list[str] = []
    if q.spec.quantity == "grad":
        numbers = [grad_text(world) + f"; at θ₀ = {vec(world.theta0)}:"]
    elif q.spec.quantity == "l2_grad":
        numbers = [(f"g + λθ = {vec(world.grad(0, world.theta0))} + "
                   f"{num(q.spec.hp.weight_decay)}·{vec(world.theta0)}")]
    else:
        if world.surface is not None:
            numbers.append(grad_text(world))
        numbers += trace(world, q.spec, hidden_by(list(later), world))
        if q.spec.quantity == "loss":
            x, y = value(world, replace(q.spec, quantity="params"))
            numbers.append(f"f({num(x)}, {num(y)}) = {num(world.f((x, y)))}")
    ans = fmt_exact(exact) if not shape else vec(exact)
    numbers.append(f"{q.label} = {ans}")
    sol.append(Lines("Numbers", tuple(numbers)))
    hints = (_hint1(q), _hint2(world, q, hidden_by(list(later), world)))
    return Asked(question, target, tuple(sol), hints)


def _snapped(r):
    """r on the value a person would write: 0.1·(−0.035) is −0.0035, not the float
    −0.0035000000000000005 that rounds "down" to −0.00351 (a band one unit too wide)."""
    import numpy as np

    def snap(x):
        if getattr(x, "ndim", 0):
            return r(np.array([float(f"{v:.12g}") for v in np.ravel(x)]).reshape(np.shape(x)))
        return r(float(f"{float(x):.12g}"))

    return snap


def _full_at_end(world: World, qs: list[Q], asked: tuple[Asked, ...]) -> tuple[Asked, ...]:
    """The last question's solution ends with every earlier computation in full, the values
    their own solutions left to later questions included."""
    full = []
    for i, q in enumerate(qs[:-1]):
        hide = hidden_by(qs[i + 1:], world)
        lines = trace(world, q.spec, hide) if q.spec.quantity not in ("grad", "l2_grad") else []
        shown = {ln for b in asked[-1].solution if isinstance(b, Lines) for ln in b.lines}
        if LATER in " ".join(lines) and not set(trace(world, q.spec)) <= shown:
            full.append(Lines(f"Question {i + 1} ({q.label}) in full",
                              tuple(trace(world, q.spec))))
    if not full:
        return asked
    sol = asked[-1].solution
    return asked[:-1] + (replace(asked[-1], solution=sol[:-1] + tuple(full) + sol[-1:]),)


def _apart(mv, lo, hi, tol=None) -> bool:
    """Some entry of the slip lies clearly outside the band (typed to 3-4 figures it still
    does), so the grader can name it."""
    import numpy as np

    mv, lo, hi = (np.asarray(x, dtype=float) for x in (mv, lo, hi))
    if mv.shape != lo.shape:
        return True
    tol = (0.006 * np.abs(mv) if tol is None else np.asarray(tol, dtype=float)) + 1e-9
    return bool(np.any((mv < lo - tol) | (mv > hi + tol)))


def _hint1(q: Q) -> str:
    return "Use: " + " ".join(line.split(":", 1)[-1].strip() if i == 0 else line.strip()
                              for i, line in enumerate(q.formula or
                                                       RULE_LINES[_rule_key(q.spec)]))


def _hint2(world: World, q: Q, hide: frozenset[str] = frozenset()) -> str:
    if world.surface is not None:
        if "grad@1" in hide:
            return (f"First the gradient: {grad_text(world)}, at θ₀ = {vec(world.theta0)}; "
                    "then the step.")
        return (f"First the gradient: {grad_text(world)}, at θ₀ = {vec(world.theta0)} it is "
                f"{vec(world.grad(0, world.theta0))}.")
    g = world.grad(0, world.theta0)
    if q.spec.clip and q.spec.clip[0] == "norm":
        return (f"The global norm is √({' + '.join(num(x * x) for x in g)}) = "
                f"{num(optim.global_norm(g))}: one norm over every parameter together.")
    if q.spec.rule in ("adam", "adamw"):
        return ("At t = 1, m̂ = g and v̂ = g² exactly (bias correction undoes the zero "
                "start), so the first step is η·g/(|g| + ε).")
    return f"Step 1 uses g₁ = {vec(g)}; write down the state after every step."


# -- scenarios ------------------------------------------------------------------------------------
def _ints(rng, n, lo, hi, nonzero=True):
    pool = [v for v in range(lo, hi + 1) if v or not nonzero]
    return tuple(float(rng.choice(pool)) for _ in range(n))


def _signs(rng, v):
    return tuple(x * rng.choice((1, -1)) for x in v)


MHAT_SIGN = ("m̂ keeps the sign of the gradients it averages: m ← β₁m + (1 − β₁)g adds g "
             "as it is.")
VHAT_SIGN = "v̂ averages SQUARED gradients, so it is never negative."
CLIP_SIGN = ("Clipping multiplies g by a positive factor (or clamps each entry): every "
             "entry keeps its sign.")
DAMP_MSG = ("That is dampening = β (b₁ = g, then b ← βb + (1 − β)g); this problem's rule "
            "has no dampening.")
SIGN_MSG = ("That moves uphill: an optimizer subtracts the update, θ ← θ − η·(…), so the "
            "parameters move against the gradient.")


def sc_sgd_surface(rng):
    surf = NOTES if rng.random() < 0.6 else rng.choice(QUADRATICS)
    start = (4.0, 4.0) if surf == NOTES and rng.random() < 0.3 else _ints(rng, 2, -4, 4)
    lr = rng.choice((0.1, 0.05, 0.2)) if surf == NOTES else rng.choice((0.1, 0.05))
    world = World(start, surface=surf)
    hp = optim.Hyper(lr=lr)
    conv = ("SGD with learning rate η = " + num(lr) + ": θ ← θ − η·∇f(θ).",)
    qs = [
        Q(Spec("sgd", hp, 1, "params"), "theta_1", "θ₁", "θ after one SGD step", ("sgd",),
          [("sign", SIGN_MSG, "sign"),
           ("cross-term", ("Your gradient left out the cross term: ∂(c·xy)/∂x = c·y and "
                          "∂(c·xy)/∂y = c·x belong in ∇f."), "cross-term"),
           ("power-rule", "d(a·x²)/dx is 2a·x, not a·x: the power rule brings the 2 down.",
            "power-rule")], conv),
        Q(Spec("sgd", hp, 1, "grad"), "theta", "∇f(θ₀)", "the gradient at the start point",
          ("sgd",),
          [("cross-term", ("The cross term is missing: c·xy adds c·y to ∂f/∂x and c·x to "
                          "∂f/∂y."), "cross-term"),
           ("power-rule", "d(a·x²)/dx is 2a·x, not a·x: the power rule brings the 2 down.",
            "power-rule")], ("∇f = (∂f/∂x, ∂f/∂y), each by the power rule",)),
        Q(Spec("sgd", hp, 1, "loss"), "loss_1", "f(θ₁)", "the loss after the step",
          ("sgd",),
          [("loss-at-start", "That is f at the start point θ₀; evaluate f at the new θ₁.",
            "loss-at-start"),
           ("no-constant", ("You dropped the constant term of f; it does not move the "
                           "gradient but it is part of the loss."), "no-constant"),
           ("sign", SIGN_MSG, "sign")], conv),
    ]
    body = [f"f(x, y) = {surface_text(world)},  start θ₀ = (x, y) = {vec(start)}.",
            f"One step of plain SGD with learning rate η = {num(lr)}:",
            "  θ₁ = θ₀ − η·∇f(θ₀)   (work out ∇f first)."]
    return world, qs, body, {"rule": "sgd", "lr": lr, "steps": 1}


def _pyth(rng):
    a, b = rng.choice(((3, 4), (6, 8), (5, 12), (4, 3), (8, 6), (12, 5)))
    return _signs(rng, (float(a), float(b)))


def sc_clip(rng, groups: bool = False):
    if groups:
        gw1, gw2, gb = rng.choice(((3, 4, 12), (4, 3, 12), (2, 3, 6), (1, 4, 8), (4, 4, 7),
                                   (2, 6, 9), (6, 6, 7), (2, 2, 1), (1, 2, 2)))
        g = _signs(rng, (float(gw1), float(gw2), float(gb)))
        theta = _ints(rng, 3, -3, 3)
        grp = (("W", (0, 1)), ("b", (2,)))
    else:
        g, theta, grp = _pyth(rng), _ints(rng, 2, -3, 3), None
    nrm = optim.global_norm(g)
    max_norm = nrm * rng.choice((0.5, 0.2, 0.25)) if nrm != 13 else rng.choice((6.5, 2.6))
    below = rng.random() < 0.25  # ‖g‖ ≤ max_norm: nothing to clip (asked too)
    if below:
        max_norm = float(rng.choice([m for m in (5, 10, 15, 20, 25) if m > nrm]))
    big = sorted(abs(x) for x in g)
    cv = float(rng.choice([c for c in (1, 2, 3, 5) if c < big[-1]]))
    lr = rng.choice((0.1, 0.5, 1.0))
    world = World(theta, grads=(g,), groups=grp)
    hp = optim.Hyper(lr=lr)
    per_msg = ("You clipped each parameter tensor on its own; clip_grad_norm_ uses ONE norm "
               "over all gradients together and scales every entry by the same factor."
               if groups else
               "You clipped each entry on its own; clipping by global norm uses one norm "
               "over all the gradients and scales them all by the same factor.")
    conv = (f"Clip by global norm (max_norm = {num(max_norm)}): if ‖g‖ > max_norm,",
            "           g ← g·max_norm/‖g‖ (one norm over ALL entries); SGD: θ ← θ − η·g")
    always_msg = (f"‖g‖ = {num(nrm)} is already within max_norm = {num(max_norm)}: "
                  "clip_grad_norm_ leaves g as it is (it only ever scales down).")
    qs = [
        Q(Spec("sgd", hp, 1, "params", clip=("norm", max_norm)), "theta_1", "θ₁",
          "θ after clipping and one SGD step", ("clipping", "sgd"),
          [("clip-always", always_msg, "clip-always"),
           ("per-parameter-clipping", per_msg, "per-parameter-clipping"),
           ("no-clip", (f"You stepped with the raw gradient: its norm {num(nrm)} exceeds "
                       f"max_norm = {num(max_norm)}, so scale it down first."), "no-clip"),
           ("clip-scale", "The factor is max_norm/‖g‖ (at most 1), not ‖g‖/max_norm.",
            "clip-scale"),
           ("sign", SIGN_MSG, "sign")], conv),
        Q(Spec("sgd", hp, 1, "clipped", clip=("value", cv)), "g_value_clipped",
          "clip_by_value(g)", "the gradient clipped by value",
          ("clipping",),
          [("norm-instead", ("Clipping by value clamps each entry to [−c, c] separately; it "
                            "does not rescale the whole vector to norm c."), "norm-instead"),
           ("sign", CLIP_SIGN, "sign")],
          (f"Clip by value: each entry clamped to [−{num(cv)}, {num(cv)}] separately",)),
    ]
    if groups:
        qs.insert(1, Q(Spec("sgd", hp, 1, "clipped", clip=("norm", max_norm)), "g_clipped",
                       "the clipped g", "the gradient after clipping by global norm",
                       ("clipping",),
                       [("per-parameter-clipping", per_msg, "per-parameter-clipping"),
                        ("clip-scale", ("The factor is max_norm/‖g‖ (at most 1), not "
                                       "‖g‖/max_norm."), "clip-scale"),
                        ("clip-always", always_msg, "clip-always"),
                        ("sign", CLIP_SIGN, "sign")], conv))
    qs[0].need = ("clip-always",) if below else ("per-parameter-clipping", "no-clip")
    body = [f"Parameters {_names(world)}.",
            f"θ₀ = {vec(theta)},  gradient g = {vec(g)}.",
            f"Gradient clipping by global norm with max_norm = {num(max_norm)} (as in",
            "torch.nn.utils.clip_grad_norm_, ignoring its tiny 1e-6), then one SGD step",
            f"with η = {num(lr)}. For the last question: clipping by value instead,",
            f"clip_value = {num(cv)} (torch.nn.utils.clip_grad_value_)."]
    extra = {"rule": "sgd", "lr": lr, "steps": 1, "max_norm": max_norm, "clip_value": cv,
             "clip_eps": 0.0}
    if groups:
        extra["parameter_groups"] = {"W": [0, 1], "b": [2]}
    return world, qs, body, extra


def sc_adam1(rng):
    n = rng.choice((2, 3))
    pool = (0.5, 2.0, 3.0, 4.0, 0.25, 5.0)
    while True:
        g = _signs(rng, tuple(rng.choice(pool) for _ in range(n)))
        if len({abs(x) for x in g}) > 1:
            break
    theta = _ints(rng, n, -3, 3)
    lr = rng.choice((0.1, 0.01, 0.5))
    hp = optim.Hyper(lr=lr, betas=(0.9, 0.999), eps=0.0)
    world = World(theta, grads=(g,))
    nbc = ("You left out the bias correction: m and v start at 0, so at t = 1 use "
           "m̂ = m/(1 − β₁) and v̂ = v/(1 − β₂).")
    qs = [
        Q(Spec("adam", hp, 1, "params"), "theta_1", "θ₁", "θ after one Adam step", ("adam",),
          [("no-bias-correction", nbc, "no-bias-correction"),
           ("adam-as-sgd", ("That is an SGD step θ − η·g; Adam divides by √v̂, so the first "
                           "step is η·g/|g| = η·sign(g) for every parameter."), "no-momentum"),
           ("sign", SIGN_MSG, "sign")]),
        Q(Spec("adam", hp, 1, "m_hat"), "m_hat", "m̂₁", "the bias-corrected first moment",
          ("adam",), [("no-bias-correction", "That is m₁ = (1 − β₁)·g; m̂₁ divides it by "
                                             "1 − β₁¹ = " + num(1 - 0.9) + ".",
                       "no-bias-correction"), ("sign", MHAT_SIGN, "sign")]),
        Q(Spec("adam", hp, 1, "v_hat"), "v_hat", "v̂₁", "the bias-corrected second moment",
          ("adam",), [("no-bias-correction", ("That is v₁ = (1 − β₂)·g²; v̂₁ divides it by "
                                             "1 − β₂¹ = 0.001."), "no-bias-correction"),
                      ("not-squared", "v averages the SQUARED gradient: v̂₁ = g², not |g|.",
                       "not-squared"), ("sign", VHAT_SIGN, "sign")]),
    ]
    qs[0].need = ("no-bias-correction",)
    body = [f"θ₀ = {vec(theta)},  gradient g = {vec(g)}  (the first step, t = 1).",
            f"Adam (torch.optim.Adam) with η = {num(lr)}, betas = (0.9, 0.999);",
            "ε is negligible here: take ε = 0. m and v start at 0."]
    return world, qs, body, {"rule": "adam", "lr": lr, "betas": [0.9, 0.999], "eps": 0.0,
                             "weight_decay": 0.0, "steps": 1}


def sc_momentum(rng, steps: int):
    n = rng.choice((2, 3)) if steps == 2 else 2
    grads = tuple(_ints(rng, n, -4, 4) for _ in range(steps))
    theta = _ints(rng, n, -3, 3)
    lr = rng.choice((0.1, 0.5, 0.25)) if steps == 2 else rng.choice((0.1, 0.5))
    mu = rng.choice((0.9, 0.5))
    ema = rng.random() < 0.35
    hp = optim.Hyper(lr=lr, momentum=mu, ema=ema)
    world = World(theta, grads=grads)
    T = _sub(steps)
    form_msg = ("That is the PyTorch form b = βb + g; this problem asks the EMA form "
                "v = βv + (1 − β)g (v starts at 0)." if ema else
                "That is the EMA form v = βv + (1 − β)g; this problem asks PyTorch's form "
                "b = βb + g (the first step sets b = g).")
    order_msg = ("Order: first update the buffer with the new gradient, then step θ with the "
                 "NEW buffer (you stepped with the previous one).")
    msign_msg = ("The gradient and the old buffer add: b ← β·b + g (you subtracted the "
                 "momentum term).")
    damp_msg = (DAMP_MSG if not ema else "That is PyTorch's dampening = β: it sets v₁ = g; "
                "the EMA form starts from v₀ = 0, so v₁ = (1 − β)·g.")
    qs = [
        Q(Spec("momentum", hp, steps, "params"), f"theta_{steps}", f"θ{T}",
          f"θ after {steps} momentum steps", ("momentum",),
          [("momentum-form", form_msg, "momentum-form"),
           ("momentum-order", order_msg, "momentum-order"),
           ("momentum-sign", msign_msg, "momentum-sign"),
           ("dampening", damp_msg, "dampening"),
           ("no-momentum", ("That is plain SGD; momentum carries the buffer from step to "
                           "step."), "no-momentum"),
           ("sign", SIGN_MSG, "sign")]),
        Q(Spec("momentum", hp, steps, "state:momentum_buffer"), "momentum_buffer",
          ("v" if ema else "b") + T, f"the momentum buffer after {steps} steps",
          ("momentum",),
          [("momentum-form", form_msg, "momentum-form"),
           ("momentum-sign", msign_msg, "momentum-sign"),
           ("dampening", damp_msg, "dampening"),
           ("lr-in-buffer", ("PyTorch keeps η out of the buffer (b ← βb + g, then θ ← θ − ηb); "
                            "you folded η into it."), "lr-in-buffer")]),
    ]
    if not ema:
        qs.append(Q(Spec("nesterov", hp, steps, "params"), f"theta_{steps}_nesterov",
                    f"θ{T} (Nesterov)", f"θ after {steps} Nesterov steps on the same gradients",
                    ("nesterov",),
                    [("nesterov-as-momentum", ("That is plain momentum; PyTorch's Nesterov "
                                              "steps with g + β·b (the look-ahead), not b."),
                      "nesterov-as-momentum"),
                     ("momentum-sign", msign_msg, "momentum-sign"),
                     ("sign", SIGN_MSG, "sign")]))
    else:
        qs.append(Q(Spec("momentum", replace(hp, ema=False), steps, "params"),
                    f"theta_{steps}_pytorch", f"θ{T} (PyTorch form)",
                    f"θ after {steps} steps in PyTorch's form instead",
                    ("momentum",),
                    [("momentum-form", ("That is the EMA form again; this question asks "
                                       "PyTorch's b = βb + g (no 1 − β factor, b₁ = g)."),
                      "momentum-form"),
                     ("momentum-order", order_msg, "momentum-order"),
                     ("sign", SIGN_MSG, "sign")]))
    qs[0].need = ("momentum-form", "momentum-order")
    qs[2].need = ("nesterov-as-momentum",) if not ema else ("momentum-form",)
    gl = [f"  g{_sub(k + 1)} = {vec(g)}" for k, g in enumerate(grads)]
    form = "the EMA form" if ema else "PyTorch's form"
    rule_text = ("v ← β·v + (1 − β)·g from v₀ = 0, then θ ← θ − η·v" if ema else
                 "b ← β·b + g (the first step sets b = g₁), then θ ← θ − η·b")
    body = [f"Parameters θ₀ = {vec(theta)}. The gradients of {steps} steps are given (one",
            "minibatch each; take them as given, whatever θ is):", *gl,
            f"SGD with momentum, η = {num(lr)}, β = {num(mu)}, in {form}:",
            f"  {rule_text}."]
    if not ema:
        body.append("Nesterov (PyTorch, nesterov=True): same b, but θ ← θ − η·(g + β·b).")
    extra = {"rule": "momentum", "lr": lr, "momentum": mu, "nesterov": False,
             "dampening": 0.0, "momentum_form": "ema" if ema else "pytorch",
             "steps": steps}
    return world, qs, body, extra


def sc_adaptive(rng):
    pairs = [_pyth(rng) for _ in range(2)]
    grads = ((pairs[0][0], pairs[1][0]), (pairs[0][1], pairs[1][1]))
    theta = _ints(rng, 2, -3, 3)
    lr = rng.choice((0.1, 0.5))
    alpha = rng.choice((0.9, 0.5, 0.75))
    hp = optim.Hyper(lr=lr, eps=0.0, alpha=alpha)
    world = World(theta, grads=grads)
    qs = [
        Q(Spec("adagrad", hp, 2, "params"), "theta_2_adagrad", "θ₂ (Adagrad)",
          "θ after 2 Adagrad steps", ("adagrad",),
          [("adagrad-no-sum", ("Adagrad divides by the root of the SUM of all squared "
                              "gradients so far, not just the current one."), "adagrad-no-sum"),
           ("sign", SIGN_MSG, "sign")]),
        Q(Spec("adagrad", hp, 2, "state:sum"), "sum", "sum₂",
          "Adagrad's accumulated sum after 2 steps", ("adagrad",),
          [("no-square", "Adagrad accumulates squared gradients: sum = g₁² + g₂².",
            "no-square"),
           ("sqrt", ("The state is the sum itself; the square root is taken only in the "
                    "update."), "sqrt")]),
        Q(Spec("rmsprop", hp, 2, "params"), "theta_2_rmsprop", "θ₂ (RMSprop)",
          "θ after 2 RMSprop steps on the same gradients", ("rmsprop",),
          [("alpha-swapped", (f"α weighs the OLD average: v ← α·v + (1 − α)·g², with α = "
                             f"{num(alpha)}."), "alpha-swapped"),
           ("adagrad-instead", ("That is Adagrad's running sum; RMSprop keeps a decaying "
                               "average v ← αv + (1 − α)g²."), "adagrad-instead"),
           ("sign", SIGN_MSG, "sign")]),
    ]
    qs[0].need = ("adagrad-no-sum",)
    gl = [f"  g{_sub(k + 1)} = {vec(g)}" for k, g in enumerate(grads)]
    body = [f"Parameters θ₀ = {vec(theta)}. The gradients of 2 steps are given:", *gl,
            f"Adagrad with η = {num(lr)}; RMSprop with η = {num(lr)}, α = {num(alpha)}",
            "(PyTorch's alpha); both start from zero state; take ε = 0."]
    roots = _roots_needed(world, Spec("rmsprop", hp, 2, "params"))
    if roots:
        body.append("Square roots you may need: " + ", ".join(roots) + ".")
    return world, qs, body, {"rule": "adagrad", "lr": lr, "eps": 0.0, "alpha": alpha,
                             "lr_decay": 0.0, "initial_accumulator_value": 0.0, "steps": 2}


def _roots_needed(world: World, spec: Spec) -> list[str]:
    """'√0.9 ≈ 0.949' for every √v of an RMSprop run that is not a short decimal: shown in
    the problem, so that no step needs a calculator."""
    out: list[str] = []
    theta, state = tuple(world.theta0), optim.init_state(spec.rule, world.n)
    for k in range(spec.steps):
        theta, state = optim.step(spec.rule, theta, world.grad(k, theta), state, spec.hp)
        for v in state["square_avg"]:
            root = math.sqrt(v)
            if abs(round(root, 3) - root) > 1e-9:
                text = f"√{fmt_exact(v)} ≈ {fmt_num(root, 3)}"
                if text not in out:
                    out.append(text)
    return out


ADAM_PAIRS = ((5, 1), (1, -1), (5, -1), (1, 11), (1, -11), (2, -2), (10, 2), (1, 1))


def sc_adam2(rng):
    while True:
        ps = [_signs(rng, tuple(map(float, rng.choice(ADAM_PAIRS)))) for _ in range(2)]
        if ps[0] != ps[1]:
            break
    grads = ((ps[0][0], ps[1][0]), (ps[0][1], ps[1][1]))
    theta = _ints(rng, 2, -2, 2)
    lr = rng.choice((0.3, 0.5))
    hp = optim.Hyper(lr=lr, betas=(0.5, 0.5), eps=0.0)
    world = World(theta, grads=grads)
    nbc = ("You left out the bias correction: divide m by 1 − β₁ᵗ and v by 1 − β₂ᵗ "
           "(at t = 2: 1 − 0.5² = 0.75).")
    step = ("At step 2 the correction uses t = 2: 1 − β² = 0.75, not 1 − β = 0.5.")
    qs = [
        Q(Spec("adam", hp, 2, "params"), "theta_2", "θ₂", "θ after 2 Adam steps", ("adam",),
          [("no-bias-correction", nbc, "no-bias-correction"),
           ("bias-correction-step", step, "bias-correction-step"),
           ("sign", SIGN_MSG, "sign")]),
        Q(Spec("adam", hp, 2, "m_hat"), "m_hat", "m̂₂", "the bias-corrected m after step 2",
          ("adam",), [("no-bias-correction", nbc, "no-bias-correction"),
                      ("bias-correction-step", step, "bias-correction-step"),
                      ("sign", MHAT_SIGN, "sign")]),
        Q(Spec("adam", hp, 2, "v_hat"), "v_hat", "v̂₂", "the bias-corrected v after step 2",
          ("adam",), [("no-bias-correction", nbc, "no-bias-correction"),
                      ("bias-correction-step", step, "bias-correction-step"),
                      ("sign", VHAT_SIGN, "sign")]),
    ]
    qs[0].need = ("no-bias-correction",)
    gl = [f"  g{_sub(k + 1)} = {vec(g)}" for k, g in enumerate(grads)]
    body = [f"Parameters θ₀ = {vec(theta)}. The gradients of 2 steps are given:", *gl,
            f"Adam with η = {num(lr)}, betas = (0.5, 0.5) (small, to keep the numbers",
            "short), ε = 0 (negligible). m and v start at 0; t = 1 at the first step."]
    return world, qs, body, {"rule": "adam", "lr": lr, "betas": [0.5, 0.5], "eps": 0.0,
                             "weight_decay": 0.0, "steps": 2}


def sc_surface_momentum(rng):
    surf = NOTES if rng.random() < 0.7 else rng.choice(QUADRATICS)
    start = (4.0, 4.0) if rng.random() < 0.3 else _ints(rng, 2, -3, 3)
    lr = rng.choice((0.1, 0.05))
    mu = rng.choice((0.9, 0.5))
    hp = optim.Hyper(lr=lr, momentum=mu)
    world = World(start, surface=surf)
    stale = ("The second step needs the gradient at the NEW point θ₁, not ∇f(θ₀) again.")
    qs = [
        Q(Spec("momentum", hp, 2, "params"), "theta_2", "θ₂", "θ after 2 momentum steps",
          ("momentum",),
          [("stale-gradient", stale, "stale-gradient"),
           ("no-momentum", ("That is plain SGD twice; the second step adds β times the "
                           "first step's buffer."), "no-momentum"),
           ("momentum-form", ("That is the EMA form v = βv + (1 − β)g; this problem uses "
                             "PyTorch's b = βb + g."), "momentum-form"),
           ("dampening", DAMP_MSG, "dampening"),
           ("momentum-order", ("Update the buffer with the new gradient first, then step "
                              "with the new buffer."), "momentum-order"),
           ("cross-term", "Your gradient left out the cross term c·xy.", "cross-term")]),
        Q(Spec("momentum", hp, 2, "grad_at_1"), "grad_1", "∇f(θ₁)",
          "the gradient at θ₁ (after the first step)", ("momentum",),
          [("stale-gradient", stale, "stale-gradient"),
           ("cross-term", "The cross term c·xy adds c·y to ∂f/∂x and c·x to ∂f/∂y.",
            "cross-term")]),
        Q(Spec("nesterov", hp, 2, "params"), "theta_2_nesterov", "θ₂ (Nesterov)",
          "θ after 2 Nesterov steps", ("nesterov",),
          [("nesterov-as-momentum", ("That is plain momentum; PyTorch's Nesterov steps with "
                                    "g + β·b, not b."), "nesterov-as-momentum"),
           ("stale-gradient", stale, "stale-gradient")]),
    ]
    qs[0].need = ("stale-gradient", "no-momentum")
    body = [f"f(x, y) = {surface_text(world)},  start θ₀ = (x, y) = {vec(start)}.",
            f"SGD with momentum, η = {num(lr)}, β = {num(mu)}, in PyTorch's form:",
            "  b ← β·b + g (the first step sets b = g),  θ ← θ − η·b,  g = ∇f(θ) at the",
            "  current θ. Nesterov (nesterov=True): same b, θ ← θ − η·(g + β·b)."]
    return world, qs, body, {"rule": "momentum", "lr": lr, "momentum": mu, "nesterov": False,
                             "dampening": 0.0, "momentum_form": "pytorch", "steps": 2}


def sc_adamw(rng):
    n = rng.choice((2, 3))
    lam = rng.choice((0.5, 0.25, 1.0))
    lr = rng.choice((0.1, 0.5))
    while True:
        theta = _ints(rng, n, -4, 4)
        g = tuple(float(rng.choice((-2, -1, -0.5, 0.5, 1, 2))) for _ in range(n))
        flips = [x * (x + lam * p) < 0 for x, p in zip(g, theta)]
        if any(flips) and all(x + lam * p != 0 for x, p in zip(g, theta)):
            break
    hp = optim.Hyper(lr=lr, betas=(0.9, 0.999), eps=0.0, weight_decay=lam)
    world = World(theta, grads=(g,))
    l2_msg = ("That is Adam + L2 (λθ added to the gradient, so it passes through m and v); "
              "AdamW shrinks the weights directly: θ ← θ − ηλθ, then Adam on the raw g.")
    dw_msg = ("That is AdamW's decoupled decay; Adam's weight_decay is L2: g ← g + λθ "
              "before the moments, and nothing else.")
    qs = [
        Q(Spec("adamw", hp, 1, "params"), "theta_1_adamw", "θ₁ (AdamW)",
          "θ after one AdamW step", ("adamw",),
          [("l2-vs-decoupled", l2_msg, "l2-vs-decoupled"),
           ("decay-no-lr", ("PyTorch's AdamW multiplies the decay by the learning rate: "
                           "θ ← θ − η·λ·θ, not θ − λ·θ."), "decay-no-lr"),
           ("no-weight-decay", "You left out the weight decay.", "no-weight-decay"),
           ("sign", SIGN_MSG, "sign")]),
        Q(Spec("adam", hp, 1, "params"), "theta_1_adam_l2", "θ₁ (Adam + L2)",
          "θ after one Adam step with weight_decay (L2)", ("adam", "adamw"),
          [("l2-vs-decoupled", dw_msg, "l2-vs-decoupled"),
           ("no-weight-decay", ("You left out the weight decay: here it flips the sign of "
                               "some gradients, and Adam's first step is η·sign(g + λθ)."),
            "no-weight-decay"),
           ("sign", SIGN_MSG, "sign")]),
        Q(Spec("adam", hp, 1, "l2_grad"), "g_l2", "g + λθ",
          "the gradient Adam + L2 feeds into m and v", ("adamw",),
          [("l2-vs-decoupled", ("That is the raw gradient, what AdamW's moments see; "
                               "with L2 the moments see g + λθ."), "l2-vs-decoupled"),
           ("l2-factor", "The L2 term (λ/2)‖θ‖² has gradient λθ, not λθ/2.", "l2-factor"),
           ("l2-lr", "λθ is added to the gradient as is; η comes later, in the step.",
            "l2-lr"),
           ("sign", "The penalty (λ/2)‖θ‖² adds +λθ to the gradient.", "sign")],
          ("L2 (PyTorch's Adam weight_decay): g ← g + λ·θ",)),
    ]
    qs[0].need = qs[1].need = ("l2-vs-decoupled",)
    body = [f"Parameters θ₀ = {vec(theta)}, gradient g = {vec(g)} (first step, t = 1).",
            (f"η = {num(lr)}, betas = (0.9, 0.999), ε = 0 (negligible), weight decay "
            f"λ = {num(lam)}."),
            "Compare torch.optim.AdamW (decoupled: θ ← θ − ηλθ, then Adam on g) with",
            "torch.optim.Adam(weight_decay=λ) (L2: g ← g + λθ, then Adam)."]
    return world, qs, body, {"rule": "adamw", "lr": lr, "betas": [0.9, 0.999], "eps": 0.0,
                             "weight_decay": lam, "steps": 1}


# ε and gradients with g² + ε a square: 0.08² + 0.0036 = 0.1², 0.05² + 0.0144 = 0.13², …
EPS_INSIDE = ((0.0036, (0.08, 0.045)), (0.0144, (0.05, 0.09, 0.16, 0.035)))


def sc_eps(rng):
    n = 2
    g = _signs(rng, tuple(rng.choice((0.03, 0.04, 0.05, 0.02)) for _ in range(n)))
    eps = rng.choice((0.01, 0.02))
    inside = rng.random() < 0.4
    if inside:  # g² + ε a perfect square: √(v̂ + ε) without a calculator
        eps, pool = rng.choice(EPS_INSIDE)
        g = _signs(rng, tuple(rng.choice(pool) for _ in range(n)))
    theta = _ints(rng, n, -3, 3)
    lr = rng.choice((0.1, 0.2))
    hp = optim.Hyper(lr=lr, betas=(0.9, 0.999), eps=eps)
    world = World(theta, grads=(g,))
    where = ("INSIDE the square root, m̂/√(v̂ + ε) (the TensorFlow-style placement)"
             if inside else "OUTSIDE the square root, m̂/(√v̂ + ε) (PyTorch's placement)")
    place = ("This problem puts ε inside the square root: m̂/√(v̂ + ε)." if inside else
             "PyTorch adds ε after the square root: m̂/(√v̂ + ε).")
    qs = [
        Q(Spec("adam", hp, 1, "params", eps_inside=inside), "theta_1", "θ₁",
          "θ after one Adam step", ("adam",),
          [("eps-placement", place, "eps-placement"),
           ("eps-ignored", ("With gradients this small ε is not negligible: keep it in the "
                           "denominator."), "eps-ignored"),
           ("no-bias-correction", ("Bias-correct first: at t = 1, m̂ = m/(1 − β₁) = g and "
                                  "v̂ = v/(1 − β₂) = g²."), "no-bias-correction"),
           ("sign", SIGN_MSG, "sign")]),
        Q(Spec("adam", hp, 1, "v_hat", eps_inside=inside), "v_hat", "v̂₁",
          "the bias-corrected second moment", ("adam",),
          [("no-bias-correction", "That is v₁ = 0.001·g²; v̂₁ = v₁/(1 − β₂) = g².",
            "no-bias-correction"),
           ("eps-in-v", "ε is not part of v̂; it only enters the update's denominator.",
            "eps-in-v"),
           ("not-squared", "v̂ is built from squared gradients: v̂₁ = g².", "not-squared"),
           ("sign", VHAT_SIGN, "sign")]),
    ]
    qs[0].need = ("eps-placement",)
    body = [f"Parameters θ₀ = {vec(theta)}, gradient g = {vec(g)} (tiny: a flat region).",
            f"One Adam step (t = 1): η = {num(lr)}, betas = (0.9, 0.999), ε = {num(eps)}.",
            f"Here ε is added {where}."]
    return world, qs, body, {"rule": "adam", "lr": lr, "betas": [0.9, 0.999], "eps": eps,
                             "eps_placement": "inside" if inside else "outside",
                             "weight_decay": 0.0, "steps": 1}


SCENARIOS: dict[int, tuple[Callable, ...]] = {
    1: (sc_sgd_surface, sc_clip, sc_adam1),
    2: (lambda rng: sc_momentum(rng, 2), sc_adaptive, sc_adam2, sc_surface_momentum),
    3: (sc_adamw, sc_eps, lambda rng: sc_momentum(rng, 3), lambda rng: sc_clip(rng, True)),
}


def _json_extra(world: World, qs: list[Q], base: dict) -> tuple[tuple[str, Any], ...]:
    per_q = []
    for q in qs:
        s, hp = q.spec, q.spec.hp
        d: dict[str, Any] = {"wrt": q.wrt, "rule": s.rule, "quantity": s.quantity,
                             "steps": s.steps, "lr": hp.lr}
        if s.rule in ("momentum", "nesterov"):
            d |= {"momentum": hp.momentum, "nesterov": s.rule == "nesterov",
                  "momentum_form": "ema" if hp.ema else "pytorch"}
        if s.rule == "rmsprop":
            d["alpha"] = hp.alpha
        if s.rule in ("adam", "adamw"):
            d |= {"betas": list(hp.betas), "weight_decay": hp.weight_decay,
                  "decoupled_weight_decay": s.rule == "adamw",
                  "eps_placement": "inside" if s.eps_inside else "outside"}
        if s.rule in ("adagrad", "rmsprop", "adam", "adamw"):
            d["eps"] = hp.eps
        if s.clip:
            d["max_norm" if s.clip[0] == "norm" else "clip_value"] = s.clip[1]
        per_q.append(d)
    extra = dict(base)
    extra["initial_params"] = list(world.theta0)
    extra["initial_state"] = {k: (list(v) if isinstance(v, tuple) else v)
                              for k, v in optim.init_state(base["rule"], world.n).items()}
    if world.grads is not None:
        extra["grads"] = [list(g) for g in world.grads]
        extra["loss_note"] = ("no loss is given: loss_scalar is g1·θ, whose gradient at θ₀ "
                              "is the first step's gradient")
    else:
        a, b, c, k = world.surface
        extra["surface"] = {"f": loss_text(world), "params": ["theta_0", "theta_1"],
                            "coefficients": {"x^2": a, "y^2": b, "xy": c, "const": k},
                            "gradient": "exact gradient of f at the current parameters, "
                                        "taken before each step"}
    extra["questions_setup"] = per_q
    return tuple(extra.items())


def _close(a, b, rtol: float) -> bool:
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= rtol * np.abs(b) + 1e-9))


def _wrap(lines: list[str]) -> list[str]:
    import textwrap

    out: list[str] = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip()))
        out += textwrap.wrap(line, 78, subsequent_indent=indent + "  ") or [""]
    return out


def generate(seed: int, difficulty: int, form: str) -> BasicProblem:
    import numpy as np

    rng = random.Random(f"optimizer/{seed}/{difficulty}")
    scenario = rng.choice(SCENARIOS[difficulty])
    for _ in range(200):
        world, qs, body, base = scenario(rng)
        try:
            asked = tuple(_build(world, q, qs[i + 1:]) for i, q in enumerate(qs))
        except (ZeroDivisionError, ValueError, OverflowError):
            continue
        values = [a.target.value for a in asked]
        if not all(not _close(values[i], values[j], 0.01)
                   for i in range(len(values)) for j in range(i + 1, len(values))):
            continue
        if any(q.spec.quantity == "params" and np.any((np.abs(v) > 0) & (np.abs(v) < 0.25))
               for q, v in zip(qs, values)):
            continue  # a small θ entry left by cancellation: 3-figure rounding swamps it
        if not all(set(q.need) <= {m.kind for m in a.target.mistakes}
                   for q, a in zip(qs, asked)):
            continue
        if any(np.max(np.abs(np.asarray(v, dtype=float))) > 200 for v in values):
            continue
        if not all(a.target.mistakes for a in asked):
            continue
        if any(q.unfair for q in qs):
            continue  # a wrong convention the grader would accept: other numbers
        asked = _full_at_end(world, qs, asked)
        body = _wrap(body)
        blocks = (Lines("", tuple(body)),)
        if not fits_screen(blocks, asked):
            continue
        given: dict[str, Any] = {"theta": np.array(world.theta0, dtype=float)}
        if world.grads is not None:
            for k, g in enumerate(world.grads):
                given[f"g{k + 1}"] = np.array(g, dtype=float)
        return BasicProblem(NAME, seed, difficulty, form, blocks, given, loss_text(world),
                            asked, _json_extra(world, qs, base))
    raise RuntimeError(f"optimizer: no friendly problem for seed {seed}")  # pragma: no cover


FAMILY = Family(
    name=NAME,
    summary="Optimizer steps by hand: SGD, momentum, Nesterov, Adagrad, RMSprop, Adam(W), "
            "gradient clipping",
    levels={1: "one step: SGD on the notes' surface, clipping by norm and by value, "
               "Adam's first step (≈ η·sign g)",
            2: "two steps: momentum (PyTorch or EMA form) and Nesterov, Adagrad and RMSprop, "
               "Adam with bias correction, momentum on the surface",
            3: "AdamW against Adam + L2, ε inside or outside √v̂, three momentum steps, "
               "clipping W and b by one global norm"},
    generate=generate,
    forms=("number",),
    order=60,
    example="[2.4, 0.8]",
)
