"""Calibration: does FSRS's predicted recall match how often you actually recalled?

For every answer FSRS can predict (given a day or more after the card's previous answer:
the answers `quizforge optimize` trains on, cram and drill answers left out), the
predicted recall is R = (1 + F·t/S)^(-w20) at the moment of the answer, with S the
stability after the card's earlier answers replayed with the parameters in use now and t
the whole days since the previous answer (py-fsrs's `get_card_retrievability`). Answers
are put in bins by predicted R; each bin shows its mean prediction and the share actually
recalled (rating Hard, Good or Easy). A well-calibrated model has the two close.

`calibration` is the definition, a pure function of (predicted, recalled) pairs.
Replaying a card's history is `predict`, also pure. The report does not replay 1M answers
each time: each review-log row keeps its prediction (revlog.predicted, -1 where there is
none), filled for new answers and refilled when the parameters change (`refresh`), and
`calibration_in_store` bins them in SQL, the same bins as `calibration` (tested equal).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from quizforge.reports.scope import Calendar, Scope
from quizforge.scheduling.fitting import DRILL_KINDS, History, histories
from quizforge.store.db import Database

# Predictions cluster above 0.8 (cards come due near the desired retention), so the bins
# are finer there.
EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)
NO_PREDICTION = -1.0
MIN_S = 0.001  # py-fsrs STABILITY_MIN
MIN_D, MAX_D = 1.0, 10.0
# As migration 0005 made it; dropped and built again around a full refill.
BINS_INDEX = (
    "CREATE INDEX IF NOT EXISTS recall_predictions_bins"
    " ON recall_predictions (predicted, recalled, card, reviewed_at) WHERE predicted >= 0"
)


@dataclass(frozen=True)
class Bin:
    lo: float
    hi: float
    reviews: int
    predicted_sum: float
    recalled: int

    @property
    def predicted(self) -> float | None:
        """Mean predicted recall in the bin."""
        return self.predicted_sum / self.reviews if self.reviews else None

    @property
    def actual(self) -> float | None:
        """Share of the bin's answers recalled."""
        return self.recalled / self.reviews if self.reviews else None


@dataclass(frozen=True)
class Calibration:
    bins: tuple[Bin, ...]

    @property
    def reviews(self) -> int:
        return sum(b.reviews for b in self.bins)

    @property
    def predicted(self) -> float | None:
        n = self.reviews
        return sum(b.predicted_sum for b in self.bins) / n if n else None

    @property
    def actual(self) -> float | None:
        n = self.reviews
        return sum(b.recalled for b in self.bins) / n if n else None

    @property
    def rmse(self) -> float | None:
        """Root mean squared gap between predicted and actual over the bins, each bin
        weighted by its answers."""
        n = self.reviews
        if not n:
            return None
        return math.sqrt(
            sum(b.reviews * (b.predicted - b.actual) ** 2 for b in self.bins if b.reviews) / n
        )

    def to_dict(self) -> dict:
        def r(x):
            return None if x is None else round(x, 4)

        return {
            "reviews": self.reviews,
            "predicted": r(self.predicted),
            "actual": r(self.actual),
            "rmse": r(self.rmse),
            "bins": [
                {"from": b.lo, "to": b.hi, "reviews": b.reviews, "predicted": r(b.predicted),
                 "actual": r(b.actual)}
                for b in self.bins
            ],
        }


def bin_index(p: float) -> int:
    """Bins are [lo, hi); the last one holds 1.0 too."""
    return min(max(bisect_right(EDGES, p) - 1, 0), len(EDGES) - 2)


def calibration(pairs: Iterable[tuple[float, bool]]) -> Calibration:
    """Predicted recall vs actual, in EDGES bins, from (predicted R, recalled) pairs."""
    n = [0] * (len(EDGES) - 1)
    s = [0.0] * len(n)
    k = [0] * len(n)
    for p, recalled in pairs:
        i = bin_index(p)
        n[i] += 1
        s[i] += p
        k[i] += int(bool(recalled))
    return Calibration(
        tuple(Bin(EDGES[i], EDGES[i + 1], n[i], s[i], k[i]) for i in range(len(n)))
    )


# -- replay (pure) --------------------------------------------------------------------------
def predict(h: History, w: Sequence[float]) -> list[float]:
    """Predicted recall at each of the card's answers, replaying FSRS-6 as py-fsrs does
    (initial, short-term and long-term stability; difficulty with mean reversion);
    NO_PREDICTION for the first answer and for answers on the same day as the previous."""
    decay = -w[20]
    factor = 0.9 ** (1 / decay) - 1
    d_easy = w[4] - math.exp(w[5] * 3) + 1  # initial difficulty of Easy, unclamped
    out = []
    s = d = 0.0
    for i, (g, dt) in enumerate(h.reviews):
        if i == 0:
            out.append(NO_PREDICTION)
            s = max(w[g - 1], MIN_S)
            d = min(max(w[4] - math.exp(w[5] * (g - 1)) + 1, MIN_D), MAX_D)
            continue
        if dt < 1:
            out.append(NO_PREDICTION)
            inc = math.exp(w[17] * (g - 3 + w[18])) * s ** -w[19]
            if g > 1:
                inc = max(inc, 1.0)
            s = max(s * inc, MIN_S)
        else:
            r = (1 + factor * dt / s) ** decay
            out.append(r)
            if g == 1:
                long = w[11] * d ** -w[12] * ((s + 1) ** w[13] - 1) * math.exp((1 - r) * w[14])
                s = min(long, s / math.exp(w[17] * w[18]))
            else:
                hard = w[15] if g == 2 else 1
                easy = w[16] if g == 4 else 1
                s = s * (
                    1 + math.exp(w[8]) * (11 - d) * s ** -w[9] * (math.exp((1 - r) * w[10]) - 1)
                    * hard * easy
                )
            s = max(s, MIN_S)
        delta = -(w[6] * (g - 3))
        d2 = d + (10.0 - d) * delta / 9.0
        d = min(max(w[7] * d_easy + (1 - w[7]) * d2, MIN_D), MAX_D)
    return out


# -- the store ------------------------------------------------------------------------------
def refresh(db: Database, parameters: Sequence[float]) -> int:
    """Bring the stored predictions up to date: the cards with answers newer than the last
    prediction are replayed whole (an imported answer may sit in the middle of a history);
    when the parameters differ from the ones the predictions were made with, every card
    is. Answers FSRS predicts nothing for (first and same-day answers, drill answers,
    answers before a card's first) are stored with -1, so they count as done. The bins of
    all predictions are kept too, updated by what changed. Returns how many cards were
    replayed. A read-only store is worked on as an in-memory copy (nothing kept)."""
    key = json.dumps([round(float(v), 6) for v in parameters])
    state = db.conn.execute("SELECT parameters, bins, rows FROM recall_state").fetchone()
    full = state is None or state[0] != key
    cards: set[int] = set()
    if not full:
        done = db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM recall_predictions").fetchone()[0]
        # a rowid range: the newest answers only (DISTINCT would walk the card index)
        cards = {r[0] for r in db.conn.execute(
            "SELECT card FROM revlog WHERE id > ? AND cram = 0", (done,))}
        if not cards and _stored_bins(db, state) is not None:
            return 0  # up to date: no write lock taken
    marks = ",".join("?" * len(DRILL_KINDS))
    drill = f"card IN (SELECT id FROM cards WHERE kind IN ({marks}))"
    with db.atomic() as conn:
        before = None if full else _stored_bins(db, state)  # counted before any change
        old = Calibration(())
        if full:
            conn.execute("DELETE FROM recall_predictions")
            # Filling the index row by row in prediction order is slow (random b-tree
            # inserts); building it after the rows are in is 5x faster at 1M answers.
            conn.execute("DROP INDEX IF EXISTS recall_predictions_bins")
            where = ""
        else:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS replay_cards (id INTEGER PRIMARY KEY)")
            conn.execute("DELETE FROM replay_cards")
            conn.executemany("INSERT INTO replay_cards (id) VALUES (?)", ((c,) for c in cards))
            old = calibration(conn.execute(
                "SELECT predicted, recalled FROM recall_predictions"
                " WHERE predicted >= 0 AND card IN (SELECT id FROM replay_cards)"))
            conn.execute(
                "DELETE FROM recall_predictions WHERE card IN (SELECT id FROM replay_cards)"
            )
            where = " AND card IN (SELECT id FROM replay_cards)"
        # In id order, a plain walk of the table (ordering by card walks the card index and
        # jumps around the table: 3x slower); sorted by card here instead.
        rows = conn.execute(
            f"SELECT card, reviewed_at, rating, state_before, id, {drill} FROM revlog"
            f" WHERE cram = 0{where} ORDER BY id",
            DRILL_KINDS,
        ).fetchall() if full or cards else []
        by_card = sorted((r for r in rows if not r[5]), key=itemgetter(0, 1, 4))
        hs, _ = histories(by_card)
        predicted = {i: p for h in hs for p, i in zip(predict(h, parameters), h.ids)}
        values = [
            (r[4], r[0], r[1], int(r[2] > 1), predicted.get(r[4], NO_PREDICTION)) for r in rows
        ]
        conn.executemany(
            "INSERT INTO recall_predictions (id, card, reviewed_at, recalled, predicted)"
            " VALUES (?, ?, ?, ?, ?)",
            values,
        )
        if full:
            conn.execute(BINS_INDEX)
        new = calibration((v[4], v[3]) for v in values if v[4] >= 0)
        if full:
            total = new
        elif before is not None:
            total = _combine(before, new, old)
        else:  # answers were deleted since (undo): count them all again, once
            total = _bins_from_predictions(db, "", [])
        conn.execute(
            "INSERT INTO recall_state (id, parameters, bins, rows) VALUES (1, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET parameters = excluded.parameters,"
            " bins = excluded.bins, rows = excluded.rows",
            (key, json.dumps([[b.reviews, b.predicted_sum, b.recalled] for b in total.bins]),
             _count(db)),
        )
    return len({r[0] for r in rows})


def _count(db: Database) -> int:
    return db.conn.execute("SELECT COUNT(*) FROM recall_predictions").fetchone()[0]


def _stored_bins(db: Database, state) -> Calibration | None:
    """The kept bins, unless answers were deleted (undo) since they were counted."""
    if state is None or state[1] is None or state[2] != _count(db):
        return None
    return Calibration(tuple(
        Bin(EDGES[i], EDGES[i + 1], n, s, k) for i, (n, s, k) in enumerate(json.loads(state[1]))
    ))


def _combine(total: Calibration, plus: Calibration, minus: Calibration) -> Calibration:
    def get(c: Calibration, i: int) -> tuple[int, float, int]:
        return (c.bins[i].reviews, c.bins[i].predicted_sum, c.bins[i].recalled) if c.bins else (
            0, 0.0, 0)

    bins = []
    for i, b in enumerate(total.bins):
        p, m = get(plus, i), get(minus, i)
        bins.append(Bin(b.lo, b.hi, b.reviews + p[0] - m[0], b.predicted_sum + p[1] - m[1],
                        b.recalled + p[2] - m[2]))
    return Calibration(tuple(bins))


def calibration_in_store(db: Database, scope: Scope, cal: Calendar) -> Calibration:
    """`calibration` of the stored predictions in scope (--since counts answers from that
    day on). Call `refresh` first: the whole log's bins are then read as kept."""
    f, args = _scope_sql(scope, cal)
    if not f:
        state = db.conn.execute("SELECT parameters, bins, rows FROM recall_state").fetchone()
        kept = _stored_bins(db, state)
        if kept is not None:
            return kept
    return _bins_from_predictions(db, f, args)


def _bins_from_predictions(db: Database, f: str, args: list) -> Calibration:
    """Each bin is a range of the covering index on predicted recall, so SQLite neither
    sorts nor reads the answers outside the bins (a GROUP BY over 1M took 0.3 s)."""
    bins = []
    last = len(EDGES) - 2
    for i in range(len(EDGES) - 1):
        lo, hi = EDGES[i], EDGES[i + 1]
        # `predicted >= 0` verbatim: the partial index is used only when the query says so.
        n, total, recalled = db.conn.execute(
            "SELECT COUNT(*), TOTAL(predicted), TOTAL(recalled) FROM recall_predictions"
            f" WHERE predicted >= 0 AND predicted >= {lo!r}"
            f" AND predicted {'<=' if i == last else '<'} {hi!r}{f}",
            args,
        ).fetchone()
        bins.append(Bin(lo, hi, n, total, int(recalled)))
    return Calibration(tuple(bins))


def _scope_sql(scope: Scope, cal: Calendar) -> tuple[str, list]:
    sql, args = "", []
    if scope.decks or scope.tags:
        f, args = scope.cards_sql()
        sql += f" AND card IN (SELECT id FROM cards WHERE 1{f})"
    if scope.since is not None:
        sql += " AND reviewed_at >= ?"
        args.append(cal.start_ms(scope.since))
    return sql, args
