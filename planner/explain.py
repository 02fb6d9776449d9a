"""EXPLAIN output: the plan as lines of text, Postgres-style, with kNN details.

Owns: `explain_lines(plan, result)`; with a `PlanResult` (EXPLAIN ANALYZE) it adds what the
scan actually did.
"""

from __future__ import annotations

from engine.sparse import is_sparse_dim, vector_dim
from planner.execute import PlanResult
from planner.plan import QueryPlan

_OPS = {"l2": "<->", "cosine": "<=>", "ip": "<#>", "l1": "<+>"}


def explain_lines(plan: QueryPlan, result: PlanResult | None = None) -> list[str]:
    lines: list[str] = []
    knn = plan.knn
    if knn is not None:
        lines.append(f"Limit  (k={knn.k})")
        est = "unknown" if knn.estimated_rows is None else str(knn.estimated_rows)
        cost = "" if knn.estimated_cost is None else f"  cost={knn.estimated_cost:.2f}"
        lines.append(f"  ->  KNN Scan on {knn.table}  (strategy={knn.strategy}{cost})")
        lines.append(
            f"        Order By: {knn.column} {_OPS.get(knn.metric, knn.metric)} $query "
            f"(dim={vector_dim(knn.query)})"
        )
        if knn.filter_sql:
            lines.append(f"        Filter: {knn.filter_sql}")
        lines.append(f"        Estimated matching rows: {est}  segments: {knn.segments}")
        if knn.index is not None:
            lines.append(
                f"        Index: {knn.index.name} (hnsw, m={knn.index.options.get('m')}, "
                f"ef_construction={knn.index.options.get('ef_construction')})"
            )
        if knn.exact_index is not None and is_sparse_dim(vector_dim(knn.query)):
            ix = knn.exact_index  # sparsevec over 16000 dimensions: the sparse store
            lines.append(
                f"        Index: {ix.name} ({ix.opclass}: no graph, answered by exact search "
                "over the sparse store)"
            )
        if knn.ef:
            kp = f"  candidates k'={knn.k_prime}" if knn.k_prime else ""
            lines.append(f"        ef: {knn.ef}{kp}")
        if knn.costs:
            costs = "  ".join(f"{s}={c:.1f}" for s, c in sorted(knn.costs.items()))
            lines.append(f"        Costs (us): {costs}")
        if knn.reason:
            lines.append(f"        Chosen: {knn.strategy} ({knn.reason})")
        if result is not None and result.knn_stats is not None:
            s = result.knn_stats
            visited = s.extra.get("nodes_visited")
            nodes = "" if visited is None else f"  nodes visited: {visited}"
            lines.append(
                f"        Actual matching rows: {s.matching_rows}{nodes}  vectors scanned: "
                f"{s.vectors_scanned}  returned: {s.returned}  time: {s.seconds * 1e3:.3f} ms"
            )
            extra = "  ".join(
                f"{k}={v}" for k, v in s.extra.items() if k not in ("strategy", "nodes_visited")
            )
            if extra:
                lines.append(f"        Actual: {extra}")
        if result is not None and result.used_fallback:
            lines.append("        Fell back to the general plan: fewer non-NULL vectors than k")
    else:
        lines.append("Query  (executed by DuckDB)")
        ix = plan.exact_index
        if ix is not None:
            lines.append(
                f"  Index: {ix.name} ({ix.opclass}: no graph, answered by exact search in DuckDB)"
            )
    for spec in plan.distances:
        lines.append(
            f"  ->  Distance Scan on {spec.table}.{spec.column}  "
            f"(metric={spec.metric}, all vectors)"
        )
    lines.append(f"  SQL: {plan.sql}")
    if result is not None:
        lines.append(f"Execution Time: {result.seconds * 1e3:.3f} ms")
    return lines
