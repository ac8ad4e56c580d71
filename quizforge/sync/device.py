"""This store's device id, and the folder in DIR that only it writes.

The device id (uuid4 hex) is made once per store. Beside it the store keeps a nonce, which
changes whenever the store file is found at a new place (host, path or inode: a copy, a
restored backup): `device.json` in the device's folder names the nonce of the store that
owns it, so a store copied from another (same device id) sees a different nonce there and
takes a new device id.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from quizforge.store.db import Database, to_ms
from quizforge.sync import segment
from quizforge.sync.errors import SyncError


@dataclass
class Device:
    device: str
    nonce: str
    name: str
    idx: int  # sync_devices.idx
    renamed_from: str | None = None  # the old id, when this store turned out to be a copy


def _location(db: Database) -> str:
    path = Path(str(db.path))
    try:
        ino = path.stat().st_ino
    except OSError:
        ino = 0
    return f"{socket.gethostname()}:{path.resolve()}:{ino}"


def device_idx(conn, device: str, name: str = "") -> int:
    row = conn.execute("SELECT idx, name FROM sync_devices WHERE device = ?", (device,)).fetchone()
    if row is not None:
        if name and row[1] != name:
            conn.execute("UPDATE sync_devices SET name = ? WHERE idx = ?", (name, row[0]))
        return row[0]
    return conn.execute("INSERT INTO sync_devices (device, name) VALUES (?, ?)",
                        (device, name)).lastrowid


def local_device(db: Database, now: datetime) -> Device:
    """The store's device (made on first use); a new nonce if the store file has moved."""
    where = _location(db)
    with db.atomic() as conn:
        row = conn.execute("SELECT device, nonce, name, location FROM sync_device").fetchone()
        if row is None:
            device, nonce, name = uuid.uuid4().hex, uuid.uuid4().hex, hostname()
            list_all_unsent(conn)
            conn.execute("INSERT INTO sync_device (id, device, nonce, name, location, created_at)"
                         " VALUES (1, ?, ?, ?, ?, ?)", (device, nonce, name, where, to_ms(now)))
        else:
            device, nonce, name, location = row
            if location != where:
                nonce = uuid.uuid4().hex
                conn.execute("UPDATE sync_device SET nonce = ?, location = ?", (nonce, where))
        idx = device_idx(conn, device, name)
    return Device(device, nonce, name, idx)


# what the outbox lists of a store that has synced, and where it comes from
_UNSENT = (("revlog", "revlog"), ("attempt", "drill_attempts"), ("mock", "mock_rounds"))


def list_all_unsent(conn) -> None:
    """A store's first sync: every answer, drill attempt and mock round it holds goes into
    the outbox (until now no trigger listed them: migration 0019), as migration 0011 listed
    those of a store made before sync. A table whose rows the outbox lists already (all of
    them: the outbox of a store that never synced only ever lost rows with theirs) is not
    read again."""
    for tbl, table in _UNSENT:
        have = conn.execute("SELECT COUNT(*) FROM sync_outbox WHERE tbl = ?", (tbl,)).fetchone()[0]
        if have != conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]:
            conn.execute(f"INSERT OR IGNORE INTO sync_outbox (tbl, row) SELECT ?, id FROM {table}",
                         (tbl,))


def claim_folder(db: Database, root: Path, me: Device, now: datetime) -> Device:
    """Make sure `root/<device>` is this store's: write device.json if there is none; if it
    names another store's nonce, this store is a copy: give it a new device id (its answers
    not yet exported go out under the new one) and claim that folder instead."""
    folder = root / me.device
    if folder.is_symlink():  # what is written there would land outside the sync folder
        raise SyncError(f"{folder} is a symbolic link: quizforge writes this machine's"
                        " segments only inside the sync folder (replace the link by a folder)")
    info = read_device_json(folder)
    if info is not None and info.get("nonce") != me.nonce:
        old = me.device
        new_id, nonce = uuid.uuid4().hex, uuid.uuid4().hex
        with db.atomic() as conn:
            conn.execute("UPDATE sync_device SET device = ?, nonce = ?, name = ?, next_n = 1",
                         (new_id, nonce, hostname()))
            # uids handed out under the old id but not yet written down as sent: give them
            # anew under the new id (the old id's folder is the other store's)
            conn.execute("UPDATE sync_outbox SET udev = NULL, un = NULL")
            # what this store wrote under the old id counts as read from that device now
            conn.execute("UPDATE sync_files SET status = 'read'"
                         " WHERE device = ? AND status = 'own'", (old,))
            idx = device_idx(conn, new_id, hostname())
        me = Device(new_id, nonce, hostname(), idx, renamed_from=old)
        folder = root / me.device
        info = None
    if info is None:
        folder.mkdir(parents=True, exist_ok=True)
        data = {"device": me.device, "nonce": me.nonce, "name": me.name,
                "created_at": to_ms(now)}
        segment.write_atomic(folder / "device.json",
                             (json.dumps(data, indent=1) + "\n").encode())
    return me


def read_device_json(folder: Path) -> dict | None:
    try:
        with segment.open_regular(folder / "device.json") as f:
            data = json.loads(f.read(1 << 20).decode("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def hostname() -> str:
    return os.environ.get("QUIZFORGE_SYNC_NAME") or socket.gethostname()
