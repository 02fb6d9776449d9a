"""Password authentication, sans-IO: the password file, md5 and SCRAM-SHA-256 math.

Owns:
  * ``AuthConfig``: the method (trust, password, md5, scram) and the users' secrets, read from
    a password file by ``load_password_file`` / ``parse_password_file``;
  * the secrets a password file may hold, as Postgres stores them in ``pg_authid``: a plain
    password, an md5 hash (``md5`` + 32 hex digits = md5(password || user)) or a SCRAM verifier
    (``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>``, base64 parts);
  * the checks: ``check_cleartext`` (AuthenticationCleartextPassword), ``check_md5_response``
    (AuthenticationMD5Password, 4-byte salt) and ``ScramServer``, the server side of a
    SCRAM-SHA-256 exchange (RFC 5802 / RFC 7677) as Postgres runs it: gs2 flag ``n`` or
    ``y``, or over TLS SCRAM-SHA-256-PLUS with ``tls-server-end-point`` channel binding
    (RFC 5929; ``tls_server_end_point`` hashes the certificate), the user name in the
    client-first message ignored (the startup packet's user counts), no authzid, no
    extensions, passwords normalised by SASLprep (RFC 4013) when that succeeds, else used raw,
    as Postgres's ``pg_saslprep`` does;
  * mock secrets, so an unknown user (or one whose secret cannot serve the method) goes
    through the same exchange as a known one and fails only at the end.

Must not: touch sockets or files (except ``load_password_file``), know about messages or
sessions.  ``wire.protocol`` drives the message flow; failures surface as ``AuthFailed``
(wrong password, → SQLSTATE 28P01) or ``PgError`` (malformed SCRAM messages → 08P01,
unsupported SCRAM features → 0A000).

Password file format (``--password-file``): one ``user:secret`` per line; the user name ends at
the first ``:``, the secret is the rest of the line (it may contain ``:``; trailing spaces are
part of it, a trailing CR is not).  Blank lines and lines starting with ``#`` are ignored.  A
secret that parses as a SCRAM verifier or as ``md5`` + 32 lowercase hex digits is taken as
such (as Postgres does for ``CREATE ROLE ... PASSWORD``), anything else is a plain password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import stringprep
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from engine.errors import PgError, pg_error

SCRAM_SHA_256 = "SCRAM-SHA-256"
SCRAM_SHA_256_PLUS = "SCRAM-SHA-256-PLUS"  # with tls-server-end-point channel binding
SCRAM_ITERATIONS = 4096  # Postgres's scram_iterations default
SCRAM_SALT_LEN = 16  # Postgres's SCRAM_DEFAULT_SALT_LEN
SCRAM_NONCE_LEN = 18  # Postgres's SCRAM_RAW_NONCE_LEN (random bytes, sent base64-encoded)
_KEY_LEN = 32  # SHA-256 digest size

_MD5_RE = re.compile(r"md5[0-9a-f]{32}")
_SCRAM_RE = re.compile(
    r"SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)"
)


class Method(StrEnum):
    """The authentication method, as named on the command line."""

    TRUST = "trust"
    PASSWORD = "password"  # cleartext
    MD5 = "md5"
    SCRAM = "scram"  # SCRAM-SHA-256


class AuthFailed(Exception):
    """The client did not prove it knows the password (→ 28P01 for the user)."""


def auth_failed_error(user: str) -> PgError:
    """Postgres's FATAL for a wrong password or an unknown user."""
    err = pg_error("28P01", f'password authentication failed for user "{user}"')
    err.severity = "FATAL"
    return err


# ------------------------------------------------------------------------------ secrets
@dataclass(frozen=True, slots=True)
class ScramSecret:
    """A SCRAM-SHA-256 verifier, as Postgres stores it in ``pg_authid.rolpassword``."""

    iterations: int
    salt: bytes
    stored_key: bytes
    server_key: bytes

    def encode(self) -> str:
        b64 = _b64
        return (
            f"{SCRAM_SHA_256}${self.iterations}:{b64(self.salt)}"
            f"${b64(self.stored_key)}:{b64(self.server_key)}"
        )

    @classmethod
    def parse(cls, text: str) -> ScramSecret | None:
        """The verifier in ``text``, or None if it is not one."""
        mt = _SCRAM_RE.fullmatch(text)
        if mt is None:
            return None
        try:
            salt, stored, server = (base64.b64decode(g, validate=True) for g in mt.groups()[1:])
        except ValueError:
            return None
        iterations = int(mt.group(1))
        if iterations < 1 or len(stored) != _KEY_LEN or len(server) != _KEY_LEN or not salt:
            return None
        return cls(iterations, salt, stored, server)

    @classmethod
    def from_password(
        cls, password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS
    ) -> ScramSecret:
        """The verifier Postgres would store for ``password`` (random salt unless given)."""
        if salt is None:
            salt = secrets.token_bytes(SCRAM_SALT_LEN)
        salted = salted_password(password, salt, iterations)
        client_key = _hmac(salted, b"Client Key")
        return cls(iterations, salt, _sha256(client_key), _hmac(salted, b"Server Key"))

    def check_password(self, password: str) -> bool:
        """Whether ``password`` produces this verifier (cleartext authentication)."""
        salted = salted_password(password, self.salt, self.iterations)
        stored = _sha256(_hmac(salted, b"Client Key"))
        server = _hmac(salted, b"Server Key")
        return hmac.compare_digest(stored, self.stored_key) and hmac.compare_digest(
            server, self.server_key
        )


@dataclass(frozen=True, slots=True)
class Secret:
    """What the password file holds for one user: exactly one of the three fields is set."""

    plain: str | None = None
    md5: str | None = None  # "md5" + md5(password || user), hex
    scram: ScramSecret | None = None

    @classmethod
    def parse(cls, text: str) -> Secret:
        scram = ScramSecret.parse(text)
        if scram is not None:
            return cls(scram=scram)
        if _MD5_RE.fullmatch(text):
            return cls(md5=text)
        return cls(plain=text)


def parse_password_file(text: str, source: str = "password file") -> dict[str, Secret]:
    """``user:secret`` lines → {user: Secret}.  Raises ``ValueError`` naming the bad line."""
    users: dict[str, Secret] = {}
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        user, sep, secret = line.partition(":")
        if not sep or not user:
            raise ValueError(f"{source}:{lineno}: expected user:password")
        if user in users:
            raise ValueError(f'{source}:{lineno}: user "{user}" appears twice')
        users[user] = Secret.parse(secret)
    return users


def load_password_file(path: Path) -> dict[str, Secret]:
    return parse_password_file(path.read_text(encoding="utf-8"), str(path))


@dataclass
class AuthConfig:
    """The server-wide authentication policy: a method and the users it knows."""

    method: Method = Method.TRUST
    users: dict[str, Secret] = field(default_factory=dict)
    # derived SCRAM verifiers of plain passwords (random salt, made once per user)
    _derived: dict[str, ScramSecret] = field(default_factory=dict, repr=False)
    _mock_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def scram_secret(self, user: str) -> ScramSecret | None:
        """The SCRAM verifier for ``user``: stored, derived from a plain password, or None."""
        secret = self.users.get(user)
        if secret is None:
            return None
        if secret.scram is not None:
            return secret.scram
        if secret.plain is None:
            return None  # an md5 hash cannot serve SCRAM, as in Postgres
        derived = self._derived.get(user)
        if derived is None:
            derived = self._derived[user] = ScramSecret.from_password(secret.plain)
        return derived

    def mock_scram_secret(self, user: str) -> ScramSecret:
        """A stable fake verifier (salt derived from the user name): the exchange for an
        unknown user looks like a real one, as Postgres's ``scram_mock_salt``."""
        salt = hmac.new(self._mock_key, user.encode(), hashlib.sha256).digest()[:SCRAM_SALT_LEN]
        key = secrets.token_bytes(_KEY_LEN)
        return ScramSecret(SCRAM_ITERATIONS, salt, key, key)

    def uses_scram(self, user: str) -> bool:
        """Whether ``user`` gets a SCRAM exchange: method scram, or md5 with a stored SCRAM
        verifier or an unknown user (Postgres upgrades md5 to SCRAM for those)."""
        if self.method is Method.SCRAM:
            return True
        if self.method is Method.MD5:
            secret = self.users.get(user)
            return secret is None or secret.scram is not None
        return False


# ---------------------------------------------------------------------------------- md5
def md5_hash(password: str, user: str) -> str:
    """What Postgres stores for an md5 password: ``md5`` + md5(password || user)."""
    return "md5" + hashlib.md5((password + user).encode()).hexdigest()


def md5_response(hashed: str, salt: bytes) -> str:
    """The client's answer to AuthenticationMD5Password, from the stored hash."""
    return "md5" + hashlib.md5(hashed[3:].encode() + salt).hexdigest()


def check_md5_response(secret: Secret | None, user: str, salt: bytes, response: str) -> None:
    """Raises ``AuthFailed`` unless ``response`` answers the md5 challenge ``salt``."""
    if secret is None or (secret.md5 is None and secret.plain is None):
        raise AuthFailed
    hashed = secret.md5 if secret.md5 is not None else md5_hash(secret.plain or "", user)
    if not hmac.compare_digest(md5_response(hashed, salt).encode(), response.encode()):
        raise AuthFailed


# ---------------------------------------------------------------------------- cleartext
def check_cleartext(secret: Secret | None, user: str, password: str) -> None:
    """Raises ``AuthFailed`` unless ``password`` matches the stored secret (of any kind)."""
    if secret is None or not password:
        raise AuthFailed
    if secret.plain is not None:
        ok = hmac.compare_digest(secret.plain.encode(), password.encode())
    elif secret.md5 is not None:
        ok = hmac.compare_digest(secret.md5.encode(), md5_hash(password, user).encode())
    else:
        assert secret.scram is not None
        ok = secret.scram.check_password(password)
    if not ok:
        raise AuthFailed


# --------------------------------------------------------------------------------- SCRAM
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def saslprep(password: str) -> str | None:
    """RFC 4013 SASLprep of a password, or None if it is prohibited (then Postgres uses the
    raw bytes).  Pure ASCII passes unchanged, as in Postgres's ``pg_saslprep``."""
    if password.isascii():
        return password
    mapped = "".join(
        " " if stringprep.in_table_c12(c) else c for c in password if not stringprep.in_table_b1(c)
    )
    s = unicodedata.normalize("NFKC", mapped)
    if not s:
        return None
    prohibited = (
        stringprep.in_table_c12,
        stringprep.in_table_c21,
        stringprep.in_table_c22,
        stringprep.in_table_c3,
        stringprep.in_table_c4,
        stringprep.in_table_c5,
        stringprep.in_table_c6,
        stringprep.in_table_c7,
        stringprep.in_table_c8,
        stringprep.in_table_c9,
        stringprep.in_table_a1,
    )
    if any(test(c) for c in s for test in prohibited):
        return None
    # bidi (RFC 3454 section 6)
    if any(stringprep.in_table_d1(c) for c in s):
        if any(stringprep.in_table_d2(c) for c in s):
            return None
        if not (stringprep.in_table_d1(s[0]) and stringprep.in_table_d1(s[-1])):
            return None
    return s


def salted_password(password: str, salt: bytes, iterations: int) -> bytes:
    """Hi(Normalize(password), salt, i) of RFC 5802 (PBKDF2-HMAC-SHA-256)."""
    prepped = saslprep(password)
    raw = (prepped if prepped is not None else password).encode("utf-8")
    return hashlib.pbkdf2_hmac("sha256", raw, salt, iterations)


def _scram_error(
    detail: str | None, sqlstate: str = "08P01", message: str | None = None
) -> PgError:
    err = pg_error(sqlstate, message or "malformed SCRAM message", detail=detail)
    err.severity = "FATAL"
    return err


def _printable(s: str) -> bool:
    return all(0x21 <= ord(c) <= 0x7E and c != "," for c in s)


class ScramServer:
    """The server side of one SCRAM-SHA-256 or SCRAM-SHA-256-PLUS exchange.

    ``client_first(data)`` → server-first-message (send in AuthenticationSASLContinue);
    ``client_final(data)`` → server-final-message (send in AuthenticationSASLFinal), or raises
    ``AuthFailed``.  ``doomed`` (unknown user, no usable verifier) runs the same exchange
    with ``secret`` a mock and fails at the end.  ``nonce`` fixes the server nonce (tests).

    ``channel_binding`` is the connection's ``tls-server-end-point`` data when it is TLS and
    SCRAM-SHA-256-PLUS was offered (then a client answering gs2 flag ``y`` is refused, as a
    downgrade); ``plus`` says the client chose SCRAM-SHA-256-PLUS (gs2 flag ``p`` required).
    """

    def __init__(
        self,
        secret: ScramSecret,
        doomed: bool = False,
        nonce: str | None = None,
        channel_binding: bytes | None = None,
        plus: bool = False,
    ) -> None:
        self.secret = secret
        self.doomed = doomed
        self.server_nonce = nonce or _b64(secrets.token_bytes(SCRAM_NONCE_LEN))
        self.channel_binding = channel_binding
        self.plus = plus
        self._gs2_header = ""
        self._client_first_bare = ""
        self._server_first = ""
        self._nonce = ""
        self.done = False

    def client_first(self, data: bytes) -> bytes:
        text = _decode(data)
        if not text:
            raise _scram_error("The message is empty.")
        flag = text[0]
        if self.plus and flag != "p":
            raise _scram_error(
                "The client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not "
                "include channel binding data."
            )
        if flag == "p":
            if not self.plus or self.channel_binding is None:
                raise _scram_error(
                    "The client selected SCRAM-SHA-256 without channel binding, but the SCRAM "
                    "message includes channel binding data."
                )
            cb_name, comma, _ = text.partition(",")
            if not comma or cb_name[1:2] != "=":
                raise _scram_error("Malformed channel-binding flag.")
            if cb_name[2:] != "tls-server-end-point":
                raise _scram_error(
                    None,
                    "08P01",
                    f'unsupported SCRAM channel-binding type "{_sanitize(cb_name[2:])}"',
                )
            rest = text[len(cb_name) :]
        elif flag in "ny" and text[1:2] == ",":
            if flag == "y" and self.channel_binding is not None:
                raise _scram_error(
                    "The client supports SCRAM channel binding but thinks the server does "
                    "not.  However, this server does support channel binding.",
                    "28000",
                    "SCRAM channel binding negotiation error",
                )
            rest = text[1:]
        else:
            raise _scram_error(f'Unexpected channel-binding flag "{_sanitize(flag)}".')
        rest = rest[1:]  # after the flag's comma: [authzid] "," bare
        if rest.startswith("a="):
            raise _scram_error(
                None, "0A000", "client uses authorization identity, but it is not supported"
            )
        if not rest.startswith(","):
            raise _scram_error(
                f'Unexpected attribute "{_sanitize(rest[:1])}" in client-first-message.'
            )
        bare = rest[1:]
        self._gs2_header = text[: len(text) - len(bare)]
        attrs = bare.split(",")
        if attrs[0].startswith("m="):
            raise _scram_error(None, "0A000", "client requires an unsupported SCRAM extension")
        if len(attrs) < 2 or not attrs[0].startswith("n=") or not attrs[1].startswith("r="):
            raise _scram_error("Expected attributes n= and r= in client-first-message.")
        client_nonce = attrs[1][2:]
        if not client_nonce or not _printable(client_nonce):
            raise _scram_error("Client nonce is empty or contains non-printable characters.")
        self._client_first_bare = bare
        self._nonce = client_nonce + self.server_nonce
        s = self.secret
        self._server_first = f"r={self._nonce},s={_b64(s.salt)},i={s.iterations}"
        return self._server_first.encode("ascii")

    def client_final(self, data: bytes) -> bytes:
        if not self._server_first:
            raise _scram_error("client-final-message before client-first-message.")
        text = _decode(data)
        attrs = text.split(",")
        if len(attrs) < 3 or not attrs[0].startswith("c=") or not attrs[1].startswith("r="):
            raise _scram_error("Expected attributes c=, r= and p= in client-final-message.")
        try:
            cbind = base64.b64decode(attrs[0][2:], validate=True)
        except ValueError:
            raise _scram_error("Malformed channel-binding data.") from None
        expected = self._gs2_header.encode()
        if self.plus:
            assert self.channel_binding is not None
            expected += self.channel_binding
        if not hmac.compare_digest(cbind, expected):
            raise _scram_error(None, "28000", "SCRAM channel binding check failed")
        if attrs[1][2:] != self._nonce:
            raise _scram_error("Nonce does not match.")
        proof_attr = attrs[-1]
        if not proof_attr.startswith("p="):
            raise _scram_error("Expected attribute p= at the end of client-final-message.")
        try:
            proof = base64.b64decode(proof_attr[2:], validate=True)
        except ValueError:
            raise _scram_error("Malformed proof in client-final-message.") from None
        if len(proof) != _KEY_LEN:
            raise _scram_error("Malformed proof in client-final-message.")
        without_proof = text[: len(text) - len(proof_attr) - 1]
        auth_message = ",".join(
            (self._client_first_bare, self._server_first, without_proof)
        ).encode()
        s = self.secret
        client_signature = _hmac(s.stored_key, auth_message)
        client_key = bytes(a ^ b for a, b in zip(proof, client_signature, strict=True))
        if self.doomed or not hmac.compare_digest(_sha256(client_key), s.stored_key):
            raise AuthFailed
        self.done = True
        return b"v=" + _b64(_hmac(s.server_key, auth_message)).encode("ascii")


# signatureAlgorithm OID (DER body) → the hash tls-server-end-point uses (RFC 5929 4.1: MD5 and
# SHA-1 are replaced by SHA-256); other algorithms (Ed25519, RSASSA-PSS) have no defined hash
_SIGNATURE_HASHES = {
    bytes.fromhex("2a864886f70d010104"): "sha256",  # md5WithRSAEncryption
    bytes.fromhex("2a864886f70d010105"): "sha256",  # sha1WithRSAEncryption
    bytes.fromhex("2a864886f70d01010e"): "sha224",  # sha224WithRSAEncryption
    bytes.fromhex("2a864886f70d01010b"): "sha256",  # sha256WithRSAEncryption
    bytes.fromhex("2a864886f70d01010c"): "sha384",  # sha384WithRSAEncryption
    bytes.fromhex("2a864886f70d01010d"): "sha512",  # sha512WithRSAEncryption
    bytes.fromhex("2a8648ce3d0401"): "sha256",  # ecdsa-with-SHA1
    bytes.fromhex("2a8648ce3d040301"): "sha224",  # ecdsa-with-SHA224
    bytes.fromhex("2a8648ce3d040302"): "sha256",  # ecdsa-with-SHA256
    bytes.fromhex("2a8648ce3d040303"): "sha384",  # ecdsa-with-SHA384
    bytes.fromhex("2a8648ce3d040304"): "sha512",  # ecdsa-with-SHA512
}


def _der(data: bytes, pos: int) -> tuple[int, int, int]:
    """The DER item at ``pos``: (tag, start of contents, end of contents)."""
    tag, n = data[pos], data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[pos : pos + k], "big")
        pos += k
    if pos + n > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + n


def tls_server_end_point(cert_der: bytes) -> bytes | None:
    """RFC 5929 ``tls-server-end-point`` channel-binding data for a server certificate (the
    hash of its DER by its signature's hash), or None when that hash is undefined (then
    SCRAM-SHA-256-PLUS cannot be offered; Postgres fails the same certificates)."""
    try:
        tag, start, _ = _der(cert_der, 0)  # Certificate ::= SEQUENCE {
        _, _, tbs_end = _der(cert_der, start)  # tbsCertificate,
        alg_tag, alg_start, _ = _der(cert_der, tbs_end)  # signatureAlgorithm SEQUENCE {
        oid_tag, oid_start, oid_end = _der(cert_der, alg_start)  # algorithm OID, ...
    except (IndexError, ValueError):
        return None
    if (tag, alg_tag, oid_tag) != (0x30, 0x30, 0x06):
        return None
    name = _SIGNATURE_HASHES.get(cert_der[oid_start:oid_end])
    return None if name is None else hashlib.new(name, cert_der).digest()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _scram_error("The message is not valid UTF-8.") from None


def _sanitize(s: str) -> str:
    return s if s.isprintable() else "?"


__all__ = [
    "SCRAM_SHA_256",
    "SCRAM_SHA_256_PLUS",
    "AuthConfig",
    "AuthFailed",
    "Method",
    "ScramSecret",
    "ScramServer",
    "Secret",
    "auth_failed_error",
    "check_cleartext",
    "check_md5_response",
    "load_password_file",
    "md5_hash",
    "md5_response",
    "parse_password_file",
    "salted_password",
    "saslprep",
    "tls_server_end_point",
]
