"""`quizforge import`: other programs' flashcards into a deck file.

`read_source` picks the reader by the file's type (an Anki package, Anki's text export, a
hashcards Markdown deck), `deck_text` writes the cards as a deck file, which is checked with
the deck validator before `write_deck` puts it on disk. `quizforge.importing.history` brings
an Anki package's review log into the store.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path

from quizforge.errors import ImportFileError
from quizforge.gcpause import gc_paused
from quizforge.importing.model import Imported, ImportedCard

__all__ = ["SUFFIXES", "Imported", "ImportedCard", "deck_text", "gc_paused", "read_source",
           "write_deck"]

SUFFIXES = {".apkg": "package", ".colpkg": "package", ".csv": "text", ".tsv": "text",
            ".txt": "text", ".md": "hashcards", ".markdown": "hashcards"}


def read_source(path: Path, history: bool = True, keep: bool = False) -> Imported:
    """The cards of `path`, their text with every control character made visible (an
    escape sequence in a card would otherwise be written into the deck, then shown).
    `history=False`: an Anki package's review log and card states are not read (only
    whether it has a review log). `keep`: an Anki package's collection stays open for the
    history import (`read_package`); call the result's close()."""
    return _visible(_read_source(path, history, keep))


def _visible(imported: Imported) -> Imported:
    from quizforge.controls import has_controls, visible

    imported.name = visible(imported.name)
    cards = imported.cards
    for i, c in enumerate(cards):
        # One search over the card's text; a copy only of a card that has a control.
        if has_controls("\n".join((c.front, c.back, c.explanation or "", *c.tags))):
            cards[i] = replace(
                c, front=visible(c.front), back=visible(c.back),
                explanation=None if c.explanation is None else visible(c.explanation),
                tags=tuple(visible(t) for t in c.tags))
    return imported


def _read_source(path: Path, history: bool = True, keep: bool = False) -> Imported:
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

        return read_package(path, history, keep)
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
    """The deck file: a comment saying where it came from, then the YAML.

    Written by hand, not by yaml.dump (three times slower on a 10,000-card deck): text that
    is safe as a plain scalar is written as it is, multi-line text as a `|-` block, anything
    else as a JSON string (JSON's double-quoted strings are valid YAML). `check_deck` then
    reads the result back with the deck validator."""
    ids = ("Anki note GUIDs" if imported.format in ("apkg", "colpkg") else
           "the front text (or the guid column)" if imported.format == "anki-text" else
           "the front text")
    out = [f"# Imported from {source} by `quizforge import`. Card ids come from {ids}:",
           "# importing the same file again gives the same ids, so progress is kept.",
           f"deck: {deck_id}",
           f"name: {scalar(imported.name or deck_id, 2)}",
           f"description: {scalar(f'Imported from {source}.', 2)}",
           "cards:"]
    tag_lines: dict[tuple[str, ...], str] = {}
    for c in imported.cards:
        out.append(f"  - id: {c.id}")
        if c.choices:
            out.append("    type: mcq")
            out.append(f"    question: {scalar(c.front, 6)}")
            out.append("    choices:")
            out.extend(f"      - {scalar(choice, 8)}" for choice in c.choices)
            letters = [chr(ord("a") + i) for i in c.answer]
            out.append(f"    answer: [{', '.join(letters)}]" if len(letters) > 1
                       else f"    answer: {letters[0]}")
            if not c.shuffle:
                out.append("    shuffle: false")
        elif c.generated:
            family, difficulty, form = c.generated
            out += ["    type: generated", f"    generator: {family}",
                    f"    difficulty: {difficulty}"]
            if form != "number":
                out.append(f"    form: {form}")
            out.append(f"    prompt: {scalar(c.front, 6)}")
        else:
            out.append(f"    front: {scalar(c.front, 6)}")
            out.append(f"    back: {scalar(c.back, 6)}")
        if c.explanation:
            out.append(f"    explanation: {scalar(c.explanation, 6)}")
        if c.tags:
            line = tag_lines.get(c.tags)
            if line is None:  # cards share a few tag lists: each written once
                line = tag_lines[c.tags] = ("    tags: ["
                                            + ", ".join(scalar(t, 0, flow=True) for t in c.tags)
                                            + "]")
            out.append(line)
    return "\n".join(out) + "\n"


_PLAIN = re.compile(r"[A-Za-z][^:#\n\"'\\\[\]{},&*!|>%@`\t]*")
_FLOW_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./+-]*")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def scalar(text: str, indent: int, flow: bool = False) -> str:
    """`text` as a YAML scalar, for a value whose key is `indent` columns in."""
    if (_FLOW_PLAIN if flow else _PLAIN).fullmatch(text) and not text.endswith(" ") \
            and text.lower() not in _YAML_WORDS and not _UNPRINTABLE.search(text):
        return text
    lines = text.split("\n")
    if (not flow and len(lines) > 1 and not _UNPRINTABLE.search(text)
            and not lines[0].startswith((" ", "\t"))
            and all(line == line.rstrip() for line in lines)):
        pad = " " * (indent + 2)
        return "|-\n" + "\n".join(pad + line if line else "" for line in lines)
    # JSON leaves characters YAML may not hold raw (DEL, C1 controls, U+2028...): escape them.
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}",
                            json.dumps(text, ensure_ascii=False))


def check_deck(text: str, path: Path, imported: Imported | None = None,
               deck_id: str | None = None):
    """The Deck the validator builds from `text`; an ImportFileError if it finds a problem
    (that would be a bug in the importer, reported rather than written).

    Given the `imported` cards the text was written from, a large deck is not read back
    whole (composing 10,000 cards of YAML is most of an import's time): the Deck is built
    from the cards in memory, and the validator reads a sample of the text (the header and
    up to SAMPLE cards, spread through the deck), whose cards must equal the ones in memory;
    when they do not, or an id or text is wrong, the whole text is validated after all."""
    from quizforge.decks.model import Flashcard
    from quizforge.decks.validate import parse_deck

    if imported is None or deck_id is None or len(imported.cards) <= SAMPLE:
        return _parsed(parse_deck(text, path))
    chunks = text.split(_CARD_START)
    head, cards = chunks[0], chunks[1:]
    step = max(1, len(cards) // SAMPLE)
    picked = list(range(0, len(cards), step))[:SAMPLE]
    sample = _parsed(parse_deck(head + "".join(_CARD_START + cards[i] for i in picked), path))
    deck = deck_from_imported(deck_id, imported, path, sample)
    ids = [c.id for c in deck.cards]
    if any(replace(got, line=0) != deck.cards[i]
           for got, i in zip(sample.cards, picked, strict=True)) \
            or len(set(ids)) != len(ids) or not all(_ID.fullmatch(i) for i in ids) \
            or not all(c.front.strip() and c.back.strip() if type(c) is Flashcard
                       else _filled(c) for c in deck.cards):
        # The file does not read back as the cards in memory (text the validator normalizes,
        # or a problem): the validator reads all of it and has the last word.
        return _parsed(parse_deck(text, path))
    return deck


SAMPLE = 400  # cards read back by the validator on a large import
_CARD_START = "\n  - id: "
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


def _parsed(parsed):
    if parsed.deck is None:
        first = "; ".join(str(p) for p in parsed.problems[:3])
        raise ImportFileError(f"the imported deck does not validate ({first}); nothing written")
    return parsed.deck


def _filled(card) -> bool:
    from quizforge.decks.model import MCQ, Flashcard, GeneratedCard

    if isinstance(card, Flashcard):
        return bool(card.front.strip() and card.back.strip())
    if isinstance(card, MCQ):
        return bool(card.question.strip() and len(card.choices) >= 2 and card.answer
                    and all(0 <= i < len(card.choices) for i in card.answer))
    return isinstance(card, GeneratedCard)


def deck_from_imported(deck_id: str, imported: Imported, path: Path, header):
    """The Deck `deck_text` describes, built from the cards in memory (name, description and
    tags from `header`, a Deck the validator read from the same text)."""
    from quizforge.decks.model import MCQ, Deck, Flashcard, GeneratedCard

    cards = []
    for c in imported.cards:
        if c.choices:
            cards.append(MCQ(c.id, c.front, c.choices, c.answer, c.explanation or None, c.tags,
                             select_all=len(c.answer) > 1, shuffle=c.shuffle))
        elif c.generated:
            family, difficulty, form = c.generated
            cards.append(GeneratedCard(c.id, family, difficulty, form, c.front, c.tags))
        else:
            cards.append(Flashcard(c.id, c.front, c.back, c.tags,
                                   explanation=c.explanation or None))
    return Deck(deck_id, header.name, tuple(cards), header.path, header.description,
                header.tags)


def write_deck(text: str, path: Path, force: bool) -> None:
    """Write atomically (a temporary file renamed over the target); refuse to replace a
    file unless `force`."""
    if path.exists() and not force:
        raise ImportFileError(f"{path} exists; pass --force to replace it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600: a deck is as any file
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise ImportFileError(f"cannot write {path}: {e.strerror or e}") from None


def _umask() -> int:
    """The process's umask (read by setting it, so set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
