"""Cost model for kNN strategies, in microseconds per query per segment.

Owns: the constants (measured by `bench/calibrate.py` on this kind of machine — 2 cores,
corpus100k, 384 dims; rerun it and paste its output here when the kernels change) and the
cost formulas the chooser compares:

- exact over m vectors (pre-filter, or no index):  EXACT_FIXED + EXACT_PER_VECTOR * m * dim/384
- HNSW search at a given ef:                          HNSW_FIXED + HNSW_PER_EF * ef
- HNSW with post-filtering at selectivity s: an unfiltered search for k' = k/s * margin
  candidates (ef = max(ef_search, k')), then rescoring the k' candidates exactly
- HNSW with hnswlib's per-node filter callback: the traversal visits ~k/s nodes, each a
  Python callback: FILTER_FIXED + FILTER_PER_VISIT * (ef / s)
"""

from __future__ import annotations

import math

# Measured by bench/calibrate.py (medians over different queries, 2 cores, 384 dims).
EXACT_FIXED = 10.0
EXACT_PER_VECTOR = 0.33  # gathered in chunks; scoring all rows in place costs 0.165/row
EXACT_IN_PLACE_PER_ROW = 0.165
HNSW_FIXED = 53.0
HNSW_PER_EF = 2.45
FILTER_FIXED = 193.0
FILTER_PER_VISIT = 2.1
POSTFILTER_MARGIN = 2.0
# ef above hnsw.ef_search by this factor: hnswlib at ef 40 reaches recall@10 0.947 on the
# corpus, at 64 about 0.965 (bench/wire_qps.py); we promise >= 0.95 with default settings
EF_RECALL_FACTOR = 1.6
MAX_POSTFILTER_K = 4000
MAX_POSTFILTER_EF = 2000


def effective_ef(ef_search: int, k: int) -> int:
    return max(int(math.ceil(ef_search * EF_RECALL_FACTOR)), k)


def exact_cost(m: int, dim: int, total: int | None = None) -> float:
    per = EXACT_PER_VECTOR * m
    if total is not None:
        per = min(per, EXACT_IN_PLACE_PER_ROW * total)
    return EXACT_FIXED + per * dim / 384.0


def hnsw_cost(ef: int, dim: int) -> float:
    return HNSW_FIXED + HNSW_PER_EF * ef * dim / 384.0


def postfilter_k(k: int, selectivity: float) -> int:
    s = max(selectivity, 1e-9)
    return int(math.ceil(k / s * POSTFILTER_MARGIN)) + k


def postfilter_ef(k: int, selectivity: float, ef_search: int) -> int:
    """ef for a post-filtered search: deep enough that the matching fraction of the visited
    candidates is itself an ef_search-quality list."""
    s = max(selectivity, 1e-9)
    ef = max(postfilter_k(k, s), int(math.ceil(effective_ef(ef_search, k) / s)))
    return min(ef, MAX_POSTFILTER_EF)


def postfilter_cost(k: int, selectivity: float, ef_search: int, dim: int) -> tuple[float, int]:
    kp = postfilter_k(k, selectivity)
    if kp > MAX_POSTFILTER_K:
        return math.inf, kp
    ef = postfilter_ef(k, selectivity, ef_search)
    return hnsw_cost(ef, dim) + EXACT_PER_VECTOR * kp * dim / 384.0, kp


def filtered_traversal_cost(k: int, selectivity: float, ef_search: int, dim: int) -> float:
    s = max(selectivity, 1e-9)
    ef = effective_ef(ef_search, k)
    return FILTER_FIXED + FILTER_PER_VISIT * ef / s + hnsw_cost(ef, dim)
