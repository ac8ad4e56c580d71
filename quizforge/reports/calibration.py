"""Calibration: does FSRS's predicted recall match how often you actually recalled?

For every answer FSRS can predict (given a day or more after the card's previous answer:
the answers `quizforge optimize` trains on, cram and drill answers left out), the
predicted recall is R = (1 + F·t/S)^(-w20) at the moment of the answer, with S the
stability after the card's earlier answers replayed with the parameters in use now and t
the whole days since the previous answer (py-fsrs's `get_card_retrievability`). Answers
are put in bins by predicted R; each bin shows its mean prediction and the share actually
recalled (rating Hard, Good or Easy). A well-calibrated model has the two close.

`calibration` is the definition, a pure function of (predicted, recalled) pairs, and
replaying a card's history is `predict`, also pure. The report does not replay 1M answers
each time: `refresh` keeps each answer's prediction in recall_predictions (-1 where there
is none), made for new answers and again when the parameters change, with `calibration`
of them all; `calibration_in_store` reads those kept bins, or counts a --deck, --tag or
--since selection in SQL into the same bins (tested equal).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING

from quizforge.reports.scope import Calendar, Scope
from quizforge.store.db import Database

if TYPE_CHECKING:
    from quizforge.scheduling.fitting import History

# Predictions cluster above 0.8 (cards come due near the desired retention), so the bins
# are finer there.
EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0)
NO_PREDICTION = -1.0
MIN_S = 0.001  # py-fsrs STABILITY_MIN
MIN_D, MAX_D = 1.0, 10.0


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
    replayed. A read-only store is worked on as an in-memory copy (nothing kept).

    The replay (seconds at a million answers) runs outside the write lock, so a study
    session answering meanwhile is not kept waiting; the results are written only if the
    review log did not change in between, else the work is done again (the last time
    inside the lock)."""
    key = _key(parameters)
    for attempt in range(3):
        locked = attempt == 2
        state = db.conn.execute("SELECT parameters, bins FROM recall_state").fetchone()
        full = state is None or state[0] != key
        cards: set[int] = set()
        if not full:
            done = db.conn.execute(
                "SELECT COALESCE(MAX(id), 0) FROM recall_predictions").fetchone()[0]
            # a rowid range: the newest answers only (DISTINCT would walk the card index)
            cards = {r[0] for r in db.conn.execute(
                "SELECT card FROM revlog WHERE id > ? AND cram = 0", (done,))}
            if not cards and state[1] is not None:
                return 0  # up to date: no write lock taken
        seen = _log_mark(db) + (tuple(state) if state else ())
        work = None if locked else _replay(db, full, cards, parameters)
        with db.atomic() as conn:
            now = _log_mark(db) + tuple(
                conn.execute("SELECT parameters, bins FROM recall_state").fetchone() or ())
            if now != seen and not locked:
                continue  # answers came or went while replaying: again
            if work is None:
                work = _replay(db, full, cards, parameters)
            rows, values, new = work
            kept = None if full else _kept_bins(state)
            old = Calibration(())
            if full:
                # every kept study day counts predictions: drop them all at once (the
                # triggers that would drop them one prediction at a time then do nothing);
                # the same for the predictions per (deck, tag list)
                conn.execute("DELETE FROM study_days")
                conn.execute("DELETE FROM study_days_done")
                conn.execute("DELETE FROM recall_groups_done")
                conn.execute("DELETE FROM recall_groups")
                conn.execute("DELETE FROM recall_predictions")
            else:
                # Only the predictions that changed are rewritten (most often the new
                # answer's alone): each one written drops the kept study day it counts in.
                mine = "SELECT id FROM revlog WHERE card IN (SELECT id FROM replay_cards)"
                stored = {i: (k, p) for i, k, p in conn.execute(
                    f"SELECT id, recalled, predicted FROM recall_predictions WHERE id IN ({mine})")}
                replayed = {v[0] for v in values}
                values = [v for v in values if stored.get(v[0]) != (v[1], v[2])]
                gone = [v[0] for v in values if v[0] in stored]
                gone += [i for i in stored if i not in replayed]
                old = calibration((stored[i][1], stored[i][0]) for i in gone
                                  if stored[i][1] >= 0)
                conn.executemany("DELETE FROM recall_predictions WHERE id = ?",
                                 [(i,) for i in gone])
                new = calibration((v[2], v[1]) for v in values if v[2] >= 0)
            conn.executemany(
                "INSERT INTO recall_predictions (id, recalled, predicted) VALUES (?, ?, ?)",
                values)
            if full:
                total = new
            elif kept is not None:
                total = _combine(kept, new, old)
            else:  # an answer was deleted (undo) since they were counted: count them all again
                total = _count_bins(db, "", [])
            conn.execute(
                "INSERT INTO recall_state (id, parameters, bins) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET parameters = excluded.parameters,"
                " bins = excluded.bins",
                (key, json.dumps([[b.reviews, b.predicted_sum, b.recalled] for b in total.bins])),
            )
        return len({r[0] for r in rows})
    raise AssertionError("unreachable: the third attempt runs inside the lock")


def _log_mark(db: Database) -> tuple:
    """Changes whenever an answer is added or removed: the log's last id and its number of
    rows as deck_reviews keeps it (counting a million rows took a tenth of a second, run
    twice per report after every answer)."""
    return tuple(db.conn.execute(
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM revlog),"
        " (SELECT COALESCE(SUM(reviews), 0) FROM deck_reviews)").fetchone())


def _replay(db: Database, full: bool, cards: set[int], parameters: Sequence[float]):
    """Read and replay what `refresh` must predict: (revlog rows, (id, recalled, predicted)
    for each, their calibration). Only reads the store (the card list goes to a temporary
    table, which is the connection's own)."""
    # only when something is replayed: a report that finds the predictions up to date
    # does not load the optimizer's history code
    from quizforge.scheduling.fitting import DRILL_KINDS, histories

    marks = ",".join("?" * len(DRILL_KINDS))
    drill = f"card IN (SELECT id FROM cards WHERE kind IN ({marks}))"
    where = ""
    if not full:
        db.conn.execute("CREATE TEMP TABLE IF NOT EXISTS replay_cards (id INTEGER PRIMARY KEY)")
        db.conn.execute("DELETE FROM replay_cards")
        db.conn.executemany("INSERT INTO replay_cards (id) VALUES (?)", ((c,) for c in cards))
        where = " AND card IN (SELECT id FROM replay_cards)"
    # In id order, a plain walk of the table (ordering by card walks the card index and
    # jumps around the table: 3x slower); sorted by card here instead.
    rows = db.conn.execute(
        f"SELECT card, reviewed_at, rating, state_before, id, {drill} FROM revlog"
        f" WHERE cram = 0{where} ORDER BY id",
        DRILL_KINDS,
    ).fetchall() if full or cards else []
    by_card = sorted((r for r in rows if not r[5]), key=itemgetter(0, 1, 4))
    hs, _ = histories(by_card)
    predicted = {i: p for h in hs for p, i in zip(predict(h, parameters), h.ids)}
    values = [(r[4], int(r[2] > 1), predicted.get(r[4], NO_PREDICTION)) for r in rows]
    new = calibration((v[2], v[1]) for v in values if v[2] >= 0)
    return rows, values, new


def answers_to_predict(db: Database, parameters: Sequence[float]) -> int:
    """About how many answers the next `refresh` replays (for a progress note)."""
    state = db.conn.execute("SELECT parameters FROM recall_state").fetchone()
    if state is None or state[0] != _key(parameters):
        return db.conn.execute("SELECT COUNT(*) FROM revlog WHERE cram = 0").fetchone()[0]
    done = db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM recall_predictions").fetchone()[0]
    return db.conn.execute(
        "SELECT COUNT(*) FROM revlog WHERE id > ? AND cram = 0", (done,)).fetchone()[0]


def _key(parameters: Sequence[float]) -> str:
    return json.dumps([round(float(v), 6) for v in parameters])


def _kept_bins(state) -> Calibration | None:
    if state is None or state[1] is None:
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
    day on). Call `refresh` first: the whole log's bins are then read as kept, and a
    --deck, --tag or --since selection is counted through the review log's indexes."""
    f, args = scope.revlog_sql(cal)
    if not f:
        kept = _kept_bins(db.conn.execute("SELECT parameters, bins FROM recall_state").fetchone())
        if kept is not None:
            return kept
    elif scope.since is None and USE_SUMMARIES and _groups_kept(db):
        # a --deck or --tag selection of every answer: the kept per-(deck, tag list) steps
        g, gargs = scope.cards_sql()
        return _bins(db.conn.execute(
            "SELECT step, SUM(n), TOTAL(predicted), SUM(recalled) FROM recall_groups"
            f" WHERE 1{g} GROUP BY step", gargs))
    return _count_bins(db, f, args)


def _groups_kept(db: Database) -> bool:
    """recall_groups holds every stored prediction, built now if it did not (not in a
    read-only store: the caller counts from the log instead)."""
    if db.conn.execute("SELECT 1 FROM recall_groups_done").fetchone():
        return True
    if db.read_only:
        return False
    with db.atomic() as conn:
        conn.execute("DELETE FROM recall_groups")
        conn.execute(
            f"INSERT INTO recall_groups (deck_id, tags, step, n, predicted, recalled)"
            f" SELECT c.deck_id, c.tags, MIN(CAST(p.predicted * {STEPS} AS INTEGER),"
            f" {STEPS - 1}) AS step, COUNT(*), TOTAL(p.predicted), SUM(p.recalled)"
            " FROM recall_predictions p JOIN revlog r ON r.id = p.id"
            " JOIN cards c ON c.id = r.card WHERE p.predicted >= 0"
            " GROUP BY 1, 2, 3")  # (cards has a column `step` of its own)
        conn.execute("INSERT OR REPLACE INTO recall_groups_done (id) VALUES (1)")
    return True


# Read the predictions per (deck, tag list) kept in recall_groups for a --deck or --tag
# selection; False counts them from the log (tests compare the two).
USE_SUMMARIES = True

# EDGES are multiples of 1/STEPS: SQLite groups by step (one cheap expression per answer),
# and the steps are added up into the bins here.
STEPS = 20


def _count_bins(db: Database, f: str, args: list) -> Calibration:
    return _bins(db.conn.execute(
        f"SELECT MIN(CAST(p.predicted * {STEPS} AS INTEGER), {STEPS - 1}) AS step, COUNT(*),"
        " TOTAL(p.predicted), TOTAL(p.recalled) FROM revlog r"
        f" JOIN recall_predictions p ON p.id = r.id WHERE p.predicted >= 0{f} GROUP BY step",
        args,
    ).fetchall())


def _bins(rows) -> Calibration:
    """(step, answers, predicted sum, recalled) rows added up into the EDGES bins."""
    n = [0] * (len(EDGES) - 1)
    s = [0.0] * len(n)
    k = [0] * len(n)
    for step, count, total, recalled in rows:
        i = bin_index(step / STEPS)
        n[i] += count
        s[i] += total
        k[i] += int(recalled)
    return Calibration(tuple(Bin(EDGES[i], EDGES[i + 1], n[i], s[i], k[i]) for i in range(len(n))))
