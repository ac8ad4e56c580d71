"""`quizforge study`: a spaced-repetition session in the terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from quizforge.cli import app, complete
from quizforge.cli.common import DeckDirs, TagFilter, backup_after_session, deck_dirs, out


@app.command()
def study(
    deck: Annotated[
        list[str] | None, typer.Option("--deck", "-d", metavar="ID", help="Only this deck (repeatable).",
                                  autocompletion=complete.deck_ids)
    ] = None,
    tag: TagFilter = None,
    new: Annotated[
        int | None,
        typer.Option("--new", metavar="N", min=0,
                     help="Today's total of new cards, counting those already seen today: with 20 "
                     "seen, --new 30 shows 10 more (default: new_per_day from config)."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", metavar="N", min=1, help="At most N cards this session.")
    ] = None,
    cram: Annotated[
        bool, typer.Option("--cram", help="Practise every matching card without touching the schedule.")
    ] = False,
    shuffle: Annotated[bool, typer.Option("--shuffle", help="Shuffle due and new cards.")] = False,
    seed: Annotated[
        int | None, typer.Option("--seed", metavar="S", help="Seed for shuffling (reproducible order).")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            metavar="YYYY-MM-DD",
            help="Aim this session at an interview on this date (default: interview_date from config).",
        ),
    ] = None,
    ahead: Annotated[
        int | None,
        typer.Option(
            "--ahead",
            metavar="N",
            min=1,
            help="Also review up to N cards not yet due whose recall on the interview date "
            "would be below desired_retention, weakest first.",
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option("--language", "-L", metavar="TAG",
                     help="Show cards in this language where a translation has them, e.g. zh-TW "
                     "(default: language from config; en)."),
    ] = None,
    decks: DeckDirs = None,
) -> None:
    """Study due cards with spaced repetition (FSRS).

    Flashcards: Space or Enter shows the answer, then grade it: 1 Again, 2 Hard,
    3 Good, 4 Easy (each shows the interval it gives). Multiple choice: press the
    letter. Any time: u undoes the last answer, s suspends the card, q quits.
    Every answer is saved the moment you give it.

    Interview date (--until for this session, or `config set interview_date`):
    no review is scheduled after the study day before it. In the last 7 days
    and on the day, reviews come weakest-on-the-date first; --ahead N adds
    cards not yet due whose recall on the date would be below
    desired_retention (early reviews, scored as such by FSRS).

    New cards come in the new_order setting's order: mixed (default: decks
    and card types interleaved, the core deck backprop first), deck or
    random. When nothing is left, the message says why (the day's new-card
    limit, the reviews limit, or all done) and which command goes on.

    With stdin not a terminal, each prompt reads one line (flashcard: any line
    reveals, then 1-4; MCQ: the letter; q quits), so sessions can be scripted.

    Examples:

      quizforge study            # due cards, then today's new ones

      quizforge study --tag adam --limit 10

      quizforge study --cram --deck backprop --shuffle

      quizforge study --until 2026-12-15 --ahead 20

      quizforge study --deck backprop --language zh-TW   # 繁體中文, where translated
    """
    import random
    from dataclasses import replace

    from quizforge import clock
    from quizforge.cli.decks import load_decks_or_warn, translated_or_warn
    from quizforge.errors import DeckError
    from quizforge.paths import config_path
    from quizforge.scheduling.config import load_config
    from quizforge.scheduling.interview import parse_until
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store import open_store
    from quizforge.study.session import Session, StudyOptions
    from quizforge.ui.keys import make_reader
    from quizforge.ui.study import StudyScreen, summary_panel

    from quizforge.cli.sync import quiet_sync

    # with sync_dir set: what the other machines answered (and settings they changed),
    # before the settings are read and cards chosen
    synced = quiet_sync()
    config = load_config(config_path())
    if until is not None:  # this session only, as --new is for new_per_day
        day = parse_until(until, clock.now(), config.day_starts_at)
        config = replace(config, interview_date=day.isoformat())
    if language is not None:
        config = replace(config, language=language)
    from quizforge.ui.width import ambiguous_is_wide

    out.draw_ambiguous_wide(ambiguous_is_wide(config.ambiguous_width))
    loaded = load_decks_or_warn(deck_dirs(decks))
    if not loaded:
        raise DeckError("no decks found: check --decks and QUIZFORGE_DECKS (`quizforge decks` lists them)")
    loaded = translated_or_warn(loaded, deck_dirs(decks), config.language)
    options = StudyOptions(
        decks=tuple(deck or ()),
        tags=tuple(tag or ()),
        new_cap=new,
        limit=limit,
        cram=cram,
        shuffle=shuffle,
        seed=seed,
        ahead=ahead,
    )
    scheduler = Scheduler(config)
    with open_store(write=True) as db:
        session = Session(db, loaded, scheduler, options, clock.now())
        if len(session.queue) == 0:
            nd = session.next_due()
            msg = "Nothing to study right now."
            if nd is not None:
                from quizforge.scheduling.scheduler import format_interval

                wait = nd - clock.now()
                msg += f" Next card due in {format_interval(wait)} ({nd.astimezone():%a %d %b %H:%M})."
            out.print(msg)
            if (idle := session.idle(clock.now())) is not None:
                from quizforge.ui.study import idle_lines

                out.print(idle_lines(idle))
            return
        screen = StudyScreen(
            session,
            out,
            make_reader(),
            clock.now,
            rng=random.Random(seed),
            run_generated=_generated_runner(),
        )
        summary = screen.run()
        backup_after_session(db, scheduler)
        out.print(summary_panel(summary, clock.now()))
    quiet_sync(synced)  # the screen was cleared: what the start sync said is said again
    if summary.interrupted:
        raise typer.Exit(130)  # as a shell expects of Ctrl-C (drill exits 130 too)


def _generated_runner():
    """The drill engine's hook for `type: generated` cards (imported lazily: it needs sympy)."""

    def run(card, console, reader, seed, on_key=None):
        from quizforge.ui.drill import run_generated_card

        return run_generated_card(card, console, reader, seed, on_key=on_key)

    return run
