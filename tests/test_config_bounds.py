"""Every setting is bounded: a value that would overflow a date or an SQLite integer is
refused in one line naming the key, by every command that reads config.toml (issue 20)."""

import pytest
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.paths import config_path

runner = CliRunner()


@pytest.fixture(autouse=True)
def _now(monkeypatch):
    monkeypatch.setenv("QUIZFORGE_NOW", "2026-11-20T08:00:00+00:00")


BAD = [
    ('learning_steps = "99999999999d"',
     "learning_steps: step '99999999999d' is longer than a year (365d)"),
    ('relearning_steps = "999999999d"',
     "relearning_steps: step '999999999d' is longer than a year (365d)"),
    ('interview_date = "0001-01-01"',
     "interview_date must be within 50 years of today, got 0001-01-01"),
    ("new_per_day = 99999999999999999999999",
     "new_per_day must be from 0 to 100,000, got 99999999999999999999999"),
    ("reviews_per_day = 100001", "reviews_per_day must be from 0 to 100,000, got 100001"),
    ("leech_threshold = 100001", "leech_threshold must be from 1 to 100,000, got 100001"),
    ("maximum_interval = 36501", "maximum_interval must be from 1 to 36,500, got 36501"),
    ("x = " + "[" * 5000 + "]" * 5000, "values nested too deeply (no setting is nested)"),
]


@pytest.mark.parametrize("line,message", BAD)
@pytest.mark.parametrize("command", [["study", "--deck", "backprop"], ["simulate"], ["report"],
                                     ["config"]])
def test_a_bad_config_file_is_one_line_for_every_command(line, message, command):
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(line + "\n", encoding="utf-8")
    r = runner.invoke(app, command, input="")
    assert r.exit_code == 1, r.output
    assert r.stderr == f"Error: {path}: {message}\n"


@pytest.mark.parametrize("key,value,message", [
    ("new_per_day", "99999999999999999999999",
     "new_per_day must be from 0 to 100,000, got 99999999999999999999999"),
    ("learning_steps", "1m 366d", "learning_steps: step '366d' is longer than a year (365d)"),
    ("interview_date", "2077-01-01",
     "interview_date must be within 50 years of today, got 2077-01-01"),
])
def test_config_set_refuses_out_of_range_values(key, value, message):
    r = runner.invoke(app, ["config", "set", key, value])
    assert r.exit_code == 1
    assert r.stderr == f"Error: {message}\n"
    assert not config_path().exists()


@pytest.mark.parametrize("key,value", [("new_per_day", "100000"), ("learning_steps", "1m 365d"),
                                       ("interview_date", "2076-12-31"),
                                       ("maximum_interval", "36500")])
def test_the_bounds_themselves_are_allowed(key, value):
    assert runner.invoke(app, ["config", "set", key, value]).exit_code == 0
