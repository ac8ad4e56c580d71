"""The session queue: pure logic that, handed `now`, says which card comes next.

Order, as in Anki: learning/relearning cards whose step is due come first (they are
time-critical), then due reviews with new cards spread evenly among them. When nothing
is due, a learning card due within the learn-ahead window is shown early.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from quizforge.scheduling.scheduler import CardSchedule, State

LEARN_AHEAD = timedelta(minutes=20)
_COUNTED_AS = {
    State.NEW: "new",
    State.LEARNING: "learning",
    State.RELEARNING: "learning",
    State.REVIEW: "review",
}


@dataclass
class Entry:
    rowid: int
    deck_id: str
    card_id: str
    schedule: CardSchedule

    @property
    def key(self) -> tuple[str, str]:
        return (self.deck_id, self.card_id)


@dataclass
class Queue:
    reviews: deque[Entry] = field(default_factory=deque)
    new: deque[Entry] = field(default_factory=deque)
    learning: list[Entry] = field(default_factory=list)  # intraday steps, by due time
    learn_ahead: timedelta = LEARN_AHEAD
    cram: bool = False
    new_gap: int = 1  # one new card after every `new_gap` reviews, fixed when built
    _front: list[Entry] = field(default_factory=list)  # put back by undo
    _since_new: int = 0

    @classmethod
    def build(
        cls,
        learning: list[Entry],
        reviews: list[Entry],
        new: list[Entry],
        rng: random.Random | None = None,
        key: Callable[[Entry], Any] | None = None,
    ) -> Queue:
        """`rng` shuffles reviews and new cards (--shuffle); without it, reviews go by `key`
        (the session passes recall on the interview date in its last days), by default
        most-overdue first, and new cards in deck order."""
        reviews = sorted(reviews, key=key or (lambda e: e.schedule.due))
        new = list(new)
        if rng is not None:
            rng.shuffle(reviews)
            rng.shuffle(new)
        learning = sorted(learning, key=lambda e: e.schedule.due)
        # Spread new cards evenly among the reviews.
        gap = max(1, len(reviews) // max(1, len(new)))
        return cls(reviews=deque(reviews), new=deque(new), learning=learning, new_gap=gap)

    @classmethod
    def build_cram(cls, entries: list[Entry], rng: random.Random | None = None) -> Queue:
        entries = list(entries)
        if rng is not None:
            rng.shuffle(entries)
        return cls(reviews=deque(entries), cram=True)

    def __len__(self) -> int:
        return len(self._front) + len(self.reviews) + len(self.new) + len(self.learning)

    def counts(self) -> dict[str, int]:
        counts = {"new": len(self.new), "learning": len(self.learning), "review": len(self.reviews)}
        for entry in self._front:  # cards put back by undo count as what they are again
            counts[_COUNTED_AS[entry.schedule.state]] += 1
        return counts

    def next(self, now: datetime) -> Entry | None:
        """Take the next card to show at `now`, or None when the session is done."""
        if self._front:
            return self._front.pop()
        if self.learning and self.learning[0].schedule.due <= now:
            return self.learning.pop(0)
        if self.new and (not self.reviews or self._since_new >= self.new_gap):
            self._since_new = 0
            return self.new.popleft()
        if self.reviews:
            self._since_new += 1
            return self.reviews.popleft()
        if self.learning and self.learning[0].schedule.due <= now + self.learn_ahead:
            return self.learning.pop(0)
        return None

    def answered(self, entry: Entry, after: CardSchedule, day_end: datetime) -> None:
        """Put a card back in the queue if its next step falls within this study day."""
        if self.cram:
            return
        in_steps = after.state in (State.LEARNING, State.RELEARNING) and not after.suspended
        if in_steps and after.due is not None and after.due < day_end:
            entry.schedule = after
            self.learning.append(entry)
            self.learning.sort(key=lambda e: e.schedule.due)

    def requeue_cram(self, entry: Entry, offset: int = 3) -> None:
        """Cram: a missed card comes back a few cards later."""
        self.reviews.insert(min(offset, len(self.reviews)), entry)

    def discard(self, entry: Entry) -> None:
        """Drop every queued copy of a card (suspended, or undone and re-shown)."""
        for coll in (self._front, self.learning):
            coll[:] = [e for e in coll if e.rowid != entry.rowid]
        for dq in (self.reviews, self.new):
            kept = [e for e in dq if e.rowid != entry.rowid]
            dq.clear()
            dq.extend(kept)

    def push_front(self, entry: Entry) -> None:
        """Undo: show this card again next."""
        self.discard(entry)
        self._front.append(entry)

    def next_learning_due(self) -> datetime | None:
        return self.learning[0].schedule.due if self.learning else None
