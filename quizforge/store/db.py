"""The SQLite connection: pragmas, one transaction helper, named migrations."""

from __future__ import annotations

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


def to_ms(dt: datetime | None) -> int | None:
    return None if dt is None else round(dt.timestamp() * 1000)


def from_ms(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


class Database:
    """One connection to the store. Use as a context manager or call close()."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves (see atomic()).
            self.conn = sqlite3.connect(
                str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            if path != ":memory:":
                self._set_wal()
                # FULL: a commit is on disk before we show the next card, even on power loss.
                self.conn.execute("PRAGMA synchronous = FULL")
            self._depth = 0
            self.migrate()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"cannot open the store at {path}: {e}") from None
        except OSError as e:
            raise StoreError(f"cannot create the store at {path}: {e.strerror or e}") from None

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
    # executescript() would COMMIT our transaction; split on ';' instead (no ';' in our SQL bodies).
    return [s.strip() for s in sql.split(";") if s.strip()]
