"""psycopg 3 with pgvector's `register_vector`: numpy vectors in and out, text and binary
results, binary parameters, server-side prepared statements and pipeline mode."""

from __future__ import annotations

import numpy as np
import psycopg
from pgvector.psycopg import register_vector


def _as_array(v) -> np.ndarray:  # noqa: ANN001 - pgvector returns Vector or ndarray by version
    return np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v, dtype=np.float32)


def test_register_vector_text_and_binary(server):
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        register_vector(c)
        c.execute("DROP TABLE IF EXISTS pv")
        c.execute("CREATE TABLE pv (id int PRIMARY KEY, e vector(3))")
        c.execute("INSERT INTO pv VALUES (%s, %s)", (1, np.array([1, 2, 3], dtype=np.float32)))
        c.execute("INSERT INTO pv VALUES (%s, %s)", (2, np.array([3, 2, 1], dtype=np.float32)))
        q = np.array([3, 2, 1.5], dtype=np.float32)
        rows = c.execute("SELECT id, e FROM pv ORDER BY e <-> %s LIMIT 2", (q,)).fetchall()
        assert [r[0] for r in rows] == [2, 1]
        np.testing.assert_array_equal(_as_array(rows[0][1]), [3, 2, 1])
        cur = c.cursor(binary=True)
        rows = cur.execute(
            "SELECT id, e, e <-> %s AS d FROM pv ORDER BY e <-> %s LIMIT 2", (q, q)
        ).fetchall()
        assert [r[0] for r in rows] == [2, 1]
        np.testing.assert_array_equal(_as_array(rows[1][1]), [1, 2, 3])
        assert rows[0][2] == 0.5 and rows[1][2] == 2.5
        for _ in range(3):
            got = c.execute(
                "SELECT id FROM pv WHERE id > %s ORDER BY e <=> %s LIMIT 1", (0, q), prepare=True
            ).fetchone()
            assert got == (2,)
        with c.pipeline():
            c.execute("INSERT INTO pv VALUES (%s, %s)", (3, np.array([0, 0, 1], np.float32)))
            cur = c.execute("SELECT count(*) FROM pv")
        assert cur.fetchone() == (3,)
        c.execute("DROP TABLE pv")
