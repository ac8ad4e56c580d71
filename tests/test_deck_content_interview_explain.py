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
