"""Binary result and parameter formats for every type issue 5 lists: psycopg decodes the
binary form of each into the same Python value as the text form."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import numpy as np
from psycopg.types.json import Jsonb

ROW_SQL = """
SELECT 7::int2 AS i2, -70000::int4 AS i4, 9000000000::int8 AS i8, 1.5::float4 AS f4,
       -2.25::float8 AS f8, true AS b, 'héllo'::text AS t, '\\x00ff10'::bytea AS by,
       12345.678::numeric AS n, DATE '2024-02-29' AS d,
       TIMESTAMP '2024-02-29 13:14:15.123456' AS ts,
       TIMESTAMPTZ '2024-02-29 13:14:15.5+00' AS tstz,
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
       '{"k": [1, 2, {"x": null}]}'::jsonb AS j,
       ARRAY[1, 2, 3] AS ai, ARRAY['x', 'y'] AS at,
       '[1.5,-2,3]'::vector AS v
"""


def test_binary_results_equal_text_results(conn):
    text = conn.execute(ROW_SQL).fetchone()
    with conn.cursor(binary=True) as cur:
        binary = cur.execute(ROW_SQL).fetchone()
        formats = [cur.pgresult.fformat(i) for i in range(cur.pgresult.nfields)]
    assert formats == [1] * len(formats)  # every column really came back binary
    names = ROW_SQL.split("AS ")[1:]
    assert len(text) == len(binary) == len(names)
    for name, a, b in zip(names, text, binary, strict=True):
        if name.startswith("v"):  # vector: text form as text, pgvector's binary as bytes
            assert a == "[1.5,-2,3]"
            continue
        assert a == b, (name, a, b)
    assert binary[0:6] == (7, -70000, 9000000000, 1.5, -2.25, True)
    assert binary[7] == b"\x00\xff\x10"
    assert binary[8] == decimal.Decimal("12345.678")
    assert binary[9] == dt.date(2024, 2, 29)
    assert binary[10] == dt.datetime(2024, 2, 29, 13, 14, 15, 123456)
    assert binary[11] == dt.datetime(2024, 2, 29, 13, 14, 15, 500000, tzinfo=dt.UTC)
    assert binary[12] == uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    assert binary[13] == {"k": [1, 2, {"x": None}]}
    assert binary[14] == [1, 2, 3] and binary[15] == ["x", "y"]


def test_binary_parameters_round_trip(conn):
    conn.execute(
        "CREATE TABLE bin_params (i8 bigint, f8 double precision, n numeric, d date, "
        "ts timestamp, u uuid, j jsonb, by bytea, e vector(3))"
    )
    row = (
        -5,
        0.125,
        decimal.Decimal("-1.5"),
        dt.date(1999, 12, 31),
        dt.datetime(2000, 1, 1, 0, 0, 1),
        uuid.UUID(int=7),
        Jsonb({"a": 1}),
        b"\x01\x02",
        "[1,2,3]",
    )
    with conn.cursor() as cur:
        cur.execute("INSERT INTO bin_params VALUES (%b, %b, %b, %b, %b, %b, %b, %b, %s)", row)
        got = cur.execute("SELECT * FROM bin_params", binary=True).fetchone()
    assert got[:6] == row[:6]
    assert got[6] == {"a": 1} and got[7] == b"\x01\x02"
    dim, unused = np.frombuffer(got[8][:4], dtype=">i2")
    assert (dim, unused) == (3, 0)
    assert np.frombuffer(got[8][4:], dtype=">f4").tolist() == [1.0, 2.0, 3.0]
