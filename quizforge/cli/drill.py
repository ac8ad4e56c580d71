"""`quizforge drill`: fresh hand-gradient problems. Thin commands: parse, call, render.

Nothing heavy at module level: the drill core and SymPy are imported inside the commands,
so `quizforge --help` stays fast.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from quizforge.cli import app
from quizforge.cli.common import JsonFlag, err, fail, out

# Kept here (not imported from quizforge.drill) so that building --help imports nothing heavy.
_GENERATORS = {"backprop": "Gradients by hand on random small computational graphs."}

ANSWER_SYNTAX = """\
Answers are typed the way you would write them:

  0.4   -0.0454   1.2e-3          numbers: 3 significant figures (within 0.5%)
  2*(w*x+b-y)*x   2(wx+b−y)x      implicit ×, and wx = w·x for known names
  x^2   x**2   x²   2·x   2×x     powers and products; − and · are fine
  2*z3*x                          node names stand for their definitions
  σ(z1)(1−σ(z1))   sigmoid(z1)    also: exp(x), e^x, log(x), ln(x), tanh(x),
  relu(x)   max(0,x)   step(x)    sqrt(x), abs(x), sech(x)
  dL/dw = 0.4                     a leading "… =" is ignored

Calls like diff() or integrate() are refused: the point is to do it by hand.
While answering: empty line or ? opens the hint/reveal menu, h gives a hint,
q quits. After 3 wrong tries the worked solution is shown.

Examples:
  quizforge drill backprop                   5 problems, random seed (shown)
  quizforge drill backprop -d 2 --seed 7     reproducible problems
  quizforge drill backprop --form steps      fill in each node's gradient
  quizforge drill backprop -s 7 --json       problems as JSON lines
  quizforge drill backprop -s 7 --check 0.4  grade one answer: exit 0/1/2
"""


class _DrillGroup(TyperGroup):
    """An unknown generator is a one-line error, not a usage box."""

    def resolve_command(self, ctx: typer.Context, args: list[str]):
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            raise fail(f"unknown generator {name!r} (available: {', '.join(_GENERATORS)})", 2)
        return super().resolve_command(ctx, args)


drill_app = typer.Typer(
    cls=_DrillGroup,
    help="Fresh gradient-by-hand problems, checked symbolically. Generators: "
    + ", ".join(_GENERATORS) + ".",
    no_args_is_help=True,
)
app.add_typer(drill_app, name="drill")


def _read_line(prompt: str) -> str | None:
    try:
        line = input(prompt)
    except EOFError:
        return None
    if not sys.stdin.isatty():  # echo piped answers, so the transcript reads like a session
        print(line)
    return line


@drill_app.command("backprop", help=_GENERATORS["backprop"] + "\n\n" + ANSWER_SYNTAX)
def backprop(
    difficulty: Annotated[int, typer.Option("--difficulty", "-d", help="1 (whiteboard) to 3.")] = 1,
    count: Annotated[int, typer.Option("--count", "-n", help="How many problems.")] = 5,
    seed: Annotated[
        int | None,
        typer.Option("--seed", "-s", help="Seed of the first problem (then seed+1, …). "
                     "Default: random, and shown.", show_default=False),
    ] = None,
    form: Annotated[
        str, typer.Option("--form", "-f", help="number | expression | steps.")
    ] = "number",
    dot: Annotated[bool, typer.Option("--dot", help="Print the graphs as Graphviz DOT.")] = False,
    json_out: JsonFlag = False,
    check: Annotated[
        str | None,
        typer.Option("--check", metavar="ANSWER", help="Grade ANSWER for the --seed problem and "
                     "print a JSON verdict; exit 0 right, 1 wrong, 2 unreadable.",
                     show_default=False),
    ] = None,
    question: Annotated[
        int, typer.Option("--question", "-q", help="Which question: 0 (main), 1 (another leaf) or 2 (an inner node).")
    ] = 0,
) -> None:
    problems_needed = []
    if difficulty not in (1, 2, 3):
        problems_needed.append(f"--difficulty must be 1, 2 or 3 (got {difficulty})")
    if count < 1:
        problems_needed.append(f"--count must be at least 1 (got {count})")
    if form not in ("number", "expression", "steps"):
        problems_needed.append(f"--form must be number, expression or steps (got {form!r})")
    if question not in (0, 1, 2):  # every problem has three questions
        problems_needed.append(f"--question must be 0, 1 or 2 (got {question})")
    if check is not None and seed is None:
        problems_needed.append("--check needs --seed (and the same --difficulty and --form)")
    if problems_needed:
        raise fail("; ".join(problems_needed), 2)

    from quizforge.drill import DrillError, generate

    first = seed if seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    seeds = [first + i for i in range(count)]
    try:
        if check is not None:
            _check(generate("backprop", first, difficulty, form), check, question)
        if json_out or dot:
            for s in seeds:
                _print_data(generate("backprop", s, difficulty, form), json_out, dot, question)
            return
        if seed is None:
            out.print(f"Seed {first} — replay with: quizforge drill backprop -d {difficulty} "
                      f"--seed {first}", style="dim", highlight=False)
        _interactive((generate("backprop", s, difficulty, form) for s in seeds), question, count)
    except DrillError as e:
        raise fail(str(e), 2) from None


def _check(problem, answer: str, question: int) -> None:
    from quizforge.drill import grade

    verdict = grade(problem, answer, question)
    d = verdict.to_dict()
    d["seed"] = problem.seed
    d["difficulty"] = problem.difficulty
    print(json.dumps(d, ensure_ascii=False))
    if verdict.rejected:
        err.print(f"Error: answer rejected: {verdict.reason}", highlight=False, soft_wrap=True,
                  markup=False)
        raise typer.Exit(2)
    raise typer.Exit(0 if verdict.correct else 1)


def _print_data(problem, as_json: bool, dot: bool, question: int) -> None:
    from quizforge.drill import to_dot

    problem.question(question)  # a bad --question is an error here too
    text = to_dot(problem.graph, f"seed {problem.seed}: dL/d{problem.questions[question].wrt}")
    if as_json:
        d = problem.to_dict()
        if dot:
            d["dot"] = text
        print(json.dumps(d, ensure_ascii=False))
    else:
        print(text)


def _interactive(problems, question: int, count: int) -> None:
    from quizforge import clock
    from quizforge.paths import config_path
    from quizforge.scheduling.config import load_config
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store import open_store
    from quizforge.study.mastery import attempt_record, record_drill_attempt
    from quizforge.ui.drill import render_summary, run_drill

    scheduler = Scheduler(load_config(config_path()))
    with open_store() as db:

        def record(attempt) -> None:
            # committed before the next problem is shown
            now = clock.now()
            record_drill_attempt(db, scheduler, attempt_record(attempt, now), now)

        summary = run_drill(problems, out, _read_line, question, count, on_attempt=record)
    out.print(render_summary(summary))
    if summary.interrupted:
        raise typer.Exit(130)
