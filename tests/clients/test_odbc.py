"""psqlODBC (Debian's odbc-postgresql, through unixODBC) driven with pyodbc against the real
server: a driver-path connection string (no DSN), catalog functions (SQLTables, SQLColumns,
SQLPrimaryKeys, SQLStatistics, which read pg_catalog; SQLPrimaryKeys subscripts the int2vector
`pg_index.indkey` from 0) and a parameterized kNN query.  scripts/test.sh installs the driver.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator

import pyodbc
import pytest
from conftest import ServerProc

TABLE = "odbc_items"


def _driver() -> str:
    found = sorted(glob.glob("/usr/lib/*/odbc/psqlodbcw.so"))
    assert found, "psqlODBC (odbc-postgresql) is not installed: run scripts/test.sh"
    return found[0]


@pytest.fixture(scope="module")
def odbc(server: ServerProc) -> Iterator[pyodbc.Connection]:
    cs = (
        f"Driver={_driver()};Server={server.host};Port={server.port};Database=postgres;"
        "Uid=postgres;Pwd=unused;"
    )
    conn = pyodbc.connect(cs, autocommit=True, timeout=30)
    cur = conn.cursor()
    cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    cur.execute(f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, title text, embedding vector(3))")
    cur.execute(f"CREATE INDEX {TABLE}_emb ON {TABLE} USING hnsw (embedding vector_l2_ops)")
    for i in range(1, 6):
        cur.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?)", i, f"t{i}", f"[{i},1,0]")
    yield conn
    cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.close()


def test_connect_reports_postgres(odbc: pyodbc.Connection) -> None:
    assert odbc.getinfo(pyodbc.SQL_DBMS_NAME) == "PostgreSQL"
    assert odbc.getinfo(pyodbc.SQL_DBMS_VER).startswith("15.")


def test_tables_lists_our_table(odbc: pyodbc.Connection) -> None:
    rows = [tuple(r) for r in odbc.cursor().tables(table=TABLE)]
    assert rows == [("postgres", "public", TABLE, "TABLE", "")]
    every = {r.table_name for r in odbc.cursor().tables(schema="public", tableType="TABLE")}
    assert TABLE in every


def test_columns_list_the_vector_column(odbc: pyodbc.Connection) -> None:
    rows = [tuple(r)[:6] for r in odbc.cursor().columns(table=TABLE)]
    # SQL_BIGINT -5, SQL_WLONGVARCHAR -10 (text); vector is a type psqlODBC does not know
    assert rows[:2] == [
        ("postgres", "public", TABLE, "id", -5, "int8"),
        ("postgres", "public", TABLE, "title", -10, "text"),
    ]
    assert rows[2][3] == "embedding" and rows[2][5] == "vector"
    nullable = [r.nullable for r in odbc.cursor().columns(table=TABLE)]
    assert nullable == [0, 1, 1]


def test_primary_keys_and_statistics(odbc: pyodbc.Connection) -> None:
    pk = [tuple(r) for r in odbc.cursor().primaryKeys(table=TABLE)]
    assert pk == [("postgres", "public", TABLE, "id", 1, f"{TABLE}_pkey")]
    stats = [(r.index_name, r.column_name, r.non_unique) for r in odbc.cursor().statistics(TABLE)]
    assert (f"{TABLE}_pkey", "id", 0) in stats
    assert (f"{TABLE}_emb", "embedding", 1) in stats


def test_parameterized_knn(odbc: pyodbc.Connection) -> None:
    cur = odbc.cursor()
    q = "[3,1,0]"
    for _ in range(3):  # the same statement again and again
        cur.execute(
            f"SELECT id, title, embedding <-> ? AS d FROM {TABLE} WHERE id <> ? "
            "ORDER BY embedding <-> ? LIMIT 2",
            q,
            4,
            q,
        )
        rows = [(r.id, r.title, round(r.d, 6)) for r in cur.fetchall()]
        assert rows == [(3, "t3", 0.0), (2, "t2", 1.0)]  # 4 excluded
    cur.execute(f"SELECT embedding FROM {TABLE} WHERE id = ?", 2)
    assert cur.fetchone()[0] == "[2,1,0]"


def test_transaction_with_autocommit_off(server: ServerProc, odbc: pyodbc.Connection) -> None:
    cs = (
        f"Driver={_driver()};Server={server.host};Port={server.port};Database=postgres;"
        "Uid=postgres;Pwd=unused;"
    )
    conn = pyodbc.connect(cs, autocommit=False, timeout=30)
    try:
        cur = conn.cursor()
        cur.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?)", 9, "t9", "[9,9,9]")
        conn.rollback()
        cur.execute(f"SELECT count(*) FROM {TABLE} WHERE id = 9")
        assert cur.fetchone()[0] == 0
        conn.commit()
    finally:
        conn.close()


def test_use_declare_fetch_reads_through_a_cursor(
    server: ServerProc, odbc: pyodbc.Connection
) -> None:
    # UseDeclareFetch=1: psqlODBC runs `DECLARE ... CURSOR WITH HOLD FOR`, then `FETCH 2 IN`
    cs = (
        f"Driver={_driver()};Server={server.host};Port={server.port};Database=postgres;"
        "Uid=postgres;Pwd=unused;UseDeclareFetch=1;Fetch=2;"
    )
    conn = pyodbc.connect(cs, autocommit=False, timeout=30)
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT id, embedding FROM {TABLE} WHERE id > ? ORDER BY id", 1)
        assert [(r.id, r.embedding) for r in cur.fetchall()] == [
            (i, f"[{i},1,0]") for i in range(2, 6)
        ]
        conn.commit()
    finally:
        conn.close()
