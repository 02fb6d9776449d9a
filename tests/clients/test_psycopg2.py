"""psycopg2 (libpq, text parameters interpolated client-side) against the real server:
parameters, transactions, named (server-side) cursors, errors, and pgvector's
`register_vector` (which looks the types up with `to_regtype('vector')` in pg_type) with numpy
vectors in and out."""

from __future__ import annotations

import numpy as np
import psycopg2
import psycopg2.errors
import psycopg2.extras
import pytest
from pgvector.psycopg2 import register_vector

from tests.conftest import ServerProc


def _connect(server: ServerProc):  # noqa: ANN202 - psycopg2 has no type hints
    return psycopg2.connect(host=server.host, port=server.port, user="postgres", dbname="postgres")


def _as_array(v: object) -> np.ndarray:
    return np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v, dtype=np.float32)


def test_parameters_and_transactions(server: ServerProc) -> None:
    conn = _connect(server)
    try:
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS p2_basic")
        cur.execute("CREATE TABLE p2_basic (id int PRIMARY KEY, name text, score float8)")
        conn.commit()
        cur.executemany(
            "INSERT INTO p2_basic VALUES (%s, %s, %s)", [(i, f"n'{i}", i / 4) for i in range(8)]
        )
        conn.commit()
        cur.execute("INSERT INTO p2_basic VALUES (%s, %s, %s)", (100, "gone", 0.0))
        conn.rollback()
        cur.execute("SELECT id, name, score FROM p2_basic WHERE name = %(n)s", {"n": "n'3"})
        assert cur.fetchall() == [(3, "n'3", 0.75)]
        cur.execute("SELECT count(*) FROM p2_basic")
        assert cur.fetchone() == (8,)
        # a named (server-side) cursor: DECLARE ... CURSOR, FETCH FORWARD n, CLOSE
        with conn.cursor(name="p2_named") as named:
            named.itersize = 3
            named.execute("SELECT id, name FROM p2_basic WHERE id >= %s ORDER BY id", (2,))
            assert named.fetchone() == (2, "n'2")
            assert named.fetchmany(2) == [(3, "n'3"), (4, "n'4")]
            assert [r[0] for r in named] == [5, 6, 7]
        conn.commit()
        with conn.cursor(name="p2_held", withhold=True) as held:
            held.execute("SELECT id FROM p2_basic ORDER BY id")
            conn.commit()  # WITH HOLD: the cursor outlives its transaction
            assert held.fetchall() == [(i,) for i in range(8)]
        conn.commit()
        with pytest.raises(psycopg2.errors.InvalidCursorName):
            cur.execute('FETCH 1 FROM "p2_named"')
        conn.rollback()
        with pytest.raises(psycopg2.errors.UniqueViolation):
            cur.execute("INSERT INTO p2_basic VALUES (%s, %s, %s)", (1, "dup", 0.0))
        conn.rollback()
        with pytest.raises(psycopg2.errors.InvalidTextRepresentation) as err:
            cur.execute("SELECT %s::int", ("x",))
        assert err.value.pgcode == "22P02"
        conn.rollback()
    finally:
        conn.close()


def test_register_vector_knn(server: ServerProc) -> None:
    rng = np.random.default_rng(11)
    data = rng.standard_normal((30, 4)).astype(np.float32)
    query = rng.standard_normal(4).astype(np.float32)
    conn = _connect(server)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS p2_vec")
        cur.execute("CREATE TABLE p2_vec (id int PRIMARY KEY, embedding vector(4))")
        register_vector(conn)
        psycopg2.extras.execute_values(
            cur, "INSERT INTO p2_vec VALUES %s", [(i, data[i]) for i in range(len(data))]
        )
        cur.execute(
            "SELECT id, embedding, embedding <-> %s AS d FROM p2_vec ORDER BY embedding <-> %s "
            "LIMIT 5",
            (query, query),
        )
        rows = cur.fetchall()
        l2 = np.linalg.norm(data - query, axis=1)
        assert [r[0] for r in rows] == list(np.argsort(l2, kind="stable")[:5])
        for i, emb, d in rows:
            np.testing.assert_array_equal(_as_array(emb), data[i])
            assert d == pytest.approx(l2[i], rel=1e-5)
        cur.execute("SELECT embedding FROM p2_vec WHERE id = %s", (7,))
        np.testing.assert_array_equal(_as_array(cur.fetchone()[0]), data[7])
    finally:
        conn.close()


def test_sql_cursor_statements(server: ServerProc) -> None:
    conn = _connect(server)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        with pytest.raises(psycopg2.errors.NoActiveSqlTransaction) as err:
            cur.execute("DECLARE c1 CURSOR FOR SELECT 1")
        assert err.value.pgcode == "25P01"
        cur.execute("BEGIN")
        cur.execute("DECLARE c1 NO SCROLL CURSOR FOR SELECT g FROM generate_series(1, 10) t(g)")
        cur.execute("MOVE 3 IN c1")
        assert cur.statusmessage == "MOVE 3"
        cur.execute("FETCH 2 FROM c1")
        assert cur.fetchall() == [(4,), (5,)]
        cur.execute("FETCH NEXT c1")
        assert cur.fetchall() == [(6,)]
        cur.execute("FETCH ALL FROM c1")
        assert cur.fetchall() == [(7,), (8,), (9,), (10,)]
        assert cur.statusmessage == "FETCH 4"
        cur.execute("FETCH c1")
        assert cur.fetchall() == []
        with pytest.raises(psycopg2.errors.DuplicateCursor):
            cur.execute("DECLARE c1 CURSOR FOR SELECT 1")
        cur.execute("ROLLBACK")
        cur.execute("BEGIN")
        cur.execute("DECLARE c2 CURSOR FOR SELECT 1")
        with pytest.raises(psycopg2.errors.FeatureNotSupported):
            cur.execute("FETCH BACKWARD 1 FROM c2")
        cur.execute("ROLLBACK")
        with pytest.raises(psycopg2.errors.InvalidCursorName):
            cur.execute("CLOSE c2")  # ended with its transaction
    finally:
        conn.close()
