"""A cached kNN plan's hot path (planner.hot_knn): the same rows as the general path, and
never a stale answer after writes, other sessions' open transactions or ties."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import sqlfront
from sqlfront.dbapi import Connection

DIM = 16
ROWS = 1500
SQL = "SELECT id, tag FROM t ORDER BY e <-> %s LIMIT 5"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A closed data dir with the table and its index (copied for each test)."""
    path = tmp_path_factory.mktemp("hot") / "db"
    base = np.random.default_rng(7).standard_normal((ROWS, DIM)).astype(np.float32)
    con = sqlfront.connect(path, autocommit=True)
    cur = con.cursor()
    cur.execute(f"CREATE TABLE t (id int PRIMARY KEY, tag text, e vector({DIM}))")
    cur.execute("BEGIN")  # one commit (one fsync) for the load
    cur.executemany(
        "INSERT INTO t VALUES (%s, %s, %s)",
        [(i, f"tag{i}", base[i]) for i in range(ROWS)],
    )
    cur.execute("COMMIT")
    cur.execute("CREATE INDEX ON t USING hnsw (e vector_l2_ops)")
    con.close()
    return path, base


@pytest.fixture
def db(template, tmp_path):
    path, base = template
    shutil.copytree(path, tmp_path / "db")
    con = sqlfront.connect(tmp_path / "db", autocommit=True)
    con.cursor().execute("SET vecgres.knn_strategy = 'hnsw'")  # else so few rows go exact
    yield con, base, np.random.default_rng(11)
    con.close()


def _hot_plans(con) -> int:  # noqa: ANN001
    return sum(p.hot is not None for p in con.session._plan_cache.values())


def _general(con, q):  # noqa: ANN001, ANN202
    """The same query through the general path (a transaction block has no hot path)."""
    cur = con.cursor()
    cur.execute("BEGIN")
    rows = cur.execute(SQL, [q]).fetchall()
    cur.execute("COMMIT")
    return rows


def _exact(base: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int = 5) -> list[int]:
    d = np.linalg.norm(base - q, axis=1)
    order = np.lexsort((ids, d))[:k]
    return [int(ids[i]) for i in order]


def test_repeated_queries_take_the_hot_path_with_the_general_paths_rows(db):
    con, base, rng = db
    cur = con.cursor()
    queries = rng.standard_normal((30, DIM)).astype(np.float32)
    hot = [cur.execute(SQL, [q]).fetchall() for q in queries]
    assert _hot_plans(con) == 1
    for q, rows in zip(queries, hot, strict=True):
        assert rows == _general(con, q)
        assert [r[1] for r in rows] == [f"tag{r[0]}" for r in rows]
    ids = np.arange(ROWS)
    hits = sum(
        len(set(r[0] for r in rows) & set(_exact(base, ids, q)))
        for q, rows in zip(queries, hot, strict=True)
    )
    assert hits / (5 * len(queries)) >= 0.95


def test_committed_writes_are_seen_by_the_next_execution(db):
    con, base, rng = db
    cur = con.cursor()
    q = rng.standard_normal(DIM).astype(np.float32)

    def run(hot: bool = True) -> list[tuple]:
        rows = cur.execute(SQL, [q]).fetchall()
        rows_again = cur.execute(SQL, [q]).fetchall()  # the hot path, compiled anew
        assert _hot_plans(con) == int(hot)
        assert rows_again == rows
        return rows

    before = run()
    top = before[0][0]
    # writes that leave the graph covering every row: only the table's version tells
    cur.execute("UPDATE t SET tag = 'renamed' WHERE id = %s", (top,))
    assert run()[0] == (top, "renamed")
    # a deleted row, an appended row the graph does not hold yet: the general path
    cur.execute("DELETE FROM t WHERE id = %s", (before[1][0],))
    assert [r[0] for r in run(hot=False)][:4] == [top] + [r[0] for r in before[2:]]
    cur.execute("INSERT INTO t VALUES (%s, 'new', %s)", (ROWS, q))
    assert run(hot=False)[0] == (ROWS, "new")
    cur.execute("UPDATE t SET e = %s WHERE id = %s", (-q, ROWS))
    after = run(hot=False)
    assert ROWS not in [r[0] for r in after]
    assert after == _general(con, q)


def test_another_sessions_open_transaction_stays_invisible(db):
    con, base, rng = db
    cur = con.cursor()
    q = rng.standard_normal(DIM).astype(np.float32)
    before = cur.execute(SQL, [q]).fetchall()
    cur.execute(SQL, [q]).fetchall()
    assert _hot_plans(con) == 1
    other = Connection(con._cluster, con.session.db, autocommit=False)  # a second session
    ocur = other.cursor()
    ocur.execute("INSERT INTO t VALUES (%s, 'uncommitted', %s)", (ROWS + 1, q))
    assert cur.execute(SQL, [q]).fetchall() == before
    other.commit()
    assert cur.execute(SQL, [q]).fetchall()[0] == (ROWS + 1, "uncommitted")
    other.close()


def test_tied_distances_are_ordered_by_the_general_path(db):
    con, base, rng = db
    cur = con.cursor()
    twin = base[3].copy()
    twins = list(range(ROWS, ROWS + 6))
    cur.executemany("INSERT INTO t VALUES (%s, 'twin', %s)", [(i, twin) for i in twins])
    cur.execute("REINDEX TABLE t")  # the twins in the graph: the hot path applies
    q = rng.standard_normal(DIM).astype(np.float32)
    cur.execute(SQL, [q]).fetchall()
    cur.execute(SQL, [q]).fetchall()
    assert _hot_plans(con) == 1
    for _ in range(3):
        rows = cur.execute(SQL, [twin]).fetchall()
        # seven rows at distance 0, of which the graph search finds five (any five): the
        # general path orders them by slot (here: by id), whatever order hnswlib gave
        ids = [r[0] for r in rows]
        assert ids == sorted(ids) and set(ids) <= {3, *twins}
        assert rows == _general(con, twin)


def test_a_query_showing_the_distance_gets_exact_distances(db):
    con, base, rng = db
    cur = con.cursor()
    sql = "SELECT id, e <-> %s AS d FROM t ORDER BY d LIMIT 3"
    for _ in range(4):
        q = rng.standard_normal(DIM).astype(np.float32)
        rows = cur.execute(sql, [q]).fetchall()
        for rid, d in rows:
            assert d == pytest.approx(float(np.linalg.norm(base[rid] - q)), rel=1e-6)
        assert [r[1] for r in rows] == sorted(r[1] for r in rows)
