"""`quizforge study` and the store-backed columns of `quizforge decks`, through the CLI."""

import json

import pytest
from typer.testing import CliRunner

from quizforge.cli import app

runner = CliRunner()
DECK = """\
deck: tiny
name: Tiny
cards:
  - id: one
    front: Front one
    back: Back one
  - id: two
    front: Front two
    back: Back two
  - id: pick
    type: mcq
    question: Pick b
    choices: [wrong, right]
    answer: b
    explanation: Because b.
"""


@pytest.fixture
def decks(tmp_path, monkeypatch):
    d = tmp_path / "decks"
    d.mkdir()
    (d / "tiny.yaml").write_text(DECK)
    monkeypatch.setenv("QUIZFORGE_DECKS", str(d))
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-02T12:00:00Z")
    # These scripts answer the cards in file order; the mixed order has its own tests.
    assert runner.invoke(app, ["config", "set", "new_order", "deck"]).exit_code == 0
    return d


def tiny_row():
    rows = json.loads(runner.invoke(app, ["decks", "--json"]).stdout)
    return next(r for r in rows if r["id"] == "tiny")


def test_scripted_session_and_deck_counts(decks):
    assert {k: tiny_row()[k] for k in ("new", "due", "reviews")} == {"new": 3, "due": 0, "reviews": 0}
    # seed 1 puts "right" first for this MCQ: answer a
    r = runner.invoke(app, ["study", "--deck", "tiny", "--seed", "1"], input="\n3\n\n1\na\nq\n")
    assert r.exit_code == 0, r.output
    assert "Front one" in r.stdout and "Back one" in r.stdout
    assert "Correct!" in r.stdout and "Because b." in r.stdout
    assert "3 answers over 3 cards · 67% correct" in r.stdout
    row = tiny_row()
    assert {k: row[k] for k in ("new", "due", "reviews")} == {"new": 0, "due": 0, "reviews": 3}


def test_nothing_due_says_when_next(decks, monkeypatch):
    runner.invoke(app, ["config", "set", "fuzz", "false"])  # exact intervals
    runner.invoke(app, ["study", "--deck", "tiny", "--new", "2"], input="\n4\n\n4\n")
    r = runner.invoke(app, ["study", "--deck", "tiny", "--new", "2"])  # today's 2 new are used up
    assert r.exit_code == 0
    assert r.stdout.startswith("Nothing to study right now. Next card due in 8d (")
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-22T12:00:00Z")
    assert tiny_row()["due"] == 2


def test_tag_and_deck_errors(decks):
    r = runner.invoke(app, ["study", "--deck", "nope"])
    assert r.exit_code == 1
    from quizforge.decks import load_decks
    from quizforge.paths import bundled_decks_dir

    found = sorted([*(d.id for d in load_decks([bundled_decks_dir()]).decks), "tiny"])
    assert r.stderr.strip() == f"Error: no deck with id 'nope' (decks found: {', '.join(found)})"
    r = runner.invoke(app, ["study", "--tag", "nothing-has-this"])
    assert r.exit_code == 1 and r.stderr.strip() == "Error: no cards match tag nothing-has-this"
    r = runner.invoke(app, ["study", "--limit", "0"])
    assert r.exit_code == 2


def test_no_decks_at_all(monkeypatch, tmp_path):
    import quizforge.paths

    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(quizforge.paths, "bundled_decks_dir", lambda: empty)
    r = runner.invoke(app, ["study"])
    assert r.exit_code == 1 and r.stderr.startswith("Error: no decks found")


def test_broken_deck_warned_once_and_others_still_load(decks):
    (decks / "broken.yaml").write_text("deck: broken\nname: B\ncards:\n  - id: x\n    front: f\n")
    r = runner.invoke(app, ["study", "--deck", "tiny", "--limit", "1"], input="q\n")
    assert r.exit_code == 0
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {decks / 'broken.yaml'}:4: missing required field 'back' in card 'x'"]


def test_cram_leaves_schedule_alone(decks):
    r = runner.invoke(app, ["study", "--deck", "tiny", "--cram", "--seed", "1"], input="\n3\n\n3\na\n")
    assert r.exit_code == 0
    assert tiny_row()["new"] == 3 and tiny_row()["reviews"] == 3


def test_a_deck_file_rewritten_before_its_cards_were_built_is_a_clean_error(decks, monkeypatch):
    """A deck from the compiled-deck cache builds its cards when one is shown: if by then
    its row is gone and the file holds other cards, study stops with one line, and the
    next start reads the file as it is."""
    import sqlite3

    from quizforge.paths import deck_cache_path
    from quizforge.study.session import Session

    assert runner.invoke(app, ["decks", "--json"]).exit_code == 0  # cached and synced
    real = Session._build

    def build_then_rewrite(self, now, rng):
        queue = real(self, now, rng)
        with sqlite3.connect(deck_cache_path()) as conn:  # another process's doing
            conn.execute("DELETE FROM deck_files")
        (decks / "tiny.yaml").write_text(DECK.replace("id: one", "id: uno"))
        return queue

    monkeypatch.setattr(Session, "_build", build_then_rewrite)
    r = runner.invoke(app, ["study", "--deck", "tiny"], input="q\n")
    assert r.exit_code == 1
    path = decks / "tiny.yaml"
    assert r.stderr == (f"Error: {path} changed while quizforge was reading it: run the"
                        " command again\n")
    monkeypatch.setattr(Session, "_build", real)
    r = runner.invoke(app, ["study", "--deck", "tiny"], input="q\n")
    assert r.exit_code == 0, r.output
    assert "Front two" in r.stdout  # "one" is gone from the deck; "uno" is new, last
