"""An Anki package's review log into the store, so FSRS carries on where Anki stopped.

Each Anki revlog row becomes a review of the imported card: its time (the revlog id), the
rating (ease 1-4), the time taken, the state before (learn rows: new for a card's first
answer, learning after; review; relearning) and the interval Anki gave. Filtered-deck rows
(type 3) are kept as cram, which quizforge does not schedule from; manual reschedules
(ease 0) are not answers and are left out.

A card's FSRS state: Anki's own memory state when it has one (cards.data `s`/`d`, written
when FSRS is on in Anki; they come from the learner's own fitted parameters), with Anki's
due date. Without it (Anki ran SM-2, whose ease and interval are not FSRS quantities) the
card's answers are replayed, in order and at their times, through quizforge's scheduler:
the state is then what quizforge would hold had the reviews been done here.

A card suspended in Anki is suspended here. Importing again adds only reviews the store
does not have (same card and time), and leaves
the schedule of a card reviewed in quizforge since Anki's last answer alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from quizforge.decks.model import Deck
from quizforge.importing.model import AnkiCardState, AnkiReview, ImportedCard
from quizforge.scheduling.scheduler import CardSchedule, Rating, ReviewRecord, Scheduler, State

_STATE_BEFORE = {0: State.LEARNING, 1: State.REVIEW, 2: State.RELEARNING, 3: State.REVIEW}
_DAY = 86400


@dataclass
class HistoryCounts:
    reviews: int = 0  # rows added to the review log
    already: int = 0  # rows the store had already (an earlier import)
    cram: int = 0  # of the added: filtered-deck answers, kept as cram
    manual: int = 0  # manual reschedules left out
    from_anki: int = 0  # cards whose FSRS state is Anki's memory state
    replayed: int = 0  # cards whose state comes from replaying their reviews
    kept: int = 0  # cards reviewed in quizforge since: their schedule left as it is
    suspended: int = 0  # cards suspended in Anki, suspended here too

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def records(reviews: Sequence[AnkiReview]) -> tuple[list[tuple[ReviewRecord, bool]], int]:
    """(record, cram) per Anki answer, and how many manual rows were left out."""
    out: list[tuple[ReviewRecord, bool]] = []
    manual = 0
    previous: datetime | None = None
    for r in reviews:
        if not 1 <= r.ease <= 4 or r.kind not in _STATE_BEFORE:
            manual += 1
            continue
        at = _at(r.at_ms)
        before = _STATE_BEFORE[r.kind]
        if r.kind == 0 and not any(not c for _, c in out):
            before = State.NEW
        interval = r.ivl if r.ivl > 0 else -r.ivl / _DAY
        out.append((ReviewRecord(
            reviewed_at=at, rating=Rating(r.ease), duration_ms=max(0, r.time_ms),
            state_before=before, interval_days=float(interval),
            elapsed_days=(at - previous).total_seconds() / _DAY if previous else None,
            lapse=before == State.REVIEW and r.ease == 1, became_leech=False), r.kind == 3))
        previous = at
    return out, manual


def anki_schedule(state: AnkiCardState, last: datetime | None, reps: int) -> CardSchedule:
    """Anki's memory state and due date as a quizforge schedule."""
    crt = datetime.fromtimestamp(state.crt, tz=UTC)
    if state.type == 2 or state.due < 1_000_000_000:
        due = crt + timedelta(days=state.due)
    else:
        due = datetime.fromtimestamp(state.due, tz=UTC)
    if last is None:
        last = due - timedelta(days=max(state.ivl, 0))
    return CardSchedule(
        state=State(state.type), step=0 if state.type in (1, 3) else None,
        stability=state.stability, difficulty=state.difficulty, due=due, last_review=last,
        reps=reps, lapses=state.lapses, suspended=state.queue == -1)


def replay(scheduler: Scheduler, card_key: str, answers: list[tuple[ReviewRecord, bool]],
           suspended: bool) -> CardSchedule:
    s = CardSchedule()
    for record, cram in answers:
        if cram:
            continue
        seed = zlib.crc32(f"{card_key}/{s.reps}".encode())
        s, _ = scheduler.review(s, record.rating, record.reviewed_at, record.duration_ms,
                                fuzz_seed=seed)
    return CardSchedule(**{**s.__dict__, "suspended": s.suspended or suspended})


def apply_history(db, deck: Deck, cards: Sequence[ImportedCard], scheduler: Scheduler,
                  now: datetime) -> HistoryCounts:
    """Sync the deck into the store, then add its Anki reviews and states, in one
    transaction."""
    from quizforge.store.cards import insert_review, sync_decks, write_schedule
    from quizforge.store.db import from_ms, to_ms

    counts = HistoryCounts()
    sync_decks(db, [deck], now)
    with db.atomic() as conn:
        # Two queries for the whole deck, not two per card.
        rows = {card_id: (rowid, from_ms(last)) for rowid, card_id, last in conn.execute(
            "SELECT id, card_id, last_review FROM cards WHERE deck_id = ?", (deck.id,))}
        have: dict[int, set[int]] = {}
        for rowid, at in conn.execute(
                "SELECT v.card, v.reviewed_at FROM revlog v JOIN cards c ON c.id = v.card"
                " WHERE c.deck_id = ?", (deck.id,)):
            have.setdefault(rowid, set()).add(at)
        for card in cards:
            if card.anki is None or card.id not in rows:
                continue
            rowid, stored = rows[card.id]
            if not card.anki.reviews and card.anki.stability is None:
                if card.anki.queue == -1:  # suspended in Anki before its first review
                    conn.execute("UPDATE cards SET suspended = 1 WHERE id = ?", (rowid,))
                    counts.suspended += 1
                continue
            answers, manual = records(card.anki.reviews)
            counts.manual += manual
            seen = have.get(rowid, set())
            for record, cram in answers:
                if to_ms(record.reviewed_at) in seen:
                    counts.already += 1
                    continue
                insert_review(conn, rowid, record, cram=cram)
                counts.reviews += 1
                counts.cram += cram
            graded = [r for r, cram in answers if not cram]
            last = graded[-1].reviewed_at if graded else None
            if stored is not None and (last is None or stored > last):
                counts.kept += 1
                continue
            if card.anki.stability is not None and card.anki.type != 0:
                schedule = anki_schedule(card.anki, last, len(graded))
                counts.from_anki += 1
            elif graded:
                schedule = replay(scheduler, f"{deck.id}/{card.id}", answers,
                                  card.anki.queue == -1)
                counts.replayed += 1
            else:
                continue
            write_schedule(conn, rowid, schedule)
            counts.suspended += schedule.suspended
    return counts
