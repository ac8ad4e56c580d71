"""`sync --status`: the devices seen in the folder, what is waiting, and what looks odd."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from quizforge.store.db import Database
from quizforge.sync import segment
from quizforge.sync.device import read_device_json
from quizforge.sync.merge import device_folders


@dataclass
class DeviceStatus:
    device: str
    name: str
    this: bool
    segments: int
    last_seq: int
    last_at: int | None  # ms: the newest segment's written-at, as read (None: not read yet)
    missing: list[int] = field(default_factory=list)  # sequence numbers absent from the folder


@dataclass
class Status:
    folder: str
    device: str | None  # None: this store has never synced
    devices: list[DeviceStatus]
    unsent: dict[str, int]  # local records not yet exported, by kind
    waiting: dict[str, int]  # foreign reviews waiting for a card, by deck
    conflict_copies: list[str]
    incomplete: list[str]
    bad: list[str]  # whole segments this quizforge cannot read (nothing of them applied)
    newer: list[str]  # segments of a newer format (read once quizforge here is updated)
    unread: int  # segments not read yet (the next sync reads them)

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        out["devices"] = [dict(d.__dict__) for d in self.devices]
        return out


def status(db: Database, root: Path) -> Status:
    row = db.conn.execute("SELECT device FROM sync_device").fetchone()
    me = row[0] if row else None
    names = {d: (n, seq, at) for d, n, seq, at in db.conn.execute(
        "SELECT device, name, last_seq, last_at FROM sync_devices")}
    files = {(d, n): s for d, n, s in db.conn.execute(
        "SELECT device, name, status FROM sync_files")}
    devices, copies, incomplete, bad, newer = [], [], [], [], []
    unread = 0
    for folder in device_folders(root):
        try:
            listing = sorted(os.listdir(folder))
        except OSError:
            continue
        seqs = []
        for name in listing:
            m = segment.SEGMENT.match(name)
            if m:
                seqs.append(int(m.group(1)))
            elif segment.is_conflict_copy(name):
                copies.append(f"{folder.name[:8]}/{name}")
            else:
                continue
            state = files.get((folder.name, name))
            if state == "incomplete":
                incomplete.append(f"{folder.name[:8]}/{name}")
            elif state == "bad":
                bad.append(f"{folder.name[:8]}/{name}")
            elif state is not None and state.startswith("newer-"):
                newer.append(f"{folder.name[:8]}/{name}")
            elif state is None and folder.name != me:
                unread += 1
        info = read_device_json(folder) or {}
        name, seq, at = names.get(folder.name, (info.get("name", ""), 0, None))
        top = max(seqs, default=0)
        # up to the newest sequence number seen: on disk, or read before (a newest segment
        # deleted since is missing too); one this store has read, or that a segment
        # written again replaces, is not missing here
        missing = sorted(s for s in set(range(1, max(top, seq or 0) + 1)) - set(seqs)
                         if files.get((folder.name, segment.segment_name(s)))
                         not in ("read", "replaced"))
        devices.append(DeviceStatus(folder.name, name or str(info.get("name", "")),
                                    folder.name == me, len(seqs), max(seq or 0, top), at, missing))
    devices.sort(key=lambda d: (not d.this, -(d.last_at or 0), d.device))
    unsent = {}
    # a store that never synced keeps no outbox (migration 0019): all it holds is unsent
    counts = db.conn.execute(
        "SELECT 'revlog', COUNT(*) FROM revlog UNION ALL SELECT 'attempt', COUNT(*) FROM"
        " drill_attempts UNION ALL SELECT 'mock', COUNT(*) FROM mock_rounds") if me is None \
        else db.conn.execute("SELECT tbl, COUNT(*) FROM sync_outbox GROUP BY tbl")
    for tbl, n in counts:
        if n:
            unsent[{"revlog": "answers", "attempt": "drill attempts", "mock": "mock rounds",
                    "setting": "settings"}.get(tbl, tbl)] = n
    undos = db.conn.execute("SELECT COUNT(*) FROM sync_map WHERE undo_sent = 0").fetchone()[0]
    if undos:
        unsent["undos"] = undos
    if me is not None:
        events = db.conn.execute(
            "SELECT COUNT(*) FROM sync_events e JOIN sync_devices d ON d.idx = e.dev"
            " WHERE d.device = ? AND e.seg IS NULL", (me,)).fetchone()[0]
        if events:
            unsent["suspensions"] = events
    waiting = dict(db.conn.execute(
        "SELECT deck_id, COUNT(*) FROM sync_pending GROUP BY deck_id ORDER BY deck_id"))
    return Status(str(root.parent), me, devices, unsent, waiting, copies, incomplete, bad,
                  newer, unread)
