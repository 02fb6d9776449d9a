"""Exact k-nearest-neighbour search over a table's vector column, and result materialisation.

Owns: the engine-side steps of a kNN scan — list the slots of the rows a filter keeps (DuckDB),
score them against the query (numpy, `engine.distance`), keep the top k — plus registering
(slot, distance) relations in a DuckDB cursor so SQL can join them, and turning vector-slot
struct columns of a DuckDB result back into float32 arrays.

Must not: decide strategies (planner) or parse SQL (sqlfront).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import numpy as np

from engine.catalog import (
    slot_field,
    slots_sql,
    store_id_of_duck_list_type,
    store_id_of_duck_type,
)
from engine.database import Database
from engine.distance import topk
from engine.duck_errors import translate
from engine.vector_store import VectorStore


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
    """Distances of the vectors at `slots` to `q` (per segment: gathered or scored in place)."""
    return store.score(metric, q, slots)


def score_sorted(store: VectorStore, slots: np.ndarray, metric: str, q: np.ndarray) -> np.ndarray:
    """`score` for sorted `slots` (each segment's share is a slice)."""
    return store.score(metric, q, slots, is_sorted=True)


def quantized_topk(
    store: VectorStore,
    mode: str,
    slots: np.ndarray,
    metric: str,
    q: np.ndarray,
    k: int,
    oversampling: float,
    rescore: bool = True,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Top k of sorted `slots`: rank each segment's share on its quantized copy, rescore the best
    `k * oversampling` of each exactly against the float32 originals.

    Segments are ranked apart (each copy has its own scale or centre, so approximate scores
    of two segments do not compare).  Returns (slots, distances, candidates rescored).
    Without `rescore` the result is the quantized ranking's first k (exact distances shown).
    """
    q = np.asarray(q, dtype=np.float32)
    n_cand = max(k, int(np.ceil(k * oversampling))) if rescore else k
    cands: list[np.ndarray] = []
    approx_of: list[np.ndarray] = []
    for seg, pos in store.group(slots, is_sorted=True):
        qc = seg.quantized(mode)
        seg_slots = slots[pos]
        whole = len(seg_slots) == seg.count
        best, approx = qc.candidates(None if whole else seg.rows_of(seg_slots), q, metric, n_cand)
        cands.append(seg_slots[best])
        approx_of.append(approx)
    if not cands:
        return slots[:0], np.empty(0, dtype=np.float64), 0
    cand = np.concatenate(cands) if len(cands) > 1 else cands[0]
    d = store.score(metric, q, cand, pread=True)
    if not rescore:
        order = np.argsort(np.concatenate(approx_of), kind="stable")[:k]
        return cand[order], d[order], len(cand)
    top_slots, top_d = topk(d, cand, k)
    return top_slots, top_d, len(cand)


def exact_knn(
    store: VectorStore, slots: np.ndarray, metric: str, q: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, KnnStats]:
    """Top k (plus ties at the k-th) of sorted `slots` by distance to `q`, by (distance, slot)."""
    t0 = time.perf_counter()
    d = score_sorted(store, slots, metric, q)
    top_slots, top_d = topk(d, slots, k)
    stats = KnnStats(
        matching_rows=len(slots),
        vectors_scanned=len(slots),
        returned=len(top_slots),
        seconds=time.perf_counter() - t0,
    )
    return top_slots, top_d, stats


# the columns of a registered (slot, distance) relation: names no user column can clash with
# when a query references its own columns unqualified
SLOT_COLUMN = "__vg_slot"
DIST_COLUMN = "__vg_d"


def register_distances(
    cur: duckdb.DuckDBPyConnection, name: str, slots: np.ndarray, dist: np.ndarray
) -> None:
    cur.register(
        name,
        {SLOT_COLUMN: np.ascontiguousarray(slots), DIST_COLUMN: np.ascontiguousarray(dist)},
    )


def register_store_distances(
    cur: duckdb.DuckDBPyConnection, name: str, store: VectorStore, metric: str, q: np.ndarray
) -> None:
    """Register (slot, distance) for every vector of `store` under `name`."""
    slots, dist = store.score_all(metric, q)
    register_distances(cur, name, slots, dist)


def vector_columns(description: list[tuple]) -> dict[int, int]:
    """Result column index -> store id, for columns that hold vector slots."""
    return _store_columns(description, store_id_of_duck_type)


def vector_list_columns(description: list[tuple]) -> dict[int, int]:
    """Result column index -> store id, for columns that hold lists of vector slots."""
    return _store_columns(description, store_id_of_duck_list_type)


def _store_columns(
    description: list[tuple], store_of: Callable[[str], int | None]
) -> dict[int, int]:
    out = {}
    for i, d in enumerate(description):
        sid = store_of(str(d[1]))
        if sid is not None:
            out[i] = sid
    return out


def _materialize_lists(db: Database, cols: dict[int, int], out: list[list]) -> None:
    """Replace each list of slot structs in the columns `cols` of `out` by a list of float32
    arrays (NULL elements stay None)."""
    for i, sid in cols.items():
        key = slot_field(sid)
        pos = [
            (r, j)
            for r in range(len(out))
            if out[r][i] is not None
            for j, x in enumerate(out[r][i])
            if x is not None and x[key] is not None
        ]
        lists = {r: list(out[r][i]) for r in range(len(out)) if out[r][i] is not None}
        for r, lst in lists.items():
            out[r][i] = [None] * len(lst)
        if pos:
            slots = np.fromiter((lists[r][j][key] for r, j in pos), dtype=np.int64, count=len(pos))
            vecs = db.store_by_id(sid).take(slots)
            for n, (r, j) in enumerate(pos):
                out[r][i][j] = vecs[n]


def materialize_vectors(db: Database, description: list[tuple], rows: list[tuple]) -> list[tuple]:
    """Replace slot structs in `rows` (also inside lists) by float32 arrays gathered from
    their stores."""
    cols = vector_columns(description)
    lists = vector_list_columns(description)
    if not (cols or lists) or not rows:
        return rows
    out = [list(r) for r in rows]
    _materialize_lists(db, lists, out)
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
