import json

from typer.testing import CliRunner

from quizforge.cli import app

runner = CliRunner()


def test_config_show_set_reset(tmp_path):
    r = runner.invoke(app, ["config"])
    assert r.exit_code == 0 and "desired_retention" in r.stdout and "0.9" in r.stdout
    r = runner.invoke(app, ["config", "set", "desired_retention", "0.85"])
    assert r.exit_code == 0 and r.stdout.strip() == "desired_retention = 0.85"
    data = json.loads(runner.invoke(app, ["config", "--json"]).stdout)
    assert data["settings"]["desired_retention"] == 0.85
    assert data["path"].endswith("config.toml")
    r = runner.invoke(app, ["config", "reset", "desired_retention"])
    assert r.exit_code == 0 and r.stdout.strip() == "desired_retention = 0.9"


def test_config_bad_values_exit_1_with_one_line():
    r = runner.invoke(app, ["config", "set", "desired_retention", "2"])
    assert r.exit_code == 1
    assert r.stderr.strip() == "Error: desired_retention must be between 0.7 and 0.99, got 2.0"
    r = runner.invoke(app, ["config", "set", "nope", "1"])
    assert r.exit_code == 1 and r.stderr.startswith("Error: unknown setting 'nope'")
    r = runner.invoke(app, ["config", "set", "learning_steps", "1 minute"])
    assert r.exit_code == 1 and "bad step '1'" in r.stderr


def test_broken_config_file_is_a_clear_error(tmp_path, monkeypatch):
    from quizforge.paths import config_path

    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("new_per_day = 'many'\n")
    r = runner.invoke(app, ["config"])
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {config_path()}: new_per_day must be a whole number, got 'many'"


def test_version():
    from quizforge import __version__

    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.strip() == f"quizforge {__version__}"


def test_set_echoes_booleans_as_the_file_spells_them():
    r = runner.invoke(app, ["config", "set", "fuzz", "no"])
    assert r.exit_code == 0 and r.stdout.strip() == "fuzz = false"
    r = runner.invoke(app, ["config", "reset", "fuzz"])
    assert r.stdout.strip() == "fuzz = true"


def test_changed_legend_only_when_something_changed():
    r = runner.invoke(app, ["config"])
    assert r.stdout.splitlines()[-1] == "Change with: quizforge config set KEY VALUE"
    assert " *" not in r.stdout
    runner.invoke(app, ["config", "set", "new_per_day", "5"])
    r = runner.invoke(app, ["config"])
    assert r.stdout.splitlines()[-1] == (
        "* changed from the default. Change with: quizforge config set KEY VALUE"
    )


def test_interview_date():
    r = runner.invoke(app, ["config", "set", "interview_date", "2026-12-14"])
    assert r.exit_code == 0 and r.stdout.strip() == "interview_date = 2026-12-14"
    r = runner.invoke(app, ["config", "set", "interview_date", "14/12"])
    assert r.exit_code == 1
    assert r.stderr.strip() == "Error: interview_date must be a date YYYY-MM-DD, got '14/12'"
    r = runner.invoke(app, ["config", "reset", "interview_date"])
    assert r.stdout.strip() == "interview_date = (not set)"
