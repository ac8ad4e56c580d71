"""Drill families: one module each, defining `FAMILY` (see quizforge.drill.family)."""
