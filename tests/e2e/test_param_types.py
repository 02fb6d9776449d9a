"""ParameterDescription gives concrete types for parameters Parse left unspecified."""

from __future__ import annotations

import psycopg

from sqlfront.pgtypes import FLOAT8_OID, INT4_OID, INT8_OID, TEXT_OID, VECTOR_OID


def _describe(conn: psycopg.Connection, name: str, sql: str) -> list[int]:
    pg = conn.pgconn
    res = pg.prepare(name.encode(), sql.encode())
    assert res.status == psycopg.pq.ExecStatus.COMMAND_OK, res.error_message
    desc = pg.describe_prepared(name.encode())
    return [desc.param_type(i) for i in range(desc.nparams)]


def test_parameter_types_are_inferred(conn):
    conn.execute("DROP TABLE IF EXISTS ptypes")
    conn.execute(
        "CREATE TABLE ptypes (id int PRIMARY KEY, body text, w double precision, e vector(2))"
    )
    oids = _describe(
        conn,
        "p1",
        "SELECT id FROM ptypes WHERE id = $1 AND body LIKE $2 AND w > $3 "
        "ORDER BY e <-> $4 LIMIT $5",
    )
    assert oids == [INT4_OID, TEXT_OID, FLOAT8_OID, VECTOR_OID, INT8_OID]
    assert _describe(conn, "p2", "INSERT INTO ptypes VALUES ($1, $2, $3, $4)") == [
        INT4_OID,
        TEXT_OID,
        FLOAT8_OID,
        VECTOR_OID,
    ]
    assert _describe(conn, "p3", "SELECT $1::bigint, $2") == [INT8_OID, TEXT_OID]
    # a typed value travels in binary and still lands right
    conn.execute("INSERT INTO ptypes VALUES (%b, %s, %b, %s)", (7, "x", 0.5, "[1,2]"))
    assert conn.execute("SELECT body, w FROM ptypes WHERE id = %s", (7,)).fetchone() == (
        "x",
        0.5,
    )
    conn.execute("DROP TABLE ptypes")


def test_parameter_types_drivers_need(conn):
    """Shapes asyncpg / node-postgres users write, typed as Postgres types them."""
    conn.execute("DROP TABLE IF EXISTS ptypes2")
    conn.execute("CREATE TABLE ptypes2 (id int PRIMARY KEY, e vector(2))")
    assert _describe(conn, "q1", "SELECT id FROM ptypes2 WHERE id = ANY($1)") == [1007]  # int4[]
    assert _describe(conn, "q2", "SELECT $1 + 1, $2 * 2.5, $3 - 10000000000") == [
        INT4_OID,
        1700,  # numeric
        INT8_OID,
    ]
    assert _describe(conn, "q3", "SELECT id FROM ptypes2 WHERE e <-> $1 < $2") == [
        VECTOR_OID,
        FLOAT8_OID,
    ]
    # asyncpg's introspection casts: `$1::oid[]`, and `$1,$2` with no space between them
    assert _describe(conn, "q4", "SELECT $1::oid[], $2::oid,$3::regclass") == [1028, 26, 2205]
    conn.execute("DROP TABLE ptypes2")
