"""The current time. QUIZFORGE_NOW (ISO 8601) pins it, for tests and simulated study days."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from quizforge.errors import QuizforgeError


def now() -> datetime:
    fixed = os.environ.get("QUIZFORGE_NOW")
    if fixed:
        try:
            t = datetime.fromisoformat(fixed)
        except ValueError:
            raise QuizforgeError(f"QUIZFORGE_NOW is not an ISO 8601 time: {fixed!r}") from None
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        return t.astimezone(UTC)
    return datetime.now(UTC)
