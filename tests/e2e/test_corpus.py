"""Exact search on a 10k slice of the shared corpus equals numpy brute force, with filters."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from tests.conftest import load_corpus_table, vec_text

K = 10
NQ = 25


@pytest.fixture(scope="module")
def corpus(server, corpus10k):
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        load_corpus_table(c, "corpus", corpus10k)
        assert c.execute("SELECT count(*) FROM corpus").fetchone() == (len(corpus10k.base),)
    return corpus10k.base, corpus10k.queries[:NQ], corpus10k.tenant, corpus10k.category


def _reference(metric: str, base: np.ndarray, q: np.ndarray) -> np.ndarray:
    b = base.astype(np.float64)
    qq = q.astype(np.float64)
    if metric == "<->":
        return np.linalg.norm(b - qq, axis=1)
    if metric == "<=>":
        return 1 - (b @ qq) / (np.linalg.norm(b, axis=1) * np.linalg.norm(qq))
    if metric == "<#>":
        return -(b @ qq)
    return np.abs(b - qq).sum(axis=1)


FILTERS = [
    ("", lambda t, c: np.ones(len(t), bool)),
    ("WHERE tenant_id < 100", lambda t, c: t < 100),
    ("WHERE category = 'python-docs'", lambda t, c: c == "python-docs"),
    ("WHERE tenant_id = 7", lambda t, c: t == 7),
]


@pytest.mark.parametrize("op", ["<->", "<=>", "<#>", "<+>"])
@pytest.mark.parametrize("fi", range(len(FILTERS)))
def test_exact_knn_matches_numpy(server, corpus, op, fi):
    base, queries, tenant, category = corpus
    where, mask_fn = FILTERS[fi]
    mask = mask_fn(tenant, category)
    ids = np.flatnonzero(mask)
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        for qi in range(0, NQ, 5):
            q = queries[qi]
            rows = c.execute(
                f"SELECT id, embedding {op} %s AS d FROM corpus {where} "
                f"ORDER BY embedding {op} %s LIMIT {K}",
                (vec_text(q), vec_text(q)),
            ).fetchall()
            d = _reference(op, base[ids], q)
            order = np.lexsort((ids, d))[:K]
            want_ids = ids[order].tolist()
            want_d = d[order]
            got_ids = [r[0] for r in rows]
            got_d = np.array([r[1] for r in rows])
            assert len(rows) == min(K, len(ids))
            np.testing.assert_allclose(got_d, want_d, rtol=1e-5, atol=1e-5)
            if got_ids != want_ids:  # only float32-vs-float64 near-ties may swap
                true_d = _reference(op, base[got_ids], q)
                np.testing.assert_allclose(np.sort(true_d), want_d, rtol=1e-5, atol=1e-5)
            assert all(mask[i] for i in got_ids)
