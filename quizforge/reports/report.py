"""The whole progress report: every section computed for one `now`, and its JSON form."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from quizforge.reports.activity import DayCount, Heatmap, heatmap
from quizforge.reports.calibration import Calibration, calibration_in_store, refresh
from quizforge.reports.forecast import forecast
from quizforge.reports.interview import DEFINITION as INTERVIEW_DEFINITION
from quizforge.reports.interview import InterviewOutlook, Outlook, interview_outlook
from quizforge.reports.mastery import MATURE_DAYS, Mastery, MasteryTable, mastery
from quizforge.reports.recall import RecallCurve
from quizforge.reports.retention import RetentionWindow, Tally, retention
from quizforge.reports.scope import Calendar, Scope, with_card_set
from quizforge.reports.skills import DRILL_COMMAND, RECENT, Skills, skills
from quizforge.reports.today import Today, today
from quizforge.reports.trends import Trends, any_mock_answer, trends
from quizforge.reports.weak import LIMIT, WeakCard, WeakSpots, study_command, weak_spots
from quizforge.scheduling.interview import FINAL_DAYS
from quizforge.scheduling.scheduler import Scheduler
from quizforge.store.db import Database

SCHEMA = 1
AHEAD_ADVICE = 50
MOCK_ROUNDS = 5  # the report's "Mock rounds" section: the last five  # at most this many cards pulled forward by the advice's command

DEFINITIONS = {
    "interval": "due - last_review: the interval the scheduler gave at the card's last answer",
    "young": f"in review state with an interval under {MATURE_DAYS} days",
    "mature": f"in review state with an interval of {MATURE_DAYS} days or more",
    "recall": "mean FSRS probability of recall now, over the cards answered at least once",
    "mastered": "mature and recall now >= desired retention; mastered_rate = mastered / cards "
    "(all the topic's cards in their deck files, new and suspended ones included). A "
    "long-term measure: a card needs a 21-day interval, which a few weeks of study cannot "
    "give; readiness for an interview date is interview.total.ready",
    "true_retention": "first scheduled answer of the day of cards in review state "
    "(state_before 2, cram left out) that was Hard/Good/Easy; young/mature by the days "
    f"since the previous review (under / at least {MATURE_DAYS})",
    "streak": "consecutive study days with at least one answer (cram included), ending "
    "today or yesterday; a study day starts at day_starts_at local time",
    "skill_accuracy": "first-try accuracy: correct / attempts, where an attempt is correct "
    "only when its first graded answer was right with no hint and no reveal (solved after a "
    "retry or a hint, or revealed, is not correct); attempts stored before quizforge counted "
    "tries are correct when solved without a reveal",
    "calibration": "answers given a day or more after the card's previous one (cram and "
    "drill answers left out), binned by FSRS's predicted recall at that moment (replayed "
    "with the parameters in use now); actual: the share answered Hard, Good or Easy; "
    "rmse: the gap between the two over the bins, weighted by answers",
    "skill_trend": f"first-try accuracy of the last {RECENT} attempts vs the {RECENT} before: "
    "up/down when it moved by 10 points or more, else flat; null with no earlier attempts",
}


@dataclass(frozen=True)
class Advice:
    text: str
    command: str | None = None


@dataclass
class Report:
    now: datetime
    scope: Scope
    desired_retention: float
    new_per_day: int
    day_starts_at: int
    empty: bool
    today: Today
    mastery: MasteryTable
    retention: list[RetentionWindow]
    forecast: list[DayCount]
    activity: Heatmap
    skills: Skills
    weak: WeakSpots
    calibration: Calibration
    fitted_parameters: bool  # config.toml holds parameters from `quizforge optimize`
    deck_titles: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per section
    interview: InterviewOutlook | None = None  # with an interview date in the settings
    mock_rounds: list = field(default_factory=list)  # the last MOCK_ROUNDS mock rounds (RoundResult)
    plan: object = None  # scheduling.plan.Plan (counts only) with an interview date
    trends: Trends | None = None  # week by week (quizforge.reports.trends)

    @property
    def advice(self) -> list[Advice]:
        return advice(self)

    def to_dict(self) -> dict:
        return report_dict(self)


def build_report(
    db: Database,
    now: datetime,
    scheduler: Scheduler,
    scope: Scope | None = None,
    cal: Calendar | None = None,
    deck_titles: dict[str, str] | None = None,
) -> Report:
    """Every figure of the report at `now`. Pure apart from reading the store."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cfg = scheduler.config
    scope = with_card_set(db, scope or Scope())
    cal = cal or Calendar(cfg.day_starts_at)
    timings: dict[str, float] = {}

    def timed(name, fn, *args):
        t = time.perf_counter()
        result = fn(*args)
        timings[name] = time.perf_counter() - t
        return result

    curve = RecallCurve.of(scheduler)
    # First: bringing the predictions up to date drops the kept study days they count in,
    # which retention, the calendar and trends then count again once, not twice.
    calibration = timed("calibration", _calibration, db, scope, cal, scheduler)
    outlook = None
    if cfg.interview is not None:
        outlook = timed(
            "interview",
            interview_outlook,
            db,
            now,
            cfg.interview,
            cal,
            scope,
            curve,
            cfg.desired_retention,
        )
    table = timed("mastery", mastery, db, now, scope, curve, cfg.desired_retention)
    return Report(
        now=now,
        scope=scope,
        desired_retention=cfg.desired_retention,
        new_per_day=cfg.new_per_day,
        day_starts_at=cal.starts_at,
        empty=timed("empty", _nothing_studied, db, scope),
        today=timed("today", today, db, now, cal, scope, cfg),
        mastery=table,
        retention=timed("retention", retention, db, now, cal, scope),
        forecast=timed("forecast", forecast, db, now, cal, scope),
        activity=timed("activity", heatmap, db, now, cal, scope),
        skills=timed("skills", skills, db, now, cal, scope, scheduler),
        weak=timed("weak_spots", weak_spots, db, now, cal, scope, scheduler, LIMIT, table),
        calibration=calibration,
        fitted_parameters=bool(cfg.parameters),
        deck_titles=dict(deck_titles or {}),
        timings=timings,
        interview=outlook,
        mock_rounds=timed("mock_rounds", _mock_rounds, db),
        plan=timed("plan", _plan, db, cfg, now, scope) if outlook is not None else None,
        trends=timed("trends", trends, db, now, cal, scope),
    )


def _plan(db: Database, cfg, now: datetime, scope: Scope):
    from quizforge.reports.plan import plan_counts

    return plan_counts(db, cfg, now, scope.decks)


def _mock_rounds(db: Database) -> list:
    if not any_mock_answer(db):  # most stores: the mock module is not even imported
        return []
    from quizforge.study.mock import history

    return history(db, MOCK_ROUNDS)


def _calibration(db: Database, scope: Scope, cal: Calendar, scheduler: Scheduler) -> Calibration:
    refresh(db, scheduler.parameters)
    return calibration_in_store(db, scope, cal)


def _nothing_studied(db: Database, scope: Scope) -> bool:
    """No answer and no drill attempt in scope, ever (--since aside)."""
    if scope.decks or scope.tags:  # the scope's cards, until one has an answer (an index
        # look-up each), not the log's rows until one is of the scope's cards
        f, args = scope.cards_sql("c.")
        answered = db.conn.execute(
            f"SELECT 1 FROM cards c WHERE 1{f}"
            " AND EXISTS (SELECT 1 FROM revlog r WHERE r.card = c.id) LIMIT 1", args).fetchone()
    else:
        answered = db.conn.execute("SELECT 1 FROM revlog LIMIT 1").fetchone()
    if answered:
        return False
    if scope.includes_drill:
        return db.conn.execute("SELECT 1 FROM drill_attempts LIMIT 1").fetchone() is None
    return True


# -- what to do today -----------------------------------------------------------------------
def advice(r: Report) -> list[Advice]:
    """A short to-do list for today, from the figures."""
    study = study_command(r.scope.decks, r.scope.tags)
    if r.empty:
        return [
            Advice("Start with today's flashcards", study),
            Advice("Practise gradients by hand", DRILL_COMMAND),
        ]
    out = []
    t = r.today
    if t.due_now or t.new_left:
        out.append(Advice(f"Study {t.due_now:,} due and {t.new_left:,} new cards", study))
    else:
        upcoming = next((d for d in r.forecast if d.count), None)
        when = (
            f"next {upcoming.count} on {upcoming.date:%a %d %b}" if upcoming else "none scheduled"
        )
        out.append(Advice(f"All caught up ({when})"))
    o = r.interview
    if o is not None and 0 <= o.days_left <= FINAL_DAYS and o.total.below:
        n = min(o.total.below, AHEAD_ADVICE)
        when = {0: "today", 1: "tomorrow"}.get(o.days_left, f"in {o.days_left} days")
        out.append(
            Advice(
                f"Interview {when}: {o.total.below:,}"
                f" studied cards will be below {r.desired_retention:.0%}; review the weakest early",
                f"{study} --ahead {n}",
            )
        )
    due = [lv for lv in r.skills.levels if lv.id in r.skills.due]
    if due:
        out.append(Advice(f"Drill {due[0].id}, due for review", due[0].command))
    if r.skills.weakest:
        weakest = next(s for s in r.skills.skills if s.skill == r.skills.weakest[0])
        out.append(
            Advice(
                f"Practise your weakest drill skill: {weakest.skill}"
                f" ({weakest.recent.passed}/{weakest.recent.reviews} right first try lately)",
                weakest.command,
            )
        )
    slipping = [
        m for m in r.mastery.tags if m.recall is not None and m.recall < r.desired_retention
    ]
    if slipping:
        worst = min(slipping, key=lambda m: (m.recall, m.name))
        out.append(
            Advice(
                f"Shore up {worst.name} (recall {worst.recall:.0%})",
                study_command(r.scope.decks, [worst.name], cram=True),
            )
        )
    return out


# -- JSON -----------------------------------------------------------------------------------
def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _rate(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _mastery(m: Mastery) -> dict:
    return {
        "cards": m.cards,
        "new": m.new,
        "learning": m.learning,
        "young": m.young,
        "mature": m.mature,
        "suspended": m.suspended,
        "leeches": m.leeches,
        "reviewed": m.reviewed,
        "recall": _rate(m.recall),
        "mastered": m.mastered,
        "mastered_rate": _rate(m.mastered_rate),
    }


def _tally(t: Tally) -> dict:
    return {"reviews": t.reviews, "passed": t.passed, "rate": _rate(t.rate)}


def _attempts(t: Tally) -> dict:
    return {"attempts": t.reviews, "correct": t.passed, "rate": _rate(t.rate)}


def _card(c: WeakCard) -> dict:
    return {
        "deck": c.deck_id,
        "card": c.card_id,
        "kind": c.kind,
        "tags": list(c.tags),
        "lapses": c.lapses,
        "recall": _rate(c.recall),
        "misses": c.misses,
        "answers": c.answers,
        "command": c.command,
    }


def _outlook(o: Outlook) -> dict:
    return {"reviewed": o.reviewed, "recall": _rate(o.recall), "ready": _rate(o.ready),
            "below": o.below, "new": o.new}


def _interview(r: Report) -> dict | None:
    o = r.interview
    if o is None:
        return None
    return {
        "date": o.date.isoformat(),
        "days_left": o.days_left,
        "passed": o.passed,
        "recall_at": _iso(o.moment),
        "desired_retention": r.desired_retention,
        "definition": INTERVIEW_DEFINITION,
        "total": None if o.passed else _outlook(o.total),
        "decks": [
            {"deck": d.name, "title": r.deck_titles.get(d.name, d.name), **_outlook(d)}
            for d in o.decks
        ],
        "tags": [{"tag": t.name, **_outlook(t)} for t in o.tags],
        "plan": r.plan.to_dict() if r.plan is not None else None,
    }


def report_dict(r: Report) -> dict:
    t = r.today
    return {
        "schema": SCHEMA,
        "generated_at": _iso(r.now),
        "empty": r.empty,
        "filters": {
            "decks": list(r.scope.decks),
            "tags": list(r.scope.tags),
            "since": r.scope.since.isoformat() if r.scope.since else None,
        },
        "settings": {
            "desired_retention": r.desired_retention,
            "new_per_day": r.new_per_day,
            "day_starts_at": r.day_starts_at,
        },
        "today": {
            "date": t.date.isoformat(),
            "reviews": t.reviews,
            "correct": t.correct,
            "correct_rate": _rate(t.correct_rate),
            "seconds": round(t.seconds, 1),
            "due_now": t.due_now,
            "new_introduced": t.new_introduced,
            "new_left": t.new_left,
            "streak_days": t.streak_days,
        },
        "mastery": {
            "definitions": {
                k: DEFINITIONS[k] for k in ("interval", "young", "mature", "recall", "mastered")
            },
            "total": _mastery(r.mastery.total),
            "decks": [
                {"deck": m.name, "title": r.deck_titles.get(m.name, m.name), **_mastery(m)}
                for m in r.mastery.decks
            ],
            "tags": [{"tag": m.name, **_mastery(m)} for m in r.mastery.tags],
        },
        "retention": {
            "desired": r.desired_retention,
            "definition": DEFINITIONS["true_retention"],
            "windows": [
                {
                    "days": w.days,
                    "young": _tally(w.young),
                    "mature": _tally(w.mature),
                    "all": _tally(w.all),
                }
                for w in r.retention
            ],
        },
        "interview": _interview(r),
        "forecast": {
            "interview_date": r.interview.date.isoformat() if r.interview else None,
            "total": sum(d.count for d in r.forecast),
            "days": [{"date": d.date.isoformat(), "due": d.count} for d in r.forecast],
        },
        "activity": {
            "start": r.activity.start.isoformat(),
            "end": r.activity.today.isoformat(),
            "total": r.activity.total,
            "active_days": r.activity.active_days,
            "busiest": r.activity.busiest,
            "streak_definition": DEFINITIONS["streak"],
            "days": [{"date": d.date.isoformat(), "reviews": d.count} for d in r.activity.days],
        },
        "skills": {
            "accuracy_definition": DEFINITIONS["skill_accuracy"],
            "trend_definition": DEFINITIONS["skill_trend"],
            "skills": [
                {
                    "skill": s.skill,
                    "attempts": s.attempts,
                    "correct": s.correct,
                    "accuracy": _rate(s.correct / s.attempts if s.attempts else None),
                    "recent": _attempts(s.recent),
                    "previous": _attempts(s.previous),
                    "trend": s.trend,
                    "last_attempt": _iso(s.last_attempt),
                    "command": s.command,
                }
                for s in r.skills.skills
            ],
            "levels": [
                {
                    "level": lv.id,
                    "attempts": lv.attempts,
                    "correct": lv.correct,
                    "state": lv.state.name.lower(),
                    "due": _iso(lv.due),
                    "is_due": lv.is_due(r.now),
                    "recall": _rate(lv.recall),
                    "command": lv.command,
                }
                for lv in r.skills.levels
            ],
            "due": list(r.skills.due),
            "weakest": list(r.skills.weakest),
        },
        "weak_spots": {
            "leech_count": r.weak.leech_count,
            "leeches": [_card(c) for c in r.weak.leeches],
            "lowest_recall": [_card(c) for c in r.weak.lowest_recall],
            "most_missed_mcq": [_card(c) for c in r.weak.most_missed_mcq],
        },
        "calibration": {
            "definition": DEFINITIONS["calibration"],
            "fitted_parameters": r.fitted_parameters,
            **r.calibration.to_dict(),
        },
        "advice": [{"text": a.text, "command": a.command} for a in r.advice],
        "mock_rounds": _mock_dict(r),
        "trends": r.trends.to_dict() if r.trends is not None else None,
    }


def _mock_dict(r: Report) -> dict:
    from quizforge.study.mock import SCORE_DEFINITION

    return {
        "definition": SCORE_DEFINITION,
        "rounds": [
            {"round": m.id, "started_at": _iso(m.started_at), "minutes": m.minutes,
             "planned": m.planned, "answered": len(m.answers), "ended": m.ended,
             "score": _rate(m.score), "seconds": round(m.seconds, 1)}
            for m in r.mock_rounds
        ],
    }
