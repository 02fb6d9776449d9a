"""Measure the cost model's constants (planner/cost.py) on this machine.

Times, on the 100k corpus in process: exact scoring + top-k over m vectors (m from 100 to
100k), an HNSW search at several ef, and HNSW with hnswlib's per-node filter callback at
several selectivities; fits the linear models and prints the constants to paste into
planner/cost.py, with the raw medians beside them.

    python bench/calibrate.py
"""

from __future__ import annotations

import time

import numpy as np

from bench.common import load_arrays, median_ms
from engine.distance import topk
from engine.hnsw import HnswIndex
from engine.knn import score
from engine.vector_store import VectorStore


def timed(fn, queries: np.ndarray, reps: int = 30) -> float:
    """Median microseconds of fn(q) over `reps` different queries (no cache-hot repeats)."""
    fn(queries[-1])
    samples = []
    for i in range(reps):
        q = queries[i % len(queries)]
        t0 = time.perf_counter()
        fn(q)
        samples.append(time.perf_counter() - t0)
    return median_ms(samples) * 1e3


def main() -> None:
    base, queries, _ = load_arrays(100_000, 50)
    store = VectorStore(None, base.shape[1])
    store.append(base)
    rng = np.random.default_rng(0)
    print("exact: m -> us")
    ms, us = [], []
    for m in (100, 1_000, 3_000, 10_000, 20_000, 40_000):
        slots = np.sort(rng.choice(len(base), m, replace=False)).astype(np.int64)

        def run(q, slots=slots) -> None:
            topk(score(store, slots, "cosine", q), slots, 10)

        t = timed(run, queries)
        ms.append(m)
        us.append(t)
        print(f"  {m:7d} {t:9.1f}")
    per, fixed = np.polyfit(ms, us, 1)
    print(f"EXACT_FIXED = {max(fixed, 1.0):.1f}\nEXACT_PER_VECTOR = {per:.4f}")

    ix = HnswIndex("cal", "cosine", base.shape[1], 16, 64, None)
    t0 = time.perf_counter()
    ix.build(store)
    print(f"(index built in {time.perf_counter() - t0:.1f} s)")
    g = ix.graph(store.segments[0])  # the store is one segment: one graph
    print("hnsw: ef -> us")
    efs, hus = [], []
    for ef in (10, 20, 40, 80, 160, 320, 640):
        t = timed(lambda q, ef=ef: ix.search(g, q, 10, ef), queries, reps=50)
        efs.append(ef)
        hus.append(t)
        print(f"  {ef:5d} {t:9.1f}")
    hper, hfixed = np.polyfit(efs, hus, 1)
    print(f"HNSW_FIXED = {max(hfixed, 1.0):.1f}\nHNSW_PER_EF = {hper:.3f}")

    print("hnsw with per-node filter callback: selectivity -> us (ef 50)")
    visits, extra = [], []
    for s in (0.01, 0.05, 0.1, 0.5):
        mask = rng.random(len(base)) < s

        def run(q, mask=mask) -> None:
            ix.search(g, q, 10, 50, keep=lambda x: bool(mask[x]))

        t = timed(run, queries, reps=20)
        visits.append(50 / s)
        extra.append(t - (hfixed + hper * 50))
        print(f"  {s:5.2f} {t:9.1f}")
    fper, ffixed = np.polyfit(visits, extra, 1)
    print(f"FILTER_FIXED = {max(ffixed, 1.0):.1f}\nFILTER_PER_VISIT = {fper:.3f}")


if __name__ == "__main__":
    main()
