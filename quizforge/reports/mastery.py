"""Mastery of each deck and each tag: where the cards stand in the schedule now.

Definitions (also in the report's JSON under mastery.definitions):
- interval: due - last_review, the interval the scheduler gave at the last answer.
- new: never answered; learning: in (re)learning steps; young: in review with an interval
  under 21 days; mature: in review with an interval of 21 days or more (as Anki).
- recall: the mean FSRS probability of recall now over the cards answered at least once.
- mastered: mature AND recall now >= desired retention, i.e. remembered for 3+ weeks and
  not yet slipping past the scheduler's target. mastered % = mastered / all the topic's
  cards (new and suspended ones included: they are part of the topic, not mastered).

Cards removed from their deck files are left out; drill skills have their own section.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from quizforge.reports.recall import RecallCurve, ensure_pow
from quizforge.reports.scope import DAY_MS, Scope
from quizforge.store.db import Database, to_ms

MATURE_DAYS = 21
# Read the counts kept by triggers (card_groups); False counts the cards (tests compare).
USE_SUMMARIES = True


@dataclass
class Mastery:
    """Counts for one deck, tag, or everything in scope."""

    name: str
    cards: int = 0
    new: int = 0
    learning: int = 0
    young: int = 0
    mature: int = 0
    suspended: int = 0
    leeches: int = 0
    mastered: int = 0
    reviewed: int = 0  # cards answered at least once (the recall average is over these)
    recall_sum: float = 0.0

    @property
    def recall(self) -> float | None:
        return self.recall_sum / self.reviewed if self.reviewed else None

    @property
    def mastered_rate(self) -> float:
        return self.mastered / self.cards if self.cards else 0.0

    def add(self, other: Mastery) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


_COUNTS = tuple(f.name for f in fields(Mastery) if f.name != "name")  # what `add` adds up


@dataclass
class MasteryTable:
    total: Mastery
    decks: list[Mastery] = field(default_factory=list)  # by deck id
    tags: list[Mastery] = field(default_factory=list)  # by tag name
    # per (deck, tag list) in scope: the highest RecallCurve.overdue_sql key (lowest recall)
    # of its unsuspended answered cards, read in the same pass; weak spots start from it
    most_overdue: dict[tuple[str, str], float] = field(default_factory=dict)


def mastery(
    db: Database, now: datetime, scope: Scope, curve: RecallCurve, desired_retention: float
) -> MasteryTable:
    """One pass over the cards in SQLite, grouped by (deck, tag list); the groups are then
    added up per deck and per tag here (a card counts once under each of its tags)."""
    ensure_pow(db.conn)
    now_ms = to_ms(now)
    recall, rargs = curve.sql(now_ms)  # evaluated once per card: pow is the costly part
    holds, hargs = curve.at_least_sql(now_ms, desired_retention)
    key, kargs = curve.overdue_sql(now_ms)
    unsuspended_key = f"CASE WHEN suspended = 0 THEN {key} END"
    f, fargs = scope.cards_sql()
    # Damaged rows (a card in review with no stability or no due date) make these NULL:
    # such a card counts by its state, with unknown recall, and is never mastered.
    reviewed = "state != 0 AND stability > 0"
    mature = f"state = 2 AND due - last_review >= {MATURE_DAYS * DAY_MS}"

    def count(condition: str) -> str:
        return f"SUM(COALESCE({condition}, 0))"

    if USE_SUMMARIES:
        # The counts as the store keeps them (card_groups, kept by triggers); recall, which
        # depends on `now`, card by card over the answered cards only.
        now_rows = {
            (r[0], r[1]): r[2:]
            for r in db.conn.execute(
                f"SELECT deck_id, tags, {count(f'{mature} AND {holds}')},"
                f" COALESCE(SUM({recall}), 0), MAX({unsuspended_key}) FROM cards WHERE in_deck = 1"
                f" AND kind != 'skill' AND {reviewed}{f} GROUP BY deck_id, tags",
                [*hargs, *rargs, *kargs, *fargs],
            )
        }
        most_overdue = {g: r[2] for g, r in now_rows.items() if r[2] is not None}
        rows = [
            (deck_id, tags, *counts[:7], *now_rows.get((deck_id, tags), (0, 0))[:1],
             counts[7], *now_rows.get((deck_id, tags), (0, 0))[1:2])
            for deck_id, tags, *counts in db.conn.execute(
                "SELECT deck_id, tags, cards, new_cards, learning, young, mature, suspended,"
                f" leeches, reviewed FROM card_groups WHERE cards > 0{f}"
                " ORDER BY deck_id, tags",
                fargs,
            )
        ]
    else:
        rows = db.conn.execute(
            f"SELECT deck_id, tags, COUNT(*), {count('state = 0')}, {count('state IN (1, 3)')},"
            f" {count(f'state = 2 AND due - last_review < {MATURE_DAYS * DAY_MS}')},"
            f" {count(mature)}, {count('suspended')}, {count('leech')},"
            f" {count(f'{mature} AND {reviewed} AND {holds}')}, {count(reviewed)},"
            f" COALESCE(SUM(CASE WHEN {reviewed} THEN {recall} END), 0),"
            f" MAX(CASE WHEN {reviewed} THEN {unsuspended_key} END)"
            f" FROM cards WHERE in_deck = 1 AND kind != 'skill'{f} GROUP BY deck_id, tags",
            [*hargs, *rargs, *kargs, *fargs],
        ).fetchall()
        most_overdue = {(r[0], r[1]): r[-1] for r in rows if r[-1] is not None}
        rows = [r[:-1] for r in rows]
    total = Mastery("all")
    decks: dict[str, Mastery] = {}
    tags: dict[str, Mastery] = {}
    for deck_id, tag_text, *counts in rows:
        group = Mastery(deck_id, *counts)
        total.add(group)
        decks.setdefault(deck_id, Mastery(deck_id)).add(group)
        for tag in tag_text.split():
            if not scope.tags or tag in scope.tags:  # with --tag, only the tags asked for
                tags.setdefault(tag, Mastery(tag)).add(group)
    return MasteryTable(
        total,
        sorted(decks.values(), key=lambda m: m.name),
        sorted(tags.values(), key=lambda m: m.name),
        most_overdue,
    )
