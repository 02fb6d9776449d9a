"""asyncpg against the real server: fetch/fetchrow/fetchval, cursors (Execute with a row limit
→ PortalSuspended), executemany, binary COPY (`copy_records_to_table`), transactions, its
type-introspection query, and pgvector's `register_vector` with numpy in and out."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable

import asyncpg
import numpy as np
import pytest
from asyncpg import introspection
from pgvector.asyncpg import register_vector

from tests.conftest import ServerProc

VECTOR_OID = 16385


def run(server: ServerProc, body: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
    """Connect asyncpg to `server`, run `body(conn)`, close."""

    async def main() -> None:
        conn = await asyncpg.connect(
            host=server.host, port=server.port, user="postgres", database="postgres"
        )
        try:
            await body(conn)
        finally:
            await conn.close()

    asyncio.run(asyncio.wait_for(main(), 120))


def _as_array(v: object) -> np.ndarray:
    return np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v, dtype=np.float32)


def test_fetch_fetchrow_fetchval_executemany(server: ServerProc) -> None:
    async def body(conn: asyncpg.Connection) -> None:
        assert await conn.fetchval("SELECT 1") == 1
        await conn.execute("DROP TABLE IF EXISTS ap_basic")
        await conn.execute("CREATE TABLE ap_basic (id int PRIMARY KEY, name text, score float8)")
        await conn.executemany(
            "INSERT INTO ap_basic VALUES ($1, $2, $3)",
            [(i, f"n{i}", i / 2) for i in range(20)],
        )
        rows = await conn.fetch("SELECT id, name FROM ap_basic WHERE id < $1 ORDER BY id", 3)
        assert [tuple(r) for r in rows] == [(0, "n0"), (1, "n1"), (2, "n2")]
        row = await conn.fetchrow("SELECT id, name, score FROM ap_basic WHERE name = $1", "n7")
        assert row is not None and (row["id"], row["name"], row["score"]) == (7, "n7", 3.5)
        assert await conn.fetchrow("SELECT id FROM ap_basic WHERE id = $1", 999) is None
        assert await conn.fetchval("SELECT count(*) FROM ap_basic") == 20
        # a prepared statement run again with other arguments
        stmt = await conn.prepare("SELECT name FROM ap_basic WHERE id = $1")
        assert [await stmt.fetchval(i) for i in (4, 5)] == ["n4", "n5"]
        assert [a.name for a in stmt.get_attributes()] == ["name"]
        # bad input is an error with Postgres's SQLSTATE, and the connection goes on
        with pytest.raises(asyncpg.UniqueViolationError) as err:
            await conn.execute("INSERT INTO ap_basic VALUES ($1, $2, $3)", 1, "dup", 0.0)
        assert err.value.sqlstate == "23505"
        with pytest.raises(asyncpg.UndefinedTableError):
            await conn.fetch("SELECT * FROM ap_no_such_table")
        assert await conn.fetchval("SELECT max(id) FROM ap_basic") == 19

    run(server, body)


def test_cursor_reads_in_batches(server: ServerProc) -> None:
    """Cursors send Execute with a row limit: PortalSuspended until the rows run out."""

    async def body(conn: asyncpg.Connection) -> None:
        await conn.execute("DROP TABLE IF EXISTS ap_cur")
        await conn.execute("CREATE TABLE ap_cur (id int)")
        await conn.executemany("INSERT INTO ap_cur VALUES ($1)", [(i,) for i in range(10)])
        async with conn.transaction():
            cur = await conn.cursor("SELECT id FROM ap_cur WHERE id >= $1 ORDER BY id", 2)
            assert [r["id"] for r in await cur.fetch(3)] == [2, 3, 4]
            assert [r["id"] for r in await cur.fetch(3)] == [5, 6, 7]
            assert [r["id"] for r in await cur.fetch(3)] == [8, 9]
            assert await cur.fetch(3) == []
            got = [r["id"] async for r in conn.cursor("SELECT id FROM ap_cur", prefetch=4)]
            assert sorted(got) == list(range(10))

    run(server, body)


def test_transactions(server: ServerProc) -> None:
    async def body(conn: asyncpg.Connection) -> None:
        await conn.execute("DROP TABLE IF EXISTS ap_tx")
        await conn.execute("CREATE TABLE ap_tx (id int PRIMARY KEY)")
        async with conn.transaction():
            await conn.execute("INSERT INTO ap_tx VALUES ($1)", 1)
            assert conn.is_in_transaction()
        assert not conn.is_in_transaction()
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await conn.execute("INSERT INTO ap_tx VALUES ($1)", 2)
                raise RuntimeError("roll back")
        tr = conn.transaction()
        await tr.start()
        await conn.execute("INSERT INTO ap_tx VALUES ($1)", 3)
        await tr.rollback()
        assert [r["id"] for r in await conn.fetch("SELECT id FROM ap_tx ORDER BY id")] == [1]

    run(server, body)


def test_type_introspection(server: ServerProc) -> None:
    """asyncpg's own catalog queries: its type lookup by OID (recursive CTE, `$1::oid[]`),
    which it runs for any type it has no codec for (here int8[] and vector)."""

    async def body(conn: asyncpg.Connection) -> None:
        rows = await conn.fetch(introspection.INTRO_LOOKUP_TYPES, [VECTOR_OID, 1016])
        by_oid = {r["oid"]: r for r in rows}
        assert by_oid[VECTOR_OID]["name"] == "vector"
        assert by_oid[VECTOR_OID]["ns"] == "public"
        assert by_oid[VECTOR_OID]["kind"] == b"b"  # "char", which asyncpg reads as bytes
        assert by_oid[1016]["name"] == "_int8" and by_oid[1016]["elemtype"] == 20
        assert by_oid[1016]["elemtype_name"] == "bigint"
        assert by_oid[VECTOR_OID]["elemtype_name"] == "-"  # 0::regtype::text, as in Postgres
        row = await conn.fetchrow("SELECT 0::regtype::text, 23::regtype::text, 0::regclass::text")
        assert list(row.items()) == [("text", "-"), ("text", "integer"), ("text", "-")]
        row = await conn.fetchrow(introspection.TYPE_BY_NAME, "vector", "public")
        assert row is not None and row["oid"] == VECTOR_OID and row["kind"] == b"b"
        # an int8[] result: asyncpg introspects the array type, then decodes it
        assert await conn.fetchval("SELECT ARRAY[1::bigint, 2, 3]") == [1, 2, 3]
        assert await conn.fetchval("SELECT $1::oid[]", [1, 2]) == [1, 2]

    run(server, body)


def test_register_vector_knn_and_binary_copy(server: ServerProc) -> None:
    rng = np.random.default_rng(7)
    data = rng.standard_normal((50, 8)).astype(np.float32)
    query = rng.standard_normal(8).astype(np.float32)

    async def body(conn: asyncpg.Connection) -> None:
        await conn.execute("DROP TABLE IF EXISTS ap_vec")
        await conn.execute(
            "CREATE TABLE ap_vec (id int PRIMARY KEY, tag text, embedding vector(8))"
        )
        await register_vector(conn)
        await conn.executemany(
            "INSERT INTO ap_vec VALUES ($1, $2, $3)",
            [(i, f"t{i % 3}", data[i]) for i in range(40)],
        )
        # binary COPY (asyncpg always copies records in binary), vector via the binary codec
        n = await conn.copy_records_to_table(
            "ap_vec",
            records=[(i, f"t{i % 3}", data[i]) for i in range(40, 50)],
            columns=["id", "tag", "embedding"],
        )
        assert n == "COPY 10"
        assert await conn.fetchval("SELECT count(*) FROM ap_vec") == 50
        got = await conn.fetchval("SELECT embedding FROM ap_vec WHERE id = $1", 45)
        np.testing.assert_array_equal(_as_array(got), data[45])

        rows = await conn.fetch(
            "SELECT id, embedding, embedding <=> $1 AS dist FROM ap_vec "
            "ORDER BY embedding <=> $1 LIMIT 5",
            query,
        )
        cos = 1 - (data @ query) / (np.linalg.norm(data, axis=1) * np.linalg.norm(query))
        assert [r["id"] for r in rows] == list(np.argsort(cos, kind="stable")[:5])
        for r in rows:
            np.testing.assert_array_equal(_as_array(r["embedding"]), data[r["id"]])
            assert r["dist"] == pytest.approx(cos[r["id"]], abs=1e-5)
        # with a filter parameter next to the vector one
        rows = await conn.fetch(
            "SELECT id FROM ap_vec WHERE tag = $2 ORDER BY embedding <-> $1 LIMIT 3", query, "t1"
        )
        l2 = np.linalg.norm(data - query, axis=1)
        t1 = [i for i in np.argsort(l2, kind="stable") if i % 3 == 1]
        assert [r["id"] for r in rows] == t1[:3]
        # a vector of the wrong dimension: pgvector's error and SQLSTATE
        with pytest.raises(asyncpg.DataError) as err:
            await conn.execute("INSERT INTO ap_vec VALUES ($1, $2, $3)", 99, "x", np.ones(3))
        assert err.value.sqlstate == "22000"

    run(server, body)


def test_parameter_types_drivers_rely_on(server: ServerProc) -> None:
    """asyncpg sends no parameter types: it encodes each value by the type the server's
    ParameterDescription gives, and decodes rows by the RowDescription of Describe."""

    async def body(conn: asyncpg.Connection) -> None:
        await conn.execute("DROP TABLE IF EXISTS ap_shapes")
        await conn.execute(
            "CREATE TABLE ap_shapes (id int PRIMARY KEY, name text, score float8, e vector(2))"
        )
        await register_vector(conn)
        # `$1,$2` with no space between them is two parameters, not a dollar-quoted string
        await conn.executemany(
            "INSERT INTO ap_shapes VALUES ($1,$2,$3,$4)",
            [(i, f"n{i}", i * 0.5, np.array([i, 1], np.float32)) for i in range(6)],
        )
        stmt = await conn.prepare("SELECT id FROM ap_shapes WHERE id = ANY($1) ORDER BY id")
        assert [t.oid for t in stmt.get_parameters()] == [1007]  # int4[]
        assert [r["id"] for r in await stmt.fetch([1, 3, 99])] == [1, 3]
        assert await conn.fetchval("SELECT $1 + 1", 41) == 42
        got = await conn.fetch(
            "SELECT id FROM ap_shapes WHERE e <-> $1 < $2 ORDER BY id",
            np.array([2, 1], np.float32),
            1.5,
        )
        assert [r["id"] for r in got] == [1, 2, 3]
        rows = await conn.fetch("DELETE FROM ap_shapes WHERE id >= $1 RETURNING id, name", 4)
        assert sorted((r["id"], r["name"]) for r in rows) == [(4, "n4"), (5, "n5")]
        row = await conn.fetchrow(
            "UPDATE ap_shapes SET score = $1 WHERE id = $2 RETURNING score, e", 9.0, 0
        )
        assert row is not None and row["score"] == 9.0
        np.testing.assert_array_equal(_as_array(row["e"]), [0, 1])
        # an ORDER BY distance to a NULL vector: Postgres sorts NULL distances (all rows)
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM (SELECT id FROM ap_shapes ORDER BY e <=> $1 LIMIT 10) s", None
            )
            == 4
        )

    run(server, body)


def test_pool_resets_connections_on_release(server: ServerProc) -> None:
    """A pool runs `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;` on
    each release: a setting made on a borrowed connection is gone for the next borrower."""

    async def main() -> None:
        pool = await asyncpg.create_pool(
            host=server.host, port=server.port, user="postgres", min_size=1, max_size=1
        )
        try:
            async with pool.acquire() as conn:
                await conn.execute("SET hnsw.ef_search = 77")
                assert await conn.fetchval("SHOW hnsw.ef_search") == "77"
            async with pool.acquire() as conn:
                assert await conn.fetchval("SHOW hnsw.ef_search") == "40"
                assert await conn.fetchval("SELECT $1::int * 2", 21) == 42
            assert await pool.fetchval("SELECT 7") == 7
        finally:
            await pool.close()

    asyncio.run(asyncio.wait_for(main(), 120))


def test_copy_in_and_out(server: ServerProc) -> None:
    """copy_to_table (text and csv COPY FROM STDIN), copy_from_table and copy_from_query (COPY
    TO STDOUT; with arguments asyncpg inlines them through `quote_literal($1::type::text)`)."""

    async def body(conn: asyncpg.Connection) -> None:
        await conn.execute("DROP TABLE IF EXISTS ap_copy")
        await conn.execute("CREATE TABLE ap_copy (id int, name text, e vector(2))")
        src = io.BytesIO(b"1\ta\t[1,2]\n2\tb'\\\\\t\\N\n")
        assert await conn.copy_to_table("ap_copy", source=src, format="text") == "COPY 2"
        src = io.BytesIO(b'3,c,"[3,4]"\n')
        assert await conn.copy_to_table("ap_copy", source=src, format="csv") == "COPY 1"
        out = io.BytesIO()
        assert await conn.copy_from_table("ap_copy", output=out, format="csv") == "COPY 3"
        assert sorted(out.getvalue().decode().splitlines()) == [
            '1,a,"[1,2]"',
            "2,b'\\,",
            '3,c,"[3,4]"',
        ]
        out = io.BytesIO()
        n = await conn.copy_from_query(
            "SELECT id, name FROM ap_copy WHERE name = $1 OR id > $2 ORDER BY id",
            "b'\\",
            2,
            output=out,
        )
        assert n == "COPY 2"
        assert out.getvalue() == b"2\tb'\\\\\n3\tc\n"

    run(server, body)
