"""The study screen: renderables for each card and the key-driven loop around a Session.

Deck text is always wrapped in `Text`, never parsed as rich markup, so a card may
contain [brackets] safely.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from quizforge.decks.model import LETTERS, MCQ, ExplainCard, Flashcard, FormulaCard, GeneratedCard
from quizforge.scheduling.scheduler import RATING_LABELS, Rating, State, format_interval
from quizforge.study.queue import Entry
from quizforge.study.session import Session
from quizforge.ui.keys import Reader

if TYPE_CHECKING:  # the grading module pulls in the drill's parser: imported when needed
    from quizforge.decks.formula import FormulaVerdict

RATING_STYLE = {Rating.AGAIN: "red", Rating.HARD: "yellow", Rating.GOOD: "green", Rating.EASY: "cyan"}
STATE_NAME = {State.NEW: "new", State.LEARNING: "learning", State.REVIEW: "review", State.RELEARNING: "relearning"}
COUNTED_AS = {State.NEW: "new", State.LEARNING: "learning", State.RELEARNING: "learning", State.REVIEW: "review"}


# -- renderables ----------------------------------------------------------------------------
def header(
    entry: Entry, counts: dict[str, int], done: int, cram: bool, early: bool = False
) -> RenderableType:
    left = Text(f"{entry.deck_id} · {entry.card_id}", style="bold")
    state = "cram" if cram else STATE_NAME[entry.schedule.state] + (", early" if early else "")
    left.append(f"  ({state})", style="dim")
    right = Text()
    right.append(f"{counts['new']} new", style="blue")
    right.append(" · ")
    right.append(f"{counts['learning']} learning", style="red")
    right.append(" · ")
    right.append(f"{counts['review']} due", style="green")
    right.append(f" · {done} done", style="dim")
    return _Header(left, right)


class _Header:
    """The card on the left and the counts on the right; on a terminal too narrow for both,
    the card on a line of its own, then the counts."""

    def __init__(self, left: Text, right: Text) -> None:
        self.left, self.right = left, right

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if self.left.cell_len + 2 + self.right.cell_len <= width:
            line = self.left.copy()
            line.append(" " * (width - self.left.cell_len - self.right.cell_len))
            line.append_text(self.right)
            yield line
            return
        yield self.left  # wraps rather than cut: the card id is how you find the card again
        yield self.right


class Flow:
    """Items (key hints, grades) laid out on as few lines as fit, never broken inside an
    item: at 40 columns `3  Good 10m` stays together."""

    def __init__(self, items: list[Text], sep: str = "   ") -> None:
        self.items, self.sep = items, sep

    @property
    def plain(self) -> str:
        return self.sep.join(item.plain for item in self.items)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        line = Text()
        for item in self.items:
            if line.cell_len and line.cell_len + len(self.sep) + item.cell_len > width:
                yield line
                line = Text()
            if line.cell_len:
                line.append(self.sep)
            line.append_text(item)
        if line.cell_len:
            yield line


def keys_hint(*pairs: tuple[str, str]) -> Flow:
    items = []
    for key, label in pairs:
        t = Text()
        t.append(key, style="bold reverse")
        t.append(f" {label}", style="dim")
        items.append(t)
    return Flow(items)


def flashcard_front(card: Flashcard) -> RenderableType:
    body: list[RenderableType] = [Text(card.front)]
    if card.hint:
        body.append(Text(f"\nHint: {card.hint}", style="dim italic"))
    return Panel(Group(*body), title="Question", title_align="left", border_style="blue")


def flashcard_back(card: Flashcard) -> RenderableType:
    body: list[RenderableType] = [Text(card.back)]
    if card.explanation:
        body.append(Text("\n" + card.explanation, style="dim"))
    return Panel(Group(*body), title="Answer", title_align="left", border_style="green")


# -- media: an imported card's [image: file] / [sound: file], opened with the system viewer --

_MEDIA = re.compile(r"\[(?:image|sound): ([^\]\n]+)\]")


def card_media(card: Flashcard, deck_path: Path | None, answered: bool) -> list[Path]:
    """The media files a flashcard names that exist in its deck's media folder
    (`<deck-file-stem>.media/`); before the answer only those on the front (and hint)."""
    from quizforge.importing.media import media_folder, safe_name

    if deck_path is None:
        return []
    texts = [card.front, card.hint or ""]
    if answered:
        texts += [card.back, card.explanation or ""]
    folder = media_folder(deck_path)
    out: list[Path] = []
    for name in dict.fromkeys(m for t in texts for m in _MEDIA.findall(t)):
        safe = safe_name(name.strip())
        if safe and (folder / safe).is_file():
            out.append(folder / safe)
    return out


def open_media(paths: list[Path]) -> Text:
    """Open each file with the system viewer (xdg-open, open, or Windows' default); when there
    is none (or, on Linux, no graphical session), say where the files are."""
    opener = ("open" if sys.platform == "darwin" else None if os.name == "nt" else "xdg-open")
    graphical = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if opener == "xdg-open" and not graphical:
        opener = None  # no graphical session (ssh, a console): nothing could show it
    opened = []
    for path in paths:
        try:
            if os.name == "nt":
                os.startfile(path)  # type: ignore[attr-defined]
            elif opener and shutil.which(opener):
                subprocess.Popen([opener, str(path)], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
            else:
                break
            opened.append(path)
        except OSError:
            break
    if len(opened) == len(paths):
        return Text("Opened " + ", ".join(p.name for p in paths) + ".", style="dim")
    return Text("No viewer to open it with: " + ", ".join(str(p) for p in paths), style="yellow")


# py-fsrs fuzzes review intervals of 2.5 days or more; shorter ones are stored as shown.
FUZZ_FROM = timedelta(days=2.5)


def rating_bar(preview: dict[Rating, timedelta], fuzz: bool = False) -> Flow:
    """The four grades with the interval each gives. With fuzz on, an interval long enough
    to be fuzzed is stored within a few days of the one shown: it reads "≈8d"."""
    items = []
    for r in Rating:
        t = Text()
        t.append(f" {int(r)} ", style=f"bold reverse {RATING_STYLE[r]}")
        t.append(f" {RATING_LABELS[r]} ", style=RATING_STYLE[r])
        approx = "≈" if fuzz and preview[r] >= FUZZ_FROM else ""
        t.append(approx + format_interval(preview[r]), style="dim")
        items.append(t)
    return Flow(items)


def mcq_question(card: MCQ, order: list[int]) -> RenderableType:
    body = Table.grid(padding=(0, 1))
    body.add_column(no_wrap=True)
    body.add_column()
    for pos, idx in enumerate(order):
        body.add_row(Text(f"{LETTERS[pos]})", style="bold"), Text(card.choices[idx]))
    title = "Select all that apply" if card.multi else "Choose one"
    if title.lower() in card.question.lower():  # the deck already says it: once is enough
        title = ""
    return Panel(
        Group(Text(card.question), Text(""), body),
        title=f"Question · {title}" if title else "Question",
        title_align="left",
        border_style="blue",
    )


def mcq_result(card: MCQ, order: list[int], picked: set[int]) -> RenderableType:
    """Each choice marked: ✓ a right answer, ✗ a wrong pick. Select-all: each of your picks
    says "← right" or "← wrong", each right answer you did not pick "← missed"."""
    correct = set(card.answer)
    ok = picked == correct
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column()
    for pos, idx in enumerate(order):
        if idx in correct:
            mark, style = "✓", "green"
        elif idx in picked:
            mark, style = "✗", "red"
        else:
            mark, style = " ", "dim"
        choice = Text(card.choices[idx], style=style)
        note = _pick_note(idx in picked, idx in correct, card.multi)
        if note:
            choice.append(f"  ← {note[0]}", style=note[1])
        table.add_row(Text(mark, style=style), Text(f"{LETTERS[pos]})", style=style), choice)
    verdict = Text("Correct!", style="bold green") if ok else Text("Not quite.", style="bold red")
    if not ok:
        letters = ", ".join(LETTERS[order.index(i)] for i in sorted(correct, key=order.index))
        verdict.append(f"  The answer is {letters}.", style="red")
    body: list[RenderableType] = [verdict, Text(""), table]
    if card.explanation:
        body += [Text(""), Text(card.explanation)]
    # The verdict again on the bottom edge: on a short terminal the panel's top has scrolled
    # away by the time it is read, and the bottom is next to the prompt.
    short = Text("Correct!" if ok else "Not quite.", style="bold green" if ok else "bold red")
    return Panel(Group(*body), title="Answer", title_align="left", subtitle=short,
                 subtitle_align="left", border_style="green" if ok else "red")


def formula_question(card: FormulaCard) -> RenderableType:
    from quizforge.decks.formula import describe_variables

    names = Text(f"\nIn terms of {describe_variables(card.variables)}. Write + − · / ^ ² √ e^x "
                 "and exp log σ tanh sqrt relu abs max min; step(x) is 1 for x > 0, else 0.",
                 style="dim")
    return Panel(Group(Text(card.question), names), title="Question · Type a formula",
                 title_align="left", border_style="blue")


def formula_result(card: FormulaCard, verdict: FormulaVerdict) -> RenderableType:
    """✓ or ✗, the learner's formula, the expected form, the named mistake, the explanation."""
    ok = verdict.correct
    if ok:
        head = Text("✓ Correct!", style="bold green")
    elif verdict.mistake == "gave-up":
        head = Text("✗ No answer given (graded Again).", style="bold red")
    else:
        head = Text("✗ Not quite.", style="bold red")
    body: list[RenderableType] = [head]
    if not ok and verdict.mistake not in ("other", "gave-up"):
        body.append(Text(verdict.feedback, style="red"))  # the named mistake
    body.append(Text(""))
    rows = Table.grid(padding=(0, 1))
    rows.add_column(no_wrap=True, style="dim")
    rows.add_column()
    if verdict.answer:
        rows.add_row("yours", Text(verdict.answer, style="green" if ok else "red"))
    rows.add_row("answer", Text(card.answer, style="bold green"))
    body.append(rows)
    if card.explanation:
        body += [Text(""), Text(card.explanation)]
    return Panel(Group(*body), title="Answer", title_align="left", border_style="green" if ok else "red")


def explain_question(card: ExplainCard, hint: bool = True) -> RenderableType:
    body: list[RenderableType] = [Text(card.question)]
    if hint and card.hint:
        body.append(Text(f"\nHint: {card.hint}", style="dim italic"))
    body.append(Text("\nAnswer out loud or type it; then say done (Enter).", style="dim"))
    return Panel(Group(*body), title="Question · Explain", title_align="left",
                 border_style="blue")


def explain_points(card: ExplainCard) -> RenderableType:
    """The rubric, numbered for ticking."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, justify="right")
    table.add_column()
    for n, point in enumerate(card.points, 1):
        table.add_row(Text(f"{n}.", style="bold"), Text(point))
    return Panel(table, title="Key points · tick the ones you covered", title_align="left",
                 border_style="green")


def explain_verdict(card: ExplainCard, ticked: frozenset[int], rating: Rating,
                    interval: timedelta | None = None) -> RenderableType:
    """What the ticks give, shown before the answer is committed."""
    style = RATING_STYLE[rating]
    t = Text(f"Covered {len(ticked)} of {len(card.points)} points", style="bold")
    t.append(f" → {RATING_LABELS[rating]}", style=f"bold {style}")
    if interval is not None:
        t.append(f" (next in {format_interval(interval)})", style="dim")
    missed = [n for n in range(1, len(card.points) + 1) if n not in ticked]
    if missed:
        t.append(f"\nNot covered: {', '.join(map(str, missed))}", style="yellow")
    return t


def explain_after(card: ExplainCard) -> RenderableType | None:
    """The interviewer's follow-up and the explanation, once the card is graded."""
    parts: list[RenderableType] = []
    if card.follow_up:
        t = Text("Follow-up: ", style="bold magenta")
        t.append(card.follow_up)
        parts.append(t)
    if card.explanation:
        parts.append(Text(card.explanation, style="dim"))
    return Group(*parts) if parts else None


def _pick_note(picked: bool, right: bool, multi: bool) -> tuple[str, str] | None:
    if picked and right:
        return ("right" if multi else "your answer", "bold green")
    if picked:
        return ("wrong" if multi else "your answer", "bold red")
    if right and multi:
        return ("missed", "bold yellow")
    return None


@dataclass(frozen=True)
class Summary:
    answered: int
    correct: int
    seconds: float
    next_due: datetime | None
    leeches: list[tuple[str, str]]
    finished: bool  # nothing left to study (vs. the user quit)
    cards: int | None = None  # distinct cards answered (a learning card comes back)
    interrupted: bool = False  # ended by Ctrl-C


def summary_panel(s: Summary, now: datetime) -> RenderableType:
    lines = Text()
    if s.answered:
        pct = 100 * s.correct / s.answered
        mins, secs = divmod(round(s.seconds), 60)
        lines.append(f"{_answers(s.answered, s.cards)} · {pct:.0f}% correct · {mins}m {secs:02d}s\n")
    else:
        lines.append("No cards reviewed.\n")
    if s.finished:
        lines.append("Nothing more is due now. ", style="green")
    if s.next_due is not None:
        when = s.next_due - now
        lines.append(
            "Next card due " + ("now" if when.total_seconds() <= 0 else f"in {format_interval(when)}")
        )
        lines.append(f" ({s.next_due.astimezone():%a %d %b %H:%M}).")
    for deck_id, card_id in s.leeches:
        lines.append(f"\nLeech: {deck_id}/{card_id} was suspended after many lapses.", style="yellow")
    return Panel(lines, title="Session summary", title_align="left", border_style="cyan")


def _answers(answered: int, cards: int | None) -> str:
    """'5 answers over 3 cards': a card in learning steps is answered more than once."""
    text = f"{answered} answer{'s' if answered != 1 else ''}"
    if cards is not None:
        text += f" over {cards} card{'s' if cards != 1 else ''}"
    return text


# -- the loop -------------------------------------------------------------------------------
class Quit(Exception):
    pass


class _Left(Exception):
    """A u or s typed inside a drill problem: leave it for the screen's `action`."""

    def __init__(self, action: str) -> None:
        self.action = action


class StudyScreen:
    """Drives a Session from the keyboard (or from piped lines)."""

    def __init__(
        self,
        session: Session,
        console: Console,
        reader: Reader,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
        run_generated: Callable | None = None,
    ) -> None:
        self.s = session
        self.console = console
        self.reader = reader
        self.clock = clock
        self.rng = rng or random.Random()
        self.run_generated = run_generated
        self.finished = False
        self.interrupted = False
        self._answers_per_card: Counter[tuple[str, str]] = Counter()
        self._done: list[str] = []  # "answer" | "suspend", as the session's undo stack
        self._mid_line = False  # reading a typed line: the cursor is after the prompt
        self._notice: Text | None = None  # "Undid …", said on the next card's screen
        # What is on screen since it was last cleared, to draw again after a resize.
        self._screen: list[tuple[tuple, dict]] = []
        self._size = console.size if console.is_terminal else None

    def _print(self, *objects, **kwargs) -> None:
        self._screen.append((objects, kwargs))
        self.console.print(*objects, **kwargs)

    def _redraw_if_resized(self) -> None:
        """A terminal resized under a card leaves its boxes broken (drawn for the old
        width): at the next key, the card's screen is drawn again at the new size."""
        if self._size is None or self.console.size == self._size:
            return
        self._size = self.console.size
        self.console.clear()
        for objects, kwargs in self._screen:
            self.console.print(*objects, **kwargs)

    def _prompt(self, *pairs: tuple[str, str]) -> None:
        self._print(keys_hint(*pairs))

    def _read(self, allowed: Callable[[str], bool]) -> str:
        """Read until a key/line passes `allowed`; u/s/q always pass. EOF quits."""
        while True:
            k = self.reader.key()
            if k is None:
                raise Quit
            self._redraw_if_resized()
            k2 = k.lower() if len(k) == 1 else k
            if k2 in ("q", "u", "s") or allowed(k2):
                return k2
            if not self.reader.interactive:
                self._print(Text(f"Unrecognised input {k!r}.", style="red"))

    def run(self) -> Summary:
        try:
            while True:
                now = self.clock()
                nxt = self.s.next(now)
                if nxt is None:
                    self.finished = True
                    break
                entry, card = nxt
                if self.console.is_terminal:
                    self.console.clear()
                    self._size = self.console.size
                self._screen = []
                early = entry.schedule.state == State.REVIEW and entry.schedule.due > now
                self._print(
                    header(entry, self._counts(entry, now), self.s.tally.answered, self.s.options.cram, early)
                )
                self._say_notice()
                if (aim := self.s.aim(now)) is not None:
                    self._print(Text(aim, style="magenta"))
                action = self._show(entry, card)
                if action == "q":  # quit before answering: the card stays in the queue
                    self.s.queue.push_front(entry)
                    break
                if action == "q_after":  # quit after answering
                    break
        except Quit:
            pass
        except KeyboardInterrupt:
            self.interrupted = True
            if self._mid_line:  # the terminal echoed ^C after the prompt: end that line
                self._print()
        self._say_notice()
        return self.summary()

    def _counts(self, entry: Entry, now: datetime) -> dict[str, int]:
        """The queue's counts as home and report count them: with the card on screen (still
        to do until it is answered), learning steps only once they can be shown (the
        learn-ahead window; a step due this evening is counted this evening)."""
        q = self.s.queue
        counts = q.counts()
        counts["learning"] -= sum(e.schedule.due > now + q.learn_ahead for e in q.learning)
        kind = "review" if self.s.options.cram else COUNTED_AS[entry.schedule.state]
        counts[kind] += 1
        return counts

    def _say_notice(self) -> None:
        """An undo or suspend moves to another card and the screen is cleared before it:
        the notice is printed on that next screen, under its header."""
        if self._notice is not None:
            self._print(self._notice)
            self._notice = None

    def summary(self) -> Summary:
        t = self.s.tally
        cards = sum(1 for n in self._answers_per_card.values() if n > 0)
        return Summary(
            t.answered,
            t.correct,
            t.seconds,
            self.s.next_due(),
            list(t.leeches),
            self.finished,
            cards=cards,
            interrupted=self.interrupted,
        )

    def _control(self, key: str, entry: Entry) -> str | None:
        """Handle u/s/q; returns the action taken or None."""
        if key == "q":
            return "q"
        if key == "u":
            if self.s.can_undo:
                self.s.queue.push_front(entry)
                undone = self.s.undo()
                if self._done.pop() == "answer":
                    self._answers_per_card[(undone.deck_id, undone.card_id)] -= 1
                self._notice = Text(f"Undid {undone.deck_id}/{undone.card_id}.", style="yellow")
                return "u"
            self._print(Text("Nothing to undo.", style="yellow"))
            return None
        if key == "s":
            self.s.suspend(entry, self.clock())
            self._done.append("suspend")
            self._notice = Text(f"Suspended {entry.deck_id}/{entry.card_id} (u to undo).", style="yellow")
            return "s"
        return None

    def _show(self, entry: Entry, card) -> str | None:
        started = time.monotonic()
        if isinstance(card, Flashcard):
            return self._flashcard(entry, card, started)
        if isinstance(card, MCQ):
            return self._mcq(entry, card, started)
        if isinstance(card, GeneratedCard):
            return self._generated(entry, card, started)
        if isinstance(card, FormulaCard):
            return self._formula(entry, card, started)
        if isinstance(card, ExplainCard):
            return self._explain(entry, card, started)
        raise TypeError(card)

    def _commit(self, entry: Entry, rating: Rating, started: float, correct=None, attempt=None):
        ms = round((time.monotonic() - started) * 1000)
        out = self.s.answer(entry, rating, self.clock(), ms, correct, attempt)
        self._done.append("answer")
        self._answers_per_card[(entry.deck_id, entry.card_id)] += 1
        if out.record.became_leech:
            self._print(
                Text(
                    f"Leech: {entry.card_id} has lapsed {out.after.lapses} times and is now "
                    "suspended. Rewrite the card or study it on its own.",
                    style="bold yellow",
                )
            )
        return out

    def _deck_path(self, deck_id: str) -> Path | None:
        deck = getattr(self.s, "_decks", {}).get(deck_id)
        return getattr(deck, "path", None)

    def _flashcard(self, entry: Entry, card: Flashcard, started: float) -> str | None:
        self._print(flashcard_front(card))
        deck_path = self._deck_path(entry.deck_id)
        media = card_media(card, deck_path, answered=False)
        if self.reader.interactive:
            self._prompt(("space", "show answer"), *([("o", "open image")] if media else []),
                         ("s", "suspend"), ("u", "undo"), ("q", "quit"))
        else:
            self._print("[dim]Press Enter to show the answer.[/]")
        # any key but u/s/q (and o on a card with media) reveals; a u with nothing to undo
        # reveals nothing
        while True:
            k = self._read(lambda k: True)
            if k == "o" and media:
                self._print(open_media(media))
                continue
            if k not in ("q", "u", "s"):
                break
            act = self._control(k, entry)
            if act is not None:
                return act
        self._print(flashcard_back(card))
        media = card_media(card, deck_path, answered=True)
        preview = {} if self.s.options.cram else self.s.preview(entry, self.clock())
        if preview:
            bar = rating_bar(preview, fuzz=self.s.scheduler.config.fuzz)
        else:
            bar = keys_hint(*((str(int(r)), RATING_LABELS[r]) for r in Rating))
        if self.reader.interactive:
            bar.items.append(Text(("o open image · " if media else "")
                                  + "u undo · s suspend · q quit", style="dim"))
        self._print(bar)
        while True:
            k = self._read(lambda k: k in ("1", "2", "3", "4") or (k == "o" and bool(media)))
            if k == "o":
                self._print(open_media(media))
                continue
            if k in ("1", "2", "3", "4"):
                self._commit(entry, Rating(int(k)), started)
                return None
            act = self._control(k, entry)
            if act is not None:
                return act

    def _mcq(self, entry: Entry, card: MCQ, started: float) -> str | None:
        order = list(range(len(card.choices)))
        if card.shuffle:  # `shuffle: false` in the deck keeps the author's order
            self.rng.shuffle(order)
        self._print(mcq_question(card, order))
        letters = LETTERS[: len(order)]
        span = f"{letters[0]}–{letters[-1]}"
        if self.reader.interactive:
            first = (span, "pick letters, then Enter") if card.multi else (span, "answer")
            self._prompt(first, ("s", "suspend"), ("u", "undo"), ("q", "quit"))
        elif card.multi:
            self._print("[dim]Type the correct letters (e.g. ac).[/]")
        picked: set[int] | None = None
        warned = False
        while picked is None:
            if card.multi and self.reader.interactive:
                self._mid_line = True
                text = self.reader.line("> ")
                self._mid_line = False
                if text is None:
                    raise Quit
                self._redraw_if_resized()
                text = text.lower()
            else:
                text = self._read(lambda k: True)  # validated below, with a message
            if text in ("q", "u", "s"):
                act = self._control(text, entry)
                if act is not None:
                    return act
                continue
            chosen = [c for c in text if c in letters]
            bad = [c for c in text if c not in letters and c not in ", "]
            if not chosen or bad or (not card.multi and len(chosen) != 1):
                if not warned:  # once: a line per stray key would push the question away
                    what = "letters" if card.multi else "one letter"
                    self._print(Text(f"Choose {what} from a to {letters[-1]}.", style="red"))
                    warned = True
                continue
            picked = {order[letters.index(c)] for c in chosen}
        ok = picked == set(card.answer)
        self._commit(entry, Rating.GOOD if ok else Rating.AGAIN, started, ok)
        self._print(mcq_result(card, order, picked))
        return self._after_answer(entry)

    def _formula(self, entry: Entry, card: FormulaCard, started: float) -> str | None:
        from quizforge.decks.formula import SCREEN_KEYS, give_up, grade_formula

        self._print(formula_question(card))
        if self.reader.interactive:
            self._prompt(("Enter", "check"), ("empty line", "show the answer"), ("s", "suspend"),
                         ("u", "undo"), ("q", "quit"))
        else:
            self._print("[dim]Type the formula (an empty line shows the answer).[/]")
        while True:
            if self.reader.interactive:
                self._mid_line = True
                text = self.reader.line("> ")
                self._mid_line = False
                if text is None:
                    raise Quit
                self._redraw_if_resized()
            else:
                text = self._read(lambda k: True)
            if text.lower() in SCREEN_KEYS:  # the keys, even where q, u or s is a variable
                act = self._control(text.lower(), entry)
                if act is not None:
                    return act
                continue
            verdict = give_up(card) if not text else grade_formula(card, text)
            if verdict.graded:
                break
            # Unreadable or unsafe: say why and ask again; nothing is graded.
            self._print(Text(f"{verdict.feedback} Not graded: try again.", style="red"))
        self._commit(entry, Rating.GOOD if verdict.correct else Rating.AGAIN, started, verdict.correct)
        self._print(formula_result(card, verdict))
        return self._after_answer(entry)

    def _typed(self, prompt: str) -> str:
        """A typed line on a terminal, a line from a pipe: u, s and q pass as they are."""
        if not self.reader.interactive:
            return self._read(lambda k: True)
        self._mid_line = True
        text = self.reader.line(prompt)
        self._mid_line = False
        if text is None:
            raise Quit
        self._redraw_if_resized()
        return text.lower() if text.lower() in ("q", "u", "s") else text

    def _explain(self, entry: Entry, card: ExplainCard, started: float) -> str | None:
        from quizforge.study.rubric import TickError, parse_ticks, rubric_rating

        self._print(explain_question(card))
        if self.reader.interactive:
            self._prompt(("Enter", "done answering"), ("s", "suspend"), ("u", "undo"),
                         ("q", "quit"))
        else:
            self._print("[dim]Press Enter when done answering.[/]")
        while True:  # a typed answer is for the learner: any line but u/s/q means done
            text = self._typed("answer> ")
            if text not in ("q", "u", "s"):
                break
            act = self._control(text, entry)
            if act is not None:
                return act
        self._print(explain_points(card))
        self._prompt(("1 3 4", "the points you covered"), ("Enter", "none"), ("u", "undo"),
                     ("s", "suspend"), ("q", "quit"))
        while True:
            text = self._typed("covered> ")
            if text in ("q", "u", "s"):
                act = self._control(text, entry)
                if act is not None:
                    return act
                continue
            try:
                ticked = parse_ticks(text, len(card.points))
            except TickError as e:
                self._print(Text(f"{str(e)[0].upper()}{str(e)[1:]}.", style="red"))
                continue
            break
        rating = rubric_rating(len(ticked), len(card.points))
        preview = {} if self.s.options.cram else self.s.preview(entry, self.clock())
        self._print(explain_verdict(card, ticked, rating, preview.get(rating)))
        self._commit(entry, rating, started, rating != Rating.AGAIN)
        after = explain_after(card)
        if after is not None:
            self._print(after)
        return self._after_answer(entry)

    def _after_answer(self, entry: Entry) -> str | None:
        """On a terminal, wait before the screen is cleared, so the feedback can be read."""
        if not self.reader.interactive:
            return None
        self._prompt(("any key", "next"), ("u", "undo"), ("q", "quit"))
        k = self.reader.key()
        if k is None:
            raise Quit
        k = k.lower()
        if k == "u":
            return self._control(k, entry)
        return "q_after" if k == "q" else None

    def _generated(self, entry: Entry, card: GeneratedCard, started: float) -> str | None:
        if self.run_generated is None:
            self._print(Text("This card needs the drill engine, which is not available.", style="red"))
            return None
        def on_key(text: str) -> bool:
            """u and s typed as an answer are the screen's keys, as on every other card."""
            key = text.lower()
            if key not in ("u", "s"):
                return False
            act = self._control(key, entry)
            if act is not None:
                raise _Left(act)
            return True  # nothing to undo: the problem goes on

        self._mid_line = True  # the drill reads typed answers
        try:
            attempt = self.run_generated(card, self.console, self.reader,
                                         self.rng.randrange(2**31), on_key=on_key)
        except _Left as left:  # undone or suspended: this problem is not stored
            self._mid_line = False
            return left.action
        self._mid_line = False
        if attempt is None or not attempt.attempted:  # quit before answering: nothing stored
            return "q"
        from quizforge.study.mastery import attempt_record, fsrs_rating

        record = attempt_record(attempt, self.clock())
        self._commit(entry, fsrs_rating(attempt.rating), started, attempt.correct, record)
        if attempt.quit:  # answered, then quit inside the problem: keep the answer, stop
            return "q_after"
        return self._after_answer(entry)


def idle_lines(idle) -> RenderableType:
    """Why nothing is left (study/idle.py): a line per reason, its command below it."""
    from quizforge.study.idle import reasons

    lines: list[RenderableType] = []
    for r in reasons(idle):
        lines.append(Text(r.text))
        if r.command:
            lines.append(Text.assemble("  $ ", (r.command, "bold cyan")))
    return Group(*lines)
