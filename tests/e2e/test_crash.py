"""kill -9 in the middle of a COPY: every acknowledged row survives, nothing of the COPY does."""

from __future__ import annotations

import signal

import psycopg

from tests.conftest import start_server


def test_kill_during_copy_keeps_acknowledged_rows_only(tmp_path):
    srv = start_server(tmp_path / "d")
    c = psycopg.connect(srv.dsn(), autocommit=True)
    try:
        c.execute("CREATE TABLE k (id int PRIMARY KEY, e vector(4))")
        for i in range(50):  # fifty acknowledged single-row transactions
            c.execute("INSERT INTO k VALUES (%s, %s)", (i, f"[{i},0,0,1]"))
        cur = c.cursor()
        with cur.copy("COPY k FROM STDIN") as cp:
            for i in range(1000, 21000):
                cp.write(f"{i}\t[{i},1,1,1]\n")
            # the server has been sent 20,000 rows of an unfinished COPY: crash it now
            srv.stop(signal.SIGKILL)
            try:
                cp.write("99999\t[0,0,0,0]\n")
            except psycopg.Error:
                pass
    except psycopg.Error:
        pass  # the COPY's end fails: the server is gone
    finally:
        try:
            c.close()
        except psycopg.Error:
            pass
    srv = start_server(tmp_path / "d")
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c2:
            assert c2.execute("SELECT count(*), min(id), max(id) FROM k").fetchone() == (50, 0, 49)
            top = c2.execute("SELECT id FROM k ORDER BY e <-> '[1000,1,1,1]' LIMIT 1").fetchone()
            assert top == (49,)
            c2.execute("INSERT INTO k VALUES (50, '[50,0,0,1]')")  # still writable
            assert c2.execute("SELECT count(*) FROM k").fetchone() == (51,)
    finally:
        srv.stop()
