"""`quizforge report`: progress at a glance, or as JSON / an HTML or SVG file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from quizforge.cli import app, complete
from quizforge.cli.common import DeckDirs, JsonFlag, TagFilter, deck_dirs, err, out


@app.command()
def report(
    deck: Annotated[
        list[str] | None,
        typer.Option("--deck", "-d", metavar="ID", help="Only this deck (repeatable).",
                     autocompletion=complete.reported_deck_ids),
    ] = None,
    tag: TagFilter = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="YYYY-MM-DD", help="Count answers from this study day on."),
    ] = None,
    as_json: JsonFlag = False,
    html: Annotated[
        Path | None, typer.Option("--html", metavar="FILE", help="Also write the report as HTML.")
    ] = None,
    svg: Annotated[
        Path | None, typer.Option("--svg", metavar="FILE", help="Also write the report as SVG.")
    ] = None,
    decks: DeckDirs = None,
) -> None:
    """How ready you are: today, mastery, retention, forecast, calendar, weak spots.

    Today's work and streak; mastery by deck and tag; true retention; the 30-day forecast; a 26-week activity calendar; drill skills; weak spots, each with the command that studies them.

    --since limits the figures taken from your answers (today, streak, retention,
    activity, skills, most-missed); mastery and the forecast are always as of now.

    Trends, week by week for 12 weeks: predicted recall and true retention per
    topic, drill first-try accuracy per skill, mock round scores (sparklines;
    plots with --html).

    Examples:

      quizforge report

      quizforge report --deck backprop --tag softmax-ce

      quizforge report --since 2026-11-01 --json

      quizforge report --html progress.html --svg progress.svg
    """
    from quizforge.gcpause import gc_paused

    with gc_paused():  # ~70 collections over 100,000s of rows and renderables, none in a cycle
        _report(deck, tag, since, as_json, html, svg, decks)


def _report(deck, tag, since, as_json, html, svg, decks) -> None:
    import json

    from quizforge import clock
    from quizforge.paths import config_path
    from quizforge.reports import Calendar, Scope, build_report, check_scope, check_since, parse_day
    from quizforge.scheduling.config import load_config
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store import open_store
    from quizforge.ui.report import render_report, title_line

    for path in (html, svg):
        if path is not None:
            _check_writable(path)  # before any work, so a bad path prints nothing else
    scope = Scope(tuple(deck or ()), tuple(tag or ()), parse_day(since) if since else None)
    scheduler = Scheduler(load_config(config_path()))
    now = clock.now()
    if scope.since is not None:
        check_since(scope.since, Calendar(scheduler.config.day_starts_at).day_of(now))
    loaded = _loaded_decks(deck_dirs(decks))
    with open_store() as db:
        check_scope(
            db,
            scope,
            known_decks=[d.id for d in loaded],
            known_tags={t for d in loaded for t in (*d.card_tags, *d.tags)},
        )
        _note_long_refresh(db, scheduler)
        result = build_report(db, now, scheduler, scope, deck_titles={d.id: d.name for d in loaded})
    view = render_report(result)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif html is None and svg is None:  # a file asked for: the terminal says where it went
        out.print(view)
    for path, kind in ((html, "html"), (svg, "svg")):
        if path is not None:
            _export(view, path, kind, title_line(result).plain, _plots(result, kind))
            from quizforge.controls import visible

            (err if as_json else out).print(f"Wrote {visible(str(path))}", markup=False,
                                            highlight=False)


def _note_long_refresh(db, scheduler) -> None:
    """Say why this report takes a while: the calibration's predictions are made for the
    whole log once per change of parameters (about 1 s per 100,000 answers)."""
    from quizforge.reports.calibration import answers_to_predict

    n = answers_to_predict(db, scheduler.parameters)
    if n >= 100_000:
        err.print(
            f"note: predicting recall at each of {n:,} answers for the calibration "
            "(once, after a change of FSRS parameters)...",
            highlight=False, soft_wrap=True,
        )


def _loaded_decks(dirs: list[Path]) -> list:
    """Decks only add display names and known ids and tags: the report works from the
    store. They come without their cards, from the compiled-deck cache."""
    from quizforge.cli.decks import list_decks_or_warn

    return list_decks_or_warn(dirs)


def _check_writable(path: Path) -> None:
    """A QuizforgeError unless `path` can be written: its folder exists and is writable, and
    it is not a folder itself (the write can still fail later, e.g. on a full disk)."""
    import os

    from quizforge.errors import QuizforgeError

    folder = path.parent
    if path.is_dir():
        problem = "it is a folder"
    elif not folder.is_dir():
        problem = f"no folder {folder}" if not folder.exists() else f"{folder} is not a folder"
    elif not os.access(folder, os.W_OK | os.X_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        problem = "permission denied"
    else:
        return
    raise QuizforgeError(f"cannot write {path}: {problem}")


def _plots(result, kind: str) -> str:
    """The HTML report's plots (inline SVG), below the text report."""
    if kind != "html" or result.empty:
        return ""
    from quizforge.ui.trend_svg import trends_html

    return trends_html(result.trends)


def _export(renderable, path: Path, kind: str, title: str, plots: str = "") -> None:
    import io

    from rich.console import Console

    from quizforge.errors import QuizforgeError
    from quizforge.ui.report import WIDTH, html_page

    console = Console(
        record=True, width=WIDTH, file=io.StringIO(), force_terminal=True, color_system="truecolor"
    )
    console.print(renderable)
    text = (
        console.export_html(inline_styles=True, code_format=html_page(title))
        if kind == "html"
        else console.export_svg(title=title)
    )
    if plots:
        text = text.replace("</body>", plots + "</body>", 1)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise QuizforgeError(f"cannot write {path}: {e.strerror or e}") from None
