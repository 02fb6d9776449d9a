"""Bad input gets Postgres's SQLSTATE and a readable message; the session stays usable."""

from __future__ import annotations

import socket
import struct

import psycopg
import pytest


@pytest.fixture
def vt(conn: psycopg.Connection):
    conn.execute("DROP TABLE IF EXISTS vt")
    conn.execute("CREATE TABLE vt (id int PRIMARY KEY, e vector(3))")
    conn.execute("INSERT INTO vt VALUES (1, '[1,2,3]')")
    yield conn
    conn.execute("DROP TABLE IF EXISTS vt")


CASES = [
    ("INSERT INTO vt VALUES (2, '[1,2]')", "22000", "expected 3 dimensions, not 2"),
    ("INSERT INTO vt VALUES (2, '[1,2,3')", "22P02", "invalid input syntax for type vector"),
    ("INSERT INTO vt VALUES (2, 'hello')", "22P02", "invalid input syntax for type vector"),
    ("INSERT INTO vt VALUES (2, '[1,NaN,3]')", "22000", "NaN not allowed in vector"),
    ("INSERT INTO vt VALUES (2, '[1,Infinity,3]')", "22000", "infinite value not allowed"),
    ("SELECT * FROM nosuch", "42P01", 'relation "nosuch" does not exist'),
    ("SELECT nosuch FROM vt", "42703", 'column "nosuch" does not exist'),
    ("SELEC 1", "42601", "syntax error"),
    ("SELECT * FROM vt WHERE", "42601", "syntax error at end of input"),
    ("INSERT INTO vt VALUES (1, '[0,0,0]')", "23505", "duplicate key value"),
    ("SELECT id FROM vt ORDER BY e <-> '[1,2]' LIMIT 1", "22000", "different vector dimensions"),
    ("CREATE TABLE t_bad (a vector(3)) PARTITION BY RANGE (a)", None, None),
    ("LISTEN chan", "0A000", "not supported"),
]


@pytest.mark.parametrize("sql,state,text", CASES)
def test_error_then_usable(vt, sql, state, text):
    with pytest.raises(psycopg.Error) as ei:
        vt.execute(sql)
    diag = ei.value.diag
    if state is not None:
        assert diag.sqlstate == state, diag.message_primary
        assert text in diag.message_primary
    else:
        assert diag.sqlstate is not None and diag.sqlstate[:2] in ("0A", "42")
    assert vt.execute("SELECT count(*) FROM vt").fetchone() == (1,)


def test_syntax_error_has_position(vt):
    with pytest.raises(psycopg.errors.SyntaxError) as ei:
        vt.execute("SELECT 1 FROM vt WHERE WHERE")
    assert ei.value.diag.statement_position == "24"


def test_error_in_transaction_block_until_rollback(server, vt):
    with psycopg.connect(server.dsn()) as c:
        c.execute("INSERT INTO vt VALUES (5, '[5,5,5]')")
        with pytest.raises(psycopg.errors.DataException):
            c.execute("INSERT INTO vt VALUES (6, '[1]')")
        with pytest.raises(psycopg.errors.InFailedSqlTransaction) as ei:
            c.execute("SELECT 1")
        assert ei.value.diag.sqlstate == "25P02"
        c.rollback()
        assert c.execute("SELECT count(*) FROM vt").fetchone() == (1,)


def test_unknown_database(server):
    with pytest.raises(psycopg.OperationalError) as ei:
        psycopg.connect(server.dsn(dbname="nosuchdb"))
    assert "3D000" in str(ei.value.sqlstate) or 'database "nosuchdb" does not exist' in str(
        ei.value
    )


def _startup(sock: socket.socket) -> None:
    body = struct.pack("!i", 196608) + b"user\x00postgres\x00database\x00postgres\x00\x00"
    sock.sendall(struct.pack("!i", len(body) + 4) + body)
    buf = b""
    while not buf.endswith(b"Z\x00\x00\x00\x05I"):
        chunk = sock.recv(65536)
        assert chunk, "server closed during startup"
        buf += chunk


@pytest.mark.parametrize(
    "garbage",
    [
        b"Q\x00\x00\x00\x02",  # length smaller than itself
        b"\xff\x00\x00\x00\x08abcd",  # unknown message type
        b"Q\x7f\xff\xff\xff",  # absurd length
    ],
)
def test_malformed_message_closes_only_that_connection(server, vt, garbage):
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        _startup(s)
        s.sendall(garbage)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        assert data[:1] == b"E" and b"08P01" in data
    assert vt.execute("SELECT count(*) FROM vt").fetchone() == (1,)


def test_truncated_message_then_disconnect(server, vt):
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        _startup(s)
        s.sendall(b"Q\x00\x00\x00\x40SELECT")  # promises 64 bytes, sends 6, then hangs up
    assert vt.execute("SELECT count(*) FROM vt").fetchone() == (1,)


def test_bad_message_body_is_an_error_not_a_disconnect(server, vt):
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        _startup(s)
        # A Describe with an invalid kind byte, then Sync: an error, then ReadyForQuery.
        s.sendall(b"D\x00\x00\x00\x06X\x00" + b"S\x00\x00\x00\x04")
        data = b""
        while not data.endswith(b"Z\x00\x00\x00\x05I"):
            chunk = s.recv(65536)
            assert chunk, "connection closed"
            data += chunk
        assert data.startswith(b"E")
        s.sendall(b"Q\x00\x00\x00\x0dSELECT 1\x00")
        data = b""
        while not data.endswith(b"Z\x00\x00\x00\x05I"):
            chunk = s.recv(65536)
            assert chunk
            data += chunk
        assert b"SELECT 1" in data


def test_vector_casts(vt):
    assert vt.execute("SELECT e::vector FROM vt").fetchone() == ("[1,2,3]",)
    assert vt.execute("SELECT e::text FROM vt").fetchone() == ("[1,2,3]",)
    with pytest.raises(psycopg.errors.CannotCoerce):
        vt.execute("SELECT e::integer FROM vt")
    with pytest.raises(psycopg.errors.UniqueViolation):
        vt.execute("INSERT INTO vt VALUES (7, '[1,1,1]'), (7, '[2,2,2]')")
    assert vt.execute("SELECT count(*) FROM vt").fetchone() == (1,)
