"""Benchmark: what load balancing adds to one answer in `quizforge study` on the big store.

Run by hand:  python bench/bench_answer.py [--answers 200]

The synthetic store (100,000 cards, 1,000,000 reviews; bench/make_store.py) is copied to a
fresh data dir and opened the way `study` opens it (the first open applies the
0005_cards_due_index migration: timed). Its 25 real deck files (bench/out/decks) are loaded
through the deck loader and cache. Two sessions are built on the same store at the store's
END, one with load_balance = true and one with false; the due reviews are answered Good
alternately by one and the other, each answer timed around `Session.answer` (the whole
commit: read the row, schedule, the due-count query when balancing, write, revlog row).
Also timed: the due-count query alone over a 14-day range (the widest fuzz range balanced).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORE = ROOT / "bench" / "out" / "store.sqlite3"
DECKS = ROOT / "bench" / "out" / "decks"
END = "2026-11-20T10:00:00+00:00"


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return (
        f"median {statistics.median(xs) * 1000:.2f} ms, p90 {xs[int(0.9 * (len(xs) - 1))] * 1000:.2f}"
        f" ms, mean {statistics.fmean(xs) * 1000:.2f} ms (n={len(xs)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--answers", type=int, default=200)
    args = ap.parse_args()
    if not STORE.exists() or not DECKS.is_dir():
        sys.exit("build the store first: python bench/make_store.py")
    home = Path(tempfile.mkdtemp(prefix="qf-bench-answer-"))
    shutil.copy(STORE, home / "quizforge.sqlite3")
    os.environ["QUIZFORGE_HOME"] = str(home)
    os.environ["QUIZFORGE_NOW"] = END

    from quizforge.cli.decks import load_decks_or_warn
    from quizforge.scheduling.config import Config
    from quizforge.scheduling.scheduler import Rating, Scheduler
    from quizforge.store import cards as store
    from quizforge.store import open_store
    from quizforge.study.session import Session, StudyOptions

    now = datetime.fromisoformat(END)
    t = time.perf_counter()
    with open_store(write=True) as db:
        applied = db.conn.execute("SELECT name FROM migrations ORDER BY id DESC LIMIT 1").fetchone()
    print(f"first open (applies {applied[0]}): {time.perf_counter() - t:.3f} s")
    decks = load_decks_or_warn([DECKS])
    print(f"decks: {len(decks)}, cards: {sum(len(d.cards) for d in decks):,}")

    with open_store(write=True) as db:
        cfg = Config(reviews_per_day=100_000)
        on = Session(db, decks, Scheduler(cfg), StudyOptions(), now)
        off = Session(db, decks, Scheduler(Config(reviews_per_day=100_000, load_balance=False)), StudyOptions(), now)
        reads = 0
        inner = on._due_counts

        def counted(a, b):
            nonlocal reads
            reads += 1
            return inner(a, b)

        on._due_counts = counted
        entries = []
        while len(entries) < 2 * args.answers and (e := on.queue.next(now)) is not None:
            if e.schedule.state == 2:
                entries.append(e)
        times: dict[bool, list[float]] = {True: [], False: []}
        clock = now
        for i, e in enumerate(entries):
            sess = on if i % 2 else off
            clock += timedelta(seconds=5)
            t = time.perf_counter()
            sess.answer(e, Rating.GOOD, clock, 5000)
            times[sess is on].append(time.perf_counter() - t)
        print(f"answer, load_balance off: {ms(times[False])}")
        print(f"answer, load_balance on:  {ms(times[True])} ({reads} of {len(times[True])} read the counts)")

        q = []
        day = now.date()
        for k in range(1, 80, 3):
            first = day + timedelta(days=k)
            t = time.perf_counter()
            store.due_counts(db, first, first + timedelta(days=13))
            q.append(time.perf_counter() - t)
        print(f"due-count query, 14 days, ranges starting 1-79 days out: {ms(q)}")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
