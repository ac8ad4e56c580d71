"""Checks of the store for `quizforge doctor`: each finding says what is wrong and how to
fix it. Reads the file through a read-only connection, so a damaged store is examined
without being touched."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from quizforge.store.db import (
    connect_readonly,
    dir_writable,
    disk_full,
    free_bytes,
    home_label,
    size_text,
)
from quizforge.store.migrations import MIGRATIONS


@dataclass(frozen=True)
class Finding:
    area: str  # "data folder", "store", "backups", "config", "decks"
    ok: bool  # False: a problem (doctor exits 1)
    text: str
    fix: str | None = None

    def to_dict(self) -> dict:
        return {"area": self.area, "ok": self.ok, "text": self.text, "fix": self.fix}


# Rows that point at a card that is gone, and cards whose state needs a schedule they lack.
ORPHANS = {
    "revlog": "SELECT count(*) FROM revlog WHERE card NOT IN (SELECT id FROM cards)",
    "drill_attempts": "SELECT count(*) FROM drill_attempts"
    " WHERE card IS NOT NULL AND card NOT IN (SELECT id FROM cards)",
}
# Summary tables kept by triggers, each with the recount from the review log it must equal
# (rows of zero left out: a count that fell to zero may keep its row).
SUMMARIES = {
    "deck_reviews": (
        "SELECT deck_id, reviews FROM deck_reviews WHERE reviews != 0",
        "SELECT c.deck_id, COUNT(*) FROM revlog v JOIN cards c ON c.id = v.card"
        " GROUP BY c.deck_id",
    ),
    "card_reviews": (
        "SELECT card, answers, misses FROM card_reviews WHERE answers != 0 OR misses != 0",
        "SELECT card, COUNT(*), SUM(rating = 1) FROM revlog GROUP BY card",
    ),
    # the study days counted so far (quizforge.reports.days; 21: reports.mastery.MATURE_DAYS)
    "study_days": (
        "SELECT lo, hi, deck_id, tags, pred_n, ROUND(pred_sum, 6), young, young_passed,"
        " mature, mature_passed, answers, scheduled FROM study_days",
        "WITH per AS (SELECT d.lo AS lo, d.hi AS hi, r.card AS card, MIN(r.reviewed_at),"
        " r.state_before AS sb, r.rating AS rating, r.elapsed_days AS elapsed,"
        " COUNT(p.id) AS pn, TOTAL(p.predicted) AS ps FROM study_days_done d"
        " CROSS JOIN revlog r INDEXED BY revlog_time"
        " ON r.reviewed_at >= d.lo AND r.reviewed_at < d.hi"
        " LEFT JOIN recall_predictions p ON p.id = r.id AND p.predicted >= 0"
        " WHERE r.cram = 0 GROUP BY d.lo, d.hi, r.card),"
        " rows AS (SELECT lo, hi, card, pn, ps, sb, rating, elapsed, 0 AS n, 0 AS sn FROM per"
        " UNION ALL SELECT d.lo, d.hi, r.card, 0, 0.0, NULL, NULL, NULL, 1, r.cram = 0"
        " FROM study_days_done d CROSS JOIN revlog r INDEXED BY revlog_time"
        " ON r.reviewed_at >= d.lo AND r.reviewed_at < d.hi)"
        " SELECT lo, hi, c.deck_id, c.tags, SUM(pn), ROUND(TOTAL(ps), 6),"
        " COALESCE(SUM(sb = 2 AND NOT COALESCE(elapsed >= 21, 0)), 0),"
        " COALESCE(SUM(sb = 2 AND NOT COALESCE(elapsed >= 21, 0) AND rating > 1), 0),"
        " COALESCE(SUM(sb = 2 AND elapsed >= 21), 0),"
        " COALESCE(SUM(sb = 2 AND elapsed >= 21 AND rating > 1), 0), SUM(n), SUM(sn)"
        " FROM rows JOIN cards c ON c.id = rows.card GROUP BY lo, hi, c.deck_id, c.tags",
    ),
    # the mastery table's counts per (deck, tag list) (quizforge.reports.mastery)
    "card_groups": (
        "SELECT deck_id, tags, cards, new_cards, learning, young, mature, suspended, leeches,"
        " reviewed FROM card_groups WHERE cards != 0 OR new_cards != 0 OR learning != 0"
        " OR young != 0 OR mature != 0 OR suspended != 0 OR leeches != 0 OR reviewed != 0",
        "SELECT deck_id, tags, COUNT(*), SUM(COALESCE(state = 0, 0)),"
        " SUM(COALESCE(state IN (1, 3), 0)),"
        " SUM(COALESCE(state = 2 AND due - last_review < 1814400000, 0)),"
        " SUM(COALESCE(state = 2 AND due - last_review >= 1814400000, 0)),"
        " SUM(COALESCE(suspended, 0)), SUM(COALESCE(leech, 0)),"
        " SUM(COALESCE(state != 0 AND stability > 0, 0))"
        " FROM cards WHERE in_deck = 1 AND kind != 'skill' GROUP BY deck_id, tags",
    ),
    # the predictions per (deck, tag list) and step of 1/20 (quizforge.reports.calibration),
    # once a report has built them
    "recall_groups": (
        "SELECT deck_id, tags, step, n, ROUND(predicted, 6), recalled FROM recall_groups"
        " WHERE n != 0",
        "SELECT c.deck_id, c.tags, MIN(CAST(p.predicted * 20 AS INTEGER), 19) AS step,"
        " COUNT(*), ROUND(TOTAL(p.predicted), 6), SUM(p.recalled) FROM recall_predictions p"
        " JOIN revlog r ON r.id = p.id JOIN cards c ON c.id = r.card"
        " WHERE p.predicted >= 0 AND EXISTS (SELECT 1 FROM recall_groups_done)"
        " GROUP BY 1, 2, 3",
    ),
}


def stale_summaries(conn: sqlite3.Connection) -> list[str]:
    """The summary tables that differ from a recount of the review log."""
    stale = []
    for table, (kept, recount) in SUMMARIES.items():
        # compared here: each side is computed once (EXCEPT both ways would count twice)
        if set(map(tuple, conn.execute(kept))) != set(map(tuple, conn.execute(recount))):
            stale.append(table)
    return stale


def rebuild_summaries(conn: sqlite3.Connection) -> list[str]:
    """Rebuild the stale summary tables from the review log (inside the caller's
    transaction); returns their names."""
    stale = stale_summaries(conn)
    for table in stale:
        if table in ("study_days", "recall_groups"):  # counted again by the next report
            conn.execute(f"DELETE FROM {table}")
            conn.execute(f"DELETE FROM {table}_done")
            continue
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        conn.execute(f"DELETE FROM {table}")
        conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) {SUMMARIES[table][1]}")
    return stale


UNSCHEDULED = "SELECT count(*) FROM cards WHERE state != 0 AND (due IS NULL OR stability IS NULL)"


def _out_of_range(now: datetime) -> tuple[str, str, tuple, tuple]:
    """(SQL for a memory state out of py-fsrs's range, SQL for dates out of sane years,
    their parameters). A card that `study` could not schedule (an infinite stability, a
    difficulty of -50, a due date in the year 30000), as a history import used to write."""
    from quizforge.scheduling.bounds import DIFFICULTY, STABILITY, date_window

    lo, hi = (round(t.timestamp() * 1000) for t in date_window(now))
    state = ("state != 0 AND (stability NOT BETWEEN ? AND ? OR difficulty NOT BETWEEN ? AND ?"
             " OR typeof(stability) NOT IN ('real', 'integer', 'null')"
             " OR typeof(difficulty) NOT IN ('real', 'integer', 'null'))")
    dates = ("(due IS NOT NULL AND (typeof(due) IN ('text', 'blob') OR due NOT BETWEEN ? AND ?))"
             " OR (last_review IS NOT NULL AND (typeof(last_review) IN ('text', 'blob')"
             " OR last_review NOT BETWEEN ? AND ?)) OR reps < 0 OR lapses < 0")
    return state, dates, (*STABILITY, *DIFFICULTY), (lo, hi, lo, hi)


def check_folder(folder: Path) -> list[Finding]:
    label = home_label(folder)
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return [
            Finding(
                "data folder",
                False,
                f"{label}: {probe} is a file, not a folder",
                "set QUIZFORGE_HOME to a folder (or move the file away)",
            )
        ]
    if not dir_writable(folder):
        return [
            Finding(
                "data folder",
                False,
                f"{label} is read-only: study, drill and config cannot save",
                f"make it writable (chmod u+w {probe}) or set QUIZFORGE_HOME to a writable folder",
            )
        ]
    if disk_full(folder):
        free = free_bytes(folder) or 0
        return [
            Finding(
                "data folder",
                False,
                f"the disk holding {folder} is full ({size_text(free)} free): study, drill "
                "and config cannot save",
                "free some space on that disk (the store is not damaged: do not restore a "
                "backup for this)",
            )
        ]
    return [Finding("data folder", True, f"{folder} is writable")]


def check_store(path: Path, now: datetime | None = None) -> list[Finding]:
    if not path.exists():
        return [Finding("store", True, f"no store yet at {path}: the first study creates it")]
    try:
        conn = connect_readonly(path)
    except sqlite3.Error as e:
        if disk_full(path.parent):  # no room for the -shm file a reader needs
            return [Finding("store", False, f"cannot open {path}: the disk is full ({e})",
                            "free some space, then run quizforge doctor again")]
        return [Finding("store", False, f"cannot open {path}: {e}", _restore_fix(path))]
    try:
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as e:
            rows = [str(e)]
        if rows != ["ok"] and disk_full(path.parent):
            return [Finding("store", False, f"cannot check {path}: the disk is full ({rows[0]})",
                            "free some space, then run quizforge doctor again")]
        if rows != ["ok"]:
            more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
            return [
                Finding(
                    "store",
                    False,
                    f"{path} is damaged: integrity_check says {rows[0]}{more}",
                    _restore_fix(path),
                )
            ]
        findings = [Finding("store", True, f"{path} passes integrity_check")]
        findings += _schema(conn)
        if all(f.ok for f in findings):
            findings += _rows(conn, now)
        return findings
    finally:
        conn.close()


def _schema(conn: sqlite3.Connection) -> list[Finding]:
    try:
        done = [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY id")]
    except sqlite3.Error:
        return [
            Finding(
                "store",
                False,
                "it has no migrations table: it is not a quizforge store",
                "point QUIZFORGE_HOME at the right folder, or move the file away",
            )
        ]
    known = [name for name, _ in MIGRATIONS]
    newer = [n for n in done if n not in known]
    if newer:
        return [
            Finding(
                "store",
                False,
                f"schema: written by a newer quizforge (migration {min(newer)!r})",
                "upgrade quizforge",
            )
        ]
    pending = [n for n in known if n not in done]
    if pending:
        return [
            Finding(
                "store",
                True,
                f"schema: {len(done)} of {len(known)} migrations; the next command that "
                f"opens the store applies {', '.join(pending)}",
            )
        ]
    return [Finding("store", True, f"schema: up to date ({known[-1]})")]


def _rows(conn: sqlite3.Connection, now: datetime | None = None) -> list[Finding]:
    found = []
    for table, sql in ORPHANS.items():
        n = conn.execute(sql).fetchone()[0]
        if n:
            found.append(
                Finding(
                    "store",
                    False,
                    f"{n} {table} row{'s' if n != 1 else ''} point at a card that no longer exists",
                    "quizforge doctor --fix deletes them (after a backup)",
                )
            )
    stale = stale_summaries(conn)
    if stale:
        found.append(
            Finding(
                "store",
                False,
                f"summary table{'s' if len(stale) != 1 else ''} {', '.join(stale)} differ"
                f"{'s' if len(stale) == 1 else ''} from a recount of the review log"
                " (report would show wrong counts)",
                "quizforge doctor --fix rebuilds them from the review log",
            )
        )
    n = conn.execute(UNSCHEDULED).fetchone()[0]
    if n:
        found.append(
            Finding(
                "store",
                False,
                f"{n} card{'s' if n != 1 else ''} in learning or review without a due date "
                "or stability",
                "quizforge doctor --fix makes them new again (their review log is kept)",
            )
        )
    if now is not None:
        state, dates, state_args, date_args = _out_of_range(now)
        bad = conn.execute(f"SELECT count(*) FROM cards WHERE ({state}) OR ({dates})",
                           (*state_args, *date_args)).fetchone()[0]
        if bad:
            found.append(
                Finding(
                    "store",
                    False,
                    f"{bad} card{'s' if bad != 1 else ''} with a memory state or date out of "
                    "range (study and simulate cannot schedule them)",
                    "quizforge doctor --fix clamps stability and difficulty into FSRS's range "
                    "and makes a card with an impossible date new again (its review log is kept)",
                )
            )
    if not found:
        found.append(Finding("store", True, "no orphaned rows; summary tables match the review log"))
    return found


def fix_rows(db, now: datetime | None = None) -> dict[str, int]:
    """Delete orphaned rows, reset unscheduled cards and cards with impossible dates to new,
    clamp memory states into FSRS's range; returns counts."""
    done = {}
    with db.atomic() as conn:
        if now is not None:
            from quizforge.scheduling.bounds import DIFFICULTY, STABILITY

            _, dates, _, date_args = _out_of_range(now)
            done["cards with impossible dates reset"] = conn.execute(
                "UPDATE cards SET state = 0, step = NULL, stability = NULL, difficulty = NULL,"
                f" due = NULL, last_review = NULL, reps = max(reps, 0), lapses = max(lapses, 0)"
                f" WHERE {dates}", date_args).rowcount
            # min/max of Inf are +-Inf in SQLite, so infinities clamp to the bounds too
            done["memory states clamped"] = conn.execute(
                "UPDATE cards SET stability = min(max(stability, ?), ?),"
                " difficulty = min(max(difficulty, ?), ?) WHERE state != 0"
                " AND (stability NOT BETWEEN ? AND ? OR difficulty NOT BETWEEN ? AND ?)",
                (*STABILITY, *DIFFICULTY, *STABILITY, *DIFFICULTY)).rowcount
        done["revlog"] = conn.execute(
            "DELETE FROM revlog WHERE card NOT IN (SELECT id FROM cards)"
        ).rowcount
        done["drill_attempts"] = conn.execute(
            "DELETE FROM drill_attempts WHERE card IS NOT NULL AND card NOT IN (SELECT id FROM cards)"
        ).rowcount
        done["cards reset"] = conn.execute(
            "UPDATE cards SET state = 0, step = NULL, stability = NULL, difficulty = NULL,"
            " due = NULL WHERE state != 0 AND (due IS NULL OR stability IS NULL)"
        ).rowcount
        # last: the deletions above keep the summaries by their triggers
        done["summary tables rebuilt"] = len(rebuild_summaries(conn))
    return done


def check_backups(store_path: Path, now: datetime) -> list[Finding]:
    from quizforge.store.backup import leftovers, list_backups

    left = leftovers(store_path)
    extra = []
    if left:
        n = len(left)
        names = ", ".join(p.name for p in left[:3]) + (", ..." if n > 3 else "")
        extra.append(
            Finding(
                "backups",
                False,
                f"{n} unfinished file{'s' if n != 1 else ''} from an interrupted backup or "
                f"restore ({names})",
                "quizforge doctor --fix deletes them (the next backup does too)",
            )
        )
    return _backups(store_path, now, list_backups(store_path)) + extra


def _backups(store_path: Path, now: datetime, found) -> list[Finding]:
    if not found:
        if not store_path.exists():
            return []
        return [Finding("backups", True, "no backup yet", "quizforge backup makes one now")]
    newest = found[0]
    age = (now - newest.made_at).days
    when = f"{age} day{'s' if age != 1 else ''} old" if age else "from today"
    return [Finding("backups", True, f"{len(found)} kept; the newest, {newest.name}, is {when}")]


def _restore_fix(path: Path) -> str:
    from quizforge.store.backup import newest_good

    good = newest_good(path)
    if good is not None:
        return f"quizforge backup --restore {good.name}"
    return (
        f"no good backup: try `sqlite3 {path} .recover | sqlite3 recovered.sqlite3`, then "
        "quizforge backup --restore recovered.sqlite3; or move the file away to start afresh"
    )
