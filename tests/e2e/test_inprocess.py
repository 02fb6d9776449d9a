"""`sqlfront.connect()`: the same SQL in process, on a data dir or in memory."""

from __future__ import annotations

import numpy as np
import pytest

import sqlfront
from engine.errors import PgError


def test_memory_connection_runs_vector_sql():
    with sqlfront.connect(":memory:") as c:
        cur = c.cursor()
        cur.execute("CREATE TABLE t (id int PRIMARY KEY, tag text, e vector(2))")
        cur.executemany("INSERT INTO t VALUES (%s, %s, %s)", [(1, "a", "[1,0]"), (2, "b", "[0,1]")])
        cur.execute("SELECT id, e FROM t WHERE tag = %s ORDER BY e <-> %s LIMIT 1", ("b", "[1,0]"))
        rid, vec = cur.fetchone()
        assert rid == 2
        np.testing.assert_array_equal(vec, np.array([0, 1], dtype=np.float32))
        assert [d[0] for d in cur.description] == ["id", "e"]


def test_path_connection_persists_and_rolls_back(tmp_path):
    c = sqlfront.connect(tmp_path / "db")
    cur = c.cursor()
    cur.execute("CREATE TABLE t (id int, e vector(2))")
    cur.execute("INSERT INTO t VALUES (1, '[1,1]')")
    c.commit()
    cur.execute("INSERT INTO t VALUES (2, '[2,2]')")
    c.rollback()
    with pytest.raises(PgError) as ei:
        cur.execute("INSERT INTO t VALUES (3, '[1,2,3]')")
    assert ei.value.sqlstate == "22000"
    c.rollback()
    c.close()
    c = sqlfront.connect(tmp_path / "db")
    cur = c.cursor()
    cur.execute("SELECT id FROM t ORDER BY e <-> '[2,2]' LIMIT 5")
    assert cur.fetchall() == [(1,)]
    c.close()
