"""Today's figures: what was done this study day and what is left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from quizforge.reports.activity import streak
from quizforge.reports.scope import Calendar, Scope
from quizforge.scheduling.config import Config
from quizforge.store import cards as store
from quizforge.store.db import Database, from_ms, to_ms


@dataclass(frozen=True)
class Today:
    date: date
    reviews: int  # answers today, cram practice and drill skills included
    correct: int  # of those, not Again
    seconds: float
    due_now: int  # deck cards (not drill skills) due for `quizforge study` now
    new_introduced: int  # new cards seen for the first time today (every deck)
    new_left: int  # new cards `quizforge study` would still introduce today
    streak_days: int

    @property
    def correct_rate(self) -> float | None:
        return self.correct / self.reviews if self.reviews else None


def today(db: Database, now: datetime, cal: Calendar, scope: Scope, config: Config) -> Today:
    day = cal.day_of(now)
    lo, hi = cal.start_ms(day), to_ms(now)
    f, args = scope.revlog_sql(cal)
    reviews, correct, ms = db.conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(rating > 1), 0), COALESCE(SUM(duration_ms), 0)"
        f" FROM revlog r WHERE reviewed_at >= ? AND reviewed_at <= ?{f}",
        [lo, hi, *args],
    ).fetchone()
    cf, cargs = scope.cards_sql()
    due_now, new_available = db.conn.execute(
        "SELECT COALESCE(SUM(state != 0 AND due <= ?), 0), COALESCE(SUM(state = 0), 0)"
        f" FROM cards WHERE in_deck = 1 AND suspended = 0 AND kind != 'skill'{cf}",
        [hi, *cargs],
    ).fetchone()
    # The daily cap is shared by every deck, as in the study session.
    introduced = store.studied_today(db, from_ms(lo))["new"]
    return Today(
        date=day,
        reviews=reviews,
        correct=correct,
        seconds=ms / 1000,
        due_now=due_now,
        new_introduced=introduced,
        new_left=min(new_available, max(0, config.new_per_day - introduced)),
        streak_days=streak(db, now, cal, scope),
    )
