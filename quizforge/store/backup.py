"""Backups of the store, kept as Anki keeps them: at most one a study day, made when a
session ends, the newest of each of the last 7 days and of the 4 weeks before those.

A backup is a consistent copy made with SQLite's backup API (safe while another session
writes) into `backups/` beside the store, as a single file in rollback-journal mode.
Restoring checks the copy with integrity_check and that the disk has room for it, keeps the
current store aside as `replaced-….sqlite3`, and writes the copy into the store through the
same API, so a session that has the store open sees the restored data rather than a
swapped-out file.

Every file is written under a temporary name holding the writer's process id
(`….<pid>.tmp`) and renamed when complete: a killed backup or restore leaves only such
files, and the next backup, restore or `doctor --fix` deletes those whose process is gone.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

from quizforge.errors import StoreError
from quizforge.scheduling.days import study_day
from quizforge.store.db import (
    BUSY_TIMEOUT_MS,
    Database,
    StoreDamaged,
    connect_readonly,
    disk_full,
    free_bytes,
    full_message,
    quick_check_ok,
    size_text,
)
from quizforge.store.migrations import MIGRATIONS

DIR_NAME = "backups"
KEEP_DAILY = 7
KEEP_WEEKLY = 4
_NAME = re.compile(r"^quizforge-(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d)Z\.sqlite3$")
# What a killed backup or restore leaves: `NAME.<pid>.tmp` (and SQLite's -journal beside
# it), `STORE.<pid>.restoring`; `NAME.tmp` from quizforge before the pid was in the name.
_LEFTOVER = re.compile(
    r"^(?P<name>.+?)(?:\.(?P<pid>\d+))?\.(?:tmp|restoring)(?:-journal|-wal|-shm)?$")
STALE_AFTER_S = 3600  # a leftover without a pid: only once it is this old


def _tmp_name(final: Path) -> Path:
    return final.with_name(f"{final.name}.{os.getpid()}.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def leftovers(store_path: Path, now_ts: float | None = None) -> list[Path]:
    """Files a killed backup or restore left behind (their writer is gone)."""
    import time

    now_ts = time.time() if now_ts is None else now_ts
    found = []
    for folder, only_store in ((backups_dir(store_path), False), (store_path.parent, True)):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            m = _LEFTOVER.match(path.name)
            if not m or not path.is_file():
                continue
            if only_store and not path.name.startswith(store_path.name + "."):
                continue
            pid = m.group("pid")
            if pid is not None and int(pid) != os.getpid() and _alive(int(pid)):
                continue
            if pid is None:
                try:
                    if now_ts - path.stat().st_mtime < STALE_AFTER_S:
                        continue
                except OSError:
                    continue
            found.append(path)
    return sorted(found)


def clean_leftovers(store_path: Path) -> list[Path]:
    gone = []
    for path in leftovers(store_path):
        try:
            path.unlink()
            gone.append(path)
        except OSError:
            pass
    return gone


@dataclass(frozen=True)
class Backup:
    path: Path
    made_at: datetime  # UTC, from the file name
    size: int

    @property
    def name(self) -> str:
        return self.path.name


def backups_dir(store_path: Path) -> Path:
    return store_path.parent / DIR_NAME


def backup_name(now: datetime) -> str:
    return f"quizforge-{now.astimezone(UTC):%Y-%m-%dT%H-%M-%S}Z.sqlite3"


def list_backups(store_path: Path) -> list[Backup]:
    """The store's backups, newest first (files named as `backup_name` makes them)."""
    folder = backups_dir(store_path)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        m = _NAME.match(path.name)
        if m and path.is_file():
            made = datetime.strptime(m.group(1), "%Y-%m-%dT%H-%M-%S").replace(tzinfo=UTC)
            found.append(Backup(path, made, path.stat().st_size))
    return sorted(found, key=lambda b: b.made_at, reverse=True)


def make_backup(db: Database, now: datetime) -> Backup:
    """Copy the open store into backups/ now (a consistent snapshot, even mid-session of
    another process)."""
    store_path = Path(db.path)
    folder = backups_dir(store_path)
    clean_leftovers(store_path)
    final = folder / backup_name(now)
    tmp = _tmp_name(final)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(tmp)
        try:
            db.conn.backup(dest)
            # A single self-contained file: no -wal/-shm beside it, readable on a read-only disk.
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
        os.replace(tmp, final)
    except OSError as e:
        _remove(tmp)
        if e.errno == errno.ENOSPC:
            raise StoreError(f"cannot write a backup: {full_message(store_path)}") from None
        raise StoreError(f"cannot write a backup in {folder}: {e.strerror or e}") from None
    except sqlite3.Error as e:
        _remove(tmp)
        if getattr(e, "sqlite_errorname", "").startswith("SQLITE_FULL"):
            raise StoreError(f"cannot write a backup: {full_message(store_path)}") from None
        raise StoreError(f"cannot back up the store at {store_path}: {e}") from None
    return Backup(final, now.astimezone(UTC).replace(microsecond=0), final.stat().st_size)


def _remove(tmp: Path) -> None:
    for path in (tmp, Path(f"{tmp}-journal")):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def backup_due(backups: Sequence[Backup], now: datetime, starts_at: int = 4) -> bool:
    """True when no backup was made in the current study day."""
    today = study_day(now, starts_at)
    return not any(study_day(b.made_at, starts_at) == today for b in backups)


def to_keep(
    backups: Sequence[Backup],
    starts_at: int = 4,
    daily: int = KEEP_DAILY,
    weekly: int = KEEP_WEEKLY,
    tz: tzinfo | None = None,
) -> list[Backup]:
    """The newest backup of each of the `daily` most recent days that have one, then the
    newest of each of the `weekly` most recent weeks older than those days."""
    keep: list[Backup] = []
    days: set[date] = set()
    daily_weeks: set[tuple[int, int]] = set()
    weekly_weeks: set[tuple[int, int]] = set()
    for b in sorted(backups, key=lambda b: b.made_at, reverse=True):
        day = study_day(b.made_at, starts_at, tz)
        week = tuple(day.isocalendar())[:2]
        if len(days) < daily:
            if day not in days:
                days.add(day)
                daily_weeks.add(week)
                keep.append(b)
        elif len(weekly_weeks) < weekly:
            if week not in daily_weeks and week not in weekly_weeks:
                weekly_weeks.add(week)
                keep.append(b)
        else:
            break
    return keep


def prune(store_path: Path, starts_at: int = 4) -> list[Path]:
    """Delete the backups `to_keep` does not keep; returns what was deleted."""
    backups = list_backups(store_path)
    kept = {b.path for b in to_keep(backups, starts_at)}
    gone = []
    for b in backups:
        if b.path not in kept:
            b.path.unlink(missing_ok=True)
            gone.append(b.path)
    return gone


def auto_backup(db: Database, now: datetime, starts_at: int = 4) -> Backup | None:
    """At the end of a session: a backup if none was made this study day, then pruning."""
    if db.read_only or db.path == ":memory:":
        return None
    store_path = Path(db.path)
    if not backup_due(list_backups(store_path), now, starts_at):
        return None
    made = make_backup(db, now)
    check_made(made, store_path)
    prune(store_path, starts_at)
    return made


def check_made(made: Backup, store_path: Path) -> None:
    """A copy of a damaged store is no backup: never keep one (pruning could then drop the
    good ones). Its failing check is how a damage no command has read yet comes to light."""
    if not quick_check_ok(made.path):
        made.path.unlink(missing_ok=True)
        raise StoreDamaged(damaged_message(store_path, "a fresh backup of it fails quick_check"))


def verify(path: Path) -> list[str]:
    """What is wrong with a file as a quizforge store (empty: it can be restored)."""
    if not path.is_file():
        return ["no such file"]
    try:
        conn = connect_readonly(path)
    except sqlite3.Error as e:
        return [f"cannot open it ({e})"]
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if rows != ["ok"]:
            return [f"integrity_check: {r}" for r in rows]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"migrations", "cards", "revlog"} <= tables:
            return ["it is not a quizforge store (no cards, revlog and migrations tables)"]
        known = {name for name, _ in MIGRATIONS}
        newer = [r[0] for r in conn.execute("SELECT name FROM migrations") if r[0] not in known]
        if newer:
            return [f"it was written by a newer quizforge (migration {min(newer)!r})"]
        return []
    except sqlite3.Error as e:
        return [f"integrity_check: {e}"]
    finally:
        conn.close()


def resolve(store_path: Path, name: str | Path) -> Path:
    """A backup given by its name in backups/ or by any path."""
    path = Path(name).expanduser()
    if not path.exists() and len(path.parts) == 1:
        path = backups_dir(store_path) / path
    return path


def restore(store_path: Path, source: Path, now: datetime) -> Path | None:
    """Check `source`, keep the current store aside, and write `source` into the store.
    Returns where the replaced store was kept (None if there was none). Raises StoreError, changing nothing, if the
    copy fails its check."""
    problems = verify(source)
    if problems:
        raise StoreError(f"cannot restore {source}: {problems[0]}; nothing was changed")
    clean_leftovers(store_path)
    _check_room(store_path, source)
    folder = backups_dir(store_path)
    folder.mkdir(parents=True, exist_ok=True)
    aside = None
    if store_path.exists():
        aside = _unused(folder / f"replaced-{now.astimezone(UTC):%Y-%m-%dT%H-%M-%S}Z.sqlite3")
        try:
            _keep_aside(store_path, aside)
        except OSError as e:
            if e.errno == errno.ENOSPC:
                raise StoreError(f"cannot restore {source}: {full_message(store_path)}; "
                                 "nothing was changed") from None
            raise StoreError(f"cannot keep the store aside as {aside}: {e.strerror or e}; "
                             "nothing was changed") from None
    src = connect_readonly(source)
    try:
        try:
            live = sqlite3.connect(store_path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                live.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                src.backup(live)
            finally:
                live.close()
            if quick_check_ok(store_path):
                return aside
        except sqlite3.DatabaseError:
            pass
        # The store is too damaged to write through SQLite: replace the file itself.
        tmp = store_path.with_name(f"{store_path.name}.{os.getpid()}.restoring")
        shutil.copyfile(source, tmp)
        for suffix in ("-wal", "-shm"):
            Path(f"{store_path}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, store_path)
        return aside
    finally:
        src.close()


def _check_room(store_path: Path, source: Path) -> None:
    """Refuse, before touching anything, a restore the disk has no room for: the copy kept
    aside, then the restored store (1 MB over, for SQLite's journal)."""
    def size(p: Path) -> int:
        return p.stat().st_size if p.exists() else 0

    need = size(source) + size(store_path) + size(Path(f"{store_path}-wal")) + (1 << 20)
    free = free_bytes(store_path.parent)
    if free is not None and free < need:
        raise StoreError(
            f"cannot restore {source}: the disk holding {store_path} has {size_text(free)} "
            f"free and the restore needs about {size_text(need)}; free some space and try "
            "again (nothing was changed)")


def _unused(path: Path) -> Path:
    n = 1
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def _keep_aside(store_path: Path, aside: Path) -> None:
    """Copy the store to `aside`, under a temporary name until the copy is complete."""
    tmp = _tmp_name(aside)
    try:
        try:
            live = sqlite3.connect(f"{store_path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                dest = sqlite3.connect(tmp)
                try:
                    live.backup(dest)
                    dest.execute("PRAGMA journal_mode = DELETE")
                finally:
                    dest.close()
            finally:
                live.close()
        except sqlite3.DatabaseError as e:
            if getattr(e, "sqlite_errorname", "").startswith("SQLITE_FULL") or (
                    disk_full(store_path.parent)):
                raise OSError(errno.ENOSPC, str(e)) from None
            # A damaged store cannot be read page by page: keep its bytes (and its WAL) as
            # they are.
            _remove(tmp)
            shutil.copyfile(store_path, tmp)
            wal = Path(f"{store_path}-wal")
            if wal.exists():
                shutil.copyfile(wal, Path(f"{aside}-wal"))
        os.replace(tmp, aside)
    except BaseException:
        _remove(tmp)
        raise


def newest_good(store_path: Path) -> Backup | None:
    for b in list_backups(store_path):
        if quick_check_ok(b.path):
            return b
    return None


def damaged_message(store_path: Path, error: str) -> str:
    """One line: the store is damaged, the newest good backup, and the command to restore it."""
    head = f"the store at {store_path} is damaged ({error})."
    good = newest_good(store_path)
    if good is None:
        return f"{head} There is no backup to restore; `quizforge doctor` says what can be done."
    when = good.made_at.astimezone().strftime("%a %d %b %Y %H:%M")
    return (
        f"{head} The newest good backup is {good.name} ({when}); restore it with: "
        f"quizforge backup --restore {good.name}"
    )
