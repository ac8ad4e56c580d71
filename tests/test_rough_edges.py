"""Issue 20: rough edges a newcomer hit. Each test failed before its fix."""

import io
import random
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import T0, Keys
from rich.console import Console

from quizforge.decks.model import Deck, Flashcard, GeneratedCard
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Scheduler
from quizforge.study.session import Session, StudyOptions
from quizforge.ui.study import StudyScreen


def _screen(db, deck, reader, terminal=False):
    from quizforge.cli.study import _generated_runner

    s = Session(db, [deck], Scheduler(Config(fuzz=False)), StudyOptions(), T0)
    console = Console(file=io.StringIO(), width=80, force_terminal=terminal, color_system=None)
    clock = iter(T0 + timedelta(seconds=i) for i in range(10_000))
    scr = StudyScreen(s, console, reader, lambda: next(clock), rng=random.Random(0),
                      run_generated=_generated_runner())
    return scr, console


def _mixed_deck():
    return Deck("d", "D", (Flashcard("c0", "front 0", "back 0"),
                           GeneratedCard("g0", "softmax-ce", 1)), Path("d.yaml"))


# -- u and s on a drill card inside study ------------------------------------------------------
def test_u_on_a_drill_card_undoes_the_last_answer(db):
    scr, con = _screen(db, _mixed_deck(), Keys([" ", "3", " ", "q"], lines=["u"]))
    scr.run()
    out = con.file.getvalue()
    assert "unknown name" not in out
    assert "Undid d/c0." in out
    assert db.conn.execute("SELECT COUNT(*) FROM revlog").fetchone()[0] == 0
    assert out.count("front 0") == 2  # c0 is asked again


def test_s_on_a_drill_card_suspends_it(db):
    scr, con = _screen(db, _mixed_deck(), Keys([" ", "3"], lines=["s"]))
    scr.run()
    out = con.file.getvalue()
    assert "Suspended d/g0 (u to undo)." in out and "unknown name" not in out
    assert [tuple(r) for r in db.conn.execute("SELECT card_id FROM cards WHERE suspended = 1")] == [("g0",)]
    assert "u: undo · s: suspend" in out  # the drill card says so


def test_u_with_nothing_to_undo_keeps_the_problem(db):
    deck = Deck("d", "D", (GeneratedCard("g0", "softmax-ce", 1),), Path("d.yaml"))
    scr, con = _screen(db, deck, Keys([], lines=["u"]))
    scr.run()
    out = con.file.getvalue()
    assert "Nothing to undo." in out and "unknown name" not in out


# -- the notice of an undo or a suspend survives the next card's clear ----------------------------
CLEAR = "\x1b[2J"


def test_suspend_notice_is_on_the_next_cards_screen(db):
    deck = Deck("d", "D", (Flashcard("c0", "front 0", "back 0"),
                           Flashcard("c1", "front 1", "back 1")), Path("d.yaml"))
    scr, con = _screen(db, deck, Keys(["s", "q"]), terminal=True)
    scr.run()
    last_screen = con.file.getvalue().split(CLEAR)[-1]
    assert "front 1" in last_screen
    assert "Suspended d/c0 (u to undo)." in last_screen


def test_undo_notice_is_on_the_next_cards_screen(db):
    deck = Deck("d", "D", (Flashcard("c0", "front 0", "back 0"),
                           Flashcard("c1", "front 1", "back 1")), Path("d.yaml"))
    scr, con = _screen(db, deck, Keys([" ", "3", "u", "q"]), terminal=True)
    scr.run()
    last_screen = con.file.getvalue().split(CLEAR)[-1]
    assert "front 0" in last_screen and "Undid d/c0." in last_screen


# -- an unknown name in a tensor answer: no empty list in the message ----------------------------
def test_unknown_name_without_variables_lists_no_empty_names():
    from quizforge.drill.errors import AnswerRejected
    from quizforge.drill.parse import parse_answer

    with pytest.raises(AnswerRejected) as e:
        parse_answer("zz", [])
    assert "(use e, pi and functions like exp, log, σ)" in str(e.value)
    with pytest.raises(AnswerRejected) as e:
        parse_answer("zz", ["x"])
    assert "(use x, e, pi and functions like exp, log, σ)" in str(e.value)
