"""Drill mastery: every graded drill problem is stored, and each skill (a generator at a
difficulty, e.g. backprop at difficulty 2) is scheduled with FSRS like a card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from quizforge.scheduling.scheduler import CardSchedule, Rating, Scheduler
from quizforge.store import cards as store
from quizforge.store.db import Database

SKILL_DECK = "drill"


def skill_id(generator: str, difficulty: int) -> str:
    return f"{generator}-d{difficulty}"


@dataclass(frozen=True)
class SkillStatus:
    skill: str
    schedule: CardSchedule
    attempts: int
    correct: int


def record_drill_attempt(
    db: Database, scheduler: Scheduler, attempt: store.Attempt, now: datetime
) -> CardSchedule:
    """Store the attempt and review its skill card (right = Good, wrong = Again), in one
    transaction. Returns the skill's new schedule."""
    with db.atomic() as conn:
        rowid = store.ensure_card(
            conn, SKILL_DECK, skill_id(attempt.generator, attempt.difficulty), "skill", now
        )
        before = store.get_card(db, rowid).schedule
        rating = Rating.GOOD if attempt.correct else Rating.AGAIN
        after, record = scheduler.review(before, rating, now, attempt.duration_ms)
        store.write_schedule(conn, rowid, after)
        store.insert_review(conn, rowid, record)
        store.insert_attempt(conn, attempt, rowid)
    return after


def attempt_record(attempt, now: datetime) -> store.Attempt:
    """The store's record of a `quizforge.ui.drill.Attempt` (a problem the user tried)."""
    p = attempt.problem
    return store.Attempt(
        attempted_at=now,
        generator=p.generator,
        difficulty=p.difficulty,
        form=p.question(attempt.question).form,
        seed=p.seed,
        skills=tuple(attempt.skills),
        correct=bool(attempt.correct),
        score=float(attempt.score),
        duration_ms=round(attempt.seconds * 1000),
    )


def skill_statuses(db: Database) -> list[SkillStatus]:
    rows = db.conn.execute(
        "SELECT c.id, c.card_id, COUNT(a.id) AS n, COALESCE(SUM(a.correct), 0) AS ok"
        " FROM cards c LEFT JOIN drill_attempts a ON a.card = c.id"
        " WHERE c.deck_id = ? GROUP BY c.id ORDER BY c.card_id",
        (SKILL_DECK,),
    ).fetchall()
    return [SkillStatus(r["card_id"], store.get_card(db, r["id"]).schedule, r["n"], r["ok"]) for r in rows]
