"""`quizforge simulate`: the workload of each desired retention, so the learner can pick one."""

from __future__ import annotations

from typing import Annotated

import typer

from quizforge.cli import app
from quizforge.cli.common import DeckDirs, JsonFlag, deck_dirs, err, out

DEFAULT_RETENTIONS = (0.8, 0.85, 0.9, 0.95)


@app.command()
def simulate(
    values: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="RETENTION",
            help="More desired retentions (so `--retention 0.8 0.85 0.9` works).",
            show_default=False,
        ),
    ] = None,
    retention: Annotated[
        list[str] | None,
        typer.Option(
            "--retention",
            "-r",
            metavar="R",
            help="A desired retention to try, 0.7-0.99 (default: 0.8 0.85 0.9 0.95 and yours).",
            show_default=False,
        ),
    ] = None,
    days: Annotated[
        str | None,
        typer.Option("--days", metavar="N",
                     help="Study days to simulate, 1-3650 (default: 60, or up to the interview "
                     "date when it is further).", show_default=False),
    ] = None,
    new_per_day: Annotated[
        str | None,
        typer.Option(
            "--new-per-day",
            metavar="N",
            help="New cards a day (default: new_per_day from config).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonFlag = False,
    decks: DeckDirs = None,
) -> None:
    """How much work each desired retention costs you, and how much you keep.

    Plays your collection forward day by day with FSRS, as `study` would schedule it: your cards' current memory state, the new cards left in your decks, your daily limits and your FSRS parameters. Recall is drawn from FSRS's predicted probability; how you rate answers and how long they take come from your review log (FSRS's defaults while the log is short). Every retention gets the same seed: the figures repeat, and their differences are the retention's.

    With an interview date (config set interview_date), the days are played as study
    plays them: no review is scheduled after the study day before the date, and the table
    adds "on date", the predicted recall at the start of the interview's study day over all
    your cards (a card never seen counts 0).

    The table shows answers a day (reviews, new cards and learning steps), the busiest day, the cards remembered at the end (the sum of recall probabilities), what your reviews gain over studying nothing more, that per review minute, and the reviews a reviews_per_day limit leaves undone; the plot shows answers per day. The last line suggests the retention whose reviews gain the most per review minute (per answer if your answers are not timed).

    Examples:

      quizforge simulate

      quizforge simulate --retention 0.8 0.85 0.9 0.95 --days 60

      quizforge simulate -r 0.9 -r 0.97 --days 365 --new-per-day 10 --json
    """
    import json
    from contextlib import nullcontext

    from quizforge import clock
    from quizforge.cli.decks import list_decks_or_warn
    from quizforge.paths import config_path
    from quizforge.scheduling.config import load_config
    from quizforge.scheduling.days import day_bounds
    from quizforge.scheduling.simulate import (
        Collection,
        behaviour_from_counts,
        check_options,
        parse_retentions,
        parse_whole,
    )
    from quizforge.scheduling.simulate import simulate as run_simulation
    from quizforge.store import cards as store
    from quizforge.store import open_store

    config = load_config(config_path())
    from quizforge.scheduling.interview import days_left

    now = clock.now()
    interview_day = (days_left(config.interview, now, config.day_starts_at)
                     if config.interview is not None else None)
    if days is None:
        n_days = max(60, min(interview_day or 0, 3650))
    else:
        n_days = parse_whole(days, "--days")
    new_cap = None if new_per_day is None else parse_whole(new_per_day, "--new-per-day")
    given = parse_retentions([*(retention or ()), *(values or ())])
    if not given:
        given = list({*DEFAULT_RETENTIONS, config.desired_retention})
    check_options(given, n_days, new_cap)
    given = sorted(given)
    day_start, day_end = day_bounds(now, config.day_starts_at)
    loaded = list_decks_or_warn(deck_dirs(decks))
    with open_store() as db:
        scheduled, new = store.simulation_cards(db)
        new += store.unsynced_new(db, loaded)
        done = store.studied_today(db, day_start)
        tallies = store.answer_tallies(db)
    collection = Collection(tuple(scheduled), new, done["new"], done["reviews"])
    busy = nullcontext()
    if not as_json and err.is_terminal:  # a long simulation says it is working
        busy = err.status(f"Simulating {len(given)} retentions over {n_days} days…")
    with busy:
        sim = run_simulation(collection, config, given, n_days, now, day_end, seed=0,
                             behaviour=behaviour_from_counts(tallies), new_per_day=new_cap,
                             interview_day=interview_day)
    fitted = bool(getattr(config, "parameters", None))
    if as_json:
        data = {"desired_retention": config.desired_retention, "fitted_parameters": fitted,
                "interview_date": config.interview_date or None}
        print(json.dumps({**data, **sim.to_dict()}, indent=2))
        return
    from quizforge.ui.simulate import render_simulation

    out.print(render_simulation(sim, config.desired_retention, fitted, config.interview))

