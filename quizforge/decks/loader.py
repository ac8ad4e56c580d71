"""Find deck files, read them, and load every valid deck on the search path.

A file with any problem is left out; the others still load. Deck ids must be unique across
all files: the first file (in search-path order) keeps its id, later ones are problems.

Given a `DeckCache`, an unchanged file is taken from it instead of being parsed, and a
changed one is parsed and cached again (quizforge.decks.cache). Without one (`validate`),
every file is read. `list_decks` gives each deck without its cards, for listings.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from quizforge.decks.model import CARD_TYPES, Deck, LoadResult, Problem
from quizforge.decks.validate import ParsedDeck, parse_deck
from quizforge.errors import DeckError

if TYPE_CHECKING:
    from quizforge.decks.cache import DeckCache, FileSummary

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
    return _parse_bytes(path, *_read_bytes(path))


def _read_bytes(path: Path) -> tuple[bytes | None, str]:
    try:
        return path.read_bytes(), ""
    except OSError as e:
        return None, f"cannot read file: {e.strerror}"


def _parse_bytes(path: Path, data: bytes | None, error: str) -> ParsedDeck:
    if data is None:
        return ParsedDeck(path, problems=[Problem(path, 0, error)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return ParsedDeck(path, problems=[Problem(path, line, "file is not valid UTF-8")])
    return parse_deck(text, path)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection while a collection of cards is built: 100,000 new objects
    would otherwise set off dozens of full collections, each walking all of them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


T = TypeVar("T")


def _each_file(
    dirs: Sequence[Path], read: Callable[[Path], tuple[str | None, int, list[Problem], T | None]]
) -> tuple[list[T], list[Problem], list[Path]]:
    """`read` gives (deck id, its line, problems, item) per file; the items of the files
    whose deck id is not taken by an earlier file, every problem, and every file."""
    files, problems = deck_files(dirs)
    items: list[T] = []
    first_file: dict[str, Path] = {}
    for path in files:
        deck_id, deck_id_line, file_problems, item = read(path)
        problems.extend(file_problems)
        if deck_id is None:
            continue
        if deck_id in first_file:
            message = f"duplicate deck id '{deck_id}' (also in {first_file[deck_id]})"
            problems.append(Problem(path, deck_id_line, message))
            continue
        first_file[deck_id] = path
        if item is not None:
            items.append(item)
    return items, problems, files


def load_decks(dirs: Sequence[Path], cache: DeckCache | None = None) -> LoadResult:
    """Every valid deck in `dirs` (folders or files, in order) and every problem found;
    unchanged files come from `cache` when one is given."""

    def read(path: Path) -> tuple[str | None, int, list[Problem], Deck | None]:
        parsed = read_deck_file(path) if cache is None else _cached_deck(path, cache)
        return parsed.deck_id, parsed.deck_id_line, parsed.problems, parsed.deck

    with gc_paused():
        decks, problems, files = _each_file(dirs, read)
    return LoadResult(decks=decks, problems=problems, files=files)


def _cached_deck(path: Path, cache: DeckCache) -> ParsedDeck:
    from quizforge.decks.cache import FileKey, cards_from_rows

    key = FileKey.of(path)
    hit = cache.lookup(key, with_cards=True) if key is not None else None
    if hit is not None:
        summary, rows = hit
        parsed = ParsedDeck(path, None, summary.problem_list(path), summary.deck_id,
                            summary.deck_id_line)
        if not summary.valid:
            return parsed
        try:
            cards = cards_from_rows(rows)
        except (KeyError, IndexError, TypeError, ValueError):
            cards = None  # a damaged row: read the file again
        if cards is not None:
            assert summary.deck_id is not None
            parsed.deck = Deck(summary.deck_id, summary.name, cards, path,
                               summary.description, summary.tags)
            return parsed
    return _parse_and_cache(path, key, cache)[0]


def _parse_and_cache(
    path: Path, key, cache: DeckCache
) -> tuple[ParsedDeck, FileSummary]:
    from quizforge.decks.cache import FileSummary, now_ns

    read_ns = now_ns()  # before the read: a change after it looks newer than the row
    data, error = _read_bytes(path)
    parsed = _parse_bytes(path, data, error)
    summary = FileSummary.of(parsed.deck_id, parsed.deck_id_line, parsed.problems, parsed.deck)
    if key is not None and data is not None:
        cache.store(key, data, read_ns, summary, parsed.deck)
    return parsed, summary


@dataclass(frozen=True)
class DeckInfo:
    """A valid deck without its cards: what `decks` and `report` show of it."""

    id: str
    name: str
    path: Path
    description: str
    tags: tuple[str, ...]
    card_tags: tuple[str, ...]
    card_counts: tuple[tuple[str, int], ...]

    def counts(self) -> dict[str, int]:
        out = {t: 0 for t in CARD_TYPES}
        out.update(self.card_counts)
        return out


@dataclass
class DeckListing:
    decks: list[DeckInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def list_decks(dirs: Sequence[Path], cache: DeckCache) -> DeckListing:
    """Every valid deck in `dirs` without its cards, and every problem: from the cache,
    parsing (and caching) only the files it does not hold as they are now."""
    from quizforge.decks.cache import FileKey

    def read(path: Path) -> tuple[str | None, int, list[Problem], DeckInfo | None]:
        key = FileKey.of(path)
        hit = cache.lookup(key, with_cards=False) if key is not None else None
        summary = hit[0] if hit is not None else _parse_and_cache(path, key, cache)[1]
        info = None
        if summary.valid and summary.deck_id is not None:
            info = DeckInfo(summary.deck_id, summary.name, path, summary.description,
                            summary.tags, summary.card_tags, summary.counts)
        return summary.deck_id, summary.deck_id_line, summary.problem_list(path), info

    with gc_paused():
        decks, problems, files = _each_file(dirs, read)
    return DeckListing(decks, problems, files)


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


def load_search_path(
    extra_dirs: Iterable[Path] = (), cache: DeckCache | None = None
) -> LoadResult:
    """Decks from the bundled folder, QUIZFORGE_DECKS, then `extra_dirs` (--decks)."""
    from quizforge.paths import deck_search_path

    return load_decks(deck_search_path(extra_dirs), cache)
