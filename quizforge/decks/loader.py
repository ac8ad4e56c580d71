"""Find deck files, read them, and load every valid deck on the search path.

A file with any problem is left out; the others still load. Deck ids must be unique across
all files: the first file (in search-path order) keeps its id, later ones are problems.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from quizforge.decks.model import LoadResult, Problem
from quizforge.decks.validate import ParsedDeck, parse_deck
from quizforge.errors import DeckError

DECK_SUFFIXES = (".yaml", ".yml")


def deck_files(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Deck files in `paths`: a folder gives its *.yaml/*.yml files (sorted, not recursive),
    a file gives itself. Missing paths are problems; a file reached twice is read once."""
    files: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.suffix in DECK_SUFFIXES and not p.name.startswith(".") and p.is_file()
            )
        elif path.exists():
            found = [path]
        else:
            problems.append(Problem(path, 0, "no such file or directory"))
            continue
        for p in found:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                files.append(p)
    return files, problems


def read_deck_file(path: Path) -> ParsedDeck:
    """Read and check one file (any name); unreadable files and bad UTF-8 are problems."""
    try:
        data = path.read_bytes()
    except OSError as e:
        return ParsedDeck(path, problems=[Problem(path, 0, f"cannot read file: {e.strerror}")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return ParsedDeck(path, problems=[Problem(path, line, "file is not valid UTF-8")])
    return parse_deck(text, path)


def load_decks(dirs: Sequence[Path]) -> LoadResult:
    """Every valid deck in `dirs` (folders or files, in order) and every problem found."""
    files, problems = deck_files(dirs)
    result = LoadResult(problems=problems, files=files)
    first_file: dict[str, Path] = {}
    for path in files:
        parsed = read_deck_file(path)
        result.problems.extend(parsed.problems)
        if parsed.deck_id is None:
            continue
        if parsed.deck_id in first_file:
            other = first_file[parsed.deck_id]
            message = f"duplicate deck id '{parsed.deck_id}' (also in {other})"
            result.problems.append(Problem(path, parsed.deck_id_line, message))
            continue
        first_file[parsed.deck_id] = path
        if parsed.deck is not None:
            result.decks.append(parsed.deck)
    return result


def validate_paths(paths: Sequence[Path]) -> list[Problem]:
    """Every problem in the given files and folders (for `quizforge validate`).

    Raises DeckError when a path does not exist, naming all the missing ones.
    """
    return check_paths(paths).problems


def check_paths(paths: Sequence[Path]) -> LoadResult:
    """`load_decks`, but a missing path is an error (DeckError), not a problem."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise DeckError(f"no such file or directory: {', '.join(missing)}")
    return load_decks(paths)


def load_search_path(extra_dirs: Iterable[Path] = ()) -> LoadResult:
    """Decks from the bundled folder, QUIZFORGE_DECKS, then `extra_dirs` (--decks)."""
    from quizforge.paths import deck_search_path

    return load_decks(deck_search_path(extra_dirs))
