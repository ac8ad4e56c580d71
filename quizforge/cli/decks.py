"""`quizforge decks`, `quizforge validate` and `quizforge schema`, plus the deck loading
helper every other command uses (`load_decks_or_warn`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from quizforge.cli import app
from quizforge.cli.common import DeckDirs, JsonFlag, deck_dirs, err, out

if TYPE_CHECKING:  # the loader pulls in PyYAML: imported inside the commands instead
    from rich.console import RenderableType

    from quizforge.decks.loader import DeckInfo
    from quizforge.decks.model import Deck, LoadResult, Problem

SCHEMA_FILE = "deck.schema.json"
COUNT_COLUMNS = (("flashcard", "Flash"), ("mcq", "MCQ"), ("generated", "Gen"), ("formula", "f(x)"))


def load_decks_or_warn(extra_dirs: Iterable[Path] | None = None) -> list[Deck]:
    """The valid decks on the search path: bundled, QUIZFORGE_DECKS, the global --decks
    and `extra_dirs` (a folder given twice is read once). Each problem is printed once on
    stderr as ``warning: FILE:LINE: message``. The list may be empty.

    Unchanged files come from the compiled-deck cache (quizforge.decks.cache)."""
    from quizforge.decks.cache import open_cache
    from quizforge.decks.loader import gc_paused, load_search_path

    # The decks live as long as the command: later collections need not walk them.
    with gc_paused(freeze=True), open_cache() as cache:
        result = load_search_path(deck_dirs(list(extra_dirs or [])), cache)
    _warn(result.problems)
    return result.decks


def translated_or_warn(decks: list[Deck], extra_dirs: Iterable[Path] | None,
                       language: str) -> list[Deck]:
    """`decks` shown in `language` where a translation overlay on the search path has their
    cards (English otherwise); an overlay's problems are warnings, as a deck's are."""
    from quizforge.decks.overlay import with_language
    from quizforge.paths import deck_search_path

    shown, problems = with_language(decks, deck_search_path(deck_dirs(list(extra_dirs or []))),
                                    language)
    _warn(problems)
    return shown


def list_decks_or_warn(extra_dirs: Iterable[Path] | None = None) -> list[DeckInfo]:
    """`load_decks_or_warn` without the cards: ids, names, counts and tags, from the
    cache (a file it does not hold as it is now is read and cached)."""
    from quizforge.decks.cache import open_cache
    from quizforge.decks.loader import list_decks
    from quizforge.paths import deck_search_path

    with open_cache() as cache:
        listing = list_decks(deck_search_path(deck_dirs(list(extra_dirs or []))), cache)
    _warn(listing.problems)
    return listing.decks


def _warn(problems: Iterable[Problem]) -> None:
    for problem in problems:
        err.print(f"warning: {problem}", markup=False, highlight=False, soft_wrap=True)


# -- core: data to rows, rows to renderables ------------------------------------------


def deck_rows(
    decks: Sequence[Deck] | Sequence[DeckInfo], extra: Mapping[str, Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """One JSON-ready row per deck; `extra` maps a deck id to more fields for its row
    (the store adds new/due/reviews this way), which the table shows as extra columns."""
    from quizforge.controls import visible

    rows = []
    for deck in decks:
        row: dict[str, Any] = {
            "id": deck.id,
            "name": deck.name,
            "path": visible(str(deck.path)),
            "cards": deck.counts(),
            "description": deck.description,
            "tags": list(deck.tags),
        }
        row.update((extra or {}).get(deck.id, {}))
        rows.append(row)
    return rows


def display_path(path: Path | str, bundled: Path | None = None) -> str:
    """A path to show a person: bundled decks by file name, then relative to the current
    folder, or to home as ~, when it is inside them."""
    from quizforge.controls import visible

    path = Path(path)
    if bundled is not None and path.parent == bundled:
        return f"(bundled) {visible(path.name)}"
    if not path.is_absolute():
        return visible(str(path))
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        if path.is_relative_to(base) and base != Path(base.anchor):
            return prefix + visible(str(path.relative_to(base)))
    return visible(str(path))


def decks_table(rows: Sequence[Mapping[str, Any]], bundled: Path | None = None) -> RenderableType:
    """The decks as a table that fits the terminal (see `_DecksView`). Every cell is a
    `Text`: a deck's name or folder is shown as typed, never read as markup (a "[/]" in it
    would stop the table; "[link=…]" would make a hyperlink)."""
    return _DecksView(rows, bundled)


def _cells(*values: Any) -> list:
    from rich.text import Text

    from quizforge.controls import visible

    return [v if isinstance(v, Text) else Text(visible(str(v))) for v in values]


class _DecksView:
    """The widest layout that fits, each cell on one line where it can: every column; then
    one Cards total for the counts by type; then the name wrapped (at spaces) with the path
    under it; at last (about 40 columns) one short block per deck. A path is never cut
    inside a word: it wraps after a `/`, and a bundled deck named by its file says only
    "bundled"."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], bundled: Path | None) -> None:
        self.rows, self.bundled = rows, bundled
        base = {"id", "name", "path", "cards", "description", "tags"}
        self.extra = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in base]

    def __rich_console__(self, console, options):
        from rich.measure import Measurement
        from rich.text import Text

        width = options.max_width
        for layout in (self._full, self._totals):
            table = layout()
            if Measurement.get(console, options.update_width(10_000), table).maximum <= width:
                yield table
                return
        numbers = [max(len(h), *(len(c) for c in col)) for h, col in self._number_columns()]
        deck_w = max(len("Deck"), *(len(r["id"]) for r in self.rows))
        name_w = max(16, *(len(w) for r in self.rows for w in r["name"].split()))
        if deck_w + sum(numbers) + len(numbers) + 1 + name_w <= width:
            yield self._wrapped_names(width - deck_w - sum(numbers) - len(numbers) - 1)
        else:
            yield from self._blocks(width)
        if any(self._path(r) == "bundled" for r in self.rows):
            yield Text("A deck without a path is one of the bundled decks.", style="dim")

    def _title(self, key: str) -> str:
        return key.replace("_", " ").capitalize()

    def _more(self, r: Mapping[str, Any]) -> list[str]:
        return ["" if r.get(k) is None else str(r[k]) for k in self.extra]

    def _number_columns(self) -> list[tuple[str, list[str]]]:
        cols = [("Cards", [str(sum(r["cards"].values())) for r in self.rows])]
        cols += [(self._title(k), [self._more(r)[i] for r in self.rows])
                 for i, k in enumerate(self.extra)]
        return cols

    def _table(self):
        from rich.table import Table

        return Table(box=None, header_style="bold", pad_edge=False, collapse_padding=True)

    def _full(self):
        table = self._table()
        table.add_column("Deck", style="cyan", no_wrap=True)
        table.add_column("Name", no_wrap=True)
        for _, title in COUNT_COLUMNS:
            table.add_column(title, justify="right", no_wrap=True)
        for key in self.extra:
            table.add_column(self._title(key), justify="right", no_wrap=True)
        table.add_column("Path", no_wrap=True)
        for r in self.rows:
            counts = [str(r["cards"].get(t, 0)) for t, _ in COUNT_COLUMNS]
            table.add_row(*_cells(r["id"], r["name"], *counts, *self._more(r),
                                  display_path(r["path"], self.bundled)))
        return table

    def _totals(self):
        table = self._table()
        table.add_column("Deck", style="cyan", no_wrap=True)
        table.add_column("Name", no_wrap=True)
        for title, _ in self._number_columns():
            table.add_column(title, justify="right", no_wrap=True)
        table.add_column("Path", no_wrap=True)
        columns = [col for _, col in self._number_columns()]
        for i, r in enumerate(self.rows):
            table.add_row(*_cells(r["id"], r["name"], *(col[i] for col in columns),
                                  self._path(r)))
        return table

    def _wrapped_names(self, name_width: int):
        from rich.text import Text

        table = self._table()
        table.add_column("Deck", style="cyan", no_wrap=True)
        table.add_column("Name", width=name_width)
        for title, _ in self._number_columns():
            table.add_column(title, justify="right", no_wrap=True)
        columns = [col for _, col in self._number_columns()]
        for i, r in enumerate(self.rows):
            name = _cells(r["name"])[0]
            path = self._path(r)
            if path != "bundled":
                name.append("\n" + "\n".join(path_lines(path, name_width)), style="dim")
            table.add_row(*_cells(r["id"], name, *(col[i] for col in columns)))
        return table

    def _blocks(self, width: int):
        from rich.padding import Padding
        from rich.text import Text

        from quizforge.controls import visible

        for r in self.rows:
            yield Text(visible(r["id"]), style="bold cyan", overflow="fold")
            facts = [plural(sum(r["cards"].values()), "card")]
            facts += [f"{v} {self._title(k).lower()}" for k, v in zip(self.extra, self._more(r))
                      if v]
            lines = [Text(visible(r["name"])), Text("\n".join(_flow(facts, " · ", width - 2)))]
            path = self._path(r)
            if path != "bundled":
                lines.append(Text("\n".join(path_lines(path, width - 2)), style="dim"))
            for line in lines:
                yield Padding(line, (0, 0, 0, 2), expand=False)

    def _path(self, r: Mapping[str, Any]) -> str:
        path = Path(r["path"])
        if self.bundled is not None and path.parent == self.bundled and path.stem == r["id"]:
            return "bundled"
        return display_path(path, self.bundled)


def path_lines(path: str, width: int) -> list[str]:
    """`path` in lines of at most `width`, broken only after a `/` (a single part longer
    than a line stays whole on its own line)."""
    parts = [p + "/" for p in path.split("/")[:-1]] + [path.split("/")[-1]]
    return _flow([p for p in parts if p], "", width)


def _flow(items: Sequence[str], sep: str, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for item in items:
        if line and len(line) + len(sep) + len(item) > width:
            lines.append(line)
            line = item
        else:
            line = f"{line}{sep}{item}" if line else item
    if line:
        lines.append(line)
    return lines


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def validation_summary(result: LoadResult) -> str:
    if result.problems:
        files = len({p.path for p in result.problems})
        return f"{plural(len(result.problems), 'problem')} in {plural(files, 'file')}"
    cards = sum(len(d.cards) for d in result.decks)
    return f"ok: {plural(len(result.decks), 'deck')}, {plural(cards, 'card')}"


def problem_dict(problem: Problem) -> dict[str, Any]:
    from quizforge.controls import visible

    return {"path": visible(str(problem.path)), "line": problem.line,
            "message": visible(problem.message)}


# -- commands ---------------------------------------------------------------------------


@app.command("decks")
def decks_command(decks: DeckDirs = None, as_json: JsonFlag = False) -> None:
    """List the decks on the search path, with card counts and your progress.

    For each deck: cards of each type, and from your store how many are new, due now, and how many reviews you have done.

    The search path is: the bundled decks, then the folders in QUIZFORGE_DECKS, then each --decks DIR. A deck file with problems is left out, with a warning on stderr; `quizforge validate` explains them.

    Examples:

      quizforge decks

      quizforge decks --decks ~/my-decks --json
    """
    from quizforge import clock
    from quizforge.paths import bundled_decks_dir
    from quizforge.store import cards as store
    from quizforge.store import open_store

    listed = list_decks_or_warn(decks)
    _warn_empty_folders(decks)
    now = clock.now()
    with open_store() as db:
        _sync_changed_decks(db, listed, now)  # cards never seen yet count as new
        stats = store.deck_stats(db, [d.id for d in listed], now)
    rows = deck_rows(listed, stats)
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        err.print(
            "No decks found. Add a folder with --decks DIR or QUIZFORGE_DECKS.", highlight=False
        )
        return
    out.print(decks_table(rows, bundled_decks_dir()))


def _warn_empty_folders(extra_dirs: Iterable[Path] | None) -> None:
    """A folder the user named (QUIZFORGE_DECKS, --decks) with no deck file in it is a
    warning: it is most likely the wrong folder."""
    from quizforge.controls import visible
    from quizforge.decks.loader import deck_files
    from quizforge.paths import env_deck_dirs

    for folder in dict.fromkeys([*env_deck_dirs(), *deck_dirs(list(extra_dirs or []))]):
        folder = Path(folder).expanduser()
        if folder.is_dir() and not deck_files([folder])[0]:
            err.print(f"warning: no deck files in {visible(str(folder))}", markup=False,
                      highlight=False, soft_wrap=True)


def _sync_changed_decks(db, listed: Sequence[DeckInfo], now) -> None:
    """Sync the decks whose cards (ids, types, tags) differ from what the store last saw,
    loading only those (through the cache): a listing needs no cards otherwise."""
    from quizforge.decks.cache import open_cache
    from quizforge.decks.loader import load_decks
    from quizforge.store import cards as store

    # deck_sync holds the fingerprint sync_decks wrote last (store/migrations.py 0003).
    synced = dict(db.conn.execute("SELECT deck_id, fingerprint FROM deck_sync").fetchall())
    changed = [d.path for d in listed if synced.get(d.id) != d.fingerprint]
    if changed:
        with open_cache() as cache:
            store.sync_decks(db, load_decks(changed, cache).decks, now)


@app.command("validate")
def validate_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATH",
            help="Deck files or folders of them (default: the whole search path).",
            show_default=False,
        ),
    ] = None,
    decks: DeckDirs = None,
    as_json: JsonFlag = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 on warnings too, not only on problems.")
    ] = False,
) -> None:
    """Check deck files and print every problem as FILE:LINE: message.

    Reports YAML syntax errors, duplicate keys, missing or unknown fields (with a did-you-mean), wrong types, bad ids, duplicate card and deck ids, MCQ answers out of range, an MCQ explanation or hint that names a choice by letter or position (choices are shuffled; `shuffle: false` opts out), and more. Exits 1 if there is any problem, 0 if none. Warnings, counted per deck, flag answer give-aways: every select-all card has all but one choice right, the key is the longest choice in over 40% of MCQs, two cards share their numbers; --strict makes them fail too. `quizforge schema` describes every field.

    Examples:

      quizforge validate                   # everything on the search path

      quizforge validate my-deck.yaml

      quizforge validate ~/my-decks --json

      quizforge validate --strict          # as CI runs it on the bundled decks
    """
    from quizforge.decks.lint import lint_decks, warnings_summary
    from quizforge.decks.loader import check_paths, load_search_path
    from quizforge.decks.overlay import check_overlay_files, overlay_files
    from quizforge.paths import deck_search_path

    result = check_paths(paths) if paths else load_search_path(deck_dirs(decks))
    overlays = overlay_files(paths or deck_search_path(deck_dirs(decks)))
    if paths and not result.files and not overlays:
        raise _no_deck_files(paths)
    warnings, per_deck = lint_decks(result.decks)
    checked = check_overlay_files(
        overlays, result.decks, lambda: load_search_path(deck_dirs(decks)).decks)
    result.problems += checked.problems
    warnings += checked.warnings
    for w in checked.warnings:
        per_deck[w.path.name] = per_deck.get(w.path.name, 0) + 1
    failed = bool(result.problems or (strict and warnings))
    if as_json:
        doc = {
            "ok": not failed,
            "files": len(result.files),
            "decks": len(result.decks),
            "cards": sum(len(d.cards) for d in result.decks),
            "overlays": checked.files,
            "translated": checked.entries,
            "problems": [problem_dict(p) for p in result.problems],
            "warnings": [problem_dict(w) for w in warnings],
        }
        out.print_json(json.dumps(doc, ensure_ascii=False))
    else:
        listed = [*result.problems, *warnings]
        if listed:  # one print: a file can have tens of thousands of problems
            out.print("\n".join(map(str, listed)), markup=False, highlight=False,
                      soft_wrap=True)
        style = "bold red" if result.problems else "green"
        summary = validation_summary(result)
        if checked.files and not result.problems:
            summary += (f"; {plural(checked.files, 'translation overlay')}, "
                        f"{plural(checked.entries, 'card')} translated")
        out.print(summary, style=style, markup=False, highlight=False)
        if warnings:
            style = "bold red" if strict else "yellow"
            out.print(warnings_summary(per_deck), style=style, markup=False, highlight=False)
    if failed:
        raise typer.Exit(1)


def _no_deck_files(paths: Sequence[Path]) -> Exception:
    from quizforge.errors import DeckError

    return DeckError(f"no deck files (*.yaml, *.yml) in {', '.join(map(str, paths))}")


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema for deck files, for editor completion and checking.

    Save it next to your decks, and point the YAML language server (VS Code's YAML extension, and other editors) at it from the first line of each deck:

      quizforge schema > ~/my-decks/deck.schema.json

      # yaml-language-server: $schema=./deck.schema.json
    """
    from quizforge.paths import bundled_decks_dir

    text = (bundled_decks_dir() / SCHEMA_FILE).read_text(encoding="utf-8")
    out.print(text.rstrip("\n"), markup=False, highlight=False, soft_wrap=True)
