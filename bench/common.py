"""Shared bench helpers: the shared corpus, exact ground truth, a server subprocess, timing."""

from __future__ import annotations

import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "corpus100k"
sys.path.insert(0, str(ROOT))


def load_arrays(n: int = 100_000, nq: int = 1000):
    base = np.load(CORPUS / "base.f16.npy")[:n].astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries = np.load(CORPUS / "queries_public.f16.npy")[:nq].astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    meta = []
    with gzip.open(CORPUS / "base.jsonl.gz", "rt") as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            meta.append(json.loads(line))
    return base, queries, meta


def vec_text(v: np.ndarray) -> str:
    return "[" + ",".join(map(repr, v.tolist())) + "]"


def load_table(
    execute: Callable, base: np.ndarray, meta: list[dict], table: str = "items"
) -> float:
    """CREATE + INSERT the corpus through `execute(sql, params)`; returns seconds."""
    t0 = time.perf_counter()
    execute(f"DROP TABLE IF EXISTS {table}", None)
    execute(
        f"CREATE TABLE {table} (id int PRIMARY KEY, tenant_id int, category text, "
        "source text, length int, embedding vector(384))",
        None,
    )
    batch = 1000
    for s in range(0, len(base), batch):
        rows = range(s, min(len(base), s + batch))
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
        params: list[object] = []
        for i in rows:
            m = meta[i]
            params += [
                m["id"],
                m["tenant_id"],
                m["category"],
                m["source"],
                m["length"],
                vec_text(base[i]),
            ]
        execute(f"INSERT INTO {table} VALUES {values}", params)
    return time.perf_counter() - t0


def exact_topk(base: np.ndarray, q: np.ndarray, mask: np.ndarray | None, k: int) -> np.ndarray:
    ids = np.arange(len(base)) if mask is None else np.flatnonzero(mask)
    d = 1.0 - base[ids] @ q
    order = np.lexsort((ids, d))[:k]
    return ids[order]


def recall(got: list[int], want: np.ndarray) -> float:
    if len(want) == 0:
        return 1.0
    return len(set(got) & set(want.tolist())) / len(want)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3
