"""Postgres data types on the wire: type OIDs, the `pg_type` seed, and value codecs.

Owns:
  * the OID constants and `TYPES` (one `PgType` per type we speak; seeds our pg_type
    emulation), including our fixed OIDs for pgvector's types (`VECTOR_OID` = 16385, ...);
  * `duckdb_type_to_oid`: the Postgres type a DuckDB result column is reported as;
  * `text_encoder` / `binary_encoder`: a Python value as DuckDB returns it -> the bytes of
    Postgres's text output (DateStyle ISO, MDY; IntervalStyle postgres; TimeZone UTC;
    extra_float_digits 1; bytea_output hex) or binary send format;
  * `decode_param`: a Bind parameter (OID, format code, bytes) -> Python value, with
    Postgres's error texts and SQLSTATEs for bad input.

Not here: the vector types' own syntax and numbers (`sqlfront.vectors`), and which OID a
parameter *should* have (the binder decides; OID 0 comes here as "unknown" -> str).

What psycopg 3.3.9 sends for ``cursor.execute("... %s", [x])`` (checked against PostgreSQL 15
by reading ``cursor._query.types/formats/params``; the cursor's ``binary=`` flag only changes
the *result* format; format 0 = text, 1 = binary):

  ================================  ======  ======  ==========================================
  Python value                      OID     format  bytes
  ================================  ======  ======  ==========================================
  int (fits int2: 5, -3)            21      1       ``\\x00\\x05``
  int (fits int4: 70000)            23      1       4-byte big-endian
  int (fits int8: 2**40)            20      1       8-byte big-endian
  int (bigger: 2**70)               1700    1       binary numeric
  float (also nan, inf)             701     1       8-byte IEEE big-endian
  numpy.float32 scalar              700     1       4-byte IEEE
  numpy.int64 scalar                20      1       8-byte big-endian
  bool                              16      1       ``\\x01``
  str                               0       0       UTF-8 text (``%b``: OID 25, binary)
  None                              0       0       NULL
  Decimal (also NaN)                1700    0       ``1.25``, ``NaN``
  bytes / bytearray / memoryview    17      1       raw bytes
  datetime (naive)                  1114    1       int8 microseconds since 2000-01-01
  datetime (aware)                  1184    1       same, in UTC
  date                              1082    1       int4 days since 2000-01-01
  time (naive)                      1083    1       int8 microseconds since midnight
  time (aware)                      1266    1       int8 microseconds, int4 seconds *west*
  timedelta                         1186    1       int8 micros, int4 days, int4 months (0)
  uuid.UUID                         2950    1       16 bytes
  Jsonb(obj)                        3802    0       ``{"a": 1}`` (json.dumps)
  Json(obj)                         114     0       ``{"a": 1}``
  dict (unwrapped)                  --      --      psycopg refuses: "cannot adapt type 'dict'"
  list of int                       1005    0       ``{1,2,3}`` (int2[]/int4[]/int8[] by
                                                    the largest element: 1005/1007/1016)
  list of float                     1022    0       ``{1.5,2.5}``
  list of bool                      1000    0       ``{t}``
  list of Decimal                   1231    0       ``{1}``
  list of str                       0       0       ``{a,b}`` (``%b``: 1009, binary)
  nested list of int                1005    0       ``{{1,2},{3,4}}``
  empty list                        0       0       ``{}``
  numpy array / pgvector.Vector     vector  1       vector_send format (pgvector.psycopg's
    (after register_vector)                          register_vector registers the binary
                                                    dumper last, so ``%s`` picks it; ``%t``
                                                    sends text ``[1.0,2.0,3.0]``)
  pgvector.HalfVector               halfvec 1       int2 dim, int2 0, float2s
  pgvector.SparseVector             sparsevec 1     int4 dim, int4 nnz, int4 0, indices, floats
  ================================  ======  ======  ==========================================

With ``%t`` everything is text: ints as digits, float ``1.5`` / ``nan`` / ``inf``, bytes as
``\\x0001``, datetimes as ``str()`` (``2024-01-02 03:04:05+00:00``), timedelta as ``str()``
without the comma (``-1 day 0:00:05.000003``).  `decode_param` decodes all of the above.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import string
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from engine.errors import (
    DataException,
    FeatureNotSupported,
    InvalidTextRepresentation,
    PgError,
    ProgramLimitExceeded,
    ProtocolViolation,
    pg_error,
)
from sqlfront import vectors

# --------------------------------------------------------------------------------------------
# OIDs

BOOL_OID = 16
BYTEA_OID = 17
CHAR_OID = 18
NAME_OID = 19
INT8_OID = 20
INT2_OID = 21
INT4_OID = 23
TEXT_OID = 25
OID_OID = 26
JSON_OID = 114
FLOAT4_OID = 700
FLOAT8_OID = 701
UNKNOWN_OID = 705
BPCHAR_OID = 1042
VARCHAR_OID = 1043
DATE_OID = 1082
TIME_OID = 1083
TIMESTAMP_OID = 1114
TIMESTAMPTZ_OID = 1184
INTERVAL_OID = 1186
TIMETZ_OID = 1266
NUMERIC_OID = 1700
BIT_OID = 1560
UUID_OID = 2950
JSONB_OID = 3802

JSON_ARRAY_OID = 199
BOOL_ARRAY_OID = 1000
BYTEA_ARRAY_OID = 1001
CHAR_ARRAY_OID = 1002
NAME_ARRAY_OID = 1003
INT2_ARRAY_OID = 1005
INT4_ARRAY_OID = 1007
TEXT_ARRAY_OID = 1009
BPCHAR_ARRAY_OID = 1014
VARCHAR_ARRAY_OID = 1015
INT8_ARRAY_OID = 1016
FLOAT4_ARRAY_OID = 1021
FLOAT8_ARRAY_OID = 1022
OID_ARRAY_OID = 1028
TIMESTAMP_ARRAY_OID = 1115
DATE_ARRAY_OID = 1182
TIME_ARRAY_OID = 1183
TIMESTAMPTZ_ARRAY_OID = 1185
INTERVAL_ARRAY_OID = 1187
BIT_ARRAY_OID = 1561
NUMERIC_ARRAY_OID = 1231
TIMETZ_ARRAY_OID = 1270
UUID_ARRAY_OID = 2951
JSONB_ARRAY_OID = 3807

# pgvector's types get OIDs from CREATE EXTENSION in real Postgres; ours are fixed.
VECTOR_OID = 16385
VECTOR_ARRAY_OID = 16386
HALFVEC_OID = 16387
HALFVEC_ARRAY_OID = 16388
SPARSEVEC_OID = 16389
SPARSEVEC_ARRAY_OID = 16390

# the integer types by width in bits, and the string types (what COPY reads in bulk)
INT_BITS: dict[int, int] = {INT2_OID: 16, INT4_OID: 32, INT8_OID: 64}
STRING_OIDS = frozenset({TEXT_OID, VARCHAR_OID, BPCHAR_OID, NAME_OID})


# Our catalog's normalised type names (engine.catalog) -> pg_type OID.
CATALOG_TYPE_OIDS: dict[str, int] = {
    "smallint": INT2_OID,
    "integer": INT4_OID,
    "bigint": INT8_OID,
    "serial": INT4_OID,
    "bigserial": INT8_OID,
    "smallserial": INT2_OID,
    "real": FLOAT4_OID,
    "double precision": FLOAT8_OID,
    "numeric": NUMERIC_OID,
    "text": TEXT_OID,
    "varchar": VARCHAR_OID,
    "char": BPCHAR_OID,
    "name": NAME_OID,
    "boolean": BOOL_OID,
    "jsonb": JSONB_OID,
    "json": JSON_OID,
    "bytea": BYTEA_OID,
    "date": DATE_OID,
    "timestamp": TIMESTAMP_OID,
    "timestamptz": TIMESTAMPTZ_OID,
    "time": TIME_OID,
    "interval": INTERVAL_OID,
    "uuid": UUID_OID,
    "vector": VECTOR_OID,
    "halfvec": HALFVEC_OID,
    "sparsevec": SPARSEVEC_OID,
    "bit": BIT_OID,
}


@dataclass(frozen=True)
class PgType:
    """One pg_type row: `typlen` -1 = varlena, -2 = cstring-like; `category` = typcategory."""

    oid: int
    name: str
    typlen: int
    array_oid: int  # typarray (0 for array types)
    elem_oid: int  # typelem (0 for scalars, except name -> char as in pg_type)
    category: str


def _build_types() -> dict[int, PgType]:
    # (oid, typname, typlen, typarray, typelem, typcategory), as in PostgreSQL 15's pg_type.
    scalars = [
        (BOOL_OID, "bool", 1, BOOL_ARRAY_OID, 0, "B"),
        (BYTEA_OID, "bytea", -1, BYTEA_ARRAY_OID, 0, "U"),
        (CHAR_OID, "char", 1, CHAR_ARRAY_OID, 0, "Z"),
        (NAME_OID, "name", 64, NAME_ARRAY_OID, CHAR_OID, "S"),
        (INT8_OID, "int8", 8, INT8_ARRAY_OID, 0, "N"),
        (INT2_OID, "int2", 2, INT2_ARRAY_OID, 0, "N"),
        (INT4_OID, "int4", 4, INT4_ARRAY_OID, 0, "N"),
        (TEXT_OID, "text", -1, TEXT_ARRAY_OID, 0, "S"),
        (OID_OID, "oid", 4, OID_ARRAY_OID, 0, "N"),
        (JSON_OID, "json", -1, JSON_ARRAY_OID, 0, "U"),
        (FLOAT4_OID, "float4", 4, FLOAT4_ARRAY_OID, 0, "N"),
        (FLOAT8_OID, "float8", 8, FLOAT8_ARRAY_OID, 0, "N"),
        (UNKNOWN_OID, "unknown", -2, 0, 0, "X"),
        (BPCHAR_OID, "bpchar", -1, BPCHAR_ARRAY_OID, 0, "S"),
        (VARCHAR_OID, "varchar", -1, VARCHAR_ARRAY_OID, 0, "S"),
        (DATE_OID, "date", 4, DATE_ARRAY_OID, 0, "D"),
        (TIME_OID, "time", 8, TIME_ARRAY_OID, 0, "D"),
        (TIMESTAMP_OID, "timestamp", 8, TIMESTAMP_ARRAY_OID, 0, "D"),
        (TIMESTAMPTZ_OID, "timestamptz", 8, TIMESTAMPTZ_ARRAY_OID, 0, "D"),
        (INTERVAL_OID, "interval", 16, INTERVAL_ARRAY_OID, 0, "T"),
        (TIMETZ_OID, "timetz", 12, TIMETZ_ARRAY_OID, 0, "D"),
        (NUMERIC_OID, "numeric", -1, NUMERIC_ARRAY_OID, 0, "N"),
        (UUID_OID, "uuid", 16, UUID_ARRAY_OID, 0, "U"),
        (BIT_OID, "bit", -1, BIT_ARRAY_OID, 0, "V"),
        (JSONB_OID, "jsonb", -1, JSONB_ARRAY_OID, 0, "U"),
        # pgvector: CREATE TYPE ... (INTERNALLENGTH = VARIABLE, STORAGE = external); category U
        (VECTOR_OID, "vector", -1, VECTOR_ARRAY_OID, 0, "U"),
        (HALFVEC_OID, "halfvec", -1, HALFVEC_ARRAY_OID, 0, "U"),
        (SPARSEVEC_OID, "sparsevec", -1, SPARSEVEC_ARRAY_OID, 0, "U"),
    ]
    out: dict[int, PgType] = {}
    for oid, name, typlen, arr, elem, cat in scalars:
        out[oid] = PgType(oid, name, typlen, arr, elem, cat)
        if arr:
            out[arr] = PgType(arr, "_" + name, -1, 0, oid, "A")
    return out


TYPES: dict[int, PgType] = _build_types()
"""Every type we speak, scalars and their arrays (``_int4`` ...), keyed by OID."""

ARRAY_OF: dict[int, int] = {t.oid: t.array_oid for t in TYPES.values() if t.array_oid}
"""element OID -> array OID."""

ELEMENT_OF: dict[int, int] = {t.oid: t.elem_oid for t in TYPES.values() if t.category == "A"}
"""array OID -> element OID."""


# --------------------------------------------------------------------------------------------
# DuckDB result types

# The DuckDB type of the emulated catalog's `"char"` columns (pg_type.typtype): an ENUM of the
# ASCII letters, spelled as duckdb prints it, so that results report "char" (asyncpg reads
# typtype as bytes).  UINTEGER (an unsigned 32-bit integer, as an oid is) reports `oid`.
PG_CHAR_DUCKDB = "ENUM(" + ", ".join(f"'{c}'" for c in string.ascii_letters) + ")"

_DUCK_SCALARS: dict[str, int] = {
    "BOOLEAN": BOOL_OID,
    "TINYINT": INT2_OID,
    "UTINYINT": INT2_OID,
    "SMALLINT": INT2_OID,
    "USMALLINT": INT4_OID,
    "INTEGER": INT4_OID,
    "UINTEGER": OID_OID,
    "BIGINT": INT8_OID,
    "UBIGINT": NUMERIC_OID,
    "HUGEINT": NUMERIC_OID,
    "UHUGEINT": NUMERIC_OID,
    "BIGNUM": NUMERIC_OID,
    "VARINT": NUMERIC_OID,
    "FLOAT": FLOAT4_OID,
    "DOUBLE": FLOAT8_OID,
    "VARCHAR": TEXT_OID,
    "JSON": JSONB_OID,
    "BLOB": BYTEA_OID,
    "BIT": BIT_OID,
    "DATE": DATE_OID,
    "TIME": TIME_OID,
    "TIME WITH TIME ZONE": TIMETZ_OID,
    "TIMESTAMP": TIMESTAMP_OID,
    "TIMESTAMP_S": TIMESTAMP_OID,
    "TIMESTAMP_MS": TIMESTAMP_OID,
    "TIMESTAMP_NS": TIMESTAMP_OID,
    "TIMESTAMP WITH TIME ZONE": TIMESTAMPTZ_OID,
    "INTERVAL": INTERVAL_OID,
    "UUID": UUID_OID,
}
_DUCK_LIST = re.compile(r"^(.*)\[\d*\]$", re.S)


# pg_catalog's int2vector / oidvector columns (pg_index.indkey, pg_proc.proargtypes): the
# catalog emulation stores them as these DuckDB list types, used for nothing else (oidvector
# is UBIGINT[], not UINTEGER[]: a list of UINTEGER oids, `array_agg(atttypid)`, is an oid[])
INT2VECTOR_OID = 22
OIDVECTOR_OID = 30
_DUCK_SPECIAL_LISTS = {"USMALLINT[]": INT2VECTOR_OID, "UBIGINT[]": OIDVECTOR_OID}


def duckdb_type_to_oid(t: object) -> int:
    """OID to report for a DuckDB result column type (an entry of ``cursor.description``).

    Works on ``str(t)`` as duckdb 2.0 spells it: ``BIGINT``, ``DECIMAL(10,2)``,
    ``TIMESTAMP WITH TIME ZONE``, ``INTEGER[]``, ``FLOAT[3]`` (fixed-size ARRAY), ``INTEGER[][]``.
    Lists and arrays map to the Postgres array of their innermost element type (Postgres arrays
    are multi-dimensional under one OID); anything without a Postgres counterpart (STRUCT,
    MAP, UNION, ENUM, lists of those, the NULL type...) is reported as text, which is also
    what Postgres reports for an untyped NULL column.
    """
    s = str(t).strip()
    if s in _DUCK_SPECIAL_LISTS:
        return _DUCK_SPECIAL_LISTS[s]
    m = _DUCK_LIST.match(s)
    if m is None:
        return _duck_scalar(s) or TEXT_OID
    inner = m.group(1)
    while (m := _DUCK_LIST.match(inner)) is not None:
        inner = m.group(1)
    elem = _duck_scalar(inner)
    return ARRAY_OF[elem] if elem else TEXT_OID


def _duck_scalar(s: str) -> int | None:
    if s == PG_CHAR_DUCKDB:
        return CHAR_OID
    if s.startswith("DECIMAL(") or s == "DECIMAL":
        return NUMERIC_OID
    return _DUCK_SCALARS.get(s)


# --------------------------------------------------------------------------------------------
# text output

_PG_EPOCH_DATE = dt.date(2000, 1, 1)
_PG_EPOCH_ORD = _PG_EPOCH_DATE.toordinal()
_PG_EPOCH = dt.datetime(2000, 1, 1)
_PG_EPOCH_TZ = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_ONE_US = dt.timedelta(microseconds=1)


def _fmt_bool(v: object) -> str:
    return "t" if v else "f"


def _fmt_int(v: Any) -> str:
    return f"{v:d}"


def _fmt_float4(v: Any) -> str:
    return vectors.format_float4(v)


def _fmt_float8(v: Any) -> str:
    return vectors.format_float8(v)


def _fmt_numeric(v: Any) -> str:
    """numeric_out: plain digits, the value's own scale, no exponent, no negative zero."""
    if isinstance(v, int):
        return f"{v:d}"
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return vectors.format_float8(v)
        v = Decimal(repr(v))
    d = v if isinstance(v, Decimal) else Decimal(str(v))
    if d.is_nan():
        return "NaN"
    if d.is_infinite():
        return "-Infinity" if d < 0 else "Infinity"
    if d.is_zero():
        d = d.copy_abs()
    return format(d, "f")


def _fmt_str(v: Any) -> str:
    return v if isinstance(v, str) else str(v)


def _fmt_bytea(v: Any) -> str:
    return "\\x" + bytes(v).hex()


def _fmt_json(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def _jsonb_key(k: str) -> tuple[int, bytes]:
    b = k.encode()
    return (len(b), b)


def _jsonb_dump(o: Any, out: list[str]) -> None:
    if isinstance(o, dict):
        if not o:
            out.append("{}")
            return
        out.append("{")
        for i, k in enumerate(sorted(o, key=_jsonb_key)):
            if i:
                out.append(", ")
            out.append(json.dumps(k, ensure_ascii=False))
            out.append(": ")
            _jsonb_dump(o[k], out)
        out.append("}")
    elif isinstance(o, list):
        if not o:
            out.append("[]")
            return
        out.append("[")
        for i, x in enumerate(o):
            if i:
                out.append(", ")
            _jsonb_dump(x, out)
        out.append("]")
    elif isinstance(o, str):
        out.append(json.dumps(o, ensure_ascii=False))
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif o is None:
        out.append("null")
    else:  # Decimal (from parse_float/parse_int) or a Python number
        out.append(_fmt_numeric(o))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Token {name!r} is invalid")


def _json_loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant)


def jsonb_normalize(v: object) -> str:
    """jsonb's text output for a JSON text (or an already-parsed value).

    jsonb stores a parsed tree: object keys are unique (the last duplicate wins) and sorted
    by *length*, then bytewise (``{"a": 3, "b": 1, "aa": ...}``); output puts ``", "`` between
    items and ``": "`` after keys; numbers are numerics, printed with their scale and no
    exponent (``1e2`` -> ``100``, ``1.50`` stays, ``-0`` -> ``0``); strings escape only ``"``,
    ``\\``, and control characters.
    """
    obj = _json_loads(v) if isinstance(v, str | bytes) else v
    out: list[str] = []
    _jsonb_dump(obj, out)
    return "".join(out)


def _fmt_frac(us: int) -> str:
    return ("." + f"{us:06d}".rstrip("0")) if us else ""


def _fmt_date(v: Any) -> str:
    if isinstance(v, dt.datetime):
        v = v.date()
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"


def _fmt_time(v: Any) -> str:
    return f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}{_fmt_frac(v.microsecond)}"


def _fmt_offset(off: dt.timedelta | None) -> str:
    secs = int(off.total_seconds()) if off is not None else 0
    sign = "-" if secs < 0 else "+"
    secs = abs(secs)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    if s:
        return f"{sign}{h:02d}:{m:02d}:{s:02d}"
    if m:
        return f"{sign}{h:02d}:{m:02d}"
    return f"{sign}{h:02d}"


def _fmt_timetz(v: Any) -> str:
    return _fmt_time(v) + _fmt_offset(v.utcoffset())


def _fmt_timestamp(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return f"{_fmt_date(v)} {_fmt_time(v)}"
    return f"{_fmt_date(v)} 00:00:00"


def _fmt_timestamptz(v: Any) -> str:
    """Session TimeZone is UTC: aware values are converted, naive ones taken as UTC."""
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        v = v.astimezone(dt.UTC)
    return _fmt_timestamp(v) + "+00"


def _interval_parts(v: dt.timedelta) -> tuple[int, int]:
    """(days, microseconds) with the same sign, from Python's days + positive-seconds form."""
    total = v // _ONE_US
    sign = -1 if total < 0 else 1
    days, us = divmod(abs(total), 86_400_000_000)
    return sign * days, sign * us


def _fmt_interval(v: Any) -> str:
    """interval_out, IntervalStyle postgres: ``1 day 00:00:05``, ``-01:00:00``, ``-3 days``.

    DuckDB hands intervals over as `timedelta` (months folded into 30-day days), so only days
    and a time part are printed; days and time carry the same sign.
    """
    if not isinstance(v, dt.timedelta):
        return str(v)
    days, us = _interval_parts(v)
    parts: list[str] = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if us or not days:
        neg = us < 0
        us = abs(us)
        h, rem = divmod(us, 3_600_000_000)
        m, rem = divmod(rem, 60_000_000)
        s, frac = divmod(rem, 1_000_000)
        parts.append(f"{'-' if neg else ''}{h:02d}:{m:02d}:{s:02d}{_fmt_frac(frac)}")
    return " ".join(parts)


def _fmt_uuid(v: Any) -> str:
    return str(v)


def _fmt_vector(v: Any) -> str:
    if isinstance(v, str):
        return v
    return vectors.format_vector_text(np.asarray(v, dtype=np.float32))


def _fmt_halfvec(v: Any) -> str:
    if isinstance(v, str):
        return v
    a = np.asarray(v, dtype=np.float32).astype(np.float16).astype(np.float32)
    return vectors.format_vector_text(a)


def _fmt_sparsevec(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, vectors.SparseVectorValue):
        items = ",".join(
            f"{i + 1}:{vectors.format_float4(x)}"
            for i, x in zip(v.indices.tolist(), v.values.tolist())
        )
        return "{" + items + "}/" + str(v.dim)
    return str(v)


_ARRAY_SPECIAL = frozenset('"\\{},') | frozenset(" \t\n\r\v\f")


def _quote_array_elem(s: str) -> str:
    """array_out's quoting: empty, NULL (any case), or containing ``"\\{},`` or blanks."""
    if s == "" or s.upper() == "NULL" or not _ARRAY_SPECIAL.isdisjoint(s):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


def _array_text(elem_fmt: Callable[[Any], str], vector_elems: bool) -> Callable[[Any], str]:
    """array_out over nested lists/tuples; for arrays of vectors a numpy array (or a flat
    list of numbers) is one element, not a dimension."""

    def fmt(v: Any) -> str:
        if isinstance(v, str):
            return v
        if isinstance(v, np.ndarray):
            v = list(v) if vector_elems else v.tolist()
        parts: list[str] = []
        for x in v:
            if x is None:
                parts.append("NULL")
            elif isinstance(x, list | tuple | np.ndarray) and not (
                isinstance(x, vectors.SparseVectorValue) or vector_elems and _is_vector_value(x)
            ):
                parts.append(fmt(x))
            else:
                parts.append(_quote_array_elem(elem_fmt(x)))
        return "{" + ",".join(parts) + "}"

    return fmt


def _is_vector_value(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return x.ndim == 1
    return bool(x) and not isinstance(x[0], list | tuple | np.ndarray) and x[0] is not None


_TEXT_FORMATTERS: dict[int, Callable[[Any], str]] = {
    BOOL_OID: _fmt_bool,
    INT2_OID: _fmt_int,
    INT4_OID: _fmt_int,
    INT8_OID: _fmt_int,
    OID_OID: _fmt_int,
    FLOAT4_OID: _fmt_float4,
    FLOAT8_OID: _fmt_float8,
    NUMERIC_OID: _fmt_numeric,
    TEXT_OID: _fmt_str,
    VARCHAR_OID: _fmt_str,
    BPCHAR_OID: _fmt_str,
    NAME_OID: _fmt_str,
    CHAR_OID: _fmt_str,
    UNKNOWN_OID: _fmt_str,
    BYTEA_OID: _fmt_bytea,
    JSON_OID: _fmt_json,
    JSONB_OID: jsonb_normalize,
    DATE_OID: _fmt_date,
    TIME_OID: _fmt_time,
    TIMETZ_OID: _fmt_timetz,
    TIMESTAMP_OID: _fmt_timestamp,
    TIMESTAMPTZ_OID: _fmt_timestamptz,
    INTERVAL_OID: _fmt_interval,
    UUID_OID: _fmt_uuid,
    VECTOR_OID: _fmt_vector,
    HALFVEC_OID: _fmt_halfvec,
    SPARSEVEC_OID: _fmt_sparsevec,
}
_VECTOR_OIDS = frozenset({VECTOR_OID, HALFVEC_OID})
for _arr, _elem in ELEMENT_OF.items():
    _TEXT_FORMATTERS[_arr] = _array_text(
        _TEXT_FORMATTERS.get(_elem, _fmt_str), _elem in _VECTOR_OIDS
    )


def _fmt_space_vector(v: Any) -> str:
    """int2vector / oidvector output: the elements separated by spaces (`1 2`)."""
    return " ".join(str(int(x)) for x in v)


_TEXT_FORMATTERS[INT2VECTOR_OID] = _fmt_space_vector
_TEXT_FORMATTERS[OIDVECTOR_OID] = _fmt_space_vector


def text_formatter(oid: int) -> Callable[[Any], str]:
    """Like `text_encoder` but returning str (for array elements, COPY, tests)."""
    return _TEXT_FORMATTERS.get(oid, _fmt_str)


def text_encoder(oid: int) -> Callable[[Any], bytes]:
    """The function turning a non-NULL value of type `oid` into its Postgres text output.

    Values are what DuckDB's Python API returns (int, float, Decimal, str, bytes, date,
    datetime, time, timedelta, UUID, list/tuple for lists/arrays, str for JSON, numpy arrays
    for vectors).  Unknown OIDs fall back to ``str(value)``.
    """
    fmt = _TEXT_FORMATTERS.get(oid, _fmt_str)
    if fmt is _fmt_str:
        return _encode_str
    if fmt is _fmt_int:
        return _encode_int

    def encode(v: Any) -> bytes:
        return fmt(v).encode()

    return encode


def _encode_str(v: Any) -> bytes:
    return (v if isinstance(v, str) else str(v)).encode()


def _encode_int(v: Any) -> bytes:
    return b"%d" % v


# --------------------------------------------------------------------------------------------
# binary output

_S_INT2 = struct.Struct("!h")
_S_INT4 = struct.Struct("!i")
_S_UINT4 = struct.Struct("!I")
_S_INT8 = struct.Struct("!q")
_S_FLOAT4 = struct.Struct("!f")
_S_FLOAT8 = struct.Struct("!d")
_S_TIMETZ = struct.Struct("!qi")
_S_INTERVAL = struct.Struct("!qii")
_S_NUMERIC_HEAD = struct.Struct("!hhHh")

_NUMERIC_POS = 0x0000
_NUMERIC_NEG = 0x4000
_NUMERIC_NAN = 0xC000
_NUMERIC_PINF = 0xD000
_NUMERIC_NINF = 0xF000

_INT_RANGES = {
    INT2_OID: (-(2**15), 2**15 - 1, "smallint"),
    INT4_OID: (-(2**31), 2**31 - 1, "integer"),
    INT8_OID: (-(2**63), 2**63 - 1, "bigint"),
}


def _int_packer(oid: int, st: struct.Struct) -> Callable[[Any], bytes]:
    lo, hi, name = _INT_RANGES[oid]

    def pack(v: Any) -> bytes:
        iv = int(v)
        if not lo <= iv <= hi:
            raise pg_error("22003", f"{name} out of range")
        return st.pack(iv)

    return pack


def numeric_to_binary(v: Decimal | int | float) -> bytes:
    """numeric_send: int16 ndigits, int16 weight, uint16 sign, int16 dscale, base-10000 digits.

    `weight` is the power of 10000 of the first digit group; leading and trailing zero groups
    are dropped (zero is ``ndigits = 0, weight = 0``); `dscale` is the number of decimal
    digits after the point (the Decimal's own exponent, so ``1.50`` keeps scale 2).
    """
    d = v if isinstance(v, Decimal) else Decimal(repr(v) if isinstance(v, float) else v)
    if d.is_nan():
        return _S_NUMERIC_HEAD.pack(0, 0, _NUMERIC_NAN, 0)
    if d.is_infinite():
        # Postgres sends dscale 32 here: numeric_send reads the dscale bits out of the
        # special value's header word (0xD000 & 0x1F80) >> 7.
        return _S_NUMERIC_HEAD.pack(0, 0, _NUMERIC_NINF if d < 0 else _NUMERIC_PINF, 32)
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    dscale = max(0, -exp)
    coef = "".join(map(str, digits))
    if exp >= 0:
        int_part, frac_part = coef + "0" * exp, ""
    elif len(coef) > -exp:
        int_part, frac_part = coef[:exp], coef[exp:]
    else:
        int_part, frac_part = "", coef.rjust(-exp, "0")
    int_part = int_part.lstrip("0")
    int_part = "0" * (-len(int_part) % 4) + int_part
    frac_part = frac_part + "0" * (-len(frac_part) % 4)
    groups = [int(int_part[i : i + 4]) for i in range(0, len(int_part), 4)]
    weight = len(groups) - 1
    groups += [int(frac_part[i : i + 4]) for i in range(0, len(frac_part), 4)]
    start = 0
    while start < len(groups) and groups[start] == 0:
        start += 1
    weight -= start
    groups = groups[start:]
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        return _S_NUMERIC_HEAD.pack(0, 0, _NUMERIC_POS, dscale)
    head = _S_NUMERIC_HEAD.pack(len(groups), weight, _NUMERIC_NEG if sign else _NUMERIC_POS, dscale)
    return head + struct.pack(f"!{len(groups)}h", *groups)


def _bin_bool(v: Any) -> bytes:
    return b"\x01" if v else b"\x00"


def _bin_text(v: Any) -> bytes:
    return (v if isinstance(v, str) else str(v)).encode()


def _bin_bytea(v: Any) -> bytes:
    return bytes(v)


def _bin_jsonb(v: Any) -> bytes:
    return b"\x01" + jsonb_normalize(v).encode()


def _bin_json(v: Any) -> bytes:
    return _fmt_json(v).encode()


def _bin_date(v: Any) -> bytes:
    if isinstance(v, dt.datetime):
        v = v.date()
    return _S_INT4.pack(v.toordinal() - _PG_EPOCH_ORD)


def _time_us(v: Any) -> int:
    return ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond


def _bin_time(v: Any) -> bytes:
    return _S_INT8.pack(_time_us(v))


def _bin_timetz(v: Any) -> bytes:
    off = v.utcoffset()
    return _S_TIMETZ.pack(_time_us(v), -int(off.total_seconds()) if off else 0)


def _bin_timestamp(v: Any) -> bytes:
    if not isinstance(v, dt.datetime):
        v = dt.datetime(v.year, v.month, v.day)
    if v.tzinfo is not None:
        v = v.replace(tzinfo=None)
    return _S_INT8.pack((v - _PG_EPOCH) // _ONE_US)


def _bin_timestamptz(v: Any) -> bytes:
    if not isinstance(v, dt.datetime):
        v = dt.datetime(v.year, v.month, v.day)
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    return _S_INT8.pack((v - _PG_EPOCH_TZ) // _ONE_US)


def _bin_interval(v: Any) -> bytes:
    days, us = _interval_parts(v)
    return _S_INTERVAL.pack(us, days, 0)


def _bin_uuid(v: Any) -> bytes:
    return v.bytes if isinstance(v, uuid.UUID) else uuid.UUID(str(v)).bytes


def _bin_bit(v: Any) -> bytes:
    """bit_send: int32 bit count, then the bits high bit first, zero-padded to a byte."""
    bits = v if isinstance(v, str) else str(v)
    n = len(bits)
    packed = int(bits, 2) << (-n % 8) if n else 0
    return _S_INT4.pack(n) + packed.to_bytes((n + 7) // 8, "big")


def _bin_vector(v: Any) -> bytes:
    if isinstance(v, str):
        v = vectors.parse_vector_text(v)
    return vectors.encode_vector_binary(v)


def _bin_halfvec(v: Any) -> bytes:
    if isinstance(v, str):
        v = vectors.parse_vector_text(v)
    a = np.asarray(v, dtype=np.float32).reshape(-1)
    return struct.pack("!hh", a.shape[0], 0) + a.astype(">f2").tobytes()


def _bin_sparsevec(v: Any) -> bytes:
    if not isinstance(v, vectors.SparseVectorValue):
        raise FeatureNotSupported("binary output of sparsevec needs a parsed value")
    n = len(v.indices)
    return (
        struct.pack("!iii", v.dim, n, 0)
        + np.asarray(v.indices, dtype=">i4").tobytes()
        + np.asarray(v.values, dtype=">f4").tobytes()
    )


def _array_shape(v: Any) -> list[int]:
    dims: list[int] = []
    x = v
    while isinstance(x, list | tuple) and not isinstance(x, vectors.SparseVectorValue):
        dims.append(len(x))
        if not x:
            break
        x = x[0]
    return dims


def _array_binary(elem_oid: int, elem_enc: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    def enc(v: Any) -> bytes:
        if isinstance(v, np.ndarray):
            v = v.tolist()
        dims = _array_shape(v)
        if not dims or dims[-1] == 0:
            return struct.pack("!iii", 0, 0, elem_oid)
        flat: list[Any] = []

        def walk(x: Any, depth: int) -> None:
            if depth == len(dims):
                flat.append(x)
                return
            if not isinstance(x, list | tuple) or len(x) != dims[depth]:
                raise DataException(
                    "multidimensional arrays must have array expressions with matching dimensions"
                )
            for y in x:
                walk(y, depth + 1)

        walk(v, 0)
        has_null = any(x is None for x in flat)
        out = [struct.pack("!iii", len(dims), 1 if has_null else 0, elem_oid)]
        out += [struct.pack("!ii", n, 1) for n in dims]
        for x in flat:
            if x is None:
                out.append(b"\xff\xff\xff\xff")
            else:
                b = elem_enc(x)
                out.append(_S_INT4.pack(len(b)))
                out.append(b)
        return b"".join(out)

    return enc


_BINARY_ENCODERS: dict[int, Callable[[Any], bytes]] = {
    BOOL_OID: _bin_bool,
    INT2_OID: _int_packer(INT2_OID, _S_INT2),
    INT4_OID: _int_packer(INT4_OID, _S_INT4),
    INT8_OID: _int_packer(INT8_OID, _S_INT8),
    OID_OID: lambda v: _S_UINT4.pack(int(v)),
    FLOAT4_OID: lambda v: _S_FLOAT4.pack(float(v)),
    FLOAT8_OID: lambda v: _S_FLOAT8.pack(float(v)),
    NUMERIC_OID: numeric_to_binary,
    TEXT_OID: _bin_text,
    VARCHAR_OID: _bin_text,
    BPCHAR_OID: _bin_text,
    NAME_OID: _bin_text,
    CHAR_OID: _bin_text,
    UNKNOWN_OID: _bin_text,
    BYTEA_OID: _bin_bytea,
    JSON_OID: _bin_json,
    JSONB_OID: _bin_jsonb,
    DATE_OID: _bin_date,
    TIME_OID: _bin_time,
    TIMETZ_OID: _bin_timetz,
    TIMESTAMP_OID: _bin_timestamp,
    TIMESTAMPTZ_OID: _bin_timestamptz,
    INTERVAL_OID: _bin_interval,
    UUID_OID: _bin_uuid,
    BIT_OID: _bin_bit,
    VECTOR_OID: _bin_vector,
    HALFVEC_OID: _bin_halfvec,
    SPARSEVEC_OID: _bin_sparsevec,
}
for _arr, _elem in ELEMENT_OF.items():
    if _elem in _BINARY_ENCODERS:
        _BINARY_ENCODERS[_arr] = _array_binary(_elem, _BINARY_ENCODERS[_elem])
# int2vector / oidvector send as one-dimensional arrays of int2 / oid (array_send)
_BINARY_ENCODERS[INT2VECTOR_OID] = _array_binary(INT2_OID, _BINARY_ENCODERS[INT2_OID])
_BINARY_ENCODERS[OIDVECTOR_OID] = _array_binary(OID_OID, _BINARY_ENCODERS[OID_OID])


def binary_encoder(oid: int) -> Callable[[Any], bytes]:
    """The function turning a non-NULL value of type `oid` into Postgres's binary send format.

    Raises FeatureNotSupported for OIDs without one (the wire layer should then send text).
    """
    enc = _BINARY_ENCODERS.get(oid)
    if enc is None:
        name = TYPES[oid].name if oid in TYPES else str(oid)
        raise FeatureNotSupported(f"no binary output function available for type {name}")
    return enc


def has_binary_encoder(oid: int) -> bool:
    return oid in _BINARY_ENCODERS


# --------------------------------------------------------------------------------------------
# parameter decoding: text

_PG_SPACE = " \t\n\r\v\f"
_INT_RE = re.compile(r"[ \t\n\r\v\f]*([+-]?[0-9]+)[ \t\n\r\v\f]*")
_TYPE_NAMES = {
    INT2_OID: "smallint",
    INT4_OID: "integer",
    INT8_OID: "bigint",
    FLOAT4_OID: "real",
    FLOAT8_OID: "double precision",
    NUMERIC_OID: "numeric",
    BOOL_OID: "boolean",
    UUID_OID: "uuid",
    DATE_OID: "date",
    TIME_OID: "time",
    TIMETZ_OID: "time with time zone",
    TIMESTAMP_OID: "timestamp",
    TIMESTAMPTZ_OID: "timestamp with time zone",
    INTERVAL_OID: "interval",
    BYTEA_OID: "bytea",
    OID_OID: "oid",
}


def _bad_syntax(oid: int, text: str) -> InvalidTextRepresentation:
    return InvalidTextRepresentation(f'invalid input syntax for type {_TYPE_NAMES[oid]}: "{text}"')


def _bad_datetime(oid: int, text: str) -> PgError:
    return pg_error("22007", f'invalid input syntax for type {_TYPE_NAMES[oid]}: "{text}"')


def _int_decoder(oid: int) -> Callable[[str], int]:
    lo, hi, name = _INT_RANGES[oid]

    def dec(s: str) -> int:
        m = _INT_RE.fullmatch(s)
        if m is None:
            raise _bad_syntax(oid, s)
        v = int(m.group(1))
        if not lo <= v <= hi:
            raise pg_error("22003", f'value "{s}" is out of range for type {name}')
        return v

    return dec


def _dec_oid(s: str) -> int:
    m = _INT_RE.fullmatch(s)
    if m is None:
        raise _bad_syntax(OID_OID, s)
    v = int(m.group(1))
    if not -(2**31) <= v <= 2**32 - 1:
        raise pg_error("22003", f'value "{s}" is out of range for type oid')
    return v % 2**32


_BOOL_WORDS = {
    "t": True,
    "true": True,
    "y": True,
    "yes": True,
    "on": True,
    "1": True,
    "f": False,
    "false": False,
    "n": False,
    "no": False,
    "off": False,
    "0": False,
}


def _dec_bool(s: str) -> bool:
    """boolin: true/false/yes/no/on/off/1/0 and unique prefixes (``tr``, ``of``), any case."""
    w = s.strip(_PG_SPACE).lower()
    if w in _BOOL_WORDS:
        return _BOOL_WORDS[w]
    if len(w) >= 2:
        for full, val in (("true", True), ("false", False), ("yes", True), ("off", False)):
            if full.startswith(w):
                return val
    raise _bad_syntax(BOOL_OID, s)


_SPECIAL_FLOATS = {
    "nan": math.nan,
    "infinity": math.inf,
    "+infinity": math.inf,
    "-infinity": -math.inf,
    "inf": math.inf,
    "+inf": math.inf,
    "-inf": -math.inf,
}


def _float_decoder(oid: int) -> Callable[[str], float]:
    """float4in / float8in: strtof/strtod syntax (hex too), NaN/Infinity, out-of-range errors
    for overflow and for underflow to zero (subnormals are accepted)."""

    def dec(s: str) -> float:
        w = s.strip(_PG_SPACE)
        sp = _SPECIAL_FLOATS.get(w.lower())
        if sp is not None:
            return sp
        m = vectors.NUM_RE.fullmatch(w)
        if m is None or not w:
            raise _bad_syntax(oid, s)
        tok = m.group(0)
        if oid == FLOAT4_OID:
            v, overflow = vectors.parse_float4_token(tok)
        else:
            v, overflow = _strtod(tok)
        if math.isnan(v) or (math.isinf(v) and not overflow):
            return v
        if overflow or (v == 0 and _nonzero_literal(tok)):
            raise pg_error("22003", f'"{w}" is out of range for type {_TYPE_NAMES[oid]}')
        return v

    return dec


def _strtod(tok: str) -> tuple[float, bool]:
    body = tok.lstrip("+-")
    if body[:1] in "iInN":
        return float(tok.split("(")[0]), False
    if body[:2] in ("0x", "0X"):
        try:
            v = float.fromhex(tok)
        except OverflowError:
            return (-math.inf if tok.startswith("-") else math.inf), True
    else:
        v = float(tok)
    return v, math.isinf(v)


def _nonzero_literal(tok: str) -> bool:
    mant = re.split("[eEpP]", tok.lstrip("+-"), maxsplit=1)[0]
    if mant[:2] in ("0x", "0X"):
        mant = mant[2:]
    return any(c not in "0." for c in mant)


_NUMERIC_RE = re.compile(
    r"[ \t\n\r\v\f]*([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"[ \t\n\r\v\f]*"
)
_NUMERIC_SPECIAL = {
    "nan": Decimal("NaN"),
    "infinity": Decimal("Infinity"),
    "+infinity": Decimal("Infinity"),
    "-infinity": Decimal("-Infinity"),
    "inf": Decimal("Infinity"),
    "+inf": Decimal("Infinity"),
    "-inf": Decimal("-Infinity"),
}


def _dec_numeric(s: str) -> Decimal:
    """numeric_in: keeps the input's scale (``1.50`` -> scale 2, ``1e2`` -> ``100``)."""
    w = s.strip(_PG_SPACE)
    sp = _NUMERIC_SPECIAL.get(w.lower())
    if sp is not None:
        return sp
    m = _NUMERIC_RE.fullmatch(s)
    if m is None:
        raise _bad_syntax(NUMERIC_OID, s)
    d = Decimal(m.group(1))
    exp = d.as_tuple().exponent
    assert isinstance(exp, int)
    mant_end = m.group(1).lower().find("e")
    if mant_end >= 0 and abs(int(m.group(1)[mant_end + 1 :])) > 1000:
        # Postgres 15 rejects exponents beyond NUMERIC_MAX_PRECISION this way
        raise _bad_syntax(NUMERIC_OID, s)
    if exp > 0:  # 1e2 -> 100 (scale 0), like numeric
        t = d.as_tuple()
        digits = "".join(map(str, t.digits))
        d = Decimal(("-" if t.sign else "") + digits + "0" * exp)
    if d.is_zero():
        d = d.copy_abs()
    return d


def _dec_str(s: str) -> str:
    return s


def _dec_char(s: str) -> str:
    return s[:1]


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _dec_bytea(s: str) -> bytes:
    """byteain: ``\\x`` hex (blanks allowed between bytes) or the escape format."""
    if s.startswith("\\x"):
        out = bytearray()
        i, n = 2, len(s)
        while i < n:
            c = s[i]
            if c in " \t\n\r":
                i += 1
                continue
            if c not in _HEX_DIGITS:
                raise pg_error("22023", f'invalid hexadecimal digit: "{c}"')
            if i + 1 >= n:
                raise pg_error("22023", "invalid hexadecimal data: odd number of digits")
            c2 = s[i + 1]
            if c2 not in _HEX_DIGITS:
                raise pg_error("22023", f'invalid hexadecimal digit: "{c2}"')
            out.append(int(s[i : i + 2], 16))
            i += 2
        return bytes(out)
    raw = s.encode()
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c != 0x5C:  # backslash
            out.append(c)
            i += 1
        elif i + 1 < n and raw[i + 1] == 0x5C:
            out.append(0x5C)
            i += 2
        elif (
            i + 3 < n
            and raw[i + 1] in b"0123"
            and raw[i + 2] in b"01234567"
            and raw[i + 3] in b"01234567"
        ):
            out.append(int(raw[i + 1 : i + 4], 8))
            i += 4
        else:
            raise InvalidTextRepresentation("invalid input syntax for type bytea")
    return bytes(out)


def _dec_json(s: str) -> str:
    try:
        _json_loads(s)
    except (ValueError, RecursionError) as e:
        raise InvalidTextRepresentation("invalid input syntax for type json") from e
    return s


_DATE_RE = re.compile(r"([0-9]{4,})-([0-9]{1,2})-([0-9]{1,2})")
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]*))?)?")
_TZ_RE = re.compile(r"(Z|z|UTC|[+-][0-9]{1,2}(?::?[0-9]{2}(?::?[0-9]{2})?)?)")
_TS_RE = re.compile(
    r"[ \t\n\r\v\f]*"
    r"([0-9]{4,}-[0-9]{1,2}-[0-9]{1,2})"
    r"(?:[ Tt]+([0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]*)?)?))?"
    r" *(Z|z|UTC|[+-][0-9]{1,2}(?::?[0-9]{2}(?::?[0-9]{2})?)?)?"
    r"( +(?:BC|bc|AD|ad))?"
    r"[ \t\n\r\v\f]*"
)


def _frac_us(frac: str | None) -> tuple[int, int]:
    """(microseconds, carry seconds) from the digits after the point, rounded half-even."""
    if not frac:
        return 0, 0
    d = Decimal("0." + frac).quantize(Decimal("0.000001"))
    us = int(d * 1_000_000)
    return (0, 1) if us == 1_000_000 else (us, 0)


def _parse_offset(tz: str) -> dt.timezone:
    if tz in ("Z", "z", "UTC"):
        return dt.UTC
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    if len(digits) in (1, 3, 5):  # "+5", "+530" -> pad the hour
        digits = "0" + digits
    h = int(digits[:2])
    m = int(digits[2:4] or 0)
    s = int(digits[4:6] or 0)
    if h > 15 or m > 59 or s > 59:
        raise ValueError("time zone displacement out of range")
    return dt.timezone(sign * dt.timedelta(hours=h, minutes=m, seconds=s))


_DATE_SPECIAL = {"infinity": dt.date.max, "-infinity": dt.date.min, "epoch": dt.date(1970, 1, 1)}
_TS_SPECIAL = {
    "infinity": dt.datetime.max,
    "-infinity": dt.datetime.min,
    "epoch": dt.datetime(1970, 1, 1),
}


def _dec_date(s: str) -> dt.date:
    """date_in for ISO dates (``2024-01-02``; a time part is ignored), infinity, epoch.

    Python dates stop at 0001..9999: BC dates and later years are reported as out of range.
    ``infinity`` maps to `date.max`, as DuckDB's own Python conversion does.
    """
    w = s.strip(_PG_SPACE)
    if w.lower() in _DATE_SPECIAL:
        return _DATE_SPECIAL[w.lower()]
    m = _TS_RE.fullmatch(s)
    if m is None:
        raise _bad_datetime(DATE_OID, s)
    y, mo, d = (int(x) for x in m.group(1).split("-"))
    if m.group(4) and m.group(4).strip().upper() == "BC" or y > 9999 or y == 0:
        raise pg_error("22008", f'date out of range: "{s}"')
    try:
        return dt.date(y, mo, d)
    except ValueError:
        raise pg_error("22008", f'date/time field value out of range: "{s}"') from None


def _parse_ts(oid: int, s: str) -> tuple[dt.datetime, dt.timezone | None]:
    m = _TS_RE.fullmatch(s)
    if m is None:
        raise _bad_datetime(oid, s)
    y, mo, d = (int(x) for x in m.group(1).split("-"))
    if m.group(4) and m.group(4).strip().upper() == "BC" or y > 9999 or y == 0:
        raise pg_error("22008", f'timestamp out of range: "{s}"')
    h = mi = sec = us = carry = 0
    if m.group(2):
        tm = _TIME_RE.fullmatch(m.group(2))
        assert tm is not None
        h, mi = int(tm.group(1)), int(tm.group(2))
        sec = int(tm.group(3) or 0)
        us, carry = _frac_us(tm.group(4))
    try:
        tz = _parse_offset(m.group(3)) if m.group(3) else None
        if h == 24 and mi == 0 and sec == 0 and us == 0:
            base = dt.datetime(y, mo, d) + dt.timedelta(days=1)
        else:
            base = dt.datetime(y, mo, d, h, mi, sec, us)
        return base + dt.timedelta(seconds=carry), tz
    except (ValueError, OverflowError):
        raise pg_error("22008", f'date/time field value out of range: "{s}"') from None


def _dec_timestamp(s: str) -> dt.datetime:
    """timestamp_in for ISO forms; like Postgres, a zone offset in the text is ignored."""
    w = s.strip(_PG_SPACE).lower()
    if w in _TS_SPECIAL:
        return _TS_SPECIAL[w]
    return _parse_ts(TIMESTAMP_OID, s)[0]


def _dec_timestamptz(s: str) -> dt.datetime:
    """timestamptz_in for ISO forms -> aware datetime in UTC (no offset = session TZ, UTC)."""
    w = s.strip(_PG_SPACE).lower()
    if w in _TS_SPECIAL:
        return _TS_SPECIAL[w].replace(tzinfo=dt.UTC)
    naive, tz = _parse_ts(TIMESTAMPTZ_OID, s)
    try:
        return naive.replace(tzinfo=tz or dt.UTC).astimezone(dt.UTC)
    except OverflowError:
        raise pg_error("22008", f'timestamp out of range: "{s}"') from None


_TIMETZ_RE = re.compile(
    r"[ \t\n\r\v\f]*([0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]*)?)?)"
    r" *(Z|z|UTC|[+-][0-9]{1,2}(?::?[0-9]{2}(?::?[0-9]{2})?)?)?[ \t\n\r\v\f]*"
)


def _parse_time(oid: int, s: str) -> tuple[dt.time, dt.timezone | None]:
    m = _TIMETZ_RE.fullmatch(s)
    if m is None:
        raise _bad_datetime(oid, s)
    tm = _TIME_RE.fullmatch(m.group(1))
    assert tm is not None
    h, mi, sec = int(tm.group(1)), int(tm.group(2)), int(tm.group(3) or 0)
    us, carry = _frac_us(tm.group(4))
    try:
        tz = _parse_offset(m.group(2)) if m.group(2) else None
        if carry:
            total = dt.datetime(2000, 1, 1, h, mi, sec) + dt.timedelta(seconds=1)
            if total.day != 1:
                raise ValueError
            h, mi, sec = total.hour, total.minute, total.second
        return dt.time(h, mi, sec, us), tz
    except ValueError:
        raise pg_error("22008", f'date/time field value out of range: "{s}"') from None


def _dec_time(s: str) -> dt.time:
    """time_in (``01:02[:03[.ffffff]]``).  ``24:00:00`` does not fit a Python time: 22008."""
    return _parse_time(TIME_OID, s)[0]


def _dec_timetz(s: str) -> dt.time:
    t, tz = _parse_time(TIMETZ_OID, s)
    return t.replace(tzinfo=tz or dt.UTC)


_INTERVAL_UNITS: dict[str, tuple[int, int]] = {}  # unit -> (months, microseconds) per unit
for _names, _months, _us in (
    (("microsecond", "microseconds", "us", "usec", "usecs", "useconds"), 0, 1),
    (("millisecond", "milliseconds", "ms", "msec", "msecs", "mseconds"), 0, 1_000),
    (("second", "seconds", "s", "sec", "secs"), 0, 1_000_000),
    (("minute", "minutes", "m", "min", "mins"), 0, 60_000_000),
    (("hour", "hours", "h", "hr", "hrs"), 0, 3_600_000_000),
    (("day", "days", "d"), 0, 86_400_000_000),
    (("week", "weeks", "w"), 0, 7 * 86_400_000_000),
    (("month", "months", "mon", "mons"), 1, 0),
    (("year", "years", "y", "yr", "yrs"), 12, 0),
    (("decade", "decades"), 120, 0),
    (("century", "centuries"), 1200, 0),
    (("millennium", "millennia", "millenniums"), 12000, 0),
):
    for _n in _names:
        _INTERVAL_UNITS[_n] = (_months, _us)

_IV_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<time>[+-]?[0-9]+:[0-9]{1,2}(?::[0-9]{1,2}(?:\.[0-9]*)?)?)"
    r"|(?P<num>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))\s*(?P<unit>[a-zA-Z]+)?"
    r"|(?P<ago>ago)"
    r")\s*,?",
    re.I,
)
_ISO_IV = re.compile(
    r"P(?:(?P<y>[0-9.]+)Y)?(?:(?P<mo>[0-9.]+)M)?(?:(?P<w>[0-9.]+)W)?(?:(?P<d>[0-9.]+)D)?"
    r"(?:T(?:(?P<h>[0-9.]+)H)?(?:(?P<mi>[0-9.]+)M)?(?:(?P<s>[0-9.]+)S)?)?",
    re.I,
)


def _dec_interval(s: str) -> dt.timedelta:
    """interval_in for the postgres style (``1 day 02:00:00``, ``-1 days +23:00``, ``@ 1 day
    ago``), unit lists (``3 hours 5 min``), Python's ``str(timedelta)`` (``-1 day 0:00:05``),
    psycopg's sql_standard form (``+1 day +5 second +0 microsecond``) and ISO 8601
    (``P1DT2H``).  Months count 30 days (a timedelta has no months; DuckDB does the same).
    """
    w = s.strip(_PG_SPACE)
    if w.startswith("@"):
        w = w[1:]
    months = 0
    us = Decimal(0)
    iso = _ISO_IV.fullmatch(w)
    if iso and len(w) > 1:
        g = {k: Decimal(v) for k, v in iso.groupdict().items() if v}
        months_d = g.get("y", 0) * 12 + g.get("mo", 0)
        us = (
            g.get("w", 0) * 7 * 86_400_000_000
            + g.get("d", 0) * 86_400_000_000
            + g.get("h", 0) * 3_600_000_000
            + g.get("mi", 0) * 60_000_000
            + g.get("s", 0) * 1_000_000
            + months_d * 30 * 86_400_000_000
        )
        return dt.timedelta(microseconds=int(us.to_integral_value()))
    pos, n, ago, seen = 0, len(w), False, False
    while pos < n:
        m = _IV_TOKEN.match(w, pos)
        if m is None or m.end() == pos:
            raise _bad_datetime(INTERVAL_OID, s)
        pos = m.end()
        if m.group("ago"):
            ago = True
            continue
        seen = True
        if m.group("time"):
            t = m.group("time")
            neg = t.startswith("-")
            parts = t.lstrip("+-").split(":")
            val = (
                Decimal(parts[0]) * 3_600_000_000
                + Decimal(parts[1]) * 60_000_000
                + (Decimal(parts[2]) * 1_000_000 if len(parts) > 2 else 0)
            )
            us += -val if neg else val
            continue
        num = Decimal(m.group("num"))
        unit = (m.group("unit") or "second").lower()
        if unit not in _INTERVAL_UNITS:
            raise _bad_datetime(INTERVAL_OID, s)
        mo, per = _INTERVAL_UNITS[unit]
        if mo:
            whole = num * mo
            months += int(whole)
            us += (whole - int(whole)) * 30 * 86_400_000_000
        else:
            us += num * per
    if not seen:
        raise _bad_datetime(INTERVAL_OID, s)
    total = us + months * 30 * 86_400_000_000
    if ago:
        total = -total
    try:
        return dt.timedelta(microseconds=int(total.to_integral_value()))
    except OverflowError:
        raise pg_error("22008", f'interval out of range: "{s}"') from None


def _dec_uuid(s: str) -> uuid.UUID:
    """uuid_in: 32 hex digits, a hyphen allowed after any group of four, optional braces."""
    i, n = 0, len(s)
    braces = n > 0 and s[0] == "{"
    if braces:
        i = 1
    hexs: list[str] = []
    for k in range(16):
        if i + 1 >= n or s[i] not in _HEX_DIGITS or s[i + 1] not in _HEX_DIGITS:
            raise _bad_syntax(UUID_OID, s)
        hexs.append(s[i : i + 2])
        i += 2
        if i < n and s[i] == "-" and k % 2 == 1 and k < 15:
            i += 1
    if braces:
        if i >= n or s[i] != "}":
            raise _bad_syntax(UUID_OID, s)
        i += 1
    if i != n:
        raise _bad_syntax(UUID_OID, s)
    return uuid.UUID("".join(hexs))


def _dec_vector_text(s: str) -> str:
    return s


# --------------------------------------------------------------------------------------------
# array literals


def _malformed(text: str, detail: str) -> InvalidTextRepresentation:
    return InvalidTextRepresentation(f'malformed array literal: "{text}"', detail=detail)


def parse_array_text(text: str, elem: Callable[[str], Any]) -> list[Any]:
    """array_in: ``{1,2,NULL}``, ``{{1,2},{3,4}}``, ``{"a b","x\\"y"}``, optional
    ``[1:2]=`` dimension decoration -> nested lists of `elem`-decoded values (None for NULL).

    Errors are Postgres's ``malformed array literal: "<text>"`` (22P02) with its DETAILs;
    a bad element raises the element type's own error.
    """
    n = len(text)
    pos = 0
    while pos < n and text[pos] in _PG_SPACE:
        pos += 1
    if pos < n and text[pos] == "[":
        m = re.compile(r"(?:\[[+-]?[0-9]+(?::[+-]?[0-9]+)?\])+\s*=\s*").match(text, pos)
        if m is None:
            raise _malformed(text, 'Array value must start with "{" or dimension information.')
        pos = m.end()
    if pos >= n or text[pos] != "{":
        raise _malformed(text, 'Array value must start with "{" or dimension information.')

    def parse_level(pos: int, depth: int) -> tuple[list[Any], int]:
        if depth > 6:
            raise ProgramLimitExceeded(
                "number of array dimensions (7) exceeds the maximum allowed (6)"
            )
        assert text[pos] == "{"
        pos += 1
        items: list[Any] = []
        expect_item = True
        while True:
            while pos < n and text[pos] in _PG_SPACE:
                pos += 1
            if pos >= n:
                raise _malformed(text, "Unexpected end of input.")
            c = text[pos]
            if c == "}":
                if items and expect_item:
                    raise _malformed(text, 'Unexpected "}" character.')
                return items, pos + 1
            if not expect_item:
                if c == ",":
                    pos += 1
                    expect_item = True
                    continue
                raise _malformed(text, f'Unexpected "{c}" character.')
            if c == "{":
                sub, pos = parse_level(pos, depth + 1)
                items.append(sub)
            elif c == '"':
                pos += 1
                buf: list[str] = []
                while True:
                    if pos >= n:
                        raise _malformed(text, "Unexpected end of input.")
                    ch = text[pos]
                    if ch == "\\":
                        if pos + 1 >= n:
                            raise _malformed(text, "Unexpected end of input.")
                        buf.append(text[pos + 1])
                        pos += 2
                    elif ch == '"':
                        pos += 1
                        break
                    else:
                        buf.append(ch)
                        pos += 1
                items.append(elem("".join(buf)))
            elif c == ",":
                raise _malformed(text, 'Unexpected "," character.')
            else:
                buf = []
                last_nonspace = 0
                escaped_any = False
                while pos < n:
                    ch = text[pos]
                    if ch in ",}":
                        break
                    if ch in '{"':
                        raise _malformed(text, f'Unexpected "{ch}" character.')
                    if ch == "\\":
                        if pos + 1 >= n:
                            raise _malformed(text, "Unexpected end of input.")
                        buf.append(text[pos + 1])
                        escaped_any = True
                        pos += 2
                        last_nonspace = len(buf)
                        continue
                    buf.append(ch)
                    if ch not in _PG_SPACE:
                        last_nonspace = len(buf)
                    pos += 1
                word = "".join(buf[:last_nonspace])
                if not escaped_any and word.upper() == "NULL":
                    items.append(None)
                else:
                    items.append(elem(word))
            expect_item = False

    result, pos = parse_level(pos, 1)
    while pos < n and text[pos] in _PG_SPACE:
        pos += 1
    if pos != n:
        raise _malformed(text, "Junk after closing right brace.")
    _check_rectangular(text, result)
    return result


def _check_rectangular(text: str, v: list[Any]) -> None:
    def shape(x: Any) -> tuple[int, ...] | None:
        if not isinstance(x, list):
            return None
        subs = [shape(y) for y in x]
        if not subs:
            return (0,)
        first = subs[0]
        if any(sv != first for sv in subs):
            raise _malformed(
                text,
                "Multidimensional arrays must have sub-arrays with matching dimensions.",
            )
        return (len(x),) + (first or ())

    shape(v)


_TEXT_DECODERS: dict[int, Callable[[str], Any]] = {
    BOOL_OID: _dec_bool,
    INT2_OID: _int_decoder(INT2_OID),
    INT4_OID: _int_decoder(INT4_OID),
    INT8_OID: _int_decoder(INT8_OID),
    OID_OID: _dec_oid,
    FLOAT4_OID: _float_decoder(FLOAT4_OID),
    FLOAT8_OID: _float_decoder(FLOAT8_OID),
    NUMERIC_OID: _dec_numeric,
    TEXT_OID: _dec_str,
    VARCHAR_OID: _dec_str,
    BPCHAR_OID: _dec_str,
    NAME_OID: _dec_str,
    CHAR_OID: _dec_char,
    UNKNOWN_OID: _dec_str,
    0: _dec_str,
    BYTEA_OID: _dec_bytea,
    JSON_OID: _dec_json,
    JSONB_OID: _dec_json,
    DATE_OID: _dec_date,
    TIME_OID: _dec_time,
    TIMETZ_OID: _dec_timetz,
    TIMESTAMP_OID: _dec_timestamp,
    TIMESTAMPTZ_OID: _dec_timestamptz,
    INTERVAL_OID: _dec_interval,
    UUID_OID: _dec_uuid,
    VECTOR_OID: _dec_vector_text,
    HALFVEC_OID: _dec_vector_text,
    SPARSEVEC_OID: _dec_vector_text,
}


def _array_text_decoder(elem: Callable[[str], Any]) -> Callable[[str], Any]:
    def dec(s: str) -> Any:
        return parse_array_text(s, elem)

    return dec


for _arr, _elem in ELEMENT_OF.items():
    _TEXT_DECODERS[_arr] = _array_text_decoder(_TEXT_DECODERS.get(_elem, _dec_str))


# --------------------------------------------------------------------------------------------
# parameter decoding: binary


class _Buf:
    """A cursor over a binary value, raising Postgres's errors like pq_getmsg*."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, k: int) -> bytes:
        if k < 0 or self.pos + k > len(self.data):
            raise ProtocolViolation("insufficient data left in message")
        b = self.data[self.pos : self.pos + k]
        self.pos += k
        return b

    def unpack(self, st: struct.Struct) -> tuple[Any, ...]:
        return st.unpack(self.take(st.size))

    def rest(self) -> bytes:
        b = self.data[self.pos :]
        self.pos = len(self.data)
        return b


def _incorrect_binary() -> PgError:
    # exec_bind_message adds " in bind parameter N" (decode_param does)
    return pg_error("22P03", "incorrect binary data format")


def _utf8(b: bytes) -> str:
    try:
        return b.decode()
    except UnicodeDecodeError as e:
        bad = " ".join(f"0x{x:02x}" for x in b[e.start : min(e.end + 1, len(b))])
        raise pg_error("22021", f'invalid byte sequence for encoding "UTF8": {bad}') from None


def _rb_bool(b: _Buf) -> bool:
    return b.take(1) != b"\x00"


def _rb_struct(st: struct.Struct) -> Callable[[_Buf], Any]:
    def dec(b: _Buf) -> Any:
        return b.unpack(st)[0]

    return dec


def _rb_float4(b: _Buf) -> float:
    return b.unpack(_S_FLOAT4)[0]


def _rb_text(b: _Buf) -> str:
    return _utf8(b.rest())


def _rb_bytea(b: _Buf) -> bytes:
    return b.rest()


def _rb_json(b: _Buf) -> str:
    return _dec_json(_utf8(b.rest()))


def _rb_jsonb(b: _Buf) -> str:
    version = b.take(1)[0]
    if version != 1:
        raise pg_error("XX000", f"unsupported jsonb version number {version}")
    return _dec_json(_utf8(b.rest()))


def _rb_date(b: _Buf) -> dt.date:
    days = b.unpack(_S_INT4)[0]
    if days == 2**31 - 1:
        return dt.date.max
    if days == -(2**31):
        return dt.date.min
    try:
        return dt.date.fromordinal(_PG_EPOCH_ORD + days)
    except (ValueError, OverflowError):
        raise pg_error("22008", "date out of range") from None


def _rb_time(b: _Buf) -> dt.time:
    us = b.unpack(_S_INT8)[0]
    if not 0 <= us < 86_400_000_000:
        raise pg_error("22008", "time out of range")
    s, us = divmod(us, 1_000_000)
    return dt.time(s // 3600, s // 60 % 60, s % 60, us)


def _rb_timetz(b: _Buf) -> dt.time:
    us, zone = b.unpack(_S_TIMETZ)
    if not 0 <= us <= 86_400_000_000:
        raise pg_error("22008", "time out of range")
    if not -15 * 3600 - 59 * 60 <= zone <= 15 * 3600 + 59 * 60:
        raise pg_error("22009", "time zone displacement out of range")
    s, us = divmod(min(us, 86_400_000_000 - 1), 1_000_000)
    return dt.time(s // 3600, s // 60 % 60, s % 60, us, dt.timezone(dt.timedelta(seconds=-zone)))


def _rb_timestamp(b: _Buf) -> dt.datetime:
    us = b.unpack(_S_INT8)[0]
    if us == 2**63 - 1:
        return dt.datetime.max
    if us == -(2**63):
        return dt.datetime.min
    try:
        return _PG_EPOCH + dt.timedelta(microseconds=us)
    except OverflowError:
        raise pg_error("22008", "timestamp out of range") from None


def _rb_timestamptz(b: _Buf) -> dt.datetime:
    return _rb_timestamp(b).replace(tzinfo=dt.UTC)


def _rb_interval(b: _Buf) -> dt.timedelta:
    us, days, months = b.unpack(_S_INTERVAL)
    try:
        return dt.timedelta(days=days + 30 * months, microseconds=us)
    except OverflowError:
        raise pg_error("22008", "interval out of range") from None


def _rb_uuid(b: _Buf) -> uuid.UUID:
    return uuid.UUID(bytes=b.take(16))


def numeric_from_binary(data: bytes) -> Decimal:
    """numeric_recv: the inverse of `numeric_to_binary`, with Postgres's validity checks."""
    b = _Buf(bytes(data))
    d = _rb_numeric(b)
    if b.pos != len(b.data):
        raise _incorrect_binary()
    return d


def _rb_numeric(b: _Buf) -> Decimal:
    ndigits, weight, sign, dscale = b.unpack(_S_NUMERIC_HEAD)
    if ndigits < 0:
        raise pg_error("22P03", 'invalid length in external "numeric" value')
    if sign == _NUMERIC_NAN:
        return Decimal("NaN")
    if sign == _NUMERIC_PINF:
        return Decimal("Infinity")
    if sign == _NUMERIC_NINF:
        return Decimal("-Infinity")
    if sign not in (_NUMERIC_POS, _NUMERIC_NEG):
        raise pg_error("22P03", 'invalid sign in external "numeric" value')
    if dscale < 0 or dscale > 0x3FFF:
        raise pg_error("22P03", 'invalid scale in external "numeric" value')
    digits = struct.unpack(f"!{ndigits}h", b.take(2 * ndigits))
    for g in digits:
        if not 0 <= g < 10000:
            raise pg_error("22P03", 'invalid digit in external "numeric" value')
    # value = 0.dddd... with the first group at 10000^weight; print it with dscale decimals
    # (digits beyond dscale are truncated, as numeric_recv's trunc_var does)
    body = "".join(f"{g:04d}" for g in digits)
    point = 4 * (weight + 1)  # position of the decimal point within `body`
    if point <= 0:
        int_str, frac = "0", "0" * (-point) + body
    elif point >= len(body):
        int_str, frac = body + "0" * (point - len(body)), ""
    else:
        int_str, frac = body[:point], body[point:]
    int_str = int_str.lstrip("0") or "0"
    frac = (frac + "0" * dscale)[:dscale]
    neg = sign == _NUMERIC_NEG and any(c != "0" for c in int_str + frac)
    return Decimal(("-" if neg else "") + int_str + ("." + frac if dscale else ""))


def _rb_vector(b: _Buf) -> np.ndarray:
    return vectors.decode_vector_binary(b.rest())


def _rb_halfvec(b: _Buf) -> np.ndarray:
    return vectors.decode_halfvec_binary(b.rest())


def _rb_sparsevec(b: _Buf) -> vectors.SparseVectorValue:
    return vectors.decode_sparsevec_binary(b.rest())


def _rb_array(elem_oid: int, elem: Callable[[_Buf], Any]) -> Callable[[_Buf], Any]:
    def dec(b: _Buf) -> Any:
        ndim, flags, elemtype = b.unpack(_S_ARRAY_HEAD)
        if ndim < 0:
            raise pg_error("22P03", f"invalid number of dimensions: {ndim}")
        if ndim > 6:
            raise ProgramLimitExceeded(
                f"number of array dimensions ({ndim}) exceeds the maximum allowed (6)"
            )
        if flags not in (0, 1):
            raise pg_error("22P03", "invalid array flags")
        if elemtype != elem_oid:
            raise pg_error(
                "42804",
                f"binary data has array element type {elemtype} "
                f"({_type_name(elemtype)}) instead of expected {elem_oid} "
                f"({_type_name(elem_oid)})",
            )
        dims = [b.unpack(_S_DIM)[0] for _ in range(ndim)]
        if ndim == 0:
            return []
        if any(d < 0 for d in dims):
            raise pg_error("22P03", "invalid array dimensions")
        total = math.prod(dims)

        flat: list[Any] = []
        for i in range(total):
            length = b.unpack(_S_INT4)[0]
            if length == -1:
                flat.append(None)
                continue
            if length < -1 or length > len(b.data) - b.pos:
                raise pg_error("22P03", "insufficient data left in message")
            sub = _Buf(b.take(length))
            flat.append(elem(sub))
            if sub.pos != len(sub.data):
                raise pg_error("22P03", f"improper binary format in array element {i + 1}")
        return _nest(flat, dims)

    return dec


_S_ARRAY_HEAD = struct.Struct("!iiI")
_S_DIM = struct.Struct("!i4x")  # size, lower bound (ignored: Python lists start at 0)


def _nest(flat: list[Any], dims: list[int]) -> list[Any]:
    if len(dims) == 1:
        return flat
    step = len(flat) // dims[0] if dims[0] else 0
    return [_nest(flat[i * step : (i + 1) * step], dims[1:]) for i in range(dims[0])]


_SQL_NAMES = {
    BOOL_OID: "boolean",
    CHAR_OID: '"char"',
    INT2_OID: "smallint",
    INT4_OID: "integer",
    INT8_OID: "bigint",
    FLOAT4_OID: "real",
    FLOAT8_OID: "double precision",
    BPCHAR_OID: "character",
    VARCHAR_OID: "character varying",
    TIME_OID: "time without time zone",
    TIMETZ_OID: "time with time zone",
    TIMESTAMP_OID: "timestamp without time zone",
    TIMESTAMPTZ_OID: "timestamp with time zone",
}


def format_type(oid: int) -> str:
    """Postgres's format_type(oid, NULL): the SQL spelling used in error messages
    (``integer``, ``character varying``, ``bigint[]``, ``vector``); ``???`` if unknown."""
    if oid in _SQL_NAMES:
        return _SQL_NAMES[oid]
    t = TYPES.get(oid)
    if t is None:
        return "???"
    if t.category == "A":
        return format_type(t.elem_oid) + "[]"
    return t.name


def _type_name(oid: int) -> str:
    return format_type(oid)


_BINARY_DECODERS: dict[int, Callable[[_Buf], Any]] = {
    BOOL_OID: _rb_bool,
    INT2_OID: _rb_struct(_S_INT2),
    INT4_OID: _rb_struct(_S_INT4),
    INT8_OID: _rb_struct(_S_INT8),
    OID_OID: _rb_struct(_S_UINT4),
    FLOAT4_OID: _rb_float4,
    FLOAT8_OID: _rb_struct(_S_FLOAT8),
    NUMERIC_OID: _rb_numeric,
    TEXT_OID: _rb_text,
    VARCHAR_OID: _rb_text,
    BPCHAR_OID: _rb_text,
    NAME_OID: _rb_text,
    CHAR_OID: lambda b: _utf8(b.take(1)),
    BYTEA_OID: _rb_bytea,
    JSON_OID: _rb_json,
    JSONB_OID: _rb_jsonb,
    DATE_OID: _rb_date,
    TIME_OID: _rb_time,
    TIMETZ_OID: _rb_timetz,
    TIMESTAMP_OID: _rb_timestamp,
    TIMESTAMPTZ_OID: _rb_timestamptz,
    INTERVAL_OID: _rb_interval,
    UUID_OID: _rb_uuid,
    VECTOR_OID: _rb_vector,
    HALFVEC_OID: _rb_halfvec,
    SPARSEVEC_OID: _rb_sparsevec,
}
for _arr, _elem in ELEMENT_OF.items():
    if _elem in _BINARY_DECODERS:
        _BINARY_DECODERS[_arr] = _rb_array(_elem, _BINARY_DECODERS[_elem])


def decode_param(
    oid: int, fmt: int, data: bytes | None, *, param_index: int | None = None
) -> object:
    """A Bind parameter -> Python value (None for NULL).

    Text (fmt 0) values are parsed like the type's input function: ints, float (float4 values
    rounded to float4), Decimal, str, bytes (bytea's hex and escape formats), date, time
    (timetz: aware), datetime (timestamptz: aware UTC), timedelta, UUID, nested lists for
    arrays; json/jsonb are validated and returned as the original text; OID 0 / 705 (unknown)
    and the vector types come back as the string itself (vector literals are checked later,
    against the column's dimension).

    Binary (fmt 1) values follow each type's recv function; vector -> float32 np.ndarray via
    `sqlfront.vectors.decode_vector_binary`, halfvec -> float32 np.ndarray, sparsevec ->
    `SparseVectorValue`; unknown OIDs -> the raw bytes.

    Errors: Postgres's texts -- e.g. ``invalid input syntax for type integer: "abc"`` (22P02),
    ``value "70000" is out of range for type smallint`` (22003), ``insufficient data left in
    message`` (08P01) for short binary values, ``incorrect binary data format in bind
    parameter N`` (22P03) for trailing bytes (N = `param_index` + 1 when given), ``unsupported
    format code: 2`` (08P01).
    """
    if data is None:
        return None
    if fmt == 0:
        text = _utf8(bytes(data))
        if "\x00" in text:
            raise pg_error("22021", 'invalid byte sequence for encoding "UTF8": 0x00')
        return _TEXT_DECODERS.get(oid, _dec_str)(text)
    if fmt != 1:
        raise ProtocolViolation(f"unsupported format code: {fmt}")
    dec = _BINARY_DECODERS.get(oid)
    if dec is None:
        return bytes(data)
    buf = _Buf(bytes(data))
    try:
        value = dec(buf)
        if buf.pos != len(buf.data):
            raise _incorrect_binary()
    except PgError as e:
        if e.sqlstate == "22P03" and e.message == "incorrect binary data format":
            suffix = f" in bind parameter {param_index + 1}" if param_index is not None else ""
            raise pg_error("22P03", e.message + suffix) from None
        raise
    return value


# keep the module namespace tidy
del _arr, _elem, _names, _months, _us, _n
