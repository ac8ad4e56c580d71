"""`quizforge drill [FAMILY]`: fresh gradient-by-hand problems. Thin commands: parse, call, render.

One subcommand per family in the registry, all built by the same factory; `quizforge drill`
alone lists the families. Nothing heavy at module level: a family's module is imported when
its subcommand runs (SymPy only where a problem needs it).
"""


import json
import random
import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from quizforge.cli import app
from quizforge.cli.common import JsonFlag, backup_after_session, err, fail, out
from quizforge.drill.errors import DrillError
from quizforge.drill.family import Family, families, get, names

ANSWER_SYNTAX = """\
Answers are typed the way you would write them:

  0.4  -0.0454  -4/3  1.2e-3       numbers: 3 significant figures, fractions
  2*(w*x+b-y)*x   2(wx+b−y)x       implicit ×, and wx = w·x for known names
  x^2   x**2   x²   2·x   2×x      powers and products; − and · are fine
  σ(z)(1−σ(z))   tanh²(v)   e^{x}  also exp, log, ln, sqrt, relu, max, sech,
                                   sign
  [[1, 2], [3, 4]]   [1 2; 3 4]    tensors, row by row; [1, -1/2, 0] a vector
  dL/dw = 0.4    dW = [[1, 2]]     a leading label is ignored

An answer within 3 significant figures (of any honest rounding) is right; one
within 2 is "close" and asked again. Only a right first answer with no hint
counts as known. Calls like diff() are refused: the point is doing it by hand.
While answering: an empty line or ? opens the hint/reveal menu, h gives a
hint, q quits. After 3 wrong tries the worked solution is shown.
"""


class _DrillGroup(TyperGroup):
    """One subcommand per family, each built when it is asked for (`drill linear` builds and
    imports `linear` alone; help and completion list them all). An unknown family is a
    one-line error, not a usage box."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(families())

    def get_command(self, ctx: typer.Context, cmd_name: str):
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in names():
            try:
                command = _family_command(get(cmd_name))
            except DrillError:
                return None
            self.add_command(command, cmd_name)
        return command

    def resolve_command(self, ctx: typer.Context, args: list[str]):
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            raise fail(f"unknown drill family {name!r} (available: {', '.join(families())})", 2)
        return super().resolve_command(ctx, args)


drill_app = typer.Typer(
    cls=_DrillGroup,
    help="Fresh gradient-by-hand problems in several families, checked symbolically and "
    "numerically. `quizforge drill` lists the families.",
    invoke_without_command=True,
)
app.add_typer(drill_app, name="drill")


@drill_app.callback()
def _families(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List the drill families (with --json: their difficulties and forms as data)."""
    if ctx.invoked_subcommand is not None:
        return
    fams = families()
    if json_out:
        print(json.dumps({"families": [f.to_dict() for f in fams.values()]}, ensure_ascii=False))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold")
    table.add_column("family", style="bold cyan", no_wrap=True)
    table.add_column("what you practise")
    for f in fams.values():
        levels = "\n".join(f"d{k}: {v}" for k, v in sorted(f.levels.items()))
        table.add_row(f.name, Text(f.summary + "\n") + Text(levels, style="dim"))
    out.print(table)
    out.print(Text("\nRun one: quizforge drill FAMILY [-d 1|2|3] · help: quizforge drill FAMILY "
                   "--help", style="dim"))


def _read_line(prompt: str) -> str | None:
    try:
        line = input(prompt)
    except EOFError:
        return None
    if not sys.stdin.isatty():  # echo piped answers, so the transcript reads like a session
        print(line)
    return line


def _pause() -> bool:
    """Between problems on a terminal: keep the verdict and solution on screen until asked."""
    if not sys.stdin.isatty():
        return True
    line = _read_line("Enter: next · q: quit ")
    return line is not None and line.strip().lower() not in ("q", "quit", "exit")


def _help(f: Family) -> str:
    levels = "\n".join(f"  {k}  {v}" for k, v in sorted(f.levels.items()))
    forms = ", ".join(f.forms)
    name = f.name
    return (f"{f.summary}\n\nDifficulties:\n\n{levels}\n\nForms: {forms}.\n\n{ANSWER_SYNTAX}\n"
            "Examples:\n\n"
            f"  quizforge drill {name}                    5 problems, random seed (shown)\n"
            f"  quizforge drill {name} -d 2 --seed 7      reproducible problems\n"
            f"  quizforge drill {name} -s 7 --json        problems as JSON lines\n"
            f"  quizforge drill {name} -s 7 --check '{f.example}'   grade one answer: exit "
            "0 right, 1 wrong or close, 2 unreadable\n")


def _command(f: Family):
    def command(
        difficulty: Annotated[int, typer.Option("--difficulty", "-d",
                                                help="1 (whiteboard basics) to 3.")] = 1,
        count: Annotated[int, typer.Option("--count", "-n", help="How many problems.")] = 5,
        seed: Annotated[
            int | None,
            typer.Option("--seed", "-s", help="Seed of the first problem (then seed+1, …). "
                         "Default: random, and shown.", show_default=False),
        ] = None,
        form: Annotated[str, typer.Option("--form", "-f", help=" | ".join(f.forms) + ".")]
        = "number",
        dot: Annotated[bool, typer.Option("--dot", help="Print the graphs as Graphviz DOT "
                                          "(scalar graphs only).")] = False,
        json_out: JsonFlag = False,
        check: Annotated[
            str | None,
            typer.Option("--check", metavar="ANSWER", help="Grade ANSWER for the --seed "
                         "problem and print a JSON verdict; exit 0 right, 1 wrong or close, "
                         "2 unreadable.", show_default=False),
        ] = None,
        question: Annotated[
            int | None,
            typer.Option("--question", "-q", help="Only this question of each problem: 0 (the "
                         "main one), 1, 2 …. Default: every question in turn (for --check and "
                         "--dot: 0).", show_default=False),
        ] = None,
    ) -> None:
        _run(f, difficulty, count, seed, form, dot, json_out, check, question)

    command.__doc__ = _help(f)
    return command


def _family_command(f: Family):
    """The click command of one family, built through typer like any other command."""
    one = typer.Typer(add_completion=False)
    one.command(f.name, help=_help(f), short_help=f.summary)(_command(f))
    return typer.main.get_command(one)


def _run(f: Family, difficulty: int, count: int, seed: int | None, form: str, dot: bool,
         json_out: bool, check: str | None, question: int | None) -> None:
    problems_needed = []
    if difficulty not in f.levels:
        levels = ", ".join(map(str, f.difficulties))
        problems_needed.append(f"--difficulty must be {levels} (got {difficulty})")
    if count < 1:
        problems_needed.append(f"--count must be at least 1 (got {count})")
    if form not in f.forms:
        problems_needed.append(f"--form must be {' or '.join(f.forms)} for {f.name} "
                               f"(got {form!r})")
    if question is not None and not 0 <= question < f.questions:
        choices = ", ".join(map(str, range(f.questions - 1))) + f" or {f.questions - 1}"
        problems_needed.append(f"--question must be {choices} (got {question})")
    if check is not None and seed is None:
        problems_needed.append("--check needs --seed (and the same --difficulty and --form)")
    if problems_needed:
        raise fail("; ".join(problems_needed), 2)

    from quizforge.drill import DrillError, generate

    first = seed if seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    seeds = [first + i for i in range(count)]
    try:
        if check is not None:
            _check(generate(f.name, first, difficulty, form), check, question or 0)
        if json_out or dot:
            for s in seeds:
                _print_data(generate(f.name, s, difficulty, form), json_out, dot, question or 0)
            return
        if seed is None:
            shape = f" --form {form}" if form != "number" else ""
            out.print(f"Seed {first} — replay with: quizforge drill {f.name} -d {difficulty}"
                      f"{shape} --seed {first}", style="dim", highlight=False)
        _interactive((generate(f.name, s, difficulty, form) for s in seeds), question, count)
    except DrillError as e:
        raise fail(str(e), 2) from None


def _check(problem, answer: str, question: int) -> None:
    from quizforge.drill import grade

    verdict = grade(problem, answer, question)
    d = verdict.to_dict()
    d["family"] = problem.family
    d["seed"] = problem.seed
    d["difficulty"] = problem.difficulty
    print(json.dumps(d, ensure_ascii=False))
    if verdict.rejected:
        err.print(f"Error: answer rejected: {verdict.reason}", highlight=False, soft_wrap=True,
                  markup=False)
        raise typer.Exit(2)
    raise typer.Exit(0 if verdict.correct else 1)


def _print_data(problem, as_json: bool, dot: bool, question: int) -> None:
    problem.question(question)  # a bad --question is an error here too
    text = None
    if dot:
        graph = getattr(problem, "graph", None)
        if graph is None:
            raise fail(f"--dot draws scalar graphs; {problem.family} problems have none", 2)
        from quizforge.drill.graph import to_dot

        text = to_dot(graph, f"seed {problem.seed}: dL/d{problem.questions[question].wrt}")
    if as_json:
        d = problem.to_dict()
        if text:
            d["dot"] = text
        print(json.dumps(d, ensure_ascii=False))
    else:
        print(text)


def _interactive(problems, question: int | None, count: int) -> None:
    from quizforge import clock
    from quizforge.paths import config_path
    from quizforge.scheduling.config import load_config
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store import open_store
    from quizforge.study.mastery import attempt_record, record_drill_attempt
    from quizforge.ui.drill import render_summary, run_drill

    from quizforge.ui.width import ambiguous_is_wide

    from quizforge.cli.sync import quiet_sync

    quiet_sync()
    scheduler = Scheduler(load_config(config_path()))
    out.draw_ambiguous_wide(ambiguous_is_wide(scheduler.config.ambiguous_width))
    with open_store() as db:

        def record(attempt) -> None:
            # committed before the next problem is shown
            now = clock.now()
            record_drill_attempt(db, scheduler, attempt_record(attempt, now), now)

        summary = run_drill(problems, out, _read_line, question, count, on_attempt=record,
                            pause=_pause)
        if summary.attempted:
            backup_after_session(db, scheduler)
    out.print(render_summary(summary))
    if summary.attempted:
        quiet_sync()
    if summary.interrupted:
        raise typer.Exit(130)
