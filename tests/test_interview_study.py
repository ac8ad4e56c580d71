"""`study` aimed at the interview date: ordering in the final days, --ahead, load balancing
read from the store, and the CLI's options and errors."""

from datetime import UTC, date, datetime, timedelta

import fsrs
import pytest
from helpers import T0, make_deck
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.scheduling.config import Config
from quizforge.scheduling.interview import InterviewDateError
from quizforge.scheduling.scheduler import CardSchedule, Rating, Scheduler, State
from quizforge.store import cards as store
from quizforge.study.session import Session, StudyOptions

DAY = timedelta(days=1)


def scheduler(**cfg) -> Scheduler:
    s = Scheduler(Config(**cfg))
    s.tz = UTC
    return s


def reference_recall(s: CardSchedule, moment: datetime) -> float:
    """py-fsrs's own retrievability, not quizforge's wrapper."""
    card = fsrs.Card(
        card_id=1, state=fsrs.State.Review, stability=s.stability, difficulty=s.difficulty,
        due=s.due, last_review=s.last_review,
    )
    return fsrs.Scheduler().get_card_retrievability(card, moment)


# (card id, stability, days since last review, days until due: negative = overdue)
CARDS = [
    ("c0", 3.0, 4, -1),
    ("c1", 40.0, 45, -5),
    ("c2", 1.5, 2, 0),
    ("c3", 12.0, 13, -1),
    ("c4", 8.0, 3, 5),   # not due yet
    ("c5", 2.0, 1, 1),   # not due yet, weak
    ("c6", 60.0, 10, 50),  # not due, strong
    ("c7", 5.0, 2, 3),   # not due yet
]


@pytest.fixture
def stocked(db):
    deck = make_deck(n_flash=len(CARDS))
    store.sync_decks(db, [deck], T0)
    with db.atomic() as conn:
        for cid, stab, age, until in CARDS:
            row = store.find_card(db, "d", cid)
            sched = CardSchedule(
                state=State.REVIEW, stability=stab, difficulty=5.0,
                due=T0 + until * DAY - timedelta(minutes=1), last_review=T0 - age * DAY, reps=3,
            )
            store.write_schedule(conn, row.rowid, sched)
    return db, deck


def schedules(db):
    return {cid: store.find_card(db, "d", cid).schedule for cid, *_ in CARDS}


def order(session, now=T0):
    seen = []
    while (n := session.queue.next(now)) is not None:
        seen.append(n.card_id)
    return seen


def test_final_days_order_by_recall_on_the_date(stocked):
    db, deck = stocked
    interview = date(2026, 3, 6)  # 4 study days away: the final days
    s = Session(db, [deck], scheduler(interview_date=interview.isoformat()), StudyOptions(), T0)
    assert s.final_days
    moment = datetime(2026, 3, 6, 4, tzinfo=UTC)
    due = [cid for cid, *_rest, until in CARDS if until <= 0]
    by_recall = sorted(due, key=lambda c: reference_recall(schedules(db)[c], moment))
    assert order(s) == by_recall
    assert by_recall != sorted(due, key=lambda c: schedules(db)[c].due)  # the order did change


def held_over(since: datetime) -> set[str]:
    """Review cards not due yet whose last answer came before `since`."""
    return {cid for cid, _s, age, until in CARDS if until > 0 and T0 - age * DAY < since}


def test_on_the_day_itself_weakest_now_first(stocked):
    db, deck = stocked
    s = Session(db, [deck], scheduler(interview_date="2026-03-02"), StudyOptions(), T0)
    assert s.final_days
    # also every card not answered since the final week began (23 February, 4 am)
    held = held_over(datetime(2026, 2, 23, 4, tzinfo=UTC))
    assert held == {"c6"}
    due = [cid for cid, *_rest, until in CARDS if until <= 0] + sorted(held)
    assert order(s) == sorted(due, key=lambda c: reference_recall(schedules(db)[c], T0))


@pytest.mark.parametrize(("interview", "held"), [
    ("2026-03-03", {"c6"}),  # today is the last day before it (from 4 am)
    ("2026-03-04", set()),  # two days before: due dates as they are
    ("2026-03-01", set()),  # after the date: normal scheduling
])
def test_cards_scheduled_past_the_date_come_back_on_the_last_day(stocked, interview, held):
    """A card scheduled past the date before the date was set is due on the last day before
    it (and on the day), unless it was answered in the final week already (c4, c5 and c7
    were answered one to three days ago: that was their review in the final week)."""
    db, deck = stocked
    s = Session(db, [deck], scheduler(interview_date=interview), StudyOptions(), T0)
    due = {cid for cid, *_rest, until in CARDS if until <= 0}
    assert set(order(s)) == due | held
    if held:
        assert held == held_over(datetime(2026, 2, 24, 4, tzinfo=UTC))


def test_before_the_final_days_most_overdue_first(stocked):
    db, deck = stocked
    s = Session(db, [deck], scheduler(interview_date="2026-03-20"), StudyOptions(), T0)
    assert not s.final_days
    assert order(s) == ["c1", "c0", "c3", "c2"]  # by due time


def test_final_days_daily_cap_keeps_the_weakest(stocked):
    db, deck = stocked
    cfg = {"interview_date": "2026-03-06", "reviews_per_day": 2}
    s = Session(db, [deck], scheduler(**cfg), StudyOptions(), T0)
    moment = datetime(2026, 3, 6, 4, tzinfo=UTC)
    due = [cid for cid, *_rest, until in CARDS if until <= 0]
    assert order(s) == sorted(due, key=lambda c: reference_recall(schedules(db)[c], moment))[:2]


def test_ahead_pulls_weak_cards_forward_lowest_first(stocked):
    db, deck = stocked
    s = Session(db, [deck], scheduler(interview_date="2026-03-06"), StudyOptions(ahead=10), T0)
    moment = datetime(2026, 3, 6, 4, tzinfo=UTC)
    rs = schedules(db)
    not_due = [cid for cid, *_rest, until in CARDS if until > 0]
    weak = sorted(
        (c for c in not_due if reference_recall(rs[c], moment) < 0.9),
        key=lambda c: reference_recall(rs[c], moment),
    )
    assert weak and "c6" not in weak  # the strong card stays where it is
    ahead = [e.card_id for e in s._ahead(T0, 10)]
    assert ahead == weak
    assert [e.card_id for e in s._ahead(T0, 1)] == weak[:1]
    seen = order(s)
    assert set(seen) == {c for c, *_r, u in CARDS if u <= 0} | set(weak)


def test_ahead_without_a_date_or_with_cram_is_refused(stocked):
    db, deck = stocked
    with pytest.raises(InterviewDateError, match="^--ahead needs an interview date"):
        Session(db, [deck], scheduler(), StudyOptions(ahead=5), T0)
    with pytest.raises(InterviewDateError, match="^--ahead and --cram cannot be used together"):
        Session(db, [deck], scheduler(interview_date="2026-03-06"), StudyOptions(ahead=5, cram=True), T0)
    with pytest.raises(InterviewDateError, match="^--ahead: the interview date 2026-03-01 has passed$"):
        Session(db, [deck], scheduler(interview_date="2026-03-01"), StudyOptions(ahead=5), T0)


def test_an_early_review_is_recorded_honestly(stocked):
    """A card pulled forward is answered as py-fsrs answers an early review: recall at the
    real elapsed time (higher, so a smaller stability gain), and the log says how early."""
    db, deck = stocked
    s = Session(db, [deck], scheduler(interview_date="2026-03-09", fuzz=False), StudyOptions(ahead=10), T0)
    entry = next(e for e in s._ahead(T0, 10) if e.card_id == "c5")
    before = entry.schedule
    out = s.answer(entry, Rating.GOOD, T0, 1000)
    ref = fsrs.Scheduler(enable_fuzzing=False)
    ref_card, _ = ref.review_card(
        fsrs.Card(card_id=1, state=fsrs.State.Review, stability=before.stability,
                  difficulty=before.difficulty, due=before.due, last_review=before.last_review),
        fsrs.Rating.Good, T0,
    )
    assert out.after.stability == pytest.approx(ref_card.stability)
    on_time, _ = ref.review_card(
        fsrs.Card(card_id=1, state=fsrs.State.Review, stability=before.stability,
                  difficulty=before.difficulty, due=before.due, last_review=before.last_review),
        fsrs.Rating.Good, before.last_review + before.stability * DAY,  # when recall is 90%
    )
    assert out.after.stability < on_time.stability  # early: less gained
    row = db.conn.execute(
        "SELECT state_before, elapsed_days, interval_days FROM revlog WHERE id = ?", (out.revlog_id,)
    ).fetchone()
    assert row[0] == 2 and row[1] == pytest.approx(1.0)  # 1 day after the last review, not 2
    # and the date still holds: due by the start of the day before it
    assert out.after.due <= datetime(2026, 3, 8, 4, tzinfo=UTC)
    assert row[2] == pytest.approx((out.after.due - T0).total_seconds() / 86400)


def test_due_counts_match_a_count_in_python(stocked):
    db, _deck = stocked
    first, last = date(2026, 2, 20), date(2026, 5, 1)
    got = store.due_counts(db, first, last, 4, UTC)
    rows = db.conn.execute("SELECT due, state, suspended, in_deck FROM cards").fetchall()
    want: dict = {}
    for due, state, suspended, in_deck in rows:
        if state != 2 or suspended or not in_deck or due is None:
            continue
        day = (datetime.fromtimestamp(due / 1000, UTC) - timedelta(hours=4)).date()
        if first <= day <= last:
            want[day] = want.get(day, 0) + 1
    assert got == want and sum(got.values()) == 8
    plan = " ".join(str(r[-1]) for r in db.conn.execute(
        "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM cards WHERE state = 2 AND due >= 0 AND due < 1"
        " AND suspended = 0 AND in_deck = 1"))
    assert "COVERING INDEX cards_due" in plan


def test_the_session_balances_with_the_stores_counts(stocked):
    db, deck = stocked
    s = Session(db, [deck], scheduler(), StudyOptions(), T0)
    seen = []
    s._due_counts = lambda a, b: seen.append((a, b)) or store.due_counts(db, a, b, 4, UTC)
    entry = next(e for e in iter(lambda: s.queue.next(T0), None) if e.card_id == "c0")
    s.answer(entry, Rating.GOOD, T0, 1000)  # a short interval: inside the balanced range
    assert len(seen) == 1  # one query per answer
    # the same answer with load balancing off is py-fsrs's fuzz, and never reads counts
    s2 = Session(db, [deck], scheduler(load_balance=False), StudyOptions(), T0)
    s2._due_counts = lambda a, b: pytest.fail("counts read with load_balance off")
    entry = next(e for e in iter(lambda: s2.queue.next(T0), None) if e.card_id == "c3")
    s2.answer(entry, Rating.GOOD, T0, 1000)


# -- the CLI ---------------------------------------------------------------------------------
runner = CliRunner()
NOW = {"QUIZFORGE_NOW": "2026-03-02T12:00:00Z", "TZ": "UTC"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--until", "2026-13-01"], "Error: bad --until date '2026-13-01': use YYYY-MM-DD, e.g. 2026-12-15\n"),
        (["--until", "soon"], "Error: bad --until date 'soon': use YYYY-MM-DD, e.g. 2026-12-15\n"),
        (["--until", "2026-03-01"], "Error: --until 2026-03-01 is in the past (today is 2026-03-02)\n"),
        (
            ["--ahead", "5"],
            ("Error: --ahead needs an interview date: pass --until YYYY-MM-DD or run"
            " `quizforge config set interview_date YYYY-MM-DD`\n"),
        ),
        (
            ["--ahead", "5", "--until", "2026-03-09", "--cram"],
            "Error: --ahead and --cram cannot be used together: cram shows every card\n",
        ),
    ],
)
def test_cli_bad_dates_are_one_line_errors(args, message):
    r = runner.invoke(app, ["study", *args], env=NOW, input="q\n")
    assert r.exit_code == 1
    assert r.stderr == message


def test_cli_until_is_for_this_session_only():
    r = runner.invoke(app, ["study", "--until", "2026-03-06"], env=NOW, input="q\n")
    assert r.exit_code == 0, r.output
    assert "Interview in 4 days (Fri 06 Mar): reviews aimed at it, weakest first\n" in r.output
    shown = runner.invoke(app, ["config", "--json"], env=NOW)
    assert '"interview_date": ""' in shown.output  # not saved
    r = runner.invoke(app, ["study"], env=NOW, input="q\n")
    assert "Interview" not in r.output


def test_cli_help_says_what_the_last_days_are():
    r = runner.invoke(app, ["study", "--help"], env={"COLUMNS": "100"})
    assert r.exit_code == 0
    text = " ".join(r.output.split())
    assert "In the last 7 days and on the day" in text and "--until" in text and "--ahead" in text


def test_in_a_real_terminal_ahead_cards_are_marked_and_capped(tmp_path):
    """A pty-driven `study --until … --ahead 3`: the screen says the session is aimed at the
    date, an early card is marked, and its answer is on disk with a due date before it."""
    import os
    import sqlite3
    import sys

    import pexpect
    from helpers import restore_sigint

    decks = tmp_path / "decks"
    decks.mkdir()
    cards = "".join(f"  - id: c{i}\n    front: front {i}\n    back: back {i}\n" for i in range(4))
    (decks / "iv.yaml").write_text(f"deck: iv\nname: Interview test\ncards:\n{cards}")
    home = tmp_path / "home"
    env = dict(os.environ, QUIZFORGE_HOME=str(home), QUIZFORGE_DECKS=str(decks), TZ="UTC",
               COLUMNS="80", LINES="40", TERM="xterm")
    env.pop("NO_COLOR", None)
    # history: every card learnt two weeks earlier, graduated, now not due
    env["QUIZFORGE_NOW"] = "2026-03-02T12:00:00Z"
    r = runner.invoke(app, ["study", "--deck", "iv"], env=env, input="\n3\n\n3\n\n3\n\n3\n" * 2)
    assert r.exit_code == 0, r.output
    env["QUIZFORGE_NOW"] = "2026-03-03T12:00:00Z"  # nothing due; the interview is in 7 days (the cards were answered before its final week)
    child = pexpect.spawn(
        sys.executable, ["-m", "quizforge", "study", "-d", "iv", "--until", "2026-03-10", "--ahead", "3"],
        env=env, encoding="utf-8", timeout=90, dimensions=(40, 80), preexec_fn=restore_sigint,
    )
    child.expect(r"\(review, early\)")
    child.expect("Interview in 7 days \\(Tue 10 Mar\\): reviews aimed at it, weakest first")
    child.expect("show answer")
    child.send(" ")
    child.expect("Good")
    child.send("3")
    child.expect(r"\(review, early\)")  # the next card appeared: the answer is on disk
    child.send("q")
    child.expect(pexpect.EOF)
    conn = sqlite3.connect(home / "quizforge.sqlite3")
    rows = conn.execute(
        "SELECT r.state_before, r.elapsed_days, c.due FROM revlog r JOIN cards c ON c.id = r.card"
        " WHERE r.reviewed_at >= ?", (int(datetime(2026, 3, 3, tzinfo=UTC).timestamp() * 1000),)
    ).fetchall()
    conn.close()
    assert len(rows) == 1
    state_before, elapsed, due = rows[0]
    assert state_before == 2 and 0.9 < elapsed < 1.1
    assert due <= int(datetime(2026, 3, 9, 4, tzinfo=UTC).timestamp() * 1000)
