"""Time `quizforge simulate` on the synthetic 100k-card / 1M-answer store, and say where the
time goes.

    python bench/bench_simulate.py [STORE] [--runs N] [--days N]

STORE defaults to bench/out/store.sqlite3 and is built with make_store.py if missing.
End to end: the real command in a subprocess (QUIZFORGE_HOME pointing at the store,
QUIZFORGE_NOW at the store's last day), four retentions over 60 days, text and --json,
once with the default limits (200 reviews a day, which this store's backlog reaches) and
once with reviews_per_day = 9999 (every due review is simulated: the heaviest case).
Breakdown: the same work in-process, step by step.
"""

from __future__ import annotations

import argparse
import io
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

RETENTIONS = ["0.8", "0.85", "0.9", "0.95"]


def in_process(home: Path, days: int) -> dict[str, float]:
    """Seconds of each step of the command, run once in this process."""
    os.environ["QUIZFORGE_HOME"] = str(home)
    os.environ["QUIZFORGE_NOW"] = END.isoformat()
    steps: dict[str, float] = {}
    t = time.perf_counter()
    from rich.console import Console

    from quizforge import clock
    from quizforge.paths import config_path
    from quizforge.scheduling.config import load_config
    from quizforge.scheduling.days import day_bounds
    from quizforge.scheduling.simulate import Collection, behaviour_from_counts, simulate
    from quizforge.store import cards as store
    from quizforge.store import open_store
    from quizforge.ui.simulate import render_simulation

    steps["imports"] = time.perf_counter() - t
    config = load_config(config_path())
    now = clock.now()
    start, end = day_bounds(now, config.day_starts_at)
    t = time.perf_counter()
    with open_store() as db:
        scheduled, new = store.simulation_cards(db)
        steps["read cards from the store"] = time.perf_counter() - t
        t = time.perf_counter()
        done = store.studied_today(db, start)
        tallies = store.answer_tallies(db)
        steps["today's counts + rating tallies"] = time.perf_counter() - t
    col = Collection(tuple(scheduled), new, done["new"], done["reviews"])
    behaviour = behaviour_from_counts(tallies)
    sims = []
    for r in RETENTIONS:
        t = time.perf_counter()
        sims.append(simulate(col, config, [float(r)], days, now, end, behaviour=behaviour))
        steps[f"simulate {r} ({sims[-1].runs[0].total:,} answers)"] = time.perf_counter() - t
    t = time.perf_counter()
    sim = simulate(col, config, [float(r) for r in RETENTIONS], days, now, end, behaviour=behaviour)
    Console(file=io.StringIO(), width=80).print(render_simulation(sim, 0.9, False))
    steps["all four + render (rich)"] = time.perf_counter() - t
    return steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", nargs="?", default=str(HERE / "out" / "store.sqlite3"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--days", type=int, default=60)
    args = ap.parse_args()
    store = Path(args.store).resolve()
    if not store.exists():
        print("building the synthetic store (about a minute)...")
        print(build(store, 100_000, 1_000_000, 7))

    results: dict[str, list[float]] = {}
    breakdowns = {}
    for label, config in (("default limits", ""), ("reviews_per_day 9999", "reviews_per_day = 9999\n")):
        with tempfile.TemporaryDirectory() as home:
            (Path(home) / "quizforge.sqlite3").symlink_to(store)
            (Path(home) / "config.toml").write_text(config)
            env = {**os.environ, "QUIZFORGE_HOME": home, "QUIZFORGE_NOW": END.isoformat(),
                   "COLUMNS": "80"}
            exe = [sys.executable, "-m", "quizforge", "simulate", "--retention", *RETENTIONS,
                   "--days", str(args.days)]
            subprocess.run([*exe, "--days", "1"], env=env, check=True, stdout=subprocess.DEVNULL)
            results[f"simulate ({label})"] = timed_runs(exe, env, args.runs)
            results[f"simulate --json ({label})"] = timed_runs([*exe, "--json"], env, args.runs)
            breakdowns[label] = in_process(Path(home), args.days)

    print(f"store: {store}")
    print(f"\nend to end, 4 retentions x {args.days} days, {args.runs} runs each (median / min):")
    for name, times in results.items():
        print(f"  {'quizforge ' + name:52} {statistics.median(times):6.2f} s / {min(times):.2f} s")
    for label, steps in breakdowns.items():
        print(f"\nwhere the time goes, {label} (in-process, one run):")
        for name, seconds in steps.items():
            print(f"  {name:52} {seconds * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
