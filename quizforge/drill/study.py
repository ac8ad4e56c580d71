"""The hook `quizforge study` calls for a `type: generated` deck card: one fresh problem."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from quizforge.drill import generate


def run_generated_card(card, console: Console, reader, seed: int):
    """Ask one problem for `card` (a GeneratedCard) with `seed`.

    `reader` is the study screen's Reader (its `line(prompt)` returns a line or None at end of
    input). Returns the `quizforge.ui.drill.Attempt` (`correct`: solved without revealing the
    solution), or None if the user quit inside the problem.
    """
    from quizforge.ui.drill import run_problem_interactive

    problem = generate(card.generator, seed, card.difficulty, card.form)
    if card.prompt:
        console.print(Text(card.prompt, style="bold"))
    attempt = run_problem_interactive(
        problem, console, reader.line,
        heading=f"{card.id} · backprop · difficulty {problem.difficulty} · seed {problem.seed}",
    )
    return None if attempt.quit else attempt
