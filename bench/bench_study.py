"""Benchmark: how fast `quizforge study` puts the first card on screen, and how fast `decks`
and `report` answer, with the bundled deck alone and with a 100,000-card folder of real
deck files on the path.

Run by hand:  python bench/bench_study.py [--runs 5]

Everything is the path a user takes: a real process (`python -m quizforge`), real YAML
files, `study` in a pseudo-terminal (pexpect) until the first card is drawn.

1. Fresh data dir, bundled decks: first card, `decks --json`, `report`, `--help`; which
   heavy modules the study start-up imports (must be none).
2. The synthetic store (100,000 cards, 1,000,000 reviews; bench/make_store.py) and its
   25 deck files of 4,000 cards (bench/out/decks, on QUIZFORGE_DECKS):
   - first card with no deck cache (cold: every file parsed),
   - first card with the cache (warm),
   - first card after one 4,000-card file changed (a card's text edited),
   - `decks --json` and `report`, with and without the 100k folder on the path.

Each case prints wall-clock medians and the median CPU time of the whole process tree
(the command and any worker processes it started: user + system). On a machine that others
share, wall times swing with their load; CPU times much less (a cold start's wall time on
an idle machine is about its parent's CPU time plus its workers' divided by the cores).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
STORE = ROOT / "bench" / "out" / "store.sqlite3"
DECKS = ROOT / "bench" / "out" / "decks"
CACHE = "deck-cache.sqlite3"
CPU: list[float] = []  # CPU seconds of each run's process tree, appended by each run


def default_sigint() -> None:
    """Run in the child before study starts: a benchmark started in the background has
    SIGINT ignored, which its children inherit, and Ctrl-C would not end study (each run
    then waited 10 s for it)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def first_card_seconds(env: dict, args=()) -> float:
    cpu0 = children_cpu()
    t0 = time.perf_counter()
    child = pexpect.spawn(
        sys.executable, ["-m", "quizforge", "study", *args], env=env, encoding="utf-8",
        timeout=60, dimensions=(40, 80), preexec_fn=default_sigint,
    )
    child.expect(["show answer", "Choose", "Select all"])
    dt = time.perf_counter() - t0
    child.sendintr()
    child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=10)
    child.terminate(force=True)
    child.close()  # waited for: its CPU time (and its workers') is counted
    CPU.append(children_cpu() - cpu0)
    return dt


def command_seconds(env: dict, *args: str) -> float:
    cpu0 = children_cpu()
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "quizforge", *args], env=env, check=True,
                   capture_output=True)
    dt = time.perf_counter() - t0
    CPU.append(children_cpu() - cpu0)
    return dt


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
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


def summarize(name: str, xs: list[float], cpu: list[float] | None = None) -> float:
    xs = sorted(xs)
    med = statistics.median(xs)
    cpu_text = f"   cpu {statistics.median(cpu) * 1000:6.0f} ms" if cpu else ""
    print(f"{name:<44} median {med * 1000:6.0f} ms   min {xs[0] * 1000:6.0f} ms   "
          f"max {xs[-1] * 1000:6.0f} ms{cpu_text}", flush=True)
    return med


def check(name: str, value: float, limit: float, what: str) -> None:
    verdict = "ok" if value <= limit else "OVER"
    print(f"  target {name:<44} {value:6.2f} {what} (≤ {limit:.2f}) {verdict}")


def interleaved(cases: dict[str, Callable[[], float]], runs: int) -> dict[str, float]:
    """Run each case once per round, round after round, so that a busy machine slows all
    of them alike and their ratios stay meaningful; the median of each."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, fn in cases.items():
            times[name].append(fn())
            cpu[name].append(CPU[-1])
    return {name: summarize(name, xs, cpu[name]) for name, xs in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    runs = args.runs

    home = Path(tempfile.mkdtemp())
    env = {**os.environ, "QUIZFORGE_HOME": str(home), "TERM": "xterm", "COLUMNS": "80"}
    env.pop("QUIZFORGE_DECKS", None)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("heavy modules on the study start-up path:", heavy_imports(env) or "none")
    if not STORE.exists() or not DECKS.is_dir():
        print("building the synthetic store and deck files (bench/make_store.py) ...")
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_store.py"), str(STORE)],
                       check=True)
    big = Path(tempfile.mkdtemp())
    shutil.copy(STORE, big / "quizforge.sqlite3")
    no_folder = {**env, "QUIZFORGE_HOME": str(big)}
    with_folder = {**no_folder, "QUIZFORGE_DECKS": str(DECKS)}
    files = list(DECKS.glob("*.yaml"))
    print(f"100k: {len(files)} deck files in {DECKS} "
          f"({sum(p.stat().st_size for p in files) / 1e6:.0f} MB), "
          "the store of bench/make_store.py\n")

    changed = DECKS / "synth-attention.yaml"
    original = changed.read_bytes()
    edits = iter(range(10**6))

    def cold() -> float:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{big / CACHE}{suffix}").unlink(missing_ok=True)
        return first_card_seconds(with_folder)

    def after_change() -> float:
        text = original.decode().replace("attention question 1:",
                                         f"attention question 1 ({next(edits)}):")
        changed.write_text(text, encoding="utf-8")
        return first_card_seconds(with_folder)

    first_card_seconds(env)  # warm the OS file cache, create the store and the deck cache
    first_card_seconds(with_folder)
    command_seconds(no_folder, "report")  # the report's one-off calibration fill (~9 s)
    try:
        r = interleaved(
            {
                "study: first card, bundled deck": lambda: first_card_seconds(env),
                "study: first card, 100k, warm": lambda: first_card_seconds(with_folder),
                "study: first card, 100k, one file changed": after_change,
                "study: first card, 100k, cold (no cache)": cold,
            },
            runs,
        )
    finally:
        changed.write_bytes(original)
    first_card_seconds(with_folder)  # the cache holds the original again
    for name, cmd in (("decks --json", ["decks", "--json"]), ("report", ["report"])):
        r |= interleaved(
            {
                f"{name}, store only": lambda cmd=cmd: command_seconds(no_folder, *cmd),
                f"{name}, with the 100k folder": lambda cmd=cmd: command_seconds(with_folder,
                                                                                 *cmd),
            },
            runs,
        )
    summarize("--help", [command_seconds(env, "--help") for _ in range(runs)])

    warm = r["study: first card, 100k, warm"]
    print("\ntargets (issue 9):")
    check("warm first card ÷ bundled-deck first card",
          warm / r["study: first card, bundled deck"], 1.5, "×")
    check("cold first card", r["study: first card, 100k, cold (no cache)"], 5.0, "s")
    check("one changed file, extra over warm",
          r["study: first card, 100k, one file changed"] - warm, 0.5, "s")
    for name in ("decks --json", "report"):
        ratio = r[f"{name}, with the 100k folder"] / r[f"{name}, store only"]
        check(f"{name}: with ÷ without the 100k folder", ratio, 1.2, "×")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(big, ignore_errors=True)


if __name__ == "__main__":
    main()
