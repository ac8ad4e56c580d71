"""`quizforge simulate` as rich renderables: the table per retention, a small-multiples plot
of answers per day (one strip per retention, same scale, in block eighths, so it reads the
same with NO_COLOR), and the suggested `config set` line."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from quizforge.scheduling.simulate import RetentionRun, Simulation, efficiency, suggest
from quizforge.ui.report import BARS, FirstFit, Fitted, command, section

PLOT_ROWS = 2  # text rows per retention strip: 16 levels


def pct(r: float) -> str:
    text = f"{100 * r:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def number(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def ratio(x: float) -> str:
    """Three significant figures with trailing zeros kept, so a column lines up."""
    if x == float("inf"):
        return "—"  # nothing answered
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.2f}" if x >= 1 else f"{x:.3f}"


def summary_line(sim: Simulation, parameters_fitted: bool) -> Text:
    b = sim.behaviour
    ratings = "your review log" if len(b.from_log) == 3 else (
        "FSRS defaults" if not b.from_log else f"your log ({', '.join(b.from_log)}) and FSRS defaults"
    )
    parts = [
        f"{sim.cards:,} cards scheduled",
        f"{sim.new:,} new ({sim.new_per_day} a day)",
        f"at most {sim.reviews_per_day} reviews a day",
        f"ratings from {ratings}",
        "fitted FSRS parameters" if parameters_fitted else "default FSRS parameters",
    ]
    return Text(" · ".join(parts), style="dim")


def runs_table(sim: Simulation, current: float, detail: int) -> Table:
    """detail 3: every column; 2: no total and minutes; 1: the essentials for 40 columns.
    With the interview date inside the days, "on date" (predicted recall then) too."""
    timed = sim.behaviour.timed
    on_date = sim.date_inside
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    table.add_column("retention", justify="right")
    table.add_column("answers/day" if detail > 2 or (detail == 2 and not on_date) else "per day",
                     justify="right")
    if detail >= 2:
        table.add_column("peak (day)", justify="right")
    if detail >= 3:
        table.add_column("total", justify="right")
        if timed:
            table.add_column("minutes", justify="right")
    table.add_column("remembered", justify="right")
    if on_date:
        table.add_column("on date", justify="right")
    if detail >= 2:
        table.add_column("gained", justify="right")
        table.add_column("per min" if timed else "per answer", justify="right")
        table.add_column("backlog", justify="right")
    for run in sim.runs:
        mark = " ←" if abs(run.retention - current) < 1e-9 else "  "
        cells = [pct(run.retention) + mark, f"{run.mean:,.1f}"]
        if detail >= 2:
            cells.append(f"{run.peak:,} ({run.peak_day})")
        if detail >= 3:
            cells.append(f"{run.total:,}")
            if timed:
                cells.append(f"{run.minutes:,.0f}")
        cells.append(number(run.remembered_end))
        if on_date:
            cells.append(pct(run.recall_on_date_mean or 0.0))
        if detail >= 2:
            cells += [number(run.remembered_end - sim.baseline_end),
                      ratio(efficiency(run, timed, sim.baseline_end)), f"{run.backlog:,}"]
        table.add_row(*cells)
    return table


def limit_warning(sim: Simulation) -> Text | None:
    """When reviews_per_day leaves reviews undone, the workloads are the limit's, not the
    retention's: say so, and how to see the real cost."""
    behind = [r for r in sim.runs if r.backlog]
    if not behind:
        return None
    worst = max(behind, key=lambda r: r.backlog)
    return Text(
        f"reviews_per_day ({sim.reviews_per_day}) is reached: at {pct(worst.retention)}, "
        f"{worst.backlog:,} reviews are still due on day {sim.days - 1}. The figures show "
        "what that limit lets you do; raise it (quizforge config set reviews_per_day N) "
        "to see what each retention really costs.",
        style="yellow",
    )


def plot(runs: tuple[RetentionRun, ...], rows: int = PLOT_ROWS) -> RenderableType:
    """One strip per retention, all on one scale, one column per day; when the days do not
    fit, each column is the mean of several days (the axis says so). A first day far above
    the rest (today's overdue reviews) would flatten every other day: the scale then
    stops at the busiest later day, and the columns above it end in ↑."""
    labels = [pct(r.retention) for r in runs]
    label_w = max(len(s) for s in labels) + 1

    def build(width: int) -> RenderableType:
        days = len(runs[0].answers)
        room = max(1, width - label_w - 1)
        per_col = -(-days // room)  # ceil: days per column
        cols = -(-days // per_col)
        columns = [
            [sum(r.answers[c * per_col:(c + 1) * per_col])
             / len(r.answers[c * per_col:(c + 1) * per_col]) for c in range(cols)]
            for r in runs
        ]
        peak = max(max(v) for v in columns)
        later = max((max(v[1:]) for v in columns), default=0) if cols > 1 else 0
        top = later if later and peak > 1.5 * later else peak
        lines = []
        for k, (values, label) in enumerate(zip(columns, labels, strict=True)):
            if k:
                lines.append(Text(" " * label_w + "│", style="dim"))
            for row in range(rows, 0, -1):
                head = f"{label:>{label_w}}│" if row == 1 else " " * label_w + "│"
                line = Text(head, style="dim")
                for v in values:
                    eighths = round(v / top * rows * 8) if top else 0
                    level = max(0, min(8, eighths - (row - 1) * 8))
                    if v and row == 1 and level == 0:
                        level = 1  # a day with any answers shows at least a sliver
                    if row == rows and v > top:
                        line.append("↑", style="yellow")
                    else:
                        line.append(BARS[level], style="cyan")
                lines.append(line)
        axis = Text(" " * label_w + "└" + "─" * cols, style="dim")
        unit = "one day" if per_col == 1 else f"{per_col} days (mean)"
        end = f"day {days - 1}"
        ticks = Text(" " * (label_w + 1) + "today", style="dim")
        gap = label_w + 1 + cols - len(ticks) - len(end)
        if gap >= 1:
            ticks.append(" " * gap + end)
        pad = " " * (label_w + 1)
        height = f"full height = {top:,.0f} answers"
        if top < peak:
            height += f", ↑ more (up to {peak:,.0f})"
        scale = [f"one column = {unit}", height]
        if len(pad) + len("; ".join(scale)) <= width:
            scale = ["; ".join(scale)]
        return Group(*lines, axis, ticks, *(Text(pad + s, style="dim") for s in scale))

    return Fitted(build)


def suggestion_lines(sim: Simulation, current: float) -> list[Text]:
    choice = suggest(sim.runs, sim.behaviour.timed, sim.baseline_end)
    if choice is None and all(r.backlog for r in sim.runs):
        return [Text(
            "No suggestion: reviews_per_day caps every retention, so none shows its cost."
        )]
    if choice is None:
        return [Text("Nothing to study in this period: no retention to suggest.", style="dim")]
    per = "review minute" if sim.behaviour.timed else "answer"
    limited = any(r.backlog for r in sim.runs)
    lowest = len(sim.runs) > 1 and choice.retention == min(r.retention for r in sim.runs)
    how = Text(
        f"Most cards your reviews keep by the end per {per}: {pct(choice.retention)} "
        "(of retentions within 2% of the best, the highest"
        + ("; those the daily limit holds back left out)." if limited else ").")
        + (" It is the lowest you tried: a lower one may do better still." if lowest else ""),
        style="dim",
    )
    if abs(choice.retention - current) < 1e-9:
        last = Text(f"Your desired_retention {current:g} is already the best trade-off here.")
    else:
        last = Text("Suggested: ").append(
            command(f"quizforge config set desired_retention {choice.retention:g}")
        )
    return [how, last]


def interview_note(sim: Simulation, interview) -> Text | None:
    """What the interview date does to the simulation, in one line."""
    if interview is None or sim.interview_day is None:
        return None
    when = f"{interview:%a %d %b}"
    if not sim.date_inside:
        return Text(f"Interview {when} is after the {sim.days} days simulated: no review "
                    f"is left for after it; --days {sim.interview_day} shows recall on it.",
                    style="dim")
    n = sim.cards + sim.new
    return Text(f"Interview {when} (day {sim.interview_day}): no review is scheduled after the "
                f"day before it · on date: predicted recall at the start of that day over all "
                f"{n:,} cards (never seen: 0)", style="dim")


def render_simulation(sim: Simulation, current: float, parameters_fitted: bool,
                      interview=None) -> RenderableType:
    title = f"Workload over the next {sim.days} days by desired retention"
    table = FirstFit(*(runs_table(sim, current, d) for d in (3, 2, 1)))
    notes = Text(
        "answers: every card you answer (reviews, new cards, learning steps) · remembered: "
        "sum of recall probabilities at the end · gained: remembered less the "
        f"{sim.baseline_end:,.0f} left if you studied nothing more · per "
        f"{'min' if sim.behaviour.timed else 'answer'}: gained per review "
        f"{'minute' if sim.behaviour.timed else 'answer'} · backlog: reviews left undone by "
        "the daily limit · ← your setting",
        style="dim",
    )
    warning = limit_warning(sim)
    note = interview_note(sim, interview)
    return Group(
        Text(title, style="bold"),
        summary_line(sim, parameters_fitted),
        Text(""),
        table,
        notes,
        *([note] if note else []),
        *([Text(""), warning] if warning else []),
        section("Answers per day", plot(sim.runs) if any(r.total for r in sim.runs)
                else Text("No answers in these days.", style="dim")),
        Text(""),
        *suggestion_lines(sim, current),
    )
