"""The mock interview screen: one question after another under a clock, then the scorecard.

Interview conditions: the time left is on every question's header and every prompt; no
hints; a drill takes its first answer; an explain card's rubric appears only after the
candidate says done. Each answer is committed (`commit`) before the next question is shown.
The round ends when the questions run out, when time is up (a question under way is
finished first, and the screen says so), at q, or at Ctrl-C.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from quizforge.decks.model import LETTERS, MCQ, ExplainCard, Flashcard, FormulaCard, GeneratedCard
from quizforge.scheduling.scheduler import RATING_LABELS, Rating
from quizforge.study.mock import (
    KIND_SKILL,
    Candidate,
    Comparison,
    MockAnswer,
    RoundResult,
    rating_score,
    study_next,
)
from quizforge.ui.keys import Reader
from quizforge.ui.study import (
    _Header,
    explain_after,
    explain_points,
    explain_question,
    explain_verdict,
    flashcard_back,
    flashcard_front,
    formula_question,
    formula_result,
    keys_hint,
    mcq_question,
    mcq_result,
)

KIND_LABEL = {"explain": "explain", "mcq": "multiple choice", "flashcard": "flashcard",
              "formula": "formula", "generated": "drill"}
# commit(position, candidate, rating, score, topics, skills, duration_ms, attempt or None)
Commit = Callable[[int, Candidate, Rating, float, tuple[str, ...], tuple[str, ...], int, Any],
                  None]


def clock_text(seconds: float) -> str:
    """'23:05 left', '0:00 left' once time is up."""
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d} left"


@dataclass
class Outcome:
    answers: list[MockAnswer] = field(default_factory=list)
    ended: str = "done"  # done | time | quit | interrupted


class _End(Exception):
    def __init__(self, how: str) -> None:
        self.how = how


class MockScreen:
    def __init__(self, questions: Sequence[tuple[Candidate, Any]], console: Console,
                 reader: Reader, clock: Callable[[], datetime], deadline: datetime,
                 commit: Commit, run_generated: Callable | None = None,
                 rng: random.Random | None = None) -> None:
        self.questions = list(questions)
        self.console = console
        self.reader = reader
        self.clock = clock
        self.deadline = deadline
        self.commit = commit
        self.run_generated = run_generated
        self.rng = rng or random.Random(0)
        self.outcome = Outcome()

    # -- helpers --------------------------------------------------------------------------
    def left(self) -> float:
        return (self.deadline - self.clock()).total_seconds()

    def _keys(self, *pairs: tuple[str, str]) -> None:
        bar = keys_hint(*pairs)
        bar.items.append(Text(clock_text(self.left()), style="bold magenta"))
        self.console.print(bar)

    def _key(self) -> str:
        k = self.reader.key()
        if k is None:
            raise _End("quit")
        return k.lower() if len(k) == 1 else k

    def _line(self, prompt: str) -> str:
        text = self.reader.line(f"[{clock_text(self.left())}] {prompt}") \
            if self.reader.interactive else self.reader.line()
        if text is None:
            if self.reader.interactive:
                self.console.print()
            raise _End("quit")
        return text.strip()

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> Outcome:
        try:
            for n, (cand, card) in enumerate(self.questions, 1):
                if self.left() <= 0:
                    self.console.print(Text("Time is up: the round is over.", style="bold magenta"))
                    self.outcome.ended = "time"
                    break
                if self.console.is_terminal:
                    self.console.clear()
                left = Text(f"Mock round · question {n}/{len(self.questions)} · ", style="bold")
                left.append(KIND_LABEL.get(cand.kind, cand.kind))
                left.append(f"  {cand.deck_id}/{cand.card_id}", style="dim")
                self.console.print(_Header(left, Text(clock_text(self.left()),
                                                      style="bold magenta")))
                self._ask(n, cand, card)
                if self.left() <= 0:
                    self.console.print(Text(
                        "Time is up: it ran out during this question, and your answer counts. "
                        "The round is over.", style="bold magenta"))
                    self.outcome.ended = "time"
                    break
                if self.reader.interactive and n < len(self.questions):
                    self._keys(("any key", "next question"), ("q", "end the round"))
                    if self._key() == "q":
                        raise _End("quit")
        except _End as e:
            self.outcome.ended = e.how
        except KeyboardInterrupt:
            self.outcome.ended = "interrupted"
            self.console.print()
        return self.outcome

    def _ask(self, n: int, cand: Candidate, card: Any) -> None:
        started = self.clock()
        if isinstance(card, ExplainCard):
            got = self._explain(card)
        elif isinstance(card, MCQ):
            got = self._mcq(card)
        elif isinstance(card, FormulaCard):
            got = self._formula(card)
        elif isinstance(card, GeneratedCard):
            got = self._generated(card)
        elif isinstance(card, Flashcard):
            got = self._flashcard(card)
        else:
            raise TypeError(card)
        rating, score, extra, attempt, after, command = got
        ms = max(0, round((self.clock() - started).total_seconds() * 1000))
        skills = (KIND_SKILL[cand.kind], *extra)
        topics = tuple(card.tags) or cand.tags  # the card's own tags; its deck's if none
        self.commit(n, cand, rating, score, topics, skills, ms, attempt)
        self.outcome.answers.append(MockAnswer(n, cand.deck_id, cand.card_id, cand.kind,
                                               topics, skills, score, int(rating), ms / 1000,
                                               command))
        if after is not None:
            self.console.print(after)

    # -- each kind: (rating, score, extra skills, attempt, shown after commit, command) ----
    def _flashcard(self, card: Flashcard):
        self.console.print(flashcard_front(replace(card, hint=None)))
        self._keys(("Enter", "done answering"), ("q", "end the round"))
        if self._key() == "q":
            raise _End("quit")
        self.console.print(flashcard_back(card))
        self.console.print(Text("Grade yourself as an interviewer would:", style="bold"))
        self._keys(*((str(int(r)), RATING_LABELS[r]) for r in Rating), ("q", "end the round"))
        while True:
            k = self._key()
            if k == "q":
                raise _End("quit")
            if k in ("1", "2", "3", "4"):
                rating = Rating(int(k))
                return rating, rating_score("flashcard", rating), (), None, None, None
            if not self.reader.interactive:
                self.console.print(Text("Grade with 1, 2, 3 or 4.", style="red"))

    def _mcq(self, card: MCQ):
        order = list(range(len(card.choices)))
        if card.shuffle:
            self.rng.shuffle(order)
        self.console.print(mcq_question(card, order))
        letters = LETTERS[: len(order)]
        span = f"{letters[0]}–{letters[-1]}"
        self._keys((span, "pick letters, then Enter" if card.multi else "answer"),
                   ("q", "end the round"))
        warned = False
        while True:
            text = (self._line("> ").lower() if card.multi and self.reader.interactive
                    else self._key())
            if text == "q":
                raise _End("quit")
            chosen = [c for c in text if c in letters]
            bad = [c for c in text if c not in letters and c not in ", "]
            if chosen and not bad and (card.multi or len(chosen) == 1):
                break
            if not warned:
                what = "letters" if card.multi else "one letter"
                self.console.print(Text(f"Choose {what} from a to {letters[-1]}.", style="red"))
                warned = True
        picked = {order[letters.index(c)] for c in chosen}
        ok = picked == set(card.answer)
        rating = Rating.GOOD if ok else Rating.AGAIN
        return rating, float(ok), (), None, mcq_result(card, order, picked), None

    def _formula(self, card: FormulaCard):
        from quizforge.decks.formula import give_up, grade_formula

        self.console.print(formula_question(card))
        self._keys(("Enter", "check (the first formula counts)"), ("empty line", "pass"),
                   ("q", "end the round"))
        while True:
            text = self._line("> ")
            if text.lower() == "q" and "q" not in card.variables:
                raise _End("quit")
            verdict = give_up(card) if not text else grade_formula(card, text)
            if verdict.graded:
                break
            self.console.print(Text(f"{verdict.feedback} Not graded: try again.", style="red"))
        rating = Rating.GOOD if verdict.correct else Rating.AGAIN
        return rating, float(verdict.correct), (), None, formula_result(card, verdict), None

    def _explain(self, card: ExplainCard):
        from quizforge.study.rubric import TickError, parse_ticks, rubric_rating

        self.console.print(explain_question(card, hint=False))
        self._keys(("Enter", "done answering"), ("q", "end the round"))
        if self._line("answer> ").lower() == "q":
            raise _End("quit")
        self.console.print(explain_points(card))
        self._keys(("1 3 4", "the points you covered"), ("Enter", "none"),
                   ("q", "end the round"))
        while True:
            text = self._line("covered> ")
            if text.lower() == "q":
                raise _End("quit")
            try:
                ticked = parse_ticks(text, len(card.points))
                break
            except TickError as e:
                self.console.print(Text(f"{str(e)[0].upper()}{str(e)[1:]}.", style="red"))
        rating = rubric_rating(len(ticked), len(card.points))
        self.console.print(explain_verdict(card, ticked, rating))
        return (rating, len(ticked) / len(card.points), (), None, explain_after(card), None)

    def _generated(self, card: GeneratedCard):
        from quizforge.reports.skills import family_command
        from quizforge.study.mastery import attempt_record, fsrs_rating

        if self.run_generated is None:
            raise TypeError("generated cards need the drill engine")
        attempt = self.run_generated(card, self.console, _TimedReader(self),
                                     self.rng.randrange(2**31), first_answer=True)
        if attempt is None or not attempt.attempted:
            raise _End("quit")
        record = attempt_record(attempt, self.clock())
        return (fsrs_rating(attempt.rating), float(attempt.score), tuple(attempt.skills),
                record, None, family_command(attempt.family, attempt.difficulty))


class _TimedReader:
    """The drill's typed answers, with the time left in front of each prompt."""

    def __init__(self, screen: MockScreen) -> None:
        self.screen = screen
        self.interactive = screen.reader.interactive

    def key(self) -> str | None:
        return self.screen.reader.key()

    def line(self, prompt: str = "") -> str | None:
        if not self.interactive:
            return self.screen.reader.line(prompt)
        return self.screen.reader.line(f"[{clock_text(self.screen.left())}] {prompt}")


# -- the scorecard ------------------------------------------------------------------------
ENDED = {"done": "every question answered", "time": "time ran out", "quit": "ended early",
         "interrupted": "interrupted (Ctrl-C)"}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _lines_table(title: str, lines, limit: int = 6) -> Table:
    t = Table(title=title, title_justify="left", title_style="bold", box=None,
              padding=(0, 1), show_header=False)
    t.add_column(overflow="fold")
    t.add_column(justify="right", no_wrap=True)
    t.add_column(justify="right", no_wrap=True, style="dim")
    for line in list(lines)[:limit]:
        t.add_row(Text(line.name), _pct(line.score), f"×{line.answers}")
    return t


def scorecard(r: RoundResult, comparison: Comparison) -> RenderableType:
    parts: list[RenderableType] = []
    head = Text(f"Score {_pct(r.score)}", style="bold")
    mins, secs = divmod(round(r.seconds), 60)
    head.append(f" · {len(r.answers)} of {r.planned} questions · {mins}m {secs:02d}s"
                f" · {ENDED.get(r.ended or 'done', r.ended)}")
    parts.append(head)
    if r.answers:
        grid = Table.grid(padding=(0, 3))
        grid.add_column()
        grid.add_column()
        grid.add_row(_lines_table("By topic", r.topics),
                     _lines_table("By skill", r.skills))
        parts += [Text(""), grid]
        times = Table(title="Time per question", title_justify="left", title_style="bold",
                      box=None, padding=(0, 1), show_header=False)
        times.add_column(justify="right", style="dim", no_wrap=True)
        times.add_column(overflow="fold")
        times.add_column(no_wrap=True)
        times.add_column(justify="right", no_wrap=True)
        times.add_column(justify="right", no_wrap=True)
        for a in r.answers:
            m, s = divmod(round(a.seconds), 60)
            times.add_row(f"{a.position}.", Text(f"{a.deck_id}/{a.card_id}"),
                          KIND_LABEL.get(a.kind, a.kind), _pct(a.score), f"{m}:{s:02d}")
        parts += [Text(""), times]
    nxt = study_next(r)
    if nxt:
        t = Text("Study next\n", style="bold")
        for what, command in nxt:
            t.append(f"  {what}: ", style="dim")
            t.append(command + "\n")
        t.rstrip()
        parts += [Text(""), t]
    parts += [Text(""), comparison_text(comparison, r)]
    return Panel(Group(*parts), title="Mock round scorecard", title_align="left",
                 border_style="cyan")


def comparison_text(c: Comparison, r: RoundResult) -> Text:
    if not c.previous:
        return Text("First round: the next one will be compared with this one.", style="dim")
    t = Text("Compared with earlier rounds\n", style="bold")
    for p in c.previous:
        when = f"{p.started_at.astimezone():%Y-%m-%d %H:%M}" if p.started_at else "?"
        t.append(f"  round {p.id}  {when}  {_pct(p.score)}  ({len(p.answers)} questions)\n",
                 style="dim")
    t.append(f"  this round    {_pct(r.score)}")
    if c.change is not None:
        sign = "+" if c.change >= 0 else "−"
        style = "green" if c.change > 0 else "red" if c.change < 0 else "dim"
        t.append(f"  {sign}{abs(c.change) * 100:.0f} points on the last round", style=style)
    if c.topics:
        t.append("\n  topics now vs before: ")
        t.append(", ".join(f"{name} {_pct(now)} ({_pct(before)})"
                           for name, now, before in c.topics[:5]), style="dim")
    return t
