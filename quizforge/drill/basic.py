"""A problem worked out in full when it is generated: what tensor families return.

The family computes everything once — the value of each question, its honest-rounding band,
the named mistakes, the worked solution and the hints — and the engine reads it through the
`ProblemAPI` methods. Nothing here knows which family made it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from quizforge.drill.errors import DrillError
from quizforge.drill.model import (
    Block,
    Lines,
    Question,
    Target,
    blocks_text,
    tensor_text,
    to_data,
)


@dataclass(frozen=True)
class Asked:
    """One question, fully worked out."""

    question: Question
    target: Target
    solution: tuple[Block, ...]
    hints: tuple[str, ...] = ()
    steps: tuple[Target, ...] = ()


SCREEN_WIDTH = 78  # body and solution lines stay within this (80 columns with a margin)


def fits_screen(body: Iterable[Block], asked: Iterable[Asked],
                width: int = SCREEN_WIDTH) -> bool:
    """Every text line of the body and of each worked solution is at most `width` wide
    (a generator draws again when not, rather than let a screen wrap a matrix)."""
    blocks = [*body, *(b for a in asked for b in a.solution)]
    return all(len(line) <= width for b in blocks if isinstance(b, Lines) for line in b.lines)


@dataclass(frozen=True)
class BasicProblem:
    family: str
    seed: int
    difficulty: int
    form: str
    body: tuple[Block, ...]  # what is given: shapes, values, the forward definitions
    given: dict[str, Any]  # name -> number or array (the JSON `inputs`)
    loss: str  # the loss as one scalar expression over element symbols (W_0_1, x_2, …)
    asked: tuple[Asked, ...]
    # more JSON for independent checkers (an optimizer's `rule` and hyperparameters …);
    # it never replaces a key of the common contract
    extra: tuple[tuple[str, Any], ...] = ()

    @property
    def generator(self) -> str:  # the store's old name for the family
        return self.family

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(a.question for a in self.asked)

    @property
    def skills(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for q in self.questions for s in q.skills))

    def _asked(self, index: int) -> Asked:
        if not 0 <= index < len(self.asked):
            raise DrillError(f"question {index} does not exist (this problem has questions "
                             f"0–{len(self.asked) - 1})")
        return self.asked[index]

    def question(self, index: int = 0) -> Question:
        return self._asked(index).question

    def display(self) -> tuple[Block, ...]:
        return self.body

    def prompt(self, index: int = 0) -> str:
        return blocks_text(self.body + (Lines("", (self.question(index).ask,)),))

    def inputs(self) -> dict[str, Any]:
        return dict(self.given)

    def loss_scalar(self) -> str:
        return self.loss

    def target(self, index: int = 0) -> Target:
        return self._asked(index).target

    def steps(self, index: int = 0) -> tuple[Target, ...]:
        return self._asked(index).steps

    def expected_text(self, index: int = 0) -> str:
        return tensor_text(self.target(index).value)

    def expected_value(self, index: int = 0) -> Any:
        return self.target(index).value

    def solution(self, index: int = 0) -> tuple[Block, ...]:
        return self._asked(index).solution

    def hints(self, index: int = 0) -> tuple[str, ...]:
        return self._asked(index).hints

    def to_dict(self) -> dict[str, Any]:
        questions = []
        for i, a in enumerate(self.asked):
            d = a.question.to_dict()
            d["expected"] = self.expected_text(i)
            d["value"] = to_data(a.target.value)
            questions.append(d)
        common = {
            "family": self.family,
            "generator": self.family,
            "seed": self.seed,
            "difficulty": self.difficulty,
            "form": self.form,
            "skills": list(self.skills),
            "prompt": self.prompt(0),
            "inputs": {k: to_data(v) for k, v in self.given.items()},
            "loss_scalar": self.loss,
            "questions": questions,
        }
        return {**{k: v for k, v in self.extra if k not in common}, **common}
