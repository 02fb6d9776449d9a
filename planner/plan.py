"""Physical plans: the dataclasses sqlfront's binder fills and `planner.execute` runs.

Owns: `DistanceSpec` (a (slot, distance) relation computed by numpy and joined by SQL),
`KnnScan` (the kNN node: table, column, metric, query vector, k, filter, strategy) and
`VectorRelation` (a store's vectors as DuckDB lists) and
`QueryPlan` (the DuckDB SQL that reads those relations, with a fallback plan).
Later issues add strategies (HNSW, filtered HNSW, pre-filter over quantized vectors) to
`KnnScan.strategy`; the shape of the node stays.

Must not: touch DuckDB or the stores (that is `planner.execute` via `engine`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.catalog import IndexDef


@dataclass
class DistanceSpec:
    """Distances from every vector of a store to one query, exposed as relation `name`."""

    name: str
    table: str
    column: str
    store_id: int
    metric: str
    query: np.ndarray


@dataclass
class VectorRelation:
    """Every vector of a store as relation `name` (`__vg_slot` BIGINT, `__vg_v` FLOAT[]), for SQL
    that computes on vector values (pgvector's functions, operators, aggregates and casts).  The
    column names cannot collide with a user's column (`v`, `slot`) referenced unqualified."""

    SLOT = "__vg_slot"
    VALUE = "__vg_v"

    name: str
    store_id: int
    # only the slots this query lists (the rows a filter keeps), or the kNN candidates
    slots_sql: str | None = None
    knn: bool = False
    uses: int = 0  # how many (select, column) pairs read it; a filter applies to one


@dataclass
class KnnScan:
    """ORDER BY <column> <op> <query> LIMIT k over one table, with an optional filter."""

    table: str
    column: str
    store_id: int
    metric: str
    query: np.ndarray  # (a SparseVectorValue for a sparse store)
    k: int  # LIMIT + OFFSET
    filter_sql: str | None
    relation: str = "__knn"
    index: IndexDef | None = None  # an HNSW index matching column and metric
    # an index on the column answered by exact search (no graph: sparsevec over 16000
    # dimensions, or an operator class hnswlib has no space for), for EXPLAIN
    exact_index: IndexDef | None = None
    ef_search: int = 40
    forced: str = "auto"  # vecgres.knn_strategy
    enable_indexscan: bool = True
    cacheable: bool = True  # live-slot cache usable (autocommit statement)
    quantization: str = "none"  # exact scans rank on this copy, then rescore
    oversampling: float = 2.0
    rescore: bool = True
    # the query shows or computes with the distance: rescore graph candidates exactly
    exact_distances: bool = True
    count_visits: bool = False  # EXPLAIN ANALYZE: count the graph nodes searches visit
    # filled by execution (EXPLAIN ANALYZE shows them)
    strategy: str = "exact"
    estimated_rows: int | None = None
    estimated_cost: float | None = None
    costs: dict[str, float] = field(default_factory=dict)
    reason: str = ""  # why the strategy was chosen
    segments: int = 0  # segments holding vectors (EXPLAIN)
    ef: int = 0
    k_prime: int = 0


@dataclass
class FastProjection:
    """A kNN query whose outputs are plain columns of the table and the distance: rows come
    from the engine's column cache instead of a DuckDB join (no SQL per query)."""

    names: list[str]
    columns: list[str | None]  # None: the kNN distance
    limit: int
    offset: int
    wanted: tuple[str, ...] | None = None  # the table columns it reads (set on first use)


@dataclass
class QueryPlan:
    """DuckDB SQL plus the numpy-computed relations it joins."""

    sql: str
    distances: list[DistanceSpec] = field(default_factory=list)
    knn: KnnScan | None = None
    # Builds the plan to run instead when the kNN scan finds fewer non-NULL vectors than k
    # (rows whose vector is NULL then belong in the answer, sorted last as in Postgres).
    fallback_factory: Callable[[], QueryPlan] | None = None
    fast: FastProjection | None = None
    vectors: list[VectorRelation] = field(default_factory=list)
    # a cached plan's compiled hot path (planner.hot_knn.HotKnn), shared by its executions
    hot: Any = None
    # a graphless bit index (bit_hamming_ops / bit_jaccard_ops) on the column the query
    # orders by: named by EXPLAIN, the query itself is DuckDB's exact search
    exact_index: IndexDef | None = None
    # the typmod of each result column a set operation's branches agree on (vector(3) in
    # every branch), None for the others (RowDescription reports the value's own)
    typmods: list[int | None] | None = None
