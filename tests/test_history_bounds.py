"""Out-of-range values in an Anki history (issue 20): every value is checked against
py-fsrs's bounds before anything is written, and `doctor` finds and `--fix` repairs a store
that an older import left with such cards."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from pathlib import Path

import fsrs
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.paths import db_path

FIX = Path(__file__).parent / "fixtures" / "anki"
runner = CliRunner()
NOW = "2026-11-20T08:00:00+00:00"


@pytest.fixture(autouse=True)
def _now(monkeypatch):
    from quizforge.cli import common

    monkeypatch.setenv("QUIZFORGE_NOW", NOW)
    for console in (common.out, common.err):
        monkeypatch.setattr(console, "width", 200)


def guid(g: str) -> str:
    return "anki-" + hashlib.blake2b(g.encode(), digest_size=5).hexdigest()


def crafted(tmp_path: Path, *sql: str) -> Path:
    """ml.apkg (new format) with `sql` run on its collection."""
    data = zipfile.ZipFile(FIX / "ml.apkg").read("collection.anki21b")
    raw = bytearray(zstandard.ZstdDecompressor().stream_reader(data).read())
    raw[18] = raw[19] = 1
    conn = sqlite3.connect(":memory:")
    conn.deserialize(bytes(raw))
    for statement in sql:
        conn.execute(statement)
    conn.commit()
    path = tmp_path / "crafted.apkg"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("collection.anki21b", zstandard.ZstdCompressor().compress(conn.serialize()))
    conn.close()
    return path


RELU = "(SELECT c.id FROM cards c JOIN notes n ON n.id = c.nid WHERE n.guid = 'qfRelu0003'" \
       " AND c.ord = {})"
ADAM = "(SELECT c.id FROM cards c JOIN notes n ON n.id = c.nid WHERE n.guid = 'qfAdam0001')"


def test_out_of_range_history_is_checked_clamped_and_counted(tmp_path):
    package = crafted(
        tmp_path,
        f"UPDATE cards SET data = '{{\"s\": 1e999, \"d\": 5.0}}' WHERE id = {RELU.format(0)}",
        f"UPDATE cards SET data = '{{\"s\": 5.0, \"d\": -50}}' WHERE id = {RELU.format(1)}",
        # a review in the year 33658 and one with a rating of 9
        f"INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)"
        f" VALUES (1000000000000000, {ADAM}, 0, 3, 1, 0, 0, 1000, 1)",
        f"INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)"
        f" VALUES (1700000000000, {ADAM}, 0, 9, 1, 0, 0, 1000, 1)",
    )
    out = tmp_path / "out"
    r = runner.invoke(app, ["import", str(package), "--deck", "h", "--out", str(out),
                            "--with-history", "--json"])
    assert r.exit_code == 0, r.output
    h = json.loads(r.stdout)["history"]
    assert (h["dropped"], h["clamped"], h["discarded"]) == (2, 1, 1)
    assert (h["from_anki"], h["replayed"]) == (1, 2)
    conn = sqlite3.connect(db_path())
    rows = {cid: (s, d) for cid, s, d in
            conn.execute("SELECT card_id, stability, difficulty FROM cards")}
    conn.close()
    assert rows[guid("qfRelu0003") + "-t2"] == (5.0, fsrs.scheduler.MIN_DIFFICULTY)
    s, d = rows[guid("qfRelu0003")]  # replayed: a finite state in range
    assert fsrs.scheduler.STABILITY_MIN <= s <= 36500 and 1 <= d <= 10

    r = runner.invoke(app, ["import", str(package), "--deck", "h2", "--out", str(out),
                            "--with-history"])
    assert ("Out of range in the package: 2 reviews left out, 1 card or review clamped into "
            "FSRS's range, 1 Anki memory state unusable (replayed instead).") in r.stdout
    for command in (["simulate", "--decks", str(out), "--days", "30"],
                    ["report", "--decks", str(out)],
                    ["study", "--decks", str(out), "--deck", "h", "--seed", "1"]):
        r = runner.invoke(app, command, input="\n3\nq\n")
        assert r.exception is None or isinstance(r.exception, SystemExit), (command, r.output)
        assert r.exit_code == 0, (command, r.output)


def test_a_history_with_impossible_dates_is_replayed_not_a_crash(tmp_path):
    """A review card due 10^9 days after day zero, and a collection day zero in the year
    292 billion: the old import wrote the deck file, then crashed on them."""
    package = crafted(
        tmp_path,
        f"UPDATE cards SET due = 1000000000 WHERE id = {RELU.format(0)}",
        "UPDATE col SET crt = 9223372036854775807",
    )
    out = tmp_path / "out"
    r = runner.invoke(app, ["import", str(package), "--deck", "h", "--out", str(out),
                            "--with-history", "--json"])
    assert r.exit_code == 0, r.output  # states unusable: replayed from the reviews instead
    h = json.loads(r.stdout)["history"]
    assert h["discarded"] == 2 and h["from_anki"] == 0


def test_the_deck_is_written_only_after_the_history_was_read(tmp_path, monkeypatch):
    from quizforge.importing import history

    def broken(*args):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(history, "plan_history", broken)
    out = tmp_path / "out"
    r = runner.invoke(app, ["import", str(FIX / "ml.apkg"), "--deck", "h", "--out", str(out),
                            "--with-history"])
    assert r.exit_code == 1
    assert r.stderr == (f"Error: {FIX / 'ml.apkg'}: the review history cannot be read (date "
                        "value out of range); nothing written\n")
    assert not out.exists() or not any(out.iterdir())


# -- doctor ------------------------------------------------------------------------------

def broken_store(tmp_path: Path) -> None:
    r = runner.invoke(app, ["import", str(FIX / "ml.apkg"), "--deck", "h", "--out",
                            str(tmp_path / "out"), "--with-history"])
    assert r.exit_code == 0, r.output
    conn = sqlite3.connect(db_path())
    # what the old import wrote from such a package, and worse
    conn.execute("UPDATE cards SET stability = 9e999, difficulty = -50 WHERE card_id = ?",
                 (guid("qfRelu0003"),))
    conn.execute("UPDATE cards SET due = 99999999999999999 WHERE card_id = ?",
                 (guid("qfAdam0001"),))
    conn.commit()
    conn.close()


def test_doctor_finds_and_fixes_out_of_range_card_states(tmp_path):
    broken_store(tmp_path)
    out = tmp_path / "out"
    r = runner.invoke(app, ["simulate", "--decks", str(out), "--days", "30"])
    assert r.exit_code != 0  # what the store does to study and simulate before --fix
    r = runner.invoke(app, ["doctor", "--json"])
    assert r.exit_code == 1
    found = [f for f in json.loads(r.stdout)["findings"] if not f["ok"]]
    assert [f["text"] for f in found] == [
        "2 cards with a memory state or date out of range (study and simulate cannot "
        "schedule them)"]
    assert found[0]["fix"].startswith("quizforge doctor --fix clamps stability")

    r = runner.invoke(app, ["doctor", "--fix"])
    assert r.exit_code == 0, r.output
    assert "1 cards with impossible dates reset, 1 memory states clamped" in r.stdout
    conn = sqlite3.connect(db_path())
    relu = conn.execute("SELECT stability, difficulty FROM cards WHERE card_id = ?",
                        (guid("qfRelu0003"),)).fetchone()
    adam = conn.execute("SELECT state, due, stability FROM cards WHERE card_id = ?",
                        (guid("qfAdam0001"),)).fetchone()
    reviews = conn.execute("SELECT count(*) FROM revlog").fetchone()[0]
    conn.close()
    assert relu == (36500.0, 1.0)
    assert adam == (0, None, None)
    assert reviews == 8  # the review log is kept
    for command in (["simulate", "--decks", str(out), "--days", "30"],
                    ["study", "--decks", str(out), "--deck", "h", "--seed", "1"]):
        r = runner.invoke(app, command, input="\n3\nq\n")
        assert r.exit_code == 0, (command, r.output)


def test_history_written_by_sql_equals_the_python_rows(tmp_path):
    """The review log written by SQL from the package (the import's path) against the rows
    `review_rows` builds in Python from the same revlog: odd types, manual and Forget rows,
    cram, out-of-range dates, ratings and values, a first learn row after a cram one."""
    from datetime import UTC, datetime

    from quizforge.importing import check_deck, deck_text
    from quizforge.importing.apkg import read_package
    from quizforge.importing.history import apply_history, plan_history
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store.db import Database

    base = 1_760_000_000_000
    # (id, ease, ivl, time, type) as SQL literals: text and blob values too
    odd = [(base + 10, "'3'", 1, 1000, 1), (base + 20, 3, 1.5, 1000, 1),
           (base + 30, 3, 1, "X'3132'", 1), (base + 40, 9, 1, 1000, 1),
           (base + 50, 3, 1, 1000, 7), (10**15, 3, 1, 1000, 1), (base + 60, 3, 10**9, 10**12, 1),
           (base + 5, 2, -600, -5, 3), (base + 70, 2, -600, -5, 0), (base + 80, 0, 0, 0, 4),
           (base + 90, 3, 3, 4000, 3), (base + 100, 1, -60, 700000, 2), (base + 110, 4, 12, 3, 1),
           (base + 120, 0, 5, 0, 5), (base + 130, 2, 0, 2000, 0)]
    values = ", ".join(f"({at}, {ADAM}, -1, {e}, {i}, 0, 2500, {t}, {k})"
                       for at, e, i, t, k in odd)
    path = crafted(tmp_path, "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor,"
                   f" time, type) VALUES {values}")
    now = datetime(2026, 11, 20, 8, tzinfo=UTC)
    scheduler = Scheduler()
    written = []
    for keep in (False, True):
        imported = read_package(path, True, keep=keep)
        try:
            deck = check_deck(deck_text("ml", imported, "x"), tmp_path / "ml.yaml")
            plan = plan_history("ml", imported.cards, scheduler, now, imported.package)
            assert (plan.package is not None) == keep
            if keep:  # cards whose rows SQL checks again, and clean ones it does not
                assert {c.clean for c in plan.cards if c.kept} == {False, True}
            db = Database(":memory:")
            for again in (False, True):  # again: the store has some of the answers already
                counts = apply_history(db, deck, plan, now)
                written.append((again, counts.to_dict(), [tuple(r) for r in db.conn.execute(
                    "SELECT id, card, reviewed_at, rating, duration_ms, state_before,"
                    " interval_days, elapsed_days, cram FROM revlog ORDER BY id")]))
                with db.atomic() as conn:
                    conn.execute("DELETE FROM revlog WHERE id % 3 = 0")
            db.close()
        finally:
            imported.close()
    python, sql = written[:2], written[2:]
    assert python[0][1]["dropped"] >= 5 and python[0][1]["clamped"] >= 1
    assert python[1][1]["already"] > 0 and python[1][1]["reviews"] > 0
    assert sql == python


def _summaries_reference(conn, window) -> dict:
    """package_summaries as one grouped query over every row (how it was first written, and
    what it falls back to): `_SUMMARY`, by `_whole_summaries`."""
    from quizforge.importing.history import _whole_summaries

    return _whole_summaries(conn, {"lo": window[0], "hi": window[1]})


_VALUES = st.one_of(st.integers(-3, 6), st.sampled_from(
    ["'3'", "1.5", "X'3132'", "NULL", "100000", "-90000", "1000000000", "86400001"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.sampled_from([1, 2, 3, "2.0", "'x'", 4]),
                          _VALUES, _VALUES, _VALUES, _VALUES), max_size=40))
def test_package_summaries_count_as_one_grouped_query(rows):
    """The two-pass count of a package's revlog (all rows from the cid index, then only the
    odd ones) against one grouped query over every row: random rows of odd types and
    values, manual, cram and dropped rows, a newest row that is not a graded answer."""
    from quizforge.importing.history import package_summaries

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE revlog (id integer primary key, cid integer, usn integer,"
                 " ease integer, ivl integer, lastIvl integer, factor integer, time integer,"
                 " type integer)")  # Anki's columns, without NOT NULL (a crafted package)
    conn.execute("CREATE INDEX ix_revlog_cid ON revlog (cid)")
    base = 1_760_000_000_000
    for k, (at, cid, ease, ivl, taken, kind) in enumerate(rows):
        at_ms = base + at * 86_400_000 + k if at < 58 else 10**15 + k  # some out of range
        conn.execute(f"INSERT INTO revlog VALUES ({at_ms}, {cid}, -1, {ease}, {ivl}, 0, 2500,"
                     f" {taken}, {kind})")

    class Package:
        def damaged(self, e):
            return e

    package = Package()
    package.conn = conn
    window = (base - 86_400_000, base + 100 * 86_400_000)
    assert package_summaries(package, window) == _summaries_reference(conn, window)
