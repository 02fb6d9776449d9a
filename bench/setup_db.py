"""Build (once) and open the 100k-corpus benchmark database with its HNSW index."""

from __future__ import annotations

import time
from pathlib import Path

import sqlfront
from bench.common import load_table


def open_bench_db(path: str, base, meta, index: bool = True):
    """An autocommit in-process connection to `path`, loading the corpus if missing."""
    con = sqlfront.connect(Path(path), autocommit=True)
    cur = con.cursor()
    try:
        cur.execute("SELECT count(*) FROM items")
        have = cur.fetchone()[0] == len(base)
    except Exception:  # noqa: BLE001 - no table yet
        have = False
    if not have:
        secs = load_table(lambda s, p: cur.execute(s, p), base, meta)
        print(f"loaded {len(base)} rows by INSERT in {secs:.1f} s")
    if index:
        cur.execute(
            "CREATE INDEX IF NOT EXISTS items_embedding_idx ON items USING hnsw "
            "(embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
        )
    return con


def main() -> None:
    from bench.common import load_arrays

    base, _, meta = load_arrays()
    t0 = time.perf_counter()
    open_bench_db("/tmp/vecgres-bench", base, meta).close()
    print(f"ready in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
