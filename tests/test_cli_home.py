"""`quizforge` alone (the home screen) and what --help shows."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from enum import Enum

import pytest
from rich.console import Console
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.cli.home import Home, home_view

runner = CliRunner()
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    d = tmp_path / "decks"
    d.mkdir()
    cards = "".join(f"  - id: c{i}\n    front: F{i}\n    back: B{i}\n" for i in range(3))
    (d / "tiny.yaml").write_text(f"deck: tiny\nname: Tiny\ncards:\n{cards}")
    monkeypatch.setenv("QUIZFORGE_DECKS", str(d))
    monkeypatch.setenv("QUIZFORGE_NOW", NOW.isoformat())
    return d


def test_no_arguments_shows_the_home_screen(tiny):
    r = runner.invoke(app, ["config", "set", "new_per_day", "2"])
    r = runner.invoke(app, [])
    assert r.exit_code == 0, r.output
    lines = [line.rstrip() for line in r.stdout.splitlines()]
    assert lines[1:3] == ["0 due · 2 new today", "0 answers today · no streak yet"]
    assert "Next: quizforge study" in lines
    r = runner.invoke(app, ["study", "--deck", "tiny"], input="\n3\n\n3\n")
    assert r.exit_code == 0, r.output
    lines = runner.invoke(app, []).stdout.splitlines()
    # both in a 10m learning step: `study` would show them now (learn-ahead is 20m)
    assert lines[1:3] == ["2 due · 0 new today", "2 answers today · 1-day streak"]
    assert "Next: quizforge study" in lines


def test_help_still_shows_help():
    for args in (["--help"], ["-h"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0 and "Usage: quizforge [OPTIONS] COMMAND" in r.stdout


def test_home_screen_fits_40_60_80():
    h = Home(NOW, 1234, 20, 57, 12, None, 3)
    for width in (40, 60, 80):
        con = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
        con.print(home_view(h))
        lines = con.export_text().splitlines()
        assert all(len(line.rstrip()) <= width for line in lines)
        assert lines[1] == "1234 due · 20 new today"
        assert "Next: quizforge study" in lines


def test_home_with_no_decks_points_at_decks():
    h = Home(NOW, 0, 0, 0, 0, None, 0)
    con = Console(width=80, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    con.print(home_view(h))
    assert "Next: quizforge decks  (no decks found: see where decks are looked for)" in con.export_text()


HELP = [
    [], ["study"], ["report"], ["decks"], ["validate"], ["schema"], ["unsuspend"], ["backup"],
    ["doctor"], ["config"], ["config", "set"], ["config", "reset"], ["drill"], ["drill", "backprop"],
]


@pytest.mark.parametrize("args", HELP, ids=lambda a: " ".join(a) or "quizforge")
def test_help_shows_no_python_type_placeholders(args):
    r = runner.invoke(app, [*args, "--help"])
    assert r.exit_code == 0
    for placeholder in ("<bool>", "<int>", "<str>", "<float>", "<list", "<Path", "<path"):
        assert placeholder not in r.stdout, (args, placeholder)


def test_unsuspend_usage_and_validate_argument():
    r = runner.invoke(app, ["unsuspend", "--help"])
    assert "Usage: quizforge unsuspend [OPTIONS] [DECK/CARD]..." in r.stdout
    r = runner.invoke(app, ["validate", "--help"])
    assert "│   PATH        Deck files" in r.stdout


class Colour(str, Enum):
    red = "red"
    green = "green"


def test_choice_options_list_their_choices():
    import typer

    demo = typer.Typer()

    @demo.command()
    def paint(colour: Colour = Colour.red, times: int = 1, loud: bool = False) -> None:
        """Paint."""

    import quizforge.cli  # noqa: F401  (installs the placeholders)

    out = CliRunner().invoke(demo, ["--help"], env={"COLUMNS": "100"}).stdout
    assert re.search(r"--colour +\[red\|green\] +\[default: red\]", out)
    assert re.search(r"--times +TIMES +\[default: 1\]", out)
    assert "<" not in out


def test_read_only_home_points_at_doctor(tiny, monkeypatch):
    from quizforge.store import db as dbmod

    monkeypatch.setattr(dbmod, "dir_writable", lambda folder: False)
    r = runner.invoke(app, [])
    assert r.exit_code == 0
    assert "Next: quizforge doctor  (the data folder is read-only: nothing you study is saved)" in r.stdout


def test_home_counts_down_to_the_interview(tiny):
    runner.invoke(app, ["config", "set", "interview_date", "2026-03-20"])
    lines = runner.invoke(app, []).stdout.splitlines()
    assert "Interview in 18 days (Fri 20 Mar)" in lines
    runner.invoke(app, ["config", "set", "interview_date", "2026-03-01"])  # past: not shown
    assert "Interview" not in runner.invoke(app, []).stdout


def test_every_command_summary_is_one_line():
    """The root --help lists each command by its short help, or its help's first paragraph
    with the line breaks kept: a summary over two source lines showed as ragged lines
    ('they' / 'already')."""
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        first = (command.short_help or command.help or "").split("\n\n")[0]
        assert first and "\n" not in first.strip(), name
