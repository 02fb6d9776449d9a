"""Distance kernels and exact top-k: the numpy hot loops of exact search.

Owns: pgvector's four vector distances over a float32 matrix and one query
(`l2` = `<->`, `cosine` = `<=>`, `ip` = `<#>` (negative inner product), `l1` = `<+>`), computed
the way a numpy user would (BLAS matrix-vector products for cosine and ip, exact differences
for l2 and l1, accumulated in float32, returned as float64 like pgvector's float8 results),
and `topk`, which keeps the k smallest plus every row tied with the k-th so that a later
ORDER BY on more keys (and the final tie-break on row id) sees all candidates.

Must not: know about tables, SQL or storage layout.
"""

from __future__ import annotations

import numpy as np

METRICS = ("l2", "cosine", "ip", "l1")
_CHUNK = 8192


def distances(metric: str, matrix: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Distances from each row of `matrix` ([n, d] float32) to `q` ([d]) as float64."""
    q = np.asarray(q, dtype=np.float32)
    if metric == "ip":
        return -(matrix @ q).astype(np.float64)
    if metric == "cosine":
        dots = (matrix @ q).astype(np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float32).astype(np.float64))
        qn = float(np.sqrt(np.float64(np.dot(q, q))))
        with np.errstate(divide="ignore", invalid="ignore"):
            sim = dots / (norms * qn)
        # pgvector clamps the similarity into [-1, 1] before 1 - sim
        return 1.0 - np.clip(sim, -1.0, 1.0)
    if metric in ("l2", "l1"):
        out = np.empty(len(matrix), dtype=np.float64)
        for start in range(0, len(matrix), _CHUNK):
            diff = matrix[start : start + _CHUNK] - q
            if metric == "l2":
                out[start : start + _CHUNK] = np.sqrt(
                    np.einsum("ij,ij->i", diff, diff, dtype=np.float32).astype(np.float64)
                )
            else:
                out[start : start + _CHUNK] = np.abs(diff).sum(axis=1, dtype=np.float32)
        return out
    raise ValueError(f"unknown metric {metric!r}")


def distance_pair(metric: str, a: np.ndarray, b: np.ndarray) -> float:
    """One distance between two vectors (constant folding of `'[..]' <-> '[..]'`)."""
    return float(distances(metric, np.asarray(a, dtype=np.float32)[None, :], b)[0])


def topk(dist: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest distances (NaN last) and every row tied with the k-th, by (dist, id)."""
    n = len(dist)
    if n == 0 or k <= 0:
        return ids[:0], dist[:0]
    if k < n:
        part = np.argpartition(dist, k - 1)[:k]
        bound = dist[part].max()
        if np.isnan(bound):
            sel = np.arange(n)
        else:
            sel = np.flatnonzero(dist <= bound)
    else:
        sel = np.arange(n)
    order = np.lexsort((ids[sel], dist[sel]))
    sel = sel[order]
    return ids[sel], dist[sel]
