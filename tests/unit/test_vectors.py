"""Tests for sqlfront.vectors: pgvector's vector I/O and the distance functions.

Expected float texts marked "PG 15" were produced by a real PostgreSQL 15.18
(``SELECT x::float4::text`` / ``x::float8::text``, the same Ryu code pgvector's vector_out
calls); error texts follow pgvector 0.8's src/vector.c.
"""

from __future__ import annotations

import struct
from decimal import Decimal

import numpy as np
import pytest

from engine.errors import (
    DataException,
    InvalidTextRepresentation,
    PgError,
    ProgramLimitExceeded,
    ProtocolViolation,
)
from sqlfront.vectors import (
    SparseVectorValue,
    decode_halfvec_binary,
    decode_sparsevec_binary,
    decode_vector_binary,
    encode_vector_binary,
    format_float4,
    format_float8,
    format_vector_text,
    format_vectors_bulk,
    parse_vector_text,
    parse_vectors_bulk,
)


def f32(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=np.float32)


# --------------------------------------------------------------------------------------------
# text input


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1,2,3]", f32(1, 2, 3)),
        (" [ 1 , 2 , 3 ] ", f32(1, 2, 3)),
        ("\t\n[1,\n2\r,\v3]\f ", f32(1, 2, 3)),
        ("[1e-3, -2.5, .5]", f32(1e-3, -2.5, 0.5)),
        ("[+1, 1., -0, 1E+2]", f32(1, 1, -0.0, 100)),
        ("[0x1p-2, 0X.8, -0x10]", f32(0.25, 0.5, -16)),  # strtof accepts hex floats
        ("[1e-50]", f32(0)),  # underflow is silently 0 in pgvector (unlike float4in)
        ("[1e-40]", f32(1e-40)),  # subnormal
        ("[3.4028235e38]", f32(3.4028235e38)),
    ],
)
def test_parse_valid(text: str, expected: np.ndarray) -> None:
    got = parse_vector_text(text)
    assert got.dtype == np.float32 and got.ndim == 1
    assert got.tobytes() == expected.tobytes()


def test_parse_negative_zero_keeps_sign() -> None:
    assert np.signbit(parse_vector_text("[-0]")[0])
    assert np.signbit(parse_vector_text("[-0x1p-99999]")[0])


# strtof rounds the decimal directly to float4; going through float8 would round twice.
# Expected values: PG 15 float4in (also strtof) on the same strings.
@pytest.mark.parametrize(
    ("token", "expected_text"),
    [
        ("1.00000005960464477539062500001", "1.0000001"),  # just above a float4 midpoint
        ("1.000000059604644775390625", "1"),  # exactly the midpoint: ties to even
        ("1.00000005960464477539062499999", "1"),
        ("1.0000001788139343261718750", "1.0000002"),
        ("3.40282356779733661637539395458142568447e38", "3.4028235e+38"),
    ],
)
def test_parse_rounds_like_strtof(token: str, expected_text: str) -> None:
    assert format_vector_text(parse_vector_text(f"[{token}]")) == f"[{expected_text}]"
    bulk = parse_vectors_bulk([f"[{token}, 1]"], 2)
    assert format_vector_text(bulk[0]) == f"[{expected_text},1]"


SYNTAX = "22P02"
START = 'Vector contents must start with "[".'
JUNK = "Junk after closing right brace."


@pytest.mark.parametrize(
    ("text", "cls", "sqlstate", "message", "detail"),
    [
        ("", InvalidTextRepresentation, SYNTAX, 'invalid input syntax for type vector: ""', START),
        ("1,2", InvalidTextRepresentation, SYNTAX, None, START),
        ("  (1,2)", InvalidTextRepresentation, SYNTAX, None, START),
        ("[1,2", InvalidTextRepresentation, SYNTAX, None, None),
        ("[", InvalidTextRepresentation, SYNTAX, None, None),
        ("[1,,2]", InvalidTextRepresentation, SYNTAX, None, None),
        ("[,1]", InvalidTextRepresentation, SYNTAX, None, None),
        ("[1,2,]", InvalidTextRepresentation, SYNTAX, None, None),
        ("[1 2]", InvalidTextRepresentation, SYNTAX, None, None),
        ("[1e]", InvalidTextRepresentation, SYNTAX, None, None),
        ("[1_0]", InvalidTextRepresentation, SYNTAX, None, None),
        ("[a]", InvalidTextRepresentation, SYNTAX, None, None),
        ("[1,2]x", InvalidTextRepresentation, SYNTAX, None, JUNK),
        ("[1,2] ]", InvalidTextRepresentation, SYNTAX, None, JUNK),
        ("[[1,2]]", InvalidTextRepresentation, SYNTAX, None, None),
        ("[]", DataException, "22000", "vector must have at least 1 dimension", None),
        ("[ ]", DataException, "22000", "vector must have at least 1 dimension", None),
        ("[nan]", DataException, "22000", "NaN not allowed in vector", None),
        ("[1, NaN]", DataException, "22000", "NaN not allowed in vector", None),
        ("[inf]", DataException, "22000", "infinite value not allowed in vector", None),
        ("[-Infinity]", DataException, "22000", "infinite value not allowed in vector", None),
        ("[1e39]", DataException, "22003", '"1e39" is out of range for type vector', None),
        ("[1, -1e39]", DataException, "22003", '"-1e39" is out of range for type vector', None),
        ("[0x1p200]", DataException, "22003", '"0x1p200" is out of range for type vector', None),
        ("[1e99999999]", DataException, "22003", None, None),
        # errors come in scan order: the first bad element wins
        ("[nan, x]", DataException, "22000", "NaN not allowed in vector", None),
        ("[1e39, nan]", DataException, "22003", '"1e39" is out of range for type vector', None),
    ],
)
def test_parse_errors(
    text: str, cls: type[PgError], sqlstate: str, message: str | None, detail: str | None
) -> None:
    with pytest.raises(cls) as ei:
        parse_vector_text(text)
    err = ei.value
    assert err.sqlstate == sqlstate
    if message is None and sqlstate == SYNTAX:
        message = f'invalid input syntax for type vector: "{text}"'
    if message is not None:
        assert err.message == message
    assert err.detail == detail


def test_parse_dimension_limits() -> None:
    ok = "[" + ",".join(["1"] * 16000) + "]"
    assert parse_vector_text(ok).shape == (16000,)
    with pytest.raises(ProgramLimitExceeded) as ei:
        parse_vector_text("[" + ",".join(["1"] * 16001) + "]")
    assert ei.value.sqlstate == "54000"
    assert ei.value.message == "vector cannot have more than 16000 dimensions"
    # pgvector checks the limit before looking at element 16001, even if it is garbage
    with pytest.raises(ProgramLimitExceeded):
        parse_vector_text("[" + ",".join(["1"] * 16000) + ",x]")


def test_parse_expected_dim() -> None:
    with pytest.raises(DataException) as ei:
        parse_vector_text("[1,2]", expected_dim=3)
    assert (ei.value.sqlstate, ei.value.message) == ("22000", "expected 3 dimensions, not 2")
    assert parse_vector_text("[1,2,3]", expected_dim=3).shape == (3,)
    assert parse_vector_text("[1,2]", expected_dim=-1).shape == (2,)


def test_parse_keeps_original_text_in_message() -> None:
    with pytest.raises(InvalidTextRepresentation) as ei:
        parse_vector_text("  [1,x] ")
    assert ei.value.message == 'invalid input syntax for type vector: "  [1,x] "'


# --------------------------------------------------------------------------------------------
# bulk input


def _random_f32(rng: np.random.Generator, n: int) -> np.ndarray:
    """Finite float32 values with every exponent (random bit patterns)."""
    bits = rng.integers(0, 2**32, size=n * 2, dtype=np.uint64).astype(np.uint32)
    f = bits.view(np.float32)
    return f[np.isfinite(f)][:n]


def test_bulk_equals_per_item() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((200, 16)).astype(np.float32)
    texts = format_vectors_bulk(a)
    # vary the spelling: blanks, exponents, plus signs, and a few for the exact parser
    texts[3] = " [ " + " , ".join(f"{v:.9e}" for v in a[3].tolist()) + " ] "
    texts[4] = "[" + ",".join(f"+{v!r}" if v >= 0 else repr(v) for v in a[4].tolist()) + "]"
    texts[5] = "[" + ",".join(float(v).hex() for v in a[5].tolist()) + "]"
    texts[6] = "[" + ",\n".join(repr(float(v)) for v in a[6].tolist()) + "]"
    bulk = parse_vectors_bulk(texts, 16)
    per_item = np.stack([parse_vector_text(t, 16) for t in texts])
    assert bulk.dtype == np.float32 and bulk.shape == (200, 16)
    assert bulk.tobytes() == per_item.tobytes()
    assert bulk.tobytes() == a.tobytes()


def test_bulk_exact_on_midpoints() -> None:
    # decimal strings on and next to float4 midpoints: the fast path must notice them
    rng = np.random.default_rng(2)
    f = np.abs(rng.standard_normal(64)).astype(np.float32)
    hi = np.nextafter(f, np.float32(np.inf))
    mids = [(float(a) + float(b)) / 2 for a, b in zip(f, hi)]  # exact in float8
    exact = [format(Decimal(m), "f") for m in mids]  # the midpoints' exact decimal values
    toks = exact + [e + "000000001" for e in exact]
    texts = ["[" + ",".join(toks[i : i + 8]) + "]" for i in range(0, len(toks), 8)]
    bulk = parse_vectors_bulk(texts, 8)
    per_item = np.stack([parse_vector_text(t) for t in texts])
    assert bulk.tobytes() == per_item.tobytes()
    flat = bulk.reshape(-1)
    # exactly on the midpoint: ties to the even neighbour
    even = np.where(f.view(np.uint32) % 2 == 0, f, hi)
    assert flat[: len(mids)].tobytes() == even.tobytes()
    # just above the midpoint: rounds up (float8 alone would round to even)
    assert flat[len(mids) :].tobytes() == hi.tobytes()


@pytest.mark.parametrize(
    ("bad", "cls", "message"),
    [
        ("[1,2]", DataException, "expected 3 dimensions, not 2"),
        ("[1,2,x]", InvalidTextRepresentation, 'invalid input syntax for type vector: "[1,2,x]"'),
        ("[1,2,nan]", DataException, "NaN not allowed in vector"),
        ("[1,2,1e39]", DataException, '"1e39" is out of range for type vector'),
        ("[]", DataException, "vector must have at least 1 dimension"),
    ],
)
def test_bulk_reports_first_bad_item(bad: str, cls: type[PgError], message: str) -> None:
    texts = ["[1,2,3]"] * 5 + [bad, "also bad"] + ["[4,5,6]"]
    with pytest.raises(cls) as ei:
        parse_vectors_bulk(texts, 3)
    assert ei.value.message == message


def test_bulk_empty_and_shapes() -> None:
    assert parse_vectors_bulk([], 3).shape == (0, 3)
    assert parse_vectors_bulk(["[1,2,3]"], 3).tolist() == [[1, 2, 3]]


# --------------------------------------------------------------------------------------------
# text output

# (float4 value as text, Postgres 15's float4 output) -- PG 15
FLOAT4_PG15 = [
    ("0.1", "0.1"),
    ("1", "1"),
    ("0", "0"),
    ("-0", "-0"),
    ("1e-5", "1e-05"),
    ("1.5e-7", "1.5e-07"),
    ("1e6", "1e+06"),
    ("999999.94", "999999.94"),
    ("123456", "123456"),
    ("100000", "100000"),
    ("1234567", "1.234567e+06"),
    ("1e16", "1e+16"),
    ("1e20", "1e+20"),
    ("1e-4", "0.0001"),
    ("0.00011", "0.00011"),
    ("0.000123", "0.000123"),
    ("3.4028235e38", "3.4028235e+38"),
    ("1e-45", "1e-45"),
    ("64311768", "6.4311768e+07"),  # Postgres's Ryu excludes the interval bounds
    ("33554436", "3.3554436e+07"),
    ("16777216", "1.6777216e+07"),
    ("16777217", "1.6777216e+07"),
    ("1e15", "1e+15"),
    ("0.3", "0.3"),
    ("-2.5", "-2.5"),
    ("1.17549435e-38", "1.1754944e-38"),
    ("65504", "65504"),
    ("3.14159265", "3.1415927"),
    ("1e38", "1e+38"),
    ("nan", "NaN"),
    ("inf", "Infinity"),
    ("-inf", "-Infinity"),
]

# (float8 value, Postgres 15's float8 output with the default extra_float_digits=1) -- PG 15
FLOAT8_PG15 = [
    ("0.1", "0.1"),
    ("1", "1"),
    ("0", "0"),
    ("-0", "-0"),
    ("1e16", "1e+16"),
    ("1e15", "1e+15"),
    ("1e-5", "1e-05"),
    ("123456789.123", "123456789.123"),
    ("1e-4", "0.0001"),
    ("0.30000000000000004", "0.30000000000000004"),
    ("1e22", "1e+22"),
    ("1e23", "9.999999999999999e+22"),  # bounds excluded: not "1e+23"
    ("1e300", "1e+300"),
    ("5e-324", "5e-324"),
    ("1.7976931348623157e308", "1.7976931348623157e+308"),
    ("100", "100"),
    ("999999999999999.9", "999999999999999.9"),
    ("123456789012345.6", "123456789012345.6"),
    ("9007199254740993", "9.007199254740992e+15"),
    ("1e-300", "1e-300"),
    ("-1.5e-10", "-1.5e-10"),
    ("1e100", "1e+100"),
    ("12345678901234567890", "1.2345678901234567e+19"),
    ("nan", "NaN"),
    ("inf", "Infinity"),
    ("-inf", "-Infinity"),
]


@pytest.mark.parametrize(("value", "expected"), FLOAT4_PG15)
def test_format_float4_matches_pg15(value: str, expected: str) -> None:
    x = np.float32(value)
    assert format_float4(x) == expected
    # the vectorized path agrees (vectors can't hold nan/inf, the formatter still can)
    assert format_vectors_bulk(np.array([[x]], dtype=np.float32)) == [f"[{expected}]"]


@pytest.mark.parametrize(("value", "expected"), FLOAT8_PG15)
def test_format_float8_matches_pg15(value: str, expected: str) -> None:
    assert format_float8(float(value)) == expected


def test_format_vector_text() -> None:
    assert format_vector_text(f32(1, 2, 3)) == "[1,2,3]"
    assert format_vector_text(f32(-0.0, 0.1, 1e-5, 1e6, 1.5)) == "[-0,0.1,1e-05,1e+06,1.5]"
    assert format_vector_text(np.array([0.1, 0.2])) == "[0.1,0.2]"  # float64 in -> float4


def test_format_bulk_equals_per_element_reference() -> None:
    rng = np.random.default_rng(3)
    vals = np.concatenate(
        [
            _random_f32(rng, 20000),
            rng.standard_normal(2000).astype(np.float32),
            np.float32(10.0) ** np.arange(-45, 39, dtype=np.float32),
            np.float32(2.0) ** np.arange(-149, 128, dtype=np.float32),
            np.arange(-100, 100, dtype=np.float32),
            rng.integers(2**24, 2**34, 500).astype(np.float32),
        ]
    )
    vals = vals[: (len(vals) // 10) * 10].reshape(-1, 10)
    rows = format_vectors_bulk(vals)
    assert rows == [format_vector_text(r) for r in vals]
    for row, text in zip(vals[:600], rows[:600]):
        assert text == "[" + ",".join(format_float4(x) for x in row) + "]"


def test_text_round_trip_is_exact() -> None:
    rng = np.random.default_rng(4)
    vals = _random_f32(rng, 40000).reshape(-1, 8)
    back = parse_vectors_bulk(format_vectors_bulk(vals), 8)
    assert back.tobytes() == vals.tobytes()


def test_format_bulk_rejects_non_2d() -> None:
    with pytest.raises(ValueError):
        format_vectors_bulk(f32(1, 2))
    assert format_vectors_bulk(np.zeros((0, 3), dtype=np.float32)) == []


# --------------------------------------------------------------------------------------------
# binary I/O


def test_binary_encoding_layout() -> None:
    data = encode_vector_binary(f32(1, 2, 3))
    assert data.hex() == "000300003f8000004000000040400000"
    assert decode_vector_binary(data).tolist() == [1.0, 2.0, 3.0]
    assert decode_vector_binary(data, expected_dim=3).dtype == np.float32


def test_binary_round_trip_random() -> None:
    rng = np.random.default_rng(5)
    v = _random_f32(rng, 1000)
    assert decode_vector_binary(encode_vector_binary(v)).tobytes() == v.tobytes()


def test_binary_matches_pgvector_python_client() -> None:
    from pgvector import Vector

    v = f32(1.5, -2, 0.25)
    assert encode_vector_binary(v) == Vector(v).to_binary()


@pytest.mark.parametrize(
    ("data", "sqlstate", "message"),
    [
        (b"", "08P01", "insufficient data left in message"),
        (b"\x00\x03", "08P01", "insufficient data left in message"),
        (b"\x00\x02\x00\x00" + struct.pack("!f", 1), "08P01", "insufficient data left in message"),
        (b"\x00\x00\x00\x00", "22000", "vector must have at least 1 dimension"),
        (b"\xff\xff\x00\x00", "22000", "vector must have at least 1 dimension"),
        (b"\x3e\x81\x00\x00", "54000", "vector cannot have more than 16000 dimensions"),
        (b"\x00\x01\x00\x07" + struct.pack("!f", 1), "22000", "expected unused to be 0, not 7"),
        (b"\x00\x01\x00\x00" + struct.pack("!f", np.nan), "22000", "NaN not allowed in vector"),
        (
            b"\x00\x01\x00\x00" + struct.pack("!f", np.inf),
            "22000",
            "infinite value not allowed in vector",
        ),
        (b"\x00\x01\x00\x00" + struct.pack("!f", 1) + b"\x00", "22P03", None),
    ],
)
def test_binary_errors(data: bytes, sqlstate: str, message: str | None) -> None:
    with pytest.raises(PgError) as ei:
        decode_vector_binary(data)
    assert ei.value.sqlstate == sqlstate
    if message is not None:
        assert ei.value.message == message
    if sqlstate == "08P01":
        assert isinstance(ei.value, ProtocolViolation)


def test_binary_expected_dim() -> None:
    with pytest.raises(DataException) as ei:
        decode_vector_binary(encode_vector_binary(f32(1, 2)), expected_dim=3)
    assert ei.value.message == "expected 3 dimensions, not 2"


def test_halfvec_and_sparsevec_binary() -> None:
    from pgvector import HalfVector, SparseVector

    hv = decode_halfvec_binary(HalfVector([1.5, -2, 0.1]).to_binary())
    assert hv.dtype == np.float32
    assert hv.tolist() == np.array([1.5, -2, 0.1], dtype=np.float16).astype(np.float32).tolist()
    sv = decode_sparsevec_binary(SparseVector({0: 1.5, 4: -2.0}, 6).to_binary())
    assert isinstance(sv, SparseVectorValue)
    assert sv.dim == 6 and sv.indices.tolist() == [0, 4] and sv.values.tolist() == [1.5, -2.0]


@pytest.mark.parametrize(
    ("data", "sqlstate", "message"),
    [
        (struct.pack("!iiiif", 3, 1, 0, 5, 1.0), "22000", "sparsevec index out of bounds"),
        (
            struct.pack("!iiiiiff", 3, 2, 0, 2, 1, 1.0, 1.0),
            "22000",
            "sparsevec indices must be in ascending order",
        ),
        (
            struct.pack("!iiiiiff", 3, 2, 0, 1, 1, 1.0, 1.0),
            "22000",
            "sparsevec indices must not contain duplicates",
        ),
        (
            struct.pack("!iiiif", 3, 1, 0, 1, 0.0),
            "22000",
            "binary representation of sparsevec cannot contain zero values",
        ),
        (struct.pack("!iiiif", 3, 4, 0, 1, 1.0), "54000", None),
        (struct.pack("!iiii", 3, 1, 0, 1), "08P01", "insufficient data left in message"),
        (struct.pack("!iii", 0, 0, 0), "22000", "sparsevec must have at least 1 dimension"),
    ],
)
def test_sparsevec_binary_errors(data: bytes, sqlstate: str, message: str | None) -> None:
    with pytest.raises(PgError) as ei:
        decode_sparsevec_binary(data)
    assert ei.value.sqlstate == sqlstate
    if message is not None:
        assert ei.value.message == message


def test_halfvec_binary_errors() -> None:
    with pytest.raises(DataException) as ei:
        decode_halfvec_binary(b"\x00\x02\x00\x00\x7e\x00")  # NaN, then a missing element
    assert ei.value.message == "NaN not allowed in halfvec"
    with pytest.raises(ProtocolViolation):
        decode_halfvec_binary(b"\x00\x02\x00\x00\x3c\x00")
