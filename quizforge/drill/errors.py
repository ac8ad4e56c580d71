"""Drill exceptions. The core raises these; the CLI turns them into one-line errors."""

from __future__ import annotations

from quizforge.errors import QuizforgeError


class DrillError(QuizforgeError):
    """A drill could not be set up: unknown generator, bad difficulty or form, no such question."""


class AnswerRejected(DrillError):
    """An answer was not graded because it is unreadable or unsafe (the reason says why)."""

    def __init__(self, reason: str, code: str = "syntax") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code  # syntax | too-long | too-deep | name | forbidden | exponent | number | timeout


class CheckTimeout(AnswerRejected):
    """Checking an answer took longer than the hard time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"this answer could not be checked within {seconds:g} s of computing, so it was "
            "not graded (it does not count as wrong); simplify it and try again",
            "timeout",
        )
