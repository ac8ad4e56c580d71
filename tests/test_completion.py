"""Shell completion: the scripts typer generates for bash, zsh and fish, `--install-completion`
for each, and the candidates a Tab press gets (deck ids, tags, drill families, config keys,
suspended cards), driven the way the shells drive them: through the _QUIZFORGE_COMPLETE
environment variables."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import T0, make_deck
from typer.testing import CliRunner

from quizforge.cli import app
from quizforge.paths import db_path
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Scheduler
from quizforge.store import cards as store
from quizforge.store.db import Database

runner = CliRunner()
SCRIPT_MARKS = {
    "bash": ("_quizforge_completion()", "complete -o default -F _quizforge_completion quizforge"),
    "zsh": ("#compdef quizforge", "compdef _quizforge_completion quizforge"),
    "fish": ("complete --command quizforge", "_QUIZFORGE_COMPLETE=complete_fish"),
}


def quizforge(*args, env=None):
    """The real program in a subprocess (as a shell runs it)."""
    code = "import sys; sys.argv[0] = 'quizforge'; from quizforge.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        check=False,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_prints_the_script_of_each_shell(shell):
    result = quizforge(
        "--show-completion", shell, env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    )
    assert result.returncode == 0, result.stderr
    for mark in SCRIPT_MARKS[shell]:
        assert mark in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("shell", "written"),
    [
        ("bash", ".bash_completions/quizforge.sh"),
        ("zsh", ".zfunc/_quizforge"),
        ("fish", ".config/fish/completions/quizforge.fish"),
    ],
)
def test_install_completion_writes_the_script_where_the_shell_reads_it(tmp_path, shell, written):
    env = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1", "HOME": str(tmp_path)}
    result = quizforge("--install-completion", shell, env=env)
    assert result.returncode == 0, result.stderr
    assert f"{shell} completion installed in" in result.stdout
    assert SCRIPT_MARKS[shell][0] in (tmp_path / written).read_text()
    if shell != "fish":  # fish reads its completions folder by itself
        rc = (tmp_path / f".{shell}rc").read_text()
        assert "quizforge" in rc or ".zfunc" in rc


def test_help_lists_the_completion_options():
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


# -- candidates ----------------------------------------------------------------------------------
def bash_candidates(line: str, env=None) -> list[str]:
    """What bash gets for the last word of `line` (an empty last word: a trailing space)."""
    words = line.split(" ")
    result = runner.invoke(
        app,
        [],
        env={"_QUIZFORGE_COMPLETE": "complete_bash", "COMP_WORDS": line,
             "COMP_CWORD": str(len(words) - 1), **(env or {})},
        prog_name="quizforge",
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout.split()


def test_deck_ids_of_every_deck_option():
    assert bash_candidates("quizforge study --deck b") == ["backprop"]
    from quizforge.paths import bundled_decks_dir

    bundled = sorted(p.stem for p in bundled_decks_dir().glob("*.yaml") if p.stem.count(".") == 0)
    assert "backprop" in bundled and len(bundled) >= 6
    assert bash_candidates("quizforge study -d ") == bundled
    assert bash_candidates("quizforge report -d trai") == ["training-practice"]
    assert bash_candidates("quizforge export anki out.apkg --deck ini") == ["init-gradient-flow"]
    assert bash_candidates("quizforge study --deck zz") == []


def test_zsh_and_fish_get_the_deck_names_as_help():
    zsh = runner.invoke(app, [], env={"_QUIZFORGE_COMPLETE": "complete_zsh",
                                      "_TYPER_COMPLETE_ARGS": "quizforge study --deck ba"},
                        prog_name="quizforge")
    assert zsh.stdout.strip() == """_arguments '*: :(("backprop":"Backpropagation"))'"""
    fish = runner.invoke(app, [], env={"_QUIZFORGE_COMPLETE": "complete_fish",
                                       "_TYPER_COMPLETE_FISH_ACTION": "get-args",
                                       "_TYPER_COMPLETE_ARGS": "quizforge report --deck ba"},
                         prog_name="quizforge")
    assert fish.stdout.strip() == "backprop\tBackpropagation"


def test_tags_from_the_decks():
    from quizforge.cli.decks import list_decks_or_warn

    everything = {t for d in list_decks_or_warn([]) for t in (*d.tags, *d.card_tags)}
    expected = sorted(t for t in everything if t.startswith("ad"))
    assert expected  # the bundled decks have adam, adamw...
    assert bash_candidates("quizforge study --tag ad") == expected
    assert bash_candidates("quizforge report -t ") == sorted(everything)


def test_drill_families_are_subcommands():
    from quizforge.drill.family import families

    assert bash_candidates("quizforge drill ") == list(families())
    assert bash_candidates("quizforge drill so") == ["softmax-ce"]


def test_config_keys_for_set_and_reset():
    assert bash_candidates("quizforge config set de") == ["desired_retention"]
    assert bash_candidates("quizforge config reset ") == list(Config().to_dict())
    assert bash_candidates("quizforge config set new_per_day ") == []  # a value: free text


def test_decks_only_the_store_knows_and_suspended_cards():
    with Database(db_path()) as db:
        deck = make_deck("retired", n_flash=2, card_tags={"c0": ("old-tag",)})
        store.sync_decks(db, [deck], T0)
        row = store.find_card(db, "retired", "c1")
        sched = Scheduler(Config())
        after, _ = sched.review(row.schedule, 3, T0)
        with db.atomic() as conn:
            store.write_schedule(conn, row.rowid, after)
        store.set_suspended(db, row.rowid, True)
    assert bash_candidates("quizforge study --deck re") == []  # study needs the deck file
    assert bash_candidates("quizforge report --deck re") == ["retired"]  # its history is there
    assert bash_candidates("quizforge study --tag old") == ["old-tag"]
    assert bash_candidates("quizforge unsuspend ") == ["retired/c1"]


def test_a_deck_file_not_in_the_cache_is_peeked_not_parsed(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "big.yaml").write_text(
        "# my deck\ndeck: 'my-deck'   # its id\nname: Mine\ncards:\n  - id: a\n    type: flashcard\n"
        "    front: f\n    back: b\n    tags: [mine-tag]\n"
    )
    from quizforge.decks import loader

    def no_parsing(*args, **kwargs):
        raise AssertionError("completion parsed a deck file")

    monkeypatch.setattr(loader, "_compile_all", no_parsing)
    assert bash_candidates(f"quizforge --decks {folder} study --deck my") == ["my-deck"]
    assert bash_candidates("quizforge study --deck my", env={"QUIZFORGE_DECKS": str(folder)}) == [
        "my-deck"
    ]
    monkeypatch.undo()
    runner.invoke(app, ["--decks", str(folder), "decks"])  # a real command caches it
    assert bash_candidates(f"quizforge --decks {folder} study --tag mine") == ["mine-tag"]


def test_a_damaged_store_and_a_bad_deck_file_still_complete_quietly(tmp_path):
    db_path().parent.mkdir(parents=True, exist_ok=True)
    db_path().write_bytes(b"this is not a database" * 100)
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "broken.yaml").write_text("deck: [unclosed\n")
    assert bash_candidates(f"quizforge --decks {folder} study --deck b") == ["backprop"]
    assert bash_candidates("quizforge unsuspend ") == []


def test_completion_in_a_real_process_with_the_env_bash_sets():
    """The exact environment the bash script sets up, in a real process."""
    result = quizforge(env={"_QUIZFORGE_COMPLETE": "complete_bash",
                            "COMP_WORDS": "quizforge config set max", "COMP_CWORD": "3"})
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.split() == ["maximum_interval"]


def test_a_tab_press_creates_no_store():
    bash_candidates("quizforge study --deck b")
    assert not db_path().exists()
