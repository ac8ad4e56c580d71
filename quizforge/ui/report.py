"""The progress report as rich renderables, laid out for an 80-column terminal.

Every function maps report data to a renderable; the caller prints once (or exports the
same renderable to HTML/SVG). Shading always pairs a colour with a glyph, so the report
reads the same with NO_COLOR.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from quizforge.reports.activity import Heatmap
from quizforge.reports.interview import Outlook
from quizforge.reports.mastery import MATURE_DAYS, Mastery
from quizforge.reports.report import Report
from quizforge.reports.retention import Tally
from quizforge.reports.skills import DRILL_COMMAND
from quizforge.ui.lean_table import LeanTable

WIDTH = 80
TAG_ROWS = 15  # tags shown in the terminal (weakest first); --json has them all
WEAK_ROWS = 3  # cards shown per weak-spot list
HEAT_GLYPHS = ("·", "░", "▒", "▓", "█")
HEAT_STYLES = ("grey37", "#0e4429", "#006d32", "#26a641", "#39d353")
BARS = " ▁▂▃▄▅▆▇█"
TREND = {"up": ("↑", "green"), "down": ("↓", "red"), "flat": ("→", "dim")}


def html_page(title: str) -> str:
    """rich's export_html page with a <title> (rich's own has none): a format string for
    export_html(code_format=...), so the title's braces are doubled."""
    from html import escape

    t = escape(title).replace("{", "{{").replace("}", "}}")
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="UTF-8">\n'
        f"<title>{t}</title>\n"
        "<style>\n{stylesheet}\nbody {{\n    color: {foreground};\n"
        "    background-color: {background};\n}}\n</style>\n</head>\n<body>\n"
        "    <pre style=\"font-family:Menlo,'DejaVu Sans Mono',consolas,'Courier New',"
        'monospace"><code style="font-family:inherit">{code}</code></pre>\n</body>\n</html>\n'
    )


# -- small formatters -------------------------------------------------------------------------
def pct(x: float | None, digits: int = 0) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def duration(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m" if h else f"{m}m {s:02d}s"


def bar(fraction: float, width: int = 8) -> Text:
    """A horizontal bar in eighths: ███▍░░░░."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    t = Text("█" * full, style="green")
    if part:
        t.append(" ▏▎▍▌▋▊▉"[part], style="green")
    t.append("░" * (width - len(t)), style="grey37")
    return t


def rate_style(rate: float | None, target: float) -> str:
    if rate is None:
        return "dim"
    if rate >= target - 0.02:
        return "green"
    return "yellow" if rate >= target - 0.07 else "red"


def command(cmd: str) -> Text:
    return Text(cmd, style="cyan")


class Fitted:
    """A renderable built for the width it is given: narrow terminals get fewer forecast
    days and calendar weeks instead of rows that wrap into the next line."""

    def __init__(self, build: Callable[[int], RenderableType]) -> None:
        self.build = build

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.build(options.max_width)


class FirstFit:
    """The first of `candidates` (richest first) whose natural width fits, else the last:
    a table drops columns on a narrow terminal instead of cutting every cell to '…'."""

    def __init__(self, *candidates: RenderableType) -> None:
        self.candidates = candidates

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        unbounded = options.update_width(10_000)  # a measurement is capped at the width
        for c in self.candidates[:-1]:
            if _natural_width(console, unbounded, c) <= options.max_width:
                yield c
                return
        yield self.candidates[-1]


def _natural_width(console: Console, options: ConsoleOptions, renderable: RenderableType) -> int:
    """The width `renderable` takes when nothing limits it. A table of our kind (no fixed,
    minimum or expanded width) takes the sum of its columns' widths plus its padding and
    borders, as Table.__rich_measure__ finds after sizing every column a first time, which
    a width check does not need (that first pass was a third of the report's drawing)."""
    if (isinstance(renderable, Table) and renderable.width is None and not renderable.expand
            and renderable.min_width is None):
        return sum(_column_width(console, options, renderable, column)
                   for column in renderable.columns) + renderable._extra_width
    return console.measure(renderable, options=options).maximum


def _column_width(console: Console, options: ConsoleOptions, table: Table, column) -> int:
    """`table._measure_column(...).maximum`, read off the cells' text when every cell is
    plain one-style text (a Text, or a str with nothing rich would parse as markup): rich
    wraps each cell in a Padding and measures it word by word, a fifth of the report's
    drawing. Anything else is measured by rich. tests/test_report_cli.py holds the two equal."""
    cells = [*([column.header] if table.show_header else []), *column.cells,
             *([column.footer] if table.show_footer else [])]
    index, last = column._index, len(table.columns) - 1
    _, right, _, left = table.padding
    if table.collapse_padding and index:
        left = max(0, left - right)
    if not table.pad_edge:
        left = 0 if index == 0 else left
        right = 0 if index == last else right
    widest = 0
    for cell in cells:
        if isinstance(cell, Text):
            text = cell.plain
        elif isinstance(cell, str) and "[" not in cell and ":" not in cell:
            text = cell
        else:
            text = None
        if text is None or column.width is not None or options.max_width - left - right < 1:
            return table._measure_column(console, options, column).maximum
        widest = max(widest, max(map(cell_len, text.splitlines()), default=0))
    if not cells:
        return table._measure_column(console, options, column).maximum
    width = min(widest + left + right, options.max_width)
    pad = table._get_padding_width(index)
    if column.min_width is not None:
        width = max(width, column.min_width + pad)
    if column.max_width is not None:
        width = min(width, column.max_width + pad)
    return width


def heading(title: str, subtitle: str = "") -> RenderableType:
    """`title  subtitle` on one line, or the subtitle on its own lines when they do not fit."""

    def build(width: int) -> RenderableType:
        head = Text(title, style="bold")
        if not subtitle:
            return head
        if len(title) + 2 + len(subtitle) <= width:
            head.append(f"  {subtitle}", style="dim")
            return head
        return Group(head, Padding(Text(subtitle, style="dim"), (0, 0, 0, 1)))

    return Fitted(build)


def section(title: str, body: RenderableType, subtitle: str = "") -> RenderableType:
    return Group(Text(""), heading(title, subtitle), Padding(body, (0, 0, 0, 1)))


# -- sections ---------------------------------------------------------------------------------
def title_line(r: Report) -> Text:
    scope = []
    if r.scope.decks:
        scope.append("deck " + ", ".join(r.scope.decks))
    if r.scope.tags:
        scope.append("tag " + ", ".join(r.scope.tags))
    if r.scope.since:
        scope.append(f"since {r.scope.since:%d %b %Y}")
    t = Text("quizforge report", style="bold cyan")
    t.append(f" · {r.today.date:%a %d %b %Y}")
    t.append(" · " + ("; ".join(scope) if scope else "all decks"), style="dim")
    return t


def today_panel(r: Report) -> RenderableType:
    t, total = r.today, r.mastery.total
    done = Text(f"{t.reviews:,}", style="bold")
    if t.reviews:
        done.append(f" · {pct(t.correct_rate)} correct · {duration(t.seconds)}")
    figures = [
        ("Answered", done),
        ("Streak", Text(f"{t.streak_days:,} day{'s' * (t.streak_days != 1)}", style="bold")),
        ("Due now", Text(f"{t.due_now:,}", style="bold")),
        ("New left", Text.assemble((f"{t.new_left:,}", "bold"), f" of {r.new_per_day}/day")),
    ]
    side_by_side = Table.grid(padding=(0, 1))
    side_by_side.add_column(style="dim", no_wrap=True)
    side_by_side.add_column(min_width=34)
    side_by_side.add_column(style="dim", no_wrap=True)
    side_by_side.add_column(no_wrap=True)
    for (a, av), (b, bv) in zip(figures[:2], figures[2:], strict=True):
        side_by_side.add_row(a, av, b, bv)
    stacked = Table.grid(padding=(0, 1))
    stacked.add_column(style="dim", no_wrap=True)
    stacked.add_column()
    for name, value in figures:
        stacked.add_row(name, value)
    grid = FirstFit(side_by_side, stacked)
    ready = ready_text(r)
    todo = Table.grid(padding=(0, 1))  # long lines wrap under their own text
    todo.add_column(no_wrap=True)
    todo.add_column(overflow="fold")
    for a in r.advice:
        todo.add_row("•", Text(a.text))
        if a.command:
            todo.add_row("", Text.assemble("$ ", command(a.command)))
    return Panel(
        Group(grid, ready, Text(""), Text("To do", style="bold"), todo),
        title=Text("Today"),  # a str title is parsed as markup (and imports rich's emoji)
        title_align="left",
        border_style="cyan",
    )


def ready_text(r: Report) -> RenderableType:
    """With an interview date ahead: ready = the expected share of all the cards recalled
    on the date (never answered: 0). Mastered stays, said for what it is: long term."""
    total = r.mastery.total
    tail = (f" mastered for the long term ({total.mastered:,} of {total.cards:,}: interval "
            f"≥ {MATURE_DAYS} days, recall ≥ {pct(r.desired_retention)})")
    o = r.interview
    text = Text("Ready    ", style="dim")
    if o is None or o.passed or o.total.ready is None:
        text.append(pct(total.mastered_rate),
                    style="bold green" if total.mastered_rate >= 0.8 else "bold")
        text.append(tail + f" · recall now {pct(total.recall)}")
        return text
    ready = o.total.ready
    text.append(pct(ready), style="bold " + rate_style(ready, r.desired_retention))
    text.append(f" for {o.date:%d %b}: expected recall then, all "
                f"{o.total.reviewed + o.total.new:,} cards (new: 0)")
    mastered = Text("Mastered ", style="dim")
    mastered.append(pct(total.mastered_rate), style="bold")
    mastered.append(tail.replace(" mastered", "", 1))
    return Group(text, mastered)


def mastery_table(
    rows: list[Mastery], label: str, total: Mastery | None = None, detail: int = 2
) -> Table:
    """detail 2: every column and a bar; 1: no bar, columns closer; 0: cards, recall and
    mastered % only."""
    table = LeanTable(
        box=None,
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=detail < 2,
        header_style="bold dim",
    )
    table.add_column(label, no_wrap=True, overflow="ellipsis", max_width=20)
    states = ("new", "learn", "young", "mature") if detail else ()
    for name in ("cards", *states, "recall"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("mastered", no_wrap=True, justify="left" if detail == 2 else "right")

    def add(m: Mastery, style: str = "") -> None:
        mastered = bar(m.mastered_rate) if detail == 2 else Text("")
        mastered.append(f" {pct(m.mastered_rate):>4}" if detail == 2 else pct(m.mastered_rate))
        counts = (m.new, m.learning, m.young, m.mature) if detail else ()
        table.add_row(  # Text cells: a str cell would be parsed as markup, row by row
            Text(m.name, style=style or "bold"),
            Text(f"{m.cards:,}"),
            *(Text(f"{n:,}") for n in counts),
            Text(pct(m.recall)),
            mastered,
            style=style,
        )

    for m in rows:
        add(m)
    if total is not None and len(rows) > 1:
        add(total, "dim")
    return table


def mastery_sections(r: Report) -> list[RenderableType]:
    out = [
        section(
            "Mastery by deck",
            FirstFit(
                *(mastery_table(r.mastery.decks, "deck", r.mastery.total, d) for d in (2, 1, 0))
            ),
            f"mastered = mature (≥{MATURE_DAYS}d) and recall ≥ {pct(r.desired_retention)}",
        )
    ]
    # Weakest first: studied tags by mastery then recall; tags not started yet go last.
    tags = sorted(
        r.mastery.tags, key=lambda m: (not m.reviewed, m.mastered_rate, m.recall or 0, m.name)
    )
    if tags:
        shown = tags[:TAG_ROWS]
        body: list[RenderableType] = [
            FirstFit(*(mastery_table(shown, "tag", detail=d) for d in (2, 1, 0)))
        ]
        if len(tags) > len(shown):
            body.append(
                Text(f"… {len(tags) - len(shown)} more tags: --json lists them all", style="dim")
            )
        out.append(section("Mastery by tag", Group(*body), "weakest first"))
    return out


def outlook_table(
    rows: list[Outlook], label: str, r: Report, total: Outlook | None = None, detail: int = 1
) -> Table:
    """detail 1: a bar beside the recall; 0: figures only."""
    table = LeanTable(
        box=None,
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=not detail,
        header_style="bold dim",
    )
    table.add_column(label, no_wrap=True, overflow="ellipsis", max_width=20 if detail else 15)
    table.add_column("recall", no_wrap=True, justify="left" if detail else "right")
    below = f"below {pct(r.desired_retention)}" if detail else f"<{pct(r.desired_retention)}"
    table.add_column(below, justify="right", no_wrap=True)
    table.add_column("studied" if detail else "seen", justify="right", no_wrap=True)
    table.add_column("new", justify="right", no_wrap=True)

    def add(o: Outlook, style: str = "") -> None:
        recall = bar(o.recall or 0.0) if detail and o.recall is not None else Text("")
        recall.append(
            f" {pct(o.recall):>4}" if detail else pct(o.recall),
            style=style or rate_style(o.recall, r.desired_retention),
        )
        below = Text(f"{o.below:,}", style="red" if o.below else "dim")
        table.add_row(
            Text(o.name, style=style or "bold"),
            recall,
            below,
            f"{o.reviewed:,}",
            f"{o.new:,}",
            style=style,
        )

    for o in rows:
        add(o)
    if total is not None and len(rows) > 1:
        add(total, "dim")
    return table


def interview_section(r: Report) -> RenderableType | None:
    """Recall on the interview date by deck and by tag (weakest first), and cards that will
    be below desired retention then."""
    o = r.interview
    if o is None:
        return None
    when = f"{o.date:%a %d %b %Y}"
    if o.passed:
        body = Text(
            f"{when} has passed: scheduling is back to normal."
            ' `quizforge config set interview_date ""` clears it.',
            style="dim",
        )
        return section("Interview", body)
    left = {0: "today", 1: "tomorrow"}.get(o.days_left, f"in {o.days_left} days")
    t = o.total
    summary = Text.assemble(
        ("Recall then ", "dim"),
        (pct(t.recall), "bold " + rate_style(t.recall, r.desired_retention)),
        f" · {t.below:,} of {t.reviewed:,} studied below {pct(r.desired_retention)}",
        f" · {t.new:,} new",
    )
    parts: list[RenderableType] = [summary]
    if r.plan is not None:
        from quizforge.scheduling.plan import plan_line

        line = plan_line(r.plan)
        plan = Text(line.text, style="" if line.fits else "yellow")
        if line.command:
            plan.append("  → ").append(command(line.command))
        parts.append(plan)
    parts.append(FirstFit(*(outlook_table(o.decks, "deck", r, t, d) for d in (1, 0))))
    tags = sorted(o.tags, key=lambda x: (x.recall is None, x.recall or 0, x.name))
    if tags:
        shown = tags[:TAG_ROWS]
        parts += [Text(""), FirstFit(*(outlook_table(shown, "tag", r, detail=d) for d in (1, 0)))]
        if len(tags) > len(shown):
            parts.append(
                Text(f"… {len(tags) - len(shown)} more tags: --json lists them all", style="dim")
            )
    return section(
        f"Interview {when}, {left}",
        Group(*parts),
        "predicted recall that morning if you stop now; weakest tags first",
    )


def retention_table(r: Report) -> RenderableType:
    def table(detail: int) -> Table:
        """detail 2: as wide as it reads best; 1: short labels; 0: rates without counts."""
        t = LeanTable(box=None, padding=(0, 1), pad_edge=False, header_style="bold dim")
        t.add_column("", no_wrap=True)
        for w in r.retention:
            t.add_column(f"last {w.days} days" if detail == 2 else f"{w.days}d", justify="right")
        t.add_column("target", justify="right")

        def cell(tally: Tally) -> Text:
            c = Text(pct(tally.rate, 1), style=rate_style(tally.rate, r.desired_retention))
            if detail:
                c.append(f" of {tally.reviews:,}", style="dim")
            return c

        target = Text(pct(r.desired_retention, 1), style="dim")
        young, mature = (
            (f"young (<{MATURE_DAYS}d)", f"mature (≥{MATURE_DAYS}d)")
            if detail == 2
            else ("young", "mature")
        )
        t.add_row(young, *(cell(w.young) for w in r.retention), target)
        t.add_row(mature, *(cell(w.mature) for w in r.retention), target)
        t.add_row(Text("all", style="bold"), *(cell(w.all) for w in r.retention), target)
        return t

    return section(
        "True retention",
        FirstFit(table(2), table(1), table(0)),
        "first answer of the day of cards in review",
    )


def forecast_chart(r: Report, height: int = 5) -> RenderableType:
    """Vertical bars, one column per day (today in yellow), in eighths of a row. Days are
    two columns apart when they fit, else side by side; days that still do not fit are
    left off the end (the subtitle says so)."""
    counts = [d.count for d in r.forecast]
    top = max(counts)
    label_w = len(f"{top:,}")
    prefix = label_w + 2
    interview = r.interview.date if r.interview else None
    mark = next((i for i, d in enumerate(r.forecast) if d.date == interview), None)

    def fit(width: int) -> tuple[int, int]:
        """(columns per day, days shown) for a chart `width` columns wide."""
        step = 2 if prefix + 2 * len(counts) <= width else 1
        return step, max(1, min(len(counts), (width - prefix) // step))

    def chart(width: int) -> RenderableType:
        step, shown = fit(width)
        lines = []
        if mark is not None and mark < shown:  # a marker above the interview's column
            label = "interview ▼"
            at = prefix + step * mark
            lines.append(
                Text(" " * max(0, at - len(label) + 1) + label[-(at + 1) :], style="bold magenta")
            )
        for row in range(height, 0, -1):
            line = Text(
                f"{top:>{label_w},} ┤" if row == height else " " * label_w + " │", style="dim"
            )
            for i, n in enumerate(counts[:shown]):
                eighths = round(n / top * height * 8) if top else 0
                level = max(0, min(8, eighths - (row - 1) * 8))
                if n and row == 1 and level == 0:
                    level = 1  # a day with any reviews shows at least a sliver
                style = "yellow" if i == 0 else "magenta" if i == mark else "cyan"
                line.append(BARS[level] + " " * (step - 1), style=style)
            lines.append(line)
        axis = Text(f"{0:>{label_w}} └" + "─" * (step * shown), style="dim")
        labels = Text(" " * prefix, style="dim")
        for i in range(0, shown, 7):
            label = "today" if i == 0 else f"{r.forecast[i].date:%d %b}"
            if prefix + step * i + len(label) > width:
                break
            labels.append(" " * (prefix + step * i - len(labels)) + label)
        return Group(*lines, axis, labels)

    def build(width: int) -> RenderableType:
        _, shown = fit(width - 1)  # section() indents the body by one column
        sub = (
            f"{sum(counts):,} due in {len(counts)} days · today {counts[0]:,} with overdue"
            f" · tomorrow {counts[1]:,}"
        )
        if shown < len(counts):
            sub += f" · first {shown} shown"
        if interview is not None and (mark is None or mark >= shown) and not r.interview.passed:
            sub += f" · interview {interview:%d %b} is further out"
        return section("Forecast", Fitted(chart), sub)

    return Fitted(build)


def heat_level(count: int, busiest: int) -> int:
    """0 for no answers, else 1-4 by quarter of the busiest day: level k holds counts in
    ((k-1)/4, k/4] of it (a GitHub-style scale)."""
    return 0 if count == 0 else min(4, max(1, -(-4 * count // busiest)))


def heatmap_chart(h: Heatmap) -> RenderableType:
    """Weeks as columns, two apart; a narrow terminal shows the most recent weeks only."""

    def build(width: int) -> RenderableType:
        weeks = ((h.today - h.start).days // 7) + 1
        fit = max(1, (width - 1 - 4) // 2)  # a one-column indent, 'Mon ', two per week
        if fit >= weeks:
            return _heatmap(h, width)
        start = h.start + timedelta(weeks=weeks - fit)
        recent = Heatmap(start, h.today, h.days[7 * (weeks - fit) :])
        return _heatmap(recent, width)

    return Fitted(build)


def _heatmap(h: Heatmap, width: int) -> RenderableType:
    weeks = ((h.today - h.start).days // 7) + 1
    busiest = h.busiest  # a property: counted once, not once per day
    levels = [heat_level(d.count, busiest) for d in h.days]
    mondays = [h.start + timedelta(weeks=w) for w in range(weeks)]
    months = Text("    ")
    for w, monday in enumerate(mondays):
        new_month = w == 0 or monday.month != mondays[w - 1].month
        # the first column is labelled only if the next month does not start right after
        crowded = w == 0 and any(m.month != monday.month for m in mondays[1:3])
        if new_month and not crowded:
            months.append(" " * (4 + 2 * w - len(months)))
            months.append(f"{monday:%b}", style="dim")
    rows = []
    for dow, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")):
        line = Text(f"{name} ", style="dim")
        for w in range(weeks):
            i = 7 * w + dow
            if i >= len(h.days):
                line.append("  ")
                continue
            lv = levels[i]
            line.append(
                HEAT_GLYPHS[lv], style=HEAT_STYLES[lv] + (" bold" if i == len(h.days) - 1 else "")
            )
            line.append(" ")
        rows.append(line)
    legend = Text("    less ", style="dim")
    for lv in range(5):
        legend.append(HEAT_GLYPHS[lv] + " ", style=HEAT_STYLES[lv])
    legend.append("more", style="dim")
    legends = [legend]
    if h.busiest:
        scale = f"(█ over {3 * h.busiest // 4:,} a day; busiest {h.busiest:,})"
        if len(legend) + 3 + len(scale) <= width - 1:
            legend.append(f"   {scale}", style="dim")
        else:
            legends.append(Text(f"    {scale}", style="dim"))
    sub = f"{h.total:,} answers · studied {h.active_days} of {len(h.days)} days"
    return section(f"Activity, last {weeks} weeks", Group(months, *rows, *legends), sub)


def due_text(due, now) -> Text:
    if due is None:
        return Text("—", style="dim")
    if due <= now:
        return Text("now", style="bold yellow")
    return Text(f"in {until(due - now)}", style="dim")


def until(delta: timedelta) -> str:
    """A wait in its largest whole unit, rounded up so 'now' is never shown early:
    10m, 3h, 2d (a level due in 10 minutes is not 'in 1d')."""
    minutes = max(1, -(-round(delta.total_seconds()) // 60))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 24 * 60:
        return f"{-(-minutes // 60)}h"
    return f"{round(minutes / (24 * 60))}d"


def skills_section(r: Report) -> RenderableType | None:
    sk = r.skills
    if not sk.skills and not sk.levels:
        if not r.scope.includes_drill or r.scope.tags:  # filtered out, not missing
            return None
        hint = Text.assemble(
            "No drill attempts yet. Practise gradients by hand: ", command(DRILL_COMMAND)
        )
        return section("Drill skills", hint)
    parts: list[RenderableType] = []
    if sk.skills:
        worst_first = sorted(
            sk.skills, key=lambda s: (s.recent.rate if s.recent.reviews else 2, s.skill)
        )
        parts.append(
            FirstFit(
                skill_table(worst_first, sk.weakest),
                skill_table(worst_first, sk.weakest, full=False),
            )
        )
    if sk.levels:
        parts += [
            Text(""),
            FirstFit(
                *(level_table(sk.levels, r.now, d) for d in (2, 1)), level_lines(sk.levels, r.now)
            ),
        ]
    return section(
        "Drill skills", Group(*parts), "first-try accuracy: all, last 10 attempts, the 10 before"
    )


def skill_table(skills: list, weakest: list[str], full: bool = True) -> Table:
    """Without `full`: the overall and earlier accuracy are left out."""
    table = LeanTable(box=None, padding=(0, 1), pad_edge=False, header_style="bold dim")
    table.add_column("skill", no_wrap=True, max_width=20, overflow="ellipsis")
    table.add_column("attempts", justify="right")
    if full:
        table.add_column("overall", justify="right")
    table.add_column("last 10", justify="right")
    if full:
        table.add_column("10 before", justify="right")
    table.add_column("trend", justify="center")
    for s in skills:
        glyph, style = TREND.get(s.trend, ("", "dim"))
        overall = pct(s.correct / s.attempts if s.attempts else None)
        before = Text(pct(s.previous.rate), style="dim")
        table.add_row(
            Text(s.skill, style="bold red" if s.skill in weakest else "bold"),
            f"{s.attempts:,}",
            *([overall] if full else []),
            Text(pct(s.recent.rate), style=rate_style(s.recent.rate, 0.8)),
            *([before] if full else []),
            Text(glyph, style=style),
        )
    return table


def level_table(levels: list, now, detail: int = 2) -> Table:
    """detail 2: every column; 1: the level, when it is due and its command."""
    table = LeanTable(box=None, padding=(0, 1), pad_edge=False, header_style="bold dim")
    table.add_column("level", no_wrap=True)
    if detail == 2:
        table.add_column("attempts", justify="right")
        table.add_column("first try", justify="right")
        table.add_column("recall", justify="right")
    table.add_column("due", no_wrap=True)
    table.add_column("practise with", style="cyan", no_wrap=True)
    for lv in levels:
        figures = (
            [
                f"{lv.attempts:,}",
                pct(lv.correct / lv.attempts if lv.attempts else None),
                pct(lv.recall),
            ]
            if detail == 2
            else []
        )
        table.add_row(Text(lv.id, style="bold"), *figures, due_text(lv.due, now), lv.command)
    return table


def level_lines(levels: list, now) -> RenderableType:
    """The narrowest form: each level and when it is due, its command on the next line."""
    lines: list[RenderableType] = []
    for lv in levels:
        lines.append(Text.assemble((lv.id, "bold"), "  due ", due_text(lv.due, now)))
        lines.append(Padding(Text.assemble("$ ", command(lv.command)), (0, 0, 0, 2)))
    return Group(*lines)


def calibration_section(r: Report) -> RenderableType | None:
    """Predicted recall vs actual, bin by bin; None before any answer FSRS could predict."""
    c = r.calibration
    if not c.reviews:
        return None

    def label(lo: float, hi: float) -> str:
        return f"<{hi:.0%}" if lo == 0 else f"{lo * 100:.0f}–{hi:.0%}"

    def table(full: bool) -> Table:
        t = LeanTable(box=None, padding=(0, 1), pad_edge=False, header_style="bold dim")
        t.add_column("predicted", no_wrap=True)
        if full:
            t.add_column("answers", justify="right")
        t.add_column("mean", justify="right")
        t.add_column("actual", justify="right")
        for b in c.bins:
            if not b.reviews:
                continue
            gap = abs(b.actual - b.predicted)
            style = "green" if gap < 0.03 else "yellow" if gap < 0.1 else "red"
            cells = [label(b.lo, b.hi)] + ([f"{b.reviews:,}"] if full else [])
            t.add_row(*cells, pct(b.predicted), Text(pct(b.actual), style=style))
        total = [Text("all", style="bold")] + ([f"{c.reviews:,}"] if full else [])
        t.add_row(*total, pct(c.predicted), pct(c.actual))
        return t

    which = (
        "your fitted parameters"
        if r.fitted_parameters
        else "the default parameters (quizforge optimize fits yours)"
    )
    note = Text(f"RMSE {pct(c.rmse, 1)} over the bins, with {which}", style="dim")
    return section(
        "Calibration",
        Group(FirstFit(table(True), table(False)), note),
        "predicted vs actual recall",
    )


def weak_section(r: Report) -> RenderableType | None:
    w = r.weak
    groups = [
        (f"Leeches ({w.leech_count:,} suspended)", w.leeches, lambda c: f"{c.lapses} lapses"),
        ("Lowest recall now", w.lowest_recall, lambda c: f"recall {pct(c.recall)}"),
        ("Most-missed MCQs", w.most_missed_mcq, lambda c: f"missed {c.misses} of {c.answers}"),
    ]
    if not any(cards for _, cards, _ in groups):
        return None
    lines: list[RenderableType] = []
    for title, cards, detail in groups:
        if not cards:
            continue
        lines.append(Text(title, style="bold"))
        for c in cards[:WEAK_ROWS]:
            # indented blocks, so a long id or command wraps under itself
            card = Text.assemble(f"{c.deck_id}/{c.card_id}  ", (detail(c), "yellow"))
            lines.append(Padding(card, (0, 0, 0, 2)))
            lines.append(Padding(Text.assemble("$ ", command(c.command)), (0, 0, 0, 2)))
    return section("Weak spots", Group(*lines), f"top {WEAK_ROWS} of each; --json lists more")


def mock_section(r: Report) -> RenderableType | None:
    """The last mock rounds' scores, oldest first, with the change from one to the next."""
    if not r.mock_rounds:
        return None
    lines = Text()
    before = None
    for m in r.mock_rounds:
        lines.append(f"round {m.id}  ", style="bold")
        when = f"{m.started_at.astimezone():%a %d %b %H:%M}" if m.started_at else ""
        lines.append(f"{when}  {len(m.answers)}/{m.planned} questions  ")
        lines.append(pct(m.score), style="bold")
        if before is not None and m.score is not None:
            d = round((m.score - before) * 100)
            lines.append(f"  {'+' if d >= 0 else '−'}{abs(d)}", style="green" if d > 0
                         else "red" if d < 0 else "dim")
        before = m.score if m.score is not None else before
        lines.append("\n")
    lines.rstrip()
    return section("Mock rounds", lines, "quizforge mock --json lists them all")


def empty_panel(r: Report) -> RenderableType:
    total = r.mastery.total
    body = Text()
    body.append("Nothing studied yet", style="bold")
    if r.scope.decks or r.scope.tags:
        body.append(" in this selection")
    body.append(". Your progress shows up here after your first answers.")
    if total.cards:
        n = len(r.mastery.decks)
        body.append(f"\n{total.cards:,} cards in {n} deck{'s' * (n != 1)} are waiting.")
    elif r.deck_titles:
        body.append("\nDecks found: " + ", ".join(f"{t} ({d})" for d, t in r.deck_titles.items()))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for a in r.advice:
        grid.add_row(command(a.command or ""), Text(a.text, style="dim"))
    return Panel(
        Group(body, Text(""), grid),
        title=Text("Welcome to quizforge"),
        title_align="left",
        border_style="cyan",
    )


def render_report(r: Report) -> RenderableType:
    """The whole report: one renderable, at most 80 columns wide."""
    if r.empty:
        return Group(title_line(r), empty_panel(r))
    parts: list[RenderableType] = [title_line(r), today_panel(r)]
    if (aim := interview_section(r)) is not None:
        parts.append(aim)
    parts += mastery_sections(r)
    parts.append(retention_table(r))
    parts.append(forecast_chart(r))
    parts.append(heatmap_chart(r.activity))
    from quizforge.ui.trends import trends_section

    for extra in (skills_section(r), calibration_section(r), weak_section(r), mock_section(r),
                  trends_section(r.trends)):
        if extra is not None:
            parts.append(extra)
    return Group(*parts)
