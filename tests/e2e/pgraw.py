"""A minimal blocking Postgres client over a real socket, built on wire.messages, for tests that
must see exact protocol messages (ErrorResponse fields, authentication requests, the SSLRequest
answer byte) that libpq does not expose.  It answers cleartext, md5 and SCRAM-SHA-256 requests
as libpq does.  Also the users and password file shared by the auth and TLS tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import socket
import ssl
from pathlib import Path

from tests.conftest import ServerProc
from wire import messages as m
from wire.auth import ScramSecret, md5_hash, md5_response, salted_password


class RawClient:
    def __init__(self, host: str, port: int, timeout: float = 20.0) -> None:
        self.sock: socket.socket = socket.create_connection((host, port), timeout=timeout)
        self.decoder = m.BackendDecoder()
        self.eof = False

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, *msgs: object) -> None:
        self.sock.sendall(b"".join(msg.encode() for msg in msgs))  # type: ignore[attr-defined]

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def ssl_request(self, extra: bytes = b"") -> bytes:
        """Send SSLRequest (plus ``extra`` bytes in the same write); the one-byte answer."""
        self.sock.sendall(m.SSLRequest().encode() + extra)
        return self.sock.recv(1)

    def gssenc_request(self) -> bytes:
        self.sock.sendall(m.GSSENCRequest().encode())
        return self.sock.recv(1)

    def start_tls(self, ctx: ssl.SSLContext | None = None, hostname: str | None = None) -> None:
        if ctx is None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock, server_hostname=hostname)

    def recv(self) -> object | None:
        """The next backend message, or None at EOF."""
        while True:
            msg = self.decoder.next_message()
            if msg is not None:
                return msg
            if self.eof:
                return None
            data = self.sock.recv(65536)
            if not data:
                self.eof = True
            else:
                self.decoder.feed(data)

    def recv_until_eof(self) -> list[object]:
        out = []
        while (msg := self.recv()) is not None:
            out.append(msg)
        return out

    def startup(self, user: str, database: str = "postgres") -> None:
        self.send(m.StartupMessage(m.PROTOCOL_3_0, {"user": user, "database": database}))

    def login(self, user: str, password: str | None, database: str = "postgres") -> list[object]:
        """Startup and answer authentication requests; the messages received up to
        ReadyForQuery or an ErrorResponse (the exchange's requests included)."""
        self.startup(user, database)
        got: list[object] = []
        scram: ScramClient | None = None
        while True:
            msg = self.recv()
            if msg is None:
                return got
            got.append(msg)
            if isinstance(msg, m.ReadyForQuery | m.ErrorResponse):
                return got
            assert password is not None or not _is_request(msg), f"{msg} needs a password"
            if isinstance(msg, m.AuthenticationCleartextPassword):
                self.send(m.PasswordMessage(m.build_password(password or "")))
            elif isinstance(msg, m.AuthenticationMD5Password):
                answer = md5_response(md5_hash(password or "", user), msg.salt)
                self.send(m.PasswordMessage(m.build_password(answer)))
            elif isinstance(msg, m.AuthenticationSASL):
                scram = ScramClient(password or "")
                data = m.build_sasl_initial("SCRAM-SHA-256", scram.first())
                self.send(m.PasswordMessage(data))
            elif isinstance(msg, m.AuthenticationSASLContinue):
                assert scram is not None
                self.send(m.PasswordMessage(scram.final(msg.data)))
            elif isinstance(msg, m.AuthenticationSASLFinal):
                assert scram is not None
                assert msg.data == scram.expected_server_final, "bad server signature"


def _is_request(msg: object) -> bool:
    return isinstance(
        msg,
        m.AuthenticationCleartextPassword | m.AuthenticationMD5Password | m.AuthenticationSASL,
    )


class ScramClient:
    """The client side of SCRAM-SHA-256 without channel binding (gs2 header ``n,,``)."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.nonce = base64.b64encode(secrets.token_bytes(18)).decode()
        self.first_bare = f"n=,r={self.nonce}".encode()
        self.expected_server_final = b""

    def first(self) -> bytes:
        return b"n,," + self.first_bare

    def final(self, server_first: bytes) -> bytes:
        attrs = dict(a.split("=", 1) for a in server_first.decode().split(","))
        assert attrs["r"].startswith(self.nonce)
        salted = salted_password(self.password, base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = _hmac(salted, b"Client Key")
        without_proof = b"c=biws,r=" + attrs["r"].encode()
        auth_message = self.first_bare + b"," + server_first + b"," + without_proof
        signature = _hmac(hashlib.sha256(client_key).digest(), auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_sig = _hmac(_hmac(salted, b"Server Key"), auth_message)
        self.expected_server_final = b"v=" + base64.b64encode(server_sig)
        return without_proof + b",p=" + base64.b64encode(proof)


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


# alice: plain password; bob: SCRAM verifier; carol: md5 hash (as Postgres stores them)
PASSWORDS = {"alice": "alice-pw", "bob": "bob:pw é", "carol": "carol-pw"}
FAILED = 'password authentication failed for user "{}"'


def password_file(path: Path) -> Path:
    path.write_text(
        "# vecgres password file\n"
        f"alice:{PASSWORDS['alice']}\n"
        f"bob:{ScramSecret.from_password(PASSWORDS['bob']).encode()}\n"
        f"carol:{md5_hash(PASSWORDS['carol'], 'carol')}\n",
        encoding="utf-8",
    )
    return path


def dsn(srv: ServerProc, user: str, password: str | None, dbname: str = "postgres", **kw) -> str:
    parts = {"host": srv.host, "port": str(srv.port), "user": user, "dbname": dbname, **kw}
    if password is not None:
        parts["password"] = password
    quoted = {k: v.replace("\\", "\\\\").replace("'", "\\'") for k, v in parts.items()}
    return " ".join(f"{k}='{v}'" for k, v in quoted.items())
