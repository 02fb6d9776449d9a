"""INSERT ... ON CONFLICT (Qdrant's upsert) and vector updates: visible at once, durable."""

from __future__ import annotations

import psycopg

from tests.conftest import start_server


def test_upsert_and_vector_updates_survive_restart(tmp_path):
    srv = start_server(tmp_path / "d")
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            c.execute("CREATE TABLE u (id int PRIMARY KEY, note text, e vector(2))")
            c.execute("INSERT INTO u VALUES (1, 'a', '[1,1]'), (2, 'b', '[2,2]')")
            cur = c.execute(
                "INSERT INTO u VALUES (1, 'a2', %s) ON CONFLICT (id) "
                "DO UPDATE SET note = EXCLUDED.note, e = EXCLUDED.e",
                ("[5,5]",),
            )
            assert cur.statusmessage == "INSERT 0 1"
            cur = c.execute("INSERT INTO u VALUES (2, 'x', '[9,9]') ON CONFLICT (id) DO NOTHING")
            assert cur.statusmessage == "INSERT 0 0"
            rows = c.execute(
                "INSERT INTO u VALUES (3, 'c', '[3,3]'), (2, 'y', '[0,0]') "
                "ON CONFLICT DO NOTHING RETURNING id"
            ).fetchall()
            assert rows == [(3,)]
            assert c.execute("SELECT id FROM u ORDER BY e <-> '[5,5]' LIMIT 1").fetchone() == (1,)
            c.execute("UPDATE u SET e = '[-1,-1]' WHERE id = 3")
            assert c.execute("SELECT id FROM u ORDER BY e <-> '[-1,-1]' LIMIT 1").fetchone() == (3,)
    finally:
        srv.stop()
    srv = start_server(tmp_path / "d")
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            rows = c.execute("SELECT id, note, e FROM u ORDER BY id").fetchall()
            assert rows == [(1, "a2", "[5,5]"), (2, "b", "[2,2]"), (3, "c", "[-1,-1]")]
    finally:
        srv.stop()
