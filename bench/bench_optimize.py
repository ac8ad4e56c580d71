"""Time `quizforge optimize --dry-run` on a store of 100,000 answers, and say where the
time goes.

    python bench/bench_optimize.py [STORE] [--runs N]

STORE defaults to bench/out/optimize/store.sqlite3 and is built with make_store.py if
missing (10,000 cards, 100,000 answers over two years: 3% cram, drill levels and
generated cards among them). End to end: the real command in a subprocess, QUIZFORGE_HOME
pointing at a symlink to the store. Breakdown: the same steps in-process.
Target: 10 s end to end (issue 13).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from make_store import END, build
from timing import timed_runs

TARGET = 10.0


def in_process(store: Path) -> dict[str, float]:
    from fsrs.scheduler import DEFAULT_PARAMETERS

    from quizforge.scheduling import fitting
    from quizforge.store.cards import fitting_log
    from quizforge.store.db import Database

    steps: dict[str, float] = {}
    t = time.perf_counter()
    import fsrs_rs_python as rs

    steps["import fsrs_rs_python"] = time.perf_counter() - t
    t = time.perf_counter()
    with Database(store) as db:
        hs, _ = fitting.log_histories(*fitting_log(db, fitting.DRILL_KINDS))
    steps["read the log (SQL + histories)"] = time.perf_counter() - t
    t = time.perf_counter()
    items = [
        rs.FSRSItem([rs.FSRSReview(g, dt) for g, dt in seq])
        for _, seq in fitting.training_sequences(hs)
    ]
    steps[f"build {len(items):,} training items"] = time.perf_counter() - t
    t = time.perf_counter()
    raw = rs.FSRS(list(DEFAULT_PARAMETERS)).compute_parameters(items)
    steps["compute_parameters (fsrs-rs)"] = time.perf_counter() - t
    t = time.perf_counter()
    fitting.evaluate(items, DEFAULT_PARAMETERS)
    fitting.evaluate(items, fitting.tidy(raw))
    steps["evaluate default + fitted"] = time.perf_counter() - t
    return steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", nargs="?", default=str(HERE / "out" / "optimize" / "store.sqlite3"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    store = Path(args.store).resolve()
    if not store.exists():
        print("building the synthetic store (a few seconds)...")
        print(build(store, 10_000, 100_000, 11))

    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "quizforge.sqlite3").symlink_to(store)
        env = {**os.environ, "QUIZFORGE_HOME": home, "QUIZFORGE_NOW": END.isoformat()}
        exe = [sys.executable, "-m", "quizforge"]
        subprocess.run([*exe, "optimize", "--dry-run"], env=env, check=True)  # shown once
        startup = timed_runs([*exe, "--version"], env, args.runs)
        runs = timed_runs([*exe, "optimize", "--dry-run"], env, args.runs)
        json_runs = timed_runs([*exe, "optimize", "--dry-run", "--json"], env, args.runs)
    steps = in_process(store)

    print(f"\nstore: {store} ({store_counts(store)})")
    print(f"\nend to end, {args.runs} runs each (median / max), target <= {TARGET:.0f} s:")
    print(f"  {'quizforge --version (CLI start-up)':40} {statistics.median(startup):6.2f} s")
    for name, times in (("optimize --dry-run", runs), ("optimize --dry-run --json", json_runs)):
        print(f"  {'quizforge ' + name:40} {statistics.median(times):6.2f} s / {max(times):.2f} s")
    print("\nwhere the time goes (in-process, one run):")
    for name, seconds in steps.items():
        print(f"  {name:40} {seconds:6.2f} s")
    worst = max(statistics.median(runs), statistics.median(json_runs))
    print(f"\nslowest median {worst:.2f} s: {'OK' if worst <= TARGET else 'OVER TARGET'}")


def store_counts(path: Path) -> str:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return ", ".join(
            f"{conn.execute(f'SELECT COUNT(*) FROM {t}').fetchone()[0]:,} {t}"
            for t in ("cards", "revlog")
        )
    finally:
        conn.close()


if __name__ == "__main__":
    main()
