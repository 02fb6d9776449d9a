"""An app written for pgvector runs unchanged: arrays of vectors, the catalog types of halfvec /
sparsevec / bit columns, comparison operators, dimension limits, the bit and sparsevec HNSW
operator classes, and alias case folding.

Expected values are what PostgreSQL 15 with pgvector 0.8.0 returns for the same statements.
"""

from __future__ import annotations

import numpy as np
import pytest
from pgvector.psycopg import register_vector

from sqlfront.pgtypes import (
    HALFVEC_ARRAY_OID,
    SPARSEVEC_ARRAY_OID,
    VECTOR_ARRAY_OID,
)


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
