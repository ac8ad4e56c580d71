"""`quizforge sync`: the review log through a folder the learner's machines keep in step."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from quizforge.cli import app
from quizforge.cli.common import JsonFlag, err, out


@app.command()
def sync(
    folder: Annotated[Path | None, typer.Argument(
        metavar="DIR", help="The synced folder (default: the sync_dir setting).",
        show_default=False)] = None,
    status: Annotated[bool, typer.Option(
        "--status", help="Show the devices seen, what is waiting, and anything odd.")] = False,
    show: Annotated[Path | None, typer.Option(
        "--show", metavar="SEGMENT", show_default=False,
        help="Print a segment file as JSON lines, one answer a line, and exit.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Sync answers with your other machines through a folder, with no server.

    DIR is a folder your machines already keep in step: Syncthing, Dropbox,
    iCloud Drive, a network share, a git repository. Suspensions, undos, drill
    attempts, mock rounds and settings travel too.

    Each machine writes only its own files, in DIR/quizforge-sync/<device>/,
    and every card ends with the same schedule on every machine. Decks are
    not synced: keep their folders in step as you like (an answer to a card
    this machine does not have yet waits for it).

    With `config set sync_dir DIR`, study, drill and mock sync at start and
    at exit. In a git work tree, sync commits this machine's folder; push
    and pull yourself.

    Examples:

      quizforge sync ~/Sync/quizforge

      quizforge config set sync_dir ~/Dropbox/quizforge

      quizforge sync --status

      quizforge sync --show ~/Sync/quizforge/quizforge-sync/DEVICE/seg-00000001.jsonl
    """
    from quizforge import clock
    from quizforge.paths import config_path
    from quizforge.scheduling.config import load_config
    from quizforge.store import open_store
    from quizforge.sync import SyncError

    if show is not None:
        _show(show)
        return
    config = load_config(config_path())
    if folder is None:
        if not config.sync_dir:
            raise SyncError("no sync folder: pass DIR, or set one with"
                            " `quizforge config set sync_dir DIR`")
        folder = Path(config.sync_dir)
    if status:
        _status(folder, as_json)
        return
    with open_store(write=True) as db:
        result = run_sync(db, folder, clock.now(), config)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        out.print(result.line(), highlight=False)
    for note in result.notes:
        err.print(f"note: {shown(note, 500)}", markup=False, highlight=False, soft_wrap=True)


def shown(text, limit: int = 60) -> str:
    """Text from the sync folder (device names, deck ids, file names: another machine, or
    anyone, wrote them) as the terminal may show it: control characters (escape sequences)
    made visible, and cut to `limit` characters."""
    text = _CONTROL.sub(_escape, str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


# direction marks and overrides (an Arabic letter mark among them), and the Unicode line and
# paragraph separators (line breaks to str.splitlines)
_MARKS = r"\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(rf"[\x00-\x1f\x7f-\x9f{_MARKS}]")


def run_sync(db, folder: Path, now, config):
    """One sync; settings another machine changed later are saved to config.toml. Cards
    answered elsewhere whose deck is here but not yet in the store are added first."""
    from quizforge.paths import config_path
    from quizforge.scheduling.config import save_config
    from quizforge.store.cards import has_synced
    from quizforge.sync import sync as do_sync

    def save(cfg) -> None:
        save_config(cfg, config_path())

    # A store's first sync, or answers waiting for a deck this store has never met: the
    # cards of the decks here go into the store first (study would add them), so answers
    # land on them. (A card added to a deck the store knows arrives with the next study.)
    def new_deck_waiting() -> bool:
        row = db.conn.execute(
            "SELECT 1 FROM sync_pending p WHERE NOT EXISTS"
            " (SELECT 1 FROM deck_sync d WHERE d.deck_id = p.deck_id) LIMIT 1").fetchone()
        return row is not None

    first = not has_synced(db.conn)
    waiting = first or new_deck_waiting()
    if waiting:
        _add_decks(db, now)
    result = do_sync(db, folder, now, config, save)
    if result.pending and not waiting and new_deck_waiting():  # for a deck not met here yet
        _add_decks(db, now)
        again = do_sync(db, folder, now, config, save)
        result.cards_updated += again.cards_updated
        result.pending = again.pending
    return result


def _add_decks(db, now) -> None:
    from quizforge.cli.common import deck_dirs
    from quizforge.cli.decks import load_decks_or_warn
    from quizforge.store.cards import sync_decks

    decks = load_decks_or_warn(deck_dirs())
    if decks:
        sync_decks(db, decks, now)


def _status(folder: Path, as_json: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from quizforge.store import open_store
    from quizforge.sync.run import sync_root
    from quizforge.sync.status import status

    root = sync_root(folder, write=False)
    with open_store() as db:
        st = status(db, root)
    if as_json:
        print(json.dumps(st.to_dict(), indent=2))
        return
    out.print(Text(f"Sync folder {st.folder}"))
    if not st.devices:
        out.print("No device has synced to this folder yet.")
    else:
        table = Table(box=None, padding=(0, 1), title_justify="left")
        for col in ("device", "name", "segments", "last sync"):
            table.add_column(col)
        for d in st.devices:
            when = (_when(d.last_at) if d.last_at is not None
                    else "nothing sent yet" if d.this or not d.segments else "not read yet")
            table.add_row(Text(shown(d.device[:8], 40) + (" (this)" if d.this else "")),
                          Text(shown(d.name, 24)), str(d.segments), when)
        out.print(table)
    unsent = ", ".join(f"{n} {k}" for k, n in st.unsent.items()) or "nothing"
    out.print(Text(f"Not sent yet: {unsent}"))
    if st.waiting:
        decks = ", ".join(f"{n} for {shown(d)}" for d, n in list(st.waiting.items())[:10])
        if len(st.waiting) > 10:
            decks += f" and {len(st.waiting) - 10} more decks"
        out.print(Text(f"Answers waiting for cards this machine does not have: {decks}"
                       " (applied once the deck is here)"))
    if st.unread:
        out.print(Text(f"Segments not read yet: {st.unread} (the next sync reads them)"))
    for d in st.devices:
        if d.missing:
            who = "this device" if d.this else f"device {shown(d.device[:8], 40)}"
            seqs = ", ".join(str(s) for s in d.missing[:10])
            fix = ("the next sync writes them again" if d.this
                   else "that device writes them again at its next sync")
            out.print(Text(f"Missing segments of {who}: {seqs} ({fix})"))
    if st.conflict_copies:
        out.print(Text(f"Conflict copies (read as extra segments, nothing doubled; delete them"
                       f" if you like): {', '.join(shown(c, 80) for c in st.conflict_copies)}"))
    if st.incomplete:
        out.print(Text(f"Incomplete segments (still being copied; read when whole):"
                       f" {', '.join(shown(c, 80) for c in st.incomplete)}"))
    if st.newer:
        out.print(Text(f"Segments from a newer quizforge (update quizforge here to read them):"
                       f" {', '.join(shown(c, 80) for c in st.newer)}"))
    if st.bad:
        out.print(Text(f"Segments this quizforge cannot read (nothing of them applied; read"
                       f" again if they change): {', '.join(shown(c, 80) for c in st.bad)}"))


def _show(path: Path) -> None:
    """A segment's records as JSON lines on stdout: its answers (packed a column at a time
    in format 2) one per line with their card named. Text from the file is JSON-escaped,
    and so are the C1 controls and direction marks JSON leaves as they are."""
    import os
    import sys
    from itertools import islice

    from quizforge.sync import SyncError, segment

    where = shown(path, 200)
    if path.is_dir():
        raise SyncError(f"{where} is a folder, not a segment file")
    try:
        seg = segment.read(path, path.stat().st_size)
    except OSError as e:
        raise SyncError(f"cannot read {where}: {e.strerror or e}") from None
    except segment.Incomplete as e:
        raise SyncError(f"{where} is not a whole segment ({e})") from None
    except segment.Bad as e:
        raise SyncError(f"{where} cannot be read ({e})") from None
    except segment.Newer as e:
        raise SyncError(f"{where} is from a newer quizforge ({e}): update quizforge to read"
                        " it") from None
    except MemoryError:
        raise SyncError(f"{where} is too large to read here") from None

    def escaped(m: re.Match) -> str:
        return f"\\u{ord(m.group()):04x}"

    records = segment.readable(seg)
    try:
        while lines := [_ESCAPED.sub(escaped, json.dumps(rec, ensure_ascii=False))
                        for rec in islice(records, 2000)]:
            sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None


_ESCAPED = re.compile(rf"[\x7f-\x9f{_MARKS}]")  # the controls JSON leaves as they are


def _when(ms: int) -> str:
    from quizforge.store.db import from_ms

    return f"{from_ms(ms).astimezone():%Y-%m-%d %H:%M}"


def quiet_sync(start: list[str] | None = None) -> list[str]:
    """Study, drill and mock sync at start and at exit when sync_dir is set: nothing is
    printed unless something is wrong, and a failure is a one-line warning (studying goes
    on). Returns the lines printed. A screen that clears the terminal hides what the start
    sync printed: the exit sync is given those lines (`start`) and prints again the ones
    it did not print itself, so each shows once after the session."""
    lines = _quiet_sync()
    if start:
        lines = [line for line in start if line not in lines] + lines
    for line in lines:
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    return lines


def _quiet_sync() -> list[str]:
    import sqlite3

    from quizforge import clock
    from quizforge.errors import ConfigError, QuizforgeError
    from quizforge.paths import config_path
    from quizforge.scheduling.config import load_config
    from quizforge.store import open_store

    try:
        config = load_config(config_path())
    except ConfigError:
        return []  # the command reads the settings next and says what is wrong, once
    try:
        if not config.sync_dir:
            return []
        with open_store(write=True) as db:
            result = run_sync(db, Path(config.sync_dir), clock.now(), config)
    except (QuizforgeError, OSError, sqlite3.Error) as e:
        return [f"warning: sync skipped: {shown(e, 500)}"]
    except Exception as e:  # noqa: BLE001 - a failed sync never keeps the learner from studying
        return [f"warning: sync skipped: {shown(f'{type(e).__name__}: {e}', 500)}"]
    return [f"note: {shown(note, 500)}" for note in result.notes]
