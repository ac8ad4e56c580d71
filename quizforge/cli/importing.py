"""`quizforge import FILE --deck ID`: another program's flashcards as a deck file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from quizforge.cli import app
from quizforge.cli.common import JsonFlag, out
from quizforge.errors import DeckError, ImportFileError


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="An Anki package (.apkg, "
                                         ".colpkg), Anki text export (.txt, .csv, .tsv) or "
                                         "hashcards Markdown (.md).")],
    deck: Annotated[str, typer.Option("--deck", metavar="ID", help="Id of the new deck "
                                      "(a-z, 0-9, '-'); the file is OUT/ID.yaml.")],
    out_dir: Annotated[Path, typer.Option("--out", metavar="DIR", help="Folder to write "
                                          "the deck into.")] = Path("."),
    with_history: Annotated[bool, typer.Option("--with-history", help="Also bring an Anki "
                                               "package's reviews into the store, so FSRS "
                                               "carries on where Anki stopped.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace OUT/ID.yaml if it exists "
                                        "(ids are stable: progress is kept).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Import flashcards from Anki or hashcards as a deck file (OUT/ID.yaml).

    Reads an Anki package (.apkg, .colpkg, old or new format), Anki's
    "Notes in Plain Text" export or a CSV/TSV with Anki's #headers, or a
    hashcards Markdown deck. HTML becomes plain text; images are not copied
    (a card says \\[image: file]). A cloze note gives one card per deletion;
    fields beyond front and back go into the card's explanation.

    Card ids are stable (from Anki's note GUIDs, else from the front text):
    importing an updated file again with --force keeps every card's progress.
    --with-history also brings an Anki package's reviews into the store.

    Examples:

      quizforge import ~/Downloads/ml.apkg --deck ml-anki --out ~/decks

      quizforge import ml.apkg --deck ml-anki --out ~/decks --with-history

      quizforge study --decks ~/decks --deck ml-anki
    """
    import re

    from quizforge.decks.validate import ID_PATTERN, _suggest_id
    from quizforge.importing import gc_paused

    if not re.match(ID_PATTERN, deck):
        raise DeckError(f"invalid deck id '{deck}': use only a-z, 0-9 and '-'{_suggest_id(deck)}")
    target = out_dir / f"{deck}.yaml"
    if target.exists() and not force:
        raise ImportFileError(f"{target} exists; pass --force to replace it")
    _refuse_taken_id(deck, target, out_dir)
    with gc_paused():
        _read_and_import(file, deck, target, with_history, force, as_json, out_dir)


def _read_and_import(file: Path, deck: str, target: Path, with_history: bool, force: bool,
                     as_json: bool, out_dir: Path) -> None:
    """The import, in a function of its own: its objects (cards, Anki states, plans) are
    freed when it returns, before the garbage collector is on again (else the collection
    that follows at once would walk all of them: ~7 ms on 13,000 cards)."""
    from quizforge.importing import read_source

    imported = read_source(file, history=with_history, keep=with_history)
    try:
        _import(imported, file, deck, target, with_history, force, as_json, out_dir)
    finally:
        imported.close()


def _import(imported, file: Path, deck: str, target: Path, with_history: bool, force: bool,
            as_json: bool, out_dir: Path) -> None:
    from quizforge.importing import check_deck, deck_text, write_deck

    if with_history and imported.format not in ("apkg", "colpkg"):
        raise ImportFileError(f"--with-history needs an Anki package (.apkg or .colpkg): "
                              f"{file.name} holds no review history")
    if not imported.cards:
        skipped = ", ".join(f"{n} {why}" for why, n in imported.skipped.items()) or "none"
        raise ImportFileError(f"{file} has no cards quizforge can import (skipped: {skipped})")
    text = deck_text(deck, imported, file.name)
    parsed = check_deck(text, target, imported, deck)
    # Everything is read and checked before anything is written.
    plan = _plan(deck, imported, file) if with_history else None
    write_deck(text, target, force)
    media = None
    if imported.format in ("apkg", "colpkg") and imported.media_files:
        from quizforge.importing.media import copy_media

        media = copy_media(file, target)
    history = None
    if plan is not None:
        history = _history(parsed, plan, target)
    summary = {
        "deck": deck, "file": str(target), "format": imported.format, "name": imported.name,
        "cards": len(imported.cards), "skipped": dict(imported.skipped),
        "images": len(imported.images), "media_files": imported.media_files,
        "media_copied": media.copied if media else 0,
        "media_folder": str(media.folder) if media and media.copied else None,
        "media_left_out": media.refused + media.over_cap if media else 0,
        "history": history,
    }
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    from quizforge.controls import visible

    for line in summary_lines(summary, out_dir, imported.has_history and not with_history):
        out.print(visible(line), markup=False, highlight=False)


def _refuse_taken_id(deck: str, target: Path, out_dir: Path) -> None:
    from quizforge.cli.decks import list_decks_or_warn

    for info in list_decks_or_warn([out_dir] if out_dir.is_dir() else []):
        if info.id == deck and info.path.resolve() != target.resolve():
            raise DeckError(f"a deck with id '{deck}' already exists ({info.path}); "
                            "choose another --deck")


def _plan(deck: str, imported, file: Path):
    from quizforge import clock
    from quizforge.importing.history import plan_history
    from quizforge.paths import config_path
    from quizforge.scheduling.config import load_config
    from quizforge.scheduling.scheduler import Scheduler

    scheduler = Scheduler(load_config(config_path()))
    try:
        return plan_history(deck, imported.cards, scheduler, clock.now(), imported.package)
    except (ArithmeticError, ValueError) as e:  # a value the checks did not foresee
        raise ImportFileError(f"{file}: the review history cannot be read ({e}); "
                              "nothing written") from None


def _history(parsed, plan, target: Path) -> dict:
    from quizforge import clock
    from quizforge.errors import QuizforgeError
    from quizforge.importing.history import apply_history
    from quizforge.store import open_store

    try:
        db = open_store(write=True)
        try:
            counts = apply_history(db, parsed, plan, clock.now())
        finally:
            db.close()
    except QuizforgeError as e:
        raise QuizforgeError(f"{e} (the deck was written to {target}; the review history was "
                             "not imported: run again with --force --with-history)") from None
    return counts.to_dict()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_lines(s: dict, out_dir: Path, history_left: bool) -> list[str]:
    lines = [f"Imported {_plural(s['cards'], 'card')} into deck '{s['deck']}' ({s['file']})."]
    if s["skipped"]:
        total = sum(s["skipped"].values())
        lines.append(f"Skipped {_plural(total, 'card')} ("
                     + ", ".join(f"{n} {why}" for why, n in s["skipped"].items()) + ").")
    if s.get("media_copied"):
        left = (f"; {s['media_left_out']} left out (unsafe name or over the size cap)"
                if s.get("media_left_out") else "")
        lines.append(f"Copied {_plural(s['media_copied'], 'media file')} to "
                     f"{s['media_folder']}{left} (press o in study to open a card's image).")
    elif s["images"] or s["media_files"]:
        left = (f", {_plural(s['media_files'], 'media file')} left in the package"
                if s["media_files"] else "")
        lines.append(f"Images are not imported: {_plural(s['images'], 'image')} named in cards "
                     f"(shown as [image: file]){left}.")
    h = s["history"]
    if h is not None:
        lines.append(f"History: {_plural(h['reviews'], 'review')} added"
                     + (f" ({h['already']} already in the store)" if h["already"] else "")
                     + f"; FSRS state from Anki for {_plural(h['from_anki'], 'card')}, "
                     f"replayed for {h['replayed']}"
                     + (f", due as Anki set it for {h['set_due']} with no answer to replay"
                        if h.get("set_due") else "")
                     + (f", kept for {h['kept']} reviewed here since" if h["kept"] else "")
                     + (f"; {h['suspended']} suspended as in Anki" if h["suspended"] else "")
                     + ".")
        fixed = [f"{_plural(h['dropped'], 'review')} left out" if h["dropped"] else "",
                 f"{_plural(h['clamped'], 'card or review')} clamped into FSRS's range"
                 if h["clamped"] else "",
                 f"{_plural(h['discarded'], 'Anki memory state')} unusable (replayed instead)"
                 if h["discarded"] else ""]
        if any(fixed):
            lines.append("Out of range in the package: " + ", ".join(f for f in fixed if f)
                         + ".")
    elif history_left:
        lines.append("The package has review history: add --with-history to bring it in.")
    folder = str(out_dir)
    lines.append(f"Study it: quizforge study --decks {folder} --deck {s['deck']}")
    return lines
