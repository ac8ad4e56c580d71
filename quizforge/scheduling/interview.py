"""Scheduling aimed at an interview date. Pure: every function is handed `now`.

The interview happens during the study day of its date, at an hour we do not know, so the
last review we can count on is on the study day before. Every card gets one review in the
final week (the FINAL_DAYS study days before the date), and reviews are not piled on one day:

- A review that would fall after that last day is brought back into the final week. Without
  load balancing it is due at the *start* of the last study day (day_starts_at, local time),
  so the card is due for the whole of that day; with it, on the least loaded study day of
  the final week still ahead (scheduler.Scheduler._capped).
- Once a card has been answered on an earlier day of the final week, its next interval is
  FSRS's own: that answer was its review in the final week, and an interval that reaches
  past the date means its recall on the date is above the desired retention. Capping it
  again would review every card on the last day whatever it had.
- A review given on that last day, or on the date itself, is left alone: it is the review
  before the date.
- A card scheduled past the date before the date was set, and not answered in the final
  week, comes due on that last day (`held_over_since`). After the date, scheduling is as usual.

"On the date" means at the start of the interview's study day: the recall figures (report,
ordering, --ahead) are the FSRS probability of recall at that moment.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from quizforge.errors import QuizforgeError
from quizforge.scheduling.days import day_start, study_day

FINAL_DAYS = 7  # "the last days": from FINAL_DAYS study days before the date to the day itself


def days_left(interview: date, now: datetime, starts_at: int = 4, tz: tzinfo | None = None) -> int:
    """Study days from today to the interview (0 on the day, negative after it)."""
    return (interview - study_day(now, starts_at, tz)).days


def in_final_days(
    interview: date | None, now: datetime, starts_at: int = 4, tz: tzinfo | None = None
) -> bool:
    """True from FINAL_DAYS study days before the date to the day itself (a morning
    interview leaves time to go over the weakest cards once more)."""
    return interview is not None and 0 <= days_left(interview, now, starts_at, tz) <= FINAL_DAYS


def last_review_day(interview: date) -> date:
    return interview - timedelta(days=1)


def moment_of(interview: date, starts_at: int = 4, tz: tzinfo | None = None) -> datetime:
    """The moment recall is predicted for: the start of the interview's study day (UTC)."""
    return day_start(interview, starts_at, tz)


def final_week_start(interview: date) -> date:
    """The first study day of the final week: FINAL_DAYS days before the date."""
    return interview - timedelta(days=FINAL_DAYS)


def latest_due(
    interview: date | None,
    now: datetime,
    starts_at: int = 4,
    tz: tzinfo | None = None,
    last_review: datetime | None = None,
) -> datetime | None:
    """The latest due time a review given at `now` may get, or None when the date does not
    limit it: no date, today is already the last study day before it or later, or the card
    was last answered (`last_review`, before this answer) on an earlier day of the final
    week."""
    if interview is None:
        return None
    last = last_review_day(interview)
    today = study_day(now, starts_at, tz)
    if today >= last:
        return None
    if last_review is not None:
        before = study_day(last_review, starts_at, tz)
        if final_week_start(interview) <= before < today:
            return None
    return day_start(last, starts_at, tz)


def held_over_since(
    interview: date | None, now: datetime, starts_at: int = 4, tz: tzinfo | None = None
) -> datetime | None:
    """On the last study day before the date and on the date itself: the start of the final
    week. A review card not answered since then is due, whatever its due date says: it was
    scheduled past the date before the date was set (or moved), and without a review now it
    would reach the interview with no review in its final week. None on other days."""
    if interview is None:
        return None
    last = last_review_day(interview)
    if not last <= study_day(now, starts_at, tz) <= interview:
        return None
    return day_start(final_week_start(interview), starts_at, tz)


class InterviewDateError(QuizforgeError):
    """An interview-date option cannot be honoured (a bad date, --ahead with no date)."""


def parse_until(text: str, now: datetime, starts_at: int = 4, tz: tzinfo | None = None) -> date:
    """`study --until DATE`: a date from today on, else a one-line InterviewDateError."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InterviewDateError(
            f"bad --until date {text!r}: use YYYY-MM-DD, e.g. 2026-12-15"
        ) from None
    today = study_day(now, starts_at, tz)
    if day < today:
        raise InterviewDateError(
            f"--until {day.isoformat()} is in the past (today is {today.isoformat()})"
        )
    return day
