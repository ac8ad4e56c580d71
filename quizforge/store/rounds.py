"""Mock interview rounds in the store: a round's row, its answers, and the rounds so far."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from quizforge.store.db import Database, from_ms, to_ms


def _padded(words: Sequence[str]) -> str:
    words = list(dict.fromkeys(words))
    return f" {' '.join(words)} " if words else ""


@dataclass(frozen=True)
class StoredAnswer:
    position: int
    deck_id: str
    card_id: str
    kind: str
    topics: tuple[str, ...]
    skills: tuple[str, ...]
    score: float
    rating: int
    seconds: float


@dataclass(frozen=True)
class StoredRound:
    id: int
    started_at: datetime
    ended_at: datetime | None
    minutes: int
    planned: int
    seed: int
    decks: tuple[str, ...]
    tags: tuple[str, ...]
    ended: str | None
    answers: tuple[StoredAnswer, ...]


def start_round(db: Database, started_at: datetime, minutes: int, planned: int, seed: int,
                decks: Sequence[str] = (), tags: Sequence[str] = ()) -> int:
    with db.atomic() as conn:
        cur = conn.execute(
            "INSERT INTO mock_rounds (started_at, minutes, planned, seed, decks, tags)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (to_ms(started_at), minutes, planned, seed, _padded(decks), _padded(tags)),
        )
        return cur.lastrowid


def insert_answer(conn: sqlite3.Connection, round_id: int, position: int, card_rowid: int,
                  kind: str, topics: Sequence[str], skills: Sequence[str], score: float,
                  rating: int, answered_at: datetime, duration_ms: int,
                  revlog_id: int | None) -> int:
    cur = conn.execute(
        "INSERT INTO mock_answers (round, position, card, kind, topics, skills, score, rating,"
        " answered_at, duration_ms, revlog) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (round_id, position, card_rowid, kind, _padded(topics), _padded(skills), score,
         rating, to_ms(answered_at), duration_ms, revlog_id),
    )
    return cur.lastrowid


def finish_round(db: Database, round_id: int, ended_at: datetime, ended: str) -> None:
    with db.atomic() as conn:
        conn.execute("UPDATE mock_rounds SET ended_at = ?, ended = ? WHERE id = ?",
                     (to_ms(ended_at), ended, round_id))


def load_rounds(db: Database, limit: int | None = None, before: int | None = None
                ) -> list[StoredRound]:
    """Rounds with at least one answer, oldest first: the last `limit` of them (all when
    None), only those before round id `before` when given."""
    where = "WHERE EXISTS (SELECT 1 FROM mock_answers a WHERE a.round = r.id)"
    args: list = []
    if before is not None:
        where += " AND r.id < ?"
        args.append(before)
    rows = db.conn.execute(
        f"SELECT * FROM mock_rounds r {where} ORDER BY r.id DESC LIMIT ?",
        [*args, -1 if limit is None else limit],
    ).fetchall()
    out = []
    for r in reversed(rows):
        answers = tuple(
            StoredAnswer(a["position"], a["deck_id"], a["card_id"], a["kind"],
                         tuple(a["topics"].split()), tuple(a["skills"].split()), a["score"],
                         a["rating"], a["duration_ms"] / 1000)
            for a in db.conn.execute(
                "SELECT a.*, c.deck_id, c.card_id FROM mock_answers a"
                " JOIN cards c ON c.id = a.card WHERE a.round = ? ORDER BY a.position",
                (r["id"],),
            )
        )
        out.append(StoredRound(r["id"], from_ms(r["started_at"]), from_ms(r["ended_at"]),
                               r["minutes"], r["planned"], r["seed"], tuple(r["decks"].split()),
                               tuple(r["tags"].split()), r["ended"], answers))
    return out
