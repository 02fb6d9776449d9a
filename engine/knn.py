"""Exact k-nearest-neighbour search over a table's vector column, and result materialisation.

Owns: the engine-side steps of a kNN scan — list the slots of the rows a filter keeps (DuckDB),
score them against the query (numpy, `engine.distance`), keep the top k — plus registering
(slot, distance) relations in a DuckDB cursor so SQL can join them, and turning vector-slot
struct columns of a DuckDB result back into float32 arrays.

Must not: decide strategies (planner) or parse SQL (sqlfront).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb
import numpy as np

from engine.catalog import slot_field, slots_sql, store_id_of_duck_type
from engine.database import Database
from engine.distance import distances, topk
from engine.duck_errors import translate
from engine.vector_store import VectorStore

# Gather rows by slot only when few are needed; otherwise score the whole store in place.
_GATHER_FRACTION = 0.4  # above this, scoring every row in place is cheaper
_CHUNK = 4096


@dataclass
class KnnStats:
    """What a kNN scan did, for EXPLAIN ANALYZE."""

    matching_rows: int = 0
    vectors_scanned: int = 0
    returned: int = 0
    seconds: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)


def filtered_slots(
    cur: duckdb.DuckDBPyConnection, table: str, column: str, store_id: int, where_sql: str | None
) -> np.ndarray:
    """Slots of the non-NULL vectors in rows of `table` that pass `where_sql`."""
    sql = slots_sql(table, column, store_id, where_sql)
    try:
        return cur.execute(sql).fetchnumpy()["s"].astype(np.int64, copy=False)
    except duckdb.Error as e:
        raise translate(e, table) from e


def score(store: VectorStore, slots: np.ndarray, metric: str, q: np.ndarray) -> np.ndarray:
    """Distances of the vectors at `slots` to `q` (gathered in cache-sized chunks)."""
    if len(slots) > _GATHER_FRACTION * len(store):
        return distances(metric, store.view(), q)[slots]
    if len(slots) <= _CHUNK:
        return distances(metric, store.take(slots), q)
    out = np.empty(len(slots), dtype=np.float64)
    for s in range(0, len(slots), _CHUNK):
        out[s : s + _CHUNK] = distances(metric, store.take(slots[s : s + _CHUNK]), q)
    return out


def exact_knn(
    store: VectorStore, slots: np.ndarray, metric: str, q: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, KnnStats]:
    """Top k (plus ties at the k-th) of `slots` by distance to `q`, ordered by (distance, slot)."""
    t0 = time.perf_counter()
    d = score(store, slots, metric, q)
    top_slots, top_d = topk(d, slots, k)
    stats = KnnStats(
        matching_rows=len(slots),
        vectors_scanned=len(slots),
        returned=len(top_slots),
        seconds=time.perf_counter() - t0,
    )
    return top_slots, top_d, stats


def register_distances(
    cur: duckdb.DuckDBPyConnection, name: str, slots: np.ndarray, dist: np.ndarray
) -> None:
    cur.register(name, {"slot": np.ascontiguousarray(slots), "d": np.ascontiguousarray(dist)})


def register_store_distances(
    cur: duckdb.DuckDBPyConnection, name: str, store: VectorStore, metric: str, q: np.ndarray
) -> None:
    """Register (slot, distance) for every vector of `store` under `name`."""
    view = store.view()
    register_distances(cur, name, np.arange(len(view), dtype=np.int64), distances(metric, view, q))


def vector_columns(db: Database, description: list[tuple]) -> dict[int, int]:
    """Result column index -> store id, for columns that hold vector slots."""
    out = {}
    for i, d in enumerate(description):
        sid = store_id_of_duck_type(str(d[1]))
        if sid is not None:
            out[i] = sid
    return out


def materialize_vectors(db: Database, description: list[tuple], rows: list[tuple]) -> list[tuple]:
    """Replace slot structs in `rows` by float32 arrays gathered from their stores."""
    cols = vector_columns(db, description)
    if not cols or not rows:
        return rows
    out = [list(r) for r in rows]
    for i, sid in cols.items():
        store = db.store_by_id(sid)
        key = slot_field(sid)
        idx = [r for r in range(len(out)) if out[r][i] is not None]
        if not idx:
            continue
        slots = np.fromiter((out[r][i][key] for r in idx), dtype=np.int64, count=len(idx))
        vecs = store.take(slots)
        for j, r in enumerate(idx):
            out[r][i] = vecs[j]
    return [tuple(r) for r in out]
