"""quizforge: spaced-repetition flashcards and hand-gradient drills for ML interviews."""

__version__ = "0.1.0"
