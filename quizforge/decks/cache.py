"""The compiled-deck cache: each deck file's checked result, so an unchanged file is never
parsed again.

One SQLite file beside the store (`deck-cache.sqlite3`), one row per deck file, keyed by the
file's resolved path and checked against its size, its modification time (ns) and an
environment key: the cache and deck-format versions, quizforge's version, the drill families
a `type: generated` card may name (with their forms), and the size and time of the code that
checks decks. A row whose key does not match is a miss: the file is read again, alone.

The cache is never a source of truth. Deleting it loses nothing; a damaged file is replaced
silently; a data folder that cannot be written to just means no cache. Two processes filling
it at once is safe: each row is written whole in a transaction, and the same file gives the
same row.

A file changed twice within the filesystem's clock tick could keep its size and time: rows
written less than `RACY_NS` after the file's time are checked against a hash of its bytes
as well (as git does for "racily clean" entries), which costs a read, never a parse.

Each row holds the deck's summary (id, name, counts, tags: what `decks` and `report` show)
and its card index (ids and tags: what choosing cards to study needs) apart from its cards,
so listing decks never decodes 100,000 cards, and a study session decodes only the decks
whose cards it shows (model.LazyCards). Cards are stored as JSON rows in dataclass field
order (JSON: nothing in the file can run code when read; rows decode about twice as fast
as one mapping per card, see bench/bench_deck_cache.py).
"""

from __future__ import annotations

import json
import operator
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Self

from quizforge.decks.model import (
    CARD_TYPES,
    MCQ,
    Card,
    CardIndex,
    Deck,
    ExplainCard,
    Flashcard,
    FormulaCard,
    GeneratedCard,
    Problem,
)

# Bump DECK_FORMAT when what a deck file means changes; CACHE_FORMAT when a row's layout does.
DECK_FORMAT = 3  # 2: explain cards; 3: control characters made visible, size caps
CACHE_FORMAT = 2
RACY_NS = 2_000_000_000  # coarser than any filesystem clock in use (FAT: 2 s)
BUSY_TIMEOUT_S = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deck_files (
    path     TEXT PRIMARY KEY,  -- resolved
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    env      TEXT NOT NULL,     -- environment_key() when written
    digest   TEXT NOT NULL,     -- blake2b of the bytes, for racy rows
    read_ns  INTEGER NOT NULL,  -- wall clock just before the file was read
    summary  TEXT NOT NULL,     -- JSON: FileSummary.to_dict()
    card_index TEXT,            -- JSON: CardIndex.to_dict(), NULL when the file had problems
    cards    TEXT               -- JSON: card rows, NULL when the file had problems
)
"""


@dataclass(frozen=True)
class FileSummary:
    """What one deck file gave, without its cards: enough to list decks and check a report's
    --deck and --tag, and to print the file's problems."""

    deck_id: str | None  # set even when the file has problems (for the duplicate-id check)
    deck_id_line: int
    problems: tuple[tuple[int, str], ...]  # (line, message)
    name: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()  # the deck's own
    card_tags: tuple[str, ...] = ()  # every tag of its cards, first seen first
    counts: tuple[tuple[str, int], ...] = ()  # (card type, how many), in CARD_TYPES order
    fingerprint: str = ""  # the store's fingerprint of the deck: is a sync needed?

    @property
    def valid(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "deck_id": self.deck_id,
            "deck_id_line": self.deck_id_line,
            "problems": [list(p) for p in self.problems],
            "name": self.name,
            "description": self.description,
            "tags": list(self.tags),
            "card_tags": list(self.card_tags),
            "counts": [list(c) for c in self.counts],
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FileSummary:
        return cls(
            deck_id=d["deck_id"],
            deck_id_line=int(d["deck_id_line"]),
            problems=tuple((int(line), str(msg)) for line, msg in d["problems"]),
            name=d["name"],
            description=d["description"],
            tags=tuple(d["tags"]),
            card_tags=tuple(d["card_tags"]),
            counts=tuple((str(t), int(n)) for t, n in d["counts"]),
            fingerprint=str(d["fingerprint"]),
        )

    @classmethod
    def of(cls, deck_id: str | None, deck_id_line: int, problems, deck: Deck | None):
        summary = cls(deck_id, deck_id_line, tuple((p.line, p.message) for p in problems))
        if deck is None:
            return summary
        from quizforge.decks.model import compute_fingerprint

        card_tags = dict.fromkeys(t for c in deck.cards for t in c.tags)
        return cls(
            deck_id=deck_id,
            deck_id_line=deck_id_line,
            problems=summary.problems,
            name=deck.name,
            description=deck.description,
            tags=deck.tags,
            card_tags=tuple(card_tags),
            counts=tuple(deck.counts().items()),
            fingerprint=compute_fingerprint(deck),
        )

    def problem_list(self, path: Path) -> list[Problem]:
        return [Problem(path, line, message) for line, message in self.problems]


# -- cards as rows ---------------------------------------------------------------------

_CLASSES: dict[str, type] = {
    "flashcard": Flashcard, "mcq": MCQ, "generated": GeneratedCard, "formula": FormulaCard,
    "explain": ExplainCard,
}
_FIELDS = {t: tuple(f.name for f in fields(cls)) for t, cls in _CLASSES.items()}
# Positions (after the type) of tuple fields other than `tags`, which JSON gives as lists.
# (Read from the annotations: a formula card's `answer` is text, an MCQ's a tuple.)
_TUPLES = {t: tuple(i for i, f in enumerate(fields(cls))
                    if f.name != "tags" and str(f.type).startswith("tuple"))
           for t, cls in _CLASSES.items()}
_TAGS = {t: names.index("tags") for t, names in _FIELDS.items()}
assert set(_CLASSES) == set(CARD_TYPES)


_GETTERS = {t: operator.attrgetter(*names) for t, names in _FIELDS.items()}


def cards_to_rows(cards: tuple[Card, ...]) -> dict[str, Any]:
    """{"tagsets": [[tag, …], …], "cards": [[type, field, …], …]}: each card's fields in
    dataclass order, its tags as an index into `tagsets` (a folder of cards shares a few).
    Tuples stay tuples: JSON writes them as lists."""
    tagsets: dict[tuple[str, ...], int] = {}
    rows = []
    for card in cards:
        kind = card.type
        row = [kind, *_GETTERS[kind](card)]
        at = _TAGS[kind] + 1
        row[at] = tagsets.setdefault(row[at], len(tagsets))
        rows.append(row)
    return {"tagsets": [list(t) for t in tagsets], "cards": rows}


def cards_from_rows(data: dict[str, Any]) -> tuple[Card, ...]:
    """The cards `cards_to_rows` gave; KeyError, IndexError, TypeError or ValueError when
    the data is not such rows."""
    tagsets = [tuple(t) for t in data["tagsets"]]
    out = []
    for row in data["cards"]:
        kind = row[0]
        values = row[1:]
        values[_TAGS[kind]] = tagsets[values[_TAGS[kind]]]
        for i in _TUPLES[kind]:
            values[i] = tuple(values[i])
        out.append(_CLASSES[kind](*values))
    return tuple(out)


# -- the cache key ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def environment_key() -> str:
    """Everything besides the file itself that decides what checking it gives."""
    from quizforge import __version__
    from quizforge.drill.families import names

    package = Path(__file__).parent.parent
    code = []  # every module of this package: the checking code and what it reads
    try:
        # the drill families' modules stand for their forms (which `generated` cards are
        # checked against) without importing them on every start
        for folder in (package / "decks", package / "drill" / "families"):
            with os.scandir(folder) as entries:
                for e in entries:
                    if e.name.endswith(".py"):
                        st = e.stat()
                        code.append([f"{folder.name}/{e.name}", st.st_size, st.st_mtime_ns])
        st = (package / "store" / "cards.py").stat()  # the fingerprint
        code.append(["store/cards.py", st.st_size, st.st_mtime_ns])
    except OSError:  # a zipped install: the version stands for the code
        pass
    code.sort()
    fams = list(names())
    return json.dumps([CACHE_FORMAT, DECK_FORMAT, __version__, fams, code])


def digest(data: bytes) -> str:
    import hashlib  # only for racy rows and new ones: not on a warm start's path

    return hashlib.blake2b(data, digest_size=16).hexdigest()


# -- the cache -------------------------------------------------------------------------

CacheRow = tuple[str, int, int, str, str, int, str, str | None, str | None]
ROW_INDEX, ROW_CARDS = 7, 8  # a row's card index and cards (JSON), as `_SCHEMA` orders them
# Primary SQLite result codes that mean the file is not a cache we can use: a generic error
# (a table or column missing), corrupt, not a database. Busy, read-only or full are not.
_DAMAGE_CODES = {1, 11, 26}


def _is_damage(e: sqlite3.Error) -> bool:
    code = getattr(e, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _DAMAGE_CODES


@dataclass(frozen=True)
class FileKey:
    """A deck file as the cache knows it: resolved path, size and time."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileKey | None:
        try:
            st = path.stat()
            return cls(str(path.resolve()), st.st_size, st.st_mtime_ns)
        except OSError:
            return None


class DeckCache:
    """The cache file; every method fails soft (a miss, or nothing written), never raises."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._broken = False
        self._pending: list[CacheRow] = []
        self._touched: list[tuple[int, str, int, int]] = []  # racy rows found unchanged

    # -- opening -----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is not None or self._broken:
            return self._conn
        for _ in range(2):
            try:
                self._conn = self._open()
                return self._conn
            except sqlite3.Error as e:
                self.close()
                if not (_is_damage(e) and self._remove()):
                    break  # busy, read-only, full: no cache this time, and nothing deleted
            except OSError:
                break
        self._broken = True
        return None

    def _damaged(self, e: sqlite3.Error) -> None:
        """After an error while in use: a damaged file is removed (the next use starts
        a new one); any other error is left alone."""
        if _is_damage(e):
            self.close()
            if not self._remove():
                self._broken = True

    def _open(self) -> sqlite3.Connection:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        self._conn = conn
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # a cache: losing the last write is fine
        conn.execute(_SCHEMA)
        conn.execute("SELECT path, size, mtime_ns, env, digest, read_ns, summary, card_index,"
                     " cards FROM deck_files LIMIT 0")
        return conn

    def _remove(self) -> bool:
        try:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return True
        except OSError:
            return False

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.flush()
        self.close()

    # -- reading -----------------------------------------------------------------------

    def lookup(
        self, key: FileKey, with_index: bool
    ) -> tuple[FileSummary, CardIndex | None] | None:
        """(summary, card index or None) for a file whose row still matches it, else None.
        The cards themselves are read later, if at all (`card_rows`)."""
        conn = self._connect()
        if conn is None:
            return None
        # card_index sits before cards in the row: reading it does not read the cards.
        columns = "env, digest, read_ns, summary" + (", card_index" if with_index else "")
        try:
            row = conn.execute(
                f"SELECT {columns} FROM deck_files WHERE path = ? AND size = ? AND mtime_ns = ?",
                (key.path, key.size, key.mtime_ns),
            ).fetchone()
        except sqlite3.Error as e:
            self._damaged(e)
            return None
        if row is None or row[0] != environment_key():
            return None
        if key.mtime_ns >= row[2] - RACY_NS and not self._same_bytes(key, row[1]):
            return None
        try:
            summary = FileSummary.from_dict(json.loads(row[3]))
            index = None
            if with_index and row[4] is not None:
                index = CardIndex.from_dict(json.loads(row[4]))
        except (ValueError, KeyError, TypeError):
            return None
        if with_index and summary.valid and index is None:
            return None
        return summary, index

    def card_rows(self, key: FileKey) -> Any | None:
        """The card rows (`cards_to_rows`) of the row `lookup` found for this file, or None
        when it is gone, replaced or unreadable."""
        conn = self._connect()
        if conn is None:
            return None
        try:
            row = conn.execute(
                "SELECT env, cards FROM deck_files WHERE path = ? AND size = ? AND mtime_ns = ?",
                (key.path, key.size, key.mtime_ns),
            ).fetchone()
        except sqlite3.Error as e:
            self._damaged(e)
            return None
        if row is None or row[0] != environment_key() or row[1] is None:
            return None
        try:
            return json.loads(row[1])
        except ValueError:
            return None

    def forget(self, key: FileKey) -> None:
        """Drop a file's row (its cards did not match its index): read again next time."""
        conn = self._connect()
        if conn is None:
            return
        try:
            conn.execute("DELETE FROM deck_files WHERE path = ?", (key.path,))
        except sqlite3.Error as e:
            self._damaged(e)

    def _same_bytes(self, key: FileKey, expected: str) -> bool:
        """Whether a racy row's file still has the bytes it was read with. Once the file's
        time is `RACY_NS` old, the row's read time moves on, and size and time suffice."""
        read_ns = now_ns()
        try:
            same = digest(Path(key.path).read_bytes()) == expected
        except OSError:
            return False
        if same and key.mtime_ns < read_ns - RACY_NS:
            self._touched.append((read_ns, key.path, key.size, key.mtime_ns))
        return same

    # -- writing -----------------------------------------------------------------------

    def add(self, row: CacheRow) -> None:
        """Queue one file's row; `flush` writes every queued row in one transaction."""
        self._pending.append(row)

    def flush(self) -> None:
        rows, self._pending = self._pending, []
        touched, self._touched = self._touched, []
        if not rows and not touched:
            return
        conn = self._connect()
        if conn is None:
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT OR REPLACE INTO deck_files"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            conn.executemany("UPDATE deck_files SET read_ns = ?"
                             " WHERE path = ? AND size = ? AND mtime_ns = ?", touched)
            conn.execute("COMMIT")
        except sqlite3.Error as e:  # read-only, full, or busy for too long: no cache this time
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            self._damaged(e)




def cache_row(
    key: FileKey, data: bytes, read_ns: int, summary: FileSummary, deck: Deck | None
) -> CacheRow:
    """One file's row as `DeckCache.add` takes it (pure: runs in a worker process too)."""
    index = cards = None
    if deck is not None:
        index = _json(CardIndex.of(deck.cards).to_dict())
        cards = _json(cards_to_rows(deck.cards))
    return (key.path, key.size, key.mtime_ns, environment_key(), digest(data), read_ns,
            _json(summary.to_dict()), index, cards)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def now_ns() -> int:
    return time.time_ns()


def cache_path() -> Path:
    from quizforge.paths import deck_cache_path

    return deck_cache_path()


@contextmanager
def open_cache(path: Path | None = None) -> Iterator[DeckCache]:
    """The deck cache (in the data folder unless `path` is given), flushed on exit."""
    cache = DeckCache(path or cache_path())
    with cache:
        yield cache
