"""Quantized exact search with rescoring on the corpus slice: recall, options, errors."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from tests.conftest import load_corpus_table, vec_text


@pytest.fixture(scope="module")
def qt(server, corpus10k):
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        load_corpus_table(c, "cq", corpus10k)
    return corpus10k


def _recall(c, corpus, nq: int = 30) -> float:
    hits = 0
    for q in corpus.queries[:nq]:
        d = 1 - corpus.base.astype(np.float64) @ q.astype(np.float64)
        want = set(np.lexsort((np.arange(len(d)), d))[:10].tolist())
        rows = c.execute(
            "SELECT id FROM cq ORDER BY embedding <=> %s LIMIT 10", (vec_text(q),)
        ).fetchall()
        assert len(rows) == 10
        hits += len(want & {r[0] for r in rows})
    return hits / (10 * nq)


@pytest.mark.parametrize(
    "mode,oversampling,floor",
    [("int8", 2, 0.99), ("binary", 4, 0.90)],
)
def test_quantized_recall_with_rescoring(server, qt, mode, oversampling, floor):
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute(f"ALTER TABLE cq SET (quantization = '{mode}', oversampling = {oversampling})")
        plan = "\n".join(
            r[0]
            for r in c.execute(
                "EXPLAIN ANALYZE SELECT id FROM cq ORDER BY embedding <=> %s LIMIT 10",
                (vec_text(qt.queries[0]),),
            ).fetchall()
        )
        assert f"quantization={mode}" in plan and "rescored=" in plan
        assert _recall(c, qt) >= floor


def test_rescoring_matters_for_binary(server, qt):
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute("ALTER TABLE cq SET (quantization = 'binary', oversampling = 8)")
        with_rescore = _recall(c, qt, 15)
        c.execute("SET vecgres.rescore = off")
        without = _recall(c, qt, 15)
        c.execute("RESET vecgres.rescore")
        assert with_rescore > without
        c.execute("ALTER TABLE cq SET (quantization = 'none')")
        assert _recall(c, qt, 10) == 1.0


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE cq SET (quantization = 'int4')",
        "ALTER TABLE cq SET (oversampling = 0.5)",
        "ALTER TABLE cq SET (nosuch = 1)",
        "CREATE TABLE cq_bad (e vector(2)) WITH (rescore = maybe)",
    ],
)
def test_bad_options(server, qt, sql):
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            c.execute(sql)
        assert c.execute("SELECT count(*) FROM cq").fetchone() == (len(qt.base),)


def test_storage_modes_give_the_same_answers(tmp_path, corpus10k):
    from tests.conftest import start_server

    srv = start_server(tmp_path / "d")
    q = vec_text(corpus10k.queries[5])
    sql = "SELECT id FROM s ORDER BY embedding <=> %s LIMIT 10"
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            c.execute(
                "CREATE TABLE s (id int PRIMARY KEY, embedding vector(384)) "
                "WITH (storage = 'memory')"
            )
            vals = ", ".join(["(%s, %s)"] * 500)
            params = []
            for i in range(500):
                params += [i, vec_text(corpus10k.base[i])]
            c.execute(f"INSERT INTO s VALUES {vals}", params)
            in_ram = c.execute(sql, (q,)).fetchall()
            c.execute("ALTER TABLE s SET (storage = 'memmap')")
            assert c.execute(sql, (q,)).fetchall() == in_ram
            with pytest.raises(psycopg.errors.InvalidParameterValue):
                c.execute("ALTER TABLE s SET (storage = 'tape')")
    finally:
        srv.stop()
    srv = start_server(tmp_path / "d")  # reopened memory-mapped: nothing read up front
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            assert c.execute(sql, (q,)).fetchall() == in_ram
    finally:
        srv.stop()
