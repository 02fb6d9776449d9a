"""pg8000 (pure Python; extended protocol with unspecified parameter types, Describe of the
statement before Bind) against the real server: native and DB-API interfaces, and pgvector's
pg8000 registration (`to_regtype` in pg_type) with a kNN query on a vector parameter."""

from __future__ import annotations

import numpy as np
import pg8000.dbapi
import pg8000.native
import pytest
from pgvector import Vector
from pgvector.pg8000 import register_vector

from tests.conftest import ServerProc


def _native(server: ServerProc) -> pg8000.native.Connection:
    return pg8000.native.Connection(
        "postgres", host=server.host, port=server.port, database="postgres"
    )


def test_native_parameters_and_errors(server: ServerProc) -> None:
    conn = _native(server)
    try:
        conn.run("DROP TABLE IF EXISTS p8_basic")
        conn.run("CREATE TABLE p8_basic (id int PRIMARY KEY, name text, score float8)")
        for i in range(5):
            conn.run("INSERT INTO p8_basic VALUES (:i, :n, :s)", i=i, n=f"n{i}", s=i * 1.5)
        assert conn.run("SELECT name, score FROM p8_basic WHERE id = :i", i=3) == [["n3", 4.5]]
        assert conn.columns is not None and [c["name"] for c in conn.columns] == ["name", "score"]
        assert conn.run("SELECT count(*) FROM p8_basic WHERE id > :i", i=1) == [[3]]
        assert conn.row_count == 1
        # pg8000 describes the statement before Bind: RETURNING columns come from Describe
        assert conn.run(
            "INSERT INTO p8_basic VALUES (:i,:n,:s) RETURNING id, name", i=9, n="n9", s=0.0
        ) == [[9, "n9"]]
        assert conn.run("DELETE FROM p8_basic WHERE id = :i RETURNING score", i=9) == [[0.0]]
        conn.run("START TRANSACTION")
        conn.run("DELETE FROM p8_basic WHERE id = :i", i=0)
        conn.run("ROLLBACK")
        assert conn.run("SELECT count(*) FROM p8_basic") == [[5]]
        with pytest.raises(pg8000.native.DatabaseError) as err:
            conn.run("INSERT INTO p8_basic VALUES (:i, :n, :s)", i=1, n="dup", s=0.0)
        assert err.value.args[0]["C"] == "23505"
        with pytest.raises(pg8000.native.DatabaseError) as err:
            conn.run("SELECT * FROM p8_missing")
        assert err.value.args[0]["C"] == "42P01"
        assert conn.run("SELECT 1") == [[1]]
    finally:
        conn.close()


def test_dbapi(server: ServerProc) -> None:
    conn = pg8000.dbapi.connect("postgres", host=server.host, port=server.port, database="postgres")
    try:
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS p8_dbapi")
        cur.execute("CREATE TABLE p8_dbapi (id int PRIMARY KEY, name text)")
        cur.executemany("INSERT INTO p8_dbapi VALUES (%s, %s)", [(1, "a"), (2, "b"), (3, "c")])
        conn.commit()
        cur.execute("SELECT id, name FROM p8_dbapi WHERE id >= %s ORDER BY id", (2,))
        assert cur.fetchall() == ([2, "b"], [3, "c"])
        assert [d[0] for d in cur.description] == ["id", "name"]
        cur.execute("INSERT INTO p8_dbapi VALUES (%s, %s)", (4, "d"))
        conn.rollback()
        cur.execute("SELECT count(*) FROM p8_dbapi")
        assert cur.fetchone() == [3]
    finally:
        conn.close()


def test_register_vector_knn(server: ServerProc) -> None:
    rng = np.random.default_rng(5)
    data = rng.standard_normal((25, 3)).astype(np.float32)
    query = rng.standard_normal(3).astype(np.float32)
    conn = _native(server)
    try:
        conn.run("DROP TABLE IF EXISTS p8_vec")
        conn.run("CREATE TABLE p8_vec (id int PRIMARY KEY, embedding vector(3))")
        register_vector(conn)
        for i, v in enumerate(data):
            conn.run("INSERT INTO p8_vec VALUES (:i, :e)", i=i, e=v)
        rows = conn.run(
            "SELECT id, embedding FROM p8_vec ORDER BY embedding <=> :q LIMIT 5", q=query
        )
        cos = 1 - (data @ query) / (np.linalg.norm(data, axis=1) * np.linalg.norm(query))
        assert [r[0] for r in rows] == list(np.argsort(cos, kind="stable")[:5])
        for i, emb in rows:
            assert isinstance(emb, Vector)
            np.testing.assert_allclose(emb.to_numpy(), data[i], rtol=1e-6)
        # a Vector parameter, with the distance in the select list
        rows = conn.run(
            "SELECT id, embedding <-> :q AS d FROM p8_vec ORDER BY d LIMIT 1", q=Vector(data[9])
        )
        assert rows[0][0] == 9 and rows[0][1] == pytest.approx(0.0, abs=1e-6)
    finally:
        conn.close()
