"""pgvector 0.8's functions, operators, aggregates and casts on `vector`, through psycopg.

Expected values are pgvector's own regression outputs (test/expected/*.out of pgvector 0.8)
where they exist, and numpy otherwise.
"""

from __future__ import annotations

import json

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector

DIM = 8


def _vec(text: str) -> np.ndarray:
    return np.asarray(json.loads(text), dtype=np.float32)


def _as_array(v) -> np.ndarray:  # noqa: ANN001 - pgvector returns Vector or ndarray by version
    return np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v, dtype=np.float32)


def _text(v: np.ndarray) -> str:
    return "[" + ",".join(repr(float(x)) for x in v) + "]"


@pytest.fixture
def data(conn):  # noqa: ANN001
    """Table vf (id, g, e vector(8)) with 60 random rows (one NULL vector) and its numpy copy."""
    rng = np.random.default_rng(7)
    base = rng.normal(size=(60, DIM)).astype(np.float32)
    groups = np.arange(60) % 3
    conn.execute("DROP TABLE IF EXISTS vf")
    conn.execute(f"CREATE TABLE vf (id int PRIMARY KEY, g int, e vector({DIM}))")
    values = ", ".join(f"({i}, {groups[i]}, '{_text(base[i])}')" for i in range(60))
    conn.execute(f"INSERT INTO vf VALUES {values}, (60, 0, NULL)")
    yield base, groups
    conn.execute("DROP TABLE vf")


# ------------------------------------------------------------------ pgvector's own outputs

KNOWN = [
    ("SELECT l2_distance('[0,0]', '[3,4]')", 5.0),
    ("SELECT l2_distance('[0,0]'::vector, '[0,1]')", 1.0),
    ("SELECT inner_product('[1,2]', '[3,4]')", 11.0),
    ("SELECT cosine_distance('[1,2]', '[2,4]')", 0.0),
    ("SELECT cosine_distance('[1,2]', '[0,0]')", float("nan")),
    ("SELECT cosine_distance('[1,1]', '[1,1]')", 0.0),
    ("SELECT cosine_distance('[1,0]', '[0,2]')", 1.0),
    ("SELECT cosine_distance('[1,1]', '[-1,-1]')", 2.0),
    ("SELECT l1_distance('[0,0]', '[3,4]')", 7.0),
    ("SELECT vector_dims('[1,2,3]')", 3),
    ("SELECT vector_norm('[3,4]')", 5.0),
    ("SELECT vector_norm('[0,1]')", 1.0),
    ("SELECT l2_normalize('[3,4]')::text", "[0.6,0.8]"),
    ("SELECT l2_normalize('[3,0]')::text", "[1,0]"),
    ("SELECT l2_normalize('[0,0]')::text", "[0,0]"),
    ("SELECT binary_quantize('[1,0,-1]')::text", "100"),
    (
        "SELECT binary_quantize('[0,0.1,-0.2,-0.3,0.4,0.5,0.6,-0.7,0.8,-0.9,1]')::text",
        "01001110101",
    ),
    ("SELECT subvector('[1,2,3,4,5]'::vector, 1, 3)::text", "[1,2,3]"),
    ("SELECT subvector('[1,2,3,4,5]'::vector, 3, 2)::text", "[3,4]"),
    ("SELECT subvector('[1,2,3,4,5]'::vector, -1, 3)::text", "[1]"),
    ("SELECT subvector('[1,2,3,4,5]'::vector, 3, 9)::text", "[3,4,5]"),
    ("SELECT ('[1,2,3]'::vector + '[4,5,6]')::text", "[5,7,9]"),
    ("SELECT ('[1,2,3]'::vector - '[4,5,6]')::text", "[-3,-3,-3]"),
    ("SELECT ('[1,2,3]'::vector * '[4,5,6]')::text", "[4,10,18]"),
    ("SELECT ('[1,2,3]'::vector || '[4,5]')::text", "[1,2,3,4,5]"),
    ("SELECT ARRAY[1,2,3]::vector::text", "[1,2,3]"),
    ("SELECT ARRAY[1.0,2.0,3.0]::vector::text", "[1,2,3]"),
    ("SELECT ARRAY[1,2,3]::float4[]::vector::text", "[1,2,3]"),
    ("SELECT ARRAY[1,2,3]::float8[]::vector::text", "[1,2,3]"),
    ("SELECT ARRAY[1,2,3]::int[]::vector::text", "[1,2,3]"),
    ("SELECT ARRAY[1.5,2,3]::numeric[]::vector::text", "[1.5,2,3]"),
    ("SELECT '[1,2,3]'::vector::real[]", [1.0, 2.0, 3.0]),
    ("SELECT '[1.5,2,3]'::vector(3)::text", "[1.5,2,3]"),
    ("SELECT '[1e-05,1.5e+20,123456789]'::vector::text", "[1e-05,1.5e+20,1.2345679e+08]"),
]


@pytest.mark.parametrize(("sql", "expected"), KNOWN, ids=[k[0][7:50] for k in KNOWN])
def test_known_pgvector_outputs(conn, sql: str, expected: object) -> None:  # noqa: ANN001
    got = conn.execute(sql).fetchone()[0]
    if isinstance(expected, float):
        if np.isnan(expected):
            assert np.isnan(got)
        else:
            assert got == pytest.approx(expected, abs=1e-6)
    else:
        assert got == expected


ERRORS = [
    ("SELECT l2_distance('[1,2,3]', '[1,2]')", "22000", "different vector dimensions 3 and 2"),
    ("SELECT '[1,2,3]'::vector + '[1,2]'", "22000", "different vector dimensions 3 and 2"),
    ("SELECT '[1,2,3]'::vector * '[1,2]'", "22000", "different vector dimensions 3 and 2"),
    ("SELECT '[3e38]'::vector + '[3e38]'", "22003", "value out of range: overflow"),
    ("SELECT '[1e37]'::vector * '[1e37]'", "22003", "value out of range: overflow"),
    ("SELECT '[1e-37]'::vector * '[1e-37]'", "22003", "value out of range: underflow"),
    ("SELECT subvector('[1,2,3,4,5]'::vector, 1, 0)", "22000", "at least 1 dimension"),
    ("SELECT subvector('[1,2,3,4,5]'::vector, 3, -1)", "22000", "at least 1 dimension"),
    ("SELECT subvector('[1,2,3,4,5]'::vector, -1, 2)", "22000", "at least 1 dimension"),
    ("SELECT subvector('[1,2,3,4,5]'::vector, 6, 1)", "22000", "at least 1 dimension"),
    ("SELECT '[1,2,3]'::vector(2)", "22000", "expected 2 dimensions, not 3"),
    ("SELECT ARRAY[1,2,3]::vector(2)", "22000", "expected 2 dimensions, not 3"),
    ("SELECT '[1,2'::vector", "22P02", "invalid input syntax for type vector"),
    ("SELECT vector_dims('[1,x]')", "22P02", "invalid input syntax for type vector"),
    ("SELECT ARRAY[1,NULL]::real[]::vector", "22004", "array must not contain nulls"),
    ("SELECT ARRAY['NaN']::real[]::vector", "22000", "NaN not allowed in vector"),
    ("SELECT ARRAY['Infinity']::real[]::vector", "22000", "infinite value not allowed"),
    ("SELECT vector_dims('[1,2]', 3)", "42883", "does not exist"),
    ("SELECT no_such_vector_fn('[1,2]')", "42883", "does not exist"),
    ("SELECT '[1,2]'::vector::integer", "42846", "cannot cast type vector to"),
]


@pytest.mark.parametrize(("sql", "state", "message"), ERRORS, ids=[e[0][7:50] for e in ERRORS])
def test_errors(conn, sql: str, state: str, message: str) -> None:  # noqa: ANN001
    with pytest.raises(psycopg.Error) as ei:
        conn.execute(sql)
    assert ei.value.sqlstate == state
    assert message in str(ei.value)


# ------------------------------------------------------------------ on a table, vs numpy


def test_scalar_functions_on_column(conn, data) -> None:  # noqa: ANN001
    base, _ = data
    q = np.linspace(-1, 1, DIM).astype(np.float32)
    rows = conn.execute(
        "SELECT id, vector_dims(e), vector_norm(e), l2_distance(e, %s), cosine_distance(e, %s),"
        " inner_product(e, %s), l1_distance(e, %s) FROM vf ORDER BY id",
        [_text(q)] * 4,
    ).fetchall()
    assert len(rows) == 61 and rows[60][1:] == (None,) * 6
    got = np.array([r[1:] for r in rows[:60]], dtype=np.float64)
    b = base.astype(np.float64)
    qd = q.astype(np.float64)
    norms = np.linalg.norm(b, axis=1)
    assert (got[:, 0] == DIM).all()
    np.testing.assert_allclose(got[:, 1], norms, rtol=1e-6)
    np.testing.assert_allclose(got[:, 2], np.linalg.norm(b - qd, axis=1), rtol=1e-5)
    cos = 1 - (b @ qd) / (norms * np.linalg.norm(qd))
    np.testing.assert_allclose(got[:, 3], cos, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[:, 4], b @ qd, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[:, 5], np.abs(b - qd).sum(axis=1), rtol=1e-5)


def test_vector_valued_functions_on_column(conn, data) -> None:  # noqa: ANN001
    base, _ = data
    c = np.arange(1, DIM + 1, dtype=np.float32) / 4
    rows = conn.execute(
        "SELECT l2_normalize(e)::text, subvector(e, 2, 3)::text, binary_quantize(e)::text,"
        " (e + %s)::text, (e - %s)::text, (e * %s)::text, (e || '[7]')::text"
        " FROM vf WHERE e IS NOT NULL ORDER BY id",
        [_text(c)] * 3,
    ).fetchall()
    assert len(rows) == 60
    for i, r in enumerate(rows):
        v = base[i]
        norm = np.sqrt((v.astype(np.float64) ** 2).sum())
        np.testing.assert_allclose(_vec(r[0]), (v / norm).astype(np.float32), rtol=1e-6)
        np.testing.assert_array_equal(_vec(r[1]), v[1:4])
        assert r[2] == "".join("1" if x > 0 else "0" for x in v)
        np.testing.assert_array_equal(_vec(r[3]), v + c)
        np.testing.assert_array_equal(_vec(r[4]), v - c)
        np.testing.assert_array_equal(_vec(r[5]), v * c)
        np.testing.assert_array_equal(_vec(r[6]), np.append(v, np.float32(7)))


def test_text_cast_is_exact(conn, data) -> None:  # noqa: ANN001
    base, _ = data
    rows = conn.execute("SELECT e::text, e FROM vf ORDER BY id").fetchall()
    assert rows[60] == (None, None)
    for i in range(60):
        assert rows[i][0] == rows[i][1]  # same text as vector_out
        np.testing.assert_array_equal(_vec(rows[i][0]), base[i])
    got = conn.execute("SELECT count(*) FROM vf WHERE e::text = %s", (rows[5][1],)).fetchone()
    assert got == (1,)


def test_real_array_roundtrip(conn, data) -> None:  # noqa: ANN001
    base, _ = data
    rows = conn.execute("SELECT e::real[], e::real[]::vector::text FROM vf ORDER BY id").fetchall()
    for i in range(60):
        np.testing.assert_array_equal(np.array(rows[i][0], dtype=np.float32), base[i])
        np.testing.assert_array_equal(_vec(rows[i][1]), base[i])
    with pytest.raises(psycopg.errors.DataException, match="expected 3 dimensions, not 8"):
        conn.execute("SELECT e::vector(3) FROM vf")


def test_distance_between_two_columns(conn, data) -> None:  # noqa: ANN001
    base, _ = data
    rows = conn.execute(
        "SELECT a.id, b.id, a.e <-> b.e, l1_distance(a.e, b.e), a.e <#> b.e FROM vf a "
        "JOIN vf b ON b.id = a.id + 1 WHERE a.id < 59 ORDER BY a.id"
    ).fetchall()
    assert len(rows) == 59
    for a, b, l2, l1, nip in rows:
        va, vb = base[a].astype(np.float64), base[b].astype(np.float64)
        assert l2 == pytest.approx(np.linalg.norm(va - vb), rel=1e-5)
        assert l1 == pytest.approx(np.abs(va - vb).sum(), rel=1e-5)
        assert nip == pytest.approx(-(va @ vb), rel=1e-5, abs=1e-5)


def test_avg_and_sum(conn, data) -> None:  # noqa: ANN001
    base, groups = data
    avg, total, n = conn.execute("SELECT avg(e)::text, sum(e)::text, count(e) FROM vf").fetchone()
    assert n == 60
    np.testing.assert_allclose(_vec(avg), base.astype(np.float64).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(_vec(total), base.sum(axis=0, dtype=np.float64), rtol=1e-5)
    rows = conn.execute("SELECT g, avg(e), sum(e) FROM vf GROUP BY g ORDER BY g").fetchall()
    assert [r[0] for r in rows] == [0, 1, 2]
    for g, a, s in rows:
        part = base[groups == g].astype(np.float64)
        np.testing.assert_allclose(_vec(a), part.mean(axis=0), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(_vec(s), part.sum(axis=0), rtol=1e-5, atol=1e-5)
    assert conn.execute("SELECT avg(e), sum(e) FROM vf WHERE id > 100").fetchone() == (None, None)


def test_known_aggregate_outputs(conn) -> None:  # noqa: ANN001
    conn.execute("DROP TABLE IF EXISTS va")
    conn.execute("CREATE TABLE va (id int, e vector(3))")
    conn.execute("INSERT INTO va VALUES (1, '[1,2,3]'), (2, '[3,5,7]'), (3, NULL)")
    assert conn.execute("SELECT avg(e)::text, sum(e)::text FROM va").fetchone() == (
        "[2,3.5,5]",
        "[4,7,10]",
    )
    conn.execute("DROP TABLE va")


def test_where_and_order_by(conn, data) -> None:  # noqa: ANN001
    base, _ = data
    q = base[3] * 0.5
    norms = np.linalg.norm(base.astype(np.float64), axis=1)
    d = np.linalg.norm(base.astype(np.float64) - q, axis=1)
    keep = np.nonzero(norms > 2.5)[0]
    want = keep[np.argsort(d[keep], kind="stable")][:5].tolist()
    got = conn.execute(
        "SELECT id FROM vf WHERE vector_norm(e) > 2.5 ORDER BY l2_distance(e, %s) LIMIT 5",
        (_text(q),),
    ).fetchall()
    assert [r[0] for r in got] == want
    # the function form takes the kNN path like the operator
    plain = conn.execute(
        "SELECT id FROM vf ORDER BY cosine_distance(e, %s) LIMIT 4", (_text(q),)
    ).fetchall()
    op = conn.execute("SELECT id FROM vf ORDER BY e <=> %s LIMIT 4", (_text(q),)).fetchall()
    assert plain == op and plain[0] == (3,)
    ip = conn.execute(
        "SELECT id FROM vf WHERE e IS NOT NULL ORDER BY inner_product(e, %s) DESC LIMIT 3",
        (_text(q),),
    ).fetchall()
    assert [r[0] for r in ip] == np.argsort(-(base @ q), kind="stable")[:3].tolist()


def test_more_like_this_with_avg(conn, data) -> None:  # noqa: ANN001
    base, groups = data
    centre = base[groups == 1].astype(np.float64).mean(axis=0).astype(np.float32)
    d = np.linalg.norm(base.astype(np.float64) - centre, axis=1)
    got = conn.execute(
        "SELECT id FROM vf ORDER BY e <-> (SELECT avg(e) FROM vf WHERE g = 1) LIMIT 3"
    ).fetchall()
    assert [r[0] for r in got] == np.argsort(d, kind="stable")[:3].tolist()


def test_parameters_text_and_binary(server, data) -> None:  # noqa: ANN001
    base, _ = data
    q = np.array([0.5] * DIM, dtype=np.float32)
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        register_vector(c)
        for prepare in (False, True, True):
            row = c.execute(
                "SELECT l2_normalize(%s), %s + e, vector_dims(%s), l2_distance(e, %s) "
                "FROM vf WHERE id = 4",
                (q, q, q, q),
                prepare=prepare,
            ).fetchone()
            np.testing.assert_allclose(_as_array(row[0]), q / np.linalg.norm(q), rtol=1e-6)
            np.testing.assert_array_equal(_as_array(row[1]), base[4] + q)
            assert row[2] == DIM
            want = np.linalg.norm(base[4].astype(np.float64) - q)
            assert row[3] == pytest.approx(want, rel=1e-6)
        cur = c.cursor(binary=True)
        row = cur.execute("SELECT subvector(e, 1, 2) FROM vf WHERE id = 7").fetchone()
        np.testing.assert_array_equal(_as_array(row[0]), base[7][:2])
        row = cur.execute("SELECT avg(e) FROM vf WHERE id = 7").fetchone()
        np.testing.assert_array_equal(_as_array(row[0]), base[7])
        got = c.execute("SELECT %s::vector(3)::text", ("[1,2,3]",)).fetchone()
        assert got == ("[1,2,3]",)


def test_insert_computed_vectors(conn, data) -> None:  # noqa: ANN001
    base, groups = data
    conn.execute("DROP TABLE IF EXISTS vc")
    conn.execute(f"CREATE TABLE vc (id int, e vector({DIM}), t text)")
    conn.execute(
        "INSERT INTO vc (id, e) VALUES (1, l2_normalize(%s)), (2, subvector(%s, 1, 8))",
        (_text(base[0]), _text(np.append(base[1], 5))),
    )
    conn.execute("INSERT INTO vc SELECT 10 + g, avg(e), avg(e)::text FROM vf GROUP BY g")
    rows = conn.execute("SELECT id, e::text, t FROM vc ORDER BY id").fetchall()
    assert [r[0] for r in rows] == [1, 2, 10, 11, 12]
    norm = np.linalg.norm(base[0].astype(np.float64))
    np.testing.assert_allclose(_vec(rows[0][1]), base[0] / norm, rtol=1e-6)
    np.testing.assert_array_equal(_vec(rows[1][1]), base[1])
    for g in range(3):
        _, e, t = rows[2 + g]
        assert e == t
        np.testing.assert_allclose(
            _vec(e), base[groups == g].astype(np.float64).mean(axis=0), rtol=1e-6, atol=1e-7
        )
    conn.execute("DROP TABLE vc")


def test_update_with_computed_vectors(conn, data) -> None:  # noqa: ANN001
    base, _ = data
    c = _text(np.full(DIM, 0.25, dtype=np.float32))
    n = conn.execute("UPDATE vf SET e = l2_normalize(e) WHERE id < 10").rowcount
    assert n == 10
    conn.execute("UPDATE vf AS x SET e = x.e + %s, g = 5 WHERE id BETWEEN 10 AND 11", (c,))
    rows = conn.execute("SELECT id, g, e::text FROM vf WHERE id < 12 ORDER BY id").fetchall()
    for i in range(10):
        want = base[i] / np.linalg.norm(base[i].astype(np.float64))
        np.testing.assert_allclose(_vec(rows[i][2]), want, rtol=1e-6)
    for i in (10, 11):
        assert rows[i][1] == 5
        np.testing.assert_array_equal(_vec(rows[i][2]), base[i] + np.float32(0.25))
    # a NULL vector stays NULL; the norm of every updated vector is 1 (and a kNN still works)
    conn.execute("UPDATE vf SET e = l2_normalize(e) WHERE id = 60")
    assert conn.execute("SELECT e FROM vf WHERE id = 60").fetchone() == (None,)
    norms = conn.execute("SELECT vector_norm(e) FROM vf WHERE id < 10").fetchall()
    assert all(abs(r[0] - 1) < 1e-6 for r in norms)
    top = conn.execute("SELECT id FROM vf ORDER BY e <-> %s LIMIT 1", (rows[3][2],)).fetchone()
    assert top == (3,)


# ------------------------------------------------------------------ bit (binary vectors)


def test_bit_columns_hamming_and_jaccard(conn) -> None:  # noqa: ANN001
    rng = np.random.default_rng(11)
    bits = rng.integers(0, 2, size=(40, 16)).astype(bool)
    texts = ["".join("1" if b else "0" for b in row) for row in bits]
    conn.execute("DROP TABLE IF EXISTS vb")
    conn.execute("CREATE TABLE vb (id int PRIMARY KEY, x bit(16))")
    conn.execute("INSERT INTO vb VALUES " + ", ".join(f"({i}, '{t}')" for i, t in enumerate(texts)))
    q = bits[5] ^ (np.arange(16) < 3)  # 3 bits away from row 5
    qt = "".join("1" if b else "0" for b in q)
    rows = conn.execute(
        "SELECT id, x, x <~> %s, x <%%> %s, hamming_distance(x, %s), jaccard_distance(x, %s) "
        "FROM vb ORDER BY id",
        [qt] * 4,
    ).fetchall()
    for i, x, ham, jac, ham_f, jac_f in rows:
        assert x == texts[i]
        want_ham = int((bits[i] ^ q).sum())
        inter, union = int((bits[i] & q).sum()), int((bits[i] | q).sum())
        want_jac = 1.0 if inter == 0 else 1 - inter / union
        assert ham == ham_f == want_ham
        assert jac == pytest.approx(want_jac) and jac_f == pytest.approx(want_jac)
    ham_all = (bits ^ q).sum(axis=1)
    got = conn.execute("SELECT x <~> %s AS d FROM vb ORDER BY x <~> %s LIMIT 5", [qt, qt])
    assert [r[0] for r in got.fetchall()] == sorted(ham_all.tolist())[:5]
    with pytest.raises(psycopg.errors.DataException, match="different bit lengths 16 and 2"):
        conn.execute("SELECT x <~> '01' FROM vb")
    with pytest.raises(psycopg.errors.StringDataLengthMismatch, match=r"does not match type bit"):
        conn.execute("INSERT INTO vb VALUES (99, '101')")
    with pytest.raises(psycopg.errors.InvalidTextRepresentation, match="not a valid binary"):
        conn.execute("UPDATE vb SET x = '000000000000000x' WHERE id = 1")
    conn.execute("DROP TABLE vb")


def test_binary_quantize_with_hamming(conn, data) -> None:  # noqa: ANN001
    base, _ = data
    q = base[9]
    rows = conn.execute(
        "SELECT id, binary_quantize(e) <~> binary_quantize(%s) FROM vf WHERE id < 60 ORDER BY id",
        (_text(q),),
    ).fetchall()
    want = ((base > 0) ^ (q > 0)).sum(axis=1)
    assert [r[1] for r in rows] == want.astype(float).tolist()
    known = conn.execute("SELECT '111'::bit(3) <~> '001', '1111'::bit(4) <%> '0011'").fetchone()
    assert known == (2.0, 0.5)


# ------------------------------------------------------------------ halfvec


def test_halfvec_column(conn) -> None:  # noqa: ANN001
    rng = np.random.default_rng(5)
    base = rng.normal(size=(30, 4)).astype(np.float32)
    half = base.astype(np.float16).astype(np.float32)
    conn.execute("DROP TABLE IF EXISTS vh")
    conn.execute("CREATE TABLE vh (id int PRIMARY KEY, x halfvec(4))")
    conn.execute(
        "INSERT INTO vh VALUES " + ", ".join(f"({i}, '{_text(v)}')" for i, v in enumerate(base))
    )
    cur = conn.execute("SELECT id, x, x::text FROM vh ORDER BY id")
    assert cur.description[1].type_code == 16387  # halfvec's OID (pgtypes.HALFVEC_OID)
    for i, x, t in cur.fetchall():
        assert x == t
        np.testing.assert_array_equal(_vec(t), half[i])
    q = half[7] + np.float16(0.5)
    d = np.linalg.norm(half.astype(np.float64) - q.astype(np.float16), axis=1)
    want = np.argsort(d, kind="stable")[:3].tolist()
    got = conn.execute("SELECT id FROM vh ORDER BY x <-> %s LIMIT 3", (_text(q),)).fetchall()
    assert [r[0] for r in got] == want
    conn.execute("CREATE INDEX ON vh USING hnsw (x halfvec_l2_ops)")
    got = conn.execute("SELECT id FROM vh ORDER BY x <-> %s LIMIT 3", (_text(q),)).fetchall()
    assert [r[0] for r in got] == want
    norms = conn.execute("SELECT vector_norm(x) FROM vh ORDER BY id").fetchall()
    np.testing.assert_allclose([r[0] for r in norms], np.linalg.norm(half, axis=1), rtol=1e-6)
    # l2_normalize and subvector of a halfvec are halfvecs, as in pgvector
    cur = conn.execute("SELECT l2_normalize(x), subvector(x, 2, 2) FROM vh ORDER BY id")
    assert [d.type_code for d in cur.description] == [16387, 16387]
    for i, (n, sub) in enumerate(cur.fetchall()):
        unit = (half[i] / np.linalg.norm(half[i].astype(np.float64))).astype(np.float16)
        np.testing.assert_allclose(_vec(n), unit.astype(np.float32), rtol=1e-3, atol=1e-3)
        np.testing.assert_array_equal(_vec(sub), half[i][1:3])
    assert conn.execute("SELECT '[1.1,2.2]'::halfvec(2)::text").fetchone() == (
        "[1.0996094,2.1992188]",
    )
    with pytest.raises(
        psycopg.errors.NumericValueOutOfRange, match="out of range for type halfvec"
    ):
        conn.execute("INSERT INTO vh VALUES (100, '[1,2,3,70000]')")
    with pytest.raises(psycopg.errors.DataException, match="expected 4 dimensions, not 3"):
        conn.execute("INSERT INTO vh VALUES (100, '[1,2,3]')")
    conn.execute("DROP TABLE vh")


# ------------------------------------------------------------------ sparsevec


def test_sparsevec_column_text_io(conn) -> None:  # noqa: ANN001
    conn.execute("DROP TABLE IF EXISTS vs")
    conn.execute("CREATE TABLE vs (id int PRIMARY KEY, x sparsevec(5))")
    conn.execute(
        "INSERT INTO vs VALUES (1, '{1:1.5,3:2}/5'), (2, ' { 5:1 , 2:0 } / 5 '), (3, NULL), "
        "(4, '{}/5')"
    )
    cur = conn.execute("SELECT id, x, x::text FROM vs ORDER BY id")
    assert cur.description[1].type_code == 16389  # sparsevec's OID (pgtypes.SPARSEVEC_OID)
    assert cur.fetchall() == [
        (1, "{1:1.5,3:2}/5", "{1:1.5,3:2}/5"),
        (2, "{5:1}/5", "{5:1}/5"),
        (3, None, None),
        (4, "{}/5", "{}/5"),
    ]
    got = conn.execute(
        "SELECT id, x <-> '{1:1}/5', l1_distance(x, '{1:1}/5') FROM vs WHERE id < 3 ORDER BY id"
    ).fetchall()
    assert got[0] == (1, pytest.approx(np.sqrt(0.25 + 4)), pytest.approx(2.5))
    assert got[1] == (2, pytest.approx(np.sqrt(2)), pytest.approx(2.0))
    top = conn.execute("SELECT id FROM vs ORDER BY x <#> %s LIMIT 1", ("{3:1}/5",)).fetchone()
    assert top == (1,)
    assert conn.execute("SELECT '{3:2,1:1.5}/5'::sparsevec::text").fetchone() == ("{1:1.5,3:2}/5",)
    with pytest.raises(psycopg.errors.DataException, match="expected 5 dimensions, not 4"):
        conn.execute("INSERT INTO vs VALUES (9, '{1:1}/4')")
    conn.execute("DROP TABLE vs")


SPARSE_ERRORS = [
    ("SELECT '{1:1,1:2}/5'::sparsevec", "22000", "must not contain duplicates"),
    ("SELECT '{6:1}/5'::sparsevec", "22000", "index out of bounds"),
    ("SELECT '{0:1}/5'::sparsevec", "22000", "index out of bounds"),
    ("SELECT '{1:1'::sparsevec", "22P02", "invalid input syntax for type sparsevec"),
    ("SELECT '[1,2]'::sparsevec", "22P02", "invalid input syntax for type sparsevec"),
    ("SELECT '{1:NaN}/2'::sparsevec", "22000", "NaN not allowed in sparsevec"),
    ("SELECT '{1:1}/0'::sparsevec", "22000", "at least 1 dimension"),
]


@pytest.mark.parametrize(("sql", "state", "message"), SPARSE_ERRORS)
def test_sparsevec_errors(conn, sql: str, state: str, message: str) -> None:  # noqa: ANN001
    with pytest.raises(psycopg.Error) as ei:
        conn.execute(sql)
    assert ei.value.sqlstate == state
    assert message in str(ei.value)


def test_functions_in_knn_and_filtered_queries(conn, data) -> None:  # noqa: ANN001
    """Only the vectors a query reads are handed to DuckDB (kNN candidates, filtered rows):
    the values must be those of the right rows."""
    base, groups = data
    q = base[20] * 0.9
    d = np.linalg.norm(base.astype(np.float64) - q, axis=1)
    want = np.argsort(d, kind="stable")[:5].tolist()
    rows = conn.execute(
        "SELECT id, e::text, vector_norm(e), subvector(e, 1, 2)::text FROM vf "
        "ORDER BY e <-> %s LIMIT 5",
        (_text(q),),
    ).fetchall()
    assert [r[0] for r in rows] == want
    for i, text, norm, sub in rows:
        np.testing.assert_array_equal(_vec(text), base[i])
        assert norm == pytest.approx(np.linalg.norm(base[i].astype(np.float64)), rel=1e-6)
        np.testing.assert_array_equal(_vec(sub), base[i][:2])
    rows = conn.execute(
        "SELECT id, vector_norm(e) FROM vf WHERE g = 1 AND id > 30 ORDER BY id"
    ).fetchall()
    ids = [i for i in range(31, 60) if groups[i] == 1]
    assert [r[0] for r in rows] == ids
    np.testing.assert_allclose(
        [r[1] for r in rows], np.linalg.norm(base[ids].astype(np.float64), axis=1), rtol=1e-6
    )
    rows = conn.execute(
        "SELECT a.id, vector_norm(a.e) FROM vf a WHERE a.id IN (SELECT id FROM vf WHERE g = 2) "
        "AND a.id < 10 ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == [i for i in range(10) if groups[i] == 2]
    assert rows[0][1] == pytest.approx(np.linalg.norm(base[rows[0][0]].astype(np.float64)))


def test_pgvector_python_types(server) -> None:  # noqa: ANN001
    """pgvector-python's HalfVector, SparseVector and Bit, as parameters and results."""
    from pgvector import Bit, HalfVector, SparseVector

    with psycopg.connect(server.dsn(), autocommit=True) as c:
        register_vector(c)
        c.execute("DROP TABLE IF EXISTS vp")
        c.execute("CREATE TABLE vp (id int, b bit(3), h halfvec(3), s sparsevec(4))")
        c.execute(
            "INSERT INTO vp VALUES (1, %s, %s, %s)",
            (Bit("101"), HalfVector([1.1, 2, 3]), SparseVector({1: 2.5}, 4)),
        )
        for binary in (False, True):
            cur = c.cursor(binary=binary)
            b, h, s = cur.execute("SELECT b, h, s FROM vp").fetchone()
            # bit_send in binary (int4 length, bits); psycopg has no loader for bit
            assert b == (b"\x00\x00\x00\x03\xa0" if binary else "101")
            assert isinstance(h, HalfVector) and h.to_list() == [1.099609375, 2.0, 3.0]
            assert isinstance(s, SparseVector) and s.to_list() == [0, 2.5, 0, 0]
            got = cur.execute(
                "SELECT b <~> %s, h <-> %s, s <#> %s FROM vp",
                (Bit("011"), HalfVector([1, 2, 3]), SparseVector({1: 2}, 4)),
            ).fetchone()
            assert got == (2.0, pytest.approx(0.099609375), -5.0)
        c.execute("DROP TABLE vp")


def test_prepared_knn_with_vector_function_of_the_parameter(conn, data) -> None:  # noqa: ANN001
    """A prepared kNN plan is reused for new query vectors: a function of the same parameter
    in the select list must follow the new value, not the first one."""
    base, _ = data
    sql = "SELECT id, l2_normalize(%(q)s)::text, e::text FROM vf ORDER BY e <-> %(q)s LIMIT 1"
    for i in (3, 17, 42, 8):
        q = base[i]
        row = conn.execute(sql, {"q": _text(q)}, prepare=True).fetchone()
        assert row[0] == i
        np.testing.assert_allclose(
            _vec(row[1]), q / np.linalg.norm(q.astype(np.float64)), rtol=1e-6
        )
        np.testing.assert_array_equal(_vec(row[2]), base[i])


def test_copy_halfvec_and_sparsevec(server) -> None:  # noqa: ANN001
    from pgvector import HalfVector, SparseVector

    with psycopg.connect(server.dsn(), autocommit=True) as c:
        register_vector(c)
        c.execute("DROP TABLE IF EXISTS vcp")
        c.execute("CREATE TABLE vcp (id int, h halfvec(3), s sparsevec(4))")
        with c.cursor().copy("COPY vcp (id, h, s) FROM STDIN") as cp:
            cp.write_row((1, "[1.1,2,3]", "{2:2.5}/4"))
            cp.write_row((2, None, "{}/4"))
        with c.cursor().copy("COPY vcp (id, h, s) FROM STDIN WITH (FORMAT binary)") as cp:
            cp.set_types(["int4", "halfvec", "sparsevec"])
            cp.write_row((3, HalfVector([0.1, 0.2, 0.3]), SparseVector({3: -1}, 4)))
        rows = c.execute("SELECT id, h::text, s::text FROM vcp ORDER BY id").fetchall()
        assert rows == [
            (1, "[1.0996094,2,3]", "{2:2.5}/4"),
            (2, None, "{}/4"),
            (3, "[0.099975586,0.19995117,0.30004883]", "{4:-1}/4"),
        ]
        with c.cursor().copy("COPY vcp (id, h, s) TO STDOUT") as cp:
            out = b"".join(bytes(b) for b in cp)
        assert out.decode().splitlines()[0] == "1\t[1.0996094,2,3]\t{2:2.5}/4"
        c.execute("DROP TABLE vcp")


def test_insert_array_casts(conn) -> None:  # noqa: ANN001
    conn.execute("DROP TABLE IF EXISTS vi")
    conn.execute("CREATE TABLE vi (id int, e vector(3))")
    conn.execute(
        "INSERT INTO vi VALUES (1, ARRAY[1,2,3]), (2, ARRAY[1.5,2,3]::real[]), "
        "(3, ARRAY[4,5,6]::double precision[]::vector(3)), (4, '[7,8,9]'::vector + '[1,1,1]')"
    )
    rows = conn.execute("SELECT id, e::text FROM vi ORDER BY id").fetchall()
    assert rows == [(1, "[1,2,3]"), (2, "[1.5,2,3]"), (3, "[4,5,6]"), (4, "[8,9,10]")]
    with pytest.raises(psycopg.errors.DataException, match="expected 3 dimensions, not 2"):
        conn.execute("INSERT INTO vi VALUES (5, ARRAY[1,2]::real[])")
    conn.execute("DROP TABLE vi")
