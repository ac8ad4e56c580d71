"""The SQLite store: card schedules and the review log."""

from quizforge.store.db import Database, from_ms, to_ms

__all__ = ["Database", "from_ms", "open_store", "to_ms"]


def open_store() -> Database:
    """The user's store in the data directory, created on first use."""
    from quizforge.paths import db_path

    return Database(db_path())
