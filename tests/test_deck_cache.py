"""The compiled-deck cache: an unchanged file is never parsed again, every change is seen,
the cache is never a source of truth (missing or damaged: rebuilt), and two processes may
fill it at once. Results are checked against loading without the cache."""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.decks import cache as deck_cache
from quizforge.decks import validate
from quizforge.decks.cache import DeckCache, FileSummary, cards_from_rows, cards_to_rows
from quizforge.decks.loader import list_decks, load_decks
from quizforge.decks.model import CARD_TYPES
from quizforge.paths import bundled_decks_dir, deck_cache_path
from quizforge.store import cards as store
from quizforge.store.db import Database

FIXTURES = Path(__file__).parent / "fixtures" / "decks" / "good"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
OLD_NS = 1_700_000_000 * 10**9  # a file time long before any cache row in these tests
runner = CliRunner()


def deck_text(deck_id: str, fronts: list[str], tag: str = "t") -> str:
    cards = "".join(
        f"  - id: c{i}\n    front: {front}\n    back: B{i}\n    tags: [{tag}]\n"
        for i, front in enumerate(fronts)
    )
    return f"deck: {deck_id}\nname: {deck_id.title()}\ncards:\n{cards}"


def write(path: Path, text: str, old: bool = True) -> Path:
    """Write a deck file; `old` sets its time far in the past, as a file a person wrote
    some time ago (rows of such files are trusted on size and time alone)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if old:
        os.utime(path, ns=(OLD_NS, OLD_NS))
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "decks"
    write(d / "a.yaml", deck_text("a", ["F0", "F1"]))
    write(d / "b.yaml", deck_text("b", ["G0"]))
    write(d / "bad.yaml", "deck: bad\nname: Bad\ncards:\n  - id: x\n    front: F\n")
    return d


@pytest.fixture
def parses(monkeypatch) -> list[Path]:
    """The paths of the files actually parsed, in order."""
    seen: list[Path] = []
    real = validate.parse_deck

    def counting(text, path):
        seen.append(path)
        return real(text, path)

    monkeypatch.setattr(validate, "parse_deck", counting)
    return seen


def cached_load(dirs, path: Path | None = None):
    with deck_cache.open_cache(path) as cache:
        return load_decks(dirs, cache)


def same(a, b) -> None:
    assert a.decks == b.decks
    assert a.problems == b.problems
    assert a.files == b.files


# -- the row format ---------------------------------------------------------------------


def test_card_rows_round_trip_every_card_type_and_field():
    decks = load_decks([bundled_decks_dir(), FIXTURES]).decks
    cards = tuple(c for d in decks for c in d.cards)
    assert {c.type for c in cards} == set(CARD_TYPES)
    rows = json.loads(json.dumps(cards_to_rows(cards)))  # through JSON, as stored
    assert cards_from_rows(rows) == cards


def test_summary_round_trip():
    [deck] = load_decks([FIXTURES / "ml-basics.yaml"]).decks
    summary = FileSummary.of(deck.id, 1, [], deck)
    assert summary.counts == (("flashcard", 1), ("mcq", 2), ("generated", 1), ("formula", 0),
                              ("explain", 0))
    assert FileSummary.from_dict(json.loads(json.dumps(summary.to_dict()))) == summary


# -- used when nothing changed ----------------------------------------------------------


def test_unchanged_files_are_not_parsed_and_give_the_same_result(folder, parses, monkeypatch):
    reference = load_decks([folder])
    parses.clear()
    same(cached_load([folder]), reference)  # fills the cache
    assert len(parses) == 3

    def no_yaml(*args):
        raise AssertionError("YAML parsed")

    monkeypatch.setattr(validate, "parse_deck", no_yaml)
    monkeypatch.setattr(deck_cache, "digest", no_yaml)  # old files: not even hashed
    same(cached_load([folder]), reference)  # problems of a bad file come from the cache too
    assert deck_cache_path().exists()


def test_a_just_written_file_is_checked_by_its_bytes_not_parsed(tmp_path, parses):
    path = write(tmp_path / "new.yaml", deck_text("n", ["F"]), old=False)
    first = cached_load([path])
    second = cached_load([path])
    assert parses == [path]
    same(second, first)


def test_a_racy_row_is_trusted_on_size_and_time_once_the_file_is_old(tmp_path, monkeypatch):
    path = write(tmp_path / "new.yaml", deck_text("n", ["F"]), old=False)
    cached_load([path])
    hashed = []
    real_digest = deck_cache.digest
    monkeypatch.setattr(deck_cache, "digest", lambda data: hashed.append(1) or real_digest(data))
    real_now = deck_cache.now_ns
    monkeypatch.setattr(deck_cache, "now_ns", lambda: real_now() + 10 * deck_cache.RACY_NS)
    cached_load([path])  # later: the bytes are checked once more, and the row moves on
    assert hashed == [1]
    cached_load([path])
    assert hashed == [1]


def test_cached_decks_carry_the_path_they_were_reached_by(folder, monkeypatch):
    cached_load([folder])
    monkeypatch.chdir(folder.parent)
    result = cached_load([Path("decks")])
    assert [d.path for d in result.decks] == [Path("decks/a.yaml"), Path("decks/b.yaml")]
    assert result.problems[0].path == Path("decks/bad.yaml")


# -- invalidated by every change --------------------------------------------------------


def test_an_edit_rereads_that_file_alone(folder, parses):
    cached_load([folder])
    parses.clear()
    write(folder / "a.yaml", deck_text("a", ["F0", "edited", "F2"]))
    result = cached_load([folder])
    assert parses == [folder / "a.yaml"]
    same(result, load_decks([folder]))


def test_an_edit_that_keeps_size_and_time_is_seen_when_the_row_is_racy(tmp_path, parses):
    path = write(tmp_path / "r.yaml", deck_text("r", ["F0"]), old=False)
    cached_load([path])
    st = path.stat()
    path.write_text(deck_text("r", ["G0"]), encoding="utf-8")  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same time
    result = cached_load([path])
    assert parses == [path, path]
    assert result.decks[0].cards[0].front == "G0"


def test_a_touch_rereads_the_file(folder, parses):
    cached_load([folder])
    parses.clear()
    os.utime(folder / "b.yaml", ns=(OLD_NS + 10**9, OLD_NS + 10**9))
    cached_load([folder])
    assert parses == [folder / "b.yaml"]


def test_a_renamed_file_is_read_under_its_new_name(folder, parses):
    cached_load([folder])
    parses.clear()
    (folder / "b.yaml").rename(folder / "c.yaml")
    result = cached_load([folder])
    assert parses == [folder / "c.yaml"]
    assert [d.path.name for d in result.decks] == ["a.yaml", "c.yaml"]


def test_a_removed_file_is_gone(folder, parses):
    cached_load([folder])
    (folder / "b.yaml").unlink()
    result = cached_load([folder])
    assert [d.id for d in result.decks] == ["a"]
    same(result, load_decks([folder]))


def test_a_new_deck_format_version_rereads_everything(folder, parses, monkeypatch):
    cached_load([folder])
    parses.clear()
    monkeypatch.setattr(deck_cache, "DECK_FORMAT", deck_cache.DECK_FORMAT + 1)
    deck_cache.environment_key.cache_clear()
    try:
        cached_load([folder])
    finally:
        deck_cache.environment_key.cache_clear()
    assert len(parses) == 3


def test_a_new_drill_family_is_not_hidden_by_the_cache(tmp_path, parses, monkeypatch):
    from quizforge.drill import family

    path = write(tmp_path / "g.yaml", "deck: g\nname: G\ncards:\n"
                 "  - id: x\n    type: generated\n    generator: newfam\n")
    assert "unknown generator 'newfam'" in str(cached_load([path]).problems[0])
    real = family.families()
    fake = dict(real, newfam=real["backprop"].__class__(
        name="newfam", summary="s", levels={1: "one"}, generate=lambda *a: None))
    monkeypatch.setattr(family, "families", lambda: fake)
    import quizforge.drill.families as modules

    monkeypatch.setattr(modules, "names", lambda: (*real, "newfam"))  # its module is there
    deck_cache.environment_key.cache_clear()
    try:
        result = cached_load([path])
    finally:
        deck_cache.environment_key.cache_clear()
    assert result.problems == [] and [d.id for d in result.decks] == ["g"]
    assert parses == [path, path]


# -- never a source of truth ------------------------------------------------------------


def test_a_missing_cache_is_rebuilt(folder, parses):
    cached_load([folder])
    deck_cache_path().unlink()
    parses.clear()
    same(cached_load([folder]), load_decks([folder]))
    assert len(parses) == 3 + 3  # the cached load, then the reference
    parses.clear()
    cached_load([folder])
    assert parses == []


@pytest.mark.parametrize("damage", ["garbage file", "truncated file", "bad rows", "other table"])
def test_a_damaged_cache_is_rebuilt_silently(folder, parses, damage, capsys):
    cached_load([folder])
    path = deck_cache_path()
    if damage == "garbage file":
        path.write_bytes(b"not a database at all" * 100)
    elif damage == "truncated file":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "bad rows":
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE deck_files SET cards = '[1, 2', summary = '{}'")
    else:
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TABLE deck_files")
            conn.execute("CREATE TABLE deck_files (path TEXT)")
    parses.clear()
    same(cached_load([folder]), load_decks([folder]))
    assert len(parses) == 3 + 3
    parses.clear()
    cached_load([folder])
    assert parses == []  # rebuilt
    assert capsys.readouterr() == ("", "")


def test_a_data_folder_that_cannot_be_written_just_means_no_cache(folder, tmp_path, parses):
    blocked = tmp_path / "a-file"
    blocked.write_text("")  # the cache's folder is a file: nothing can be created in it
    result = cached_load([folder], blocked / "deck-cache.sqlite3")
    same(result, load_decks([folder]))
    assert not (blocked / "deck-cache.sqlite3").exists()


def test_a_cache_that_cannot_be_written_is_still_read(folder, parses):
    cached_load([folder])
    write(folder / "a.yaml", deck_text("a", ["changed"]))
    cache = DeckCache(deck_cache_path())
    cache._connect().execute("PRAGMA query_only = ON")  # every write fails, as read-only
    parses.clear()
    with cache:
        result = load_decks([folder], cache)
    assert parses == [folder / "a.yaml"]
    same(result, load_decks([folder]))
    parses.clear()
    cached_load([folder])
    assert parses == [folder / "a.yaml"]  # not written the first time


def test_a_busy_cache_is_left_alone(folder, parses, monkeypatch):
    cached_load([folder])
    write(folder / "a.yaml", deck_text("a", ["changed"]))
    monkeypatch.setattr(deck_cache, "BUSY_TIMEOUT_S", 0.05)
    other = sqlite3.connect(deck_cache_path(), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    parses.clear()
    try:
        same(cached_load([folder]), load_decks([folder]))
    finally:
        other.execute("ROLLBACK")
        other.close()
    parses.clear()
    cached_load([folder])
    assert parses == [folder / "a.yaml"]  # not written while busy; the rest kept


# -- two processes ----------------------------------------------------------------------


def test_two_processes_filling_the_cache_at_once(tmp_path):
    decks = tmp_path / "many"
    for i in range(30):
        write(decks / f"d{i:02}.yaml", deck_text(f"d{i:02}", [f"F{j}" for j in range(40)]))
    go = tmp_path / "go"
    script = textwrap.dedent(f"""
        import json, os, time
        from pathlib import Path
        from quizforge.decks.cache import open_cache
        from quizforge.decks.loader import load_decks
        while not os.path.exists({str(go)!r}):
            time.sleep(0.001)
        with open_cache() as cache:
            result = load_decks([Path({str(decks)!r})], cache)
        print(json.dumps([[d.id, len(d.cards)] for d in result.decks] + [len(result.problems)]))
    """)
    env = {**os.environ, "QUIZFORGE_HOME": str(tmp_path / "home")}
    procs = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    go.write_text("")
    outs = [p.communicate(timeout=60) for p in procs]
    expected = [[f"d{i:02}", 40] for i in range(30)] + [0]
    for out, err in outs:
        assert err == ""
        assert json.loads(out) == expected
    with sqlite3.connect(tmp_path / "home" / "deck-cache.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM deck_files").fetchone() == (30,)


# -- what the commands see ---------------------------------------------------------------


def test_edits_keep_progress_exactly_as_without_the_cache(folder, tmp_path):
    """The same history of edits synced from cached and from freshly read decks leaves
    two stores with identical card tables."""
    dbs = [Database(tmp_path / "cached.sqlite3"), Database(tmp_path / "plain.sqlite3")]
    edits = [
        None,
        ("a.yaml", deck_text("a", ["F0 edited", "F1", "F2 new"])),
        ("a.yaml", deck_text("a", ["F0 edited"], tag="retagged")),
        ("b.yaml", deck_text("b", ["G0", "G1"])),
    ]
    for step, edit in enumerate(edits):
        if edit is not None:
            write(folder / edit[0], edit[1])
            os.utime(folder / edit[0], ns=(OLD_NS + step * 10**9,) * 2)
        cached, plain = cached_load([folder]), load_decks([folder])
        same(cached, plain)
        store.sync_decks(dbs[0], cached.decks, NOW)
        store.sync_decks(dbs[1], plain.decks, NOW)
        if step == 0:
            for db in dbs:  # some progress to keep
                db.conn.execute("UPDATE cards SET reps = 3, state = 2 WHERE card_id = 'c0'")
    tables = [db.conn.execute("SELECT * FROM cards ORDER BY id").fetchall() for db in dbs]
    assert tables[0] == tables[1]
    kept = dbs[0].conn.execute(
        "SELECT deck_id, card_id, reps, in_deck, tags FROM cards ORDER BY deck_id, card_id"
    ).fetchall()
    assert [tuple(r) for r in kept] == [
        ("a", "c0", 3, 1, " retagged "),
        ("a", "c1", 0, 0, " t "),
        ("a", "c2", 0, 0, " t "),
        ("b", "c0", 3, 1, " t "),
        ("b", "c1", 0, 1, " t "),
    ]
    for db in dbs:
        db.close()


def test_listing_reads_only_summaries_and_fills_the_cache(folder, parses, monkeypatch):
    with deck_cache.open_cache() as cache:
        listing = list_decks([folder], cache)
    assert [(d.id, d.counts()["flashcard"], d.card_tags) for d in listing.decks] == [
        ("a", 2, ("t",)), ("b", 1, ("t",))]
    assert listing.problems == load_decks([folder]).problems
    parses.clear()
    cached_load([folder])  # the listing cached the cards too
    assert parses == []


def test_decks_and_report_do_not_parse_yaml_once_cached_but_validate_does(folder, parses):
    args = ["--decks", str(folder)]
    first = runner.invoke(app, ["decks", "--json", *args])
    report = runner.invoke(app, ["report", "--json", *args])
    assert (first.exit_code, report.exit_code) == (0, 0)
    parses.clear()
    again = runner.invoke(app, ["decks", "--json", *args])
    report_again = runner.invoke(app, ["report", "--deck", "a", "--tag", "t", *args])
    assert (again.stdout, again.stderr) == (first.stdout, first.stderr)
    assert report_again.exit_code == 0, report_again.output
    assert "bad.yaml:4: missing required field 'back'" in report_again.stderr
    assert parses == []
    checked = runner.invoke(app, ["validate", str(folder)])
    assert checked.exit_code == 1
    assert len(parses) == 3


def test_the_garbage_collector_is_paused_while_loading_and_restored(folder, monkeypatch):
    states = []
    real = validate.parse_deck
    monkeypatch.setattr(validate, "parse_deck", lambda t, p: (states.append(gc.isenabled()),
                                                           real(t, p))[1])
    assert gc.isenabled()
    cached_load([folder])
    assert states == [False, False, False]
    assert gc.isenabled()


def test_decks_loads_cards_only_of_decks_the_store_has_not_seen(folder, monkeypatch):
    args = ["decks", "--json", "--decks", str(folder)]

    def new_counts():
        r = runner.invoke(app, args)
        assert r.exit_code == 0, r.output
        return {row["id"]: row["new"] for row in json.loads(r.stdout) if row["id"] in ("a", "b")}

    assert new_counts() == {"a": 2, "b": 1}
    real = deck_cache.cards_from_rows
    decoded = []
    monkeypatch.setattr(deck_cache, "cards_from_rows",
                        lambda data: decoded.append(1) or real(data))
    assert new_counts() == {"a": 2, "b": 1}
    assert decoded == []  # nothing changed: no cards decoded, no YAML parsed
    write(folder / "b.yaml", deck_text("b", ["G0", "G1", "G2"]))
    assert new_counts() == {"a": 2, "b": 3}  # the store saw b's new cards


# -- cards built only when shown -----------------------------------------------------------


def tagged_deck_text(deck_id: str) -> str:
    """Cards with their own tags, some shared, some none, and a deck tag."""
    own = [["x"], [], ["x", "y"], ["y"], [], ["z"]]
    cards = "".join(
        f"  - id: c{i}\n    front: F{i}\n    back: B{i}\n" + (f"    tags: {tags}\n" if tags else "")
        for i, tags in enumerate(own)
    )
    return f"deck: {deck_id}\nname: N\ntags: [deck-{deck_id}]\ncards:\n{cards}"


def test_cached_decks_build_their_cards_only_when_asked_and_give_the_same_cards(folder):
    from quizforge.decks.model import CardIndex, LazyCards, compute_fingerprint, deck_fingerprint

    write(folder / "t.yaml", tagged_deck_text("t"))
    reference = load_decks([folder])
    cached_load([folder])  # fills the cache
    decks = cached_load([folder]).decks
    assert all(isinstance(d.cards, LazyCards) and not d.cards.loaded for d in decks)
    for deck, ref in zip(decks, reference.decks, strict=True):
        # What a session and a sync need, without building a card:
        assert len(deck.cards) == len(ref.cards)
        assert deck.index() == CardIndex.of(ref.cards) == ref.index()
        assert deck_fingerprint(deck) == compute_fingerprint(ref)
        assert not deck.cards.loaded
        assert deck.cards[-1] == ref.cards[-1]  # one card built: the whole deck is
        assert deck.cards.loaded
        assert tuple(deck.cards) == ref.cards and deck == ref and hash(deck) == hash(ref)
        assert deck.counts() == ref.counts()


def test_card_index_round_trip_and_bad_indexes():
    from quizforge.decks.model import CardIndex

    [deck] = load_decks([FIXTURES / "ml-basics.yaml"]).decks
    index = CardIndex.of(deck.cards)
    assert CardIndex.from_dict(json.loads(json.dumps(index.to_dict()))) == index
    assert index.matches(deck.cards) and not index.matches(deck.cards[1:])
    for bad in ({"ids": ["a"], "tag_ids": [], "tagsets": []},
                {"ids": ["a"], "tag_ids": [1], "tagsets": [[]]},
                {"ids": ["a"], "tag_ids": [-1], "tagsets": [[]]},
                {"ids": ["a"]}):
        with pytest.raises((ValueError, KeyError, TypeError)):
            CardIndex.from_dict(bad)


def test_damaged_card_rows_behind_a_good_index_are_read_from_the_file(folder, parses):
    reference = load_decks([folder])
    cached_load([folder])
    with sqlite3.connect(deck_cache_path()) as conn:
        conn.execute("UPDATE deck_files SET cards = '[1, 2' WHERE path LIKE '%a.yaml'")
        conn.execute("UPDATE deck_files SET cards = replace(cards, '\"c0\"', '\"q0\"')"
                     " WHERE path LIKE '%b.yaml'")  # decodes, but not the index's cards
    parses.clear()
    loaded = cached_load([folder])
    assert parses == []
    assert loaded.decks == reference.decks  # the lazy cards, built from the files
    assert sorted(p.name for p in parses) == ["a.yaml", "b.yaml"]
    parses.clear()
    cached_load([folder])
    assert sorted(p.name for p in parses) == ["a.yaml", "b.yaml"]  # their rows were dropped
    parses.clear()
    assert cached_load([folder]).decks == reference.decks
    assert parses == []


def test_a_file_edited_while_its_cards_were_not_yet_built_is_an_error(folder):
    from quizforge.errors import DeckError

    cached_load([folder])
    [a, _] = cached_load([folder]).decks
    with sqlite3.connect(deck_cache_path()) as conn:
        conn.execute("DELETE FROM deck_files")  # another process dropped the rows
    write(folder / "a.yaml", deck_text("a", ["F0", "F1", "F2"]))
    with pytest.raises(DeckError, match=r"a\.yaml changed while quizforge was reading it: "
                                        r"run the command again"):
        a.cards[0]
    cached_load([folder])
    [a, _] = cached_load([folder]).decks
    with sqlite3.connect(deck_cache_path()) as conn:
        conn.execute("DELETE FROM deck_files")
    write(folder / "a.yaml", deck_text("a", ["F0 new text", "F1", "F2"]))  # same ids, tags
    assert a.cards[0].front == "F0 new text"  # the same cards: the file's text is used


def test_a_session_over_cached_decks_builds_only_the_decks_it_shows(folder, tmp_path):
    from quizforge.scheduling.config import Config
    from quizforge.scheduling.scheduler import Rating, Scheduler
    from quizforge.study.session import Session, StudyOptions

    write(folder / "t.yaml", tagged_deck_text("t"))
    cached_load([folder])

    def run(loaded, db, **opts):
        s = Session(db, loaded, Scheduler(Config(fuzz=False)), StudyOptions(**opts), NOW)
        shown, now = [], NOW
        while (n := s.next(now)) is not None and len(shown) < 40:
            shown.append((n[0].key, n[1]))
            s.answer(n[0], Rating.GOOD, now, 1000)
            now += timedelta(minutes=1)
        return shown

    for opts in ({}, {"decks": ("b",)}, {"tags": ("y",)}, {"tags": ("deck-t", "x")},
                 {"tags": ("t",), "cram": True}):
        dbs = [Database(tmp_path / f"{n}-{len(os.listdir(tmp_path))}.sqlite3") for n in "cp"]
        for db in dbs:  # a store that has seen the decks: the session syncs nothing
            store.sync_decks(db, load_decks([folder]).decks, NOW)
        cached = cached_load([folder]).decks
        got = run(cached, dbs[0], **opts)
        assert got == run(load_decks([folder]).decks, dbs[1], **opts)
        assert got
        shown_decks = {deck_id for (deck_id, _), _ in got}
        assert {d.id for d in cached if d.cards.loaded} == shown_decks
        tables = [db.conn.execute("SELECT * FROM cards ORDER BY id").fetchall() for db in dbs]
        assert tables[0] == tables[1]
        for db in dbs:
            db.close()


def test_an_unchanged_deck_is_synced_without_building_its_cards(folder, tmp_path):
    db = Database(tmp_path / "s.sqlite3")
    cached_load([folder])
    store.sync_decks(db, cached_load([folder]).decks, NOW)
    decks = cached_load([folder]).decks
    store.sync_decks(db, decks, NOW)
    assert not any(d.cards.loaded for d in decks)
    write(folder / "a.yaml", deck_text("a", ["F0", "F1", "F2"]))  # a new card: synced
    decks = cached_load([folder]).decks
    store.sync_decks(db, decks, NOW)
    rows = db.conn.execute("SELECT card_id FROM cards WHERE deck_id = 'a' ORDER BY id")
    assert [r[0] for r in rows] == ["c0", "c1", "c2"]
    db.close()


def test_files_parsed_in_worker_processes_give_the_same_result(folder, monkeypatch, parses):
    from quizforge.decks import loader
    from quizforge.decks.model import LazyCards

    write(folder / "t.yaml", tagged_deck_text("t"))
    write(folder / "dup.yaml", deck_text("a", ["F"]))  # a taken deck id
    reference = load_decks([folder])
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(loader.os, "cpu_count", lambda: 2)
    parses.clear()
    result = cached_load([folder])
    assert parses == []  # not in this process
    assert all(isinstance(d.cards, LazyCards) and not d.cards.loaded for d in result.decks)
    same(result, reference)
    parses.clear()
    same(cached_load([folder]), reference)  # and the workers' rows were cached
    assert parses == []
