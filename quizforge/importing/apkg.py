"""Anki packages (.apkg, .colpkg) read with the standard library: a zip holding the
collection as SQLite.

Inside, newest first: ``collection.anki21b`` (Anki 2.1.50+: zstd-compressed, schema 18, note
types in their own tables with protobuf configs), ``collection.anki21`` (schema 11, note
types as JSON in ``col.models``) or ``collection.anki2`` (the oldest, and genanki's). New
packages also carry a ``collection.anki2`` that only says "please update Anki": the newest
collection present is the one read. Media files (numbered entries) are counted, never
extracted: a card names its images as ``[image: file]``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import zipfile
from collections import defaultdict
from pathlib import Path

from quizforge.errors import ImportFileError
from quizforge.importing.html_text import html_to_text
from quizforge.importing.ids import guid_id
from quizforge.importing.model import AnkiCardState, AnkiReview, Imported
from quizforge.importing.notes import NoteCards, NoteType, Template

COLLECTIONS = ("collection.anki21b", "collection.anki21", "collection.anki2")
_SQLITE_MAGIC = b"SQLite format 3\x00"
MAX_COLLECTION_BYTES = 4 << 30  # a zstd frame that claims more is not a flashcard collection


def read_package(path: Path) -> Imported:
    fmt = "colpkg" if path.suffix.lower() == ".colpkg" else "apkg"
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            inner = next((n for n in COLLECTIONS if n in names), None)
            if inner is None:
                raise ImportFileError(f"{path} is not an Anki package: it holds no "
                                      "collection.anki2, .anki21 or .anki21b")
            data = z.read(inner)
            media_files = sum(1 for n in names if n.isdigit())
    except zipfile.BadZipFile as e:
        raise ImportFileError(f"{path} is not a readable Anki package: {_zip_reason(e)}") from None
    except OSError as e:
        raise ImportFileError(f"cannot read {path}: {e.strerror or e}") from None
    if inner.endswith("b"):
        data = _unzstd(data, path)
    conn = _open_sqlite(data, path, inner)
    try:
        result = _read_collection(conn, path, fmt)
    except sqlite3.Error as e:
        raise ImportFileError(f"{path}: the collection inside is damaged ({e})") from None
    finally:
        conn.close()
    result.media_files = media_files
    return result


def _zip_reason(e: zipfile.BadZipFile) -> str:
    text = str(e)
    if "not a zip file" in text.lower():
        return "not a zip file (truncated or not a package)"
    return f"damaged zip ({text})"


def _unzstd(data: bytes, path: Path) -> bytes:
    import zstandard  # only Anki 2.1.50+ packages need it

    chunks: list[bytes] = []
    total = 0
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(data)
        while chunk := reader.read(1 << 20):  # in pieces: read(n) allocates n bytes at once
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_COLLECTION_BYTES:
                raise ImportFileError(f"{path}: the collection is larger than 4 GiB")
    except zstandard.ZstdError as e:
        raise ImportFileError(f"{path}: the compressed collection is damaged ({e})") from None
    return b"".join(chunks)


def _open_sqlite(data: bytes, path: Path, inner: str) -> sqlite3.Connection:
    if not data.startswith(_SQLITE_MAGIC):
        raise ImportFileError(f"{path}: {inner} is not an SQLite database (damaged or truncated)")
    raw = bytearray(data)
    raw[18] = raw[19] = 1  # WAL in the header: an in-memory copy must use the rollback journal
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(bytes(raw))
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as e:
        conn.close()
        raise ImportFileError(f"{path}: {inner} is damaged ({e})") from None
    return conn


# -- protobuf, just enough for note type and template configs -----------------------------

def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def proto_fields(buf: bytes) -> dict[int, list]:
    """Top-level fields of a protobuf message: number -> values (ints or bytes)."""
    out: dict[int, list] = defaultdict(list)
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            size, i = _varint(buf, i)
            value, i = buf[i:i + size], i + size
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out[number].append(value)
    return out


def _text_field(fields: dict[int, list], number: int) -> str:
    values = fields.get(number) or [b""]
    return bytes(values[0]).decode("utf-8", "replace")


# -- the collection ------------------------------------------------------------------------

def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def note_types(conn: sqlite3.Connection) -> dict[int, NoteType]:
    if "notetypes" in _tables(conn):
        fields: dict[int, list[str]] = defaultdict(list)
        for ntid, name in conn.execute("SELECT ntid, name FROM fields ORDER BY ntid, ord"):
            fields[ntid].append(name)
        templates: dict[int, list[Template]] = defaultdict(list)
        for ntid, config in conn.execute("SELECT ntid, config FROM templates ORDER BY ntid, ord"):
            f = proto_fields(config)
            templates[ntid].append(Template(_text_field(f, 1), _text_field(f, 2)))
        out = {}
        for ntid, name, config in conn.execute("SELECT id, name, config FROM notetypes"):
            kind = (proto_fields(config).get(1) or [0])[0]  # Notetype.Config.kind: 1 cloze
            out[ntid] = NoteType(name, tuple(fields[ntid]), tuple(templates[ntid]), kind == 1)
        return out
    models = json.loads(conn.execute("SELECT models FROM col").fetchone()[0] or "{}")
    return {
        int(mid): NoteType(
            m.get("name", ""),
            tuple(f["name"] for f in sorted(m.get("flds", []), key=lambda f: f.get("ord", 0))),
            tuple(Template(t.get("qfmt", ""), t.get("afmt", ""))
                  for t in sorted(m.get("tmpls", []), key=lambda t: t.get("ord", 0))),
            m.get("type") == 1,
        )
        for mid, m in models.items()
    }


def deck_names(conn: sqlite3.Connection) -> dict[int, tuple[str, ...]]:
    """Deck id -> its path of names ("Parent::Child" as a tuple)."""
    if "decks" in _tables(conn):
        return {did: tuple(name.split("\x1f")) for did, name in
                conn.execute("SELECT id, name FROM decks")}
    decks = json.loads(conn.execute("SELECT decks FROM col").fetchone()[0] or "{}")
    return {int(did): tuple(d.get("name", "").split("::")) for did, d in decks.items()}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _memory(data: str) -> tuple[float | None, float | None]:
    try:
        d = json.loads(data or "{}")
    except ValueError:
        return None, None
    s, dif = d.get("s"), d.get("d")
    if isinstance(s, int | float) and isinstance(dif, int | float) and s > 0:
        return float(s), float(dif)
    return None, None


def _read_collection(conn: sqlite3.Connection, path: Path, fmt: str) -> Imported:
    kinds = note_types(conn)
    decks = deck_names(conn)
    crt = conn.execute("SELECT crt FROM col").fetchone()[0] or 0
    reviews: dict[int, list[AnkiReview]] = defaultdict(list)
    for rid, cid, ease, ivl, taken, kind in conn.execute(
            "SELECT id, cid, ease, ivl, time, type FROM revlog ORDER BY id"):
        reviews[cid].append(AnkiReview(rid, ease, ivl, taken, kind))
    cards: dict[int, list[tuple]] = defaultdict(list)
    for row in conn.execute("SELECT id, nid, did, ord, type, queue, due, ivl, lapses, data,"
                            " odid FROM cards ORDER BY nid, ord"):
        cards[row[1]].append(row)
    used = [decks.get(r[10] or r[2], ("",)) for rows in cards.values() for r in rows]
    common = _common_prefix(used)
    name = "::".join(common) if common and common != ("Default",) else path.stem
    result = Imported(name=name, format=fmt, has_history=bool(reviews))
    builder = NoteCards(result, html_to_text)
    for nid, guid, mid, tags, flds in conn.execute(
            "SELECT id, guid, mid, tags, flds FROM notes ORDER BY id"):
        kind = kinds.get(mid)
        rows = cards.get(nid, [])
        if kind is None:
            result.skipped["unknown note type"] += max(1, len(rows))
            continue
        if not rows:
            continue
        note_tags = [t for t in tags.split() if t]
        deck_path = decks.get(rows[0][10] or rows[0][2], ())
        sub = _slug("-".join(deck_path[len(common):]))
        if sub and sub not in note_tags:
            note_tags.append(sub)
        states = {}
        for cid, _nid, _did, ord_, ctype, queue, due, ivl, lapses, data, _odid in rows:
            s, d = _memory(data)
            states[ord_] = AnkiCardState(ctype, queue, due, ivl, lapses, s, d, crt,
                                         tuple(reviews.get(cid, ())))
        builder.note(guid_id(guid), kind, flds.split("\x1f"), note_tags,
                     ords=[r[3] for r in rows], states=states)
    return result


def _common_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    if not paths:
        return ()
    first = paths[0]
    n = len(first)
    for p in paths[1:]:
        n = min(n, len(p))
        for i in range(n):
            if p[i] != first[i]:
                n = i
                break
    return first[:n]
