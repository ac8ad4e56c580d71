"""Drill mastery: every attempted drill problem is stored, and each skill (a drill family at
a difficulty, e.g. backprop at difficulty 2) is scheduled with FSRS like a card.

The grading rule lives in `quizforge.drill.attempt.Attempt`: correct only at the first
graded answer with no hint and no reveal; Good then, Hard when solved after a retry or a
hint, Again when revealed or wrong. This module turns that into a stored record and a review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from quizforge.scheduling.scheduler import CardSchedule, Rating, Scheduler
from quizforge.store import cards as store
from quizforge.store.db import Database

SKILL_DECK = "drill"

# An attempt's rating, by the names quizforge.drill.attempt uses, as the scheduler's Rating.
_RATINGS = {"good": Rating.GOOD, "hard": Rating.HARD, "again": Rating.AGAIN}


def skill_id(family: str, difficulty: int) -> str:
    return f"{family}-d{difficulty}"


def fsrs_rating(name: str) -> Rating:
    """The scheduler's Rating for an attempt's rating: 'good', 'hard' or 'again'."""
    return _RATINGS[name]


@dataclass(frozen=True)
class SkillStatus:
    skill: str
    schedule: CardSchedule
    attempts: int
    correct: int  # right at the first try, unaided


def record_drill_attempt(
    db: Database, scheduler: Scheduler, attempt: store.Attempt, now: datetime
) -> CardSchedule:
    """Store the attempt and review its skill card with the attempt's rating (Good, Hard or
    Again), in one transaction. Returns the skill's new schedule."""
    with db.atomic() as conn:
        rowid = store.ensure_card(
            conn, SKILL_DECK, skill_id(attempt.generator, attempt.difficulty), "skill", now
        )
        before = store.get_card(db, rowid).schedule
        after, record = scheduler.review(
            before, fsrs_rating(attempt.rating), now, attempt.duration_ms
        )
        store.write_schedule(conn, rowid, after)
        store.insert_review(conn, rowid, record)
        store.insert_attempt(conn, attempt, rowid)
    return after


def attempt_record(attempt, now: datetime) -> store.Attempt:
    """The store's record of a `quizforge.drill.attempt.Attempt`. Only attempts are stored:
    a problem quit before any graded answer or reveal is refused."""
    if not attempt.attempted:
        raise ValueError("not an attempt: no graded answer and no reveal")
    return store.Attempt(
        attempted_at=now,
        generator=attempt.family,
        difficulty=attempt.difficulty,
        form=attempt.form,
        seed=attempt.seed,
        skills=tuple(attempt.skills),
        correct=bool(attempt.correct),
        score=float(attempt.score),
        duration_ms=round(attempt.seconds * 1000),
        solved=bool(attempt.solved),
        tries=attempt.tries,
        hints=attempt.hints,
        revealed=bool(attempt.revealed),
        rating=attempt.rating,
    )


def skill_statuses(db: Database) -> list[SkillStatus]:
    rows = db.conn.execute(
        "SELECT c.id, c.card_id, COUNT(a.id) AS n, COALESCE(SUM(a.correct), 0) AS ok"
        " FROM cards c LEFT JOIN drill_attempts a ON a.card = c.id"
        " WHERE c.deck_id = ? GROUP BY c.id ORDER BY c.card_id",
        (SKILL_DECK,),
    ).fetchall()
    return [SkillStatus(r["card_id"], store.get_card(db, r["id"]).schedule, r["n"], r["ok"]) for r in rows]
