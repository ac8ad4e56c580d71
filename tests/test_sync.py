"""`quizforge sync` through the library: two and three stores against one folder."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from helpers import T0, make_deck

from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Rating, Scheduler
from quizforge.store import cards as store
from quizforge.store.db import Database
from quizforge.study.session import Session, StudyOptions
from quizforge.sync import SyncError, segment, sync
from quizforge.sync.merge import replay

DECK = make_deck("d", 8)
CFG = Config()
CARD_ROWS = ("SELECT deck_id, card_id, kind, state, step, stability, difficulty, due, last_review,"
             " reps, lapses, suspended, leech FROM cards ORDER BY deck_id, card_id")


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "Sync"
    d.mkdir()
    return d


@pytest.fixture
def homes(tmp_path):
    opened = []

    def make(name):
        db = Database(tmp_path / f"{name}.sqlite3")
        opened.append(db)
        store.sync_decks(db, [DECK], T0)  # the deck files are on every machine
        return db

    yield make
    for db in opened:
        db.close()


def study(db, now, ratings, decks=(DECK,), limit=None, card=None):
    """Answer the session's cards in order with `ratings`, 30 s apart. Returns the session
    (for undo) and the time after the last answer."""
    s = Session(db, list(decks), Scheduler(CFG), StudyOptions(limit=limit), now)
    for r in ratings:
        nxt = s.next(now)
        if nxt is None:
            break
        s.answer(nxt[0], r, now, 4000)
        now += timedelta(seconds=30)
    return s, now


def answer(db, deck_id, card_id, rating, now):
    """Answer one named card, as study does (schedule, then log, one transaction)."""
    s = Session(db, [DECK], Scheduler(CFG), StudyOptions(), now)
    row = store.find_card(db, deck_id, card_id)
    from quizforge.study.queue import Entry

    return s, s.answer(Entry(row.rowid, deck_id, card_id, row.schedule), rating, now, 3000)


def table(db):
    return [tuple(r) for r in db.conn.execute(CARD_ROWS)]


def revlog(db):
    return sorted(tuple(r) for r in db.conn.execute(
        "SELECT c.deck_id, c.card_id, v.reviewed_at, v.rating, v.duration_ms, v.state_before,"
        " v.cram FROM revlog v JOIN cards c ON c.id = v.card"))


def sync_all(folder, now, *dbs, rounds=2):
    out = []
    for _ in range(rounds):
        for db in dbs:
            out.append(sync(db, folder, now, CFG))
    return out


def test_different_cards_offline_then_both_ways_give_equal_card_tables(folder, homes):
    a, b = homes("a"), homes("b")
    study(a, T0, [Rating.GOOD, Rating.AGAIN, Rating.EASY], limit=3)
    study(b, T0 + timedelta(hours=2), [Rating.HARD] * 2, decks=(DECK,), limit=2)
    # b's session took its first new cards too: make b answer other cards
    answer(b, "d", "c6", Rating.GOOD, T0 + timedelta(hours=3))
    answer(b, "d", "c7", Rating.AGAIN, T0 + timedelta(hours=3, minutes=1))
    first = sync(a, folder, T0 + timedelta(hours=4), CFG)
    assert (first.sent, first.received) == (3, 0)
    second = sync(b, folder, T0 + timedelta(hours=4), CFG)
    assert (second.sent, second.received, second.devices) == (4, 3, 1)
    third = sync(a, folder, T0 + timedelta(hours=4), CFG)
    assert (third.sent, third.received, third.devices) == (0, 4, 1)
    assert table(a) == table(b)
    assert revlog(a) == revlog(b) and len(revlog(a)) == 7
    again = sync_all(folder, T0 + timedelta(hours=5), a, b)
    assert all((r.sent, r.received, r.cards_updated) == (0, 0, 0) for r in again)


def test_interleaved_answers_to_one_card_three_homes(folder, homes):
    a, b, c = homes("a"), homes("b"), homes("c")
    t = T0
    for db in (a, b, c):
        store.sync_decks(db, [DECK], t)
    answer(a, "d", "c0", Rating.GOOD, t)
    answer(b, "d", "c0", Rating.AGAIN, t + timedelta(minutes=1))
    answer(a, "d", "c0", Rating.GOOD, t + timedelta(minutes=12))
    answer(c, "d", "c0", Rating.EASY, t + timedelta(minutes=13))
    answer(b, "d", "c0", Rating.GOOD, t + timedelta(days=1))
    answer(c, "d", "c1", Rating.HARD, t + timedelta(days=1))
    sync_all(folder, t + timedelta(days=2), a, b, c)
    assert table(a) == table(b) == table(c)
    assert len(revlog(a)) == 6
    # the merged schedule is the replay of all five answers to c0 in time order
    row = store.find_card(a, "d", "c0").schedule
    assert row.reps == 5 and row.last_review == t + timedelta(days=1)
    # then each answers again on top of the merged state, offline, and syncs once more
    answer(a, "d", "c0", Rating.GOOD, t + timedelta(days=5))
    answer(c, "d", "c0", Rating.HARD, t + timedelta(days=5, hours=1))
    sync_all(folder, t + timedelta(days=6), a, b, c)
    assert table(a) == table(b) == table(c)


def test_a_local_answer_replays_to_what_the_scheduler_gave(folder, homes):
    a = homes("a")
    s, now = study(a, T0, [Rating.GOOD, Rating.AGAIN, Rating.GOOD, Rating.EASY, Rating.HARD,
                           Rating.GOOD, Rating.GOOD], limit=3)
    for row in store.all_cards(a, ["d"], ()):
        answers = [{"at": at, "rating": r, "ms": ms, "ivl_ms": 0} for at, r, ms in a.conn.execute(
            "SELECT reviewed_at, rating, duration_ms FROM revlog WHERE card = ? AND cram = 0"
            " ORDER BY reviewed_at, id", (row.rowid,))]
        if not answers:
            continue
        got = replay(Scheduler(CFG), answers)
        mine = row.schedule
        assert (got.state, got.step, got.stability, got.difficulty, got.reps, got.lapses,
                got.leech, got.last_review) == (mine.state, mine.step, mine.stability,
                                                mine.difficulty, mine.reps, mine.lapses,
                                                mine.leech, mine.last_review)


def test_undo_of_a_synced_answer_propagates(folder, homes):
    a, b = homes("a"), homes("b")
    s, now = study(a, T0, [Rating.GOOD, Rating.GOOD], limit=2)
    sync_all(folder, now, a, b)
    assert len(revlog(b)) == 2
    assert s.undo() is not None  # the second answer, already in the folder
    assert len(revlog(a)) == 1
    r = sync(a, folder, now + timedelta(minutes=1), CFG)
    assert r.sent == 1  # the undo record
    r = sync(b, folder, now + timedelta(minutes=1), CFG)
    assert r.received == 1 and r.cards_updated == 1
    assert revlog(a) == revlog(b) and table(a) == table(b)
    assert store.find_card(b, "d", "c1").schedule.reps == 0


def test_suspension_propagates_last_event_wins(folder, homes):
    a, b = homes("a"), homes("b")
    s, now = study(a, T0, [Rating.GOOD], limit=1)
    sync_all(folder, now, a, b)
    row = store.find_card(a, "d", "c0")
    s.suspend(s._entry(row))
    sync_all(folder, now + timedelta(minutes=1), a, b)
    assert store.find_card(b, "d", "c0").schedule.suspended
    store.set_suspended(b, store.find_card(b, "d", "c0").rowid, False)
    sync_all(folder, now + timedelta(minutes=2), b, a)
    assert not store.find_card(a, "d", "c0").schedule.suspended
    assert table(a) == table(b)


def test_cards_updated_counts_the_cards_whose_row_changed(folder, homes):
    """`cards updated` is the count of card rows an import changed: a suspension counts,
    a suspension and its undoing before a sync (the card as it was) does not, nor does an
    answer this store already holds."""
    a, b = homes("a"), homes("b")
    s, now = study(a, T0, [Rating.GOOD, Rating.GOOD], limit=2)
    assert sync_all(folder, now, a, b)[1].cards_updated == 2
    row = store.find_card(a, "d", "c0")
    s.suspend(s._entry(row))
    r = sync_all(folder, now + timedelta(minutes=1), a, b)[1]
    assert (r.received, r.cards_updated) == (1, 1)
    store.set_suspended(a, row.rowid, False)
    sync(a, folder, now + timedelta(minutes=2), CFG)
    store.set_suspended(a, row.rowid, True)
    store.set_suspended(a, row.rowid, False)
    store.set_suspended(b, row.rowid, False)  # b unsuspends it too, before it hears of a's
    r = sync_all(folder, now + timedelta(minutes=3), a, b)[1]
    assert r.received >= 1 and r.cards_updated == 0
    assert table(a) == table(b)


def test_half_written_segment_is_skipped_then_read(folder, homes, tmp_path):
    a, b = homes("a"), homes("b")
    study(a, T0, [Rating.GOOD] * 3, limit=3)
    r = sync(a, folder, T0 + timedelta(hours=1), CFG)
    path = folder / segment.ROOT / r.device / r.segment
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) * 2 // 3])  # the sync tool copied part of it
    r = sync(b, folder, T0 + timedelta(hours=1), CFG)
    assert r.received == 0 and len(r.notes) == 1
    assert r.notes[0].startswith(f"segment {r.notes[0].split()[1]} is not complete yet")
    again = sync(b, folder, T0 + timedelta(hours=1), CFG)
    assert again.received == 0 and again.notes == []  # unchanged: not read again
    path.write_bytes(whole)
    r = sync(b, folder, T0 + timedelta(hours=2), CFG)
    assert r.received == 3 and r.notes == []
    assert table(a) == table(b)


def test_conflict_copies_do_not_double_anything(folder, homes):
    from quizforge.sync.status import status

    a, b = homes("a"), homes("b")
    study(a, T0, [Rating.GOOD] * 3, limit=3)
    r = sync(a, folder, T0 + timedelta(hours=1), CFG)
    own = folder / segment.ROOT / r.device
    seg = own / r.segment
    names = ["seg-00000001.sync-conflict-20260302-130000-ABCDEFG.jsonl",
             "seg-00000001 (conflicted copy 2026-03-02).jsonl", "seg-00000001 (1).jsonl"]
    for name in names:
        shutil.copy(seg, own / name)
    got = sync(b, folder, T0 + timedelta(hours=1), CFG)
    assert got.received == 3
    assert len(revlog(b)) == 3 and table(a) == table(b)
    st = status(b, folder / segment.ROOT)
    assert sorted(st.conflict_copies) == sorted(f"{r.device[:8]}/{n}" for n in names)
    assert all(p.exists() for p in own.iterdir())  # never deleted


def test_deleted_own_segment_is_written_again_with_the_same_uids(folder, homes):
    a, b, c = homes("a"), homes("b"), homes("c")
    study(a, T0, [Rating.GOOD] * 3, limit=3)
    first = sync(a, folder, T0 + timedelta(hours=1), CFG)
    sync(b, folder, T0 + timedelta(hours=1), CFG)  # b read it before it was deleted
    (folder / segment.ROOT / first.device / first.segment).unlink()
    r = sync(a, folder, T0 + timedelta(hours=2), CFG)
    assert r.sent == 3 and r.segment == "seg-00000002.jsonl"
    assert any("were missing from the sync folder" in n for n in r.notes)
    for db in (b, c):
        sync(db, folder, T0 + timedelta(hours=2), CFG)
    assert len(revlog(b)) == len(revlog(c)) == 3
    assert table(a) == table(b) == table(c)


def test_clock_hours_ahead_is_noted_and_the_result_identical(folder, homes):
    a, b = homes("a"), homes("b")
    skewed = T0 + timedelta(hours=5)  # b's clock is five hours ahead
    study(a, T0, [Rating.GOOD, Rating.AGAIN], limit=2)
    answer(b, "d", "c0", Rating.EASY, skewed)
    sync(b, folder, skewed, CFG)
    r = sync(a, folder, T0 + timedelta(minutes=5), CFG)
    assert any("clock looks 4.9 hours ahead" in n for n in r.notes), r.notes
    sync_all(folder, T0 + timedelta(minutes=6), b, a)
    assert table(a) == table(b)
    assert len(revlog(a)) == 3


def test_a_copied_store_takes_a_new_device_id(folder, homes, tmp_path):
    a = homes("a")
    study(a, T0, [Rating.GOOD] * 2, limit=2)
    first = sync(a, folder, T0 + timedelta(hours=1), CFG)
    a.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(tmp_path / "a.sqlite3", tmp_path / "c.sqlite3")
    c = homes("c")
    answer(c, "d", "c5", Rating.GOOD, T0 + timedelta(hours=2))
    r = sync(c, folder, T0 + timedelta(hours=3), CFG)
    assert r.device != first.device
    assert any(n.startswith(f"this store is a copy of device {first.device[:8]}") for n in r.notes)
    assert r.sent == 1  # only the answer made since the copy
    r = sync(a, folder, T0 + timedelta(hours=3), CFG)
    assert r.received == 1
    sync(c, folder, T0 + timedelta(hours=3), CFG)
    assert revlog(a) == revlog(c) and len(revlog(a)) == 3
    assert table(a) == table(c)
    # the original keeps its id
    assert sync(a, folder, T0 + timedelta(hours=4), CFG).device == first.device


def test_a_review_for_a_card_not_here_waits_for_it(folder, homes):
    other = make_deck("e", 2)
    a, b = homes("a"), homes("b")
    study(a, T0, [Rating.GOOD], decks=(other,), limit=1)
    sync(a, folder, T0 + timedelta(hours=1), CFG)
    store.sync_decks(b, [DECK], T0)
    r = sync(b, folder, T0 + timedelta(hours=1), CFG)
    assert (r.received, r.pending) == (1, 1) and len(revlog(b)) == 0
    store.sync_decks(b, [other], T0 + timedelta(hours=2))  # the deck arrives
    r = sync(b, folder, T0 + timedelta(hours=2), CFG)
    assert r.pending == 0 and r.cards_updated == 1
    assert revlog(a) == revlog(b)
    ea = [t for t in table(a) if t[0] == "e"]
    assert ea == [t for t in table(b) if t[0] == "e"]


def test_settings_last_writer_wins(folder, homes):
    a, b = homes("a"), homes("b")
    sync_all(folder, T0, a, b)
    saved = []
    tuned = Config(desired_retention=0.85, sync_dir="/here")
    r = sync(a, folder, T0 + timedelta(hours=1), tuned)
    assert r.sent == 1  # desired_retention; sync_dir stays on its machine
    r = sync(b, folder, T0 + timedelta(hours=2), Config(sync_dir="/there"), saved.append)
    assert r.settings == {"desired_retention": 0.85}
    assert saved[0].desired_retention == 0.85 and saved[0].sync_dir == "/there"


def test_drill_attempts_and_mock_rounds_travel(folder, homes):
    from quizforge.store import rounds
    from quizforge.study.mastery import record_drill_attempt

    a, b = homes("a"), homes("b")
    store.sync_decks(a, [DECK], T0)
    store.sync_decks(b, [DECK], T0)
    att = store.Attempt(T0, "backprop", 2, "number", 7, ("chain-rule",), True, 1.0, 9000)
    record_drill_attempt(a, Scheduler(CFG), att, T0)
    rid = rounds.start_round(a, T0, 20, 2, 5, ("d",))
    from quizforge.study.mock import Candidate, commit_answer

    row = store.find_card(a, "d", "c3")
    cand = Candidate(row.rowid, "d", "c3", "flashcard", row.schedule)
    commit_answer(a, Scheduler(CFG), rid, 1, cand, Rating.GOOD, 1.0, ["t"], ["explaining"],
                  T0 + timedelta(minutes=1), 5000)
    rounds.finish_round(a, rid, T0 + timedelta(minutes=20), "done")
    sync_all(folder, T0 + timedelta(hours=1), a, b)
    q_att = ("SELECT attempted_at, generator, difficulty, seed, skills, correct, score"
             " FROM drill_attempts")
    assert [tuple(r) for r in b.conn.execute(q_att)] == [tuple(r) for r in a.conn.execute(q_att)]
    ra, rb = rounds.load_rounds(a), rounds.load_rounds(b)
    assert [(r.started_at, r.ended, r.answers) for r in ra] == [(r.started_at, r.ended, r.answers)
                                                               for r in rb]
    assert table(a) == table(b)


def test_summaries_after_sync_equal_a_recount(folder, homes):
    from quizforge.store.health import stale_summaries

    a, b = homes("a"), homes("b")
    s, now = study(a, T0, [Rating.GOOD, Rating.AGAIN, Rating.GOOD], limit=3)
    study(b, T0, [Rating.EASY], limit=1)
    sync_all(folder, now, a, b)
    s.undo()
    sync_all(folder, now + timedelta(minutes=1), a, b)
    assert stale_summaries(a.conn) == [] and stale_summaries(b.conn) == []


def test_segment_format_checks_every_line():
    data = segment.encode({"device": "x" * 32, "seq": 1, "written_at": 0, "name": "h"},
                          [{"t": "undo", "uid": "y/1"}])
    seg = segment.decode(data)
    assert seg.records == [{"t": "undo", "uid": "y/1"}]
    for bad in (data[:-1], data[:-40], data.replace(b"y/1", b"y/2")):
        with pytest.raises(segment.Incomplete):
            segment.decode(bad)
    first = data.split(b"\n")[1]
    assert segment.line_ok(first) and not segment.line_ok(first.replace(b"undo", b"oops"))


def test_bad_folders_are_one_line_errors(tmp_path, homes):
    a = homes("a")
    with pytest.raises(SyncError, match="does not exist"):
        sync(a, tmp_path / "nope", T0, CFG)
    (tmp_path / "file").write_text("x")
    with pytest.raises(SyncError, match="is not a directory"):
        sync(a, tmp_path / "file", T0, CFG)


def test_in_a_git_work_tree_sync_commits_its_own_folder(folder, homes):
    if shutil.which("git") is None:
        pytest.skip("no git")
    env = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run(["git", "-C", str(folder), *env, "commit", "-q", "--allow-empty", "-m", "start"],
                   check=True)
    subprocess.run(["git", "-C", str(folder), "config", "user.name", "t"], check=True)
    subprocess.run(["git", "-C", str(folder), "config", "user.email", "t@example.com"], check=True)
    a = homes("a")
    study(a, T0, [Rating.GOOD], limit=1)
    r = sync(a, folder, T0 + timedelta(hours=1), CFG)
    assert r.notes == []
    log = subprocess.run(["git", "-C", str(folder), "log", "--format=%s", "--name-only", "-1"],
                         capture_output=True, text=True, check=True).stdout
    assert f"({r.device[:8]}) segment 1" in log
    assert f"quizforge-sync/{r.device}/seg-00000001.jsonl" in log
    assert f"quizforge-sync/{r.device}/device.json" in log
    st = subprocess.run(["git", "-C", str(folder), "status", "--porcelain"], capture_output=True,
                        text=True, check=True).stdout
    assert st == ""


def test_a_big_import_sets_the_triggers_aside_and_keeps_every_summary(folder, homes, monkeypatch):
    from quizforge.store.health import stale_summaries
    from quizforge.sync import merge

    monkeypatch.setattr(merge, "BULK", 1)  # the million-review path, on a few reviews
    a, b = homes("a"), homes("b")
    study(a, T0, [Rating.GOOD, Rating.AGAIN, Rating.GOOD, Rating.EASY], limit=3)
    study(b, T0, [Rating.AGAIN], limit=1)
    sync_all(folder, T0 + timedelta(hours=1), a, b)
    assert table(a) == table(b) and revlog(a) == revlog(b)
    assert stale_summaries(a.conn) == [] and stale_summaries(b.conn) == []
    triggers = "SELECT name FROM sqlite_master WHERE type IN ('trigger', 'index') ORDER BY 1"
    fresh = Database(":memory:")
    assert [r[0] for r in b.conn.execute(triggers)] == [r[0] for r in fresh.conn.execute(triggers)]
    # and the rows imported in bulk are not sent back
    assert b.conn.execute("SELECT COUNT(*) FROM sync_outbox").fetchone()[0] == 0


def test_the_same_answers_held_by_two_stores_are_kept_once(folder, homes):
    """Two machines that imported the same Anki history each hold its answers as their
    own, under different uids: the same card, millisecond and rating is one answer, on
    them and on a third machine that receives both copies."""
    a, b, c = homes("a"), homes("b"), homes("c")
    for db in (a, b):  # the same answers, at the same moments, on both machines
        answer(db, "d", "c0", Rating.GOOD, T0)
        answer(db, "d", "c0", Rating.AGAIN, T0 + timedelta(days=3))
        answer(db, "d", "c1", Rating.EASY, T0 + timedelta(hours=1))
    later = T0 + timedelta(days=4)
    sync_all(folder, later, a, b, c)
    for db in (a, b, c):
        assert len(revlog(db)) == 3
        assert revlog(db) == revlog(a)
        assert table(db) == table(a)
    # one more answer on b reaches both others once, and the replay counts each answer once
    answer(b, "d", "c0", Rating.GOOD, later)
    sync_all(folder, later + timedelta(minutes=5), a, b, c)
    for db in (a, b, c):
        assert len(revlog(db)) == 4 and table(db) == table(b)
    assert dict((r[1], r[9]) for r in table(a))["c0"] == 3  # reps: three answers, not five


@pytest.mark.parametrize("packed, size, lines_of_answers", [
    (False, segment.BATCH + 5, 2),  # format 1: JSON rows, BATCH to a line
    (True, segment.PACK + 5, 2),  # format 2: packed columns, PACK to a line
])
def test_answers_travel_many_to_a_line(packed, size, lines_of_answers):
    cards = [["d", f"c{i}", "flashcard"] for i in range(3)]
    rows = [[i + 1, i % 3, 1000 * i, 3, 4000, 2, 86_400_000 - i, 1.5 if i % 7 else None,
             i % 5 == 0, None] for i in range(size)]
    rows[-1][-1] = [2, None, 12.25, 5.5, 99_000_000, 4, 0, 0]
    rows[7][-1] = [1, 0, 2.3065, 2.1181, None, 1, 0, 1]
    for row in rows:
        row[8] = int(row[8])
    data = segment.encode({"device": "x" * 32, "seq": 1, "written_at": 0, "name": "h"},
                          [{"t": "undo", "uid": "y/1"}], rows, cards, packed=packed)
    lines = data.split(b"\n")
    # header, cards, the answers, undo, trailer, ""
    assert len(lines) == 1 + 1 + lines_of_answers + 1 + 1 + 1
    assert all(segment.line_ok(raw) for raw in lines[:-2])
    assert all((b'"t":"packed"' in raw) == packed for raw in lines[2:2 + lines_of_answers])
    seg = segment.decode(data)
    assert seg.header["format"] == (2 if packed else 1)
    assert seg.reviews == rows and seg.cards == cards
    assert [list(r) for r in zip(*seg.columns)] == rows  # the columns the merge reads
    assert seg.records == [{"t": "undo", "uid": "y/1"}]


def test_a_packed_segment_is_a_third_of_the_json_one():
    cards = [["d", f"c{i}", "flashcard"] for i in range(50)]
    rows = [[i + 1, i % 50, 1_700_000_000_000 + 60_000 * i, 1 + i % 4, 4000 + i % 900, i % 3,
             86_400_000 * (i % 30), (i % 30) / 1.5, 0, None] for i in range(20_000)]
    header = {"device": "x" * 32, "seq": 1, "written_at": 0, "name": "h"}
    packed = segment.encode(header, [], rows, cards)
    assert len(packed) * 3 < len(segment.encode(header, [], rows, cards, packed=False))


def test_a_value_no_packed_column_holds_is_sent_as_a_json_row():
    """A damaged store's answer (a number past 64 bits, a text in a number's column) goes
    out as before, a JSON row, for the reader to refuse with its note; the export does not
    fail on it."""
    cards = [["d", "c0", "flashcard"]]
    rows = [[1, 0, 1000, 3, 4000, 2, 1 << 70, None, 0, None]]
    data = segment.encode({"device": "x" * 32, "seq": 1, "written_at": 0, "name": "h"}, [],
                          rows, cards)
    assert b'"t":"reviews"' in data and b'"t":"packed"' not in data
    with pytest.raises(segment.Bad, match="ivl_ms is out of range"):
        segment.decode(data)


@pytest.mark.parametrize("change, why", [
    (lambda r: r.append(1), "not 10 values"),
    (lambda r: r.__setitem__(0, "7"), "n is str"),
    (lambda r: r.__setitem__(1, 3), "names card 3 of the 3 listed"),
    (lambda r: r.__setitem__(2, 10 ** 30), "at is out of range"),
    (lambda r: r.__setitem__(3, 9), "rating is out of range"),
    (lambda r: r.__setitem__(7, float("inf")), "elapsed is not a finite number"),
    (lambda r: r.__setitem__(8, True), "cram is bool"),
    (lambda r: r.__setitem__(9, [1, 2]), "not a list of 8 values"),
    (lambda r: r.__setitem__(9, [2, None, "x", 5.5, 9, 4, 0, 0]), "after[2] is str"),
])
def test_a_malformed_reviews_line_makes_the_segment_bad(folder, homes, change, why):
    """A whole segment (its checksum matches) with a review row no quizforge writes: one
    note, the segment recorded as bad, nothing of it applied (not even its good rows)."""
    a, b = homes("a"), homes("b")
    study(a, T0, [Rating.GOOD] * 3, limit=3)
    r = sync(a, folder, T0 + timedelta(hours=1), CFG)
    path = folder / segment.ROOT / r.device / r.segment
    seg = segment.decode(path.read_bytes())
    rows = list(seg.reviews)
    change(rows[-1])
    path.write_bytes(segment.encode({k: v for k, v in seg.header.items()
                                     if k not in ("t", "format")},
                                    seg.records, rows, seg.cards, packed=False))
    got = sync(b, folder, T0 + timedelta(hours=1), CFG)
    assert got.received == 0 and revlog(b) == []
    assert len(got.notes) == 1 and why in got.notes[0], got.notes
    assert got.notes[0].startswith(f"segment {r.device[:8]}/{r.segment} cannot be read (line 3:")
    assert b.conn.execute("SELECT status FROM sync_files WHERE name = ?",
                          (r.segment,)).fetchone()[0] == "bad"
    assert sync(b, folder, T0 + timedelta(hours=2), CFG).notes == []  # unchanged: not again
    from quizforge.sync.status import status

    assert status(b, folder / segment.ROOT).bad == [f"{r.device[:8]}/{r.segment}"]


def _packed(rows=None, **changes) -> bytes:
    """A whole segment (a valid trailer) of one `packed` line, changed as given."""
    rows = rows or [[i + 1, i % 2, 1000 * i, 3, 4000, 2, 86_400_000, 1.5, 0, None]
                    for i in range(10)]
    rec = {**segment.pack([list(c) for c in zip(*rows)]), **changes}
    header = {"t": "segment", "format": 2, "device": "x" * 32, "seq": 1, "written_at": 0,
              "name": "h"}
    body = b"".join(segment.line(r) + b"\n" for r in (
        header, {"t": "cards", "cols": list(segment.CARD_COLUMNS),
                 "rows": [["d", "c0", "flashcard"], ["d", "c1", "flashcard"]]}, rec))
    import hashlib

    return body + segment.dumps({"t": "end", "count": 3,
                                 "sha256": hashlib.sha256(body).hexdigest()}) + b"\n"


def _zstd(raw: bytes, **kw) -> str:
    import base64

    import zstandard

    return base64.b64encode(zstandard.ZstdCompressor(**kw).compress(raw)).decode()


def _row(**values) -> list:
    row = [1, 0, 1000, 3, 4000, 2, 86_400_000, 1.5, 0, None]
    for name, v in values.items():
        row[segment.REVIEW_COLUMNS.index(name)] = v
    return row


@pytest.mark.parametrize("damage, why", [
    (dict(count=11), "data is not 11 answers"),
    (dict(count=0), "count is not 1 to"),
    (dict(count=segment.PACK + 1), "count is not 1 to"),
    (dict(count=True), "count is not 1 to"),
    (dict(data="not base64!"), "data is not 10 answers"),
    (dict(data=_zstd(b"\0" * 719)), "data is not 10 answers"),
    (dict(data=_zstd(b"\0" * 721)), "data is not 10 answers"),
    (dict(data=_zstd(b"x" * 720)[:-4]), "data is not 10 answers"),  # cut short
    (dict(data=7), "without data"),
    (dict(after={"0": 1}), "without data"),
    (dict(types="qqqqqqqqq"), "packed answers with columns"),
    (dict(cols=["n"]), "packed answers with columns"),
    (dict(after=[[10, 2, None, 1.0, 1.0, 5, 1, 0, 0]]), "place is out of range"),
    (dict(after=[[3, 2, None, 1.0, 1.0, 5, 1, 0, 0]] * 2), "two 'after's for one answer"),
    (dict(after=[[3, 2, None, 1.0, 1.0, 5, 1, 0]]), "not a list of 9 values"),
    (dict(after=[[3, 2, None, "x", 1.0, 5, 1, 0, 0]]), "after[2] is str"),
    (dict(after=[[3, None, None, 1.0, 1.0, 5, 1, 0, 0]]), "after[0] is NoneType"),
])
def test_a_damaged_packed_line_makes_the_segment_bad(damage, why):
    """A packed line whose checksum matches but whose content no quizforge writes: Bad,
    naming what is wrong; never more decompressed than the answers it says it holds."""
    with pytest.raises(segment.Bad, match=re.escape(why)):
        segment.decode(_packed(**damage))


def test_a_zstd_bomb_in_a_packed_line_is_refused_unread():
    """A frame that says it holds 16 MB (of zeros: a few hundred bytes) for 10 answers:
    refused after decompressing at most the 720 bytes 10 answers take, whatever the frame's
    header claims."""
    import tracemalloc

    bomb = _zstd(b"\0" * (1 << 24))
    tracemalloc.start()
    with pytest.raises(segment.Bad, match="data is not 10 answers"):
        segment.decode(_packed(data=bomb))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 << 20


@pytest.mark.parametrize("values, why", [
    (dict(n=0), "n is out of range"),
    (dict(card=2), "names card 2 of the 2 listed"),
    (dict(card=-1), "card is out of range"),
    (dict(at=-1), "at is out of range"),
    (dict(at=segment.TIME_MAX + 1), "at is out of range"),
    (dict(rating=0), "rating is out of range"),
    (dict(rating=5), "rating is out of range"),
    (dict(ms=-5), "ms is out of range"),
    (dict(before=4), "before is out of range"),
    (dict(ivl_ms=1 << 60), "ivl_ms is out of range"),
    (dict(elapsed=float("inf")), "elapsed is not a finite number"),
    (dict(elapsed=-float("inf")), "elapsed is not a finite number"),
    (dict(elapsed=1e300), "elapsed is out of range"),
    (dict(cram=2), "cram is out of range"),
])
def test_a_packed_value_out_of_range_makes_the_segment_bad(values, why):
    rows = [_row(n=i + 1) for i in range(9)] + [_row(**{"n": 10, **values})]
    with pytest.raises(segment.Bad, match=re.escape(why)):
        segment.decode(_packed(rows))


def test_a_packed_elapsed_of_none_is_none():
    rows = [_row(n=1, elapsed=None), _row(n=2, elapsed=0.0), _row(n=3, elapsed=2.5)]
    assert [r[7] for r in segment.decode(_packed(rows)).reviews] == [None, 0.0, 2.5]


def _header_only(form) -> bytes:
    import hashlib

    body = segment.line({"t": "segment", "format": form, "device": "f" * 32, "seq": 1,
                         "written_at": 0, "name": "h"}) + b"\n"
    return body + segment.dumps({"t": "end", "count": 1,
                                 "sha256": hashlib.sha256(body).hexdigest()}) + b"\n"


def test_a_segment_of_no_format_a_quizforge_writes_is_bad():
    for form in (0, "2", None, 2.0):
        with pytest.raises(segment.Bad, match="none a quizforge writes"):
            segment.decode(_header_only(form))


def test_a_segment_from_a_newer_quizforge_waits_for_an_update(folder, homes, monkeypatch):
    """Format 3: one note that says to update (not "not complete yet", not again at the
    next sync), listed by --status as such; a quizforge that reads format 3 reads it at its
    next sync, the file unchanged."""
    from quizforge.sync.status import status

    with pytest.raises(segment.Newer, match="format 3; this quizforge reads 1 and 2"):
        segment.decode(_header_only(3))
    path = folder / segment.ROOT / ("f" * 32) / "seg-00000001.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(_header_only(3))
    b = homes("b")
    r = sync(b, folder, T0, CFG)
    assert r.notes == [f"segment ffffffff/seg-00000001.jsonl is from a newer quizforge (format"
                       f" 3; this quizforge reads 1 and 2): update quizforge on this machine to"
                       f" read it"]
    assert sync(b, folder, T0 + timedelta(minutes=1), CFG).notes == []
    st = status(b, folder / segment.ROOT)
    assert st.newer == ["ffffffff/seg-00000001.jsonl"] and st.incomplete == st.bad == []
    monkeypatch.setattr(segment, "FORMATS", (1, 2, 3))  # the updated quizforge
    assert sync(b, folder, T0 + timedelta(minutes=2), CFG).notes == []
    assert b.conn.execute("SELECT status FROM sync_files WHERE device = ?",
                          ("f" * 32,)).fetchone()[0] == "read"


@pytest.mark.parametrize("cards, why", [
    ([["d", 7, "flashcard"]], "a card's card is int"),
    ([["d", "c0"]], "a card row that is not 3 values"),
    ([], "names card 0 of the 0 listed"),
])
def test_a_malformed_cards_line_is_bad(cards, why):
    rows = [[1, 0, 1000, 3, 4000, 2, 86_400_000, 1.5, 0, None]]
    data = segment.encode({"device": "x" * 32, "seq": 1, "written_at": 0, "name": "h"}, [],
                          rows, cards)
    with pytest.raises(segment.Bad, match=why):
        segment.decode(data)


def _write_segment(folder, device, seq, cards, rows, records=()):
    """A segment another machine wrote: `rows` of segment.REVIEW_COLUMNS."""
    own = folder / segment.ROOT / device
    own.mkdir(parents=True, exist_ok=True)
    header = {"device": device, "seq": seq, "written_at": 1_700_000_000_000, "name": device[:4]}
    data = segment.encode(header, list(records), rows, cards)
    (own / segment.segment_name(seq)).write_bytes(data)
    return own / segment.segment_name(seq)


def _after(reps, due=1_700_100_000_000):
    return [2, None, 3.5, 5.25, due, reps, 0, 0]


def _odd_segments(folder):
    """Segments with every case the row-by-row import handles: answers at one millisecond,
    a skill card to make (two, named in another order than listed), answers waiting for a
    card not here, cram answers, a card with no `after`, rows not in time order, the same
    answer twice in a segment, two segments (of two devices) answering one card, a card
    with answers in the store (c4), a conflict copy, an undo of an answer of the same
    import."""
    t = 1_699_000_000_000
    a, b, c = "a" * 32, "b" * 32, "c" * 32
    cards = [["q", "c0", "flashcard"], ["q", "c1", "flashcard"], ["q", "zz", "flashcard"],
             ["drill", "s1", "skill"], ["drill", "s2", "skill"], ["q", "c2", "flashcard"],
             ["q", "c3", "flashcard"]]
    rows = [[1, 0, t, 3, 4000, 0, 600_000, 0.0, 0, None],
            [2, 1, t, 3, 4000, 0, 86_400_000, 0.0, 0, _after(1)],
            [3, 2, t + 5, 3, 4000, 0, 600_000, None, 0, _after(1)],
            [4, 4, t + 6, 3, 4000, 0, 600_000, None, 0, _after(1)],
            [5, 3, t + 7, 4, 4000, 0, 600_000, None, 0, _after(7)],
            [6, 0, t + 8, 1, 4000, 2, 600_000, 0.1, 1, None],
            [7, 5, t + 9, 3, 4000, 0, 700_000, 0.0, 0, None],
            [8, 5, t + 9, 2, 4000, 1, 800_000, 0.2, 0, None],
            [9, 0, t + 10, 2, 4000, 1, 3 * 86_400_000, 1.5, 0, _after(2)],
            [10, 6, t + 11, 3, 4000, 0, 86_400_000, None, 1, None]]
    _write_segment(folder, a, 1, cards, rows)
    # b: rows out of time order; c4 only here, c5 also in c's segment
    cards_b = [["q", "c4", "flashcard"], ["q", "c5", "flashcard"]]
    rows_b = [[1, 0, t + 500, 3, 4000, 1, 86_400_000, 1.0, 0, _after(2)],
              [2, 0, t + 100, 1, 4000, 0, 600_000, None, 0, None],
              [3, 1, t + 50, 4, 4000, 0, 4 * 86_400_000, None, 0, _after(1)]]
    _write_segment(folder, b, 1, cards_b, rows_b)
    # b again: c6 alone, in order, and an undo of a's first answer to c1
    _write_segment(folder, b, 2, [["q", "c6", "flashcard"]],
                   [[4, 0, t + 20, 3, 4000, 0, 600_000, None, 0, None],
                    [5, 0, t + 30, 3, 4000, 1, 86_400_000, 0.0, 0, _after(2)]])
    # c: c7 answered twice at one millisecond with one rating (one answer)
    _write_segment(folder, c, 1, [["q", "c7", "flashcard"]],
                   [[1, 0, t + 60, 3, 4000, 0, 600_000, None, 0, None],
                    [2, 0, t + 70, 3, 4000, 0, 600_000, None, 0, None],
                    [3, 0, t + 70, 3, 4000, 0, 600_000, None, 0, _after(2)]],
                   [{"t": "undo", "uid": f"{a}/2"}])
    # c again: c8 in order with a tie of times on different ratings
    _write_segment(folder, c, 2, [["q", "c8", "flashcard"], ["q", "c9", "flashcard"]],
                   [[4, 0, t + 80, 3, 4000, 0, 600_000, None, 0, None],
                    [5, 1, t + 80, 3, 4000, 0, 600_000, None, 0, _after(1)],
                    [6, 0, t + 90, 3, 4000, 1, 600_000, 0.0, 0, _after(2)]])
    # d: its own cards, rows out of time order, the last by time not the last row
    _write_segment(folder, "d" * 32, 1, [["q", "c10", "flashcard"], ["q", "c11", "flashcard"]],
                   [[1, 0, t + 300, 3, 4000, 1, 86_400_000, 0.0, 0, _after(2)],
                    [2, 1, t + 200, 2, 4000, 0, 600_000, None, 0, _after(1)],
                    [3, 0, t + 100, 3, 4000, 0, 600_000, None, 0, None]])
    # e: c5 too
    _write_segment(folder, "e" * 32, 1, [["q", "c5", "flashcard"]],
                   [[1, 0, t + 60, 3, 4000, 0, 600_000, None, 0, _after(1)]])
    # f: a segment and a conflict copy of it
    copied = _write_segment(folder, "f" * 32, 1, [["q", "c12", "flashcard"]],
                            [[1, 0, t + 40, 2, 4000, 0, 600_000, None, 0, _after(1)]])
    shutil.copy(copied, copied.with_name("seg-00000001.sync-conflict-20261205-1.jsonl"))


def _uids_sql():
    """Every uid the store holds, from sync_map and from the runs of sync_runs, as sync_map
    rows (an undone uid's interval is never read: left out)."""
    from quizforge.sync.export import RUN_OF

    return ("SELECT * FROM (SELECT dev, n, tbl, row, undone, undo_sent, seg,"
            " CASE WHEN undone THEN NULL ELSE ivl_ms END FROM sync_map UNION ALL"
            " SELECT u.dev, u.n + x.id - u.lo, 'revlog', x.id, 0, 1, u.seg,"
            " CAST(round(x.interval_days * 86400000) AS INTEGER) FROM revlog x "
            + RUN_OF.format(x="x") + ")")


_COMPARED = ("SELECT rowid, * FROM cards", "SELECT * FROM revlog", "SELECT * FROM card_groups",
             "SELECT * FROM card_reviews", "SELECT rowid, * FROM deck_reviews",
             _uids_sql(), "SELECT * FROM sync_pending", "SELECT * FROM drill_attempts")


@pytest.mark.parametrize("bulk", [False, True])
def test_the_column_at_a_time_import_is_the_row_by_row_one(tmp_path, monkeypatch, bulk):
    """The fast import of a segment (`_quick_segment`) writes exactly what the loop over
    its rows writes: the same ids, rows, uids, waiting answers and schedules; with the
    summaries' triggers set aside (bulk) or not."""
    from quizforge.store.health import stale_summaries
    from quizforge.sync import merge

    deck = make_deck("q", 13)
    _odd_segments(tmp_path / "Sync")
    if bulk:
        monkeypatch.setattr(merge, "BULK", 1)
    out = []
    real = merge._Merger._quick_segment
    for name, quick in (("loop", False), ("columns", True)):
        folder = shutil.copytree(tmp_path / "Sync", tmp_path / f"Sync-{name}")
        db = Database(tmp_path / f"{name}.sqlite3")
        store.sync_decks(db, [deck], T0)
        answer_q = Session(db, [deck], Scheduler(CFG), StudyOptions(), T0)
        row = store.find_card(db, "q", "c4")
        from quizforge.study.queue import Entry

        answer_q.answer(Entry(row.rowid, "q", "c4", row.schedule), Rating.GOOD, T0, 3000)
        taken = []

        def spy(self, *args, real=real, quick=quick, taken=taken):
            done = real(self, *args) if quick else None
            taken.append(done is not None)
            return done

        monkeypatch.setattr(merge._Merger, "_quick_segment", spy)
        r = sync(db, folder, T0 + timedelta(days=1), CFG)
        assert stale_summaries(db.conn) == []
        out.append(([[tuple(x) for x in db.conn.execute(q + " ORDER BY 1, 2")]
                     for q in _COMPARED], (r.received, r.cards_updated, r.pending), taken))
        db.close()
    (loop, counts_loop, _), (columns, counts_columns, taken) = out
    for q, x, y in zip(_COMPARED, loop, columns):
        assert x == y, q
    assert counts_loop == counts_columns
    # the segments with no card in the store or in another segment, nothing seen before
    # and no answer twice went the fast way (a's, b's second, c's second, d's); the
    # others (b's first, c's first, e's, f's and its copy) the loop's
    assert taken == [True, False, True, False, True, True, False, False, False], taken
    skills = [r for r in columns[0] if r[4] == "skill"]
    assert [r[3] for r in skills] == ["s2", "s1"]  # made as the rows name them
    assert columns[6] and columns[6][0][3] == "zz"  # waits for its card


def test_a_bulk_import_checks_the_cards_its_rows_name(tmp_path, monkeypatch):
    """A bulk import writes with SQLite's per-row foreign-key check off and checks the rows
    it wrote once before the commit: a row naming no card is refused as SQLite would, the
    transaction rolled back, and the check is on again after."""
    import sqlite3

    from quizforge.sync import merge

    monkeypatch.setattr(merge, "BULK", 1)
    deck = make_deck("q", 3)
    _write_segment(tmp_path / "Sync", "a" * 32, 1, [["q", "c0", "flashcard"]],
                   [[1, 0, 1_699_000_000_000, 3, 4000, 0, 600_000, None, 0, _after(1)]])
    db = Database(tmp_path / "q.sqlite3")
    store.sync_decks(db, [deck], T0)
    real = merge._Merger.check_references

    def lost_card(self):
        self._written["revlog"].add(10**9)  # as if a row named a card that is not there
        real(self)

    monkeypatch.setattr(merge._Merger, "check_references", lost_card)
    with pytest.raises(SyncError, match="IntegrityError"):
        sync(db, tmp_path / "Sync", T0, CFG)
    assert db.conn.execute("SELECT COUNT(*) FROM revlog").fetchone()[0] == 0
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    monkeypatch.setattr(merge._Merger, "check_references", real)
    assert sync(db, tmp_path / "Sync", T0, CFG).received == 1
    assert db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()


def test_answers_imported_as_a_run_keep_their_uids(folder, homes):
    """Answers another device numbered one after another are tied to their uids by one
    row of sync_runs: a mock answer finds its review through it, an undo read deletes the
    answer, a review-log id freed that way and taken by a new answer here is that answer's
    (sent under this device's uid), and an answer deleted here is sent as undone."""
    from quizforge.store import rounds
    from quizforge.study.mock import Candidate, commit_answer

    a, b = homes("a"), homes("b")
    rid = rounds.start_round(a, T0, 20, 2, 5, ("d",))
    row = store.find_card(a, "d", "c7")
    commit_answer(a, Scheduler(CFG), rid, 1, Candidate(row.rowid, "d", "c7", "flashcard",
                  row.schedule), Rating.GOOD, 1.0, ["t"], ["explaining"], T0, 5000)
    rounds.finish_round(a, rid, T0 + timedelta(minutes=20), "done")
    s, now = study(a, T0 + timedelta(hours=1), [Rating.GOOD] * 3, limit=3)
    sync_all(folder, now, a, b)
    a_idx = b.conn.execute("SELECT idx FROM sync_devices WHERE device = ?",
                           (sync(a, folder, now, CFG).device,)).fetchone()[0]
    runs = b.conn.execute("SELECT n, lo, hi FROM sync_runs WHERE dev = ?", (a_idx,)).fetchall()
    assert [tuple(r) for r in runs] == [(1, 1, 4)]  # four answers, one row
    assert b.conn.execute("SELECT COUNT(*) FROM sync_map WHERE dev = ? AND tbl = 'revlog'",
                          (a_idx,)).fetchone()[0] == 0
    mock_review = b.conn.execute("SELECT a.revlog, v.card, c.card_id FROM mock_answers a"
                                 " JOIN revlog v ON v.id = a.revlog JOIN cards c ON c.id = v.card"
                                 ).fetchone()
    assert mock_review is not None and mock_review[2] == "c7"
    # a undoes its last answer: b deletes it (the highest id in b's log)
    assert s.undo() is not None
    sync_all(folder, now + timedelta(minutes=1), a, b)
    assert revlog(a) == revlog(b) and table(a) == table(b)
    assert b.conn.execute("SELECT MAX(id) FROM revlog").fetchone()[0] == 3
    assert tuple(b.conn.execute("SELECT row, undone, undo_sent FROM sync_map WHERE dev = ?"
                                " AND n = 4", (a_idx,)).fetchone()) == (None, 1, 1)
    # b answers: the new answer takes id 4 again, and is b's own, not a's undone one
    answer(b, "d", "c0", Rating.AGAIN, now + timedelta(minutes=2))
    assert b.conn.execute("SELECT MAX(id) FROM revlog").fetchone()[0] == 4
    uids = [tuple(r) for r in b.conn.execute(_uids_sql() + " WHERE row = 4")]
    assert uids == []  # not a's uid: b's own until it is sent
    r = sync_all(folder, now + timedelta(minutes=3), b, a)
    assert r[0].sent == 1 and revlog(a) == revlog(b) and table(a) == table(b)
    assert [u[0] for u in b.conn.execute(_uids_sql() + " WHERE row = 4")] == [
        b.conn.execute("SELECT idx FROM sync_device JOIN sync_devices USING (device)"
                       ).fetchone()[0]]
    # an answer of a's deleted here (not through an undo) is sent as undone, as sync_map's are
    first = b.conn.execute("SELECT lo FROM sync_runs WHERE dev = ?", (a_idx,)).fetchone()[0]
    with b.atomic() as conn:
        conn.execute("DELETE FROM revlog WHERE id = ?", (first,))
    assert tuple(b.conn.execute("SELECT row, undone, undo_sent FROM sync_map WHERE dev = ?"
                                " AND n = 1", (a_idx,)).fetchone()) == (None, 1, 0)
    sync_all(folder, now + timedelta(minutes=4), b, a)
    assert revlog(a) == revlog(b)


def test_own_answers_sent_as_a_run_are_written_again_with_their_undo(folder, homes):
    """This store's answers, once sent, are one row of sync_runs with the segment that
    carried them: an answer of them undone later is listed in sync_map with that segment,
    so a segment deleted by hand is written again with its answers' uids and the undo."""
    a, b = homes("a"), homes("b")
    s, now = study(a, T0, [Rating.GOOD, Rating.HARD, Rating.GOOD], limit=3)
    first = sync(a, folder, now, CFG)
    assert first.sent == 3
    me = a.conn.execute("SELECT idx FROM sync_devices JOIN sync_device USING (device)"
                        ).fetchone()[0]
    assert [tuple(r) for r in a.conn.execute("SELECT dev, n, lo, hi, seg FROM sync_runs")] == [
        (me, 1, 1, 3, 1)]
    assert s.undo() is not None  # the third answer, already sent
    assert tuple(a.conn.execute("SELECT n, row, undone, undo_sent, seg FROM sync_map"
                                " WHERE tbl = 'revlog'").fetchone()) == (3, None, 1, 0, 1)
    (folder / segment.ROOT / first.device / first.segment).unlink()
    again = sync(a, folder, now + timedelta(minutes=1), CFG)
    assert again.notes and "written again" in again.notes[0]
    data = (folder / segment.ROOT / first.device / again.segment).read_bytes()
    seg = segment.decode(data)
    assert seg.header["replaces"] == [1]
    assert sorted(r[0] for r in seg.reviews) == [1, 2]
    assert {"t": "undo", "uid": f"{first.device}/3"} in seg.records
    assert [tuple(r) for r in a.conn.execute("SELECT n, lo, hi, seg FROM sync_runs")] == [
        (1, 1, 3, 2)]
    sync_all(folder, now + timedelta(minutes=2), b, a)
    assert revlog(a) == revlog(b) and table(a) == table(b) and len(revlog(b)) == 2


def test_a_segment_an_older_quizforge_could_not_read_is_read_after_the_upgrade(
        tmp_path, folder, homes):
    """A quizforge that read only format 1 met A's format-2 segment, called it "not
    complete" and remembered it so (its size and time: not read again unchanged). Migration
    0018 forgets what it remembered: this quizforge reads the segment at its next sync."""
    a, b = homes("a"), homes("b")
    study(a, T0, [Rating.GOOD] * 3, limit=3)
    r = sync(a, folder, T0 + timedelta(hours=1), CFG)
    path = folder / segment.ROOT / r.device / r.segment
    st = path.stat()
    sync(b, folder, T0 + timedelta(hours=1), CFG)  # b's own device folder, as an older one
    with b.atomic() as conn:
        conn.execute("DELETE FROM revlog")
        conn.execute("DELETE FROM sync_map")
        conn.execute("DELETE FROM sync_runs")
        conn.execute("INSERT OR REPLACE INTO sync_files (device, name, size, mtime_ns, seq,"
                     " status) VALUES (?, ?, ?, ?, 1, 'incomplete')",
                     (r.device, r.segment, st.st_size, st.st_mtime_ns))
    assert sync(b, folder, T0 + timedelta(hours=2), CFG).received == 0  # as it was
    with b.atomic() as conn:
        conn.execute("DELETE FROM migrations WHERE name = '0018_sync_packed_segments'")
    b.close()
    b = Database(tmp_path / "b.sqlite3")
    try:
        got = sync(b, folder, T0 + timedelta(hours=3), CFG)
        assert got.received == 3 and got.notes == [] and revlog(b) == revlog(a)
    finally:
        b.close()


@pytest.mark.parametrize("values, why", [
    ({}, None),
    (dict(rating=5), "rating is out of range"),
    (dict(at=-1), "at is out of range"),
    (dict(elapsed=float("inf")), "elapsed is not a finite number"),
    (dict(elapsed=-1e300), "elapsed is out of range"),
    (dict(ivl_ms=-(1 << 53) - 1), "ivl_ms is out of range"),
    (dict(ivl_ms=1), "interval puts its due date out of range"),  # past year 9999
    (dict(at=5, ivl_ms=-6), "interval puts its due date out of range"),  # before 1970
])
def test_numpy_and_the_array_module_unpack_alike(monkeypatch, values, why):
    """Many answers are unpacked with numpy, few with the array module: the same columns,
    or the same refusal, either way."""
    import random

    rnd = random.Random(7)
    rows = [_row(n=i + 1, card=rnd.randrange(2),
                 at=rnd.randrange(1 << 41, segment.TIME_MAX - (1 << 41)),
                 rating=rnd.randint(1, 4), ms=rnd.randrange(1 << 40), before=rnd.randrange(4),
                 ivl_ms=rnd.randrange(-(1 << 40), 1 << 40),
                 elapsed=rnd.choice([None, 0.0, rnd.uniform(-1e6, 1e6)]),
                 cram=rnd.randrange(2)) for i in range(300)]
    rows[-1] = _row(**{"n": 300, "at": segment.TIME_MAX, "ivl_ms": 0, **values})
    data = _packed(rows)
    got = []
    for numpy_from in (1, segment.PACK + 1):
        monkeypatch.setattr(segment, "NUMPY_FROM", numpy_from)
        try:
            got.append(segment.decode(data).columns)
        except segment.Bad as e:
            got.append(str(e))
    assert got[0] == got[1]
    if why is None:
        assert [list(r) for r in zip(*got[0])] == rows
    else:
        assert why in got[0]

