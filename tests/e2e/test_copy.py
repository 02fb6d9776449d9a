"""COPY FROM STDIN / TO STDOUT through the real server: psycopg (text, csv, binary; write,
write_row, read, rows), psql's \\copy, libpq's extended protocol and CopyFail, Postgres's
errors with their CONTEXT line, transactions, and a corpus slice loaded by COPY."""

from __future__ import annotations

import json
import struct

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector
from psycopg import pq

from tests.conftest import load_corpus_table, run_psql, vec_text

DDL = (
    "CREATE TABLE {t} (id int PRIMARY KEY, body text, n bigint, score double precision, "
    "r real, flag boolean, meta jsonb, e vector(3))"
)
COLS = "id, body, n, score, r, flag, meta, e"
TYPES = ["int4", "text", "int8", "float8", "float4", "bool", "jsonb", "vector"]

ROWS = [
    (1, "plain", 10, 0.5, 1.5, True, {"k": "a", "n": 1}, [1.0, 2.0, 3.0]),
    (2, None, None, None, None, None, None, None),
    (3, "tab\there\nnewline\\backslash \\N", -(2**40), -1.25, 0.1, False, [1, "x"], [0.5, -1, 2]),
    (4, 'quote " comma , semi ; cr \r end', 0, 1e-300, -3.5, True, {}, [1e-7, 3e20, -0.0]),
    (5, "", 7, float("inf"), None, False, "str", [4, 5, 6]),
    (6, "ünïcödé ✓ \\.", 1, 2.0, 2.0, None, None, [7, 8, 9]),
    (7, "\\.", 2, 3.0, 4.0, True, {"nested": {"a": [1, 2]}}, [1, 1, 1]),
]


def _make(conn: psycopg.Connection, t: str) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {t}")
    conn.execute(DDL.format(t=t))


def _fill(conn: psycopg.Connection, t: str) -> None:
    for r in ROWS:
        vals = list(r)
        vals[6] = None if r[6] is None else json.dumps(r[6])
        vals[7] = None if r[7] is None else vec_text(np.array(r[7], dtype=np.float32))
        conn.execute(f"INSERT INTO {t} VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", vals)


def _all(conn: psycopg.Connection, t: str) -> list[tuple]:
    return conn.execute(f"SELECT {COLS} FROM {t} ORDER BY id").fetchall()


def _count(conn: psycopg.Connection, t: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]


@pytest.fixture
def src(conn: psycopg.Connection):
    register_vector(conn)
    _make(conn, "copy_src")
    _fill(conn, "copy_src")
    _make(conn, "copy_dst")
    yield conn
    conn.execute("DROP TABLE IF EXISTS copy_src")
    conn.execute("DROP TABLE IF EXISTS copy_dst")


def _copy_out(conn: psycopg.Connection, sql: str) -> bytes:
    with conn.cursor().copy(sql) as cp:
        return b"".join(bytes(b) for b in cp)


def _copy_in(conn: psycopg.Connection, sql: str, data: bytes) -> int:
    cur = conn.cursor()
    with cur.copy(sql) as cp:
        for s in range(0, len(data), 1000):  # many CopyData messages
            cp.write(data[s : s + 1000])
    return cur.rowcount


# ------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize(
    "opts",
    [
        "",
        "(FORMAT text)",
        "WITH (FORMAT csv)",
        "(FORMAT csv, HEADER true)",
        "WITH CSV HEADER",
        "(FORMAT csv, DELIMITER ';', NULL 'NA', QUOTE '''', ESCAPE '\\')",
        "(FORMAT text, DELIMITER '|', NULL '<null>')",
        "(FORMAT BINARY)",
        "BINARY",
    ],
)
def test_round_trip_every_format(src, opts):
    data = _copy_out(src, f"COPY copy_src ({COLS}) TO STDOUT {opts}")
    n = _copy_in(src, f"COPY copy_dst ({COLS}) FROM STDIN {opts}", data)
    assert n == len(ROWS)
    got, want = _all(src, "copy_dst"), _all(src, "copy_src")
    assert got == want
    assert got[2][1] == ROWS[2][1] and got[3][1] == ROWS[3][1] and got[6][1] == "\\."
    assert _copy_out(src, f"COPY copy_dst ({COLS}) TO STDOUT {opts}") == data


def test_text_output_is_postgres_text_format(src):
    data = _copy_out(src, "COPY copy_src (id, body, meta, e) TO STDOUT")
    lines = data.decode().split("\n")
    assert lines[0] == '1\tplain\t{"k": "a", "n": 1}\t[1,2,3]'
    assert lines[1] == "2\t\\N\t\\N\t\\N"
    assert lines[2].startswith("3\ttab\\there\\nnewline\\\\backslash \\\\N\t")
    assert lines[4] == '5\t\t"str"\t[4,5,6]'
    assert lines[-1] == "" and len(lines) == len(ROWS) + 1


def test_csv_output_quotes_like_postgres(src):
    sql = "COPY (SELECT id, body, e FROM copy_src WHERE id <> 3 ORDER BY id) TO STDOUT CSV HEADER"
    lines = _copy_out(src, sql).decode().split("\n")
    assert lines[0] == "id,body,e"
    assert lines[1] == '1,plain,"[1,2,3]"'
    assert lines[2] == "2,,"  # NULL: unquoted empty
    assert lines[3] == '4,"quote "" comma , semi ; cr \r end","[1e-07,3e+20,-0]"'
    assert lines[4] == '5,"","[4,5,6]"'  # empty string: quoted
    assert lines[6] == '7,\\.,"[1,1,1]"'  # \. is only quoted when alone on its line


def test_text_input_escapes_nulls_and_end_marker(src):
    data = (
        b"10\tA\\tB\\nC\\\\D\\101\\x42\\\\N\t\\N\t1\n"
        b"11\tescaped\\\tdelimiter\t5\t2\n"
        b"12\tback\\\nslash-newline\t\\N\t\\N\n"
        b"\\.\n"
        b"13\tafter the end marker\t1\t1\n"
    )
    assert _copy_in(src, "COPY copy_dst (id, body, n, score) FROM STDIN", data) == 3
    rows = src.execute("SELECT id, body, n, score FROM copy_dst ORDER BY id").fetchall()
    assert rows == [
        (10, "A\tB\nC\\DAB\\N", None, 1.0),
        (11, "escaped\tdelimiter", 5, 2.0),
        (12, "back\nslash-newline", None, None),
    ]


def test_csv_input_quotes_newlines_nulls_and_crlf(src):
    data = (
        b'id,body,e\r\n1,"multi\r\nline, with ""quotes""","[1,2,3]"\r\n'
        b'2,,"[4,5,6]"\r\n3,"",\r\n4,a"b,c"d,"[7,8,9]"\r\n'
    )
    n = _copy_in(src, "COPY copy_dst (id, body, e) FROM STDIN WITH (FORMAT csv, HEADER)", data)
    assert n == 4
    rows = src.execute("SELECT id, body, e FROM copy_dst ORDER BY id").fetchall()
    assert [(i, b, None if e is None else e.to_list()) for i, b, e in rows] == [
        (1, 'multi\r\nline, with "quotes"', [1, 2, 3]),
        (2, None, [4, 5, 6]),
        (3, "", None),
        (4, "ab,cd", [7, 8, 9]),
    ]


def test_csv_force_null_and_force_not_null(src):
    data = b'1,"x",x\n2,"",x\n'
    sql = "COPY copy_dst (id, body, meta) FROM STDIN (FORMAT csv, NULL 'x', FORCE_NULL (body))"
    _copy_in(src, sql, data)
    rows = src.execute("SELECT id, body FROM copy_dst ORDER BY id").fetchall()
    assert rows == [(1, None), (2, "")]  # quoted "x" is NULL only through FORCE_NULL
    src.execute("DELETE FROM copy_dst")
    sql = "COPY copy_dst (id, body) FROM STDIN (FORMAT csv, FORCE_NOT_NULL (body))"
    _copy_in(src, sql, b"1,\n")
    assert src.execute("SELECT body FROM copy_dst").fetchone() == ("",)


def test_header_match(src):
    ok = b"id\tbody\n1\tx\n"
    assert _copy_in(src, "COPY copy_dst (id, body) FROM STDIN (HEADER match)", ok) == 1
    with pytest.raises(psycopg.errors.BadCopyFileFormat) as ei:
        _copy_in(src, "COPY copy_dst (id, body) FROM STDIN (HEADER match)", b"id\tbad\n2\ty\n")
    assert 'got "bad", expected "body"' in ei.value.diag.message_primary
    assert _count(src, "copy_dst") == 1


def test_binary_write_row_and_rows(src):
    cur = src.cursor()
    with cur.copy(f"COPY copy_dst ({COLS}) FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(TYPES)
        for r in ROWS:
            vals = list(r)
            vals[7] = None if r[7] is None else np.array(r[7], dtype=np.float32)
            cp.write_row(vals)
    assert cur.rowcount == len(ROWS)
    assert _all(src, "copy_dst") == _all(src, "copy_src")
    with cur.copy(f"COPY copy_dst ({COLS}) TO STDOUT (FORMAT BINARY)") as cp:
        cp.set_types(TYPES)
        got = list(cp.rows())
    assert len(got) == len(ROWS)
    for g, r in zip(got, ROWS, strict=True):
        assert g[:4] == r[:4] and g[5:7] == r[5:7]
        assert g[4] == (None if r[4] is None else float(np.float32(r[4])))  # real: float4
        assert (g[7] is None) == (r[7] is None)
        if r[7] is not None:
            assert np.array_equal(g[7].to_numpy(), np.array(r[7], dtype=np.float32))


def test_vector_spellings_match_insert(vt):
    """COPY parses vector literals in bulk; every spelling must give the float4 bits that
    INSERT (pgvector's per-literal parser) gives: exponents, signs, blanks, -0, long decimals,
    values on a float4 rounding midpoint, subnormals."""
    from decimal import Decimal

    a = np.float32(1.5)
    mid = Decimal(float(a)) + (Decimal(float(np.nextafter(a, np.float32(2)))) - Decimal(1.5)) / 2
    lits = [
        "[1,2.5,-3e-2]",
        "[ 1 , +2.5,-.03 ]",
        " [1e0,25E-1,-3.0e-02] ",
        "[-0,0,-0.0]",
        f"[{mid},{mid + Decimal('1e-30')},{mid - Decimal('1e-30')}]",
        "[1.401298464324817e-45,1e-40,1.1754942e-38]",
        "[0.1234567890123456789012345678,123456789012345678901234567890,3.4028234e38]",
        "[1.5,0x1p-2,1]",
    ]
    vt.execute("DROP TABLE IF EXISTS copy_sp")
    vt.execute("CREATE TABLE copy_sp (id int, e vector(3))")
    fallback = {2, 7}  # blanks around the brackets, a hex float: the exact parser's job
    for batch in ([i for i in range(len(lits)) if i not in fallback], sorted(fallback)):
        data = "".join(f"{i}\t{lits[i]}\n" for i in batch).encode()
        assert _copy_in(vt, "COPY copy_sp FROM STDIN", data) == len(batch)
    for i, t in enumerate(lits):
        vt.execute("INSERT INTO copy_sp VALUES (%s, %s)", (100 + i, t))
    rows = dict(vt.execute("SELECT id, e FROM copy_sp").fetchall())
    for i in range(len(lits)):
        got, want = rows[i].to_numpy(), rows[100 + i].to_numpy()
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), lits[i]
    vt.execute("DROP TABLE copy_sp")


def test_text_rows_and_read(src):
    with src.cursor().copy("COPY (SELECT id, body FROM copy_src ORDER BY id) TO STDOUT") as cp:
        rows = list(cp.rows())
    assert rows[0] == ("1", "plain") and rows[1] == ("2", None)
    assert rows[2] == ("3", ROWS[2][1])
    with src.cursor().copy("COPY copy_src (id) TO STDOUT") as cp:
        chunks = []
        while data := cp.read():
            chunks.append(bytes(data))
    assert sorted(int(c) for c in chunks) == [r[0] for r in ROWS]


def test_column_lists_and_defaults(conn):
    conn.execute("DROP TABLE IF EXISTS copy_cols")
    conn.execute(
        "CREATE TABLE copy_cols (id serial PRIMARY KEY, name text, qty int DEFAULT 7, e vector(2))"
    )
    _copy_in(conn, "COPY copy_cols (e, name) FROM STDIN", b"[1,2]\tx\n\\N\ty\n")
    rows = conn.execute("SELECT id, name, qty, e FROM copy_cols ORDER BY id").fetchall()
    assert rows == [(1, "x", 7, "[1,2]"), (2, "y", 7, None)]
    assert _copy_out(conn, "COPY copy_cols (qty, name) TO STDOUT") == b"7\tx\n7\ty\n"
    with pytest.raises(psycopg.errors.UndefinedColumn):
        _copy_out(conn, "COPY copy_cols (nosuch) TO STDOUT")
    with pytest.raises(psycopg.Error) as ei:
        _copy_in(conn, "COPY copy_cols (name, name) FROM STDIN", b"")
    assert ei.value.diag.sqlstate == "42701"
    conn.execute("DROP TABLE copy_cols")


def test_copy_query_to_stdout_with_vectors_and_kinds(src):
    out = _copy_out(
        src,
        "COPY (SELECT id, e <-> '[1,2,3]' AS d FROM copy_src WHERE e IS NOT NULL "
        "ORDER BY e <-> '[1,2,3]' LIMIT 2) TO STDOUT (FORMAT csv)",
    )
    lines = out.decode().splitlines()
    assert lines[0] == "1,0" and lines[1].startswith("7,2.23606")  # [1,1,1]: sqrt(5)


# ------------------------------------------------------------------------------ psql


def test_psql_copy_both_ways(server, src, tmp_path):
    csv_file = tmp_path / "in.csv"
    csv_file.write_text('1,"hello, world","[1,2,3]"\n2,,\n3,"line\nbreak","[4,5,6]"\n')
    r = run_psql(server, "-c", f"\\copy copy_dst (id, body, e) FROM '{csv_file}' CSV")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "COPY 3"
    rows = src.execute("SELECT id, body, e FROM copy_dst ORDER BY id").fetchall()
    assert [(i, b, None if e is None else e.to_list()) for i, b, e in rows] == [
        (1, "hello, world", [1, 2, 3]),
        (2, None, None),
        (3, "line\nbreak", [4, 5, 6]),
    ]
    out = tmp_path / "out.txt"
    r = run_psql(server, "-c", f"\\copy copy_dst (id, body, e) TO '{out}'")
    assert r.returncode == 0, r.stderr
    assert out.read_text() == "1\thello, world\t[1,2,3]\n2\t\\N\t\\N\n3\tline\\nbreak\t[4,5,6]\n"
    qout = tmp_path / "q.csv"
    r = run_psql(
        server, "-c", f"\\copy (SELECT id FROM copy_dst WHERE body IS NULL) TO '{qout}' CSV HEADER"
    )
    assert r.returncode == 0, r.stderr
    assert qout.read_text() == "id\n2\n"
    bad = tmp_path / "bad.csv"
    bad.write_text('9,x,"[1,2,3]"\n10,y,"[1,2]"\n')
    r = run_psql(server, "-c", f"\\copy copy_dst (id, body, e) FROM '{bad}' CSV")
    assert r.returncode != 0
    assert "expected 3 dimensions, not 2" in r.stderr
    assert 'COPY copy_dst, line 2, column e: "[1,2]"' in r.stderr
    assert _count(src, "copy_dst") == 3


# ------------------------------------------------------------------------------ bad input

_SIG = b"PGCOPY\n\xff\r\n\x00" + bytes(8)

ERRS = [
    # (format options, data, sqlstate, message, context)
    ("", b"1\tx\t[1,2,3]\n2\ty\n", "22P04", 'missing data for column "e"', 'line 2: "2\ty"'),
    ("", b"1\tx\t[1,2,3]\tz\n", "22P04", "extra data after last expected column", "line 1: "),
    (
        "",
        b"1\tx\t[1,2,3]\nabc\ty\t[1,2,3]\n",
        "22P02",
        'invalid input syntax for type integer: "abc"',
        'line 2, column id: "abc"',
    ),
    (
        "",
        b"1\tx\t[1,2,3]\n2\ty\t[1,2,3]\n3\tz\t[1,2]\n",
        "22000",
        "expected 3 dimensions, not 2",
        'line 3, column e: "[1,2]"',
    ),
    ("", b"1\tx\t[1,2,a]\n", "22P02", "invalid input syntax for type vector", "column e"),
    ("", b"99999999999\tx\t\\N\n", "22003", "out of range for type integer", "column id"),
    ("", b"1\tx\t\\N\n1\ty\t\\N\n", "23505", "duplicate key value", None),
    ("(FORMAT csv)", b'1,"unterminated,[1,2,3]\n', "22P04", "unterminated CSV quoted field", None),
    (
        "(FORMAT csv)",
        b'1,x,"[1,2,3]"\n2,y\n',
        "22P04",
        'missing data for column "e"',
        'line 2: "2,y"',
    ),
    ("(FORMAT binary)", b"PGCOPY\nnot really", "22P04", "COPY file signature not recognized", None),
    (
        "(FORMAT binary)",
        _SIG + struct.pack(">hii", 2, 4, 1) + b"\xff\xff\xff\xff",
        "22P04",
        "row field count is 2, expected 3",
        "line 1",
    ),
    (
        "(FORMAT binary)",
        _SIG + struct.pack(">hi", 3, 4) + b"\x00\x00",
        "22P04",
        "unexpected EOF in COPY data",
        "line 1",
    ),
    (
        "(FORMAT binary)",
        _SIG + struct.pack(">hii", 3, 4, 1) + b"\xff\xff\xff\xff" * 2 + b"\xff\xff" + b"x",
        "22P04",
        "received copy data after EOF marker",
        "line 2",
    ),
    ("(FORMAT binary)", _SIG[:13], "22P04", "invalid COPY file header (missing flags)", None),
    ("(FORMAT xml)", b"", "22023", 'COPY format "xml" not recognized', None),
    ("(FORMAT csv, FORMAT text)", b"", "42601", "conflicting or redundant options", None),
    ("(BOGUS 1)", b"", "42601", 'option "bogus" not recognized', None),
    ("(FORMAT binary, DELIMITER ',')", b"", "42601", "cannot specify DELIMITER in BINARY", None),
    ("(QUOTE '\"')", b"", "0A000", "COPY quote available only in CSV mode", None),
]


@pytest.fixture
def vt(conn: psycopg.Connection):
    register_vector(conn)
    conn.execute("DROP TABLE IF EXISTS copy_vt")
    conn.execute("CREATE TABLE copy_vt (id int PRIMARY KEY, body text, e vector(3))")
    conn.execute("INSERT INTO copy_vt VALUES (100, 'kept', '[0,0,0]')")
    yield conn
    conn.execute("DROP TABLE IF EXISTS copy_vt")


@pytest.mark.parametrize("opts,data,state,message,context", ERRS)
def test_bad_input_stops_the_copy(vt, opts, data, state, message, context):
    with pytest.raises(psycopg.Error) as ei:
        _copy_in(vt, f"COPY copy_vt FROM STDIN {opts}", data)
    diag = ei.value.diag
    assert diag.sqlstate == state, diag.message_primary
    assert message in diag.message_primary
    if context is not None:
        assert diag.context is not None and diag.context.startswith("COPY copy_vt, ")
        assert context in diag.context
    assert _count(vt, "copy_vt") == 1
    assert vt.execute("SELECT body FROM copy_vt").fetchone() == ("kept",)


def test_binary_bad_vector_dimension_and_value(vt):
    for vec, state, text in [
        (np.array([1, 2], dtype=np.float32), "22000", "expected 3 dimensions, not 2"),
        (np.array([1, np.nan, 2], dtype=np.float32), "22000", "NaN not allowed in vector"),
    ]:
        with pytest.raises(psycopg.Error) as ei:
            with vt.cursor().copy("COPY copy_vt FROM STDIN (FORMAT BINARY)") as cp:
                cp.set_types(["int4", "text", "vector"])
                cp.write_row([1, "ok", np.array([1, 2, 3], dtype=np.float32)])
                cp.write_row([2, "bad", vec])
        assert ei.value.diag.sqlstate == state
        assert text in ei.value.diag.message_primary
        assert ei.value.diag.context == "COPY copy_vt, line 2, column e"
    with pytest.raises(psycopg.Error) as ei:
        with vt.cursor().copy("COPY copy_vt FROM STDIN (FORMAT BINARY)") as cp:
            cp.set_types(["int8", "text", "vector"])  # 8 bytes where int4 expects 4
            cp.write_row([1, "x", None])
    assert ei.value.diag.sqlstate == "22P03"
    assert ei.value.diag.context == "COPY copy_vt, line 1, column id"
    assert _count(vt, "copy_vt") == 1


def test_unknown_table_and_server_files(conn):
    with pytest.raises(psycopg.errors.UndefinedTable):
        _copy_in(conn, "COPY no_such_table FROM STDIN", b"")
    with pytest.raises(psycopg.errors.FeatureNotSupported):
        conn.execute("COPY pg_type FROM '/etc/passwd'")
    with pytest.raises(psycopg.errors.SyntaxError):
        conn.execute("COPY (SELECT 1) FROM STDIN")
    assert conn.execute("SELECT 1").fetchone() == (1,)


# ------------------------------------------------------------------------------ protocol


def _raw(server) -> pq.PGconn:  # noqa: ANN001
    pg = pq.PGconn.connect(server.dsn().encode())
    assert pg.status == pq.ConnStatus.OK
    pg.nonblocking = 0
    return pg


def _results(pg: pq.PGconn) -> list[pq.PGresult]:
    out = []
    while (r := pg.get_result()) is not None:
        out.append(r)
    return out


def test_copy_fail_aborts_with_57014(server, vt):
    pg = _raw(server)
    try:
        pg.send_query(b"COPY copy_vt FROM STDIN")
        assert pg.get_result().status == pq.ExecStatus.COPY_IN
        assert pg.put_copy_data(b"1\tx\t[1,2,3]\n") == 1
        assert pg.put_copy_end(b"client gave up") == 1
        (res,) = _results(pg)
        assert res.status == pq.ExecStatus.FATAL_ERROR
        assert res.error_field(pq.DiagnosticField.SQLSTATE) == b"57014"
        msg = res.error_field(pq.DiagnosticField.MESSAGE_PRIMARY)
        assert msg == b"COPY from stdin failed: client gave up"
        assert pg.transaction_status == pq.TransactionStatus.IDLE
    finally:
        pg.finish()
    with pytest.raises(ZeroDivisionError):  # psycopg sends CopyFail when the block raises
        with vt.cursor().copy("COPY copy_vt FROM STDIN") as cp:
            cp.write(b"2\ty\t[1,2,3]\n")
            1 / 0  # noqa: B018
    assert _count(vt, "copy_vt") == 1


def test_extended_protocol_copy_in_and_out(server, vt):
    pg = _raw(server)
    try:
        pg.send_query_params(b"COPY copy_vt (id, body) FROM STDIN", None)
        assert pg.get_result().status == pq.ExecStatus.COPY_IN
        pg.put_copy_data(b"1\tone\n2\ttwo\n")
        pg.put_copy_end()
        (res,) = _results(pg)
        assert res.status == pq.ExecStatus.COMMAND_OK
        assert res.command_status == b"COPY 2"
        pg.send_query_params(b"COPY (SELECT id FROM copy_vt ORDER BY id) TO STDOUT", None)
        assert pg.get_result().status == pq.ExecStatus.COPY_OUT
        got = []
        while (rc := pg.get_copy_data(0))[0] > 0:
            got.append(bytes(rc[1]))
        assert got == [b"1\n", b"2\n", b"100\n"]
        (res,) = _results(pg)
        assert res.command_status == b"COPY 3"
        pg.send_query_params(b"COPY copy_vt (id) FROM STDIN", None)
        assert pg.get_result().status == pq.ExecStatus.COPY_IN
        pg.put_copy_data(b"oops\n")
        pg.put_copy_end()
        (res,) = _results(pg)
        assert res.error_field(pq.DiagnosticField.SQLSTATE) == b"22P02"
        pg.send_query(b"SELECT count(*) FROM copy_vt")
        (res,) = _results(pg)
        assert res.get_value(0, 0) == b"3"
    finally:
        pg.finish()


def test_copy_among_other_statements_of_one_query(server, vt):
    pg = _raw(server)
    try:
        pg.send_query(
            b"INSERT INTO copy_vt (id) VALUES (1); COPY copy_vt (id) FROM STDIN; "
            b"SELECT count(*) FROM copy_vt"
        )
        r1 = pg.get_result()
        assert r1.command_status == b"INSERT 0 1"
        assert pg.get_result().status == pq.ExecStatus.COPY_IN
        pg.put_copy_data(b"2\n3\n")
        pg.put_copy_end()
        res = _results(pg)
        assert [r.command_status for r in res] == [b"COPY 2", b"SELECT 1"]
        assert res[1].get_value(0, 0) == b"4"
    finally:
        pg.finish()


def test_protocol_violation_during_copy(server, vt):
    pg = _raw(server)
    try:
        pg.send_query(b"COPY copy_vt (id) FROM STDIN")
        assert pg.get_result().status == pq.ExecStatus.COPY_IN
        pg.put_copy_data(b"5\n")
        # a Query in the middle of COPY: libpq refuses to send it, so send raw bytes
        import socket

        sock = socket.socket(fileno=pg.socket)
        try:
            sock.sendall(b"Q\x00\x00\x00\x0dSELECT 1\x00")
        finally:
            sock.detach()
        pg.put_copy_end()
        res = _results(pg)
        assert res[0].error_field(pq.DiagnosticField.SQLSTATE) == b"08P01"
        assert b"unexpected message type 0x51" in res[0].error_field(
            pq.DiagnosticField.MESSAGE_PRIMARY
        )
    finally:
        pg.finish()
    assert _count(vt, "copy_vt") == 1


# ------------------------------------------------------------------------------ transactions


def test_copy_in_transaction_block(server, vt):
    with psycopg.connect(server.dsn()) as c:  # not autocommit: psycopg opens a block
        _copy_in(c, "COPY copy_vt (id, body) FROM STDIN", b"1\ta\n2\tb\n")
        assert _count(c, "copy_vt") == 3
        c.rollback()
        assert _count(c, "copy_vt") == 1
        c.rollback()
        _copy_in(c, "COPY copy_vt (id, body) FROM STDIN", b"3\tc\n")
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            _copy_in(c, "COPY copy_vt (id, body) FROM STDIN", b"4\td\nx\te\n")
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            c.execute("SELECT 1")
        c.rollback()
        assert _count(c, "copy_vt") == 1
        _copy_in(c, "COPY copy_vt (id, body) FROM STDIN", b"5\tf\n")
        c.commit()
    assert _count(vt, "copy_vt") == 2


# ------------------------------------------------------------------------------ volume


def test_multi_chunk_text_and_csv_with_error_on_last_line(vt):
    """Many parse chunks, handled by the COPY's worker thread: records cut at chunk ends are
    carried over, line numbers run on, and an error at the very end undoes everything."""
    vt.execute("SET vecgres.copy_chunk_bytes = 200000")  # ~60 parse blocks
    vt.execute("SET vecgres.copy_batch_rows = 300")  # merged into ~5 load batches
    vt.execute("DROP TABLE IF EXISTS copy_big")
    vt.execute("CREATE TABLE copy_big (id int, e vector(384), note text)")
    rng = np.random.default_rng(7)
    vecs = rng.standard_normal((1500, 384)).astype(np.float32)
    texts = [vec_text(v) for v in vecs]  # repr of float64: long literals, ~7 MB in all
    for fmt, sep, quote in (("text", "\t", ""), ("csv", ",", '"')):
        lines = [f"{i}{sep}{quote}{t}{quote}{sep}n{i}" for i, t in enumerate(texts)]
        data = ("\n".join(lines) + "\n").encode()
        assert len(data) > 5_000_000
        bad = data + f"1500{sep}{quote}[1,2]{quote}{sep}x\n".encode()
        with pytest.raises(psycopg.errors.DataException) as ei:
            _copy_in(vt, f"COPY copy_big FROM STDIN (FORMAT {fmt})", bad)
        assert ei.value.diag.context.startswith("COPY copy_big, line 1501, column e: ")
        assert _count(vt, "copy_big") == 0
        assert _copy_in(vt, f"COPY copy_big FROM STDIN (FORMAT {fmt})", data) == 1500
        got = vt.execute("SELECT e FROM copy_big WHERE id = 1234").fetchone()[0]
        assert np.array_equal(got.to_numpy(), vecs[1234])
        vt.execute("DELETE FROM copy_big")
    vt.execute("DROP TABLE copy_big")
    vt.execute("RESET vecgres.copy_chunk_bytes")
    vt.execute("RESET vecgres.copy_batch_rows")


@pytest.mark.parametrize("blocks", ["one", "many"])
def test_first_bad_row_is_reported(vt, blocks):
    """Postgres stops at the first bad row (and its first bad column), whichever check finds
    it; here also when the rows are parsed in many blocks by the pipeline's threads."""
    if blocks == "many":
        vt.execute("SET vecgres.copy_chunk_bytes = 3000")
        vt.execute("SET vecgres.copy_batch_rows = 50")
    good = [f"{i}\tx{i}\t[{i},1,2]" for i in range(1000, 1600)]
    cases = [
        (300, "[1,2]", 400, "x", 'line 301, column e: "[1,2]"'),  # vector first, int later
        (400, "[1,2]", 300, "x", 'line 301, column id: "x"'),  # int first
        (300, "[1,2]", 300, "x", 'line 301, column id: "x"'),  # same row: first column
    ]
    for vec_row, vec, int_row, bad_int, context in cases:
        lines = list(good)
        lines[vec_row] = lines[vec_row].rsplit("\t", 1)[0] + "\t" + vec
        lines[int_row] = bad_int + lines[int_row][lines[int_row].index("\t") :]
        with pytest.raises(psycopg.DataError) as ei:
            _copy_in(vt, "COPY copy_vt FROM STDIN", ("\n".join(lines) + "\n").encode())
        assert ei.value.diag.context == f"COPY copy_vt, {context}"
        assert _count(vt, "copy_vt") == 1
    vt.execute("RESET vecgres.copy_chunk_bytes")
    vt.execute("RESET vecgres.copy_batch_rows")


def test_corpus_slice_binary_copy_matches_insert(conn, corpus10k):
    register_vector(conn)
    conn.prepare_threshold = None  # else psycopg sends DEALLOCATE ALL after a DROP (unsupported)
    load_corpus_table(conn, "copy_ins", corpus10k)
    conn.execute("DROP TABLE IF EXISTS copy_bin")
    conn.execute(
        "CREATE TABLE copy_bin (id int PRIMARY KEY, tenant_id int, category text, "
        "embedding vector(384))"
    )
    conn.execute("SET vecgres.copy_chunk_bytes = 500000")  # the pipeline, 4 load batches
    conn.execute("SET vecgres.copy_batch_rows = 2500")
    cur = conn.cursor()
    with cur.copy("COPY copy_bin FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(["int4", "int4", "text", "vector"])
        for i in range(len(corpus10k.base)):
            cp.write_row(
                [i, int(corpus10k.tenant[i]), str(corpus10k.category[i]), corpus10k.base[i]]
            )
    assert cur.rowcount == len(corpus10k.base)
    assert _count(conn, "copy_bin") == len(corpus10k.base)
    for op in ("<=>", "<->", "<#>"):
        for q in corpus10k.queries[:10]:
            for where in ("", "WHERE tenant_id < 100"):
                sql = (
                    "SELECT id, embedding {op} %s AS d FROM {t} {w} "
                    "ORDER BY embedding {op} %s LIMIT 10"
                )
                a = conn.execute(sql.format(op=op, t="copy_ins", w=where), (q, q)).fetchall()
                b = conn.execute(sql.format(op=op, t="copy_bin", w=where), (q, q)).fetchall()
                assert a == b and len(a) == 10
    rows = {}
    for t in ("copy_ins", "copy_bin"):
        got = conn.execute(f"SELECT id, tenant_id, category, embedding FROM {t} ORDER BY id")
        rows[t] = got.fetchall()
    assert [r[:3] for r in rows["copy_ins"]] == [r[:3] for r in rows["copy_bin"]]
    a = np.stack([r[3].to_numpy() for r in rows["copy_ins"]])
    b = np.stack([r[3].to_numpy() for r in rows["copy_bin"]])
    assert np.array_equal(a, b) and np.array_equal(b, corpus10k.base)
    conn.execute("DROP TABLE copy_ins")
    conn.execute("DROP TABLE copy_bin")
