"""Unfiltered kNN latency, same index object, same run: raw hnswlib `knn_query` on the graph
the engine loaded, and the whole SQL path in process (sqlfront.connect) with the query vector
as a numpy array and as text, interleaved (each variant on a different query at each step).
Prints medians, recall@10 and ratios to raw.

    python -m bench.unfiltered [--queries 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time

import hnswlib
import numpy as np

from bench.common import exact_topk, load_arrays, median_ms, recall, vec_text
from bench.setup_db import open_bench_db
from planner.cost import effective_ef


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3, help="passes over the queries")
    ap.add_argument("--db", default="/tmp/vecgres-bench")
    args = ap.parse_args()
    base, queries, meta = load_arrays(100_000, args.queries)
    truths = [exact_topk(base, q, None, 10) for q in queries]
    con = open_bench_db(args.db, base, meta)
    cur = con.cursor()
    ef = effective_ef(40, 10)
    sql = "SELECT id FROM items ORDER BY embedding <=> %s LIMIT 10"
    cur.execute(sql, [queries[0]]).fetchall()  # loads the graph
    # the same hnswlib index object the server searches (the one segment of the 100k table,
    # segment_rows 131072), so both sides run on the same memory, interleaved
    db = con.session.db
    store = db.store_by_id(con.session.catalog["items"].column("embedding").store_id)
    (ix,) = con.session.catalog["items"].indexes
    raw: hnswlib.Index = db.hnsw(ix, store.dim).graph(store.segments[0]).index
    raw.set_ef(ef)  # what the engine set for this query shape too

    def raw_search(i: int) -> list[int]:
        return raw.knn_query(queries[i].reshape(1, -1), k=10)[0][0].tolist()

    texts = [vec_text(q) for q in queries]
    variants = {
        f"raw hnswlib knn_query (ef {ef})": raw_search,
        "SQL in process, vector as numpy array": lambda i: [
            r[0] for r in cur.execute(sql, [queries[i]]).fetchall()
        ],
        "SQL in process, vector as text": lambda i: [
            r[0] for r in cur.execute(sql, [texts[i]]).fetchall()
        ],
    }
    # interleaved: each query runs every variant in turn, so drift in the machine's state
    # (another process, frequency) falls on all of them alike
    lat: dict[str, list[float]] = {name: [] for name in variants}
    rec: dict[str, list[float]] = {name: [] for name in variants}
    for fn in variants.values():
        fn(0)
    n = len(truths)
    for _ in range(args.rounds):
        for i in range(n):
            # each variant takes a different query at each step (all of them over a round):
            # interleaved against drift, but no variant finds the graph nodes of its query
            # left in the CPU cache by another variant's search for the same query
            for v, (name, fn) in enumerate(variants.items()):
                j = (i + v * (n // len(variants))) % n
                t0 = time.perf_counter()
                got = fn(j)
                lat[name].append(time.perf_counter() - t0)
                rec[name].append(recall(got, truths[j]))
    rows = {name: (median_ms(lat[name]), float(np.mean(rec[name]))) for name in variants}
    base_ms = rows[f"raw hnswlib knn_query (ef {ef})"][0]
    for name, (ms, rc) in rows.items():
        print(f"{name:42s} {ms:7.3f} ms  recall {rc:.3f}  x{ms / base_ms:.2f}")
    con.close()


if __name__ == "__main__":
    main()
