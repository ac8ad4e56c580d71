"""Reviews per study day: the 26-week calendar and the study streak.

Every review-log row counts as activity, cram practice included, and so do reviews of
cards since removed from their deck.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from quizforge.reports.scope import Calendar, DayGrid, Scope
from quizforge.store.db import Database

HEATMAP_WEEKS = 26


def daily_reviews(db: Database, grid: DayGrid, cal: Calendar, scope: Scope) -> list[int]:
    """Review-log rows on each day of `grid`: one index range scan per day."""
    days, args = grid.cte()
    f, fargs = scope.revlog_sql(cal)
    rows = db.conn.execute(
        f"WITH {days} SELECT days.i, COUNT(*) FROM days"
        " JOIN revlog r ON r.reviewed_at >= days.lo AND r.reviewed_at < days.hi"
        f" WHERE 1{f} GROUP BY days.i",
        [*args, *fargs],
    )
    out = [0] * len(grid)
    for i, n in rows:
        out[i] = n
    return out


@dataclass(frozen=True)
class DayCount:
    date: date
    count: int


@dataclass(frozen=True)
class Heatmap:
    """Reviews per day from the Monday `weeks - 1` weeks before this week, up to today."""

    start: date  # a Monday
    today: date
    days: list[DayCount]

    @property
    def total(self) -> int:
        return sum(d.count for d in self.days)

    @property
    def active_days(self) -> int:
        return sum(1 for d in self.days if d.count)

    @property
    def busiest(self) -> int:
        return max((d.count for d in self.days), default=0)


def heatmap(
    db: Database, now: datetime, cal: Calendar, scope: Scope, weeks: int = HEATMAP_WEEKS
) -> Heatmap:
    from quizforge.reports import days

    today = cal.day_of(now)
    start = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    grid = cal.grid(start, (today - start).days + 1)
    # the days' counts as kept in the store (reports.days), not the log's rows counted again
    counts = (days.day_answers(db, grid, scope, cal) if days.USE_SUMMARIES
              else daily_reviews(db, grid, cal, scope))
    return Heatmap(start, today, [DayCount(grid.day(i), n) for i, n in enumerate(counts)])


def active_days(db: Database, grid: DayGrid, cal: Calendar, scope: Scope) -> list[bool]:
    """Whether each day of `grid` has an answer: stops at the first row found per day.
    With --deck or --tag, the days the store keeps (reports.days) are read from there:
    looking for a row of a few cards among each day's answers takes longer."""
    from quizforge.reports import days as kept_days

    active: set[int] = set()
    todo = list(range(len(grid)))
    if (scope.decks or scope.tags) and kept_days.USE_SUMMARIES:
        kept, active = kept_days.kept_active(db, grid, scope, cal)
        todo = [i for i in todo if i not in kept]
    if todo:
        f, fargs = scope.revlog_sql(cal)
        rows = ",".join("(?,?,?)" for _ in todo)
        args: list[int] = []
        for i in todo:
            args += [i, grid.bounds[i], grid.bounds[i + 1]]
        active |= {
            i
            for (i,) in db.conn.execute(
                f"WITH days(i, lo, hi) AS (VALUES {rows}) SELECT days.i FROM days"
                " WHERE EXISTS (SELECT 1 FROM revlog r"
                f" WHERE r.reviewed_at >= days.lo AND r.reviewed_at < days.hi{f})",
                [*args, *fargs],
            )
        }
    return [i in active for i in range(len(grid))]


def streak(db: Database, now: datetime, cal: Calendar, scope: Scope, chunk: int = 120) -> int:
    """Consecutive study days with at least one answer, ending today, or yesterday when
    today has none yet (the streak is not broken until the day is over)."""
    today = cal.day_of(now)
    n, end = 0, today
    while True:
        grid = cal.grid(end - timedelta(days=chunk - 1), chunk)
        newest_first = active_days(db, grid, cal, scope)[::-1]
        if end == today and not newest_first[0]:
            newest_first = newest_first[1:]
        for active in newest_first:
            if not active:
                return n
            n += 1
        end -= timedelta(days=chunk)
        chunk *= 2  # a long streak: fewer, longer reads (each reads the scope's cards once)
