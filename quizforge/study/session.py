"""A study session: builds the queue from the store, records answers, undo and suspend.

Every answer is committed (schedule + review-log row, one transaction) before the next
card is taken, so nothing the user saw confirmed can be lost.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from quizforge.decks.model import Card, Deck
from quizforge.errors import DeckError
from quizforge.scheduling.days import day_bounds
from quizforge.scheduling.interview import (
    InterviewDateError,
    days_left,
    held_over_since,
    in_final_days,
    moment_of,
)
from quizforge.scheduling.scheduler import CardSchedule, Rating, ReviewRecord, Scheduler, State
from quizforge.store import cards as store
from quizforge.store.db import Database
from quizforge.study.idle import Idle
from quizforge.study.queue import Entry, Queue


@dataclass(frozen=True)
class StudyOptions:
    decks: tuple[str, ...] = ()  # deck ids; empty = all loaded decks
    tags: tuple[str, ...] = ()
    new_cap: int | None = None  # today's new-card cap; None = config.new_per_day
    limit: int | None = None  # cards in this session
    cram: bool = False
    shuffle: bool = False
    seed: int | None = None
    ahead: int | None = None  # also pull forward up to N cards weak on the interview date


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    before: CardSchedule
    after: CardSchedule
    record: ReviewRecord
    revlog_id: int


@dataclass
class _Undo:
    kind: Literal["answer", "suspend"]
    entry: Entry
    before: CardSchedule
    revlog_id: int | None = None
    correct: bool | None = None
    seconds: float = 0.0
    attempt_id: int | None = None
    after: CardSchedule | None = None  # the schedule the answer wrote


@dataclass
class Tally:
    answered: int = 0
    correct: int = 0
    seconds: float = 0.0
    leeches: list[tuple[str, str]] = field(default_factory=list)


class Session:
    def __init__(
        self,
        db: Database,
        decks: list[Deck],
        scheduler: Scheduler,
        options: StudyOptions,
        now: datetime,
    ) -> None:
        self.db = db
        self.scheduler = scheduler
        self.options = options
        self.tally = Tally()
        self._undo: list[_Undo] = []
        self._decks = {d.id: d for d in decks}
        self._chosen = self._select(decks)
        self.deck_ids = sorted(self._chosen)
        store.sync_decks(db, decks, now)
        rng = random.Random(options.seed) if options.shuffle else None
        self.day_start, self.day_end = day_bounds(now, scheduler.config.day_starts_at, scheduler.tz)
        self.interview = scheduler.config.interview
        # In the last days before the interview, reviews go weakest-on-the-date first.
        self.final_days = not options.cram and in_final_days(
            self.interview, now, scheduler.config.day_starts_at, scheduler.tz
        )
        if options.ahead is not None:
            self._check_ahead(now)
        self._moment = (
            max(now, moment_of(self.interview, scheduler.config.day_starts_at, scheduler.tz))
            if self.interview is not None
            else None
        )
        self._limits: tuple | None = None  # (new cap, done today, reviews left): _build
        if options.cram:
            self.queue = Queue.build_cram([self._entry(r) for r in self._rows_all()], rng)
        else:
            self.queue = self._build(now, rng)

    # -- building -------------------------------------------------------------------------
    def _select(self, decks: list[Deck]) -> dict[str, dict[str, int]]:
        """The chosen cards: deck id -> card id -> the card's place in its deck, decks
        without a chosen card left out. From each deck's index (ids and tags): cards are
        built only when shown (a deck from the cache builds them on first use)."""
        by_id = {d.id: d for d in decks}
        wanted = self.options.decks or tuple(by_id)
        unknown = [d for d in wanted if d not in by_id]
        if unknown:
            known = ", ".join(sorted(by_id)) or "none"
            raise DeckError(f"no deck with id {unknown[0]!r} (decks found: {known})")
        out: dict[str, dict[str, int]] = {}
        want = set(self.options.tags)
        for deck_id in dict.fromkeys(wanted):
            deck = by_id[deck_id]
            index = deck.index()
            if want:
                # A card's tags are its own and its deck's (store.card_tags).
                hits = {i for i, own in enumerate(index.tagsets) if want & {*own, *deck.tags}}
                chosen = {cid: n for n, (cid, t) in enumerate(zip(index.ids, index.tag_ids))
                          if t in hits}
            else:
                chosen = dict(zip(index.ids, range(len(index.ids))))
            if chosen:
                out[deck_id] = chosen
        if not out:
            what = (
                f"tag {', '.join(self.options.tags)}" if self.options.tags else "the chosen decks"
            )
            raise DeckError(f"no cards match {what}")
        return out

    def _check_ahead(self, now: datetime) -> None:
        cfg = self.scheduler.config
        if self.options.cram:
            raise InterviewDateError(
                "--ahead and --cram cannot be used together: cram shows every card"
            )
        if self.interview is None:
            raise InterviewDateError(
                "--ahead needs an interview date: pass --until YYYY-MM-DD or run"
                " `quizforge config set interview_date YYYY-MM-DD`"
            )
        if days_left(self.interview, now, cfg.day_starts_at, self.scheduler.tz) < 0:
            raise InterviewDateError(
                f"--ahead: the interview date {self.interview.isoformat()} has passed"
            )

    def aim(self, now: datetime) -> str | None:
        """One line for the study screen while the session is aimed at an interview date."""
        if self.interview is None or self.options.cram:
            return None
        cfg = self.scheduler.config
        n = days_left(self.interview, now, cfg.day_starts_at, self.scheduler.tz)
        if n < 0:
            return None
        when = {0: "today", 1: "tomorrow"}.get(n, f"in {n} days")
        text = f"Interview {when} ({self.interview:%a %d %b}): reviews aimed at it"
        return text + (", weakest first" if self.final_days else "")

    def recall_on_date(self, entry: Entry) -> float:
        """Predicted recall at the start of the interview's study day (on the day itself:
        now)."""
        assert self._moment is not None
        return self.scheduler.retrievability(entry.schedule, self._moment)

    def _ahead(self, now: datetime, n: int) -> list[Entry]:
        """Up to `n` review cards not yet due whose recall on the interview date would be
        below desired retention, lowest first. Answering one is an early review: py-fsrs
        takes the shorter elapsed time into account (smaller stability gain), and the log
        records the real elapsed days."""
        from quizforge.reports.recall import RecallCurve

        assert self.interview is not None
        cfg, tz = self.scheduler.config, self.scheduler.tz
        curve = RecallCurve.of(self.scheduler)
        k = (cfg.desired_retention ** (1 / curve.decay) - 1) / curve.factor
        moment = max(now, moment_of(self.interview, cfg.day_starts_at, tz))
        rows = store.ahead_cards(self.db, self.deck_ids, self.options.tags, now, moment, k, -1)
        return [self._entry(r) for r in rows if self._is_chosen(r)][:n]

    @staticmethod
    def _entry(row: store.CardRow) -> Entry:
        return Entry(row.rowid, row.deck_id, row.card_id, row.schedule)

    def _is_chosen(self, row: store.CardRow) -> bool:
        return row.card_id in self._chosen.get(row.deck_id, ())

    def card(self, deck_id: str, card_id: str) -> Card:
        """A chosen card (KeyError for any other)."""
        return self._decks[deck_id].cards[self._chosen[deck_id][card_id]]

    def _rows_all(self) -> list[store.CardRow]:
        rows = store.all_cards(self.db, self.deck_ids, self.options.tags)
        return [r for r in rows if self._is_chosen(r)]

    def _build(self, now: datetime, rng: random.Random | None) -> Queue:
        cfg = self.scheduler.config
        done = store.studied_today(self.db, self.day_start)
        new_cap = cfg.new_per_day if self.options.new_cap is None else self.options.new_cap
        new_left = max(0, new_cap - done["new"])
        review_left = max(0, cfg.reviews_per_day - done["reviews"])
        tags = self.options.tags
        steps = (State.LEARNING, State.RELEARNING)
        learning = store.due_cards(self.db, self.deck_ids, tags, self.day_end, steps)
        # In the final days every due review is read, so the weakest on the date come first
        # whatever their due date; the daily cap is applied after that ordering.
        fetch = -1 if self.final_days else review_left
        reviews = store.due_cards(self.db, self.deck_ids, tags, now, (State.REVIEW,), fetch)
        learning = [self._entry(r) for r in learning if self._is_chosen(r)]
        since = held_over_since(self.interview, now, cfg.day_starts_at, self.scheduler.tz)
        if since is not None and not self.options.cram:
            # the last day before the interview: no card may go into it unreviewed
            reviews += store.held_over_cards(self.db, self.deck_ids, tags, now, since)
        reviews = [self._entry(r) for r in reviews if self._is_chosen(r)]
        key = None
        if self.final_days:
            reviews.sort(key=lambda e: (self.recall_on_date(e), e.rowid))
            reviews = reviews[:review_left]
            key = self.recall_on_date
        if self.options.ahead:
            queued = {e.rowid for e in reviews}
            reviews += [e for e in self._ahead(now, self.options.ahead + len(queued))
                        if e.rowid not in queued][: self.options.ahead]
        self._limits = (new_cap, done, review_left)
        new = self._new_cards(new_left, now)
        if self.options.limit is not None:
            n = self.options.limit
            learning = learning[:n]
            reviews = reviews[: max(0, n - len(learning))]
            new = new[: max(0, n - len(learning) - len(reviews))]
        return Queue.build(learning, reviews, new, rng, key)

    def _new_cards(self, n: int, now: datetime) -> list[Entry]:
        """Up to `n` new cards in the `new_order` setting's order (study/new_order.py)."""
        from quizforge.study.new_order import NewCard, deck_weight, order_new

        order, tags = self.scheduler.config.new_order, self.options.tags
        if order == "deck" or n == 0:  # the store's order is the decks' own
            rows = store.new_cards(self.db, self.deck_ids, tags, n)
            return [self._entry(r) for r in rows if self._is_chosen(r)]
        rows = [r for r in store.new_cards(self.db, self.deck_ids, tags, -1) if self._is_chosen(r)]
        cards = [NewCard(self._entry(r), r.deck_id, r.kind, self._chosen[r.deck_id][r.card_id])
                 for r in rows]
        weights = {d: deck_weight(d, self._decks[d].tags) for d in self.deck_ids}
        started = store.started_counts(self.db, self.deck_ids, tags) if order == "mixed" else None
        # random without --seed: the same order all day (a second session goes on with it)
        seed = self.options.seed if self.options.seed is not None else self.day_start.toordinal()
        return [c.item for c in order_new(cards, order, n, weights=weights, started=started,
                                          seed=seed)]

    def idle(self, now: datetime) -> Idle | None:
        """Why this session has nothing to show (study/idle.py), for the message."""
        if self._limits is None:  # cram: no limits apply
            return None
        new_cap, done, review_left = self._limits
        tags = self.options.tags
        new_left = sum(1 for r in store.new_cards(self.db, self.deck_ids, tags, -1)
                       if self._is_chosen(r))
        waiting = 0
        if review_left == 0:
            due = store.due_cards(self.db, self.deck_ids, tags, now, (State.REVIEW,))
            waiting = sum(1 for r in due if self._is_chosen(r))
        cfg = self.scheduler.config
        return Idle(
            new_cap=new_cap,
            cap_from_option=self.options.new_cap is not None,
            new_seen_today=done["new"],
            new_left=new_left,
            new_per_day=cfg.new_per_day,
            reviews_cap=cfg.reviews_per_day,
            reviews_done=done["reviews"],
            reviews_waiting=waiting,
            decks=self.options.decks,
            tags=tags,
        )

    # -- running --------------------------------------------------------------------------
    def next(self, now: datetime) -> tuple[Entry, Card] | None:
        entry = self.queue.next(now)
        if entry is None:
            return None
        return entry, self.card(entry.deck_id, entry.card_id)

    def preview(self, entry: Entry, now: datetime) -> dict[Rating, timedelta]:
        return self.scheduler.preview(entry.schedule, now)

    def answer(
        self,
        entry: Entry,
        rating: Rating,
        now: datetime,
        duration_ms: int,
        correct: bool | None = None,
        attempt: store.Attempt | None = None,
    ) -> Outcome:
        """Grade a card and commit it (with the drill attempt behind a generated card, if
        any). The schedule is recomputed from the row as it is on disk, so a second session
        that answered the same card meanwhile is not overwritten."""
        with self.db.atomic() as conn:
            before = store.get_card(self.db, entry.rowid).schedule
            fuzz_seed = entry.rowid * 100_003 + before.reps
            counts = None if self.options.cram else self._due_counts  # cram keeps the schedule
            after, record = self.scheduler.review(before, rating, now, duration_ms, fuzz_seed, counts)
            if self.options.cram:
                after = before  # practice only: the schedule is left alone
                record = replace(record, interval_days=0.0, lapse=False, became_leech=False)
            else:
                store.write_schedule(conn, entry.rowid, after)
                if after.suspended != before.suspended:  # a leech: suspended as it lapsed
                    store.stamp_suspension(conn, entry.rowid, after.suspended, now)
            revlog_id = store.insert_review(conn, entry.rowid, record, cram=self.options.cram)
            attempt_id = store.insert_attempt(conn, attempt, entry.rowid) if attempt else None
        ok = rating != Rating.AGAIN if correct is None else correct
        self._undo.append(
            _Undo(
                "answer",
                Entry(**vars(entry)),
                before,
                revlog_id,
                ok,
                duration_ms / 1000,
                attempt_id,
                after,
            )
        )
        self.tally.answered += 1
        self.tally.correct += int(ok)
        self.tally.seconds += duration_ms / 1000
        if record.became_leech:
            self.tally.leeches.append(entry.key)
        if self.options.cram:
            if not ok:
                self.queue.requeue_cram(entry)
        else:
            self.queue.answered(entry, after, self.day_end)
        return Outcome(entry, before, after, record, revlog_id)

    def _due_counts(self, first, last):
        """Reviews due per study day, for load balancing (read inside the answer's transaction)."""
        cfg = self.scheduler.config
        return store.due_counts(self.db, first, last, cfg.day_starts_at, self.scheduler.tz)

    def suspend(self, entry: Entry, now: datetime | None = None) -> None:
        before = store.get_card(self.db, entry.rowid).schedule
        store.set_suspended(self.db, entry.rowid, True, now)
        self.queue.discard(entry)
        self._undo.append(_Undo("suspend", entry, before))

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def undo(self) -> Entry | None:
        """Take back the last answer or suspension: schedule and log restored, card shown again."""
        if not self._undo:
            return None
        u = self._undo.pop()
        with self.db.atomic() as conn:
            before = u.before
            if u.revlog_id is not None:
                store.delete_review(conn, u.revlog_id)
                now_row = store.get_card(self.db, u.entry.rowid).schedule
                if u.after is not None and not store.same_row(now_row, u.after):
                    # the card changed since the answer (a sync merged other answers into
                    # it): "before" is stale; the card is what its remaining answers make it
                    from quizforge.sync.merge import rebuild

                    before = rebuild(conn, self.scheduler, u.entry.rowid)
            store.write_schedule(conn, u.entry.rowid, before)
            if u.attempt_id is not None:
                conn.execute("DELETE FROM drill_attempts WHERE id = ?", (u.attempt_id,))
        if u.kind == "answer":
            self.tally.answered -= 1
            self.tally.correct -= int(bool(u.correct))
            self.tally.seconds -= u.seconds
            if u.entry.key in self.tally.leeches:
                self.tally.leeches.remove(u.entry.key)
        u.entry.schedule = before
        self.queue.push_front(u.entry)
        return u.entry

    def next_due(self) -> datetime | None:
        """When the next card in these decks is due, for the end-of-session message."""
        return store.next_due(self.db, self.deck_ids, self.options.tags)
