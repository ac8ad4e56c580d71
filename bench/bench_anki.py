"""Benchmark: Anki export and import of a 10,000-card deck, each a whole `quizforge` process
as a user runs it (targets: 3 s each), and quizforge's import of an Anki package against
Anki's own import of the same package (target: within 1.5x, with or without history).

    python bench/bench_anki.py [--cards 10000] [--runs 3] [--big-notes 10000]

Writes a deck of N flashcards (with HTML-worthy text, tags and an explanation), then times:

- `quizforge export anki big.apkg --deck big` (genanki: the collection.anki2 format);
- `quizforge import big.apkg --deck big-back` (reads that package back);
- `quizforge import new.apkg --deck big-new --with-history` on a package in Anki's current
  format (zstd collection.anki21b) with N notes and one review each, made by the real Anki
  backend when the `anki` package is installed (skipped otherwise).

- against Anki (needs `anki`): a package of --big-notes notes (30% "Basic (and reversed
  card)", so 13,000 cards for 10,000 notes) with 10 review rows per note (100,000) and an FSRS
  memory state on every card, made by the real backend; then Anki's own import of it into a
  fresh collection (`import_anki_package`, in a child process), and `quizforge import` of it
  without and with --with-history (a fresh store each run, the deck cache and quizforge's
  bytecode warm). The ratios quizforge / Anki are printed from CPU time of
  the process (the machine may be shared: the wall clock also counts waiting for a core),
  with the wall-clock ratio beside it.

Each command runs in a fresh QUIZFORGE_HOME; the best and median of `--runs` are printed.
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
from pathlib import Path

CPU_TIMES: list[float] = []
REPO = str(Path(__file__).resolve().parent.parent)


def write_deck(folder: Path, n: int) -> None:
    lines = ["deck: big", "name: Big deck", "cards:"]
    for i in range(n):
        lines += [f"  - id: card-{i}",
                  f"    front: \"What is fact #{i} about <softmax> & friends?\"",
                  f"    back: \"Fact {i}: σ(z)ᵢ = exp(zᵢ) / Σⱼ exp(zⱼ), line one.\"",
                  f"    explanation: \"Because {i} is {'even' if i % 2 == 0 else 'odd'}.\"",
                  f"    tags: [t{i % 10}, bench]"]
    (folder / "big.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def anki_package(path: Path, n: int) -> bool:
    """N Basic notes, one Good answer each, exported in the current format. False without
    the `anki` package."""
    try:
        from anki.collection import AddNoteRequest, Collection, ExportAnkiPackageOptions
        from anki.decks import DeckId
        from anki.scheduler_pb2 import CardAnswer
    except ImportError:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(Path(tmp) / "collection.anki2"))
        did = col.decks.id("Bench")
        model = col.models.by_name("Basic")
        col.set_config("fsrs", True)
        requests = []
        for i in range(n):
            note = col.new_note(model)
            note.fields[0] = f"Question <b>{i}</b>"
            note.fields[1] = f"Answer {i}<br>second line &amp; more"
            note.tags = [f"t{i % 10}"]
            requests.append(AddNoteRequest(note=note, deck_id=DeckId(did)))
        col.add_notes(requests)
        for cid in col.find_cards("")[:n]:
            card = col.get_card(cid)
            card.start_timer()
            states = col._backend.get_scheduling_states(cid)
            col.sched.answer_card(col.sched.build_answer(card=card, states=states,
                                                         rating=CardAnswer.GOOD))
        options = ExportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True,
                                           with_media=True, legacy=False)
        col.export_anki_package(out_path=str(path), options=options, limit=None)
        col.close()
    return True


def big_anki_package(path: Path, notes: int, reviews_per_note: int = 10) -> bool:
    """`notes` notes, 30% of them with a reversed card, every card in review with an FSRS
    memory state, and `reviews_per_note` revlog rows per note spread over its cards (written
    straight into the collection: answering 100,000 times through the scheduler would take
    minutes), exported by Anki in its current format. False without `anki`."""
    try:
        from anki.collection import AddNoteRequest, Collection, ExportAnkiPackageOptions
        from anki.decks import DeckId
    except ImportError:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(Path(tmp) / "collection.anki2"))
        col.set_config("fsrs", True)
        did = DeckId(col.decks.id("Big::Sub"))
        basic = col.models.by_name("Basic")
        reversed_ = col.models.by_name("Basic (and reversed card)")
        requests = []
        for i in range(notes):
            note = col.new_note(reversed_ if i % 10 < 3 else basic)
            note.fields[0] = f"Question <b>{i}</b> about <i>softmax</i>"
            note.fields[1] = f"Answer {i}<br>second line &amp; more <sup>2</sup>"
            note.tags = [f"t{i % 10}", "big"]
            requests.append(AddNoteRequest(note=note, deck_id=did))
        col.add_notes(requests)  # one transaction: one add_note each is minutes of fsyncs
        today = col.sched.today
        crt = col.crt
        cards = col.db.all("SELECT id, nid FROM cards ORDER BY nid, ord")
        col.db.executemany(
            "UPDATE cards SET type = 2, queue = 2, ivl = ?, due = ?, "
            "data = ? WHERE id = ?",
            [(5 + i % 30, today + i % 20, f'{{"s":{5 + i % 40}.5,"d":{1 + i % 9}.25}}', cid)
             for i, (cid, _nid) in enumerate(cards)])
        by_note: dict[int, list[int]] = {}
        for cid, nid in cards:
            by_note.setdefault(nid, []).append(cid)
        rows = []
        start_ms = (crt + (today - 200) * 86400) * 1000
        step = 200 * 86400 * 1000 // reviews_per_note
        for n, cids in enumerate(by_note.values()):
            for k in range(reviews_per_note):
                cid = cids[k % len(cids)]
                at = start_ms + k * step + n  # unique ids, in time order per note
                kind = 0 if k < len(cids) else 1
                rows.append((at, cid, -1, 1 + (k + n) % 4 if k else 3, 1 + k, k, 2500,
                             3000 + n % 5000, kind))
        col.db.executemany("INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor,"
                           " time, type) VALUES (?,?,?,?,?,?,?,?,?)", rows)
        options = ExportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True,
                                           with_media=True, legacy=False)
        col.export_anki_package(out_path=str(path), options=options, limit=None)
        col.close()
    return True


ANKI_IMPORT = """
import sys, tempfile
from pathlib import Path
from anki.collection import Collection
from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportAnkiPackageRequest
with tempfile.TemporaryDirectory() as tmp:
    col = Collection(str(Path(tmp) / "collection.anki2"))
    col.import_anki_package(ImportAnkiPackageRequest(
        package_path=sys.argv[1],
        options=ImportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True)))
    col.close()
"""


def timed_anki(package: Path, runs: int) -> list[float]:
    """Anki's own import of `package` into a fresh collection, a child process per run."""
    times = []
    CPU_TIMES.clear()
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", ANKI_IMPORT, str(package)], check=False,
                           capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        CPU_TIMES.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if r.returncode != 0:
            raise SystemExit(f"Anki's import failed:\n{r.stderr}")
    return times


def timed(args: list[str], runs: int, work: Path, clean: list[Path],
          warm_cache: bool = False) -> list[float]:
    """Wall-clock seconds per run (CPU seconds of the child in CPU_TIMES: on a shared
    machine the wall clock also counts waiting for a core). Each run has a fresh
    QUIZFORGE_HOME; `warm_cache` keeps its deck cache from the run before (a first import
    into a new home also compiles the bundled decks into it)."""
    times = []
    CPU_TIMES.clear()
    for _ in range(runs):
        for p in clean:
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        env = {**os.environ, "QUIZFORGE_HOME": str(work / "home"), "QUIZFORGE_DECKS": "",
               "PYTHONPATH": REPO}  # this checkout's quizforge, whatever is installed
        # Bytecode as an installed quizforge has it (pip compiles it; a checkout writes
        # __pycache__ on its first run), like the anki package timed beside it: with
        # PYTHONDONTWRITEBYTECODE set, every run would compile quizforge's source again.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if warm_cache:  # a fresh store, but the deck cache of a quizforge already in use
            (work / "home" / "quizforge.sqlite3").unlink(missing_ok=True)
        else:
            shutil.rmtree(work / "home", ignore_errors=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "quizforge", *args], env=env, cwd=work, check=False,
                           capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        CPU_TIMES.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{r.stderr}")
    return times


def report(label: str, times: list[float]) -> tuple[float, float]:
    """Print the run; (best CPU, best wall) seconds."""
    print(f"{label:56} best {min(times):5.2f} s  median {statistics.median(times):5.2f} s"
          f"  (CPU best {min(CPU_TIMES):.2f} s, median {statistics.median(CPU_TIMES):.2f} s)")
    return min(CPU_TIMES), min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-notes", type=int, default=10_000,
                        help="notes in the package timed against Anki's import (0: skip)")
    parser.add_argument("--only-vs-anki", action="store_true",
                        help="time only the comparison with Anki's import")
    parser.add_argument("--keep", type=Path, metavar="APKG",
                        help="keep the package timed against Anki's import here (and reuse "
                             "it when it exists)")
    a = parser.parse_args()
    if a.only_vs_anki:
        return versus_anki(a.big_notes, a.runs, a.keep)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        decks = work / "decks"
        decks.mkdir()
        write_deck(decks, a.cards)
        apkg = work / "big.apkg"
        n = f"{a.cards:,}"
        report(f"export anki: {n} cards to .apkg",
               timed(["export", "anki", str(apkg), "--decks", str(decks), "--deck", "big"],
                     a.runs, work, [apkg]))
        print(f"  package: {apkg.stat().st_size / 1e6:.1f} MB")
        out = work / "imported"
        report(f"import: that .apkg ({n} notes) to a deck",
               timed(["import", str(apkg), "--deck", "big-back", "--out", str(out)],
                     a.runs, work, [out]))
        new = work / "new.apkg"
        start = time.perf_counter()
        if anki_package(new, a.cards):
            print(f"  (made a {n}-note Anki package with anki in "
                  f"{time.perf_counter() - start:.0f} s)")
            report(f"import --with-history: Anki zstd .apkg ({n} notes)",
                   timed(["import", str(new), "--deck", "big-new", "--out", str(out),
                          "--with-history"], a.runs, work, [out]))
        else:
            print("  anki not installed: the current-format package is not timed")
    return versus_anki(a.big_notes, a.runs, a.keep) if a.big_notes else 0


def versus_anki(notes: int, runs: int, keep: Path | None = None) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        package = keep or work / "big-history.apkg"
        start = time.perf_counter()
        if package.exists():
            print(f"(reusing {package})")
        elif not big_anki_package(package, notes):
            print("anki not installed: no comparison with Anki's own import")
            return 0
        print(f"(made a {notes:,}-note Anki package with history in "
              f"{time.perf_counter() - start:.0f} s, {package.stat().st_size / 1e6:.1f} MB)")
        out = work / "imported"
        # Warm the deck cache once, as any earlier quizforge command would have, and
        # quizforge's bytecode (one import, untimed).
        timed(["decks"], 1, work, [])
        timed(["import", str(package), "--deck", "big-h", "--out", str(out), "--with-history"],
              1, work, [out], warm_cache=True)
        anki = report(f"Anki's own import ({notes:,} notes, with scheduling)",
                      timed_anki(package, runs))
        plain = report("quizforge import (no history)",
                       timed(["import", str(package), "--deck", "big-h", "--out", str(out)],
                             runs, work, [out], warm_cache=True))
        history = report("quizforge import --with-history",
                         timed(["import", str(package), "--deck", "big-h", "--out", str(out),
                                "--with-history"], runs, work, [out], warm_cache=True))
        for label, (cpu, wall) in (("without history", plain), ("with history", history)):
            print(f"quizforge / Anki, {label:16} CPU {cpu / anki[0]:4.2f}x   "
                  f"wall {wall / anki[1]:4.2f}x   (target 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
