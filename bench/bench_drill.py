"""Drill timings, run by hand: `python bench/bench_drill.py`. Prints figures; asserts nothing.

1. generate + grade, warm, per difficulty and answer form (target: p95 < 100 ms);
2. time to the first problem on screen for `quizforge drill backprop`, in a pseudo-terminal
   (target: < 1 s);
3. whether `quizforge --help` imports SymPy (it must not), from `python -X importtime`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]


def bench_generate_and_grade(n: int = 150) -> None:
    from quizforge.drill import generate, grade
    from quizforge.drill.symbolic import node_gradients, to_str

    # warm up: imports, SymPy caches
    for form in ("number", "expression", "steps"):
        p = generate("backprop", 0, 2, form)
        grade(p, p.expected_expression(0) if form == "expression" else "1")
    print(f"generate + grade, warm ({n} seeds each), milliseconds")
    print(f"  {'difficulty':>10} {'form':>11} {'p50':>7} {'p95':>7} {'max':>7}")
    for difficulty in (1, 2, 3):
        for form in ("number", "expression", "steps"):
            times = []
            for seed in range(1000, 1000 + n):
                # the answer text is prepared outside the timed region
                ref = generate("backprop", seed, difficulty, form)
                if form == "expression":  # as a person writes it: with node names (2*z3*x)
                    answer = to_str(node_gradients(ref.graph)[ref.questions[0].wrt])
                elif form == "steps":
                    answer = "; ".join(f"{ref.gradients[s]:.4g}" for s in ref.steps(0))
                else:
                    answer = f"{ref.expected_value(0):.4g}"
                t0 = time.perf_counter()
                p = generate("backprop", seed, difficulty, form)
                v = grade(p, answer)
                times.append((time.perf_counter() - t0) * 1000)
                assert v.correct, (seed, difficulty, form, answer, v.feedback)
            print(f"  {difficulty:>10} {form:>11} {statistics.median(times):7.2f} "
                  f"{pct(times, 0.95):7.2f} {max(times):7.2f}")


def bench_first_problem(runs: int = 5) -> None:
    try:
        import pexpect
    except ImportError:
        print("time to first problem: pexpect not installed (pip install -e '.[test]')")
        return
    env = {**os.environ, "COLUMNS": "80", "LINES": "40"}
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        child = pexpect.spawn("quizforge", ["drill", "backprop", "--seed", str(i)], env=env,
                              encoding="utf-8", timeout=20, dimensions=(40, 80))
        child.expect("answer> ")
        times.append(time.perf_counter() - t0)
        child.sendline("q")
        child.expect(pexpect.EOF)
        child.close()
    print(f"time to first problem on screen (quizforge drill backprop, PTY, {runs} runs): "
          f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")


def bench_help_imports() -> None:
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "quizforge", "--help"],
                         capture_output=True, text=True, check=False)
    modules = [line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines()
               if line.startswith("import time:")]
    heavy = sorted({m.split(".")[0] for m in modules} & {"sympy", "numpy", "mpmath"})
    t0 = time.perf_counter()
    subprocess.run(["quizforge", "--help"], capture_output=True, check=False)
    elapsed = (time.perf_counter() - t0) * 1000
    print(f"quizforge --help: {elapsed:.0f} ms; heavy modules imported: {heavy or 'none'}")
    for argv in (["drill", "--help"], ["drill", "backprop", "--help"]):
        res = subprocess.run([sys.executable, "-X", "importtime", "-m", "quizforge", *argv],
                             capture_output=True, text=True, check=False)
        print(f"quizforge {' '.join(argv)}: imports sympy: {'sympy' in res.stderr}")


if __name__ == "__main__":
    bench_generate_and_grade()
    bench_first_problem()
    bench_help_imports()
