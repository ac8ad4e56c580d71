"""Benchmark: Anki export and import of a 10,000-card deck, each a whole `quizforge` process
as a user runs it (targets: 3 s each).

    python bench/bench_anki.py [--cards 10000] [--runs 3]

Writes a deck of N flashcards (with HTML-worthy text, tags and an explanation), then times:

- `quizforge export anki big.apkg --deck big` (genanki: the collection.anki2 format);
- `quizforge import big.apkg --deck big-back` (reads that package back);
- `quizforge import new.apkg --deck big-new --with-history` on a package in Anki's current
  format (zstd collection.anki21b) with N notes and one review each, made by the real Anki
  backend when the `anki` package is installed (skipped otherwise).

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
        from anki.collection import Collection, ExportAnkiPackageOptions
        from anki.decks import DeckId
        from anki.scheduler_pb2 import CardAnswer
    except ImportError:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(str(Path(tmp) / "collection.anki2"))
        did = col.decks.id("Bench")
        model = col.models.by_name("Basic")
        col.set_config("fsrs", True)
        for i in range(n):
            note = col.new_note(model)
            note.fields[0] = f"Question <b>{i}</b>"
            note.fields[1] = f"Answer {i}<br>second line &amp; more"
            note.tags = [f"t{i % 10}"]
            col.add_note(note, DeckId(did))
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


def timed(args: list[str], runs: int, work: Path, clean: list[Path]) -> list[float]:
    """Wall-clock seconds per run (CPU seconds of the child in CPU_TIMES: on a shared
    machine the wall clock also counts waiting for a core)."""
    times = []
    CPU_TIMES.clear()
    for _ in range(runs):
        for p in clean:
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        env = {**os.environ, "QUIZFORGE_HOME": str(work / "home"), "QUIZFORGE_DECKS": ""}
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


def report(label: str, times: list[float]) -> None:
    print(f"{label:56} best {min(times):5.2f} s  median {statistics.median(times):5.2f} s"
          f"  (CPU {min(CPU_TIMES):.2f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    a = parser.parse_args()
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
