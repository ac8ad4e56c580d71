"""How ready each deck and tag will be on the interview date, if nothing is reviewed before it.

Definitions (also in the report's JSON under interview.definition):
- recall on the date: the FSRS probability of recall at the start of the interview's study
  day, averaged over the cards answered at least once (as the mastery table's recall now);
- below: those of them whose recall then will be under desired retention;
- new: cards never answered (they are not in the recall average);
- ready: the expected share of all the cards recalled on the date, i.e. the recall sum over
  every card, a card never answered counting 0 (what "ready for the interview" means).
Cards in deck files, suspended ones included (they are part of what may be asked); drill
skills and cards removed from their deck are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime

from quizforge.reports import mastery
from quizforge.reports.recall import RecallCurve, ensure_pow
from quizforge.reports.scope import Calendar, Scope
from quizforge.store.db import Database, from_ms

DEFINITION = (
    "recall: mean FSRS probability of recall at the start of the interview's study day over "
    "the cards answered at least once, if none is reviewed before then; below: how many of "
    "them will be under desired retention then; new: cards never answered; ready: expected "
    "share of all the cards recalled then (sum of recall over every card, never answered = 0)"
)


@dataclass
class Outlook:
    """One deck, tag, or everything in scope, on the date."""

    name: str
    reviewed: int = 0
    recall_sum: float = 0.0
    below: int = 0
    new: int = 0

    @property
    def recall(self) -> float | None:
        return self.recall_sum / self.reviewed if self.reviewed else None

    @property
    def ready(self) -> float | None:
        """Expected share of all the cards recalled on the date (never answered: 0): the
        report's "ready for the interview"."""
        cards = self.reviewed + self.new
        return self.recall_sum / cards if cards else None

    def add(self, other: Outlook) -> None:
        for f in fields(self):
            if f.name != "name":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class InterviewOutlook:
    date: date
    days_left: int  # study days from today; 0 on the day, negative once it has passed
    moment: datetime  # when recall is predicted (UTC)
    total: Outlook
    decks: list[Outlook] = field(default_factory=list)
    tags: list[Outlook] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.days_left < 0


def interview_outlook(
    db: Database,
    now: datetime,
    interview: date,
    cal: Calendar,
    scope: Scope,
    curve: RecallCurve,
    desired_retention: float,
) -> InterviewOutlook:
    """Per deck and per tag, recall on the date; no figures once the date has passed."""
    moment = cal.start_ms(interview)
    left = (interview - cal.day_of(now)).days
    out = InterviewOutlook(interview, left, from_ms(moment), Outlook("all"))
    if left < 0:
        return out
    ensure_pow(db.conn)
    recall, rargs = curve.sql(moment)
    holds, hargs = curve.at_least_sql(moment, desired_retention)
    f, fargs = scope.cards_sql()
    reviewed = "state != 0 AND stability > 0"
    if mastery.USE_SUMMARIES:
        # the counts as kept (card_groups, as the mastery table reads them); recall on the
        # date card by card over the answered cards only
        on_date = {
            (r[0], r[1]): r[2:]
            for r in db.conn.execute(
                f"SELECT deck_id, tags, COALESCE(SUM({recall}), 0),"
                f" SUM(COALESCE(NOT ({holds}), 0)) FROM cards"
                f" WHERE in_deck = 1 AND kind != 'skill' AND {reviewed}{f}"
                " GROUP BY deck_id, tags",
                [*rargs, *hargs, *fargs],
            )
        }
        rows = [
            (deck_id, tags, n, *on_date.get((deck_id, tags), (0, 0)), new)
            for deck_id, tags, n, new in db.conn.execute(
                f"SELECT deck_id, tags, reviewed, new_cards FROM card_groups WHERE cards > 0{f}"
                " ORDER BY deck_id, tags",
                fargs,
            )
        ]
    else:
        rows = db.conn.execute(
            f"SELECT deck_id, tags, SUM(COALESCE({reviewed}, 0)),"
            f" COALESCE(SUM(CASE WHEN {reviewed} THEN {recall} END), 0),"
            f" SUM(COALESCE({reviewed} AND NOT ({holds}), 0)), SUM(state = 0)"
            f" FROM cards WHERE in_deck = 1 AND kind != 'skill'{f} GROUP BY deck_id, tags",
            [*rargs, *hargs, *fargs],
        ).fetchall()
    decks: dict[str, Outlook] = {}
    tags: dict[str, Outlook] = {}
    for deck_id, tag_text, *counts in rows:
        group = Outlook(deck_id, *counts)
        out.total.add(group)
        decks.setdefault(deck_id, Outlook(deck_id)).add(group)
        for tag in tag_text.split():
            if not scope.tags or tag in scope.tags:
                tags.setdefault(tag, Outlook(tag)).add(group)
    out.decks = sorted(decks.values(), key=lambda o: o.name)
    out.tags = sorted(tags.values(), key=lambda o: o.name)
    return out
