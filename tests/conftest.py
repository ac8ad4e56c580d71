import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Every test gets its own data dir and no user deck folders."""
    monkeypatch.setenv("QUIZFORGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("QUIZFORGE_DECKS", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("LC_ALL", "LC_CTYPE"):  # ambiguous_width "auto" reads the locale
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    from quizforge.cli.common import out, state

    state.deck_dirs = []
    out.draw_ambiguous_wide(False)


@pytest.fixture
def db():
    from quizforge.store.db import Database

    d = Database(":memory:")
    yield d
    d.close()
