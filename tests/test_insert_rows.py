"""store.db.insert_rows: many rows to one INSERT, the same table as one INSERT a row."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from quizforge.store import db as store_db

_VALUE = st.one_of(st.none(), st.integers(-(1 << 63), (1 << 63) - 1),
                   st.floats(allow_nan=False), st.text(max_size=5))


def _tables(rows, per_statement):
    out = []
    for many in (False, True):
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (a, b, c)")
        if many:
            store_db.ROWS_PER_STATEMENT, saved = per_statement, store_db.ROWS_PER_STATEMENT
            try:
                store_db.insert_rows(conn, "INSERT INTO t (a, b, c) VALUES", 3, iter(rows))
            finally:
                store_db.ROWS_PER_STATEMENT = saved
        else:
            conn.executemany("INSERT INTO t (a, b, c) VALUES (?, ?, ?)", rows)
        out.append(conn.execute("SELECT rowid, a, b, c FROM t ORDER BY rowid").fetchall())
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_VALUE, _VALUE, _VALUE), max_size=40), st.integers(1, 7))
def test_insert_rows_writes_what_one_insert_a_row_writes(rows, per_statement):
    one_each, many = _tables(rows, per_statement)
    assert many == one_each


def test_insert_rows_at_the_edges_of_a_statement():
    for n in (0, 1, 99, 100, 101, 200, 250):
        rows = [(i, f"x{i}", i / 3) for i in range(n)]
        one_each, many = _tables(rows, 100)
        assert many == one_each and len(many) == n
