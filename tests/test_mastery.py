from dataclasses import dataclass
from datetime import timedelta

import pytest
from helpers import T0

from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Scheduler, State
from quizforge.store.cards import Attempt
from quizforge.store.db import Database
from quizforge.study.mastery import attempt_record, record_drill_attempt, skill_statuses


def attempt(correct, difficulty=2, seed=1):
    return Attempt(T0, "backprop", difficulty, "number", seed, ("fan-out", "sigmoid"), correct, float(correct), 9000)


# -- a drill attempt as the drill UI builds it, on a stub problem ----------------------------
@dataclass(frozen=True)
class StubQuestion:
    form: str
    skills: tuple[str, ...]


@dataclass(frozen=True)
class StubProblem:
    """What quizforge.drill.attempt.Attempt reads of a problem, nothing more."""

    family: str = "softmax-ce"
    difficulty: int = 1
    seed: int = 7
    forms: tuple[str, ...] = ("number", "steps")

    def question(self, i=0):
        return StubQuestion(self.forms[i], ("log-sum-exp", "one-hot"))


def drilled(solved, first_try, tries, hints=0, revealed=False, quit=False, problem=StubProblem()):
    # imported here: the drill package is being rewritten, and the store-only tests below
    # should not depend on it importing
    from quizforge.drill.attempt import Attempt

    return Attempt(problem, 0, solved, first_try, tries, hints, revealed, quit,
                   seconds=12.5, score=1.0 if solved else 0.0)


# what the user did (solved, first_try, tries, hints, revealed, quit)
# -> (correct, solved, tries, hints, revealed, rating stored, FSRS rating in the revlog)
CASES = {
    "first try": ((True, True, 1, 0, False, False), (1, 1, 1, 0, 0, "good", 3)),
    "after a retry": ((True, False, 2, 0, False, False), (0, 1, 2, 0, 0, "hard", 2)),
    "after a hint": ((True, True, 1, 1, False, False), (0, 1, 1, 1, 0, "hard", 2)),
    "retry and hints": ((True, False, 3, 2, False, False), (0, 1, 3, 2, 0, "hard", 2)),
    "revealed after a miss": ((False, False, 1, 0, True, False), (0, 0, 1, 0, 1, "again", 1)),
    "revealed unanswered": ((False, False, 0, 0, True, False), (0, 0, 0, 0, 1, "again", 1)),
    "wrong, then quit": ((False, False, 1, 0, False, True), (0, 0, 1, 0, 0, "again", 1)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_drill_attempt_is_stored_and_rated_honestly(case):
    went, expected = CASES[case]
    a = drilled(*went)
    db = Database(":memory:")
    assert a.attempted
    record_drill_attempt(db, Scheduler(Config(fuzz=False)), attempt_record(a, T0), T0)
    row = db.conn.execute(
        "SELECT a.correct, a.solved, a.tries, a.hints, a.revealed, a.rating, v.rating"
        " FROM drill_attempts a JOIN revlog v ON v.card = a.card"
    ).fetchone()
    assert tuple(row) == expected
    stored = db.conn.execute(
        "SELECT generator, difficulty, form, seed, skills, duration_ms FROM drill_attempts"
    ).fetchone()
    assert tuple(stored) == ("softmax-ce", 1, "number", 7, " log-sum-exp one-hot ", 12500)
    [skill] = skill_statuses(db)
    assert (skill.skill, skill.attempts, skill.correct) == ("softmax-ce-d1", 1, expected[0])


def test_quit_before_answering_is_not_an_attempt_and_stores_nothing():
    db = Database(":memory:")
    a = drilled(False, False, 0, hints=1, quit=True)  # read a hint, then quit
    assert not a.attempted
    with pytest.raises(ValueError, match="not an attempt"):
        attempt_record(a, T0)
    assert db.conn.execute("SELECT COUNT(*) FROM drill_attempts").fetchone()[0] == 0


def test_hard_schedules_between_again_and_good():
    # from a new card, FSRS's default learning steps: Again 1m, Hard 5.5m (the mean of the
    # first two steps), Good 10m
    dues = {}
    for case in ("revealed after a miss", "after a retry", "first try"):
        db = Database(":memory:")
        a = drilled(*CASES[case][0])
        s = record_drill_attempt(db, Scheduler(Config(fuzz=False)), attempt_record(a, T0), T0)
        dues[case] = s.due - T0
    assert dues == {
        "revealed after a miss": timedelta(minutes=1),
        "after a retry": timedelta(minutes=5, seconds=30),
        "first try": timedelta(minutes=10),
    }


def test_record_from_the_steps_form_keeps_its_form_and_partial_score():
    from quizforge.drill.attempt import Attempt

    a = Attempt(StubProblem(difficulty=3), 1, False, False, 4, 0, False, False, 30.0, 0.75)
    r = attempt_record(a, T0)
    assert (r.generator, r.difficulty, r.form, r.score, r.correct, r.rating) == (
        "softmax-ce", 3, "steps", 0.75, False, "again"
    )


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
    assert next(tuple(r) for r in rows) == (" fan-out sigmoid ", 1, 1.0, 1)
    # every attempt is also a review of its skill card
    assert db.conn.execute("SELECT COUNT(*) FROM revlog").fetchone()[0] == 3


def test_drill_command_records_each_attempt_and_schedules_the_skill(monkeypatch):
    from typer.testing import CliRunner

    from quizforge.cli import app
    from quizforge.drill import generate
    from quizforge.store import open_store

    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-02T12:00:00Z")
    right = f"{generate('backprop', 5, 2).expected_value(0):.4g}"
    r = CliRunner().invoke(app, ["drill", "backprop", "-d", "2", "--seed", "5", "-n", "2", "-q", "0"],
                           input=f"{right}\n12345\n?\nr\n")
    assert r.exit_code == 0, r.output
    with open_store() as db:
        rows = db.conn.execute("SELECT seed, difficulty, correct, form, rating FROM drill_attempts ORDER BY id")
        assert [tuple(x) for x in rows] == [(5, 2, 1, "number", "good"), (6, 2, 0, "number", "again")]
        [skill] = skill_statuses(db)
        assert (skill.skill, skill.attempts, skill.correct) == ("backprop-d2", 2, 1)
        assert skill.schedule.reps == 2 and skill.schedule.state == State.LEARNING


def test_generated_card_in_study_is_graded_and_stored(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from quizforge.cli import app
    from quizforge.store import open_store

    d = tmp_path / "decks"
    d.mkdir()
    (d / "g.yaml").write_text(
        "deck: gen\nname: Gen\ncards:\n  - id: g1\n    type: generated\n    generator: backprop\n"
    )
    monkeypatch.setenv("QUIZFORGE_DECKS", str(d))
    r = CliRunner().invoke(app, ["study", "--deck", "gen", "--limit", "1"], input="999999\n?\nr\nq\n")
    assert r.exit_code == 0, r.output
    assert "1 answer over 1 card · 0% correct" in r.stdout
    with open_store() as db:
        row = db.conn.execute(
            "SELECT c.card_id, v.rating, a.correct, a.generator, a.revealed FROM revlog v"
            " JOIN cards c ON c.id = v.card"
            " JOIN drill_attempts a ON a.card = c.id"
        ).fetchone()
        assert tuple(row) == ("g1", 1, 0, "backprop", 1)
