"""Load balancing: pick the interval inside py-fsrs's fuzz range on a day with few reviews.

The range is py-fsrs's own (`FUZZ_RANGES`, the same arithmetic as its
`_get_fuzzed_interval`), so the memory model is unchanged: only where the fuzz lands moves.
The choice follows Anki 24.11's load balancer: each candidate day gets the weight 1 when
nothing is due on it, else (1 / reviews due)² · (1 / interval), and one day is drawn with
those weights from a generator seeded like the fuzz (card id and rep count), so the same
answer on the same store always gives the same day. As in Anki, intervals whose range
reaches past MAX_BALANCED_DAYS are fuzzed as usual (a count that far out says little).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from fsrs.scheduler import FUZZ_RANGES

MAX_BALANCED_DAYS = 90  # Anki's MAX_LOAD_BALANCE_INTERVAL

# Reviews already due on each study day from `first` to `last` (inclusive); days missing
# from the mapping have none. The caller reads them from the store; the scheduler stays pure.
DueCounts = Callable[[date, date], Mapping[date, int]]


def fuzz_range(interval_days: int, maximum_interval: int) -> tuple[int, int]:
    """(shortest, longest) whole-day interval py-fsrs's fuzz can give `interval_days`."""
    delta = 1.0
    for r in FUZZ_RANGES:
        delta += r["factor"] * max(min(float(interval_days), r["end"]) - r["start"], 0.0)
    lo = max(2, round(interval_days - delta))
    hi = min(round(interval_days + delta), maximum_interval)
    return min(lo, hi), hi


def weights(intervals: Sequence[int], due: Sequence[int]) -> list[float]:
    """Anki's weights: an empty day 1; else (1/count)² · (1/interval)."""
    return [1.0 if n == 0 else (1.0 / n) ** 2 / ivl for ivl, n in zip(intervals, due, strict=True)]


def choose(intervals: Sequence[int], due: Sequence[int], seed: int | None) -> int:
    """One interval, drawn with `weights`; the same seed always gives the same choice."""
    rng = random.Random(seed) if seed is not None else random.Random()
    return rng.choices(list(intervals), weights=weights(intervals, due))[0]


def spread_counts(counts: Mapping[date, int], days: Sequence[date]) -> list[int]:
    return [int(counts.get(d, 0)) for d in days]
