"""A hard limit on the CPU time of work that could run long (checking a typed answer).

The limit counts the CPU time this process spends (user and system), not the time on the
wall clock: on a busy machine a check gets fewer cycles per second but the same number of
cycles, so a right answer is never refused because other programs are running. The work it
bounds (parsing, SymPy, evaluating at points) is CPU-bound, so it always runs out.

In the main thread of a POSIX process the limit is enforced with a CPU-time interval timer
(ITIMER_PROF, SIGPROF), nested limits included. Elsewhere (a worker thread, Windows) no
signal can be used: `time_limit` then yields False, and callers skip the optional slow step.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from quizforge.drill.errors import CheckTimeout

RETRY = 0.05  # CPU seconds between repeated interrupts once the limit has passed


class _Expired(BaseException):
    # BaseException, so that no `except Exception` inside SymPy swallows it.
    def __init__(self, token: object) -> None:
        super().__init__()
        self.token = token


def can_interrupt() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float) -> Iterator[bool]:
    """Raise CheckTimeout if the block uses more than `seconds` of CPU time; yields whether it
    is enforced.

    The timer re-fires every RETRY seconds until the block ends: an exception raised from a
    signal handler is lost when the signal lands in a garbage-collector callback or a
    `__del__` (Python reports it as "unraisable" and carries on), and a one-shot timer would
    then let a runaway simplification run unbounded.
    """
    if not can_interrupt():
        yield False
        return
    token = object()
    outer_handler = signal.getsignal(signal.SIGPROF)
    outer_left, _ = signal.getitimer(signal.ITIMER_PROF)
    started = time.process_time()
    finished = False

    def expire(signum, frame):
        if not finished:
            raise _Expired(token)

    budget = min(seconds, outer_left) if outer_left > 0 else seconds
    signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, budget, RETRY)
    try:
        try:
            yield True
        finally:
            finished = True  # from here on a late signal is ignored
            signal.setitimer(signal.ITIMER_PROF, 0)
    except _Expired as e:
        if e.token is not token:
            raise
        raise CheckTimeout(seconds) from None
    finally:
        signal.signal(signal.SIGPROF, outer_handler)
        if outer_left > 0:  # give the enclosing limit back what is left of its time
            left = outer_left - (time.process_time() - started)
            signal.setitimer(signal.ITIMER_PROF, max(left, 0.001), RETRY)
