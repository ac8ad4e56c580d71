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
