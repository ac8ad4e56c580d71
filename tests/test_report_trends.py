"""The report's trends: weekly figures against hand-counted stores and against the report's
own 7-day retention window; the terminal sparklines, the JSON key and the HTML plots."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta

import pytest
from helpers import T0, make_deck
from typer.testing import CliRunner

from quizforge.reports import Calendar, Scope, build_report
from quizforge.reports.retention import retention
from quizforge.reports.trends import WEEKS, trends, week_grid
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Rating, ReviewRecord, Scheduler, State
from quizforge.store import cards as store
from quizforge.store import rounds
from quizforge.study.mastery import record_drill_attempt
from quizforge.ui.trend_svg import trends_html
from quizforge.ui.trends import spark

NOW = T0  # Monday 2 March 2026, 12:00 UTC
CAL = Calendar(4, UTC)
SCHED = Scheduler(Config(fuzz=False))
DAY = timedelta(days=1)


def at(day_offset: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, 2, hour, tzinfo=UTC) + day_offset * DAY


def tagged_store(db) -> dict[str, int]:
    deck = make_deck("d", n_flash=3, card_tags={"c0": ("alpha",), "c1": ("beta",),
                                                 "c2": ("alpha", "beta")})
    store.sync_decks(db, [deck], NOW - 400 * DAY)
    return dict(db.conn.execute("SELECT card_id, id FROM cards").fetchall())


def answer(db, rowid, when, rating=3, before=2, elapsed=5.0, cram=False, predicted=None) -> int:
    rec = ReviewRecord(when, Rating(rating), 1000, State(before), 1.0, elapsed, False, False)
    with db.atomic() as conn:
        rid = store.insert_review(conn, rowid, rec, cram=cram)
        if predicted is not None:
            conn.execute("INSERT INTO recall_predictions (id, recalled, predicted) VALUES (?,?,?)",
                         (rid, int(rating > 1), predicted))
    return rid


def test_weeks_end_today_and_follow_the_day_start():
    grid = week_grid(NOW, CAL)
    assert len(grid) == WEEKS
    assert grid.day(0) == datetime(2026, 3, 2).date() - timedelta(days=7 * WEEKS - 1)
    # the last week is the 7 study days ending today, each starting at 04:00
    assert grid.bounds[-1] == int(datetime(2026, 3, 3, 4, tzinfo=UTC).timestamp() * 1000)
    assert grid.bounds[-2] == int(datetime(2026, 2, 24, 4, tzinfo=UTC).timestamp() * 1000)


def test_topics_by_week_counted_by_hand(db):
    ids = tagged_store(db)
    c0, c1, c2 = ids["c0"], ids["c1"], ids["c2"]
    # the last week (days -6..0)
    answer(db, c0, at(-1), 3, predicted=0.9)
    answer(db, c0, at(-1, 13), 1, elapsed=0.04)  # same day, not first; no prediction
    answer(db, c1, at(-3), 2, predicted=0.8)
    answer(db, c2, at(0, 5), 1, predicted=0.6)  # 05:00 today: after the 04:00 day start
    answer(db, c1, at(-2), 1, cram=True)  # cram: left out of both
    answer(db, c2, at(-4), 3, before=1, elapsed=None)  # learning step: not retention
    # the week before (days -13..-7); 03:00 on day -6 belongs to day -7
    answer(db, c0, at(-8), 1, predicted=0.7)
    answer(db, c2, at(-6, 3), 3, predicted=0.95)
    t = trends(db, NOW, CAL, Scope())
    assert [x.name for x in t.topics] == ["alpha", "beta"]
    alpha, beta = t.topics

    def kept(topic, week):
        x = topic.retention[week]
        return (x.passed, x.reviews)

    assert kept(t.total, -1) == (2, 3) and kept(t.total, -2) == (1, 2)
    assert kept(alpha, -1) == (1, 2) and kept(alpha, -2) == (1, 2)  # c0, c2
    assert kept(beta, -1) == (1, 2) and kept(beta, -2) == (1, 1)  # c1, c2
    assert t.total.predicted[-1] == pytest.approx((0.9 + 0.8 + 0.6) / 3)
    assert t.total.predicted[-2] == pytest.approx((0.7 + 0.95) / 2)
    assert alpha.predicted[-1] == pytest.approx((0.9 + 0.6) / 2)
    assert beta.predicted[-2] == pytest.approx(0.95)
    assert t.total.predicted[:-2] == (None,) * (WEEKS - 2)
    assert all(x.reviews == 0 for x in t.total.retention[:-2])
    # --tag keeps the tag asked for; --deck another deck leaves nothing
    only = trends(db, NOW, CAL, Scope(tags=("beta",)))
    assert [x.name for x in only.topics] == ["beta"] and kept(only.total, -1) == (1, 2)
    assert trends(db, NOW, CAL, Scope(decks=("zzz",))).total.answers == 0


def test_last_week_is_the_reports_7_day_retention(db):
    ids = list(tagged_store(db).values())
    rng = __import__("random").Random(7)
    for day in range(-40, 1):
        for rowid in ids:
            for k in range(rng.randint(0, 2)):
                answer(db, rowid, at(day, 5 + 6 * k + rng.randint(0, 4)), rng.choice([1, 2, 3, 4]),
                       before=rng.choice([1, 2, 2, 2, 3]), elapsed=rng.choice([1.0, 3.0, 30.0]),
                       cram=rng.random() < 0.1)
    t = trends(db, NOW, CAL, Scope())
    w7, _ = retention(db, NOW, CAL, Scope())
    assert (t.total.retention[-1].passed, t.total.retention[-1].reviews) == (
        w7.all.passed, w7.all.reviews)
    assert w7.all.reviews > 5


def test_skills_by_week_and_mock_scores(db):
    def attempt(when, skills_, correct):
        return store.Attempt(when, "backprop", 1, "number", 1, skills_, correct, float(correct),
                             5000)

    for when, skills_, correct in [(at(-1), ("chain-rule", "sigmoid"), True),
                                   (at(-2), ("chain-rule",), False),
                                   (at(-9), ("chain-rule",), True),
                                   (at(-200), ("chain-rule",), False)]:  # before the 12 weeks
        record_drill_attempt(db, SCHED, attempt(when, skills_, correct), when)
    tagged_store(db)
    card = db.conn.execute("SELECT id FROM cards LIMIT 1").fetchone()[0]
    for day, scores in ((-10, (1.0, 0.0)), (-3, (1.0, 0.5)), (-2, ())):
        rid = rounds.start_round(db, at(day), 10, 2, 1)
        with db.atomic() as conn:
            for pos, score in enumerate(scores, 1):
                rounds.insert_answer(conn, rid, pos, card, "flashcard", (), (), score, 3,
                                     at(day), 1000, None)
    t = trends(db, NOW, CAL, Scope())
    by = {s.skill: s.weeks for s in t.skills}
    assert sorted(by) == ["chain-rule", "sigmoid"]
    assert (by["chain-rule"][-1].passed, by["chain-rule"][-1].reviews) == (1, 2)
    assert (by["chain-rule"][-2].passed, by["chain-rule"][-2].reviews) == (1, 1)
    assert sum(w.reviews for w in by["chain-rule"]) == 3
    assert [(m.round, m.score) for m in t.mock] == [(1, 0.5), (2, 0.75)]  # round 3: no answers
    assert trends(db, NOW, CAL, Scope(decks=("d",))).skills == ()  # drill not in scope


def test_report_json_has_trends_and_keeps_its_other_keys(db):
    tagged_store(db)
    d = json.loads(json.dumps(build_report(db, NOW, SCHED, cal=CAL).to_dict()))
    assert list(d)[-1] == "trends"
    tr = d["trends"]
    assert set(tr) == {"definitions", "weeks", "total", "topics", "skills", "mock"}
    assert len(tr["weeks"]) == WEEKS and tr["weeks"][-1] == {"start": "2026-02-24",
                                                            "end": "2026-03-02"}
    assert set(tr["total"]) == {"predicted_recall", "predicted_answers", "true_retention"}


def test_report_refreshes_predictions_before_the_trends(db):
    ids = tagged_store(db)
    s = SCHED
    for rowid in ids.values():  # real answers through the scheduler: FSRS predicts the 2nd
        sched = store.get_card(db, rowid).schedule
        for day in (-20, -10, -2):
            sched, rec = s.review(sched, Rating.GOOD, at(day), 1000)
            with db.atomic() as conn:
                store.write_schedule(conn, rowid, sched)
                store.insert_review(conn, rowid, rec)
    r = build_report(db, NOW, s, cal=CAL)
    week = [w for w in range(WEEKS) if r.trends.total.predicted_n[w]]
    assert sum(r.trends.total.predicted_n) == 2 * len(ids) and week
    assert 0 < r.trends.total.predicted[-1] <= 1


def test_sparkline_glyphs():
    assert spark([0.0, 0.5, 1.0, None, 2.0, -1.0]).plain == "▁▅█·█▁"
    assert spark([0.5, 0.75, 1.0], lo=0.5).plain == "▁▅█"


# -- the CLI: terminal and HTML ------------------------------------------------------------
runner = CliRunner()


@pytest.fixture
def studied(monkeypatch, tmp_path):
    """Three weeks of study in the user's store, with drill attempts."""
    from quizforge.paths import db_path
    from quizforge.store.db import Database
    from quizforge.study.session import Session, StudyOptions

    decks = [make_deck("backprop", n_flash=8, card_tags={"c0": ("softmax-ce",)})]
    with Database(db_path()) as db:
        for day in range(21):
            now = T0 + timedelta(days=day)
            s = Session(db, decks, SCHED, StudyOptions(), now)
            i = 0
            while (nxt := s.next(now)) is not None:
                s.answer(nxt[0], Rating.AGAIN if (i + day) % 4 == 0 else Rating.GOOD, now, 4000)
                now += timedelta(minutes=2)
                i += 1
            a = store.Attempt(now, "backprop", 1, "number", day, ("chain-rule",), day % 3 > 0,
                              1.0, 30000)
            record_drill_attempt(db, SCHED, a, now)
    monkeypatch.setenv("QUIZFORGE_NOW", (T0 + timedelta(days=21)).isoformat())
    monkeypatch.setenv("TZ", "UTC")


def test_report_shows_sparklines_and_writes_svg_plots(studied, tmp_path):
    from quizforge.cli import app

    page = tmp_path / "r.html"
    r = runner.invoke(app, ["report", "--html", str(page)])
    assert r.exit_code == 0, r.output
    assert r.stdout == f"Wrote {page}\n"  # the report went to the file
    r = runner.invoke(app, ["report"])
    text = r.stdout[r.stdout.index("Trends"):]
    assert "predicted recall" in text and "true retention" in text
    assert re.search(r"all +·+[▁▂▃▄▅▆▇█]+ +\d+% +(?:[+−]\d+ +)?·+[▁▂▃▄▅▆▇█]+ +\d+%", text)
    assert re.search(r"chain-rule +·+[▁▂▃▄▅▆▇█]+ +\d+%", text)
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") >= 3 and "Predicted recall and true retention by topic" in html
    # self-contained: nothing fetched
    assert not re.search(r"<script|<link|@import|url\(|src=|href=", html)
    assert html.index("<section") > html.index("</pre>")  # below the text report
    d = json.loads(runner.invoke(app, ["report", "--json"]).stdout)
    assert d["trends"]["total"]["true_retention"][-1]["reviews"] > 0


def test_html_without_trends_is_unchanged():
    assert trends_html(None) == ""


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed")
def test_html_report_renders_in_headless_chromium(studied, tmp_path):
    """The page renders offline in a real browser: a screenshot with the plots' colours."""
    from quizforge.cli import app

    page = tmp_path / "r.html"
    assert runner.invoke(app, ["report", "--html", str(page)]).exit_code == 0
    shot = tmp_path / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1200,4000",
             page.as_uri()],
            capture_output=True, timeout=120, check=False)
    assert shot.exists() and shot.stat().st_size > 10_000
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
