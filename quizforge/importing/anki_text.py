"""Anki's plain-text notes (File > Export > Notes in Plain Text, or a CSV/TSV made for
Anki's importer), with the header lines Anki reads at the top of the file:

    #separator:tab          Comma, Semicolon, Tab, Space, Pipe, Colon, or the character
    #html:true              fields are HTML (otherwise plain text)
    #tags:ml interview      tags added to every note
    #columns:Front	Back	Tags   column names (the extra fields' labels here)
    #notetype:Basic  /  #notetype column:2
    #deck:ML  /  #deck column:3
    #tags column:5
    #guid column:1          Anki's note GUID: the imported ids match an .apkg of the same notes

Without `#separator`, a tab in the first row means tab-separated, else a semicolon,
else comma. Rows are CSV (double quotes, "" for a quote). A note type named like "Cloze"
(or a first field holding {{c1::...}}) gives cloze cards; "Basic (and reversed card)" a
reverse card too, "Basic (optional reversed card)" when its third field is not empty.
"""

from __future__ import annotations

import csv
import re
from dataclasses import replace
from pathlib import Path

from quizforge.errors import ImportFileError
from quizforge.importing.html_text import html_to_text, plain
from quizforge.importing.ids import guid_id, text_id
from quizforge.importing.model import Imported
from quizforge.importing.notes import CLOZE, NoteCards, NoteType, Template

SEPARATORS = {"comma": ",", "semicolon": ";", "tab": "\t", "space": " ", "pipe": "|",
              "colon": ":"}
_HEADER = re.compile(r"^#([a-z ]+):(.*)$")
_LOOKS_HTML = re.compile(r"<[a-zA-Z][^>]*>|&(?:[a-z]+|#\d+);")
# Anki's stock note types and their field names: a text export names the note type, not the
# fields, so an extra field is labelled as Anki names it ("Back Extra: ..."), not "Field 2".
STOCK_FIELDS = {
    "basic": ("Front", "Back"),
    "basic (and reversed card)": ("Front", "Back"),
    "basic (optional reversed card)": ("Front", "Back", "Add Reverse"),
    "basic (type in the answer)": ("Front", "Back"),
    "cloze": ("Text", "Back Extra"),
}
# The names Anki gives the filtered decks it makes ("Filtered Deck 1", and Custom Study's
# "Custom Study Session"): a note's deck column names one when the note's cards sat in it at
# export time; it is not where the note lives.
_FILTERED_NAME = re.compile(r"(?:.*::)?(?:Filtered Deck \d+|Custom Study Session)$",
                            re.IGNORECASE)
KNOWN_HEADERS = {"separator", "html", "tags", "columns", "notetype", "deck", "notetype column",
                 "deck column", "tags column", "guid column", "if matches", "match scope"}


def read_text(path: Path) -> Imported:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(f"{path} is not UTF-8 text (Anki writes its exports in UTF-8)") \
            from None
    except OSError as e:
        raise ImportFileError(f"cannot read {path}: {e.strerror or e}") from None
    lines = text.splitlines(keepends=True)  # a quoted field may hold line breaks
    headers: dict[str, str] = {}
    start = 0
    for i, line in enumerate(lines):
        m = _HEADER.match(line.rstrip("\r\n"))
        if not m or m.group(1).strip().lower() not in KNOWN_HEADERS:
            break
        headers[m.group(1).strip().lower()] = m.group(2).strip()
        start = i + 1
    body = lines[start:]
    sep = _separator(headers, body, path, start)
    rows = _rows(body, sep, path, start)
    if not rows:
        raise ImportFileError(f"{path} has no notes (only headers or blank lines)")

    def column(name: str) -> int | None:
        raw = headers.get(f"{name} column")
        if raw is None:
            return None
        if not raw.isdigit() or int(raw) < 1:
            raise ImportFileError(f"{path}: '#{name} column:{raw}' must be a column number "
                                  "from 1")
        return int(raw) - 1

    special = {k: column(k) for k in ("guid", "notetype", "deck", "tags")}
    skip = {c for c in special.values() if c is not None}
    names = headers.get("columns", "").split(sep) if "columns" in headers else []
    if "html" in headers:
        html = headers["html"].lower() in ("true", "yes", "1")
    else:  # as Anki does without the header: HTML if the notes look like it
        html = any(_LOOKS_HTML.search(c) for r in rows[:50] for c in r)
    fixed_tags = headers.get("tags", "").split()
    deck_header = headers.get("deck")

    result = Imported(name=deck_header or path.stem, format="anki-text")
    builder = NoteCards(result, html_to_text if html else plain)
    decks: list[str] = []  # per note, when there is a deck column
    spans: list[tuple[int, int]] = []  # the cards each note gave, as a range of result.cards
    for row in rows:
        def cell(i: int | None, row=row) -> str:
            return row[i].strip() if i is not None and i < len(row) else ""

        field_cols = [i for i in range(len(row)) if i not in skip]
        values = [row[i] for i in field_cols]
        while len(values) > 2 and not values[-1].strip():
            values.pop()
        notetype = cell(special["notetype"]) or headers.get("notetype", "")
        stock = STOCK_FIELDS.get(notetype.strip().lower(), ())
        labels = [names[i].strip() if i < len(names) and names[i].strip() else
                  stock[n] if n < len(stock) else f"Field {n + 1}"
                  for n, i in enumerate(field_cols)][:len(values)]
        if special["deck"] is not None:
            decks.append(cell(special["deck"]))
        tags = [*fixed_tags, *cell(special["tags"]).split()]
        guid = cell(special["guid"])
        first = values[0] if values else ""
        is_cloze = "cloze" in notetype.lower() or bool(CLOZE.search(first))
        kind, ords = _note_type(notetype, labels, is_cloze, values)
        key = CLOZE.sub(lambda m: m.group(2), first) if is_cloze else first
        base = guid_id(guid) if guid else text_id(builder.convert(key)[0])
        before = len(result.cards)
        builder.note(base, kind, values, list(dict.fromkeys(tags)), ords=ords)
        spans.append((before, len(result.cards)))
    if decks:
        home = _home_tree(decks)
        common = _common([d for d in decks if d.split("::")[0] == home])
        if not deck_header:
            result.name = common or path.stem
        _tag_subdecks(result, decks, spans, common)
    return result


def _home_tree(decks: list[str]) -> str:
    """The top-level deck most notes are in. Anki's text export names a card's current deck,
    which for a card parked in a filtered deck (`Cram::Exam`) is not its home: a few such
    notes must not make the common deck empty, which would tag every card with its whole deck
    path. Notes in another tree keep that deck as a tag, unless it is named like a filtered
    deck Anki made ("Filtered Deck 1", "Custom Study Session")."""
    counts: dict[str, int] = {}
    for d in decks:
        if d and not _FILTERED_NAME.match(d):
            top = d.split("::")[0]
            counts[top] = counts.get(top, 0) + 1
    return max(counts, key=lambda t: counts[t]) if counts else ""


def _rows(body: list[str], sep: str, path: Path, start: int) -> list[list[str]]:
    reader = csv.reader(body, delimiter=sep, quotechar='"', strict=False)
    try:
        return [r for r in reader if any(c.strip() for c in r)]
    except csv.Error as e:
        where = f"{path}:{start + reader.line_num}"
        if "field larger than field limit" in str(e):
            raise ImportFileError(f"{where}: a field is longer than {csv.field_size_limit():,} "
                                  "characters (too long for a flashcard); nothing written") \
                from None
        raise ImportFileError(f"{where}: {e}; nothing written") from None


def _tag_subdecks(result: Imported, decks: list[str], spans: list[tuple[int, int]],
                  common: str) -> None:
    """Cards from a sub-deck of the common deck are tagged with its name (as from a package)."""
    parts = common.split("::") if common else []
    for deck, (a, b) in zip(decks, spans, strict=True):
        path = deck.split("::")
        if _FILTERED_NAME.match(deck):
            continue
        rest = path[len(parts):] if path[:len(parts)] == parts else path
        sub = re.sub(r"[^a-z0-9]+", "-", "-".join(rest).lower()).strip("-")
        if not sub:
            continue
        for i in range(a, b):
            card = result.cards[i]
            if sub not in card.tags:
                result.cards[i] = replace(card, tags=(*card.tags, sub))


def _note_type(name: str, labels: list[str], cloze: bool,
               values: list[str]) -> tuple[NoteType, list[int] | None]:
    labels = labels + [f"Field {i + 1}" for i in range(len(labels), 2)]
    front, back = labels[0], labels[1]
    if cloze:
        return NoteType(name, tuple(labels), (Template(f"{{{{cloze:{front}}}}}", ""),), True), None
    lowered = name.lower()
    reverse_q = f"{{{{{back}}}}}"
    if "optional reversed" in lowered and len(labels) > 2:  # the third field is a switch
        reverse_q = f"{{{{#{labels[2]}}}}}{reverse_q}{{{{/{labels[2]}}}}}"
    templates = (Template(f"{{{{{front}}}}}", f"{{{{{back}}}}}"),
                 Template(reverse_q, f"{{{{{front}}}}}"))
    ords = [0]
    if "and reversed" in lowered or (
            "optional reversed" in lowered and len(values) > 2 and values[2].strip()):
        ords = [0, 1]
    return NoteType(name, tuple(labels), templates, False), ords


def _separator(headers: dict[str, str], body: list[str], path: Path, start: int) -> str:
    raw = headers.get("separator")
    if raw is None:
        first = next((line for line in body if line.strip()), "")
        if path.suffix.lower() == ".tsv" or "\t" in first:
            return "\t"
        return ";" if ";" in first and "," not in first else ","
    sep = SEPARATORS.get(raw.lower(), raw)
    if len(sep) != 1:
        raise ImportFileError(f"{path}: unknown '#separator:{raw}' (use Comma, Semicolon, Tab, "
                              "Space, Pipe, Colon or one character)")
    return sep


def _common(decks: list[str]) -> str:
    parts = [d.split("::") for d in decks if d]
    if not parts:
        return ""
    common = parts[0]
    for p in parts[1:]:
        n = 0
        while n < min(len(common), len(p)) and common[n] == p[n]:
            n += 1
        common = common[:n]
    return "::".join(common)
