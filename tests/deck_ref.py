"""Helpers shared by the deck content tests: load a deck file, find a card, read the number a
text states, an MCQ's key, and the grading checks every formula card gets.

Each test file still computes its numbers itself, from the definitions; nothing here knows a
card's content.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from quizforge.decks.formula import grade_formula
from quizforge.decks.model import MCQ, Deck, FormulaCard
from quizforge.decks.validate import parse_deck

DECKS = Path(__file__).resolve().parent.parent / "decks"


@functools.cache
def load_deck(path: Path, strict: bool = False) -> Deck:
    """The deck in the file at `path`; with `strict`, the parser must report no problem."""
    parsed = parse_deck(path.read_text(encoding="utf-8"), path)
    assert parsed.deck is not None and not (strict and parsed.problems), \
        [str(p) for p in parsed.problems]
    return parsed.deck


def find_card(deck: Deck, card_id: str):
    return next(c for c in deck.cards if c.id == card_id)


def deck_file(path: Path, strict: bool = False):
    """(deck, card) for the deck file at `path`: deck() is the parsed deck, card(card_id)
    one of its cards."""

    def deck() -> Deck:
        return load_deck(path, strict)

    def card(card_id: str):
        return find_card(deck(), card_id)

    return deck, card


def num(text: str) -> float:
    """The first number in `text`: '≈' skipped, '−' (U+2212) read as a minus sign, commas
    between digits dropped ('1,024' is 1024)."""
    m = re.search(r"[−-]?\d[\d,]*(?:\.\d+)?", text.replace("≈", ""))
    assert m, text
    return float(m.group(0).replace("−", "-").replace(",", ""))


def key(c: MCQ) -> str:
    """The one right choice of a single-answer MCQ."""
    assert not c.multi
    return c.choices[c.answer[0]]


def keys(c: MCQ) -> set[str]:
    """The right choices of a select-all MCQ."""
    return {c.choices[i] for i in c.answer}


def offers(c: MCQ, value: float, places: int) -> None:
    """Some choice states `value` to `places` decimals (a distractor's story)."""
    assert any(round(num(x), places) == round(value, places) for x in c.choices), (c.id, value)


def assert_choices(c: MCQ, right: float, wrong: list[float], places: int) -> None:
    """The key states `right` and the other choices state exactly the `wrong` stories (to
    `places` decimals)."""
    assert round(num(key(c)), places) == round(right, places), (c.id, key(c), right)
    others = sorted(round(num(x), places) for i, x in enumerate(c.choices) if i != c.answer[0])
    assert others == sorted(round(w, places) for w in wrong), (c.id, others, wrong)


# -- formula cards ---------------------------------------------------------------------------
def formula_cards(deck: Deck) -> list[FormulaCard]:
    return [c for c in deck.cards if isinstance(c, FormulaCard)]


def assert_mistakes_listed(c: FormulaCard, rng) -> None:
    """Each of the card's listed mistakes, typed, is refused with its own message."""
    for formula, message in c.mistakes:
        v = grade_formula(c, formula, rng)
        assert (v.correct, v.mistake, v.feedback) == (False, "listed", message), formula


def assert_accepted(c: FormulaCard, typed: list[str], rng) -> None:
    """Each of `typed` (other notations of the card's answer) is graded right."""
    for t in typed:
        v = grade_formula(c, t, rng)
        assert v.correct, (t, v.feedback)
