"""A synthetic learner whose memory follows FSRS with known, non-default parameters.

Cards are scheduled as quizforge schedules them before any optimizing (default
parameters, no fuzz); whether each answer is recalled is drawn from the learner's true
recall probability, py-fsrs's retrievability under TRUE_PARAMETERS for the same history.
Everything goes through the store's own code (sync_decks, insert_review, write_schedule).
"""

from __future__ import annotations

import random
from datetime import timedelta

from helpers import T0, make_deck

from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import CardSchedule, Rating, Scheduler, State
from quizforge.store import cards as store

# A learner who forgets faster than FSRS's defaults assume: lower initial stabilities,
# slower growth after a success, and a steeper forgetting curve (w20).
TRUE_PARAMETERS = (
    0.1, 0.4, 0.9, 3.0,
    7.0, 0.6, 2.5, 0.01,
    1.2, 0.25, 0.6, 1.8,
    0.1, 0.35, 2.0, 0.4,
    2.5, 0.4, 0.2, 0.1,
    0.45,
)


def simulate(db, n_cards: int, days: int, seed: int, deck_id: str = "sim") -> int:
    """Write a review log of `n_cards` cards studied over `days` days; returns its size."""
    rng = random.Random(seed)
    sched = Scheduler(Config(fuzz=False, leech_threshold=100_000))
    truth = Scheduler(Config(fuzz=False, leech_threshold=100_000, parameters=TRUE_PARAMETERS))
    store.sync_decks(db, [make_deck(deck_id, n_flash=n_cards)], T0)
    rowids = [r[0] for r in db.conn.execute(
        "SELECT id FROM cards WHERE deck_id = ? ORDER BY id", (deck_id,))]
    end = T0 + timedelta(days=days)
    n = 0
    with db.atomic() as conn:
        for k, rowid in enumerate(rowids):
            t = T0 + timedelta(days=days * k / (2 * n_cards), minutes=rng.randint(0, 600))
            s, true_s = CardSchedule(), CardSchedule()
            while t < end:
                if true_s.state in (State.NEW,) or true_s.last_review is None:
                    p = 0.0  # never seen: nothing to recall
                elif (t - true_s.last_review) < timedelta(days=1):
                    p = 0.95  # within the day: short-term memory
                else:
                    p = truth.retrievability(true_s, t)
                if true_s.state == State.NEW:
                    rating = rng.choices(list(Rating), (30, 15, 45, 10))[0]
                elif rng.random() < p:
                    rating = rng.choices((Rating.HARD, Rating.GOOD, Rating.EASY), (15, 70, 15))[0]
                else:
                    rating = Rating.AGAIN
                new_s, rec = sched.review(s, rating, t, 5_000)
                true_s, _ = truth.review(true_s, rating, t, 5_000)
                store.insert_review(conn, rowid, rec)
                n += 1
                s = new_s
                late = timedelta(days=rng.expovariate(1 / 2)) if rng.random() < 0.3 else timedelta(0)
                t = s.due + late + timedelta(minutes=rng.randint(0, 120))
            store.write_schedule(conn, rowid, s)
    return n
