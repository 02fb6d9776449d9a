"""Running a `QueryPlan`: the kNN scan and distance relations first, then the DuckDB SQL.

Owns: the order of a plan's steps — kNN scan (filter → slots → distances → top k, via
`engine.knn`), registration of every (slot, distance) relation in the session's DuckDB
cursor, the SQL itself, unregistration, and vector materialisation — and the fallback to the
general plan when the scan finds fewer non-NULL vectors than k.

Must not: parse SQL or choose between plans (the binder and `planner.choose` do).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np

from engine.catalog import slot_struct_type
from engine.database import ColumnCache, Database
from engine.duck_errors import translate
from engine.errors import FeatureNotSupported
from engine.knn import (
    KnnStats,
    materialize_vectors,
    register_distances,
    register_store_distances,
)
from engine.sparse import SparseStore
from engine.vector_store import VectorStore
from planner.knn_exec import run_knn
from planner.plan import FastProjection, KnnScan, QueryPlan, VectorRelation

# most float32 elements a query may expand sparse rows into (128 MB)
DENSE_EXPAND_MAX = 32 * 1024 * 1024


class ShortScan(Exception):
    """A cached kNN plan found fewer matching vectors than k: rebind without the cache."""


@dataclass
class PlanResult:
    description: list[tuple]
    rows: list[tuple]
    knn_stats: KnnStats | None = None
    used_fallback: bool = False
    seconds: float = 0.0


def execute_plan(
    db: Database, cur: duckdb.DuckDBPyConnection, plan: QueryPlan, table: str | None = None
) -> PlanResult:
    registered: list[str] = []
    stats: KnnStats | None = None
    knn_slots: np.ndarray | None = None
    try:
        if plan.knn is not None:
            scan = plan.knn
            found = run_knn(db, cur, scan)
            if found is None:
                if plan.fallback_factory is None:
                    raise ShortScan()
                res = execute_plan(db, cur, plan.fallback_factory(), table)
                res.used_fallback = True
                return res
            top_slots, top_d, stats = found
            knn_slots = top_slots
            if plan.fast is not None and scan.cacheable:
                fast = _fast_rows(db, cur, scan, plan.fast, top_slots, top_d, stats)
                if fast is not None:
                    return fast
            register_distances(cur, scan.relation, top_slots, top_d)
            registered.append(scan.relation)
        for spec in plan.distances:
            store = db.store_by_id(spec.store_id)
            register_store_distances(cur, spec.name, store, spec.metric, spec.query)
            registered.append(spec.name)
        for vrel in plan.vectors:
            _register_vectors(db, cur, vrel, knn_slots)
            registered.append(vrel.name)
        try:
            result = cur.execute(plan.sql)
            description = result.description or [("count", "BIGINT")]
            rows = result.fetchall()
        except duckdb.Error as e:
            raise translate(e, table) from e
    finally:
        for name in registered:
            try:
                cur.unregister(name)
            except duckdb.Error:
                pass
    rows = materialize_vectors(db, description, rows)
    return PlanResult(description=description, rows=rows, knn_stats=stats)


def _register_vectors(
    db: Database, cur: duckdb.DuckDBPyConnection, vrel: VectorRelation, knn: np.ndarray | None
) -> None:
    """Register (slot, value FLOAT[]) for the vectors a query reads: the kNN candidates, the
    slots of the rows its filter keeps, or the whole store."""
    store = db.store_by_id(vrel.store_id)
    slots: np.ndarray | None = None
    if vrel.knn and knn is not None:
        slots = np.asarray(knn, dtype=np.int64)
    elif vrel.slots_sql is not None:
        try:
            slots = cur.execute(vrel.slots_sql).fetchnumpy()["s"].astype(np.int64, copy=False)
        except duckdb.Error as e:
            raise translate(e) from e
    slots = store.all_slots() if slots is None else np.unique(slots)
    mat = _dense_rows(store, slots)
    if len(mat) == 0:  # one unreachable row, so that DuckDB still types `v` as FLOAT[]
        slots = np.array([-1], dtype=np.int64)
        mat = np.zeros((1, store.dim), dtype=np.float32)
    vecs = np.empty(len(mat), dtype=object)
    vecs[:] = list(mat)
    cur.register(vrel.name, {VectorRelation.SLOT: slots, VectorRelation.VALUE: vecs})


def _dense_rows(store: VectorStore | SparseStore, slots: np.ndarray) -> np.ndarray:
    """Dense float32 rows at `slots`, for expressions DuckDB evaluates over `FLOAT[]` lists
    (a sparse store's rows are expanded; refused when that would be too large)."""
    if not isinstance(store, SparseStore):
        return store.take(slots)
    if len(slots) * store.dim > DENSE_EXPAND_MAX:
        raise FeatureNotSupported(
            f"this expression over {len(slots)} sparsevec({store.dim}) values is not supported: "
            "it would need them dense; use the distance operators, or filter the rows first"
        )
    return store.take_dense(slots)


def cached_rows(
    cache: ColumnCache,
    columns: Sequence[str | None],
    slots: np.ndarray,
    dist: np.ndarray | None,
    vector_column: str | None = None,
    take: Callable[[np.ndarray], np.ndarray] | None = None,
) -> list[tuple]:
    """Row tuples for `slots` from the column cache: per output column a cached table
    column, the distance (None), or the vector column itself (read with `take`)."""
    pos = cache.slots.searchsorted(slots)
    pos_l: list[int] | None = None
    out_cols: list[list] = []
    for col in columns:
        if col is None:
            assert dist is not None
            out_cols.append(dist.tolist())
        elif col == vector_column:
            assert take is not None
            out_cols.append(list(take(slots)))
        else:
            vals = cache.values[col]
            if isinstance(vals, np.ndarray):
                out_cols.append(vals[pos].tolist())
            else:
                pos_l = pos.tolist() if pos_l is None else pos_l
                out_cols.append([vals[p] for p in pos_l])
    return list(zip(*out_cols, strict=True)) if out_cols else []


def _fast_rows(
    db: Database,
    cur: duckdb.DuckDBPyConnection,
    scan: KnnScan,
    fast: FastProjection,
    slots: np.ndarray,
    dist: np.ndarray,
    stats: KnnStats,
) -> PlanResult | None:
    """Rows of a kNN query served from the column cache (no SQL per query); None when a
    column's type does not round-trip through numpy unchanged."""
    slots = slots[fast.offset : fast.offset + fast.limit]
    dist = dist[fast.offset : fast.offset + fast.limit]
    wanted = fast.wanted
    if wanted is None:
        wanted = fast.wanted = tuple(
            dict.fromkeys(c for c in fast.columns if c and c != scan.column)
        )
    cache = db.column_cache(cur, scan.table, scan.column, scan.store_id, wanted)
    if not cache.fast:
        return None
    description: list[tuple] = []
    for name, col in zip(fast.names, fast.columns, strict=True):
        if col is None:
            description.append((name, "DOUBLE"))
        elif col == scan.column:
            description.append((name, slot_struct_type(scan.store_id)))
        else:
            description.append((name, cache.types[col]))
    take = db.store_by_id(scan.store_id).take
    rows = cached_rows(cache, fast.columns, slots, dist, scan.column, take)
    return PlanResult(description=description, rows=rows, knn_stats=stats)
