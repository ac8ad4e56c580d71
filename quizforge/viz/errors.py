"""Viz exceptions. The core raises these; the CLI turns them into one-line errors (exit 2)."""

from __future__ import annotations

from quizforge.errors import QuizforgeError


class VizError(QuizforgeError):
    """A visualization could not be set up: a bad --f formula, optimizer, start point, …"""
