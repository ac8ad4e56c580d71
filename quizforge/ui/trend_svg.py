"""The report's trends as inline SVG plots for `report --html`: self-contained (no script, no
font or file fetched), one small chart per topic, per drill skill, and one for the mock
rounds. Axes and labels use currentColor, so they follow the page's text colour."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from quizforge.reports.trends import TopicTrend, Trends

W, H = 300, 150  # one chart
LEFT, RIGHT, TOP, BOTTOM = 38, 10, 24, 26
PREDICTED, RETENTION, SKILL, MOCK = "#1f77b4", "#2ca02c", "#9467bd", "#d08c00"
FONT = "font-family:sans-serif;font-size:11px"


def _fmt_day(d: date) -> str:
    return f"{d:%d %b}"


def chart(title: str, series: Sequence[tuple[str, str, Sequence[float | None]]],
          labels: Sequence[str], lo: float = 0.0, hi: float = 1.0, note: str = "") -> str:
    """An SVG line chart: each series (name, colour, values) over `labels` (x), values in
    [lo, hi] as percentages; None leaves a gap in the line. Returns the <svg> element."""
    n = max(1, len(labels))
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        v = min(max(v, lo), hi)
        return TOP + ph * (1 - (v - lo) / (hi - lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" role="img" style="{FONT}">',
           f"<title>{escape(title)}</title>",
           f'<text x="{LEFT}" y="14" fill="currentColor" font-weight="bold">{escape(title)}</text>']
    if note:
        out.append(f'<text x="{W - RIGHT}" y="14" fill="currentColor" opacity="0.6" '
                   f'text-anchor="end">{escape(note)}</text>')
    step = 0.1 if hi - lo <= 0.7 + 1e-9 else 0.25  # whole tens or quarters
    ticks = round((hi - lo) / step)
    for k in range(ticks + 1):  # gridlines and y labels
        v = lo + step * k
        yy = y(v)
        out.append(f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{W - RIGHT}" y2="{yy:.1f}" '
                   'stroke="currentColor" stroke-opacity="0.15"/>')
        out.append(f'<text x="{LEFT - 4}" y="{yy + 4:.1f}" fill="currentColor" opacity="0.7" '
                   f'text-anchor="end">{100 * v:.0f}%</text>')
    if labels:  # x labels: first and last
        out.append(f'<text x="{x(0):.1f}" y="{H - 8}" fill="currentColor" opacity="0.7" '
                   f'text-anchor="start">{escape(labels[0])}</text>')
        if n > 1:
            out.append(f'<text x="{x(n - 1):.1f}" y="{H - 8}" fill="currentColor" '
                       f'opacity="0.7" text-anchor="end">{escape(labels[-1])}</text>')
    for name, colour, values in series:
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((x(i), y(v)))
        for run in runs:
            if len(run) > 1:
                pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in run)
                out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                           'stroke-width="2"/>')
        for i, v in enumerate(values):
            if v is not None:
                out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}">'
                           f"<title>{escape(name)} {escape(labels[i])}: {100 * v:.0f}%</title>"
                           "</circle>")
    out.append("</svg>")
    return "".join(out)


def _floor(values: Sequence[float | None]) -> float:
    """The y axis starts at 50%, or lower in tens when a value is below it."""
    known = [v for v in values if v is not None]
    low = min(known, default=0.5)
    return min(0.5, int(low * 10) / 10)


def _topic_chart(t: TopicTrend, labels: Sequence[str]) -> str:
    kept = [w.rate for w in t.retention]
    lo = _floor([*t.predicted, *kept])
    answers = sum(w.reviews for w in t.retention)
    return chart(t.name, [("predicted recall", PREDICTED, t.predicted),
                          ("true retention", RETENTION, kept)], labels, lo, 1.0,
                 f"{answers:,} reviews")


def _legend(items: Sequence[tuple[str, str]]) -> str:
    return "".join(
        f'<span style="margin-right:16px"><svg width="14" height="4" style="vertical-align:middle">'
        f'<rect width="14" height="4" fill="{c}"/></svg> {escape(n)}</span>' for n, c in items)


def trends_html(t: Trends | None) -> str:
    """A <section> with every trend chart, or '' when there is nothing to plot."""
    if t is None:
        return ""
    labels = [_fmt_day(w) for w in t.weeks]
    topics = [x for x in (t.total, *sorted(t.topics, key=lambda x: (-x.answers, x.name)))
              if x.answers]
    skills = [s for s in t.skills if any(w.reviews for w in s.weeks)]
    if not topics and not skills and not t.mock:
        return ""
    grid = 'style="display:flex;flex-wrap:wrap;gap:8px"'
    parts = ['<section style="font-family:sans-serif;margin:16px">',
             "<h2>Trends</h2>",
             f"<p>Week by week, the last {len(t.weeks)} weeks (each week the 7 study days "
             f"from the date shown; the last ends today).</p>"]
    if topics:
        parts += ["<h3>Predicted recall and true retention by topic</h3>",
                  "<p>" + _legend([("predicted recall at each answer (FSRS)", PREDICTED),
                                   ("true retention (first review of the day passed)",
                                    RETENTION)]) + "</p>",
                  f"<div {grid}>", *(_topic_chart(x, labels) for x in topics), "</div>"]
    if skills:
        parts += ["<h3>Drill first-try accuracy by skill</h3>", f"<div {grid}>",
                  *(chart(s.skill, [("first try", SKILL, [w.rate for w in s.weeks])], labels,
                          note=f"{sum(w.reviews for w in s.weeks):,} attempts")
                    for s in skills), "</div>"]
    if t.mock:
        rounds = [f"#{m.round}" + (f" {_fmt_day(m.started_at)}" if m.started_at else "")
                  for m in t.mock]
        parts += ["<h3>Mock rounds</h3>", f"<div {grid}>",
                  chart("score by round", [("score", MOCK, [m.score for m in t.mock])], rounds,
                        note=f"{len(t.mock)} rounds"), "</div>"]
    parts.append("</section>")
    return "\n".join(parts) + "\n"
