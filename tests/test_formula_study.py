"""Formula cards on the study screen: scripted lines (a pipe), a terminal-like reader, and
`quizforge study` through the CLI."""

from __future__ import annotations

import io
import json
import random
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import T0, Keys
from rich.console import Console
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.decks.model import Deck, FormulaCard
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Scheduler
from quizforge.study.session import Session, StudyOptions
from quizforge.ui.keys import LineReader
from quizforge.ui.study import StudyScreen

SIG = FormulaCard("sig", "d/dz σ(z) = ?", "σ(z)(1 − σ(z))", ("z",),
                  mistakes=(("σ(z)", "That is σ itself, not its derivative."),),
                  explanation="σ′ peaks at 1/4.")
TANH = FormulaCard("tanh", "d/dx tanh(x) = ?", "1 − tanh²(x)", ("x",))
DECK = Deck("d", "D", (SIG, TANH), Path("d.yaml"))


def screen(db, reader):
    s = Session(db, [DECK], Scheduler(Config(fuzz=False)), StudyOptions(), T0)
    console = Console(file=io.StringIO(), width=200, force_terminal=False, color_system=None)
    clock = iter(T0 + timedelta(seconds=i) for i in range(10_000))
    return StudyScreen(s, console, reader, lambda: next(clock), rng=random.Random(0)), console


def revlog(db):
    return [tuple(r) for r in db.conn.execute(
        "SELECT c.card_id, v.rating FROM revlog v JOIN cards c ON c.id = v.card ORDER BY v.id")]


def test_piped_lines_unreadable_asked_again_then_graded(db):
    scr, con = screen(db, LineReader(io.StringIO("σ'(z)\nσ(z)\n-tanh(x)^2 + 1\n")))
    summary = scr.run()
    assert revlog(db) == [("sig", 1), ("tanh", 3)]  # wrong = Again, right = Good
    assert (summary.answered, summary.correct) == (2, 1)
    out = con.file.getvalue()
    assert "Type the formula (an empty line shows the answer)." in out
    assert ("Could not read that formula: a prime (') is not allowed: write the derivative out, "
            "e.g. 3x² rather than f'(x). Not graded: try again.") in out
    assert "✗ Not quite." in out and "That is σ itself, not its derivative." in out
    assert "answer σ(z)(1 − σ(z))" in out and "σ′ peaks at 1/4." in out
    assert "✓ Correct!" in out and "yours  -tanh(x)^2 + 1" in out


def test_empty_line_shows_the_answer_graded_again(db):
    scr, con = screen(db, LineReader(io.StringIO("\nq\n")))
    scr.run()
    assert revlog(db) == [("sig", 1)]
    assert "✗ No answer given (graded Again)." in con.file.getvalue()


def test_hostile_answer_is_refused_and_nothing_is_graded(db, tmp_path):
    target = tmp_path / "pwned"
    scr, con = screen(db, LineReader(io.StringIO(
        f"__import__('os').system('touch {target}')\nopen('{target}', 'w')\nq\n")))
    scr.run()
    assert revlog(db) == [] and not target.exists()
    out = con.file.getvalue()
    assert "names starting with an underscore are not allowed ('__import__')" in out
    assert "'open' is not allowed in an answer" in out


def test_terminal_reads_a_line_then_a_key_and_undo_works(db):
    keys = Keys(["u", "n"], lines=["σ(z)(1-σ(z))", "e^(−z)/(1 + e^(−z))²", "q"])
    scr, con = screen(db, keys)
    summary = scr.run()
    # Answered right, undone from the "any key: next" prompt, answered right again; quit on tanh.
    assert revlog(db) == [("sig", 3)]
    assert summary.answered == 1
    out = con.file.getvalue()
    assert "Undid d/sig." in out
    assert out.count("✓ Correct!") == 2
    assert "any key next" in out and "empty line show the answer" in out


def test_suspend_from_the_formula_prompt(db):
    scr, _con = screen(db, Keys([], lines=["s", "q"]))
    scr.run()
    assert [r[0] for r in db.conn.execute("SELECT card_id FROM cards WHERE suspended = 1")] == ["sig"]
    assert revlog(db) == []


# -- through the CLI ---------------------------------------------------------------------------

runner = CliRunner()
YAML = """\
deck: fx
name: Formulas
cards:
  - id: sig
    type: formula
    question: d/dz σ(z) = ?
    answer: σ(z)(1 − σ(z))
    variables: [z]
    mistakes:
      - answer: σ(z)
        message: That is σ itself, not its derivative.
  - id: adam
    type: formula
    question: Adam's update with bias-corrected m̂, v̂?
    answer: −η·m̂/(√v̂ + ε)
    variables: [eta, mhat, vhat, eps]
    domain: {vhat: [0.01, 1], eps: [0.01, 0.5]}
"""


@pytest.fixture
def decks(tmp_path, monkeypatch):
    d = tmp_path / "decks"
    d.mkdir()
    (d / "fx.yaml").write_text(YAML, encoding="utf-8")
    monkeypatch.setenv("QUIZFORGE_DECKS", str(d))
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-02T12:00:00Z")
    return d


def test_scripted_study_grades_formula_cards(decks):
    r = runner.invoke(app, ["study", "--deck", "fx"],
                      input="σ(z\n-σ(z)(1 - σ(z))\n−η m̂/(√(v̂) + ε)\n")
    assert r.exit_code == 0, r.output
    assert "Could not read that formula" in r.stdout
    assert "Sign error: the size is right but the sign is wrong." in r.stdout
    assert "✓ Correct!" in r.stdout
    assert "In terms of eta (η), mhat (m̂), vhat (v̂), eps (ε)." in r.stdout
    assert "2 answers over 2 cards · 50% correct" in r.stdout


    rows = json.loads(runner.invoke(app, ["decks", "--json"]).stdout)
    row = next(r for r in rows if r["id"] == "fx")
    assert row["cards"]["formula"] == 2 and row["reviews"] == 2


def test_validate_reports_a_bad_formula_with_file_and_line(decks):
    (decks / "bad.yaml").write_text(
        "deck: bad\nname: Bad\ncards:\n  - id: b\n    type: formula\n    question: Q\n"
        "    answer: σ(z)(1 − σ(y))\n    variables: [z]\n", encoding="utf-8")
    r = runner.invoke(app, ["validate", str(decks)])
    assert r.exit_code == 1
    assert (f"{decks / 'bad.yaml'}:7: answer 'σ(z)(1 − σ(y))' of card 'b' is not a formula in z: "
            "unknown name 'y' (use z, e, pi and functions like exp, log, σ)") in r.output
