"""The exported .apkg opened by the real Anki (PyPI `anki`, a test extra): imported into a
fresh collection it has the right notes, fields and note types, and importing a second
export of the same deck updates the notes instead of adding copies. Skipped when `anki` is
not installed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

anki_collection = pytest.importorskip("anki.collection")

from anki.import_export_pb2 import (
    ImportAnkiPackageOptions,
    ImportAnkiPackageRequest,
)

from quizforge.decks.anki import build_package, write_package
from quizforge.decks.loader import load_decks
from quizforge.decks.model import MCQ, Flashcard

GOOD = Path(__file__).parent / "fixtures" / "decks" / "good"
T0 = 1_790_000_000.0  # fixed export times: Anki updates a note when the package's is newer


def ml_basics():
    result = load_decks([GOOD])
    return next(d for d in result.decks if d.id == "ml-basics")


def import_into(col, apkg: Path):
    request = ImportAnkiPackageRequest(
        package_path=str(apkg), options=ImportAnkiPackageOptions(merge_notetypes=True))
    return col.import_anki_package(request)


def notes_by_type(col) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        out.setdefault(note.note_type()["name"], []).append(list(note.fields))
    return out


def test_anki_reads_the_export_and_a_second_export_updates(tmp_path):
    deck = ml_basics()
    first = tmp_path / "first.apkg"
    write_package(build_package([deck]), first, timestamp=T0)

    (tmp_path / "col").mkdir()
    col = anki_collection.Collection(str(tmp_path / "col" / "collection.anki2"))
    try:
        import_into(col, first)
        assert col.note_count() == len(deck.cards)
        assert "quizforge::" + deck.name in [d.name for d in col.decks.all_names_and_ids()]
        types = notes_by_type(col)
        flash = [c for c in deck.cards if isinstance(c, Flashcard)]
        mcqs = [c for c in deck.cards if isinstance(c, MCQ)]
        assert len(types.get("quizforge MCQ", [])) == len(mcqs)
        assert len(types["quizforge Basic"]) == len(deck.cards) - len(mcqs)
        fields = col.models.by_name("quizforge MCQ")["flds"]
        assert [f["name"] for f in fields] == ["Question", "Choices", "Answer", "Explanation"]
        fronts = {f[0] for f in types["quizforge Basic"]}
        for card in flash:
            assert card.front.strip() in fronts  # plain text survives escaping
        for card in mcqs:
            _, choices, answer, _ = next(f for f in types["quizforge MCQ"]
                                         if f[0] == card.question.strip())
            assert all(f"<li>{c}</li>" in choices for c in card.choices)
            assert all(card.choices[i] in answer for i in card.answer)

        # Edit one card's back and export again, later: Anki updates that note in place.
        edited = replace(flash[0], back="A new back.")
        cards = tuple(edited if c is flash[0] else c for c in deck.cards)
        second = tmp_path / "second.apkg"
        write_package(build_package([replace(deck, cards=cards)]), second, timestamp=T0 + 60)
        log = import_into(col, second)
        assert col.note_count() == len(deck.cards)  # updated, not duplicated
        assert len(log.log.new) == 0  # every note matched by its GUID, none added
        assert len(log.log.updated) == len(deck.cards)  # newer: Anki takes the new text
        backs = [f[1] for f in notes_by_type(col)["quizforge Basic"] if f[0] == edited.front]
        assert len(backs) == 1 and backs[0].startswith("A new back.")
    finally:
        col.close()
