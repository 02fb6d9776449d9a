"""wire.auth, the sans-IO authentication math: SCRAM-SHA-256 against RFC 7677's test vector and
verifiers made by PostgreSQL 15, md5 hashes as Postgres stores them, SASLprep, the password
file format and the SCRAM server's checks of malformed client messages."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from engine.errors import PgError
from wire.auth import (
    AuthConfig,
    AuthFailed,
    Method,
    ScramSecret,
    ScramServer,
    Secret,
    auth_failed_error,
    check_cleartext,
    check_md5_response,
    md5_hash,
    md5_response,
    parse_password_file,
    salted_password,
    saslprep,
)

# RFC 7677, section 3
RFC_CLIENT_FIRST = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
RFC_SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
RFC_SERVER_FIRST = (
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
RFC_CLIENT_FINAL = (
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
RFC_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

# made by PostgreSQL 15: CREATE ROLE ... PASSWORD 'pencil' (scram-sha-256, then md5 for bob),
# and PASSWORD U&'I\00ADX' (SASLprep maps the soft hyphen to nothing)
PG_ALICE = (
    "SCRAM-SHA-256$4096:XDv6rUdlbjhDJEQ/I23N4g==$eMYUuEhYxh4n58/UcbSOknaJnGdAgGHz6dWVxLHvTMY="
    ":0KYVSlpIqvAm6jzcxnNaRPbYFevtPD9sVWwy85eERTg="
)
PG_BOB_MD5 = "md5e4f70fb0b8f2745aa7a69557c80cbd0c"
PG_CAROL = (
    "SCRAM-SHA-256$4096:+OgrXCIrjCz5IHm8+eRCuQ==$R1stQ0bdtoXRzdaJAuMGYTIp/kiEwWAvssJ0Y6YOVv0="
    ":eMI5VJv7Uusy7ftrvk+L0FMlacmNbMpMQxmsgVrP8D0="
)


def _h(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def client_final(
    password: str, client_first: bytes, server_first: bytes, cbind: bytes = b"biws"
) -> tuple[bytes, bytes]:
    """A SCRAM client's final message and the server signature it expects (RFC 5802)."""
    attrs = dict(a.split("=", 1) for a in server_first.decode().split(","))
    salted = salted_password(password, base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = _h(salted, b"Client Key")
    without_proof = b"c=" + cbind + b",r=" + attrs["r"].encode()
    bare = client_first.split(b",", 2)[2]
    auth_message = bare + b"," + server_first + b"," + without_proof
    signature = _h(hashlib.sha256(client_key).digest(), auth_message)
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    server_sig = _h(_h(salted, b"Server Key"), auth_message)
    return (
        without_proof + b",p=" + base64.b64encode(proof),
        b"v=" + base64.b64encode(server_sig),
    )


def test_rfc7677_vector():
    secret = ScramSecret.from_password("pencil", RFC_SALT)
    server = ScramServer(secret, nonce=RFC_SERVER_NONCE)
    assert server.client_first(RFC_CLIENT_FIRST) == RFC_SERVER_FIRST
    assert server.client_final(RFC_CLIENT_FINAL) == RFC_SERVER_FINAL
    assert server.done


def test_rfc7677_vector_through_our_client_math():
    final, expected = client_final("pencil", RFC_CLIENT_FIRST, RFC_SERVER_FIRST)
    assert final == RFC_CLIENT_FINAL
    assert expected == RFC_SERVER_FINAL


def test_rfc7677_wrong_password_fails():
    secret = ScramSecret.from_password("pencil2", RFC_SALT)
    server = ScramServer(secret, nonce=RFC_SERVER_NONCE)
    server.client_first(RFC_CLIENT_FIRST)
    with pytest.raises(AuthFailed):
        server.client_final(RFC_CLIENT_FINAL)
    assert not server.done


def test_doomed_exchange_fails_even_with_the_right_proof():
    secret = ScramSecret.from_password("pencil", RFC_SALT)
    server = ScramServer(secret, doomed=True, nonce=RFC_SERVER_NONCE)
    assert server.client_first(RFC_CLIENT_FIRST) == RFC_SERVER_FIRST
    with pytest.raises(AuthFailed):
        server.client_final(RFC_CLIENT_FINAL)


def test_random_nonce_round_trip_and_y_flag():
    secret = ScramSecret.from_password("s3cret")
    server = ScramServer(secret)
    first = b"y,,n=,r=abcdefghijklmnop"  # libpq without TLS: "y" would be fine too
    server_first = server.client_first(first)
    assert server_first.startswith(b"r=abcdefghijklmnop")
    nonce = server_first.split(b",")[0][2:]
    assert len(base64.b64decode(nonce[len(b"abcdefghijklmnop") :])) == 18
    final, expected = client_final("s3cret", first, server_first, cbind=b"eSws")
    assert server.client_final(final) == expected


def test_postgres_verifiers_and_md5_hashes():
    alice = ScramSecret.parse(PG_ALICE)
    assert alice is not None and alice.iterations == 4096
    assert alice.encode() == PG_ALICE
    assert alice.check_password("pencil")
    assert not alice.check_password("pencil ")
    assert md5_hash("pencil", "bob") == PG_BOB_MD5
    carol = ScramSecret.parse(PG_CAROL)
    assert carol is not None
    assert carol.check_password("I\u00adX") and carol.check_password("IX")
    assert not carol.check_password("I X")


def test_saslprep():
    assert saslprep("user") == "user"
    assert saslprep("I\u00adX") == "IX"  # RFC 4013 section 3 examples
    assert saslprep("\u00aa") == "a"
    assert saslprep("\u2168") == "IX"
    assert saslprep("a\u2003b") == "a b"  # non-ASCII space → space
    assert saslprep("\u0627\u0031") is None  # bidi: RandALCat must start and end
    assert saslprep("\ufffdx\u0221") is None  # prohibited / unassigned
    assert saslprep("a\u0007") == "a\u0007"  # pure ASCII is left alone, as in Postgres


def test_md5_response():
    salt = b"\x01\x02\x03\x04"
    good = md5_response(md5_hash("pencil", "bob"), salt)
    assert good.startswith("md5") and len(good) == 35
    check_md5_response(Secret(md5=PG_BOB_MD5), "bob", salt, good)
    check_md5_response(Secret(plain="pencil"), "bob", salt, good)
    with pytest.raises(AuthFailed):
        check_md5_response(Secret(plain="pencil"), "bobby", salt, good)
    with pytest.raises(AuthFailed):
        check_md5_response(Secret(md5=PG_BOB_MD5), "bob", b"\x00\x02\x03\x04", good)
    with pytest.raises(AuthFailed):  # a SCRAM verifier cannot answer an md5 challenge
        check_md5_response(Secret(scram=ScramSecret.parse(PG_ALICE)), "alice", salt, good)
    with pytest.raises(AuthFailed):
        check_md5_response(None, "bob", salt, good)


def test_cleartext_against_every_kind_of_secret():
    check_cleartext(Secret(plain="pencil"), "x", "pencil")
    check_cleartext(Secret(md5=PG_BOB_MD5), "bob", "pencil")
    check_cleartext(Secret(scram=ScramSecret.parse(PG_ALICE)), "alice", "pencil")
    for secret, user in [
        (Secret(plain="pencil"), "x"),
        (Secret(md5=PG_BOB_MD5), "bob"),
        (Secret(scram=ScramSecret.parse(PG_ALICE)), "alice"),
    ]:
        with pytest.raises(AuthFailed):
            check_cleartext(secret, user, "Pencil")
    with pytest.raises(AuthFailed):
        check_cleartext(Secret(plain=""), "x", "")  # an empty password never matches
    with pytest.raises(AuthFailed):
        check_cleartext(None, "x", "pencil")


def test_password_file_format():
    users = parse_password_file(
        "# comment\n"
        "\n"
        "alice:" + PG_ALICE + "\n"
        "bob:" + PG_BOB_MD5 + "\r\n"
        "carol:pa:ss word \n"
        "  # indented comment\n"
        "dave:md5notahash\n"
    )
    assert set(users) == {"alice", "bob", "carol", "dave"}
    assert users["alice"].scram == ScramSecret.parse(PG_ALICE)
    assert users["bob"] == Secret(md5=PG_BOB_MD5)
    assert users["carol"] == Secret(plain="pa:ss word ")
    assert users["dave"] == Secret(plain="md5notahash")
    with pytest.raises(ValueError, match=r"pw:2: expected user:password"):
        parse_password_file("a:b\nno colon\n", "pw")
    with pytest.raises(ValueError, match=r'user "a" appears twice'):
        parse_password_file("a:b\na:c\n")


def test_auth_config_scram_secrets():
    cfg = AuthConfig(
        Method.MD5,
        parse_password_file(f"alice:{PG_ALICE}\nbob:{PG_BOB_MD5}\ncarol:plain\n"),
    )
    assert cfg.uses_scram("alice")  # md5 + stored SCRAM verifier → SCRAM, as Postgres
    assert not cfg.uses_scram("bob") and not cfg.uses_scram("carol")
    assert cfg.uses_scram("nobody")
    assert cfg.scram_secret("bob") is None  # md5 hash: no SCRAM secret
    derived = cfg.scram_secret("carol")
    assert derived is not None and derived.check_password("plain")
    assert cfg.scram_secret("carol") is derived  # derived once
    mock1, mock2 = cfg.mock_scram_secret("nobody"), cfg.mock_scram_secret("nobody")
    assert mock1.salt == mock2.salt and mock1.salt != cfg.mock_scram_secret("other").salt
    err = auth_failed_error("x")
    assert (err.sqlstate, err.severity) == ("28P01", "FATAL")
    assert err.message == 'password authentication failed for user "x"'


def _started() -> ScramServer:
    server = ScramServer(ScramSecret.from_password("pencil", RFC_SALT), nonce=RFC_SERVER_NONCE)
    server.client_first(RFC_CLIENT_FIRST)
    return server


@pytest.mark.parametrize(
    ("first", "sqlstate", "message"),
    [
        (b"", "08P01", "malformed SCRAM message"),
        (b"p=tls-server-end-point,,n=,r=abc", "08P01", "malformed SCRAM message"),
        (b"x,,n=,r=abc", "08P01", "malformed SCRAM message"),
        (b"n,a=bob,n=,r=abc", "0A000", "client uses authorization identity"),
        (b"n,,m=ext,n=,r=abc", "0A000", "client requires an unsupported SCRAM extension"),
        (b"n,,r=abc", "08P01", "malformed SCRAM message"),
        (b"n,,n=,r=", "08P01", "malformed SCRAM message"),
        (b"n,,n=,r=a\xffb", "08P01", "malformed SCRAM message"),
    ],
)
def test_malformed_client_first(first, sqlstate, message):
    server = ScramServer(ScramSecret.from_password("pencil"))
    with pytest.raises(PgError) as ei:
        server.client_first(first)
    assert ei.value.sqlstate == sqlstate
    assert ei.value.message.startswith(message)
    assert ei.value.severity == "FATAL"


@pytest.mark.parametrize(
    ("final", "sqlstate", "message"),
    [
        (b"c=biws,r=x", "08P01", "malformed SCRAM message"),
        (
            RFC_CLIENT_FINAL.replace(b"c=biws", b"c=eSws"),
            "28000",
            "SCRAM channel binding check failed",
        ),
        (RFC_CLIENT_FINAL.replace(b"r=rOpr", b"r=XOpr"), "08P01", "malformed SCRAM message"),
        (RFC_CLIENT_FINAL.replace(b"p=dHzb", b"p=!Hzb"), "08P01", "malformed SCRAM message"),
        (RFC_CLIENT_FINAL[:-8] + b"AAAA", "08P01", "malformed SCRAM message"),
    ],
)
def test_malformed_client_final(final, sqlstate, message):
    with pytest.raises(PgError) as ei:
        _started().client_final(final)
    assert ei.value.sqlstate == sqlstate
    assert ei.value.message == message


def test_client_final_before_client_first():
    server = ScramServer(ScramSecret.from_password("pencil"))
    with pytest.raises(PgError, match="malformed SCRAM message"):
        server.client_final(RFC_CLIENT_FINAL)


# ------------------------------------------------------------- SCRAM-SHA-256-PLUS (RFC 5929)
CB_HEADER = b"p=tls-server-end-point,,"
CB_DATA = hashlib.sha256(b"a certificate").digest()


def _plus_server(**kw) -> ScramServer:
    return ScramServer(ScramSecret.from_password("pencil"), channel_binding=CB_DATA, **kw)


def test_scram_plus_round_trip():
    server = _plus_server(plus=True)
    first = CB_HEADER + b"n=,r=clientnonce"
    server_first = server.client_first(first)
    cbind = base64.b64encode(CB_HEADER + CB_DATA)
    final, expected = client_final("pencil", first, server_first, cbind=cbind)
    assert server.client_final(final) == expected
    # the same proof with other channel-binding data (another certificate) is refused
    server = _plus_server(plus=True)
    server_first = server.client_first(first)
    other = base64.b64encode(CB_HEADER + hashlib.sha256(b"mitm").digest())
    final, _ = client_final("pencil", first, server_first, cbind=other)
    with pytest.raises(PgError) as ei:
        server.client_final(final)
    assert (ei.value.sqlstate, ei.value.message) == ("28000", "SCRAM channel binding check failed")


@pytest.mark.parametrize(
    ("plus", "first", "sqlstate", "message", "detail"),
    [
        (False, b"y,,n=,r=abc", "28000", "SCRAM channel binding negotiation error", "thinks"),
        (True, b"n,,n=,r=abc", "08P01", "malformed SCRAM message", "does not include"),
        (True, b"y,,n=,r=abc", "08P01", "malformed SCRAM message", "does not include"),
        (True, b"p=foo,,n=,r=abc", "08P01", 'unsupported SCRAM channel-binding type "foo"', None),
        (False, CB_HEADER + b"n=,r=abc", "08P01", "malformed SCRAM message", "without channel"),
    ],
)
def test_scram_plus_negotiation_errors(plus, first, sqlstate, message, detail):
    """As Postgres: over TLS (channel binding offered) a client answering "y" is refused as a
    downgrade; SCRAM-SHA-256-PLUS needs the "p=tls-server-end-point" flag."""
    with pytest.raises(PgError) as ei:
        _plus_server(plus=plus).client_first(first)
    assert (ei.value.sqlstate, ei.value.message) == (sqlstate, message)
    if detail is not None:
        assert detail in ei.value.detail


def test_n_flag_without_plus_is_fine_over_tls():
    assert _plus_server().client_first(b"n,,n=,r=abc").startswith(b"r=abc")


EC_SHA256 = """-----BEGIN CERTIFICATE-----
MIIBbzCCARWgAwIBAgIUBJ1qdNz3smG7mASF34phvUnHcQ0wCgYIKoZIzj0EAwIw
DDEKMAgGA1UEAwwBdDAgFw0yNjExMjMxNjEwNTVaGA8yMTI2MTAzMDE2MTA1NVow
DDEKMAgGA1UEAwwBdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABDwr48hy6S5d
LN10APTa43G4S0e+Ky9ofmRqqo5g5eMNLJ6oMT1ozrftk3P/zwTOD66EW8o0wslv
RiWjqJagnxajUzBRMB0GA1UdDgQWBBRx7lGl/lpHDQZsF8V2W1vIrtwAtTAfBgNV
HSMEGDAWgBRx7lGl/lpHDQZsF8V2W1vIrtwAtTAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMCA0gAMEUCIAejzKF7+tXtzQHP0tYHVrJP6Kc87YWc3s+q0RTDwEGm
AiEAou+cSpEkYzZd3ssfHg1Pw9Xgo+6dwNiT2PDWyDo6Sd4=
-----END CERTIFICATE-----"""
EC_SHA384 = """-----BEGIN CERTIFICATE-----
MIIBbjCCARWgAwIBAgIUT05RO4BQY5KnoUwFzk/vORshYg0wCgYIKoZIzj0EAwMw
DDEKMAgGA1UEAwwBdDAgFw0yNjExMjMxNjEwNTVaGA8yMTI2MTAzMDE2MTA1NVow
DDEKMAgGA1UEAwwBdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJMUBbO/Ec8j
acDAbqFzfvmlbbkFeLDFxBi+IxEmyruQdGkVWvjFNPLQFpHK7cT01jAllM+SR3oZ
gLZX/jX7Sy+jUzBRMB0GA1UdDgQWBBTqrTPhR5mIWsWPe4j+H58rGbO0yTAfBgNV
HSMEGDAWgBTqrTPhR5mIWsWPe4j+H58rGbO0yTAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMDA0cAMEQCIH9xrtPclWmmIEZUsDRlsiPoeb/I1xwzn31FckzO0bfc
AiAVUBJC6/GDbP9eMGLfPKddwIUuhhDOz4Q1UqcnAxGuAQ==
-----END CERTIFICATE-----"""
ED25519 = """-----BEGIN CERTIFICATE-----
MIIBLjCB4aADAgECAhROtYp+zMVp2slAOTSh8FXHOCRyTDAFBgMrZXAwDDEKMAgG
A1UEAwwBdDAgFw0yNjExMjMxNjEwNTVaGA8yMTI2MTAzMDE2MTA1NVowDDEKMAgG
A1UEAwwBdDAqMAUGAytlcAMhAPMpVbs5AxXTXGKeb7PcTjZCNqaeNIzPL/YpYEDI
14VVo1MwUTAdBgNVHQ4EFgQUoYKqn8kuCSbFSh+0+Ch8ucDoafYwHwYDVR0jBBgw
FoAUoYKqn8kuCSbFSh+0+Ch8ucDoafYwDwYDVR0TAQH/BAUwAwEB/zAFBgMrZXAD
QQCRAQ0Mdk7aC8ybsPEjD03PJJ6kUqDURm/I0PT8E1NXtk+WGm8mxWJfzWZcgRPT
yXTxLU8bc9/okCm/7mfiKvEC
-----END CERTIFICATE-----"""


def test_tls_server_end_point():
    import ssl

    from wire.auth import tls_server_end_point

    der256 = ssl.PEM_cert_to_DER_cert(EC_SHA256)
    der384 = ssl.PEM_cert_to_DER_cert(EC_SHA384)
    assert tls_server_end_point(der256) == hashlib.sha256(der256).digest()
    assert tls_server_end_point(der384) == hashlib.sha384(der384).digest()
    assert tls_server_end_point(ssl.PEM_cert_to_DER_cert(ED25519)) is None  # no hash defined
    assert tls_server_end_point(der256[:40]) is None
    assert tls_server_end_point(b"") is None
