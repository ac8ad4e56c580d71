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


app = typer.Typer(
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
    nothing after a flag or an argument (its name is shown already). Typer prints
    `<bool>`, `<int>`, `<list[Path]>` there (from 0.2x; older ones had no such hook)."""
    from typer.core import TyperArgument, TyperOption

    if not hasattr(TyperOption, "display_type_rich"):
        return

    def option(self, ctx):
        if self.metavar is not None:
            return self.metavar
        if self.is_flag or self.count:
            return None
        if self.type_descriptor.is_choice:
            return "[" + self.display_type(ctx)[1:-1] + "]"
        return (self.name or "value").upper() + ("..." if self.nargs != 1 else "")

    def argument(self, ctx):
        if self.type_descriptor.is_choice:
            return "[" + self.display_type(ctx)[1:-1] + "]"
        return None

    TyperOption.display_type_rich = option
    TyperArgument.display_type_rich = argument


_placeholders()


def _register() -> None:
    # Each module adds its commands to `app`; import order is the order in --help.
    for name in ("study", "mock", "drill", "report", "plan", "simulate", "decks", "cards", "config", "backup",
                 "doctor", "viz", "export", "importing", "optimize",
                 "sync"):
        try:
            __import__(f"quizforge.cli.{name}")
        except ModuleNotFoundError as e:  # a command module not written yet
            if e.name != f"quizforge.cli.{name}":
                raise


_register()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("Interrupted.")
        sys.exit(130)
