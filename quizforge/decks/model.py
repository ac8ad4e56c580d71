"""Deck and card dataclasses: what a loaded, valid deck looks like in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

CARD_TYPES = ("flashcard", "mcq", "generated")


def known_generators() -> tuple[str, ...]:
    """The drill families a `type: generated` card may name (`generator:`), from the registry."""
    from quizforge.drill.family import families

    return tuple(families())


def generator_forms(generator: str) -> tuple[str, ...]:
    from quizforge.drill.family import families

    return families()[generator].forms

# What a generated card asks for: a number, an expression, or a series of steps (`form:`).
GENERATED_FORMS = ("number", "expression", "steps")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Flashcard:
    id: str
    front: str
    back: str
    tags: tuple[str, ...] = ()
    hint: str | None = None
    explanation: str | None = None
    source: str | None = None
    line: int = 0  # line of the card in its file, for messages

    type = "flashcard"


@dataclass(frozen=True)
class MCQ:
    id: str
    question: str
    choices: tuple[str, ...]
    answer: tuple[int, ...]  # indices of the correct choices
    explanation: str | None = None
    tags: tuple[str, ...] = ()
    hint: str | None = None
    source: str | None = None
    line: int = 0
    # `answer:` written as a list: select-all, even with one right choice (so that the
    # number right is not a give-away).
    select_all: bool = False
    shuffle: bool = True  # `shuffle: false` keeps the choices in the file's order on screen

    type = "mcq"

    @property
    def multi(self) -> bool:
        return self.select_all or len(self.answer) > 1


@dataclass(frozen=True)
class GeneratedCard:
    id: str
    generator: str
    difficulty: int = 1
    form: str = "number"
    prompt: str | None = None  # optional heading shown above the generated problem
    tags: tuple[str, ...] = ()
    source: str | None = None
    line: int = 0

    type = "generated"


Card = Flashcard | MCQ | GeneratedCard


@dataclass(frozen=True)
class Deck:
    id: str
    name: str
    cards: tuple[Card, ...]
    path: Path
    description: str = ""
    tags: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        out = {t: 0 for t in CARD_TYPES}
        for c in self.cards:
            out[c.type] += 1
        return out


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a deck file, reported as ``FILE:LINE: message``."""

    path: Path
    line: int  # 1-based; 0 when the problem is not at a line (a missing or unreadable file)
    message: str

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class LoadResult:
    decks: list[Deck] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # every deck file read, valid or not
