"""The screen `quizforge optimize` prints: how the log was used, the metrics, the verdict."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from quizforge.scheduling.fitting import FitResult, Metrics


def metrics_table(r: FitResult) -> Table:
    table = Table(box=None, padding=(0, 2), pad_edge=False)
    table.add_column("parameters")
    table.add_column("log loss", justify="right")
    table.add_column("RMSE (bins)", justify="right")
    best = min(
        (m.log_loss for m in (r.default, r.current, r.fitted) if m is not None), default=None
    )

    def row(name: str, m: Metrics) -> None:
        style = "bold green" if m.log_loss == best else ""
        table.add_row(name, Text(f"{m.log_loss:.4f}", style), f"{m.rmse_bins:.2%}")

    row("default", r.default)
    if r.current is not None:
        row("current", r.current)
    row("fitted", r.fitted)
    return table


def verdict(r: FitResult, saved: bool, dry_run: bool, config: Path) -> Text:
    than = "the current ones" if r.current is not None else "the defaults"
    if saved:
        return Text(f"Saved the fitted parameters to {config}: lower log loss than {than}.",
                    style="green")
    if r.better:  # and dry_run
        return Text(f"--dry-run: nothing saved. The fitted parameters beat {than}; "
                    "run `quizforge optimize` to use them.")
    kept = "current" if r.current is not None else "default"
    note = " (--dry-run: nothing saved either way.)" if dry_run else ""
    return Text(f"Kept the {kept} parameters: the fitted ones are no better on your log.{note}")


def optimize_view(r: FitResult, *, saved: bool, dry_run: bool, config: Path) -> RenderableType:
    c = r.counts
    left = [f"{n:,} {what}" for n, what in ((c.cram, "cram"), (c.drill, "drill"),
                                             (c.no_start, "without a first answer")) if n]
    lines = [
        Text.assemble(("Fitted FSRS to ", ""), (f"{c.training:,}", "bold"),
                      f" reviews of {c.cards:,} cards."),
        Text(f"{c.history_only:,} first and same-day answers served as history"
             + (f"; left out: {', '.join(left)}." if left else "."), style="dim"),
        Text(""),
        metrics_table(r),
        Text("Lower is better; all measured on the same reviews, the ones fitted.",
             style="dim"),
        Text(""),
        verdict(r, saved, dry_run, config),
    ]
    return Group(*lines)
