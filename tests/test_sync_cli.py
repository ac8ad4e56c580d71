"""`quizforge sync` as a learner runs it: real processes, two homes, one folder; kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quizforge.cli import app

NOW = "2026-03-02T12:00:00+00:00"
LATER = "2026-03-02T13:00:00+00:00"
CARD_ROWS = ("SELECT deck_id, card_id, state, step, stability, difficulty, due, last_review,"
             " reps, lapses, suspended, leech FROM cards WHERE state != 0 OR suspended = 1"
             " ORDER BY deck_id, card_id")
runner = CliRunner()


DECK = """deck: flash
name: Flashcards
cards:
""" + "".join(f"  - id: f{i}\n    front: question {i}\n    back: answer {i}\n" for i in range(8))


@pytest.fixture(autouse=True)
def _deck(tmp_path, monkeypatch):
    """One deck of flashcards only (MCQ choices are shuffled: scripted letters would be
    guesses), found through QUIZFORGE_DECKS by every process."""
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "flash.yaml").write_text(DECK)
    monkeypatch.setenv("QUIZFORGE_DECKS", str(tmp_path / "decks"))


def run(home: Path, *args, now=NOW, stdin=None, env=None, check=True):
    e = {**os.environ, "QUIZFORGE_HOME": str(home), "QUIZFORGE_NOW": now, "COLUMNS": "80",
         **(env or {})}
    r = subprocess.run([sys.executable, "-m", "quizforge", *args], input=stdin, env=e,
                       capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def cards(home: Path):
    with sqlite3.connect(home / "quizforge.sqlite3") as c:
        return c.execute(CARD_ROWS).fetchall()


def count(home: Path, sql="SELECT COUNT(*) FROM revlog") -> int:
    with sqlite3.connect(home / "quizforge.sqlite3") as c:
        return c.execute(sql).fetchone()[0]


def study(home, n, now=NOW, rating="3", env=None):
    # stdin not a terminal: a line reveals a flashcard, then a line rates it (MCQ: a letter)
    return run(home, "study", "--deck", "flash", "--limit", str(n), now=now,
               stdin=f"\n{rating}\n" * n + "q\n", env=env)


def test_two_homes_study_offline_then_sync_both_ways(tmp_path):
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "Sync"
    folder.mkdir()
    study(a, 3)
    study(b, 2, now=LATER, rating="1")
    assert run(a, "sync", str(folder)).stdout == \
        "sent 3, received 0 from 0 devices, cards updated 0\n"
    assert run(b, "sync", str(folder), now=LATER).stdout == \
        "sent 2, received 3 from 1 device, cards updated 3\n"  # f0, f1 merged; f2 new here
    assert run(a, "sync", str(folder), now=LATER).stdout == \
        "sent 0, received 2 from 1 device, cards updated 2\n"
    assert cards(a) == cards(b) and len(cards(a)) == 3
    assert count(a) == count(b) == 5
    status = run(b, "sync", "--status", str(folder)).stdout
    assert " ".join(status.split()).startswith(f"Sync folder {folder} ")  # the path may wrap
    assert "(this)" in status and "Not sent yet: nothing" in status
    for home in (a, b):  # reports and summaries after sync equal a recount
        doctor = run(home, "doctor")
        assert "summary tables match the review log" in doctor.stdout
        assert doctor.stdout.endswith("No problems found.\n")


def test_sync_dir_makes_study_sync_at_start_and_exit(tmp_path):
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "Sync"
    folder.mkdir()
    for home in (a, b):
        run(home, "config", "set", "sync_dir", str(folder))
    study(a, 2)  # exits with a sync: its answers are in the folder
    assert count(a, "SELECT COUNT(*) FROM sync_outbox") == 0
    r = study(b, 1, now=LATER)  # starts with a sync: a's answers are here before it chooses
    assert "warning" not in r.stderr
    assert count(b) == 3
    run(a, "sync")
    assert cards(a) == cards(b)


def test_errors_are_one_line(tmp_path):
    r = runner.invoke(app, ["sync"])
    assert r.exit_code == 1
    assert r.stderr == ("Error: no sync folder: pass DIR, or set one with"
                        " `quizforge config set sync_dir DIR`\n")
    r = runner.invoke(app, ["sync", str(tmp_path / "nope")])
    assert r.exit_code == 1 and r.stderr.startswith(
        f"Error: sync folder {tmp_path / 'nope'} does not exist")
    (tmp_path / "f").write_text("")
    r = runner.invoke(app, ["config", "set", "sync_dir", str(tmp_path / "f")])
    assert r.exit_code == 1
    assert r.stderr == f"Error: sync folder {tmp_path / 'f'} is not a directory\n"
    r = runner.invoke(app, ["sync", "--status", str(tmp_path / "f")])
    assert r.exit_code == 1 and "is not a directory" in r.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        r = runner.invoke(app, ["sync", str(folder)])
        assert r.exit_code == 1
        assert r.stderr == (f"Error: sync folder {folder} is read-only: quizforge writes its own"
                            " segments there\n")
    finally:
        folder.chmod(0o755)


def test_a_failed_quiet_sync_never_blocks_study(tmp_path):
    a, folder = tmp_path / "a", tmp_path / "Sync"
    folder.mkdir()
    run(a, "config", "set", "sync_dir", str(folder))
    folder.rmdir()  # the drive is not mounted today
    r = study(a, 1)
    assert r.stderr.count("warning: sync skipped: sync folder") == 2
    assert count(a) == 1


def _killed_at(home: Path, point: str, folder: Path, tmp_path: Path, now=NOW) -> None:
    """Run `quizforge sync` until it reaches `point`, then SIGKILL it."""
    fifo = tmp_path / f"pause-{point}"
    os.mkfifo(fifo)
    env = {**os.environ, "QUIZFORGE_HOME": str(home), "QUIZFORGE_NOW": now,
           "QUIZFORGE_SYNC_PAUSE": f"{point}:{fifo}"}
    p = subprocess.Popen([sys.executable, "-m", "quizforge", "sync", str(folder)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with open(fifo) as f:  # blocks until the process is there
            assert f.read() == "paused"
        os.kill(p.pid, signal.SIGKILL)
        assert p.wait(timeout=60) == -signal.SIGKILL
    finally:
        if p.poll() is None:
            p.kill()
        fifo.unlink()


@pytest.mark.parametrize("point", ["before-rename", "after-rename"])
def test_kill_9_in_the_middle_of_an_export(tmp_path, point):
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "Sync"
    folder.mkdir()
    study(a, 3)
    _killed_at(a, point, folder, tmp_path)
    segs = sorted(p.name for p in folder.glob("quizforge-sync/*/*") if p.name != "device.json")
    if point == "before-rename":
        assert [s for s in segs if not s.startswith(".")] == []  # only the temporary file
    else:
        assert segs == ["seg-00000001.jsonl"]  # written, not recorded as sent
    r = run(a, "sync", str(folder), now=LATER)
    assert r.stdout.startswith("sent 3,")
    names = sorted(p.name for p in folder.glob("quizforge-sync/*/*"))
    assert not [n for n in names if n.endswith(".tmp")]  # the killed sync's leftover is gone
    assert run(b, "sync", str(folder), now=LATER).stdout.startswith("sent 0, received 3 from 1 ")
    assert count(b) == 3 and cards(a) == cards(b)
    assert run(a, "sync", str(folder), now=LATER).stdout.startswith("sent 0, received 0")


def test_kill_9_in_the_middle_of_an_import(tmp_path):
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "Sync"
    folder.mkdir()
    study(a, 3)
    study(b, 1, now=LATER)
    run(a, "sync", str(folder))
    _killed_at(b, "import-before-commit", folder, tmp_path, now=LATER)
    assert count(b) == 1  # nothing of the import was kept...
    r = run(b, "sync", str(folder), now=LATER)
    # ...but its export was (committed before the import began): sent once, not twice
    assert r.stdout == "sent 0, received 3 from 1 device, cards updated 3\n"
    run(a, "sync", str(folder), now=LATER)
    assert count(a) == count(b) == 4 and cards(a) == cards(b)


def test_show_prints_a_segment_as_json_lines(tmp_path):
    """`sync --show SEGMENT`: the header, each answer on its own line with its card named,
    then the other records; JSON a script reads back. It opens no store."""
    import json

    a, folder = tmp_path / "a", tmp_path / "Sync"
    folder.mkdir()
    study(a, 3)
    run(a, "sync", str(folder))
    seg = next(folder.glob("quizforge-sync/*/seg-00000001.jsonl"))
    r = run(tmp_path / "nobody", "sync", "--show", str(seg))
    recs = [json.loads(line) for line in r.stdout.splitlines()]
    assert recs[0]["t"] == "segment" and recs[0]["format"] == 2
    answers = [x for x in recs if x["t"] == "review"]
    assert [(x["n"], x["deck"], x["kind"], x["rating"]) for x in answers] == [
        (1, "flash", "flashcard", 3), (2, "flash", "flashcard", 3), (3, "flash", "flashcard", 3)]
    assert sorted(x["card"] for x in answers) == ["f0", "f1", "f2"]
    assert all(x["after"] is not None for x in answers)  # each card's last answer
    assert not (tmp_path / "nobody").exists()


def test_show_refuses_what_is_no_whole_segment_in_one_line(tmp_path):
    a, folder = tmp_path / "a", tmp_path / "Sync"
    folder.mkdir()
    study(a, 2)
    run(a, "sync", str(folder))
    seg = next(folder.glob("quizforge-sync/*/seg-00000001.jsonl"))
    half = tmp_path / "half.jsonl"
    half.write_bytes(seg.read_bytes()[:100])
    for path, why in ((half, "is not a whole segment (no trailer)"),
                      (tmp_path / "none.jsonl", "cannot read"),
                      (folder, "is a folder, not a segment file")):
        r = run(a, "sync", "--show", str(path), check=False)
        assert r.returncode == 1 and r.stdout == "", r.stderr
        assert len(r.stderr.splitlines()) == 1 and why in r.stderr, r.stderr


def test_show_escapes_what_would_drive_the_terminal(tmp_path):
    """A hostile device's deck name with a C1 CSI and a right-to-left override: printed as
    JSON escapes, never as the characters."""
    from quizforge.sync import segment

    seg = tmp_path / "seg-00000001.jsonl"
    seg.write_bytes(segment.encode(
        {"device": "e" * 32, "seq": 1, "written_at": 0, "name": "evil\x1b[2J"}, [],
        [[1, 0, 1000, 3, 4000, 0, 86_400_000, None, 0, None]],
        [["deck\x9b31m\u202e", "c\x07", "flashcard"]]))
    r = run(tmp_path / "a", "sync", "--show", str(seg))
    assert not any(0x7f <= ord(ch) <= 0x9f or ch in "\u202e\x1b\x07" for ch in r.stdout)
    assert "\\u009b" in r.stdout and "\\u202e" in r.stdout and "\\u001b" in r.stdout


def test_show_into_a_closed_pipe_is_quiet(tmp_path):
    """`sync --show SEGMENT | head -1` on a big segment: no BrokenPipeError traceback."""
    from quizforge.sync import segment

    seg = tmp_path / "seg-00000001.jsonl"
    rows = [[i + 1, 0, 1000 + i, 3, 4000, 2, 86_400_000, 1.0, 0, None] for i in range(50_000)]
    seg.write_bytes(segment.encode({"device": "e" * 32, "seq": 1, "written_at": 0,
                                    "name": "x"}, [], rows, [["d", "c", "flashcard"]]))
    e = {**os.environ, "QUIZFORGE_HOME": str(tmp_path / "h")}
    p = subprocess.run(f"'{sys.executable}' -m quizforge sync --show '{seg}' | head -1",
                       shell=True, env=e, capture_output=True, text=True, timeout=120)
    assert p.stdout.startswith('{"t": "segment"') and p.stderr == "", p.stderr


def test_a_store_that_never_synced_sends_all_it_holds_at_its_first_sync(tmp_path):
    """Before its first sync a store keeps no outbox (an Anki history import writes none,
    nor does study); `--status` still counts everything as not sent, and the first sync
    sends it all: b ends with a's answers and card rows."""
    fixture = Path(__file__).parent / "fixtures" / "anki" / "ml.apkg"
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "Sync"
    folder.mkdir()
    run(a, "import", str(fixture), "--deck", "ml", "--out", str(tmp_path / "decks"),
        "--with-history")
    study(a, 2)
    assert count(a, "SELECT COUNT(*) FROM sync_outbox") == 0
    assert count(a) == 10  # 8 answers from Anki, 2 studied here
    status = run(a, "sync", "--status", str(folder)).stdout
    assert "Not sent yet: 10 answers" in status
    assert run(a, "sync", str(folder)).stdout.startswith("sent 10, ")
    assert count(a, "SELECT COUNT(*) FROM sync_outbox") == 0
    assert "Not sent yet: nothing" in run(a, "sync", "--status", str(folder)).stdout
    study(a, 1, now=LATER)  # a has synced: its outbox lists what it writes now
    assert count(a, "SELECT COUNT(*) FROM sync_outbox") == 1
    run(a, "sync", str(folder), now=LATER)
    assert run(b, "sync", str(folder), now=LATER).stdout.startswith("sent 0, received 11 ")
    assert count(b) == 11 and cards(a) == cards(b)


def test_a_fifo_in_the_sync_folder_hangs_nothing(tmp_path):
    """A FIFO (or any file that is not a regular one) under a segment's or device.json's
    name, made by a sync tool or anyone: the sync reads no byte of it and never blocks (a
    real process, with a time limit); the segment is noted once as unreadable."""
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "Sync"
    folder.mkdir()
    study(a, 1)
    run(a, "sync", str(folder))
    evil = folder / "quizforge-sync" / ("e" * 32)
    evil.mkdir()
    os.mkfifo(evil / "seg-00000001.jsonl")
    os.mkfifo(evil / "device.json")
    r = run(b, "sync", str(folder))  # subprocess.run's timeout: a blocked read fails here
    assert r.stdout.startswith("sent 0, received 1 from 1 device")
    assert r.stderr == ("note: segment eeeeeeee/seg-00000001.jsonl cannot be read (not a"
                        " regular file): skipped, nothing of it applied\n")
    assert run(b, "sync", str(folder)).stderr == ""
    assert "eeeeeeee/seg-00000001.jsonl" in run(b, "sync", "--status", str(folder)).stdout
    r = run(b, "sync", "--show", str(evil / "seg-00000001.jsonl"), check=False)
    assert r.returncode == 1 and "not a regular file" in r.stderr
