"""Study days: a day starts at a local hour (4 am by default, as in Anki), not midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo


def study_day(moment: datetime, starts_at: int = 4, tz: tzinfo | None = None) -> date:
    """The study day a moment belongs to, in local time (or `tz`)."""
    local = moment.astimezone(tz)
    return (local - timedelta(hours=starts_at)).date()


def day_bounds(
    now: datetime, starts_at: int = 4, tz: tzinfo | None = None
) -> tuple[datetime, datetime]:
    """UTC start and end of the study day containing `now`."""
    day = study_day(now, starts_at, tz)
    return day_start(day, starts_at, tz), day_start(day + timedelta(days=1), starts_at, tz)


def day_start(day: date, starts_at: int = 4, tz: tzinfo | None = None) -> datetime:
    naive = datetime(day.year, day.month, day.day, starts_at)
    local = naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()
    return local.astimezone(UTC)
