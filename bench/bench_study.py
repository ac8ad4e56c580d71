"""Benchmark: how fast `quizforge study` puts the first card on screen, and `decks` answers.

Run by hand:  python bench/bench_study.py [--runs 7]

1. Fresh data dir, bundled decks: time from process start to the first card on a real
   pty (pexpect), and which heavy modules were imported on that path (must be none).
2. The synthetic store of 100,000 cards and 1,000,000 reviews (bench/make_store.py):
   `study` to the first card and `decks --json`, both against that store.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
STORE = ROOT / "bench" / "out" / "store.sqlite3"


def first_card_seconds(env: dict, args=()) -> float:
    t0 = time.perf_counter()
    child = pexpect.spawn(
        sys.executable, ["-m", "quizforge", "study", *args], env=env, encoding="utf-8",
        timeout=30, dimensions=(40, 80),
    )
    child.expect(["show answer", "Choose", "Select all"])
    dt = time.perf_counter() - t0
    child.sendintr()
    child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=10)
    child.terminate(force=True)
    return dt


def command_seconds(env: dict, *args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "quizforge", *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def heavy_imports(env: dict) -> list[str]:
    """Modules imported by the study start-up path (load decks, open store, build queue)."""
    code = (
        "import sys\n"
        "from quizforge.cli.decks import load_decks_or_warn\n"
        "from quizforge.store import open_store\n"
        "from quizforge.study.session import Session, StudyOptions\n"
        "from quizforge.scheduling.scheduler import Scheduler\n"
        "from quizforge import clock\n"
        "import quizforge.ui.study\n"
        "decks = load_decks_or_warn([])\n"
        "with open_store() as db:\n"
        "    Session(db, decks, Scheduler(), StudyOptions(), clock.now())\n"
        "print(' '.join(m for m in ('sympy', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


def summarize(name: str, xs: list[float], target: float) -> None:
    xs = sorted(xs)
    print(
        f"{name:<42} median {statistics.median(xs) * 1000:6.0f} ms   "
        f"min {xs[0] * 1000:6.0f} ms   max {xs[-1] * 1000:6.0f} ms   target < {target * 1000:.0f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp())
    env = {**os.environ, "QUIZFORGE_HOME": str(home), "TERM": "xterm"}
    env.pop("QUIZFORGE_DECKS", None)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print("heavy modules on the study start-up path:", heavy_imports(env) or "none")
    first_card_seconds(env)  # warm the OS file cache and create the store
    summarize("study: first card (bundled decks)", [first_card_seconds(env) for _ in range(args.runs)], 0.3)
    summarize("decks --json (bundled decks)", [command_seconds(env, "decks", "--json") for _ in range(args.runs)], 0.5)
    summarize("--help", [command_seconds(env, "--help") for _ in range(args.runs)], 0.3)

    if not STORE.exists():
        print("building the synthetic store (bench/make_store.py) ...")
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_store.py"), str(STORE)], check=True)
    big = Path(tempfile.mkdtemp())
    shutil.copy(STORE, big / "quizforge.sqlite3")
    benv = {**env, "QUIZFORGE_HOME": str(big)}
    first_card_seconds(benv)
    summarize("study: first card (100k cards, 1M reviews)", [first_card_seconds(benv) for _ in range(args.runs)], 0.5)
    summarize("decks --json (100k cards, 1M reviews)", [command_seconds(benv, "decks", "--json") for _ in range(args.runs)], 0.5)
    session_build_with_all_cards(big / "quizforge.sqlite3", args.runs)
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(big, ignore_errors=True)


def session_build_with_all_cards(path: Path, runs: int) -> None:
    """In-process: sync all 100,000 cards of the synthetic decks and build the queue, so
    every query runs over the whole store (deck files of that size are not parsed here)."""
    import random

    sys.path.insert(0, str(ROOT / "bench"))
    import make_store

    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store.db import Database
    from quizforge.study.session import Session, StudyOptions

    decks = make_store.make_decks(100_000, random.Random(7))  # the decks the store was built from
    times = []
    for _ in range(runs + 1):
        t0 = time.perf_counter()
        with Database(path) as db:
            Session(db, decks, Scheduler(), StudyOptions(), make_store.END)
        times.append(time.perf_counter() - t0)
    summarize("session build, all 100k cards (in-process)", times[1:], 0.5)


if __name__ == "__main__":
    main()
