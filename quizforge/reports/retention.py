"""True retention, as in Anki's statistics: how often a card due for review is remembered.

Counted: for each card and study day, the card's first scheduled answer of that day (cram
practice left out), when the card was in review state (state_before = 2). Passed: Hard,
Good or Easy. Young/mature: by the days since the previous review (elapsed_days) under /
at least 21 — for a review on time that is the interval the card had.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from quizforge.reports.days import day_sums
from quizforge.reports.scope import Calendar, Scope
from quizforge.store.db import Database

WINDOWS = (7, 30)


@dataclass(frozen=True)
class Tally:
    reviews: int = 0
    passed: int = 0

    @property
    def rate(self) -> float | None:
        return self.passed / self.reviews if self.reviews else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.reviews + other.reviews, self.passed + other.passed)


@dataclass(frozen=True)
class RetentionWindow:
    days: int  # the last `days` study days, today included
    young: Tally
    mature: Tally

    @property
    def all(self) -> Tally:
        return self.young + self.mature


def retention(
    db: Database, now: datetime, cal: Calendar, scope: Scope, windows: tuple[int, ...] = WINDOWS
) -> list[RetentionWindow]:
    longest = max(windows)
    today = cal.day_of(now)
    grid = cal.grid(today - timedelta(days=longest - 1), longest)
    # the days as kept in the store (reports.days), which trends() reads too
    rows = []
    for i, _tags, _n, _sum, young, young_passed, mature, mature_passed in day_sums(
        db, grid, scope, cal, by_tags=False
    ):
        rows += [(i, False, young, young_passed), (i, True, mature, mature_passed)]
    out = []
    for n in windows:
        first = longest - n
        young, mature = Tally(), Tally()
        for i, is_mature, count, passed in rows:
            if i >= first:
                if is_mature:
                    mature += Tally(count, passed)
                else:
                    young += Tally(count, passed)
        out.append(RetentionWindow(n, young, mature))
    return out
