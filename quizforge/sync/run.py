"""One sync: claim this store's folder, export, import, and (in a git work tree) commit."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from quizforge.scheduling.config import Config, ConfigError
from quizforge.scheduling.scheduler import Scheduler
from quizforge.store.db import Database
from quizforge.sync import segment
from quizforge.sync.device import Device, claim_folder, local_device
from quizforge.sync.errors import SyncError
from quizforge.sync.export import export
from quizforge.sync.merge import import_all


@dataclass
class SyncResult:
    sent: int = 0
    received: int = 0
    devices: int = 0
    cards_updated: int = 0
    pending: int = 0
    device: str = ""
    segment: str | None = None
    notes: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def line(self) -> str:
        dev = "device" if self.devices == 1 else "devices"
        return (f"sent {self.sent}, received {self.received} from {self.devices} {dev},"
                f" cards updated {self.cards_updated}")

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def sync_root(folder: Path, write: bool = True) -> Path:
    """DIR/quizforge-sync, after checking DIR: it exists, is a folder, can be written."""
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise SyncError(f"sync folder {folder} does not exist (create it, or point sync_dir"
                        " at the folder your sync tool keeps in step)")
    if not folder.is_dir():
        raise SyncError(f"sync folder {folder} is not a directory")
    root = folder / segment.ROOT
    probe = root if root.exists() else folder
    if write and not os.access(probe, os.W_OK | os.X_OK):
        raise SyncError(f"sync folder {probe} is read-only: quizforge writes its own"
                        " segments there")
    return root


@contextmanager
def _one_at_a_time(db: Database):
    """One sync of a store at a time (two terminals on one machine): an exclusive lock on
    a file beside the store, held for the whole sync, so that a second waits for the first
    and then finds nothing left to send instead of writing the same records again."""
    try:
        import fcntl
    except ImportError:  # not POSIX: readers drop records they already have anyway
        yield
        return
    try:
        lock = open(Path(db.path).with_name(Path(db.path).name + ".sync-lock"), "a")
    except OSError:  # a store folder we cannot write: the sync itself says so
        yield
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def sync(db: Database, folder: Path, now: datetime, config: Config,
         apply_settings=None) -> SyncResult:
    """Export this store's new records to `folder`, then import every other device's.

    `apply_settings(changes)` saves settings another device changed later (the CLI writes
    config.toml); the replay uses the config with them."""
    if db.read_only:
        raise SyncError("the store is read-only here: sync needs to write it")
    with _one_at_a_time(db):
        return _sync(db, folder, now, config, apply_settings)


def _sync(db: Database, folder: Path, now: datetime, config: Config,
          apply_settings=None) -> SyncResult:
    root = sync_root(folder)
    try:
        root.mkdir(exist_ok=True)
        me = local_device(db, now)
        me = claim_folder(db, root, me, now)
    except OSError as e:
        raise SyncError(f"cannot write to the sync folder {folder}: {e.strerror or e}") from None
    result = SyncResult(device=me.device)
    if me.renamed_from:
        result.notes.append(
            f"this store is a copy of device {me.renamed_from[:8]} (its folder belongs to"
            f" another store): it syncs as new device {me.device[:8]} from now on")
    values = config.to_dict()
    try:
        ex = export(db, root, me, now, values, Config().to_dict())
    except OSError as e:
        raise SyncError(f"cannot write to the sync folder {folder}: {e.strerror or e}") from None
    result.sent = ex.sent
    if ex.seq is not None:
        result.segment = segment.segment_name(ex.seq)
    if ex.reexported:
        seqs = ", ".join(str(s) for s in ex.reexported)
        result.notes.append(f"this device's segment(s) {seqs} were missing from the sync folder:"
                            " written again from the store")

    applied: dict = {}

    def settings_hook(changes: dict):
        # a setting this quizforge does not know (a newer version's) or cannot take (a bad
        # value) is left out, with a note: one such record must not stop every sync
        usable = {}
        for key, value in changes.items():
            try:
                Config.from_dict({**values, key: value})
            except (ConfigError, TypeError, ValueError):
                result.notes.append(f"setting {key!r} from another machine left out: this"
                                    f" quizforge cannot use the value {value!r}"[:300])
                continue
            usable[key] = value
        applied.update(usable)
        merged = {**values, **usable}
        cfg = Config.from_dict(merged)
        if apply_settings is not None:
            apply_settings(cfg)
        return Scheduler(cfg)

    try:
        im = import_all(db, root, me, now, Scheduler(config), settings_hook)
    except _BAD_RECORD as e:
        # A segment another machine (or anyone) wrote holds a record this quizforge cannot
        # use: the import's transaction is rolled back, what this store sent stays sent.
        why = f"{type(e).__name__}: {e}"
        raise SyncError("a segment in the sync folder holds a record this quizforge cannot"
                        f" use ({why[:200]}); nothing was read, this machine's answers were"
                        " sent") from None
    result.received, result.devices = im.received, im.devices
    result.cards_updated, result.pending = im.cards_updated, im.pending
    result.notes += im.notes
    result.settings = {k: v for k, v in im.settings.items() if k in applied}
    if ex.seq is not None:
        note = git_commit(Path(folder), root / me.device, me, ex.seq)
        if note:
            result.notes.append(note)
    return result


# what reading a hostile or damaged record can raise (json, int(), a missing key, a CHECK
# constraint of the store, a date out of range, nesting too deep, a file too big)
_BAD_RECORD = (KeyError, ValueError, TypeError, AttributeError, IndexError, OverflowError,
               RecursionError, MemoryError, sqlite3.IntegrityError)


def git_commit(folder: Path, own: Path, me: Device, seq: int) -> str | None:
    """In a git work tree, commit this device's folder (the learner pushes and pulls).
    Returns a warning, or None."""
    try:
        inside = subprocess.run(["git", "-C", str(folder), "rev-parse", "--is-inside-work-tree"],
                                capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None  # no git here
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    msg = f"quizforge sync: {me.name} ({me.device[:8]}) segment {seq}"
    for cmd in (["git", "-C", str(own), "add", "--", "."],
                ["git", "-C", str(own), "commit", "-q", "-m", msg, "--", "."]):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            return f"git {cmd[3]} failed: {e}"
        if r.returncode != 0:
            why = (r.stderr or r.stdout).strip().splitlines()
            return f"git {cmd[3]} failed: {why[-1] if why else f'exit {r.returncode}'}"
    return None
