"""Export: what this store wrote since its last sync, as one new segment in its folder.

The rows to send are listed in sync_outbox (triggers fill it). Their uids are handed out and
committed first; the file is written and renamed into place; only then is the sending
recorded (one transaction: answers numbered one after another in sync_runs, a row a run; the
other records in sync_map). A sync killed between the two writes the same records again,
with the same uids, next time: readers drop what they already have.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from itertools import compress, islice, repeat
from operator import itemgetter, ne, or_, sub
from datetime import datetime
from pathlib import Path

from quizforge.store.db import Database, to_ms
from quizforge.sync import segment
from quizforge.sync.device import Device

# Settings that are one learner's choices, synced last-writer-wins; sync_dir (a path on this
# machine) and ambiguous_width (how this terminal draws) stay on each machine.
LOCAL_SETTINGS = ("sync_dir", "ambiguous_width")


@dataclass
class ExportResult:
    sent: int = 0  # records written
    seq: int | None = None  # the segment written, if any
    reexported: list[int] | None = None  # own segments found missing and written again


def synced_settings(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in LOCAL_SETTINGS}


def _json(value) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def stamp_settings(db: Database, old: dict, new: dict, now: datetime) -> None:
    """`config set`/`reset` changed settings from `old` to `new` (Config.to_dict()s): keep
    when, for the next sync to send (the change made last wins on every machine). Nothing
    to keep when there is no store yet (the first sync sends the settings as they are)."""
    changed = [(k, _json(v)) for k, v in new.items()
               if k not in LOCAL_SETTINGS and _json(old.get(k)) != _json(v)]
    if not changed:
        return
    with db.atomic() as conn:
        conn.executemany("INSERT OR REPLACE INTO sync_setting_stamps (key, value, at)"
                         " VALUES (?, ?, ?)", ((k, text, to_ms(now)) for k, text in changed))


def note_settings(conn, me: Device, values: dict, defaults: dict, now_ms: int) -> None:
    """A setting whose value differs from the one last synced was changed here: stamped
    with the time `config set` made it (sync_setting_stamps), else now."""
    known, known_at = {}, {}
    for k, v, at in conn.execute("SELECT key, value, at FROM sync_settings"):
        known[k], known_at[k] = v, at
    stamps = {k: (v, at) for k, v, at in conn.execute(
        "SELECT key, value, at FROM sync_setting_stamps")}
    if stamps:  # each is used once
        conn.execute("DELETE FROM sync_setting_stamps")
    for key, value in values.items():
        text = _json(value)
        if key not in known:  # first sync: the default is where everyone starts
            known[key] = _json(defaults.get(key))
            conn.execute("INSERT INTO sync_settings (key, value, at, device) VALUES (?, ?, 0, '')",
                         (key, known[key]))
        if text != known[key]:
            stamp = stamps.get(key)
            at = stamp[1] if stamp is not None and stamp[0] == text else now_ms
            # made after the value this store had (a clock behind may say otherwise)
            at = max(at, known_at.get(key, 0) + 1)
            conn.execute("UPDATE sync_settings SET value = ?, at = ?, device = ? WHERE key = ?",
                         (text, at, me.device, key))
            rowid = conn.execute("SELECT rowid FROM sync_settings WHERE key = ?",
                                 (key,)).fetchone()[0]
            conn.execute("INSERT OR IGNORE INTO sync_outbox (tbl, row) VALUES ('setting', ?)",
                         (rowid,))


def note_suspensions(conn, me: Device, now_ms: int) -> int:
    """Cards suspended or unsuspended here since the last sync (by any means: `s` in study,
    `cards unsuspend`, a leech) become suspend/unsuspend events, at the time the change was
    made where it was stamped then (sync_suspend_stamps), else now. Returns how many."""
    now_set = {r[0] for r in conn.execute("SELECT id FROM cards WHERE suspended = 1")}
    known = {r[0] for r in conn.execute("SELECT card FROM sync_suspended")}
    stamps = {c: (v, at) for c, v, at in conn.execute(
        "SELECT card, suspended, at FROM sync_suspend_stamps")}
    if stamps:  # each is used once: a later change with no stamp must not take an old one
        conn.execute("DELETE FROM sync_suspend_stamps")
    if now_set == known:
        return 0
    changes = [(c, 1) for c in now_set - known] + [(c, 0) for c in known - now_set]
    n = 0
    for card, value in sorted(changes):
        row = conn.execute("SELECT deck_id, card_id FROM cards WHERE id = ?", (card,)).fetchone()
        if row is None:
            continue
        stamp = stamps.get(card)
        at = stamp[1] if stamp is not None and stamp[0] == value else now_ms
        # made after every event this store had on the card (a clock behind may say
        # otherwise): later than them, on every device
        seen = conn.execute("SELECT MAX(at) FROM sync_events WHERE deck_id = ? AND card_id = ?",
                            (row[0], row[1])).fetchone()[0]
        if seen is not None and at <= seen:
            at = seen + 1
        conn.execute("INSERT INTO sync_events (dev, n, deck_id, card_id, suspended, at)"
                     " VALUES (?, ?, ?, ?, ?, ?)", (me.idx, _next_n(conn), row[0], row[1], value,
                                                    at))
        n += 1
    remember_suspensions(conn)
    return n


def remember_suspensions(conn) -> None:
    conn.execute("DELETE FROM sync_suspended")
    conn.execute("INSERT INTO sync_suspended (card) SELECT id FROM cards WHERE suspended = 1")


def _next_n(conn) -> int:
    n = conn.execute("SELECT next_n FROM sync_device").fetchone()[0]
    conn.execute("UPDATE sync_device SET next_n = ?", (n + 1,))
    return n


# The run of sync_runs that holds review-log row {x}.id, as the uid it gives that row: the
# run with the largest first id not above it, if it reaches the row, and the uid not listed
# in sync_map (listed there, it was undone: the row may since be another answer's). In the
# FROM clause of a query on revlog {x}: `u.dev`, `u.n + {x}.id - u.lo` is the uid.
RUN_OF = ("JOIN sync_runs u ON u.lo = (SELECT MAX(lo) FROM sync_runs WHERE lo <= {x}.id)"
          " AND {x}.id <= u.hi AND NOT EXISTS (SELECT 1 FROM sync_map o WHERE o.dev = u.dev"
          " AND o.n = u.n + {x}.id - u.lo)")


def run_row(conn, device: str | int, n: int) -> tuple[int] | None:
    """(review-log id,) of answer `n` of `device` (its name, or its sync_devices idx) if a
    run of sync_runs holds it, else None. (The caller has found no sync_map row for it.)"""
    if isinstance(device, str):
        found = conn.execute("SELECT idx FROM sync_devices WHERE device = ?", (device,)).fetchone()
        if found is None:
            return None
        device = found[0]
    run = conn.execute("SELECT n, lo, hi FROM sync_runs WHERE dev = ? AND n <= ?"
                       " ORDER BY n DESC LIMIT 1", (device, n)).fetchone()
    if run is None or n - run[0] > run[2] - run[1]:
        return None
    return (run[1] + n - run[0],)


def _allocate(conn, me: Device) -> None:
    """Give every outbox row a uid: the one it was sent with before (a mock round that went
    on, a setting changed again), else a new number. Answers take theirs in one statement,
    the next number plus their distance from the first of them (a first sync gives a
    million at once); the few other rows one by one."""
    first = conn.execute("SELECT next_n FROM sync_device").fetchone()[0]
    lo, hi = conn.execute("SELECT MIN(row), MAX(row) FROM sync_outbox"
                          " WHERE tbl = 'revlog' AND un IS NULL").fetchone()
    n = first
    if lo is not None:
        conn.execute("UPDATE sync_outbox SET udev = ?, un = ? + row"
                     " WHERE tbl = 'revlog' AND un IS NULL", (me.idx, first - lo))
        n = first + hi - lo + 1
    rows = conn.execute(
        "SELECT tbl, row FROM sync_outbox WHERE un IS NULL ORDER BY tbl, row").fetchall()
    out = []
    for tbl, row in rows:
        old = None
        if tbl in ("mock", "setting"):
            old = conn.execute("SELECT dev, n FROM sync_map WHERE tbl = ? AND row = ? AND dev = ?",
                               (tbl, row, me.idx)).fetchone()
        if old is not None:
            out.append((old[0], old[1], tbl, row))
        else:
            out.append((me.idx, n, tbl, row))
            n += 1
    conn.executemany("UPDATE sync_outbox SET udev = ?, un = ? WHERE tbl = ? AND row = ?", out)
    if n != first:
        conn.execute("UPDATE sync_device SET next_n = ?", (n,))


def _drop_stale_temps(folder: Path) -> None:
    """Temporary files a killed sync left in this device's own folder: only this store
    writes there; a temp file whose process is alive and that is younger than a minute
    may belong to a sync running now, and is left."""
    import time

    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.startswith(".") and name.endswith(".tmp"):
            path = folder / name
            try:
                if time.time() - path.stat().st_mtime > 60 or not _pid_alive(name):
                    path.unlink()
            except OSError:
                pass


def _pid_alive(name: str) -> bool:
    try:
        pid = int(name.rsplit(".", 2)[-2])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def own_segments_on_disk(folder: Path) -> dict[int, str]:
    out = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return out
    for name in names:
        m = segment.SEGMENT.match(name)
        if m:
            out[int(m.group(1))] = name
    return out


def export(db: Database, root: Path, me: Device, now: datetime, values: dict,
           defaults: dict) -> ExportResult:
    """Write this store's unsent records to a new segment in `root/<device>/`."""
    with segment.collector_off():  # a first sync sends a million answers
        return _export(db, root, me, now, values, defaults)


def _export(db, root, me, now, values, defaults) -> ExportResult:
    now_ms = to_ms(now)
    folder = root / me.device
    with db.atomic() as conn:
        note_settings(conn, me, synced_settings(values), defaults, now_ms)
        note_suspensions(conn, me, now_ms)
        _allocate(conn, me)
    _drop_stale_temps(folder)
    on_disk = own_segments_on_disk(folder)
    files = {seq: (name, size, mtime) for seq, name, size, mtime in db.conn.execute(
        "SELECT seq, name, size, mtime_ns FROM sync_files WHERE device = ? AND status = 'own'",
        (me.device,))}
    recorded = set(files)
    damaged = _damaged(db, folder, me, files, on_disk)
    missing = sorted((recorded - set(on_disk)) | set(damaged))
    parts = Records(db, me, missing)
    reviews = parts.reviews()
    records = list(parts.all())
    if not records and not reviews:
        return ExportResult(reexported=[])
    last = max([0, *recorded, *on_disk])
    seq = last + 1
    header = {"device": me.device, "seq": seq, "written_at": now_ms, "name": me.name}
    if missing:  # readers count these numbers as covered: not missing any more
        header["replaces"] = missing
    data = segment.encode(header, records, reviews, parts.cards)
    path = folder / segment.segment_name(seq)
    segment.write_atomic(path, data, "before-rename")
    segment.pause("after-rename")
    st = path.stat()
    with db.atomic() as conn:
        behind = _behind(conn, me)
        parts.record_sent(conn, seq)
        _replay_cards(conn, behind, values)
        conn.execute("UPDATE sync_files SET status = 'replaced' WHERE device = ?"
                     " AND status = 'own' AND seq IN (%s)" % ",".join("?" * len(missing)),
                     (me.device, *missing))
        conn.execute("INSERT OR REPLACE INTO sync_files (device, name, size, mtime_ns, seq, status)"
                     " VALUES (?, ?, ?, ?, ?, 'own')",
                     (me.device, path.name, st.st_size, st.st_mtime_ns, seq))
        conn.execute("UPDATE sync_devices SET last_seq = ?, last_at = ? WHERE idx = ?",
                     (seq, now_ms, me.idx))
    for name in damaged.values():  # its records are in the new segment: no reader needs it
        try:
            (folder / name).unlink()
        except OSError:
            pass
    return ExportResult(sent=len(records) + len(reviews), seq=seq, reexported=missing)


MAX_OWN = 1 << 30  # an own segment larger than this is not one this store wrote


def _damaged(db: Database, folder: Path, me: Device, files: dict, on_disk: dict) -> dict:
    """Own segments whose size or time changed since they were written (bit rot, a bad
    copy, an edit), and that are no longer whole: seq -> name, to be written again. One
    that changed but is still whole is noted as it is now, and not read again."""
    damaged, fine = {}, []
    for seq, name in on_disk.items():
        if seq not in files or files[seq][0] != name:
            continue
        try:
            st = (folder / name).stat()
            if (st.st_size, st.st_mtime_ns) == files[seq][1:]:
                continue
            if st.st_size > MAX_OWN:
                raise segment.Incomplete("too large")
            with segment.open_regular(folder / name) as f:
                seg = segment.decode(f.read())
            if seg.header.get("device") != me.device or seg.header.get("seq") != seq:
                raise segment.Bad("another segment")
        except OSError:
            continue  # cannot tell now: looked at again next time
        except (segment.Incomplete, segment.Bad, segment.Newer):  # not what this store wrote
            damaged[seq] = name
            continue
        fine.append((st.st_size, st.st_mtime_ns, me.device, name))
    if fine:
        with db.atomic() as conn:
            conn.executemany("UPDATE sync_files SET size = ?, mtime_ns = ? WHERE device = ?"
                             " AND name = ?", fine)
    return damaged


def _behind(conn, me: Device) -> list[int]:
    """The cards answered here, in what goes out now, before (by this machine's clock) an
    answer from another device that this store holds already: every other device orders
    this answer before that one and replays the card; so must this store (`_replay_cards`,
    in the transaction that records it sent). An answer newer than every other was
    scheduled from the merged card, as a replay does it: nothing to do."""
    if conn.execute("SELECT 1 FROM sync_map WHERE tbl = 'revlog' AND dev != ? AND row IS NOT"
                    " NULL LIMIT 1", (me.idx,)).fetchone() is None and conn.execute(
            "SELECT 1 FROM sync_runs WHERE dev != ? LIMIT 1", (me.idx,)).fetchone() is None:
        return []  # nothing from another device here
    return [card for (card,) in conn.execute(
        "SELECT s.card FROM (SELECT r.card AS card, MIN(r.reviewed_at) AS first"
        "  FROM sync_outbox o JOIN revlog r ON r.id = o.row"
        "  WHERE o.tbl = 'revlog' AND o.un IS NOT NULL AND r.cram = 0 GROUP BY r.card) s"
        " WHERE EXISTS (SELECT 1 FROM revlog x JOIN sync_map m ON m.tbl = 'revlog'"
        "  AND m.row = x.id WHERE x.card = s.card AND x.cram = 0 AND m.dev != ?"
        "  AND x.reviewed_at >= s.first)"
        " OR EXISTS (SELECT 1 FROM revlog x " + RUN_OF.format(x="x")
        + "  WHERE x.card = s.card AND x.cram = 0 AND u.dev != ? AND x.reviewed_at >= s.first)",
        (me.idx, me.idx))]


def _replay_cards(conn, cards: list[int], values: dict) -> None:
    if not cards:
        return
    from quizforge.scheduling.config import Config
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store.cards import write_schedule
    from quizforge.sync.merge import rebuild

    scheduler = Scheduler(Config.from_dict(values))
    for card in cards:
        write_schedule(conn, card, rebuild(conn, scheduler, card))


def _runs(rows) -> list[tuple[int, int, int]]:
    """(n, lo, hi) for each stretch of `rows` (of _REVIEW_SQL, sorted by id: id first,
    uid number tenth) whose ids and numbers both go up one by one."""
    if not rows:
        return []
    rows = sorted(rows)
    ids, ns = list(map(_ID, rows)), list(map(_UN, rows))
    ends = [*compress(range(1, len(ids)), map(or_, map(ne, map(sub, islice(ids, 1, None), ids),
                                                       repeat(1)),
                                              map(ne, map(sub, islice(ns, 1, None), ns),
                                                  repeat(1)))), len(ids)]
    out, start = [], 0
    for end in ends:
        out.append((ns[start], ids[start], ids[end - 1]))
        start = end
    return out


_REVIEW_SQL = (
    "SELECT r.id, r.card, r.reviewed_at, r.rating, r.duration_ms, r.state_before,"
    " r.interval_days, r.elapsed_days, r.cram, {extra} FROM {src}"
    " JOIN revlog r ON r.id = {key}"
)


# of a row of _REVIEW_SQL: its id, its uid number
_ID, _UN = itemgetter(0), itemgetter(9)


class Records:
    """The records of one export: the outbox, unsent suspension events and undos, and the
    contents of own segments found missing (same uids)."""

    def __init__(self, db: Database, me: Device, missing: list[int]) -> None:
        self.db, self.me, self.missing = db, me, missing
        self.conn = db.conn
        self.cards: list[list] = []  # [deck, card, kind] the answers' rows point to
        self.exact: list[tuple[int, int, int]] = []  # (interval, uid number, review-log id)
        # of answers whose interval sent is a due time minus the answer's (not the log's
        # interval in days)
        self.runs: list[tuple[int, int, int]] = []  # (n, lo, hi): the new answers' uids
        self.outbox = self.conn.execute(
            "SELECT tbl, row, udev, un FROM sync_outbox WHERE un IS NOT NULL AND tbl != 'revlog'"
        ).fetchall()
        self.answers = self.conn.execute(
            "SELECT COUNT(*) FROM sync_outbox WHERE tbl = 'revlog' AND un IS NOT NULL"
        ).fetchone()[0]
        marks = ",".join("?" * len(missing))
        self.resend = self.conn.execute(
            f"SELECT tbl, row, n, undone FROM sync_map WHERE dev = ? AND seg IN ({marks})",
            (me.idx, *missing)).fetchall() if missing else []
        self.events = self.conn.execute(
            "SELECT n, deck_id, card_id, suspended, at FROM sync_events WHERE dev = ? AND"
            f" (seg IS NULL{f' OR seg IN ({marks})' if missing else ''})",
            (me.idx, *missing)).fetchall()
        self.undos = self.conn.execute(
            "SELECT m.dev, m.n, d.device FROM sync_map m JOIN sync_devices d ON d.idx = m.dev"
            " WHERE m.undo_sent = 0").fetchall()

    def all(self):
        """Every record but the answers (`reviews`)."""
        for tbl, row, _, un in self.outbox:
            if tbl == "attempt":
                rec = self._attempt(row, un)
            elif tbl == "mock":
                rec = self._mock(row, un)
            elif tbl == "setting":
                rec = self._setting(row)
            else:
                continue
            if rec is not None:
                yield rec
        for tbl, row, n, undone in self.resend:
            if undone:
                yield {"t": "undo", "uid": f"{self.me.device}/{n}"}
            elif tbl == "attempt":
                rec = self._attempt(row, n)
                if rec is not None:
                    yield rec
            elif tbl in ("mock", "setting"):
                rec = self._mock(row, n) if tbl == "mock" else self._setting(row)
                if rec is not None:
                    yield rec
        for n, deck, card, value, at in self.events:
            yield {"t": "suspend" if value else "unsuspend", "n": n, "deck": deck, "card": card,
                   "at": at}
        for _, n, device in self.undos:
            yield {"t": "undo", "uid": f"{device}/{n}"}

    def reviews(self) -> segment.Rows | list:
        """The answers to send (new ones, and those of missing own segments), as rows of
        segment.REVIEW_COLUMNS in the order they were written (kept a column at a time)."""
        rows = []
        cur = self.conn.cursor()
        cur.row_factory = None  # plain tuples: a million of them
        if self.answers:
            rows += cur.execute(_REVIEW_SQL.format(
                extra="o.un, o.state IS NOT NULL, o.due", src="sync_outbox o", key="o.row")
                + " WHERE o.tbl = 'revlog' AND o.un IS NOT NULL").fetchall()
            self.runs = _runs(rows)
        if self.missing:  # from sync_map, and from the runs of sync_runs
            marks = ",".join("?" * len(self.missing))
            rows += cur.execute(
                _REVIEW_SQL.format(extra="m.n, 0, NULL", src="sync_map m", key="m.row")
                + f" WHERE m.tbl = 'revlog' AND m.dev = ? AND m.seg IN ({marks})",
                (self.me.idx, *self.missing)).fetchall()
            rows += cur.execute(
                "SELECT r.id, r.card, r.reviewed_at, r.rating, r.duration_ms, r.state_before,"
                " r.interval_days, r.elapsed_days, r.cram, u.n + r.id - u.lo, 0, NULL"
                " FROM sync_runs u JOIN revlog r ON r.id BETWEEN u.lo AND u.hi"
                f" WHERE u.dev = ? AND u.seg IN ({marks}) AND NOT EXISTS (SELECT 1 FROM"
                " sync_map o WHERE o.dev = u.dev AND o.n = u.n + r.id - u.lo)",
                (self.me.idx, *self.missing)).fetchall()
        if not rows:
            return []
        rows.sort()
        return self._review_rows(rows)

    def _newest(self, card_ids) -> set[int]:
        """The newest scheduled answer of each of these cards: its record carries the card
        row as it is now (exact due; right even where the answer was written before its
        schedule, as `import --with-history` does)."""
        conn = self.conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS sync_cards (id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM sync_cards")
        conn.executemany("INSERT OR IGNORE INTO sync_cards (id) VALUES (?)",
                         ((c,) for c in card_ids))
        # the latest time of each card's answers, then the last-written answer at that time
        # (CROSS JOIN: from the cards to their answers, never a scan of the log for a few)
        newest = {rid for (rid,) in conn.execute(
            "SELECT MAX(r.id) FROM (SELECT s.id AS card, (SELECT MAX(x.reviewed_at) FROM revlog x"
            "  WHERE x.card = s.id AND x.cram = 0) AS at FROM sync_cards s) m"
            " CROSS JOIN revlog r ON r.card = m.card AND r.reviewed_at = m.at"
            " WHERE r.cram = 0 GROUP BY m.card")}
        conn.execute("DELETE FROM sync_cards")
        return newest

    def _review_rows(self, rows) -> segment.Rows:
        """Rows to send, from (id, card, at, rating, ms, before, interval days, elapsed,
        cram, uid number, has a snapshot, snapshot due) sorted by id. The last answer of
        each card in the segment carries its schedule (`after`): the card row as it is now
        if that answer is the card's newest, else the one the outbox kept when it was
        written; every other answer carries none (a reader never uses it)."""
        conn = self.conn
        ids = {r[1] for r in rows}
        newest = self._newest(ids)
        # A card whose newest answer goes out in this segment: that answer is its last here.
        # For the others, the last here by (time, number), found among their rows only.
        covered = {r[1] for r in rows if r[0] in newest}
        rest = ids - covered
        last: dict[int, tuple] = {}
        for r in ([r for r in rows if r[1] in rest and not r[8]] if rest else ()):
            key = (r[2], r[9])
            if r[1] not in last or key > last[r[1]][0]:
                last[r[1]] = (key, r[0])
        lasts = {rid for _, rid in last.values()}
        sql = "SELECT id, deck_id, card_id, kind FROM cards"
        if len(ids) <= 2000:
            sql += " WHERE id IN (%s)" % ",".join(map(str, ids))
        info = {i: [d, c, k] for i, d, c, k in conn.execute(sql)}
        order = sorted(ids)
        self.cards = [info[c] for c in order]  # the segment's card list
        place = {c: i for i, c in enumerate(order)}
        day = 86_400_000
        # every answer, as it goes out when it is no card's last here, a column at a time
        # (a million of them); the interval sent is its due minus its time where the
        # outbox kept the schedule it left, else the log's interval in ms
        (rids, cards, ats, ratings, mss, befores, ivl_days, elapseds, crams, ns, snaps,
         dues) = map(list, zip(*rows))
        ivls = [round(d * day) for d in ivl_days]
        for i in compress(range(len(rows)), snaps):
            if dues[i] is not None and not crams[i]:
                ivls[i] = dues[i] - ats[i]
        afters: list = [None] * len(rows)
        from quizforge.store.cards import card_columns  # as write_schedule: not on every start

        states = card_columns(conn, covered, "state, step, stability, difficulty, due, reps,"
                              " lapses, leech")
        special = newest | lasts
        specials = list(compress(range(len(rows)), map(special.__contains__, rids)))
        for i in specials:
            rid = rids[i]
            if rid in newest:  # the card's newest answer: the card row as it is now
                afters[i] = after = list(states[cards[i]])
                ivls[i] = after[4] - ats[i] if after[4] is not None else round(ivl_days[i] * day)
            elif snaps[i] and not crams[i]:  # the last here: the schedule the outbox kept
                afters[i] = list(conn.execute(
                    "SELECT state, step, stability, difficulty, due, reps, lapses, leech"
                    " FROM sync_outbox WHERE tbl = 'revlog' AND row = ?", (rid,)).fetchone())
        # the map of sent answers keeps an interval only where it is not the log's: only an
        # answer whose outbox kept a schedule, or one just given its card's, may have another
        maybe = sorted({*specials, *compress(range(len(rows)), snaps)})
        self.exact = [(ivls[i], ns[i], rids[i]) for i in maybe
                      if ivls[i] != round(ivl_days[i] * day)]
        places = list(map(place.__getitem__, cards))
        return segment.Rows([ns, places, ats, ratings, mss, befores, ivls, elapseds, crams,
                             afters])

    def _attempt(self, row: int, n: int) -> dict | None:
        a = self.conn.execute(
            "SELECT a.*, c.deck_id, c.card_id, c.kind AS card_kind FROM drill_attempts a"
            " LEFT JOIN cards c ON c.id = a.card WHERE a.id = ?", (row,)).fetchone()
        if a is None:
            return None
        return {"t": "attempt", "n": n, "at": a["attempted_at"], "generator": a["generator"],
                "difficulty": a["difficulty"], "form": a["form"], "seed": a["seed"],
                "skills": a["skills"], "correct": a["correct"], "score": a["score"],
                "ms": a["duration_ms"], "solved": a["solved"], "tries": a["tries"],
                "hints": a["hints"], "revealed": a["revealed"], "rating": a["rating"],
                "deck": a["deck_id"], "card": a["card_id"], "kind": a["card_kind"]}

    def _mock(self, row: int, n: int) -> dict | None:
        r = self.conn.execute("SELECT * FROM mock_rounds WHERE id = ?", (row,)).fetchone()
        if r is None:
            return None
        answers = []
        # the uid of each answer's review: from sync_map, or a run of sync_runs
        uids = ("SELECT m.row AS row, m.dev AS dev, m.n AS n FROM sync_map m"
                " WHERE m.tbl = 'revlog' AND m.row IN (SELECT revlog FROM mock_answers"
                " WHERE round = ?1) UNION ALL SELECT x.id, u.dev, u.n + x.id - u.lo"
                " FROM revlog x " + RUN_OF.format(x="x")
                + " WHERE x.id IN (SELECT revlog FROM mock_answers WHERE round = ?1)")
        for a in self.conn.execute(
                "SELECT a.*, c.deck_id, c.card_id, d.device, m.n AS un, o.un AS on_"
                " FROM mock_answers a"
                " JOIN cards c ON c.id = a.card"
                f" LEFT JOIN ({uids}) m ON m.row = a.revlog"
                " LEFT JOIN sync_devices d ON d.idx = m.dev"
                " LEFT JOIN sync_outbox o ON o.tbl = 'revlog' AND o.row = a.revlog"
                " WHERE a.round = ?1 ORDER BY a.position", (row,)):
            uid = (f"{a['device']}/{a['un']}" if a["un"] is not None
                   else f"{self.me.device}/{a['on_']}" if a["on_"] is not None else None)
            answers.append({"position": a["position"], "deck": a["deck_id"], "card": a["card_id"],
                            "kind": a["kind"], "topics": a["topics"], "skills": a["skills"],
                            "score": a["score"], "rating": a["rating"], "at": a["answered_at"],
                            "ms": a["duration_ms"], "review": uid})
        return {"t": "mock", "n": n, "started_at": r["started_at"], "ended_at": r["ended_at"],
                "minutes": r["minutes"], "planned": r["planned"], "seed": r["seed"],
                "decks": r["decks"], "tags": r["tags"], "ended": r["ended"], "answers": answers}

    def _setting(self, row: int) -> dict | None:
        s = self.conn.execute("SELECT key, value, at FROM sync_settings WHERE rowid = ?",
                              (row,)).fetchone()
        if s is None:
            return None
        return {"t": "setting", "key": s[0], "value": json.loads(s[1]), "at": s[2]}

    def record_sent(self, conn, seq: int) -> None:
        # the answers: a row of sync_runs for each run of them (numbers and ids one after
        # another); the interval sent is kept in sync_map where it is not the log's interval
        # in days (a reader falls back to that one)
        conn.executemany("INSERT INTO sync_runs (dev, n, lo, hi, seg) VALUES (?, ?, ?, ?, ?)",
                         ((self.me.idx, n, lo, hi, seq) for n, lo, hi in self.runs))
        if self.missing:
            marks = ",".join("?" * len(self.missing))
            conn.execute("UPDATE sync_map SET ivl_ms = NULL WHERE dev = ? AND tbl = 'revlog'"
                         f" AND seg IN ({marks})", (self.me.idx, *self.missing))
            conn.execute(f"UPDATE sync_runs SET seg = ? WHERE dev = ? AND seg IN ({marks})",
                         (seq, self.me.idx, *self.missing))
        conn.executemany("INSERT OR REPLACE INTO sync_map (dev, n, tbl, row, seg, ivl_ms)"
                         " VALUES (?, ?, 'revlog', ?, ?, ?)",
                         ((self.me.idx, n, rid, seq, ivl) for ivl, n, rid in self.exact))
        conn.execute("DELETE FROM sync_outbox WHERE tbl = 'revlog' AND un IS NOT NULL")
        conn.executemany(
            "INSERT OR REPLACE INTO sync_map (dev, n, tbl, row, seg) VALUES (?, ?, ?, ?, ?)",
            ((udev, un, tbl, row, seq) for tbl, row, udev, un in self.outbox))
        conn.executemany("DELETE FROM sync_outbox WHERE tbl = ? AND row = ? AND un = ?",
                         ((tbl, row, un) for tbl, row, _, un in self.outbox))
        conn.executemany("UPDATE sync_events SET seg = ? WHERE dev = ? AND n = ?",
                         ((seq, self.me.idx, e[0]) for e in self.events))
        conn.executemany("UPDATE sync_map SET undo_sent = 1, seg = ? WHERE dev = ? AND n = ?",
                         ((seq, dev, n) for dev, n, _ in self.undos))
        conn.executemany("UPDATE sync_map SET seg = ? WHERE dev = ? AND n = ?",
                         ((seq, self.me.idx, n) for _, _, n, _ in self.resend))
