"""Committed data survives a clean restart and a kill -9 of the server."""

from __future__ import annotations

import signal

import psycopg
import pytest

from tests.conftest import start_server


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_data_survives_restart(tmp_path, sig):
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            c.execute("CREATE TABLE r (id bigserial PRIMARY KEY, note text, e vector(2))")
            c.execute("INSERT INTO r (note, e) VALUES ('a', '[1,0]'), ('b', '[0,1]')")
            c.execute("UPDATE r SET e = '[0.5,0.5]' WHERE note = 'b'")
            with c.transaction():
                c.execute("INSERT INTO r (note, e) VALUES ('c', '[-1,0]')")
            with pytest.raises(psycopg.errors.DataException):
                with c.transaction():
                    c.execute("INSERT INTO r (note, e) VALUES ('gone', '[9,9]')")
                    c.execute("INSERT INTO r (note, e) VALUES ('bad', '[1]')")
    finally:
        assert srv.stop(sig) is not None
    srv = start_server(data)
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            rows = c.execute("SELECT id, note, e FROM r ORDER BY id").fetchall()
            assert rows == [(1, "a", "[1,0]"), (2, "b", "[0.5,0.5]"), (3, "c", "[-1,0]")]
            top = c.execute("SELECT note FROM r ORDER BY e <-> '[0.4,0.6]' LIMIT 1").fetchone()
            assert top == ("b",)
            (new_id,) = c.execute(
                "INSERT INTO r (note, e) VALUES ('d', '[2,2]') RETURNING id"
            ).fetchone()
            assert new_id > 3  # sequences never hand out a committed id twice
    finally:
        srv.stop()
