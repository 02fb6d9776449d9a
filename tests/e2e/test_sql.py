"""pgvector-style SQL through the real server with psycopg: DDL, DML, kNN, relational SQL."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import psycopg
import pytest


@pytest.fixture
def items(conn: psycopg.Connection):
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    conn.execute("DROP TABLE IF EXISTS items")
    conn.execute(
        "CREATE TABLE items (id bigserial PRIMARY KEY, body text, tenant int NOT NULL DEFAULT 0,"
        " score real, weight double precision, big bigint, flag boolean, meta jsonb,"
        " embedding vector(3))"
    )
    conn.execute(
        "INSERT INTO items (body, tenant, score, weight, big, flag, meta, embedding) VALUES "
        "('alpha', 1, 1.5, 0.25, 10000000000, true, '{\"k\": \"a\", \"n\": 1}', '[1,2,3]'),"
        "('beta', 1, 2.5, 0.5, 2, false, '{\"k\": \"b\", \"n\": 2}', '[4,5,6]'),"
        "('gamma', 2, 3.5, 0.75, 3, true, '{\"k\": \"c\", \"n\": 3}', '[1,1,1]'),"
        "('delta', 2, NULL, 1.0, 4, NULL, NULL, '[-1,0,2]'),"
        "('epsilon', 3, 5.0, 2.0, 5, false, '{\"k\": \"e\"}', NULL)"
    )
    yield conn
    conn.execute("DROP TABLE IF EXISTS items")


def test_select_types_come_back_as_python_values(items):
    row = items.execute(
        "SELECT id, body, tenant, score, weight, big, flag, meta, embedding FROM items WHERE id = 1"
    ).fetchone()
    assert row == (1, "alpha", 1, 1.5, 0.25, 10000000000, True, {"k": "a", "n": 1}, "[1,2,3]")
    cur = items.execute("SELECT id, body, weight, flag, meta, embedding FROM items LIMIT 1")
    oids = [d.type_code for d in cur.description]
    vec_oid = items.execute("SELECT oid FROM pg_type WHERE typname = 'vector'").fetchone()[0]
    assert oids == [20, 25, 701, 16, 3802, vec_oid]


def test_pg_type_has_vector(items):
    rows = items.execute("SELECT oid, typname FROM pg_type WHERE typname = 'vector'").fetchall()
    assert len(rows) == 1 and rows[0][1] == "vector" and rows[0][0] > 16384


def test_where_operators(items):
    def ids(where: str, params=()) -> list[int]:
        sql = f"SELECT id FROM items WHERE {where} ORDER BY id"
        return [r[0] for r in items.execute(sql, params or None).fetchall()]

    assert ids("tenant = 1 AND flag") == [1]
    assert ids("tenant = 1 OR tenant = 3") == [1, 2, 5]
    assert ids("NOT (tenant = 1)") == [3, 4, 5]
    assert ids("tenant IN (2, 3)") == [3, 4, 5]
    assert ids("score BETWEEN 2 AND 4") == [2, 3]
    assert ids("body LIKE '%ta'") == [2, 4]
    assert ids("body ILIKE 'AL%'") == [1]
    assert ids("score IS NULL") == [4]
    assert ids("flag IS NOT NULL AND NOT flag") == [2, 5]
    assert ids("meta->>'k' = 'b'") == [2]
    assert ids("tenant = %s AND body <> %s", (2, "gamma")) == [4]


@pytest.mark.parametrize(
    "op,expected",
    [
        ("<->", [3, 1, 4, 2]),  # L2 from [1,1,2]
        ("<=>", [1, 2, 3, 4]),
        ("<#>", [2, 1, 3, 4]),
        ("<+>", [3, 1, 4, 2]),
    ],
)
def test_knn_operators(items, op, expected):
    rows = items.execute(
        f"SELECT id, embedding {op} '[1,1,2]' AS dist FROM items "
        f"ORDER BY embedding {op} '[1,1,2]' LIMIT 4"
    ).fetchall()
    assert [r[0] for r in rows] == expected
    vecs = {1: [1, 2, 3], 2: [4, 5, 6], 3: [1, 1, 1], 4: [-1, 0, 2]}
    q = np.array([1, 1, 2], dtype=np.float64)
    for rid, dist in rows:
        v = np.array(vecs[rid], dtype=np.float64)
        want = {
            "<->": np.linalg.norm(v - q),
            "<=>": 1 - v @ q / (np.linalg.norm(v) * np.linalg.norm(q)),
            "<#>": -(v @ q),
            "<+>": np.abs(v - q).sum(),
        }[op]
        assert dist == pytest.approx(want, rel=1e-6, abs=1e-6)


def test_knn_with_filter_limit_offset_and_params(items):
    rows = items.execute(
        "SELECT id FROM items WHERE tenant = %s ORDER BY embedding <-> %s LIMIT 1 OFFSET 1",
        (1, "[4,5,6]"),
    ).fetchall()
    assert rows == [(1,)]
    rows = items.execute(
        "SELECT body FROM items ORDER BY embedding <-> %s::vector LIMIT %s", ("[4,5,6]", 2)
    ).fetchall()
    assert rows == [("beta",), ("alpha",)]


def test_knn_query_vector_from_subquery(items):
    rows = items.execute(
        "SELECT id FROM items WHERE id <> 2 "
        "ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 2) LIMIT 2"
    ).fetchall()
    assert rows == [(1,), (3,)]


def test_null_vectors_sort_last_when_limit_exceeds(items):
    rows = items.execute(
        "SELECT id FROM items ORDER BY embedding <-> '[1,1,1]' LIMIT 10"
    ).fetchall()
    assert [r[0] for r in rows] == [3, 1, 4, 2, 5]


def test_distance_in_where_and_select_without_knn(items):
    rows = items.execute(
        "SELECT id, round((embedding <-> '[1,1,1]')::numeric, 3) FROM items "
        "WHERE embedding <-> '[1,1,1]' < 3 ORDER BY id"
    ).fetchall()
    assert [r[0] for r in rows] == [1, 3, 4]


def test_relational_sql(items):
    assert items.execute("SELECT count(*) FROM items").fetchone() == (5,)
    rows = items.execute(
        "SELECT tenant, count(*), sum(big) FROM items GROUP BY tenant ORDER BY tenant"
    ).fetchall()
    assert rows == [(1, 2, 10000000002), (2, 2, 7), (3, 1, 5)]
    assert items.execute("SELECT 7 / 2, 7.0 / 2, -7 / 2").fetchone()[0:1] == (3,)
    items.execute("DROP TABLE IF EXISTS tenants")
    items.execute("CREATE TABLE tenants (id int PRIMARY KEY, name text)")
    items.execute("INSERT INTO tenants VALUES (1, 'one'), (2, 'two')")
    rows = items.execute(
        "SELECT t.name, count(i.id) AS n FROM tenants t JOIN items i ON i.tenant = t.id "
        "GROUP BY t.name ORDER BY t.name"
    ).fetchall()
    assert rows == [("one", 2), ("two", 2)]
    items.execute("DROP TABLE tenants")


def test_column_names_match_postgres(items):
    cur = items.execute(
        "SELECT count(*), id, body AS b, embedding <-> '[1,1,1]', 1 + 1, sum(id) "
        "FROM items GROUP BY id, body, embedding LIMIT 1"
    )
    assert [d.name for d in cur.description] == ["count", "id", "b", "?column?", "?column?", "sum"]


def test_insert_returning_update_delete(items):
    row = items.execute(
        "INSERT INTO items (body, embedding) VALUES (%s, %s) RETURNING id, embedding",
        ("zeta", "[0.5, 0.25, -2]"),
    ).fetchone()
    assert row == (6, "[0.5,0.25,-2]")
    cur = items.execute("UPDATE items SET embedding = '[9,9,9]', body = 'z' WHERE id = 6")
    assert cur.rowcount == 1 and cur.statusmessage == "UPDATE 1"
    assert items.execute("SELECT body, embedding FROM items WHERE id = 6").fetchone() == (
        "z",
        "[9,9,9]",
    )
    top = items.execute("SELECT id FROM items ORDER BY embedding <-> '[9,9,9]' LIMIT 1").fetchone()
    assert top == (6,)
    cur = items.execute("DELETE FROM items WHERE tenant = 0")
    assert cur.statusmessage == "DELETE 1"
    assert items.execute("SELECT count(*) FROM items").fetchone() == (5,)


def test_executemany_and_prepared(items):
    with items.cursor() as cur:
        cur.executemany(
            "INSERT INTO items (body, tenant, embedding) VALUES (%s, %s, %s)",
            [(f"m{i}", 7, f"[{i},{i},{i}]") for i in range(20)],
        )
    for _ in range(7):  # psycopg prepares server-side after 5 runs
        rows = items.execute(
            "SELECT body FROM items WHERE tenant = %s ORDER BY embedding <-> %s LIMIT 3",
            (7, "[10,10,10]"),
        ).fetchall()
        assert rows == [("m10",), ("m9",), ("m11",)] or rows == [("m10",), ("m11",), ("m9",)]
    rows = items.execute(
        "SELECT body FROM items WHERE tenant = %s ORDER BY embedding <-> %s LIMIT 3",
        (7, "[10,10,10]"),
        prepare=True,
    ).fetchall()
    assert rows[0] == ("m10",)


def test_transactions_commit_and_rollback(server, items):
    with psycopg.connect(server.dsn()) as c:  # autocommit off: psycopg sends BEGIN
        c.execute("INSERT INTO items (body, embedding) VALUES ('tx', '[7,7,7]')")
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        c.rollback()
        assert c.execute("SELECT count(*) FROM items WHERE body = 'tx'").fetchone() == (0,)
        c.execute("INSERT INTO items (body, embedding) VALUES ('tx2', '[7,7,7]')")
        c.commit()
    assert items.execute("SELECT count(*) FROM items WHERE body = 'tx2'").fetchone() == (1,)
    top = items.execute("SELECT body FROM items ORDER BY embedding <-> '[7,7,7]' LIMIT 1")
    assert top.fetchone() == ("tx2",)


def test_set_show(conn):
    assert conn.execute("SHOW hnsw.ef_search").fetchone() == ("40",)
    conn.execute("SET hnsw.ef_search = 100")
    assert conn.execute("SHOW hnsw.ef_search").fetchone() == ("100",)
    conn.execute("SET search_path TO public")
    assert conn.execute("SHOW search_path").fetchone() == ("public",)
    conn.execute("SET client_encoding TO 'UTF8'")
    assert conn.execute("SHOW client_encoding").fetchone() == ("UTF8",)
    conn.execute("RESET hnsw.ef_search")
    assert conn.execute("SHOW hnsw.ef_search").fetchone() == ("40",)


def test_jsonb_roundtrip(items):
    meta = items.execute("SELECT meta FROM items WHERE id = 2").fetchone()[0]
    assert meta == {"k": "b", "n": 2}
    items.execute(
        "INSERT INTO items (body, meta) VALUES (%s, %s)",
        ("j", psycopg.types.json.Jsonb({"x": [1, 2], "y": None})),
    )
    got = items.execute("SELECT meta FROM items WHERE body = 'j'").fetchone()[0]
    assert got == {"x": [1, 2], "y": None}
    assert json.loads(json.dumps(got)) == got


def test_async_psycopg(server):
    asyncio.run(_async_round(server))


async def _async_round(server):
    async with await psycopg.AsyncConnection.connect(server.dsn(), autocommit=False) as c:
        await c.execute("DROP TABLE IF EXISTS a_items")
        await c.execute("CREATE TABLE a_items (id int PRIMARY KEY, e vector(2))")
        await c.execute("INSERT INTO a_items VALUES (1, '[0,1]'), (2, '[1,0]')")
        await c.commit()
        cur = await c.execute("SELECT id FROM a_items ORDER BY e <=> %s LIMIT 1", ("[0.9,0.1]",))
        assert await cur.fetchone() == (2,)
        await c.execute("DROP TABLE a_items")
        await c.commit()


def test_unquoted_identifiers_fold_to_lower_case(conn):
    conn.execute('CREATE TABLE MixedCase (Id int, "Quoted" int, E vector(2))')
    conn.execute("INSERT INTO MIXEDCASE (ID, \"Quoted\", e) VALUES (1, 2, '[1,0]')")
    assert conn.execute('SELECT id, "Quoted" FROM mixedcase').fetchone() == (1, 2)
    cur = conn.execute("SELECT ID AS Answer FROM MixedCase ORDER BY E <-> '[1,0]' LIMIT 1")
    assert cur.fetchone() == (1,) and cur.description[0].name == "answer"
    assert conn.execute(
        "SELECT relname FROM pg_class WHERE relname ILIKE 'mixedcase'"
    ).fetchall() == [("mixedcase",)]
    conn.execute('DROP TABLE "mixedcase"')


def test_values_columns_are_named_as_in_postgres(conn):
    cur = conn.execute("VALUES (1, 'a'), (2, 'b')")
    assert [d.name for d in cur.description] == ["column1", "column2"]
    assert cur.fetchall() == [(1, "a"), (2, "b")]
    cur = conn.execute("VALUES (2, 'b'), (1, 'a') ORDER BY 1 LIMIT 1")
    assert cur.fetchall() == [(1, "a")]
    sql = "SELECT column2, column1 FROM (VALUES (1, 'a'), (2, 'b')) t WHERE column1 > 1"
    cur = conn.execute(sql)
    assert [d.name for d in cur.description] == ["column2", "column1"]
    assert cur.fetchall() == [("b", 2)]
    cur = conn.execute("SELECT * FROM (VALUES (1, 'a')) t(x, y)")  # given names are kept
    assert [d.name for d in cur.description] == ["x", "y"]
