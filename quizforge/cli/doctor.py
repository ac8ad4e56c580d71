"""`quizforge doctor`: check the data folder, the store, backups, the config and the deck
folders; say what is wrong and how to fix it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from quizforge.cli import app
from quizforge.cli.common import DeckDirs, JsonFlag, deck_dirs, out

if TYPE_CHECKING:
    from rich.console import RenderableType

    from quizforge.store.health import Finding


@app.command()
def doctor(
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Delete orphaned rows, reset unscheduled cards, clamp out-of-range card "
            "states, rebuild summary tables that differ from the review log, remove "
            "unfinished backup files (backs up first).",
        ),
    ] = False,
    decks: DeckDirs = None,
    as_json: JsonFlag = False,
) -> None:
    """Check your data and setup; say what is wrong and how to fix it (exit 1 if anything is).

    Checks: the data folder (a folder, writable), the store (integrity_check, schema
    version, orphaned rows), backups, config.toml, and the deck folders
    (QUIZFORGE_DECKS, --decks).

    Examples:

      quizforge doctor

      quizforge doctor --fix
    """
    import json

    from quizforge import clock
    from quizforge.paths import config_path, db_path

    findings = run_checks(db_path(), config_path(), deck_dirs(decks), clock.now())
    if fix and any(not f.ok and f.fix and "--fix" in f.fix for f in findings):
        fixed = _fix(clock.now())
        findings = run_checks(db_path(), config_path(), deck_dirs(decks), clock.now())
        if not as_json:
            out.print(
                "Fixed: " + ", ".join(f"{n} {what}" for what, n in fixed.items() if n),
                highlight=False,
            )
    problems = [f for f in findings if not f.ok]
    if as_json:
        print(
            json.dumps({"ok": not problems, "findings": [f.to_dict() for f in findings]}, indent=2)
        )
    else:
        out.print(findings_view(findings))
    if problems:
        raise typer.Exit(1)


def run_checks(store_path: Path, cfg_path: Path, extra_dirs: list[Path], now) -> list[Finding]:
    from quizforge.store import health

    folder = health.check_folder(store_path.parent)
    findings = list(folder)
    if folder[0].text.endswith("not a folder"):
        return findings + _config(cfg_path) + _decks(extra_dirs)
    findings += health.check_store(store_path, now)
    findings += health.check_backups(store_path, now)
    return findings + _config(cfg_path) + _decks(extra_dirs)


def _config(path: Path) -> list[Finding]:
    from quizforge.errors import ConfigError
    from quizforge.scheduling.config import load_config
    from quizforge.store.health import Finding

    if not path.exists():
        return [Finding("config", True, "defaults (no config.toml)")]
    try:
        load_config(path)
    except ConfigError as e:
        text = str(e).removeprefix(f"{path}: ")
        return [
            Finding(
                "config",
                False,
                f"{path}: {text}",
                "quizforge config set KEY VALUE, or quizforge config reset for the defaults",
            )
        ]
    return [Finding("config", True, f"{path} is valid")]


def _decks(extra_dirs: list[Path]) -> list[Finding]:
    from quizforge.decks.loader import deck_files, load_search_path
    from quizforge.paths import env_deck_dirs
    from quizforge.store.health import Finding

    found = []
    for folder in [*env_deck_dirs(), *extra_dirs]:
        where = "QUIZFORGE_DECKS" if folder in env_deck_dirs() else "--decks"
        if not folder.exists():
            found.append(
                Finding(
                    "decks",
                    False,
                    f"{folder} ({where}) does not exist",
                    f"create it or drop it from {where}",
                )
            )
        elif not folder.is_dir():
            found.append(
                Finding(
                    "decks",
                    False,
                    f"{folder} ({where}) is not a folder",
                    f"name a folder in {where}",
                )
            )
        elif not deck_files([folder])[0]:
            found.append(
                Finding(
                    "decks",
                    False,
                    f"{folder} ({where}) has no deck files (*.yaml, *.yml)",
                    "add a deck (see README: Decks) or drop the folder",
                )
            )
    result = load_search_path(extra_dirs)
    missing = {Path(f.text.split(" (")[0]) for f in found}
    problems = [p for p in result.problems if Path(p.path) not in missing]
    if problems:
        files = len({p.path for p in problems})
        n = len(problems)
        found.append(
            Finding(
                "decks",
                False,
                f"{n} problem{'s' if n != 1 else ''} in {files} deck file{'s' if files != 1 else ''}"
                " (those files are left out)",
                "quizforge validate lists them as FILE:LINE: message",
            )
        )
    cards = sum(len(d.cards) for d in result.decks)
    n = len(result.decks)
    found.append(Finding("decks", True, f"{n} deck{'s' if n != 1 else ''}, {cards} cards load"))
    return found


def _fix(now) -> dict[str, int]:
    from quizforge.paths import db_path
    from quizforge.store import open_store
    from quizforge.store.backup import clean_leftovers, make_backup
    from quizforge.store.health import fix_rows

    unfinished = len(clean_leftovers(db_path()))
    with open_store(write=True) as db:
        made = make_backup(db, now)
        fixed = fix_rows(db, now)
    fixed["unfinished backup files deleted"] = unfinished
    out.print(f"Backed up first: {made.name}", highlight=False)
    return fixed


def findings_view(findings: list[Finding]) -> RenderableType:
    from rich.table import Table
    from rich.text import Text

    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")
    for f in findings:
        mark = Text("✓", style="green") if f.ok else Text("✗", style="bold red")
        text = Text(f.text, style="" if f.ok else "red")
        if f.fix:
            text.append("\nfix: " if not f.ok else "\n", style="dim")
            text.append(f.fix, style="" if not f.ok else "dim")
        table.add_row(mark, f.area, text)
    problems = sum(not f.ok for f in findings)
    summary = (
        Text("No problems found.", style="green")
        if not problems
        else Text(f"{problems} problem{'s' if problems != 1 else ''} found.", style="bold red")
    )
    from rich.console import Group

    return Group(table, summary)
