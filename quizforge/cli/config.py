"""`quizforge config`: show and change scheduling settings."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from quizforge.cli import app, complete
from quizforge.cli.common import JsonFlag, out

config_app = typer.Typer(
    help="Show or change scheduling settings (kept in config.toml in the data directory).",
    no_args_is_help=False,
    invoke_without_command=True,
)
app.add_typer(config_app, name="config")

DESCRIPTIONS = {
    "desired_retention": "target probability of recall when a card comes due (0.7-0.99)",
    "learning_steps": "steps for new cards before they graduate, e.g. '1m 10m'",
    "relearning_steps": "steps for forgotten cards, e.g. '10m'",
    "maximum_interval": "longest interval between reviews, in days",
    "new_per_day": "new cards introduced per study day",
    "reviews_per_day": "most reviews per study day",
    "leech_threshold": "lapses before a card is suspended as a leech",
    "day_starts_at": "local hour at which a new study day begins",
    "fuzz": "spread intervals slightly so cards don't clump",
    "load_balance": "within the fuzz range, prefer days with fewer reviews due (needs fuzz)",
    "interview_date": "your interview day, YYYY-MM-DD: no review is left for after it; "
    "report shows your recall on it",
    "language": "show cards in this language where a translation overlay has them "
    "(zh-TW for 繁體中文; en otherwise)",
    "ambiguous_width": "cells your terminal gives σ, ∂, −, ·: 2 in many CJK set-ups, 1 elsewhere; "
    "auto guesses from the locale",
    "new_order": "order of new cards: mixed (decks and card types interleaved, core decks "
    "first), deck (one deck after another, file order) or random",
    "daily_minutes": "minutes a day you can study; `quizforge plan` fits the interview into "
    "them (0: no budget)",
    "sync_dir": "a folder your machines keep in step (Syncthing, Dropbox, git): `quizforge sync` "
    "and study, drill and mock sync reviews through it",
    "parameters": "FSRS-6 weights fitted to your reviews by `quizforge optimize` (--json lists them)",
}


@config_app.callback()
def show(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show every setting, its value and what it does.

    Examples:

      quizforge config

      quizforge config set desired_retention 0.85

      quizforge config set learning_steps "1m 10m 1h"
    """
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from quizforge.paths import config_path
    from quizforge.scheduling.config import Config, load_config

    path = config_path()
    cfg, default = load_config(path).to_dict(), Config().to_dict()
    if as_json:
        print(json.dumps({"path": str(path), "settings": cfg}, indent=2))
        return
    table = Table(title=f"Settings ({path})", title_justify="left", box=None, padding=(0, 1))
    table.add_column("setting", style="bold")
    table.add_column("value")
    table.add_column("meaning", style="dim")
    for key, value in cfg.items():
        shown = shown_value(value)
        if value != default[key]:
            shown += " *"
        table.add_row(key, shown, DESCRIPTIONS[key])
    out.print(table)
    changed = "* changed from the default. " if cfg != default else ""
    out.print(f"[dim]{changed}Change with: quizforge config set KEY VALUE[/]")


def shown_value(value) -> str:
    """A setting as config.toml spells it: true/false, not True/False; "" as (not set);
    the 21 FSRS weights as a count (`config --json` lists them), to fit 80 columns."""
    if value == "":
        return "(not set)"
    if isinstance(value, (tuple, list)):
        return f"{len(value)} fitted" if value else "(defaults)"
    return str(value).lower() if isinstance(value, bool) else str(value)


@config_app.command("set")
def set_(
    key: Annotated[str, typer.Argument(help="Setting name (see `quizforge config`).",
                                       autocompletion=complete.config_keys)],
    value: Annotated[str, typer.Argument(help="New value.")],
) -> None:
    """Change one setting; it applies from the next session."""
    from quizforge.paths import config_path
    from quizforge.scheduling.config import load_config, save_config
    from quizforge.store.db import check_data_dir

    path = config_path()
    check_data_dir(path.parent)
    if key == "sync_dir" and value:
        from pathlib import Path

        from quizforge.sync.run import sync_root

        sync_root(Path(value))  # a folder that exists and can be written, or a one-line error
        value = str(Path(value).expanduser().resolve())
    old = load_config(path)
    cfg = old.with_value(key, value)
    _stamp(old, cfg)
    save_config(cfg, path)
    out.print(f"{key} = {shown_value(cfg.to_dict()[key])}", highlight=False)


@config_app.command("reset")
def reset(
    key: Annotated[str | None, typer.Argument(help="Setting to reset; all when omitted.",
                                              autocompletion=complete.config_keys)] = None,
) -> None:
    """Put one setting (or all) back to its default."""
    from quizforge.paths import config_path
    from quizforge.scheduling.config import Config, ConfigError, load_config, save_config
    from quizforge.store.db import check_data_dir

    path = config_path()
    check_data_dir(path.parent)
    if key is None:
        try:
            _stamp(load_config(path), Config())
        except ConfigError:
            pass  # a config.toml that cannot be read: reset all is how to mend it
        save_config(Config(), path)
        out.print("All settings reset to their defaults.")
        return
    old = load_config(path)
    cfg = old.with_value(key, str(Config().to_dict().get(key, "")))
    _stamp(old, cfg)
    save_config(cfg, path)
    out.print(f"{key} = {shown_value(cfg.to_dict()[key])}", highlight=False)


def _stamp(old, new) -> None:
    """Keep when the settings changed, for sync (in the store, when there is one)."""
    from quizforge.clock import now
    from quizforge.paths import db_path
    from quizforge.store import open_store
    from quizforge.sync.export import stamp_settings

    if db_path().exists():
        with open_store(write=True) as db:
            stamp_settings(db, old.to_dict(), new.to_dict(), now())
