"""The `__vg_fn` DuckDB macros, sqlfront.vecfuncs helpers and the halfvec/sparsevec helpers of
sqlfront.vectors, without a server."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from engine.duck_errors import translate
from engine.errors import DataException, InvalidTextRepresentation
from sqlfront import vecfuncs
from sqlfront.dialect import CosineDistance, L2Distance, NegInnerProduct, parse
from sqlfront.vectors import (
    dense_to_sparse,
    format_sparsevec_text,
    parse_sparsevec_text,
    round_halfvec,
    sparse_to_dense,
)


class _Db:
    """A stand-in database object for `ensure`'s once-per-database bookkeeping."""


@pytest.fixture(scope="module")
def cur() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    vecfuncs.ensure(con, _Db())
    return con


def _one(cur: duckdb.DuckDBPyConnection, sql: str) -> object:
    return cur.execute(sql).fetchone()[0]  # type: ignore[index]


def test_const_list_is_exact_float32(cur: duckdb.DuckDBPyConnection) -> None:
    v = np.random.default_rng(1).normal(size=64).astype(np.float32) * 1e-3
    sql = vecfuncs.const_list(v).sql(dialect="duckdb")
    got = np.array(_one(cur, f"SELECT {sql}"), dtype=np.float32)
    np.testing.assert_array_equal(got, v)
    assert _one(cur, f"SELECT {vecfuncs.const_list(None).sql(dialect='duckdb')}") is None


def _pg_subvector(v: list[float], start: int, count: int) -> list[float] | None:
    """pgvector 0.8's subvector(): None where it raises 'must have at least 1 dimension'."""
    dim = len(v)
    end = start + count
    if start < 1:
        start = 1
    elif start > dim:
        return None
    if end > dim:
        end = dim + 1
    if end - start < 1:
        return None
    return v[start - 1 : end - 1]


@pytest.mark.parametrize("start", range(-2, 8))
@pytest.mark.parametrize("count", range(-1, 8))
def test_subvector_matches_pgvector(cur: duckdb.DuckDBPyConnection, start: int, count: int) -> None:
    v = [1.0, 2.0, 3.0, 4.0, 5.0]
    want = _pg_subvector(v, start, count)
    sql = f"SELECT __vg_fn.subvector([1,2,3,4,5]::FLOAT[], {start}, {count})"
    if want is None:
        with pytest.raises(duckdb.InvalidInputException) as ei:
            cur.execute(sql)
        err = translate(ei.value)
        assert (err.sqlstate, str(err.message)) == (
            "22000",
            "vector must have at least 1 dimension",
        )
    else:
        assert _one(cur, sql) == want


def test_distances_match_numpy(cur: duckdb.DuckDBPyConnection) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 32)).astype(np.float32)
    la = vecfuncs.const_list(a).sql(dialect="duckdb")
    lb = vecfuncs.const_list(b).sql(dialect="duckdb")
    ad, bd = a.astype(np.float64), b.astype(np.float64)
    assert _one(cur, f"SELECT __vg_fn.l2({la}, {lb})") == pytest.approx(np.linalg.norm(ad - bd))
    assert _one(cur, f"SELECT __vg_fn.ip({la}, {lb})") == pytest.approx(ad @ bd)
    assert _one(cur, f"SELECT __vg_fn.l1({la}, {lb})") == pytest.approx(np.abs(ad - bd).sum())
    cos = 1 - ad @ bd / (np.linalg.norm(ad) * np.linalg.norm(bd))
    assert _one(cur, f"SELECT __vg_fn.cosine({la}, {lb})") == pytest.approx(cos)
    assert _one(cur, f"SELECT __vg_fn.bq({la})::VARCHAR") == "".join(
        "1" if x > 0 else "0" for x in a
    )


def test_tagged_errors_keep_their_sqlstate(cur: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.InvalidInputException) as ei:
        cur.execute("SELECT __vg_fn.add([1,2,3]::FLOAT[], [1,2]::FLOAT[])")
    err = translate(ei.value)
    assert err.sqlstate == "22000"
    assert str(err.message) == "different vector dimensions 3 and 2"
    with pytest.raises(duckdb.InvalidInputException) as ei:
        cur.execute("SELECT __vg_fn.typmod([1,2,3]::FLOAT[], 2)")
    assert str(translate(ei.value).message) == "expected 2 dimensions, not 3"


def test_function_to_operator() -> None:
    (tree,) = parse(
        "SELECT l2_distance(e, '[1]'), cosine_distance(e, '[1]'), inner_product(e, '[1]'), "
        "vector_dims(e) FROM t"
    )
    vecfuncs.function_to_operator(tree)
    items = tree.expressions
    assert isinstance(items[0], L2Distance)
    assert isinstance(items[1], CosineDistance)
    assert isinstance(items[2].this.this, NegInnerProduct)  # -(e <#> q)
    assert items[3].sql() == "VECTOR_DIMS(e)"


def test_parse_and_format_sparsevec() -> None:
    v = parse_sparsevec_text(" {3:2, 1:1.5 ,4:0}/ 5 ")
    assert v.dim == 5
    assert v.indices.tolist() == [0, 2] and v.values.tolist() == [1.5, 2.0]
    assert format_sparsevec_text(v) == "{1:1.5,3:2}/5"
    np.testing.assert_array_equal(sparse_to_dense(v), [1.5, 0, 2, 0, 0])
    assert format_sparsevec_text(dense_to_sparse(sparse_to_dense(v))) == "{1:1.5,3:2}/5"
    assert format_sparsevec_text(parse_sparsevec_text("{}/3")) == "{}/3"
    with pytest.raises(DataException, match="expected 4 dimensions, not 5"):
        parse_sparsevec_text("{1:1}/5", expected_dim=4)
    with pytest.raises(InvalidTextRepresentation):
        parse_sparsevec_text("{1:1}/5 x")
    with pytest.raises(DataException, match="out of range for type sparsevec"):
        parse_sparsevec_text("{1:1e39}/5")


def test_round_halfvec() -> None:
    a = np.array([0.1, 1.1, 65504, -2.5e-8], dtype=np.float32)
    np.testing.assert_array_equal(round_halfvec(a), a.astype(np.float16).astype(np.float32))
    with pytest.raises(DataException, match='"70000" is out of range for type halfvec'):
        round_halfvec(np.array([1, 70000], dtype=np.float32))
