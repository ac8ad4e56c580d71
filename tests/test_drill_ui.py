"""Drill screens as renderables (80 columns, no TTY), the one-problem loop, and a real PTY run."""

from __future__ import annotations

import io
import os
import re
import sys

import pytest
from helpers import restore_sigint
from rich.cells import cell_len
from rich.console import Console

from quizforge.drill import generate, grade
from quizforge.drill.family import families
from quizforge.ui.drill import (
    DrillSummary,
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


def first(difficulty, pred, form="number"):
    """The first seed whose problem satisfies `pred` (keeps tests independent of seed maps)."""
    for seed in range(500):
        p = generate("backprop", seed, difficulty, form)
        if pred(p):
            return p
    raise AssertionError("no such problem")


def fan_out(p) -> bool:
    return len(p.graph.paths(p.questions[0].wrt)) > 1


@pytest.mark.parametrize("family", list(families()))
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_screens_fit_80_columns(family, difficulty):
    fam = families()[family]
    for seed in range(8):
        for form in fam.forms:
            p = generate(family, seed, difficulty, form)
            out = text_of(render_problem(p), render_solution(p),
                          render_solution(p, len(p.questions) - 1))
            widths = [cell_len(line.rstrip()) for line in out.splitlines()]  # x̂ is one cell
            assert max(widths) <= 80, (seed, form, out)


def test_fan_out_is_drawn_as_a_fork():
    p = first(3, lambda p: "tied weight" in p.title)
    out = text_of(render_problem(p))
    assert "w ─┬─▶ z  ◆ w feeds 2 nodes" in out and "└─▶ o" in out


def test_problem_screen_lists_values_equations_and_question():
    p = first(2, lambda p: "cross-entropy" in p.title)
    out = text_of(render_problem(p))
    assert "Given x = " in out and "p = σ(z)" in out and "σ(t) = 1/(1 + e^−t)" in out
    assert "(so z = " in out  # the friendly argument is stated
    assert "Compute ∂L/∂p at these values (3 significant figures, or a fraction)." in out


def test_solution_tables_sum_fan_out():
    p = first(3, lambda p: "tied weight" in p.title and fan_out(p))
    out = text_of(render_solution(p))
    assert "Forward pass" in out and "Backward pass (from L back to w)" in out
    assert "w ◆" in out and "Σ" in out
    assert "w reaches L by 2 paths" in out
    assert f"∂L/∂w = {p.expected_text(0)}" in out


def test_verdict_screens():
    p = first(1, lambda p: p.expected_value(0) not in (0, 1, -1))
    e = p.expected_value(0)
    assert "✓ Correct" in text_of(render_verdict(grade(p, p.expected_text(0))))
    wrong = text_of(render_verdict(grade(p, repr(-e))))
    assert "✗ Sign error: the size is right" in wrong
    close = text_of(render_verdict(grade(p, repr(e * 1.03))))
    assert "≈ Close, but not within 3 significant figures" in close
    rejected = text_of(render_verdict(grade(p, "import os")))
    assert "⚠ Could not check that: the Python keyword 'import'" in rejected


def test_one_problem_right_first_time():
    p = generate("backprop", 7, 1)
    c = console()
    ticks = iter([0.0, 12.5])
    a = run_problem_interactive(p, c, script(f"{p.expected_value(0):.3g}"),
                                clock=lambda: next(ticks))
    assert a.correct and a.first_try and a.tries == 1 and not a.quit and a.rating == "good"
    assert a.seconds == 12.5 and a.score == 1.0 and a.skills == p.questions[0].skills
    assert "Worked solution" in c.export_text()


def test_right_after_a_retry_is_solved_not_correct():
    p = generate("backprop", 7, 1)
    a = run_problem_interactive(p, console(), script("1000", p.expected_text(0)))
    assert a.solved and not a.correct and a.tries == 2 and a.rating == "hard"


def test_right_after_a_hint_is_solved_not_correct():
    p = generate("backprop", 7, 1)
    a = run_problem_interactive(p, console(), script("h", p.expected_text(0)))
    assert a.solved and not a.correct and a.tries == 1 and a.hints == 1 and a.rating == "hard"


def test_close_answer_is_asked_again_and_not_counted():
    p = first(1, lambda p: abs(p.expected_value(0)) >= 2)
    c = console()
    a = run_problem_interactive(p, c, script(repr(p.expected_value(0) * 1.04),
                                             p.expected_text(0)))
    assert a.correct and a.tries == 1 and a.answers == (p.expected_text(0),)
    assert "keep 3 significant figures" in c.export_text()


def test_three_wrong_tries_reveal_the_solution():
    p = generate("backprop", 7, 1)
    a = run_problem_interactive(p, console(), script("1000", "2000", "3000"))
    assert not a.correct and a.revealed and a.tries == 3 and a.rating == "again"


def test_quit_before_answering_is_not_an_attempt():
    p = generate("backprop", 7, 2)
    c = console()
    a = run_problem_interactive(p, c, script("?", "h", "h", "q"))
    assert a.quit and a.hints == 2 and not a.attempted
    out = c.export_text()
    assert "Hint:" in out and "The local gradients you need" in out


def test_steps_form_partial_credit():
    p = generate("backprop", 7, 2, "steps")
    steps = p.steps(0)
    answers = [t_.label and f"{t_.value:.4g}" for t_ in steps]
    answers[-1] = "1000"  # last one wrong
    c = console()
    a = run_problem_interactive(p, c, script("oops(", *answers))
    assert a.score == pytest.approx((len(steps) - 1) / len(steps))
    assert not a.correct and a.tries == len(steps)
    assert f"{len(steps) - 1}/{len(steps)} steps right." in c.export_text()


@pytest.mark.parametrize("family", ["softmax-ce", "linear", "mlp", "batchnorm"])
def test_tensor_families_run_interactively(family):
    p = generate(family, 3, 2)
    c = console()
    a = run_problem_interactive(p, c, script(p.expected_text(0)))
    assert a.correct, c.export_text()
    out = c.export_text()
    assert "Worked solution" in out and p.family in out


def test_drill_summary_and_interrupt():
    problems = (generate("backprop", s, 1) for s in range(3))
    first_p = generate("backprop", 0, 1)
    calls = iter([first_p.expected_text(0)])

    def read(prompt):
        try:
            return next(calls)
        except StopIteration:
            raise KeyboardInterrupt from None

    s = run_drill(problems, console(), read, count=3)
    assert s.interrupted and len(s.attempted) == 1
    out = text_of(render_summary(s))
    assert "1/1 right at the first try" in out and "interrupted" in out
    assert "No problems attempted" in text_of(render_summary(DrillSummary()))


def test_study_hook_runs_one_card():
    from quizforge.decks.model import GeneratedCard
    from quizforge.ui.drill import run_generated_card

    card = GeneratedCard("bp-1", "backprop", 1, "number", "Warm-up")
    p = generate("backprop", 99, 1)

    class Reader:
        interactive = False

        def __init__(self, lines):
            self.lines = list(lines)

        def line(self, prompt=""):
            return self.lines.pop(0) if self.lines else None

    attempt = run_generated_card(card, console(), Reader([p.expected_text(0)]), 99)
    assert attempt.correct and attempt.problem.seed == 99 and attempt.tries == 1
    quit_ = run_generated_card(card, console(), Reader(["q"]), 99)
    assert quit_.quit and not quit_.attempted


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_real_terminal_session_and_ctrl_c():
    pexpect = pytest.importorskip("pexpect")
    p = generate("backprop", 3, 1)
    env = {**os.environ, "COLUMNS": "80", "LINES": "40", "NO_COLOR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "quizforge", "drill", "backprop", "--seed", "3",
                                           "-n", "2"], env=env, encoding="utf-8", timeout=90,
                          dimensions=(40, 80), preexec_fn=restore_sigint)
    child.expect("answer> ")
    child.sendline("2(wx")
    child.expect("Could not check that")
    child.expect("answer> ")
    child.sendline(p.expected_text(0))
    child.expect("Worked solution")
    child.expect("Enter: next · q: quit")  # the solution stays on screen until asked
    child.sendline("")
    child.expect("answer> ")  # the second problem
    child.sendintr()
    child.expect("Drill summary")
    child.expect("1/1 right at the first try")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in (child.before or "")


@pytest.mark.parametrize("width", [40, 60])
def test_narrow_terminals_stack_and_list_instead_of_cutting(width):
    def screen(p, w):
        c = Console(file=io.StringIO(), width=w, record=True, color_system=None)
        c.print(render_problem(p))
        c.print(render_solution(p))
        return c.export_text()

    for family in families():
        p = generate(family, 2, 3)
        out = screen(p, width)
        assert max(cell_len(line.rstrip()) for line in out.splitlines()) <= width
        # nothing is cut to an ellipsis: the only "…" are the ones the text itself has
        assert out.count("…") == screen(p, 200).count("…"), (family, out)


def test_one_minus_sign_and_superscripts_on_every_screen():
    import sympy as sp

    from quizforge.drill.symbolic import pretty

    a, w, c = sp.symbols("a w c")
    assert pretty(w**4 * (a + c) ** 3) == "w⁴·(a + c)³"
    assert pretty(2 * a * (1 - a**2)) == "2·a·(1 − a²)"
    for family in families():
        p = generate(family, 5, 2)
        out = text_of(render_problem(p), render_solution(p),
                      render_verdict(grade(p, p.expected_text(0))))
        assert not re.search(r"(?<![\w)\]])-[0-9]", out), (family, out)


def test_an_unreadable_answer_shows_the_syntax_help_once():
    from quizforge.drill.parse import SYNTAX_HELP

    out = text_of(render_verdict(grade(generate("backprop", 7, 1), "2*(w")))
    assert " ".join(out.split()).count(" ".join(SYNTAX_HELP.split(",")[1].split())) == 1


def test_summary_lists_each_missed_seed_once_and_replays_the_form():
    from quizforge.drill.attempt import Attempt

    def miss(seed, q):
        return Attempt(generate("backprop", seed, 2, "expression"), q, False, False, 1, 0,
                       False, False, 1.0, 0.0)

    s = DrillSummary(attempts=[miss(7, 0), miss(7, 1), miss(9, 0), miss(9, 1), miss(11, 0)])
    out = render_summary(s).renderable.plain  # the summary's text, before the panel wraps it
    assert "quizforge drill backprop -d 2 -f expression -n 1 --seed 7 -q 0" in out
    assert "(also missed: 9, 11)" in out
