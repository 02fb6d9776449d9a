"""Through the wire: one psycopg client, SELECT id ... ORDER BY embedding <=> %s LIMIT 10,
at hnsw.ef_search 10 .. 320, beside raw hnswlib in process on the same data (same run).

Starts a server subprocess on the benchmark data dir (built by bench/setup_db.py).

    python bench/wire_qps.py [--queries 1000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import hnswlib
import numpy as np
import psycopg

from bench.common import exact_topk, load_arrays, median_ms, recall, vec_text
from bench.setup_db import open_bench_db
from tests.conftest import start_server


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--db", default="/tmp/vecgres-bench")
    args = ap.parse_args()
    base, queries, meta = load_arrays(100_000, args.queries)
    open_bench_db(args.db, base, meta).close()
    truths = [exact_topk(base, q, None, 10) for q in queries]
    qtexts = [vec_text(q) for q in queries]

    srv = start_server(Path(args.db), timeout=120)  # the bench data dir, now served
    raw = hnswlib.Index(space="cosine", dim=base.shape[1])
    raw.init_index(max_elements=len(base), M=16, ef_construction=64, random_seed=100)
    raw.add_items(base, np.arange(len(base)), num_threads=2)
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            sql = "SELECT id FROM items ORDER BY embedding <=> %s LIMIT 10"
            for q in qtexts[:20]:
                c.execute(sql, (q,)).fetchall()
            print(
                f"{'ef':>5s} {'vecgres QPS':>12s} {'ms':>7s} {'recall':>7s}   "
                f"{'raw QPS':>9s} {'ms':>7s} {'recall':>7s}"
            )
            for ef in (10, 20, 40, 80, 160, 320):
                c.execute(f"SET hnsw.ef_search = {ef}")
                lat, rec = [], []
                t_all = time.perf_counter()
                for q, want in zip(qtexts, truths, strict=True):
                    t0 = time.perf_counter()
                    rows = c.execute(sql, (q,)).fetchall()
                    lat.append(time.perf_counter() - t0)
                    rec.append(recall([r[0] for r in rows], want))
                wall = time.perf_counter() - t_all
                raw.set_ef(ef)
                rlat, rrec = [], []
                for q, want in zip(queries, truths, strict=True):
                    t0 = time.perf_counter()
                    labels, _ = raw.knn_query(q.reshape(1, -1), k=10)
                    rlat.append(time.perf_counter() - t0)
                    rrec.append(recall(labels[0].tolist(), want))
                print(
                    f"{ef:5d} {len(qtexts) / wall:12.0f} {median_ms(lat):7.3f} {np.mean(rec):7.3f}"
                    f"   {1 / (median_ms(rlat) / 1e3):9.0f} {median_ms(rlat):7.3f} "
                    f"{np.mean(rrec):7.3f}"
                )
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
