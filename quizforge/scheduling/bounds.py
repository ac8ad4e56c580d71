"""The ranges a card's scheduling values must lie in for the scheduler to work with them:
py-fsrs's own bounds for the memory state, and sane years for dates. An import checks
every value against them; `doctor` finds (and `--fix` repairs) a stored card outside them."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from fsrs.scheduler import MAX_DIFFICULTY, MIN_DIFFICULTY, STABILITY_MIN

STABILITY_MAX = 36_500.0  # days: FSRS's cap (fsrs-rs S_MAX), and the longest interval
STABILITY = (STABILITY_MIN, STABILITY_MAX)
DIFFICULTY = (MIN_DIFFICULTY, MAX_DIFFICULTY)
YEARS_BACK = 50  # a review or a due date earlier than this is not a real one
YEARS_AHEAD = 100  # a card may be due up to maximum_interval (36,500 days) ahead
MAX_INTERVAL_DAYS = 36_500
MAX_TIME_MS = 86_400_000  # time taken on one answer: a day at most
MAX_COUNT = 100_000  # reps, lapses


def date_window(now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(days=365.25 * YEARS_BACK), now + timedelta(days=365.25 * YEARS_AHEAD)


def finite(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def clamp(x: float, bounds: tuple[float, float]) -> float:
    return min(max(x, bounds[0]), bounds[1])
