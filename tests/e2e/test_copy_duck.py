"""Text-format COPY read by DuckDB's CSV reader (sqlfront/copy_duck.py) against the Python
splitter (`SET vecgres.copy_text_reader = 'python'`): the same rows, the same errors with the
same CONTEXT line, whichever blocks each one reads."""

from __future__ import annotations

import os

import duckdb
import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector

from sqlfront import pgtypes as pt
from sqlfront.copy_duck import (
    _PREFIX,
    DuckTextReader,
    RawText,
    _spool_dir,
    columns_for,
    remove_stale_spools,
)
from tests.conftest import vec_text

DDL = (
    "CREATE TABLE {t} (id int PRIMARY KEY, a smallint, b bigint, body text, tag varchar, "
    "e vector(4), h halfvec(4))"
)
COLS = "id, a, b, body, tag, e, h"

# text-format fields as a client sends them (escapes included), each kind of value the
# reader must read exactly as the Python path does
BODIES = [
    "plain",
    "",
    "\\N",  # NULL
    "tab\\there",
    "new\\nline and \\r return",
    "back\\\\slash \\\\N not null",
    "\\\\\\\\ two backslashes",
    "ünïcödé ✓ 漢字",
    '"quoted" , semi ; # hash',
    "  spaced  ",
    "\\b\\f\\v controls",
    "#comment-looking",
    "mid\\Nfield",  # an unknown escape in a field: the letter
]
INTS = ["0", "-1", "007", "32767", "-32768", "\\N", "12"]
VECS = ["[1,2,3,4]", "[0.5,-1,2e-3,1e+3]", "[-0,0,0,0]", "\\N", "[1.5,2.25,3.125,4]"]


def _lines(n: int, seed: int = 3) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        body = BODIES[i % len(BODIES)]
        a = INTS[i % len(INTS)]
        b = str(int(rng.integers(-(10**17), 10**17))) if i % 9 else "\\N"
        tag = "\\N" if i % 11 == 0 else f"t{i % 5}"
        e = VECS[i % len(VECS)] if i % 3 else vec_text(rng.standard_normal(4).astype(np.float32))
        h = VECS[(i + 2) % len(VECS)]
        out.append("\t".join([str(i), a, b, body, tag, e, h]))
    return out


def _payload(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _copy(
    conn: psycopg.Connection, data: bytes, reader: str, t: str = "cd", options: str = ""
) -> None:
    conn.execute(f"SET vecgres.copy_text_reader = '{reader}'")
    conn.execute(f"DROP TABLE IF EXISTS {t}")
    conn.execute(DDL.format(t=t))
    with conn.cursor().copy(f"COPY {t} ({COLS}) FROM STDIN {options}") as cp:
        cp.write(data)


def _rows(conn: psycopg.Connection, t: str = "cd") -> list[tuple]:
    rows = conn.execute(f"SELECT {COLS} FROM {t} ORDER BY id").fetchall()
    return [
        tuple(v.to_list() if hasattr(v, "to_list") else v for v in r)  # vector / halfvec
        for r in rows
    ]


@pytest.fixture
def vc(server):
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        register_vector(c)
        c.execute("SET vecgres.copy_chunk_bytes = 20000")  # many blocks
        c.execute("SET vecgres.copy_batch_rows = 300")  # several batches (DuckDB reads >= 256)
        yield c


def test_duckdb_reader_reads_what_the_python_path_reads(vc):
    data = _payload(_lines(1500))
    _copy(vc, data, "python")
    expected = _rows(vc)
    assert len(expected) == 1500
    _copy(vc, data, "duckdb")
    assert _rows(vc) == expected
    by_id = {r[0]: r for r in expected}
    assert by_id[3][3] == "tab\there" and by_id[5][3] == "back\\slash \\N not null"
    assert by_id[2][3] is None and by_id[1][3] == ""
    assert by_id[0][4] is None and by_id[4][1] == -32768 and by_id[5][1] is None


def test_a_header_line_is_checked_then_the_rest_read_by_duckdb(vc):
    lines = _lines(900)
    data = _payload(["\t".join(COLS.split(", ")), *lines])
    _copy(vc, data, "python", options="(HEADER MATCH)")
    expected = _rows(vc)
    assert len(expected) == 900
    _copy(vc, data, "duckdb", options="(HEADER MATCH)")
    assert _rows(vc) == expected
    bad = _payload(["id\ta\tb\tbody\ttag\te\tx", *lines])
    with pytest.raises(psycopg.errors.BadCopyFileFormat) as ei:
        _copy(vc, bad, "duckdb", options="(HEADER MATCH)")
    assert 'got "x", expected "h"' in ei.value.diag.message_primary


def test_blocks_the_reader_refuses_mix_with_blocks_it_reads(vc):
    """Octal and hex escapes, `\\r` line ends or a blank field in a one-column table are
    left to the Python path, block by block, in the same COPY."""
    lines = _lines(1000)
    octal = BODIES.index("plain") + 3 * len(BODIES)
    hexa = BODIES.index("\\b\\f\\v controls") + 50 * len(BODIES)
    lines[octal] = lines[octal].replace("plain", "oct\\101al \\x41 hex")
    lines[hexa] = lines[hexa].replace("\\b\\f\\v", "\\x42\\103")
    data = _payload(lines)
    _copy(vc, data, "python")
    expected = _rows(vc)
    _copy(vc, data, "duckdb")
    assert _rows(vc) == expected
    by_id = {r[0]: r for r in expected}
    assert by_id[octal][3] == "octAal A hex" and by_id[hexa][3] == "BC controls"


BAD = [
    ("too few fields", lambda f: f[:-1]),
    ("too many fields", lambda f: [*f, "x"]),
    ("int with a space", lambda f: [f[0], " 12", *f[2:]]),
    ("smallint out of range", lambda f: [f[0], "40000", *f[2:]]),
    ("not an int", lambda f: [f[0], "1.5", *f[2:]]),
    ("bigint of 19 digits", lambda f: [*f[:2], "9223372036854775807", *f[3:]]),
    ("bigint overflow", lambda f: [*f[:2], "9223372036854775808", *f[3:]]),
    ("vector of 3", lambda f: [*f[:5], "[1,2,3]", f[6]]),
    ("vector digit separator", lambda f: [*f[:5], "[1_0,2,3,4]", f[6]]),
    ("vector nan", lambda f: [*f[:5], "[nan,2,3,4]", f[6]]),
    ("vector overflow", lambda f: [*f[:5], "[1e39,2,3,4]", f[6]]),
    ("vector spaces", lambda f: [*f[:5], "[ 1, 2 ,3,4 ]", f[6]]),
    ("vector junk", lambda f: [*f[:5], "[1,2,3,4]x", f[6]]),
    ("halfvec overflow", lambda f: [*f[:6], "[70000,1,2,3]"]),
    ("empty vector field", lambda f: [*f[:5], "", f[6]]),
    ("duplicate key", lambda f: ["5", *f[1:]]),
]


@pytest.mark.parametrize("name,spoil", BAD, ids=[b[0] for b in BAD])
def test_a_bad_line_gets_the_python_paths_answer(vc, name, spoil):
    lines = _lines(900)
    fields = lines[611].split("\t")
    lines[611] = "\t".join(spoil(fields))
    data = _payload(lines)
    answers = []
    for reader in ("python", "duckdb"):
        try:
            _copy(vc, data, reader)
        except psycopg.Error as e:
            answers.append((e.sqlstate, e.diag.message_primary, e.diag.context))
            assert vc.execute("SELECT count(*) FROM cd").fetchone()[0] == 0
        else:
            answers.append(_rows(vc))
    assert answers[0] == answers[1]


def test_the_reader_itself_reads_accepted_blocks():
    """The DuckDB read answers (rather than deferring to Python) for what it accepts."""
    cols = columns_for(
        [
            (pt.INT4_OID, "integer", 0),
            (pt.INT2_OID, "smallint", 0),
            (pt.INT8_OID, "bigint", 0),
            (pt.TEXT_OID, "text", 0),
            (pt.VARCHAR_OID, "varchar", 0),
            (0, "vector", 4),
            (0, "halfvec", 4),
        ]
    )
    assert cols is not None
    con = duckdb.connect()
    reader = DuckTextReader(cols, con.cursor)
    try:
        lines = _lines(300)
        data = _payload(lines)
        assert reader.accepts(data, len(data))
        got = reader.read(RawText([data], 300, 0))
        assert got is not None
        ids, a, _b, body, tag, (e, e_present), _h = got.values
        assert ids.tolist() == list(range(300))
        assert body[3] == "tab\there" and body[2] is None and tag[0] is None
        assert isinstance(a, np.ma.MaskedArray) and a.mask[5] and a[1] == -1
        assert e.shape == (int(e_present.sum()), 4) and not e_present[8]
        assert not reader.accepts(b"1\tx\\101\n", 8)
        assert not reader.accepts(b"1\tx\r\n", 5)
        short = _payload([*lines[:-1], "299\t2"])  # too few fields: for Python to report
        assert reader.read(RawText([short], 300, 0)) is None
        assert reader.read(RawText([_payload(lines[:10])], 10, 0)) is None  # too few rows
        reader.close()  # (its spool file goes)
        reader._path = "/nonexistent-dir/spool.tsv"  # the spool cannot be written
        assert reader.read(RawText([data], 300, 0)) is None
    finally:
        reader.close()
        con.close()
    assert columns_for([(pt.FLOAT8_OID, "double precision", 0)]) is None


def test_spool_files_of_dead_servers_are_removed(tmp_path):
    spool = _spool_dir()
    dead = spool / f"{_PREFIX}999999999-x.tsv"  # beyond any pid_max
    alive = spool / f"{_PREFIX}{os.getpid()}-x.tsv"
    dead.write_bytes(b"1\n")
    alive.write_bytes(b"1\n")
    try:
        assert remove_stale_spools() >= 1
        assert not dead.exists() and alive.exists()
    finally:
        dead.unlink(missing_ok=True)
        alive.unlink(missing_ok=True)
