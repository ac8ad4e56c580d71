"""Calibration in `report`: predicted recall vs actual, by bin."""

import itertools
import json
import math
import random
from datetime import timedelta

import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS
from fsrs_sim import TRUE_PARAMETERS, simulate
from helpers import T0, make_deck
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.reports import Calendar, Scope, build_report
from quizforge.reports.calibration import (
    EDGES,
    NO_PREDICTION,
    answers_to_predict,
    calibration,
    calibration_in_store,
    predict,
    refresh,
)
from quizforge.scheduling.config import Config
from quizforge.scheduling.fitting import History
from quizforge.scheduling.scheduler import CardSchedule, Rating, ReviewRecord, Scheduler, State
from quizforge.store import cards as store
from quizforge.store.db import from_ms

CAL = Calendar(4)


def test_bins_against_a_hand_computed_example():
    pairs = [(0.95, True), (0.97, False), (0.92, True), (0.55, True), (0.55, False), (1.0, True),
             (0.3, False)]
    c = calibration(pairs)
    assert EDGES == (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)
    got = {(b.lo, b.hi): (b.reviews, b.predicted, b.actual) for b in c.bins if b.reviews}
    # By hand: [0, .5) holds 0.3 (forgotten); [.5, .6) the two 0.55s, one recalled;
    # [.9, .95) holds 0.92; [.95, 1] holds 0.95, 0.97 and 1.0 (1.0 in the last bin).
    assert got == {
        (0.0, 0.5): (1, 0.3, 0.0),
        (0.5, 0.6): (2, 0.55, 0.5),
        (0.9, 0.95): (1, 0.92, 1.0),
        (0.95, 1.0): (3, pytest.approx(2.92 / 3), 2 / 3),
    }
    assert c.reviews == 7 and c.actual == 4 / 7
    assert c.predicted == pytest.approx((0.3 + 1.1 + 0.92 + 2.92) / 7)
    by_hand = math.sqrt((0.3**2 + 2 * 0.05**2 + 0.08**2 + 3 * (2.92 / 3 - 2 / 3) ** 2) / 7)
    assert c.rmse == pytest.approx(by_hand)
    empty = calibration([])
    assert empty.reviews == 0 and empty.rmse is None and empty.to_dict()["actual"] is None


@pytest.mark.parametrize("params", [DEFAULT_PARAMETERS, TRUE_PARAMETERS])
def test_replay_matches_py_fsrs_answer_by_answer(params):
    """The reference: the real Scheduler (py-fsrs) reviewing the same answers, and its
    retrievability at the moment of each answer."""
    sched = Scheduler(Config(parameters=params, fuzz=False))
    rng = random.Random(5)
    checked = 0
    for _ in range(60):
        s, t, prev = CardSchedule(), T0, None
        reviews, expected = [], []
        for i in range(rng.randint(1, 14)):
            t += rng.choice([timedelta(minutes=rng.randint(1, 600)),
                             timedelta(hours=rng.uniform(1, 30)),
                             timedelta(days=rng.uniform(1, 60))]) if i else timedelta(0)
            g = rng.choice(list(Rating))
            dt = 0 if prev is None else (t - prev).days
            reviews.append((int(g), dt))
            expected.append(sched.retrievability(s, t) if i and dt >= 1 else NO_PREDICTION)
            s, _ = sched.review(s, g, t)
            prev = t
        got = predict(History(1, tuple(reviews), ()), params)
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
        checked += sum(p != NO_PREDICTION for p in got)
    assert checked > 100


def _answer(conn, rowid, at, rating, state_before, cram=False):
    rec = ReviewRecord(at, Rating(rating), 1000, State(state_before), 1.0, None, False, False)
    return store.insert_review(conn, rowid, rec, cram=cram)


def test_store_bins_equal_the_pure_function_and_stay_up_to_date(db):
    n = simulate(db, n_cards=60, days=90, seed=3)
    params = DEFAULT_PARAMETERS
    assert answers_to_predict(db, params) == n
    assert refresh(db, params) == 60
    assert answers_to_predict(db, params) == 0
    assert refresh(db, params) == 0  # nothing new: nothing replayed
    rows = db.conn.execute(
        "SELECT card, reviewed_at, rating, state_before, id FROM revlog ORDER BY card, reviewed_at"
    ).fetchall()
    from quizforge.scheduling.fitting import histories

    hs, _ = histories(rows)
    grade = {r[4]: r[2] for r in rows}
    pairs = [(p, grade[i] > 1) for h in hs for p, i in zip(predict(h, params), h.ids)
             if p != NO_PREDICTION]
    assert len(pairs) > 300
    want = calibration(pairs)
    got = calibration_in_store(db, Scope(), CAL)
    assert [(b.reviews, b.recalled) for b in got.bins] == [
        (b.reviews, b.recalled) for b in want.bins]
    assert [b.predicted_sum for b in got.bins] == pytest.approx([b.predicted_sum for b in want.bins])

    # A new answer: only its card is replayed. Cram answers are never predicted.
    rowid = rows[0][0]
    last = max(r[1] for r in rows if r[0] == rowid)
    with db.atomic() as conn:
        new = _answer(conn, rowid, from_ms(last) + timedelta(days=4), 3, 2)
        cram = _answer(conn, rowid, from_ms(last) + timedelta(days=5), 1, 2, cram=True)
    assert refresh(db, params) == 1
    stored = dict(db.conn.execute("SELECT id, predicted FROM recall_predictions"))
    assert 0 < stored[new] < 1 and cram not in stored
    assert calibration_in_store(db, Scope(), CAL).reviews == want.reviews + 1
    # Undo deletes the answer, and its prediction goes with it.
    with db.atomic() as conn:
        store.delete_review(conn, new)
    assert refresh(db, params) == 0
    assert calibration_in_store(db, Scope(), CAL).reviews == want.reviews

    # The kept bins of the whole log match a count of every prediction, after each change.
    from quizforge.reports.calibration import _count_bins

    for _ in range(2):
        kept, counted = calibration_in_store(db, Scope(), CAL), _count_bins(db, "", [])
        assert [(b.reviews, b.recalled) for b in kept.bins] == [
            (b.reviews, b.recalled) for b in counted.bins]
        assert [b.predicted_sum for b in kept.bins] == pytest.approx(
            [b.predicted_sum for b in counted.bins])
        with db.atomic() as conn:  # an answer to a card with history: only it is replayed
            _answer(conn, rowid, from_ms(last) + timedelta(days=30), 1, 2)
        assert refresh(db, params) == 1

    # New parameters: every prediction is made again, and they change.
    before = calibration_in_store(db, Scope(), CAL)
    assert refresh(db, TRUE_PARAMETERS) == 60
    after = calibration_in_store(db, Scope(), CAL)
    assert after.reviews == before.reviews and after.predicted < before.predicted


def test_drill_answers_and_answers_before_a_first_one_are_not_predicted(db):
    store.sync_decks(db, [make_deck("d", n_flash=1)], T0)
    card = db.conn.execute("SELECT id FROM cards").fetchone()[0]
    with db.atomic() as conn:
        skill = store.ensure_card(conn, "drill", "backprop-d1", "skill", T0)
        for rowid in (card, skill):
            _answer(conn, rowid, T0, 3, 0)
            _answer(conn, rowid, T0 + timedelta(days=3), 3, 2)
    refresh(db, DEFAULT_PARAMETERS)
    got = dict(db.conn.execute(
        "SELECT r.card, MAX(p.predicted) FROM recall_predictions p JOIN revlog r ON r.id = p.id"
        " GROUP BY r.card"))
    assert got[skill] == NO_PREDICTION and 0.5 < got[card] < 1
    c = calibration_in_store(db, Scope(), CAL)
    assert c.reviews == 1
    # --deck and --since narrow it like every other figure of the report.
    assert calibration_in_store(db, Scope(decks=("other",)), CAL).reviews == 0
    since = (T0 + timedelta(days=10)).date()
    assert calibration_in_store(db, Scope(since=since), CAL).reviews == 0


def test_report_shows_calibration_in_json_and_on_screen(db, monkeypatch):
    simulate(db, n_cards=40, days=60, seed=4)
    now = T0 + timedelta(days=60)
    sched = Scheduler(Config())
    r = build_report(db, now, sched, cal=CAL)
    d = json.loads(json.dumps(r.to_dict()))["calibration"]
    assert d["reviews"] == r.calibration.reviews > 100 and d["fitted_parameters"] is False
    assert d["definition"].startswith("answers given a day or more after")
    assert [(b["from"], b["to"]) for b in d["bins"]] == list(itertools.pairwise(EDGES))
    assert sum(b["reviews"] for b in d["bins"]) == d["reviews"]

    import io

    from rich.console import Console

    from quizforge.ui.report import render_report

    for width in (80, 40):
        buf = io.StringIO()
        Console(file=buf, width=width, no_color=True).print(render_report(r))
        text = buf.getvalue()
        assert "Calibration" in text and "predicted" in text
        assert all(len(line) <= width for line in text.splitlines())
    assert "the default parameters (quizforge optimize fits yours)" in " ".join(text.split())


def test_report_command_uses_the_fitted_parameters(monkeypatch):
    from quizforge.paths import config_path, db_path
    from quizforge.scheduling.config import save_config
    from quizforge.store.db import Database

    with Database(db_path()) as d:
        simulate(d, n_cards=40, days=60, seed=4)
    monkeypatch.setenv("QUIZFORGE_NOW", (T0 + timedelta(days=60)).isoformat())
    runner = CliRunner()
    default = json.loads(runner.invoke(app, ["report", "--json"]).stdout)["calibration"]
    save_config(Config(parameters=TRUE_PARAMETERS), config_path())
    fitted = json.loads(runner.invoke(app, ["report", "--json"]).stdout)["calibration"]
    assert fitted["fitted_parameters"] is True and fitted["reviews"] == default["reviews"]
    assert fitted["predicted"] < default["predicted"]  # this learner's curve is steeper
    r = runner.invoke(app, ["report"])
    assert r.exit_code == 0 and "with your fitted parameters" in r.stdout


def test_prediction_ids_line_up(db):
    """Rows of one card inserted out of time order are replayed in time order."""
    store.sync_decks(db, [make_deck("d", n_flash=1)], T0)
    card = db.conn.execute("SELECT id FROM cards").fetchone()[0]
    with db.atomic() as conn:
        late = _answer(conn, card, T0 + timedelta(days=10), 1, 2)
        first = _answer(conn, card, T0, 3, 0)
        mid = _answer(conn, card, T0 + timedelta(days=2), 3, 2)
    refresh(db, DEFAULT_PARAMETERS)
    p = dict(db.conn.execute("SELECT id, predicted FROM recall_predictions"))
    want = predict(History(card, ((3, 0), (3, 2), (1, 8)), ()), DEFAULT_PARAMETERS)
    assert [p[first], p[mid], p[late]] == pytest.approx(want)


def test_migration_statements_keep_a_trigger_body_whole():
    from quizforge.store.db import _statements

    sql = """
        CREATE TABLE t (a INT); INSERT INTO t VALUES (1);
        CREATE TRIGGER x AFTER DELETE ON t
            BEGIN DELETE FROM u WHERE a = old.a; INSERT INTO v VALUES (1); END;
        CREATE TABLE w (b INT)
    """
    got = [" ".join(s.split()) for s in _statements(sql)]
    assert got == [
        "CREATE TABLE t (a INT)",
        "INSERT INTO t VALUES (1)",
        (
            "CREATE TRIGGER x AFTER DELETE ON t BEGIN DELETE FROM u WHERE a = old.a;"
            " INSERT INTO v VALUES (1); END"
        ),
        "CREATE TABLE w (b INT)",
    ]


@pytest.mark.parametrize("changes", [1, 5])
def test_an_answer_given_during_the_replay_is_not_lost(db, monkeypatch, changes):
    """The replay runs outside the write lock; an answer saved meanwhile (by a study
    session) makes refresh work again, at worst inside the lock, and the kept bins still
    count every answer."""
    from quizforge.reports import calibration as cal
    from quizforge.reports.calibration import _count_bins

    simulate(db, n_cards=20, days=40, seed=5)
    rowid, last = db.conn.execute(
        "SELECT card, MAX(reviewed_at) FROM revlog GROUP BY card LIMIT 1").fetchone()
    real, calls = cal._replay, []

    def replay_while_answering(*args):
        calls.append(db.conn.in_transaction)
        if len(calls) <= changes:  # another session answers while this one replays
            with db.atomic() as conn:
                _answer(conn, rowid, from_ms(last) + timedelta(days=3 + len(calls)), 3, 2)
        return real(*args)

    monkeypatch.setattr(cal, "_replay", replay_while_answering)
    refresh(db, DEFAULT_PARAMETERS)
    # unlocked, unlocked and then inside the lock when answers keep coming
    assert calls == ([False, False, True] if changes > 2 else [False] * (changes + 1))
    counted = _count_bins(db, "", [])
    kept = calibration_in_store(db, Scope(), CAL)
    assert [(b.reviews, b.recalled) for b in kept.bins] == [
        (b.reviews, b.recalled) for b in counted.bins]
    n = db.conn.execute("SELECT COUNT(*) FROM revlog WHERE cram = 0").fetchone()[0]
    assert db.conn.execute("SELECT COUNT(*) FROM recall_predictions").fetchone()[0] == n
