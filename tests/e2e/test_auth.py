"""Password authentication end to end: `vecgres serve --auth {trust,password,md5,scram}
--password-file F` against psycopg (libpq's `require_auth` proves which exchange ran), psql
(PGPASSWORD) and a raw protocol client (exact ErrorResponse fields, SASL mechanisms)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ROOT, ServerProc, start_server
from tests.e2e.pgraw import FAILED, PASSWORDS, RawClient, ScramClient, dsn, password_file
from wire import messages as m
from wire.auth import ScramSecret


@pytest.fixture(scope="module")
def pwfile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return password_file(tmp_path_factory.mktemp("auth") / "passwords")


@pytest.fixture(scope="module", params=["trust", "password", "md5", "scram"])
def auth_server(
    request: pytest.FixtureRequest, pwfile: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProc]:
    srv = start_server(
        tmp_path_factory.mktemp("data"),
        extra_args=["--auth", request.param, "--password-file", str(pwfile)],
    )
    srv.method = request.param  # type: ignore[attr-defined]
    yield srv
    srv.stop()


# the exchange libpq sees per (method, user): its `require_auth` name, or None if it must fail
EXPECTED = {
    "trust": {"alice": "none", "bob": "none", "carol": "none"},
    "password": {"alice": "password", "bob": "password", "carol": "password"},
    # md5 with a stored SCRAM verifier runs SCRAM, as in Postgres
    "md5": {"alice": "md5", "bob": "scram-sha-256", "carol": "md5"},
    # an md5 hash cannot serve SCRAM (Postgres fails the same way)
    "scram": {"alice": "scram-sha-256", "bob": "scram-sha-256", "carol": None},
}


def test_right_password_psycopg(auth_server):
    method = auth_server.method
    for user, password in PASSWORDS.items():
        required = EXPECTED[method][user]
        if required is None:
            with pytest.raises(psycopg.OperationalError, match=FAILED.format(user)):
                psycopg.connect(dsn(auth_server, user, password, sslmode="disable"))
            continue
        conninfo = dsn(auth_server, user, password, sslmode="disable", require_auth=required)
        with psycopg.connect(conninfo, autocommit=True) as c:
            assert c.execute("SELECT current_user, 40 + 2").fetchone() == (user, 42)
            assert c.info.pgconn.used_password is (method != "trust")


def test_wrong_password_psycopg(auth_server):
    if auth_server.method == "trust":
        with psycopg.connect(dsn(auth_server, "alice", "wrong", sslmode="disable")) as c:
            assert c.execute("SELECT 1").fetchone() == (1,)  # trust ignores passwords
        return
    for user in PASSWORDS:
        with pytest.raises(psycopg.OperationalError, match=FAILED.format(user)):
            psycopg.connect(dsn(auth_server, user, PASSWORDS[user] + "x", sslmode="disable"))
    with pytest.raises(psycopg.OperationalError, match=FAILED.format("mallory")):
        psycopg.connect(dsn(auth_server, "mallory", "alice-pw", sslmode="disable"))


def test_sqlstates_raw_protocol(auth_server):
    """The ErrorResponse fields, and the server closing the connection after them."""
    method = auth_server.method
    cases = [("alice", "wrong", "postgres"), ("mallory", "alice-pw", "postgres")]
    if method == "trust":
        with RawClient(auth_server.host, auth_server.port) as c:
            got = c.login("alice", None)
            assert isinstance(got[0], m.AuthenticationOk)
            assert isinstance(got[-1], m.ReadyForQuery)
        return
    for user, password, db in cases:
        with RawClient(auth_server.host, auth_server.port) as c:
            got = c.login(user, password, db)
            err = got[-1]
            assert isinstance(err, m.ErrorResponse), got
            assert err.fields["C"] == "28P01"
            assert err.fields["S"] == err.fields["V"] == "FATAL"
            assert err.fields["M"] == FAILED.format(user)
            assert not any(isinstance(x, m.AuthenticationOk) for x in got)
            assert c.recv_until_eof() == []  # and the connection is closed
    # authentication comes first: a wrong password on a missing database is still 28P01,
    # the right one gets 3D000
    with RawClient(auth_server.host, auth_server.port) as c:
        assert c.login("alice", "wrong", "nosuchdb")[-1].fields["C"] == "28P01"
    with RawClient(auth_server.host, auth_server.port) as c:
        err = c.login("alice", PASSWORDS["alice"], "nosuchdb")[-1]
        assert (err.fields["C"], err.fields["M"]) == ("3D000", 'database "nosuchdb" does not exist')


def test_requests_per_method_raw_protocol(auth_server):
    """Which authentication request each method sends; SCRAM offers only SCRAM-SHA-256."""
    method = auth_server.method
    with RawClient(auth_server.host, auth_server.port) as c:
        got = c.login("alice", PASSWORDS["alice"])
    expected = {
        "trust": m.AuthenticationOk,
        "password": m.AuthenticationCleartextPassword,
        "md5": m.AuthenticationMD5Password,
        "scram": m.AuthenticationSASL,
    }[method]
    assert isinstance(got[0], expected)
    if method == "scram":
        assert got[0].mechanisms == ["SCRAM-SHA-256"]
        assert isinstance(got[1], m.AuthenticationSASLContinue)
        assert isinstance(got[2], m.AuthenticationSASLFinal)
    assert any(isinstance(x, m.AuthenticationOk) for x in got)
    assert isinstance(got[-1], m.ReadyForQuery)


def test_psql_with_pgpassword(auth_server):
    method = auth_server.method
    base = ["psql", "-X", "-h", auth_server.host, "-p", str(auth_server.port), "-d", "postgres"]
    env = dict(os.environ, PGCONNECT_TIMEOUT="10", PSQLRC="/dev/null", PGSSLMODE="disable")
    ok = subprocess.run(
        [*base, "-U", "alice", "-tAc", "SELECT current_user"],
        env=dict(env, PGPASSWORD=PASSWORDS["alice"]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "alice"
    bad = subprocess.run(
        [*base, "-U", "alice", "-tAc", "SELECT current_user"],
        env=dict(env, PGPASSWORD="nope"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if method == "trust":
        assert bad.returncode == 0 and bad.stdout.strip() == "alice"
    else:
        assert bad.returncode == 2
        assert f"FATAL:  {FAILED.format('alice')}" in bad.stderr
        assert bad.stdout == ""


PASSWORD_METHODS = pytest.mark.parametrize(
    "auth_server", ["password", "md5", "scram"], indirect=True
)


@PASSWORD_METHODS
def test_no_password_supplied_then_server_still_serves(auth_server):
    """libpq hangs up when it has no password to send; the server just drops that one."""
    env_free = dsn(auth_server, "alice", None, sslmode="disable", passfile="/nonexistent")
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(env_free)
    with psycopg.connect(dsn(auth_server, "alice", PASSWORDS["alice"], sslmode="disable")) as c:
        assert c.execute("SELECT 7").fetchone() == (7,)
    assert auth_server.proc.poll() is None


@PASSWORD_METHODS
def test_unexpected_message_during_authentication(auth_server):
    what = "SASL" if auth_server.method == "scram" else "password"
    with RawClient(auth_server.host, auth_server.port) as c:
        c.startup("alice")
        assert not isinstance(c.recv(), m.ErrorResponse)
        c.send(m.Query("SELECT 1"))
        err = c.recv()
        assert isinstance(err, m.ErrorResponse)
        assert err.fields["C"] == "08P01" and err.fields["S"] == "FATAL"
        assert err.fields["M"] == f"expected {what} response, got message type 81"
        assert c.recv_until_eof() == []


@pytest.mark.parametrize("auth_server", ["password"], indirect=True)
def test_non_utf8_password_is_a_wrong_password(auth_server):
    with RawClient(auth_server.host, auth_server.port) as c:
        c.startup("alice")
        assert isinstance(c.recv(), m.AuthenticationCleartextPassword)
        c.send(m.PasswordMessage(b"alice-pw\xff\x00"))
        err = c.recv()
        assert isinstance(err, m.ErrorResponse)
        assert (err.fields["C"], err.fields["M"]) == ("28P01", FAILED.format("alice"))
        assert c.recv_until_eof() == []


@pytest.mark.parametrize("auth_server", ["password", "md5"], indirect=True)
def test_empty_password(auth_server):
    """Postgres refuses an empty cleartext/md5 answer with its own 28P01 message."""
    with RawClient(auth_server.host, auth_server.port) as c:
        c.startup("carol")
        assert not isinstance(c.recv(), m.ErrorResponse)
        c.send(m.PasswordMessage(m.build_password("")))
        err = c.recv()
        assert isinstance(err, m.ErrorResponse)
        assert (err.fields["C"], err.fields["S"]) == ("28P01", "FATAL")
        assert err.fields["M"] == "empty password returned by client"
        assert c.recv_until_eof() == []


@pytest.fixture(scope="module")
def scram_server(pwfile: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    srv = start_server(
        tmp_path_factory.mktemp("data"),
        extra_args=["--auth", "scram", "--password-file", str(pwfile)],
    )
    yield srv
    srv.stop()


def test_scram_without_initial_response(scram_server):
    """SASLInitialResponse with length -1: an empty SASLContinue asks for client-first."""
    with RawClient(scram_server.host, scram_server.port) as c:
        c.startup("bob")
        assert isinstance(c.recv(), m.AuthenticationSASL)
        c.send(m.PasswordMessage(m.build_sasl_initial("SCRAM-SHA-256", None)))
        assert c.recv() == m.AuthenticationSASLContinue(b"")
        scram = ScramClient(PASSWORDS["bob"])
        c.send(m.PasswordMessage(scram.first()))
        server_first = c.recv()
        assert isinstance(server_first, m.AuthenticationSASLContinue)
        c.send(m.PasswordMessage(scram.final(server_first.data)))
        assert c.recv() == m.AuthenticationSASLFinal(scram.expected_server_final)
        assert isinstance(c.recv(), m.AuthenticationOk)


@pytest.mark.parametrize(
    ("mechanism", "first", "code", "message"),
    [
        ("SCRAM-SHA-256-PLUS", b"p=tls-server-end-point,,n=,r=abc", "08P01", "client selected"),
        ("SCRAM-SHA-256", b"p=tls-server-end-point,,n=,r=abc", "08P01", "malformed SCRAM"),
        ("SCRAM-SHA-256", b"n,a=bob,n=,r=abc", "0A000", "client uses authorization identity"),
    ],
)
def test_scram_protocol_errors(scram_server, mechanism, first, code, message):
    with RawClient(scram_server.host, scram_server.port) as c:
        c.startup("bob")
        assert isinstance(c.recv(), m.AuthenticationSASL)
        c.send(m.PasswordMessage(m.build_sasl_initial(mechanism, first)))
        err = c.recv()
        assert isinstance(err, m.ErrorResponse)
        assert err.fields["C"] == code and err.fields["S"] == "FATAL"
        assert err.fields["M"].startswith(message)
        assert c.recv_until_eof() == []


def test_libpq_channel_binding_require_is_refused(scram_server):
    """Without TLS no SCRAM-SHA-256-PLUS is offered, so a client insisting on channel binding
    gives up (test_tls covers it over TLS)."""
    conninfo = dsn(scram_server, "bob", PASSWORDS["bob"], channel_binding="require")
    with pytest.raises(psycopg.OperationalError, match="channel binding"):
        psycopg.connect(conninfo)


def _serve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wire", "serve", "--port", "0", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_rejects_incomplete_configuration(tmp_path):
    res = _serve("--data-dir", str(tmp_path / "d"), "--auth", "scram")
    assert res.returncode == 2
    assert "--auth scram needs --password-file" in res.stderr
    bad = tmp_path / "pw"
    bad.write_text("alice:x\nno-colon-here\n")
    res = _serve("--data-dir", str(tmp_path / "d"), "--auth", "md5", "--password-file", str(bad))
    assert res.returncode == 2
    assert f"{bad}:2: expected user:password" in res.stderr
    res = _serve("--auth", "kerberos")
    assert res.returncode == 2 and "invalid choice: 'kerberos'" in res.stderr
    conf = tmp_path / "bad.conf"
    conf.write_text("auth = scram\n")
    res = _serve("--config", str(conf), "--password-file", str(tmp_path / "missing"))
    assert res.returncode == 2 and "--password-file: " in res.stderr and "missing" in res.stderr
    conf.write_text("authentication_timeout = soon\n")
    res = _serve("--config", str(conf), "--data-dir", str(tmp_path / "d"))
    assert res.returncode == 2 and "invalid float value: 'soon'" in res.stderr
    conf.write_text("sslmode = on\n")
    res = _serve("--config", str(conf))
    assert res.returncode == 2 and "bad.conf:1: expected `name = value`" in res.stderr
    res = _serve("--tls-cert", str(conf), "--data-dir", str(tmp_path / "d"))
    assert res.returncode == 2 and "--tls-cert and --tls-key go together" in res.stderr
    res = _serve("--tls-cert", str(conf), "--tls-key", str(conf))
    assert res.returncode == 2 and "TLS certificate/key:" in res.stderr


def test_cli_help_documents_auth():
    res = subprocess.run(
        [sys.executable, "-m", "wire", "serve", "--help"],
        cwd=ROOT,
        env=dict(os.environ, COLUMNS="100"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0
    for text in ("--auth {trust,password,md5,scram}", "--password-file", "--tls-cert", "28P01"):
        assert text in res.stdout
    assert "user:secret" in res.stdout


def test_scram_secret_command_output_logs_in(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "wire", "scram-secret", "dora"],
        cwd=ROOT,
        input="dora's pw\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    line = res.stdout.strip()
    assert line.startswith("dora:SCRAM-SHA-256$4096:")
    secret = ScramSecret.parse(line.split(":", 1)[1])
    assert secret is not None and secret.check_password("dora's pw")
    pw = tmp_path / "pw"
    pw.write_text(line + "\n")
    srv = start_server(tmp_path / "d", extra_args=["--auth", "scram", "--password-file", str(pw)])
    try:
        with psycopg.connect(dsn(srv, "dora", "dora's pw", require_auth="scram-sha-256")) as c:
            assert c.execute("SELECT current_user").fetchone() == ("dora",)
    finally:
        srv.stop()


def test_authentication_timeout_drops_idle_connections(pwfile, tmp_path):
    """A client that stalls in startup or in the password exchange is dropped (Postgres's
    authentication_timeout); an authenticated session is not bound by it."""
    srv = start_server(
        tmp_path / "d",
        extra_args=[
            "--auth",
            "password",
            "--password-file",
            str(pwfile),
            "--authentication-timeout",
            "1",
        ],
    )
    try:
        with psycopg.connect(dsn(srv, "alice", PASSWORDS["alice"]), autocommit=True) as c:
            with RawClient(srv.host, srv.port) as idle, RawClient(srv.host, srv.port) as stalled:
                stalled.startup("alice")
                assert isinstance(stalled.recv(), m.AuthenticationCleartextPassword)
                # both are closed by the server (recv returns at EOF; no client-side sleep)
                assert stalled.recv_until_eof() == []
                assert idle.recv_until_eof() == []
            # the session opened before lives on past the timeout
            assert c.execute("SELECT 11").fetchone() == (11,)
    finally:
        srv.stop()
    assert "authentication timeout" in "".join(srv.log)
