"""`quizforge cards search | show | edit`, with a fake editor script."""

import json
import os
import sys
import textwrap
from datetime import timedelta

import pytest
from helpers import T0
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.decks.edit import editor_argv, open_at_line
from quizforge.decks.search import excerpt
from quizforge.scheduling.scheduler import Rating, Scheduler
from quizforge.store import cards as store
from quizforge.store import open_store

runner = CliRunner()

DECK = textwrap.dedent("""\
    deck: ml
    name: ML basics
    cards:
      - id: lr-basics
        front: What does the Learning Rate control?
        back: The step size of gradient descent.
      - id: pick-loss
        type: mcq
        question: Which loss suits binary labels?
        choices: [Mean squared error, Binary cross-entropy, Hinge on one-hot]
        answer: b
        explanation: Cross-entropy is the negative log-likelihood of a Bernoulli model.
      - id: why-scale
        type: explain
        question: Why scale attention logits?
        points:
          - Dot products grow with the dimension d_k
          - Large logits saturate the softmax
          - Its gradients then vanish
    """)
OTHER = textwrap.dedent("""\
    deck: other
    name: Other
    tags: [extra]
    cards:
      - id: lr-basics
        front: Same id in another deck
        back: Yes.
    """)


@pytest.fixture
def folders(tmp_path, monkeypatch):
    import quizforge.paths

    shipped, mine = tmp_path / "shipped", tmp_path / "mine"
    shipped.mkdir()
    mine.mkdir()
    (shipped / "ml.yaml").write_text(DECK, encoding="utf-8")
    (mine / "other.yaml").write_text(OTHER, encoding="utf-8")
    monkeypatch.setattr(quizforge.paths, "bundled_decks_dir", lambda: shipped)
    monkeypatch.setenv("QUIZFORGE_DECKS", str(mine))
    monkeypatch.setenv("QUIZFORGE_NOW", (T0 + timedelta(days=3)).isoformat())
    for name in ("VISUAL", "EDITOR"):
        monkeypatch.delenv(name, raising=False)
    return shipped, mine


def fake_editor(tmp_path, body: str):
    """An editor script: logs its arguments, then runs `body` (Python) on the file, which
    is the last argument (`+LINE FILE`)."""
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys, pathlib\n"
        f"pathlib.Path({str(tmp_path / 'editor.log')!r}).write_text(' '.join(sys.argv[1:]))\n"
        "path = pathlib.Path(sys.argv[-1])\n"
        "text = path.read_text(encoding='utf-8')\n" + body + "\n"
        "path.write_text(text, encoding='utf-8')\n", encoding="utf-8")
    return f"{sys.executable} {script}"


def test_search_finds_text_in_any_field_any_case(folders):
    r = runner.invoke(app, ["cards", "search", "learning rate", "--json"])
    assert r.exit_code == 0, r.stderr
    assert [(m["deck"], m["card"], m["field"]) for m in json.loads(r.stdout)] == [
        ("ml", "lr-basics", "front")]
    hits = json.loads(runner.invoke(app, ["cards", "search", "BERNOULLI", "--json"]).stdout)
    assert [(m["card"], m["type"], m["field"]) for m in hits] == [
        ("pick-loss", "mcq", "explanation")]
    hits = json.loads(runner.invoke(app, ["cards", "search", "saturate", "--json"]).stdout)
    assert [(m["card"], m["field"], m["excerpt"]) for m in hits] == [
        ("why-scale", "point 2", "Large logits saturate the softmax")]
    hits = json.loads(runner.invoke(app, ["cards", "search", "hinge", "--json"]).stdout)
    assert [(m["card"], m["field"]) for m in hits] == [("pick-loss", "choice 3")]


def test_search_filters_and_text_output(folders):
    r = runner.invoke(app, ["cards", "search", "lr-basics"])
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        "ml/lr-basics  flashcard", "  lr-basics",
        "other/lr-basics  flashcard", "  lr-basics",
        "2 cards · quizforge cards show DECK/ID"]
    hits = json.loads(runner.invoke(app, ["cards", "search", "lr-basics", "--tag", "extra",
                                          "--json"]).stdout)
    assert [m["deck"] for m in hits] == ["other"]
    hits = json.loads(runner.invoke(app, ["cards", "search", "lr", "-d", "ml", "--json"]).stdout)
    assert [m["deck"] for m in hits] == ["ml"]
    r = runner.invoke(app, ["cards", "search", "zzz"])
    assert (r.exit_code, r.stdout.strip()) == (0, "No card holds 'zzz'.")
    r = runner.invoke(app, ["cards", "search", "x", "--deck", "nope"])
    assert (r.exit_code, r.stderr.strip()) == (
        1, "Error: no deck with id 'nope' (`quizforge decks` lists them)")
    r = runner.invoke(app, ["cards", "search", "x", "--tag", "nope"])
    assert (r.exit_code, r.stderr.strip()) == (1, "Error: no card has tag 'nope'")
    r = runner.invoke(app, ["cards", "search", "  "])
    assert r.exit_code == 1 and r.stderr.startswith("Error: search for some text")


def test_excerpt_keeps_the_match_and_marks_cuts():
    line = "a" * 100 + "NEEDLE" + "b" * 100
    text, start, end = excerpt(line, 100, 106, width=30)
    assert text[start:end] == "NEEDLE" and text.startswith("…") and text.endswith("…")
    assert len(text) == 32
    assert excerpt("short NEEDLE here", 6, 12) == ("short NEEDLE here", 6, 12)


def test_show_ambiguous_and_unknown_ids(folders):
    r = runner.invoke(app, ["cards", "show", "lr-basics"])
    assert (r.exit_code, r.stderr.strip()) == (
        1, "Error: card id 'lr-basics' is in 2 decks: name one as DECK/ID "
        "(ml/lr-basics, other/lr-basics)")
    r = runner.invoke(app, ["cards", "show", "nope"])
    assert (r.exit_code, r.stderr.strip()) == (
        1, "Error: no card 'nope' in any deck: `quizforge cards search TEXT` finds cards by "
        "their text")
    r = runner.invoke(app, ["cards", "show", "ml/pick-loss", "--json"])
    d = json.loads(r.stdout)
    assert (d["card"], d["type"], d["answer"], d["schedule"], d["reviews"]["total"]) == (
        "pick-loss", "mcq", ["Binary cross-entropy"], None, 0)
    assert d["line"] == 7 and d["choices"][0] == "Mean squared error"


def test_show_schedule_and_last_reviews(folders):
    from quizforge.decks.loader import load_search_path

    decks = load_search_path().decks
    sched = Scheduler()
    with open_store(write=True) as db:
        store.sync_decks(db, decks, T0)
        row = store.find_card(db, "ml", "why-scale")
        s = row.schedule
        for i, rating in enumerate((Rating.GOOD, Rating.GOOD)):
            at = T0 + timedelta(days=i)
            s, rec = sched.review(s, rating, at, 5000)
            with db.atomic() as conn:
                store.write_schedule(conn, row.rowid, s)
                store.insert_review(conn, row.rowid, rec)
    r = runner.invoke(app, ["cards", "show", "why-scale", "--json"])
    d = json.loads(r.stdout)
    now = T0 + timedelta(days=3)
    assert d["points"][1] == "Large logits saturate the softmax"
    assert d["schedule"]["state"] == s.state.name.lower()
    assert d["schedule"]["stability"] == round(s.stability, 4)
    assert d["schedule"]["difficulty"] == round(s.difficulty, 4)
    # recall now, from the FSRS curve: R = (1 + F·t/S)^D with t whole days since the last review
    decay = sched.decay
    factor = 0.9 ** (1 / decay) - 1
    t = (now - s.last_review).days
    assert d["schedule"]["retrievability"] == pytest.approx((1 + factor * t / s.stability) ** decay,
                                                             abs=1e-4)
    assert [x["rating"] for x in d["reviews"]["last"]] == ["good", "good"]
    assert d["reviews"]["last"][0]["at"] == "2026-03-03T12:00:00Z"  # newest first
    r = runner.invoke(app, ["cards", "show", "why-scale"])
    assert r.exit_code == 0
    for text in ("ml/why-scale  explain", "point 3", "Its gradients then vanish", "Schedule",
                 "stability", "recall now", "Last answers", "Good"):
        assert text in r.stdout


def test_editor_choice_and_line_argument(monkeypatch):
    env = {"VISUAL": "code --wait", "EDITOR": "nano"}
    assert editor_argv(env) == ["code", "--wait"]
    assert editor_argv({"EDITOR": "nano -w"}) == ["nano", "-w"]
    assert editor_argv({}, which=lambda n: "/usr/bin/nano" if n == "nano" else None) == ["nano"]
    from quizforge.decks.edit import EditorError

    with pytest.raises(EditorError, match="no editor found: set \\$EDITOR"):
        editor_argv({}, which=lambda n: None)
    p = "/d/ml.yaml"
    from pathlib import Path

    assert open_at_line(["vi"], Path(p), 12) == ["vi", "+12", p]
    assert open_at_line(["emacs", "-nw"], Path(p), 3) == ["emacs", "-nw", "+3", p]
    assert open_at_line(["/usr/bin/code", "--wait"], Path(p), 12) == [
        "/usr/bin/code", "--wait", "-g", f"{p}:12"]
    assert open_at_line(["codium"], Path(p), 12) == ["codium", "--wait", "-g", f"{p}:12"]
    assert open_at_line(["subl", "-w"], Path(p), 2) == ["subl", "-w", f"{p}:2"]


def test_edit_own_deck_valid_and_broken(folders, tmp_path, monkeypatch):
    shipped, mine = folders
    monkeypatch.setenv("EDITOR", fake_editor(
        tmp_path, "text = text.replace('Yes.', 'Yes, edited.')"))
    r = runner.invoke(app, ["cards", "edit", "other/lr-basics"])
    assert (r.exit_code, r.stdout.strip()) == (0, "other.yaml is valid."), r.stderr
    assert (tmp_path / "editor.log").read_text() == f"+5 {mine / 'other.yaml'}"
    assert "Yes, edited." in (mine / "other.yaml").read_text()
    # a broken file: the problems and how to open it again; nothing else changes
    monkeypatch.setenv("VISUAL", fake_editor(
        tmp_path, "text = text.replace('back: Yes, edited.', 'bak: x')"))
    r = runner.invoke(app, ["cards", "edit", "other/lr-basics"])
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith(f"{mine / 'other.yaml'}:5: ")
    assert lines[-1].startswith("Error: other.yaml has 2 problems: the deck is left out until "
                                "they are fixed, and your progress is kept. Open it again with: ")
    assert lines[-1].endswith(f" +5 {mine / 'other.yaml'}")


def test_edit_renamed_card_says_where_progress_stays(folders, tmp_path, monkeypatch):
    shipped, mine = folders
    monkeypatch.setenv("EDITOR", fake_editor(
        tmp_path, "text = text.replace('id: lr-basics', 'id: lr-2')"))
    r = runner.invoke(app, ["cards", "edit", "other/lr-basics"])
    assert r.exit_code == 0
    assert r.stderr.strip() == (
        "note: no card 'lr-basics' in the deck now: if you renamed it, the new id starts as a "
        "new card and the old one's progress stays under other/lr-basics")


def test_edit_bundled_deck_copies_it_and_keeps_progress(folders, tmp_path, monkeypatch):
    shipped, mine = folders
    home = tmp_path / "home"
    monkeypatch.setenv("EDITOR", fake_editor(
        tmp_path, "text = text.replace('step size', 'step length')"))
    r = runner.invoke(app, ["cards", "edit", "ml/lr-basics"], input="n\n")
    assert r.exit_code == 0
    assert "part of the quizforge package" in r.stdout and "Nothing copied" in r.stdout
    assert not (home / "decks").exists() and not (tmp_path / "editor.log").exists()
    with open_store(write=True) as db:  # some progress on the bundled card
        from quizforge.decks.loader import load_search_path

        store.sync_decks(db, load_search_path().decks, T0)
        row = store.find_card(db, "ml", "lr-basics")
        s, rec = Scheduler().review(row.schedule, Rating.GOOD, T0, 3000)
        with db.atomic() as conn:
            store.write_schedule(conn, row.rowid, s)
            store.insert_review(conn, row.rowid, rec)
    r = runner.invoke(app, ["cards", "edit", "ml/lr-basics"], input="y\n")
    assert r.exit_code == 0, r.stderr
    copy = home / "decks" / "ml.yaml"
    words = " ".join(r.stdout.split())  # a long path may wrap onto its own line
    assert f"Copied to {copy}" in words and words.endswith("ml.yaml is valid.")
    assert "step length" in copy.read_text() and "step size" in (shipped / "ml.yaml").read_text()
    # the copy replaces the bundled deck, silently, and the card keeps its answers
    r = runner.invoke(app, ["cards", "show", "ml/lr-basics", "--json"])
    assert r.stderr == ""
    d = json.loads(r.stdout)
    assert d["path"] == str(copy) and d["back"] == "The step length of gradient descent."
    assert d["reviews"]["total"] == 1
    r = runner.invoke(app, ["decks", "--json"])
    assert r.stderr == ""
    assert [x["path"] for x in json.loads(r.stdout) if x["id"] == "ml"] == [str(copy)]
    # a second edit goes to the copy, no question asked; a copy in the way is never replaced
    r = runner.invoke(app, ["cards", "edit", "ml/lr-basics"])
    assert r.exit_code == 0 and "part of the quizforge package" not in r.stdout
    from quizforge.decks.edit import copy_deck
    from quizforge.errors import DeckError

    with pytest.raises(DeckError, match="exists already"):
        copy_deck(shipped / "ml.yaml", home / "decks")


def test_edit_copy_flag_and_missing_editor(folders, tmp_path, monkeypatch):
    monkeypatch.setenv("EDITOR", str(tmp_path / "no-such-editor"))
    r = runner.invoke(app, ["cards", "edit", "pick-loss", "--copy"])
    assert r.exit_code == 1
    missing = tmp_path / "no-such-editor"
    assert r.stderr.strip().startswith(f"Error: cannot start the editor '{missing}'")
    assert (tmp_path / "home" / "decks" / "ml.yaml").exists()  # copied before
    assert os.path.exists(folders[0] / "ml.yaml")


def test_edit_reopens_a_file_broken_by_an_earlier_edit(folders, tmp_path, monkeypatch):
    shipped, mine = folders
    monkeypatch.setenv("EDITOR", fake_editor(
        tmp_path, "text = text.replace('front: Same id', 'frnt: Same id')"))
    assert runner.invoke(app, ["cards", "edit", "other/lr-basics"]).exit_code == 1
    # the deck no longer loads; the card is found in the file's text and opened again
    monkeypatch.setenv("EDITOR", fake_editor(
        tmp_path, "text = text.replace('frnt: Same id', 'front: Same id')"))
    r = runner.invoke(app, ["cards", "edit", "other/lr-basics"])
    assert r.exit_code == 0, r.stderr
    assert "note: other.yaml does not load (see the warnings above); opening it at line 5" in (
        r.stderr)
    assert r.stdout.strip() == "other.yaml is valid."
    assert (tmp_path / "editor.log").read_text() == f"+5 {mine / 'other.yaml'}"
    r = runner.invoke(app, ["cards", "edit", "other/nope"])
    assert r.exit_code == 1 and "no card 'nope' in deck 'other'" in r.stderr


def test_spans_read_as_minutes_hours_or_days():
    from quizforge.ui.cards import span

    assert [span(d) for d in (10 / 1440, 5 / 24, 3.46, 41.4)] == ["10m", "5h", "3.5d", "41d"]
