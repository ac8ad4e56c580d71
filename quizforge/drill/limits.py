"""A hard time limit for work that could run long (symbolic simplification of a typed answer).

In the main thread of a POSIX process the limit is enforced with a real-time interval timer
(SIGALRM), nested limits included. Elsewhere (a worker thread, Windows) no signal can be used:
`time_limit` then yields False, and callers skip the optional slow step instead.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from quizforge.drill.errors import CheckTimeout

RETRY = 0.05  # seconds between repeated interrupts once the limit has passed


class _Expired(BaseException):
    # BaseException, so that no `except Exception` inside SymPy swallows it.
    def __init__(self, token: object) -> None:
        super().__init__()
        self.token = token


def can_interrupt() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float) -> Iterator[bool]:
    """Raise CheckTimeout if the block runs longer than `seconds`; yields whether it is enforced.

    The timer re-fires every RETRY seconds until the block ends: an exception raised from a
    signal handler is lost when the signal lands in a garbage-collector callback or a
    `__del__` (Python reports it as "unraisable" and carries on), and a one-shot timer would
    then let a runaway simplification run unbounded.
    """
    if not can_interrupt():
        yield False
        return
    token = object()
    outer_handler = signal.getsignal(signal.SIGALRM)
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()
    finished = False

    def expire(signum, frame):
        if not finished:
            raise _Expired(token)

    budget = min(seconds, outer_left) if outer_left > 0 else seconds
    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, budget, RETRY)
    try:
        try:
            yield True
        finally:
            finished = True  # from here on a late signal is ignored
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Expired as e:
        if e.token is not token:
            raise
        raise CheckTimeout(seconds) from None
    finally:
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_left > 0:  # give the enclosing limit back what is left of its time
            left = outer_left - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), RETRY)
