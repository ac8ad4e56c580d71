"""Benchmark: `quizforge report` against Anki's statistics on the same data (issue 9).

    python bench/bench_report_anki.py [--runs 5]

Needs the `anki` package (pip install anki; not a quizforge dependency). Copies the synthetic
store of bench/make_store.py (100,000 cards, 1,000,000 reviews) into an Anki collection,
FSRS on: one Basic note per card in a deck per quizforge deck, each card's state, due day,
interval and FSRS memory (stability, difficulty), and every review-log row (time, rating,
interval, duration, kind). Then times, as real processes run back to back:

- quizforge: `quizforge report` on the same store (QUIZFORGE_NOW at its last day), run
  again as it is, and run after one answer was recorded (as `quizforge study` does, not timed):
  the user's path, study then report, where what the store keeps for the report is recounted
  for the day the answer changed;
- Anki, each a process that opens the collection, computes, closes:
  - the Stats window's data as it opens (the backend's `graphs`, whole collection, 1 year),
  - the same over the whole history (`graphs`, 10 years: the window's "all history"),
  - the legacy statistics report (`CollectionStats.report`, whole collection, deck life).

Which of these the issue's "Anki's stats" (2.09 s) was is not written down there: the
last two take about that long on this data, the first well under a second.

The collection is built once in bench/out/anki (several minutes) and reused.

Each figure is the median CPU time (user + system) of the process, with the wall time
beside it: on a shared machine wall time mostly measures the other processes (issue 23).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # the checkout whose quizforge is timed
sys.path.insert(0, str(HERE))

from make_store import END

STORE = HERE / "out" / "store.sqlite3"
COLLECTION = HERE / "out" / "anki" / "collection.anki2"
DAY_MS = 86_400_000
# quizforge's states (new, learning, review, relearning) as Anki's card type and queue, and a
# review's state before it as Anki's revlog kind (learn, review, relearn; cram: filtered).
CARD_TYPE = {0: 0, 1: 1, 2: 2, 3: 3}
REVLOG_KIND = {0: 0, 1: 0, 2: 1, 3: 2}


def build(store: Path, path: Path) -> None:
    from anki.collection import AddNoteRequest, Collection

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    col = Collection(str(tmp))
    col.set_config("fsrs", True)
    src = sqlite3.connect(store)
    cards = src.execute(
        "SELECT id, deck_id, card_id, state, stability, difficulty, due, last_review, reps,"
        " lapses, suspended FROM cards ORDER BY id"
    ).fetchall()
    model = col.models.by_name("Basic")
    decks = {d: col.decks.id(d) for d in sorted({c[1] for c in cards})}
    t = time.perf_counter()
    requests = []
    for c in cards:
        note = col.new_note(model)
        note.fields[0] = f"{c[1]}/{c[2]}"
        note.fields[1] = f"back of {c[2]}"
        requests.append(AddNoteRequest(note=note, deck_id=decks[c[1]]))
    col.add_notes(requests)
    print(f"  {len(cards):,} notes added in {time.perf_counter() - t:.0f} s", flush=True)
    anki_id = dict(col.db.all("SELECT n.sfld, c.id FROM cards c JOIN notes n ON n.id = c.nid"))
    by_rowid = {c[0]: anki_id[f"{c[1]}/{c[2]}"] for c in cards}
    today = col.sched.today
    end_ms = int(END.timestamp() * 1000)
    updates = []
    for (rowid, _d, _c, state, s, d, due, last, reps, lapses, suspended) in cards:
        kind = CARD_TYPE[state]
        queue = -1 if suspended else kind
        if state == 0:
            due_value, ivl, data = rowid, 0, ""
        elif state == 2:
            due_value = today + (due - end_ms) // DAY_MS
            ivl = max(1, (due - last) // DAY_MS)
            data = json.dumps({"s": round(s, 4), "d": round(d, 4), "dr": 0.9})
        else:  # learning steps are due at a time, in seconds
            due_value, ivl = due // 1000, 0
            data = json.dumps({"s": round(s, 4), "d": round(d, 4), "dr": 0.9})
        updates.append((kind, queue, due_value, ivl, reps, lapses, data, by_rowid[rowid]))
    col.db.executemany(
        "UPDATE cards SET type = ?, queue = ?, due = ?, ivl = ?, factor = 2500, reps = ?,"
        " lapses = ?, data = ? WHERE id = ?", updates)
    t = time.perf_counter()
    rows, last_id = [], 0
    for card, at, rating, ms, before, ivl, cram in src.execute(
        "SELECT card, reviewed_at, rating, duration_ms, state_before, interval_days, cram"
        " FROM revlog ORDER BY reviewed_at, id"
    ):
        last_id = max(last_id + 1, at)  # Anki's revlog id is the time in ms, and unique
        kind = 3 if cram else REVLOG_KIND[before]
        rows.append((last_id, by_rowid[card], -1, rating, round(ivl), 0, 2500, min(ms, 60_000),
                     kind))
    col.db.executemany("INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time,"
                       " type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    print(f"  {len(rows):,} reviews copied in {time.perf_counter() - t:.0f} s", flush=True)
    col.close()
    tmp.replace(path)


ANKI_STATS = """
import sys, time
from anki.collection import Collection
t = time.perf_counter()
col = Collection(sys.argv[1])
opened = time.perf_counter()
if sys.argv[2] == "legacy":
    stats = col.stats()
    stats.wholeCollection = True
    stats.report(type=2)
else:
    col._backend.graphs(search="", days=int(sys.argv[2]))
done = time.perf_counter()
col.close(downgrade=False)
print(f"{opened - t:.3f} {done - opened:.3f}")
"""
# One answer, as `quizforge study` records it (schedule and log row in one transaction), to the
# card due first, n seconds before the bench's `now`: a report after it recounts what the
# answer changed (the summaries' triggers drop the day it fell on) instead of reading it kept.
ANSWER = """
import sys
from datetime import datetime, timedelta
from quizforge.scheduling.config import Config
from quizforge.scheduling.scheduler import Rating, Scheduler
from quizforge.store import cards as store
from quizforge.store.db import Database
now = datetime.fromisoformat(sys.argv[2]) - timedelta(seconds=int(sys.argv[3]))
with Database(sys.argv[1]) as db:
    rowid = db.conn.execute("SELECT id FROM cards WHERE state = 2 AND suspended = 0 AND"
                            " in_deck = 1 AND kind != 'skill' ORDER BY due LIMIT 1").fetchone()[0]
    with db.atomic() as conn:
        before = store.get_card(db, rowid).schedule
        after, record = Scheduler(Config()).review(before, Rating.GOOD, now, 8000, rowid)
        store.write_schedule(conn, rowid, after)
        store.insert_review(conn, rowid, record)
"""
ANKI_CASES = {
    "Anki Stats window, 1 year (graphs)": "365",
    "Anki Stats window, all history (graphs)": "3650",
    "Anki legacy statistics report": "legacy",
}


CPU: dict[str, list[float]] = {}  # CPU seconds (user + system) of each command's process


def timed(cmd: list[str], env: dict | None = None, name: str | None = None) -> tuple[float, str]:
    """Wall seconds of one run of `cmd`, and its stdout; its CPU seconds go to CPU[name]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if name is not None:
        CPU.setdefault(name, []).append(after.ru_utime - before.ru_utime
                                        + after.ru_stime - before.ru_stime)
    return wall, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    runs = ap.parse_args().runs
    import importlib.util

    if importlib.util.find_spec("anki") is None:
        sys.exit("needs the anki package: pip install anki")
    if not COLLECTION.exists():
        print(f"building the Anki collection from {STORE} (several minutes) ...", flush=True)
        build(STORE, COLLECTION)
    with tempfile.TemporaryDirectory() as home:
        import shutil

        shutil.copy(STORE, Path(home) / "quizforge.sqlite3")
        # This checkout's quizforge first, whatever the environment has installed; and its
        # bytecode kept (PYTHONDONTWRITEBYTECODE off), as in an installed package: otherwise
        # every run compiles every module from source, and Anki's site-packages never does.
        env = {**os.environ, "QUIZFORGE_HOME": home, "QUIZFORGE_NOW": END.isoformat(),
               "COLUMNS": "80",
               "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [
                   os.environ.get("PYTHONPATH")])])}
        env.pop("QUIZFORGE_DECKS", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        report = [sys.executable, "-m", "quizforge", "report"]
        where = subprocess.run(
            [sys.executable, "-c", "import quizforge; print(quizforge.__file__)"],
            env=env, check=True, capture_output=True, text=True).stdout.strip()
        print(f"timing {Path(where).parent}", flush=True)
        anki_cmds = {name: [sys.executable, "-c", ANKI_STATS, str(COLLECTION), arg]
                for name, arg in ANKI_CASES.items()}
        timed(report, env)  # migrations and the calibration's one-off fill
        for cmd in anki_cmds.values():
            timed(cmd)
        fresh = "quizforge report after an answer"
        times: dict[str, list[float]] = {"quizforge report": [], fresh: [],
                                         **{n: [] for n in anki_cmds}}
        inner: dict[str, list[float]] = {n: [] for n in anki_cmds}
        answer = [sys.executable, "-c", ANSWER, str(Path(home) / "quizforge.sqlite3"),
                  END.isoformat()]
        for run in range(runs):  # back to back, so that the machine's load hits all alike
            times["quizforge report"].append(timed(report, env, "quizforge report")[0])
            timed([*answer, str(600 - run)], env)  # not timed: the user's study, then report
            times[fresh].append(timed(report, env, fresh)[0])
            for name, cmd in anki_cmds.items():
                seconds, out = timed(cmd, name=name)
                times[name].append(seconds)
                inner[name].append(float(out.split()[1]))
    # The machine may be shared: CPU time (user + system of the process) is the primary
    # figure, wall time beside it; the ratios are quizforge's over each Anki figure.
    q = statistics.median(times["quizforge report"])
    qc = statistics.median(CPU["quizforge report"])
    fc = statistics.median(CPU[fresh])
    for name, xs in times.items():
        med, cpu = statistics.median(xs), statistics.median(CPU[name])
        more = ""
        if name in inner:
            more = (f"\n{'':<42} (wall computing {statistics.median(inner[name]):.3f} s in"
                    f" process; quizforge ÷ this: CPU {qc / cpu:.2f}, after an answer"
                    f" {fc / cpu:.2f}; wall {q / med:.2f})")
        print(f"{name:<42} CPU median {cpu:.3f} s  wall median {med:.3f} s"
              f" min {min(xs):.3f} s{more}")
    print("target (issue 23): quizforge report ≤ 0.5 × Anki's Stats window, 1 year")


if __name__ == "__main__":
    main()
