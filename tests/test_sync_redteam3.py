"""Red team of today's three changes to `quizforge sync`: segment format 2 (answers packed a
column at a time), the merge's column-at-a-time path, and migration 0019 (no outbox until a
store's first sync, which lists everything).

Each test is a guarantee now covered. Those first written as strict xfails for the bugs
this red team found (lenient base64 and trailing zstd frames, packed lines under a format-1
header, NaN in --show, U+061C/U+2028/U+2029 unescaped, a FIFO that hung sync, carried
schedules no scheduler makes) pass since the lead's fixes and are plain tests now. Real stores, real folders, the CLI where a learner would use it. Hostile segments
are written here line by line (`seal`) with a valid trailer, so only the contents are bad.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import shutil
import signal
import sqlite3
import struct
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import zstandard

from quizforge.scheduling.scheduler import Rating
from quizforge.sync import segment, sync
from test_sync_redteam import (CARD_ROWS, CFG, LATER, NOW, T0, _decks, answer, cli, cli_study,
                               folder, homes, honest, no_traceback, popen, q, sync_capped)

__all__ = ["_decks", "folder", "homes", "honest"]  # fixtures used here

EVIL = "e" * 32
AT = int((T0 - timedelta(hours=1)).timestamp() * 1000)
# one answer by the hostile device to c5 (answered nowhere else): n, card place, at, rating,
# ms, before, ivl_ms, elapsed, cram (PACKED_COLUMNS)
ONE = [1000, 0, AT, 3, 3000, 0, 86_400_000, math.nan, 0]


# -- hostile segments, line by line ----------------------------------------------------------
def seal(lines: list, device=EVIL, seq=1, fmt=2) -> bytes:
    """A segment of these lines (dicts get their CRC; bytes go as they are) after a header,
    with a valid trailer."""
    header = {"t": "segment", "format": fmt, "device": device, "seq": seq,
              "written_at": AT, "name": "evil"}
    out = [segment.line(header)]
    out += [segment.line(x) if isinstance(x, dict) else x for x in lines]
    body = b"\n".join(out) + b"\n"
    trailer = segment.dumps({"t": "end", "count": len(out),
                             "sha256": hashlib.sha256(body).hexdigest()})
    return body + trailer + b"\n"


def put(folder: Path, data: bytes, device=EVIL, seq=1) -> Path:
    d = folder / segment.ROOT / device
    d.mkdir(parents=True, exist_ok=True)
    p = d / segment.segment_name(seq)
    p.write_bytes(data)
    return p


CARDS = {"t": "cards", "cols": list(segment.CARD_COLUMNS), "rows": [["d", "c5", "flashcard"]]}


def raw_columns(cols: list[list]) -> bytes:
    """The nine columns as format 2 lays them out (little-endian int64, elapsed float64)."""
    out = b""
    for code, col in zip(segment.PACKED_TYPES, cols):
        out += struct.pack(f"<{len(col)}{code}", *col)
    return out


def packed(cols=None, *, count=None, data=None, raw=None, after=(), **extra) -> dict:
    """A `packed` record: `cols` (nine lists) packed, or `raw` bytes compressed, or `data`
    (base64 text) as given; `count` as given or the answers' count."""
    cols = cols if cols is not None else [[v] for v in ONE]
    if data is None:
        raw = raw if raw is not None else raw_columns(cols)
        data = base64.b64encode(zstandard.ZstdCompressor().compress(raw)).decode()
    rec = {"t": "packed", "count": len(cols[0]) if count is None else count,
           "cols": list(segment.PACKED_COLUMNS), "types": segment.PACKED_TYPES,
           "data": data, "after": [list(a) for a in after]}
    rec.update(extra)
    return rec


def b_syncs(tmp_path, folder, now=NOW):
    b = tmp_path / "b"
    t = time.process_time()
    r = cli(b, "sync", folder, now=now)
    no_traceback(r)
    assert r.exit_code == 0, r.output
    return b, r, time.process_time() - t


def c5_answers(home) -> int:
    return q(home, "SELECT COUNT(*) FROM revlog v JOIN cards c ON c.id = v.card"
                   " WHERE c.card_id = 'c5'")[0][0]


def test_the_control_segment_is_read(tmp_path, folder, honest):
    """The hostile tests' baseline: the same line, honest, is applied (so a refusal below is
    the change's, not the harness's)."""
    put(folder, seal([CARDS, packed()]))
    b, r, _ = b_syncs(tmp_path, folder)
    assert r.stderr == "" and c5_answers(b) == 1
    assert "received 4 " in r.stdout


def _frames(*parts: bytes) -> str:
    c = zstandard.ZstdCompressor()
    return base64.b64encode(b"".join(c.compress(p) for p in parts)).decode()


RAW1 = raw_columns([[v] for v in ONE])
GOOD = base64.b64encode(zstandard.ZstdCompressor().compress(RAW1)).decode()
SCHEDULE = [2, None, 3.0, 5.0, AT + 86_400_000, 1, 0, 0]


def _col(i, v):
    cols = [[x] for x in ONE]
    cols[i] = [v]
    return cols


I64 = ((1 << 63) - 1, -(1 << 63))
HOSTILE_PACKED = {
    "count-says-more": lambda: [CARDS, packed(count=2)],
    "count-says-fewer": lambda: [CARDS, packed([[v, v] for v in ONE], count=1)],
    "count-zero": lambda: [CARDS, packed(count=0)],
    "count-true": lambda: [CARDS, packed(count=True)],
    "count-past-pack": lambda: [CARDS, packed(count=segment.PACK + 1)],
    "count-float": lambda: [CARDS, packed(count=1.0)],
    "data-not-zstd": lambda: [CARDS, packed(data=base64.b64encode(RAW1).decode())],
    "data-empty": lambda: [CARDS, packed(data="")],
    "data-a-list": lambda: [CARDS, packed(data=[GOOD])],
    "data-padding-missing": lambda: [CARDS, packed(data=GOOD.rstrip("="))],
    "two-frames-half-each": lambda: [CARDS, packed(data=_frames(RAW1[:40], RAW1[40:]))],
    "types-changed": lambda: [CARDS, packed(types="qqqqqqqqq")],
    "cols-reordered": lambda: [CARDS, packed() | {"cols": list(
        reversed(segment.PACKED_COLUMNS))}],
    "after-not-list": lambda: [CARDS, packed() | {"after": "x"}],
    "after-place-past-count": lambda: [CARDS, packed(after=[[1, *SCHEDULE]])],
    "after-place-negative": lambda: [CARDS, packed(after=[[-1, *SCHEDULE]])],
    "after-place-float": lambda: [CARDS, packed(after=[[0.0, *SCHEDULE]])],
    "after-place-true": lambda: [CARDS, packed(after=[[True, *SCHEDULE]])],
    "after-duplicated": lambda: [CARDS, packed([[v, v + (k == 0)] for k, v in enumerate(ONE)],
                                              after=[[1, *SCHEDULE], [1, *SCHEDULE]])],
    "after-short": lambda: [CARDS, packed(after=[[0, 2, None]])],
    "after-nan": lambda: [CARDS, packed(after=[[0, 2, None, math.nan, 5.0, AT, 1, 0, 0]])],
    "after-huge": lambda: [CARDS, packed(after=[[0, 2, None, 3.0, 5.0, 1 << 63, 1, 0, 0]])],
    "elapsed-inf": lambda: [CARDS, packed(_col(7, math.inf))],
    "elapsed-minus-inf": lambda: [CARDS, packed(_col(7, -math.inf))],
    "elapsed-huge": lambda: [CARDS, packed(_col(7, 1e300))],
    "card-past-list": lambda: [CARDS, packed(_col(1, 1))],
    "card-negative": lambda: [CARDS, packed(_col(1, -1))],
    "no-cards-line": lambda: [packed()],
    **{f"{name}-int64-{'max' if v > 0 else 'min'}": (lambda i=i, v=v: [CARDS, packed(_col(i, v))])
       for i, name in enumerate(segment.PACKED_COLUMNS) if name != "elapsed" for v in I64},
    "rating-0": lambda: [CARDS, packed(_col(3, 0))],
    "before-4": lambda: [CARDS, packed(_col(5, 4))],
    "cram-2": lambda: [CARDS, packed(_col(8, 2))],
    "at-past-9999": lambda: [CARDS, packed(_col(2, segment.TIME_MAX + 1))],
    "n-zero": lambda: [CARDS, packed(_col(0, 0))],
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PACKED))
def test_a_hostile_packed_line_is_one_note_and_applies_nothing(tmp_path, folder, honest, case):
    put(folder, seal(HOSTILE_PACKED[case]()))
    b, r, cpu = b_syncs(tmp_path, folder)
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert c5_answers(b) == 0
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(3,)]  # A's answers arrive
    assert cpu < 5


@pytest.mark.parametrize("case", ["ivl_ms", "elapsed"])
def test_a_hostile_packed_line_in_the_numpy_path(tmp_path, folder, honest, case):
    """From NUMPY_FROM answers a line is checked in numpy: the same refusals."""
    n = segment.NUMPY_FROM + 5
    cols = [list(range(1000, 1000 + n)), [0] * n, [AT + i for i in range(n)], [3] * n,
            [3000] * n, [2] * n, [86_400_000] * n, [1.0] * n, [0] * n]
    if case == "ivl_ms":
        cols[6][-1] = 1 << 60
    else:
        cols[7][n // 2] = math.inf
    put(folder, seal([CARDS, packed(cols)]))
    b, r, _ = b_syncs(tmp_path, folder)
    assert len(r.stderr.splitlines()) == 1 and f"review's {case}" in r.stderr, r.stderr
    assert c5_answers(b) == 0


def test_a_frame_that_inflates_to_256_mb_is_read_no_further_than_the_count(tmp_path, folder,
                                                                           honest):
    """A zstd bomb: 256 MB of zeros in a few KB, `count` 1. The reader takes count*72+1
    bytes and stops: one note, quickly, in bounded memory (the address space capped at
    1 GB in a real process)."""
    c = zstandard.ZstdCompressor().compressobj()
    bomb = b"".join(c.compress(b"\0" * (1 << 20)) for _ in range(256)) + c.flush()
    assert len(bomb) < 100_000
    put(folder, seal([CARDS, packed(data=base64.b64encode(bomb).decode())]))
    sync_capped(tmp_path / "b", folder, timeout=60)
    assert c5_answers(tmp_path / "b") == 0 and q(tmp_path / "b", "SELECT COUNT(*) FROM revlog") == [(3,)]


def test_an_enormous_after_list_is_one_note_in_bounded_time(tmp_path, folder, honest):
    """`count` 1 and a million `after` entries, all for place 0: refused (two for one
    answer) in well under the time a learner waits."""
    put(folder, seal([CARDS, packed(after=[[0, *SCHEDULE]] * 1_000_000)]))
    b, r, cpu = b_syncs(tmp_path, folder)
    assert len(r.stderr.splitlines()) == 1 and c5_answers(b) == 0, r.stderr
    assert cpu < 20


# What no quizforge writes, which the reader once took (lenient base64, frames after the
# first). A segment is read the same by every device only if every quizforge refuses the
# same bytes.
LENIENT = {
    "base64-with-newlines": lambda: packed(data="\n".join(GOOD[i:i + 8]
                                                          for i in range(0, len(GOOD), 8))),
    "base64-with-spaces-and-junk": lambda: packed(data=" !".join(GOOD)),
    "base64-data-after-padding": lambda: packed(data=GOOD + "QUFBQQ=="),
    "base64-padding-inside": lambda: packed(data=GOOD[:8] + "==" + GOOD[8:]),
    "second-frame-after-the-first": lambda: packed(data=_frames(RAW1, b"smuggled" * 100)),
}


@pytest.mark.parametrize("case", sorted(LENIENT))
def test_packed_data_no_quizforge_writes_is_refused(tmp_path, folder, honest, case):
    put(folder, seal([CARDS, LENIENT[case]()]))
    b, r, _ = b_syncs(tmp_path, folder)
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert c5_answers(b) == 0


def test_a_format_1_header_with_packed_lines_is_refused(tmp_path, folder, honest):
    """Format 1 has no `packed` record: a quizforge that reads only format 1 keeps such a
    line as an unknown record and loses its answers without a word. A header that says 1
    over packed lines is no segment any quizforge wrote."""
    put(folder, seal([CARDS, packed()], fmt=1))
    b, r, _ = b_syncs(tmp_path, folder)
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert c5_answers(b) == 0


def test_elapsed_edges_are_kept_as_sent(tmp_path, folder, honest):
    """-0.0, the smallest denormal, a NaN with a payload (none) and 2**53 in `elapsed`:
    finite values within range are taken; a NaN of any bits is 'none'."""
    nan_payload = struct.unpack("<d", struct.pack("<Q", 0x7FF8_0000_DEAD_BEEF))[0]
    vals = [-0.0, 5e-324, nan_payload, float(1 << 53)]
    cols = [[1000 + i for i in range(4)], [0] * 4, [AT + i for i in range(4)], [3] * 4,
            [3000] * 4, [2] * 4, [86_400_000] * 4, vals, [0] * 4]
    put(folder, seal([CARDS, packed(cols)]))
    b, r, _ = b_syncs(tmp_path, folder)
    assert r.stderr == "", r.stderr
    got = q(b, "SELECT elapsed_days FROM revlog v JOIN cards c ON c.id = v.card"
               " WHERE c.card_id = 'c5' ORDER BY reviewed_at")
    assert [g[0] for g in got][1:] == [5e-324, None, float(1 << 53)]
    assert got[0][0] == 0.0


# -- equivalence: format 2 and format 1 give the receiver the same store ---------------------
def as_format_1(src: Path, dst: Path) -> None:
    """A copy of sync folder `src` whose segments are written again as format 1 (JSON rows):
    the same header, cards, answers and records."""
    shutil.copytree(src, dst)
    for p in sorted(dst.glob(f"{segment.ROOT}/*/seg-*.jsonl")):
        seg = segment.read(p, p.stat().st_size)
        header = {k: v for k, v in seg.header.items() if k not in ("t", "format")}
        p.write_bytes(segment.encode(header, seg.records, [list(r) for r in seg.reviews],
                                     seg.cards, packed=False))
        assert segment.read(p, p.stat().st_size).header["format"] == 1


def dump(db_or_home, tables=("cards", "revlog", "sync_pending", "card_reviews",
                             "deck_reviews", "drill_attempts")) -> dict:
    """Every row of these tables, each value as SQLite quotes it (its type shows)."""
    if isinstance(db_or_home, Path):
        conn = sqlite3.connect(f"file:{db_or_home / 'quizforge.sqlite3'}?mode=ro", uri=True)
    else:
        conn = db_or_home.conn
    out = {}
    for t in tables:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({t})")]
        out[t] = [tuple(r) for r in conn.execute(f"SELECT {', '.join(f'quote({c})' for c in cols)} FROM {t}"
                              " ORDER BY 1, 2")]
    if isinstance(db_or_home, Path):
        conn.close()
    return out


EXTRA = "deck: e\nname: E\ncards:\n" + "".join(
    f"  - id: x{i}\n    front: extra {i}\n    back: extra answer {i}\n" for i in range(3))


def test_packed_and_json_rows_give_byte_equal_stores(tmp_path, folder, homes, _decks):
    """Two devices; undo after a sync, cram, a drill attempt (a skill card made on the
    receiver), a deck the receiver does not have yet (answers wait, then apply), one card
    answered on both devices, one card answered in two segments. Receivers of the packed
    folder and of the same folder as format 1 end byte-equal, at each step."""
    from quizforge.decks.loader import load_decks
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store import cards as store
    from quizforge.study.mastery import record_drill_attempt
    from quizforge.study.queue import Entry
    from quizforge.study.session import Session, StudyOptions

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "e.yaml").write_text(EXTRA)
    deck_e = load_decks([extra]).decks[0]
    a, c = homes("a"), homes("c")
    store.sync_decks(a, [*a.test_decks, deck_e], T0)
    a.test_decks = [*a.test_decks, deck_e]
    m = lambda k: T0 + timedelta(minutes=k)  # noqa: E731
    answer(a, "c0", Rating.GOOD, m(1))
    answer(a, "c1", Rating.AGAIN, m(2))
    answer(a, "c1", Rating.GOOD, m(3))
    undo_me = answer(a, "c2", Rating.HARD, m(4))
    s = Session(a, a.test_decks, Scheduler(CFG), StudyOptions(cram=True), m(5))
    row = store.find_card(a, "d", "c3")
    s.answer(Entry(row.rowid, "d", "c3", row.schedule), Rating.AGAIN, m(5), 2000)
    record_drill_attempt(a, Scheduler(CFG), store.Attempt(m(6), "backprop", 2, "steps", 7,
                                                           ("chain",), True, 1.0, 5000), m(6))
    answer(a, "x0", Rating.GOOD, m(7), deck_id="e")
    assert sync(a, folder, m(8), CFG).notes == []
    answer(c, "c0", Rating.EASY, m(1) + timedelta(seconds=30))
    answer(c, "c4", Rating.HARD, m(2))
    assert sync(c, folder, m(9), CFG).notes == []
    undo_me.undo()
    answer(a, "c0", Rating.HARD, m(10))
    answer(a, "c1", Rating.GOOD, m(11))
    assert sync(a, folder, m(12), CFG).notes == []
    j = tmp_path / "as-format-1"
    as_format_1(folder, j)
    bp, bj = homes("bp"), homes("bj")
    steps = []
    for (home, f) in ((bp, folder), (bj, j)):
        r = sync(home, f, m(13), CFG)
        assert r.notes == [] and r.pending == 1, r  # x0 waits for deck e
        first = dump(home)
        store.sync_decks(home, [*home.test_decks, deck_e], m(14))
        r = sync(home, f, m(15), CFG)
        assert r.notes == [] and r.pending == 0, r
        steps.append((first, dump(home)))
    assert steps[0] == steps[1]
    # and the receivers agree with the devices that answered, on the cards they share
    sync(a, folder, m(16), CFG)
    sync(c, folder, m(16), CFG)
    assert q_cards(bp) == q_cards(a) == q_cards(c)


def q_cards(db):
    """The card table but deck e (which C never has)."""
    return [tuple(r) for r in db.conn.execute(CARD_ROWS) if r[0] != "e"]


def synthetic(n: int, shuffle: bool = False, twins: bool = False) -> tuple[list, list]:
    """`n` answers of a device to deck d's eight cards, two cards of deck e (which the
    receiver lacks: they wait) and two skill cards (made on the receiver); `elapsed` none,
    -0.0, a denormal, whole and fractional; every card's last answer carries a schedule."""
    import random

    rng = random.Random(7)
    cards = ([["d", f"c{i}", "flashcard"] for i in range(8)] + [["e", "x0", "flashcard"],
             ["e", "x1", "flashcard"], ["drill", "backprop-1", "skill"],
             ["drill", "softmax-2", "skill"]])
    elapsed = [None, -0.0, 5e-324, 3.0, 2.5, 0.0]  # floats, as an export sends the log's
    rows, last = [], {}
    for i in range(n):
        place = rng.randrange(len(cards))
        at = AT - 10_000_000 + i * 97 // 3
        rows.append([i + 1, place, at, rng.randint(1, 4), rng.randrange(60_000), rng.randrange(4),
                     rng.randrange(1, 40) * 86_400_000, elapsed[i % len(elapsed)],
                     int(rng.random() < 0.05), None])
        last[place] = i
    if twins:  # one card answered twice at one millisecond, one rating: the loop's case
        rows.insert(n // 2, [n + 1, *rows[n // 2][1:]])
    for place, i in last.items():
        rows[i + (twins and i >= n // 2)][9] = [2, None, 4.5, 6.25, rows[i][2] + 5 * 86_400_000,
                                                 7, 1, 0]
    if shuffle:
        rng.shuffle(rows)
    return rows, cards


@pytest.mark.parametrize("n,shuffle,twins", [(500, False, False), (segment.NUMPY_FROM + 10,
                         False, False), (3000, True, False), (3000, False, True)],
                         ids=["small", "numpy", "out-of-order", "twins"])
def test_synthetic_packed_and_json_rows_agree(tmp_path, homes, n, shuffle, twins):

    """One device's answers written packed and as JSON rows, read by two fresh receivers:
    byte-equal stores (the numpy reader from NUMPY_FROM answers; rows out of time order and
    a twin answer send the merge down its other paths); then the deck the waiting answers
    are to appears, and they apply alike."""
    from quizforge.decks.loader import load_decks
    from quizforge.store import cards as store

    rows, cards = synthetic(n, shuffle, twins)
    header = {"device": EVIL, "seq": 1, "written_at": AT, "name": "synthetic"}
    got = []
    for packed_ in (True, False):
        f = tmp_path / f"f{packed_}"
        p = put(f, segment.encode(header, [], rows, cards, packed=packed_))
        assert segment.read(p, p.stat().st_size).header["format"] == (2 if packed_ else 1)
        home = homes(f"r{packed_}")
        r = sync(home, f, T0, CFG)
        assert r.notes == [] and r.pending, r
        before = dump(home)
        extra = tmp_path / "extra"
        extra.mkdir(exist_ok=True)
        (extra / "e.yaml").write_text(EXTRA)
        store.sync_decks(home, [*home.test_decks, *load_decks([extra]).decks], T0)
        r = sync(home, f, T0 + timedelta(minutes=1), CFG)
        assert r.notes == [] and r.pending == 0, r
        got.append((before, dump(home)))
    assert got[0][1]["revlog"] and got[0] == got[1]


# -- never-synced stores (migration 0019) ------------------------------------------------------
def unsent(home) -> str:
    r = cli(home, "sync", "--status", home.parent / "Sync")
    no_traceback(r)
    assert r.exit_code == 0, r.output
    line = " ".join(r.stdout[r.stdout.index("Not sent yet"):].split())
    head, _, items = line.partition(": ")
    return f"{head}: {', '.join(sorted(items.split(', ')))}"  # in any order


def outbox(home) -> int:
    return q(home, "SELECT COUNT(*) FROM sync_outbox")[0][0]


def drill_and_mock(home: Path, at) -> None:
    """A drill attempt (its skill card answered) and a mock round with one answer, as the
    library writes them, in `home`'s store."""
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store import cards as store
    from quizforge.store import rounds
    from quizforge.store.db import Database
    from quizforge.study.mastery import record_drill_attempt

    with Database(home / "quizforge.sqlite3") as db:
        record_drill_attempt(db, Scheduler(CFG), store.Attempt(at, "backprop", 2, "steps", 11,
                                                               ("chain",), True, 1.0, 4000), at)
        rid = rounds.start_round(db, at, 20, 1, 5)
        with db.atomic() as conn:
            rounds.insert_answer(conn, rid, 1, store.find_card(db, "d", "c7").rowid,
                                 "flashcard", (), (), 1.0, 3, at, 1000, None)
        rounds.finish_round(db, rid, at + timedelta(minutes=1), "done")


def test_a_never_synced_store_sends_everything_once(tmp_path, folder):
    """Study (one answer undone), a drill attempt, a mock round, all before any sync: no
    outbox rows; --status counts them; the first sync sends them all, B receives each once,
    and the next sync sends nothing."""
    a, b = tmp_path / "a", tmp_path / "b"
    r = cli(a, "study", "--deck", "d", "--limit", "4", input="\n3\n\n1\nu\n\n4\n\n3\n\n3\nq\n")
    assert r.exit_code == 0, r.output
    drill_and_mock(a, T0 + timedelta(minutes=5))
    answers_a = q(a, "SELECT COUNT(*) FROM revlog")[0][0]
    assert answers_a == 5 and outbox(a) == 0  # four answered, one undone; and the skill's
    assert unsent(a) == "Not sent yet: 1 drill attempts, 1 mock rounds, 5 answers"
    r = cli(a, "sync", folder, now=LATER)
    assert r.exit_code == 0 and r.stderr == "" and r.stdout.startswith("sent 7,"), r.output
    assert "nothing" in unsent(a) and outbox(a) == 0
    r = cli(b, "sync", folder, now=LATER)
    assert r.exit_code == 0 and "received 7 " in r.stdout, r.output
    assert q(b, CARD_ROWS) == q(a, CARD_ROWS)
    for t in ("revlog", "drill_attempts", "mock_rounds", "mock_answers"):
        assert q(a, f"SELECT COUNT(*) FROM {t}") == q(b, f"SELECT COUNT(*) FROM {t}"), t
    r = cli(a, "sync", folder, now=LATER)
    assert r.stdout.startswith("sent 0,"), r.output


def test_answers_after_the_first_sync_are_listed_as_they_are_written(tmp_path, folder):
    a = tmp_path / "a"
    cli_study(a, 2)
    assert outbox(a) == 0
    cli(a, "sync", folder)
    cli_study(a, 1, now=LATER)
    assert outbox(a) == 1 and "1 answers" in unsent(a) or "1 answer" in unsent(a)


def test_anki_history_into_a_never_synced_store_then_first_sync(tmp_path, folder, _decks):
    """An Anki package with history imported into a new store (no outbox rows written), then
    the first sync: every imported answer goes out, and B, with the same deck, holds the
    same answers and card table."""
    a, b = tmp_path / "a", tmp_path / "b"
    apkg = Path(__file__).parent / "fixtures" / "anki" / "ml.apkg"
    r = cli(a, "import", apkg, "--deck", "ml-anki", "--out", _decks, "--with-history")
    assert r.exit_code == 0, r.output
    n = q(a, "SELECT COUNT(*) FROM revlog")[0][0]
    assert n > 0 and outbox(a) == 0
    assert f"{n} answers" in unsent(a)
    r = cli(a, "sync", folder, now=LATER)
    assert r.exit_code == 0 and r.stdout.startswith(f"sent {n},"), r.output
    r = cli(b, "sync", folder, now=LATER)
    assert r.exit_code == 0 and f"received {n} " in r.stdout, r.output
    assert q(b, CARD_ROWS) == q(a, CARD_ROWS)


def test_a_never_synced_store_copied_then_synced_from_both_copies(tmp_path, folder):
    """The learner copies a store that never synced to a second machine, then syncs both:
    two devices send the same history under two ids. A third machine holds each answer,
    drill attempt and mock round once."""
    a, a2, c = tmp_path / "a", tmp_path / "a2", tmp_path / "c"
    cli_study(a, 3)
    drill_and_mock(a, T0 + timedelta(minutes=5))
    shutil.copytree(a, a2)
    for h in (a, a2, c, a, a2):
        r = cli(h, "sync", folder, now=LATER)
        no_traceback(r)
        assert r.exit_code == 0, r.output
    for t in ("revlog", "drill_attempts", "mock_rounds"):
        assert [q(h, f"SELECT COUNT(*) FROM {t}")[0][0] for h in (a, a2, c)] == [
            q(a, f"SELECT COUNT(*) FROM {t}")[0][0]] * 3, t
    assert q(a, CARD_ROWS) == q(a2, CARD_ROWS) == q(c, CARD_ROWS)


@pytest.mark.parametrize("point", ["before-rename", "after-rename", "import-before-commit"])
def test_kill_9_in_the_first_sync_loses_nothing_sends_nothing_twice(tmp_path, folder, point):
    """kill -9 in a never-synced store's first sync (its outbox just listed everything) or
    in the import that follows; sync again: every answer arrives once, --status right."""
    a, b = tmp_path / "a", tmp_path / "b"
    cli_study(a, 3)
    drill_and_mock(a, T0 + timedelta(minutes=5))
    if point == "import-before-commit":
        cli_study(b, 2, now=LATER, rating="1")
        cli(b, "sync", folder, now=LATER)
    before = unsent(a)
    assert "4 answers" in before, before
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    p = popen(a, "sync", folder, now=LATER, env={"QUIZFORGE_SYNC_PAUSE": f"{point}:{fifo}"})
    wait_paused(p, fifo)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    mid = unsent(a)
    if point == "import-before-commit":
        assert "nothing" in mid, mid  # the export was committed before the import
    else:  # the segment may be in the folder, but the store has not recorded it sent
        assert mid == before, (before, mid)
    for h in (a, b, a, b):
        r = cli(h, "sync", folder, now=LATER)
        no_traceback(r)
        assert r.exit_code == 0 and r.stderr == "", r.output
    assert "nothing" in unsent(a) and "nothing" in unsent(b)
    n = q(a, "SELECT COUNT(*) FROM revlog")[0][0]
    assert n == q(b, "SELECT COUNT(*) FROM revlog")[0][0] == 4 + 2 * (point == "import-before-commit")
    assert q(a, CARD_ROWS) == q(b, CARD_ROWS)
    for t in ("drill_attempts", "mock_rounds"):
        assert q(a, f"SELECT COUNT(*) FROM {t}") == q(b, f"SELECT COUNT(*) FROM {t}") == [(1,)]
    # a killed export's segment may stay in the folder beside the one written again (the
    # same uids): a uid never names two different answers
    sent = {}
    for p_ in sorted(folder.glob(f"{segment.ROOT}/*/seg-*.jsonl")):
        for r in segment.readable(segment.read(p_, p_.stat().st_size)):
            if r["t"] == "review":
                uid = (p_.parent.name, r["n"])
                assert sent.setdefault(uid, (r["card"], r["at"], r["rating"])) == (
                    r["card"], r["at"], r["rating"]), uid


# -- "cards updated": the rows the guarded UPDATE wrote ----------------------------------------
def card_rows(db) -> dict:
    return {r[0]: tuple(r) for r in db.conn.execute("SELECT * FROM cards")}


def changed(before: dict, after: dict) -> int:
    return sum(before.get(k) != v for k, v in after.items())


def test_cards_updated_counts_exactly_the_card_rows_that_changed(tmp_path, folder, homes):
    """Across a first sync, answers to cards B holds, an answer B already holds (the same
    Anki-like answer on both), a cram-only card, a suspension alone, and a sync with
    nothing new: `cards updated` is the count of card rows that differ."""
    from quizforge.store import cards as store
    from quizforge.study.queue import Entry
    from quizforge.study.session import Session, StudyOptions
    from quizforge.scheduling.scheduler import Scheduler

    a, b = homes("a"), homes("b")
    m = lambda k: T0 + timedelta(minutes=k)  # noqa: E731
    for i in range(4):
        answer(a, f"c{i}", Rating.GOOD, m(i))
    s = Session(a, a.test_decks, Scheduler(CFG), StudyOptions(cram=True), m(5))
    row = store.find_card(a, "d", "c6")
    s.answer(Entry(row.rowid, "d", "c6", row.schedule), Rating.AGAIN, m(5), 2000)
    answer(b, "c1", Rating.HARD, m(6))
    sync(a, folder, m(7), CFG)
    steps = []

    def b_sync(k):
        before = card_rows(b)
        r = sync(b, folder, m(k), CFG)
        assert r.notes == []
        steps.append((r.cards_updated, changed(before, card_rows(b))))

    b_sync(8)  # first: c0, c2, c3 new; c1 merged; c6 cram only
    answer(a, "c0", Rating.AGAIN, m(9))
    s2 = Session(a, a.test_decks, Scheduler(CFG), StudyOptions(), m(10))
    s2.suspend(s2._entry(store.find_card(a, "d", "c5")))
    sync(a, folder, m(11), CFG)
    b_sync(12)  # c0 again, c5 suspended only
    b_sync(13)  # nothing new
    sync(b, folder, m(14), CFG)
    before = card_rows(a)
    r = sync(a, folder, m(15), CFG)
    steps.append((r.cards_updated, changed(before, card_rows(a))))
    assert [x == y for x, y in steps] == [True] * len(steps), steps
    assert steps[0][1] >= 4 and steps[2] == (0, 0)
    assert table_all(a) == table_all(b)


def table_all(db):
    return [tuple(r) for r in db.conn.execute(CARD_ROWS)]


# -- sync --show and --status --------------------------------------------------------------------
def show(tmp_path, path, timeout=60):
    import subprocess

    e = {**os.environ, "QUIZFORGE_HOME": str(tmp_path / "nobody"), "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "quizforge", "sync", "--show", str(path)],
                          env=e, capture_output=True, text=True, timeout=timeout)


def one_line_refusal(r, why: str) -> None:
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1 and r.stdout == "", (r.returncode, r.stdout[:200])
    assert len(r.stderr.splitlines()) == 1 and why in r.stderr, r.stderr


def test_show_refuses_damaged_huge_hostile_and_newer_files_in_one_line(tmp_path, folder,
                                                                      honest):
    seg = next(folder.glob(f"{segment.ROOT}/*/seg-00000001.jsonl"))
    data = seg.read_bytes()
    cases = []
    rot = tmp_path / "rot.jsonl"
    rot.write_bytes(data[:60] + bytes([data[60] ^ 1]) + data[61:])
    cases.append((rot, "not a whole segment"))
    huge = tmp_path / "huge.jsonl"
    with open(huge, "wb") as f:
        f.truncate(segment.MAX_BYTES + 1)
    cases.append((huge, "more than a segment may hold"))
    for name, lines in (("bomb", [CARDS, packed(data=_frames(b"\0" * (64 << 20)))]),
                        ("after", [CARDS, packed(after=[[5, *SCHEDULE]])]),
                        ("card", [CARDS, packed(_col(1, 3))])):
        p = tmp_path / f"{name}.jsonl"
        p.write_bytes(seal(lines))
        cases.append((p, "cannot be read"))
    newer = tmp_path / "newer.jsonl"
    newer.write_bytes(seal([CARDS, {"t": "columns-v3", "x": 1}], fmt=3))
    cases.append((newer, "from a newer quizforge"))
    for path, why in cases:
        t = time.monotonic()
        one_line_refusal(show(tmp_path, path), why)
        assert time.monotonic() - t < 30, path


def test_show_prints_packed_answers_as_sent(tmp_path, folder, honest):
    """Every answer of a packed line on its own line, its card named; a NaN elapsed as null,
    -0.0 and a denormal as numbers; the output is JSON a strict parser reads."""
    vals = [math.nan, -0.0, 5e-324]
    cols = [[1000 + i for i in range(3)], [0] * 3, [AT + i for i in range(3)], [3] * 3,
            [3000] * 3, [2] * 3, [86_400_000] * 3, vals, [0] * 3]
    p = tmp_path / "seg-00000001.jsonl"
    p.write_bytes(seal([CARDS, packed(cols, after=[[2, *SCHEDULE]])]))
    r = show(tmp_path, p)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    recs = [json.loads(x, parse_constant=_no_constant) for x in r.stdout.split("\n") if x]
    answers = [x for x in recs if x["t"] == "review"]
    assert [(x["n"], x["deck"], x["card"], x["elapsed"], x["after"]) for x in answers] == [
        (1000, "d", "c5", None, None), (1001, "d", "c5", -0.0, None),
        (1002, "d", "c5", 5e-324, SCHEDULE)]


def _no_constant(name):
    raise ValueError(f"{name} is no JSON")


def test_show_output_is_json_a_strict_parser_reads(tmp_path):
    """A record of a type this quizforge does not know is kept and shown as it is; JSON's
    parser in Python takes NaN and 1e999 (inf) in it. `--show` must still print JSON."""
    p = tmp_path / "seg-00000001.jsonl"
    p.write_bytes(seal([b'{"t":"from-the-future","x":NaN,"y":1e999,"c":"00000000"}']))
    r = show(tmp_path, p)
    if r.returncode == 1:  # refused in one line: also fine
        return one_line_refusal(r, "")
    for x in r.stdout.split("\n"):
        if x:
            json.loads(x, parse_constant=_no_constant)


@pytest.mark.parametrize("ch", ["\u061c", "\u2028", "\u2029"], ids=["ALM", "LS", "PS"])
def test_show_escapes_every_bidi_control_and_line_separator(tmp_path, ch):
    """A deck name with the Arabic letter mark (a bidi control, like the marks --show
    escapes) or a Unicode line/paragraph separator (a line break to str.splitlines, so a
    script that reads --show's lines gets half a record): printed as a JSON escape."""
    p = tmp_path / "seg-00000001.jsonl"
    p.write_bytes(seal([{"t": "cards", "cols": list(segment.CARD_COLUMNS),
                         "rows": [[f"deck{ch}x", "c", "flashcard"]]}, packed()]))
    r = show(tmp_path, p)
    assert r.returncode == 0, r.stderr
    assert ch not in r.stdout
    assert all(json.loads(x) for x in r.stdout.splitlines())


def test_status_lists_a_newer_segment_and_reads_it_never_twice(tmp_path, folder, honest):
    put(folder, seal([CARDS, packed()], fmt=3))
    b, r, _ = b_syncs(tmp_path, folder)
    assert len(r.stderr.splitlines()) == 1 and "newer quizforge" in r.stderr, r.stderr
    st = cli(b, "sync", "--status", folder)
    assert st.exit_code == 0
    assert "Segments from a newer quizforge" in " ".join(st.stdout.split())
    assert f"{EVIL[:8]}/seg-00000001.jsonl" in st.stdout
    b2 = cli(b, "sync", folder, now=LATER)
    assert b2.exit_code == 0 and b2.stderr == "", b2.stderr  # said once
    assert c5_answers(b) == 0


@pytest.mark.parametrize("where", ["show", "sync"])
def test_a_fifo_named_as_a_segment_does_not_hang(tmp_path, folder, honest, where):
    """A FIFO where a segment should be (a share or a hand-made folder can hold one): `sync`
    and `sync --show` end with one note instead of waiting forever for a writer."""
    import subprocess

    d = folder / segment.ROOT / EVIL
    d.mkdir(parents=True)
    os.mkfifo(d / segment.segment_name(1))
    if where == "show":
        try:
            r = show(tmp_path, d / segment.segment_name(1), timeout=8)
        except subprocess.TimeoutExpired:
            pytest.fail("sync --show waits forever on a FIFO")
        assert r.returncode == 1 and len(r.stderr.splitlines()) == 1, r.stderr
        return
    try:
        r = subprocess.run(
            [sys.executable, "-m", "quizforge", "sync", str(folder)], capture_output=True,
            text=True, timeout=8, env={**os.environ, "QUIZFORGE_HOME": str(tmp_path / "b"),
                                        "QUIZFORGE_NOW": NOW})
    except subprocess.TimeoutExpired:
        pytest.fail("sync waits forever on a FIFO in another device's folder")
    assert r.returncode == 0 and len(r.stderr.splitlines()) <= 1, r.stderr
    assert q(tmp_path / "b", "SELECT COUNT(*) FROM revlog") == [(3,)]


# -- a schedule within the checked ranges that no scheduler makes --------------------------------
INSANE_CARDS = ("SELECT COUNT(*) FROM cards WHERE state NOT BETWEEN 0 AND 3 OR reps < 0"
                " OR lapses < 0 OR (stability IS NOT NULL AND (stability <= 0 OR stability > 1e6))"
                " OR (difficulty IS NOT NULL AND difficulty NOT BETWEEN 1 AND 10)"
                " OR (due IS NOT NULL AND due NOT BETWEEN 0 AND 253402300799999)")


@pytest.mark.parametrize("fmt", [2, 1])
@pytest.mark.parametrize("case", ["state-99", "stability-negative", "difficulty-99",
                                  "reps-negative", "due-past-9999"])
def test_a_carried_schedule_no_scheduler_makes_is_not_stored(tmp_path, folder, honest, case,
                                                              fmt):
    """A carried schedule no scheduler makes (state 99, a negative stability, a difficulty
    of 99, negative reps) is not the card's: the card is replayed from its answers; an
    interval that puts the due date past year 9999 makes the segment bad. Either way the
    store stays sane and report and study run (state 99 once made report raise, and a due
    in year 287452 report and study)."""
    sched = list(SCHEDULE)
    cols = [[v] for v in ONE]
    if case == "state-99":
        sched[0] = 99
    elif case == "stability-negative":
        sched[2] = -5.0
    elif case == "difficulty-99":
        sched[3] = 99.0
    elif case == "reps-negative":
        sched[5] = -3
    else:
        cols[6] = [(1 << 53) - 1]
    if fmt == 2:
        put(folder, seal([CARDS, packed(cols, after=[[0, *sched]])]))
    else:
        put(folder, seal([CARDS, {"t": "reviews", "cols": list(segment.REVIEW_COLUMNS),
                                  "rows": [[*(c[0] for c in cols[:7]), None, 0, sched]]}], fmt=1))
    b, r, _ = b_syncs(tmp_path, folder)
    if case == "due-past-9999":  # no scheduler's interval: the segment is bad
        assert len(r.stderr.splitlines()) == 1 and c5_answers(b) == 0, r.stderr
    else:  # the answer is taken, the card replayed from its answers
        assert r.stderr == "" and c5_answers(b) == 1, r.stderr
    for args in (("report",), ("study", "--deck", "d")):
        rr = cli(b, *args, now=LATER, input="q\n")
        no_traceback(rr)
        assert rr.exit_code == 0, rr.output
    assert q(b, INSANE_CARDS) == [(0,)], q(b, "SELECT * FROM cards WHERE card_id = 'c5'")


# -- many packed lines, mixed lines, uids twice ------------------------------------------------
def _receive(tmp_path, homes, name, data: bytes, monkeypatch=None) -> dict:
    f = tmp_path / f"f-{name}"
    put(f, data)
    home = homes(f"r-{name}")
    r = sync(home, f, T0, CFG)
    assert r.notes == [], r.notes
    return dump(home)


def test_many_packed_lines_a_card_across_them_and_mixed_lines(tmp_path, homes, monkeypatch):
    """PACK set to 300: 2,000 answers in seven packed lines (cards answered in several);
    the same with every other line a format-1 `reviews` line in a format-2 segment (what
    encode writes for a value no column holds); and all as format 1: one store."""
    monkeypatch.setattr(segment, "PACK", 300)
    rows, cards = synthetic(2000)
    header = {"device": EVIL, "seq": 1, "written_at": AT, "name": "x"}
    packed_data = segment.encode(header, [], rows, cards, packed=True)
    assert packed_data.count(b'"t":"packed"') == 7
    mixed_lines = []
    for k, raw in enumerate(packed_data.split(b"\n")[2:-2]):  # between cards and trailer
        if k % 2:
            rec = json.loads(raw)
            cols: list = [[] for _ in segment.REVIEW_COLUMNS]
            segment.check_packed(rec, 1, cols)
            part = [list(r) for r in zip(*cols)]
            mixed_lines.append({"t": "reviews", "cols": list(segment.REVIEW_COLUMNS),
                                "rows": part})
        else:
            mixed_lines.append(raw)
    seg_cards = {"t": "cards", "cols": list(segment.CARD_COLUMNS), "rows": cards}
    mixed = seal([seg_cards, *mixed_lines])
    assert mixed.count(b'"t":"reviews"') == 3
    got = [_receive(tmp_path, homes, n, d) for n, d in (
        ("packed", packed_data), ("mixed", mixed),
        ("json", segment.encode(header, [], rows, cards, packed=False)))]
    assert got[0]["revlog"] and got[0] == got[1] == got[2]


def test_one_uid_twice_in_a_segment_is_one_answer_either_format(tmp_path, homes):
    """A segment naming answer n twice (two lines, different contents; no quizforge writes
    it): packed or JSON rows, the receiver keeps one answer for it, the same one."""
    rows, cards = synthetic(400)
    dup = [*rows[:200], [rows[100][0], *rows[150][1:]], *rows[200:]]
    header = {"device": EVIL, "seq": 1, "written_at": AT, "name": "x"}
    got = [_receive(tmp_path, homes, str(p), segment.encode(header, [], dup, cards, packed=p))
           for p in (True, False)]
    assert got[0] == got[1]
    assert len(got[0]["revlog"]) + len(got[0]["sync_pending"]) == 400


def wait_paused(p, fifo: Path, timeout: float = 60) -> None:
    """Until the process `p` writes "paused" to the FIFO; fails (never hangs) if it ends
    first or takes longer than `timeout`."""
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        got, end = b"", time.monotonic() + timeout
        while b"paused" not in got:
            assert p.poll() is None, p.communicate()
            assert time.monotonic() < end, "never paused"
            try:
                got += os.read(fd, 100)
            except BlockingIOError:
                pass
            time.sleep(0.05)
    finally:
        os.close(fd)


def schema(home) -> list:
    return q(home, "SELECT type, name, sql FROM sqlite_master ORDER BY type, name")


def test_kill_9_in_a_bulk_import_keeps_the_triggers_and_indexes(tmp_path, homes):
    """A packed segment of BULK answers (the review log's triggers and indexes set aside for
    the insert, inside the import's transaction), kill -9 before the commit: the store's
    schema is whole, nothing of the segment is in it, and the next sync takes it all, with
    the counts the triggers keep."""
    from quizforge.sync.merge import BULK

    rows, cards = synthetic(BULK + 100)
    f = tmp_path / "Sync"
    f.mkdir()
    b = tmp_path / "b"
    cli(b, "sync", f)  # a store that has synced, before the segment arrives
    before = schema(b)
    put(f, segment.encode({"device": EVIL, "seq": 1, "written_at": AT, "name": "x"}, [], rows,
                          cards))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    p = popen(b, "sync", f, env={"QUIZFORGE_SYNC_PAUSE": f"import-before-commit:{fifo}"})
    wait_paused(p, fifo)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    assert schema(b) == before
    assert q(b, "SELECT COUNT(*) FROM revlog") == [(0,)]
    r = cli(b, "sync", f)
    assert r.exit_code == 0 and r.stderr == "", r.output
    assert schema(b) == before
    n = q(b, "SELECT COUNT(*) FROM revlog")[0][0]
    assert n > 0 and q(b, "SELECT SUM(answers) FROM card_reviews") == [(n,)]
    assert q(b, "PRAGMA integrity_check") == [("ok",)]
    ref = homes("ref")
    sync(ref, f, T0, CFG)
    log = ("SELECT c.deck_id, c.card_id, quote(v.reviewed_at), v.rating, v.duration_ms,"
           " v.state_before, quote(v.interval_days), quote(v.elapsed_days), v.cram FROM revlog v"
           " JOIN cards c ON c.id = v.card ORDER BY v.id")
    assert [tuple(r) for r in ref.conn.execute(log)] == q(b, log)
