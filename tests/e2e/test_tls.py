"""TLS end to end: `vecgres serve --tls-cert F --tls-key F` answers SSLRequest with 'S' and
speaks TLS (psycopg and psql with sslmode=require / verify-full, a raw client); without a
certificate it answers 'N' and sslmode=require fails on the client, as with Postgres.
GSSENCRequest is always refused.  A self-signed certificate is made per run by openssl."""

from __future__ import annotations

import os
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ServerProc, start_server
from tests.e2e.pgraw import PASSWORDS, RawClient, dsn, password_file
from wire import messages as m


@dataclass
class Cert:
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    d = tmp_path_factory.mktemp("tls")
    c = Cert(d / "server.crt", d / "server.key")
    subprocess.run(
        [
            "/usr/bin/openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(c.key),
            "-out",
            str(c.cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return c


@pytest.fixture(scope="module")
def tls_server(cert: Cert, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    srv = start_server(
        tmp_path_factory.mktemp("data"),
        extra_args=["--tls-cert", str(cert.cert), "--tls-key", str(cert.key)],
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    srv = start_server(tmp_path_factory.mktemp("data"))
    yield srv
    srv.stop()


def test_psycopg_sslmode_require(tls_server):
    with psycopg.connect(tls_server.dsn(sslmode="require"), autocommit=True) as c:
        assert c.info.pgconn.ssl_in_use
        c.execute("CREATE TABLE tls_t (id int, v vector(2))")
        c.execute("INSERT INTO tls_t VALUES (1, '[1,2]'), (2, '[3,4]')")
        rows = c.execute("SELECT id FROM tls_t ORDER BY v <-> '[3,3]' LIMIT 1").fetchall()
        assert rows == [(2,)]
        # a large result crosses many TLS records
        big = c.execute("SELECT repeat('x', 300000)").fetchone()
        assert big == ("x" * 300000,)


def test_psycopg_verify_full_sees_our_certificate(tls_server, cert):
    conninfo = tls_server.dsn(sslmode="verify-full", sslrootcert=str(cert.cert))
    with psycopg.connect(conninfo) as c:
        assert c.info.pgconn.ssl_in_use
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_psycopg_sslmode_disable_and_prefer(tls_server):
    with psycopg.connect(tls_server.dsn(sslmode="disable")) as c:
        assert not c.info.pgconn.ssl_in_use
        assert c.execute("SELECT 2").fetchone() == (2,)
    with psycopg.connect(tls_server.dsn(sslmode="prefer")) as c:
        assert c.info.pgconn.ssl_in_use


def test_sslmode_require_fails_without_tls(plain_server):
    with pytest.raises(psycopg.OperationalError, match="server does not support SSL"):
        psycopg.connect(plain_server.dsn(sslmode="require"))
    with psycopg.connect(plain_server.dsn(sslmode="prefer")) as c:  # falls back to plaintext
        assert not c.info.pgconn.ssl_in_use
        assert c.execute("SELECT 3").fetchone() == (3,)


def _psql(srv: ServerProc, conninfo: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["psql", "-X", f"host={srv.host} port={srv.port} dbname=postgres {conninfo}", *args],
        env=dict(os.environ, PGCONNECT_TIMEOUT="10", PSQLRC="/dev/null", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_psql_sslmode_require(tls_server, plain_server):
    res = _psql(tls_server, "user=postgres sslmode=require", "-c", r"\conninfo", "-tAc", "SELECT 5")
    assert res.returncode == 0, res.stderr
    assert "SSL connection (protocol: TLSv1.3" in res.stdout
    assert res.stdout.splitlines()[-1] == "5"
    res = _psql(plain_server, "user=postgres sslmode=require", "-tAc", "SELECT 5")
    assert res.returncode == 2
    assert "server does not support SSL, but SSL was required" in res.stderr


def test_raw_ssl_request_answers(tls_server, plain_server):
    with RawClient(plain_server.host, plain_server.port) as c:
        assert c.ssl_request() == b"N"
        assert isinstance(c.login("postgres", None)[-1], m.ReadyForQuery)
    with RawClient(tls_server.host, tls_server.port) as c:
        assert c.gssenc_request() == b"N"  # never GSSAPI encryption
        assert c.ssl_request() == b"S"
        c.start_tls()
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        got = c.login("postgres", None)
        assert isinstance(got[0], m.AuthenticationOk)
        assert isinstance(got[-1], m.ReadyForQuery)
        c.send(m.Query("SELECT 6"), m.Terminate())
        rows = [x for x in c.recv_until_eof() if isinstance(x, m.DataRow)]
        assert rows == [m.DataRow([b"6"])]


def test_raw_repeated_encryption_requests(tls_server, plain_server):
    """As Postgres: GSSENCRequest refused, then SSLRequest is still allowed; a request
    repeated is taken for a startup packet of protocol 1234.5679 / 1234.5680."""
    with RawClient(tls_server.host, tls_server.port) as c:
        assert c.gssenc_request() == b"N"
        assert c.ssl_request() == b"S"
        c.start_tls()
        c.send_raw(m.GSSENCRequest().encode())
        err = c.recv()
        assert isinstance(err, m.ErrorResponse)
        assert err.fields["M"].startswith("unsupported frontend protocol 1234.5680")
    with RawClient(plain_server.host, plain_server.port) as c:
        assert c.ssl_request() == b"N"
        assert c.gssenc_request() == b"N"
        c.send_raw(m.SSLRequest().encode())
        err = c.recv()
        assert isinstance(err, m.ErrorResponse)
        assert (err.fields["C"], err.fields["S"]) == ("0A000", "FATAL")
        assert err.fields["M"] == (
            "unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0"
        )
        assert c.recv_until_eof() == []


def test_raw_plaintext_pipelined_after_ssl_request_is_refused(tls_server):
    """Bytes sent behind an SSLRequest before the handshake would be injectable
    (CVE-2021-23214): Postgres refuses them, so do we."""
    startup = m.StartupMessage(m.PROTOCOL_3_0, {"user": "postgres"}).encode()
    with RawClient(tls_server.host, tls_server.port) as c:
        c.send_raw(m.SSLRequest().encode() + startup)
        err = c.recv()
        assert isinstance(err, m.ErrorResponse)
        assert err.fields["C"] == "08P01"
        assert err.fields["M"] == "received unencrypted data after SSL request"
        assert c.recv_until_eof() == []


def test_raw_ssl_request_inside_tls_is_refused(tls_server):
    with RawClient(tls_server.host, tls_server.port) as c:
        assert c.ssl_request() == b"S"
        c.start_tls()
        c.send_raw(m.SSLRequest().encode())
        err = c.recv()
        assert isinstance(err, m.ErrorResponse)
        assert (err.fields["C"], err.fields["S"]) == ("0A000", "FATAL")
        assert c.recv_until_eof() == []


def test_failed_handshake_leaves_server_serving(tls_server):
    """A client that gets 'S' and then rejects the certificate does not hurt the server."""
    ctx = ssl.create_default_context()  # verifies against system CAs: our cert fails
    with RawClient(tls_server.host, tls_server.port) as c:
        assert c.ssl_request() == b"S"
        with pytest.raises(ssl.SSLCertVerificationError):
            c.start_tls(ctx, "localhost")
    with psycopg.connect(tls_server.dsn(sslmode="require")) as conn:
        assert conn.execute("SELECT 8").fetchone() == (8,)


@pytest.fixture(scope="module")
def tls_scram_config(cert: Cert, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A --config file (relative paths, a comment, quotes) for scram over TLS."""
    d = tmp_path_factory.mktemp("conf")
    password_file(d / "users.txt")
    (d / "server.crt").write_bytes(cert.cert.read_bytes())
    (d / "server.key").write_bytes(cert.key.read_bytes())
    conf = d / "vecgres.conf"
    conf.write_text(
        "# vecgres serve --config\n"
        "auth = scram\n"
        "password_file = 'users.txt'   # relative to this file\n"
        "tls-cert = server.crt\n"
        'tls_key = "server.key"\n'
    )
    return conf


def test_scram_over_tls_from_config_file(tls_scram_config, tmp_path):
    srv = start_server(tmp_path / "d", extra_args=["--config", str(tls_scram_config)])
    try:
        for user in ("alice", "bob"):
            conninfo = dsn(
                srv, user, PASSWORDS[user], sslmode="require", require_auth="scram-sha-256"
            )
            with psycopg.connect(conninfo) as c:
                assert c.info.pgconn.ssl_in_use
                assert c.execute("SELECT current_user").fetchone() == (user,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(dsn(srv, "alice", "wrong", sslmode="require"))
        res = _psql(
            srv, "user=alice sslmode=require", "-tAc", "SELECT 9", PGPASSWORD=PASSWORDS["alice"]
        )
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == "9"
    finally:
        srv.stop()


def test_scram_plus_channel_binding_over_tls(tls_scram_config, tmp_path):
    """Over TLS, SCRAM-SHA-256-PLUS (tls-server-end-point) is offered first, as by Postgres:
    libpq's channel_binding=require succeeds there and fails without TLS."""
    srv = start_server(tmp_path / "d", extra_args=["--config", str(tls_scram_config)])
    try:
        for user in ("alice", "bob"):
            conninfo = dsn(srv, user, PASSWORDS[user], sslmode="require", channel_binding="require")
            with psycopg.connect(conninfo) as c:
                assert c.info.pgconn.ssl_in_use
                assert c.execute("SELECT current_user").fetchone() == (user,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(dsn(srv, "bob", "nope", sslmode="require", channel_binding="require"))
        with pytest.raises(psycopg.OperationalError, match="channel binding"):
            psycopg.connect(
                dsn(srv, "bob", PASSWORDS["bob"], sslmode="disable", channel_binding="require")
            )
        res = _psql(
            srv,
            "user=bob sslmode=require channel_binding=require",
            "-tAc",
            "SELECT 10",
            PGPASSWORD=PASSWORDS["bob"],
        )
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == "10"
        with RawClient(srv.host, srv.port) as c:
            assert c.ssl_request() == b"S"
            c.start_tls()
            c.startup("bob")
            sasl = c.recv()
            assert sasl == m.AuthenticationSASL(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"])
            # a client claiming the server cannot bind channels is refused (downgrade)
            c.send(m.PasswordMessage(m.build_sasl_initial("SCRAM-SHA-256", b"y,,n=,r=abc")))
            err = c.recv()
            assert isinstance(err, m.ErrorResponse)
            assert (err.fields["C"], err.fields["M"]) == (
                "28000",
                "SCRAM channel binding negotiation error",
            )
        with RawClient(srv.host, srv.port) as c:  # plaintext: no PLUS offered
            c.startup("bob")
            assert c.recv() == m.AuthenticationSASL(["SCRAM-SHA-256"])
    finally:
        srv.stop()


def test_command_line_overrides_config_file(tls_scram_config, tmp_path):
    srv = start_server(
        tmp_path / "d", extra_args=["--config", str(tls_scram_config), "--auth", "password"]
    )
    try:
        conninfo = dsn(srv, "alice", PASSWORDS["alice"], sslmode="require", require_auth="password")
        with psycopg.connect(conninfo) as c:
            assert c.info.pgconn.ssl_in_use
    finally:
        srv.stop()
