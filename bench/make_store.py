"""Build a synthetic quizforge store for benchmarks: 100,000 cards, 1,000,000 reviews.

Everything goes through the project's own store code: synthetic Deck objects are synced
with `sync_decks`, each card's history is played through the real FSRS `Scheduler`, and
the answers are written with `insert_review` / `write_schedule`, and drill attempts with
`record_drill_attempt` (ensure_card + insert_attempt + the level card's review), inside
`db.atomic()` in batches of 100,000, in time order.

    python bench/make_store.py [PATH] [--cards N] [--reviews N] [--seed S]

The store ends at END (QUIZFORGE_NOW for the benchmark). `quizforge report` reads it with
no deck files: deck ids and tags come from the store. The same decks, as they stand at END,
are written as real YAML files beside the store (`decks/`, one file of 4,000 cards per topic)
for the benchmarks that load them the way a user's folder is loaded. Deck ids are
`synth-<topic>`, so none clashes with a bundled deck (`backprop`).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from quizforge.decks.model import MCQ, Deck, Flashcard, GeneratedCard
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import CardSchedule, Rating, ReviewRecord, Scheduler, State
from quizforge.store import cards as store
from quizforge.store.db import Database
from quizforge.study.mastery import record_drill_attempt

END = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
TOPICS = [
    "backprop",
    "optimizers",
    "attention",
    "transformers",
    "cnn",
    "rnn",
    "regularization",
    "probability",
    "linear-algebra",
    "calculus",
    "losses",
    "activations",
    "normalization",
    "embeddings",
    "evaluation",
    "trees",
    "svm",
    "clustering",
    "rl",
    "generative",
    "nlp",
    "vision",
    "systems",
    "statistics",
    "ml-design",
]
SKILLS = [
    "chain-rule",
    "fan-out",
    "exp",
    "log",
    "power",
    "product",
    "quotient",
    "relu",
    "sigmoid",
    "tanh",
]
BATCH = 100_000


DECK_PREFIX = "synth-"  # never a bundled deck's id
REMOVED_SHARE = 100  # one card in 101 was later deleted from its deck file


def make_decks(n_cards: int, rng: random.Random) -> list[Deck]:
    per_deck = n_cards // len(TOPICS)
    decks = []
    for d, topic in enumerate(TOPICS):
        sections = [f"{topic}-{s}" for s in ("basics", "math", "practice", "pitfalls", "interview")]
        cards = []
        n = per_deck + (1 if d < n_cards % len(TOPICS) else 0)
        for i in range(n):
            tags = (rng.choice(sections),) + (("gotcha",) if rng.random() < 0.05 else ())
            roll = rng.random()
            if roll < 0.6:
                cards.append(Flashcard(f"f{i}", f"{topic} question {i}", "answer", tags=tags))
            elif roll < 0.9:
                cards.append(
                    MCQ(f"m{i}", f"{topic} mcq {i}?", ("a", "b", "c", "d"), (1,), tags=tags)
                )
            else:
                cards.append(GeneratedCard(f"g{i}", "backprop", difficulty=1 + i % 3, tags=tags))
        decks.append(
            Deck(DECK_PREFIX + topic, topic.title(), tuple(cards), Path(f"{topic}.yaml"), tags=("ml",))
        )
    return decks


def simulate(sched: Scheduler, start: datetime, hardness: float, rng: random.Random):
    """One card's answers from `start` until END: (schedule, [ReviewRecord])."""
    s, t, out = CardSchedule(), start, []
    while t < END and not s.suspended:
        p = (
            0.85
            if s.state in (State.NEW, State.LEARNING, State.RELEARNING)
            else sched.retrievability(s, t)
        )
        p = p**hardness
        u = rng.random()
        rating = (
            Rating.AGAIN
            if u > p
            else rng.choices((Rating.HARD, Rating.GOOD, Rating.EASY), (12, 75, 13))[0]
        )
        s, rec = sched.review(s, rating, t, rng.randint(3_000, 30_000))
        out.append(rec)
        late = timedelta(0)
        if s.state == State.REVIEW and rng.random() < 0.3:
            late = timedelta(days=rng.expovariate(1 / 3))  # sometimes days late
        t = s.due + late + timedelta(seconds=rng.randint(0, 600))
    return s, out


def build(path: Path, n_cards: int, n_reviews: int, seed: int) -> dict:
    rng = random.Random(seed)
    sched = Scheduler(Config(fuzz=False))
    skill_sched = Scheduler(Config(fuzz=False, leech_threshold=100_000))  # skills never leech
    start = END - SPAN
    # The files end with n_cards cards; the store also saw the ones deleted since.
    decks = make_decks(n_cards + n_cards // REMOVED_SHARE, rng)
    t0 = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    db = Database(path)
    store.sync_decks(db, decks, start)
    rowids = [r[0] for r in db.conn.execute("SELECT id FROM cards ORDER BY id")]

    # Drill attempts over the whole span, each recorded (later, in time order) with
    # record_drill_attempt: stored, and its level card (backprop-dN) reviewed.
    n_attempts = max(100, n_reviews // 200)
    events = []  # (time, rowid, record, cram); rowid None: a drill attempt in `record`
    for i in range(n_attempts):
        at = start + (END - start) * ((i + rng.random()) / n_attempts)
        picked = tuple(sorted(rng.sample(SKILLS, rng.randint(1, 3)), key=SKILLS.index))
        p = 0.55 + 0.35 * i / n_attempts - 0.2 * max(SKILLS.index(k) for k in picked) / len(SKILLS)
        ok = rng.random() < p
        events.append(
            (
                at,
                None,
                store.Attempt(
                    at,
                    "backprop",
                    rng.randint(1, 3),
                    rng.choice(("number", "steps")),
                    rng.randrange(2**31),
                    picked,
                    ok,
                    1.0 if ok else 0.3,
                    rng.randint(20_000, 120_000),
                ),
                False,
            )
        )

    # Deck cards: 85% get studied, from a random start; a few are much harder (leeches).
    order = list(rowids)
    rng.shuffle(order)
    final = {}
    scheduled = n_reviews - n_reviews * 3 // 100  # 3% of the log is cram practice
    for rowid in order[: int(len(order) * 0.85)]:
        if len(events) >= scheduled:
            break
        intro = start + (END - start) * (rng.random() ** 0.7)
        hardness = 3.0 if rng.random() < 0.02 else rng.uniform(0.5, 1.3)
        s, recs = simulate(sched, intro, hardness, rng)
        recs = recs[: scheduled - len(events)]
        if not recs:
            continue
        final[rowid] = s
        events += [(r.reviewed_at, rowid, r, False) for r in recs]
    # Cram practice up to exactly n_reviews (logged, schedule untouched).
    studied = list(final)
    while len(events) < n_reviews:
        rowid = rng.choice(studied)
        at = start + (END - start) * rng.random()
        rec = ReviewRecord(
            at,
            rng.choice(list(Rating)),
            rng.randint(3_000, 20_000),
            final[rowid].state,
            0.0,
            None,
            False,
            False,
        )
        events.append((at, rowid, rec, True))
    events.sort(key=lambda e: e[0])
    t_sim = time.perf_counter() - t0

    for i in range(0, len(events), BATCH):
        with db.atomic() as conn:
            for at, rowid, rec, cram in events[i : i + BATCH]:
                if rowid is None:  # its own savepoint inside this batch's transaction
                    record_drill_attempt(db, skill_sched, rec, at)
                else:
                    store.insert_review(conn, rowid, rec, cram=cram)
    with db.atomic() as conn:
        for rowid, s in final.items():
            store.write_schedule(conn, rowid, s)
    # 1% of cards were later deleted from their deck files: history kept, in_deck = 0.
    keep = []
    for d in decks:
        gone = set(rng.sample(range(len(d.cards)), len(d.cards) - n_cards // len(TOPICS)))
        keep.append(replace(d, cards=tuple(c for i, c in enumerate(d.cards) if i not in gone)))
    write_yaml_decks(keep, path.parent / "decks")
    removed = store.sync_decks(db, keep, END)["removed"]
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {
        "path": str(path),
        "cards": db_count(path, "cards"),
        "reviews": db_count(path, "revlog"),
        "attempts": n_attempts,
        "removed": removed,
        "seconds": round(time.perf_counter() - t0, 1),
        "simulate_seconds": round(t_sim, 1),
        "now": END.isoformat(),
    }


def write_yaml_decks(decks: list[Deck], folder: Path) -> list[Path]:
    """Each deck as a real deck file, `<deck id>.yaml`, as a person would write it."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.yaml"):
        old.unlink()
    paths = []
    for deck in decks:
        lines = [f"deck: {deck.id}", f"name: {deck.name}", f"tags: [{', '.join(deck.tags)}]", "cards:"]
        for card in deck.cards:
            lines += _card_yaml(deck, card)
        path = folder / f"{deck.id}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _card_yaml(deck: Deck, card) -> list[str]:
    """A card's lines, with text of a realistic length (deterministic from its id)."""
    def q(text: str) -> str:  # a JSON string is a valid double-quoted YAML scalar
        return json.dumps(text, ensure_ascii=False)

    topic = deck.id.removeprefix(DECK_PREFIX)
    out = [f"  - id: {card.id}"]
    if card.type == "flashcard":
        front = f"{card.front}: why does {topic} behave this way in practice?"
        back = f"In {topic}, state the assumption, then its consequence, then one example " \
            "from a real model, and say what would change if the assumption failed."
        out += [f"    front: {q(front)}", f"    back: {q(back)}"]
    elif card.type == "mcq":
        choices = ", ".join(q(f"{c} — option for {topic}") for c in card.choices)
        out += [
            "    type: mcq",
            f"    question: {q(card.question)}",
            f"    choices: [{choices}]",
            f"    answer: {'abcd'[card.answer[0]]}",
            f"    explanation: {q(f'The {topic} answer follows from the definition.')}",
        ]
    else:
        out += ["    type: generated", f"    generator: {card.generator}",
                f"    difficulty: {card.difficulty}"]
    out.append(f"    tags: [{', '.join(card.tags)}]")
    return out


def db_count(path: Path, table: str) -> int:
    with Database(path) as db:
        return db.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=str(Path(__file__).parent / "out" / "store.sqlite3"))
    ap.add_argument("--cards", type=int, default=100_000)
    ap.add_argument("--reviews", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    print(build(Path(args.path), args.cards, args.reviews, args.seed))


if __name__ == "__main__":
    main()
