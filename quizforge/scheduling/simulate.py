"""Workload simulation: this learner's collection played forward at several desired retentions.

fsrs-rs-python has a simulator, but its Python binding starts every run from an empty deck
(it passes no existing cards to the Rust `simulate`), so it cannot answer "what will *my*
collection cost me". This module plays the collection forward with py-fsrs itself, the
scheduler `quizforge study` uses, so intervals, learning steps and fuzz are the app's own:

- each simulated study day starts a session at the time of day of `now` (day 0 is `now`)
  and answers what comes due that study day, each card at its due time or the session's,
  whichever is later (as the forecast counts a day's reviews, and as Anki and fsrs-rs
  simulate by whole days): the review-state cards, earliest first, up to
  `reviews_per_day` (less what was already done today); every (re)learning card; and up
  to `new_per_day` new cards, in store order, each played through its learning steps
  within the day, as a session does;
- a review is recalled with the FSRS probability of recall at that moment (a seeded draw);
  how a recalled review, a first answer and a learning step are rated comes from the
  learner's own review log (`Behaviour`), or FSRS's simulator defaults when the log is
  short; a lapse past `leech_threshold` suspends the card, as study does;
- "cards remembered" on a day is the sum of every card's probability of recall at that
  day's end (a card never studied counts 0); "gained" is what the reviews add to the
  last day's figure over studying nothing more (`Simulation.baseline_end`), so cards a
  large collection already knows do not make the cheapest retention look best;
- with an interview date (`interview_day`: study days from today to it), no answer given
  before the last study day before the date is scheduled after that day, as study's
  scheduler caps it (scheduling/interview.py): the due time becomes the start of that last
  day or, with fuzz and load balancing on and a review card, a day drawn evenly from the
  final week still ahead (study draws the least-loaded one); a card already answered on an
  earlier day of the final week keeps FSRS's interval; a card scheduled past the date before
  the run and not answered in the final week comes due on the last day (study's held-over
  cards). Each
  run then reports the recall predicted on the date (at the start of its study day: the
  last day's end here), and how many cards were by then seen on two study days or more,
  and how many never.

It is pure: handed `now`, the cards and a seed; no clock, no disk, no printing. The same
seed gives the same result, and every retention is run with the same seed, so differences
between retentions are the retention's and not the dice's.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import fsrs

from quizforge.errors import QuizforgeError
from quizforge.scheduling.config import Config
from quizforge.scheduling.interview import FINAL_DAYS
from quizforge.scheduling.scheduler import CardSchedule, State

DAY_S = 86_400.0
RETENTION_RANGE = (0.7, 0.99)
DAYS_RANGE = (1, 3650)
MAX_SAME_DAY_STEPS = 30
# The interview cap is the start of the last study day before the date; a day's session takes
# what is due by its end *inclusive*, so the cap is kept a hair after that start (a card
# capped on the day before must not come due again the same day).
CAP_EPSILON = 1e-6  # a learner who fails a step forever still ends the day


class SimulationError(QuizforgeError):
    """A simulation option is out of range."""


# fsrs-rs's simulator defaults (default_simulator_config), from Anki users' review logs:
# first answers (again, hard, good, easy), recalled reviews (hard, good, easy), and
# learning steps (the mean of its three step-transition rows).
DEFAULT_FIRST = (0.24, 0.094, 0.495, 0.171)
DEFAULT_RECALLED = (0.224, 0.631, 0.145)
DEFAULT_STEP = (0.155, 0.189, 0.601, 0.056)
MIN_ANSWERS = 30  # fewer answers of a kind than this: the default is a better guess


@dataclass(frozen=True)
class Behaviour:
    """How the learner answers: rating shares, and seconds per answer when known."""

    first: tuple[float, float, float, float] = DEFAULT_FIRST
    step: tuple[float, float, float, float] = DEFAULT_STEP
    recalled: tuple[float, float, float] = DEFAULT_RECALLED
    seconds_first: float | None = None
    seconds_step: float | None = None
    seconds_review: float | None = None
    from_log: tuple[str, ...] = ()  # which of first/step/recalled came from the learner's log

    @property
    def timed(self) -> bool:
        return None not in (self.seconds_first, self.seconds_step, self.seconds_review)

    def to_dict(self) -> dict:
        return {
            "first": list(self.first),
            "step": list(self.step),
            "recalled": list(self.recalled),
            "seconds_first": self.seconds_first,
            "seconds_step": self.seconds_step,
            "seconds_review": self.seconds_review,
            "from_log": list(self.from_log),
        }


def behaviour_from_counts(counts: Sequence[tuple[int, int, int, int, int]]) -> Behaviour:
    """From review-log tallies `(state_before, rating, answers, timed answers, timed ms)`:
    each kind of answer with at least MIN_ANSWERS uses the learner's shares, the others
    FSRS's defaults. Seconds per answer come from the timed answers of each kind, or from
    all timed answers when a kind has too few; None when no answer was timed."""
    by_kind: dict[str, list[int]] = {k: [0, 0, 0, 0] for k in ("first", "step", "review")}
    timed: dict[str, list[float]] = {k: [0, 0.0] for k in by_kind}
    for state_before, rating, n, n_timed, ms in counts:
        kind = {0: "first", 2: "review"}.get(int(state_before), "step")
        if 1 <= rating <= 4:
            by_kind[kind][rating - 1] += n
        timed[kind][0] += n_timed
        timed[kind][1] += ms

    def shares(values: Sequence[int]) -> tuple[float, ...] | None:
        total = sum(values)
        return tuple(v / total for v in values) if total >= MIN_ANSWERS else None

    first = shares(by_kind["first"])
    step = shares(by_kind["step"])
    recalled = shares(by_kind["review"][1:])
    all_n = sum(t[0] for t in timed.values())
    all_s = sum(t[1] for t in timed.values()) / 1000 / all_n if all_n else None

    def seconds(kind: str) -> float | None:
        n, ms = timed[kind]
        return ms / 1000 / n if n >= MIN_ANSWERS else all_s

    return Behaviour(
        first=first or DEFAULT_FIRST,
        step=step or DEFAULT_STEP,
        recalled=recalled or DEFAULT_RECALLED,
        seconds_first=seconds("first"),
        seconds_step=seconds("step"),
        seconds_review=seconds("review"),
        from_log=tuple(
            name for name, got in (("first", first), ("step", step), ("recalled", recalled)) if got
        ),
    )


@dataclass(frozen=True)
class RetentionRun:
    """One desired retention played forward: per-day figures and the totals."""

    retention: float
    answers: tuple[int, ...]  # every answer given on each day (reviews, new, steps)
    reviews: tuple[int, ...]  # review-state cards reviewed on each day
    new: tuple[int, ...]  # new cards started on each day
    seconds: tuple[float, ...]  # estimated study time on each day (0 when untimed)
    remembered: tuple[float, ...]  # sum of probability of recall at each day's end
    backlog: int  # review cards due by the last session and not reviewed (limit reached)
    new_left: int  # new cards not started by the end
    # With an interview date inside the simulated days (None otherwise): the sum of every
    # card's recall on the date (never studied: 0), cards seen on 2+ study days by then,
    # and cards never seen by then; `cards` is how many there are in all.
    recall_on_date: float | None = None
    seen_twice: int | None = None
    unseen: int | None = None
    cards: int = 0

    @property
    def recall_on_date_mean(self) -> float | None:
        """Mean recall on the date over every card (new ones count 0)."""
        if self.recall_on_date is None or not self.cards:
            return None
        return self.recall_on_date / self.cards

    @property
    def total(self) -> int:
        return sum(self.answers)

    @property
    def mean(self) -> float:
        return self.total / len(self.answers)

    @property
    def peak(self) -> int:
        return max(self.answers)

    @property
    def peak_day(self) -> int:
        return self.answers.index(self.peak)

    @property
    def remembered_end(self) -> float:
        return self.remembered[-1]

    @property
    def minutes(self) -> float:
        return sum(self.seconds) / 60

    def to_dict(self) -> dict:
        return {
            "retention": self.retention,
            "mean_answers_per_day": round(self.mean, 2),
            "peak_answers": self.peak,
            "peak_day": self.peak_day,
            "total_answers": self.total,
            "minutes": round(self.minutes, 1),
            "remembered_end": round(self.remembered_end, 2),
            "backlog": self.backlog,
            "new_left": self.new_left,
            "recall_on_date": None if self.recall_on_date_mean is None
            else round(self.recall_on_date_mean, 4),
            "seen_twice_by_date": self.seen_twice,
            "unseen_by_date": self.unseen,
            "answers_per_day": list(self.answers),
            "reviews_per_day": list(self.reviews),
            "new_per_day": list(self.new),
            "minutes_per_day": [round(s / 60, 2) for s in self.seconds],
            "remembered_per_day": [round(r, 2) for r in self.remembered],
        }


@dataclass(frozen=True)
class Collection:
    """What is simulated: scheduled cards (not suspended, not drill skills) and new ones."""

    cards: tuple[CardSchedule, ...]
    new: int
    done_today_new: int = 0  # already introduced today (counts against new_per_day)
    done_today_reviews: int = 0  # already reviewed today (counts against reviews_per_day)


@dataclass(frozen=True)
class Simulation:
    runs: tuple[RetentionRun, ...]
    days: int
    new_per_day: int
    reviews_per_day: int
    cards: int
    new: int
    behaviour: Behaviour = field(default_factory=Behaviour)
    baseline_end: float = 0.0  # cards remembered at the last day's end with no more study
    interview_day: int | None = None  # study days from today to the interview date

    @property
    def date_inside(self) -> bool:
        """The interview date is set and its recall falls inside the simulated days."""
        return self.interview_day is not None and 1 <= self.interview_day <= self.days

    def to_dict(self) -> dict:
        choice = suggest(self.runs, self.behaviour.timed, self.baseline_end)
        return {
            "days": self.days,
            "interview_day": self.interview_day,
            "new_per_day": self.new_per_day,
            "reviews_per_day": self.reviews_per_day,
            "scheduled_cards": self.cards,
            "new_cards": self.new,
            "behaviour": self.behaviour.to_dict(),
            "baseline_end": round(self.baseline_end, 2),
            "runs": [{**r.to_dict(), "gained_end": round(r.remembered_end - self.baseline_end, 2)}
                     for r in self.runs],
            "suggested_retention": choice.retention if choice else None,
        }


def check_options(retentions: Sequence[float], days: int, new_per_day: int | None = None) -> None:
    """A SimulationError naming every bad value at once."""
    lo, hi = RETENTION_RANGE
    problems = [f"retention {r:g} is outside {lo}-{hi}" for r in retentions if not lo <= r <= hi]
    if not retentions:
        problems.append("give at least one --retention")
    if len(set(retentions)) != len(retentions):
        problems.append("a --retention is given twice")
    if not DAYS_RANGE[0] <= days <= DAYS_RANGE[1]:
        problems.append(f"--days {days} is outside {DAYS_RANGE[0]}-{DAYS_RANGE[1]}")
    if new_per_day is not None and new_per_day < 0:
        problems.append(f"--new-per-day must be 0 or more, got {new_per_day}")
    if problems:
        raise SimulationError("; ".join(problems))


def fsrs_parameters(config: Config) -> tuple[float, ...]:
    """The config's fitted FSRS parameters (`quizforge optimize` saves them), or py-fsrs's
    defaults. Read with getattr: a Config without the setting means the defaults."""
    raw = getattr(config, "parameters", None)
    if isinstance(raw, str):
        raw = [p for p in raw.replace(",", " ").split() if p]
    if not raw:
        return tuple(fsrs.scheduler.DEFAULT_PARAMETERS)
    try:
        return tuple(float(p) for p in raw)
    except (TypeError, ValueError):
        raise SimulationError(f"the FSRS parameters in the settings are not numbers: {raw!r}") from None


def simulate(
    collection: Collection,
    config: Config,
    retentions: Sequence[float],
    days: int,
    now: datetime,
    day_end: datetime,
    *,
    seed: int = 0,
    behaviour: Behaviour | None = None,
    new_per_day: int | None = None,
    interview_day: int | None = None,
) -> Simulation:
    """Play `collection` forward `days` study days from `now` at each desired retention.
    `day_end` is when today's study day ends (later days end 24 h apart). `interview_day`:
    study days from today to the interview date (1: tomorrow), or None for no date; a
    date today or past changes nothing."""
    check_options(retentions, days, new_per_day)
    behaviour = behaviour or Behaviour()
    params = fsrs_parameters(config)
    # py-fsrs fuzzes intervals with the module-level `random`: seed it for each run, and
    # leave it as it was found.
    end0 = (day_end - now).total_seconds() / DAY_S  # today's end, in days from now
    if interview_day is not None and interview_day < 1:
        interview_day = None  # today or past: scheduling as usual
    start = _prepare(collection, now, days, end0, interview_day)
    saved = random.getstate()
    try:
        runs = []
        for r in retentions:
            random.seed(seed)
            runs.append(
                _run(collection, start, config, params, r, days, now, end0, seed, behaviour,
                     new_per_day, interview_day)
            )
    finally:
        random.setstate(saved)
    return Simulation(
        runs=tuple(runs),
        days=days,
        new_per_day=config.new_per_day if new_per_day is None else new_per_day,
        reviews_per_day=config.reviews_per_day,
        cards=len(collection.cards),
        new=collection.new,
        behaviour=behaviour,
        baseline_end=_baseline(start, params, days - 1 + end0),
        interview_day=interview_day,
    )


def _draw(rng: random.Random, shares: Sequence[float]) -> int:
    """An index drawn with these probabilities."""
    u = rng.random() * sum(shares)
    for i, p in enumerate(shares):
        u -= p
        if u < 0:
            return i
    return len(shares) - 1


def _run(
    collection: Collection,
    start: _Start,
    config: Config,
    params: tuple[float, ...],
    retention: float,
    days: int,
    now: datetime,
    end0: float,
    seed: int,
    behaviour: Behaviour,
    new_per_day: int | None,
    interview_day: int | None = None,
) -> RetentionRun:
    import numpy as np

    try:
        scheduler = fsrs.Scheduler(
            parameters=params,
            desired_retention=retention,
            learning_steps=config.learning,
            relearning_steps=config.relearning,
            maximum_interval=config.maximum_interval,
            enable_fuzzing=config.fuzz,
        )
    except ValueError as e:
        detail = "; ".join(line.strip() for line in str(e).splitlines() if line.strip())
        raise SimulationError(f"the FSRS parameters in the settings are invalid: {detail}") from None
    rng = random.Random(seed)
    new_cap = config.new_per_day if new_per_day is None else new_per_day

    n_old = len(collection.cards)
    n = n_old + collection.new
    stab, last = start.stab.copy(), start.last.copy()
    lapses = list(start.lapses)
    seen_days = list(start.seen_days)  # study days each card was answered on (before: 1)
    last_seen = [-1] * n  # the last simulated day each card was answered
    # the day each card was answered on before today (None: never), for the final-week rule
    prev_day: list[int | None] = [None] * n
    live = list(start.live)  # each card's one valid heap key; other entries are stale
    reviews_heap = list(start.reviews_heap)  # a copy of a heap is a heap
    learning_heap = list(start.learning_heap)
    cards: dict[int, fsrs.Card] = {}  # made on a card's first answer
    horizon = days + 1

    def days_from_now(moment: datetime) -> float:
        return (moment - now).total_seconds() / DAY_S

    def card_of(i: int) -> fsrs.Card:
        card = cards.get(i)
        if card is None:
            card = cards[i] = _fsrs_card(i, collection.cards[i], now)
            if start.held is not None and days_from_now(card.due) > start.held and (
                    math.isnan(start.stab[i]) or start.last[i] < start.week):
                card.due = now + timedelta(days=start.held)  # held over to the last day
        return card

    # The interview cap: answers before the last study day before the date are due by the
    # start of that day (days from now), as study's scheduler makes them.
    last_day = None if interview_day is None else interview_day - 1
    week = None if interview_day is None else interview_day - FINAL_DAYS  # its first day
    balance_cap = config.fuzz and config.load_balance

    def capped(due: float, card: fsrs.Card, day: int, before: int | None) -> float:
        if last_day is None or day >= last_day:
            return due
        if before is not None and week <= before < day:
            return due  # answered on an earlier day of the final week: FSRS's interval
        cap = end0 + last_day - 1 + CAP_EPSILON
        if due <= cap:
            return due
        longest = last_day - day
        if balance_cap and card.state == fsrs.State.Review and longest >= 2:
            return cap - (longest - rng.randint(max(1, week - day), longest))
        return cap

    def schedule(i: int, card: fsrs.Card, day: int, not_before: float | None = None) -> None:
        due = days_from_now(card.due)
        if (cap := capped(due, card, day, prev_day[i])) != due:
            due = cap
            card.due = now + timedelta(days=cap)
        if not_before is not None:
            due = max(due, not_before)
        live[i] = due
        if card.state == fsrs.State.Review:
            if due <= horizon:
                heapq.heappush(reviews_heap, (due, i))
        elif due <= horizon + end0:
            heapq.heappush(learning_heap, (due, i))

    seconds_by = {
        "first": behaviour.seconds_first or 0.0,
        "step": behaviour.seconds_step or 0.0,
        "review": behaviour.seconds_review or 0.0,
    }
    answers = [0] * days
    reviews = [0] * days
    started = [0] * days
    seconds = [0.0] * days
    remembered = [0.0] * days
    next_new = n_old
    on_date: tuple[float, int, int] | None = None
    decay = -params[20]
    factor = 0.9 ** (1 / decay) - 1

    def answer(i: int, day: int, at: datetime) -> None:
        card = card_of(i)
        if last_seen[i] != day:  # the first answer today: when was it answered before?
            prev_day[i] = None if math.isnan(stab[i]) else math.floor(last[i] - end0) + 1
        if card.state == fsrs.State.Review:
            kind = "review"
            if rng.random() < scheduler.get_card_retrievability(card, at):
                rating = 2 + _draw(rng, behaviour.recalled)
            else:
                rating = 1
        else:
            kind = "first" if card.stability is None else "step"
            rating = 1 + _draw(rng, behaviour.first if kind == "first" else behaviour.step)
        was_review = card.state == fsrs.State.Review
        card, _ = scheduler.review_card(card, fsrs.Rating(rating), at)
        cards[i] = card
        stab[i] = card.stability
        last[i] = days_from_now(at)
        answers[day] += 1
        seconds[day] += seconds_by[kind]
        if last_seen[i] != day:
            last_seen[i] = day
            seen_days[i] += 1
        if was_review and rating == 1:
            lapses[i] += 1
            if lapses[i] >= config.leech_threshold:
                live[i] = None  # suspended as a leech: never due again
                return
        # Same-day learning steps are answered within the session, as study does.
        for _ in range(MAX_SAME_DAY_STEPS):
            if card.state == fsrs.State.Review or days_from_now(card.due) > day + end0:
                schedule(i, card, day)
                return
            at = max(at, card.due)
            card, _ = scheduler.review_card(card, fsrs.Rating(1 + _draw(rng, behaviour.step)), at)
            cards[i] = card
            stab[i] = card.stability
            last[i] = days_from_now(at)
            answers[day] += 1
            seconds[day] += seconds_by["step"]
        schedule(i, card, day, not_before=day + 1)  # still failing its steps: tomorrow's session

    for day in range(days):
        session = now + timedelta(days=day)
        # (Re)learning cards due before the day ends, then reviews due by the session.
        while learning_heap and learning_heap[0][0] <= day + end0:
            due, i = heapq.heappop(learning_heap)
            if live[i] == due:
                answer(i, day, max(session, card_of(i).due))
        review_left = config.reviews_per_day - (collection.done_today_reviews if day == 0 else 0)
        while reviews_heap and reviews_heap[0][0] <= day + end0 and review_left > 0:
            due, i = heapq.heappop(reviews_heap)
            if live[i] != due:
                continue  # a stale entry: the card was answered and rescheduled since
            review_left -= 1
            reviews[day] += 1
            answer(i, day, max(session, card_of(i).due))
        new_left = max(0, new_cap - (collection.done_today_new if day == 0 else 0))
        while new_left > 0 and next_new < n:
            cards[next_new] = fsrs.Card(card_id=next_new + 1, state=fsrs.State.Learning, step=0,
                                        due=session)
            answer(next_new, day, session)
            next_new += 1
            new_left -= 1
            started[day] += 1
        t = day + end0
        known = ~np.isnan(stab)
        elapsed = np.maximum(0.0, np.floor(t - last[known]))
        remembered[day] = float(np.sum((1 + factor * elapsed / stab[known]) ** decay))
        if day == last_day:  # its end is the start of the interview's study day
            on_date = (remembered[day], sum(1 for k in seen_days if k >= 2),
                       sum(1 for k in seen_days if k == 0))

    backlog = sum(1 for due, i in reviews_heap if due <= days - 1 + end0 and live[i] == due)
    return RetentionRun(
        retention=retention,
        answers=tuple(answers),
        reviews=tuple(reviews),
        new=tuple(started),
        seconds=tuple(seconds),
        remembered=tuple(remembered),
        backlog=backlog,
        new_left=n - next_new,
        recall_on_date=on_date[0] if on_date else None,
        seen_twice=on_date[1] if on_date else None,
        unseen=on_date[2] if on_date else None,
        cards=n,
    )


@dataclass
class _Start:
    """The collection as every run starts it: recall arrays (days from `now`; NaN stability
    for never studied), lapses, and the due heaps of (days from now, card index)."""

    stab: object
    last: object
    lapses: list[int]
    live: list[float | None]
    reviews_heap: list[tuple[float, int]]
    learning_heap: list[tuple[float, int]]
    seen_days: list[int]
    held: float | None = None  # with a date: the last day's start, days from now
    week: float = 0.0  # with a date: the final week's start, days from now


def _prepare(collection: Collection, now: datetime, days: int, end0: float,
             interview_day: int | None = None) -> _Start:
    """Made once per simulation; each run copies it. With an interview date, a card due
    after the last study day before it comes due at that day's start (now, on that day)."""
    import numpy as np

    n = len(collection.cards) + collection.new
    stab = np.full(n, np.nan)
    last = np.zeros(n)
    lapses = [0] * n
    live: list[float | None] = [None] * n
    reviews: list[tuple[float, int]] = []
    learning: list[tuple[float, int]] = []
    seen_days = [0] * n
    held, week = None, 0.0
    if interview_day is not None:
        held = end0 + interview_day - 2 + CAP_EPSILON if interview_day >= 2 else 0.0
        week = end0 + interview_day - FINAL_DAYS - 1
    for i, s in enumerate(collection.cards):
        lapses[i] = s.lapses
        seen_days[i] = 1 if s.last_review is not None else 0
        if s.stability is not None and s.last_review is not None:
            stab[i] = s.stability
            last[i] = (s.last_review - now).total_seconds() / DAY_S
        due = (s.due - now).total_seconds() / DAY_S if s.due else 0.0
        if held is not None and (math.isnan(stab[i]) or last[i] < week):
            due = min(due, held)  # not answered in the final week: held over to its last day
        live[i] = due
        if s.state == State.REVIEW and s.stability is not None:
            if due <= days + 1:
                reviews.append((due, i))
        elif due <= days + 1 + end0:
            learning.append((due, i))
    heapq.heapify(reviews)
    heapq.heapify(learning)
    return _Start(stab, last, lapses, live, reviews, learning, seen_days, held, week)


def _fsrs_card(i: int, s: CardSchedule, now: datetime) -> fsrs.Card:
    card = fsrs.Card(
        card_id=i + 1,
        state=fsrs.State(int(s.state)) if s.state != State.NEW else fsrs.State.Learning,
        step=s.step if s.state in (State.LEARNING, State.RELEARNING) else None,
        stability=s.stability,
        difficulty=s.difficulty,
        due=s.due or now,
        last_review=s.last_review,
    )
    if card.state == fsrs.State.Review and card.stability is None:
        card.state, card.step = fsrs.State.Learning, 0  # a damaged row: start it again
    if card.state != fsrs.State.Review and card.step is None:
        card.step = 0
    return card


def _baseline(start: _Start, params: tuple[float, ...], t: float) -> float:
    """Cards remembered at `t` (days from now) if nothing more is studied: the cards
    studied so far, each on its own forgetting curve (the runs' formula)."""
    import numpy as np

    decay = -params[20]
    factor = 0.9 ** (1 / decay) - 1
    known = ~np.isnan(start.stab)
    elapsed = np.maximum(0.0, np.floor(t - start.last[known]))
    return float(np.sum((1 + factor * elapsed / start.stab[known]) ** decay))


def efficiency(run: RetentionRun, timed: bool, baseline: float = 0.0) -> float:
    """Cards the reviews keep or add by the end (remembered at the end less `baseline`,
    what studying nothing more would leave) per review minute (per answer when untimed)."""
    cost = run.minutes if timed else run.total
    return (run.remembered_end - baseline) / cost if cost else math.inf


SUGGEST_TOLERANCE = 0.02


def suggest(runs: Sequence[RetentionRun], timed: bool,
            baseline: float = 0.0) -> RetentionRun | None:
    """The retention whose reviews gain the most cards remembered per review minute (per
    answer when no answer was timed; gained = remembered at the end less `baseline`), in the
    spirit of FSRS's "minimum recommended retention", over the retentions simulated; of those within 2% of the best, the highest retention, since it remembers
    more for about the same efficiency. A run that leaves reviews undone (reviews_per_day
    reached) is left out: its cost is the limit's, not the retention's. None when no run is
    left or none cost anything."""
    costed = [r for r in runs if (r.minutes if timed else r.total) > 0 and not r.backlog]
    if not costed:
        return None
    best = max(efficiency(r, timed, baseline) for r in costed)
    close = [r for r in costed
             if efficiency(r, timed, baseline) >= best - abs(best) * SUGGEST_TOLERANCE]
    return max(close, key=lambda r: r.retention)


def parse_retentions(texts: Sequence[str]) -> list[float]:
    """'0.85' -> 0.85, also '85%'; a SimulationError naming every value that is not
    a number. Ranges are checked by check_options."""
    values, bad = [], []
    for text in texts:
        t = text.strip()
        try:
            v = float(t.removesuffix("%"))
        except ValueError:
            bad.append(text)
            continue
        if not math.isfinite(v):
            bad.append(text)
            continue
        values.append(round(v / 100 if t.endswith("%") else v, 6))
    if bad:
        raise SimulationError(
            f"retention {', '.join(repr(b) for b in bad)} is not a number: use e.g. 0.85"
        )
    return values


def parse_whole(text: str, option: str) -> int:
    """'60' -> 60 for a count option; a one-line SimulationError otherwise."""
    try:
        return int(text.strip())
    except ValueError:
        raise SimulationError(f"{option} {text!r} is not a whole number") from None
