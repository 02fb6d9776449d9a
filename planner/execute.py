"""Running a `QueryPlan`: the kNN scan and distance relations first, then the DuckDB SQL.

Owns: the order of a plan's steps — kNN scan (filter → slots → distances → top k, via
`engine.knn`), registration of every (slot, distance) relation in the session's DuckDB
cursor, the SQL itself, unregistration, and vector materialisation — and the fallback to the
general plan when the scan finds fewer non-NULL vectors than k.

Must not: parse SQL or choose between plans (the binder and `planner.choose` do).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from engine.database import Database
from engine.duck_errors import translate
from engine.knn import (
    KnnStats,
    materialize_vectors,
    register_distances,
    register_store_distances,
)
from planner.knn_exec import run_knn
from planner.plan import QueryPlan


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
    try:
        if plan.knn is not None:
            scan = plan.knn
            found = run_knn(db, cur, scan)
            if found is None and plan.fallback is not None:
                res = execute_plan(db, cur, plan.fallback, table)
                res.used_fallback = True
                return res
            assert found is not None
            top_slots, top_d, stats = found
            register_distances(cur, scan.relation, top_slots, top_d)
            registered.append(scan.relation)
        for spec in plan.distances:
            store = db.store_by_id(spec.store_id)
            register_store_distances(cur, spec.name, store, spec.metric, spec.query)
            registered.append(spec.name)
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
