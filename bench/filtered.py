"""Filtered kNN on the 100k corpus: every selectivity x every strategy, and the planner.

For each filter (0.09% .. 100% of rows) it runs the public queries with each strategy forced
(`SET vecgres.knn_strategy`) and with the planner choosing (`auto`), in process through
`sqlfront.connect()` (the server's SQL path without the socket), and prints median latency,
recall@10 against exact filtered ground truth (numpy), the share of queries that got fewer
than min(10, matching) rows, and the ratio of the planner's median to the best forced median.

    python bench/filtered.py [--queries 1000] [--forced-queries 200] [--db /tmp/vecgres-bench]
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter

import numpy as np

from bench.common import exact_topk, load_arrays, median_ms, recall, vec_text
from bench.setup_db import open_bench_db

FILTERS = [
    ("tenant_id = 7", lambda m: m["tenant"] == 7),
    ("tenant_id < 10", lambda m: m["tenant"] < 10),
    ("category = 'gnu-docs'", lambda m: m["category"] == "gnu-docs"),
    ("tenant_id < 20", lambda m: m["tenant"] < 20),
    ("category = 'python-docs'", lambda m: m["category"] == "python-docs"),
    ("tenant_id < 100", lambda m: m["tenant"] < 100),
    (
        "category = 'python-docs' AND length < 200",
        lambda m: (m["category"] == "python-docs") & (m["length"] < 200),
    ),
    ("tenant_id < 500", lambda m: m["tenant"] < 500),
    ("category = 'kernel-docs'", lambda m: m["category"] == "kernel-docs"),
    ("length > 60", lambda m: m["length"] > 60),
    ("", lambda m: np.ones(len(m["tenant"]), bool)),
]
STRATEGIES = ["prefilter", "hnsw", "hnsw_postfilter", "auto"]


def run(cur, sql: str, qtexts: list[str], truths: list[np.ndarray], k: int, expect: int):
    lat, rec, short, chosen = [], [], 0, Counter()
    for qt, want in zip(qtexts, truths, strict=True):
        t0 = time.perf_counter()
        cur.execute(sql, [qt])
        rows = cur.fetchall()
        lat.append(time.perf_counter() - t0)
        got = [r[0] for r in rows]
        rec.append(recall(got, want))
        short += len(got) < expect
    return median_ms(lat), float(np.mean(rec)), short / len(qtexts), chosen


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--forced-queries", type=int, default=200)
    ap.add_argument("--db", default="/tmp/vecgres-bench")
    args = ap.parse_args()
    k = 10
    base, queries, meta = load_arrays(100_000, args.queries)
    cols = {
        "tenant": np.array([m["tenant_id"] for m in meta]),
        "category": np.array([m["category"] for m in meta]),
        "length": np.array([m["length"] for m in meta]),
    }
    con = open_bench_db(args.db, base, meta)
    cur = con.cursor()
    qtexts = [vec_text(q) for q in queries]
    print(f"corpus 100k, {len(queries)} queries (forced strategies: {args.forced_queries}), k={k}")
    header = f"{'filter':44s} {'sel':>7s} " + " ".join(f"{s:>22s}" for s in STRATEGIES)
    print(header + f" {'choice':>16s} {'auto/best':>9s}")
    for where_sql, fn in FILTERS:
        mask = fn(cols)
        n_match = int(mask.sum())
        expect = min(k, n_match)
        where = f"WHERE {where_sql}" if where_sql else ""
        sql = f"SELECT id FROM items {where} ORDER BY embedding <=> %s LIMIT {k}"
        truths = [exact_topk(base, q, None if not where_sql else mask, k) for q in queries]
        cells, medians = [], {}
        for strat in STRATEGIES:
            nq = args.queries if strat == "auto" else args.forced_queries
            if strat == "hnsw" and where_sql and n_match < 1000:
                nq = min(nq, 50)  # the per-node Python filter is slow here: fewer queries
            cur.execute(f"SET vecgres.knn_strategy = '{strat}'")
            run(cur, sql, qtexts[:3], truths[:3], k, expect)  # warm caches
            ms, rc, sh, _ = run(cur, sql, qtexts[:nq], truths[:nq], k, expect)
            medians[strat] = ms
            cells.append(f"{ms:8.3f}ms r={rc:.3f} s={sh:.0%}")
        cur.execute("SET vecgres.knn_strategy = 'auto'")
        cur.execute("EXPLAIN " + sql, [qtexts[0]])
        plan = "\n".join(r[0] for r in cur.fetchall())
        choice = re.search(r"strategy=(\w+)", plan).group(1)
        best = min(v for s, v in medians.items() if s != "auto")
        print(
            f"{where_sql or '(none)':44s} {n_match / len(base):7.2%} "
            + " ".join(f"{c:>22s}" for c in cells)
            + f" {choice:>16s} {medians['auto'] / best:9.2f}"
        )
    con.close()


if __name__ == "__main__":
    main()
