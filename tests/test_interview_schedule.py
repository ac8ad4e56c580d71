"""The scheduler aimed at an interview date, and load balancing, with `now` handed in."""

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import fsrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizforge.scheduling import balance
from quizforge.scheduling.config import Config
from quizforge.scheduling.interview import (
    InterviewDateError,
    days_left,
    in_final_days,
    latest_due,
    parse_until,
)
from quizforge.scheduling.scheduler import CardSchedule, Rating, Scheduler, State

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def sched(**cfg) -> Scheduler:
    s = Scheduler(Config(**cfg))
    s.tz = UTC  # study days in UTC: the test does not depend on the machine's zone
    return s


def study_day(t: datetime, starts_at: int = 4) -> date:
    """Reference: the UTC study day, written out independently of quizforge.scheduling.days."""
    return (t - timedelta(hours=starts_at)).date()


def start_of(d: date, starts_at: int = 4) -> datetime:
    return datetime(d.year, d.month, d.day, starts_at, tzinfo=UTC)


def mature_card(now: datetime, stability: float, difficulty: float = 5.0, age_days: float = 0.0):
    return CardSchedule(
        state=State.REVIEW,
        stability=stability,
        difficulty=difficulty,
        due=now,
        last_review=now - timedelta(days=age_days or stability),
        reps=4,
    )


# -- the date --------------------------------------------------------------------------------
cards = st.builds(
    mature_card,
    st.just(T0),
    st.floats(0.5, 400),
    st.floats(1, 10),
    st.floats(0.2, 300),
)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    card=cards,
    rating=st.sampled_from(list(Rating)),
    hours=st.integers(0, 24 * 60),
    until=st.integers(-5, 60),
    fuzz=st.booleans(),
    balanced=st.booleans(),
    starts_at=st.integers(0, 23),
    seed=st.integers(0, 2**31),
)
def test_no_interval_crosses_the_date(card, rating, hours, until, fuzz, balanced, starts_at, seed):
    now = T0 + timedelta(hours=hours)
    interview = study_day(now, starts_at) + timedelta(days=until)
    s = sched(interview_date=interview.isoformat(), fuzz=fuzz, day_starts_at=starts_at)
    counts = (lambda a, b: {a: 3, b: 1}) if balanced else None
    after, rec = s.review(card, rating, now, fuzz_seed=seed, due_counts=counts)
    plain, _ = sched(fuzz=fuzz, day_starts_at=starts_at).review(
        card, rating, now, fuzz_seed=seed, due_counts=counts
    )
    today = study_day(now, starts_at)
    before = study_day(card.last_review, starts_at)
    answered_in_final_week = interview - 7 * DAY <= before < today
    if today < interview - DAY and not answered_in_final_week:
        # due by the start of the study day before the date, and never due again today
        assert after.due <= start_of(interview - DAY, starts_at)
        assert after.due == plain.due or study_day(after.due, starts_at) > today
        assert after.due <= plain.due
        if after.due != plain.due:  # brought back into the final week, at a day's start
            assert study_day(after.due, starts_at) >= interview - 7 * DAY
            assert after.due == start_of(study_day(after.due, starts_at), starts_at)
    else:
        # on the last day before the date, on it, after it, and for a card already answered
        # on an earlier day of the final week: scheduling as usual
        assert after == plain
    # the memory state is FSRS's whatever the due date
    assert (after.stability, after.difficulty, after.state) == (plain.stability, plain.difficulty, plain.state)
    assert rec.interval_days == pytest.approx((after.due - now).total_seconds() / 86400)


def test_a_learner_who_reviews_when_due_reviews_every_card_before_the_date():
    """Many cards, random ratings, each reviewed the moment it is due: every card's last
    review before the date is on a study day before it, every card is reviewed in the final
    week, and the next review is due on or before the last study day before the date unless
    the card was already answered on an earlier day of the final week."""
    interview = date(2026, 4, 20)
    s = sched(interview_date=interview.isoformat())
    rng = random.Random(7)
    for i in range(150):
        card, now = CardSchedule(), T0 + timedelta(minutes=rng.randrange(0, 5000))
        week = interview - 7 * DAY
        while study_day(now) < interview:
            rating = rng.choice([Rating.AGAIN, Rating.HARD, Rating.GOOD, Rating.GOOD, Rating.EASY])
            before = card.last_review
            card, _ = s.review(card, rating, now, fuzz_seed=i * 1000 + card.reps)
            if study_day(now) < interview - DAY and not (
                    before is not None and week <= study_day(before) < study_day(now)):
                assert study_day(card.due) <= interview - DAY
            now = max(card.due, now + timedelta(minutes=1))
        assert card.last_review is not None and study_day(card.last_review) < interview
        assert study_day(card.last_review) >= week


def test_the_cap_is_the_start_of_the_study_day_before_the_date():
    card = mature_card(T0, stability=40)
    s = sched(interview_date="2026-03-10", fuzz=False)
    after, rec = s.review(card, Rating.GOOD, T0)
    assert after.due == datetime(2026, 3, 9, 4, tzinfo=UTC)  # 4 am, the day before
    assert rec.interval_days == pytest.approx((after.due - T0).total_seconds() / 86400)
    # the keys show the capped interval, not the 1.5-month one
    preview = s.preview(card, T0)
    assert preview[Rating.EASY] == after.due - T0
    assert sched(fuzz=False).preview(card, T0)[Rating.EASY] > after.due - T0


def test_short_intervals_are_left_alone():
    card = mature_card(T0, stability=2)
    s = sched(interview_date="2026-03-30", fuzz=False)
    assert s.review(card, Rating.GOOD, T0) == sched(fuzz=False).review(card, Rating.GOOD, T0)


def test_last_days_and_until():
    assert days_left(date(2026, 3, 9), T0, tz=UTC) == 7
    assert in_final_days(date(2026, 3, 9), T0, tz=UTC)
    assert not in_final_days(date(2026, 3, 10), T0, tz=UTC)
    assert in_final_days(date(2026, 3, 2), T0, tz=UTC)  # the day itself
    assert not in_final_days(date(2026, 3, 1), T0, tz=UTC)  # passed
    assert not in_final_days(None, T0, tz=UTC)
    # before 4 am it is still yesterday's study day
    assert days_left(date(2026, 3, 9), datetime(2026, 3, 2, 3, tzinfo=UTC), tz=UTC) == 8
    assert latest_due(date(2026, 3, 3), T0, tz=UTC) is None  # today is the last day
    assert parse_until(" 2026-03-02 ", T0, tz=UTC) == date(2026, 3, 2)
    with pytest.raises(InterviewDateError, match=r"^bad --until date '2026-02-30': use YYYY-MM-DD"):
        parse_until("2026-02-30", T0, tz=UTC)
    with pytest.raises(InterviewDateError, match=r"^--until 2026-03-01 is in the past \(today is 2026-03-02\)$"):
        parse_until("2026-03-01", T0, tz=UTC)


# -- load balancing --------------------------------------------------------------------------
def pyfsrs_fuzzed(days: int, u: float, maximum: int = 36500) -> int:
    """py-fsrs's own fuzz, with its random() pinned to `u`."""
    import fsrs.scheduler as m

    saved = m.random
    m.random = lambda: u
    try:
        ivl = fsrs.Scheduler(maximum_interval=maximum)._get_fuzzed_interval(interval=timedelta(days=days))
    finally:
        m.random = saved
    return ivl.days


@pytest.mark.parametrize("days", [3, 4, 7, 8, 13, 20, 21, 45, 89, 90, 200, 1000])
def test_fuzz_range_is_py_fsrs_range(days):
    lo, hi = balance.fuzz_range(days, 36500)
    assert pyfsrs_fuzzed(days, 0.0) == lo
    # py-fsrs draws u·(hi−lo+1)+lo and rounds: a draw just under hi + 0.5 gives hi
    assert pyfsrs_fuzzed(days, (hi - lo + 0.49) / (hi - lo + 1)) == hi
    assert lo <= days <= hi


def test_weights_are_ankis():
    assert balance.weights([10, 11, 12], [0, 2, 4]) == [1.0, pytest.approx(1 / 4 / 11), pytest.approx(1 / 16 / 12)]


def test_balancing_is_deterministic_and_prefers_the_empty_day():
    card = mature_card(T0, stability=10)  # a 32-day interval: balanced (range under 90 days)
    s = sched(fuzz=True)
    exact, _ = sched(fuzz=False).review(card, Rating.GOOD, T0)
    lo, hi = balance.fuzz_range(round((exact.due - T0) / DAY), 36500)
    calls = []

    def counts(first, last):
        calls.append((first, last))
        return {first + timedelta(days=i): 50 for i in range((last - first).days + 1)} | {
            study_day(T0 + (lo + 1) * DAY): 0
        }

    picks = Counter()
    for seed in range(200):
        a, _ = s.review(card, Rating.GOOD, T0, fuzz_seed=seed, due_counts=counts)
        b, _ = s.review(card, Rating.GOOD, T0, fuzz_seed=seed, due_counts=counts)
        assert a == b  # same seed, same counts: same day
        picks[round((a.due - T0) / DAY)] += 1
    assert calls[0] == (study_day(T0 + lo * DAY), study_day(T0 + hi * DAY))  # one read per answer
    assert len(calls) == 400
    assert picks[lo + 1] >= 195  # weight 1 against (1/50)²/ivl for the others
    assert set(picks) <= set(range(lo, hi + 1))
    # load_balance off, or fuzz off: counts are never read
    calls.clear()
    s_off = sched(load_balance=False)
    assert s_off.review(card, Rating.GOOD, T0, fuzz_seed=3, due_counts=counts) == s_off.review(card, Rating.GOOD, T0, fuzz_seed=3)
    sched(fuzz=False).review(card, Rating.GOOD, T0, fuzz_seed=3, due_counts=counts)
    assert calls == []


def pile(balanced: bool, n: int = 400, existing: dict | None = None) -> Counter:
    """`n` cards of similar stability all answered Good on the same morning; each answer
    sees the loads the earlier ones created (as the store would show them)."""
    s = sched()
    load: Counter = Counter(existing or {})
    rng = random.Random(1)
    for i in range(n):
        card = mature_card(T0, stability=rng.uniform(8, 12), difficulty=rng.uniform(4, 7))
        counts = (lambda a, b: {d: load[d] for d in load if a <= d <= b}) if balanced else None
        after, _ = s.review(card, Rating.GOOD, T0, fuzz_seed=i * 100_003 + 4, due_counts=counts)
        load[study_day(after.due)] += 1
    return load


def test_load_balancing_spreads_a_pile():
    fuzz_only, balanced = pile(False), pile(True)
    assert sum(fuzz_only.values()) == sum(balanced.values()) == 400
    # same days reachable, a flatter load: the busiest day is clearly lighter
    assert max(balanced.values()) < 0.8 * max(fuzz_only.values())
    spread = lambda c: max(c.values()) - min(c.values())
    assert spread(balanced) < spread(fuzz_only)
    assert pile(True) == balanced  # deterministic


def test_load_balancing_avoids_a_busy_day():
    busy = study_day(T0 + 30 * DAY)
    base = {study_day(T0 + d * DAY): 20 for d in range(20, 45)}
    base[busy] = 200
    before = pile(True, n=200, existing=base)
    assert before[busy] - 200 < 3  # almost nothing added to the day already full


def test_capped_reviews_spread_over_the_last_days():
    """Cards whose interval crosses the date are spread evenly over the final week (the
    seven study days before it), never after it."""
    interview = date(2026, 4, 1)
    s = sched(interview_date=interview.isoformat())
    load: Counter = Counter()
    for i in range(200):
        card = mature_card(T0, stability=60 + i % 7)
        counts = lambda a, b: {d: load[d] for d in load if a <= d <= b}
        after, _ = s.review(card, Rating.GOOD, T0, fuzz_seed=i, due_counts=counts)
        d = study_day(after.due)
        assert d <= interview - DAY and after.due == start_of(d)
        load[d] += 1
    assert set(load) == {interview - k * DAY for k in range(1, 8)}
    assert max(load.values()) <= 200 / 7 * 1.25  # a weighted draw toward the least loaded day


def test_without_due_counts_nothing_changes():
    """Callers that pass no counts (drill, benchmarks) get py-fsrs's seeded fuzz as before."""
    card = mature_card(T0, stability=30)
    a, _ = Scheduler(Config()).review(card, Rating.GOOD, T0, fuzz_seed=42)
    ref = fsrs.Scheduler()
    saved = random.getstate()
    random.seed(42)
    try:
        ref_card, _ = ref.review_card(Scheduler._to_fsrs(card, T0), fsrs.Rating.Good, T0)
    finally:
        random.setstate(saved)
    assert a.due == ref_card.due
