"""Drill timings, run by hand: `python bench/bench_drill.py`. Prints figures; asserts nothing.

Every figure is taken on the path a user takes:

1. generate + grade, warm, for every family, difficulty and form, with the problem's own
   expected answer typed back (target: p95 ≤ 100 ms);
2. `quizforge drill FAMILY --check ANSWER` as a whole process, against a bare typer app that
   prints one line, and one that also imports numpy (the honest floor for a family whose
   tensors are numpy arrays; target: ≤ 1.5× that), and whether it imported SymPy (it must
   not for numbers) or numpy (only tensor families do);
3. time to the first problem on screen for `quizforge drill FAMILY`, in a pseudo-terminal
   (target: ≤ 0.5 s);
4. whether `quizforge --help` and `quizforge drill` import SymPy or numpy (they must not).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]


def quizforge() -> str:
    exe = shutil.which("quizforge") or str(Path(sys.executable).with_name("quizforge"))
    return exe


def bench_generate_and_grade(n: int = 100) -> None:
    from quizforge.drill import generate, grade
    from quizforge.drill.family import families

    print(f"generate + grade, warm ({n} seeds each), milliseconds")
    print(f"  {'family':>10} {'d':>2} {'form':>11} {'p50':>7} {'p95':>7} {'max':>7}")
    for fam in families().values():
        for difficulty in fam.difficulties:
            for form in fam.forms:
                p = generate(fam.name, 0, difficulty, form)  # warm up imports and caches
                grade(p, p.expected_text(0))
                times = []
                for seed in range(1000, 1000 + n):
                    # the answer text is prepared outside the timed region
                    answer = generate(fam.name, seed, difficulty, form).expected_text(0)
                    t0 = time.perf_counter()
                    v = grade(generate(fam.name, seed, difficulty, form), answer)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert v.correct, (fam.name, seed, difficulty, form, answer, v.feedback)
                print(f"  {fam.name:>10} {difficulty:>2} {form:>11} "
                      f"{statistics.median(times):7.2f} {pct(times, 0.95):7.2f} "
                      f"{max(times):7.2f}")


BARE = """\
import typer
app = typer.Typer()
@app.command()
def main(check: str = "") -> None:
    print("one line")
app()
"""


BARE_NUMPY = "import numpy\n" + BARE


def _run(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=False, env=env)
    return time.perf_counter() - t0


def bench_check_process(runs: int = 15) -> None:
    from quizforge.drill import generate
    from quizforge.drill.family import families

    # as installed by pip: bytecode cached (a PYTHONDONTWRITEBYTECODE shell recompiles every run)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["QUIZFORGE_HOME"] = tempfile.mkdtemp()
    floors = {}
    for name, text in (("bare", BARE), ("bare+numpy", BARE_NUMPY)):
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(text)
        times = [_run([sys.executable, f.name, "--check", "1"], env) for _ in range(runs)]
        floors[name] = statistics.median(times)
    print(f"whole process, median of {runs}: a bare typer app printing one line "
          f"{floors['bare'] * 1000:.0f} ms; the same importing numpy "
          f"{floors['bare+numpy'] * 1000:.0f} ms")
    for fam in families().values():
        p = generate(fam.name, 7, 1)
        answer = p.expected_text(0)
        argv = [quizforge(), "drill", fam.name, "--seed", "7", "--check", answer]
        times = [_run(argv, env) for _ in range(runs)]
        heavy = heavy_imports(argv[1:], env)
        floor = "bare+numpy" if "numpy" in heavy else "bare"
        print(f"  drill {fam.name:<10} --check {answer[:24]:<24} "
              f"{statistics.median(times) * 1000:5.0f} ms = "
              f"{statistics.median(times) / floors[floor]:4.2f}× {floor}; "
              f"imports {', '.join(heavy) or 'neither'}")


def bench_first_problem(runs: int = 5) -> None:
    try:
        import pexpect
    except ImportError:
        print("time to first problem: pexpect not installed (pip install -e '.[test]')")
        return
    from quizforge.drill.family import families

    env = {**os.environ, "COLUMNS": "80", "LINES": "40", "QUIZFORGE_HOME": tempfile.mkdtemp()}
    print(f"time to the first problem on screen (PTY, {runs} runs each)")
    for fam in families().values():
        times = []
        for i in range(runs):
            t0 = time.perf_counter()
            child = pexpect.spawn(quizforge(), ["drill", fam.name, "--seed", str(i)], env=env,
                                  encoding="utf-8", timeout=20, dimensions=(40, 80))
            child.expect("answer> ")
            times.append(time.perf_counter() - t0)
            child.sendline("q")
            child.expect(pexpect.EOF)
            child.close()
        print(f"  quizforge drill {fam.name:<10} median {statistics.median(times) * 1000:4.0f} "
              f"ms, max {max(times) * 1000:4.0f} ms")


def heavy_imports(argv: list[str], env: dict[str, str] | None = None) -> list[str]:
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "quizforge", *argv],
                         capture_output=True, text=True, check=False, env=env)
    modules = {line.rsplit("|", 1)[-1].strip().split(".")[0]
               for line in res.stderr.splitlines() if line.startswith("import time:")}
    return sorted(modules & {"sympy", "numpy", "mpmath"})


def bench_help_imports() -> None:
    for argv in (["--help"], ["drill"], ["drill", "backprop", "--help"]):
        times = [_run([quizforge(), *argv], dict(os.environ)) for _ in range(5)]
        print(f"quizforge {' '.join(argv)}: median {statistics.median(times) * 1000:.0f} ms; "
              f"heavy modules imported: {heavy_imports(argv) or 'none'}")


if __name__ == "__main__":
    bench_generate_and_grade()
    bench_check_process()
    bench_first_problem()
    bench_help_imports()
