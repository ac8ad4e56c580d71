"""The `quizforge` command line: thin commands that parse, call the core, and render.

Command modules import their heavy dependencies inside the command functions, so
`quizforge --help` stays fast and never imports sympy or numpy.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from quizforge import __version__
from quizforge.cli.common import DeckDirs, err, state
from quizforge.errors import QuizforgeError


class _Group(TyperGroup):
    """Turns domain errors into a one-line message and exit 1, for every command."""

    def invoke(self, ctx: typer.Context):
        import sqlite3

        try:
            return super().invoke(ctx)
        except QuizforgeError as e:
            raise _error_exit(e) from None
        except sqlite3.Error as e:  # met mid-command: say what it means for the store
            from quizforge.paths import db_path
            from quizforge.store.db import describe_error

            raise _error_exit(describe_error(e, db_path())) from None
        finally:
            _print_store_notices()


def _error_exit(e: Exception) -> typer.Exit:
    from quizforge.cli.common import fail

    return fail(str(e))  # as text: an error may quote a path or deck text


def _print_store_notices() -> None:
    store = sys.modules.get("quizforge.store")  # imported only by commands that open it
    if store is not None:
        for note in store.take_notices():
            err.print(f"note: {note}", highlight=False, soft_wrap=True)


class _App(typer.Typer):
    """The `quizforge` app. Its command modules are imported the first time typer reads its
    commands (to build the command line), not when this package is imported: then `main`
    can have typer build only the command the command line names. Importing every module
    and building every command cost a command 20-40 ms before it did anything."""

    only: str | None = None  # the one command module to import (set by `main`), else all

    @property
    def registered_commands(self):
        _register(self.only)
        # --help's order whatever the order of import (a module can be imported on its own)
        self._commands.sort(key=lambda c: _ORDER.get(c.callback.__module__.rpartition(".")[2], 0))
        return self._commands

    @registered_commands.setter
    def registered_commands(self, commands) -> None:
        self._commands = commands

    @property
    def registered_groups(self):
        _register(self.only)
        self._groups.sort(key=lambda g: _ORDER.get(COMMANDS.get(g.name or "", ""), 0))
        return self._groups

    @registered_groups.setter
    def registered_groups(self, groups) -> None:
        self._groups = groups


app = _App(
    name="quizforge",
    cls=_Group,
    help="Get ready for machine-learning interviews in the terminal: spaced-repetition "
    "flashcards (FSRS), fresh hand-gradient drills, and progress reports.",
    no_args_is_help=False,  # `quizforge` alone shows the home screen
    add_completion=True,  # --install-completion / --show-completion (cli/complete.py)
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"quizforge {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    decks: DeckDirs = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Spaced-repetition flashcards, backprop drills and progress reports.

    Decks are YAML files: the bundled ones, plus folders in QUIZFORGE_DECKS
    (os.pathsep-separated) and --decks DIR. Progress is kept in SQLite under
    QUIZFORGE_HOME (default: your platform's user data directory).
    """
    state.deck_dirs = list(decks or [])
    if ctx.invoked_subcommand is None:
        from quizforge import clock
        from quizforge.cli.common import deck_dirs, out
        from quizforge.cli.home import gather, home_view

        out.print(home_view(gather(deck_dirs(), clock.now())))


def _placeholders() -> None:
    """Help shows a value's name, not its Python type: `--count COUNT`, `--form [a|b]`,
    nothing after a flag or an argument (its name is shown already), `FILE` for a required
    argument and `[PATH]...` for one that takes several, where typer 0.28 prints `<int>`,
    `<str>`, `<path>`, `<a|b>`, `{FILE}`, `[PATH]` (pyproject.toml says why typer is below
    0.29)."""
    try:
        from typer._click.types import ParamType
        from typer._types import TyperChoice
        from typer.core import TyperArgument, TyperOption
    except ImportError:  # a typer other than pyproject.toml's: its own placeholders, then
        return

    choice_metavar = TyperChoice.get_metavar  # `<a|b>`

    def choices(param, ctx) -> str:
        return "[" + choice_metavar(param.type, param, ctx)[1:-1] + "]"

    def option(self, ctx):
        if self.metavar is not None:
            return self.metavar
        if self.is_flag or self.count:
            return ""
        if isinstance(self.type, TyperChoice):
            return choices(self, ctx)
        return (self.name or "value").upper() + ("..." if self.nargs != 1 else "")

    def type_metavar(self, param, ctx):  # what a type adds after an argument's name
        if isinstance(param, TyperArgument):
            return choices(param, ctx) if isinstance(self, TyperChoice) else ""
        return choice_metavar(self, param, ctx) if isinstance(self, TyperChoice) else None

    argument_metavar = TyperArgument.make_metavar

    def argument(self, ctx, *, usage: bool = False):
        var = argument_metavar(self, ctx, usage=usage)
        if var.startswith("{") and var.endswith("}"):  # a required one: `FILE`, not `{FILE}`
            var = var[1:-1]
        # `[PATH]...` for several, as without a metavar
        return var + "..." if self.nargs != 1 and not var.endswith("...") else var

    TyperOption.make_metavar = option
    TyperArgument.make_metavar = argument
    ParamType.get_metavar = type_metavar
    TyperChoice.get_metavar = type_metavar


_placeholders()


# Each command, or group of commands, and the module that defines it, in --help's order.
COMMANDS = {
    "study": "study", "mock": "mock", "drill": "drill", "report": "report", "plan": "plan",
    "simulate": "simulate", "decks": "decks", "validate": "decks", "schema": "decks",
    "cards": "cards", "unsuspend": "cards", "config": "config", "backup": "backup",
    "doctor": "doctor", "viz": "viz", "export": "export", "import": "importing",
    "optimize": "optimize", "sync": "sync",
}
_ORDER = {module: n for n, module in enumerate(dict.fromkeys(COMMANDS.values()))}
_registered: set[str] = set()  # the command modules imported so far
_registering = False  # while they are: their decorators read the commands too


def _register(only: str | None = None) -> None:
    """Import the command modules (each adds its commands to `app`), all of them or only
    `only`. --help lists them in COMMANDS' order, whatever the order of import."""
    global _registering
    if _registering:
        return
    _registering = True
    try:
        for name in [only] if only is not None else dict.fromkeys(COMMANDS.values()):
            if name not in _registered:
                __import__(f"quizforge.cli.{name}")
                _registered.add(name)
    finally:
        _registering = False


def _named_module(args: list[str]) -> str | None:
    """The module of the command `args` start with, when that is all typer needs: a
    command's name first. Anything else (no command, an option first, a name that is no
    command, shell completion) needs every command."""
    import os

    if not args or "_QUIZFORGE_COMPLETE" in os.environ:
        return None
    return COMMANDS.get(args[0])


def main() -> None:
    app.only = _named_module(sys.argv[1:])
    try:
        app()
    except KeyboardInterrupt:
        err.print("Interrupted.")
        sys.exit(130)
