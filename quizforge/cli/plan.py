"""`quizforge plan`: does the collection fit before the interview date, and what would."""

from __future__ import annotations

from typing import Annotated

import typer

from quizforge.cli import app, complete
from quizforge.cli.common import DeckDirs, JsonFlag, deck_dirs, err, out


@app.command()
def plan(
    deck: Annotated[
        list[str] | None,
        typer.Option("--deck", "-d", metavar="ID", help="Only this deck (repeatable).",
                     autocompletion=complete.deck_ids),
    ] = None,
    as_json: JsonFlag = False,
    decks: DeckDirs = None,
) -> None:
    """Whether your cards fit before the interview date, and what would.

    Needs an interview date (quizforge config set interview_date YYYY-MM-DD). Says how many
    new cards are left and the study days to start them: every card should be seen on two
    study days before the date, so new cards must start by the day before the last one (no
    review is left for after the date: its cap brings them to that last day). From that, the
    new cards a day needed (a daily total, as new_per_day), and the reviews a day that follow,
    from the simulator (`quizforge simulate`) at your desired retention with the date's cap,
    with the predicted recall on the date.

    Minutes: new cards × seconds per new card (with its learning steps) + reviews × seconds
    per review, from your review log once it has 30 timed answers of the kind, else 45 s and
    15 s (the output says which). With a budget (quizforge config set daily_minutes 45) that
    the mean minutes a day exceed, plan lists decks to leave out, least weight first: the core
    deck backprop 3, decks tagged deep-learning 2, the glossary 0.5, others 1; among equal
    weights, the deck with most new cards first.

    Examples:

      quizforge config set interview_date 2026-12-15

      quizforge plan

      quizforge config set daily_minutes 45 && quizforge plan --json
    """
    import json

    from quizforge import clock
    from quizforge.cli.decks import list_decks_or_warn
    from quizforge.errors import DeckError
    from quizforge.paths import config_path
    from quizforge.reports.plan import plan_from_store
    from quizforge.scheduling.config import load_config
    from quizforge.store import open_store
    from quizforge.ui.plan import no_date_line, render_plan

    config = load_config(config_path())
    if config.interview is None:
        if as_json:
            print(json.dumps({"interview_date": None, "plan": None}))
        else:
            out.print(no_date_line())
        return
    loaded = list_decks_or_warn(deck_dirs(decks))
    unknown = [d for d in deck or () if d not in {x.id for x in loaded}]
    if unknown:
        known = ", ".join(sorted(x.id for x in loaded)) or "none"
        raise DeckError(f"no deck with id {unknown[0]!r} (decks found: {known})")
    busy = err.status("Simulating the days to the interview…") if (
        not as_json and err.is_terminal) else None
    with open_store() as db:
        if busy:
            busy.start()
        try:
            result = plan_from_store(db, loaded, config, clock.now(), only=tuple(deck or ()))
        finally:
            if busy:
                busy.stop()
    assert result is not None
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    out.print(render_plan(result))
