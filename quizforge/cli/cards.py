"""`quizforge unsuspend`: bring back suspended cards (and leeches)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from quizforge.cli import app, complete
from quizforge.cli.common import JsonFlag, out
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
        for ref in chosen:
            store.set_suspended(db, by_ref[ref].rowid, False)
        if as_json:
            print(json.dumps({"unsuspended": chosen}))
        else:
            out.print(f"Unsuspended {len(chosen)} card{'s' if len(chosen) != 1 else ''}.")
