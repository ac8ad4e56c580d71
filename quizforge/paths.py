"""Where decks are found and where user data lives."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

APP_NAME = "quizforge"


def bundled_decks_dir() -> Path:
    """The folder of decks shipped inside the package (top-level ``decks/`` in the repo).

    Run from a source checkout (the package beside its ``decks/``), the checkout's own decks:
    an editable install maps ``quizforge.bundled`` to the folder it was installed from, which
    is another checkout's when several share one environment (git worktrees)."""
    source = Path(__file__).resolve().parent.parent / "decks"
    if (source / "deck.schema.json").is_file() and (source / "__init__.py").is_file():
        return source
    from importlib.resources import files

    return Path(str(files("quizforge.bundled")))


def env_deck_dirs() -> list[Path]:
    """Folders listed in ``QUIZFORGE_DECKS`` (os.pathsep-separated), in order."""
    raw = os.environ.get("QUIZFORGE_DECKS", "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def user_decks_dir() -> Path:
    """The learner's own deck folder, ``decks/`` in the data dir: where `quizforge cards edit`
    copies a bundled deck before editing it. Searched first when it exists, so a copy there
    takes the place of the bundled deck with the same id (progress is kept by deck and card
    id, so it stays with the copy)."""
    return data_dir() / "decks"


def shadows(first: Path, later: Path) -> bool:
    """Whether deck file `first` replaces `later` when both hold the same deck id: a copy in
    the user's deck folder replaces the bundled deck, silently."""
    return (first.parent.resolve() == user_decks_dir().resolve()
            and later.parent.resolve() == bundled_decks_dir().resolve())


def deck_search_path(extra: Iterable[Path] = ()) -> list[Path]:
    """The user's deck folder (if it exists), bundled decks, then ``QUIZFORGE_DECKS``, then
    ``--decks`` folders; duplicates dropped."""
    seen: set[Path] = set()
    out: list[Path] = []
    user = [user_decks_dir()] if user_decks_dir().is_dir() else []
    for p in [*user, bundled_decks_dir(), *env_deck_dirs(), *(Path(e).expanduser() for e in extra)]:
        key = p.resolve() if p.exists() else p
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def data_dir() -> Path:
    """``QUIZFORGE_HOME`` if set, else the platform's user data directory."""
    home = os.environ.get("QUIZFORGE_HOME")
    if home:
        return Path(home).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def db_path() -> Path:
    return data_dir() / "quizforge.sqlite3"


def deck_cache_path() -> Path:
    """The compiled-deck cache: safe to delete, rebuilt from the deck files."""
    return data_dir() / "deck-cache.sqlite3"


def config_path() -> Path:
    return data_dir() / "config.toml"
