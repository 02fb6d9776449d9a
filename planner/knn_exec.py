"""Running a `KnnScan` with the strategy `planner.choose` picked.

Owns: the per-strategy steps — exact over the matching slots; HNSW (plain, post-filtered with
deepening, or with hnswlib's per-node filter) over the indexed slots plus an exact scan of the
growing tail; exact rescoring of every candidate; and the guarantee that a scan returns
`min(k, matching)` rows: a traversal that comes up short deepens, then falls back to exact.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb
import numpy as np

from engine.database import Database
from engine.distance import topk
from engine.hnsw import TAIL_EXTEND_ROWS, HnswIndex, SearchStats, SegmentGraph
from engine.knn import KnnStats, exact_knn, filtered_slots, quantized_topk, score
from engine.vector_store import VectorStore
from planner import cost
from planner.choose import Choice, choose
from planner.plan import KnnScan


@dataclass
class PreparedKnn:
    store: VectorStore
    live: np.ndarray
    matching: np.ndarray
    index: HnswIndex | None
    choice: Choice


def plan_knn(db: Database, cur: duckdb.DuckDBPyConnection, scan: KnnScan) -> PreparedKnn | None:
    """Run the filter, count, and choose a strategy (fills the scan's EXPLAIN fields).

    None when fewer than k non-NULL vectors match (the caller then runs the general plan).
    """
    store = db.store_by_id(scan.store_id)
    live = db.live_slots(cur, scan.table, scan.column, scan.store_id, scan.cacheable)
    if scan.filter_sql:
        matching = np.sort(
            filtered_slots(cur, scan.table, scan.column, scan.store_id, scan.filter_sql)
        )
    else:
        matching = live
    if len(matching) < scan.k:
        return None
    index = db.hnsw(scan.index, store.dim) if scan.index is not None else None
    segs = store.segments
    scan.segments = sum(1 for s in segs if s.count) if len(segs) != 1 else int(segs[0].count > 0)
    if index is not None and not index.available():
        index = None
    choice = choose(
        k=scan.k,
        matching=len(matching),
        live=len(live),
        dim=store.dim,
        has_index=index is not None,
        filtered=bool(scan.filter_sql),
        ef_search=scan.ef_search,
        forced=scan.forced,
        enable_indexscan=scan.enable_indexscan,
        segments=scan.segments,
    )
    scan.strategy = choice.strategy
    scan.estimated_rows = len(matching)
    scan.estimated_cost = choice.cost
    scan.costs = choice.costs
    scan.reason = choice.reason
    scan.ef = choice.ef
    scan.k_prime = choice.k_prime
    return PreparedKnn(store, live, matching, index, choice)


def run_knn(
    db: Database, cur: duckdb.DuckDBPyConnection, scan: KnnScan
) -> tuple[np.ndarray, np.ndarray, KnnStats] | None:
    """Top-k (slots, distances) of the scan, or None when fewer than k vectors match."""
    t0 = time.perf_counter()
    p = plan_knn(db, cur, scan)
    if p is None:
        return None
    store, live, matching, index, choice = p.store, p.live, p.matching, p.index, p.choice
    if choice.strategy in ("exact", "prefilter") or index is None:
        if scan.quantization != "none" and len(matching) > scan.k:
            slots, dist, n = quantized_topk(
                store,
                scan.quantization,
                matching,
                scan.metric,
                scan.query,
                scan.k,
                scan.oversampling,
                scan.rescore,
            )
            stats = KnnStats(matching_rows=len(matching), vectors_scanned=len(matching))
            stats.extra["quantization"] = scan.quantization
            stats.extra["rescored"] = n if scan.rescore else 0
            stats.returned = len(slots)
        else:
            slots, dist, stats = exact_knn(store, matching, scan.metric, scan.query, scan.k)
        stats.extra["strategy"] = choice.strategy
    else:
        slots, dist, stats = _hnsw(db, cur, scan, store, index, matching, live, choice)
    stats.seconds = time.perf_counter() - t0
    return slots, dist, stats


def _hnsw(db, cur, scan, store, index, matching, live, choice):  # noqa: ANN001, ANN202
    """Search each segment's graph for its share of the matching rows; rows no graph holds
    yet (a segment's tail, or a segment the optimizer has not indexed) are scanned exactly.
    Candidates are ranked on the graph's own distances and the global top k kept; when the
    query shows a distance (`scan.exact_distances`), those k are rescored exactly, so a
    distance reads the same whatever the strategy."""
    ef = search_ef(scan)
    g = None if scan.filter_sql else whole_graph(store, index, len(matching))
    if g is not None:
        return _whole_graph(store, index, g, scan, choice, len(matching), ef)
    mask = None
    if scan.filter_sql:
        mask = np.zeros(store.slot_end(), dtype=bool)
        mask[matching] = True
    stats = KnnStats(matching_rows=len(matching))
    slots_parts: list[np.ndarray] = []
    dist_parts: list[np.ndarray] = []
    exact_parts: list[np.ndarray] = []  # scanned exactly: tails and fallbacks
    segments_searched = 0
    candidates = 0
    for seg in store.segments:
        a, b = matching.searchsorted((seg.lo, seg.hi))
        seg_matching = matching[a:b]
        if not len(seg_matching):
            continue
        g = index.graph(seg)
        if g is None:
            exact_parts.append(seg_matching)
            continue
        end = g.covered_end(seg)
        in_graph = seg_matching[: seg_matching.searchsorted(end)]
        if len(in_graph) < len(seg_matching):
            exact_parts.append(seg_matching[len(in_graph) :])
        if not seg.sealed and seg.count - g.covered > TAIL_EXTEND_ROWS:
            index.extend_in_background(seg)
        if len(in_graph):
            segments_searched += 1
            labels, dist = _search_graph(index, g, scan, choice, in_graph, mask, ef, stats)
            if dist is None:
                exact_parts.append(labels)
            else:
                candidates += len(labels)
                slots_parts.append(labels)
                dist_parts.append(dist)
    stats.extra["strategy"] = choice.strategy
    stats.extra["segments"] = segments_searched
    stats.extra["candidates"] = candidates
    exact = np.concatenate(exact_parts) if exact_parts else np.empty(0, dtype=np.int64)
    stats.extra["tail_scanned"] = len(exact)
    if len(exact):
        slots_parts.append(exact)
        dist_parts.append(score(store, exact, scan.metric, scan.query))
    stats.vectors_scanned = len(exact)
    if len(slots_parts) == 1:
        allc, alld = slots_parts[0], dist_parts[0]
    else:
        allc = np.concatenate(slots_parts) if slots_parts else np.empty(0, dtype=np.int64)
        alld = np.concatenate(dist_parts) if dist_parts else np.empty(0)
    slots, dist = topk(alld, allc, scan.k)
    if candidates:
        slots, dist = _rescore(store, scan, slots, dist, stats)
    stats.returned = len(slots)
    return slots, dist, stats


def search_ef(scan: KnnScan) -> int:
    """The ef a graph search of `scan` runs at: the strategy's, at least the session's
    `hnsw.ef_search` as `cost.effective_ef` widens it for k."""
    return max(scan.ef, cost.effective_ef(scan.ef_search, scan.k))


def whole_graph(store: VectorStore, index: HnswIndex, rows: int) -> SegmentGraph | None:
    """The graph that holds every one of the `rows` live rows, if there is one: the store has
    one segment, and nothing was deleted or appended since its graph was built."""
    segs = store.segments
    if len(segs) != 1:
        return None
    g = index.graph(segs[0])
    return g if g is not None and g.covered == segs[0].count == rows else None


def _rescore(store, scan, slots, dist, stats):  # noqa: ANN001, ANN202
    """The top k ranked on graph distances, with exact distances when the query shows them."""
    if not scan.exact_distances:
        return slots, dist
    stats.extra["rescored"] = len(slots)
    return topk(score(store, slots, scan.metric, scan.query), slots, len(slots))


def _visited(stats: KnnStats, s: SearchStats) -> None:
    """Add a graph search's visited nodes (EXPLAIN ANALYZE counts them) to the scan's."""
    if s.visited is not None:
        stats.extra["nodes_visited"] = stats.extra.get("nodes_visited", 0) + s.visited


def _whole_graph(store, index, g, scan, choice, live, ef):  # noqa: ANN001, ANN202
    """`_hnsw` when one graph holds every row and every row is live (no filter, one segment,
    nothing deleted or appended since the build): one search, nothing to drop or merge."""
    labels, dist, s = index.search(g, scan.query, scan.k, ef, count_visits=scan.count_visits)
    stats = KnnStats(matching_rows=live)
    _visited(stats, s)
    stats.extra.update(strategy=choice.strategy, segments=1, ef=s.ef, candidates=len(labels))
    stats.extra["tail_scanned"] = 0
    if len(labels) < min(scan.k, live):  # never fewer rows than min(k, matching)
        slots, dist, _ = exact_knn(store, store.all_slots(), scan.metric, scan.query, scan.k)
        stats.extra["fallback"] = "exact"
        stats.vectors_scanned = live
    else:
        slots, dist = _rescore(store, scan, *topk(dist, labels, scan.k), stats)
    stats.returned = len(slots)
    return slots, dist, stats


def _search_graph(index, g, scan, choice, in_graph, mask, ef, stats):  # noqa: ANN001, ANN202
    """Candidates from one segment's graph, with the graph's distances: at least
    min(k, len(in_graph)) matching slots.  When the traversal cannot find them, the segment's
    matching slots with None (the caller scans them exactly)."""
    want = min(scan.k, len(in_graph))
    if choice.strategy == "hnsw_filter":
        m = mask
        labels, dist, s = index.search(
            g, scan.query, want, ef, keep=lambda x: bool(m[x]), count_visits=scan.count_visits
        )
        stats.extra["ef"] = s.ef
        _visited(stats, s)
    else:
        kp = choice.k_prime or want
        while True:
            labels, dist, s = index.search(
                g, scan.query, max(kp, want), max(ef, kp), count_visits=scan.count_visits
            )
            stats.extra["ef"] = s.ef
            _visited(stats, s)
            if mask is not None:
                keep = mask[labels]
            elif len(in_graph) == g.covered:
                keep = None  # every row the graph holds is live: nothing to drop
            else:
                pos = np.minimum(np.searchsorted(in_graph, labels), len(in_graph) - 1)
                keep = in_graph[pos] == labels  # drop dead slots
            if keep is not None:
                labels, dist = labels[keep], dist[keep]
            if len(labels) >= want or kp >= min(cost.MAX_POSTFILTER_K * 4, len(in_graph)):
                break
            kp *= 4  # came up short (a filter correlated with the query): deepen
            stats.extra["deepened"] = stats.extra.get("deepened", 0) + 1
    if len(labels) < want:  # never fewer rows than min(k, matching): exact fallback
        stats.extra["fallback"] = "exact"
        return in_graph, None
    return labels, dist
