"""`quizforge export anki FILE.apkg`: decks out to other programs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quizforge.cli import app, complete
from quizforge.cli.common import DeckDirs, out

export_app = typer.Typer(help="Write decks in another program's format (Anki).", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("anki")
def anki_command(
    file: Annotated[Path, typer.Argument(metavar="FILE.apkg", help="The Anki package to write.")],
    deck: Annotated[list[str] | None, typer.Option("--deck", metavar="ID",
                                                   help="Only this deck (repeatable).",
                                                   autocompletion=complete.deck_ids)] = None,
    decks: DeckDirs = None,
) -> None:
    """Write decks as an Anki package. Exporting again updates the same notes in Anki."""
    from quizforge.cli.decks import load_decks_or_warn, plural
    from quizforge.decks.anki import build_package, note_count, select_decks, write_package

    chosen = select_decks(load_decks_or_warn(decks), deck or ())
    package = build_package(chosen)
    write_package(package, file)
    out.print(f"Wrote {plural(note_count(package), 'note')} from {plural(len(chosen), 'deck')} "
              f"to {file}", markup=False, highlight=False, soft_wrap=True)
