"""Viz timings, run by hand: `python bench/bench_viz.py`. Prints figures; asserts nothing.

1. a terminal frame (contour + paths + table, rendered to ANSI text as the live screen does)
   at 120×40 and 80×24, for every step of the run (target: ≤ 30 ms); the contour raster is
   computed once per terminal size and reported on its own;
2. the worst case we could think of: 7 optimizers × 400 steps on Rosenbrock, colour on;
3. `quizforge viz --no-animate` and `--html` as whole processes;
4. whether `quizforge --help` imports numpy or SymPy (it must not).
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import time

from rich.console import Console

from quizforge.ui.viz import FrameCache, plot_size, render_frame, scene_for
from quizforge.viz import Settings, get_surface, trajectories


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]


def bench_frames(label: str, surface_name: str, settings: Settings, width: int,
                 height: int) -> None:
    surface = get_surface(surface_name)
    scene = scene_for(surface, settings, trajectories(surface, settings))
    cache = FrameCache(scene)
    console = Console(file=io.StringIO(), width=width, height=height, force_terminal=True,
                      color_system="truecolor", no_color=False)
    t0 = time.perf_counter()
    cache.raster(*plot_size(width, height, len(scene.paths)))
    raster_ms = (time.perf_counter() - t0) * 1000
    times, cpu = [], []
    for k in range(settings.steps + 1):
        console.file = io.StringIO()
        t0, c0 = time.perf_counter(), time.process_time()
        console.print(render_frame(scene, cache, k, width, height, status="running"))
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    lines = console.file.getvalue().count("\n")
    print(f"  {label} at {width}×{height} ({lines} lines), {len(times)} frames:\n"
          f"    wall  median {statistics.median(times):5.1f} ms, p95 {pct(times, 0.95):5.1f} ms, "
          f"max {max(times):5.1f} ms\n"
          f"    CPU   median {statistics.median(cpu):5.1f} ms, p95 {pct(cpu, 0.95):5.1f} ms, "
          f"max {max(cpu):5.1f} ms\n"
          f"    contour raster, once per terminal size: {raster_ms:5.1f} ms")


def bench_process(args: list[str], n: int = 5) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "quizforge", *args], check=True,
                       capture_output=True, env={"COLUMNS": "120", "PATH": "/usr/bin:/bin"})
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    import importlib
    import os

    importlib.import_module("numpy")  # imported once by the command; not part of a frame

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"terminal frames (render + print to ANSI text, colour on; target ≤ 30 ms); "
          f"{os.cpu_count()} CPUs, load average {load:.1f} — wall times include waiting for a "
          "CPU, CPU times do not")
    default = Settings(steps=50)
    bench_frames("notes' quadratic, 4 optimizers, 50 steps", "quadratic", default, 120, 40)
    bench_frames("notes' quadratic, 4 optimizers, 50 steps", "quadratic", default, 80, 24)
    worst = Settings(optimizers=("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
                                 "adamw"), start=(-1.5, 2.0), lr=0.001, steps=400)
    bench_frames("rosenbrock, 7 optimizers, 400 steps", "rosenbrock", worst, 120, 40)
    bench_frames("rosenbrock, 7 optimizers, 400 steps", "rosenbrock", worst, 200, 60)

    print("whole processes, median of 5")
    print(f"  quizforge viz --no-animate            {bench_process(['viz', '--no-animate']):6.0f} ms")
    print(f"  quizforge viz --html /tmp/bench.html  "
          f"{bench_process(['viz', '--html', '/tmp/bench_viz.html']):6.0f} ms")
    print(f"  quizforge --help                      {bench_process(['--help']):6.0f} ms")

    code = ("import sys; sys.argv = ['quizforge', '--help']\n"
            "from quizforge.cli import app\n"
            "try: app()\nexcept SystemExit: pass\n"
            "print('numpy' in sys.modules, 'sympy' in sys.modules, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    has_numpy, has_sympy = done.stderr.split()[-2:]
    print(f"quizforge --help imports numpy: {has_numpy}, SymPy: {has_sympy}")


if __name__ == "__main__":
    main()
