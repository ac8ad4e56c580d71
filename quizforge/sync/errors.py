"""What `quizforge sync` can fail with."""

from quizforge.errors import QuizforgeError


class SyncError(QuizforgeError):
    """The sync folder cannot be used (missing, not a folder, read-only), or no folder was
    given: one line for the learner."""
