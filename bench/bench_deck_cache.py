"""Benchmark: which encoding the compiled-deck cache uses for cards, and where it keeps them.

    python bench/bench_deck_cache.py [--runs 5]

Loads the 100,000 cards of bench/out/decks (bench/make_store.py writes them) once, then
times, in this process with the garbage collector paused as the loader does, what a warm
start pays to get the cards back:

- encodings: JSON rows in dataclass field order with shared tag lists (what the cache
  stores), JSON with one mapping per card, and marshal of the same rows (fast, but the
  marshal module is documented as unsafe for damaged or crafted data);
- containers: one SQLite file with a row per deck file (what the cache uses: safe for
  two writers, one transaction) against one JSON file per deck file.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import marshal
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from quizforge.decks.cache import cards_from_rows, cards_to_rows
from quizforge.decks.loader import load_decks
from quizforge.decks.model import MCQ, Flashcard, GeneratedCard

DECKS = Path(__file__).resolve().parent / "out" / "decks"
CLASSES = {"flashcard": Flashcard, "mcq": MCQ, "generated": GeneratedCard}


def as_mappings(cards) -> list[dict]:
    out = []
    for c in cards:
        d = {"type": c.type}
        for f in dataclasses.fields(c):
            v = getattr(c, f.name)
            if v != f.default:
                d[f.name] = list(v) if isinstance(v, tuple) else v
        out.append(d)
    return out


def from_mappings(rows: list[dict]) -> tuple:
    out = []
    for d in rows:
        cls = CLASSES[d.pop("type")]
        for name in ("tags", "choices", "answer"):
            if name in d:
                d[name] = tuple(d[name])
        out.append(cls(**d))
    return tuple(out)


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    runs = ap.parse_args().runs
    decks = load_decks([DECKS]).decks
    n = sum(len(d.cards) for d in decks)
    rows = [json.dumps(cards_to_rows(d.cards), ensure_ascii=False) for d in decks]
    maps = [json.dumps(as_mappings(d.cards), ensure_ascii=False) for d in decks]
    marsh = [marshal.dumps(cards_to_rows(d.cards)) for d in decks]
    assert [cards_from_rows(json.loads(r)) for r in rows] == [d.cards for d in decks]
    assert [from_mappings(json.loads(m)) for m in maps] == [d.cards for d in decks]

    tmp = Path(tempfile.mkdtemp())
    db = tmp / "cache.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (path TEXT PRIMARY KEY, cards TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(str(i), r) for i, r in enumerate(rows)])
    for i, r in enumerate(rows):
        (tmp / f"{i}.json").write_text(r, encoding="utf-8")

    def sqlite_rows():
        conn = sqlite3.connect(db)
        for (text,) in conn.execute("SELECT cards FROM t"):
            cards_from_rows(json.loads(text))
        conn.close()

    def file_rows():
        for i in range(len(rows)):
            cards_from_rows(json.loads((tmp / f"{i}.json").read_bytes()))

    cases = {
        "JSON rows (cache's choice), decode + build": lambda: [
            cards_from_rows(json.loads(r)) for r in rows],
        "JSON mapping per card, decode + build": lambda: [
            from_mappings(json.loads(m)) for m in maps],
        "marshal rows, decode + build": lambda: [cards_from_rows(marshal.loads(m)) for m in marsh],
        "JSON rows, decode only": lambda: [json.loads(r) for r in rows],
        "marshal rows, decode only": lambda: [marshal.loads(m) for m in marsh],
        "SQLite file, rows (read + decode + build)": sqlite_rows,
        "one JSON file per deck (read + decode + build)": file_rows,
    }
    print(f"{n:,} cards in {len(decks)} decks; JSON rows {sum(map(len, rows)) / 1e6:.1f} MB, "
          f"JSON mappings {sum(map(len, maps)) / 1e6:.1f} MB, "
          f"marshal {sum(map(len, marsh)) / 1e6:.1f} MB")
    gc.disable()
    for name, fn in cases.items():
        print(f"  {name:<50} {timed(fn, runs) * 1000:7.0f} ms")
    gc.enable()


if __name__ == "__main__":
    main()
