"""The interview plan (scheduling/plan.py) from the store: for `quizforge plan`, the home
screen's line and the report's. Reads the store; handed `now`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from quizforge.scheduling.config import Config
from quizforge.scheduling.days import day_bounds
from quizforge.scheduling.interview import days_left
from quizforge.scheduling.plan import DeckCounts, Plan, deck_cards, make_plan, pace_from_counts
from quizforge.store import cards as store
from quizforge.store.db import Database
from quizforge.study.new_order import deck_weight


def plan_from_store(
    db: Database,
    decks: Sequence,
    config: Config,
    now: datetime,
    *,
    only: Sequence[str] = (),
    simulate_workload: bool = True,
    seed: int = 0,
) -> Plan | None:
    """The plan for the loaded `decks` (each with `id` and `tags`; with `fingerprint` and
    `counts()` too, cards not yet in the store count as new), or only the decks in `only`.
    None without an interview date."""
    interview = config.interview
    if interview is None:
        return None
    chosen = [d for d in decks if not only or d.id in only]
    weights = {d.id: deck_weight(d.id, d.tags) for d in chosen}
    unsynced = (
        store.unsynced_new_by_deck(db, chosen) if all(hasattr(d, "fingerprint") for d in chosen)
        else {}
    )
    rows = store.plan_cards(db)
    start, end = day_bounds(now, config.day_starts_at)
    done = store.studied_today(db, start)
    return make_plan(
        deck_cards(rows, weights, unsynced),
        config,
        interview,
        days_left(interview, now, config.day_starts_at),
        now,
        end,
        new_today=done["new"],
        reviews_today=done["reviews"],
        pace=pace_from_counts(store.answer_tallies(db)) if simulate_workload else None,
        seed=seed,
        simulate_workload=simulate_workload,
    )


def plan_counts(db: Database, config: Config, now: datetime,
                deck_ids: Sequence[str] = ()) -> Plan | None:
    """The plan's counts without the simulation (the report's line), for the decks the store
    holds, or only `deck_ids`: plan_from_store's figures from one aggregate query per table
    rather than a schedule per card."""
    interview = config.interview
    if interview is None:
        return None
    # every deck with a card in it (suspended ones too, as plan_from_store's decks); its new
    # and studied cards among those not suspended (store.plan_cards' rows)
    rows = db.conn.execute(
        "SELECT deck_id, COALESCE(SUM(suspended = 0 AND state = 0), 0),"
        " COALESCE(SUM(suspended = 0 AND state != 0), 0)"
        " FROM cards WHERE in_deck = 1 AND kind != 'skill' GROUP BY deck_id ORDER BY deck_id"
    ).fetchall()
    decks = [
        DeckCounts(d, deck_weight(d, ()), studied, new)
        for d, new, studied in rows if not deck_ids or d in deck_ids
    ]
    start, end = day_bounds(now, config.day_starts_at)
    done = store.studied_today(db, start)
    return make_plan(
        decks,
        config,
        interview,
        days_left(interview, now, config.day_starts_at),
        now,
        end,
        new_today=done["new"],
        reviews_today=done["reviews"],
        simulate_workload=False,
    )
