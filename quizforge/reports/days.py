"""Per study day figures that trends and true retention share, kept in the store.

For each study day (exact bounds lo, hi) and (deck, tag list): the predictions of the day's
scheduled answers (recall_predictions, predicted >= 0); per card, the day's first
scheduled answer when the card was in review state (young/mature by elapsed_days, passed
when Hard, Good or Easy); and how many answers there were (the calendar's count, cram
included) and how many of them scheduled. Computed from the review log for the days not
yet kept, then read back: store.migrations' triggers drop a kept day whenever anything it
was counted from changes, so the rows always equal a recount
(tests/test_report_summaries.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from quizforge.reports.mastery import MATURE_DAYS
from quizforge.reports.scope import Calendar, DayGrid, Scope
from quizforge.store.db import Database

# answers counted without the kept rows (tests compare the two)
USE_SUMMARIES = True
CHUNK_DAYS = 14  # days counted per query when the store does not hold them yet


@dataclass(frozen=True)
class DayRow:
    i: int  # index of the day in the grid
    deck_id: str
    tags: str  # cards.tags (' a b ')
    pred_n: int
    pred_sum: float
    young: int
    young_passed: int
    mature: int
    mature_passed: int
    answers: int = 0  # every review-log row of the day, cram included (the calendar's count)
    scheduled: int = 0  # of those, not cram: a row with none has only `answers`


def _count(db: Database, grid: DayGrid, days: list[int], scope: Scope = Scope()) -> list[tuple]:
    """The rows of `days` (indexes into grid) from the review log: (i, deck, tags, ...),
    of the cards in `scope` (its decks and tags)."""
    f, fargs = scope.cards_sql("c.")
    rows = ",".join("(?,?,?)" for _ in days)
    args: list = []
    for i in days:
        args += [i, grid.bounds[i], grid.bounds[i + 1]]
    # MIN(reviewed_at) with bare columns: SQLite takes them from the row holding the minimum.
    # `per`: each card's first scheduled answer of the day (cram left out); then one row per
    # answer, cram included, for the day's counts.
    return db.conn.execute(
        f"WITH days(i, lo, hi) AS (VALUES {rows}), per AS ("
        " SELECT days.i AS i, r.card AS card, MIN(r.reviewed_at), r.state_before AS sb,"
        " r.rating AS rating, r.elapsed_days AS elapsed, COUNT(p.id) AS pn,"
        " TOTAL(p.predicted) AS ps FROM days"
        " JOIN revlog r ON r.reviewed_at >= days.lo AND r.reviewed_at < days.hi"
        " LEFT JOIN recall_predictions p ON p.id = r.id AND p.predicted >= 0"
        " WHERE r.cram = 0 GROUP BY days.i, r.card),"
        " rows AS (SELECT i, card, pn, ps, sb, rating, elapsed, 0 AS n, 0 AS sn FROM per"
        " UNION ALL SELECT days.i, r.card, 0, 0.0, NULL, NULL, NULL, 1, r.cram = 0 FROM days"
        " JOIN revlog r ON r.reviewed_at >= days.lo AND r.reviewed_at < days.hi)"
        " SELECT rows.i, c.deck_id, c.tags, SUM(pn), TOTAL(ps),"
        " COALESCE(SUM(sb = 2 AND NOT COALESCE(elapsed >= ?, 0)), 0),"
        " COALESCE(SUM(sb = 2 AND NOT COALESCE(elapsed >= ?, 0) AND rating > 1), 0),"
        " COALESCE(SUM(sb = 2 AND elapsed >= ?), 0),"
        " COALESCE(SUM(sb = 2 AND elapsed >= ? AND rating > 1), 0), SUM(n), SUM(sn)"
        f" FROM rows JOIN cards c ON c.id = rows.card WHERE 1{f}"
        " GROUP BY rows.i, c.deck_id, c.tags",
        [*args, MATURE_DAYS, MATURE_DAYS, MATURE_DAYS, MATURE_DAYS, *fargs],
    ).fetchall()


def day_rows(db: Database, grid: DayGrid, scope: Scope, cal: Calendar) -> list[DayRow]:
    """The (day, deck, tag list) rows of the grid's days for the scope's cards and from its
    --since day on (a day start, so whole days), cram left out."""
    since = scope.since_ms(cal)
    if not USE_SUMMARIES:
        wanted = [i for i in range(len(grid)) if grid.bounds[i] >= since]
        return [DayRow(*r) for r in _count(db, grid, wanted, scope) if r[-1]]
    index = _keep(db, grid)
    # the scope's decks and tags as for cards: study_days has their columns, deck_id and tags
    f, fargs = scope.cards_sql()
    out = []
    for a, b, *rest in db.conn.execute(
        "SELECT lo, hi, deck_id, tags, pred_n, pred_sum, young, young_passed, mature,"
        f" mature_passed, answers, scheduled FROM study_days WHERE lo >= ? AND lo < ?"
        f" AND scheduled > 0{f}",
        (max(grid.bounds[0], since), grid.bounds[-1], *fargs),
    ):
        i = index.get((a, b))
        if i is not None:
            out.append(DayRow(i, *rest))
    return out


def day_sums(db: Database, grid: DayGrid, scope: Scope, cal: Calendar, per: int = 1,
             by_tags: bool = True) -> list[tuple]:
    """day_rows summed over decks, and over each run of `per` days (day i in run i // per):
    (run, tags, pred_n, pred_sum, young, young_passed, mature, mature_passed), or without
    tags (the tag list '') unless `by_tags`. Summed in SQLite from the kept rows: a few
    thousand rows come back rather than a row per day, deck and tag list."""
    if not USE_SUMMARIES:
        sums: dict[tuple[int, str], list] = {}
        for r in day_rows(db, grid, scope, cal):
            row = sums.setdefault((r.i // per, r.tags if by_tags else ""), [0, 0.0, 0, 0, 0, 0])
            for k, x in enumerate((r.pred_n, r.pred_sum, r.young, r.young_passed, r.mature,
                                   r.mature_passed)):
                row[k] += x
        return [(*key, *row) for key, row in sums.items()]
    _keep(db, grid)
    since = scope.since_ms(cal)
    wanted = [i for i in range(len(grid)) if grid.bounds[i] >= since]
    if not wanted:
        return []
    days = ",".join("(?,?,?)" for _ in wanted)
    args: list = []
    for i in wanted:
        args += [i // per, grid.bounds[i], grid.bounds[i + 1]]
    f, fargs = scope.cards_sql("s.")
    tags = "s.tags" if by_tags else "''"
    return db.conn.execute(
        f"WITH days(k, lo, hi) AS (VALUES {days}) SELECT days.k, {tags}, SUM(s.pred_n),"
        " TOTAL(s.pred_sum), SUM(s.young), SUM(s.young_passed), SUM(s.mature),"
        " SUM(s.mature_passed) FROM days JOIN study_days s ON s.lo = days.lo AND s.hi = days.hi"
        f" WHERE s.scheduled > 0{f} GROUP BY 1, 2",
        [*args, *fargs],
    ).fetchall()


def day_answers(db: Database, grid: DayGrid, scope: Scope, cal: Calendar) -> list[int]:
    """Review-log rows (cram included) on each day of `grid` for the scope's cards, from its
    --since day on: the kept days' `answers` summed per day, not the log's rows counted."""
    index = _keep(db, grid)
    since = scope.since_ms(cal)
    f, fargs = scope.cards_sql()
    out = [0] * len(grid)
    # One range of the primary key (lo, hi, ...), already in (lo, hi) order: no join with
    # the grid's days and no sort; a kept day that is not one of the grid's is skipped.
    for lo, hi, n in db.conn.execute(
        "SELECT lo, hi, SUM(answers) FROM study_days WHERE lo >= ? AND lo < ?"
        f"{f} GROUP BY lo, hi",
        [max(grid.bounds[0], since), grid.bounds[-1], *fargs],
    ):
        i = index.get((lo, hi))
        if i is not None:
            out[i] = n
    return out


def kept_active(db: Database, grid: DayGrid, scope: Scope, cal: Calendar
                ) -> tuple[set[int], set[int]]:
    """The days of `grid` the store holds (none counted here), and which of them have an
    answer (cram included) of the scope's cards from its --since day on."""
    index, kept = _kept_days(db, grid)
    lo, hi = grid.bounds[0], grid.bounds[-1]
    f, fargs = scope.cards_sql()
    active = {
        index[(a, b)]
        for a, b in db.conn.execute(
            "SELECT DISTINCT lo, hi FROM study_days WHERE lo >= ? AND lo < ? AND answers > 0"
            f"{f}", (max(lo, scope.since_ms(cal)), hi, *fargs))
        if (a, b) in index and index[(a, b)] in kept
    }
    return kept, active


def _kept_days(db: Database, grid: DayGrid) -> tuple[dict[tuple[int, int], int], set[int]]:
    """The grid's index of each day's (start, end), and which of its days the store holds."""
    index = {(grid.bounds[i], grid.bounds[i + 1]): i for i in range(len(grid))}
    done = {
        index[(a, b)]
        for a, b in db.conn.execute("SELECT lo, hi FROM study_days_done WHERE lo >= ? AND lo < ?",
                                    (grid.bounds[0], grid.bounds[-1]))
        if (a, b) in index
    }
    return index, done


def _keep(db: Database, grid: DayGrid) -> dict[tuple[int, int], int]:
    """Count and keep the grid's days the store does not hold yet; the grid's index of each
    day's (start, end)."""
    n = len(grid)
    index, done = _kept_days(db, grid)
    missing = [i for i in range(n) if i not in done]
    if missing:
        with db.atomic() as conn:  # counted and kept in one transaction: no answer between
            # a few days per query: SQLite's sort of months of answers at once slows down
            # much faster than the days grow (182 days: 20 s at once, 3 s two weeks at a time)
            counted = [r for k in range(0, len(missing), CHUNK_DAYS)
                       for r in _count(db, grid, missing[k:k + CHUNK_DAYS])]
            for i in missing:
                a, b = grid.bounds[i], grid.bounds[i + 1]
                conn.execute("DELETE FROM study_days WHERE lo = ? AND hi = ?", (a, b))
                conn.execute("INSERT OR REPLACE INTO study_days_done (lo, hi) VALUES (?, ?)",
                             (a, b))
            conn.executemany(
                "INSERT OR REPLACE INTO study_days (lo, hi, deck_id, tags, pred_n, pred_sum,"
                " young, young_passed, mature, mature_passed, answers, scheduled)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [(grid.bounds[r[0]], grid.bounds[r[0] + 1], *r[1:]) for r in counted],
            )
    return index
