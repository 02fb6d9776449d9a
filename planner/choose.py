"""Choosing a kNN strategy per query: pre-filter exact scan, HNSW with post-filtering,
HNSW with per-node filtering, or plain HNSW — by estimated cost.

Owns: `choose()`, which sees the number of rows the filter keeps (exact: the filter has
already run in DuckDB, which is the payload index), the live row count, whether an HNSW index
matches, the forced strategy (`vecgres.knn_strategy`, `enable_indexscan`), and returns the
strategy with every candidate's cost for EXPLAIN.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from planner import cost


@dataclass(frozen=True)
class Choice:
    strategy: str  # "exact" | "prefilter" | "hnsw" | "hnsw_postfilter" | "hnsw_filter"
    cost: float
    ef: int = 0
    k_prime: int = 0
    costs: dict[str, float] = field(default_factory=dict)
    reason: str = ""


@functools.lru_cache(maxsize=4096)
def choose(
    *,
    k: int,
    matching: int,
    live: int,
    dim: int,
    has_index: bool,
    filtered: bool,
    ef_search: int,
    forced: str = "auto",
    enable_indexscan: bool = True,
    segments: int = 1,
) -> Choice:
    """The cheapest strategy; graph searches cost once per segment (`segments` graphs).

    A pure function of its arguments, memoised: a repeated query shape (the same counts)
    gets the same `Choice` object back, which callers must not modify."""
    sel = matching / live if live else 0.0
    exact = cost.exact_cost(matching, dim, live)
    costs: dict[str, float] = {"prefilter" if filtered else "exact": exact}
    ef = cost.effective_ef(ef_search, k)
    if not has_index or not enable_indexscan or forced == "exact":
        why = (
            "no HNSW index for this column and operator"
            if not has_index
            else "index scans disabled"
            if not enable_indexscan
            else "forced"
        )
        return Choice("exact", exact, costs=costs, reason=why)
    n = max(1, segments)
    if not filtered:
        costs["hnsw"] = n * cost.hnsw_cost(ef, dim)
    else:
        pc, kp = cost.postfilter_cost(k, sel, ef_search, dim)
        costs["hnsw_postfilter"] = n * pc
        costs["hnsw_filter"] = n * cost.filtered_traversal_cost(k, sel, ef_search, dim)
    if forced == "prefilter":
        return Choice("prefilter", exact, costs=costs, reason="forced")
    if forced == "hnsw":
        strat = "hnsw" if not filtered else "hnsw_filter"
        return Choice(strat, costs[strat], ef=ef, costs=costs, reason="forced")
    if forced == "hnsw_postfilter":
        if not filtered:
            return Choice("hnsw", costs["hnsw"], ef=ef, costs=costs, reason="forced")
        kp = cost.postfilter_k(k, sel)
        return Choice(
            "hnsw_postfilter",
            costs["hnsw_postfilter"],
            ef=cost.postfilter_ef(k, sel, ef_search),
            k_prime=kp,
            costs=costs,
            reason="forced",
        )
    best = min(costs, key=lambda s: costs[s])
    kp = cost.postfilter_k(k, sel) if best == "hnsw_postfilter" else 0
    ef_used = (
        cost.postfilter_ef(k, sel, ef_search) if kp else (ef if best.startswith("hnsw") else 0)
    )
    strategy = "prefilter" if best in ("prefilter", "exact") and filtered else best
    return Choice(strategy, costs[best], ef=ef_used, k_prime=kp, costs=costs, reason="cheapest")
