"""CREATE DATABASE / DROP DATABASE: each database its own catalog and data."""

from __future__ import annotations

import psycopg
import pytest


def test_create_connect_isolate_drop(server):
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS shop")
        c.execute("CREATE DATABASE shop")
        with pytest.raises(psycopg.errors.DuplicateDatabase):
            c.execute("CREATE DATABASE shop")
        with psycopg.connect(server.dsn(dbname="shop"), autocommit=True) as s:
            assert s.execute("SELECT current_database()").fetchone() == ("shop",)
            s.execute("CREATE TABLE only_here (id int, e vector(2))")
            s.execute("INSERT INTO only_here VALUES (1, '[1,0]')")
            assert s.execute(
                "SELECT id FROM only_here ORDER BY e <-> '[1,0]' LIMIT 1"
            ).fetchone() == (1,)
            with pytest.raises(psycopg.errors.ObjectInUse):
                c.execute("DROP DATABASE shop")  # a session is connected to it
            with pytest.raises(psycopg.errors.ObjectInUse):
                s.execute("DROP DATABASE shop")  # the current database
        with pytest.raises(psycopg.errors.UndefinedTable):
            c.execute("SELECT * FROM only_here")
        with pytest.raises(psycopg.errors.ActiveSqlTransaction):
            with c.transaction():
                c.execute("CREATE DATABASE nope")
        c.execute("DROP DATABASE shop")
    with pytest.raises(psycopg.OperationalError) as ei:
        psycopg.connect(server.dsn(dbname="shop"))
    assert 'database "shop" does not exist' in str(ei.value)


def test_recreated_database_has_its_catalog(server):
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        for _ in range(3):  # drop and create the same name: each new one gets pg_catalog
            c.execute("DROP DATABASE IF EXISTS again")
            c.execute("CREATE DATABASE again")
            with psycopg.connect(server.dsn(dbname="again"), autocommit=True) as s:
                assert s.execute(
                    "SELECT typname FROM pg_type WHERE typname = 'vector'"
                ).fetchone() == ("vector",)
        c.execute("DROP DATABASE again")


def test_drop_waits_for_a_session_that_is_leaving(server):
    """As in Postgres, DROP DATABASE gives open sessions a few seconds to go away."""
    import threading

    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute("CREATE DATABASE leaving")
        s = psycopg.connect(server.dsn(dbname="leaving"), autocommit=True)
        outcome: list[object] = []

        def drop() -> None:
            with psycopg.connect(server.dsn(), autocommit=True) as d:
                try:
                    d.execute("DROP DATABASE leaving")
                    outcome.append("dropped")
                except psycopg.Error as e:
                    outcome.append(e)

        t = threading.Thread(target=drop)
        t.start()
        s.close()
        t.join(30)
        assert outcome == ["dropped"]
        assert c.execute(
            "SELECT count(*) FROM pg_database WHERE datname = 'leaving'"
        ).fetchone() == (0,)
