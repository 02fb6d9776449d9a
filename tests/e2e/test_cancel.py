"""CancelRequest semantics: a cancel applies to the query in flight (running, or sent and not
yet started), never to a later query; a cancel for an idle connection is ignored.

SLOW runs for minutes, so a cancel that did not reach it would show as a socket timeout."""

from __future__ import annotations

import socket
import threading
import time

import psycopg
import pytest

from tests.e2e.pgraw import RawClient
from wire import messages as m

SLOW = "SELECT count(*) FROM range(200000) a(x), range(200000) b(y) WHERE a.x + b.y = 7"


def _session(server) -> tuple[RawClient, m.BackendKeyData]:  # noqa: ANN001
    client = RawClient(server.host, server.port, timeout=30)
    got = client.login("postgres", None)
    assert isinstance(got[-1], m.ReadyForQuery), got
    keys = [g for g in got if isinstance(g, m.BackendKeyData)]
    assert len(keys) == 1
    return client, keys[0]


def _send_cancel(server, key: m.BackendKeyData) -> None:  # noqa: ANN001
    """A CancelRequest on its own connection; returns once the server closed it (processed)."""
    with socket.create_connection((server.host, server.port), timeout=30) as s:
        s.sendall(m.CancelRequest(key.pid, key.secret).encode())
        assert s.recv(1) == b""


def _until_ready(client: RawClient) -> list[object]:
    out: list[object] = []
    while True:
        msg = client.recv()
        assert msg is not None, f"connection closed after {out}"
        out.append(msg)
        if isinstance(msg, m.ReadyForQuery):
            return out


def _sqlstates(msgs: list[object]) -> list[str]:
    return [msg.fields["C"] for msg in msgs if isinstance(msg, m.ErrorResponse)]


def _values(msgs: list[object]) -> list[list[bytes | None]]:
    return [msg.values for msg in msgs if isinstance(msg, m.DataRow)]


def _extended(sql: str) -> list[object]:
    return [m.Parse("", sql), m.Bind("", ""), m.Execute(""), m.Sync()]


def test_psycopg_cancel_running_query(server):
    """The query runs (the server logged its start) when the cancel comes: 57014, and the
    connection serves the next query."""
    marker = "cancel_running_marker"
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("SET log_statement = 'all'")
        errors: list[BaseException] = []

        def run() -> None:
            try:
                conn.execute(f"{SLOW} AND '{marker}' <> ''")
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        t = threading.Thread(target=run)
        t.start()
        _wait_for_log(server, marker)
        conn.cancel()
        t.join(60)
        assert not t.is_alive()
        assert errors and isinstance(errors[0], psycopg.errors.QueryCanceled)
        assert errors[0].sqlstate == "57014"
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_psycopg_cancel_safe_right_after_send(server):
    """libpq sent the query (flushed) and cancels at once, before the server can have started
    it: the cancel still reaches that query."""
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        pgconn = conn.pgconn
        pgconn.send_query(SLOW.encode())
        while pgconn.flush():  # 0: everything handed to the kernel
            pass
        conn.cancel_safe()
        results = []
        while (res := pgconn.get_result()) is not None:
            results.append(res)
        assert [r.error_field(psycopg.pq.DiagnosticField.SQLSTATE) for r in results] == [b"57014"]
        assert conn.execute("SELECT 3").fetchone() == (3,)


def test_raw_cancel_right_after_query(server):
    client, key = _session(server)
    with client:
        for _ in range(5):
            client.send(m.Query(SLOW))
            _send_cancel(server, key)
            got = _until_ready(client)
            assert _sqlstates(got) == ["57014"]
            client.send(m.Query("SELECT 1 + 1"))
            got = _until_ready(client)
            assert _sqlstates(got) == [] and _values(got) == [[b"2"]]


def test_raw_cancel_right_after_extended_query(server):
    client, key = _session(server)
    with client:
        client.send(*_extended(SLOW))
        _send_cancel(server, key)
        got = _until_ready(client)
        assert _sqlstates(got) == ["57014"]
        assert isinstance(got[-1], m.ReadyForQuery) and got[-1].status == "I"


def test_cancel_hits_only_the_cycle_in_flight(server):
    """Two pipelined cycles (simple and extended): the cancel ends the first; its flag is
    cleared at that ReadyForQuery, so the second, already received, runs normally."""
    client, key = _session(server)
    with client:
        client.send(m.Query(SLOW), m.Query("SELECT 'second'"))
        _send_cancel(server, key)
        assert _sqlstates(_until_ready(client)) == ["57014"]
        got = _until_ready(client)
        assert _sqlstates(got) == [] and _values(got) == [[b"second"]]

        client.send(*_extended(SLOW), *_extended("SELECT 'third'"))
        _send_cancel(server, key)
        assert _sqlstates(_until_ready(client)) == ["57014"]
        got = _until_ready(client)
        assert _sqlstates(got) == [] and _values(got) == [[b"third"]]


def test_cancel_while_idle_is_ignored(server):
    client, key = _session(server)
    with client:
        for i in range(10):
            _send_cancel(server, key)  # processed (the server closed it) before the query
            client.send(m.Query(f"SELECT count(*) + {i} FROM range(300000)"))
            got = _until_ready(client)
            assert _sqlstates(got) == []
            assert _values(got) == [[str(300000 + i).encode()]]
            client.send(*_extended("SELECT 'extended'"))
            got = _until_ready(client)
            assert _sqlstates(got) == [] and _values(got) == [[b"extended"]]


def test_cancel_racing_a_short_query_never_reaches_the_next(server):
    """Cancels land at every moment of short queries (before, during, after): a query may be
    cancelled, but the query after each one never is."""
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        for i in range(30):
            t = threading.Thread(target=conn.cancel_safe)
            t.start()
            try:
                conn.execute(f"SELECT count(*) + {i} FROM range(200000)").fetchone()
            except psycopg.errors.QueryCanceled:
                pass
            t.join(30)
            assert not t.is_alive()
            assert conn.execute("SELECT %s::int", (i,)).fetchone() == (i,)


def test_log_statement_setting(server):
    marker = "log_statement_marker"
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        assert conn.execute("SHOW log_statement").fetchone() == ("none",)
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute("SET log_statement = 'some'")
        conn.execute("SET log_statement = 'ddl'")
        conn.execute(f"SELECT '{marker}_select'")
        conn.execute(f"CREATE TABLE {marker} (a int)")
        conn.execute("SET log_statement = 'all'")
        conn.execute(f"SELECT %s::text || '{marker}_param'", ("x",))
        conn.execute(f"DROP TABLE {marker}")
    _wait_for_log(server, f"statement: CREATE TABLE {marker} (a int)")
    _wait_for_log(server, f"execute <unnamed>: SELECT $1::text || '{marker}_param'")
    assert not any(f"{marker}_select" in line for line in server.log)


def _wait_for_log(server, text: str, timeout: float = 30.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not any(text in line for line in server.log):
        assert time.monotonic() < deadline, f"{text!r} not logged"
        time.sleep(0.02)
