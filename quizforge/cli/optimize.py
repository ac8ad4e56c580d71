"""`quizforge optimize`: fit the FSRS parameters to your own review log."""

from __future__ import annotations

from typing import Annotated

import typer

from quizforge.cli import app
from quizforge.cli.common import JsonFlag, out


@app.command()
def optimize(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Fit and compare, but never save.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Fit FSRS's memory model to your reviews, and use it when it predicts you better.

    FSRS predicts how likely you are to recall each card; its 21 parameters start at values fitted to many Anki users. This fits them to your own review log with fsrs-rs (the optimizer Anki uses), compares the default, current and fitted parameters on the same reviews (log loss and RMSE over bins: lower is better), and saves the fitted ones to config.toml only when their log loss is lower. Every command then schedules with them, and `quizforge report` shows how well they are calibrated.

    It learns from each answer given a day or more after the card's previous answer, and needs at least 64 of them (below that fsrs-rs cannot fit every parameter); first and same-day answers serve as history. Left out: cram answers (practice outside the schedule, which the schedule never saw) and drill answers (drill levels and generated cards: each answer is a fresh problem, not the recall of one card).

    Examples:

      quizforge optimize --dry-run

      quizforge optimize

      quizforge optimize --json
    """
    import json
    from dataclasses import replace

    from quizforge.paths import config_path
    from quizforge.scheduling import fitting
    from quizforge.scheduling.config import load_config, save_config
    from quizforge.store import cards as store_cards
    from quizforge.store import open_store
    from quizforge.store.db import check_data_dir

    path = config_path()
    cfg = load_config(path)  # a broken config.toml fails here, before the work
    with open_store() as db:
        hs, counts = fitting.log_histories(*store_cards.fitting_log(db, fitting.DRILL_KINDS))
    fitting.check_enough(counts)
    result = fitting.fit(hs, counts, cfg.parameters, len(cfg.relearning))
    saved = False
    if result.better and not dry_run:
        check_data_dir(path.parent)
        save_config(replace(cfg, parameters=result.parameters), path)
        saved = True
        _recalibrate(result.parameters)
    if as_json:
        print(json.dumps({"dry_run": dry_run, "saved": saved, "config": str(path),
                          **result.to_dict()}, indent=2))
        return
    from quizforge.ui.optimize import optimize_view

    out.print(optimize_view(result, saved=saved, dry_run=dry_run, config=path))


def _recalibrate(parameters) -> None:
    """Make the report's stored predictions with the new parameters now, while the user
    expects a wait, rather than on the next `report` (seconds at 1M answers). Skipped on a
    read-only store; a failure leaves it to the next report."""
    from quizforge.cli.common import err
    from quizforge.errors import StoreError
    from quizforge.reports.calibration import refresh
    from quizforge.store import open_store

    try:
        with open_store() as db:
            if not db.read_only:
                refresh(db, parameters)
    except StoreError as e:
        err.print(f"warning: calibration not updated: {e}", markup=False, highlight=False,
                  soft_wrap=True)
