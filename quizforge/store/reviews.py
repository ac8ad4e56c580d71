"""One card's review log, newest first (for `quizforge cards show`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from quizforge.store.db import Database, from_ms


@dataclass(frozen=True)
class Review:
    reviewed_at: datetime
    rating: int  # 1 Again .. 4 Easy
    duration_ms: int
    state_before: int  # 0 new, 1 learning, 2 review, 3 relearning
    interval_days: float  # the interval the answer gave
    elapsed_days: float | None  # since the previous answer; None for the first
    cram: bool


def last_reviews(db: Database, card_rowid: int, limit: int = 10) -> tuple[list[Review], int]:
    """The card's last `limit` answers, newest first, and how many it has in all."""
    rows = db.conn.execute(
        "SELECT reviewed_at, rating, duration_ms, state_before, interval_days, elapsed_days,"
        " cram FROM revlog WHERE card = ? ORDER BY reviewed_at DESC, id DESC LIMIT ?",
        (card_rowid, limit),
    ).fetchall()
    total = db.conn.execute("SELECT COUNT(*) FROM revlog WHERE card = ?",
                            (card_rowid,)).fetchone()[0]
    return [Review(from_ms(r[0]), r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows], total
