"""Export: what this store wrote since its last sync, as one new segment in its folder.

The rows to send are listed in sync_outbox (triggers fill it). Their uids are handed out and
committed first; the file is written and renamed into place; only then is the sending
recorded (sync_map, one transaction). A sync killed between the two writes the same records
again, with the same uids, next time: readers drop what they already have.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
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


def note_settings(conn, me: Device, values: dict, defaults: dict, now_ms: int) -> None:
    """A setting whose value differs from the one last synced was changed here: stamp it."""
    known = {k: v for k, v in conn.execute("SELECT key, value FROM sync_settings")}
    for key, value in values.items():
        text = _json(value)
        if key not in known:  # first sync: the default is where everyone starts
            known[key] = _json(defaults.get(key))
            conn.execute("INSERT INTO sync_settings (key, value, at, device) VALUES (?, ?, 0, '')",
                         (key, known[key]))
        if text != known[key]:
            conn.execute("UPDATE sync_settings SET value = ?, at = ?, device = ? WHERE key = ?",
                         (text, now_ms, me.device, key))
            rowid = conn.execute("SELECT rowid FROM sync_settings WHERE key = ?",
                                 (key,)).fetchone()[0]
            conn.execute("INSERT OR IGNORE INTO sync_outbox (tbl, row) VALUES ('setting', ?)",
                         (rowid,))


def note_suspensions(conn, me: Device, now_ms: int) -> int:
    """Cards suspended or unsuspended here since the last sync (by any means: `s` in study,
    `cards unsuspend`, a leech) become suspend/unsuspend events. Returns how many."""
    now_set = {r[0] for r in conn.execute("SELECT id FROM cards WHERE suspended = 1")}
    known = {r[0] for r in conn.execute("SELECT card FROM sync_suspended")}
    if now_set == known:
        return 0
    changes = [(c, 1) for c in now_set - known] + [(c, 0) for c in known - now_set]
    n = 0
    for card, value in sorted(changes):
        row = conn.execute("SELECT deck_id, card_id FROM cards WHERE id = ?", (card,)).fetchone()
        if row is None:
            continue
        conn.execute("INSERT INTO sync_events (dev, n, deck_id, card_id, suspended, at)"
                     " VALUES (?, ?, ?, ?, ?, ?)", (me.idx, _next_n(conn), row[0], row[1], value,
                                                    now_ms))
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


def _allocate(conn, me: Device) -> None:
    """Give every outbox row a uid: the one it was sent with before (a mock round that went
    on, a setting changed again), else the next number."""
    rows = conn.execute(
        "SELECT tbl, row FROM sync_outbox WHERE un IS NULL ORDER BY tbl, row").fetchall()
    if not rows:
        return
    first = conn.execute("SELECT next_n FROM sync_device").fetchone()[0]
    n = first
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
    now_ms = to_ms(now)
    folder = root / me.device
    with db.atomic() as conn:
        note_settings(conn, me, synced_settings(values), defaults, now_ms)
        note_suspensions(conn, me, now_ms)
        _allocate(conn, me)
    _drop_stale_temps(folder)
    on_disk = own_segments_on_disk(folder)
    recorded = {seq for (seq,) in db.conn.execute(
        "SELECT seq FROM sync_files WHERE device = ? AND status = 'own'", (me.device,))}
    missing = sorted(recorded - set(on_disk))
    parts = Records(db, me, missing)
    records = list(parts.all())
    if not records:
        return ExportResult(reexported=[])
    last = max([0, *recorded, *on_disk])
    seq = last + 1
    header = {"device": me.device, "seq": seq, "written_at": now_ms, "name": me.name}
    data = segment.encode(header, records)
    path = folder / segment.segment_name(seq)
    segment.write_atomic(path, data, "before-rename")
    segment.pause("after-rename")
    st = path.stat()
    with db.atomic() as conn:
        parts.record_sent(conn, seq)
        conn.execute("DELETE FROM sync_files WHERE device = ? AND status = 'own' AND seq IN (%s)"
                     % ",".join("?" * len(missing)), (me.device, *missing))
        conn.execute("INSERT OR REPLACE INTO sync_files (device, name, size, mtime_ns, seq, status)"
                     " VALUES (?, ?, ?, ?, ?, 'own')",
                     (me.device, path.name, st.st_size, st.st_mtime_ns, seq))
        conn.execute("UPDATE sync_devices SET last_seq = ?, last_at = ? WHERE idx = ?",
                     (seq, now_ms, me.idx))
    return ExportResult(sent=len(records), seq=seq, reexported=missing)


_REVIEW_SQL = (
    "SELECT r.id, r.reviewed_at, r.rating, r.duration_ms, r.state_before, r.interval_days,"
    " r.elapsed_days, r.cram, c.deck_id, c.card_id, c.kind, r.card {extra} FROM {src}"
    " JOIN revlog r ON r.id = {key} JOIN cards c ON c.id = r.card"
)
_CARD_STATE = "c.state, c.step, c.stability, c.difficulty, c.due, c.reps, c.lapses, c.leech"


class Records:
    """The records of one export: the outbox, unsent suspension events and undos, and the
    contents of own segments found missing (same uids)."""

    def __init__(self, db: Database, me: Device, missing: list[int]) -> None:
        self.db, self.me, self.missing = db, me, missing
        self.conn = db.conn
        self.intervals: dict[int, int] = {}  # uid number -> interval sent (reviews)
        self.outbox = self.conn.execute(
            "SELECT tbl, row, udev, un FROM sync_outbox WHERE un IS NOT NULL").fetchall()
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
        yield from self._reviews()
        yield from self._resent_reviews()
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

    def _newest(self, card_ids) -> set[int]:
        """The newest scheduled answer of each of these cards: its record carries the card
        row as it is now (exact due; right even where the answer was written before its
        schedule, as `import --with-history` does)."""
        if not card_ids:
            return set()
        conn = self.conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS sync_cards (id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM sync_cards")
        conn.executemany("INSERT OR IGNORE INTO sync_cards (id) VALUES (?)",
                         ((c,) for c in card_ids))
        newest = {}
        for card, rid in conn.execute(
                # CROSS JOIN: from the few cards to their answers, never a scan of the log
                "SELECT r.card, r.id FROM sync_cards s CROSS JOIN revlog r ON r.card = s.id"
                " WHERE r.cram = 0 ORDER BY r.card, r.reviewed_at, r.id"):
            newest[card] = rid
        conn.execute("DELETE FROM sync_cards")
        return set(newest.values())

    def _reviews(self):
        sql = _REVIEW_SQL.format(
            extra=", o.state, o.step, o.stability, o.difficulty, o.due, o.reps, o.lapses,"
                  " o.leech, o.un, " + _CARD_STATE, src="sync_outbox o", key="o.row")
        rows = self.conn.execute(sql + " WHERE o.tbl = 'revlog' AND o.un IS NOT NULL").fetchall()
        yield from self._review_records(rows)

    def _resent_reviews(self):
        if not self.resend:
            return
        marks = ",".join("?" * len(self.missing))
        sql = _REVIEW_SQL.format(
            extra=", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, m.n, " + _CARD_STATE,
            src="sync_map m", key="m.row")
        rows = self.conn.execute(
            sql + f" WHERE m.tbl = 'revlog' AND m.dev = ? AND m.seg IN ({marks})",
            (self.me.idx, *self.missing)).fetchall()
        yield from self._review_records(rows)

    def _review_records(self, rows):
        rows.sort(key=lambda r: r[0])
        newest = self._newest({r[11] for r in rows})
        for r in rows:
            (rid, at, rating, ms, before, ivl_days, elapsed, cram, deck, card, kind, _card,
             s, step, stab, diff, due, reps, lapses, leech, n,
             cs, cstep, cstab, cdiff, cdue, creps, clapses, cleech) = r
            if rid in newest:
                after = [cs, cstep, cstab, cdiff, cdue, creps, clapses, cleech]
                due = cdue
            elif s is not None and not cram:
                after = [s, step, stab, diff, due, reps, lapses, leech]
            else:
                after, due = None, None
            ivl = due - at if due is not None and not cram else round(ivl_days * 86_400_000)
            self.intervals[n] = ivl
            yield {"t": "review", "n": n, "deck": deck, "card": card, "kind": kind, "at": at,
                   "rating": rating, "ms": ms, "before": before, "ivl_ms": ivl,
                   "elapsed": elapsed, "cram": cram, "after": after}

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
        for a in self.conn.execute(
                "SELECT a.*, c.deck_id, c.card_id, d.device, m.n AS un, o.un AS on_"
                " FROM mock_answers a"
                " JOIN cards c ON c.id = a.card"
                " LEFT JOIN sync_map m ON m.tbl = 'revlog' AND m.row = a.revlog"
                " LEFT JOIN sync_devices d ON d.idx = m.dev"
                " LEFT JOIN sync_outbox o ON o.tbl = 'revlog' AND o.row = a.revlog"
                " WHERE a.round = ? ORDER BY a.position", (row,)):
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
        ivls = self.intervals
        conn.executemany(
            "INSERT OR REPLACE INTO sync_map (dev, n, tbl, row, seg, ivl_ms)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            ((udev, un, tbl, row, seq, ivls.get(un) if tbl == "revlog" else None)
             for tbl, row, udev, un in self.outbox))
        resent = {n for _, _, n, _ in self.resend}
        conn.executemany("UPDATE sync_map SET ivl_ms = ? WHERE dev = ? AND n = ?",
                         ((ivls[n], self.me.idx, n) for n in resent if n in ivls))
        conn.executemany("DELETE FROM sync_outbox WHERE tbl = ? AND row = ? AND un = ?",
                         ((tbl, row, un) for tbl, row, _, un in self.outbox))
        conn.executemany("UPDATE sync_events SET seg = ? WHERE dev = ? AND n = ?",
                         ((seq, self.me.idx, e[0]) for e in self.events))
        conn.executemany("UPDATE sync_map SET undo_sent = 1, seg = ? WHERE dev = ? AND n = ?",
                         ((seq, dev, n) for dev, n, _ in self.undos))
        conn.executemany("UPDATE sync_map SET seg = ? WHERE dev = ? AND n = ?",
                         ((seq, self.me.idx, n) for _, _, n, _ in self.resend))
