"""Crafted and damaged files given to `quizforge import` (issue 20): a bounded unpacking, and
one line and nothing written for every malformed package or text file."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest
import zstandard
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.importing import apkg

FIX = Path(__file__).parent / "fixtures" / "anki"
MAGIC = b"SQLite format 3\x00"
runner = CliRunner()


def run(tmp_path: Path, source: Path, *extra: str):
    return runner.invoke(app, ["import", str(source), "--deck", "x", "--out",
                               str(tmp_path / "out"), *extra])


def refused(tmp_path: Path, source: Path, *extra: str) -> str:
    """The one line `import` says, checked to be one line with nothing written."""
    r = run(tmp_path, source, *extra)
    assert r.exit_code == 1, r.output
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.output
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())
    return r.stderr.removeprefix("Error: ").rstrip("\n")


# -- bombs ---------------------------------------------------------------------------------

def zeros(n_mib: int):
    yield MAGIC
    for _ in range(n_mib):
        yield b"\0" * (1 << 20)


def test_unpack_limit():
    assert apkg.unpack_limit(1_000) == 16 << 20  # the floor for a tiny package
    assert apkg.unpack_limit(1 << 20) == 100 << 20  # 100 times the packed size
    assert apkg.unpack_limit(1 << 30) == 2 << 30  # 2 GiB at most


def test_a_deflate_bomb_is_refused_without_unpacking_it(tmp_path):
    bomb = tmp_path / "bomb.apkg"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("collection.anki21", "w") as f:
            for chunk in zeros(40):  # 40 MiB in about 40 KB
                f.write(chunk)
    packed = zipfile.ZipFile(bomb).getinfo("collection.anki21").compress_size
    assert packed < 100_000
    assert refused(tmp_path, bomb) == (
        f"{bomb}: collection.anki21 unpacks to more than 16 MiB from {packed:,} packed "
        "bytes: refused as a likely zip bomb; nothing written")


def test_a_zstd_bomb_is_refused(tmp_path):
    w = zstandard.ZstdCompressor(level=19).compressobj()
    frame = b"".join([*(w.compress(c) for c in zeros(40)), w.flush()])
    assert len(frame) < 5_000
    bomb = tmp_path / "bomb.colpkg"
    with zipfile.ZipFile(bomb, "w") as z:  # stored: the zip layer is plain
        z.writestr("collection.anki21b", frame)
    assert refused(tmp_path, bomb) == (
        f"{bomb}: collection.anki21b unpacks to more than 16 MiB from {len(frame):,} packed "
        "bytes: refused as a likely zip bomb; nothing written")


def test_a_zip_header_that_understates_the_size_is_still_counted(tmp_path, monkeypatch):
    """The cap counts the bytes that come out, not what the header claims."""
    monkeypatch.setattr(apkg, "CAP_FLOOR", 1 << 20)
    bomb = tmp_path / "bomb.apkg"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("collection.anki21", "w") as f:
            for chunk in zeros(3):
                f.write(chunk)
    assert "refused as a likely zip bomb" in refused(tmp_path, bomb)


def test_real_packages_are_well_under_the_cap(tmp_path):
    for name in ("ml.apkg", "ml.colpkg", "ml-legacy.apkg"):
        r = run(tmp_path, FIX / name, "--force")
        assert r.exit_code == 0, r.output


# -- malformed packages --------------------------------------------------------------------

def legacy() -> sqlite3.Connection:
    """The fixture's schema-11 collection, in memory, to damage."""
    raw = bytearray(zipfile.ZipFile(FIX / "ml-legacy.apkg").read("collection.anki21"))
    raw[18] = raw[19] = 1
    conn = sqlite3.connect(":memory:")
    conn.deserialize(bytes(raw))
    return conn


def modern() -> sqlite3.Connection:
    data = zipfile.ZipFile(FIX / "ml.apkg").read("collection.anki21b")
    raw = bytearray(zstandard.ZstdDecompressor().stream_reader(data).read())
    raw[18] = raw[19] = 1
    conn = sqlite3.connect(":memory:")
    conn.deserialize(bytes(raw))
    return conn


def package(tmp_path: Path, conn: sqlite3.Connection | bytes,
            inner: str = "collection.anki21") -> Path:
    if isinstance(conn, sqlite3.Connection):
        conn.commit()
        data = conn.serialize()
    else:
        data = conn
    if inner.endswith("b"):
        data = zstandard.ZstdCompressor().compress(data)
    path = tmp_path / "crafted.apkg"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(inner, data)
    return path


def without_constraints(conn: sqlite3.Connection, table: str) -> None:
    """The table as a crafted file may have it: no NOT NULL, so any column can be NULL."""
    conn.executescript(f"CREATE TABLE t_ AS SELECT * FROM {table}; DROP TABLE {table};"
                       f" ALTER TABLE t_ RENAME TO {table};")


@pytest.mark.parametrize("sql,message", [
    ("UPDATE col SET models = '{not json'",
     "the collection inside is damaged (JSONDecodeError: Expecting property name enclosed "
     "in double quotes: line 1 column 2 (char 1))"),
    ("UPDATE col SET models = '[1, 2]'",
     "the collection inside is damaged (AttributeError: 'list' object has no attribute "
     "'items')"),
    ("UPDATE col SET models = '{\"1\": {\"flds\": [{}]}}'",
     "the collection inside is damaged (KeyError: 'name')"),
])
def test_bad_models_json_is_one_line(tmp_path, sql, message):
    conn = legacy()
    conn.execute(sql)
    crafted = package(tmp_path, conn)
    assert refused(tmp_path, crafted) == f"{crafted}: {message}"


def test_null_fields_are_read_as_empty(tmp_path):
    conn = legacy()
    without_constraints(conn, "notes")
    without_constraints(conn, "cards")
    conn.execute("UPDATE notes SET tags = NULL, guid = NULL WHERE id = (SELECT min(id) FROM notes)")
    conn.execute("UPDATE notes SET flds = NULL WHERE id = (SELECT max(id) FROM notes)")
    conn.execute("UPDATE cards SET ord = NULL, data = NULL WHERE id = (SELECT max(id) FROM cards)")
    crafted = package(tmp_path, conn)
    r = run(tmp_path, crafted, "--json")
    assert r.exit_code == 0, r.output
    assert "damaged card row" in r.stdout


def test_null_review_fields_are_left_out_of_the_history(tmp_path):
    conn = legacy()
    without_constraints(conn, "revlog")
    conn.execute("UPDATE revlog SET ease = NULL WHERE id = (SELECT min(id) FROM revlog)")
    conn.execute("UPDATE revlog SET time = NULL WHERE id = (SELECT max(id) FROM revlog)")
    crafted = package(tmp_path, conn)
    r = run(tmp_path, crafted, "--with-history", "--json")
    assert r.exit_code == 0, r.output
    assert '"dropped": 2' in r.stdout


def test_corrupt_pages_are_one_line(tmp_path):
    conn = legacy()
    data = bytearray(conn.serialize())
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'notes'").fetchone()[0]
    data[(root - 1) * page:root * page] = b"\xa5" * page  # the notes table's root page
    crafted = package(tmp_path, bytes(data))
    message = refused(tmp_path, crafted)
    assert message.startswith(f"{crafted}: the collection inside is damaged (")


@pytest.mark.parametrize("table,config", [
    ("templates", b"\x0a\xff"),  # a length that runs off the end: cut short
    ("templates", b"\x0a\x80"),  # a varint that never ends
    ("notetypes", b"\x0f"),  # wire type 7 does not exist
])
def test_bad_protobuf_in_a_new_format_package_is_one_line(tmp_path, table, config):
    conn = modern()
    conn.execute(f"UPDATE {table} SET config = ?", (config,))
    crafted = package(tmp_path, conn, "collection.anki21b")
    message = refused(tmp_path, crafted)
    assert message.startswith(f"{crafted}: the collection inside is damaged (")


@pytest.mark.parametrize("member", [
    lambda: (zipfile.ZIP_DEFLATED, None),  # deflate stream cut: zlib error
    lambda: (zipfile.ZIP_LZMA, None),
])
def test_damaged_zip_members_are_one_line(tmp_path, member):
    method, _ = member()
    path = tmp_path / "cut.apkg"
    with zipfile.ZipFile(path, "w", method) as z:
        z.writestr("collection.anki21", legacy().serialize())  # a good collection
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo("collection.anki21")
    start = info.header_offset + 30 + len(info.filename)
    data[start + 10:start + 200] = b"\x55" * 190  # inside the compressed bytes
    path.write_bytes(bytes(data))
    assert refused(tmp_path, path).startswith(f"{path} is not a readable Anki package: ")


def test_a_csv_field_over_128_kb_is_one_line(tmp_path):
    big = tmp_path / "big.csv"
    big.write_text('front,"' + "x" * 200_000 + '"\n', encoding="utf-8")
    assert refused(tmp_path, big) == (
        f"{big}:1: a field is longer than 131,072 characters (too long for a flashcard); "
        "nothing written")
