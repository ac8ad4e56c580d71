"""A plan that reaches the interview date: does the collection fit before it, and what to
leave out when it does not fit the learner's daily time. Pure: handed `now`, the cards and a
seed; the workload comes from the simulator (scheduling/simulate.py), run with the
interview date's cap.

- Every card should be seen on two study days before the date: first on the day it is
  introduced, then at least once more. The interview cap brings any review that would fall
  after the date back to the last study day before it, so a card introduced by the day
  before that last day is seen twice. New cards therefore have `intro_days` = days left - 1
  study days (today included): `needed` = ceil((new left + new seen today) / intro_days) a
  day, a daily total like new_per_day.
- The reviews that follow are the simulator's, at desired_retention, with new cards at the
  larger of needed and new_per_day and no reviews_per_day limit (the figures are what the
  date asks for; the screen says when the busiest day is over the limit); minutes = new cards × seconds per new card (first
  answer and its learning steps) + reviews × seconds per review (relearning steps
  included), from the learner's review log when it has MIN_TIMED timed answers of the
  kind, else DEFAULT_SECONDS_NEW / DEFAULT_SECONDS_REVIEW.
- Over a daily_minutes budget (mean minutes a day to the date), whole decks are left out,
  least weight first (study/new_order.py's deck weight), the one with most new cards first
  among equal weights, until the rest fits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import CardSchedule
from quizforge.scheduling.simulate import Collection, RetentionRun, simulate

UNLIMITED_REVIEWS = 100_000  # the most reviews_per_day allows (config.MAX_LIMIT)
MIN_TIMED = 30  # timed answers of a kind before the learner's own pace is used
DEFAULT_SECONDS_REVIEW = 15.0
DEFAULT_SECONDS_NEW = 45.0  # reading a new card and its learning steps (about 3 answers)


@dataclass(frozen=True)
class Pace:
    seconds_review: float
    seconds_new: float
    review_from_log: bool = False
    new_from_log: bool = False

    @property
    def source(self) -> str:
        if self.review_from_log and self.new_from_log:
            return "your review log"
        if self.review_from_log or self.new_from_log:
            which = "reviews" if self.review_from_log else "new cards"
            return f"your review log for {which}, defaults otherwise"
        return "defaults (your review log has too few timed answers)"

    def to_dict(self) -> dict:
        return {
            "seconds_per_review": round(self.seconds_review, 1),
            "seconds_per_new_card": round(self.seconds_new, 1),
            "review_from_log": self.review_from_log,
            "new_from_log": self.new_from_log,
        }


def pace_from_counts(tallies: Sequence[tuple[int, int, int, int, int]]) -> Pace:
    """From review-log tallies `(state_before, rating, answers, timed answers, timed ms)`
    (store.answer_tallies): seconds per new card = the time of first answers and learning
    steps over the timed first answers; per review = review and relearning time over the
    timed reviews."""
    timed = {0: 0, 2: 0}
    ms = {"new": 0.0, "review": 0.0}
    for state_before, _rating, _n, n_timed, total_ms in tallies:
        state = int(state_before)
        if state in timed:
            timed[state] += n_timed
        ms["new" if state in (0, 1) else "review"] += total_ms
    new_ok, review_ok = timed[0] >= MIN_TIMED, timed[2] >= MIN_TIMED
    return Pace(
        seconds_review=ms["review"] / 1000 / timed[2] if review_ok else DEFAULT_SECONDS_REVIEW,
        seconds_new=ms["new"] / 1000 / timed[0] if new_ok else DEFAULT_SECONDS_NEW,
        review_from_log=review_ok,
        new_from_log=new_ok,
    )


@dataclass(frozen=True)
class DeckCards:
    """One deck as the plan sees it: its weight, its studied cards' schedules, new cards."""

    deck_id: str
    weight: float
    scheduled: tuple[CardSchedule, ...]
    new: int

    @property
    def studied(self) -> int:
        return len(self.scheduled)


@dataclass(frozen=True)
class DeckCounts:
    """One deck's counts only (the report's line: nothing simulated, no schedules)."""

    deck_id: str
    weight: float
    studied: int
    new: int


@dataclass(frozen=True)
class Workload:
    """The simulated days to the date for a set of decks."""

    decks: tuple[str, ...]
    cards: int
    new: int
    new_per_day: int
    reviews_mean: float
    reviews_peak: int
    minutes_mean: float
    minutes_peak: float
    recall_on_date: float | None  # mean over every card, never seen = 0
    seen_twice: int | None
    unseen: int | None
    backlog: int  # reviews reviews_per_day left undone

    def to_dict(self) -> dict:
        return {
            "decks": list(self.decks),
            "cards": self.cards,
            "new_cards": self.new,
            "new_per_day": self.new_per_day,
            "reviews_per_day_mean": round(self.reviews_mean, 1),
            "reviews_per_day_peak": self.reviews_peak,
            "minutes_per_day_mean": round(self.minutes_mean, 1),
            "minutes_per_day_peak": round(self.minutes_peak, 1),
            "recall_on_date": None if self.recall_on_date is None
            else round(self.recall_on_date, 4),
            "seen_twice_by_date": self.seen_twice,
            "unseen_by_date": self.unseen,
            "backlog": self.backlog,
        }


@dataclass(frozen=True)
class Plan:
    interview: date
    days_left: int
    new_left: int
    new_today: int  # new cards seen today (they count in today's total)
    new_per_day: int  # the setting
    needed: int | None  # new cards a day so every card is seen twice; None: too late
    budget: int  # daily_minutes; 0 = none
    pace: Pace
    decks: tuple[DeckCards | DeckCounts, ...] = ()  # DeckCounts: counts only, not simulated
    full: Workload | None = None  # every deck
    drop: tuple[str, ...] = ()  # decks to leave out to fit the budget, in order
    kept: Workload | None = None  # what is left after dropping them
    reviews_per_day: int = 200  # the setting (the workload is simulated without it)

    @property
    def intro_days(self) -> int:
        return max(0, self.days_left - 1)

    @property
    def fits_new(self) -> bool:
        return self.needed is not None and self.needed <= self.new_per_day

    @property
    def fits_time(self) -> bool | None:
        """Within daily_minutes (None: no budget, or nothing simulated)."""
        if not self.budget or self.full is None:
            return None
        return self.full.minutes_mean <= self.budget

    @property
    def fits(self) -> bool:
        return self.new_left == 0 or (self.fits_new and self.fits_time is not False)

    def to_dict(self) -> dict:
        return {
            "interview_date": self.interview.isoformat(),
            "days_left": self.days_left,
            "intro_days": self.intro_days,
            "new_left": self.new_left,
            "new_seen_today": self.new_today,
            "new_per_day": self.new_per_day,
            "reviews_per_day": self.reviews_per_day,
            "new_per_day_needed": self.needed,
            "fits": self.fits,
            "fits_new_per_day": self.fits_new,
            "daily_minutes": self.budget or None,
            "fits_daily_minutes": self.fits_time,
            "pace": {**self.pace.to_dict(), "source": self.pace.source},
            "decks": [{"deck": d.deck_id, "weight": d.weight, "new": d.new,
                       "studied": d.studied} for d in self.decks],
            "workload": self.full.to_dict() if self.full else None,
            "drop": list(self.drop),
            "after_drop": self.kept.to_dict() if self.kept else None,
            "definition": DEFINITION,
        }


DEFINITION = (
    "new_per_day_needed: new cards a day (a daily total, as new_per_day) so that every card "
    "is seen on two study days before the date: introduced by the day before the last study "
    "day, its capped review falls on that last day; workload: the simulator at "
    "desired_retention with the interview cap, new cards at the larger of needed and "
    "new_per_day; recall_on_date: mean FSRS recall at the start of the interview's study "
    "day over every card (never seen: 0); minutes: new cards × seconds per new card + "
    "reviews × seconds per review; drop: decks left out to fit daily_minutes (mean minutes "
    "a day), least weight first"
)


def deck_cards(
    rows: Sequence[tuple[str, CardSchedule]],
    weights: dict[str, float],
    unsynced: dict[str, int] | None = None,
) -> list[DeckCards]:
    """The decks in `weights` (the loaded ones, in that order) from store rows `(deck id,
    schedule)` (store.plan_cards), plus cards their files have that the store has not
    met yet (`unsynced`, per deck)."""
    from quizforge.scheduling.scheduler import State

    scheduled: dict[str, list[CardSchedule]] = {d: [] for d in weights}
    new = dict.fromkeys(weights, 0)
    for deck_id, s in rows:
        if deck_id not in weights:
            continue
        if s.state == State.NEW:
            new[deck_id] += 1
        else:
            scheduled[deck_id].append(s)
    for deck_id, n in (unsynced or {}).items():
        if deck_id in new:
            new[deck_id] += n
    return [DeckCards(d, w, tuple(scheduled[d]), new[d]) for d, w in weights.items()]


def needed_per_day(new_left: int, new_today: int, days_left: int) -> int | None:
    """New cards a day (today's total) so every card is seen on two study days before the
    date; None when the date is tomorrow or sooner (a card met today is not seen twice)."""
    intro = days_left - 1
    if intro < 1:
        return None
    return math.ceil((new_left + new_today) / intro) if new_left else 0


def make_plan(
    decks: Sequence[DeckCards],
    config: Config,
    interview: date,
    days_left: int,
    now: datetime,
    day_end: datetime,
    *,
    new_today: int = 0,
    reviews_today: int = 0,
    pace: Pace | None = None,
    seed: int = 0,
    simulate_workload: bool = True,
) -> Plan:
    """The plan for these decks. `simulate_workload` False: the counts only (home screen)."""
    pace = pace or Pace(DEFAULT_SECONDS_REVIEW, DEFAULT_SECONDS_NEW)
    decks = tuple(decks)
    new_left = sum(d.new for d in decks)
    needed = needed_per_day(new_left, new_today, days_left)
    plan = Plan(interview, days_left, new_left, new_today, config.new_per_day, needed,
                config.daily_minutes, pace, decks, reviews_per_day=config.reviews_per_day)
    if not simulate_workload or days_left < 1:
        return plan

    def workload(chosen: Sequence[DeckCards]) -> Workload:
        new = sum(d.new for d in chosen)
        per_day = needed_per_day(new, new_today, days_left)
        rate = max(per_day or 0, config.new_per_day)
        return _workload(chosen, config, rate, days_left, now, day_end, new_today,
                         reviews_today, pace, seed)

    full = workload(decks)
    drop: list[str] = []
    kept = None
    if config.daily_minutes and full.minutes_mean > config.daily_minutes:
        order = sorted(decks, key=lambda d: (d.weight, -d.new, d.deck_id))
        left = list(decks)
        for d in order[:-1]:  # one deck is always kept
            left.remove(d)
            drop.append(d.deck_id)
            kept = workload(left)
            if kept.minutes_mean <= config.daily_minutes:
                break
    return Plan(interview, days_left, new_left, new_today, config.new_per_day, needed,
                config.daily_minutes, pace, decks, full, tuple(drop), kept,
                config.reviews_per_day)


def _workload(
    decks: Sequence[DeckCards],
    config: Config,
    new_per_day: int,
    days_left: int,
    now: datetime,
    day_end: datetime,
    new_today: int,
    reviews_today: int,
    pace: Pace,
    seed: int,
) -> Workload:
    scheduled = tuple(s for d in decks for s in d.scheduled)
    new = sum(d.new for d in decks)
    collection = Collection(scheduled, new, new_today, reviews_today)
    # Without reviews_per_day: the workload the date asks for, not what the limit lets through.
    config = replace(config, reviews_per_day=UNLIMITED_REVIEWS)
    sim = simulate(collection, config, [config.desired_retention], days_left, now, day_end,
                   seed=seed, new_per_day=new_per_day, interview_day=days_left)
    run: RetentionRun = sim.runs[0]
    minutes = [(n * pace.seconds_new + r * pace.seconds_review) / 60
               for n, r in zip(run.new, run.reviews, strict=True)]
    return Workload(
        decks=tuple(d.deck_id for d in decks),
        cards=run.cards,
        new=new,
        new_per_day=new_per_day,
        reviews_mean=sum(run.reviews) / len(run.reviews),
        reviews_peak=max(run.reviews),
        minutes_mean=sum(minutes) / len(minutes),
        minutes_peak=max(minutes),
        recall_on_date=run.recall_on_date_mean,
        seen_twice=run.seen_twice,
        unseen=run.unseen,
        backlog=run.backlog,
    )


@dataclass(frozen=True)
class PlanLine:
    """The one-line summary for the home screen and the report (no simulation)."""

    text: str
    fits: bool
    command: str | None = None


def plan_line(plan: Plan) -> PlanLine:
    """'Plan: 362 new cards, 13 days: 28 a day needed, you have 20'."""
    if plan.days_left < 0:
        return PlanLine("The interview date has passed.", True)
    if plan.new_left == 0:
        return PlanLine("Every card has been started: reviews only until the date.", True)
    if plan.needed is None:
        return PlanLine(
            f"Plan: {plan.new_left:,} cards never seen, too late to see them twice",
            False, "quizforge plan",
        )
    days = plan.intro_days
    head = (f"Plan: {plan.new_left:,} new cards, {days} day{'s' * (days != 1)}: "
            f"{plan.needed} a day needed")
    if plan.fits_new:
        return PlanLine(f"{head}, new_per_day {plan.new_per_day} fits", True)
    return PlanLine(f"{head}, you have {plan.new_per_day}", False, "quizforge plan")
