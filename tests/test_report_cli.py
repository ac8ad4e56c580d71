"""`quizforge report` through the CLI: text at 80 columns, JSON, files, errors, exit codes."""

from __future__ import annotations

import json
import os
from datetime import UTC, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from helpers import T0, make_deck, utc_80_columns
from rich.cells import cell_len
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.paths import db_path
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Rating, Scheduler
from quizforge.store.cards import Attempt
from quizforge.store.db import Database
from quizforge.study.mastery import record_drill_attempt
from quizforge.study.session import Session, StudyOptions

runner = CliRunner()
NOW = (T0 + timedelta(days=6)).isoformat()  # Sunday 8 March 2026, 12:00 UTC


@pytest.fixture(autouse=True)
def _utc_80_columns(monkeypatch):
    with utc_80_columns(monkeypatch):
        yield


@pytest.fixture
def studied(monkeypatch):
    """A week of study in the user's store: two decks, every card answered Good or Again,
    plus a few drill attempts."""
    decks = [
        make_deck(
            "backprop", n_flash=6, n_mcq=2, card_tags={"c0": ("softmax-ce",), "c1": ("fan-out",)}
        ),
        make_deck("stats", n_flash=4, tags=("probability",)),
    ]
    sched = Scheduler(Config(fuzz=False))
    with Database(db_path()) as db:
        for day in range(7):
            now = T0 + timedelta(days=day)
            s = Session(db, decks, sched, StudyOptions(), now)
            i = 0
            while (nxt := s.next(now)) is not None:
                rating = Rating.AGAIN if (i + day) % 5 == 0 else Rating.GOOD
                s.answer(nxt[0], rating, now, 4000)
                now += timedelta(minutes=2)
                i += 1
            a = Attempt(
                now,
                "backprop",
                1,
                "number",
                day,
                ("chain-rule", "sigmoid"),
                day % 2 == 0,
                1.0,
                30000,
            )
            record_drill_attempt(db, sched, a, now)
    monkeypatch.setenv("QUIZFORGE_NOW", NOW)


def invoke(*args: str):
    return runner.invoke(app, ["report", *args])


def test_nothing_studied_is_a_friendly_start_not_an_error(monkeypatch):
    monkeypatch.setenv("QUIZFORGE_NOW", NOW)
    r = invoke()
    assert r.exit_code == 0, r.output
    assert "Nothing studied yet" in r.stdout
    assert "quizforge study" in r.stdout
    assert "quizforge drill  Practise gradients by hand" in r.stdout  # lists the families
    assert "Decks found: " in r.stdout and "(backprop)" in r.stdout  # the bundled deck
    assert r.stderr == ""


def test_nothing_studied_json_has_the_full_structure_and_empty_flag(monkeypatch):
    monkeypatch.setenv("QUIZFORGE_NOW", NOW)
    r = invoke("--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["empty"] is True and d["today"]["reviews"] == 0 and d["today"]["streak_days"] == 0
    assert d["weak_spots"]["leeches"] == [] and len(d["forecast"]["days"]) == 30


def test_report_fits_80_columns_and_has_every_section(studied):
    r = invoke()
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    for heading in (
        "Today",
        "Mastery by deck",
        "Mastery by tag",
        "True retention",
        "Forecast",
        "Activity, last 26 weeks",
        "Drill skills",
        "Weak spots",
    ):
        assert any(heading in line for line in lines), heading
    assert lines[0] == "quizforge report · Sun 08 Mar 2026 · all decks"
    assert "Streak   7 days" in r.stdout
    # the calendar's rows are Monday..Sunday, shaded by count, with a legend
    assert [line.split()[0] for line in lines if line[1:4] in ("Mon", "Tue", "Sun")] == [
        "Mon",
        "Tue",
        "Sun",
    ]
    assert "less · ░ ▒ ▓ █ more" in r.stdout


def test_drill_skills_show_first_try_accuracy(studied):
    r = invoke("--tag", "chain-rule")
    assert r.exit_code == 0, r.output
    lines = [line.rstrip() for line in r.stdout.splitlines()]
    top = next(i for i, line in enumerate(lines) if line.startswith("Drill skills"))
    assert lines[top : top + 3] == [
        "Drill skills  first-try accuracy: all, last 10 attempts, the 10 before",
        " skill       attempts  overall  last 10  10 before  trend",
        " chain-rule         6      50%      50%          —",
    ]
    d = json.loads(invoke("--json").stdout)["skills"]
    assert d["accuracy_definition"].startswith("first-try accuracy: correct / attempts, where")
    assert d["trend_definition"].startswith("first-try accuracy of the last 10 attempts")


def test_report_json_matches_the_store(studied):
    r = invoke("--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["empty"] is False
    with Database(db_path()) as db:
        answers = db.conn.execute("SELECT COUNT(*) FROM revlog").fetchone()[0]
        deck_cards = db.conn.execute("SELECT COUNT(*) FROM cards WHERE kind != 'skill'").fetchone()[
            0
        ]
    assert d["activity"]["total"] == answers  # drill levels' reviews included
    assert d["mastery"]["total"]["cards"] == deck_cards == 12
    assert [x["deck"] for x in d["mastery"]["decks"]] == ["backprop", "stats"]
    assert d["today"]["streak_days"] == 7
    assert {s["skill"] for s in d["skills"]["skills"]} == {"chain-rule", "sigmoid"}
    assert d["skills"]["levels"][0]["level"] == "backprop-d1"


def test_deck_tag_and_since_filters(studied):
    d = json.loads(invoke("--json", "--deck", "stats").stdout)
    assert [x["deck"] for x in d["mastery"]["decks"]] == ["stats"]
    assert d["skills"]["skills"] == []  # drill skills only with no --deck or --deck drill
    assert "Drill skills" not in invoke("--tag", "softmax-ce").stdout  # filtered out
    d = json.loads(invoke("--json", "--tag", "softmax-ce").stdout)
    assert d["mastery"]["total"]["cards"] == 1
    assert [x["tag"] for x in d["mastery"]["tags"]] == ["softmax-ce"]
    d = json.loads(invoke("--json", "--since", "2026-03-07").stdout)
    assert d["filters"]["since"] == "2026-03-07"
    assert [x["date"] for x in d["activity"]["days"] if x["reviews"]] == [
        "2026-03-07",
        "2026-03-08",
    ]


def test_bad_since_is_one_line_on_stderr_exit_1(studied):
    r = invoke("--since", "2026-13-01")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr == "Error: bad --since date '2026-13-01': use YYYY-MM-DD, e.g. 2026-11-02\n"


def test_since_in_the_future_is_refused(studied):
    r = invoke("--since", "2030-01-01")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr == "Error: --since 2030-01-01 is in the future (today is 2026-03-08)\n"
    assert invoke("--since", "2026-03-08").exit_code == 0  # today is fine


def test_unknown_deck_and_tag_are_one_line_exit_1(studied):
    r = invoke("--deck", "nope", "--tag", "zzz")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: no deck with id 'nope' (decks: ")
    assert r.stderr.endswith("; no cards or drill skills with tag 'zzz'\n")
    assert r.stderr.count("\n") == 1


def test_unknown_option_is_a_usage_error_exit_2():
    assert invoke("--weeks", "3").exit_code == 2


def test_html_and_svg_files_are_written(studied, tmp_path):
    html, svg = tmp_path / "r.html", tmp_path / "r.svg"
    r = invoke("--html", str(html), "--svg", str(svg))
    assert r.exit_code == 0, r.output
    words = " ".join(r.stdout.split())  # a long path may wrap onto its own line
    assert f"Wrote {html}" in words and f"Wrote {svg}" in words
    page = html.read_text(encoding="utf-8")
    assert page.lstrip().startswith("<!DOCTYPE html>") and "True retention" in page
    assert "<title>quizforge report · Sun 08 Mar 2026 · all decks</title>" in page
    image = svg.read_text(encoding="utf-8")
    assert image.lstrip().startswith("<svg") and "Forecast" in image


def test_json_with_a_file_keeps_stdout_pure_json(studied, tmp_path):
    r = invoke("--json", "--svg", str(tmp_path / "r.svg"))
    assert r.exit_code == 0
    json.loads(r.stdout)
    assert "Wrote" in r.stderr


def test_unwritable_file_is_one_line_exit_1(studied, tmp_path):
    r = invoke("--html", str(tmp_path))  # a directory
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr == f"Error: cannot write {tmp_path}: it is a folder\n"


def test_a_bad_file_path_is_refused_before_the_report_is_printed(studied, tmp_path):
    bad = tmp_path / "missing" / "x.html"
    for option in ("--html", "--svg"):
        r = invoke(option, str(bad))
        assert r.exit_code == 1
        assert r.stdout == ""  # nothing printed before the error
        assert r.stderr == f"Error: cannot write {bad}: no folder {bad.parent}\n"
    r = invoke("--json", "--svg", str(tmp_path / "ok.svg"), "--html", str(bad))
    assert (r.exit_code, r.stdout) == (1, "")
    assert not (tmp_path / "ok.svg").exists()  # no file written either


def test_due_times_under_a_day_are_in_minutes_or_hours():
    from datetime import datetime

    from quizforge.ui.report import due_text

    now = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    cases = [
        (timedelta(minutes=-5), "now"),
        (timedelta(seconds=20), "in 1m"),
        (timedelta(minutes=10), "in 10m"),
        (timedelta(minutes=59, seconds=10), "in 1h"),
        (timedelta(hours=1), "in 1h"),
        (timedelta(hours=2, minutes=30), "in 3h"),
        (timedelta(hours=23), "in 23h"),
        (timedelta(days=1), "in 1d"),
        (timedelta(days=3, hours=2), "in 3d"),
    ]
    assert [due_text(now + d, now).plain for d, _ in cases] == [want for _, want in cases]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_refused_before_the_report_is_printed(studied, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        r = invoke("--html", str(folder / "x.html"))
    finally:
        folder.chmod(0o700)
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr == f"Error: cannot write {folder / 'x.html'}: permission denied\n"


def report_lines(width: int) -> list[str]:
    """The studied report rendered by a rich Console `width` columns wide."""
    import io
    from datetime import datetime

    from rich.console import Console

    from quizforge.reports import Calendar, build_report
    from quizforge.ui.report import render_report

    with Database(db_path()) as db:
        r = build_report(
            db, datetime.fromisoformat(NOW), Scheduler(Config(fuzz=False)), cal=Calendar(4, UTC)
        )
    console = Console(width=width, file=io.StringIO(), no_color=True, legacy_windows=False)
    console.print(render_report(r))
    lines = console.file.getvalue().splitlines()
    assert max(cell_len(line) for line in lines) <= width
    return lines


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_forecast_and_calendar_never_wrap(studied, width):
    """Each chart row stays one line: narrow terminals get fewer forecast columns and
    calendar weeks, not rows broken into the next line."""
    lines = report_lines(width)

    top = next(i for i, line in enumerate(lines) if line.lstrip().startswith("6 ┤"))
    chart = lines[top : top + 7]
    assert [line.lstrip()[0] for line in chart[1:5]] == ["│"] * 4  # the bar rows
    axis = chart[5].rstrip()
    assert axis.startswith(" 0 └─") and set(axis[4:]) == {"─"}
    days = len(axis) - 4  # one or two columns a day, all 30 from 60 columns up
    assert days == {40: 30, 60: 30, 80: 60, 120: 60}[width]
    assert chart[6].startswith("    today ")
    assert "15 Mar" in chart[6] and "05 Apr" in chart[6]

    mon = next(i for i, line in enumerate(lines) if line.startswith(" Mon "))
    rows = lines[mon : mon + 7]
    assert [line.split()[0] for line in rows] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    for line in rows:
        assert set(line[5:].rstrip()) <= {"·", "░", "▒", "▓", "█", " "}
    weeks = len(rows[0][5:].rstrip()) // 2 + 1
    assert weeks == (17 if width == 40 else 26)
    heading = next(line for line in lines if line.startswith("Activity, last "))
    assert heading.startswith(f"Activity, last {weeks} weeks")
    assert lines[mon + 7].startswith("     less · ░ ▒ ▓ █ more")
    assert any(line.strip() == "(█ over 25 a day; busiest 34)" for line in lines) == (width < 60)


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_narrow_report_drops_columns_instead_of_cutting_cells(studied, width):
    lines = report_lines(width)
    text = "\n".join(lines)
    assert "…" not in text  # no cell, header or advice cut short
    for header in ("deck", "tag"):
        row = next(line.split() for line in lines if line.startswith(f" {header} "))
        assert row[1] == "cards" and row[-2:] == ["recall", "mastered"]
    assert any(line.split()[:3] == ["backprop", "8", "0"] for line in lines) == (width >= 60)
    assert any(line.startswith(" young ") for line in lines)
    drill = "quizforge drill backprop -d 1"
    assert sum(drill in line for line in lines) == 2  # the advice and the level, whole
    assert ("Due now  0" in text) and ("New left 0 of 20/day" in text)


def test_first_fit_width_check_equals_rich_measure():
    """FirstFit's shortcut for a table's natural width gives what rich measures, for the
    report's tables at every detail level (an empty one, a wide name and a total row)."""
    import io

    from rich.console import Console

    from quizforge.reports.mastery import Mastery
    from quizforge.ui.report import _natural_width, mastery_table

    rows = [Mastery("a-very-long-deck-name-that-is-cut", 12_345, 3, 4, 5, 6, 0, 1, 2, 9, 4.5),
            Mastery("x", 1, 1)]
    console = Console(file=io.StringIO(), width=80)
    options = console.options.update_width(10_000)
    for table in [mastery_table([], "deck"), *(mastery_table(rows, "tag", Mastery("all", 5), d)
                                              for d in (2, 1, 0))]:
        assert _natural_width(console, options, table) == console.measure(
            table, options=options).maximum


_cell_text = st.text(alphabet=st.sampled_from(list("ab z-9%█░▌·中文\n[]:")), max_size=12)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(data=st.data(), padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       collapse=st.booleans(), pad_edge=st.booleans(), header=st.booleans(),
       footer=st.booleans(), width=st.sampled_from([1, 3, 8, 80, 10_000]))
def test_column_width_shortcut_equals_rich_measure(data, padding, collapse, pad_edge, header,
                                                   footer, width):
    """The report's quick column measure gives what rich's own Table._measure_column gives,
    for any text (wide characters, newlines, markup-like brackets, empty cells), padding,
    edges, headers, footers and column limits."""
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from quizforge.ui.report import _column_width, _natural_width

    console = Console(file=io.StringIO(), width=80)
    options = console.options.update_width(width)
    table = Table(box=None, padding=padding, collapse_padding=collapse, pad_edge=pad_edge,
                  show_header=header, show_footer=footer)
    n = data.draw(st.integers(1, 4))
    for _ in range(n):
        limit = st.one_of(st.none(), st.integers(0, 12))
        table.add_column(data.draw(st.one_of(_cell_text, _cell_text.map(Text))),
                         footer=data.draw(_cell_text), min_width=data.draw(limit),
                         max_width=data.draw(limit),
                         width=data.draw(st.one_of(st.none(), st.none(), st.integers(0, 9))))
    for _ in range(data.draw(st.integers(0, 3))):
        table.add_row(*(data.draw(st.one_of(_cell_text, _cell_text.map(Text))) for _ in range(n)))
    for column in table.columns:
        assert _column_width(console, options, table, column) == table._measure_column(
            console, options, column).maximum
    if width == 10_000:  # as FirstFit asks: a table that fits takes its columns' widths
        assert _natural_width(console, options, table) == console.measure(
            table, options=options).maximum
