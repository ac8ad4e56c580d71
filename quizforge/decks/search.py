"""Finding cards: by text (`quizforge cards search`) and by id (`cards show`, `cards edit`).

Pure: loaded decks in, matches out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from quizforge.decks.model import Card, Deck
from quizforge.errors import DeckError

EXCERPT = 72  # characters of text shown around a match


class CardNotFound(DeckError):
    """No loaded deck has a card with this id."""


class AmbiguousCard(DeckError):
    """Several loaded decks have a card with this id: name one as DECK/ID."""


def card_texts(card: Card) -> Iterator[tuple[str, str]]:
    """(field, text) for every text a person wrote on the card, in the file's order:
    front/question, back, choices, rubric points, follow-up, hint, explanation."""
    for name in ("front", "question", "prompt", "back", "answer"):
        value = getattr(card, name, None)
        if isinstance(value, str):
            yield name, value
    for i, choice in enumerate(getattr(card, "choices", ()) or ()):
        yield f"choice {i + 1}", choice
    for i, point in enumerate(getattr(card, "points", ()) or ()):
        yield f"point {i + 1}", point
    for name in ("follow_up", "hint", "explanation"):
        value = getattr(card, name, None)
        if isinstance(value, str):
            yield name, value


@dataclass(frozen=True)
class Match:
    deck: Deck
    card: Card
    field: str  # where the text was found: 'front', 'choice 2', 'explanation', 'id'
    excerpt: str  # one line of the text around the match
    start: int  # the match's place in `excerpt`
    end: int

    def to_dict(self) -> dict:
        return {"deck": self.deck.id, "card": self.card.id, "type": self.card.type,
                "field": self.field, "excerpt": self.excerpt, "path": str(self.deck.path),
                "line": self.card.line}


def excerpt(line: str, start: int, end: int, width: int = EXCERPT) -> tuple[str, int, int]:
    """About `width` characters of the one-line text `line` around line[start:end], with '…'
    where it was cut; returns (excerpt, start, end) of the match in the excerpt."""
    room = max(0, width - (end - start))
    lo = max(0, start - max(room // 3, room - (len(line) - end)))
    hi = min(len(line), end + room - (start - lo))
    head = "…" if lo > 0 else ""
    tail = "…" if hi < len(line) else ""
    return head + line[lo:hi] + tail, start - lo + len(head), end - lo + len(head)


def search(decks: Sequence[Deck], text: str, deck_ids: Sequence[str] = (),
           tags: Sequence[str] = ()) -> list[Match]:
    """Cards whose id or text holds `text` (case-insensitive), one match per card (its first
    field that holds it), in deck order. `deck_ids` and `tags` narrow it (any of each);
    a card's tags include its deck's."""
    needle = text.strip()
    if not needle:
        raise DeckError("search for some text, e.g. quizforge cards search 'learning rate'")
    pattern = re.compile(re.escape(" ".join(needle.split())), re.IGNORECASE)
    out = []
    for deck in decks:
        if deck_ids and deck.id not in deck_ids:
            continue
        for card in deck.cards:
            if tags and not set(tags) & {*card.tags, *deck.tags}:
                continue
            for name, value in (("id", card.id), *card_texts(card)):
                line = " ".join(value.split())  # a match may span a line break
                m = pattern.search(line)
                if m:
                    out.append(Match(deck, card, name, *excerpt(line, m.start(), m.end())))
                    break
    return out


def find(decks: Sequence[Deck], ref: str) -> tuple[Deck, Card]:
    """The card `ref` names: 'ID', or 'DECK/ID' when several decks have a card ID.
    CardNotFound (one line) when none does; AmbiguousCard when a bare ID is in several."""
    ref = ref.strip()
    deck_id, _, card_id = ref.rpartition("/")
    found = [(d, c) for d in decks if not deck_id or d.id == deck_id
             for c in d.cards if c.id == card_id]
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(f"{d.id}/{c.id}" for d, c in found)
        raise AmbiguousCard(f"card id {card_id!r} is in {len(found)} decks: name one as DECK/ID "
                           f"({names})")
    if deck_id and not any(d.id == deck_id for d in decks):
        raise CardNotFound(f"no deck with id {deck_id!r} (`quizforge decks` lists them)")
    where = f"deck {deck_id!r}" if deck_id else "any deck"
    raise CardNotFound(f"no card {card_id!r} in {where}: `quizforge cards search TEXT` finds "
                       "cards by their text")
