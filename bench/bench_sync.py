"""Time `quizforge sync` with 1,000,000 reviews from another device.

    python bench/bench_sync.py [STORE] [--keep DIR]

STORE defaults to bench/out/store.sqlite3, the 100k-card, 1M-review store bench/make_store.py
builds (its deck files are beside it in decks/). It is copied, never modified.

1. "Another device": the copy is opened (migration 0011 lists its rows to send) and synced
   to a fresh folder in-process: one segment of 1M review records (+ drill attempts).
2. A fresh home with the same deck files runs `quizforge sync DIR` as a real process:
   wall and CPU seconds (target: a few seconds).
3. The same home syncs again with nothing new: in-process time (target < 100 ms) and the
   whole process.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from make_store import END  # noqa: E402

DEFAULT = HERE / "out" / "store.sqlite3"


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd: list[str], env: dict) -> tuple[str, float, float]:
    """A real process: what it printed, its wall and CPU seconds."""
    c0 = child_cpu()
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return p.stdout.strip(), time.perf_counter() - t, child_cpu() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--keep", type=Path, help="work here and leave the files")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-sync-"))
    work.mkdir(parents=True, exist_ok=True)
    now = END.isoformat()
    decks = args.store.parent / "decks"
    env = {**os.environ, "QUIZFORGE_NOW": now, "QUIZFORGE_DECKS": str(decks)}
    os.environ.update(env)

    from quizforge.scheduling.config import Config
    from quizforge.store.db import Database
    from quizforge.sync import sync

    other = work / "other"
    other.mkdir(exist_ok=True)
    shutil.copy(args.store, other / "quizforge.sqlite3")
    folder = work / "Sync"
    folder.mkdir(exist_ok=True)

    t = time.perf_counter()
    db = Database(other / "quizforge.sqlite3")
    t_migrate = time.perf_counter() - t
    c = time.process_time()
    t = time.perf_counter()
    r = sync(db, folder, END, Config())
    t_export, c_export = time.perf_counter() - t, time.process_time() - c
    db.close()
    seg = next((folder / "quizforge-sync").glob("*/seg-*.jsonl"))
    print(f"other device: migration {t_migrate:.2f} s; export of {r.sent:,} records"
          f" {t_export:.2f} s wall, {c_export:.2f} s CPU;"
          f" segment {seg.stat().st_size / 1e6:.0f} MB")

    cmd = [sys.executable, "-m", "quizforge", "sync", str(folder)]
    # A fresh home's first sync adds the 100k cards of the deck files to its store first
    # (as its first `study` would); timed once as it is, and once with the cards already in
    # the store (a home that has studied these decks), to show the import alone.
    for label, prepare in (("fresh home", False), ("home with the decks' cards", True)):
        home = work / ("home-decks" if prepare else "home")
        shutil.rmtree(home, ignore_errors=True)
        env["QUIZFORGE_HOME"] = str(home)
        if prepare:
            empty = work / "Empty"
            empty.mkdir(exist_ok=True)
            subprocess.run([*cmd[:-1], str(empty)], env=env, capture_output=True, check=True)
        out, wall, cpu = run(cmd, env)
        print(f"{label}, `quizforge sync` (a real process): {wall:.2f} s wall, {cpu:.2f} s"
              f" CPU: {out}")
    with sqlite3.connect(home / "quizforge.sqlite3") as conn:
        n = conn.execute("SELECT COUNT(*) FROM revlog").fetchone()[0]
    print(f"  review log here: {n:,} rows")

    out, wall, cpu = run(cmd, env)
    print(f"unchanged sync, whole process: {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU:"
          f" {out}")
    os.environ["QUIZFORGE_HOME"] = str(home)
    db = Database(home / "quizforge.sqlite3")
    times, cpus = [], []
    for _ in range(5):
        c = time.process_time()
        t = time.perf_counter()
        sync(db, folder, END, Config())
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    db.close()
    print(f"unchanged sync, in process: best {min(times) * 1000:.1f} ms wall"
          f" ({min(cpus) * 1000:.1f} ms CPU), median {sorted(times)[2] * 1000:.1f} ms wall"
          f" ({sorted(cpus)[2] * 1000:.1f} ms CPU) of 5")
    if args.keep is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
