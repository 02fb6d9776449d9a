"""kNN over bit(256) columns with `bit_hamming_ops` / `bit_jaccard_ops` indexes (graphless:
answered by DuckDB's exact search) against numpy brute force on 20k rows: exactly the right
rows, ties broken by insertion order (DuckDB's rowid), NULL bit values sorted last as
Postgres's exact search does, with and without filters, text and binary (`pgvector.Bit`)
parameters."""

from __future__ import annotations

import numpy as np
import pytest
from pgvector import Bit
from pgvector.psycopg import register_vector

N, DIM = 20_000, 256
NULL_EVERY = 97  # ids 0, 97, 194, ... hold NULL bit values
TWINS = (5, 1234, 19_999)  # copies of row 777: ties at distance 0 broken by id


@pytest.fixture(scope="module")
def bits() -> np.ndarray:
    rng = np.random.default_rng(42)
    rows = rng.integers(0, 2, size=(N, DIM), dtype=np.uint8).astype(bool)
    rows[list(TWINS)] = rows[777]
    return rows


@pytest.fixture(scope="module")
def bk(server, bits: np.ndarray):  # noqa: ANN001
    import psycopg

    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bk")
        conn.execute(f"CREATE TABLE bk (id int PRIMARY KEY, tag int, b bit({DIM}))")
        with conn.cursor() as cur, cur.copy("COPY bk (id, tag, b) FROM STDIN") as copy:
            for i, row in enumerate(bits):
                text = None if i % NULL_EVERY == 0 else "".join("1" if x else "0" for x in row)
                copy.write_row((i, i % 7, text))
        conn.execute("CREATE INDEX bk_ham ON bk USING hnsw (b bit_hamming_ops)")
        conn.execute("CREATE INDEX bk_jac ON bk USING hnsw (b bit_jaccard_ops)")
    return bits


def _distances(bits: np.ndarray, q: np.ndarray, metric: str) -> np.ndarray:
    """pgvector's hamming / jaccard distance of every row to `q` (float64; NaN for NULL)."""
    packed = np.packbits(bits, axis=1)
    qp = np.packbits(q)
    if metric == "hamming":
        d = np.bitwise_count(packed ^ qp).sum(axis=1).astype(np.float64)
    else:
        inter = np.bitwise_count(packed & qp).sum(axis=1).astype(np.float64)
        union = np.bitwise_count(packed).sum(axis=1) + np.bitwise_count(qp).sum() - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.where(inter == 0, 1.0, 1 - inter / union)
    d[::NULL_EVERY] = np.nan
    return d


def _expected(d: np.ndarray, keep: np.ndarray, k: int) -> list[int]:
    """Ids of the k nearest rows among `keep`, ties by id, NULLs (NaN) last by id."""
    ids = np.flatnonzero(keep)
    dd = d[ids]
    order = np.lexsort((ids, np.isnan(dd), np.nan_to_num(dd, nan=0.0)))
    nulls_last = order[np.argsort(np.isnan(dd[order]), kind="stable")]
    return ids[nulls_last][:k].tolist()


def _text(q: np.ndarray) -> str:
    return "".join("1" if x else "0" for x in q)


OPS = {"hamming": "<~>", "jaccard": "<%%>"}  # `%` doubled: psycopg placeholders
FILTERS = {
    "": lambda ids: np.ones(N, dtype=bool),
    "WHERE tag = 3": lambda ids: ids % 7 == 3,
    "WHERE tag < 2 AND id > 5000": lambda ids: (ids % 7 < 2) & (ids > 5000),
}


@pytest.mark.parametrize("metric", ["hamming", "jaccard"])
@pytest.mark.parametrize("where", list(FILTERS))
def test_bit_knn_matches_brute_force(conn, bk: np.ndarray, metric: str, where: str) -> None:  # noqa: ANN001
    rng = np.random.default_rng(7)
    queries = [bk[777], rng.integers(0, 2, DIM).astype(bool), bk[3]]
    keep = FILTERS[where](np.arange(N))
    for q in queries:
        d = _distances(bk, q, metric)
        for k in (1, 10, 57):
            op = OPS[metric]
            sql = f"SELECT id, b {op} %s AS d FROM bk {where} ORDER BY b {op} %s LIMIT {k}"
            rows = conn.execute(sql, (_text(q), _text(q))).fetchall()
            want = _expected(d, keep, k)
            assert [r[0] for r in rows] == want
            assert [r[1] for r in rows] == d[want].tolist()


def test_bit_knn_ties_and_twins(conn, bk: np.ndarray) -> None:  # noqa: ANN001
    q = _text(bk[777])
    rows = conn.execute("SELECT id FROM bk ORDER BY b <~> %s LIMIT 4", (q,)).fetchall()
    assert [r[0] for r in rows] == [5, 777, 1234, 19_999]
    rows = conn.execute("SELECT id FROM bk ORDER BY b <%%> %s LIMIT 4 OFFSET 1", (q,)).fetchall()
    assert [r[0] for r in rows][:3] == [777, 1234, 19_999]
    # the same query twice: the same rows in the same order (many ties around distance 128)
    sql = "SELECT id FROM bk ORDER BY b <~> %s LIMIT 500"
    other = _text(np.zeros(DIM, dtype=bool))
    first = conn.execute(sql, (other,)).fetchall()
    assert conn.execute(sql, (other,)).fetchall() == first
    assert [r[0] for r in first] == _expected(
        _distances(bk, np.zeros(DIM, bool), "hamming"), np.ones(N, bool), 500
    )


def test_bit_knn_null_values_sort_last(conn, bk: np.ndarray) -> None:  # noqa: ANN001
    q = bk[42]
    d = _distances(bk, q, "hamming")
    keep = np.arange(N) < 300  # ids 0, 97, 194, 291 are NULL
    rows = conn.execute(
        "SELECT id, b <~> %s FROM bk WHERE id < 300 ORDER BY b <~> %s LIMIT 300",
        (_text(q), _text(q)),
    ).fetchall()
    assert [r[0] for r in rows] == _expected(d, keep, 300)
    assert [r[0] for r in rows[-4:]] == [0, 97, 194, 291]
    assert [r[1] for r in rows[-4:]] == [None] * 4
    rows = conn.execute(
        "SELECT id FROM bk WHERE id < 300 ORDER BY b <~> %s LIMIT 296", (_text(q),)
    ).fetchall()
    assert not {0, 97, 194, 291} & {r[0] for r in rows}


def test_bit_knn_binary_parameter(conn, bk: np.ndarray) -> None:  # noqa: ANN001
    register_vector(conn)
    q = np.random.default_rng(11).integers(0, 2, DIM).astype(bool)
    want = _expected(_distances(bk, q, "jaccard"), np.arange(N) % 7 == 5, 20)
    for binary in (False, True):
        with conn.cursor(binary=binary) as cur:
            cur.execute("SELECT id FROM bk WHERE tag = 5 ORDER BY b <%%> %s LIMIT 20", (Bit(q),))
            assert [r[0] for r in cur.fetchall()] == want


def test_bit_knn_explain_names_the_graphless_index(conn, bk: np.ndarray) -> None:  # noqa: ANN001
    q = _text(bk[1])
    plan = [r[0] for r in conn.execute(f"EXPLAIN SELECT id FROM bk ORDER BY b <~> '{q}' LIMIT 5")]
    assert "  Index: bk_ham (bit_hamming_ops: no graph, answered by exact search in DuckDB)" in plan
    plan = [r[0] for r in conn.execute(f"EXPLAIN SELECT id FROM bk ORDER BY b <%> '{q}' LIMIT 5")]
    assert any("bk_jac (bit_jaccard_ops" in line for line in plan)
    plan = [r[0] for r in conn.execute("EXPLAIN SELECT id FROM bk ORDER BY id LIMIT 5")]
    assert not any("Index:" in line for line in plan)


def test_bit_string_constants(conn) -> None:  # noqa: ANN001
    """Postgres's B'...' and X'...' constants are bit strings (sqlglot made them an integer
    and a blob): stored, compared and measured as such."""
    conn.execute("DROP TABLE IF EXISTS bs")
    conn.execute("CREATE TABLE bs (id int, x bit(4))")
    conn.execute("INSERT INTO bs VALUES (1, B'1010'), (2, '1000'), (3, X'F')")
    rows = conn.execute("SELECT id, x::text FROM bs ORDER BY id").fetchall()
    assert rows == [(1, "1010"), (2, "1000"), (3, "1111")]
    rows = conn.execute("SELECT id, x <~> B'1111', x <%> B'1111' FROM bs ORDER BY id").fetchall()
    assert rows == [(1, 2.0, 0.5), (2, 3.0, 0.75), (3, 0.0, 0.0)]
    assert conn.execute("SELECT id FROM bs ORDER BY x <~> B'0001' LIMIT 1").fetchone() == (2,)
    assert conn.execute("SELECT X'1F'::text").fetchone() == ("00011111",)
