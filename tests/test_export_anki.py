"""`quizforge export anki`: the .apkg read back as Anki stores it (a zip holding the SQLite
collection `collection.anki2`), not through genanki."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quizforge.cli import app, common

GOOD = Path(__file__).parent / "fixtures" / "decks" / "good"
FIELD_SEP = "\x1f"
runner = CliRunner()

FORMULA_DECK = """\
deck: formulas
name: Formulas
cards:
  - id: sigmoid-grad
    type: formula
    question: "Type σ'(x) in terms of s = σ(x) <b>not bold</b>"
    answer: s·(1 − s)
    variables: [s]
    explanation: The derivative of the logistic function.
    tags: [calculus, activation functions]
"""


@pytest.fixture(autouse=True)
def _wide(monkeypatch):
    for console in (common.out, common.err):
        monkeypatch.setattr(console, "width", 200)


@pytest.fixture
def deck_dir(tmp_path):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "ml-basics.yaml").write_text((GOOD / "ml-basics.yaml").read_text(encoding="utf-8"),
                                           encoding="utf-8")
    (folder / "formulas.yaml").write_text(FORMULA_DECK, encoding="utf-8")
    return folder


def export(deck_dir: Path, path: Path, *deck_ids: str):
    args = ["export", "anki", str(path), "--decks", str(deck_dir)]
    for d in deck_ids:
        args += ["--deck", d]
    return runner.invoke(app, args)


def notes(apkg: Path) -> dict[str, tuple[str, list[str], str]]:
    """guid -> (note type name, fields, tags), read from the collection inside the zip."""
    with zipfile.ZipFile(apkg) as z:
        assert "collection.anki2" in z.namelist()
        db = apkg.with_suffix(".anki2")
        db.write_bytes(z.read("collection.anki2"))
    conn = sqlite3.connect(db)
    try:
        import json

        models = json.loads(conn.execute("SELECT models FROM col").fetchone()[0])
        rows = conn.execute("SELECT guid, mid, flds, tags FROM notes").fetchall()
    finally:
        conn.close()
    found = {guid: (models[str(mid)]["name"], flds.split(FIELD_SEP), tags.strip())
             for guid, mid, flds, tags in rows}
    assert len(found) == len(rows)  # no two notes share a guid
    return found


def by_first_field(found):
    return {fields[0]: (model, fields, tags) for model, fields, tags in found.values()}


def test_export_writes_every_card_of_the_chosen_decks(deck_dir, tmp_path):
    out = tmp_path / "out.apkg"
    r = export(deck_dir, out, "ml-basics", "formulas")
    assert r.exit_code == 0, r.output
    assert r.stdout == f"Wrote 5 notes from 2 decks to {out}\n"
    cards = by_first_field(notes(out))
    assert len(cards) == 5

    model, fields, tags = cards["What does the bias-variance trade-off say?"]
    assert model == "quizforge Basic"
    assert fields[1] == ("Expected error = bias² + variance + irreducible noise."
                         '<div class="qf-explanation">Simpler models have more bias, complex '
                         "ones more variance.</div>")
    assert tags == "generalisation fixture basics"  # its own tag, then its deck's

    # Formula: the question escaped (not markup), the answer in its Unicode math; tags with
    # spaces joined by '-'.
    model, fields, tags = cards["Type σ'(x) in terms of s = σ(x) &lt;b&gt;not bold&lt;/b&gt;"
                                "<br><small>in s</small>"]
    assert model == "quizforge Basic"
    assert fields[1].startswith("<b>s·(1 − s)</b>")
    assert "The derivative of the logistic function." in fields[1]
    assert sorted(tags.split()) == ["activation-functions", "calculus"]


def test_mcq_back_names_the_right_choice_by_content(deck_dir, tmp_path):
    out = tmp_path / "out.apkg"
    assert export(deck_dir, out, "ml-basics").exit_code == 0
    cards = by_first_field(notes(out))
    model, (_, choices, answer, explanation), _ = cards["What is σ'(0)?"]
    assert model == "quizforge MCQ"
    assert choices == ('<ul class="qf-choices" data-shuffle><li>0</li><li>0.25</li>'
                       "<li>0.5</li><li>1</li></ul>")
    assert answer == "Right answer: <b>0.25</b>"
    assert explanation == "σ'(x) = σ(x)(1 − σ(x)) = 0.5 · 0.5."
    _, fields, _ = cards["Which of these are optimizers?"]
    assert fields[2] == "Right answers:<ul><li>Adam</li><li>SGD with momentum</li></ul>"


def test_generated_card_says_which_drill_and_shows_a_worked_example(deck_dir, tmp_path):
    from quizforge.drill.family import generate

    out = tmp_path / "out.apkg"
    assert export(deck_dir, out, "ml-basics").exit_code == 0
    (front, back), = [f for _, f, _ in notes(out).values() if f[0].startswith("Backpropagate")]
    assert "backprop · difficulty 2" in front
    assert "run <code>quizforge drill backprop -d 2 --form expression</code>" in back
    seed = int(back.split("Example (seed ")[1].split(")")[0])
    problem = generate("backprop", seed, 2, "expression")
    assert problem.expected_text().replace("&", "&amp;").replace("<", "&lt;") in back


def test_guids_are_stable_across_exports_and_differ_between_cards(deck_dir, tmp_path):
    first, second = tmp_path / "a.apkg", tmp_path / "b.apkg"
    assert export(deck_dir, first, "ml-basics", "formulas").exit_code == 0
    assert export(deck_dir, second, "formulas", "ml-basics").exit_code == 0
    a, b = notes(first), notes(second)
    assert len(a) == 5  # one guid per card (notes() checks they differ)
    assert a == b  # same guids, same content, whatever the order of --deck
    from genanki import guid_for

    assert guid_for("ml-basics", "sigmoid-derivative") in a


def test_deck_ids_are_stable():
    from quizforge.decks.anki import anki_deck_id

    assert anki_deck_id("ml-basics") == anki_deck_id("ml-basics") == 1465201678  # golden: a change would make new decks in Anki
    assert anki_deck_id("ml-basics") != anki_deck_id("formulas")


def test_deck_filter_keeps_only_that_deck(deck_dir, tmp_path):
    out = tmp_path / "out.apkg"
    r = export(deck_dir, out, "formulas")
    assert r.exit_code == 0, r.output
    assert r.stdout == f"Wrote 1 note from 1 deck to {out}\n"
    assert len(notes(out)) == 1


def test_unknown_deck_is_a_one_line_error(deck_dir, tmp_path):
    out = tmp_path / "out.apkg"
    r = export(deck_dir, out, "nope", "formulas", "nada")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: no deck with id 'nope', 'nada' (decks: ")
    assert r.stderr.count("\n") == 1
    assert "formulas, ml-basics" in r.stderr
    assert not out.exists()


def test_unwritable_path_is_a_one_line_error(deck_dir, tmp_path):
    out = tmp_path / "missing" / "out.apkg"
    r = export(deck_dir, out, "formulas")
    assert r.exit_code == 1
    assert r.stderr == f"Error: cannot write {out}: No such file or directory\n"


def test_core_imports_neither_rich_nor_typer():
    code = ("import sys, quizforge.decks.anki; "
            "print(sorted(m for m in ('rich', 'typer') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
