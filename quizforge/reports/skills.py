"""Drill skills: first-try accuracy per skill (fan-out, sigmoid, ...) with a trend, and the
drill levels the scheduler says are due.

An attempt counts as correct only when its first graded answer was right with no hint and
no reveal (quizforge.drill.attempt); solved after a retry or a hint is not correct.

Two things are called skills in the store. The skills of a problem (drill_attempts.skills,
e.g. ' fan-out sigmoid ') say what it exercised: accuracy and trend are per such skill.
The drill's FSRS-scheduled cards (deck 'drill', kind 'skill') are a drill family at a
difficulty, e.g. 'backprop-d2' or 'softmax-ce-d1' (quizforge.study.mastery): those come due.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime

from quizforge.reports.retention import Tally
from quizforge.reports.scope import Calendar, Scope
from quizforge.scheduling.scheduler import Scheduler, State
from quizforge.store.db import Database, from_ms, to_ms
from quizforge.study.mastery import skill_statuses

RECENT = 10  # first-try accuracy over the last 10 attempts, compared with the 10 before
TREND_STEP = 0.1  # a change of one answer in ten or more is a trend
WEAKEST = 3
DRILL_COMMAND = "quizforge drill"  # lists the families
# a family name may itself hold hyphens (softmax-ce-d1): the level is the last -dN
_LEVEL = re.compile(r"^(?P<family>[a-z][a-z0-9_-]*)-d(?P<difficulty>\d+)$")


@dataclass(frozen=True)
class SkillStats:
    skill: str
    attempts: int  # every attempt that exercised it, in scope (--since)
    correct: int  # right at the first try, unaided
    recent: Tally  # the last RECENT attempts
    previous: Tally  # the RECENT attempts before those
    last_attempt: datetime | None
    command: str = DRILL_COMMAND  # the family and difficulty it was last practised at

    @property
    def trend(self) -> str | None:
        """'up', 'down' or 'flat' (recent vs previous first-try accuracy); None without a
        previous."""
        if not self.previous.reviews or not self.recent.reviews:
            return None
        diff = self.recent.rate - self.previous.rate
        if diff >= TREND_STEP - 1e-9:
            return "up"
        if diff <= -TREND_STEP + 1e-9:
            return "down"
        return "flat"


@dataclass(frozen=True)
class DrillLevel:
    """A drill skill card: a drill family at one difficulty, scheduled like a flashcard."""

    id: str  # e.g. 'backprop-d2'
    attempts: int  # all time
    correct: int  # right at the first try, unaided
    state: State
    due: datetime | None  # None until first drilled
    recall: float | None
    command: str

    def is_due(self, now: datetime) -> bool:
        return self.due is not None and self.due <= now


@dataclass(frozen=True)
class Skills:
    skills: list[SkillStats]  # by name
    levels: list[DrillLevel]  # by id
    due: list[str]  # level ids due now, most overdue first
    weakest: list[str]  # lowest recent first-try accuracy (below 100%), worst first


def drill_command(level_id: str) -> str:
    m = _LEVEL.match(level_id)
    if not m:
        return DRILL_COMMAND
    return family_command(m["family"], int(m["difficulty"]))


def family_command(family: str, difficulty: int) -> str:
    return shlex.join(["quizforge", "drill", family, "-d", str(difficulty)])


def skills(
    db: Database, now: datetime, cal: Calendar, scope: Scope, scheduler: Scheduler
) -> Skills:
    if not scope.includes_drill:
        return Skills([], [], [], [])
    # One row per attempt (a few thousand); fanned out to its skills (the padded ' a b '
    # list) and ranked newest first per skill here: SQLite's recursive split and window
    # over the same rows took several times as long. The newest attempt (n = 1) gives the
    # family and difficulty that exercise the skill (difficulty 1 of a family may never do).
    per_skill: dict[str, list[tuple]] = {}
    for row in db.conn.execute(
        "SELECT attempted_at, id, correct, generator, difficulty, skills FROM drill_attempts"
        " WHERE attempted_at >= ? AND attempted_at <= ?",
        (scope.since_ms(cal), to_ms(now)),
    ):
        for name in row[5].split(" "):
            if name:
                per_skill.setdefault(name, []).append(row)
    rows = []
    for name in sorted(per_skill):
        ranked = sorted(per_skill[name], key=lambda r: (r[0], r[1]), reverse=True)
        recent, previous = ranked[:RECENT], ranked[RECENT:2 * RECENT]
        rows.append((
            name, len(ranked), sum(r[2] for r in ranked),
            len(recent), sum(r[2] for r in recent),
            len(previous), sum(r[2] for r in previous),
            ranked[0][0], ranked[0][3], ranked[0][4],
        ))
    stats = [
        SkillStats(
            name, n, ok, Tally(rn, rok), Tally(pn, pok), from_ms(last), family_command(fam, d)
        )
        for name, n, ok, rn, rok, pn, pok, last, fam, d in rows
        if scope.skill_wanted(name)
    ]
    levels = [
        DrillLevel(
            s.skill,
            s.attempts,
            s.correct,
            s.schedule.state,
            s.schedule.due,
            scheduler.retrievability(s.schedule, now)
            if s.schedule.state != State.NEW and s.schedule.stability
            else None,  # never drilled, or no stability (damaged data): unknown
            drill_command(s.skill),
        )
        for s in skill_statuses(db)
        if scope.skill_wanted(s.skill)
    ]
    due = sorted((lv for lv in levels if lv.is_due(now)), key=lambda lv: lv.due)
    weak = sorted(
        (s for s in stats if s.recent.reviews and s.recent.rate < 1),
        key=lambda s: (s.recent.rate, -s.recent.reviews, s.skill),
    )
    return Skills(stats, levels, [lv.id for lv in due], [s.skill for s in weak[:WEAKEST]])
