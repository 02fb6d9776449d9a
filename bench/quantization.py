"""Exact top-10 over quantized copies with rescoring vs numpy float32 brute force (same run).

On the 100k corpus, 200 public queries: for int8 and binary at oversampling 1, 2, 4, 8 it
prints recall@10 against exact ground truth, the median latency of the engine's scan
(quantized ranking + float32 rescoring), the median latency of numpy's float32 BLAS brute
force, the speed ratio, and the bytes of each copy against float32.

    python bench/quantization.py
"""

from __future__ import annotations

import time

import numpy as np

from bench.common import exact_topk, load_arrays, median_ms, recall
from engine.knn import quantized_topk
from engine.vector_store import VectorStore


def main() -> None:
    base, queries, _ = load_arrays(100_000, 200)
    store = VectorStore(None, base.shape[1])
    store.append(base)
    slots = np.arange(len(base), dtype=np.int64)
    truths = [exact_topk(base, q, None, 10) for q in queries]
    lat = []
    for q in queries:
        t0 = time.perf_counter()
        d = 1.0 - base @ q
        part = np.argpartition(d, 10)[:10]
        part[np.argsort(d[part])]
        lat.append(time.perf_counter() - t0)
    numpy_ms = median_ms(lat)
    print(f"numpy float32 brute force (BLAS): {numpy_ms:.3f} ms/query, {base.nbytes / 1e6:.0f} MB")
    print(f"{'mode':>7s} {'over':>5s} {'recall@10':>9s} {'ms':>8s} {'speed-up':>8s} {'MB':>6s}")
    for mode in ("int8", "binary"):
        nbytes = sum(seg.quantized(mode).nbytes() for seg in store.segments)
        for over in (1, 2, 4, 8):
            lat, rec = [], []
            for q, want in zip(queries, truths, strict=True):
                t0 = time.perf_counter()
                got, _, _ = quantized_topk(store, mode, slots, "cosine", q, 10, over)
                lat.append(time.perf_counter() - t0)
                rec.append(recall(got.tolist(), want))
            ms = median_ms(lat)
            print(
                f"{mode:>7s} {over:5d} {np.mean(rec):9.3f} {ms:8.3f} {numpy_ms / ms:8.2f} "
                f"{nbytes / 1e6:6.1f}"
            )


if __name__ == "__main__":
    main()
