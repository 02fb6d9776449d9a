"""RowDescription's table OID and column number for result columns that are plain table
columns (as Postgres fills them; 0 for computed columns), over the real server."""

from __future__ import annotations

import numpy as np
import psycopg
from conftest import ServerProc
from pgvector.psycopg import register_vector


def _sources(cur: psycopg.Cursor) -> list[tuple[int, int]]:
    res = cur.pgresult
    assert res is not None
    return [(res.ftable(i), res.ftablecol(i)) for i in range(res.nfields)]


def test_table_oid_and_attnum(server: ServerProc) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        register_vector(c)
        c.execute("DROP TABLE IF EXISTS rd_t")
        c.execute("CREATE TABLE rd_t (id int PRIMARY KEY, body text, v vector(2))")
        c.execute("INSERT INTO rd_t VALUES (1, 'a', '[1,0]'), (2, 'b', '[0,1]')")
        oid = c.execute("SELECT 'rd_t'::regclass::oid").fetchone()[0]
        cur = c.execute("SELECT v, ID, body AS b, id * 2 AS twice, 'k' AS k FROM rd_t")
        assert _sources(cur) == [(oid, 3), (oid, 1), (oid, 2), (0, 0), (0, 0)]
        cur = c.execute("SELECT * FROM rd_t t JOIN rd_t u ON t.id = u.id")
        assert _sources(cur) == [(oid, 1), (oid, 2), (oid, 3)] * 2
        cur = c.execute("SELECT u.* FROM rd_t t JOIN rd_t u ON t.id = u.id")
        assert _sources(cur) == [(oid, 1), (oid, 2), (oid, 3)]
        cur = c.execute("SELECT count(*) FROM rd_t")
        assert _sources(cur) == [(0, 0)]
        cur = c.execute("SELECT relname FROM pg_class LIMIT 1")
        assert _sources(cur) == [(0, 0)]
        # a prepared kNN statement: the second run comes from the plan cache
        q = "SELECT id, body FROM rd_t ORDER BY v <-> %s LIMIT 1"
        for vec, want in (([1.0, 0.0], 1), ([0.0, 1.0], 2), ([0.9, 0.1], 1)):
            cur = c.execute(q, [np.array(vec, dtype=np.float32)], prepare=True)
            assert cur.fetchall()[0][0] == want
            assert _sources(cur) == [(oid, 1), (oid, 2)]
        c.execute("DROP TABLE rd_t")


def test_set_operation_results_have_no_table(server: ServerProc) -> None:
    """A result of the same shape as a plain column's (a set operation's) does not take its
    table OID / attnum."""
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS rd_u")
        c.execute("CREATE TABLE rd_u (id int)")
        oid = c.execute("SELECT 'rd_u'::regclass::oid").fetchone()[0]
        assert _sources(c.execute("SELECT id FROM rd_u")) == [(oid, 1)]
        assert _sources(c.execute("SELECT 1 AS id UNION SELECT 2")) == [(0, 0)]
        assert _sources(c.execute("SELECT id FROM rd_u UNION SELECT id FROM rd_u")) == [(0, 0)]
        assert _sources(c.execute("SELECT id FROM rd_u")) == [(oid, 1)]
        c.execute("DROP TABLE rd_u")


def test_table_columns_report_their_typmod_as_pg_attribute_does(server: ServerProc) -> None:
    """RowDescription's type modifier of a plain table column is its pg_attribute.atttypmod
    (pgjdbc's getPrecision/getScale and getColumnDisplaySize read it), -1 when computed."""
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS rd_m")
        c.execute(
            "CREATE TABLE rd_m (id int, e vector(3), n numeric(10,2), m numeric(5), "
            "v varchar(5), ch char(3), t text)"
        )
        c.execute("INSERT INTO rd_m VALUES (1, '[1,2,3]', 1.5, 7, 'ab', 'x', 'y')")
        attr = c.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'rd_m'::regclass "
            "AND attnum > 0 ORDER BY attnum"
        ).fetchall()
        cur = c.execute("SELECT * FROM rd_m")
        fmods = [cur.pgresult.fmod(i) for i in range(cur.pgresult.nfields)]
        assert fmods == [a[0] for a in attr] == [-1, 3, 655366, 327684, 9, 7, -1]
        cur = c.execute("SELECT n, v, n + 1 AS n1, v || 'x' AS vx FROM rd_m")
        assert [cur.pgresult.fmod(i) for i in range(4)] == [655366, 9, -1, -1]
