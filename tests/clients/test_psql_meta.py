"""psql 15's meta-commands (`\\dt`, `\\d items`, `\\dx`, ...) against vecgres, compared with
what real PostgreSQL 15 + pgvector 0.8.0 prints for the same schema.

How the golden files in `psql/` were made (`psql/regen_from_postgres.sh` does it): psql 15
was run against a real PostgreSQL 15 holding the same two tables.  That server has no
pgvector, so the pgvector parts are hand-derived, the rest is verbatim:

* the vector column was created as `numeric[]`, which psql prints with the same width as
  `vector(3)`, and the text `numeric[]` was replaced by `vector(3)`; in `\\d+` its Storage
  `extended` was replaced by `external` (pgvector >= 0.6 declares STORAGE = external);
* the HNSW index was created as a btree index of the same name; its line under "Indexes:"
  was replaced by what pg_get_indexdef gives for pgvector's index, `hnsw (embedding
  vector_cosine_ops)` (pgvector's hnsw opclasses are not default ones, so it is shown), and
  `\\d items_embedding_idx`'s footer `btree, ...` by `hnsw, ...`;
* `\\dx` and `\\dT` are the rows Postgres returns after `CREATE EXTENSION vector` (plpgsql and
  vector 0.8.0 with its control-file comment; vector, halfvec and sparsevec in public),
  printed by that psql with the meta-command's title;
* `\\l` is \\l's own query restricted to `postgres`: vecgres has no template databases.

OIDs, sizes and owners never appear in these outputs (everything is owned by `postgres`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import ServerProc, run_psql, start_server

GOLDEN = Path(__file__).parent / "psql"

SCHEMA = [
    "CREATE EXTENSION IF NOT EXISTS vector",
    "CREATE TABLE items (id bigserial PRIMARY KEY, body text NOT NULL, tenant int DEFAULT 0, "
    "meta jsonb, embedding vector(3))",
    "CREATE TABLE docs (doc_id integer PRIMARY KEY, title varchar(200), "
    "score double precision, created timestamptz)",
    "CREATE TABLE defaults (a bigint DEFAULT 0, b int DEFAULT -1, c numeric DEFAULT 1.5, "
    "d text DEFAULT 'x', f boolean DEFAULT true, g jsonb DEFAULT '{}', "
    "i varchar(10) DEFAULT 'a', l timestamp DEFAULT current_timestamp, m int DEFAULT 1+2, "
    "n numeric(10,2) DEFAULT 3, o text DEFAULT 'it''s', p bigint DEFAULT -5, "
    '"Odd Col" text, r char(3))',
    "CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops)",
    "CREATE INDEX ON items (tenant)",
]

EXPECTED_VERSION = "PostgreSQL 15.8 (vecgres 0.1.0) on x86_64-pc-linux-gnu, compiled by gcc, 64-bit"


@pytest.fixture(scope="module")
def meta_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    """A server of its own: the shared one holds other tests' tables (e.g. `docs`)."""
    srv = start_server(tmp_path_factory.mktemp("psql_meta"))
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as conn:
            for stmt in SCHEMA:
                conn.execute(stmt)
            conn.execute(
                "INSERT INTO items (body, meta, embedding) VALUES "
                "('a', '{\"k\": 1}', '[1,0,0]'), ('b', NULL, '[0,1,0]')"
            )
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize(
    ("command", "golden"),
    [
        (r"\dt", "dt"),
        (r"\d", "d"),
        (r"\d items", "d_items"),
        (r"\d+ items", "dplus_items"),
        (r"\d docs", "d_docs"),
        (r"\d+ docs", "dplus_docs"),
        (r"\d defaults", "d_defaults"),
        (r"\di", "di"),
        (r"\d items_id_seq", "d_items_id_seq"),
        (r"\d items_pkey", "d_items_pkey"),
        (r"\d items_embedding_idx", "d_items_embedding_idx"),
        (r"\l", "l"),
        (r"\dn", "dn"),
        (r"\du", "du"),
        (r"\dx", "dx"),
        (r"\dT", "dT"),
    ],
)
def test_meta_command_matches_postgres(meta_server: ServerProc, command: str, golden: str):
    res = run_psql(meta_server, "-c", command)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert res.stdout == (GOLDEN / f"{golden}.out").read_text()


def test_describe_missing_relation_says_so(meta_server: ServerProc):
    res = run_psql(meta_server, "-c", r"\d nope")
    assert res.returncode == 1
    assert res.stderr.strip() == 'Did not find any relation named "nope".'


def test_pattern_selects_tables(meta_server: ServerProc):
    res = run_psql(meta_server, "-tA", "-c", r"\dt it*")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["public|items|table|postgres"]


def test_session_functions_and_reg_casts(meta_server: ServerProc):
    with psycopg.connect(meta_server.dsn(), autocommit=True) as conn:
        cur = conn.execute(
            "SELECT version(), current_database(), current_user, current_schema(), "
            "'items'::regclass::oid, to_regtype('vector')::oid, to_regclass('nope'), "
            "'items'::regclass"
        )
        row = cur.fetchone()
        names = [d.name for d in cur.description]
        items_oid = conn.execute(
            "SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname = 'items'"
        ).fetchone()[0]
    assert names == [
        "version",
        "current_database",
        "current_user",
        "current_schema",
        "oid",
        "to_regtype",
        "to_regclass",
        "regclass",
    ]
    assert row == (
        EXPECTED_VERSION,
        "postgres",
        "postgres",
        "public",
        items_oid,
        16385,
        None,
        "items",
    )
    assert items_oid >= 16384


def test_regclass_literals_agree_with_pg_class(meta_server: ServerProc):
    """Indexes and sequences have OIDs vecgres derives; a literal resolves to the same one."""
    with psycopg.connect(meta_server.dsn(), autocommit=True) as conn:
        for name in ("items", "items_pkey", "items_id_seq", "items_embedding_idx", "pg_class"):
            lit, listed = conn.execute(
                f"SELECT '{name}'::regclass::oid, "
                f"(SELECT c.oid FROM pg_class c WHERE c.relname = '{name}')"
            ).fetchone()
            assert lit == listed, name
            assert conn.execute(f"SELECT {lit}::oid::regclass").fetchone() == (name,)


def test_regclass_of_missing_relation_is_42p01(meta_server: ServerProc):
    with psycopg.connect(meta_server.dsn(), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable, match='relation "nope" does not exist'):
            conn.execute("SELECT 'nope'::regclass")


def test_catalog_follows_uncommitted_ddl(meta_server: ServerProc):
    """The pg_catalog relations are views over our catalog: transactional, always current."""
    q = "SELECT count(*) FROM pg_class WHERE relname = 'scratch'"
    with psycopg.connect(meta_server.dsn()) as conn:
        conn.execute("CREATE TABLE scratch (x int PRIMARY KEY, v vector(2))")
        assert conn.execute(q).fetchone() == (1,)
        cols = conn.execute(
            "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull "
            "FROM pg_attribute a WHERE a.attrelid = 'scratch'::regclass AND a.attnum > 0 "
            "ORDER BY a.attnum"
        ).fetchall()
        assert cols == [("x", "integer", True), ("v", "vector(2)", False)]
        conn.rollback()
        assert conn.execute(q).fetchone() == (0,)
        conn.rollback()


def test_pgvector_client_registers_types(meta_server: ServerProc):
    """pgvector.psycopg's register_vector looks `vector`, `bit`, `halfvec` up in pg_type."""
    import numpy as np
    from pgvector.psycopg import register_vector

    with psycopg.connect(meta_server.dsn(), autocommit=True) as conn:
        assert conn.execute("SELECT to_regtype('vector')::oid").fetchone() == (16385,)
        register_vector(conn)
        got = conn.execute("SELECT embedding FROM items WHERE body = 'a'").fetchone()[0]
    assert np.allclose(got.to_numpy(), [1, 0, 0])
