"""Screens in terminals that draw East Asian ambiguous-width characters (σ, ∂, −, ·, and the
box-drawing characters) two cells wide, as many CJK set-ups do.

Every line is measured with such a terminal's width table, written here from Unicode's
EastAsianWidth property (unicodedata): ambiguous (A), wide (W) and fullwidth (F) characters
take two cells, combining marks none. No line may be wider than the screen, and each box's
right edge must stand in one column on every line of the box.
"""

from __future__ import annotations

import io
import json
import random
import unicodedata

import pytest
from rich.console import Console
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.decks.model import MCQ, Flashcard, FormulaCard
from quizforge.ui.study import (
    flashcard_back,
    flashcard_front,
    formula_question,
    mcq_question,
    mcq_result,
)
from quizforge.ui.width import AmbiguousWide, ambiguous_is_wide

WIDTH = 80


def cjk_cells(line: str) -> int:
    """Cells a terminal with ambiguous characters set to wide gives `line`."""
    cells = 0
    for ch in line:
        if unicodedata.combining(ch):
            continue
        cells += 2 if unicodedata.east_asian_width(ch) in ("A", "W", "F") else 1
    return cells


def assert_cjk_shape(text: str, width: int = WIDTH) -> None:
    edge = None  # the right edge's column while inside a box
    for line in text.splitlines():
        assert cjk_cells(line) <= width, line
        if not line or line[0] not in "+|":
            assert edge is None, f"a box left open before {line!r}"
            continue
        column = cjk_cells(line.rstrip())
        assert line.rstrip()[-1] in "+|", line
        if edge is None:
            assert line.startswith("+"), line
            edge = column
        else:
            assert column == edge, (line, column, edge)
            if line.startswith("+"):
                edge = None


def shown(renderable, width: int = WIDTH) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(AmbiguousWide(renderable))
    return console.file.getvalue()


GREEK = ("σ′(z) = σ(z)·(1 − σ(z)) ≤ ¼; ∂L/∂w = ∂L/∂y · ∂y/∂w; αβγδεζηθ ≈ ∇²f → ±∞. "
         "Batch norm: x̂ = (x − μ)/√(σ² + ε), then y = γ·x̂ + β. ") * 3


@pytest.mark.parametrize("width", [80, 60, 40])
def test_study_cards_keep_their_boxes(width):
    card = Flashcard("f", GREEK[:120] + "?", GREEK)
    mcq = MCQ("m", "Which is σ′(z)?", ("σ(z)·(1 − σ(z))", "1 − σ(z)²", "σ(z)² · ∂z", "ε·γ"), (0,))
    formula = FormulaCard("g", "Type ∂/∂z of σ(z) · γ.", "γσ(z)(1 − σ(z))", ("z", "γ"))
    for r in (flashcard_front(card), flashcard_back(card), mcq_question(mcq, [2, 0, 3, 1]),
              mcq_result(mcq, [2, 0, 3, 1], {1}), formula_question(formula)):
        assert_cjk_shape(shown(r, width), width)


def test_without_ambiguous_symbols_nothing_changes_but_the_border_characters():
    plain = flashcard_back(Flashcard("f", "front", "A plain answer."))
    text = shown(plain)
    assert "| A plain answer." in text and text.splitlines()[0].startswith("+- Answer -")


def test_drill_screens_keep_their_shape():
    from quizforge.drill import generate
    from quizforge.ui.drill import render_problem, render_solution

    for family, difficulty in (("mlp", 2), ("batchnorm", 2), ("softmax-ce", 3), ("backprop", 2)):
        problem = generate(family, 7, difficulty)
        assert_cjk_shape(shown(render_problem(problem, 0)))
        assert_cjk_shape(shown(render_solution(problem, 0)))


def test_the_setting_and_the_locale():
    assert ambiguous_is_wide("2", {}) and not ambiguous_is_wide("1", {"LANG": "zh_TW.UTF-8"})
    assert ambiguous_is_wide("auto", {"LANG": "zh_TW.UTF-8"})
    assert ambiguous_is_wide("auto", {"LC_ALL": "ja_JP.UTF-8", "LANG": "en_US.UTF-8"})
    assert not ambiguous_is_wide("auto", {"LANG": "en_US.UTF-8"})
    assert not ambiguous_is_wide("auto", {})


def test_study_session_in_a_wide_ambiguous_terminal(tmp_path, monkeypatch):
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "g.yaml").write_text(
        "deck: g\nname: G\ncards:\n"
        + "".join(f"  - id: c{i}\n    front: {json.dumps(GREEK[i * 7:i * 7 + 90])}\n"
                  f"    back: {json.dumps(GREEK)}\n" for i in range(3)),
        encoding="utf-8")
    monkeypatch.setenv("QUIZFORGE_DECKS", str(decks))
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-03-02T12:00:00Z")
    runner = CliRunner()
    assert runner.invoke(app, ["config", "set", "ambiguous_width", "2"]).exit_code == 0
    r = runner.invoke(app, ["study", "--deck", "g"], input="\n3\n\n3\nq\n")
    assert r.exit_code == 0, r.output
    assert "+- Answer -" in r.stdout
    assert_cjk_shape(r.stdout, 100)  # the tests' COLUMNS
    bad = runner.invoke(app, ["config", "set", "ambiguous_width", "3"])
    assert bad.exit_code != 0 and "ambiguous_width must be auto, 1 or 2, got '3'" in bad.output


def test_random_text_keeps_the_shape():
    rng = random.Random(5)
    alphabet = "abc xyz σ∂−·²≈→αβ∑√ 中文字 "
    for _ in range(50):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 300)))
        width = rng.choice([40, 80])
        assert_cjk_shape(shown(flashcard_back(Flashcard("f", "q", body)), width), width)
