"""What the benchmarks share: timing a real command as a whole process."""

from __future__ import annotations

import subprocess
import time


def timed_runs(cmd: list[str], env: dict, runs: int) -> list[float]:
    """Wall seconds of `runs` runs of `cmd` (stdout discarded; a failing run raises)."""
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - t)
    return out
