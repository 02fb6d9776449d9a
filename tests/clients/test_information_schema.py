"""information_schema against the real server, compared with what PostgreSQL 15 answers for
the same table (the expected rows were read from a real Postgres 15, with the vector column's
rows as Postgres gives them for a type of an extension: `USER-DEFINED`, udt `public.vector`)."""

from __future__ import annotations

import psycopg
import pytest

TABLE = "is_probe"
DDL = (
    f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, a int NOT NULL, b varchar(20), "
    "c numeric(10,2), d timestamptz, e text DEFAULT 'x', g double precision, h boolean, "
    "k char(3), l date, embedding vector(3))"
)


@pytest.fixture(scope="module")
def is_conn(server):  # noqa: ANN001, ANN201
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute(f"DROP TABLE IF EXISTS {TABLE}")
        c.execute(DDL)
        yield c
        c.execute(f"DROP TABLE IF EXISTS {TABLE}")


def test_columns_like_postgres(is_conn: psycopg.Connection) -> None:
    rows = is_conn.execute(
        "SELECT table_catalog, table_schema, column_name, ordinal_position, column_default, "
        "is_nullable, data_type, character_maximum_length, character_octet_length, "
        "numeric_precision, numeric_precision_radix, numeric_scale, datetime_precision, "
        "udt_catalog, udt_schema, udt_name, dtd_identifier, is_identity, is_generated, "
        "is_updatable FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = %s ORDER BY ordinal_position",
        [TABLE],
    ).fetchall()
    tail = ("NO", "NEVER", "YES")
    pg = ("postgres", "pg_catalog")
    seq = f"nextval('{TABLE}_id_seq'::regclass)"
    assert rows == [
        ("postgres", "public", "id", 1, seq, "NO", "bigint", None, None, 64, 2, 0, None)
        + (*pg, "int8", "1", *tail),
        ("postgres", "public", "a", 2, None, "NO", "integer", None, None, 32, 2, 0, None)
        + (*pg, "int4", "2", *tail),
        ("postgres", "public", "b", 3, None, "YES", "character varying", 20, 80, None, None)
        + (None, None, *pg, "varchar", "3", *tail),
        ("postgres", "public", "c", 4, None, "YES", "numeric", None, None, 10, 10, 2, None)
        + (*pg, "numeric", "4", *tail),
        ("postgres", "public", "d", 5, None, "YES", "timestamp with time zone", None, None)
        + (None, None, None, 6, *pg, "timestamptz", "5", *tail),
        ("postgres", "public", "e", 6, "'x'::text", "YES", "text", None, 1073741824, None)
        + (None, None, None, *pg, "text", "6", *tail),
        ("postgres", "public", "g", 7, None, "YES", "double precision", None, None, 53, 2)
        + (None, None, *pg, "float8", "7", *tail),
        ("postgres", "public", "h", 8, None, "YES", "boolean", None, None, None, None, None)
        + (None, *pg, "bool", "8", *tail),
        ("postgres", "public", "k", 9, None, "YES", "character", 3, 12, None, None, None)
        + (None, *pg, "bpchar", "9", *tail),
        ("postgres", "public", "l", 10, None, "YES", "date", None, None, None, None, None, 0)
        + (*pg, "date", "10", *tail),
        ("postgres", "public", "embedding", 11, None, "YES", "USER-DEFINED", None, None, None)
        + (None, None, None, "postgres", "public", "vector", "11", *tail),
    ]


def test_tables_lists_ours_in_public(is_conn: psycopg.Connection) -> None:
    rows = is_conn.execute(
        "SELECT table_catalog, table_schema, table_name, table_type, is_insertable_into, "
        "is_typed FROM information_schema.tables WHERE table_name = %s",
        [TABLE],
    ).fetchall()
    assert rows == [("postgres", "public", TABLE, "BASE TABLE", "YES", "NO")]
    schemas = {
        r[0] for r in is_conn.execute("SELECT DISTINCT table_schema FROM information_schema.tables")
    }
    assert schemas == {"public", "pg_catalog", "information_schema"}  # never DuckDB's `main`
    pg = is_conn.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = 'pg_catalog' "
        "AND table_name IN ('pg_class', 'pg_tables') ORDER BY table_name"
    ).fetchall()
    assert pg == [("BASE TABLE",), ("VIEW",)]


def test_schemata(is_conn: psycopg.Connection) -> None:
    rows = is_conn.execute(
        "SELECT catalog_name, schema_name, schema_owner FROM information_schema.schemata "
        "ORDER BY schema_name"
    ).fetchall()
    assert rows == [
        ("postgres", "information_schema", "postgres"),
        ("postgres", "pg_catalog", "postgres"),
        ("postgres", "pg_toast", "postgres"),
        ("postgres", "public", "pg_database_owner"),
    ]


def test_table_constraints_and_key_columns(is_conn: psycopg.Connection) -> None:
    oid = is_conn.execute(f"SELECT '{TABLE}'::regclass::oid").fetchone()[0]
    rows = is_conn.execute(
        "SELECT constraint_catalog, constraint_schema, constraint_name, table_schema, "
        "constraint_type, is_deferrable, initially_deferred, enforced "
        "FROM information_schema.table_constraints WHERE table_name = %s "
        "ORDER BY constraint_type DESC, constraint_name",
        [TABLE],
    ).fetchall()
    tail = ("NO", "NO", "YES")
    assert rows == [
        ("postgres", "public", f"{TABLE}_pkey", "public", "PRIMARY KEY", *tail),
        ("postgres", "public", f"2200_{oid}_1_not_null", "public", "CHECK", *tail),
        ("postgres", "public", f"2200_{oid}_2_not_null", "public", "CHECK", *tail),
    ]
    keys = is_conn.execute(
        "SELECT k.constraint_name, k.column_name, k.ordinal_position, "
        "k.position_in_unique_constraint FROM information_schema.key_column_usage k "
        "JOIN information_schema.table_constraints c ON c.constraint_name = k.constraint_name "
        "WHERE c.constraint_type = 'PRIMARY KEY' AND k.table_name = %s",
        [TABLE],
    ).fetchall()
    assert keys == [(f"{TABLE}_pkey", "id", 1, None)]
    checks = is_conn.execute(
        "SELECT check_clause FROM information_schema.check_constraints WHERE constraint_name = %s",
        [f"2200_{oid}_2_not_null"],
    ).fetchall()
    assert checks == [("a IS NOT NULL",)]


def test_columns_follow_ddl_in_a_transaction(server) -> None:  # noqa: ANN001
    with psycopg.connect(server.dsn()) as c:
        c.execute("CREATE TABLE is_tx (x int)")
        cols = c.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'is_tx'"
        ).fetchall()
        assert cols == [("x", "integer")]
        c.rollback()
        left = c.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'is_tx'"
        ).fetchone()
        assert left == (0,)


def test_sequences_of_serial_columns(is_conn: psycopg.Connection) -> None:
    rows = is_conn.execute(
        "SELECT sequence_catalog, sequence_schema, data_type, numeric_precision, start_value, "
        "minimum_value, maximum_value, increment, cycle_option "
        "FROM information_schema.sequences WHERE sequence_name = %s",
        [f"{TABLE}_id_seq"],
    ).fetchall()
    assert rows == [
        ("postgres", "public", "bigint", 64, "1", "1", "9223372036854775807", "1", "NO")
    ]


def test_routines_list_pgvector_functions(is_conn: psycopg.Connection) -> None:
    rows = is_conn.execute(
        "SELECT routine_schema, routine_type, data_type, type_udt_name, routine_body, "
        "external_name, external_language, is_deterministic, is_null_call, security_type "
        "FROM information_schema.routines WHERE routine_name = 'cosine_distance' "
        "ORDER BY external_name"
    ).fetchall()
    row = ("public", "FUNCTION", "double precision", "float8", "EXTERNAL")
    tail = ("C", "YES", "YES", "INVOKER")
    assert rows == [
        (*row, "cosine_distance", *tail),
        (*row, "halfvec_cosine_distance", *tail),
        (*row, "sparsevec_cosine_distance", *tail),
    ]
    agg = is_conn.execute(
        "SELECT routine_type, data_type, type_udt_name FROM information_schema.routines "
        "WHERE routine_name = 'avg' AND type_udt_name = 'vector'"
    ).fetchall()
    assert agg == [(None, "USER-DEFINED", "vector")]  # aggregates have no routine_type
    ncols = len(is_conn.execute("SELECT * FROM information_schema.routines LIMIT 0").description)
    assert ncols == 82  # as in Postgres 15
