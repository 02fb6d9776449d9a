"""CREATE INDEX ... USING hnsw on the 100k corpus vs raw hnswlib's build, same run.

Both build m = 16, ef_construction = 64, cosine, with 2 threads; prints seconds and the ratio.

    python bench/hnsw_build.py
"""

from __future__ import annotations

import os
import statistics
import time

import hnswlib
import numpy as np

from bench.common import load_arrays
from bench.setup_db import open_bench_db


def main() -> None:
    base, _, meta = load_arrays()
    con = open_bench_db(
        os.environ.get("VG_BENCH_DB", "/tmp/vecgres-bench"), base, meta, index=False
    )
    cur = con.cursor()
    ours, raw = [], []
    for _ in range(2):
        cur.execute("DROP INDEX IF EXISTS bench_build_idx")
        t0 = time.perf_counter()
        cur.execute(
            "CREATE INDEX bench_build_idx ON items USING hnsw (embedding vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64)"
        )
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        idx = hnswlib.Index(space="cosine", dim=base.shape[1])
        idx.init_index(max_elements=len(base), M=16, ef_construction=64, random_seed=100)
        idx.add_items(base, np.arange(len(base)), num_threads=2)
        raw.append(time.perf_counter() - t0)
    cur.execute("DROP INDEX IF EXISTS bench_build_idx")
    con.close()
    o, r = statistics.median(ours), statistics.median(raw)
    print(f"CREATE INDEX (vecgres, SQL): {o:.2f} s   runs {[round(x, 2) for x in ours]}")
    print(f"raw hnswlib add_items, 2 threads: {r:.2f} s   runs {[round(x, 2) for x in raw]}")
    print(f"ratio vecgres / raw hnswlib: {o / r:.2f}")


if __name__ == "__main__":
    main()
