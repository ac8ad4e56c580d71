"""Domain exceptions. The library raises these; only the CLI turns them into exits."""


class QuizforgeError(Exception):
    """Base class: a failed operation the user can act on (exit code 1)."""


class DeckError(QuizforgeError):
    """A deck could not be found, loaded, or is empty."""


class StoreError(QuizforgeError):
    """The SQLite store cannot be opened or is in an unexpected state."""


class ConfigError(QuizforgeError):
    """The config file has a bad value."""


class ImportFileError(QuizforgeError):
    """A file given to `quizforge import` cannot be read as any format it knows."""
