"""An Anki package's review log into the store, so FSRS carries on where Anki stopped.

Each Anki revlog row becomes a review of the imported card: its time (the revlog id), the
rating (ease 1-4), the time taken, the state before (learn rows: new for a card's first
answer, learning after; review; relearning) and the interval Anki gave. Filtered-deck rows
(type 3) are kept as cram, which quizforge does not schedule from; manual reschedules
(ease 0) are not answers and are left out, but Anki's Forget (a manual row with a zero
interval) resets the card to new: the replay starts after it.

A card's FSRS state: Anki's own memory state when it has one (cards.data `s`/`d`, written
when FSRS is on in Anki; they come from the learner's own fitted parameters), with Anki's
due date. Without it (Anki ran SM-2, whose ease and interval are not FSRS quantities) the
card's answers are replayed, in order and at their times, through quizforge's scheduler:
the state is then what quizforge would hold had the reviews been done here. Time between
answers is counted in study days from the collection's `rollover` hour, as Anki's FSRS counts
it, so the replayed stability is Anki's. Where the card row disagrees with the replay, the
row wins: a card new in Anki (forgotten) is new, a review card is due when Anki has it due.
A card Anki has in review with no answer to replay (Set Due Date on a new or forgotten card)
is a review card due when Anki has it due, with the stability for which FSRS gives its
interval (`set_due_schedule`); a card Anki has (re)learning with none stays new.

The answers are written as the store's revlog rows. From a package kept open
(`read_package(keep=True)`, what `quizforge import` does) they never come into Python: one
grouped query checks and counts them per card (`package_summaries`), and one INSERT ...
SELECT from the collection, attached read-only, writes them (`_ANSWERS`: the values
`review_rows` gives, a test compares them). Otherwise `review_rows` builds them (a tuple per
answer, no object), written in one executemany (`store.cards.insert_review_rows`).

Every value is checked first, before the deck file is written (`plan_history`): a review
whose date, rating or type is out of range is left out; a memory state, interval or time
taken out of py-fsrs's range is clamped into it; a memory state that is not a finite number,
or whose due date is out of range, is replaced by a replay. Each is counted in the summary.

A card suspended in Anki is suspended here. Importing again adds only reviews the store
does not have (same card and time), and leaves
the schedule of a card reviewed in quizforge since Anki's last answer alone.
"""

from __future__ import annotations

import math
import sqlite3
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from quizforge.decks.model import Deck
from quizforge.importing.model import AnkiCardState, ImportedCard
from quizforge.scheduling import bounds
from quizforge.scheduling.scheduler import CardSchedule, Rating, ReviewRecord, Scheduler, State

# Anki's revlog type -> quizforge's state before the answer (0 new, 1 learning, 2 review,
# 3 relearning): learn rows are learning (new for a card's first answer), filtered-deck rows
# review. Plain ints: they go straight into the store's revlog rows.
_STATE_BEFORE = {0: int(State.LEARNING), 1: int(State.REVIEW), 2: int(State.RELEARNING),
                 3: int(State.REVIEW)}
_MANUAL_KINDS = (4, 5)  # manual and rescheduled rows: not answers
_DAY = 86400
_RATINGS = {int(r): r for r in Rating}  # a dict look-up, not an enum call per row
_STATES = {int(s): s for s in State}


@dataclass
class HistoryCounts:
    reviews: int = 0  # rows added to the review log
    already: int = 0  # rows the store had already (an earlier import)
    cram: int = 0  # of the added: filtered-deck answers, kept as cram
    manual: int = 0  # manual reschedules left out
    from_anki: int = 0  # cards whose FSRS state is Anki's memory state
    replayed: int = 0  # cards whose state comes from replaying their reviews
    set_due: int = 0  # cards Anki put in review with no answer (Set Due Date): due as in Anki
    kept: int = 0  # cards reviewed in quizforge since: their schedule left as it is
    suspended: int = 0  # cards suspended in Anki, suspended here too
    dropped: int = 0  # reviews left out: a date, rating or type out of range
    clamped: int = 0  # cards and reviews with a value brought into range
    discarded: int = 0  # Anki memory states not usable (not finite, due out of range)

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


# A review as the store's revlog row holds it, less the card: (reviewed_at ms, rating,
# duration_ms, state_before, interval_days, elapsed_days, cram). Built straight from Anki's
# row, with no object per review: a package may hold a million.
Row = tuple[int, int, int, int, float, float | None, int]


@dataclass
class CardPlan:
    """What importing one card's history will write, worked out before anything is."""

    card_id: str
    answers: list[Row] = field(default_factory=list)
    schedule: CardSchedule | None = None  # None: no graded answer and no usable Anki state
    from_anki: bool = False
    last: datetime | None = None  # the last graded answer
    suspend_new: bool = False  # never reviewed, suspended in Anki
    cram: int = 0  # answers of `answers` given in a filtered deck
    set_due: bool = False  # a review card with no answer: due and stability from the row
    cid: int | None = None  # Anki's card id: its answers written by SQL (HistoryPlan.package)
    kept: int = 0  # with `cid`: how many answers that writes (`answers` is then empty)
    clean: bool = False  # with `cid`: every revlog row of the card is kept (none dropped or
    # manual), so the SQL that writes them need not check them again


@dataclass
class HistoryPlan:
    cards: list[CardPlan]
    counts: HistoryCounts  # what checking the values found (dropped, clamped, ...)
    # The package's collection (apkg.PackageCollection), when the answers are written from it
    # by SQL (`window`: the dates allowed, in ms), else None: written from `CardPlan.answers`.
    package: object | None = None
    window: tuple[float, float] = (0.0, 0.0)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _window_ms(now: datetime) -> tuple[float, float]:
    lo, hi = bounds.date_window(now)
    return lo.timestamp() * 1000, hi.timestamp() * 1000


def review_rows(reviews: Sequence[tuple], window: tuple[float, float],
                counts: HistoryCounts | None = None) -> tuple[list[Row], int, int, int | None]:
    """The store's revlog rows (less the card) for a card's Anki answers, oldest first, with
    how many manual rows were left out, how many rows are graded (not cram) and when the last
    graded one was given (ms). `reviews`: (id, ease, ivl, time, type) as in Anki's revlog
    (AnkiReview or a plain tuple). Rows with a value out of range are left out
    (`counts.dropped`); intervals and times taken beyond their range are clamped
    (`counts.clamped`). `window`: the dates allowed (bounds.date_window in ms)."""
    lo_ms, hi_ms = window
    out: list[Row] = []
    append = out.append
    manual = dropped = clamped = graded = 0
    previous = last = None
    answered = False  # a non-cram answer kept already (a later learn row is not the first)
    max_ivl, max_time = bounds.MAX_INTERVAL_DAYS, bounds.MAX_TIME_MS
    for at_ms, ease, ivl, time_ms, kind in reviews:
        # Plain ints (what SQLite gives) pass at once; anything else gets the full check.
        if not (type(at_ms) is int and type(ease) is int and type(ivl) is int
                and type(time_ms) is int and type(kind) is int) \
                and not all(_int(v) for v in (at_ms, ease, ivl, time_ms, kind)):
            dropped += 1
            continue
        if ease == 0 or kind == 4 or kind == 5:  # _MANUAL_KINDS
            manual += 1
            continue
        before = _STATE_BEFORE.get(kind)
        if not 1 <= ease <= 4 or before is None or not lo_ms <= at_ms <= hi_ms:
            dropped += 1
            continue
        if kind == 0 and not answered:
            before = 0  # State.NEW
        interval = ivl if ivl > 0 else -ivl / _DAY
        taken = time_ms if 0 <= time_ms <= max_time else min(max(0, time_ms), max_time)
        if interval > max_ivl or taken != time_ms and time_ms > 0:
            clamped += 1
            interval = min(interval, max_ivl)
        # (at - previous) in days as timedelta.total_seconds() / 86400 gives it, bit for bit;
        # cram as an int, not a bool (SQLite binds a bool through the adapter look-up)
        append((at_ms, ease, taken, before, float(interval),
                None if previous is None else (at_ms - previous) / 1000 / _DAY,
                1 if kind == 3 else 0))
        if kind != 3:
            answered = True
            graded += 1
            last = at_ms
        previous = at_ms
    if counts is not None:
        counts.dropped += dropped
        counts.clamped += clamped
    return out, manual, graded, last


# `review_rows` in SQL, over an Anki revlog row `r` (the same checks, the same values): the
# row is kept (a graded or cram answer with every value an integer and in range), or a manual
# row (left out, counted), else dropped. :lo and :hi are the dates allowed, in ms.
_INTS = ("typeof({r}.id) = 'integer' AND typeof({r}.ease) = 'integer' AND typeof({r}.ivl) ="
         " 'integer' AND typeof({r}.time) = 'integer' AND typeof({r}.type) = 'integer'")
_KEPT = ("(" + _INTS + " AND {r}.ease BETWEEN 1 AND 4 AND {r}.type BETWEEN 0 AND 3"
         " AND {r}.id >= :lo AND {r}.id <= :hi)")
_CID = "typeof({r}.cid) IN ('integer', 'real')"  # as a dict keyed by the card's id matches it
_INTERVAL = "(CASE WHEN {r}.ivl > 0 THEN {r}.ivl ELSE -{r}.ivl / 86400.0 END)"


def _sql(template: str, r: str = "r") -> str:
    return template.format(r=r)


# Each Anki revlog row's fate, one code: 0 dropped, 1 manual, 2 kept graded, 3 kept cram;
# then per Anki card and code: rows, the last one (ms), rows clamped. Run on the package's own
# connection, in one pass over the table (a code per row, not a check per total: 4x faster).
_CODE = ("CASE WHEN NOT (" + _sql(_INTS) + ") THEN 0 WHEN r.ease = 0 OR r.type IN (4, 5) THEN 1"
         " WHEN r.ease BETWEEN 1 AND 4 AND r.type BETWEEN 0 AND 3 AND r.id >= :lo"
         " AND r.id <= :hi THEN 2 + (r.type = 3) ELSE 0 END")
_CLAMPED = f"({_sql(_INTERVAL)} > {bounds.MAX_INTERVAL_DAYS} OR r.time > {bounds.MAX_TIME_MS})"
_SUMMARY = (
    f"SELECT r.cid, {_CODE} AS code, COUNT(*), MAX(r.id), SUM({_CLAMPED})"
    f" FROM revlog r NOT INDEXED WHERE {_sql(_CID)} GROUP BY r.cid, code")
# `_SUMMARY` in two cheaper passes (0.1 -> 0.06 s on 100,000 rows): every card's rows and
# newest row, read from Anki's revlog (cid) index alone, in its order (no sort); then only
# the rows that are not a graded answer kept as it is (dropped, manual, cram, clamped),
# grouped as `_SUMMARY` groups them. Most rows are plain graded answers: they are never sorted.
_TOTALS = (f"SELECT r.cid, COUNT(*), MAX(r.id) FROM revlog r WHERE {_sql(_CID)}"
           " GROUP BY r.cid")
_ODD = (f"SELECT r.cid, {_CODE} AS code, COUNT(*), MAX(r.id), SUM({_CLAMPED})"
        f" FROM revlog r NOT INDEXED WHERE {_sql(_CID)} AND (code != 2 OR {_CLAMPED})"
        " GROUP BY r.cid, code")
_LAST_GRADED = (f"SELECT MAX(r.id) FROM revlog r WHERE r.cid = :cid AND {_sql(_CID)}"
                f" AND {_CODE} = 2")

# The store's revlog rows for the cards of the map table (seq, cid, card, clean): the columns
# of `review_rows`, in the order it gives them (the cards in plan order, each oldest first).
# A `clean` card's rows were all found kept by `package_summaries` (none dropped, none manual):
# they are not checked again (the rows `r.cid = m.cid` joins, m.cid an integer, are those it
# counted for the card: an integer or real cid equal to it).
# The time since the answer before is LAG over the card's kept rows; the state before a learn
# row looks up an earlier graded row of the card on Anki's revlog (cid) index. (Measured on
# 100,000 rows: 0.24 s; the answer before by a look-up too, 0.26 s; both as window
# functions, 0.29 s; neither, 0.17 s.) Rows the store has already (an earlier import) are
# left out after: they still count as the answer before.
_PKG = "quizforge_pkg"
_MAP = "temp.quizforge_import_map"
_EARLIER = (f"FROM {_PKG}.revlog p WHERE p.cid = m.cid AND p.id < r.id"
            f" AND (m.clean OR {_sql(_CID, 'p')} AND {_sql(_KEPT, 'p')})")
_ANSWERS = (
    "SELECT card, at, rating, taken, before, interval, elapsed, cram FROM ("
    f"SELECT m.seq AS seq, m.card AS card, r.id AS at, r.ease AS rating,"
    f" MIN(MAX(r.time, 0), {bounds.MAX_TIME_MS}) AS taken,"
    f" CASE r.type WHEN 0 THEN EXISTS (SELECT 1 {_EARLIER} AND p.type != 3)"
    " WHEN 2 THEN 3 ELSE 2 END AS before,"
    f" CAST(MIN({_sql(_INTERVAL)}, {bounds.MAX_INTERVAL_DAYS}) AS REAL) AS interval,"
    " (r.id - LAG(r.id) OVER (PARTITION BY m.seq ORDER BY r.id)) / 1000.0 / 86400.0"
    " AS elapsed, r.type = 3 AS cram"
    f" FROM {_MAP} m JOIN {_PKG}.revlog r ON r.cid = m.cid"
    f" WHERE m.clean OR {_sql(_CID)} AND {_sql(_KEPT)}) x")
_NOT_HAD = (" WHERE NOT EXISTS (SELECT 1 FROM main.revlog v WHERE v.card = x.card"
            " AND v.reviewed_at = x.at)")


def package_summaries(package, window: tuple[float, float]) -> dict:
    """Anki card id -> [kept, graded, last graded ms, cram, manual, dropped, clamped] of its
    revlog rows, as `review_rows` counts them, from the package's collection: `_TOTALS`, then
    `_ODD` (the rows that are not a graded answer as it is), then, for a card whose newest row
    is not a graded answer, `_LAST_GRADED` (the same counts as `_SUMMARY`, one grouped query
    over every row: a test compares them)."""
    args = {"lo": window[0], "hi": window[1]}
    conn = package.conn
    try:
        # every row counted as a graded answer kept, its newest row the last graded one...
        out = {cid: [n, n, last, 0, 0, 0, 0] for cid, n, last in conn.execute(_TOTALS)}
        newest = {cid: s[2] for cid, s in out.items()}
        again = set()  # ...unless its newest row is not one (dropped, manual or cram)
        for cid, code, n, last, clamped in conn.execute(_ODD, args):
            s = out.get(cid)
            if s is None:  # grouped apart from the totals (cannot happen: the same rows)
                return _whole_summaries(conn, args)
            if code == 0 or code == 1:
                s[0] -= n
                s[1] -= n
                s[5 if code == 0 else 4] += n
            else:
                s[6] += clamped
                if code == 3:
                    s[1] -= n
                    s[3] += n
            if code != 2 and last == newest[cid]:
                again.add(cid)
        for cid in again:
            s = out[cid]
            s[2] = conn.execute(_LAST_GRADED, {**args, "cid": cid}).fetchone()[0] \
                if s[1] else None
    except sqlite3.Error as e:
        raise package.damaged(e) from None
    return out


def _whole_summaries(conn, args) -> dict:
    """package_summaries by one grouped query over every row (`_SUMMARY`)."""
    out: dict = {}
    for cid, code, n, last, clamped in conn.execute(_SUMMARY, args).fetchall():
        s = out.get(cid)
        if s is None:
            s = out[cid] = [0, 0, None, 0, 0, 0, 0]
        if code == 0:
            s[5] += n
        elif code == 1:
            s[4] += n
        else:
            s[0] += n
            s[6] += clamped
            if code == 2:
                s[1] += n
                s[2] = last if s[2] is None else max(s[2], last)
            else:
                s[3] += n
    return out


def records(reviews: Sequence[tuple], now: datetime,
            counts: HistoryCounts | None = None) -> tuple[list[tuple[ReviewRecord, bool]], int]:
    """(record, cram) per Anki answer, and how many manual rows were left out (as
    `review_rows`, as objects: what `replay` takes)."""
    rows, manual, _, _ = review_rows(reviews, _window_ms(now), counts)
    return [(_record(r), bool(r[6])) for r in rows], manual


def _record(row: Row) -> ReviewRecord:
    at_ms, rating, taken, before, interval, elapsed, _cram = row
    return ReviewRecord(
        reviewed_at=_at(at_ms), rating=_RATINGS[rating], duration_ms=taken,
        state_before=_STATES[before], interval_days=interval, elapsed_days=elapsed,
        lapse=before == State.REVIEW and rating == 1, became_leech=False)


def anki_schedule(state: AnkiCardState, last: datetime | None, reps: int, now: datetime,
                  counts: HistoryCounts | None = None,
                  window: tuple[datetime, datetime] | None = None) -> CardSchedule | None:
    """Anki's memory state and due date as a quizforge schedule; None when it cannot be used
    (a value not a finite number, a date out of range: `counts.discarded`). Stability and
    difficulty outside py-fsrs's range are clamped into it (`counts.clamped`). `window`:
    bounds.date_window(now), when the caller has it."""
    counts = counts if counts is not None else HistoryCounts()
    lo, hi = window or bounds.date_window(now)
    s, d, kind = state.stability, state.difficulty, state.type
    # Plain floats and ints (what the package reader gives) pass at once; anything else
    # gets the full check.
    if not (type(s) is float and type(d) is float and type(state.due) is int
            and type(state.crt) is int and math.isfinite(s) and math.isfinite(d)
            or bounds.finite(s) and bounds.finite(d) and _int(state.due) and _int(state.crt)) \
            or kind not in (1, 2, 3):
        counts.discarded += 1
        return None
    due = _anki_due(state)
    if due is None or not lo <= due <= hi:
        counts.discarded += 1
        return None
    ivl = state.ivl if type(state.ivl) is int or _int(state.ivl) else 0
    lapses = state.lapses if type(state.lapses) is int or _int(state.lapses) else 0
    s_lo, s_hi = bounds.STABILITY
    d_lo, d_hi = bounds.DIFFICULTY
    if s_lo <= s <= s_hi and d_lo <= d <= d_hi and 0 <= ivl <= bounds.MAX_INTERVAL_DAYS \
            and 0 <= lapses <= bounds.MAX_COUNT:
        ivl = max(ivl, 0)  # the usual case: every value in range, nothing clamped
    else:
        fixed = (bounds.clamp(s, bounds.STABILITY), bounds.clamp(d, bounds.DIFFICULTY),
                 min(max(ivl, 0), bounds.MAX_INTERVAL_DAYS),
                 min(max(lapses, 0), bounds.MAX_COUNT))
        if fixed != (s, d, max(ivl, 0), lapses):
            counts.clamped += 1
        s, d, ivl, lapses = fixed
    if last is None:
        last = due - timedelta(days=ivl)
    return CardSchedule(
        state=_STATES[kind], step=0 if kind in (1, 3) else None,
        stability=float(s), difficulty=float(d), due=due, last_review=last,
        reps=reps, lapses=lapses, suspended=state.queue == -1)


def replay(scheduler: Scheduler, card_key: str, answers: list[tuple[ReviewRecord, bool]],
           suspended: bool, day_start_s: int = 4 * 3600,
           unfuzzed: Scheduler | None = None) -> CardSchedule:
    """The card's answers through quizforge's scheduler, counting time between them in study
    days as Anki does (a day begins `day_start_s` seconds after midnight UTC): 23:00 and
    05:00 the next morning are one day apart, 05:00 and 23:00 the same day none. Each answer
    is given to the scheduler at the start of its study day (plus one second per answer
    before it, to keep their order), so that py-fsrs's whole 24-hour periods are study days;
    the due date and last review are then moved back to the real times.

    Only the last answer's due date is kept, and fuzz moves nothing but a due date (py-fsrs
    never reads the due date it is given): every answer before the last goes through
    `unfuzzed` (`scheduler` with fuzz off, `unfuzzed_twin`), which skips seeding the fuzz's
    random draw, and the last through `scheduler` with its seed, as before."""
    graded = [(record.reviewed_at, record.rating, record.duration_ms)
              for record, cram in answers if not cram]
    s = CardSchedule()
    fake_last = real_last = None
    for k, (real, rating, duration_ms) in enumerate(graded):
        day = (int(real.timestamp()) - day_start_s) // _DAY
        fake = datetime.fromtimestamp(day * _DAY + day_start_s + k, tz=UTC)
        if unfuzzed is not None and k < len(graded) - 1:
            s, _ = unfuzzed.review(s, rating, fake, duration_ms)
        else:
            seed = zlib.crc32(f"{card_key}/{s.reps}".encode())
            s, _ = scheduler.review(s, rating, fake, duration_ms, fuzz_seed=seed)
        fake_last, real_last = fake, real
    due = s.due if s.due is None or fake_last is None else real_last + (s.due - fake_last)
    return CardSchedule(**{**s.__dict__, "due": due, "last_review": real_last or s.last_review,
                           "suspended": s.suspended or suspended})


def unfuzzed_twin(scheduler: Scheduler) -> Scheduler:
    """`scheduler` with fuzz off (the same parameters, steps, limits and time zone)."""
    twin = Scheduler(replace(scheduler.config, fuzz=False))
    twin.tz = scheduler.tz
    return twin


def _since_reset(reviews: Sequence[tuple]) -> Sequence[tuple]:
    """The reviews after the card's last reset to new: Anki's Forget
    (`schedule_cards_as_new`) writes a Manual row with no ease and a zero interval, and the
    card starts over from it (Anki's own FSRS ignores what came before too)."""
    for i in range(len(reviews) - 1, -1, -1):
        _at_ms, ease, ivl, _time, kind = reviews[i]
        if kind in _MANUAL_KINDS and ease == 0 and ivl == 0:
            return reviews[i + 1:]
    return reviews


def _anki_due(state: AnkiCardState) -> datetime | None:
    """When Anki has the card due: a day number counted from the collection's day zero
    (review cards, and learning cards due on a later day), else epoch seconds; None when
    it is not a date."""
    if not (type(state.due) is int and type(state.crt) is int
            or _int(state.due) and _int(state.crt)):
        return None
    try:
        if state.type == 2 or state.due < 1_000_000_000:  # a day number
            return _day(state.crt, state.due)
        datetime.fromtimestamp(state.crt, tz=UTC)  # a usable day zero either way
        return datetime.fromtimestamp(state.due, tz=UTC)  # (re)learning within a day
    except (OverflowError, ValueError, OSError):
        return None


@lru_cache(maxsize=4096)
def _day(crt: int, days: int) -> datetime:
    """Day `days` counted from the day zero `crt` (epoch seconds). Cached: a collection's
    cards share a few hundred due days."""
    return datetime.fromtimestamp(crt, tz=UTC) + timedelta(days=days)


def _row_wins(schedule: CardSchedule, state: AnkiCardState, now: datetime,
              counts: HistoryCounts, set_due=None) -> CardSchedule:
    """The replayed schedule where the card row disagrees with it, as the row says: a card
    new in Anki is new; a review card is a review card, due when Anki has it due; a card
    (re)learning in Anki is (re)learning, due when Anki has it due. A card with nothing to
    replay since Anki's Forget stays new unless Anki has it in review (Set Due Date after
    the Forget): then `set_due()` gives its schedule."""
    if state.type == 0:
        return CardSchedule(suspended=state.queue == -1)
    if state.type not in (1, 2, 3):
        return schedule
    if schedule.state == State.NEW:  # no answer since a reset: nothing learnt to keep
        return schedule if state.type != 2 or set_due is None else set_due() or schedule
    if state.type != 2 and schedule.state == State(state.type):
        return schedule  # learning in both: the replay's step and due stand
    due = _anki_due(state)
    if due is None:
        return schedule
    lo, hi = bounds.date_window(now)
    if not lo <= due <= hi:
        counts.discarded += 1
        return schedule
    return CardSchedule(**{**schedule.__dict__, "state": State(state.type),
                           "step": None if state.type == 2 else 0, "due": due})


def set_due_schedule(state: AnkiCardState, set_at_ms: int | None, scheduler: Scheduler,
                     now: datetime, counts: HistoryCounts) -> CardSchedule | None:
    """A card Anki has in review with no answer to learn from (Anki's Set Due Date on a new
    or forgotten card): a review card due when Anki has it due, as though answered Good when
    its interval began. The interval is Anki's (`ivl`); Anki with FSRS on writes 0 there, and
    then it is the days from the Set Due Date (its Manual revlog row) to the due date, at
    least one. The stability is the one for which FSRS gives that interval at the desired
    retention (the interval itself at 90%); the difficulty FSRS's first one for Good. None
    when the due date is not usable (`counts.discarded`)."""
    due = _anki_due(state)
    lo, hi = bounds.date_window(now)
    if due is None or not lo <= due <= hi:
        counts.discarded += 1
        return None
    days = state.ivl if _int(state.ivl) and state.ivl > 0 else 0
    if not days and set_at_ms is not None:
        days = round((due.timestamp() * 1000 - set_at_ms) / 86_400_000)
    days = min(max(days, 1), bounds.MAX_INTERVAL_DAYS)
    w = scheduler.parameters
    decay = -w[20]
    factor = 0.9 ** (1 / decay) - 1
    retention = scheduler.config.desired_retention
    # FSRS's interval at retention r is S·(r^(1/decay) − 1)/factor: S itself at 90%
    scale = 1.0 if retention == 0.9 else factor / (retention ** (1 / decay) - 1)
    stability = days * scale
    difficulty = w[4] - math.exp(w[5] * (Rating.GOOD - 1)) + 1
    lapses = state.lapses if _int(state.lapses) else 0
    return CardSchedule(
        state=State.REVIEW, stability=bounds.clamp(stability, bounds.STABILITY),
        difficulty=bounds.clamp(difficulty, bounds.DIFFICULTY), due=due,
        last_review=due - timedelta(days=days), reps=0,
        lapses=min(max(lapses, 0), bounds.MAX_COUNT), suspended=state.queue == -1)


def plan_history(deck_id: str, cards: Sequence[ImportedCard], scheduler: Scheduler,
                 now: datetime, package=None) -> HistoryPlan:
    """Check every Anki value of `cards` and work out what to write: pure, and done before
    the deck file is written, so a package that cannot be read writes nothing.

    `package`: the collection the cards were read from (apkg.PackageCollection, kept open):
    the answers are then counted and checked by SQL in it, and written from it by SQL
    (`apply_history`); only the cards replayed read their rows in Python."""
    counts = HistoryCounts()
    dates = bounds.date_window(now)
    window = dates[0].timestamp() * 1000, dates[1].timestamp() * 1000
    if package is not None and not all(type(c.anki.cid) is int for c in cards
                                       if c.anki is not None):
        package = None  # a card id that is not an integer (a crafted collection)
    summaries = package_summaries(package, window) if package is not None else None
    unfuzzed: Scheduler | None = None  # made for the first card replayed
    plans = []
    append = plans.append
    none = (0, 0, None, 0, 0, 0, 0)
    for card in cards:
        anki = card.anki
        if anki is None:
            continue
        if summaries is None:
            if not anki.reviews and anki.stability is None and anki.type != 2:
                if anki.queue == -1:  # suspended in Anki before its first review
                    append(CardPlan(card.id, suspend_new=True))
                continue
            answers, manual, graded, last_ms = review_rows(anki.reviews, window, counts)
            plan = CardPlan(card.id, answers, cram=len(answers) - graded)
        else:
            # A card has rows in the package's revlog when it has a summary (its reviews,
            # PackageReviews, would count the same rows).
            summary = summaries.get(anki.cid)
            if summary is None and anki.stability is None and anki.type != 2:
                if anki.queue == -1:
                    append(CardPlan(card.id, suspend_new=True))
                continue
            kept, graded, last_ms, cram, manual, dropped, clamped = summary or none
            if dropped or clamped:
                counts.dropped += dropped
                counts.clamped += clamped
            plan = CardPlan(card.id, cram=cram, cid=anki.cid, kept=kept,
                            clean=not (dropped or manual))
        counts.manual += manual
        if last_ms is not None:
            plan.last = _at(last_ms)
        if anki.stability is not None and anki.type != 0:
            plan.schedule = anki_schedule(anki, plan.last, graded, now, counts, dates)
            plan.from_anki = plan.schedule is not None
        if plan.schedule is None and graded:
            since, _ = records(_since_reset(anki.reviews), now)
            if any(not cram for _, cram in since):
                if unfuzzed is None:
                    unfuzzed = unfuzzed_twin(scheduler)
                plan.schedule = replay(scheduler, f"{deck_id}/{card.id}", since,
                                       anki.queue == -1, anki.day_start_s, unfuzzed)
            else:  # forgotten in Anki since its last answer
                plan.schedule = CardSchedule(suspended=anki.queue == -1)
            plan.schedule = _row_wins(
                plan.schedule, anki, now, counts,
                lambda anki=anki, plan=plan: _set_due(anki, plan, scheduler, now, counts))
        elif plan.schedule is None and anki.type == 2:  # in review, never answered
            plan.schedule = _set_due(anki, plan, scheduler, now, counts)
        append(plan)
    return HistoryPlan(plans, counts, package, window)


def _set_due(anki: AnkiCardState, plan: CardPlan, scheduler: Scheduler, now: datetime,
             counts: HistoryCounts) -> CardSchedule | None:
    """`set_due_schedule` for the card of `plan`, from its Set Due Date (its last manual
    revlog row); the plan marked as such when it gives a schedule."""
    manual_at = [r[0] for r in anki.reviews if r[4] in _MANUAL_KINDS and _int(r[0])]
    schedule = set_due_schedule(anki, manual_at[-1] if manual_at else None,
                                scheduler, now, counts)
    if schedule is not None:  # importing it again: not "reviewed here since"
        plan.set_due, plan.last = True, max(plan.last or schedule.last_review,
                                            schedule.last_review)
    return schedule


def apply_history(db, deck: Deck, plan: HistoryPlan, now: datetime) -> HistoryCounts:
    """Sync the deck into the store, then add the planned Anki reviews and states, in one
    transaction. A card the sync adds gets its planned schedule in its new row."""
    package = plan.package
    # The import's transaction dirties tens of MB of pages (100,000 answers: the review log,
    # its indexes, the sync outbox): in SQLite's default 2 MB page cache they would be
    # spilled into the WAL and written again as the transaction goes on. A larger cache for
    # the import only (memory, used as pages are; what is written is the same): ~0.05 s of
    # CPU less per 100,000 answers.
    cache = db.conn.execute("PRAGMA main.cache_size").fetchone()[0]
    db.conn.execute(f"PRAGMA main.cache_size = {-IMPORT_CACHE_KIB}")
    try:
        if package is None:
            return _apply(db, deck, plan, now)
        # Attached outside the transaction (SQLite refuses an ATTACH inside one), read-only.
        db.conn.execute(f"ATTACH DATABASE ? AS {_PKG}", (package.uri,))
        try:
            return _apply(db, deck, plan, now)
        finally:
            db.conn.execute(f"DETACH DATABASE {_PKG}")
    finally:
        db.conn.execute(f"PRAGMA main.cache_size = {int(cache)}")


IMPORT_CACHE_KIB = 64 << 10  # the import's page cache at most (SQLite's default: 2,000 KiB)


def _apply(db, deck: Deck, plan: HistoryPlan, now: datetime) -> HistoryCounts:
    from quizforge.store.cards import insert_review_rows, sync_decks, write_schedules
    from quizforge.store.db import from_ms

    counts = HistoryCounts(**plan.counts.to_dict())
    initial: dict[str, CardSchedule] = {}
    for card in plan.cards:
        if card.suspend_new:
            initial[card.card_id] = _SUSPENDED_NEW
        elif card.schedule is not None:
            initial[card.card_id] = card.schedule
    added: set[str] = set()
    # (seq, Anki card id, store card, clean) of the cards whose rows SQL writes
    by_sql: list[tuple[int, int, int, int]] = []
    had = False  # a card of by_sql has answers in the store already (an earlier import)
    with db.atomic() as conn:
        sync_decks(db, [deck], now, initial, added)
        # Two queries for the whole deck, not two per card. A card's last review stays in
        # ms until it is compared (only a card the store had already: not a fresh one; when
        # the sync added every card, the (deck, card) index alone is read). Plain tuples.
        cur = conn.cursor()
        cur.row_factory = None
        last_review = "NULL" if len(added) == len(deck.cards) else "last_review"
        rows = {card_id: (rowid, last) for rowid, card_id, last in cur.execute(
            f"SELECT id, card_id, {last_review} FROM cards WHERE deck_id = ?", (deck.id,))}
        have: dict[int, set[int]] = {}
        for rowid, at in conn.execute(
                "SELECT v.card, v.reviewed_at FROM revlog v JOIN cards c ON c.id = v.card"
                " WHERE c.deck_id = ?", (deck.id,)):
            have.setdefault(rowid, set()).add(at)
        new_reviews: list[tuple] = []  # the revlog rows, written in one executemany
        schedules: list[tuple[int, CardSchedule]] = []
        # Counted in locals (one loop over every card), added to `counts` after.
        reviews = cram = already = kept = from_anki = set_due = replayed = suspended = 0
        for card in plan.cards:
            got = rows.get(card.card_id)
            if got is None:
                continue
            rowid, stored = got
            fresh = card.card_id in added  # its schedule came with its new row
            if card.suspend_new:
                if not fresh:
                    conn.execute("UPDATE cards SET suspended = 1 WHERE id = ?", (rowid,))
                suspended += 1
                continue
            seen = have.get(rowid)
            if card.cid is not None:  # written below by SQL, counted there
                by_sql.append((len(by_sql), card.cid, rowid, 1 if card.clean else 0))
                if seen:
                    had = True
                reviews += card.kept
                cram += card.cram
            else:
                if seen:  # imported before: only the answers the store does not have
                    answers = [r for r in card.answers if r[0] not in seen]
                    already += len(card.answers) - len(answers)
                    cram += sum(r[6] for r in answers)
                else:  # the usual case: every answer is new
                    answers = card.answers
                    cram += card.cram
                new_reviews += [(rowid, *r) for r in answers]
                reviews += len(answers)
            if not fresh and stored is not None and (card.last is None
                                                     or from_ms(stored) > card.last):
                kept += 1
                continue
            schedule = card.schedule
            if schedule is None:
                continue
            if card.from_anki:
                from_anki += 1
            elif card.set_due:
                set_due += 1
            else:
                replayed += 1
            if not fresh:
                schedules.append((rowid, schedule))
            suspended += schedule.suspended
        counts.reviews += reviews
        counts.cram += cram
        counts.already += already
        counts.kept += kept
        counts.from_anki += from_anki
        counts.set_due += set_due
        counts.replayed += replayed
        counts.suspended += suspended
        insert_review_rows(conn, new_reviews)
        if by_sql:
            _insert_from_package(conn, plan, by_sql, had, counts)
        write_schedules(conn, schedules)
    return counts


def _insert_from_package(conn, plan: HistoryPlan, by_sql: list[tuple[int, int, int, int]],
                         had: bool, counts: HistoryCounts) -> None:
    """The answers of the `by_sql` cards, straight from the attached package's revlog into
    the store's, in one INSERT ... SELECT. `counts.reviews` and `cram` come in holding every
    kept answer of these cards (as planned): those the store had already are taken off, and
    `reviews` ends as the rows written."""
    from quizforge.store.cards import insert_review_select

    lo, hi = plan.window
    args = {"lo": lo, "hi": hi}
    try:
        conn.execute(f"CREATE TEMP TABLE {_MAP.removeprefix('temp.')}"
                     " (seq INTEGER PRIMARY KEY, cid, card INTEGER, clean INTEGER)")
        conn.executemany(f"INSERT INTO {_MAP} VALUES (?, ?, ?, ?)", by_sql)
        select = _ANSWERS
        if had:  # an earlier import: only the answers the store does not have
            select += _NOT_HAD
            already, cram = conn.execute(
                f"SELECT COUNT(*), COALESCE(SUM(r.type = 3), 0) FROM {_MAP} m JOIN"
                f" {_PKG}.revlog r ON r.cid = m.cid WHERE {_sql(_CID)} AND {_sql(_KEPT)}"
                " AND EXISTS (SELECT 1 FROM main.revlog v WHERE v.card = m.card"
                " AND v.reviewed_at = r.id)", args).fetchone()
            counts.already += already
            counts.reviews -= already
            counts.cram -= cram
        if counts.reviews:
            expected = counts.reviews
            counts.reviews += insert_review_select(conn, select + " ORDER BY seq, at",
                                                   args) - expected
        conn.execute(f"DROP TABLE {_MAP}")
    except sqlite3.DatabaseError as e:
        if not _sound(conn):  # the package's collection, not the store
            raise plan.package.damaged(e) from None
        raise


def _sound(conn) -> bool:
    """Whether the attached package passes SQLite's quick_check."""
    try:
        return [r[0] for r in conn.execute(f"PRAGMA {_PKG}.quick_check")] == ["ok"]
    except sqlite3.DatabaseError:
        return False


_SUSPENDED_NEW = CardSchedule(suspended=True)  # never reviewed, suspended in Anki
