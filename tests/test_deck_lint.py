"""Deck lint: choices named by letter or position (errors unless `shuffle: false`), answer
give-aways (warnings, counted per deck), and `quizforge validate --strict`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.decks.lint import deck_warnings, position_references, prompt_numbers
from quizforge.decks.model import MCQ, Flashcard
from quizforge.decks.validate import parse_deck

LINT = Path(__file__).parent / "fixtures" / "decks" / "lint"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _width_80(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # messages are long: one per line


def refs(text: str, n: int = 4) -> list[str]:
    return position_references(text, n)


# -- what counts as naming a choice ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("choice c gives the local gradients", ["choice c"]),
        ("Choice a forgets the swap.", ["Choice a"]),
        ("option (b) is wrong", ["option (b)"]),
        ("the answer a) is right", ["answer a)"]),
        ("The answer is d.", ["answer is d"]),
        ("answer: c", ["answer: c"]),
        ("choices a and c are traps", ["choices a and c"]),
        ("Stepping early (b, d) uses stale values.", ["(b, d)"]),
        ("Option B is off by one; (C) too.", ["Option B", "(C)"]),
        ("so c is false", ["c is false"]),
        ("b and d are wrong", ["b and d are wrong"]),
        ("the first option is backwards", ["the first option"]),
        ("The last one inverts it.", ["The last one"]),
        ("the second choice swaps the sides", ["the second choice"]),
        ("option #2 drops x", ["option #2"]),
        ("c) forgets the upstream gradient", ["c)"]),
        ("It is none of the above.", ["none of the above"]),
    ],
)
def test_references_are_found(text, expected):
    assert refs(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "a is not even a word here, but the option a learner picks is fine",
        "Pick the choice a careful reader would: it is a trap.",
        "The answer is a constant.",
        "σ′ = a(1 − a), so the local gradient f(b) needs the cached a.",
        "The residual (x + b) is added to f(a).",
        "Keep a copy of x (y is not needed).",
        "option x is a variable here",  # x labels no choice of a 4-choice card
        "The first class is the correct one; ResNet-50 was trained first.",
        "Choice of optimizer matters: Adam, then SGD.",
        "The answer 3.5 is the loss value, not the slope.",
    ],
)
def test_ordinary_prose_and_maths_are_not_references(text):
    assert refs(text) == []


def test_option_number_that_is_itself_a_choice_is_a_value():
    assert position_references("option 2 is too small", 4, ("1", "2", "3", "4")) == []
    assert position_references("option #2 is too small", 4, ("x", "y")) == ["option #2"]


# -- errors in decks -----------------------------------------------------------------------


def parse(path: Path):
    return parse_deck(path.read_text(encoding="utf-8"), path)


def test_each_reference_is_an_error_at_its_field():
    got = [(p.line, p.message.split(" refers")[0]) for p in parse(LINT / "letters.yaml").problems]
    assert got == [
        (11, "'explanation' of card 'by-letter'"),
        (19, "'hint' of card 'by-position'"),
        (25, "'explanation' of card 'by-verdict'"),
        (29, "choice 'all of the above' of card 'above'"),
    ]
    first = parse(LINT / "letters.yaml").problems[0].message
    assert first == (
        "'explanation' of card 'by-letter' refers to a choice by letter or position "
        "('Choice a', 'choice c', 'option (d)'), but choices are shuffled on screen: "
        "name the choice by its content, or add 'shuffle: false'"
    )


def test_shuffle_false_opts_out_and_is_kept():
    parsed = parse(LINT / "letters-optout.yaml")
    assert parsed.problems == []
    (card,) = parsed.deck.cards
    assert card.shuffle is False


def test_shuffle_must_be_a_boolean():
    text = textwrap.dedent(
        """\
        deck: d
        name: D
        cards:
          - id: m
            type: mcq
            shuffle: sometimes
            question: Q?
            choices: [x, y]
            answer: a
        """
    )
    got = [f"{p.line}: {p.message}" for p in parse_deck(text, Path("d.yaml")).problems]
    assert got == ["6: 'shuffle' must be true or false, got 'sometimes'"]


def test_a_list_of_one_letter_is_a_select_all_question():
    text = "deck: d\nname: D\ncards:\n  - {id: m, type: mcq, question: Q?, choices: [x, y], answer: [b]}\n"
    (card,) = parse_deck(text, Path("d.yaml")).deck.cards
    assert card.multi and card.select_all and card.answer == (1,)


# -- warnings ------------------------------------------------------------------------------


def test_each_warning_fires_once_with_its_counts():
    deck = parse(LINT / "cues.yaml").deck
    got = [f"{w.line}: {w.message}" for w in deck_warnings(deck)]
    assert got == [
        (
            "13: warning: deck 'lint-cues': all 2 select-all cards have every choice but one "
            "right, so 'all but one' is a safe guess; vary how many are right (1 to all)"
        ),
        (
            "23: warning: deck 'lint-cues': the key is the longest choice in 4 of 5 "
            "single-answer prose MCQs (80% > 40%), so 'pick the longest' pays; write "
            "distractors as long as the key (long-1, long-2, long-3, long-4)"
        ),
        (
            "8: warning: deck 'lint-cues': card 'worked-again' uses the numbers of card "
            "'worked' (line 5: 2, 3, 4), so its answer can be remembered rather than worked "
            "out; change the numbers"
        ),
    ]


def test_a_long_key_in_a_deck_of_few_mcqs_is_chance():
    from quizforge.decks.model import Deck

    long_key = _mcq(["short", "a much longer choice than the rest", "tiny"], (1,))
    assert deck_warnings(Deck("d", "D", (long_key,) * 4, Path("d"))) == []


def _mcq(choices, answer, **kw) -> MCQ:
    return MCQ("m", "Q?", tuple(choices), tuple(answer), **kw)


def test_select_all_warning_needs_every_card_at_n_minus_1():
    from quizforge.decks.model import Deck

    varied = Deck(
        "d", "D", (_mcq("wxyz", (0, 1, 2)), _mcq("wxyz", (0,), select_all=True)), Path("d")
    )
    assert deck_warnings(varied) == []


def test_longest_key_at_40_percent_is_fine():
    from quizforge.decks.model import Deck

    choices = ["short", "a much longer choice than the rest", "tiny"]
    long_key, short_key = _mcq(choices, (1,)), _mcq(choices, (0,))
    cards = (long_key, long_key, short_key, short_key, short_key)  # 2 of 5 = 40%
    assert deck_warnings(Deck("d", "D", cards, Path("d"))) == []
    cards = (long_key, long_key, long_key, short_key, short_key)  # 3 of 5 = 60%
    assert len(deck_warnings(Deck("d", "D", cards, Path("d")))) == 1


def test_numeric_choices_do_not_count_as_longest():
    from quizforge.decks.model import Deck

    numeric = _mcq(["4", "8", "12", "280"], (3,))
    assert deck_warnings(Deck("d", "D", (numeric,) * 6, Path("d"))) == []


def test_prompt_numbers_skip_names_and_normalise():
    card = Flashcard("f", "ResNet-50 with x = −0.50, L2 and fp16 at 10⁻³; y = 2, z = 2.0", "b")
    assert prompt_numbers(card) == {"-0.5", "2", "10"}  # 10⁻³: the superscript is not read


# -- the command ---------------------------------------------------------------------------


def test_validate_prints_warnings_and_counts_but_passes():
    r = runner.invoke(app, ["validate", str(LINT / "cues.yaml")])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[-2] == "ok: 1 deck, 9 cards"
    assert lines[-1] == "3 warnings (lint-cues 3)"
    assert sum("warning:" in line for line in lines) == 3


def test_strict_fails_on_warnings():
    r = runner.invoke(app, ["validate", "--strict", str(LINT / "cues.yaml")])
    assert r.exit_code == 1
    r = runner.invoke(app, ["validate", "--strict", "--json", str(LINT / "cues.yaml")])
    doc = json.loads(r.stdout)
    assert r.exit_code == 1 and doc["ok"] is False and doc["problems"] == []
    assert len(doc["warnings"]) == 3


def test_strict_passes_a_clean_deck_and_letters_fail_without_strict():
    assert (
        runner.invoke(app, ["validate", "--strict", str(LINT / "letters-optout.yaml")]).exit_code
        == 0
    )
    assert runner.invoke(app, ["validate", str(LINT / "letters.yaml")]).exit_code == 1


def test_bundled_decks_pass_strict():
    r = runner.invoke(app, ["validate", "--strict"])
    assert r.exit_code == 0, r.output
    assert "warning" not in r.stdout


# -- the study screen keeps the order of a `shuffle: false` card ----------------------------


def test_study_screen_keeps_the_order_when_shuffle_is_false():
    import io
    import random
    import re
    from datetime import timedelta

    from helpers import T0
    from rich.console import Console

    from quizforge.decks.model import Deck
    from quizforge.scheduling.config import Config
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store.db import Database
    from quizforge.study.session import Session, StudyOptions
    from quizforge.ui.study import StudyScreen

    choices = ("alpha", "beta", "gamma", "delta", "epsilon")
    for shuffle in (False, True):
        card = MCQ("m", "Q?", choices, (1,), shuffle=shuffle)
        db = Database(":memory:")
        deck = Deck("d", "D", (card,), Path("d.yaml"))
        session = Session(db, [deck], Scheduler(Config(fuzz=False)), StudyOptions(), T0)
        console = Console(file=io.StringIO(), width=80, color_system=None)
        clock = iter(T0 + timedelta(seconds=i) for i in range(100))

        class Keys:
            interactive = True

            def __init__(self):
                self.keys = ["b", "n"]

            def key(self):
                return self.keys.pop(0) if self.keys else None

            def line(self, prompt=""):
                return None

        screen = StudyScreen(session, console, Keys(), clock.__next__, rng=random.Random(0))
        screen.run()
        out = console.file.getvalue()
        shown = re.findall(r"\b([a-e])\) (alpha|beta|gamma|delta|epsilon)\b", out)[:5]
        in_order = [name for _, name in shown] == list(choices)
        assert in_order is not shuffle, out  # seed 0 moves at least one of five choices
        db.close()
