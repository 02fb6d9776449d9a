"""`sparsevec(n)` columns of more than 16000 dimensions (the sparse store), through psycopg.

SPLADE-like data: 500 random `sparsevec(30522)` rows of ~100 non-zeros; every kNN answer is
checked against numpy's brute force over the dense matrix, with text parameters and with
pgvector-python's binary `SparseVector`.
"""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from pgvector import SparseVector
from pgvector.psycopg import register_vector

from tests.conftest import start_server

DIM = 30522
ROWS = 500
NNZ = 100
METRICS = {"<->": "l2", "<#>": "ip", "<=>": "cosine", "<+>": "l1"}


def _random_sparse(rng: np.random.Generator, n: int) -> np.ndarray:
    """[n, DIM] float32 with ~NNZ positive non-zeros a row (SPLADE weights are >= 0)."""
    out = np.zeros((n, DIM), dtype=np.float32)
    for r in range(n):
        idx = rng.choice(DIM, size=int(rng.integers(NNZ // 2, 2 * NNZ)), replace=False)
        out[r, idx] = rng.random(len(idx), dtype=np.float32) * 3 + np.float32(0.01)
    return out


def _text(row: np.ndarray) -> str:
    idx = np.flatnonzero(row)
    return "{" + ",".join(f"{i + 1}:{float(row[i])!r}" for i in idx) + f"}}/{len(row)}"


def _parse(text: str) -> np.ndarray:
    """pgvector's sparsevec text as a dense float32 row."""
    body, dim = text.rsplit("/", 1)
    out = np.zeros(int(dim), dtype=np.float32)
    for item in filter(None, body.strip("{}").split(",")):
        i, v = item.split(":")
        out[int(i) - 1] = np.float32(v)
    return out


def _brute(op: str, data: np.ndarray, q: np.ndarray) -> np.ndarray:
    a, b = data.astype(np.float64), q.astype(np.float64)
    metric = METRICS[op]
    if metric == "l2":
        return np.sqrt(((a - b) ** 2).sum(axis=1))
    if metric == "ip":
        return -(a @ b)
    if metric == "l1":
        return np.abs(a - b).sum(axis=1)
    return 1 - (a @ b) / np.sqrt((a * a).sum(axis=1) * (b @ b))


def _top(op: str, data: np.ndarray, q: np.ndarray, k: int = 10) -> tuple[list[int], np.ndarray]:
    d = _brute(op, data, q)
    order = np.lexsort((np.arange(len(d)), d))[:k]
    return order.tolist(), d[order]


@pytest.fixture
def splade(conn: psycopg.Connection):  # noqa: ANN201
    """Table sp (id, e sparsevec(30522)) with ROWS rows loaded by COPY (text), ids 0..ROWS-1."""
    rng = np.random.default_rng(30522)
    data = _random_sparse(rng, ROWS)
    conn.execute("DROP TABLE IF EXISTS sp")
    conn.execute(f"CREATE TABLE sp (id int PRIMARY KEY, e sparsevec({DIM}))")
    with conn.cursor().copy("COPY sp (id, e) FROM STDIN") as cp:
        for i in range(ROWS):
            cp.write_row((i, _text(data[i])))
    yield data, rng
    conn.execute("DROP TABLE sp")


@pytest.mark.parametrize("op", list(METRICS))
def test_knn_text_params_match_numpy(conn: psycopg.Connection, splade, op: str) -> None:  # noqa: ANN001
    data, rng = splade
    queries = [_random_sparse(rng, 1)[0], data[17] * np.float32(0.5)]
    for q in queries:
        rows = conn.execute(
            f"SELECT id, e {op} %s::sparsevec FROM sp ORDER BY e {op} %s::sparsevec LIMIT 10",
            (_text(q), _text(q)),
        ).fetchall()
        want_ids, want_d = _top(op, data, q)
        assert [r[0] for r in rows] == want_ids
        np.testing.assert_allclose([r[1] for r in rows], want_d, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("op", list(METRICS))
def test_knn_binary_sparsevector_matches_numpy(conn: psycopg.Connection, splade, op: str) -> None:  # noqa: ANN001
    data, rng = splade
    register_vector(conn)
    q = _random_sparse(rng, 1)[0]
    cur = conn.cursor(binary=True)
    rows = cur.execute(
        f"SELECT id, e, e {op} %s AS d FROM sp ORDER BY e {op} %s LIMIT 10",
        (SparseVector(q), SparseVector(q)),
    ).fetchall()
    want_ids, want_d = _top(op, data, q)
    assert [r[0] for r in rows] == want_ids
    np.testing.assert_allclose([r[2] for r in rows], want_d, rtol=1e-5, atol=1e-5)
    for r in rows:  # the binary SparseVector result is the stored row
        assert isinstance(r[1], SparseVector) and r[1].dimensions() == DIM
        np.testing.assert_array_equal(r[1].to_numpy(), data[r[0]])


def test_filtered_knn_and_distance_in_where(conn: psycopg.Connection, splade) -> None:  # noqa: ANN001
    data, rng = splade
    q = _random_sparse(rng, 1)[0]
    rows = conn.execute(
        "SELECT id FROM sp WHERE id %% 3 = 0 ORDER BY e <-> %s LIMIT 5", (_text(q),)
    ).fetchall()
    keep = np.arange(ROWS) % 3 == 0
    d = _brute("<->", data, q)
    d[~keep] = np.inf
    assert [r[0] for r in rows] == np.argsort(d, kind="stable")[:5].tolist()
    bound = float(np.sort(_brute("<=>", data, q))[20])
    got = conn.execute(
        "SELECT count(*) FROM sp WHERE e <=> %s::sparsevec <= %s", (_text(q), bound)
    ).fetchone()
    assert got == (int((_brute("<=>", data, q) <= bound + 1e-9).sum()),)


def test_text_output_insert_update_delete_null(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS sw")
    conn.execute("CREATE TABLE sw (id int, e sparsevec(30522))")
    conn.execute("INSERT INTO sw VALUES (1, '{1:0.5,100:2}/30522'), (2, NULL)")
    conn.execute("INSERT INTO sw VALUES (3, %s)", ("{30522:-1.25}/30522",))
    assert conn.execute("SELECT id, e FROM sw ORDER BY id").fetchall() == [
        (1, "{1:0.5,100:2}/30522"),
        (2, None),
        (3, "{30522:-1.25}/30522"),
    ]
    conn.execute("UPDATE sw SET e = '{7:7}/30522' WHERE id = 2")
    conn.execute("UPDATE sw SET e = NULL WHERE id = 3")
    conn.execute("DELETE FROM sw WHERE id = 1")
    assert conn.execute("SELECT id, e::text FROM sw ORDER BY id").fetchall() == [
        (2, "{7:7}/30522"),
        (3, None),
    ]
    assert conn.execute("SELECT id FROM sw ORDER BY e <-> '{7:6}/30522' LIMIT 1").fetchall() == [
        (2,)
    ]
    conn.execute("DROP TABLE sw")


def test_binary_insert_and_result(conn: psycopg.Connection) -> None:
    register_vector(conn)
    conn.execute("DROP TABLE IF EXISTS sb")
    conn.execute("CREATE TABLE sb (id int, e sparsevec(30522))")
    v = SparseVector({0: 1.5, 30521: -2.0}, DIM)
    conn.cursor(binary=True).execute("INSERT INTO sb VALUES (1, %s)", (v,))
    (got,) = conn.cursor(binary=True).execute("SELECT e FROM sb").fetchone()
    assert got.dimensions() == DIM and got.indices() == [0, 30521]
    assert got.values() == [1.5, -2.0]
    assert conn.execute("SELECT e::text FROM sb").fetchone() == ("{1:1.5,30522:-2}/30522",)
    conn.execute("DROP TABLE sb")


def test_copy_text_and_binary_both_ways(conn: psycopg.Connection) -> None:
    register_vector(conn)
    conn.execute("DROP TABLE IF EXISTS sc")
    conn.execute("CREATE TABLE sc (id int, e sparsevec(30522))")
    with conn.cursor().copy("COPY sc (id, e) FROM STDIN") as cp:
        cp.write_row((1, "{9:9}/30522"))
        cp.write_row((2, None))
    with conn.cursor().copy("COPY sc (id, e) FROM STDIN WITH (FORMAT binary)") as cp:
        cp.set_types(["int4", "sparsevec"])
        cp.write_row((3, SparseVector({10: 10}, DIM)))
    with conn.cursor().copy("COPY sc TO STDOUT") as cp:
        text = b"".join(bytes(b) for b in cp).decode()
    assert text == "1\t{9:9}/30522\n2\t\\N\n3\t{11:10}/30522\n"
    with conn.cursor().copy("COPY sc TO STDOUT WITH (FORMAT binary)") as cp:
        cp.set_types(["int4", "sparsevec"])
        rows = list(cp.rows())
    assert [r[0] for r in rows] == [1, 2, 3]
    assert rows[1][1] is None and rows[2][1].indices() == [10]
    with pytest.raises(psycopg.errors.DataException, match="expected 30522 dimensions, not 5"):
        with conn.cursor().copy("COPY sc (id, e) FROM STDIN") as cp:
            cp.write_row((4, "{1:1}/5"))
    conn.execute("DROP TABLE sc")


def test_errors_carry_pgvector_texts(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS se")
    conn.execute("CREATE TABLE se (id int, e sparsevec(30522))")
    conn.execute("INSERT INTO se VALUES (1, '{1:1}/30522')")
    cases = [
        ("INSERT INTO se VALUES (2, '{1:1}/100')", "22000", "expected 30522 dimensions, not 100"),
        (
            "SELECT e <-> '{1:1}/100' FROM se",
            "22000",
            "different sparsevec dimensions 30522 and 100",
        ),
        (
            "SELECT id FROM se ORDER BY e <#> '{1:1}/100' LIMIT 1",
            "22000",
            "different sparsevec dimensions 30522 and 100",
        ),
        (
            "SELECT '{1:1}/30522'::sparsevec <=> '{1:1}/100'::sparsevec",
            "22000",
            "different sparsevec dimensions 30522 and 100",
        ),
        (
            "SELECT '{" + ",".join(f"{i}:1" for i in range(1, 16002)) + "}/30522'::sparsevec",
            "54000",
            "sparsevec cannot have more than 16000 non-zero elements",
        ),
        ("SELECT e::vector FROM se", "54000", "vector cannot have more than 16000 dimensions"),
        (
            "CREATE TABLE se2 (e sparsevec(1000000001))",
            "22023",
            "dimensions for type sparsevec cannot exceed 1000000000",
        ),
    ]
    for sql, state, text in cases:
        with pytest.raises(psycopg.Error) as info:
            conn.execute(sql)
        assert info.value.sqlstate == state, sql[:60]
        assert info.value.diag.message_primary == text
    conn.execute("DROP TABLE se")


def test_functions_and_casts(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS sf")
    conn.execute("CREATE TABLE sf (id int, e sparsevec(30522))")
    conn.execute("INSERT INTO sf VALUES (1, '{1:3,100:4}/30522'), (2, '{2:1}/30522')")
    rows = conn.execute(
        "SELECT id, l2_norm(e), l2_normalize(e), l2_distance(e, '{1:3}/30522'), "
        "inner_product(e, '{100:2}/30522'), cosine_distance(e, '{100:2}/30522'), "
        "l1_distance(e, '{1:1}/30522') FROM sf ORDER BY id"
    ).fetchall()
    assert rows[0][:3] == (1, 5.0, "{1:0.6,100:0.8}/30522")
    assert rows[0][3:] == pytest.approx((4.0, 8.0, 0.2, 6.0))
    assert rows[1][1:3] == (1.0, "{2:1}/30522")
    assert rows[1][3:] == pytest.approx((np.sqrt(10), 0.0, 1.0, 2.0))
    one = conn.execute(
        "SELECT '{1:3}/30522'::sparsevec <-> '{2:4}/30522'::sparsevec, "
        "l2_norm('{1:3,2:4}/30522'::sparsevec)"
    ).fetchone()
    assert one is not None and float(one[0]) == 5.0 and one[1] == 5.0
    assert conn.execute("SELECT '[1,0,2]'::vector::sparsevec").fetchone() == ("{1:1,3:2}/3",)
    pair = conn.execute("SELECT a.e <-> b.e FROM sf a, sf b WHERE a.id = 1 AND b.id = 2")
    assert pair.fetchone() == pytest.approx((np.sqrt(9 + 16 + 1),))
    conn.execute("DROP TABLE sf")


def test_hnsw_index_is_answered_exactly(conn: psycopg.Connection, splade) -> None:  # noqa: ANN001
    data, rng = splade
    conn.execute("CREATE INDEX sp_hnsw ON sp USING hnsw (e sparsevec_l2_ops)")
    q = _random_sparse(rng, 1)[0]
    sql = "SELECT id FROM sp ORDER BY e <-> %s LIMIT 10"
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, (_text(q),)).fetchall())
    assert "strategy=exact" in plan
    assert "Index: sp_hnsw (sparsevec_l2_ops: no graph, answered by exact search" in plan
    rows = conn.execute(sql, (_text(q),)).fetchall()
    assert [r[0] for r in rows] == _top("<->", data, q)[0]
    listed = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'sp'").fetchall()
    assert ("sp_hnsw",) in listed


def test_billion_dimensions(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS sg")
    conn.execute("CREATE TABLE sg (id int, e sparsevec(1000000000))")
    conn.execute(
        "INSERT INTO sg VALUES (1, '{1:1,1000000000:2}/1000000000'), (2, '{5:1}/1000000000')"
    )
    rows = conn.execute(
        "SELECT id, e, e <-> '{1000000000:2}/1000000000' FROM sg "
        "ORDER BY e <-> '{1000000000:2}/1000000000' LIMIT 2"
    ).fetchall()
    assert rows == [(1, "{1:1,1000000000:2}/1000000000", 1.0), (2, "{5:1}/1000000000", np.sqrt(5))]
    conn.execute("DROP TABLE sg")


def test_restart_keeps_rows(fresh_server) -> None:  # noqa: ANN001
    rng = np.random.default_rng(1)
    data = _random_sparse(rng, 40)
    with psycopg.connect(fresh_server.dsn(), autocommit=True) as c:
        c.execute(f"CREATE TABLE sr (id int, e sparsevec({DIM}))")
        for i in range(40):
            c.execute("INSERT INTO sr VALUES (%s, %s)", (i, _text(data[i])))
        c.execute("UPDATE sr SET e = NULL WHERE id = 5")
    assert fresh_server.stop() == 0
    srv = start_server(fresh_server.data_dir)
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            got = dict(c.execute("SELECT id, e FROM sr").fetchall())
            assert got[5] is None
            for i in range(40):
                if i != 5:
                    np.testing.assert_array_equal(_parse(got[i]), data[i])
            q = data[9]
            rows = c.execute("SELECT id FROM sr ORDER BY e <=> %s LIMIT 3", (_text(q),)).fetchall()
            d = _brute("<=>", data, q)
            d[5] = np.inf
            assert [r[0] for r in rows] == np.argsort(d, kind="stable")[:3].tolist()
    finally:
        srv.stop()
