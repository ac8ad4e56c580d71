"""Weak spots: leeches, the cards most likely forgotten now, the most-missed MCQs, each with
the command that studies its topic."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from quizforge.reports.mastery import MasteryTable
from quizforge.reports.recall import RecallCurve
from quizforge.reports.scope import Calendar, Scope
from quizforge.scheduling.scheduler import Scheduler
from quizforge.store import cards as store
from quizforge.store.db import Database, to_ms

LIMIT = 5
# Read the per-card counts kept by triggers (card_reviews) when every answer counts (no
# --since), and the leech count and the most overdue card per group from the mastery
# table; False recounts from the review log and the cards (tests compare the two).
USE_SUMMARIES = True


@dataclass(frozen=True)
class WeakCard:
    deck_id: str
    card_id: str
    kind: str
    tags: tuple[str, ...]
    lapses: int
    recall: float | None  # FSRS recall probability now (None: never answered, or unknown)
    misses: int  # Again answers (for the most-missed list; in scope, --since)
    answers: int
    command: str  # studies the card's topic (deck and first tag); unsuspends a suspended card


@dataclass(frozen=True)
class WeakSpots:
    leech_count: int
    leeches: list[WeakCard]  # most lapses first
    lowest_recall: list[WeakCard]  # recall below desired retention, lowest first
    most_missed_mcq: list[WeakCard]  # most Again answers first


def study_command(decks: Sequence[str] = (), tags: Sequence[str] = (), cram: bool = False) -> str:
    """The `quizforge study` line that studies these decks and tags."""
    parts = ["quizforge", "study"] + (["--cram"] if cram else [])
    for d in decks:
        parts += ["--deck", d]
    for t in tags:
        parts += ["--tag", t]
    return shlex.join(parts)


def weak_spots(
    db: Database,
    now: datetime,
    cal: Calendar,
    scope: Scope,
    scheduler: Scheduler,
    limit: int = LIMIT,
    table: MasteryTable | None = None,
) -> WeakSpots:
    """`table`: the mastery table for the same `now` and scope, if computed already: its
    leech count, and its most overdue card per (deck, tag list), which lets the lowest
    recall read a few groups instead of every studied card."""
    f, fargs = scope.card_rows_sql()
    deck_cards = f"in_deck = 1 AND kind != 'skill'{f}"
    if not USE_SUMMARIES:
        table = None

    def card(rowid: int, misses: int = 0, answers: int = 0, cram: bool = False) -> WeakCard:
        row = store.get_card(db, rowid)
        # no stability (damaged data): recall unknown, not the scheduler's 0
        known = row.schedule.last_review is not None and bool(row.schedule.stability)
        return WeakCard(
            row.deck_id,
            row.card_id,
            row.kind,
            row.tags,
            row.schedule.lapses,
            scheduler.retrievability(row.schedule, now) if known else None,
            misses,
            answers,
            # a suspended leech comes back with unsuspend; others are studied by topic
            shlex.join(["quizforge", "unsuspend", f"{row.deck_id}/{row.card_id}"])
            if row.schedule.suspended
            else study_command([row.deck_id], row.tags[:1], cram),
        )

    leech_count = table.total.leeches if table is not None else db.conn.execute(
        f"SELECT COUNT(*) FROM cards WHERE leech = 1 AND {deck_cards}", fargs
    ).fetchone()[0]
    leeches = [
        card(r[0], cram=True)  # suspended: only cram shows them
        for r in db.conn.execute(
            f"SELECT id FROM cards WHERE leech = 1 AND {deck_cards}"
            " ORDER BY lapses DESC, id LIMIT ?",
            [*fargs, limit],
        )
    ]
    key, kargs = RecallCurve.of(scheduler).overdue_sql(to_ms(now))
    # The `limit` highest keys (lowest recall) are each at least the limit-th highest group
    # maximum (those maxima are `limit` distinct cards): only the groups reaching it hold them, a
    # few hundred cards read through cards_groups' (deck_id, tags) prefix. Without the
    # maxima, or with fewer groups than `limit`, every studied card: the planner reads
    # cards_groups, which holds every column read (with --deck, the deck's range of it).
    most_overdue = table.most_overdue if table is not None else {}
    top = sorted(most_overdue.values(), reverse=True)
    if len(top) >= limit:
        groups = [g for g, k in most_overdue.items() if k >= top[limit - 1]]
        values = ",".join("(?,?)" for _ in groups)
        lowest_sql = (f"WITH g(d, t) AS (VALUES {values}) SELECT id FROM g JOIN cards"
                      " ON cards.deck_id = g.d AND cards.tags = g.t WHERE")
        largs = [x for g in groups for x in g]
    else:
        lowest_sql, largs = "SELECT id FROM cards WHERE", []
    lowest = [
        card(r[0])
        for r in db.conn.execute(
            f"{lowest_sql} suspended = 0 AND state != 0 AND stability > 0"
            f" AND {deck_cards} ORDER BY {key} DESC, id LIMIT ?",
            [*largs, *fargs, *kargs, limit],
        )
    ]
    lowest = [c for c in lowest if c.recall < scheduler.config.desired_retention]
    if scope.since is None and USE_SUMMARIES:
        # Every answer counts: read the per-card counts the store keeps (card_reviews,
        # kept by triggers), one row per answered card instead of the million-row log,
        # from the most misses down (card_reviews_misses) until `limit` cards in scope.
        rows = db.conn.execute(
            "SELECT s.card, s.misses, s.answers FROM card_reviews s"
            " WHERE s.misses > 0 AND EXISTS (SELECT 1 FROM"
            f" cards WHERE id = s.card AND kind = 'mcq' AND {deck_cards})"
            " ORDER BY s.misses DESC, 1.0 * s.misses / s.answers DESC, s.card LIMIT ?",
            [*fargs, limit],
        ).fetchall()
    else:
        rows = _missed_since(db, cal, scope, deck_cards, fargs, limit)
    missed = [card(rowid, misses, answers, cram=True) for rowid, misses, answers in rows]
    return WeakSpots(leech_count, leeches, lowest, missed)


def _missed_since(db: Database, cal: Calendar, scope: Scope, deck_cards: str, fargs: list,
                  limit: int) -> list[tuple[int, int, int]]:
    """(card, misses, answers) of the most-missed MCQs since --since, from the log."""
    # Misses are ~15% of the log: count them in one sequential scan (NOT INDEXED: probing
    # revlog_card per MCQ card, the planner's pick, fetches scattered rows and is 5x
    # slower), then count all answers only for the cards tied at or above the cut-off.
    # (SQLite materializes a CTE used twice, so the scan runs once.)
    rf, rargs = Scope(since=scope.since).revlog_sql(cal)  # the cards are filtered here
    return db.conn.execute(
        "WITH misses AS (SELECT r.card AS card, COUNT(*) AS n"
        " FROM revlog r NOT INDEXED WHERE r.rating = 1"
        f" AND r.card IN (SELECT id FROM cards WHERE kind = 'mcq' AND {deck_cards}){rf}"
        " GROUP BY r.card)"
        " SELECT card, n, (SELECT COUNT(*) FROM revlog r WHERE r.card = misses.card"
        f"{rf}) AS answers FROM misses"
        " WHERE n >= COALESCE((SELECT n FROM misses ORDER BY n DESC LIMIT 1 OFFSET ?), 1)"
        " ORDER BY n DESC, 1.0 * n / answers DESC, card LIMIT ?",
        [*fargs, *rargs, *rargs, limit - 1, limit],
    ).fetchall()
