"""`report` with an interview date: recall on the date per deck and tag, cards below desired
retention then, new cards; the forecast marks the date. Figures checked by hand."""

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from helpers import T0, make_deck
from rich.console import Console
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.reports import Calendar, build_report
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import CardSchedule, Rating, ReviewRecord, Scheduler, State
from quizforge.store import cards as store
from quizforge.ui.report import render_report

CAL = Calendar(4, UTC)
DAY = timedelta(days=1)
INTERVIEW = date(2026, 3, 12)
MOMENT = datetime(2026, 3, 12, 4, tzinfo=UTC)  # start of the interview's study day

# FSRS-6 default decay w20 = 0.1542: R(t, S) = (1 + F·t/S)^-0.1542, F = 0.9^(1/-0.1542) - 1,
# so R = 0.9 at t = S and R = 1 at t = 0, and at t = 3S (written out, not taken from quizforge):
F = 0.9 ** (1 / -0.1542) - 1
R3 = (1 + 3 * F) ** -0.1542  # about 0.7460


def setup(db):
    """Deck a: c0 (tag x) recall 1.0 on the date, c1 (tag x) 0.9, c2 (tag y) R3, c3 new.
    Deck b: c0 (tag y) R3, c1 new (suspended: still counted), c2 removed from the deck."""
    a = make_deck("a", n_flash=4, card_tags={"c0": ("x",), "c1": ("x",), "c2": ("y",)})
    b = make_deck("b", n_flash=3, card_tags={"c0": ("y",)})
    store.sync_decks(db, [a, b], T0)
    plan = {
        ("a", "c0"): (10.0, 0),  # (stability, whole days from the last review to the date)
        ("a", "c1"): (4.0, 4),
        ("a", "c2"): (2.0, 6),
        ("b", "c0"): (5.0, 15),
        ("b", "c2"): (1.0, 30),
    }
    with db.atomic() as conn:
        for (deck, cid), (stab, t) in plan.items():
            row = store.find_card(db, deck, cid)
            last = MOMENT - t * DAY
            s = CardSchedule(State.REVIEW, None, stab, 5.0, last + 20 * DAY, last, 3)
            store.write_schedule(conn, row.rowid, s)
        conn.execute("UPDATE cards SET suspended = 1 WHERE deck_id = 'b' AND card_id = 'c1'")
        rec = ReviewRecord(T0 - DAY, Rating.GOOD, 1000, State.REVIEW, 5.0, 5.0, False, False)
        store.insert_review(conn, store.find_card(db, "a", "c0").rowid, rec)  # not an empty report
    # b/c2 leaves its deck file: its history stays, it is not counted
    store.sync_decks(db, [a, make_deck("b", n_flash=2, card_tags={"c0": ("y",)})], T0)


def report(db, interview=INTERVIEW, now=T0):
    cfg = Config(fuzz=False, interview_date=interview.isoformat() if interview else "")
    return build_report(db, now, Scheduler(cfg), cal=CAL)


def test_recall_on_the_date_by_hand(db):
    setup(db)
    o = report(db).interview
    assert (o.date, o.days_left, o.moment, o.passed) == (INTERVIEW, 10, MOMENT, False)
    decks = {d.name: d for d in o.decks}
    assert (decks["a"].reviewed, decks["a"].below, decks["a"].new) == (3, 1, 1)
    assert decks["a"].recall == pytest.approx((1.0 + 0.9 + R3) / 3, abs=1e-9)
    assert (decks["b"].reviewed, decks["b"].below, decks["b"].new) == (1, 1, 1)
    assert decks["b"].recall == pytest.approx(R3, abs=1e-9)
    tags = {t.name: t for t in o.tags}
    assert tags["x"].recall == pytest.approx(0.95, abs=1e-9) and tags["x"].below == 0
    assert tags["y"].recall == pytest.approx(R3, abs=1e-9) and tags["y"].below == 2
    assert (o.total.reviewed, o.total.below, o.total.new) == (4, 2, 2)
    assert o.total.recall == pytest.approx((1.0 + 0.9 + 2 * R3) / 4, abs=1e-9)


def test_json_and_screen(db):
    setup(db)
    r = report(db)
    d = r.to_dict()
    i = d["interview"]
    assert i["date"] == "2026-03-12" and i["days_left"] == 10 and i["passed"] is False
    assert i["recall_at"] == "2026-03-12T04:00:00Z"
    # ready: the recall sum over every card, the 2 new ones counting 0
    assert i["total"] == {"reviewed": 4, "recall": round((1.9 + 2 * R3) / 4, 4),
                          "ready": round((1.9 + 2 * R3) / 6, 4), "below": 2, "new": 2}
    assert [x["deck"] for x in i["decks"]] == ["a", "b"]
    assert i["tags"][1] == {"tag": "y", "reviewed": 2, "recall": round(R3, 4),
                            "ready": round(R3, 4), "below": 2, "new": 0}
    assert d["forecast"]["interview_date"] == "2026-03-12"
    assert not any("--ahead" in (a["command"] or "") for a in d["advice"])  # 10 days: not yet
    final = report(db, now=T0 + 5 * DAY).to_dict()["advice"]
    assert {
        "text": "Interview in 5 days: 2 studied cards will be below 90%; review the weakest early",
        "command": "quizforge study --ahead 2",
    } in final
    json.dumps(d)
    for width in (80, 40):
        buf = io.StringIO()
        Console(file=buf, width=width, color_system=None).print(render_report(r))
        text = buf.getvalue()
        assert "Interview Thu 12 Mar 2026, in 10 days" in text
        assert all(len(line) <= width for line in text.splitlines())
        lines = text.splitlines()
        marker = next(line for line in lines if line.rstrip().endswith("interview ▼"))
        axis = next(line for line in lines if "└" in line)
        # the marker sits over the date's column: 10 days after today's bar
        today_col = axis.index("└") + 1
        step = 2 if width == 80 else 1
        assert marker.rstrip().index("▼") == today_col + step * 10


def test_no_date_no_section_and_past_date(db):
    setup(db)
    r = report(db, interview=None)
    assert r.interview is None and r.to_dict()["interview"] is None
    past = report(db, interview=date(2026, 2, 20))
    assert past.interview.passed and past.interview.decks == []
    assert past.to_dict()["interview"]["total"] is None
    buf = io.StringIO()
    Console(file=buf, width=80, color_system=None).print(render_report(past))
    assert "Fri 20 Feb 2026 has passed: scheduling is back to normal." in buf.getvalue()


def test_cli_report_json_with_a_date(tmp_path):
    runner = CliRunner()
    env = {"QUIZFORGE_NOW": "2026-03-02T12:00:00Z", "TZ": "UTC"}
    r = runner.invoke(app, ["config", "set", "interview_date", "2026-03-12"], env=env)
    assert r.exit_code == 0 and r.output == "interview_date = 2026-03-12\n"
    r = runner.invoke(app, ["config", "set", "interview_date", "12/03/2026"], env=env)
    assert r.exit_code == 1
    assert r.stderr == "Error: interview_date must be a date YYYY-MM-DD, got '12/03/2026'\n"
    r = runner.invoke(app, ["report", "--json"], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["interview"]["days_left"] == 10


def test_plan_counts_match_the_plan_from_the_store(db):
    """The report's plan line counts per deck in SQL (reports/plan.py plan_counts); the
    same figures as plan_from_store builds from a schedule per card: suspended cards left
    out of new and studied, a deck whose only card is suspended still listed, removed cards
    not counted, --deck honored."""
    from types import SimpleNamespace

    from quizforge.reports.plan import plan_counts, plan_from_store

    setup(db)
    a = make_deck("a", n_flash=4, card_tags={"c0": ("x",), "c1": ("x",), "c2": ("y",)})
    b = make_deck("b", n_flash=2, card_tags={"c0": ("y",)})
    store.sync_decks(db, [a, b, make_deck("c", n_flash=1)], T0)  # deck c: one card, suspended
    with db.atomic() as conn:
        conn.execute("UPDATE cards SET suspended = 1 WHERE deck_id = 'c'")
    cfg = Config(fuzz=False, interview_date=INTERVIEW.isoformat())
    ids = ["a", "b", "c"]
    for only in ((), ("b",), ("a", "c")):
        fast = plan_counts(db, cfg, T0, only).to_dict()
        slow = plan_from_store(db, [SimpleNamespace(id=d, tags=()) for d in ids], cfg, T0, only=only,
                               simulate_workload=False).to_dict()
        assert fast == slow
    assert [(d["deck"], d["new"], d["studied"]) for d in fast["decks"]] == [
        ("a", 1, 3), ("c", 0, 0)]
