"""What every command shares: the two consoles, the global state, option types."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from quizforge.cli import complete


class LazyConsole:
    """A rich Console made on first use: a command that prints only plain text (a JSON line,
    `drill --check`) never imports rich, which is a sixth of start-up. Attribute reads and
    writes go to the real console, so `out.print(...)` and `monkeypatch.setattr(out,
    "width", 80)` work as on a Console."""

    def __init__(self, **options) -> None:
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_console", None)
        object.__setattr__(self, "_wide", False)

    def draw_ambiguous_wide(self, wide: bool) -> None:
        """From now on, draw every printed screen for a terminal that shows ambiguous-width
        characters (σ, ∂, −, ·) two cells wide (quizforge.ui.width), or not."""
        object.__setattr__(self, "_wide", wide)

    def print(self, *objects, **kwargs) -> None:
        console = self._get()
        if self._wide and objects and not kwargs.get("soft_wrap"):
            from quizforge.ui.width import wrap_all

            objects = wrap_all(objects, console, **kwargs)
        console.print(*objects, **kwargs)

    def _get(self):
        if self._console is None:
            from rich.console import Console

            object.__setattr__(self, "_console", Console(**self._options))
        return self._console

    def console(self):
        """The real rich Console, for code that needs the object itself (rich.live.Live)."""
        return self._get()

    # Properties are declared, so tools that look attributes up on the class (pytest's
    # monkeypatch restores `width` this way) see them as they would on a Console.
    width = property(lambda self: self._get().width,
                     lambda self, value: setattr(self._get(), "width", value))
    height = property(lambda self: self._get().height,
                      lambda self, value: setattr(self._get(), "height", value))

    def __getattr__(self, name: str):
        return getattr(self._get(), name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self._get(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._get(), name)


# No emoji codes: ":fire:" in a deck or an error prints as typed (text is text), and rich's
# table of them (2 ms) is never loaded.
out = LazyConsole(emoji=False)  # stdout: results
err = LazyConsole(stderr=True, emoji=False)  # stderr: errors and warnings


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
TagFilter = Annotated[
    list[str] | None,
    typer.Option("--tag", "-t", metavar="TAG", help="Only cards with this tag (repeatable).",
                 autocompletion=complete.tags),
]


def deck_dirs(extra: list[Path] | None = None) -> list[Path]:
    """The global ``--decks`` folders plus the ones given to this command."""
    return [*state.deck_dirs, *(extra or [])]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error on stderr and return the Exit to raise. The message is text,
    never markup: it may quote a path or deck text ("[/]" in a folder's name)."""
    from rich.text import Text

    from quizforge.controls import visible

    err.print(Text.assemble(("Error:", "bold red"), " ", visible(message)), highlight=False,
              soft_wrap=True)
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
