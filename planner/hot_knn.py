"""The hot path of a cached kNN plan: one graph search straight to rows.

Owns: `HotKnn`, compiled from a prepared plan that has just run as an unfiltered search of one
graph holding every live row (the commonest query: `SELECT cols ... ORDER BY v <op> $1
LIMIT k`), and `HotKnn.run`, which answers the next executions with the graph search, the
column cache and the row tuples, skipping the general plan's layers (strategy choice, segment
loop, candidate merge).  What `run` returns is exactly what `execute_plan` returns for the
same query; it returns None, and the caller takes the general path, whenever anything the
compilation relied on may have changed: a committed write to the table, a new segment layout,
a rebuilt or extended graph, a row appended but not yet indexed, a short search or tied
distances (the general path orders ties by slot).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.database import ColumnCache, Database
from engine.distance import topk
from engine.hnsw import HnswIndex, SegmentGraph
from engine.knn import score
from engine.segment import Segment
from engine.vector_store import VectorStore
from planner.execute import cached_rows
from planner.knn_exec import search_ef, whole_graph
from planner.plan import FastProjection, KnnScan, QueryPlan


@dataclass
class HotKnn:
    """What a cached plan's executions reuse: the graph and column cache it answers from,
    its k, ef and slice, and what must not have changed since (see `run`)."""

    table: str
    version: int  # the table's committed version the compilation saw
    store: VectorStore
    segments: tuple[Segment, ...]  # the store's segments then (a new tuple on any change)
    seg: Segment
    index: HnswIndex
    graph: SegmentGraph
    k: int
    ef: int
    metric: str
    exact_distances: bool
    offset: int
    limit: int
    cache: ColumnCache
    picks: list[str | None]  # per output column: a cached table column, or None (distance)
    meta: object = None  # the caller's per-plan data (the session's result columns)

    def run(self, db: Database, q: np.ndarray) -> list[tuple] | None:
        """Rows for query vector `q` (float32, the right dimension), or None: take the
        general path."""
        g, seg = self.graph, self.seg
        if (
            self.store.segments is not self.segments
            or db.table_versions.get(self.table, 0) != self.version
            or g.dropped
            or g.covered != seg.count
            or self.index.loaded(seg.id) is not g
        ):
            return None
        k = self.k
        try:
            labels, dist = g.knn_query(q, k, self.ef)
        except RuntimeError:
            return None
        d = dist[0]
        if len(d) < k or not (d[1:] > d[:-1]).all():
            return None  # short, or ties: the general path orders those by slot
        slots = labels[0].astype(np.int64)
        if self.exact_distances:
            slots, exact = topk(score(self.store, slots, self.metric, q), slots, k)
        else:
            exact = None
        a, b = self.offset, self.offset + self.limit
        ranked = None if exact is None else exact[a:b]
        return cached_rows(self.cache, self.picks, slots[a:b], ranked)


def compile_hot(db: Database, cur, plan: QueryPlan) -> HotKnn | None:  # noqa: ANN001
    """A `HotKnn` for `plan` (which has just run), or None when its shape has no hot path."""
    scan: KnnScan | None = plan.knn
    fast: FastProjection | None = plan.fast
    if (
        scan is None
        or fast is None
        or fast.wanted is None
        or scan.filter_sql
        or scan.index is None
        or scan.count_visits
        or not scan.cacheable
        or scan.strategy not in ("hnsw", "hnsw_postfilter")
        or scan.column in fast.columns
    ):
        return None
    version = db.table_versions.get(scan.table, 0)
    store = db.store_by_id(scan.store_id)
    if not isinstance(store, VectorStore):
        return None
    index = db.hnsw(scan.index, store.dim)
    live = db.live_slots(cur, scan.table, scan.column, scan.store_id, True)
    g = whole_graph(store, index, len(live))
    segs = store.segments  # (`run` gives way if they changed since `whole_graph` looked)
    if g is None or len(live) < scan.k or segs[0].id != g.seg_id:
        return None
    cache = db.column_cache(cur, scan.table, scan.column, scan.store_id, fast.wanted)
    if not cache.fast or cache.version != version:
        return None
    k = min(scan.k, g.index.get_current_count())
    ef = max(search_ef(scan), k)
    return HotKnn(
        table=scan.table,
        version=version,
        store=store,
        segments=segs,
        seg=segs[0],
        index=index,
        graph=g,
        k=k,
        ef=ef,
        metric=scan.metric,
        exact_distances=scan.exact_distances or None in fast.columns,
        offset=fast.offset,
        limit=fast.limit,
        cache=cache,
        picks=list(fast.columns),
    )
