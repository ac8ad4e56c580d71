"""`quizforge doctor`: every check, its message and fix, and the exit code."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.store.db import Database

runner = CliRunner()


def home() -> Path:
    return Path(os.environ["QUIZFORGE_HOME"])


def store() -> Path:
    return home() / "quizforge.sqlite3"


def findings(*args: str) -> tuple[int, list[dict]]:
    r = runner.invoke(app, ["doctor", "--json", *args])
    return r.exit_code, json.loads(r.stdout)["findings"]


def problems(found: list[dict]) -> list[tuple[str, str, str]]:
    return [(f["area"], f["text"], f["fix"]) for f in found if not f["ok"]]


def test_healthy_fresh_home():
    r = runner.invoke(app, ["doctor"])
    assert r.exit_code == 0, r.output
    assert r.stdout.rstrip().endswith("No problems found.")
    Database(store()).close()
    code, found = findings()
    assert code == 0 and problems(found) == []
    assert {
        "area": "store",
        "ok": True,
        "text": f"{store()} passes integrity_check",
        "fix": None,
    } in found
    assert any(f["text"].startswith("schema: up to date") for f in found)


def test_orphaned_rows_and_fix():
    Database(store()).close()
    conn = sqlite3.connect(store())  # foreign keys off, as an old or foreign tool might write
    conn.execute(
        "INSERT INTO revlog (card, reviewed_at, rating, duration_ms, state_before, interval_days)"
        " VALUES (999, 0, 3, 1, 0, 0)"
    )
    conn.execute(
        "INSERT INTO cards (deck_id, card_id, kind, added_at, state) VALUES ('d', 'c', 'flashcard', 0, 2)"
    )
    conn.commit()
    conn.close()
    code, found = findings()
    assert code == 1
    assert problems(found) == [
        (
            "store",
            "1 revlog row point at a card that no longer exists",
            "quizforge doctor --fix deletes them (after a backup)",
        ),
        (
            "store",
            "1 card in learning or review without a due date or stability",
            "quizforge doctor --fix makes them new again (their review log is kept)",
        ),
    ]
    r = runner.invoke(app, ["doctor", "--fix"], env={"QUIZFORGE_NOW": "2026-03-02T12:00:00Z"})
    assert r.exit_code == 0, r.output
    assert "Backed up first: quizforge-2026-03-02T12-00-00Z.sqlite3" in r.stdout
    assert "Fixed: 1 revlog, 1 cards reset" in r.stdout
    assert (home() / "backups" / "quizforge-2026-03-02T12-00-00Z.sqlite3").exists()


def test_damaged_store_names_the_fix():
    from test_store_safety import damage, make_big_store

    home().mkdir(parents=True)
    make_big_store(store())
    damage(store())
    code, found = findings()
    assert code == 1
    [(area, text, fix)] = problems(found)
    assert area == "store" and text.startswith(f"{store()} is damaged: integrity_check says ")
    assert fix.startswith(
        f"no good backup: try `sqlite3 {store()} .recover | sqlite3 recovered.sqlite3`"
    )


def test_newer_schema():
    with Database(store()) as db:
        db.conn.execute("INSERT INTO migrations (name, applied_at) VALUES ('9999_future', 0)")
    code, found = findings()
    assert code == 1
    assert problems(found) == [
        (
            "store",
            "schema: written by a newer quizforge (migration '9999_future')",
            "upgrade quizforge",
        )
    ]


def test_bad_config():
    home().mkdir(parents=True)
    (home() / "config.toml").write_text("new_per_day = 'many'\n")
    code, found = findings()
    assert code == 1
    assert problems(found) == [
        (
            "config",
            f"{home() / 'config.toml'}: new_per_day must be a whole number, got 'many'",
            "quizforge config set KEY VALUE, or quizforge config reset for the defaults",
        )
    ]


def test_deck_folders(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("QUIZFORGE_DECKS", str(empty))
    code, found = findings("--decks", str(tmp_path / "nope"))
    assert code == 1
    assert problems(found) == [
        (
            "decks",
            f"{empty} (QUIZFORGE_DECKS) has no deck files (*.yaml, *.yml)",
            "add a deck (see README: Decks) or drop the folder",
        ),
        (
            "decks",
            f"{tmp_path / 'nope'} (--decks) does not exist",
            "create it or drop it from --decks",
        ),
    ]


def test_home_is_a_file():
    home().parent.mkdir(parents=True, exist_ok=True)
    home().write_text("x")
    code, found = findings()
    assert code == 1
    assert problems(found)[0] == (
        "data folder",
        f"QUIZFORGE_HOME ({home()}): {home()} is a file, not a folder",
        "set QUIZFORGE_HOME to a folder (or move the file away)",
    )


def test_read_only_home(monkeypatch):
    from quizforge.store import health

    monkeypatch.setattr(health, "dir_writable", lambda folder: False)
    code, found = findings()
    assert code == 1
    assert problems(found)[0][1] == (
        f"QUIZFORGE_HOME ({home()}) is read-only: study, drill and config cannot save"
    )


def test_screen_fits_40_60_80(tmp_path):
    from rich.console import Console

    from quizforge.cli.doctor import findings_view
    from quizforge.store.health import Finding

    found = [
        Finding(
            "store", True, f"{tmp_path}/a/very/long/path/quizforge.sqlite3 passes integrity_check"
        ),
        Finding("config", False, "x: new_per_day must be a whole number", "quizforge config reset"),
    ]
    for width in (40, 60, 80):
        console = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
        console.print(findings_view(found))
        text = console.export_text()
        assert all(len(line) <= width for line in text.splitlines())
        assert "quizforge.sqlite3" in text.replace("\n", "").replace(" ", "")
        assert text.rstrip().endswith("1 problem found.")
