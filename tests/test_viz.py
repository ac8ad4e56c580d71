"""quizforge viz: paths against hand-worked values, surfaces against independent gradients,
frames at a fixed width, the CLI, the live screen in a real pseudo-terminal, and the page in a
real headless browser (its JavaScript update rules against the Python paths)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import restore_sigint
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.viz import SURFACES, Settings, VizError, get_surface, surface_from_formula
from quizforge.viz.trajectory import trajectories

runner = CliRunner()
NOTES = get_surface()  # f(x, y) = x² + 3y² + 2xy + 5


@pytest.fixture(autouse=True)
def _width_100(monkeypatch):
    set_width(monkeypatch, 100)


def set_width(monkeypatch, width: int) -> None:
    from quizforge.cli import common

    for console in (common.out, common.err):  # made at import: COLUMNS alone is not enough
        monkeypatch.setattr(console, "width", width)


def run(*args: str):
    return runner.invoke(app, ["viz", *args], env={"NO_COLOR": "1"})


def path(rule: str, steps: int, surface=NOTES, **kw):
    (t,) = trajectories(surface, Settings(optimizers=(rule,), steps=steps, **kw))
    return t


# -- hand-worked values on the notes' surface, from (4, 4) -----------------------------------
# ∇f = (2x + 2y, 6y + 2x); at (4, 4): f = 16 + 48 + 32 + 5 = 101, ∇f = (16, 32).


def test_notes_start_readout():
    p0 = path("sgd", 1).points[0]
    assert (p0.iter, p0.loss, p0.x, p0.y) == (0, 101.0, 4.0, 4.0)


def test_one_sgd_step_lr_0_1_matches_the_hand_value():
    # (4, 4) − 0.1·(16, 32) = (2.4, 0.8); f = 5.76 + 1.92 + 3.84 + 5 = 16.52
    p1 = path("sgd", 1, lr=0.1).points[1]
    assert p1.iter == 1
    assert p1.x == pytest.approx(2.4, abs=1e-12) and p1.y == pytest.approx(0.8, abs=1e-12)
    assert p1.loss == pytest.approx(16.52, abs=1e-12)


def test_momentum_two_steps_by_hand():
    # PyTorch form: b1 = g0 = (16, 32) → (2.4, 0.8); g1 = (6.4, 9.6),
    # b2 = 0.9·(16, 32) + (6.4, 9.6) = (20.8, 38.4) → (2.4 − 2.08, 0.8 − 3.84) = (0.32, −3.04)
    p2 = path("momentum", 2, lr=0.1, momentum=0.9).points[2]
    assert (p2.x, p2.y) == pytest.approx((0.32, -3.04), abs=1e-12)


def test_adam_and_rmsprop_first_steps_by_hand():
    # Adam's first step is lr·sign(g) (up to ε): m̂ = g, v̂ = g²
    a1 = path("adam", 1, lr=0.1).points[1]
    assert (a1.x, a1.y) == pytest.approx((3.9, 3.9), abs=1e-8)
    # RMSprop: v = 0.01·g², so the step is lr·g/(0.1·|g|) = 10·lr per coordinate
    r1 = path("rmsprop", 1, lr=0.1).points[1]
    assert (r1.x, r1.y) == pytest.approx((3.0, 3.0), abs=1e-7)


def test_a_diverging_path_stops_and_says_so():
    t = path("sgd", 200, lr=1.0)  # lr·λ_max ≈ 6.8 > 2: every step grows
    assert t.diverged and len(t.points) < 201


# -- surfaces against independent gradients --------------------------------------------------
@pytest.mark.parametrize("name", sorted(SURFACES))
def test_builtin_gradients_match_central_differences(name):
    s = SURFACES[name]
    h = 1e-6
    for x, y in [(0.3, -1.2), (-1.5, 2.0), (2.0, 0.5), (-3.1, -2.7)]:
        fd = ((s.f(x + h, y) - s.f(x - h, y)) / (2 * h), (s.f(x, y + h) - s.f(x, y - h)) / (2 * h))
        assert s.grad(x, y) == pytest.approx(fd, rel=1e-6, abs=1e-5)


def test_minima_are_stationary():
    for s in SURFACES.values():
        for m in s.minima:
            assert s.grad(*m) == pytest.approx((0, 0), abs=1e-4)


def test_formula_gradient_matches_sympy():
    import sympy as sp

    from quizforge.drill.parse import to_sympy

    text = "x^2 + 10y^2 + exp(x/3) - xy"
    s = surface_from_formula(text)
    x, y = sp.symbols("x y")
    expr = to_sympy(s.tree, {"x": x, "y": y})
    for px, py in [(4, 4), (-1.5, 0.25), (0.1, -3)]:
        exact = [float(sp.diff(expr, v).subs({x: px, y: py})) for v in (x, y)]
        assert s.grad(px, py) == pytest.approx(exact, rel=1e-7)
    assert s.loss(1, 2) == pytest.approx(1 + 40 + float(sp.exp(sp.Rational(1, 3))) - 2)


@pytest.mark.parametrize("text, reason", [
    ("x^^2", "could not read"),
    ('__import__("os")', "names starting with an underscore are not allowed"),
    ("diff(x)", "diff() is not allowed"),
    ("z + 1", "unknown name 'z'"),
    ("3", "the formula must use x or y"),
    ("", "the formula is empty"),
    ("x.real", "attribute access is not allowed"),
])
def test_bad_formulas_are_refused_with_a_reason(text, reason):
    with pytest.raises(VizError) as e:
        surface_from_formula(text)
    assert str(e.value).startswith(f"--f {text!r}: ") and reason in str(e.value)


# -- frames ----------------------------------------------------------------------------------
def frame_text(*args: str) -> str:
    result = run("--no-animate", *args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("width", [80, 120])
def test_frame_fits_the_width(width, monkeypatch):
    set_width(monkeypatch, width)
    text = frame_text()
    lines = text.splitlines()
    assert max(cell_len(line) for line in lines) <= width
    assert any(cell_len(line) == width for line in lines)  # the plot uses the room it has


def test_no_color_marks_are_distinct_glyphs():
    from quizforge.ui.viz import MARKS, MINIMUM, START

    glyphs = [g for mark, small, _ in MARKS.values() for g in (mark, small)] + [START, MINIMUM]
    assert len(set(glyphs)) == len(glyphs)
    assert all(not 0x2800 <= ord(g) <= 0x28FF for g in glyphs)  # contour lines are braille
    assert all(cell_len(g) == 1 for g in glyphs)
    # adam and adamw (λ = 0.01) nearly coincide, so they are looked at apart
    for group in ("sgd,momentum,nesterov,adagrad", "rmsprop,adam", "adamw"):
        text = frame_text("-o", group)
        assert "\x1b[" not in text
        lines = text.splitlines()
        legend = next(i for i, line in enumerate(lines) if START + " start" in line)
        plot = "\n".join(lines[1:legend])
        for name in group.split(","):
            assert MARKS[name][0] in plot, name  # every path is visible without colour
        assert START in plot
        assert MARKS[group.split(",")[0]][1] in plot  # the steps between iterates
        assert any(0x2800 < ord(c) <= 0x28FF for c in plot)
    assert MINIMUM in frame_text("--steps", "3")  # (later, a path may sit on it)


def test_frame_renders_without_a_terminal_and_honours_colour():
    from quizforge.ui.viz import final_frame, scene_for

    settings = Settings(optimizers=("sgd", "adam"), steps=5)
    scene = scene_for(NOTES, settings, trajectories(NOTES, settings))
    buf = io.StringIO()
    console = Console(file=buf, width=90, force_terminal=True, color_system="truecolor",
                      no_color=False)
    console.print(final_frame(scene, console))
    assert "\x1b[38;" in buf.getvalue()  # coloured on a colour terminal


# -- the command -----------------------------------------------------------------------------
def test_no_animate_prints_the_notes_readout():
    result = run("--no-animate", "-o", "sgd", "--lr", "0.1", "--steps", "1")
    assert result.exit_code == 0, result.output
    assert "f(x, y) = x² + 3y² + 2xy + 5 · lr 0.1 · start (4, 4) · step 1/1" in result.output
    row = next(line for line in result.output.splitlines() if line.startswith("● sgd"))
    assert row.split()[2:] == ["1", "16.5200", "2.4000", "0.8000"]


def test_not_a_terminal_prints_the_final_frame_and_table():
    result = run("-o", "sgd", "-o", "adam", "--steps", "3")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()
            if re.match(r"[●◆] \w+ +\d+ ", line)]
    assert [(r[1], r[2]) for r in rows] == [("sgd", "3"), ("adam", "3")]
    assert "space pause" not in result.output  # no key hints when nothing listens for keys


def test_json_paths_equal_the_core():
    result = run("--json", "-o", "momentum,adamw", "--steps", "4", "--start", "-3,2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = trajectories(NOTES, Settings(optimizers=("momentum", "adamw"), steps=4,
                                            start=(-3.0, 2.0)))
    assert data["paths"] == [t.to_dict() for t in expected]


def test_custom_formula_and_surfaces_run():
    result = run("--no-animate", "--f", "x^2 + 10y^2", "--steps", "5")
    assert result.exit_code == 0, result.output
    assert "f(x, y) = x^2 + 10y^2" in result.output
    for name in SURFACES:
        assert run("--no-animate", "--surface", name, "--steps", "5").exit_code == 0


def test_bad_f_is_refused_with_a_clear_message_and_exit_2():
    result = run("--f", "x^2 + import os")
    assert result.exit_code == 2
    assert result.output.startswith("Error: --f 'x^2 + import os': ")
    assert "Traceback" not in result.output and len(result.output.splitlines()) == 1
    result = run("--f", "log(x - 5)")
    assert result.exit_code == 2
    assert result.output == ("Error: f is undefined at the start point (4, 4); pick another "
                             "with --start X,Y\n")


def test_every_bad_option_is_reported_at_once():
    result = run("-o", "sgd,lion", "--lr", "-1", "--start", "4", "--surface", "bowl")
    assert result.exit_code == 2
    assert result.output == (
        "Error: --start must be two numbers like 4,4 (got '4'); --surface: unknown surface "
        "'bowl' (available: quadratic, rosenbrock, saddle, himmelblau); unknown optimizer "
        "'lion' (available: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw); --lr must "
        "be a positive number (got -1)\n")


def test_help_lists_viz():
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "100"})
    assert "viz" in result.output


# -- the live screen in a real pseudo-terminal -----------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_live_screen_keys_in_a_pty():
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "COLUMNS": "100", "LINES": "36", "NO_COLOR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "quizforge", "viz", "--steps", "400"],
                          env=env, encoding="utf-8", timeout=90, dimensions=(36, 100),
                          preexec_fn=restore_sigint)
    child.expect("running · space pause")
    child.send(" ")
    child.expect("paused · space play")
    k = int(re.findall(r"step (\d+)/400", child.before)[-1])
    assert 0 < k < 400
    child.send("\x1b[C")  # →: exactly one step
    child.expect(rf"step {k + 1}/400")
    child.expect("paused")
    child.send("\x1b[C")
    child.expect(rf"step {k + 2}/400")
    child.send("r")
    child.expect(r"step 0/400")
    child.expect("running")
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")


# -- the page --------------------------------------------------------------------------------
def test_page_is_self_contained(tmp_path):
    page = tmp_path / "viz.html"
    result = run("--html", str(page))
    assert result.exit_code == 0, result.output
    html = page.read_text("utf-8")
    assert not re.search(r"\b(src|href)\s*=", html)  # no scripts, styles or images fetched
    assert "http://" not in html and "https://" not in html and "@import" not in html
    assert html.count("<script") == 1 and "<canvas" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def dump_dom(page: Path, query: str, *flags: str) -> str:
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", *flags, "--dump-dom",
         f"{page.as_uri()}?{query}"],
        capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def readout(dom: str) -> dict[str, dict[str, float]]:
    rows = re.findall(r'<tr data-opt="(\w+)" data-iter="(\d+)" data-loss="([^"]+)" '
                      r'data-x="([^"]+)" data-y="([^"]+)"', dom)
    return {o: {"iter": int(i), "loss": float(loss), "x": float(x), "y": float(y)}
            for o, i, loss, x, y in rows}


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: "
                    "apt-get install -y chromium); the page's JavaScript is not checked")
@pytest.mark.parametrize("args, query, surface, settings", [
    ((), "x=4&y=4&opt=sgd&lr=0.1&steps=3", NOTES,
     Settings(optimizers=("sgd",), steps=3)),
    ((), "x=-3&y=2.5&opt=sgd,momentum,nesterov,adagrad,rmsprop,adam,adamw&lr=0.05&steps=40",
     NOTES, Settings(optimizers=("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
                                 "adamw"), start=(-3.0, 2.5), lr=0.05, steps=40)),
    ((), "surface=rosenbrock&opt=momentum,adam&steps=150", SURFACES["rosenbrock"],
     Settings(optimizers=("momentum", "adam"), start=(-1.5, 2.0), lr=0.001, steps=150)),
    (("--f", "x^2 + 10y^2 + sigmoid(x y)"), "x=3&y=-1&opt=rmsprop,adam&lr=0.02&steps=30",
     surface_from_formula("x^2 + 10y^2 + sigmoid(x y)"),
     Settings(optimizers=("rmsprop", "adam"), start=(3.0, -1.0), lr=0.02, steps=30)),
    ((), "opt=sgd&lr=1&steps=100", NOTES, Settings(optimizers=("sgd",), lr=1.0, steps=100)),
])
def test_page_in_headless_chromium_agrees_with_python(tmp_path, args, query, surface, settings):
    page = tmp_path / "viz.html"
    assert run(*args, "--html", str(page)).exit_code == 0
    dom = dump_dom(page, query)
    got = readout(dom)
    expected = trajectories(surface, settings)
    assert list(got) == list(settings.optimizers)
    for t in expected:
        last, row = t.points[-1], got[t.optimizer]
        assert row["iter"] == last.iter
        for key in ("loss", "x", "y"):
            assert row[key] == pytest.approx(getattr(last, key), rel=1e-9, abs=1e-12), \
                (t.optimizer, key)
    # the page's own check of its opening settings against the embedded Python paths
    assert re.search(r'id="agree" data-ok="true"', dom)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_page_readout_uses_the_notes_format(tmp_path):
    page = tmp_path / "viz.html"
    assert run("--html", str(page)).exit_code == 0
    dom = dump_dom(page, "x=4&y=4&opt=sgd&lr=0.1&steps=1")
    assert "<td>1</td><td>16.5200</td><td>2.4000</td><td>0.8000</td>" in dom


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_page_controls_click_step_reset_start(tmp_path):
    page = tmp_path / "viz.html"
    assert run("--html", str(page)).exit_code == 0
    # a click on the contour at (1, 2) moves the start there; two presses of Step
    dom = dump_dom(page, "opt=sgd,adam&lr=0.1&steps=30&press=click:1:2,step,step")
    got = readout(dom)
    for t in trajectories(NOTES, Settings(optimizers=("sgd", "adam"), start=(1.0, 2.0),
                                          steps=30)):
        p = t.points[2]
        assert got[t.optimizer]["iter"] == 2
        assert (got[t.optimizer]["x"], got[t.optimizer]["y"]) == pytest.approx((p.x, p.y),
                                                                                rel=1e-9)
    assert "start (1, 2)" in dom
    # Reset goes back to iter 0; Start animates to the last step (virtual time runs the timer)
    assert readout(dump_dom(page, "opt=sgd&steps=30&press=reset"))["sgd"]["iter"] == 0
    dom = dump_dom(page, "opt=sgd&steps=30&press=reset,start", "--virtual-time-budget=20000")
    assert readout(dom)["sgd"]["iter"] == 30 and ">Start</button>" in dom


def test_viz_help_names_values_not_python_types():
    r = runner.invoke(app, ["viz", "--help"], env={"COLUMNS": "100"})
    assert r.exit_code == 0
    for placeholder in ("<bool>", "<int>", "<str>", "<float>", "<list", "<Path", "<path"):
        assert placeholder not in r.stdout, placeholder
    for option in ("--optimizer", "--lr", "--betas", "--start", "--surface", "--f",
                   "--no-animate", "--html"):
        assert option in r.stdout


def test_core_is_pure_and_light():
    code = ("import sys\n"
            "import quizforge.viz, quizforge.viz.contour, quizforge.viz.page\n"
            "from quizforge.viz import get_surface, Settings, trajectories\n"
            "trajectories(get_surface(), Settings())\n"
            "print(sorted({'rich', 'typer', 'numpy', 'sympy', 'quizforge.ui.viz'} "
            "& set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
