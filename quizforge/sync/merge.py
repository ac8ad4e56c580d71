"""Import: other devices' segments into this store, and the merge of each card by replay.

Everything one import changes in the store is one transaction. A foreign review goes into
the local review log (reports, summaries and their triggers see it) with its uid in
sync_map, or, for answers numbered one after another that take review-log ids one after
another (a segment read a column at a time), in one row of sync_runs for all of them; so
reading a segment twice, or a conflict copy of it, adds nothing. A review for a
card this store does not have yet waits in sync_pending and is applied once the card exists.

Each card that gained reviews or lost some (undo) gets its schedule from the union of every
device's scheduled answers, ordered by (time, device id, number): a total order, the same on
every device whatever the clocks said. When all of them come from one device and the last
one carries the schedule it left (every export sends it), built on those answers (where an
answer was ever undone after it went out: its reps counts them), that schedule is the
card's: it is what that device has. Otherwise they are replayed through the scheduler
(fixed fuzz seed, no load balancing) for state, step, stability, difficulty, reps, lapses
and leech, and the due time is the last answer's time plus the interval its device gave it
(sent in ms, exactly).
Suspension is the last suspend/unsuspend event by (time, device), on every device.

A first sync reads a million answers. A segment whose answers only need adding (numbers not
seen, cards in no other segment of the import and with no answers here, no answer twice) is
taken a column at a time (`_Merger._quick_segment`): the same rows, ids and uids as the loop
over its rows, which every other segment goes through. From BULK answers on, the review
log's summary triggers, the card table's indexes and card_groups' update trigger are set
aside and their work done in bulk, and the foreign keys are checked once for the rows written
instead of per row; all inside the import's one transaction.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, compress, count as count_from, islice, repeat
from operator import and_, eq, is_not, itemgetter, le, lt, ne, not_, sub, truediv
from datetime import datetime, timedelta
from pathlib import Path

from quizforge.scheduling.scheduler import CardSchedule, Rating, Scheduler, State
from quizforge.store.cards import (
    REVLOG_INSERT_TRIGGERS,
    ensure_card,
    set_aside_triggers,
)
from quizforge.store.db import Database, from_ms, insert_rows, to_ms
from quizforge.sync import segment
from quizforge.sync.device import Device, device_idx
from quizforge.sync.export import RUN_OF, remember_suspensions, run_row

_AT_N = itemgetter(segment.REVIEW_COLUMNS.index("at"), segment.REVIEW_COLUMNS.index("n"))
_DECK_CARD = itemgetter(0, 1)  # of a segment's card (deck, card, kind)
SKEW = timedelta(hours=1)  # a device's time this far ahead of ours is worth a warning
_LOCAL_LAST = 1 << 62  # orders this store's unsent answers after every sent one at a time


@dataclass
class ImportResult:
    received: int = 0  # records new to this store
    devices: int = 0  # devices they came from
    cards_updated: int = 0
    pending: int = 0  # reviews waiting for a card this store does not have
    notes: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)  # settings another device changed later


@dataclass
class _Read:
    device: str
    name: str
    size: int
    mtime_ns: int
    seq: int | None
    status: str
    segment: segment.Segment | None = None


def device_folders(root: Path) -> list[Path]:
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


def scan(db: Database, root: Path, me: Device, now: datetime) -> tuple[list[_Read], list[str]]:
    """The foreign segments (and conflict copies) changed since they were last read, read
    and checked; with a note for each incomplete one."""
    known = {(d, n): (size, mt, status) for d, n, size, mt, status in db.conn.execute(
        "SELECT device, name, size, mtime_ns, status FROM sync_files")}
    out, notes = [], []
    for folder in device_folders(root):
        if folder.name == me.device:
            continue
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            canonical = segment.SEGMENT.match(name)
            if not canonical and not segment.is_conflict_copy(name):
                continue
            path = folder / name
            try:
                st = path.stat()
            except OSError:
                continue
            was = known.get((folder.name, name))
            if (was is not None and was[:2] == (st.st_size, st.st_mtime_ns)
                    and not segment.is_newer_status(was[2])):
                continue  # unchanged since it was read (or found incomplete, or too new)
            seq = int(canonical.group(1)) if canonical else segment.copy_seq(name)
            try:
                seg = segment.read(path, st.st_size)
                if seg.header["device"] != folder.name:
                    # only a device writes its folder: a header naming another is no
                    # segment of either (it would add answers in another's name)
                    raise segment.Bad(f"its header names device {seg.header['device'][:8]},"
                                      " not the folder's")
            except OSError as e:
                notes.append(f"cannot read {folder.name[:8]}/{name}: {e.strerror or e}")
                continue
            except MemoryError:  # under segment.MAX_BYTES, but more than this machine has
                notes.append(f"segment {folder.name[:8]}/{name} is too large to read here"
                             f" ({st.st_size >> 20:,} MB): skipped, tried again at the next sync")
                continue
            except segment.Incomplete as e:
                notes.append(f"segment {folder.name[:8]}/{name} is not complete yet ({e}): "
                             "skipped, read at the next sync")
                out.append(_Read(folder.name, name, st.st_size, st.st_mtime_ns, seq, "incomplete"))
                continue
            except segment.Newer as e:
                if was is None or was[2] != segment.newer_status():
                    notes.append(f"segment {folder.name[:8]}/{name} is from a newer quizforge"
                                 f" ({e}): update quizforge on this machine to read it")
                out.append(_Read(folder.name, name, st.st_size, st.st_mtime_ns, seq,
                                 segment.newer_status()))
                continue
            except segment.Bad as e:
                notes.append(f"segment {folder.name[:8]}/{name} cannot be read ({e}): skipped,"
                             " nothing of it applied")
                out.append(_Read(folder.name, name, st.st_size, st.st_mtime_ns, seq, "bad"))
                continue
            out.append(_Read(folder.name, name, st.st_size, st.st_mtime_ns, seq, "read", seg))
    return out, notes


def _skew_notes(reads: list[_Read], now: datetime) -> list[str]:
    now_ms, skew = to_ms(now), SKEW.total_seconds() * 1000
    out = []
    ahead: dict[str, int] = {}
    for r in reads:
        if r.segment is None:
            continue
        h = r.segment.header
        dev = h["device"]
        latest = max(h.get("written_at") or 0, max(r.segment.columns[_AT_], default=0))
        if latest > now_ms + skew:
            ahead[dev] = max(ahead.get(dev, 0), latest - now_ms)
        elif r.mtime_ns // 1_000_000 + skew < (h.get("written_at") or 0):
            ahead[dev] = max(ahead.get(dev, 0), h["written_at"] - r.mtime_ns // 1_000_000)
    for dev, ms in sorted(ahead.items()):
        out.append(f"device {dev[:8]}'s clock looks {ms / 3_600_000:.1f} hours ahead of this"
                   " one (answers in the future): kept, ordered by their own times")
    return out


def import_all(db: Database, root: Path, me: Device, now: datetime, scheduler: Scheduler,
               apply_settings=None) -> ImportResult:
    """Read every foreign segment not read yet and merge it into the store (one
    transaction). `apply_settings(changes)` is called inside it with the settings another
    device changed later than this one; it returns the scheduler to replay with."""
    with segment.collector_off():  # a first sync reads a million answers
        return _import_all(db, root, me, now, scheduler, apply_settings)


def _import_all(db, root, me, now, scheduler, apply_settings) -> ImportResult:
    reads, notes = scan(db, root, me, now)
    result = ImportResult(notes=notes + _skew_notes(reads, now))
    if not any(r.segment is not None for r in reads) and not _waiting_cards(db):
        if reads:  # incomplete ones: remember them as seen, so they are not read again
            with db.atomic() as conn:
                _record_files(conn, reads)
        return result
    many = sum(len(r.segment.reviews) for r in reads if r.segment is not None) >= BULK
    with _references_checked_once(db, many), db.atomic() as conn:
        conn.execute("INSERT INTO sync_importing (x) VALUES (1)")
        try:
            merger = _Merger(conn, me, scheduler)
            for r in reads:
                if r.segment is not None:
                    merger.add_segment(r.segment)
            settings = merger.settings_changes()
            if settings and apply_settings is not None:
                merger.scheduler = apply_settings(settings) or merger.scheduler
            merger.apply()
            if many:
                merger.check_references()
            result.received = merger.received
            result.devices = len(merger.devices_with_news)
            result.cards_updated = merger.cards_updated
            result.settings = settings
            segment.pause("import-before-commit")
            _record_files(conn, reads)
            _record_replaced(conn, reads)
            for r in reads:
                if r.segment is not None and segment.SEGMENT.match(r.name):
                    h = r.segment.header
                    idx = device_idx(conn, h["device"], str(h.get("name") or ""))
                    conn.execute(
                        "UPDATE sync_devices SET last_seq = MAX(last_seq, ?),"
                        " last_at = MAX(COALESCE(last_at, 0), ?) WHERE idx = ?",
                        (h.get("seq") or 0, h.get("written_at") or 0, idx))
            result.pending = conn.execute("SELECT COUNT(*) FROM sync_pending").fetchone()[0]
        finally:
            conn.execute("DELETE FROM sync_importing")
    return result


BULK = 20_000  # reviews in one import from which the log's insert triggers are set aside


@contextmanager
def _references_checked_once(db: Database, many: bool):
    """Many reviews at once (a first sync): SQLite's per-row foreign-key check (each new
    answer's card looked up: ~1.7 µs of the ~2.8 µs an insert took) is off for the
    import's transaction, and `_Merger.check_references` checks every row it wrote once,
    before the commit: the same rows are refused (IntegrityError, the transaction rolled
    back). A setting of this connection only, put back after (a killed process takes it
    with it). Inside a transaction already, nothing changes (SQLite ignores the pragma
    there)."""
    conn = db.conn
    if not many or conn.in_transaction:
        yield
        return
    fk = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if fk else 'OFF'}")


class _LogRows:
    """The review-log rows an import writes, in order: rows added one at a time (the loop
    over a segment's rows) and whole segments taken a column at a time (`_quick_segment`),
    kept as their columns and made into rows only as SQLite takes them (store.db.insert_rows,
    a hundred to a statement): a first sync's million rows are never all held as tuples."""

    def __init__(self) -> None:
        # lists of row tuples, or (first id, columns, which rows are kept or None, counts)
        self._parts: list = []
        self._len = 0

    def append(self, row: tuple) -> None:
        if not self._parts or type(self._parts[-1]) is not list:
            self._parts.append([])
        self._parts[-1].append(row)
        self._len += 1

    def add_columns(self, first_id: int, columns: tuple, kept: list | None, n: int,
                    counts: Counter | None = None) -> None:
        """Rows of these columns (card, at, rating, ms, before, interval in days, elapsed,
        cram: re-iterable) where `kept` (or all), `n` of them, taking ids from `first_id`
        on; `counts`: their answers per card, if known."""
        self._parts.append((first_id, columns, kept, counts))
        self._len += n

    def __len__(self) -> int:
        return self._len

    def card_counts(self) -> Counter:
        """Answers per card, cards in the order they first appear."""
        out: Counter = Counter()
        for part in self._parts:
            if type(part) is not list and part[3] is not None:
                out.update(part[3])
            else:
                out.update(self._column(part, 1))
        return out

    def misses(self) -> Counter:
        """Answers rated Again per card."""
        cards = chain.from_iterable(self._column(p, 1) for p in self._parts)
        ratings = chain.from_iterable(self._column(p, 3) for p in self._parts)
        return Counter(compress(cards, map((1).__eq__, ratings)))

    @staticmethod
    def _column(part, i: int):
        """Column i of a part's rows (0 is the id)."""
        if type(part) is list:
            return map(itemgetter(i), part)
        _, columns, kept, _ = part
        return columns[i - 1] if kept is None else compress(columns[i - 1], kept)

    @staticmethod
    def _rows(part):
        if type(part) is list:
            return part
        first, columns, kept, _ = part
        if kept is not None:
            columns = [compress(c, kept) for c in columns]
        return zip(count_from(first), *columns)

    def __iter__(self):
        return chain.from_iterable(map(self._rows, self._parts))


@contextmanager
def _bulk(conn, rows: _LogRows, deck_of: dict[int, str]):
    """Many reviews at once (a first sync): the review log's insert triggers are dropped
    for the insert and made again after it, and the counts they keep are added from the
    rows in one statement per table: the same tables, in a fraction of the time. All inside
    the import's transaction: a kill rolls the triggers back too."""
    if len(rows) < BULK:
        yield
        return

    # The triggers whose work is done below (and sync's outbox trigger, which skips
    # imported rows anyway), named as for an import's history (store.cards): a trigger on
    # revlog inserts not named there keeps firing per row.
    triggers = set_aside_triggers(conn, (*REVLOG_INSERT_TRIGGERS, "sync_revlog_insert"))
    # the indexes of the log and of the uid map too: built again from the whole table (a
    # sort) rather than grown a row at a time; but for the map's partial indexes of own
    # rows and unsent undos, which no imported row enters (building them again would only
    # read the table)
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                           " AND tbl_name IN ('revlog', 'sync_map') AND sql IS NOT NULL"
                           " AND name NOT IN ('sync_map_seg', 'sync_map_unsent')").fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    yield
    for _, sql in (*indexes, *triggers):
        conn.execute(sql)
    # what the triggers on revlog insert do, for all the rows at once (migrations 0007,
    # 0009, 0010; sync's own outbox trigger is not wanted for imported rows)
    # (counted a column at a time; cards in the order they first appear, as a loop would)
    answers = rows.card_counts()
    misses = rows.misses()
    conn.executemany(
        "INSERT INTO card_reviews (card, answers, misses) VALUES (?, ?, ?) ON CONFLICT (card)"
        " DO UPDATE SET answers = answers + excluded.answers, misses = misses + excluded.misses",
        [(card, a, misses[card]) for card, a in answers.items()])
    per_deck: dict[str, int] = defaultdict(int)
    for card, a in answers.items():
        per_deck[deck_of[card]] += a
    conn.executemany(
        "INSERT INTO deck_reviews (deck_id, reviews) VALUES (?, ?) ON CONFLICT (deck_id)"
        " DO UPDATE SET reviews = reviews + excluded.reviews", list(per_deck.items()))
    conn.execute("DELETE FROM study_days")  # counted again, for the days it needs, by report
    conn.execute("DELETE FROM study_days_done")


@contextmanager
def _cards_indexes_aside(conn, n: int):
    """Many cards' schedules rewritten at once (a first sync: 80,000): the card table's
    indexes on schedule columns are dropped and built again after (a sort), rather than
    moved one row at a time. Inside the import's transaction, like _bulk."""
    if n < BULK:
        yield
        return
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                           " AND tbl_name = 'cards' AND sql IS NOT NULL").fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    yield
    for _, sql in indexes:
        conn.execute(sql)


_GROUP_COLUMNS = ("cards", "new_cards", "learning", "young", "mature", "suspended", "leeches",
                  "reviewed")


@contextmanager
def _card_groups_aside(conn, ids: list[int]):
    """Many cards' schedules rewritten at once: card_groups' update trigger (the counts per
    deck and tag list, moved once per row: ~12 µs of the ~15 µs an update took) is set aside
    by name and its work done for all the rows at once: each group the cards are in gains
    their counts after the update less their counts before, which is the sum of what the
    trigger does row by row (the update changes no card's group). Only when every such group
    has its row (as the triggers keep it; else the trigger runs, as before). Inside the
    import's transaction, like _bulk."""
    if len(ids) < BULK:
        yield
        return
    from quizforge.store.health import SUMMARIES  # the count of card_groups, grouped

    count = SUMMARIES["card_groups"][1]
    assert count.count(" FROM cards WHERE ") == 1
    count = count.replace(" FROM cards WHERE ",
                          f" FROM cards WHERE id IN (SELECT id FROM {_ids(conn, ids)}) AND ")
    before = {(r[0], r[1]): r[2:] for r in conn.execute(count)}
    have = {(d, t) for d, t in conn.execute("SELECT deck_id, tags FROM card_groups")}
    triggers = set_aside_triggers(conn, ("card_groups_update",)) if before.keys() <= have else []
    yield
    if not triggers:
        return
    after = {(r[0], r[1]): r[2:] for r in conn.execute(count)}
    conn.execute("DELETE FROM temp.sync_merge_ids")
    rows = [(*key, *(a - b for a, b in zip(after[key], old)))
            for key, old in before.items() if after[key] != old]
    conn.executemany(
        f"UPDATE card_groups SET {', '.join(f'{c} = {c} + ?' for c in _GROUP_COLUMNS)}"
        " WHERE deck_id = ? AND tags = ?", [(*r[2:], *r[:2]) for r in rows])
    for _, sql in triggers:
        conn.execute(sql)


def _ids(conn, ids) -> str:
    """A temporary table of this connection (nothing written to the store) holding `ids`
    and nothing else, for `id IN (SELECT id FROM <it>)`; its name."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS sync_merge_ids (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.sync_merge_ids")
    conn.executemany("INSERT OR IGNORE INTO temp.sync_merge_ids (id) VALUES (?)",
                     ((i,) for i in ids))
    return "temp.sync_merge_ids"


def _record_files(conn, reads: list[_Read]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO sync_files (device, name, size, mtime_ns, seq, status)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(r.device, r.name, r.size, r.mtime_ns, r.seq, r.status) for r in reads])


def _record_replaced(conn, reads: list[_Read]) -> None:
    """A segment written again (its device found it missing or damaged) names the numbers
    it replaces: those are covered, not missing (`sync --status`), and a damaged copy of one
    left in the folder is not read again."""
    rows = []
    for r in reads:
        if r.segment is None:
            continue
        h = r.segment.header
        replaces = h.get("replaces")
        if not isinstance(replaces, list) or type(h.get("seq")) is not int:
            continue
        rows += [(r.device, segment.segment_name(s), s) for s in replaces
                 if type(s) is int and 0 < s < h["seq"]]
    if rows:
        conn.executemany("INSERT OR IGNORE INTO sync_files (device, name, size, mtime_ns, seq,"
                         " status) VALUES (?, ?, -1, -1, ?, 'replaced')", rows)
        conn.executemany("UPDATE sync_files SET status = 'replaced' WHERE device = ?"
                         " AND name = ? AND seq = ? AND status IN ('incomplete', 'bad')", rows)


def _waiting_cards(db: Database) -> bool:
    """Whether a review waits for a card that the store now has."""
    return db.conn.execute(
        "SELECT 1 FROM sync_pending p JOIN cards c ON c.deck_id = p.deck_id"
        " AND c.card_id = p.card_id LIMIT 1").fetchone() is not None


class _Merger:
    def __init__(self, conn, me: Device, scheduler: Scheduler) -> None:
        self.conn, self.me, self.scheduler = conn, me, scheduler
        self.received = 0
        self.cards_updated = 0
        self.devices_with_news: set[str] = set()
        self.by_device: dict[str, list[dict]] = defaultdict(list)  # records but answers
        # answers: (the segment's card list, its rows of REVIEW_COLUMNS), segment by segment
        self.reviews: dict[str, list[tuple[list, list]]] = defaultdict(list)
        self._idx: dict[str, int] = {}
        self._names: dict[str, str] = {}
        self._undone: bool | None = None  # whether any answer was undone after it went out
        # what this import wrote that names a card (or a round): see check_references
        self._written: dict[str, set[int]] = {"revlog": set(), "attempt": set(), "mock": set()}
        # cards whose answers only one segment of this import brings, with nothing of theirs
        # in the store (`_quick_segment`): card -> (its number of scheduled answers, and
        # the time, interval and carried schedule of the last by (time, number)), and its
        # device; all of the answers are in _quick_parts ((cards, rows, which are
        # scheduled) of each such segment), grouped when needed
        self._quick: dict[int, tuple[int, tuple | None]] = {}
        self._quick_dev: dict[int, str] = {}
        self._quick_parts: list[tuple[list, list, list | None]] = []
        self._quick_rows_of: dict[int, list[list]] | None = None
        # answers numbered n, n + 1, … that took review-log ids lo, lo + 1, … hi:
        # (device idx, n, lo, hi), for sync_runs (see _map_rows)
        self._map_runs: list[tuple[int, int, int, int]] = []
        self._columns: dict[int, list[list]] = {}  # id(a segment's rows) -> its columns

    def add_segment(self, seg: segment.Segment) -> None:
        dev = seg.header["device"]
        self._names[dev] = str(seg.header.get("name") or "")
        if dev == self.me.device:
            return  # a copy of this store's own segment: it has all of it
        self.by_device[dev].extend(seg.records)
        if seg.reviews:
            self.reviews[dev].append((seg.cards, seg.reviews))
            self._columns[id(seg.reviews)] = seg.columns

    def idx(self, device: str) -> int:
        if device not in self._idx:
            self._idx[device] = device_idx(self.conn, device, self._names.get(device, ""))
        return self._idx[device]

    # -- settings --------------------------------------------------------------------------
    def settings_changes(self) -> dict:
        import json

        conn = self.conn
        changes = {}
        for dev, records in self.by_device.items():
            for rec in records:
                if rec.get("t") != "setting":
                    continue
                key, at = rec["key"], rec["at"]
                row = conn.execute("SELECT at, device FROM sync_settings WHERE key = ?",
                                   (key,)).fetchone()
                if row is not None and (at, dev) <= (row[0], row[1]):
                    continue
                text = json.dumps(rec["value"])
                if row is None:
                    conn.execute("INSERT INTO sync_settings (key, value, at, device)"
                                 " VALUES (?, ?, ?, ?)", (key, text, at, dev))
                else:
                    conn.execute("UPDATE sync_settings SET value = ?, at = ?, device = ?"
                                 " WHERE key = ?", (text, at, dev, key))
                changes[key] = rec["value"]
                self.received += 1
                self.devices_with_news.add(dev)
        return changes

    # -- records ---------------------------------------------------------------------------
    def apply(self) -> None:
        conn = self.conn
        cards = {(d, c): (rowid, kind) for rowid, d, c, kind in conn.execute(
            "SELECT id, deck_id, card_id, kind FROM cards")}
        had_reviews = {r[0] for r in conn.execute("SELECT card FROM card_reviews")}
        self._had, self._held = had_reviews, {}
        next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM revlog").fetchone()[0]
        revlog_rows, map_rows, pending_rows = _LogRows(), [], []
        fresh: dict[int, list[tuple]] = defaultdict(list)  # card -> (key, record)
        touched_events: set[tuple[str, str]] = set()
        undos, attempts, mocks = [], [], []
        held, had = self._held, had_reviews
        # A card that only one segment of this import answers, that has no answers in the
        # store and waits for none in sync_pending, takes that segment's answers as they
        # are (`_quick_segment`): no other answer to compare them with.
        shared = self._shared_cards(cards, had)
        quick, quick_dev = self._quick, self._quick_dev
        for dev in self.by_device:
            di = self.idx(dev)
            seen = {n for (n,) in conn.execute("SELECT n FROM sync_map WHERE dev = ?", (di,))}
            seen |= {n for (n,) in conn.execute("SELECT n FROM sync_pending WHERE dev = ?", (di,))}
            for n, lo, hi in conn.execute("SELECT n, lo, hi FROM sync_runs WHERE dev = ?", (di,)):
                seen.update(range(n, n + hi - lo + 1))
            seen_add, cards_get, held_get = seen.add, cards.get, held.get
            add_revlog, add_map = revlog_rows.append, map_rows.append
            reviews = 0
            # the answers: rows of segment.REVIEW_COLUMNS; this loop runs a million times on
            # a first sync, so _known and _add_review are written out in it. Each card of a
            # segment is looked up once.
            for seg_cards, rows in self.reviews.get(dev, ()):
                hits = [cards_get((deck, card_id)) for deck, card_id, _ in seg_cards]
                done = self._quick_segment(dev, di, seg_cards, rows, hits, cards, seen, shared,
                                           next_id, revlog_rows, map_rows, pending_rows)
                if done is not None:
                    reviews += len(rows)
                    next_id = done
                    continue
                for row in rows:
                    n, place, at, rating, ms, before, ivl, elapsed, cram, _ = row
                    if n in seen:
                        continue
                    seen_add(n)
                    reviews += 1
                    hit = hits[place]
                    if hit is None:
                        deck, card_id, kind = seg_cards[place]
                        if kind != "skill":
                            pending_rows.append((di, n, deck, card_id,
                                                 _pending_text(row, seg_cards[place])))
                            continue
                        rowid = ensure_card(conn, deck, card_id, "skill", from_ms(at))
                        hit = hits[place] = cards[(deck, card_id)] = (rowid, "skill")
                    card = hit[0]
                    same_card = held_get(card)
                    if same_card is None:
                        same_card = self._held_answers(card)
                    same = same_card.get((at, rating))
                    if same is not None:  # this store holds that answer already
                        add_map((di, n, same, ivl))
                        continue
                    same_card[(at, rating)] = next_id
                    add_revlog((next_id, card, at, rating, ms, before, ivl / 86_400_000,
                                elapsed, cram))
                    add_map((di, n, next_id, ivl))
                    next_id += 1
                    if cram:
                        fresh.setdefault(card, [])
                        continue
                    fresh[card].append((at, dev, n, row))
            for rec in self.by_device.get(dev, ()):
                t = rec["t"]
                if t == "undo":
                    undos.append(rec["uid"])
                elif t in ("suspend", "unsuspend"):
                    cur = conn.execute(
                        "INSERT OR IGNORE INTO sync_events"
                        " (dev, n, deck_id, card_id, suspended, at) VALUES (?, ?, ?, ?, ?, ?)",
                        (di, rec["n"], rec["deck"], rec["card"], int(t == "suspend"), rec["at"]))
                    if cur.rowcount:
                        self.received += 1
                        self.devices_with_news.add(dev)
                        touched_events.add((rec["deck"], rec["card"]))
                elif t == "attempt":
                    attempts.append((dev, di, rec))
                elif t == "mock":
                    mocks.append((dev, di, rec))
            self.received += reviews
            if reviews:
                self.devices_with_news.add(dev)
        # reviews that waited for their card, now that it exists
        for di, n, deck, card, text in conn.execute(
                "SELECT p.dev, p.n, p.deck_id, p.card_id, p.record FROM sync_pending p"
                " JOIN cards c ON c.deck_id = p.deck_id AND c.card_id = p.card_id").fetchall():
            row = _pending_row(text)
            dev = conn.execute("SELECT device FROM sync_devices WHERE idx = ?", (di,)).fetchone()[0]
            rowid = cards[(deck, card)][0]
            same = self._known(rowid, row[_AT_], row[_RATING], next_id)
            if same is not None:
                map_rows.append((di, n, same, row[_IVL]))
                conn.execute("DELETE FROM sync_pending WHERE dev = ? AND n = ?", (di, n))
                continue
            self._add_review(rowid, dev, di, row, next_id, revlog_rows, map_rows, fresh)
            next_id += 1
            conn.execute("DELETE FROM sync_pending WHERE dev = ? AND n = ?", (di, n))
        self._written["revlog"] = set(revlog_rows.card_counts())  # their cards
        with _bulk(conn, revlog_rows, {rowid: d for (d, _), (rowid, _) in cards.items()}):
            insert_rows(conn, "INSERT INTO revlog (id, card, reviewed_at, rating, duration_ms,"
                        " state_before, interval_days, elapsed_days, cram) VALUES", 9,
                        revlog_rows)
            conn.executemany("INSERT INTO sync_map (dev, n, tbl, row, ivl_ms)"
                             " VALUES (?, ?, 'revlog', ?, ?)", map_rows)
            conn.executemany("INSERT INTO sync_runs (dev, n, lo, hi) VALUES (?, ?, ?, ?)",
                             self._map_runs)
        conn.executemany("INSERT OR IGNORE INTO sync_pending (dev, n, deck_id, card_id, record)"
                         " VALUES (?, ?, ?, ?, ?)", pending_rows)
        undone_cards = self._undo(undos)
        for dev, di, rec in attempts:
            self._attempt(dev, di, rec, cards)
        for dev, di, rec in mocks:
            self._mock(dev, di, rec, cards)
        self._merge_cards(fresh, had_reviews, undone_cards, touched_events, cards)

    def _shared_cards(self, cards: dict, had: set[int]) -> tuple[set[int], set[tuple]]:
        """The cards (rowids) that more than one segment of this import lists, that have
        answers in the store, or for which an answer waits in sync_pending; and the
        (deck, card) of those more than one segment lists (a card not made yet among them)."""
        listed: set[tuple] = set()
        keys: set[tuple] = set()
        for dev in self.by_device:
            for seg_cards, _ in self.reviews.get(dev, ()):
                named = set(map(_DECK_CARD, seg_cards))
                keys |= listed & named
                listed |= named
        shared = set(had)
        shared.update(cards[k][0] for k in keys if k in cards)
        shared.update(c for (c,) in self.conn.execute(
            "SELECT c.id FROM sync_pending p JOIN cards c ON c.deck_id = p.deck_id"
            " AND c.card_id = p.card_id"))
        return shared, keys

    def _quick_segment(self, dev, di, seg_cards, rows, hits, cards, seen, shared, next_id,
                       revlog_rows, map_rows, pending_rows) -> int | None:
        """A segment's answers, a column at a time, when the row-by-row loop of `apply`
        would do nothing but add each (a first sync: a million answers): none of their
        numbers seen before or twice, no card in `shared`, and no two answers to one card at
        one millisecond with one rating. An answer to a card this store does not have waits
        in sync_pending, a skill card is made (in the order, and at the time, the loop would
        make it). The same rows, ids and map entries as the loop; the cards' answers go to
        `_quick`. Returns the next review-log id, or None (nothing done) if the segment is
        not such."""
        shared_ids, shared_keys = shared
        cols = self._columns.get(id(rows))
        if not cols or len(cols[0]) != len(rows):
            cols = [list(c) for c in zip(*rows)]
        ns, places, ats, ratings, mss, befores, ivls, elapseds, crams, _ = cols
        # rows in (time, number) order, as an export writes them: each card's last is its
        # last row, and two answers at one millisecond are next to each other
        in_order = (all(map(lt, ns, islice(ns, 1, None)))
                    and all(map(le, ats, islice(ats, 1, None))))
        if not seen.isdisjoint(ns) or (not in_order and len(set(ns)) != len(ns)):
            return None
        ids_of: list = [h[0] if h is not None else None for h in hits]
        first: dict[int, int] = {}  # a skill card to make: its place -> the first row naming it
        for p in [p for p, h in enumerate(ids_of) if h is None and seg_cards[p][2] == "skill"]:
            if len(first) == 100 or tuple(seg_cards[p][:2]) in shared_keys:
                return None
            try:
                first[p] = places.index(p)
            except ValueError:  # named by no answer
                pass
        skills = sorted(first, key=first.__getitem__)
        stand_in: dict[tuple, int] = {}  # a skill card not made yet: its key, for the checks
        for p in skills:
            ids_of[p] = stand_in.setdefault(tuple(seg_cards[p][:2]), -1 - len(stand_in))
        touched = {ids_of[p] for p in set(places)}
        waiting = None in touched  # answers to cards this store does not have
        touched.discard(None)
        if not touched.isdisjoint(shared_ids):
            return None
        if in_order:  # the same card, time and rating twice: only among rows at one time
            ties = {i + k for i in compress(range(len(ats)), map(eq, ats, islice(ats, 1, None)))
                    for k in (0, 1)}
            if len({(ids_of[places[i]], ats[i], ratings[i]) for i in ties}) != len(ties):
                return None  # (answers waiting for a card count too: the loop then)
        elif len(set(zip(map(ids_of.__getitem__, places), ats, ratings))) != len(places):
            return None
        # the segment is taken: from here on, as the loop does
        seen.update(ns)
        if skills:
            made: dict[int, int] = {}
            for p in skills:
                deck, card_id, _ = seg_cards[p]
                if ids_of[p] not in made:
                    made[ids_of[p]] = ensure_card(self.conn, deck, card_id, "skill",
                                                  from_ms(ats[first[p]]))
                ids_of[p] = rowid = made[ids_of[p]]
                hits[p] = cards[(deck, card_id)] = (rowid, "skill")
            touched = {ids_of[p] for p in set(places)}
            touched.discard(None)
        cards_col = list(map(ids_of.__getitem__, places))
        if waiting:
            kept = list(map(is_not, cards_col, repeat(None)))
            for row in map(rows.__getitem__, compress(range(len(rows)), map(not_, kept))):
                deck, card_id, _ = seg_cards[row[1]]
                pending_rows.append((di, row[0], deck, card_id,
                                     _pending_text(row, seg_cards[row[1]])))
            n_kept = sum(kept)
            self._map_rows(di, list(compress(ns, kept)), next_id, compress(ivls, kept),
                           map_rows)
        else:
            kept, n_kept = None, len(rows)
            self._map_rows(di, ns, next_id, ivls, map_rows)
        # the scheduled answers (not cram) of each card: how many, and the last
        scheduled = kept
        if any(crams):
            scheduled = list(map(not_, crams))
            if kept is not None:
                scheduled = list(map(and_, scheduled, kept))
        part = (cards_col, rows, scheduled)
        count = Counter(_scheduled(part, 0))
        # the rows kept take the review-log ids from next_id on, in order
        revlog_rows.add_columns(next_id, (cards_col, ats, ratings, mss, befores, _days(ivls),
                                          elapseds, crams), kept, n_kept,
                                count if scheduled is kept else None)
        # each card's last scheduled answer: its place, then its time, interval and the
        # schedule it carries (a packed segment's rows are never made for them)
        places_of = (cards_col, range(len(rows)), scheduled)
        if in_order:
            last = dict(zip(_scheduled(places_of, 0), _scheduled(places_of, 1)))
        else:
            last = {}
            for card, i in zip(_scheduled(places_of, 0), _scheduled(places_of, 1)):
                if card not in last or (ats[i], ns[i]) > (ats[last[card]], ns[last[card]]):
                    last[card] = i
        afters = cols[_AFTER]
        quick = self._quick
        for card in touched:
            i = last.get(card)
            quick[card] = (count[card], None if i is None else (ats[i], ivls[i], afters[i]))
        self._quick_parts.append(part)
        self._quick_rows_of = None
        self._quick_dev.update(dict.fromkeys(touched, dev))
        return next_id + n_kept

    def _map_rows(self, di: int, ns: list[int], first_id: int, ivls, map_rows: list) -> None:
        """The uids of answers numbered `ns` that take the review-log ids from `first_id`
        on, with the intervals `ivls`: where the numbers go up one by one with the ids, as
        runs (`_map_runs`, a row of sync_runs each: the interval sent is the log's interval
        in days, in ms, exact below 2^51 ms); else as rows for `map_rows` (sync_map)."""
        ivls = list(ivls)
        if not ns or max(map(abs, ivls)) >= 1 << 51:
            map_rows += zip(repeat(di), ns, range(first_id, first_id + len(ns)), ivls)
            return
        # where the numbers stop going up by one, a run ends
        ends = [*compress(range(1, len(ns)), map(ne, map(sub, islice(ns, 1, None), ns),
                                                   repeat(1))), len(ns)]
        start = 0
        for end in ends:
            self._map_runs.append((di, ns[start], first_id + start, first_id + end - 1))
            start = end

    def _quick_rows(self, card: int) -> list[list]:
        """The scheduled answers (rows) of a card of `_quick`, in the order they were read."""
        if self._quick_rows_of is None:
            self._quick_rows_of = defaultdict(list)
            for part in self._quick_parts:
                for c, row in zip(_scheduled(part, 0), _scheduled(part, 1)):
                    self._quick_rows_of[c].append(row)
        return self._quick_rows_of.get(card, [])

    def check_references(self) -> None:
        """What the store's foreign keys check, for every row this import wrote, at once
        (an import of many answers runs with them off: `_references_checked_once`): each
        answer's card, each drill attempt's card, each mock answer's card and round exist.
        IntegrityError, as SQLite would raise, if not."""
        conn = self.conn
        cards = {i for (i,) in conn.execute("SELECT id FROM cards")}
        if not self._written["revlog"] <= cards:
            raise sqlite3.IntegrityError("FOREIGN KEY constraint failed (revlog.card)")
        checks = (("attempt", "SELECT 1 FROM drill_attempts a WHERE a.id IN"
                   " (SELECT id FROM {ids}) AND a.card IS NOT NULL"
                   " AND NOT EXISTS (SELECT 1 FROM cards c WHERE c.id = a.card)"),
                  ("mock", "SELECT 1 FROM mock_answers a WHERE a.round IN"
                   " (SELECT id FROM {ids}) AND (NOT EXISTS (SELECT 1 FROM cards c"
                   " WHERE c.id = a.card) OR NOT EXISTS (SELECT 1 FROM mock_rounds r"
                   " WHERE r.id = a.round))"))
        for what, sql in checks:
            ids = self._written[what]
            if ids:
                bad = conn.execute(sql.format(ids=_ids(conn, ids))).fetchone()
                conn.execute("DELETE FROM temp.sync_merge_ids")
                if bad:
                    raise sqlite3.IntegrityError(f"FOREIGN KEY constraint failed ({what})")

    def _known(self, card: int, at: int, rating: int, rid: int) -> int | None:
        """The review-log id of an answer to `card` at `at` (ms) rated `rating` that the
        store holds already, else None (and `rid`, the id the new answer will take, is
        noted). Two devices that imported the same Anki history each hold its answers as
        their own, under different uids: the same card, millisecond and rating is the same
        answer, kept once."""
        held = self._held.get(card)
        if held is None:
            held = self._held_answers(card)
        same = held.get((at, rating))
        if same is None:
            held[(at, rating)] = rid
        return same

    def _held_answers(self, card: int) -> dict[tuple[int, int], int]:
        """(time, rating) -> review-log id of the card's answers in the store (noted as the
        import adds more)."""
        held = self._held[card] = {} if card not in self._had else {
            (a, r): i for i, a, r in self.conn.execute(
                "SELECT id, reviewed_at, rating FROM revlog WHERE card = ?", (card,))}
        return held

    def _add_review(self, rowid, dev, di, row, rid, revlog_rows, map_rows, fresh) -> None:
        n, _, at, rating, ms, before, ivl, elapsed, cram, _ = row
        revlog_rows.append((rid, rowid, at, rating, ms, before, ivl / 86_400_000, elapsed, cram))
        map_rows.append((di, n, rid, ivl))
        if not cram:
            fresh[rowid].append((at, dev, n, row))
        else:
            fresh.setdefault(rowid, [])

    def _undo(self, uids: list[str]) -> set[int]:
        conn = self.conn
        cards = set()
        for uid in uids:
            device, _, n = uid.partition("/")
            try:
                n = int(n)
            except ValueError:
                continue
            di = self.idx(device)
            row = conn.execute("SELECT tbl, row, undone FROM sync_map WHERE dev = ? AND n = ?",
                               (di, n)).fetchone()
            if row is None:  # an answer of a run (its uid in sync_runs)?
                run = run_row(conn, di, n)
                row = ("revlog", run[0], 0) if run else None
            if row is not None and row[2]:
                continue  # undone already
            self.received += 1
            self.devices_with_news.add(device)
            if row is not None and row[1] is not None:
                if row[0] == "revlog":
                    card = conn.execute("SELECT card FROM revlog WHERE id = ?",
                                        (row[1],)).fetchone()
                    conn.execute("DELETE FROM revlog WHERE id = ?", (row[1],))
                    if card is not None:
                        cards.add(card[0])
                elif row[0] == "attempt":
                    conn.execute("DELETE FROM drill_attempts WHERE id = ?", (row[1],))
                conn.execute("UPDATE sync_map SET row = NULL, undone = 1, undo_sent = 1"
                             " WHERE dev = ? AND n = ?", (di, n))
            else:
                conn.execute("DELETE FROM sync_pending WHERE dev = ? AND n = ?", (di, n))
                conn.execute("INSERT OR REPLACE INTO sync_map (dev, n, tbl, row, undone, undo_sent)"
                             " VALUES (?, ?, 'revlog', NULL, 1, 1)", (di, n))
        return cards

    def _card_for(self, rec, cards) -> int | None:
        if not rec.get("deck"):
            return None
        hit = cards.get((rec["deck"], rec["card"]))
        if hit is None and rec.get("kind") == "skill":
            rowid = ensure_card(self.conn, rec["deck"], rec["card"], "skill", from_ms(rec["at"]))
            hit = cards[(rec["deck"], rec["card"])] = (rowid, "skill")
        return hit[0] if hit else None

    def _attempt(self, dev, di, rec, cards) -> None:
        conn = self.conn
        if conn.execute("SELECT 1 FROM sync_map WHERE dev = ? AND n = ?",
                        (di, rec["n"])).fetchone():
            return
        cur = conn.execute(
            "INSERT INTO drill_attempts (attempted_at, generator, difficulty, form, seed, skills,"
            " correct, score, duration_ms, card, solved, tries, hints, revealed, rating)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec["at"], rec["generator"], rec["difficulty"], rec["form"], rec["seed"],
             rec["skills"], rec["correct"], rec["score"], rec["ms"], self._card_for(rec, cards),
             rec["solved"], rec["tries"], rec["hints"], rec["revealed"], rec["rating"]))
        conn.execute("INSERT INTO sync_map (dev, n, tbl, row) VALUES (?, ?, 'attempt', ?)",
                     (di, rec["n"], cur.lastrowid))
        self._written["attempt"].add(cur.lastrowid)
        self.received += 1
        self.devices_with_news.add(dev)

    def _mock(self, dev, di, rec, cards) -> None:
        """A mock round as its device last sent it (a round sent again when it went on
        replaces the copy read before)."""
        conn = self.conn
        row = conn.execute("SELECT row FROM sync_map WHERE dev = ? AND n = ?",
                           (di, rec["n"])).fetchone()
        answers = [a for a in rec["answers"] if (a["deck"], a["card"]) in cards]
        if row is not None and row[0] is not None:
            have = conn.execute(
                "SELECT (SELECT COUNT(*) FROM mock_answers WHERE round = r.id), r.ended"
                " FROM mock_rounds r WHERE r.id = ?", (row[0],)).fetchone()
            if have is not None and (have[0], have[1]) == (len(answers), rec["ended"]):
                return
            conn.execute("DELETE FROM mock_answers WHERE round = ?", (row[0],))
            conn.execute("DELETE FROM mock_rounds WHERE id = ?", (row[0],))
        cur = conn.execute(
            "INSERT INTO mock_rounds (started_at, ended_at, minutes, planned, seed, decks, tags,"
            " ended) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (rec["started_at"], rec["ended_at"], rec["minutes"], rec["planned"], rec["seed"],
             rec["decks"], rec["tags"], rec["ended"]))
        rid = cur.lastrowid
        self._written["mock"].add(rid)
        for a in answers:
            review = None
            if a.get("review"):
                d, _, n = a["review"].partition("/")
                m = conn.execute("SELECT m.row FROM sync_map m JOIN sync_devices s ON s.idx = m.dev"
                                 " WHERE s.device = ? AND m.n = ?", (d, int(n))).fetchone()
                if m is None:
                    m = run_row(conn, d, int(n))
                review = m[0] if m else None
            conn.execute(
                "INSERT INTO mock_answers (round, position, card, kind, topics, skills, score,"
                " rating, answered_at, duration_ms, revlog)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rid, a["position"], cards[(a["deck"], a["card"])][0], a["kind"], a["topics"],
                 a["skills"], a["score"], a["rating"], a["at"], a["ms"], review))
        conn.execute("INSERT OR REPLACE INTO sync_map (dev, n, tbl, row) VALUES (?, ?, 'mock', ?)",
                     (di, rec["n"], rid))
        self.received += 1
        self.devices_with_news.add(dev)

    # -- cards -----------------------------------------------------------------------------
    def _merge_cards(self, fresh, had_reviews, undone_cards, touched_events, cards) -> None:
        conn = self.conn
        quick, quick_dev = self._quick, self._quick_dev
        changed_cards = set(fresh) | set(quick) | undone_cards
        by_rowid = {rowid: key for key, (rowid, _) in cards.items()}
        keys = {by_rowid[c] for c in changed_cards if c in by_rowid} | touched_events
        suspended = self._suspensions(keys)
        rows = []
        for card in sorted(changed_cards):  # (the table in order: its pages once each)
            key = by_rowid.get(card)
            if key is None:
                continue
            if card in quick:
                if card not in undone_cards:
                    row = self._schedule_quick(card)
                    rows.append((*row, int(suspended.get(key, False)), card))
                    continue
                dev = quick_dev[card]
                fresh[card] = [(r[_AT_], dev, r[_N], r) for r in self._quick_rows(card)]
            just_read = fresh.get(card, [])
            if card not in had_reviews and card not in undone_cards:
                just_read.sort()  # only what was just read
                answers = just_read
            else:
                answers = self._answers(card)
            row = self._schedule(answers, just_read)
            rows.append((*row, int(suspended.get(key, False)), card))
        # a row is written only where it changes: the count of rows written is the count
        # of cards updated
        with _cards_indexes_aside(conn, len(rows)), _card_groups_aside(
                conn, [r[-1] for r in rows]):
            self.cards_updated += max(0, conn.executemany(_UPDATE_SCHEDULE, rows).rowcount)
        only_suspension = [
            (int(suspended.get(key, False)), cards[key][0])
            for key in touched_events - {by_rowid[c] for c in changed_cards if c in by_rowid}
            if key in cards]
        self.cards_updated += max(0, conn.executemany(
            "UPDATE cards SET suspended = ?1 WHERE id = ?2 AND suspended IS NOT ?1",
            only_suspension).rowcount)
        if rows or only_suspension:
            remember_suspensions(conn)

    def _suspensions(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], bool]:
        """The last suspend/unsuspend event of each card, by (time, device): on every
        device the same."""
        if not keys:
            return {}
        last: dict[tuple[str, str], tuple] = {}
        for deck, card, value, at, device in self.conn.execute(
                "SELECT e.deck_id, e.card_id, e.suspended, e.at, d.device FROM sync_events e"
                " JOIN sync_devices d ON d.idx = e.dev"):
            key = (deck, card)
            if key in keys and (key not in last or (at, device) > last[key][:2]):
                last[key] = (at, device, value)
        return {k: bool(v[2]) for k, v in last.items()}

    def _answers(self, card: int) -> list[tuple]:
        """Every scheduled answer of the card in the store, as (time, device, number, row)
        in that order (row: segment.REVIEW_COLUMNS, the values a replay uses). An answer
        two devices both hold as their own (the same Anki history imported on each: see
        `_known`) has two uids; it is keyed by the smaller, on every device."""
        best: dict[int, tuple] = {}
        unmapped = []
        rows = self.conn.execute(
            "SELECT r.id, r.reviewed_at, r.rating, r.duration_ms, d.device, m.n, m.ivl_ms,"
            " r.interval_days FROM revlog r"
            " LEFT JOIN sync_map m ON m.tbl = 'revlog' AND m.row = r.id"
            " LEFT JOIN sync_devices d ON d.idx = m.dev WHERE r.card = ? AND r.cram = 0",
            (card,)).fetchall()
        rows += self.conn.execute(  # the uids of runs (sync_runs)
            "SELECT r.id, r.reviewed_at, r.rating, r.duration_ms, d.device,"
            " u.n + r.id - u.lo, NULL, r.interval_days FROM revlog r " + RUN_OF.format(x="r")
            + " JOIN sync_devices d ON d.idx = u.dev WHERE r.card = ? AND r.cram = 0",
            (card,)).fetchall()
        for rid, at, rating, ms, device, n, ivl, interval_days in rows:
            if device is None:
                unmapped.append((rid, at, rating, ms, interval_days))
                continue
            if ivl is None:
                ivl = round(interval_days * 86_400_000)
            entry = (at, device, n, _row(n, at, rating, ms, ivl))
            if rid not in best or entry[:3] < best[rid][:3]:
                best[rid] = entry
        for rid, at, rating, ms, interval_days in unmapped:
            if rid not in best:  # written here after this sync's export began
                n = _LOCAL_LAST + rid
                best[rid] = (at, self.me.device, n,
                             _row(n, at, rating, ms, round(interval_days * 86_400_000)))
        return sorted(best.values(), key=_key)

    def _any_undone(self) -> bool:
        if self._undone is None:
            self._undone = self.conn.execute(
                # an undone row has no row any more (row IS NULL: sync_map_row finds them)
                "SELECT 1 FROM sync_map WHERE tbl = 'revlog' AND row IS NULL AND undone = 1"
                " LIMIT 1"
            ).fetchone() is not None
        return self._undone

    def _schedule_quick(self, card: int) -> tuple:
        """`_schedule` for a card of `_quick`: its answers are the rows just read, all from
        one device, each with its own number; none in the store. In order they are sorted by
        (time, number); the last is the largest."""
        count, last = self._quick[card]
        if not count:
            return (0, None, None, None, None, None, 0, 0, 0)
        at, ivl, after = last
        if after is not None and (after[5] == count or not self._any_undone()):
            state, step, stab, diff, _due, reps, lapses, leech = after
            return (state, step, stab, diff, at + ivl, at, reps, lapses, int(leech))
        rows = sorted(self._quick_rows(card), key=_AT_N)
        return self._schedule([(r[_AT_], None, r[_N], r) for r in rows], [])

    def _schedule(self, answers: list[tuple], just_read: list[tuple]) -> tuple:
        """The card's schedule columns (state, step, stability, difficulty, due,
        last_review, reps, lapses, leech). `answers`: (time, device, n, row) in order;
        `just_read`: the same for the answers this import read (the last answer of each
        card in a segment carries the schedule its device left)."""
        if not answers:
            return (0, None, None, None, None, None, 0, 0, 0)
        at, dev, n, last = answers[-1]
        after = None
        if just_read:
            for entry in (just_read[-1], *just_read):
                if entry[:3] == (at, dev, n):
                    after = entry[3][_AFTER]
                    break
        # that schedule is the card's only when it was built on these answers: when its
        # reps counts more, it may have been built on an answer undone since (only where an
        # answer was undone after it went out; a card whose reps were never its count of
        # answers, such as some Anki imports, keeps its device's schedule otherwise)
        if after is not None and all(e[1] == dev for e in answers) and (
                after[5] == len(answers) or not self._any_undone()):
            state, step, stab, diff, _due, reps, lapses, leech = after
            return (state, step, stab, diff, at + last[_IVL], at, reps, lapses, int(leech))
        s = _replay(self.scheduler, [e[3] for e in answers])
        return (int(s.state), s.step, s.stability, s.difficulty, to_ms(s.due),
                to_ms(s.last_review), s.reps, s.lapses, int(s.leech))


_SCHEDULE_COLUMNS = ("state", "step", "stability", "difficulty", "due", "last_review", "reps",
                     "lapses", "leech", "suspended")
_UPDATE_SCHEDULE = (  # (values of _SCHEDULE_COLUMNS, card id): written where they change
    f"UPDATE cards SET {', '.join(f'{c} = ?{i}' for i, c in enumerate(_SCHEDULE_COLUMNS, 1))}"
    f" WHERE id = ?{len(_SCHEDULE_COLUMNS) + 1} AND ({', '.join(_SCHEDULE_COLUMNS)}) IS NOT"
    f" ({', '.join(f'?{i}' for i in range(1, len(_SCHEDULE_COLUMNS) + 1))})")


def rebuild(conn, scheduler: Scheduler, card: int) -> CardSchedule:
    """The card's schedule from its scheduled answers in the store, as a merge replays them
    (suspension left as the row has it): what every device computes for these answers."""
    row = conn.execute("SELECT device FROM sync_device").fetchone()
    merger = _Merger(conn, Device(row[0] if row else "", "", "", 0), scheduler)
    state, step, stab, diff, due, last, reps, lapses, leech = merger._schedule(
        merger._answers(card), [])
    suspended = conn.execute("SELECT suspended FROM cards WHERE id = ?", (card,)).fetchone()
    return CardSchedule(state=State(state), step=step, stability=stab, difficulty=diff,
                        due=from_ms(due), last_review=from_ms(last), reps=reps, lapses=lapses,
                        suspended=bool(suspended and suspended[0]), leech=bool(leech))


def _scheduled(part: tuple, i: int):
    """Of a `_quick_parts` entry (cards, rows, which are scheduled answers to a known card or
    None for all): the cards (i=0) or rows (i=1) of those answers."""
    return part[i] if part[2] is None else compress(part[i], part[2])


class _days:
    """An interval column in ms, as days, each time it is read."""

    def __init__(self, ms: list[int]) -> None:
        self.ms = ms

    def __iter__(self):
        return map(truediv, self.ms, repeat(86_400_000))


def _key(entry: tuple):
    return entry[:3]


_N, _AT_, _RATING, _MS, _IVL, _AFTER = (segment.REVIEW_COLUMNS.index(c) for c in (
    "n", "at", "rating", "ms", "ivl_ms", "after"))


def _row(n, at, rating, ms, ivl) -> list:
    """An answer as a row of REVIEW_COLUMNS with what a replay uses."""
    row = [None] * len(segment.REVIEW_COLUMNS)
    row[_N], row[_AT_], row[_RATING], row[_MS], row[_IVL] = n, at, rating, ms, ivl
    return row


def _pending_text(row: list, card: list) -> str:
    """An answer that waits for its card, as sync_pending keeps it (a JSON object)."""
    rec = dict(zip(segment.REVIEW_COLUMNS, row))
    rec.update(zip(segment.CARD_COLUMNS, card))
    return segment.dumps(rec).decode()


def _pending_row(text: str) -> list:
    rec = segment.loads(text)
    return [rec.get(c) for c in segment.REVIEW_COLUMNS]


def replay(scheduler: Scheduler, answers: list[dict]) -> CardSchedule:
    """The card's scheduled answers (in order: dicts with at, rating, ms, ivl_ms) through
    the scheduler; the due time is the last answer's time plus the interval its device
    gave it."""
    return _replay(scheduler, [_row(None, a["at"], a["rating"], a["ms"], a["ivl_ms"])
                               for a in answers])


def _replay(scheduler: Scheduler, rows) -> CardSchedule:
    s = CardSchedule()
    for row in rows:
        s, _ = scheduler.review(s, Rating(row[_RATING]), from_ms(row[_AT_]), row[_MS],
                                fuzz_seed=0)
    last = rows[-1]
    return _with(s, due=from_ms(last[_AT_] + last[_IVL]), last_review=from_ms(last[_AT_]),
                 suspended=False)


def _with(s: CardSchedule, **changes) -> CardSchedule:
    from dataclasses import replace

    return replace(s, **changes)
