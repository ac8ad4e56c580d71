"""The `o` key in study: a card naming an image that an import copied into the deck's
media folder opens it with the system viewer (faked here: a script on PATH that records its
argument); without a viewer the screen says where the file is."""

from __future__ import annotations

import io
import random
import stat
import time
from datetime import timedelta
from pathlib import Path

from helpers import T0, Keys
from rich.console import Console

from quizforge.decks.model import Deck, Flashcard
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Scheduler
from quizforge.study.session import Session, StudyOptions
from quizforge.ui.study import StudyScreen, card_media


def media_deck(tmp_path: Path) -> Deck:
    path = tmp_path / "anat.yaml"
    (tmp_path / "anat.media").mkdir()
    (tmp_path / "anat.media" / "q.png").write_bytes(b"png")
    (tmp_path / "anat.media" / "a.png").write_bytes(b"png")
    cards = (Flashcard("c0", "Name the parts [image: q.png]", "Encoder [image: a.png]"),)
    return Deck("anat", "Anatomy", cards, path)


def run(db, deck, keys):
    s = Session(db, [deck], Scheduler(Config(fuzz=False)), StudyOptions(), T0)
    console = Console(file=io.StringIO(), width=80, force_terminal=False, color_system=None)
    clock = iter(T0 + timedelta(seconds=i) for i in range(1000))
    StudyScreen(s, console, Keys(keys), lambda: next(clock), rng=random.Random(0)).run()
    return console.file.getvalue()


def fake_viewer(tmp_path: Path, monkeypatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "opened.txt"
    for name in ("xdg-open", "open"):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\necho "$1" >> {log}\n')
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("DISPLAY", ":0")
    return log


def wait_for(log: Path, lines: int) -> list[str]:
    for _ in range(200):
        if log.exists() and len(log.read_text().splitlines()) >= lines:
            break
        time.sleep(0.01)
    return log.read_text().splitlines()


def test_front_shows_only_front_media_back_shows_all(tmp_path):
    deck = media_deck(tmp_path)
    card = deck.cards[0]
    assert [p.name for p in card_media(card, deck.path, answered=False)] == ["q.png"]
    assert [p.name for p in card_media(card, deck.path, answered=True)] == ["q.png", "a.png"]
    assert card_media(card, None, answered=True) == []
    # a name that is not in the folder, or not a plain file name, is not offered
    odd = Flashcard("c1", "[image: ../anat.yaml] [image: gone.png]", "b")
    assert card_media(odd, deck.path, answered=True) == []


def test_o_opens_the_image_with_the_system_viewer(db, tmp_path, monkeypatch):
    log = fake_viewer(tmp_path, monkeypatch)
    out = run(db, media_deck(tmp_path), ["o", " ", "o", "3"])
    assert "o open image" in out
    assert "Opened q.png." in out and "Opened q.png, a.png." in out
    opened = wait_for(log, 3)
    assert [Path(p).name for p in opened] == ["q.png", "q.png", "a.png"]


def test_without_a_viewer_it_says_where_the_file_is(db, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    out = run(db, media_deck(tmp_path), ["o", " ", "3"])
    assert "No viewer to open it with:" in out
    assert "q.png" in out.replace("\n", "")


def test_without_a_graphical_session_it_says_where_the_file_is(db, tmp_path, monkeypatch):
    fake_viewer(tmp_path, monkeypatch)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    out = run(db, media_deck(tmp_path), ["o", " ", "3"])
    if "Opened" in out:  # macOS or Windows: a viewer needs no DISPLAY
        return
    assert "No viewer to open it with:" in out


def test_o_reveals_as_any_key_on_a_card_without_media(db, tmp_path):
    deck = Deck("plain", "Plain", (Flashcard("c0", "front", "back"),), tmp_path / "plain.yaml")
    out = run(db, deck, ["o", "3"])
    assert "open image" not in out and "back" in out
