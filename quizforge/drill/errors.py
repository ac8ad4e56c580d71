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
            f"checking this answer took longer than {seconds:g} s, so it was stopped; "
            "simplify it and try again",
            "timeout",
        )
