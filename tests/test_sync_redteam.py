"""Red team of `quizforge sync` (issue 22): what a learner with two or three machines does to
it, and what a hostile or broken sync folder does to it.

Each test is either a guarantee now covered (it passes) or a bug (xfail, strict, with the
bug in one line). The tests look at behavior: CLI output, store rows, files. Only `forge`
below knows the record layout (to write a hostile segment with a valid trailer, it takes a
real segment's records, changes one, and writes it back through `segment.encode`): if the
format changes, `forge` is the one place to follow it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.decks.loader import load_decks
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Rating, Scheduler
from quizforge.store import cards as store
from quizforge.store.db import Database
from quizforge.study.queue import Entry
from quizforge.study.session import Session, StudyOptions
from quizforge.sync import SyncError, segment, sync

NOW = "2026-03-02T12:00:00+00:00"
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LATER = "2026-03-02T13:00:00+00:00"
CFG = Config()
runner = CliRunner()

DECK = "deck: d\nname: D\ncards:\n" + "".join(
    f"  - id: c{i}\n    front: question {i}\n    back: answer {i}\n" for i in range(8))
EXTRA = "deck: e\nname: E\ncards:\n" + "".join(
    f"  - id: x{i}\n    front: extra {i}\n    back: extra answer {i}\n" for i in range(3))
CARD_ROWS = ("SELECT deck_id, card_id, state, step, stability, difficulty, due, last_review,"
             " reps, lapses, suspended, leech FROM cards WHERE state != 0 OR suspended = 1"
             " ORDER BY deck_id, card_id")
# what no import may ever leave in a store, whatever a segment said
INSANE = {
    "revlog": "SELECT COUNT(*) FROM revlog WHERE typeof(rating) != 'integer'"
              " OR rating NOT BETWEEN 1 AND 4 OR typeof(reviewed_at) != 'integer'"
              " OR reviewed_at NOT BETWEEN 0 AND 253402300799999"
              " OR typeof(duration_ms) != 'integer' OR duration_ms < 0"
              " OR interval_days IS NULL OR interval_days < 0 OR interval_days > 1e6"
              " OR cram NOT IN (0, 1) OR state_before NOT BETWEEN 0 AND 3",
    "cards": "SELECT COUNT(*) FROM cards WHERE state NOT BETWEEN 0 AND 3 OR reps < 0"
             " OR lapses < 0 OR lapses > reps OR (stability IS NOT NULL AND (stability <= 0"
             " OR stability > 1e6)) OR (difficulty IS NOT NULL AND difficulty NOT BETWEEN 1"
             " AND 10) OR (due IS NOT NULL AND (typeof(due) != 'integer'"
             " OR due NOT BETWEEN 0 AND 253402300799999))",
    "sync_map": "SELECT COUNT(*) FROM sync_map WHERE typeof(n) != 'integer'",
}


@pytest.fixture(autouse=True)
def _decks(tmp_path, monkeypatch):
    d = tmp_path / "decks"
    d.mkdir()
    (d / "d.yaml").write_text(DECK)
    monkeypatch.setenv("QUIZFORGE_DECKS", str(d))
    monkeypatch.delenv("QUIZFORGE_SYNC_PAUSE", raising=False)
    return d


@pytest.fixture
def folder(tmp_path):
    f = tmp_path / "Sync"
    f.mkdir()
    return f


# -- the library: stores as Database objects ---------------------------------------------
@pytest.fixture
def homes(tmp_path, _decks):
    opened = []
    deck = load_decks([_decks]).decks[0]

    def make(name):
        db = Database(tmp_path / f"{name}.sqlite3")
        opened.append(db)
        store.sync_decks(db, [deck], T0)
        db.test_decks = [deck]
        return db

    yield make
    for db in opened:
        db.close()


def answer(db, card_id, rating, now, deck_id="d"):
    """Answer one named card as study does. Returns the session (for undo)."""
    s = Session(db, db.test_decks, Scheduler(CFG), StudyOptions(), now)
    row = store.find_card(db, deck_id, card_id)
    s.answer(Entry(row.rowid, deck_id, card_id, row.schedule), rating, now, 3000)
    return s


def table(db):
    return [tuple(r) for r in db.conn.execute(CARD_ROWS)]


def answers(db):
    return sorted(tuple(r) for r in db.conn.execute(
        "SELECT c.deck_id, c.card_id, v.reviewed_at, v.rating FROM revlog v"
        " JOIN cards c ON c.id = v.card"))


def insane(db) -> dict:
    return {k: n for k, sql in INSANE.items() if (n := db.conn.execute(sql).fetchone()[0])}


# -- the CLI: homes as folders --------------------------------------------------------------
def cli(home: Path, *args, now=NOW, input=None, env=None):
    """`quizforge ARGS` in process (fast), in `home`, at `now`."""
    return runner.invoke(app, [str(a) for a in args], input=input,
                         env={"QUIZFORGE_HOME": str(home), "QUIZFORGE_NOW": now, **(env or {})})


def proc(home: Path, *args, now=NOW, stdin=None, env=None, check=True):
    """`quizforge ARGS` as a real process."""
    e = {**os.environ, "QUIZFORGE_HOME": str(home), "QUIZFORGE_NOW": now, "COLUMNS": "80",
         **(env or {})}
    r = subprocess.run([sys.executable, "-m", "quizforge", *map(str, args)], input=stdin, env=e,
                       capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def cli_study(home, n, now=NOW, rating="3"):
    r = cli(home, "study", "--deck", "d", "--limit", n, now=now, input=f"\n{rating}\n" * n + "q\n")
    assert r.exit_code == 0, r.output
    return r


def q(home: Path, sql: str):
    c = sqlite3.connect(f"file:{home / 'quizforge.sqlite3'}?mode=ro", uri=True)
    try:
        return c.execute(sql).fetchall()
    finally:
        c.close()


def no_traceback(r) -> None:
    text = (r.stderr if hasattr(r, "stderr") else "") + (getattr(r, "stdout", "") or "")
    assert "Traceback" not in text, text
    exc = getattr(r, "exception", None)
    assert exc is None or isinstance(exc, SystemExit), repr(exc)


def visible(text: str) -> None:
    """No terminal control sequence in what the learner's terminal receives."""
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\x9b]", text), repr(text)


# -- a hostile device: a segment with a valid trailer and bad contents ---------------------
def real_records(folder: Path) -> list[dict]:
    """The records of every segment in the folder (written by quizforge itself); answers
    (many to a `reviews` line, naming their card by its place in the segment's `cards`
    list) as one dict each, {"t": "review", "n", "deck", "card", "kind", "at", ...}."""
    out = []
    for p in sorted((folder / segment.ROOT).glob("*/seg-*.jsonl")):
        seg = segment.decode(p.read_bytes())
        for row in seg.reviews:
            rec = {"t": "review", **dict(zip(segment.REVIEW_COLUMNS, row))}
            rec.update(zip(segment.CARD_COLUMNS, seg.cards[rec["card"]]))
            out.append(rec)
        out += seg.records
    return out


def forge(folder: Path, records: list, device="e" * 32, seq=1, name="evil") -> Path:
    """A segment of these records, with a valid trailer; a {"t": "review"} dict goes out as
    a row of a `reviews` line, its deck, card and kind in the `cards` list."""
    d = folder / segment.ROOT / device
    d.mkdir(parents=True, exist_ok=True)
    header = {"device": device, "seq": seq, "written_at": 1772452800000, "name": name}
    cards, rows, others = [], [], []
    for rec in records:
        if rec.get("t") != "review":
            others.append(rec)
            continue
        cards.append([rec.get(c) for c in segment.CARD_COLUMNS])
        rows.append([len(cards) - 1 if c == "card" else rec.get(c)
                     for c in segment.REVIEW_COLUMNS])
    path = d / segment.segment_name(seq)
    path.write_bytes(segment.encode(header, others, rows, cards))
    return path


def hostile_review(base: dict, **changes) -> dict:
    """A review by the hostile device of card c5 (not answered elsewhere), an hour before NOW."""
    return {**base, "n": 1000, "card": "c5", "at": base["at"] - 3_600_000, **changes}


@pytest.fixture
def honest(tmp_path, folder, homes):
    """Machine A answered c0..c2 and synced: its segment is in the folder."""
    a = homes("a")
    for i in range(3):
        answer(a, f"c{i}", Rating.GOOD, T0 - timedelta(hours=2) + timedelta(minutes=i))
    assert sync(a, folder, T0, CFG).sent == 3
    return a


HOSTILE = [
    ("rating-0", {"rating": 0}), ("rating-5", {"rating": 5}),
    ("rating-str-replayed", {"rating": "3", "card": "c0"}),
    ("at-nan", {"at": float("nan")}), ("at-huge", {"at": 1e300}), ("at-negative", {"at": -5}),
    ("at-str", {"at": "yesterday"}),
    ("ms-inf", {"ms": float("inf")}), ("ms-nan", {"ms": float("nan")}), ("ms-negative", {"ms": -1}),
    ("ivl-negative-huge", {"ivl_ms": -1e20}), ("ivl-huge", {"ivl_ms": 1e300}),
    ("ivl-nan", {"ivl_ms": float("nan")}),
    ("before-99", {"before": 99}), ("cram-7", {"cram": 7}),
    ("n-str", {"n": "x"}), ("n-float", {"n": 1.5}),
    ("after-insane", {"after": [99, 99, -5, 1e308, 99, -3, -3, 7]}),
    ("after-str", {"after": "x"}), ("after-short", {"after": [2]}),
    ("card-nested", {"card": [[[[1]]]]}),
    ("missing-rating", {"rating": None}),
]
HOSTILE_OTHER = [
    ("no-type", {"x": 1}), ("undo-no-uid", {"t": "undo"}),
    ("undo-int-uid", {"t": "undo", "uid": 5}),
    ("undo-bad-n", {"t": "undo", "uid": "abc/xyz"}),
    ("suspend-empty", {"t": "suspend"}), ("unknown-type", {"t": "from-the-future", "n": 7}),
    ("setting-bad-value", {"t": "setting", "key": "new_per_day", "value": -1, "at": 1}),
    ("setting-unknown-key", {"t": "setting", "key": "from_a_newer_version", "value": 1,
                             "at": 1}),
    ("attempt-empty", {"t": "attempt", "n": 9}),
    ("mock-empty", {"t": "mock", "n": 9}),
]
# Every hostile record makes its whole segment unread with one note: answers are checked a
# column at a time as a segment is read (times 0 to year 9999, durations >= 0), and every
# other record field by field (segment.RECORDS). A setting this version does not know or
# cannot take is left out with a note by run.py.


def _cases():
    return ([pytest.param(("review", change), id=name) for name, change in HOSTILE]
            + [pytest.param(("raw", rec), id=name) for name, rec in HOSTILE_OTHER])


def check_hostile(tmp_path, folder, honest, rec_kind_change):
    """Machine B's first sync meets A's honest segment and one hostile segment: the sync
    ends with at most a note per bad segment, A's answers arrive, nothing insane is stored,
    and the next sync (A answered again) still works."""
    kind, change = rec_kind_change
    if kind == "review":
        base = next(r for r in real_records(folder) if r.get("t") == "review")
        rec = hostile_review(base, **change)
    else:
        rec = change
    forge(folder, [rec])
    b = tmp_path / "b"
    r = cli(b, "sync", folder)
    no_traceback(r)
    assert r.exit_code == 0, r.output
    assert len(r.stderr.splitlines()) <= 1, r.stderr
    got = {row[0] for row in q(b, "SELECT c.card_id FROM revlog v JOIN cards c ON c.id = v.card")}
    assert {"c0", "c1", "c2"} <= got
    with Database(b / "quizforge.sqlite3") as db:
        assert insane(db) == {}
    answer(honest, "c3", Rating.AGAIN, T0 + timedelta(minutes=5))
    sync(honest, folder, T0 + timedelta(minutes=6), CFG)
    r = cli(b, "sync", folder, now=LATER)
    no_traceback(r)
    assert r.exit_code == 0 and "received 1 " in r.stdout, r.output
    assert cli(b, "report").exit_code == 0


@pytest.mark.parametrize("rec", _cases())
def test_a_hostile_record_poisons_nothing(tmp_path, folder, honest, rec):
    check_hostile(tmp_path, folder, honest, rec)


def test_honest_records_at_their_edges_pass_the_checks(tmp_path, folder, homes):
    """The record checks refuse nothing quizforge itself writes: a drill attempt with no
    card and a seed given by hand past 2**53, a mock round never closed (no end, an answer
    with no review), an answer that took three days, a suspension, an undo, a setting: B
    reads them all without a note."""
    from quizforge.store import rounds

    a, b = homes("a"), homes("b")
    with a.atomic() as conn:
        store.insert_attempt(conn, store.Attempt(T0, "backprop", 3, "steps", (1 << 62) + 1,
                                                 (), False, 0.5, 0, revealed=True))
    rid = rounds.start_round(a, T0, 20, 5, -7)
    with a.atomic() as conn:
        rounds.insert_answer(conn, rid, 1, store.find_card(a, "d", "c1").rowid, "flashcard",
                             (), (), 0.0, 1, T0, 0, None)
    at = T0 + timedelta(days=3)
    s = Session(a, a.test_decks, Scheduler(CFG), StudyOptions(), at)
    row = store.find_card(a, "d", "c2")
    s.answer(Entry(row.rowid, "d", "c2", row.schedule), Rating.EASY, at, 3 * 86_400_000)
    s.suspend(s._entry(store.find_card(a, "d", "c2")))
    r = sync(a, folder, at + timedelta(minutes=1), CFG)
    assert r.sent == 4 and r.notes == []  # the attempt, the round, the answer, the suspension
    s.undo()
    r = sync(a, folder, at + timedelta(minutes=2), dataclasses.replace(CFG, new_per_day=3))
    assert r.sent == 2 and r.notes == []  # the undo, the setting
    got = sync(b, folder, at + timedelta(minutes=3), CFG)
    assert got.notes == [] and got.received == 6 and got.settings == {"new_per_day": 3}
    assert [tuple(r) for r in b.conn.execute("SELECT seed, card FROM drill_attempts")] == [
        ((1 << 62) + 1, None)]
    assert [tuple(r) for r in b.conn.execute("SELECT ended, ended_at, seed FROM mock_rounds")
            ] == [(None, None, -7)]
    assert table(a) == table(b)


# -- a broken or hostile segment as a whole ------------------------------------------------
def reseal(lines: list[bytes]) -> bytes:
    """Lines (header first) with a valid trailer, as the README describes it: the count of
    the lines before it and the SHA-256 of their bytes. A line that is a dict gets its CRC."""
    import hashlib
    import zlib

    out = []
    for raw in lines:
        if raw.endswith(b"}"):
            raw = raw[:-1] + b',"c":"%08x"}' % zlib.crc32(raw[:-1])
        out.append(raw)
    body = b"\n".join(out) + b"\n"
    trailer = json.dumps({"t": "end", "count": len(out),
                          "sha256": hashlib.sha256(body).hexdigest()}, separators=(",", ":"))
    return body + trailer.encode() + b"\n"


def header_line(device="e" * 32, seq=1) -> bytes:
    return json.dumps({"t": "segment", "format": segment.FORMAT, "device": device, "seq": seq,
                       "written_at": 1772452800000, "name": "evil"}, separators=(",", ":")).encode()


def forge_raw(folder: Path, body_lines: list[bytes], device="e" * 32, seq=1) -> Path:
    d = folder / segment.ROOT / device
    d.mkdir(parents=True, exist_ok=True)
    path = d / segment.segment_name(seq)
    path.write_bytes(reseal([header_line(device, seq), *body_lines]))
    return path


def own_segment(folder: Path, db) -> Path:
    device = db.conn.execute("SELECT device FROM sync_device").fetchone()[0]
    return folder / segment.ROOT / device / segment.segment_name(1)


def b_gets_a(tmp_path, folder, now=NOW):
    b = tmp_path / "b"
    r = cli(b, "sync", folder, now=now)
    no_traceback(r)
    return b, r


@pytest.mark.parametrize("line", [
    pytest.param(b"this is not json", id="not-json"),
    pytest.param(b"[1, 2, 3]", id="a-list"),
    pytest.param(b'{"t":"review","after":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                 id="nested-100k-deep"),
    pytest.param(b'{"t":"review","n":' + b"9" * 5000 + b"}", id="5000-digit-number"),
])
def test_a_line_that_is_not_a_record_is_a_note(tmp_path, folder, honest, line):
    forge_raw(folder, [line])
    b, r = b_gets_a(tmp_path, folder)
    assert r.exit_code == 0, r.output
    assert len(r.stderr.splitlines()) == 1
    assert len(q(b, "SELECT * FROM revlog")) == 3  # A's answers arrive anyway


def test_a_ten_megabyte_deck_id_waits_and_is_shown_short(tmp_path, folder, honest):
    base = next(r for r in real_records(folder) if r.get("t") == "review")
    forge(folder, [hostile_review(base, deck="D" * 10_000_000)])
    t = time.process_time()
    b, r = b_gets_a(tmp_path, folder)
    assert r.exit_code == 0 and len(q(b, "SELECT * FROM revlog")) == 3
    st = cli(b, "sync", "--status", folder)
    assert st.exit_code == 0
    assert time.process_time() - t < 10  # --status drew the 10 MB id in rich: 15 s, fixed
    assert len(st.stdout) < 2000 and "D" * 59 + "…" in st.stdout


def test_a_2_gb_sparse_file_is_not_read_into_memory(tmp_path, folder, honest):
    """A segment name holding 2 GB (sparse: no disk used): with the address space capped at
    1 GB, the sync still ends, with one note, and A's answers arrive."""
    d = folder / segment.ROOT / ("f" * 32)
    d.mkdir()
    with open(d / segment.segment_name(1), "wb") as f:
        f.truncate(2 << 30)
    sync_capped(tmp_path / "b", folder)
    assert len(q(tmp_path / "b", "SELECT * FROM revlog")) == 3


def sync_capped(home: Path, folder: Path, timeout: int = 120) -> None:
    """`quizforge sync FOLDER` as a real process whose address space is capped at 1 GB: it
    ends in time with exit 0 and one note, and no traceback."""
    code = ("import resource, runpy, sys;"
            " resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30));"
            " sys.argv = ['quizforge', 'sync', sys.argv[1]]; runpy.run_module('quizforge',"
            " run_name='__main__')")
    e = {**os.environ, "QUIZFORGE_HOME": str(home), "QUIZFORGE_NOW": NOW}
    r = subprocess.run([sys.executable, "-c", code, str(folder)], env=e, capture_output=True,
                       text=True, timeout=timeout)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 0 and len(r.stderr.splitlines()) == 1, r.stderr


def test_a_byte_altered_in_the_middle_is_not_read(tmp_path, folder, honest):
    """Bit rot in another device's segment (the trailer is intact, the hash is not): nothing
    of it is read, one note says so, and --status lists it."""
    seg = own_segment(folder, honest)
    data = seg.read_bytes()
    i = data.index(b'"packed"')
    seg.write_bytes(data[:i] + b'"packez"' + data[i + 8:])
    b, r = b_gets_a(tmp_path, folder)
    assert r.exit_code == 0
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(0,)]
    assert len(r.stderr.splitlines()) == 1 and "not complete" in r.stderr
    st = cli(b, "sync", "--status", folder)
    assert "Incomplete segments" in st.stdout


def test_an_altered_own_segment_is_written_again(tmp_path, folder, honest):
    seg = own_segment(folder, honest)
    data = seg.read_bytes()
    i = data.index(b'"packed"')
    seg.write_bytes(data[:i] + b'"packez"' + data[i + 8:])
    sync(honest, folder, T0 + timedelta(minutes=1), CFG)
    b, r = b_gets_a(tmp_path, folder)
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(3,)]


# -- what sync tools do to folders (the README's table), for real --------------------------
def test_a_segment_copied_half_way_is_read_when_whole(tmp_path, folder, honest):
    seg = own_segment(folder, honest)
    whole = seg.read_bytes()
    seg.write_bytes(whole[: len(whole) // 2])
    b, r = b_gets_a(tmp_path, folder)
    assert r.exit_code == 0 and q(b, "SELECT COUNT(*) FROM revlog") == [(0,)]
    assert len(r.stderr.splitlines()) == 1 and "not complete yet" in r.stderr
    again = cli(b, "sync", folder)  # still half: no second note
    assert again.stderr == ""
    seg.write_bytes(whole)  # the sync tool finished the copy
    r = cli(b, "sync", folder)
    assert r.stdout.startswith("sent 0, received 3 from 1 device") and r.stderr == ""
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(3,)]


def test_conflict_copies_are_read_listed_and_kept(tmp_path, folder, honest):
    seg = own_segment(folder, honest)
    answer(honest, "c4", Rating.EASY, T0 + timedelta(minutes=1))
    sync(honest, folder, T0 + timedelta(minutes=2), CFG)
    second = seg.with_name(segment.segment_name(2))
    names = ["seg-00000001.sync-conflict-20260302-120000-ABCDEFG.jsonl",
             "seg-00000001 (conflicted copy 2026-03-02).jsonl", "seg-00000001 (1).jsonl"]
    for name in names:
        shutil.copy(seg, seg.with_name(name))
    # a conflict copy holding the other version: the second segment, under the first's name
    shutil.copy(second, seg.with_name("seg-00000002 (Ana's conflicted copy).jsonl"))
    second.unlink()  # ...and the original lost
    b, r = b_gets_a(tmp_path, folder)
    assert r.exit_code == 0 and r.stdout.startswith("sent 0, received 4 from 1 device")
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(4,)]
    st = cli(b, "sync", "--status", folder).stdout
    for name in names:
        assert name in st.replace("\n", " ") or name[:20] in st
    sync(honest, folder, T0 + timedelta(minutes=3), CFG)  # A writes its missing one again
    r = cli(b, "sync", folder)
    assert r.stdout.startswith("sent 0, received 0")
    assert all(seg.with_name(n).exists() for n in names)


def test_own_segment_deleted_by_hand_goes_out_again_same_uids(tmp_path, folder, honest):
    answer(honest, "c4", Rating.EASY, T0 + timedelta(minutes=1))
    sync(honest, folder, T0 + timedelta(minutes=2), CFG)  # segment 2
    b, _ = b_gets_a(tmp_path, folder)  # B reads both
    own_segment(folder, honest).unlink()
    c = tmp_path / "c"
    cli(c, "sync", folder, now=LATER)  # C meanwhile: only segment 2 is there
    assert q(c, "SELECT COUNT(*) FROM revlog") == [(1,)]
    assert "Missing segments of device" in cli(c, "sync", "--status", folder).stdout
    # B read it before it went: nothing is missing for B (it said so forever: fixed)
    assert "Missing" not in cli(b, "sync", "--status", folder).stdout
    result = sync(honest, folder, T0 + timedelta(hours=1), CFG)
    assert any("missing" in n for n in result.notes)
    r = cli(b, "sync", folder, now=LATER)
    assert r.stdout.startswith("sent 0, received 0 from 0 devices")  # nothing twice
    r = cli(c, "sync", folder, now=LATER)
    assert q(c, "SELECT COUNT(*) FROM revlog") == [(4,)]
    assert q(b, CARD_ROWS) == q(c, CARD_ROWS)


def test_a_segment_written_again_is_not_missing_any_more(tmp_path, folder, honest):
    answer(honest, "c4", Rating.EASY, T0 + timedelta(minutes=1))
    sync(honest, folder, T0 + timedelta(minutes=2), CFG)
    own_segment(folder, honest).unlink()
    sync(honest, folder, T0 + timedelta(hours=1), CFG)  # segment 1's records, as segment 3
    c = tmp_path / "c"
    cli(c, "sync", folder, now=LATER)
    assert q(c, "SELECT COUNT(*) FROM revlog") == [(4,)]
    assert "Missing" not in cli(c, "sync", "--status", folder).stdout


def test_a_clock_hours_ahead_is_one_warning_and_kept(tmp_path, folder, homes):
    a = homes("a")
    answer(a, "c0", Rating.GOOD, T0 + timedelta(hours=5))
    sync(a, folder, T0 + timedelta(hours=5), CFG)
    b, r = b_gets_a(tmp_path, folder)
    assert r.exit_code == 0 and len(r.stderr.splitlines()) == 1
    assert "hours ahead" in r.stderr
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(1,)]


def test_a_copied_store_syncs_under_a_new_id_nothing_lost_nothing_doubled(tmp_path, folder):
    a, c = tmp_path / "a", tmp_path / "c"
    cli_study(a, 2)
    assert cli(a, "sync", folder).exit_code == 0
    shutil.copytree(a, c)  # the home copied to a new machine
    cli_study(c, 1, now=LATER)
    r = cli(c, "sync", folder, now=LATER)
    assert r.exit_code == 0 and "copy of device" in r.stderr and len(r.stderr.splitlines()) == 1
    assert r.stdout.startswith("sent 1, received 0")
    cli_study(a, 1, now=LATER, rating="1")
    cli(a, "sync", folder, now=LATER)
    b = tmp_path / "b"
    r = cli(b, "sync", folder, now=LATER)
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(4,)]
    for home in (a, c):
        cli(home, "sync", folder, now=LATER)
    assert q(a, CARD_ROWS) == q(b, CARD_ROWS) == q(c, CARD_ROWS)


# -- device folders and device.json ---------------------------------------------------------
@pytest.mark.parametrize("name", ["..", "...", "-rf", "$(touch pwned)", "a b", "seg-00000001.jsonl",
                                  "\x1b[2J\x1b]0;title\x07", "[bold]x"])
def test_odd_device_folder_names_are_harmless(tmp_path, folder, honest, name):
    """A folder in quizforge-sync/ with an odd name, holding a copy of A's segment under a
    device id of its own: read as any device, shown without escapes, nothing written outside."""
    if name == "..":
        pytest.skip("'..' is the parent, not a folder in it")
    base = next(r for r in real_records(folder) if r.get("t") == "review")
    d = folder / segment.ROOT / name
    d.mkdir(exist_ok=True)
    forge(folder, [hostile_review(base)], device=name, name=name)
    b, r = b_gets_a(tmp_path, folder)
    assert r.exit_code == 0, r.output
    visible(r.stdout + r.stderr)
    st = cli(b, "sync", "--status", folder)
    assert st.exit_code == 0
    visible(st.stdout + st.stderr)
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()
    # a hidden folder is not a device's (not read); any other is
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(3 if name.startswith(".") else 4,)]
    assert {p.name for p in tmp_path.iterdir() if not p.name.startswith("a.sqlite3")} == {
        "Sync", "b", "decks"}


def test_a_header_naming_this_device_is_not_taken_for_its_own(tmp_path, folder, honest):
    """Another folder's segment whose header claims to be this store: only a device writes
    its folder, so it is no segment of either: one note, nothing of it applied."""
    b = tmp_path / "b"
    cli(b, "sync", folder)
    me = q(b, "SELECT device FROM sync_device")[0][0]
    base = next(r for r in real_records(folder) if r.get("t") == "review")
    forge(folder, [hostile_review(base)], device="e" * 32)
    # the same file, but its header says it is B's
    path = forge(folder, [hostile_review(base, n=2000, card="c6")], device="f" * 32)
    data = segment.decode(path.read_bytes())
    path.write_bytes(segment.encode({**{k: v for k, v in data.header.items()
                                        if k not in ("t", "format")}, "device": me},
                                    data.records))
    r = cli(b, "sync", folder)
    assert r.exit_code == 0
    assert r.stderr == (f"note: segment ffffffff/seg-00000001.jsonl cannot be read (its header"
                        f" names device {me[:8]}, not the folder's): skipped, nothing of it"
                        " applied\n")
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(4,)]  # A's three and eeee…'s one


def test_own_folder_symlinked_out_of_the_sync_folder(tmp_path, folder, honest):
    """(It was followed: segments written outside DIR. Fixed: a one-line error.)"""
    own = own_segment(folder, honest).parent
    outside = tmp_path / "outside"
    shutil.move(own, outside)
    own.symlink_to(outside, target_is_directory=True)
    answer(honest, "c4", Rating.GOOD, T0 + timedelta(minutes=1))
    with pytest.raises(SyncError, match="is a symbolic link"):
        sync(honest, folder, T0 + timedelta(minutes=2), CFG)
    assert not (outside / segment.segment_name(2)).exists()


def test_another_folder_symlinked_out_of_the_sync_folder_is_read(tmp_path, folder, honest):
    """A device folder that is a symlink out of DIR is read like any folder: only whole,
    checksummed segments are read there, and nothing is written (a judgment call: see the
    report)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    base = next(r for r in real_records(folder) if r.get("t") == "review")
    forge(tmp_path / "fake", [hostile_review(base)])
    src = tmp_path / "fake" / segment.ROOT / ("e" * 32)
    (folder / segment.ROOT / ("e" * 32)).symlink_to(src, target_is_directory=True)
    b, r = b_gets_a(tmp_path, folder)
    assert r.exit_code == 0
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(4,)]
    assert sorted(os.listdir(src)) == [segment.segment_name(1)]


@pytest.mark.parametrize("damage", ["missing", "garbage", "a list", "another nonce",
                                    "another device"])
def test_device_json_damaged_loses_nothing(tmp_path, folder, honest, damage):
    own = own_segment(folder, honest).parent
    info = own / "device.json"
    data = json.loads(info.read_text())
    if damage == "missing":
        info.unlink()
    elif damage == "garbage":
        info.write_bytes(b"\x00\xff not json")
    elif damage == "a list":
        info.write_text("[1, 2]")
    elif damage == "another nonce":
        info.write_text(json.dumps({**data, "nonce": "0" * 32}))
    else:
        info.write_text(json.dumps({**data, "device": "d" * 32, "name": "other"}))
    answer(honest, "c4", Rating.GOOD, T0 + timedelta(minutes=1))
    r = sync(honest, folder, T0 + timedelta(minutes=2), CFG)
    assert r.sent == 1 and len(r.notes) <= 1
    b, _ = b_gets_a(tmp_path, folder)
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(4,)]
    again = sync(honest, folder, T0 + timedelta(minutes=3), CFG)
    assert (again.sent, again.received) == (0, 0) and again.notes == []
    with Database(b / "quizforge.sqlite3") as bdb:
        assert table(bdb) == table(honest)


# -- processes: at the same moment, interrupted, while study runs --------------------------
def popen(home, *args, now=NOW, env=None, **kw):
    e = {**os.environ, "QUIZFORGE_HOME": str(home), "QUIZFORGE_NOW": now, "COLUMNS": "80",
         "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "quizforge", *map(str, args)], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_two_stores_sync_at_the_same_moment(tmp_path, folder):
    a, b = tmp_path / "a", tmp_path / "b"
    cli_study(a, 3)
    cli_study(b, 2, now=LATER, rating="1")
    for _ in range(2):  # twice: the second time each reads what the other wrote meanwhile
        ps = [popen(h, "sync", folder, now=LATER) for h in (a, b)]
        outs = [p.communicate(timeout=120) for p in ps]
        assert [p.returncode for p in ps] == [0, 0], outs
        assert all("Traceback" not in e for _, e in outs)
    assert q(a, CARD_ROWS) == q(b, CARD_ROWS)
    assert q(a, "SELECT COUNT(*) FROM revlog") == q(b, "SELECT COUNT(*) FROM revlog") == [(5,)]


def test_one_store_synced_twice_at_the_same_moment(tmp_path, folder):
    """Two terminals on one machine: `sync` typed in both. One segment, nothing twice."""
    a, b = tmp_path / "a", tmp_path / "b"
    cli_study(a, 3)
    ps = [popen(a, "sync", folder) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in ps]
    assert all("Traceback" not in e for _, e in outs), outs
    assert sorted(p.returncode for p in ps)[0] == 0
    cli(b, "sync", folder)
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(3,)]
    segs = list((folder / segment.ROOT).glob("*/seg-*"))
    assert len(segs) == 1, segs


@pytest.mark.parametrize("point", ["before-rename", "after-rename", "import-before-commit"])
def test_ctrl_c_during_sync(tmp_path, folder, point):
    a, b = tmp_path / "a", tmp_path / "b"
    cli_study(a, 3)
    cli_study(b, 1, now=LATER)
    if point == "import-before-commit":
        cli(a, "sync", folder)
        home = b
    else:
        home = a
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    p = popen(home, "sync", folder, now=LATER,
              env={"QUIZFORGE_SYNC_PAUSE": f"{point}:{fifo}"})
    with open(fifo) as f:
        assert f.read() == "paused"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130 and "Traceback" not in err, err
    assert not [n for n in os.listdir(folder / segment.ROOT / os.listdir(folder / segment.ROOT)[0])
                if n.endswith(".tmp")]
    for h in (a, b, a):
        assert cli(h, "sync", folder, now=LATER).exit_code == 0
    assert q(a, CARD_ROWS) == q(b, CARD_ROWS)
    assert q(a, "SELECT COUNT(*) FROM revlog") == q(b, "SELECT COUNT(*) FROM revlog") == [(4,)]


def test_sync_while_study_holds_the_store(tmp_path, folder):
    a, b = tmp_path / "a", tmp_path / "b"
    cli_study(b, 2, now=LATER)
    cli(b, "sync", folder, now=LATER)
    cli(a, "config", "set", "sync_dir", folder)
    p = popen(a, "study", "--deck", "d", "--limit", "3", stdin=subprocess.PIPE)
    p.stdin.write("\n3\n")  # one card answered; study waits for the next
    p.stdin.flush()
    deadline = time.monotonic() + 60

    def answered() -> int:
        try:
            return q(a, "SELECT COUNT(*) FROM revlog")[0][0]
        except sqlite3.Error:  # not made yet, or being made by the study process
            return 0

    while time.monotonic() < deadline and answered() < 3:
        time.sleep(0.05)  # (polling for the other process, not a fixed sleep)
    r = proc(a, "sync", check=False, now=LATER)  # another terminal, same machine
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    out, err = p.communicate("\n1\nq\n", timeout=120)
    assert p.returncode == 0 and "Traceback" not in err, err
    cli(b, "sync", folder, now=LATER)
    cli(a, "sync", folder, now=LATER)
    assert q(a, "SELECT COUNT(*) FROM revlog") == q(b, "SELECT COUNT(*) FROM revlog")
    assert q(a, CARD_ROWS) == q(b, CARD_ROWS)


# -- the store cannot be written -----------------------------------------------------------
def test_store_read_only_is_one_line(tmp_path, folder, monkeypatch):
    from quizforge.store import db as dbmod

    a = tmp_path / "a"
    cli_study(a, 1)
    monkeypatch.setattr(dbmod, "dir_writable", lambda f: False)
    r = cli(a, "sync", folder)
    no_traceback(r)
    assert r.exit_code == 1 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "read-only" in r.stderr
    st = cli(a, "sync", "--status", folder)  # reading works
    assert st.exit_code == 0 and "Not sent yet: 1 answers" in st.stdout


def test_store_full_during_the_import_keeps_nothing_half(tmp_path, folder, honest, homes):
    for i in range(200):  # enough to need new pages in b
        answer(honest, f"c{i % 5}", Rating.GOOD, T0 + timedelta(minutes=i))
    sync(honest, folder, T0 + timedelta(hours=4), CFG)
    b = homes("b")
    answer(b, "c6", Rating.GOOD, T0)
    before = answers(b)
    b.conn.execute("VACUUM")  # no free page left
    pages = b.conn.execute("PRAGMA page_count").fetchone()[0]
    b.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL at the first new page
    with pytest.raises(Exception) as e:
        sync(b, folder, T0 + timedelta(hours=1), CFG)
    assert "full" in str(e.value)
    assert answers(b) == before
    b.conn.execute("PRAGMA max_page_count = 1073741823")
    r = sync(b, folder, T0 + timedelta(hours=5), CFG)
    # the export was committed before the import failed: sent then, not again now
    assert len(answers(b)) == 204 and (r.sent, r.received) == (0, 203)
    sync(honest, folder, T0 + timedelta(hours=5), CFG)
    assert table(honest) == table(b)


def test_store_full_at_the_cli_is_one_line(tmp_path, folder, honest, monkeypatch):
    from quizforge.store import db as dbmod

    b = tmp_path / "b"
    cli_study(b, 1)
    real = dbmod.Database.__init__

    def small(self, *a, **k):
        real(self, *a, **k)
        self.conn.execute("VACUUM")
        n = self.conn.execute("PRAGMA page_count").fetchone()[0]
        self.conn.execute(f"PRAGMA max_page_count = {n}")

    monkeypatch.setattr(dbmod.Database, "__init__", small)
    r = cli(b, "sync", folder)
    no_traceback(r)
    assert r.exit_code == 1 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "full" in r.stderr


def test_sync_folder_full_loses_nothing(tmp_path, folder, honest, homes, monkeypatch):
    import errno

    b = homes("b")
    answer(b, "c6", Rating.GOOD, T0)
    real = os.replace

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(SyncError, match="No space left on device"):
        sync(b, folder, T0 + timedelta(hours=1), CFG)
    monkeypatch.setattr(os, "replace", real)
    assert not [p for p in folder.rglob("*.tmp")]
    r = sync(b, folder, T0 + timedelta(hours=1), CFG)
    assert r.sent == 1 and r.received == 3
    sync(honest, folder, T0 + timedelta(hours=1), CFG)
    assert table(honest) == table(b) and len(answers(b)) == 4


# -- two machines used as a learner uses them ----------------------------------------------
def test_a_clock_hours_behind_loses_nothing(folder, homes):
    """A's clock is 4 hours slow (README: this cannot be detected). Its answers are ordered
    by their own times: nothing is lost, and both machines end equal, even when A answers a
    card whose last answer is, by A's clock, in the future."""
    a, b = homes("a"), homes("b")
    slow = timedelta(hours=4)
    answer(b, "c0", Rating.GOOD, T0)
    answer(a, "c0", Rating.AGAIN, T0 + timedelta(hours=1) - slow)
    answer(a, "c1", Rating.GOOD, T0 + timedelta(hours=1) - slow)
    rb = sync(b, folder, T0 + timedelta(hours=1), CFG)
    ra = sync(a, folder, T0 + timedelta(hours=1) - slow, CFG)
    # the slow machine sees the other one as ahead (all it can know): one note, nothing more
    assert not rb.notes and len(ra.notes) == 1 and "hours ahead" in ra.notes[0]
    sync(b, folder, T0 + timedelta(hours=2), CFG)
    assert table(a) == table(b) and len(answers(a)) == len(answers(b)) == 3
    c0 = store.find_card(a, "d", "c0").schedule
    assert c0.reps == 2 and c0.last_review == T0  # B's answer, later by the clocks, last


def test_a_slow_clock_answering_a_card_merged_from_a_later_answer(folder, homes):
    a, b = homes("a"), homes("b")
    slow = timedelta(hours=4)
    answer(b, "c0", Rating.GOOD, T0)
    for db, t in ((b, T0), (a, T0 - slow), (b, T0)):
        sync(db, folder, t + timedelta(minutes=1), CFG)
    answer(a, "c0", Rating.GOOD, T0 + timedelta(hours=1) - slow)  # before B's, by A's clock
    assert insane(a) == {}
    sync(a, folder, T0 + timedelta(hours=1) - slow, CFG)
    sync(b, folder, T0 + timedelta(hours=2), CFG)
    assert len(answers(b)) == 2 and insane(b) == {}
    assert table(a) == table(b)


def test_undo_after_sync_then_sync_then_answer_again(folder, homes):
    a, b = homes("a"), homes("b")
    s = answer(a, "c0", Rating.GOOD, T0)
    sync(a, folder, T0, CFG)
    sync(b, folder, T0, CFG)
    assert s.undo() is not None  # taken back after it went out
    sync(a, folder, T0 + timedelta(minutes=1), CFG)
    sync(b, folder, T0 + timedelta(minutes=1), CFG)
    assert answers(b) == [] and table(b) == table(a) == []
    s2 = answer(a, "c0", Rating.EASY, T0 + timedelta(minutes=2))  # answered again
    sync(a, folder, T0 + timedelta(minutes=3), CFG)
    sync(b, folder, T0 + timedelta(minutes=3), CFG)
    assert answers(b) == answers(a) and len(answers(b)) == 1 and table(a) == table(b)
    for db in (a, b):  # the same stores sync once more: nothing comes back to life
        assert sync(db, folder, T0 + timedelta(minutes=4), CFG).received == 0
    assert s2.undo() is not None  # and taken back again
    for db in (a, b, a):
        sync(db, folder, T0 + timedelta(minutes=5), CFG)
    assert answers(a) == answers(b) == [] and table(a) == table(b) == []


def test_undo_on_a_while_b_answers_on_top_of_the_undone_answer(folder, homes):
    a, b = homes("a"), homes("b")
    s = answer(a, "c0", Rating.EASY, T0)
    for db in (a, b):
        sync(db, folder, T0, CFG)
    s.undo()  # A takes its answer back...
    answer(b, "c0", Rating.HARD, T0 + timedelta(minutes=4))  # ...B answered on top of it
    for db in (a, b, a):
        sync(db, folder, T0 + timedelta(minutes=5), CFG)
    assert answers(a) == answers(b) == [("d", "c0", to_ms(T0 + timedelta(minutes=4)), 2)]
    assert table(a) == table(b)


def to_ms(t):
    return int(t.timestamp() * 1000)


def test_undo_in_a_session_after_a_sync_merged_the_card(folder, homes):
    a, b = homes("a"), homes("b")
    answer(b, "c0", Rating.GOOD, T0 - timedelta(hours=1))
    sync(b, folder, T0, CFG)
    s = answer(a, "c0", Rating.AGAIN, T0)  # A's study session is open
    sync(a, folder, T0 + timedelta(minutes=1), CFG)  # `quizforge sync` in another terminal
    s.undo()  # then A takes its answer back in the session
    sync(a, folder, T0 + timedelta(minutes=2), CFG)
    sync(b, folder, T0 + timedelta(minutes=2), CFG)
    assert answers(a) == answers(b) and len(answers(a)) == 1
    assert table(a) == table(b)


def test_suspension_on_a_and_answer_on_b_at_once(folder, homes):
    a, b = homes("a"), homes("b")
    answer(a, "c0", Rating.GOOD, T0 - timedelta(days=1))
    sync_both = lambda t: [sync(db, folder, t, CFG) for db in (a, b, a)]  # noqa: E731
    sync_both(T0 - timedelta(days=1))
    s = Session(a, a.test_decks, Scheduler(CFG), StudyOptions(), T0)
    row = store.find_card(a, "d", "c0")
    s.suspend(Entry(row.rowid, "d", "c0", row.schedule))
    answer(b, "c0", Rating.HARD, T0)
    sync_both(T0 + timedelta(minutes=1))
    assert table(a) == table(b)
    assert store.find_card(b, "d", "c0").schedule.suspended
    assert store.find_card(a, "d", "c0").schedule.reps == 2


def test_suspension_the_one_made_last_wins_not_the_one_synced_last(folder, homes):
    a, b = homes("a"), homes("b")
    answer(a, "c0", Rating.GOOD, T0 - timedelta(days=1))
    for db in (a, b, a):
        sync(db, folder, T0 - timedelta(days=1), CFG)
    row = store.find_card(a, "d", "c0")
    nine = T0 - timedelta(hours=3)
    store.set_suspended(a, row.rowid, True, nine)  # A suspends at 09:00, offline
    store.set_suspended(b, store.find_card(b, "d", "c0").rowid, True, nine - timedelta(hours=1))
    sync(b, folder, T0 - timedelta(hours=3), CFG)
    store.set_suspended(b, store.find_card(b, "d", "c0").rowid, False, T0)  # B: unsuspend, 12:00
    sync(b, folder, T0, CFG)
    sync(a, folder, T0 + timedelta(hours=6), CFG)  # A syncs only in the evening
    sync(b, folder, T0 + timedelta(hours=6), CFG)
    assert table(a) == table(b)
    assert not store.find_card(a, "d", "c0").schedule.suspended  # B's unsuspend was last


def config_value(home, key):
    r = cli(home, "config", "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["settings"][key]


def test_settings_changed_on_both_sides(tmp_path, folder):
    a, b = tmp_path / "a", tmp_path / "b"
    for home in (a, b):
        assert cli(home, "config", "set", "sync_dir", folder).exit_code == 0
    cli(a, "config", "set", "new_per_day", "7")
    cli(a, "config", "set", "desired_retention", "0.85")
    cli(a, "sync", now=NOW)
    cli(b, "config", "set", "new_per_day", "9")
    r = cli(b, "sync", now=LATER)
    assert r.exit_code == 0, r.output
    cli(a, "sync", now=LATER)
    for home in (a, b):
        assert config_value(home, "new_per_day") == 9  # B's, changed (and synced) last
        assert config_value(home, "desired_retention") == 0.85
        assert config_value(home, "sync_dir") == str(folder)  # each machine its own


def test_settings_the_one_changed_last_wins(tmp_path, folder):
    a, b = tmp_path / "a", tmp_path / "b"
    for home in (a, b):
        cli(home, "sync", folder, now=NOW)
    cli(a, "config", "set", "new_per_day", "7", now="2026-03-02T13:00:00+00:00")
    cli(b, "config", "set", "new_per_day", "9", now="2026-03-02T14:00:00+00:00")
    cli(b, "sync", folder, now="2026-03-02T14:00:00+00:00")
    cli(a, "sync", folder, now="2026-03-02T20:00:00+00:00")  # A syncs in the evening
    cli(b, "sync", folder, now="2026-03-02T20:00:00+00:00")
    assert config_value(a, "new_per_day") == config_value(b, "new_per_day") == 9


def test_a_deck_removed_on_one_machine(tmp_path, folder, _decks):
    """B has deck e, A had it and removed its file: B's answers to e wait on A (listed by
    --status), and land when the deck file comes back. Nothing lost either way."""
    a, b = tmp_path / "a", tmp_path / "b"
    (_decks / "e.yaml").write_text(EXTRA)
    cli(a, "sync", folder)  # A's first sync: both decks go into its store
    (_decks / "e.yaml").unlink()
    other = tmp_path / "decks-b"
    other.mkdir()
    (other / "d.yaml").write_text(DECK)
    (other / "e.yaml").write_text(EXTRA)
    r = runner.invoke(app, ["study", "--deck", "e", "--limit", "2"], input="\n3\n" * 2 + "q\n",
                      env={"QUIZFORGE_HOME": str(b), "QUIZFORGE_NOW": NOW,
                           "QUIZFORGE_DECKS": str(other)})
    assert r.exit_code == 0, r.output
    runner.invoke(app, ["sync", str(folder)], env={"QUIZFORGE_HOME": str(b),
                                                   "QUIZFORGE_NOW": NOW,
                                                   "QUIZFORGE_DECKS": str(other)})
    r = cli(a, "sync", folder, now=LATER)
    assert r.exit_code == 0, r.output
    got = (q(a, "SELECT COUNT(*) FROM revlog")[0][0]
           + q(a, "SELECT COUNT(*) FROM sync_pending")[0][0])
    assert got == 2  # kept: on the cards still in A's store, or waiting
    (_decks / "e.yaml").write_text(EXTRA)
    cli(a, "study", "--deck", "e", "--limit", "0", input="q\n", now=LATER)
    cli(a, "sync", folder, now=LATER)
    assert q(a, "SELECT COUNT(*) FROM revlog") == [(2,)]


def test_an_answer_for_a_card_that_never_appears_is_listed(tmp_path, folder, honest):
    base = next(r for r in real_records(folder) if r.get("t") == "review")
    forge(folder, [hostile_review(base, deck="gone", card="nowhere"),
                   hostile_review(base, deck="gone", card="else", n=1001)])
    b, r = b_gets_a(tmp_path, folder)
    assert r.exit_code == 0 and r.stdout.startswith("sent 0, received 5 from 2 devices")
    st = cli(b, "sync", "--status", folder).stdout
    assert "Answers waiting for cards this machine does not have: 2 for gone" in st
    js = json.loads(cli(b, "sync", "--status", "--json", folder).stdout)
    assert js["waiting"] == {"gone": 2}
    r = cli(b, "sync", folder)  # still waiting, still there, not counted again
    assert r.stdout.startswith("sent 0, received 0")
    assert q(b, "SELECT COUNT(*) FROM sync_pending") == [(2,)]


@pytest.mark.parametrize("kind", ["file", "missing", "relative", "tilde", "empty"])
def test_config_set_sync_dir(tmp_path, folder, monkeypatch, kind):
    a = tmp_path / "a"
    if kind == "file":
        (tmp_path / "f").write_text("")
        r = cli(a, "config", "set", "sync_dir", tmp_path / "f")
        assert r.exit_code == 1
        assert r.stderr == f"Error: sync folder {tmp_path / 'f'} is not a directory\n"
    elif kind == "missing":
        r = cli(a, "config", "set", "sync_dir", tmp_path / "nope")
        assert r.exit_code == 1 and len(r.stderr.splitlines()) == 1
        assert "does not exist" in r.stderr
    elif kind == "relative":
        monkeypatch.chdir(tmp_path)
        r = cli(a, "config", "set", "sync_dir", "Sync")
        assert r.exit_code == 0 and r.stdout == f"sync_dir = {folder}\n", r.output
        monkeypatch.chdir(a.parent / "decks")  # later, from another folder
        cli_study(a, 1)
        assert list((folder / segment.ROOT).glob("*/seg-*"))
    elif kind == "tilde":
        monkeypatch.setenv("HOME", str(tmp_path))
        r = cli(a, "config", "set", "sync_dir", "~/Sync")
        assert r.exit_code == 0 and r.stdout == f"sync_dir = {folder}\n", r.output
    else:
        cli(a, "config", "set", "sync_dir", folder)
        r = cli(a, "config", "set", "sync_dir", "")
        assert r.exit_code == 0
        r = cli(a, "sync")
        assert r.exit_code == 1 and r.stderr.startswith("Error: no sync folder")
    no_traceback(r)


def test_sync_json_shape(tmp_path, folder, honest):
    b = tmp_path / "b"
    cli_study(b, 1, now=LATER)
    r = cli(b, "sync", "--json", folder, now=LATER)
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert set(data) >= {"sent", "received", "devices", "cards_updated", "pending", "device",
                         "segment", "notes", "settings"}
    assert (data["sent"], data["received"], data["devices"]) == (1, 3, 1)
    assert data["segment"] == "seg-00000001.jsonl" and len(data["device"]) == 32
    st = json.loads(cli(b, "sync", "--status", "--json", folder).stdout)
    assert {d["this"] for d in st["devices"]} == {True, False}
    assert st["unsent"] == {} and st["waiting"] == {}
    # an error with --json is still one line on stderr, nothing half-written on stdout
    r = cli(b, "sync", "--json", tmp_path / "nope")
    assert r.exit_code == 1 and r.stdout == "" and len(r.stderr.splitlines()) == 1


def test_status_at_80_columns_with_5_devices(tmp_path, folder, monkeypatch):
    names = ["laptop", "desktop", "a-very-long-host-name-from-a-cloud-vm-ec2-203-0-113-7",
             "\x1b[31mred\x1b[0m", "[bold]markup[/bold]"]
    for i, name in enumerate(names):
        home = tmp_path / f"h{i}"
        cli_study(home, 1)
        assert cli(home, "sync", folder, env={"QUIZFORGE_SYNC_NAME": name}).exit_code == 0
    r = proc(tmp_path / "h0", "sync", "--status", folder)
    lines = r.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), r.stdout
    visible(r.stdout)
    assert "[bold]markup" in r.stdout  # markup shown as text
    rows = [line for line in lines if re.match(r"^ [0-9a-f]{8}", line)]
    assert len(rows) == 5


def test_a_hostile_folder_never_stops_study(tmp_path, folder, honest):
    """study syncs at start and at exit: a segment holding a record no quizforge writes is one
    note (it was a traceback before study began, then an error that stopped every sync), said
    again after the session; the other segments' answers and this session's are saved, and
    the bad segment is not read again until it changes."""
    forge(folder, [{"t": "undo"}])
    a = tmp_path / "b"
    cli(a, "config", "set", "sync_dir", folder)
    r = cli_study(a, 2)
    no_traceback(r)
    assert r.stderr.splitlines() == [
        "note: segment eeeeeeee/seg-00000001.jsonl cannot be read (line 2: 'undo' record"
        " without uid): skipped, nothing of it applied"] * 2
    assert q(a, "SELECT COUNT(*) FROM revlog") == [(5,)]  # A's three, and two answered here
    r = cli(a, "sync")  # by hand: the bad segment is not read again
    assert r.exit_code == 0 and r.stderr == "", r.output
    assert q(a, "SELECT COUNT(*) FROM sync_outbox") == [(0,)]
    assert q(a, "SELECT status FROM sync_files WHERE device = 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'"
             ) == [("bad",)]


def test_settings_synced_at_study_start_apply_to_that_session(tmp_path, folder):
    """(study read its settings before its start sync: a limit changed on the other
    machine came in, but this session still used the old one. Fixed.)"""
    a, b = tmp_path / "a", tmp_path / "b"
    cli(a, "config", "set", "new_per_day", "1")
    cli(a, "sync", folder)
    cli(b, "config", "set", "sync_dir", folder)
    r = cli(b, "study", "--deck", "d", "--limit", "3", input="\n3\n" * 3 + "q\n", now=LATER)
    assert r.exit_code == 0, r.output
    assert q(b, "SELECT COUNT(DISTINCT card) FROM revlog") == [(1,)]  # one new card


def test_a_start_warning_is_said_again_after_the_session(tmp_path, folder, monkeypatch):
    """The study screen clears the terminal: a warning of the start sync would be gone. It
    is printed again after the session, once, unless the exit sync said the same."""
    from quizforge.cli import sync as cli_sync

    said = iter([["warning: sync skipped: first"], ["warning: sync skipped: second"]])
    monkeypatch.setattr(cli_sync, "_quiet_sync", lambda: next(said))
    a = tmp_path / "a"
    r = cli_study(a, 1)
    assert r.stderr.splitlines() == ["warning: sync skipped: first",
                                     "warning: sync skipped: first",
                                     "warning: sync skipped: second"]


def test_a_segment_in_another_devices_name_is_not_taken_for_it(tmp_path, folder, honest):
    me_a = honest.conn.execute("SELECT device FROM sync_device").fetchone()[0]
    base = next(r for r in real_records(folder) if r.get("t") == "review")
    path = forge(folder, [hostile_review(base, n=99)])  # in folder eeee…, header says A
    data = segment.decode(path.read_bytes())
    header = {k: v for k, v in data.header.items() if k not in ("t", "format")}
    path.write_bytes(segment.encode({**header, "device": me_a}, data.records, data.reviews,
                                    data.cards))
    b, r = b_gets_a(tmp_path, folder)
    assert r.exit_code == 0
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(3,)]  # A's three, not a fourth in A's name
    assert r.stderr == (f"note: segment eeeeeeee/seg-00000001.jsonl cannot be read (its header"
                        f" names device {me_a[:8]}, not the folder's): skipped, nothing of it"
                        " applied\n")


def test_status_on_a_fresh_machine_and_an_empty_folder(tmp_path, folder):
    a = tmp_path / "a"
    r = cli(a, "sync", "--status", folder)
    assert r.exit_code == 0 and r.stderr == ""
    assert r.stdout == (f"Sync folder {folder}\nNo device has synced to this folder yet.\n"
                        "Not sent yet: nothing\n")
    assert not (folder / segment.ROOT).exists()  # --status writes nothing
