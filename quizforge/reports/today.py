"""Today's figures: what was done this study day and what is left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from quizforge.reports.activity import streak
from quizforge.reports.scope import Calendar, Scope
from quizforge.scheduling.config import Config
from quizforge.scheduling.interview import held_over_since
from quizforge.store import cards as store
from quizforge.study.queue import LEARN_AHEAD
from quizforge.store.db import Database, from_ms, to_ms


@dataclass(frozen=True)
class Today:
    date: date
    reviews: int  # answers today, cram practice and drill skills included
    correct: int  # of those, not Again
    seconds: float
    due_now: int  # deck cards (not drill skills) `quizforge study` would show now
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
    cf, cargs = scope.card_rows_sql()
    # Counted as `quizforge study` would show them now (study.session, study.queue): learning
    # steps due within the learn-ahead window, reviews due now (and, the day before an
    # interview, those held over to it) up to what reviews_per_day still allows.
    ahead = to_ms(now + LEARN_AHEAD)
    since = held_over_since(config.interview, now, cal.starts_at, cal.tz)
    held = to_ms(since) if since is not None else -1
    # Each a range of cards_due (state, due): a few thousand rows, not a pass over 100k cards.
    def count(condition: str, *args) -> int:
        return db.conn.execute(
            f"SELECT COUNT(*) FROM cards WHERE {condition}"
            f" AND in_deck = 1 AND suspended = 0 AND kind != 'skill'{cf}",
            [*args, *cargs],
        ).fetchone()[0]

    learning = count("state IN (1, 3) AND due <= ?", ahead)
    due_reviews = count("state = 2 AND due <= ?", hi)
    if held >= 0:  # not due yet but held over to the interview
        due_reviews += count("state = 2 AND (due > ? OR due IS NULL) AND last_review < ?",
                             hi, held)
    new_available = count("state = 0")
    # The daily caps are shared by every deck, as in the study session.
    done = store.studied_today(db, from_ms(lo))
    introduced = done["new"]
    due_now = learning + min(due_reviews, max(0, config.reviews_per_day - done["reviews"]))
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
