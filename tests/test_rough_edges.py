"""Issue 20: rough edges a newcomer hit. Each test failed before its fix."""

import io
import re
import random
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import T0, Keys
from rich.console import Console

from quizforge.decks.model import Deck, Flashcard, GeneratedCard
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Scheduler
from quizforge.study.session import Session, StudyOptions
from quizforge.ui.study import StudyScreen


def _screen(db, deck, reader, terminal=False):
    from quizforge.cli.study import _generated_runner

    s = Session(db, [deck], Scheduler(Config(fuzz=False)), StudyOptions(), T0)
    console = Console(file=io.StringIO(), width=80, force_terminal=terminal, color_system=None)
    clock = iter(T0 + timedelta(seconds=i) for i in range(10_000))
    scr = StudyScreen(s, console, reader, lambda: next(clock), rng=random.Random(0),
                      run_generated=_generated_runner())
    return scr, console


def _mixed_deck():
    return Deck("d", "D", (Flashcard("c0", "front 0", "back 0"),
                           GeneratedCard("g0", "softmax-ce", 1)), Path("d.yaml"))


# -- u and s on a drill card inside study ------------------------------------------------------
def test_u_on_a_drill_card_undoes_the_last_answer(db):
    scr, con = _screen(db, _mixed_deck(), Keys([" ", "3", " ", "q"], lines=["u"]))
    scr.run()
    out = con.file.getvalue()
    assert "unknown name" not in out
    assert "Undid d/c0." in out
    assert db.conn.execute("SELECT COUNT(*) FROM revlog").fetchone()[0] == 0
    assert out.count("front 0") == 2  # c0 is asked again


def test_s_on_a_drill_card_suspends_it(db):
    scr, con = _screen(db, _mixed_deck(), Keys([" ", "3"], lines=["s"]))
    scr.run()
    out = con.file.getvalue()
    assert "Suspended d/g0 (u to undo)." in out and "unknown name" not in out
    assert [tuple(r) for r in db.conn.execute("SELECT card_id FROM cards WHERE suspended = 1")] == [("g0",)]
    assert "u: undo · s: suspend" in out  # the drill card says so


def test_u_with_nothing_to_undo_keeps_the_problem(db):
    deck = Deck("d", "D", (GeneratedCard("g0", "softmax-ce", 1),), Path("d.yaml"))
    scr, con = _screen(db, deck, Keys([], lines=["u"]))
    scr.run()
    out = con.file.getvalue()
    assert "Nothing to undo." in out and "unknown name" not in out


# -- the notice of an undo or a suspend survives the next card's clear ----------------------------
CLEAR = "\x1b[2J"


def test_suspend_notice_is_on_the_next_cards_screen(db):
    deck = Deck("d", "D", (Flashcard("c0", "front 0", "back 0"),
                           Flashcard("c1", "front 1", "back 1")), Path("d.yaml"))
    scr, con = _screen(db, deck, Keys(["s", "q"]), terminal=True)
    scr.run()
    last_screen = con.file.getvalue().split(CLEAR)[-1]
    assert "front 1" in last_screen
    assert "Suspended d/c0 (u to undo)." in last_screen


def test_undo_notice_is_on_the_next_cards_screen(db):
    deck = Deck("d", "D", (Flashcard("c0", "front 0", "back 0"),
                           Flashcard("c1", "front 1", "back 1")), Path("d.yaml"))
    scr, con = _screen(db, deck, Keys([" ", "3", "u", "q"]), terminal=True)
    scr.run()
    last_screen = con.file.getvalue().split(CLEAR)[-1]
    assert "front 0" in last_screen and "Undid d/c0." in last_screen


# -- an unknown name in a tensor answer: no empty list in the message ----------------------------
def test_unknown_name_without_variables_lists_no_empty_names():
    from quizforge.drill.errors import AnswerRejected
    from quizforge.drill.parse import parse_answer

    with pytest.raises(AnswerRejected) as e:
        parse_answer("zz", [])
    assert "(use e, pi and functions like exp, log, σ)" in str(e.value)
    with pytest.raises(AnswerRejected) as e:
        parse_answer("zz", ["x"])
    assert "(use x, e, pi and functions like exp, log, σ)" in str(e.value)


# -- one "today" on every screen -------------------------------------------------------------------
@pytest.fixture
def tiny(tmp_path, monkeypatch):
    from helpers import utc_80_columns

    d = tmp_path / "decks"
    d.mkdir()
    cards = "".join(f"  - id: c{i}\n    front: F{i}\n    back: B{i}\n" for i in range(6))
    (d / "tiny.yaml").write_text(f"deck: tiny\nname: Tiny\ncards:\n{cards}")
    monkeypatch.setenv("QUIZFORGE_DECKS", str(d))
    import quizforge.paths

    (tmp_path / "none").mkdir()  # no bundled decks: the counts are tiny's alone
    monkeypatch.setattr(quizforge.paths, "bundled_decks_dir", lambda: tmp_path / "none")
    with utc_80_columns(monkeypatch):
        yield d


def _cli(monkeypatch, now, args, input=None):
    from typer.testing import CliRunner

    from quizforge.cli import app

    monkeypatch.setenv("QUIZFORGE_NOW", now)
    r = CliRunner().invoke(app, args, input=input)
    assert r.exit_code == 0, r.output
    return r.stdout


def test_home_report_and_study_agree_on_the_day_and_on_what_is_due(tiny, monkeypatch):
    import json
    import re

    for key, value in (("new_per_day", "3"), ("reviews_per_day", "2"),
                       ("interview_date", "2026-12-19")):
        _cli(monkeypatch, "2026-11-20T12:00:00+00:00", ["config", "set", key, value])
    _cli(monkeypatch, "2026-11-20T12:00:00+00:00", ["study"], input="\n4\n\n4\n\n4\n")
    late = "2026-12-05T02:05:00+00:00"  # a Saturday, before the 4 am day start: still Friday
    home = _cli(monkeypatch, late, [])
    assert "Fri 04 Dec" in home and "Interview in 15 days (Sat 19 Dec)" in home
    report = _cli(monkeypatch, late, ["report"])
    assert "Fri 04 Dec 2026" in report and "in 15 days" in report
    study = _cli(monkeypatch, late, ["study"], input="q\n")
    assert "Interview in 15 days" in study
    due_home = int(re.search(r"(\d+) due · (\d+) new today", home)[1])
    due_report = json.loads(_cli(monkeypatch, late, ["report", "--json"]))["today"]["due_now"]
    header = re.search(r"(\d+) new · (\d+) learning · (\d+) due · 0 done", study)
    assert due_home == due_report == int(header[2]) + int(header[3]) == 2  # reviews_per_day
    assert re.search(r"(\d+) due · (\d+) new today", home)[2] == header[1] == "3"


def test_home_says_an_interview_date_can_be_set():
    from datetime import date

    from quizforge.cli.home import Home, home_view

    def shown(h):
        con = Console(width=80, record=True, file=io.StringIO())
        con.print(home_view(h))
        return con.export_text()

    assert "quizforge config set interview_date YYYY-MM-DD" in shown(Home(T0, 3, 2, 0, 0, None, 3))
    dated = shown(Home(T0, 3, 2, 0, 0, None, 3, interview=date(2026, 3, 9)))
    assert "interview_date YYYY" not in dated and "Interview in 7 days" in dated


# -- small things --------------------------------------------------------------------------------
def test_imported_deck_follows_the_umask(tmp_path):
    import os

    from quizforge.importing import write_deck

    old = os.umask(0o022)
    try:
        write_deck("deck: x\n", tmp_path / "x.yaml", force=False)
    finally:
        os.umask(old)
    assert (tmp_path / "x.yaml").stat().st_mode & 0o777 == 0o644


def test_report_to_a_file_prints_only_where_it_went(tiny, monkeypatch, tmp_path):
    _cli(monkeypatch, "2026-11-20T12:00:00+00:00", ["study"], input="\n3\n")
    for option, name in (("--html", "r.html"), ("--svg", "r.svg")):
        out = _cli(monkeypatch, "2026-11-20T13:00:00+00:00", ["report", option, str(tmp_path / name)])
        assert " ".join(out.split()) == f"Wrote {tmp_path / name}"  # the path may wrap
        assert out.endswith("\n") and out.count("Wrote") == 1
        assert (tmp_path / name).stat().st_size > 1000


def _viz_frame(width, status=None):
    from quizforge.ui.viz import FrameCache, render_frame, scene_for
    from quizforge.viz import Settings, get_surface
    from quizforge.viz.trajectory import trajectories

    surface = get_surface()
    settings = Settings(optimizers=("sgd", "momentum", "rmsprop", "adam"), steps=50)
    scene = scene_for(surface, settings, trajectories(surface, settings))
    con = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    con.print(render_frame(scene, FrameCache(scene), 50, width, 30, color=False, status=status))
    return con.export_text()


@pytest.mark.parametrize("width", [40, 50, 80])
def test_viz_table_keeps_the_y_column(width):
    lines = _viz_frame(width).splitlines()
    head = next(line for line in lines if "loss" in line)
    assert head.rstrip().endswith("y") and "…" not in head
    rows = [line for line in lines[lines.index(head) + 1:] if line.strip()]
    assert len(rows) == 4 and all(re.search(r"-?\d+\.\d{4}$", r.rstrip()) for r in rows)


def test_viz_footer_says_what_space_does_now():
    assert "paused · space play · → step" in _viz_frame(80, "paused")
    assert "running · space pause" in _viz_frame(80, "running")
    assert "done · r restart · q quit" in _viz_frame(80, "done")


# -- quizforge decks at 80 and 40 columns -----------------------------------------------------------
@pytest.mark.parametrize("width", [40, 80])
def test_decks_reads_at_80_and_40_columns(monkeypatch, tmp_path, width):
    from typer.testing import CliRunner

    from quizforge.cli import app, common
    from quizforge.paths import bundled_decks_dir

    mine = tmp_path / "a-rather-long-folder-name" / "with-more-inside" / "my-decks"
    mine.mkdir(parents=True)
    (mine / "own.yaml").write_text("deck: own\nname: My own deck\ncards:\n"
                                   "  - {id: c, front: F, back: B}\n")
    monkeypatch.setenv("QUIZFORGE_DECKS", str(mine))
    monkeypatch.setattr(common.out, "width", width)
    r = CliRunner().invoke(app, ["decks"])
    assert r.exit_code == 0, r.output
    out = [line.rstrip() for line in r.stdout.splitlines()]
    n = len(list(bundled_decks_dir().glob("*.yaml")))
    assert all(len(line) <= width for line in out)
    assert "…" not in r.stdout
    assert len(out) <= (4 if width == 40 else 2) * (n + 1) + 4
    ids = {line.split()[0] for line in out if line and not line.startswith(" ")}
    assert {"backprop", "transformers", "own"} <= ids  # ids whole, at the start of a line
    text = "".join(line.strip() for line in out)
    assert str(mine / "own.yaml") in text  # the path, broken only after a /
    assert all(line.strip().endswith("/") for line in out
               if line.strip().startswith(str(tmp_path)[:8]) and "own.yaml" not in line)


# -- drill matrices at 40 columns -----------------------------------------------------------------
def _matrices_whole(p, width):
    from quizforge.ui.drill import render_problem, render_solution

    con = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    con.print(render_problem(p, 0))
    con.print(render_solution(p, 0))
    lines = con.export_text().splitlines()
    # every ⎡ opens a matrix whose next row has ⎢ or ⎣ in the same column
    for i, line in enumerate(lines):
        for col in [k for k, ch in enumerate(line) if ch == "⎡"]:
            below = lines[i + 1][col] if col < len(lines[i + 1]) else " "
            assert below in "⎢⎣", (p.family, line, lines[i + 1])
        assert line.count("⎡") == line.count("⎤") and line.count("⎣") == line.count("⎦"), line


@pytest.mark.parametrize(("family", "difficulty", "seed"), [
    ("mlp", 2, 3), ("mlp", 3, 5), ("linear", 3, 2),
    ("batchnorm", 2, 0),  # labels on the middle row
    ("attention", 3, 0),  # labels with brackets: Q[0] = ⎡
    ("attention", 2, 0),  # one matrix too wide with its label: the label goes above it
])
def test_matrices_stay_whole_at_40_columns(family, difficulty, seed):
    from quizforge.drill import generate

    _matrices_whole(generate(family, seed, difficulty), 40)


def test_every_familys_matrices_stay_whole_at_50_columns():
    from quizforge.drill import generate
    from quizforge.drill.family import families

    for name in families():
        for difficulty in (1, 2, 3):
            _matrices_whole(generate(name, 1, difficulty), 50)


def test_reflow_keeps_what_fits_and_splits_what_does_not():
    from quizforge.ui.drill import reflow

    lines = ["X = ⎡ 1  2 ⎤    W = ⎡ 3 ⎤", "    ⎣ 4  5 ⎦        ⎣ 6 ⎦", "text under it"]
    assert reflow(lines, 40) == lines
    assert reflow(lines, 20) == ["X = ⎡ 1  2 ⎤", "    ⎣ 4  5 ⎦", "", "W = ⎡ 3 ⎤", "    ⎣ 6 ⎦",
                                 "text under it"]


# -- short and resized terminals --------------------------------------------------------------------
def test_mcq_verdict_is_also_on_the_panels_bottom_edge():
    from quizforge.decks.model import MCQ
    from quizforge.ui.study import mcq_result

    card = MCQ("m", "Which?", ("alpha", "beta", "gamma"), (1,), explanation="Because " * 30)
    for picked, word in (({1}, "Correct!"), ({0}, "Not quite.")):
        con = Console(width=40, record=True, file=io.StringIO(), color_system=None)
        con.print(mcq_result(card, [0, 1, 2], picked))
        last = con.export_text().rstrip().splitlines()[-1]
        assert last.startswith("╰") and word in last


def test_a_resize_redraws_the_card_at_the_next_key(db):
    deck = Deck("d", "D", (Flashcard("c0", "front 0", "back 0"),), Path("d.yaml"))
    con = Console(file=io.StringIO(), width=80, height=24, force_terminal=True, color_system=None)

    class Resizing(Keys):
        def key(self):
            k = super().key()
            if k == " ":
                con.size = (40, 20)  # the window shrank while the question was shown
            return k

    s = Session(db, [deck], Scheduler(Config(fuzz=False)), StudyOptions(), T0)
    clock = iter(T0 + timedelta(seconds=i) for i in range(100))
    StudyScreen(s, con, Resizing([" ", "q"]), lambda: next(clock)).run()
    last = con.file.getvalue().split(CLEAR)[-1]
    tops = [line for line in last.splitlines() if line.startswith("╭─ Question")]
    assert tops and all(len(t) == 40 for t in tops)  # drawn again at the new width
    assert "front 0" in last and "back 0" in last


def test_viz_footer_at_40_columns_keeps_play_and_quit():
    lines = _viz_frame(40, "paused").splitlines()
    assert lines[-1] == "paused · space play · r restart · q quit"
    assert _viz_frame(40, "running").splitlines()[-1] == "running · space pause · q quit"
