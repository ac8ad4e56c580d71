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


def test_a_large_import_built_in_memory_equals_what_the_validator_reads(tmp_path):
    """Past SAMPLE cards the deck comes from the cards in memory: it must be the deck the
    validator reads from the whole written file."""
    from dataclasses import replace

    from quizforge.decks.validate import parse_deck
    from quizforge.importing import SAMPLE, check_deck, deck_text
    from quizforge.importing.model import Imported, ImportedCard

    odd = ["plain text", "two\nlines", "key: value # not a comment", '"quoted" \\ back',
           "yes", "σ(z)ᵢ = exp(zᵢ)", "- dash", "a\u2028b",
           "[image: x.png] and [sound: y.ogg]", "tab\there"]
    cards = []
    for i in range(SAMPLE + 150):
        text = odd[i % len(odd)]
        if i % 7 == 0:
            cards.append(ImportedCard(f"m{i}", f"Q {i} {text}", "", text or None, ("t",),
                                      choices=(f"a {text}", "b", "c"), answer=(0, 2) if i % 2
                                      else (1,), shuffle=bool(i % 3)))
        elif i % 11 == 0:
            cards.append(ImportedCard(f"g{i}", f"P {i} {text}", "", None, (),
                                      generated=("softmax-ce", 1, "number")))
        else:
            cards.append(ImportedCard(f"c{i}", f"F {i} {text}", f"B {text}",
                                      text if i % 2 else None, ("x-y", "z")))
    imported = Imported(name="Big: one", format="apkg", cards=cards)
    path = tmp_path / "big.yaml"
    text = deck_text("big", imported, "big.apkg")
    whole = parse_deck(text, path)
    assert whole.deck is not None, whole.problems[:3]
    fast = check_deck(text, path, imported, "big")
    assert [replace(c, line=0) for c in whole.deck.cards] == list(fast.cards)
    assert (fast.id, fast.name, fast.description, fast.tags) == \
        (whole.deck.id, whole.deck.name, whole.deck.description, whole.deck.tags)

    # Text the validator reads differently from memory (a trailing space it drops): the
    # whole file is validated instead, and its reading wins.
    cards[3] = replace(cards[3], back="trailing space ")
    text = deck_text("big", imported, "big.apkg")
    whole = parse_deck(text, path).deck
    assert list(check_deck(text, path, imported, "big").cards) == list(whole.cards)
