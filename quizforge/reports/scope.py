"""What a report looks at (decks, tags, a start date) and how it cuts time into study days.

Everything here builds SQL fragments and day boundaries; nothing reads the clock.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

from quizforge.errors import DeckError, QuizforgeError
from quizforge.scheduling.days import day_start, study_day
from quizforge.store.db import Database, to_ms

DAY_MS = 86_400_000
# Study days start on a whole local hour and every time zone in use is a multiple of 15
# minutes from UTC, so a 15-minute bucket of UTC time never straddles two study days.
BUCKET_MS = 900_000


class ReportError(QuizforgeError):
    """A report option is invalid (a bad date)."""


def parse_day(text: str) -> date:
    """'2026-11-02' -> date; anything else is a ReportError with a one-line message."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReportError(f"bad --since date {text!r}: use YYYY-MM-DD, e.g. 2026-11-02") from None


def check_since(since: date, today: date) -> None:
    """A --since after today has no answers to count: a ReportError, not an empty report."""
    if since > today:
        raise ReportError(
            f"--since {since.isoformat()} is in the future (today is {today.isoformat()})"
        )


@dataclass(frozen=True)
class Calendar:
    """Study days: each starts at `starts_at` o'clock in `tz` (None: this machine's zone)."""

    starts_at: int = 4
    tz: tzinfo | None = None

    def day_of(self, moment: datetime) -> date:
        return study_day(moment, self.starts_at, self.tz)

    def start_ms(self, day: date) -> int:
        return to_ms(day_start(day, self.starts_at, self.tz))

    def grid(self, first: date, n_days: int) -> DayGrid:
        return DayGrid(first, [self.start_ms(first + timedelta(days=i)) for i in range(n_days + 1)])


@dataclass(frozen=True)
class DayGrid:
    """`n` consecutive study days from `first`; `bounds` holds their n+1 start times (ms)."""

    first: date
    bounds: list[int]

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def day(self, i: int) -> date:
        return self.first + timedelta(days=i)

    def index(self, ms: int) -> int | None:
        """Which day a time falls on, or None outside the grid."""
        i = bisect_right(self.bounds, ms) - 1
        return i if 0 <= i < len(self) else None

    def cte(self) -> tuple[str, list[int]]:
        """`days(i, lo, hi)` as a VALUES table, for range joins on an indexed time column."""
        rows = ",".join("(?,?,?)" for _ in range(len(self)))
        args: list[int] = []
        for i in range(len(self)):
            args += [i, self.bounds[i], self.bounds[i + 1]]
        return f"days(i, lo, hi) AS (VALUES {rows})", args

    def spread(self, buckets: Sequence[tuple[int, int]]) -> list[int]:
        """Sum (15-minute bucket number, count) rows into per-day totals."""
        out = [0] * len(self)
        for bucket, n in buckets:
            i = self.index(bucket * BUCKET_MS)
            if i is not None:
                out[i] += n
        return out


@dataclass(frozen=True)
class Scope:
    """The report's filters: decks (any of), tags (any of), and the first day of log figures."""

    decks: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    since: date | None = None
    # A table holding the ids of the decks' and tags' cards, when build_report made one
    # (with_card_set): the log's figures then test each answer's card against it.
    card_set: str | None = field(default=None, compare=False)

    def cards_sql(self, alias: str = "") -> tuple[str, list]:
        """' AND ...' restricting card rows (alias: 'c.' or '')."""
        sql, args = "", []
        if self.decks:
            sql += f" AND {alias}deck_id IN ({','.join('?' * len(self.decks))})"
            args += list(self.decks)
        if self.tags:
            sql += " AND (" + " OR ".join(f"{alias}tags LIKE ?" for _ in self.tags) + ")"
            args += [f"% {t} %" for t in self.tags]
        return sql, args

    def card_rows_sql(self, alias: str = "") -> tuple[str, list]:
        """' AND ...' restricting rows of the cards table (alias: 'c.' or ''): by the card
        set when there is one (a look-up of the row's id, which every index of cards
        holds), else as cards_sql (which also fits the summaries' deck_id and tags)."""
        if self.card_set is not None:
            return f" AND {alias}id IN {self.card_set}", []
        return self.cards_sql(alias)

    def revlog_sql(self, cal: Calendar, alias: str = "r.") -> tuple[str, list]:
        """' AND ...' restricting review-log rows to the scope's cards and to --since."""
        sql, args = "", []
        if self.card_set is not None:
            sql += f" AND +{alias}card IN {self.card_set}"
        elif self.decks or self.tags:
            f, args = self.cards_sql()
            sql += f" AND +{alias}card IN (SELECT id FROM cards WHERE 1{f})"
        if self.since is not None:
            sql += f" AND {alias}reviewed_at >= ?"
            args.append(cal.start_ms(self.since))
        return sql, args

    def since_ms(self, cal: Calendar) -> int:
        return cal.start_ms(self.since) if self.since is not None else 0

    @property
    def includes_drill(self) -> bool:
        """Drill skills are in scope unless --deck names other decks only."""
        return not self.decks or "drill" in self.decks

    def skill_wanted(self, skill: str) -> bool:
        return not self.tags or skill in self.tags


def check_scope(
    db: Database, scope: Scope, known_decks: Sequence[str] = (), known_tags: Sequence[str] = ()
) -> None:
    """Unknown --deck or --tag values are a DeckError naming all of them at once.

    A deck is known if the store has cards for it or it is loaded (`known_decks`); a tag
    if a stored card carries it, a loaded card does, or a drill attempt practised it."""
    problems = []
    stored = [r[0] for r in db.conn.execute("SELECT DISTINCT deck_id FROM cards ORDER BY 1")]
    decks = sorted({*stored, *known_decks})
    unknown = [d for d in scope.decks if d not in decks]
    if unknown:
        # 'drill' holds the drill levels: valid with --deck, but not a deck to suggest
        listed = ", ".join(d for d in decks if d != "drill") or "none yet"
        problems.append(f"no deck with id {', '.join(map(repr, unknown))} (decks: {listed})")
    missing = [t for t in scope.tags if t not in known_tags and not _tag_exists(db, t)]
    if missing:
        problems.append(f"no cards or drill skills with tag {', '.join(map(repr, missing))}")
    if problems:
        raise DeckError("; ".join(problems))


def _tag_exists(db: Database, tag: str) -> bool:
    like = f"% {tag} %"
    return bool(
        db.conn.execute("SELECT 1 FROM cards WHERE tags LIKE ? LIMIT 1", (like,)).fetchone()
        or db.conn.execute(
            "SELECT 1 FROM drill_attempts WHERE skills LIKE ? LIMIT 1", (like,)
        ).fetchone()
    )


SCOPE_TABLE = "temp.report_scope"
USE_CARD_SET = True  # False: every query reads the scope's cards itself (tests compare)


def with_card_set(db: Database, scope: Scope) -> Scope:
    """`scope` with its cards' ids in a temporary table of this connection (nothing is
    written to the store), when it names decks or tags: each query over the log then looks
    an answer's card up there, where it would read every card's tags again (a --tag report
    read the 100,000 cards' rows once per query, about ten times)."""
    if not (scope.decks or scope.tags) or not USE_CARD_SET:
        return scope
    f, args = scope.cards_sql()
    db.conn.execute(f"DROP TABLE IF EXISTS {SCOPE_TABLE}")
    db.conn.execute(f"CREATE TABLE {SCOPE_TABLE} (id INTEGER PRIMARY KEY)")
    db.conn.execute(f"INSERT INTO {SCOPE_TABLE} SELECT id FROM cards WHERE 1{f}", args)
    return replace(scope, card_set=SCOPE_TABLE)
