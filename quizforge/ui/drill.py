"""Drill screens: rich renderables for problems, verdicts and worked solutions of any family,
the loop that asks one problem (`run_problem_interactive`), a drill of several (`run_drill`),
and the hook `quizforge study` uses for `type: generated` cards (`run_generated_card`).

Screens are functions from data to renderables: a problem describes itself as blocks
(`quizforge.drill.model`: Lines, Table, Columns) and this module draws them, without knowing
the family. User text is always wrapped in `Text`, never parsed as markup.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text

from quizforge.drill import Attempt, Verdict, generate, grade, grade_step
from quizforge.drill.model import Columns, Lines, Table, tensor_text
from quizforge.drill.parse import SYNTAX_HELP

ReadLine = Callable[[str], "str | None"]
OnKey = Callable[[str], bool]
MAX_TRIES = 3  # wrong answers before the solution is shown
QUIT = ("q", "quit", "exit")
MENU = ("", "?", "help")
KEYS_HELP = "Enter your answer · ? or empty line: hint / reveal · q: quit"
STUDY_KEYS_HELP = "Enter your answer · ?: hint / reveal · u: undo · s: suspend · q: quit"
FIRST_ANSWER_HELP = "Enter your answer: the first one counts (no hints, no retry) · q: quit"
NO_HINTS = "No hints in a mock round: type your answer (the first one counts), or q to quit."
TENSOR_HELP = "Tensors: [[1, 2], [3, 4]] or [1 2; 3 4]; fractions like -1/3 are fine."

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
    "shape": "Wrong shape",
    "transposed": "Transposed",
    "other": "Not quite",
}


# -- blocks --------------------------------------------------------------------------------------
class _Fit:
    """`wide` where it fits the width it is given, else `narrow` (stacked or listed): every
    screen reads at 60 columns and stays correct at 40."""

    def __init__(self, wide: RenderableType, narrow: RenderableType) -> None:
        self.wide, self.narrow = wide, narrow

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        need = Measurement.get(console, options.update_width(10_000), self.wide).maximum
        yield self.wide if need <= options.max_width else self.narrow


_NEGATIVE = re.compile(r"(?<![\w)\]])-(?=[0-9.])")


def minus(text: str) -> str:
    """One minus sign on every screen: −0.25, not -0.25 (the parser reads both)."""
    return _NEGATIVE.sub("−", text)


def render_block(block: Any) -> RenderableType:
    if isinstance(block, Columns):
        grid = RichTable.grid(padding=(0, 4))
        for _ in block.blocks:
            grid.add_column(no_wrap=True)
        parts = [render_block(b) for b in block.blocks]
        grid.add_row(*parts)
        return _Fit(grid, Group(*(Group(p, Text("")) for p in parts)))
    if isinstance(block, Table):
        t = RichTable(box=box.SIMPLE_HEAD, padding=(0, 1), title=block.title or None,
                      title_justify="left", title_style="bold")
        for i, c in enumerate(block.columns):
            t.add_column(c, style="bold" if i == 0 else None,
                         justify="right" if i >= 3 else "left", no_wrap=True)
        for k, row in enumerate(block.rows):
            t.add_row(*(Text(minus(c)) for c in row),
                      style="bold green" if k in block.highlight else "")
        return _Fit(t, _listed(block))
    assert isinstance(block, Lines)
    return _LinesBlock(block)


class _LinesBlock:
    """A Lines block. Labelled matrices a family set side by side ('X = ⎡ 1 2 ⎤    W = …')
    are set again to the width there is: on a narrow terminal they go one under another
    rather than wrap through each other."""

    def __init__(self, block: Lines) -> None:
        self.block = block

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        out = Text()
        if self.block.title:
            out.append(self.block.title + "\n", style="bold underline")
        out.append(minus("\n".join(reflow(list(self.block.lines), options.max_width))))
        yield out


_BRACKETS = set("⎡⎢⎣[")
_TOP = re.compile(r"^[^⎡⎢⎣\[]*[⎡\[]")  # a line whose first bracket opens a matrix's top row
# a matrix's label: 'g = ∂L/∂y = ⎢', 'Q[0] = ⎡'; not '−2 ⎥    g = ⎢' (a row, then a label)
_LABEL = re.compile(r"^(\S[^⎡⎢⎣⎤⎥⎦]*? = )[⎡⎢⎣\[]")
GAP = 4  # spaces between matrices set side by side (families/_tensor.side_by_side)


def reflow(lines: list[str], width: int) -> list[str]:
    """`lines` with each row of side-by-side matrices wider than `width` split at its
    gutters (columns blank on every line, GAP wide, with a 'name = ' after them) and packed
    again, as many side by side as fit. A row of matrices starts with a line that has a
    bracket and starts at the margin; the lines under it are indented."""
    out: list[str] = []
    group: list[str] = []
    for line in [*lines, None]:
        if line is not None and group and _BRACKETS & set(line) and not _TOP.match(line):
            group.append(line)
            continue
        if group:
            out += _pack(_segments(group), width) if max(map(len, group)) > width else group
            group = []
        if line is not None and _BRACKETS & set(line):
            group = [line]
        elif line is not None:
            out.append(line)
    return out


def _segments(para: list[str]) -> list[list[str]]:
    w = max(len(p) for p in para)
    blank = [all(c >= len(p) or p[c] == " " for p in para) for c in range(w)]
    cuts = [0]
    c = 0
    while c < w:
        if not blank[c]:
            c += 1
            continue
        end = c
        while end < w and blank[end]:
            end += 1
        right = [p[end:] for p in para]
        if c > 0 and end < w and end - c >= GAP and any(_LABEL.match(r) for r in right):
            cuts.append(end)
        c = end
    cuts.append(w)
    segs = []
    for a, b in zip(cuts, cuts[1:]):
        seg = [p[a:b].rstrip() for p in para]
        while seg and not seg[-1].strip():
            seg.pop()
        while seg and not seg[0].strip():
            seg.pop(0)
        indent = min(len(s) - len(s.lstrip()) for s in seg if s.strip())
        segs.append([s[indent:] for s in seg])
    return segs


def _unlabel(seg: list[str], width: int) -> list[str]:
    """A labelled matrix wider than `width` with its label on a line of its own above it
    ('P = softmax(ln 2·E) =', then the rows), which may then fit."""
    if max(len(s) for s in seg) <= width:
        return seg
    at = next((i for i, s in enumerate(seg) if _LABEL.match(s)), None)
    if at is None:
        return seg
    cut = _LABEL.match(seg[at]).end(1)
    if any(s[:cut].strip() for i, s in enumerate(seg) if i != at):
        return seg
    return [seg[at][:cut].rstrip(), *(s[cut:] for s in seg)]


def _pack(segs: list[list[str]], width: int) -> list[str]:
    segs = [_unlabel(seg, width) for seg in segs]
    groups: list[list[list[str]]] = [[]]
    used = 0
    for seg in segs:
        w = max(len(s) for s in seg)
        if groups[-1] and used + GAP + w > width:
            groups.append([])
            used = 0
        used += (GAP if groups[-1] else 0) + w
        groups[-1].append(seg)
    out: list[str] = []
    for gi, group in enumerate(groups):
        if gi:
            out.append("")
        widths = [max(len(s) for s in seg) for seg in group]
        for i in range(max(len(seg) for seg in group)):
            cells = [(seg[i] if i < len(seg) else "").ljust(w) for seg, w in zip(group, widths)]
            out.append((" " * GAP).join(cells).rstrip())
    return out


def _listed(block: Table) -> Text:
    """A table as one line per row, "column: value", for narrow terminals."""
    out = Text()
    if block.title:
        out.append(block.title + "\n", style="bold")
    for k, row in enumerate(block.rows):
        cells = [f"{c}: {v}" if i else v for i, (c, v) in enumerate(zip(block.columns, row,
                                                                          strict=True)) if v]
        out.append(minus("  ".join(cells)) + "\n",
                   style="bold green" if k in block.highlight else "")
    out.rstrip()
    return out


def render_blocks(blocks: Iterable[Any]) -> RenderableType:
    return Group(*(render_block(b) for b in blocks))


def render_problem(problem: Any, question: int = 0, heading: str | None = None) -> RenderableType:
    """The problem screen: what is given, the forward definitions, and the question."""
    q = problem.question(question)
    parts: list[RenderableType] = []
    for b in problem.display():
        parts += [render_block(b), Text("")]
    parts.append(Text(minus(q.ask), style="bold"))
    if q.shape and "[" not in q.ask:  # the family's own question may already show the format
        parts.append(Text(TENSOR_HELP, style="dim"))
    title = heading or (f"{problem.family} · difficulty {problem.difficulty} · "
                        f"seed {problem.seed}")
    return Panel(Group(*parts), title=title, title_align="left", border_style="blue")


def render_verdict(verdict: Verdict) -> RenderableType:
    if verdict.rejected:
        t = Text("⚠ Could not check that: ", style="bold yellow")
        t.append(f"{verdict.reason}.", style="yellow")
        if verdict.reject_code in ("syntax", "name") and SYNTAX_HELP not in (verdict.reason or ""):
            return Group(t, Text(SYNTAX_HELP, style="dim"))
        return t
    if verdict.correct:
        return Text(minus(f"✓ {verdict.feedback}"), style="bold green")
    if verdict.close:
        return Text(minus(f"≈ {verdict.feedback}"), style="bold yellow")
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
    out.append(minus(rest))
    return out


def render_solution(problem: Any, question: int = 0) -> RenderableType:
    label = problem.target(question).label  # ∂L/∂w, or "lr at step 500" for a schedule
    return Group(Rule(f"Worked solution: {label}", align="left"),
                 render_blocks(problem.solution(question)))


def render_hint(problem: Any, question: int, level: int) -> RenderableType:
    hints = problem.hints(question)
    t = Text("Hint: ", style="bold magenta")
    t.append(hints[min(level, len(hints)) - 1] if hints else "work backwards from L.")
    return t


# -- one problem, interactively --------------------------------------------------------------------
def _read(console: Console, read_line: ReadLine, prompt: str) -> str | None:
    line = read_line(prompt)
    if line is None:
        console.print()  # end of input leaves the cursor after the prompt
    return line


def _menu(problem: Any, question: int, console: Console, read_line: ReadLine,
          hints: int) -> tuple[str, int]:
    """The hint/reveal menu. Returns (action, hints shown): action is back, reveal or quit."""
    console.print(Text("h: hint   r: reveal the solution   Enter: back to the question   q: quit",
                       style="dim"))
    line = _read(console, read_line, "choice> ")
    if line is None:
        return "quit", hints
    choice = line.strip().lower()
    if choice in ("h", "hint"):
        return _not_an_answer("h", problem, question, console, read_line, hints)
    if choice in ("r", "reveal", "s", "solution"):
        return "reveal", hints
    if choice in QUIT:
        return "quit", hints
    return "back", hints


def _not_an_answer(text: str, problem: Any, question: int, console: Console,
                   read_line: ReadLine, hints: int,
                   first_answer: bool = False) -> tuple[str | None, int]:
    """Handle q, h and the hint/reveal menu. Returns (action, hints shown): action is quit,
    reveal or back, or None when `text` is an answer to grade. With `first_answer` (a mock
    round) there is no hint and no reveal."""
    if text.lower() in QUIT:
        return "quit", hints
    if first_answer and (text.lower() in ("h", "hint") or text in MENU):
        console.print(Text(NO_HINTS, style="dim"))
        return "back", hints
    if text.lower() in ("h", "hint"):
        available = len(problem.hints(question))
        if hints >= available:
            console.print(Text("No more hints: r reveals the solution.", style="dim"))
            return "back", hints
        console.print(render_hint(problem, question, hints + 1))
        return "back", hints + 1
    if text in MENU:
        return _menu(problem, question, console, read_line, hints)
    return None, hints


def run_problem_interactive(
    problem: Any,
    console: Console,
    read_line: ReadLine,
    question: int = 0,
    clock: Callable[[], float] = time.monotonic,
    heading: str | None = None,
    first_answer: bool = False,
    on_key: OnKey | None = None,
    keys_help: str | None = None,
) -> Attempt:
    """Ask one problem: show it, read answers, give feedback, then the worked solution.

    `read_line(prompt)` returns a line, or None at end of input (treated as quitting).
    Ctrl-C (KeyboardInterrupt) is left to the caller. A "close" answer (2 significant
    figures) is asked again and does not count as a try. With `first_answer` (interview
    conditions) the first graded answer is the only one, and there are no hints.
    `on_key(text)` sees each typed line first and returns True when it took it as a key of
    the screen around the problem (study's u and s): that line is not graded. It may raise
    to leave the problem.
    """
    started = clock()
    console.print(render_problem(problem, question, heading))
    console.print(Text(keys_help or (FIRST_ANSWER_HELP if first_answer else KEYS_HELP),
                       style="dim"))
    if problem.question(question).form == "steps":
        return _run_steps(problem, console, read_line, question, clock, started, first_answer,
                          on_key)
    answers: list[str] = []
    hints = 0

    def done(solved=False, revealed=False, quit=False) -> Attempt:
        first = solved and len(answers) == 1 and hints == 0
        return Attempt(problem, question, solved, first, len(answers), hints, revealed, quit,
                       clock() - started, 1.0 if first else 0.0, tuple(answers))

    while True:
        line = _read(console, read_line, "answer> ")
        if line is None:
            return done(quit=True)
        text = line.strip()
        if on_key is not None and on_key(text):
            continue
        action, hints = _not_an_answer(text, problem, question, console, read_line, hints,
                                       first_answer)
        if action == "quit":
            return done(quit=True)
        if action == "reveal":
            console.print(render_solution(problem, question))
            return done(revealed=True)
        if action == "back":
            continue
        verdict = grade(problem, text, question)
        console.print(render_verdict(verdict))
        if not verdict.graded:
            continue
        answers.append(text)
        if verdict.correct:
            console.print(render_solution(problem, question))
            return done(solved=True)
        if first_answer:
            console.print(render_solution(problem, question))
            return done()
        if len(answers) >= MAX_TRIES:
            console.print(Text(f"That was {MAX_TRIES} tries; here is the solution.", style="dim"))
            console.print(render_solution(problem, question))
            return done(revealed=True)
        console.print(Text("Try again, or ? for a hint or the solution.", style="dim"))


def _run_steps(problem: Any, console: Console, read_line: ReadLine, question: int,
               clock: Callable[[], float], started: float,
               first_answer: bool = False, on_key: OnKey | None = None) -> Attempt:
    steps = problem.steps(question)
    answers: list[str] = []
    right = 0
    hints = 0

    def done(revealed=False, quit=False) -> Attempt:
        solved = right == len(steps) and not revealed and not quit
        return Attempt(problem, question, solved, solved and hints == 0, len(answers), hints,
                       revealed, quit, clock() - started, right / len(steps), tuple(answers))

    for k, target in enumerate(steps):
        while True:
            line = _read(console, read_line, f"{target.label} = ")
            if line is None:
                return done(quit=True)
            text = line.strip()
            if on_key is not None and on_key(text):
                continue
            action, hints = _not_an_answer(text, problem, question, console, read_line, hints,
                                           first_answer)
            if action == "quit":
                return done(quit=True)
            if action == "reveal":
                console.print(render_solution(problem, question))
                return done(revealed=True)
            if action == "back":
                continue
            verdict = grade_step(problem, question, k, text)
            if not verdict.graded:
                console.print(render_verdict(verdict))
                continue
            answers.append(text)
            if verdict.correct:
                right += 1
                console.print(Text(f"✓ {target.label} = {tensor_text(target.value)}",
                                   style="green"))
            else:
                console.print(render_verdict(verdict))
                console.print(Text(f"  {target.label} = {tensor_text(target.value)}; carrying on "
                                   "with that value.", style="dim"))
            break
    style = "bold green" if right == len(steps) else "bold yellow"
    console.print(Text(f"{right}/{len(steps)} steps right.", style=style))
    console.print(render_solution(problem, question))
    return done()


# -- a drill: several problems ----------------------------------------------------------------------
@dataclass
class DrillSummary:
    attempts: list[Attempt] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def attempted(self) -> list[Attempt]:
        return [a for a in self.attempts if a.attempted]


def run_drill(
    problems: Iterable[Any],
    console: Console,
    read_line: ReadLine,
    question: int | None = None,
    count: int | None = None,
    clock: Callable[[], float] = time.monotonic,
    on_attempt: Callable[[Attempt], None] | None = None,
    pause: Callable[[], bool] | None = None,
) -> DrillSummary:
    """Ask problems one after another — every question of each in turn, or only `question` —
    until they run out, the user quits, or Ctrl-C. Each question is its own attempt;
    `on_attempt` is called with each attempted one before the next is shown; `pause()` (if
    given) waits between questions and returns False to stop."""
    summary = DrillSummary()
    started = clock()
    asked = 0
    try:
        for i, problem in enumerate(problems):
            indexes = [question] if question is not None else range(len(problem.questions))
            for k in indexes:
                if asked and pause is not None and not pause():
                    raise _Stop
                asked += 1
                part = (f" · question {k + 1}/{len(problem.questions)}"
                        if question is None and len(problem.questions) > 1 else "")
                heading = (f"Problem {i + 1}{f'/{count}' if count else ''}{part} · "
                           f"{problem.family} · difficulty {problem.difficulty} · "
                           f"seed {problem.seed}")
                attempt = run_problem_interactive(problem, console, read_line, k, clock,
                                                  heading)
                summary.attempts.append(attempt)
                if on_attempt is not None and attempt.attempted:
                    on_attempt(attempt)
                if attempt.quit:
                    raise _Stop
    except _Stop:
        pass
    except KeyboardInterrupt:
        summary.interrupted = True
        console.print()
    summary.seconds = clock() - started
    return summary


class _Stop(Exception):
    """The user quit: leave both loops."""


def render_summary(summary: DrillSummary) -> RenderableType:
    done = summary.attempted
    first = sum(a.correct for a in done)
    later = sum(a.solved and not a.correct for a in done)
    mins, secs = divmod(round(summary.seconds), 60)
    t = Text()
    if done:
        t.append(f"{first}/{len(done)} right at the first try", style="bold")
        if later:
            t.append(f" · {later} solved after a retry or hint")
        revealed = sum(a.revealed for a in done)
        if revealed:
            t.append(f" · {revealed} revealed")
        steps = [a for a in done if a.form == "steps"]
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
        t.append(f"\nReplay a miss: quizforge drill {p.family} -d {p.difficulty}{form} -n 1 "
                 f"--seed {p.seed} -q {missed[0].question}", style="dim")
        # one seed per problem (two questions of one problem missed are one seed to replay)
        others = list(dict.fromkeys(a.problem.seed for a in missed[1:]
                                    if a.problem.seed != p.seed))
        if others:
            t.append(f" (also missed: {', '.join(map(str, others[:5]))})", style="dim")
    return Panel(t, title="Drill summary", title_align="left", border_style="cyan")


# -- study: a `type: generated` deck card --------------------------------------------------------------
def run_generated_card(card: Any, console: Console, reader: Any, seed: int,
                       first_answer: bool = False, on_key: OnKey | None = None) -> Attempt:
    """Ask one fresh problem for `card` (a GeneratedCard) with `seed`; `reader.line(prompt)`
    reads a line (None at end of input). The caller stores it only if `attempt.attempted`.
    `first_answer`: interview conditions (no hints, no retry). `on_key`: the study screen's
    u (undo) and s (suspend), taken before an answer is graded."""
    problem = generate(card.generator, seed, card.difficulty, card.form)
    if card.prompt:
        console.print(Text(card.prompt, style="bold"))
    return run_problem_interactive(
        problem, console, reader.line,
        heading=f"{card.id} · {problem.family} · difficulty {problem.difficulty} · "
                f"seed {problem.seed}",
        first_answer=first_answer,
        on_key=on_key,
        keys_help=STUDY_KEYS_HELP if on_key is not None else None,
    )
