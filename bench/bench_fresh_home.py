"""Benchmark: a fresh home meets a 100,000-card folder — the first `quizforge study` ever.

    python bench/bench_fresh_home.py [--runs 3] [--keep]

Writes 25 YAML deck files of 4,000 cards each (bench/make_store.py's decks and writer,
no store needed) to a temporary folder, then runs a real `quizforge study` process with
QUIZFORGE_DECKS on that folder and a new, empty QUIZFORGE_HOME each run (no store, no deck
cache): every file is parsed and validated (in worker processes), the cache is filled, the
store is created and 100,000 card rows are synced into it, and the first card is drawn.
Standard input is 'q': the session quits at the first card.

Reported per run: wall seconds, and the CPU seconds of the whole process tree (the command
and the worker processes it started: user + system, from the rusage of waited-for
children). On a machine that others share, the wall time swings with their load; the CPU
time much less, so it is the primary figure (on an idle 2-core machine the wall time is
about the parent's CPU time plus the workers' divided by the cores).

With --phases, the same work is also timed in this process, step by step as `study` does
it (CPU of this process and its workers, and wall): loading the folder (parse + validate in
workers, into a new deck cache), syncing into a new store, building the session.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # this checkout's quizforge, and make_store

from make_store import make_decks, write_yaml_decks  # noqa: E402

TARGET = 10.0  # issue 20: wall seconds for the first study of a fresh home with 100k cards


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def write_decks(folder: Path) -> int:
    decks = make_decks(100_000, random.Random(7))
    write_yaml_decks(decks, folder)
    return sum(len(d.cards) for d in decks)


def first_study(decks: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of the process tree, output) of one first study in a new home."""
    home = Path(tempfile.mkdtemp(prefix="qf-fresh-home-"))
    env = {**os.environ, "QUIZFORGE_HOME": str(home), "QUIZFORGE_DECKS": str(decks),
           "COLUMNS": "80", "TERM": "dumb"}
    try:
        cpu0, t0 = children_cpu(), time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "quizforge", "study"], input="q\n", env=env, cwd=ROOT,
                           capture_output=True, text=True, check=False)
        wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
        if r.returncode != 0:
            sys.exit(f"study failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        return wall, cpu, r.stdout
    finally:
        shutil.rmtree(home, ignore_errors=True)


def phases(decks: Path) -> None:
    """The steps of a first study in this process, as `study` takes them."""
    home = Path(tempfile.mkdtemp(prefix="qf-fresh-phases-"))
    os.environ["QUIZFORGE_HOME"] = str(home)
    os.environ["QUIZFORGE_DECKS"] = str(decks)
    from quizforge import clock
    from quizforge.cli.decks import load_decks_or_warn
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store import cards as store
    from quizforge.store import open_store
    from quizforge.study.session import Session, StudyOptions

    def cpu() -> float:
        return time.process_time() + children_cpu()

    c0, t0 = cpu(), time.perf_counter()

    def lap(name: str) -> None:
        nonlocal c0, t0
        print(f"  {name:<44} cpu {cpu() - c0:6.2f} s   wall {time.perf_counter() - t0:6.2f} s",
              flush=True)
        c0, t0 = cpu(), time.perf_counter()

    decks_loaded = load_decks_or_warn([])
    lap(f"load {sum(len(d.cards) for d in decks_loaded):,} cards (workers + cache)")
    now = clock.now()
    with open_store() as db:
        lap("create the store")
        store.sync_decks(db, decks_loaded, now)
        lap("sync the cards into the store")
        session = Session(db, decks_loaded, Scheduler(), StudyOptions(), now)
        lap("build the session (all new cards read)")
        session.next(now)
        lap("first card")
    shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--phases", action="store_true", help="also time load and sync apart")
    ap.add_argument("--keep", action="store_true", help="keep the deck folder (printed)")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="qf-fresh-decks-"))
    n = write_decks(folder)
    files = sorted(folder.glob("*.yaml"))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{n:,} cards in {len(files)} files "
          f"({sum(p.stat().st_size for p in files) / 1e6:.0f} MB) in {folder}")
    walls, cpus = [], []
    for i in range(args.runs):
        wall, cpu, out = first_study(folder)
        walls.append(wall)
        cpus.append(cpu)
        print(f"  run {i + 1}: wall {wall:6.2f} s   cpu (process tree) {cpu:6.2f} s   "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"first study, fresh home, 100k cards: cpu median {statistics.median(cpus):.2f} s, "
          f"wall median {statistics.median(walls):.2f} s (target ≤ {TARGET:.0f} s)")
    if "Session summary" not in out:
        sys.exit(f"study did not reach its summary:\n{out[-2000:]}")
    if args.phases:
        phases(folder)
    if args.keep:
        print(f"kept {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
