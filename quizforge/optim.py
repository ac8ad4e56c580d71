"""Optimizer update rules, pure and numpy-free: one step at a time on tuples of floats.

Shared by the `optimizer` drill family (which grades with it) and `quizforge viz` (which draws
the paths it produces). Every rule follows PyTorch's documented algorithm (the pseudo-code on
the torch.optim.SGD / Adagrad / RMSprop / Adam / AdamW pages) with its defaults switched off
(no dampening, no lr_decay, no centering, no amsgrad, no maximize), except where noted:

- "sgd":      θ ← θ − γ·g
- "momentum": PyTorch form  b ← μ·b + g (b₁ = g),          θ ← θ − γ·b
              EMA form (hp.ema) v ← β·v + (1−β)·g (v₀ = 0), θ ← θ − γ·v
- "nesterov": b as for "momentum",                         θ ← θ − γ·(g + μ·b)
              EMA form: θ ← θ − γ·((1−β)·g + β·v)  (the EMA analogue; PyTorch has none)
- "adagrad":  sum ← sum + g²,                              θ ← θ − γ·g / (√sum + ε)
- "rmsprop":  square_avg ← α·square_avg + (1−α)·g²,        θ ← θ − γ·g / (√square_avg + ε)
              (plain RMSprop: hp.momentum is not used by this rule)
- "adam":     m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ),
              θ ← θ − γ·m̂ / (√v̂ + ε)                       (ε outside the square root)
- "adamw":    θ ← θ − γ·λ·θ first (decoupled decay), then the Adam step with the raw g.

For every rule but "adamw", weight_decay λ is PyTorch's L2 form: g ← g + λ·θ before anything
else (so "adam" with weight_decay is "Adam + L2"). The state dict uses PyTorch's names:
"step" (t, counted from 1 after the first step), "momentum_buffer", "sum", "square_avg",
"exp_avg" (m), "exp_avg_sq" (v). `step` never mutates its arguments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "RULES",
    "Hyper",
    "bias_corrected",
    "clip_by_global_norm",
    "clip_by_value",
    "global_norm",
    "init_state",
    "step",
]

RULES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")

Vec = tuple[float, ...]


@dataclass(frozen=True)
class Hyper:
    """Hyperparameters by PyTorch's names. `momentum` is μ (or β of the EMA form when `ema`);
    `alpha` is RMSprop's smoothing constant; `betas` are Adam's (β₁, β₂)."""

    lr: float
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    alpha: float = 0.99
    ema: bool = False


_STATE_KEYS = {
    "sgd": (),
    "momentum": ("momentum_buffer",),
    "nesterov": ("momentum_buffer",),
    "adagrad": ("sum",),
    "rmsprop": ("square_avg",),
    "adam": ("exp_avg", "exp_avg_sq"),
    "adamw": ("exp_avg", "exp_avg_sq"),
}


def _check_rule(rule: str) -> None:
    if rule not in _STATE_KEYS:
        raise ValueError(f"unknown optimizer rule {rule!r}; expected one of {', '.join(RULES)}")


def init_state(rule: str, n: int) -> dict[str, Vec | int]:
    """The state before the first step: step 0 and zero buffers of length n."""
    _check_rule(rule)
    state: dict[str, Vec | int] = {"step": 0}
    for key in _STATE_KEYS[rule]:
        state[key] = (0.0,) * n
    return state


def step(rule: str, theta: Vec, grad: Vec, state: dict, hp: Hyper) -> tuple[Vec, dict]:
    """One update: returns (new θ, new state). `grad` is ∇f(θ) at the current θ."""
    _check_rule(rule)
    theta = tuple(float(x) for x in theta)
    g = tuple(float(x) for x in grad)
    if len(g) != len(theta):
        raise ValueError(f"gradient has {len(g)} entries, parameters {len(theta)}")
    t = int(state.get("step", 0)) + 1
    new: dict[str, Vec | int] = {"step": t}
    lr, wd = hp.lr, hp.weight_decay

    if rule == "adamw":
        # Decoupled: the weights shrink by γλθ; the gradient fed to the moments is untouched.
        theta = tuple(p - lr * wd * p for p in theta)
    elif wd:
        g = tuple(gi + wd * p for gi, p in zip(g, theta))

    if rule == "sgd":
        d = g
    elif rule in ("momentum", "nesterov"):
        mu = hp.momentum
        prev = state.get("momentum_buffer", (0.0,) * len(g))
        if hp.ema:
            b = tuple(mu * bi + (1.0 - mu) * gi for bi, gi in zip(prev, g))
        elif t == 1:
            b = g
        else:
            b = tuple(mu * bi + gi for bi, gi in zip(prev, g))
        new["momentum_buffer"] = b
        if rule == "momentum":
            d = b
        elif hp.ema:
            d = tuple((1.0 - mu) * gi + mu * bi for gi, bi in zip(g, b))
        else:
            d = tuple(gi + mu * bi for gi, bi in zip(g, b))
    elif rule == "adagrad":
        s = tuple(si + gi * gi for si, gi in zip(state["sum"], g))
        new["sum"] = s
        d = tuple(gi / (math.sqrt(si) + hp.eps) for gi, si in zip(g, s))
    elif rule == "rmsprop":
        a = hp.alpha
        v = tuple(a * vi + (1.0 - a) * gi * gi for vi, gi in zip(state["square_avg"], g))
        new["square_avg"] = v
        d = tuple(gi / (math.sqrt(vi) + hp.eps) for gi, vi in zip(g, v))
    else:  # adam, adamw
        b1, b2 = hp.betas
        m = tuple(b1 * mi + (1.0 - b1) * gi for mi, gi in zip(state["exp_avg"], g))
        v = tuple(b2 * vi + (1.0 - b2) * gi * gi for vi, gi in zip(state["exp_avg_sq"], g))
        new["exp_avg"], new["exp_avg_sq"] = m, v
        m_hat, v_hat = bias_corrected(new, hp)
        d = tuple(mh / (math.sqrt(vh) + hp.eps) for mh, vh in zip(m_hat, v_hat))

    return tuple(p - lr * di for p, di in zip(theta, d)), new


def bias_corrected(state: dict, hp: Hyper) -> tuple[Vec, Vec]:
    """Adam's (m̂, v̂) from a state after `step`: m/(1−β₁ᵗ), v/(1−β₂ᵗ)."""
    t = int(state["step"])
    if t < 1:
        raise ValueError("bias correction needs at least one step (t ≥ 1)")
    b1, b2 = hp.betas
    c1, c2 = 1.0 - b1**t, 1.0 - b2**t
    return (
        tuple(mi / c1 for mi in state["exp_avg"]),
        tuple(vi / c2 for vi in state["exp_avg_sq"]),
    )


def global_norm(grads: Vec) -> float:
    """‖g‖₂ over all entries together, as if concatenated into one vector."""
    return math.sqrt(sum(float(x) * float(x) for x in grads))


def clip_by_global_norm(grads: Vec, max_norm: float, *, eps: float = 1e-6) -> Vec:
    """torch.nn.utils.clip_grad_norm_: scale every entry by max_norm/(‖g‖ + eps) when that is
    below 1, else leave g alone. PyTorch's implementation adds eps = 1e-6 to the norm; pass
    eps=0.0 for the textbook g·max_norm/‖g‖."""
    g = tuple(float(x) for x in grads)
    norm = global_norm(g)
    if norm == 0.0:
        return g
    coef = float(max_norm) / (norm + eps)
    if coef >= 1.0:
        return g
    return tuple(x * coef for x in g)


def clip_by_value(grads: Vec, clip_value: float) -> Vec:
    """torch.nn.utils.clip_grad_value_: clamp every entry to [−clip_value, clip_value]."""
    c = float(clip_value)
    return tuple(min(max(float(x), -c), c) for x in grads)
