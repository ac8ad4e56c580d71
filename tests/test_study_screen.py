"""The study screen driven by scripted input (no terminal needed)."""

import io
import random
from datetime import timedelta

import pytest
from helpers import T0, Keys, make_deck
from rich.console import Console

from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Rating, Scheduler
from quizforge.store.db import Database
from quizforge.study.session import Session, StudyOptions
from quizforge.ui.keys import LineReader
from quizforge.ui.study import StudyScreen, mcq_result, rating_bar, summary_panel


def screen(db, reader, deck=None, **opts):
    s = Session(db, [deck or make_deck(n_flash=2, n_mcq=1)], Scheduler(Config(fuzz=False)), StudyOptions(**opts), T0)
    console = Console(file=io.StringIO(), width=80, force_terminal=False, color_system=None)
    clock = iter(T0 + timedelta(seconds=i) for i in range(10_000))
    return StudyScreen(s, console, reader, lambda: next(clock), rng=random.Random(0)), console


def text(console):
    return console.file.getvalue()


def revlog(db):
    return [tuple(r) for r in db.conn.execute("SELECT c.card_id, v.rating FROM revlog v JOIN cards c ON c.id = v.card ORDER BY v.id")]


def test_piped_session_flashcards_and_mcq(db):
    # c0: reveal + Good; c1: reveal + Again; m0 (shuffled with seed 0): answer by letter
    scr, con = screen(db, LineReader(io.StringIO("\n3\n\n1\nq\n")), deck=make_deck(n_flash=2))
    summary = scr.run()
    assert revlog(db) == [("c0", 3), ("c1", 1)]
    assert summary.answered == 2 and summary.correct == 1
    out = text(con)
    assert "front 0" in out and "back 0" in out and "Again" in out


def test_mcq_graded_by_letter(db):
    deck = make_deck(n_flash=0, n_mcq=1)
    scr, con = screen(db, Keys([]), deck=deck)
    # find which letter the seeded shuffle gives to the right answer ("beta", index 1)
    order = list(range(4))
    random.Random(0).shuffle(order)
    right = "abcd"[order.index(1)]
    wrong = "abcd"[order.index(0)]
    scr.reader = Keys([wrong, "n"])
    scr.run()
    assert revlog(db) == [("m0", 1)]
    assert "Not quite." in text(con) and f"The answer is {right}." in text(con)


def test_undo_key_restores_and_reshows(db):
    # c0: space, 4 (Easy); then on c1 press u: c0 is shown again; grade it 2, then quit
    scr, con = screen(db, Keys([" ", "4", "u", " ", "2", "q"]), deck=make_deck(n_flash=2))
    scr.run()
    assert revlog(db) == [("c0", 2)]
    assert "Undid d/c0." in text(con)


def test_suspend_key(db):
    scr, _con = screen(db, Keys(["s", "q"]), deck=make_deck(n_flash=2))
    scr.run()
    assert db.conn.execute("SELECT card_id FROM cards WHERE suspended = 1").fetchall()[0][0] == "c0"
    assert revlog(db) == []


def test_unrecognised_line_reprompts_and_eof_quits(db):
    scr, con = screen(db, LineReader(io.StringIO("\n9\nx\n3\n")), deck=make_deck(n_flash=2))
    summary = scr.run()
    assert revlog(db) == [("c0", 3)]
    assert "Unrecognised input '9'." in text(con)
    assert not summary.finished


def test_session_finishes_when_nothing_left(db):
    scr, _ = screen(db, LineReader(io.StringIO("\n3\n\n3\n" * 2)), deck=make_deck(n_flash=1))
    summary = scr.run()
    assert summary.finished and summary.answered == 2


def test_card_text_is_not_rich_markup(db):
    from dataclasses import replace

    deck = make_deck(n_flash=1)
    deck = replace(deck, cards=(replace(deck.cards[0], front="[bold]x[/bold] and [red]", back="a[0]"),))
    scr, con = screen(db, LineReader(io.StringIO("\n3\n")), deck=deck)
    scr.run()
    assert "[bold]x[/bold] and [red]" in text(con)


def test_rating_bar_and_summary_render():
    bar = rating_bar({r: timedelta(minutes=m) for r, m in zip(Rating, (1, 6, 10, 60 * 24 * 8))})
    assert bar.plain == " 1  Again 1m    2  Hard 6m    3  Good 10m    4  Easy 8d"
    from quizforge.ui.study import Summary

    con = Console(file=io.StringIO(), width=80, color_system=None)
    con.print(summary_panel(Summary(4, 3, 125, T0 + timedelta(days=2), [("d", "c1")], True, cards=3), T0))
    out = con.file.getvalue()
    assert "4 answers over 3 cards · 75% correct · 2m 05s" in out
    assert "Nothing more is due now. Next card due in 2d" in out
    assert "Leech: d/c1" in out


def test_mcq_result_marks_choices():
    from quizforge.decks.model import MCQ

    card = MCQ("m", "q", ("a1", "a2", "a3"), (0, 2), explanation="why")
    con = Console(file=io.StringIO(), width=80, color_system=None)
    con.print(mcq_result(card, [2, 1, 0], {2}))
    out = con.file.getvalue()
    assert "Not quite.  The answer is a, c." in out and "why" in out
    assert "✓ a) a3" in out and "✓ c) a1" in out


# -- a `type: generated` card: the drill hook returns a quizforge.drill.attempt.Attempt -------
class _Question:
    form = "number"
    skills = ("chain-rule",)


class _Problem:
    family, difficulty, seed = "softmax-ce", 2, 11

    def question(self, i=0):
        return _Question()


def drilled(solved, first_try, tries, hints=0, revealed=False, quit=False):
    from quizforge.drill.attempt import Attempt

    return Attempt(_Problem(), 0, solved, first_try, tries, hints, revealed, quit, 3.0, float(solved))


def generated_screen(db, attempts, n=3):
    """A deck of `n` generated cards; the hook hands out `attempts` in turn (then None)."""
    from pathlib import Path

    from quizforge.decks.model import Deck, GeneratedCard

    deck = Deck("g", "G", tuple(GeneratedCard(f"g{i}", "softmax-ce") for i in range(n)), Path("g.yaml"))
    scr, _ = screen(db, LineReader(io.StringIO("")), deck=deck)
    queue = list(attempts)
    calls = []

    def hook(card, console, reader, seed, on_key=None):
        calls.append(card.id)
        return queue.pop(0) if queue else None

    scr.run_generated = hook
    return scr, calls


def stored(db):
    return [
        tuple(r)
        for r in db.conn.execute(
            "SELECT c.card_id, v.rating, a.correct, a.solved, a.tries, a.hints, a.revealed, a.rating"
            " FROM drill_attempts a JOIN cards c ON c.id = a.card JOIN revlog v ON v.card = a.card"
            " ORDER BY a.id"
        )
    ]


def test_generated_cards_are_rated_good_hard_again(db):
    scr, calls = generated_screen(
        db, [drilled(True, True, 1), drilled(True, True, 1, hints=1), drilled(False, False, 2, revealed=True)]
    )
    summary = scr.run()
    assert stored(db) == [
        ("g0", 3, 1, 1, 1, 0, 0, "good"),  # first try
        ("g1", 2, 0, 1, 1, 1, 0, "hard"),  # right, but after a hint
        ("g2", 1, 0, 0, 2, 0, 1, "again"),  # revealed
    ]
    assert (summary.answered, summary.correct) == (3, 1)  # first-try correct only
    assert calls[:3] == ["g0", "g1", "g2"] and len(calls) == 4  # then None from the hook: quit


def test_generated_card_retried_is_hard_not_correct(db):
    scr, _ = generated_screen(db, [drilled(True, False, 3)], n=1)
    summary = scr.run()
    assert stored(db) == [("g0", 2, 0, 1, 3, 0, 0, "hard")]
    assert (summary.answered, summary.correct) == (1, 0)


@pytest.mark.parametrize("returned", [None, "unattempted"])
def test_generated_card_quit_before_answering_stores_nothing(db, returned):
    quit_early = drilled(False, False, 0, hints=1, quit=True)  # read a hint, then quit
    scr, calls = generated_screen(db, [] if returned is None else [quit_early])
    summary = scr.run()
    assert calls == ["g0"] and summary.answered == 0
    assert stored(db) == [] and revlog(db) == []
    assert db.conn.execute("SELECT COUNT(*) FROM drill_attempts").fetchone()[0] == 0


def test_generated_card_answered_then_quit_is_stored_and_ends_the_session(db):
    scr, calls = generated_screen(db, [drilled(False, False, 1, quit=True), drilled(True, True, 1)])
    summary = scr.run()
    assert stored(db) == [("g0", 1, 0, 0, 1, 0, 0, "again")]
    assert calls == ["g0"]  # no next card after the quit
    assert summary.answered == 1 and not summary.finished


# -- issue 10: rough edges of the study screen ------------------------------------------------
def header_lines(console):
    return [line for line in text(console).splitlines() if " done" in line]


def test_undo_with_nothing_to_undo_does_not_reveal(db):
    scr, con = screen(db, Keys(["u", "q"]), deck=make_deck(n_flash=2))
    scr.run()
    assert "Nothing to undo." in text(con)
    assert "back 0" not in text(con)  # the answer stays hidden
    assert revlog(db) == []


def test_counters_after_undo_of_an_answer_and_of_a_suspend(db):
    scr, con = screen(db, Keys([" ", "3", "u", "s", "u", "q"]), deck=make_deck(n_flash=3))
    scr.run()
    heads = [h.split("  ")[-1].strip() for h in header_lines(con)]
    assert heads == [
        # the card on screen is counted (as home and report count it)
        "3 new · 0 learning · 0 due · 0 done",  # c0
        "2 new · 1 learning · 0 due · 1 done",  # c1, c0 in learning
        "3 new · 0 learning · 0 due · 0 done",  # u: c0 again, c1 back among the new
        "2 new · 0 learning · 0 due · 0 done",  # s suspends c0: c1 shown
        "3 new · 0 learning · 0 due · 0 done",  # u: c0 unsuspended and shown again
    ]


def mcq_letters(seed=0):
    order = list(range(4))
    random.Random(seed).shuffle(order)
    return "abcd"[order.index(1)], "abcd"[order.index(0)]


def test_mcq_footer_and_one_warning_for_many_bad_keys(db):
    right, _ = mcq_letters()
    scr, con = screen(db, Keys(["x", "7", "z", right, "n"]), deck=make_deck(n_flash=0, n_mcq=1))
    scr.run()
    out = text(con)
    assert "a–d answer   s suspend   u undo   q quit" in out
    assert out.count("Choose one letter from a to d.") == 1
    assert revlog(db) == [("m0", 3)]


def test_select_all_feedback_marks_each_pick():
    from quizforge.decks.model import MCQ

    card = MCQ("m", "Which? Select all that apply.", ("p", "q", "r", "s"), (0, 2))
    con = Console(file=io.StringIO(), width=80, color_system=None)
    con.print(mcq_result(card, [0, 1, 2, 3], {0, 1}))
    lines = [line.strip("│ ") for line in con.file.getvalue().splitlines()]
    assert "✓ a) p  ← right" in lines
    assert "✗ b) q  ← wrong" in lines
    assert "✓ c) r  ← missed" in lines
    assert "d) s" in lines


def test_select_all_that_apply_said_once():
    from quizforge.decks.model import MCQ
    from quizforge.ui.study import mcq_question

    con = Console(file=io.StringIO(), width=80, color_system=None)
    con.print(mcq_question(MCQ("m", "Which? Select all that apply.", ("p", "q"), (0, 1)), [0, 1]))
    con.print(mcq_question(MCQ("m", "Which ones?", ("p", "q"), (0, 1)), [0, 1]))
    assert con.file.getvalue().lower().count("select all that apply") == 2  # once per card


def test_summary_counts_answers_over_cards(db):
    # c0 Again (stays in learning, comes back after c1), c1 Good, c0 Good
    scr, _ = screen(db, LineReader(io.StringIO("\n1\n\n3\n\n3\nq\n")), deck=make_deck(n_flash=2))
    scr.clock = lambda: T0 + timedelta(hours=1)  # c0's 1-minute step is due again
    summary = scr.run()
    assert (summary.answered, summary.cards) == (3, 2)
    con = Console(file=io.StringIO(), width=80, color_system=None)
    con.print(summary_panel(summary, T0))
    assert "3 answers over 2 cards · 67% correct" in con.file.getvalue()


def test_interval_labels_are_what_is_stored_or_marked_approximate(db):
    from quizforge.scheduling.scheduler import format_interval
    from quizforge.store.db import from_ms

    for fuzz in (False, True):
        d = Database(":memory:")
        s = Session(d, [make_deck(n_flash=1)], Scheduler(Config(fuzz=fuzz)), StudyOptions(), T0)
        con = Console(file=io.StringIO(), width=100, force_terminal=False, color_system=None)
        StudyScreen(s, con, Keys([" ", "4", "q"]), lambda: T0, rng=random.Random(0)).run()
        label = text(con).split("Easy ")[1].split()[0]
        due = from_ms(d.conn.execute("SELECT due FROM cards").fetchone()[0])
        if fuzz:
            assert label.startswith("≈")
        else:
            assert label == format_interval(due - T0)
        d.close()


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_header_and_bars_read_at_40_60_80(width):
    from quizforge.scheduling.scheduler import CardSchedule
    from quizforge.study.queue import Entry
    from quizforge.ui.study import header, keys_hint

    entry = Entry(1, "backprop", "chain-rule-backprop-definition", CardSchedule())
    con = Console(file=io.StringIO(), width=width, color_system=None)
    con.print(header(entry, {"new": 19, "learning": 0, "review": 12}, 3, False))
    bar = rating_bar({r: timedelta(minutes=m) for r, m in zip(Rating, (1, 6, 10, 60 * 24 * 8))}, fuzz=True)
    con.print(bar)
    con.print(keys_hint(("a–d", "answer"), ("s", "suspend"), ("u", "undo"), ("q", "quit")))
    lines = con.file.getvalue().splitlines()
    assert all(len(line) <= width for line in lines)
    text_ = "\n".join(lines)
    assert "backprop ·" in text_ and "chain-rule-backprop-definition" in text_  # not "ba…"
    assert "19 new · 0 learning · 12 due · 3 done" in text_
    for item in (" 3  Good 10m", " 4  Easy ≈8d", "s suspend", "a–d answer"):
        assert item in text_, (width, item)  # no grade or key broken across lines
    if width >= 120:
        assert len(lines) == 3  # one line each where they fit
