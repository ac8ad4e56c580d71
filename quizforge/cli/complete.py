"""Shell completion candidates: deck ids, tags, config keys and suspended cards.

Each function is handed to typer as `autocompletion=` and runs on every Tab press, so it
must be quick and quiet: deck ids and tags come from the compiled-deck cache (a file it
does not hold is never parsed: its `deck:` line is read) and from the store, opened
read-only; nothing is imported until a Tab asks for it; any failure means no candidates,
never a traceback in the middle of the user's command line. Drill families need nothing
here: they are subcommands, which click completes by itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import typer

Candidates = list[tuple[str, str]]  # (value, help shown by zsh and fish)


def _quiet(fn: Callable[..., Candidates]) -> Callable[..., Candidates]:
    def complete(ctx: typer.Context, incomplete: str) -> Candidates:
        try:
            return [(v, h) for v, h in fn(ctx) if v.startswith(incomplete)]
        except Exception:  # noqa: BLE001 - a Tab press never prints a traceback into the line
            return []

    complete.__name__ = fn.__name__
    complete.__doc__ = fn.__doc__
    return complete


def _deck_dirs(ctx: typer.Context) -> list[Path]:
    """--decks folders given so far, to the root command and to this one."""
    dirs: list[Path] = []
    c: typer.Context | None = ctx
    while c is not None:
        dirs += [Path(d) for d in (c.params.get("decks") or ())]
        c = c.parent
    return dirs


def _decks_on_path(ctx: typer.Context) -> list[tuple[str, str, tuple[str, ...]]]:
    """(id, name, tags) of each deck file on the search path, from the deck cache; a file
    the cache does not hold as it is now is not parsed (a big deck takes seconds): its
    top-level `deck:` and `name:` lines are read instead, and its tags wait for the next
    command that loads it. None if anything fails."""
    try:
        from quizforge.decks.cache import FileKey, open_cache
        from quizforge.decks.loader import deck_files
        from quizforge.paths import deck_search_path

        files, _ = deck_files(deck_search_path(_deck_dirs(ctx)))
        found = []
        with open_cache() as cache:
            for path in files:
                key = FileKey.of(path)
                hit = cache.lookup(key, with_index=False) if key is not None else None
                if hit is not None and hit[0].deck_id:
                    s = hit[0]
                    found.append((s.deck_id, s.name, (*s.tags, *s.card_tags)))
                elif hit is None and (peeked := _peek(path)) is not None:
                    found.append((*peeked, ()))
        return found
    except Exception:  # noqa: BLE001 - the store may still have candidates
        return []


_TOP_KEY = re.compile(r"^(deck|name):[ \t]*(.*?)[ \t]*(?:#.*)?$", re.MULTILINE)


def _peek(path: Path) -> tuple[str, str] | None:
    """A deck file's `deck:` (its id) and `name:`, from its first 16 KB, unparsed."""
    with open(path, encoding="utf-8", errors="replace") as f:
        head = f.read(16_384)
    keys: dict[str, str] = {}
    for key, value in _TOP_KEY.findall(head):
        keys.setdefault(key, value.strip("'\""))
    return (keys["deck"], keys.get("name", "")) if keys.get("deck") else None


def _store_rows(sql: str) -> list[tuple]:
    """Rows from the user's store, read-only; none when there is no store (yet) or it
    cannot be read (locked past 0.2 s, damaged)."""
    try:
        from quizforge.paths import db_path
        from quizforge.store.db import connect_readonly

        path = db_path()
        if not path.exists():
            return []
        with closing(connect_readonly(path, timeout=0.2)) as conn:
            return conn.execute(sql).fetchall()
    except Exception:  # noqa: BLE001 - the deck files may still have candidates
        return []


@_quiet
def deck_ids(ctx: typer.Context) -> Candidates:
    """Decks on the search path (with their names): study, mock and export need the file."""
    return sorted({deck_id: name for deck_id, name, _ in _decks_on_path(ctx)}.items())


@_quiet
def reported_deck_ids(ctx: typer.Context) -> Candidates:
    """Decks on the search path, then decks only the store knows (a report reads the store)."""
    found = {deck_id: name for deck_id, name, _ in _decks_on_path(ctx)}
    for (deck_id,) in _store_rows("SELECT DISTINCT deck_id FROM cards WHERE kind != 'skill'"):
        found.setdefault(deck_id, "in your progress store")
    return sorted(found.items())


@_quiet
def tags(ctx: typer.Context) -> Candidates:
    found = {t: "" for _, _, deck_tags in _decks_on_path(ctx) for t in deck_tags}
    for (text,) in _store_rows("SELECT DISTINCT tags FROM cards WHERE in_deck = 1"):
        for t in text.split():
            found.setdefault(t, "")
    return sorted(found.items())


@_quiet
def config_keys(ctx: typer.Context) -> Candidates:
    from quizforge.cli.config import DESCRIPTIONS
    from quizforge.scheduling.config import Config

    return [(key, DESCRIPTIONS.get(key, "")) for key in Config().to_dict()]


@_quiet
def suspended_cards(ctx: typer.Context) -> Candidates:
    rows = _store_rows(
        "SELECT deck_id, card_id, leech FROM cards WHERE suspended = 1 ORDER BY deck_id, card_id"
    )
    return [(f"{d}/{c}", "leech" if leech else "suspended") for d, c, leech in rows]
