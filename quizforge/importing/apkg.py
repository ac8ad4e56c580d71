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

import io
import json
import re
import sqlite3
import tempfile
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from quizforge.errors import ImportFileError
from quizforge.importing.html_text import html_to_text
from quizforge.importing.ids import guid_id
from quizforge.importing.model import AnkiCardState, Imported
from quizforge.importing.notes import NoteCards, NoteType, Template

COLLECTIONS = ("collection.anki21b", "collection.anki21", "collection.anki2")
_SQLITE_MAGIC = b"SQLite format 3\x00"
# A package's collection is unpacked (zip, then zstd for .anki21b) as a stream into a temporary
# file, counting as it goes: a crafted member of a few KB can claim gigabytes. Real collections
# unpack to 10-25 times their packed size; past CAP_RATIO times (or CAP_BYTES) it is refused.
CAP_BYTES = 2 << 30
CAP_RATIO = 100
CAP_FLOOR = 16 << 20  # a tiny collection may be mostly empty pages: allow it this much anyway
_CHUNK = 1 << 20


try:
    from lzma import LZMAError

    _LZMA: tuple[type[Exception], ...] = (LZMAError,)
except ImportError:  # a Python built without lzma: zipfile cannot open such members either
    _LZMA = ()


class _TooBig(Exception):
    pass


def unpack_limit(packed: int) -> int:
    """The most bytes a collection packed in `packed` bytes may unpack to."""
    return min(CAP_BYTES, max(CAP_RATIO * packed, CAP_FLOOR))


def read_package(path: Path, history: bool = True, keep: bool = False) -> Imported:
    """The package's cards; with `history`, each card's Anki state and review log too
    (without, only whether it has one).

    `keep` (with `history`): the unpacked collection stays open as `result.package` (a
    PackageCollection, closed by `result.close()`), and each card's review log is read from
    it only when asked for: the history import writes the review log with SQL straight from
    the collection, and reads in Python only the cards it replays."""
    fmt = "colpkg" if path.suffix.lower() == ".colpkg" else "apkg"
    keep = keep and history
    tmp = tempfile.TemporaryDirectory(prefix="quizforge-import-")
    conn = None
    try:
        db_file = Path(tmp.name) / "collection.sqlite3"
        inner, media_files = _unpack(path, db_file)
        conn = _open_sqlite(db_file, path, inner)
        package = PackageCollection(path, tmp, db_file, conn) if keep else None
        try:
            result = _read_collection(conn, path, fmt, history, package)
        except sqlite3.Error as e:
            raise ImportFileError(f"{path}: the collection inside is damaged ({e})") from None
        except (ValueError, TypeError, AttributeError, IndexError, KeyError,
                RecursionError) as e:
            # A field of the wrong type or a malformed JSON/protobuf config (crafted or damaged):
            # the collection is unreadable, whatever exactly broke.
            raise ImportFileError(f"{path}: the collection inside is damaged "
                                  f"({_damage(e)})") from None
    except BaseException:
        if conn is not None:
            conn.close()
        tmp.cleanup()
        raise
    if package is None:
        conn.close()
        tmp.cleanup()
    result.package = package
    result.media_files = media_files
    return result


class PackageCollection:
    """An unpacked package's collection kept open after reading (read_package(keep=True)):
    its file (in a private temporary folder, removed by `close`) and a read-only connection.
    `quizforge.importing.history` reads the review log from it with SQL."""

    def __init__(self, source: Path, tmp, file: Path, conn: sqlite3.Connection) -> None:
        self.source, self._tmp, self.file, self.conn = source, tmp, file, conn

    @property
    def uri(self) -> str:
        """The file as a read-only URI (for ATTACH)."""
        return f"{self.file.resolve().as_uri()}?mode=ro&immutable=1"

    def reviews(self, cid) -> list[tuple]:
        """A card's revlog rows, (id, ease, ivl, time, type), oldest first."""
        try:
            return self.conn.execute(
                "SELECT id, ease, ivl, time, type FROM revlog WHERE cid = ?"
                " AND typeof(cid) IN ('integer', 'real') ORDER BY id", (cid,)).fetchall()
        except sqlite3.Error as e:
            raise self.damaged(e) from None

    def damaged(self, e: Exception) -> ImportFileError:
        return ImportFileError(f"{self.source}: the collection inside is damaged ({e})")

    def close(self) -> None:
        self.conn.close()
        self._tmp.cleanup()


class PackageReviews(Sequence):
    """A card's review log in a kept collection, read on first use (most cards' rows are
    only ever written by SQL, and the history import knows which cards have rows from its
    own count: `history.package_summaries`)."""

    __slots__ = ("_package", "_cid", "_rows")

    def __init__(self, package: PackageCollection, cid) -> None:
        self._package, self._cid, self._rows = package, cid, None

    def _loaded(self) -> list[tuple]:
        if self._rows is None:
            self._rows = self._package.reviews(self._cid)
        return self._rows

    def __len__(self) -> int:
        return len(self._loaded())

    def __getitem__(self, i):
        return self._loaded()[i]

    def __iter__(self):
        return iter(self._loaded())


def _damage(e: Exception) -> str:
    if isinstance(e, RecursionError):
        return "a value nested too deeply"
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return f"{type(e).__name__}: {text[:120]}"


def _unpack(path: Path, dest: Path) -> tuple[str, int]:
    """Write the package's newest collection, unpacked, to `dest`; its member name and how
    many media files the package holds."""
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            inner = next((n for n in COLLECTIONS if n in names), None)
            if inner is None:
                raise ImportFileError(f"{path} is not an Anki package: it holds no "
                                      "collection.anki2, .anki21 or .anki21b")
            info = z.getinfo(inner)
            limit = unpack_limit(info.compress_size)
            media_files = sum(1 for n in names if n.isdigit())
            with z.open(info) as member, dest.open("wb") as out:
                source = _Capped(member, limit)
                if inner.endswith("b"):
                    _unzstd_to(source, out, limit, path)
                else:
                    _copy(source, out, limit)
    except _TooBig:
        raise ImportFileError(
            f"{path}: {inner} unpacks to more than {_mib(limit)} from "
            f"{info.compress_size:,} packed bytes: refused as a likely zip bomb; nothing written"
        ) from None
    except zipfile.BadZipFile as e:
        raise ImportFileError(f"{path} is not a readable Anki package: {_zip_reason(e)}") from None
    except (zlib.error, *_LZMA, EOFError, NotImplementedError, RuntimeError, ValueError) as e:
        # a damaged deflate stream, a cut-off member, an unsupported or encrypted member
        raise ImportFileError(f"{path} is not a readable Anki package: damaged zip ({e})") \
            from None
    except OSError as e:
        raise ImportFileError(f"cannot unpack {path}: {e.strerror or e}") from None
    return inner, media_files


def _mib(n: int) -> str:
    return f"{n >> 30} GiB" if n >= 1 << 30 else f"{n >> 20} MiB"


class _Capped(io.RawIOBase):
    """A read-only stream that raises _TooBig once more than `limit` bytes came through."""

    def __init__(self, inner, limit: int) -> None:
        self.inner, self.limit, self.seen = inner, limit, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(_CHUNK if n is None or n < 0 else min(n, _CHUNK))
        self.seen += len(data)
        if self.seen > self.limit:
            raise _TooBig
        return data

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)


def _copy(source, out, limit: int) -> None:
    total = 0
    while chunk := source.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise _TooBig
        out.write(chunk)


def _unzstd_to(source, out, limit: int, path: Path) -> None:
    import zstandard  # only Anki 2.1.50+ packages need it

    try:
        # in pieces, never all at once: read(n) allocates n bytes, and a frame may claim any size
        _copy(zstandard.ZstdDecompressor().stream_reader(source), out, limit)
    except zstandard.ZstdError as e:
        raise ImportFileError(f"{path}: the compressed collection is damaged ({e})") from None


def _unzstd(data: bytes, path: Path) -> bytes:
    """A zstd-compressed collection held in memory, unpacked (with the same cap)."""
    out = io.BytesIO()
    limit = unpack_limit(len(data))
    try:
        _unzstd_to(_Capped(io.BytesIO(data), limit), out, limit, path)
    except _TooBig:
        raise ImportFileError(f"{path}: the collection unpacks to more than "
                              f"{_mib(limit)}") from None
    return out.getvalue()


def _zip_reason(e: zipfile.BadZipFile) -> str:
    text = str(e)
    if "not a zip file" in text.lower():
        return "not a zip file (truncated or not a package)"
    return f"damaged zip ({text})"


def _open_sqlite(db_file: Path, path: Path, inner: str) -> sqlite3.Connection:
    """The unpacked collection, read-only. SQLite reads it page by page through its small
    cache: however large the file, it is never all in memory."""
    with db_file.open("r+b") as f:
        if f.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
            raise ImportFileError(f"{path}: {inner} is not an SQLite database "
                                  "(damaged or truncated)")
        f.seek(18)
        f.write(b"\x01\x01")  # WAL in the header: read it with the rollback journal
    conn = sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
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
        return {did: tuple(_text(name).split("\x1f")) for did, name in
                conn.execute("SELECT id, name FROM decks")}
    decks = json.loads(conn.execute("SELECT decks FROM col").fetchone()[0] or "{}")
    return {int(did): tuple(d.get("name", "").split("::")) for did, d in decks.items()}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _text(value) -> str:
    """A text column as text: NULL is empty, a blob or a number is read as text."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _memory(data) -> tuple[float | None, float | None]:
    """Anki's FSRS memory state from cards.data, as it stands: the history import checks
    the values (json reads 1e999 as infinity)."""
    try:  # json.loads, less its checks for bytes (a text column is text)
        d = _decode((data if type(data) is str else _text(data)) or "{}")
    except ValueError:
        return None, None
    if type(d) is not dict:  # (what json gives for an object)
        return None, None
    s, dif = d.get("s"), d.get("d")
    if isinstance(s, int | float) and isinstance(dif, int | float) and s > 0:
        return float(s), float(dif)
    return None, None


_decode = json.JSONDecoder().decode


def _config(conn: sqlite3.Connection) -> dict:
    """The collection's config: the `config` table (schema 18) or `col.conf` (JSON)."""
    try:
        if "config" in _tables(conn):
            out = {}
            for key, val in conn.execute("SELECT key, val FROM config"):
                try:
                    out[_text(key)] = json.loads(_text(val))
                except ValueError:
                    continue
            return out
        conf = json.loads(_text(conn.execute("SELECT conf FROM col").fetchone()[0]) or "{}")
        return conf if isinstance(conf, dict) else {}
    except (sqlite3.Error, ValueError, TypeError):
        return {}


def day_start_seconds(config: dict, crt) -> int:
    """When the collection's study day begins, in seconds after midnight UTC: its `rollover`
    hour in its time zone (`localOffset`, else `creationOffset`: minutes west of UTC). Without
    them, the time of day of `crt` (Anki puts day zero at the rollover hour), else 4 am."""
    rollover, offset = config.get("rollover"), config.get("localOffset",
                                                           config.get("creationOffset"))
    if isinstance(rollover, int) and 0 <= rollover < 24 and isinstance(offset, int) \
            and abs(offset) <= 24 * 60:
        return (rollover * 3600 + offset * 60) % 86400
    if isinstance(crt, int) and crt > 0:
        return crt % 86400
    return 4 * 3600


def _read_collection(conn: sqlite3.Connection, path: Path, fmt: str,
                     history: bool = True,
                     package: PackageCollection | None = None) -> Imported:
    kinds = note_types(conn)
    decks = deck_names(conn)
    reviews: dict = {}
    if history:
        crt = conn.execute("SELECT crt FROM col").fetchone()[0] or 0
        day_start = day_start_seconds(_config(conn), crt)
    if package is not None:  # each card's rows read when asked for (PackageReviews)
        has_history = conn.execute("SELECT EXISTS (SELECT 1 FROM revlog)").fetchone()[0] == 1
    elif history:
        # Plain tuples in AnkiReview's order, not an object per row (100,000 rows).
        for rid, cid, ease, ivl, taken, kind in conn.execute(
                "SELECT id, cid, ease, ivl, time, type FROM revlog ORDER BY id"):
            mine = reviews.get(cid)
            if mine is None:
                reviews[cid] = [(rid, ease, ivl, taken, kind)]
            else:
                mine.append((rid, ease, ivl, taken, kind))
        has_history = bool(reviews)
    else:
        has_history = conn.execute("SELECT EXISTS (SELECT 1 FROM revlog)").fetchone()[0] == 1
    cards: dict[int, list[tuple]] = defaultdict(list)
    result_skipped: Counter = Counter()
    # A card parked in a filtered deck keeps its real due date in `odue` and its home deck
    # in `odid`: read those (its `due` there is the filtered deck's order, e.g. -100000).
    for row in conn.execute("SELECT id, nid, did, ord, type, queue,"
                            " CASE WHEN odid THEN odue ELSE due END, ivl, lapses, data,"
                            " odid FROM cards ORDER BY nid, ord"):
        if not isinstance(row[3], int):  # no card ordinal: a damaged row
            result_skipped["damaged card row"] += 1
            continue
        cards[row[1]].append(row)
    # each deck path once, in order (the prefix they share is the same)
    used = list(dict.fromkeys(decks.get(r[10] or r[2], ("",))
                              for rows in cards.values() for r in rows))
    common = _common_prefix(used)
    name = "::".join(common) if common and common != ("Default",) else path.stem
    result = Imported(name=name, format=fmt, has_history=has_history, skipped=result_skipped)
    builder = NoteCards(result, html_to_text)
    no_reviews = ()
    subs: dict = {}  # deck id -> the tag naming its sub-deck
    for nid, guid, mid, tags, flds in conn.execute(
            "SELECT id, guid, mid, tags, flds FROM notes ORDER BY id"):
        kind = kinds.get(mid)
        rows = cards.get(nid, [])
        if kind is None:
            result.skipped["unknown note type"] += max(1, len(rows))
            continue
        if not rows:
            continue
        note_tags = (tags if type(tags) is str else _text(tags)).split()
        deck_id = rows[0][10] or rows[0][2]
        sub = subs.get(deck_id)
        if sub is None:  # one slug per deck, not per note
            sub = subs[deck_id] = _slug("-".join(decks.get(deck_id, ())[len(common):]))
        if sub and sub not in note_tags:
            note_tags.append(sub)
        states = None
        if history:
            states = {}
            for cid, _nid, _did, ord_, ctype, queue, due, ivl, lapses, data, _odid in rows:
                s, d = _memory(data)
                states[ord_] = AnkiCardState(
                    ctype, queue, due, ivl, lapses, s, d, crt,
                    reviews.get(cid, no_reviews) if package is None
                    else PackageReviews(package, cid), day_start, cid)
        builder.note(guid_id((guid if type(guid) is str else _text(guid)) or str(nid)), kind,
                     (flds if type(flds) is str else _text(flds)).split("\x1f"), note_tags,
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
