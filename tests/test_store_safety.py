"""Fault injection: a home that is a file, a read-only home, a damaged page. Every command
answers with one line and exit 1 (or, for reading commands on a read-only home, works from
a copy) — never a traceback."""

from __future__ import annotations

import errno
import os
import random
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.errors import StoreError
from quizforge.store import db as dbmod
from quizforge.store.db import Database, StoreDamaged, StoreReadOnly

runner = CliRunner()

COMMANDS = [
    ["config", "set", "new_per_day", "5"],
    ["config", "reset"],
    ["report"],
    ["decks"],
    ["study"],
    ["unsuspend"],
    ["backup"],
]


def home() -> Path:
    return Path(os.environ["QUIZFORGE_HOME"])


def one_error_line(r) -> str:
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_home_is_a_file(args):
    home().parent.mkdir(parents=True, exist_ok=True)
    home().write_text("not a folder")
    r = runner.invoke(app, args, input="q\n")
    assert r.exit_code == 1
    assert one_error_line(r) == f"Error: QUIZFORGE_HOME is not a directory: {home()}"


def test_home_inside_a_file(monkeypatch):
    home().parent.mkdir(parents=True, exist_ok=True)
    home().parent.joinpath("f").write_text("x")
    monkeypatch.setenv("QUIZFORGE_HOME", str(home().parent / "f" / "sub"))
    r = runner.invoke(app, ["report"])
    assert r.exit_code == 1
    f = home().parent
    assert one_error_line(r) == f"Error: QUIZFORGE_HOME ({home()}) cannot be created: {f} is a file"


# -- read-only home -------------------------------------------------------------------------
@pytest.fixture
def studied(tmp_path, monkeypatch):
    """A store with one answer, the deck folder, a fixed clock."""
    d = tmp_path / "decks"
    d.mkdir()
    (d / "tiny.yaml").write_text(
        "deck: tiny\nname: Tiny\ncards:\n  - id: one\n    front: F1\n    back: B1\n"
        "  - id: two\n    front: F2\n    back: B2\n"
    )
    monkeypatch.setenv("QUIZFORGE_DECKS", str(d))
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-02T12:00:00Z")
    r = runner.invoke(app, ["study", "--deck", "tiny", "-n", "1"], input="\n3\n")
    assert r.exit_code == 0, r.output
    return d


@pytest.fixture
def read_only_home(monkeypatch):
    """The data folder cannot be written: what os.access says on a read-only mount, and
    what writing a file there raises."""
    monkeypatch.setattr(dbmod, "dir_writable", lambda folder: False)
    real_write = Path.write_text

    def write_text(self, *a, **k):
        if self.is_relative_to(home()):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_write(self, *a, **k)

    monkeypatch.setattr(Path, "write_text", write_text)


def test_read_only_home_reading_commands_work_from_a_copy(studied, read_only_home):
    before = (home() / "quizforge.sqlite3").read_bytes()
    note = f"note: QUIZFORGE_HOME ({home()}) is read-only: nothing this command does is saved"
    for args in (["report"], ["decks"], ["unsuspend"], ["report", "--json"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0, (args, r.output)
        assert r.stderr.strip() == note
    r = runner.invoke(app, ["decks", "--json"])
    assert '"reviews": 1' in r.stdout  # the store's content, not an empty copy
    assert (home() / "quizforge.sqlite3").read_bytes() == before


@pytest.mark.parametrize("args", [["study"], ["unsuspend", "--all"], ["backup"]], ids=" ".join)
def test_read_only_home_writing_commands_refuse(studied, read_only_home, args):
    r = runner.invoke(app, args, input="q\n")
    assert r.exit_code == 1
    assert one_error_line(r) == (
        f"Error: QUIZFORGE_HOME ({home()}) is read-only: this command saves to the store "
        "there; make it writable or point QUIZFORGE_HOME at a writable folder"
    )


@pytest.mark.parametrize("args", [["config", "set", "new_per_day", "5"], ["config", "reset"]])
def test_read_only_home_config(read_only_home, args):
    r = runner.invoke(app, args)
    assert r.exit_code == 1
    assert one_error_line(r) == (
        f"Error: cannot save the settings to {home() / 'config.toml'}: Read-only file system"
    )


def test_read_only_home_with_no_store_yet(tmp_path, monkeypatch):
    monkeypatch.setattr(dbmod, "dir_writable", lambda folder: False)
    r = runner.invoke(app, ["report", "--json"])
    assert r.exit_code == 0 and '"empty": true' in r.stdout
    assert not (home() / "quizforge.sqlite3").exists()


def test_sqlite_meets_a_read_only_file_system_that_os_access_missed(studied, monkeypatch):
    def refuse(self, path):
        e = sqlite3.OperationalError("attempt to write a readonly database")
        e.sqlite_errorname = "SQLITE_READONLY"
        raise e

    monkeypatch.setattr(Database, "_open_file", refuse)
    r = runner.invoke(app, ["decks", "--json"])
    assert r.exit_code == 0 and '"reviews": 1' in r.stdout and "read-only" in r.stderr
    r = runner.invoke(app, ["study"], input="q\n")
    assert r.exit_code == 1
    assert one_error_line(r).startswith(
        f"Error: the store at {home() / 'quizforge.sqlite3'} is read-only"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through mode bits")
def test_real_read_only_folder(studied):
    home().chmod(0o555)
    try:
        assert runner.invoke(app, ["report"]).exit_code == 0
        assert runner.invoke(app, ["study"], input="q\n").exit_code == 1
    finally:
        home().chmod(0o755)


# -- a damaged page -------------------------------------------------------------------------
def make_big_store(path: Path) -> None:
    """A store whose review log fills most of its pages."""
    with Database(path) as db, db.atomic() as conn:
        conn.execute(
            "INSERT INTO cards (deck_id, card_id, kind, added_at) "
            "VALUES ('tiny', 'one', 'flashcard', 0)"
        )
        conn.executemany(
            "INSERT INTO revlog (card, reviewed_at, rating, duration_ms, state_before,"
            " interval_days) VALUES (1, ?, 3, 1000, 2, 1.0)",
            [(1_700_000_000_000 + i * 60_000,) for i in range(20_000)],
        )


def damage(path: Path) -> None:
    """Overwrite 16 KB in the middle of the file, as a bad disk sector or a stray write would.
    (Four pages: the review log's table pages alternate with its two indexes' there, and
    `report` must meet a table page whatever tables the schema adds before it.)"""
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 2 // 4096 * 4096)
        f.write(random.Random(1).randbytes(16384))


@pytest.fixture
def damaged():
    path = home() / "quizforge.sqlite3"
    home().mkdir(parents=True)
    make_big_store(path)
    damage(path)
    return path


def test_damaged_store_no_backup(damaged):
    r = runner.invoke(app, ["report"])
    assert one_error_line(r) == (
        f"Error: the store at {damaged} is damaged (database disk image is malformed). "
        "There is no backup to restore; `quizforge doctor` says what can be done."
    )


def test_damaged_store_names_the_newest_good_backup_and_restore_works(tmp_path):
    from quizforge.store import backup

    path = home() / "quizforge.sqlite3"
    home().mkdir(parents=True)
    make_big_store(path)
    folder = home() / "backups"
    folder.mkdir()
    older = folder / "quizforge-2026-03-01T08-00-00Z.sqlite3"
    newest_bad = folder / "quizforge-2026-03-02T08-00-00Z.sqlite3"
    with Database(path) as db:
        dest = sqlite3.connect(older)
        db.conn.backup(dest)
        dest.execute("PRAGMA journal_mode = DELETE")
        dest.close()
    newest_bad.write_bytes(older.read_bytes())
    damage(newest_bad)
    damage(path)
    r = runner.invoke(app, ["report"])
    assert r.exit_code == 1
    when = backup.list_backups(path)[1].made_at.astimezone().strftime("%a %d %b %Y %H:%M")
    assert one_error_line(r) == (
        f"Error: the store at {path} is damaged (database disk image is malformed). "
        f"The newest good backup is {older.name} ({when}); restore it with: "
        f"quizforge backup --restore {older.name}"
    )
    r = runner.invoke(app, ["backup", "--restore", newest_bad.name])
    assert r.exit_code == 1 and one_error_line(r).startswith(
        f"Error: cannot restore {newest_bad}: "
    )
    assert "nothing was changed" in r.stderr
    r = runner.invoke(
        app, ["backup", "--restore", older.name], env={"QUIZFORGE_NOW": "2026-03-02T12:00:00Z"}
    )
    assert r.exit_code == 0, r.output
    aside = folder / "replaced-2026-03-02T12-00-00Z.sqlite3"
    assert (
        r.stdout.split()
        == f"Restored {older}. The store it replaced is kept as {aside}. A study or drill open now goes on in the restored store.".split()
    )
    assert aside.exists()
    assert runner.invoke(app, ["report"]).exit_code == 0
    assert dbmod.quick_check_ok(path)


def test_damage_is_checked_only_on_error(tmp_path, monkeypatch):
    """The fast path never runs quick_check."""
    calls = []
    monkeypatch.setattr(dbmod, "quick_check_ok", lambda p: calls.append(p) or True)
    path = tmp_path / "s.sqlite3"
    make_big_store(path)
    with Database(path) as db:
        db.conn.execute("SELECT count(*) FROM revlog").fetchone()
    assert calls == []


def test_not_a_database_is_damaged(tmp_path):
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreDamaged, match="file is not a database"):
        Database(path)


def test_busy_store_is_one_line(monkeypatch):
    e = sqlite3.OperationalError("database is locked")
    e.sqlite_errorname = "SQLITE_BUSY"
    err = dbmod.describe_error(e, "/x/quizforge.sqlite3")
    assert type(err) is StoreError
    assert (
        str(err)
        == "the store at /x/quizforge.sqlite3 is busy: another quizforge held it for 10 s; try again"
    )
    e = sqlite3.OperationalError("attempt to write a readonly database")
    e.sqlite_errorname = "SQLITE_READONLY"
    assert isinstance(dbmod.describe_error(e, "/x/q.sqlite3"), StoreReadOnly)


@pytest.fixture
def damaged_cards():
    """A store whose cards table fills most pages, damaged mid-file: every command that
    reads cards meets the bad page."""
    path = home() / "quizforge.sqlite3"
    home().mkdir(parents=True)
    with Database(path) as db, db.atomic() as conn:
        conn.executemany(
            "INSERT INTO cards (deck_id, card_id, kind, tags, added_at)"
            " VALUES ('backprop', ?, 'flashcard', ' x ', 0)",
            [(f"card-{i:06d}-with-a-long-id",) for i in range(20_000)],
        )
    damage(path)
    return path


@pytest.mark.parametrize(
    "args",
    [["report"], ["study"], ["unsuspend"], ["unsuspend", "--all"], ["decks"]],
    ids=" ".join,
)
def test_damaged_page_every_command_one_line(damaged_cards, args):
    r = runner.invoke(app, args, input="q\n")
    assert r.exit_code == 1
    assert one_error_line(r) == (
        f"Error: the store at {damaged_cards} is damaged (database disk image is malformed). "
        "There is no backup to restore; `quizforge doctor` says what can be done."
    )


def test_a_backup_of_a_damaged_store_is_not_kept(damaged_cards):
    from datetime import UTC, datetime

    from quizforge.store import backup

    with Database(damaged_cards) as db, pytest.raises(StoreDamaged, match="fails quick_check"):
        backup.auto_backup(db, datetime(2026, 3, 2, 12, tzinfo=UTC))
    assert backup.list_backups(damaged_cards) == []


def test_folder_that_cannot_be_made_falls_back_to_a_copy(monkeypatch):
    """os.access said yes, mkdir says no (a read-only mount seen late)."""

    def refuse(self, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    r = runner.invoke(app, ["report", "--json"])
    assert r.exit_code == 0 and '"empty": true' in r.stdout
    r = runner.invoke(app, ["study"], input="q\n")
    assert r.exit_code == 1
    assert one_error_line(r) == (
        f"Error: cannot create the store at {home() / 'quizforge.sqlite3'}: Permission denied"
    )
