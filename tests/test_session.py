import random
from datetime import timedelta

import pytest
from helpers import T0, make_deck

from quizforge.errors import DeckError
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import CardSchedule, Rating, Scheduler, State
from quizforge.store import cards as store
from quizforge.study.queue import Entry, Queue
from quizforge.study.session import Session, StudyOptions


def session(db, decks=None, now=T0, config=None, **opts):
    return Session(db, decks or [make_deck()], Scheduler(config or Config(fuzz=False)), StudyOptions(**opts), now)


def drain(s, now, rating=Rating.GOOD, step=timedelta(minutes=1)):
    seen = []
    while (n := s.next(now)) is not None:
        seen.append(n[0].card_id)
        s.answer(n[0], rating, now, 1000)
        now += step
    return seen, now


def revlog_count(db):
    return db.conn.execute("SELECT COUNT(*) FROM revlog").fetchone()[0]


def test_new_cards_then_learning_steps_then_done(db):
    s = session(db)
    seen, _now = drain(s, T0)
    # each new card is shown, then comes back once for its 10-minute step (learn-ahead)
    assert seen == ["c0", "c1", "c2", "c3", "c4"] * 2
    assert revlog_count(db) == 10
    assert s.tally.answered == 10 and s.tally.correct == 10
    # c0's second answer came at minute 5 and graduated it to a 2-day interval
    assert s.next_due() == T0 + timedelta(minutes=5, days=2)


def test_new_card_cap_counts_what_was_introduced_today(db):
    s = session(db, new_cap=2)
    assert s.queue.counts()["new"] == 2
    drain(s, T0)
    s2 = session(db, now=T0 + timedelta(hours=1), new_cap=3)
    assert s2.queue.counts()["new"] == 1  # 2 already introduced today
    s3 = session(db, now=T0 + timedelta(days=1), new_cap=3)
    assert s3.queue.counts()["new"] == 3


def test_config_new_per_day_and_review_limit(db):
    cfg = Config(fuzz=False, new_per_day=3, reviews_per_day=2)
    s = session(db, config=cfg)
    assert s.queue.counts()["new"] == 3
    drain(s, T0)
    later = T0 + timedelta(days=3)
    s2 = session(db, now=later, config=cfg)
    assert s2.queue.counts() == {"new": 2, "learning": 0, "review": 2}


def test_due_reviews_come_first_and_new_are_interleaved():
    def e(i, state, due=None):
        return Entry(i, "d", f"x{i}", CardSchedule(state=state, due=due))

    reviews = [e(i, State.REVIEW, T0 - timedelta(days=i)) for i in range(1, 7)]
    new = [e(10 + i, State.NEW) for i in range(3)]
    q = Queue.build([], reviews, new)
    order = []
    while (x := q.next(T0)) is not None:
        order.append(x.card_id)
    # most overdue first; one new card after every 2 reviews
    assert order == ["x6", "x5", "x10", "x4", "x3", "x11", "x2", "x1", "x12"]


def test_learning_card_due_beats_everything_and_learn_ahead():
    learn = Entry(1, "d", "L", CardSchedule(state=State.LEARNING, due=T0 + timedelta(minutes=5)))
    rev = Entry(2, "d", "R", CardSchedule(state=State.REVIEW, due=T0 - timedelta(days=1)))
    q = Queue.build([learn], [rev], [])
    assert q.next(T0).card_id == "R"  # learning card not due yet
    assert q.next(T0).card_id == "L"  # nothing else: shown up to 20 min early
    q = Queue.build([Entry(1, "d", "L", CardSchedule(state=State.LEARNING, due=T0 + timedelta(minutes=30)))], [], [])
    assert q.next(T0) is None and q.next_learning_due() == T0 + timedelta(minutes=30)


def test_shuffle_is_seeded():
    reviews = [Entry(i, "d", f"x{i}", CardSchedule(state=State.REVIEW, due=T0)) for i in range(20)]
    a = Queue.build([], list(reviews), [], random.Random(7))
    b = Queue.build([], list(reviews), [], random.Random(7))
    ids = lambda q: [e.rowid for e in q.reviews]
    assert ids(a) == ids(b) != sorted(ids(a))


def test_limit_caps_cards_in_session(db):
    s = session(db, limit=2)
    assert len(s.queue) == 2


def test_undo_restores_schedule_and_log_and_reshows_card(db):
    s = session(db)
    e, _ = s.next(T0)
    before = store.get_card(db, e.rowid).schedule
    s.answer(e, Rating.EASY, T0, 1500)
    assert revlog_count(db) == 1
    undone = s.undo()
    assert undone.card_id == "c0"
    assert store.get_card(db, e.rowid).schedule == before
    assert revlog_count(db) == 0
    assert s.tally.answered == 0 and s.tally.seconds == 0
    assert s.next(T0)[0].card_id == "c0"
    assert s.undo() is None


def test_undo_of_an_unchanged_card_restores_before_even_off_the_millisecond(db, monkeypatch):
    """The store keeps times in ms: an answer at a time with microseconds reads back
    unchanged, and its undo restores the schedule before it (no rebuild by replay)."""
    import quizforge.sync.merge as merge

    monkeypatch.setattr(merge, "rebuild", lambda *a: pytest.fail("rebuilt"))
    s = session(db)
    e, _ = s.next(T0)
    before = store.get_card(db, e.rowid).schedule
    s.answer(e, Rating.GOOD, T0 + timedelta(microseconds=1_234_567), 1500)
    s.undo()
    assert store.get_card(db, e.rowid).schedule == before


def test_undo_twice_goes_back_two_answers(db):
    s = session(db)
    for _ in range(2):
        e, _ = s.next(T0)
        s.answer(e, Rating.GOOD, T0, 10)
    assert [s.undo().card_id, s.undo().card_id] == ["c1", "c0"]
    assert revlog_count(db) == 0
    assert [s.next(T0)[0].card_id, s.next(T0)[0].card_id] == ["c0", "c1"]


def test_suspend_and_undo_suspend(db):
    s = session(db)
    e, _ = s.next(T0)
    s.suspend(e)
    assert store.get_card(db, e.rowid).schedule.suspended
    assert "c0" not in drain(session(db), T0)[0]
    s.undo()
    assert not store.get_card(db, e.rowid).schedule.suspended


def test_cram_does_not_touch_schedule_but_logs(db):
    s = session(db)
    drain(s, T0)
    snapshot = [tuple(r) for r in db.conn.execute("SELECT * FROM cards ORDER BY id")]
    c = session(db, now=T0 + timedelta(hours=1), cram=True)
    assert len(c.queue) == 5
    e, _ = c.next(T0)
    c.answer(e, Rating.AGAIN, T0, 10)  # a miss comes back later in the cram
    seen, _ = drain(c, T0)
    assert seen.count(e.card_id) == 1 and len(seen) == 5
    assert [tuple(r) for r in db.conn.execute("SELECT * FROM cards ORDER BY id")] == snapshot
    assert db.conn.execute("SELECT COUNT(*) FROM revlog WHERE cram = 1").fetchone()[0] == 6
    # cram answers don't use up today's limits
    assert store.studied_today(db, T0 - timedelta(hours=1))["new"] == 5


def test_answer_uses_state_on_disk(db):
    """A second session that answered the same card meanwhile is not overwritten."""
    a = session(db)
    b = session(db)
    ea, _ = a.next(T0)
    eb, _ = b.next(T0)
    assert ea.rowid == eb.rowid
    a.answer(ea, Rating.GOOD, T0, 10)
    out = b.answer(eb, Rating.GOOD, T0 + timedelta(minutes=10), 10)
    assert out.before.state == State.LEARNING and out.after.reps == 2


def test_leech_is_suspended_and_reported(db):
    cfg = Config(fuzz=False, leech_threshold=2, relearning_steps="")
    deck = make_deck(n_flash=1)
    s = session(db, decks=[deck], config=cfg)
    e, _ = s.next(T0)
    s.answer(e, Rating.EASY, T0, 10)
    now = T0
    for _ in range(2):
        now = store.get_card(db, e.rowid).schedule.due
        s2 = session(db, decks=[deck], now=now, config=cfg)
        e2, _ = s2.next(now)
        s2.answer(e2, Rating.AGAIN, now, 10)
    assert s2.tally.leeches == [("d", "c0")]
    row = store.get_card(db, e.rowid)
    assert row.schedule.leech and row.schedule.suspended and row.schedule.lapses == 2


def test_unknown_deck_and_empty_tag(db):
    with pytest.raises(DeckError, match="no deck with id 'nope' \\(decks found: d\\)"):
        Session(db, [make_deck()], Scheduler(), StudyOptions(decks=("nope",)), T0)
    with pytest.raises(DeckError, match="no cards match tag zzz"):
        Session(db, [make_deck()], Scheduler(), StudyOptions(tags=("zzz",)), T0)


def test_generated_card_attempt_committed_with_review_and_undone_with_it(db):
    from quizforge.store.cards import Attempt

    s = session(db)
    e, _ = s.next(T0)
    a = Attempt(T0, "backprop", 2, "number", 42, ("fan-out",), False, 0.0, 5000)
    s.answer(e, Rating.AGAIN, T0, 5000, correct=False, attempt=a)
    row = db.conn.execute("SELECT card, seed, correct FROM drill_attempts").fetchone()
    assert tuple(row) == (e.rowid, 42, 0)
    s.undo()
    assert db.conn.execute("SELECT COUNT(*) FROM drill_attempts").fetchone()[0] == 0
    assert revlog_count(db) == 0
