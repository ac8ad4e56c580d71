"""Editing a card in its deck file (`quizforge cards edit`): which editor, how to open it at
a line, copying a bundled deck into the user's deck folder first, and checking the file after.

The command at the CLI edge reads the environment and runs the editor; this module only
builds the command line and touches the one deck file.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from quizforge.decks.model import Problem
from quizforge.errors import DeckError

# Editors that take FILE:LINE after -g (VS Code and its builds) or as FILE:LINE alone;
# the others (vi, vim, nvim, nano, emacs, micro, kak, hx's +N ...) take +LINE before FILE.
GOTO_FLAG = {"code", "code-insiders", "codium", "vscodium", "cursor"}
COLON_LINE = {"subl", "sublime_text", "zed", "mate"}
FALLBACKS = ("vi", "nano")


class EditorError(DeckError):
    """No editor to run, or it could not be started."""


def editor_argv(env: Mapping[str, str], which: Callable[[str], str | None] = shutil.which
                ) -> list[str]:
    """The editor to run, as argv: $VISUAL, then $EDITOR (each may hold arguments, e.g.
    'code --wait'), else vi or nano, whichever is installed."""
    for name in ("VISUAL", "EDITOR"):
        value = env.get(name, "").strip()
        if value:
            try:
                argv = shlex.split(value)
            except ValueError as e:
                raise EditorError(f"cannot read ${name} ({value!r}): {e}") from None
            if argv:
                return argv
    for name in FALLBACKS:
        if which(name):
            return [name]
    raise EditorError("no editor found: set $EDITOR (e.g. export EDITOR=nano)")


def open_at_line(editor: list[str], path: Path, line: int) -> list[str]:
    """The command that opens `path` at `line` in `editor` (argv from `editor_argv`)."""
    name = os.path.basename(editor[0]).lower().removesuffix(".exe").removesuffix(".cmd")
    if line <= 0:
        return [*editor, str(path)]
    if name in GOTO_FLAG:
        # without --wait, `code` returns at once and the file would be checked unedited
        wait = [] if {"-w", "--wait"} & set(editor[1:]) else ["--wait"]
        return [*editor, *wait, "-g", f"{path}:{line}"]
    if name in COLON_LINE:
        return [*editor, f"{path}:{line}"]
    return [*editor, f"+{line}", str(path)]


def find_in_files(files: Sequence[Path], ref: str) -> tuple[Path, str, int] | None:
    """(file, deck id, line) of the card `ref` ('ID' or 'DECK/ID') in deck files that did
    not load (a file broken by an earlier edit), read as text: the first file that has a
    `- id: ID` line (and `deck: DECK`, when named)."""
    deck_id, _, card_id = ref.strip().rpartition("/")
    card_line = re.compile(rf"^\s*-\s*id:\s*['\"]?{re.escape(card_id)}['\"]?\s*(#.*)?$")
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        found = next((m[1].strip("'\"") for line in lines
                      if (m := re.match(r"^deck:\s*(\S+)", line))), None)
        if deck_id and found != deck_id:
            continue
        for i, line in enumerate(lines, 1):
            if card_line.match(line):
                return path, found or "", i
    return None


def is_bundled(path: Path, bundled_dir: Path) -> bool:
    return path.resolve().parent == bundled_dir.resolve()


def copy_deck(path: Path, folder: Path) -> Path:
    """Copy the deck file `path` into `folder` (made if missing) and return the copy. A file
    of that name already there is never overwritten: a DeckError says so."""
    target = folder / path.name
    if target.exists():
        raise DeckError(f"{target} exists already: edit it, or move it away to copy the "
                        "bundled deck again")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    except OSError as e:
        raise DeckError(f"cannot copy {path.name} to {folder}: {e.strerror or e}") from None
    return target


def check_after_edit(path: Path, deck_id: str, card_id: str) -> tuple[list[Problem], list[str]]:
    """The file's problems after an edit, and notes: the deck id or the card's id changed
    (progress is kept by id: a new id starts as a new card, the old one's history stays)."""
    from quizforge.decks.loader import read_deck_file

    parsed = read_deck_file(path)
    notes = []
    if parsed.deck is not None:
        if parsed.deck.id != deck_id:
            notes.append(f"the deck id is now {parsed.deck.id!r} (was {deck_id!r}): its cards "
                         "start as new; the old deck's progress stays under its old id")
        elif all(c.id != card_id for c in parsed.deck.cards):
            notes.append(f"no card {card_id!r} in the deck now: if you renamed it, the new id "
                         "starts as a new card and the old one's progress stays under "
                         f"{deck_id}/{card_id}")
    return parsed.problems, notes
