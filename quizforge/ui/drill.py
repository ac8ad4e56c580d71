"""Drill screens: rich renderables for problems, verdicts and worked solutions, and the loop
that asks one problem interactively (`run_problem_interactive`), which `quizforge study` also
uses for `type: generated` cards.

Screens are functions from data to renderables; nothing here prints except the loops, which
print to the console they are handed and read lines through the `read_line(prompt)` callable
they are handed (returning None at end of input). User text is always wrapped in `Text`, never
parsed as markup.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from quizforge.drill import Problem, Verdict, grade, grade_step, solve
from quizforge.drill.parse import SYNTAX_HELP
from quizforge.drill.problem import fmt_num

ReadLine = Callable[[str], "str | None"]
MAX_TRIES = 3  # wrong answers before the solution is shown
QUIT = ("q", "quit", "exit")
MENU = ("", "?", "help")
KEYS_HELP = "Enter your answer · ? or empty line: hint / reveal · q: quit"

_MISTAKE_TITLES = {
    "sign": "Sign error",
    "missing-path": "Missing fan-out path",
    "local-gradient": "Wrong local gradient",
    "local-only": "Only the local gradient",
    "wrong-node": "Wrong node",
    "forward-value": "Forward value, not a gradient",
    "factor": "Off by a factor",
    "not-expression": "A number, not an expression",
    "undefined": "Undefined",
    "other": "Not quite",
}


# -- renderables -------------------------------------------------------------------------------
def render_graph(problem: Problem) -> Text:
    """The DAG as arrows from each value to the nodes that read it; ◆ marks fan-out."""
    graph = problem.graph
    consumers = graph.consumers()
    width = max(len(n) for n in graph.names)
    out = Text()
    for name in graph.names:
        targets = list(dict.fromkeys(c for c, _ in consumers[name]))
        if not targets:
            out.append(f"{name.ljust(width)}  (loss)\n", style="bold")
            continue
        for k, target in enumerate(targets):
            if len(targets) == 1:
                arrow = " ───▶ "
            elif k == 0:
                arrow = " ─┬─▶ "
            elif k == len(targets) - 1:
                arrow = "  └─▶ "
            else:
                arrow = "  ├─▶ "
            label = name.ljust(width) if k == 0 else " " * width
            style = "cyan" if name in graph.leaves else ""
            out.append(label, style=style)
            out.append(arrow, style="dim")
            out.append(target, style="bold" if target == graph.loss else "")
            if k == 0 and len(targets) > 1:
                out.append(f"  ◆ fan-out ×{len(targets)}", style="yellow")
            out.append("\n")
    out.rstrip()
    return out


def _forward_listing(problem: Problem) -> Text:
    width = max(len(n.name) for n in problem.graph.nodes)
    out = Text()
    for n in problem.graph.nodes:
        out.append(n.name.ljust(width), style="bold")
        out.append(f" = {n.equation()}\n")
    ops = {n.op for n in problem.graph.nodes}
    if "sigmoid" in ops:
        out.append("σ(t) = 1/(1 + e^−t)\n", style="dim")
    if "log" in ops:
        out.append("log = natural log\n", style="dim")
    out.rstrip()
    return out


def render_problem(problem: Problem, question: int = 0, heading: str | None = None) -> RenderableType:
    """The problem screen: values, forward equations, the DAG drawing and the question."""
    values = Text("  ".join(f"{k} = {fmt_num(v)}" for k, v in problem.values), style="cyan")
    columns = Table.grid(padding=(0, 4))
    columns.add_column()
    columns.add_column()
    columns.add_row(Text("Forward pass", style="bold underline"),
                    Text("Graph", style="bold underline"))
    columns.add_row(_forward_listing(problem), render_graph(problem))
    ask = Text(problem.ask(question), style="bold")
    title = heading or f"Backprop · difficulty {problem.difficulty} · seed {problem.seed}"
    return Panel(Group(values, Text(""), columns, Text(""), ask), title=title,
                 title_align="left", border_style="blue")


def render_verdict(verdict: Verdict) -> RenderableType:
    if verdict.rejected:
        t = Text("⚠ Could not check that: ", style="bold yellow")
        t.append(f"{verdict.reason}.", style="yellow")
        if verdict.reject_code in ("syntax", "name"):
            return Group(t, Text(SYNTAX_HELP, style="dim"))
        return t
    if verdict.correct:
        return Text(f"✓ {verdict.feedback}", style="bold green")
    if verdict.steps:
        out = Text()
        out.append(f"✗ {verdict.feedback.splitlines()[0]}\n", style="bold red")
        for s in verdict.steps:
            mark, style = ("✓", "green") if s.correct else ("✗", "red")
            out.append(f"  {mark} ∂L/∂{s.wrt}", style=style)
            out.append("" if s.correct else f": {s.feedback}", style="")
            out.append("\n")
        out.rstrip()
        return out
    title, sep, rest = verdict.feedback.partition(": ")
    if not sep or len(title) > 30:
        title, rest = _MISTAKE_TITLES.get(verdict.mistake or "other", "Not quite"), verdict.feedback
    out = Text(f"✗ {title}: ", style="bold red")
    out.append(rest)
    return out


def _local_cell(text: str, value: float) -> str:
    formula = text.split(" = ", 1)[1]
    same = formula.replace("−", "-") == fmt_num(value)
    return formula if same else f"{formula} = {fmt_num(value)}"


def render_solution(problem: Problem, question: int = 0) -> RenderableType:
    """The worked solution: forward table, backward table with fan-out sums, and the paths."""
    sol = solve(problem, question)
    fwd = Table(box=box.SIMPLE_HEAD, padding=(0, 1), title="Forward pass", title_justify="left",
                title_style="bold")
    fwd.add_column("node", style="bold")
    fwd.add_column("definition")
    fwd.add_column("with values")
    fwd.add_column("value", justify="right")
    for r in sol.forward:
        fwd.add_row(r.node, r.equation, r.substituted, fmt_num(r.value))

    back = Table(box=box.SIMPLE_HEAD, padding=(0, 1), title="Backward pass (from L back to "
                 f"{sol.wrt})", title_justify="left", title_style="bold")
    back.add_column("∂L/∂", style="bold")
    back.add_column("via")
    back.add_column("local ∂via/∂node")
    back.add_column("× upstream", justify="right")
    back.add_column("= product", justify="right")
    back.add_column("total", justify="right")
    for row in sol.backward:
        style = "bold green" if row.node == sol.wrt else ""
        if not row.parts:
            back.add_row(row.node, "", "", "", "", "1", style=style)
            continue
        for k, part in enumerate(row.parts):
            last = k == len(row.parts) - 1
            name = row.node + (" ◆" if row.fan_out else "") if k == 0 else ""
            total = ""
            if last:
                total = ("Σ " if row.fan_out else "") + fmt_num(row.total)
            back.add_row(name, part.via, _local_cell(part.local, part.local_value),
                         fmt_num(part.upstream), fmt_num(part.product), total,
                         style=style if last else "")

    lines = Text()
    if len(sol.paths) > 1:
        lines.append(f"{sol.wrt} reaches L by {len(sol.paths)} paths (fan-out); their "
                     "contributions add up:\n")
        for names, v in zip(sol.paths, sol.path_values, strict=True):
            lines.append(f"  {' → '.join(names)}: {fmt_num(v)}\n")
    lines.append(f"∂L/∂{sol.wrt} = {fmt_num(sol.value)}", style="bold green")
    if abs(sol.value) < 1e-3 or abs(sol.value) >= 1e4 or fmt_num(sol.value) != fmt_num(sol.value, 3):
        lines.append(f"  (≈ {fmt_num(sol.value, 3)} to 3 significant figures)", style="dim")
    parts: list[RenderableType] = [Rule(f"Worked solution: ∂L/∂{sol.wrt}", align="left"),
                                   fwd, back, lines]
    if problem.question(question).form == "expression":
        parts.append(_expression_lines(problem, question))
    return Group(*parts)


def _expression_lines(problem: Problem, question: int) -> Text:
    from quizforge.drill.symbolic import expected_in_leaves, node_gradients, pretty

    wrt = problem.question(question).wrt
    by_nodes = pretty(node_gradients(problem.graph)[wrt])
    in_leaves = pretty(expected_in_leaves(problem.graph, wrt))
    t = Text(f"As an expression: ∂L/∂{wrt} = {by_nodes}", style="green")
    if in_leaves != by_nodes and len(in_leaves) <= 160:  # longer is not worth reading
        t.append(f"\n  = {in_leaves}", style="green")
    return t


def render_hint(problem: Problem, question: int, level: int) -> RenderableType:
    """Level 1: the paths to follow. Level 2 and up: the local gradient on every edge."""
    wrt = problem.question(question).wrt
    sol = solve(problem, question)
    t = Text("Hint: ", style="bold magenta")
    if level <= 1:
        if len(sol.paths) == 1:
            t.append(f"follow the single path {' → '.join(sol.paths[0])} and multiply the local "
                     "gradients along it.")
        else:
            t.append(f"{wrt} reaches L by {len(sol.paths)} paths: ")
            t.append("; ".join(" → ".join(p) for p in sol.paths))
            t.append(". Multiply local gradients along each path, then add the paths.")
        return t
    t.append("the local gradients you need:\n")
    for row in sol.backward[1:]:
        for part in row.parts:
            t.append(f"  {part.local}\n")
    t.rstrip()
    return t


# -- one problem, interactively ----------------------------------------------------------------
@dataclass(frozen=True)
class Attempt:
    """How one problem went. `correct`: solved without revealing the solution (retries allowed,
    see `tries`); `score`: 1/0, or the fraction of steps right in the step-by-step form."""

    problem: Problem = field(repr=False)
    question: int
    correct: bool
    first_try: bool
    tries: int  # graded answers (rejected ones do not count)
    hints: int
    revealed: bool
    quit: bool  # the user quit (q, or end of input) before finishing
    seconds: float
    score: float
    answers: tuple[str, ...]

    @property
    def skills(self) -> tuple[str, ...]:
        return self.problem.question(self.question).skills

    @property
    def attempted(self) -> bool:
        return self.tries > 0 or self.revealed


def _read(console: Console, read_line: ReadLine, prompt: str) -> str | None:
    line = read_line(prompt)
    if line is None:
        console.print()  # end of input leaves the cursor after the prompt
    return line


def _menu(problem: Problem, question: int, console: Console, read_line: ReadLine,
          hints: int) -> tuple[str, int]:
    """The hint/reveal menu. Returns (action, hints shown): action is back, reveal or quit."""
    console.print(Text("h: hint   r: reveal the solution   Enter: back to the question   q: quit",
                       style="dim"))
    line = _read(console, read_line, "choice> ")
    if line is None:
        return "quit", hints
    choice = line.strip().lower()
    if choice in ("h", "hint"):
        hints += 1
        console.print(render_hint(problem, question, hints))
        return "back", hints
    if choice in ("r", "reveal", "s", "solution"):
        return "reveal", hints
    if choice in QUIT:
        return "quit", hints
    return "back", hints


def _not_an_answer(text: str, problem: Problem, question: int, console: Console,
                   read_line: ReadLine, hints: int) -> tuple[str | None, int]:
    """Handle q, h and the hint/reveal menu. Returns (action, hints shown): action is quit,
    reveal or back, or None when `text` is an answer to grade."""
    if text.lower() in QUIT:
        return "quit", hints
    if text.lower() in ("h", "hint"):
        console.print(render_hint(problem, question, hints + 1))
        return "back", hints + 1
    if text in MENU:
        return _menu(problem, question, console, read_line, hints)
    return None, hints


def run_problem_interactive(
    problem: Problem,
    console: Console,
    read_line: ReadLine,
    question: int = 0,
    clock: Callable[[], float] = time.monotonic,
    heading: str | None = None,
) -> Attempt:
    """Ask one problem: show it, read answers, give feedback, then the worked solution.

    `read_line(prompt)` returns a line, or None at end of input (treated as quitting).
    Ctrl-C (KeyboardInterrupt) is left to the caller.
    """
    started = clock()
    console.print(render_problem(problem, question, heading))
    console.print(Text(KEYS_HELP, style="dim"))
    if problem.question(question).form == "steps":
        return _run_steps(problem, console, read_line, question, clock, started)
    answers: list[str] = []
    hints = 0
    first_try = False

    def done(correct=False, revealed=False, quit=False) -> Attempt:
        return Attempt(problem, question, correct, first_try, len(answers), hints, revealed, quit,
                       clock() - started, 1.0 if correct else 0.0, tuple(answers))

    while True:
        line = _read(console, read_line, "answer> ")
        if line is None:
            return done(quit=True)
        text = line.strip()
        action, hints = _not_an_answer(text, problem, question, console, read_line, hints)
        if action == "quit":
            return done(quit=True)
        if action == "reveal":
            console.print(render_solution(problem, question))
            return done(revealed=True)
        if action == "back":
            continue
        verdict = grade(problem, text, question)
        console.print(render_verdict(verdict))
        if verdict.rejected:
            continue
        answers.append(text)
        if verdict.correct:
            first_try = len(answers) == 1
            console.print(render_solution(problem, question))
            return done(correct=True)
        if len(answers) >= MAX_TRIES:
            console.print(Text(f"That was {MAX_TRIES} tries; here is the solution.", style="dim"))
            console.print(render_solution(problem, question))
            return done(revealed=True)
        console.print(Text("Try again, or ? for a hint or the solution.", style="dim"))


def _run_steps(problem: Problem, console: Console, read_line: ReadLine, question: int,
               clock: Callable[[], float], started: float) -> Attempt:
    steps = problem.steps(question)
    answers: list[str] = []
    right = 0
    hints = 0

    def done(revealed=False, quit=False) -> Attempt:
        correct = right == len(steps) and not revealed and not quit
        return Attempt(problem, question, correct, correct, len(answers), hints, revealed, quit,
                       clock() - started, right / len(steps), tuple(answers))

    for k, node in enumerate(steps):
        while True:
            line = _read(console, read_line, f"∂L/∂{node} = ")
            if line is None:
                return done(quit=True)
            text = line.strip()
            action, hints = _not_an_answer(text, problem, question, console, read_line, hints)
            if action == "quit":
                return done(quit=True)
            if action == "reveal":
                console.print(render_solution(problem, question))
                return done(revealed=True)
            if action == "back":
                continue
            verdict = grade_step(problem, question, k, text)
            if verdict.rejected:
                console.print(render_verdict(verdict))
                continue
            answers.append(text)
            if verdict.correct:
                right += 1
                console.print(Text(f"✓ ∂L/∂{node} = {fmt_num(verdict.value)}", style="green"))
            else:
                console.print(render_verdict(verdict))
                console.print(Text(f"  ∂L/∂{node} = {fmt_num(verdict.value)}; carrying on with "
                                   "that value.", style="dim"))
            break
    style = "bold green" if right == len(steps) else "bold yellow"
    console.print(Text(f"{right}/{len(steps)} steps right.", style=style))
    console.print(render_solution(problem, question))
    return done()


# -- a drill: several problems ---------------------------------------------------------------
@dataclass
class DrillSummary:
    attempts: list[Attempt] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def attempted(self) -> list[Attempt]:
        return [a for a in self.attempts if a.attempted]


def run_drill(
    problems: Iterable[Problem],
    console: Console,
    read_line: ReadLine,
    question: int = 0,
    count: int | None = None,
    clock: Callable[[], float] = time.monotonic,
    on_attempt: Callable[[Attempt], None] | None = None,
) -> DrillSummary:
    """Ask problems one after another until they run out, the user quits, or Ctrl-C.
    `on_attempt` is called with each attempted problem before the next one is shown."""
    summary = DrillSummary()
    started = clock()
    try:
        for i, problem in enumerate(problems):
            heading = (f"Problem {i + 1}{f'/{count}' if count else ''} · backprop · difficulty "
                       f"{problem.difficulty} · seed {problem.seed}")
            attempt = run_problem_interactive(problem, console, read_line, question, clock,
                                              heading)
            summary.attempts.append(attempt)
            if on_attempt is not None and attempt.attempted:
                on_attempt(attempt)
            if attempt.quit:
                break
    except KeyboardInterrupt:
        summary.interrupted = True
        console.print()
    summary.seconds = clock() - started
    return summary


def render_summary(summary: DrillSummary) -> RenderableType:
    done = summary.attempted
    correct = sum(a.correct for a in done)
    first = sum(a.first_try for a in done)
    mins, secs = divmod(round(summary.seconds), 60)
    t = Text()
    if done:
        t.append(f"{correct}/{len(done)} correct", style="bold")
        t.append(f" ({first} at the first try)")
        revealed = sum(a.revealed for a in done)
        if revealed:
            t.append(f" · {revealed} revealed")
        steps = [a for a in done if a.problem.question(a.question).form == "steps"]
        if steps:
            t.append(f" · step score {sum(a.score for a in steps) / len(steps):.0%}")
    else:
        t.append("No problems attempted")
    t.append(f" · {mins}m {secs:02d}s")
    if summary.interrupted:
        t.append(" · interrupted", style="dim")
    missed = [a for a in done if not a.correct]
    if missed:
        p = missed[0].problem
        form = f" -f {p.form}" if p.form != "number" else ""
        t.append(f"\nReplay a miss: quizforge drill backprop -d {p.difficulty}{form} -n 1 "
                 f"--seed {p.seed}", style="dim")
        if len(missed) > 1:
            t.append(f" (also missed: {', '.join(str(a.problem.seed) for a in missed[1:6])})",
                     style="dim")
    return Panel(t, title="Drill summary", title_align="left", border_style="cyan")
