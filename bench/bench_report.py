"""Time `quizforge report` on the synthetic 100k-card / 1M-answer store, and say where the
time goes.

    python bench/bench_report.py [STORE] [--runs N]

STORE defaults to bench/out/store.sqlite3 and is built with make_store.py if missing.
End to end: the real command in a subprocess (QUIZFORGE_HOME pointing at the store,
QUIZFORGE_NOW at the store's last day), text, --json and --svg. Breakdown: the same work
in-process, section by section (build_report's own timings), plus rendering and JSON.
Target: under 2 s end to end.
"""

from __future__ import annotations

import argparse
import io
import json
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

TARGET = 2.0


def in_process(home: Path, runs: int) -> dict[str, float]:
    """Median seconds of each step of the command, run in this process."""
    os.environ["QUIZFORGE_HOME"] = str(home)
    os.environ["QUIZFORGE_NOW"] = END.isoformat()
    steps: dict[str, list[float]] = {}

    def add(name: str, seconds: float) -> None:
        steps.setdefault(name, []).append(seconds)

    t = time.perf_counter()
    from rich.console import Console

    from quizforge import clock
    from quizforge.cli.decks import load_decks_or_warn
    from quizforge.paths import config_path, deck_search_path
    from quizforge.reports import Scope, build_report, check_scope
    from quizforge.scheduling.config import load_config
    from quizforge.scheduling.scheduler import Scheduler
    from quizforge.store import open_store
    from quizforge.ui.report import render_report

    add("imports (in-process)", time.perf_counter() - t)
    for _ in range(runs):
        t = time.perf_counter()
        loaded = load_decks_or_warn(deck_search_path())
        add("load bundled decks", time.perf_counter() - t)
        t = time.perf_counter()
        db = open_store()
        check_scope(db, Scope(), [d.id for d in loaded])
        add("open store + check scope", time.perf_counter() - t)
        r = build_report(db, clock.now(), Scheduler(load_config(config_path())))
        for name, seconds in r.timings.items():
            add(f"  section {name}", seconds)
        add("build_report (all sections)", sum(r.timings.values()))
        db.close()
        t = time.perf_counter()
        Console(file=io.StringIO(), width=80).print(render_report(r))
        add("render text (rich)", time.perf_counter() - t)
        t = time.perf_counter()
        json.dumps(r.to_dict(), indent=2)
        add("to_dict + json.dumps", time.perf_counter() - t)
    return {name: statistics.median(v) for name, v in steps.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", nargs="?", default=str(HERE / "out" / "store.sqlite3"))
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    store = Path(args.store).resolve()
    if not store.exists():
        print("building the synthetic store (about a minute)...")
        print(build(store, 100_000, 1_000_000, 7))

    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "quizforge.sqlite3").symlink_to(store)
        env = {
            **os.environ,
            "QUIZFORGE_HOME": home,
            "QUIZFORGE_NOW": END.isoformat(),
            "COLUMNS": "80",
        }
        exe = [sys.executable, "-m", "quizforge"]
        subprocess.run(
            [*exe, "report"], env=env, check=True, stdout=subprocess.DEVNULL
        )  # warm cache
        startup = timed_runs([sys.executable, "-c", "pass"], env, args.runs)
        help_ = timed_runs([*exe, "--version"], env, args.runs)
        results = {
            "report": timed_runs([*exe, "report"], env, args.runs),
            "report --json": timed_runs([*exe, "report", "--json"], env, args.runs),
            "report --svg": timed_runs([*exe, "report", "--svg", f"{home}/r.svg"], env, args.runs),
            "report --deck synth-backprop --tag backprop-math": timed_runs(
                [*exe, "report", "--deck", "synth-backprop", "--tag", "backprop-math"], env, args.runs
            ),
            "report --since 2026-11-01": timed_runs(
                [*exe, "report", "--since", "2026-11-01"], env, args.runs
            ),
        }
        steps = in_process(Path(home), args.runs)

    print(f"store: {store} ({store_counts(store)})")
    print(f"\nend to end, {args.runs} runs each (median / min), target < {TARGET:.0f} s:")
    print(f"  {'python -c pass':44} {statistics.median(startup):6.3f} s")
    print(f"  {'quizforge --version (CLI start-up)':44} {statistics.median(help_):6.3f} s")
    worst = 0.0
    for name, times in results.items():
        med = statistics.median(times)
        worst = max(worst, med)
        print(f"  {'quizforge ' + name:44} {med:6.3f} s / {min(times):.3f} s")
    print("\nwhere the time goes (in-process medians):")
    for name, seconds in steps.items():
        print(f"  {name:44} {seconds * 1000:7.1f} ms")
    verdict = "OK" if worst < TARGET else "OVER TARGET"
    print(f"\nslowest median {worst:.3f} s: {verdict}")


def store_counts(path: Path) -> str:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return ", ".join(
            f"{conn.execute(f'SELECT COUNT(*) FROM {t}').fetchone()[0]:,} {t}"
            for t in ("cards", "revlog", "drill_attempts")
        )
    finally:
        conn.close()


if __name__ == "__main__":
    main()
