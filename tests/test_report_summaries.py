"""The summary tables `report` reads (kept by triggers) against a recount of the review log
and the cards, through every write path, and the report's JSON computed with and without
them (issue 23).

The store is bench/make_store.py's synthetic one at 20k answers (2,000 cards), built once."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quizforge.reports import Calendar, Scope, build_report
from quizforge.reports import calibration as calibration_module
from quizforge.reports import days as days_module
from quizforge.reports import mastery as mastery_module
from quizforge.reports import scope as scope_module
from quizforge.reports import weak as weak_module
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Rating, ReviewRecord, Scheduler, State
from quizforge.store import cards as store
from quizforge.store.backup import make_backup, restore
from quizforge.store.db import Database
from quizforge.store.health import SUMMARIES, fix_rows, stale_summaries

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from make_store import END, build  # noqa: E402

SCOPES = [Scope(), Scope(decks=("synth-cnn", "synth-rnn"), since=(END - timedelta(days=20)).date()),
          Scope(tags=("gotcha", "synth-svm-math"))]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("store") / "store.sqlite3"
    info = build(path, 2000, 20_000, 3)
    assert info["reviews"] == 20_000
    with Database(path) as d:  # the summaries a report builds, there before every write
        for scope in SCOPES:
            report_json(d, scope, True)
        assert d.conn.execute("SELECT COUNT(*) FROM recall_groups_done").fetchone()[0] == 1
    return path


@pytest.fixture
def db(built, tmp_path):
    path = tmp_path / "quizforge.sqlite3"
    shutil.copy(built, path)
    with Database(path) as d:
        yield d


def recount(conn: sqlite3.Connection, table: str) -> set[tuple]:
    return {tuple(r) for r in conn.execute(SUMMARIES[table][1])}


def kept(conn: sqlite3.Connection, table: str) -> set[tuple]:
    return {tuple(r) for r in conn.execute(SUMMARIES[table][0])}


def check(db: Database) -> None:
    """Every summary equals its recount, and the report's figures are the same with and
    without the summaries, in every scope."""
    for table in SUMMARIES:
        assert kept(db.conn, table) == recount(db.conn, table), table
    assert stale_summaries(db.conn) == []
    for scope in SCOPES:
        assert report_json(db, scope, True) == report_json(db, scope, False), scope
    assert db.conn.execute("SELECT COUNT(*) FROM study_days_done").fetchone()[0] >= 84
    assert stale_summaries(db.conn) == []  # the days the reports just kept


def report_json(db: Database, scope: Scope, summaries: bool) -> dict:
    """The report's JSON, from the kept summaries (and the scope's cards gathered once), or
    recounted from the log and the cards."""
    modules = (weak_module, days_module, calibration_module, mastery_module)
    old = [m.USE_SUMMARIES for m in modules]
    for m in modules:
        m.USE_SUMMARIES = summaries
    scope_module.USE_CARD_SET = summaries
    try:
        return build_report(db, END, Scheduler(Config()), scope, Calendar(4, UTC)).to_dict()
    finally:
        for m, value in zip(modules, old, strict=True):
            m.USE_SUMMARIES = value
        scope_module.USE_CARD_SET = True


def test_built_store_matches_recount_and_report_is_unchanged(db):
    n = tuple(db.conn.execute("SELECT SUM(answers), SUM(misses) FROM card_reviews").fetchone())
    assert n == tuple(db.conn.execute("SELECT COUNT(*), SUM(rating = 1) FROM revlog").fetchone())
    assert n[0] == 20_000
    report = report_json(db, Scope(), True)
    assert report["weak_spots"]["most_missed_mcq"]  # the figure the summary serves is there
    check(db)


def answer(db: Database, rowid: int, at: datetime, rating: Rating, cram: bool = False) -> int:
    rec = ReviewRecord(at, rating, 5_000, State.REVIEW, 3.0, 2.0, False, False)
    with db.atomic() as conn:
        return store.insert_review(conn, rowid, rec, cram=cram)


def test_answers_and_undo(db):
    mcq = db.conn.execute("SELECT id FROM cards WHERE kind = 'mcq' AND in_deck = 1"
                          " ORDER BY id LIMIT 1").fetchone()[0]
    ids = [answer(db, mcq, END - timedelta(minutes=m), Rating.AGAIN) for m in range(60)]
    ids.append(answer(db, mcq, END, Rating.GOOD, cram=True))
    check(db)
    missed = report_json(db, Scope(), True)["weak_spots"]["most_missed_mcq"]
    assert any(c["card"] == store.get_card(db, mcq).card_id and c["misses"] >= 60
               for c in missed)
    with db.atomic() as conn:  # undo, as the study session does
        for i in ids:
            store.delete_review(conn, i)
    check(db)


def test_card_with_no_answer_left_has_no_row(db):
    rowid = db.conn.execute("SELECT id FROM cards WHERE reps = 0 AND kind = 'mcq'"
                            " AND id NOT IN (SELECT card FROM revlog) LIMIT 1").fetchone()[0]
    i = answer(db, rowid, END, Rating.AGAIN)
    assert tuple(db.conn.execute("SELECT answers, misses FROM card_reviews WHERE card = ?",
                                 (rowid,)).fetchone()) == (1, 1)
    with db.atomic() as conn:
        store.delete_review(conn, i)
    assert db.conn.execute("SELECT 1 FROM card_reviews WHERE card = ?", (rowid,)).fetchone() is None


def test_rating_or_card_changed_in_place(db):
    """A repair that rewrites a log row (rating or card) moves its counts."""
    a, b = [r[0] for r in db.conn.execute("SELECT DISTINCT card FROM revlog ORDER BY card LIMIT 2")]
    with db.atomic() as conn:
        conn.execute("UPDATE revlog SET rating = 1 WHERE card = ?", (a,))
        conn.execute("UPDATE revlog SET card = ? WHERE id = (SELECT MIN(id) FROM revlog"
                     " WHERE card = ?)", (b, a))
    check(db)


def test_deck_deleted_from_files(db):
    """A deck file deleted: its cards leave the decks (history kept); the report's figures
    and the summaries follow."""
    with db.atomic() as conn:
        conn.execute("UPDATE cards SET in_deck = 0 WHERE deck_id = 'synth-cnn'")
    check(db)
    with db.atomic() as conn:  # and a tool that deletes the cards and their log outright
        conn.execute("DELETE FROM revlog WHERE card IN (SELECT id FROM cards"
                     " WHERE deck_id = 'synth-rnn')")
        conn.execute("DELETE FROM cards WHERE deck_id = 'synth-rnn'")
    check(db)


def test_deck_removed_by_sync(db, built):
    """sync_decks with a deck gone from the files (the way `quizforge` sees a deleted file)."""
    from quizforge.decks.loader import load_search_path

    files = built.parent / "decks"
    result = load_search_path([files])
    kept_decks = [d for d in result.decks if d.id.startswith("synth-") and d.id != "synth-cnn"]
    store.sync_decks(db, kept_decks, END)
    check(db)


def test_import_with_history(db):
    """History written the way `import --with-history` writes it (insert_review per row,
    out of time order, cram rows included) into new cards."""
    from quizforge.decks.model import MCQ, Deck

    deck = Deck("imported", "Imported", tuple(MCQ(f"q{i}", f"q{i}?", ("a", "b"), (0,))
                                             for i in range(20)), Path("imported.yaml"))
    store.sync_decks(db, [deck], END - timedelta(days=100))
    rows = [r[0] for r in db.conn.execute("SELECT id FROM cards WHERE deck_id = 'imported'")]
    with db.atomic() as conn:
        for k, rowid in enumerate(rows):
            for j in range(k % 7 + 1):
                at = END - timedelta(days=90 - 3 * j, hours=k)
                rec = ReviewRecord(at, Rating.AGAIN if (j + k) % 2 else Rating.GOOD, 4_000,
                                   State.REVIEW, 2.0, 1.0, False, False)
                store.insert_review(conn, rowid, rec, cram=j == 3)
    check(db)


def _triggers(conn: sqlite3.Connection) -> list[tuple]:
    return sorted(tuple(r) for r in conn.execute("SELECT name, tbl_name, sql FROM sqlite_master"
                                                 " WHERE type = 'trigger'"))


def test_import_rows_in_bulk(db):
    """History written the way `import --with-history` writes it now (insert_review_rows: one
    executemany, the summaries brought up to date once, not by the triggers per row) into old
    and new cards, out of time order, cram rows included, on days the report has counted."""
    from quizforge.decks.model import MCQ, Deck

    report_json(db, Scope(), True)  # counts the study days: the import must drop its own
    done = db.conn.execute("SELECT COUNT(*) FROM study_days_done").fetchone()[0]
    assert done >= 84
    deck = Deck("bulk", "Bulk", tuple(MCQ(f"q{i}", f"q{i}?", ("a", "b"), (0,))
                                      for i in range(30)), Path("bulk.yaml"))
    store.sync_decks(db, [deck], END - timedelta(days=100))
    new = [r[0] for r in db.conn.execute("SELECT id FROM cards WHERE deck_id = 'bulk'")]
    old = [r[0] for r in db.conn.execute("SELECT DISTINCT card FROM revlog ORDER BY card"
                                         " LIMIT 20")]
    rows = []
    for k, rowid in enumerate(new + old):
        for j in range(k % 9 + 1):
            at = END - timedelta(days=60 - 5 * j, hours=k)
            rows.append((rowid, round(at.timestamp() * 1000), 1 + (j + k) % 4, 4_000, 2,
                         2.0, None if j == 0 else 5.0, int(j == 3)))
    before = _triggers(db.conn)
    with db.atomic() as conn:
        store.insert_review_rows(conn, rows)
    assert _triggers(db.conn) == before  # dropped for the insert, back as they were
    left = db.conn.execute("SELECT COUNT(*) FROM study_days_done").fetchone()[0]
    assert 0 < left < done  # the days holding a new answer were dropped, the others kept
    check(db)


def test_import_rows_in_bulk_rolled_back(db):
    """A failure inside the import's transaction leaves the triggers and the summaries as
    they were (the DROP TRIGGER is rolled back with the rows)."""
    before = _triggers(db.conn)
    kept_before = {t: kept(db.conn, t) for t in SUMMARIES}
    rowid = db.conn.execute("SELECT MIN(card) FROM revlog").fetchone()[0]
    rows = [(rowid, round((END - timedelta(days=3, minutes=m)).timestamp() * 1000), 3, 1000, 2,
             3.0, 1.0, 0) for m in range(200)]
    rows.append((rowid, round(END.timestamp() * 1000), 9, 1000, 2, 3.0, 1.0, 0))  # rating 9
    with pytest.raises(sqlite3.IntegrityError), db.atomic() as conn:
        store.insert_review_rows(conn, rows)
    assert _triggers(db.conn) == before
    assert {t: kept(db.conn, t) for t in SUMMARIES} == kept_before
    # and the triggers still work: one answer the usual way
    answer(db, rowid, END, Rating.AGAIN)
    check(db)


def test_import_rows_in_bulk_need_a_transaction(db):
    """Outside a transaction the triggers' DROP would be committed on its own: refused."""
    before = _triggers(db.conn)
    rowid = db.conn.execute("SELECT MIN(card) FROM revlog").fetchone()[0]
    with pytest.raises(RuntimeError):
        store.insert_review_rows(db.conn, [(rowid, round(END.timestamp() * 1000), 3, 1000, 2,
                                            3.0, 1.0, 0)])
    assert _triggers(db.conn) == before


def test_restore_backups_old_and_new(db, tmp_path):
    now = END + timedelta(hours=1)
    made = make_backup(db, now)  # a backup with the summaries in it
    mcq = db.conn.execute("SELECT id FROM cards WHERE kind = 'mcq' LIMIT 1").fetchone()[0]
    for m in range(5):
        answer(db, mcq, END - timedelta(minutes=m), Rating.AGAIN)
    path = db.path
    db.close()
    restore(path, made.path, now)
    with Database(path) as d:
        check(d)
    # A backup from before the summaries existed: migration 0009 fills them on open.
    old = tmp_path / "old.sqlite3"
    shutil.copy(made.path, old)
    conn = sqlite3.connect(old)
    conn.execute("DROP TABLE card_reviews")
    for kind in ("insert", "delete", "update"):
        conn.execute(f"DROP TRIGGER card_reviews_revlog_{kind}")
    conn.execute("DELETE FROM migrations WHERE name = '0009_report_speed_card_reviews'")
    conn.commit()
    conn.close()
    restore(path, old, now + timedelta(minutes=1))
    with Database(path) as d:
        check(d)


def test_doctor_finds_and_rebuilds_stale_summaries(db):
    with db.atomic() as conn:
        conn.execute("UPDATE card_reviews SET misses = misses + 1 WHERE card ="
                     " (SELECT MIN(card) FROM card_reviews)")
        conn.execute("DELETE FROM deck_reviews WHERE deck_id = 'synth-cnn'")
    assert stale_summaries(db.conn) == ["deck_reviews", "card_reviews"]
    done = fix_rows(db)
    assert done["summary tables rebuilt"] == 2
    check(db)


def test_new_parameters_repredict_and_days_follow(db):
    """Calibration replays every answer when the FSRS parameters change: the kept days,
    which count predictions, follow (and the report with the old parameters again)."""
    from quizforge.reports.calibration import refresh

    report_json(db, Scope(), True)
    params = list(Scheduler(Config()).parameters)
    params[0] *= 1.5
    refresh(db, params)
    assert stale_summaries(db.conn) == []
    check(db)


def groups_done(db: Database) -> bool:
    return db.conn.execute("SELECT 1 FROM recall_groups_done").fetchone() is not None


def test_recall_groups_follow_answers_and_drop_on_undo_or_retag(db):
    """The predictions per (deck, tag list) a --deck or --tag calibration reads: kept through
    new answers (and their predictions), dropped and built again after what the triggers
    cannot follow (an answer deleted, a card retagged)."""
    from quizforge.reports.calibration import refresh

    tag = Scope(tags=("gotcha",))
    assert groups_done(db)
    rowid = db.conn.execute("SELECT id FROM cards WHERE state = 2 AND tags LIKE '% gotcha %'"
                            " ORDER BY id LIMIT 1").fetchone()[0]
    ids = [answer(db, rowid, END - timedelta(hours=h), Rating.GOOD) for h in (30, 2)]
    refresh(db, Scheduler(Config()).parameters)  # predicts the new answers
    assert groups_done(db) and stale_summaries(db.conn) == []
    assert report_json(db, tag, True) == report_json(db, tag, False)
    with db.atomic() as conn:  # undo
        store.delete_review(conn, ids[-1])
    assert not groups_done(db)
    check(db)
    assert groups_done(db)
    with db.atomic() as conn:
        conn.execute("UPDATE cards SET tags = ' gotcha retagged ' WHERE id = ?", (rowid,))
    assert not groups_done(db)
    check(db)


def test_a_day_of_cram_answers_only_counts_in_the_calendar(db):
    """Cram answers are activity (the calendar) but not scheduled reviews: a card answered
    only in cram on a day adds to that day's count and to no trend or retention figure."""
    rowid = db.conn.execute("SELECT id FROM cards WHERE reps = 0 AND id NOT IN"
                            " (SELECT card FROM revlog) ORDER BY id LIMIT 1").fetchone()[0]
    with db.atomic() as conn:  # a tag of its own: only its answers could bring it in
        conn.execute("UPDATE cards SET tags = ' lonely ' WHERE id = ?", (rowid,))
    before = report_json(db, Scope(), True)
    for m in range(3):
        answer(db, rowid, END - timedelta(days=10, minutes=m), Rating.GOOD, cram=True)
    after = report_json(db, Scope(), True)
    assert after["activity"]["total"] == before["activity"]["total"] + 3
    assert "lonely" not in [t["topic"] for t in after["trends"]["topics"]]
    assert after["retention"] == before["retention"]
    check(db)


def test_interview_outlook_the_same_with_and_without_summaries(db):
    """With an interview date: the outlook per deck and tag (counts from card_groups)."""
    cfg = Config(interview_date=(END + timedelta(days=11)).date().isoformat())
    modules = (days_module, mastery_module)

    def outlook(summaries: bool) -> dict:
        old = [m.USE_SUMMARIES for m in modules]
        for m in modules:
            m.USE_SUMMARIES = summaries
        try:
            return build_report(db, END, Scheduler(cfg), Scope(tags=("gotcha",)),
                                Calendar(4, UTC)).to_dict()["interview"]
        finally:
            for m, value in zip(modules, old, strict=True):
                m.USE_SUMMARIES = value

    kept = outlook(True)
    assert kept["total"]["reviewed"] > 0 and kept["decks"]
    assert kept == outlook(False)


def test_doctor_rebuilds_card_and_recall_groups(db):
    with db.atomic() as conn:
        conn.execute("UPDATE card_groups SET mature = mature + 1"
                     " WHERE (deck_id, tags) = (SELECT deck_id, tags FROM card_groups LIMIT 1)")
        conn.execute("UPDATE recall_groups SET n = n + 1"
                     " WHERE (deck_id, tags, step) = (SELECT deck_id, tags, step"
                     " FROM recall_groups LIMIT 1)")
    assert stale_summaries(db.conn) == ["card_groups", "recall_groups"]
    assert fix_rows(db)["summary tables rebuilt"] == 2
    assert not groups_done(db)  # built again by the next --deck or --tag report
    check(db)


def _big_deck(deck_id: str, n: int):
    from quizforge.decks.model import MCQ, Deck

    return Deck(deck_id, deck_id, tuple(MCQ(f"q{i}", f"q{i}?", ("a", "b"), (0,))
                                        for i in range(n)), Path(f"{deck_id}.yaml"))


def test_cards_in_bulk(db):
    """A sync that adds BULK_CARDS cards or more does the cards' insert triggers' work once
    for all of them (store._insert_cards): the summaries equal a recount, the triggers are
    back as they were, and answers to the new cards are counted as usual afterwards."""
    report_json(db, Scope(), True)
    before = _triggers(db.conn)
    n = store.BULK_CARDS + 500
    store.sync_decks(db, [_big_deck("bulk", n)], END - timedelta(days=1))
    assert _triggers(db.conn) == before
    assert tuple(db.conn.execute("SELECT cards, new_cards FROM card_groups WHERE deck_id = 'bulk'"
                           ).fetchone()) == (n, n)
    check(db)
    rowid = db.conn.execute("SELECT MIN(id) FROM cards WHERE deck_id = 'bulk'").fetchone()[0]
    answer(db, rowid, END, Rating.GOOD)
    check(db)


def test_cards_in_bulk_taking_rowids_that_have_answers(db):
    """Review rows already naming the rowids the new cards take (as the per-row triggers
    allow for) are counted for their deck, and the counted days are dropped."""
    report_json(db, Scope(), True)
    top = db.conn.execute("SELECT MAX(id) FROM cards").fetchone()[0]
    db.conn.execute("PRAGMA foreign_keys = OFF")
    with db.atomic() as conn:
        for k in range(1, 4):
            conn.execute("INSERT INTO revlog (card, reviewed_at, rating, duration_ms,"
                         " state_before, interval_days, elapsed_days, cram)"
                         " VALUES (?, ?, 3, 1000, 0, 1.0, NULL, 0)",
                         (top + k, round((END - timedelta(days=2)).timestamp() * 1000)))
    db.conn.execute("PRAGMA foreign_keys = ON")
    store.sync_decks(db, [_big_deck("bulk", store.BULK_CARDS)], END - timedelta(days=1))
    assert tuple(db.conn.execute("SELECT reviews FROM deck_reviews WHERE deck_id = 'bulk'"
                           ).fetchone()) == (3,)
    check(db)


@pytest.mark.parametrize("synced", [True, False])
def test_bulk_rows_leave_the_store_as_rows_one_by_one(built, tmp_path, synced):
    """insert_review_rows (the revlog triggers set aside, their work done once, the sync
    outbox's included) leaves every table as the same rows inserted one by one with the
    triggers firing: old and new cards, out of time order, cram rows included; in a store
    that has synced (the outbox lists the new rows) and in one that never has (it lists
    none: its first sync lists them all)."""
    rows = None
    tables = {}
    for bulk in (False, True):
        path = tmp_path / f"{bulk}.sqlite3"
        shutil.copy(built, path)
        with Database(path) as d:
            if synced:
                with d.atomic() as conn:
                    conn.execute("INSERT INTO sync_device (id, device, nonce, name, location,"
                                 " created_at) VALUES (1, 'd', 'n', 'h', 'l', 0)")
            report_json(d, Scope(), True)  # counted study days, for the import to drop
            if rows is None:
                cards = [r[0] for r in d.conn.execute("SELECT id FROM cards ORDER BY id"
                                                      " LIMIT 40")]
                rows = [(rowid, round((END - timedelta(days=50 - 4 * j, hours=k))
                                      .timestamp() * 1000), 1 + (j + k) % 4, 3_000, 2, 2.0,
                         None if j == 0 else 4.0, int(j == 2))
                        for k, rowid in enumerate(cards) for j in range(k % 5 + 1)]
            with d.atomic() as conn:
                if bulk:
                    store.insert_review_rows(conn, rows)
                else:
                    conn.executemany(store._INSERT_REVIEW, rows)
            names = [r[0] for r in d.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'migrations'"
                " ORDER BY name")]
            tables[bulk] = {t: sorted(map(tuple, d.conn.execute(f"SELECT * FROM {t}")),
                                      key=repr) for t in names}
    assert bool(tables[True]["sync_outbox"]) == synced and tables[True] == tables[False]


@pytest.mark.parametrize("days", [0, 40, 400])
def test_weak_spots_from_the_mastery_pass_equal_a_full_scan(db, days):
    """The lowest recall read from the groups the mastery pass points at (and the leech
    count it holds) equal a pass over every card, as more cards fall below the target."""
    from quizforge.reports.mastery import mastery
    from quizforge.reports.recall import RecallCurve
    from quizforge.reports.weak import weak_spots

    scheduler, cal, now = Scheduler(Config()), Calendar(4, UTC), END + timedelta(days=days)
    for scope in [*SCOPES, Scope(decks=("synth-cnn",), tags=("gotcha",))]:
        table = mastery(db, now, scope, RecallCurve.of(scheduler), 0.9)
        for limit in (1, 5, 40):
            assert (weak_spots(db, now, cal, scope, scheduler, limit, table)
                    == weak_spots(db, now, cal, scope, scheduler, limit)), (scope, limit)
