"""Deck and card dataclasses: what a loaded, valid deck looks like in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

CARD_TYPES = ("flashcard", "mcq", "generated", "formula", "explain")


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


def _with_optional(d: dict[str, Any], card: Any, names: Sequence[str]) -> dict[str, Any]:
    """`d` with the card's optional text fields that are set, then its tags and line, as a
    deck file (and the deck cache) writes them."""
    for name in names:
        if getattr(card, name) is not None:
            d[name] = getattr(card, name)
    if card.tags:
        d["tags"] = list(card.tags)
    if card.line:
        d["line"] = card.line
    return d


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
        return _with_optional(d, self, ("explanation", "source"))

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


# How many rubric points an explain card has: enough to grade by, few enough to tick.
MIN_POINTS, MAX_POINTS = 3, 6


@dataclass(frozen=True)
class ExplainCard:
    """A question answered out loud or typed, as an interviewer asks it. After the learner
    says done, the rubric's `points` are shown and the learner ticks the ones they covered;
    the card is rated from the fraction ticked (quizforge.study.rubric). `follow_up` is the
    question the interviewer would ask next."""

    id: str
    question: str
    points: tuple[str, ...]
    follow_up: str | None = None
    hint: str | None = None
    explanation: str | None = None
    tags: tuple[str, ...] = ()
    source: str | None = None
    line: int = 0

    type = "explain"

    def __post_init__(self) -> None:
        # JSON (the deck cache) gives lists back: hold tuples, so cards compare and hash alike.
        object.__setattr__(self, "points", tuple(self.points))
        object.__setattr__(self, "tags", tuple(self.tags))

    def to_dict(self) -> dict[str, Any]:
        """The card as the deck file writes it."""
        d: dict[str, Any] = {"id": self.id, "type": self.type, "question": self.question,
                             "points": list(self.points)}
        return _with_optional(d, self, ("follow_up", "hint", "explanation", "source"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExplainCard:
        return cls(
            id=str(d["id"]),
            question=str(d["question"]),
            points=tuple(str(p) for p in d["points"]),
            follow_up=d.get("follow_up"),
            hint=d.get("hint"),
            explanation=d.get("explanation"),
            tags=tuple(d.get("tags") or ()),
            source=d.get("source"),
            line=int(d.get("line", 0)),
        )


Card = Flashcard | MCQ | GeneratedCard | FormulaCard | ExplainCard


@dataclass(frozen=True)
class CardIndex:
    """A deck's card ids in deck order, and each card's own tags (an index into `tagsets`,
    which a folder of cards shares a few of): what choosing the cards to study needs,
    without the cards' text."""

    ids: tuple[str, ...]
    tag_ids: tuple[int, ...]
    tagsets: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, cards: Sequence[Card]) -> CardIndex:
        tagsets: dict[tuple[str, ...], int] = {}
        tag_ids = tuple(tagsets.setdefault(c.tags, len(tagsets)) for c in cards)
        return cls(tuple(c.id for c in cards), tag_ids, tuple(tagsets))

    def to_dict(self) -> dict[str, Any]:
        return {"ids": list(self.ids), "tag_ids": list(self.tag_ids),
                "tagsets": [list(t) for t in self.tagsets]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CardIndex:
        """ValueError, KeyError or TypeError when `d` is not such an index."""
        index = cls(tuple(map(str, d["ids"])), tuple(map(int, d["tag_ids"])),
                    tuple(tuple(map(str, t)) for t in d["tagsets"]))
        if len(index.ids) != len(index.tag_ids) or (
            index.tag_ids and not 0 <= min(index.tag_ids) <= max(index.tag_ids) < len(index.tagsets)
        ):
            raise ValueError("not a card index")
        return index

    def matches(self, cards: Sequence[Card]) -> bool:
        """Whether `cards` are the cards this index was made of (ids, order and tags)."""
        return len(cards) == len(self.ids) and all(
            c.id == i and c.tags == self.tagsets[t]
            for c, i, t in zip(cards, self.ids, self.tag_ids, strict=True)
        )


class LazyCards(Sequence):
    """A deck's cards, built on first use: a deck from the compiled-deck cache knows its
    card ids and tags (`index`) and the store's `fingerprint` of it at once, and builds
    its cards (`decode`) only when one is asked for. A study session over 100,000 cards
    shows a few dozen; it need not build the rest.

    Behaves as the tuple of its cards (equal to it, same hash)."""

    __slots__ = ("_cards", "_decode", "fingerprint", "index")

    def __init__(self, index: CardIndex, fingerprint: str,
                 decode: Callable[[], tuple[Card, ...]]) -> None:
        self.index = index
        self.fingerprint = fingerprint
        self._decode = decode
        self._cards: tuple[Card, ...] | None = None

    @property
    def loaded(self) -> bool:
        return self._cards is not None

    def _all(self) -> tuple[Card, ...]:
        if self._cards is None:
            self._cards = self._decode()
            self._decode = None  # the data behind it can go
        return self._cards

    @overload
    def __getitem__(self, i: int) -> Card: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[Card, ...]: ...
    def __getitem__(self, i):
        return self._all()[i]

    def __len__(self) -> int:
        return len(self.index.ids)

    def __iter__(self) -> Iterator[Card]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyCards | tuple):
            return self._all() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return f"LazyCards({len(self)} cards{'' if self.loaded else ', not built yet'})"


@dataclass(frozen=True)
class Deck:
    id: str
    name: str
    cards: tuple[Card, ...] | LazyCards
    path: Path
    description: str = ""
    tags: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        out = {t: 0 for t in CARD_TYPES}
        for c in self.cards:
            out[c.type] += 1
        return out

    def index(self) -> CardIndex:
        """The deck's card ids and tags, without building its cards when they are lazy."""
        if isinstance(self.cards, LazyCards):
            return self.cards.index
        return CardIndex.of(self.cards)


def card_tags(deck: Deck, card: Card) -> tuple[str, ...]:
    """Tags a card is filed under: its own, then its deck's."""
    return tuple(dict.fromkeys([*card.tags, *deck.tags]))


def deck_fingerprint(deck: Deck) -> str:
    """Changes whenever what the store keeps of a deck (ids, types, tags) changes.

    A deck from the compiled-deck cache carries it, computed when its file was read:
    a start-up with nothing changed then need not go through every card."""
    if isinstance(deck.cards, LazyCards):
        return deck.cards.fingerprint
    return compute_fingerprint(deck)


def compute_fingerprint(deck: Deck) -> str:
    """`deck_fingerprint`, from the deck's cards."""
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    for card in deck.cards:
        h.update(f"{card.id}\0{card.type}\0{' '.join(card_tags(deck, card))}\n".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a deck file, reported as ``FILE:LINE: message``."""

    path: Path
    line: int  # 1-based; 0 when the problem is not at a line (a missing or unreadable file)
    message: str

    def __str__(self) -> str:
        """As printed: a path or message with control characters in it shows them (␛)."""
        from quizforge.controls import visible

        if self.line <= 0:
            return visible(f"{self.path}: {self.message}")
        return visible(f"{self.path}:{self.line}: {self.message}")


@dataclass
class LoadResult:
    decks: list[Deck] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # every deck file read, valid or not
