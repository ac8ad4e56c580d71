"""Progress over time: week by week, predicted recall and true retention per topic, drill
first-try accuracy per skill, and the score of each mock round.

Weeks are the last WEEKS runs of 7 study days, the last one ending today (so the last week
is the report's 7-day retention window). A topic is a card tag (a card counts under each of
its tags, and its deck's). Pure apart from reading the store; handed `now`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from quizforge.reports.days import day_sums
from quizforge.reports.retention import Tally
from quizforge.reports.scope import Calendar, DayGrid, Scope
from quizforge.store.db import Database

WEEKS = 12
MOCK_POINTS = 24  # the last this many mock rounds

DEFINITIONS = {
    "weeks": f"the last {WEEKS} runs of 7 study days, oldest first; the last one ends today",
    "predicted_recall": "mean FSRS predicted recall at the moment of each scheduled answer "
    "given that week a day or more after the card's previous one (as in calibration: "
    "replayed with the parameters in use now; cram and drill answers left out); null in a "
    "week with no such answer",
    "true_retention": "as retention: the first scheduled answer of the day of cards in review "
    "state, passed when Hard, Good or Easy; counted per week",
    "topics": "a card's tags (its own and its deck's); a card counts under each; 'all' is "
    "every card in scope",
    "skill_first_try": "drill attempts per week that exercised the skill; correct = right at "
    "the first graded answer with no hint and no reveal (as skill_accuracy)",
    "mock": f"the last {MOCK_POINTS} mock rounds with answers, oldest first, and each round's "
    "score (see mock_rounds.definition)",
}


@dataclass(frozen=True)
class TopicTrend:
    name: str
    predicted_n: tuple[int, ...]  # answers with a prediction, per week
    predicted_sum: tuple[float, ...]
    retention: tuple[Tally, ...]  # per week

    @property
    def predicted(self) -> tuple[float | None, ...]:
        return tuple(s / n if n else None for n, s in zip(self.predicted_n, self.predicted_sum,
                                                          strict=True))

    @property
    def answers(self) -> int:
        return sum(self.predicted_n) + sum(t.reviews for t in self.retention)


@dataclass(frozen=True)
class SkillTrend:
    skill: str
    weeks: tuple[Tally, ...]  # attempts (reviews) and first-try correct (passed)


@dataclass(frozen=True)
class MockPoint:
    round: int
    started_at: datetime | None
    score: float


@dataclass(frozen=True)
class Trends:
    weeks: tuple[date, ...]  # first study day of each week
    total: TopicTrend
    topics: tuple[TopicTrend, ...]  # by name
    skills: tuple[SkillTrend, ...]  # by name
    mock: tuple[MockPoint, ...]  # oldest first

    def to_dict(self) -> dict:
        def rate(x):
            return None if x is None else round(x, 4)

        def topic(t: TopicTrend) -> dict:
            return {
                "predicted_recall": [rate(p) for p in t.predicted],
                "predicted_answers": list(t.predicted_n),
                "true_retention": [{"reviews": x.reviews, "passed": x.passed,
                                    "rate": rate(x.rate)} for x in t.retention],
            }

        return {
            "definitions": dict(DEFINITIONS),
            "weeks": [{"start": w.isoformat(), "end": (w + timedelta(days=6)).isoformat()}
                      for w in self.weeks],
            "total": topic(self.total),
            "topics": [{"topic": t.name, **topic(t)} for t in self.topics],
            "skills": [{"skill": s.skill, "weeks": [
                {"attempts": x.reviews, "correct": x.passed, "rate": rate(x.rate)}
                for x in s.weeks]} for s in self.skills],
            "mock": [{"round": m.round, "started_at": None if m.started_at is None else
                      m.started_at.isoformat().replace("+00:00", "Z"), "score": rate(m.score)}
                     for m in self.mock],
        }


def week_grid(now: datetime, cal: Calendar, weeks: int = WEEKS) -> DayGrid:
    """`weeks` runs of 7 study days, the last ending with today (a DayGrid of weeks)."""
    today = cal.day_of(now)
    first = today - timedelta(days=7 * weeks - 1)
    return DayGrid(first, [cal.start_ms(first + timedelta(days=7 * k)) for k in range(weeks + 1)])


def trends(db: Database, now: datetime, cal: Calendar, scope: Scope,
           weeks: int = WEEKS) -> Trends:
    """Every trend at `now`. The predictions are read from recall_predictions: run
    quizforge.reports.calibration.refresh first (build_report does)."""
    grid = week_grid(now, cal, weeks)
    n = len(grid)
    wanted = (lambda t: t in scope.tags) if scope.tags else (lambda t: True)

    pred_n: dict[str, list[int]] = defaultdict(lambda: [0] * n)
    pred_s: dict[str, list[float]] = defaultdict(lambda: [0.0] * n)
    reviews: dict[str, list[int]] = defaultdict(lambda: [0] * n)  # true retention, as
    passed: dict[str, list[int]] = defaultdict(lambda: [0] * n)  # Tally once at the end
    # The weeks' study days as kept in the store (reports.days), summed per (week, tag list)
    # there: reading the answers is most of the time, and retention() reads the same rows.
    for i, tags, count, total, young, young_passed, mature, mature_passed in day_sums(
        db, cal.grid(grid.first, 7 * n), scope, cal, per=7
    ):
        for name in ("", *(t for t in tags.split() if wanted(t))):
            pred_n[name][i] += count
            pred_s[name][i] += total
            reviews[name][i] += young + mature
            passed[name][i] += young_passed + mature_passed

    def topic(name: str, label: str) -> TopicTrend:
        return TopicTrend(label, tuple(pred_n[name]), tuple(pred_s[name]),
                          tuple(map(Tally, reviews[name], passed[name])))

    names = sorted({*pred_n, *reviews} - {""})
    return Trends(
        tuple(grid.day(0) + timedelta(days=7 * k) for k in range(n)),
        topic("", "all"),
        tuple(topic(t, t) for t in names),
        _skills(db, grid, cal, scope),
        _mock(db),
    )


def _skills(db: Database, grid: DayGrid, cal: Calendar, scope: Scope) -> tuple[SkillTrend, ...]:
    if not scope.includes_drill:
        return ()
    by_skill: dict[str, list[Tally]] = defaultdict(lambda: [Tally()] * len(grid))
    for at, skills, correct in db.conn.execute(
        "SELECT attempted_at, skills, correct FROM drill_attempts"
        " WHERE attempted_at >= ? AND attempted_at < ?",
        (max(grid.bounds[0], scope.since_ms(cal)), grid.bounds[-1]),
    ):
        i = grid.index(at)
        if i is None:
            continue
        for skill in skills.split():
            if scope.skill_wanted(skill):
                by_skill[skill][i] = by_skill[skill][i] + Tally(1, int(bool(correct)))
    return tuple(SkillTrend(s, tuple(w)) for s, w in sorted(by_skill.items()))


def _mock(db: Database) -> tuple[MockPoint, ...]:
    from quizforge.study.mock import history

    return tuple(MockPoint(r.id, r.started_at, r.score) for r in history(db, MOCK_POINTS)
                 if r.score is not None)

