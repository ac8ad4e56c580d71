"""A mock interview round: which questions to ask (weighted toward weak spots and the decks
and tags named), how each answer is scored and committed, the scorecard, and the comparison
with earlier rounds.

Pure apart from the store functions at the end (`candidates`, `weakness`, `commit_answer`),
which read and write the store and are handed `now`; choosing takes a `seed`.

Scores (0..1) per answer:
- flashcard: the learner's own grade: Again 0, Hard 0.5, Good or Easy 1;
- mcq, formula: 1 right, 0 wrong (the first answer; there is no second);
- explain: the fraction of rubric points ticked (its rating: quizforge.study.rubric);
- generated drill: the drill's own score of the first answer (1/0; the share of steps right
  in the step-by-step form). No retry and no hint: a wrong first answer is rated Again.
"""

from __future__ import annotations

import random
import shlex
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from quizforge.errors import QuizforgeError
from quizforge.scheduling.scheduler import Rating

# The mix of an interview: mostly talking, then quick checks, a formula, a problem by hand.
MIX = {"explain": 0.35, "mcq": 0.2, "flashcard": 0.2, "generated": 0.15, "formula": 0.1}
# What each kind of question exercises, as a skill of the scorecard (one word each).
KIND_SKILL = {"explain": "explaining", "mcq": "multiple-choice", "flashcard": "recall",
              "formula": "formulas", "generated": "drills"}
FOCUS = 4.0  # a card in a deck or with a tag named by --deck/--tag is this much likelier
WEAK_TOPIC = 2.0  # a card with a tag among the weak spots' topics
WEAK_FAMILY = 2.0  # a drill card of a family the learner is weak in, or that is due
RECALL_WEIGHT = 2.0  # a card answered before: 1 + RECALL_WEIGHT * (1 - recall now)
LAPSE_WEIGHT = 0.25  # and 1 + LAPSE_WEIGHT per lapse, up to MAX_LAPSES of them
MAX_LAPSES = 4
SECONDS_PER_QUESTION = 150  # --questions by default: one per 2.5 minutes of the round
FLASHCARD_SCORE = {Rating.AGAIN: 0.0, Rating.HARD: 0.5, Rating.GOOD: 1.0, Rating.EASY: 1.0}
COMPARE_ROUNDS = 5  # the scorecard compares with the last five rounds


class MockError(QuizforgeError):
    """A round that cannot be made (no cards, a bad option)."""


SCORE_DEFINITION = (
    "score: mean over the round's answers of each answer's score (0..1): flashcard by "
    "self-grade (Again 0, Hard 0.5, Good/Easy 1); mcq and formula 1 right, 0 wrong, first "
    "answer only; explain the fraction of rubric points ticked; drill the first answer's "
    "score (share of steps right in the steps form). Topics are the cards' tags; skills the "
    "kind of question (explaining, multiple-choice, recall, formulas, drills) and a drill's "
    "own skills.")


def focus_of(decks, deck_ids: Sequence[str], tags: Sequence[str]) -> Focus:
    """The --deck and --tag a round leans toward; MockError naming any that no deck has."""
    known = {d.id for d in decks}
    unknown = [d for d in deck_ids if d not in known]
    if unknown:
        raise MockError(f"no deck with id {unknown[0]!r} (decks found: {', '.join(sorted(known))})")
    all_tags = {t for d in decks for t in d.tags} | {t for d in decks for s in d.index().tagsets
                                                    for t in s}
    missing = [t for t in tags if t not in all_tags]
    if missing:
        raise MockError(f"no card has tag {missing[0]!r}")
    return Focus(frozenset(deck_ids), frozenset(tags))


def default_questions(minutes: int) -> int:
    return max(1, round(minutes * 60 / SECONDS_PER_QUESTION))


@dataclass(frozen=True)
class Candidate:
    """A card that may be asked: what choosing needs to know about it."""

    rowid: int  # the store's card row
    deck_id: str
    card_id: str
    kind: str
    tags: tuple[str, ...]
    recall: float | None = None  # FSRS recall now; None: never answered
    lapses: int = 0
    family: str | None = None  # a generated card's drill family


@dataclass(frozen=True)
class Weakness:
    topics: frozenset[str] = frozenset()  # tags of the report's weak spots
    families: frozenset[str] = frozenset()  # drill families weak lately, or due


@dataclass(frozen=True)
class Focus:
    decks: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()

    def matches(self, c: Candidate) -> bool:
        return c.deck_id in self.decks or bool(self.tags & set(c.tags))


def weight(c: Candidate, weak: Weakness, focus: Focus) -> float:
    """How likely `c` is to be chosen, relative to a new card on no weak topic (1)."""
    w = 1.0
    if c.recall is not None:
        w *= 1 + RECALL_WEIGHT * (1 - c.recall)
    w *= 1 + LAPSE_WEIGHT * min(c.lapses, MAX_LAPSES)
    if weak.topics & set(c.tags):
        w *= WEAK_TOPIC
    if c.family is not None and c.family in weak.families:
        w *= WEAK_FAMILY
    if focus.matches(c):
        w *= FOCUS
    return w


def quotas(n: int, available: dict[str, int]) -> dict[str, int]:
    """How many questions of each kind, in MIX's proportions over the kinds there are cards
    of (largest remainder; a kind with too few cards passes its share on to the others)."""
    left = {k: available.get(k, 0) for k in MIX if available.get(k, 0) > 0}
    out = {k: 0 for k in left}
    n = min(n, sum(left.values()))
    while n > sum(out.values()):
        open_ = {k: MIX[k] for k in left if out[k] < left[k]}
        total = sum(open_.values())
        need = n - sum(out.values())
        exact = {k: need * share / total for k, share in open_.items()}
        add = {k: int(x) for k, x in exact.items()}
        rest = need - sum(add.values())
        for k in sorted(exact, key=lambda k: (-(exact[k] - add[k]), list(MIX).index(k)))[:rest]:
            add[k] += 1
        for k, a in add.items():
            out[k] = min(left[k], out[k] + a)
    return {k: v for k, v in out.items() if v}


def choose(candidates: Sequence[Candidate], n: int, weak: Weakness = Weakness(),
           focus: Focus = Focus(), seed: int = 0) -> list[Candidate]:
    """`n` questions (fewer if there are fewer cards): each kind's quota drawn without
    replacement, with probability proportional to weight (Efraimidis & Spirakis 2006: the
    k largest of u^(1/w), u uniform in (0, 1)), then shuffled. Same inputs and seed, same
    round."""
    if n < 1:
        raise MockError("a round needs at least one question")
    rng = random.Random(seed)
    by_kind: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        if c.kind in MIX:
            by_kind[c.kind].append(c)
    plan = quotas(n, {k: len(v) for k, v in by_kind.items()})
    if not plan:
        raise MockError("no cards to ask: check --deck and --tag (`quizforge decks` lists them)")
    picked: list[Candidate] = []
    for kind in MIX:
        if kind not in plan:
            continue
        keyed = [(rng.random() ** (1 / weight(c, weak, focus)), i, c)
                 for i, c in enumerate(by_kind[kind])]
        keyed.sort(key=lambda t: (-t[0], t[1]))
        picked += [c for _, _, c in keyed[: plan[kind]]]
    rng.shuffle(picked)
    return picked


# -- answers and the scorecard ------------------------------------------------------------
@dataclass(frozen=True)
class MockAnswer:
    position: int
    deck_id: str
    card_id: str
    kind: str
    topics: tuple[str, ...]
    skills: tuple[str, ...]
    score: float
    rating: int
    seconds: float
    command: str | None = None  # practises what this answer exercised (a drill's family)


@dataclass(frozen=True)
class Line:
    name: str
    answers: int
    score: float  # mean, 0..1


@dataclass(frozen=True)
class RoundResult:
    """A round's figures: its score, per topic and skill, and its answers' times."""

    id: int | None
    started_at: datetime | None
    answers: tuple[MockAnswer, ...]
    score: float | None
    topics: tuple[Line, ...]  # weakest first
    skills: tuple[Line, ...]  # weakest first
    seconds: float
    ended: str | None = None
    minutes: int = 0
    planned: int = 0


def _lines(pairs: Iterable[tuple[str, float]]) -> tuple[Line, ...]:
    sums: dict[str, list[float]] = defaultdict(list)
    for name, score in pairs:
        sums[name].append(score)
    lines = [Line(k, len(v), sum(v) / len(v)) for k, v in sums.items()]
    return tuple(sorted(lines, key=lambda x: (x.score, -x.answers, x.name)))


def result(answers: Sequence[MockAnswer], id: int | None = None,
           started_at: datetime | None = None, ended: str | None = None, minutes: int = 0,
           planned: int = 0) -> RoundResult:
    score = sum(a.score for a in answers) / len(answers) if answers else None
    return RoundResult(
        id, started_at, tuple(answers), score,
        _lines((t, a.score) for a in answers for t in a.topics),
        _lines((s, a.score) for a in answers for s in a.skills),
        sum(a.seconds for a in answers), ended, minutes, planned,
    )


def study_next(r: RoundResult, limit: int = 4) -> list[tuple[str, str]]:
    """(what, command) pairs: the weakest topics (cram: the mock already counted for their
    schedule), then each drill family missed."""
    from quizforge.reports.weak import study_command

    out: list[tuple[str, str]] = []
    for line in r.topics:
        if line.score < 1 and len(out) < limit - 1:
            out.append((f"{line.name}: {line.score:.0%} over {line.answers}",
                        study_command(tags=[line.name], cram=True)))
    for a in r.answers:
        if a.command and a.score < 1 and all(a.command != c for _, c in out):
            out.append((f"drill {a.card_id} again", a.command))
    return out[:limit]


@dataclass(frozen=True)
class Comparison:
    previous: tuple[RoundResult, ...]  # oldest first
    change: float | None  # score now - the last round's
    mean_before: float | None
    topics: tuple[tuple[str, float, float], ...]  # (topic, now, mean in earlier rounds)


def compare(now: RoundResult, previous: Sequence[RoundResult]) -> Comparison:
    previous = tuple(p for p in previous if p.score is not None)
    if now.score is None or not previous:
        return Comparison(previous, None, None, ())
    before: dict[str, list[float]] = defaultdict(list)
    for p in previous:
        for line in p.topics:
            before[line.name].append(line.score)
    topics = tuple((line.name, line.score, sum(before[line.name]) / len(before[line.name]))
                   for line in now.topics if line.name in before)
    mean = sum(p.score for p in previous) / len(previous)
    return Comparison(previous, now.score - previous[-1].score, mean, topics)


def rating_score(kind: str, rating: Rating, score: float | None = None) -> float:
    """An answer's score: a flashcard's from its self-grade, others as measured."""
    if kind == "flashcard":
        return FLASHCARD_SCORE[rating]
    assert score is not None
    return float(score)


# -- the store ----------------------------------------------------------------------------
def candidates(db, decks, now: datetime, scheduler) -> list[Candidate]:
    """Every card of `decks` that may be asked (suspended ones left out), with its recall now.
    `decks` must be synced to the store (store.cards.sync_decks)."""
    from quizforge.store import cards as store

    places = {d.id: (d, dict(zip(d.index().ids, range(len(d.index().ids))))) for d in decks}
    out = []
    for row in store.all_cards(db, sorted(places), ()):
        deck, ids = places[row.deck_id]
        if row.card_id not in ids:
            continue
        family = None
        if row.kind == "generated":
            family = deck.cards[ids[row.card_id]].generator
        sched = row.schedule
        known = sched.last_review is not None and bool(sched.stability)
        out.append(Candidate(row.rowid, row.deck_id, row.card_id, row.kind, row.tags,
                             scheduler.retrievability(sched, now) if known else None,
                             sched.lapses, family))
    return out


def weakness(db, now: datetime, scheduler) -> Weakness:
    """The report's weak spots as topics (their cards' tags) and drill families (due
    levels, and the families last practised for the weakest skills)."""
    from quizforge.reports.scope import Calendar, Scope
    from quizforge.reports.skills import skills
    from quizforge.reports.weak import weak_spots

    cal = Calendar(scheduler.config.day_starts_at, scheduler.tz)
    spots = weak_spots(db, now, cal, Scope(), scheduler)
    topics = {t for c in (*spots.leeches, *spots.lowest_recall, *spots.most_missed_mcq)
              for t in c.tags}
    sk = skills(db, now, cal, Scope(), scheduler)
    families = {lv.rsplit("-d", 1)[0] for lv in sk.due}
    for s in sk.skills:
        if s.skill in sk.weakest:
            parts = shlex.split(s.command)
            if len(parts) > 2:
                families.add(parts[2])
    return Weakness(frozenset(topics), frozenset(families))


def commit_answer(db, scheduler, round_id: int, position: int, c: Candidate, rating: Rating,
                  score: float, topics: Sequence[str], skills: Sequence[str], now: datetime,
                  duration_ms: int, attempt=None) -> int:
    """Review the card as FSRS would at `now`, log it, store the drill attempt behind it (if
    any) and the round's answer: one transaction. Returns the review log id."""
    from quizforge.store import cards as store
    from quizforge.store import rounds

    cfg = scheduler.config

    def counts(first, last):
        return store.due_counts(db, first, last, cfg.day_starts_at, scheduler.tz)

    with db.atomic() as conn:
        before = store.get_card(db, c.rowid).schedule
        fuzz_seed = c.rowid * 100_003 + before.reps
        after, record = scheduler.review(before, rating, now, duration_ms, fuzz_seed, counts)
        store.write_schedule(conn, c.rowid, after)
        revlog_id = store.insert_review(conn, c.rowid, record)
        if attempt is not None:
            store.insert_attempt(conn, attempt, c.rowid)
        rounds.insert_answer(conn, round_id, position, c.rowid, c.kind, topics, skills, score,
                             int(rating), now, duration_ms, revlog_id)
    return revlog_id


def stored_result(r) -> RoundResult:
    """A stored round (quizforge.store.rounds.StoredRound) as a RoundResult."""
    answers = [MockAnswer(a.position, a.deck_id, a.card_id, a.kind, a.topics, a.skills,
                          a.score, a.rating, a.seconds) for a in r.answers]
    return result(answers, r.id, r.started_at, r.ended, r.minutes, r.planned)


def history(db, limit: int | None = None, before: int | None = None) -> list[RoundResult]:
    from quizforge.store import rounds

    return [stored_result(r) for r in rounds.load_rounds(db, limit, before)]


def result_dict(r: RoundResult) -> dict:
    def iso(dt):
        return None if dt is None else dt.isoformat().replace("+00:00", "Z")

    def rnd(x):
        return None if x is None else round(x, 4)

    return {
        "round": r.id,
        "started_at": iso(r.started_at),
        "minutes": r.minutes,
        "planned": r.planned,
        "answered": len(r.answers),
        "ended": r.ended,
        "score": rnd(r.score),
        "seconds": round(r.seconds, 1),
        "topics": [{"topic": x.name, "answers": x.answers, "score": rnd(x.score)}
                   for x in r.topics],
        "skills": [{"skill": x.name, "answers": x.answers, "score": rnd(x.score)}
                   for x in r.skills],
        "answers": [{"position": a.position, "deck": a.deck_id, "card": a.card_id,
                     "kind": a.kind, "score": rnd(a.score), "rating": a.rating,
                     "seconds": round(a.seconds, 1)} for a in r.answers],
    }


