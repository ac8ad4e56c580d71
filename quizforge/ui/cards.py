"""`quizforge cards search` and `cards show` as rich renderables. Deck text is shown as
Text, never as markup."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from quizforge.decks.search import Match, card_texts
from quizforge.reports.card import CardInfo
from quizforge.scheduling.scheduler import RATING_LABELS, Rating, State

RATING_STYLE = {1: "red", 2: "yellow", 3: "green", 4: "cyan"}


def _indent(r: RenderableType) -> Padding:
    return Padding(r, (0, 0, 0, 2), expand=False)


def search_view(matches: list[Match], text: str) -> RenderableType:
    if not matches:
        return Text(f"No card holds {text!r}.", style="dim")
    lines: list[RenderableType] = []
    for m in matches:
        head = Text.assemble((f"{m.deck.id}/{m.card.id}", "bold"), "  ", (m.card.type, "dim"),
                             ("  " + m.field if m.field != "id" else "", "dim"))
        body = Text(m.excerpt, no_wrap=True, overflow="ellipsis")
        body.stylize("bold yellow", m.start, m.end)
        lines += [head, _indent(body)]
    n = len(matches)
    lines.append(Text(f"{n} card{'s' * (n != 1)} · quizforge cards show DECK/ID", style="dim"))
    return Group(*lines)


def span(days: float) -> str:
    """A length of time in days as a person reads it: 10m, 5h, 3.5d, 41d."""
    if days < 1 / 24:
        return f"{round(days * 1440)}m"
    if days < 1:
        return f"{round(days * 24)}h"
    return f"{days:.1f}d" if days < 10 else f"{round(days)}d"


def _when(dt: datetime | None, now: datetime) -> str:
    if dt is None:
        return "—"
    days = (dt - now).total_seconds() / 86400
    if abs(days) < 1 / 1440:
        rel = "now"
    else:
        rel = f"in {span(days)}" if days > 0 else f"{span(-days)} ago"
    return f"{dt.astimezone():%a %d %b %Y %H:%M} ({rel})"


def card_view(info: CardInfo, now: datetime) -> RenderableType:
    card = info.card
    title = Text.assemble((f"{info.deck.id}/{card.id}", "bold cyan"), "  ", (card.type, "dim"))
    where = Text(f"{info.deck.path}:{card.line}", style="dim")
    parts: list[RenderableType] = [title, where]
    if info.tags:
        parts.append(Text("tags: " + ", ".join(info.tags), style="dim"))
    right = set(getattr(card, "answer", ()) or ()) if card.type == "mcq" else set()
    for name, value in card_texts(card):
        label = name
        if name.startswith("choice ") and int(name.split()[1]) - 1 in right:
            label += " ✓"
        parts += [Text(""), Text(label, style="bold"), _indent(Text(value))]
    if card.type == "generated":
        parts.append(Text(f"drill {card.generator}, difficulty {card.difficulty}, "
                          f"answer form {card.form}", style="dim"))
    parts += [Text(""), Text("Schedule", style="bold")]
    if info.row is None:
        parts.append(_indent(Text("not studied yet (new)", style="dim")))
        return Group(*parts)
    s = info.row.schedule
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    state = s.state.name.lower()
    if s.suspended:
        state += ", suspended" + (" (leech)" if s.leech else "")
    grid.add_row("state", state)
    grid.add_row("due", _when(s.due, now))
    grid.add_row("stability", "—" if s.stability is None else f"{s.stability:.2f} days")
    grid.add_row("difficulty", "—" if s.difficulty is None else f"{s.difficulty:.2f} (1–10)")
    grid.add_row("recall now", "—" if info.retrievability is None
                 else f"{100 * info.retrievability:.0f}%")
    grid.add_row("answers", f"{s.reps} · {s.lapses} lapse{'s' * (s.lapses != 1)}")
    if not info.row.in_deck:
        grid.add_row("note", "removed from its deck file: not scheduled")
    parts.append(_indent(grid))
    if info.reviews:
        more = f" (of {info.total_reviews})" if info.total_reviews > len(info.reviews) else ""
        parts += [Text(""), Text(f"Last answers{more}", style="bold")]
        t = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold dim")
        for col in ("when", "rating", "was", "gap", "next", "time"):
            t.add_column(col, no_wrap=True, justify="right" if col in ("gap", "next", "time")
                         else "left")
        for r in info.reviews:
            rating = Text(RATING_LABELS[Rating(r.rating)], style=RATING_STYLE.get(r.rating, ""))
            if r.cram:
                rating.append(" cram", style="dim")
            t.add_row(f"{r.reviewed_at.astimezone():%d %b %Y %H:%M}", rating,
                      State(r.state_before).name.lower(),
                      "—" if r.elapsed_days is None else span(r.elapsed_days),
                      span(r.interval_days), f"{r.duration_ms / 1000:.0f}s")
        parts.append(_indent(t))
    return Group(*parts)
