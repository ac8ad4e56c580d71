import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest
from helpers import T0, make_deck

from quizforge.errors import StoreError
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Rating, Scheduler, State
from quizforge.store import cards as store
from quizforge.store import db as dbmod
from quizforge.store.db import Database, from_ms, to_ms
from quizforge.store.migrations import MIGRATIONS


@pytest.fixture(params=["memory", "file"])
def db(request, tmp_path):
    d = Database(":memory:" if request.param == "memory" else tmp_path / "s.sqlite3")
    yield d
    d.close()


def test_pragmas_on_file_store(tmp_path):
    d = Database(tmp_path / "x" / "s.sqlite3")  # parent folder created on first use
    assert d.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert d.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert d.conn.execute("PRAGMA busy_timeout").fetchone()[0] == dbmod.BUSY_TIMEOUT_MS


def test_migrations_recorded_once(tmp_path):
    path = tmp_path / "s.sqlite3"
    with Database(path) as d:
        assert d.applied_migrations() == [name for name, _ in MIGRATIONS]
    with Database(path) as d:  # reopening applies nothing twice
        assert d.migrate() == []


def test_older_database_opens_with_its_data(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    monkeypatch.setattr(dbmod, "MIGRATIONS", MIGRATIONS[:1])
    with Database(path) as d:  # a store as the first release wrote it
        d.conn.executemany(
            "INSERT INTO cards (deck_id, card_id, kind, added_at) VALUES ('d', ?, 'flashcard', 0)",
            [(f"c{i}",) for i in range(5)],
        )
    extra = ("9999_test_column", "ALTER TABLE cards ADD COLUMN note TEXT DEFAULT 'x'")
    monkeypatch.setattr(dbmod, "MIGRATIONS", [*MIGRATIONS, extra])
    with Database(path) as d:
        assert d.applied_migrations() == [name for name, _ in MIGRATIONS] + ["9999_test_column"]
        rows = d.conn.execute("SELECT card_id, note FROM cards ORDER BY id").fetchall()
        assert [tuple(r) for r in rows] == [(f"c{i}", "x") for i in range(5)]


def test_store_before_0004_keeps_its_drill_attempts_with_their_detail_backfilled(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    upto = [name for name, _ in MIGRATIONS].index("0004_drill_attempt_detail")
    monkeypatch.setattr(dbmod, "MIGRATIONS", MIGRATIONS[:upto])
    # a store as the release before Drill v2 wrote it
    with Database(path) as d, d.atomic() as conn:
        skill = store.ensure_card(conn, "drill", "backprop-d1", "skill", T0)
        conn.executemany(
            "INSERT INTO drill_attempts (attempted_at, generator, difficulty, form, seed,"
            " skills, correct, score, duration_ms, card) VALUES (?, 'backprop', 1, ?, ?,"
            " ' fan-out ', ?, ?, 9000, ?)",
            [(0, "number", 1, 1, 1.0, skill), (1000, "steps", 2, 0, 0.5, skill)],
        )
    monkeypatch.setattr(dbmod, "MIGRATIONS", MIGRATIONS)
    with Database(path) as d:
        assert d.applied_migrations() == [name for name, _ in MIGRATIONS]
        rows = d.conn.execute(
            "SELECT seed, form, correct, score, card, solved, tries, hints, revealed, rating"
            " FROM drill_attempts ORDER BY id"
        ).fetchall()
        assert [tuple(r) for r in rows] == [
            (1, "number", 1, 1.0, skill, 1, 1, 0, 0, "good"),
            (2, "steps", 0, 0.5, skill, 0, 1, 0, 0, "again"),
        ]
        with d.atomic() as conn:  # and takes new attempts with their detail
            store.insert_attempt(conn, attempt(solved=True, tries=2, rating="hard"), skill)
        row = d.conn.execute("SELECT correct, solved, tries, rating FROM drill_attempts WHERE id = 3")
        assert tuple(row.fetchone()) == (0, 1, 2, "hard")
    with Database(path) as d:  # the altered schema reads back (opens again, nothing to apply)
        assert d.migrate() == []


def attempt(correct=False, **detail):
    return store.Attempt(T0, "softmax-ce", 2, "number", 5, ("log-sum-exp",), correct, 1.0, 4000, **detail)


def test_attempt_detail_round_trips_and_defaults_to_a_first_try(db):
    with db.atomic() as conn:
        store.insert_attempt(conn, attempt(solved=True, tries=3, hints=2, rating="hard"))
        store.insert_attempt(conn, attempt(tries=1, revealed=True, rating="again"))
        store.insert_attempt(conn, attempt(True))  # old call sites: detail left out
        store.insert_attempt(conn, attempt(False))
    rows = db.conn.execute(
        "SELECT generator, correct, solved, tries, hints, revealed, rating FROM drill_attempts"
        " ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in rows] == [
        ("softmax-ce", 0, 1, 3, 2, 0, "hard"),
        ("softmax-ce", 0, 0, 1, 0, 1, "again"),
        ("softmax-ce", 1, 1, 1, 0, 0, "good"),
        ("softmax-ce", 0, 0, 1, 0, 0, "again"),
    ]
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"), db.atomic() as conn:
        store.insert_attempt(conn, attempt(True, rating="easy"))  # a drill never rates Easy


def test_failed_migration_rolls_back_with_its_record(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    Database(path).close()
    bad = ("9999_bad", "CREATE TABLE t (a INT); INSERT INTO nope VALUES (1)")
    monkeypatch.setattr(dbmod, "MIGRATIONS", [*MIGRATIONS, bad])
    with pytest.raises(StoreError, match="no such table: nope"):
        Database(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchone() is None
    assert "9999_bad" not in [r[0] for r in conn.execute("SELECT name FROM migrations")]


def test_newer_database_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    with Database(path) as d:
        d.conn.execute("INSERT INTO migrations (name, applied_at) VALUES ('9999_future', 0)")
    with pytest.raises(StoreError, match="written by a newer quizforge"):
        Database(path)


def test_not_a_database(tmp_path):
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="is damaged \\(file is not a database\\)"):
        Database(path)


def test_atomic_nests_with_savepoints(db):
    store.sync_decks(db, [make_deck(n_flash=1)], T0)
    with db.atomic() as conn:
        conn.execute("UPDATE cards SET reps = 1")
        with pytest.raises(RuntimeError), db.atomic() as c2:
            c2.execute("UPDATE cards SET reps = 2")
            raise RuntimeError
    assert db.conn.execute("SELECT reps FROM cards").fetchone()[0] == 1
    with pytest.raises(RuntimeError), db.atomic() as conn:
        conn.execute("UPDATE cards SET reps = 5")
        raise RuntimeError
    assert db.conn.execute("SELECT reps FROM cards").fetchone()[0] == 1


def test_sync_new_edited_removed_cards(db):
    deck = make_deck(n_flash=3)
    assert store.sync_decks(db, [deck], T0) == {"added": 3, "removed": 0}
    row = store.find_card(db, "d", "c1")
    s = Scheduler(Config(fuzz=False))
    after, rec = s.review(row.schedule, Rating.GOOD, T0)
    with db.atomic() as conn:
        store.write_schedule(conn, row.rowid, after)
        store.insert_review(conn, row.rowid, rec)
    # c1 edited (new text, new tag), c2 removed, c3 added
    edited = replace(deck.cards[1], front="changed", tags=("t",))
    deck2 = replace(deck, cards=(deck.cards[0], edited, make_deck(n_flash=4).cards[3]))
    assert store.sync_decks(db, [deck2], T0) == {"added": 1, "removed": 1}
    c1 = store.find_card(db, "d", "c1")
    assert c1.schedule == after and c1.tags == ("t",)
    c2 = store.find_card(db, "d", "c2")
    assert not c2.in_deck
    assert store.due_cards(db, ["d"], [], T0 + timedelta(days=9), [State.LEARNING]) == [c1]
    assert [r.card_id for r in store.new_cards(db, ["d"], [], 10)] == ["c0", "c3"]
    # history of the removed card is kept; bringing it back restores it
    assert db.conn.execute("SELECT COUNT(*) FROM revlog").fetchone()[0] == 1
    store.sync_decks(db, [deck], T0)
    assert store.find_card(db, "d", "c2").in_deck


def test_tag_filter_uses_card_and_deck_tags(db):
    deck = make_deck(n_flash=3, tags=("deep",), card_tags={"c0": ("adam",), "c2": ("adam-w",)})
    store.sync_decks(db, [deck], T0)
    assert [r.card_id for r in store.new_cards(db, ["d"], ["adam"], 10)] == ["c0"]
    assert len(store.new_cards(db, ["d"], ["deep"], 10)) == 3


def test_deck_stats_and_studied_today(db):
    store.sync_decks(db, [make_deck(n_flash=4)], T0)
    s = Scheduler(Config(fuzz=False))
    for cid in ("c0", "c1"):
        row = store.find_card(db, "d", cid)
        after, rec = s.review(row.schedule, Rating.GOOD, T0)
        with db.atomic() as conn:
            store.write_schedule(conn, row.rowid, after)
            store.insert_review(conn, row.rowid, rec)
    assert store.deck_stats(db, ["d"], T0) == {"d": {"new": 2, "due": 0, "reviews": 2}}
    assert store.deck_stats(db, ["d"], T0 + timedelta(minutes=10))["d"]["due"] == 2
    assert store.studied_today(db, T0 - timedelta(hours=1)) == {"new": 2, "reviews": 0}
    assert store.studied_today(db, T0 + timedelta(hours=1)) == {"new": 0, "reviews": 0}


def test_ms_round_trip():
    assert from_ms(to_ms(T0)) == T0
    assert to_ms(None) is None and from_ms(None) is None


def test_sync_skips_unchanged_decks(db):
    deck = make_deck(n_flash=3)
    store.sync_decks(db, [deck], T0)
    db.conn.execute("UPDATE cards SET tags = ' tampered '")  # would be repaired by a full sync
    store.sync_decks(db, [deck], T0)
    assert store.find_card(db, "d", "c0").tags == ("tampered",)  # skipped: deck unchanged
    store.sync_decks(db, [replace(deck, cards=deck.cards[:2])], T0)
    assert store.find_card(db, "d", "c0").tags == () and not store.find_card(db, "d", "c2").in_deck


def _open_after(barrier, path, results):
    barrier.wait()
    try:
        Database(path).close()
        results.put("ok")
    except StoreError as e:
        results.put(str(e))


def test_processes_creating_the_store_at_once(tmp_path):
    """Regression: switching a new file to WAL does not wait on the busy handler, so two
    processes creating the store together got 'database is locked'."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    outcomes = []
    for round_ in range(25):
        path = tmp_path / f"s{round_}.sqlite3"
        barrier, results = ctx.Barrier(3), ctx.Queue()
        procs = [ctx.Process(target=_open_after, args=(barrier, path, results)) for _ in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        outcomes += [results.get(timeout=60) for _ in procs]
    assert set(outcomes) == {"ok"}


# -- per-deck review counts (migration 0007) ---------------------------------------------


def counted(d) -> dict[str, int]:
    return {k: n for k, n in d.conn.execute("SELECT deck_id, reviews FROM deck_reviews") if n}


def joined(d) -> dict[str, int]:
    """The reference: revlog rows whose card is in each deck, counted."""
    return dict(d.conn.execute(
        "SELECT c.deck_id, COUNT(*) FROM revlog v JOIN cards c ON c.id = v.card GROUP BY c.deck_id"
    ).fetchall())


def review(d, deck_id, card_id, at=T0) -> int:
    row = store.find_card(d, deck_id, card_id)
    after, rec = Scheduler(Config(fuzz=False)).review(row.schedule, Rating.GOOD, at)
    with d.atomic() as conn:
        store.write_schedule(conn, row.rowid, after)
        return store.insert_review(conn, row.rowid, rec)


def test_review_counts_per_deck_follow_every_write_to_the_review_log(db):
    store.sync_decks(db, [make_deck("a", n_flash=3), make_deck("b", n_flash=2)], T0)
    ids = [review(db, "a", "c0"), review(db, "a", "c1"), review(db, "b", "c0"), review(db, "a", "c0")]
    assert counted(db) == joined(db) == {"a": 3, "b": 1}
    with db.atomic() as conn:
        store.delete_review(conn, ids[0])  # undo
    assert counted(db) == joined(db) == {"a": 2, "b": 1}
    b_card = store.find_card(db, "b", "c1").rowid
    with db.atomic() as conn:
        conn.execute("UPDATE revlog SET card = ? WHERE id = ?", (b_card, ids[1]))
    assert counted(db) == joined(db) == {"a": 1, "b": 2}
    # What a damaged store may hold (the foreign key off): a review whose card is missing.
    db.conn.execute("PRAGMA foreign_keys = OFF")
    with db.atomic() as conn:
        conn.execute("INSERT INTO revlog (card, reviewed_at, rating, duration_ms, state_before,"
                     " interval_days) VALUES (999, 0, 3, 1, 0, 1.0)")  # no such card: not counted
    assert counted(db) == joined(db) == {"a": 1, "b": 2}
    with db.atomic() as conn:  # the card arrives after its review; then a card goes
        conn.execute("INSERT INTO cards (id, deck_id, card_id, kind, added_at)"
                     " VALUES (999, 'c', 'x', 'flashcard', 0)")
        conn.execute("DELETE FROM revlog WHERE card = ?", (b_card,))
        conn.execute("DELETE FROM cards WHERE id = ?", (b_card,))
    assert counted(db) == joined(db) == {"a": 1, "b": 1, "c": 1}
    with db.atomic() as conn:
        conn.execute("UPDATE cards SET deck_id = 'a' WHERE id = 999")
    assert counted(db) == joined(db) == {"a": 2, "b": 1}
    db.conn.execute("PRAGMA foreign_keys = ON")
    stats = store.deck_stats(db, ["a", "b", "none"], T0)
    assert {k: v["reviews"] for k, v in stats.items()} == {"a": 2, "b": 1, "none": 0}


def test_a_store_before_0007_gets_its_review_counts(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    upto = [name for name, _ in MIGRATIONS].index("0007_deck_review_counts")
    monkeypatch.setattr(dbmod, "MIGRATIONS", MIGRATIONS[:upto])
    with Database(path) as d:
        store.sync_decks(d, [make_deck("a", n_flash=3), make_deck("b", n_flash=2)], T0)
        for deck_id, card_id in [("a", "c0"), ("a", "c0"), ("b", "c1")]:
            review(d, deck_id, card_id)
    monkeypatch.setattr(dbmod, "MIGRATIONS", MIGRATIONS)
    with Database(path) as d:
        assert counted(d) == joined(d) == {"a": 2, "b": 1}
        review(d, "a", "c2")
        assert counted(d) == joined(d) == {"a": 3, "b": 1}


def test_migration_statements_split_on_semicolons_but_keep_trigger_bodies_whole():
    sql = """
        CREATE TABLE t (x INTEGER);
        CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
            UPDATE t SET x = x + 1 WHERE rowid = NEW.rowid;
            UPDATE t SET x = x + 1 WHERE rowid = NEW.rowid;
        END;
        INSERT INTO t VALUES (1)
    """
    statements = dbmod._statements(sql)
    assert [s.split()[:2] for s in statements] == [["CREATE", "TABLE"], ["CREATE", "TRIGGER"],
                                                   ["INSERT", "INTO"]]
    assert statements[1].endswith("NEW.rowid;\n        END")
    conn = sqlite3.connect(":memory:")
    for s in statements:
        conn.execute(s)
    assert conn.execute("SELECT x FROM t").fetchall() == [(3,)]


def test_drill_skills_do_not_use_up_the_days_new_cards(tmp_path):
    """`quizforge drill` schedules its skills as cards of their own; study never shows them,
    so their answers count for neither of the day's limits (new cards, reviews)."""
    from quizforge.scheduling.scheduler import ReviewRecord

    with Database(tmp_path / "q.sqlite3") as db:
        store.sync_decks(db, [make_deck("d", 3)], T0)
        first = ReviewRecord(T0, Rating.GOOD, 1000, State.NEW, 1.0, None, False, False)
        again = replace(first, state_before=State.REVIEW, elapsed_days=3.0)
        with db.atomic() as conn:
            skill = store.ensure_card(conn, "drill", "attention", "skill", T0)
            other = store.ensure_card(conn, "drill", "conv", "skill", T0)
            store.insert_review(conn, skill, first)
            store.insert_review(conn, other, again)
            store.insert_review(conn, store.find_card(db, "d", "c0").rowid, first)
            store.insert_review(conn, store.find_card(db, "d", "c1").rowid, again)
        assert store.studied_today(db, T0 - timedelta(hours=1)) == {"new": 1, "reviews": 1}
