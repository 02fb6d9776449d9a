"""Distance kernels (engine.distance) against a float64 reference."""

from __future__ import annotations

import numpy as np
import pytest

from engine.distance import distances, topk
from engine.errors import DataException


def f32(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=np.float32)


# --------------------------------------------------------------------------------------------
# distances


def _reference(metric: str, m: np.ndarray, q: np.ndarray) -> np.ndarray:
    m64, q64 = m.astype(np.float64), q.astype(np.float64)
    if metric == "l2":
        return np.sqrt(((m64 - q64) ** 2).sum(axis=1))
    if metric == "ip":
        return -(m64 @ q64)
    if metric == "l1":
        return np.abs(m64 - q64).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = (m64 @ q64) / np.sqrt((m64 * m64).sum(axis=1) * (q64 @ q64))
    return 1 - np.clip(sim, -1, 1)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(6)
    m = rng.standard_normal((10000, 64)).astype(np.float32)
    q = rng.standard_normal(64).astype(np.float32)
    m[17] = q  # an exact duplicate of the query
    m[18] = q + np.float32(1e-3)  # a near duplicate
    return m, q


@pytest.mark.parametrize("metric", ["l2", "cosine", "ip", "l1"])
def test_distances_match_float64_reference(
    metric: str, data: tuple[np.ndarray, np.ndarray]
) -> None:
    m, q = data
    got = distances(metric, m, q)
    ref = _reference(metric, m, q)
    assert got.dtype == np.float64 and got.shape == (len(m),)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("metric", ["l2", "cosine", "ip", "l1"])
def test_distance_ordering_on_10k(metric: str, data: tuple[np.ndarray, np.ndarray]) -> None:
    m, q = data
    got = distances(metric, m, q)
    ref = _reference(metric, m, q)
    order = np.argsort(got, kind="stable")
    # sorted by our distances, the exact distances never go down by more than rounding
    assert np.all(np.diff(ref[order]) >= -1e-5 * np.maximum(1.0, np.abs(ref[order][1:])))
    assert list(order[:10]) == list(np.argsort(ref, kind="stable")[:10])


def test_l2_fast_path_with_cached_norms(data: tuple[np.ndarray, np.ndarray]) -> None:
    m, q = data
    sq = np.einsum("ij,ij->i", m, m)
    fast = distances("l2", m, q, sq_norms=sq)
    exact = distances("l2", m, q)
    np.testing.assert_allclose(fast, _reference("l2", m, q), rtol=1e-5, atol=1e-5)
    # rows near the query are recomputed by differences: identical to the exact path
    assert fast[17] == 0.0 == exact[17]
    assert fast[18] == exact[18]
    assert int(np.argmin(fast)) == 17
    cos = distances("cosine", m, q, sq_norms=sq)
    np.testing.assert_allclose(cos, distances("cosine", m, q), rtol=1e-6, atol=1e-6)


def test_distance_special_cases() -> None:
    m = f32(0, 0, 0, 1, 2, 3).reshape(2, 3)
    q = f32(1, 2, 3)
    cos = distances("cosine", m, q)
    assert np.isnan(cos[0])  # pgvector: zero norm -> NaN
    assert abs(cos[1]) < 1e-7
    assert np.isnan(distances("cosine", f32(1, 2, 3).reshape(1, 3), f32(0, 0, 0))[0])
    assert distances("ip", m, q).tolist() == [-0.0, -14.0]
    assert distances("l1", m, q).tolist() == [6.0, 0.0]
    assert distances("l2", m, q)[0] == pytest.approx(np.sqrt(14))
    assert distances("cosine", f32(1, 0).reshape(1, 2), f32(-1, 0)).tolist() == [2.0]
    assert distances("l2", np.zeros((0, 3), np.float32), q).shape == (0,)
    with pytest.raises(DataException) as ei:
        distances("l2", m, f32(1, 2))
    assert ei.value.message == "different vector dimensions 3 and 2"
    with pytest.raises(ValueError):
        distances("hamming", m, q)


def test_topk_keeps_ties_and_orders_by_id():
    d = np.array([0.5, 0.1, 0.5, 0.3, 0.5, np.nan])
    ids = np.array([10, 11, 12, 13, 14, 15])
    got_ids, got_d = topk(d, ids, 3)
    assert got_ids.tolist() == [11, 13, 10, 12, 14]  # every row tied with the 3rd is kept
    assert got_d.tolist() == [0.1, 0.3, 0.5, 0.5, 0.5]
    got_ids, _ = topk(d, ids, 10)
    assert got_ids.tolist() == [11, 13, 10, 12, 14, 15]  # NaN sorts last
