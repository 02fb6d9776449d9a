"""SQL cursors (DECLARE / FETCH / MOVE / CLOSE, pg_cursors) against the real server, raw and
through psycopg's server-side cursors (which also Describe the cursor as a portal)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from conftest import ServerProc
from pgvector.psycopg import register_vector


@pytest.fixture(scope="module")
def cur_server(server: ServerProc) -> Iterator[ServerProc]:
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS sc_t")
        c.execute("CREATE TABLE sc_t (id int PRIMARY KEY, v vector(2))")
        values = ", ".join(f"({i}, '[{i},0]')" for i in range(1, 11))
        c.execute(f"INSERT INTO sc_t VALUES {values}")
    yield server
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS sc_t")


def test_declare_fetch_move_close(cur_server: ServerProc) -> None:
    with psycopg.connect(cur_server.dsn()) as c:
        assert c.execute("DECLARE c1 CURSOR FOR SELECT id FROM sc_t ORDER BY id").statusmessage == (
            "DECLARE CURSOR"
        )
        cur = c.execute("FETCH 3 FROM c1")
        assert cur.statusmessage == "FETCH 3"
        assert cur.fetchall() == [(1,), (2,), (3,)]
        assert c.execute("MOVE FORWARD 2 IN c1").statusmessage == "MOVE 2"
        assert c.execute("FETCH NEXT FROM c1").fetchall() == [(6,)]
        assert c.execute("FETCH c1").fetchall() == [(7,)]
        rest = c.execute("FETCH ALL IN c1")
        assert rest.fetchall() == [(8,), (9,), (10,)] and rest.statusmessage == "FETCH 3"
        empty = c.execute("FETCH FORWARD 5 FROM c1")
        assert empty.fetchall() == [] and empty.statusmessage == "FETCH 0"
        assert [d.name for d in empty.description] == ["id"]
        assert c.execute("CLOSE c1").statusmessage == "CLOSE CURSOR"
        with pytest.raises(psycopg.errors.InvalidCursorName):
            c.execute("FETCH c1")


def test_cursor_rules(cur_server: ServerProc) -> None:
    with psycopg.connect(cur_server.dsn(), autocommit=True) as auto:
        with pytest.raises(psycopg.errors.NoActiveSqlTransaction):
            auto.execute("DECLARE c2 CURSOR FOR SELECT 1")
        # WITH HOLD outlives its (autocommit) transaction
        auto.execute('DECLARE "Held" CURSOR WITH HOLD FOR SELECT id FROM sc_t WHERE id < 3')
        rows = auto.execute("SELECT name, is_holdable, is_scrollable FROM pg_cursors").fetchall()
        assert rows == [("Held", True, False)]
        assert auto.execute('FETCH ALL FROM "Held"').fetchall() == [(1,), (2,)]
        assert auto.execute("CLOSE ALL").statusmessage == "CLOSE CURSOR ALL"
        assert auto.execute("SELECT count(*) FROM pg_cursors").fetchone() == (0,)
    with psycopg.connect(cur_server.dsn()) as c:
        c.execute("DECLARE c3 CURSOR FOR SELECT 1")
        with pytest.raises(psycopg.errors.DuplicateCursor):
            c.execute("DECLARE c3 CURSOR FOR SELECT 2")
        c.rollback()
        c.execute("DECLARE c4 CURSOR WITH HOLD FOR SELECT 1")
        c.rollback()  # a held cursor declared in a rolled-back transaction goes too
        assert c.execute("SELECT count(*) FROM pg_cursors").fetchone() == (0,)
        c.execute("DECLARE c5 CURSOR FOR SELECT 1")
        c.commit()  # without HOLD: closed at commit
        with pytest.raises(psycopg.errors.InvalidCursorName):
            c.execute("FETCH c5")


def test_psycopg_server_cursor_with_vectors(cur_server: ServerProc) -> None:
    with psycopg.connect(cur_server.dsn()) as c:
        register_vector(c)
        with c.cursor(name="srv") as cur:
            cur.itersize = 3
            cur.execute("SELECT id, v FROM sc_t WHERE id > %s ORDER BY id", [4])
            assert [d.name for d in cur.description] == ["id", "v"]
            first = cur.fetchmany(2)
            assert [(i, v.to_list()) for i, v in first] == [(5, [5.0, 0.0]), (6, [6.0, 0.0])]
            assert [r[0] for r in cur] == [7, 8, 9, 10]
        with c.cursor(name="held", withhold=True) as cur:
            cur.execute("SELECT id FROM sc_t ORDER BY v <-> '[3,0]' LIMIT 2")
            c.commit()
            assert cur.fetchall() == [(3,), (2,)]  # ties (2 and 4) by row order


def test_server_cursor_knn_with_vector_parameter_twice(cur_server: ServerProc) -> None:
    # the same DECLARE text again: must declare again, not replay a cached kNN plan
    with psycopg.connect(cur_server.dsn()) as c:
        register_vector(c)
        import numpy as np

        for q, want in (([2.0, 0.0], [2, 1, 3]), ([9.0, 0.0], [9, 8, 10])):
            with c.cursor(name="knn") as cur:
                cur.execute(
                    "SELECT id FROM sc_t ORDER BY v <-> %s LIMIT 3", [np.array(q, dtype=np.float32)]
                )
                assert [r[0] for r in cur.fetchall()] == want
        c.commit()
