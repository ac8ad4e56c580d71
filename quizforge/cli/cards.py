"""`quizforge unsuspend`: bring back suspended cards (and leeches); `quizforge cards search`,
`cards show` and `cards edit`: find a card, see it and its schedule, fix it in an editor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from quizforge.cli import app, complete
from quizforge.cli.common import DeckDirs, JsonFlag, TagFilter, deck_dirs, err, out
from quizforge.controls import visible
from quizforge.errors import QuizforgeError


@app.command()
def unsuspend(
    refs: Annotated[
        list[str] | None,
        typer.Argument(metavar="DECK/CARD", help="Cards to unsuspend, e.g. backprop/adam-defaults.",
                       autocompletion=complete.suspended_cards),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Unsuspend every suspended card.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List suspended cards, or unsuspend some.

    Cards are suspended with `s` during study, or automatically as leeches after
    too many lapses. With no arguments, lists them.

    Examples:

      quizforge unsuspend                     # what is suspended?

      quizforge unsuspend backprop/adam-defaults

      quizforge unsuspend --all
    """
    from quizforge.store import cards as store
    from quizforge.store import open_store

    with open_store(write=bool(refs or all_)) as db:
        suspended = store.suspended_cards(db)
        if not refs and not all_:
            if as_json:
                print(json.dumps([
                    {"deck": r.deck_id, "card": r.card_id, "leech": r.schedule.leech, "lapses": r.schedule.lapses}
                    for r in suspended
                ], indent=2))
                return
            if not suspended:
                out.print("No suspended cards.")
                return
            for r in suspended:
                why = f"leech, {r.schedule.lapses} lapses" if r.schedule.leech else "suspended"
                out.print(f"{r.deck_id}/{r.card_id}  [dim]({why})[/]", highlight=False)
            out.print("[dim]Unsuspend with: quizforge unsuspend DECK/CARD (or --all)[/]")
            return
        by_ref = {f"{r.deck_id}/{r.card_id}": r for r in suspended}
        chosen = list(by_ref) if all_ else list(refs or [])
        missing = [ref for ref in chosen if ref not in by_ref]
        if missing:
            if "/" not in missing[0]:
                raise QuizforgeError(f"{missing[0]!r}: name a card as DECK/CARD, e.g. backprop/fan-out-rule")
            raise QuizforgeError(f"{missing[0]} is not a suspended card (`quizforge unsuspend` lists them)")
        from quizforge.clock import now

        when = now()
        for ref in chosen:
            store.set_suspended(db, by_ref[ref].rowid, False, when)
        if as_json:
            print(json.dumps({"unsuspended": chosen}))
        else:
            out.print(f"Unsuspended {len(chosen)} card{'s' if len(chosen) != 1 else ''}.")


# -- quizforge cards search | show | edit ---------------------------------------------------
cards_app = typer.Typer(
    name="cards",
    help="Find a card by its text, show it with its schedule, or fix it in your editor.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(cards_app, name="cards")

CardRef = Annotated[
    str,
    typer.Argument(metavar="ID", help="A card id, or DECK/ID when several decks have it."),
]


def _find(ref: str, decks: list[Path] | None):
    from quizforge.cli.decks import load_decks_or_warn
    from quizforge.decks.search import find

    return find(load_decks_or_warn(deck_dirs(decks)), ref)


@cards_app.command("search")
def search(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="Text to look for (any case).")],
    deck: Annotated[
        list[str] | None,
        typer.Option("--deck", "-d", metavar="ID", help="Only this deck (repeatable).",
                     autocompletion=complete.deck_ids),
    ] = None,
    tag: TagFilter = None,
    as_json: JsonFlag = False,
    decks: DeckDirs = None,
) -> None:
    """Find cards whose text holds TEXT (any case).

    Looks in the front or question, back, choices, rubric points, follow-up,
    hint, explanation and the card id. Each card is shown once, with its deck,
    id, type and the line of text around the match.

    Examples:

      quizforge cards search "learning rate"

      quizforge cards search softmax --deck backprop --json
    """
    from quizforge.cli.decks import load_decks_or_warn
    from quizforge.decks.search import search as find_text

    loaded = load_decks_or_warn(deck_dirs(decks))
    unknown = [d for d in deck or () if d not in {x.id for x in loaded}]
    if unknown:
        raise QuizforgeError(f"no deck with id {unknown[0]!r} (`quizforge decks` lists them)")
    known_tags = {t for d in loaded for t in (*d.tags, *(t for s in d.index().tagsets for t in s))}
    missing = [t for t in tag or () if t not in known_tags]
    if missing:
        raise QuizforgeError(f"no card has tag {missing[0]!r}")
    matches = find_text(loaded, text, tuple(deck or ()), tuple(tag or ()))
    if as_json:
        print(json.dumps([m.to_dict() for m in matches], indent=2, ensure_ascii=False))
        return
    from quizforge.ui.cards import search_view

    out.print(search_view(matches, text))


@cards_app.command("show")
def show(ref: CardRef, as_json: JsonFlag = False, decks: DeckDirs = None) -> None:
    """Show a card, its schedule now and its last answers.

    The card's text and file:line; its state, due date, stability, difficulty
    and FSRS recall now; its last 10 answers.

    Examples:

      quizforge cards show adam-defaults

      quizforge cards show backprop/fan-out-rule --json
    """
    from quizforge import clock
    from quizforge.paths import config_path
    from quizforge.reports.card import card_info
    from quizforge.scheduling.config import load_config
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store import open_store

    deck, card = _find(ref, decks)
    now = clock.now()
    scheduler = Scheduler(load_config(config_path()))
    with open_store() as db:
        info = card_info(db, deck, card, now, scheduler)
    if as_json:
        print(json.dumps(info.to_dict(), indent=2, ensure_ascii=False))
        return
    from quizforge.ui.cards import card_view

    out.print(card_view(info, now))


@cards_app.command("edit")
def edit(
    ref: CardRef,
    copy: Annotated[
        bool, typer.Option("--copy", help="For a bundled deck: copy it to your deck folder "
                           "without asking, and edit the copy.")
    ] = False,
    decks: DeckDirs = None,
) -> None:
    """Fix a card in your editor, opened at its line; then check the file.

    The editor is $VISUAL, else $EDITOR, else vi or nano. It is opened with
    +LINE (vi, nano, emacs, ...) or -g FILE:LINE (VS Code). After it exits the
    file is checked: problems are listed, and the card keeps its progress as
    long as its id stays the same (a broken file is left out until fixed;
    nothing is lost).

    A bundled deck is part of the package: it is copied first (asked, or --copy)
    into your deck folder (`decks/` in the data folder), where the copy takes
    the place of the bundled deck, with the same deck and card ids and so the
    same progress.

    Examples:

      quizforge cards edit adam-defaults

      EDITOR="code --wait" quizforge cards edit backprop/fan-out-rule --copy
    """
    import os
    import subprocess

    from quizforge.decks.edit import (
        EditorError,
        check_after_edit,
        copy_deck,
        editor_argv,
        find_in_files,
        is_bundled,
        open_at_line,
    )
    from quizforge.paths import bundled_decks_dir, user_decks_dir

    from quizforge.decks.search import CardNotFound

    try:
        deck, card = _find(ref, decks)
        path, deck_id, card_id, line = deck.path, deck.id, card.id, card.line
    except CardNotFound:
        # A deck file broken by an earlier edit does not load: find the card in its text.
        from quizforge.decks.loader import deck_files
        from quizforge.paths import deck_search_path

        files, _ = deck_files(deck_search_path(deck_dirs(decks)))
        hit = find_in_files(files, ref)
        if hit is None:
            raise
        path, deck_id, line = hit
        card_id = ref.rpartition("/")[2]
        err.print(f"note: {visible(path.name)} does not load (see the warnings above); opening it at "
                  f"line {line}", markup=False, highlight=False, soft_wrap=True)
    if is_bundled(path, bundled_decks_dir()):
        folder = user_decks_dir()
        out.print(
            f"Deck {deck_id!r} is part of the quizforge package ({path.name}); it is not "
            f"edited in place. A copy in your deck folder ({folder}) takes its place, with "
            "the same deck and card ids, so your progress stays.",
            markup=False, highlight=False,
        )
        if not copy and not typer.confirm("Copy it there and edit the copy?", default=False):
            out.print("Nothing copied or changed.")
            return
        path = copy_deck(path, folder)
        out.print(f"Copied to {path}", markup=False, highlight=False)
    argv = open_at_line(editor_argv(os.environ), path, line)
    before = _read(path)
    try:
        code = subprocess.run(argv).returncode
    except OSError as e:
        raise EditorError(f"cannot start the editor {argv[0]!r}: {e.strerror or e} "
                          "(set $EDITOR)") from None
    if code != 0:
        err.print(f"note: the editor exited with status {code}", markup=False, highlight=False)
    problems, notes = check_after_edit(path, deck_id, card_id)
    for note in notes:
        err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    if problems:
        for p in problems:
            err.print(f"{p}", markup=False, highlight=False, soft_wrap=True)
        n = len(problems)
        import shlex

        raise QuizforgeError(
            f"{path.name} has {n} problem{'s' * (n != 1)}: the deck is left out until they are "
            "fixed, and your progress is kept. Open it again with: " + shlex.join(argv))
    changed = _read(path) != before
    out.print(f"{visible(path.name)} is valid." + ("" if changed else " (unchanged)"),
              markup=False, highlight=False)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
