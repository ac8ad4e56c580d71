"""Find deck files, read them, and load every valid deck on the search path.

A file with any problem is left out; the others still load. Deck ids must be unique across
all files: the first file (in search-path order) keeps its id, later ones are problems
(except a bundled deck copied into the user's deck folder: the copy replaces it).

Given a `DeckCache`, an unchanged file is taken from it instead of being parsed, and a
changed one is parsed and cached again (quizforge.decks.cache). A deck taken from the cache
(or parsed in a worker process) builds its cards on first use (model.LazyCards): its ids,
tags and fingerprint are known at once. Without a cache (`validate`), every file is read.
`list_decks` gives each deck without its cards, for listings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from quizforge.decks.model import CARD_TYPES, Card, CardIndex, Deck, LazyCards, LoadResult, Problem
from quizforge.errors import DeckError
from quizforge.gcpause import gc_paused  # noqa: F401  (cli.decks reads it here)

if TYPE_CHECKING:
    from quizforge.decks.cache import CacheRow, DeckCache, FileKey, FileSummary
    from quizforge.decks.validate import ParsedDeck

DECK_SUFFIXES = (".yaml", ".yml")


def deck_files(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Deck files in `paths`: a folder gives its *.yaml/*.yml files (sorted, not recursive),
    a file gives itself. Missing paths are problems; a file reached twice is read once.
    Translation overlays (`backprop.zh-TW.yaml`: quizforge.decks.overlay) are not decks."""
    from quizforge.decks.language import is_overlay_file

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
            if is_overlay_file(p):
                continue
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
    # Imported here: PyYAML and the checks take a tenth of a second to import, which a
    # start-up served from the cache does not pay.
    from quizforge.decks import validate
    from quizforge.decks.validate import ParsedDeck

    if data is None:
        return ParsedDeck(path, problems=[Problem(path, 0, error)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return ParsedDeck(path, problems=[Problem(path, line, "file is not valid UTF-8")])
    return validate.parse_deck(text, path)


T = TypeVar("T")
Entry = tuple[str | None, int, list[Problem], T | None]  # deck id, its line, problems, item
# Parse in worker processes only when there is this much YAML to read: starting them costs
# tens of milliseconds; composing a 4,000-card file about a quarter of a second.
PARALLEL_MIN_BYTES = 2_000_000


def _unique(
    files: list[Path], problems: list[Problem], entries: Iterable[Entry[T]]
) -> tuple[list[T], list[Problem]]:
    """The items of the files whose deck id is not taken by an earlier file, and every
    problem (a later file with a taken id is one)."""
    from quizforge.paths import shadows

    items: list[T] = []
    first_file: dict[str, Path] = {}
    for path, (deck_id, deck_id_line, file_problems, item) in zip(files, entries, strict=True):
        problems.extend(file_problems)
        if deck_id is None:
            continue
        if deck_id in first_file:
            if shadows(first_file[deck_id], path):
                continue  # the user's copy of a bundled deck replaces it
            message = f"duplicate deck id '{deck_id}' (also in {first_file[deck_id]})"
            problems.append(Problem(path, deck_id_line, message))
            continue
        first_file[deck_id] = path
        if item is not None:
            items.append(item)
    return items, problems


def load_decks(dirs: Sequence[Path], cache: DeckCache | None = None) -> LoadResult:
    """Every valid deck in `dirs` (folders or files, in order) and every problem found;
    unchanged files come from `cache` when one is given."""
    with gc_paused():
        files, problems = deck_files(dirs)
        if cache is None:
            entries = [_entry(read_deck_file(path)) for path in files]
        else:
            entries = _cached_decks(files, cache)
        decks, problems = _unique(files, problems, entries)
    return LoadResult(decks=decks, problems=problems, files=files)


def _entry(parsed: ParsedDeck) -> Entry[Deck]:
    return parsed.deck_id, parsed.deck_id_line, parsed.problems, parsed.deck


def _cached_decks(files: list[Path], cache: DeckCache) -> list[Entry[Deck]]:
    from quizforge.decks.cache import FileKey

    out: list[Entry[Deck] | None] = []
    for path in files:
        key = FileKey.of(path)
        hit = cache.lookup(key, with_index=True) if key is not None else None
        entry = None
        if hit is not None:
            summary, index = hit
            deck = None
            if summary.valid and index is not None and summary.deck_id is not None:
                cards = LazyCards(index, summary.fingerprint,
                                  partial(_cached_cards, cache.path, key, path, index,
                                          summary.fingerprint))
                deck = Deck(summary.deck_id, summary.name, cards, path,
                            summary.description, summary.tags)
            entry = (summary.deck_id, summary.deck_id_line, summary.problem_list(path), deck)
        out.append(entry)
    misses = [path for path, entry in zip(files, out, strict=True) if entry is None]
    compiled = iter(_compile_all(misses, cache))
    return [entry or next(compiled)[0] for entry in out]


def _cached_cards(
    cache_path: Path, key: FileKey, path: Path, index: CardIndex, fingerprint: str
) -> tuple[Card, ...]:
    """The cards of a deck the cache gave, built when first asked for (LazyCards): from
    the cache row its index came from, or, when that row is gone or damaged, from the
    file, which must still hold the cards the index and fingerprint say (ids, order,
    types, tags): the store was synced with them.

    Raises DeckError when the file no longer does (it was edited since the command
    started): what was loaded cannot be completed; running the command again reads it."""
    from quizforge.decks.cache import DeckCache, cards_from_rows

    with gc_paused():
        cache = DeckCache(cache_path)
        try:
            rows = cache.card_rows(key)
            if rows is not None:
                try:
                    cards = cards_from_rows(rows)
                except (KeyError, IndexError, TypeError, ValueError):
                    cards = None
                if cards is not None and index.matches(cards):
                    return cards
            cache.forget(key)  # damaged or replaced: the next start reads the file again
        finally:
            cache.close()
        parsed = read_deck_file(path)
    from quizforge.decks.model import compute_fingerprint

    deck = parsed.deck
    if deck is not None and index.matches(deck.cards) and compute_fingerprint(deck) == fingerprint:
        return deck.cards
    raise DeckError(f"{path} changed while quizforge was reading it: run the command again")


Compiled = tuple[Entry[Deck], "FileSummary", "CacheRow | None"]


def _compile_all(paths: list[Path], cache: DeckCache) -> list[tuple[Entry[Deck], FileSummary]]:
    """Parse and check files the cache does not hold, and queue their rows: in worker
    processes when there is enough YAML to be worth it."""
    results = None
    if len(paths) > 1 and (os.cpu_count() or 1) > 1:
        results = _compile_in_workers(paths)
    if results is None:
        results = [_compile(path) for path in paths]
    for _, _, row in results:
        if row is not None:
            cache.add(row)
    return [(entry, summary) for entry, summary, _ in results]


def _compile(path: Path) -> Compiled:
    from quizforge.decks.cache import FileKey, FileSummary, cache_row, now_ns

    key = FileKey.of(path)
    read_ns = now_ns()  # before the read: a change after it looks newer than the row
    data, error = _read_bytes(path)
    parsed = _parse_bytes(path, data, error)
    summary = FileSummary.of(parsed.deck_id, parsed.deck_id_line, parsed.problems, parsed.deck)
    row = None
    if key is not None and data is not None:
        row = cache_row(key, data, read_ns, summary, parsed.deck)
    return _entry(parsed), summary, row


def _compile_in_worker(path: Path) -> tuple[FileSummary, CacheRow | None, Entry[Deck] | None]:
    """`_compile` in a worker process. A deck goes back to the parent as its cache row
    (text) rather than as thousands of card objects: pickling and unpickling them cost
    more than parsing took; the parent builds the cards only if it shows one."""
    entry, summary, row = _compile(path)
    return summary, row, (entry if row is None else None)


def _from_worker(
    path: Path, summary: FileSummary, row: CacheRow | None, entry: Entry[Deck] | None
) -> Compiled:
    """A worker's result as `_compile` gives it, the deck's cards built from the row when
    first used (as a cached deck's are)."""
    import json

    from quizforge.decks.cache import ROW_CARDS, ROW_INDEX, cards_from_rows

    if entry is not None or row is None:
        return entry or (summary.deck_id, summary.deck_id_line, summary.problem_list(path),
                         None), summary, row
    deck = None
    if summary.valid and summary.deck_id is not None and row[ROW_INDEX] is not None:
        index = CardIndex.from_dict(json.loads(row[ROW_INDEX]))
        text = row[ROW_CARDS]
        cards = LazyCards(index, summary.fingerprint, lambda: cards_from_rows(json.loads(text)))
        deck = Deck(summary.deck_id, summary.name, cards, path, summary.description, summary.tags)
    return (summary.deck_id, summary.deck_id_line, summary.problem_list(path), deck), summary, row


def _compile_in_workers(paths: list[Path]) -> list[Compiled] | None:
    """`_compile` for each path, in one process per core; None when it is not worth it or
    workers cannot be started here (the caller then compiles in this process)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from quizforge.decks.cache import environment_key

    total = 0
    for path in paths:
        try:
            total += path.stat().st_size
        except OSError:
            pass
    if total < PARALLEL_MIN_BYTES:
        return None
    environment_key()  # computed once, here, and inherited by forked workers
    workers = min(len(paths), os.cpu_count() or 1)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    # Largest first, so that one big file does not finish last on its own.
    order = sorted(range(len(paths)), key=lambda i: -_size(paths[i]))
    try:
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            done = dict(zip(order, pool.map(_compile_in_worker, [paths[i] for i in order]),
                            strict=True))
    except (OSError, RuntimeError, ImportError):  # no processes here (a sandbox, a frozen app)
        return None
    return [_from_worker(paths[i], *done[i]) for i in range(len(paths))]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


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
    fingerprint: str  # what the store records of the deck when it syncs it

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

    with gc_paused():
        files, problems = deck_files(dirs)
        summaries: list[FileSummary | None] = []
        for path in files:
            key = FileKey.of(path)
            hit = cache.lookup(key, with_index=False) if key is not None else None
            summaries.append(hit[0] if hit is not None else None)
        misses = [path for path, s in zip(files, summaries, strict=True) if s is None]
        compiled = iter(_compile_all(misses, cache))
        entries = []
        for path, summary in zip(files, summaries, strict=True):
            summary = summary or next(compiled)[1]
            info = None
            if summary.valid and summary.deck_id is not None:
                info = DeckInfo(summary.deck_id, summary.name, path, summary.description,
                                summary.tags, summary.card_tags, summary.counts,
                                summary.fingerprint)
            entries.append((summary.deck_id, summary.deck_id_line,
                            summary.problem_list(path), info))
        decks, problems = _unique(files, problems, entries)
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
