"""The SQLite connection: pragmas, one transaction helper, named migrations, and what to
say when the store cannot be used (a read-only or misplaced home, a damaged file)."""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from quizforge.errors import StoreError
from quizforge.store.migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 10_000
FULL_BELOW = 1 << 20  # bytes free: below this a disk counts as full (SQLite cannot grow a WAL)
_CORRUPT = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


class StoreDamaged(StoreError):
    """The store file fails SQLite's quick_check: a page was overwritten or truncated."""


class StoreReadOnly(StoreError):
    """The store (or its folder) cannot be written, and the command needs to write."""


def to_ms(dt: datetime | None) -> int | None:
    return None if dt is None else round(dt.timestamp() * 1000)


def from_ms(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def home_label(folder: Path) -> str:
    """How to name the data folder in a message: by the variable that chose it, if one did."""
    home = os.environ.get("QUIZFORGE_HOME")
    if home and Path(home).expanduser() == folder:
        return f"QUIZFORGE_HOME ({folder})"
    return f"the data directory {folder}"


def check_data_dir(folder: Path) -> None:
    """Raise a StoreError if `folder` (or the nearest part of it that exists) is a file."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        if probe == folder:
            name = home_label(folder).removesuffix(f" ({folder})").removesuffix(f" {folder}")
            raise StoreError(f"{name} is not a directory: {folder}")
        raise StoreError(f"{home_label(folder)} cannot be created: {probe} is a file")


def dir_writable(folder: Path) -> bool:
    """Whether files can be created in `folder` (or, if it does not exist yet, made there).
    os.access answers for the real user, which is what SQLite will meet (root passes mode
    bits but not a read-only mount)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return os.access(probe, os.W_OK)


def free_bytes(folder: Path) -> int | None:
    """Free space for an ordinary user on the disk holding `folder` (or its nearest existing
    parent); None if it cannot be told."""
    probe = Path(folder)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def disk_full(folder: Path) -> bool:
    free = free_bytes(folder)
    return free is not None and free < FULL_BELOW


def size_text(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def full_message(path: Path | str) -> str:
    free = free_bytes(Path(path).parent)
    left = f" ({size_text(free)} free)" if free is not None else ""
    return (f"the disk holding {path} is full{left}; free some space and try again "
            "(the store is not damaged: do not restore a backup for this)")


def describe_error(e: sqlite3.Error, path: Path | str) -> StoreError:
    """A one-line StoreError for an error SQLite reported on the store at `path`. Damage is
    confirmed with quick_check here, on the error path only, so opening stays fast."""
    name = getattr(e, "sqlite_errorname", "") or ""
    # A full disk shows as SQLITE_FULL, or as a "disk I/O error" when SQLite cannot grow
    # its -shm or -wal file: tell it by the free space, before anything else.
    if path != ":memory:" and (name.startswith(("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN"))
                               or "disk I/O error" in str(e)) and disk_full(Path(path).parent):
        return StoreError(full_message(path))
    corrupt = name in _CORRUPT or (type(e) is sqlite3.DatabaseError and "malformed" in str(e))
    if corrupt and path != ":memory:" and not quick_check_ok(Path(path)):
        from quizforge.store.backup import damaged_message

        return StoreDamaged(damaged_message(Path(path), str(e)))
    if name.startswith("SQLITE_READONLY"):
        return StoreReadOnly(
            f"the store at {path} is read-only ({e}); check the permissions of "
            f"{home_label(Path(path).parent)}"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreError(
            f"the store at {path} is busy: another quizforge held it for "
            f"{BUSY_TIMEOUT_MS // 1000} s; try again"
        )
    if name.startswith("SQLITE_FULL"):
        return StoreError(full_message(path))
    return StoreError(f"cannot use the store at {path}: {e}")


def quick_check_ok(path: Path) -> bool:
    """SQLite's quick_check on a separate read-only connection; a check that cannot even
    read the file counts as a failure."""
    try:
        conn = connect_readonly(path)
    except sqlite3.Error:
        return False
    try:
        return [r[0] for r in conn.execute("PRAGMA quick_check")] == ["ok"]
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def connect_readonly(path: Path, **kwargs) -> sqlite3.Connection:
    """A read-only connection to `path`. In WAL mode a reader needs the -shm file; when the
    folder is read-only and that file is gone (a clean close removes it), open the file as
    immutable instead: nothing else can be writing to it then."""
    uri = Path(path).resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, **kwargs)
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        return conn
    except sqlite3.OperationalError as e:
        conn.close()
        if getattr(e, "sqlite_errorname", "") != "SQLITE_CANTOPEN":
            raise
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, **kwargs)


ROWS_PER_STATEMENT = 100  # rows of one INSERT in insert_rows (9 columns: 900 parameters)


def insert_rows(conn: sqlite3.Connection, head: str, width: int, rows) -> None:
    """`head` ("INSERT INTO t (a, b) VALUES") run for every row of `rows` (`width` values
    each), ROWS_PER_STATEMENT rows to a statement: the same rows, in the same order, as
    executemany of one row each, in about 60% of the time for a million (SQLite steps a
    statement once for many rows). Rows are read as they are inserted."""
    from itertools import chain, islice

    one = "(" + ",".join("?" * width) + ")"
    rows = iter(rows)
    rest: list = []

    def full():
        while True:
            batch = list(chain.from_iterable(islice(rows, ROWS_PER_STATEMENT)))
            if len(batch) < width * ROWS_PER_STATEMENT:
                rest.extend(batch)
                return
            yield batch

    conn.executemany(f"{head} {','.join([one] * ROWS_PER_STATEMENT)}", full())
    if rest:
        conn.execute(f"{head} {','.join([one] * (len(rest) // width))}", rest)


class Database:
    """One connection to the store. Use as a context manager or call close()."""

    def __init__(self, path: Path | str, *, read_only_ok: bool = False) -> None:
        """Open (and create, and migrate) the store at `path`. When its folder cannot be
        written and `read_only_ok`, open a private in-memory copy instead (`read_only` is
        set): reports and listings work, and nothing is saved."""
        self.path = path
        self.read_only = False
        self._depth = 0
        if path == ":memory:":
            self._open_memory()
            return
        path = Path(path)
        check_data_dir(path.parent)
        writable = dir_writable(path.parent) and (not path.exists() or os.access(path, os.W_OK))
        if not writable and not read_only_ok:
            raise StoreReadOnly(
                f"{home_label(path.parent)} is read-only: this command saves to the store "
                f"there; make it writable or point QUIZFORGE_HOME at a writable folder"
            )
        try:
            if writable:
                self._open_file(path)
            else:
                self._open_copy(path)
        except OSError as e:
            if read_only_ok and e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                self._open_copy(path)  # the folder could not be made after all
                return
            if e.errno == errno.ENOSPC:
                raise StoreError(full_message(path)) from None
            raise StoreError(f"cannot create the store at {path}: {e.strerror or e}") from None
        except StoreError:
            self._close_quietly()
            raise
        except sqlite3.Error as e:
            self._close_quietly()
            if read_only_ok and _is_permission_error(e):
                self._open_copy(path)  # os.access said yes, SQLite met a read-only file system
                return
            raise describe_error(e, path) from None

    def _open_memory(self) -> None:
        self.conn = sqlite3.connect(":memory:", uri=True, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.migrate()

    def _open_file(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see atomic()).
        # As a URI (the same file), so that an ATTACH may open another file read-only with
        # `?mode=ro` (the history import reads an Anki collection that way).
        self.conn = sqlite3.connect(path.resolve().as_uri(), uri=True,
                                    timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self._set_wal()
        # FULL: a commit is on disk before we show the next card, even on power loss.
        self.conn.execute("PRAGMA synchronous = FULL")
        self.migrate()

    def _open_copy(self, path: Path) -> None:
        """Copy the store into memory (SQLite's backup API: a consistent snapshot) and work
        on the copy, so commands that tidy the store as they read still run."""
        self.read_only = True
        self.conn = sqlite3.connect(":memory:", uri=True, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        try:
            if path.exists():
                src = connect_readonly(path, timeout=BUSY_TIMEOUT_MS / 1000)
                try:
                    src.backup(self.conn)
                finally:
                    src.close()
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.migrate()
        except StoreError:
            raise
        except sqlite3.Error as e:
            raise describe_error(e, path) from None

    def _close_quietly(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def _set_wal(self) -> None:
        # Switching a new file to WAL takes an exclusive lock and does not wait on the busy
        # handler: when two processes create the store at once, one gets "database is
        # locked" straight away. The switch is quick and happens once per file, so retry.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.005
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """A transaction; nested calls become savepoints. Writers take the lock up front
        (BEGIN IMMEDIATE) so two processes never deadlock upgrading a read lock."""
        if self._depth == 0:
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.conn.execute(f"SAVEPOINT sp{self._depth}")
        self._depth += 1
        try:
            yield self.conn
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.conn.execute("ROLLBACK")
            else:
                self.conn.execute(f"ROLLBACK TO sp{self._depth}")
                self.conn.execute(f"RELEASE sp{self._depth}")
            raise
        else:
            self._depth -= 1
            if self._depth == 0:
                self.conn.execute("COMMIT")
            else:
                self.conn.execute(f"RELEASE sp{self._depth}")

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM migrations ORDER BY id")]

    def migrate(self) -> list[str]:
        """Apply every migration not yet recorded, each in one transaction with its record."""
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations ("
            " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at INTEGER NOT NULL)"
        )
        done = set(self.applied_migrations())
        known = {name for name, _ in MIGRATIONS}
        unknown = done - known
        if unknown:
            raise StoreError(
                f"the store at {self.path} was written by a newer quizforge "
                f"(migration {min(unknown)!r}); upgrade quizforge to open it"
            )
        applied = []
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self.atomic() as conn:
                # Another process may have applied it while we waited for the lock.
                if conn.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                    continue
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
                    (name, to_ms(datetime.now(UTC))),
                )
            applied.append(name)
        return applied


def _statements(sql: str) -> list[str]:
    # executescript() would COMMIT our transaction; split on ';' instead. A trigger's body
    # (BEGIN ...; END) has ';' of its own: its statement runs on to the END.
    out, pending = [], ""
    for part in sql.split(";"):
        pending += part
        if _TRIGGER.search(pending) and not _END.search(pending):
            pending += ";"
            continue
        if pending.strip():
            out.append(pending.strip())
        pending = ""
    return out


_TRIGGER = re.compile(r"\bCREATE\s+TRIGGER\b", re.IGNORECASE)
_END = re.compile(r"\bEND\s*$", re.IGNORECASE)


def _is_permission_error(e: sqlite3.Error) -> bool:
    name = getattr(e, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM"))
