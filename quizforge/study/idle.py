"""Why a study session has nothing to show, and the command that goes past it. Pure.

`study --new N` is the day's total of new cards (as new_per_day is), not N more: a learner
who has seen 20 new cards today gets 5 more from `--new 25`, none from `--new 20`. The
message says so, and gives the total that shows more.
"""

from __future__ import annotations

from dataclasses import dataclass

FALLBACK_MORE = 20  # new cards a suggested --new adds when new_per_day is 0


@dataclass(frozen=True)
class Idle:
    """The figures behind an empty session."""

    new_cap: int  # today's new-card total in force (--new, else new_per_day)
    cap_from_option: bool  # the total came from --new
    new_seen_today: int  # new cards introduced today, every deck
    new_left: int  # new cards in scope never introduced
    new_per_day: int
    reviews_cap: int  # reviews_per_day
    reviews_done: int  # review cards answered today
    reviews_waiting: int  # review cards due now in scope, held back by reviews_per_day
    decks: tuple[str, ...] = ()  # the session's --deck and --tag, for the commands
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reason:
    text: str
    command: str | None = None


def reasons(idle: Idle) -> list[Reason]:
    """One reason for new cards and one for reviews, each with the way past it if any."""
    from quizforge.reports.weak import study_command

    where = "these decks" if idle.decks or idle.tags else "your decks"
    study = study_command(idle.decks, idle.tags)
    out = []
    if idle.new_left == 0:
        out.append(Reason(f"New cards: none left in {where} (every card has been started)."))
    elif idle.new_seen_today >= idle.new_cap:
        limit = "--new" if idle.cap_from_option else "new_per_day"
        more = min(idle.new_left, idle.new_per_day or FALLBACK_MORE)
        total = idle.new_seen_today + more
        out.append(Reason(
            f"New cards: today's limit is reached ({idle.new_seen_today} seen today"
            f"{' in all decks' if idle.decks or idle.tags else ''},"
            f" {limit} {idle.new_cap}; {idle.new_left:,} left in {where}). --new is the"
            f" day's total, not N more: --new {total} shows up to {more} more.",
            f"{study} --new {total}",
        ))
    if idle.reviews_waiting:
        out.append(Reason(
            f"Reviews: today's limit is reached ({idle.reviews_done} done, reviews_per_day"
            f" {idle.reviews_cap}; {idle.reviews_waiting:,} more due).",
            f"quizforge config set reviews_per_day {idle.reviews_done + idle.reviews_waiting}",
        ))
    else:
        out.append(Reason("Reviews: all done for now."))
    return out
