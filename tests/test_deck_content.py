"""The numbers the bundled decks state, recomputed independently of the card text.

Each test reads a card from its deck file and checks what the card claims (its key, its
distractors' stories, its worked values) against a computation written here from the
definitions, never against the card itself.
"""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path

import pytest

from quizforge.decks.model import MCQ, Deck, Flashcard
from quizforge.decks.validate import parse_deck

DECKS = Path(__file__).resolve().parent.parent / "decks"


@cache
def deck(name: str) -> Deck:
    path = DECKS / f"{name}.yaml"
    parsed = parse_deck(path.read_text(encoding="utf-8"), path)
    assert parsed.deck is not None, [str(p) for p in parsed.problems]
    return parsed.deck


def card(name: str, card_id: str):
    return next(c for c in deck(name).cards if c.id == card_id)


def num(text: str) -> float:
    """The first number in `text`, reading '−' (U+2212) as a minus sign."""
    m = re.search(r"[−-]?\d+(?:\.\d+)?", text.replace("≈", ""))
    assert m, text
    return float(m.group(0).replace("−", "-"))


def key(c: MCQ) -> str:
    assert not c.multi
    return c.choices[c.answer[0]]


def has(c: MCQ, value: float, places: int) -> bool:
    """Some choice states `value` rounded to `places` decimals."""
    return any(round(num(x), places) == round(value, places) for x in c.choices)


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
        assert has(c, wrong, 3)


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
