"""`quizforge drill backprop` through the CLI: JSON, --check exit codes, scripted sessions, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from quizforge.cli import app, common
from quizforge.drill import generate

runner = CliRunner()


@pytest.fixture(autouse=True)
def _width_80(monkeypatch):
    for console in (common.out, common.err):
        monkeypatch.setattr(console, "width", 80)


def drill(*args, input=None):
    return runner.invoke(app, ["drill", "backprop", *args], input=input)


def test_json_lines_schema():
    r = drill("--seed", "10", "-d", "2", "-n", "3", "--json")
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["seed"] for row in rows] == [10, 11, 12]
    for row in rows:
        assert {"family", "seed", "difficulty", "skills", "prompt", "nodes", "loss", "values",
                "inputs", "loss_scalar", "questions"} <= row.keys()
        assert row["family"] == "backprop" and row["difficulty"] == 2
        for n in row["nodes"]:
            assert {"name", "op", "inputs", "expr"} <= n.keys()
        for q in row["questions"]:
            assert {"wrt", "form", "shape", "expected", "value"} <= q.keys()
            assert q["form"] == "number" and q["shape"] == []
        assert set(row["values"]) == set(row["leaves"]) == set(row["inputs"])


@pytest.mark.parametrize("family", ["softmax-ce", "linear", "mlp", "batchnorm"])
def test_json_and_check_for_every_family(family):
    r = runner.invoke(app, ["drill", family, "--seed", "4", "-d", "2", "--json"])
    assert r.exit_code == 0, r.output
    row = json.loads(r.stdout.splitlines()[0])
    assert {"family", "seed", "difficulty", "prompt", "inputs", "loss_scalar",
            "questions"} <= row.keys()
    q = row["questions"][0]
    assert {"wrt", "form", "shape", "expected", "value"} <= q.keys()
    r = runner.invoke(app, ["drill", family, "--seed", "4", "-d", "2", "--check",
                            q["expected"]])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["drill", family, "--seed", "4", "-d", "2", "--check", "[[1, 2"])
    assert r.exit_code == 2 and r.stderr.startswith("Error: answer rejected: ")


def test_family_list():
    r = runner.invoke(app, ["drill"])
    assert r.exit_code == 0, r.output
    for name in ("backprop", "softmax-ce", "linear", "mlp", "batchnorm"):
        assert name in r.stdout
    r = runner.invoke(app, ["drill", "--json"])
    data = json.loads(r.stdout)
    names = [f["family"] for f in data["families"]]
    assert names[:5] == ["backprop", "softmax-ce", "linear", "mlp", "batchnorm"]
    assert data["families"][0]["forms"] == ["number", "expression", "steps"]
    assert all(f["difficulties"] == [1, 2, 3] for f in data["families"])


def test_dot_output():
    r = drill("--seed", "4", "-n", "1", "--dot")
    assert r.exit_code == 0
    assert r.stdout.startswith("digraph backprop {") and '-> "L";' in r.stdout


def test_check_exit_codes():
    p = generate("backprop", 23, 2)
    value = p.expected_value(0)
    assert value not in (0, 1, -1)
    r = drill("--seed", "23", "-d", "2", "--check", f"{value:.4g}")
    assert r.exit_code == 0, r.output
    verdict = json.loads(r.stdout)
    assert verdict["correct"] is True and verdict["value"] == pytest.approx(value)
    assert {"correct", "expected", "feedback", "value"} <= verdict.keys()

    r = drill("--seed", "23", "-d", "2", "--check", f"{-value:.4g}")
    assert r.exit_code == 1
    verdict = json.loads(r.stdout)
    assert verdict["correct"] is False and verdict["mistake"] == "sign"

    r = drill("--seed", "23", "-d", "2", "--check", f"{value * 1.03:.4g}")
    assert r.exit_code == 1
    verdict = json.loads(r.stdout)
    assert verdict["close"] is True and verdict["correct"] is False

    r = drill("--seed", "23", "-d", "2", "--check", "__import__('os').system('true')")
    assert r.exit_code == 2
    verdict = json.loads(r.stdout)
    assert verdict["rejected"] is True and "underscore" in verdict["reason"]
    assert r.stderr == ("Error: answer rejected: names starting with an underscore are not "
                        "allowed ('__import__')\n")


def test_check_other_question_and_expression_form():
    p = generate("backprop", 8, 1, "expression")
    r = drill("--seed", "8", "-f", "expression", "--question", "1", "--check",
              p.expected_text(1))
    assert r.exit_code == 0, r.output
    r = drill("--seed", "8", "--question", "9", "--check", "1")
    assert r.exit_code == 2
    assert r.stderr == "Error: --question must be 0, 1 or 2 (got 9)\n"


@pytest.mark.parametrize(("args", "message"), [
    (["-d", "7"], "Error: --difficulty must be 1, 2, 3 (got 7)\n"),
    (["--count", "-1"], "Error: --count must be at least 1 (got -1)\n"),
    (["--form", "essay"], ("Error: --form must be number or expression or steps for backprop "
                          "(got 'essay')\n")),
    (["--check", "1"], "Error: --check needs --seed (and the same --difficulty and --form)\n"),
])
def test_bad_options_are_one_line_errors(args, message):
    r = drill(*args)
    assert r.exit_code == 2
    assert r.stderr == message
    assert "Traceback" not in r.output


def test_unknown_generator():
    r = runner.invoke(app, ["drill", "gradients"])
    assert r.exit_code == 2
    from quizforge.drill.family import families

    assert r.stderr == (f"Error: unknown drill family 'gradients' (available: "
                        f"{', '.join(families())})\n")
    r = runner.invoke(app, ["drill", "linear", "--form", "steps"])
    assert r.exit_code == 2
    assert r.stderr == "Error: --form must be number for linear (got 'steps')\n"


def test_help_lists_generators_and_answer_syntax():
    r = runner.invoke(app, ["drill", "--help"])
    assert r.exit_code == 0 and "backprop" in r.stdout
    r = drill("--help")
    assert "2(wx+b−y)x" in r.stdout and "σ(z)(1−σ(z))" in r.stdout
    assert "[[1, 2], [3, 4]]" in r.stdout and "Difficulties" in r.stdout


def test_interactive_session_from_piped_input():
    first, second = generate("backprop", 30, 1), generate("backprop", 31, 1)
    assert second.expected_value(0) != 0
    script = "\n".join([
        f"{first.expected_value(0):.4g}",  # right first time
        f"{-second.expected_value(0):.4g}",  # sign error
        "?", "h",  # the menu, then a hint
        "wat(",  # unreadable: not counted
        f"{second.expected_value(0):.4g}",  # right at the second try
    ]) + "\n"
    r = drill("--seed", "30", "-n", "2", "-q", "0", input=script)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert out.count("Worked solution") == 2
    assert "Sign error" in out and "Hint:" in out and "Could not check that" in out
    assert "1/2 right at the first try · 1 solved after a retry or hint" in out
    assert "Traceback" not in out


def test_every_question_of_a_problem_in_turn_by_default():
    p = generate("backprop", 7, 1)
    answers = [p.expected_text(i) for i in range(len(p.questions))]
    r = drill("--seed", "7", "-n", "1", input="\n".join(answers) + "\n")
    assert r.exit_code == 0, r.output
    n = len(p.questions)
    assert f"question {n}/{n}" in r.stdout and r.stdout.count("Worked solution") == n
    assert f"{n}/{n} right at the first try" in r.stdout


def test_end_of_input_ends_cleanly_with_summary():
    r = drill("--seed", "30", "-n", "3", input="")
    assert r.exit_code == 0
    assert "Drill summary" in r.stdout and "No problems attempted" in r.stdout


def test_quit_and_reveal():
    r = drill("--seed", "5", "-n", "3", input="\nr\nq\n")
    assert r.exit_code == 0
    assert "Worked solution" in r.stdout and "0/1 right at the first try" in r.stdout
    assert "1 revealed" in r.stdout


def test_random_seed_is_shown():
    r = drill("-n", "1", input="q\n")
    assert r.exit_code == 0
    assert "replay with: quizforge drill backprop -d 1 --seed" in r.stdout


def test_ctrl_c_prints_the_summary(monkeypatch):
    from quizforge.cli import drill as drill_cli

    def interrupt(prompt):
        raise KeyboardInterrupt

    monkeypatch.setattr(drill_cli, "_read_line", interrupt)
    r = drill("--seed", "1", "-n", "2")
    assert r.exit_code == 130
    assert "Drill summary" in r.stdout and "interrupted" in r.stdout
    assert r.exception is None or isinstance(r.exception, SystemExit)


@pytest.mark.parametrize("argv", [["--help"], ["drill", "backprop", "--help"], ["drill"],
                                  ["drill", "backprop", "--seed", "1", "-n", "1"],
                                  ["drill", "backprop", "--seed", "1", "--check", "0.5"]])
def test_no_sympy_for_help_or_number_drills(argv):
    """Help, the family list, a number-form session and a number --check never import SymPy
    (it costs ~0.4 s); only tensor families need numpy."""
    code = (
        "import sys\n"
        f"sys.argv = ['quizforge', *{argv!r}]\n"
        "from quizforge.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('SYMPY' if 'sympy' in sys.modules else 'NO-SYMPY')\n"
        "print('NUMPY' if 'numpy' in sys.modules else 'NO-NUMPY')\n"
    )
    env = {**os.environ, "COLUMNS": "80"}
    res = subprocess.run([sys.executable, "-c", code], input="0\nq\n", capture_output=True,
                         text=True, env=env, timeout=30, check=False)
    assert res.stdout.strip().endswith("NO-SYMPY\nNO-NUMPY"), res.stdout[-300:] + res.stderr


def test_a_drill_session_makes_the_days_backup(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZFORGE_HOME", str(tmp_path))
    p = generate("backprop", 7, 1)
    r = drill("--seed", "7", "-n", "1", "-q", "0", input=p.expected_text(0) + "\n")
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "backups").glob("*.sqlite3"))) == 1


def test_answer_syntax_help_fits_80_columns_without_wrapping():
    """Help prints the answer syntax as written, one space in: a line over 78 characters
    wraps mid-phrase at 80 columns (it did: '…or a' / 'fraction')."""
    from quizforge.cli.drill import ANSWER_SYNTAX

    assert max(map(len, ANSWER_SYNTAX.splitlines())) <= 78
