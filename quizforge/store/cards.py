"""Card rows and the review log: the store's read and write operations.

Cards are keyed by (deck id, card id) as written in the deck files; `rowid` is the
store's own integer key, used by the review log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from quizforge.decks.model import Deck, card_tags, deck_fingerprint
from quizforge.scheduling.days import day_start
from quizforge.scheduling.scheduler import CardSchedule, ReviewRecord, State
from quizforge.store.db import Database, from_ms, to_ms

_SCHED_COLS = "state, step, stability, difficulty, due, last_review, reps, lapses, suspended, leech"


@dataclass(frozen=True)
class CardRow:
    rowid: int
    deck_id: str
    card_id: str
    kind: str
    tags: tuple[str, ...]
    in_deck: bool
    schedule: CardSchedule

    @property
    def key(self) -> tuple[str, str]:
        return (self.deck_id, self.card_id)


def _card_row(row: sqlite3.Row) -> CardRow:
    return _card_rows([row])[0]


_STATES = {int(s): s for s in State}


def _card_rows(rows: Iterable[sqlite3.Row]) -> list[CardRow]:
    """`_card_row` of each row. Rows with the same schedule share one CardSchedule (it is
    frozen): 100,000 new cards are one object, not 100,000, and building them was most of
    the cost of reading all the new cards at the start of a session."""
    schedules: dict[tuple, CardSchedule] = {}
    out = []
    new_row = CardRow
    for row in rows:
        key = (row["state"], row["step"], row["stability"], row["difficulty"], row["due"],
               row["last_review"], row["reps"], row["lapses"], row["suspended"], row["leech"])
        schedule = schedules.get(key)
        if schedule is None:
            state = _STATES.get(key[0])
            schedule = schedules[key] = CardSchedule(
                state=State(key[0]) if state is None else state,
                step=key[1],
                stability=key[2],
                difficulty=key[3],
                due=from_ms(key[4]),
                last_review=from_ms(key[5]),
                reps=key[6],
                lapses=key[7],
                suspended=bool(key[8]),
                leech=bool(key[9]),
            )
        out.append(new_row(row["id"], row["deck_id"], row["card_id"], row["kind"],
                           tuple(row["tags"].split()), bool(row["in_deck"]), schedule))
    return out


_NEW = CardSchedule()  # a new card's schedule: the cards table's column defaults


def _tags_text(tags: Iterable[str]) -> str:
    tags = list(dict.fromkeys(tags))
    return f" {' '.join(tags)} " if tags else ""


def sync_decks(db: Database, decks: Sequence[Deck], now: datetime,
               initial: Mapping[str, CardSchedule] | None = None,
               inserted: set[str] | None = None) -> dict[str, int]:
    """Make the store match the loaded decks: new cards appear as new, edited cards keep
    their progress (same id), removed cards stop being scheduled but keep their history.

    `initial`: card id -> the schedule a card gets if this sync adds it (an import with
    history: written with the new row, not by an UPDATE after it); the ids of the cards it
    adds go into `inserted`."""
    added = removed = 0
    with db.atomic() as conn:
        for deck in decks:
            fingerprint = deck_fingerprint(deck)
            done = conn.execute(
                "SELECT fingerprint FROM deck_sync WHERE deck_id = ?", (deck.id,)
            ).fetchone()
            if done is not None and done[0] == fingerprint:
                continue  # nothing the store keeps has changed since the last sync
            existing = {
                r["card_id"]: r
                for r in conn.execute(
                    "SELECT id, card_id, kind, tags, in_deck FROM cards WHERE deck_id = ?",
                    (deck.id,),
                )
            }
            seen = set()
            inserts, updates = [], []  # written with executemany: one call, not one per card
            added_at = to_ms(now)
            tag_texts: dict[tuple[str, ...], str] = {}  # cards share a few tag lists
            for card in deck.cards:
                seen.add(card.id)
                tags = tag_texts.get(card.tags)  # worked out once per tag list
                if tags is None:
                    tags = tag_texts[card.tags] = _tags_text(card_tags(deck, card))
                row = existing.get(card.id)
                if row is None:
                    if initial is None:
                        inserts.append((deck.id, card.id, card.type, tags, added_at))
                    else:
                        inserts.append((deck.id, card.id, card.type, tags, added_at,
                                        *_schedule_values(initial.get(card.id) or _NEW)))
                    if inserted is not None:
                        inserted.add(card.id)
                elif row["kind"] != card.type or row["tags"] != tags or not row["in_deck"]:
                    updates.append((card.type, tags, row["id"]))
            _insert_cards(
                conn,
                "INSERT INTO cards (deck_id, card_id, kind, tags, added_at) VALUES (?, ?, ?, ?, ?)"
                if initial is None else
                f"INSERT INTO cards (deck_id, card_id, kind, tags, added_at, {_SCHED_COLS})"
                f" VALUES (?, ?, ?, ?, ?, {', '.join('?' * 10)})",
                inserts,
            )
            added += len(inserts)
            conn.executemany("UPDATE cards SET kind = ?, tags = ?, in_deck = 1 WHERE id = ?", updates)
            gone = [r["id"] for cid, r in existing.items() if cid not in seen and r["in_deck"]]
            conn.executemany("UPDATE cards SET in_deck = 0 WHERE id = ?", [(i,) for i in gone])
            removed += len(gone)
            conn.execute(
                "INSERT INTO deck_sync (deck_id, fingerprint, synced_at) VALUES (?, ?, ?)"
                " ON CONFLICT (deck_id) DO UPDATE SET fingerprint = excluded.fingerprint,"
                " synced_at = excluded.synced_at",
                (deck.id, fingerprint, to_ms(now)),
            )
    return {"added": added, "removed": removed}


def get_card(db: Database, rowid: int) -> CardRow:
    row = db.conn.execute("SELECT * FROM cards WHERE id = ?", (rowid,)).fetchone()
    if row is None:
        raise KeyError(rowid)
    return _card_row(row)


def find_card(db: Database, deck_id: str, card_id: str) -> CardRow | None:
    row = db.conn.execute(
        "SELECT * FROM cards WHERE deck_id = ? AND card_id = ?", (deck_id, card_id)
    ).fetchone()
    return _card_row(row) if row else None


def _filters(deck_ids: Sequence[str], tags: Sequence[str]) -> tuple[str, list]:
    sql = f" AND deck_id IN ({','.join('?' * len(deck_ids))})"
    args: list = list(deck_ids)
    if tags:
        sql += " AND (" + " OR ".join("tags LIKE ?" for _ in tags) + ")"
        args += [f"% {t} %" for t in tags]
    return sql, args


def due_cards(
    db: Database,
    deck_ids: Sequence[str],
    tags: Sequence[str],
    until: datetime,
    states: Sequence[State],
    limit: int = -1,
) -> list[CardRow]:
    """Cards in `states` due by `until`, earliest first (limit -1: all)."""
    f, args = _filters(deck_ids, tags)
    marks = ",".join("?" * len(states))
    rows = db.conn.execute(
        f"SELECT * FROM cards WHERE in_deck = 1 AND suspended = 0 AND state IN ({marks})"
        f" AND due <= ?{f} ORDER BY due LIMIT ?",
        [*(int(s) for s in states), to_ms(until), *args, limit],
    )
    return _card_rows(rows)


def new_cards(db: Database, deck_ids: Sequence[str], tags: Sequence[str], limit: int) -> list[CardRow]:
    """New cards in deck order (the order they were added to the store)."""
    f, args = _filters(deck_ids, tags)
    rows = db.conn.execute(
        f"SELECT * FROM cards WHERE in_deck = 1 AND suspended = 0 AND state = 0{f}"
        " ORDER BY id LIMIT ?",
        [*args, limit],
    )
    return _card_rows(rows)


def started_counts(
    db: Database, deck_ids: Sequence[str], tags: Sequence[str]
) -> dict[tuple[str, str], int]:
    """Cards already introduced (answered at least once) per (deck, card type), suspended
    ones included: the new-card order's shares (study/new_order.py)."""
    f, args = _filters(deck_ids, tags)
    rows = db.conn.execute(
        f"SELECT deck_id, kind, COUNT(*) FROM cards WHERE in_deck = 1 AND state != 0{f}"
        " GROUP BY deck_id, kind",
        args,
    )
    return {(d, k): n for d, k, n in rows}


def plan_cards(db: Database) -> list[tuple[str, CardSchedule]]:
    """What `quizforge plan` plays forward, with each card's deck: the cards of the
    decks (not suspended, not drill skills), in store order."""
    return [
        (
            deck_id,
            CardSchedule(
                state=State(state),
                step=step,
                stability=stab,
                difficulty=diff,
                due=from_ms(due),
                last_review=from_ms(last),
                reps=reps,
                lapses=lapses,
            ),
        )
        for deck_id, state, step, stab, diff, due, last, reps, lapses in db.conn.execute(
            "SELECT deck_id, state, step, stability, difficulty, due, last_review, reps, lapses"
            " FROM cards WHERE in_deck = 1 AND suspended = 0 AND kind != 'skill' ORDER BY id"
        )
    ]


def all_cards(db: Database, deck_ids: Sequence[str], tags: Sequence[str]) -> list[CardRow]:
    """Every scheduled-or-new card in these decks (for cram), suspended ones left out."""
    f, args = _filters(deck_ids, tags)
    rows = db.conn.execute(
        f"SELECT * FROM cards WHERE in_deck = 1 AND suspended = 0{f} ORDER BY id", args
    )
    return _card_rows(rows)


def next_due(db: Database, deck_ids: Sequence[str], tags: Sequence[str]) -> datetime | None:
    f, args = _filters(deck_ids, tags)
    row = db.conn.execute(
        f"SELECT MIN(due) FROM cards WHERE in_deck = 1 AND suspended = 0 AND state != 0{f}", args
    ).fetchone()
    return from_ms(row[0])


def held_over_cards(
    db: Database, deck_ids: Sequence[str], tags: Sequence[str], now: datetime, since: datetime
) -> list[CardRow]:
    """Review cards due after `now` that have not been answered since `since` (see
    scheduling.interview.held_over_since)."""
    f, args = _filters(deck_ids, tags)
    rows = db.conn.execute(
        "SELECT * FROM cards WHERE in_deck = 1 AND suspended = 0 AND state = 2 AND due > ?"
        f" AND last_review < ?{f} ORDER BY due",
        [to_ms(now), to_ms(since), *args],
    )
    return _card_rows(rows)


def ahead_cards(
    db: Database,
    deck_ids: Sequence[str],
    tags: Sequence[str],
    now: datetime,
    moment: datetime,
    k: float,
    limit: int,
) -> list[CardRow]:
    """Review cards not due by `now` whose recall at `moment` will be below a retention,
    lowest recall first. FSRS recall falls as t/S grows (t: whole days since the last
    review, S: stability) and equals the retention at t = k·S (RecallCurve.at_least_sql)."""
    f, args = _filters(deck_ids, tags)
    m = to_ms(moment)
    elapsed = "MAX(0, (? - last_review) / 86400000)"  # whole days, as py-fsrs counts them
    rows = db.conn.execute(
        "SELECT * FROM cards WHERE in_deck = 1 AND suspended = 0 AND state = 2 AND due > ?"
        f"{f} AND stability > 0 AND {elapsed} > stability * ?"
        f" ORDER BY {elapsed} / stability DESC, id LIMIT ?",
        [to_ms(now), *args, m, k, m, limit],
    )
    return _card_rows(rows)


def due_counts(
    db: Database, first: date, last: date, starts_at: int = 4, tz: tzinfo | None = None
) -> dict[date, int]:
    """Review-state cards due on each study day from `first` to `last` (inclusive), every
    deck and drill skill counted (all of them are the learner's work that day); suspended
    cards and cards removed from their deck left out. One query on the cards_due index."""
    n = (last - first).days + 1
    bounds = [to_ms(day_start(first + timedelta(days=i), starts_at, tz)) for i in range(n + 1)]
    cases = " ".join(f"WHEN due < ? THEN {i}" for i in range(n))
    rows = db.conn.execute(
        f"SELECT CASE {cases} END, COUNT(*) FROM cards WHERE state = 2 AND due >= ? AND due < ?"
        " AND suspended = 0 AND in_deck = 1 GROUP BY 1",
        [*bounds[1:], bounds[0], bounds[-1]],
    )
    return {first + timedelta(days=i): count for i, count in rows}


_WRITE_SCHEDULE = ("UPDATE cards SET state = ?, step = ?, stability = ?, difficulty = ?, due = ?,"
                   " last_review = ?, reps = ?, lapses = ?, suspended = ?, leech = ? WHERE id = ?")


def card_columns(conn: sqlite3.Connection, ids: set[int], columns: str) -> dict[int, tuple]:
    """`columns` (the cards table's, comma-separated) of these cards, by rowid: a look-up
    each, or one pass over the table when they are many (over 2,000)."""
    sql = f"SELECT id, {columns} FROM cards"
    if len(ids) > 2000:
        return {r[0]: tuple(r[1:]) for r in conn.execute(sql) if r[0] in ids}
    return {i: tuple(conn.execute(sql + " WHERE id = ?", (i,)).fetchone()[1:]) for i in ids}


def write_schedule(conn: sqlite3.Connection, rowid: int, s: CardSchedule) -> None:
    conn.execute(_WRITE_SCHEDULE, _schedule_row(rowid, s))


def write_schedules(conn: sqlite3.Connection,
                    schedules: Iterable[tuple[int, CardSchedule]]) -> None:
    """`write_schedule` for many cards, in one statement run over them (executemany)."""
    conn.executemany(_WRITE_SCHEDULE, (_schedule_row(rowid, s) for rowid, s in schedules))


def same_row(a: CardSchedule, b: CardSchedule) -> bool:
    """Whether the two schedules are one card row (times as the store keeps them, in ms)."""
    return _schedule_row(0, a) == _schedule_row(0, b)


def _schedule_values(s: CardSchedule) -> tuple:
    """The card table's schedule columns (_SCHED_COLS' order) of `s`."""
    return (int(s.state), s.step, s.stability, s.difficulty, to_ms(s.due),
            to_ms(s.last_review), s.reps, s.lapses, int(s.suspended), int(s.leech))


def _schedule_row(rowid: int, s: CardSchedule) -> tuple:
    return (*_schedule_values(s), rowid)


_INSERT_REVIEW = ("INSERT INTO revlog (card, reviewed_at, rating, duration_ms, state_before,"
                  " interval_days, elapsed_days, cram) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def insert_review(conn: sqlite3.Connection, rowid: int, r: ReviewRecord, cram: bool = False) -> int:
    cur = conn.execute(_INSERT_REVIEW, _review_row(rowid, r, cram))
    return cur.lastrowid


# The triggers that keep the summary tables (migrations 0007, 0009, 0010) as each revlog row
# is inserted. `insert_review_rows` does their work once for all its rows instead.
REVLOG_INSERT_TRIGGERS = ("deck_reviews_revlog_insert", "card_reviews_revlog_insert",
                           "study_days_revlog_insert")


def has_synced(conn: sqlite3.Connection) -> bool:
    """Whether this store has a sync device (it has synced once): only then does the sync
    outbox list what it writes (migration 0019)."""
    return conn.execute("SELECT 1 FROM sync_device").fetchone() is not None


def set_aside_triggers(conn: sqlite3.Connection, names: Sequence[str]) -> list[tuple[str, str]]:
    """Drop these triggers (those that exist) and return their (name, SQL), for a bulk write
    that does their work in one grouped statement each and then creates them again from
    that SQL. Inside the caller's transaction only: no other connection ever sees the store
    without them (one writer at a time; readers see the last commit), and a failure rolls
    the drop back with the rest."""
    if not conn.in_transaction:  # the DROP TRIGGER would be committed on its own
        raise RuntimeError("a bulk write needs a transaction (db.atomic())")
    marks = ",".join("?" * len(names))
    triggers = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})",
        tuple(names)).fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    return triggers


def _add_deck_reviews(conn: sqlite3.Connection, new: str, args: tuple, fresh: bool) -> None:
    """deck_reviews for a bulk write: the answers matching `new` (a condition on the review
    log `v` and the cards `c`) added to their decks' counts, or, when the new rows cannot be
    told apart (`fresh` False), every count made again."""
    if not fresh:
        conn.execute("DELETE FROM deck_reviews")
    conn.execute(
        "INSERT INTO deck_reviews (deck_id, reviews) SELECT c.deck_id, COUNT(*)"
        f" FROM revlog v JOIN cards c ON c.id = v.card WHERE {new} GROUP BY c.deck_id"
        " ON CONFLICT (deck_id) DO UPDATE SET reviews = reviews + excluded.reviews", args)


# Inserting this many cards at once (a first sync of a big folder, an import) sets the
# cards' insert triggers aside (_insert_cards): per row they cost ~17 µs of 23.
BULK_CARDS = 2000
_CARD_INSERT_TRIGGERS = ("deck_reviews_cards_insert", "study_days_cards_insert",
                         "recall_groups_cards_insert", "card_groups_insert")


def _insert_cards(conn: sqlite3.Connection, sql: str, rows: Sequence[tuple]) -> None:
    """`rows` into cards with `sql`; from BULK_CARDS rows on, the insert triggers' work is
    done once for all the new rows (one grouped statement each) instead of once per row:
    deck_reviews counts the new cards' answers (a reused rowid may have some), the counted
    study days and recall groups are dropped if a new card has answers, and card_groups
    adds the new cards' counts. A trigger not named in _CARD_INSERT_TRIGGERS keeps firing."""
    if len(rows) < BULK_CARDS:
        conn.executemany(sql, rows)
        return
    from quizforge.store.health import SUMMARIES  # the recount of card_groups

    triggers = set_aside_triggers(conn, _CARD_INSERT_TRIGGERS)
    before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM cards").fetchone()[0]
    conn.executemany(sql, rows)
    fresh = conn.execute("SELECT COUNT(*) FROM cards WHERE id > ?",
                         (before,)).fetchone()[0] == len(rows)
    if not fresh:  # ids reused below the largest: count again whole
        before = None
    new, args = ("c.id > ?", (before,)) if fresh else ("1", ())
    answered = conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM revlog v JOIN cards c ON c.id = v.card WHERE {new})",
        args).fetchone()[0]
    for name, trigger_sql in triggers:
        if name == "deck_reviews_cards_insert" and answered:
            _add_deck_reviews(conn, new, args, fresh)
        elif name == "study_days_cards_insert" and answered:
            conn.execute("DELETE FROM study_days_done")
            conn.execute("DELETE FROM study_days")
        elif name == "recall_groups_cards_insert" and answered:
            conn.execute("DELETE FROM recall_groups_done")
            conn.execute("DELETE FROM recall_groups")
        elif name == "card_groups_insert":
            columns = ("cards", "new_cards", "learning", "young", "mature", "suspended",
                       "leeches", "reviewed")
            recount = SUMMARIES["card_groups"][1]  # "... FROM cards WHERE ... GROUP BY ..."
            assert recount.count(" FROM cards WHERE ") == 1
            if fresh:
                recount = recount.replace(" FROM cards WHERE ", " FROM cards WHERE id > ? AND ")
            else:
                conn.execute("DELETE FROM card_groups")
            conn.execute(
                f"INSERT INTO card_groups (deck_id, tags, {', '.join(columns)}) {recount}"
                " ON CONFLICT (deck_id, tags) DO UPDATE SET "
                + ", ".join(f"{c} = {c} + excluded.{c}" for c in columns), args)
        conn.execute(trigger_sql)


def insert_review_rows(conn: sqlite3.Connection, rows: Sequence[tuple]) -> None:
    """Many answers at once (an import's history): `rows` are the revlog's columns
    (card rowid, reviewed_at ms, rating, duration_ms, state_before, interval_days,
    elapsed_days, cram), written in one executemany, in order. Call it inside a transaction
    (`db.atomic()`).

    The summary tables are brought up to date with one grouped statement each, not by the
    revlog triggers once per row (which was most of the time of a 100,000-row import):
    the triggers are dropped for the insert and created again from their own SQL, inside
    the same transaction. No other connection ever sees the store without them (SQLite has
    one writer at a time, readers see the last commit), and a failure rolls all of it back.
    What the triggers would have done: deck_reviews and card_reviews count the new rows;
    the counted study days that hold a new answer are dropped (a report counts them again);
    the sync outbox gets each new answer with its card's schedule (once the store has
    synced, and unless an import from another machine is running: sync_importing). A
    trigger on revlog inserts not named in REVLOG_INSERT_TRIGGERS (or sync_revlog_insert)
    keeps firing per row."""
    if rows:
        _bulk_revlog(conn, lambda: conn.executemany(_INSERT_REVIEW, rows).rowcount)


def insert_review_select(conn: sqlite3.Connection, select: str, args) -> int:
    """`insert_review_rows` for the rows `select` gives (run with `args`): the same columns,
    in order, written by one INSERT ... SELECT. How many rows it wrote."""
    return _bulk_revlog(conn, lambda: conn.execute(
        "INSERT INTO revlog (card, reviewed_at, rating, duration_ms, state_before,"
        f" interval_days, elapsed_days, cram) {select}", args).rowcount)


def _bulk_revlog(conn: sqlite3.Connection, write) -> int:
    """Run `write()` (it inserts revlog rows and returns how many) with the summary tables
    brought up to date once for all its rows (see insert_review_rows)."""
    before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM revlog").fetchone()[0]
    # The sync outbox's trigger can wait only when the new rows are sure to be `id > before`
    # (far below SQLite's largest integer): it has no recount to fall back on.
    names = REVLOG_INSERT_TRIGGERS + (("sync_revlog_insert",) if before < 1 << 62 else ())
    triggers = set_aside_triggers(conn, names)
    written = write()
    # New rows take the ids after the largest (unless that is SQLite's largest integer):
    # `v.id > before` picks them; otherwise the summaries are counted again whole.
    fresh = conn.execute("SELECT COUNT(*) FROM revlog WHERE id > ?",
                         (before,)).fetchone()[0] == written
    new = "v.id > ?" if fresh else "1"
    args = (before,) if fresh else ()
    per_card = {n for n, _ in triggers} & {"deck_reviews_revlog_insert",
                                          "card_reviews_revlog_insert"}
    if per_card:
        # The new answers and misses per card, counted once for card_reviews and
        # deck_reviews both (a pass over the new rows, by their ids: NOT INDEXED keeps the
        # planner off revlog_card, which would scan every row of the log).
        conn.execute(f"DROP TABLE IF EXISTS {_NEW_ANSWERS}")
        conn.execute(f"CREATE TABLE {_NEW_ANSWERS} (card INTEGER PRIMARY KEY, answers INTEGER,"
                     " misses INTEGER)")
        conn.execute(f"INSERT INTO {_NEW_ANSWERS} SELECT v.card, COUNT(*), SUM(v.rating = 1)"
                     f" FROM revlog v NOT INDEXED WHERE {new} GROUP BY v.card", args)
    for name, sql in triggers:
        if name == "deck_reviews_revlog_insert":
            if not fresh:
                conn.execute("DELETE FROM deck_reviews")
            conn.execute(
                "INSERT INTO deck_reviews (deck_id, reviews) SELECT c.deck_id, SUM(a.answers)"
                f" FROM {_NEW_ANSWERS} a JOIN cards c ON c.id = a.card GROUP BY c.deck_id"
                " ON CONFLICT (deck_id) DO UPDATE SET reviews = reviews + excluded.reviews")
        elif name == "card_reviews_revlog_insert":
            if not fresh:
                conn.execute("DELETE FROM card_reviews")
            conn.execute(
                "INSERT INTO card_reviews (card, answers, misses) SELECT card, answers, misses"
                f" FROM {_NEW_ANSWERS} WHERE true"
                " ON CONFLICT (card) DO UPDATE SET answers = answers + excluded.answers,"
                " misses = misses + excluded.misses")
        elif name == "study_days_revlog_insert":
            for table in ("study_days_done", "study_days"):
                # the trigger's condition (migrations._drop_days), for any new row
                conn.execute(
                    f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM revlog v INDEXED BY"
                    f" revlog_time WHERE v.reviewed_at >= {table}.lo AND v.reviewed_at <"
                    f" {table}.hi AND v.reviewed_at < {table}.lo + 259200000 AND {new})",
                    args)
        elif name == "sync_revlog_insert" and has_synced(conn):
            # each new answer into the outbox with its card's schedule as it is now (nothing
            # changes a card during the insert): the trigger's statement, for all of them
            # (a store that never synced keeps no outbox: its first sync lists every row)
            conn.execute(
                "INSERT OR REPLACE INTO sync_outbox (tbl, row, state, step, stability,"
                " difficulty, due, reps, lapses, leech) SELECT 'revlog', v.id, c.state, c.step,"
                " c.stability, c.difficulty, c.due, c.reps, c.lapses, c.leech FROM revlog v"
                " JOIN cards c ON c.id = v.card WHERE v.id > ?"
                " AND NOT EXISTS (SELECT 1 FROM sync_importing) ORDER BY v.id", (before,))
        conn.execute(sql)
    if per_card:
        conn.execute(f"DROP TABLE {_NEW_ANSWERS}")
    return written


_NEW_ANSWERS = "temp.quizforge_new_answers"  # _bulk_revlog's count per card


def _review_row(rowid: int, r: ReviewRecord, cram: bool) -> tuple:
    return (
        rowid,
        to_ms(r.reviewed_at),
        int(r.rating),
        r.duration_ms,
        int(r.state_before),
        r.interval_days,
        r.elapsed_days,
        int(cram),
    )


def delete_review(conn: sqlite3.Connection, revlog_id: int) -> None:
    conn.execute("DELETE FROM revlog WHERE id = ?", (revlog_id,))


def set_suspended(db: Database, rowid: int, suspended: bool,
                  now: datetime | None = None) -> None:
    """Suspend or unsuspend a card; `now`, when given, is kept as the time of the change
    (sync sends it: the change made last wins on every machine)."""
    with db.atomic() as conn:
        conn.execute("UPDATE cards SET suspended = ? WHERE id = ?", (int(suspended), rowid))
        if now is not None:
            stamp_suspension(conn, rowid, suspended, now)


def stamp_suspension(conn: sqlite3.Connection, rowid: int, suspended: bool,
                     now: datetime) -> None:
    conn.execute("INSERT OR REPLACE INTO sync_suspend_stamps (card, suspended, at)"
                 " VALUES (?, ?, ?)", (rowid, int(suspended), to_ms(now)))


def studied_today(db: Database, day_start: datetime) -> dict[str, int]:
    """New cards introduced and review-state cards reviewed since `day_start` (for daily limits).
    Cram answers don't count, nor drill skills (`quizforge drill` schedules those; study never
    shows them, so a drill must not use up the day's new cards)."""
    row = db.conn.execute(
        "SELECT"
        " COUNT(DISTINCT CASE WHEN r.state_before = 0 THEN r.card END),"
        " COUNT(DISTINCT CASE WHEN r.state_before = 2 THEN r.card END)"
        " FROM revlog r JOIN cards c ON c.id = r.card"
        " WHERE r.reviewed_at >= ? AND r.cram = 0 AND c.kind != 'skill'",
        (to_ms(day_start),),
    ).fetchone()
    return {"new": row[0], "reviews": row[1]}


def deck_stats(db: Database, deck_ids: Sequence[str], now: datetime) -> dict[str, dict[str, int]]:
    """Per deck: `new` cards, cards `due` now, and `reviews` (rows in the review log)."""
    out = {d: {"new": 0, "due": 0, "reviews": 0} for d in deck_ids}
    if not deck_ids:
        return out
    marks = ",".join("?" * len(deck_ids))
    # Two counts, each a range of the cards_sched index: new cards, and the due ones among
    # the others (one pass testing state and due on every card took twice as long).
    scheduled = ",".join(str(int(s)) for s in State if s != State.NEW)
    for column, sql, args in (
        ("new", "state = 0", []),
        ("due", f"state IN ({scheduled}) AND due <= ?", [to_ms(now)]),
    ):
        for deck_id, n in db.conn.execute(
            f"SELECT deck_id, COUNT(*) FROM cards WHERE deck_id IN ({marks}) AND in_deck = 1"
            f" AND suspended = 0 AND {sql} GROUP BY deck_id",
            [*deck_ids, *args],
        ):
            out[deck_id][column] = n
    # Kept by triggers (store/migrations.py 0007): counting the review log took 0.1 s at
    # a million rows.
    for deck_id, n in db.conn.execute(
        f"SELECT deck_id, reviews FROM deck_reviews WHERE deck_id IN ({marks})", list(deck_ids)
    ):
        out[deck_id]["reviews"] = n
    return out


@dataclass(frozen=True)
class Attempt:
    """One attempted drill problem (`generator` holds its family, e.g. 'backprop').

    `correct`: right at the first graded answer with no hint and no reveal; `solved`: the
    right answer was reached, perhaps after retries or hints, without a reveal; `rating`:
    the FSRS rating it gave its card ('good', 'hard' or 'again'). Left out, `solved` is
    `correct` and `rating` is 'good' or 'again' from `correct`: a first try, unaided."""

    attempted_at: datetime
    generator: str
    difficulty: int
    form: str
    seed: int
    skills: tuple[str, ...]
    correct: bool
    score: float
    duration_ms: int
    solved: bool | None = None
    tries: int = 1
    hints: int = 0
    revealed: bool = False
    rating: str | None = None

    def __post_init__(self) -> None:
        if self.solved is None:
            object.__setattr__(self, "solved", self.correct)
        if self.rating is None:
            object.__setattr__(self, "rating", "good" if self.correct else "again")


def insert_attempt(conn: sqlite3.Connection, a: Attempt, card_rowid: int | None = None) -> int:
    cur = conn.execute(
        "INSERT INTO drill_attempts (attempted_at, generator, difficulty, form, seed, skills,"
        " correct, score, duration_ms, card, solved, tries, hints, revealed, rating)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            to_ms(a.attempted_at),
            a.generator,
            a.difficulty,
            a.form,
            a.seed,
            _tags_text(a.skills),
            int(a.correct),
            a.score,
            a.duration_ms,
            card_rowid,
            int(a.solved),
            a.tries,
            a.hints,
            int(a.revealed),
            a.rating,
        ),
    )
    return cur.lastrowid


def ensure_card(conn: sqlite3.Connection, deck_id: str, card_id: str, kind: str, now: datetime) -> int:
    """The rowid of a card the app schedules itself (a drill skill), created as new if absent."""
    conn.execute(
        "INSERT OR IGNORE INTO cards (deck_id, card_id, kind, added_at) VALUES (?, ?, ?, ?)",
        (deck_id, card_id, kind, to_ms(now)),
    )
    return conn.execute(
        "SELECT id FROM cards WHERE deck_id = ? AND card_id = ?", (deck_id, card_id)
    ).fetchone()[0]


def suspended_cards(db: Database) -> list[CardRow]:
    rows = db.conn.execute(
        "SELECT * FROM cards WHERE suspended = 1 AND in_deck = 1 ORDER BY deck_id, card_id"
    )
    return _card_rows(rows)


def simulation_cards(db: Database) -> tuple[list[CardSchedule], int]:
    """What `simulate` plays forward: the schedule of every card in a deck, not suspended
    and not a drill skill (study never shows those), and how many of them are new."""
    scheduled = []
    new = 0
    for state, step, stab, diff, due, last, reps, lapses in db.conn.execute(
        "SELECT state, step, stability, difficulty, due, last_review, reps, lapses FROM cards"
        " WHERE in_deck = 1 AND suspended = 0 AND kind != 'skill' ORDER BY id"
    ):
        if state == State.NEW:
            new += 1
            continue
        scheduled.append(
            CardSchedule(
                state=State(state),
                step=step,
                stability=stab,
                difficulty=diff,
                due=from_ms(due),
                last_review=from_ms(last),
                reps=reps,
                lapses=lapses,
            )
        )
    return scheduled, new


ANSWER_MS_CAP = 600_000  # an answer left open longer than 10 minutes counts as 10 minutes
RECENT_ANSWERS = 20_000  # how the learner answers now, not two years ago


def answer_tallies(db: Database, recent: int = RECENT_ANSWERS) -> list[tuple[int, int, int, int, int]]:
    """The last `recent` answers of the review log (cram answers and drill skills left out),
    tallied as `(state_before, rating, answers, timed answers, their ms)`; durations are
    capped at ANSWER_MS_CAP so one answer left open overnight does not set the pace."""
    return [
        tuple(row)
        for row in db.conn.execute(
            "SELECT state_before, rating, COUNT(*), SUM(duration_ms > 0),"
            " COALESCE(SUM(MIN(duration_ms, ?)), 0) FROM ("
            "  SELECT r.state_before, r.rating, r.duration_ms FROM revlog r"
            "  JOIN cards c ON c.id = r.card WHERE r.cram = 0 AND c.kind != 'skill'"
            "  ORDER BY r.reviewed_at DESC LIMIT ?"
            ") GROUP BY 1, 2",
            (ANSWER_MS_CAP, recent),
        )
    ]


def unsynced_new(db: Database, decks: Sequence) -> int:
    """Cards of loaded decks the store has not met yet (added to a deck file since it was
    last studied): `study` would add them as new. Decks whose sync fingerprint matches are
    complete; for the others, the deck's card count beyond the store's (each deck needs
    `id`, `fingerprint` and `counts()`, as DeckInfo has)."""
    return sum(unsynced_new_by_deck(db, decks).values())


def unsynced_new_by_deck(db: Database, decks: Sequence) -> dict[str, int]:
    """`unsynced_new` for each deck (decks with none left out)."""
    synced = dict(db.conn.execute("SELECT deck_id, fingerprint FROM deck_sync"))
    known = dict(
        db.conn.execute(
            "SELECT deck_id, COUNT(*) FROM cards WHERE in_deck = 1 AND kind != 'skill'"
            " GROUP BY deck_id"
        )
    )
    out = {}
    for d in decks:
        if synced.get(d.id) != d.fingerprint:
            n = max(0, sum(d.counts().values()) - known.get(d.id, 0))
            if n:
                out[d.id] = n
    return out


def fitting_log(db: Database, drill_kinds: Sequence[str]):
    """What fitting FSRS reads (quizforge.scheduling.fitting.log_histories): the counts of
    (all answers, cram answers, drill answers), and the rows (card, reviewed_at, rating,
    state_before) of every non-cram answer to a card whose kind is not one of `drill_kinds`,
    by card and time."""
    marks = ",".join("?" * len(drill_kinds))
    totals = db.conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(r.cram), 0),"
        f" COALESCE(SUM(r.cram = 0 AND c.kind IN ({marks})), 0)"
        " FROM revlog r JOIN cards c ON c.id = r.card",
        tuple(drill_kinds),
    ).fetchone()
    rows = db.conn.execute(
        "SELECT r.card, r.reviewed_at, r.rating, r.state_before FROM revlog r"
        " JOIN cards c ON c.id = r.card"
        f" WHERE r.cram = 0 AND c.kind NOT IN ({marks}) ORDER BY r.card, r.reviewed_at, r.id",
        tuple(drill_kinds),
    )
    return tuple(totals), rows
