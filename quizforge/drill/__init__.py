"""Drills: fresh "compute the gradient by hand" problems, generated from a seed and graded.

The public API (pure: seed in, problem out; text in, verdict out — no I/O)::

    problem = generate("backprop", seed=7, difficulty=2, form="number")
    problem.prompt(), problem.skills, problem.to_dict()
    verdict = grade(problem, "2*(w*x + b - y)*x", question=0)
    verdict.correct, verdict.rejected, verdict.reason, verdict.feedback, verdict.expected

Renderables and the interactive loop live in `quizforge.ui.drill`
(`render_problem`, `render_verdict`, `render_solution`, `run_problem_interactive`).
Importing this package does not import SymPy; the functions that need it import it.
"""

from __future__ import annotations

from collections.abc import Callable

from quizforge.drill.check import Verdict, grade, grade_step
from quizforge.drill.errors import AnswerRejected, CheckTimeout, DrillError
from quizforge.drill.graph import Graph, Node, to_dot
from quizforge.drill.problem import FORMS, SKILLS, Problem, Question
from quizforge.drill.solution import Solution, solve

DIFFICULTIES = (1, 2, 3)


def _backprop(seed: int, difficulty: int, form: str) -> Problem:
    from quizforge.drill.generator import build

    return build(seed, difficulty, form)


# name -> (builder(seed, difficulty, form), one-line description for --help)
GENERATORS: dict[str, tuple[Callable[[int, int, str], Problem], str]] = {
    "backprop": (_backprop, "Gradients by hand on random small computational graphs."),
}


def generate(generator: str, seed: int, difficulty: int = 1, form: str = "number") -> Problem:
    """A fresh problem; the same arguments give the same problem on every machine."""
    errors = []
    if generator not in GENERATORS:
        errors.append(f"unknown generator {generator!r} (available: {', '.join(GENERATORS)})")
    if difficulty not in DIFFICULTIES:
        errors.append(f"difficulty must be 1, 2 or 3 (got {difficulty})")
    if form not in FORMS:
        errors.append(f"form must be one of {', '.join(FORMS)} (got {form!r})")
    if errors:
        raise DrillError("; ".join(errors))
    return GENERATORS[generator][0](seed, difficulty, form)


__all__ = [
    "DIFFICULTIES",
    "FORMS",
    "GENERATORS",
    "SKILLS",
    "AnswerRejected",
    "CheckTimeout",
    "DrillError",
    "Graph",
    "Node",
    "Problem",
    "Question",
    "Solution",
    "Verdict",
    "generate",
    "grade",
    "grade_step",
    "solve",
    "to_dot",
]
