"""Media of an Anki package (written by the real Anki backend) copied beside the imported
deck, in both package formats; unsafe names refused; the size cap holds."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quizforge.cli import app, common
from quizforge.importing.media import copy_media, media_folder, safe_name

runner = CliRunner()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
OGG = b"OggS" + b"\x01" * 300


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("QUIZFORGE_HOME", str(tmp_path / "home"))
    for console in (common.out, common.err):
        monkeypatch.setattr(console, "width", 200)


def anki_package(tmp_path: Path, legacy: bool) -> Path:
    collection = pytest.importorskip("anki.collection")
    from anki.collection import ExportAnkiPackageOptions

    folder = tmp_path / ("legacy" if legacy else "current")
    folder.mkdir()
    col = collection.Collection(str(folder / "collection.anki2"))
    try:
        col.media.write_data("transformer.png", PNG)
        col.media.write_data("say.ogg", OGG)
        note = col.new_note(col.models.by_name("Basic"))
        note.fields[0] = 'Name the blocks <img src="transformer.png">'
        note.fields[1] = "Encoder, decoder [sound:say.ogg]"
        col.add_note(note, col.decks.id("Default"))
        out = folder / "media.apkg"
        col.export_anki_package(out_path=str(out), limit=None, options=ExportAnkiPackageOptions(
            with_scheduling=False, with_deck_configs=False, with_media=True, legacy=legacy))
    finally:
        col.close()
    return out


@pytest.mark.parametrize("legacy", [True, False])
def test_media_is_copied_beside_the_deck(tmp_path, legacy):
    apkg = anki_package(tmp_path, legacy)
    out = tmp_path / "out"
    r = runner.invoke(app, ["import", str(apkg), "--deck", "tf", "--out", str(out)])
    assert r.exit_code == 0, r.output
    folder = out / "tf.media"
    assert (folder / "transformer.png").read_bytes() == PNG
    assert (folder / "say.ogg").read_bytes() == OGG
    assert f"Copied 2 media files to {folder}" in r.stdout
    deck = (out / "tf.yaml").read_text(encoding="utf-8")
    assert "[image: transformer.png]" in deck and "[sound: say.ogg]" in deck


def test_unsafe_names_are_refused_and_the_cap_holds(tmp_path):
    apkg = tmp_path / "evil.apkg"
    with zipfile.ZipFile(apkg, "w") as z:
        z.writestr("collection.anki2", b"")
        z.writestr("media", json.dumps({"0": "../escape.png", "1": "a/b.png", "2": "..",
                                        "3": "ok.png", "4": "big.png", "5": "c:\\x.png"}))
        for i in range(6):
            z.writestr(str(i), b"x" * (100 if i != 4 else 5000))
    with zipfile.ZipFile(tmp_path / "zstd.apkg", "w") as z:  # current format, damaged file
        import zstandard

        z.writestr("collection.anki21b", b"")
        z.writestr("media", zstandard.ZstdCompressor().compress(
            b"\x0a\x07\x0a\x05a.png" + b"\x0a\x07\x0a\x05b.png"))
        z.writestr("0", zstandard.ZstdCompressor().compress(b"ok"))
        z.writestr("1", b"not zstd at all")
    damaged = copy_media(tmp_path / "zstd.apkg", tmp_path / "z" / "z.yaml")
    assert (damaged.copied, damaged.refused) == (1, 1)
    assert sorted(p.name for p in damaged.folder.iterdir()) == ["a.png"]
    deck = tmp_path / "out" / "evil.yaml"
    result = copy_media(apkg, deck, cap_bytes=1000)
    assert result.folder == media_folder(deck) == tmp_path / "out" / "evil.media"
    assert sorted(p.name for p in result.folder.iterdir()) == ["ok.png"]
    assert (result.copied, result.refused, result.over_cap) == (1, 4, 1)
    assert not (tmp_path / "escape.png").exists() and not (tmp_path / "out" / "escape.png").exists()
    assert [safe_name(n) for n in ("a.png", "..", "x/y", "", "tab\there")] == \
        ["a.png", None, None, None, None]
