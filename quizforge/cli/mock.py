"""`quizforge mock`: a timed mock interview round, then its scorecard."""

from __future__ import annotations

from typing import Annotated

import typer

from quizforge.cli import app, complete
from quizforge.cli.common import DeckDirs, JsonFlag, backup_after_session, deck_dirs, out


@app.command()
def mock(
    minutes: Annotated[
        int, typer.Option("--minutes", "-m", metavar="N", min=1, max=600,
                          help="Length of the round in minutes.")
    ] = 30,
    questions: Annotated[
        int | None, typer.Option("--questions", "-n", metavar="N", min=1,
                                 help="Questions in the round (default: one per 2.5 minutes).")
    ] = None,
    deck: Annotated[
        list[str] | None, typer.Option("--deck", "-d", metavar="ID", autocompletion=complete.deck_ids,
                                       help="Weight the round toward this deck (repeatable).")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", metavar="TAG", autocompletion=complete.tags,
                                       help="Weight the round toward this tag (repeatable).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", metavar="S", help="Seed: the same seed, the same round.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", "-L", metavar="TAG",
                                 help="Show cards in this language where a translation has them.")
    ] = None,
    as_json: JsonFlag = False,
    decks: DeckDirs = None,
) -> None:
    """A timed mock interview round (explain, MCQ, flashcards, formulas, drills) with a scorecard.

    Questions lean toward your weak spots (the report's forgotten cards, leeches,
    missed MCQs, weak or due drill skills) and toward the decks and tags named.
    Interview conditions: the time left is always shown; no hints; a drill takes
    your first answer; an explain card shows its key points only after you say
    done, and you tick the ones you covered (all: Good, at least half: Hard,
    fewer: Again). Every answer is saved at once and counts as a review of its
    card. When time is up, the question under way is finished, then the round ends.

    The scorecard gives the score by topic and skill, the time per question, what
    to study next, and how this round compares with the earlier ones.
    --json prints the stored rounds instead of running one.

    Examples:

      quizforge mock

      quizforge mock --minutes 15 --questions 6 --tag attention

      quizforge mock --seed 7          # the same questions as another --seed 7 round

      quizforge mock --json            # rounds over time
    """
    import json
    import random
    from dataclasses import replace
    from datetime import timedelta

    from quizforge import clock
    from quizforge.cli.decks import load_decks_or_warn, translated_or_warn
    from quizforge.errors import DeckError
    from quizforge.paths import config_path
    from quizforge.scheduling.config import load_config
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store import cards as store_cards
    from quizforge.store import open_store, rounds
    from quizforge.study import mock as core

    if as_json:
        with open_store() as db:
            history = core.history(db)
        print(json.dumps({"definition": core.SCORE_DEFINITION,
                          "rounds": [core.result_dict(r) for r in history]},
                         indent=2, ensure_ascii=False))
        return

    from quizforge.ui.keys import make_reader
    from quizforge.ui.mock import MockScreen, scorecard
    from quizforge.ui.width import ambiguous_is_wide

    from quizforge.cli.sync import quiet_sync

    synced = quiet_sync()  # before the settings are read: another machine may have changed them
    config = load_config(config_path())
    if language is not None:
        config = replace(config, language=language)
    out.draw_ambiguous_wide(ambiguous_is_wide(config.ambiguous_width))
    loaded = load_decks_or_warn(deck_dirs(decks))
    if not loaded:
        raise DeckError("no decks found: check --decks and QUIZFORGE_DECKS (`quizforge decks` lists them)")
    loaded = translated_or_warn(loaded, deck_dirs(decks), config.language)
    focus = core.focus_of(loaded, deck or (), tag or ())
    n = questions or core.default_questions(minutes)
    seed = random.randrange(2**31) if seed is None else seed
    scheduler = Scheduler(config)
    by_id = {d.id: d for d in loaded}
    with open_store(write=True) as db:
        now = clock.now()
        store_cards.sync_decks(db, loaded, now)
        picked = core.choose(core.candidates(db, loaded, now, scheduler), n,
                             core.weakness(db, now, scheduler), focus, seed)
        places = {d.id: dict(zip(d.index().ids, range(len(d.index().ids)))) for d in loaded}
        asked = [(c, by_id[c.deck_id].cards[places[c.deck_id][c.card_id]]) for c in picked]
        started = clock.now()
        round_id = rounds.start_round(db, started, minutes, len(asked), seed, deck or (), tag or ())
        out.print(f"Mock round {round_id}: {len(asked)} questions in {minutes} minutes "
                  f"(--seed {seed} asks the same ones).", highlight=False)

        def commit(position, cand, rating, score, topics, skills, ms, attempt):
            core.commit_answer(db, scheduler, round_id, position, cand, rating, score, topics,
                               skills, clock.now(), ms, attempt)

        screen = MockScreen(asked, out, make_reader(), clock.now,
                            started + timedelta(minutes=minutes), commit,
                            run_generated=_generated_runner(), rng=random.Random(seed))
        outcome = screen.run()
        rounds.finish_round(db, round_id, clock.now(), outcome.ended)
        result = core.result(outcome.answers, round_id, started, outcome.ended, minutes,
                             len(asked))
        previous = core.history(db, core.COMPARE_ROUNDS, before=round_id)
        backup_after_session(db, scheduler)
    out.print(scorecard(result, core.compare(result, previous)))
    quiet_sync(synced)  # the screen was cleared: what the start sync said is said again
    if outcome.ended == "interrupted":
        raise typer.Exit(130)


def _generated_runner():
    """Drill problems under interview conditions (imported lazily: the drill needs sympy)."""

    def run(card, console, reader, seed, first_answer=True):
        from quizforge.ui.drill import run_generated_card

        return run_generated_card(card, console, reader, seed, first_answer=first_answer)

    return run
