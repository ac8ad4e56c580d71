"""Decks: the in-memory model, loading YAML deck files, and checking them.

The loader and validator are imported on first use, so that importing the model (as the
store and the UI do) does not pay for PyYAML.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from quizforge.decks.model import (
    CARD_TYPES,
    GENERATED_FORMS,
    MCQ,
    Card,
    Deck,
    Flashcard,
    GeneratedCard,
    LoadResult,
    Problem,
    known_generators,
)

if TYPE_CHECKING:
    from quizforge.decks.loader import (
        check_paths,
        deck_files,
        load_decks,
        load_search_path,
        read_deck_file,
        validate_paths,
    )
    from quizforge.decks.validate import ParsedDeck, parse_deck

_LAZY = {
    "check_paths": "loader",
    "deck_files": "loader",
    "load_decks": "loader",
    "load_search_path": "loader",
    "read_deck_file": "loader",
    "validate_paths": "loader",
    "ParsedDeck": "validate",
    "parse_deck": "validate",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"quizforge.decks.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CARD_TYPES",
    "GENERATED_FORMS",
    "MCQ",
    "Card",
    "Deck",
    "Flashcard",
    "GeneratedCard",
    "LoadResult",
    "ParsedDeck",
    "Problem",
    "check_paths",
    "deck_files",
    "known_generators",
    "load_decks",
    "load_search_path",
    "parse_deck",
    "read_deck_file",
    "validate_paths",
]
