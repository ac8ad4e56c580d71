"""Honest rounding: which answers a person who keeps 3 significant figures can reach.

A family writes its hand computation once as `compute(r)`, calling `r(...)` on every
intermediate a person would write down (a forward value, a local gradient, a product, a sum).
`band(compute)` runs it exactly, with every intermediate rounded to nearest, down and up, and
with a fixed set of random up/down mixes, and returns the smallest and largest results,
widened by 0.5% of the exact answer: an answer inside is right. Works on floats and on arrays
(numpy, element by element).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

SIG = 3
MARGIN = 0.005  # the "plus 0.5%" on top of what rounding can reach
ABS_FLOOR = 1e-9  # an exact zero is still matched by a typed 0
MIXES = 24  # random up/down mixes, from a fixed seed (the band is a pure function)

Rounder = Callable[[Any], Any]


def _scalar(x: float, mode: str, rng: random.Random | None) -> float:
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return x
    scale = 10 ** (SIG - 1 - math.floor(math.log10(abs(x))))
    if mode == "mix":
        assert rng is not None
        mode = "down" if rng.random() < 0.5 else "up"
    if mode == "down":
        return math.floor(x * scale) / scale
    if mode == "up":
        return math.ceil(x * scale) / scale
    return round(x * scale) / scale


def rounder(mode: str, rng: random.Random | None = None) -> Rounder:
    """r(x) for mode exact | nearest | down | up | mix; arrays are rounded element by element."""

    def r(x: Any) -> Any:
        if mode == "exact":
            return x
        if hasattr(x, "shape") and getattr(x, "shape", ()) != ():
            import numpy as np

            flat = [_scalar(v, mode, rng) for v in np.asarray(x, dtype=float).ravel()]
            return np.array(flat, dtype=float).reshape(x.shape)
        return _scalar(x, mode, rng)

    return r


def round_sig(x: Any, sig: int = SIG) -> Any:
    """x rounded to `sig` significant figures (to nearest)."""
    if sig == SIG:
        return rounder("nearest")(x)
    x = float(x)
    if x == 0:
        return 0.0
    return round(x, sig - 1 - math.floor(math.log10(abs(x))))


def band(*computes: Callable[[Rounder], Any], mixes: int = MIXES) -> tuple[Any, Any]:
    """(lo, hi): the range of the computations over rounding choices, widened by MARGIN of the
    exact answer. Several computations are several natural orders of the same hand work
    ((p − y)/T and p/T − y/T): the band is their union."""
    bands = [_band(c, mixes) for c in computes]
    if len(bands) == 1:
        return bands[0]
    if hasattr(bands[0][0], "shape") and getattr(bands[0][0], "shape", ()) != ():
        import numpy as np

        return (np.minimum.reduce([lo for lo, _ in bands]),
                np.maximum.reduce([hi for _, hi in bands]))
    return min(lo for lo, _ in bands), max(hi for _, hi in bands)


def _band(compute: Callable[[Rounder], Any], mixes: int) -> tuple[Any, Any]:
    down, up = rounder("down"), rounder("up")
    needs_rounding = []

    def probe(x: Any) -> Any:
        if not needs_rounding and not (_same(down(x), x) and _same(up(x), x)):
            needs_rounding.append(True)
        return x

    exact = compute(probe)
    if needs_rounding:  # else every replay below would give the exact answer again
        results = [exact, compute(rounder("nearest")), compute(rounder("down")),
                   compute(rounder("up"))]
        rng = random.Random(20261127)
        results += [compute(rounder("mix", rng)) for _ in range(mixes)]
    else:
        results = [exact]
    if hasattr(exact, "shape") and getattr(exact, "shape", ()) != ():
        import numpy as np

        stack = np.stack([np.asarray(v, dtype=float) for v in results])
        margin = MARGIN * np.abs(exact) + ABS_FLOOR
        return stack.min(axis=0) - margin, stack.max(axis=0) + margin
    floats = [float(v) for v in results]
    margin = MARGIN * abs(float(exact)) + ABS_FLOOR
    return min(floats) - margin, max(floats) + margin


def _same(a: Any, b: Any) -> bool:
    if hasattr(a, "shape") or hasattr(b, "shape"):
        import numpy as np

        return bool(np.array_equal(a, b))
    return float(a) == float(b)  # NaN is never equal: it falls back to the full replay


def inside(answer: Any, lo: Any, hi: Any) -> bool:
    """Every element of `answer` lies within [lo, hi] (shapes already checked)."""
    if hasattr(lo, "shape") and getattr(lo, "shape", ()) != ():
        import numpy as np

        a = np.asarray(answer, dtype=float)
        return bool(np.all(np.isfinite(a)) and np.all(a >= lo) and np.all(a <= hi))
    a = float(answer)
    return math.isfinite(a) and lo <= a <= hi
