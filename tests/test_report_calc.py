"""Report calculations against hand-built stores whose answers are known.

Every store here is written row by row (schedules with write_schedule, answers with
insert_review, attempts with insert_attempt), so each expected figure can be counted by
hand. Days are cut with an explicit zone (CAL, or New York for DST), never the machine's.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from helpers import T0, make_deck

from quizforge.errors import DeckError
from quizforge.reports import (
    Calendar,
    ReportError,
    Scope,
    build_report,
    check_scope,
    check_since,
    parse_day,
)
from quizforge.reports.activity import heatmap, streak
from quizforge.reports.forecast import forecast
from quizforge.reports.mastery import mastery
from quizforge.reports.recall import RecallCurve
from quizforge.reports.retention import retention
from quizforge.reports.skills import drill_command, skills
from quizforge.reports.today import today
from quizforge.reports.weak import weak_spots
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import CardSchedule, Rating, ReviewRecord, Scheduler, State
from quizforge.store import cards as store
from quizforge.store.db import to_ms
from quizforge.study.mastery import record_drill_attempt

NOW = T0  # Monday 2 March 2026, 12:00 CAL: study day 2026-03-02 (days start 04:00)
CAL = Calendar(4, UTC)
SCHED = Scheduler(Config(fuzz=False))
DAY = timedelta(days=1)


def add_deck(db, deck_id="d", **kw) -> dict[str, int]:
    """Sync a helpers.make_deck deck; returns card id -> store rowid."""
    store.sync_decks(db, [make_deck(deck_id, **kw)], NOW - 400 * DAY)
    rows = db.conn.execute("SELECT card_id, id FROM cards WHERE deck_id = ?", (deck_id,))
    return dict(rows.fetchall())


def schedule(db, rowid, state, *, last=None, interval=None, due=None, stability=None, **kw):
    """A card in `state`, last answered at `last`, given `interval` (days)."""
    if due is None and last is not None and interval is not None:
        due = last + timedelta(days=interval)
    s = CardSchedule(
        state=State(state),
        stability=stability if stability is not None else (interval if state else None),
        difficulty=5.0 if state else None,
        due=due,
        last_review=last,
        **kw,
    )
    with db.atomic() as conn:
        store.write_schedule(conn, rowid, s)
    return s


def answer(db, rowid, at, rating=3, before=2, elapsed=None, cram=False, ms=1000):
    rec = ReviewRecord(at, Rating(rating), ms, State(before), 1.0, elapsed, False, False)
    with db.atomic() as conn:
        store.insert_review(conn, rowid, rec, cram=cram)


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A CAL time `day_offset` days from NOW's date."""
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC) + day_offset * DAY


# -- parsing and scope ------------------------------------------------------------------------
def test_parse_day():
    assert parse_day("2026-11-02") == date(2026, 11, 2)
    for bad in ("2026-13-01", "yesterday", "02/11/2026", ""):
        with pytest.raises(ReportError, match="use YYYY-MM-DD"):
            parse_day(bad)


def test_check_since_refuses_a_day_after_today():
    check_since(date(2026, 3, 2), date(2026, 3, 2))
    with pytest.raises(
        ReportError, match=r"^--since 2026-03-03 is in the future \(today is 2026-03-02\)$"
    ):
        check_since(date(2026, 3, 3), date(2026, 3, 2))


def test_check_scope_names_every_unknown_deck_and_tag(db):
    add_deck(db, "a", card_tags={"c0": ("x",)})
    check_scope(db, Scope(("a",), ("x",)))
    check_scope(db, Scope(("loaded",), ("t",)), known_decks=["loaded"], known_tags=["t"])
    with pytest.raises(DeckError) as e:
        check_scope(db, Scope(("a", "nope", "zz"), ("x", "qq")))
    assert str(e.value) == (
        "no deck with id 'nope', 'zz' (decks: a); no cards or drill skills with tag 'qq'"
    )


def test_unknown_deck_lists_real_decks_not_the_drill_levels(db):
    add_deck(db, "a")
    with db.atomic() as conn:
        store.ensure_card(conn, "drill", "backprop-d1", "skill", NOW)
    check_scope(db, Scope(("drill",)))  # still a valid scope: the drill levels only
    with pytest.raises(DeckError) as e:
        check_scope(db, Scope(("nope",)), known_decks=["b"])
    assert str(e.value) == "no deck with id 'nope' (decks: a, b)"


# -- today and streak -------------------------------------------------------------------------
def test_today_counts_answers_since_the_day_started_and_what_is_left(db):
    ids = add_deck(db, n_flash=6)
    c = ids
    schedule(db, c["c0"], 2, last=NOW - 11 * DAY, interval=10)  # overdue: due
    schedule(db, c["c1"], 1, last=NOW, due=NOW + timedelta(minutes=5))  # learning, in 5m
    schedule(db, c["c2"], 2, last=NOW - 3 * DAY, interval=3)  # due exactly now
    schedule(db, c["c3"], 2, last=NOW - 11 * DAY, interval=10, suspended=True)
    schedule(db, c["c5"], 2, last=NOW - 11 * DAY, interval=10)
    store.sync_decks(db, [make_deck(n_flash=5)], NOW)  # c5 removed from the deck file
    with db.atomic() as conn:  # a drill level due now: not a card for `quizforge study`
        skill = store.ensure_card(conn, "drill", "backprop-d1", "skill", NOW)
    schedule(db, skill, 2, last=NOW - 2 * DAY, interval=1)

    answer(db, c["c2"], at(0, 3, 59))  # before 4 am: yesterday's study day
    answer(db, c["c0"], at(0, 4), rating=1, before=0, ms=2000)  # new card introduced
    answer(db, c["c1"], at(0, 11), before=0, ms=3000)  # new card introduced
    answer(db, c["c2"], at(0, 11, 30), rating=4, cram=True, ms=500)  # cram counts as activity
    answer(db, c["c5"], at(0, 11, 45), rating=2, ms=1500)  # a removed card's answer too

    t = today(db, NOW, CAL, Scope(), Config(new_per_day=5))
    assert t.date == date(2026, 3, 2)
    assert (t.reviews, t.correct, t.seconds) == (4, 3, 7.0)
    assert t.correct_rate == 0.75
    assert t.due_now == 3  # c0, c2, and c1: study shows a step due within 20m (learn-ahead)
    assert t.new_introduced == 2
    assert t.new_left == 1  # 5 - 2 = 3 allowed, but only c4 is still new
    assert t.streak_days == 2  # today and (03:59) yesterday
    assert today(db, NOW, CAL, Scope(), Config(new_per_day=2)).new_left == 0


def test_streak_counts_back_from_today_or_yesterday_and_stops_at_a_gap(db):
    rowid = add_deck(db, n_flash=1)["c0"]
    for d in (-1, -2, -3, -5, -6):  # a gap 4 days ago
        answer(db, rowid, at(d, 12))
    assert streak(db, NOW, CAL, Scope()) == 3  # nothing yet today: the streak still holds
    assert streak(db, NOW, CAL, Scope(), chunk=2) == 3  # same answer across query chunks
    answer(db, rowid, at(0, 3, 59))  # still yesterday's study day
    assert streak(db, NOW, CAL, Scope()) == 3
    answer(db, rowid, at(0, 4, 0))  # the day rolls over at 4 am
    assert streak(db, NOW, CAL, Scope()) == 4
    assert streak(db, NOW + 2 * DAY, CAL, Scope()) == 0  # a whole day missed
    assert streak(db, NOW, CAL, Scope(since=date(2026, 3, 1))) == 2  # --since cuts it


def test_streak_longer_than_a_query_chunk(db):
    rowid = add_deck(db, n_flash=1)["c0"]
    for d in range(0, -300, -1):
        answer(db, rowid, at(d, 20), cram=True)
    assert streak(db, NOW, CAL, Scope()) == 300
    assert streak(db, NOW, CAL, Scope(), chunk=7) == 300


def test_day_boundary_follows_the_zone_through_daylight_saving(db):
    """New York: EST (CAL-5) until 8 March 2026, then EDT (CAL-4). Days start 04:00 local."""
    ny = Calendar(4, ZoneInfo("America/New_York"))
    rowid = add_deck(db, n_flash=1)["c0"]
    answer(db, rowid, datetime(2026, 3, 7, 8, 59, tzinfo=UTC))  # 03:59 EST: 6 Mar
    answer(db, rowid, datetime(2026, 3, 7, 9, 0, tzinfo=UTC))  # 04:00 EST: 7 Mar
    answer(db, rowid, datetime(2026, 3, 9, 7, 59, tzinfo=UTC))  # 03:59 EDT: 8 Mar
    answer(db, rowid, datetime(2026, 3, 9, 8, 0, tzinfo=UTC))  # 04:00 EDT: 9 Mar
    now = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    days = {d.date: d.count for d in heatmap(db, now, ny, Scope()).days if d.count}
    assert days == {
        date(2026, 3, 6): 1,
        date(2026, 3, 7): 1,
        date(2026, 3, 8): 1,
        date(2026, 3, 9): 1,
    }
    assert streak(db, now, ny, Scope()) == 4


# -- activity ---------------------------------------------------------------------------------
def test_heatmap_is_26_weeks_from_a_monday_with_counts_per_study_day(db):
    ids = add_deck(db, n_flash=2)
    for _ in range(3):
        answer(db, ids["c0"], at(0, 9))
    answer(db, ids["c0"], at(-1, 3, 59), cram=True)  # Sunday 03:59: Saturday's study day
    answer(db, ids["c1"], at(-1, 4, 0))
    start = date(2025, 9, 8)  # the Monday 25 weeks before NOW's week
    answer(db, ids["c1"], datetime(2025, 9, 8, 4, tzinfo=UTC))
    answer(db, ids["c1"], datetime(2025, 9, 8, 3, tzinfo=UTC))  # 7 Sep: before it
    h = heatmap(db, NOW, CAL, Scope())
    assert h.start == start and start.weekday() == 0
    assert len(h.days) == 25 * 7 + 1 and h.days[-1].date == date(2026, 3, 2)
    counts = {d.date: d.count for d in h.days if d.count}
    assert counts == {
        date(2025, 9, 8): 1,
        date(2026, 2, 28): 1,
        date(2026, 3, 1): 1,
        date(2026, 3, 2): 3,
    }
    assert (h.total, h.active_days, h.busiest) == (6, 4, 3)
    assert heatmap(db, NOW, CAL, Scope(since=date(2026, 3, 1))).total == 4


# -- mastery ----------------------------------------------------------------------------------
def mastery_store(db):
    """Deck 'a' (deck tag 'ml'), card tags x/y; expected counts are in the comments."""
    tags = {
        "c0": ("x",),
        "c1": ("x",),
        "c2": ("x", "y"),
        "c3": ("y",),
        "c4": ("y",),
        "c5": ("x",),
        "c6": ("y",),
        "c7": ("x",),
    }
    ids = add_deck(db, "a", n_flash=9, tags=("ml",), card_tags=tags)
    s = {}
    # c0: new
    s["c1"] = schedule(
        db, ids["c1"], 1, last=NOW - timedelta(hours=1), interval=0.01, stability=0.5
    )
    s["c2"] = schedule(db, ids["c2"], 3, last=NOW - DAY, interval=0.01, stability=2.0)
    s["c3"] = schedule(db, ids["c3"], 2, last=NOW - DAY, interval=20.9)  # young
    s["c4"] = schedule(db, ids["c4"], 2, last=NOW - DAY, interval=21)  # mature, mastered
    s["c5"] = schedule(db, ids["c5"], 2, last=NOW - 5 * DAY, interval=30)  # mature, mastered
    s["c6"] = schedule(db, ids["c6"], 2, last=NOW - 60 * DAY, interval=30)  # mature, slipping
    s["c7"] = schedule(
        db, ids["c7"], 2, last=NOW - 2 * DAY, interval=40, suspended=True, leech=True
    )  # mature, mastered, suspended leech
    s["c8"] = schedule(db, ids["c8"], 2, last=NOW - DAY, interval=50)
    store.sync_decks(db, [make_deck("a", n_flash=8, tags=("ml",), card_tags=tags)], NOW)  # c8 gone
    with db.atomic() as conn:
        skill = store.ensure_card(conn, "drill", "backprop-d1", "skill", NOW)
    schedule(db, skill, 2, last=NOW - DAY, interval=30)  # drill levels are not in mastery
    add_deck(db, "b", n_flash=2)  # all new
    return s


def test_mastery_by_deck_and_tag(db):
    s = mastery_store(db)
    m = mastery(db, NOW, Scope(), RecallCurve.of(SCHED), 0.9)
    a, b = m.decks
    assert (a.name, a.cards, a.new, a.learning, a.young, a.mature) == ("a", 8, 1, 2, 1, 4)
    assert (a.suspended, a.leeches, a.mastered, a.reviewed) == (1, 1, 3, 7)
    assert a.mastered_rate == 3 / 8
    # the reference: Scheduler.retrievability card by card
    expected = [SCHED.retrievability(s[k], NOW) for k in ("c1", "c2", "c3", "c4", "c5", "c6", "c7")]
    assert a.recall == pytest.approx(sum(expected) / 7, abs=1e-12)
    assert SCHED.retrievability(s["c6"], NOW) < 0.9 <= SCHED.retrievability(s["c5"], NOW)
    assert (b.name, b.cards, b.new, b.recall, b.mastered_rate) == ("b", 2, 2, None, 0.0)
    assert (m.total.cards, m.total.mastered, m.total.reviewed) == (10, 3, 7)
    tags = {t.name: t for t in m.tags}
    assert set(tags) == {"ml", "x", "y"}
    assert (tags["ml"].cards, tags["ml"].mastered) == (8, 3)  # the deck tag: the whole deck
    x, y = tags["x"], tags["y"]  # x: c0 c1 c2 c5 c7; y: c2 c3 c4 c6
    assert (x.cards, x.new, x.learning, x.young, x.mature, x.mastered) == (5, 1, 2, 0, 2, 2)
    assert (y.cards, y.new, y.learning, y.young, y.mature, y.mastered) == (4, 0, 1, 1, 2, 1)


def test_mastery_filters(db):
    mastery_store(db)
    m = mastery(db, NOW, Scope(tags=("y",)), RecallCurve.of(SCHED), 0.9)
    assert [t.name for t in m.tags] == ["y"]  # only the tags asked for
    assert [(d.name, d.cards) for d in m.decks] == [("a", 4)]
    m = mastery(db, NOW, Scope(decks=("b",)), RecallCurve.of(SCHED), 0.9)
    assert [(d.name, d.cards) for d in m.decks] == [("b", 2)] and m.tags == []


def test_a_review_card_without_stability_is_unknown_recall_not_a_crash(db):
    """Damaged data (a card in review with no stability, or no due date) is counted by its
    state, with no recall and never mastered, in every section of the report."""
    c = add_deck(db, "a", n_flash=3, card_tags={"c0": ("x",), "c1": ("y",)})
    add_deck(db, "b", n_flash=1)
    schedule(db, c["c0"], 2, last=NOW - 25 * DAY, interval=30)  # mature, sound: mastered
    schedule(db, c["c1"], 2, last=NOW - 40 * DAY, interval=30)
    db.conn.execute(
        "UPDATE cards SET stability = NULL, leech = 1, lapses = 9 WHERE id = ?", (c["c1"],)
    )
    [b0] = db.conn.execute("SELECT id FROM cards WHERE deck_id = 'b'").fetchone()
    db.conn.execute(  # alone in its group: every figure of the group is NULL in SQL
        "UPDATE cards SET state = 2, stability = NULL, due = NULL, last_review = ? WHERE id = ?",
        (to_ms(NOW - DAY), b0),
    )
    answer(db, c["c1"], NOW - DAY)
    with db.atomic() as conn:  # a drill level damaged the same way
        skill = store.ensure_card(conn, "drill", "backprop-d1", "skill", NOW)
    schedule(db, skill, 2, last=NOW - DAY, interval=3)
    db.conn.execute("UPDATE cards SET stability = NULL WHERE id = ?", (skill,))
    t = mastery(db, NOW, Scope(), RecallCurve.of(SCHED), 0.9)
    assert (t.total.cards, t.total.mature, t.total.mastered, t.total.reviewed) == (4, 2, 1, 1)
    by_tag = {m.name: m for m in t.tags}
    assert (by_tag["y"].mature, by_tag["y"].mastered, by_tag["y"].recall) == (1, 0, None)
    b = next(m for m in t.decks if m.name == "b")
    assert (b.cards, b.young, b.mature, b.mastered, b.recall) == (1, 0, 0, 0, None)
    r = build_report(db, NOW, SCHED, cal=CAL)
    [leech] = r.weak.leeches
    assert (leech.card_id, leech.recall) == ("c1", None)
    assert [(lv.id, lv.recall) for lv in r.skills.levels] == [("backprop-d1", None)]
    assert json.dumps(r.to_dict())  # nothing in it is a NaN or an error


def test_recall_in_sql_matches_the_scheduler_card_by_card(db):
    rng = random.Random(3)
    ids = add_deck(db, n_flash=300)
    schedules = {}
    for rowid in ids.values():
        stability = rng.choice([0.05, 0.5, 1, 2.5, 21]) * rng.uniform(0.5, 20)
        last = NOW - timedelta(seconds=rng.uniform(-3600, 800 * 86400))  # a few in the future
        schedules[rowid] = schedule(db, rowid, 2, last=last, interval=1, stability=stability)
    r, args = RecallCurve.of(SCHED).sql(to_ms(NOW))
    got = dict(db.conn.execute(f"SELECT id, {r} FROM cards", args).fetchall())
    for rowid, s in schedules.items():
        assert got[rowid] == pytest.approx(SCHED.retrievability(s, NOW), rel=1e-12, abs=0)
    for target in (0.8, 0.9, 0.95):  # the pow-free "recall >= target" test used for mastery
        holds, args = RecallCurve.of(SCHED).at_least_sql(to_ms(NOW), target)
        got = dict(db.conn.execute(f"SELECT id, {holds} FROM cards", args).fetchall())
        expected = {
            rowid: int(SCHED.retrievability(s, NOW) >= target) for rowid, s in schedules.items()
        }
        assert got == expected and 0 < sum(got.values()) < len(got)


# -- true retention ---------------------------------------------------------------------------
def test_true_retention_is_exactly_80_percent(db):
    ids = list(add_deck(db, n_flash=40).values())
    card = iter(ids)
    # Last 7 days: young 8/10 and mature 4/5 first answers of the day, review state.
    for i, rating in enumerate([3, 3, 2, 4, 3, 3, 3, 2, 1, 1]):
        answer(db, next(card), at(-(i % 7), 10), rating, elapsed=5.0)
    for i, rating in enumerate([3, 4, 3, 2, 1]):
        answer(db, next(card), at(-(i % 7), 10), rating, elapsed=30.0)
    # Not counted: cram, learning/relearning answers, a card's second answer of the day,
    # a day whose first answer was a learning step, answers more than 30 days ago.
    c = next(card)
    answer(db, c, at(0, 5), 1, cram=True)
    answer(db, c, at(-1, 5), 1, before=1)
    answer(db, c, at(-2, 5), 1, before=3, elapsed=1.0)
    c = next(card)
    answer(db, c, at(-1, 6), 3, elapsed=9.0)  # counted: young pass
    answer(db, c, at(-1, 7), 1, elapsed=0.04)  # same card, same day: not first
    answer(db, c, at(-2, 6), 1, before=1)  # learning step first ...
    answer(db, c, at(-2, 7), 1, elapsed=0.04)  # ... so this review-state answer is not first
    answer(db, next(card), at(-30, 12), 1, elapsed=30.0)
    # Only in the 30-day window: young 1/2, mature 1/1.
    answer(db, next(card), at(-10, 12), 3, elapsed=3.0)
    answer(db, next(card), at(-10, 12), 1, elapsed=3.0)
    answer(db, next(card), at(-29, 12), 3, elapsed=21.0)  # 21 days: mature

    w7, w30 = retention(db, NOW, CAL, Scope())
    assert w7.days == 7 and w30.days == 30
    assert (w7.young.passed, w7.young.reviews) == (9, 11)  # 8/10 plus the counted pass
    assert (w7.mature.passed, w7.mature.reviews) == (4, 5)
    assert w7.mature.rate == 0.8
    assert (w30.young.passed, w30.young.reviews) == (10, 13)
    assert (w30.mature.passed, w30.mature.reviews) == (5, 6)
    assert (w30.all.passed, w30.all.reviews) == (15, 19)


def test_true_retention_round_80_and_since(db):
    ids = list(add_deck(db, n_flash=10).values())
    for i, c in enumerate(ids):
        answer(db, c, at(-i, 12), 1 if i in (2, 7) else 3, elapsed=25.0)
    w7, w30 = retention(db, NOW, CAL, Scope())
    assert w30.all.rate == 0.8 and w30.mature.rate == 0.8 and w30.young.reviews == 0
    assert (w7.all.passed, w7.all.reviews) == (6, 7)
    w7, w30 = retention(db, NOW, CAL, Scope(since=date(2026, 2, 28)))  # last 3 study days
    assert (w30.all.passed, w30.all.reviews) == (2, 3)


# -- forecast ---------------------------------------------------------------------------------
def test_forecast_counts_due_cards_per_study_day_with_overdue_today(db):
    c = add_deck(db, n_flash=10)
    schedule(db, c["c0"], 2, last=NOW - 13 * DAY, interval=10)  # 3 days overdue: today
    schedule(db, c["c1"], 1, last=NOW, due=NOW + timedelta(hours=1))  # later today
    schedule(db, c["c2"], 2, last=NOW, due=at(1, 3, 59))  # before 4 am: still today
    schedule(db, c["c3"], 2, last=NOW, due=at(1, 4))  # tomorrow
    schedule(db, c["c4"], 2, last=NOW, due=at(29, 12))  # 31 March: the 30th day
    schedule(db, c["c5"], 2, last=NOW, due=at(30, 4))  # 1 April: beyond the forecast
    schedule(db, c["c6"], 2, last=NOW, due=at(2, 12), suspended=True)
    schedule(db, c["c7"], 2, last=NOW, due=at(2, 12))
    store.sync_decks(db, [make_deck(n_flash=7)], NOW)  # c7 removed
    with db.atomic() as conn:
        skill = store.ensure_card(conn, "drill", "backprop-d1", "skill", NOW)
    schedule(db, skill, 2, last=NOW, due=at(2, 12))
    f = forecast(db, NOW, CAL, Scope())
    assert len(f) == 30 and f[0].date == date(2026, 3, 2) and f[29].date == date(2026, 3, 31)
    assert {d.date: d.count for d in f if d.count} == {
        date(2026, 3, 2): 3,
        date(2026, 3, 3): 1,
        date(2026, 3, 31): 1,
    }


# -- drill skills -----------------------------------------------------------------------------
def attempt(when, skills_, correct, difficulty=1):
    return store.Attempt(
        when, "backprop", difficulty, "number", 1, skills_, correct, float(correct), 5000
    )


def test_skills_accuracy_trend_weakest_and_due_levels(db):
    log = []
    # fan-out: 10 older attempts, 4 right; the last 10, 8 right -> up
    log += [(("fan-out",), i < 4) for i in range(10)] + [(("fan-out",), i < 8) for i in range(10)]
    # sigmoid: 2 older, both right; the last 10 (shared with relu), 5 right -> down
    log += [(("sigmoid",), True)] * 2 + [(("relu", "sigmoid"), i < 5) for i in range(10)]
    with db.atomic() as conn:
        for i, (sk, ok) in enumerate(log):
            store.insert_attempt(conn, attempt(NOW - timedelta(hours=len(log) - i), sk, ok))
    record_drill_attempt(db, SCHED, attempt(NOW - 10 * DAY, ("exp",), True, 2), NOW - 10 * DAY)
    five_min_ago = NOW - timedelta(minutes=5)
    record_drill_attempt(db, SCHED, attempt(five_min_ago, ("exp",), True, 1), five_min_ago)

    r = skills(db, NOW, CAL, Scope(), SCHED)
    by = {s.skill: s for s in r.skills}
    assert list(by) == ["exp", "fan-out", "relu", "sigmoid"]
    f = by["fan-out"]
    assert (f.attempts, f.correct, f.recent.rate, f.previous.rate, f.trend) == (
        20,
        12,
        0.8,
        0.4,
        "up",
    )
    s = by["sigmoid"]
    assert (s.attempts, s.recent.passed, s.recent.reviews, s.previous.rate, s.trend) == (
        12,
        5,
        10,
        1.0,
        "down",
    )
    assert (by["relu"].recent.rate, by["relu"].trend) == (0.5, None)  # nothing before
    assert r.weakest == ["relu", "sigmoid", "fan-out"]  # exp: 100%, not weak
    levels = {lv.id: lv for lv in r.levels}
    assert list(levels) == ["backprop-d1", "backprop-d2"]
    assert levels["backprop-d2"].command == "quizforge drill backprop -d 2"
    assert levels["backprop-d2"].is_due(NOW)  # its 10-minute learning step came 10 days ago
    assert not levels["backprop-d1"].is_due(NOW)  # due in 5 minutes
    assert r.due == ["backprop-d2"]
    recent = skills(db, NOW, CAL, Scope(since=date(2026, 3, 1)), SCHED)
    f = next(s for s in recent.skills if s.skill == "fan-out")
    assert (f.attempts, f.previous.reviews, f.trend) == (20, 10, "up")  # all since 1 Mar
    assert [s.skill for s in skills(db, NOW, CAL, Scope(tags=("relu",)), SCHED).skills] == ["relu"]
    assert skills(db, NOW, CAL, Scope(decks=("d",)), SCHED).skills == []


def test_drill_commands_for_levels_of_hyphenated_families():
    assert drill_command("backprop-d2") == "quizforge drill backprop -d 2"
    assert drill_command("softmax-ce-d1") == "quizforge drill softmax-ce -d 1"
    assert drill_command("layer-norm-grad-d12") == "quizforge drill layer-norm-grad -d 12"
    assert drill_command("softmax-ce") == "quizforge drill"  # not a level: the family list
    assert drill_command("Softmax-d1") == "quizforge drill"


def test_skill_accuracy_is_first_try_accuracy(db):
    """Four softmax-ce problems, each solved in the end: only the first-try one is correct."""
    from quizforge.drill.attempt import Attempt
    from quizforge.study.mastery import attempt_record

    class Question:
        form, skills = "number", ("log-sum-exp",)

    class Problem:
        family, difficulty, seed = "softmax-ce", 1, 3

        def question(self, i):
            return Question()

    went = [  # solved, first_try, tries, hints, revealed
        (True, True, 1, 0, False),  # right first time: correct
        (True, False, 2, 0, False),  # right at the second try
        (True, True, 1, 1, False),  # right first time, after a hint
        (False, False, 1, 0, True),  # revealed
    ]
    for i, (solved, first, tries, hints, revealed) in enumerate(went):
        at = NOW - timedelta(hours=4 - i)
        a = Attempt(Problem(), 0, solved, first, tries, hints, revealed, False, 20.0, 1.0)
        record_drill_attempt(db, SCHED, attempt_record(a, at), at)
    r = skills(db, NOW, CAL, Scope(), SCHED)
    [s] = r.skills
    assert (s.skill, s.attempts, s.correct, s.recent.rate) == ("log-sum-exp", 4, 1, 0.25)
    [lv] = r.levels
    assert (lv.id, lv.attempts, lv.correct, lv.command) == (
        "softmax-ce-d1",
        4,
        1,
        "quizforge drill softmax-ce -d 1",
    )
    assert r.weakest == ["log-sum-exp"]
    d = build_report(db, NOW, SCHED, cal=CAL).to_dict()["skills"]
    assert (d["skills"][0]["accuracy"], d["levels"][0]["correct"]) == (0.25, 1)
    assert "Practise your weakest drill skill: log-sum-exp (1/4 right first try lately)" in [
        a.text for a in build_report(db, NOW, SCHED, cal=CAL).advice
    ]


def test_weakest_skill_advice_runs_the_family_and_difficulty_that_practised_it(db):
    """Difficulty 1 of backprop may never make a quotient: the advice names where the
    skill was practised most recently, not the family list or difficulty 1."""

    def tried(hours_ago, family, difficulty, skills_, correct):
        a = store.Attempt(
            NOW - timedelta(hours=hours_ago),
            family,
            difficulty,
            "number",
            1,
            skills_,
            correct,
            float(correct),
            5000,
        )
        with db.atomic() as conn:
            store.insert_attempt(conn, a)

    tried(9, "softmax-ce", 2, ("quotient",), True)  # older, elsewhere
    tried(8, "backprop", 3, ("quotient", "chain-rule"), False)
    tried(7, "backprop", 3, ("quotient",), False)  # the newest with a quotient
    tried(6, "backprop", 1, ("chain-rule",), True)  # newer, but no quotient
    r = build_report(db, NOW, SCHED, cal=CAL)
    assert r.skills.weakest[0] == "quotient"
    by = {s.skill: s.command for s in r.skills.skills}
    assert by == {
        "quotient": "quizforge drill backprop -d 3",
        "chain-rule": "quizforge drill backprop -d 1",
    }
    [weakest] = [a for a in r.advice if a.text.startswith("Practise your weakest drill skill")]
    assert (
        weakest.text == "Practise your weakest drill skill: quotient (1/3 right first try lately)"
    )
    assert weakest.command == "quizforge drill backprop -d 3"
    assert r.to_dict()["skills"]["skills"][1]["command"] == "quizforge drill backprop -d 3"


# -- weak spots -------------------------------------------------------------------------------
def test_weak_spots_with_their_study_commands(db):
    c = add_deck(db, n_flash=6, n_mcq=3, card_tags={"c0": ("x", "y"), "c4": ("z",)})
    schedule(db, c["c0"], 3, last=NOW - DAY, interval=1, lapses=9, leech=True, suspended=True)
    schedule(db, c["c1"], 3, last=NOW - DAY, interval=1, lapses=8, leech=True, suspended=True)
    schedule(db, c["c2"], 2, last=NOW - 100 * DAY, interval=10)  # very overdue
    schedule(db, c["c3"], 2, last=NOW - 30 * DAY, interval=10)
    schedule(db, c["c4"], 2, last=NOW - 2 * DAY, interval=10)  # on track: not weak
    for rowid, misses, answers in (
        (c["m0"], 3, 4),
        (c["m1"], 3, 10),
        (c["m2"], 1, 1),
        (c["c5"], 9, 9),
    ):
        for i in range(answers):
            answer(db, rowid, NOW - timedelta(hours=i + 1), 1 if i < misses else 3)

    w = weak_spots(db, NOW, CAL, Scope(), SCHED)
    assert w.leech_count == 2
    assert [(x.card_id, x.lapses, x.command) for x in w.leeches] == [
        ("c0", 9, "quizforge unsuspend d/c0"),  # suspended leeches come back with unsuspend
        ("c1", 8, "quizforge unsuspend d/c1"),
    ]
    assert [x.card_id for x in w.lowest_recall] == ["c2", "c3"]
    assert w.lowest_recall[0].recall == SCHED.retrievability(
        store.get_card(db, c["c2"]).schedule, NOW
    )
    assert w.lowest_recall[0].command == "quizforge study --deck d"
    assert [(x.card_id, x.misses, x.answers) for x in w.most_missed_mcq] == [
        ("m0", 3, 4),
        ("m1", 3, 10),
        ("m2", 1, 1),  # a flashcard's misses are not listed
    ]
    assert w.most_missed_mcq[0].command == "quizforge study --cram --deck d"
    top = weak_spots(db, NOW, CAL, Scope(), SCHED, limit=1)
    assert [x.card_id for x in top.most_missed_mcq] == ["m0"]  # tie on misses: higher rate
    since = weak_spots(db, NOW, CAL, Scope(since=date(2026, 3, 2)), SCHED)  # from 04:00 today
    assert [(x.card_id, x.misses, x.answers) for x in since.most_missed_mcq] == [
        ("m0", 3, 4),
        ("m1", 3, 8),
        ("m2", 1, 1),  # m1's two answers before 04:00 left out
    ]


# -- the whole report -------------------------------------------------------------------------
TOP_KEYS = {
    "schema",
    "generated_at",
    "empty",
    "filters",
    "settings",
    "today",
    "mastery",
    "retention",
    "interview",
    "forecast",
    "activity",
    "skills",
    "weak_spots",
    "calibration",
    "advice",
    "mock_rounds",  # added with `quizforge mock`; the keys before it are unchanged
    "trends",  # added with the report's trends
}


def test_empty_store_gives_the_same_structure_with_zeros(db):
    r = build_report(db, NOW, SCHED, cal=CAL)
    d = json.loads(json.dumps(r.to_dict()))
    assert set(d) == TOP_KEYS and d["empty"] is True
    assert d["today"] == {
        "date": "2026-03-02",
        "reviews": 0,
        "correct": 0,
        "correct_rate": None,
        "seconds": 0.0,
        "due_now": 0,
        "new_introduced": 0,
        "new_left": 0,
        "streak_days": 0,
    }
    assert d["mastery"]["decks"] == [] and d["mastery"]["total"]["cards"] == 0
    assert [w["all"] for w in d["retention"]["windows"]] == [
        {"reviews": 0, "passed": 0, "rate": None}
    ] * 2
    assert len(d["forecast"]["days"]) == 30 and d["forecast"]["total"] == 0
    assert d["activity"]["total"] == 0 and len(d["activity"]["days"]) == 176
    assert d["skills"] == {**d["skills"], "skills": [], "levels": [], "due": [], "weakest": []}
    assert d["weak_spots"] == {
        "leech_count": 0,
        "leeches": [],
        "lowest_recall": [],
        "most_missed_mcq": [],
    }
    assert [a["command"] for a in d["advice"]] == ["quizforge study", "quizforge drill"]
    assert d["skills"]["accuracy_definition"].startswith("first-try accuracy: correct / attempts")


def test_report_json_keys_are_stable(db):
    mastery_store(db)
    ids = add_deck(db, "q", n_mcq=1)
    answer(db, ids["m0"], NOW - timedelta(hours=1), 1)
    record_drill_attempt(db, SCHED, attempt(NOW - DAY, ("exp",), False), NOW - DAY)
    d = build_report(db, NOW, SCHED, Scope(since=date(2026, 1, 1)), CAL, {"a": "Deck A"}).to_dict()
    assert set(d) == TOP_KEYS and d["empty"] is False
    assert d["filters"] == {"decks": [], "tags": [], "since": "2026-01-01"}
    assert set(d["settings"]) == {"desired_retention", "new_per_day", "day_starts_at"}
    counts = {
        "cards",
        "new",
        "learning",
        "young",
        "mature",
        "suspended",
        "leeches",
        "reviewed",
        "recall",
        "mastered",
        "mastered_rate",
    }
    assert set(d["mastery"]) == {"definitions", "total", "decks", "tags"}
    assert set(d["mastery"]["total"]) == counts
    assert set(d["mastery"]["decks"][0]) == counts | {"deck", "title"}
    assert d["mastery"]["decks"][0]["title"] == "Deck A"
    assert set(d["mastery"]["tags"][0]) == counts | {"tag"}
    assert set(d["retention"]) == {"desired", "definition", "windows"}
    assert set(d["retention"]["windows"][0]) == {"days", "young", "mature", "all"}
    assert set(d["forecast"]) == {"interview_date", "total", "days"} and set(d["forecast"]["days"][0]) == {
        "date",
        "due",
    }
    assert set(d["activity"]) == {
        "start",
        "end",
        "total",
        "active_days",
        "busiest",
        "streak_definition",
        "days",
    }
    assert set(d["activity"]["days"][0]) == {"date", "reviews"}
    assert set(d["skills"]) == {
        "accuracy_definition",
        "trend_definition",
        "skills",
        "levels",
        "due",
        "weakest",
    }
    assert set(d["skills"]["skills"][0]) == {
        "skill",
        "attempts",
        "correct",
        "accuracy",
        "recent",
        "previous",
        "trend",
        "last_attempt",
        "command",
    }
    assert set(d["skills"]["skills"][0]["recent"]) == {"attempts", "correct", "rate"}
    assert set(d["skills"]["levels"][0]) == {
        "level",
        "attempts",
        "correct",
        "state",
        "due",
        "is_due",
        "recall",
        "command",
    }
    assert set(d["weak_spots"]) == {"leech_count", "leeches", "lowest_recall", "most_missed_mcq"}
    assert set(d["weak_spots"]["most_missed_mcq"][0]) == {
        "deck",
        "card",
        "kind",
        "tags",
        "lapses",
        "recall",
        "misses",
        "answers",
        "command",
    }
    assert all(set(a) == {"text", "command"} for a in d["advice"])


def test_since_limits_log_figures_but_not_mastery(db):
    mastery_store(db)
    rowid = add_deck(db, "q", n_flash=1)["c0"]
    for day in (-200, -20, -3, 0):
        answer(db, rowid, at(day, 12), elapsed=25.0)
    full = build_report(db, NOW, SCHED, cal=CAL)
    cut = build_report(db, NOW, SCHED, Scope(since=date(2026, 2, 27)), CAL)
    assert (full.activity.total, cut.activity.total) == (3, 2)  # day -200: before the calendar
    assert (full.retention[1].all.reviews, cut.retention[1].all.reviews) == (3, 2)
    assert (full.today.streak_days, cut.today.streak_days) == (1, 1)
    assert full.mastery == cut.mastery and full.forecast == cut.forecast
    assert cut.empty is False


def test_timings_cover_every_section(db):
    r = build_report(db, NOW, SCHED, cal=CAL)
    assert set(r.timings) == {
        "empty",
        "today",
        "mastery",
        "retention",
        "forecast",
        "activity",
        "skills",
        "weak_spots",
        "calibration",
        "mock_rounds",
        "trends",
    }


def test_forecast_buckets_cut_days_in_a_quarter_hour_zone(db):
    """Kathmandu is UTC+5:45: a study day starts at 22:15 UTC, on a 15-minute bucket edge."""
    ktm = Calendar(4, ZoneInfo("Asia/Kathmandu"))
    c = add_deck(db, n_flash=2)
    schedule(db, c["c0"], 2, last=NOW, due=datetime(2026, 3, 3, 22, 14, 59, tzinfo=UTC))
    schedule(db, c["c1"], 2, last=NOW, due=datetime(2026, 3, 3, 22, 15, tzinfo=UTC))
    f = forecast(db, NOW, ktm, Scope())
    assert {d.date: d.count for d in f if d.count} == {date(2026, 3, 3): 1, date(2026, 3, 4): 1}
