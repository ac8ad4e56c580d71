"""Serverless sync of the review log through a folder the learner already keeps in step
between machines (quizforge/sync/segment.py says the file format). Pure core: no terminal
code here; `quizforge.cli.sync` renders."""

from quizforge.sync.errors import SyncError
from quizforge.sync.run import SyncResult, sync, sync_root

__all__ = ["SyncError", "SyncResult", "sync", "sync_root"]
