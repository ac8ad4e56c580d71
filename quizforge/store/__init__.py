"""The SQLite store: card schedules and the review log."""

from quizforge.store.db import Database, from_ms, to_ms

__all__ = ["Database", "from_ms", "open_store", "take_notices", "to_ms"]

_notices: list[str] = []


def open_store(*, write: bool = False) -> Database:
    """The user's store in the data directory, created on first use.

    Commands that only read (reports, listings) leave `write` False: when the data folder
    is read-only they get an in-memory copy, and a notice for the CLI to print
    (`take_notices`). Commands whose work must be saved pass `write=True` and get a
    StoreReadOnly error instead.
    """
    from quizforge.paths import db_path

    db = Database(db_path(), read_only_ok=not write)
    if db.read_only:
        from quizforge.store.db import home_label

        note = (
            f"{home_label(db_path().parent)} is read-only: nothing this command does is saved"
        )
        if note not in _notices:
            _notices.append(note)
    return db


def take_notices() -> list[str]:
    """Notices about how the store was opened, once each (the CLI prints them on stderr)."""
    notes = list(_notices)
    _notices.clear()
    return notes
