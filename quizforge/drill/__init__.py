"""Drills: fresh "compute the gradient by hand" problems in several families, graded honestly.

The public API (pure: seed in, problem out; text in, verdict out — no I/O)::

    problem = generate("backprop", seed=7, difficulty=2, form="number")
    problem.prompt(0), problem.questions, problem.to_dict()
    verdict = grade(problem, "2*(w*x + b - y)*x", question=0)
    verdict.correct, verdict.close, verdict.rejected, verdict.mistake, verdict.feedback

Families live in `quizforge.drill.families`, one module each, found by the registry
(`quizforge.drill.family.families()`); the engine (`check`, `parse`, `tensor`, `rounding`) never names one.
Screens and the interactive loop live in `quizforge.ui.drill`.
Importing this package imports neither SymPy nor numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Names are imported on first use (PEP 562): the CLI imports the registry
# (quizforge.drill.family) for every command, and the checker and parser only where a
# problem is graded.
_HOME = {
    "Attempt": "attempt",
    "Verdict": "check", "grade": "check", "grade_step": "check",
    "AnswerRejected": "errors", "CheckTimeout": "errors", "DrillError": "errors",
    "Family": "family", "generate": "family",
    "FORMS": "model", "Question": "model", "Target": "model",
}

__all__ = [
    "FORMS",
    "AnswerRejected",
    "Attempt",
    "CheckTimeout",
    "DrillError",
    "Family",
    "Question",
    "Target",
    "Verdict",
    "generate",
    "grade",
    "grade_step",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from quizforge.drill.attempt import Attempt
    from quizforge.drill.check import Verdict, grade, grade_step
    from quizforge.drill.errors import AnswerRejected, CheckTimeout, DrillError
    from quizforge.drill.family import Family, generate
    from quizforge.drill.model import FORMS, Question, Target
