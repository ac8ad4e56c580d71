"""`quizforge backup`: make a backup now and list them, or restore one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quizforge.cli import app
from quizforge.cli.common import JsonFlag, out


@app.command()
def backup(
    restore: Annotated[
        Path | None,
        typer.Option(
            "--restore",
            metavar="FILE",
            help="Check FILE (a name from the list, or a path) and make it the store; "
            "the current store is kept in backups/ as replaced-….sqlite3.",
        ),
    ] = None,
    list_only: Annotated[
        bool, typer.Option("--list", help="Only list the backups; do not make one.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Back up your progress now and list the backups, or restore one.

    A backup is also made when a study session ends, at most once a study day; the
    newest of each of the last 7 days and of the 4 weeks before them are kept, in
    backups/ beside the store.

    Examples:

      quizforge backup                  # back up now, then list

      quizforge backup --list

      quizforge backup --restore quizforge-2026-11-20T08-00-00Z.sqlite3
    """
    import json

    from quizforge import clock
    from quizforge.paths import db_path
    from quizforge.store import backup as backups
    from quizforge.store import open_store

    store_path = db_path()
    if restore is not None:
        source = backups.resolve(store_path, restore)
        aside = backups.restore(store_path, source, clock.now())
        if as_json:
            print(json.dumps({"restored": str(source), "replaced": aside and str(aside)}))
            return
        out.print(f"Restored {source}.", highlight=False, soft_wrap=True)
        if aside is not None:
            out.print(f"The store it replaced is kept as {aside}.", highlight=False, soft_wrap=True)
        out.print("[dim]A study or drill open now goes on in the restored store.[/]")
        return
    made = None
    if not list_only:
        with open_store(write=True) as db:
            made = backups.make_backup(db, clock.now())
            backups.check_made(made, store_path)
    found = backups.list_backups(store_path)
    if as_json:
        print(
            json.dumps(
                {
                    "folder": str(backups.backups_dir(store_path)),
                    "made": made and str(made.path),
                    "backups": [
                        {"file": b.name, "made_at": b.made_at.isoformat(), "bytes": b.size}
                        for b in found
                    ],
                },
                indent=2,
            )
        )
        return
    out.print(backup_list(found, made, backups.backups_dir(store_path), out.width))


def backup_list(found, made, folder: Path, width: int = 80):
    """The backups, newest first, as a renderable (the local time column only where it fits
    beside the file name, which holds the UTC time anyway)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts = []
    if made is not None:
        parts.append(Text(f"Backed up: {made.name} ({_size(made.size)})."))
    if not found:
        parts.append(Text(f"No backups yet in {folder}."))
        return Group(*parts)
    table = Table(
        box=None,
        header_style="bold",
        pad_edge=False,
        title_justify="left",
        title=f"Backups in {folder}",
    )
    table.add_column("File", overflow="fold")
    columns = [
        ("Made (local)", lambda b: f"{b.made_at.astimezone():%a %d %b %H:%M}", 64),
        ("Size", lambda b: _size(b.size), 50),
    ]
    shown = [(title, cell) for title, cell, min_width in columns if width >= min_width]
    for title, _ in shown:
        table.add_column(title, justify="right", no_wrap=True)
    for b in found:
        table.add_row(b.name, *(cell(b) for _, cell in shown))
    parts += [table, Text("Restore one with: quizforge backup --restore FILE", style="dim")]
    return Group(*parts)


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"
