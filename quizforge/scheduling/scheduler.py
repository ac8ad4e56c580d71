"""FSRS scheduling through py-fsrs, plus what py-fsrs leaves to the app.

py-fsrs has no "new" state and no rep/lapse counters; this module adds them, and the
leech rule. It is pure: every function is handed `now` and does no I/O.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import IntEnum

import fsrs

from quizforge.scheduling import balance
from quizforge.scheduling.config import Config
from quizforge.scheduling.days import day_start, study_day
from quizforge.scheduling.interview import final_week_start, latest_due


class State(IntEnum):
    """Card states, numbered as in Anki's revlog (and py-fsrs for 1-3)."""

    NEW = 0
    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3


class Rating(IntEnum):
    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


RATING_LABELS = {Rating.AGAIN: "Again", Rating.HARD: "Hard", Rating.GOOD: "Good", Rating.EASY: "Easy"}


@dataclass(frozen=True)
class CardSchedule:
    """Everything the scheduler knows about one card."""

    state: State = State.NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None  # None while new
    last_review: datetime | None = None
    reps: int = 0
    lapses: int = 0
    suspended: bool = False
    leech: bool = False

    def to_dict(self) -> dict:
        return {
            "state": int(self.state),
            "step": self.step,
            "stability": self.stability,
            "difficulty": self.difficulty,
            "due": self.due.isoformat() if self.due else None,
            "last_review": self.last_review.isoformat() if self.last_review else None,
            "reps": self.reps,
            "lapses": self.lapses,
            "suspended": self.suspended,
            "leech": self.leech,
        }

    @classmethod
    def from_dict(cls, d: dict) -> CardSchedule:
        return cls(
            state=State(d["state"]),
            step=d["step"],
            stability=d["stability"],
            difficulty=d["difficulty"],
            due=datetime.fromisoformat(d["due"]) if d["due"] else None,
            last_review=datetime.fromisoformat(d["last_review"]) if d["last_review"] else None,
            reps=d["reps"],
            lapses=d["lapses"],
            suspended=d["suspended"],
            leech=d["leech"],
        )


@dataclass(frozen=True)
class ReviewRecord:
    """One answer, shaped like a row of Anki's revlog."""

    reviewed_at: datetime
    rating: Rating
    duration_ms: int
    state_before: State
    interval_days: float  # time until the new due date, in days
    elapsed_days: float | None  # days since the previous review; None for a first review
    lapse: bool  # a review-state card forgotten
    became_leech: bool


def _check_utc(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() != timedelta(0):
        raise ValueError("datetimes must be timezone-aware UTC")


class Scheduler:
    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        kwargs = {
            "desired_retention": self.config.desired_retention,
            "learning_steps": self.config.learning,
            "relearning_steps": self.config.relearning,
            "maximum_interval": self.config.maximum_interval,
        }
        if self.config.parameters:  # fitted by `quizforge optimize`; else py-fsrs's defaults
            kwargs["parameters"] = self.config.parameters
        self._fsrs = fsrs.Scheduler(**kwargs, enable_fuzzing=self.config.fuzz)
        # Interval labels on the rating keys show the unfuzzed interval, as Anki does.
        self._preview = fsrs.Scheduler(**kwargs, enable_fuzzing=False)

    @staticmethod
    def _to_fsrs(s: CardSchedule, now: datetime) -> fsrs.Card:
        if s.state == State.NEW:
            return fsrs.Card(card_id=0, state=fsrs.State.Learning, step=0, due=now)
        return fsrs.Card(
            card_id=0,
            state=fsrs.State(int(s.state)),
            step=s.step,
            stability=s.stability,
            difficulty=s.difficulty,
            due=s.due,
            last_review=s.last_review,
        )

    # Study days (interview date, load balancing) are in this zone; None: the machine's own.
    tz: tzinfo | None = None

    def review(
        self,
        s: CardSchedule,
        rating: Rating,
        now: datetime,
        duration_ms: int = 0,
        fuzz_seed: int | None = None,
        due_counts: balance.DueCounts | None = None,
    ) -> tuple[CardSchedule, ReviewRecord]:
        """Answer a card. `fuzz_seed` makes the interval fuzz deterministic (as Anki seeds
        it from the card id and rep count); without it py-fsrs draws from `random`.

        `due_counts` (reviews already due per study day, read by the caller) turns on load
        balancing when the `load_balance` and `fuzz` settings allow it. With an interview
        date in the config, no review lands after the study day before it (see
        quizforge/scheduling/interview.py)."""
        _check_utc(now)
        rating = Rating(rating)
        card = self._answer(s, rating, now, fuzz_seed, due_counts)
        cap = latest_due(self.config.interview, now, self.config.day_starts_at, self.tz,
                         s.last_review)
        if cap is not None and card.due > cap:
            card.due = self._capped(card, now, cap, fuzz_seed, due_counts)
        lapse = s.state == State.REVIEW and rating == Rating.AGAIN
        lapses = s.lapses + int(lapse)
        became_leech = lapse and lapses >= self.config.leech_threshold and not s.leech
        new = replace(
            s,
            state=State(int(card.state)),
            step=card.step,
            stability=card.stability,
            difficulty=card.difficulty,
            due=card.due,
            last_review=now,
            reps=s.reps + 1,
            lapses=lapses,
            leech=s.leech or became_leech,
            suspended=s.suspended or became_leech,
        )
        record = ReviewRecord(
            reviewed_at=now,
            rating=rating,
            duration_ms=max(0, int(duration_ms)),
            state_before=s.state,
            interval_days=(card.due - now).total_seconds() / 86400,
            elapsed_days=(now - s.last_review).total_seconds() / 86400 if s.last_review else None,
            lapse=lapse,
            became_leech=became_leech,
        )
        return new, record

    def _balancing(self, due_counts: balance.DueCounts | None) -> bool:
        return due_counts is not None and self.config.fuzz and self.config.load_balance

    def _answer(
        self,
        s: CardSchedule,
        rating: Rating,
        now: datetime,
        fuzz_seed: int | None,
        due_counts: balance.DueCounts | None,
    ) -> fsrs.Card:
        """py-fsrs's answer; with load balancing, its unfuzzed interval moved to the
        least-loaded day of its fuzz range (py-fsrs only fuzzes review intervals of 3+ days)."""
        card = self._to_fsrs(s, now)
        r = fsrs.Rating(int(rating))
        if self._balancing(due_counts):
            exact, _ = self._preview.review_card(card, r, now)
            days = round((exact.due - now) / timedelta(days=1))
            if exact.state != fsrs.State.Review or days < 3:
                return exact  # py-fsrs would not fuzz it either
            lo, hi = balance.fuzz_range(days, self.config.maximum_interval)
            if hi <= balance.MAX_BALANCED_DAYS:
                ivls = list(range(lo, hi + 1))
                exact.due = now + timedelta(days=self._pick(now, ivls, fuzz_seed, due_counts))
                return exact
        if fuzz_seed is None:
            card, _ = self._fsrs.review_card(card, r, now)
            return card
        # py-fsrs fuzzes with the module-level `random`; seed it just for this call.
        saved = random.getstate()
        random.seed(fuzz_seed)
        try:
            card, _ = self._fsrs.review_card(card, r, now)
        finally:
            random.setstate(saved)
        return card

    def _pick(
        self, now: datetime, ivls: list[int], fuzz_seed: int | None, due_counts: balance.DueCounts
    ) -> int:
        """The interval (days) among `ivls` the load balancer draws, from the due counts."""
        starts, tz = self.config.day_starts_at, self.tz
        days = [study_day(now + timedelta(days=i), starts, tz) for i in ivls]
        return self._least_loaded(ivls, days, fuzz_seed, due_counts)

    @staticmethod
    def _least_loaded(ivls: list[int], days: list[date], fuzz_seed: int | None,
                      due_counts: balance.DueCounts) -> int:
        """Anki's load-balancer draw among intervals `ivls`, landing on study days `days`."""
        counts = due_counts(days[0], days[-1])
        return balance.choose(ivls, balance.spread_counts(counts, days), fuzz_seed)

    def _capped(
        self,
        card: fsrs.Card,
        now: datetime,
        cap: datetime,
        fuzz_seed: int | None,
        due_counts: balance.DueCounts | None,
    ) -> datetime:
        """The due time of a review that would land after the interview date: the start of
        the last study day before it or, load balancing, of the least loaded study day of
        the final week still ahead (never today), so that the final week's reviews are
        spread over it rather than piled on its last day."""
        if not (self._balancing(due_counts) and card.state == fsrs.State.Review):
            return cap
        starts, tz = self.config.day_starts_at, self.tz
        today = study_day(now, starts, tz)
        last = study_day(cap, starts, tz)
        longest = (last - today).days
        if longest < 2:
            return cap
        first = (final_week_start(self.config.interview) - today).days
        ivls = list(range(max(1, first), longest + 1))
        days = [today + timedelta(days=i) for i in ivls]
        chosen = self._least_loaded(ivls, days, fuzz_seed, due_counts)
        return day_start(today + timedelta(days=chosen), starts, tz)

    def preview(self, s: CardSchedule, now: datetime) -> dict[Rating, timedelta]:
        """The interval each rating would give right now (unfuzzed)."""
        _check_utc(now)
        base = self._to_fsrs(s, now)
        cap = latest_due(self.config.interview, now, self.config.day_starts_at, self.tz,
                         s.last_review)
        out = {}
        for r in Rating:
            card, _ = self._preview.review_card(base, fsrs.Rating(int(r)), now)
            out[r] = (card.due if cap is None else min(card.due, cap)) - now
        return out

    @property
    def parameters(self) -> tuple[float, ...]:
        """The 21 FSRS-6 weights in use: the fitted ones from config, or py-fsrs's defaults."""
        return tuple(self._fsrs.parameters)

    @property
    def decay(self) -> float:
        """The forgetting curve's decay (FSRS-6 parameter w20, negated): R(t) =
        (1 + factor·t/S)^decay with factor = 0.9^(1/decay) − 1."""
        return -self._fsrs.parameters[20]

    def recall_on(self, s: CardSchedule, day: date) -> float:
        """Predicted recall at the start of study day `day` (the interview date's figure)."""
        moment = day_start(day, self.config.day_starts_at, self.tz)
        return self.retrievability(s, moment)

    def retrievability(self, s: CardSchedule, now: datetime) -> float:
        """FSRS probability of recall now (0 for a card never reviewed)."""
        if s.state == State.NEW or s.stability is None or s.last_review is None:
            return 0.0
        return self._fsrs.get_card_retrievability(self._to_fsrs(s, now), now)


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_interval(delta: timedelta) -> str:
    """Short human interval, as on Anki's buttons: 45s, 10m, 3h, 4d, 2.1mo, 1.5y."""
    secs = delta.total_seconds()
    if secs < 60:
        return f"{max(1, round(secs))}s"
    if secs < 3600:
        return f"{round(secs / 60)}m"
    if secs < 86400:
        return f"{round(secs / 3600)}h"
    days = secs / 86400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30:.1f}mo"
    return f"{days / 365:.1f}y"
