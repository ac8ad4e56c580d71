"""Automatic backups, their rotation, `quizforge backup` and restoring."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.store import backup as backups
from quizforge.store.backup import Backup
from quizforge.store.db import Database

runner = CliRunner()


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, 1, hour, tzinfo=UTC) + timedelta(days=day)


def fake(t: datetime) -> Backup:
    return Backup(Path(backups.backup_name(t)), t, 1)


def test_to_keep_seven_days_then_four_weeks():
    # two backups a day for 60 days (day 0 is Sunday 1 March 2026), newest last
    made = [fake(at(d, h)) for d in range(60) for h in (6, 18)]
    kept = backups.to_keep(made, starts_at=0, tz=UTC)
    days = [b.made_at for b in kept]
    # the 7 newest days, each by its newest backup ...
    assert days[:7] == [at(d, 18) for d in range(59, 52, -1)]
    # ... then the newest backup of each of the 4 weeks before the week of the oldest daily
    # (day 53 is Thursday 23 April, in the ISO week of 20-26 April): their Sundays
    assert days[7:] == [at(d, 18) for d in (49, 42, 35, 28)]
    assert [d.strftime("%a") for d in days[7:]] == ["Sun"] * 4


def test_to_keep_sparse_history_keeps_everything_up_to_the_limits():
    made = [fake(at(d)) for d in (0, 1, 30)]
    assert backups.to_keep(made) == sorted(made, key=lambda b: b.made_at, reverse=True)


def test_auto_backup_once_a_study_day_and_pruned(tmp_path):
    path = tmp_path / "quizforge.sqlite3"
    with Database(path) as db:
        first = backups.auto_backup(db, at(0, 10), starts_at=4)
        assert first is not None and first.path.exists()
        assert backups.auto_backup(db, at(0, 23), starts_at=4) is None  # same study day
        assert backups.auto_backup(db, at(1, 3), starts_at=4) is None  # before 4 am: same day
        assert backups.auto_backup(db, at(1, 5), starts_at=4) is not None
        for d in range(2, 60):
            backups.auto_backup(db, at(d, 10), starts_at=4)
    assert len(backups.list_backups(path)) == 11
    # a backup is a single self-contained file that passes integrity_check
    assert (
        backups.verify(first.path if first.path.exists() else backups.list_backups(path)[0].path)
        == []
    )
    assert not list((tmp_path / "backups").glob("*-wal"))


def test_session_end_makes_the_days_backup(tmp_path, monkeypatch):
    d = tmp_path / "decks"
    d.mkdir()
    (d / "t.yaml").write_text("deck: t\nname: T\ncards:\n  - id: a\n    front: F\n    back: B\n")
    monkeypatch.setenv("QUIZFORGE_DECKS", str(d))
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-02T12:00:00Z")
    home = Path(os.environ["QUIZFORGE_HOME"])
    r = runner.invoke(app, ["study"], input="\n3\n")
    assert r.exit_code == 0, r.output
    assert [b.name for b in backups.list_backups(home / "quizforge.sqlite3")] == [
        "quizforge-2026-03-02T12-00-00Z.sqlite3"
    ]
    conn = sqlite3.connect(home / "backups" / "quizforge-2026-03-02T12-00-00Z.sqlite3")
    assert conn.execute("SELECT count(*) FROM revlog").fetchone()[0] == 1


def test_backup_command_makes_and_lists(monkeypatch):
    home = Path(os.environ["QUIZFORGE_HOME"])
    r = runner.invoke(app, ["backup", "--list"])
    # a long path may wrap onto its own line at 80 columns
    assert r.exit_code == 0 and " ".join(r.stdout.split()) == f"No backups yet in {home / 'backups'}."
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-02T12:00:00Z")
    r = runner.invoke(app, ["backup"])
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].startswith(
        "Backed up: quizforge-2026-03-02T12-00-00Z.sqlite3 ("
    )
    data = json.loads(runner.invoke(app, ["backup", "--list", "--json"]).stdout)
    assert [b["file"] for b in data["backups"]] == ["quizforge-2026-03-02T12-00-00Z.sqlite3"]
    assert data["made"] is None


def test_backup_list_fits_narrow_terminals():
    from rich.console import Console

    from quizforge.cli.backup import backup_list

    found = [fake(at(1)), fake(at(0))]
    for width in (40, 60, 80):
        console = Console(width=width, record=True, file=io.StringIO())
        console.print(backup_list(found, None, Path("/h/backups"), width))
        lines = console.export_text().splitlines()
        assert all(len(line.rstrip()) <= width for line in lines)
        assert any(found[0].name in line for line in lines), (width, lines)


HOLDER = textwrap.dedent(
    """
    import sys, time
    from quizforge.store.db import Database
    db = Database(sys.argv[1])
    print("open", flush=True)
    sys.stdin.readline()  # the test restores meanwhile
    print(db.conn.execute("SELECT count(*) FROM revlog").fetchone()[0], flush=True)
    db.conn.execute("INSERT INTO revlog (card, reviewed_at, rating, duration_ms, state_before,"
                    " interval_days) VALUES (1, 0, 3, 1, 0, 0)")
    print("wrote", flush=True)
    """
)


def test_restore_while_another_process_has_the_store_open(tmp_path):
    path = Path(os.environ["QUIZFORGE_HOME"]) / "quizforge.sqlite3"
    with Database(path) as db:
        db.conn.execute(
            "INSERT INTO cards (deck_id, card_id, kind, added_at) VALUES ('t', 'a', 'flashcard', 0)"
        )
        db.conn.execute(
            "INSERT INTO revlog (card, reviewed_at, rating, duration_ms, state_before, interval_days)"
            " VALUES (1, 0, 3, 1, 0, 0)"
        )
        saved = backups.make_backup(db, at(0))
        db.conn.execute("DELETE FROM revlog")  # lost after the backup
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        r = runner.invoke(app, ["backup", "--restore", saved.name])
        assert r.exit_code == 0, r.output
        out, _ = holder.communicate("go\n", timeout=30)
    finally:
        holder.kill()
    assert out.split() == ["1", "wrote"]  # the open session sees the restored data, and can write
    with Database(path) as db:
        assert db.conn.execute("SELECT count(*) FROM revlog").fetchone()[0] == 2
    aside = next((path.parent / "backups").glob("replaced-*.sqlite3"))
    assert sqlite3.connect(aside).execute("SELECT count(*) FROM revlog").fetchone()[0] == 0
