"""An app written for pgvector runs unchanged: arrays of vectors, the catalog types of halfvec /
sparsevec / bit columns, comparison operators, DISTINCT / set operations by value, the float8
type of distances between constants, dimension limits, the bit and sparsevec HNSW operator
classes, and alias case folding.

Expected values are what PostgreSQL 15 with pgvector 0.8.0 returns for the same statements.
"""

from __future__ import annotations

import time

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector

from sqlfront.pgtypes import (
    FLOAT4_ARRAY_OID,
    FLOAT8_OID,
    HALFVEC_ARRAY_OID,
    HALFVEC_OID,
    INT4_OID,
    SPARSEVEC_ARRAY_OID,
    SPARSEVEC_OID,
    TEXT_OID,
    VECTOR_ARRAY_OID,
    VECTOR_OID,
)
from tests.conftest import run_psql


def _as_array(v) -> np.ndarray:  # noqa: ANN001 - pgvector returns Vector or ndarray by version
    return np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v, dtype=np.float32)


@pytest.fixture
def vt(conn):  # noqa: ANN001
    """Table vt: one row of each pgvector type, a second row, and a row of NULLs."""
    conn.execute("DROP TABLE IF EXISTS vt")
    conn.execute(
        "CREATE TABLE vt (id int PRIMARY KEY, e vector(3), h halfvec(3), s sparsevec(5), b bit(3))"
    )
    conn.execute(
        "INSERT INTO vt VALUES (1, '[1,2,3]', '[1,2,3]', '{1:1,3:2}/5', '101'),"
        " (2, '[4,5,6]', '[4,5,6.5]', '{2:1.5}/5', '011'), (3, NULL, NULL, NULL, NULL)"
    )
    return conn


# ------------------------------------------------------------------ arrays of vectors


def _text_row(conn, sql: str) -> tuple[int, str]:  # noqa: ANN001
    with conn.cursor() as cur:
        cur.execute(sql)
        assert cur.description is not None
        oid = cur.description[0].type_code
        row = cur.fetchone()
        assert row is not None
        return oid, row[0]


def test_array_constructor_of_vector_column(vt) -> None:  # noqa: ANN001
    oid, text = _text_row(vt, "SELECT ARRAY[e, e] FROM vt WHERE id = 1")
    assert oid == VECTOR_ARRAY_OID
    assert text == '{"[1,2,3]","[1,2,3]"}'


def test_array_agg_of_vectors_text(vt) -> None:  # noqa: ANN001
    oid, text = _text_row(vt, "SELECT array_agg(e ORDER BY id) FROM vt")
    assert oid == VECTOR_ARRAY_OID
    assert text == '{"[1,2,3]","[4,5,6]",NULL}'


def test_array_agg_of_halfvec_and_sparsevec(vt) -> None:  # noqa: ANN001
    oid, text = _text_row(vt, "SELECT array_agg(h ORDER BY id) FROM vt")
    assert (oid, text) == (HALFVEC_ARRAY_OID, '{"[1,2,3]","[4,5,6.5]",NULL}')
    oid, text = _text_row(vt, "SELECT array_agg(s ORDER BY id) FROM vt WHERE s IS NOT NULL")
    assert (oid, text) == (SPARSEVEC_ARRAY_OID, '{"{1:1,3:2}/5","{2:1.5}/5"}')


def test_array_of_computed_vectors(vt) -> None:  # noqa: ANN001
    oid, text = _text_row(vt, "SELECT array_agg(e + e ORDER BY id) FROM vt WHERE id < 3")
    assert (oid, text) == (VECTOR_ARRAY_OID, '{"[2,4,6]","[8,10,12]"}')
    oid, text = _text_row(vt, "SELECT ARRAY['[1,2]'::vector, '[3,4.5]'::vector]")
    assert (oid, text) == (VECTOR_ARRAY_OID, '{"[1,2]","[3,4.5]"}')


def test_array_of_vectors_element_and_empty(vt) -> None:  # noqa: ANN001
    oid, text = _text_row(vt, "SELECT (array_agg(e ORDER BY id))[2] FROM vt")
    assert text == "[4,5,6]"
    _, text = _text_row(vt, "SELECT array_agg(e) FROM vt WHERE id > 10")
    assert text is None


def test_vector_arrays_with_register_vector(vt) -> None:  # noqa: ANN001
    register_vector(vt)
    for binary in (False, True):
        with vt.cursor(binary=binary) as cur:
            cur.execute("SELECT array_agg(e ORDER BY id) FROM vt WHERE id < 3")
            row = cur.fetchone()
            assert row is not None
            got = [_as_array(v) for v in row[0]]
            assert len(got) == 2
            np.testing.assert_array_equal(got[0], [1, 2, 3])
            np.testing.assert_array_equal(got[1], [4, 5, 6])
            cur.execute("SELECT ARRAY[e, NULL, e] FROM vt WHERE id = 2")
            row = cur.fetchone()
            assert row is not None
            assert row[0][1] is None
            np.testing.assert_array_equal(_as_array(row[0][2]), [4, 5, 6])


# ------------------------------------------------------------------ halfvec / sparsevec / bit types


def test_catalog_types_of_pgvector_columns(vt) -> None:  # noqa: ANN001
    rows = vt.execute(
        "SELECT attname, atttypid, atttypmod, format_type(atttypid, atttypmod) "
        "FROM pg_attribute WHERE attrelid = 'vt'::regclass AND attnum > 1 ORDER BY attnum"
    ).fetchall()
    assert rows == [
        ("e", 16385, 3, "vector(3)"),
        ("h", 16387, 3, "halfvec(3)"),
        ("s", 16389, 5, "sparsevec(5)"),
        ("b", 1560, 3, "bit(3)"),
    ]
    rows = vt.execute(
        "SELECT typname, typarray, format_type(typarray, NULL) FROM pg_type "
        "WHERE typname IN ('halfvec', 'sparsevec', 'bit') ORDER BY typname"
    ).fetchall()
    assert rows == [
        ("bit", 1561, "bit[]"),
        ("halfvec", 16388, "halfvec[]"),
        ("sparsevec", 16390, "sparsevec[]"),
    ]


def test_psql_describe_shows_pgvector_types(server, vt) -> None:  # noqa: ANN001
    out = run_psql(server, "-c", r"\d vt").stdout
    for line in ("vector(3)", "halfvec(3)", "sparsevec(5)", "bit(3)"):
        assert line in out, out


def test_bit_results_have_the_bit_type(vt) -> None:  # noqa: ANN001
    with vt.cursor() as cur:
        cur.execute("SELECT b, binary_quantize(e) FROM vt WHERE id = 1")
        assert cur.description is not None
        assert [c.type_code for c in cur.description] == [1560, 1560]
        assert cur.fetchone() == ("101", "111")
    with vt.cursor(binary=True) as cur:  # bit_send; psycopg has no loader for bit
        cur.execute("SELECT b, '1011001101'::bit(10) FROM vt WHERE id < 3 ORDER BY id")
        assert cur.fetchall() == [
            (b"\x00\x00\x00\x03\xa0", b"\x00\x00\x00\x0a\xb3\x40"),
            (b"\x00\x00\x00\x03\x60", b"\x00\x00\x00\x0a\xb3\x40"),
        ]


def test_halfvec_and_sparsevec_binary_results(vt) -> None:  # noqa: ANN001
    register_vector(vt)
    with vt.cursor(binary=True) as cur:
        cur.execute("SELECT h, s FROM vt WHERE id = 2")
        row = cur.fetchone()
        assert row is not None
        np.testing.assert_array_equal(_as_array(row[0]), [4, 5, 6.5])
        assert row[1].dimensions() == 5
        assert row[1].indices() == [1]
        assert row[1].values() == [1.5]


# ------------------------------------------------------------------ comparisons, dimension limits


@pytest.fixture
def vc(conn):  # noqa: ANN001
    conn.execute("DROP TABLE IF EXISTS vc")
    conn.execute("CREATE TABLE vc (id int PRIMARY KEY, e vector(3), h halfvec(3))")
    conn.execute(
        "INSERT INTO vc VALUES (1, '[4,5,6]', '[1,2,3]'), (2, '[1,2,3]', '[1,2,3]'),"
        " (3, '[1,2,4]', '[0,0,0]'), (4, NULL, NULL), (5, '[1,2,3]', '[9,9,9]')"
    )
    return conn


def _ids(conn, sql: str) -> list[int]:  # noqa: ANN001
    return [r[0] for r in conn.execute(sql).fetchall()]


def test_vector_equality_in_where(vc) -> None:  # noqa: ANN001
    assert _ids(vc, "SELECT id FROM vc WHERE e = '[1,2,3]' ORDER BY id") == [2, 5]
    assert _ids(vc, "SELECT id FROM vc WHERE e <> '[1,2,3]' ORDER BY id") == [1, 3]
    assert _ids(vc, "SELECT id FROM vc WHERE e = '[1,2]'") == []  # other dimension: not equal
    assert _ids(vc, "SELECT id FROM vc WHERE h = '[1,2,3]'::halfvec ORDER BY id") == [1, 2]
    with vc.cursor() as cur:  # a parameter, as an app sends it
        cur.execute("SELECT id FROM vc WHERE e = %s ORDER BY id", ("[1,2,4]",))
        assert [r[0] for r in cur.fetchall()] == [3]


def test_vector_ordering_comparisons(vc) -> None:  # noqa: ANN001
    # element by element, then by dimension (pgvector's vector_cmp)
    assert _ids(vc, "SELECT id FROM vc WHERE e < '[1,2,4]' ORDER BY id") == [2, 5]
    assert _ids(vc, "SELECT id FROM vc WHERE e <= '[1,2,4]' ORDER BY id") == [2, 3, 5]
    assert _ids(vc, "SELECT id FROM vc WHERE e > '[1,2,3]' ORDER BY id") == [1, 3]
    assert _ids(vc, "SELECT id FROM vc WHERE e >= '[4,5,6]' ORDER BY id") == [1]
    row = vc.execute(
        "SELECT '[1,2]'::vector < '[1,2,3]'::vector, '[1,3]'::vector > '[1,2,3]'::vector,"
        " '[1,2,3]'::vector = '[1,2,3]'::vector, '[1,2,3]'::vector <> '[1,2,3]'::vector"
    ).fetchone()
    assert row == (True, True, True, False)


def test_order_by_vector_column(vc) -> None:  # noqa: ANN001
    assert _ids(vc, "SELECT id FROM vc ORDER BY e, id") == [2, 5, 3, 1, 4]  # NULLs last
    assert _ids(vc, "SELECT id FROM vc ORDER BY e DESC, id") == [4, 1, 3, 2, 5]
    assert _ids(vc, "SELECT id FROM vc ORDER BY h, id") == [3, 1, 2, 5, 4]
    rows = vc.execute("SELECT id, e::text FROM vc ORDER BY e DESC NULLS LAST LIMIT 2").fetchall()
    assert rows == [(1, "[4,5,6]"), (3, "[1,2,4]")]


def test_vector_in_list_and_grouped_order(vc) -> None:  # noqa: ANN001
    assert _ids(vc, "SELECT id FROM vc WHERE e IN ('[1,2,4]', '[4,5,6]') ORDER BY id") == [1, 3]
    assert _ids(vc, "SELECT id FROM vc WHERE e NOT IN ('[1,2,3]', '[9,9,9]') ORDER BY id") == [
        1,
        3,
    ]
    rows = vc.execute(
        "SELECT e::text, count(*) FROM vc WHERE id < 5 GROUP BY e ORDER BY e DESC NULLS LAST"
    ).fetchall()
    assert rows == [("[4,5,6]", 1), ("[1,2,4]", 1), ("[1,2,3]", 1), (None, 1)]


def test_vector_any_all_arrays(vc) -> None:  # noqa: ANN001
    def ids(where: str) -> list[int]:
        return _ids(vc, f"SELECT id FROM vc WHERE {where} ORDER BY id")

    assert ids("e = ANY(ARRAY['[1,2,4]','[4,5,6]']::vector[])") == [1, 3]
    assert ids('e = ANY(\'{"[1,2,4]","[4,5,6]"}\')') == [1, 3]  # unknown literal: vector[]
    assert ids("e = SOME(ARRAY['[1,2,3]'::vector, '[7,7,7]'])") == [2, 5]
    assert ids("e <> ALL(ARRAY['[1,2,3]','[9,9,9]']::vector[])") == [1, 3]
    assert ids("e < ALL(ARRAY['[1,2,4]','[4,5,6]']::vector[])") == [2, 5]
    assert ids("e >= ANY(ARRAY['[1,2,4]']::vector[])") == [1, 3]
    assert ids("h = ANY(ARRAY['[0,0,0]','[9,9,9]']::halfvec[])") == [3, 5]
    assert ids("e = ANY(ARRAY[]::vector[])") == []  # empty: ANY false, ALL true
    assert ids("e <> ALL(ARRAY[]::vector[])") == [1, 2, 3, 4, 5]  # even NULL <> ALL('{}')
    # a NULL element: false OR NULL is NULL, true OR NULL is true (three-valued, as Postgres)
    rows = vc.execute(
        "SELECT id, e = ANY(ARRAY['[1,2,3]', NULL]::vector[]) FROM vc ORDER BY id"
    ).fetchall()
    assert rows == [(1, None), (2, True), (3, None), (4, None), (5, True)]
    assert ids("e IN ('[1,2,3]')") == ids("e = ANY(ARRAY['[1,2,3]']::vector[])") == [2, 5]


def test_vector_any_with_array_parameter(vc) -> None:  # noqa: ANN001
    register_vector(vc)
    wanted = [np.array([1, 2, 4], dtype=np.float32), np.array([4, 5, 6], dtype=np.float32)]
    for binary in (False, True):
        with vc.cursor(binary=binary) as cur:
            cur.execute("SELECT id FROM vc WHERE e = ANY(%s) ORDER BY id", (wanted,))
            assert [r[0] for r in cur.fetchall()] == [1, 3]
            cur.execute("SELECT id FROM vc WHERE e <> ALL(%s) ORDER BY id", (wanted,))
            assert [r[0] for r in cur.fetchall()] == [2, 5]


def test_group_by_and_distinct_compare_vector_values(vc) -> None:  # noqa: ANN001
    # rows 2 and 5 hold equal vectors [1,2,3]: one group, as in Postgres (pgvector btree)
    by_e = [("[1,2,3]", 2), ("[1,2,4]", 1), ("[4,5,6]", 1), (None, 1)]
    assert vc.execute("SELECT e::text, count(*) FROM vc GROUP BY e ORDER BY e").fetchall() == by_e
    assert vc.execute("SELECT e::text, count(*) FROM vc GROUP BY 1 ORDER BY 1").fetchall() == by_e
    rows = vc.execute(
        "SELECT h::text, array_agg(id ORDER BY id) FROM vc GROUP BY h ORDER BY h"
    ).fetchall()
    assert rows == [("[0,0,0]", [3]), ("[1,2,3]", [1, 2]), ("[9,9,9]", [5]), (None, [4])]
    rows = vc.execute("SELECT e::text, count(*) FROM vc GROUP BY e HAVING count(*) > 1").fetchall()
    assert rows == [("[1,2,3]", 2)]
    row = vc.execute("SELECT count(DISTINCT e), count(DISTINCT h), count(e), count(*) FROM vc")
    assert row.fetchone() == (3, 3, 4, 5)
    rows = vc.execute("SELECT DISTINCT e::text FROM vc ORDER BY 1").fetchall()
    assert rows == [("[1,2,3]",), ("[1,2,4]",), ("[4,5,6]",), (None,)]
    assert vc.execute("SELECT count(*) FROM (SELECT DISTINCT e FROM vc) s").fetchone() == (4,)
    rows = vc.execute("SELECT DISTINCT e::text, id < 3 FROM vc WHERE id IN (1, 2, 5) ORDER BY 1, 2")
    assert rows.fetchall() == [("[1,2,3]", False), ("[1,2,3]", True), ("[4,5,6]", True)]
    rows = vc.execute("SELECT DISTINCT e, id > 0 AS pos FROM vc WHERE id IN (2, 5)").fetchall()
    assert len(rows) == 1 and rows[0][1] is True


def test_distance_of_a_grouped_vector(vc) -> None:  # noqa: ANN001
    rows = vc.execute(
        "SELECT e::text, e <-> '[1,2,3]' AS d, count(*) FROM vc WHERE e IS NOT NULL"
        " GROUP BY e HAVING e <-> '[1,2,3]' < 5 ORDER BY e <-> '[1,2,3]'"
    ).fetchall()
    assert rows == [("[1,2,3]", 0.0, 2), ("[1,2,4]", 1.0, 1)]


def test_grouped_vector_results_with_register_vector(vc) -> None:  # noqa: ANN001
    register_vector(vc)
    for binary in (False, True):
        with vc.cursor(binary=binary) as cur:
            cur.execute("SELECT e AS v, count(*) FROM vc GROUP BY v ORDER BY v DESC")
            got = [(None if v is None else _as_array(v).tolist(), n) for v, n in cur.fetchall()]
            assert got == [(None, 1), ([4, 5, 6], 1), ([1, 2, 4], 1), ([1, 2, 3], 2)]
            cur.execute("SELECT DISTINCT e FROM vc ORDER BY e NULLS FIRST")
            got = [None if r[0] is None else _as_array(r[0]).tolist() for r in cur.fetchall()]
            assert got == [None, [1, 2, 3], [1, 2, 4], [4, 5, 6]]


# ------------------------------------------------------------------ DISTINCT and set operations


@pytest.fixture
def vu(conn):  # noqa: ANN001
    """vu1: two identical rows (id 7, equal vectors in different slots), another vector, NULLs;
    vu2 (another store): [7,7,7] written before [1,2,3], the vector it shares with vu1."""
    for t in ("vu1", "vu2"):
        conn.execute(f"DROP TABLE IF EXISTS {t}")
    conn.execute("CREATE TABLE vu1 (id int, e vector(3), h halfvec(2), s sparsevec(4))")
    conn.execute(
        "INSERT INTO vu1 VALUES (7, '[1,2,3]', '[1,1]', '{1:1}/4'),"
        " (7, '[1,2,3]', '[1,1]', '{1:1}/4'), (8, '[1,2,4]', '[1,1]', '{2:1}/4'),"
        " (9, NULL, NULL, NULL)"
    )
    conn.execute("CREATE TABLE vu2 (id int, e vector(3))")
    conn.execute("INSERT INTO vu2 VALUES (10, '[7,7,7]'), (7, '[1,2,3]'), (11, NULL)")
    return conn


def _rows(conn, sql: str) -> list[tuple]:  # noqa: ANN001
    return conn.execute(sql).fetchall()


def test_array_agg_distinct_compares_vector_values(vu) -> None:  # noqa: ANN001
    # sorted by value, NULLs last, as Postgres sorts a DISTINCT aggregate's input
    assert _text_row(vu, "SELECT array_agg(DISTINCT e) FROM vu1") == (
        VECTOR_ARRAY_OID,
        '{"[1,2,3]","[1,2,4]",NULL}',
    )
    assert _text_row(vu, "SELECT array_agg(DISTINCT e ORDER BY e DESC) FROM vu1") == (
        VECTOR_ARRAY_OID,
        '{NULL,"[1,2,4]","[1,2,3]"}',
    )
    assert _text_row(vu, "SELECT array_agg(DISTINCT h) FROM vu1 WHERE id < 9") == (
        HALFVEC_ARRAY_OID,
        '{"[1,1]"}',
    )
    assert _text_row(vu, "SELECT array_agg(DISTINCT s) FROM vu1") == (
        SPARSEVEC_ARRAY_OID,
        '{"{2:1}/4","{1:1}/4",NULL}',  # sparsevec_cmp: [0,1,0,0] < [1,0,0,0]
    )
    rows = _rows(vu, "SELECT id, array_agg(DISTINCT e) FROM vu1 GROUP BY id ORDER BY id")
    assert rows == [(7, '{"[1,2,3]"}'), (8, '{"[1,2,4]"}'), (9, "{NULL}")]


def test_select_distinct_star_compares_vector_values(vu) -> None:  # noqa: ANN001
    want = [
        (7, "[1,2,3]", "[1,1]", "{1:1}/4"),
        (8, "[1,2,4]", "[1,1]", "{2:1}/4"),
        (9, None, None, None),
    ]
    assert _rows(vu, "SELECT DISTINCT * FROM vu1 ORDER BY id") == want
    assert _rows(vu, "SELECT DISTINCT t.* FROM vu1 t ORDER BY 1") == want
    assert _rows(vu, "SELECT DISTINCT id, e FROM vu1 ORDER BY id") == [r[:2] for r in want]
    assert _rows(vu, "SELECT count(*) FROM (SELECT DISTINCT * FROM vu1) d") == [(3,)]
    rows = _rows(vu, "SELECT DISTINCT vu1.*, vu2.id FROM vu1, vu2 WHERE vu2.id = 7 ORDER BY 1")
    assert rows == [(*r, 7) for r in want]
    rows = _rows(vu, "SELECT DISTINCT ON (e) e, id FROM vu1 ORDER BY e DESC, id")
    assert rows == [(None, 9), ("[1,2,4]", 8), ("[1,2,3]", 7)]
    with vu.cursor() as cur:
        cur.execute("SELECT DISTINCT * FROM vu1")
        assert cur.description is not None
        oids = [d.type_code for d in cur.description]
        assert oids[1:] == [VECTOR_OID, HALFVEC_OID, SPARSEVEC_OID]


def test_union_compares_vector_values(vu) -> None:  # noqa: ANN001
    # equal vectors of different rows (and stores) are one row; different vectors are not
    rows = _rows(vu, "SELECT e FROM vu1 UNION SELECT e FROM vu2 ORDER BY 1")
    assert rows == [("[1,2,3]",), ("[1,2,4]",), ("[7,7,7]",), (None,)]
    rows = _rows(vu, "SELECT id, e FROM vu1 UNION SELECT id, e FROM vu2 ORDER BY id")
    assert rows == [(7, "[1,2,3]"), (8, "[1,2,4]"), (9, None), (10, "[7,7,7]"), (11, None)]
    rows = _rows(vu, "SELECT h FROM vu1 UNION SELECT h FROM vu1 ORDER BY h")
    assert rows == [("[1,1]",), (None,)]
    rows = _rows(vu, "SELECT s FROM vu1 UNION SELECT s FROM vu1 ORDER BY 1")
    assert rows == [("{2:1}/4",), ("{1:1}/4",), (None,)]
    rows = _rows(vu, "SELECT e FROM vu2 UNION SELECT '[7,7,7]' ORDER BY 1")  # unknown: vector
    assert rows == [("[1,2,3]",), ("[7,7,7]",), (None,)]
    sql = "SELECT count(*) FROM (SELECT e FROM vu1 UNION SELECT e FROM vu2) u WHERE e IS NULL"
    assert _rows(vu, sql) == [(1,)]
    rows = _rows(
        vu,
        "(SELECT id, e FROM vu1 ORDER BY e <-> '[1,2,3]' LIMIT 2)"
        " UNION (SELECT id, e FROM vu2 ORDER BY e <-> '[1,2,3]' LIMIT 1)",
    )
    assert rows == [(7, "[1,2,3]")]
    with vu.cursor() as cur:
        cur.execute("SELECT e FROM vu1 UNION SELECT e FROM vu2")
        assert cur.description is not None and cur.description[0].type_code == VECTOR_OID
        cur.execute("SELECT h FROM vu1 UNION SELECT h FROM vu1")
        assert cur.description is not None and cur.description[0].type_code == HALFVEC_OID


def test_union_all_keeps_rows_and_sorts_by_value(vu) -> None:  # noqa: ANN001
    assert _rows(vu, "SELECT count(*) FROM (SELECT e FROM vu1 UNION ALL SELECT e FROM vu1) u") == [
        (8,)
    ]
    # two stores in one column: each row's own vector
    rows = _rows(vu, "SELECT e FROM vu1 WHERE id = 8 UNION ALL SELECT e FROM vu2 WHERE id = 10")
    assert rows == [("[1,2,4]",), ("[7,7,7]",)]
    # ORDER BY sorts values ([7,7,7] has the lower slot in vu2)
    rows = _rows(vu, "SELECT e FROM vu2 UNION ALL SELECT e FROM vu2 WHERE id = 10 ORDER BY e")
    assert rows == [("[1,2,3]",), ("[7,7,7]",), ("[7,7,7]",), (None,)]
    rows = _rows(vu, "SELECT e FROM vu2 UNION ALL SELECT e FROM vu2 ORDER BY 1 DESC LIMIT 3")
    assert rows == [(None,), (None,), ("[7,7,7]",)]


def test_set_operations_of_constant_vectors_type_their_literals(conn) -> None:  # noqa: ANN001
    """An unknown-typed literal in a branch takes the column's type, as Postgres resolves
    it: a vector (compared by value), or a halfvec (rounded before it is compared)."""
    sql = "SELECT '[1,2]'::vector AS v UNION ALL SELECT '[1,2,3]' UNION ALL SELECT '[1,3]'"
    assert _rows(conn, sql) == [("[1,2]",), ("[1,2,3]",), ("[1,3]",)]
    assert _rows(conn, "SELECT '[1,2]'::vector AS v UNION SELECT '[1,2]'") == [("[1,2]",)]
    sql = "SELECT '[1,2]'::vector AS v UNION SELECT '[1,2,3]' ORDER BY v DESC"
    assert _rows(conn, sql) == [("[1,2,3]",), ("[1,2]",)]
    assert _rows(conn, "SELECT '[1,2]'::halfvec UNION SELECT '[1,2.0001]'") == [("[1,2]",)]


def test_distance_in_a_set_operations_order_by_is_refused_as_in_postgres(vu) -> None:  # noqa: ANN001
    sql = "SELECT id, e FROM vu1 UNION SELECT id, e FROM vu2 ORDER BY e <-> '[7,7,7]'"
    with pytest.raises(psycopg.errors.FeatureNotSupported) as ei:
        vu.execute(sql)
    assert ei.value.diag.message_primary == "invalid UNION/INTERSECT/EXCEPT ORDER BY clause"
    assert ei.value.diag.message_detail.startswith("Only result column names can be used")
    # the hint's way round: the set operation as a FROM item
    sql = (
        "SELECT id FROM (SELECT id, e FROM vu1 UNION SELECT id, e FROM vu2) u "
        "WHERE e IS NOT NULL ORDER BY e <-> '[7,7,7]', id LIMIT 2"
    )
    assert [r[0] for r in _rows(vu, sql)] == [10, 8]


def test_intersect_and_except_compare_vector_values(vu) -> None:  # noqa: ANN001
    # NULLs are not distinct in set operations, as in Postgres
    rows = _rows(vu, "SELECT e FROM vu1 INTERSECT SELECT e FROM vu2 ORDER BY 1")
    assert rows == [("[1,2,3]",), (None,)]
    rows = _rows(vu, "SELECT e FROM vu1 INTERSECT ALL SELECT e FROM vu1 WHERE id <> 8 ORDER BY 1")
    assert rows == [("[1,2,3]",), ("[1,2,3]",), (None,)]
    assert _rows(vu, "SELECT e FROM vu1 EXCEPT SELECT e FROM vu2") == [("[1,2,4]",)]
    rows = _rows(vu, "SELECT e FROM vu1 EXCEPT ALL SELECT e FROM vu2 ORDER BY 1")
    assert rows == [("[1,2,3]",), ("[1,2,4]",)]
    rows = _rows(vu, "SELECT id, e FROM vu1 EXCEPT SELECT id, e FROM vu2 ORDER BY 1")
    assert rows == [(8, "[1,2,4]"), (9, None)]
    rows = _rows(
        vu, "(SELECT e FROM vu2 UNION ALL SELECT e FROM vu2) INTERSECT SELECT e FROM vu1 ORDER BY 1"
    )
    assert rows == [("[1,2,3]",), (None,)]


def test_set_operation_vectors_with_register_vector(vu) -> None:  # noqa: ANN001
    register_vector(vu)
    for binary in (False, True):
        with vu.cursor(binary=binary) as cur:
            cur.execute("SELECT e FROM vu1 UNION SELECT e FROM vu2 ORDER BY e DESC")
            got = [None if v is None else _as_array(v).tolist() for (v,) in cur.fetchall()]
            assert got == [None, [7, 7, 7], [1, 2, 4], [1, 2, 3]]
            cur.execute("SELECT array_agg(DISTINCT e) FROM vu2")
            row = cur.fetchone()
            assert row is not None
            assert [None if v is None else _as_array(v).tolist() for v in row[0]] == [
                [1, 2, 3],
                [7, 7, 7],
                None,
            ]


def _typmods(conn, sql: str) -> list[int]:  # noqa: ANN001
    with conn.cursor() as cur:
        cur.execute(sql)
        res = cur.pgresult
        assert res is not None
        return [res.fmod(i) for i in range(res.nfields)]


def test_casts_to_a_sized_vector_type_carry_its_typmod(vu) -> None:  # noqa: ANN001
    assert _typmods(vu, "SELECT '[1,2,3]'::vector(3) AS v, 1") == [3, -1]
    assert _typmods(vu, "SELECT e::vector(3), h::halfvec(2), id FROM vu1") == [3, 2, -1]
    assert _typmods(vu, "SELECT '{1:1}/5'::sparsevec(5)") == [5]
    assert _typmods(vu, "SELECT e + e FROM vu1") == [-1]  # computed: no typmod, as in Postgres


def test_set_operation_vector_columns_carry_their_typmod(vu) -> None:  # noqa: ANN001
    """RowDescription's typmod of a set operation's column is its branches' when they agree
    (Postgres's transformSetOperationTree), -1 when they differ or one is an untyped literal."""
    assert _typmods(vu, "SELECT e FROM vu1 UNION SELECT e FROM vu2") == [3]
    assert _typmods(vu, "SELECT e FROM vu1 UNION ALL SELECT e FROM vu2") == [3]  # two stores
    assert _typmods(vu, "SELECT e FROM vu2 UNION ALL SELECT e FROM vu2") == [3]  # pointers
    assert _typmods(vu, "SELECT id, e FROM vu1 INTERSECT SELECT id, e FROM vu2") == [-1, 3]
    assert _typmods(vu, "SELECT e FROM vu1 EXCEPT SELECT e FROM vu2 ORDER BY 1") == [3]
    assert _typmods(vu, "SELECT h, s FROM vu1 UNION SELECT h, s FROM vu1") == [2, 4]
    assert _typmods(vu, "SELECT e FROM vu1 UNION SELECT '[1,2,3]'::vector(3)") == [3]
    sql = "SELECT e FROM vu1 UNION SELECT e FROM vu2 UNION ALL SELECT NULL::vector(3)"
    assert _typmods(vu, sql) == [3]
    assert _typmods(vu, "SELECT e FROM vu1 UNION SELECT '[1,2,3]'") == [-1]
    assert _typmods(vu, "SELECT e FROM vu1 UNION SELECT NULL") == [-1]
    assert _typmods(vu, "SELECT e FROM vu1 UNION SELECT '[1,2]'::vector(2)") == [-1]
    assert _typmods(vu, "SELECT e FROM vu1 UNION SELECT e + e FROM vu2") == [-1]
    # results of the same shape do not inherit it
    assert _typmods(vu, "SELECT e + e AS e FROM vu1") == [-1]
    assert _typmods(vu, "SELECT e FROM vu1") == [3]


def test_psql_gdesc_of_a_set_operation(server, vu) -> None:  # noqa: ANN001
    sql = "SELECT id, e FROM vu1 UNION SELECT id, e FROM vu2 \\gdesc\n"
    assert run_psql(server, "-At", input=sql).stdout.split() == ["id|integer", "e|vector(3)"]
    sql = "SELECT e FROM vu1 UNION SELECT '[1,2,3]' \\gdesc\n"
    assert run_psql(server, "-At", input=sql).stdout.split() == ["e|vector"]


# ------------------------------------------------------------------ distances of constants


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("'[1,2]'::vector <-> '[3,4]'", 8**0.5),
        ("'[1,2]'::vector <=> '[3,4]'", 1 - 11 / 125**0.5),
        ("'[1,2]'::vector <#> '[3,4]'", -11.0),
        ("'[1,2]'::vector <+> '[3,4]'", 4.0),
        ("l2_distance('[1,2]'::vector, '[3,4]')", 8**0.5),
        ("cosine_distance('[1,2]'::vector, '[3,4]')", 1 - 11 / 125**0.5),
        ("inner_product('[1,2]'::vector, '[3,4]')", 11.0),
        ("l1_distance('[1,2]'::vector, '[3,4]')", 4.0),
        ("vector_norm('[3,4]')", 5.0),
        ("'[1,2]'::halfvec <-> '[3,4]'::halfvec", 8**0.5),
        ("'[1,2]'::halfvec <#> '[3,4]'::halfvec", -11.0),
        ("l1_distance('[1,2]'::halfvec, '[3,4]'::halfvec)", 4.0),
        ("l2_norm('[3,4]'::halfvec)", 5.0),
        ("'{1:1,2:2}/2'::sparsevec <-> '{1:3,2:4}/2'::sparsevec", 8**0.5),
        ("'{1:1,2:2}/2'::sparsevec <=> '{1:3,2:4}/2'::sparsevec", 1 - 11 / 125**0.5),
        ("inner_product('{1:1,2:2}/2'::sparsevec, '{1:3,2:4}/2'::sparsevec)", 11.0),
        ("l2_norm('{1:3,2:4}/2'::sparsevec)", 5.0),
        ("'101'::bit <~> '111'", 1.0),
        ("'101'::bit <%> '111'", 1 / 3),
        ("hamming_distance('101'::bit, '111'::bit)", 1.0),
        ("jaccard_distance('101'::bit, '111'::bit)", 1 / 3),
    ],
)
def test_distance_of_constants_is_float8(conn, expr: str, want: float) -> None:  # noqa: ANN001
    for binary in (False, True):
        with conn.cursor(binary=binary) as cur:
            cur.execute(f"SELECT {expr}")
            assert cur.description is not None
            assert cur.description[0].type_code == FLOAT8_OID
            (got,) = cur.fetchone()  # type: ignore[misc]
            assert type(got) is float
            assert got == pytest.approx(want, rel=1e-6)


def test_distance_of_constants_in_expressions(conn) -> None:  # noqa: ANN001
    row = conn.execute(
        "SELECT '[1,2]'::vector <-> '[1,2]', '[1,2]'::vector <-> NULL,"
        " ('[1,2]'::vector <-> '[3,4]') * 2, '[0,0]'::vector <=> '[1,1]'"
    ).fetchone()
    assert row is not None
    assert row[0] == 0.0 and type(row[0]) is float
    assert row[1] is None
    assert row[2] == pytest.approx(2 * 8**0.5) and type(row[2]) is float
    assert row[3] != row[3]  # NaN, as pgvector's cosine distance of a zero vector


def test_vector_column_named_v(conn) -> None:  # noqa: ANN001
    """A user column may be called like the helper relation's columns (v, slot)."""
    conn.execute("DROP TABLE IF EXISTS vnamed")
    conn.execute("CREATE TABLE vnamed (slot int, v vector(2))")
    conn.execute("INSERT INTO vnamed VALUES (1, '[3,4]'), (2, '[1,2]'), (3, '[3,4]')")
    rows = conn.execute("SELECT slot, v::text FROM vnamed ORDER BY v, slot").fetchall()
    assert rows == [(2, "[1,2]"), (1, "[3,4]"), (3, "[3,4]")]
    rows = conn.execute("SELECT v::text, count(*) FROM vnamed GROUP BY v ORDER BY v").fetchall()
    assert rows == [("[1,2]", 1), ("[3,4]", 2)]


def test_knn_over_columns_named_like_the_distance_relations(conn) -> None:  # noqa: ANN001
    """A kNN query's (slot, distance) relation must not capture a user's `d` or `slot`."""
    conn.execute("DROP TABLE IF EXISTS dnamed")
    conn.execute("CREATE TABLE dnamed (id int, d int, slot int, e vector(2))")
    conn.execute(
        "INSERT INTO dnamed VALUES "
        "(1, 10, 100, '[1,1]'), (2, 20, 200, '[2,2]'), (3, 30, 300, '[3,3]')"
    )
    q = "'[1,1]'"
    rows = conn.execute(f"SELECT id, d, slot FROM dnamed ORDER BY e <-> {q} LIMIT 2").fetchall()
    assert rows == [(1, 10, 100), (2, 20, 200)]
    rows = conn.execute(
        f"SELECT id, d + 1, slot * 2, e <-> {q} FROM dnamed WHERE d > 10 AND slot < 300 "
        f"ORDER BY e <-> {q} LIMIT 2"
    ).fetchall()
    assert rows == [(2, 21, 400, pytest.approx(2**0.5))]


def test_vector_equality_join(vc) -> None:  # noqa: ANN001
    rows = vc.execute(
        "SELECT a.id, b.id FROM vc a JOIN vc b ON a.e = b.e AND a.id < b.id ORDER BY 1"
    ).fetchall()
    assert rows == [(2, 5)]


@pytest.mark.parametrize(
    ("sql", "sqlstate", "message"),
    [
        (
            "CREATE TABLE vbad (e vector(16001))",
            "22023",
            "dimensions for type vector cannot exceed 16000",
        ),
        (
            "CREATE TABLE vbad (e vector(0))",
            "22023",
            "dimensions for type vector must be at least 1",
        ),
        (
            "CREATE TABLE vbad (e halfvec(16001))",
            "22023",
            "dimensions for type halfvec cannot exceed 16000",
        ),
        ("SELECT '[1,2,3]'::vector(0)", "22023", "dimensions for type vector must be at least 1"),
        (
            "SELECT '[1,2,3]'::vector(16001)",
            "22023",
            "dimensions for type vector cannot exceed 16000",
        ),
        ("SELECT '[1,2,3]'::vector(2)", "22000", "expected 2 dimensions, not 3"),
    ],
)
def test_vector_dimension_limits(conn, sql: str, sqlstate: str, message: str) -> None:  # noqa: ANN001
    with pytest.raises(psycopg.Error) as ei:
        conn.execute(sql)
    assert ei.value.sqlstate == sqlstate
    assert ei.value.diag.message_primary == message


# ------------------------------------------------------------------ bit / sparsevec HNSW opclasses


def _sparse_text(v: np.ndarray) -> str:
    items = ",".join(f"{i + 1}:{float(x)!r}" for i, x in enumerate(v) if x != 0)
    return "{" + items + "}/" + str(len(v))


@pytest.fixture
def sparse_rows(conn):  # noqa: ANN001
    """Table sv: 300 sparse 40-d vectors (about 5 non-zeros each) and their dense numpy copy."""
    rng = np.random.default_rng(11)
    dense = np.zeros((300, 40), dtype=np.float32)
    for row in dense:
        idx = rng.choice(40, size=5, replace=False)
        row[idx] = rng.normal(size=5).astype(np.float32)
    conn.execute("DROP TABLE IF EXISTS sv")
    conn.execute("CREATE TABLE sv (id int PRIMARY KEY, s sparsevec(40))")
    values = ", ".join(f"({i}, '{_sparse_text(v)}')" for i, v in enumerate(dense))
    conn.execute(f"INSERT INTO sv VALUES {values}")
    return conn, dense


@pytest.mark.parametrize(
    ("opclass", "op"),
    [
        ("sparsevec_l2_ops", "<->"),
        ("sparsevec_cosine_ops", "<=>"),
        ("sparsevec_ip_ops", "<#>"),
        ("sparsevec_l1_ops", "<+>"),
    ],
)
def test_sparsevec_hnsw_opclasses(sparse_rows, opclass: str, op: str) -> None:  # noqa: ANN001
    conn, dense = sparse_rows
    conn.execute(f"CREATE INDEX sv_idx ON sv USING hnsw (s {opclass}) WITH (m = 8)")
    q = dense[7] + dense[8]
    if op == "<->":
        d = np.linalg.norm(dense - q, axis=1)
    elif op == "<=>":
        d = 1 - dense @ q / (np.linalg.norm(dense, axis=1) * np.linalg.norm(q))
    elif op == "<#>":
        d = -(dense @ q)
    else:
        d = np.abs(dense - q).sum(axis=1)
    want = [int(i) for i in np.argsort(d, kind="stable")[:5]]
    sql = f"SELECT id FROM sv ORDER BY s {op} %s::sparsevec LIMIT 5"
    for strategy in ("hnsw", "auto"):
        conn.execute(f"SET vecgres.knn_strategy = {strategy}")
        assert _ids_p(conn, sql, (_sparse_text(q),)) == want
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, (_sparse_text(q),)))
        if op == "<+>":  # hnswlib has no L1 space: the index is kept, searches are exact
            assert "strategy=exact" in plan and "Index: sv_idx" not in plan
        else:
            assert "Index: sv_idx" in plan
            assert strategy == "auto" or "strategy=hnsw" in plan
    conn.execute("RESET vecgres.knn_strategy")
    row = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'sv_idx'").fetchone()
    assert row == (f"CREATE INDEX sv_idx ON public.sv USING hnsw (s {opclass}) WITH (m='8')",)


def _ids_p(conn, sql: str, params: tuple) -> list[int]:  # noqa: ANN001
    return [r[0] for r in conn.execute(sql, params).fetchall()]


def test_bit_hnsw_opclasses(conn) -> None:  # noqa: ANN001
    conn.execute("DROP TABLE IF EXISTS bv")
    conn.execute("CREATE TABLE bv (id int PRIMARY KEY, b bit(6))")
    conn.execute("INSERT INTO bv VALUES (1, '111000'), (2, '110000'), (3, '000111'), (4, '111111')")
    conn.execute("CREATE INDEX ON bv USING hnsw (b bit_hamming_ops)")
    conn.execute("CREATE INDEX ON bv USING hnsw (b bit_jaccard_ops) WITH (m = 4)")
    # hamming to 111100: 1, 2, 5, 2; jaccard: 1/4, 2/4, 5/6, 2/6
    assert _ids(conn, "SELECT id FROM bv ORDER BY b <~> '111100', id LIMIT 3") == [1, 2, 4]
    assert _ids(conn, "SELECT id FROM bv ORDER BY b <%> '111100' LIMIT 3") == [1, 4, 2]
    names = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'bv' ORDER BY indexname"
    ).fetchall()
    assert names == [
        ("CREATE INDEX bv_b_idx ON public.bv USING hnsw (b bit_hamming_ops)",),
        ("CREATE INDEX bv_b_idx1 ON public.bv USING hnsw (b bit_jaccard_ops) WITH (m='4')",),
        ("CREATE UNIQUE INDEX bv_pkey ON public.bv USING btree (id)",),
    ]
    conn.execute("REINDEX TABLE bv")
    conn.execute("DROP INDEX bv_b_idx")


@pytest.mark.parametrize(
    ("sql", "sqlstate", "message"),
    [
        (
            "CREATE INDEX ON bv2 USING hnsw (e sparsevec_l2_ops)",
            "42804",
            'operator class "sparsevec_l2_ops" does not accept data type vector',
        ),
        (
            "CREATE INDEX ON bv2 USING hnsw (b vector_l2_ops)",
            "42804",
            'operator class "vector_l2_ops" does not accept data type bit',
        ),
        (
            "CREATE INDEX ON bv2 USING ivfflat (b bit_jaccard_ops)",
            "42704",
            'operator class "bit_jaccard_ops" does not exist for access method "ivfflat"',
        ),
        (
            "CREATE INDEX ON bv2 USING hnsw (b)",
            "42704",
            'data type bit has no default operator class for access method "hnsw"',
        ),
    ],
)
def test_opclass_errors(conn, sql: str, sqlstate: str, message: str) -> None:  # noqa: ANN001
    conn.execute("DROP TABLE IF EXISTS bv2")
    conn.execute("CREATE TABLE bv2 (id int, e vector(3), b bit(3))")
    with pytest.raises(psycopg.Error) as ei:
        conn.execute(sql)
    assert ei.value.sqlstate == sqlstate
    assert ei.value.diag.message_primary == message


# ------------------------------------------------------------------ identifier case


def _names(conn, sql: str) -> list[str]:  # noqa: ANN001
    with conn.cursor() as cur:
        cur.execute(sql)
        assert cur.description is not None
        return [c.name for c in cur.description]


def test_unquoted_aliases_fold_to_lower_case(conn) -> None:  # noqa: ANN001
    assert _names(conn, 'SELECT 1 AS FOO, 2 AS "BAR", 3 AS Baz, 4 "Qux"') == [
        "foo",
        "BAR",
        "baz",
        "Qux",
    ]
    assert _names(conn, 'SELECT * FROM (SELECT 1 AS ABC, 2 AS "DEF") s') == ["abc", "DEF"]
    assert _names(conn, 'SELECT * FROM (VALUES (1, 2)) v(A, "B")') == ["a", "B"]
    assert _names(conn, "WITH Q AS (SELECT 1 AS Z) SELECT * FROM q") == ["z"]
    assert conn.execute("SELECT 2 AS FOO ORDER BY foo").fetchall() == [(2,)]


def test_vector_alias_folds(vt) -> None:  # noqa: ANN001
    assert _names(vt, "SELECT e AS EMB, e <-> '[1,2,3]' AS Dist FROM vt ORDER BY Dist LIMIT 1") == [
        "emb",
        "dist",
    ]


# ------------------------------------------------------------------ vectors through subqueries


def test_distinct_and_group_by_through_subquery_and_cte(vc) -> None:  # noqa: ANN001
    # rows 2 and 5 hold equal vectors [1,2,3] in different slots: one value
    want = [("[1,2,3]",), ("[1,2,4]",), ("[4,5,6]",), (None,)]
    rows = _rows(vc, "SELECT DISTINCT e FROM (SELECT e FROM vc) s ORDER BY 1")
    assert rows == want
    rows = _rows(vc, "WITH s AS (SELECT * FROM vc) SELECT DISTINCT e FROM s ORDER BY e")
    assert rows == want
    rows = _rows(vc, "SELECT DISTINCT * FROM (SELECT e FROM vc WHERE id IN (2, 5)) s")
    assert rows == [("[1,2,3]",)]
    rows = _rows(vc, "SELECT e::text, count(*) FROM (SELECT id, e FROM vc) s GROUP BY e ORDER BY e")
    assert rows == [("[1,2,3]", 2), ("[1,2,4]", 1), ("[4,5,6]", 1), (None, 1)]
    rows = _rows(vc, "WITH s AS (SELECT e AS v FROM vc) SELECT count(DISTINCT v) FROM s")
    assert rows == [(3,)]
    rows = _rows(
        vc, "SELECT count(DISTINCT e) FROM (SELECT e FROM vc UNION ALL SELECT e FROM vc) u"
    )
    assert rows == [(3,)]
    rows = _rows(vc, "SELECT count(*) FROM (SELECT DISTINCT h FROM (SELECT h FROM vc) a) b")
    assert rows == [(4,)]


def test_order_and_compare_through_subquery(vc) -> None:  # noqa: ANN001
    # pgvector's order: element by element, then by dimension; NULLs last
    assert _ids(vc, "SELECT id FROM (SELECT id, e FROM vc) s ORDER BY e, id") == [2, 5, 3, 1, 4]
    assert _ids(vc, "WITH s AS (SELECT * FROM vc) SELECT id FROM s ORDER BY e DESC, id") == [
        4,
        1,
        3,
        2,
        5,
    ]
    assert _ids(vc, "SELECT id FROM (SELECT * FROM vc) s WHERE e = '[1,2,3]' ORDER BY id") == [
        2,
        5,
    ]


def test_order_and_distinct_of_signed_zeros(conn) -> None:  # noqa: ANN001
    conn.execute("DROP TABLE IF EXISTS vd")
    conn.execute("CREATE TABLE vd (id int, e vector(2))")
    conn.execute("INSERT INTO vd VALUES (1, '[2,0]'), (2, '[1,5]'), (3, '[1,-1]'), (4, '[-0,0]')")
    assert _ids(conn, "SELECT id FROM vd ORDER BY e, id") == [4, 3, 2, 1]
    assert _ids(conn, "SELECT id FROM vd ORDER BY e DESC, id") == [1, 2, 3, 4]
    rows = _rows(
        conn, "SELECT count(*) FROM (SELECT DISTINCT e FROM vd UNION ALL SELECT '[0,0]') s"
    )
    assert rows == [(5,)]
    assert _rows(
        conn, "SELECT count(DISTINCT x) FROM (SELECT e AS x FROM vd UNION ALL SELECT '[0,0]') s"
    ) == [(4,)]


# ------------------------------------------------------------------ NULL computed vectors


def test_computed_null_vectors_are_null(vc) -> None:  # noqa: ANN001
    sql = "SELECT count(*) FROM (SELECT e + e AS x FROM vc) s WHERE x IS NULL"
    assert _rows(vc, sql) == [(1,)]
    assert _rows(vc, "SELECT count(*) FROM vc WHERE (e + e) IS NULL") == [(1,)]
    assert _rows(vc, "SELECT count(*) FROM vc WHERE l2_normalize(e) IS NOT NULL") == [(4,)]
    rows = _rows(vc, "SELECT id, coalesce(e + e, '[0,0,0]')::text FROM vc ORDER BY id")
    assert rows == [
        (1, "[8,10,12]"),
        (2, "[2,4,6]"),
        (3, "[2,4,8]"),
        (4, "[0,0,0]"),
        (5, "[2,4,6]"),
    ]
    assert _rows(vc, "SELECT coalesce(e, '[7,7,7]')::text FROM vc WHERE id = 4") == [("[7,7,7]",)]
    with vc.cursor() as cur:
        cur.execute("SELECT coalesce(e - e, '[0,0,0]'), e * e FROM vc WHERE id = 4")
        assert cur.description is not None
        assert [d.type_code for d in cur.description] == [VECTOR_OID, VECTOR_OID]
        assert cur.fetchone() == ("[0,0,0]", None)
    # STRICT: a NULL operand gives NULL (not a list of NULLs, not the other operand)
    row = vc.execute(
        "SELECT '[1,2,3]'::vector + NULL::vector, '[1,2]'::vector || NULL::vector,"
        " (SELECT count(*) FROM vc a, vc b WHERE a.id = 1 AND (a.e - b.e) IS NULL)"
    ).fetchone()
    assert row == (None, None, 1)


def test_computed_null_vectors_with_register_vector(vc) -> None:  # noqa: ANN001
    register_vector(vc)
    for binary in (False, True):
        with vc.cursor(binary=binary) as cur:
            cur.execute("SELECT x FROM (SELECT id, e + e AS x FROM vc) s ORDER BY id")
            got = [None if v is None else _as_array(v).tolist() for (v,) in cur.fetchall()]
            assert got == [[8, 10, 12], [2, 4, 6], [2, 4, 8], None, [2, 4, 6]]


# ------------------------------------------------------- computed vectors through subqueries


def _typed_rows(conn, sql: str) -> tuple[list[int], list[tuple]]:  # noqa: ANN001
    """(the result columns' type OIDs, the rows)."""
    with conn.cursor() as cur:
        cur.execute(sql)
        assert cur.description is not None
        return [d.type_code for d in cur.description], cur.fetchall()


def test_computed_vector_of_a_subquery_prints_as_text(vc) -> None:  # noqa: ANN001
    want = [(1, "[8,10,12]"), (2, "[2,4,6]"), (3, "[2,4,8]"), (4, None), (5, "[2,4,6]")]
    assert (
        _rows(vc, "SELECT id, x::text FROM (SELECT id, e + e AS x FROM vc) s ORDER BY id") == want
    )
    assert _rows(vc, "SELECT id, (e + e)::text FROM vc ORDER BY id") == want
    sql = "SELECT x::text FROM (SELECT x FROM (SELECT id, e + e AS x FROM vc) a WHERE id = 1) b"
    assert _rows(vc, sql) == [("[8,10,12]",)]


def test_functions_and_operators_of_a_derived_computed_vector(vc) -> None:  # noqa: ANN001
    """Each behaves as the same expression written inline, with pgvector's types."""
    derived = _typed_rows(
        vc,
        "SELECT l2_normalize(x), vector_dims(x), x <-> '[1,2,3]', x + x"
        " FROM (SELECT id, e * e AS x FROM vc) s ORDER BY id",
    )
    inline = _typed_rows(
        vc,
        "SELECT l2_normalize(e * e), vector_dims(e * e), (e * e) <-> '[1,2,3]', (e * e) + (e * e)"
        " FROM vc ORDER BY id",
    )
    assert derived == inline
    oids, rows = derived
    assert oids == [VECTOR_OID, INT4_OID, FLOAT8_OID, VECTOR_OID]
    assert [r[1:] for r in rows[:2]] == [
        (3, pytest.approx(1843**0.5), "[32,50,72]"),  # e * e = [16,25,36]
        (3, pytest.approx(40**0.5), "[2,8,18]"),
    ]
    assert rows[3] == (None, None, None, None)  # a NULL vector stays NULL
    oids, rows = _typed_rows(
        vc,
        "SELECT x::real[], x::halfvec, x::vector(3), vector_norm(x), subvector(x, 2, 1)"
        " FROM (SELECT e + e AS x FROM vc WHERE id = 2) s",
    )
    assert oids == [FLOAT4_ARRAY_OID, HALFVEC_OID, VECTOR_OID, FLOAT8_OID, VECTOR_OID]
    assert rows == [([2.0, 4.0, 6.0], "[2,4,6]", "[2,4,6]", pytest.approx(56**0.5), "[4]")]


def test_derived_computed_vector_in_where_order_and_aggregates(vc) -> None:  # noqa: ANN001
    assert _ids(vc, "SELECT id FROM (SELECT id, e + e AS x FROM vc) s WHERE x = '[2,4,6]'") == [
        2,
        5,
    ]
    sql = "SELECT id FROM (SELECT id, e + e AS x FROM vc) s WHERE x < '[2,4,7]' ORDER BY id"
    assert _ids(vc, sql) == [2, 5]
    sql = "WITH c AS (SELECT id, l2_normalize(e) AS x FROM vc) SELECT id FROM c"
    assert _ids(vc, sql + " ORDER BY x <=> '[1,0,0]', id LIMIT 2") == [1, 2]
    assert _ids(vc, sql + " ORDER BY x <=> '[1,0,0]', id") == [1, 2, 5, 3, 4]  # NULL last
    assert _ids(vc, "SELECT id FROM (SELECT id, e - e AS x FROM vc) s ORDER BY x, id") == [
        1,
        2,
        3,
        5,
        4,
    ]
    oids, rows = _typed_rows(
        vc, "SELECT avg(x), sum(x), avg(x)::text FROM (SELECT e + e AS x FROM vc) s"
    )
    assert (oids, rows) == (
        [VECTOR_OID, VECTOR_OID, TEXT_OID],
        [("[3.5,5.5,8]", "[14,22,32]", "[3.5,5.5,8]")],
    )
    sql = "SELECT avg(x), sum(x) FROM (SELECT id, e + e AS x FROM vc) s WHERE id = 4"
    assert _rows(vc, sql) == [(None, None)]  # no non-NULL input: NULL, as in pgvector
    assert _rows(vc, "SELECT avg(e), sum(e) FROM vc WHERE id > 10") == [(None, None)]
    with pytest.raises(psycopg.Error) as ei:
        vc.execute("SELECT x + '[1,2]' FROM (SELECT e + e AS x FROM vc) s")
    assert ei.value.sqlstate == "22000"
    assert ei.value.diag.message_primary == "different vector dimensions 3 and 2"


def test_values_lists_of_vectors(conn) -> None:  # noqa: ANN001
    """A VALUES column is a vector when a row casts to one; its other literals are too."""
    sql = (
        "SELECT x <-> '[0,0]' AS d, vector_dims(x), x::text FROM "
        "(VALUES ('[3,4]'::vector), ('[6,8]')) v(x) ORDER BY d DESC"
    )
    assert _rows(conn, sql) == [(10.0, 2, "[6,8]"), (5.0, 2, "[3,4]")]
    sql = "SELECT column1 <-> '[0,0]' FROM (VALUES ('[3,4]'::vector)) v"
    assert _rows(conn, sql) == [(5.0,)]
    sql = "SELECT count(DISTINCT x) FROM (VALUES ('[3,4]'::vector), ('[3,4]'), (NULL)) v(x)"
    assert _rows(conn, sql) == [(1,)]
    assert _rows(conn, "VALUES ('[1,2]'::vector), ('[3,4]')") == [("[1,2]",), ("[3,4]",)]


def test_a_literal_beside_a_computed_halfvec_is_a_halfvec(conn) -> None:  # noqa: ANN001
    """`(h + h) <-> '[0.1,0.2]'`: the literal is a halfvec (rounded), as pgvector resolves it."""
    conn.execute("DROP TABLE IF EXISTS hv")
    conn.execute("CREATE TABLE hv (h halfvec(2), e vector(2))")
    conn.execute("INSERT INTO hv VALUES ('[1,1]', '[1,1]')")
    q = np.array([0.1, 0.2], dtype=np.float32).astype(np.float64)
    qh = q.astype(np.float16).astype(np.float64)
    two = np.array([2.0, 2.0])
    for sql in ("SELECT (h + h) <-> '[0.1,0.2]' FROM hv", "SELECT '[0.1,0.2]' <-> (h + h) FROM hv"):
        (d,) = conn.execute(sql).fetchone()
        assert d == pytest.approx(float(np.linalg.norm(two - qh)), rel=1e-7)
    (d,) = conn.execute("SELECT (e + e) <-> '[0.1,0.2]' FROM hv").fetchone()  # a vector: as is
    assert d == pytest.approx(float(np.linalg.norm(two - q)), rel=1e-7)
    assert conn.execute("SELECT (h + h) = '[2,2.0001]' FROM hv").fetchone() == (True,)
    assert conn.execute("SELECT (e + e) = '[2,2.0001]' FROM hv").fetchone() == (False,)


def test_derived_computed_halfvec(vc) -> None:  # noqa: ANN001
    """halfvec + halfvec, l2_normalize(halfvec), avg(halfvec) are halfvec, inline or derived."""
    derived = _typed_rows(
        vc,
        "SELECT x, x + x, l2_normalize(x), x::text, x::vector"
        " FROM (SELECT id, h + h AS x FROM vc) s ORDER BY id",
    )
    inline = _typed_rows(
        vc,
        "SELECT h + h, (h + h) + (h + h), l2_normalize(h + h), (h + h)::text, (h + h)::vector"
        " FROM vc ORDER BY id",
    )
    assert derived == inline
    oids, rows = derived
    assert oids == [HALFVEC_OID, HALFVEC_OID, HALFVEC_OID, TEXT_OID, VECTOR_OID]
    assert rows[0][:2] == ("[2,4,6]", "[4,8,12]") and rows[0][3:] == ("[2,4,6]", "[2,4,6]")
    assert rows[3] == (None, None, None, None, None)
    oids, rows = _typed_rows(vc, "WITH c AS (SELECT h || h AS x FROM vc) SELECT avg(x) FROM c")
    assert (oids, rows) == ([HALFVEC_OID], [("[2.75,3.25,3.75,2.75,3.25,3.75]",)])
    assert _ids(vc, "SELECT id FROM (SELECT id, h + h AS x FROM vc) s WHERE x = '[2,4,6]'") == [
        1,
        2,
    ]


def test_recursive_cte_columns_resolve_quickly(conn) -> None:  # noqa: ANN001
    """A recursive CTE's reference to itself is not followed again for each of its columns
    (that took 17 s for three columns)."""
    t0 = time.perf_counter()
    rows = _rows(
        conn,
        "WITH RECURSIVE r AS (SELECT 1 AS n, 2 AS m, 3 AS k UNION ALL"
        " SELECT n + 1, m, k FROM r WHERE n < 10) SELECT * FROM r WHERE n = 5",
    )
    assert rows == [(5, 2, 3)]
    assert time.perf_counter() - t0 < 3


# ------------------------------------------------------------------ arrays of vectors as text


def test_array_of_vectors_cast_to_text(vt) -> None:  # noqa: ANN001
    oid, text = _text_row(vt, "SELECT array_agg(e ORDER BY id)::text FROM vt")
    assert (oid, text) == (TEXT_OID, '{"[1,2,3]","[4,5,6]",NULL}')
    _, text = _text_row(vt, "SELECT array_agg(DISTINCT e)::varchar FROM vt")
    assert text == '{"[1,2,3]","[4,5,6]",NULL}'
    _, text = _text_row(vt, "SELECT array_agg(s ORDER BY id)::text FROM vt WHERE id < 3")
    assert text == '{"{1:1,3:2}/5","{2:1.5}/5"}'
    _, text = _text_row(vt, "SELECT array_agg(h + h ORDER BY id)::text FROM vt WHERE id < 3")
    assert text == '{"[2,4,6]","[8,10,13]"}'
    _, text = _text_row(vt, "SELECT ARRAY[e, NULL, '[7,8,9.5]']::text FROM vt WHERE id = 1")
    assert text == '{"[1,2,3]",NULL,"[7,8,9.5]"}'
    _, text = _text_row(vt, "SELECT 'x' || array_agg(e ORDER BY id)::text FROM vt WHERE id < 3")
    assert text == 'x{"[1,2,3]","[4,5,6]"}'
    _, text = _text_row(vt, "SELECT array_agg(e)::text FROM vt WHERE id > 10")
    assert text is None
    rows = _rows(vt, "SELECT id, array_agg(e)::text FROM vt GROUP BY id HAVING id < 3 ORDER BY id")
    assert rows == [(1, '{"[1,2,3]"}'), (2, '{"[4,5,6]"}')]


def test_psql_prints_arrays_of_vectors(server, vt) -> None:  # noqa: ANN001
    out = run_psql(
        server,
        "-At",
        "-c",
        "SELECT array_agg(e ORDER BY id) AS a, array_agg(e ORDER BY id)::text AS t"
        " FROM vt WHERE id < 3",
    ).stdout
    assert out.strip() == '{"[1,2,3]","[4,5,6]"}|{"[1,2,3]","[4,5,6]"}'
