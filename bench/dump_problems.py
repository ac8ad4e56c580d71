"""Dump generated drill problems, everything a learner or a grader sees of them, as JSON lines.

For each family, difficulty and form, `--seeds` problems: the JSON (`to_dict`), the prompt and
body, and per question the expected text, the value, the honest-rounding band, every named
mistake (kind, message, value), the hints, the worked solution, and the grade of the expected
text. Two dumps made before and after a change that must not change any problem (numpy in place
of a pure-Python copy of it, a refactoring) must be byte-identical:

    python bench/dump_problems.py > before.jsonl
    ... change ...
    python bench/dump_problems.py > after.jsonl && cmp before.jsonl after.jsonl

Texts (prompts, expected answers, hints, worked solutions) are written as they are; numbers
to 12 significant figures, with anything below 1e-12 written as 0 — far finer than any
screen or grade shows, and blind only to the last bit or two of a float, which depends on the
order in which a library adds up a sum (numpy's pairwise sums and BLAS matrix products against
a plain loop give the same value to within an ulp or two).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def plain(value: Any) -> Any:
    """Arrays and numpy scalars as nested lists of Python floats, to 12 significant figures."""
    if hasattr(value, "tolist"):
        return plain(value.tolist())
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        return repr(value)
    return 0.0 if abs(x) < 1e-12 else float(f"{x:.12g}")


def dump(problem: Any) -> dict[str, Any]:
    from quizforge.drill.check import grade
    from quizforge.drill.model import blocks_text

    out: dict[str, Any] = {
        "family": problem.family, "seed": problem.seed, "difficulty": problem.difficulty,
        "form": problem.form, "json": plain(problem.to_dict()),
        "body": blocks_text(problem.display()), "questions": [],
    }
    for i, q in enumerate(problem.questions):
        entry: dict[str, Any] = {"prompt": problem.prompt(i), "expected": problem.expected_text(i),
                                 "hints": list(problem.hints(i)),
                                 "solution": blocks_text(problem.solution(i))}
        if q.form == "number":
            t = problem.target(i)
            entry["target"] = {"value": plain(t.value), "lo": plain(t.lo), "hi": plain(t.hi),
                               "mistakes": [[m.kind, m.message, plain(m.value)]
                                            for m in t.mistakes]}
        verdict = grade(problem, problem.expected_text(i), i)
        entry["grade"] = [verdict.correct, verdict.score, verdict.mistake]
        out["questions"].append(entry)
    return out


def main(argv: list[str] | None = None) -> None:
    from quizforge.drill.family import families, generate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=43, help="problems per family and level")
    parser.add_argument("--family", action="append", help="only these families (repeatable)")
    args = parser.parse_args(argv)
    for name, fam in families().items():
        if args.family and name not in args.family:
            continue
        for difficulty in fam.difficulties:
            for form in fam.forms:
                for seed in range(args.seeds):
                    line = dump(generate(name, seed, difficulty, form))
                    sys.stdout.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
