"""Reviews coming due on each of the next days (what `quizforge study` will ask for)."""

from __future__ import annotations

from datetime import datetime

from quizforge.reports.activity import DayCount
from quizforge.reports.scope import BUCKET_MS, Calendar, Scope
from quizforge.store.db import Database

FORECAST_DAYS = 30
_BEFORE_ALL = -(1 << 63)  # day 0 also counts the overdue cards


def forecast(
    db: Database, now: datetime, cal: Calendar, scope: Scope, days: int = FORECAST_DAYS
) -> list[DayCount]:
    """Deck cards due on each study day from today; overdue cards count today. Drill
    skills, suspended cards and cards removed from their deck are left out."""
    grid = cal.grid(cal.day_of(now), days)
    f, args = scope.card_rows_sql()
    where = "in_deck = 1 AND suspended = 0 AND kind != 'skill'"
    if (not scope.tags or scope.card_set is not None) and not _odd_states(db):
        # One count per day, each a range of cards_due (state, due) per state (with --deck
        # or --tag, each card's id looked up in the scope's card set, which the index holds):
        # the cards due in the next days, not every card sorted into 15-minute buckets.
        counts = dict(db.conn.execute(
            f"WITH {_days(grid)} SELECT i, (SELECT COUNT(*) FROM cards WHERE state IN (1, 2, 3)"
            f" AND due >= days.lo AND due < days.hi AND {where}{f}) FROM days",
            [*_day_args(grid), *args],
        ))
        return [DayCount(grid.day(i), counts.get(i, 0)) for i in range(len(grid))]
    # With --tag and no card set, the tag test needs each card's row: one pass over cards_groups,
    # grouped into 15-minute buckets, then the few thousand buckets summed per study day.
    buckets = db.conn.execute(
        f"SELECT MAX(due, ?) / {BUCKET_MS}, COUNT(*) FROM cards"
        f" WHERE {where} AND state != 0 AND due < ?{f} GROUP BY 1",
        [grid.bounds[0], grid.bounds[-1], *args],
    ).fetchall()
    return [DayCount(grid.day(i), n) for i, n in enumerate(grid.spread(buckets))]


def _odd_states(db: Database) -> bool:
    """A card with a state outside 0-3 (damaged data): counted as the bucket query does."""
    return db.conn.execute(
        "SELECT 1 FROM cards WHERE state < 0 OR state > 3 LIMIT 1").fetchone() is not None


def _days(grid) -> str:
    return f"days(i, lo, hi) AS (VALUES {','.join('(?,?,?)' for _ in range(len(grid)))})"


def _day_args(grid) -> list[int]:
    args: list[int] = []
    for i in range(len(grid)):
        args += [i, grid.bounds[i] if i else _BEFORE_ALL, grid.bounds[i + 1]]
    return args
