"""The report's trends in the terminal: one sparkline per topic, skill and the mock rounds,
one mark per week (per round for mocks), oldest on the left."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from quizforge.reports.trends import TopicTrend, Trends
from quizforge.ui.lean_table import LeanTable

SPARKS = "▁▂▃▄▅▆▇█"
GAP = "·"  # a week with nothing to measure
TOPIC_ROWS = 8  # topics shown (most answers first); --json and --html have them all
SKILL_ROWS = 6
RECALL_FLOOR = 0.5  # recall and retention sparklines span 50%-100%: they live up there


def spark(values: Sequence[float | None], lo: float = 0.0, hi: float = 1.0,
          style: str = "cyan") -> Text:
    """One glyph per value, ▁ at `lo` or below, █ at `hi`; GAP for None."""
    t = Text()
    for v in values:
        if v is None:
            t.append(GAP, style="grey37")
            continue
        x = (min(max(v, lo), hi) - lo) / (hi - lo)
        t.append(SPARKS[round(x * (len(SPARKS) - 1))], style=style)
    return t


def last_value(values: Sequence[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{100 * known[-1]:.0f}%" if known else "—"


def change(values: Sequence[float | None]) -> Text:
    """The last known value minus the first, in points."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return Text("")
    d = round(100 * (known[-1] - known[0]))
    style = "green" if d > 0 else "red" if d < 0 else "dim"
    return Text(f"{'+' if d >= 0 else '−'}{abs(d)}", style=style)


def topic_table(rows: Sequence[TopicTrend], total: TopicTrend, columns: Sequence[str],
                short: bool = False) -> Table:
    """A sparkline, the last week's value and the change per topic, for each of `columns`;
    `short`: short headers and topic names, for a narrow terminal."""
    table = LeanTable(box=None, padding=(0, 1), pad_edge=False, header_style="bold dim")
    table.add_column("topic", no_wrap=True, max_width=14 if short else 20, overflow="ellipsis")
    for name in columns:
        table.add_column(name.split()[-1] if short else name, no_wrap=True)
        table.add_column("", justify="right", no_wrap=True)
        table.add_column("", justify="right", no_wrap=True)
    for x in rows:
        cells: list = [Text(x.name, style="dim" if x is total else "bold")]
        for name in columns:
            if name == "predicted recall":
                values, style = list(x.predicted), "cyan"
            else:
                values, style = [w.rate for w in x.retention], "green"
            cells += [spark(values, RECALL_FLOOR, style=style), last_value(values),
                      change(values)]
        table.add_row(*cells)
    return table


def trends_section(t: Trends | None) -> RenderableType | None:
    """None when there is nothing to draw (no answer, attempt or round in the weeks)."""
    from quizforge.ui.report import FirstFit, section  # that module shows this section

    if t is None:
        return None
    topics = sorted(t.topics, key=lambda x: (-x.answers, x.name))[:TOPIC_ROWS]
    rows = [x for x in (t.total, *topics) if x.answers]
    skills = sorted(t.skills, key=lambda s: (-sum(w.reviews for w in s.weeks), s.skill))
    if not rows and not skills and not t.mock:
        return None
    parts: list[RenderableType] = []
    if rows:
        both = topic_table(rows, t.total, ("predicted recall", "true retention"))
        stacked = [Group(topic_table(rows, t.total, ("predicted recall",), short), Text(""),
                         topic_table(rows, t.total, ("true retention",), short))
                   for short in (False, True)]
        parts.append(FirstFit(both, *stacked))
        if len(t.topics) > len(topics):
            parts.append(Text(f"… {len(t.topics) - len(topics)} more topics: --json and --html "
                              "have them all", style="dim"))
    if skills:
        table = LeanTable(box=None, padding=(0, 1), pad_edge=False, header_style="bold dim")
        table.add_column("drill skill", no_wrap=True, max_width=20, overflow="ellipsis")
        table.add_column("first try", no_wrap=True)
        table.add_column("", justify="right", no_wrap=True)
        table.add_column("", justify="right", no_wrap=True)
        for s in skills[:SKILL_ROWS]:
            rates = [w.rate for w in s.weeks]
            table.add_row(Text(s.skill, style="bold"), spark(rates, style="magenta"),
                          last_value(rates), change(rates))
        parts += [Text(""), table]
    if t.mock:
        scores = [m.score for m in t.mock]
        line = Text.assemble(("mock rounds ", "bold"), spark(scores, style="yellow"),
                             f" {last_value(scores)} ", change(scores),
                             (f"  {len(scores)} round{'s' * (len(scores) != 1)}, one mark each",
                              "dim"))
        parts += [Text(""), line]
    weeks = len(t.weeks)
    sub = f"a mark a week, oldest left ({GAP} none); last week, change since the first"
    return section("Trends", Group(*parts), sub)
