"""`engine.sparse`: CSR distances against numpy, and the sparse store's file (reopen, torn tail)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.errors import DataException
from engine.sparse import SparseStore, as_sparse, sparse_pair

DIM = 40000


def _rows(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros((n, DIM), dtype=np.float32)
    for r in range(1, n):  # row 0 stays all zeros
        idx = rng.choice(DIM, size=30, replace=False)
        out[r, idx] = rng.normal(size=30).astype(np.float32)
    return out


def _numpy(metric: str, a: np.ndarray, q: np.ndarray) -> np.ndarray:
    a, q = a.astype(np.float64), q.astype(np.float64)
    if metric == "l2":
        return np.sqrt(((a - q) ** 2).sum(axis=1))
    if metric == "l1":
        return np.abs(a - q).sum(axis=1)
    if metric == "ip":
        return -(a @ q)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1 - (a @ q) / np.sqrt((a * a).sum(axis=1) * (q @ q))


@pytest.mark.parametrize("metric", ["l2", "l1", "ip", "cosine"])
def test_distances_match_numpy(tmp_path: Path, metric: str) -> None:
    data = _rows(60, 1)
    q = data[5].copy()
    q[np.flatnonzero(data[9])[:10]] = 2.0  # shares some indices with row 9
    store = SparseStore(tmp_path / "s", DIM)
    store.append([as_sparse(r) for r in data])
    slots, d = store.score_all(metric, as_sparse(q))
    want = _numpy(metric, data, q)
    assert slots.tolist() == list(range(60))
    np.testing.assert_allclose(d, want, rtol=1e-6, atol=1e-6)
    if metric == "cosine":
        assert np.isnan(d[0])  # a zero norm: NaN, as pgvector
    if metric in ("l2", "l1"):
        assert d[5] != 0 and store.score(metric, as_sparse(data[7]), np.array([7]))[0] == 0.0
    picked = np.array([9, 2, 5])
    np.testing.assert_allclose(store.score(metric, as_sparse(q), picked), want[picked], rtol=1e-6)


def test_reopen_and_torn_tail(tmp_path: Path) -> None:
    data = _rows(10, 2)
    store = SparseStore(tmp_path / "s", DIM)
    assert store.append([as_sparse(r) for r in data]).tolist() == list(range(10))
    store.sync()
    store.close()
    with open(tmp_path / "s" / "sparse.rows", "ab") as f:
        f.write(np.array([30, 1, 2], dtype="<i4").tobytes())  # a record cut mid-write
    again = SparseStore(tmp_path / "s", DIM)
    assert len(again) == 10
    np.testing.assert_array_equal(again.take_dense(np.arange(10)), data)
    assert again.append([as_sparse(data[3])]).tolist() == [10]
    assert again.take([10])[0].indices.tolist() == np.flatnonzero(data[3]).tolist()
    again.close()


def test_dimension_errors(tmp_path: Path) -> None:
    store = SparseStore(None, DIM)
    with pytest.raises(DataException, match="expected 40000 dimensions, not 5"):
        store.append([as_sparse(np.ones(5, np.float32))])
    with pytest.raises(DataException, match="different sparsevec dimensions 40000 and 5"):
        store.score_all("l2", as_sparse(np.ones(5, np.float32)))
    a, b = as_sparse(np.array([3, 0], np.float32)), as_sparse(np.array([0, 4], np.float32))
    assert sparse_pair("l2", a, b) == 5.0 and sparse_pair("ip", a, b) == 0.0
