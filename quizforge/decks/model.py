"""Deck and card dataclasses: what a loaded, valid deck looks like in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CARD_TYPES = ("flashcard", "mcq", "generated", "formula")


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


# Where a formula card's answer is compared when its `domain` does not say: wide enough to
# tell most wrong formulas apart, small enough that exp() and friends stay finite.
DEFAULT_DOMAIN = (-2.0, 2.0)


@dataclass(frozen=True)
class FormulaCard:
    """The learner types a formula in `variables`; it is compared with `answer` symbolically,
    then at random points drawn from `domain` (per variable, DEFAULT_DOMAIN otherwise).
    `mistakes` are (formula, message) pairs: a typed answer equal to one gets its message."""

    id: str
    question: str
    answer: str
    variables: tuple[str, ...]
    domain: tuple[tuple[str, float, float], ...] = ()  # (variable, low, high)
    mistakes: tuple[tuple[str, str], ...] = ()  # (formula, message)
    explanation: str | None = None
    tags: tuple[str, ...] = ()
    source: str | None = None
    line: int = 0

    type = "formula"

    def __post_init__(self) -> None:
        # JSON (the deck cache) gives lists back: hold tuples, so cards compare and hash alike.
        set_ = object.__setattr__
        set_(self, "variables", tuple(self.variables))
        set_(self, "domain", tuple((str(n), float(lo), float(hi)) for n, lo, hi in self.domain))
        set_(self, "mistakes", tuple((str(a), str(m)) for a, m in self.mistakes))
        set_(self, "tags", tuple(self.tags))

    def range_of(self, variable: str) -> tuple[float, float]:
        for name, lo, hi in self.domain:
            if name == variable:
                return lo, hi
        return DEFAULT_DOMAIN

    def to_dict(self) -> dict[str, Any]:
        """The card as the deck file writes it (`domain` and `mistakes` as YAML has them)."""
        d: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "question": self.question,
            "answer": self.answer,
            "variables": list(self.variables),
        }
        if self.domain:
            d["domain"] = {n: [lo, hi] for n, lo, hi in self.domain}
        if self.mistakes:
            d["mistakes"] = [{"answer": a, "message": m} for a, m in self.mistakes]
        for name in ("explanation", "source"):
            if getattr(self, name) is not None:
                d[name] = getattr(self, name)
        if self.tags:
            d["tags"] = list(self.tags)
        if self.line:
            d["line"] = self.line
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FormulaCard:
        return cls(
            id=str(d["id"]),
            question=str(d["question"]),
            answer=str(d["answer"]),
            variables=tuple(str(v) for v in d["variables"]),
            domain=tuple((str(n), float(lo), float(hi))
                         for n, (lo, hi) in (d.get("domain") or {}).items()),
            mistakes=tuple((str(m["answer"]), str(m["message"])) for m in d.get("mistakes") or ()),
            explanation=d.get("explanation"),
            tags=tuple(d.get("tags") or ()),
            source=d.get("source"),
            line=int(d.get("line", 0)),
        )


Card = Flashcard | MCQ | GeneratedCard | FormulaCard


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
