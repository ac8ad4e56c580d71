"""Small builders shared by tests."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from quizforge.decks.model import MCQ, Deck, Flashcard

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, noon UTC


def make_deck(deck_id="d", n_flash=5, n_mcq=0, tags=(), card_tags=None) -> Deck:
    cards = [
        Flashcard(f"c{i}", f"front {i}", f"back {i}", tags=tuple((card_tags or {}).get(f"c{i}", ())))
        for i in range(n_flash)
    ]
    cards += [
        MCQ(f"m{i}", f"question {i}?", ("alpha", "beta", "gamma", "delta"), (1,), explanation="because")
        for i in range(n_mcq)
    ]
    return Deck(deck_id, deck_id.title(), tuple(cards), Path(f"{deck_id}.yaml"), tags=tuple(tags))


def restore_sigint():
    """preexec_fn for pty children: a shell that runs CI as a background job starts it with
    SIGINT ignored, and ignored signals are inherited; Ctrl-C tests need the default back."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Keys:
    """A terminal-like reader: single keys and typed lines from two lists."""

    interactive = True

    def __init__(self, keys, lines=()):
        self.keys = list(keys)
        self.lines = list(lines)

    def key(self):
        return self.keys.pop(0) if self.keys else None

    def line(self, prompt=""):
        return self.lines.pop(0) if self.lines else None


@contextmanager
def utc_80_columns(monkeypatch):
    """The CLI cuts days in the machine's zone and wraps at the console's width: pin both
    (UTC, 80 columns) for the block, and give the zone back after it."""
    import time

    from quizforge.cli import common

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    for console in (common.out, common.err):
        monkeypatch.setattr(console, "width", 80)
    try:
        yield
    finally:
        monkeypatch.undo()
        time.tzset()
