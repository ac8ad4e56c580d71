"""FSRS recall probability inside SQL, so 100k cards are aggregated without leaving SQLite.

`Scheduler.retrievability` is the reference: R = (1 + F·t/S)^D with t the whole days
since the last review, S the stability, D = -w20 and F = 0.9^(1/D) - 1. The SQL below is
the same expression in the same order of operations, so it gives the same floats
(tests/test_report_calc.py checks it against Scheduler.retrievability card by card).
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

from quizforge.reports.scope import DAY_MS
from quizforge.scheduling.scheduler import Scheduler


@dataclass(frozen=True)
class RecallCurve:
    decay: float
    factor: float

    @classmethod
    def of(cls, scheduler: Scheduler) -> RecallCurve:
        decay = scheduler.decay
        return cls(decay=decay, factor=0.9 ** (1 / decay) - 1)

    def sql(self, now_ms: int, alias: str = "") -> tuple[str, list]:
        """Recall probability now of a reviewed card row (NULL stability: NULL)."""
        a = alias
        return (
            f"pow(1 + ? * MAX(0, (? - {a}last_review) / {DAY_MS}) / {a}stability, ?)",
            [self.factor, now_ms, self.decay],
        )

    def at_least_sql(self, now_ms: int, retention: float, alias: str = "") -> tuple[str, list]:
        """Recall now >= `retention`, without pow: R falls as t/S grows, and R = retention
        at t = S * k with k = (retention^(1/D) - 1) / F (k = 1 for 0.9, by FSRS's design)."""
        a = alias
        k = (retention ** (1 / self.decay) - 1) / self.factor
        return f"MAX(0, (? - {a}last_review) / {DAY_MS}) <= {a}stability * ?", [now_ms, k]

    def overdue_sql(self, now_ms: int, alias: str = "") -> tuple[str, list]:
        """A key that orders cards exactly as recall does, lowest recall = highest key
        (R falls as t/S grows), without calling pow."""
        a = alias
        return f"MAX(0, (? - {a}last_review) / {DAY_MS}) / {a}stability", [now_ms]


def ensure_pow(conn: sqlite3.Connection) -> None:
    """SQLite has pow() only when built with its math functions; add it when missing."""
    try:
        conn.execute("SELECT pow(2, 0.5)")
    except sqlite3.OperationalError:
        conn.create_function("pow", 2, math.pow, deterministic=True)
