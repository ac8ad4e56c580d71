"""The interview plan (scheduling/plan.py) from the store: for `quizforge plan`, the home
screen's line and the report's. Reads the store; handed `now`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from quizforge.scheduling.config import Config
from quizforge.scheduling.days import day_bounds
from quizforge.scheduling.interview import days_left
from quizforge.scheduling.plan import Plan, deck_cards, make_plan, pace_from_counts
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


@dataclass(frozen=True)
class _StoreDeck:
    id: str
    tags: tuple[str, ...] = ()


def plan_counts(db: Database, config: Config, now: datetime,
                deck_ids: Sequence[str] = ()) -> Plan | None:
    """The plan's counts without the simulation (the report's line), for the decks the store
    holds, or only `deck_ids`."""
    ids = [d for (d,) in db.conn.execute(
        "SELECT DISTINCT deck_id FROM cards WHERE in_deck = 1 AND kind != 'skill' ORDER BY 1")]
    return plan_from_store(db, [_StoreDeck(d) for d in ids], config, now, only=tuple(deck_ids),
                           simulate_workload=False)
