"""`quizforge plan` as rich renderables: does the collection fit before the interview, what
workload that means, and what to leave out to fit the daily minutes."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from quizforge.scheduling.plan import Plan, Workload
from quizforge.ui.report import command


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def _minutes(m: float) -> str:
    return f"{m:,.0f} min"


def item(*parts, style: str = "") -> RenderableType:
    """An indented line whose wrapped part stays indented."""
    return Padding(Text.assemble(*parts, style=style), (0, 0, 0, 2))


def workload_lines(w: Workload, reviews_per_day: int) -> list[RenderableType]:
    lines = [
        item(f"{w.reviews_mean:,.0f} reviews a day on average, {w.reviews_peak:,} on the busiest "
             "day (every card you started gets a review in the final week before the date)"),
        item(f"about {_minutes(w.minutes_mean)} a day on average, "
             f"{_minutes(w.minutes_peak)} on the busiest day"),
    ]
    if w.recall_on_date is not None:
        never = f", {w.unseen:,} never" if w.unseen else ""
        lines.append(item(
            f"predicted recall on the date: {pct(w.recall_on_date)} over all {w.cards:,} cards "
            f"(never seen: 0); {w.seen_twice:,} seen on two days or more{never}"))
    if w.reviews_peak > reviews_per_day:
        lines.append(item(
            f"the busiest day is over reviews_per_day ({reviews_per_day}): raise it, or those "
            "reviews wait until after the date: ",
            command(f"quizforge config set reviews_per_day {w.reviews_peak}"), style="yellow"))
    return lines


def _study_command(decks: tuple[str, ...]) -> str:
    from quizforge.reports.weak import study_command

    return study_command(decks)


def render_plan(p: Plan) -> RenderableType:
    when = {0: "today", 1: "tomorrow"}.get(p.days_left, f"in {p.days_left} days")
    title = Text(f"Interview {p.interview:%a %d %b %Y}, {when}", style="bold")
    if p.days_left < 0:
        return Group(title.append(" — has passed", style="dim"), Text(
            'Scheduling is back to normal; `quizforge config set interview_date ""` clears it.',
            style="dim"))
    lines: list[RenderableType] = [title]
    if p.new_left == 0:
        lines.append(Text("Every card has been started: reviews only until the date.",
                          style="green"))
    elif p.needed is None:
        lines.append(Text(
            f"{p.new_left:,} cards never seen: too late to see them on two days before the "
            "date. Review what you have started, weakest first:", style="yellow"))
        lines.append(item("$ ", command("quizforge study --ahead 50")))
    else:
        days = p.intro_days
        lines.append(Text(
            f"{p.new_left:,} new cards, {days} day{'s' * (days != 1)} to start them (the last day "
            "before the date is for reviews)."))
        need = Text(f"Needed: {p.needed} new cards a day so every card is seen on two days "
                    f"before the date; new_per_day is {p.new_per_day}: ")
        need.append("fits." if p.fits_new else "does not fit.",
                    style="bold green" if p.fits_new else "bold red")
        lines.append(need)
    if p.full is not None:
        rate = p.full.new_per_day
        lines.append(Text(""))
        lines.append(Text(f"At {rate} new a day, the simulator (desired retention, the date's "
                          "cap) gives:", style="bold"))
        lines += workload_lines(p.full, p.reviews_per_day)
        pace = p.pace
        lines.append(item(f"time: {pace.seconds_review:.0f} s a review, {pace.seconds_new:.0f} s "
                          f"a new card with its learning steps, from {pace.source}", style="dim"))
        if p.new_left and p.needed is not None and not p.fits_new:
            lines.append(Text("To see every card twice:"))
            lines.append(item(command(f"quizforge config set new_per_day {p.needed}")))
        lines.append(Text(""))
        lines += budget_lines(p)
    return Group(*lines)


def budget_lines(p: Plan) -> list[RenderableType]:
    assert p.full is not None
    if not p.budget:
        return [Text("No daily time budget: set one to learn what to leave out if it does not "
                     "fit:", style="dim"), item(command("quizforge config set daily_minutes 45"))]
    if p.fits_time:
        return [Text(f"Fits your {p.budget} minutes a day (daily_minutes).", style="green")]
    out: list[RenderableType] = [Text.assemble(
        (f"Does not fit your {p.budget} minutes a day", "bold red"),
        f" ({_minutes(p.full.minutes_mean)} needed). Leave out, least weight first:")]
    weights = {d.deck_id: d for d in p.decks}
    for deck_id in p.drop:
        d = weights[deck_id]
        out.append(item(f"- {deck_id} ({d.new:,} new, {len(d.scheduled):,} studied, "
                        f"weight {d.weight:g})"))
    kept = p.kept
    if kept is not None:
        fits = kept.minutes_mean <= p.budget
        head = "The rest" if fits else "Even the last deck alone"
        out.append(Text(f"{head}: {kept.new:,} new cards, {kept.new_per_day} a day:",
                        style="bold" if fits else "bold red"))
        out += workload_lines(kept, p.reviews_per_day)
        out.append(Text("Study only them, with that many new cards a day:"))
        out.append(item(command(f"quizforge config set new_per_day {kept.new_per_day}")))
        out.append(item(command(_study_command(kept.decks))))
    return out


def no_date_line() -> Text:
    return Text.assemble("No interview date set: ",
                         command("quizforge config set interview_date YYYY-MM-DD"))
