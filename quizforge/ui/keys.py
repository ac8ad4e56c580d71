"""Reading the user's answers: single keypresses on a terminal, lines otherwise.

On a terminal, grades need no Enter (cbreak mode; Ctrl-C still interrupts). When stdin
is not a terminal, every prompt reads one line, so a session can be scripted.
"""

from __future__ import annotations

import os
import sys
from typing import Protocol, TextIO

ENTER = "enter"
ESC = "escape"


class Reader(Protocol):
    interactive: bool

    def key(self) -> str | None:
        """A single key on a terminal, or one stripped line from a pipe; None at end of input."""
        ...

    def line(self, prompt: str = "") -> str | None:
        """A whole line of text (typed answers); None at end of input."""
        ...


class LineReader:
    """stdin is a pipe or file: one line per prompt."""

    interactive = False

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdin

    def key(self) -> str | None:
        return self.line()

    def line(self, prompt: str = "") -> str | None:
        raw = self.stream.readline()
        if raw == "":
            return None
        return raw.rstrip("\r\n").strip()


class KeyReader:
    """stdin is a terminal: read single keypresses in cbreak mode."""

    interactive = True

    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd

    def key(self) -> str | None:
        import termios
        import tty

        old = termios.tcgetattr(self.fd)
        try:
            tty.setcbreak(self.fd)
            ch = os.read(self.fd, 1)
            if ch == b"\x1b":  # swallow the rest of an escape sequence (arrow keys etc.)
                import select

                while select.select([self.fd], [], [], 0.02)[0]:
                    os.read(self.fd, 16)
                return ESC
        finally:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, old)
        if ch == b"":
            return None
        if ch == b"\x04":  # Ctrl-D
            return None
        if ch in (b"\r", b"\n"):
            return ENTER
        return ch.decode("utf-8", "replace")

    def line(self, prompt: str = "") -> str | None:
        try:
            return input(prompt).strip()
        except EOFError:
            return None


def make_reader() -> Reader:
    return KeyReader() if sys.stdin.isatty() else LineReader()
