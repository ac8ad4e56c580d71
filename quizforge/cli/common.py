"""What every command shares: the two consoles, the global state, option types."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

out = Console()  # stdout: results
err = Console(stderr=True)  # stderr: errors and warnings


@dataclass
class State:
    deck_dirs: list[Path] = field(default_factory=list)


state = State()

DeckDirs = Annotated[
    list[Path] | None,
    typer.Option(
        "--decks",
        metavar="DIR",
        help="Also load decks from DIR (repeatable; adds to QUIZFORGE_DECKS).",
        show_default=False,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def deck_dirs(extra: list[Path] | None = None) -> list[Path]:
    """The global ``--decks`` folders plus the ones given to this command."""
    return [*state.deck_dirs, *(extra or [])]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error on stderr and return the Exit to raise."""
    err.print(f"[bold red]Error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def backup_after_session(db, scheduler) -> None:
    """The day's automatic backup. A failure to back up is reported and never loses the
    session (every answer is already saved)."""
    from quizforge import clock
    from quizforge.errors import StoreError
    from quizforge.store.backup import auto_backup

    try:
        auto_backup(db, clock.now(), scheduler.config.day_starts_at)
    except StoreError as e:
        err.print(f"warning: no backup made: {e}", markup=False, highlight=False, soft_wrap=True)
