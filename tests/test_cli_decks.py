"""`quizforge decks`, `validate` and `schema`, and `load_decks_or_warn`, through the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quizforge.cli import app, common
from quizforge.cli.decks import deck_rows, display_path, load_decks_or_warn
from quizforge.decks import load_decks
from quizforge.paths import bundled_decks_dir

FIXTURES = Path(__file__).parent / "fixtures" / "decks"
GOOD = FIXTURES / "good"
BROKEN = FIXTURES / "broken" / "broken.yaml"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _width_80(monkeypatch):
    for console in (common.out, common.err):
        monkeypatch.setattr(console, "width", 80)


@pytest.fixture
def bundled():
    """The bundled decks as `quizforge decks --json` reports them on a fresh store:
    every card new, nothing due, no reviews."""
    decks = load_decks([bundled_decks_dir()]).decks
    return deck_rows(decks, {d.id: {"new": len(d.cards), "due": 0, "reviews": 0} for d in decks})


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


# -- quizforge decks ---------------------------------------------------------------------


def test_decks_json_lists_bundled_then_extra_decks(bundled):
    r = runner.invoke(app, ["decks", "--decks", str(GOOD), "--json"])
    assert r.exit_code == 0, r.output
    assert r.stderr == ""
    rows = json.loads(r.stdout)
    assert rows[: len(bundled)] == bundled
    assert rows[len(bundled) :] == [
        {
            "id": "ml-basics",
            "name": "ML basics",
            "path": str(GOOD / "ml-basics.yaml"),
            "cards": {"flashcard": 1, "mcq": 2, "generated": 1, "formula": 0, "explain": 0},
            "description": "A small fixture deck with every card type and every optional field.",
            "tags": ["fixture", "basics"],
            "new": 4,
            "due": 0,
            "reviews": 0,
        },
        {
            "id": "stats",
            "name": "Statistics",
            "path": str(GOOD / "stats.yml"),
            "cards": {"flashcard": 1, "mcq": 0, "generated": 0, "formula": 0, "explain": 0},
            "description": "",
            "tags": [],
            "new": 1,
            "due": 0,
            "reviews": 0,
        },
    ]


def test_bundled_deck_is_listed_by_default(bundled):
    assert "backprop" in [row["id"] for row in bundled]
    r = runner.invoke(app, ["decks", "--json"])
    assert json.loads(r.stdout) == bundled


def test_decks_table_at_80_columns(monkeypatch, tmp_path):
    import quizforge.paths

    (tmp_path / "shipped").mkdir()
    shutil.copy(GOOD / "stats.yml", tmp_path / "shipped")
    (tmp_path / "mine").mkdir()
    shutil.copy(GOOD / "ml-basics.yaml", tmp_path / "mine")
    monkeypatch.setattr(quizforge.paths, "bundled_decks_dir", lambda: tmp_path / "shipped")
    monkeypatch.setenv("QUIZFORGE_DECKS", str(tmp_path / "mine"))
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["decks"])
    assert (r.exit_code, r.stderr) == (0, "")
    assert lines(r.stdout) == [
        "Deck      Name       Flash MCQ Gen f(x) New Due Reviews Path",
        "stats     Statistics     1   0   0    0   1   0       0 (bundled) stats.yml",
        "ml-basics ML basics      1   2   1    0   4   0       0 mine/ml-basics.yaml",
    ]


def test_decks_table_wraps_long_paths_after_a_slash_within_80_columns(monkeypatch):
    monkeypatch.setenv("QUIZFORGE_DECKS", str(GOOD))
    monkeypatch.chdir(Path(GOOD.anchor))  # nothing is shortened
    r = runner.invoke(app, ["decks"])
    out = lines(r.stdout)
    assert out[0].split() == ["Deck", "Name", "Cards", "New", "Due", "Reviews"]
    assert all(len(line) <= 80 for line in out)
    name_column = out[0].index("Name")
    start = next(i for i, line in enumerate(out) if line.startswith("ml-basics"))
    cells = [line[name_column:].split("  ")[0] for line in out[start + 1:start + 6]]
    pieces = [c for c in cells[:next(i for i, c in enumerate(cells) if c.endswith(".yaml")) + 1]]
    assert "".join(pieces) == str(GOOD / "ml-basics.yaml")
    assert all(p.endswith("/") for p in pieces[:-1])  # never split inside a folder's name
    assert out[-1] == "A deck without a path is one of the bundled decks."


def test_global_decks_option_is_used_too():
    r = runner.invoke(app, ["--decks", str(GOOD), "decks", "--json"])
    assert "stats" in [row["id"] for row in json.loads(r.stdout)]


def test_decks_warns_about_bad_files_and_lists_the_rest(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "bad.yaml").write_text("deck: bad\nname: Bad\ncards: []\n")
    (folder / "ok.yaml").write_text("deck: ok\nname: OK\ncards:\n  - {id: c, front: F, back: B}\n")
    r = runner.invoke(app, ["decks", "--decks", str(folder), "--json"])
    assert r.exit_code == 0
    assert [row["id"] for row in json.loads(r.stdout)][-1] == "ok"
    assert lines(r.stderr) == [f"warning: {folder / 'bad.yaml'}:3: required field 'cards' is empty"]


def test_missing_decks_folder_is_a_warning(tmp_path):
    r = runner.invoke(app, ["decks", "--decks", str(tmp_path / "nope"), "--json"])
    assert r.exit_code == 0
    assert lines(r.stderr) == [f"warning: {tmp_path / 'nope'}: no such file or directory"]


def test_a_decks_folder_without_deck_files_is_a_warning(monkeypatch, tmp_path, bundled):
    empty, other = tmp_path / "emptydir", tmp_path / "notes"
    empty.mkdir()
    other.mkdir()
    (other / "README.md").write_text("not a deck\n")
    monkeypatch.setenv("QUIZFORGE_DECKS", str(other))
    r = runner.invoke(app, ["decks", "--decks", str(empty)])
    assert r.exit_code == 0  # the other decks are listed
    assert lines(r.stderr) == [
        f"warning: no deck files in {other}",
        f"warning: no deck files in {empty}",
    ]
    assert bundled[0]["id"] in r.stdout
    monkeypatch.delenv("QUIZFORGE_DECKS")
    r = runner.invoke(app, ["decks", "--decks", str(GOOD), "--json"])
    assert (r.exit_code, r.stderr) == (0, "")  # a folder with decks: no warning


def test_no_decks_at_all(monkeypatch, tmp_path):
    import quizforge.paths

    monkeypatch.setattr(quizforge.paths, "bundled_decks_dir", lambda: tmp_path)
    r = runner.invoke(app, ["decks"])
    assert r.exit_code == 0
    assert r.stdout == ""
    assert lines(r.stderr) == ["No decks found. Add a folder with --decks DIR or QUIZFORGE_DECKS."]
    assert json.loads(runner.invoke(app, ["decks", "--json"]).stdout) == []


def test_deck_rows_take_extra_fields_and_the_table_shows_them(monkeypatch):
    from rich.console import Console

    from quizforge.cli.decks import decks_table

    decks = load_decks([GOOD]).decks
    rows = deck_rows(decks, {"stats": {"new": 1, "due": 0}})
    assert rows[0].keys() == {"id", "name", "path", "cards", "description", "tags"}
    assert rows[1]["new"] == 1 and rows[1]["due"] == 0
    console = Console(width=80, record=True, no_color=True)
    monkeypatch.chdir(FIXTURES)
    console.print(decks_table(rows))
    assert lines(console.export_text()) == [
        "Deck      Name       Flash MCQ Gen f(x) New Due Path",
        "ml-basics ML basics      1   2   1    0         good/ml-basics.yaml",
        "stats     Statistics     1   0   0    0   1   0 good/stats.yml",
    ]


def test_display_path_shortens_home_cwd_and_bundled(monkeypatch, tmp_path):
    (tmp_path / "d").mkdir()
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    assert display_path(tmp_path / "d" / "x.yaml") == "~/d/x.yaml"
    assert display_path("/elsewhere/x.yaml") == "/elsewhere/x.yaml"
    monkeypatch.chdir(tmp_path / "d")
    assert display_path(tmp_path / "d" / "x.yaml") == "x.yaml"
    assert display_path(Path("rel/x.yaml")) == "rel/x.yaml"
    assert display_path(bundled_decks_dir() / "b.yaml", bundled_decks_dir()) == "(bundled) b.yaml"


# -- load_decks_or_warn ------------------------------------------------------------------


def test_load_decks_or_warn_prints_each_problem_once(capsys, tmp_path, bundled):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "x.yaml").write_text("deck: x\nname: X\ncards:\n  - {id: c, front: F}\n")
    common.state.deck_dirs = [folder]  # the global --decks: given again below, read once
    decks = load_decks_or_warn([folder, GOOD])
    assert [d.id for d in decks] == [*(row["id"] for row in bundled), "ml-basics", "stats"]
    assert lines(capsys.readouterr().err) == [
        f"warning: {folder / 'x.yaml'}:4: missing required field 'back' in card 'c'"
    ]


# -- quizforge validate ------------------------------------------------------------------


def test_validate_search_path_ok(bundled):
    r = runner.invoke(app, ["validate"])
    cards = sum(sum(row["cards"].values()) for row in bundled)
    n = len(bundled)
    from quizforge.decks.overlay import overlay_files
    from quizforge.paths import bundled_decks_dir

    overlays = len(overlay_files([bundled_decks_dir()]))
    expected = f"ok: {n} deck{'s' * (n != 1)}, {cards} cards"
    assert (r.exit_code, r.stderr) == (0, "")
    assert r.stdout.startswith(expected)
    assert overlays == 0 or f"; {overlays} translation overlay" in r.stdout


def test_validate_files_and_folders_ok():
    r = runner.invoke(app, ["validate", str(GOOD), str(GOOD / "stats.yml")])
    assert (r.exit_code, r.stdout) == (0, "ok: 2 decks, 5 cards\n")


def test_validate_prints_every_problem_and_a_summary(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(
        "deck: x\nname: X\ncards:\n  - id: a\n    front: F\n    back: B\n    bakc: C\n"
    )
    r = runner.invoke(app, ["validate", str(BROKEN), str(GOOD), str(other)])
    assert r.exit_code == 1
    assert r.stderr == ""
    assert lines(r.stdout) == [
        f"{BROKEN}:1: invalid deck id 'Broken_Deck': use only a-z, 0-9 and '-' (try 'broken-deck')",
        f"{BROKEN}:3: 'tags' must be a list of strings, got a string",
        f"{BROKEN}:8: duplicate key 'back' (first at line 7)",
        f"{BROKEN}:9: duplicate card id 'dup' (first at line 5)",
        f"{BROKEN}:9: missing required field 'answer' in card 'dup'",
        f"{BROKEN}:12: duplicate choice 'y' (choices b and c)",
        f"{BROKEN}:13: unknown field 'anwser' in card 'dup' (did you mean 'answer'?)",
        f"{BROKEN}:16: unknown generator 'backprob' (did you mean 'backprop'?)",
        f"{BROKEN}:17: 'difficulty' must be 1, 2 or 3, got 4",
        f"{other}:7: unknown field 'bakc' in card 'a' (did you mean 'back'?)",
        "10 problems in 2 files",
    ]


def test_validate_long_lines_are_not_wrapped(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    (deep / "x.yaml").write_text("deck: x\n")
    r = runner.invoke(app, ["validate", str(deep)])
    assert lines(r.stdout)[0] == f"{deep / 'x.yaml'}:1: missing required field 'name' at top level"


def test_validate_json(tmp_path):
    r = runner.invoke(app, ["validate", str(BROKEN), str(GOOD), "--json"])
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert {k: doc[k] for k in ("ok", "files", "decks", "cards")} == {
        "ok": False,
        "files": 3,
        "decks": 2,
        "cards": 5,
    }
    assert doc["problems"][0] == {
        "path": str(BROKEN),
        "line": 1,
        "message": "invalid deck id 'Broken_Deck': use only a-z, 0-9 and '-' (try 'broken-deck')",
    }
    assert len(doc["problems"]) == 9
    ok = json.loads(runner.invoke(app, ["validate", str(GOOD), "--json"]).stdout)
    assert ok == {"ok": True, "files": 2, "decks": 2, "cards": 5, "overlays": 0, "translated": 0,
                  "problems": [], "warnings": []}


def test_validate_duplicate_deck_id_across_paths(tmp_path):
    copy = tmp_path / "copy.yaml"
    copy.write_text((GOOD / "stats.yml").read_text())
    r = runner.invoke(app, ["validate", str(GOOD), str(copy)])
    assert r.exit_code == 1
    assert lines(r.stdout) == [
        f"{copy}:1: duplicate deck id 'stats' (also in {GOOD / 'stats.yml'})",
        "1 problem in 1 file",
    ]


def test_validate_missing_paths_is_a_one_line_error(tmp_path):
    r = runner.invoke(app, ["validate", str(GOOD), "nope.yaml", "gone"])
    assert (r.exit_code, r.stdout) == (1, "")
    assert lines(r.stderr) == ["Error: no such file or directory: nope.yaml, gone"]


def test_validate_folder_without_decks_is_an_error(tmp_path):
    r = runner.invoke(app, ["validate", str(tmp_path)])
    assert (r.exit_code, r.stdout) == (1, "")
    assert lines(r.stderr) == [f"Error: no deck files (*.yaml, *.yml) in {tmp_path}"]


def test_validate_reports_a_bad_deck_folder_on_the_search_path(monkeypatch, tmp_path):
    monkeypatch.setenv("QUIZFORGE_DECKS", str(tmp_path / "typo"))
    r = runner.invoke(app, ["validate"])
    assert r.exit_code == 1
    assert lines(r.stdout) == [
        f"{tmp_path / 'typo'}: no such file or directory",
        "1 problem in 1 file",
    ]


# -- quizforge schema --------------------------------------------------------------------


def test_schema_prints_the_bundled_schema_verbatim():
    r = runner.invoke(app, ["schema"])
    assert r.exit_code == 0
    expected = (bundled_decks_dir() / "deck.schema.json").read_text(encoding="utf-8")
    assert r.stdout == expected.rstrip("\n") + "\n"
    assert json.loads(r.stdout)["title"] == "quizforge deck"


# -- help ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("decks", "quizforge decks --decks ~/my-decks --json"),
        ("validate", "quizforge validate my-deck.yaml"),
        ("schema", "quizforge schema > ~/my-decks/deck.schema.json"),
    ],
)
def test_help_has_examples(monkeypatch, command, expected):
    monkeypatch.setenv("COLUMNS", "80")  # typer makes its own console for help
    r = runner.invoke(app, [command, "--help"])
    assert r.exit_code == 0
    assert expected in r.stdout
    assert all(len(line) <= 80 for line in r.stdout.splitlines())


def test_root_help_imports_neither_sympy_nor_numpy_nor_the_loader():
    code = (
        "import sys\n"
        "from quizforge.cli import main\n"
        "sys.argv = ['quizforge', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'sympy', 'numpy', 'quizforge.decks.loader'} & set(sys.modules)\n"
        "print(sorted(heavy), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage" in done.stdout
    assert done.stderr.strip() == "[]"


def test_the_command_map_names_the_module_of_every_command():
    """`main` imports only the module that COMMANDS names for the command line's first word:
    the map must be what the modules register, every command and group, in --help's order."""
    import quizforge.cli as cli

    registered = [(c.name or c.callback.__name__, c.callback.__module__)
                  for c in cli.app.registered_commands]
    for group in cli.app.registered_groups:
        typer_app = group.typer_instance
        callbacks = [c.callback for c in typer_app.registered_commands]
        if typer_app.registered_callback is not None:
            callbacks.append(typer_app.registered_callback.callback)
        registered += [(group.name, c.__module__) for c in callbacks]
    assert {(name, f"quizforge.cli.{module}") for name, module in cli.COMMANDS.items()} == set(
        registered)
    order = list(dict.fromkeys(f"quizforge.cli.{m}" for m in cli.COMMANDS.values()))
    seen = list(dict.fromkeys(c.callback.__module__ for c in cli.app.registered_commands))
    assert seen == [m for m in order if m in seen]


def _modules_after(argv: list[str], env: dict | None = None) -> tuple[str, list[str]]:
    code = (
        "import sys\n"
        "from quizforge.cli import main\n"
        f"sys.argv = ['quizforge', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "import json\n"
        "print(json.dumps([m for m in sys.modules if m.startswith('quizforge.cli.')]),"
        " file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "80", **(env or {})})
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


def test_a_command_imports_only_its_own_module():
    out, modules = _modules_after(["report", "--help"])
    assert "Usage: quizforge report [OPTIONS]" in " ".join(out.split())
    assert {m.rsplit(".", 1)[1] for m in modules} <= {"report", "common", "complete", "decks"}
    out, modules = _modules_after(["validate", "--help"])
    assert "quizforge.cli.decks" in modules and "quizforge.cli.report" not in modules


def test_anything_but_a_command_name_first_still_knows_every_command(tmp_path):
    home = {"QUIZFORGE_HOME": str(tmp_path), "QUIZFORGE_NOW": "2026-12-01T09:00:00+00:00"}
    for argv in (["reprot"], ["--decks", str(tmp_path), "report", "--help"], [], ["--help"]):
        out, modules = _modules_after(argv, home)
        assert {f"quizforge.cli.{m}" for m in COMMAND_MODULES} <= set(modules), argv
    out, _ = _modules_after(["--help"], home)
    assert all(f" {name} " in out for name in ("study", "sync", "import", "export", "cards"))


COMMAND_MODULES = ("study", "mock", "drill", "report", "plan", "simulate", "decks", "cards",
                   "config", "backup", "doctor", "viz", "export", "importing", "optimize", "sync")
