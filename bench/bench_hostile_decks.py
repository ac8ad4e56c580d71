"""Benchmark: how long `quizforge validate` takes on crafted deck files (issue 20).

    python bench/bench_hostile_decks.py [--timeout 120] [--big-mb 50] [--only NAME]

Writes each hostile deck to a temporary folder, then times a real `python -m quizforge
validate FILE` process on it (fresh data folder: no deck cache) and prints its size, wall
seconds, exit code and first output line. A run that passes `--timeout` is killed and shown
as "> N s". The files are the ones the issue measured:

- blank-lines: an MCQ explanation of 3,000 blank lines (the letter-label lint regex was
  cubic in a run of whitespace);
- aliases: one formula card with mistakes, repeated through YAML aliases (`*c`) hundreds
  of times, each repetition checked again;
- tags-40k: one card with 40,000 tags;
- mistakes-2000: a formula card with 2,000 mistakes (each compared with every earlier one);
- numbers-20k: 20,000 cards whose prompts have three numbers each (every pair compared);
- numbers8-20k: the same with eight numbers each (the most subsets a card is looked up by);
- lint-1mb, lint-spaces-1mb: 1 MB of MCQs whose explanations (5,000 characters each) are
  lists of letters ("a, a, …") or keywords followed by runs of spaces;
- line-1mb / line-NNmb: one card whose front is a single line of 1 MB / --big-mb MB;
- fields-20k: one card with 20,000 unknown fields (each gets a did-you-mean);
- controls: every C0 and C1 control character in a card's text (checks the output stays
  free of them rather than timing).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _mcq_head(card_id: str = "c") -> str:
    return (f"deck: hostile\nname: Hostile\ncards:\n  - id: {card_id}\n    type: mcq\n"
            "    question: Which?\n    choices: [one, two]\n    answer: a\n")


def blank_lines(n: int = 3000) -> str:
    return _mcq_head() + "    explanation: |\n      It is one.\n" + "\n" * n + "      b\n"


def aliases(repeats: int = 400) -> str:
    mistakes = "".join(f"      - {{answer: 'x + {k}', message: 'off by {k}'}}\n"
                       for k in range(1, 16))
    card = ("  - &c\n    id: f\n    type: formula\n    question: d/dx x²/2 = ?\n"
            "    answer: x\n    variables: [x]\n    mistakes:\n" + mistakes)
    return "deck: hostile\nname: Hostile\ncards:\n" + card + "  - *c\n" * repeats


def many_tags(n: int = 40_000) -> str:
    return ("deck: hostile\nname: Hostile\ncards:\n  - id: c\n    front: f\n    back: b\n"
            "    tags: [" + ", ".join(f"t{i}" for i in range(n)) + "]\n")


def many_mistakes(n: int = 2000) -> str:
    mistakes = "".join(f"      - {{answer: 'x + {k}', message: m}}\n" for k in range(1, n + 1))
    return ("deck: hostile\nname: Hostile\ncards:\n  - id: f\n    type: formula\n"
            "    question: d/dx x²/2 = ?\n    answer: x\n    variables: [x]\n    mistakes:\n"
            + mistakes)


def many_numbers(n: int = 20_000) -> str:
    cards = "".join(f"  - {{id: c{i}, front: 'Take {i}, {i + 1} and {i + 2}.', back: b}}\n"
                    for i in range(n))
    return "deck: hostile\nname: Hostile\ncards:\n" + cards


def many_numbers_each(n: int = 20_000, k: int = 8) -> str:
    """Cards whose prompts have `k` numbers each, none a subset of another's."""
    cards = "".join(
        f"  - {{id: c{i}, front: 'Take {', '.join(str(i * k + j) for j in range(k))}.', back: b}}\n"
        for i in range(n))
    return "deck: hostile\nname: Hostile\ncards:\n" + cards


def lint_heavy(mb: float = 1, pattern: str = "a, ") -> str:
    """MCQs whose explanations (5,000 characters, the cap) are lists of choice letters:
    the letter-verdict pattern was quadratic in such a list."""
    body = (pattern * 5000)[:4990] + "x"
    card = ("  - {id: cID, type: mcq, question: q, choices: [one, two], answer: a, "
            f"explanation: '{body}'}}\n")
    n = int(mb * 1_000_000 / len(card))
    return "deck: hostile\nname: Hostile\ncards:\n" + "".join(
        card.replace("cID", f"c{i}") for i in range(n))


def long_line(mb: float = 1) -> str:
    body = "word " * int(mb * 1_000_000 / 5)
    return f"deck: hostile\nname: Hostile\ncards:\n  - id: c\n    front: {body}\n    back: b\n"


def many_fields(n: int = 20_000) -> str:
    fields = "".join(f"    field{i}: v\n" for i in range(n))
    return "deck: hostile\nname: Hostile\ncards:\n  - id: c\n    front: f\n    back: b\n" + fields


def controls() -> str:
    chars = "".join(f"\\x{c:02x}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]
                    if c not in (0x09, 0x0A))
    return ("deck: hostile\nname: \"Hostile \\e]0;pwned\\a\\e[2J\"\ncards:\n  - id: c\n"
            f"    front: \"{chars}\"\n    back: b\n    \"\\e]0;pwned\\a{chars}\": 1\n"
            "  - id: d\n    front: f\n")


def cases(big_mb: float) -> dict[str, Callable[[], str]]:
    return {
        "blank-lines": blank_lines,
        "aliases": aliases,
        "tags-40k": many_tags,
        "mistakes-2000": many_mistakes,
        "numbers-20k": many_numbers,
        "numbers8-20k": many_numbers_each,
        "lint-1mb": lint_heavy,
        "lint-spaces-1mb": lambda: lint_heavy(1, "choice" + " " * 40),
        "line-1mb": long_line,
        f"line-{big_mb:g}mb": lambda: long_line(big_mb),
        "fields-20k": many_fields,
        "controls": controls,
    }


def run(path: Path, env: dict, timeout: float) -> tuple[float, int | None, str]:
    cmd = [sys.executable, "-m", "quizforge", "validate", "--strict", str(path)]
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - t, None, ""
    seconds = time.perf_counter() - t
    text = (p.stdout + p.stderr).decode("utf-8", "replace")
    raw = [c for c in text if (ord(c) < 0x20 and c not in "\t\n") or 0x7F <= ord(c) < 0xA0]
    first = text.splitlines()[0] if text else ""
    first = first.replace(str(path.parent) + os.sep, "")
    if raw:
        first = f"[{len(raw)} RAW CONTROL CHARACTERS] " + first
    return seconds, p.returncode, first[:110]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--big-mb", type=float, default=50.0)
    parser.add_argument("--only", action="append", help="run only these cases")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QUIZFORGE_HOME": str(Path(tmp) / "home"),
               "QUIZFORGE_DECKS": "", "COLUMNS": "100"}
        for name, make in cases(args.big_mb).items():
            if args.only and name not in args.only:
                continue
            path = Path(tmp) / f"{name}.yaml"
            path.write_text(make(), encoding="utf-8")
            size = path.stat().st_size
            seconds, code, first = run(path, env, args.timeout)
            shown = f"> {args.timeout:.0f} s" if code is None else f"{seconds:6.2f} s"
            print(f"{name:14} {size / 1e6:8.3f} MB  {shown:>9}  exit {code}  {first}",
                  flush=True)


if __name__ == "__main__":
    main()
