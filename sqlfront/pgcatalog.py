"""pg_catalog emulation: tables with real Postgres OIDs that catalog queries read.

Owns: the `__vg_pg` schema inside each database's DuckDB file, (re)built at first use, with
`pg_type` (every type we know, pgvector's `vector` with its fixed OID included) and
`pg_namespace`; `EMULATED` names the relations that `pg_catalog.X` / bare `X` resolve to.
DuckDB's own pg_catalog is not used: its OIDs do not join (see NOTES.md).
Issue 5 grows this into the full set psql, pgjdbc and SQLAlchemy query.
"""

from __future__ import annotations

import threading

import duckdb

from sqlfront.pgtypes import TYPES

SCHEMA = "__vg_pg"
EMULATED = frozenset({"pg_type", "pg_namespace"})
_VERSION = 1
_lock = threading.Lock()
_done: set[int] = set()


def ensure(cur: duckdb.DuckDBPyConnection, db_key: int) -> None:
    """Create or refresh the emulated catalog tables in this database (once per process)."""
    with _lock:
        if db_key in _done:
            return
        cur.execute("BEGIN")
        try:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            cur.execute(
                f"CREATE OR REPLACE TABLE {SCHEMA}.pg_type (oid BIGINT, typname VARCHAR, "
                "typnamespace BIGINT, typlen SMALLINT, typtype VARCHAR, typcategory VARCHAR, "
                "typelem BIGINT, typarray BIGINT, typbasetype BIGINT, typtypmod INTEGER, "
                "typnotnull BOOLEAN, typdelim VARCHAR, typrelid BIGINT, typinput VARCHAR, "
                "typoutput VARCHAR, typreceive VARCHAR, typsend VARCHAR)"
            )
            rows = []
            for t in TYPES.values():
                is_array = t.category == "A"
                rows.append(
                    (
                        t.oid,
                        t.name,
                        2200 if t.oid >= 16384 else 11,
                        t.typlen,
                        "b",
                        t.category,
                        t.elem_oid,
                        t.array_oid,
                        0,
                        -1,
                        False,
                        ",",
                        0,
                        "array_in" if is_array else f"{t.name}_in",
                        "array_out" if is_array else f"{t.name}_out",
                        "array_recv" if is_array else f"{t.name}_recv",
                        "array_send" if is_array else f"{t.name}_send",
                    )
                )
            cur.executemany(f"INSERT INTO {SCHEMA}.pg_type VALUES ({', '.join(['?'] * 17)})", rows)
            cur.execute(
                f"CREATE OR REPLACE TABLE {SCHEMA}.pg_namespace AS SELECT * FROM (VALUES "
                "(11::BIGINT, 'pg_catalog', 10::BIGINT), (2200, 'public', 10), "
                "(13000, 'information_schema', 10)) v(oid, nspname, nspowner)"
            )
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise
        _done.add(db_key)
