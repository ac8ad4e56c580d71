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
    r = CliRunner().invoke(app, ["drill", "backprop", "-d", "2", "--seed", "5", "-n", "2"],
                           input=f"{right}\n12345\n?\nr\n")
    assert r.exit_code == 0, r.output
    with open_store() as db:
        rows = db.conn.execute("SELECT seed, difficulty, correct, form FROM drill_attempts ORDER BY id")
        assert [tuple(x) for x in rows] == [(5, 2, 1, "number"), (6, 2, 0, "number")]
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
    assert "1 card reviewed · 0% correct" in r.stdout
    with open_store() as db:
        row = db.conn.execute(
            "SELECT c.card_id, v.rating, a.correct, a.generator FROM revlog v JOIN cards c ON c.id = v.card"
            " JOIN drill_attempts a ON a.card = c.id"
        ).fetchone()
        assert tuple(row) == ("g1", 1, 0, "backprop")
