"""Drill screens as renderables (80 columns, no TTY), the one-problem loop, and a real PTY run."""

from __future__ import annotations

import io
import os
import sys

import pytest
from helpers import restore_sigint
from rich.console import Console

from quizforge.drill import generate, grade
from quizforge.ui.drill import (
    DrillSummary,
    render_graph,
    render_problem,
    render_solution,
    render_summary,
    render_verdict,
    run_drill,
    run_problem_interactive,
)


def console() -> Console:
    return Console(file=io.StringIO(), width=80, record=True, color_system=None)


def text_of(*renderables) -> str:
    c = console()
    for r in renderables:
        c.print(r)
    return c.export_text()


def script(*lines):
    it = iter(lines)
    return lambda prompt: next(it, None)


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_screens_fit_80_columns(difficulty):
    for seed in range(12):
        for form in ("number", "steps", "expression"):
            p = generate("backprop", seed, difficulty, form)
            out = text_of(render_problem(p), render_solution(p),
                          render_solution(p, len(p.questions) - 1))
            widths = [len(line.rstrip()) for line in out.splitlines()]
            assert max(widths) <= 80, (seed, form, out)


def test_graph_drawing_shows_fan_out():
    p = generate("backprop", 2, 2)  # z3 feeds z4 and z5
    drawing = render_graph(p).plain
    assert "z3 ─┬─▶ z4  ◆ fan-out ×2" in drawing
    assert "\n    └─▶ z5\n" in drawing
    assert drawing.splitlines()[-1].startswith("L")


def test_problem_screen_lists_values_equations_and_question():
    p = generate("backprop", 2, 2)
    out = text_of(render_problem(p))
    assert "b = 3  y = -0.7  a = -2  v = 0.4" in out
    assert "z1 = σ(v)" in out and "σ(t) = 1/(1 + e^−t)" in out
    assert "Compute ∂L/∂v at these values (3 significant figures)." in out


def test_solution_tables_sum_fan_out():
    p = generate("backprop", 2, 2)
    out = text_of(render_solution(p))
    assert "Forward pass" in out and "Backward pass (from L back to v)" in out
    assert "z3 ◆" in out and "Σ" in out
    assert "v reaches L by 2 paths" in out
    assert "∂L/∂v = -1.982" in out


def test_verdict_screens():
    p = generate("backprop", 2, 2)
    assert "✓ Correct" in text_of(render_verdict(grade(p, "-1.98")))
    wrong = text_of(render_verdict(grade(p, "1.98")))
    assert "✗ Sign error: the size is right" in wrong
    rejected = text_of(render_verdict(grade(p, "import os")))
    assert "⚠ Could not check that: the Python keyword 'import'" in rejected


def test_one_problem_right_first_time():
    p = generate("backprop", 7, 1)
    c = console()
    ticks = iter([0.0, 12.5])
    a = run_problem_interactive(p, c, script(f"{p.expected_value(0):.3g}"),
                                clock=lambda: next(ticks))
    assert a.correct and a.first_try and a.tries == 1 and not a.quit
    assert a.seconds == 12.5 and a.score == 1.0 and a.skills == p.questions[0].skills
    assert "Worked solution" in c.export_text()


def test_three_wrong_tries_reveal_the_solution():
    p = generate("backprop", 7, 1)
    a = run_problem_interactive(p, console(), script("1000", "2000", "3000"))
    assert not a.correct and a.revealed and a.tries == 3


def test_menu_hint_then_quit():
    p = generate("backprop", 7, 2)
    c = console()
    a = run_problem_interactive(p, c, script("?", "h", "h", "q"))
    assert a.quit and a.hints == 2 and not a.attempted
    out = c.export_text()
    assert "reaches L by" in out and "the local gradients you need" in out


def test_steps_form_partial_credit():
    p = generate("backprop", 7, 2, "steps")
    steps = p.steps(0)
    answers = [f"{p.gradients[n]:.4g}" for n in steps]
    answers[-1] = "0"  # last one wrong
    c = console()
    a = run_problem_interactive(p, c, script("oops(", *answers))
    assert a.score == pytest.approx((len(steps) - 1) / len(steps))
    assert not a.correct and a.tries == len(steps)
    assert f"{len(steps) - 1}/{len(steps)} steps right." in c.export_text()


def test_drill_summary_and_interrupt():
    problems = (generate("backprop", s, 1) for s in range(3))
    first = generate("backprop", 0, 1)
    calls = iter([f"{first.expected_value(0):.4g}"])

    def read(prompt):
        try:
            return next(calls)
        except StopIteration:
            raise KeyboardInterrupt from None

    s = run_drill(problems, console(), read, count=3)
    assert s.interrupted and len(s.attempted) == 1
    out = text_of(render_summary(s))
    assert "1/1 correct (1 at the first try)" in out and "interrupted" in out
    assert "No problems attempted" in text_of(render_summary(DrillSummary()))


def test_study_hook_runs_one_card():
    from quizforge.decks.model import GeneratedCard
    from quizforge.drill.study import run_generated_card

    card = GeneratedCard("bp-1", "backprop", 1, "number", "Warm-up")
    p = generate("backprop", 99, 1)

    class Reader:
        interactive = False

        def __init__(self, lines):
            self.lines = list(lines)

        def line(self, prompt=""):
            return self.lines.pop(0) if self.lines else None

    attempt = run_generated_card(card, console(), Reader([f"{p.expected_value(0):.4g}"]), 99)
    assert attempt.correct and attempt.problem.seed == 99 and attempt.tries == 1
    assert run_generated_card(card, console(), Reader(["q"]), 99) is None


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_real_terminal_session_and_ctrl_c():
    pexpect = pytest.importorskip("pexpect")
    p = generate("backprop", 3, 1)
    env = {**os.environ, "COLUMNS": "80", "LINES": "40", "NO_COLOR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "quizforge", "drill", "backprop", "--seed", "3",
                                           "-n", "2"], env=env, encoding="utf-8", timeout=15,
                          dimensions=(40, 80), preexec_fn=restore_sigint)
    child.expect("answer> ")
    child.sendline("2(wx")
    child.expect("Could not check that")
    child.expect("answer> ")
    child.sendline(f"{p.expected_value(0):.4g}")
    child.expect("Worked solution")
    child.expect("answer> ")  # the second problem
    child.sendintr()
    child.expect("Drill summary")
    child.expect("1/1 correct")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in (child.before or "")
