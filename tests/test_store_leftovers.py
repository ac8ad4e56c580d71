"""A full disk and a killed backup or restore (issue 20).

A full disk is simulated two ways, said plainly: the free space the store sees is
monkeypatched (`free_bytes`), and SQLite's errors are the ones it raises on a full disk
(SQLITE_FULL, or "disk I/O error" when it cannot grow the -shm file). A killed backup or
restore is a real process killed with SIGKILL while it writes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quizforge.cli import app, common
from quizforge.paths import db_path
from quizforge.store import backup as backups
from quizforge.store import db as store_db
from quizforge.store import health

runner = CliRunner()
NOW = "2026-11-20T08:00:00+00:00"


@pytest.fixture(autouse=True)
def _setup(monkeypatch):
    monkeypatch.setenv("QUIZFORGE_NOW", NOW)
    for console in (common.out, common.err):
        monkeypatch.setattr(console, "width", 300)


def a_store() -> Path:
    r = runner.invoke(app, ["backup"])
    assert r.exit_code == 0, r.output
    return db_path()


def full(monkeypatch, free: int = 4096) -> None:
    monkeypatch.setattr(store_db, "free_bytes", lambda folder: free)
    for module in (backups, health):
        if hasattr(module, "free_bytes"):
            monkeypatch.setattr(module, "free_bytes", lambda folder: free)


def io_error(*args, **kwargs):
    e = sqlite3.OperationalError("disk I/O error")
    e.sqlite_errorname = "SQLITE_IOERR_SHMSIZE"
    raise e


# -- a full disk ----------------------------------------------------------------------------

def test_a_disk_io_error_on_a_full_disk_says_the_disk_is_full(monkeypatch):
    store = a_store()
    full(monkeypatch)
    monkeypatch.setattr(store_db.Database, "_open_file", io_error)
    for command in (["report"], ["decks"], ["study", "--deck", "backprop"]):
        r = runner.invoke(app, command, input="q\n")
        assert r.exit_code == 1, (command, r.output)
        assert r.stderr == (
            f"Error: the disk holding {store} is full (4.0 KB free); free some space and try "
            "again (the store is not damaged: do not restore a backup for this)\n"), command


def test_a_disk_io_error_with_room_left_is_not_called_full(monkeypatch):
    store = a_store()
    full(monkeypatch, free=10 << 30)
    monkeypatch.setattr(store_db.Database, "_open_file", io_error)
    r = runner.invoke(app, ["report"])
    assert r.stderr == f"Error: cannot use the store at {store}: disk I/O error\n"


def test_doctor_on_a_full_disk_says_so_and_never_advises_a_restore(monkeypatch):
    a_store()
    full(monkeypatch)
    monkeypatch.setattr(health, "connect_readonly", io_error)
    r = runner.invoke(app, ["doctor", "--json"])
    assert r.exit_code == 1
    found = [f for f in json.loads(r.stdout)["findings"] if not f["ok"]]
    assert found[0]["text"].startswith(f"the disk holding {db_path().parent} is full (4.0 KB "
                                       "free): study, drill and config cannot save")
    assert found[1]["text"] == f"cannot open {db_path()}: the disk is full (disk I/O error)"
    assert not any("--restore" in (f["fix"] or "") for f in found)


def test_restore_checks_free_space_first(monkeypatch):
    store = a_store()
    good = backups.list_backups(store)[0]
    before = sorted(p.name for p in backups.backups_dir(store).iterdir())
    full(monkeypatch, free=100_000)
    r = runner.invoke(app, ["backup", "--restore", good.name])
    assert r.exit_code == 1
    wal = Path(f"{store}-wal")
    need = good.size + store.stat().st_size + (wal.stat().st_size if wal.exists() else 0) \
        + (1 << 20)
    assert r.stderr == (
        f"Error: cannot restore {good.path}: the disk holding {store} has 97.7 KB free and "
        f"the restore needs about {store_db.size_text(need)}; free some space and try again "
        "(nothing was changed)\n")
    assert sorted(p.name for p in backups.backups_dir(store).iterdir()) == before


def test_a_restore_that_runs_out_of_space_leaves_no_partial_file(monkeypatch):
    store = a_store()
    good = backups.list_backups(store)[0]
    before = sorted(p.name for p in backups.backups_dir(store).iterdir())
    real = backups.shutil.copyfile

    def enospc(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # space seemed enough, then ran out while the store was copied aside
    monkeypatch.setattr(backups, "_check_room", lambda *a: None)
    monkeypatch.setattr(backups.sqlite3, "connect", _failing_connect(enospc))
    monkeypatch.setattr(backups.shutil, "copyfile", real)
    full(monkeypatch)
    r = runner.invoke(app, ["backup", "--restore", good.name])
    assert r.exit_code == 1
    assert r.stderr.startswith(f"Error: cannot restore {good.path}: the disk holding {store} "
                               "is full")
    assert r.stderr.endswith("nothing was changed\n")
    assert sorted(p.name for p in backups.backups_dir(store).iterdir()) == before


def _failing_connect(fail):
    real = sqlite3.connect

    def connect(target, *args, **kwargs):
        if ".tmp" in str(target):  # the copy kept aside, written under its temporary name
            conn = real(target, *args, **kwargs)
            conn.close()  # the file exists, as a 0-byte start, when the disk fills up
            fail()
        return real(target, *args, **kwargs)

    return connect


# -- a killed backup or restore ---------------------------------------------------------------

KILLED = """
import os, signal, sqlite3, sys
from datetime import datetime, UTC
from pathlib import Path
from quizforge.store import backup
from quizforge.store.db import Database

def killed_before_the_rename(*args):  # the temporary file is written, then the process dies
    os.kill(os.getpid(), signal.SIGKILL)
backup.os.replace = killed_before_the_rename
store = Path(sys.argv[2])
now = datetime(2026, 11, 20, 8, tzinfo=UTC)
if sys.argv[1] == "backup":
    backup.make_backup(Database(store), now)
else:
    backup.restore(store, Path(sys.argv[3]), now)
"""


def killed(*args: str) -> None:
    root = Path(__file__).parent.parent
    p = subprocess.run([sys.executable, "-c", KILLED, *args], cwd=root, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(root)})
    assert p.returncode == -signal.SIGKILL, p.stderr


def test_a_killed_backup_and_restore_leave_only_temporary_files_cleaned_next_time():
    store = a_store()
    folder = backups.backups_dir(store)
    good = backups.list_backups(store)[0]
    killed("backup", str(store))
    [first] = [p.name for p in folder.iterdir() if ".tmp" in p.name]
    assert first.startswith("quizforge-2026-11-20T08-00-00Z.sqlite3.")
    killed("restore", str(store), str(good.path))  # which first deletes the backup's leftover
    left = sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)
    assert len(left) == 1 and left[0].startswith("replaced-2026-11-20T08-00-00Z.sqlite3.")
    assert not [p for p in folder.iterdir() if p.name.startswith("replaced-")
                and p.name.endswith(".sqlite3")]  # no partial replaced-*.sqlite3

    r = runner.invoke(app, ["doctor", "--json"])
    assert r.exit_code == 1
    found = [f for f in json.loads(r.stdout)["findings"] if not f["ok"]]
    assert [f["text"] for f in found] == [
        f"1 unfinished file from an interrupted backup or restore ({left[0]})"]
    assert found[0]["fix"] == "quizforge doctor --fix deletes them (the next backup does too)"

    r = runner.invoke(app, ["backup", "--list"])  # listing alone deletes nothing
    assert sorted(p.name for p in folder.iterdir() if ".tmp" in p.name) == left
    r = runner.invoke(app, ["backup"])  # the next backup cleans them
    assert r.exit_code == 0, r.output
    assert not [p for p in folder.iterdir() if ".tmp" in p.name]
    assert all(backups.verify(b.path) == [] for b in backups.list_backups(store))


def test_doctor_fix_deletes_leftovers_and_spares_a_running_writer(tmp_path):
    store = a_store()
    folder = backups.backups_dir(store)
    dead = folder / "quizforge-2026-11-20T09-00-00Z.sqlite3.999999999.tmp"
    dead.write_bytes(b"partial")
    running = folder / f"quizforge-2026-11-20T09-00-00Z.sqlite3.{os.getppid()}.tmp"
    running.write_bytes(b"being written")
    old_style = folder / "quizforge-2026-11-19T09-00-00Z.tmp"
    old_style.write_bytes(b"partial")
    os.utime(old_style, (time.time() - 7200, time.time() - 7200))
    fresh_old_style = folder / "quizforge-2026-11-20T07-59-00Z.tmp"
    fresh_old_style.write_bytes(b"maybe being written by an older quizforge")
    assert backups.leftovers(store) == sorted([dead, old_style])
    r = runner.invoke(app, ["doctor", "--fix"])
    assert "2 unfinished backup files deleted" in r.stdout, r.output
    assert not dead.exists() and not old_style.exists()
    assert running.exists() and fresh_old_style.exists()
