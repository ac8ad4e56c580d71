"""How one drill problem went, and what that means for mastery.

Honest grading: an attempt counts as *correct* only when the first graded answer was right,
with no hint and no reveal. Reaching the answer after a retry or a hint is *solved* (rated
Hard), not correct. A problem quit before any graded answer or reveal is not an attempt at
all and is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# FSRS ratings by name (the scheduler maps them); kept as text so this module stays pure.
GOOD, HARD, AGAIN = "good", "hard", "again"


@dataclass(frozen=True)
class Attempt:
    problem: Any = field(repr=False)  # a quizforge.drill Problem
    question: int
    solved: bool  # reached the right answer, possibly after retries or hints, without a reveal
    first_try: bool  # right at the first graded answer, with no hint and no reveal
    tries: int  # graded answers ("close" and unreadable answers do not count)
    hints: int
    revealed: bool  # the worked solution was shown before the answer was found
    quit: bool  # the user quit (q, end of input) before finishing
    seconds: float
    score: float  # 1/0, or the fraction of steps right first time in the step-by-step form
    answers: tuple[str, ...] = ()

    @property
    def correct(self) -> bool:
        """What mastery counts: right at the first try, unaided."""
        return self.first_try and self.hints == 0 and not self.revealed

    @property
    def attempted(self) -> bool:
        """Only attempts are stored: at least one graded answer, or a reveal."""
        return self.tries > 0 or self.revealed

    @property
    def rating(self) -> str:
        """good: first try unaided; hard: solved after a retry or a hint; again otherwise."""
        if self.correct:
            return GOOD
        if self.solved and not self.revealed:
            return HARD
        return AGAIN

    # what the store needs, without knowing the problem's class
    @property
    def family(self) -> str:
        return self.problem.family

    @property
    def difficulty(self) -> int:
        return self.problem.difficulty

    @property
    def seed(self) -> int:
        return self.problem.seed

    @property
    def form(self) -> str:
        return self.problem.question(self.question).form

    @property
    def skills(self) -> tuple[str, ...]:
        return tuple(self.problem.question(self.question).skills)
