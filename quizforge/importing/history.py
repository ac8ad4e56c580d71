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

Every value is checked first, before the deck file is written (`plan_history`): a review
whose date, rating or type is out of range is left out; a memory state, interval or time
taken out of py-fsrs's range is clamped into it; a memory state that is not a finite number,
or whose due date is out of range, is replaced by a replay. Each is counted in the summary.

A card suspended in Anki is suspended here. Importing again adds only reviews the store
does not have (same card and time), and leaves
the schedule of a card reviewed in quizforge since Anki's last answer alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from quizforge.decks.model import Deck
from quizforge.importing.model import AnkiCardState, AnkiReview, ImportedCard
from quizforge.scheduling import bounds
from quizforge.scheduling.scheduler import CardSchedule, Rating, ReviewRecord, Scheduler, State

_STATE_BEFORE = {0: State.LEARNING, 1: State.REVIEW, 2: State.RELEARNING, 3: State.REVIEW}
_MANUAL_KINDS = (4, 5)  # manual and rescheduled rows: not answers
_DAY = 86400
_RATINGS = {int(r): r for r in Rating}  # a dict look-up, not an enum call per row


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
    dropped: int = 0  # reviews left out: a date, rating or type out of range
    clamped: int = 0  # cards and reviews with a value brought into range
    discarded: int = 0  # Anki memory states not usable (not finite, due out of range)

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class CardPlan:
    """What importing one card's history will write, worked out before anything is."""

    card_id: str
    answers: list[tuple[ReviewRecord, bool]] = field(default_factory=list)
    schedule: CardSchedule | None = None  # None: no graded answer and no usable Anki state
    from_anki: bool = False
    last: datetime | None = None  # the last graded answer
    suspend_new: bool = False  # never reviewed, suspended in Anki


@dataclass
class HistoryPlan:
    cards: list[CardPlan]
    counts: HistoryCounts  # what checking the values found (dropped, clamped, ...)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def records(reviews: Sequence[AnkiReview], now: datetime,
            counts: HistoryCounts | None = None) -> tuple[list[tuple[ReviewRecord, bool]], int]:
    """(record, cram) per Anki answer, and how many manual rows were left out. Rows with a
    value out of range are left out (`counts.dropped`); intervals and times taken beyond
    their range are clamped (`counts.clamped`)."""
    counts = counts if counts is not None else HistoryCounts()
    lo, hi = bounds.date_window(now)
    lo_ms, hi_ms = lo.timestamp() * 1000, hi.timestamp() * 1000  # once, not once per row
    out: list[tuple[ReviewRecord, bool]] = []
    append = out.append
    manual = 0
    previous: datetime | None = None
    answered = False  # a non-cram answer kept already (a later learn row is not the first)
    for r in reviews:
        at_ms, ease, ivl, time_ms, kind = r.at_ms, r.ease, r.ivl, r.time_ms, r.kind
        # Plain ints (what SQLite gives) pass at once; anything else gets the full check.
        if not (type(at_ms) is int and type(ease) is int and type(ivl) is int
                and type(time_ms) is int and type(kind) is int) \
                and not all(_int(v) for v in (at_ms, ease, ivl, time_ms, kind)):
            counts.dropped += 1
            continue
        if ease == 0 or kind in _MANUAL_KINDS:
            manual += 1
            continue
        before = _STATE_BEFORE.get(kind)
        if not 1 <= ease <= 4 or before is None or not lo_ms <= at_ms <= hi_ms:
            counts.dropped += 1
            continue
        at = _at(at_ms)
        if kind == 0 and not answered:
            before = State.NEW
        interval = ivl if ivl > 0 else -ivl / _DAY
        taken = min(max(0, time_ms), bounds.MAX_TIME_MS)
        if interval > bounds.MAX_INTERVAL_DAYS or taken != time_ms and time_ms > 0:
            counts.clamped += 1
            interval = min(interval, bounds.MAX_INTERVAL_DAYS)
        cram = kind == 3
        append((ReviewRecord(
            reviewed_at=at, rating=_RATINGS[ease], duration_ms=taken,
            state_before=before, interval_days=float(interval),
            elapsed_days=(at - previous).total_seconds() / _DAY if previous else None,
            lapse=before == State.REVIEW and ease == 1, became_leech=False), cram))
        answered = answered or not cram
        previous = at
    return out, manual


def anki_schedule(state: AnkiCardState, last: datetime | None, reps: int, now: datetime,
                  counts: HistoryCounts | None = None) -> CardSchedule | None:
    """Anki's memory state and due date as a quizforge schedule; None when it cannot be used
    (a value not a finite number, a date out of range: `counts.discarded`). Stability and
    difficulty outside py-fsrs's range are clamped into it (`counts.clamped`)."""
    counts = counts if counts is not None else HistoryCounts()
    lo, hi = bounds.date_window(now)
    s, d = state.stability, state.difficulty
    if not (bounds.finite(s) and bounds.finite(d) and _int(state.due) and _int(state.crt)
            and state.type in (1, 2, 3)):
        counts.discarded += 1
        return None
    try:
        crt = datetime.fromtimestamp(state.crt, tz=UTC)
        if state.type == 2 or state.due < 1_000_000_000:
            due = crt + timedelta(days=state.due)
        else:
            due = datetime.fromtimestamp(state.due, tz=UTC)
    except (OverflowError, ValueError, OSError):
        due = None
    if due is None or not lo <= due <= hi:
        counts.discarded += 1
        return None
    ivl = state.ivl if _int(state.ivl) else 0
    lapses = state.lapses if _int(state.lapses) else 0
    fixed = (bounds.clamp(s, bounds.STABILITY), bounds.clamp(d, bounds.DIFFICULTY),
             min(max(ivl, 0), bounds.MAX_INTERVAL_DAYS), min(max(lapses, 0), bounds.MAX_COUNT))
    if fixed != (s, d, max(ivl, 0), lapses):
        counts.clamped += 1
    s, d, ivl, lapses = fixed
    if last is None:
        last = due - timedelta(days=ivl)
    return CardSchedule(
        state=State(state.type), step=0 if state.type in (1, 3) else None,
        stability=float(s), difficulty=float(d), due=due, last_review=last,
        reps=reps, lapses=lapses, suspended=state.queue == -1)


def replay(scheduler: Scheduler, card_key: str, answers: list[tuple[ReviewRecord, bool]],
           suspended: bool, day_start_s: int = 4 * 3600) -> CardSchedule:
    """The card's answers through quizforge's scheduler, counting time between them in study
    days as Anki does (a day begins `day_start_s` seconds after midnight UTC): 23:00 and
    05:00 the next morning are one day apart, 05:00 and 23:00 the same day none. Each answer
    is given to the scheduler at the start of its study day (plus one second per answer
    before it, to keep their order), so that py-fsrs's whole 24-hour periods are study days;
    the due date and last review are then moved back to the real times."""
    s = CardSchedule()
    fake_last = real_last = None
    k = 0
    for record, cram in answers:
        if cram:
            continue
        real = record.reviewed_at
        day = (int(real.timestamp()) - day_start_s) // _DAY
        fake = datetime.fromtimestamp(day * _DAY + day_start_s + k, tz=UTC)
        k += 1
        seed = zlib.crc32(f"{card_key}/{s.reps}".encode())
        s, _ = scheduler.review(s, record.rating, fake, record.duration_ms, fuzz_seed=seed)
        fake_last, real_last = fake, real
    due = s.due if s.due is None or fake_last is None else real_last + (s.due - fake_last)
    return CardSchedule(**{**s.__dict__, "due": due, "last_review": real_last or s.last_review,
                           "suspended": s.suspended or suspended})


def _since_reset(reviews: Sequence[AnkiReview]) -> Sequence[AnkiReview]:
    """The reviews after the card's last reset to new: Anki's Forget
    (`schedule_cards_as_new`) writes a Manual row with no ease and a zero interval, and the
    card starts over from it (Anki's own FSRS ignores what came before too)."""
    for i in range(len(reviews) - 1, -1, -1):
        r = reviews[i]
        if r.kind in _MANUAL_KINDS and r.ease == 0 and r.ivl == 0:
            return reviews[i + 1:]
    return reviews


def _row_wins(schedule: CardSchedule, state: AnkiCardState, now: datetime,
              counts: HistoryCounts) -> CardSchedule:
    """The replayed schedule where the card row disagrees with it, as the row says: a card
    new in Anki is new; a review card is a review card, due when Anki has it due; a card
    (re)learning in Anki is (re)learning, due when Anki has it due."""
    if state.type == 0:
        return CardSchedule(suspended=state.queue == -1)
    if state.type not in (1, 2, 3) or not (_int(state.due) and _int(state.crt)):
        return schedule
    if state.type != 2 and schedule.state == State(state.type):
        return schedule  # learning in both: the replay's step and due stand
    lo, hi = bounds.date_window(now)
    try:
        if state.type == 2 or state.due < 1_000_000_000:  # a day number
            due = datetime.fromtimestamp(state.crt, tz=UTC) + timedelta(days=state.due)
        else:  # (re)learning within a day: epoch seconds
            due = datetime.fromtimestamp(state.due, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return schedule
    if not lo <= due <= hi:
        counts.discarded += 1
        return schedule
    return CardSchedule(**{**schedule.__dict__, "state": State(state.type),
                           "step": None if state.type == 2 else 0, "due": due})


def plan_history(deck_id: str, cards: Sequence[ImportedCard], scheduler: Scheduler,
                 now: datetime) -> HistoryPlan:
    """Check every Anki value of `cards` and work out what to write: pure, and done before
    the deck file is written, so a package that cannot be read writes nothing."""
    counts = HistoryCounts()
    plans = []
    for card in cards:
        anki = card.anki
        if anki is None:
            continue
        if not anki.reviews and anki.stability is None:
            if anki.queue == -1:  # suspended in Anki before its first review
                plans.append(CardPlan(card.id, suspend_new=True))
            continue
        answers, manual = records(anki.reviews, now, counts)
        counts.manual += manual
        graded = [r for r, cram in answers if not cram]
        plan = CardPlan(card.id, answers, last=graded[-1].reviewed_at if graded else None)
        if anki.stability is not None and anki.type != 0:
            plan.schedule = anki_schedule(anki, plan.last, len(graded), now, counts)
            plan.from_anki = plan.schedule is not None
        if plan.schedule is None and graded:
            since, _ = records(_since_reset(anki.reviews), now)
            if any(not cram for _, cram in since):
                plan.schedule = replay(scheduler, f"{deck_id}/{card.id}", since,
                                       anki.queue == -1, anki.day_start_s)
            else:  # forgotten in Anki since its last answer
                plan.schedule = CardSchedule(suspended=anki.queue == -1)
            plan.schedule = _row_wins(plan.schedule, anki, now, counts)
        plans.append(plan)
    return HistoryPlan(plans, counts)


def apply_history(db, deck: Deck, plan: HistoryPlan, now: datetime) -> HistoryCounts:
    """Sync the deck into the store, then add the planned Anki reviews and states, in one
    transaction."""
    from quizforge.store.cards import insert_reviews, sync_decks, write_schedules
    from quizforge.store.db import from_ms, to_ms

    counts = HistoryCounts(**plan.counts.to_dict())
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
        new_reviews: list[tuple[int, ReviewRecord, bool]] = []  # written in one executemany
        schedules: list[tuple[int, CardSchedule]] = []
        for card in plan.cards:
            if card.card_id not in rows:
                continue
            rowid, stored = rows[card.card_id]
            if card.suspend_new:
                conn.execute("UPDATE cards SET suspended = 1 WHERE id = ?", (rowid,))
                counts.suspended += 1
                continue
            seen = have.get(rowid)
            if seen:  # imported before: only the answers the store does not have
                answers = [(r, c) for r, c in card.answers if to_ms(r.reviewed_at) not in seen]
                counts.already += len(card.answers) - len(answers)
            else:  # the usual case: every answer is new (no time conversion per row)
                answers = card.answers
            new_reviews.extend([(rowid, record, cram) for record, cram in answers])
            counts.reviews += len(answers)
            counts.cram += sum(cram for _, cram in answers)
            if stored is not None and (card.last is None or stored > card.last):
                counts.kept += 1
                continue
            if card.schedule is None:
                continue
            counts.from_anki += card.from_anki
            counts.replayed += not card.from_anki
            schedules.append((rowid, card.schedule))
            counts.suspended += card.schedule.suspended
        insert_reviews(conn, new_reviews)
        write_schedules(conn, schedules)
    return counts
