"""Reviews coming due on each of the next days (what `quizforge study` will ask for)."""

from __future__ import annotations

from datetime import datetime

from quizforge.reports.activity import DayCount
from quizforge.reports.scope import BUCKET_MS, Calendar, Scope
from quizforge.store.db import Database

FORECAST_DAYS = 30


def forecast(
    db: Database, now: datetime, cal: Calendar, scope: Scope, days: int = FORECAST_DAYS
) -> list[DayCount]:
    """Deck cards due on each study day from today; overdue cards count today. Drill
    skills, suspended cards and cards removed from their deck are left out."""
    grid = cal.grid(cal.day_of(now), days)
    f, args = scope.cards_sql()
    # Grouped into 15-minute buckets in SQLite (cards.due has no index to range-join on),
    # then the few thousand buckets are summed per study day.
    buckets = db.conn.execute(
        f"SELECT MAX(due, ?) / {BUCKET_MS}, COUNT(*) FROM cards"
        " WHERE in_deck = 1 AND suspended = 0 AND state != 0 AND kind != 'skill' AND due < ?"
        f"{f} GROUP BY 1",
        [grid.bounds[0], grid.bounds[-1], *args],
    ).fetchall()
    return [DayCount(grid.day(i), n) for i, n in enumerate(grid.spread(buckets))]
