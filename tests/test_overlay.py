"""Translation overlays (`DECK.LANG.yaml`): checked against their deck, shown in study, and
one schedule per card whatever the language; full-width formula input."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.decks.overlay import (
    apply,
    check_overlay,
    parse_overlay,
    stamp,
)
from quizforge.decks.validate import parse_deck
from quizforge.drill.parse import fold_full_width, parse_answer
from quizforge.decks.model import compute_fingerprint

runner = CliRunner()

DECK = """\
deck: tiny
name: Tiny
cards:
  - id: one
    front: Front one
    back: Back one
  - id: pick
    type: mcq
    question: Pick the right one
    choices: [wrong, right, other]
    answer: b
    explanation: Because right is right.
  - id: deriv
    type: formula
    question: Type d/dz of z².
    answer: 2z
    variables: [z]
    mistakes:
      - answer: z
        message: Keep the factor 2.
"""


def overlay_text(entries: str) -> str:
    return f"overlay: tiny\nlanguage: zh-TW\ncards:\n{entries}"


GOOD = overlay_text("""\
  - id: one
    front: 第一題
    back: 第一個答案
  - id: pick
    question: 選出正確的
    choices: [錯, 對, 其他]
    explanation: 因為「對」是對的。
  - id: deriv
    question: 輸入 z² 對 z 的導數。
    mistakes: [保留係數 2。]
""")


def tiny():
    parsed = parse_deck(DECK, Path("tiny.yaml"))
    assert parsed.deck is not None, parsed.problems
    return parsed.deck


def messages(text: str, name: str = "tiny.zh-TW.yaml"):
    parsed = parse_overlay(text, Path(name))
    if parsed.overlay is None:
        return [p.message for p in parsed.problems], []
    problems, warnings = check_overlay(parsed.overlay, tiny())
    return [p.message for p in problems], [w.message for w in warnings]


def test_apply_translates_text_and_keeps_ids_answers_and_fingerprint():
    deck = tiny()
    overlay = parse_overlay(GOOD, Path("tiny.zh-TW.yaml")).overlay
    shown = apply(deck, overlay)
    one, pick, deriv = shown.cards
    assert (one.front, one.back) == ("第一題", "第一個答案")
    assert pick.choices == ("錯", "對", "其他") and pick.answer == deck.cards[1].answer
    assert deriv.answer == "2z" and deriv.mistakes == (("z", "保留係數 2。"),)
    assert [c.id for c in shown.cards] == [c.id for c in deck.cards]
    assert compute_fingerprint(shown) == compute_fingerprint(deck)


def test_good_overlay_has_only_stamp_warnings_until_stamped():
    problems, warnings = messages(GOOD)
    assert problems == []
    assert len(warnings) == 3 and all("add 'of: " in w for w in warnings)
    stamps = {c.id: stamp(c) for c in tiny().cards}
    stamped = GOOD.replace("  - id: one\n", f"  - id: one\n    of: {stamps['one']}\n")
    stamped = stamped.replace("  - id: pick\n", f"  - id: pick\n    of: {stamps['pick']}\n")
    stamped = stamped.replace("  - id: deriv\n", f"  - id: deriv\n    of: {stamps['deriv']}\n")
    assert messages(stamped) == ([], [])


def test_a_changed_english_card_makes_its_entry_stale():
    old = stamp(tiny().cards[0])
    text = overlay_text(f"  - id: one\n    of: {old}\n    front: 第一題\n")
    changed = parse_deck(DECK.replace("Back one", "Back one, edited"), Path("tiny.yaml")).deck
    problems, warnings = check_overlay(parse_overlay(text, Path("tiny.zh-TW.yaml")).overlay,
                                       changed)
    assert problems == []
    assert warnings[0].message == (
        f"warning: card 'one' changed since it was translated: update the translation, "
        f"then set 'of: {stamp(changed.cards[0])}'")


@pytest.mark.parametrize("entries, expected", [
    ("  - id: onr\n    front: x\n", "deck 'tiny' has no card 'onr' (did you mean 'one'?)"),
    ("  - id: pick\n    choices: [錯, 對]\n",
     "'choices' of card 'pick' has 2 items, the card has 3: keep the same count and order"),
    ("  - id: deriv\n    mistakes: [a, b]\n",
     "'mistakes' of card 'deriv' has 2 items, the card has 1: keep the same count and order"),
    ("  - id: one\n    question: x\n",
     "'question' of card 'one': the flashcard card has no question to translate"),
    ("  - id: one\n    hint: x\n",
     "'hint' of card 'one': the flashcard card has no hint to translate"),
    ("  - id: pick\n    choices: [對, 對, 錯]\n", "two choices of card 'pick' read the same"),
])
def test_validate_catches_a_broken_overlay(entries, expected):
    assert expected in messages(overlay_text(entries))[0]


@pytest.mark.parametrize("explanation", [
    "答案是 b，因為它對。", "選項 (b) 才對。", "第二個選項才對。", "最後一個選項是錯的。",
    "Choice b is right.", "以上皆非。",
])
def test_an_explanation_naming_a_choice_by_letter_or_position_is_a_problem(explanation):
    problems, _ = messages(overlay_text(f"  - id: pick\n    explanation: {explanation}\n"))
    assert len(problems) == 1 and "refers to a choice by letter or position" in problems[0]


def test_form_problems_carry_lines():
    text = overlay_text("  - id: one\n    front: a\n  - id: one\n    back: b\n  - id: x\n    colour: 1\n")
    parsed = parse_overlay(text, Path("tiny.zh-TW.yaml"))
    assert parsed.overlay is None
    assert [str(p) for p in parsed.problems] == [
        "tiny.zh-TW.yaml:6: duplicate entry for card 'one' (first at line 4)",
        "tiny.zh-TW.yaml:9: unknown field 'colour' in overlay entry",
    ]
    wrong_name = parse_overlay(GOOD, Path("other.zh-TW.yaml")).problems
    assert [p.message for p in wrong_name] == [
        "overlay of deck 'tiny' in a file named for 'other': name it tiny.zh-TW.yaml"]


# -- through the CLI ---------------------------------------------------------------------------


@pytest.fixture
def decks(tmp_path, monkeypatch):
    d = tmp_path / "decks"
    d.mkdir()
    (d / "tiny.yaml").write_text(DECK, encoding="utf-8")
    (d / "tiny.zh-TW.yaml").write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv("QUIZFORGE_DECKS", str(d))
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-02T12:00:00Z")
    return d


def _schedules(home: Path) -> list[tuple]:
    conn = sqlite3.connect(home / "quizforge.sqlite3")
    try:
        return conn.execute("SELECT card_id, state, stability, difficulty, due FROM cards"
                            " WHERE deck_id = 'tiny' ORDER BY card_id").fetchall()
    finally:
        conn.close()


def test_study_in_zh_tw_moves_the_same_schedule_as_in_english(decks, tmp_path, monkeypatch):
    answers = "\n3\n"  # reveal the flashcard, Good
    runs = {}
    for language in ("en", "zh-TW"):
        home = tmp_path / f"home-{language}"
        monkeypatch.setenv("QUIZFORGE_HOME", str(home))
        assert runner.invoke(app, ["config", "set", "language", language]).exit_code == 0
        r = runner.invoke(app, ["study", "--deck", "tiny", "--limit", "1"], input=answers + "q\n")
        assert r.exit_code == 0, r.output
        runs[language] = (r.stdout, _schedules(home))
    assert "第一題" in runs["zh-TW"][0] and "第一個答案" in runs["zh-TW"][0]
    assert "Front one" in runs["en"][0] and "第一題" not in runs["en"][0]
    assert runs["en"][1] == runs["zh-TW"][1]
    assert [row[0] for row in runs["en"][1]] == ["deriv", "one", "pick"]


def test_study_language_option_and_a_bad_tag(decks):
    r = runner.invoke(app, ["study", "--deck", "tiny", "--limit", "1", "--language", "zh-TW"],
                      input="\nq\n")
    assert r.exit_code == 0 and "第一題" in r.stdout
    bad = runner.invoke(app, ["config", "set", "language", "zh TW"])
    assert bad.exit_code != 0
    assert "language must be a tag such as en or zh-TW, got 'zh TW'" in bad.output
    assert "Traceback" not in bad.output


def test_validate_reports_overlays(decks):
    r = runner.invoke(app, ["validate", str(decks), "--json"])
    doc = json.loads(r.stdout)
    assert doc["overlays"] == 1 and doc["translated"] == 3 and doc["problems"] == []
    assert len(doc["warnings"]) == 3  # not stamped yet
    (decks / "tiny.zh-TW.yaml").write_text(overlay_text("  - id: nope\n    front: x\n"))
    r = runner.invoke(app, ["validate", str(decks / "tiny.zh-TW.yaml")])
    assert r.exit_code == 1
    assert "tiny.zh-TW.yaml:4: deck 'tiny' has no card 'nope'" in r.stdout


def test_a_broken_overlay_leaves_the_deck_in_english(decks):
    (decks / "tiny.zh-TW.yaml").write_text("overlay: tiny\nlanguage: zh-TW\ncards: 3\n")
    r = runner.invoke(app, ["study", "--deck", "tiny", "--limit", "1", "--language", "zh-TW"],
                      input="\nq\n")
    assert r.exit_code == 0 and "Front one" in r.stdout
    assert "'cards' must be a list of entries" in r.stderr


# -- full-width input --------------------------------------------------------------------------


def test_full_width_folding_is_nfkc_on_the_full_width_block():
    for code in [*range(0xFF01, 0xFF5F), 0x3000]:
        ch = chr(code)
        assert fold_full_width(ch) == unicodedata.normalize("NFKC", ch)
    assert fold_full_width("x²") == "x²"  # NFKC would make it x2


_FORMULA = st.text(alphabet="xyz0123456789+-*/()^ .", min_size=1, max_size=30)


@given(_FORMULA)
def test_a_full_width_answer_reads_as_its_half_width_form(text):
    wide = "".join(chr(ord(c) + 0xFEE0) if c != " " else "\u3000" for c in text)
    outcomes = []
    for t in (text, wide):
        try:
            outcomes.append(parse_answer(t, ("x", "y", "z")).normalized)
        except Exception as e:  # noqa: BLE001 - the same refusal either way
            outcomes.append(type(e).__name__)
    assert outcomes[0] == outcomes[1]


def test_full_width_formula_card_answers_grade_like_half_width():
    import random

    from quizforge.decks.formula import grade_formula

    card = tiny().cards[2]
    for half, wide in (("2z", "２ｚ"), ("2*z", "２＊ｚ"), ("z", "ｚ"), ("2(z)", "２（ｚ）")):
        a = grade_formula(card, half, random.Random(1))
        b = grade_formula(card, wide, random.Random(1))
        assert (a.correct, a.mistake, a.rejected) == (b.correct, b.mistake, b.rejected)
    assert grade_formula(card, "２ｚ", random.Random(1)).correct
