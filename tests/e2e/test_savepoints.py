"""SAVEPOINT / RELEASE / ROLLBACK TO SAVEPOINT against the real server.

DuckDB has no savepoints: vecgres keeps them as bookkeeping and rolls back to one only when
nothing may have been written since it (what psycopg's TypeInfo.fetch and ORMs' nested
reads need); a rollback past a write is refused with 0A000 instead of undoing too little."""

from __future__ import annotations

import psycopg
import pytest
from conftest import ServerProc


@pytest.fixture
def tx(server: ServerProc):  # noqa: ANN201
    with psycopg.connect(server.dsn()) as c:
        c.execute("DROP TABLE IF EXISTS sp_t")
        c.execute("CREATE TABLE sp_t (id int PRIMARY KEY)")
        c.commit()
        yield c
        c.rollback()
        c.execute("DROP TABLE IF EXISTS sp_t")
        c.commit()


def test_savepoint_release_commit(tx: psycopg.Connection) -> None:
    tx.execute("INSERT INTO sp_t VALUES (1)")
    assert tx.execute("SAVEPOINT a").statusmessage == "SAVEPOINT"
    assert tx.execute("RELEASE SAVEPOINT a").statusmessage == "RELEASE"
    tx.commit()
    assert tx.execute("SELECT id FROM sp_t").fetchall() == [(1,)]


def test_rollback_to_after_failed_read_keeps_earlier_writes(tx: psycopg.Connection) -> None:
    tx.execute("INSERT INTO sp_t VALUES (1)")
    tx.execute('SAVEPOINT "Sp"')
    with pytest.raises(psycopg.errors.UndefinedTable):
        tx.execute("SELECT * FROM sp_missing")
    with pytest.raises(psycopg.errors.InFailedSqlTransaction):
        tx.execute("SELECT 1")
    assert tx.execute('ROLLBACK TO SAVEPOINT "Sp"').statusmessage == "ROLLBACK"
    assert tx.execute("SELECT count(*) FROM sp_t").fetchone() == (1,)
    tx.commit()
    assert tx.execute("SELECT id FROM sp_t").fetchall() == [(1,)]


def test_rollback_to_in_read_only_block_after_duckdb_error(tx: psycopg.Connection) -> None:
    tx.execute("SAVEPOINT a")
    with pytest.raises(psycopg.Error):
        tx.execute("SELECT 1 / 0")
    tx.execute("ROLLBACK TO a")
    assert tx.execute("SELECT count(*) FROM sp_t").fetchone() == (0,)


def test_psycopg_nested_transaction(tx: psycopg.Connection) -> None:
    with tx.transaction():
        tx.execute("INSERT INTO sp_t VALUES (5)")
        with tx.transaction():  # SAVEPOINT ... RELEASE
            assert tx.execute("SELECT id FROM sp_t").fetchall() == [(5,)]
    assert tx.execute("SELECT id FROM sp_t").fetchall() == [(5,)]


def test_rollback_to_past_a_write_is_refused(tx: psycopg.Connection) -> None:
    tx.execute("SAVEPOINT a")
    tx.execute("INSERT INTO sp_t VALUES (2)")
    tx.execute("INSERT INTO sp_t VALUES (3)")
    tx.execute("SAVEPOINT b")
    tx.execute("ROLLBACK TO SAVEPOINT b")  # nothing since b: fine
    with pytest.raises(psycopg.errors.FeatureNotSupported):
        tx.execute("ROLLBACK TO SAVEPOINT a")
    tx.rollback()
    assert tx.execute("SELECT count(*) FROM sp_t").fetchone() == (0,)


def test_savepoint_errors(tx: psycopg.Connection, server: ServerProc) -> None:
    tx.execute("SAVEPOINT a")
    with pytest.raises(psycopg.errors.InvalidSavepointSpecification):
        tx.execute("RELEASE SAVEPOINT nope")
    tx.rollback()
    with psycopg.connect(server.dsn(), autocommit=True) as auto:
        with pytest.raises(psycopg.errors.NoActiveSqlTransaction):
            auto.execute("SAVEPOINT a")
        with pytest.raises(psycopg.errors.NoActiveSqlTransaction):
            auto.execute("ROLLBACK TO SAVEPOINT a")
