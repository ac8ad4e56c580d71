"""The numbers the bundled decks state, recomputed independently of the card text.

Each test reads a card from its deck file and checks what the card claims (its key, its
distractors' stories, its worked values) against a computation written here from the
definitions, never against the card itself.
"""

from __future__ import annotations

import math
import re

import pytest
from deck_ref import DECKS, find_card, key, load_deck, num, offers

from quizforge.decks.model import MCQ, Deck, Flashcard


def deck(name: str) -> Deck:
    return load_deck(DECKS / f"{name}.yaml")


def card(name: str, card_id: str):
    return find_card(deck(name), card_id)


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# -- backprop ------------------------------------------------------------------------------


def test_worked_example_numeric():
    x, w, b, y = 2, 3, 1, 5
    z3 = w * x + b - y
    back = card("backprop", "worked-example-numeric").back
    assert f"L = {z3**2}" in back and f"∂L/∂w = 4·x = {2 * z3 * x}" in back


def test_worked_example_dw_value_mcq():
    c = card("backprop", "worked-example-dw-value")
    x, w, b, y = 3, 2, -1, 1
    assert "x = 3, w = 2, b = −1, y = 1" in c.question
    up = 2 * (w * x + b - y)
    assert num(key(c)) == up * x  # ∂L/∂w
    distractors = {up, up * w, 2 * (w * x + b) * x}  # ∂L/∂b, ∂L/∂x, forgot y
    assert {num(ch) for ch in c.choices} == {up * x} | distractors


def test_manual_neuron_mcq():
    c = card("backprop", "manual-neuron-mcq")
    x, w, b, y = 3, -0.2, 0.1, 0
    yh = sigmoid(w * x + b)
    assert f"≈ {yh:.3f}" in c.question
    db = 2 * (yh - y) * yh * (1 - yh)
    assert round(num(key(c)), 3) == round(db * x, 3)
    for wrong in (db, -db * x, 2 * (yh - y) * x):
        offers(c, wrong, 3)


def test_manual_neuron_numeric_flashcard():
    x, w, b, y = 2, 0.5, 0.1, 1
    yh = sigmoid(w * x + b)
    db = 2 * (yh - y) * yh * (1 - yh)
    back = card("backprop", "manual-neuron-numeric").back
    assert f"∂L/∂b = 2(−0.2497)(0.1874) ≈ {db:.4f}".replace("-", "−") in back
    assert f"≈ {db * x:.4f}".replace("-", "−") in back


def test_softmax_ce_gradient_mcq():
    c = card("backprop", "softmax-ce-gradient-mcq")
    p, y = (0.1, 0.6, 0.3), (0, 1, 0)
    grad = tuple(round(pi - yi, 2) for pi, yi in zip(p, y))
    assert key(c) == "(" + ", ".join(f"{g:g}" for g in grad).replace("-", "−") + ")"


def test_one_cycle_stepped_per_epoch_never_leaves_warmup():
    # PyTorch OneCycleLR, cosine annealing: phase 1 runs from max_lr/25 to max_lr over
    # steps 0 … pct_start·total − 1.
    max_lr, total, pct = 0.01, 1000, 0.3
    start, end_step = max_lr / 25, pct * total - 1
    steps_taken = 10  # once per epoch, 10 epochs
    lr = max_lr + (start - max_lr) / 2 * (1 + math.cos(math.pi * steps_taken / end_step))
    assert steps_taken < end_step
    assert lr == pytest.approx(start, rel=0.1)
    assert "0.0004" in card("backprop", "one-cycle-step-mcq").explanation
    assert max_lr / 25 == pytest.approx(0.0004)


def test_cosine_annealing_values():
    def eta(t, T=100, hi=0.1, lo=0.0):
        return lo + 0.5 * (hi - lo) * (1 + math.cos(math.pi * t / T))

    assert eta(50) == pytest.approx(0.05) and eta(100) == pytest.approx(0)
    c = card("backprop", "cosine-midpoint-mcq")
    assert round(num(key(c)), 3) == round(eta(25), 3)


def test_rmsprop_epsilon_inside_the_root():
    # With s → 0 the denominator is √ε inside the root, ε outside.
    assert math.sqrt(1e-8) == pytest.approx(1e-4)
    assert "10⁻⁸ inside ≈ 10⁻⁴ outside" in card("backprop", "rmsprop-epsilon-tensorflow").back


def test_adam_beta2_horizon():
    assert 1 / (1 - 0.95) == pytest.approx(20) and 1 / (1 - 0.999) == pytest.approx(1000)
    assert "≈ 20 steps instead of ≈ 1000" in card("backprop", "adam-beta2-llm").back


def test_select_all_cards_vary_the_number_right():
    multi = [c for c in deck("backprop").cards if isinstance(c, MCQ) and c.multi]
    assert {len(c.answer) for c in multi} == {1, 2, 3, 4}


def test_flashcards_have_sources():
    for d in ("backprop",):
        for c in deck(d).cards:
            assert c.source, c.id
            if isinstance(c, Flashcard):
                assert c.back.strip()


# -- init-gradient-flow ---------------------------------------------------------------------

IGF = "init-gradient-flow"
AA_ID = "autograd-architectures"


def Phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def gelu(x: float) -> float:
    return x * Phi(x)


def silu(x: float) -> float:
    return x * sigmoid(x)


def slope(f, x: float, h: float = 1e-6) -> float:
    """Centred finite difference: the reference the cards' derivatives are checked against."""
    return (f(x + h) - f(x - h)) / (2 * h)


def argmin(f, lo: float, hi: float) -> float:
    for _ in range(200):  # ternary search: f is unimodal on the interval
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        lo, hi = (lo, b) if f(a) < f(b) else (a, hi)
    return (lo + hi) / 2


def test_glorot_uniform_bound_and_variance():
    r = math.sqrt(6 / (300 + 300))
    assert r == pytest.approx(0.1)
    assert "= 0.1" in card(IGF, "xavier-uniform-numeric").back
    assert r**2 / 3 == pytest.approx(2 / 600)  # U(−r, r) has variance r²/3


def test_he_std_cards():
    assert math.sqrt(2 / 512) == 0.0625
    assert "0.0625" in card(IGF, "he-std-numeric").back
    c = card(IGF, "he-std-mcq")
    assert num(key(c)) == pytest.approx(math.sqrt(2 / 800))
    for wrong in (math.sqrt(1 / 800), 2 / 800, math.sqrt(2) / 800):
        offers(c, wrong, 4 if wrong < 0.01 else 3)


def test_xavier_on_relu_halves_the_variance_per_layer():
    import numpy as np

    rng = np.random.default_rng(0)
    n, depth = 500, 10
    y = rng.standard_normal((100, n)) @ (rng.standard_normal((n, n)) / math.sqrt(n))
    second_moments = [np.mean(y**2)]
    for _ in range(depth - 1):
        w = rng.standard_normal((n, n)) / math.sqrt(n)  # Var(W) = 1/n
        y = np.maximum(y, 0) @ w
        second_moments.append(np.mean(y**2))
    per_layer = (second_moments[-1] / second_moments[0]) ** (1 / (depth - 1))
    assert per_layer == pytest.approx(0.5, abs=0.03)  # each ReLU layer halves it
    assert math.sqrt(0.5**10) == 1 / 32  # ten layers: the std shrinks 32-fold
    assert key(card(IGF, "xavier-on-relu-mcq")) == "1/32"


def test_depth_compounding_numbers():
    back = card(IGF, "depth-compounding-numeric").back
    assert f"0.9⁵⁰ ≈ {0.9**50:.4f}" in back and f"1.1⁵⁰ ≈ {1.1**50:.0f}" in back
    c = card(IGF, "jacobian-product-mcq")
    assert key(c) == f"≈ {0.8**30 * 1e3:.1f} × 10⁻³"
    assert f"{0.64**30 * 1e6:.1f} × 10⁻⁶" in " ".join(c.choices)
    assert f"{0.8 / 30:.3f}" in " ".join(c.choices)


def test_activation_slopes_against_finite_differences():
    assert slope(gelu, 0) == pytest.approx(0.5)
    assert num(key(card(IGF, "gelu-slope-mcq"))) == 0.5
    for x in (-2.0, -0.3, 0.0, 0.7, 3.0):
        s = sigmoid(x)
        assert slope(silu, x) == pytest.approx(s + x * s * (1 - s), abs=1e-8)
        assert slope(silu, x) == pytest.approx(s * (1 + x * (1 - s)), abs=1e-8)
        assert slope(gelu, x) == pytest.approx(
            Phi(x) + x * math.exp(-x * x / 2) / math.sqrt(2 * math.pi), abs=1e-8
        )
    c = card(IGF, "silu-derivative-mcq")
    assert key(c) == "σ(x) + x·σ(x)(1 − σ(x))"
    # the distractors are really different functions
    x, s = 1.0, sigmoid(1.0)
    for wrong in (s + x * s * (1 + s), x * s * (1 - s), s * (1 - s)):
        assert abs(wrong - slope(silu, x)) > 0.05


def test_gelu_and_silu_minima():
    back = card(IGF, "gelu-silu-non-monotonic").back
    g = argmin(gelu, -3, 0)
    s = argmin(silu, -4, 0)
    assert f"GELU has its minimum ≈ {gelu(g):.2f} at x ≈ {g:.2f}".replace("-", "−") in back
    assert f"SiLU has its minimum ≈ {silu(s):.2f} at x ≈ {s:.2f}".replace("-", "−") in back
    assert slope(gelu, g - 0.1) < 0 < slope(gelu, g + 0.1)


def test_leaky_relu_gain():
    c = card(IGF, "leaky-gain-mcq")
    assert num(key(c)) == pytest.approx(math.sqrt(2 / (1 + 0.2**2)), abs=5e-4)
    for wrong in (math.sqrt(2), 1.2, math.sqrt(1 + 0.2**2)):
        offers(c, wrong, 3)


def test_dead_relu_example():
    import itertools

    w, b = (1, 2), -10
    corners = itertools.product((0, 1), repeat=2)  # a linear function peaks at a corner
    assert max(w[0] * x1 + w[1] * x2 + b for x1, x2 in corners) == -7
    assert "1 + 2 − 10 = −7" in card(IGF, "dead-relu-mcq").explanation


def test_forget_gate_and_default_linear_init():
    assert f"σ(1) ≈ {sigmoid(1):.2f}" in card(IGF, "lstm-forget-bias").back
    k = 1 / 300
    assert (2 * math.sqrt(k)) ** 2 / 12 == pytest.approx(1 / (3 * 300))  # Var of U(−√k, √k)
    assert "1/(3·in_features)" in card(IGF, "torch-linear-default-init").back


@pytest.mark.parametrize(
    "name",
    ["backprop", "init-gradient-flow", "norm-regularization", "training-practice", AA_ID],
)
def test_every_card_has_a_source_and_select_all_varies(name):
    cards = deck(name).cards
    assert all(c.source for c in cards)
    multi = [c for c in cards if isinstance(c, MCQ) and c.multi]
    assert {len(c.answer) for c in multi} >= {1, 2, 3, 4}


# -- norm-regularization --------------------------------------------------------------------

NR = "norm-regularization"


def batch_norm(x, gamma=1.0, beta=0.0, eps=0.0):
    import numpy as np

    x = np.asarray(x, dtype=float)
    return gamma * (x - x.mean()) / np.sqrt(x.var() + eps) + beta


def test_batch_norm_forward_numbers():
    import numpy as np

    x = np.array([2, 4, 4, 6])
    assert (x.mean(), x.var()) == (4, 2)
    y = batch_norm(x, gamma=2, beta=1)
    back = card(NR, "bn-forward-numeric").back
    assert (
        "(" + ", ".join(f"{v:.2f}".rstrip("0").rstrip(".") for v in y).replace("-", "−") + ")"
        in back
    )


def test_running_statistics_numbers():
    import numpy as np

    x = np.array([1, 3, 5, 7])
    m = 0.1
    mean = (1 - m) * 0 + m * x.mean()
    var = (1 - m) * 1 + m * x.var(ddof=1)  # PyTorch feeds the unbiased variance
    back = card(NR, "bn-running-numeric").back
    assert f"= {mean:g}" in back and f"≈ {var:.3f}" in back
    c = card(NR, "bn-running-mean-mcq")
    assert num(key(c)) == pytest.approx(0.9 * 2.0 + 0.1 * 5.0)
    for wrong in (0.1 * 2.0 + 0.9 * 5.0, (2.0 + 5.0) / 2, 5.0):
        offers(c, wrong, 2)


def test_batch_norm_backward_against_finite_differences():
    import numpy as np

    rng = np.random.default_rng(1)
    x, g = rng.standard_normal(5), rng.standard_normal(5)
    gamma, beta, eps, h = 1.7, -0.3, 1e-5, 1e-6

    def loss(x=x, gamma=gamma, beta=beta):
        return float(g @ batch_norm(x, gamma, beta, eps))

    n, s = len(x), np.sqrt(x.var() + eps)
    xhat = (x - x.mean()) / s
    dx = gamma / (n * s) * (n * g - g.sum() - xhat * (g @ xhat))  # the card's formula
    numeric = [(loss(x + h * e) - loss(x - h * e)) / (2 * h) for e in np.eye(n)]
    assert dx == pytest.approx(numeric, abs=1e-6)
    assert g @ xhat == pytest.approx((loss(gamma=gamma + h) - loss(gamma=gamma - h)) / (2 * h))
    assert g.sum() == pytest.approx((loss(beta=beta + h) - loss(beta=beta - h)) / (2 * h))
    assert "(γ / (N s)) · (N gᵢ − Σⱼ gⱼ − x̂ᵢ Σⱼ gⱼ x̂ⱼ)" in card(NR, "bn-backward-input").back
    assert key(card(NR, "bn-gamma-grad-mcq")) == "Σᵢ gᵢ x̂ᵢ"


def test_dropout_numbers():
    import numpy as np

    rng = np.random.default_rng(0)
    p, a = 0.2, 4.0
    kept = rng.random(200_000) >= p
    out = np.where(kept, a / (1 - p), 0.0)  # inverted dropout
    assert out.mean() == pytest.approx(a, rel=0.01)
    assert num(key(card(NR, "dropout-scale-mcq"))) == a / (1 - p)
    assert "3/(1 − 0.5) = 6" in card(NR, "dropout-numeric").back


def test_label_smoothing_numbers():
    import numpy as np

    eps, k = 0.1, 10
    q = np.full(k, eps / k)
    q[0] += 1 - eps
    gap = math.log(q[0] / q[1])
    z = np.zeros(k)
    z[0] = gap
    p = np.exp(z) / np.exp(z).sum()
    assert p == pytest.approx(q)  # at that gap softmax(z) = q: the gradient p − q is 0
    back = card(NR, "label-smoothing-numeric").back
    assert f"{q[0]:.2f}" in back and f"ln 91 ≈ {gap:.2f}" in back
    c = card(NR, "label-smoothing-mcq")
    assert num(key(c)) == pytest.approx(1 - 0.1 + 0.1 / 5)


def test_weight_decay_factor():
    eta, lam, w, g = 0.1, 0.01, 3.0, 0.0
    penalty_grad = lam * w  # d/dw of (λ/2)·w²
    assert (w - eta * (g + penalty_grad)) / w == pytest.approx(0.999)
    assert num(key(card(NR, "weight-decay-factor-mcq"))) == pytest.approx(1 - eta * lam)


# -- training-practice ----------------------------------------------------------------------

TP = "training-practice"


def to_bf16(x: float) -> float:
    """Round an fp32 value to bfloat16 (keep the top 16 bits, round to nearest even)."""
    import numpy as np

    bits = int(np.array(x, dtype=np.float32).view(np.uint32))
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return float(np.array(bits, dtype=np.uint32).view(np.float32))


def test_fp16_and_bf16_facts():
    import numpy as np

    f16 = np.finfo(np.float16)
    assert float(f16.max) == 65504 and float(f16.tiny) == 2.0**-14 and float(f16.eps) == 2.0**-10
    assert float(np.float16(2.0**-24)) == 2.0**-24 and float(np.float16(2.0**-26)) == 0.0
    back = card(TP, "fp16-format").back
    assert "65504" in back and "2⁻¹⁴ ≈ 6.1 × 10⁻⁵" in back and "2⁻²⁴ ≈ 6.0 × 10⁻⁸" in back
    bf16_max = (2 - 2.0**-7) * 2.0**127
    assert to_bf16(3e38) == pytest.approx(3e38, rel=2.0**-7) and bf16_max == pytest.approx(
        3.39e38, rel=1e-3
    )
    assert to_bf16(1e-8) != 0  # bf16 keeps fp32's range: no underflow here
    assert to_bf16(1 + 2.0**-8) == 1.0 and to_bf16(1 + 2.0**-7) == 1 + 2.0**-7


def test_underflow_and_loss_scaling_numbers():
    import numpy as np

    assert float(np.float16(1e-8)) == 0.0
    scaled = float(np.float16(1e-8 * 65536))
    assert scaled == pytest.approx(6.6e-4, rel=0.01)
    assert key(card(TP, "fp16-underflow-mcq")).startswith("0 in fp16; ≈ 6.6 × 10⁻⁴")


def test_fp16_update_is_lost_without_master_weights():
    import numpy as np

    w = np.float16(1.0)
    assert w + np.float16(1e-4) == w
    assert float(np.nextafter(w, np.float16(2))) == pytest.approx(1.001, abs=1e-4)
    assert key(card(TP, "master-weights-mcq")) == "1.0"


def test_debugging_numbers():
    assert math.log(100) == pytest.approx(4.6, abs=0.01) and math.log(2) == pytest.approx(
        0.69, abs=0.005
    )
    assert num(key(card(TP, "initial-loss-mcq"))) == round(math.log(100), 1)
    assert "ln 10 ≈ 2.30" in card(TP, "initial-loss-ln-k").back
    b = math.log(0.1 / 0.9)
    assert sigmoid(b) == pytest.approx(0.1)
    assert f"≈ {b:.1f}".replace("-", "−") in card(TP, "init-output-bias").back


def test_parallelism_numbers():
    assert num(key(card(TP, "effective-batch-mcq"))) == 8 * 16 * 4
    n, m = 4, 1.0
    assert num(key(card(TP, "ring-all-reduce-mcq"))) == 2 * (n - 1) / n * m
    assert all(2 * (k - 1) / k < 2 for k in range(1, 1000))
    assert 2 + 2 + 4 + 4 + 4 == 16 and 16 * 7.5e9 / 1e9 == 120
    assert "16 × 7.5 × 10⁹ = 120 GB" in card(TP, "zero-memory-per-param").back


def test_ema_horizon():
    assert 0.999**1000 == pytest.approx(math.exp(-1), rel=1e-3)
    assert round(1 / (1 - 0.999)) == num(key(card(TP, "ema-horizon-mcq")))


# -- autograd-architectures -----------------------------------------------------------------

AA = "autograd-architectures"


def softmax(z):
    import numpy as np

    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def numeric_jacobian(f, x, h=1e-6):
    import numpy as np

    x = np.asarray(x, dtype=float)
    cols = [(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)]
    return np.stack(cols, axis=-1)


def numeric_grad(f, x, h=1e-6):
    """Centred differences of a scalar function, shaped like x."""
    import numpy as np

    x = np.asarray(x, dtype=float)
    flat = [
        (f(x + h * e.reshape(x.shape)) - f(x - h * e.reshape(x.shape))) / (2 * h)
        for e in np.eye(x.size)
    ]
    return np.array(flat, dtype=float).reshape(x.shape)


def logits_for(p):
    import numpy as np

    return np.log(np.asarray(p, dtype=float))  # softmax(log p) = p when Σp = 1


def test_softmax_jacobian_cards():
    import numpy as np

    p = np.array([0.5, 0.3, 0.2])
    jac = numeric_jacobian(softmax, logits_for(p))
    assert jac == pytest.approx(np.diag(p) - np.outer(p, p), abs=1e-6)
    back = card(AA, "softmax-jacobian-numeric").back
    assert f"= {jac[0, 0]:.2f}" in back and f"= {jac[0, 1]:.2f}".replace("-", "−") in back
    p2 = np.array([0.6, 0.3, 0.1])
    jac2 = numeric_jacobian(softmax, logits_for(p2))
    c = card(AA, "softmax-jacobian-mcq")
    assert num(key(c)) == pytest.approx(jac2[1, 2], abs=1e-6)
    for wrong in (-jac2[1, 2], jac2[1, 1], -p2[0] * p2[1]):
        offers(c, wrong, 2)
    assert jac2.sum(axis=1) == pytest.approx(0, abs=1e-6) and jac2 == pytest.approx(jac2.T)


def test_p_minus_y_and_temperature():
    import numpy as np

    z, y, t = np.array([1.0, -0.5, 2.0]), np.array([0.0, 1.0, 0.0]), 2.5

    def ce(z, t=1.0):
        return -float(y @ np.log(softmax(z / t)))

    grad = numeric_grad(lambda v: ce(v), z)
    assert grad == pytest.approx(softmax(z) - y, abs=1e-6)
    grad_t = numeric_grad(lambda v: ce(v, t), z)
    assert grad_t == pytest.approx((softmax(z / t) - y) / t, abs=1e-6)


def test_ce_vs_mse_at_a_saturated_sigmoid():
    z, y = -5.0, 1.0
    p = sigmoid(z)
    ce = slope(lambda v: -math.log(sigmoid(v)), z)
    mse = slope(lambda v: (sigmoid(v) - y) ** 2, z)
    assert ce == pytest.approx(p - y) and f"CE ≈ {ce:.3f}; MSE ≈ {mse:.3f}".replace(
        "-", "−"
    ) == key(card(AA, "ce-vs-mse-mcq"))
    assert f"≈ {p:.4f}" in card(AA, "ce-vs-mse-mcq").question
    assert "−1.987" in " ".join(card(AA, "ce-vs-mse-mcq").choices) and round(-1 / p) == -149


def lstm_params(n_in: int, hidden: int) -> int:
    # PyTorch: weight_ih (4h × in), weight_hh (4h × h), bias_ih (4h), bias_hh (4h)
    return 4 * hidden * n_in + 4 * hidden * hidden + 4 * hidden + 4 * hidden


def test_lstm_parameter_counts():
    assert lstm_params(10, 20) == 2560 and "= 4 × 640 = 2560" in card(AA, "lstm-param-count").back
    c = card(AA, "lstm-param-mcq")
    assert num(key(c)) == lstm_params(8, 16)
    for wrong in (
        lstm_params(8, 16) - 4 * 16,
        lstm_params(8, 16) - 8 * 16,
        lstm_params(8, 16) // 4,
    ):
        offers(c, wrong, 0)


def correlate(x, w):
    import numpy as np

    return np.array([x[i] * w[0] + x[i + 1] * w[1] for i in range(len(x) - 1)])


def test_conv_backward_numbers():
    import numpy as np

    x, w, g = np.array([1.0, 2, 3, 4]), np.array([1.0, -1]), np.array([1.0, 0, 2])
    dw = numeric_grad(lambda v: g @ correlate(x, v), w)
    dx = numeric_grad(lambda v: g @ correlate(v, w), x)
    assert dw == pytest.approx([7, 10]) and dx == pytest.approx([1, -1, 2, -2])
    back = card(AA, "conv-backward-numeric").back
    assert "= 7" in back and "= 10" in back and "(1, −1, 2, −2)" in back
    x2, g2 = np.array([5.0, 0, -2, 4]), np.array([2.0, 1, -1])
    dw2 = numeric_grad(lambda v: g2 @ correlate(x2, v), w)
    assert key(card(AA, "conv-weight-grad-mcq")) == f"({dw2[0]:.0f}, {dw2[1]:.0f})".replace(
        "-", "−"
    )


def test_conv_output_size():
    n, k, p, s = 32, 3, 1, 2
    assert (n + 2 * p - k) // s + 1 == 16 and "gives 16" in card(AA, "conv-output-size").back


def test_maxpool_backward():
    import numpy as np

    window = np.array([1.0, 5, 3, 2])
    grad = numeric_grad(lambda v: 4 * v.max(), window)
    assert key(card(AA, "maxpool-mcq")) == ", ".join(f"{v:.0f}" for v in grad)


def test_attention_backward_formulas():
    import numpy as np

    rng = np.random.default_rng(3)
    n, d = 4, 3
    q, k, v, d_o = (rng.standard_normal((n, d)) for _ in range(4))

    def loss(q, k, v):
        return float(np.sum(d_o * (softmax(q @ k.T / math.sqrt(d)) @ v)))

    a = softmax(q @ k.T / math.sqrt(d))
    d_v = a.T @ d_o
    d_a = d_o @ v.T
    d_s = a * (d_a - np.sum(d_a * a, axis=1, keepdims=True))
    d_q, d_k = d_s @ k / math.sqrt(d), d_s.T @ q / math.sqrt(d)

    def fd(which):
        def f(m):
            args = [q, k, v]
            args[which] = m
            return loss(*args)

        return numeric_grad(f, [q, k, v][which])

    assert d_q == pytest.approx(fd(0), abs=1e-6)
    assert d_k == pytest.approx(fd(1), abs=1e-6)
    assert d_v == pytest.approx(fd(2), abs=1e-6)
    assert "dS = A ⊙ (dA − rowsum(dA ⊙ A))" in card(AA, "attention-backward").back


def test_dot_product_variance_grows_with_d():
    import numpy as np

    rng = np.random.default_rng(0)
    d = 64
    qk = np.sum(rng.standard_normal((20_000, d)) * rng.standard_normal((20_000, d)), axis=1)
    assert qk.var() == pytest.approx(d, rel=0.05)
    assert (qk / math.sqrt(d)).var() == pytest.approx(1, rel=0.05)


def test_xavier_uniform_bound_states_its_gain():
    back = card("init-gradient-flow", "xavier-uniform-numeric").back
    fan_in = fan_out = 300
    r = math.sqrt(6 / (fan_in + fan_out))
    assert r == pytest.approx(0.1) and "= 0.1" in back
    assert "gain 1" in card("init-gradient-flow", "xavier-uniform-numeric").front
    assert f"≈ {5 / 3 * r:.3f}" in back  # PyTorch's calculate_gain("tanh") = 5/3


def test_relu_with_glorot_counts_the_halvings_between_the_layers_it_names():
    c = card("init-gradient-flow", "xavier-on-relu-mcq")
    first, last = (int(n) for n in re.findall(r"from layer (\d+) to layer (\d+)", c.question)[0])
    halvings = last - first  # one ReLU (and one linear layer) per step
    assert f"through {halvings} ReLUs" in c.question
    assert num(key(c).replace("1/", "")) == math.sqrt(2**halvings)
