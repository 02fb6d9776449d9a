"""Unfiltered kNN latency at each layer, same index, same run: raw hnswlib on the graph file,
the engine's HnswIndex.search, and the whole SQL path in process (sqlfront.connect) with the
query vector as text and as a numpy array.  Prints medians, recall@10 and ratios to raw.

    python bench/unfiltered.py [--queries 1000]
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
    ap.add_argument("--db", default="/tmp/vecgres-bench")
    args = ap.parse_args()
    base, queries, meta = load_arrays(100_000, args.queries)
    truths = [exact_topk(base, q, None, 10) for q in queries]
    con = open_bench_db(args.db, base, meta)
    cur = con.cursor()
    ef = effective_ef(40, 10)
    raw = hnswlib.Index(space="cosine", dim=base.shape[1])
    # the one segment of the 100k table (segment_rows 131072): its graph file
    raw.load_index(f"{args.db}/postgres/indexes/items_embedding_idx/seg-0.hnsw")
    raw.set_ef(ef)

    def measure(fn, inputs):
        fn(inputs[0])
        lat, rec = [], []
        for x, want in zip(inputs, truths, strict=True):
            t0 = time.perf_counter()
            got = fn(x)
            lat.append(time.perf_counter() - t0)
            rec.append(recall(got, want))
        return median_ms(lat), float(np.mean(rec))

    sql = "SELECT id FROM items ORDER BY embedding <=> %s LIMIT 10"
    rows = {
        f"raw hnswlib knn_query (ef {ef})": measure(
            lambda q: raw.knn_query(q.reshape(1, -1), k=10)[0][0].tolist(), queries
        ),
        "SQL in process, vector as numpy array": measure(
            lambda q: [r[0] for r in cur.execute(sql, [q]).fetchall()], queries
        ),
        "SQL in process, vector as text": measure(
            lambda t: [r[0] for r in cur.execute(sql, [t]).fetchall()],
            [vec_text(q) for q in queries],
        ),
    }
    base_ms = rows[f"raw hnswlib knn_query (ef {ef})"][0]
    for name, (ms, rc) in rows.items():
        print(f"{name:42s} {ms:7.3f} ms  recall {rc:.3f}  x{ms / base_ms:.2f}")
    con.close()


if __name__ == "__main__":
    main()
