"""`quizforge import`: other programs' flashcards into a deck file.

`read_source` picks the reader by the file's type (an Anki package, Anki's text export, a
hashcards Markdown deck), `deck_text` writes the cards as a deck file, which is checked with
the deck validator before `write_deck` puts it on disk. `quizforge.importing.history` brings
an Anki package's review log into the store.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from quizforge.errors import ImportFileError
from quizforge.importing.model import Imported, ImportedCard

__all__ = ["SUFFIXES", "Imported", "ImportedCard", "deck_text", "read_source", "write_deck"]

SUFFIXES = {".apkg": "package", ".colpkg": "package", ".csv": "text", ".tsv": "text",
            ".txt": "text", ".md": "hashcards", ".markdown": "hashcards"}


def read_source(path: Path) -> Imported:
    if not path.exists():
        raise ImportFileError(f"no such file: {path}")
    if path.is_dir():
        raise ImportFileError(f"{path} is a folder: give one file to import")
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        with path.open("rb") as f:
            kind = "package" if f.read(4) == b"PK\x03\x04" else None
    if kind == "package":
        from quizforge.importing.apkg import read_package

        return read_package(path)
    if kind == "text":
        from quizforge.importing.anki_text import read_text

        return read_text(path)
    if kind == "hashcards":
        from quizforge.importing.hashcards import read_hashcards

        return read_hashcards(path)
    raise ImportFileError(
        f"cannot import {path}: unknown file type '{path.suffix or path.name}' (expected an "
        "Anki package .apkg/.colpkg, Anki text .txt/.csv/.tsv, or hashcards .md)")


def deck_text(deck_id: str, imported: Imported, source: str) -> str:
    """The deck file: a comment saying where it came from, then the YAML."""
    import yaml

    try:
        dumper = yaml.CSafeDumper
    except AttributeError:  # pragma: no cover - PyYAML built without libyaml
        dumper = yaml.SafeDumper

    class _Dumper(dumper):  # type: ignore[misc, valid-type]
        pass

    def text(d, value: str):
        style = "|" if "\n" in value else None
        return d.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, text)
    cards = []
    for c in imported.cards:
        card: dict = {"id": c.id, "front": c.front, "back": c.back}
        if c.explanation:
            card["explanation"] = c.explanation
        if c.tags:
            card["tags"] = list(c.tags)
        cards.append(card)
    body = yaml.dump({"deck": deck_id, "name": imported.name or deck_id,
                      "description": f"Imported from {source}.", "cards": cards},
                     Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    ids = ("Anki note GUIDs" if imported.format in ("apkg", "colpkg") else
           "the front text (or the guid column)" if imported.format == "anki-text" else
           "the front text")
    return (f"# Imported from {source} by `quizforge import`. Card ids come from {ids}:\n"
            f"# importing the same file again gives the same ids, so progress is kept.\n{body}")


def check_deck(text: str, path: Path):
    """The Deck the validator builds from `text`; an ImportFileError if it finds a problem
    (that would be a bug in the importer, reported rather than written)."""
    from quizforge.decks.validate import parse_deck

    parsed = parse_deck(text, path)
    if parsed.deck is None:
        first = "; ".join(str(p) for p in parsed.problems[:3])
        raise ImportFileError(f"the imported deck does not validate ({first}); nothing written")
    return parsed.deck


def write_deck(text: str, path: Path, force: bool) -> None:
    """Write atomically (a temporary file renamed over the target); refuse to replace a
    file unless `force`."""
    if path.exists() and not force:
        raise ImportFileError(f"{path} exists; pass --force to replace it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise ImportFileError(f"cannot write {path}: {e.strerror or e}") from None
