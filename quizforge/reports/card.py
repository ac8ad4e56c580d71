"""One card as `quizforge cards show` gives it: its text, where it is, its schedule now and
its last answers. Pure apart from reading the store; handed `now`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from quizforge.decks.model import Card, Deck
from quizforge.decks.search import card_texts
from quizforge.scheduling.scheduler import RATING_LABELS, Rating, Scheduler, State
from quizforge.store.cards import CardRow, find_card
from quizforge.store.db import Database
from quizforge.store.reviews import Review, last_reviews

REVIEWS_SHOWN = 10


@dataclass(frozen=True)
class CardInfo:
    deck: Deck
    card: Card
    row: CardRow | None  # None: not in the store yet (never synced: no command studied it)
    retrievability: float | None  # FSRS recall now; None before the first answer
    reviews: list[Review] = field(default_factory=list)  # newest first
    total_reviews: int = 0

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.card.tags, *self.deck.tags]))

    def to_dict(self) -> dict:
        s = self.row.schedule if self.row else None
        card: dict = {"deck": self.deck.id, "card": self.card.id, "type": self.card.type,
                      "path": str(self.deck.path), "line": self.card.line,
                      "tags": list(self.tags)}
        for name, text in card_texts(self.card):
            key = name.split()[0] + "s" if name.startswith(("choice ", "point ")) else name
            if key in ("choices", "points"):
                card.setdefault(key, []).append(text)
            else:
                card[key] = text
        if self.card.type == "mcq":
            card["answer"] = [self.card.choices[i] for i in self.card.answer]
        if self.card.type == "generated":
            card.update(generator=self.card.generator, difficulty=self.card.difficulty,
                        form=self.card.form)
        return {
            **card,
            "schedule": None if s is None else {
                "state": s.state.name.lower(),
                "due": _iso(s.due),
                "stability": _round(s.stability),
                "difficulty": _round(s.difficulty),
                "retrievability": _round(self.retrievability),
                "last_review": _iso(s.last_review),
                "reps": s.reps,
                "lapses": s.lapses,
                "suspended": s.suspended,
                "leech": s.leech,
            },
            "reviews": {
                "total": self.total_reviews,
                "last": [
                    {"at": _iso(r.reviewed_at), "rating": RATING_LABELS[Rating(r.rating)].lower(),
                     "state_before": State(r.state_before).name.lower(),
                     "interval_days": _round(r.interval_days),
                     "elapsed_days": _round(r.elapsed_days),
                     "seconds": round(r.duration_ms / 1000, 1),
                     "cram": r.cram}
                    for r in self.reviews
                ],
            },
        }


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def card_info(db: Database, deck: Deck, card: Card, now: datetime, scheduler: Scheduler,
              limit: int = REVIEWS_SHOWN) -> CardInfo:
    row = find_card(db, deck.id, card.id)
    if row is None:
        return CardInfo(deck, card, None, None)
    s = row.schedule
    known = s.state != State.NEW and s.stability and s.last_review is not None
    recall = scheduler.retrievability(s, now) if known else None
    reviews, total = last_reviews(db, row.rowid, limit)
    return CardInfo(deck, card, row, recall, reviews, total)
