"""The interview-explain deck: every stated number recomputed from its definition, the
rubrics well formed (3-6 points, none naming another by number or position), and every
card an explain card with a source and a follow-up."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from quizforge.decks.loader import load_decks
from quizforge.decks.model import ExplainCard

DECK = Path(__file__).resolve().parent.parent / "decks" / "interview-explain.yaml"


@pytest.fixture(scope="module")
def cards() -> dict[str, ExplainCard]:
    [deck] = load_decks([DECK]).decks
    assert deck.id == "interview-explain"
    return {c.id: c for c in deck.cards}


def text(card: ExplainCard) -> str:
    return " ".join([card.question, *card.points, card.follow_up or "", card.explanation or ""])


def test_every_card_is_an_explain_card_with_a_source_and_a_follow_up(cards):
    assert len(cards) >= 30
    for c in cards.values():
        assert isinstance(c, ExplainCard)
        assert 3 <= len(c.points) <= 6 and c.source and c.follow_up, c.id


POSITION = re.compile(r"\b(point|item|option|choice)\s*#?\d|\b(first|second|third|last|"
                      r"previous|next|above|below)\s+(point|item|one|line)\b", re.I)


def test_no_point_names_another_by_number_or_position(cards):
    for c in cards.values():
        for p in c.points:
            assert not POSITION.search(p), (c.id, p)


def test_dot_product_variance_is_d(cards):
    # q, k with independent components of mean 0 and variance 1: Var(q·k) = Σ E[q²]E[k²] = d
    rng = np.random.default_rng(0)
    for d in (4, 64):
        q, k = rng.standard_normal((2, 200_000, d))
        dots = (q * k).sum(axis=1)
        assert abs(dots.var() / d - 1) < 0.02
        assert abs((dots / math.sqrt(d)).var() - 1) < 0.02
    assert "variance d_k" in text(cards["attention-sqrt-d-scaling"])


def test_uniform_softmax_loss_is_ln_10(cards):
    logits = np.zeros(10)
    p = np.exp(logits) / np.exp(logits).sum()
    loss = -math.log(p[3])
    assert f"{loss:.2f}" == "2.30" and math.isclose(loss, math.log(10))
    assert "ln 10 ≈ 2.30" in text(cards["loss-at-initialization"])


def test_adam_first_step(cards):
    # Adam's update from its definition (Kingma & Ba 2015, Algorithm 1), one step, ε = 0
    b1, b2, lr = 0.9, 0.999, 1e-3
    g = np.array([3.0, -0.02, 1e-6])
    m = (1 - b1) * g
    v = (1 - b2) * g**2
    assert np.allclose(v, 0.001 * g**2)
    m_hat, v_hat = m / (1 - b1), v / (1 - b2)
    assert np.allclose(m_hat, g) and np.allclose(v_hat, g**2)
    step = lr * m_hat / np.sqrt(v_hat)
    assert np.allclose(step, lr * np.sign(g))
    t = text(cards["adam-bias-correction"])
    assert "0.001·g²" in t and "β₂ = 0.999" in t and "±lr" in t


def test_sigmoid_derivative_at_most_a_quarter(cards):
    z = np.linspace(-10, 10, 200_001)
    s = 1 / (1 + np.exp(-z))
    d = s * (1 - s)
    assert math.isclose(d.max(), 0.25) and abs(z[d.argmax()]) < 1e-9
    assert "at most 1/4, at z = 0" in text(cards["sigmoid-vanishing-gradient"])


def test_relu_halves_the_second_moment(cards):
    # for a symmetric input, E[relu(z)²] = E[z²]/2; 50 layers at 1/fan_in: (1/2)^50 = 2^-50
    rng = np.random.default_rng(1)
    z = rng.standard_normal(1_000_000) * 1.7
    assert abs(np.mean(np.maximum(z, 0) ** 2) / np.mean(z**2) - 0.5) < 0.01
    assert 0.5**50 == 2.0**-50
    assert "2⁵⁰" in text(cards["init-he-vs-xavier"]) and "2/fan_in" in text(cards["init-he-vs-xavier"])


def test_label_smoothing_target_sums_to_one(cards):
    # (1 − ε) on the true class plus ε/K on every class (true one included) is a distribution
    for eps, k in ((0.1, 10), (0.2, 3)):
        y = np.full(k, eps / k)
        y[0] += 1 - eps
        assert math.isclose(y.sum(), 1.0)
    assert "(1 − ε) on the true class and ε/K spread over all K classes" in text(
        cards["label-smoothing"])


def test_softmax_ce_gradient_is_p_minus_y(cards):
    # central differences of L(z) = −log softmax(z)[y] against p − y; the entries sum to zero
    rng = np.random.default_rng(2)
    z, y, h = rng.standard_normal(5) * 3, 2, 1e-6

    def loss(v):
        m = v.max()
        return -(v[y] - m - math.log(np.exp(v - m).sum()))

    num = np.array([(loss(z + h * e) - loss(z - h * e)) / (2 * h) for e in np.eye(5)])
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    analytic = p - np.eye(5)[y]
    assert np.allclose(num, analytic, atol=1e-6) and abs(analytic.sum()) < 1e-12
    # confidently wrong: the gradient on the true logit stays near −1, it does not vanish
    z_wrong = np.array([0.0, 0.0, -20.0, 20.0, 0.0])
    p_wrong = np.exp(z_wrong - z_wrong.max()) / np.exp(z_wrong - z_wrong.max()).sum()
    assert p_wrong[y] - 1 < -0.999
    assert "∂L/∂z = p − y" in text(cards["softmax-ce-gradient"])


def test_adam_without_bias_correction_takes_steps_several_times_too_large(cards):
    # with a constant gradient g, the uncorrected step is lr·(1 − β₁ᵗ)/√(1 − β₂ᵗ)·sign(g)
    b1, b2 = 0.9, 0.999
    t = np.arange(1, 201)
    ratio = (1 - b1**t) / np.sqrt(1 - b2**t)
    assert math.isclose(ratio[0], 0.1 / math.sqrt(0.001))           # ≈ 3.16 at the first step
    assert ratio[:100].min() > 3 and ratio.max() < 7                # "several times too large"
    assert (1 - b1**10_000) > 0.999 and (1 - b2**10_000) > 0.999    # factors go to 1
    assert "several times too large" in text(cards["adam-bias-correction"])


def test_he_init_50_layers_at_one_over_fan_in(cards):
    # a linear layer with Var(w) = 1/fan_in keeps E[z²]; a ReLU halves it: 50 layers → 2⁻⁵⁰,
    # so the activations' typical size (square root of the second moment) falls by 2²⁵
    # (one random matrix per layer, so each layer's ratio is checked on average, not the product)
    rng = np.random.default_rng(3)
    n, x, ratios = 512, rng.standard_normal((1000, 512)), []
    for _ in range(10):
        y = np.maximum(x @ (rng.standard_normal((n, n)) / math.sqrt(n)), 0)
        ratios.append(np.mean(y**2) / np.mean(x**2))
        x = y
    assert abs(math.exp(np.mean(np.log(ratios))) - 0.5) < 0.03
    assert math.sqrt(2.0**50) == 2.0**25
    t = text(cards["init-he-vs-xavier"])
    assert "2⁵⁰" in t and "2²⁵" in t


def test_distillation_soft_gradient_scales_as_one_over_t_squared(cards):
    # ∂/∂z of CE(softmax(v/T), softmax(z/T)) is (q − p)/T; for large T and zero-mean logits,
    # T² times it tends to (z − v)/N (Hinton et al. 2015, §2.1)
    rng = np.random.default_rng(4)
    n = 10
    z, v = rng.standard_normal(n), rng.standard_normal(n)
    z, v = z - z.mean(), v - v.mean()

    def soft(a, temp):
        e = np.exp(a / temp - (a / temp).max())
        return e / e.sum()

    for temp in (50.0, 200.0):
        grad = (soft(z, temp) - soft(v, temp)) / temp
        assert np.allclose(temp**2 * grad, (z - v) / n, atol=0.05)
    assert "1/T²" in text(cards["distillation-temperature"]) and "T²" in text(
        cards["distillation-temperature"])


def test_label_smoothing_best_logit_gap_is_finite(cards):
    # minimize the smoothed cross-entropy over the gap g between the true logit and the K − 1
    # equal others; the minimum is at ln((1 − ε + ε/K) / (ε/K)), and with ε = 0 there is none
    eps, k = 0.1, 10
    target = np.full(k, eps / k)
    target[0] += 1 - eps
    gaps = np.linspace(0, 20, 200_001)
    log_norm = np.log(np.exp(gaps) + (k - 1))
    loss = -(target[0] * (gaps - log_norm) + (1 - target[0]) * (-log_norm))
    best = gaps[loss.argmin()]
    assert abs(best - math.log((1 - eps + eps / k) / (eps / k))) < 1e-3
    one_hot = -(gaps - log_norm)
    assert np.all(np.diff(one_hot) < 0)                             # keeps falling: no finite best
    assert "finite best logit gap" in text(cards["label-smoothing"])


def test_clip_by_norm_keeps_the_direction(cards):
    g, c = np.array([3.0, -4.0, 12.0]), 5.0                        # ‖g‖ = 13
    clipped = g * c / np.linalg.norm(g) if np.linalg.norm(g) > c else g
    assert math.isclose(np.linalg.norm(clipped), c) and np.allclose(np.cross(clipped, g), 0)
    per_component = np.clip(g, -c, c)                               # [3, −4, 5]: direction changes
    assert not np.allclose(np.cross(per_component, g), 0)
    assert "c · g / ‖g‖" in text(cards["gradient-clipping"])


def test_fp16_underflow_and_lost_updates(cards):
    # a gradient of 2⁻²⁶ is below fp16's smallest subnormal (2⁻²⁴) and becomes 0; scaled by 2¹⁰
    # it survives. An update 2⁻¹² of a weight 1.0 is lost in fp16 (spacing 2⁻¹⁰ at 1) but not in fp32
    assert np.float16(2.0**-26) == 0 and np.float16(2.0**-26 * 2**10) != 0
    assert np.float16(1.0) + np.float16(2.0**-12) == np.float16(1.0)
    assert np.float32(1.0) + np.float32(2.0**-12) != np.float32(1.0)
    assert "fp32" in text(cards["mixed-precision-loss-scaling"])


def test_multi_head_cost_matches_one_full_width_head(cards):
    # h heads with d_k = d_model/h: the same projection sizes and the same n²·d_model score work
    d_model, h, n = 512, 8, 100
    d_k = d_model // h
    assert h * (3 * d_model * d_k) == 3 * d_model * d_model
    assert h * (n * n * d_k) == n * n * d_model
    assert "d_k = d_model / h" in text(cards["attention-multi-head"])


def test_self_attention_is_cheaper_than_recurrence_when_n_below_d(cards):
    for n, d in ((100, 512), (512, 100)):
        assert (n * n * d < n * d * d) == (n < d)
    assert "O(n²·d)" in text(cards["transformer-vs-rnn"])
