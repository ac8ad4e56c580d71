# Marks the bundled deck folder as the package quizforge.bundled (see pyproject.toml).
