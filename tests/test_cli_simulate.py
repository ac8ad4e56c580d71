"""`quizforge simulate` through the CLI: errors and exit codes, JSON, the text at 80 and 40
columns, and what is simulated (the store's cards, new cards of decks not yet studied)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from helpers import T0, make_deck, utc_80_columns
from rich.cells import cell_len
from typer.testing import CliRunner

from quizforge.cli import app, common
from quizforge.paths import db_path
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Rating, Scheduler
from quizforge.store.db import Database
from quizforge.study.session import Session, StudyOptions

runner = CliRunner()
NOW = (T0 + timedelta(days=3)).isoformat()


@pytest.fixture(autouse=True)
def _utc_80_columns(monkeypatch):
    monkeypatch.setenv("QUIZFORGE_NOW", NOW)
    with utc_80_columns(monkeypatch):
        yield


@pytest.fixture
def studied(tmp_path):
    """Three days of study of a 30-card deck, written as a real deck file too."""
    deck = make_deck("stats", n_flash=30)
    folder = tmp_path / "decks"
    folder.mkdir()
    lines = ["id: stats", "name: Stats", "cards:"]
    for c in deck.cards:
        lines += [f"  - id: {c.id}", "    type: flashcard", f"    front: {c.front}",
                  f"    back: {c.back}"]
    (folder / "stats.yaml").write_text("\n".join(lines) + "\n")
    sched = Scheduler(Config(fuzz=False, new_per_day=10))
    with Database(db_path()) as db:
        for day in range(3):
            now = T0 + timedelta(days=day)
            s = Session(db, [deck], sched, StudyOptions(new_cap=10), now)
            i = 0
            while (nxt := s.next(now)) is not None:
                s.answer(nxt[0], Rating.AGAIN if i % 4 == 0 else Rating.GOOD, now, 5000)
                now += timedelta(minutes=1)
                i += 1
    return folder


def run(*args, **kw):
    return runner.invoke(app, ["simulate", *args], **kw)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-r", "0.5"], "Error: retention 0.5 is outside 0.7-0.99\n"),
        (["--retention", "0.8", "1.5", "--days", "0"],
         "Error: retention 1.5 is outside 0.7-0.99; --days 0 is outside 1-3650\n"),
        (["--days", "3651"], "Error: --days 3651 is outside 1-3650\n"),
        (["--days", "two"], "Error: --days 'two' is not a whole number\n"),
        (["-r", "high"], "Error: retention 'high' is not a number: use e.g. 0.85\n"),
        (["-r", "0.9", "0.9"], "Error: a --retention is given twice\n"),
        (["--new-per-day", "-2"], "Error: --new-per-day must be 0 or more, got -2\n"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr == message
    assert result.stdout == ""


def test_json_simulates_the_store_and_the_unstudied_bundled_cards(studied):
    result = run("--decks", str(studied), "-r", "0.8", "0.9", "--days", "15", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    with Database(db_path()) as db:
        scheduled = db.conn.execute("SELECT COUNT(*) FROM cards WHERE state != 0").fetchone()[0]
        new_stats = db.conn.execute("SELECT COUNT(*) FROM cards WHERE state = 0").fetchone()[0]
    assert data["scheduled_cards"] == scheduled == 30
    bundled = data["new_cards"] - new_stats
    assert bundled > 100  # the bundled decks were never studied: all their cards are new
    assert [r["retention"] for r in data["runs"]] == [0.8, 0.9]
    for r in data["runs"]:
        assert len(r["answers_per_day"]) == len(r["remembered_per_day"]) == 15
        assert r["new_per_day"] == [20] * 15  # config default new_per_day
        assert r["total_answers"] == sum(r["answers_per_day"])
    assert data["behaviour"]["seconds_review"] == 5.0  # every answer took 5 s
    assert data["desired_retention"] == 0.9 and data["fitted_parameters"] is False
    assert data["suggested_retention"] in (0.8, 0.9)


def test_repeatable():
    a = run("--days", "15", "--json").stdout
    b = run("--days", "15", "--json").stdout
    assert a == b and json.loads(a)["runs"]


def test_text_at_80_columns(studied):
    result = run("--decks", str(studied), "--retention", "0.8", "0.85", "0.9", "0.95",
                 "--new-per-day", "5", "--days", "60")
    assert result.exit_code == 0, result.output
    lines = result.stdout.rstrip("\n").split("\n")
    assert max(cell_len(line) for line in lines) <= 80
    assert lines[0] == "Workload over the next 60 days by desired retention"
    assert "remembered" in result.stdout and "90% ←" in result.stdout
    for label in ("80%│", "85%│", "90%│", "95%│"):
        assert label in result.stdout  # a strip per retention, readable without colour
    assert "one column = one day" in result.stdout
    assert lines[-1].startswith(("Suggested: quizforge config set desired_retention 0.",
                                 "Your desired_retention 0.9 is already"))


def test_degrades_at_40_columns(monkeypatch, studied):
    for console in (common.out, common.err):
        monkeypatch.setattr(console, "width", 40)
    result = run("--decks", str(studied), "--days", "120")
    assert result.exit_code == 0, result.output
    assert max(cell_len(line) for line in result.stdout.split("\n")) <= 40
    assert "one column = 4 days (mean)" in result.stdout


def test_reviews_per_day_limit_is_said_and_no_suggestion(studied):
    from quizforge.paths import config_path
    from quizforge.scheduling.config import save_config

    save_config(Config(reviews_per_day=1), config_path())
    result = run("--decks", str(studied), "--days", "10", "-r", "0.8", "-r", "0.95")
    assert result.exit_code == 0, result.output
    assert "reviews_per_day (1) is reached" in result.stdout
    assert result.stdout.rstrip().endswith(
        "No suggestion: reviews_per_day caps every retention, so none shows its cost."
    )


def test_help_has_an_example():
    result = runner.invoke(app, ["simulate", "--help"])
    assert result.exit_code == 0
    assert "quizforge simulate --retention 0.8 0.85 0.9 0.95 --days 60" in result.stdout


def test_nothing_to_study():
    result = run("--new-per-day", "0", "--days", "3", "-r", "0.9")
    assert result.exit_code == 0, result.output
    assert "No answers in these days." in result.stdout
    assert "inf" not in result.stdout
    assert result.stdout.rstrip().endswith("Nothing to study in this period: no retention to suggest.")


def test_plot_scale_stops_below_a_towering_first_day():
    import io

    from rich.console import Console

    from quizforge.scheduling.simulate import RetentionRun
    from quizforge.ui.simulate import plot

    def run_of(retention, answers):
        n = len(answers)
        return RetentionRun(retention, tuple(answers), tuple(answers), (0,) * n, (0.0,) * n,
                            (0.0,) * n, 0, 0)

    runs = (run_of(0.8, [900, 10, 20, 40]), run_of(0.9, [900, 20, 40, 80]))
    console = Console(file=io.StringIO(), width=60, color_system=None)
    console.print(plot(runs))
    lines = console.file.getvalue().splitlines()
    # Full height is 80 (the busiest later day), two rows of eighths: 40 fills the lower row.
    assert lines[0].rstrip() == "    │↑"  # today's 900 is off the scale
    assert lines[1].rstrip() == " 80%│█▂▄█"
    assert lines[3].rstrip() == "    │↑  █"
    assert lines[4].rstrip() == " 90%│█▄██"
    assert [line.strip() for line in lines[-2:]] == [
        "one column = one day",
        "full height = 80 answers, ↑ more (up to 900)",
    ]
