"""Unit tests for wire.messages: roundtrips, byte-exact frames, framing and malformed input."""

from __future__ import annotations

import dataclasses
import struct

import pytest

from engine.errors import (
    DataException,
    PgError,
    ProtocolViolation,
    SyntaxError_,
    UndefinedTable,
)
from wire.messages import (
    CANCEL_REQUEST_CODE,
    GSSENC_REQUEST_CODE,
    MAX_MESSAGE_SIZE,
    MAX_STARTUP_PACKET_SIZE,
    PROTOCOL_3_0,
    PROTOCOL_3_2,
    SSL_REQUEST_CODE,
    AuthenticationCleartextPassword,
    AuthenticationMD5Password,
    AuthenticationOk,
    AuthenticationSASL,
    AuthenticationSASLContinue,
    AuthenticationSASLFinal,
    BackendDecoder,
    BackendKeyData,
    Bind,
    BindComplete,
    CancelRequest,
    Close,
    CloseComplete,
    CommandComplete,
    CopyData,
    CopyDone,
    CopyFail,
    CopyInResponse,
    CopyOutResponse,
    DataRow,
    Describe,
    EmptyQueryResponse,
    ErrorResponse,
    Execute,
    FieldDescription,
    Flush,
    FrontendDecoder,
    FunctionCall,
    GSSENCRequest,
    NegotiateProtocolVersion,
    NoData,
    NoticeResponse,
    ParameterDescription,
    ParameterStatus,
    Parse,
    ParseComplete,
    PasswordMessage,
    PortalSuspended,
    Query,
    ReadyForQuery,
    RowDescription,
    SSLRequest,
    StartupMessage,
    Sync,
    Terminate,
    build_password,
    build_sasl_initial,
    encode_backend,
    encode_data_rows,
    encode_frontend,
    error_fields,
    parse_password,
    parse_sasl_initial,
)


def frame(t: bytes, body: bytes) -> bytes:
    """A typed frame written independently of the codec under test."""
    return t + struct.pack("!i", len(body) + 4) + body


def drain(decoder: FrontendDecoder | BackendDecoder) -> list[object]:
    return list(iter(decoder.next_message, None))


def decode_frontend(data: bytes, *, startup_done: bool = True) -> list[object]:
    d = FrontendDecoder(startup_done=startup_done)
    d.feed(data)
    out = drain(d)
    assert d.buffered == 0
    return out


def decode_backend(data: bytes) -> list[object]:
    d = BackendDecoder()
    d.feed(data)
    out = drain(d)
    assert d.buffered == 0
    return out


# --------------------------------------------------------------------------------------------
# roundtrips

STARTUP_MESSAGES = [
    StartupMessage(PROTOCOL_3_0, {"user": "alice", "database": "db"}),
    StartupMessage(
        PROTOCOL_3_2,
        {"user": "bob", "application_name": "snowman ☃", "options": "", "_pq_.x": "1"},
    ),
    SSLRequest(),
    GSSENCRequest(),
    CancelRequest(1234, b"\x01\x02\x03\x04"),
    CancelRequest(-7, bytes(range(32))),
    CancelRequest(5, b"k" * 256),
]

TYPED_FRONTEND_MESSAGES = [
    Query("select 1"),
    Query(""),
    Query("select 'é', '☃'"),
    Parse("", "select $1::int", []),
    Parse("stmt1", "select $1, $2", [23, 4294967295]),
    Bind("", "", [], [], []),
    Bind("portal", "stmt1", [0, 1], [b"42", None], [1]),
    Bind("p", "s", [1], [b"", b"\x00\xff", None], [0, 1, 0]),
    Describe("S", "stmt1"),
    Describe("P", ""),
    Execute("", 0),
    Execute("portal", 100),
    Close("S", "stmt1"),
    Close("P", "portal"),
    Sync(),
    Flush(),
    Terminate(),
    PasswordMessage(b"secret\x00"),
    PasswordMessage(build_sasl_initial("SCRAM-SHA-256", b"n,,n=,r=abc")),
    PasswordMessage(b""),
    CopyData(b"1\t[1,2,3]\n"),
    CopyData(b""),
    CopyData(b"x" * 100_000),  # large body: exercises the memoryview copy path
    CopyDone(),
    CopyFail("client gave up"),
    FunctionCall(b"\x00\x00\x04\xd2\x00\x00"),
]

BACKEND_MESSAGES = [
    AuthenticationOk(),
    AuthenticationCleartextPassword(),
    AuthenticationMD5Password(b"\x01\x02\x03\x04"),
    AuthenticationSASL(["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"]),
    AuthenticationSASL([]),
    AuthenticationSASLContinue(b"r=abc,s=c2FsdA==,i=4096"),
    AuthenticationSASLFinal(b"v=signature"),
    ParameterStatus("server_version", "16.0"),
    ParameterStatus("application_name", ""),
    BackendKeyData(4242, b"\x00\x00\x00\x01"),
    BackendKeyData(1, bytes(range(32))),
    ReadyForQuery("I"),
    ReadyForQuery("T"),
    ReadyForQuery("E"),
    RowDescription([]),
    RowDescription(
        [
            FieldDescription("id", table_oid=16384, column_attr=1, type_oid=23, type_size=4),
            FieldDescription(
                "embedding",
                type_oid=4294967000,
                type_size=-1,
                type_modifier=3,
                format=1,
            ),
            FieldDescription("é", type_oid=25, type_size=-1),
        ]
    ),
    DataRow([]),
    DataRow([b"1", None, b"", b"[1,2,3]"]),
    CommandComplete("SELECT 3"),
    CommandComplete("INSERT 0 1"),
    EmptyQueryResponse(),
    ErrorResponse({"S": "ERROR", "V": "ERROR", "C": "42P01", "M": 'relation "t" does not exist'}),
    ErrorResponse({}),
    NoticeResponse({"S": "NOTICE", "V": "NOTICE", "C": "00000", "M": "hi", "P": "7"}),
    ParseComplete(),
    BindComplete(),
    CloseComplete(),
    NoData(),
    ParameterDescription([]),
    ParameterDescription([23, 25, 4294967295]),
    PortalSuspended(),
    CopyInResponse(0, [0, 0, 0]),
    CopyInResponse(1, []),
    CopyOutResponse(0, [0]),
    CopyData(b"1\t2\n"),
    CopyDone(),
    NegotiateProtocolVersion(PROTOCOL_3_0, []),
    NegotiateProtocolVersion(PROTOCOL_3_0, ["_pq_.foo", "_pq_.bar"]),
]


@pytest.mark.parametrize("msg", STARTUP_MESSAGES, ids=repr)
def test_startup_roundtrip(msg: object) -> None:
    data = encode_frontend(msg)  # type: ignore[arg-type]
    assert decode_frontend(data, startup_done=False) == [msg]


@pytest.mark.parametrize("msg", TYPED_FRONTEND_MESSAGES, ids=lambda m: repr(m)[:60])
def test_typed_frontend_roundtrip(msg: object) -> None:
    data = encode_frontend(msg)  # type: ignore[arg-type]
    assert data == msg.encode()  # type: ignore[attr-defined]
    assert decode_frontend(data) == [msg]


@pytest.mark.parametrize("msg", BACKEND_MESSAGES, ids=lambda m: repr(m)[:60])
def test_backend_roundtrip(msg: object) -> None:
    data = encode_backend(msg)  # type: ignore[arg-type]
    assert decode_backend(data) == [msg]


def test_every_message_class_is_roundtripped() -> None:
    import wire.messages as m

    covered = {type(x) for x in STARTUP_MESSAGES + TYPED_FRONTEND_MESSAGES + BACKEND_MESSAGES}
    declared = set(m.FrontendMessage.__args__) | set(m.BackendMessage.__args__)
    assert declared - covered == set()


# --------------------------------------------------------------------------------------------
# byte-exact frames


def test_ready_for_query_bytes() -> None:
    assert ReadyForQuery("I").encode() == b"Z\x00\x00\x00\x05I"
    assert ReadyForQuery("E").encode() == b"Z\x00\x00\x00\x05E"
    assert decode_backend(b"Z\x00\x00\x00\x05T") == [ReadyForQuery("T")]


def test_ssl_request_bytes() -> None:
    raw = b"\x00\x00\x00\x08\x04\xd2\x16\x2f"  # length 8, 1234.5679
    assert SSLRequest().encode() == raw
    assert struct.unpack("!ii", raw) == (8, SSL_REQUEST_CODE)
    assert decode_frontend(raw, startup_done=False) == [SSLRequest()]
    gss = b"\x00\x00\x00\x08\x04\xd2\x16\x30"  # 1234.5680
    assert GSSENCRequest().encode() == gss
    assert struct.unpack("!ii", gss)[1] == GSSENC_REQUEST_CODE


def test_startup_message_bytes() -> None:
    body = b"\x00\x03\x00\x00user\x00alice\x00database\x00db\x00\x00"
    raw = struct.pack("!i", len(body) + 4) + body
    assert raw[:4] == b"\x00\x00\x00\x20"  # 32 bytes in all
    msg = StartupMessage(PROTOCOL_3_0, {"user": "alice", "database": "db"})
    assert msg.encode() == raw
    assert decode_frontend(raw, startup_done=False) == [msg]


def test_cancel_request_bytes() -> None:
    raw = b"\x00\x00\x00\x10\x04\xd2\x16\x2e\x00\x00\x30\x39\xde\xad\xbe\xef"
    msg = CancelRequest(12345, b"\xde\xad\xbe\xef")
    assert msg.encode() == raw
    assert struct.unpack("!ii", raw[:8])[1] == CANCEL_REQUEST_CODE
    assert decode_frontend(raw, startup_done=False) == [msg]


@pytest.mark.parametrize(
    ("msg", "raw"),
    [
        (Query("select 1"), b"Q\x00\x00\x00\x0dselect 1\x00"),
        (Sync(), b"S\x00\x00\x00\x04"),
        (Terminate(), b"X\x00\x00\x00\x04"),
        (Execute("", 0), b"E\x00\x00\x00\x09\x00\x00\x00\x00\x00"),
        (Describe("S", "s1"), b"D\x00\x00\x00\x08Ss1\x00"),
        (Parse("s1", "q", [23]), frame(b"P", b"s1\x00q\x00\x00\x01\x00\x00\x00\x17")),
        (
            Bind("", "s1", [1], [b"ab", None], []),
            frame(
                b"B",
                b"\x00s1\x00"
                b"\x00\x01\x00\x01"  # one format code: binary
                b"\x00\x02\x00\x00\x00\x02ab\xff\xff\xff\xff"  # two params, one NULL
                b"\x00\x00",  # no result format codes
            ),
        ),
    ],
    ids=lambda x: type(x).__name__ if not isinstance(x, bytes) else "raw",
)
def test_frontend_bytes(msg: object, raw: bytes) -> None:
    assert encode_frontend(msg) == raw  # type: ignore[arg-type]
    assert decode_frontend(raw) == [msg]


@pytest.mark.parametrize(
    ("msg", "raw"),
    [
        (AuthenticationOk(), b"R\x00\x00\x00\x08\x00\x00\x00\x00"),
        (AuthenticationMD5Password(b"salt"), b"R\x00\x00\x00\x0c\x00\x00\x00\x05salt"),
        (
            AuthenticationSASL(["SCRAM-SHA-256"]),
            frame(b"R", b"\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00"),
        ),
        (ParameterStatus("a", "b"), b"S\x00\x00\x00\x08a\x00b\x00"),
        (
            BackendKeyData(7, b"\x00\x00\x00\x09"),
            b"K\x00\x00\x00\x0c\x00\x00\x00\x07\x00\x00\x00\x09",
        ),
        (CommandComplete("SELECT 1"), b"C\x00\x00\x00\x0dSELECT 1\x00"),
        (DataRow([b"12", None]), b"D\x00\x00\x00\x10\x00\x02\x00\x00\x00\x0212\xff\xff\xff\xff"),
        (
            RowDescription([FieldDescription("a", type_oid=23, type_size=4)]),
            frame(
                b"T",
                b"\x00\x01a\x00"
                b"\x00\x00\x00\x00\x00\x00"  # table oid, column attr
                b"\x00\x00\x00\x17\x00\x04"  # int4, size 4
                b"\xff\xff\xff\xff\x00\x00",  # typmod -1, text format
            ),
        ),
        (
            ErrorResponse({"S": "ERROR", "C": "42601", "M": "bad"}),
            frame(b"E", b"SERROR\x00C42601\x00Mbad\x00\x00"),
        ),
        (ParameterDescription([25]), b"t\x00\x00\x00\x0a\x00\x01\x00\x00\x00\x19"),
        (CopyInResponse(0, [0, 1]), frame(b"G", b"\x00\x00\x02\x00\x00\x00\x01")),
        (CopyOutResponse(1, []), frame(b"H", b"\x01\x00\x00")),
        (
            NegotiateProtocolVersion(PROTOCOL_3_0, ["_pq_.a"]),
            frame(b"v", b"\x00\x03\x00\x00\x00\x00\x00\x01_pq_.a\x00"),
        ),
        (EmptyQueryResponse(), b"I\x00\x00\x00\x04"),
        (ParseComplete(), b"1\x00\x00\x00\x04"),
        (NoData(), b"n\x00\x00\x00\x04"),
    ],
    ids=lambda x: type(x).__name__ if not isinstance(x, bytes) else "raw",
)
def test_backend_bytes(msg: object, raw: bytes) -> None:
    assert encode_backend(msg) == raw  # type: ignore[arg-type]
    assert decode_backend(raw) == [msg]


# --------------------------------------------------------------------------------------------
# streaming


SESSION_FRONTEND = [SSLRequest(), StartupMessage(PROTOCOL_3_0, {"user": "u"})] + (
    TYPED_FRONTEND_MESSAGES
)


def _session_bytes() -> bytes:
    return b"".join(encode_frontend(m) for m in SESSION_FRONTEND)  # type: ignore[arg-type]


def test_several_frontend_messages_in_one_feed() -> None:
    d = FrontendDecoder()
    d.feed(_session_bytes())
    assert drain(d) == SESSION_FRONTEND
    assert d.buffered == 0
    assert d.startup_done


def test_frontend_one_byte_at_a_time() -> None:
    data = _session_bytes()
    d = FrontendDecoder()
    got = []
    for i in range(len(data)):
        d.feed(data[i : i + 1])
        got.extend(drain(d))
    assert got == SESSION_FRONTEND
    assert d.buffered == 0


def test_backend_one_byte_at_a_time_and_in_one_feed() -> None:
    data = b"".join(encode_backend(m) for m in BACKEND_MESSAGES)  # type: ignore[arg-type]
    d = BackendDecoder()
    got = []
    for i in range(len(data)):
        d.feed(memoryview(data)[i : i + 1])
        got.extend(drain(d))
    assert got == BACKEND_MESSAGES
    assert decode_backend(data) == BACKEND_MESSAGES


def test_partial_frame_waits_and_is_reported_as_buffered() -> None:
    raw = Query("select 42").encode()
    d = FrontendDecoder(startup_done=True)
    d.feed(raw[:-1])
    assert d.next_message() is None
    assert d.buffered == len(raw) - 1
    d.feed(raw[-1:])
    assert d.next_message() == Query("select 42")
    assert d.next_message() is None
    assert d.buffered == 0


def test_many_small_messages_in_one_feed() -> None:
    n = 100_000
    d = FrontendDecoder(startup_done=True)
    d.feed(Sync().encode() * n + Execute("", 0).encode() * n)
    msgs = drain(d)
    assert len(msgs) == 2 * n
    assert msgs[0] == Sync() and msgs[-1] == Execute("", 0)


# --------------------------------------------------------------------------------------------
# startup mode


def test_startup_state_transitions() -> None:
    d = FrontendDecoder()
    assert not d.startup_done
    d.feed(SSLRequest().encode() + GSSENCRequest().encode())
    assert d.next_message() == SSLRequest()
    assert not d.startup_done
    assert d.next_message() == GSSENCRequest()
    assert not d.startup_done
    # typed-looking bytes are still read as a startup packet while in startup mode
    d.feed(StartupMessage(PROTOCOL_3_0, {"user": "u"}).encode() + Sync().encode())
    assert d.next_message() == StartupMessage(PROTOCOL_3_0, {"user": "u"})
    assert d.startup_done
    assert d.next_message() == Sync()


def test_cancel_request_does_not_leave_startup_mode() -> None:
    d = FrontendDecoder()
    d.feed(CancelRequest(1, b"abcd").encode())
    assert d.next_message() == CancelRequest(1, b"abcd")
    assert not d.startup_done


def test_switch_to_typed_explicitly() -> None:
    d = FrontendDecoder()
    d.switch_to_typed()
    assert d.startup_done
    d.feed(Sync().encode())
    assert d.next_message() == Sync()


def test_data_pipelined_after_ssl_request_is_visible() -> None:
    d = FrontendDecoder()
    d.feed(SSLRequest().encode() + StartupMessage(PROTOCOL_3_0, {"user": "u"}).encode())
    assert d.next_message() == SSLRequest()
    assert d.buffered > 0  # the server must refuse to start TLS with this pending


@pytest.mark.parametrize(
    ("protocol", "expected_params"),
    [
        (PROTOCOL_3_2, {"user": "u"}),
        ((3 << 16) | 99, {"user": "u"}),  # future 3.x minor: still parsed, server negotiates
        (2 << 16, {}),  # protocol 2.0: unknown layout, left to the server to reject
        (80877105, {}),  # 1234.5681: an unknown special code
    ],
)
def test_unknown_protocol_versions_are_returned(protocol: int, expected_params: dict) -> None:
    body = struct.pack("!i", protocol) + b"user\x00u\x00\x00"
    d = FrontendDecoder()
    d.feed(struct.pack("!i", len(body) + 4) + body)
    msg = d.next_message()
    assert msg == StartupMessage(protocol, expected_params)
    assert d.startup_done


def test_startup_empty_value_and_duplicate_keys() -> None:
    body = b"\x00\x03\x00\x00user\x00a\x00options\x00\x00user\x00b\x00\x00"
    msg = decode_frontend(struct.pack("!i", len(body) + 4) + body, startup_done=False)
    assert msg == [StartupMessage(PROTOCOL_3_0, {"user": "b", "options": ""})]


# --------------------------------------------------------------------------------------------
# malformed input


def _startup(code: int, body: bytes) -> bytes:
    return struct.pack("!ii", len(body) + 8, code) + body


MALFORMED_STARTUP = {
    "length_too_small": b"\x00\x00\x00\x04\x00\x03\x00\x00",
    "length_negative": b"\xff\xff\xff\xf0",
    "length_zero": b"\x00\x00\x00\x00",
    "length_over_limit": struct.pack("!i", MAX_STARTUP_PACKET_SIZE + 5),
    "ssl_request_with_trailing_bytes": _startup(SSL_REQUEST_CODE, b"\x00\x00\x00\x00"),
    "gssenc_request_with_trailing_bytes": _startup(GSSENC_REQUEST_CODE, b"x"),
    "cancel_without_key": _startup(CANCEL_REQUEST_CODE, b"\x00\x00\x00\x01"),
    "cancel_short_key": _startup(CANCEL_REQUEST_CODE, b"\x00\x00\x00\x01abc"),
    "cancel_key_too_long": _startup(CANCEL_REQUEST_CODE, b"\x00\x00\x00\x01" + b"k" * 257),
    "startup_without_terminator": _startup(PROTOCOL_3_0, b"user\x00u\x00"),
    "startup_empty_body": _startup(PROTOCOL_3_0, b""),
    "startup_missing_value": _startup(PROTOCOL_3_0, b"user\x00"),
    "startup_string_missing_nul": _startup(PROTOCOL_3_0, b"user\x00u"),
    "startup_trailing_garbage": _startup(PROTOCOL_3_0, b"user\x00u\x00\x00junk"),
    "startup_bad_utf8": _startup(PROTOCOL_3_0, b"user\x00\xff\xfe\x00\x00"),
}


@pytest.mark.parametrize("raw", MALFORMED_STARTUP.values(), ids=MALFORMED_STARTUP.keys())
def test_malformed_startup_is_fatal(raw: bytes) -> None:
    d = FrontendDecoder()
    d.feed(raw)
    with pytest.raises(ProtocolViolation) as exc:
        d.next_message()
    assert exc.value.sqlstate == "08P01"
    assert exc.value.severity == "FATAL"
    assert d.broken
    assert not d.startup_done
    # the decoder stays broken: same error again, further data ignored
    d.feed(SSLRequest().encode())
    with pytest.raises(ProtocolViolation) as again:
        d.next_message()
    assert again.value is exc.value


MALFORMED_TYPED_FATAL = {
    "unknown_type": b"?\x00\x00\x00\x04",
    "unknown_type_nul": b"\x00\x00\x00\x00\x04",
    "backend_type_from_client": b"Z\x00\x00\x00\x05I",
    "length_too_small": b"Q\x00\x00\x00\x03",
    "length_negative": b"Q\xff\xff\xff\xff",
}


@pytest.mark.parametrize("raw", MALFORMED_TYPED_FATAL.values(), ids=MALFORMED_TYPED_FATAL.keys())
def test_malformed_typed_framing_is_fatal(raw: bytes) -> None:
    d = FrontendDecoder(startup_done=True)
    d.feed(raw)
    with pytest.raises(ProtocolViolation) as exc:
        d.next_message()
    assert exc.value.severity == "FATAL"
    assert d.broken
    with pytest.raises(ProtocolViolation):
        d.next_message()


def test_unknown_type_is_rejected_before_its_length_arrives() -> None:
    d = FrontendDecoder(startup_done=True)
    d.feed(b"!")
    with pytest.raises(ProtocolViolation):
        d.next_message()


MALFORMED_TYPED_BODY = {
    "query_missing_nul": frame(b"Q", b"select 1"),
    "query_trailing_garbage": frame(b"Q", b"select 1\x00junk"),
    "query_empty_body": frame(b"Q", b""),
    "parse_oid_count_overruns": frame(b"P", b"s\x00q\x00\x00\x03\x00\x00\x00\x17"),
    "parse_missing_count": frame(b"P", b"s\x00q\x00"),
    "bind_param_count_overruns": frame(b"B", b"\x00\x00\x00\x00\x00\x02\x00\x00\x00\x01a"),
    "bind_param_length_overruns": frame(b"B", b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x09ab"),
    "bind_param_length_below_minus_one": frame(
        b"B", b"\x00\x00\x00\x00\x00\x01\xff\xff\xff\xfe\x00\x00"
    ),
    "bind_format_count_mismatch": frame(
        b"B",
        b"\x00\x00\x00\x02\x00\x00\x00\x00\x00\x03" + b"\xff\xff\xff\xff" * 3 + b"\x00\x00",
    ),
    "bind_missing_result_formats": frame(b"B", b"\x00\x00\x00\x00\x00\x00"),
    "describe_bad_kind": frame(b"D", b"Xname\x00"),
    "describe_empty": frame(b"D", b""),
    "close_bad_kind": frame(b"C", b"s\x00"),
    "execute_truncated": frame(b"E", b"\x00\x00\x00"),
    "execute_trailing_garbage": frame(b"E", b"\x00\x00\x00\x00\x00\x00"),
    "sync_with_body": frame(b"S", b"\x00"),
    "terminate_with_body": frame(b"X", b"bye"),
    "copy_fail_missing_nul": frame(b"f", b"oops"),
}


@pytest.mark.parametrize("raw", MALFORMED_TYPED_BODY.values(), ids=MALFORMED_TYPED_BODY.keys())
def test_malformed_typed_body_is_an_error_but_not_fatal(raw: bytes) -> None:
    d = FrontendDecoder(startup_done=True)
    d.feed(raw + Sync().encode())
    with pytest.raises(ProtocolViolation) as exc:
        d.next_message()
    assert exc.value.sqlstate == "08P01"
    assert exc.value.severity == "ERROR"
    assert not d.broken
    # the bad frame was consumed; decoding resumes at the next frame
    assert d.next_message() == Sync()
    assert d.buffered == 0


def test_invalid_utf8_in_typed_message_is_22021_and_not_fatal() -> None:
    d = FrontendDecoder(startup_done=True)
    d.feed(frame(b"Q", b"select '\xff'\x00") + Sync().encode())
    with pytest.raises(DataException) as exc:
        d.next_message()
    assert exc.value.sqlstate == "22021"
    assert not d.broken
    assert d.next_message() == Sync()


MALFORMED_BACKEND = {
    "ready_bad_status": b"Z\x00\x00\x00\x05X",
    "ready_no_status": b"Z\x00\x00\x00\x04",
    "data_row_count_overruns": frame(b"D", b"\x00\x02\x00\x00\x00\x01a"),
    "data_row_negative_length": frame(b"D", b"\x00\x01\xff\xff\xff\x00"),
    "data_row_trailing": frame(b"D", b"\x00\x00z"),
    "row_description_truncated_field": frame(b"T", b"\x00\x01a\x00\x00\x00"),
    "error_missing_terminator": frame(b"E", b"SERROR\x00"),
    "error_value_missing_nul": frame(b"E", b"SERROR"),
    "key_data_short_secret": frame(b"K", b"\x00\x00\x00\x01ab"),
    "auth_unknown_code": frame(b"R", b"\x00\x00\x00\x07"),
    "auth_ok_trailing": frame(b"R", b"\x00\x00\x00\x00\x00"),
    "md5_short_salt": frame(b"R", b"\x00\x00\x00\x05ab"),
    "sasl_missing_list_terminator": frame(b"R", b"\x00\x00\x00\x0aSCRAM-SHA-256\x00"),
    "negotiate_count_overruns": frame(b"v", b"\x00\x03\x00\x00\x00\x00\x00\x02a\x00"),
    "negotiate_negative_count": frame(b"v", b"\x00\x03\x00\x00\xff\xff\xff\xff"),
    "parameter_description_overruns": frame(b"t", b"\x00\x02\x00\x00\x00\x17"),
}


@pytest.mark.parametrize("raw", MALFORMED_BACKEND.values(), ids=MALFORMED_BACKEND.keys())
def test_malformed_backend_body(raw: bytes) -> None:
    d = BackendDecoder()
    d.feed(raw + ReadyForQuery("I").encode())
    with pytest.raises(ProtocolViolation):
        d.next_message()
    assert not d.broken
    assert d.next_message() == ReadyForQuery("I")


@pytest.mark.parametrize("raw", [b"Q\x00\x00\x00\x04", b"\x7f", b"x\x00\x00\x00\x04"])
def test_backend_decoder_rejects_unknown_types(raw: bytes) -> None:
    d = BackendDecoder()
    d.feed(raw)
    with pytest.raises(ProtocolViolation):
        d.next_message()
    assert d.broken


# --------------------------------------------------------------------------------------------
# size limits


def test_default_limits() -> None:
    assert MAX_MESSAGE_SIZE == 1 << 30
    assert MAX_STARTUP_PACKET_SIZE == 10000
    d = FrontendDecoder(startup_done=True)
    # a 1 GiB + 1 payload is refused from its header alone, without buffering the body
    d.feed(b"d" + struct.pack("!i", (1 << 30) + 5))
    with pytest.raises(ProtocolViolation, match="exceeds"):
        d.next_message()
    d = FrontendDecoder(startup_done=True)
    d.feed(b"d" + struct.pack("!i", (1 << 30) + 4))
    assert d.next_message() is None  # exactly 1 GiB is allowed: waits for the body
    assert not d.broken


def test_typed_max_length_enforced() -> None:
    limit = 100
    d = FrontendDecoder(startup_done=True, max_message_size=limit)
    d.feed(CopyData(b"x" * limit).encode())
    assert d.next_message() == CopyData(b"x" * limit)
    d.feed(CopyData(b"x" * (limit + 1)).encode())
    with pytest.raises(ProtocolViolation) as exc:
        d.next_message()
    assert exc.value.severity == "FATAL"
    assert d.broken


def test_backend_max_length_enforced() -> None:
    d = BackendDecoder(max_message_size=10)
    d.feed(CommandComplete("SELECT 123").encode())  # 11-byte payload
    with pytest.raises(ProtocolViolation):
        d.next_message()


def test_startup_max_length_enforced() -> None:
    # payload = code (4) + "user\0" "\0" (6) + "options\0" (8) + pad + "\0" + final "\0"
    pad = "x" * (MAX_STARTUP_PACKET_SIZE - 20)
    ok = StartupMessage(PROTOCOL_3_0, {"user": "", "options": pad})
    raw = ok.encode()
    assert len(raw) - 4 == MAX_STARTUP_PACKET_SIZE
    assert decode_frontend(raw, startup_done=False) == [ok]
    too_big = StartupMessage(PROTOCOL_3_0, {"user": "", "options": pad + "x"}).encode()
    d = FrontendDecoder()
    d.feed(too_big[:4])  # the length word alone is enough to refuse
    with pytest.raises(ProtocolViolation, match="invalid length of startup packet"):
        d.next_message()


def test_custom_startup_limit() -> None:
    d = FrontendDecoder(max_startup_size=20)
    d.feed(StartupMessage(PROTOCOL_3_0, {"user": "someone-long"}).encode())
    with pytest.raises(ProtocolViolation):
        d.next_message()


# --------------------------------------------------------------------------------------------
# encode_data_rows


def test_encode_data_rows_matches_individual_rows() -> None:
    rows = [[b"1", b"abc", None], [None, None, None], [b"", b"\x00" * 300, b"z"], []]
    expected = b"".join(DataRow(list(r)).encode() for r in rows)
    assert encode_data_rows(rows) == expected
    assert encode_data_rows(tuple(r) for r in rows) == expected  # any iterable of sequences
    assert decode_backend(expected) == [DataRow(list(r)) for r in rows]


def test_encode_data_rows_empty_and_bytes_like() -> None:
    assert encode_data_rows([]) == b""
    assert encode_data_rows([[bytearray(b"ab")]]) == DataRow([b"ab"]).encode()


def test_encode_data_rows_many() -> None:
    rows = [(str(i).encode(), b"hello world", b"[1,2,3]") for i in range(10_000)]
    decoded = decode_backend(encode_data_rows(rows))
    assert len(decoded) == 10_000
    assert decoded[9_999] == DataRow([b"9999", b"hello world", b"[1,2,3]"])


# --------------------------------------------------------------------------------------------
# error_fields


def test_error_fields_full() -> None:
    err = UndefinedTable('relation "t" does not exist', detail="d", hint="h", position=15)
    assert error_fields(err) == {
        "S": "ERROR",
        "V": "ERROR",
        "C": "42P01",
        "M": 'relation "t" does not exist',
        "D": "d",
        "H": "h",
        "P": "15",
    }
    assert list(error_fields(err)) == ["S", "V", "C", "M", "D", "H", "P"]


def test_error_fields_minimal_and_explicit_sqlstate() -> None:
    assert error_fields(SyntaxError_("syntax error at end of input")) == {
        "S": "ERROR",
        "V": "ERROR",
        "C": "42601",
        "M": "syntax error at end of input",
    }
    assert error_fields(PgError("x", sqlstate="22P02"))["C"] == "22P02"


def test_error_fields_fatal_from_decoder_and_roundtrip() -> None:
    d = FrontendDecoder(startup_done=True)
    d.feed(b"?")
    with pytest.raises(ProtocolViolation) as exc:
        d.next_message()
    fields = error_fields(exc.value)
    assert fields["S"] == fields["V"] == "FATAL"
    assert fields["C"] == "08P01"
    assert decode_backend(ErrorResponse(fields).encode()) == [ErrorResponse(fields)]


def test_error_fields_non_pg_error_and_nul() -> None:
    fields = error_fields(ZeroDivisionError("division by zero"))
    assert fields == {"S": "ERROR", "V": "ERROR", "C": "XX000", "M": "division by zero"}
    assert error_fields(KeyError())["M"] == "KeyError"
    nul = error_fields(PgError("bad \x00 byte"))
    assert nul["M"] == "bad \\x00 byte"
    ErrorResponse(nul).encode()  # encodable


# --------------------------------------------------------------------------------------------
# password / SASL helpers


def test_sasl_initial_helpers() -> None:
    body = build_sasl_initial("SCRAM-SHA-256", b"n,,n=,r=nonce")
    assert body == b"SCRAM-SHA-256\x00\x00\x00\x00\x0dn,,n=,r=nonce"
    assert parse_sasl_initial(body) == ("SCRAM-SHA-256", b"n,,n=,r=nonce")
    assert parse_sasl_initial(build_sasl_initial("M", None)) == ("M", None)
    assert parse_sasl_initial(build_sasl_initial("M", b"")) == ("M", b"")


@pytest.mark.parametrize(
    "body",
    [
        b"SCRAM-SHA-256",  # mechanism missing NUL
        b"SCRAM-SHA-256\x00",  # missing length
        b"SCRAM-SHA-256\x00\x00\x00\x00\x05abc",  # length overruns
        b"SCRAM-SHA-256\x00\x00\x00\x00\x01abc",  # trailing bytes
        b"SCRAM-SHA-256\x00\xff\xff\xff\xfe",  # length below -1
    ],
)
def test_sasl_initial_malformed(body: bytes) -> None:
    with pytest.raises(ProtocolViolation):
        parse_sasl_initial(body)


def test_password_helpers() -> None:
    assert build_password("hunter2") == b"hunter2\x00"
    assert parse_password(b"hunter2\x00") == "hunter2"
    assert parse_password(b"md5abc\x00") == "md5abc"
    with pytest.raises(ProtocolViolation):
        parse_password(b"no-nul")
    with pytest.raises(ProtocolViolation):
        parse_password(b"pw\x00extra")


# --------------------------------------------------------------------------------------------
# encoder guards


def test_direction_checks() -> None:
    with pytest.raises(TypeError):
        encode_frontend(ReadyForQuery("I"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encode_backend(Query("select 1"))  # type: ignore[arg-type]
    # shared by both directions
    assert encode_frontend(CopyDone()) == encode_backend(CopyDone()) == b"c\x00\x00\x00\x04"


@pytest.mark.parametrize(
    "msg",
    [
        Query("select '\x00'"),
        Parse("a\x00b", "q"),
        ParameterStatus("k", "v\x00"),
        StartupMessage(PROTOCOL_3_0, {"us\x00er": "u"}),
        Describe("X", "name"),
        Close("", "name"),
        ReadyForQuery("Q"),
        AuthenticationMD5Password(b"abc"),
        ErrorResponse({"SV": "x"}),
        ErrorResponse({"\x00": "x"}),
        ErrorResponse({"é": "x"}),
    ],
    ids=repr,
)
def test_unencodable_messages_raise_value_error(msg: object) -> None:
    with pytest.raises(ValueError):
        msg.encode()  # type: ignore[attr-defined]


def test_messages_are_frozen_and_comparable() -> None:
    q = Query("select 1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.sql = "drop table t"  # type: ignore[misc]
    assert q == Query("select 1") and q != Query("select 2")
    assert Sync() != Flush()
    assert not hasattr(q, "__dict__")  # slots


def test_field_description_defaults() -> None:
    f = FieldDescription("v", type_oid=16390, type_size=-1)
    assert (f.table_oid, f.column_attr, f.type_modifier, f.format) == (0, 0, -1, 0)
    with pytest.raises(TypeError):
        FieldDescription("v", 1, 2, 3, 4)  # type: ignore[misc]  # keyword-only after name
