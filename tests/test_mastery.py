from datetime import timedelta

from helpers import T0
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Scheduler, State
from quizforge.store.cards import Attempt
from quizforge.store.db import Database
from quizforge.study.mastery import record_drill_attempt, skill_statuses


def attempt(correct, difficulty=2, seed=1):
    return Attempt(T0, "backprop", difficulty, "number", seed, ("fan-out", "sigmoid"), correct, float(correct), 9000)


def test_attempts_are_stored_and_skills_scheduled():
    db = Database(":memory:")
    sched = Scheduler(Config(fuzz=False))
    s1 = record_drill_attempt(db, sched, attempt(True), T0)
    assert s1.state == State.LEARNING and s1.due == T0 + timedelta(minutes=10)
    s2 = record_drill_attempt(db, sched, attempt(False), T0 + timedelta(minutes=10))
    assert s2.reps == 2
    record_drill_attempt(db, sched, attempt(True, difficulty=1), T0)
    st = {s.skill: s for s in skill_statuses(db)}
    assert set(st) == {"backprop-d1", "backprop-d2"}
    assert (st["backprop-d2"].attempts, st["backprop-d2"].correct) == (2, 1)
    rows = db.conn.execute("SELECT skills, correct, score, seed FROM drill_attempts ORDER BY id").fetchall()
    assert [tuple(r) for r in rows][0] == (" fan-out sigmoid ", 1, 1.0, 1)
    # every attempt is also a review of its skill card
    assert db.conn.execute("SELECT COUNT(*) FROM revlog").fetchone()[0] == 3
