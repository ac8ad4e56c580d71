"""`type: explain` cards: validation (exact messages), the model's to_dict/from_dict round
trip, the deck cache, Anki export, overlays, the rubric's rating, and studying them."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.decks.cache import cards_from_rows, cards_to_rows
from quizforge.decks.model import ExplainCard
from quizforge.decks.validate import parse_deck
from quizforge.scheduling.scheduler import Rating
from quizforge.study.rubric import TickError, parse_ticks, rubric_rating

runner = CliRunner()

DECK = """\
deck: talk
name: Talk
cards:
  - id: why-scale
    type: explain
    question: Why scale attention logits by 1/sqrt(d)?
    points:
      - Dot products of random d-dim vectors have variance d
      - Large logits saturate the softmax
      - Saturated softmax has tiny gradients
    follow_up: What else could you do instead?
    hint: Think of the variance.
    explanation: Scaling keeps the logits' variance near 1.
    tags: [attention]
    source: Vaswani et al. 2017, §3.2.1
  - id: plain
    front: Front
    back: Back
"""


def problems(text: str) -> list[str]:
    parsed = parse_deck(textwrap.dedent(text), Path("d.yaml"))
    return [f"{p.line}: {p.message}" for p in parsed.problems]


def card(body: str) -> list[str]:
    return problems("deck: d\nname: D\ncards:\n  - id: e\n    type: explain\n" + body)


def test_a_valid_explain_card():
    parsed = parse_deck(DECK, Path("talk.yaml"))
    assert parsed.problems == []
    c = parsed.deck.cards[0]
    assert isinstance(c, ExplainCard) and c.type == "explain"
    assert len(c.points) == 3 and c.follow_up == "What else could you do instead?"
    assert parsed.deck.counts()["explain"] == 1


def test_explain_card_errors_are_exact():
    assert card("    question: Q\n") == ["4: missing required field 'points' in card 'e'"]
    assert card("    question: Q\n    points: [a, b]\n") == ["7: 'points' must have 3 to 6 points, got 2"]
    assert card("    question: Q\n    points: [a, b, c, d, e, f, g]\n") == [
        "7: 'points' must have 3 to 6 points, got 7"]
    assert card("    question: Q\n    points: [a, a, c]\n") == [
        "7: duplicate point 'a' (points 1 and 2)"]
    assert card("    question: Q\n    points: [a, '', c]\n") == ["7: point 2 is empty"]
    assert card("    question: Q\n    points: text\n") == ["7: 'points' must be a list of strings, got a string"]
    assert card("    question: Q\n    points: [a, b, c]\n    choices: [x, y]\n") == [
        "8: unknown field 'choices' in card 'e' (only mcq cards have it)"]


def test_a_card_without_type_but_with_points_is_named_explain():
    assert problems("deck: d\nname: D\ncards:\n  - id: e\n    question: Q\n    points: [a, b, c]\n") \
        == ["4: missing field 'type' in card 'e' (add 'type: explain')"]


def test_to_dict_from_dict_and_cache_rows_round_trip():
    c = parse_deck(DECK, Path("talk.yaml")).deck.cards[0]
    assert ExplainCard.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    bare = ExplainCard("b", "Q", ("x", "y", "z"))
    assert ExplainCard.from_dict(bare.to_dict()) == bare
    assert bare.to_dict() == {"id": "b", "type": "explain", "question": "Q", "points": ["x", "y", "z"]}
    cards = parse_deck(DECK, Path("talk.yaml")).deck.cards
    assert cards_from_rows(json.loads(json.dumps(cards_to_rows(cards)))) == cards


def test_anki_export_makes_a_basic_note_with_the_points_as_the_back():
    from quizforge.decks.anki import BASIC_MODEL, card_note

    note = card_note("talk", parse_deck(DECK, Path("talk.yaml")).deck.cards[0])
    assert note.model is BASIC_MODEL
    front, back = note.fields
    assert front == "Why scale attention logits by 1/sqrt(d)?"
    assert "<li>Large logits saturate the softmax</li>" in back
    assert "Follow-up: What else could you do instead?" in back


def test_an_overlay_translates_points_and_follow_up(tmp_path):
    from quizforge.decks.overlay import apply, check_overlay, parse_overlay, stamp

    deck = parse_deck(DECK, Path("talk.yaml")).deck
    text = textwrap.dedent(f"""\
        overlay: talk
        language: zh-TW
        cards:
          - id: why-scale
            of: {stamp(deck.cards[0])}
            question: 為什麼要除以 sqrt(d)？
            points: [一, 二, 三]
            follow_up: 還有別的做法嗎？
        """)
    parsed = parse_overlay(text, tmp_path / "talk.zh-TW.yaml")
    assert parsed.problems == []
    assert check_overlay(parsed.overlay, deck) == ([], [])
    shown = apply(deck, parsed.overlay).cards[0]
    assert shown.points == ("一", "二", "三") and shown.follow_up == "還有別的做法嗎？"
    assert shown.id == "why-scale" and shown.source == deck.cards[0].source


@pytest.mark.parametrize(("ticked", "points", "rating"), [
    (3, 3, Rating.GOOD), (6, 6, Rating.GOOD), (2, 3, Rating.HARD), (2, 4, Rating.HARD),
    (3, 5, Rating.HARD), (1, 3, Rating.AGAIN), (2, 5, Rating.AGAIN), (0, 4, Rating.AGAIN),
    (5, 6, Rating.HARD), (3, 6, Rating.HARD), (2, 6, Rating.AGAIN),
])
def test_rubric_rating(ticked, points, rating):
    # reference: Good when all, Hard when ticked/points >= 1/2 (compared in integers), else Again
    assert rubric_rating(ticked, points) == rating
    expect = Rating.GOOD if ticked == points else Rating.HARD if 2 * ticked >= points else Rating.AGAIN
    assert expect == rating


def test_parse_ticks():
    assert parse_ticks("1 3 4", 4) == {1, 3, 4}
    assert parse_ticks("134", 4) == {1, 3, 4}
    assert parse_ticks("1,3, 3", 4) == {1, 3}
    assert parse_ticks("", 4) == frozenset()
    for bad in ("5", "0", "a", "1-2"):
        with pytest.raises(TickError):
            parse_ticks(bad, 4)


@pytest.fixture
def talk(tmp_path, monkeypatch):
    d = tmp_path / "decks"
    d.mkdir()
    (d / "talk.yaml").write_text(DECK)
    monkeypatch.setenv("QUIZFORGE_DECKS", str(d))
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-02T12:00:00Z")
    return d


def test_study_an_explain_card_from_a_pipe(talk):
    # done answering, a bad tick line, then points 1 and 3: 2 of 3 -> Hard
    r = runner.invoke(app, ["study", "--deck", "talk", "--tag", "attention"],
                      input="\n9\n1 3\n")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "Why scale attention logits" in out and "Hint: Think of the variance." in out
    assert "1. Dot products of random d-dim vectors have variance d" in out
    assert "Type the numbers of the points you covered, 1 to 3 (e.g. 1 3), or Enter for none." in out
    assert "Covered 2 of 3 points → Hard" in out and "Not covered: 2" in out
    assert "Follow-up: What else could you do instead?" in out
    assert "1 answer over 1 card · 100% correct" in out
    rows = json.loads(runner.invoke(app, ["decks", "--json"]).stdout)
    row = next(x for x in rows if x["id"] == "talk")
    assert row["reviews"] == 1 and row["cards"]["explain"] == 1


def test_study_explain_with_keys_undo_and_suspend(talk):
    from datetime import UTC, datetime

    from quizforge.decks.loader import load_decks
    from quizforge.scheduling.config import Config
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store.db import Database
    from quizforge.study.session import Session, StudyOptions
    from quizforge.ui.study import StudyScreen
    from rich.console import Console
    from tests.helpers import Keys

    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    decks = load_decks([talk]).decks
    db = Database(":memory:")
    session = Session(db, decks, Scheduler(Config()), StudyOptions(), now)
    console = Console(record=True, width=80)
    # explain: done, tick none -> Again; then undo it from the next card (a flashcard),
    # answer it again with every point -> Good; the flashcard is suspended, then quit.
    keys = Keys(keys=["x", "u", "x", "s"], lines=["", "", "", "123"])
    screen = StudyScreen(session, console, keys, lambda: now)
    summary = screen.run()
    text = console.export_text()
    assert "Covered 0 of 3 points → Again" in text
    assert "Undid talk/why-scale." in text
    assert "Covered 3 of 3 points → Good" in text
    assert "Suspended talk/plain" in text
    assert summary.answered == 1 and summary.correct == 1
    ratings = [r[0] for r in db.conn.execute("SELECT rating FROM revlog")]
    assert ratings == [3]
