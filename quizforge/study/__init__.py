"""Study sessions: which card comes next, and what answering it does."""
