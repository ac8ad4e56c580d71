"""quizforge.optim against hand-worked goldens.

Every golden below was worked out on paper from PyTorch's documented algorithms, not by running
quizforge.optim:
- SGD (momentum, Nesterov, L2 weight decay; b₁ = g, bₜ = μbₜ₋₁ + g, Nesterov uses g + μbₜ):
  https://pytorch.org/docs/1.13/generated/torch.optim.SGD.html
- Adagrad (state_sum += g², θ −= γ·g/(√state_sum + ε)):
  https://pytorch.org/docs/1.12/generated/torch.optim.Adagrad.html
- RMSprop (v = αv + (1−α)g², θ −= γ·g/(√v + ε), ε outside the square root):
  https://pytorch.org/docs/1.10/_modules/torch/optim/rmsprop.html
- Adam (m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), θ −= γ·m̂/(√v̂ + ε); weight_decay adds λθ to g):
  https://pytorch.org/docs/1.13/generated/torch.optim.Adam.html
- AdamW (θ −= γλθ before the Adam step, the moments see the raw gradient):
  https://docs.pytorch.org/docs/stable/_modules/torch/optim/adamw.html
- clip_grad_norm_ (one norm over all gradients "as if concatenated into a single vector",
  clip_coef = max_norm/(total_norm + 1e-6), applied only when < 1):
  https://pytorch.org/docs/1.8.1/_modules/torch/nn/utils/clip_grad.html
"""

from __future__ import annotations

import pytest

from quizforge import optim
from quizforge.optim import Hyper


def approx(xs, **kw):
    return pytest.approx(tuple(xs), rel=1e-9, abs=1e-12, **kw)


def run(rule, theta, grads, hp):
    state = optim.init_state(rule, len(theta))
    out = []
    for g in grads:
        theta, state = optim.step(rule, theta, g, state, hp)
        out.append((theta, state))
    return out


# --- the notes' surface -------------------------------------------------------------------

def notes_f(x, y):
    return x * x + 3 * y * y + 2 * x * y + 5


def notes_grad(x, y):
    return (2 * x + 2 * y, 6 * y + 2 * x)


def test_notes_surface_one_sgd_step():
    assert notes_f(4, 4) == 101
    assert notes_grad(4, 4) == (16, 32)
    theta, state = optim.step("sgd", (4.0, 4.0), notes_grad(4, 4), optim.init_state("sgd", 2),
                              Hyper(lr=0.1))
    assert theta == approx((2.4, 0.8))
    assert notes_f(*theta) == pytest.approx(16.52, rel=1e-12)
    assert state["step"] == 1


# --- per rule ----------------------------------------------------------------------------

def test_sgd():
    [(theta, _)] = run("sgd", (1.0, 2.0), [(0.5, -1.0)], Hyper(lr=0.1))
    assert theta == approx((0.95, 2.1))


def test_sgd_l2_weight_decay():
    # g' = g + λθ = (0.5 + 0.5·1, −1 + 0.5·2) = (1, 0); θ = (1 − 0.1, 2)
    [(theta, _)] = run("sgd", (1.0, 2.0), [(0.5, -1.0)], Hyper(lr=0.1, weight_decay=0.5))
    assert theta == approx((0.9, 2.0))


def test_momentum_pytorch_form():
    # b₁ = g₁ = 2 → θ = 1 − 0.2 = 0.8; b₂ = 0.9·2 + 1 = 2.8 → θ = 0.8 − 0.28 = 0.52
    (t1, s1), (t2, s2) = run("momentum", (1.0,), [(2.0,), (1.0,)], Hyper(lr=0.1, momentum=0.9))
    assert t1 == approx((0.8,)) and s1["momentum_buffer"] == approx((2.0,))
    assert t2 == approx((0.52,)) and s2["momentum_buffer"] == approx((2.8,))
    assert s2["step"] == 2


def test_momentum_ema_form():
    # v₁ = 0.1·2 = 0.2 → θ = 0.98; v₂ = 0.9·0.2 + 0.1·1 = 0.28 → θ = 0.98 − 0.028 = 0.952
    (t1, s1), (t2, s2) = run("momentum", (1.0,), [(2.0,), (1.0,)],
                             Hyper(lr=0.1, momentum=0.9, ema=True))
    assert t1 == approx((0.98,)) and s1["momentum_buffer"] == approx((0.2,))
    assert t2 == approx((0.952,)) and s2["momentum_buffer"] == approx((0.28,))


def test_nesterov():
    # b₁ = 2, step g + μb = 2 + 1.8 = 3.8 → θ = 0.62
    # b₂ = 2.8, step 1 + 0.9·2.8 = 3.52 → θ = 0.62 − 0.352 = 0.268
    (t1, _), (t2, s2) = run("nesterov", (1.0,), [(2.0,), (1.0,)], Hyper(lr=0.1, momentum=0.9))
    assert t1 == approx((0.62,))
    assert t2 == approx((0.268,))
    assert s2["momentum_buffer"] == approx((2.8,))


def test_adagrad():
    # sum = (9, 16) → step (3/3, −4/4) = (1, −1) → θ = (0.9, 1.1)
    # sum = (25, 25) → step (4/5, 3/5) → θ = (0.82, 1.04)
    (t1, s1), (t2, s2) = run("adagrad", (1.0, 1.0), [(3.0, -4.0), (4.0, 3.0)],
                             Hyper(lr=0.1, eps=0.0))
    assert t1 == approx((0.9, 1.1)) and s1["sum"] == approx((9.0, 16.0))
    assert t2 == approx((0.82, 1.04)) and s2["sum"] == approx((25.0, 25.0))


def test_rmsprop():
    # α = 0.75: v₁ = 0.25·4 = 1 → step 2/1 → θ = 0.8; v₂ = 0.75 + 0.25·1 = 1 → step −1 → 0.9
    (t1, s1), (t2, s2) = run("rmsprop", (1.0,), [(2.0,), (-1.0,)],
                             Hyper(lr=0.1, alpha=0.75, eps=0.0))
    assert t1 == approx((0.8,)) and s1["square_avg"] == approx((1.0,))
    assert t2 == approx((0.9,)) and s2["square_avg"] == approx((1.0,))


def test_rmsprop_eps_outside_sqrt():
    # v = 0.25·4 = 1, ε = 3: outside 2/(1 + 3) = 0.5 (inside would be 2/√4 = 1)
    [(theta, _)] = run("rmsprop", (1.0,), [(2.0,)], Hyper(lr=0.1, alpha=0.75, eps=3.0))
    assert theta == approx((0.95,))


def test_adam_first_step_is_lr_times_sign():
    # m = (0.2, −0.05), v = (0.004, 0.00025), m̂ = (2, −0.5), v̂ = (4, 0.25) → step (1, −1)
    [(theta, s)] = run("adam", (1.0, 1.0), [(2.0, -0.5)], Hyper(lr=0.1, eps=0.0))
    assert theta == approx((0.9, 1.1))
    assert s["exp_avg"] == approx((0.2, -0.05))
    assert s["exp_avg_sq"] == approx((0.004, 0.00025))
    m_hat, v_hat = optim.bias_corrected(s, Hyper(lr=0.1))
    assert m_hat == approx((2.0, -0.5))
    assert v_hat == approx((4.0, 0.25))


def test_adam_two_steps_betas_half():
    # β = (0.5, 0.5): m₁ = 1, v₁ = 2, m̂ = 2, v̂ = 4 → θ = 0.9
    # m₂ = 0.5 − 1 = −0.5, v₂ = 1 + 2 = 3, m̂ = −0.5/0.75 = −2/3, v̂ = 3/0.75 = 4
    # step −(2/3)/2 = −1/3 → θ = 0.9 + 1/30
    hp = Hyper(lr=0.1, betas=(0.5, 0.5), eps=0.0)
    (t1, _), (t2, s2) = run("adam", (1.0,), [(2.0,), (-2.0,)], hp)
    assert t1 == approx((0.9,))
    assert t2 == approx((0.9 + 1 / 30,))
    m_hat, v_hat = optim.bias_corrected(s2, hp)
    assert m_hat == approx((-2 / 3,)) and v_hat == approx((4.0,))


def test_adam_l2_versus_adamw():
    # θ = 2, g = −0.5, λ = 0.5, γ = 0.1, β = (0.5, 0.5), ε = 0
    # Adam + L2: g' = −0.5 + 1 = 0.5 → first step +1·γ → θ = 1.9
    # AdamW: θ ← 2 − 0.1·0.5·2 = 1.9, then Adam on g = −0.5 → −γ → θ = 2.0
    # plain Adam: → 2.1
    hp = Hyper(lr=0.1, betas=(0.5, 0.5), eps=0.0, weight_decay=0.5)
    [(l2, _)] = run("adam", (2.0,), [(-0.5,)], hp)
    [(w, sw)] = run("adamw", (2.0,), [(-0.5,)], hp)
    [(plain, _)] = run("adam", (2.0,), [(-0.5,)], Hyper(lr=0.1, betas=(0.5, 0.5), eps=0.0))
    assert l2 == approx((1.9,))
    assert w == approx((2.0,))
    assert plain == approx((2.1,))
    assert sw["exp_avg"] == approx((-0.25,))  # the moments never saw λθ


def test_clip_by_global_norm():
    assert optim.clip_by_global_norm((3.0, 4.0), 1.0, eps=0.0) == approx((0.6, 0.8))
    # PyTorch's 1e-6 in the denominator
    c = 1.0 / (5.0 + 1e-6)
    assert optim.clip_by_global_norm((3.0, 4.0), 1.0) == approx((3 * c, 4 * c))
    assert optim.clip_by_global_norm((0.3, 0.4), 1.0) == approx((0.3, 0.4))
    assert optim.clip_by_global_norm((0.0, 0.0), 1.0, eps=0.0) == (0.0, 0.0)
    # one norm over all entries: ‖(1, 2, 2)‖ = 3 → every entry × 1.5/3
    assert optim.clip_by_global_norm((1.0, 2.0, 2.0), 1.5, eps=0.0) == approx((0.5, 1.0, 1.0))
    assert optim.global_norm((1.0, 2.0, 2.0)) == 3.0


def test_clip_by_value():
    assert optim.clip_by_value((3.0, -4.0, 0.5), 1.0) == approx((1.0, -1.0, 0.5))


# --- contract ----------------------------------------------------------------------------

@pytest.mark.parametrize("rule", optim.RULES)
def test_step_does_not_mutate_and_counts(rule):
    state = optim.init_state(rule, 2)
    before = dict(state)
    theta, new = optim.step(rule, (1.0, -1.0), (0.5, 0.25), state, Hyper(lr=0.01))
    assert state == before
    assert new["step"] == 1 and state["step"] == 0
    assert len(theta) == 2 and all(isinstance(x, float) for x in theta)
    for key, val in new.items():
        if key != "step":
            assert isinstance(val, tuple) and len(val) == 2


def test_init_state_names():
    assert optim.init_state("sgd", 2) == {"step": 0}
    assert optim.init_state("momentum", 2) == {"step": 0, "momentum_buffer": (0.0, 0.0)}
    assert set(optim.init_state("adam", 1)) == {"step", "exp_avg", "exp_avg_sq"}
    assert set(optim.init_state("adagrad", 1)) == {"step", "sum"}
    assert set(optim.init_state("rmsprop", 1)) == {"step", "square_avg"}


def test_unknown_rule_and_bad_lengths():
    with pytest.raises(ValueError, match="unknown optimizer rule"):
        optim.init_state("lion", 2)
    with pytest.raises(ValueError, match="entries"):
        optim.step("sgd", (1.0, 2.0), (1.0,), {"step": 0}, Hyper(lr=0.1))


def test_module_does_not_import_numpy():
    import subprocess
    import sys

    code = "import sys, quizforge.optim; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
