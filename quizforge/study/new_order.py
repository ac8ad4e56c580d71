"""The order new cards are introduced in (the `new_order` setting, as Anki's "new card
gather order"), and the weight of each deck, which `quizforge plan` also uses. Pure: handed
the cards and a seed.

- mixed (the default): the day's new cards come from every deck in scope, each deck's
  share in proportion to its size times its weight, so the decks progress together (core
  decks faster) and the daily limit is shared fairly; the next card always comes from the
  deck furthest behind its share, ties going to the heavier deck (the core deck backprop
  first), then by deck id. Within a deck, card types (flashcard, MCQ, formula, …) are
  interleaved the same way: the type furthest behind its share of the deck, ties going to
  the type taken least often so far in this ordering (so a day's first cards are of
  several types), then to the one that comes first in the deck; each type in the deck's
  own order. "Started" counts what earlier days introduced, so the share carries over
  from day to day without any saved state.
- deck: one deck after the other, each in file order (the store's order; quizforge before
  new_order).
- random: shuffled with a seed.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CORE_DECKS = {"backprop": 3.0}  # what quizforge is built around (and its drills)
CORE_TAG, CORE_TAG_WEIGHT = "deep-learning", 2.0  # the deep-learning decks
AID_TAGS, AID_WEIGHT = frozenset({"glossary"}), 0.5  # language aids, not interview topics
DEFAULT_WEIGHT = 1.0

WEIGHT_RULE = (
    "deck weight: backprop (the core deck) 3, decks tagged deep-learning 2, the glossary "
    "(a language aid) 0.5, every other deck 1"
)


def deck_weight(deck_id: str, deck_tags: Iterable[str] = ()) -> float:
    """How much a deck matters for an ML interview (WEIGHT_RULE)."""
    if deck_id in CORE_DECKS:
        return CORE_DECKS[deck_id]
    tags = set(deck_tags)
    if tags & AID_TAGS:
        return AID_WEIGHT
    if CORE_TAG in tags:
        return CORE_TAG_WEIGHT
    return DEFAULT_WEIGHT


@dataclass(frozen=True)
class NewCard:
    """A new card to order: `item` is the caller's own (an Entry), given back in order."""

    item: Any
    deck_id: str
    kind: str
    position: int  # place in its deck file


def order_new(
    cards: Sequence[NewCard],
    order: str,
    limit: int,
    *,
    weights: Mapping[str, float] | None = None,
    started: Mapping[tuple[str, str], int] | None = None,
    seed: int | None = None,
) -> list[NewCard]:
    """The first `limit` of `cards` (limit -1: all) in `order`. `started`: cards already
    introduced per (deck, kind) in scope, for mixed's shares; `weights` per deck id
    (missing: 1)."""
    n = len(cards) if limit < 0 else min(limit, len(cards))
    if order == "deck":
        return list(cards[:n])
    if order == "random":
        shuffled = list(cards)
        random.Random(seed).shuffle(shuffled)
        return shuffled[:n]
    if order != "mixed":
        raise ValueError(f"unknown new_order {order!r}")
    return _mixed(cards, n, weights or {}, started or {})


def _mixed(
    cards: Sequence[NewCard],
    n: int,
    weights: Mapping[str, float],
    started: Mapping[tuple[str, str], int],
) -> list[NewCard]:
    queues: dict[str, dict[str, deque[NewCard]]] = defaultdict(lambda: defaultdict(deque))
    for card in sorted(cards, key=lambda c: (c.deck_id, c.position)):
        queues[card.deck_id][card.kind].append(card)
    taken: Counter[tuple[str, str]] = Counter()
    size: Counter[tuple[str, str]] = Counter()
    for deck_id, kinds in queues.items():
        for kind, q in kinds.items():
            taken[deck_id, kind] = started.get((deck_id, kind), 0)
            size[deck_id, kind] = taken[deck_id, kind] + len(q)
    deck_taken = Counter({d: sum(taken[d, k] for k in kinds) for d, kinds in queues.items()})
    deck_size = {d: sum(size[d, k] for k in kinds) for d, kinds in queues.items()}
    # Started cards of a type that has no new card left still count for the deck's share.
    for (deck_id, _kind), count in started.items():
        if deck_id in queues and not queues[deck_id].get(_kind):
            deck_taken[deck_id] += count
            deck_size[deck_id] += count
    weight = {d: max(weights.get(d, DEFAULT_WEIGHT), 1e-9) for d in queues}
    kind_taken: Counter[str] = Counter()
    out: list[NewCard] = []
    while len(out) < n:
        deck_id = min(
            (d for d, kinds in queues.items() if any(kinds.values())),
            key=lambda d: (deck_taken[d] / (deck_size[d] * weight[d]), -weight[d], d),
        )
        kinds = queues[deck_id]
        kind = min(
            (k for k, q in kinds.items() if q),
            key=lambda k: (taken[deck_id, k] / size[deck_id, k], kind_taken[k],
                           kinds[k][0].position),
        )
        out.append(kinds[kind].popleft())
        taken[deck_id, kind] += 1
        deck_taken[deck_id] += 1
        kind_taken[kind] += 1
    return out
