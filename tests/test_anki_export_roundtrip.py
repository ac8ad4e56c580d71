"""quizforge's Anki export checked from the outside: deck tags reach every note (counted by the
real Anki backend after importing the package), and importing the export back gives a deck
that passes `validate --strict`, with MCQ and generated cards back as what they were."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from quizforge.cli import app, common
from quizforge.decks.anki import build_package, write_package
from quizforge.decks.loader import load_decks
from quizforge.decks.model import MCQ, GeneratedCard

DECKS = Path(__file__).parent.parent / "decks"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide(monkeypatch, tmp_path):
    monkeypatch.setenv("QUIZFORGE_HOME", str(tmp_path / "home"))
    for console in (common.out, common.err):
        monkeypatch.setattr(console, "width", 200)


def bundled(deck_id: str):
    deck = next(d for d in load_decks([DECKS]).decks if d.id == deck_id)
    assert deck.tags, "the test needs a deck with deck-level tags"
    return deck


def test_every_exported_note_carries_its_decks_tags_as_anki_reads_them(tmp_path):
    collection = pytest.importorskip("anki.collection")
    from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    deck = bundled("backprop")
    apkg = tmp_path / "backprop.apkg"
    write_package(build_package([deck]), apkg, timestamp=1_790_000_000.0)
    (tmp_path / "col").mkdir()
    col = collection.Collection(str(tmp_path / "col" / "collection.anki2"))
    try:
        col.import_anki_package(ImportAnkiPackageRequest(
            package_path=str(apkg), options=ImportAnkiPackageOptions()))
        assert col.note_count() == len(deck.cards)
        for tag in deck.tags:
            assert len(col.find_notes(f"tag:{tag}")) == len(deck.cards), tag
        # a card's own tags are kept beside the deck's
        card = deck.cards[0]
        assert len(col.find_notes(f"tag:{card.tags[0]}")) == \
            sum(card.tags[0] in c.tags for c in deck.cards)
    finally:
        col.close()


@pytest.mark.parametrize("deck_id", ["norm-regularization", "evaluation"])
def test_importing_the_export_passes_strict_validation(tmp_path, deck_id):
    deck = next(d for d in load_decks([DECKS]).decks if d.id == deck_id)
    apkg = tmp_path / f"{deck_id}.apkg"
    r = runner.invoke(app, ["export", "anki", str(apkg), "--decks", str(DECKS), "--deck", deck_id])
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    r = runner.invoke(app, ["import", str(apkg), "--deck", "back", "--out", str(out)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["validate", "--strict", str(out / "back.yaml")])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"ok: 1 deck, {len(deck.cards)} cards")

    back = load_decks([out]).decks[0]
    # MCQs come back as MCQs with the same choices and key, generated cards as generated
    mcqs = [c for c in deck.cards if isinstance(c, MCQ)]
    got = {c.question: c for c in back.cards if isinstance(c, MCQ)}
    assert len(got) == len(mcqs)
    for c in mcqs:
        twin = got[c.question.strip()]
        assert twin.choices == tuple(_spaced(x) for x in c.choices)  # HTML folds spaces
        assert twin.answer == c.answer and twin.shuffle == c.shuffle
    gens = sorted((c.generator, c.difficulty, c.form) for c in deck.cards
                  if isinstance(c, GeneratedCard))
    assert sorted((c.generator, c.difficulty, c.form) for c in back.cards
                  if isinstance(c, GeneratedCard)) == gens


def _spaced(text: str) -> str:
    return " ".join(text.split())
