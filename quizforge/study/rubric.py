"""Grading an explain card by its rubric: the learner ticks the key points their answer
covered, and the fraction ticked gives the FSRS rating.

The rule (honest, and the same in `study` and `mock`):

- every point covered: Good (an answer that misses nothing is what the card asks for);
- at least half of the points: Hard (the idea is there, with gaps);
- fewer than half: Again (the answer would not pass in an interview).

Easy is never given from a rubric: ticking every point says the answer was complete, not
that it came without effort.
"""

from __future__ import annotations

from fractions import Fraction

from quizforge.scheduling.scheduler import Rating

PASS_FRACTION = Fraction(1, 2)  # at least this share of the points: Hard rather than Again


class TickError(ValueError):
    """A line of ticks that names no point or a point the card does not have."""


def rubric_rating(ticked: int, points: int) -> Rating:
    """The rating for `ticked` of `points` rubric points."""
    if points <= 0 or not 0 <= ticked <= points:
        raise ValueError(f"cannot tick {ticked} of {points} points")
    if ticked == points:
        return Rating.GOOD
    if Fraction(ticked, points) >= PASS_FRACTION:
        return Rating.HARD
    return Rating.AGAIN


def parse_ticks(text: str, points: int) -> frozenset[int]:
    """The points (1-based) named in a line like "1 3 4", "1,3,4" or "134" (the points are
    at most 6, one digit each); an empty line ticks none. TickError for anything else."""
    ticked: set[int] = set()
    for ch in text.strip():
        if ch in " ,":
            continue
        if not ch.isdigit() or not 1 <= int(ch) <= points:
            raise TickError(f"type the numbers of the points you covered, 1 to {points} "
                            "(e.g. 1 3), or Enter for none")
        ticked.add(int(ch))
    return frozenset(ticked)
