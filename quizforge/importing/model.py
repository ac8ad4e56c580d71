"""What an importer hands back: cards as plain text, what it left out, and (from an Anki
package) each card's review history and Anki's own scheduling state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple


class AnkiReview(NamedTuple):
    """One row of Anki's revlog, as Anki wrote it. A tuple: the package reader keeps the
    rows SQLite gives, (id, ease, ivl, time, type), without an object per row."""

    at_ms: int  # revlog id: when the answer was given, ms since the epoch
    ease: int  # 1 Again .. 4 Easy; 0 for a manual reschedule
    ivl: int  # interval after the answer: days if > 0, seconds if < 0
    time_ms: int  # time taken
    kind: int  # 0 learn, 1 review, 2 relearn, 3 filtered, 4 manual, 5 rescheduled


class AnkiCardState(NamedTuple):
    """A card's scheduling as Anki left it (a tuple: one per card of a large package)."""

    type: int  # 0 new, 1 learning, 2 review, 3 relearning
    queue: int  # -1 suspended, -2/-3 buried, else as type
    due: int  # day number (review) or epoch seconds (intraday learning)
    ivl: int
    lapses: int
    stability: float | None  # FSRS memory state, when Anki had FSRS on
    difficulty: float | None
    crt: int  # the collection's day zero (epoch seconds): review `due` counts from it
    reviews: Sequence[AnkiReview] = ()  # or plain tuples in the same order
    # When the collection's study day begins, in seconds after midnight UTC (its `rollover`
    # hour, 4 am by default, in the collection's time zone): Anki counts days between reviews
    # in study days, not 24-hour periods.
    day_start_s: int = 4 * 3600
    cid: int | None = None  # Anki's card id (its revlog rows' `cid`)


@dataclass(frozen=True)
class ImportedCard:
    id: str
    front: str
    back: str
    explanation: str | None = None
    tags: tuple[str, ...] = ()
    anki: AnkiCardState | None = None
    # A multiple-choice card (quizforge's own "quizforge MCQ" note type read back): its
    # choices, the indices of the right ones, and whether they are shuffled when shown.
    choices: tuple[str, ...] = ()
    answer: tuple[int, ...] = ()
    shuffle: bool = True
    # A generated card (a "quizforge Basic" note naming a `quizforge drill` command):
    # (family, difficulty, form); the front is then its prompt.
    generated: tuple[str, int, str] | None = None


@dataclass
class Imported:
    """A source file read: the deck's suggested name and its cards."""

    name: str
    format: str  # "apkg", "colpkg", "anki-text", "hashcards"
    cards: list[ImportedCard] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> how many cards
    images: set[str] = field(default_factory=set)  # media files the cards name
    media_files: int = 0  # files the package carries (none are imported)
    has_history: bool = False
    # The unpacked collection, kept open for the history import (apkg.PackageCollection):
    # closed by close().
    package: object | None = None

    def close(self) -> None:
        if self.package is not None:
            self.package.close()
            self.package = None
